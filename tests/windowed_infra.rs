//! Windowed request sampling of the availability-side parts of a model:
//! zones, common causes, repair crews and spares; deploys and maintenance
//! windows. Each part is compared with full simulation on a compressed
//! model where full is affordable (same seeds, so the same failure paths:
//! paired per trial), and each comparison is shown able to fail: the
//! windowed estimate of the model without the part lies outside.

use crate::util::{Dir, assert_covers, t_ci95};

/// Request availability of each trial: served / requests.
fn request_availability(rows: &[nines::model::TrialResult]) -> Vec<f64> {
    rows.iter()
        .map(|r| {
            let t = r.traffic.as_ref().expect("requests");
            (t.success + t.degraded) as f64 / t.requests as f64
        })
        .collect()
}

/// `model` with `request_sampling = mode` set at its top.
fn with_sampling(model: &str, mode: &str) -> String {
    format!("request_sampling = \"{mode}\"\n{model}")
}

/// Runs `model` windowed and fully on the same seeds and asserts that the
/// paired difference of the request availability covers 0 within 5 % of
/// the full run's loss, that the time figures are equal trial by trial,
/// and that `wrong` (the model without the part under test, windowed) is
/// told apart: its paired difference from full excludes 0. Returns the
/// full and windowed rows.
fn agree(
    name: &str,
    model: &str,
    wrong: &str,
    trials: u64,
    seed: u64,
) -> (Vec<nines::model::TrialResult>, Vec<nines::model::TrialResult>) {
    let (sf, rf) = crate::util::simulate(&with_sampling(model, "full"), trials, seed);
    let (sw, rw) = crate::util::simulate(&with_sampling(model, "windowed"), trials, seed);
    assert_eq!(sf.requests.as_ref().unwrap().sampling.as_deref(), Some("full"));
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("{name}: windowed {w:?}");
    assert!(w.share_simulated < 0.9, "{w:?}");
    assert_eq!(w.metastable_windows, 0, "{w:?}");
    let (af, aw) = (request_availability(&rf), request_availability(&rw));
    let diffs: Vec<f64> = af.iter().zip(&aw).map(|(f, w)| w - f).collect();
    let (mean, ci) = t_ci95(&diffs);
    let loss = 1.0 - af.iter().sum::<f64>() / af.len() as f64;
    println!(
        "{name}: full loss {loss:.3e}, windowed - full {mean:+.3e} ci95 [{:.3e}, {:.3e}]",
        ci[0], ci[1]
    );
    assert!(loss > 1e-3, "{name}: the model must lose requests to mean anything: {loss}");
    assert_covers(&format!("{name}: windowed - full"), 0.0, ci, 0.05 * loss);
    for (a, b) in rf.iter().zip(&rw) {
        assert_eq!(a.availability, b.availability, "{name}: time figures");
        assert_eq!(a.ops, b.ops, "{name}: operations' figures");
    }
    let (nf, nw) = (
        sf.requests.as_ref().unwrap().total as f64,
        sw.requests.as_ref().unwrap().total as f64,
    );
    assert!((nw / nf - 1.0).abs() < 0.01, "{name}: {nw} vs {nf} requests");
    // The comparison can fail: the model without the part, windowed.
    let (_, rx) = crate::util::simulate(&with_sampling(wrong, "windowed"), trials, seed);
    let ax = request_availability(&rx);
    let diffs: Vec<f64> = af.iter().zip(&ax).map(|(f, x)| x - f).collect();
    let (wmean, wci) = t_ci95(&diffs);
    println!(
        "{name}: without the part - full {wmean:+.3e} ci95 [{:.3e}, {:.3e}]",
        wci[0], wci[1]
    );
    assert!(
        wci[0] > 0.0 || wci[1] < 0.0,
        "{name}: the comparison cannot tell the model without the part: {wci:?}"
    );
    (rf, rw)
}

/// A compressed model with every part of issue 19: a region of three
/// zones (each down every 3 hours or so for 10 minutes) with one repair
/// crew, a web tier spread over the zones with one spare, and an
/// active-passive database whose replicas a configuration push takes down
/// together about every 2 hours (a common cause).
const INFRA: &str = r#"
name = "compressed, zones"
horizon = "6h"

[[region]]
name = "eu"
crews = 1

[[region.zone]]
name = "eu-a"
failure = { mean = "3h" }
repair = { mean = "10m" }

[[region.zone]]
name = "eu-b"
failure = { mean = "3h" }
repair = { mean = "10m" }

[[region.zone]]
name = "eu-c"
failure = { mean = "3h" }
repair = { mean = "10m" }

[[common_cause]]
name = "config-push"
every = { mean = "2h" }
targets = ["db"]
probability = 0.7

[[workload]]
name = "clients"
to = "web"
rate = 20
timeout = "2s"
retry = { max_attempts = 2, backoff = "constant", base = "50ms", retry_on = ["refused", "error", "timeout"] }

[[service]]
name = "web"
topology = "active-active"
replicas = 3
regions = ["eu"]
spread = "zone"
concurrency = 32
queue = 64
service_time = { mean = "5ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "3h" }
repair = { mean = "10m" }
spares = { count = 1, lead_time = "20m" }

[[service.call]]
to = "db"
timeout = "200ms"
retry = { max_attempts = 3, backoff = "constant", base = "20ms" }

[[service]]
name = "db"
topology = "active-passive"
replicas = 2
regions = ["eu"]
spread = "zone"
concurrency = 32
service_time = { mean = "3ms" }
failure = { mean = "4h" }
repair = { mean = "15m" }
failover = { detect = "10s", switch = "30s" }
"#;

/// [`INFRA`] without its zones, common cause, crews and spares.
fn infra_without() -> String {
    let mut out = String::new();
    let mut skip = false;
    for line in INFRA.lines() {
        if line.starts_with('[') {
            skip = line == "[[region.zone]]" || line == "[[common_cause]]";
        }
        let dropped = line.starts_with("crews") || line.starts_with("spread") || line.starts_with("spares");
        if !skip && !dropped {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn windowed_agrees_with_full_simulation_with_zones_common_causes_crews_and_spares() {
    agree("infra", INFRA, &infra_without(), 16, 5);
}

/// The CLI's JSON output of `model`, windowed, on `threads` threads.
fn json(env: &Dir, model: &str, threads: &str) -> String {
    let path = env.write("m.toml", &with_sampling(model, "windowed"));
    env.nines(&[
        "run",
        path.to_str().unwrap(),
        "--trials",
        "4",
        "--seed",
        "9",
        "--threads",
        threads,
        "--format",
        "json",
        "--no-write",
    ])
    .ok()
}

#[test]
fn windowed_infra_output_is_the_same_on_one_and_two_threads() {
    let env = Dir::new();
    let one = json(&env, INFRA, "1");
    assert!(one.contains("\"sampling\": \"windowed\""), "{one}");
    assert_eq!(one, json(&env, INFRA, "2"));
}
