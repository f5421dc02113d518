//! Closed-form availability, where one exists.
//!
//! By renewal theory a component that alternates up and down has long-run
//! availability `MTTF / (MTTF + MTTR)` for any failure and repair
//! distributions. Components fail independently, except that a region's
//! outage takes down every group in it; conditioning on the region states
//! (at most 2^16 combinations) makes everything else independent:
//!
//! - single: `a`; active-active k-of-n: `P(Binomial(n, a) >= k)`;
//!   active-passive with hot standbys, zero detect/switch and certain
//!   success: `1 - (1 - a)^n` (up while any replica is up);
//! - regions with zero global failover: up while any of its groups serves;
//! - series: a service needs everything it requires, so the entry is up when
//!   every service in its closure is up: a product given the region states.
//!   Dependencies compose per region (a caller's traffic uses the
//!   dependency's group in its own region while that group is routed), but
//!   with zero failover a group is routed exactly while it serves, so traffic
//!   that finds its local group down moves at once to any serving group; by
//!   induction from the services that require nothing, every routed group's
//!   path serves all it gets exactly while each service in its closure has a
//!   serving group, and the entry's served share is that indicator. A
//!   regional stack with zero failover is therefore exact here, whatever
//!   regions its tiers share.
//!
//! Where a delay, an imperfect switch-over or a cold standby makes the
//! answer depend on more than these (a Markov or semi-Markov model),
//! [`availability`] says why it has no closed form instead of guessing.

use super::world::{World, closure};

mod infra;
use crate::scenario::{Scenario, Standby, Topology};
pub use infra::k_of_n;

/// Long-run availability of a service (with all it requires).
///
/// # Errors
/// A sentence saying why no closed form applies.
pub fn availability(sc: &Scenario, world: &World, service: usize) -> Result<f64, String> {
    let needs = closure(&world.services, service);
    // Only a fault on something this service needs spoils its closed form.
    if let Some(f) = sc.faults.iter().find(|f| {
        matches!(
            f.kind,
            crate::scenario::FaultKind::Crash | crate::scenario::FaultKind::Hang
        ) && crate::scenario::fault::hit_services(&f.target, &sc.services)
            .iter()
            .any(|&s| needs[s])
    }) {
        return Err(format!("fault \"{}\" takes components down on a schedule", f.name));
    }
    for (s, svc) in sc.services.iter().enumerate().filter(|(s, _)| needs[*s]) {
        let fails = svc.failure.is_some();
        if svc.topology == Topology::ActivePassive && fails && svc.replicas > 1 {
            if svc.failover.detect + svc.failover.switch > 0 {
                return Err(format!("service \"{}\" has a failover delay", svc.name));
            }
            if svc.failover.success < 1.0 {
                return Err(format!("service \"{}\" has a switch-over that can fail", svc.name));
            }
            if svc.standby == Standby::Cold {
                return Err(format!("service \"{}\" has cold standbys", svc.name));
            }
        }
        if svc.regions.len() > 1 && sc.global.failover > 0 {
            return Err(format!(
                "service \"{}\" spans regions with a global failover delay",
                sc.services[s].name
            ));
        }
    }
    if sc.infra.is_used()
        && let Some(form) = infra::closed_form(sc, &needs)
    {
        return form;
    }
    let regions: Vec<usize> = (0..sc.regions.len())
        .filter(|&r| world.region_groups[r].iter().any(|&g| needs[world.groups[g].service]))
        .collect();
    if regions.len() > 16 {
        return Err("more than 16 regions are involved".into());
    }
    // Zones condition like regions: given every region's and zone's state,
    // replicas fail independently.
    let zones: Vec<usize> = (0..sc.infra.zones.len())
        .filter(|&z| regions.contains(&sc.infra.zones[z].region))
        .collect();
    if regions.len() + zones.len() > 16 {
        return Err("more than 16 regions and zones are involved".into());
    }
    let region_a: Vec<f64> = regions
        .iter()
        .map(|&r| renewal(sc.regions[r].failure.as_ref(), sc.regions[r].repair.as_ref()))
        .chain(zones.iter().map(|&z| {
            let zone = &sc.infra.zones[z];
            renewal(zone.failure.as_ref(), zone.repair.as_ref())
        }))
        .collect();
    let mut total = 0.0;
    let mut zone_up = vec![true; sc.infra.zones.len()];
    for mask in 0u32..(1 << (regions.len() + zones.len())) {
        let mut p = 1.0;
        let mut up = vec![true; sc.regions.len()];
        for (bit, &r) in regions.iter().enumerate() {
            if mask & (1 << bit) != 0 {
                p *= region_a[bit];
            } else {
                p *= 1.0 - region_a[bit];
                up[r] = false;
            }
        }
        for (i, &z) in zones.iter().enumerate() {
            let bit = regions.len() + i;
            zone_up[z] = mask & (1 << bit) != 0;
            p *= if zone_up[z] { region_a[bit] } else { 1.0 - region_a[bit] };
        }
        if p == 0.0 {
            continue;
        }
        let given: f64 = (0..sc.services.len())
            .filter(|&s| needs[s])
            .map(|s| {
                if zones.is_empty() {
                    service_up(sc, s, &up)
                } else {
                    zoned_service_up(sc, s, &up, &zone_up)
                }
            })
            .product();
        total += p * given;
    }
    Ok(total)
}

