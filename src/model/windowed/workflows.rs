//! Workflows (sagas) under windowed request sampling: their counters and
//! histograms travel with the request counters of windows and stationary
//! samples, and their lifetime stretches the warm-up.
//!
//! A saga is one request of its workload (its root call concludes through
//! the request path), so the request estimate already counts sagas as
//! requests; what this module adds is the per-workflow outcome counts
//! (started, completed, compensated, stuck, per step failed, compensated,
//! gave up, and the latency and inconsistency-window sums), appended at the
//! end of the windowed counters (`extend`, read back by `unflatten`),
//! so that windows count them from their change on and stationary segments
//! at their configuration's sampled rate, exactly as every other counter.
//! Saga latency and inconsistency-window histograms are estimated like the
//! request latency: each window's own, plus each sample's scaled to the
//! requests its segments stand for (`Hists`).
//!
//! **Warm-up.** A window's counts from its change on are right only if the
//! sagas in flight at the change are those of the stationary process: a
//! warm-up covers the longest saga ([`saga_lifetime`]): its forward steps
//! (bounded by the workflow's `deadline`, else the sum of its steps' call
//! lifetimes) plus every compensation's call lifetime, still capped at
//! [`super::MAX_WARMUP`].
//!
//! **Invariant.** With no `[[workflow]]` nothing here adds a counter, a
//! histogram or warm-up time: runs without workflows are unchanged.

use super::tally::ShareUse;
use hdrhistogram::Histogram;

use super::add_scaled;
use crate::engine::Nanos;
use crate::model::result::{StepCounts, TrafficResult, WorkflowResult};
use crate::model::traffic::workflow::WorkflowHistograms;
use crate::model::world::World;
use crate::scenario::timescales::saga_lifetime as saga_lifetime_of;

/// Counters per workflow before its steps' (see [`extend`]).
const HEAD: usize = 8;
/// Counters per step.
const STEP: usize = 3;

/// How many counters [`extend`] appends for `w`'s workflows.
pub(super) fn len(w: &World) -> usize {
    w.workflows.iter().map(|wf| HEAD + STEP * wf.steps.len()).sum()
}

/// Appends every workflow's additive counts in `t` to `v`, per workflow:
/// started, completed, compensated, stuck, completed and compensated
/// latency sums, inconsistency-window sum and count, then per step failed,
/// compensated and gave up.
pub(super) fn extend(v: &mut Vec<f64>, t: &TrafficResult) {
    for r in &t.workflows {
        v.extend([r.started, r.completed, r.compensated, r.stuck].map(|x| x as f64));
        v.extend([
            r.completed_latency_s,
            r.compensated_latency_s,
            r.window_s,
            r.windows as f64,
        ]);
        for s in &r.steps {
            v.extend([s.failed, s.compensated, s.gave_up].map(|x| x as f64));
        }
    }
}

/// The workflow results of counters `v` (the tail [`extend`] appended),
/// rounded to counts: `completed + compensated + stuck` are rounded parts
/// so that the per-trial ratios sum to one.
pub(super) fn unflatten(w: &World, v: &[f64]) -> Vec<WorkflowResult> {
    let n = |x: f64| x.max(0.0).round() as u64;
    let mut i = 0;
    let mut out = Vec::with_capacity(w.workflows.len());
    for wf in &w.workflows {
        let c = &v[i..i + HEAD];
        let mut r = WorkflowResult {
            started: n(c[0]),
            completed: n(c[1]),
            compensated: n(c[2]),
            stuck: n(c[3]),
            completed_latency_s: c[4].max(0.0),
            compensated_latency_s: c[5].max(0.0),
            window_s: c[6].max(0.0),
            windows: n(c[7]),
            steps: Vec::with_capacity(wf.steps.len()),
        };
        i += HEAD;
        for _ in &wf.steps {
            r.steps.push(StepCounts {
                failed: n(v[i]),
                compensated: n(v[i + 1]),
                gave_up: n(v[i + 2]),
            });
            i += STEP;
        }
        out.push(r);
    }
    out
}

/// The longest saga of `w`, over its workflows (0 without any).
pub fn saga_lifetime(w: &World) -> Nanos {
    w.workflows
        .iter()
        .map(|wf| {
            saga_lifetime_of(
                wf.deadline,
                wf.steps
                    .iter()
                    .map(|s| (&w.edges[s.edge].policy, s.compensation.map(|c| &w.edges[c].policy))),
            )
        })
        .max()
        .unwrap_or(0)
}

