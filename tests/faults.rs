//! Injected faults: each kind has its specific effect, checked against
//! exact arithmetic or queueing theory where one exists; cascades
//! (a metastable failure, a region loss with too little capacity) show
//! the outcome their design predicts; bad fault tables are rejected with
//! the key named; `nines trace` tells one trial's story.

use nines::model::TrialResult;

use crate::util::{Dir, assert_covers, assert_excludes, erlang_c, mean_latency, simulate, t_ci95};

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

/// Mean time in system of M/M/c: the Erlang C wait plus the service.
fn erlang_c_sojourn(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda) + 1.0 / mu
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

// ------------------------------------------------------------- cascades

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

// --------------------------------------------------------- bad input, CLI

#[test]
fn bad_fault_tables_are_rejected_with_the_key_named() {
    let d = Dir::new();
    let head = "horizon = \"1h\"\n[[workload]]\nname = \"users\"\nto = \"api\"\nrate = 10\n[[service]]\nname = \"api\"\nservice_time = { mean = \"1ms\" }\n[[service.call]]\nto = \"db\"\n[[service]]\nname = \"db\"\nservice_time = { mean = \"1ms\" }\n";
    let cases = [
        (
            "kind = \"crahs\"\ntarget = \"db\"\nduration = \"1m\"",
            "fault[0].kind",
            "did you mean \"crash\"",
        ),
        (
            "kind = \"crash\"\ntarget = \"dbb\"\nduration = \"1m\"",
            "fault[0].target",
            "did you mean \"db\"",
        ),
        (
            "kind = \"crash\"\ntarget = \"db[3]\"\nduration = \"1m\"",
            "fault[0].target",
            "has 1 replicas",
        ),
        (
            "kind = \"partition\"\ntarget = \"db\"\nduration = \"1m\"",
            "fault[0].target",
            "needs a link",
        ),
        (
            "kind = \"partition\"\ntarget = \"db->api\"\nduration = \"1m\"",
            "fault[0].target",
            "does not call",
        ),
        (
            "kind = \"latency\"\ntarget = \"db\"\nduration = \"1m\"",
            "fault[0].latency",
            "needs the added delay",
        ),
        (
            "kind = \"crash\"\ntarget = \"db\"\nduration = \"1m\"\nerror_rate = 0.5",
            "fault[0].error_rate",
            "applies to kind = \"errors\"",
        ),
        (
            "kind = \"capacity\"\ntarget = \"db\"\nduration = \"1m\"\ncapacity = 0.5",
            "fault[0].target",
            "unlimited concurrency",
        ),
        (
            "kind = \"crash\"\ntarget = \"db\"\nduration = \"0s\"",
            "fault[0].duration",
            "longer than zero",
        ),
        (
            "kind = \"crash\"\ntarget = \"db\"\nduration = \"1m\"\nevery = { dist = \"weibul\", mean = \"1h\" }",
            "fault[0].every.dist",
            "did you mean \"weibull\"",
        ),
        (
            "kind = \"crash\"\ntarget = \"db\"\nduration = 5",
            "duration",
            "a duration like",
        ),
    ];
    for (i, (fault, key, says)) in cases.iter().enumerate() {
        let p = d.write(&format!("f{i}.toml"), &format!("{head}[[fault]]\n{fault}\n"));
        let err = d.nines(&["check", p.to_str().unwrap()]).bad_input();
        assert!(err.contains(key), "case {i}: no key {key} in:\n{err}");
        assert!(err.contains(says), "case {i}: no \"{says}\" in:\n{err}");
        assert!(
            err.contains(&format!("f{i}.toml:")),
            "case {i}: no file:line in:\n{err}"
        );
    }
    // Request-only kinds need a workload.
    let p = d.write(
        "tb.toml",
        "[[service]]\nname = \"db\"\n[[fault]]\nkind = \"errors\"\ntarget = \"db\"\nduration = \"1m\"\nerror_rate = 0.5\n",
    );
    let err = d.nines(&["check", p.to_str().unwrap()]).bad_input();
    assert!(err.contains("acts on requests"), "{err}");
    // --set reaches a named fault.
    let p = d.write(
        "named.toml",
        &format!("{head}[[fault]]\nname = \"x\"\nkind = \"crash\"\ntarget = \"db\"\nduration = \"1m\"\n"),
    );
    d.nines(&["check", p.to_str().unwrap(), "--set", "fault.x.duration=2m"])
        .ok();
    let err = d
        .nines(&["check", p.to_str().unwrap(), "--set", "fault.y.duration=2m"])
        .bad_input();
    assert!(err.contains("no fault is named \"y\""), "{err}");
}

