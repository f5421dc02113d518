//! One trial: failure and repair processes, failover, routing, and the time
//! integrals that become availability.
//!
//! # Semantics
//! - Every component starts up at time 0. A region or replica alternates
//!   up and down, drawing each time to failure and each repair from its own
//!   random stream.
//! - A group (a service's replicas in one region) serves while its region is
//!   up and its topology rule holds: single, the replica is up;
//!   active-active, at least `min_healthy` replicas are up; active-passive,
//!   an active replica is serving.
//! - Active-passive: when the active fails the group is down for detect +
//!   switch; then the first healthy standby (lowest index) is promoted with
//!   probability `success`. If none is healthy, or the switch-over fails, the
//!   group stays down until a replica is repaired, which operators put into
//!   service at once. (When a switch-over fails with no replica under
//!   repair, because the failed active came back during the switch-over,
//!   the manual recovery takes one repair time, drawn from the service's
//!   repair distribution.) Cold standbys draw no failures while idle; their clock
//!   starts when they are promoted.
//! - Global active-active: each routed region takes an equal share of the
//!   traffic and the served share is `serving ∩ routed / routed`. A region
//!   that stops serving stays routed (its share lost) until `failover` has
//!   passed; it is routed again the moment it serves.
//! - Global active-passive: the current region serves. When it stops, a
//!   reroute fires after `failover` and picks the first listed serving
//!   region; if none serves, the first region to recover takes over at once.
//! - A service's served fraction is its own fraction times the fractions of
//!   the services it requires (independent traffic shares). The entry's
//!   fraction, integrated over the horizon, is the trial's availability.
//!
//! # Invariants
//! Timers that may be overtaken (a replica's failure while it is a cold
//! standby, a promotion, an unroute, a reroute) carry a generation number;
//! a popped timer whose generation is stale is ignored (lazy cancellation).
//! Outages of zero length are not incidents.

use rand::RngExt as _;

use super::budget::Runaway;
use super::fault::{FaultResult, FaultState};
use super::slab::Key;
use super::trace::Subject;
use super::traffic::TimerKind;
use super::traffic::{Traffic, TrafficResult};
use super::world::World;
use crate::engine::{self, EventQueue, Model, Nanos};
use crate::random::{self, Purpose, Rng};
use crate::scenario::{GlobalMode, Topology};

