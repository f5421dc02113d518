//! The availability component's operations state: zone outages, common-
//! cause shocks, repair crews with their queues, and spare pools (the keys
//! of [`crate::scenario::infra`], compiled in [`crate::model::world::infra`]). It is a
//! part of [`Availability`], so a copied trial copies it.
//!
//! # Semantics
//! - A zone alternates up and down by its own process. While it is down it
//!   holds each of its replicas down the way a crash fault does: the
//!   replica's own failure and repair clocks run on, and it serves again
//!   when the zone returns (if it is naturally up).
//! - A common-cause shock draws, for each replica of its targets in order,
//!   one uniform from the group's stream; a replica that is naturally up
//!   fails when the draw is below `probability`, exactly as by its own
//!   failure (it enters repair).
//! - A replica that fails asks for a repair. With a spare pool it takes a
//!   spare (and one is reordered, arriving after the lead time) or, when
//!   none is on hand, waits for the next arrival. It then asks its crew pool
//!   for a crew; while every crew is busy it waits in the pool's queue
//!   (first come, or by priority). The repair time is drawn from the
//!   replica's own stream when its crew starts: with crews to spare this is
//!   the same draw, in the same order, as without crews, so results do not
//!   move when a limit never binds.
//! - A crew is freed when its repair completes and takes the head of the
//!   queue at once.
//!
//! # Invariants
//! `busy[p] <= crews of p`; a replica is in at most one queue or backorder
//! list, and only while it is naturally down with no repair running.

use std::collections::VecDeque;

use rand::RngExt as _;

use super::{Availability, AvailabilityEvent, Context, Effect};
use crate::random::{self, Purpose, Rng};
use crate::scenario::Topology;

/// Zones, shocks, crews and spares of one trial.
#[derive(Debug, Clone, Default)]
pub(super) struct OpsState {
    zone_rng: Vec<Rng>,
    /// Per zone: up by its own process.
    zone_up: Vec<bool>,
    shock_rng: Vec<Rng>,
    spare_rng: Vec<Rng>,
    /// Per pool: crews at work.
    busy: Vec<u32>,
    /// Per pool: replicas waiting for a crew.
    queue: Vec<VecDeque<u32>>,
    /// Per service: spares on hand.
    stock: Vec<u32>,
    /// Per service: replicas waiting for a spare.
    backorders: Vec<VecDeque<u32>>,
}

impl Availability {
    /// Streams and first events of the operations processes.
    pub(super) fn reset_ops(&mut self, cx: &mut Context<'_>, seed: u64, trial: u64) {
        let ops = &cx.world.infra;
        if !ops.is_used() {
            return;
        }
        let st = &mut self.ops;
        st.zone_rng.clear();
        st.zone_up.clear();
        for (z, spec) in ops.zones.iter().enumerate() {
            let mut rng = random::stream(seed, trial, Purpose::Zone, z as u64);
            if let Some((failure, _)) = &spec.process {
                cx.schedule(failure.sample(&mut rng), AvailabilityEvent::ZoneDown(z as u32));
            }
            st.zone_rng.push(rng);
            st.zone_up.push(true);
        }
        st.shock_rng.clear();
        for (c, spec) in ops.common.iter().enumerate() {
            let mut rng = random::stream(seed, trial, Purpose::CommonCause, c as u64);
            cx.schedule(spec.every.sample(&mut rng), AvailabilityEvent::Shock(c as u32));
            st.shock_rng.push(rng);
        }
        st.spare_rng.clear();
        st.stock.clear();
        st.backorders.clear();
        for (s, spares) in ops.spares.iter().enumerate() {
            st.spare_rng
                .push(random::stream(seed, trial, Purpose::Spares, s as u64));
            st.stock.push(spares.as_ref().map_or(0, |(count, _)| *count));
            st.backorders.push(VecDeque::new());
        }
        st.busy.clear();
        st.busy.resize(ops.pools.len(), 0);
        st.queue.clear();
        st.queue.resize(ops.pools.len(), VecDeque::new());
    }

    /// Handles a zone, shock or spare event.
    pub(super) fn handle_ops(&mut self, cx: &mut Context<'_>, event: AvailabilityEvent) -> Effect {
        match event {
            AvailabilityEvent::ZoneDown(z) => self.zone_process(cx, z as usize, false),
            AvailabilityEvent::ZoneUp(z) => self.zone_process(cx, z as usize, true),
            AvailabilityEvent::ZoneHold { replica, on } => return self.zone_hold(cx, replica as usize, on),
            AvailabilityEvent::Shock(c) => self.shock(cx, c as usize),
            AvailabilityEvent::SpareArrives(s) => {
                let s = s as usize;
                match self.ops.backorders[s].pop_front() {
                    Some(r) => self.assign_crew(cx, r as usize),
                    None => self.ops.stock[s] += 1,
                }
            }
            _ => {}
        }
        Effect::None
    }

    /// Whether zone `z` is up by its own process.
    pub fn zone_up(&self, z: usize) -> bool {
        self.ops.zone_up[z]
    }

