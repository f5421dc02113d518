//! Windowed request sampling of autoscaled services (issue 18): the
//! autoscalers' state is handed from window to window, the slot states
//! join the configuration key, and a stationary sample whose autoscaler
//! acts is never estimated from. Checked against full simulation, paired
//! by seed, on a compressed model where full is cheap.

use crate::util::{
    Dir, agree_with_shared, far_from_full, full_and_windowed, mean_se, same_bytes_on_one_and_two_threads, simulate,
    with_sampling,
};
use nines::model::TrialResult;
use nines::model::result::ScaleCounts;

/// Three hours of an autoscaled pool (3 to 10 replicas of 2 slots, 100 ms
/// a request: 60 requests/s on 3) taking 20 requests/s, with six 5- to
/// 8-minute bursts of 2.5x to 3x (50 to 60/s: the pool saturates until
/// the autoscaler's replicas arrive, about 30 s after the first
/// evaluation sees it), each replica failing every 90 minutes (a crash
/// about every 30 minutes), and 1 % of requests erring (so every
/// configuration's sample has a failed share to estimate, and stops at
/// its precision instead of its cap).
const MODEL: &str = r#"name = "autoscaled pool through bursts and crashes"
horizon = "3h"

[[workload]]
name = "users"
to = "api"
rate = 20
timeout = "1s"

[[workload.burst]]
at = "15m"
duration = "6m"
factor = 3.0

[[workload.burst]]
at = "45m"
duration = "5m"
factor = 3.0

[[workload.burst]]
at = "80m"
duration = "8m"
factor = 2.5

[[workload.burst]]
at = "110m"
duration = "5m"
factor = 3.0

[[workload.burst]]
at = "140m"
duration = "6m"
factor = 3.0

[[workload.burst]]
at = "165m"
duration = "5m"
factor = 3.0

[[service]]
name = "api"
topology = "active-active"
replicas = 3
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
min = 3
max = 10
"#;

/// The autoscalers' figures are simulated (windows), not estimated:
/// paired by seed, scale-ups, scale-downs, replica-seconds and the
/// serving replicas' timeline row agree within 2.5 of their own standard
/// errors, and the autoscaler acted at least `least_ups` times a trial.
pub fn scale_figures_agree(rf: &[TrialResult], rw: &[TrialResult], least_ups: f64) {
    type Figure = fn(&ScaleCounts) -> f64;
    let within = |what: &str, xf: &[f64], xw: &[f64]| {
        let level = xf.iter().sum::<f64>() / xf.len() as f64;
        let diffs: Vec<f64> = xf.iter().zip(xw).map(|(f, w)| w - f).collect();
        let (mean, se) = mean_se(&diffs);
        println!("{what}: full {level:.2} a trial, windowed - full {mean:+.3} (s.e. {se:.3})");
        assert!(mean.abs() <= 2.5 * se.max(1e-9), "{what}: {mean} vs {se}");
    };
    for (what, f) in [
        ("scale-ups", (|c: &ScaleCounts| c.scale_ups as f64) as Figure),
        ("scale-downs", |c| c.scale_downs as f64),
        ("replica-seconds", |c| c.replica_s),
    ] {
        within(what, &scale(rf, f), &scale(rw, f));
    }
    within(
        "serving replica-seconds (timeline)",
        &timeline_replica_s(rf),
        &timeline_replica_s(rw),
    );
    let ups = scale(rf, |c| c.scale_ups as f64);
    assert!(
        ups.iter().sum::<f64>() / ups.len() as f64 >= least_ups,
        "the autoscaler must act: {ups:?}"
    );
}

/// Per trial, `f` of the api's autoscaling figures.
fn scale(rows: &[TrialResult], f: fn(&ScaleCounts) -> f64) -> Vec<f64> {
    rows.iter()
        .map(|r| f(&r.traffic.as_ref().expect("requests").autoscale[0]))
        .collect()
}

/// Per trial, the api's serving replica-seconds from its timeline row.
fn timeline_replica_s(rows: &[TrialResult]) -> Vec<f64> {
    rows.iter()
        .map(|r| r.traffic.as_ref().expect("requests").replica_timeline.iter().sum())
        .collect()
}

