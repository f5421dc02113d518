//! The request-side policies of issue 20 under windowed sampling: which of
//! them it runs, the counters and timescales they add, and the state a
//! window takes from its configuration's stationary sample.
//!
//! **Hedging and the retry budget by concurrency** run windowed. The
//! concurrency budget's state (retries in flight, active calls) lives only
//! in requests in flight, so a window's empty start is its state too. A
//! hedger's books outlive requests: the last `window` successful latencies
//! a quantile delay is read from, and the hedge budget's tokens. A window
//! starts with the books the stationary sample of its starting
//! configuration ended with (as it starts with the health checks'
//! verdicts), a sample's warm-up runs on until every quantile window is
//! full, and the warm-up covers the time a quantile window takes to fill
//! and the budget's burst to refill at the entry rate. After a window's
//! last change, the window settles no sooner than each quantile window has
//! been refilled at the edge's stationary success rate (the ring then
//! holds no latency of the transient). The counts they add to the summary
//! (hedges sent, won, refused and cancelled, retries refused by the
//! concurrency budget) are carried by windows and samples like every other
//! counter; the most retries in flight at once is a level, not a count: it
//! is the largest any window or sample the trial used saw.
//!
//! **Interval outlier detectors** (success rate, failure percentage) run
//! windowed. Their state is the attempts of the current interval and the
//! ejections they ordered: the warm-up covers one interval plus one
//! ejection, and a window's sweeps keep the full run's phase (multiples of
//! the interval from the horizon's start), so the delay from a change to
//! the next sweep is what it is in a full run. Their ejection counts are
//! carried. **Panic routing** without request probes reads only the
//! health checks' verdicts, which windows preset and wait for: it runs.
//!
//! **Slowdowns, cold starts and caches** (`service.load`) run windowed. A
//! slowdown curve is a function of the replica's load, which lives in the
//! requests in flight: stationary per configuration (an overload it holds
//! a replica in after a transient fails the settling rule, and the window
//! runs on, to the horizon if need be). A restart (a crash, a region lost)
//! is a configuration change, so it happens inside a window; the replicas'
//! warm-up state (reset and not yet given a job, or warming since when) is
//! handed from each window to the next (between them the configuration
//! holds: nothing resets, and nothing that takes traffic is warming), and
//! a window settles only once every replica that takes traffic is warm
//! ([`warm_for`] after its first job back). The stationary samples start
//! warm, as a configuration that has held is.
//!
//! **Refused**: nothing (see [`crate::scenario::sampling::refusal`]).
//! Readiness and liveness probes are `probes`'s, autoscaling
//! `super::autoscale`'s.

use crate::engine::Nanos;
use crate::model::counts::ClientCounts;
use crate::model::result::TrafficResult;
use crate::model::world::World;
use crate::resilience::hedge::HedgeDelay;
use crate::scenario::ClientPolicy;
use crate::scenario::load::Fill;

/// Whether edge policy `p` hedges or has a retry budget by concurrency.
fn carried(p: &ClientPolicy) -> bool {
    p.objects.hedge.is_some() || p.objects.concurrency.is_some()
}

/// Whether a service of `w` has a cold start or a cache: replicas' warm-up
/// state is then handed from window to window and waited for.
pub(super) fn restarts_matter(w: &World) -> bool {
    w.services
        .iter()
        .any(|s| s.serve.load.as_ref().is_some_and(|l| l.restarts_matter()))
}

/// How long a warm-up after a restart of a replica of service `s` lasts:
/// its cold start's duration, each cache's fill (a linear fill's length;
/// ten time constants of an exponential one, after which the hit rate is
/// within e^-10 of its warm value).
pub(super) fn warm_for(w: &World, s: usize) -> Nanos {
    let Some(l) = &w.services[s].serve.load else { return 0 };
    let cold = l.cold_start.as_ref().map_or(0, |c| c.duration);
    let fill = l
        .caches
        .iter()
        .flatten()
        .map(|c| match c.fill {
            Fill::Linear => c.warmup,
            Fill::Exponential => c.warmup.saturating_mul(10),
        })
        .max()
        .unwrap_or(0);
    cold.max(fill)
}

/// Whether `w` has a hedger whose books a window takes from its sample.
pub(super) fn hedges(w: &World) -> bool {
    w.edges.iter().any(|e| e.policy.objects.hedge.is_some())
}

/// Counters per edge that hedges or has a concurrency budget, appended to
/// the flattened counters: hedges sent, won, refused, cancelled, and
/// retries refused by the concurrency budget.
const PER_EDGE: usize = 5;

