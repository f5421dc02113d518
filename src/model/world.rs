//! The compiled, flat form of a scenario.
//!
//! A service deployed in regions becomes one replica *group* per region (a
//! service without regions has one group). Groups and replicas live in flat
//! vectors and refer to each other by index; nothing is boxed or shared.
//! Invariants (from validation): every group has at least one replica,
//! `1 <= min_healthy <= replicas`, `order` lists every service after all the
//! services it requires, and `dists` exist whenever a component can fail.

use std::ops::Range;

use crate::distribution::Dist;
use crate::engine::Nanos;
use crate::scenario::{GlobalMode, Scenario, Standby, Topology};

/// A region's failure process.
#[derive(Debug, Clone)]
pub struct RegionSpec {
    /// Time to outage and outage length; `None` never fails.
    pub process: Option<(Dist, Dist)>,
}

/// A service, flattened.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// Its groups, contiguous in [`World::groups`].
    pub groups: Range<usize>,
    /// Deployed in regions: routing between groups applies.
    pub multi_region: bool,
    /// Global routing rule.
    pub mode: GlobalMode,
    /// Time for traffic to leave a failed region.
    pub failover: Nanos,
    /// Services it needs (calls without a fallback).
    pub requires: Vec<usize>,
    /// Per-replica time to failure and repair; `None` never fails.
    pub process: Option<(Dist, Dist)>,
}

/// The replicas of one service in one region (or its only group).
#[derive(Debug, Clone)]
pub struct GroupSpec {
    /// Owning service.
    pub service: usize,
    /// Position among the service's groups (its region order).
    pub slot: usize,
    /// Region, if any.
    pub region: Option<usize>,
    /// Its replicas, contiguous in [`World::replicas`].
    pub replicas: Range<usize>,
    /// How its replicas combine.
    pub topology: Topology,
    /// Active-active: replicas needed.
    pub min_healthy: u32,
    /// Active-passive: detect + switch.
    pub failover_delay: Nanos,
    /// Active-passive: switch-over success probability.
    pub failover_success: f64,
    /// Active-passive: standbys do not age while idle.
    pub cold: bool,
}

/// One replica.
#[derive(Debug, Clone, Copy)]
pub struct ReplicaSpec {
    /// Owning group.
    pub group: usize,
    /// Owning service.
    pub service: usize,
    /// Stable stream index: (service, slot, position) packed, so that
    /// changing one service's replica count leaves the others' randomness
    /// untouched.
    pub stream: u64,
}

/// The compiled scenario.
#[derive(Debug, Clone)]
pub struct World {
    /// Trial length.
    pub horizon: Nanos,
    /// Entry service.
    pub entry: usize,
    /// Regions.
    pub regions: Vec<RegionSpec>,
    /// Services.
    pub services: Vec<ServiceSpec>,
    /// Replica groups.
    pub groups: Vec<GroupSpec>,
    /// Replicas.
    pub replicas: Vec<ReplicaSpec>,
    /// Groups placed in each region.
    pub region_groups: Vec<Vec<usize>>,
    /// Services in dependency order (required services first).
    pub order: Vec<usize>,
    /// Services the entry requires, directly or not (including itself).
    pub entry_needs: Vec<bool>,
    /// Regions those services are deployed in.
    pub entry_regions: Vec<bool>,
}

impl World {
    /// Compiles a validated scenario.
    pub fn compile(sc: &Scenario) -> Self {
        let mut services = Vec::new();
        let mut groups = Vec::new();
        let mut replicas = Vec::new();
        let mut region_groups = vec![Vec::new(); sc.regions.len()];
        for (si, s) in sc.services.iter().enumerate() {
            let placements: Vec<Option<usize>> = if s.regions.is_empty() {
                vec![None]
            } else {
                s.regions.iter().copied().map(Some).collect()
            };
            let first = groups.len();
            for (slot, region) in placements.into_iter().enumerate() {
                let g = groups.len();
                let start = replicas.len();
                for k in 0..s.replicas as usize {
                    replicas.push(ReplicaSpec {
                        group: g,
                        service: si,
                        stream: ((si as u64) << 40) | ((slot as u64) << 20) | k as u64,
                    });
                }
                if let Some(r) = region {
                    region_groups[r].push(g);
                }
                groups.push(GroupSpec {
                    service: si,
                    slot,
                    region,
                    replicas: start..replicas.len(),
                    topology: s.topology,
                    min_healthy: s.min_healthy,
                    failover_delay: s.failover.detect + s.failover.switch,
                    failover_success: s.failover.success,
                    cold: s.standby == Standby::Cold,
                });
            }
            services.push(ServiceSpec {
                groups: first..groups.len(),
                multi_region: !s.regions.is_empty(),
                mode: sc.global.mode,
                failover: sc.global.failover,
                requires: s.calls.iter().filter(|c| !c.fallback).map(|c| c.to).collect(),
                process: s.failure.clone().zip(s.repair.clone()),
            });
        }
        let order = dependency_order(&services);
        let entry_needs = closure(&services, sc.entry);
        let mut entry_regions = vec![false; sc.regions.len()];
        for g in &groups {
            if let Some(r) = g.region
                && entry_needs[g.service]
            {
                entry_regions[r] = true;
            }
        }
        World {
            horizon: sc.horizon,
            entry: sc.entry,
            regions: sc
                .regions
                .iter()
                .map(|r| RegionSpec {
                    process: r.failure.clone().zip(r.repair.clone()),
                })
                .collect(),
            services,
            groups,
            replicas,
            region_groups,
            order,
            entry_needs,
            entry_regions,
        }
    }
}

/// Post-order over `requires`: every service after what it requires.
fn dependency_order(services: &[ServiceSpec]) -> Vec<usize> {
    fn visit(s: usize, services: &[ServiceSpec], seen: &mut [bool], out: &mut Vec<usize>) {
        if seen[s] {
            return;
        }
        seen[s] = true;
        for &d in &services[s].requires {
            visit(d, services, seen, out);
        }
        out.push(s);
    }
    let mut seen = vec![false; services.len()];
    let mut out = Vec::with_capacity(services.len());
    for s in 0..services.len() {
        visit(s, services, &mut seen, &mut out);
    }
    out
}

/// Which services `root` requires, transitively, itself included.
pub fn closure(services: &[ServiceSpec], root: usize) -> Vec<bool> {
    let mut needs = vec![false; services.len()];
    let mut stack = vec![root];
    while let Some(s) = stack.pop() {
        if !needs[s] {
            needs[s] = true;
            stack.extend(services[s].requires.iter().copied());
        }
    }
    needs
}
