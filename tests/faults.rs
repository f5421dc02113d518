//! Injected faults, kind by kind: each has its specific effect, checked
//! against exact arithmetic or queueing theory where one exists (crashes,
//! fault processes, latency, errors, capacity, partitions and hangs,
//! health checks, clock skew).

use nines::model::TrialResult;

use crate::util::{assert_covers, assert_excludes, erlang_c_sojourn, mean_latency, simulate, t_ci95};

/// Each trial's share of its concluded requests that succeeded.
fn success(rows: &[TrialResult]) -> Vec<f64> {
    rows.iter()
        .map(|r| {
            let t = r.traffic.as_ref().unwrap();
            t.success as f64 / t.requests as f64
        })
        .collect()
}

// ------------------------------------------------- time-based availability

/// A scripted crash of the only replica for 30 minutes of 10 hours costs
/// exactly 5 % in every trial; a crash of one replica of an active-active
/// pair that needs both costs the same; a region crash behind a global
/// router with a 5-minute failover costs half the traffic for 5 minutes.
#[test]
fn scripted_crashes_take_exactly_their_window_off_availability() {
    let single = r#"horizon = "10h"
[[service]]
name = "api"
[[fault]]
at = "1h"
duration = "30m"
kind = "crash"
target = "api"
"#;
    let (s, rows) = simulate(single, 5, 1);
    for r in &rows {
        assert!((r.availability - 0.95).abs() < 1e-12, "{}", r.availability);
        assert_eq!(r.incidents, 1);
        assert!((r.longest_outage - 1800.0).abs() < 1e-9);
    }
    let f = &s.faults["crash api"];
    assert_eq!(f.occurrences_per_trial, 1.0);
    assert!((f.active_s_per_trial - 1800.0).abs() < 1e-9);

    let pair = single
        .replace(
            "name = \"api\"",
            "name = \"api\"\ntopology = \"active-active\"\nreplicas = 2\nmin_healthy = 2",
        )
        .replace("target = \"api\"", "target = \"api[1]\"");
    let (_, rows) = simulate(&pair, 3, 1);
    for r in &rows {
        assert!((r.availability - 0.95).abs() < 1e-12, "{}", r.availability);
    }

    let regions = r#"horizon = "10h"
[global]
mode = "active-active"
failover = "5m"
[[region]]
name = "eu"
[[region]]
name = "us"
[[service]]
name = "api"
regions = ["eu", "us"]
[[fault]]
at = "1h"
duration = "1h"
kind = "crash"
target = "eu"
"#;
    let (s, rows) = simulate(regions, 3, 1);
    let truth = 1.0 - 150.0 / 36_000.0;
    for r in &rows {
        assert!((r.availability - truth).abs() < 1e-12, "{} vs {truth}", r.availability);
        assert!((r.regions[0] - 0.9).abs() < 1e-12, "region eu is down 1 h of 10");
    }
    assert!((s.availability.mean - truth).abs() < 1e-12);
}

/// A fault process (exponential time between faults, mean 9 h; exponential
/// length, mean 1 h) on a replica that never fails by itself is an
/// alternating renewal process: availability 9 / (9 + 1).
#[test]
fn a_fault_process_is_an_alternating_renewal_process() {
    let text = r#"horizon = "2000h"
[[service]]
name = "api"
[[fault]]
kind = "crash"
target = "api"
every = { mean = "9h" }
duration = { mean = "1h" }
"#;
    let (s, _) = simulate(text, 200, 7);
    assert_covers("renewal", 0.9, s.availability.ci95, 0.003);
    assert_excludes("lengths taken as fixed gaps", 0.9 * 0.99, s.availability.ci95);
    let f = &s.faults["crash api"];
    // 2000 h / 10 h a cycle = 200 occurrences a trial, less one partial.
    assert!(
        (f.occurrences_per_trial - 200.0).abs() < 6.0,
        "{}",
        f.occurrences_per_trial
    );
}

// ------------------------------------------------------------- requests