/// The known rate (per second) at which each of `w`'s workflows starts
/// sagas: the rates of the workloads that start it.
fn known_rates(w: &World) -> Vec<f64> {
    let mut r = vec![0.0; w.workflows.len()];
    for wl in &w.workloads {
        if let Some(wf) = wl.workflow {
            r[wf] += wl.rate;
        }
    }
    r
}

/// The index of each workflow's `started` counter in its tail of the
/// counters (see [`extend`]).
fn starts(w: &World) -> Vec<usize> {
    let mut i = 0;
    w.workflows
        .iter()
        .map(|wf| {
            let at = i;
            i += HEAD + STEP * wf.steps.len();
            at
        })
        .collect()
}

/// A stationary sample's workflow rates, from its counters `before` and
/// `after` its batches (`secs` long): each workflow's counters scaled to
/// its own known start rate. A ratio estimator per workflow (every saga
/// started concludes at stationarity): the sample's random mix of
/// workloads then carries no error into the saga counts, only the shares
/// of their outcomes do. `rates` holds every counter per second, scaled to
/// the total rate; a workflow that started no saga in the sample keeps
/// that.
pub(super) fn rescale(w: &World, rates: &mut [f64], before: &[f64], after: &[f64], secs: f64) {
    let tail = rates.len() - len(w);
    let (before, after) = (&before[tail..], &after[tail..]);
    let rates = &mut rates[tail..];
    let bounds: Vec<usize> = starts(w).into_iter().chain([len(w)]).collect();
    for (wf, known) in known_rates(w).into_iter().enumerate() {
        let (lo, hi) = (bounds[wf], bounds[wf + 1]);
        let started = after[lo] - before[lo];
        if started <= 0.0 {
            continue;
        }
        let scale = known * secs / started;
        for i in lo..hi {
            rates[i] = (after[i] - before[i]) / secs * scale;
        }
    }
}

/// Saga histograms, per workflow: an estimate being built, or a snapshot
/// of a trial's; for a stationary sample, with the sagas each workflow
/// started in the span they cover (what [`Hists::add_sample`] scales by).
#[derive(Debug, Clone, Default)]
pub(super) struct Hists(Vec<WorkflowHistograms>, Vec<f64>, Vec<[f64; 3]>);

fn empty() -> WorkflowHistograms {
    let h = || Histogram::new(3).expect("3 significant figures are valid");
    WorkflowHistograms {
        completed_us: h(),
        compensated_us: h(),
        window_us: h(),
    }
}

impl Hists {
    /// Empty histograms for `w`'s workflows.
    pub(super) fn new(w: &World) -> Self {
        Self(w.workflows.iter().map(|_| empty()).collect(), Vec::new(), Vec::new())
    }

    /// A copy of what a trial's sagas have recorded so far.
    pub(super) fn snapshot(recorded: &[WorkflowHistograms]) -> Self {
        Self(recorded.to_vec(), Vec::new(), Vec::new())
    }

    /// What `recorded` holds beyond the earlier snapshot `before`.
    pub(super) fn since(recorded: &[WorkflowHistograms], before: &Self) -> Self {
        let mut now = Self::snapshot(recorded);
        for (a, b) in now.0.iter_mut().zip(&before.0) {
            for (x, y) in [
                (&mut a.completed_us, &b.completed_us),
                (&mut a.compensated_us, &b.compensated_us),
                (&mut a.window_us, &b.window_us),
            ] {
                x.subtract(y).expect("a later histogram holds the earlier one");
            }
        }
        now
    }

    /// These histograms as a stationary sample's, whose counters were
    /// `before` and `after` its batches `batches`.
    pub(super) fn sampled(mut self, w: &World, before: &[f64], after: &[f64], batches: &Batches) -> Self {
        let tail = after.len() - len(w);
        self.1 = starts(w)
            .into_iter()
            .map(|i| after[tail + i] - before[tail + i])
            .collect();
        self.2 = batches.variances();
        self
    }

