//! `nines sweep FILE --vary PATH=SPEC [--vary PATH=SPEC]`: one run per point
//! of a grid, the same trials and seed at every point (common random
//! numbers), written as `sweep.csv`, `sweep.json`, the availability curve
//! and `report.html`.
//!
//! The output folder is claimed as `run` claims its own
//! ([`super::output_guard`]): another scenario's (or command's) results
//! there are refused without `--force`; the files are published together,
//! `sweep.json` last.
//!
//! Ctrl-C: points run one after another, and the one under way stops at
//! its next chunk boundary. Only points that ran every trial are kept, a
//! prefix of the grid in grid order: a point with fewer trials would sit on
//! the curve with a wider interval and break the comparison between points
//! that common random numbers make. With at least one point complete, the
//! files are written with those points (`sweep.json` gets `"partial":
//! true`, `report.html` says how many points of the grid it holds); with
//! none, nothing is written. Either way the command says which and exits 1.
//! Every file appears under its name only when the whole set is complete.

use std::io::IsTerminal;

use super::output_guard::{self, Owner};
use super::{Format, SweepArgs};
use crate::RunOptions;
use crate::error::{Error, Result};
use crate::format;
use crate::montecarlo::{self, Progress};
use crate::report::{self, figures, html};
use crate::scenario::{self, Override};
use crate::stats::Summary;
use crate::sweep::Vary;

/// A point's value is applied as `--set`; a problem with it is the
/// `--vary` flag's, so name that flag as typed, and show the range syntax
/// when the value looks like a range written with a dash (`1-3`).
fn blame_vary(e: Error, typed: &[String], vary: &[Vary]) -> Error {
    let Error::Scenario(mut diags) = e else { return e };
    for d in &mut diags {
        let crate::error::Origin::Flag(flag) = &d.origin else {
            continue;
        };
        let Some((k, value)) = vary.iter().enumerate().find_map(|(k, v)| {
            v.values
                .iter()
                .find(|x| *flag == format!("--set {}={x}", v.path))
                .map(|x| (k, x))
        }) else {
            continue;
        };
        if let Some((a, b)) = dashed_range(value) {
            d.help = Some(format!(
                "a range is written with two dots: --vary {}={a}..{b}",
                vary[k].path
            ));
        }
        d.origin = crate::error::Origin::Flag(format!("--vary {}", typed[k]));
    }
    Error::Scenario(diags)
}

/// `1-3` as `(1, 3)`: two numbers, with or without units, joined by a dash.
fn dashed_range(value: &str) -> Option<(&str, &str)> {
    let (a, b) = value.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let numeric = |s: &str| s.starts_with(|c: char| c.is_ascii_digit());
    (numeric(a) && numeric(b)).then_some((a, b))
}