    fn zone_process(&mut self, cx: &mut Context<'_>, z: usize, up: bool) {
        let spec = &cx.world.infra.zones[z];
        let (failure, repair) = spec.process.as_ref().expect("only failing zones fail");
        self.ops.zone_up[z] = up;
        let next = if up { failure } else { repair }.sample(&mut self.ops.zone_rng[z]);
        let event = if up {
            AvailabilityEvent::ZoneDown(z as u32)
        } else {
            AvailabilityEvent::ZoneUp(z as u32)
        };
        cx.schedule(next, event);
        for &r in &spec.replicas {
            cx.schedule(
                0,
                AvailabilityEvent::ZoneHold {
                    replica: r as u32,
                    on: !up,
                },
            );
        }
    }

    /// A zone holds replica `r` down (`on`) or lets go, as a crash fault
    /// does (see `Trial::hold_replica`).
    fn zone_hold(&mut self, cx: &mut Context<'_>, r: usize, on: bool) -> Effect {
        if !self.hold_replica(r, on) {
            return Effect::None;
        }
        let world = cx.world;
        let group = &world.groups[world.replicas[r].group];
        if on {
            // A lost active-passive replica is never active after its loss
            // settles, so a cold one stops aging.
            if group.cold && group.topology == Topology::ActivePassive {
                self.stop_clock(r);
            }
            self.lose(cx, r, true)
        } else {
            let aged = self.ages(world, r);
            self.back(cx, r);
            if !aged && self.ages(world, r) {
                self.restart_clock(cx, r);
            }
            Effect::None
        }
    }

    /// A shock: each replica of the group that is naturally up fails with
    /// the group's probability (one draw per replica, up or not, so a
    /// replica's fate does not depend on the others' states).
    fn shock(&mut self, cx: &mut Context<'_>, c: usize) {
        let spec = &cx.world.infra.common[c];
        let next = spec.every.sample(&mut self.ops.shock_rng[c]);
        cx.schedule(next, AvailabilityEvent::Shock(c as u32));
        cx.record(
            "shock",
            super::Subject::Group(cx.world.services[spec.service].groups.start),
        );
        for &r in &spec.replicas {
            let u: f64 = self.ops.shock_rng[c].random();
            if u < spec.probability && self.replicas[r].natural {
                // The replica's pending failure is cancelled; this one
                // takes its place at once.
                self.stop_clock(r);
                let gen_ = self.replicas[r].gen_;
                cx.schedule(
                    0,
                    AvailabilityEvent::ReplicaDown {
                        replica: r as u32,
                        gen_,
                    },
                );
            }
        }
    }

    /// Replica `r` failed: it takes a spare (or waits for one), then a
    /// crew (or waits for one).
    pub(super) fn ask_repair(&mut self, cx: &mut Context<'_>, r: usize) {
        let world = cx.world;
        let s = world.replicas[r].service;
        if let Some((_, lead)) = &world.infra.spares[s] {
            let after = lead.sample(&mut self.ops.spare_rng[s]);
            cx.schedule(after, AvailabilityEvent::SpareArrives(s as u32));
            if self.ops.stock[s] == 0 {
                self.ops.backorders[s].push_back(r as u32);
                return;
            }
            self.ops.stock[s] -= 1;
        }
        self.assign_crew(cx, r);
    }

    fn assign_crew(&mut self, cx: &mut Context<'_>, r: usize) {
        let ops = &cx.world.infra;
        let Some(p) = ops.replica_pool[r] else {
            self.start_repair(cx, r);
            return;
        };
        let p = p as usize;
        if self.ops.busy[p] < ops.pools[p] {
            self.ops.busy[p] += 1;
            self.start_repair(cx, r);
            return;
        }
        let queue = &mut self.ops.queue[p];
        if ops.by_priority {
            let world = cx.world;
            let mine = ops.priority[world.replicas[r].service];
            let at = queue
                .iter()
                .position(|&q| ops.priority[world.replicas[q as usize].service] < mine)
                .unwrap_or(queue.len());
            queue.insert(at, r as u32);
        } else {
            queue.push_back(r as u32);
        }
    }

    fn start_repair(&mut self, cx: &mut Context<'_>, r: usize) {
        let world = cx.world;
        let (_, repair) = world.services[world.replicas[r].service]
            .process
            .as_ref()
            .expect("only failing replicas are repaired");
        let after = repair.sample(&mut self.replica_rng[r]);
        self.replica_clock[r] = cx.now;
        cx.schedule(after, AvailabilityEvent::ReplicaUp(r as u32));
    }

    /// Replica `r`'s repair is done: its crew takes the next in line.
    pub(super) fn release_crew(&mut self, cx: &mut Context<'_>, r: usize) {
        let Some(p) = cx.world.infra.replica_pool[r] else {
            return;
        };
        let p = p as usize;
        match self.ops.queue[p].pop_front() {
            Some(next) => self.start_repair(cx, next as usize),
            None => self.ops.busy[p] -= 1,
        }
    }
}