#[test]
fn windowed_agrees_with_full_simulation_with_autoscaling() {
    let (trials, seed) = (12, 3);
    let [(_, rf), (sw, rw)] = full_and_windowed(MODEL, trials, seed);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    // Each burst's start and end opens a window: at least 12 a trial.
    assert!(w.windows_per_trial >= 12.0, "{w:?}");
    // Paired by seed; the shared samples' error is `sampling_error`.
    let paired = agree_with_shared("autoscaling", &sw, &rf, &rw, 2.5);
    let (loss, combined) = (paired.loss, paired.combined);
    assert!(
        loss > 0.015,
        "the bursts must lose requests beyond the 1 % errors: {loss}"
    );
    assert!(2.5 * combined < 0.1 * loss, "{combined} vs {loss}");
    scale_figures_agree(&rf, &rw, 6.0);
    // The replicas' timeline row is carried: serving replica-seconds at
    // most the replicas' (provisioning and draining ones do not serve),
    // and as in full simulation.
    let tw = timeline_replica_s(&rw);
    for (t, r) in tw.iter().zip(scale(&rw, |c| c.replica_s)) {
        assert!(*t <= r + 1e-6 && *t > 0.9 * r, "{t} vs {r}");
    }
    // The comparison can fail: the pool held at 3 (the autoscaler never
    // scales), windowed, is far outside.
    let fixed = MODEL.replace("max = 10", "max = 3");
    far_from_full("autoscaling", &fixed, trials, seed, &paired, 5.0 * 2.5 * combined);
}

#[test]
fn windowed_autoscaling_is_the_same_on_one_and_two_threads() {
    same_bytes_on_one_and_two_threads("autoscaling", MODEL, 4, 5, &["\"scale_ups\""]);
}

/// An autoscaler that never rests (no tolerance, no stabilisation window:
/// the metric's noise now and then asks for a third replica, which the
/// next evaluation lets go) keeps every window from settling: the trial
/// starts with a window (its starting count's sample is restless), which
/// is reported metastable an hour in and runs to the horizon, request by
/// request; nothing is estimated from its restless samples.
#[test]
fn a_restless_autoscaler_is_metastable_and_never_estimated() {
    let restless = r#"
name = "restless"
horizon = "80m"
request_sampling = "windowed"

[[workload]]
name = "users"
to = "api"
rate = 20
timeout = "1s"

[[service]]
name = "api"
topology = "active-active"
replicas = 3
concurrency = 2
queue = 10
service_time = { mean = "100ms" }

[service.autoscale]
target = 0.6
interval = "15s"
stabilisation = "0s"
tolerance = 0.0
provision = "5s"
min = 2
max = 10
"#;
    let (s, rows) = simulate(restless, 2, 4);
    let w = s.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("{w:?}");
    assert_eq!(w.metastable_windows, 2, "{w:?}");
    // The whole horizon was simulated in the windows.
    assert!(w.window_s_per_trial >= 4800.0 - 1.0, "{w:?}");
    for r in &rows {
        let t = r.traffic.as_ref().unwrap();
        let acts = t.autoscale[0].scale_ups + t.autoscale[0].scale_downs;
        assert!(acts > 0, "the autoscaler acts: {acts}");
    }
}

/// An evaluation interval longer than half the longest warm-up stays
/// refused with the reason; a maintenance window on the autoscaled
/// service runs windowed (`tests/windowed_ops_autoscale.rs`).
#[test]
fn autoscaling_with_a_long_interval_is_refused_but_not_with_maintenance() {
    let env = Dir::new();
    let maintained = with_sampling(MODEL, "windowed")
        + "\n[[maintenance]]\nname = \"nightly\"\ntarget = \"api[0]\"\nevery = \"1h\"\nat = \"10m\"\nduration = \"5m\"\n";
    let path = env.write("maintained.toml", &maintained);
    env.nines(&["check", path.to_str().unwrap()]).ok();
    let slow = with_sampling(MODEL, "windowed").replace("interval = \"15s\"", "interval = \"6m\"");
    let path = env.write("slow.toml", &slow);
    let err = env.nines(&["check", path.to_str().unwrap()]).bad_input();
    assert!(
        err.contains("request_sampling") && err.contains("interval of at most 300 s"),
        "{err}"
    );
}