/// Runs `nines sweep`.
///
/// # Errors
/// Bad input (exit 2) or an output that cannot be written (exit 1).
pub fn sweep(args: &SweepArgs) -> Result<()> {
    let sh = &args.shared;
    let vary: Vec<Vary> = args.vary.iter().map(|v| v.parse()).collect::<Result<_>>()?;
    if vary.len() > 2 {
        return Err(Error::Usage(format!("at most two --vary, found {}", vary.len())));
    }
    if let [a, b] = vary.as_slice()
        && a.path == b.path
    {
        return Err(Error::Usage(format!(
            "--vary {} is given twice; vary two different paths, or list every value in one --vary",
            a.path
        )));
    }
    super::check_flags(sh.threads, sh.trials, sh.slo)?;
    // Read once: `-` is standard input, which cannot be read per point.
    let input = super::conventions::read(&args.file)?;
    let load = |set: &[Override]| scenario::parse(&input.display, &input.stem, &input.text, set);
    let base = load(&sh.set)?;
    super::conventions::warn(&base);
    let trials = sh.trials.unwrap_or(base.trials);
    let seed = sh.seed.unwrap_or(base.seed);
    let grid: Vec<Vec<usize>> = match vary.get(1) {
        None => (0..vary[0].values.len()).map(|i| vec![i]).collect(),
        Some(second) => (0..vary[0].values.len())
            .flat_map(|i| (0..second.values.len()).map(move |j| vec![i, j]))
            .collect(),
    };
    // Validate every point before running any, so a bad value fails fast.
    let mut scenarios = Vec::with_capacity(grid.len());
    for idx in &grid {
        let mut overrides = sh.set.clone();
        overrides.extend(idx.iter().zip(&vary).map(|(&i, v)| Override {
            path: v.path.clone(),
            value: v.values[i].clone(),
        }));
        scenarios.push(load(&overrides).map_err(|e| blame_vary(e, &args.vary, &vary))?);
    }
    let out = super::out_dir(sh.out.as_deref(), &format!("{}-sweep", super::stem(&args.file)))?;
    super::interrupt::catch("keeping the points completed so far");
    let mut guard = output_guard::claim(&out, &Owner::sweep(&args.file), sh.force, &[])?;
    let total = grid.len();
    let progress = Progress::new(trials * total as u64, !sh.quiet && std::io::stderr().is_terminal());
    let mut points = Vec::with_capacity(total);
    let mut done = 0;
    super::conventions::say_threads(sh.threads, total, "points", trials);
    for (idx, sc) in grid.into_iter().zip(&scenarios) {
        let at: Vec<String> = idx
            .iter()
            .zip(&vary)
            .map(|(&i, v)| format!("{}={}", v.path, v.values[i]))
            .collect();
        super::conventions::say(format_args!("point {}", at.join(" ")));
        if montecarlo::stop_requested() {
            break;
        }
        let options = RunOptions {
            trials: Some(trials),
            seed: Some(seed),
            threads: sh.threads,
            progress: progress.clone(),
            slo: sh.slo,
        };
        let estimator = args.estimator.unwrap_or(sc.estimator);
        let summary = crate::montecarlo::estimator::simulate(sc, &options, None, estimator, |_, _| Ok(()))?;
        done += summary.trials;
        if summary.partial {
            break;
        }
        points.push((idx, summary));
    }
    progress.finish();
    if points.is_empty() {
        return Err(Error::Interrupted {
            trials: done,
            what: format!("no point of the {total} was complete, so nothing was written"),
        });
    }
    let partial = points.len() < total;
    let mut staged = guard.staging();
    let csv = sweep_csv(&vary, &points);
    staged.write("sweep.csv", csv.as_bytes())?;
    let overrides = report::document::Overrides {
        vary: args.vary.clone(),
        ..super::overrides(&sh.set)
    };
    let json = sweep_json(&vary, &points, partial, &overrides);
    staged.write("sweep.json", json.as_bytes())?;
    let figs = figures::for_sweep(&mut staged, &vary, &points)?;
    let page = page(&base.name, &vary, &points, &figs, (trials, seed), total);
    staged.write("report.html", page.as_bytes())?;
    guard.publish(staged, "sweep.json")?;
    let (headers, rows) = rows(&vary, &points);
    super::conventions::export_markdown(sh.export_markdown.as_deref(), &report::markdown::grid(&headers, &rows))?;
    let text = match sh.format {
        Format::Json => json,
        Format::Table => super::conventions::paint(
            report::escape::terminal(&report::table::grid(&headers, &rows)).into_owned(),
            None,
        ),
    };
    report::print(&text)?;
    if partial {
        return Err(Error::Interrupted {
            trials: done,
            what: format!(
                "wrote the {} of {total} points completed (sweep.json has \"partial\": true) to sweep.csv, sweep.json, the curves and report.html in {}; the point under way was left out",
                points.len(),
                out.display()
            ),
        });
    }
    if !sh.quiet {
        eprintln!(
            "wrote sweep.csv, sweep.json, the curves and report.html in {}",
            out.display()
        );
    }
    Ok(())
}

fn opt(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| v.to_string())
}

/// `sweep.csv`: one row per point. The `objective_*` columns are the
/// metric each point is judged on (`objective`: requests served over
/// requests, or time-based availability), for the curves.
fn sweep_csv(vary: &[Vary], points: &[(Vec<usize>, Summary)]) -> String {
    let requests = points.iter().any(|p| p.1.requests.is_some());
    let mut header: Vec<String> = vary.iter().map(|v| v.path.clone()).collect();
    header.extend(
        [
            "availability",
            "availability_low",
            "availability_high",
            "nines",
            "nines_low",
            "nines_high",
            "nines_is_bound",
            "downtime_per_year_s_mean",
            "downtime_per_year_s_p50",
            "downtime_per_year_s_p90",
            "downtime_per_year_s_p99",
            "incidents_per_year",
        ]
        .map(String::from),
    );
    if requests {
        header.extend(
            [
                "success_ratio",
                "success_ratio_low",
                "success_ratio_high",
                "degraded_ratio",
                "failed_ratio",
                "attempts_per_request",
                "latency_p50_s",
                "latency_p99_s",
            ]
            .map(String::from),
        );
    }
    header.extend(
        [
            "objective",
            "objective_value",
            "objective_low",
            "objective_high",
            "objective_nines",
            "objective_nines_low",
            "objective_nines_high",
            "objective_nines_is_bound",
        ]
        .map(String::from),
    );
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(&header);
    for (idx, s) in points {
        let a = &s.availability;
        let d = &a.downtime_per_year_s;
        let mut row: Vec<String> = idx.iter().zip(vary).map(|(&i, v)| v.values[i].clone()).collect();
        row.extend([
            a.mean.to_string(),
            a.ci95[0].to_string(),
            a.ci95[1].to_string(),
            a.nines.to_string(),
            opt(a.nines_ci95[0]),
            opt(a.nines_ci95[1]),
            a.nines_is_bound.to_string(),
            d.mean.to_string(),
            d.p50.to_string(),
            d.p90.to_string(),
            d.p99.to_string(),
            a.incidents_per_year.mean.to_string(),
        ]);
        if let Some(r) = &s.requests {
            row.extend([
                r.success_ratio.mean.to_string(),
                r.success_ratio.ci95[0].to_string(),
                r.success_ratio.ci95[1].to_string(),
                r.degraded_ratio.to_string(),
                r.failed_ratio.mean.to_string(),
                r.attempts_per_request.to_string(),
                r.latency_s.p50.to_string(),
                r.latency_s.p99.to_string(),
            ]);
        }
        let h = s.headline();
        row.extend([
            s.objective.to_string(),
            h.mean.to_string(),
            h.ci95[0].to_string(),
            h.ci95[1].to_string(),
            h.nines.to_string(),
            opt(h.nines_ci95[0]),
            opt(h.nines_ci95[1]),
            h.nines_is_bound.to_string(),
        ]);
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// One point of `sweep.json`.
#[derive(serde::Serialize)]
struct Point<'a> {
    /// The varied paths and their values at this point, in `--vary` order.
    values: indexmap::IndexMap<&'a str, &'a str>,
    summary: &'a Summary,
}

/// The own keys of `sweep.json`.
#[derive(serde::Serialize)]
struct SweepDoc<'a> {
    points: Vec<Point<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    partial: bool,
}

