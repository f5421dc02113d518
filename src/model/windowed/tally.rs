//! What windowed sampling did in one trial (or, summed over trials, in a
//! run): windows, configurations, requests simulated and estimated, and
//! the weight each shared stationary sample carries in the trial's
//! figures. These are per-trial results ([`crate::model::result`] holds
//! them), so this module names nothing else of the model.

use std::collections::BTreeMap;

/// What windowed sampling did in one trial (or, summed, in a run).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Windowed {
    /// Transient windows simulated.
    pub windows: u64,
    /// Of them, windows that never settled (run to the horizon).
    pub metastable: u64,
    /// Configurations (up to a permutation of identical replicas) whose
    /// stationary samples the trial used.
    pub configurations: u64,
    /// Entry requests simulated in windows (warm-ups included); the shared
    /// samples' requests are in [`Windowed::samples`].
    pub simulated_requests: u64,
    /// Entry requests of the estimate (simulated in windows, estimated in
    /// segments).
    pub estimated_requests: f64,
    /// Horizon time covered by windows (seconds, warm-ups excluded).
    pub window_s: f64,
    /// Per shared stationary sample (by [`key_hash`](super::key_hash) of its
    /// configuration): the weight it carries in the request shares, and
    /// its own error.
    pub samples: BTreeMap<u64, SampleUse>,
    /// With a diurnal swing, summed over trials: the bound on the bias of
    /// the trial's request shares that interpolating between rate levels
    /// leaves ([`crate::model::windowed::diurnal`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpolation_bias: Option<f64>,
}

/// One shared stationary sample as the trials used it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SampleUse {
    /// Summed over trials: the share of the trial's requests the sample's
    /// shares stand for (segment seconds times the rate over the trial's
    /// requests), i.e. the derivative of the trial's request shares in the
    /// sample's.
    pub weight: f64,
    /// Variance of the sample's success, degraded and failed shares.
    pub var: [f64; 3],
    /// Entry requests the sample simulated (warm-up included).
    pub requests: u64,
    /// Per workflow (none without workflows): the weight the sample
    /// carries in the trial's completed, compensated and stuck ratios
    /// (summed over trials), and the variance of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workflows: Vec<ShareUse>,
}

/// One shared stationary sample in one workflow's ratios.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShareUse {
    /// Summed over trials: the derivative of the trial's completed,
    /// compensated and stuck ratios in the sample's (its segments'
    /// seconds times the workflow's start rate over the trial's ended
    /// sagas).
    pub weight: f64,
    /// Variance of the sample's completed, compensated and stuck ratios.
    pub var: [f64; 3],
}
