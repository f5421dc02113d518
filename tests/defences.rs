//! Server-side defences, each against its arithmetic: a token-bucket rate
//! limiter admits its rate, shedding by queue wait keeps an overloaded
//! server useful, low-priority traffic is shed first, and outlier
//! detection ejects a replica that fails every request.

use crate::util::simulate;

/// A token bucket of 100 a second in front of evenly spaced requests at
/// 150 a second admits exactly two in three once it can hold two tokens.
/// With room for one token only, the 3.3 ms of refill beyond the full
/// bucket between two arrivals is lost and it admits one in two.
#[test]
fn a_rate_limiter_admits_its_rate() {
    for (burst, share) in [(2, 2.0 / 3.0), (1, 0.5)] {
        rate_limited_share(burst, share);
    }
}

fn rate_limited_share(burst: u32, truth: f64) {
    let text = r#"horizon = "60s"
[[workload]]
name = "users"
to = "api"
rate = 150
arrival = "constant"
[[service]]
name = "api"
service_time = { dist = "fixed", mean = "1ms" }
rate_limit = { rate = 100, burst = BURST }
"#;
    let (s, _) = simulate(&text.replace("BURST", &burst.to_string()), 2, 1);
    let r = s.requests.as_ref().unwrap();
    let q = s.services["api"].requests.as_ref().unwrap();
    let admitted = 1.0 - q.rate_limited as f64 / r.total as f64;
    assert!((admitted - truth).abs() < 1e-3, "burst {burst}: admitted {admitted}");
    assert!((r.success_ratio.mean - truth).abs() < 1e-3);
}

/// An overloaded server (150 a second offered, 100 served) behind a
/// 200 ms client timeout: without shedding its queue grows without bound
/// and almost every request times out; dropping requests that waited
/// more than 150 ms keeps serving the ones that can still make it.
#[test]
fn shedding_by_queue_wait_keeps_an_overloaded_server_useful() {
    let text = r#"horizon = "120s"
[[workload]]
name = "users"
to = "api"
rate = 150
timeout = "200ms"
[[service]]
name = "api"
concurrency = 1
service_time = { mean = "10ms" }
SHED
"#;
    let (plain, _) = simulate(&text.replace("SHED", ""), 4, 2);
    let (shed, _) = simulate(&text.replace("SHED", "shed = { queue_wait = \"150ms\" }"), 4, 2);
    let a = plain.requests.as_ref().unwrap().success_ratio.mean;
    let b = shed.requests.as_ref().unwrap().success_ratio.mean;
    println!("success without shedding {a:.4}, with {b:.4}");
    assert!(a < 0.1, "{a}");
    // At most 100 of 150 a second can be served: 2/3 (give or take the
    // noise of 120 s of Poisson arrivals and exponential service).
    assert!(b > 0.55 && b < 0.69, "{b}");
    assert!(shed.services["api"].requests.as_ref().unwrap().shed_wait > 0);
}

/// Low-priority traffic is shed first: with the queue past two waiting,
/// only normal requests get in, so they keep succeeding while the low
/// ones absorb the overload.
#[test]
fn low_priority_requests_are_shed_first() {
    let text = r#"horizon = "120s"
[[workload]]
name = "web"
to = "api"
rate = 60
timeout = "500ms"
[[workload]]
name = "batch"
to = "api"
rate = 60
timeout = "500ms"
priority = "low"
[[service]]
name = "api"
concurrency = 1
queue = 100
service_time = { mean = "10ms" }
shed = { low_priority_queue = 2 }
"#;
    let (s, _) = simulate(text, 4, 3);
    let ok = |edge: &str| s.edges[edge].success_ratio;
    let (web, batch) = (ok("web->api"), ok("batch->api"));
    println!("success: normal {web:.4}, low {batch:.4}");
    assert!(web > 0.97, "{web}");
    assert!(batch < web - 0.2, "{batch}");
    assert!(s.services["api"].requests.as_ref().unwrap().shed > 0);
}

/// A replica that answers every request with an error still passes its
/// health checks; outlier detection (5 failures in a row) ejects it, so
/// nearly every request succeeds, where without it half fail.
#[test]
fn outlier_detection_ejects_a_failing_replica() {
    let text = r#"horizon = "120s"
[[workload]]
name = "users"
to = "api"
rate = 100
[[service]]
name = "api"
topology = "active-active"
replicas = 2
service_time = { mean = "5ms" }
OUTLIER
[[fault]]
name = "broken"
at = "0s"
duration = "1h"
kind = "errors"
target = "api[0]"
error_rate = 1.0
"#;
    let (plain, _) = simulate(&text.replace("OUTLIER", ""), 4, 4);
    let (od, _) = simulate(
        &text.replace(
            "OUTLIER",
            "outlier_detection = { consecutive_failures = 5, eject_for = \"30s\" }",
        ),
        4,
        4,
    );
    let a = plain.requests.as_ref().unwrap().success_ratio.mean;
    let b = od.requests.as_ref().unwrap().success_ratio.mean;
    let ejections = od.services["api"].requests.as_ref().unwrap().ejections;
    println!("success without outlier detection {a:.4}, with {b:.4}; {ejections} ejections");
    assert!((a - 0.5).abs() < 0.02, "{a}");
    // 5 failures every 30 s ejection: 20 a trial among 12 000 requests.
    assert!(b > 0.99, "{b}");
    // Ejected at 0 s, then back every 30 s: 4 ejections a trial.
    assert_eq!(ejections, 4 * 4);
    assert_eq!(od.faults["broken"].detected.as_ref().unwrap().mean, 1.0);
}
