//! SLO windows and burn-rate alerts end to end: a closed form through the
//! whole run, the same bytes on any thread count, the output only where
//! the keys are set, and one test per class of bad input. The evaluator's
//! exact detection, reset and window figures on hand-built request series
//! are unit tests in `src/model/slo.rs`.

use crate::util::{Dir, assert_covers, simulate};

/// One replica failing every 2 hours on average and back in 5 minutes
/// (both exponential); its refused requests are its only failures, so the
/// request availability is the time availability 120 / 125 = 0.96 (PASTA),
/// and a 6-hour window against a 95 % objective consumes on average
/// (1 - 0.96) / 0.05 = 0.8 of its budget.
const ONE_REPLICA: &str = r#"name = "one replica, slo windows"
horizon = "2d"
seed = 3
slo = { target = 0.95, window = "6h" }

[[workload]]
name = "users"
to = "api"
rate = 0.2

[[service]]
name = "api"
topology = "single"
service_time = { mean = "1ms" }
failure = { mean = "2h" }
repair = { mean = "5m" }

[[alert]]
name = "fast"
burn_rate = 10
long_window = "30m"
short_window = "5m"

[[alert]]
name = "slow"
burn_rate = 4
long_window = "2h"
short_window = "10m"
severity = "ticket"
"#;

#[test]
fn budget_consumed_per_window_is_one_minus_availability_over_the_budget() {
    let (s, rows) = simulate(ONE_REPLICA, 60, 3);
    let w = s.slo_windows.as_ref().expect("slo_windows");
    let truth = (1.0 - 120.0 / 125.0) / 0.05;
    assert_covers("budget consumed per window", truth, w.budget_consumed.ci95, 0.1);
    // Rolling 6-hour windows ending at every minute from 6 h to 48 h.
    assert_eq!(w.windows, 60 * (42 * 60 + 1));
    assert_eq!((w.kind.as_str(), w.bucket_s), ("rolling", 60.0));
    assert!(w.budget_consumed.p50 <= w.budget_consumed.p90 && w.budget_consumed.p90 <= w.budget_consumed.p99);
    let worst = w.worst.as_ref().expect("a worst window");
    assert!(
        worst.availability <= 1.0 - w.budget_consumed.p99 * 0.05 + 1e-3,
        "{worst:?}"
    );
    // The per-trial series agrees with the trial's own request counts in
    // expectation: the mean budget over windows and the request
    // availability tell the same story.
    let r = &s.requests.as_ref().expect("requests").availability;
    assert!(((1.0 - r.mean) / 0.05 - w.budget_consumed.mean).abs() < 0.1);
    let a = s.alerts.as_ref().expect("alerts");
    assert_eq!(a.rules.len(), 2);
    assert!(a.any.is_some(), "two rules: every rule together too");
    // 10 x 30 min / 6 h and 4 x 2 h / 6 h: the smaller is the bar.
    assert!((a.incident_budget - 10.0 * 0.5 / 6.0).abs() < 1e-12);
    let fast = &a.rules["fast"];
    // A full outage burns at 1 / 0.05 = 20: the 30-minute window reaches
    // 10 after 15 minutes of it at the earliest.
    let d = fast.detection_s.as_ref().expect("detections");
    assert!(d.p50 >= 14.0 * 60.0, "{d:?}");
    assert_eq!(a.rules["slow"].severity.as_deref(), Some("ticket"));
    assert!(
        rows.iter()
            .all(|t| t.traffic.as_ref().and_then(|t| t.slo.as_ref()).is_some())
    );
}

