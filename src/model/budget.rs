//! Runaway trials: what stopped one, and which part of the model is to
//! blame.
//!
//! The engine stops a trial that exceeds `limits.events_per_trial`, whose
//! clock stands still ([`crate::engine::STALL_EVENTS`] events at one
//! instant), or whose calls and jobs alive exceed `limits.in_flight`
//! (checked after every event by [`crate::engine::Model::halted`]). Nothing
//! of the trial is kept; the run fails with a [`Runaway`] that names the
//! responsible service, edge or region and the simulated time, so that the
//! user can fix the model or raise the budget. The blame is deterministic:
//! for an event budget or a stall it goes to the part owning the most of the
//! next [`SAMPLE`] pending events (those are the ones the loop keeps making);
//! for in-flight requests, to the edge with the most calls unfinished and
//! the service with the most requests queued.

use std::collections::BTreeMap;
use std::fmt;

use super::trial::{Event, Trial};
use crate::engine::time::to_secs;
use crate::engine::{Halt, Nanos, STALL_EVENTS, Stopped};
use crate::scenario::Scenario;

/// Pending events inspected to find the part a runaway loop belongs to.
pub const SAMPLE: usize = 10_000;

/// Names of the parts of a world, for messages.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Service names, by index.
    pub services: Vec<String>,
    /// Region names, by index.
    pub regions: Vec<String>,
}

impl Names {
    /// The names of `sc`'s services and regions.
    pub fn of(sc: &Scenario) -> Self {
        Self {
            services: sc.services.iter().map(|s| s.name.clone()).collect(),
            regions: sc.regions.iter().map(|r| r.name.clone()).collect(),
        }
    }
}

/// A trial stopped by a budget of `[limits]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runaway {
    /// Trial index.
    pub trial: u64,
    /// Simulated time it stopped at.
    pub at: Nanos,
    /// Which budget.
    pub halt: Halt,
    /// The budget's value.
    pub limit: u64,
    /// The part responsible, as `service "db"`, `edge "web->db"` or
    /// `region "eu"`, with what it holds.
    pub culprit: String,
}

impl fmt::Display for Runaway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = to_secs(self.at);
        write!(
            f,
            "trial {} stopped at simulated time {secs:.9} s ({}): ",
            self.trial,
            crate::report::human_duration(secs)
        )?;
        let (what, help) = match self.halt {
            Halt::Events => (
                format!(
                    "it used up its budget of {} events (limits.events_per_trial)",
                    self.limit
                ),
                "a model this busy is usually running away (retries feeding an unbounded queue, failures and \
                 repairs of near-zero length); if it is genuine, shorten horizon or raise the budget with \
                 [limits] events_per_trial = N or --set limits.events_per_trial=N",
            ),
            Halt::Stalled => (
                format!("simulated time stopped advancing ({STALL_EVENTS} events in a row at that instant)"),
                "a delay of zero (or a few nanoseconds) makes a loop: lengthen that part's durations",
            ),
            Halt::Model => (
                format!(
                    "more than {} calls and jobs were in flight at once (limits.in_flight)",
                    self.limit
                ),
                "requests pile up faster than they finish: bound the queue (queue = 256), add a timeout, a retry \
                 budget or a circuit breaker, or raise the budget with [limits] in_flight = N or \
                 --set limits.in_flight=N",
            ),
        };
        write!(f, "{what}; {}\n  help: {help}", self.culprit)
    }
}

/// A part of the model events belong to; ordered so that ties name the
/// first in a fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Service(usize),
    Edge(usize),
    Region(usize),
}

