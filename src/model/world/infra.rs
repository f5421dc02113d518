//! The operations keys compiled against the flat world: which zone each
//! replica sits in, which crew pool repairs it, the common-cause groups as
//! replica lists, and the spare pools. The availability component reads it
//! (its state lives there, in `availability::crews`, so that a copied trial
//! copies it).
//!
//! Invariants: `replica_zone` and `replica_pool` have one entry per
//! replica; every pool index is below `pools.len()`; a common-cause
//! group's replicas belong to services that fail (validation).

use crate::distribution::Dist;
use crate::scenario::Scenario;
use crate::scenario::infra::RepairOrder;

use super::{GroupSpec, ReplicaSpec};

/// A zone's outage process and the replicas it holds down.
#[derive(Debug, Clone)]
pub struct ZoneSpec {
    /// Owning region.
    pub region: usize,
    /// Time to outage and outage length; `None` never fails.
    pub process: Option<(Dist, Dist)>,
    /// Replicas placed in it.
    pub replicas: Vec<usize>,
}

/// A common-cause group, resolved to replicas.
#[derive(Debug, Clone)]
pub struct CommonSpec {
    /// Time between shocks.
    pub every: Dist,
    /// Replicas it may fail.
    pub replicas: Vec<usize>,
    /// Chance one shock fails one replica that is up.
    pub probability: f64,
    /// Its first target service (to blame it in a runaway message).
    pub service: usize,
}

/// The compiled operations keys.
#[derive(Debug, Clone, Default)]
pub struct OpsSpec {
    /// Zones, in scenario order.
    pub zones: Vec<ZoneSpec>,
    /// Per replica: its zone.
    pub replica_zone: Vec<Option<u32>>,
    /// Per replica: the crew pool that repairs it (`None`: unlimited).
    pub replica_pool: Vec<Option<u32>>,
    /// Crews per pool.
    pub pools: Vec<u32>,
    /// Repairs wait by priority rather than first come.
    pub by_priority: bool,
    /// Per service: repair priority (higher first).
    pub priority: Vec<u32>,
    /// Common-cause groups.
    pub common: Vec<CommonSpec>,
    /// Per service: spares at time 0 and the reorder lead time.
    pub spares: Vec<Option<(u32, Dist)>>,
    /// Some repair can wait (crews or spares): the repair path asks here.
    pub waits: bool,
}

impl OpsSpec {
    /// Compiles `sc`'s operations keys for the placed `replicas`.
    pub fn compile(sc: &Scenario, replicas: &[ReplicaSpec], groups: &[GroupSpec]) -> Self {
        let ops = &sc.infra;
        if !ops.is_used() {
            return Self::default();
        }
        let mut zones: Vec<ZoneSpec> = ops
            .zones
            .iter()
            .map(|z| ZoneSpec {
                region: z.region,
                process: z.failure.clone().zip(z.repair.clone()),
                replicas: Vec::new(),
            })
            .collect();
        // Pools: one per region with crews of its own, then the global one.
        let mut region_pool = vec![None; sc.regions.len()];
        let mut pools = Vec::new();
        for (r, crews) in ops.crews.regions.iter().enumerate() {
            if let Some(n) = crews {
                region_pool[r] = Some(pools.len() as u32);
                pools.push(*n);
            }
        }
        let global = ops.crews.global.map(|n| {
            pools.push(n);
            (pools.len() - 1) as u32
        });
        let mut replica_zone = Vec::with_capacity(replicas.len());
        let mut replica_pool = Vec::with_capacity(replicas.len());
        for (i, spec) in replicas.iter().enumerate() {
            let group = &groups[spec.group];
            let zone = group
                .region
                .and_then(|r| ops.zone_of(spec.service, r, i - group.replicas.start));
            if let Some(z) = zone {
                zones[z].replicas.push(i);
            }
            replica_zone.push(zone.map(|z| z as u32));
            replica_pool.push(group.region.and_then(|r| region_pool[r]).or(global));
        }
        let common = ops
            .common_causes
            .iter()
            .map(|g| CommonSpec {
                every: g.every.clone(),
                replicas: (0..replicas.len())
                    .filter(|&r| g.services.contains(&replicas[r].service))
                    .collect(),
                probability: g.probability,
                service: g.services.first().copied().unwrap_or(0),
            })
            .collect();
        Self {
            zones,
            replica_zone,
            replica_pool,
            pools,
            by_priority: ops.crews.order == RepairOrder::Priority,
            priority: ops.priority.clone(),
            common,
            spares: ops
                .spares
                .iter()
                .map(|s| s.as_ref().map(|s| (s.count, s.lead_time.clone())))
                .collect(),
            waits: ops.waits(),
        }
    }

    /// Whether any operations key is used.
    pub fn is_used(&self) -> bool {
        !self.zones.is_empty() || !self.common.is_empty() || self.waits
    }

    /// Why rare-event splitting cannot run a world with these keys: its
    /// importance function counts the failures each component is from an
    /// outage, and a shock, a zone, a queue for a crew or an empty spare
    /// pool moves that distance in ways it does not see (and its clock
    /// redraw knows nothing of them).
    pub fn splitting_unsupported(&self) -> Option<String> {
        if !self.zones.is_empty() {
            return Some("it does not model zone outages, and this scenario has zones".into());
        }
        if !self.common.is_empty() {
            return Some(
                "its importance function counts independent failures, and this scenario has common-cause \
                 groups that fail replicas together"
                    .into(),
            );
        }
        if self.waits {
            return Some(
                "it redraws each repair clock on its own, and this scenario's repairs wait for crews or spares".into(),
            );
        }
        None
    }
}
