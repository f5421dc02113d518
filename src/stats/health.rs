//! The summary fields of probes, restarts and the interval outlier
//! detectors: present on a service only when its scenario configures
//! them, so a scenario without them keeps its summary byte for byte.

use serde::{Deserialize, Serialize};

/// Probes sent as requests, over all trials.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProbeCounts {
    /// Readiness and liveness probes sent.
    pub sent: u64,
    /// Of those, probes that failed (refused, timed out, a deep call failed).
    pub failed: u64,
}

/// Ejections by the detector that made them, over all trials.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct EjectionsByDetector {
    /// Failed attempts in a row.
    pub consecutive: u64,
    /// Success rate below the group's mean by `stdev_factor` deviations.
    pub success_rate: u64,
    /// Failed share at or above `threshold`.
    pub failure_percentage: u64,
}
