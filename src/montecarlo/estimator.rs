//! Which estimator puts the entry's availability in the summary: crude
//! trials always run first (every figure besides the headline, and what
//! `auto` decides on); then, with `--estimator splitting` or
//! `regenerative`, or when `auto` finds too few outages, a rare-event
//! estimate of the entry's unavailability takes the headline's place.
//!
//! This module owns the choice and the substitution; [`splitting`] and
//! [`regenerative`] own their estimators and know nothing of each other
//! beyond the [`Goal`] they are given. Invariant: `auto` chooses only
//! between crude trials and splitting (the contract names those two as
//! `estimator`'s values unless another was asked for).

use super::{precision, regenerative, splitting};
use crate::engine::time;
use crate::error::{Error, Result};
use crate::model::World;
use splitting::{Goal, secs};

/// Crude trials that saw downtime below which `auto` turns to splitting:
/// fewer make the crude interval rest on a handful of outages (or give only
/// a bound).
pub const AUTO_MIN_TRIALS_WITH_DOWNTIME: u64 = 30;

/// Whether `auto` turns to splitting after crude trials: outages must be
/// both too few for the crude interval and rare, at most one trial in two
/// seeing one. When most trials see downtime the shortage is of trials,
/// not of outages (a user who asked for 3 trials of a design that fails in
/// each), and more crude trials, not splitting, is the remedy.
fn auto_splits(trials: u64, seen: u64) -> bool {
    seen < AUTO_MIN_TRIALS_WITH_DOWNTIME && seen.saturating_mul(2) <= trials
}
/// Replications cap when nothing else is asked.
pub const MAX_REPLICATIONS: u64 = 4000;
/// Relative error aimed at without `--precision`.
pub const DEFAULT_RELATIVE_ERROR: f64 = 0.1;

/// The relative error that makes the 95 % interval on nines `width` wide:
/// `log10((1 + e) / (1 - e)) = width`.
pub fn relative_error_for(width: f64) -> f64 {
    let x = 10f64.powf(width);
    (x - 1.0) / (x + 1.0)
}

/// Runs `scenario` with `estimator`: crude trials first (the figures
/// besides the entry's availability, and what `auto` decides on), then,
/// with `splitting` or when `auto` finds too few outages, the splitting
/// estimate of the entry's availability in their place. With `target`
/// (`--precision`), crude runs batches to it, and splitting runs
/// replications to the relative error that makes the nines interval that
/// narrow.
///
/// # Errors
/// [`Error::Usage`] when splitting is asked for a scenario it cannot run
/// (saying why); as [`crate::simulate`].
pub fn simulate(
    scenario: &crate::Scenario,
    options: &crate::RunOptions,
    target: Option<precision::Target>,
    estimator: crate::scenario::Estimator,
    mut on_trial: impl FnMut(u64, &crate::model::TrialResult) -> Result<()>,
) -> Result<crate::Summary> {
    use crate::scenario::Estimator;
    let world = World::compile(scenario);
    let why_not = match estimator {
        Estimator::Regenerative => regenerative::unsupported(&world),
        _ => splitting::unsupported(&world),
    };
    let asked = matches!(estimator, Estimator::Splitting | Estimator::Regenerative);
    if asked && let Some(why) = &why_not {
        return Err(Error::Usage(format!(
            "--estimator {} cannot run \"{}\": {why}; use --estimator crude",
            estimator.word(),
            scenario.name
        )));
    }
    let splitting_possible = why_not.is_none() && estimator != Estimator::Crude;
    let mut summary = match target {
        Some(t) => {
            let switch = |s: &crate::Summary| {
                splitting_possible && (asked || auto_splits(s.trials, s.availability.trials_with_downtime))
            };
            precision::simulate_or_stop(scenario, options, t, &mut on_trial, switch)?
        }
        None => crate::simulate(scenario, options, &mut on_trial)?,
    };
    if summary.partial || !splitting_possible {
        return Ok(summary);
    }
    let seen = summary.availability.trials_with_downtime;
    let reason = match estimator {
        Estimator::Splitting => "asked for (--estimator splitting)".to_string(),
        Estimator::Regenerative => "asked for (--estimator regenerative)".to_string(),
        _ if auto_splits(summary.trials, seen) => format!(
            "auto: {seen} of {} crude trials saw downtime, fewer than {AUTO_MIN_TRIALS_WITH_DOWNTIME}",
            summary.trials
        ),
        _ => return Ok(summary),
    };
    let relative_error = target.map_or(DEFAULT_RELATIVE_ERROR, |t| relative_error_for(t.width));
    let seed = options.seed.unwrap_or(scenario.seed);
    // Regenerative simulation runs only when asked for: the contract names
    // crude trials and splitting as what `auto` chooses between, and a
    // reader of `summary.json` may rely on `estimator` being one of those
    // two unless they asked otherwise.
    let regenerative = estimator == Estimator::Regenerative;
    if regenerative {
        let goal = Goal {
            relative_error,
            max_replications: regenerative::MAX_CYCLES,
        };
        let est = match regenerative::estimate(&world, seed, options.threads, goal) {
            Ok(est) => est,
            Err(Error::Interrupted { .. }) => {
                summary.partial = true;
                return Ok(summary);
            }
            Err(e) => return Err(e),
        };
        apply_regenerative(&mut summary, &est, reason, target);
        summary.partial = est.partial;
        return Ok(summary);
    }
    let goal = Goal {
        relative_error,
        max_replications: MAX_REPLICATIONS,
    };
    let est = match splitting::estimate(&world, seed, options.threads, goal) {
        Ok(est) => est,
        // Ctrl-C before two replications ended: the crude figures are
        // what was done.
        Err(Error::Interrupted { .. }) => {
            summary.partial = true;
            return Ok(summary);
        }
        Err(e) => return Err(e),
    };
    apply_splitting(&mut summary, &est, reason, target);
    summary.partial = est.partial;
    Ok(summary)
}

