//! `nines check`'s operations section: each deploy's roll and what a bad
//! release does, and each maintenance window with the closed form of its
//! planned downtime (the share of the horizon its windows are open, which
//! is exactly the planned downtime of an entry that needs its target
//! alone).

use std::fmt::Write as _;

use crate::engine::time::from_secs;
use crate::model::world::World;
use crate::scenario::duration::Duration;
use crate::scenario::{DeploySchedule, ReleaseEffect, Scenario, Topology};

/// Windows of `every` from `at`, each `duration` long, within `horizon`:
/// how many start, and the time they are open.
pub fn windows_open(at: u64, every: u64, duration: u64, horizon: u64) -> (u64, u64) {
    if at >= horizon {
        return (0, 0);
    }
    let n = (horizon - at - 1) / every + 1;
    let last_start = at + (n - 1) * every;
    let open = (n - 1) * duration + duration.min(horizon - last_start);
    (n, open)
}

/// Writes the section (nothing without deploys or maintenance).
pub fn describe(t: &mut String, sc: &Scenario, world: &World) {
    if sc.deploys.is_empty() && sc.maintenance.is_empty() {
        return;
    }
    let _ = writeln!(t, "operations (the closed forms above leave them out):");
    for (d, dep) in sc.deploys.iter().enumerate() {
        let spec = &world.ops.deploys[d];
        let svc = &sc.services[dep.service];
        let when = match &dep.schedule {
            DeploySchedule::Every { first, every } => {
                format!(
                    "every {}{}",
                    if every.is_exponential() { "mean " } else { "" },
                    Duration(from_secs(every.mean_secs()))
                ) + &first.map_or(String::new(), |f| format!(" from {}", Duration(f)))
            }
            DeploySchedule::At(times) => format!("at {} times", times.len()),
        };
        let n = spec.replicas.len();
        let canary = dep.canary.map_or(String::new(), |(_, bake)| {
            format!("canary {} baking {}, then ", spec.batches[0].len(), Duration(bake))
        });
        let rest = spec.batches.len() - usize::from(dep.canary.is_some());
        let size = spec
            .batches
            .get(usize::from(dep.canary.is_some()))
            .map_or(0, |b| b.len());
        let _ = writeln!(
            t,
            "  deploy {}: {when} · {n} replicas in {} batches ({canary}{rest} of up to {size}, pause {}) · restart mean {}",
            svc.name,
            spec.batches.len(),
            Duration(dep.pause),
            Duration(from_secs(dep.restart.mean_secs()))
        );
        if svc.regions.len() <= 1 && svc.topology != Topology::ActivePassive {
            let k = if svc.topology == Topology::Single {
                1
            } else {
                svc.min_healthy as usize
            };
            let below = spec.batches.iter().filter(|b| n - b.len() < k).count();
            let _ = writeln!(
                t,
                "    {below} of {} batches leave fewer than {k} of {n} serving: with restarts of fixed length R a good deploy costs {below} R of downtime",
                spec.batches.len()
            );
        }
        if dep.bad > 0.0 {
            let effect = match &dep.effect {
                ReleaseEffect::Crash => "crashes its replicas".to_string(),
                ReleaseEffect::Errors(p) => format!("fails {:.1} % of the requests its replicas serve", p * 100.0),
                ReleaseEffect::Latency(l) => {
                    format!(
                        "adds mean {} to serving on its replicas",
                        Duration(from_secs(l.mean_secs()))
                    )
                }
            };
            let mut caught = Vec::new();
            if let Some((_, bake)) = dep.canary {
                caught.push(format!("by the canary at the end of its {} bake", Duration(bake)));
            }
            if let Some(detect) = dep.detect {
                caught.push(format!("by alerting {} after it first serves", Duration(detect)));
            }
            let _ = writeln!(
                t,
                "    a release is bad with chance {}: it {effect}, until caught {} and rolled back (one restart per replica on it)",
                dep.bad,
                caught.join(", or ")
            );
        }
    }
    for m in &sc.maintenance {
        let (n, open) = windows_open(m.at, m.every, m.duration, sc.horizon);
        let _ = writeln!(
            t,
            "  maintenance \"{}\": {} every {} from {}: {n} windows in the horizon, open {:.4} % of it (planned downtime of what needs the target alone)",
            m.name,
            Duration(m.duration),
            Duration(m.every),
            Duration(m.at),
            open as f64 / sc.horizon as f64 * 100.0
        );
    }
}
