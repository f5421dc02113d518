//! The books of caches and cold starts across trials (`[[service.call]]
//! cache`, `service.cold_start`), and their summary fields: present only
//! on the calls and services that configure them, so every other
//! scenario keeps its summary byte for byte.
//!
//! Invariants: `cache` is empty until a trial with a cache lookup is
//! pushed, then has one entry per edge; `cold` is empty until a trial
//! with a cold start is pushed, then has one entry per service. Counts
//! add exactly; the seconds are added in trial order (chunks merged in
//! chunk order), so the figures do not depend on the thread count and
//! shards merge into them.

use serde::{Deserialize, Serialize};

use crate::model::traffic::TrafficResult;

/// Caches and cold starts over the trials so far.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LoadAcc {
    /// Per edge: cache lookups and hits.
    cache: Vec<[u64; 2]>,
    /// Per service: cold starts begun and replica-seconds cold.
    cold: Vec<(u64, f64)>,
}

impl LoadAcc {
    /// Adds one trial.
    pub(crate) fn push(&mut self, t: &TrafficResult) {
        self.add(&t.cache, &t.cold);
    }

    /// Adds another accumulator's books.
    pub(crate) fn merge(&mut self, o: &Self) {
        self.add(&o.cache, &o.cold);
    }

    fn add(&mut self, cache: &[[u64; 2]], cold: &[(u64, f64)]) {
        if !cache.is_empty() {
            self.cache.resize(cache.len(), [0, 0]);
            for (a, b) in self.cache.iter_mut().zip(cache) {
                a[0] += b[0];
                a[1] += b[1];
            }
        }
        if !cold.is_empty() {
            self.cold.resize(cold.len(), (0, 0.0));
            for (a, b) in self.cold.iter_mut().zip(cold) {
                a.0 += b.0;
                a.1 += b.1;
            }
        }
    }

    /// Edge `edge`'s cache figures (zeros where no lookup was made).
    pub fn cache(&self, edge: usize) -> CacheSummary {
        let [lookups, hits] = self.cache.get(edge).copied().unwrap_or([0, 0]);
        CacheSummary {
            lookups,
            hits,
            hit_rate: if lookups > 0 { hits as f64 / lookups as f64 } else { 0.0 },
            passed_through: lookups - hits,
        }
    }

    /// Service `service`'s cold-start figures over `trials` trials.
    pub fn cold_start(&self, service: usize, trials: u64) -> ColdStartSummary {
        let (starts, cold_s) = self.cold.get(service).copied().unwrap_or((0, 0.0));
        ColdStartSummary {
            starts,
            cold_s: if trials > 0 { cold_s / trials as f64 } else { 0.0 },
        }
    }
}

/// `edges."FROM->TO".cache` in `summary.json`: a call's cache, totals over
/// all trials.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CacheSummary {
    /// Calls looked up in the cache.
    pub lookups: u64,
    /// Lookups the cache answered (no call made).
    pub hits: u64,
    /// `hits / lookups` (0 with no lookup).
    pub hit_rate: f64,
    /// Lookups that missed and went on as calls (`lookups - hits`).
    pub passed_through: u64,
}

/// `services.NAME.requests.cold_start` in `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColdStartSummary {
    /// Cold starts taken (warm-ups begun after a restart or a scale-up),
    /// over all trials.
    pub starts: u64,
    /// Replica-seconds spent cold per trial (mean): each cold start's
    /// `duration`, cut short by the replica's next restart or the horizon.
    pub cold_s: f64,
}
