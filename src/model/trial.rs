//! One trial: the components of the model joined on one event queue. The
//! trial owns the queue and the components, hands each event to the
//! component it belongs to, and carries out the effects one component's
//! handler asks of another (see [`super`] for the diagram).

mod autoscale;
pub mod ops;

use super::availability::{Availability, Effect, FailureOnly};
use super::event::Context;
pub use super::event::Event;
use super::event::{FaultEvent, ProbeEvent};
use super::fault::{FaultReach, Faults};
pub use super::result::{PerPart, TrialResult};
use super::runaway::{self, Runaway};
use super::trace::{ServiceBucket, Trace};
use super::traffic::workflow::WorkflowHistograms;
use super::traffic::{Requests, Traffic};
use super::world::World;
use crate::engine::{self, EventQueue, Model, Nanos, Stopped};

/// A reusable trial runner for one world: allocate once, run many trials.
pub struct Trial<'w> {
    pub(super) world: &'w World,
    pub(super) queue: EventQueue<Event>,
    /// Regions, replicas, groups and routing.
    pub(super) availability: Availability,
    /// Injected faults and their overlay.
    pub(super) faults: Faults,
    /// Recording of this trial's story, when asked for.
    pub(super) trace: Option<Box<Trace>>,
    pub(super) traffic: Traffic,
    /// Deploys and maintenance windows.
    pub(super) ops: ops::Ops,
}

impl<'w> Trial<'w> {
    /// A runner for `world`.
    pub fn new(world: &'w World) -> Self {
        Self {
            world,
            queue: EventQueue::new(),
            availability: Availability::new(world),
            faults: Faults::default(),
            trace: None,
            traffic: Traffic::new(),
            ops: ops::Ops::default(),
        }
    }

    /// Records every saga state transition of the next trials in
    /// `TrafficResult::saga_log` (off by default: it costs memory).
    pub fn record_sagas(&mut self, on: bool) {
        self.traffic.record_sagas(on);
    }

    /// Latency histograms of the last trial's sagas, per workflow.
    pub fn workflow_histograms(&self) -> &[WorkflowHistograms] {
        self.traffic.workflow_histograms()
    }

