//! SLO windows and alert scores across trials: `summary.json` under
//! `slo_windows` and `alerts`.
//!
//! Trials are the independent units. A per-trial share or rate (windows
//! meeting the objective, mean budget per window, false alerts per month)
//! is averaged across trials with a Student t interval. A figure per
//! incident (detection time, budget before the alert, reset time, the
//! share missed) is a ratio of sums across trials (sum over incidents /
//! incidents), with the cluster (delta-method) interval of a ratio
//! estimator: incidents in one trial share its state, so they are not
//! counted as independent. Quantiles pool every window (or every detected
//! incident) of every trial in mergeable histograms. Everything merges in
//! trial order and serialises exactly, like the rest of the accumulator.

use hdrhistogram::Histogram;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::estimate::Estimate;
use super::histogram::Quantiles;
use super::interval::{mean_ci95, t95};
use super::welford::Welford;
use crate::model::slo::{AlertTrial, SloTrial};
use crate::scenario::alerts::SloSpec;

/// Seconds in the month false alerts are counted per (30 days).
pub const MONTH_S: f64 = 30.0 * 86_400.0;

/// A ratio of sums over trials, `sum x / sum n`, with what its interval
/// needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ratio {
    trials: u64,
    x: f64,
    n: f64,
    xx: f64,
    nn: f64,
    xn: f64,
}

impl Ratio {
    /// One trial's sum `x` over `n` units.
    pub fn push(&mut self, x: f64, n: f64) {
        self.trials += 1;
        self.x += x;
        self.n += n;
        self.xx += x * x;
        self.nn += n * n;
        self.xn += x * n;
    }

    /// Absorbs trials that come after ours.
    pub fn merge(&mut self, o: &Self) {
        self.trials += o.trials;
        self.x += o.x;
        self.n += o.n;
        self.xx += o.xx;
        self.nn += o.nn;
        self.xn += o.xn;
    }

    /// `sum x / sum n` with its 95 % interval clamped to `[lo, hi]`
    /// (`None` without units): `Var = sum (x_i - R n_i)^2 / (sum n)^2 *
    /// m / (m - 1)` over `m` trials, Student t with `m - 1` degrees of
    /// freedom; the whole range with fewer than two trials.
    pub fn estimate(&self, lo: f64, hi: f64) -> Option<Estimate> {
        if self.n <= 0.0 {
            return None;
        }
        let r = self.x / self.n;
        let m = self.trials;
        let ci95 = if m < 2 {
            [lo, hi]
        } else {
            let ss = (self.xx - 2.0 * r * self.xn + r * r * self.nn).max(0.0);
            let var = ss / (self.n * self.n) * m as f64 / (m - 1) as f64;
            let half = t95(m) * var.sqrt();
            [(r - half).max(lo), (r + half).min(hi)]
        };
        Some(Estimate {
            mean: r.clamp(lo, hi),
            ci95,
        })
    }
}

/// One rule (or every rule together) across trials.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AlertAcc {
    incidents: u64,
    detected: u64,
    alerts: u64,
    false_alerts: u64,
    unreset: u64,
    missed: Ratio,
    detection: Ratio,
    budget_before: Ratio,
    reset: Ratio,
    false_per_month: Welford,
    detection_q: Quantiles,
}

impl AlertAcc {
    fn push(&mut self, a: &AlertTrial, horizon_s: f64) {
        self.incidents += a.incidents;
        self.detected += a.detected;
        self.alerts += a.alerts;
        self.false_alerts += a.false_alerts;
        self.unreset += a.detected - a.resets;
        let detection_sum: f64 = a.detection_s.iter().sum();
        self.missed.push((a.incidents - a.detected) as f64, a.incidents as f64);
        self.detection.push(detection_sum, a.detected as f64);
        self.budget_before.push(a.budget_before, a.detected as f64);
        self.reset.push(a.reset_s, a.resets as f64);
        self.false_per_month.push(a.false_alerts as f64 * MONTH_S / horizon_s);
        for &d in &a.detection_s {
            self.detection_q.record(d);
        }
    }

    fn merge(&mut self, o: &Self) {
        self.incidents += o.incidents;
        self.detected += o.detected;
        self.alerts += o.alerts;
        self.false_alerts += o.false_alerts;
        self.unreset += o.unreset;
        self.missed.merge(&o.missed);
        self.detection.merge(&o.detection);
        self.budget_before.merge(&o.budget_before);
        self.reset.merge(&o.reset);
        self.false_per_month.merge(&o.false_per_month);
        self.detection_q.merge(&o.detection_q);
    }
}

/// SLO windows and alerts across trials, mergeable in trial order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SloAcc {
    horizon_s: f64,
    windows: u64,
    met: u64,
    meeting: Welford,
    budget_mean: Welford,
    #[serde(with = "super::histogram::exact")]
    budgets: Histogram<u64>,
    /// `(trial, availability, end of the window in seconds)`.
    worst: Option<(u64, f64, f64)>,
    alerts: Vec<AlertAcc>,
}

