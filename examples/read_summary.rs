//! Reads a `summary.json` back into [`nines::Summary`] and prints a few
//! figures: what a program that post-processes runs does.
//!
//! `cargo run --release --example read_summary -- output/three-tier/summary.json`
//! (after `nines run scenarios/three-tier.toml --out output/three-tier`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: read_summary PATH/summary.json");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    // The header (`format`, `nines_version`, `overrides`) is not part of
    // the summary; serde skips it.
    let summary: nines::Summary = match serde_json::from_str(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {path} is not a nines summary: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "{} over {} trials: {:.2} nines",
        summary.scenario, summary.trials, summary.availability.nines
    );
    for (name, s) in &summary.services {
        println!("  {name:16} {:.6}", s.availability.mean);
    }
    let d = &summary.availability.downtime_per_year_s;
    let end = |x: Option<f64>| x.map_or("unbounded".to_string(), |v| format!("{v:.0}"));
    println!(
        "  downtime p90 {:.0} s/year (95 % {} to {})",
        d.p90,
        end(d.p90_ci95[0]),
        end(d.p90_ci95[1])
    );
    ExitCode::SUCCESS
}
