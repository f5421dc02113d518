//! Windowed request sampling of an autoscaled service beside rolling
//! deploys and maintenance windows (issue 18): the availability process
//! runs with the operations in a trial without requests, takes each
//! window's availability, operations state and pending events back (the
//! autoscalers' holds and failure clocks live there), and the autoscalers
//! are handed through the windows the operations open. Checked against
//! full simulation, paired by seed, on a compressed model where full is
//! cheap.

use crate::util::{Dir, mean_se, request_availability, simulate};
use crate::windowed_autoscale::scale_figures_agree;

/// Three hours of an api pool autoscaled from 2 to 8 replicas (2 slots
/// each, 100 ms of its own a request plus a database call of about 30 ms)
/// taking 30 requests/s: its 2 declared replicas are two-thirds busy
/// against a target of 60 %, so the autoscaler takes it to 4 (half busy)
/// in the first minutes and holds it there, and every later window starts
/// from a count the availability process must know (the provisioned
/// replicas serve and fail, the parked slots do not). Each replica fails
/// every 90 minutes, 1 % of requests err (so every configuration's
/// sample has a failed share to estimate), and one replica is out for a
/// 5-minute maintenance window every hour. The database (3 replicas,
/// failing every 3 hours) is rolled one replica at a time about every 45
/// minutes; 40 % of the releases add 250 ms to each of its requests until
/// alerting catches them 4 minutes after the first replica came up on
/// one. A bad release's latency holds the api's slots longer: the pool
/// saturates (its queues fill and refuse) until the autoscaler's replicas
/// arrive, and scales back in once the rollback is done.
const MODEL: &str = r#"name = "autoscaled api over a database rolled every 45 minutes"
horizon = "3h"

[[workload]]
name = "users"
to = "api"
rate = 30
timeout = "2s"

[[service]]
name = "api"
topology = "active-active"
replicas = 2
concurrency = 2
queue = 10
service_time = { mean = "100ms" }
error_rate = 0.01
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "90m" }
repair = { mean = "5m" }

[service.autoscale]
target = 0.6
interval = "15s"
stabilisation = "2m"
provision = { dist = "lognormal", mean = "30s", cv = 0.3 }
min = 2
max = 8

[[service.call]]
to = "db"
timeout = "1s"

[[service]]
name = "db"
topology = "active-active"
replicas = 3
concurrency = 8
service_time = { mean = "30ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "3h" }
repair = { mean = "10m" }

[[deploy]]
service = "db"
every = { mean = "45m" }
batch = 1
pause = "30s"
restart = "1m"
bad = 0.4
effect = "latency"
latency = "250ms"
detect = "4m"

[[maintenance]]
name = "patching"
target = "api[0]"
every = "1h"
at = "20m"
duration = "5m"
"#;

fn with_sampling(model: &str, sampling: &str) -> String {
    model.replace(
        "horizon = \"3h\"",
        &format!("horizon = \"3h\"\nrequest_sampling = \"{sampling}\""),
    )
}

/// `model` without its deploys and maintenance windows.
fn without_operations(model: &str) -> String {
    model.split("[[deploy]]").next().expect("the model").to_string()
}

#[test]
fn windowed_agrees_with_full_simulation_with_autoscaling_and_operations() {
    let (trials, seed) = (12, 3);
    let (sf, rf) = simulate(&with_sampling(MODEL, "full"), trials, seed);
    let (sw, rw) = simulate(&with_sampling(MODEL, "windowed"), trials, seed);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("windowed: {w:?}");
    assert_eq!(sf.requests.as_ref().unwrap().sampling.as_deref(), Some("full"));
    assert_eq!(w.metastable_windows, 0, "{w:?}");
    // The operations' path does not depend on requests or autoscalers:
    // the same rolls, bad releases, rollbacks and skips, trial by trial.
    for (a, b) in rf.iter().zip(&rw) {
        let (oa, ob) = (a.ops.as_ref().expect("ops"), b.ops.as_ref().expect("ops"));
        for (da, db) in oa.deploys.iter().zip(&ob.deploys) {
            assert_eq!(
                (da.rolls, da.bad, da.caught_by_alert, da.skipped),
                (db.rolls, db.bad, db.caught_by_alert, db.skipped),
                "the deploys' path"
            );
        }
    }
    let bad: u32 = rf.iter().map(|r| r.ops.as_ref().unwrap().deploys[0].bad).sum();
    assert!(bad >= 10, "too few bad releases to mean anything: {bad}");
    let (af, aw) = (request_availability(&rf), request_availability(&rw));
    let loss = 1.0 - af.iter().sum::<f64>() / af.len() as f64;
    // Paired by seed; the shared samples' error is `sampling_error`.
    let diffs: Vec<f64> = af.iter().zip(&aw).map(|(f, w)| w - f).collect();
    let (mean, se) = mean_se(&diffs);
    let combined = (se * se + w.sampling_error * w.sampling_error).sqrt();
    println!(
        "full loss {loss:.4e}, windowed - full {mean:+.3e} (paired s.e. {se:.2e}, shared {:.2e})",
        w.sampling_error
    );
    assert!(mean.abs() <= 2.5 * combined, "{mean} vs {combined}");
    assert!(2.5 * combined < 0.1 * loss, "{combined} vs {loss}");
    scale_figures_agree(&rf, &rw, 2.0);
    // The comparison can fail: the same model without its deploys and
    // maintenance windows, windowed, is far outside.
    let (_, rn) = simulate(&with_sampling(&without_operations(MODEL), "windowed"), trials, seed);
    let an = request_availability(&rn);
    let diffs: Vec<f64> = af.iter().zip(&an).map(|(f, w)| w - f).collect();
    let (mean_without, _) = mean_se(&diffs);
    println!("without the operations, windowed - full {mean_without:+.3e}");
    assert!(
        mean_without.abs() > 4.0 * 2.5 * combined,
        "{mean_without} vs {combined}"
    );
}

#[test]
fn windowed_autoscaling_with_operations_is_the_same_on_one_and_two_threads() {
    let env = Dir::new();
    let path = env.write("autoscaled-ops.toml", &with_sampling(MODEL, "windowed"));
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
    assert!(one.contains("\"scale_ups\""), "{one}");
    assert!(one.contains("\"rolls_per_trial\""), "{one}");
    assert_eq!(one, run("2"));
}
