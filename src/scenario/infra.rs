//! Operations realism on the failure level: zones inside regions and the
//! placement rule that spreads replicas over them, common-cause groups
//! (shocks that fail several replicas together), repair crews that
//! repairs queue for, and spare pools. This module owns the validated form
//! ([`Ops`]) and its checks; [`crate::model`] compiles it into the world.
//!
//! Every key here is optional and, when absent, leaves the model exactly as
//! it was: no zone, no shock, unlimited repairers and no spare pool.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::checker::{Checker, lookup, names};
use super::raw::{RawRegion, RawScenario, RawService};
use super::{Region, Service};
use crate::distribution::Dist;

/// The operations keys of a scenario, validated.
#[derive(Debug, Clone, Default)]
pub struct Ops {
    /// Every zone, regions' zones one after another in file order.
    pub zones: Vec<Zone>,
    /// Per region: its zones in [`Ops::zones`] (empty when it has none).
    pub region_zones: Vec<Range<usize>>,
    /// Per service: how its replicas are placed over its regions' zones.
    pub spread: Vec<Spread>,
    /// Common-cause groups, in file order.
    pub common_causes: Vec<CommonCause>,
    /// Repair crews.
    pub crews: Crews,
    /// Per service: its spare pool, if any.
    pub spares: Vec<Option<Spares>>,
    /// Per service: its repair priority (higher is repaired first when
    /// `[repair] order = "priority"`).
    pub priority: Vec<u32>,
}

/// A zone: a failure domain inside a region, with its own outages.
#[derive(Debug, Clone)]
pub struct Zone {
    /// Unique name.
    pub name: String,
    /// Owning region.
    pub region: usize,
    /// Time to a zone outage; `None` never fails.
    pub failure: Option<Dist>,
    /// Outage length; present whenever `failure` is.
    pub repair: Option<Dist>,
}

/// How a service's replicas are placed over a region's zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// All in the region's first zone (the rule is not asked for).
    Packed,
    /// Round-robin over the region's zones (`spread = "zone"`).
    Zone,
}

/// A common-cause group: a shock process; each occurrence fails each
/// replica of the target services that is up with `probability` (the
/// binomial failure-rate form; `probability = 1` is the beta-factor model).
#[derive(Debug, Clone)]
pub struct CommonCause {
    /// Unique name.
    pub name: String,
    /// Time between shocks.
    pub every: Dist,
    /// Services whose replicas it hits.
    pub services: Vec<usize>,
    /// Chance that one shock fails one replica that is up.
    pub probability: f64,
}

/// Repairers: how many, where, and in what order repairs wait for them.
#[derive(Debug, Clone, Default)]
pub struct Crews {
    /// `[repair] crews`: the crews of every replica whose region has none
    /// of its own; `None` = as many as there are failures.
    pub global: Option<u32>,
    /// Per region: `crews`, its own crews.
    pub regions: Vec<Option<u32>>,
    /// The queue order.
    pub order: RepairOrder,
}

/// The order in which waiting repairs get a free crew.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RepairOrder {
    /// First failed, first repaired.
    #[default]
    Fifo,
    /// Higher `repair_priority` first, first failed first among equals.
    Priority,
}

/// A service's spare pool: a failed replica is replaced from it; each
/// spare used is reordered at once and arrives after `lead_time`; a failure
/// that finds the pool empty waits for the next arrival.
#[derive(Debug, Clone)]
pub struct Spares {
    /// Spares on hand at time 0.
    pub count: u32,
    /// Time for a reordered spare to arrive.
    pub lead_time: Dist,
}

impl Ops {
    /// Whether any operations key is used (else the model runs as before).
    pub fn is_used(&self) -> bool {
        !self.zones.is_empty() || !self.common_causes.is_empty() || self.waits()
    }

    /// Whether repairs can wait: crews are limited or spares are pooled.
    pub fn waits(&self) -> bool {
        self.crews.global.is_some()
            || self.crews.regions.iter().any(Option::is_some)
            || self.spares.iter().any(Option::is_some)
    }

