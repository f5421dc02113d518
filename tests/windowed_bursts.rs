//! Windowed request sampling of workloads with bursts (issue 18): a
//! burst's start and end are configuration changes, and the stationary
//! samples of a burst state run at its rates. Checked against full
//! simulation, paired by seed, on a compressed model where full is cheap.

use crate::util::{
    agree_with_shared, far_from_full, full_and_windowed, same_bytes_on_one_and_two_threads, with_horizon,
};

/// Three hours of a pool of 4 replicas (2 slots each, 25 ms a request:
/// 320 requests/s at most) failing every 40 minutes each, repaired in 5;
/// 50 requests/s, with four 5- to 8-minute bursts of 5x (250/s: 78 % busy
/// on 4 replicas, 104 %, overload, on 3). The bursts carry most of the
/// lost requests.
const BURSTS: &str = r#"
name = "bursts near overload"
horizon = "3h"

[[workload]]
name = "users"
to = "api"
rate = 50
timeout = "1s"

[[workload.burst]]
at = "20m"
duration = "5m"
factor = 5.0

[[workload.burst]]
at = "70m"
duration = "6m"
factor = 5.0

[[workload.burst]]
at = "120m"
duration = "5m"
factor = 5.0

[[workload.burst]]
at = "150m"
duration = "8m"
factor = 5.0

[[service]]
name = "api"
topology = "active-active"
replicas = 4
concurrency = 2
queue = 20
service_time = { mean = "25ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "40m" }
repair = { mean = "5m" }
"#;

#[test]
fn windowed_agrees_with_full_simulation_through_bursts() {
    let (trials, seed) = (12, 3);
    let [(sf, rf), (sw, rw)] = full_and_windowed(BURSTS, trials, seed);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    // Each burst's start and end opens a window: at least 8 a trial.
    assert!(w.windows_per_trial >= 8.0, "{w:?}");
    let paired = agree_with_shared("bursts", &sw, &rf, &rw, 2.5);
    let (loss, combined) = (paired.loss, paired.combined);
    assert!(loss > 5e-3, "the bursts must lose requests to mean anything: {loss}");
    // The interval is tight against the loss.
    assert!(2.5 * combined < 0.15 * loss, "{combined} vs {loss}");
    // Requests: the bursts' arrivals are counted (known rates times time).
    let (nf, nw) = (
        sf.requests.as_ref().unwrap().total as f64,
        sw.requests.as_ref().unwrap().total as f64,
    );
    assert!((nw / nf - 1.0).abs() < 0.005, "{nw} vs {nf}");
    // The comparison can fail: the model without its bursts, windowed, is
    // far outside.
    let flat: String = BURSTS
        .split("[[workload.burst]]")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_string()
            } else {
                part.split_once("[[service]]")
                    .map_or(String::new(), |(_, rest)| format!("[[service]]{rest}"))
            }
        })
        .collect();
    assert!(!flat.contains("burst]]"), "{flat}");
    far_from_full("bursts", &flat, trials, seed, &paired, 5.0 * 2.5 * combined);
}

#[test]
fn windowed_bursts_are_the_same_on_one_and_two_threads() {
    // The first hour holds a burst.
    same_bytes_on_one_and_two_threads("bursts", &with_horizon(BURSTS, "1h"), 2, 5, &[]);
}
