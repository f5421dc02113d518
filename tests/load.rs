//! Servers under load (issue 20): load-dependent service time against the
//! exact embedded Markov chain of a queue whose service slows with its
//! length and a hand-traced utilisation case; cold starts after a crash and
//! a deploy against hand-summed latencies; a cache's offered load against
//! `(1 - h) λ`, and its refill after a restart against the integral of the
//! miss-rate curve; bad input; determinism across thread counts.

use crate::util::{Dir, assert_covers, assert_excludes, simulate, t_ci95};

/// The time-average number in system of a single-server queue with
/// Poisson arrivals at `lambda` whose service time, drawn when a job
/// starts, is exponential at rate `mu(k)`, `k` the jobs waiting then (the
/// starting one not counted).
///
/// The number a departure leaves behind is a Markov chain: the next job
/// starts with `k = max(i - 1, 0)` waiting and `A` arrivals come during
/// its service, `P(A = a) = p q^a` with `p = mu(k) / (lambda + mu(k))`,
/// `q = 1 - p`, so `i -> max(i - 1, 0) + A`. Its stationary law is the
/// law arrivals see (level crossing: the system moves by one), which is
/// the time average (PASTA). Solved by power iteration on `n` states.
fn queue_dependent_l(lambda: f64, mu: impl Fn(usize) -> f64, n: usize) -> f64 {
    let mut pi = vec![0.0; n];
    pi[0] = 1.0;
    for _ in 0..200_000 {
        let mut next = vec![0.0; n];
        for (i, &p_i) in pi.iter().enumerate() {
            if p_i == 0.0 {
                continue;
            }
            let k = i.saturating_sub(1);
            let m = mu(k);
            let (p, q) = (m / (lambda + m), lambda / (lambda + m));
            let mut w = p_i * p;
            for next_j in next.iter_mut().skip(k) {
                *next_j += w;
                w *= q;
                if w < 1e-300 {
                    break;
                }
            }
        }
        let total: f64 = next.iter().sum();
        next.iter_mut().for_each(|x| *x /= total);
        let change: f64 = next.iter().zip(&pi).map(|(a, b)| (a - b).abs()).sum();
        pi = next;
        if change < 1e-14 {
            break;
        }
    }
    pi.iter().enumerate().map(|(j, p)| j as f64 * p).sum()
}

#[test]
fn the_chain_solver_gives_mm1_for_a_flat_curve() {
    let l = queue_dependent_l(40.0, |_| 100.0, 400);
    assert!((l - 0.4 / 0.6).abs() < 1e-9, "{l}");
}

const QUEUE_SLOWDOWN: &str = r#"
name = "slower with a longer queue"
horizon = "4000s"
[[workload]]
name = "users"
to = "api"
rate = 40
[[service]]
name = "api"
concurrency = 1
service_time = { mean = "10ms" }
slowdown = { by = "queue", curve = [[0, 1.0], [4, 2.0]] }
"#;

/// Service at 100/s times `1 + k/4` up to 2 (`k` waiting at the start),
/// arrivals at 40/s: the mean response time is `L / λ` (Little) with `L`
/// from the chain above, and the interval excludes plain M/M/1.
#[test]
fn queue_slowdown_matches_the_embedded_chain() {
    let f = |k: usize| (1.0 + k as f64 / 4.0).min(2.0);
    let l = queue_dependent_l(40.0, |k| 100.0 / f(k), 600);
    let truth = l / 40.0;
    let (_, rows) = simulate(QUEUE_SLOWDOWN, 40, 11);
    let (_, ci) = t_ci95(&crate::util::mean_latency(&rows));
    assert_covers("mean response time (s)", truth, ci, 0.02 * truth);
    assert_excludes("M/M/1 without the slowdown", 1.0 / 60.0, ci);
}

/// Two slots, a request every second, 1.5 s of work: each request after
/// the first starts while its predecessor still runs, so both slots are
/// busy (utilisation 1, factor 1.2: 1.8 s) and never a third; the first
/// runs alone (0.5, factor 1: 1.5 s).
#[test]
fn utilisation_slowdown_by_hand() {
    let text = r#"
horizon = "20s"
[[workload]]
name = "users"
to = "api"
rate = 1
arrival = "constant"
[[service]]
name = "api"
concurrency = 2
service_time = { dist = "fixed", mean = "1.5s" }
slowdown = { by = "utilisation", curve = [[0.5, 1.0], [1.0, 1.2]] }
"#;
    let (_, rows) = simulate(text, 2, 1);
    for r in &rows {
        let t = r.traffic.as_ref().unwrap();
        assert!((16..=19).contains(&t.requests), "{}", t.requests);
        let want = 1.5 + 1.8 * (t.requests - 1) as f64;
        assert!((t.latency_sum - want).abs() < 1e-6, "{} vs {want}", t.latency_sum);
    }
}

