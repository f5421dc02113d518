//! Sagas: a workload arrival that starts a workflow runs its steps in order,
//! each as an ordinary call (`Parent::Saga`) through the whole request
//! path (routing, replicas, queues, timeouts, breaker, bulkhead, retry), and
//! on a failure runs the compensations of what was done, newest first.
//!
//! # The state machine of one saga
//! ```text
//!           ┌──────── step i succeeded, i+1 < n ────────┐
//!           v                                           │
//!  start ─> step i ── succeeded, last ──> COMPLETED     │
//!           │  ^ └──────────────────────────────────────┘
//!           │  └── after a pivot: wait `resume_after`, call step i again
//!           │        (deadline passed ──> STUCK)
//!           │ failed (before any pivot succeeded)
//!           v
//!  compensate k = i if an attempt of step i timed out (it may have taken
//!  effect), else the newest earlier step with a compensation; then down
//!           │ each compensation succeeded, none left ──> COMPENSATED
//!           │ a compensation gave up (its retries spent) ──> STUCK
//! ```
//! - A timed-out attempt is ambiguous: the server may finish the work, as
//!   timeouts do not cancel it. So a step that failed after *any* of its
//!   attempts timed out is compensated too, and its effect is dated from the
//!   start of its first timed-out attempt.
//! - A pivot is never compensated (validation forbids its compensation).
//!   Once it succeeded, the saga only goes forward: a later step that gives
//!   up is called again after `resume_after`, until it succeeds or the
//!   workflow's deadline passes; then the saga is **stuck**, not
//!   compensated (steps are assumed idempotent). A pivot that failed after
//!   a timed-out attempt may have taken effect that nothing can undo: the
//!   earlier steps are compensated, and the saga ends stuck.
//! - Steps without a compensation have nothing to undo and are skipped.
//! - The saga orchestrator is outside the simulated services (like a
//!   workload) and never fails; the workflow deadline bounds forward steps
//!   only, compensations run under their own policies.
//! - Each saga is one request of its workload: a `Call` on the workload
//!   edge that is never sent stands for it, and concludes through
//!   `finish_call` (completed = success, otherwise failed), so the
//!   request figures and the workload edge count sagas.
//!
//! # Invariants
//! A saga has at most one call in flight, and its `step` indexes the step of
//! that call (or of its compensation while `compensating`). `effects[k]` is
//! set for every step `k` that will be compensated. Sagas in flight at the
//! horizon are not counted, like requests.

use hdrhistogram::Histogram;
use smallvec::SmallVec;

use super::{Call, CallResult, Parent, Requests};
use crate::engine::Nanos;
use crate::model::event::Event;
pub use crate::model::result::{SagaEvent, SagaTransition, StepCounts, WorkflowResult};
use crate::model::slab::{Key, Slab};
use crate::resilience::deadline::Deadline;

/// Latency histograms of one workflow in one trial (microseconds).
#[derive(Debug, Clone)]
pub struct WorkflowHistograms {
    /// Durations of completed sagas.
    pub completed_us: Histogram<u64>,
    /// Durations of compensated sagas.
    pub compensated_us: Histogram<u64>,
    /// Inconsistency windows.
    pub window_us: Histogram<u64>,
}

impl WorkflowHistograms {
    fn new() -> Self {
        let h = || Histogram::new(3).expect("3 significant digits is valid");
        Self {
            completed_us: h(),
            compensated_us: h(),
            window_us: h(),
        }
    }
}

struct Saga {
    workflow: u32,
    number: u64,
    /// The never-sent call on the workload edge that stands for the saga.
    root: Key,
    deadline: Deadline,
    step: u16,
    compensating: bool,
    pivoted: bool,
    /// A pivot failed ambiguously: end stuck once compensated.
    stuck_after: bool,
    /// Start of the first timed-out attempt of the call in flight.
    timed_out: Option<Nanos>,
    effects: SmallVec<[Nanos; 8]>,
}

/// The sagas of a trial, reused across trials.
#[derive(Default)]
pub struct Sagas {
    live: Slab<Saga>,
    hist: Vec<WorkflowHistograms>,
    started: u64,
    log_on: bool,
}

