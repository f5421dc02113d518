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
        "horizon = \"1y\"\nrequest_sampling = \"full\"\n[[workload]]\nname = \"users\"\nto = \"api\"\nrate = 1000\n[[service]]\nname = \"api\"\nservice_time = { mean = \"1ms\" }\n",
    );
    // (Left to `auto`, this model runs windowed, whose requests fit.)
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

#[test]
fn trials_beyond_the_limit_are_refused_not_a_capacity_overflow_or_an_8_tb_allocation() {
    let dir = Dir::new();
    dir.write("a.toml", crate::util::SMALL);
    dir.write("b.toml", crate::util::SMALL);
    for args in [
        &["compare", "a.toml", "b.toml", "--trials", "4611686018427387904"][..],
        &["compare", "a.toml", "b.toml", "--trials", "1000000000000"],
        &["compare", "a.toml", "b.toml", "--trials", "1e12"],
        &["run", "a.toml", "--trials", "1000000000001"],
        &[
            "sweep",
            "a.toml",
            "--vary",
            "service.api.replicas=1,2",
            "--trials",
            "18446744073709551615",
        ],
        &["run", "a.toml", "--precision", "0.1", "--max-trials", "10000000000000"],
    ] {
        let err = dir.nines_within(args, std::time::Duration::from_secs(30)).bad_input();
        assert!(
            err.contains("must be between 1 and 1000000000") || err.contains("invalid value '1e12'"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn threads_beyond_the_limit_are_refused_at_once_not_after_starting_them() {
    let dir = Dir::new();
    dir.write("a.toml", crate::util::SMALL);
    let start = std::time::Instant::now();
    let err = dir
        .nines_within(
            &["run", "a.toml", "--threads", "100000"],
            std::time::Duration::from_secs(30),
        )
        .bad_input();
    assert!(
        err.contains("--threads must be between 1 and 1024, found 100000"),
        "{err}"
    );
    assert!(!err.contains("Some("), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}

/// A chain of `n` services, each calling the next; the last calls `back`
/// when given (a cycle through the whole chain).
fn chain(n: usize, back: Option<usize>) -> String {
    let mut t = String::from("horizon = \"1d\"\ntrials = 2\n");
    for i in 0..n {
        t.push_str(&format!("[[service]]\nname = \"s{i}\"\n"));
        if i + 1 < n {
            t.push_str(&format!("[[service.call]]\nto = \"s{}\"\n", i + 1));
        } else if let Some(b) = back {
            t.push_str(&format!("[[service.call]]\nto = \"s{b}\"\n"));
        }
    }
    t
}

#[test]
fn a_100000_service_call_chain_does_not_overflow_the_stack_in_validation_and_checks_in_linear_time() {
    let dir = Dir::new();
    dir.write("chain.toml", &chain(100_000, None));
    // Quadratic walks took over a minute at 50,000 services, so over four
    // at this size: the kill fails them, with a margin of several times a
    // linear check's few seconds for a loaded machine (a tighter wall-clock
    // bound failed a linear check on a busy host).
    let limit = std::time::Duration::from_secs(120);
    let out = dir.nines_within(&["check", "chain.toml"], limit).ok();
    assert!(out.contains("s99999"), "{}", &out[..out.len().min(500)]);
    // A cycle through the whole chain is found without recursion too.
    dir.write("cycle.toml", &chain(100_000, Some(0)));
    let err = dir.nines_within(&["check", "cycle.toml"], limit).bad_input();
    assert!(
        err.contains("the calls form a cycle: s0 -> s1 -> s2"),
        "{}",
        &err[..err.len().min(500)]
    );
}

#[test]
fn a_trace_of_a_1000_service_chain_with_100ms_buckets_is_refused_by_its_rows_not_out_of_memory() {
    let dir = Dir::new();
    let mut t = String::from(
        "horizon = \"100000s\"\ntrials = 1\n[cascade]\nbucket = \"100ms\"\n[[workload]]\nname = \"w\"\nto = \"s0\"\nrate = 1\n",
    );
    for i in 0..1000 {
        t.push_str(&format!(
            "[[service]]\nname = \"s{i}\"\nservice_time = {{ mean = \"1ms\" }}\n"
        ));
        if i + 1 < 1000 {
            t.push_str(&format!("[[service.call]]\nto = \"s{}\"\n", i + 1));
        }
    }
    dir.write("trace.toml", &t);
    let err = dir
        .nines_within(
            &["trace", "trace.toml", "--out", "t"],
            std::time::Duration::from_secs(30),
        )
        .bad_input();
    assert!(
        err.contains("2000 rows each") && err.contains("--set cascade.bucket=40s"),
        "{err}"
    );
}

/// A request-level scenario with a crash fault process starting again
/// 1 ns (on average) after each 1 ms occurrence: about 2.6e9 occurrences
/// in 30 days. It used to run forever.
const FAULT_STORM: &str = r#"
horizon = "30d"
trials = 2
[[workload]]
name = "users"
to = "web"
rate = 10
[[service]]
name = "web"
service_time = { mean = "1ms" }
[[service.call]]
to = "db"
[[service]]
name = "db"
service_time = { mean = "1ms" }
[[fault]]
name = "flap"
kind = "crash"
target = "db"
every = { mean = "1ns" }
duration = "1ms"
"#;

#[test]
fn a_fault_process_every_nanosecond_is_refused_by_the_estimate_before_running() {
    let dir = Dir::new();
    dir.write("flap.toml", FAULT_STORM);
    let limit = std::time::Duration::from_secs(30);
    for args in [&["check", "flap.toml"][..], &["run", "flap.toml", "--out", "o"]] {
        let err = dir.nines_within(args, limit).bad_input();
        assert!(err.contains("flap.toml:"), "{err}");
        assert!(err.contains("key `fault.flap.every`"), "{err}");
        assert!(err.contains("(5.184e9 of them fault starts and ends here)"), "{err}");
        assert!(err.contains("longer `every` mean"), "{err}");
    }
    // The same process, rarer, is within the budget and runs.
    let calm = FAULT_STORM.replace("mean = \"1ns\"", "mean = \"6h\"");
    dir.write("calm.toml", &calm);
    dir.nines_within(&["check", "calm.toml"], limit).ok();
}

#[test]
fn the_probe_of_a_long_fault_with_fine_buckets_is_counted() {
    let dir = Dir::new();
    // One crash lasting the whole 10 years, measured every millisecond:
    // 3.2e11 probes.
    let text = FAULT_STORM
        .replace("horizon = \"30d\"", "horizon = \"10y\"")
        .replace("trials = 2", "trials = 2\n[cascade]\nbucket = \"1ms\"")
        .replace("every = { mean = \"1ns\" }\nduration = \"1ms\"", "duration = \"10y\"");
    dir.write("probe.toml", &text);
    let err = dir
        .nines_within(&["check", "probe.toml"], std::time::Duration::from_secs(30))
        .bad_input();
    assert!(err.contains("key `cascade.bucket`"), "{err}");
    assert!(err.contains("probes measuring fault impact"), "{err}");
}

#[test]
fn the_event_estimate_of_the_library_counts_fault_processes() {
    let sc =
        nines::scenario::parse("calm.toml", "calm", &FAULT_STORM.replace("\"1ns\"", "\"1h\""), &[]).expect("valid");
    // 30 days of 1 h + 1 ms cycles: about 720 occurrences, a start and an
    // end each, plus the arrivals (10/s) and the probes.
    let arrivals = 10.0 * 30.0 * 86400.0;
    let est = nines::scenario::limits::events_per_trial(&sc);
    assert!(est >= arrivals + 2.0 * 720.0, "{est}");
    let without = nines::scenario::parse("none.toml", "none", FAULT_STORM.split("[[fault]]").next().unwrap(), &[])
        .expect("valid");
    assert!(nines::scenario::limits::events_per_trial(&without) < est);
}

/// `requires` (every call but a fallback) of a 100,000-service chain,
/// ordered on a thread with a 256 KiB stack: a recursive walk needs far
/// more, so this overflows (and aborts the suite) if recursion returns.
#[test]
fn a_100000_service_chain_compiles_on_a_small_stack() {
    let text = chain(100_000, None);
    let sc = nines::scenario::parse("chain.toml", "chain", &text, &[]).expect("valid");
    let done = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let world = nines::model::World::compile(&sc);
            world.services.len()
        })
        .expect("spawn")
        .join()
        .expect("compile");
    assert_eq!(done, 100_000);
}
