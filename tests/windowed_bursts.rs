//! Windowed request sampling of workloads with bursts (issue 18): a
//! burst's start and end are configuration changes, and the stationary
//! samples of a burst state run at its rates. Checked against full
//! simulation, paired by seed, on a compressed model where full is cheap.

use crate::util::{Dir, request_availability, simulate};

/// Three hours of a pool of 4 replicas (2 slots each, 25 ms a request:
/// 320 requests/s at most) failing every 40 minutes each, repaired in 5;
/// 50 requests/s, with four 5- to 8-minute bursts of 5x (250/s: 78 % busy
/// on 4 replicas, 104 %, overload, on 3). The bursts carry most of the
/// lost requests.
const BURSTS: &str = r#"
name = "bursts near overload"
horizon = "3h"

[[workload]]
name = "users"
to = "api"
rate = 50
timeout = "1s"

[[workload.burst]]
at = "20m"
duration = "5m"
factor = 5.0

[[workload.burst]]
at = "70m"
duration = "6m"
factor = 5.0

[[workload.burst]]
at = "120m"
duration = "5m"
factor = 5.0

[[workload.burst]]
at = "150m"
duration = "8m"
factor = 5.0

[[service]]
name = "api"
topology = "active-active"
replicas = 4
concurrency = 2
queue = 20
service_time = { mean = "25ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "40m" }
repair = { mean = "5m" }
"#;

fn with_sampling(model: &str, sampling: &str) -> String {
    model.replace(
        "horizon = \"3h\"",
        &format!("horizon = \"3h\"\nrequest_sampling = \"{sampling}\""),
    )
}

/// Mean and standard error of `xs`.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

#[test]
fn windowed_agrees_with_full_simulation_through_bursts() {
    let trials = 24;
    let (sf, rf) = simulate(&with_sampling(BURSTS, "full"), trials, 3);
    let (sw, rw) = simulate(&with_sampling(BURSTS, "windowed"), trials, 3);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("windowed: {w:?}");
    assert_eq!(sf.requests.as_ref().unwrap().sampling.as_deref(), Some("full"));
    // Each burst's start and end opens a window: at least 8 a trial.
    assert!(w.windows_per_trial >= 8.0, "{w:?}");
    assert_eq!(w.metastable_windows, 0, "{w:?}");
    let (af, aw) = (request_availability(&rf), request_availability(&rw));
    let loss = 1.0 - af.iter().sum::<f64>() / af.len() as f64;
    assert!(loss > 5e-3, "the bursts must lose requests to mean anything: {loss}");
    // Paired by seed (the same failure paths); the shared samples' error
    // is the summary's `sampling_error`, which pairing cannot show.
    let diffs: Vec<f64> = af.iter().zip(&aw).map(|(f, w)| w - f).collect();
    let (mean, se) = mean_se(&diffs);
    let combined = (se * se + w.sampling_error * w.sampling_error).sqrt();
    println!(
        "full loss {loss:.4e}, windowed - full {mean:+.3e} (paired s.e. {se:.2e}, shared {:.2e})",
        w.sampling_error
    );
    assert!(mean.abs() <= 2.5 * combined, "{mean} vs {combined}");
    // The interval is tight against the loss.
    assert!(2.5 * combined < 0.15 * loss, "{combined} vs {loss}");
    // Requests: the bursts' arrivals are counted (known rates times time).
    let (nf, nw) = (
        sf.requests.as_ref().unwrap().total as f64,
        sw.requests.as_ref().unwrap().total as f64,
    );
    assert!((nw / nf - 1.0).abs() < 0.005, "{nw} vs {nf}");
    // The comparison can fail: the model without its bursts, windowed, is
    // far outside.
    let flat: String = BURSTS
        .split("[[workload.burst]]")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_string()
            } else {
                part.split_once("[[service]]")
                    .map_or(String::new(), |(_, rest)| format!("[[service]]{rest}"))
            }
        })
        .collect();
    assert!(!flat.contains("burst]]"), "{flat}");
    let (_, rn) = simulate(&with_sampling(&flat, "windowed"), trials, 3);
    let an = request_availability(&rn);
    let diffs: Vec<f64> = af.iter().zip(&an).map(|(f, w)| w - f).collect();
    let (mean_flat, _) = mean_se(&diffs);
    println!("without bursts, windowed - full {mean_flat:+.3e}");
    assert!(mean_flat.abs() > 5.0 * 2.5 * combined, "{mean_flat} vs {combined}");
}

#[test]
fn windowed_bursts_are_the_same_on_one_and_two_threads() {
    let env = Dir::new();
    let path = env.write("bursts.toml", &with_sampling(BURSTS, "windowed"));
    let path = path.to_str().unwrap();
    let run = |threads: &str| {
        env.nines(&[
            "run",
            path,
            "--trials",
            "4",
            "--seed",
            "5",
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
    assert_eq!(one, run("2"));
}
