//! The distribution of bulkhead waits (issue 20) against M/M/c: a
//! bulkhead of `c` slots whose queue never fills, fed by Poisson calls to a
//! callee that serves each at once (no concurrency limit) in an
//! exponential time, holds its slots exactly as c servers hold customers.
//! The share of calls that wait is then Erlang C, and the wait of a call
//! that waits is exponential of rate cμ − λ, so its quantile q is
//! ln(1/(1 − q))/(cμ − λ). Shards of a bulkhead run merge into the same
//! figures, and edges without a bulkhead carry none.

use crate::util::{Dir, assert_covers, assert_excludes, erlang_c, simulate, t_ci95};

const C: u32 = 4;
const LAMBDA: f64 = 300.0;
const MU: f64 = 100.0;

/// Four slots, 300 calls/s, service mean 10 ms: ρ = 0.75, cμ − λ = 100/s.
const MMC: &str = r#"
horizon = "400s"
[[workload]]
name = "users"
to = "api"
rate = 300
bulkhead = { max_concurrent = 4, max_queue = 100000 }
[[service]]
name = "api"
service_time = { mean = "10ms" }
"#;

/// Ten independent runs (one trial each): per run the p50 and p90 of the
/// queued calls' waits and the share of calls that waited, then a Student
/// t interval across runs for each, around the closed form and away from
/// the rate cμ a model that forgets the calls ahead in the queue would give
/// (a lone waiter's wait for the first of c busy slots to free).
#[test]
fn queued_waits_follow_the_mmc_closed_form() {
    let rate = f64::from(C) * MU - LAMBDA;
    let quantile = |q: f64, r: f64| (1.0 / (1.0 - q)).ln() / r;
    let (mut p50, mut p90, mut share, mut mean) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for seed in 1..=10 {
        let (s, _) = simulate(MMC, 1, seed);
        let e = &s.edges["users->api"];
        let b = e.bulkhead.as_ref().expect("a bulkhead is configured");
        assert!(b.wait_p50_s <= b.wait_p90_s && b.wait_p90_s <= b.wait_p99_s && b.wait_p99_s <= b.wait_max_s);
        assert_eq!(b.rejected, 0, "the queue never fills");
        p50.push(b.wait_p50_s);
        p90.push(b.wait_p90_s);
        mean.push(b.mean_wait_s);
        share.push(b.queued as f64 / e.calls as f64);
    }
    let (_, ci) = t_ci95(&p50);
    assert_covers(
        "p50 of queued waits (s)",
        quantile(0.5, rate),
        ci,
        0.025 * quantile(0.5, rate),
    );
    assert_excludes("p50 at rate c mu", quantile(0.5, f64::from(C) * MU), ci);
    let (_, ci) = t_ci95(&p90);
    assert_covers(
        "p90 of queued waits (s)",
        quantile(0.9, rate),
        ci,
        0.025 * quantile(0.9, rate),
    );
    assert_excludes("p90 at rate c mu", quantile(0.9, f64::from(C) * MU), ci);
    let (_, ci) = t_ci95(&mean);
    assert_covers("mean of queued waits (s)", 1.0 / rate, ci, 0.025 / rate);
    let (_, ci) = t_ci95(&share);
    let c = erlang_c(C, LAMBDA / MU);
    assert_covers("share of calls that waited (Erlang C)", c, ci, 0.02 * c);
    assert_excludes(
        "Erlang B (lost, not waiting)",
        crate::util::erlang_b(C, LAMBDA / MU),
        ci,
    );
}

/// Shards of a run with bulkhead waits merge into the bytes of the whole
/// run's summary (the waits' histograms travel in the parts); an edge
/// without a bulkhead has no `bulkhead` object.
#[test]
fn bulkhead_waits_merge_across_shards_and_only_where_configured() {
    let text = r#"
horizon = "10s"
[[workload]]
name = "users"
to = "api"
rate = 300
bulkhead = { max_concurrent = 4, max_queue = 20, queue_timeout = "30ms" }
[[service]]
name = "api"
service_time = { mean = "10ms" }
[[service.call]]
to = "db"
[[service]]
name = "db"
service_time = { mean = "1ms" }
"#;
    let dir = Dir::new();
    dir.write("b.toml", text);
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "b.toml", "--trials", "4", "--seed", "5", "--quiet"];
        args.extend(extra);
        dir.nines(&args).ok()
    };
    let whole = run(&["--format", "json", "--no-write"]);
    for i in 0..2 {
        run(&["--shard", &format!("{i}/2"), "--out", "parts", "--threads", "2"]);
    }
    let merged = dir
        .nines(&["merge", "parts", "--out", "merged", "--format", "json", "--quiet"])
        .ok();
    assert_eq!(merged, whole, "merged shards give the whole run's summary");
    let s: serde_json::Value = serde_json::from_str(&whole).unwrap();
    let b = &s["edges"]["users->api"]["bulkhead"];
    let p99 = b["wait_p99_s"].as_f64().unwrap();
    assert!(
        p99 > 0.0 && p99 <= 0.031,
        "a queue timeout of 30 ms bounds the waits: {b}"
    );
    assert!(
        s["edges"]["api->db"].get("bulkhead").is_none(),
        "no bulkhead on api->db"
    );
}
