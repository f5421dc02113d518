//! Request-level behaviour that has no closed form but a clear expected
//! direction or bound: arrival shaping, balancers, health-check delay,
//! cancellation, and determinism of the request path.

use nines::Summary;
use nines::model::TrialResult;

use crate::util::{Dir, simulate};

fn run(text: &str, trials: u64) -> (Summary, Vec<TrialResult>) {
    simulate(text, trials, 3)
}

/// A constant workload with a burst: requests = ∫ rate dt exactly (up to
/// one interval at each edge of the burst).
#[test]
fn bursts_multiply_the_rate_inside_their_window() {
    let text = r#"horizon = "10m"
[[workload]]
name = "w"
to = "s"
rate = 100
arrival = "constant"
[[workload.burst]]
at = "2m"
duration = "1m"
factor = 3.0
[[service]]
name = "s"
service_time = { dist = "fixed", mean = "1ms" }
"#;
    let (s, _) = run(text, 2);
    // 9 minutes at 100/s and 1 minute at 300/s, per trial.
    let expect = 2.0 * (9.0 * 60.0 * 100.0 + 60.0 * 300.0);
    let got = s.requests.unwrap().total as f64;
    assert!((got - expect).abs() <= 6.0, "got {got}, expected {expect}");
}

/// A diurnal swing keeps the mean rate: over whole periods the count of a
/// Poisson workload is rate × time within sampling error.
#[test]
fn a_diurnal_swing_keeps_the_mean_rate() {
    let text = r#"horizon = "2h"
[[workload]]
name = "w"
to = "s"
rate = 50
diurnal = { amplitude = 0.8, period = "1h", peak = "15m" }
[[service]]
name = "s"
service_time = { dist = "fixed", mean = "1ms" }
"#;
    let (s, rows) = run(text, 4);
    let expect = 4.0 * 2.0 * 3600.0 * 50.0;
    let got = s.requests.unwrap().total as f64;
    // Poisson count: sd = sqrt(1.44e6) = 1200; allow 4 sd.
    assert!(
        (got - expect).abs() < 4.0 * expect.sqrt(),
        "got {got}, expected {expect}"
    );
    assert_eq!(rows.len(), 4);
}

const FARM: &str = r#"horizon = "5m"
[[workload]]
name = "w"
to = "s"
rate = 320
[[service]]
name = "s"
topology = "active-active"
replicas = 4
concurrency = 1
load_balancer = "LB"
service_time = { mean = "10ms" }
"#;

fn mean_latency(lb: &str) -> f64 {
    run(&FARM.replace("LB", lb), 4).0.requests.unwrap().latency_s.mean
}

/// Four single-slot replicas at 80 % load: random balancing makes each an
/// M/M/1 queue (mean sojourn 1/(μ - λ/4) = 50 ms); balancers that look at
/// the load do much better, and round robin (regular arrivals per replica)
/// sits between.
#[test]
fn load_aware_balancers_beat_random() {
    let random = mean_latency("random");
    let rr = mean_latency("round-robin");
    let p2c = mean_latency("power-of-two");
    let least = mean_latency("least-outstanding");
    assert!((random - 0.050).abs() < 0.006, "random {random}");
    assert!(rr < random * 0.8, "round robin {rr} vs random {random}");
    assert!(p2c < rr, "power of two {p2c} vs round robin {rr}");
    assert!(least < p2c * 1.05, "least outstanding {least} vs power of two {p2c}");
}

