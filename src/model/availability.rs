//! The availability component: regions, replicas, failover groups and global
//! routing, with the failure and repair processes that drive them and the
//! time integrals that become availability. It owns that state and handles
//! [`AvailabilityEvent`]s; it is [`Clone`] and runs alone for the
//! failure-only model ([`FailureOnly`]).
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
//!   repair distribution.) Cold standbys draw no failures while idle; their
//!   clock starts when they are promoted.
//! - Global active-active: each routed region takes an equal share of the
//!   traffic and the served share is `serving ∩ routed / routed`. A region
//!   that stops serving stays routed (its share lost) until `failover` has
//!   passed; it is routed again the moment it serves.
//! - Global active-passive: the current region serves. When it stops, a
//!   reroute fires after `failover` and picks the first listed serving
//!   region; if none serves, the first region to recover takes over at once.
//! - Dependencies compose per region (locality), as the request level
//!   routes: the traffic a group serves reaches each service it requires
//!   in the group's own region while that service's group there is routed
//!   (global active-active), else wherever the dependency's routing sends
//!   traffic that comes from no region (its routed groups in equal shares,
//!   or its current group under global active-passive). A group's *path*
//!   is whether it serves times the share its dependencies serve of the
//!   traffic it sends them; a service's served fraction is the traffic-
//!   weighted path of its routed groups. The entry's fraction, integrated
//!   over the horizon, is the trial's availability. So during one region's
//!   failover a stack deployed in both of two regions loses half the
//!   traffic, not 1 - (1/2)^tiers.
//! - A service's own fraction is its replica rule alone: a group whose
//!   replicas satisfy its topology counts as serving even while its region
//!   is down (region outages are the regions' share of the downtime).
//!
//! # Effects on other components
//! A handler returns an [`Effect`] when another component must act: a
//! replica or region that stops serving resets the requests on it
//! ([`Effect::ReplicaLost`], [`Effect::RegionChanged`]), and a defensive
//! reaction (a promotion, traffic leaving a region) detects open faults
//! ([`Effect::Detected`]). Where requests must be reset in the middle of a
//! state change (a lost replica's jobs go before its group re-evaluates, so
//! a retry routed meanwhile still sees the old group), the effect names the
//! step that continues it ([`Availability::settle_loss`],
//! [`Availability::update_group`]); the trial dispatches both in one place.
//!
//! # Invariants
//! Timers that may be overtaken (a replica's failure while it is a cold
//! standby, a promotion, an unroute, a reroute) carry a generation number;
//! a popped timer whose generation is stale is ignored (lazy cancellation).
//! Outages of zero length are not incidents.

use rand::RngExt as _;

use super::event::Event;
pub use super::event::{AvailabilityEvent, Context};
use super::result::TrialResult;
use super::trace::{Subject, Trace};
use super::world::World;
use crate::engine::{self, EventQueue, Model, Nanos};
use crate::random::{self, Purpose, Rng};
use crate::scenario::{GlobalMode, Topology};

mod crews;

/// What a handler asks of the other components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing.
    None,
    /// A defensive reaction: every open fault occurrence is detected now.
    Detected,
    /// The replica stopped serving. With `reset`, the requests on it are
    /// reset (a hung replica keeps them); then
    /// [`Availability::settle_loss`] finishes the change.
    ReplicaLost {
        /// Replica index.
        replica: u32,
        /// Whether its connections are reset.
        reset: bool,
    },
    /// The region's effective state changed (it is `up` now). Each of its
    /// groups in turn: if it went down, the requests on its replicas are
    /// reset; then [`Availability::update_group`] re-evaluates it.
    RegionChanged {
        /// Region index.
        region: u32,
        /// Its new state.
        up: bool,
    },
}

/// An active-passive group's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failover {
    /// An active replica serves.
    Serving,
    /// The active failed; a switch-over is under way.
    FailingOver,
    /// Nothing serves until a replica returns.
    Down,
}

/// A replica's state.
#[derive(Debug, Clone, Copy)]
pub struct ReplicaState {
    /// Serving: naturally up and not held down by a fault.
    pub up: bool,
    /// Takes traffic (always, outside active-passive groups).
    pub active: bool,
    gen_: u32,
    /// Up by its own failure and repair process.
    pub natural: bool,
    /// Crash or hang faults holding it down.
    pub held: u16,
}

/// A replica group's state (a service in one region).
#[derive(Debug, Clone, Copy)]
pub struct GroupState {
    up_count: u32,
    /// Active-passive: its switch-over state.
    pub ap: Failover,
    gen_: u32,
    /// Serves by its topology rule, in a region that is up.
    pub serving: bool,
    /// Global active-active: the router sends it traffic.
    pub routed: bool,
    route_gen: u32,
    /// Its replicas satisfy its topology rule (whatever its region does).
    rule: bool,
    /// Serves, times the share its dependencies serve of what it sends
    /// them (see the module doc).
    path: f64,
}

/// A service's state.
#[derive(Debug, Clone, Copy)]
pub struct ServiceState {
    own: f64,
    frac: f64,
    /// Global active-passive: the group taking the traffic.
    pub current: Option<u32>,
    gen_: u32,
}

/// Time integrals in nanoseconds (weighted by traffic share).
#[derive(Debug, Clone, Default)]
struct Acc {
    downtime: f64,
    incidents: u32,
    /// Time with any entry traffic lost, unweighted.
    outage_time: f64,
    longest: Nanos,
    /// Per service: traffic-weighted time not served (integrating the loss
    /// rather than the service keeps a never-down service at exactly 1).
    lost: Vec<f64>,
    own_lost: Vec<f64>,
    cause_services: Vec<f64>,
    region_down: Vec<f64>,
    cause_regions: Vec<f64>,
    /// Per tag (see [`Availability::tags`]): entry downtime while it was on.
    tagged: Vec<f64>,
}

