//! Saga figures across trials: how sagas ended (completed, compensated,
//! stuck) with 95 % intervals, which step failed, saga latency and the
//! inconsistency window; `summary.json` under `workflows.NAME`.
//!
//! Ratios are taken per trial over the sagas that ended in it, then
//! averaged across trials with a Student t interval (trials are the
//! independent units; sagas inside a trial share its failures). Latencies
//! and windows pool every saga of every trial in mergeable histograms.

use hdrhistogram::Histogram;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::estimate::{Estimate, Latency};
use super::welford::Welford;
use crate::model::traffic::workflow::{WorkflowHistograms, WorkflowResult};

/// One step across trials.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
struct StepAcc {
    failed: u64,
    failed_ratio: Welford,
    compensated: u64,
    gave_up: u64,
}

/// One workflow across trials, mergeable in trial order (and serialised
/// exactly in the parts of a sharded run).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct WorkflowAcc {
    started: u64,
    completed: u64,
    compensated: u64,
    stuck: u64,
    completed_ratio: Welford,
    compensated_ratio: Welford,
    stuck_ratio: Welford,
    steps: Vec<StepAcc>,
    completed_latency_s: f64,
    compensated_latency_s: f64,
    window_s: f64,
    windows: u64,
    #[serde(with = "super::histogram::exact")]
    completed_us: Histogram<u64>,
    #[serde(with = "super::histogram::exact")]
    compensated_us: Histogram<u64>,
    #[serde(with = "super::histogram::exact")]
    window_us: Histogram<u64>,
}

impl WorkflowAcc {
    /// Empty, for a workflow of `steps` steps.
    pub fn new(steps: usize) -> Self {
        let h = || Histogram::new(3).expect("3 significant digits is valid");
        Self {
            started: 0,
            completed: 0,
            compensated: 0,
            stuck: 0,
            completed_ratio: Welford::default(),
            compensated_ratio: Welford::default(),
            stuck_ratio: Welford::default(),
            steps: vec![StepAcc::default(); steps],
            completed_latency_s: 0.0,
            compensated_latency_s: 0.0,
            window_s: 0.0,
            windows: 0,
            completed_us: h(),
            compensated_us: h(),
            window_us: h(),
        }
    }

    /// Adds one trial's counts.
    pub fn push(&mut self, r: &WorkflowResult) {
        self.started += r.started;
        self.completed += r.completed;
        self.compensated += r.compensated;
        self.stuck += r.stuck;
        self.completed_latency_s += r.completed_latency_s;
        self.compensated_latency_s += r.compensated_latency_s;
        self.window_s += r.window_s;
        self.windows += r.windows;
        let n = r.concluded();
        if n > 0 {
            let n = n as f64;
            self.completed_ratio.push(r.completed as f64 / n);
            self.compensated_ratio.push(r.compensated as f64 / n);
            self.stuck_ratio.push(r.stuck as f64 / n);
        }
        for (a, s) in self.steps.iter_mut().zip(&r.steps) {
            a.failed += s.failed;
            a.compensated += s.compensated;
            a.gave_up += s.gave_up;
            if n > 0 {
                a.failed_ratio.push(s.failed as f64 / n as f64);
            }
        }
    }

    /// Adds one trial's histograms.
    pub fn push_histograms(&mut self, h: &WorkflowHistograms) {
        let add = |a: &mut Histogram<u64>, b: &Histogram<u64>| a.add(b).expect("auto-resizing histograms merge");
        add(&mut self.completed_us, &h.completed_us);
        add(&mut self.compensated_us, &h.compensated_us);
        add(&mut self.window_us, &h.window_us);
    }

    /// Absorbs `o`, whose trials come after ours.
    pub fn merge(&mut self, o: &Self) {
        self.started += o.started;
        self.completed += o.completed;
        self.compensated += o.compensated;
        self.stuck += o.stuck;
        self.completed_ratio.merge(&o.completed_ratio);
        self.compensated_ratio.merge(&o.compensated_ratio);
        self.stuck_ratio.merge(&o.stuck_ratio);
        for (a, b) in self.steps.iter_mut().zip(&o.steps) {
            a.failed += b.failed;
            a.failed_ratio.merge(&b.failed_ratio);
            a.compensated += b.compensated;
            a.gave_up += b.gave_up;
        }
        self.completed_latency_s += o.completed_latency_s;
        self.compensated_latency_s += o.compensated_latency_s;
        self.window_s += o.window_s;
        self.windows += o.windows;
        for (a, b) in [
            (&mut self.completed_us, &o.completed_us),
            (&mut self.compensated_us, &o.compensated_us),
            (&mut self.window_us, &o.window_us),
        ] {
            a.add(b).expect("auto-resizing histograms merge");
        }
    }
}

