//! The tables of `--export-markdown FILE`, for pasting into design
//! documents (as hyperfine's option of the same name): GitHub-flavoured
//! Markdown, one header row, numbers right-aligned, names escaped so a
//! `|` or a newline in a name cannot break the table.

use crate::format::human_duration;
use crate::stats::Summary;

use super::table::pct;

/// A name made safe for a table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A Markdown table of `rows` under `headers`: the first column to the
/// left, the rest to the right.
pub fn grid(headers: &[String], rows: &[Vec<String>]) -> String {
    let line = |r: &[String]| format!("| {} |\n", r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | "));
    let mut t = line(headers);
    let rule: Vec<&str> = (0..headers.len())
        .map(|c| if c == 0 { ":---" } else { "---:" })
        .collect();
    t.push_str(&format!("| {} |\n", rule.join(" | ")));
    rows.iter().for_each(|r| t.push_str(&line(r)));
    t
}

/// One run: the headline figures, then one row per service.
pub fn summary(s: &Summary) -> String {
    let a = &s.availability;
    let nines = super::table::nines_interval(a.nines_ci95);
    let d = &a.downtime_per_year_s;
    let mut headline = Vec::new();
    if s.objective == crate::scenario::Objective::Requests.name() {
        let h = s.headline();
        headline.push(vec!["requests served (the objective)".into(), pct(h.mean)]);
        headline.push(vec![
            "95 % CI".into(),
            format!("[{}, {}]", pct(h.ci95[0]), pct(h.ci95[1])),
        ]);
        headline.push(vec![
            "nines".into(),
            format!(
                "{}{:.2} {}",
                if h.nines_is_bound { "≥ " } else { "" },
                h.nines,
                super::table::nines_interval(h.nines_ci95)
            ),
        ]);
    }
    headline.extend([
        vec!["availability".into(), pct(a.mean)],
        vec!["95 % CI".into(), format!("[{}, {}]", pct(a.ci95[0]), pct(a.ci95[1]))],
        vec!["nines".into(), format!("{:.2} {nines}", a.nines)],
        vec![
            "downtime / year".into(),
            format!(
                "mean {} · p50 {} · p90 {} · p99 {}",
                human_duration(d.mean),
                human_duration(d.p50),
                human_duration(d.p90),
                human_duration(d.p99)
            ),
        ],
    ]);
    if let Some(r) = &s.requests {
        headline.push(vec![
            "request success".into(),
            format!("{:.3} %", r.success_ratio.mean * 100.0),
        ]);
    }
    let services: Vec<Vec<String>> = s
        .services
        .iter()
        .map(|(name, v)| {
            vec![
                name.clone(),
                pct(v.availability.mean),
                pct(v.own_availability.mean),
                format!("{:.1} %", v.downtime_share * 100.0),
            ]
        })
        .collect();
    let title = format!(
        "**{}**: entry {}, {} trials, seed {}\n\n",
        cell(&s.scenario),
        cell(&s.entry),
        s.trials,
        s.seed
    );
    let strings = |v: &[&str]| v.iter().map(|x| (*x).to_string()).collect::<Vec<_>>();
    format!(
        "{title}{}\n{}",
        grid(&strings(&["figure", "value"]), &headline),
        grid(
            &strings(&["service", "availability", "own rule", "downtime share"]),
            &services
        )
    )
}

#[cfg(test)]
mod tests {
    use super::grid;

    #[test]
    fn a_pipe_in_a_name_stays_in_its_cell() {
        let t = grid(&["a".into(), "b".into()], &[vec!["x|y".into(), "1".into()]]);
        assert_eq!(t, "| a | b |\n| :--- | ---: |\n| x\\|y | 1 |\n");
    }
}