impl Acc {
    /// `clone_from` reusing the vectors' storage.
    fn copy_from(&mut self, source: &Self) {
        let Self {
            downtime,
            incidents,
            outage_time,
            longest,
            lost,
            own_lost,
            cause_services,
            region_down,
            cause_regions,
            tagged,
        } = source;
        self.downtime = *downtime;
        self.incidents = *incidents;
        self.outage_time = *outage_time;
        self.longest = *longest;
        self.lost.clone_from(lost);
        self.own_lost.clone_from(own_lost);
        self.cause_services.clone_from(cause_services);
        self.region_down.clone_from(region_down);
        self.cause_regions.clone_from(cause_regions);
        self.tagged.clone_from(tagged);
    }
}

/// The availability state of one trial: what serves, and since when.
#[derive(Debug, Clone)]
pub struct Availability {
    region_rng: Vec<Rng>,
    replica_rng: Vec<Rng>,
    group_rng: Vec<Rng>,
    /// Per region: up by its own process and not held down by a fault.
    pub region_up: Vec<bool>,
    /// Per region: up by its own outage process.
    region_natural: Vec<bool>,
    /// Per region: crash faults holding it down.
    region_held: Vec<u16>,
    /// Per region: when its running clock (to failure or to repair) started.
    region_clock: Vec<Nanos>,
    /// Per replica: when its running clock (to failure or to repair) started.
    replica_clock: Vec<Nanos>,
    /// Per replica.
    pub replicas: Vec<ReplicaState>,
    /// Per replica group.
    pub groups: Vec<GroupState>,
    /// Per service.
    pub services: Vec<ServiceState>,
    last: Nanos,
    outage_start: Option<Nanos>,
    acc: Acc,
    /// Something that served fractions depend on changed during this event.
    dirty: bool,
    /// Per tag: on while non-zero; the entry's downtime is also integrated
    /// per tag that is on (planned operations, `super::ops`; empty
    /// without them).
    pub tags: Vec<u32>,
    /// Zones, shocks, crews and spares.
    ops: crews::OpsState,
}

impl Availability {
    /// Empty state sized for `world` (call [`Availability::reset`] before
    /// use).
    pub fn new(world: &World) -> Self {
        let seedless = || random::stream(0, 0, Purpose::Region, 0);
        Self {
            region_rng: vec![seedless(); world.regions.len()],
            replica_rng: vec![seedless(); world.replicas.len()],
            group_rng: vec![seedless(); world.groups.len()],
            region_up: vec![true; world.regions.len()],
            region_natural: vec![true; world.regions.len()],
            region_held: vec![0; world.regions.len()],
            region_clock: vec![0; world.regions.len()],
            replica_clock: vec![0; world.replicas.len()],
            replicas: Vec::with_capacity(world.replicas.len()),
            groups: Vec::with_capacity(world.groups.len()),
            services: Vec::with_capacity(world.services.len()),
            last: 0,
            outage_start: None,
            acc: Acc::default(),
            dirty: false,
            tags: Vec::new(),
            ops: crews::OpsState::default(),
        }
    }

    /// Everything up at time 0, streams for trial `trial` of `seed`, and
    /// the first failures scheduled.
    pub fn reset(&mut self, cx: &mut Context<'_>, seed: u64, trial: u64) {
        let world = cx.world;
        self.last = 0;
        self.outage_start = None;
        self.reset_integrals(world);
        self.reset_regions(cx, seed, trial);
        self.reset_groups(world, seed, trial);
        self.reset_replicas(cx, seed, trial);
        self.reset_ops(cx, seed, trial);
        self.services.clear();
        for spec in &world.services {
            self.services.push(ServiceState {
                own: 1.0,
                frac: 1.0,
                current: Some(spec.groups.start as u32),
                gen_: 0,
            });
        }
        self.refresh(world);
    }

    fn reset_integrals(&mut self, world: &World) {
        let (ns, nr) = (world.services.len(), world.regions.len());
        let a = &mut self.acc;
        a.downtime = 0.0;
        a.incidents = 0;
        a.outage_time = 0.0;
        a.longest = 0;
        for (v, n) in [
            (&mut a.lost, ns),
            (&mut a.own_lost, ns),
            (&mut a.cause_services, ns),
            (&mut a.region_down, nr),
            (&mut a.cause_regions, nr),
            (&mut a.tagged, world.ops.tags()),
        ] {
            v.clear();
            v.resize(n, 0.0);
        }
        self.tags.clear();
        self.tags.resize(world.ops.tags(), 0);
    }

    fn reset_regions(&mut self, cx: &mut Context<'_>, seed: u64, trial: u64) {
        let world = cx.world;
        for (r, spec) in world.regions.iter().enumerate() {
            self.region_rng[r] = random::stream(seed, trial, Purpose::Region, r as u64);
            self.region_up[r] = true;
            self.region_natural[r] = true;
            self.region_held[r] = 0;
            self.region_clock[r] = 0;
            if let Some((failure, _)) = &spec.process {
                let t = failure.sample(&mut self.region_rng[r]);
                cx.queue
                    .schedule(t, Event::Availability(AvailabilityEvent::RegionDown(r as u32)));
            }
        }
    }

    fn reset_groups(&mut self, world: &World, seed: u64, trial: u64) {
        self.groups.clear();
        for (g, spec) in world.groups.iter().enumerate() {
            let stream = ((spec.service as u64) << 20) | spec.slot as u64;
            self.group_rng[g] = random::stream(seed, trial, Purpose::Failover, stream);
            self.groups.push(GroupState {
                up_count: (spec.replicas.len() - spec.parked) as u32,
                ap: Failover::Serving,
                gen_: 0,
                serving: true,
                routed: true,
                route_gen: 0,
                rule: true,
                path: 1.0,
            });
        }
    }

    fn reset_replicas(&mut self, cx: &mut Context<'_>, seed: u64, trial: u64) {
        let world = cx.world;
        self.replicas.clear();
        for (i, spec) in world.replicas.iter().enumerate() {
            let group = &world.groups[spec.group];
            let active = group.topology != Topology::ActivePassive || i == group.replicas.start;
            self.replica_rng[i] = random::stream(seed, trial, Purpose::Replica, spec.stream);
            self.replica_clock[i] = 0;
            // An autoscaler's parked slot is held down, and its failure
            // clock starts when it is provisioned (`traffic::autoscale`).
            let parked = i >= group.replicas.end - group.parked;
            self.replicas.push(ReplicaState {
                up: !parked,
                active,
                gen_: 0,
                natural: true,
                held: u16::from(parked),
            });
            if (active || !group.cold) && !parked {
                self.schedule_failure(cx, i);
            }
        }
    }