    /// The zone of replica `k` (0-based, within its group) of service `s`
    /// in region `r`, as an index into [`Ops::zones`].
    pub fn zone_of(&self, s: usize, r: usize, k: usize) -> Option<usize> {
        let zones = self.region_zones.get(r)?.clone();
        if zones.is_empty() {
            return None;
        }
        match self.spread[s] {
            Spread::Packed => Some(zones.start),
            Spread::Zone => Some(zones.start + k % zones.len()),
        }
    }
}

/// Validates the operations keys (after regions and services).
pub(super) fn ops(
    c: &mut Checker<'_>,
    raw: &RawScenario,
    regions: &[Region],
    services: &[Service],
    service_index: &BTreeMap<String, usize>,
) -> Ops {
    let mut ops = Ops::default();
    let all_zones = raw
        .region
        .iter()
        .flat_map(|r| r.get_ref().zone.iter().map(|z| &z.get_ref().name));
    names(c, all_zones, "zone");
    for (ri, r) in raw.region.iter().enumerate() {
        let r = r.get_ref();
        let start = ops.zones.len();
        zones(c, r, ri, &mut ops.zones);
        ops.region_zones.push(start..ops.zones.len());
        ops.crews.regions.push(
            r.crews
                .as_ref()
                .and_then(|n| c.count(n, &format!("region.{}.crews", r.name.get_ref()), 1, 100_000)),
        );
    }
    for (raw_s, s) in raw.service.iter().map(Spanned::get_ref).zip(services) {
        let p = format!("service.{}", s.name);
        ops.spread.push(spread(c, raw_s, s, &p, regions, &ops.region_zones));
        ops.spares.push(spares(c, raw_s, s, &p));
        ops.priority.push(
            raw_s
                .repair_priority
                .as_ref()
                .and_then(|n| c.count(n, &format!("{p}.repair_priority"), 0, 1000))
                .unwrap_or(0),
        );
    }
    if let Some(rep) = &raw.repair {
        let rep = rep.get_ref();
        ops.crews.global = rep.crews.as_ref().and_then(|n| c.count(n, "repair.crews", 1, 100_000));
        if let Some(o) = &rep.order {
            ops.crews.order = c
                .word(
                    o,
                    "repair.order",
                    &[("fifo", RepairOrder::Fifo), ("priority", RepairOrder::Priority)],
                )
                .unwrap_or_default();
        }
    }
    if ops.crews.order != RepairOrder::Priority
        && let Some(s) = raw
            .service
            .iter()
            .find_map(|s| s.get_ref().repair_priority.as_ref().map(|p| (s, p)))
    {
        c.err_help(
            &s.1.span(),
            format!("service.{}.repair_priority", s.0.get_ref().name.get_ref()),
            "orders repairs only when they queue by priority",
            "add [repair] order = \"priority\" (and crews to queue for), or remove repair_priority".into(),
        );
    }
    names(c, raw.common_cause.iter().map(|g| &g.get_ref().name), "common_cause");
    for g in &raw.common_cause {
        if let Some(cc) = common_cause(c, g.get_ref(), services, service_index) {
            ops.common_causes.push(cc);
        }
    }
    ops
}

fn zones(c: &mut Checker<'_>, r: &RawRegion, ri: usize, out: &mut Vec<Zone>) {
    for z in &r.zone {
        let z = z.get_ref();
        let prefix = format!("region.{}.zone.{}", r.name.get_ref(), z.name.get_ref());
        let (failure, repair) = c.failure_repair(&z.failure, &z.repair, &prefix, &z.name.span());
        out.push(Zone {
            name: z.name.get_ref().clone(),
            region: ri,
            failure,
            repair,
        });
    }
}