    /// The request component and what it may use of the others, for one
    /// event.
    #[inline(always)]
    pub(super) fn requests(&mut self) -> Requests<'_> {
        Requests::new(
            self.world,
            &mut self.queue,
            &mut self.trace,
            &mut self.traffic,
            &self.availability,
            &mut self.faults,
        )
    }

    /// Latency of the last trial's requests (microseconds).
    pub fn latency(&self) -> &hdrhistogram::Histogram<u64> {
        &self.traffic.latency
    }

    /// Latency of the last trial's served requests (full successes and
    /// degraded ones), microseconds.
    pub fn served_latency(&self) -> &hdrhistogram::Histogram<u64> {
        &self.traffic.served_latency
    }

    /// Per edge, the waits of the last trial's calls let in from its
    /// bulkhead's queue (microseconds); `None` where the edge has none.
    pub fn bulkhead_waits(&self) -> impl ExactSizeIterator<Item = Option<&hdrhistogram::Histogram<u64>>> {
        self.traffic.bulkhead_waits()
    }

    /// Per edge, the last trial's calls that gave up in its bulkhead's
    /// queue; `None` where none did or the edge has no bulkhead.
    pub fn bulkhead_gave_up(&self) -> impl ExactSizeIterator<Item = Option<&crate::resilience::bulkhead::GaveUp>> {
        self.traffic.bulkhead_gave_up()
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
            self.requests().start_traffic(seed, trial, start.now());
        }
        self.faults.clear(self.world, seed, trial);
        self.run_to_horizon(trial)
    }

    fn run_to_horizon(&mut self, trial: u64) -> Result<TrialResult, Runaway> {
        let horizon = self.world.horizon;
        let events = engine::run_within(self, horizon, self.world.limits.events_per_trial);
        let events = events.map_err(|stopped| self.runaway(trial, stopped))?;
        self.availability.advance(self.world, horizon);
        if self.world.has_traffic() {
            self.requests().finish_traffic(horizon);
        }
        self.finish_faults(horizon);
        let mut result = self.availability.finish(self.world, events);
        result.traffic = self.world.has_traffic().then(|| self.traffic.result.clone());
        if let (Some(t), Some(spec), Some(series)) = (&mut result.traffic, &self.world.slo, &self.traffic.series) {
            t.slo = Some(super::slo::analyse(series, spec));
        }
        result.faults = self.faults.results().to_vec();
        result.ops = self.ops.finish(horizon, self.availability.tagged_ns());
        Ok(result)
    }

    fn reset(&mut self, seed: u64, trial: u64) {
        self.queue.clear();
        let (availability, mut cx) = self.split(0);
        availability.reset(&mut cx, seed, trial);
        if self.world.has_traffic() {
            self.requests().reset_traffic(seed, trial);
        }
        self.reset_faults(seed, trial);
        let mut cx = Context {
            world: self.world,
            queue: &mut self.queue,
            trace: &mut self.trace,
            now: 0,
        };
        self.ops.reset(&mut cx, seed, trial);
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
            Effect::Detected => self.faults.signal(now),
            Effect::ReplicaLost { replica, reset } => {
                let replica = replica as usize;
                if reset {
                    self.requests().kill_replica_jobs(replica, now);
                }
                let (availability, mut cx) = self.split(now);
                availability.settle_loss(&mut cx, replica);
            }
            Effect::RegionChanged { region, up } => {
                let region = region as usize;
                for i in 0..self.world.region_groups[region].len() {
                    let g = self.world.region_groups[region][i];
                    self.faults.add_work(1 + self.world.groups[g].replicas.len());
                    if !up {
                        for replica in self.world.groups[g].replicas.clone() {
                            self.requests().kill_replica_jobs(replica, now);
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

/// The fault component's events, and what a fault asks of the others.
impl Trial<'_> {
    /// The fault component and the context its handlers run in.
    #[inline(always)]
    fn split_faults(&mut self, now: Nanos) -> (&mut Faults, Context<'_>) {
        let cx = Context {
            world: self.world,
            queue: &mut self.queue,
            trace: &mut self.trace,
            now,
        };
        (&mut self.faults, cx)
    }

    /// Resets the fault component for trial `trial` and schedules each
    /// fault's first occurrence.
    fn reset_faults(&mut self, seed: u64, trial: u64) {
        let w = self.world;
        self.faults.clear(w, seed, trial);
        let (faults, mut cx) = self.split_faults(0);
        faults.schedule_first(&mut cx);
        if self.trace.is_some() && w.has_traffic() {
            self.start_probing(0);
        }
    }

    /// The trial's requests and successes so far (for the occurrences).
    fn request_counts(&self) -> (u64, u64) {
        (self.traffic.result.requests, self.traffic.result.success)
    }

    fn start_probing(&mut self, now: Nanos) {
        if self.faults.probing() {
            return;
        }
        let opened = self.traffic.breakers_opened();
        let (faults, mut cx) = self.split_faults(now);
        faults.start_probing(&mut cx, &opened);
    }

    fn on_fault(&mut self, event: FaultEvent, now: Nanos) {
        match event {
            FaultEvent::Start(f) => {
                let f = f as usize;
                let (faults, mut cx) = self.split_faults(now);
                let end = faults.start(&mut cx, f);
                self.apply_fault(f, now, true);
                if self.world.has_traffic() {
                    let counts = self.request_counts();
                    self.faults.open(f, now, end, counts);
                    self.start_probing(now);
                }
            }
            FaultEvent::End(f) => {
                let f = f as usize;
                let (faults, mut cx) = self.split_faults(now);
                faults.end(&mut cx, f);
                self.apply_fault(f, now, false);
                let counts = self.request_counts();
                let (faults, mut cx) = self.split_faults(now);
                faults.close(&mut cx, f, counts);
            }
            FaultEvent::Probe => self.on_probe(now),
        }
    }

    /// Turns fault `f`'s effects on or off: the overlay in the fault
    /// component, then what it reaches in the others.
    fn apply_fault(&mut self, f: usize, now: Nanos, on: bool) {
        let w = self.world;
        let spec = &w.faults[f];
        self.faults.add_work(spec.replicas.len() + spec.edges.len());
        match self.faults.apply(w, f, on) {
            FaultReach::Overlay => {}
            FaultReach::Hold { hang } => {
                for &r in &spec.replicas {
                    if hang {
                        if !on && self.faults.take_cured(f, r) {
                            // A liveness restart already let go of it.
                            continue;
                        }
                        self.faults.hold_hung(r, on);
                    }
                    self.hold_replica(r, now, on, !hang);
                }
                if let Some(region) = spec.region {
                    self.availability.hold_region(region, on);
                    self.set_region(region, now);
                }
            }
            FaultReach::Refresh => {
                for &r in &spec.replicas {
                    if self.faults.refresh(w, r) {
                        self.requests().fill_slots(r, now);
                    }
                }
            }
        }
    }

    /// A crash or hang fault takes hold of replica `r`, or lets go.
    pub(super) fn hold_replica(&mut self, r: usize, now: Nanos, on: bool, reset: bool) {
        if !self.availability.hold_replica(r, on) {
            return;
        }
        if on {
            self.replica_lost(r, now, reset);
            if !self.availability.ages(self.world, r) {
                // A cold standby does not age while it is held down.
                self.availability.stop_clock(r);
            }
        } else {
            let aged = self.availability.ages(self.world, r);
            self.replica_back(r, now);
            if !aged && self.availability.ages(self.world, r) {
                let (availability, mut cx) = self.split(now);
                availability.restart_clock(&mut cx, r);
            }
        }
    }

    /// A liveness restart of replica `r` ended `holds` hang faults' hold
    /// on it (in the overlay, see `Faults::cure_hang`): they let go of it
    /// here too, so it serves again once the restart is over, unless
    /// something else holds it down.
    fn cure_hang(&mut self, r: usize, holds: u32, now: Nanos) {
        for _ in 0..holds {
            self.hold_replica(r, now, false, false);
        }
    }

    fn on_probe(&mut self, now: Nanos) {
        let opened = self.traffic.breakers_opened();
        let (from, bad) = self.faults.probe_open(self.world, now, opened);
        self.trace_bucket(from, now, &bad);
        let (faults, mut cx) = self.split_faults(now);
        faults.probe_close(&mut cx, from, &bad);
    }

    pub(super) fn finish_faults(&mut self, horizon: Nanos) {
        if self.faults.probe_due(horizon) {
            // The last bucket ends at the horizon, where no event runs.
            self.on_probe(horizon);
        }
        let counts = self.request_counts();
        self.faults.finish(self.world, horizon, counts);
    }
}

/// The trace's hooks: each is one test of an `Option` when no trace is kept.
impl Trial<'_> {
    /// Runs trial `trial` of seed `seed`, recording its story.
    ///
    /// # Errors
    /// The trial ran away (a budget of `[limits]` was exceeded).
    pub fn run_traced(&mut self, seed: u64, trial: u64) -> Result<(TrialResult, Trace), Runaway> {
        self.trace = Some(Box::default());
        let result = self.run(seed, trial);
        let mut trace = self.trace.take().map(|b| *b).unwrap_or_default();
        trace.finish(self.world.horizon);
        Ok((result?, trace))
    }

    /// Turns an early stop of trial `trial` into a [`Runaway`] naming the
    /// part to blame. Consumes pending events (the trial is over anyway).
    fn runaway(&mut self, trial: u64, stopped: Stopped) -> Runaway {
        runaway::blame(self.world, &self.traffic, &self.faults, &mut self.queue, trial, stopped)
    }

    /// Records the bucket `[from, now)`; `bad` says which services fell
    /// below the threshold.
    fn trace_bucket(&mut self, from: Nanos, now: Nanos, bad: &[bool]) {
        if self.trace.is_none() {
            return;
        }
        let w = self.world;
        let mut services = vec![ServiceBucket::default(); w.services.len()];
        for (s, sb) in services.iter_mut().enumerate() {
            let [ok, all] = self.faults.seen()[s];
            sb.ok = ok;
            sb.attempts = all;
            sb.bad = bad[s];
        }
        for (r, spec) in w.replicas.iter().enumerate() {
            let sb = &mut services[spec.service];
            let (busy, queued) = self.traffic.load_of(r);
            sb.busy += busy;
            sb.queued += queued;
            let region_up = w.groups[spec.group]
                .region
                .is_none_or(|reg| self.availability.region_up[reg]);
            sb.up += u32::from(self.availability.replicas[r].up && region_up);
        }
        let states = self.traffic.breaker_states(now);
        if let Some(tr) = self.trace.as_mut() {
            tr.bucket(from, now, services, &self.traffic.result.edges, &states);
        }
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
            Event::Arrival(w) => self.requests().on_arrival(w as usize, now),
            Event::Retry(call) => self.requests().start_attempt(call, now),
            Event::BulkheadAdmit(call) => self.requests().on_bulkhead_admit(call, now),
            Event::QueueTimeout { call, epoch } => self.requests().on_queue_timeout(call, epoch, now),
            Event::AttemptTimeout { call, epoch } => self.requests().on_attempt_timeout(call, epoch, now),
            Event::EdgeTimers { edge, kind } => self.requests().on_edge_timers(edge as usize, kind, now),
            Event::ServiceDone(job) => self.requests().on_service_done(job, now),
            Event::HealthCheck(g) => self.requests().on_health_check(g as usize, now),
            Event::Tick(b) => self.requests().on_tick(b as usize, now),
            Event::Fault(event) => self.on_fault(event, now),
            Event::Deliver(job) => self.requests().on_deliver(job, now),
            Event::Uneject(r) => self.requests().on_uneject(r as usize, now),
            Event::SagaResume(saga) => self.requests().on_saga_resume(saga, now),
            Event::Ops(event) => self.on_ops(event, now),
            Event::Hedge { call, epoch } => self.requests().on_hedge(call, epoch, now),
            Event::Probe(ProbeEvent::Cure { replica, holds }) => self.cure_hang(replica as usize, holds, now),
            Event::Probe(event) => self.requests().on_probe_event(event, now),
            Event::PolicyTimeout { call, epoch, whole } => self.requests().on_policy_timeout(call, epoch, whole, now),
            Event::Autoscale(event) => self.on_autoscale(event, now),
            Event::Gc { replica, end } => self.requests().on_gc(replica as usize, end, now),
        }
        self.availability.settle(self.world);
    }

    fn halted(&self) -> bool {
        self.traffic.in_flight() > self.world.limits.in_flight
    }

    #[inline]
    fn work(&self) -> u64 {
        self.faults.work()
    }
}
