//! The transient timescales of a scenario's request process under windowed
//! request sampling, and the sampling constants they are built from: pure
//! arithmetic over the validated scenario's settings, read both by the
//! windowed sampler ([`crate::model::windowed`], which re-exports them and
//! computes the same figures from the compiled world) and by the static
//! `[limits]` estimate ([`super::limits::windowed`]), which must not call
//! into the model.
//!
//! One *warm-up* covers the longest of: a request's lifetime (timeout times
//! attempts plus the retry backoffs, or the deadline), a breaker's window
//! and longest open period, an outlier ejection, a rate limiter's burst, a
//! hedge delay's quantile window filled and a hedge budget refilled (at the
//! entry rate), an interval outlier detector's interval and ejection, a
//! saga (its forward steps one after the other, then every compensation),
//! a probe state forgotten, and two autoscaler evaluations; at least
//! [`MIN_WARMUP`], at most [`MAX_WARMUP`]. The *step* holds about
//! [`STEP_REQUESTS`] entry requests, within [`MIN_STEP`] and [`MAX_STEP`].
//!
//! Invariant: [`of_scenario`] of a scenario equals
//! `crate::model::windowed::timescales` of the world compiled from it (both
//! fold the same policies, defences, workflows, probes and autoscalers
//! through [`timescales_of`] and [`Timescales::stretched`]).

use super::{ClientPolicy, Defence, HealthCheck, Probes, Scenario};
use crate::engine::Nanos;
use crate::engine::time::SECOND;
use crate::resilience::circuit_breaker::Trip;
use crate::resilience::hedge::HedgeDelay;

/// Shortest warm-up (and least settling time after a window's last change),
/// whatever the settings: queues fill and the first retries come back.
pub const MIN_WARMUP: Nanos = 5 * SECOND;
/// Longest warm-up, whatever the settings (a 10-minute timeout would
/// otherwise make every window last most of an hour).
pub const MAX_WARMUP: Nanos = 600 * SECOND;
/// Entry requests a settling step should hold; its length is clamped to
/// [`MIN_STEP`, `MAX_STEP`].
pub const STEP_REQUESTS: f64 = 1000.0;
/// Shortest settling step.
pub const MIN_STEP: Nanos = SECOND;
/// Longest settling step.
pub const MAX_STEP: Nanos = 5 * SECOND;
/// Steps in a row that must look stationary.
pub const SETTLE_STEPS: usize = 3;
/// A stationary sample stops once it holds this many entry requests, if
/// its precision target has not stopped it before (a configuration whose
/// sample sees no failure in them is taken as failure-free: its failed
/// share is below 3 / `SAMPLE_CAP` at 95 % confidence).
pub const SAMPLE_CAP: f64 = 500_000.0;
/// With autoscalers, a stationary sample lasts at least a stabilisation
/// window and this many evaluations past it, so a scale-down the sample's
/// load wants shows.
pub const SAMPLE_EVALUATIONS: u64 = 20;
/// Grid steps of a diurnal swing's level `c` over `[-1, 1]`: a
/// configuration's rate levels are `-1 + 2k / RESOLUTION` (`RESOLUTION +
/// 1` of them), and the finest stratum is two steps wide.
pub const RESOLUTION: u32 = 32;

/// The transient timescales of a model's request process, from its own
/// settings (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timescales {
    /// Warm-up before a window's first change and before a stationary
    /// sample (twice), and the least time a window runs after its last
    /// change.
    pub warmup: Nanos,
    /// The step at which a window checks whether it has settled.
    pub step: Nanos,
    /// A stationary sample's batch.
    pub batch: Nanos,
}

impl Timescales {
    /// These timescales with the warm-up (and so the batch) covering
    /// `need` ns, at most [`MAX_WARMUP`].
    pub fn stretched(self, need: Nanos) -> Self {
        let warmup = self.warmup.max(need.min(MAX_WARMUP));
        Self {
            warmup,
            step: self.step,
            batch: warmup.max(self.step),
        }
    }
}