impl Trial<'_> {
    /// Turns an early stop of trial `trial` into a [`Runaway`] naming the
    /// part to blame. Consumes pending events (the trial is over anyway).
    pub(super) fn runaway(&mut self, trial: u64, stopped: Stopped) -> Runaway {
        let limit = match stopped.halt {
            Halt::Events => self.w.limits.events_per_trial,
            Halt::Stalled => STALL_EVENTS,
            Halt::Model => self.w.limits.in_flight,
        };
        let culprit = match stopped.halt {
            Halt::Model => self.in_flight_culprit(),
            Halt::Events | Halt::Stalled => self.busiest_part(),
        };
        Runaway {
            trial,
            at: stopped.at,
            halt: stopped.halt,
            limit,
            culprit,
        }
    }

    fn name(&self, part: Part) -> String {
        let n = &self.w.names;
        let get = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_else(|| format!("#{i}"));
        match part {
            Part::Service(s) => format!("service \"{}\"", get(&n.services, s)),
            Part::Edge(e) => format!("edge \"{}\"", self.w.edges[e].name),
            Part::Region(r) => format!("region \"{}\"", get(&n.regions, r)),
        }
    }

    fn owner(&self, event: Event) -> Option<Part> {
        let w = self.w;
        let t = &self.traffic;
        Some(match event {
            Event::RegionDown(r) | Event::RegionUp(r) => Part::Region(r as usize),
            Event::ReplicaDown { replica: r, .. } | Event::ReplicaUp(r) => {
                Part::Service(w.replicas[r as usize].service)
            }
            Event::Promote { group: g, .. }
            | Event::Restore { group: g, .. }
            | Event::Unroute { group: g, .. }
            | Event::HealthCheck(g) => Part::Service(w.groups[g as usize].service),
            Event::Reroute { service, .. } => Part::Service(service as usize),
            Event::Arrival(wl) => Part::Edge(w.workloads[wl as usize].edge),
            Event::Retry(call)
            | Event::BulkheadAdmit(call)
            | Event::QueueTimeout { call, .. }
            | Event::AttemptTimeout { call, .. } => Part::Edge(t.call_edge(call)?),
            Event::EdgeTimers { edge, .. } => Part::Edge(edge as usize),
            Event::ServiceDone(job) => Part::Service(t.job_service(job)?),
            // Timeline ticks, and any event kind added later, belong to no part.
            #[allow(unreachable_patterns)]
            _ => return None,
        })
    }

    /// The part owning the most of the next [`SAMPLE`] pending events.
    fn busiest_part(&mut self) -> String {
        let mut counts: BTreeMap<Part, usize> = BTreeMap::new();
        let mut seen = 0;
        while seen < SAMPLE
            && let Some((_, event)) = self.queue.pop()
        {
            seen += 1;
            if let Some(part) = self.owner(event) {
                *counts.entry(part).or_default() += 1;
            }
        }
        // Highest count; among equals, the first part in `Part` order.
        match counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))) {
            Some((&part, &n)) => format!(
                "{} owns {n} of the next {seen} events due, more than any other part",
                self.name(part)
            ),
            None => "no service, edge or region owns the events due".into(),
        }
    }

    /// The edge with the most unfinished calls and the service with the
    /// most requests queued.
    fn in_flight_culprit(&self) -> String {
        let t = &self.traffic;
        let edge = t
            .result
            .edges
            .iter()
            .map(|c| c.calls.saturating_sub(c.succeeded + c.failed))
            .enumerate()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
        let mut queued = vec![0u64; self.w.services.len()];
        for (r, waiting) in t.waiting().enumerate() {
            queued[self.w.replicas[r].service] += u64::from(waiting);
        }
        let service = queued
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)));
        let calls = match edge {
            Some((e, n)) => (n, format!("{} has {n} calls unfinished", self.name(Part::Edge(e)))),
            None => (0, "no edge has calls unfinished".into()),
        };
        match service {
            // The larger pile first: that is where the memory goes.
            Some((s, &n)) if n > 0 => {
                let jobs = format!("{} has {n} requests queued", self.name(Part::Service(s)));
                if n > calls.0 {
                    format!("{jobs}, {}", calls.1)
                } else {
                    format!("{}, {jobs}", calls.1)
                }
            }
            _ => calls.1,
        }
    }
}
