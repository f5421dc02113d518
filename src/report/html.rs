//! `report.html`: one self-contained page (inline CSS and SVG, no script,
//! no network) with the scenario, the summary tables and every figure of a
//! run, a sweep or a comparison.
//!
//! Everything the page shows that came from the user (names, the scenario
//! text) is HTML-escaped; SVGs come from our own renderer.

use std::fmt::Write as _;

#[cfg(feature = "plot")]
use super::figures::Figure;
use crate::format::human_duration;
#[cfg(feature = "plot")]
use crate::scenario::Scenario;
use crate::stats::Summary;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // A control character is an HTML parse error, even as a
            // reference: shown as the replacement character.
            c if c.is_control() && !matches!(c, '\n' | '\t') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A page under construction.
pub struct Page {
    body: String,
    title: String,
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;max-width:1040px;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:1em 0}td,th{padding:.3em .8em;border-bottom:1px solid #eee;text-align:right}\
td:first-child,th:first-child{text-align:left;white-space:nowrap}th{background:#f6f6f6}\
pre{background:#f8f8f8;padding:1em;overflow-x:auto;font-size:.85em}\
.verdict{padding:.6em 1em;border-radius:4px;display:inline-block}.ok{background:#e6f4ea}.bad{background:#fce8e6}\
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:.9em}";

impl Page {
    /// A page titled `title`.
    pub fn new(title: &str) -> Self {
        Self {
            body: String::new(),
            title: title.to_string(),
        }
    }

    /// A section heading.
    pub fn heading(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<h2>{}</h2>", escape(text));
        self
    }

    /// A paragraph of plain text.
    pub fn para(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<p>{}</p>", escape(text));
        self
    }

    /// A verdict box, green when `ok`.
    pub fn verdict(&mut self, text: &str, ok: bool) -> &mut Self {
        let class = if ok { "ok" } else { "bad" };
        let _ = writeln!(self.body, "<p class=\"verdict {class}\">{}</p>", escape(text));
        self
    }

    /// A table.
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) -> &mut Self {
        self.body.push_str("<table><tr>");
        for h in headers {
            let _ = write!(self.body, "<th>{}</th>", escape(h));
        }
        self.body.push_str("</tr>\n");
        for row in rows {
            self.body.push_str("<tr>");
            for cell in row {
                let _ = write!(self.body, "<td>{}</td>", escape(cell));
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</table>\n");
        self
    }

    /// Preformatted text (the scenario file).
    pub fn pre(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<pre>{}</pre>", escape(text));
        self
    }

    /// The figures, inline.
    #[cfg(feature = "plot")]
    pub fn figures(&mut self, figs: &[Figure]) -> &mut Self {
        for f in figs {
            let svg = f.svg.find("<svg").map_or("", |i| &f.svg[i..]);
            let _ = writeln!(
                self.body,
                "<figure>{svg}<figcaption>{}</figcaption></figure>",
                escape(&f.title)
            );
        }
        self
    }

    /// The finished document.
    pub fn finish(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head>\n<body><h1>{t}</h1>\n{}</body></html>\n",
            self.body,
            t = escape(&self.title)
        )
    }
}

fn pct(x: f64) -> String {
    format!("{:.5} %", x * 100.0)
}

/// The headline rows of a summary.
pub fn headline(s: &Summary) -> Vec<Vec<String>> {
    let a = &s.availability;
    let mut rows = Vec::new();
    if s.objective == crate::scenario::Objective::Requests.name() {
        let h = s.headline();
        rows.push(vec![
            "requests served (the objective)".into(),
            pct(h.mean),
            format!("[{}, {}]", pct(h.ci95[0]), pct(h.ci95[1])),
        ]);
        rows.push(vec![
            "nines (requests)".into(),
            format!("{}{:.2}", if h.nines_is_bound { "≥ " } else { "" }, h.nines),
            super::table::nines_interval(h.nines_ci95),
        ]);
    }
    rows.extend([
        vec![
            "availability".into(),
            pct(a.mean),
            format!("[{}, {}]", pct(a.ci95[0]), pct(a.ci95[1])),
        ],
        vec![
            "nines".into(),
            format!("{}{:.2}", if a.nines_is_bound { "≥ " } else { "" }, a.nines),
            super::table::nines_interval(a.nines_ci95),
        ],
        vec![
            "downtime per year".into(),
            human_duration(a.downtime_per_year_s.mean),
            format!(
                "p50 {} · p90 {} · p99 {}",
                human_duration(a.downtime_per_year_s.p50),
                human_duration(a.downtime_per_year_s.p90),
                human_duration(a.downtime_per_year_s.p99)
            ),
        ],
        vec![
            "incidents per year".into(),
            format!("{:.3}", a.incidents_per_year.mean),
            format!(
                "[{:.3}, {:.3}]",
                a.incidents_per_year.ci95[0], a.incidents_per_year.ci95[1]
            ),
        ],
    ]);
    if let Some(x) = a.analytic {
        rows.push(vec!["closed form".into(), pct(x), String::new()]);
    }
    if let Some(r) = &s.requests {
        rows.push(vec![
            "request success".into(),
            pct(r.success_ratio.mean),
            format!("[{}, {}]", pct(r.success_ratio.ci95[0]), pct(r.success_ratio.ci95[1])),
        ]);
        rows.push(vec![
            "degraded / failed".into(),
            pct(r.degraded_ratio),
            pct(r.failed_ratio.mean),
        ]);
        for (label, l) in [("latency", &r.latency_s), ("served latency", &r.latency_served_s)] {
            // As in the table: the served line only when it differs.
            if label != "latency" && l == &r.latency_s {
                continue;
            }
            rows.push(vec![
                label.into(),
                human_duration(l.mean),
                format!(
                    "p50 {} · p99 {} · p99.9 {}",
                    human_duration(l.p50),
                    human_duration(l.p99),
                    human_duration(l.p999)
                ),
            ]);
        }
        rows.push(vec![
            "attempts per request".into(),
            format!("{:.3}", r.attempts_per_request),
            String::new(),
        ]);
    }
    rows
}

/// The page of one run.
#[cfg(feature = "plot")]
pub fn run_page(sc: &Scenario, s: &Summary, figs: &[Figure]) -> String {
    let mut p = Page::new(&format!("nines · {}", s.scenario));
    p.para(&format!(
        "Entry point {} · {} trials of {} · seed {} · {} events simulated.",
        s.entry,
        s.trials,
        crate::scenario::duration::Duration(sc.horizon),
        s.seed,
        s.events
    ));
    if let Some((text, ok)) = super::table::slo_verdict(s) {
        p.verdict(&text, ok);
    }
    p.heading("Summary")
        .table(&["", "value", "95 % interval / spread"], &headline(s));
    let services: Vec<Vec<String>> = s
        .services
        .iter()
        .map(|(n, v)| {
            vec![
                n.clone(),
                pct(v.availability.mean),
                pct(v.own_availability.mean),
                format!("{:.1} %", v.downtime_share * 100.0),
                v.requests.as_ref().map_or(String::new(), |r| pct(r.success_ratio.mean)),
            ]
        })
        .collect();
    p.heading("Services").table(
        &[
            "service",
            "availability",
            "own rule",
            "downtime share",
            "request success",
        ],
        &services,
    );
    if !s.edges.is_empty() {
        let edges: Vec<Vec<String>> = s
            .edges
            .iter()
            .map(|(n, e)| {
                vec![
                    n.clone(),
                    e.calls.to_string(),
                    format!("{:.3}", e.attempts_per_call),
                    e.retries.to_string(),
                    e.timeouts.to_string(),
                    e.server_errors.to_string(),
                    e.refused.to_string(),
                    e.breaker_rejected.to_string(),
                    e.bulkhead_rejected.to_string(),
                    format!("{:.1} %", e.breaker_open_fraction * 100.0),
                    format!("{:.3} %", e.success_ratio * 100.0),
                ]
            })
            .collect();
        p.heading("Call edges").table(
            &[
                "edge",
                "calls",
                "sent/call",
                "retries",
                "timeouts",
                "errors",
                "refused",
                "breaker rejected",
                "bulkhead rejected",
                "breaker open",
                "success",
            ],
            &edges,
        );
    }
    slo_windows_and_alerts(&mut p, s);
    p.heading("Figures").figures(figs);
    if let Ok(text) = std::fs::read_to_string(&sc.path) {
        p.heading("Scenario").pre(&text);
    }
    p.finish()
}

/// The SLO-window and alert tables of `report.html`.
#[cfg(feature = "plot")]
fn slo_windows_and_alerts(p: &mut Page, s: &Summary) {
    if let Some(w) = &s.slo_windows {
        let b = &w.budget_consumed;
        let mut rows = vec![
            vec![
                "windows meeting the objective".to_string(),
                super::slo::pct(w.meeting.mean),
                format!(
                    "[{}, {}]",
                    super::slo::pct(w.meeting.ci95[0]),
                    super::slo::pct(w.meeting.ci95[1])
                ),
            ],
            vec![
                "budget consumed per window".to_string(),
                format!("mean {}", super::slo::pct(b.mean)),
                format!(
                    "[{}, {}] · p50 {} · p90 {} · p99 {}",
                    super::slo::pct(b.ci95[0]),
                    super::slo::pct(b.ci95[1]),
                    super::slo::pct(b.p50),
                    super::slo::pct(b.p90),
                    super::slo::pct(b.p99)
                ),
            ],
        ];
        if let Some(x) = &w.worst {
            rows.push(vec![
                "worst window".to_string(),
                format!("{:.4} % served", x.availability * 100.0),
                format!(
                    "{} of the budget · trial {} · ending at day {:.1}",
                    super::slo::pct(x.budget_consumed),
                    x.trial,
                    x.end_s / 86_400.0
                ),
            ]);
        }
        p.heading(&format!(
            "SLO windows: {} {}, objective {}",
            crate::scenario::alerts::window_text(super::slo::secs(w.window_s)),
            w.kind,
            super::slo::pct_target(w.target)
        ))
        .table(&["", "value", "95 % interval / spread"], &rows);
    }
    if let Some(a) = &s.alerts {
        p.heading("Alert rules").para(&format!(
            "{:.2} incidents per trial: runs of minutes burning the budget faster than it refills that spent at least {} of a window's budget.",
            a.incidents_per_trial,
            super::slo::pct(a.incident_budget)
        ));
        let mut rows = Vec::new();
        for (title, r) in super::slo::rules(s) {
            let mut row = vec![title];
            row.extend(super::slo::rule_lines(r).into_iter().map(|(_, text)| text));
            rows.push(row);
        }
        p.table(
            &[
                "rule",
                "detected",
                "detection time",
                "budget before",
                "reset time",
                "false alerts",
            ],
            &rows,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        let mut p = Page::new("t<i>");
        p.para("1 < 2").table(&["a"], &[vec!["<b>".into()]]);
        let html = p.finish();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("t&lt;i&gt;") && html.contains("1 &lt; 2") && html.contains("&lt;b&gt;"));
        assert!(!html.contains("<b>"));
    }
}
