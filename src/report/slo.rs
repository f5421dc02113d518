//! The SLO-window and alert sections of the terminal table and of
//! `report.html`, from `summary.slo_windows` and `summary.alerts`; nothing
//! is printed when the scenario sets neither.

use std::fmt::Write as _;

use crate::format::human_duration;
use crate::scenario::alerts::window_text;
use crate::stats::Summary;
use crate::stats::estimate::Estimate;
use crate::stats::slo::RuleSummary;

pub(super) fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn pct_interval(e: &Estimate) -> String {
    format!("{} [{}, {}]", pct(e.mean), pct(e.ci95[0]), pct(e.ci95[1]))
}

fn time_interval(e: &Estimate) -> String {
    format!(
        "{} [{}, {}]",
        human_duration(e.mean),
        human_duration(e.ci95[0]),
        human_duration(e.ci95[1])
    )
}

fn rate_interval(e: &Estimate) -> String {
    format!("{:.2} [{:.2}, {:.2}]", e.mean, e.ci95[0], e.ci95[1])
}

pub(super) fn secs(s: f64) -> u64 {
    (s * 1e9).round() as u64
}

/// The title of a rule: `fast-burn (page): 14.4x over 1h and 5m`.
fn rule_title(name: &str, r: &RuleSummary) -> String {
    let severity = r.severity.as_ref().map(|s| format!(" ({s})")).unwrap_or_default();
    match (r.burn_rate, r.long_window_s, r.short_window_s) {
        (Some(b), Some(l), Some(s)) => format!(
            "{name}{severity}: {b}x over {} and {}",
            window_text(secs(l)),
            window_text(secs(s))
        ),
        _ => format!("{name}: the first rule to fire"),
    }
}

/// One line per figure of a rule, for the table and the html report.
pub fn rule_lines(r: &RuleSummary) -> Vec<(&'static str, String)> {
    let na = || "n/a (no incident detected)".to_string();
    vec![
        (
            "detected",
            format!(
                "{} of {} incidents; missed {}",
                r.detected,
                r.incidents,
                r.missed.as_ref().map_or("n/a".into(), pct_interval)
            ),
        ),
        (
            "detection time",
            r.detection_s.as_ref().map_or_else(na, |d| {
                format!(
                    "mean {} [{}, {}] · p50 {} · p90 {}",
                    human_duration(d.mean),
                    human_duration(d.ci95[0]),
                    human_duration(d.ci95[1]),
                    human_duration(d.p50),
                    human_duration(d.p90)
                )
            }),
        ),
        (
            "budget before",
            r.budget_before_alert
                .as_ref()
                .map_or_else(na, |e| format!("{} of a window's budget", pct_interval(e))),
        ),
        (
            "reset time",
            r.reset_s.as_ref().map_or_else(na, |e| {
                let open = if r.unreset > 0 {
                    format!(" ({} still firing at the horizon)", r.unreset)
                } else {
                    String::new()
                };
                format!("{} after the incident ends{open}", time_interval(e))
            }),
        ),
        (
            "false alerts",
            format!(
                "{} per month ({} of {} alerts fired with no incident)",
                rate_interval(&r.false_alerts_per_month),
                r.false_alerts,
                r.alerts
            ),
        ),
    ]
}

/// The named rules, then every rule together.
pub fn rules(s: &Summary) -> Vec<(String, &RuleSummary)> {
    let Some(a) = &s.alerts else { return Vec::new() };
    let mut out: Vec<(String, &RuleSummary)> = a.rules.iter().map(|(n, r)| (rule_title(n, r), r)).collect();
    if let Some(any) = &a.any {
        out.push((rule_title("any rule", any), any));
    }
    out
}

/// Appends the SLO-window and alert sections to the terminal table.
pub fn render(t: &mut String, s: &Summary) {
    if let Some(w) = &s.slo_windows {
        let b = &w.budget_consumed;
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "  slo windows: {} {} windows, objective {} of requests ({} windows in all, series of {} buckets)",
            window_text(secs(w.window_s)),
            w.kind,
            pct_target(w.target),
            w.windows,
            window_text(secs(w.bucket_s))
        );
        let _ = writeln!(t, "    meeting it      {}", pct_interval(&w.meeting));
        let _ = writeln!(
            t,
            "    budget used     mean {} [{}, {}] · p50 {} · p90 {} · p99 {}",
            pct(b.mean),
            pct(b.ci95[0]),
            pct(b.ci95[1]),
            pct(b.p50),
            pct(b.p90),
            pct(b.p99)
        );
        if let Some(x) = &w.worst {
            let _ = writeln!(
                t,
                "    worst window    {:.4} % of requests served, {} of the budget (trial {}, ending at day {:.1})",
                x.availability * 100.0,
                pct(x.budget_consumed),
                x.trial,
                x.end_s / 86_400.0
            );
        }
    }
    if let Some(a) = &s.alerts {
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "  alerts: {:.2} incidents per trial (runs of minutes burning budget faster than it refills, spending at least {} of a window's budget)",
            a.incidents_per_trial,
            pct(a.incident_budget)
        );
        for (title, r) in rules(s) {
            let _ = writeln!(t, "    {title}");
            for (label, text) in rule_lines(r) {
                let _ = writeln!(t, "      {label:<16}{text}");
            }
        }
    }
}

/// An objective as a percentage with the digits it needs (99.95 %).
pub(super) fn pct_target(x: f64) -> String {
    let p = x * 100.0;
    let mut s = format!("{p:.6}");
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    format!("{s} %")
}

/// `nines check`'s lines: the budget of a window in time fully down, and
/// per rule the closed form for a full outage (every request failing burns
/// at `1 / (1 - target)`): the long window reaches the burn rate after
/// `burn_rate x (1 - target) x long` of it, the short one sooner, so that
/// is the earliest page, and the budget it has spent by then.
pub fn describe(t: &mut String, sc: &crate::scenario::Scenario) {
    let Some(spec) = &sc.slo_spec else { return };
    let e = 1.0 - spec.target;
    if let Some(w) = spec.window {
        let _ = writeln!(
            t,
            "slo windows: {} {} against {} of requests: the budget is {} of requests failed, {} fully down per window",
            window_text(w.length),
            w.kind(),
            pct_target(spec.target),
            pct_target(e),
            human_duration(e * w.length as f64 / 1e9)
        );
        for a in &spec.alerts {
            let first = a.burn_rate * e * a.long as f64 / 1e9;
            let severity = a.severity.as_ref().map(|s| format!(" ({s})")).unwrap_or_default();
            if a.burn_rate * e > 1.0 {
                let _ = writeln!(
                    t,
                    "  alert {}{severity}: {}x over {} and {}; never fires: a full outage burns at {:.1}x at most",
                    a.name,
                    a.burn_rate,
                    window_text(a.long),
                    window_text(a.short),
                    1.0 / e
                );
                continue;
            }
            let _ = writeln!(
                t,
                "  alert {}{severity}: {}x over {} and {}; on a full outage it fires after {} ({} of the budget)",
                a.name,
                a.burn_rate,
                window_text(a.long),
                window_text(a.short),
                human_duration(first),
                pct(first / (e * w.length as f64 / 1e9))
            );
        }
        if !spec.alerts.is_empty() {
            let _ = writeln!(
                t,
                "  incidents: runs of {} buckets failing faster than {} that spend at least {} of a window's budget",
                window_text(spec.bucket),
                pct_target(e),
                pct(spec.incident_budget())
            );
        }
    }
}