impl SloAcc {
    /// Empty, for trials of `horizon_s` seconds.
    pub fn new(horizon_s: f64) -> Self {
        Self {
            horizon_s,
            windows: 0,
            met: 0,
            meeting: Welford::default(),
            budget_mean: Welford::default(),
            budgets: Histogram::new(3).expect("3 significant digits is valid"),
            worst: None,
            alerts: Vec::new(),
        }
    }

    /// Adds trial `index`.
    pub fn push(&mut self, index: u64, t: &SloTrial) {
        self.windows += t.windows;
        self.met += t.met;
        if t.windows > 0 {
            self.meeting.push(t.met as f64 / t.windows as f64);
            self.budget_mean.push(t.budget_sum / t.windows as f64);
        }
        self.budgets.add(&t.budgets).expect("auto-resizing histograms merge");
        if let Some((a, end)) = t.worst
            && self.worst.is_none_or(|(_, w, _)| a < w)
        {
            self.worst = Some((index, a, end));
        }
        if self.alerts.is_empty() {
            self.alerts = vec![AlertAcc::default(); t.alerts.len()];
        }
        for (acc, a) in self.alerts.iter_mut().zip(&t.alerts) {
            acc.push(a, self.horizon_s);
        }
    }

    /// Absorbs trials that come after ours.
    pub fn merge(&mut self, o: &Self) {
        self.windows += o.windows;
        self.met += o.met;
        self.meeting.merge(&o.meeting);
        self.budget_mean.merge(&o.budget_mean);
        self.budgets.add(&o.budgets).expect("auto-resizing histograms merge");
        if let Some((i, a, end)) = o.worst
            && self.worst.is_none_or(|(_, w, _)| a < w)
        {
            self.worst = Some((i, a, end));
        }
        if self.alerts.is_empty() {
            self.alerts = o.alerts.clone();
        } else {
            for (a, b) in self.alerts.iter_mut().zip(&o.alerts) {
                a.merge(b);
            }
        }
    }
}

/// Budget consumed per window: mean with its interval, and percentiles.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Budget {
    /// Mean across trials of each trial's mean over its windows.
    pub mean: f64,
    /// 95 % interval of the mean.
    pub ci95: [f64; 2],
    /// Median window.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// The worst window of the run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorstWindow {
    /// Its request availability.
    pub availability: f64,
    /// Its budget consumed.
    pub budget_consumed: f64,
    /// The trial it was in.
    pub trial: u64,
    /// When it ended (seconds into the trial).
    pub end_s: f64,
}

/// `slo_windows` in `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WindowsSummary {
    /// The objective.
    pub target: f64,
    /// Window length (seconds).
    pub window_s: f64,
    /// `"rolling"` or `"calendar"`.
    pub kind: String,
    /// Width of the request series' buckets (seconds): rolling windows
    /// end at every bucket boundary.
    pub bucket_s: f64,
    /// Windows judged in all trials.
    pub windows: u64,
    /// Share of windows that met the objective (per trial, then across
    /// trials).
    pub meeting: Estimate,
    /// Error budget consumed per window (1 = all of it).
    pub budget_consumed: Budget,
    /// The window with the lowest availability; `null` without windows.
    pub worst: Option<WorstWindow>,
}

/// A mean, or a percentile pair, for one rule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Detection {
    /// Mean over detected incidents.
    pub mean: f64,
    /// 95 % interval.
    pub ci95: [f64; 2],
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
}

/// One rule's scores.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuleSummary {
    /// Burn rate threshold (`null` for every rule together).
    pub burn_rate: Option<f64>,
    /// Long window (seconds).
    pub long_window_s: Option<f64>,
    /// Short window (seconds).
    pub short_window_s: Option<f64>,
    /// `severity` as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Incidents in all trials.
    pub incidents: u64,
    /// Those detected.
    pub detected: u64,
    /// Share of incidents missed; `null` without incidents.
    pub missed: Option<Estimate>,
    /// Detection time (seconds); `null` when none was detected.
    pub detection_s: Option<Detection>,
    /// Budget of one SLO window spent before the alert fired.
    pub budget_before_alert: Option<Estimate>,
    /// Reset time (seconds) after the incident's end.
    pub reset_s: Option<Estimate>,
    /// Detected incidents whose alert still fired at the horizon (no
    /// reset time).
    pub unreset: u64,
    /// Alerts in all trials.
    pub alerts: u64,
    /// Alerts with no incident, in all trials.
    pub false_alerts: u64,
    /// False alerts per 30 days.
    pub false_alerts_per_month: Estimate,
}

/// `alerts` in `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AlertsSummary {
    /// Budget share of one SLO window an incident spends at least.
    pub incident_budget: f64,
    /// Incidents per trial.
    pub incidents_per_trial: f64,
    /// Per rule, in file order.
    pub rules: IndexMap<String, RuleSummary>,
    /// Every rule together (an incident is detected by the first to fire);
    /// present with two rules or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any: Option<RuleSummary>,
}

