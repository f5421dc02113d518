//! `nines improve FILE`: what to improve first.
//!
//! Runs the scenario once as it is (the baseline), then once per candidate
//! improvement ([`crate::improve::candidates`]), every run with the same
//! seed and trial count, and ranks the improvements by the paired
//! difference of the objective per trial. Beside the ranking it gives the
//! closed-form importance measures of the time-based model
//! ([`crate::improve::importance`]), or why there are none.
//!
//! Writes `improve.csv`, `improve.json`, the bar chart `improve.png` and
//! `improve.svg`, and `report.html` into the output folder (default
//! `output/<stem>-improve/`), claimed and published as `compare` does:
//! every file appears together, `improve.json` last. Ctrl-C writes nothing:
//! a ranking needs every variant on the same trials.

use std::io::IsTerminal;

use serde::Serialize;

use super::output_guard::{self, Owner};
use super::{Format, ImproveArgs};
use crate::error::{Error, Result};
use crate::montecarlo::{self, Progress};
use crate::report::plot::Bar;
use crate::report::{self, figures, html};
use crate::scenario::{Objective, Scenario};
use crate::stats::interval::nines;
use crate::{RunOptions, simulate};
use nines::improve::{self, Kind, Paired, importance::Importance};

/// The baseline's objective.
#[derive(Serialize)]
struct Baseline {
    /// Mean over trials of the per-trial objective.
    mean: f64,
    /// `-log10(1 - mean)`; `None` when no trial lost anything.
    nines: Option<f64>,
}

/// One ranked improvement.
#[derive(Serialize)]
struct Row {
    /// 1 for the largest mean gain.
    rank: usize,
    kind: Kind,
    component_kind: &'static str,
    component: String,
    change: String,
    /// The variant's mean per-trial objective.
    mean: f64,
    /// Its nines.
    nines: Option<f64>,
    /// The variant minus the baseline, paired by trial.
    difference: Paired,
    /// The same difference between the closed forms (long-run), when both
    /// the baseline and the variant have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    closed_form_difference: Option<f64>,
    /// Whether the variant's mean meets `slo` (present when an objective
    /// is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    meets_slo: Option<bool>,
}

/// The importance section.
#[derive(Serialize)]
struct ImportanceDoc {
    /// Whether the closed form applies.
    closed_form: bool,
    /// Why not, when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// The entry's closed-form availability, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    availability: Option<f64>,
    /// Ranked by Birnbaum importance, largest first.
    components: Vec<Importance>,
}

/// The own keys of `improve.json`, after the [`report::document`] header.
#[derive(Serialize)]
struct ImproveDoc<'a> {
    scenario: &'a str,
    entry: &'a str,
    trials: u64,
    seed: u64,
    /// `"time"` or `"requests"`: what the gains are measured on.
    objective: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    slo: Option<f64>,
    baseline: Baseline,
    improvements: &'a [Row],
    importance: ImportanceDoc,
}

/// The per-trial objective of every trial of `sc`.
fn objective_per_trial(sc: &Scenario, options: &RunOptions) -> Result<(Vec<f64>, bool)> {
    let requests = sc.objective == Objective::Requests;
    let mut values = Vec::new();
    let summary = simulate(sc, options, |_, r| {
        values.push(match (&r.traffic, requests) {
            (Some(t), true) if t.requests > 0 => 1.0 - t.failed as f64 / t.requests as f64,
            (Some(_), true) => 1.0,
            _ => r.availability,
        });
        Ok(())
    })?;
    Ok((values, summary.partial))
}

fn usage(e: improve::SelectError) -> Error {
    Error::Usage(e.to_string())
}