/// One replica, 10 ms fixed, a request each second, no queueing even at 3
/// times the service time. Crashed over [100.5 s, 110.5 s): the requests
/// at 101..=110 are refused, and the one at 111 starts the warm-up. With
/// a linear decay from 3 over 100 s the request at `111 + m` takes
/// `10 ms × (3 - 2m/100)` for m < 100: the 289 served requests of the
/// horizon sum to `10 ms × (289 + 200 - 99)` = 3.90 s; with a step, 4.89 s.
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

fn served_sum(text: &str) -> Vec<(u64, f64)> {
    let (_, rows) = simulate(text, 3, 5);
    rows.iter()
        .map(|r| {
            let t = r.traffic.as_ref().unwrap();
            (t.success, t.served_latency_sum)
        })
        .collect()
}

#[test]
fn a_cold_start_after_a_crash_by_hand() {
    for (served, sum) in served_sum(COLD) {
        assert_eq!(served, 289);
        assert!((sum - 3.90).abs() < 1e-6, "{sum}");
    }
    let step = COLD.replace("duration = \"100s\" }", "duration = \"100s\", decay = \"step\" }");
    for (served, sum) in served_sum(&step) {
        assert_eq!(served, 289);
        assert!((sum - 4.89).abs() < 1e-6, "{sum}");
    }
    // Without the crash nothing is cold: 299 requests of 10 ms.
    let warm = COLD.replace("at = \"100.5s\"", "at = \"400s\"");
    for (served, sum) in served_sum(&warm) {
        assert_eq!(served, 299);
        assert!((sum - 2.99).abs() < 1e-6, "{sum}");
    }
}

/// The same replica restarted by a deploy instead (out for 10 s from
/// 100.5 s): the same warm-up, the same 3.90 s.
#[test]
fn a_cold_start_after_a_deploy_restart() {
    let (head, _) = COLD.split_once("[[fault]]").unwrap();
    let text = format!("{head}[[deploy]]\nservice = \"api\"\nat = [\"100.5s\"]\nrestart = \"10s\"\n");
    for (served, sum) in served_sum(&text) {
        assert_eq!(served, 289);
        assert!((sum - 3.90).abs() < 1e-6, "{sum}");
    }
}

const CACHED: &str = r#"
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

/// With a warm cache of hit rate h, the calls that reach the database are
/// a thinning of the requests: `(1 - h) λ T` = 6000 per trial.
#[test]
fn a_warm_cache_passes_the_miss_share_on() {
    let (summary, rows) = simulate(CACHED, 20, 3);
    let calls: Vec<f64> = rows
        .iter()
        .map(|r| r.traffic.as_ref().unwrap().edges[1].calls as f64)
        .collect();
    let (_, ci) = t_ci95(&calls);
    assert_covers("calls to db per trial", 0.3 * 100.0 * 200.0, ci, 0.02 * 6000.0);
    assert_excludes("every request a call", 20_000.0, ci);
    let db = &summary.services["db"];
    assert_eq!(db.requests.as_ref().unwrap().received, summary.edges["web->db"].calls);
    // And every request is served, hits or not.
    assert!(summary.requests.as_ref().unwrap().success_ratio.mean > 0.9999);
}

/// The web replica crashes over [100 s, 110 s) and comes back with an empty
/// cache, filling linearly to 0.8 over 200 s from its first request (at
/// 110 s plus an arrival gap of about 10 ms). The calls started in the
/// timeline buckets (10 s each) from 110 s to 310 s are `λ ∫ (1 - h(t)) dt
/// = 100 × 200 × (1 - 0.8 / 2)` = 12 000 per trial; a warm cache would
/// pass 4000, a cache that stayed cold 20 000.
#[test]
fn a_restarted_cache_refills_along_its_curve() {
    let text = crate::util::REFILLING_CACHE;
    let window = |text: &str| {
        let (_, rows) = simulate(text, 16, 9);
        let per_trial: Vec<f64> = rows
            .iter()
            .map(|r| {
                let t = r.traffic.as_ref().unwrap();
                (11..31).map(|b| f64::from(t.edge_timeline[60 + b][0])).sum()
            })
            .collect();
        t_ci95(&per_trial).1
    };
    let ci = window(text);
    assert_covers("calls in the warm-up", 12_000.0, ci, 0.015 * 12_000.0);
    assert_excludes("a warm cache", 4000.0, ci);
    // Exponential fill with time constant 100 s over the same 200 s:
    // λ (200 - 0.8 (200 - 100 (1 - e^-2))) = 100 × (40 + 80 (1 - e^-2)).
    let exp = text.replace("warmup = \"200s\" }", "warmup = \"100s\", fill = \"exponential\" }");
    let truth = 100.0 * (40.0 + 80.0 * (1.0 - (-2.0f64).exp()));
    let ci = window(&exp);
    assert_covers("calls in the exponential warm-up", truth, ci, 0.015 * truth);
    assert_excludes("the linear fill", 12_000.0, ci);
}