#[derive(Clone, Copy)]
enum End {
    Completed,
    Compensated,
    Stuck,
}

fn micros(d: Nanos) -> u64 {
    (d / 1000).max(1)
}

impl super::Traffic {
    /// Records every saga state transition of the next trials in
    /// `TrafficResult::saga_log` (off by default: it costs memory).
    pub fn record_sagas(&mut self, on: bool) {
        self.sagas.log_on = on;
    }

    /// Latency histograms of the last trial's sagas, per workflow.
    pub fn workflow_histograms(&self) -> &[WorkflowHistograms] {
        &self.sagas.hist
    }

    /// Replaces the last trial's saga histograms with `hist` (windowed
    /// request sampling's estimate, built from its windows and samples).
    pub(in crate::model) fn set_workflow_histograms(&mut self, hist: Vec<WorkflowHistograms>) {
        self.sagas.hist = hist;
    }
}

impl Requests<'_> {
    /// The workload that started saga `saga` (its root call's edge).
    pub(super) fn saga_workload(&self, saga: Key) -> Option<usize> {
        let root = self.traffic.sagas.live.get(saga)?.root;
        Some(self.traffic.calls.get(root)?.edge as usize)
    }

    pub(super) fn reset_sagas(&mut self) {
        let w = self.world;
        let s = &mut self.traffic.sagas;
        s.live.clear();
        s.started = 0;
        s.hist.resize_with(w.workflows.len(), WorkflowHistograms::new);
        for h in &mut s.hist {
            h.completed_us.reset();
            h.compensated_us.reset();
            h.window_us.reset();
        }
        let r = &mut self.traffic.result;
        r.saga_log.clear();
        r.workflows = w
            .workflows
            .iter()
            .map(|wf| WorkflowResult {
                steps: vec![StepCounts::default(); wf.steps.len()],
                ..WorkflowResult::default()
            })
            .collect();
    }

    fn log_saga(&mut self, saga: &Saga, event: SagaEvent, now: Nanos) {
        if self.traffic.sagas.log_on {
            self.traffic.result.saga_log.push(SagaTransition {
                at: now,
                saga: saga.number,
                workflow: saga.workflow,
                step: saga.step,
                event,
            });
        }
    }

    /// Logs `event` of live saga `key`, about `step` (else its current step).
    fn log(&mut self, key: Key, step: Option<usize>, event: SagaEvent, now: Nanos) {
        let t = &mut self.traffic;
        if t.sagas.log_on
            && let Some(s) = t.sagas.live.get(key)
        {
            t.result.saga_log.push(SagaTransition {
                at: now,
                saga: s.number,
                workflow: s.workflow,
                step: step.map_or(s.step, |k| k as u16),
                event,
            });
        }
    }

    /// A workflow workload's arrival: start a saga of workflow `wf`.
    pub(super) fn start_saga(&mut self, workload: usize, wf: usize, now: Nanos) {
        let edge = self.world.workloads[workload].edge;
        let spec = &self.world.workflows[wf];
        let deadline = Deadline::after(now, spec.deadline);
        let t = &mut self.traffic;
        let counts = &mut t.result.edges[edge];
        counts.calls += 1;
        counts.attempts += 1;
        t.result.timeline[t.clock.at(now)][3] += 1;
        let root = t.calls.insert(Call {
            edge: edge as u32,
            parent: Parent::Root,
            deadline,
            attempts: 1,
            prev_delay: 0,
            permit: None,
            holds_bulkhead: false,
            queued: false,
            epoch: 0,
            attempt_start: now,
            job: None,
            started: now,
            low: false,
            replica: super::NO_REPLICA,
            extras: 0,
        });
        t.result.workflows[wf].started += 1;
        let number = t.sagas.started;
        t.sagas.started += 1;
        let saga = Saga {
            workflow: wf as u32,
            number,
            root,
            deadline,
            step: 0,
            compensating: false,
            pivoted: false,
            stuck_after: false,
            timed_out: None,
            effects: SmallVec::from_elem(0, spec.steps.len()),
        };
        self.log_saga(&saga, SagaEvent::Started, now);
        let key = self.traffic.sagas.live.insert(saga);
        self.saga_call(key, now);
    }

    /// Sends the saga's current call: its step, or that step's compensation.
    fn saga_call(&mut self, key: Key, now: Nanos) {
        let w = self.world;
        let s = self.traffic.sagas.live.get_mut(key).expect("live saga");
        s.timed_out = None;
        let step = &w.workflows[s.workflow as usize].steps[s.step as usize];
        let (edge, deadline) = if s.compensating {
            let edge = step
                .compensation
                .expect("only steps with a compensation are compensated");
            (edge, Deadline::NONE)
        } else {
            (step.edge, s.deadline)
        };
        self.new_call(edge, Parent::Saga { saga: key }, deadline, now);
    }

    /// An attempt of the saga's call timed out at the client.
    pub(super) fn saga_attempt_timed_out(&mut self, key: Key, attempt_start: Nanos) {
        if let Some(s) = self.traffic.sagas.live.get_mut(key) {
            s.timed_out.get_or_insert(attempt_start);
        }
    }

    /// After a pivot: the backoff of a step that gave up is over.
    pub(in crate::model) fn on_saga_resume(&mut self, key: Key, now: Nanos) {
        let Some(s) = self.traffic.sagas.live.get(key) else {
            return;
        };
        if s.deadline.expired(now) {
            let (wf, step) = (s.workflow as usize, s.step as usize);
            self.traffic.result.workflows[wf].steps[step].failed += 1;
            self.end_saga(key, End::Stuck, now);
            return;
        }
        self.log(key, None, SagaEvent::StepResumed, now);
        self.saga_call(key, now);
    }

    /// The saga's call concluded.
    pub(super) fn saga_call_done(&mut self, key: Key, result: CallResult, now: Nanos) {
        let w = self.world;
        let Some(s) = self.traffic.sagas.live.get_mut(key) else {
            return;
        };
        let ok = matches!(result, CallResult::Success { .. });
        let (wf, i) = (s.workflow as usize, s.step as usize);
        let spec = &w.workflows[wf];
        let step = &spec.steps[i];
        if s.compensating {
            let counts = &mut self.traffic.result.workflows[wf];
            if ok {
                let window = now.saturating_sub(s.effects[i]);
                counts.steps[i].compensated += 1;
                counts.window_s += window as f64 / 1e9;
                counts.windows += 1;
                let _ = self.traffic.sagas.hist[wf].window_us.record(micros(window));
                self.log(key, None, SagaEvent::Compensated, now);
                self.compensate_below(key, i, now);
            } else {
                counts.steps[i].gave_up += 1;
                self.log(key, None, SagaEvent::CompensationGaveUp, now);
                self.end_saga(key, End::Stuck, now);
            }
            return;
        }
        if ok {
            s.effects[i] = now;
            s.pivoted |= step.pivot;
            let last = i + 1 == spec.steps.len();
            if !last {
                s.step += 1;
            }
            // Logged against the step that succeeded.
            self.log(key, Some(i), SagaEvent::StepSucceeded, now);
            if last {
                self.end_saga(key, End::Completed, now);
            } else {
                self.saga_call(key, now);
            }
            return;
        }
        let ambiguous = s.timed_out;
        if s.pivoted {
            if s.deadline.expired(now) {
                self.traffic.result.workflows[wf].steps[i].failed += 1;
                self.log(
                    key,
                    None,
                    SagaEvent::StepFailed {
                        ambiguous: ambiguous.is_some(),
                    },
                    now,
                );
                self.end_saga(key, End::Stuck, now);
            } else {
                self.queue.schedule(now + step.resume_after, Event::SagaResume(key));
            }
            return;
        }
        s.stuck_after = step.pivot && ambiguous.is_some();
        let compensate_self = ambiguous.filter(|_| step.compensation.is_some());
        if let Some(t0) = compensate_self {
            s.effects[i] = t0;
        }
        self.traffic.result.workflows[wf].steps[i].failed += 1;
        self.log(
            key,
            None,
            SagaEvent::StepFailed {
                ambiguous: ambiguous.is_some(),
            },
            now,
        );
        if compensate_self.is_some() {
            self.compensate(key, i, now);
        } else {
            self.compensate_below(key, i, now);
        }
    }

    /// Compensates step `k`.
    fn compensate(&mut self, key: Key, k: usize, now: Nanos) {
        let s = self.traffic.sagas.live.get_mut(key).expect("live saga");
        s.compensating = true;
        s.step = k as u16;
        self.saga_call(key, now);
    }

    /// Compensates the newest step before `i` that has a compensation, or
    /// ends the saga when none is left.
    fn compensate_below(&mut self, key: Key, i: usize, now: Nanos) {
        let w = self.world;
        let s = self.traffic.sagas.live.get(key).expect("live saga");
        let steps = &w.workflows[s.workflow as usize].steps;
        match (0..i).rev().find(|&k| steps[k].compensation.is_some()) {
            Some(k) => self.compensate(key, k, now),
            None if s.stuck_after => self.end_saga(key, End::Stuck, now),
            None => self.end_saga(key, End::Compensated, now),
        }
    }

    fn end_saga(&mut self, key: Key, end: End, now: Nanos) {
        let s = self.traffic.sagas.live.remove(key).expect("live saga");
        let wf = s.workflow as usize;
        let d = now.saturating_sub(self.traffic.calls.get(s.root).map_or(now, |c| c.started));
        let r = &mut self.traffic.result.workflows[wf];
        let h = &mut self.traffic.sagas.hist[wf];
        let (event, result) = match end {
            End::Completed => {
                r.completed += 1;
                r.completed_latency_s += d as f64 / 1e9;
                let _ = h.completed_us.record(micros(d));
                (SagaEvent::Completed, CallResult::Success { degraded: false })
            }
            End::Compensated => {
                r.compensated += 1;
                r.compensated_latency_s += d as f64 / 1e9;
                let _ = h.compensated_us.record(micros(d));
                (SagaEvent::RolledBack, CallResult::Failed)
            }
            End::Stuck => {
                r.stuck += 1;
                (SagaEvent::Stuck, CallResult::Failed)
            }
        };
        self.log_saga(&s, event, now);
        self.finish_call(s.root, result, now);
    }
}

