//! What a request-level run is judged on (`objective`): the request
//! availability `(success + degraded) / requests` per trial with a Student
//! t interval across trials, leading the table, the SLO and `compare`.

use crate::util::{Dir, simulate, t_ci95};

/// One service that never fails but answers 1 % of requests with an error:
/// time-based availability is 100 %, requests served 99 %.
const ERRORS: &str = r#"horizon = "2m"
trials = 12
seed = 4
[[workload]]
name = "users"
to = "api"
rate = 200
[[service]]
name = "api"
concurrency = 64
service_time = { mean = "5ms" }
error_rate = 0.01
"#;

/// The summary's request availability is the per-trial served share,
/// Student t across trials, and the objective defaults to requests.
#[test]
fn request_availability_is_served_over_requests_per_trial() {
    let (s, rows) = simulate(ERRORS, 12, 4);
    assert_eq!(s.objective, "requests");
    let served: Vec<f64> = rows
        .iter()
        .map(|r| {
            let t = r.traffic.as_ref().unwrap();
            (t.success + t.degraded) as f64 / t.requests as f64
        })
        .collect();
    let (mean, ci) = t_ci95(&served);
    let a = &s.requests.as_ref().unwrap().availability;
    println!("requests served {} {:?} against {mean} {ci:?}", a.mean, a.ci95);
    assert!((a.mean - mean).abs() < 1e-12);
    assert!((a.ci95[0] - ci[0]).abs() < 1e-12 && (a.ci95[1] - ci[1]).abs() < 1e-12);
    assert!(!a.nines_is_bound);
    assert!((a.nines - (-(1.0 - mean).log10())).abs() < 1e-9);
    // 1 % of errors: the interval holds 0.99 and excludes the time-based 1.
    assert!(a.ci95[0] < 0.99 && 0.99 < a.ci95[1], "{:?}", a.ci95);
    assert_eq!(s.availability.mean, 1.0);
    assert_eq!(s.headline(), *a);
}

/// `objective = "time"` keeps the time-based headline in a request-level
/// run; `objective = "requests"` without a workload is bad input.
#[test]
fn the_objective_can_be_time_and_needs_workloads_for_requests() {
    let (s, _) = simulate(&format!("objective = \"time\"\n{ERRORS}"), 3, 1);
    assert_eq!(s.objective, "time");
    assert_eq!(s.headline().mean, s.availability.mean);
    let dir = Dir::new();
    dir.write("t.toml", "objective = \"requests\"\n[[service]]\nname = \"api\"\n");
    let err = dir.nines(&["check", "t.toml"]).bad_input();
    assert!(err.contains("objective") && err.contains("[[workload]]"), "{err}");
    dir.write("w.toml", "objective = \"reqests\"\n[[service]]\nname = \"api\"\n");
    let err = dir.nines(&["check", "w.toml"]).bad_input();
    assert!(err.contains("did you mean \"requests\"?"), "{err}");
}

/// The table leads with the objective's metric, labelled so; the SLO
/// judges it: 1 % of failed requests does not meet 0.999, though the
/// time-based availability is 100 %. With `objective = "time"` it judges
/// time.
#[test]
fn the_table_and_the_slo_use_the_objective() {
    let dir = Dir::new();
    dir.write("e.toml", ERRORS);
    let table = dir.nines(&["run", "e.toml", "--slo", "0.999", "--out", "o"]).ok();
    let first = table.lines().nth(3).unwrap_or_default();
    assert!(first.starts_with("  requests served   99.0"), "{table}");
    assert!(table.contains("  time-based        100 %"), "{table}");
    assert!(
        table.contains("SLO 0.999 on requests served: the design does not meet it"),
        "{table}"
    );
    let json: serde_json::Value = serde_json::from_str(&dir.read("o/summary.json")).unwrap();
    assert_eq!(json["objective"], "requests");
    assert_eq!(json["slo"]["metric"], "requests");
    assert_eq!(json["slo"]["meets"], false);
    assert!(json["slo"]["confidence"].as_f64().unwrap() < 0.01);
    for key in ["mean", "ci95", "nines", "nines_ci95"] {
        assert!(!json["requests"]["availability"][key].is_null(), "{key}");
    }
    dir.write("t.toml", &format!("objective = \"time\"\n{ERRORS}"));
    dir.nines(&["run", "t.toml", "--slo", "0.999", "--out", "t"]).ok();
    let json: serde_json::Value = serde_json::from_str(&dir.read("t/summary.json")).unwrap();
    // Judged on time, the failed requests do not count (the verdict then
    // rests on the zero-downtime bound of 12 trials).
    assert_eq!(json["slo"]["metric"], "time");
    assert!(json["slo"]["failed_requests"].is_null());
}

/// `compare` judges on requests: two designs whose time-based availability
/// is identical (100 %) differ significantly in requests served.
#[test]
fn compare_pairs_the_request_availability() {
    let dir = Dir::new();
    dir.write("a.toml", ERRORS);
    dir.write("b.toml", &ERRORS.replace("error_rate = 0.01", "error_rate = 0.001"));
    let table = dir
        .nines(&["compare", "a.toml", "b.toml", "--out", "c", "--quiet"])
        .ok();
    assert!(table.contains("requests served (objective)"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&dir.read("c/compare.json")).unwrap();
    assert_eq!(json["objective"], "requests");
    let d = &json["designs"][1]["objective_difference"];
    println!("{d}");
    assert_eq!(d["significant"], true);
    let mean = d["mean"].as_f64().unwrap();
    assert!((mean - 0.009).abs() < 0.002, "{mean}");
    assert_eq!(json["designs"][1]["availability_difference"]["significant"], false);
}

/// A workflow workload's requests are its sagas: the request availability
/// is the share of sagas completed (compensated and stuck ones fail).
#[test]
fn a_sagas_request_availability_counts_completed_sagas() {
    let text = r#"horizon = "1m"
[[workload]]
name = "w"
workflow = "f"
rate = 50
[[workflow]]
name = "f"
[[workflow.step]]
name = "a"
to = "a"
compensation = { to = "a" }
[[workflow.step]]
name = "b"
to = "b"
[[service]]
name = "a"
service_time = { mean = "1ms" }
[[service]]
name = "b"
service_time = { mean = "1ms" }
error_rate = 0.2
"#;
    let (s, rows) = simulate(text, 6, 2);
    let completed: Vec<f64> = rows
        .iter()
        .map(|r| {
            let w = &r.traffic.as_ref().unwrap().workflows[0];
            w.completed as f64 / (w.completed + w.compensated + w.stuck) as f64
        })
        .collect();
    let (mean, _) = t_ci95(&completed);
    let a = &s.requests.as_ref().unwrap().availability;
    println!("sagas completed {mean}, request availability {}", a.mean);
    assert!((a.mean - mean).abs() < 1e-12);
    assert!((a.mean - 0.8).abs() < 0.03);
}
