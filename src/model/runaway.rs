//! The runaway guard: which part of the model a trial stopped by a budget
//! is to blame, turned into the [`Runaway`] report (whose data type lives in
//! [`crate::error`], below the model).
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
//! the service with the most requests queued; for work done inside events
//! (the fault component's, see [`crate::engine::Model::work`]), to the
//! fault with the most occurrences.

use std::collections::BTreeMap;

use super::event::{AvailabilityEvent, Event};
use super::fault::Faults;
use super::traffic::Traffic;
use super::world::World;
use crate::engine::{EventQueue, Halt, STALL_EVENTS, Stopped};
pub use crate::error::Runaway;

/// Pending events inspected to find the part a runaway loop belongs to.
pub const SAMPLE: usize = 10_000;

/// The part an availability event belongs to.
fn availability_owner(w: &World, event: AvailabilityEvent) -> Part {
    match event {
        AvailabilityEvent::RegionDown(r) | AvailabilityEvent::RegionUp(r) => Part::Region(r as usize),
        AvailabilityEvent::ReplicaDown { replica: r, .. } | AvailabilityEvent::ReplicaUp(r) => {
            Part::Service(w.replicas[r as usize].service)
        }
        AvailabilityEvent::Promote { group: g, .. }
        | AvailabilityEvent::Restore { group: g, .. }
        | AvailabilityEvent::Unroute { group: g, .. } => Part::Service(w.groups[g as usize].service),
        AvailabilityEvent::Reroute { service, .. } => Part::Service(service as usize),
        AvailabilityEvent::ZoneDown(z) | AvailabilityEvent::ZoneUp(z) => Part::Region(w.infra.zones[z as usize].region),
        AvailabilityEvent::ZoneHold { replica, .. } => Part::Service(w.replicas[replica as usize].service),
        AvailabilityEvent::Shock(c) => Part::Service(w.infra.common[c as usize].service),
        AvailabilityEvent::SpareArrives(s) => Part::Service(s as usize),
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

/// Turns an early stop of trial `trial` into a [`Runaway`] naming the
/// part to blame. Consumes pending events (the trial is over anyway).
pub(super) fn blame(
    world: &World,
    traffic: &Traffic,
    faults: &Faults,
    queue: &mut EventQueue<Event>,
    trial: u64,
    stopped: Stopped,
) -> Runaway {
    let limit = match stopped.halt {
        Halt::Events | Halt::Work => world.limits.events_per_trial,
        Halt::Stalled => STALL_EVENTS,
        Halt::Model => world.limits.in_flight,
    };
    let blame = Blame { world, traffic };
    let culprit = match stopped.halt {
        Halt::Model => blame.in_flight_culprit(),
        Halt::Work => blame.busiest_fault(faults).unwrap_or_else(|| blame.busiest_part(queue)),
        Halt::Events | Halt::Stalled => blame.busiest_part(queue),
    };
    Runaway {
        trial,
        at: stopped.at,
        halt: stopped.halt,
        limit,
        culprit,
    }
}

/// What the blame reads: the world's names and the requests in flight.
struct Blame<'a> {
    world: &'a World,
    traffic: &'a Traffic,
}

impl Blame<'_> {
    fn name(&self, part: Part) -> String {
        let n = &self.world.names;
        let get = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_else(|| format!("#{i}"));
        match part {
            Part::Service(s) => format!("service \"{}\"", get(&n.services, s)),
            Part::Edge(e) => format!("edge \"{}\"", self.world.edges[e].name),
            Part::Region(r) => format!("region \"{}\"", get(&n.regions, r)),
        }
    }

    fn owner(&self, event: Event) -> Option<Part> {
        let w = self.world;
        let t = &self.traffic;
        Some(match event {
            Event::Availability(event) => availability_owner(w, event),
            Event::HealthCheck(g) => Part::Service(w.groups[g as usize].service),
            Event::Arrival(wl) => Part::Edge(w.workloads[wl as usize].edge),
            Event::Retry(call)
            | Event::BulkheadAdmit(call)
            | Event::QueueTimeout { call, .. }
            | Event::AttemptTimeout { call, .. }
            | Event::PolicyTimeout { call, .. } => Part::Edge(t.call_edge(call)?),
            Event::EdgeTimers { edge, .. } => Part::Edge(edge as usize),
            Event::ServiceDone(job) => Part::Service(t.job_service(job)?),
            // Timeline ticks, and any event kind added later, belong to no part.
            #[allow(unreachable_patterns)]
            _ => return None,
        })
    }

    /// The part owning the most of the next [`SAMPLE`] pending events.
    fn busiest_part(&self, queue: &mut EventQueue<Event>) -> String {
        let mut counts: BTreeMap<Part, usize> = BTreeMap::new();
        let mut seen = 0;
        while seen < SAMPLE
            && let Some((_, event)) = queue.pop()
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

    /// The fault with the most occurrences, if any started.
    fn busiest_fault(&self, faults: &Faults) -> Option<String> {
        let (f, n) = faults
            .results()
            .iter()
            .map(|r| r.occurrences)
            .enumerate()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .filter(|&(_, n)| n > 0)?;
        let name = self
            .world
            .names
            .faults
            .get(f)
            .cloned()
            .unwrap_or_else(|| format!("#{f}"));
        Some(format!(
            "fault \"{name}\" started {n} occurrences, more than any other fault"
        ))
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
        let mut queued = vec![0u64; self.world.services.len()];
        for (r, waiting) in t.waiting().enumerate() {
            queued[self.world.replicas[r].service] += u64::from(waiting);
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
