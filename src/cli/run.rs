//! `nines run FILE`: simulate, write `summary.json` and `trials.csv` (with
//! requests also `timeline.csv`; with `--plot` the figures and
//! `report.html`), print the table (or exactly the JSON). With `--shard
//! I/N` it runs one slice and writes a part for `nines merge` instead; with `--precision` it runs batches until the
//! interval on nines is narrow enough.
//!
//! Ctrl-C stops at the next chunk boundary (no new chunk starts) and writes
//! what was done, marked `"partial": true` (exit 1); a second Ctrl-C quits
//! at once (exit 1 too, as every failure that is not bad input). Every file
//! is written under a temporary name and the set is published together
//! ([`super::output_guard`]), so quitting at once leaves the previous
//! results or none, never a half-written or mixed set, and no temporary
//! file.

use std::io::IsTerminal;
use std::path::Path;

use super::output_guard::{self, Owner};
use super::{Format, RunArgs};
use crate::error::{Error, Result};
use crate::model::{TrialResult, World};
use crate::montecarlo::{self, Progress, estimator, precision, shard};
use crate::report::files::TempFile;
use crate::report::{self, csv::TrialWriter, figures};
use crate::stats::timeline::{TimelineAcc, TimelineRows};
use crate::{RunOptions, scenario};

/// Runs `nines run`.
///
/// # Errors
/// Bad input (exit 2) or an output that cannot be written (exit 1).
pub fn run(args: &RunArgs) -> Result<()> {
    // As `scenario::load`, keeping the text for a shard's part; `-` is
    // standard input.
    let input = super::conventions::read(&args.file)?;
    let scenario = scenario::parse(&input.display, &input.stem, &input.text, &args.set)?;
    super::conventions::warn(&scenario);
    let scenario = request_sampling(scenario, args.request_sampling)?;
    super::check_flags(args.threads, args.trials, args.slo)?;
    check_modes(args, &scenario)?;
    let trials = args.trials.unwrap_or(scenario.trials);
    let show = !args.quiet && std::io::stderr().is_terminal();
    if !writes(args) {
        return run_unwritten(args, &scenario, trials, show);
    }
    let out = super::out_dir(args.out.as_deref(), &super::stem(&args.file))?;
    let owner = Owner::run(&args.file);
    let mut guard = if args.shard.is_some() {
        output_guard::claim_shard(&out, &owner, args.force)?
    } else {
        output_guard::claim(&out, &owner, args.force, &[])?
    };
    super::interrupt::catch(if args.shard.is_some() {
        "writing nothing: a shard is merged only when complete"
    } else {
        "writing the results so far"
    });
    if let Some(s) = args.shard {
        return run_shard(args, &scenario, input.text, s, &out, show);
    }
    let options = options(args, trials, show)?;
    let mut staged = guard.staging();
    let csv_path = out.join("trials.csv");
    let csv_file = staged.create("trials.csv")?;
    let mut rows = TrialWriter::new(csv_file.handle()?, &csv_path, &scenario)?;
    let mut timelines = Vec::new();
    let mut timeline = TimelineAcc::default();
    let started = std::time::Instant::now();
    let on_trial = |i: u64, r: &TrialResult| {
        if let Some(t) = &r.traffic {
            timeline.push(t);
        }
        if args.plot
            && let Some(t) = &r.traffic
        {
            timelines.push(figures::TrialTimeline {
                root: t.timeline.clone(),
                edges: t.edge_timeline.clone(),
                replicas: t.replica_timeline.clone(),
            });
        }
        rows.write(i, r)
    };
    let summary = simulate_with(&scenario, &options, args, on_trial)?;
    options.0.progress.finish();
    let elapsed = started.elapsed().as_secs_f64();
    rows.finish()?;
    if summary.trials == 0 {
        return Err(Error::Interrupted {
            trials: 0,
            what: "nothing written".into(),
        });
    }
    let metrics_path = out.join("metrics.csv");
    let metrics_file = staged.create("metrics.csv")?;
    report::metrics::write_long(
        csv_file.temp(),
        &csv_path,
        &scenario,
        metrics_file.handle()?,
        &metrics_path,
    )?;
    staged.add(csv_file);
    staged.add(metrics_file);
    let json = report::json(&summary, &super::overrides(&args.set));
    let mut written = vec![staged.write(SUMMARY, json.as_bytes())?, csv_path, metrics_path];
    if let Some(text) = timeline.csv(&scenario) {
        written.push(staged.write("timeline.csv", text.as_bytes())?);
    }
    if args.plot {
        let figs = figures::for_run(&mut staged, &scenario, &summary, &timelines)?;
        let page = report::html::run_page(&scenario, &summary, &figs);
        let page_path = staged.write("report.html", page.as_bytes())?;
        written.extend(figs.iter().flat_map(|f| f.files.iter().cloned()));
        written.push(page_path);
    }
    guard.publish(staged, SUMMARY)?;
    let written = written
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    finish(args, &scenario, &summary, json, &written, elapsed)
}

