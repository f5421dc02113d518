//! Autoscaling (`[service.autoscale]`): the replica count against
//! deterministic load ramps computed by hand, the summary figures, the
//! same output on any thread count, and bad input.

use nines::model::trace::Subject;
use nines::model::{Trial, World};

use crate::util::{Dir, simulate};

/// Constant arrivals at 15/s, ×2 from 60 s to 180 s and ×1.8 more from
/// 120 s to 180 s (15, 30, 54, then 15 per second); every request holds
/// one of a replica's 20 slots for exactly 1 s, so the busy slots are the
/// rate (no queue: round robin gives each replica at most 18 at once).
/// The autoscaler aims at 50 % of 20 slots, i.e. 10 busy slots a replica,
/// and wants ceil(busy / 10):
/// - until 60 s: 15 busy → 2 (its min): nothing happens;
/// - evaluation at 70 s ([60, 70) at 30/s, less the first second's ramp):
///   ceil(29.25) / 10 → 3, serving 5 s later;
/// - at 80..120 s: 30 busy over 3 replicas is utilisation exactly 0.5;
/// - at 130 s ([120, 130) at 54/s): ceil(5.28) → 6, serving at 135 s;
/// - at 140..180 s: 54 / 60 = 0.9 of the target, within the tolerance;
/// - at 190 s (15/s plus the tail of 54/s): ceil(1.7) → 2, but the 30 s
///   window still holds the 6 of 170 and 180 s; at 210 s it holds only
///   2s, so 4 replicas drain (the highest first) and leave within the
///   1 s their last requests take.
pub(crate) const RAMP: &str = r#"
name = "ramp"
horizon = "240s"
trials = 2
seed = 1

[[workload]]
name = "users"
to = "api"
rate = 15
arrival = "constant"
[[workload.burst]]
at = "60s"
duration = "120s"
factor = 2.0
[[workload.burst]]
at = "120s"
duration = "60s"
factor = 1.8

[[service]]
name = "api"
topology = "active-active"
replicas = 2
concurrency = 20
service_time = { dist = "fixed", mean = "1s" }

[service.autoscale]
target = 0.5
interval = "10s"
stabilisation = "30s"
provision = "5s"
min = 2
max = 10
"#;

const S: u64 = 1_000_000_000;

/// The autoscaler's story in trial 0: `(time, kind, replica)`.
fn story(text: &str) -> Vec<(u64, &'static str, usize)> {
    let sc = nines::scenario::parse("case.toml", "case", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    let world = World::compile(&sc);
    let (_, trace) = Trial::new(&world).run_traced(sc.seed, 0).expect("no runaway");
    trace
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                "scale_up" | "provisioned" | "draining" | "scaled_in" | "scale_cancelled"
            )
        })
        .map(|e| match e.subject {
            Subject::Replica(r) => (e.t, e.kind, r),
            other => panic!("an autoscaler event about {other:?}"),
        })
        .collect()
}

#[test]
fn the_replica_count_follows_a_deterministic_ramp() {
    let got = story(RAMP);
    let mut expect = vec![(70 * S, "scale_up", 2), (75 * S, "provisioned", 2)];
    expect.extend((3..6).map(|r| (130 * S, "scale_up", r)));
    expect.extend((3..6).map(|r| (135 * S, "provisioned", r)));
    expect.extend((2..6).rev().map(|r| (210 * S, "draining", r)));
    assert_eq!(&got[..expect.len()], &expect[..], "{got:?}");
    let left: Vec<_> = got[expect.len()..].to_vec();
    assert_eq!(left.len(), 4, "each drained replica leaves: {got:?}");
    for (t, kind, r) in left {
        assert_eq!(kind, "scaled_in");
        assert!((2..6).contains(&r));
        assert!(
            t > 210 * S && t <= 211 * S,
            "leaves once its last 1 s request ends: {t}"
        );
    }
}

#[test]
fn the_summary_counts_what_the_autoscaler_did() {
    let (summary, _) = simulate(RAMP, 2, 1);
    let a = summary.services["api"]
        .requests
        .as_ref()
        .and_then(|r| r.autoscale.as_ref())
        .expect("an autoscaled service reports it")
        .clone();
    assert_eq!(
        (a.scale_ups, a.scale_downs, a.replicas_max),
        (8, 8, 6),
        "4 up and 4 down a trial"
    );
    // 2 replicas for 240 s, one more from 70 s and three from 130 s to
    // 210 s, and up to 1 s of draining for each of the four.
    let base = 2.0 * 240.0 + 140.0 + 3.0 * 80.0;
    assert!(
        a.replica_seconds > base && a.replica_seconds <= base + 4.0,
        "{}",
        a.replica_seconds
    );
    assert!((a.replicas_mean - a.replica_seconds / 240.0).abs() < 1e-12);
    assert_eq!(a.time_at_max_s, 0.0);
    assert!(
        summary.requests.as_ref().expect("requests").failed_ratio.mean == 0.0,
        "no request fails on the ramp"
    );
}

/// With `max = 5` the evaluation at 130 s wants 6 and gets 5, and the
/// autoscaler sits at its max from then until the scale-down at 210 s.
#[test]
fn max_clamps_and_time_at_max_is_counted() {
    let text = RAMP.replace("max = 10", "max = 5");
    let got = story(&text);
    let ups: Vec<_> = got.iter().filter(|e| e.1 == "scale_up").collect();
    assert_eq!(ups.len(), 3, "{got:?}");
    let (summary, _) = simulate(&text, 1, 1);
    let a = summary.services["api"]
        .requests
        .as_ref()
        .expect("requests")
        .autoscale
        .clone()
        .expect("autoscale");
    assert_eq!(a.replicas_max, 5);
    assert_eq!(a.time_at_max_s, 80.0);
}

