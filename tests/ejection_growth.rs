//! Ejection time that grows with repeated ejections
//! (`outlier_detection.max_ejection_time`, Envoy's rule): a replica that
//! keeps failing is ejected for `eject_for` x the times ejected in a
//! row, capped, and the multiplier decays by one per detector interval
//! in service; the times against a hand-built history; bad input.

use nines::model::trace::Subject;
use nines::model::{Trial, World};

use crate::util::Dir;

const S: u64 = 1_000_000_000;

/// api[0] answers every request with an error from 1 s to 100 s and from
/// 120 s to 150 s; 1000 requests a second reach it, so 5 failures in a
/// row eject it within milliseconds of each return. eject_for 10 s, cap
/// 25 s, sweeps every 7 s (at 7, 14, ..., never within milliseconds of a
/// return).
const FLAKY: &str = r#"
name = "flaky"
horizon = "200s"
[[workload]]
name = "users"
to = "api"
rate = 1000
arrival = "constant"
[[service]]
name = "api"
topology = "active-active"
replicas = 2
concurrency = 8
service_time = { dist = "fixed", mean = "1ms" }
outlier_detection = { consecutive_failures = 5, eject_for = "10s", max_ejected = 0.5, interval = "7s", max_ejection_time = "25s" }
[[fault]]
name = "bad-a"
at = "1s"
duration = "99s"
kind = "errors"
target = "api[0]"
error_rate = 1.0
[[fault]]
name = "bad-b"
at = "120s"
duration = "30s"
kind = "errors"
target = "api[0]"
error_rate = 1.0
"#;

/// (ejected at, out for) of replica 0 in trial `trial`.
fn ejections(text: &str, trial: u64) -> Vec<(u64, u64)> {
    let sc = nines::scenario::parse("case.toml", "case", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    let world = World::compile(&sc);
    let (_, trace) = Trial::new(&world).run_traced(sc.seed, trial).expect("no runaway");
    let of = |kind: &str| -> Vec<u64> {
        trace
            .events
            .iter()
            .filter(|e| e.kind == kind && e.subject == Subject::Replica(0))
            .map(|e| e.t)
            .collect()
    };
    let (out, back) = (of("ejected"), of("returned"));
    assert_eq!(out.len(), back.len(), "every ejection returns before 200 s");
    out.iter().zip(&back).map(|(&o, &b)| (o, b - o)).collect()
}

/// By hand: 10 s (multiplier 1), 20 s (2), 25 s (3: 30 s capped), 25 s
/// and 25 s (3 x 10 s already reaches the cap: no growth); back at about
/// 106 s, the sweeps at 112 s and 119 s take the multiplier from 3 to 1,
/// so the fault at 120 s ejects it for 20 s (2), then 25 s (3).
#[test]
fn a_replica_ejected_again_and_again_stays_out_longer() {
    for trial in 0..3 {
        let got = ejections(FLAKY, trial);
        let outs: Vec<u64> = got.iter().map(|e| e.1 / S).collect();
        assert!(got.iter().all(|e| e.1 % S == 0), "{got:?}");
        assert_eq!(outs, [10, 20, 25, 25, 25, 20, 25], "trial {trial}: {got:?}");
        let at: Vec<u64> = got.iter().map(|e| e.0 / S).collect();
        assert_eq!(at, [1, 11, 31, 56, 81, 120, 140], "trial {trial}: {got:?}");
    }
}

/// Without the key every ejection lasts eject_for: the behaviour before
/// it existed.
#[test]
fn without_the_key_the_ejection_time_is_fixed() {
    let text = FLAKY.replace(", max_ejection_time = \"25s\"", "");
    let got = ejections(&text, 0);
    assert!(got.len() > 10, "{got:?}");
    assert!(got.iter().all(|e| e.1 == 10 * S), "{got:?}");
}

/// The same bytes on 1 and 2 threads.
#[test]
fn growing_ejections_are_the_same_on_one_and_two_threads() {
    let dir = Dir::new();
    dir.write("s.toml", FLAKY);
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
    let one = run("1");
    assert!(one.contains("\"ejections\""), "{one}");
    assert_eq!(one, run("2"));
}

#[test]
fn a_cap_shorter_than_the_base_is_refused() {
    let dir = Dir::new();
    dir.write(
        "bad.toml",
        &FLAKY.replace("max_ejection_time = \"25s\"", "max_ejection_time = \"5s\""),
    );
    let err = dir.nines(&["check", "bad.toml"]).bad_input();
    assert!(
        err.contains("key `service.api.outlier_detection.max_ejection_time`"),
        "{err}"
    );
    assert!(err.contains("is 5s, shorter than eject_for (10s)"), "{err}");
    assert!(err.contains("max_ejection_time = \"10s\" or longer"), "{err}");
    dir.write(
        "bad.toml",
        &FLAKY.replace("max_ejection_time = \"25s\"", "max_ejection_time = 25"),
    );
    let err = dir.nines(&["check", "bad.toml"]).bad_input();
    assert!(err.contains("max_ejection_time"), "{err}");
}