/// False with `--no-write` or `--out -`: only stdout (and
/// `--export-markdown`) then.
fn writes(args: &RunArgs) -> bool {
    !args.no_write && args.out.as_deref() != Some(Path::new("-"))
}

/// The library's options for this run, with `--verbose` saying the plan.
fn options(args: &RunArgs, trials: u64, show: bool) -> Result<(RunOptions, Option<precision::Target>)> {
    let target = match args.precision {
        Some(w) => Some(precision::Target::new(
            w,
            args.max_trials
                .unwrap_or(trials.saturating_mul(100).min(scenario::limits::MAX_TRIALS)),
        )?),
        None => None,
    };
    let options = RunOptions {
        trials: Some(trials),
        seed: args.seed,
        threads: args.threads,
        progress: Progress::new(target.map_or(trials, |t| t.max_trials), show),
        slo: args.slo,
    };
    Ok((options, target))
}

/// Runs the trials (to a precision target with `--precision`).
fn simulate_with(
    scenario: &scenario::Scenario,
    (options, target): &(RunOptions, Option<precision::Target>),
    args: &RunArgs,
    on_trial: impl FnMut(u64, &TrialResult) -> Result<()>,
) -> Result<crate::stats::Summary> {
    say_plan(scenario, args, options.trials.unwrap_or(scenario.trials));
    let estimator = args.estimator.unwrap_or(scenario.estimator);
    let summary = estimator::simulate(scenario, options, *target, estimator, on_trial)?;
    match (&summary.splitting, &summary.regenerative) {
        (Some(s), _) => super::conventions::say(format_args!(
            "estimator splitting ({}) · {} replications · {} events, after {} crude trials · {} events",
            s.reason, s.replications, s.events, summary.trials, summary.events
        )),
        (None, Some(r)) => super::conventions::say(format_args!(
            "estimator regenerative ({}) · {} cycles · {} events, after {} crude trials · {} events",
            r.reason, r.cycles, r.events, summary.trials, summary.events
        )),
        (None, None) => super::conventions::say(format_args!(
            "estimator crude (independent trials) · {} trials · {} events",
            summary.trials, summary.events
        )),
    }
    Ok(summary)
}

/// `--verbose`: threads, chunks and what decides the estimator.
fn say_plan(scenario: &scenario::Scenario, args: &RunArgs, trials: u64) {
    if !super::conventions::verbose() {
        return;
    }
    let world = World::compile(scenario);
    let chunk = montecarlo::chunk_size(&world);
    let threads = args.threads.unwrap_or_else(rayon::current_num_threads);
    super::conventions::say(format_args!(
        "{} · {trials} trials in {} chunks of {chunk} · {threads} threads · seed {}",
        scenario.name,
        trials.div_ceil(chunk.max(1)),
        args.seed.unwrap_or(scenario.seed)
    ));
}