/// The queue metric by hand: one replica serving one request at a time
/// (1 s each) to arrivals every 0.5 s from 0.5 s. Request k arrives at
/// 0.5k and starts at k - 0.5, so at the first evaluation (10.25 s, off
/// every arrival and completion) 20 have arrived and 10 have started: 10
/// wait. With a target of 3 waiting per replica it wants ceil(10 / 3) = 4.
#[test]
fn the_queue_metric_scales_on_waiting_requests() {
    let text = r#"
horizon = "15s"
[[workload]]
name = "users"
to = "api"
rate = 2
arrival = "constant"
[[service]]
name = "api"
topology = "active-active"
replicas = 1
concurrency = 1
service_time = { dist = "fixed", mean = "1s" }
autoscale = { metric = "queue", target = 3, interval = "10250ms", provision = "1s", min = 1, max = 8 }
"#;
    let got = story(text);
    let ups: Vec<_> = got.iter().filter(|e| e.1 == "scale_up").map(|e| (e.0, e.2)).collect();
    assert_eq!(
        ups,
        [(10_250_000_000, 1), (10_250_000_000, 2), (10_250_000_000, 3)],
        "{got:?}"
    );
}

/// A scenario with failures, a region loss and a random provisioning
/// delay: the same bytes on one thread and on two.
#[test]
fn autoscaling_is_deterministic_across_threads() {
    let dir = Dir::new();
    dir.write("burst.toml", include_str!("../scenarios/autoscale-burst.toml"));
    let run = |threads: &str| {
        dir.nines(&[
            "run",
            "burst.toml",
            "--trials",
            "12",
            "--threads",
            threads,
            "--format",
            "json",
            "--no-write",
        ])
        .ok()
    };
    let (one, two) = (run("1"), run("2"));
    assert_eq!(one, two);
    assert!(one.contains("\"autoscale\""), "{one}");
}

/// Runs `check` on `text` and returns stderr (asserting exit code 2).
fn check_error(text: &str) -> String {
    let dir = Dir::new();
    dir.write("bad.toml", text);
    let err = dir.nines(&["check", "bad.toml"]).bad_input();
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn bad(from: &str, to: &str) -> String {
    check_error(&RAMP.replace(from, to))
}

#[test]
fn min_above_max_is_rejected() {
    let err = bad("min = 2\nmax = 10", "min = 4\nmax = 3");
    assert!(err.contains("bad.toml:"), "{err}");
    assert!(err.contains("key `service.api.autoscale.max`"), "{err}");
    assert!(err.contains("max (3) is below min (4)"), "{err}");
}

#[test]
fn a_target_out_of_range_is_rejected() {
    for (target, says) in [
        ("0.0", "above 0 and at most 1"),
        ("-1.0", "above 0"),
        ("1.5", "at most 1"),
    ] {
        let err = bad("target = 0.5", &format!("target = {target}"));
        assert!(
            err.contains("bad.toml:29:10: key `service.api.autoscale.target`"),
            "{err}"
        );
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn an_unknown_metric_suggests_the_near_miss() {
    let err = bad("target = 0.5", "metric = \"utilization\"\ntarget = 0.5");
    assert!(err.contains("key `service.api.autoscale.metric`"), "{err}");
    assert!(err.contains("did you mean \"utilisation\"?"), "{err}");
}

#[test]
fn an_unknown_key_in_the_table_is_named() {
    let err = bad("min = 2\n", "minimum = 2\n");
    assert!(err.contains("bad.toml:33:1: key `minimum`"), "{err}");
    assert!(err.contains("valid keys here: metric, target, interval"), "{err}");
}

#[test]
fn replicas_outside_min_and_max_are_rejected() {
    let err = bad("replicas = 2\n", "replicas = 12\n");
    assert!(err.contains("key `service.api.replicas`"), "{err}");
    assert!(err.contains("between autoscale.min (2) and max (10)"), "{err}");
}

#[test]
fn utilisation_without_a_concurrency_limit_is_rejected() {
    let err = bad("concurrency = 20\n", "");
    assert!(err.contains("key `service.api.autoscale.metric`"), "{err}");
    assert!(err.contains("needs a concurrency limit"), "{err}");
}

#[test]
fn autoscaling_a_single_replica_is_rejected() {
    let err = bad("topology = \"active-active\"\nreplicas = 2\n", "replicas = 1\n");
    assert!(err.contains("key `service.api.autoscale`"), "{err}");
    assert!(err.contains("active-active"), "{err}");
}

#[test]
fn min_below_min_healthy_is_rejected() {
    let text = RAMP
        .replace("replicas = 2\n", "replicas = 2\nmin_healthy = 2\n")
        .replace("min = 2\n", "min = 1\n");
    let err = check_error(&text);
    assert!(err.contains("key `service.api.autoscale.min`"), "{err}");
    assert!(err.contains("min (1) is below min_healthy (2)"), "{err}");
}

#[test]
fn a_deploy_of_an_autoscaled_service_is_rejected() {
    let text = format!("{RAMP}\n[[deploy]]\nservice = \"api\"\nat = [\"100s\"]\nrestart = \"10s\"\n");
    let err = check_error(&text);
    assert!(err.contains("autoscaled"), "{err}");
    assert!(err.contains("key `deploy.api`"), "{err}");
}

#[test]
fn a_zero_interval_is_rejected() {
    let err = bad("interval = \"10s\"", "interval = \"0s\"");
    assert!(err.contains("key `service.api.autoscale.interval`"), "{err}");
    assert!(err.contains("longer than zero"), "{err}");
}
