//! The terminal table's workflow (saga) section: how sagas ended, with 95 %
//! intervals, their latency, the inconsistency window, and which step
//! failed.

use std::fmt::Write as _;

use crate::format::human_duration;
use crate::stats::Summary;

fn pct(x: f64) -> String {
    format!("{:.3} %", x * 100.0)
}

fn interval(e: &crate::stats::estimate::Estimate) -> String {
    format!("{} [{}, {}]", pct(e.mean), pct(e.ci95[0]), pct(e.ci95[1]))
}

/// Appends one block per workflow to `t` (nothing without workflows).
pub fn render(t: &mut String, summary: &Summary) {
    for (name, w) in &summary.workflows {
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "  workflow {name} · {} sagas ended of {} started",
            w.sagas, w.started
        );
        let _ = writeln!(t, "    completed       {}", interval(&w.completed_ratio));
        let _ = writeln!(t, "    compensated     {}", interval(&w.compensated_ratio));
        let _ = writeln!(t, "    stuck           {}", interval(&w.stuck_ratio));
        for (label, l) in [
            ("completed in", &w.completed_latency_s),
            ("compensated in", &w.compensated_latency_s),
        ] {
            let _ = writeln!(
                t,
                "    {label:<15} mean {} · p50 {} · p90 {} · p99 {}",
                human_duration(l.mean),
                human_duration(l.p50),
                human_duration(l.p90),
                human_duration(l.p99)
            );
        }
        let win = &w.inconsistency_window_s;
        let _ = writeln!(
            t,
            "    inconsistent    mean {} · p50 {} · p99 {} (effect to its compensation, {} compensations)",
            human_duration(win.mean),
            human_duration(win.p50),
            human_duration(win.p99),
            win.count
        );
        let _ = writeln!(
            t,
            "    {:<20} {:>10} {:>26} {:>12} {:>10}",
            "step", "failed", "failed / sagas", "compensated", "gave up"
        );
        for (step, s) in &w.steps {
            let _ = writeln!(
                t,
                "    {:<20} {:>10} {:>26} {:>12} {:>10}",
                step,
                s.failed,
                interval(&s.failed_ratio),
                s.compensations,
                s.compensations_gave_up
            );
        }
    }
}