    /// Adds sample `o`'s histograms for a stationary segment of `secs`:
    /// each workflow's scaled to the sagas its known rate starts in that
    /// time over the sagas the sample started.
    pub(super) fn add_sample(&mut self, w: &World, o: &Self, secs: f64) {
        for ((a, b), (known, started)) in self.0.iter_mut().zip(&o.0).zip(known_rates(w).into_iter().zip(&o.1)) {
            let scale = if *started > 0.0 { known * secs / started } else { 0.0 };
            add_scaled(&mut a.completed_us, &b.completed_us, scale);
            add_scaled(&mut a.compensated_us, &b.compensated_us, scale);
            add_scaled(&mut a.window_us, &b.window_us, scale);
        }
    }

    /// Adds `o`, each count scaled by `scale`.
    pub(super) fn add(&mut self, o: &Self, scale: f64) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            add_scaled(&mut a.completed_us, &b.completed_us, scale);
            add_scaled(&mut a.compensated_us, &b.compensated_us, scale);
            add_scaled(&mut a.window_us, &b.window_us, scale);
        }
    }

    /// The histograms, for the trial's result.
    pub(super) fn into_inner(self) -> Vec<WorkflowHistograms> {
        self.0
    }
}

/// Each workflow's completed, compensated and stuck sagas and the sagas
/// that ended, batch by batch of a stationary sample (the layout of
/// [`super::ratio_variance`]).
pub(super) struct Batches {
    last: Vec<[f64; 4]>,
    batches: Vec<Vec<[f64; 4]>>,
}

fn outcomes(t: &TrafficResult) -> Vec<[f64; 4]> {
    t.workflows
        .iter()
        .map(|r| [r.completed, r.compensated, r.stuck, r.concluded()].map(|x| x as f64))
        .collect()
}

impl Batches {
    /// Batches starting from the counts of `t`.
    pub(super) fn new(t: &TrafficResult) -> Self {
        let last = outcomes(t);
        Self {
            batches: vec![Vec::new(); last.len()],
            last,
        }
    }

    /// Closes a batch at the counts of `t`.
    pub(super) fn push(&mut self, t: &TrafficResult) {
        let now = outcomes(t);
        for ((b, l), n) in self.batches.iter_mut().zip(&self.last).zip(&now) {
            b.push([n[0] - l[0], n[1] - l[1], n[2] - l[2], n[3] - l[3]]);
        }
        self.last = now;
    }

    /// Per workflow, the variance of the sample's completed, compensated
    /// and stuck ratios.
    fn variances(&self) -> Vec<[f64; 3]> {
        self.batches
            .iter()
            .map(|b| [0, 1, 2].map(|i| super::ratio_variance(b, i)))
            .collect()
    }
}

/// Adds another trial's (or run's) uses of one sample.
pub(super) fn add_uses(mine: &mut Vec<ShareUse>, other: &[ShareUse]) {
    if mine.len() < other.len() {
        mine.resize(other.len(), ShareUse::default());
    }
    for (m, o) in mine.iter_mut().zip(other) {
        m.weight += o.weight;
        // The same sample in every trial: its error once.
        m.var = o.var;
    }
}

/// Sample `s`'s use by one trial whose estimated counters are `counters`,
/// its segments covering `secs`: per workflow, its weight and variance.
pub(super) fn uses(w: &World, counters: &[f64], secs: f64, s: &Hists) -> Vec<ShareUse> {
    let tail = counters.len() - len(w);
    starts(w)
        .into_iter()
        .zip(known_rates(w))
        .zip(&s.2)
        .map(|((at, known), var)| {
            let c = &counters[tail + at..];
            let ended = c[1] + c[2] + c[3];
            ShareUse {
                weight: if ended > 0.0 { secs * known / ended } else { 0.0 },
                var: *var,
            }
        })
        .collect()
}

impl super::Windowed {
    /// The variance the shared samples add to the mean over `trials`
    /// trials of workflow `wf`'s completed, compensated and stuck ratios
    /// (zeros without workflows).
    pub fn shared_workflow_variance(&self, trials: u64, wf: usize) -> [f64; 3] {
        let n = trials.max(1) as f64;
        let mut v = [0.0; 3];
        for u in self.samples.values() {
            if let Some(x) = u.workflows.get(wf) {
                let k = x.weight / n;
                for (acc, var) in v.iter_mut().zip(x.var) {
                    *acc += k * k * var;
                }
            }
        }
        v
    }
}
