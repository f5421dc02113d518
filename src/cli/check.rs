//! `nines check FILE`: validate, then print what the scenario compiles to
//! ([`crate::report::describe`]); with `--format json`, a `check/1`
//! document ([`crate::report::document`]) of the same, for scripts.

use serde::Serialize;

use super::{CheckArgs, Format};
use crate::error::Result;
use crate::report::describe::describe;
use crate::report::{self, document};
use crate::scenario::Scenario;
use nines::engine::time::to_secs;

/// The own keys of `nines check --format json`.
#[derive(Serialize)]
struct CheckDoc<'a> {
    /// Always true: an invalid scenario exits 2 with its errors on stderr.
    valid: bool,
    scenario: &'a str,
    entry: &'a str,
    horizon_s: f64,
    trials: u64,
    seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    slo: Option<f64>,
    regions: Vec<&'a str>,
    services: Vec<&'a str>,
    workloads: Vec<&'a str>,
    workflows: Vec<&'a str>,
    faults: usize,
    /// What the table prints, line by line.
    description: Vec<String>,
}

fn doc<'a>(sc: &'a Scenario, description: &str) -> CheckDoc<'a> {
    CheckDoc {
        valid: true,
        scenario: &sc.name,
        entry: &sc.services[sc.entry].name,
        horizon_s: to_secs(sc.horizon),
        trials: sc.trials,
        seed: sc.seed,
        slo: sc.slo,
        regions: sc.regions.iter().map(|r| r.name.as_str()).collect(),
        services: sc.services.iter().map(|s| s.name.as_str()).collect(),
        workloads: sc.workloads.iter().map(|w| w.name.as_str()).collect(),
        workflows: sc.workflows.iter().map(|w| w.name.as_str()).collect(),
        faults: sc.faults.len(),
        description: description.lines().map(str::to_string).collect(),
    }
}

/// Runs `nines check`.
///
/// # Errors
/// Bad input (exit 2).
pub fn check(args: &CheckArgs) -> Result<()> {
    let scenario = super::conventions::load(&args.file, &args.set)?;
    let text = describe(&scenario);
    match args.format {
        // Names may hold control or right-to-left characters.
        Format::Table => report::print(&report::escape::terminal(&text)),
        Format::Json => report::print(&document::json(
            document::CHECK,
            &super::overrides(&args.set),
            &doc(&scenario, &text),
        )),
    }
}
