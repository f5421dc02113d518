//! What `nines check` says about a service's request probes (readiness as
//! a request, liveness, deep checks): what they cost a replica, how soon
//! they act, and the deep check's shared fate. Only a service with a
//! request probe gets lines, so every other scenario's `check` is as
//! before.
//!
//! The timings follow `model::traffic::probe`: a probe of a crashed
//! replica is refused and fails at once, an unanswered one (hung, or
//! stuck behind a long queue) fails at its timeout, and since a probe's
//! timeout is at most its interval the `n`-th failure in a row comes at
//! most `n` intervals (plus the timeout, when that decides) after the
//! replica went bad.

use crate::engine::time::from_secs;
use crate::scenario::duration::Duration;
use crate::scenario::{ProbeSpec, Scenario, Service};

/// The probe lines of service `s`: load, detection, deep-check warnings
/// (none without a request probe).
pub(super) fn service_lines(sc: &Scenario, s: usize) -> Vec<String> {
    let svc = &sc.services[s];
    let p = &svc.defence.probes;
    if p.readiness.is_none() && p.liveness.is_none() {
        return Vec::new();
    }
    let mut out = vec![load_line(svc)];
    out.push(detection_line(svc));
    if let Some(r) = &p.readiness
        && r.deep != 0
    {
        let then = match p.panic_threshold {
            None => "; with none left healthy the balancer spreads over all of them again (panic_threshold unset)"
                .to_string(),
            Some(t) if t <= 0.0 => {
                ", the whole service: with panic_threshold = 0 nothing is routed and every request is refused"
                    .to_string()
            }
            Some(t) => format!(
                ", but below {} % healthy the balancer routes to all of them (panic_threshold = {t})",
                t * 100.0
            ),
        };
        out.push(format!(
            "WARNING: the readiness probe is deep (calls {}): a failure of any one of them fails every replica's probe at once and ejects them all{then}",
            deep_names(sc, svc, r)
        ));
    }
    if let Some(l) = &p.liveness
        && l.probe.deep != 0
    {
        out.push(format!(
            "WARNING: the liveness probe is deep (calls {}): a failure of any one of them fails every replica's probe at once and restarts them all (no panic threshold holds back restarts)",
            deep_names(sc, svc, &l.probe)
        ));
    }
    out
}

/// Probes per second per replica, and their share of its capacity
/// (`concurrency / mean service time`, a probe counted as a request).
fn load_line(svc: &Service) -> String {
    let p = &svc.defence.probes;
    let mut rate = 0.0;
    let mut kinds = Vec::new();
    if p.readiness.is_some() {
        rate += 1e9 / svc.health_check.interval as f64;
        kinds.push(format!("readiness every {}", Duration(svc.health_check.interval)));
    }
    if let Some(l) = &p.liveness {
        rate += 1e9 / l.interval as f64;
        kinds.push(format!("liveness every {}", Duration(l.interval)));
    }
    let mut line = format!("probes {}/s per replica ({})", figures(rate), kinds.join(" + "));
    let mean = svc.service_time.as_ref().map_or(0.0, |d| d.mean_secs());
    match svc.concurrency {
        Some(c) if mean > 0.0 => {
            let capacity = f64::from(c) / mean;
            line.push_str(&format!(
                ", {} % of its capacity of {capacity:.1} requests/s (concurrency {c} / service time {})",
                figures(rate / capacity * 100.0),
                Duration(from_secs(mean))
            ));
        }
        _ => line.push_str(", concurrency unlimited: no capacity share"),
    }
    line
}

/// How soon readiness takes a bad replica out of routing and liveness
/// restarts one, at the latest.
fn detection_line(svc: &Service) -> String {
    let p = &svc.defence.probes;
    let hc = svc.health_check;
    let out = hc.interval.saturating_mul(u64::from(hc.unhealthy));
    let mut parts = Vec::new();
    match &p.readiness {
        Some(r) => parts.push(format!(
            "readiness ejects a crashed replica within {} x {} = {} (refused: fails at once), a hung or overloaded one within {} (+ the {} timeout)",
            hc.unhealthy,
            Duration(hc.interval),
            Duration(out),
            Duration(out.saturating_add(r.timeout)),
            Duration(r.timeout)
        )),
        None => parts.push(format!(
            "readiness (free check) ejects a crashed or hung replica within {} x {} = {}, never an overloaded one",
            hc.unhealthy,
            Duration(hc.interval),
            Duration(out)
        )),
    }
    if let Some(l) = &p.liveness {
        let restart = l
            .interval
            .saturating_mul(u64::from(l.failures))
            .saturating_add(l.probe.timeout);
        parts.push(format!(
            "liveness restarts an overloaded or hung replica within {} x {} + {} = {}, out for a restart of mean {} (a crashed one is the failure model's)",
            l.failures,
            Duration(l.interval),
            Duration(l.probe.timeout),
            Duration(restart),
            Duration(from_secs(l.restart.mean_secs()))
        ));
    }
    format!("detection: {}", parts.join("; "))
}

/// The names of the calls a deep probe makes, in file order.
fn deep_names(sc: &Scenario, svc: &Service, probe: &ProbeSpec) -> String {
    let names: Vec<&str> = svc
        .calls
        .iter()
        .enumerate()
        .take(64)
        .filter(|(i, _)| probe.deep & (1 << i) != 0)
        .map(|(_, c)| sc.services[c.to].name.as_str())
        .collect();
    names.join(", ")
}

/// `x` to two significant figures, at least one decimal (0.0031, 0.80, 2.0).
fn figures(x: f64) -> String {
    let decimals = if x > 0.0 && x.is_finite() {
        (1 - x.log10().floor() as i32).clamp(1, 9) as usize
    } else {
        1
    };
    format!("{x:.decimals$}")
}