/// What can happen.
#[derive(Debug, Clone, Copy)]
pub enum Event {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ap {
    Serving,
    FailingOver,
    Down,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Rep {
    /// Serving: naturally up and not held down by a fault.
    pub(super) up: bool,
    pub(super) active: bool,
    gen_: u32,
    /// Up by its own failure and repair process.
    pub(super) natural: bool,
    /// Crash or hang faults holding it down.
    pub(super) held: u16,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Grp {
    up_count: u32,
    pub(super) ap: Ap,
    gen_: u32,
    serving: bool,
    pub(super) routed: bool,
    route_gen: u32,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Svc {
    own: f64,
    frac: f64,
    pub(super) current: Option<u32>,
    gen_: u32,
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
    pub(super) w: &'w World,
    pub(super) queue: EventQueue<Event>,
    region_rng: Vec<Rng>,
    replica_rng: Vec<Rng>,
    group_rng: Vec<Rng>,
    pub(super) region_up: Vec<bool>,
    /// Per region: up by its own outage process.
    pub(super) region_natural: Vec<bool>,
    /// Per region: crash faults holding it down.
    pub(super) region_held: Vec<u16>,
    pub(super) faults: FaultState,
    /// Recording of this trial's story, when asked for.
    pub(super) trace: Option<Box<super::trace::Trace>>,
    pub(super) rep: Vec<Rep>,
    pub(super) grp: Vec<Grp>,
    pub(super) svc: Vec<Svc>,
    pub(super) traffic: Traffic,
    last: Nanos,
    outage_start: Option<Nanos>,
    acc: Acc,
    /// Something that served fractions depend on changed during this event.
    dirty: bool,
}

/// Time integrals in nanoseconds (weighted by traffic share).
#[derive(Default)]
struct Acc {
    downtime: f64,
    incidents: u32,
    longest: Nanos,
    /// Per service: traffic-weighted time not served (integrating the loss
    /// rather than the service keeps a never-down service at exactly 1).
    lost: Vec<f64>,
    own_lost: Vec<f64>,
    cause_services: Vec<f64>,
    region_down: Vec<f64>,
    cause_regions: Vec<f64>,
}

impl<'w> Trial<'w> {
    /// A runner for `world`.
    pub fn new(w: &'w World) -> Self {
        let seedless = || random::stream(0, 0, Purpose::Region, 0);
        Self {
            w,
            queue: EventQueue::new(),
            region_rng: vec![seedless(); w.regions.len()],
            replica_rng: vec![seedless(); w.replicas.len()],
            group_rng: vec![seedless(); w.groups.len()],
            region_up: vec![true; w.regions.len()],
            region_natural: vec![true; w.regions.len()],
            region_held: vec![0; w.regions.len()],
            faults: FaultState::default(),
            trace: None,
            rep: Vec::with_capacity(w.replicas.len()),
            grp: Vec::with_capacity(w.groups.len()),
            svc: Vec::with_capacity(w.services.len()),
            last: 0,
            outage_start: None,
            acc: Acc::default(),
            dirty: false,
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
        let horizon = self.w.horizon;
        let events = engine::run_within(self, horizon, self.w.limits.events_per_trial);
        let events = events.map_err(|stopped| self.runaway(trial, stopped))?;
        self.advance(horizon);
        if self.w.has_traffic() {
            self.finish_traffic(horizon);
        }
        self.finish_faults(horizon);
        Ok(self.finish(events))
    }

    fn reset(&mut self, seed: u64, trial: u64) {
        let w = self.w;
        self.queue.clear();
        self.last = 0;
        self.outage_start = None;
        let (ns, nr) = (w.services.len(), w.regions.len());
        let a = &mut self.acc;
        a.downtime = 0.0;
        a.incidents = 0;
        a.longest = 0;
        for (v, n) in [
            (&mut a.lost, ns),
            (&mut a.own_lost, ns),
            (&mut a.cause_services, ns),
            (&mut a.region_down, nr),
            (&mut a.cause_regions, nr),
        ] {
            v.clear();
            v.resize(n, 0.0);
        }
        for (r, spec) in w.regions.iter().enumerate() {
            self.region_rng[r] = random::stream(seed, trial, Purpose::Region, r as u64);
            self.region_up[r] = true;
            self.region_natural[r] = true;
            self.region_held[r] = 0;
            if let Some((failure, _)) = &spec.process {
                let t = failure.sample(&mut self.region_rng[r]);
                self.queue.schedule(t, Event::RegionDown(r as u32));
            }
        }
        self.grp.clear();
        for (g, spec) in w.groups.iter().enumerate() {
            let stream = ((spec.service as u64) << 20) | spec.slot as u64;
            self.group_rng[g] = random::stream(seed, trial, Purpose::Failover, stream);
            self.grp.push(Grp {
                up_count: spec.replicas.len() as u32,
                ap: Ap::Serving,
                gen_: 0,
                serving: true,
                routed: true,
                route_gen: 0,
            });
        }
        self.rep.clear();
        for (i, spec) in w.replicas.iter().enumerate() {
            let group = &w.groups[spec.group];
            let active = group.topology != Topology::ActivePassive || i == group.replicas.start;
            self.replica_rng[i] = random::stream(seed, trial, Purpose::Replica, spec.stream);
            self.rep.push(Rep {
                up: true,
                active,
                gen_: 0,
                natural: true,
                held: 0,
            });
            if active || !group.cold {
                self.schedule_failure(i, 0);
            }
        }
        self.svc.clear();
        for spec in &w.services {
            self.svc.push(Svc {
                own: 1.0,
                frac: 1.0,
                current: Some(spec.groups.start as u32),
                gen_: 0,
            });
        }
        self.refresh();
        if w.has_traffic() {
            self.reset_traffic(seed, trial);
        }
        self.reset_faults(seed, trial);
    }

    fn schedule_failure(&mut self, replica: usize, now: Nanos) {
        let spec = &self.w.replicas[replica];
        if let Some((failure, _)) = &self.w.services[spec.service].process {
            let r = &mut self.rep[replica];
            r.gen_ = r.gen_.wrapping_add(1);
            let t = now.saturating_add(failure.sample(&mut self.replica_rng[replica]));
            self.queue.schedule(
                t,
                Event::ReplicaDown {
                    replica: replica as u32,
                    gen_: r.gen_,
                },
            );
        }
    }

    /// Integrates every metric over `[last, now)`.
    fn advance(&mut self, now: Nanos) {
        if now <= self.last {
            return;
        }
        let dt = (now - self.last) as f64;
        let w = self.w;
        let loss = 1.0 - self.svc[w.entry].frac;
        if loss > 0.0 {
            if self.outage_start.is_none() {
                self.outage_start = Some(self.last);
                self.acc.incidents += 1;
            }
            self.acc.downtime += dt * loss;
        } else if let Some(start) = self.outage_start.take() {
            self.acc.longest = self.acc.longest.max(self.last - start);
        }
        for (s, svc) in self.svc.iter().enumerate() {
            self.acc.lost[s] += dt * (1.0 - svc.frac);
            self.acc.own_lost[s] += dt * (1.0 - svc.own);
            if loss > 0.0 && svc.own < 1.0 && w.entry_needs[s] {
                self.acc.cause_services[s] += dt * loss;
            }
        }
        for (r, &up) in self.region_up.iter().enumerate() {
            if !up {
                self.acc.region_down[r] += dt;
                if loss > 0.0 && w.entry_regions[r] {
                    self.acc.cause_regions[r] += dt * loss;
                }
            }
        }
        self.last = now;
    }

    fn finish(&mut self, events: u64) -> TrialResult {
        if let Some(start) = self.outage_start.take() {
            self.acc.longest = self.acc.longest.max(self.last - start);
        }
        let h = self.w.horizon as f64;
        let secs = |ns: f64| ns / 1e9;
        let a = &self.acc;
        TrialResult {
            availability: 1.0 - a.downtime / h,
            downtime: secs(a.downtime),
            incidents: a.incidents,
            longest_outage: secs(a.longest as f64),
            services: a.lost.iter().map(|x| 1.0 - x / h).collect(),
            own: a.own_lost.iter().map(|x| 1.0 - x / h).collect(),
            cause_services: a.cause_services.iter().map(|&x| secs(x)).collect(),
            regions: a.region_down.iter().map(|x| 1.0 - x / h).collect(),
            cause_regions: a.cause_regions.iter().map(|&x| secs(x)).collect(),
            events,
            traffic: self.w.has_traffic().then(|| self.traffic.result.clone()),
            faults: self.faults.results.clone(),
        }
    }

    /// Re-evaluates whether group `g` serves and reacts to a change.
    fn update_group(&mut self, g: usize, now: Nanos) {
        let spec = &self.w.groups[g];
        let grp = &self.grp[g];
        let local = match spec.topology {
            Topology::ActivePassive => grp.ap == Ap::Serving,
            _ => grp.up_count >= spec.min_healthy,
        };
        let serving = local && spec.region.is_none_or(|r| self.region_up[r]);
        if serving == grp.serving {
            return;
        }
        self.changing(now);
        self.grp[g].serving = serving;
        let s = spec.service;
        let sspec = &self.w.services[s];
        if !sspec.multi_region {
            return;
        }
        match sspec.mode {
            GlobalMode::ActiveActive => {
                let grp = &mut self.grp[g];
                grp.route_gen = grp.route_gen.wrapping_add(1);
                if serving {
                    grp.routed = true;
                } else {
                    let gen_ = grp.route_gen;
                    self.queue.schedule(
                        now.saturating_add(sspec.failover),
                        Event::Unroute { group: g as u32, gen_ },
                    );
                }
            }
            GlobalMode::ActivePassive => {
                let svc = &mut self.svc[s];
                match svc.current {
                    Some(c) if c as usize == g => {
                        svc.gen_ = svc.gen_.wrapping_add(1);
                        if !serving {
                            let gen_ = svc.gen_;
                            self.queue.schedule(
                                now.saturating_add(sspec.failover),
                                Event::Reroute {
                                    service: s as u32,
                                    gen_,
                                },
                            );
                        }
                    }
                    None if serving => svc.current = Some(g as u32),
                    _ => {}
                }
            }
        }
    }

    /// Integrates up to `now` before a change that can move a served
    /// fraction, and marks the fractions for recomputation. Events that
    /// change nothing (a replica failing while enough others serve) skip
    /// both: the integral is piecewise constant, so the next change
    /// integrates the whole interval at once.
    fn changing(&mut self, now: Nanos) {
        self.advance(now);
        self.dirty = true;
    }

    fn own_fraction(&self, s: usize) -> f64 {
        let spec = &self.w.services[s];
        let groups = &self.grp[spec.groups.clone()];
        if !spec.multi_region {
            return if groups[0].serving { 1.0 } else { 0.0 };
        }
        match spec.mode {
            GlobalMode::ActiveActive => {
                let routed = groups.iter().filter(|g| g.routed).count();
                let serving = groups.iter().filter(|g| g.serving).count();
                if routed == 0 {
                    0.0
                } else {
                    serving as f64 / routed as f64
                }
            }
            GlobalMode::ActivePassive => match self.svc[s].current {
                Some(c) if self.grp[c as usize].serving => 1.0,
                _ => 0.0,
            },
        }
    }

    /// Recomputes every service's fractions, required services first.
    fn refresh(&mut self) {
        for i in 0..self.w.order.len() {
            let s = self.w.order[i];
            let own = self.own_fraction(s);
            let frac = self.w.services[s]
                .requires
                .iter()
                .fold(own, |f, &d| f * self.svc[d].frac);
            self.svc[s].own = own;
            self.svc[s].frac = frac;
        }
    }

    /// The replica's own failure.
    fn replica_down(&mut self, r: usize, now: Nanos) {
        let spec = self.w.replicas[r];
        self.rep[r].natural = false;
        let (_, repair) = self.w.services[spec.service]
            .process
            .as_ref()
            .expect("only failing replicas fail");
        let t = now.saturating_add(repair.sample(&mut self.replica_rng[r]));
        self.queue.schedule(t, Event::ReplicaUp(r as u32));
        if self.rep[r].held == 0 {
            self.replica_lost(r, now, true);
        }
    }

    /// The replica stops serving (its own failure, or a fault). With
    /// `reset`, connections to it are reset; a hung replica keeps them.
    pub(super) fn replica_lost(&mut self, r: usize, now: Nanos, reset: bool) {
        let g = self.w.replicas[r].group;
        self.rep[r].up = false;
        self.record(now, "replica_down", Subject::Replica(r));
        if reset {
            self.kill_replica_jobs(r, now);
        }
        let group = &self.w.groups[g];
        if group.topology == Topology::ActivePassive {
            if self.rep[r].active {
                self.rep[r].active = false;
                let grp = &mut self.grp[g];
                grp.ap = Ap::FailingOver;
                grp.gen_ = grp.gen_.wrapping_add(1);
                let gen_ = grp.gen_;
                self.queue.schedule(
                    now.saturating_add(group.failover_delay),
                    Event::Promote { group: g as u32, gen_ },
                );
            }
        } else {
            self.grp[g].up_count -= 1;
        }
        self.update_group(g, now);
    }

    /// The replica's repair completes.
    fn replica_up(&mut self, r: usize, now: Nanos) {
        self.rep[r].natural = true;
        if self.rep[r].held == 0 {
            self.replica_back(r, now);
        }
        let cold = self.w.groups[self.w.replicas[r].group].cold;
        if self.rep[r].active || !cold {
            self.schedule_failure(r, now);
        }
    }

    /// The replica serves again (repaired, or a fault released it). A
    /// returning replica takes over a group that has nothing active.
    pub(super) fn replica_back(&mut self, r: usize, now: Nanos) {
        let g = self.w.replicas[r].group;
        let group = &self.w.groups[g];
        self.rep[r].up = true;
        self.record(now, "replica_up", Subject::Replica(r));
        if group.topology == Topology::ActivePassive {
            if self.grp[g].ap == Ap::Down {
                self.rep[r].active = true;
                self.grp[g].ap = Ap::Serving;
            }
        } else {
            self.grp[g].up_count += 1;
        }
        self.update_group(g, now);
    }

    /// Whether the replica's failure clock runs (cold standbys' does not).
    pub(super) fn ages(&self, r: usize) -> bool {
        self.rep[r].active || !self.w.groups[self.w.replicas[r].group].cold
    }

    /// Cancels the replica's pending failure.
    pub(super) fn bump_generation(&mut self, r: usize) {
        self.rep[r].gen_ = self.rep[r].gen_.wrapping_add(1);
    }

    /// Restarts the failure clock of a replica a fault released.
    pub(super) fn restart_clock(&mut self, r: usize, now: Nanos) {
        self.schedule_failure(r, now);
    }

    /// Applies a change of region `r`'s effective state: naturally up and
    /// not held down by a fault.
    pub(super) fn set_region(&mut self, r: usize, now: Nanos) {
        let up = self.region_natural[r] && self.region_held[r] == 0;
        if up == self.region_up[r] {
            return;
        }
        self.changing(now);
        self.region_up[r] = up;
        self.record(now, if up { "region_up" } else { "region_down" }, Subject::Region(r));
        for i in 0..self.w.region_groups[r].len() {
            let g = self.w.region_groups[r][i];
            if !up {
                for replica in self.w.groups[g].replicas.clone() {
                    self.kill_replica_jobs(replica, now);
                }
            }
            self.update_group(g, now);
        }
    }

    fn promote(&mut self, g: usize, now: Nanos) {
        let group = &self.w.groups[g];
        // Drawn even when success is 1 so that sweeping `success` keeps the
        // group's stream aligned across points.
        let u: f64 = self.group_rng[g].random();
        let candidate = group.replicas.clone().find(|&r| self.rep[r].up);
        match candidate {
            Some(r) if u < group.failover_success => {
                self.record(now, "promoted", Subject::Replica(r));
                self.rep[r].active = true;
                self.grp[g].ap = Ap::Serving;
                if group.cold {
                    self.schedule_failure(r, now);
                }
            }
            Some(_) => {
                self.record(now, "switch_failed", Subject::Group(g));
                self.grp[g].ap = Ap::Down;
                if group.replicas.clone().all(|r| self.rep[r].up) {
                    // Nothing is being repaired whose return would end this.
                    let (_, repair) = self.w.services[group.service]
                        .process
                        .as_ref()
                        .expect("a replica failed");
                    let t = now.saturating_add(repair.sample(&mut self.group_rng[g]));
                    let gen_ = self.grp[g].gen_;
                    self.queue.schedule(t, Event::Restore { group: g as u32, gen_ });
                }
            }
            None => self.grp[g].ap = Ap::Down,
        }
        self.update_group(g, now);
    }

    fn restore(&mut self, g: usize, now: Nanos) {
        let group = &self.w.groups[g];
        if self.grp[g].ap != Ap::Down {
            return;
        }
        if let Some(r) = group.replicas.clone().find(|&r| self.rep[r].up) {
            self.rep[r].active = true;
            self.grp[g].ap = Ap::Serving;
            if group.cold {
                self.schedule_failure(r, now);
            }
            self.update_group(g, now);
        }
    }

    fn reroute(&mut self, s: usize, now: Nanos) {
        let spec = &self.w.services[s];
        if let Some(c) = self.svc[s].current
            && self.grp[c as usize].serving
        {
            return;
        }
        self.changing(now);
        self.fault_signal(now);
        self.svc[s].current = spec.groups.clone().find(|&g| self.grp[g].serving).map(|g| g as u32);
        if let Some(g) = self.svc[s].current {
            self.record(now, "rerouted", Subject::Group(g as usize));
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
            Event::RegionDown(r) | Event::RegionUp(r) => {
                let r = r as usize;
                let up = matches!(event, Event::RegionUp(_));
                self.region_natural[r] = up;
                let (failure, repair) = self.w.regions[r].process.as_ref().expect("only failing regions fail");
                let next = if up { failure } else { repair }.sample(&mut self.region_rng[r]);
                let next_event = if up {
                    Event::RegionDown(r as u32)
                } else {
                    Event::RegionUp(r as u32)
                };
                self.queue.schedule(now.saturating_add(next), next_event);
                // Region time is integrated per region, so always advance.
                self.changing(now);
                self.set_region(r, now);
            }
            Event::ReplicaDown { replica, gen_ } => {
                if gen_ == self.rep[replica as usize].gen_ {
                    self.replica_down(replica as usize, now);
                }
            }
            Event::ReplicaUp(r) => self.replica_up(r as usize, now),
            Event::Promote { group, gen_ } => {
                if gen_ == self.grp[group as usize].gen_ {
                    self.fault_signal(now);
                    self.promote(group as usize, now);
                }
            }
            Event::Restore { group, gen_ } => {
                if gen_ == self.grp[group as usize].gen_ {
                    self.restore(group as usize, now);
                }
            }
            Event::Unroute { group, gen_ } => {
                let grp = &mut self.grp[group as usize];
                if gen_ == grp.route_gen && !grp.serving {
                    self.fault_signal(now);
                    self.record(now, "unrouted", Subject::Group(group as usize));
                    self.changing(now);
                    self.grp[group as usize].routed = false;
                }
            }
            Event::Reroute { service, gen_ } => {
                if gen_ == self.svc[service as usize].gen_ {
                    self.reroute(service as usize, now);
                }
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
        if self.dirty {
            self.dirty = false;
            self.refresh();
        }
    }

    fn halted(&self) -> bool {
        self.traffic.in_flight() > self.w.limits.in_flight
    }
}
