//! `nines compare A.toml B.toml [...]`: every design on the same trial
//! indices with the same seed, side by side, with each difference from the
//! first design and whether it is larger than its interval.
//!
//! Differences are paired: trial `i` of each design draws the same random
//! streams for every component they share, so the per-trial difference has
//! far less noise than the two runs apart, and its Student t interval says
//! whether the designs really differ.
//!
//! The designs are judged on their objective (`objective`): on requests
//! served when every design's is requests, else on time-based availability.
//! That metric leads the table, and its paired difference is the one whose
//! significance `compare.json` gives as `objective_difference`.
//!
//! The output folder is claimed as `run` claims its own
//! ([`super::output_guard`]): the same files in the same order may write
//! there again; anything else is refused without `--force`. The files are
//! published together, `compare.json` last.
//!
//! Ctrl-C: designs run one after another, and the one under way stops at
//! its next chunk boundary; then nothing is written (exit 1, and the
//! message says so). A comparison is only meaningful with every design on
//! the same trials, and the designs already done cannot be cut back to the
//! trials of the one stopped, so any file it left would compare unlike
//! with unlike. Every file appears under its name only when the whole set
//! is complete.

use std::io::IsTerminal;

use serde::Serialize;

use super::output_guard::{self, Owner};
use super::{CompareArgs, Format};
use crate::error::{Error, Result};
use crate::format;
use crate::montecarlo::{self, Progress};
use crate::report::{self, figures, html};
use crate::scenario::Scenario;
use crate::stats::interval::mean_ci95;
use crate::stats::{Summary, Welford};
use crate::{RunOptions, simulate};

/// A difference from the baseline, paired by trial.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// Mean difference (this design minus the baseline).
    pub mean: f64,
    /// Its 95 % interval.
    pub ci95: [f64; 2],
    /// True when the interval excludes zero.
    pub significant: bool,
}

#[derive(Serialize)]
struct Design {
    name: String,
    file: String,
    summary: Summary,
    /// Availability minus the baseline's (absent for the baseline).
    #[serde(skip_serializing_if = "Option::is_none")]
    availability_difference: Option<Difference>,
    /// Request success ratio minus the baseline's.
    #[serde(skip_serializing_if = "Option::is_none")]
    success_ratio_difference: Option<Difference>,
    /// Requests served (full and degraded) / requests minus the baseline's.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_availability_difference: Option<Difference>,
    /// The objective's metric minus the baseline's: the difference the
    /// comparison is judged on.
    #[serde(skip_serializing_if = "Option::is_none")]
    objective_difference: Option<Difference>,
}

/// The own keys of `compare.json`, after the [`report::document`] header.
#[derive(Serialize)]
struct CompareDoc<'a> {
    trials: u64,
    seed: u64,
    /// `"requests"` when every design is judged on requests, else `"time"`.
    objective: &'static str,
    designs: &'a [Design],
}

fn difference(a: &[f64], base: &[f64]) -> Option<Difference> {
    if a.len() != base.len() || a.is_empty() {
        return None;
    }
    let mut w = Welford::default();
    a.iter().zip(base).for_each(|(x, b)| w.push(x - b));
    let ci95 = mean_ci95(&w, f64::MIN, f64::MAX);
    Some(Difference {
        mean: w.mean(),
        ci95,
        significant: ci95[0] > 0.0 || ci95[1] < 0.0,
    })
}

