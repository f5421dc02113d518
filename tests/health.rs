//! Probes as requests (readiness, liveness, deep), panic routing, and
//! Envoy's interval outlier detectors, end to end: hand-computed restart
//! counts, the deep-check outage and its fixes, the overload-restart loop,
//! bad input, and determinism across thread counts.

use crate::util::{Dir, simulate};

/// One replica serving one request at a time (1 s each) to 10 arrivals a
/// second: the queue grows by 9 s of work every second. Its liveness probe
/// (every 10 s, 1 s timeout, restart on the first failure, 10 s restart)
/// waits behind that queue and fails.
const OVERLOADED: &str = r#"
name = "liveness under overload"
horizon = "100s"
[[workload]]
name = "users"
to = "api"
rate = 10
arrival = "constant"
[[service]]
name = "api"
concurrency = 1
service_time = { dist = "fixed", mean = "1s" }
liveness = { interval = "10s", failures = 1, timeout = "1s", restart = { dist = "fixed", mean = "10s" } }
"#;

/// With the first probe at phase `t0` in [0, 10 s): a probe at a busy
/// replica fails at `t0 + 10k + 1`, restarting it until `t0 + 10k + 11`,
/// so the tick at `t0 + 10(k+1)` finds it restarting and the next one
/// (9 s of arrivals later, 81 s of queue) fails again. Restarts at
/// `t0 + 1, 21, 41, 61, 81` (or, when the first probe lands before the
/// first arrival at 0.1 s and passes, at `t0 + 11, 31, 51, 71, 91`): five
/// in every trial either way.
#[test]
fn an_overloaded_replica_is_restarted_every_other_probe() {
    let (summary, rows) = simulate(OVERLOADED, 12, 3);
    for (i, r) in rows.iter().enumerate() {
        let d = r.traffic.as_ref().unwrap().defence[0];
        assert_eq!(d.restarts, 5, "trial {i}: {d:?}");
        assert_eq!(d.probes_failed, 5, "trial {i}: {d:?}");
    }
    let api = summary.services["api"].requests.as_ref().unwrap();
    assert_eq!(api.restarts, Some(60));
    let probes = api.probes.unwrap();
    assert_eq!(probes.failed, 60);
    assert!((60..=72).contains(&probes.sent), "{probes:?}");
}

/// The same replica with a generous probe (timeout 1 s, but served at 1
/// request a second it never queues): no restart, no failed probe.
#[test]
fn a_replica_with_room_is_never_restarted() {
    let text = OVERLOADED.replace("rate = 10", "rate = 0.5");
    let (summary, _) = simulate(&text, 5, 3);
    let api = summary.services["api"].requests.as_ref().unwrap();
    assert_eq!(api.restarts, Some(0));
    assert_eq!(api.probes.unwrap().failed, 0);
    assert!(api.probes.unwrap().sent >= 5 * 9);
}

/// A restart resets the work in flight: without liveness the overloaded
/// replica answers every request it started (the queue just grows); with
/// it, each restart loses the served and queued jobs.
#[test]
fn a_restart_loses_the_work_in_flight() {
    let quiet = OVERLOADED.replace(
        "liveness = { interval = \"10s\", failures = 1, timeout = \"1s\", restart = { dist = \"fixed\", mean = \"10s\" } }",
        "",
    );
    let (base, _) = simulate(&quiet, 3, 3);
    let (live, _) = simulate(OVERLOADED, 3, 3);
    let b = base.requests.as_ref().unwrap();
    let l = live.requests.as_ref().unwrap();
    assert_eq!(b.failed_ratio.mean, 0.0);
    assert!(l.failed_ratio.mean > 0.5, "{:?}", l.failed_ratio);
    assert!(base.services["api"].requests.as_ref().unwrap().restarts.is_none());
}

fn run_file(path: &str, extra: &[&str]) -> serde_json::Value {
    let dir = Dir::new();
    let root = env!("CARGO_MANIFEST_DIR");
    let file = format!("{root}/{path}");
    let mut args = vec![
        "run",
        file.as_str(),
        "--trials",
        "6",
        "--format",
        "json",
        "--quiet",
        "--no-write",
    ];
    args.extend_from_slice(extra);
    serde_json::from_str(&dir.nines(&args).ok()).expect("json")
}

