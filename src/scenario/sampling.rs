//! Which request sampling a scenario runs (`request_sampling`, issue 18):
//! what `auto` resolves to, and why windowed sampling refuses a model it
//! cannot estimate honestly. Validation, `check`, the run command and the
//! compiled world all ask here, so the answer is one. How windowed sampling
//! runs is [`crate::model::windowed`]'s.
//!
//! Invariant: [`resolve`] picks windowed only for a model [`refusal`]
//! accepts.

use super::{RequestSampling, Scenario, Workload};
use crate::engine::Nanos;
use crate::engine::time::SECOND;
use crate::model::windowed::MAX_WARMUP;

/// Shortest horizon windowed sampling runs.
pub const MIN_HORIZON: Nanos = 720 * SECOND;
/// `auto` turns to windowed when one full trial would simulate more entry
/// requests than this (about a minute of one core's simulation for a
/// three-tier service).
pub const REQUEST_BUDGET: f64 = 5e7;

/// Entry requests one full trial would simulate (mean rate times horizon).
pub fn full_requests(sc: &Scenario) -> f64 {
    sc.workloads.iter().map(|w| w.rate).sum::<f64>() * sc.horizon as f64 / 1e9
}
/// Why windowed sampling cannot run this model, or `None` when it can.
pub fn refusal(sc: &Scenario) -> Option<String> {
    refusal_of(&sc.workloads, sc.faults.len(), sc.horizon).or_else(|| policy_refusal(sc))
}

/// [`refusal`] from the workloads, faults and horizon.
fn refusal_of(workloads: &[Workload], faults: usize, horizon: Nanos) -> Option<String> {
    if workloads.is_empty() {
        return Some("windowed request sampling needs a workload (requests to sample)".into());
    }
    if let Some(w) = workloads.iter().find(|w| w.diurnal.is_some()) {
        return Some(format!(
            "windowed request sampling needs workloads without a diurnal swing; workload \"{}\" has one",
            w.name
        ));
    }
    if faults > 0 {
        return Some("windowed request sampling does not model injected faults ([[fault]]) yet".into());
    }
    if horizon < MIN_HORIZON {
        return Some(format!(
            "windowed request sampling needs a horizon of at least {} s",
            MIN_HORIZON / SECOND
        ));
    }
    None
}

/// What `request_sampling` resolves to for `sc` (`requested` overrides the
/// file): `None` when it was left unset and full simulation runs (nothing is
/// said in `summary.json`, as before the option existed).
pub fn resolve(sc: &Scenario, requested: Option<RequestSampling>) -> Option<RequestSampling> {
    match requested {
        Some(RequestSampling::Full) => Some(RequestSampling::Full),
        Some(RequestSampling::Windowed) => Some(RequestSampling::Windowed),
        Some(RequestSampling::Auto) | None => {
            let windowed = full_requests(sc) > REQUEST_BUDGET && refusal(sc).is_none();
            if windowed {
                Some(RequestSampling::Windowed)
            } else {
                requested.map(|_| RequestSampling::Full)
            }
        }
    }
}

/// The request-side policies whose state or counters windowed sampling
/// does not carry from its windows and samples yet: refused rather than
/// estimated wrong (or reported as zero).
fn policy_refusal(sc: &Scenario) -> Option<String> {
    let not_yet = |what: &str| Some(format!("windowed request sampling does not model {what} yet"));
    let probed = sc.services.iter().find(|s| {
        let p = &s.defence.probes;
        p.readiness.is_some() || p.liveness.is_some()
    });
    // A liveness restart that cures a hang changes the availability from
    // the request side, which the master availability process cannot see.
    if !sc.faults.is_empty()
        && let Some(s) = probed
    {
        return not_yet(&format!(
            "readiness or liveness probes (service \"{}\") together with injected faults ([[fault]])",
            s.name
        ));
    }
    let scaled = sc.services.iter().find(|s| s.defence.autoscale.is_some());
    if let Some(s) = scaled
        && let Some(a) = &s.defence.autoscale
    {
        // The operations' trial that runs such a model's availability does
        // not take the autoscalers' hand-off.
        if !sc.deploys.is_empty() || !sc.maintenance.is_empty() {
            return not_yet(&format!(
                "autoscaling (service \"{}\") with deploys or maintenance windows",
                s.name
            ));
        }
        // A window's warm-up covers two evaluations, and warm-ups are
        // capped.
        if a.interval.saturating_mul(2) > MAX_WARMUP {
            return Some(format!(
                "windowed request sampling needs an autoscaler's interval of at most {} s (service \"{}\" evaluates every {} s)",
                MAX_WARMUP / 2 / SECOND,
                s.name,
                a.interval as f64 / 1e9
            ));
        }
        // Neither the probe states a window starts from nor the samples'
        // verdict signatures are kept per replica count.
        if let Some(p) = probed {
            return not_yet(&format!(
                "readiness or liveness probes (service \"{}\") together with autoscaling (service \"{}\")",
                p.name, s.name
            ));
        }
    }
    None
}
