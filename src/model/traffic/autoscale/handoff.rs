//! The autoscalers' state under windowed request sampling
//! (`crate::model::windowed::autoscale` owns the method): what a window
//! takes from the one before it and hands to the next, what a stationary
//! sample starts from, and whether the autoscalers are at rest.
//!
//! **Invariants.** A [`Carry`] is taken only from a window that settled
//! (every slot serving or parked, nothing provisioning or draining) or
//! ran to the horizon, so no autoscaler event but the periodic evaluation
//! is ever pending across a hand-off; its figures (scale events,
//! replica-seconds, peak, time at `max`, the replica timeline) are
//! integrated lazily from `since` and `serving_since`, which stay valid
//! across a stationary segment because nothing changes there.

use std::collections::VecDeque;

use super::{Group, ScaleState, Slot, spread};
use crate::engine::Nanos;
use crate::model::event::{AutoscaleEvent, Event};
use crate::model::traffic::{Requests, TIMELINE_BUCKETS};
use crate::model::world::World;
use crate::random::{self, Purpose};

/// One byte per slot state, in configuration keys.
const PARKED: u8 = 0;
const PROVISIONING: u8 = 1;
const SERVING: u8 = 2;
const DRAINING: u8 = 3;

fn byte(s: Slot) -> u8 {
    match s {
        Slot::Parked => PARKED,
        Slot::Provisioning => PROVISIONING,
        Slot::Serving => SERVING,
        Slot::Draining => DRAINING,
    }
}

/// The autoscalers of one windowed trial between its windows.
#[derive(Clone, Default)]
pub(in crate::model) struct Carry {
    state: ScaleState,
    /// Serving replica-seconds per service and timeline bucket so far.
    timeline: Vec<f64>,
}

impl Carry {
    /// The autoscalers of trial `trial` of seed `seed` at time 0, as a
    /// full trial starts them (the declared replicas serve, the other
    /// slots are parked, the provisioning delays on the full trial's
    /// streams). Empty when `w` has no autoscaler.
    pub(in crate::model) fn start(w: &World, seed: u64, trial: u64) -> Self {
        if !w.autoscaled {
            return Self::default();
        }
        let n = w.replicas.len();
        let mut st = ScaleState {
            slot: vec![Slot::Serving; n],
            gen_: vec![0; n],
            area: vec![0; n],
            last: vec![0; n],
            counts: vec![Default::default(); w.services.len()],
            ..ScaleState::default()
        };
        for spec in &w.groups {
            if w.services[spec.service].serve.defence.autoscale.is_none() {
                st.groups.push(None);
                continue;
            }
            let declared = (spec.replicas.len() - spec.parked) as u32;
            for r in spec.replicas.end - spec.parked..spec.replicas.end {
                st.slot[r] = Slot::Parked;
            }
            let stream = (0x41 << 40) | ((spec.service as u64) << 20) | spec.slot as u64;
            st.groups.push(Some(Group {
                wanted: declared,
                existing: declared,
                last_eval: 0,
                since: 0,
                history: VecDeque::new(),
                rng: random::stream(seed, trial, Purpose::Health, stream),
                serving: declared,
                serving_since: 0,
            }));
            st.counts[spec.service].peak += declared;
        }
        Self {
            state: st,
            timeline: vec![0.0; w.services.len() * TIMELINE_BUCKETS],
        }
    }

    /// Whether a slot in state `b` ([`Carry::slots`]'s byte) holds its
    /// replica down in the availability component: parked and
    /// provisioning slots hold one hold each, serving and draining ones
    /// none.
    pub(in crate::model) fn holds(b: u8) -> bool {
        matches!(b, PARKED | PROVISIONING)
    }

    /// Per replica, its slot's state (one byte; a replica of a group that
    /// is not autoscaled serves). Empty without autoscalers.
    pub(in crate::model) fn slots(&self) -> Vec<u8> {
        self.state.slot.iter().map(|&s| byte(s)).collect()
    }

    /// The trial's autoscaling figures and replica timeline, integrated
    /// to `horizon` (nothing changes after the carry's last window).
    pub(in crate::model) fn finish(&self, w: &World, horizon: Nanos) -> (Vec<super::ScaleCounts>, Vec<f64>) {
        let mut st = self.state.clone();
        let mut timeline = self.timeline.clone();
        for (g, spec) in w.groups.iter().enumerate() {
            let Some(grp) = st.groups[g].as_mut() else { continue };
            let max = w.services[spec.service]
                .serve
                .defence
                .autoscale
                .as_ref()
                .map_or(u32::MAX, |a| a.max);
            let dt = horizon.saturating_sub(grp.since) as f64 / 1e9;
            let c = &mut st.counts[spec.service];
            c.replica_s += f64::from(grp.existing) * dt;
            if grp.wanted == max {
                c.at_max_s += dt;
            }
            let s = spec.service;
            let row = &mut timeline[s * TIMELINE_BUCKETS..(s + 1) * TIMELINE_BUCKETS];
            spread(row, grp.serving_since, horizon, grp.serving, horizon);
        }
        (st.counts, timeline)
    }
}

