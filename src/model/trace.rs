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
use crate::model::runaway::Runaway;
use crate::model::traffic::EdgeCounts;
use crate::model::trial::Trial;
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
}

impl Trial<'_> {
    /// Runs trial `trial` of seed `seed`, recording its story.
    ///
    /// # Errors
    /// The trial ran away (a budget of `[limits]` was exceeded).
    pub fn run_traced(&mut self, seed: u64, trial: u64) -> Result<(super::TrialResult, Trace), Runaway> {
        self.trace = Some(Box::default());
        let result = self.run(seed, trial);
        let trace = self.trace.take().map(|b| *b).unwrap_or_default();
        Ok((result?, trace))
    }

    pub(super) fn tracing(&self) -> bool {
        self.trace.is_some()
    }

    pub(super) fn record(&mut self, t: Nanos, kind: &'static str, subject: Subject) {
        if let Some(tr) = &mut self.trace {
            tr.record(t, kind, subject);
        }
    }

    pub(super) fn trace_fault(&mut self, f: usize, now: Nanos, start: bool) {
        let kind = if start { "fault_start" } else { "fault_end" };
        self.record(now, kind, Subject::Fault(f));
    }

    pub(super) fn trace_health(&mut self, r: usize, now: Nanos, healthy: bool) {
        let kind = if healthy { "healthy" } else { "unhealthy" };
        self.record(now, kind, Subject::Replica(r));
    }

    /// Records the bucket `[from, now)`; `bad` says which services fell
    /// below the threshold.
    pub(super) fn trace_bucket(&mut self, from: Nanos, now: Nanos, bad: &[bool]) {
        if self.trace.is_none() {
            return;
        }
        let w = self.world;
        let mut services = vec![ServiceBucket::default(); w.services.len()];
        for (s, sb) in services.iter_mut().enumerate() {
            let [ok, all] = self.faults.seen[s];
            sb.ok = ok;
            sb.attempts = all;
            sb.bad = bad[s];
        }
        for (r, spec) in w.replicas.iter().enumerate() {
            let sb = &mut services[spec.service];
            let (busy, queued) = self.traffic.load_of(r);
            sb.busy += busy;
            sb.queued += queued;
            sb.up += u32::from(self.availability.replicas[r].up && spec_region_up(self, r));
        }
        let counts = &self.traffic.result.edges;
        let states = self.traffic.breaker_states(now);
        let mut events = Vec::new();
        let tr = self.trace.as_mut().expect("checked above");
        tr.marks.resize(counts.len(), EdgeCounts::default());
        tr.breakers.resize(counts.len(), None);
        let mut edges = Vec::with_capacity(counts.len());
        for e in 0..counts.len() {
            edges.push(EdgeBucket {
                counts: minus(&counts[e], &tr.marks[e]),
                breaker: states[e],
            });
            tr.marks[e] = counts[e];
            if states[e] != tr.breakers[e] {
                let kind = match states[e] {
                    Some(BreakerState::Open) => "breaker_open",
                    Some(BreakerState::HalfOpen) => "breaker_half_open",
                    _ => "breaker_closed",
                };
                if tr.breakers[e].is_some() || states[e] != Some(BreakerState::Closed) {
                    events.push(TraceEvent {
                        t: now,
                        kind,
                        subject: Subject::Edge(e),
                    });
                }
                tr.breakers[e] = states[e];
            }
        }
        tr.events.extend(events);
        tr.buckets.push(Bucket {
            start: from,
            end: now,
            services,
            edges,
        });
    }
}

fn spec_region_up(t: &Trial<'_>, r: usize) -> bool {
    t.world.groups[t.world.replicas[r].group]
        .region
        .is_none_or(|reg| t.availability.region_up[reg])
}
