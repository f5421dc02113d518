//! Which request sampling a scenario runs (`request_sampling`, issue 18):
//! what `auto` resolves to, and why windowed sampling refuses a model it
//! cannot estimate honestly. Validation, `check`, the run command and the
//! compiled world all ask here, so the answer is one. How windowed sampling
//! runs is [`crate::model::windowed`]'s.
//!
//! Invariant: [`resolve`] picks windowed only for a model [`refusal`]
//! accepts.

use super::timescales::{MAX_WARMUP, base_of_scenario};
use super::{RequestSampling, Scenario, Service, Workload};
use crate::engine::Nanos;
use crate::engine::time::SECOND;

/// Shortest horizon windowed sampling runs.
pub const MIN_HORIZON: Nanos = 720 * SECOND;
/// `auto` turns to windowed when one full trial would simulate more entry
/// requests than this (about a minute of one core's simulation for a
/// three-tier service).
pub const REQUEST_BUDGET: f64 = 5e7;
/// The swing's period must be at least this many warm-ups: the request
/// process then follows the rate (quasi-stationary), and a stationary
/// sample at the rate of the moment stands for it.
pub const MIN_PERIOD_WARMUPS: f64 = 100.0;

/// Entry requests one full trial would simulate (mean rate times horizon).
pub fn full_requests(sc: &Scenario) -> f64 {
    sc.workloads.iter().map(|w| w.rate).sum::<f64>() * sc.horizon as f64 / 1e9
}
/// Why windowed sampling cannot run this model, or `None` when it can.
pub fn refusal(sc: &Scenario) -> Option<String> {
    refusal_of(&sc.workloads, sc.horizon)
        .or_else(|| policy_refusal(sc))
        .or_else(|| swing_refusal(sc))
}

/// A diurnal swing runs windowed on its own terms ([`swing_shape_refusal`]),
/// and beside none of the parts whose windowed method was built and tested
/// without a swing.
fn swing_refusal(sc: &Scenario) -> Option<String> {
    let swung = sc.workloads.iter().find(|w| w.diurnal.is_some())?;
    let with = |what: String| {
        Some(format!(
            "windowed request sampling does not combine a diurnal swing (workload \"{}\") with {what} yet",
            swung.name
        ))
    };
    if !sc.faults.is_empty() {
        return with("injected faults ([[fault]])".into());
    }
    if let Some(s) = sc.services.iter().find(|s| s.defence.autoscale.is_some()) {
        return with(format!("autoscaling (service \"{}\")", s.name));
    }
    if let Some(s) = probed(sc) {
        return with(format!("readiness or liveness probes (service \"{}\")", s.name));
    }
    swing_shape_refusal(sc)
}

/// Why windowed sampling cannot run `sc`'s swing on its own terms: one
/// phase, no bursts or workflows, a period long against the warm-up.
fn swing_shape_refusal(sc: &Scenario) -> Option<String> {
    let mut swung = sc.workloads.iter().filter(|wl| wl.diurnal.is_some());
    let first = swung.next()?;
    let d0 = first.diurnal.expect("filtered on a swing");
    if let Some(other) = swung.find(|wl| {
        let d = wl.diurnal.expect("filtered on a swing");
        d.period != d0.period || d.peak % d.period != d0.peak % d0.period
    }) {
        return Some(format!(
            "windowed request sampling needs every diurnal swing on one phase (the same period and peak); workloads \"{}\" and \"{}\" differ",
            first.name, other.name
        ));
    }
    if let Some(b) = sc.workloads.iter().find(|wl| !wl.bursts.is_empty()) {
        return Some(format!(
            "windowed request sampling does not combine a diurnal swing (workload \"{}\") with bursts (workload \"{}\") yet",
            first.name, b.name
        ));
    }
    if !sc.workflows.is_empty() {
        return Some(format!(
            "windowed request sampling does not combine a diurnal swing (workload \"{}\") with workflows yet",
            first.name
        ));
    }
    let ts = base_of_scenario(sc);
    let least = MIN_PERIOD_WARMUPS * ts.warmup as f64;
    if (d0.period as f64) < least {
        return Some(format!(
            "windowed request sampling needs a diurnal period of at least {MIN_PERIOD_WARMUPS} warm-ups ({} s here), so that requests follow the rate; workload \"{}\" swings every {} s",
            least / 1e9,
            first.name,
            d0.period as f64 / 1e9
        ));
    }
    None
}

