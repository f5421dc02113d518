//! Limits and budgets: sizes that would exhaust memory or never finish are
//! refused at validation with a message saying what to change; runaway
//! models stop at a per-trial budget of events or of requests in flight
//! with an error naming the part and the simulated time (exit 2), the same
//! on any thread count.

use crate::util::Dir;

/// A retry storm into an unbounded queue: db serves one request at a time
/// for 50 ms, web times out after 10 ms and retries at once, so work piles
/// up in db's queue without end.
const STORM: &str = r#"
horizon = "2m"
trials = 3
[[workload]]
name = "users"
to = "web"
rate = 100
[[service]]
name = "web"
topology = "active-active"
replicas = 2
service_time = { mean = "1ms" }
[[service.call]]
to = "db"
timeout = "10ms"
retry = { max_attempts = 5, backoff = "constant", base = "0ms" }
[[service]]
name = "db"
concurrency = 1
service_time = { dist = "fixed", mean = "50ms" }
"#;

#[test]
fn too_many_replicas_is_refused_with_the_service_named() {
    let d = Dir::new();
    let regions: String = (0..11).map(|i| format!("[[region]]\nname = \"r{i}\"\n")).collect();
    let names: Vec<String> = (0..11).map(|i| format!("\"r{i}\"")).collect();
    let f = d.write(
        "big.toml",
        &format!(
            "{regions}[[service]]\nname = \"fleet\"\ntopology = \"active-active\"\nreplicas = 10000\nregions = [{}]\n",
            names.join(", ")
        ),
    );
    let err = d.nines(&["check", f.to_str().unwrap()]).bad_input();
    assert!(err.contains("big.toml:"), "{err}");
    assert!(err.contains("key `service.fleet.replicas`"), "{err}");
    assert!(err.contains("110000 replicas") && err.contains("100000"), "{err}");
}

#[test]
fn a_failure_loop_too_fast_for_the_horizon_is_refused() {
    let d = Dir::new();
    let f = d.write(
        "fast.toml",
        "horizon = \"100y\"\n[[service]]\nname = \"api\"\nfailure = { mean = \"1s\" }\nrepair = { mean = \"1s\" }\n",
    );
    let err = d.nines(&["check", f.to_str().unwrap()]).bad_input();
    assert!(err.contains("key `service.api.failure`"), "{err}");
    assert!(err.contains("limits.events_per_trial = 500000000"), "{err}");
    assert!(err.contains("shorten horizon"), "{err}");
    // Raising the budget is the documented way out.
    d.nines(&[
        "check",
        f.to_str().unwrap(),
        "--set",
        "limits.events_per_trial=1000000000000",
    ])
    .ok();
}

#[test]
fn a_workload_too_heavy_for_the_horizon_is_refused() {
    let d = Dir::new();
    let f = d.write(
        "heavy.toml",
        "horizon = \"1y\"\n[[workload]]\nname = \"users\"\nto = \"api\"\nrate = 1000\n[[service]]\nname = \"api\"\nservice_time = { mean = \"1ms\" }\n",
    );
    let err = d.nines(&["check", f.to_str().unwrap()]).bad_input();
    assert!(err.contains("key `workload.users.rate`"), "{err}");
    assert!(err.contains("arrivals drawn"), "{err}");
}

#[test]
fn a_huge_burst_is_costed_at_its_peak_rate() {
    // Poisson arrivals are drawn by thinning at the peak rate: a 1 ns burst
    // of factor 1e9 costs 1e9 draws a second over the whole horizon.
    let d = Dir::new();
    let f = d.write(
        "burst.toml",
        "horizon = \"1h\"\n[[workload]]\nname = \"w\"\nto = \"api\"\nrate = 1\n[[workload.burst]]\nat = \"10m\"\nduration = \"1ns\"\nfactor = 1e9\n[[service]]\nname = \"api\"\nservice_time = { mean = \"1ms\" }\n",
    );
    let err = d.nines(&["run", f.to_str().unwrap(), "--quiet"]).bad_input();
    assert!(
        err.contains("key `workload.w.rate`") && err.contains("3.600e12 events"),
        "{err}"
    );
    assert!(err.contains("at the peak rate"), "{err}");
}

