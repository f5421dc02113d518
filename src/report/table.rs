//! The terminal table: the headline figures, then where the downtime came
//! from, then how to look closer.

use std::fmt::Write as _;

use crate::format::human_duration;
use crate::scenario::{Scenario, duration::Duration};
use crate::stats::Summary;

pub use crate::format::pct;

/// The 95 % interval of nines: `[lo, hi]`, or `≥ lo` when the upper end
/// is availability 1 (unbounded: never an infinite end).
pub fn nines_interval(ci: [Option<f64>; 2]) -> String {
    let lo = ci[0].map_or("0".to_string(), |n| format!("{n:.2}"));
    match ci[1] {
        Some(hi) => format!("[{lo}, {hi:.2}]"),
        None => format!("≥ {lo}"),
    }
}

/// Renders the summary for a terminal.
pub fn render(summary: &Summary, scenario: &Scenario) -> String {
    let a = &summary.availability;
    let mut t = String::new();
    let _ = writeln!(t, "nines · {}", summary.scenario);
    let _ = writeln!(
        t,
        "  entry {} · {} trials × {} · seed {}",
        summary.entry,
        summary.trials,
        Duration(scenario.horizon),
        summary.seed
    );
    let _ = writeln!(t);
    let cannot_fail = a.analytic.is_some_and(|x| x >= 1.0);
    let on_requests = summary.objective == crate::scenario::Objective::Requests.name();
    if on_requests {
        // Judged on requests: their availability first, labelled so, then
        // the time-based figure beside it.
        let h = summary.headline();
        if h.nines_is_bound {
            let _ = writeln!(t, "  requests served   no failed request in any trial (the objective)");
            let _ = writeln!(
                t,
                "  nines             ≥ {:.2}   (95 % bound from {} trials; run more trials for a tighter bound)",
                h.nines, summary.trials
            );
        } else {
            let _ = writeln!(
                t,
                "  requests served   {:<13} 95 % CI [{}, {}]   (the objective: served / requests)",
                pct(h.mean),
                pct(h.ci95[0]),
                pct(h.ci95[1])
            );
            let _ = writeln!(
                t,
                "  nines             {:<13} 95 % CI {}",
                format!("{:.2}", h.nines),
                nines_interval(h.nines_ci95)
            );
        }
        let time = if cannot_fail {
            "100 % by construction: nothing the entry needs can fail".to_string()
        } else if a.nines_is_bound {
            format!("no downtime in any trial (nines ≥ {:.2})", a.nines)
        } else {
            format!(
                "{:<13} 95 % CI [{}, {}] · nines {:.2}",
                pct(a.mean),
                pct(a.ci95[0]),
                pct(a.ci95[1]),
                a.nines
            )
        };
        let _ = writeln!(t, "  time-based        {time}");
    } else if cannot_fail {
        let _ = writeln!(
            t,
            "  availability      100 % by construction: nothing the entry needs can fail"
        );
    } else if a.nines_is_bound {
        let _ = writeln!(t, "  availability      no downtime in any trial");
        let _ = writeln!(
            t,
            "  nines             ≥ {:.2}   (95 % bound from {} trials; run more trials for a tighter bound)",
            a.nines, summary.trials
        );
    } else {
        let _ = writeln!(
            t,
            "  availability      {:<13} 95 % CI [{}, {}]",
            pct(a.mean),
            pct(a.ci95[0]),
            pct(a.ci95[1])
        );
        let _ = writeln!(
            t,
            "  nines             {:<13} 95 % CI {}",
            format!("{:.2}", a.nines),
            nines_interval(a.nines_ci95)
        );
    }
    if let Some(sp) = &summary.splitting {
        let re = a
            .relative_error
            .map_or("unbounded".to_string(), |e| format!("±{:.1} %", e * 100.0));
        let _ = writeln!(
            t,
            "  estimator         splitting · {re} · {} replications of {} · {}",
            sp.replications,
            Duration(crate::engine::time::from_secs(sp.window_s)),
            sp.reason
        );
    }
    if let Some(rg) = &summary.regenerative {
        let re = a
            .relative_error
            .map_or("unbounded".to_string(), |e| format!("±{:.1} %", e * 100.0));
        let _ = writeln!(
            t,
            "  estimator         regenerative · {re} · {} cycles ({} with an outage) · {}",
            rg.cycles, rg.outage_cycles, rg.reason
        );
    }
    if let Some(x) = a.analytic.filter(|_| !cannot_fail) {
        let _ = writeln!(
            t,
            "  closed form       {:<13} (independent components, renewal theory)",
            pct(x)
        );
    }
    if let Some((text, _)) = slo_verdict(summary) {
        let _ = writeln!(t, "  {text}");
    }
    // Below a week, a trial's figures scaled to a year mean nothing: show
    // what a trial saw instead, and say why.
    let short = summary.horizon_s < crate::stats::summary::PER_YEAR_FROM_S;
    let (d, i, per) = if short {
        (&a.downtime_per_trial_s, &a.incidents_per_trial, "trial")
    } else {
        (&a.downtime_per_year_s, &a.incidents_per_year, "year")
    };
    let _ = writeln!(
        t,
        "  downtime / {per:<5}  mean {} · p50 {} · p90 {} · p99 {}",
        human_duration(d.mean),
        human_duration(d.p50),
        human_duration(d.p90),
        human_duration(d.p99)
    );
    let mttr = a.mean_time_to_recover_s.map_or("-".into(), human_duration);
    // An incident that loses a share of the traffic lasts longer than the
    // downtime it costs: say both when they differ.
    let lost = a
        .mean_traffic_lost_per_incident_s
        .map(human_duration)
        .filter(|l| *l != mttr)
        .map_or(String::new(), |l| format!(" · traffic lost / incident {l}"));
    let _ = writeln!(
        t,
        "  incidents / {per:<5} {:.3} [{:.3}, {:.3}] · mean time to recover {mttr}{lost} · longest {}",
        i.mean,
        i.ci95[0],
        i.ci95[1],
        human_duration(a.longest_outage_s)
    );
    if short {
        let _ = writeln!(
            t,
            "  (per trial of {}: per-year figures need a horizon of a week or more, and summary.json keeps them only for scripts)",
            Duration(scenario.horizon)
        );
    }
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "  {:<20} {:>14} {:>14} {:>16}",
        "service", "availability", "own rule", "downtime share"
    );
    for (name, s) in &summary.services {
        let _ = writeln!(
            t,
            "  {:<20} {:>14} {:>14} {:>16}",
            name,
            pct(s.availability.mean),
            pct(s.own_availability.mean),
            format!("{:.1} %", s.downtime_share * 100.0)
        );
    }
    if !summary.regions.is_empty() {
        let _ = writeln!(
            t,
            "  {:<20} {:>14} {:>14} {:>16}",
            "region", "availability", "", "downtime share"
        );
        for (name, r) in &summary.regions {
            let _ = writeln!(
                t,
                "  {:<20} {:>14} {:>14} {:>16}",
                name,
                pct(r.availability.mean),
                "",
                format!("{:.1} %", r.downtime_share * 100.0)
            );
        }
    }
    let _ = writeln!(
        t,
        "  (downtime share: part of the entry's downtime during which that part was down; shares overlap)"
    );
    super::operations::render(&mut t, summary);
    if let Some(r) = &summary.requests {
        requests(&mut t, summary, r);
    }
    if !summary.faults.is_empty() {
        faults(&mut t, summary);
    }
    super::workflows::render(&mut t, summary);
    super::slo::render(&mut t, summary);
    if let Some(w) = &summary.worst_trial {
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "  worst trial #{} lost {}; its row is in trials.csv (trial = {})",
            w.trial,
            human_duration(w.downtime_s),
            w.trial
        );
    }
    t
}

