//! What happens in a trial, and what a handler may use: the vocabulary the
//! components of [`super`] share. It names no component and not the trial,
//! so each of them imports it, and none imports the trial or another
//! component to schedule an event. (It names the trace's types, which
//! name no component either.)
//!
//! - [`Event`]: one enum for the trial's queue, with the availability and
//!   fault components' events as sub-enums ([`AvailabilityEvent`],
//!   [`FaultEvent`]) and the request events beside them.
//! - [`Context`]: the compiled world, the queue, the clock and the trace,
//!   lent to a handler for one event.

use super::slab::Key;
use super::trace::{Subject, Trace};
use super::world::World;
use crate::engine::{EventQueue, Nanos};

/// What can happen.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// Failure, repair, failover and routing: the availability component.
    Availability(AvailabilityEvent),
    /// A request arrives from a workload.
    Arrival(u32),
    /// A call's backoff is over: try again.
    Retry(Key),
    /// A call waiting in a bulkhead was let in.
    BulkheadAdmit(Key),
    /// A call waited too long in a bulkhead queue.
    QueueTimeout {
        /// The call.
        call: Key,
        /// Its attempt epoch when scheduled.
        epoch: u32,
    },
    /// An attempt's timeout.
    AttemptTimeout {
        /// The call.
        call: Key,
        /// Its attempt epoch when scheduled.
        epoch: u32,
    },
    /// The head of one of an edge's timer FIFOs is due.
    EdgeTimers {
        /// The edge.
        edge: u32,
        /// Which FIFO.
        kind: TimerKind,
    },
    /// A replica finished serving a job.
    ServiceDone(Key),
    /// A load balancer probes a replica group.
    HealthCheck(u32),
    /// A timeline bucket ends.
    Tick(u32),
    /// Injected faults: the fault component.
    Fault(FaultEvent),
    /// An attempt delayed on a slow link reaches its replica.
    Deliver(Key),
    /// An ejected replica returns to its balancer.
    Uneject(u32),
    /// After a pivot, a saga calls a step that gave up again.
    SagaResume(Key),
    /// Deploys and maintenance windows: the operations component.
    Ops(OpsEvent),
    /// An attempt's hedge delay is over.
    Hedge {
        /// The call.
        call: Key,
        /// Its attempt epoch when scheduled.
        epoch: u32,
    },
    /// Request probes, restarts and interval outlier detection.
    Probe(ProbeEvent),
    /// A timeout on an edge with a policy `order`, where it does not sit
    /// innermost (`traffic::order`).
    PolicyTimeout {
        /// The call.
        call: Key,
        /// Its attempt epoch when scheduled (ignored when `whole`).
        epoch: u32,
        /// It bounds the whole retried call, not one attempt.
        whole: bool,
    },
    /// Autoscalers: evaluations, provisioned and drained replicas.
    Autoscale(AutoscaleEvent),
    /// A replica's stop-the-world pause process (`traffic::gc`).
    Gc {
        /// Replica.
        replica: u32,
        /// The end of a pause (else a candidate start).
        end: bool,
    },
}

/// What the autoscalers' events say (`traffic::autoscale`).
#[derive(Debug, Clone, Copy)]
pub enum AutoscaleEvent {
    /// A replica group's autoscaler evaluates its metric.
    Evaluate(u32),
    /// A replica's provisioning delay is over: it serves.
    Provisioned {
        /// Replica.
        replica: u32,
        /// Its slot generation when scheduled.
        gen_: u32,
    },
    /// A draining replica finished its last job: it leaves.
    Drained {
        /// Replica.
        replica: u32,
        /// Its slot generation when scheduled.
        gen_: u32,
    },
}

/// What the request probes' events say (`traffic::probe`).
#[derive(Debug, Clone, Copy)]
pub enum ProbeEvent {
    /// The orchestrator probes the liveness of a replica group.
    Liveness(u32),
    /// A probe's timeout: it fails unless answered.
    Timeout {
        /// Replica.
        replica: u32,
        /// Readiness (0) or liveness (1).
        kind: u8,
        /// The probe's sequence number.
        seq: u32,
    },
    /// A restarted replica is back.
    Restarted(u32),
    /// The interval outlier detectors judge a replica group.
    Sweep(u32),
    /// A liveness restart cured a hung replica: the hang faults' holds on
    /// it, already gone from the overlay, are released in the availability
    /// component too (the trial carries it out).
    Cure {
        /// Replica.
        replica: u32,
        /// Hang faults that let go of it.
        holds: u32,
    },
}

impl From<AvailabilityEvent> for Event {
    #[inline]
    fn from(event: AvailabilityEvent) -> Self {
        Event::Availability(event)
    }
}

