//! The operations part of what `nines check` prints: zones and where each
//! service's replicas sit in them, with what a packed placement costs
//! against `spread = "zone"` where a closed form exists; the common-cause
//! groups; the repair crews; the spare pools.

use std::fmt::Write as _;

use crate::distribution::Dist;
use crate::engine::time::from_secs;
use crate::model::{World, analytic};
use crate::scenario::Scenario;
use crate::scenario::duration::Duration;
use crate::scenario::infra::{RepairOrder, Spread};

fn mean(d: Option<&Dist>) -> String {
    d.map_or("never".into(), |d| {
        format!("mean {}", Duration(from_secs(d.mean_secs())))
    })
}

fn nines(a: f64) -> String {
    if a >= 1.0 {
        format!("{a:.9} (never down)")
    } else {
        format!("{a:.9} ({:.3} nines)", -(1.0 - a).log10())
    }
}

/// Appends the operations section (nothing when no operations key is used).
pub fn describe(t: &mut String, sc: &Scenario, world: &World) {
    let ops = &sc.infra;
    if !ops.is_used() {
        return;
    }
    if !ops.zones.is_empty() {
        let _ = writeln!(t, "zones:");
        for (z, zone) in ops.zones.iter().enumerate() {
            let mut count = vec![0u32; sc.services.len()];
            for (r, spec) in world.replicas.iter().enumerate() {
                if world.infra.replica_zone[r] == Some(z as u32) {
                    count[spec.service] += 1;
                }
            }
            let on: Vec<String> = count
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(s, n)| format!("{} x{n}", sc.services[s].name))
                .collect();
            let _ = writeln!(
                t,
                "  {}: {} replica(s){} in region {}, outages every {}, lasting {}",
                zone.name,
                count.iter().sum::<u32>(),
                if on.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", on.join(", "))
                },
                sc.regions[zone.region].name,
                mean(zone.failure.as_ref()),
                mean(zone.repair.as_ref()),
            );
        }
        placement(t, sc, world);
    }
    if !ops.common_causes.is_empty() {
        let _ = writeln!(t, "common causes:");
        for c in &ops.common_causes {
            let names: Vec<&str> = c.services.iter().map(|&s| sc.services[s].name.as_str()).collect();
            let _ = writeln!(
                t,
                "  {:<16} every {}, fails each up replica of {} with probability {}",
                c.name,
                mean(Some(&c.every)),
                names.join(", "),
                c.probability
            );
        }
    }
    if ops.waits() {
        let _ = writeln!(t, "repair:");
        let order = match ops.crews.order {
            RepairOrder::Fifo => "first come, first repaired",
            RepairOrder::Priority => "by repair_priority, then first come",
        };
        let mut pools = Vec::new();
        for (r, n) in ops.crews.regions.iter().enumerate() {
            if let Some(n) = n {
                pools.push(format!("{n} in region {}", sc.regions[r].name));
            }
        }
        if let Some(n) = ops.crews.global {
            pools.push(format!("{n} for the rest"));
        }
        if pools.is_empty() {
            let _ = writeln!(t, "  crews: one per failure");
        } else {
            let _ = writeln!(t, "  crews: {} ({order})", pools.join(", "));
        }
        for (s, sp) in ops.spares.iter().enumerate() {
            if let Some(sp) = sp {
                let _ = writeln!(
                    t,
                    "  spares of {}: {} on hand, each used one reordered (lead time {})",
                    sc.services[s].name,
                    sp.count,
                    mean(Some(&sp.lead_time))
                );
            }
        }
    }
}

/// Each service with a packed placement in a region of several zones:
/// its closed form as placed and with `spread = "zone"`.
fn placement(t: &mut String, sc: &Scenario, world: &World) {
    for (s, svc) in sc.services.iter().enumerate() {
        let packed = sc.infra.spread[s] == Spread::Packed
            && svc.replicas > 1
            && svc.regions.iter().any(|&r| sc.infra.region_zones[r].len() > 1);
        if !packed {
            continue;
        }
        let mut spread = sc.clone();
        spread.infra.spread[s] = Spread::Zone;
        let as_placed = analytic::availability(sc, world, s);
        let would = analytic::availability(&spread, &World::compile(&spread), s);
        let line = match (as_placed, would) {
            (Ok(a), Ok(b)) => format!(
                "closed form {} as placed; spread = \"zone\" would give {}",
                nines(a),
                nines(b)
            ),
            (Err(why), _) | (_, Err(why)) => format!("no closed form to price it: {why}"),
        };
        let _ = writeln!(
            t,
            "  {} packs its {} replicas into one zone per region: {line}",
            svc.name, svc.replicas
        );
    }
}