fn served(v: &serde_json::Value) -> f64 {
    v["requests"]["availability"]["mean"].as_f64().unwrap()
}

/// The deep check ejects all four api replicas for the prefs blip (60 s
/// at 200 requests/s out of 20 min: a share of about 50 / 1200 lost, the
/// blip less the 5-10 s to eject the last replica, plus the 0-5 s to
/// return the first); the shallow probe, and a 50 % panic threshold,
/// keep serving.
#[test]
fn a_deep_check_turns_a_blip_into_an_outage_and_the_fixes_undo_it() {
    let deep = run_file("scenarios/deep-check-outage.toml", &[]);
    let lost = 1.0 - served(&deep);
    assert!((0.035..0.05).contains(&lost), "lost {lost}");
    let api = &deep["services"]["api"]["requests"];
    assert!(api["probes"]["failed"].as_u64().unwrap() >= 6 * 4 * 9, "{api}");
    let shallow = run_file("scenarios/deep-check-fixed.toml", &[]);
    assert!(served(&shallow) > 0.9999, "{}", served(&shallow));
    let panic = run_file(
        "scenarios/deep-check-outage.toml",
        &["--set", "service.api.health_check.panic_threshold=0.5"],
    );
    assert!(served(&panic) > 0.9999, "{}", served(&panic));
}

/// Without `panic_threshold` the balancer spreads over every replica when
/// none is healthy (today's rule), so the deep check costs nothing here.
#[test]
fn without_a_panic_threshold_the_balancer_fails_open() {
    let open = run_file(
        "scenarios/deep-check-outage.toml",
        &["--set", "service.api.health_check.panic_threshold=1"],
    );
    // 1: below 100 % healthy, route to all: health is ignored.
    assert!(served(&open) > 0.9999, "{}", served(&open));
}

/// Envoy's detectors in a run: one replica of five answers every request
/// with an error; consecutive failures are off (a huge threshold), so only
/// the interval detector can eject it.
#[test]
fn the_interval_detectors_eject_the_failing_replica() {
    let text = r#"
horizon = "60s"
[[workload]]
name = "users"
to = "api"
rate = 500
[[service]]
name = "api"
topology = "active-active"
replicas = 5
service_time = { mean = "1ms" }
outlier_detection = { consecutive_failures = 1000000, eject_for = "30s", max_ejected = 0.2, interval = "10s", DETECTOR }
[[fault]]
name = "bad replica"
at = "0s"
duration = "1h"
kind = "errors"
target = "api[0]"
error_rate = 1.0
"#;
    for (detector, field) in [
        (
            "success_rate = { minimum_hosts = 5, request_volume = 100 }",
            "success_rate",
        ),
        (
            "failure_percentage = { threshold = 0.5, minimum_hosts = 5, request_volume = 50 }",
            "failure_percentage",
        ),
    ] {
        let (summary, rows) = simulate(&text.replace("DETECTOR", detector), 4, 9);
        let api = summary.services["api"].requests.as_ref().unwrap();
        let by = api.ejections_by_detector.unwrap();
        // Ejected at 10 s for 30 s, back at 40 s, ejected again at 50 s.
        for r in &rows {
            let d = r.traffic.as_ref().unwrap().defence[0];
            let n = if field == "success_rate" {
                d.ejected_success_rate
            } else {
                d.ejected_failure_percentage
            };
            assert_eq!(n, 2, "{field}: {d:?}");
        }
        assert_eq!(by.consecutive, 0, "{field}");
        assert_eq!(api.ejections, 8, "{field}");
    }
}

