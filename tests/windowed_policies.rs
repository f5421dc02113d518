//! Windowed request sampling with the request-side policies of issue 20
//! (`src/model/windowed/policies.rs`): agreement with full simulation on
//! compressed models where full is affordable, and the same bytes on one
//! and two threads.

use crate::util::{
    Dir, agree_on_requests, agree_per_trial, assert_covers, full_and_windowed, mean_latency,
    same_bytes_on_one_and_two_threads, t_ci95, with_horizon, with_sampling,
};

/// A compressed model (three hours, a web tier of three replicas failing
/// every 90 minutes each, an active-passive database failing every hour
/// with a 40 s failover) whose entry calls hedge at the 90th percentile of
/// the last 100 successes (a heavy-tailed web tier, so hedges win), under a
/// hedge budget, and whose database calls retry under a budget by
/// concurrency.
const HEDGED: &str = r#"
name = "hedged, compressed"
horizon = "3h"

[[workload]]
name = "clients"
to = "web"
rate = 20
timeout = "2s"
retry = { max_attempts = 2, backoff = "constant", base = "50ms", retry_on = ["refused", "error", "timeout"] }
hedge = { quantile = 0.9, window = 100, budget = { ratio = 0.2, burst = 10 } }

[[service]]
name = "web"
topology = "active-active"
replicas = 3
concurrency = 32
queue = 64
service_time = { dist = "lognormal", mean = "10ms", cv = 3.0 }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "90m" }
repair = { mean = "10m" }

[[service.call]]
to = "db"
timeout = "200ms"
retry = { max_attempts = 4, backoff = "constant", base = "20ms", concurrency_budget = { percent = 20.0, min_retry_concurrency = 1 } }

[[service]]
name = "db"
topology = "active-passive"
replicas = 2
concurrency = 32
service_time = { mean = "3ms" }
failure = { mean = "1h" }
repair = { mean = "15m" }
failover = { detect = "10s", switch = "30s", success = 0.9 }
"#;

/// Per trial: `f` of edge `edge`'s client counts, per request.
fn per_request(
    rows: &[nines::model::TrialResult],
    edge: usize,
    f: fn(&nines::model::counts::ClientCounts) -> u64,
) -> Vec<f64> {
    rows.iter()
        .map(|r| {
            let t = r.traffic.as_ref().expect("requests");
            f(&t.edges[edge].client) as f64 / t.requests as f64
        })
        .collect()
}

#[test]
fn windowed_agrees_with_full_simulation_with_hedging_and_a_concurrency_budget() {
    let [(_, rf), (sw, rw)] = full_and_windowed(HEDGED, 12, 3);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("windowed: {w:?}");
    assert_eq!(w.metastable_windows, 0, "{w:?}");
    let n = w.sample_requests as f64 / w.configurations_sampled as f64;
    agree_on_requests("request availability", &rf, &rw);
    let hedges = agree_per_trial(
        "hedges per request",
        &per_request(&rf, 0, |c| c.hedges),
        &per_request(&rw, 0, |c| c.hedges),
        0.03,
        n,
    );
    assert!(hedges > 0.02, "the hedges must be many to mean anything: {hedges}");
    agree_per_trial(
        "hedges won per request",
        &per_request(&rf, 0, |c| c.hedges_won),
        &per_request(&rw, 0, |c| c.hedges_won),
        0.05,
        n,
    );
    agree_per_trial(
        "hedges refused per request",
        &per_request(&rf, 0, |c| c.hedges_refused),
        &per_request(&rw, 0, |c| c.hedges_refused),
        0.1,
        n,
    );
    let refused = agree_per_trial(
        "retries refused by concurrency per request",
        &per_request(&rf, 1, |c| c.retries_refused_concurrency),
        &per_request(&rw, 1, |c| c.retries_refused_concurrency),
        0.1,
        n,
    );
    assert!(refused > 0.0, "the concurrency budget must refuse retries: {refused}");
    let peak = |rows: &[nines::model::TrialResult]| -> Vec<u64> {
        rows.iter()
            .map(|r| r.traffic.as_ref().unwrap().edges[1].client.retry_concurrency_peak)
            .collect()
    };
    println!(
        "retry concurrency peaks: full {:?}, windowed {:?}",
        peak(&rf),
        peak(&rw)
    );
    assert!(peak(&rw).iter().max() >= Some(&1), "the windows see retries in flight");
    for r in &rw {
        let e = &r.traffic.as_ref().unwrap().edges;
        assert_eq!(e[0].client.configured, nines::model::counts::ClientCounts::HEDGE);
        assert_eq!(e[1].client.configured, nines::model::counts::ClientCounts::CONCURRENCY);
    }
}

