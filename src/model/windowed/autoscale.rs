//! Autoscaling (`[service.autoscale]`) under windowed sampling.
//!
//! An autoscaler's replica count is request-side state that outlives any
//! window: it is decided from the requests' load, held for a
//! stabilisation window, and its scale-ups arrive a provisioning delay
//! later. It also reaches into the availability process (a parked slot is
//! held down and has no failure clock; a provisioned one fails). Windowed
//! sampling carries it so:
//!
//! - **The count joins the configuration.** Each slot's state (parked or
//!   serving) is part of the configuration key, so each (availability
//!   configuration, burst state, replica count) has its own stationary
//!   sample. Canonical states sort a group's slots with its replicas.
//! - **Handed from window to window.** The autoscalers' whole state (each
//!   slot's state, the provisioning streams, the counts and the replica
//!   timeline so far) passes from each window to the next
//!   ([`Carry`], as [`super::policies`] hands the replicas' warm-up state).
//!   A window starts its autoscalers as if every evaluation of the
//!   stationary segment before it had recommended the count they hold (it
//!   settled there), and evaluates on the full trial's phase (multiples of
//!   `interval` from the horizon's start): the warm-up is stretched to two
//!   intervals, so the first evaluation after the window's start measures
//!   a whole interval of its requests, and every later one exactly its
//!   interval.
//! - **The availability process follows.** A window's scale-ups and
//!   scale-ins hold slots down or let them go, and start or stop their
//!   failure clocks, in the window's availability component; at its end
//!   the trial's availability process continues from the window's state
//!   and pending availability events ([`sync`]) instead of its own, so a
//!   provisioned replica fails (and a parked one does not) as in a full
//!   trial. With deploys or maintenance windows that process is a trial
//!   without requests ([`master`]); it takes the window's operations
//!   state and pending operations events too (`Master::follow`), so a roll
//!   or a window the window advanced goes on from where it stood.
//! - **Operations beside autoscalers.** A replica a deploy restarts or a
//!   maintenance window holds is down in the configuration as ever, and a
//!   bad release's marks move with their replicas and slots when a state
//!   is made canonical ([`canonical`]). An operation's hold on an
//!   autoscaled slot is an availability change for the metastability
//!   clock (the autoscaler's own hold, one per parked or provisioning
//!   slot, is not: [`Carry::holds`]), so a long roll is not judged
//!   metastable for its length.
//! - **Stationary samples run the autoscaler.** A sample starts at its
//!   configuration's count, as if held for a stabilisation window, lets
//!   the autoscaler run, and lasts at least a stabilisation window and 20
//!   intervals ([`min_sample`]). A sample in which the autoscaler acts is
//!   *restless*: the count is not stationary for that configuration (the
//!   load wants another count, or the metric's noise crosses the
//!   tolerance), so no segment is ever estimated from it.
//! - **Settling** also needs every autoscaler at rest: no slot
//!   provisioning or draining, no recommendation of its stabilisation
//!   window above the count (a scale-up would have happened) and the
//!   window's largest equal to it (no scale-down pending), and the
//!   configuration's sample not restless. A window whose autoscalers keep
//!   acting, or whose count's sample is restless, runs on; one that has
//!   not settled [`super::CAP`] after its last availability or burst
//!   change (the autoscalers' own changes do not restart that clock) is
//!   metastable, runs to the horizon and is reported, never estimated
//!   away. A trial whose starting configuration's sample is restless
//!   starts with a window at 0.
//!
//! **What is estimated.** Scale events, replica-seconds, the peak, the
//! time at `max` and the `service.NAME.replicas` timeline are simulated,
//! not estimated: they change only inside windows, and a stationary
//! segment holds the count its window settled at (its sample saw no
//! action). A configuration whose sample saw no action in its length is
//! taken as action-free, as one whose sample saw no failure is taken as
//! failure-free: a rare stationary scale event (a run of evaluations
//! all beyond the tolerance, at a count the load is near the edge of) is
//! not counted in segments.
//!
//! **Refused**: an `interval` longer than half of [`super::MAX_WARMUP`];
//! beside injected faults (the operations' trial does not take a
//! window's fault state back) or request probes (their states are not
//! kept per replica count), see
//! [`refusal`](crate::scenario::sampling::refusal).
//!
//! **Invariants.** Without autoscalers every function here is the
//! identity or empty: keys, timescales, samples and settling are as
//! before, so other models' outputs are unchanged.

use super::super::availability::Availability;
use super::super::trial::Trial;
use super::super::world::World;
use super::master::{self, Marks, Master};
use crate::engine::Nanos;

pub(in crate::model) use super::super::traffic::autoscale::handoff::Carry;

pub use crate::scenario::timescales::SAMPLE_EVALUATIONS;

/// The warm-up `w`'s autoscalers need (0 without any): two of their
/// longest `interval` (see the module doc).
pub(super) fn warmup(w: &World) -> Nanos {
    if !w.autoscaled {
        return 0;
    }
    crate::scenario::timescales::autoscale_warmup(
        w.services
            .iter()
            .filter_map(|s| s.serve.defence.autoscale.as_ref().map(|a| a.interval))
            .max()
            .unwrap_or(0),
    )
}

/// The least length of a stationary sample of `w` (0 without
/// autoscalers): each autoscaler's stabilisation window and
/// [`SAMPLE_EVALUATIONS`] intervals.
pub(super) fn min_sample(w: &World) -> Nanos {
    if !w.autoscaled {
        return 0;
    }
    w.services
        .iter()
        .filter_map(|s| s.serve.defence.autoscale.as_ref())
        .map(|a| {
            a.stabilisation
                .saturating_add(a.interval.saturating_mul(SAMPLE_EVALUATIONS))
        })
        .max()
        .unwrap_or(0)
}

