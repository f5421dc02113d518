//! The terminal table's operations section: the entry's planned downtime
//! (maintenance windows) apart from the rest, its availability without
//! planned downtime, and per deploy its rolls, bad releases and how they
//! were caught.

use std::fmt::Write as _;

use crate::format::human_duration;
use crate::stats::Summary;

/// Writes the section (nothing without deploys or maintenance windows).
pub fn render(t: &mut String, summary: &Summary) {
    let Some(o) = &summary.operations else { return };
    let _ = writeln!(t);
    let without = match o.unplanned_nines {
        Some(n) => format!(
            "availability without planned {} · nines {n:.2}",
            crate::format::pct(o.unplanned_availability.mean)
        ),
        None => "no unplanned downtime in any trial".into(),
    };
    let _ = writeln!(
        t,
        "  planned downtime / year  {} (maintenance windows) · unplanned {} · {without}",
        human_duration(o.planned_downtime_per_year_s.mean),
        human_duration(o.unplanned_downtime_per_year_s.mean),
    );
    for (name, d) in &o.deploys {
        let caught = if d.bad == 0 {
            "no bad release".to_string()
        } else {
            format!(
                "{} bad: {} caught by the canary, {} by alerting, each served {}",
                d.bad,
                d.caught_by_canary,
                d.caught_by_alert,
                d.bad_release_serving_s.map_or("-".into(), human_duration)
            )
        };
        let skipped = if d.skipped > 0 {
            format!(" · {} skipped (previous roll under way)", d.skipped)
        } else {
            String::new()
        };
        let _ = writeln!(
            t,
            "  deploy {name:<17} {:.2} rolls / trial · {caught}{skipped} · downtime while rolling {} / year",
            d.rolls_per_trial,
            human_duration(d.downtime_per_year_s.mean)
        );
    }
}