/// Runs `nines improve`.
///
/// # Errors
/// Bad input (exit 2) or an output that cannot be written (exit 1).
pub fn improve(args: &ImproveArgs) -> Result<()> {
    let sh = &args.shared;
    super::check_flags(sh.threads, sh.trials, sh.slo)?;
    let sc = super::conventions::load(&args.file, &sh.set)?;
    let chosen = improve::select(&sc, &args.only, &args.kinds).map_err(usage)?;
    let trials = sh.trials.unwrap_or(sc.trials);
    let seed = sh.seed.unwrap_or(sc.seed);
    let slo = sh.slo.or(sc.slo);
    let out = super::out_dir(sh.out.as_deref(), &format!("{}-improve", super::stem(&args.file)))?;
    super::interrupt::catch("writing nothing: a ranking needs every variant on the same trials");
    let mut guard = output_guard::claim(&out, &Owner::improve(&args.file), sh.force, &[])?;
    let runs = chosen.len() as u64 + 1;
    let progress = Progress::new(trials * runs, !sh.quiet && std::io::stderr().is_terminal());
    super::conventions::say_threads(sh.threads, chosen.len() + 1, "variants", trials);
    let options = RunOptions {
        trials: Some(trials),
        seed: Some(seed),
        threads: sh.threads,
        progress: progress.clone(),
        slo,
    };
    let interrupted = |done: usize| Error::Interrupted {
        trials: trials * done as u64,
        what: format!(
            "{done} of {runs} runs were complete; a ranking needs every variant on the same trials, so nothing was written"
        ),
    };
    let closed = |sc: &Scenario| match sc.objective {
        Objective::Time => crate::model::analytic::availability(sc, &crate::model::World::compile(sc), sc.entry).ok(),
        Objective::Requests => None,
    };
    let base_closed = closed(&sc);
    let (base, partial) = objective_per_trial(&sc, &options)?;
    if partial || montecarlo::stop_requested() {
        progress.finish();
        return Err(interrupted(0));
    }
    let mut rows = Vec::with_capacity(chosen.len());
    for (i, c) in chosen.iter().enumerate() {
        super::conventions::say(format_args!("variant {} {}: {}", c.kind.word(), c.component, c.change));
        let variant = c.apply(&sc);
        let (values, partial) = objective_per_trial(&variant, &options)?;
        if partial || montecarlo::stop_requested() {
            progress.finish();
            return Err(interrupted(i + 1));
        }
        let Some(difference) = improve::paired(&base, &values) else {
            return Err(interrupted(i + 1));
        };
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        rows.push(Row {
            rank: 0,
            kind: c.kind,
            component_kind: c.component_kind,
            component: c.component.clone(),
            change: c.change.clone(),
            mean,
            nines: nines(mean),
            difference,
            closed_form_difference: base_closed.zip(closed(&variant)).map(|(b, v)| v - b),
            meets_slo: slo.map(|s| mean >= s),
        });
    }
    progress.finish();
    // A stable sort: ties keep the candidates' fixed order.
    rows.sort_by(|a, b| b.difference.mean.total_cmp(&a.difference.mean));
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    let base_mean = base.iter().sum::<f64>() / base.len() as f64;
    let importance = match improve::importance::importance(&sc) {
        Ok(mut components) => {
            components.sort_by(|a, b| b.birnbaum.total_cmp(&a.birnbaum));
            let world = crate::model::World::compile(&sc);
            ImportanceDoc {
                closed_form: true,
                reason: None,
                availability: crate::model::analytic::availability(&sc, &world, sc.entry).ok(),
                components,
            }
        }
        Err(reason) => ImportanceDoc {
            closed_form: false,
            reason: Some(reason),
            availability: None,
            components: Vec::new(),
        },
    };
    let objective = sc.objective.name();
    let doc = ImproveDoc {
        scenario: &sc.name,
        entry: &sc.services[sc.entry].name,
        trials,
        seed,
        objective,
        slo,
        baseline: Baseline {
            mean: base_mean,
            nines: nines(base_mean),
        },
        improvements: &rows,
        importance,
    };
    let json = report::document::json(report::document::IMPROVE, &super::overrides(&sh.set), &doc);
    let (headers, table) = ranking(&rows);
    let (imp_headers, imp_table) = importance_rows(&doc.importance);
    let mut staged = guard.staging();
    staged.write("improve.json", json.as_bytes())?;
    staged.write("improve.csv", csv(&rows, objective).as_bytes())?;
    // The best few: more bars than this leave no room for their names.
    let bars: Vec<Bar> = rows
        .iter()
        .take(MAX_BARS)
        .map(|r| {
            let [lo, hi] = r.difference.nines_gain_ci95.unwrap_or([f64::NAN; 2]);
            Bar {
                label: format!("{} {}", r.component, short(r.kind)),
                value: r.difference.nines_gain.unwrap_or(f64::NAN),
                lo,
                hi,
                bound: false,
                closed_form: None,
            }
        })
        .collect();
    let mut codes: Vec<&str> = Vec::new();
    for r in rows.iter().take(MAX_BARS) {
        let code = match r.kind {
            Kind::Mttr => "R/2 repair halved",
            Kind::Mtbf => "F×2 MTBF doubled",
            Kind::Replicas => "+1 replica",
            Kind::Failover => "FO/2 failover halved",
            Kind::Retry => "+try one more attempt",
            Kind::Breaker => "BO/2 open time halved",
        };
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    let fig = figures::for_improve(&mut staged, &bars, rows.len(), &codes.join(" · "))?;
    let mut page = html::Page::new(&format!("nines improve · {}", sc.name));
    page.para(&intro(&sc, trials, seed, base_mean));
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    page.heading("What to improve first").table(&h, &table);
    page.heading("Figures").figures(std::slice::from_ref(&fig));
    page.heading("Importance of the components (closed form)");
    match &doc.importance.reason {
        Some(reason) => {
            page.para(&format!("No closed form: {reason}."));
        }
        None => {
            let h: Vec<&str> = imp_headers.iter().map(String::as_str).collect();
            page.table(&h, &imp_table);
        }
    }
    staged.write("report.html", page.finish().as_bytes())?;
    guard.publish(staged, "improve.json")?;
    super::conventions::export_markdown(sh.export_markdown.as_deref(), &report::markdown::grid(&headers, &table))?;
    let text = match sh.format {
        Format::Json => json,
        Format::Table => {
            let mut t = format!("{}\n\n", intro(&sc, trials, seed, base_mean));
            t.push_str(&report::table::grid(&headers, &table));
            t.push('\n');
            match &doc.importance.reason {
                Some(reason) => t.push_str(&format!("importance: no closed form ({reason})\n")),
                None => {
                    t.push_str("importance of the components (closed form, time-based model):\n\n");
                    t.push_str(&report::table::grid(&imp_headers, &imp_table));
                }
            }
            if !t.ends_with('\n') {
                t.push('\n');
            }
            super::conventions::paint(report::escape::terminal(&t).into_owned(), None)
        }
    };
    report::print(&text)?;
    if !sh.quiet {
        eprintln!(
            "wrote improve.csv, improve.json, improve.png, improve.svg and report.html in {}",
            out.display()
        );
    }
    Ok(())
}

/// Bars in the chart: the top of the ranking.
const MAX_BARS: usize = 8;

/// A kind's name under its bar: the chart has little room per bar.
fn short(kind: Kind) -> &'static str {
    match kind {
        Kind::Mttr => "R/2",
        Kind::Mtbf => "F×2",
        Kind::Replicas => "+1",
        Kind::Failover => "FO/2",
        Kind::Retry => "+try",
        Kind::Breaker => "BO/2",
    }
}

