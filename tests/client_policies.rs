//! Issue 20's client policies against closed forms and hand-computed
//! cases: a hedged request's latency is the minimum of two delayed draws,
//! the retry budget by concurrency caps retries exactly, runs agree on 1
//! and 2 threads, and each class of bad key exits 2 naming it.

use crate::util::{Dir, assert_covers, assert_excludes, mean_latency, simulate, t_ci95};

/// Two replicas with exponential service (mean 10 ms, no concurrency
/// limit, so no queueing); every attempt still unanswered after DELAY is
/// hedged to the other replica.
const HEDGED: &str = r#"
horizon = "60s"
[[workload]]
name = "users"
to = "api"
rate = 20
hedge = { delay = "DELAY" }
[[service]]
name = "api"
topology = "active-active"
replicas = 2
service_time = { mean = "10ms" }
"#;

/// With service times S1, S2 ~ Exp(mu) and the hedge at d, the latency is
/// L = min(S1, d + S2): P(L > t) = e^{-mu t} for t < d and
/// e^{-mu t} e^{-mu (t - d)} after, so E[L] = (1 - e^{-mu d}) / mu +
/// e^{-mu d} / (2 mu), the median ln 2 / mu (below d = 1 / mu) and the
/// 90th percentile (d + ln 10 / mu) / 2.
#[test]
fn a_hedged_latency_is_the_minimum_of_two_delayed_draws() {
    let mu: f64 = 100.0;
    let d: f64 = 0.010;
    let (s, rows) = simulate(&HEDGED.replace("DELAY", "10ms"), 40, 11);
    let e = (-mu * d).exp();
    let truth = (1.0 - e) / mu + e / (2.0 * mu);
    let (_, ci) = t_ci95(&mean_latency(&rows));
    assert_covers("hedged mean latency (s)", truth, ci, 0.01 * truth);
    assert_excludes("no hedging: 1 / mu", 1.0 / mu, ci);
    assert_excludes("both copies from time zero: 1 / (2 mu)", 1.0 / (2.0 * mu), ci);
    let req = s.requests.as_ref().unwrap();
    let p50 = 2f64.ln() / mu;
    let p90 = (d + 10f64.ln() / mu) / 2.0;
    println!("p50 {} vs {p50}, p90 {} vs {p90}", req.latency_s.p50, req.latency_s.p90);
    assert!((req.latency_s.p50 / p50 - 1.0).abs() < 0.02);
    assert!((req.latency_s.p90 / p90 - 1.0).abs() < 0.02);
    // A hedge goes when the primary is later than d: P(S1 > d) = e^{-1}.
    let hedge = s.edges["users->api"].hedge.as_ref().expect("hedging is configured");
    let share = hedge.per_call;
    println!("hedges per call {share} vs {e}");
    assert!((share - e).abs() < 0.01, "{share}");
    // The hedge wins when d + S2 < S1: P = e^{-1} / 2 of all calls.
    let won = hedge.won as f64 / s.edges["users->api"].calls as f64;
    assert!((won - e / 2.0).abs() < 0.01, "{won}");
    // Every race has a loser to cancel, but those still running at a
    // trial's horizon (at most a few per trial).
    assert!(
        hedge.cancelled <= hedge.sent && hedge.sent - hedge.cancelled <= 40,
        "{hedge:?}"
    );
}

/// Without `hedge`, no hedge figures appear.
#[test]
fn hedge_figures_appear_only_where_configured() {
    let (s, _) = simulate(&HEDGED.replace("hedge = { delay = \"DELAY\" }\n", ""), 2, 1);
    assert!(s.edges["users->api"].hedge.is_none());
    assert!(s.edges["users->api"].retry_concurrency.is_none());
    assert!(s.edges["users->api"].bulkhead.is_none());
}

/// Calls every 100 ms, each failing after exactly 1 s; one retry may be in
/// flight at a time (percent tiny, minimum 1), and a retry is in flight
/// from its grant until its attempt fails 1 ms + 1 s later. Failures come
/// at 1.1 s, 1.2 s, ...: the one at 1.1 s is retried, the next grant is at
/// 2.2 s (the retry granted at 1.1 s ends at 2.101 s), so grants fall at
/// 1.1 k s: 54 of them before 59.95 s, out of 589 first-attempt failures.
#[test]
fn the_concurrency_budget_caps_retries_as_computed_by_hand() {
    let text = r#"
horizon = "59950ms"
[[workload]]
name = "users"
to = "api"
rate = 10
arrival = "constant"
retry = { max_attempts = 2, backoff = "constant", base = "1ms", BUDGET }
[[service]]
name = "api"
service_time = { dist = "fixed", mean = "1s" }
error_rate = 1.0
"#;
    let capped = text.replace(
        "BUDGET",
        "concurrency_budget = { percent = 0.001, min_retry_concurrency = 1 }",
    );
    let (s, _) = simulate(&capped, 1, 3);
    let e = &s.edges["users->api"];
    let rc = e.retry_concurrency.as_ref().expect("configured");
    assert_eq!(e.retries, 54);
    assert_eq!(rc.refused, 589 - 54);
    assert_eq!(rc.peak_in_flight, 1);
    // Without the budget every first failure is retried.
    let (s, _) = simulate(&text.replace(", BUDGET", ""), 1, 3);
    assert_eq!(s.edges["users->api"].retries, 589);
}

