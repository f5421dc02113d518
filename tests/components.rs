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

/// Requests on a service whose replicas fail: the request component reads
/// what the availability component says serves.
const REQUESTS: &str = r#"
name = "requests"
horizon = "2h"
seed = 31

[[workload]]
name = "clients"
to = "api"
rate = 50
timeout = "1s"
retry = { max_attempts = 2, backoff = "constant", base = "0ms", retry_on = ["refused", "error"] }

[[service]]
name = "api"
topology = "active-active"
replicas = 3
concurrency = 32
queue = 100
service_time = { mean = "20ms" }
failure = { mean = "20m" }
repair = { mean = "5m" }
"#;

#[test]
fn a_request_component_starts_from_a_given_availability_state() {
    let world = world(REQUESTS);
    let half = world.horizon / 2;
    let mut trial = Trial::new(&world);
    for k in 0..4 {
        let mut start = FailureOnly::start(&world, 9, k);
        start.run_until(half, u64::MAX);
        assert_eq!(start.now(), half);
        let window = trial.run_from(&start, 9, k).expect("no budget is exceeded");
        // The failure process carries on exactly as it would have alone.
        let alone = start.clone().finish();
        let mut time_based = window.clone();
        time_based.traffic = None;
        time_based.events = alone.events;
        assert_eq!(time_based, alone, "trial {k}");
        // Requests arrive only from the start on: the first half of the
        // timeline is empty, the second is not.
        let traffic = window.traffic.expect("the world has requests");
        let buckets = traffic.timeline.len();
        assert!(traffic.timeline[..buckets / 2].iter().all(|b| b[0] == 0), "trial {k}");
        assert!(traffic.timeline[buckets / 2..].iter().all(|b| b[0] > 0), "trial {k}");
        assert!(traffic.requests > 100_000, "trial {k}: {}", traffic.requests);
    }
}

#[test]
fn a_request_component_started_at_zero_is_the_whole_trial() {
    let world = world(REQUESTS);
    let mut trial = Trial::new(&world);
    let whole = trial.run(9, 2).expect("no budget is exceeded");
    let start = FailureOnly::start(&world, 9, 2);
    let window = trial.run_from(&start, 9, 2).expect("no budget is exceeded");
    assert_eq!(window, whole);
}

/// A trial's result depends only on (seed, trial), not on the trials the
/// same `Trial` ran before: `nines trace --trial K` runs K alone, `run`
/// runs it after others in its chunk. (A reused slab once handed out its
/// slots from the top, so the connections a crash resets were answered in
/// another order and other requests were served.)
#[test]
fn a_trial_does_not_depend_on_the_trials_before_it() {
    let world = world(REQUESTS);
    let mut reused = Trial::new(&world);
    for k in 0..2 {
        reused.run(9, k).expect("no budget is exceeded");
    }
    let after = reused.run(9, 2).expect("no budget is exceeded");
    let alone = Trial::new(&world).run(9, 2).expect("no budget is exceeded");
    assert_eq!(after, alone);
}
