//! The configuration changes one trial of a windowed run is expected to
//! meet: what the static `[limits]` check counts windows from
//! ([`crate::model::windowed::requests_per_trial`]) when windowed request
//! sampling will run.
//!
//! Every change of the configuration the request component reads may open
//! a transient window: a region's or a replica's failure and repair, a
//! zone's outage and return, a common-cause shock and the repairs of the
//! replicas it fails, each batch of a deploy going out and coming back (a
//! rollback again), and each maintenance window's opening and closing.
//! Bursts' starts and ends are counted by `requests_per_trial` itself.
//! The count is an expectation over the horizon, deliberately generous (a
//! shock that hits nothing, or changes close enough to share a window,
//! count in full), so the check errs towards letting a run start; each
//! window and sample still has its own runtime budget.

use super::{copies, cycles};
use crate::engine::Nanos;
use crate::engine::time::to_secs;
use crate::scenario::{Batch, DeploySchedule, Scenario};

/// Expected configuration changes of one trial of `sc` (see the module
/// doc).
pub fn changes(sc: &Scenario) -> f64 {
    let h = sc.horizon;
    let regions: f64 = sc
        .regions
        .iter()
        .map(|r| cycles(h, r.failure.as_ref(), r.repair.as_ref()))
        .sum();
    let services: f64 = sc
        .services
        .iter()
        .map(|s| cycles(h, s.failure.as_ref(), s.repair.as_ref()) * copies(s) as f64)
        .sum();
    let zones: f64 = sc
        .infra
        .zones
        .iter()
        .map(|z| cycles(h, z.failure.as_ref(), z.repair.as_ref()))
        .sum();
    let shocks: f64 = sc
        .infra
        .common_causes
        .iter()
        .map(|c| {
            let hit: f64 = c
                .services
                .iter()
                .map(|&s| copies(&sc.services[s]) as f64 * c.probability)
                .sum();
            to_secs(h) / c.every.mean_secs().max(1e-9) * (1.0 + hit)
        })
        .sum();
    let deploys: f64 = sc
        .deploys
        .iter()
        .map(|d| {
            let n = copies(&sc.services[d.service]).max(1);
            let per = match d.batch {
                Batch::Count(k) => u64::from(k.max(1)),
                Batch::Share(f) => ((f * n as f64).ceil() as u64).max(1),
            };
            let mut batches = n.div_ceil(per);
            if let Some((share, _)) = d.canary {
                let first = ((share * n as f64).ceil() as u64).clamp(1, n);
                batches = 1 + (n - first).div_ceil(per);
            }
            // Each batch goes out together and its replicas come back one
            // by one (each restart its own draw); a bad release is caught
            // (one change), its replicas go out and come back one by one.
            let steps = (batches + n) as f64 + d.bad * (n + 2) as f64;
            rolls(h, &d.schedule) * steps
        })
        .sum();
    let maintenance: f64 = sc
        .maintenance
        .iter()
        .map(|m| {
            let windows = if m.at < h {
                1 + (h - 1 - m.at) / m.every.max(1)
            } else {
                0
            };
            // Its target (a service, a replica, a region) goes out and
            // comes back together.
            2.0 * windows as f64
        })
        .sum();
    regions + services + zones + shocks + deploys + maintenance
}

/// Deploys started within horizon `h`.
fn rolls(h: Nanos, schedule: &DeploySchedule) -> f64 {
    match schedule {
        DeploySchedule::Every { first, every } => {
            let after = to_secs(h) / every.mean_secs().max(1e-9);
            match first {
                Some(f) if *f < h => 1.0 + to_secs(h - f) / every.mean_secs().max(1e-9),
                Some(_) => 0.0,
                None => after,
            }
        }
        DeploySchedule::At(times) => times.iter().filter(|&&t| t < h).count() as f64,
    }
}
