//! The story of one trial, for `nines trace`: every state change that
//! explains an outcome (faults, replicas and regions going down and up,
//! health-check verdicts, failovers, traffic moving between regions,
//! breakers opening and closing) and, per `cascade.bucket`, what each
//! service's callers saw and what each edge did.
//!
//! Events are recorded at the instant they happen, in the order the trial
//! handles them, so a cause comes before its effects: a breaker opens on
//! the result that trips it and is half-open `open_for` later (recorded
//! when the trial reaches that time, [`Trace::record_later`]); what the
//! buckets show (a service's callers failing) is derived from them by
//! `nines trace`, dated when the bucket closes.
//!
//! Recording is off in normal runs: every hook is one test of an `Option`
//! on paths that run on state changes, never per request. With a trace on,
//! the cascade probe runs for the whole trial, so buckets cover the
//! horizon.

use crate::engine::Nanos;
use crate::model::counts::EdgeCounts;
use crate::resilience::circuit_breaker::BreakerState;

/// What a trace event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// An injected fault (index in the scenario's faults).
    Fault(usize),
    /// A replica (index in the world).
    Replica(usize),
    /// A region.
    Region(usize),
    /// A replica group (a service in one region).
    Group(usize),
    /// A call edge.
    Edge(usize),
}

/// One state change.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEvent {
    /// When.
    pub t: Nanos,
    /// What happened: `fault_start`, `fault_end`, `replica_down`,
    /// `replica_up`, `region_down`, `region_up`, `unhealthy`, `healthy`,
    /// `promoted`, `switch_failed`, `unrouted`, `rerouted`,
    /// `breaker_open`, `breaker_half_open`, `breaker_closed`; with an
    /// autoscaler, `scale_up`, `provisioned`, `draining`, `scaled_in`,
    /// `scale_cancelled`; with liveness probes, `restarted`,
    /// `restart_done`, and `hang_cured` (a restart that ended a hang).
    pub kind: &'static str,
    /// To what.
    pub subject: Subject,
}

/// One service in one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ServiceBucket {
    /// Attempt outcomes its callers saw, and the successful ones.
    pub attempts: u32,
    /// Successful attempts.
    pub ok: u32,
    /// Whether the success ratio fell below `cascade.threshold`.
    pub bad: bool,
    /// Jobs waiting in its replicas' queues at the bucket's end.
    pub queued: u32,
    /// Jobs holding a slot at the bucket's end.
    pub busy: u32,
    /// Replicas serving at the bucket's end.
    pub up: u32,
}

/// One edge in one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeBucket {
    /// Counter increments over the bucket.
    pub counts: EdgeCounts,
    /// Breaker state at the bucket's end (`None`: no breaker).
    pub breaker: Option<BreakerState>,
}

/// One measurement bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Start.
    pub start: Nanos,
    /// End.
    pub end: Nanos,
    /// Per service.
    pub services: Vec<ServiceBucket>,
    /// Per edge.
    pub edges: Vec<EdgeBucket>,
}

/// A recorded trial.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// State changes in time order.
    pub events: Vec<TraceEvent>,
    /// Buckets in time order.
    pub buckets: Vec<Bucket>,
    marks: Vec<EdgeCounts>,
    /// Changes already known to happen later (a breaker's half-open),
    /// in time order; each joins `events` when the trial reaches it.
    later: std::collections::VecDeque<TraceEvent>,
}

fn minus(a: &EdgeCounts, b: &EdgeCounts) -> EdgeCounts {
    EdgeCounts {
        calls: a.calls - b.calls,
        attempts: a.attempts - b.attempts,
        retries: a.retries - b.retries,
        timeouts: a.timeouts - b.timeouts,
        errors: a.errors - b.errors,
        refused: a.refused - b.refused,
        breaker_rejected: a.breaker_rejected - b.breaker_rejected,
        bulkhead_rejected: a.bulkhead_rejected - b.bulkhead_rejected,
        fallbacks: a.fallbacks - b.fallbacks,
        failed: a.failed - b.failed,
        succeeded: a.succeeded - b.succeeded,
        breaker_open_s: 0.0,
        bulkhead_peak: 0,
        client: Default::default(),
    }
}

impl Trace {
    /// Records a state change at `t` (the trial's time: never earlier than
    /// the last one), after every change known to happen by then.
    pub fn record(&mut self, t: Nanos, kind: &'static str, subject: Subject) {
        self.reach(t);
        self.events.push(TraceEvent { t, kind, subject });
    }

    /// Records a state change that will happen at `t` unless the trial
    /// ends first; changes recorded this way must come in time order.
    pub fn record_later(&mut self, t: Nanos, kind: &'static str, subject: Subject) {
        debug_assert!(self.later.back().is_none_or(|e| e.t <= t));
        self.later.push_back(TraceEvent { t, kind, subject });
    }

    /// Moves the later changes due by `t` into the events.
    fn reach(&mut self, t: Nanos) {
        while self.later.front().is_some_and(|e| e.t <= t) {
            self.events.extend(self.later.pop_front());
        }
    }

    /// The trial ended at `horizon`: changes due before it happened, the
    /// rest did not.
    pub fn finish(&mut self, horizon: Nanos) {
        while self.later.front().is_some_and(|e| e.t < horizon) {
            self.events.extend(self.later.pop_front());
        }
        self.later.clear();
    }

    /// Closes the bucket `[from, now)`: the services' figures as gathered,
    /// each edge's counts since the last bucket (`counts` are running
    /// totals) and its breaker's state at `now`.
    pub fn bucket(
        &mut self,
        from: Nanos,
        now: Nanos,
        services: Vec<ServiceBucket>,
        counts: &[EdgeCounts],
        states: &[Option<BreakerState>],
    ) {
        self.reach(now);
        self.marks.resize(counts.len(), EdgeCounts::default());
        let mut edges = Vec::with_capacity(counts.len());
        for e in 0..counts.len() {
            edges.push(EdgeBucket {
                counts: minus(&counts[e], &self.marks[e]),
                breaker: states[e],
            });
            self.marks[e] = counts[e];
        }
        self.buckets.push(Bucket {
            start: from,
            end: now,
            services,
            edges,
        });
    }
}
