//! What windowed request sampling (`super::super::windowed`) reads and sets
//! of the second-round client policies (hedging, the retry budget by
//! concurrency): their counts, which the path keeps beside the result until
//! the horizon, and the hedgers' books, which a window takes from its
//! configuration's stationary sample (the latencies a quantile delay is
//! read from, the hedge budget's tokens) as it takes the health checks'
//! verdicts.

use super::Traffic;
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
