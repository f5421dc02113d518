//! Injected faults (`[[fault]]`) under windowed sampling.
//!
//! **The schedule** runs in the availability process ([`super::master`]):
//! a model with faults runs it as a trial without requests, whose fault
//! component draws each start and length from the streams a full trial
//! draws them from and carries out the holds (a crash or hang holds its
//! replicas or region down, so the time-based figures, the occurrences
//! and the active time are the full trial's), but opens no occurrence and
//! probes nothing. Which faults are active joins the configuration key
//! ([`super::master::Marks::faults`]), so every start and end, of every
//! kind and every recurrence, is a change with its window.
//!
//! A full trial draws a latency fault's per-request delays from its
//! schedule's stream too, so after the first occurrence of a recurring
//! latency fault with a random `every` or `duration` the two follow
//! different (equally distributed) schedules; every other fault follows
//! the full trial's own.
//!
//! **A window takes the master's schedule** (its streams, and which faults
//! are on): its starts and ends are the master's, while its per-request
//! draws (a latency fault's delays) come from the window's own streams. A
//! fault's start inside a window runs as in a full trial: its effects
//! (holds, the overlay of errors, latency, slots, cuts, skew), its
//! occurrence opened, the `[cascade]` probe started.
//!
//! **Settling rule, extended.** A window does not settle while any fault is
//! active or any occurrence is still being measured (ended but not yet
//! recovered by `cascade.settle` of good buckets): each such step counts
//! as a change, so the window settles at least one warm-up and
//! [`super::SETTLE_STEPS`] stationary steps after the last occurrence has
//! recovered. An occurrence that never recovers keeps its window open to
//! the horizon, where it is judged as a full trial judges it
//! (metastable). So every occurrence is simulated request by request from
//! its start until its figures are all decided: blast radius, detection
//! and time to detect, recovery and time to recover, and the requests
//! concluded while it was active (and their successes) are counted from
//! the simulated stream, exactly as a full trial counts them. No
//! stationary segment has a fault active or an occurrence open, so no
//! sample ever runs with a fault (a window starts with none active, and
//! [`super::master::Marks::apply`] checks it), and the segments' estimates
//! add nothing to the faults' figures.
//!
//! The price: the whole of every occurrence, plus its recovery, is
//! simulated. Faults lasting minutes in a month cost little; a fault that
//! lasts days costs what full simulation of those days costs.
//!
//! **Refused:** faults together with readiness or liveness probes (a
//! liveness restart cures a hang from the request side) or autoscaling.
//!
//! **Invariant.** Without faults nothing here runs: [`active`] is empty, the
//! keys, streams and samples are those of the model without them.

use super::super::fault::FaultResult;
use super::super::trial::Trial;
use super::super::world::World;
use crate::engine::Nanos;

/// Per fault of `w`: whether it is active in `t` (empty without faults).
pub(super) fn active(w: &World, t: &Trial<'_>) -> Vec<bool> {
    if w.faults.is_empty() {
        return Vec::new();
    }
    t.faults.active().to_vec()
}

/// Whether window `t` must not settle: a fault is active, or an occurrence
/// is still being measured.
pub(super) fn measuring(w: &World, t: &Trial<'_>) -> bool {
    !w.faults.is_empty() && t.faults.measuring()
}

/// The faults' request-level figures of one windowed trial, window by
/// window.
pub(super) struct Books {
    results: Vec<FaultResult>,
}

impl Books {
    pub(super) fn new(w: &World) -> Self {
        Self {
            results: vec![
                FaultResult {
                    affected: vec![0; w.services.len()],
                    ..FaultResult::default()
                };
                w.faults.len()
            ],
        }
    }

    /// Adds what window `t`, now ending at `end`, measured of its
    /// occurrences (closing its books first when it ran to the horizon).
    pub(super) fn add_window(&mut self, t: &mut Trial<'_>, end: Nanos) {
        let w = t.world;
        if w.faults.is_empty() {
            return;
        }
        if end >= w.horizon {
            t.finish_faults(w.horizon);
        }
        debug_assert!(
            end >= w.horizon || !t.faults.measuring(),
            "a window settled while measuring a fault"
        );
        for (mine, r) in self.results.iter_mut().zip(t.faults.results()) {
            // Occurrences and active time are the master's.
            for (a, b) in mine.affected.iter_mut().zip(&r.affected) {
                *a += b;
            }
            mine.detected += r.detected;
            mine.detect_s += r.detect_s;
            mine.judged += r.judged;
            mine.recovered += r.recovered;
            mine.recover_s += r.recover_s;
            mine.recover_max_s = mine.recover_max_s.max(r.recover_max_s);
            mine.requests += r.requests;
            mine.success += r.success;
        }
    }

    /// The trial's figures: `master`'s occurrences and active time with
    /// the windows' request-level figures.
    pub(super) fn finish(self, master: &mut [FaultResult]) {
        for (m, r) in master.iter_mut().zip(self.results) {
            *m = FaultResult {
                occurrences: m.occurrences,
                active_s: m.active_s,
                ..r
            };
        }
    }
}
