//! What the request path's second round reports beside its policies: the
//! replicas an autoscaler keeps serving, bucket by bucket, in
//! `timeline.csv` and the plots; the books of caches and cold starts; the
//! calls that gave up waiting in a bulkhead's queue. Each against a hand
//! computation or a closed form, merged from shards into the bytes of one
//! run.

use crate::util::{Dir, assert_covers, assert_excludes, simulate, t_ci95};

/// The `service.api.replicas` column of `timeline.csv` for `text`.
fn replicas_column(dir: &Dir, text: &str, extra: &[&str]) -> Vec<f64> {
    dir.write("ramp.toml", text);
    let mut args = vec!["run", "ramp.toml", "--out", "o", "--quiet"];
    args.extend(extra);
    dir.nines(&args).ok();
    let csv = dir.read("o/timeline.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert_eq!(header.last(), Some(&"service.api.replicas"), "the last column");
    let k = header.len() - 1;
    lines
        .map(|l| l.split(',').nth(k).expect("a cell").parse().expect("a number"))
        .collect()
}

/// The deterministic ramp of `tests/autoscale.rs` cut into 60 buckets of
/// 4 s: 2 replicas serve until the third starts at 75 s (bucket 18, [72,
/// 76): 3 s of 2 and 1 s of 3, 2.25), 3 until three more start at 135 s
/// (bucket 33, [132, 136): 3 s of 3 and 1 s of 6, 3.75), 6 until four
/// drain at 210 s (bucket 52, [208, 212): 2 s of 6 and 2 s of 2, 4; a
/// draining replica no longer serves), then 2. Both trials are the same.
#[test]
fn the_replica_series_follows_the_ramp_by_hand() {
    let dir = Dir::new();
    let got = replicas_column(&dir, crate::autoscale::RAMP, &[]);
    let expect: Vec<f64> = (0..60)
        .map(|b| match b {
            0..=17 => 2.0,
            18 => 2.25,
            19..=32 => 3.0,
            33 => 3.75,
            34..=51 => 6.0,
            52 => 4.0,
            _ => 2.0,
        })
        .collect();
    assert_eq!(got.len(), 60);
    for (b, (g, e)) in got.iter().zip(&expect).enumerate() {
        assert!((g - e).abs() < 1e-9, "bucket {b}: {g}, by hand {e}");
    }
    // The plot draws it.
    dir.nines(&["run", "ramp.toml", "--out", "p", "--plot", "--quiet"]).ok();
    assert!(dir.path_of("p/replicas_over_time.png").exists());
}

/// A scenario without autoscaling has no replica column and no replica
/// plot.
#[test]
fn no_autoscaler_no_replica_series() {
    let dir = Dir::new();
    let text = crate::autoscale::RAMP
        .split("[service.autoscale]")
        .next()
        .expect("the head");
    dir.write("flat.toml", text);
    dir.nines(&["run", "flat.toml", "--out", "o", "--plot", "--quiet"]).ok();
    assert!(!dir.read("o/timeline.csv").contains("replicas"));
    assert!(!dir.path_of("o/replicas_over_time.png").exists());
}

/// Shards of an autoscaled run with failures and a random provisioning
/// delay merge into the bytes of one run, the replica series included.
#[test]
fn autoscaled_shards_merge_into_one_run() {
    let dir = Dir::new();
    dir.write("burst.toml", include_str!("../scenarios/autoscale-burst.toml"));
    crate::shard::assert_shards_match(&dir, "burst.toml", "4", &[2, 3], &[]);
    assert!(dir.read("whole/timeline.csv").contains(".replicas"));
}

/// A warm cache (no restart) answers each lookup with chance `hit_rate`:
/// the hit share is 0.7 within its binomial spread, and every miss is a
/// call to the database.
#[test]
fn a_warm_cache_hits_at_its_hit_rate() {
    let text = r#"
horizon = "200s"
[[workload]]
name = "users"
to = "web"
rate = 100
[[service]]
name = "web"
service_time = { dist = "fixed", mean = "1ms" }
[[service.call]]
to = "db"
cache = { hit_rate = 0.7 }
[[service]]
name = "db"
service_time = { dist = "fixed", mean = "1ms" }
"#;
    let (s, _) = simulate(text, 4, 3);
    let e = &s.edges["web->db"];
    let c = e.cache.as_ref().expect("a cache is configured");
    assert_eq!(c.lookups, s.services["web"].requests.as_ref().unwrap().received);
    assert_eq!(c.passed_through, c.lookups - c.hits);
    assert_eq!(c.passed_through, e.calls, "every miss is a call");
    let sd = (0.7 * 0.3 / c.lookups as f64).sqrt();
    assert!(
        (c.hit_rate - 0.7).abs() < 4.0 * sd,
        "{} vs 0.7 ± {}",
        c.hit_rate,
        4.0 * sd
    );
    assert!(s.edges["users->web"].cache.is_none(), "no cache there");
    assert!(s.services["web"].requests.as_ref().unwrap().cold_start.is_none());
}

/// The web replica crashes over [100 s, 110 s) and its cache refills
/// linearly to 0.8 over 200 s from its first request after: the hits of a
/// trial are Poisson with mean `λ ∫ h(t) dt` = 100 × (0.8 × 100 + 0.8 ×
/// 200 / 2 + 0.8 × 290) = 39 200 (a cache that never emptied: 47 200).
#[test]
fn a_refilling_cache_hits_lambda_times_the_integral_of_its_hit_rate() {
    let text = crate::util::REFILLING_CACHE;
    let (s, rows) = simulate(text, 16, 9);
    let hits: Vec<f64> = rows
        .iter()
        .map(|r| r.traffic.as_ref().unwrap().cache[1][1] as f64)
        .collect();
    let (_, ci) = t_ci95(&hits);
    assert_covers("cache hits per trial", 39_200.0, ci, 0.01 * 39_200.0);
    assert_excludes("a cache that never emptied", 47_200.0, ci);
    let c = s.edges["web->db"].cache.as_ref().expect("a cache");
    assert_eq!(c.hits as f64, hits.iter().sum::<f64>());
}

/// One replica, a request each second, crashed over [100.5 s, 110.5 s)
/// (`tests/load.rs`): the request at 111 s begins one cold start of 100 s
/// a trial. A second crash over [150.5 s, 160.5 s) cuts it to 50 s and
/// begins another at 161 s: 2 a trial, 150 s cold. A crash late in the
/// horizon: the cold start at 261 s is cut to 39 s at 300 s.
#[test]
fn cold_starts_and_time_cold_by_hand() {
    const COLD: &str = r#"
horizon = "300s"
[[workload]]
name = "users"
to = "api"
rate = 1
arrival = "constant"
[[service]]
name = "api"
service_time = { dist = "fixed", mean = "10ms" }
cold_start = { factor = 3.0, duration = "100s" }
[[fault]]
kind = "crash"
target = "api"
at = "100.5s"
duration = "10s"
"#;
    let cold = |text: &str| {
        let (s, _) = simulate(text, 3, 5);
        let c = s.services["api"].requests.as_ref().unwrap().cold_start.clone();
        let c = c.expect("a cold start is configured");
        (c.starts, c.cold_s)
    };
    let (starts, s) = cold(COLD);
    assert_eq!(starts, 3);
    assert!((s - 100.0).abs() < 1e-9, "{s}");
    let twice = format!("{COLD}[[fault]]\nkind = \"crash\"\ntarget = \"api\"\nat = \"150.5s\"\nduration = \"10s\"\n");
    let (starts, s) = cold(&twice);
    assert_eq!(starts, 6);
    assert!((s - 150.0).abs() < 1e-9, "{s}");
    let (starts, s) = cold(&COLD.replace("at = \"100.5s\"", "at = \"250.5s\""));
    assert_eq!(starts, 3);
    assert!((s - 39.0).abs() < 1e-9, "{s}");
    let (starts, s) = cold(&COLD.replace("at = \"100.5s\"", "at = \"400s\""));
    assert_eq!((starts, s), (0, 0.0), "never restarted, never cold");
}

/// M/M/1 with deterministic patience: one bulkhead slot in front of a
/// callee that serves each call at once in an exponential time (rate μ),
/// Poisson calls (rate λ), each giving up after τ in the queue. A call
/// waits exactly the workload V it finds, and leaves when V > τ; V has an
/// atom p0 at 0 and density `p0 λ e^{-(μ-λ)x}` below τ, `p0 λ e^{-(μ-λ)τ}
/// e^{-μ(x-τ)}` above (level crossing), so the share that gives up is
/// `p0 (λ/μ) e^{-(μ-λ)τ}` with `1/p0 = 1 + λ/(μ-λ) (1 - e^{-(μ-λ)τ}) +
/// (λ/μ) e^{-(μ-λ)τ}`: 0.18783 for λ = 80, μ = 100, τ = 20 ms. Without
/// the impatience (Erlang C's P(W > τ)) it would be 0.536. Each of them
/// waited τ exactly.
#[test]
fn queue_timeouts_follow_mm1_with_deterministic_patience() {
    let text = r#"
horizon = "400s"
[[workload]]
name = "users"
to = "api"
rate = 80
bulkhead = { max_concurrent = 1, max_queue = 100000, queue_timeout = "20ms" }
[[service]]
name = "api"
service_time = { mean = "10ms" }
"#;
    let (lambda, mu, tau) = (80.0f64, 100.0f64, 0.02f64);
    let e = (-(mu - lambda) * tau).exp();
    let p0 = 1.0 / (1.0 + lambda / (mu - lambda) * (1.0 - e) + lambda / mu * e);
    let truth = p0 * lambda / mu * e;
    let mut share = Vec::new();
    for seed in 1..=8 {
        let (s, _) = simulate(text, 1, seed);
        let edge = &s.edges["users->api"];
        let b = edge.bulkhead.as_ref().expect("a bulkhead");
        let g = b.gave_up.as_ref().expect("a queue timeout is configured");
        assert_eq!(
            g.queue_timeouts, b.rejected,
            "the queue never fills: every rejection is a timeout"
        );
        let pending = edge.calls - b.accepted - g.queue_timeouts;
        assert!(pending < 10, "calls still waiting at the horizon: {pending}");
        assert!(
            (g.queue_timeout_mean_wait_s - tau).abs() < 1e-9,
            "{}",
            g.queue_timeout_mean_wait_s
        );
        for q in [g.queue_timeout_wait_p50_s, g.queue_timeout_wait_max_s] {
            assert!((q - tau).abs() < 1e-3 * tau, "{q}");
        }
        assert!(b.wait_max_s <= tau * 1.001, "a call let in waited at most τ");
        share.push(g.queue_timeouts as f64 / edge.calls as f64);
    }
    let (_, ci) = t_ci95(&share);
    assert_covers("share of calls that gave up", truth, ci, 0.01);
    assert_excludes("no impatience", lambda / mu * e, ci);
}

/// The fields are there only with a queue timeout.
#[test]
fn no_queue_timeout_no_queue_timeout_fields() {
    let dir = Dir::new();
    dir.write(
        "b.toml",
        r#"
horizon = "20s"
[[workload]]
name = "users"
to = "api"
rate = 80
bulkhead = { max_concurrent = 1, max_queue = 100000 }
[[service]]
name = "api"
service_time = { mean = "10ms" }
"#,
    );
    let json = dir
        .nines(&["run", "b.toml", "--trials", "2", "--format", "json", "--no-write"])
        .ok();
    assert!(json.contains("\"wait_p50_s\""), "{json}");
    assert!(!json.contains("queue_timeout"), "{json}");
}

/// A bulkhead's books by hand: calls give up after `τ`, their waits kept
/// apart from those let in.
#[test]
fn abandoned_waits_are_kept_apart() {
    use nines::resilience::bulkhead::{Admission, Bulkhead, BulkheadConfig};
    let mut b = Bulkhead::new(BulkheadConfig {
        max_concurrent: 1,
        max_queue: 4,
        queue_timeout: Some(30_000_000),
    })
    .unwrap();
    assert_eq!(b.try_enter(0, 1), Admission::Run);
    assert_eq!(b.try_enter(10_000_000, 2), Admission::Queued);
    assert_eq!(b.try_enter(20_000_000, 3), Admission::Queued);
    assert!(b.gave_up().is_none());
    assert!(b.abandon_at(2, 40_000_000));
    assert!(!b.abandon_at(2, 41_000_000), "gone already");
    assert_eq!(b.leave(45_000_000), Some(3));
    let g = b.gave_up().expect("one gave up");
    assert_eq!((g.waits.len(), g.total_wait), (1, 30_000_000));
    assert_eq!(b.total_wait(), 25_000_000, "the call let in");
    assert_eq!((b.rejected(), b.queued()), (1, 1));
}

/// Caches, cold starts and queue timeouts in one scenario with crashes:
/// the same bytes on 1 and 2 threads, and shards merge into one run.
const ALL: &str = r#"
name = "observed"
horizon = "60s"
trials = 4
seed = 3
[[workload]]
name = "users"
to = "web"
rate = 200
timeout = "500ms"
[[service]]
name = "web"
topology = "active-active"
replicas = 2
concurrency = 8
service_time = { mean = "2ms" }
cold_start = { factor = 2.0, duration = "10s" }
failure = { mean = "40s" }
repair = { mean = "3s" }
[[service.call]]
to = "db"
cache = { hit_rate = 0.6, warmup = "5s" }
bulkhead = { max_concurrent = 2, max_queue = 50, queue_timeout = "5ms" }
[[service]]
name = "db"
service_time = { mean = "4ms" }
"#;

#[test]
fn observed_books_are_deterministic_and_merge_from_shards() {
    let dir = Dir::new();
    dir.write("all.toml", ALL);
    let run = |threads: &str| {
        dir.nines(&[
            "run",
            "all.toml",
            "--threads",
            threads,
            "--format",
            "json",
            "--no-write",
        ])
        .ok()
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    for key in ["\"cache\"", "\"cold_start\"", "\"queue_timeouts\""] {
        assert!(one.contains(key), "{key}: {one}");
    }
    crate::shard::assert_shards_match(&dir, "all.toml", "4", &[2, 3], &[]);
}
