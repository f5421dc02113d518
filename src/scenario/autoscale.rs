//! A service's autoscaler (`[service.autoscale]`, request level): checked
//! here, run by `model::traffic::autoscale`.
//!
//! Invariants of what `autoscale` returns: `1 <= min_healthy <= min <=
//! replicas <= max`, `target > 0` (at most 1 for utilisation, which then
//! needs `concurrency`), `interval > 0`, `0 <= tolerance < 1`, and the
//! service is active-active and serves requests.

use serde_json::{Value, json};
use toml::Spanned;

use super::checker::Checker;
use super::raw::{RawScenario, RawService};
use super::{Deploy, Service, Topology};
use crate::distribution::Dist;
use crate::engine::Nanos;
use crate::engine::time::SECOND;

/// What the autoscaler measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// The busy slots of the serving replicas over the last interval
    /// (time-averaged, as a CPU metric is), over the slots they offer.
    Utilisation,
    /// Requests waiting in the serving replicas' queues at the evaluation,
    /// per replica (as a queue-length external metric is).
    Queue,
}

/// The Kubernetes horizontal pod autoscaler's rule, per replica group.
#[derive(Debug, Clone)]
pub struct Autoscale {
    /// What it measures.
    pub metric: Metric,
    /// The per-replica value it aims for.
    pub target: f64,
    /// Time between evaluations.
    pub interval: Nanos,
    /// Scale-down stabilisation window: a scale-down goes to the largest
    /// recommendation of this window.
    pub stabilisation: Nanos,
    /// Time from the decision to a new replica serving.
    pub provision: Dist,
    /// Fewest replicas.
    pub min: u32,
    /// Most replicas (slots are allocated up to it).
    pub max: u32,
    /// No change while `|metric / target - 1| <= tolerance`.
    pub tolerance: f64,
    /// Most replicas added by one evaluation (`None`: no limit).
    pub step_up: Option<u32>,
    /// Most replicas removed by one evaluation (`None`: no limit).
    pub step_down: Option<u32>,
}

impl Autoscale {
    /// The replicas the rule wants for `ready` serving replicas whose
    /// per-replica metric is `value`, when `current` are wanted now
    /// (serving and provisioning): unchanged within the tolerance, else
    /// `ceil(ready * value / target)`, clamped to `[min, max]`.
    pub fn desired(&self, ready: u32, value: f64, current: u32) -> u32 {
        let ratio = value / self.target;
        if ready == 0 || (ratio - 1.0).abs() <= self.tolerance {
            return current.clamp(self.min, self.max);
        }
        // A hair under an integer is that integer: a sum of busy times in
        // nanoseconds is not exact in floating point.
        let want = (f64::from(ready) * ratio - 1e-9).ceil().max(0.0);
        (want.min(f64::from(self.max)) as u32).clamp(self.min, self.max)
    }
}

/// `[service.autoscale]` of service `s` (prefix `p`); `None` when absent
/// or wrong (reported).
pub(super) fn autoscale(
    c: &mut Checker<'_>,
    s: &RawService,
    p: &str,
    topology: Option<Topology>,
    sizes: (u32, u32, Option<u32>),
) -> Option<Autoscale> {
    let (replicas, min_healthy, concurrency) = sizes;
    let a = s.autoscale.as_ref()?;
    let key = format!("{p}.autoscale");
    let r = a.get_ref();
    let span = a.span();
    if topology.is_some_and(|t| t != Topology::ActiveActive) {
        c.err_help(
            &span,
            key.clone(),
            "applies only to topology = \"active-active\"",
            "an autoscaler adds replicas that share the load: set topology = \"active-active\"".into(),
        );
        return None;
    }
    if s.service_time.is_none() {
        c.err_help(
            &span,
            format!("{p}.service_time"),
            "an autoscaler scales on requests, but this service serves none",
            "add service_time = { mean = \"10ms\" } and a workload that reaches it, or drop autoscale".into(),
        );
        return None;
    }
    let metric = match &r.metric {
        Some(m) => c.word(
            m,
            &format!("{key}.metric"),
            &[("utilisation", Metric::Utilisation), ("queue", Metric::Queue)],
        )?,
        None => Metric::Utilisation,
    };
    let target = *r.target.get_ref();
    let limit = if metric == Metric::Utilisation { 1.0 } else { 1e9 };
    if !(target.is_finite() && target > 0.0 && target <= limit) {
        let range = if metric == Metric::Utilisation {
            "a utilisation target must be above 0 and at most 1"
        } else {
            "a queue target (waiting requests per replica) must be above 0"
        };
        c.err(
            &r.target.span(),
            format!("{key}.target"),
            format!("{range}, found {target}"),
        );
        return None;
    }
    if metric == Metric::Utilisation && concurrency.is_none() {
        c.err_help(
            &span,
            format!("{key}.metric"),
            "utilisation needs a concurrency limit: with unlimited slots a replica is never busy",
            "set concurrency = 8 on the service, or scale on metric = \"queue\"".into(),
        );
        return None;
    }
    let interval = r.interval.as_ref().map_or(15 * SECOND, |i| i.get_ref().0);
    if interval == 0 {
        c.err(&span, format!("{key}.interval"), "must be longer than zero");
        return None;
    }
    let stabilisation = r.stabilisation.as_ref().map_or(300 * SECOND, |i| i.get_ref().0);
    let provision = match &r.provision {
        Some(d) => super::fault::length(c, d, &format!("{key}.provision"))?,
        None => Dist::fixed(30 * SECOND).expect("a fixed 30 s is valid"),
    };
    let max = c.count(&r.max, &format!("{key}.max"), 1, 10_000)?;
    let min = match &r.min {
        Some(m) => c.count(m, &format!("{key}.min"), 1, 10_000)?,
        None => replicas.min(max),
    };
    if min > max {
        c.err_help(
            &r.max.span(),
            format!("{key}.max"),
            format!("max ({max}) is below min ({min})"),
            "raise max, or lower min".into(),
        );
        return None;
    }
    if replicas < min || replicas > max {
        c.err_help(
            &span,
            format!("{p}.replicas"),
            format!("the replicas it starts with ({replicas}) must lie between autoscale.min ({min}) and max ({max})"),
            "set replicas to the count the service starts with, within [min, max]".into(),
        );
        return None;
    }
    if min < min_healthy {
        c.err_help(
            &span,
            format!("{key}.min"),
            format!("min ({min}) is below min_healthy ({min_healthy}): scaling in would take the service down"),
            "raise autoscale.min to at least min_healthy".into(),
        );
        return None;
    }
    let tolerance = r.tolerance.as_ref().map_or(0.1, |t| *t.get_ref());
    if !(0.0..1.0).contains(&tolerance) {
        let span = r.tolerance.as_ref().map(Spanned::span).unwrap_or_default();
        c.err(
            &span,
            format!("{key}.tolerance"),
            format!("must be at least 0 and below 1, found {tolerance}"),
        );
        return None;
    }
    let step = |c: &mut Checker<'_>, v: Option<&Spanned<i64>>, name: &str| match v {
        Some(v) => c.count(v, &format!("{key}.{name}"), 1, 10_000).map(Some),
        None => Some(None),
    };
    let step_up = step(c, r.step_up.as_ref(), "step_up")?;
    let step_down = step(c, r.step_down.as_ref(), "step_down")?;
    Some(Autoscale {
        metric,
        target,
        interval,
        stabilisation,
        provision,
        min,
        max,
        tolerance,
        step_up,
        step_down,
    })
}