    /// Gives this copy of a trial the streams of `(seed, trial)` and
    /// redraws the remainder of every running failure and repair clock from
    /// them, given the time it has already run (the caller has removed
    /// those clocks' pending events). Rare-event splitting calls it on each
    /// copy of a state, so that copies share the past and draw their own
    /// future: a remainder drawn given its age has the law the original
    /// remainder has given the history, so no copy is biased.
    pub fn redraw_clocks(&mut self, cx: &mut Context<'_>, seed: u64, trial: u64) {
        use rand::SeedableRng as _;
        let world = cx.world;
        // One stream for the copy seeds its components' (a copy lives for
        // a few events, and a stream per component cost more than them),
        // each from four of its words (`from_rng` went through bytes and
        // led the profile).
        let mut base = random::stream(seed, trial, Purpose::Region, u64::MAX);
        let mut child = || {
            let mut key = [0u8; 32];
            for word in key.chunks_exact_mut(8) {
                word.copy_from_slice(&base.random::<u64>().to_le_bytes());
            }
            Rng::from_seed(key)
        };
        for (r, spec) in world.regions.iter().enumerate() {
            self.region_rng[r] = child();
            if let Some((failure, repair)) = &spec.process {
                let up = self.region_natural[r];
                let age = cx.now.saturating_sub(self.region_clock[r]);
                let after = if up { failure } else { repair }.sample_residual(age, &mut self.region_rng[r]);
                let event = if up {
                    AvailabilityEvent::RegionDown(r as u32)
                } else {
                    AvailabilityEvent::RegionUp(r as u32)
                };
                cx.schedule(after, event);
            }
        }
        // Only an active-passive group draws from its stream (the
        // switch-over's outcome).
        for (rng, spec) in self.group_rng.iter_mut().zip(&world.groups) {
            if spec.topology == Topology::ActivePassive {
                *rng = child();
            }
        }
        for (i, spec) in world.replicas.iter().enumerate() {
            self.replica_rng[i] = child();
            let Some((failure, repair)) = &world.services[spec.service].process else {
                continue;
            };
            let age = cx.now.saturating_sub(self.replica_clock[i]);
            if !self.replicas[i].natural {
                let after = repair.sample_residual(age, &mut self.replica_rng[i]);
                cx.schedule(after, AvailabilityEvent::ReplicaUp(i as u32));
            } else if self.ages(world, i) {
                let rep = &mut self.replicas[i];
                rep.gen_ = rep.gen_.wrapping_add(1);
                let gen_ = rep.gen_;
                let after = failure.sample_residual(age, &mut self.replica_rng[i]);
                cx.schedule(
                    after,
                    AvailabilityEvent::ReplicaDown {
                        replica: i as u32,
                        gen_,
                    },
                );
            }
        }
    }

    /// Makes this state a copy of `source`, reusing its storage (what
    /// `clone_from` would do; rare-event splitting copies a trial for every
    /// trajectory it starts, and a copy lives for a few events).
    pub fn copy_from(&mut self, source: &Self) {
        let Self {
            region_rng,
            replica_rng,
            group_rng,
            region_up,
            region_natural,
            region_held,
            region_clock,
            replica_clock,
            replicas,
            groups,
            services,
            last,
            outage_start,
            acc,
            dirty,
            tags,
            ops,
        } = source;
        self.region_rng.clone_from(region_rng);
        self.replica_rng.clone_from(replica_rng);
        self.group_rng.clone_from(group_rng);
        self.region_up.clone_from(region_up);
        self.region_natural.clone_from(region_natural);
        self.region_held.clone_from(region_held);
        self.region_clock.clone_from(region_clock);
        self.replica_clock.clone_from(replica_clock);
        self.replicas.clone_from(replicas);
        self.groups.clone_from(groups);
        self.services.clone_from(services);
        self.last = *last;
        self.outage_start = *outage_start;
        self.acc.copy_from(acc);
        self.dirty = *dirty;
        self.tags.clone_from(tags);
        self.ops.clone_from(ops);
    }

    /// The share of the entry's traffic not served now.
    pub fn entry_loss(&self, world: &World) -> f64 {
        1.0 - self.services[world.entry].frac
    }

    /// Replicas of group `g` that serve (outside active-passive groups).
    pub fn up_count(&self, g: usize) -> u32 {
        self.groups[g].up_count
    }

    /// Whether region `r` is up by its own outage process.
    pub fn region_natural(&self, r: usize) -> bool {
        self.region_natural[r]
    }

    /// Per tag: the entry's traffic-weighted downtime while it was on (ns),
    /// up to the last [`Availability::advance`].
    pub fn tagged_ns(&self) -> &[f64] {
        &self.acc.tagged
    }

    /// Traffic-weighted downtime of the entry integrated so far (ns), up to
    /// the last [`Availability::advance`].
    pub fn downtime_ns(&self) -> f64 {
        self.acc.downtime
    }

