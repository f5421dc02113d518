//! What deploys and maintenance windows did, across trials: the entry's
//! planned downtime (while a window was open) apart from the rest, the
//! availability with planned downtime left out (what
//! `slo.exclude_planned` judges), and per deploy its rolls, bad
//! releases, how each was caught and the downtime while rolls were under
//! way.
//!
//! Totals are sums and Welford accumulators merged in trial order, so the
//! figures are the same on any thread count.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::estimate::Estimate;
use super::interval::{availability_at_least, availability_ci95, mean_ci95, nines, zero_event_bound};
use super::{Quantiles, Skewed, Welford};
use crate::model::result::OpsResult;

/// One deploy's totals.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct DeployTotals {
    rolls: u64,
    skipped: u64,
    bad: u64,
    caught_by_canary: u64,
    caught_by_alert: u64,
    bad_s: f64,
    /// Per trial: entry downtime while rolls were under way, per year.
    downtime_year: Welford,
}

/// The operations' totals across trials.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OpsTotals {
    /// Per trial: availability with planned downtime left out.
    unplanned: Skewed,
    planned_year: Welford,
    unplanned_year: Welford,
    unplanned_year_q: Quantiles,
    with_unplanned: u64,
    deploys: Vec<DeployTotals>,
}

impl OpsTotals {
    /// Adds one trial: its operations' figures, its entry downtime
    /// (seconds), the horizon (seconds) and the trials per year.
    pub fn push(&mut self, r: &OpsResult, downtime: f64, horizon_s: f64, per_year: f64) {
        let unplanned = (downtime - r.planned_downtime_s).max(0.0);
        self.unplanned.push(1.0 - unplanned / horizon_s);
        self.planned_year.push(r.planned_downtime_s * per_year);
        self.unplanned_year.push(unplanned * per_year);
        self.unplanned_year_q.record(unplanned * per_year);
        self.with_unplanned += u64::from(unplanned > 0.0);
        self.deploys
            .resize(r.deploys.len().max(self.deploys.len()), DeployTotals::default());
        for (t, d) in self.deploys.iter_mut().zip(&r.deploys) {
            t.rolls += u64::from(d.rolls);
            t.skipped += u64::from(d.skipped);
            t.bad += u64::from(d.bad);
            t.caught_by_canary += u64::from(d.caught_by_canary);
            t.caught_by_alert += u64::from(d.caught_by_alert);
            t.bad_s += d.bad_s;
            t.downtime_year.push(d.downtime_s * per_year);
        }
    }

    /// Absorbs the totals of later trials.
    pub fn merge(&mut self, o: &Self) {
        self.unplanned.merge(&o.unplanned);
        self.planned_year.merge(&o.planned_year);
        self.unplanned_year.merge(&o.unplanned_year);
        self.unplanned_year_q.merge(&o.unplanned_year_q);
        self.with_unplanned += o.with_unplanned;
        self.deploys
            .resize(o.deploys.len().max(self.deploys.len()), DeployTotals::default());
        for (a, b) in self.deploys.iter_mut().zip(&o.deploys) {
            a.rolls += b.rolls;
            a.skipped += b.skipped;
            a.bad += b.bad;
            a.caught_by_canary += b.caught_by_canary;
            a.caught_by_alert += b.caught_by_alert;
            a.bad_s += b.bad_s;
            a.downtime_year.merge(&b.downtime_year);
        }
    }

    /// The entry's availability with planned downtime left out, with its
    /// 95 % interval (the zero-event bound when no trial had any).
    fn unplanned_availability(&self) -> (f64, [f64; 2]) {
        if self.with_unplanned == 0 {
            (1.0, [1.0 - zero_event_bound(self.unplanned.count()), 1.0])
        } else {
            (self.unplanned.mean().min(1.0), availability_ci95(&self.unplanned))
        }
    }

