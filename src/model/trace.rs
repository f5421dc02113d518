//! The story of one trial, for `nines trace`: every state change that
//! explains an outcome (faults, replicas and regions going down and up,
//! health-check verdicts, failovers, traffic moving between regions,
//! breakers opening and closing) and, per `cascade.bucket`, what each
//! service's callers saw and what each edge did.
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
    /// `breaker_open`, `breaker_half_open`, `breaker_closed`.
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
    breakers: Vec<Option<BreakerState>>,
}

fn minus(a: &EdgeCounts, b: &EdgeCounts) -> EdgeCounts {
    EdgeCounts {
        calls: a.calls - b.calls,
        attempts: a.attempts - b.attempts,
        retries: a.retries - b.retries,
        timeouts: a.timeouts - b.timeouts,
        errors: a.errors - b.errors,
        breaker_rejected: a.breaker_rejected - b.breaker_rejected,
        bulkhead_rejected: a.bulkhead_rejected - b.bulkhead_rejected,
        fallbacks: a.fallbacks - b.fallbacks,
        failed: a.failed - b.failed,
        succeeded: a.succeeded - b.succeeded,
        breaker_open_s: 0.0,
        bulkhead_peak: 0,
    }
}

impl Trace {
    /// Records a state change.
    pub fn record(&mut self, t: Nanos, kind: &'static str, subject: Subject) {
        self.events.push(TraceEvent { t, kind, subject });
    }

    /// Closes the bucket `[from, now)`: the services' figures as gathered,
    /// each edge's counts since the last bucket (`counts` are running
    /// totals), and a breaker event wherever a breaker changed state.
    pub fn bucket(
        &mut self,
        from: Nanos,
        now: Nanos,
        services: Vec<ServiceBucket>,
        counts: &[EdgeCounts],
        states: &[Option<BreakerState>],
    ) {
        let mut events = Vec::new();
        self.marks.resize(counts.len(), EdgeCounts::default());
        self.breakers.resize(counts.len(), None);
        let mut edges = Vec::with_capacity(counts.len());
        for e in 0..counts.len() {
            edges.push(EdgeBucket {
                counts: minus(&counts[e], &self.marks[e]),
                breaker: states[e],
            });
            self.marks[e] = counts[e];
            if states[e] != self.breakers[e] {
                let kind = match states[e] {
                    Some(BreakerState::Open) => "breaker_open",
                    Some(BreakerState::HalfOpen) => "breaker_half_open",
                    _ => "breaker_closed",
                };
                if self.breakers[e].is_some() || states[e] != Some(BreakerState::Closed) {
                    events.push(TraceEvent {
                        t: now,
                        kind,
                        subject: Subject::Edge(e),
                    });
                }
                self.breakers[e] = states[e];
            }
        }
        self.events.extend(events);
        self.buckets.push(Bucket {
            start: from,
            end: now,
            services,
            edges,
        });
    }
}