#[test]
fn probes_are_deterministic_across_thread_counts() {
    let dir = Dir::new();
    let root = env!("CARGO_MANIFEST_DIR");
    let file = format!("{root}/scenarios/deep-check-outage.toml");
    let one = dir.nines(&[
        "run",
        &file,
        "--trials",
        "4",
        "--threads",
        "1",
        "--format",
        "json",
        "--no-write",
        "--quiet",
    ]);
    let two = dir.nines(&[
        "run",
        &file,
        "--trials",
        "4",
        "--threads",
        "2",
        "--format",
        "json",
        "--no-write",
        "--quiet",
    ]);
    assert_eq!(one.ok(), two.ok());
    let text = OVERLOADED.to_string();
    dir.write("o.toml", &text);
    let one = dir.nines(&[
        "run",
        "o.toml",
        "--trials",
        "4",
        "--threads",
        "1",
        "--format",
        "json",
        "--no-write",
        "--quiet",
    ]);
    let two = dir.nines(&[
        "run",
        "o.toml",
        "--trials",
        "4",
        "--threads",
        "2",
        "--format",
        "json",
        "--no-write",
        "--quiet",
    ]);
    assert_eq!(one.ok(), two.ok());
}

/// Runs `check` on `text`; returns stderr, asserting exit code 2.
fn bad(text: &str) -> String {
    let dir = Dir::new();
    dir.write("bad.toml", text);
    dir.nines(&["check", "bad.toml"]).bad_input()
}

#[test]
fn bad_probe_keys_are_refused_with_the_key_and_the_fix() {
    let base = OVERLOADED.to_string();
    let err = bad(&base.replace("failures = 1,", "failures = 0,"));
    assert!(err.contains("service.api.liveness.failures"), "{err}");
    let err = bad(&base.replace("timeout = \"1s\"", "timeout = \"20s\""));
    assert!(err.contains("service.api.liveness.timeout"), "{err}");
    assert!(err.contains("longer than its interval"), "{err}");
    let err = bad(&base.replace("timeout = \"1s\"", "timeout = \"0s\""));
    assert!(err.contains("must be longer than zero"), "{err}");
    let err = bad(&base.replace("failures = 1,", "deep = [\"db\"],"));
    assert!(err.contains("service.api.liveness.deep"), "{err}");
    assert!(err.contains("makes no calls"), "{err}");
    let err = bad(&base.replace("restart = { dist = \"fixed\", mean = \"10s\" }", "restart = \"10s\""));
    assert!(err.contains("key `restart`"), "{err}");
    let err = bad(&base.replace("liveness = {", "liveness = { period = \"1s\","));
    assert!(err.contains("unknown key"), "{err}");
    let hc = base.replace(
        "liveness = {",
        "health_check = { timeout = \"1s\", panic_threshold = 1.5 }\nliveness = {",
    );
    let err = bad(&hc);
    assert!(err.contains("service.api.health_check.panic_threshold"), "{err}");
    let deep = r#"
[[workload]]
name = "users"
to = "api"
rate = 1
[[service]]
name = "api"
service_time = { mean = "1ms" }
health_check = { deep = ["dbx"] }
[[service.call]]
to = "db"
[[service]]
name = "db"
service_time = { mean = "1ms" }
"#;
    let err = bad(deep);
    assert!(err.contains("\"dbx\" is not one of this service's calls"), "{err}");
    assert!(err.contains("name one of: db"), "{err}");
    let no_requests = r#"
[[service]]
name = "api"
liveness = { interval = "10s" }
"#;
    let err = bad(no_requests);
    assert!(err.contains("probes are requests"), "{err}");
}

#[test]
fn bad_detector_keys_are_refused() {
    let base = r#"
[[workload]]
name = "users"
to = "api"
rate = 1
[[service]]
name = "api"
replicas = 2
topology = "active-active"
service_time = { mean = "1ms" }
outlier_detection = { OD }
"#;
    let err = bad(&base.replace("OD", "success_rate = { stdev_factor = -1 }"));
    assert!(err.contains("outlier_detection.success_rate.stdev_factor"), "{err}");
    let err = bad(&base.replace("OD", "failure_percentage = { threshold = 85 }"));
    assert!(err.contains("outlier_detection.failure_percentage.threshold"), "{err}");
    let err = bad(&base.replace("OD", "interval = \"0s\", success_rate = {}"));
    assert!(err.contains("outlier_detection.interval"), "{err}");
    let err = bad(&base.replace("OD", "success_rate = { request_volume = 0 }"));
    assert!(err.contains("outlier_detection.success_rate.request_volume"), "{err}");
    let err = bad(&base.replace("OD", "failure_percentage = { volume = 3 }"));
    assert!(err.contains("unknown key"), "{err}");
}
