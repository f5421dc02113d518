//! A liveness restart cures a hung replica (issue 20): the restart comes
//! within `failures x interval + timeout` of the hang (the `check` line's
//! figure), the replica serves afterwards while the fault still runs,
//! the fault's end does not let go of it twice nor bring back a replica a
//! crash still holds, and without liveness the hang lasts to the fault's
//! end.

use nines::model::trace::{Subject, Trace};
use nines::model::{Trial, World};

use crate::util::Dir;

const S: u64 = 1_000_000_000;

/// Two replicas (4 slots of 10 ms) under 20 requests a second; both hang
/// from 50 s to 150 s. Liveness every 10 s, 3 failures, 1 s timeout,
/// fixed 5 s restarts: the restart comes at 50 + d + 2 x 10 + 1 with the
/// first failing probe d in [0, 10) s after the hang, so within
/// [71, 81] s.
const HUNG: &str = r#"
name = "hung"
horizon = "200s"
[[workload]]
name = "users"
to = "api"
rate = 20
timeout = "1s"
[[service]]
name = "api"
topology = "active-active"
replicas = 2
concurrency = 4
service_time = { dist = "fixed", mean = "10ms" }
health_check = { interval = "2s", unhealthy = 1, healthy = 1 }
liveness = { interval = "10s", failures = 3, timeout = "1s", restart = { dist = "fixed", mean = "5s" } }
[[fault]]
name = "deadlock"
at = "50s"
duration = "100s"
kind = "hang"
target = "api"
"#;

const LIVENESS: &str =
    "liveness = { interval = \"10s\", failures = 3, timeout = \"1s\", restart = { dist = \"fixed\", mean = \"5s\" } }";