#[test]
fn bad_budgets_are_refused() {
    let d = Dir::new();
    let f = d.write(
        "b.toml",
        "[limits]\nevents_per_trial = 0\nin_flights = 5\n[[service]]\nname = \"api\"\n",
    );
    let err = d.nines(&["check", f.to_str().unwrap()]).bad_input();
    assert!(err.contains("in_flights"), "{err}");
    let f = d.write(
        "b2.toml",
        "[limits]\nevents_per_trial = 0\n[[service]]\nname = \"api\"\n",
    );
    let err = d.nines(&["check", f.to_str().unwrap()]).bad_input();
    assert!(
        err.contains("key `limits.events_per_trial`: must be between 1"),
        "{err}"
    );
    let err = d
        .nines(&["check", f.to_str().unwrap(), "--set", "limits.in_flite=3"])
        .bad_input();
    assert!(err.contains("valid keys here: events_per_trial, in_flight"), "{err}");
}

#[test]
fn a_retry_storm_stops_at_the_in_flight_budget_naming_the_queue() {
    let d = Dir::new();
    let f = d.write("storm.toml", &format!("{STORM}[limits]\nin_flight = 2000\n"));
    let err = d.nines(&["run", f.to_str().unwrap(), "--quiet"]).bad_input();
    assert!(err.contains("trial 0 stopped at simulated time"), "{err}");
    assert!(err.contains("more than 2000 calls and jobs were in flight"), "{err}");
    assert!(err.contains("service \"db\" has"), "{err}");
    assert!(err.contains("requests queued"), "{err}");
    assert!(err.contains("bound the queue"), "{err}");
    assert!(!d.path_of("output/storm/summary.json").exists(), "no result is written");
    // The same trial, the same words, on any thread count.
    for threads in ["1", "2", "3"] {
        let again = d
            .nines(&["run", f.to_str().unwrap(), "--quiet", "--threads", threads])
            .bad_input();
        assert_eq!(again, err, "threads {threads}");
    }
}

#[test]
fn a_busy_model_stops_at_the_event_budget_naming_a_part() {
    let d = Dir::new();
    // 12000 arrivals are within 50000 events, but every request makes many
    // more events (retries, timeouts, service completions).
    let f = d.write("storm.toml", STORM);
    let err = d
        .nines(&[
            "run",
            f.to_str().unwrap(),
            "--quiet",
            "--set",
            "limits.events_per_trial=50000",
        ])
        .bad_input();
    assert!(err.contains("stopped at simulated time"), "{err}");
    assert!(
        err.contains("budget of 50000 events (limits.events_per_trial)"),
        "{err}"
    );
    assert!(
        err.contains("service \"db\" owns") || err.contains("edge \"web->db\" owns"),
        "{err}"
    );
}

#[test]
fn within_budget_the_storm_runs_and_default_budgets_hold() {
    // A bounded queue keeps the same storm within the default budgets.
    let d = Dir::new();
    let f = d.write(
        "bounded.toml",
        &STORM.replace("concurrency = 1\n", "concurrency = 1\nqueue = 50\n"),
    );
    d.nines(&["run", f.to_str().unwrap(), "--quiet", "--format", "json"])
        .ok();
}

#[test]
fn the_library_reports_a_runaway_as_input_error() {
    let mut sc = nines::scenario::parse("storm.toml", "storm", STORM, &[]).expect("valid");
    sc.limits.in_flight = 500;
    let err = nines::simulate(&sc, &nines::RunOptions::default(), |_, _| Ok(())).unwrap_err();
    assert!(matches!(err, nines::Error::Runaway(_)), "{err}");
    assert_eq!(err.exit_code(), 2);
}