/// Requests to a service with unlimited concurrency take exactly their
/// service time plus the injected delay: fixed 10 ms plus fixed 300 ms, or
/// plus an exponential delay of mean 300 ms (mean 310 ms). A delay on the
/// workload's link adds to the way in.
#[test]
fn latency_injection_adds_its_delay() {
    let base = r#"horizon = "60s"
[[workload]]
name = "users"
to = "api"
rate = 200
[[service]]
name = "api"
service_time = { dist = "fixed", mean = "10ms" }
[[fault]]
at = "0s"
duration = "1h"
kind = "latency"
target = "TARGET"
latency = LATENCY
"#;
    let fixed = base
        .replace("TARGET", "api")
        .replace("LATENCY", "{ dist = \"fixed\", mean = \"300ms\" }");
    let (_, rows) = simulate(&fixed, 3, 1);
    for m in mean_latency(&rows) {
        assert!((m - 0.31).abs() < 1e-9, "{m}");
    }
    let link = base
        .replace("TARGET", "users->api")
        .replace("LATENCY", "{ dist = \"fixed\", mean = \"50ms\" }");
    let (_, rows) = simulate(&link, 3, 1);
    for m in mean_latency(&rows) {
        assert!((m - 0.06).abs() < 1e-9, "{m}");
    }
    let exp = base.replace("TARGET", "api").replace("LATENCY", "{ mean = \"300ms\" }");
    let (_, rows) = simulate(&exp, 20, 1);
    let (_, ci) = t_ci95(&mean_latency(&rows));
    // Requests still in flight at the horizon are not counted, and they
    // are the slow ones. With Poisson arrivals over [0, T] the counted
    // requests number λ(T - E[L]) and their latencies sum to
    // λ(T E[L] - E[L²]) (to within e^(-T/0.3)); L = 10 ms + Exp(300 ms).
    let (t, m) = (60.0, 0.31);
    let second_moment = 0.3 * 0.3 + m * m;
    let truth = (t * m - second_moment) / (t - m);
    assert_covers("exponential delay", truth, ci, 0.006);
}

/// An injected error rate combines with the service's own as independent
/// causes: success (1 - 0.1)(1 - 0.5) = 0.45 while the fault lasts, and
/// over a horizon where it lasts a third of the time, 0.9 (1 - 0.5/3).
#[test]
fn error_injection_combines_with_the_base_rate() {
    let text = r#"horizon = "300s"
[[workload]]
name = "users"
to = "api"
rate = 500
[[service]]
name = "api"
error_rate = 0.1
service_time = { mean = "1ms" }
[[fault]]
name = "errors"
at = "100s"
duration = "100s"
kind = "errors"
target = "api"
error_rate = 0.5
"#;
    let (s, rows) = simulate(text, 20, 2);
    let (_, ci) = t_ci95(&success(&rows));
    assert_covers("overall success", 0.9 * (1.0 - 0.5 / 3.0), ci, 0.003);
    let during = s.faults["errors"].success_ratio_during.as_ref().unwrap();
    assert_covers("success during the fault", 0.45, during.ci95, 0.005);
    assert_excludes("the base rate forgotten", 0.5, during.ci95);
}

/// Losing half the capacity turns an M/M/4 replica into an M/M/2 one: the
/// mean time in system follows Erlang C for two servers.
#[test]
fn capacity_loss_raises_queueing_as_erlang_c_predicts() {
    let text = r#"horizon = "300s"
[[workload]]
name = "users"
to = "api"
rate = 150
[[service]]
name = "api"
concurrency = 4
service_time = { mean = "10ms" }
[[fault]]
at = "0s"
duration = "1h"
kind = "capacity"
target = "api"
capacity = 0.5
"#;
    let (_, rows) = simulate(text, 20, 4);
    let (_, ci) = t_ci95(&mean_latency(&rows));
    let truth = erlang_c_sojourn(2, 150.0, 100.0);
    assert_covers("M/M/2 sojourn", truth, ci, 0.03 * truth);
    assert_excludes("capacity untouched (M/M/4)", erlang_c_sojourn(4, 150.0, 100.0), ci);
}