fn bad(text: &str) -> String {
    let dir = Dir::new();
    dir.write("bad.toml", text);
    dir.nines(&["check", "bad.toml"]).bad_input()
}

const BASE: &str = r#"
[[workload]]
name = "users"
to = "api"
rate = 10
[[service]]
name = "api"
service_time = { mean = "10ms" }
"#;

#[test]
fn bad_load_keys_are_refused_with_the_key_named() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "slowdown = { by = \"utilisation\", curve = [[0.5, 1.0]] }",
            "service.api.slowdown.by",
            "concurrency is unlimited",
        ),
        (
            "slowdown = { by = \"load\", curve = [[0.5, 1.0]] }",
            "service.api.slowdown.by",
            "utilisation",
        ),
        (
            "slowdown = { by = \"queue\", curve = [[2, 1.0], [1, 2.0]] }",
            "service.api.slowdown.curve",
            "strictly increase",
        ),
        (
            "slowdown = { by = \"queue\", curve = [[2, 1.0, 3.0]] }",
            "service.api.slowdown.curve",
            "[x, factor]",
        ),
        (
            "slowdown = { by = \"queue\", curve = [] }",
            "service.api.slowdown.curve",
            "no point",
        ),
        (
            "slowdown = { by = \"queue\", curve = [[1, 0.0]] }",
            "service.api.slowdown.curve",
            "above 0",
        ),
        (
            "cold_start = { factor = 0.5, duration = \"1m\" }",
            "service.api.cold_start.factor",
            "at least 1",
        ),
        (
            "cold_start = { factor = 2.0, duration = \"0s\" }",
            "service.api.cold_start.duration",
            "longer than zero",
        ),
        (
            "cold_start = { factor = 2.0, duration = \"1m\", decay = \"slow\" }",
            "service.api.cold_start.decay",
            "linear",
        ),
    ];
    for (line, key, says) in cases {
        let err = bad(&format!("{BASE}{line}\n"));
        assert!(err.contains(key) && err.contains(says), "{line}:\n{err}");
        assert!(err.contains("bad.toml:"), "{err}");
    }
    let no_service_time = "[[service]]\nname = \"api\"\ncold_start = { factor = 2.0, duration = \"1m\" }\n";
    let err = bad(no_service_time);
    assert!(
        err.contains("service.api.cold_start") && err.contains("serves no requests"),
        "{err}"
    );
    let caches: &[(&str, &str, &str)] = &[
        (
            "cache = { hit_rate = 1.5 }",
            "service.api.call.cache.hit_rate",
            "between 0 and 1",
        ),
        (
            "cache = { hit_rate = 0.5, fill = \"exponential\" }",
            "service.api.call.cache.warmup",
            "time constant",
        ),
        (
            "cache = { hit_rate = 0.5, fill = \"cubic\" }",
            "service.api.call.cache.fill",
            "exponential",
        ),
        ("cache = { hit = 0.5 }", "hit", "hit_rate"),
    ];
    for (line, key, says) in caches {
        let text = format!(
            "{BASE}[[service.call]]\nto = \"db\"\n{line}\n[[service]]\nname = \"db\"\nservice_time = {{ mean = \"1ms\" }}\n"
        );
        let err = bad(&text);
        assert!(err.contains(key) && err.contains(says), "{line}:\n{err}");
    }
}

#[test]
fn load_keys_are_deterministic_across_threads() {
    let dir = Dir::new();
    let text = format!(
        "{}\n[[fault]]\nkind = \"crash\"\ntarget = \"web\"\nat = \"50s\"\nduration = \"5s\"\n",
        CACHED
            .replace("cache = { hit_rate = 0.7 }", "cache = { hit_rate = 0.7, warmup = \"30s\" }")
            .replace(
                "name = \"db\"\n",
                "name = \"db\"\nconcurrency = 2\nslowdown = { by = \"utilisation\", curve = [[0.5, 1.0], [1.0, 2.0]] }\ncold_start = { factor = 2.0, duration = \"20s\" }\n"
            )
    );
    dir.write("c.toml", &text);
    let run = |threads: &str| {
        dir.nines(&[
            "run",
            "c.toml",
            "--trials",
            "6",
            "--seed",
            "3",
            "--threads",
            threads,
            "--format",
            "json",
            "--no-write",
            "--quiet",
        ])
        .ok()
    };
    assert_eq!(run("1"), run("2"));
}