fn budget_q(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        return 0.0;
    }
    h.median_equivalent(h.value_at_quantile(q)) as f64 / 1e6
}

impl SloAcc {
    /// Budget consumed per window as a CDF `(budget, share at or below)`.
    pub fn budget_cdf(&self) -> Vec<(f64, f64)> {
        super::histogram::cdf_of(&self.budgets, 1e-6)
    }

    /// `slo_windows`, when the scenario sets `slo.window`.
    pub fn windows_summary(&self, spec: &SloSpec) -> Option<WindowsSummary> {
        let w = spec.window?;
        let e = 1.0 - spec.target;
        Some(WindowsSummary {
            target: spec.target,
            window_s: w.length as f64 / 1e9,
            kind: w.kind().to_string(),
            bucket_s: spec.bucket as f64 / 1e9,
            windows: self.windows,
            meeting: Estimate::of(&self.meeting),
            budget_consumed: Budget {
                mean: self.budget_mean.mean(),
                ci95: mean_ci95(&self.budget_mean, 0.0, f64::INFINITY),
                p50: budget_q(&self.budgets, 0.5),
                p90: budget_q(&self.budgets, 0.9),
                p99: budget_q(&self.budgets, 0.99),
            },
            worst: self.worst.map(|(trial, a, end_s)| WorstWindow {
                availability: a,
                budget_consumed: (1.0 - a) / e,
                trial,
                end_s,
            }),
        })
    }

    /// `alerts`, when the scenario has `[[alert]]` rules.
    pub fn alerts_summary(&self, spec: &SloSpec, trials: u64) -> Option<AlertsSummary> {
        if spec.alerts.is_empty() {
            return None;
        }
        let rule = |acc: &AlertAcc, r: Option<&crate::scenario::alerts::AlertRule>| RuleSummary {
            burn_rate: r.map(|r| r.burn_rate),
            long_window_s: r.map(|r| r.long as f64 / 1e9),
            short_window_s: r.map(|r| r.short as f64 / 1e9),
            severity: r.and_then(|r| r.severity.clone()),
            incidents: acc.incidents,
            detected: acc.detected,
            missed: acc.missed.estimate(0.0, 1.0),
            detection_s: acc.detection.estimate(0.0, f64::INFINITY).map(|e| Detection {
                mean: e.mean,
                ci95: e.ci95,
                p50: acc.detection_q.quantile(0.5),
                p90: acc.detection_q.quantile(0.9),
            }),
            budget_before_alert: acc.budget_before.estimate(0.0, f64::INFINITY),
            reset_s: acc.reset.estimate(0.0, f64::INFINITY),
            unreset: acc.unreset,
            alerts: acc.alerts,
            false_alerts: acc.false_alerts,
            false_alerts_per_month: Estimate {
                mean: acc.false_per_month.mean(),
                ci95: mean_ci95(&acc.false_per_month, 0.0, f64::INFINITY),
            },
        };
        let empty = AlertAcc::default();
        let rules = spec
            .alerts
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.clone(), rule(self.alerts.get(i).unwrap_or(&empty), Some(r))))
            .collect();
        let any = (spec.alerts.len() > 1).then(|| rule(self.alerts.get(spec.alerts.len()).unwrap_or(&empty), None));
        let incidents = self.alerts.first().map_or(0, |a| a.incidents);
        Some(AlertsSummary {
            incident_budget: spec.incident_budget(),
            incidents_per_trial: if trials > 0 {
                incidents as f64 / trials as f64
            } else {
                0.0
            },
            rules,
            any,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_of_sums_and_its_interval() {
        let mut r = Ratio::default();
        for (x, n) in [(10.0, 2.0), (30.0, 4.0), (0.0, 0.0), (12.0, 2.0)] {
            r.push(x, n);
        }
        let e = r.estimate(0.0, f64::INFINITY).expect("units");
        assert!((e.mean - 52.0 / 8.0).abs() < 1e-12);
        // Residuals x - R n: -3, 4, 0, -1; sum of squares 26.
        let half = t95(4) * (26.0 / 64.0 * 4.0 / 3.0f64).sqrt();
        assert!((e.ci95[0] - (6.5 - half)).abs() < 1e-9 && (e.ci95[1] - (6.5 + half)).abs() < 1e-9);
        let mut a = Ratio::default();
        a.push(10.0, 2.0);
        a.push(30.0, 4.0);
        let mut b = Ratio::default();
        b.push(0.0, 0.0);
        b.push(12.0, 2.0);
        a.merge(&b);
        assert_eq!(a.estimate(0.0, f64::INFINITY), Some(e));
        assert_eq!(Ratio::default().estimate(0.0, 1.0), None);
    }
}