fn ratio_pct(x: f64) -> String {
    format!("{:.3} %", x * 100.0)
}

fn ms(s: f64) -> String {
    human_duration(s)
}

fn requests(t: &mut String, summary: &Summary, r: &crate::stats::summary::Requests) {
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "  requests          {} · success {} [{}, {}] · degraded {} · failed {}",
        r.total,
        ratio_pct(r.success_ratio.mean),
        ratio_pct(r.success_ratio.ci95[0]),
        ratio_pct(r.success_ratio.ci95[1]),
        ratio_pct(r.degraded_ratio),
        ratio_pct(r.failed_ratio.mean)
    );
    let line = |l: &crate::stats::estimate::Latency| {
        format!(
            "mean {} · p50 {} · p90 {} · p99 {} · p99.9 {}",
            ms(l.mean),
            ms(l.p50),
            ms(l.p90),
            ms(l.p99),
            ms(l.p999)
        )
    };
    let all = line(&r.latency_s);
    let _ = writeln!(
        t,
        "  latency           {all} (every request, failed and refused ones included)"
    );
    // Failed requests (refused at once, or timed out) pull the figures
    // above down or up; what a served user waited is apart. When it reads
    // the same (nothing failed) the line would repeat the one above.
    let served = line(&r.latency_served_s);
    if served != all {
        let _ = writeln!(t, "  served latency    {served} (served requests only)");
    }
    let _ = writeln!(t, "  attempts/request  {:.3}", r.attempts_per_request);
    let _ = writeln!(t);
    let defended = summary
        .services
        .values()
        .filter_map(|s| s.requests.as_ref())
        .any(|q| q.shed + q.shed_wait + q.rate_limited + q.ejections > 0);
    if defended {
        // `queue full` counts refusals at a full queue (or, for low
        // priority, a long one): shedding only when `shed` is configured,
        // so the column says what happened rather than why.
        let _ = writeln!(
            t,
            "  {:<20} {:>16} {:>10} {:>10} {:>12} {:>10}",
            "service", "request success", "queue full", "shed wait", "rate limited", "ejections"
        );
    } else {
        let _ = writeln!(t, "  {:<20} {:>16}", "service", "request success");
    }
    for (name, s) in &summary.services {
        if let Some(q) = &s.requests
            && q.received > 0
        {
            if defended {
                let _ = writeln!(
                    t,
                    "  {:<20} {:>16} {:>10} {:>10} {:>12} {:>10}",
                    name,
                    ratio_pct(q.success_ratio.mean),
                    q.shed,
                    q.shed_wait,
                    q.rate_limited,
                    q.ejections
                );
            } else {
                let _ = writeln!(t, "  {:<20} {:>16}", name, ratio_pct(q.success_ratio.mean));
            }
        }
    }
    super::autoscale::lines(t, summary);
    super::observe::service_lines(t, summary);
    let _ = writeln!(t);
    // Saga step edges (`order.reserve.compensate->inventory`) run long.
    let w = summary
        .edges
        .keys()
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(0)
        .max(22);
    // Failed attempts by reason, so that a run whose calls all die at an
    // open breaker does not read as errors; `sent/call` counts attempts
    // that left the caller, which those rejected at its breaker or
    // bulkhead never do (so it falls below 1 when they reject).
    let _ = writeln!(
        t,
        "  {:<w$} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8} {:>9}",
        "edge",
        "calls",
        "sent/call",
        "retries",
        "timeouts",
        "errors",
        "refused",
        "brk rej",
        "bulkhd rej",
        "brk open",
        "success"
    );
    for (name, e) in &summary.edges {
        let _ = writeln!(
            t,
            "  {:<w$} {:>11} {:>9.3} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8} {:>9}",
            name,
            e.calls,
            e.attempts_per_call,
            e.retries,
            e.timeouts,
            e.server_errors,
            e.refused,
            e.breaker_rejected,
            e.bulkhead_rejected,
            format!("{:.1} %", e.breaker_open_fraction * 100.0),
            format!("{:.2} %", e.success_ratio * 100.0)
        );
        if let Some(b) = &e.bulkhead {
            let wait = if b.queued == 0 {
                "no call waited".to_string()
            } else {
                format!(
                    "{} let in after waiting, wait mean {} p50 {} p90 {} p99 {} max {}",
                    b.queued,
                    human_duration(b.mean_wait_s),
                    human_duration(b.wait_p50_s),
                    human_duration(b.wait_p90_s),
                    human_duration(b.wait_p99_s),
                    human_duration(b.wait_max_s)
                )
            };
            let _ = writeln!(
                t,
                "    bulkhead: {} accepted · {} rejected · peak {} running, {} waiting · {wait}",
                b.accepted, b.rejected, b.peak_in_use, b.peak_waiting,
            );
        }
        super::observe::edge_lines(t, e);
    }
    let _ = writeln!(
        t,
        "  (failed attempts by reason · errors: answered with an error · refused: refused, reset or unreachable\n   \
         · brk rej, bulkhd rej: rejected by the caller's breaker or bulkhead, never sent, so sent/call can fall below 1)"
    );
}