/// Whether service `s` of `w` runs an interval outlier detector.
pub(super) fn detects(w: &World, s: usize) -> bool {
    w.services[s]
        .serve
        .defence
        .outlier
        .as_ref()
        .is_some_and(|o| o.detectors.any())
}

/// Appends `t`'s hedging and concurrency-budget counters, then per service
/// with an interval detector its ejections by success rate and by failure
/// percentage (none when `w` has neither, so other models' counters are
/// as before).
pub(super) fn flatten(w: &World, t: &TrafficResult, v: &mut Vec<f64>) {
    for (e, spec) in w.edges.iter().enumerate() {
        if carried(&spec.policy) {
            let c = &t.edges[e].client;
            v.extend(
                [
                    c.hedges,
                    c.hedges_won,
                    c.hedges_refused,
                    c.hedges_cancelled,
                    c.retries_refused_concurrency,
                ]
                .map(|x| x as f64),
            );
        }
    }
    for (s, d) in t.defence.iter().enumerate() {
        if detects(w, s) {
            v.extend([d.ejected_success_rate as f64, d.ejected_failure_percentage as f64]);
        }
    }
}

/// The counters [`flatten`] appended from index `i` on, back into `t`.
pub(super) fn unflatten(w: &World, v: &[f64], mut i: usize, t: &mut TrafficResult) {
    let n = |x: f64| x.max(0.0).round() as u64;
    for (e, spec) in w.edges.iter().enumerate() {
        let p = &spec.policy.objects;
        if carried(&spec.policy) {
            let c = &mut t.edges[e].client;
            c.configured = if p.hedge.is_some() { ClientCounts::HEDGE } else { 0 }
                | if p.concurrency.is_some() {
                    ClientCounts::CONCURRENCY
                } else {
                    0
                };
            c.hedges = n(v[i]);
            c.hedges_won = n(v[i + 1]);
            c.hedges_refused = n(v[i + 2]);
            c.hedges_cancelled = n(v[i + 3]);
            c.retries_refused_concurrency = n(v[i + 4]);
            i += PER_EDGE;
        }
    }
    for (s, d) in t.defence.iter_mut().enumerate() {
        if detects(w, s) {
            d.ejected_success_rate = n(v[i]);
            d.ejected_failure_percentage = n(v[i + 1]);
            i += 2;
        }
    }
}

/// Per edge: the most retries in flight at once any simulated part of a
/// trial saw (a level: not estimated, the largest seen).
#[derive(Debug, Default)]
pub(super) struct Peaks(Vec<u64>);

impl Peaks {
    /// Takes in the peaks of a window's or sample's result.
    pub(super) fn see(&mut self, t: &TrafficResult) {
        if self.0.len() < t.edges.len() {
            self.0.resize(t.edges.len(), 0);
        }
        for (p, e) in self.0.iter_mut().zip(&t.edges) {
            *p = (*p).max(e.client.retry_concurrency_peak);
        }
    }

    /// Takes in `o`'s peaks.
    pub(super) fn merge(&mut self, o: &Peaks) {
        if self.0.len() < o.0.len() {
            self.0.resize(o.0.len(), 0);
        }
        for (p, q) in self.0.iter_mut().zip(&o.0) {
            *p = (*p).max(*q);
        }
    }

    /// Sets them into the trial's estimate.
    pub(super) fn finish(&self, w: &World, t: &mut TrafficResult) {
        for (e, spec) in w.edges.iter().enumerate() {
            if spec.policy.objects.concurrency.is_some() {
                t.edges[e].client.retry_concurrency_peak = self.0.get(e).copied().unwrap_or(0);
            }
        }
    }
}

/// The least time after a window's last change before it may settle, from
/// its configuration's stationary `rates` (the flattened counters per
/// second, whose per-edge block starts at `edges_at`, eleven per edge,
/// `succeeded` the last): each quantile hedger's window of latencies
/// refilled at the edge's success rate (at most [`super::CAP`]).
pub(super) fn refresh(w: &World, rates: &[f64], edges_at: usize) -> Nanos {
    let mut secs: f64 = 0.0;
    for (e, spec) in w.edges.iter().enumerate() {
        if let Some(h) = &spec.policy.objects.hedge
            && let HedgeDelay::Quantile { window, .. } = h.config().delay
        {
            let ok = rates.get(edges_at + 11 * e + 10).copied().unwrap_or(0.0);
            secs = secs.max(if ok > 0.0 {
                f64::from(window) / ok
            } else {
                f64::INFINITY
            });
        }
    }
    (secs.min(super::CAP as f64 / 1e9) * 1e9) as Nanos
}
