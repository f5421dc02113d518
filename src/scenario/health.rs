//! How a balancer and an orchestrator judge a replica (request level):
//! readiness probes sent as requests, liveness probes that restart, deep
//! checks that also call dependencies, the panic threshold, and Envoy's
//! success-rate and failure-percentage outlier detectors. Checked here
//! (from `health_check`, `liveness` and `outlier_detection`), applied by
//! `model::traffic::probe`.
//!
//! Invariants of what `probes` returns: a probe's `timeout` is longer
//! than zero and at most its `interval`; `deep` masks only the service's
//! own calls (bit `i` is its `i`-th `[[service.call]]`); a
//! `panic_threshold` is in `[0, 1]`.

use super::checker::Checker;
use super::raw::{RawLiveness, RawOutlier, RawService};
use crate::distribution::Dist;
use crate::engine::Nanos;
use crate::engine::time::SECOND;

const MILLISECOND: Nanos = SECOND / 1000;
use toml::Spanned;

/// A probe sent as a request: it waits in the replica's queue like any
/// request, holds a slot for `cost`, then (deep) calls the dependencies
/// in `deep` at once; it passes when all of that ends within `timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeSpec {
    /// A probe not answered within this fails.
    pub timeout: Nanos,
    /// The slot time the probe's own handler takes.
    pub cost: Nanos,
    /// Bit `i`: the probe also calls the service's `i`-th dependency.
    pub deep: u64,
}

/// The orchestrator's liveness probe (Kubernetes' defaults).
#[derive(Debug, Clone)]
pub struct Liveness {
    /// Time between probes of one replica.
    pub interval: Nanos,
    /// Failed probes in a row that restart it.
    pub failures: u32,
    /// The probe.
    pub probe: ProbeSpec,
    /// How long a restart keeps the replica out of service.
    pub restart: Dist,
    /// After a restart, no probe before this much time has passed.
    pub initial_delay: Nanos,
}

/// Request probes and panic routing for one service; all `None` by
/// default (the readiness check of `health_check` reads the replica's
/// state for free, and the balancer spreads over every replica only when
/// none is healthy).
#[derive(Debug, Clone, Default)]
pub struct Probes {
    /// The readiness probe as a request (`health_check.timeout`, `cost` or
    /// `deep` given).
    pub readiness: Option<ProbeSpec>,
    /// Below this share of healthy replicas the balancer ignores health
    /// (Envoy's panic threshold); 0 never does, so with no healthy replica
    /// nothing is routed.
    pub panic_threshold: Option<f64>,
    /// The liveness probe.
    pub liveness: Option<Liveness>,
}

/// Envoy's success-rate detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SuccessRate {
    /// Ejected below `mean - stdev_factor * stdev` of the group's rates.
    pub stdev_factor: f64,
    /// Replicas with enough volume needed for the detector to run.
    pub minimum_hosts: u32,
    /// Attempts in the interval for a replica to count.
    pub request_volume: u32,
}

/// Envoy's failure-percentage detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailurePercentage {
    /// Ejected at or above this share of failed attempts.
    pub threshold: f64,
    /// Replicas with enough volume needed for the detector to run.
    pub minimum_hosts: u32,
    /// Attempts in the interval for a replica to count.
    pub request_volume: u32,
}

/// The interval detectors of `outlier_detection`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Detectors {
    /// How often they judge the attempts of the last interval.
    pub interval: Nanos,
    /// By success rate.
    pub success_rate: Option<SuccessRate>,
    /// By failure percentage.
    pub failure_percentage: Option<FailurePercentage>,
}

impl Detectors {
    /// Whether any interval detector runs.
    pub fn any(&self) -> bool {
        self.success_rate.is_some() || self.failure_percentage.is_some()
    }
}

/// A probe's raw keys: `timeout`, `cost` and `deep`.
type ProbeKeys<'a> = (
    Option<&'a Spanned<super::duration::Duration>>,
    Option<&'a Spanned<super::duration::Duration>>,
    Option<&'a Spanned<Vec<Spanned<String>>>>,
);

/// A probe's keys: `timeout` (default 1s), `cost` (default 1ms), `deep`.
fn probe(
    c: &mut Checker<'_>,
    s: &RawService,
    key: &str,
    span: &std::ops::Range<usize>,
    interval: Nanos,
    keys: ProbeKeys<'_>,
) -> ProbeSpec {
    let (timeout, cost, deep) = keys;
    let timeout = timeout.map_or(SECOND, |t| t.get_ref().0);
    if timeout == 0 {
        c.err(span, format!("{key}.timeout"), "must be longer than zero");
    } else if interval > 0 && timeout > interval {
        c.err_help(
            span,
            format!("{key}.timeout"),
            format!(
                "a probe's timeout ({}) is longer than its interval ({})",
                crate::format::human_duration(timeout as f64 / 1e9),
                crate::format::human_duration(interval as f64 / 1e9)
            ),
            "shorten the timeout, or lengthen the interval: one probe per replica is in flight at a time".into(),
        );
    }
    let cost = cost.map_or(MILLISECOND, |t| t.get_ref().0);
    let mut mask = 0u64;
    if let Some(deep) = deep {
        let callees: Vec<&str> = s.call.iter().map(|call| call.get_ref().to.get_ref().as_str()).collect();
        for name in deep.get_ref() {
            let n = name.get_ref().as_str();
            match callees.iter().position(|&x| x == n) {
                Some(i) if i < 64 => mask |= 1 << i,
                Some(_) => c.err(
                    &name.span(),
                    format!("{key}.deep"),
                    "a deep check reaches only the first 64 calls",
                ),
                None if callees.is_empty() => c.err_help(
                    &name.span(),
                    format!("{key}.deep"),
                    format!("\"{n}\" is not a dependency: this service makes no calls"),
                    "a deep check calls the service's own dependencies: add a [[service.call]] or drop deep".into(),
                ),
                None => c.err_help(
                    &name.span(),
                    format!("{key}.deep"),
                    format!("\"{n}\" is not one of this service's calls"),
                    format!("name one of: {}", callees.join(", ")),
                ),
            }
        }
    }
    ProbeSpec {
        timeout,
        cost,
        deep: mask,
    }
}

