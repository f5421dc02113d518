//! Readiness and liveness probes (`health_check` with `timeout`, `cost`
//! or `deep`; `liveness`) under windowed sampling.
//!
//! A probe's verdict is not "this replica serves": a deep readiness check
//! fails with a dependency, a loaded replica times its probe out, and a
//! liveness restart takes a replica out from the request side. So windows
//! do not start from verdicts agreeing with what serves, nor wait for
//! that agreement. Instead:
//!
//! - **The stationary sample runs the probes.** With the availability
//!   frozen, its readiness verdicts, failed liveness probes and restarts
//!   (request-side state: without faults a restart never touches the
//!   availability component) are part of the configuration's stationary
//!   behaviour, and its counts carry them. At each batch end the sample
//!   keeps every replica's probe state ([`ReplicaProbes`]: verdict, counts
//!   toward `healthy` / `unhealthy`, failed liveness probes in a row, a
//!   restart in progress and its time left; at most [`KEEP`] of them,
//!   evenly spread) and the verdict *signature* ([`signature`]: per group
//!   and class of alike replicas, how many pass).
//! - **A window starts from one of those states**, picked by the window's
//!   stream, as it starts from the sample's hedgers' books: the replicas of
//!   the window's configuration are mapped onto the sample's canonical
//!   ones class by class ([`order`]), and a restart in progress ends after
//!   its time left. The warm-up covers the probes' own timescales
//!   ([`warmup`]), so the state at the change is close to a stationary draw
//!   whichever was picked.
//! - **Settling** (in place of "every verdict agrees with what serves"):
//!   no liveness restart is in progress, the window's verdict signature is
//!   one the sample of its configuration ended a batch with, and the
//!   window's availability configuration is the master availability
//!   process's ([`with_master`]). A window whose request side keeps
//!   restarting replicas or whose verdicts never return to a stationary
//!   signature is metastable after [`super::CAP`]: run to the horizon and
//!   reported, never estimated away.
//! - **Counts.** Per service with probes: probes sent, failed, and
//!   restarts, carried like every other counter, but scaled to time
//!   rather than to the workloads' known rate: probes go out per interval
//!   per replica, not per arrival ([`rescale`]).
//!
//! **Refused** ([`refusal`]): probes together with injected faults (a hang
//! fault is what liveness restarts cure, which changes the availability
//! from the request side).
//!
//! **Invariant.** Without probes nothing here runs: the counters, keys,
//! timescales and settling rule are as before.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use super::super::availability::Availability;
use super::super::result::TrafficResult;
use super::super::traffic::ReplicaProbes;
use super::super::trial::Trial;
use super::super::world::World;
use super::MAX_WARMUP;
use super::master::{Marks, Master};
use crate::engine::Nanos;
use crate::scenario::Probes;

/// Most probe states a stationary sample keeps for windows to start from.
pub const KEEP: usize = 64;

/// Whether `p` sends request probes.
fn probed(p: &Probes) -> bool {
    p.readiness.is_some() || p.liveness.is_some()
}

/// Whether a service of `w` sends request probes (readiness or liveness).
pub(super) fn any(w: &World) -> bool {
    w.services.iter().any(|s| probed(&s.serve.defence.probes))
}

pub use crate::scenario::timescales::probe_warmup as warmup;

/// [`warmup`], the longest over `w`'s services (ns, at most
/// [`MAX_WARMUP`]).
pub(super) fn world_warmup(w: &World) -> Nanos {
    let secs = w
        .services
        .iter()
        .map(|s| warmup(&s.serve.health_check, &s.serve.defence.probes))
        .fold(0.0, f64::max);
    ((secs.max(0.0) * 1e9).min(MAX_WARMUP as f64)) as Nanos
}

/// A replica's class: replicas of a group alike in it are exchangeable
/// (the key [`super::master::canonical`] sorts by).
fn class(a: &Availability, marks: &Marks, r: usize) -> (bool, bool, bool, bool) {
    let s = &a.replicas[r];
    (s.up, s.active, s.natural, !marks.bad.get(r).copied().unwrap_or(false))
}

/// Slot to replica: for each slot of the canonical state of `a` (each
/// group's replicas sorted as [`super::master::canonical`] sorts them,
/// stably), the replica of `a` there.
pub fn order(w: &World, a: &Availability, marks: &Marks) -> Vec<usize> {
    let mut order: Vec<usize> = (0..a.replicas.len()).collect();
    for g in &w.groups {
        order[g.replicas.clone()].sort_by_key(|&r| Reverse(class(a, marks, r)));
    }
    order
}

/// The verdict signature of `a` with `marks` and verdicts `verdict`: in
/// canonical slot order, within each run of one class, as many `true` as
/// replicas of the class pass, then `false`. Two states whose classes hold
/// as many passing replicas each have the same signature.
pub fn signature(w: &World, a: &Availability, marks: &Marks, verdict: impl Fn(usize) -> bool) -> Vec<bool> {
    let order = order(w, a, marks);
    let mut sig = Vec::with_capacity(order.len());
    for g in &w.groups {
        let end = g.replicas.end;
        let mut i = g.replicas.start;
        while i < end {
            let c = class(a, marks, order[i]);
            let mut j = i;
            let mut ok = 0;
            while j < end && class(a, marks, order[j]) == c {
                ok += usize::from(verdict(order[j]));
                j += 1;
            }
            sig.extend((0..j - i).map(|k| k < ok));
            i = j;
        }
    }
    sig
}