/// One line per fault: how often, what share of requests succeeded while
/// it lasted, how fast a defence reacted, whether the system came back,
/// then the services it hurt.
fn faults(t: &mut String, summary: &Summary) {
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "  {:<22} {:>10} {:>8} {:>12} {:>10} {:>10} {:>10} {:>10}",
        "fault", "kind", "per trial", "success in", "detected", "detect", "recovered", "recover"
    );
    let opt_s = |x: Option<f64>| x.map_or("-".to_string(), human_duration);
    for (name, f) in &summary.faults {
        let _ = writeln!(
            t,
            "  {:<22} {:>10} {:>8.2} {:>12} {:>10} {:>10} {:>10} {:>10}",
            name,
            f.kind,
            f.occurrences_per_trial,
            f.success_ratio_during
                .as_ref()
                .map_or("-".to_string(), |e| ratio_pct(e.mean)),
            f.detected
                .as_ref()
                .map_or("-".to_string(), |d| format!("{:.0} %", d.mean * 100.0)),
            opt_s(f.time_to_detect_s),
            f.recovered
                .as_ref()
                .map_or("-".to_string(), |d| format!("{:.0} %", d.mean * 100.0)),
            opt_s(f.time_to_recover_s),
        );
        let hit: Vec<String> = f
            .blast_radius
            .iter()
            .filter(|(_, x)| **x > 0.0)
            .map(|(s, x)| format!("{s} {:.0} %", x * 100.0))
            .collect();
        if !hit.is_empty() {
            let _ = writeln!(t, "    blast radius: {}", hit.join(" · "));
        }
        if let Some(m) = f.metastable.filter(|&m| m > 0.0) {
            let _ = writeln!(
                t,
                "    metastable: {:.0} % of occurrences never recovered before the horizon",
                m * 100.0
            );
        }
    }
}

