//! Fault processes far faster than their occurrences can end and recover:
//! millions of occurrences open at once. The fault component's books cost
//! O(log open) per event (they once walked every open occurrence at each
//! fault end: a hang no budget saw), and the work done inside events is
//! counted against `limits.events_per_trial`, so such a run either
//! finishes in seconds or stops with the budget's message (exit 2).

use std::fs::File;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::Dir;

/// A crash on one replica every microsecond, lasting a microsecond: each
/// occurrence stays open for the 10 s of `cascade.settle`, longer than the
/// horizon, so about 2 million are open at the end; an error fault with
/// 5 s occurrences keeps the buckets judged.
const FLAP: &str = r#"horizon = "4s"
[[workload]]
name = "users"
to = "api"
rate = 100
[[service]]
name = "api"
topology = "active-active"
replicas = 2
service_time = { mean = "1ms" }
[[fault]]
name = "flap"
kind = "crash"
target = "api[0]"
every = { mean = "1us" }
duration = { mean = "1us" }
[[fault]]
name = "long"
kind = "errors"
target = "api[1]"
error_rate = 0.01
every = { mean = "1us" }
duration = { mean = "5s" }
"#;

/// Runs `nines ARGS` in `d`, killed after `limit` of wall-clock time (a
/// hang fails the test instead of holding the suite). Returns the exit
/// code, stdout and stderr.
fn nines_killed_after(d: &Dir, args: &[&str], limit: Duration) -> (i32, String, String) {
    let (out, err) = (d.path_of("killed.stdout"), d.path_of("killed.stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_nines"))
        .args(args)
        .current_dir(d.path_of(""))
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(File::create(&out).expect("stdout file"))
        .stderr(File::create(&err).expect("stderr file"))
        .spawn()
        .expect("start nines");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for nines") {
            break status;
        }
        if started.elapsed() > limit {
            child.kill().expect("kill nines");
            child.wait().expect("reap nines");
            panic!("nines {args:?} still ran after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p| std::fs::read_to_string(p).expect("read output");
    (status.code().unwrap_or(-1), read(&out), read(&err))
}

#[test]
fn a_fault_every_microsecond_with_millions_open_finishes_in_seconds() {
    let d = Dir::new();
    let f = d.write("flap.toml", FLAP);
    let f = f.to_str().unwrap();
    let args = ["run", f, "--trials", "1", "--quiet", "--format", "json", "--no-write"];
    let (code, out, err) = nines_killed_after(&d, &args, Duration::from_secs(60));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let flap = &v["faults"]["flap"];
    let n = flap["occurrences_per_trial"].as_f64().expect("occurrences");
    assert!(n > 1.5e6, "about 2 million occurrences: {n}");
    // None ended early enough to be judged (settle is 10 s); each one was
    // seen by the probe and none detected (api has no health check).
    assert!(flap["recovered"].is_null(), "{flap}");
    assert_eq!(flap["detected"]["of"].as_f64(), Some(n), "{flap}");
    assert_eq!(flap["detected"]["mean"], 0.0, "{flap}");
    assert!(v["events"].as_f64().expect("events") > 2.0 * n, "{v}");
}

#[test]
fn the_work_inside_events_counts_against_the_event_budget() {
    let d = Dir::new();
    let f = d.write("flap.toml", FLAP);
    let f = f.to_str().unwrap();
    let args = ["run", f, "--trials", "1", "--quiet", "--format", "json", "--no-write"];
    let (code, out, err) = nines_killed_after(&d, &args, Duration::from_secs(60));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let events = v["events"].as_u64().expect("events");
    // A budget the events alone stay well within (and above the estimate
    // `check` makes before running, about one event per fault start and
    // end): the work of the fault component (an open occurrence judged, a
    // replica held and released) tips it over.
    let limit = events + events / 4;
    let budget = format!("limits.events_per_trial={limit}");
    let args = ["run", f, "--trials", "1", "--quiet", "--set", &budget];
    let (code, _, err) = nines_killed_after(&d, &args, Duration::from_secs(60));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("stopped at simulated time"), "{err}");
    assert!(
        err.contains(&format!(
            "budget of {limit} events (limits.events_per_trial), counting the work done inside events"
        )),
        "{err}"
    );
    assert!(err.contains("fault \"flap\" started"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