fn spread(
    c: &mut Checker<'_>,
    raw: &RawService,
    s: &Service,
    p: &str,
    regions: &[Region],
    region_zones: &[Range<usize>],
) -> Spread {
    let zoned = |r: &usize| region_zones.get(*r).is_some_and(|z| !z.is_empty());
    let Some(word) = &raw.spread else {
        let many = s
            .regions
            .iter()
            .find(|r| region_zones.get(**r).is_some_and(|z| z.len() > 1));
        if s.replicas > 1
            && let Some(&r) = many
        {
            c.warn(
                &raw.name.span(),
                format!("{p}.spread"),
                format!(
                    "its {} replicas in region \"{}\" all sit in its first zone: one zone outage takes them all",
                    s.replicas, regions[r].name
                ),
                "add spread = \"zone\" to place them round-robin over the region's zones".into(),
            );
        }
        return Spread::Packed;
    };
    let Some(spread) = c.word(
        word,
        &format!("{p}.spread"),
        &[("zone", Spread::Zone), ("none", Spread::Packed)],
    ) else {
        return Spread::Packed;
    };
    if spread == Spread::Zone {
        if s.regions.is_empty() {
            c.err_help(
                &word.span(),
                format!("{p}.spread"),
                "spreads replicas over zones, but the service is in no region",
                "add regions = [\"...\"] naming regions with [[region.zone]] tables, or remove spread".into(),
            );
        } else if let Some(r) = s.regions.iter().find(|r| !zoned(r)) {
            c.err_help(
                &word.span(),
                format!("{p}.spread"),
                format!("region \"{}\" has no zones to spread over", regions[*r].name),
                format!(
                    "add [[region.zone]] tables (name = \"{}-a\", ...) to region \"{}\"",
                    regions[*r].name, regions[*r].name
                ),
            );
        }
    }
    spread
}

fn spares(c: &mut Checker<'_>, raw: &RawService, s: &Service, p: &str) -> Option<Spares> {
    let sp = raw.spares.as_ref()?;
    let key = format!("{p}.spares");
    if s.failure.is_none() {
        c.err_help(
            &sp.span(),
            key.clone(),
            "the service never fails, so its spares would never be used",
            "add failure = { mean = \"...\" } and repair = { mean = \"...\" }, or remove spares".into(),
        );
    }
    let sp = sp.get_ref();
    let count = c.count(&sp.count, &format!("{key}.count"), 0, 1_000_000);
    let lead_time = super::fault::length(c, &sp.lead_time, &format!("{key}.lead_time"));
    Some(Spares {
        count: count?,
        lead_time: lead_time?,
    })
}

fn common_cause(
    c: &mut Checker<'_>,
    g: &super::raw::RawCommonCause,
    services: &[Service],
    service_index: &BTreeMap<String, usize>,
) -> Option<CommonCause> {
    let p = format!("common_cause.{}", g.name.get_ref());
    let every = c.dist(&g.every, &format!("{p}.every"));
    let probability = match &g.probability {
        None => Some(1.0),
        Some(v) => match c.probability(v, &format!("{p}.probability")) {
            Some(0.0) => {
                c.err_help(
                    &v.span(),
                    format!("{p}.probability"),
                    "a shock that fails nothing",
                    "give the chance that one shock fails one replica, above 0 (1 fails them all)".into(),
                );
                None
            }
            x => x,
        },
    };
    if g.targets.get_ref().is_empty() {
        c.err_help(
            &g.targets.span(),
            format!("{p}.targets"),
            "is empty",
            "name the services whose replicas it fails, like targets = [\"api\", \"db\"]".into(),
        );
    }
    let mut targets = Vec::new();
    for t in g.targets.get_ref() {
        let Some(s) = lookup(c, t, service_index, &format!("{p}.targets"), "service") else {
            continue;
        };
        if targets.contains(&s) {
            c.err(
                &t.span(),
                format!("{p}.targets"),
                format!("service \"{}\" is listed twice", t.get_ref()),
            );
        } else if services[s].failure.is_none() {
            c.err_help(
                &t.span(),
                format!("{p}.targets"),
                format!(
                    "service \"{}\" has no repair process for the replicas this shock fails",
                    t.get_ref()
                ),
                format!(
                    "give service \"{}\" failure and repair distributions (its replicas are repaired as after \
                     their own failures)",
                    t.get_ref()
                ),
            );
        } else {
            targets.push(s);
        }
    }
    Some(CommonCause {
        name: g.name.get_ref().clone(),
        every: every?,
        services: targets,
        probability: probability?,
    })
}
