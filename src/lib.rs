//! # nines
//!
//! A deterministic discrete-event simulator of a deployed system's
//! availability. A scenario file describes regions, services and their
//! replicas, how they fail and are repaired, and how traffic reaches them;
//! nines runs many independent Monte Carlo trials of it in parallel and
//! reports the entry point's availability in nines with a 95 % interval,
//! the downtime distribution, and where the downtime comes from.
//!
//! ```
//! let text = r#"
//!     horizon = "1y"
//!     trials = 200
//!     [[service]]
//!     name = "api"
//!     topology = "active-active"
//!     replicas = 2
//!     failure = { mean = "100h" }
//!     repair = { mean = "10h" }
//! "#;
//! let scenario = nines::scenario::parse("inline.toml", "inline", text, &[]).unwrap();
//! let summary = nines::simulate(&scenario, &nines::RunOptions::default(), |_, _| Ok(())).unwrap();
//! // Two replicas, each up 100/110 of the time: 1 - (1/11)^2 = 0.99174.
//! let [lo, hi] = summary.availability.ci95;
//! assert!(lo < 0.99174 && 0.99174 < hi);
//! ```
//!
//! ## Guarantees
//! - **Determinism.** The same scenario and seed give identical results on
//!   any number of threads: every trial draws only from streams derived
//!   from `(seed, trial index)` (`random`), events due at the same time
//!   are handled in scheduling order (`engine::queue`), and trials are
//!   merged in index order (`montecarlo`).
//! - **Honest intervals.** Intervals come from independent trials; a run
//!   with no downtime reports a bound, never infinite nines ([`stats`]).
//! - **Clear errors.** Invalid input is an [`Error`] naming the file, line,
//!   column and key ([`scenario`]); the library never panics on input.

//!
//! ## The public API
//! - [`scenario::parse`] (text) and [`load()`] (a file) give a validated
//!   [`Scenario`]; `--set` overrides are [`scenario::Override`]s.
//! - [`simulate`] runs it under [`RunOptions`] and returns a [`Summary`],
//!   which serialises to `summary.json` ([`report::json`]) and reads back
//!   from it (`serde_json::from_str::<Summary>`; its schema is
//!   [`report::schema`]).
//! - Every failure is an [`Error`]; [`Error::exit_code`] maps it to the
//!   command line's exit codes.
//!
//! `examples/` runs a scenario from a string, sweeps a parameter in code
//! and reads a summary back. Modules hidden from these docs (the engine,
//! the model, the Monte Carlo driver, the policies) are the binary's and
//! the tests' and carry no stability promise.
//!
//! ## Features
//! `cli` (the command line: clap, the progress bar, Ctrl-C, completions,
//! man page; brings `plot`) and `plot` (PNG and SVG figures) are on by
//! default. With `default-features = false` the library simulates and
//! summarises and draws nothing, at about half the build.

#![warn(missing_docs)]

#[doc(hidden)]
pub mod distribution;
#[doc(hidden)]
pub mod engine;
pub mod error;
#[doc(hidden)]
pub mod format;
pub mod improve;
#[doc(hidden)]
pub mod model;
#[doc(hidden)]
pub mod montecarlo;
#[doc(hidden)]
pub mod random;
pub mod report;
#[doc(hidden)]
pub mod resilience;
pub mod scenario;
pub mod stats;
#[doc(hidden)]
pub mod sweep;

pub use error::{Error, Result};
pub use montecarlo::Progress;
pub use scenario::{Scenario, load};
pub use stats::Summary;

use model::{TrialResult, World, analytic};
use stats::summary::Labels;

/// How to run a scenario: every field `None` (or hidden progress) by
/// default, which runs the scenario's own trials and seed on every core.
pub struct RunOptions {
    /// Trials to run; `None` uses the scenario's.
    pub trials: Option<u64>,
    /// Master seed; `None` uses the scenario's.
    pub seed: Option<u64>,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
    /// Progress reporting.
    pub progress: Progress,
    /// Availability objective; `None` uses the scenario's `slo`.
    pub slo: Option<f64>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            trials: None,
            seed: None,
            threads: None,
            progress: Progress::hidden(),
            slo: None,
        }
    }
}

/// Runs `scenario` and summarises it; `on_trial` sees each trial's result
/// in index order (to write `trials.csv`, say).
///
/// # Errors
/// [`Error::Usage`] for an impossible option; whatever `on_trial` returns.
pub fn simulate(
    scenario: &Scenario,
    options: &RunOptions,
    on_trial: impl FnMut(u64, &TrialResult) -> Result<()>,
) -> Result<Summary> {
    let trials = options.trials.unwrap_or(scenario.trials);
    let seed = options.seed.unwrap_or(scenario.seed);
    if trials == 0 {
        return Err(Error::Usage("--trials must be at least 1".into()));
    }
    let world = World::compile(scenario);
    let acc = montecarlo::run(&world, seed, 0..trials, options.threads, &options.progress, on_trial)?;
    let mut summary = summarise(scenario, &world, &acc, seed, options.slo);
    summary.partial = acc.trials() < trials;
    Ok(summary)
}

#[doc(hidden)]
/// The summary of the trials in `acc`, labelled from `scenario`; `slo`
/// overrides the scenario's objective. Every way of running (whole, to a
/// precision, merged from shards) ends here, so their outputs agree.
pub fn summarise(scenario: &Scenario, world: &World, acc: &stats::Accumulator, seed: u64, slo: Option<f64>) -> Summary {
    let labels = Labels {
        scenario: &scenario.name,
        seed,
        entry: &scenario.services[scenario.entry].name,
        services: scenario.services.iter().map(|s| s.name.as_str()).collect(),
        regions: scenario.regions.iter().map(|r| r.name.as_str()).collect(),
        // Planned operations are no part of the closed form.
        analytic: analytic::availability(scenario, world, scenario.entry)
            .ok()
            .filter(|_| world.ops.is_empty()),
        edges: world.edges.iter().map(|e| e.name.clone()).collect(),
        slo: slo.or(scenario.slo),
        objective: scenario.objective,
        faults: scenario
            .faults
            .iter()
            .map(|f| stats::faults::FaultLabel {
                name: &f.name,
                kind: f.kind.word(),
                target: &f.target_text,
            })
            .collect(),
        workflows: scenario
            .workflows
            .iter()
            .map(|w| (w.name.clone(), w.steps.iter().map(|s| s.name.clone()).collect()))
            .collect(),
        deploys: scenario
            .deploys
            .iter()
            .map(|d| scenario.services[d.service].name.as_str())
            .collect(),
        exclude_planned: scenario.exclude_planned,
    };
    let mut summary = Summary::new(acc, &labels);
    if let (Some(spec), Some(slo)) = (&scenario.slo_spec, acc.slo()) {
        summary.slo_windows = slo.windows_summary(spec);
        summary.alerts = slo.alerts_summary(spec, acc.trials());
        summary.window_budget_cdf = slo.budget_cdf();
    }
    if let (Some(mode), Some(requests)) = (world.request_sampling, summary.requests.as_mut()) {
        requests.sampling = Some(mode.word().to_string());
    }
    stats::summary::annotate_health(&mut summary, scenario, acc);
    stats::summary::annotate_autoscale(&mut summary, scenario, acc);
    stats::summary::annotate_load(&mut summary, scenario, acc);
    summary
}