/// `--no-write`: the same trials, no file but `--export-markdown`.
fn run_unwritten(args: &RunArgs, scenario: &scenario::Scenario, trials: u64, show: bool) -> Result<()> {
    super::interrupt::catch("printing the results so far");
    super::conventions::say(format_args!("--no-write: no output folder, no files"));
    let options = options(args, trials, show)?;
    let started = std::time::Instant::now();
    let summary = simulate_with(scenario, &options, args, |_, _| Ok(()))?;
    options.0.progress.finish();
    if summary.trials == 0 {
        return Err(Error::Interrupted {
            trials: 0,
            what: "nothing printed".into(),
        });
    }
    let json = report::json(&summary, &super::overrides(&args.set));
    let elapsed = started.elapsed().as_secs_f64();
    finish(args, scenario, &summary, json, "nothing (--no-write)", elapsed)
}

/// Prints the table or the JSON, writes `--export-markdown`, then the
/// notes on stderr.
fn finish(
    args: &RunArgs,
    scenario: &scenario::Scenario,
    summary: &crate::stats::Summary,
    json: String,
    written: &str,
    elapsed: f64,
) -> Result<()> {
    super::conventions::export_markdown(args.export_markdown.as_deref(), &report::markdown::summary(summary))?;
    let text = match args.format {
        Format::Json => json,
        Format::Table => super::conventions::paint(
            report::escape::terminal(&report::table::render(summary, scenario)).into_owned(),
            report::table::slo_verdict(summary),
        ),
    };
    report::print(&text)?;
    if let Some(p) = &summary.precision
        && !args.quiet
    {
        let width = p.achieved.map_or("unbounded".into(), |w| format!("{w:.4}"));
        eprintln!(
            "precision: the 95 % interval on nines is {width} wide after {} trials; target {} {}",
            summary.trials,
            p.target,
            if p.reached {
                "reached"
            } else {
                "not reached (trial cap)"
            }
        );
    }
    if summary.partial {
        return Err(Error::Interrupted {
            trials: summary.trials,
            what: format!("wrote partial results (\"partial\": true) to {written}"),
        });
    }
    if !args.quiet {
        eprintln!(
            "wrote {written} · {} trials in {:.2} s ({:.0} trials/s, {:.1} M events/s)",
            summary.trials,
            elapsed,
            summary.trials as f64 / elapsed.max(1e-9),
            summary.events as f64 / elapsed.max(1e-9) / 1e6
        );
    }
    Ok(())
}

/// The file published last: while it is present, the results beside it
/// are all of one run.
pub const SUMMARY: &str = "summary.json";

/// Rejects flag combinations that mean nothing together.
fn check_modes(args: &RunArgs, scenario: &scenario::Scenario) -> Result<()> {
    if args.shard.is_some() && super::conventions::is_stdin(&args.file) {
        return Err(Error::Usage(
            "--shard needs a scenario file every shard reads alike, not standard input (-)".into(),
        ));
    }
    if args.shard.is_some()
        && matches!(
            args.estimator.unwrap_or(scenario.estimator),
            crate::scenario::Estimator::Splitting | crate::scenario::Estimator::Regenerative
        )
    {
        return Err(Error::Usage(
            "--shard runs crude trials only: splitting replications are not cut into slices that `nines merge` can \
             add up (each one splits its own trajectories); run splitting unsharded, it needs seconds"
                .into(),
        ));
    }
    if args.shard.is_some() {
        let clash = [
            (args.precision.is_some(), "--precision"),
            (args.plot, "--plot"),
            (args.format == Format::Json, "--format json"),
        ];
        if let Some((_, flag)) = clash.iter().find(|(on, _)| *on) {
            return Err(Error::Usage(format!(
                "--shard writes a part for `nines merge`, which writes the results; {flag} belongs there or on an unsharded run"
            )));
        }
    }
    super::check_trials("--max-trials", args.max_trials)?;
    if !writes(args) {
        let clash = [
            (args.shard.is_some(), "--shard"),
            (args.plot, "--plot"),
            (args.force, "--force"),
            (args.no_write && args.out.is_some(), "--out"),
        ];
        if let Some((_, flag)) = clash.iter().find(|(on, _)| *on) {
            return Err(Error::Usage(format!(
                "--no-write (or --out -) writes no files; {flag} needs an output folder"
            )));
        }
    }
    if let Some(w) = args.precision {
        precision::Target::new(w, args.max_trials.unwrap_or(1))?;
    }
    Ok(())
}

