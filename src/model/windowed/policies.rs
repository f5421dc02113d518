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
//! **Refused** (see [`refusal`]): request probes and panic routing,
//! interval outlier detectors, slowdowns, cold starts and caches, and
//! autoscaling.

use crate::engine::Nanos;
use crate::model::counts::ClientCounts;
use crate::model::result::TrafficResult;
use crate::model::world::World;
use crate::resilience::hedge::HedgeDelay;
use crate::scenario::{ClientPolicy, Scenario};

/// Why windowed sampling cannot run `sc`'s request-side policies yet, or
/// `None` when it can.
pub(super) fn refusal(sc: &Scenario) -> Option<String> {
    let not_yet = |what: &str| Some(format!("windowed request sampling does not model {what} yet"));
    if let Some(s) = sc.services.iter().find(|s| {
        let p = &s.defence.probes;
        p.readiness.is_some()
            || p.liveness.is_some()
            || p.panic_threshold.is_some()
            || s.defence
                .outlier
                .as_ref()
                .is_some_and(|o| o.detectors.success_rate.is_some() || o.detectors.failure_percentage.is_some())
    }) {
        return not_yet(&format!(
            "request probes, panic routing or interval outlier detectors (service \"{}\")",
            s.name
        ));
    }
    if let Some(s) = sc.services.iter().find(|s| s.load.is_some()) {
        // A cold start or a filling cache is a transient longer than a
        // window, and a slowdown can hold a replica in an overload the
        // sampled configurations would miss.
        return not_yet(&format!("slowdowns, cold starts or caches (service \"{}\")", s.name));
    }
    if let Some(s) = sc.services.iter().find(|s| s.defence.autoscale.is_some()) {
        return not_yet(&format!("autoscaling (service \"{}\")", s.name));
    }
    None
}

/// Whether edge policy `p` hedges or has a retry budget by concurrency.
fn carried(p: &ClientPolicy) -> bool {
    p.objects.hedge.is_some() || p.objects.concurrency.is_some()
}

/// The warm-up (seconds) edge policy `p` needs at entry rate `rate` (> 0):
/// a quantile delay's window filled, and the hedge budget refilled from
/// empty.
pub(super) fn warmup(p: &ClientPolicy, rate: f64) -> f64 {
    let Some(h) = &p.objects.hedge else { return 0.0 };
    let c = h.config();
    let fill = match c.delay {
        HedgeDelay::Quantile { window, .. } => f64::from(window) / rate,
        HedgeDelay::Fixed(_) => 0.0,
    };
    let refill = c.budget.as_ref().map_or(0.0, |b| b.burst / (b.ratio * rate));
    fill.max(refill)
}

/// Whether `w` has a hedger whose books a window takes from its sample.
pub(super) fn hedges(w: &World) -> bool {
    w.edges.iter().any(|e| e.policy.objects.hedge.is_some())
}

/// Counters per edge that hedges or has a concurrency budget, appended to
/// the flattened counters: hedges sent, won, refused, cancelled, and
/// retries refused by the concurrency budget.
const PER_EDGE: usize = 5;

/// Appends `t`'s hedging and concurrency-budget counters (none when `w`
/// has neither, so other models' counters are as before).
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