/// Runs `nines compare`.
///
/// # Errors
/// Bad input (exit 2) or an output that cannot be written (exit 1).
pub fn compare(args: &CompareArgs) -> Result<()> {
    let sh = &args.shared;
    super::check_flags(sh.threads, sh.trials, sh.slo)?;
    if args.files.iter().filter(|f| super::conventions::is_stdin(f)).count() > 1 {
        return Err(Error::Usage(
            "standard input (-) can be read once: give `-` for one design at most".into(),
        ));
    }
    let scenarios: Vec<Scenario> = args
        .files
        .iter()
        .map(|f| super::conventions::load(f, &sh.set))
        .collect::<Result<_>>()?;
    let trials = sh.trials.unwrap_or(scenarios[0].trials);
    let seed = sh.seed.unwrap_or(scenarios[0].seed);
    let slo = sh.slo.or(scenarios[0].slo);
    let mut names: Vec<String> = args.files.iter().map(|f| super::stem(f)).collect();
    for i in 0..names.len() {
        if names[..i].contains(&names[i]) {
            names[i] = format!("{}-{}", names[i], i + 1);
        }
    }
    let out = super::out_dir(sh.out.as_deref(), &format!("compare-{}", names.join("-vs-")))?;
    super::interrupt::catch("writing nothing: a comparison needs every design on the same trials");
    let mut guard = output_guard::claim(&out, &Owner::compare(&args.files), sh.force, &[])?;
    let progress = Progress::new(
        trials * scenarios.len() as u64,
        !sh.quiet && std::io::stderr().is_terminal(),
    );
    let mut runs = Vec::new();
    let mut done = 0;
    super::conventions::say_threads(sh.threads, scenarios.len(), "designs", trials);
    for sc in &scenarios {
        super::conventions::say(format_args!("design {}", sc.name));
        if montecarlo::stop_requested() {
            break;
        }
        let options = RunOptions {
            trials: Some(trials),
            seed: Some(seed),
            threads: sh.threads,
            progress: progress.clone(),
            slo,
        };
        // Not pre-sized by the trial count: the vectors grow with the trials
        // that actually ran.
        let (mut avail, mut success, mut served) = (Vec::new(), Vec::new(), Vec::new());
        let summary = simulate(sc, &options, |_, r| {
            avail.push(r.availability);
            if let Some(t) = &r.traffic {
                served.push(if t.requests == 0 {
                    1.0
                } else {
                    1.0 - t.failed as f64 / t.requests as f64
                });
                success.push(if t.requests == 0 {
                    1.0
                } else {
                    t.success as f64 / t.requests as f64
                });
            }
            Ok(())
        })?;
        done += summary.trials;
        if summary.partial {
            break;
        }
        runs.push((summary, avail, success, served));
    }
    progress.finish();
    if runs.len() < scenarios.len() {
        return Err(Error::Interrupted {
            trials: done,
            what: format!(
                "{} of {} designs were complete; a comparison needs every design on the same trials, so nothing was written",
                runs.len(),
                scenarios.len()
            ),
        });
    }
    let on_requests = runs.iter().all(|r| r.0.objective == "requests");
    let objective = if on_requests { "requests" } else { "time" };
    let designs: Vec<Design> = runs
        .iter()
        .enumerate()
        .map(|(i, (summary, avail, success, served))| {
            let availability_difference = (i > 0).then(|| difference(avail, &runs[0].1)).flatten();
            let request_availability_difference = (i > 0).then(|| difference(served, &runs[0].3)).flatten();
            Design {
                name: names[i].clone(),
                file: args.files[i].display().to_string(),
                summary: summary.clone(),
                objective_difference: if on_requests {
                    request_availability_difference.clone()
                } else {
                    availability_difference.clone()
                },
                availability_difference,
                success_ratio_difference: (i > 0).then(|| difference(success, &runs[0].2)).flatten(),
                request_availability_difference,
            }
        })
        .collect();
    let json = report::document::json(
        report::document::COMPARE,
        &super::overrides(&sh.set),
        &CompareDoc {
            trials,
            seed,
            objective,
            designs: &designs,
        },
    );
    let mut staged = guard.staging();
    staged.write("compare.json", json.as_bytes())?;
    staged.write("compare.csv", compare_csv(&designs, on_requests).as_bytes())?;
    let summaries: Vec<Summary> = designs.iter().map(|d| d.summary.clone()).collect();
    let figs = figures::for_compare(&mut staged, &names, &summaries, slo)?;
    let (headers, rows) = rows(&designs, on_requests);
    let mut page = html::Page::new(&format!("nines compare · {}", names.join(" vs ")));
    page.para(&format!(
        "{trials} trials per design, seed {seed}. Differences are paired by trial (the designs share their random streams), and marked significant when their 95 % interval excludes zero."
    ));
    for d in &designs {
        if let Some((text, ok)) = report::table::slo_verdict(&d.summary) {
            page.verdict(&format!("{}: {text}", d.name), ok);
        }
    }
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    page.heading("Side by side").table(&h, &rows);
    page.heading("Figures").figures(&figs);
    staged.write("report.html", page.finish().as_bytes())?;
    guard.publish(staged, "compare.json")?;
    super::conventions::export_markdown(sh.export_markdown.as_deref(), &report::markdown::grid(&headers, &rows))?;
    let text = match sh.format {
        Format::Json => json,
        Format::Table => super::conventions::paint(
            report::escape::terminal(&report::table::grid(&headers, &rows)).into_owned(),
            None,
        ),
    };
    report::print(&text)?;
    if !sh.quiet {
        eprintln!(
            "wrote compare.csv, compare.json, the figures and report.html in {}",
            out.display()
        );
    }
    Ok(())
}

fn diff_text(d: &Option<Difference>, scale: f64, unit: &str) -> String {
    match d {
        None => "baseline".into(),
        Some(d) => format!(
            "{:+.4}{unit} [{:+.4}, {:+.4}]{}",
            d.mean * scale,
            d.ci95[0] * scale,
            d.ci95[1] * scale,
            if d.significant {
                " significant"
            } else {
                " not significant"
            }
        ),
    }
}

