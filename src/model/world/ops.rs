//! Planned operations compiled against the flat world: each `[[deploy]]`
//! as the replicas it rolls and their batches, each `[[maintenance]]` as
//! the replicas and regions it holds. The per-trial state and the events'
//! handlers are [`crate::model::trial::ops`]'s.
//!
//! Invariants: every replica index is below the world's replica count; a
//! deploy's batches cover its replicas in roll order, the canary's first.

use std::ops::Range;

use super::{FaultSpec, GroupSpec, ReplicaSpec};
use crate::distribution::Dist;
use crate::engine::Nanos;
use crate::scenario::{Batch, DeploySchedule, FaultKind, FaultSchedule, ReleaseEffect, Scenario};

/// A deploy, compiled.
#[derive(Debug, Clone)]
pub struct DeploySpec {
    /// The service rolled.
    pub service: usize,
    /// Its replicas, in roll order.
    pub replicas: Vec<usize>,
    /// Batches as ranges of `replicas`, the canary's first.
    pub batches: Vec<Range<usize>>,
    /// When.
    pub schedule: DeploySchedule,
    /// The canary's bake time (the first batch is the canary).
    pub bake: Option<Nanos>,
    /// Wait between batches.
    pub pause: Nanos,
    /// A replica's time out of service while it restarts.
    pub restart: Dist,
    /// Chance a release is bad.
    pub bad: f64,
    /// What a bad release does.
    pub effect: ReleaseEffect,
    /// Alerting delay from the first replica on a bad release.
    pub detect: Option<Nanos>,
}

/// A maintenance window, compiled.
#[derive(Debug, Clone)]
pub struct WindowSpec {
    /// Replicas it holds down.
    pub replicas: Vec<usize>,
    /// A region it holds down.
    pub region: Option<usize>,
    /// First opening.
    pub at: Nanos,
    /// Period.
    pub every: Nanos,
    /// Length.
    pub duration: Nanos,
}

/// The operations of a world.
#[derive(Debug, Clone, Default)]
pub struct OpsWorld {
    /// Deploys, in scenario order.
    pub deploys: Vec<DeploySpec>,
    /// Maintenance windows, in scenario order.
    pub windows: Vec<WindowSpec>,
    /// Per replica: the deploy that rolls its service (empty without
    /// deploys).
    pub deploy_of: Vec<Option<u32>>,
}

impl OpsWorld {
    /// Compiles the scenario's deploys and windows.
    pub(super) fn compile(sc: &Scenario, groups: &[GroupSpec], replicas: &[ReplicaSpec]) -> Self {
        let mut deploy_of = if sc.deploys.is_empty() {
            Vec::new()
        } else {
            vec![None; replicas.len()]
        };
        let deploys = sc
            .deploys
            .iter()
            .enumerate()
            .map(|(d, dep)| {
                let rs: Vec<usize> = (0..replicas.len())
                    .filter(|&r| replicas[r].service == dep.service)
                    .collect();
                for &r in &rs {
                    deploy_of[r] = Some(d as u32);
                }
                let n = rs.len();
                let size = match dep.batch {
                    Batch::Count(b) => b as usize,
                    Batch::Share(s) => ((s * n as f64).ceil() as usize).clamp(1, n),
                };
                let mut batches = Vec::new();
                let mut from = 0;
                if let Some((share, _)) = dep.canary {
                    let c = ((share * n as f64).ceil() as usize).clamp(1, n);
                    batches.push(0..c);
                    from = c;
                }
                while from < n {
                    let to = (from + size).min(n);
                    batches.push(from..to);
                    from = to;
                }
                DeploySpec {
                    service: dep.service,
                    replicas: rs,
                    batches,
                    schedule: dep.schedule.clone(),
                    bake: dep.canary.map(|(_, b)| b),
                    pause: dep.pause,
                    restart: dep.restart.clone(),
                    bad: dep.bad,
                    effect: dep.effect.clone(),
                    detect: dep.detect,
                }
            })
            .collect();
        let windows = sc
            .maintenance
            .iter()
            .map(|m| {
                let as_fault = crate::scenario::Fault {
                    name: m.name.clone(),
                    kind: FaultKind::Crash,
                    target_text: String::new(),
                    target: m.target.clone(),
                    schedule: FaultSchedule::Once(0),
                    duration: Dist::zero(),
                };
                let FaultSpec { replicas, region, .. } = super::fault(sc, &as_fault, groups, replicas, &[]);
                WindowSpec {
                    replicas,
                    region,
                    at: m.at,
                    every: m.every,
                    duration: m.duration,
                }
            })
            .collect();
        Self {
            deploys,
            windows,
            deploy_of,
        }
    }

    /// Nothing planned.
    pub fn is_empty(&self) -> bool {
        self.deploys.is_empty() && self.windows.is_empty()
    }

    /// Tags the availability component integrates the entry's loss under:
    /// open windows, then one per deploy (none without operations).
    pub fn tags(&self) -> usize {
        if self.is_empty() { 0 } else { 1 + self.deploys.len() }
    }
}
