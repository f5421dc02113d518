//! The autoscalers in the table and the summary schema: a line per
//! autoscaled service, present only when one is configured.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::stats::summary::Summary;

/// One line per autoscaled service, under the service table.
pub(super) fn lines(t: &mut String, summary: &Summary) {
    for (name, s) in &summary.services {
        let Some(a) = s.requests.as_ref().and_then(|q| q.autoscale.as_ref()) else {
            continue;
        };
        let _ = writeln!(
            t,
            "  autoscale {name}: replicas mean {:.2} · max {} · {:.0} replica-s/trial · {} up, {} down · at max {}/trial",
            a.replicas_mean,
            a.replicas_max,
            a.replica_seconds,
            a.scale_ups,
            a.scale_downs,
            crate::format::human_duration(a.time_at_max_s)
        );
    }
}

/// `services.NAME.requests.autoscale` in the summary schema.
pub(super) fn schema() -> Value {
    let count = |d: &str| json!({ "type": "integer", "minimum": 0, "description": d });
    let num = |d: &str| json!({ "type": "number", "minimum": 0, "description": d });
    json!({
        "type": "object",
        "description": "What its autoscalers did (with autoscale).",
        "additionalProperties": false,
        "required": ["scale_ups", "scale_downs", "replicas_mean", "replicas_max", "replica_seconds", "time_at_max_s"],
        "properties": {
            "scale_ups": count("Replicas added, over all trials."),
            "scale_downs": count("Replicas removed (drained, or cancelled while provisioning), over all trials."),
            "replicas_mean": num("Replicas that existed (provisioning, serving or draining), time-averaged over the horizon, mean over trials."),
            "replicas_max": count("Most replicas at once in any trial."),
            "replica_seconds": num("Replica-seconds per trial (mean): what the replicas cost."),
            "time_at_max_s": num("Time per trial (mean) its autoscaler wanted max replicas, summed over its groups (regions)."),
        },
    })
}

/// A workload's highest rate: the diurnal crest times the largest product
/// of burst factors in force at once (bursts overlap), an upper bound when
/// the crest falls outside the bursts.
fn peak_rate(w: &crate::model::world::WorkloadSpec) -> f64 {
    let crest = w.diurnal.map_or(1.0, |d| 1.0 + d.amplitude);
    let bursts = w
        .bursts
        .iter()
        .map(|b| {
            w.bursts
                .iter()
                .filter(|o| o.at <= b.at && b.at < o.at.saturating_add(o.duration))
                .map(|o| o.factor)
                .product::<f64>()
        })
        .fold(1.0, f64::max);
    w.rate * crest * bursts
}

/// `nines check`'s line for an autoscaled service: its rule, and the
/// replicas it needs at the peak rate (the workloads' highest rate, diurnal
/// swing and bursts included, scaled as `load` scales the mean):
/// `λ_peak × S / (c × target)` for utilisation, `λ_peak × S / c` (to keep
/// up at all) for queue; flagged when that is above `max`.
pub(super) fn check_line(
    sc: &crate::scenario::Scenario,
    world: &crate::model::World,
    s: usize,
    load: &[f64],
) -> Option<String> {
    use crate::scenario::autoscale::Metric;
    use crate::scenario::duration::Duration;
    let svc = &sc.services[s];
    let a = svc.defence.autoscale.as_ref()?;
    let st = svc.service_time.as_ref()?.mean_secs();
    // The peak over the mean, from the workloads: the service's share of
    // each workload's load keeps its proportions at the peak.
    let mean: f64 = world.workloads.iter().map(|w| w.rate).sum();
    let peak: f64 = world.workloads.iter().map(peak_rate).sum();
    let lambda = if mean > 0.0 { load[s] * peak / mean } else { 0.0 };
    let c = f64::from(svc.concurrency.unwrap_or(1));
    let (what, need) = match a.metric {
        Metric::Utilisation => (
            format!("utilisation {:.0} %", a.target * 100.0),
            lambda * st / (c * a.target),
        ),
        Metric::Queue => (format!("{} waiting per replica", a.target), lambda * st / c),
    };
    let groups = svc.regions.len().max(1);
    let mut line = format!(
        "autoscale: {what}, every {}, {} to {} replicas{}, provisioning {}, scale-down window {}; at peak {:.1} requests/s it needs {:.1} replicas{} ({} {})",
        Duration(a.interval),
        a.min,
        a.max,
        if groups > 1 { " per region" } else { "" },
        Duration((a.provision.mean_secs() * 1e9) as u64),
        Duration(a.stabilisation),
        lambda,
        need,
        if groups > 1 { " in one region alone" } else { "" },
        match a.metric {
            Metric::Utilisation => "λ·S / (c·target)",
            Metric::Queue => "λ·S / c, to keep up",
        },
        if need > f64::from(a.max) {
            "> max: it cannot catch up"
        } else {
            "<= max"
        },
    );
    if need > f64::from(a.max) {
        line.push_str(" (MAX TOO LOW)");
    }
    Some(line)
}
