//! Running until the interval on nines is narrow enough (`--precision`).
//!
//! Trials run in fixed batches; after each batch the 95 % interval on nines
//! is measured and the run stops once its width is at most the target, or
//! when the trial cap is reached. The batch is the requested trial count
//! rounded up to whole chunks, so batch boundaries are chunk boundaries:
//! the fold simply continues ([`super::run_into`]) and a run that stops
//! after `T` trials has exactly the figures of a plain run of `T` trials.
//! Nothing depends on the thread count: the stopping rule only reads the
//! accumulator, which does not. Windowed request sampling's stationary
//! samples are kept across batches ([`super::run_into_sharing`]): each is
//! drawn once for the run, as in a plain run.

use crate::error::{Error, Result};
use crate::model::windowed::Samples;
use crate::model::{TrialResult, World};
use crate::stats::Summary;
use crate::stats::summary::Precision;
use crate::{RunOptions, Scenario, summarise};

/// What to aim for.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Widest acceptable 95 % interval on nines, e.g. 0.05.
    pub width: f64,
    /// Trial cap.
    pub max_trials: u64,
}

impl Target {
    /// A checked target.
    ///
    /// # Errors
    /// [`Error::Usage`] for a width that is not a positive number or a zero cap.
    pub fn new(width: f64, max_trials: u64) -> Result<Self> {
        if !(width.is_finite() && width > 0.0) {
            return Err(Error::Usage(format!(
                "--precision is the widest 95 % interval on nines to accept, a positive number such as 0.05; found {width}"
            )));
        }
        if max_trials == 0 {
            return Err(Error::Usage("--max-trials must be at least 1".into()));
        }
        Ok(Self { width, max_trials })
    }
}

/// The width of the 95 % interval on nines; `None` while it is unbounded.
pub fn nines_width(s: &Summary) -> Option<f64> {
    match (s.availability.nines_is_bound, s.availability.nines_ci95) {
        (false, [Some(lo), Some(hi)]) => Some(hi - lo),
        _ => None,
    }
}

/// Runs `scenario` in batches of `options.trials` (rounded up to whole
/// chunks; default the scenario's `trials`) until `target` is met or its cap
/// is reached; `on_trial` sees every trial in index order.
///
/// # Errors
/// As [`crate::simulate`].
pub fn simulate(
    scenario: &Scenario,
    options: &RunOptions,
    target: Target,
    on_trial: impl FnMut(u64, &TrialResult) -> Result<()>,
) -> Result<Summary> {
    simulate_or_stop(scenario, options, target, on_trial, |_| false)
}

/// [`simulate`], also stopping after a batch whose summary `stop` accepts
/// (the splitting estimator takes over from there).
///
/// # Errors
/// As [`crate::simulate`].
pub fn simulate_or_stop(
    scenario: &Scenario,
    options: &RunOptions,
    target: Target,
    on_trial: impl FnMut(u64, &TrialResult) -> Result<()>,
    stop: impl Fn(&Summary) -> bool,
) -> Result<Summary> {
    simulate_sharing(scenario, options, target, &Samples::default(), on_trial, stop)
}

/// [`simulate_or_stop`] with windowed sampling's stationary samples kept in
/// `samples` (which counts what it drew: [`Samples::drawn`]).
///
/// # Errors
/// As [`crate::simulate`].
pub fn simulate_sharing(
    scenario: &Scenario,
    options: &RunOptions,
    target: Target,
    samples: &Samples,
    mut on_trial: impl FnMut(u64, &TrialResult) -> Result<()>,
    stop: impl Fn(&Summary) -> bool,
) -> Result<Summary> {
    let world = World::compile(scenario);
    let seed = options.seed.unwrap_or(scenario.seed);
    let chunk = super::chunk_size(&world);
    let asked = options.trials.unwrap_or(scenario.trials).max(1);
    let batch = asked.div_ceil(chunk) * chunk;
    let mut acc = super::accumulator(&world);
    loop {
        let done = acc.trials();
        let end = (done + batch).min(target.max_trials);
        super::run_into_sharing(
            &mut acc,
            &world,
            samples,
            seed,
            done..end,
            options.threads,
            &options.progress,
            &mut on_trial,
        )?;
        let mut summary = summarise(scenario, &world, &acc, seed, options.slo);
        let achieved = nines_width(&summary);
        let reached = achieved.is_some_and(|w| w <= target.width);
        let interrupted = acc.trials() < end;
        if reached || interrupted || acc.trials() >= target.max_trials || stop(&summary) {
            summary.partial = interrupted;
            summary.precision = Some(Precision {
                target: target.width,
                achieved,
                reached,
                batch,
                max_trials: target.max_trials,
            });
            return Ok(summary);
        }
    }
}