    /// Handles one of its events; says what the other components must do.
    #[inline(always)]
    pub fn handle(&mut self, cx: &mut Context<'_>, event: AvailabilityEvent) -> Effect {
        match event {
            AvailabilityEvent::RegionDown(r) => self.region_process(cx, r as usize, false),
            AvailabilityEvent::RegionUp(r) => self.region_process(cx, r as usize, true),
            AvailabilityEvent::ReplicaDown { replica, gen_ } => {
                if gen_ == self.replicas[replica as usize].gen_ {
                    return self.replica_down(cx, replica as usize);
                }
                Effect::None
            }
            AvailabilityEvent::ReplicaUp(r) => {
                self.replica_up(cx, r as usize);
                Effect::None
            }
            AvailabilityEvent::Promote { group, gen_ } => {
                if gen_ != self.groups[group as usize].gen_ {
                    return Effect::None;
                }
                self.promote(cx, group as usize);
                Effect::Detected
            }
            AvailabilityEvent::Restore { group, gen_ } => {
                if gen_ == self.groups[group as usize].gen_ {
                    self.restore(cx, group as usize);
                }
                Effect::None
            }
            AvailabilityEvent::Unroute { group, gen_ } => self.unroute(cx, group as usize, gen_),
            AvailabilityEvent::Reroute { service, gen_ } => {
                if gen_ == self.services[service as usize].gen_ {
                    return self.reroute(cx, service as usize);
                }
                Effect::None
            }
            AvailabilityEvent::ZoneDown(_)
            | AvailabilityEvent::ZoneUp(_)
            | AvailabilityEvent::ZoneHold { .. }
            | AvailabilityEvent::Shock(_)
            | AvailabilityEvent::SpareArrives(_) => self.handle_ops(cx, event),
        }
    }

    /// Recomputes the served fractions if an event changed what they
    /// depend on (called once after every event).
    #[inline]
    pub fn settle(&mut self, world: &World) {
        if self.dirty {
            self.dirty = false;
            self.refresh(world);
        }
    }

    /// A region's own outage starts or ends.
    #[inline]
    fn region_process(&mut self, cx: &mut Context<'_>, r: usize, up: bool) -> Effect {
        let world = cx.world;
        self.region_natural[r] = up;
        let (failure, repair) = world.regions[r].process.as_ref().expect("only failing regions fail");
        let next = if up { failure } else { repair }.sample(&mut self.region_rng[r]);
        self.region_clock[r] = cx.now;
        let next_event = if up {
            AvailabilityEvent::RegionDown(r as u32)
        } else {
            AvailabilityEvent::RegionUp(r as u32)
        };
        cx.schedule(next, next_event);
        // Region time is integrated per region, so always advance.
        self.changing(cx);
        self.set_region(cx, r)
    }

    #[inline]
    fn schedule_failure(&mut self, cx: &mut Context<'_>, replica: usize) {
        let world = cx.world;
        let spec = &world.replicas[replica];
        if let Some((failure, _)) = &world.services[spec.service].process {
            let r = &mut self.replicas[replica];
            r.gen_ = r.gen_.wrapping_add(1);
            let gen_ = r.gen_;
            let after = failure.sample(&mut self.replica_rng[replica]);
            self.replica_clock[replica] = cx.now;
            cx.schedule(
                after,
                AvailabilityEvent::ReplicaDown {
                    replica: replica as u32,
                    gen_,
                },
            );
        }
    }

    /// Integrates every metric over `[last, now)`.
    #[inline]
    pub fn advance(&mut self, world: &World, now: Nanos) {
        if now <= self.last {
            return;
        }
        let dt = (now - self.last) as f64;
        let loss = 1.0 - self.services[world.entry].frac;
        if loss > 0.0 {
            if self.outage_start.is_none() {
                self.outage_start = Some(self.last);
                self.acc.incidents += 1;
            }
            self.acc.downtime += dt * loss;
            self.acc.outage_time += dt;
            for (t, &on) in self.acc.tagged.iter_mut().zip(&self.tags) {
                if on > 0 {
                    *t += dt * loss;
                }
            }
        } else if let Some(start) = self.outage_start.take() {
            self.acc.longest = self.acc.longest.max(self.last - start);
        }
        for (s, svc) in self.services.iter().enumerate() {
            self.acc.lost[s] += dt * (1.0 - svc.frac);
            self.acc.own_lost[s] += dt * (1.0 - svc.own);
            if loss > 0.0 && svc.own < 1.0 && world.entry_needs[s] {
                self.acc.cause_services[s] += dt * loss;
            }
        }
        for (r, &up) in self.region_up.iter().enumerate() {
            if !up {
                self.acc.region_down[r] += dt;
                if loss > 0.0 && world.entry_regions[r] {
                    self.acc.cause_regions[r] += dt * loss;
                }
            }
        }
        self.last = now;
    }

    /// The time-based figures of a trial that ran to the horizon (after
    /// [`Availability::advance`] to it), with no request or fault figures.
    pub fn finish(&mut self, world: &World, events: u64) -> TrialResult {
        if let Some(start) = self.outage_start.take() {
            self.acc.longest = self.acc.longest.max(self.last - start);
        }
        let h = world.horizon as f64;
        let secs = |ns: f64| ns / 1e9;
        let a = &self.acc;
        TrialResult {
            availability: 1.0 - a.downtime / h,
            downtime: secs(a.downtime),
            incidents: a.incidents,
            longest_outage: secs(a.longest as f64),
            incident_time: secs(a.outage_time),
            services: a.lost.iter().map(|x| 1.0 - x / h).collect(),
            own: a.own_lost.iter().map(|x| 1.0 - x / h).collect(),
            cause_services: a.cause_services.iter().map(|&x| secs(x)).collect(),
            regions: a.region_down.iter().map(|x| 1.0 - x / h).collect(),
            cause_regions: a.cause_regions.iter().map(|&x| secs(x)).collect(),
            events,
            traffic: None,
            faults: Vec::new(),
            ops: None,
        }
    }

    /// Re-evaluates whether group `g` serves and reacts to a change.
    #[inline]
    pub fn update_group(&mut self, cx: &mut Context<'_>, g: usize) {
        let world = cx.world;
        let spec = &world.groups[g];
        let grp = &self.groups[g];
        let local = match spec.topology {
            Topology::ActivePassive => grp.ap == Failover::Serving,
            _ => grp.up_count >= spec.min_healthy,
        };
        let serving = local && spec.region.is_none_or(|r| self.region_up[r]);
        if local != grp.rule {
            // The own fraction moves even while the region holds the group
            // down.
            self.changing(cx);
            self.groups[g].rule = local;
        }
        if serving == self.groups[g].serving {
            return;
        }
        self.changing(cx);
        self.groups[g].serving = serving;
        let sspec = &world.services[spec.service];
        if !sspec.multi_region {
            return;
        }
        match sspec.mode {
            GlobalMode::ActiveActive => self.route_group(cx, g, serving),
            GlobalMode::ActivePassive => self.follow_group(cx, g, serving),
        }
    }