/// A replica dies at 10 min: the balancer keeps sending it half of the
/// traffic until `unhealthy` probes fail. With probes every 10 s and 3
/// needed, that is between 20 and 30 s of refused requests. Each replica
/// draws its failure time from {10 min, 1000 h}, so in some trials exactly
/// one dies; those are the trials this checks.
#[test]
fn health_checks_bound_the_traffic_sent_to_a_dead_replica() {
    let text = r#"horizon = "10m30s"
[[workload]]
name = "w"
to = "s"
rate = 100
arrival = "constant"
[[service]]
name = "s"
topology = "active-active"
replicas = 2
service_time = { dist = "fixed", mean = "1ms" }
failure = { dist = "empirical", values = ["10m", "1000h"] }
repair = { dist = "fixed", mean = "1h" }
"#;
    let single_deaths = |text: &str| -> Vec<f64> {
        let (_, rows) = run(text, 24);
        let refused: Vec<f64> = rows
            .iter()
            .map(|r| r.traffic.as_ref().unwrap().edges[0].errors as f64)
            .collect();
        // No death: nothing refused. Both: everything for the last 30 s (3000).
        assert!(
            refused.iter().all(|&x| x == 0.0 || !(2000.0..3000.0).contains(&x)),
            "{refused:?}"
        );
        refused.into_iter().filter(|&x| x > 0.0 && x < 2000.0).collect()
    };
    let slow = single_deaths(text);
    assert!(slow.len() >= 4, "too few trials with one death: {slow:?}");
    // Half of 100 requests/s for 20 to 30 s.
    assert!(slow.iter().all(|x| (1000.0..=1500.0).contains(x)), "{slow:?}");
    // Probes every second shorten it in proportion: 2 to 3 s.
    let fast = single_deaths(&text.replace(
        "repair =",
        "health_check = { interval = \"1s\", unhealthy = 3 }\nrepair =",
    ));
    assert!(!fast.is_empty());
    assert!(fast.iter().all(|x| (100.0..=150.0).contains(x)), "{fast:?}");
}

/// Timeouts that cancel the server's work keep an overloaded replica's
/// queue short; timeouts that do not leave it working for nobody.
#[test]
fn cancelling_on_timeout_relieves_an_overloaded_server() {
    let text = r#"horizon = "2m"
[[workload]]
name = "w"
to = "s"
rate = 120
timeout = "50ms"
CANCEL
[[service]]
name = "s"
concurrency = 1
service_time = { mean = "10ms" }
"#;
    let (keep, _) = run(&text.replace("CANCEL", ""), 4);
    let (cancel, _) = run(&text.replace("CANCEL", "cancel_on_timeout = true"), 4);
    let ok = |s: &Summary| s.requests.as_ref().unwrap().success_ratio.mean;
    // 120 % load: without cancellation the queue grows without bound and
    // almost nothing finishes within 50 ms.
    assert!(ok(&keep) < 0.2, "without cancellation {}", ok(&keep));
    assert!(ok(&cancel) > 0.6, "with cancellation {}", ok(&cancel));
}

#[test]
fn request_level_files_are_identical_on_any_thread_count() {
    let dir = Dir::new();
    let text = include_str!("../scenarios/retry-budget.toml");
    dir.write("r.toml", text);
    for threads in ["1", "2"] {
        dir.nines(&[
            "run",
            "r.toml",
            "--trials",
            "70",
            "--threads",
            threads,
            "--set",
            "horizon=20s",
            "--out",
            threads,
            "--quiet",
        ])
        .ok();
    }
    assert_eq!(dir.read("1/summary.json"), dir.read("2/summary.json"));
    assert_eq!(dir.read("1/trials.csv"), dir.read("2/trials.csv"));
}

