//! One trial: the components of the model joined on one event queue. The
//! trial owns the queue and the components, hands each event to the
//! component it belongs to, and carries out the effects one component's
//! handler asks of another (see [`super`] for the diagram).

use super::availability::{Availability, AvailabilityEvent, Context, Effect, FailureOnly};
use super::fault::{FaultResult, FaultState};
use super::runaway::Runaway;
use super::slab::Key;
use super::traffic::TimerKind;
use super::traffic::{Traffic, TrafficResult};
use super::world::World;
use crate::engine::{self, EventQueue, Model, Nanos};

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
    /// A fault occurrence starts.
    FaultStart(u32),
    /// A fault occurrence ends.
    FaultEnd(u32),
    /// A cascade measurement bucket ends.
    Probe,
    /// An attempt delayed on a slow link reaches its replica.
    Deliver(Key),
    /// An ejected replica returns to its balancer.
    Uneject(u32),
    /// After a pivot, a saga calls a step that gave up again.
    SagaResume(Key),
}

/// One figure per service or region. Small scenarios keep them inline, so
/// a trial's result costs no allocation (it matters at 10^5 trials a second).
pub type PerPart = smallvec::SmallVec<[f64; 4]>;

/// What one trial measured. Times are in seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrialResult {
    /// Entry availability: served share of the horizon.
    pub availability: f64,
    /// Entry downtime (traffic-weighted).
    pub downtime: f64,
    /// Maximal periods of non-zero length with some entry traffic lost.
    pub incidents: u32,
    /// Longest such period.
    pub longest_outage: f64,
    /// Per service: availability including what it requires.
    pub services: PerPart,
    /// Per service: availability by its own topology rule alone.
    pub own: PerPart,
    /// Per service: entry downtime while this service's own rule was broken.
    pub cause_services: PerPart,
    /// Per region: availability.
    pub regions: PerPart,
    /// Per region: entry downtime while this region was down.
    pub cause_regions: PerPart,
    /// Events handled.
    pub events: u64,
    /// Request-level figures, when the scenario has workloads.
    pub traffic: Option<TrafficResult>,
    /// Per injected fault (empty without faults).
    pub faults: Vec<FaultResult>,
}

/// A reusable trial runner for one world: allocate once, run many trials.
pub struct Trial<'w> {
    pub(super) world: &'w World,
    pub(super) queue: EventQueue<Event>,
    /// Regions, replicas, groups and routing.
    pub(super) availability: Availability,
    pub(super) faults: FaultState,
    /// Recording of this trial's story, when asked for.
    pub(super) trace: Option<Box<super::trace::Trace>>,
    pub(super) traffic: Traffic,
}

impl<'w> Trial<'w> {
    /// A runner for `world`.
    pub fn new(world: &'w World) -> Self {
        Self {
            world,
            queue: EventQueue::new(),
            availability: Availability::new(world),
            faults: FaultState::default(),
            trace: None,
            traffic: Traffic::new(),
        }
    }

    /// Latency of the last trial's requests (microseconds).
    pub fn latency(&self) -> &hdrhistogram::Histogram<u64> {
        &self.traffic.latency
    }

    /// Runs trial `trial` of master seed `seed`.
    ///
    /// # Errors
    /// [`Runaway`] when the trial exceeds a budget of `[limits]`.
    pub fn run(&mut self, seed: u64, trial: u64) -> Result<TrialResult, Runaway> {
        self.reset(seed, trial);
        self.run_to_horizon(trial)
    }

    /// Starts the request component of trial `trial` from the availability
    /// state `start` reached (alone) at its clock, and runs both to the
    /// horizon: what serves, and what is pending, carry over; requests
    /// arrive from `start.now()` on. Injected faults are not part of a
    /// failure-only state, and none runs in the window.
    ///
    /// # Errors
    /// [`Runaway`] when the window exceeds a budget of `[limits]`.
    pub fn run_from(&mut self, start: &FailureOnly<'_>, seed: u64, trial: u64) -> Result<TrialResult, Runaway> {
        self.queue = start.queue.clone();
        self.availability = start.availability.clone();
        if self.world.has_traffic() {
            self.start_traffic(seed, trial, start.now());
        }
        self.clear_faults(seed, trial);
        self.run_to_horizon(trial)
    }

