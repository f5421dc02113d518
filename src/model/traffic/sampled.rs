//! What windowed request sampling (`super::super::windowed`) reads and sets
//! of the second-round client policies (hedging, the retry budget by
//! concurrency): their counts, which the path keeps beside the result until
//! the horizon, and the hedgers' books, which a window takes from its
//! configuration's stationary sample (the latencies a quantile delay is
//! read from, the hedge budget's tokens) as it takes the health checks'
//! verdicts; and the replicas' warm-up state after restarts (cold starts,
//! caches), which one window hands to the next.

use super::load::Warmth;
use super::{Requests, Traffic};
use crate::engine::Nanos;
use crate::model::counts::ClientCounts;
use crate::resilience::hedge::Hedger;

/// The client-count bits windowed sampling carries (not the bulkhead's).
pub(in crate::model) const CARRIED: u8 = ClientCounts::HEDGE | ClientCounts::CONCURRENCY;

impl Traffic {
    /// Copies the hedging and concurrency-budget counts of every edge that
    /// has them into the result, as the horizon's end does.
    pub(in crate::model) fn sync_client_counts(&mut self) {
        for (x, e) in self.extras.iter().zip(self.result.edges.iter_mut()) {
            if x.counts.configured & CARRIED != 0 {
                let bulkhead = e.client;
                e.client = x.counts;
                e.client.bulkhead_accepted = bulkhead.bulkhead_accepted;
                e.client.bulkhead_queued = bulkhead.bulkhead_queued;
                e.client.bulkhead_peak_waiting = bulkhead.bulkhead_peak_waiting;
                e.client.bulkhead_wait_s = bulkhead.bulkhead_wait_s;
            }
        }
    }

    /// Per edge: its hedger's books, when it hedges.
    pub(in crate::model) fn hedgers(&self) -> Vec<Option<Hedger>> {
        self.extras.iter().map(|x| x.hedger.clone()).collect()
    }

    /// Replaces the edges' hedgers' books with `books` (from
    /// [`Traffic::hedgers`] of the same world).
    pub(in crate::model) fn preset_hedgers(&mut self, books: &[Option<Hedger>]) {
        for (x, b) in self.extras.iter_mut().zip(books) {
            if x.hedger.is_some() {
                x.hedger.clone_from(b);
            }
        }
    }

    /// Whether every hedger with a quantile delay knows its delay (its
    /// window of latencies is full).
    pub(in crate::model) fn hedgers_ready(&mut self) -> bool {
        self.extras
            .iter_mut()
            .all(|x| x.hedger.as_mut().is_none_or(|h| h.delay().is_some()))
    }
}

impl Traffic {
    /// The replicas' warm-up state.
    pub(in crate::model) fn warmth(&self) -> Warmth {
        self.load.warmth()
    }

    /// Takes a warm-up state from [`Traffic::warmth`] of the same world.
    pub(in crate::model) fn set_warmth(&mut self, w: &Warmth) {
        self.load.set_warmth(w);
    }
}

impl Requests<'_> {
    /// Whether every replica is warm at `now`: none that takes traffic
    /// (reachable, active, admitted by its health check) still waits for
    /// its first job after a reset, and every warm-up that began is over
    /// (the cold start's duration, each cache's fill; `warm_for` per
    /// service gives that length).
    pub(in crate::model) fn warmed(&self, now: Nanos, warm_for: impl Fn(usize) -> Nanos) -> bool {
        let w = self.world;
        (0..w.replicas.len()).all(|r| {
            let (cold, since) = self.traffic.load.state_of(r);
            let takes = self.reachable(r) && self.availability.replicas[r].active && self.traffic.health[r].healthy;
            !(cold && takes) && since.is_none_or(|s| now.saturating_sub(s) >= warm_for(w.replicas[r].service))
        })
    }
}