/// What a stationary sample keeps of its probes (empty without probes).
#[derive(Debug, Default)]
pub(super) struct Sampled {
    /// Probe states at batch ends, per canonical replica: every
    /// `stride`-th batch end, at most [`KEEP`].
    states: Vec<Vec<ReplicaProbes>>,
    stride: u64,
    seen: u64,
    /// The verdict signatures of every batch end.
    signatures: BTreeSet<Vec<bool>>,
}

impl Sampled {
    /// Takes in the probe state of sample `t` (run from a canonical state
    /// with `marks`) at a batch end `now`.
    pub(super) fn see(&mut self, t: &Trial<'_>, marks: &Marks, now: Nanos) {
        let w = t.world;
        if !any(w) {
            return;
        }
        self.stride = self.stride.max(1);
        self.seen += 1;
        self.signatures
            .insert(signature(w, &t.availability, marks, |r| t.traffic.verdict(r)));
        if self.seen.is_multiple_of(self.stride) {
            // The sample's state is canonical: its slots are its replicas.
            self.states.push(t.traffic.probe_states(now));
            if self.states.len() >= 2 * KEEP {
                // Keep the multiples of twice the stride.
                let mut k = 0;
                self.states.retain(|_| {
                    k += 1;
                    k % 2 == 0
                });
                self.stride *= 2;
            }
        }
    }
}

impl Trial<'_> {
    /// Gives a window just started at `now` from a state of configuration
    /// (and `marks`) whose sample kept `s` the probe state `s` kept at its
    /// `pick`-th batch end (modulo how many it kept).
    pub(super) fn preset_probes(&mut self, s: &Sampled, marks: &Marks, pick: u64, now: Nanos) {
        if s.states.is_empty() {
            return;
        }
        let states = &s.states[(pick % s.states.len() as u64) as usize];
        let order = order(self.world, &self.availability, marks);
        self.requests().preset_probes(states, &order, now);
    }

    /// The settling rule's condition on health (see the module doc):
    /// without probes, every verdict agrees with what serves; with them, no
    /// restart is in progress and the verdict signature is one the sample
    /// `s` of the window's configuration (with `marks`) saw.
    pub(super) fn probes_settled(&mut self, s: &Sampled, marks: &Marks) -> bool {
        let w = self.world;
        if !any(w) {
            return self.requests().health_agrees();
        }
        !self.traffic.restarting_any()
            && s.signatures
                .contains(&signature(w, &self.availability, marks, |r| self.traffic.verdict(r)))
    }
}

/// Whether the master availability process, run to `now`, is in the
/// window's configuration `key` (always so without faults: only a
/// liveness restart curing a hang changes the availability from the
/// request side). Without probes, true without looking.
pub(super) fn with_master(w: &World, master: &mut Master<'_>, key: &[u8], now: Nanos) -> bool {
    if !any(w) {
        return true;
    }
    master.run_until(now);
    master.key() == key
}

/// Counters per service with probes: probes sent, failed, restarts.
const PER_SERVICE: usize = 3;

/// How many counters [`flatten`] appends for `w`.
pub(super) fn len(w: &World) -> usize {
    PER_SERVICE * w.services.iter().filter(|s| probed(&s.serve.defence.probes)).count()
}

/// Appends `t`'s probe counters (none without probes).
pub(super) fn flatten(w: &World, t: &TrafficResult, v: &mut Vec<f64>) {
    for (s, spec) in w.services.iter().enumerate() {
        if probed(&spec.serve.defence.probes) {
            let d = &t.defence[s];
            v.extend([d.probes, d.probes_failed, d.restarts].map(|x| x as f64));
        }
    }
}

/// The counters [`flatten`] appended, the last [`len`] of `v`, back into
/// `t`.
pub(super) fn unflatten(w: &World, v: &[f64], t: &mut TrafficResult) {
    let n = |x: f64| x.max(0.0).round() as u64;
    let mut i = v.len() - len(w);
    for (s, spec) in w.services.iter().enumerate() {
        if probed(&spec.serve.defence.probes) {
            let d = &mut t.defence[s];
            d.probes = n(v[i]);
            d.probes_failed = n(v[i + 1]);
            d.restarts = n(v[i + 2]);
            i += PER_SERVICE;
        }
    }
}

/// The probe counters' rates of a sample (the [`len`] counters before
/// the workflows' at the end of the flattened counters), per second of
/// the sample rather than scaled to the workloads' known rate: probes go
/// out per interval, not per arrival.
pub(super) fn rescale(w: &World, rates: &mut [f64], before: &[f64], after: &[f64], secs: f64) {
    let end = rates.len() - super::workflows::len(w);
    for i in end - len(w)..end {
        rates[i] = (after[i] - before[i]) / secs;
    }
}