/// The same dependency lost three ways: a crash refuses connections (the
/// call fails at once, no timeout fires), a partition and a hang leave
/// the caller waiting for its 200 ms timeout.
#[test]
fn a_crash_fails_fast_and_a_partition_or_hang_times_out() {
    let base = r#"horizon = "60s"
[[workload]]
name = "users"
to = "api"
rate = 100
[[service]]
name = "api"
service_time = { dist = "fixed", mean = "1ms" }
[[service.call]]
to = "db"
timeout = "200ms"
[[service]]
name = "db"
service_time = { dist = "fixed", mean = "5ms" }
[[fault]]
at = "0s"
duration = "1h"
kind = "KIND"
target = "TARGET"
"#;
    for (kind, target, latency, timeouts) in [
        ("crash", "db", 0.001, false),
        ("partition", "api->db", 0.201, true),
        ("hang", "db", 0.201, true),
    ] {
        let (s, rows) = simulate(&base.replace("KIND", kind).replace("TARGET", target), 2, 1);
        let r = s.requests.as_ref().unwrap();
        assert_eq!(r.success_ratio.mean, 0.0, "{kind}: nothing can succeed");
        for m in mean_latency(&rows) {
            assert!(
                (m - latency).abs() < 1e-9,
                "{kind}: mean latency {m}, expected {latency}"
            );
        }
        let e = &s.edges["api->db"];
        if timeouts {
            // Attempts sent in the last 200 ms are still waiting at the
            // horizon: about 100/s x 0.2 s = 20.
            let waiting = e.attempts - e.timeouts;
            assert!(
                waiting <= 2 * 30,
                "{kind}: every attempt times out ({waiting} still waiting)"
            );
        } else {
            assert_eq!(e.timeouts, 0, "{kind}: a refused connection is no timeout");
            assert_eq!(e.errors, e.attempts);
        }
    }
}

/// A hung replica accepts requests and never answers; health checks
/// (probes every second, two failures) take it out of the balancer within
/// about two seconds, so only requests sent before that time out.
#[test]
fn health_checks_eject_a_hung_replica() {
    let text = r#"horizon = "120s"
[[workload]]
name = "users"
to = "api"
rate = 200
timeout = "500ms"
[[service]]
name = "api"
topology = "active-active"
replicas = 2
service_time = { mean = "5ms" }
health_check = { interval = "1s", unhealthy = 2 }
[[fault]]
name = "hang"
at = "60s"
duration = "30s"
kind = "hang"
target = "api[0]"
"#;
    let (s, _) = simulate(text, 10, 3);
    let e = &s.edges["users->api"];
    let f = &s.faults["hang"];
    // Half the traffic for 1 to 2 s (up to two probes): 100 to 200 requests.
    let per_trial = e.timeouts as f64 / 10.0;
    assert!((90.0..=210.0).contains(&per_trial), "timeouts per trial {per_trial}");
    let detect = f.time_to_detect_s.unwrap();
    assert!((1.0..=2.0).contains(&detect), "detected after {detect} s");
    assert_eq!(f.detected.as_ref().unwrap().mean, 1.0);
    assert_eq!(f.recovered.as_ref().unwrap().mean, 1.0);
}

/// A request carries a 100 ms deadline to the api, which spends 10 ms and
/// calls the database (10 ms). With the api's clock 95 ms ahead, it reads
/// the deadline as already past and gives up on the call: every request
/// fails. 50 ms ahead still leaves it 40 ms: every request succeeds. A
/// clock behind changes nothing here (the deadline is never near).
#[test]
fn clock_skew_shifts_how_a_service_reads_propagated_deadlines() {
    let text = r#"horizon = "30s"
[[workload]]
name = "users"
to = "api"
rate = 50
deadline = "100ms"
[[service]]
name = "api"
service_time = { dist = "fixed", mean = "10ms" }
[[service.call]]
to = "db"
[[service]]
name = "db"
service_time = { dist = "fixed", mean = "10ms" }
[[fault]]
at = "0s"
duration = "1h"
kind = "clock_skew"
target = "api"
skew = "SKEW"
"#;
    for (skew, success) in [("95ms", 0.0), ("50ms", 1.0), ("-500ms", 1.0)] {
        let (s, _) = simulate(&text.replace("SKEW", skew), 2, 1);
        let got = s.requests.as_ref().unwrap().success_ratio.mean;
        assert_eq!(got, success, "skew {skew}");
    }
}
