//! Property tests over generated valid scenarios: random regions, services
//! (topologies, replica counts, distributions, a DAG of calls) and, half the
//! time, a small workload with client policies. For each: the scenario
//! validates; the simulation returns without panicking; every trial's
//! availability lies in [0, 1] and its downtime within the horizon; every
//! request concluded is a success, a degraded success or a failure; and the
//! summary and trials are identical on one and on three threads.

use nines::RunOptions;
use nines::model::TrialResult;
use proptest::prelude::*;

fn dist(mean_lo: u64, mean_hi: u64, unit: &'static str) -> impl Strategy<Value = String> {
    let m = mean_lo..=mean_hi;
    prop_oneof![
        m.clone().prop_map(move |m| format!("{{ mean = \"{m}{unit}\" }}")),
        (m.clone(), 5u32..40).prop_map(move |(m, s)| format!(
            "{{ dist = \"weibull\", shape = {}, mean = \"{m}{unit}\" }}",
            f64::from(s) / 10.0
        )),
        (m.clone(), 1u32..20).prop_map(move |(m, cv)| format!(
            "{{ dist = \"lognormal\", cv = {}, mean = \"{m}{unit}\" }}",
            f64::from(cv) / 10.0
        )),
        (m.clone(), 5u32..40).prop_map(move |(m, s)| format!(
            "{{ dist = \"gamma\", shape = {}, mean = \"{m}{unit}\" }}",
            f64::from(s) / 10.0
        )),
        m.clone()
            .prop_map(move |m| format!("{{ dist = \"fixed\", mean = \"{m}{unit}\" }}")),
        (m.clone(), m).prop_map(move |(a, b)| format!(
            "{{ dist = \"uniform\", min = \"{}{unit}\", max = \"{}{unit}\" }}",
            a.min(b),
            a.max(b)
        )),
    ]
}

#[derive(Debug, Clone)]
struct Svc {
    topology: &'static str,
    replicas: u32,
    min_healthy: u32,
    failure: Option<(String, String)>,
    cold: bool,
    in_regions: Vec<bool>,
    calls: Vec<(bool, bool, Option<u32>)>,
    concurrency: Option<u32>,
    queue: Option<u32>,
}

fn service(regions: usize, later: usize) -> impl Strategy<Value = Svc> {
    (
        prop_oneof![Just("single"), Just("active-passive"), Just("active-active")],
        1u32..=4,
        0u32..4,
        proptest::option::weighted(0.8, (dist(1, 500, "h"), dist(1, 600, "m"))),
        any::<bool>(),
        proptest::collection::vec(any::<bool>(), regions),
        proptest::collection::vec((any::<bool>(), any::<bool>(), proptest::option::of(1u32..4)), later),
        (proptest::option::of(1u32..16), proptest::option::of(0u32..32)),
    )
        .prop_map(
            |(topology, replicas, mh, failure, cold, in_regions, calls, (concurrency, queue))| {
                let replicas = if topology == "single" { 1 } else { replicas.max(2) };
                Svc {
                    topology,
                    replicas,
                    min_healthy: 1 + mh % replicas,
                    failure,
                    cold,
                    in_regions,
                    calls,
                    concurrency,
                    queue,
                }
            },
        )
}

#[derive(Debug, Clone)]
struct Gen {
    text: String,
    horizon_s: f64,
    requests: bool,
}

fn scenario() -> impl Strategy<Value = Gen> {
    (0usize..=2, 1usize..=3, any::<bool>())
        .prop_flat_map(|(nr, ns, requests)| {
            let services: Vec<_> = (0..ns).map(|i| service(nr, ns - 1 - i)).collect();
            (
                proptest::collection::vec(proptest::option::of((dist(1, 50, "w"), dist(1, 48, "h"))), nr),
                services,
                Just(requests),
                prop_oneof![Just("active-active"), Just("active-passive")],
                1u32..=20,
                1u32..=30,
                proptest::option::of(10u32..500),
                any::<u64>(),
            )
        })
        .prop_map(|(regions, services, requests, mode, horizon, rate, timeout_ms, seed)| {
            render(&regions, &services, requests, mode, horizon, rate, timeout_ms, seed)
        })
}