/// Puts a rare-event estimate of the entry's unavailability (its mean, 95 %
/// interval and relative error) in place of the crude availability, naming
/// `estimator` in the summary; the estimator's own section is set by the
/// caller.
fn put_headline(
    summary: &mut crate::Summary,
    unavailability: f64,
    interval: [f64; 2],
    relative_error: f64,
    estimator: &str,
    target: Option<precision::Target>,
) {
    use crate::stats::interval::nines;
    let a = &mut summary.availability;
    let mean = 1.0 - unavailability;
    let ci95 = [1.0 - interval[1], 1.0 - interval[0]];
    a.mean = mean;
    a.ci95 = ci95;
    a.nines = nines(mean).unwrap_or(0.0);
    a.nines_ci95 = [Some(nines(ci95[0]).unwrap_or(0.0)), nines(ci95[1])];
    a.nines_is_bound = false;
    a.relative_error = relative_error.is_finite().then_some(relative_error);
    a.downtime_per_year_s.mean = unavailability * time::to_secs(time::YEAR);
    summary.estimator = estimator.to_string();
    // The entry's row in the services table is the headline itself.
    let entry = summary.entry.clone();
    if let Some(row) = summary.services.get_mut(&entry) {
        row.availability.mean = mean;
        row.availability.ci95 = ci95;
    }
    let width = match a.nines_ci95 {
        [Some(lo), Some(hi)] => Some(hi - lo),
        _ => None,
    };
    if let (Some(p), Some(t)) = (summary.precision.as_mut(), target) {
        p.achieved = width;
        p.reached = width.is_some_and(|w| w <= t.width);
    }
}

/// Puts the splitting estimate in place of the crude availability.
fn apply_splitting(
    summary: &mut crate::Summary,
    est: &splitting::Estimate,
    reason: String,
    target: Option<precision::Target>,
) {
    put_headline(
        summary,
        est.unavailability,
        est.ci95,
        est.relative_error,
        "splitting",
        target,
    );
    summary.splitting = Some(crate::stats::summary::Splitting {
        reason,
        replications: est.replications,
        levels: est.plan.top(),
        factors: est.plan.factors[1..].to_vec(),
        pilots: est.plan.pilots,
        warmup_s: secs(est.plan.warmup),
        window_s: secs(est.plan.window),
        events: est.events,
        copies: est.copies,
    });
}

/// Puts the regenerative estimate in place of the crude availability.
fn apply_regenerative(
    summary: &mut crate::Summary,
    est: &regenerative::Estimate,
    reason: String,
    target: Option<precision::Target>,
) {
    put_headline(
        summary,
        est.unavailability,
        est.ci95,
        est.relative_error,
        "regenerative",
        target,
    );
    summary.regenerative = Some(crate::stats::summary::Regenerative {
        reason,
        cycles: est.cycles,
        outage_cycles: est.outage_cycles,
        events: est.steps,
        mean_cycle_s: est.mean_cycle_s,
        bias: regenerative::BIAS,
    });
}
