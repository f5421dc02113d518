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
//!   from `(seed, trial index)` ([`random`]), events due at the same time
//!   are handled in scheduling order ([`engine::queue`]), and trials are
//!   merged in index order ([`montecarlo`]).
//! - **Honest intervals.** Intervals come from independent trials; a run
//!   with no downtime reports a bound, never infinite nines ([`stats`]).
//! - **Clear errors.** Invalid input is an [`Error`] naming the file, line,
//!   column and key ([`scenario`]); the library never panics on input.

#![warn(missing_docs)]

pub mod distribution;
pub mod engine;
pub mod error;
pub mod format;
pub mod model;
pub mod montecarlo;
pub mod random;
pub mod report;
pub mod resilience;
pub mod scenario;
pub mod stats;
pub mod sweep;

pub use error::{Error, Result};
pub use scenario::{Scenario, load};
pub use stats::Summary;

use model::{TrialResult, World, analytic};
use montecarlo::Progress;
use stats::summary::Labels;

/// How to run a scenario.
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
        analytic: analytic::availability(scenario, world, scenario.entry).ok(),
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
    };
    Summary::new(acc, &labels)
}
