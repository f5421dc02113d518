//! Windowed request sampling with the request-side policies of issue 20
//! (`src/model/windowed/policies.rs`): agreement with full simulation on
//! compressed models where full is affordable, and the same bytes on one
//! and two threads.

use crate::util::{Dir, assert_covers, simulate, t_ci95};

/// A compressed model (three hours, a web tier of three replicas failing
/// every 90 minutes each, an active-passive database failing every hour
/// with a 40 s failover) whose entry calls hedge at the 90th percentile of
/// the last 100 successes (a heavy-tailed web tier, so hedges win), under a
/// hedge budget, and whose database calls retry under a budget by
/// concurrency.
const HEDGED: &str = r#"
name = "hedged, compressed"
horizon = "3h"

[[workload]]
name = "clients"
to = "web"
rate = 20
timeout = "2s"
retry = { max_attempts = 2, backoff = "constant", base = "50ms", retry_on = ["refused", "error", "timeout"] }
hedge = { quantile = 0.9, window = 100, budget = { ratio = 0.2, burst = 10 } }

[[service]]
name = "web"
topology = "active-active"
replicas = 3
concurrency = 32
queue = 64
service_time = { dist = "lognormal", mean = "10ms", cv = 3.0 }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "90m" }
repair = { mean = "10m" }

[[service.call]]
to = "db"
timeout = "200ms"
retry = { max_attempts = 4, backoff = "constant", base = "20ms", concurrency_budget = { percent = 20.0, min_retry_concurrency = 1 } }

[[service]]
name = "db"
topology = "active-passive"
replicas = 2
concurrency = 32
service_time = { mean = "3ms" }
failure = { mean = "1h" }
repair = { mean = "15m" }
failover = { detect = "10s", switch = "30s", success = 0.9 }
"#;

/// Request availability of each trial: served / requests.
fn request_availability(rows: &[nines::model::TrialResult]) -> Vec<f64> {
    rows.iter()
        .map(|r| {
            let t = r.traffic.as_ref().expect("requests");
            (t.success + t.degraded) as f64 / t.requests as f64
        })
        .collect()
}

/// Per trial: `f` of edge `edge`'s client counts, per request.
fn per_request(
    rows: &[nines::model::TrialResult],
    edge: usize,
    f: fn(&nines::model::counts::ClientCounts) -> u64,
) -> Vec<f64> {
    rows.iter()
        .map(|r| {
            let t = r.traffic.as_ref().expect("requests");
            f(&t.edges[edge].client) as f64 / t.requests as f64
        })
        .collect()
}

/// Paired by seed (the same failure paths): the mean of windowed minus
/// full within its 95 % interval's half-width (at most `slack` times the
/// full level) plus three standard errors of the shared stationary samples
/// (`sample_n` requests each, a count per request of variance at most its
/// mean), which the pairing cannot show.
fn agree(name: &str, full: &[f64], windowed: &[f64], slack: f64, sample_n: f64) -> f64 {
    let diffs: Vec<f64> = full.iter().zip(windowed).map(|(f, w)| w - f).collect();
    let (mean, ci) = t_ci95(&diffs);
    let level = full.iter().sum::<f64>() / full.len() as f64;
    let half = (ci[1] - ci[0]) / 2.0;
    let shared = (level / sample_n).sqrt();
    println!(
        "{name}: full {level:.4e}, windowed - full {mean:+.3e} ci95 [{:.3e}, {:.3e}], shared samples' s.e. {shared:.2e}",
        ci[0], ci[1]
    );
    assert!(half <= slack * level, "{name}: interval too wide ({half:.3e})");
    assert!(mean.abs() <= half + 3.0 * shared, "{name}: windowed and full disagree");
    level
}

#[test]
fn windowed_agrees_with_full_simulation_with_hedging_and_a_concurrency_budget() {
    let trials = 12;
    let full = HEDGED.replace("horizon = \"3h\"", "horizon = \"3h\"\nrequest_sampling = \"full\"");
    let windowed = HEDGED.replace("horizon = \"3h\"", "horizon = \"3h\"\nrequest_sampling = \"windowed\"");
    let (sf, rf) = simulate(&full, trials, 3);
    let (sw, rw) = simulate(&windowed, trials, 3);
    assert_eq!(sf.requests.as_ref().unwrap().sampling.as_deref(), Some("full"));
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("windowed: {w:?}");
    assert_eq!(w.metastable_windows, 0, "{w:?}");
    let n = w.sample_requests as f64 / w.configurations_sampled as f64;
    let (af, aw) = (request_availability(&rf), request_availability(&rw));
    let loss = 1.0 - af.iter().sum::<f64>() / af.len() as f64;
    assert!(loss > 1e-3, "the model must lose requests to mean anything: {loss}");
    let diffs: Vec<f64> = af.iter().zip(&aw).map(|(f, w)| w - f).collect();
    let (mean, ci) = t_ci95(&diffs);
    println!(
        "loss {loss:.3e}, windowed - full {mean:+.3e} ci95 [{:.3e}, {:.3e}]",
        ci[0], ci[1]
    );
    assert_covers("windowed - full", 0.0, ci, 0.05 * loss);
    let hedges = agree(
        "hedges per request",
        &per_request(&rf, 0, |c| c.hedges),
        &per_request(&rw, 0, |c| c.hedges),
        0.03,
        n,
    );
    assert!(hedges > 0.02, "the hedges must be many to mean anything: {hedges}");
    agree(
        "hedges won per request",
        &per_request(&rf, 0, |c| c.hedges_won),
        &per_request(&rw, 0, |c| c.hedges_won),
        0.05,
        n,
    );
    agree(
        "hedges refused per request",
        &per_request(&rf, 0, |c| c.hedges_refused),
        &per_request(&rw, 0, |c| c.hedges_refused),
        0.1,
        n,
    );
    let refused = agree(
        "retries refused by concurrency per request",
        &per_request(&rf, 1, |c| c.retries_refused_concurrency),
        &per_request(&rw, 1, |c| c.retries_refused_concurrency),
        0.1,
        n,
    );
    assert!(refused > 0.0, "the concurrency budget must refuse retries: {refused}");
    let peak = |rows: &[nines::model::TrialResult]| -> Vec<u64> {
        rows.iter()
            .map(|r| r.traffic.as_ref().unwrap().edges[1].client.retry_concurrency_peak)
            .collect()
    };
    println!(
        "retry concurrency peaks: full {:?}, windowed {:?}",
        peak(&rf),
        peak(&rw)
    );
    assert!(peak(&rw).iter().max() >= Some(&1), "the windows see retries in flight");
    for r in &rw {
        let e = &r.traffic.as_ref().unwrap().edges;
        assert_eq!(e[0].client.configured, nines::model::counts::ClientCounts::HEDGE);
        assert_eq!(e[1].client.configured, nines::model::counts::ClientCounts::CONCURRENCY);
    }
}

#[test]
fn windowed_hedging_is_the_same_on_one_and_two_threads() {
    let env = Dir::new();
    let path = env.write(
        "hedged.toml",
        &HEDGED.replace("horizon = \"3h\"", "horizon = \"3h\"\nrequest_sampling = \"windowed\""),
    );
    let path = path.to_str().unwrap();
    let run = |threads: &str| {
        env.nines(&[
            "run",
            path,
            "--trials",
            "4",
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
    assert!(one.contains("\"sampling\": \"windowed\""), "{one}");
    assert!(one.contains("\"hedge\""), "{one}");
    assert_eq!(one, run("2"));
}
