//! The summary fields of autoscalers: present on a service only when its
//! scenario configures `autoscale`, so a scenario without it keeps its
//! summary byte for byte.

use serde::{Deserialize, Serialize};

use crate::model::result::ScaleCounts;

/// One service's autoscalers over the trials so far.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct ScaleAcc {
    /// Trials counted.
    pub trials: u64,
    /// Replicas added, over all trials.
    pub scale_ups: u64,
    /// Replicas removed, over all trials.
    pub scale_downs: u64,
    /// Replica-seconds, summed over trials.
    pub replica_s: f64,
    /// Most replicas at once in any trial.
    pub peak: u32,
    /// Time at `max`, summed over trials (seconds).
    pub at_max_s: f64,
}

impl ScaleAcc {
    fn add(&mut self, o: &Self) {
        self.trials += o.trials;
        self.scale_ups += o.scale_ups;
        self.scale_downs += o.scale_downs;
        self.replica_s += o.replica_s;
        self.peak = self.peak.max(o.peak);
        self.at_max_s += o.at_max_s;
    }
}

/// Adds one trial's figures (`trial` is empty without autoscaling).
pub(crate) fn push(acc: &mut Vec<ScaleAcc>, trial: &[ScaleCounts]) {
    if trial.is_empty() {
        return;
    }
    acc.resize(trial.len(), ScaleAcc::default());
    for (a, t) in acc.iter_mut().zip(trial) {
        a.add(&ScaleAcc {
            trials: 1,
            scale_ups: t.scale_ups,
            scale_downs: t.scale_downs,
            replica_s: t.replica_s,
            peak: t.peak,
            at_max_s: t.at_max_s,
        });
    }
}

/// Adds another accumulator's figures.
pub(crate) fn merge(acc: &mut Vec<ScaleAcc>, o: &[ScaleAcc]) {
    if o.is_empty() {
        return;
    }
    acc.resize(o.len(), ScaleAcc::default());
    for (a, b) in acc.iter_mut().zip(o) {
        a.add(b);
    }
}

/// `services.NAME.requests.autoscale` in `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AutoscaleSummary {
    /// Replicas added, over all trials.
    pub scale_ups: u64,
    /// Replicas removed (drained, or cancelled while provisioning), over
    /// all trials.
    pub scale_downs: u64,
    /// Replicas that existed (provisioning, serving or draining),
    /// time-averaged over the horizon, mean over trials.
    pub replicas_mean: f64,
    /// Most replicas at once in any trial.
    pub replicas_max: u32,
    /// Replica-seconds per trial (mean): what the replicas cost.
    pub replica_seconds: f64,
    /// Time per trial (mean) its autoscaler wanted `max` replicas, summed
    /// over its groups (a service in two regions at max in both for a
    /// minute counts two).
    pub time_at_max_s: f64,
}

impl ScaleAcc {
    /// The summary of these trials over a horizon of `horizon_s` seconds,
    /// `None` before any trial.
    pub fn summary(&self, horizon_s: f64) -> Option<AutoscaleSummary> {
        if self.trials == 0 {
            return None;
        }
        let n = self.trials as f64;
        Some(AutoscaleSummary {
            scale_ups: self.scale_ups,
            scale_downs: self.scale_downs,
            replicas_mean: self.replica_s / n / horizon_s,
            replicas_max: self.peak,
            replica_seconds: self.replica_s / n,
            time_at_max_s: self.at_max_s / n,
        })
    }
}