    /// The verdict on `target` of the time-based availability with planned
    /// downtime left out; `budget_per_year_s` is the objective's error
    /// budget a year.
    pub fn unplanned_verdict(&self, target: f64, budget_per_year_s: f64) -> UnplannedVerdict {
        let (mean, ci) = self.unplanned_availability();
        let w = self.unplanned.welford();
        let confidence = if self.with_unplanned == 0 {
            if ci[0] >= target { 0.975 } else { 0.5 }
        } else if w.std_error() > 0.0 && w.count() > 1 {
            availability_at_least(&self.unplanned, target)
        } else if mean >= target {
            1.0
        } else {
            0.0
        };
        UnplannedVerdict {
            confidence,
            meets: ci[0] >= target,
            expected_downtime_per_year_s: self.unplanned_year.mean(),
            years_within_budget: if self.with_unplanned == 0 {
                1.0
            } else {
                self.unplanned_year_q.fraction_at_or_below(budget_per_year_s)
            },
        }
    }

    /// The summary; `deploys` names each deploy (its service).
    pub fn summarize(&self, deploys: &[&str]) -> OpsSummary {
        let (mean, ci95) = self.unplanned_availability();
        let n = self.unplanned.count();
        OpsSummary {
            planned_downtime_per_year_s: per_year(&self.planned_year),
            unplanned_downtime_per_year_s: per_year(&self.unplanned_year),
            unplanned_availability: Estimate { mean, ci95 },
            unplanned_nines: nines(mean),
            deploys: deploys
                .iter()
                .zip(&self.deploys)
                .map(|(name, t)| {
                    (
                        (*name).to_string(),
                        DeploySummary {
                            rolls_per_trial: if n == 0 { 0.0 } else { t.rolls as f64 / n as f64 },
                            rolls: t.rolls,
                            skipped: t.skipped,
                            bad: t.bad,
                            caught_by_canary: t.caught_by_canary,
                            caught_by_alert: t.caught_by_alert,
                            bad_release_serving_s: (t.bad > 0).then(|| t.bad_s / t.bad as f64),
                            downtime_per_year_s: per_year(&t.downtime_year),
                        },
                    )
                })
                .collect(),
        }
    }
}

fn per_year(w: &Welford) -> Estimate {
    Estimate {
        mean: w.mean(),
        ci95: mean_ci95(w, 0.0, f64::MAX),
    }
}

/// `summary.json`'s `operations`: planned and unplanned downtime, and
/// what each deploy did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OpsSummary {
    /// Entry downtime a year while a maintenance window was open.
    pub planned_downtime_per_year_s: Estimate,
    /// The rest of the entry's downtime a year (deploys included).
    pub unplanned_downtime_per_year_s: Estimate,
    /// Entry availability with planned downtime left out.
    pub unplanned_availability: Estimate,
    /// Its nines (`null` when no trial had unplanned downtime).
    pub unplanned_nines: Option<f64>,
    /// Per deploy, by service name (omitted without deploys).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub deploys: IndexMap<String, DeploySummary>,
}

/// What one deploy did across trials.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeploySummary {
    /// Rolls started, all trials.
    pub rolls: u64,
    /// Rolls per trial.
    pub rolls_per_trial: f64,
    /// Deploys skipped because the previous roll was under way.
    pub skipped: u64,
    /// Rolls of a bad release.
    pub bad: u64,
    /// Bad releases caught by the canary's analysis.
    pub caught_by_canary: u64,
    /// Bad releases caught by alerting.
    pub caught_by_alert: u64,
    /// Mean time a bad release served, from the first replica up on it
    /// to its catch (or the horizon), seconds; `null` without a bad one.
    pub bad_release_serving_s: Option<f64>,
    /// Entry downtime a year while rolls (and rollbacks) were under way.
    pub downtime_per_year_s: Estimate,
}

/// The SLO verdict without planned downtime ([`OpsTotals::unplanned_verdict`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnplannedVerdict {
    /// Confidence that the unplanned availability meets the objective.
    pub confidence: f64,
    /// The interval's low end meets it.
    pub meets: bool,
    /// Unplanned downtime a year, mean.
    pub expected_downtime_per_year_s: f64,
    /// Share of trials whose unplanned downtime a year stays in the budget.
    pub years_within_budget: f64,
}