impl From<FaultEvent> for Event {
    #[inline]
    fn from(event: FaultEvent) -> Self {
        Event::Fault(event)
    }
}

/// What the fault component's events say.
#[derive(Debug, Clone, Copy)]
pub enum FaultEvent {
    /// An occurrence of a fault starts.
    Start(u32),
    /// An occurrence of a fault ends.
    End(u32),
    /// A cascade measurement bucket ends.
    Probe,
}

/// What the availability component's events say.
#[derive(Debug, Clone, Copy)]
pub enum AvailabilityEvent {
    /// A region's outage starts.
    RegionDown(u32),
    /// A region's outage ends.
    RegionUp(u32),
    /// A replica fails (if its generation is current).
    ReplicaDown {
        /// Replica index.
        replica: u32,
        /// Generation when scheduled.
        gen_: u32,
    },
    /// A replica's repair completes.
    ReplicaUp(u32),
    /// An active-passive group's switch-over completes.
    Promote {
        /// Group index.
        group: u32,
        /// Generation when scheduled.
        gen_: u32,
    },
    /// An active-passive group's manual recovery after a failed switch-over.
    Restore {
        /// Group index.
        group: u32,
        /// Generation when scheduled.
        gen_: u32,
    },
    /// Global active-active: traffic leaves a failed region.
    Unroute {
        /// Group index.
        group: u32,
        /// Generation when scheduled.
        gen_: u32,
    },
    /// Global active-passive: traffic moves to another region.
    Reroute {
        /// Service index.
        service: u32,
        /// Generation when scheduled.
        gen_: u32,
    },
    /// A zone's outage starts.
    ZoneDown(u32),
    /// A zone's outage ends.
    ZoneUp(u32),
    /// A zone takes hold of one of its replicas (`on`), or lets go: one
    /// event per replica, so each loss is dispatched as a replica's own.
    ZoneHold {
        /// Replica index.
        replica: u32,
        /// Holding or letting go.
        on: bool,
    },
    /// A common-cause group's shock.
    Shock(u32),
    /// A reordered spare of a service arrives.
    SpareArrives(u32),
}

/// What the operations' events say.
#[derive(Debug, Clone, Copy)]
pub enum OpsEvent {
    /// Deploy `d` comes due.
    Deploy(u32),
    /// A roll's next batch starts.
    Batch {
        /// The deploy.
        deploy: u32,
        /// Its roll's generation when scheduled.
        gen_: u32,
    },
    /// A replica's restart ends.
    Restarted(u32),
    /// The canary's bake ends: its analysis judges the release.
    Baked {
        /// The deploy.
        deploy: u32,
        /// Its roll's generation when scheduled.
        gen_: u32,
    },
    /// Alerting catches a bad release.
    Alert {
        /// The deploy.
        deploy: u32,
        /// Its roll's generation when scheduled.
        gen_: u32,
    },
    /// A maintenance window opens.
    WindowOpen(u32),
    /// A maintenance window closes.
    WindowClose(u32),
}

impl From<OpsEvent> for Event {
    #[inline]
    fn from(event: OpsEvent) -> Self {
        Event::Ops(event)
    }
}

/// The timers an edge keeps in FIFOs (see `Trial::arm_timer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// An attempt's timeout.
    Attempt = 0,
    /// A call's wait in the bulkhead queue.
    Queue = 1,
}

/// What a handler may use besides its own state: the pending events, the
/// compiled world and the trace of the trial, when one is recorded.
pub struct Context<'a> {
    /// The world, read-only.
    pub world: &'a World,
    /// The trial's pending events.
    pub queue: &'a mut EventQueue<Event>,
    /// The trial's story, when asked for.
    pub trace: &'a mut Option<Box<Trace>>,
    /// The time of the event being handled.
    pub now: Nanos,
}

impl Context<'_> {
    /// Records a state change in the trace (if one is kept).
    #[inline]
    pub fn record(&mut self, kind: &'static str, subject: Subject) {
        if let Some(trace) = self.trace.as_mut() {
            trace.record(self.now, kind, subject);
        }
    }

    /// Schedules `event` `after` the current time.
    #[inline]
    pub fn schedule(&mut self, after: Nanos, event: impl Into<Event>) {
        self.queue.schedule(self.now.saturating_add(after), event.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queue holds `(time, counter, Event)`: nesting the components'
    /// events must not make an event, and so every queue entry, larger.
    #[test]
    fn an_event_stays_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Event>(), 16);
        assert_eq!(std::mem::size_of::<FaultEvent>(), 8);
        assert_eq!(std::mem::size_of::<AvailabilityEvent>(), 12);
    }
}