/// The edge table says why attempts failed. The db is down for 30 s of
/// each minute-long trial; the api's breaker opens after 5 refusals and
/// rejects the rest of the outage's calls without sending them. With one
/// attempt per call, every failed call failed for exactly one reason, so
/// the reasons add up to the failed calls; the errors the db answered
/// (its 1 % error rate) and the refusals are apart; `sent/call` is below 1
/// by the rejected share, and the table's columns show each count. The
/// latency of served requests is reported apart from every request's.
#[test]
fn failed_attempts_by_reason_and_served_latency() {
    let text = r#"name = "cut"
horizon = "1m"
trials = 4
seed = 5
[[workload]]
name = "users"
to = "api"
rate = 100
[[service]]
name = "api"
service_time = { dist = "fixed", mean = "1ms" }
[[service.call]]
to = "db"
circuit_breaker = { failure_threshold = 5, open_for = "5s" }
[[service]]
name = "db"
service_time = { dist = "fixed", mean = "1ms" }
error_rate = 0.01
[[fault]]
name = "cut"
at = "10s"
duration = "30s"
kind = "crash"
target = "db"
"#;
    let d = Dir::new();
    let p = d.write("cut.toml", text);
    let out = d.nines(&["run", p.to_str().unwrap(), "--out", "o", "--quiet"]).ok();
    let json: serde_json::Value = serde_json::from_str(&d.read("o/summary.json")).unwrap();
    let e = &json["edges"]["api->db"];
    let n = |k: &str| e[k].as_u64().unwrap_or_else(|| panic!("{k} in {e}"));
    assert_eq!(n("errors"), n("server_errors") + n("refused"));
    assert!(n("server_errors") > 50, "the db's own errors: {e}");
    assert!(n("refused") >= 5, "refused while the breaker was closed: {e}");
    assert!(
        n("breaker_rejected") > 100 * n("refused"),
        "most calls die at the breaker: {e}"
    );
    assert_eq!(
        n("timeouts") + n("errors") + n("breaker_rejected") + n("bulkhead_rejected"),
        n("failed")
    );
    assert_eq!(n("attempts") + n("breaker_rejected"), n("calls"));
    assert!(e["attempts_per_call"].as_f64().unwrap() < 0.6);
    // The api answers every failed db call with an error of its own.
    let u = &json["edges"]["users->api"];
    assert_eq!(u["server_errors"], u["errors"]);
    assert_eq!(u["refused"], 0);

    let header = out
        .lines()
        .find(|l| l.trim_start().starts_with("edge "))
        .expect("edge table");
    let cols: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        cols,
        [
            "edge",
            "calls",
            "sent/call",
            "retries",
            "timeouts",
            "errors",
            "refused",
            "brk",
            "rej",
            "bulkhd",
            "rej",
            "brk",
            "open",
            "success"
        ]
    );
    let row: Vec<&str> = out
        .lines()
        .find(|l| l.trim_start().starts_with("api->db "))
        .expect("api->db row")
        .split_whitespace()
        .collect();
    assert_eq!(row[5], n("server_errors").to_string(), "errors column: {row:?}");
    assert_eq!(row[6], n("refused").to_string(), "refused column: {row:?}");
    assert_eq!(row[7], n("breaker_rejected").to_string(), "brk rej column: {row:?}");
    assert!(out.contains("never sent, so sent/call can fall below 1"), "{out}");

    // Latency: a served request took the api's 1 ms and the db's 1 ms,
    // exactly; a failed one was refused by the api after its own 1 ms,
    // so every request's mean is below 2 ms and the served one is 2 ms.
    let all = &json["requests"]["latency_s"];
    let served = &json["requests"]["latency_served_s"];
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"));
    assert!((f(served, "mean") - 0.002).abs() < 1e-9, "{served}");
    for k in ["p50", "p90", "p99", "p999"] {
        assert!((f(served, k) - 0.002).abs() < 2e-6, "{k}: {served}");
    }
    assert!(f(all, "mean") < 0.0016, "{all}");
    assert!(
        (f(all, "p50") - 0.001).abs() < 1e-6,
        "half the requests failed after 1 ms: {all}"
    );
    assert!(
        out.contains("  served latency    mean 2.00 ms · p50 2.00 ms · p90 2.00 ms · p99 2.00 ms · p99.9 2.00 ms (served requests only)"),
        "{out}"
    );

    // With nothing failed, served latency is every request's latency and
    // the table does not repeat it.
    let clean = text.replace("error_rate = 0.01\n", "");
    let clean = clean.split("[[fault]]").next().unwrap();
    let p = d.write("clean.toml", clean);
    let out = d.nines(&["run", p.to_str().unwrap(), "--out", "c", "--quiet"]).ok();
    let json: serde_json::Value = serde_json::from_str(&d.read("c/summary.json")).unwrap();
    assert_eq!(json["requests"]["failed_ratio"]["mean"], 0.0);
    assert_eq!(json["requests"]["latency_s"], json["requests"]["latency_served_s"]);
    assert!(!out.contains("served latency"), "{out}");
}
