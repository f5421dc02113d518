//! The sums behind `timeline.csv`: per time bucket, what the entry
//! requests, each service and each edge did, added up across trials in
//! trial order.
//!
//! The sums are of `f32` cells and regrouping them would change their last
//! bits, so they are never merged: a sharded run keeps each trial's
//! [`TimelineRows`] and replays them, in trial order, into one
//! [`TimelineAcc`].

use serde::{Deserialize, Serialize};

use crate::model::traffic::{TIMELINE_BUCKETS, TrafficResult};

/// One trial's contribution to `timeline.csv`: the three per-bucket
/// tables of its [`TrafficResult`], as a shard's part stores them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineRows {
    /// [`TrafficResult::timeline`].
    pub entry: Vec<[u32; 4]>,
    /// [`TrafficResult::service_timeline`].
    pub services: Vec<[f32; 3]>,
    /// [`TrafficResult::edge_timeline`].
    pub edges: Vec<[f32; 3]>,
    /// [`TrafficResult::replica_timeline`] (empty without autoscaling).
    pub replicas: Vec<f64>,
}

impl From<&TrafficResult> for TimelineRows {
    fn from(t: &TrafficResult) -> Self {
        Self {
            entry: t.timeline.clone(),
            services: t.service_timeline.clone(),
            edges: t.edge_timeline.clone(),
            replicas: t.replica_timeline.clone(),
        }
    }
}

/// Per-bucket sums across trials.
#[derive(Debug, Clone, Default)]
pub struct TimelineAcc {
    /// Trials added.
    pub(crate) trials: u64,
    /// Per bucket: requests, successes, degraded, entry attempts.
    pub(crate) entry: Vec<[f64; 4]>,
    /// Service-major: concluded, succeeded, queued.
    pub(crate) services: Vec<[f64; 3]>,
    /// Edge-major: calls, attempts, breaker open seconds.
    pub(crate) edges: Vec<[f64; 3]>,
    /// Service-major: serving replica-seconds of autoscaled services
    /// (empty without autoscaling).
    pub(crate) replicas: Vec<f64>,
}

impl TimelineAcc {
    /// Adds one trial.
    pub fn push(&mut self, t: &TrafficResult) {
        self.add(&t.timeline, &t.service_timeline, &t.edge_timeline);
        self.add_replicas(&t.replica_timeline);
    }

    /// Adds one trial stored by a shard: the same sums as [`Self::push`]
    /// of the trial it came from.
    pub fn push_rows(&mut self, t: &TimelineRows) {
        self.add(&t.entry, &t.services, &t.edges);
        self.add_replicas(&t.replicas);
    }

    fn add_replicas(&mut self, replicas: &[f64]) {
        if replicas.is_empty() {
            return;
        }
        if self.replicas.is_empty() {
            self.replicas = vec![0.0; replicas.len()];
        }
        for (acc, x) in self.replicas.iter_mut().zip(replicas) {
            *acc += x;
        }
    }

    fn add(&mut self, entry: &[[u32; 4]], services: &[[f32; 3]], edges: &[[f32; 3]]) {
        if self.entry.is_empty() {
            self.entry = vec![[0.0; 4]; TIMELINE_BUCKETS];
            self.services = vec![[0.0; 3]; services.len()];
            self.edges = vec![[0.0; 3]; edges.len()];
        }
        self.trials += 1;
        for (acc, row) in self.entry.iter_mut().zip(entry) {
            for k in 0..4 {
                acc[k] += f64::from(row[k]);
            }
        }
        for (acc, row) in self.services.iter_mut().zip(services) {
            for k in 0..3 {
                acc[k] += f64::from(row[k]);
            }
        }
        for (acc, row) in self.edges.iter_mut().zip(edges) {
            for k in 0..3 {
                acc[k] += f64::from(row[k]);
            }
        }
    }
}
