//! `nines merge PARTS... --out DIR`: join the parts of a sharded run into
//! exactly the `summary.json`, `trials.csv` and (with requests)
//! `timeline.csv` an unsharded run of the same scenario and seed writes
//! (see [`crate::montecarlo::shard`] for why the bytes match), then print
//! the table (or exactly the JSON). Every part is decoded before a result
//! file is written, so a bad part never leaves half a set of results, and
//! the files are published together as `run` publishes its own
//! ([`super::output_guard`]).

use std::io::{BufWriter, Write as _};
use std::path::PathBuf;

use super::output_guard::{self, Command, Owner};
use super::run::SUMMARY;
use super::{Format, MergeArgs};
use crate::error::{Error, Result};
use crate::model::World;
use crate::montecarlo::{self, shard::Merged};
use crate::report;

/// Runs `nines merge`.
///
/// # Errors
/// Parts that are unreadable, of different runs, missing or repeated
/// (exit 2); an output that cannot be written (exit 1).
pub fn merge(args: &MergeArgs) -> Result<()> {
    let merged = Merged::open(&args.parts)?;
    let meta = merged.meta();
    let scenario = meta.scenario()?;
    std::fs::create_dir_all(&args.out).map_err(|source| Error::Write {
        path: args.out.clone(),
        source,
    })?;
    // Every part is decoded before the folder is claimed, so a bad part
    // fails before `--force` deletes anything; and the parts being merged
    // are kept even when they sit in the output folder.
    let world = World::compile(&scenario);
    let acc = merged.fold(montecarlo::accumulator(&world))?;
    let summary = crate::summarise(&scenario, &world, &acc, meta.seed, meta.slo);
    let timeline = merged.timeline(&world)?;
    let inputs: Vec<PathBuf> = merged.parts.iter().map(|(p, _)| p.clone()).collect();
    let mut guard = output_guard::claim(
        &args.out,
        &Owner {
            command: Command::Run,
            scenario: meta.identity.clone(),
        },
        args.force,
        &inputs,
    )?;

    let mut staged = guard.staging();
    let csv_path = args.out.join("trials.csv");
    let csv_file = staged.create("trials.csv")?;
    let werr = |source| Error::Write {
        path: csv_path.clone(),
        source,
    };
    let mut w = BufWriter::new(csv_file.handle()?);
    merged.write_csv(&mut w, &csv_path)?;
    w.flush().map_err(werr)?;
    drop(w);
    let metrics_path = args.out.join("metrics.csv");
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
    let overrides = report::document::Overrides::set(meta.overrides.iter().map(|(p, v)| (p.as_str(), v.as_str())));
    let json = report::json(&summary, &overrides);
    let mut written = vec![staged.write(SUMMARY, json.as_bytes())?, csv_path, metrics_path];
    if let Some(text) = timeline.csv(&scenario) {
        written.push(staged.write("timeline.csv", text.as_bytes())?);
    }
    guard.publish(staged, SUMMARY)?;
    let text = match args.format {
        Format::Json => json,
        Format::Table => report::escape::terminal(&report::table::render(&summary, &scenario)).into_owned(),
    };
    report::print(&text)?;
    if !args.quiet {
        let written: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "wrote {} · {} trials from {} shards",
            written.join(", "),
            summary.trials,
            merged.parts.len()
        );
    }
    let _ = std::io::stderr().flush();
    Ok(())
}