/// Every model above, windowed: the same JSON on one and two threads.
#[test]
fn windowed_policies_give_the_same_bytes_on_one_and_two_threads() {
    // An hour of each (a few crashes, their windows and samples) on two
    // trials, one a thread.
    for (name, model, marks) in [
        ("hedged", HEDGED, &["\"hedge\""][..]),
        ("detected", DETECTED, &["\"ejections_by_detector\""]),
        ("loaded", LOADED, &[]),
    ] {
        same_bytes_on_one_and_two_threads(name, &with_horizon(model, "1h"), 2, 4, marks);
    }
}

/// A compressed model (three hours) whose crashes the health checks see
/// late (10 s, 3 failures) and Envoy's interval detectors early: a web tier
/// of four replicas failing every 40 minutes each ejects by failure
/// percentage, a database pool of three failing every 30 minutes by
/// success rate (a lone dead replica among three sits sqrt 2 deviations
/// below the mean), with panic routing below half its replicas healthy
/// (two of three down: every replica gets traffic again).
const DETECTED: &str = r#"
name = "interval detectors, compressed"
horizon = "3h"

[[workload]]
name = "clients"
to = "web"
rate = 40
timeout = "1s"

[[service]]
name = "web"
topology = "active-active"
replicas = 4
concurrency = 32
queue = 64
service_time = { mean = "4ms" }
health_check = { interval = "10s", unhealthy = 3, healthy = 1 }
outlier_detection = { consecutive_failures = 1000, eject_for = "20s", max_ejected = 0.5, interval = "5s", failure_percentage = { threshold = 0.5, minimum_hosts = 3, request_volume = 10 } }
failure = { mean = "40m" }
repair = { mean = "5m" }

[[service.call]]
to = "db"
timeout = "200ms"

[[service]]
name = "db"
topology = "active-active"
replicas = 3
concurrency = 32
service_time = { mean = "3ms" }
health_check = { interval = "10s", unhealthy = 3, healthy = 1, panic_threshold = 0.5 }
outlier_detection = { consecutive_failures = 1000, eject_for = "20s", max_ejected = 0.5, interval = "5s", success_rate = { stdev_factor = 1.2, minimum_hosts = 3, request_volume = 10 } }
failure = { mean = "30m" }
repair = { mean = "10m" }
"#;

/// Per trial: `f` of service `s`'s defence counts, per request.
fn defence_per_request(
    rows: &[nines::model::TrialResult],
    s: usize,
    f: fn(&nines::model::counts::DefenceCounts) -> u64,
) -> Vec<f64> {
    rows.iter()
        .map(|r| {
            let t = r.traffic.as_ref().expect("requests");
            f(&t.defence[s]) as f64 / t.requests as f64
        })
        .collect()
}

#[test]
fn windowed_agrees_with_full_simulation_with_interval_detectors_and_panic_routing() {
    let [(_, rf), (sw, rw)] = full_and_windowed(DETECTED, 12, 5);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("windowed: {w:?}");
    assert_eq!(w.metastable_windows, 0, "{w:?}");
    agree_on_requests("request availability", &rf, &rw);
    // Ejections are events of the windows (a stationary configuration of
    // alike replicas ejects none): paired per trial.
    for (name, s, f) in [
        (
            "web ejections by failure percentage",
            0,
            (|d| d.ejected_failure_percentage) as fn(&nines::model::counts::DefenceCounts) -> u64,
        ),
        ("db ejections by success rate", 1, |d| d.ejected_success_rate),
    ] {
        let (f, w) = (defence_per_request(&rf, s, f), defence_per_request(&rw, s, f));
        let diffs: Vec<f64> = f.iter().zip(&w).map(|(a, b)| b - a).collect();
        let (mean, ci) = t_ci95(&diffs);
        let level = f.iter().sum::<f64>() / f.len() as f64;
        println!(
            "{name}: full {level:.3e} per request, windowed - full {mean:+.3e} ci95 [{:.3e}, {:.3e}]",
            ci[0], ci[1]
        );
        assert!(level > 0.0, "{name}: none to compare");
        assert_covers(name, 0.0, ci, 0.2 * level);
    }
}

