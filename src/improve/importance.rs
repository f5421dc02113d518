//! Importance measures of the time-based model, in closed form.
//!
//! The basic components are one replica of a service in one of its groups
//! (replicas of a group are alike, so one row stands for each) and a
//! region. Each alternates up and down with long-run availability
//! `a = MTTF / (MTTF + MTTR)`, independently of the others, and the entry's
//! availability `A` is the structure function of
//! [`crate::model::analytic`] evaluated at those availabilities (series,
//! k-of-n, hot active-passive with instant failover, regions with zero
//! failover). `A` is linear in each single component's availability, so
//! with `A(1_i)` and `A(0_i)` the entry's availability given component `i`
//! up or down:
//!
//! - Birnbaum: `I_B(i) = A(1_i) - A(0_i)`, the chance that `i` is critical
//!   (the entry is up with it and down without it);
//! - criticality: `I_CR(i) = I_B(i) (1 - a_i) / (1 - A)`, the chance that
//!   `i` is down and critical given the entry is down;
//! - diagnostic: `I_D(i) = (1 - a_i) (1 - A(0_i)) / (1 - A)`, the chance
//!   that `i` is down given the entry is down;
//! - improvement potential: `A(1_i) - A`, the availability gained if `i`
//!   never failed.
//!
//! Where [`crate::model::analytic::availability`] has no closed form (a
//! failover delay, a cold standby, a fault), neither do these, and
//! [`importance`] says why.

use serde::Serialize;

use crate::model::World;
use crate::model::analytic::{self, at_least, renewal};
use crate::model::world::closure;
use crate::scenario::{Scenario, Topology};

/// The importance of one basic component.
#[derive(Debug, Clone, Serialize)]
pub struct Importance {
    /// `replica` (one replica of a service's group) or `region`.
    pub kind: &'static str,
    /// The service or region name.
    pub component: String,
    /// The region of the replica's group (replicas only, when the service
    /// runs in regions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The component's own long-run availability.
    pub availability: f64,
    /// Birnbaum importance `A(1_i) - A(0_i)`.
    pub birnbaum: f64,
    /// Criticality importance; `None` when the entry never fails.
    pub criticality: Option<f64>,
    /// Diagnostic importance; `None` when the entry never fails.
    pub diagnostic: Option<f64>,
    /// `A(1_i) - A`.
    pub improvement_potential: f64,
}

/// A component held at a fixed availability.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Force {
    None,
    Region(usize, f64),
    /// One replica of service `s`'s group in region `r` (`None`: the
    /// service is in no region).
    Replica(usize, Option<usize>, f64),
}

/// The entry's long-run availability with `force` applied.
fn entry(sc: &Scenario, world: &World, force: Force) -> f64 {
    let needs = closure(&world.services, sc.entry);
    let regions: Vec<usize> = (0..sc.regions.len())
        .filter(|&r| world.region_groups[r].iter().any(|&g| needs[world.groups[g].service]))
        .collect();
    let region_a: Vec<f64> = regions
        .iter()
        .map(|&r| match force {
            Force::Region(fr, p) if fr == r => p,
            _ => renewal(sc.regions[r].failure.as_ref(), sc.regions[r].repair.as_ref()),
        })
        .collect();
    let mut total = 0.0;
    for mask in 0u32..(1 << regions.len()) {
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
        if p == 0.0 {
            continue;
        }
        let given: f64 = (0..sc.services.len())
            .filter(|&s| needs[s])
            .map(|s| service_up(sc, s, &up, force))
            .product();
        total += p * given;
    }
    total
}

/// P(group of `n` replicas of availability `a`, one of them held at `p`
/// when `forced`, serves by the service's rule).
fn group_up(topology: Topology, k: u32, n: u32, a: f64, forced: Option<f64>) -> f64 {
    let Some(p) = forced else {
        return match topology {
            Topology::Single => a,
            Topology::ActivePassive => 1.0 - (1.0 - a).powi(n as i32),
            Topology::ActiveActive => at_least(k, n, a),
        };
    };
    match topology {
        Topology::Single => p,
        Topology::ActivePassive => 1.0 - (1.0 - p) * (1.0 - a).powi(n as i32 - 1),
        Topology::ActiveActive => p * at_least(k.saturating_sub(1), n - 1, a) + (1.0 - p) * at_least(k, n - 1, a),
    }
}

fn service_up(sc: &Scenario, s: usize, region_up: &[bool], force: Force) -> f64 {
    let svc = &sc.services[s];
    let a = renewal(svc.failure.as_ref(), svc.repair.as_ref());
    let forced_in = |r: Option<usize>| match force {
        Force::Replica(fs, fr, p) if fs == s && fr == r => Some(p),
        _ => None,
    };
    let group = |r: Option<usize>| group_up(svc.topology, svc.min_healthy, svc.replicas, a, forced_in(r));
    if svc.regions.is_empty() {
        return group(None);
    }
    1.0 - svc
        .regions
        .iter()
        .filter(|&&r| region_up[r])
        .map(|&r| 1.0 - group(Some(r)))
        .product::<f64>()
}

/// The importance of every component that can fail and that the entry
/// needs, replicas (services in file order, groups in region order) first,
/// then regions.
///
/// # Errors
/// The reason the model has no closed form, as
/// [`analytic::availability`] gives it.
pub fn importance(sc: &Scenario) -> Result<Vec<Importance>, String> {
    let world = World::compile(sc);
    let base = analytic::availability(sc, &world, sc.entry)?;
    let needs = closure(&world.services, sc.entry);
    let mut out = Vec::new();
    let mut row = |kind, component: &str, region: Option<String>, a: f64, up: Force, down: Force| {
        let (a1, a0) = (entry(sc, &world, up), entry(sc, &world, down));
        let birnbaum = a1 - a0;
        let lost = 1.0 - base;
        out.push(Importance {
            kind,
            component: component.to_string(),
            region,
            availability: a,
            birnbaum,
            criticality: (lost > 0.0).then(|| birnbaum * (1.0 - a) / lost),
            diagnostic: (lost > 0.0).then(|| (1.0 - a) * (1.0 - a0) / lost),
            improvement_potential: a1 - base,
        });
    };
    for (s, svc) in sc.services.iter().enumerate().filter(|(s, _)| needs[*s]) {
        if svc.failure.is_none() {
            continue;
        }
        let a = renewal(svc.failure.as_ref(), svc.repair.as_ref());
        if svc.regions.is_empty() {
            row(
                "replica",
                &svc.name,
                None,
                a,
                Force::Replica(s, None, 1.0),
                Force::Replica(s, None, 0.0),
            );
        }
        for &r in &svc.regions {
            row(
                "replica",
                &svc.name,
                Some(sc.regions[r].name.clone()),
                a,
                Force::Replica(s, Some(r), 1.0),
                Force::Replica(s, Some(r), 0.0),
            );
        }
    }
    for (r, region) in sc.regions.iter().enumerate() {
        let used = sc
            .services
            .iter()
            .enumerate()
            .any(|(s, svc)| needs[s] && svc.regions.contains(&r));
        if !used || region.failure.is_none() {
            continue;
        }
        let a = renewal(region.failure.as_ref(), region.repair.as_ref());
        row(
            "region",
            &region.name,
            None,
            a,
            Force::Region(r, 1.0),
            Force::Region(r, 0.0),
        );
    }
    // Nothing forced must give back the closed form itself.
    debug_assert!((entry(sc, &world, Force::None) - base).abs() < 1e-12);
    Ok(out)
}