/// `secs` in ns, at most [`MAX_WARMUP`].
fn nanos(secs: f64) -> Nanos {
    (secs.max(0.0) * 1e9).min(MAX_WARMUP as f64) as Nanos
}

/// The timescales from the client policies of every edge, the services'
/// defences and the workloads' total rate (before workflows, probes and
/// autoscalers stretch the warm-up).
pub fn timescales_of<'a>(
    policies: impl Iterator<Item = &'a ClientPolicy>,
    defences: impl Iterator<Item = &'a Defence>,
    rate: f64,
) -> Timescales {
    let rate = rate.max(1e-9);
    let mut warmup = MIN_WARMUP;
    for p in policies {
        let lifetime = attempts_span(p).map(|l| nanos(l / 1e9));
        if let Some(t) = match (lifetime, p.deadline) {
            (Some(l), Some(d)) => Some(l.min(d)),
            (l, d) => l.or(d),
        } {
            warmup = warmup.max(t);
        }
        if let Some(b) = &p.breaker {
            let window = match b.trip {
                Trip::TimeWindow { size } => size,
                Trip::CountWindow { size } => nanos(f64::from(size) / rate),
                Trip::Consecutive { failure_threshold } => nanos(f64::from(failure_threshold) / rate),
            };
            let open = b.open_backoff.map_or(b.open_for, |o| o.max.max(b.open_for));
            warmup = warmup.max(window.saturating_add(open));
        }
        warmup = warmup.max(nanos(hedge_warmup(p, rate)));
    }
    for d in defences {
        if let Some(o) = &d.outlier {
            warmup = warmup.max(o.max_eject.map_or(o.eject_for, |m| m.max(o.eject_for)));
        }
        if let Some(rl) = &d.rate_limit {
            warmup = warmup.max(nanos(rl.burst / rl.rate));
        }
        warmup = warmup.max(nanos(detector_warmup(d)));
    }
    let warmup = warmup.min(MAX_WARMUP);
    let step = nanos(STEP_REQUESTS / rate).clamp(MIN_STEP, MAX_STEP);
    Timescales {
        warmup,
        step,
        batch: warmup.max(step),
    }
}

/// The warm-up (seconds) edge policy `p` needs at entry rate `rate` (> 0):
/// a quantile delay's window filled, and the hedge budget refilled from
/// empty.
fn hedge_warmup(p: &ClientPolicy, rate: f64) -> f64 {
    let Some(h) = &p.objects.hedge else { return 0.0 };
    let c = h.config();
    let fill = match c.delay {
        HedgeDelay::Quantile { window, .. } => f64::from(window) / rate,
        HedgeDelay::Fixed(_) => 0.0,
    };
    let refill = c.budget.as_ref().map_or(0.0, |b| b.burst / (b.ratio * rate));
    fill.max(refill)
}

/// The warm-up (seconds) defence `d` needs: an interval outlier detector's
/// interval and the ejection it may order.
fn detector_warmup(d: &Defence) -> f64 {
    d.outlier
        .as_ref()
        .filter(|o| o.detectors.any())
        .map_or(0.0, |o| (o.detectors.interval + o.eject_for) as f64 / 1e9)
}

/// A call's timeout times its attempts plus the backoffs between them
/// (ns), when it has a timeout: each delay at most three times the last
/// (decorrelated jitter's bound), capped by `max_delay`.
fn attempts_span(p: &ClientPolicy) -> Option<f64> {
    let attempts = p.retry.as_ref().map_or(1, |r| r.max_attempts.max(1));
    let backoffs: f64 = p.retry.as_ref().map_or(0.0, |r| {
        let cap = r.max_delay.map_or(f64::INFINITY, |m| m as f64);
        (0..attempts.saturating_sub(1))
            .map(|k| (r.base as f64 * 3f64.powi(k.min(60) as i32)).min(cap))
            .sum()
    });
    p.timeout.map(|t| t as f64 * f64::from(attempts) + backoffs)
}