    fn run_to_horizon(&mut self, trial: u64) -> Result<TrialResult, Runaway> {
        let horizon = self.world.horizon;
        let events = engine::run_within(self, horizon, self.world.limits.events_per_trial);
        let events = events.map_err(|stopped| self.runaway(trial, stopped))?;
        self.availability.advance(self.world, horizon);
        if self.world.has_traffic() {
            self.finish_traffic(horizon);
        }
        self.finish_faults(horizon);
        let mut result = self.availability.finish(self.world, events);
        result.traffic = self.world.has_traffic().then(|| self.traffic.result.clone());
        result.faults = self.faults.results.clone();
        Ok(result)
    }

    fn reset(&mut self, seed: u64, trial: u64) {
        self.queue.clear();
        let (availability, mut cx) = self.split(0);
        availability.reset(&mut cx, seed, trial);
        if self.world.has_traffic() {
            self.reset_traffic(seed, trial);
        }
        self.reset_faults(seed, trial);
    }

    /// The availability component and the context its handlers run in.
    #[inline(always)]
    pub(super) fn split(&mut self, now: Nanos) -> (&mut Availability, Context<'_>) {
        let cx = Context {
            world: self.world,
            queue: &mut self.queue,
            trace: &mut self.trace,
            now,
        };
        (&mut self.availability, cx)
    }

    /// Carries out what a component's handler asked of the others.
    #[inline(always)]
    fn dispatch(&mut self, effect: Effect, now: Nanos) {
        match effect {
            Effect::None => {}
            Effect::Detected => self.fault_signal(now),
            Effect::ReplicaLost { replica, reset } => {
                if reset {
                    self.kill_replica_jobs(replica, now);
                }
                let (availability, mut cx) = self.split(now);
                availability.settle_loss(&mut cx, replica);
            }
            Effect::RegionChanged { region, up } => {
                for i in 0..self.world.region_groups[region].len() {
                    let g = self.world.region_groups[region][i];
                    if !up {
                        for replica in self.world.groups[g].replicas.clone() {
                            self.kill_replica_jobs(replica, now);
                        }
                    }
                    let (availability, mut cx) = self.split(now);
                    availability.update_group(&mut cx, g);
                }
            }
        }
    }

    /// The replica stops serving (a fault). With `reset`, connections to
    /// it are reset; a hung replica keeps them.
    pub(super) fn replica_lost(&mut self, r: usize, now: Nanos, reset: bool) {
        let (availability, mut cx) = self.split(now);
        let effect = availability.lose(&mut cx, r, reset);
        self.dispatch(effect, now);
    }

    /// The replica serves again (a fault released it).
    pub(super) fn replica_back(&mut self, r: usize, now: Nanos) {
        let (availability, mut cx) = self.split(now);
        availability.back(&mut cx, r);
    }

    /// Applies a change of region `r`'s effective state.
    pub(super) fn set_region(&mut self, r: usize, now: Nanos) {
        let (availability, mut cx) = self.split(now);
        let effect = availability.set_region(&mut cx, r);
        self.dispatch(effect, now);
    }
}

impl Model for Trial<'_> {
    type Event = Event;

    fn queue(&mut self) -> &mut EventQueue<Event> {
        &mut self.queue
    }

    fn handle(&mut self, now: Nanos, event: Event) {
        match event {
            Event::Availability(event) => {
                let (availability, mut cx) = self.split(now);
                let effect = availability.handle(&mut cx, event);
                self.dispatch(effect, now);
            }
            Event::Arrival(w) => self.on_arrival(w as usize, now),
            Event::Retry(call) => self.start_attempt(call, now),
            Event::BulkheadAdmit(call) => self.on_bulkhead_admit(call, now),
            Event::QueueTimeout { call, epoch } => self.on_queue_timeout(call, epoch, now),
            Event::AttemptTimeout { call, epoch } => self.on_attempt_timeout(call, epoch, now),
            Event::EdgeTimers { edge, kind } => self.on_edge_timers(edge as usize, kind, now),
            Event::ServiceDone(job) => self.on_service_done(job, now),
            Event::HealthCheck(g) => self.on_health_check(g as usize, now),
            Event::Tick(b) => self.on_tick(b as usize, now),
            Event::FaultStart(f) => self.on_fault_start(f as usize, now),
            Event::FaultEnd(f) => self.on_fault_end(f as usize, now),
            Event::Probe => self.on_probe(now),
            Event::Deliver(job) => self.on_deliver(job, now),
            Event::Uneject(r) => self.on_uneject(r as usize, now),
            Event::SagaResume(saga) => self.on_saga_resume(saga, now),
        }
        self.availability.settle(self.world);
    }

    fn halted(&self) -> bool {
        self.traffic.in_flight() > self.world.limits.in_flight
    }
}