#[cfg(test)]
mod tests {
    use super::SagaEvent::*;
    use crate::model::{Trial, World};

    /// `b` always fails after `a` succeeded: every saga compensates `a`.
    const TEXT: &str = r#"
        horizon = "1s"
        [[workload]]
        name = "w"
        workflow = "f"
        rate = 5
        arrival = "constant"
        [[workflow]]
        name = "f"
        [[workflow.step]]
        name = "a"
        to = "x"
        compensation = { to = "x" }
        [[workflow.step]]
        name = "b"
        to = "y"
        [[service]]
        name = "x"
        service_time = { dist = "fixed", mean = "10ms" }
        [[service]]
        name = "y"
        service_time = { dist = "fixed", mean = "10ms" }
        error_rate = 1.0
    "#;

    #[test]
    fn the_saga_log_records_each_transition_for_a_trace() {
        let sc = crate::scenario::parse("t.toml", "t", TEXT, &[]).expect("valid");
        let world = World::compile(&sc);
        let mut trial = Trial::new(&world);
        assert!(
            trial
                .run(1, 0)
                .expect("no runaway")
                .traffic
                .expect("traffic")
                .saga_log
                .is_empty()
        );
        trial.record_sagas(true);
        let log = trial.run(1, 0).expect("no runaway").traffic.expect("traffic").saga_log;
        let first: Vec<_> = log.iter().filter(|t| t.saga == 0).map(|t| (t.step, t.event)).collect();
        assert_eq!(
            first,
            [
                (0, Started),
                (0, StepSucceeded),
                (1, StepFailed { ambiguous: false }),
                (0, Compensated),
                (0, RolledBack)
            ]
        );
        let ends = log.iter().filter(|t| t.event == RolledBack).count();
        assert_eq!(ends, 4, "arrivals at 0.2, 0.4, 0.6 and 0.8 s end before 1 s");
        assert!(log.windows(2).all(|p| p[0].at <= p[1].at));
        assert_eq!(log[2].describe(&world), "saga 0 (f): step b failed");
    }
}