fn traced(text: &str, trial: u64) -> (nines::model::TrialResult, Trace) {
    let sc = nines::scenario::parse("case.toml", "case", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    let world = World::compile(&sc);
    Trial::new(&world).run_traced(sc.seed, trial).expect("no runaway")
}

/// Times of the trace events of `kind` about replica `r`.
fn times(trace: &Trace, kind: &str, r: usize) -> Vec<u64> {
    trace
        .events
        .iter()
        .filter(|e| e.kind == kind && e.subject == Subject::Replica(r))
        .map(|e| e.t)
        .collect()
}

/// (successful, all) attempts on the api over the buckets inside `[from, to)`.
fn attempts(trace: &Trace, from: u64, to: u64) -> (u32, u32) {
    trace
        .buckets
        .iter()
        .filter(|b| b.start >= from && b.end <= to)
        .fold((0, 0), |(ok, all), b| {
            (ok + b.services[0].ok, all + b.services[0].attempts)
        })
}

/// The `check` line gives 3 x 10 s + 1 s = 31 s; each trial restarts both
/// replicas once, at one group tick, between 2 x 10 + 1 = 21 s and 31 s
/// after the hang; they are back 5 s later and serve every attempt from
/// then to the fault's end. The failure model counts the api down from
/// the hang to the restart (its replicas are released then, out of
/// service for the request path only while restarting), and the fault's
/// end changes nothing.
#[test]
fn a_hung_replica_is_restarted_within_the_check_bound_and_serves() {
    let dir = Dir::new();
    dir.write("s.toml", HUNG);
    let check = dir.nines(&["check", "s.toml"]).ok();
    assert!(
        check.contains("liveness restarts an overloaded or hung replica within 3 x 10s + 1s = 31s"),
        "{check}"
    );
    let mut phases = Vec::new();
    for trial in 0..6 {
        let (result, trace) = traced(HUNG, trial);
        let restarted = times(&trace, "restarted", 0);
        assert_eq!(restarted.len(), 1, "trial {trial}: {restarted:?}");
        let t = restarted[0];
        assert_eq!(times(&trace, "restarted", 1), restarted, "one group tick");
        assert!((71 * S..=81 * S).contains(&t), "trial {trial}: restart at {t}");
        phases.push(t);
        for r in 0..2 {
            assert_eq!(times(&trace, "hang_cured", r), restarted);
            assert_eq!(times(&trace, "restart_done", r), [t + 5 * S]);
            // Down at the hang, up at the cure, and nothing at the end.
            assert_eq!(times(&trace, "replica_down", r), [50 * S], "trial {trial}");
            assert_eq!(times(&trace, "replica_up", r), [t], "trial {trial}");
        }
        let expect = (t - 50 * S) as f64 / 1e9;
        assert!(
            (result.downtime - expect).abs() < 1e-6,
            "{} vs {expect}",
            result.downtime
        );
        // Back (restart done, and one passing check 2 s apart) well before 100 s.
        let (ok, all) = attempts(&trace, t + 8 * S, 150 * S);
        assert!(all > 20 * 40, "trial {trial}: {all} attempts");
        assert_eq!(ok, all, "trial {trial}");
        let (ok, _) = attempts(&trace, 52 * S, 70 * S);
        assert_eq!(ok, 0, "hung before the restart");
    }
    phases.dedup();
    assert!(phases.len() > 1, "the probe phase differs by trial: {phases:?}");
}

/// Without liveness the replicas stay hung to the fault's end: no attempt
/// succeeds from the hang to 150 s, and the fault's end lets go of them.
#[test]
fn without_liveness_a_hang_lasts_to_the_fault_end() {
    let text = HUNG.replace(LIVENESS, "");
    let (result, trace) = traced(&text, 0);
    for r in 0..2 {
        assert!(times(&trace, "restarted", r).is_empty());
        assert_eq!(times(&trace, "replica_down", r), [50 * S]);
        assert_eq!(times(&trace, "replica_up", r), [150 * S]);
    }
    assert!((result.downtime - 100.0).abs() < 1e-6, "{}", result.downtime);
    let (ok, all) = attempts(&trace, 52 * S, 150 * S);
    assert_eq!(ok, 0);
    assert!(all > 0);
}

/// A crash holding the replica as well keeps it down after the restart
/// cures the hang: it comes back at the crash's end (180 s), not at the
/// restart, and the hang's end (150 s) does not release it.
#[test]
fn a_cured_replica_a_crash_holds_stays_down() {
    let text = HUNG.replace("target = \"api\"", "target = \"api[0]\"")
        + "[[fault]]\nname = \"crash\"\nat = \"40s\"\nduration = \"140s\"\nkind = \"crash\"\ntarget = \"api[0]\"\n";
    for trial in 0..4 {
        let (_, trace) = traced(&text, trial);
        let restarted = times(&trace, "restarted", 0);
        assert_eq!(restarted.len(), 1, "trial {trial}: {restarted:?}");
        assert!((71 * S..=81 * S).contains(&restarted[0]));
        assert_eq!(times(&trace, "hang_cured", 0), restarted);
        assert_eq!(times(&trace, "replica_down", 0), [40 * S]);
        assert_eq!(times(&trace, "replica_up", 0), [180 * S], "trial {trial}");
        assert!(times(&trace, "restarted", 1).is_empty());
    }
}

/// A hang that recurs (every 120 s after the last end, for 60 s: at 120,
/// 300 and 480 s) hangs the restarted replica again at its next
/// occurrence: each occurrence is cured once, within the bound, its end
/// never releases a cured replica, and every down has its up.
#[test]
fn a_recurring_hang_is_cured_once_per_occurrence() {
    let text = HUNG.replace("horizon = \"200s\"", "horizon = \"600s\"").replace(
        "at = \"50s\"\nduration = \"100s\"",
        "every = { dist = \"fixed\", mean = \"120s\" }\nduration = \"60s\"",
    );
    for trial in 0..6 {
        let (result, trace) = traced(&text, trial);
        let starts = [120 * S, 300 * S, 480 * S];
        let downs = times(&trace, "replica_down", 0);
        let ups = times(&trace, "replica_up", 0);
        assert_eq!(downs, starts, "trial {trial}");
        assert_eq!(times(&trace, "hang_cured", 0), ups, "trial {trial}");
        assert_eq!(ups.len(), 3, "trial {trial}");
        for (d, u) in downs.iter().zip(&ups) {
            assert!((21 * S..=31 * S).contains(&(u - d)), "trial {trial}: down {d} up {u}");
        }
        let down: u64 = downs.iter().zip(&ups).map(|(d, u)| u - d).sum();
        assert!((result.downtime - down as f64 / 1e9).abs() < 1e-6, "trial {trial}");
    }
}

/// The example scenario: the same bytes on 1 and 2 threads.
#[test]
fn the_example_is_the_same_on_one_and_two_threads() {
    let dir = Dir::new();
    let root = env!("CARGO_MANIFEST_DIR");
    let file = format!("{root}/scenarios/hung-restart.toml");
    let run = |threads: &str| {
        dir.nines(&[
            "run",
            &file,
            "--trials",
            "4",
            "--seed",
            "3",
            "--threads",
            threads,
            "--format",
            "json",
            "--no-write",
        ])
        .ok()
    };
    let one = run("1");
    assert!(one.contains("\"restarts\""), "{one}");
    assert_eq!(one, run("2"));
}