/// What an autoscaled service cannot be combined with yet: a `[[deploy]]`
/// rolls a fixed set of replicas.
pub(super) fn cross_check(c: &mut Checker<'_>, raw: &RawScenario, services: &[Service], deploys: &[Deploy]) {
    for (d, dep) in deploys.iter().enumerate() {
        let s = &services[dep.service];
        if s.defence.autoscale.is_some() {
            let span = raw
                .deploy
                .get(d)
                .map(|x| x.get_ref().service.span())
                .unwrap_or_default();
            c.err_help(
                &span,
                format!("deploy.{}", s.name),
                format!(
                    "service \"{}\" is autoscaled, and deploys of an autoscaled service are not modelled yet",
                    s.name
                ),
                "drop the [[deploy]] or the service's autoscale table".into(),
            );
        }
    }
}

/// Adds `service.autoscale` to the scenario schema.
pub(super) fn schema(s: &mut Value) {
    use super::schema_parts::{duration, int, length, table, words};
    s["properties"]["service"]["items"]["properties"]["autoscale"] = table(
        "An autoscaler (request level, active-active): Kubernetes' HPA rule per replica group.",
        &["target", "max"],
        json!({
            "metric": words("What it measures (default utilisation): busy share of the slots over the last interval, or requests waiting per replica.", &["utilisation", "queue"]),
            "target": { "type": "number", "exclusiveMinimum": 0, "description": "Per-replica value aimed for: a share of slots (utilisation, at most 1) or waiting requests (queue)." },
            "interval": duration("Time between evaluations (default 15s)."),
            "stabilisation": duration("Scale-down stabilisation window: scale down to the largest recommendation in it (default 5m)."),
            "provision": length("Time from the decision to a new replica serving (default 30s)."),
            "min": int("Fewest replicas (default: replicas).", 1, 10_000),
            "max": int("Most replicas.", 1, 10_000),
            "tolerance": { "type": "number", "minimum": 0, "exclusiveMaximum": 1, "description": "No change while |metric / target - 1| is at most this (default 0.1)." },
            "step_up": int("Most replicas added by one evaluation (default: no limit).", 1, 10_000),
            "step_down": int("Most replicas removed by one evaluation (default: no limit).", 1, 10_000),
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(min: u32, max: u32) -> Autoscale {
        Autoscale {
            metric: Metric::Utilisation,
            target: 0.5,
            interval: SECOND,
            stabilisation: 0,
            provision: Dist::fixed(SECOND).expect("valid"),
            min,
            max,
            tolerance: 0.1,
            step_up: None,
            step_down: None,
        }
    }

    /// The HPA formula by hand: 4 replicas at 0.8 against 0.5 want
    /// ceil(6.4) = 7; at 0.52 (ratio 1.04, within 10 %) they stay; at 0.1
    /// they want ceil(0.8) = 1, clamped to min 2; at 1.0 they want 8,
    /// clamped to max 6.
    #[test]
    fn the_hpa_formula_by_hand() {
        let r = rule(1, 10);
        assert_eq!(r.desired(4, 0.8, 4), 7);
        assert_eq!(r.desired(4, 0.52, 4), 4);
        assert_eq!(
            r.desired(4, 0.52, 6),
            6,
            "within the tolerance, the current count stays"
        );
        assert_eq!(r.desired(4, 0.1, 4), 1);
        assert_eq!(rule(2, 10).desired(4, 0.1, 4), 2);
        assert_eq!(rule(1, 6).desired(4, 1.0, 4), 6);
        // Exactly on an integer: 3 * 0.5 / 0.5 = 3 even with float noise.
        assert_eq!(r.desired(3, 0.5 * (1.0 + 1e-15) * 1.2, 3), 4);
        assert_eq!(r.desired(2, 0.75 + 1e-13, 2), 3);
    }
}
