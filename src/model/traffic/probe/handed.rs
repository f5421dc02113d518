//! What windowed request sampling (`crate::model::windowed`'s `probes`)
//! reads and sets of the request probes: each replica's readiness verdict
//! and its counts toward `healthy` / `unhealthy`, its failed liveness
//! probes in a row, and a restart in progress with the time left. A
//! stationary sample takes these at its batch ends; a window starts from
//! one of them (as it starts from the sample's hedgers' books).
//!
//! Probes in flight are requests in flight: a window starts without them,
//! as it starts without requests, and the next tick sends them.

use super::super::{Requests, Traffic};
use crate::engine::Nanos;
use crate::model::event::{Event, ProbeEvent};

/// One replica's probe state, its times relative to when it was taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(in crate::model) struct ReplicaProbes {
    /// The last readiness verdict (the free check's, without a probe).
    pub(in crate::model) ok: bool,
    fails: u32,
    oks: u32,
    live_fails: u32,
    /// A restart in progress: the time left.
    back_in: Option<Nanos>,
    /// No liveness probe for this long.
    not_before_in: Nanos,
}

impl Traffic {
    /// Every replica's probe state at `now`.
    pub(in crate::model) fn probe_states(&self, now: Nanos) -> Vec<ReplicaProbes> {
        let p = &self.probe;
        (0..self.health.len())
            .map(|r| {
                let h = &self.health[r];
                ReplicaProbes {
                    ok: h.probe_ok,
                    fails: h.fails,
                    oks: h.oks,
                    live_fails: p.live_fails[r],
                    back_in: p.restarting(r).then(|| p.back_at[r].saturating_sub(now)),
                    not_before_in: p.not_before[r].saturating_sub(now),
                }
            })
            .collect()
    }

    /// Whether a liveness restart is in progress.
    pub(in crate::model) fn restarting_any(&self) -> bool {
        self.probe.restarting_any > 0
    }

    /// Replica `r`'s last readiness verdict.
    pub(in crate::model) fn verdict(&self, r: usize) -> bool {
        self.health[r].probe_ok
    }
}

impl Requests<'_> {
    /// Gives replica `order[i]` the state `states[i]` (taken by
    /// [`Traffic::probe_states`] of the same world), its times from `now`:
    /// its verdict and counts, its failed liveness probes, and a restart in
    /// progress, whose end is scheduled. Called on a request component just
    /// started (no restart in progress, nothing in flight).
    pub(in crate::model) fn preset_probes(&mut self, states: &[ReplicaProbes], order: &[usize], now: Nanos) {
        for (s, &r) in states.iter().zip(order) {
            let h = &mut self.traffic.health[r];
            h.probe_ok = s.ok;
            h.fails = s.fails;
            h.oks = s.oks;
            self.set_eligible(r);
            let p = &mut self.traffic.probe;
            p.live_fails[r] = s.live_fails;
            p.not_before[r] = now.saturating_add(s.not_before_in);
            if let Some(left) = s.back_in
                && !p.restarting[r]
            {
                p.restarting[r] = true;
                p.restarting_any += 1;
                p.back_at[r] = now.saturating_add(left);
                self.queue
                    .schedule(now.saturating_add(left), Event::Probe(ProbeEvent::Restarted(r as u32)));
            }
        }
    }
}
