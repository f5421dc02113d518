//! `nines run FILE`: simulate, write `summary.json` and `trials.csv` (and
//! with `--plot` the figures and `report.html`), print the table (or exactly
//! the JSON).

use std::io::IsTerminal;

use super::{Format, RunArgs};
use crate::error::{Error, Result};
use crate::montecarlo::Progress;
use crate::report::{self, csv::TrialWriter, figures};
use crate::{RunOptions, scenario, simulate};

/// Runs `nines run`.
///
/// # Errors
/// Bad input (exit 2) or an output that cannot be written (exit 1).
pub fn run(args: &RunArgs) -> Result<()> {
    let scenario = scenario::load(&args.file, &args.set)?;
    super::check_flags(args.threads, args.trials, args.slo)?;
    let out = super::out_dir(args.out.as_deref(), &super::stem(&args.file))?;
    let trials = args.trials.unwrap_or(scenario.trials);
    let show = !args.quiet && std::io::stderr().is_terminal();
    let options = RunOptions {
        trials: Some(trials),
        seed: args.seed,
        threads: args.threads,
        progress: Progress::new(trials, show),
        slo: args.slo,
    };
    let csv_path = out.join("trials.csv");
    let tmp_csv = out.join("trials.csv.tmp");
    let mut rows = TrialWriter::create(&tmp_csv, &scenario)?;
    let mut timelines = Vec::new();
    let mut timeline = report::timeline::TimelineAcc::default();
    let started = std::time::Instant::now();
    let summary = simulate(&scenario, &options, |i, r| {
        if let Some(t) = &r.traffic {
            timeline.push(t);
        }
        if args.plot
            && let Some(t) = &r.traffic
        {
            timelines.push(figures::TrialTimeline {
                root: t.timeline.clone(),
                edges: t.edge_timeline.clone(),
            });
        }
        rows.write(i, r)
    })?;
    options.progress.finish();
    let elapsed = started.elapsed().as_secs_f64();
    rows.finish()?;
    std::fs::rename(&tmp_csv, &csv_path).map_err(|source| Error::Write {
        path: csv_path.clone(),
        source,
    })?;
    let json = report::json(&summary);
    let summary_path = out.join("summary.json");
    report::write_atomic(&summary_path, json.as_bytes())?;
    let mut written = vec![summary_path.clone(), csv_path];
    if let Some(text) = timeline.csv(&scenario) {
        let path = out.join("timeline.csv");
        report::write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    if args.plot {
        let figs = figures::for_run(&out, &scenario, &summary, &timelines)?;
        let page = report::html::run_page(&scenario, &summary, &figs);
        let page_path = out.join("report.html");
        report::write_atomic(&page_path, page.as_bytes())?;
        written.extend(figs.iter().flat_map(|f| f.files.iter().cloned()));
        written.push(page_path);
    }
    let text = match args.format {
        Format::Json => json,
        Format::Table => report::table::render(&summary, &scenario),
    };
    report::print(&text)?;
    if !args.quiet {
        eprintln!(
            "wrote {} · {} trials in {:.2} s ({:.0} trials/s, {:.1} M events/s)",
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            summary.trials,
            elapsed,
            summary.trials as f64 / elapsed.max(1e-9),
            summary.events as f64 / elapsed.max(1e-9) / 1e6
        );
    }
    Ok(())
}