/// A compressed model (three hours): three web replicas failing every 30
/// minutes each come back with a cold start (three times slower for a
/// minute) and an empty cache in front of the database (80 % of reads
/// when full, refilling over two minutes), whose service time grows with
/// its utilisation. Each restart adds about a thousand database reads,
/// some 10 % of the reads of a trial: a window that ended before the
/// cache refilled would lose them.
const LOADED: &str = r#"
name = "cold starts and caches, compressed"
horizon = "3h"

[[workload]]
name = "clients"
to = "web"
rate = 60
timeout = "1s"

[[service]]
name = "web"
topology = "active-active"
replicas = 3
concurrency = 32
queue = 64
service_time = { mean = "5ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
cold_start = { factor = 3.0, duration = "1m" }
failure = { mean = "30m" }
repair = { mean = "3m" }

[[service.call]]
to = "db"
timeout = "500ms"
cache = { hit_rate = 0.8, warmup = "2m" }

[[service]]
name = "db"
topology = "active-active"
replicas = 2
concurrency = 4
service_time = { mean = "20ms" }
slowdown = { by = "utilisation", curve = [[0.5, 1.0], [1.0, 2.0]] }
"#;

#[test]
fn windowed_agrees_with_full_simulation_with_cold_starts_and_caches() {
    let [(_, rf), (sw, rw)] = full_and_windowed(LOADED, 12, 7);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("windowed: {w:?}");
    assert_eq!(w.metastable_windows, 0, "{w:?}");
    let n = w.sample_requests as f64 / w.configurations_sampled as f64;
    agree_on_requests("request availability", &rf, &rw);
    let reads = |rows: &[nines::model::TrialResult]| -> Vec<f64> {
        rows.iter()
            .map(|r| {
                let t = r.traffic.as_ref().unwrap();
                t.edges[1].calls as f64 / t.requests as f64
            })
            .collect()
    };
    let level = agree_per_trial("database reads per request", &reads(&rf), &reads(&rw), 0.02, n);
    // Warm, a request reads 0.2 times: the restarts' empty caches add
    // measurably to that.
    assert!(level > 0.205, "the restarts must cost reads to mean anything: {level}");
    let (lf, lw) = (mean_latency(&rf), mean_latency(&rw));
    let diffs: Vec<f64> = lf.iter().zip(&lw).map(|(f, w)| w - f).collect();
    let (mean, ci) = t_ci95(&diffs);
    let level = lf.iter().sum::<f64>() / lf.len() as f64;
    println!(
        "mean latency: full {level:.4e}, windowed - full {mean:+.3e} ci95 [{:.3e}, {:.3e}]",
        ci[0], ci[1]
    );
    assert!(mean.abs() < 0.02 * level, "mean latency {mean} of {level}");
}

/// What windowed sampling cannot run yet stays refused, with the reason:
/// autoscaling with request probes (probe states are not kept per replica
/// count). Autoscaling with a maintenance window runs
/// (`tests/windowed_ops_autoscale.rs`), as each alone does
/// (`tests/windowed_autoscale.rs`, `tests/windowed_probes.rs`).
#[test]
fn autoscaling_with_probes_stays_refused_but_not_with_operations() {
    let env = Dir::new();
    let windowed = with_sampling(DETECTED, "windowed");
    let maintained = windowed.replace(
        "failure = { mean = \"40m\" }",
        "failure = { mean = \"40m\" }\nautoscale = { target = 0.6, max = 8 }",
    ) + "\n[[maintenance]]\nname = \"nightly\"\ntarget = \"web[0]\"\nevery = \"1h\"\nat = \"10m\"\nduration = \"5m\"\n";
    let path = env.write("autoscaled.toml", &maintained);
    env.nines(&["check", path.to_str().unwrap()]).ok();
    let probed = windowed
        .replace(
            "failure = { mean = \"40m\" }",
            "failure = { mean = \"40m\" }\nautoscale = { target = 0.6, max = 8 }",
        )
        .replace(
            "health_check = { interval = \"10s\", unhealthy = 3, healthy = 1 }",
            "health_check = { interval = \"10s\", unhealthy = 3, healthy = 1, timeout = \"1s\" }",
        );
    let path = env.write("autoscaled-probed.toml", &probed);
    let err = env.nines(&["check", path.to_str().unwrap()]).bad_input();
    let why = "readiness or liveness probes (service \"web\") together with autoscaling (service \"web\")";
    assert!(err.contains("request_sampling") && err.contains(why), "{err}");
    // And the model itself passes.
    let path = env.write("detected.toml", &windowed);
    env.nines(&["check", path.to_str().unwrap()]).ok();
}