const TRACED: &str = r#"name = "traced"
horizon = "2m"
trials = 4
seed = 9
[[workload]]
name = "users"
to = "api"
rate = 100
timeout = "300ms"
[[service]]
name = "api"
topology = "active-active"
replicas = 2
concurrency = 8
service_time = { mean = "5ms" }
health_check = { interval = "2s", unhealthy = 2 }
[[service.call]]
to = "db"
timeout = "100ms"
retry = { max_attempts = 2 }
circuit_breaker = { failure_threshold = 5, open_for = "5s" }
[[service]]
name = "db"
service_time = { mean = "2ms" }
[[fault]]
name = "api0 down"
at = "20s"
duration = "20s"
kind = "crash"
target = "api[0]"
[[fault]]
name = "db cut"
at = "60s"
duration = "10s"
kind = "partition"
target = "api->db"
"#;

/// Fault scenarios give the same bytes on any thread count.
#[test]
fn fault_runs_are_identical_on_any_thread_count() {
    let d = Dir::new();
    let p = d.write("traced.toml", TRACED);
    let p = p.to_str().unwrap();
    d.nines(&["run", p, "--threads", "1", "--out", "one", "--quiet"]).ok();
    d.nines(&["run", p, "--threads", "2", "--out", "two", "--quiet"]).ok();
    assert_eq!(d.read("one/summary.json"), d.read("two/summary.json"));
    assert_eq!(d.read("one/trials.csv"), d.read("two/trials.csv"));
    let timeline = d.read("one/timeline.csv");
    assert_eq!(timeline, d.read("two/timeline.csv"));
    assert_eq!(timeline.lines().count(), 61, "a header and 60 buckets");
    // The cut of api->db (60 s to 70 s of 120 s) is in buckets 30 to 35:
    // the entry's success ratio falls there; it is back once the breaker
    // (open for 5 s) has closed again, and high outside both faults.
    let success: Vec<f64> = timeline
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    for (b, x) in success.iter().enumerate() {
        if (30..35).contains(&b) {
            assert!(*x < 0.5, "bucket {b}: {x}");
        } else if !(10..21).contains(&b) && !(35..40).contains(&b) {
            assert!(*x > 0.95, "bucket {b}: {x}");
        }
    }
    let header = d.read("one/trials.csv");
    let header = header.lines().next().unwrap();
    assert!(header.ends_with(
        "fault.api0 down.occurrences,fault.api0 down.success_ratio_during,fault.api0 down.recovered,\
         fault.api0 down.metastable,fault.db cut.occurrences,fault.db cut.success_ratio_during,\
         fault.db cut.recovered,fault.db cut.metastable"
    ));
}

/// `nines trace` writes the story of one trial: the events in order, a
/// bucket per second, and JSON Lines that parse; and its trial is the
/// same trial as in `run`.
#[test]
fn trace_tells_the_story_of_one_trial() {
    let d = Dir::new();
    let p = d.write("traced.toml", TRACED);
    let p = p.to_str().unwrap();
    let out = d.nines(&["trace", p, "--trial", "2", "--out", "tr"]).ok();
    assert!(out.contains("trial 2"), "{out}");
    let events = d.read("tr/events.csv");
    let kinds: Vec<(f64, &str, &str)> = events
        .lines()
        .skip(1)
        .map(|l| {
            let mut it = l.splitn(3, ',');
            (
                it.next().unwrap().parse().unwrap(),
                it.next().unwrap(),
                it.next().unwrap(),
            )
        })
        .collect();
    let at = |kind: &str, subject: &str| {
        kinds
            .iter()
            .find(|(_, k, s)| *k == kind && *s == subject)
            .unwrap_or_else(|| panic!("no {kind} {subject} in\n{events}"))
            .0
    };
    assert_eq!(at("fault_start", "api0 down"), 20.0);
    assert_eq!(at("replica_down", "api[0]"), 20.0);
    let unhealthy = at("unhealthy", "api[0]");
    assert!((22.0..=24.0).contains(&unhealthy), "{unhealthy}");
    assert_eq!(at("fault_end", "api0 down"), 40.0);
    assert_eq!(at("replica_up", "api[0]"), 40.0);
    assert!(at("healthy", "api[0]") > 40.0);
    assert_eq!(at("fault_start", "db cut"), 60.0);
    let open = at("breaker_open", "api->db");
    assert!(
        (60.0..=62.0).contains(&open),
        "the breaker opens within the cut: {open}"
    );
    assert!(at("degraded", "db") <= 61.0);
    let times: Vec<f64> = kinds.iter().map(|k| k.0).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "events in time order");

    let buckets = d.read("tr/buckets.csv");
    assert_eq!(buckets.lines().count(), 1 + 120, "a header and one row per second");
    assert!(buckets.lines().next().unwrap().contains("edge.api->db.breaker"));
    for line in d.read("tr/trace.jsonl").lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("every line is JSON");
        assert!(v["type"] == "event" || v["type"] == "bucket");
    }

    // The traced trial is trial 2 of `run`.
    d.nines(&["run", p, "--out", "run", "--quiet"]).ok();
    let csv = d.read("run/trials.csv");
    let row2: Vec<&str> = csv.lines().nth(3).unwrap().split(',').collect();
    let requests_col = csv
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == "requests")
        .unwrap();
    assert!(
        out.contains(&format!("requests {} ", row2[requests_col])),
        "trace and run disagree on trial 2:\n{out}\n{}",
        row2.join(",")
    );
}