    /// Global active-active: a serving group is routed at once; one that
    /// stops is unrouted after `failover`.
    #[inline]
    fn route_group(&mut self, cx: &mut Context<'_>, g: usize, serving: bool) {
        let world = cx.world;
        let failover = world.services[world.groups[g].service].failover;
        let grp = &mut self.groups[g];
        grp.route_gen = grp.route_gen.wrapping_add(1);
        if serving {
            grp.routed = true;
        } else {
            let gen_ = grp.route_gen;
            cx.schedule(failover, AvailabilityEvent::Unroute { group: g as u32, gen_ });
        }
    }

    /// Global active-passive: the current group stopping schedules a
    /// reroute; with no current group, the first to serve takes over.
    #[inline]
    fn follow_group(&mut self, cx: &mut Context<'_>, g: usize, serving: bool) {
        let world = cx.world;
        let s = world.groups[g].service;
        let failover = world.services[s].failover;
        let svc = &mut self.services[s];
        match svc.current {
            Some(c) if c as usize == g => {
                svc.gen_ = svc.gen_.wrapping_add(1);
                if !serving {
                    let gen_ = svc.gen_;
                    cx.schedule(
                        failover,
                        AvailabilityEvent::Reroute {
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

    /// Integrates up to `now` before a change that can move a served
    /// fraction, and marks the fractions for recomputation. Events that
    /// change nothing (a replica failing while enough others serve) skip
    /// both: the integral is piecewise constant, so the next change
    /// integrates the whole interval at once.
    #[inline]
    fn changing(&mut self, cx: &Context<'_>) {
        let world = cx.world;
        self.advance(world, cx.now);
        self.dirty = true;
    }

    /// The service's own replica rule: the share of its routed traffic
    /// that lands on groups whose replicas satisfy their topology, region
    /// outages aside. With nothing routed (or no current group), 1 while
    /// any group's rule holds.
    #[inline]
    fn own_fraction(&self, world: &World, s: usize) -> f64 {
        let spec = &world.services[s];
        let groups = &self.groups[spec.groups.clone()];
        let any = || if groups.iter().any(|g| g.rule) { 1.0 } else { 0.0 };
        if !spec.multi_region {
            return if groups[0].rule { 1.0 } else { 0.0 };
        }
        match spec.mode {
            GlobalMode::ActiveActive => {
                let routed = groups.iter().filter(|g| g.routed).count();
                let holding = groups.iter().filter(|g| g.routed && g.rule).count();
                if routed == 0 {
                    any()
                } else {
                    holding as f64 / routed as f64
                }
            }
            GlobalMode::ActivePassive => match self.services[s].current {
                Some(c) => {
                    if self.groups[c as usize].rule {
                        1.0
                    } else {
                        0.0
                    }
                }
                None => any(),
            },
        }
    }

    /// The share of traffic sent to service `d` from region `from` that it
    /// serves: its group in that region while the router sends traffic
    /// there (global active-active), else its share for traffic from no
    /// region (already computed: `d` comes first in the order).
    #[inline]
    fn reach(&self, world: &World, d: usize, from: Option<usize>) -> f64 {
        let spec = &world.services[d];
        if let Some(r) = from
            && spec.multi_region
            && spec.mode == GlobalMode::ActiveActive
            && let Some(g) = spec.groups.clone().find(|&g| world.groups[g].region == Some(r))
            && self.groups[g].routed
        {
            return self.groups[g].path;
        }
        self.services[d].frac
    }

    /// Recomputes every service's fractions, required services first.
    #[inline]
    fn refresh(&mut self, world: &World) {
        for &s in &world.order {
            let spec = &world.services[s];
            for g in spec.groups.clone() {
                let mut path = if self.groups[g].serving { 1.0 } else { 0.0 };
                let from = world.groups[g].region;
                for &d in &spec.requires {
                    if path == 0.0 {
                        break;
                    }
                    path *= self.reach(world, d, from);
                }
                self.groups[g].path = path;
            }
            let groups = &self.groups[spec.groups.clone()];
            let frac = if !spec.multi_region {
                groups[0].path
            } else {
                match spec.mode {
                    GlobalMode::ActiveActive => {
                        let (routed, served) = groups
                            .iter()
                            .filter(|g| g.routed)
                            .fold((0u32, 0.0), |(n, p), g| (n + 1, p + g.path));
                        if routed == 0 { 0.0 } else { served / f64::from(routed) }
                    }
                    GlobalMode::ActivePassive => match self.services[s].current {
                        Some(c) => self.groups[c as usize].path,
                        None => 0.0,
                    },
                }
            };
            self.services[s].own = self.own_fraction(world, s);
            self.services[s].frac = frac;
        }
    }

    /// The replica's own failure.
    #[inline(always)]
    fn replica_down(&mut self, cx: &mut Context<'_>, r: usize) -> Effect {
        let world = cx.world;
        let spec = world.replicas[r];
        self.replicas[r].natural = false;
        if world.infra.waits {
            self.replica_clock[r] = cx.now;
            self.ask_repair(cx, r);
        } else {
            let (_, repair) = world.services[spec.service]
                .process
                .as_ref()
                .expect("only failing replicas fail");
            let after = repair.sample(&mut self.replica_rng[r]);
            self.replica_clock[r] = cx.now;
            cx.schedule(after, AvailabilityEvent::ReplicaUp(r as u32));
        }
        if self.replicas[r].held == 0 {
            return self.lose(cx, r, true);
        }
        Effect::None
    }

    /// The replica stops serving (its own failure, or a fault). The
    /// returned effect resets its requests; [`Availability::settle_loss`]
    /// completes the change.
    #[inline(always)]
    pub fn lose(&mut self, cx: &mut Context<'_>, r: usize, reset: bool) -> Effect {
        self.replicas[r].up = false;
        cx.record("replica_down", Subject::Replica(r));
        Effect::ReplicaLost {
            replica: r as u32,
            reset,
        }
    }

    /// The second half of a replica's loss, after its requests were reset:
    /// an active-passive group starts its switch-over, another group counts
    /// one replica fewer.
    #[inline(always)]
    pub fn settle_loss(&mut self, cx: &mut Context<'_>, r: usize) {
        let world = cx.world;
        let g = world.replicas[r].group;
        let group = &world.groups[g];
        if group.topology == Topology::ActivePassive {
            if self.replicas[r].active {
                self.replicas[r].active = false;
                let grp = &mut self.groups[g];
                grp.ap = Failover::FailingOver;
                grp.gen_ = grp.gen_.wrapping_add(1);
                let gen_ = grp.gen_;
                cx.schedule(
                    group.failover_delay,
                    AvailabilityEvent::Promote { group: g as u32, gen_ },
                );
            }
        } else {
            self.groups[g].up_count -= 1;
        }
        self.update_group(cx, g);
    }

    /// The replica's repair completes.
    #[inline(always)]
    fn replica_up(&mut self, cx: &mut Context<'_>, r: usize) {
        let world = cx.world;
        if world.infra.waits {
            self.release_crew(cx, r);
        }
        self.replicas[r].natural = true;
        if self.replicas[r].held == 0 {
            self.back(cx, r);
        }
        if self.ages(world, r) {
            self.schedule_failure(cx, r);
        }
    }

    /// The replica serves again (repaired, or a fault released it). A
    /// returning replica takes over a group that has nothing active.
    #[inline]
    pub fn back(&mut self, cx: &mut Context<'_>, r: usize) {
        let world = cx.world;
        let g = world.replicas[r].group;
        let group = &world.groups[g];
        self.replicas[r].up = true;
        cx.record("replica_up", Subject::Replica(r));
        if group.topology == Topology::ActivePassive {
            if self.groups[g].ap == Failover::Down {
                self.replicas[r].active = true;
                self.groups[g].ap = Failover::Serving;
            }
        } else {
            self.groups[g].up_count += 1;
        }
        self.update_group(cx, g);
    }

    /// Whether the replica's failure clock runs (cold standbys' does not).
    #[inline(always)]
    pub fn ages(&self, world: &World, r: usize) -> bool {
        self.replicas[r].active || !world.groups[world.replicas[r].group].cold
    }

    /// Cancels the replica's pending failure.
    pub fn stop_clock(&mut self, r: usize) {
        self.replicas[r].gen_ = self.replicas[r].gen_.wrapping_add(1);
    }

    /// Restarts the failure clock of a replica a fault released.
    pub fn restart_clock(&mut self, cx: &mut Context<'_>, r: usize) {
        self.schedule_failure(cx, r);
    }

    /// A crash or hang fault takes hold of replica `r` (`on`), or lets go.
    /// Returns whether that changes whether it serves: the first hold of a
    /// naturally up replica, or the last release of one.
    pub fn hold_replica(&mut self, r: usize, on: bool) -> bool {
        let rep = &mut self.replicas[r];
        if on {
            rep.held += 1;
            rep.held == 1 && rep.natural
        } else {
            rep.held -= 1;
            rep.held == 0 && rep.natural
        }
    }

    /// A crash fault takes hold of region `r` (`on`), or lets go; the
    /// change takes effect through [`Availability::set_region`].
    pub fn hold_region(&mut self, r: usize, on: bool) {
        let held = &mut self.region_held[r];
        *held = if on { *held + 1 } else { *held - 1 };
    }

    /// Applies a change of region `r`'s effective state: naturally up and
    /// not held down by a fault.
    pub fn set_region(&mut self, cx: &mut Context<'_>, r: usize) -> Effect {
        let up = self.region_natural[r] && self.region_held[r] == 0;
        if up == self.region_up[r] {
            return Effect::None;
        }
        self.changing(cx);
        self.region_up[r] = up;
        cx.record(if up { "region_up" } else { "region_down" }, Subject::Region(r));
        Effect::RegionChanged { region: r as u32, up }
    }

    #[inline]
    fn promote(&mut self, cx: &mut Context<'_>, g: usize) {
        let world = cx.world;
        let group = &world.groups[g];
        // Drawn even when success is 1 so that sweeping `success` keeps the
        // group's stream aligned across points.
        let u: f64 = self.group_rng[g].random();
        let candidate = group.replicas.clone().find(|&r| self.replicas[r].up);
        match candidate {
            Some(r) if u < group.failover_success => {
                cx.record("promoted", Subject::Replica(r));
                self.replicas[r].active = true;
                self.groups[g].ap = Failover::Serving;
                if group.cold {
                    self.schedule_failure(cx, r);
                }
            }
            Some(_) => self.switch_failed(cx, g),
            None => self.groups[g].ap = Failover::Down,
        }
        self.update_group(cx, g);
    }

    /// A switch-over failed: the group is down until a replica returns, or
    /// for one manual repair if none is being repaired.
    fn switch_failed(&mut self, cx: &mut Context<'_>, g: usize) {
        let world = cx.world;
        let group = &world.groups[g];
        cx.record("switch_failed", Subject::Group(g));
        self.groups[g].ap = Failover::Down;
        if group.replicas.clone().all(|r| self.replicas[r].up) {
            // Nothing is being repaired whose return would end this.
            let (_, repair) = world.services[group.service]
                .process
                .as_ref()
                .expect("a replica failed");
            let after = repair.sample(&mut self.group_rng[g]);
            let gen_ = self.groups[g].gen_;
            cx.schedule(after, AvailabilityEvent::Restore { group: g as u32, gen_ });
        }
    }

    #[inline]
    fn restore(&mut self, cx: &mut Context<'_>, g: usize) {
        let world = cx.world;
        let group = &world.groups[g];
        if self.groups[g].ap != Failover::Down {
            return;
        }
        if let Some(r) = group.replicas.clone().find(|&r| self.replicas[r].up) {
            self.replicas[r].active = true;
            self.groups[g].ap = Failover::Serving;
            if group.cold {
                self.schedule_failure(cx, r);
            }
            self.update_group(cx, g);
        }
    }

    #[inline]
    fn unroute(&mut self, cx: &mut Context<'_>, g: usize, gen_: u32) -> Effect {
        let grp = &self.groups[g];
        if gen_ != grp.route_gen || grp.serving {
            return Effect::None;
        }
        cx.record("unrouted", Subject::Group(g));
        self.changing(cx);
        self.groups[g].routed = false;
        Effect::Detected
    }

    #[inline]
    fn reroute(&mut self, cx: &mut Context<'_>, s: usize) -> Effect {
        let world = cx.world;
        let spec = &world.services[s];
        if let Some(c) = self.services[s].current
            && self.groups[c as usize].serving
        {
            return Effect::None;
        }
        self.changing(cx);
        self.services[s].current = spec.groups.clone().find(|&g| self.groups[g].serving).map(|g| g as u32);
        if let Some(g) = self.services[s].current {
            cx.record("rerouted", Subject::Group(g as usize));
        }
        Effect::Detected
    }

    /// Whether replica `r` accepts connections: it and its region are up.
    #[inline]
    pub fn reachable(&self, world: &World, r: usize) -> bool {
        let g = world.replicas[r].group;
        self.replicas[r].up && world.groups[g].region.is_none_or(|reg| self.region_up[reg])
    }

    /// Whether `event`, popped now, would act: its generation is current
    /// (lazy cancellation, see the module doc). Regenerative simulation
    /// keeps the running clocks itself and drops the ones overtaken.
    pub fn is_current(&self, event: &AvailabilityEvent) -> bool {
        match *event {
            AvailabilityEvent::ReplicaDown { replica, gen_ } => gen_ == self.replicas[replica as usize].gen_,
            AvailabilityEvent::Promote { group, gen_ } | AvailabilityEvent::Restore { group, gen_ } => {
                gen_ == self.groups[group as usize].gen_
            }
            AvailabilityEvent::Unroute { group, gen_ } => gen_ == self.groups[group as usize].route_gen,
            AvailabilityEvent::Reroute { service, gen_ } => gen_ == self.services[service as usize].gen_,
            _ => true,
        }
    }
}

/// The availability component running alone: the failure-only model, with
/// its own queue. It is [`Clone`], so a trial can be copied mid-way and
/// both copies run on (rare-event splitting restarts copies like this).
#[derive(Clone)]
pub struct FailureOnly<'w> {
    world: &'w World,
    pub(super) queue: EventQueue<Event>,
    trace: Option<Box<Trace>>,
    /// The component.
    pub availability: Availability,
    events: u64,
    /// Where the run stands: the end of the last [`FailureOnly::run_until`]
    /// (or the next event due, when a count of events stopped it first).
    clock: Nanos,
}

impl<'w> FailureOnly<'w> {
    /// Trial `trial` of seed `seed` at time 0. The world's requests and
    /// faults are ignored.
    pub fn start(world: &'w World, seed: u64, trial: u64) -> Self {
        let mut run = Self {
            world,
            queue: EventQueue::new(),
            trace: None,
            availability: Availability::new(world),
            events: 0,
            clock: 0,
        };
        let mut cx = Context {
            world,
            queue: &mut run.queue,
            trace: &mut run.trace,
            now: 0,
        };
        run.availability.reset(&mut cx, seed, trial);
        run
    }

    /// Runs the events due before `until`, at most `max_events` of them;
    /// returns how many ran.
    pub fn run_until(&mut self, until: Nanos, max_events: u64) -> u64 {
        let handled = match engine::run_within(self, until, max_events) {
            Ok(handled) => {
                self.clock = self.clock.max(until.min(self.world.horizon));
                handled
            }
            Err(stopped) => {
                self.clock = stopped.at;
                stopped.events
            }
        };
        self.events += handled;
        handled
    }

    /// Handles the next event if it is due before `until`; returns its time.
    /// (Rare-event splitting steps a trial one event at a time, past the
    /// world's horizon if it likes: nothing here reads the horizon.)
    pub fn step(&mut self, until: Nanos) -> Option<Nanos> {
        let (now, event) = self.queue.pop_before(until)?;
        Model::handle(self, now, event);
        self.events += 1;
        self.clock = now;
        Some(now)
    }

    /// Integrates the entry's downtime up to `now` (at or after the last
    /// event) and returns the total so far (ns).
    pub fn downtime_until(&mut self, now: Nanos) -> f64 {
        self.availability.advance(self.world, now);
        self.availability.downtime_ns()
    }

    /// Events handled so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Turns this copy of a trial into an independent continuation: new
    /// streams from `(seed, trial)` and every failure and repair clock's
    /// remainder redrawn given its age ([`Availability::redraw_clocks`]).
    pub fn branch(&mut self, seed: u64, trial: u64) {
        self.queue.retain(|e| {
            !matches!(
                e,
                Event::Availability(
                    AvailabilityEvent::ReplicaDown { .. }
                        | AvailabilityEvent::ReplicaUp(_)
                        | AvailabilityEvent::RegionDown(_)
                        | AvailabilityEvent::RegionUp(_)
                )
            )
        });
        let mut cx = Context {
            world: self.world,
            queue: &mut self.queue,
            trace: &mut self.trace,
            now: self.clock,
        };
        self.availability.redraw_clocks(&mut cx, seed, trial);
    }

    /// Makes this run a copy of `source` (of the same world), reusing its
    /// storage: what `clone_from` would do.
    pub fn copy_from(&mut self, source: &Self) {
        let Self {
            world,
            queue,
            trace,
            availability,
            events,
            clock,
        } = source;
        self.world = world;
        self.queue.copy_from(queue);
        self.trace.clone_from(trace);
        self.availability.copy_from(availability);
        self.events = *events;
        self.clock = *clock;
    }

    /// Moves the run's clock to `t` (no earlier than now), with no event
    /// due before it, so that [`FailureOnly::branch`] then ages the clocks
    /// to `t`: rare-event splitting copies a trajectory at the end of its
    /// warm-up, which falls between events.
    pub fn wait_until(&mut self, t: Nanos) {
        debug_assert!(self.next_time().is_none_or(|next| next >= t));
        self.clock = self.clock.max(t);
    }

    /// The compiled world it runs.
    pub fn world(&self) -> &'w World {
        self.world
    }

    /// Runs to the horizon and returns the trial's time-based figures.
    pub fn finish(mut self) -> TrialResult {
        let horizon = self.world.horizon;
        self.run_until(horizon, u64::MAX);
        self.availability.advance(self.world, horizon);
        self.availability.finish(self.world, self.events)
    }

    /// Where the run stands (see [`FailureOnly::run_until`]).
    pub fn now(&self) -> Nanos {
        self.clock
    }

    /// The time of the next pending event.
    pub fn next_time(&self) -> Option<Nanos> {
        self.queue.peek_time()
    }

    /// Moves every pending event into `out`, in the order the queue would
    /// deliver them: regenerative simulation of an all-exponential model
    /// keeps the set of running clocks itself and chooses which fires.
    pub fn take_pending(&mut self, out: &mut Vec<AvailabilityEvent>) {
        while let Some((_, event)) = self.queue.pop() {
            if let Event::Availability(event) = event {
                out.push(event);
            }
        }
    }

    /// Handles `event` at `now` (no earlier than the last event) as if the
    /// queue had delivered it.
    pub fn fire(&mut self, now: Nanos, event: AvailabilityEvent) {
        Model::handle(self, now, Event::Availability(event));
        self.events += 1;
        self.clock = now;
    }
}

impl Model for FailureOnly<'_> {
    type Event = Event;

    fn queue(&mut self) -> &mut EventQueue<Event> {
        &mut self.queue
    }

    fn handle(&mut self, now: Nanos, event: Event) {
        let Event::Availability(event) = event else {
            return;
        };
        let mut cx = Context {
            world: self.world,
            queue: &mut self.queue,
            trace: &mut self.trace,
            now,
        };
        let availability = &mut self.availability;
        match availability.handle(&mut cx, event) {
            Effect::ReplicaLost { replica, .. } => availability.settle_loss(&mut cx, replica as usize),
            Effect::RegionChanged { region, .. } => {
                for &g in &self.world.region_groups[region as usize] {
                    availability.update_group(&mut cx, g);
                }
            }
            Effect::None | Effect::Detected => {}
        }
        availability.settle(self.world);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(text: &str) -> World {
        let sc = crate::scenario::parse("t.toml", "t", text, &[]).expect("valid");
        World::compile(&sc)
    }

    const PAIR: &str = r#"
horizon = "1y"
[[service]]
name = "db"
topology = "active-passive"
replicas = 2
failure = { mean = "1000h" }
repair = { mean = "10h" }
failover = { detect = "10s", switch = "20s" }
"#;

    /// A component at time 0 of trial 0, its queue and trace.
    fn start(world: &World) -> (Availability, EventQueue<Event>, Option<Box<Trace>>) {
        let mut availability = Availability::new(world);
        let (mut queue, mut trace) = (EventQueue::new(), None);
        let mut cx = Context {
            world,
            queue: &mut queue,
            trace: &mut trace,
            now: 0,
        };
        availability.reset(&mut cx, 1, 0);
        (availability, queue, trace)
    }

    #[test]
    fn an_active_replica_failing_asks_for_its_requests_reset_then_fails_over() {
        let world = world(PAIR);
        let (mut a, mut queue, mut trace) = start(&world);
        let gen_ = a.replicas[0].gen_;
        let mut cx = Context {
            world: &world,
            queue: &mut queue,
            trace: &mut trace,
            now: 5,
        };
        let effect = a.handle(&mut cx, AvailabilityEvent::ReplicaDown { replica: 0, gen_ });
        assert_eq!(
            effect,
            Effect::ReplicaLost {
                replica: 0,
                reset: true
            }
        );
        // Until the loss settles, the group is untouched: requests reset in
        // between still see it serving.
        assert!(!a.replicas[0].up && a.groups[0].ap == Failover::Serving);
        a.settle_loss(&mut cx, 0);
        a.settle(&world);
        assert_eq!(a.groups[0].ap, Failover::FailingOver);
        assert!(!a.groups[0].serving);
        let gen_ = a.groups[0].gen_;
        cx.now = 5 + 30_000_000_000;
        let effect = a.handle(&mut cx, AvailabilityEvent::Promote { group: 0, gen_ });
        assert_eq!(effect, Effect::Detected);
        assert!(a.replicas[1].active && a.groups[0].serving);
    }

    #[test]
    fn a_stale_failure_is_ignored() {
        let world = world(PAIR);
        let (mut a, mut queue, mut trace) = start(&world);
        let stale = a.replicas[0].gen_.wrapping_sub(1);
        let mut cx = Context {
            world: &world,
            queue: &mut queue,
            trace: &mut trace,
            now: 5,
        };
        let before = cx.queue.len();
        let effect = a.handle(
            &mut cx,
            AvailabilityEvent::ReplicaDown {
                replica: 0,
                gen_: stale,
            },
        );
        assert_eq!(effect, Effect::None);
        assert!(a.replicas[0].up);
        assert_eq!(cx.queue.len(), before);
    }

    #[test]
    fn a_held_region_going_down_names_it_in_the_effect() {
        let world = world(
            r#"
horizon = "1y"
[[region]]
name = "eu"
[[service]]
name = "api"
topology = "active-active"
replicas = 2
regions = ["eu"]
"#,
        );
        let (mut a, mut queue, mut trace) = start(&world);
        let mut cx = Context {
            world: &world,
            queue: &mut queue,
            trace: &mut trace,
            now: 7,
        };
        a.hold_region(0, true);
        assert_eq!(a.set_region(&mut cx, 0), Effect::RegionChanged { region: 0, up: false });
        assert!(!a.region_up[0] && !a.reachable(&world, 0));
        a.update_group(&mut cx, 0);
        a.settle(&world);
        assert!(!a.groups[0].serving);
        a.hold_region(0, false);
        assert_eq!(a.set_region(&mut cx, 0), Effect::RegionChanged { region: 0, up: true });
    }
}
