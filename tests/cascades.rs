//! Cascades: a metastable failure after a latency spike, a region loss
//! with too little capacity; each shows the outcome its design predicts.

use crate::util::simulate;

/// A small copy of scenarios/metastable.toml (a tenth of the load and of
/// the capacity) and its defended twin.
const METASTABLE: &str = r#"horizon = "4m"
[[workload]]
name = "users"
to = "web"
rate = 50
timeout = "2s"
[[service]]
name = "web"
concurrency = 500
service_time = { mean = "2ms" }
[[service.call]]
to = "db"
timeout = "100ms"
RETRY
[[service]]
name = "db"
concurrency = 1
queue = 5000
service_time = { mean = "10ms" }
[[fault]]
name = "spike"
at = "60s"
duration = "20s"
kind = "latency"
target = "db"
latency = { dist = "fixed", mean = "100ms" }
"#;

/// Retries without a budget keep the database overloaded long after a
/// 20-second latency spike: no trial recovers. With a retry budget and a
/// breaker every trial does, within seconds.
#[test]
fn a_spike_with_aggressive_retries_becomes_a_metastable_failure() {
    let storm = METASTABLE.replace(
        "RETRY",
        r#"retry = { max_attempts = 4, backoff = "constant", base = "0ms" }"#,
    );
    let (s, _) = simulate(&storm, 10, 5);
    let f = &s.faults["spike"];
    println!("storm: {f:?}");
    assert_eq!(f.metastable, Some(1.0), "every trial stays down");
    assert!(f.success_ratio_during.as_ref().unwrap().mean < 0.05);
    assert_eq!(f.blast_radius["web"], 1.0, "the web tier is hit too");

    let defended = METASTABLE.replace(
        "RETRY",
        r#"retry = { max_attempts = 4, backoff = "constant", base = "0ms", budget = { ratio = 0.1 } }
circuit_breaker = { window = "time", size = "5s", failure_rate = 0.5, min_calls = 20, open_for = "2s", half_open_calls = 3, success_threshold = 3 }"#,
    );
    let (s, _) = simulate(&defended, 10, 5);
    let f = &s.faults["spike"];
    println!("defended: {f:?}");
    assert_eq!(f.metastable, Some(0.0));
    assert_eq!(f.recovered.as_ref().unwrap().mean, 1.0);
    assert!(f.time_to_recover_s.unwrap() < 30.0, "{:?}", f.time_to_recover_s);
    assert_eq!(f.detected.as_ref().unwrap().mean, 1.0, "the breaker opens");
}

/// Two regions, each able to serve 2/3 (N+0) or all (N+1) of the load.
/// While one region is lost, N+0 collapses and N+1 loses little more than
/// the failover window.
#[test]
fn losing_a_region_collapses_n_plus_0_but_not_n_plus_1() {
    let text = r#"horizon = "5m"
[global]
mode = "active-active"
failover = "5s"
[[region]]
name = "eu"
[[region]]
name = "us"
[[workload]]
name = "users"
to = "api"
rate = 240
timeout = "1s"
retry = { max_attempts = 2, backoff = "constant", base = "10ms" }
[[service]]
name = "api"
regions = ["eu", "us"]
topology = "active-active"
replicas = REPLICAS
concurrency = 4
queue = 50
service_time = { mean = "25ms" }
load_balancer = "least-outstanding"
[[fault]]
name = "eu outage"
at = "1m"
duration = "2m"
kind = "crash"
target = "eu"
"#;
    // One replica serves 160 requests a second.
    let (n0, _) = simulate(&text.replace("REPLICAS", "1"), 10, 3);
    let (n1, _) = simulate(&text.replace("REPLICAS", "2"), 10, 3);
    let d0 = n0.faults["eu outage"].success_ratio_during.as_ref().unwrap().mean;
    let d1 = n1.faults["eu outage"].success_ratio_during.as_ref().unwrap().mean;
    println!("success during the outage: N+0 {d0:.4}, N+1 {d1:.4}");
    assert!(d0 < 0.75, "N+0 should collapse: {d0}");
    assert!(d1 > 0.97, "N+1 should hold: {d1}");
}