/// The first service with a readiness or liveness probe.
fn probed(sc: &Scenario) -> Option<&Service> {
    sc.services.iter().find(|s| {
        let p = &s.defence.probes;
        p.readiness.is_some() || p.liveness.is_some()
    })
}

/// [`refusal`] from the workloads and the horizon.
fn refusal_of(workloads: &[Workload], horizon: Nanos) -> Option<String> {
    if workloads.is_empty() {
        return Some("windowed request sampling needs a workload (requests to sample)".into());
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
    let probed = probed(sc);
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
        // The fault schedule runs in the operations' trial, which takes a
        // window's availability and operations back from the autoscalers'
        // hand-off (`Master::follow`) but not the faults' state.
        if !sc.faults.is_empty() {
            return not_yet(&format!(
                "injected faults ([[fault]]) together with autoscaling (service \"{}\")",
                s.name
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

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"horizon = "1h"
[[workload]]
name = "users"
to = "api"
rate = 10
[[service]]
name = "api"
topology = "active-active"
replicas = 2
concurrency = 4
service_time = { mean = "10ms" }
[[fault]]
at = "10m"
duration = "5m"
kind = "hang"
target = "api[0]"
"#;

    fn refusal_of(text: &str) -> Option<String> {
        let sc = crate::scenario::parse("t.toml", "t", text, &[]).expect("a valid scenario");
        refusal(&sc)
    }

    /// Faults run windowed, but not beside probes (a liveness restart
    /// cures a hang from the request side) or autoscaling: each refusal
    /// names the fault, what it is combined with and the service.
    #[test]
    fn faults_are_refused_only_with_probes_or_autoscaling() {
        assert_eq!(refusal_of(TEXT), None);
        let probes = TEXT.replace(
            "[[fault]]",
            "liveness = { interval = \"10s\", failures = 3, timeout = \"1s\", restart = { dist = \"fixed\", mean = \"5s\" } }\n[[fault]]",
        );
        let why = refusal_of(&probes).expect("refused");
        assert!(
            why.contains("injected faults") && why.contains("probes") && why.contains("\"api\""),
            "{why}"
        );
        let scaled = TEXT.replace(
            "[[fault]]",
            "[service.autoscale]\ntarget = 0.5\ninterval = \"10s\"\nmin = 1\nmax = 3\n[[fault]]",
        );
        let why = refusal_of(&scaled).expect("refused");
        assert!(why.contains("injected faults") && why.contains("autoscaling"), "{why}");
        let bare = TEXT
            .split("[[fault]]")
            .next()
            .unwrap()
            .replace("[service.autoscale]", "");
        let scaled_bare = format!("{bare}[service.autoscale]\ntarget = 0.5\ninterval = \"10s\"\nmin = 1\nmax = 3\n");
        assert_eq!(
            refusal_of(&scaled_bare),
            None,
            "without faults this refusal says nothing"
        );
    }

    /// Autoscaling runs windowed beside deploys (of another service) and
    /// maintenance windows (on the autoscaled service itself): the
    /// operations' trial follows the autoscalers' hand-off. Beside probes
    /// it stays refused, naming both services.
    #[test]
    fn autoscaling_runs_beside_operations_but_not_probes() {
        let bare = TEXT.split("[[fault]]").next().unwrap();
        let scaled = format!(
            "{bare}[service.autoscale]\ntarget = 0.5\ninterval = \"10s\"\nmin = 1\nmax = 3\n[[service.call]]\nto = \"db\"\n\
             [[service]]\nname = \"db\"\ntopology = \"active-active\"\nreplicas = 2\nservice_time = {{ mean = \"5ms\" }}\n"
        );
        assert_eq!(refusal_of(&scaled), None);
        let operated = format!(
            "{scaled}[[deploy]]\nservice = \"db\"\nevery = \"30m\"\nrestart = \"1m\"\n\
             [[maintenance]]\nname = \"patching\"\ntarget = \"api[0]\"\nevery = \"1h\"\nat = \"10m\"\nduration = \"5m\"\n"
        );
        assert_eq!(
            refusal_of(&operated),
            None,
            "deploys and maintenance beside autoscaling"
        );
        let probed = operated.replace(
            "[[service]]\nname = \"db\"",
            "[[service]]\nname = \"db\"\nliveness = { interval = \"10s\", failures = 3, timeout = \"1s\", restart = { dist = \"fixed\", mean = \"5s\" } }",
        );
        let why = refusal_of(&probed).expect("refused");
        assert!(
            why.contains("probes") && why.contains("\"db\"") && why.contains("autoscaling") && why.contains("\"api\""),
            "{why}"
        );
    }
}
