//! Windowed request sampling of injected faults (issue 18): each fault's
//! start and end is a change, and a window holds until every occurrence
//! in it has recovered, so the faults' figures are simulated request by
//! request. Checked against full simulation, paired by seed, on a
//! compressed model where full is cheap, and against a closed form.

use crate::util::{
    agree_with_shared, assert_covers, far_from_full, full_and_windowed, mean_se, request_availability,
    same_bytes_on_one_and_two_threads, simulate, t_ci95, with_sampling,
};

/// Three hours of an api (3 replicas failing every 90 minutes, repaired
/// in 5) calling a database (2 replicas), 40 requests/s, with a fault of
/// every kind about every 25 minutes and a fault recurring every 50
/// minutes from the 30th.
const FAULTS: &str = r#"
name = "faults of every kind"
horizon = "3h"

[[workload]]
name = "users"
to = "api"
rate = 40
timeout = "1s"
deadline = "300ms"

[[service]]
name = "api"
topology = "active-active"
replicas = 3
concurrency = 4
queue = 20
service_time = { mean = "10ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "90m" }
repair = { mean = "5m" }

[[service.call]]
to = "db"
timeout = "150ms"
retry = { max_attempts = 2, base = "10ms" }

[[service]]
name = "db"
topology = "active-active"
replicas = 2
concurrency = 4
service_time = { mean = "5ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }

[[fault]]
name = "api crash"
at = "15m"
duration = "4m"
kind = "crash"
target = "api[0]"

[[fault]]
name = "db hang"
at = "40m"
duration = "3m"
kind = "hang"
target = "db[1]"

[[fault]]
name = "api slow"
at = "65m"
duration = "4m"
kind = "latency"
target = "api"
latency = { dist = "fixed", mean = "200ms" }

[[fault]]
name = "db errors"
at = "90m"
duration = "5m"
kind = "errors"
target = "db"
error_rate = 0.3

[[fault]]
name = "api capacity"
at = "115m"
duration = "4m"
kind = "capacity"
target = "api"
capacity = 0.25

[[fault]]
name = "cut"
at = "140m"
duration = "1m"
kind = "partition"
target = "api->db"

[[fault]]
name = "skew"
at = "160m"
duration = "4m"
kind = "clock_skew"
target = "api"
skew = "250ms"

[[fault]]
name = "flaky db"
every = { dist = "fixed", mean = "50m" }
at = "30m"
duration = "2m"
kind = "errors"
target = "db[0]"
error_rate = 0.5
"#;

/// One trial's figures of fault `f` that the request stream decides:
/// requests and failures while active, occurrences detected and their
/// times to detect, recovered and their times to recover, and per service
/// the occurrences that affected it.
fn figures(r: &nines::model::TrialResult, f: usize) -> Vec<(String, f64)> {
    let x = &r.faults[f];
    let mut v = vec![
        ("requests while active".to_string(), x.requests as f64),
        ("failed while active".to_string(), (x.requests - x.success) as f64),
        ("detected".to_string(), f64::from(x.detected)),
        ("detect_s".to_string(), x.detect_s),
        ("recovered".to_string(), f64::from(x.recovered)),
        ("recover_s".to_string(), x.recover_s),
    ];
    for (s, &a) in x.affected.iter().enumerate() {
        v.push((format!("affected service {s}"), f64::from(a)));
    }
    v
}

#[test]
fn windowed_agrees_with_full_simulation_through_faults_of_every_kind() {
    let (trials, seed) = (12, 3);
    let [(sf, rf), (sw, rw)] = full_and_windowed(FAULTS, trials, seed);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    // Nine occurrences a trial, each start a window at least.
    assert!(w.windows_per_trial >= 9.0, "{w:?}");
    // The schedule is the availability process's: occurrences, active
    // time and time availability are the full trial's, trial by trial.
    for (a, b) in rf.iter().zip(&rw) {
        assert_eq!(a.availability, b.availability);
        for (x, y) in a.faults.iter().zip(&b.faults) {
            assert_eq!((x.occurrences, x.active_s), (y.occurrences, y.active_s));
        }
    }
    let paired = agree_with_shared("faults", &sw, &rf, &rw, 2.5);
    let (loss, combined) = (paired.loss, paired.combined);
    assert!(loss > 5e-3, "the faults must lose requests to mean anything: {loss}");
    assert!(2.5 * combined < 0.15 * loss, "{combined} vs {loss}");
    // Each fault's request-level figures, paired by seed: within 3.5
    // standard errors of their differences (identical where they do not
    // vary, e.g. every occurrence detected and recovered in both).
    let names: Vec<&str> = sf.faults.keys().map(String::as_str).collect();
    let mut failed = (0.0, 0.0);
    for f in 0..rf[0].faults.len() {
        let (full, win): (Vec<_>, Vec<_>) = rf.iter().zip(&rw).map(|(a, b)| (figures(a, f), figures(b, f))).unzip();
        for k in 0..full[0].len() {
            let d: Vec<f64> = full.iter().zip(&win).map(|(a, b)| b[k].1 - a[k].1).collect();
            let (m, s) = mean_se(&d);
            let level = full.iter().map(|a| a[k].1).sum::<f64>() / trials as f64;
            println!(
                "  fault {f} ({}) {}: full {level:.4}, windowed - full {m:+.4} (s.e. {s:.4})",
                names.get(f).unwrap_or(&"?"),
                full[0][k].0
            );
            assert!(m.abs() <= 3.5 * s + 1e-9, "fault {f} {}: {m} vs {s}", full[0][k].0);
            if k == 1 {
                failed.0 += level;
                failed.1 += m;
            }
        }
    }
    // The faults carry failures: the requests they failed, summed.
    println!(
        "failed while a fault is active, per trial: full {:.1}, windowed - full {:+.1}",
        failed.0, failed.1
    );
    assert!(failed.0 > 1000.0, "{failed:?}");
    // The summary's figures: the crash's share of occurrences detected
    // and recovered is the same in both, and most are (not all: seeds 11
    // and 12 leave one of 12 undetected, in both).
    let (cf, cw) = (&sf.faults["api crash"], &sw.faults["api crash"]);
    for (what, f, w) in [
        ("detected", &cf.detected, &cw.detected),
        ("recovered", &cf.recovered, &cw.recovered),
    ] {
        let (f, w) = (f.as_ref().unwrap().mean, w.as_ref().unwrap().mean);
        assert_eq!(f, w, "{what}");
        assert!(f > 0.8, "{what}: {f}");
    }
    // The comparison can fail: the model without its faults, windowed,
    // is far outside.
    let bare = FAULTS.split("[[fault]]").next().unwrap();
    far_from_full("faults", bare, trials, seed, &paired, 5.0 * 2.5 * combined);
}

#[test]
fn windowed_faults_are_the_same_on_one_and_two_threads() {
    same_bytes_on_one_and_two_threads("faults", FAULTS, 4, 5, &["\"flaky db\""]);
}

/// One replica, 50 requests/s, nothing failing but an errors fault of
/// chance p = 0.2 for D = 10 minutes in 2 hours: it fails λ·D·p = 6000
/// requests in expectation, and the request availability is
/// 1 - p·D/H = 1 - 0.2 · 600 / 7200.
const ERRORS: &str = r#"
name = "an errors fault on one replica"
horizon = "2h"
request_sampling = "windowed"

[[workload]]
name = "users"
to = "api"
rate = 50

[[service]]
name = "api"
replicas = 1
concurrency = 16
service_time = { mean = "10ms" }

[[fault]]
name = "errors"
at = "30m"
duration = "10m"
kind = "errors"
target = "api"
error_rate = 0.2
"#;

#[test]
fn an_errors_fault_fails_its_closed_form_share_windowed() {
    let (s, rows) = simulate(ERRORS, 20, 9);
    let r = s.requests.as_ref().unwrap();
    assert_eq!(r.sampling.as_deref(), Some("windowed"));
    let failed: Vec<f64> = rows
        .iter()
        .map(|t| (t.faults[0].requests - t.faults[0].success) as f64)
        .collect();
    let (mean, ci) = t_ci95(&failed);
    println!("failed while active: {mean:.1} {ci:?} (closed form 6000)");
    assert_covers("failed while active", 6000.0, ci, 60.0);
    let during: Vec<f64> = rows.iter().map(|t| t.faults[0].requests as f64).collect();
    let (mean, ci) = t_ci95(&during);
    println!("requests while active: {mean:.1} {ci:?} (closed form 30000)");
    assert_covers("requests while active", 30_000.0, ci, 150.0);
    let truth = 1.0 - 0.2 * 600.0 / 7200.0;
    println!("request availability {:?} (closed form {truth:.6})", r.availability);
    assert_covers("request availability", truth, r.availability.ci95, 2e-4);
    let f = &s.faults["errors"];
    assert_covers(
        "success during",
        0.8,
        f.success_ratio_during.as_ref().unwrap().ci95,
        0.01,
    );
    // Only the fault's window is simulated: the rest is estimated.
    let w = r.windowed.as_ref().unwrap();
    assert!(w.window_s_per_trial < 1500.0, "{w:?}");
}

/// A 30-second latency spike that retries without a budget turn into an
/// overload that never ends (`scenarios/metastable.toml`, shortened):
/// the occurrence never recovers, so its window runs to the horizon and
/// the fault is judged metastable in every trial, as in full simulation.
#[test]
fn a_fault_that_never_recovers_keeps_its_window_to_the_horizon() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/metastable.toml"))
        .unwrap()
        .replace("rate = 500", "rate = 250")
        .replace("concurrency = 4\n", "concurrency = 2\n")
        .replacen(
            "horizon = \"15m\"",
            "horizon = \"15m\"\nrequest_sampling = \"windowed\"",
            1,
        );
    let (s, rows) = simulate(&text, 2, 5);
    let w = s.requests.as_ref().unwrap().windowed.as_ref().unwrap();
    let f = &s.faults["db latency spike"];
    println!("{w:?}\nmetastable {:?}", f.metastable);
    assert_eq!(f.metastable, Some(1.0));
    for t in &rows {
        assert_eq!((t.faults[0].judged, t.faults[0].recovered), (1, 0));
    }
    // The window ran from the spike to the horizon: 10 minutes of 15.
    assert!(w.window_s_per_trial >= 600.0, "{w:?}");
}

/// The comparison over many trials: 200 trials of each (seeds 100 and
/// 101, so unpaired), each fault's summary figures within 3 combined
/// standard errors. Run with
/// `cargo test --release --test main windowed_faults_study -- --ignored --nocapture`.
#[test]
#[ignore = "a study: minutes"]
fn windowed_faults_study() {
    let trials = 200;
    let (_, rf) = simulate(&with_sampling(FAULTS, "full"), trials, 100);
    let (_, rw) = simulate(&with_sampling(FAULTS, "windowed"), trials, 101);
    let (af, aw) = (request_availability(&rf), request_availability(&rw));
    let ((mf, sf), (mw, sw)) = (mean_se(&af), mean_se(&aw));
    println!("request availability: full {mf:.5} (s.e. {sf:.1e}), windowed {mw:.5} (s.e. {sw:.1e})");
    let mut worst: f64 = 0.0;
    for f in 0..rf[0].faults.len() {
        let full: Vec<_> = rf.iter().map(|r| figures(r, f)).collect();
        let win: Vec<_> = rw.iter().map(|r| figures(r, f)).collect();
        for k in 0..full[0].len() {
            let a: Vec<f64> = full.iter().map(|x| x[k].1).collect();
            let b: Vec<f64> = win.iter().map(|x| x[k].1).collect();
            let ((ma, sa), (mb, sb)) = (mean_se(&a), mean_se(&b));
            let se = (sa * sa + sb * sb).sqrt();
            let z = if se > 0.0 { (mb - ma) / se } else { 0.0 };
            worst = worst.max(z.abs());
            println!(
                "  fault {f} {}: full {ma:.4}, windowed {mb:.4}, z {z:+.2}",
                full[0][k].0
            );
            assert!((mb - ma).abs() <= 3.5 * se + 1e-9, "fault {f} {}", full[0][k].0);
        }
    }
    println!("largest |z| {worst:.2}");
    assert!((mw - mf).abs() <= 3.0 * (sf * sf + sw * sw).sqrt());
}