/// A bulkhead's books appear where one is configured. One slot, a call a
/// second (the k-th, k = 0, 1, ..., at k + 1 s): with 0.5 s of service
/// nobody waits; with 1.5 s call k starts at 1 + 1.5 k s and waits 0.5 k s,
/// so before 9.9 s calls 1 to 5 are let in from the queue after waiting
/// 0.5, 1, 1.5, 2 and 2.5 s (mean 1.5 s).
#[test]
fn bulkhead_books_count_accepted_queued_and_the_wait() {
    let text = r#"
horizon = "9900ms"
[[workload]]
name = "users"
to = "api"
rate = 1
arrival = "constant"
bulkhead = { max_concurrent = 1, max_queue = 100 }
[[service]]
name = "api"
service_time = { dist = "fixed", mean = "500ms" }
"#;
    let (s, _) = simulate(text, 1, 1);
    let b = s.edges["users->api"]
        .bulkhead
        .as_ref()
        .expect("a bulkhead is configured");
    assert_eq!((b.queued, b.rejected, b.peak_in_use, b.peak_waiting), (0, 0, 1, 0));
    assert_eq!(b.accepted, s.edges["users->api"].calls);
    let (s, _) = simulate(&text.replace("500ms", "1500ms"), 1, 1);
    let b = s.edges["users->api"].bulkhead.as_ref().unwrap();
    assert_eq!((b.queued, b.rejected, b.peak_in_use), (5, 0, 1), "{b:?}");
    assert_eq!(b.accepted, 6);
    assert!((b.mean_wait_s - 1.5).abs() < 1e-9, "{b:?}");
    assert!(b.peak_waiting >= 2, "{b:?}");
}

/// Hedging, both retry budgets and a breaker with growing open periods
/// give the same summary on one thread and on two.
#[test]
fn the_new_policies_are_deterministic_across_threads() {
    let text = r#"
name = "client policies"
horizon = "30s"
[[workload]]
name = "users"
to = "api"
rate = 200
timeout = "100ms"
retry = { max_attempts = 3, base = "5ms", jitter = "full", budget = { ratio = 0.2 }, concurrency_budget = { percent = 10.0 } }
circuit_breaker = { window = "count", size = 20, open_for = "1s", open_backoff = { multiplier = 2.0, max = "8s" }, half_open_max_wait = "500ms" }
hedge = { quantile = 0.9, window = 50, budget = { ratio = 0.1 } }
bulkhead = { max_concurrent = 20, max_queue = 10, queue_timeout = "20ms" }
[[service]]
name = "api"
topology = "active-active"
replicas = 3
concurrency = 4
service_time = { mean = "10ms" }
error_rate = 0.05
"#;
    let dir = Dir::new();
    dir.write("c.toml", text);
    let run = |threads: &str| {
        let r = dir.nines(&[
            "run",
            "c.toml",
            "--trials",
            "6",
            "--seed",
            "7",
            "--threads",
            threads,
            "--format",
            "json",
            "--no-write",
        ]);
        assert_eq!(r.code(), 0, "{}", r.stderr());
        r.stdout()
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert!(one.contains("\"hedge\"") && one.contains("\"retry_concurrency\"") && one.contains("\"bulkhead\""));
}

/// One case per class of bad key: exit 2, the key named, a fix offered.
#[test]
fn bad_client_policy_keys_exit_two_and_name_the_key() {
    let base = r#"
horizon = "1h"
[[workload]]
name = "users"
to = "api"
rate = 10
KEYS
[[service]]
name = "api"
service_time = { mean = "10ms" }
"#;
    let cases = [
        (
            "hedge = { delay = \"5ms\", quantile = 0.9 }",
            "workload.users.hedge.quantile",
            "not both",
        ),
        ("hedge = { cancel = true }", "workload.users.hedge", "delay = \"50ms\""),
        ("hedge = { quantile = 1.5 }", "workload.users.hedge.quantile", "below 1"),
        (
            "hedge = { delay = \"5ms\", window = 10 }",
            "workload.users.hedge.window",
            "quantile",
        ),
        (
            "hedge = { delay = \"0s\" }",
            "workload.users.hedge.delay",
            "longer than zero",
        ),
        (
            "hedge = { delay = \"5ms\", budget = { ratio = 0.0 } }",
            "workload.users.hedge.budget",
            "ratio",
        ),
        (
            "retry = { concurrency_budget = { percent = 0.0 } }",
            "workload.users.retry.concurrency_budget.percent",
            "percent = 20.0",
        ),
        (
            "circuit_breaker = { failure_threshold = 3, open_for = \"10s\", open_backoff = { max = \"5s\" } }",
            "workload.users.circuit_breaker.open_backoff.max",
            "shorter than open_for",
        ),
        (
            "circuit_breaker = { failure_threshold = 3, open_backoff = { multiplier = 1.0 } }",
            "workload.users.circuit_breaker.open_backoff.multiplier",
            "above 1",
        ),
        (
            "circuit_breaker = { failure_threshold = 3, half_open_expiry = \"close\" }",
            "workload.users.circuit_breaker.half_open_expiry",
            "half_open_max_wait",
        ),
        (
            "circuit_breaker = { failure_threshold = 3, half_open_max_wait = \"1s\", half_open_expiry = \"later\" }",
            "workload.users.circuit_breaker.half_open_expiry",
            "open",
        ),
    ];
    for (keys, key, hint) in cases {
        let dir = Dir::new();
        dir.write("bad.toml", &base.replace("KEYS", keys));
        let err = dir.nines(&["check", "bad.toml"]).bad_input();
        assert!(err.contains(&format!("key `{key}`")), "{keys}: {err}");
        assert!(err.contains(hint), "{keys}: {err}");
    }
}
