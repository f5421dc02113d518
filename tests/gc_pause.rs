//! Stop-the-world pauses (`gc_pause`, issue 20's "GC-pause process
//! triggered by load"): the share of time paused and the capacity left
//! against the closed form, a rate that follows utilisation, bad input,
//! and determinism across thread counts.

use nines::model::trace::Subject;
use nines::model::{Trial, World};

use crate::util::{Dir, assert_covers, assert_excludes, simulate, t_ci95};

/// One replica, one slot, 10 ms fixed: 100 requests a second at most,
/// offered 200 a second into a queue of 100, so it is never idle. One
/// pause a second of running (rate 1), 250 ms each.
const SATURATED: &str = r#"
name = "gc"
horizon = "200s"
[[workload]]
name = "users"
to = "api"
rate = 200
arrival = "constant"
[[service]]
name = "api"
concurrency = 1
queue = 100
service_time = { dist = "fixed", mean = "10ms" }
gc_pause = { rate = 1.0, pause = { dist = "fixed", mean = "250ms" } }
"#;

/// Served requests a second, per trial.
fn served_rates(text: &str, trials: u64) -> Vec<f64> {
    let (_, rows) = simulate(text, trials, 9);
    rows.iter()
        .map(|r| r.traffic.as_ref().unwrap().success as f64 / 200.0)
        .collect()
}

/// Runs of Exp(1 s) between pauses of 250 ms: paused 0.25 / 1.25 = 20 %
/// of the time, and a busy replica serves 100 x 0.8 = 80 requests a
/// second. The naive 100 x (1 - 0.25) = 75 (a rate per second of wall
/// time, not of running) and the unpaused 100 are excluded.
#[test]
fn a_fixed_pause_rate_takes_its_share_of_capacity() {
    let dir = Dir::new();
    dir.write("s.toml", SATURATED);
    let check = dir.nines(&["check", "s.toml"]).ok();
    assert!(
        check.contains("gc pauses: 1 a second of running, mean 250ms: paused 20.0 % of the time at full load (lambda P / (1 + lambda P)), capacity x0.800"),
        "{check}"
    );
    let rates = served_rates(SATURATED, 30);
    let (_, ci) = t_ci95(&rates);
    assert_covers("served/s with gc pauses", 80.0, ci, 1.0);
    assert_excludes("naive share", 75.0, ci);
    assert_excludes("no pause", 100.0, ci);
}

/// With `rate = 0` and `busy_rate = 2`, a saturated replica (its slot
/// always busy, so utilisation 1) pauses 2 a second of running:
/// 0.5 / 1.5 = 1/3 of the time, serving 66.7 a second. An idle-ish
/// replica (1 request a second, utilisation about 1 %) hardly pauses.
#[test]
fn the_pause_rate_follows_utilisation() {
    let busy = SATURATED.replace("rate = 1.0,", "rate = 0.0, busy_rate = 2.0,");
    let rates = served_rates(&busy, 30);
    let (_, ci) = t_ci95(&rates);
    assert_covers("served/s at busy_rate 2", 200.0 / 3.0, ci, 1.0);
    let idle = busy.replace("rate = 200", "rate = 1");
    let sc = nines::scenario::parse("case.toml", "case", &idle, &[]).unwrap();
    let world = World::compile(&sc);
    let (_, trace) = Trial::new(&world).run_traced(sc.seed, 0).expect("no runaway");
    let pauses = trace.events.iter().filter(|e| e.kind == "gc_start").count();
    // Expected 2 x 0.01 x 200 s = 4 pauses; 2 a second at full load would be 400.
    assert!(pauses < 20, "{pauses} pauses at 1 % utilisation");
}

/// The trace's pauses: each lasts the fixed 250 ms, they never overlap,
/// and they cover about 20 % of the horizon.
#[test]
fn the_trace_shows_each_pause() {
    let sc = nines::scenario::parse("case.toml", "case", SATURATED, &[]).unwrap();
    let world = World::compile(&sc);
    let mut share = Vec::new();
    for trial in 0..8 {
        let (_, trace) = Trial::new(&world).run_traced(sc.seed, trial).expect("no runaway");
        let of = |kind: &str| -> Vec<u64> {
            trace
                .events
                .iter()
                .filter(|e| e.kind == kind && e.subject == Subject::Replica(0))
                .map(|e| e.t)
                .collect()
        };
        let (starts, ends) = (of("gc_start"), of("gc_end"));
        assert!(starts.len() > 100, "{}", starts.len());
        assert!(starts.len() - ends.len() <= 1);
        for (i, (s, e)) in starts.iter().zip(&ends).enumerate() {
            assert_eq!(e - s, 250_000_000, "pause {i}");
            if let Some(next) = starts.get(i + 1) {
                assert!(next > e);
            }
        }
        share.push(ends.len() as f64 * 0.25 / 200.0);
    }
    let (_, ci) = t_ci95(&share);
    assert_covers("paused share", 0.2, ci, 0.02);
}

/// The same bytes on 1 and 2 threads.
#[test]
fn gc_pauses_are_the_same_on_one_and_two_threads() {
    let dir = Dir::new();
    dir.write("s.toml", SATURATED);
    let run = |threads: &str| {
        dir.nines(&[
            "run",
            "s.toml",
            "--trials",
            "3",
            "--seed",
            "4",
            "--threads",
            threads,
            "--format",
            "json",
            "--no-write",
        ])
        .ok()
    };
    assert_eq!(run("1"), run("2"));
}

fn bad(text: &str) -> String {
    let dir = Dir::new();
    dir.write("bad.toml", text);
    dir.nines(&["check", "bad.toml"]).bad_input()
}

#[test]
fn bad_gc_pause_keys_are_refused_with_the_key_and_the_fix() {
    let err = bad(&SATURATED.replace("rate = 1.0,", "rate = -1.0,"));
    assert!(err.contains("key `service.api.gc_pause.rate`"), "{err}");
    assert!(err.contains("between 0 and 1000"), "{err}");
    let err = bad(&SATURATED.replace("rate = 1.0,", "rate = 0.0,"));
    assert!(err.contains("pauses nothing"), "{err}");
    let err = bad(&SATURATED
        .replace("rate = 1.0,", "rate = 1.0, busy_rate = 3.0,")
        .replace("concurrency = 1\nqueue = 100\n", ""));
    assert!(err.contains("key `service.api.gc_pause.busy_rate`"), "{err}");
    assert!(err.contains("concurrency is unlimited"), "{err}");
    let err = bad(&SATURATED.replace(", pause = { dist = \"fixed\", mean = \"250ms\" }", ""));
    assert!(err.contains("pause"), "{err}");
    let err = bad(&SATURATED.replace("pause = {", "pauses = {"));
    assert!(err.contains("unknown"), "{err}");
    let idle = SATURATED
        .replace("service_time = { dist = \"fixed\", mean = \"10ms\" }\n", "")
        .replace("to = \"api\"", "to = \"web\"")
        + "[[service]]\nname = \"web\"\nservice_time = { mean = \"1ms\" }\n";
    let err = bad(&idle);
    assert!(err.contains("serves no requests"), "{err}");
}