/// P(service `s` serves by its own rule | region states `up`).
fn service_up(sc: &Scenario, s: usize, region_up: &[bool]) -> f64 {
    let svc = &sc.services[s];
    let a = renewal(svc.failure.as_ref(), svc.repair.as_ref());
    let n = svc.replicas;
    let group = match svc.topology {
        Topology::Single => a,
        Topology::ActivePassive => 1.0 - (1.0 - a).powi(n as i32),
        Topology::ActiveActive => at_least(svc.min_healthy, n, a),
    };
    if svc.regions.is_empty() {
        return group;
    }
    let serving_regions = svc.regions.iter().filter(|&&r| region_up[r]).count();
    1.0 - (1.0 - group).powi(serving_regions as i32)
}

/// P(service `s` serves by its own rule | region and zone states): a
/// group's replicas in zones that are down do not count.
fn zoned_service_up(sc: &Scenario, s: usize, region_up: &[bool], zone_up: &[bool]) -> f64 {
    let svc = &sc.services[s];
    let a = renewal(svc.failure.as_ref(), svc.repair.as_ref());
    let group = |m: u32| match svc.topology {
        Topology::Single => a * f64::from(m),
        Topology::ActivePassive => 1.0 - (1.0 - a).powi(m as i32),
        Topology::ActiveActive => at_least(svc.min_healthy, m, a),
    };
    if svc.regions.is_empty() {
        return group(svc.replicas);
    }
    let mut none = 1.0;
    for &r in svc.regions.iter().filter(|&&r| region_up[r]) {
        let m = (0..svc.replicas as usize)
            .filter(|&k| sc.infra.zone_of(s, r, k).is_none_or(|z| zone_up[z]))
            .count() as u32;
        none *= 1.0 - group(m);
    }
    1.0 - none
}

/// `MTTF / (MTTF + MTTR)`, or 1 for a component that never fails.
pub fn renewal(failure: Option<&crate::distribution::Dist>, repair: Option<&crate::distribution::Dist>) -> f64 {
    match (failure, repair) {
        (Some(f), Some(r)) => f.mean_secs() / (f.mean_secs() + r.mean_secs()),
        _ => 1.0,
    }
}

/// `P(Binomial(n, a) >= k)`.
pub fn at_least(k: u32, n: u32, a: f64) -> f64 {
    let mut total = 0.0;
    let mut binom = 1.0f64; // C(n, i), built incrementally
    for i in 0..=n {
        if i > 0 {
            binom *= f64::from(n - i + 1) / f64::from(i);
        }
        if i >= k {
            total += binom * a.powi(i as i32) * (1.0 - a).powi((n - i) as i32);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_of_n_matches_hand_computation() {
        let a = 0.9;
        assert!((at_least(1, 1, a) - 0.9).abs() < 1e-15);
        assert!((at_least(2, 3, a) - (3.0 * 0.81 * 0.1 + 0.729)).abs() < 1e-12);
        assert!((at_least(1, 3, a) - (1.0 - 0.001)).abs() < 1e-12);
        assert!((at_least(0, 3, a) - 1.0).abs() < 1e-12);
    }
}