impl Requests<'_> {
    /// Takes the autoscalers of `carry` into a window starting at `from`
    /// (just started by `start_traffic`): their slots, counts, streams and
    /// timeline; every slot's routing; the stabilisation window as if
    /// every evaluation so far had recommended the count it holds (the
    /// stationary segment before the window did: it settled there; a
    /// window at 0 starts with the empty window of a full trial). The
    /// first evaluation is at the first multiple of `interval` (the full
    /// trial's phase) at least one `interval` after `from`, measuring the
    /// load since `from`, so each later one measures exactly its interval.
    pub(in crate::model) fn resume_autoscale(&mut self, carry: &Carry, from: Nanos) {
        let w = self.world;
        if !w.autoscaled {
            return;
        }
        self.queue
            .retain(|e| !matches!(e, Event::Autoscale(AutoscaleEvent::Evaluate(_))));
        self.traffic.scale = carry.state.clone();
        self.traffic.result.replica_timeline.clone_from(&carry.timeline);
        let st = &mut self.traffic.scale;
        st.area.iter_mut().for_each(|a| *a = 0);
        st.last.iter_mut().for_each(|l| *l = from);
        st.holds.clear();
        for (g, spec) in w.groups.iter().enumerate() {
            let Some(a) = &w.services[spec.service].serve.defence.autoscale else {
                continue;
            };
            let grp = self.traffic.scale.groups[g].as_mut().expect("an autoscaled group");
            grp.last_eval = from;
            grp.history.clear();
            // At 0 nothing came before: the full trial's empty window.
            if from > 0 {
                grp.history.push_back((from, grp.wanted));
            }
            let i = a.interval.max(1);
            let first = (from + i).div_ceil(i).saturating_mul(i);
            self.queue
                .schedule(first, Event::Autoscale(AutoscaleEvent::Evaluate(g as u32)));
        }
        self.route_slots();
    }

    /// Sets every autoscaled slot's place in its balancer from its state
    /// (out of service unless serving).
    fn route_slots(&mut self) {
        for (g, spec) in self.world.groups.iter().enumerate() {
            if self.traffic.scale.groups.get(g).is_none_or(Option::is_none) {
                continue;
            }
            for r in spec.replicas.clone() {
                let out = self.traffic.scale.slot[r] != Slot::Serving;
                if self.traffic.health[r].out != out {
                    self.traffic.health[r].out = out;
                }
                self.set_eligible(r);
            }
        }
    }

    /// Starts a stationary sample's autoscalers (just started by
    /// `start_traffic` at time 0) at the slots `slots` (from
    /// [`Carry::slots`], serving or parked), as if each had held its count
    /// for a stabilisation window.
    pub(in crate::model) fn preset_autoscale(&mut self, slots: &[u8]) {
        let w = self.world;
        if !w.autoscaled || slots.len() != w.replicas.len() {
            return;
        }
        let st = &mut self.traffic.scale;
        for (r, &b) in slots.iter().enumerate() {
            st.slot[r] = if b == SERVING { Slot::Serving } else { Slot::Parked };
        }
        for (g, spec) in w.groups.iter().enumerate() {
            let Some(grp) = st.groups[g].as_mut() else { continue };
            let n = spec.replicas.clone().filter(|&r| st.slot[r] == Slot::Serving).count() as u32;
            grp.wanted = n;
            grp.existing = n;
            grp.serving = n;
            grp.history.clear();
            grp.history.push_back((0, n));
        }
        for c in &mut st.counts {
            *c = Default::default();
        }
        for (g, spec) in w.groups.iter().enumerate() {
            if let Some(grp) = &st.groups[g] {
                st.counts[spec.service].peak += grp.existing;
            }
        }
        self.route_slots();
    }

    /// The state to hand to the next window (or to finish the trial).
    pub(in crate::model) fn carry_autoscale(&self) -> Carry {
        if !self.world.autoscaled {
            return Carry::default();
        }
        Carry {
            state: self.traffic.scale.clone(),
            timeline: self.traffic.result.replica_timeline.clone(),
        }
    }

    /// Per replica, its slot's state now ([`Carry::slots`]).
    pub(in crate::model) fn autoscale_slots(&self) -> Vec<u8> {
        if !self.world.autoscaled {
            return Vec::new();
        }
        self.traffic.scale.slot.iter().map(|&s| byte(s)).collect()
    }

    /// Whether every autoscaler is at rest: no slot provisioning or
    /// draining, and the largest recommendation of its stabilisation
    /// window equal to the count it holds (none above: it would have
    /// scaled up; the largest not below: no scale-down is pending).
    pub(in crate::model) fn autoscale_at_rest(&self) -> bool {
        let st = &self.traffic.scale;
        self.world.groups.iter().enumerate().all(|(g, spec)| {
            let Some(grp) = st.groups.get(g).and_then(Option::as_ref) else {
                return true;
            };
            let pending = spec
                .replicas
                .clone()
                .any(|r| matches!(st.slot[r], Slot::Provisioning | Slot::Draining));
            let keeps = grp
                .history
                .iter()
                .map(|&(_, n)| n)
                .max()
                .is_none_or(|m| m == grp.wanted);
            !pending && keeps
        })
    }

    /// Scale events the autoscalers took since they started.
    pub(in crate::model) fn autoscale_actions(&self) -> u64 {
        self.traffic
            .scale
            .counts
            .iter()
            .map(|c| c.scale_ups + c.scale_downs)
            .sum()
    }
}