#[allow(clippy::too_many_arguments)]
fn render(
    regions: &[Option<(String, String)>],
    services: &[Svc],
    requests: bool,
    mode: &str,
    horizon: u32,
    rate: u32,
    timeout_ms: Option<u32>,
    seed: u64,
) -> Gen {
    use std::fmt::Write as _;
    // Request-level trials are short (minutes); time-based ones long (weeks).
    let (horizon, horizon_s) = if requests {
        (format!("{horizon}m"), f64::from(horizon) * 60.0)
    } else {
        (format!("{horizon}w"), f64::from(horizon) * 7.0 * 86_400.0)
    };
    let mut t = format!("horizon = \"{horizon}\"\ntrials = 4\nseed = {seed}\nentry = \"s0\"\n");
    if services.iter().any(|s| s.in_regions.contains(&true)) {
        writeln!(t, "[global]\nmode = \"{mode}\"\nfailover = \"5m\"").unwrap();
    }
    for (i, r) in regions.iter().enumerate() {
        writeln!(t, "[[region]]\nname = \"r{i}\"").unwrap();
        if let Some((f, rep)) = r {
            writeln!(t, "failure = {f}\nrepair = {rep}").unwrap();
        }
    }
    if requests {
        write!(t, "[[workload]]\nname = \"users\"\nto = \"s0\"\nrate = {rate}\n").unwrap();
        if let Some(ms) = timeout_ms {
            writeln!(
                t,
                "timeout = \"{ms}ms\"\nretry = {{ max_attempts = 2, base = \"5ms\" }}"
            )
            .unwrap();
        }
    }
    for (i, s) in services.iter().enumerate() {
        writeln!(
            t,
            "[[service]]\nname = \"s{i}\"\ntopology = \"{}\"\nreplicas = {}",
            s.topology, s.replicas
        )
        .unwrap();
        if s.topology == "active-active" {
            writeln!(t, "min_healthy = {}", s.min_healthy).unwrap();
        }
        if s.topology == "active-passive" && s.cold {
            writeln!(t, "standby = \"cold\"").unwrap();
        }
        let placed: Vec<String> = s
            .in_regions
            .iter()
            .enumerate()
            .filter(|(_, on)| **on)
            .map(|(r, _)| format!("\"r{r}\""))
            .collect();
        if !placed.is_empty() {
            writeln!(t, "regions = [{}]", placed.join(", ")).unwrap();
        }
        if let Some((f, r)) = &s.failure {
            writeln!(t, "failure = {f}\nrepair = {r}").unwrap();
        }
        if requests {
            writeln!(t, "service_time = {{ mean = \"{}ms\" }}", 2 + i * 3).unwrap();
            if let Some(c) = s.concurrency {
                writeln!(t, "concurrency = {c}").unwrap();
            }
            if let Some(q) = s.queue {
                writeln!(t, "queue = {q}").unwrap();
            }
        }
        for (k, &(on, fallback, attempts)) in s.calls.iter().enumerate() {
            if !on {
                continue;
            }
            writeln!(t, "[[service.call]]\nto = \"s{}\"\nfallback = {fallback}", i + 1 + k).unwrap();
            if requests && let Some(a) = attempts {
                writeln!(
                    t,
                    "timeout = \"50ms\"\nretry = {{ max_attempts = {a}, base = \"1ms\" }}"
                )
                .unwrap();
            }
        }
    }
    Gen {
        text: t,
        horizon_s,
        requests,
    }
}

fn run(sc: &nines::Scenario, threads: usize) -> (String, Vec<TrialResult>) {
    let options = RunOptions {
        threads: Some(threads),
        ..RunOptions::default()
    };
    let mut rows = Vec::new();
    let summary = nines::simulate(sc, &options, |_, r| {
        rows.push(r.clone());
        Ok(())
    })
    .expect("a valid scenario runs");
    (serde_json::to_string(&summary).expect("JSON"), rows)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_scenarios_simulate_soundly(g in scenario()) {
        let sc = nines::scenario::parse("gen.toml", "gen", &g.text, &[])
            .unwrap_or_else(|e| panic!("generated scenario invalid: {e}\n{}", g.text));
        let (one, rows) = run(&sc, 1);
        prop_assert_eq!(rows.len(), 4);
        for r in &rows {
            prop_assert!((0.0..=1.0).contains(&r.availability), "availability {} in\n{}", r.availability, g.text);
            prop_assert!(r.downtime >= 0.0 && r.downtime <= g.horizon_s * (1.0 + 1e-12), "downtime {} over {}", r.downtime, g.horizon_s);
            for &a in r.services.iter().chain(&r.regions) {
                prop_assert!((0.0..=1.0).contains(&a), "part availability {a}");
            }
            prop_assert_eq!(r.traffic.is_some(), g.requests);
            if let Some(t) = &r.traffic {
                prop_assert_eq!(t.success + t.degraded + t.failed, t.requests, "request outcomes in\n{}", g.text);
            }
        }
        let (three, rows3) = run(&sc, 3);
        prop_assert_eq!(one, three, "summary differs across thread counts");
        prop_assert_eq!(rows, rows3);
    }
}