fn nines_text(n: Option<f64>) -> String {
    n.map_or("∞".into(), |n| format!("{n:.3}"))
}

fn intro(sc: &Scenario, trials: u64, seed: u64, base: f64) -> String {
    let what = match sc.objective {
        Objective::Requests => "requests served",
        Objective::Time => "availability",
    };
    format!(
        "{}: baseline {what} {:.5} % ({} nines), {trials} trials, seed {seed}; each improvement on the same trials",
        sc.name,
        base * 100.0,
        nines_text(nines(base))
    )
}

fn ranking(rows: &[Row]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut headers = [
        "rank",
        "improvement",
        "component",
        "change",
        "nines gained [95 % CI]",
        "Δ availability pp [95 % CI]",
        "variance reduction",
    ]
    .map(String::from)
    .to_vec();
    let closed = rows.iter().any(|r| r.closed_form_difference.is_some());
    if closed {
        headers.push("closed form Δ pp".into());
    }
    let table = rows
        .iter()
        .map(|r| {
            let d = &r.difference;
            let gain = match (d.nines_gain, d.nines_gain_ci95) {
                (Some(g), Some([lo, hi])) => format!("{g:+.3} [{lo:+.3}, {hi:+.3}]"),
                _ => "n/a".into(),
            };
            let mut row = vec![
                r.rank.to_string(),
                r.kind.word().to_string(),
                format!("{} {}", r.component_kind, r.component),
                r.change.clone(),
                gain,
                format!(
                    "{:+.5} [{:+.5}, {:+.5}]",
                    d.mean * 100.0,
                    d.ci95[0] * 100.0,
                    d.ci95[1] * 100.0
                ),
                d.variance_reduction.map_or("-".into(), |v| format!("{v:.1}×")),
            ];
            if closed {
                row.push(
                    r.closed_form_difference
                        .map_or("-".into(), |c| format!("{:+.5}", c * 100.0)),
                );
            }
            row
        })
        .collect();
    (headers, table)
}

fn importance_rows(doc: &ImportanceDoc) -> (Vec<String>, Vec<Vec<String>>) {
    let headers = [
        "component",
        "availability",
        "Birnbaum",
        "criticality",
        "diagnostic",
        "improvement potential",
    ]
    .map(String::from)
    .to_vec();
    let opt = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.4}"));
    let table = doc
        .components
        .iter()
        .map(|c| {
            let name = match &c.region {
                Some(r) => format!("{} {} in {r}", c.kind, c.component),
                None => format!("{} {}", c.kind, c.component),
            };
            vec![
                name,
                format!("{:.6}", c.availability),
                format!("{:.6}", c.birnbaum),
                opt(c.criticality),
                opt(c.diagnostic),
                format!("{:.3e}", c.improvement_potential),
            ]
        })
        .collect();
    (headers, table)
}

fn csv(rows: &[Row], objective: &str) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "rank",
        "kind",
        "component_kind",
        "component",
        "change",
        "objective",
        "mean",
        "nines",
        "difference",
        "difference_low",
        "difference_high",
        "significant",
        "nines_gain",
        "nines_gain_low",
        "nines_gain_high",
        "unpaired_ci95_width",
        "variance_reduction",
        "closed_form_difference",
    ]);
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for r in rows {
        let d = &r.difference;
        let _ = w.write_record([
            r.rank.to_string(),
            r.kind.word().to_string(),
            r.component_kind.to_string(),
            r.component.clone(),
            r.change.clone(),
            objective.to_string(),
            r.mean.to_string(),
            opt(r.nines),
            d.mean.to_string(),
            d.ci95[0].to_string(),
            d.ci95[1].to_string(),
            d.significant.to_string(),
            opt(d.nines_gain),
            opt(d.nines_gain_ci95.map(|c| c[0])),
            opt(d.nines_gain_ci95.map(|c| c[1])),
            d.unpaired_ci95_width.to_string(),
            opt(d.variance_reduction),
            opt(r.closed_form_difference),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
