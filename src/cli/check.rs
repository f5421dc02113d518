//! `nines check FILE`: validate, then print what the scenario compiles to
//! and, where one exists, the closed-form availability to judge a run by.

use std::fmt::Write as _;

use super::CheckArgs;
use crate::error::Result;
use crate::model::{World, analytic};
use crate::scenario::{self, GlobalMode, Scenario, Standby, Topology, duration::Duration};

/// Runs `nines check`.
///
/// # Errors
/// Bad input (exit 2).
pub fn check(args: &CheckArgs) -> Result<()> {
    let scenario = scenario::load(&args.file, &args.set)?;
    print!("{}", describe(&scenario));
    Ok(())
}

fn dist(d: Option<&crate::distribution::Dist>) -> String {
    d.map_or("never".into(), |d| {
        format!("mean {}", Duration(crate::engine::time::from_secs(d.mean_secs())))
    })
}

/// What `check` prints.
pub fn describe(sc: &Scenario) -> String {
    let world = World::compile(sc);
    let mut t = String::new();
    let _ = writeln!(t, "{}: valid", sc.path);
    let _ = writeln!(
        t,
        "scenario \"{}\" · horizon {} · {} trials · seed {}",
        sc.name,
        Duration(sc.horizon),
        sc.trials,
        sc.seed
    );
    let _ = writeln!(t, "entry point: {}", sc.services[sc.entry].name);
    if !sc.regions.is_empty() {
        let mode = match sc.global.mode {
            GlobalMode::ActiveActive => "active-active",
            GlobalMode::ActivePassive => "active-passive",
        };
        let _ = writeln!(t, "global routing: {mode}, failover {}", Duration(sc.global.failover));
        let _ = writeln!(t, "regions:");
        for r in &sc.regions {
            let _ = writeln!(
                t,
                "  {:<16} failure {} · repair {}",
                r.name,
                dist(r.failure.as_ref()),
                dist(r.repair.as_ref())
            );
        }
    }
    let _ = writeln!(t, "services:");
    for (i, s) in sc.services.iter().enumerate() {
        let topo = match s.topology {
            Topology::Single => "single".to_string(),
            Topology::ActiveActive => format!("active-active, {} of {} needed", s.min_healthy, s.replicas),
            Topology::ActivePassive => format!(
                "active-passive, 1 active + {} {} standby, failover detect {} + switch {}, success {}",
                s.replicas - 1,
                if s.standby == Standby::Cold { "cold" } else { "hot" },
                Duration(s.failover.detect),
                Duration(s.failover.switch),
                s.failover.success
            ),
        };
        let _ = writeln!(t, "  {:<16} {topo}", s.name);
        let placement = if s.regions.is_empty() {
            format!("{} replica(s), no region", s.replicas)
        } else {
            let names: Vec<&str> = s.regions.iter().map(|&r| sc.regions[r].name.as_str()).collect();
            format!("{} replica(s) in each of {}", s.replicas, names.join(", "))
        };
        let _ = writeln!(t, "  {:<16} {placement}", "");
        let _ = writeln!(
            t,
            "  {:<16} failure {} · repair {}",
            "",
            dist(s.failure.as_ref()),
            dist(s.repair.as_ref())
        );
        for c in &s.calls {
            let _ = writeln!(
                t,
                "  {:<16} calls {}{}",
                "",
                sc.services[c.to].name,
                if c.fallback {
                    " (with fallback: not required)"
                } else {
                    ""
                }
            );
        }
        match analytic::availability(sc, &world, i) {
            Ok(a) => {
                let _ = writeln!(
                    t,
                    "  {:<16} closed-form availability {a:.9} ({:.3} nines)",
                    "",
                    -(1.0 - a).log10()
                );
            }
            Err(why) => {
                let _ = writeln!(t, "  {:<16} no closed form: {why}", "");
            }
        }
    }
    t
}