#[test]
fn the_figures_are_the_same_bytes_on_one_and_two_threads() {
    let dir = Dir::new();
    dir.write("s.toml", ONE_REPLICA);
    let run = |threads: &str| {
        dir.nines(&[
            "run",
            "s.toml",
            "--trials",
            "6",
            "--threads",
            threads,
            "--format",
            "json",
            "--no-write",
            "--quiet",
        ])
        .ok()
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert!(one.contains("\"slo_windows\"") && one.contains("\"alerts\""));
    let table = dir
        .nines(&["run", "s.toml", "--trials", "3", "--no-write", "--quiet"])
        .ok();
    assert!(table.contains("slo windows: 6h rolling windows"), "{table}");
    assert!(table.contains("fast: 10x over 30m and 5m"), "{table}");
    assert!(table.contains("slow (ticket): 4x over 2h and 10m"), "{table}");
}

#[test]
fn without_the_keys_nothing_is_added() {
    let plain = ONE_REPLICA
        .replace("slo = { target = 0.95, window = \"6h\" }", "slo = 0.95")
        .split("[[alert]]")
        .next()
        .expect("text")
        .to_string();
    let (s, rows) = simulate(&plain, 2, 3);
    assert!(s.slo_windows.is_none() && s.alerts.is_none());
    assert!(rows.iter().all(|t| t.traffic.as_ref().is_some_and(|t| t.slo.is_none())));
    let json = serde_json::to_string(&s).expect("serialises");
    assert!(!json.contains("slo_windows") && !json.contains("\"alerts\""));
}

#[test]
fn calendar_windows_are_back_to_back() {
    let text = ONE_REPLICA.replace("window = \"6h\" }", "window = \"6h\", kind = \"calendar\" }");
    let (s, _) = simulate(&text, 4, 3);
    let w = s.slo_windows.expect("slo_windows");
    assert_eq!((w.kind.as_str(), w.windows), ("calendar", 4 * 8));
}

/// Runs `check` on `text` and returns stderr (asserting exit code 2).
fn bad(text: &str) -> String {
    let dir = Dir::new();
    dir.write("bad.toml", text);
    let err = dir.nines(&["check", "bad.toml"]).bad_input();
    assert_eq!(err, dir.nines(&["run", "bad.toml", "--quiet"]).bad_input());
    err
}

#[test]
fn a_short_window_as_long_as_the_long_one_is_an_error() {
    let err = bad(&ONE_REPLICA.replace("short_window = \"5m\"", "short_window = \"30m\""));
    assert!(err.contains("key `alert.fast.short_window`"), "{err}");
    assert!(err.contains("must be shorter than the long window (30m)"), "{err}");
}

#[test]
fn a_window_longer_than_the_horizon_is_an_error() {
    let err = bad(&ONE_REPLICA.replace("window = \"6h\"", "window = \"30d\""));
    assert!(err.contains("key `slo.window`"), "{err}");
    assert!(err.contains("a 30d window is longer than the horizon (2d)"), "{err}");
    assert!(err.contains("set horizon to at least 30d"), "{err}");
    let err = bad(&ONE_REPLICA.replace("long_window = \"2h\"", "long_window = \"3d\""));
    assert!(err.contains("key `alert.slow.long_window`"), "{err}");
}

#[test]
fn alerts_without_a_window_or_an_objective_are_errors() {
    let err = bad(&ONE_REPLICA.replace("slo = { target = 0.95, window = \"6h\" }", "slo = 0.95"));
    assert!(err.contains("key `alert`"), "{err}");
    assert!(err.contains("slo.window"), "{err}");
    let err = bad(&ONE_REPLICA.replace("slo = { target = 0.95, window = \"6h\" }", ""));
    assert!(err.contains("has no slo"), "{err}");
    let err = bad(&ONE_REPLICA.replace("target = 0.95, ", ""));
    assert!(err.contains("key `slo.target`"), "{err}");
    assert!(err.contains("add target = 0.999"), "{err}");
}

#[test]
fn a_misspelt_kind_and_a_time_objective_are_errors() {
    let err = bad(&ONE_REPLICA.replace("window = \"6h\" }", "window = \"6h\", kind = \"calender\" }"));
    assert!(err.contains("key `slo.kind`"), "{err}");
    assert!(err.contains("did you mean \"calendar\"?"), "{err}");
    let err = bad(&format!("objective = \"time\"\n{ONE_REPLICA}"));
    assert!(err.contains("read on requests"), "{err}");
    let err = bad(&ONE_REPLICA.replace("burn_rate = 10", "burn_rate = 0"));
    assert!(err.contains("key `alert.fast.burn_rate`"), "{err}");
}

/// Coverage of the budget-per-window interval (Student t over trials'
/// means) against the closed form 0.8, over 200 seeds of 20 trials:
/// `cargo test --release --test main slo_window_budget_coverage -- --ignored --nocapture`.
#[test]
#[ignore = "a coverage study: about a minute"]
fn slo_window_budget_coverage() {
    let truth = (1.0 - 120.0 / 125.0) / 0.05;
    let seeds = 200;
    let mut hits = 0;
    for seed in 0..seeds {
        let (s, _) = simulate(ONE_REPLICA, 20, 1000 + seed);
        let ci = s.slo_windows.expect("slo_windows").budget_consumed.ci95;
        hits += u32::from(ci[0] <= truth && truth <= ci[1]);
    }
    let coverage = f64::from(hits) / seeds as f64;
    println!(
        "budget-per-window interval: {hits} of {seeds} cover {truth} ({:.1} %)",
        coverage * 100.0
    );
    assert!(coverage >= 0.91, "coverage {coverage}");
}