/// One shard: its trials' rows and per-chunk accumulators in a part file.
fn run_shard(
    args: &RunArgs,
    scenario: &scenario::Scenario,
    text: String,
    s: shard::Shard,
    out: &Path,
    show: bool,
) -> Result<()> {
    let world = World::compile(scenario);
    let seed = args.seed.unwrap_or(scenario.seed);
    let trials = args.trials.unwrap_or(scenario.trials);
    let plan = shard::Plan {
        seed,
        trials,
        slo: args.slo,
        chunk: montecarlo::chunk_size(&world),
    };
    let mut meta = shard::new_meta(&args.file, text, &args.set, plan, s);
    let range = meta.first..meta.end;
    let path = out.join(s.file_name());
    let mut part = TempFile::create(&path)?;
    let mut rows = TrialWriter::new(part.handle()?, &path, scenario)?;
    let progress = Progress::new(range.end - range.start, show);
    let started = std::time::Instant::now();
    let mut done = 0;
    // The current chunk's timeline rows: filled trial by trial, taken when
    // the chunk's accumulator arrives (both callbacks run on this thread).
    let timeline = std::cell::RefCell::new(Vec::new());
    montecarlo::run_chunks(
        &world,
        seed,
        range.clone(),
        args.threads,
        &progress,
        |i, r| {
            if let Some(t) = &r.traffic {
                timeline.borrow_mut().push(TimelineRows::from(t));
            }
            rows.write(i, r)
        },
        |acc| {
            done += acc.trials();
            let trials = timeline.take();
            meta.chunks.push(shard::encode(&acc, &trials, &path)?);
            Ok(())
        },
    )?;
    progress.finish();
    rows.finish()?;
    if done < range.end - range.start {
        return Err(Error::Interrupted {
            trials: done,
            what: "a shard is merged only when complete, so nothing was written".into(),
        });
    }
    shard::finish_part(part.file(), &path, meta)?;
    part.commit()?;
    if !args.quiet {
        eprintln!(
            "wrote {} · shard {s}: trials {}..{} of {trials} in {:.2} s",
            path.display(),
            range.start,
            range.end,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// `--request-sampling` over the file's `request_sampling`; `windowed` only
/// for a model it can run (else a usage error saying why).
fn request_sampling(
    mut scenario: scenario::Scenario,
    flag: Option<scenario::RequestSampling>,
) -> Result<scenario::Scenario> {
    let Some(mode) = flag else { return Ok(scenario) };
    if mode == scenario::RequestSampling::Windowed
        && let Some(why) = crate::scenario::sampling::refusal(&scenario)
    {
        return Err(crate::error::Error::Usage(format!(
            "--request-sampling windowed cannot run \"{}\": {why}; use --request-sampling full",
            scenario.name
        )));
    }
    scenario.request_sampling = Some(mode);
    // The file's sizes were checked for the sampling it asked for: one that
    // would have run windowed and now runs full is checked again.
    let full = crate::scenario::sampling::resolve(&scenario, Some(mode)) != Some(scenario::RequestSampling::Windowed);
    let events = scenario::limits::events_per_trial(&scenario);
    if full && events > scenario.limits.events_per_trial as f64 {
        return Err(crate::error::Error::Usage(format!(
            "--request-sampling {} would simulate every request of \"{}\": about {events:.3e} events a trial, more than limits.events_per_trial = {}; use --request-sampling windowed or raise the budget with --set limits.events_per_trial=N",
            mode.word(),
            scenario.name,
            scenario.limits.events_per_trial
        )));
    }
    Ok(scenario)
}