/// One step's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepSummary {
    /// Sagas that ended (compensated or stuck) because this step failed.
    pub failed: u64,
    /// That count / sagas that ended, per trial, then across trials.
    pub failed_ratio: Estimate,
    /// Compensations of this step that succeeded.
    pub compensations: u64,
    /// Compensations of this step that gave up (each left a saga stuck).
    pub compensations_gave_up: u64,
}

/// Time from a step's effect to the success of its compensation (seconds).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Window {
    /// Windows measured (compensations that succeeded).
    pub count: u64,
    /// Mean over every window.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// `workflows.NAME` in `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkflowSummary {
    /// Sagas started in all trials.
    pub started: u64,
    /// Sagas that ended (completed, compensated or stuck) in all trials.
    pub sagas: u64,
    /// Sagas whose every step succeeded, in all trials.
    pub completed: u64,
    /// Sagas rolled back cleanly, in all trials.
    pub compensated: u64,
    /// Sagas left with a partial effect, in all trials.
    pub stuck: u64,
    /// Completed / ended.
    pub completed_ratio: Estimate,
    /// Rolled back cleanly / ended.
    pub compensated_ratio: Estimate,
    /// Left with a partial effect / ended.
    pub stuck_ratio: Estimate,
    /// Per step, in order.
    pub steps: IndexMap<String, StepSummary>,
    /// Duration of completed sagas.
    pub completed_latency_s: Latency,
    /// Duration of compensated sagas.
    pub compensated_latency_s: Latency,
    /// Inconsistency window.
    pub inconsistency_window_s: Window,
}

/// `w`'s estimate with `extra` variance added to its Student t interval
/// (windowed sampling's shared samples, which the spread across trials
/// cannot show).
fn widened(w: &Welford, extra: f64) -> Estimate {
    if extra <= 0.0 || w.count() < 2 {
        return Estimate::of(w);
    }
    let half = super::interval::t95(w.count()) * (w.std_error().powi(2) + extra).sqrt();
    Estimate {
        mean: w.mean(),
        ci95: [(w.mean() - half).max(0.0), (w.mean() + half).min(1.0)],
    }
}

fn latency(sum_s: f64, n: u64, h: &Histogram<u64>) -> Latency {
    let q = |p: f64| {
        if h.is_empty() {
            0.0
        } else {
            h.median_equivalent(h.value_at_quantile(p)) as f64 / 1e6
        }
    };
    Latency {
        mean: if n == 0 { 0.0 } else { sum_s / n as f64 },
        p50: q(0.5),
        p90: q(0.9),
        p99: q(0.99),
        p999: q(0.999),
    }
}

impl WorkflowSummary {
    /// The summary of `acc`; `steps` names its steps in order.
    pub fn new(acc: &WorkflowAcc, steps: &[String]) -> Self {
        Self::with_shared(acc, steps, [0.0; 3])
    }

    /// [`WorkflowSummary::new`] with `shared`, the variance windowed
    /// sampling's shared samples add to the completed, compensated and
    /// stuck ratios ([`crate::model::windowed::Windowed::shared_workflow_variance`]),
    /// in their intervals.
    pub fn with_shared(acc: &WorkflowAcc, steps: &[String], shared: [f64; 3]) -> Self {
        let w = latency(acc.window_s, acc.windows, &acc.window_us);
        Self {
            started: acc.started,
            sagas: acc.completed + acc.compensated + acc.stuck,
            completed: acc.completed,
            compensated: acc.compensated,
            stuck: acc.stuck,
            completed_ratio: widened(&acc.completed_ratio, shared[0]),
            compensated_ratio: widened(&acc.compensated_ratio, shared[1]),
            stuck_ratio: widened(&acc.stuck_ratio, shared[2]),
            steps: steps
                .iter()
                .zip(&acc.steps)
                .map(|(name, s)| {
                    (
                        name.clone(),
                        StepSummary {
                            failed: s.failed,
                            failed_ratio: Estimate::of(&s.failed_ratio),
                            compensations: s.compensated,
                            compensations_gave_up: s.gave_up,
                        },
                    )
                })
                .collect(),
            completed_latency_s: latency(acc.completed_latency_s, acc.completed, &acc.completed_us),
            compensated_latency_s: latency(acc.compensated_latency_s, acc.compensated, &acc.compensated_us),
            inconsistency_window_s: Window {
                count: acc.windows,
                mean: w.mean,
                p50: w.p50,
                p99: w.p99,
            },
        }
    }
}
