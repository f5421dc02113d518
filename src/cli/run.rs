//! `nines run FILE`: simulate, write `summary.json` and `trials.csv`,
//! print the table (or exactly the JSON).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use super::{Format, RunArgs};
use crate::error::{Error, Result};
use crate::montecarlo::Progress;
use crate::report::{self, csv::TrialWriter};
use crate::{RunOptions, scenario, simulate};

/// Runs `nines run`.
///
/// # Errors
/// Bad input (exit 2) or an output that cannot be written (exit 1).
pub fn run(args: &RunArgs) -> Result<()> {
    let scenario = scenario::load(&args.file, &args.set)?;
    if args.threads == Some(0) {
        return Err(Error::Usage("--threads must be at least 1".into()));
    }
    if args.trials == Some(0) {
        return Err(Error::Usage("--trials must be at least 1".into()));
    }
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .file
            .file_stem()
            .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from("output").join(stem)
    });
    std::fs::create_dir_all(&out).map_err(|source| Error::Write {
        path: out.clone(),
        source,
    })?;
    let trials = args.trials.unwrap_or(scenario.trials);
    let show = !args.quiet && std::io::stderr().is_terminal();
    let options = RunOptions {
        trials: Some(trials),
        seed: args.seed,
        threads: args.threads,
        progress: Progress::new(trials, show),
    };
    let mut rows = TrialWriter::create(&out.join("trials.csv"), &scenario)?;
    let started = std::time::Instant::now();
    let summary = simulate(&scenario, &options, |i, r| rows.write(i, r))?;
    let elapsed = started.elapsed().as_secs_f64();
    rows.finish()?;
    let json = report::json(&summary);
    let summary_path = out.join("summary.json");
    std::fs::write(&summary_path, &json).map_err(|source| Error::Write {
        path: summary_path.clone(),
        source,
    })?;
    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();
    let text = match args.format {
        Format::Json => json,
        Format::Table => report::table::render(&summary, &scenario),
    };
    stdout.write_all(text.as_bytes()).map_err(|source| Error::Write {
        path: PathBuf::from("<stdout>"),
        source,
    })?;
    if !args.quiet {
        eprintln!(
            "wrote {} and trials.csv · {} trials in {:.2} s ({:.0} trials/s, {:.1} M events/s)",
            summary_path.display(),
            summary.trials,
            elapsed,
            summary.trials as f64 / elapsed.max(1e-9),
            summary.events as f64 / elapsed.max(1e-9) / 1e6
        );
    }
    Ok(())
}