/// The longest a call under policy `p` lives (ns): its timeout times its
/// attempts plus the backoffs between them, or its deadline, whichever is
/// shorter; 0 when neither bounds it (as for a plain request, the minimum
/// warm-up stands in).
fn call_lifetime(p: &ClientPolicy) -> f64 {
    match (attempts_span(p), p.deadline) {
        (Some(l), Some(d)) => l.min(d as f64),
        (Some(l), None) => l,
        (None, Some(d)) => d as f64,
        (None, None) => 0.0,
    }
}

/// The longest saga (ns, at most [`MAX_WARMUP`]) of a workflow whose
/// steps' call policies are `steps` (each with its compensation's, if any)
/// and whose deadline is `deadline`: forward steps one after the other
/// (bounded by the deadline, which also bounds each forward call), then
/// every compensation.
pub fn saga_lifetime<'a>(
    deadline: Option<Nanos>,
    steps: impl Iterator<Item = (&'a ClientPolicy, Option<&'a ClientPolicy>)>,
) -> Nanos {
    let (mut forward, mut back) = (0.0, 0.0);
    for (step, compensation) in steps {
        forward += call_lifetime(step);
        back += compensation.map_or(0.0, call_lifetime);
    }
    let forward = deadline.map_or(forward, |d| d as f64);
    (forward + back).clamp(0.0, MAX_WARMUP as f64) as Nanos
}

/// The warm-up (seconds) a service's probes need for its probe state to
/// forget where it started: a readiness verdict turned (`max(healthy,
/// unhealthy)` checks and a probe's timeout), and a liveness restart
/// ordered, served (three times the `restart` mean), waited out
/// (`initial_delay`) and readmitted (`healthy` checks).
pub fn probe_warmup(hc: &HealthCheck, p: &Probes) -> f64 {
    let secs = |n: Nanos| n as f64 / 1e9;
    let ready_timeout = p.readiness.map_or(0, |r| r.timeout);
    let mut w: f64 = 0.0;
    if p.readiness.is_some() {
        w = secs(hc.interval) * f64::from(hc.healthy.max(hc.unhealthy)) + secs(ready_timeout);
    }
    if let Some(l) = &p.liveness {
        let order = secs(l.interval) * f64::from(l.failures) + secs(l.probe.timeout);
        let readmit = secs(hc.interval) * f64::from(hc.healthy) + secs(ready_timeout);
        w = w.max(order + 3.0 * l.restart.mean_secs() + secs(l.initial_delay) + readmit);
    }
    w
}

/// What autoscalers whose longest evaluation interval is `interval` (0
/// without any) need of the warm-up: two intervals, so that each evaluation
/// after a window's start measures a whole interval of simulated requests.
pub fn autoscale_warmup(interval: Nanos) -> Nanos {
    interval.saturating_mul(2)
}

/// The timescales of a validated scenario from its edges' policies, its
/// defences and its workloads' rate alone: [`of_scenario`] before
/// workflows, probes and autoscalers stretch the warm-up.
pub fn base_of_scenario(sc: &Scenario) -> Timescales {
    let rate: f64 = sc.workloads.iter().map(|w| w.rate).sum();
    timescales_of(
        sc.workloads
            .iter()
            .map(|w| &w.policy)
            .chain(sc.services.iter().flat_map(|s| s.calls.iter().map(|c| &c.policy))),
        sc.services.iter().map(|s| &s.defence),
        rate,
    )
}

/// The timescales of a validated scenario (see the module doc).
pub fn of_scenario(sc: &Scenario) -> Timescales {
    let saga = sc
        .workflows
        .iter()
        .map(|wf| {
            saga_lifetime(
                wf.deadline,
                wf.steps
                    .iter()
                    .map(|s| (&s.policy, s.compensation.as_ref().map(|c| &c.policy))),
            )
        })
        .max()
        .unwrap_or(0);
    let probes = sc
        .services
        .iter()
        .map(|s| probe_warmup(&s.health_check, &s.defence.probes))
        .fold(0.0, f64::max);
    let interval = sc
        .services
        .iter()
        .filter_map(|s| s.defence.autoscale.as_ref().map(|a| a.interval))
        .max()
        .unwrap_or(0);
    base_of_scenario(sc)
        .stretched(saga)
        .stretched(nanos(probes))
        .stretched(autoscale_warmup(interval))
}