fn rows(designs: &[Design], on_requests: bool) -> (Vec<String>, Vec<Vec<String>>) {
    let mut headers = vec![String::from("")];
    headers.extend(designs.iter().map(|d| d.name.clone()));
    let requests = designs.iter().all(|d| d.summary.requests.is_some());
    let metric = |name: &str, f: &dyn Fn(&Design) -> String| -> Vec<String> {
        let mut row = vec![name.to_string()];
        row.extend(designs.iter().map(f));
        row
    };
    let mut rows = Vec::new();
    if on_requests {
        // The objective first: what the designs are judged on.
        rows.extend([
            metric("requests served (objective)", &|d| {
                let h = d.summary.headline();
                format!("{}{:.5} %", if h.nines_is_bound { "≥ " } else { "" }, h.mean * 100.0)
            }),
            metric("95 % CI", &|d| {
                let c = d.summary.headline().ci95;
                format!("[{:.5}, {:.5}]", c[0] * 100.0, c[1] * 100.0)
            }),
            metric("nines (requests)", &|d| {
                let h = d.summary.headline();
                format!("{}{:.2}", if h.nines_is_bound { "≥ " } else { "" }, h.nines)
            }),
            metric("Δ requests served vs baseline", &|d| {
                diff_text(&d.objective_difference, 100.0, " pp")
            }),
        ]);
    }
    rows.extend([
        metric("availability", &|d| {
            format!("{:.5} %", d.summary.availability.mean * 100.0)
        }),
        metric("95 % CI", &|d| {
            let c = d.summary.availability.ci95;
            format!("[{:.5}, {:.5}]", c[0] * 100.0, c[1] * 100.0)
        }),
        metric("nines", &|d| {
            let a = &d.summary.availability;
            format!("{}{:.2}", if a.nines_is_bound { "≥ " } else { "" }, a.nines)
        }),
        metric("downtime / year", &|d| {
            format::human_duration(d.summary.availability.downtime_per_year_s.mean)
        }),
        metric("p99 downtime / year", &|d| {
            format::human_duration(d.summary.availability.downtime_per_year_s.p99)
        }),
        metric("incidents / year", &|d| {
            format!("{:.3}", d.summary.availability.incidents_per_year.mean)
        }),
        metric("Δ availability vs baseline", &|d| {
            diff_text(&d.availability_difference, 100.0, " pp")
        }),
    ]);
    // The closed form beside the simulated figures, where one exists.
    if designs.iter().any(|d| d.summary.availability.analytic.is_some()) {
        rows.insert(
            rows.len() - 1,
            metric("closed form", &|d| {
                d.summary
                    .availability
                    .analytic
                    .map_or("-".into(), |x| format!("{:.5} %", x * 100.0))
            }),
        );
    }
    if requests {
        rows.push(metric("request success", &|d| {
            format!(
                "{:.3} %",
                d.summary.requests.as_ref().map_or(0.0, |r| r.success_ratio.mean) * 100.0
            )
        }));
        rows.push(metric("Δ request success vs baseline", &|d| {
            diff_text(&d.success_ratio_difference, 100.0, " pp")
        }));
    }
    (headers, rows)
}

fn compare_csv(designs: &[Design], on_requests: bool) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "design",
        "file",
        "availability",
        "availability_low",
        "availability_high",
        "nines",
        "downtime_per_year_s_mean",
        "downtime_per_year_s_p99",
        "success_ratio",
        "availability_difference",
        "availability_difference_low",
        "availability_difference_high",
        "availability_difference_significant",
        "nines_is_bound",
        "objective",
        "objective_value",
        "objective_low",
        "objective_high",
        "objective_nines",
        "objective_nines_is_bound",
        "objective_difference",
        "objective_difference_low",
        "objective_difference_high",
        "objective_difference_significant",
    ]);
    for d in designs {
        let a = &d.summary.availability;
        let diff = d.availability_difference.as_ref();
        let od = d.objective_difference.as_ref();
        // Every design is judged on the comparison's objective.
        let o = if on_requests {
            d.summary.headline()
        } else {
            crate::stats::summary::Headline {
                mean: a.mean,
                ci95: a.ci95,
                nines: a.nines,
                nines_ci95: a.nines_ci95,
                nines_is_bound: a.nines_is_bound,
            }
        };
        let _ = w.write_record([
            d.name.clone(),
            d.file.clone(),
            a.mean.to_string(),
            a.ci95[0].to_string(),
            a.ci95[1].to_string(),
            a.nines.to_string(),
            a.downtime_per_year_s.mean.to_string(),
            a.downtime_per_year_s.p99.to_string(),
            d.summary
                .requests
                .as_ref()
                .map_or(String::new(), |r| r.success_ratio.mean.to_string()),
            diff.map_or(String::new(), |x| x.mean.to_string()),
            diff.map_or(String::new(), |x| x.ci95[0].to_string()),
            diff.map_or(String::new(), |x| x.ci95[1].to_string()),
            diff.map_or(String::new(), |x| x.significant.to_string()),
            a.nines_is_bound.to_string(),
            (if on_requests { "requests" } else { "time" }).to_string(),
            o.mean.to_string(),
            o.ci95[0].to_string(),
            o.ci95[1].to_string(),
            o.nines.to_string(),
            o.nines_is_bound.to_string(),
            od.map_or(String::new(), |x| x.mean.to_string()),
            od.map_or(String::new(), |x| x.ci95[0].to_string()),
            od.map_or(String::new(), |x| x.ci95[1].to_string()),
            od.map_or(String::new(), |x| x.significant.to_string()),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
