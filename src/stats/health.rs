//! The summary fields of probes, restarts and the interval outlier
//! detectors: present on a service only when its scenario configures
//! them, so a scenario without them keeps its summary byte for byte.

use serde::{Deserialize, Serialize};

use super::summary::{Accumulator, Summary};
use crate::scenario::Scenario;

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

/// Fills the probe, restart and detector fields of each configured
/// service.
pub fn annotate(summary: &mut Summary, scenario: &Scenario, acc: &Accumulator) {
    let Some(defence) = acc.defence() else { return };
    for (i, s) in scenario.services.iter().enumerate() {
        let Some(req) = summary.services.get_mut(&s.name).and_then(|x| x.requests.as_mut()) else {
            continue;
        };
        let d = &defence[i];
        let p = &s.defence.probes;
        if p.readiness.is_some() || p.liveness.is_some() {
            req.probes = Some(ProbeCounts {
                sent: d.probes,
                failed: d.probes_failed,
            });
        }
        if p.liveness.is_some() {
            req.restarts = Some(d.restarts);
        }
        if s.defence.outlier.is_some_and(|o| o.detectors.any()) {
            req.ejections_by_detector = Some(EjectionsByDetector {
                consecutive: d.ejections - d.ejected_success_rate - d.ejected_failure_percentage,
                success_rate: d.ejected_success_rate,
                failure_percentage: d.ejected_failure_percentage,
            });
        }
    }
}
