//! The model's components on their own: the availability component cloned
//! mid-trial, run alone, and agreeing with the whole trial it is part of.

use nines::model::availability::FailureOnly;
use nines::model::{Trial, World};

/// Two regions with outages, an active-active tier and an active-passive
/// database in each: every kind of availability event happens in ten years.
const TWO_REGIONS: &str = r#"
name = "two regions"
horizon = "10y"
seed = 3

[[region]]
name = "eu"
failure = { mean = "1y" }
repair = { mean = "4h" }

[[region]]
name = "us"
failure = { mean = "1y" }
repair = { mean = "4h" }

[global]
mode = "active-active"
failover = "5m"

[[service]]
name = "web"
topology = "active-active"
replicas = 3
min_healthy = 2
regions = ["eu", "us"]
failure = { mean = "1000h" }
repair = { mean = "10h" }

[[service.call]]
to = "db"

[[service]]
name = "db"
topology = "active-passive"
replicas = 2
regions = ["eu", "us"]
failure = { mean = "2000h" }
repair = { mean = "8h" }
failover = { detect = "10s", switch = "30s", success = 0.9 }
"#;

fn world(text: &str) -> World {
    let sc = nines::scenario::parse("case.toml", "case", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    World::compile(&sc)
}

#[test]
fn an_availability_component_cloned_mid_trial_runs_to_the_same_result() {
    let world = world(TWO_REGIONS);
    for trial in 0..20 {
        let mut run = FailureOnly::start(&world, 7, trial);
        let handled = run.run_until(world.horizon / 2, u64::MAX);
        assert!(handled > 0, "trial {trial} handled no event before half time");
        let copy = run.clone();
        let (a, b) = (run.finish(), copy.finish());
        assert_eq!(a, b, "trial {trial}");
    }
}

#[test]
fn an_availability_component_cloned_after_any_event_runs_to_the_same_result() {
    let world = world(TWO_REGIONS);
    let whole = FailureOnly::start(&world, 11, 4).finish();
    let mut run = FailureOnly::start(&world, 11, 4);
    // Clone after each of the first events in turn: ties and generations
    // pending at that moment are carried by the copy.
    for _ in 0..40 {
        run.run_until(world.horizon, 1);
        assert_eq!(run.clone().finish(), whole);
    }
}

#[test]
fn the_availability_component_alone_matches_the_whole_trial_of_a_failure_only_model() {
    let world = world(TWO_REGIONS);
    let mut trial = Trial::new(&world);
    for k in 0..20 {
        let whole = trial.run(5, k).expect("no budget is exceeded");
        let alone = FailureOnly::start(&world, 5, k).finish();
        assert_eq!(alone, whole, "trial {k}");
        assert!(whole.events > 0);
    }
}
