//! Windowed request sampling of the availability-side parts of a model:
//! zones, common causes, repair crews and spares; deploys and maintenance
//! windows. Each part is compared with full simulation on a compressed
//! model where full is affordable (same seeds, so the same failure paths:
//! paired per trial), and each comparison is shown able to fail: the
//! windowed estimate of the model without the part lies outside.

use crate::util::{
    agree_on_requests, assert_covers, assert_excludes, full_and_windowed, off_from_full, request_availability,
    same_bytes_on_one_and_two_threads, t_ci95, with_horizon,
};

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
    let [(sf, rf), (sw, rw)] = full_and_windowed(model, trials, seed);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("{name}: windowed {w:?}");
    // Windows cover a small part of the horizon (the shared samples
    // dominate what a short compressed run simulates).
    assert!(w.window_s_per_trial < 0.25 * sf.horizon_s, "{w:?}");
    assert_eq!(w.metastable_windows, 0, "{w:?}");
    agree_on_requests(name, &rf, &rw);
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
    let diffs = off_from_full(wrong, trials, seed, &request_availability(&rf));
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
horizon = "4h"

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
    agree("infra", INFRA, &infra_without(), 12, 5);
}

#[test]
fn windowed_infra_output_is_the_same_on_one_and_two_threads() {
    // An hour of each (zone outages, shocks, rolls and a maintenance
    // window, their windows and samples) on two trials, one a thread.
    same_bytes_on_one_and_two_threads("infra", &with_horizon(INFRA, "1h"), 2, 9, &[]);
    same_bytes_on_one_and_two_threads("deploys", &with_horizon(DEPLOYS, "1h"), 2, 9, &["\"deploys\""]);
}

/// One replica taken out for 30 minutes every day, never failing
/// otherwise, no retries: its refused requests are its only failures, so
/// by PASTA the request availability is the time availability,
/// 1 - 30 min / 1 d, in every trial.
const NIGHTLY: &str = r#"
name = "single replica, a nightly window, a month"
horizon = "30d"
request_sampling = "windowed"

[[workload]]
name = "clients"
to = "api"
rate = 20

[[service]]
name = "api"
replicas = 1
concurrency = 64
queue = 100
service_time = { mean = "5ms" }

[[maintenance]]
name = "nightly"
target = "api"
every = "1d"
at = "3h"
duration = "30m"
"#;

#[test]
fn a_nightly_window_costs_its_share_of_the_requests_by_pasta() {
    let (s, rows) = crate::util::simulate(NIGHTLY, 8, 3);
    let r = s.requests.as_ref().expect("requests");
    assert_eq!(r.sampling.as_deref(), Some("windowed"));
    let w = r.windowed.as_ref().expect("windowed figures");
    println!("nightly: {w:?}");
    assert!(w.share_simulated < 0.02, "{w:?}");
    let truth = 1.0 - 30.0 / 1440.0;
    assert_covers("request availability", truth, r.availability.ci95, 1e-4);
    // Ignoring the window would say 1.
    assert_excludes("without the window", 1.0, r.availability.ci95);
    for (row, a) in rows.iter().zip(request_availability(&rows)) {
        assert!((row.availability - truth).abs() < 1e-12, "{}", row.availability);
        assert!((a - truth).abs() < 1e-4, "{a} vs {truth}");
        let ops = row.ops.as_ref().expect("operations' figures");
        assert!((ops.planned_downtime_s - 30.0 * 1800.0).abs() < 1e-6, "{ops:?}");
    }
}

/// A compressed model with deploys and a maintenance window: the web tier
/// of [`INFRA`]'s shape is rolled one replica at a time about every 40
/// minutes, half the releases bad (30 % of their served requests fail,
/// caught by alerting after 5 minutes); the database's active replica
/// goes out for 5 minutes every hour (a failover each time), and half of
/// its releases add 250 ms to every request (past the 200 ms timeout of
/// its callers).
const DEPLOYS: &str = r#"
name = "compressed, deploys"
horizon = "4h"

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
concurrency = 32
queue = 64
service_time = { mean = "5ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "3h" }
repair = { mean = "10m" }

[[service.call]]
to = "db"
timeout = "200ms"
retry = { max_attempts = 3, backoff = "constant", base = "20ms" }

[[service]]
name = "db"
topology = "active-passive"
replicas = 2
concurrency = 32
service_time = { mean = "3ms" }
failure = { mean = "4h" }
repair = { mean = "15m" }
failover = { detect = "10s", switch = "30s" }

[[deploy]]
service = "web"
every = { mean = "40m" }
batch = 1
pause = "30s"
restart = "1m"
bad = 0.5
effect = "errors"
error_rate = 0.3
detect = "5m"

[[deploy]]
service = "db"
every = { mean = "1h" }
restart = "1m"
bad = 0.5
effect = "latency"
latency = "250ms"
detect = "4m"

[[maintenance]]
name = "db patching"
target = "db[0]"
every = "1h"
at = "20m"
duration = "5m"
"#;

#[test]
fn windowed_agrees_with_full_simulation_with_deploys_and_maintenance() {
    // The wrong estimate keeps every roll and maintenance window but
    // ignores what a bad release does: every release is good (no
    // rollbacks either; its samples, unlike those of a harmless bad
    // release, stop at their precision, not their cap).
    let wrong = DEPLOYS.replace("bad = 0.5", "bad = 0.0");
    assert_eq!(wrong.matches("bad = 0.0").count(), 2, "{wrong}");
    let (rf, _) = agree("deploys", DEPLOYS, &wrong, 8, 7);
    let rolls: u32 = rf
        .iter()
        .map(|r| r.ops.as_ref().unwrap().deploys.iter().map(|d| d.bad).sum::<u32>())
        .sum();
    assert!(rolls >= 20, "too few bad releases to mean anything: {rolls}");
}