/// Aligns `rows` under `headers`: the first column to the left, the rest
/// to the right (for the sweep and compare tables).
pub fn grid(headers: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([headers[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut t = String::new();
    for r in std::iter::once(headers).chain(rows.iter().map(Vec::as_slice)) {
        t.push_str(&format!("  {:<w$}", r[0], w = widths[0]));
        for (c, cell) in r.iter().enumerate().skip(1) {
            t.push_str(&format!("  {:>w$}", cell, w = widths[c]));
        }
        t.push('\n');
    }
    t
}

/// The SLO verdict in words, and whether it is met.
pub fn slo_verdict(s: &Summary) -> Option<(String, bool)> {
    let o = s.slo.as_ref()?;
    let planned = if o.excludes_planned {
        " without planned downtime"
    } else {
        ""
    };
    let verdict = if o.meets {
        "meets it"
    } else if o.confidence >= 0.5 {
        "probably meets it, but not with 95 % confidence"
    } else {
        "does not meet it"
    };
    if s.horizon_s < crate::stats::summary::PER_YEAR_FROM_S && o.failed_requests.is_none() {
        // A short trial's downtime scaled to a year means nothing: the
        // budget per trial instead (the same verdict, since both scale by
        // the horizon).
        let scale = s.horizon_s / crate::engine::time::to_secs(crate::engine::time::YEAR);
        let expected = match (&s.operations, o.excludes_planned) {
            (Some(ops), true) => ops.unplanned_downtime_per_year_s.mean * scale,
            _ => s.availability.downtime_per_trial_s.mean,
        };
        let budget = o.error_budget_per_year_s * scale;
        return Some((
            format!(
                "SLO {}{}: the design {verdict} (confidence {:.1} %). Error budget {} per trial of {}; expected downtime {} leaves {}; {:.1} % of trials stayed within budget.",
                o.target,
                planned,
                o.confidence * 100.0,
                human_duration(budget),
                human_duration(s.horizon_s),
                human_duration(expected),
                if budget >= expected {
                    human_duration(budget - expected)
                } else {
                    format!("an overspend of {}", human_duration(expected - budget))
                },
                o.years_within_budget * 100.0
            ),
            o.meets,
        ));
    }
    if let Some(failed) = o.failed_requests {
        return Some((
            format!(
                "SLO {} on requests served: the design {verdict} (confidence {:.1} %). Error budget {} of requests; {} failed ({:.1} times the budget).",
                o.target,
                o.confidence * 100.0,
                share(1.0 - o.target),
                share(failed),
                failed / (1.0 - o.target)
            ),
            o.meets,
        ));
    }
    Some((
        format!(
            "SLO {}{}: the design {verdict} (confidence {:.1} %). Error budget {} a year; expected downtime {} leaves {}; {:.1} % of simulated years stayed within budget.",
            o.target,
            planned,
            o.confidence * 100.0,
            human_duration(o.error_budget_per_year_s),
            human_duration(o.expected_downtime_per_year_s),
            if o.budget_left_per_year_s >= 0.0 {
                human_duration(o.budget_left_per_year_s)
            } else {
                format!("an overspend of {}", human_duration(-o.budget_left_per_year_s))
            },
            o.years_within_budget * 100.0
        ),
        o.meets,
    ))
}

/// A small share of requests, as a percentage with enough digits to read.
fn share(x: f64) -> String {
    let digits = if x <= 0.0 {
        3
    } else {
        ((-x.log10()).ceil() as usize).clamp(1, 9)
    };
    format!("{:.*} %", digits, x * 100.0)
}

#[cfg(test)]
mod tests {
    use super::pct;

    #[test]
    fn percentages_show_the_significant_nines() {
        assert_eq!(pct(0.9), "90.0 %");
        assert_eq!(pct(0.99912), "99.912 %");
        assert_eq!(pct(0.9999812), "99.9981 %");
    }
}