/// The request probes and panic threshold of service `s` (prefix `p`),
/// given its readiness interval.
pub(super) fn probes(c: &mut Checker<'_>, s: &RawService, p: &str, interval: Nanos) -> Probes {
    let mut out = Probes::default();
    if let Some(hc) = &s.health_check {
        let h = hc.get_ref();
        if h.timeout.is_some() || h.cost.is_some() || h.deep.is_some() {
            out.readiness = Some(probe(
                c,
                s,
                &format!("{p}.health_check"),
                &hc.span(),
                interval,
                (h.timeout.as_ref(), h.cost.as_ref(), h.deep.as_ref()),
            ));
        }
        if let Some(t) = &h.panic_threshold {
            out.panic_threshold = c.probability(t, &format!("{p}.health_check.panic_threshold"));
        }
    }
    if let Some(l) = &s.liveness {
        out.liveness = liveness(c, s, p, l);
    }
    if (out.readiness.is_some() || out.liveness.is_some()) && s.service_time.is_none() {
        c.err_help(
            &s.name.span(),
            format!("{p}.service_time"),
            "probes are requests, but this service serves none",
            "add service_time = { mean = \"10ms\" } and a workload that reaches it, or drop the probe keys".into(),
        );
    }
    out
}

fn liveness(c: &mut Checker<'_>, s: &RawService, p: &str, l: &Spanned<RawLiveness>) -> Option<Liveness> {
    let key = format!("{p}.liveness");
    let r = l.get_ref();
    let interval = r.interval.as_ref().map_or(10 * SECOND, |i| i.get_ref().0);
    if interval == 0 {
        c.err(&l.span(), format!("{key}.interval"), "must be longer than zero");
        return None;
    }
    let failures = match &r.failures {
        Some(f) => c.count(f, &format!("{key}.failures"), 1, 1000)?,
        None => 3,
    };
    let probe = probe(
        c,
        s,
        &key,
        &l.span(),
        interval,
        (r.timeout.as_ref(), r.cost.as_ref(), r.deep.as_ref()),
    );
    let restart = match &r.restart {
        Some(d) => c.dist(d, &format!("{key}.restart"))?,
        None => Dist::fixed(10 * SECOND).expect("a fixed 10 s is valid"),
    };
    Some(Liveness {
        interval,
        failures,
        probe,
        restart,
        initial_delay: r.initial_delay.as_ref().map_or(0, |d| d.get_ref().0),
    })
}

/// The interval detectors of `outlier_detection` (Envoy's defaults).
pub(super) fn detectors(c: &mut Checker<'_>, od: &RawOutlier, key: &str) -> Option<Detectors> {
    let interval = od.interval.as_ref().map_or(10 * SECOND, |i| i.get_ref().0);
    if interval == 0 {
        let span = od.interval.as_ref().map(Spanned::span).unwrap_or_default();
        c.err(&span, format!("{key}.interval"), "must be longer than zero");
        return None;
    }
    let mut d = Detectors {
        interval,
        ..Detectors::default()
    };
    if let Some(sr) = &od.success_rate {
        let r = sr.get_ref();
        let k = format!("{key}.success_rate");
        let stdev_factor = r.stdev_factor.as_ref().map_or(1.9, |f| *f.get_ref());
        if !(stdev_factor.is_finite() && stdev_factor > 0.0) {
            c.err(
                &sr.span(),
                format!("{k}.stdev_factor"),
                format!("must be a positive number, found {stdev_factor}"),
            );
            return None;
        }
        d.success_rate = Some(SuccessRate {
            stdev_factor,
            minimum_hosts: count_or(c, r.minimum_hosts.as_ref(), &format!("{k}.minimum_hosts"), 5)?,
            request_volume: count_or(c, r.request_volume.as_ref(), &format!("{k}.request_volume"), 100)?,
        });
    }
    if let Some(fp) = &od.failure_percentage {
        let r = fp.get_ref();
        let k = format!("{key}.failure_percentage");
        let threshold = match &r.threshold {
            Some(t) => c.probability(t, &format!("{k}.threshold"))?,
            None => 0.85,
        };
        d.failure_percentage = Some(FailurePercentage {
            threshold,
            minimum_hosts: count_or(c, r.minimum_hosts.as_ref(), &format!("{k}.minimum_hosts"), 5)?,
            request_volume: count_or(c, r.request_volume.as_ref(), &format!("{k}.request_volume"), 50)?,
        });
    }
    Some(d)
}

fn count_or(c: &mut Checker<'_>, v: Option<&Spanned<i64>>, key: &str, default: u32) -> Option<u32> {
    match v {
        Some(v) => c.count(v, key, 1, 1_000_000),
        None => Some(default),
    }
}