/// `sweep.json`: the [`report::document`] header, the varied values and
/// the full summary of every point; `"partial": true` when Ctrl-C left
/// points out (omitted otherwise).
fn sweep_json(
    vary: &[Vary],
    points: &[(Vec<usize>, Summary)],
    partial: bool,
    overrides: &report::document::Overrides,
) -> String {
    let points = points
        .iter()
        .map(|(idx, s)| Point {
            values: idx
                .iter()
                .zip(vary)
                .map(|(&i, v)| (v.path.as_str(), v.values[i].as_str()))
                .collect(),
            summary: s,
        })
        .collect();
    report::document::json(report::document::SWEEP, overrides, &SweepDoc { points, partial })
}

fn rows(vary: &[Vary], points: &[(Vec<usize>, Summary)]) -> (Vec<String>, Vec<Vec<String>>) {
    let requests = points.iter().any(|p| p.1.requests.is_some());
    let on_requests = points.iter().all(|p| p.1.objective == "requests");
    let mut headers: Vec<String> = vary.iter().map(|v| v.path.clone()).collect();
    if on_requests {
        headers.extend(["requests served (objective)", "95 % CI", "nines"].map(String::from));
    }
    headers.extend(["availability", "95 % CI", "nines", "downtime / year"].map(String::from));
    // The closed form beside the simulated points, where one exists.
    let analytic = points.iter().any(|p| p.1.availability.analytic.is_some());
    if analytic {
        headers.push("closed form".into());
    }
    if requests {
        headers.push("request success".into());
    }
    let rows = points
        .iter()
        .map(|(idx, s)| {
            let a = &s.availability;
            let mut row: Vec<String> = idx.iter().zip(vary).map(|(&i, v)| v.values[i].clone()).collect();
            if on_requests {
                let h = s.headline();
                row.push(sweep_pct(h.mean));
                row.push(format!("[{}, {}]", sweep_digits(h.ci95[0]), sweep_digits(h.ci95[1])));
                row.push(format!("{}{:.2}", if h.nines_is_bound { "≥ " } else { "" }, h.nines));
            }
            row.push(sweep_pct(a.mean));
            row.push(format!("[{}, {}]", sweep_digits(a.ci95[0]), sweep_digits(a.ci95[1])));
            row.push(format!("{}{:.2}", if a.nines_is_bound { "≥ " } else { "" }, a.nines));
            row.push(format::human_duration(a.downtime_per_year_s.mean));
            if analytic {
                row.push(a.analytic.map_or("-".into(), sweep_pct));
            }
            if let Some(r) = &s.requests {
                row.push(format!("{:.3} %", r.success_ratio.mean * 100.0));
            }
            row
        })
        .collect();
    (headers, rows)
}

/// A sweep table's availability in percent: six decimals, or as many as
/// it takes to show the first digit that is not a nine and the next
/// (splitting estimates 9 to 12 nines, which six decimals print as 100 %).
fn sweep_digits(a: f64) -> String {
    let digits = match 1.0 - a {
        u if u > 0.0 => ((-u.log10()).floor() as usize + 2).clamp(6, 12),
        _ => 6,
    };
    format!("{:.*}", digits, a * 100.0)
}

/// [`sweep_digits`] with its unit.
fn sweep_pct(a: f64) -> String {
    format!("{} %", sweep_digits(a))
}

fn page(
    name: &str,
    vary: &[Vary],
    points: &[(Vec<usize>, Summary)],
    figs: &[figures::Figure],
    (trials, seed): (u64, u64),
    total: usize,
) -> String {
    let mut p = html::Page::new(&format!("nines sweep · {name}"));
    p.para(&format!(
        "{} points, {trials} trials each, seed {seed}: every point runs the same trials with the same random streams (common random numbers), so differences between points come from the model, not from noise.",
        points.len()
    ));
    if points.len() < total {
        p.para(&format!(
            "Interrupted: these are the first {} of the grid's {total} points; the rest did not run.",
            points.len()
        ));
    }
    p.heading("Figures").figures(figs);
    let (headers, rows) = rows(vary, points);
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    p.heading("Points").table(&headers, &rows);
    p.finish()
}