/// `a`, `marks` and the slots `slots` ([`Carry::slots`]) with each group's
/// replicas sorted: [`master::canonical`], the slots moved with their
/// replicas (serving slots before parked ones of the same availability
/// state and release). Without autoscalers, `master::canonical` and no
/// slots.
pub(super) fn canonical(w: &World, a: &Availability, marks: &Marks, slots: &[u8]) -> (Availability, Marks, Vec<u8>) {
    if slots.is_empty() {
        let (c, m) = master::canonical(w, a, marks);
        return (c, m, Vec::new());
    }
    let mut c = a.clone();
    let mut m = marks.clone();
    let mut s = slots.to_vec();
    // Without deploys no replica is marked: the order is the slots' alone.
    let bad = |r: usize| marks.bad.get(r).copied().unwrap_or(false);
    for g in w.groups.iter().filter(|g| super::alike(w, g)) {
        let mut order: Vec<usize> = g.replicas.clone().collect();
        order.sort_by_key(|&r| {
            let x = &a.replicas[r];
            std::cmp::Reverse((x.up, x.active, x.natural, !bad(r), slots[r]))
        });
        for (slot, r) in g.replicas.clone().zip(order) {
            c.replicas[slot] = a.replicas[r];
            s[slot] = slots[r];
            if !m.bad.is_empty() {
                m.bad[slot] = marks.bad[r];
            }
        }
    }
    (c, m, s)
}

/// The configuration key `key` of `a` with each autoscaled slot's replica
/// byte replaced by its own failure process's state and whether anything
/// but its autoscaler holds it down (a deploy's restart, a maintenance
/// window; `slots`, [`Carry::slots`], says which slots the autoscaler
/// holds): what changes only by failures, repairs, outages and
/// operations, not by the autoscalers' holds.
fn outer_key(w: &World, a: &Availability, key: &[u8], slots: &[u8]) -> Vec<u8> {
    let mut k = key.to_vec();
    if !w.autoscaled {
        return k;
    }
    let base = a.region_up.len();
    for g in &w.groups {
        if w.services[g.service].serve.defence.autoscale.is_none() {
            continue;
        }
        for r in g.replicas.clone() {
            let x = &a.replicas[r];
            let own = u16::from(slots.get(r).is_some_and(|&b| Carry::holds(b)));
            let other = x.held > own;
            k[base + r] = 4 | u8::from(x.natural) | (u8::from(x.active) << 1) | (u8::from(other) << 3);
        }
    }
    k
}

/// What a window's settling loop watches of the autoscalers: their slots,
/// and when the availability or burst state last changed (the
/// metastability clock, which the autoscalers' own changes do not
/// restart).
pub(super) struct Watch {
    /// The slots now ([`Carry::slots`]; empty without autoscalers).
    pub slots: Vec<u8>,
    outer: Vec<u8>,
    last_outer: Nanos,
}

impl Watch {
    /// At the window's first change `change`, configuration key `key`.
    pub(super) fn new(t: &mut Trial<'_>, key: &[u8], change: Nanos) -> Self {
        let w = t.world;
        let slots = t.requests().autoscale_slots();
        Self {
            outer: outer_key(w, &t.availability, key, &slots),
            slots,
            last_outer: change,
        }
    }

    /// After a step ending at `now` with configuration key `key`
    /// (`burst_moved`: the burst state changed): whether the autoscalers
    /// changed a slot.
    pub(super) fn step(&mut self, t: &mut Trial<'_>, key: &[u8], burst_moved: bool, now: Nanos) -> bool {
        let w = t.world;
        let slots = t.requests().autoscale_slots();
        let outer = outer_key(w, &t.availability, key, &slots);
        if outer != self.outer || burst_moved {
            self.outer = outer;
            self.last_outer = now;
        }
        let moved = slots != self.slots;
        self.slots = slots;
        moved
    }

    /// Whether the window is past [`super::CAP`] since its last
    /// availability or burst change.
    pub(super) fn capped(&self, now: Nanos) -> bool {
        now.saturating_sub(self.last_outer) >= super::CAP
    }
}

/// Whether the autoscalers of window `t` are at rest (see the module doc;
/// always without autoscalers).
pub(super) fn at_rest(t: &mut Trial<'_>) -> bool {
    t.requests().autoscale_at_rest()
}

/// Continues the trial's availability process from window `t`'s state and
/// pending availability events (with autoscalers only: their holds and
/// failure clocks are part of it).
pub(super) fn sync(master: &mut Master<'_>, t: &Trial<'_>) {
    if !t.world.autoscaled {
        return;
    }
    // With deploys or maintenance windows the master is a trial without
    // requests: it takes the window's operations state and events too.
    master.follow(t);
}

/// Starts the autoscalers of window `t` from `carry` at `from`.
pub(super) fn resume(t: &mut Trial<'_>, carry: &Carry, from: Nanos) {
    t.requests().resume_autoscale(carry, from);
}

/// Starts the autoscalers of a stationary sample at `slots`.
pub(super) fn preset(t: &mut Trial<'_>, slots: &[u8]) {
    t.requests().preset_autoscale(slots);
}

/// Whether a sample's autoscalers acted (it is restless).
pub(super) fn acted(t: &mut Trial<'_>) -> bool {
    t.requests().autoscale_actions() > 0
}

/// Sets the trial's autoscaling figures and replica timeline from the
/// carry its last window left, into `traffic` (without autoscalers,
/// nothing).
pub(super) fn finish(w: &World, carry: &Carry, traffic: &mut super::TrafficResult) {
    if !w.autoscaled {
        return;
    }
    let (counts, timeline) = carry.finish(w, w.horizon);
    traffic.autoscale = counts;
    traffic.replica_timeline = timeline;
}
