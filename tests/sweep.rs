//! `sweep`, `compare`, `--plot`, `report.html` and the SLO.

use crate::util::Dir;

const PARALLEL: &str = r#"name = "parallel replicas"
horizon = "5y"
trials = 200
seed = 4

[[service]]
name = "api"
topology = "active-active"
replicas = 2
failure = { mean = "100h" }
repair = { mean = "10h" }
"#;

fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    (
        header,
        lines.map(|l| l.split(',').map(String::from).collect()).collect(),
    )
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// PNG signature, IHDR size, and more than a blank canvas's worth of data.
fn assert_png(bytes: &[u8]) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((w, h), (960, 600));
    assert!(bytes.len() > 8_000, "PNG of {} bytes looks blank", bytes.len());
}

fn assert_svg(text: &str, title: &str) {
    let t = text.trim();
    assert!(
        t.starts_with("<svg") || t.starts_with("<?xml"),
        "{}",
        &t[..60.min(t.len())]
    );
    assert!(t.ends_with("</svg>"));
    assert!(t.contains(title), "SVG lacks its title {title}");
}

/// 1-of-n replicas, each up 100/110 of the time: nines rise with n and
/// every point's interval holds 1 - (1/11)^n.
#[test]
fn a_replica_sweep_rises_and_matches_closed_forms() {
    let dir = Dir::new();
    dir.write("p.toml", PARALLEL);
    // 1000 trials: at n = 4 all-down spells are rare (about one per 5-year
    // trial) and a t interval over a few hundred trials is too ragged.
    dir.nines(&[
        "sweep",
        "p.toml",
        "--vary",
        "service.api.replicas=1..4",
        "--trials",
        "1000",
        "--out",
        "s",
        "--quiet",
    ])
    .ok();
    let (h, rows) = csv_rows(&dir.read("s/sweep.csv"));
    assert_eq!(rows.len(), 4);
    let (lo, hi, nines) = (
        col(&h, "availability_low"),
        col(&h, "availability_high"),
        col(&h, "nines"),
    );
    let mut last = 0.0;
    for (i, r) in rows.iter().enumerate() {
        let n = (i + 1) as i32;
        assert_eq!(r[0], n.to_string());
        let truth = 1.0 - (1.0f64 / 11.0).powi(n);
        let (l, u): (f64, f64) = (r[lo].parse().unwrap(), r[hi].parse().unwrap());
        assert!(l <= truth && truth <= u, "n = {n}: {truth} not in [{l}, {u}]");
        let x: f64 = r[nines].parse().unwrap();
        assert!(x > last + 0.5, "nines must rise: {last} then {x}");
        last = x;
    }
    for f in ["sweep.json", "report.html", "availability_curve.svg"] {
        assert!(!dir.read(&format!("s/{f}")).is_empty());
    }
    assert_png(&std::fs::read(dir.path_of("s/availability_curve.png")).unwrap());
    assert_svg(&dir.read("s/availability_curve.svg"), "Availability curve");
}

#[test]
fn sweep_csv_has_the_documented_columns() {
    let dir = Dir::new();
    dir.write("p.toml", PARALLEL);
    dir.nines(&[
        "sweep",
        "p.toml",
        "--vary",
        "service.api.failure.mean=100h..300h:100h",
        "--vary",
        "service.api.replicas=1,2",
        "--trials",
        "20",
        "--out",
        "s",
        "--quiet",
    ])
    .ok();
    let text = dir.read("s/sweep.csv");
    assert!(text.starts_with(
        "service.api.failure.mean,service.api.replicas,availability,availability_low,availability_high,nines,\
         nines_low,nines_high,nines_is_bound,downtime_per_year_s_mean,downtime_per_year_s_p50,\
         downtime_per_year_s_p90,downtime_per_year_s_p99,incidents_per_year,objective,objective_value,\
         objective_low,objective_high,objective_nines,objective_nines_low,objective_nines_high,\
         objective_nines_is_bound\n"
    ));
    let (_, rows) = csv_rows(&text);
    assert_eq!(rows.len(), 6);
    assert_eq!((rows[0][0].as_str(), rows[0][1].as_str()), ("100h", "1"));
    assert_eq!((rows[5][0].as_str(), rows[5][1].as_str()), ("300h", "2"));
    // One line per value of the second parameter.
    let svg = dir.read("s/availability_curve.svg");
    assert!(svg.contains("api.replicas = 1") && svg.contains("api.replicas = 2"));
}

#[test]
fn sweep_output_is_identical_on_any_thread_count() {
    let dir = Dir::new();
    dir.write("p.toml", PARALLEL);
    for t in ["1", "2"] {
        dir.nines(&[
            "sweep",
            "p.toml",
            "--vary",
            "service.api.replicas=1..3",
            "--trials",
            "130",
            "--threads",
            t,
            "--out",
            t,
            "--quiet",
        ])
        .ok();
    }
    assert_eq!(dir.read("1/sweep.csv"), dir.read("2/sweep.csv"));
    assert_eq!(dir.read("1/sweep.json"), dir.read("2/sweep.json"));
}

#[test]
fn a_bad_vary_is_bad_input() {
    let dir = Dir::new();
    dir.write("p.toml", PARALLEL);
    let err = dir
        .nines(&["sweep", "p.toml", "--vary", "service.api.replicas=5..1"])
        .bad_input();
    assert!(err.contains("ends (1) before it starts (5)"), "{err}");
    let err = dir
        .nines(&["sweep", "p.toml", "--vary", "service.apj.replicas=1,2"])
        .bad_input();
    assert!(err.contains("did you mean \"api\"?"), "{err}");
    let err = dir
        .nines(&["sweep", "p.toml", "--vary", "service.api.replicas=0,1"])
        .bad_input();
    assert!(err.contains("service.api.replicas"), "{err}");
}

#[test]
fn compare_pairs_trials_and_marks_real_differences() {
    let dir = Dir::new();
    dir.write("two.toml", PARALLEL);
    dir.write("three.toml", &PARALLEL.replace("replicas = 2", "replicas = 3"));
    let out = dir
        .nines(&[
            "compare",
            "two.toml",
            "three.toml",
            "two.toml",
            "--trials",
            "100",
            "--out",
            "c",
        ])
        .ok();
    assert!(out.contains("Δ availability vs baseline"), "{out}");
    let (h, rows) = csv_rows(&dir.read("c/compare.csv"));
    let (sig, diff) = (
        col(&h, "availability_difference_significant"),
        col(&h, "availability_difference"),
    );
    assert_eq!(rows[0][sig], "", "the baseline has no difference");
    assert_eq!(rows[1][sig], "true", "{:?}", rows[1]);
    assert!(rows[1][diff].parse::<f64>().unwrap() > 0.0);
    // The same design against itself: exactly zero, not significant.
    assert_eq!(rows[2][diff], "0");
    assert_eq!(rows[2][sig], "false");
    assert_eq!(rows[2][0], "two-3");
    assert_png(&std::fs::read(dir.path_of("c/nines.png")).unwrap());
    assert_svg(&dir.read("c/downtime.svg"), "Downtime per year");
    let html = dir.read("c/report.html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg") && !html.contains("<script"));
}

#[test]
fn run_plot_writes_the_figures_and_a_self_contained_report() {
    let dir = Dir::new();
    dir.write("p.toml", &format!("slo = 0.99\n{PARALLEL}"));
    dir.nines(&["run", "p.toml", "--plot", "--trials", "50", "--out", "r", "--quiet"])
        .ok();
    assert_png(&std::fs::read(dir.path_of("r/downtime.png")).unwrap());
    assert_svg(&dir.read("r/downtime.svg"), "Downtime per year");
    let html = dir.read("r/report.html");
    assert!(html.contains("SLO 0.99") && html.contains("<svg") && !html.contains("<script"));
    assert!(!html.contains("http://") || html.matches("http://").all(|_| html.contains("www.w3.org")));
    let request_level = include_str!("../scenarios/order-flow.toml");
    dir.write("o.toml", request_level);
    dir.nines(&[
        "run",
        "o.toml",
        "--plot",
        "--trials",
        "2",
        "--set",
        "horizon=30s",
        "--out",
        "o",
        "--quiet",
    ])
    .ok();
    for f in [
        "latency",
        "success_over_time",
        "attempts_over_time",
        "breakers_over_time",
    ] {
        assert_png(&std::fs::read(dir.path_of(&format!("o/{f}.png"))).unwrap());
    }
}

#[test]
fn the_slo_verdict_follows_the_interval() {
    let dir = Dir::new();
    dir.write("p.toml", PARALLEL);
    let json = |slo: &str| -> serde_json::Value {
        serde_json::from_str(&dir.nines(&["run", "p.toml", "--format", "json", "--slo", slo]).ok()).unwrap()
    };
    // Truth: 1 - 1/121 = 0.99174.
    let easy = json("0.99");
    assert_eq!(easy["slo"]["meets"], true);
    assert!(easy["slo"]["confidence"].as_f64().unwrap() > 0.99);
    let budget = easy["slo"]["error_budget_per_year_s"].as_f64().unwrap();
    assert!((budget - 315_360.0).abs() < 1e-6);
    let hard = json("0.999");
    assert_eq!(hard["slo"]["meets"], false);
    assert!(hard["slo"]["confidence"].as_f64().unwrap() < 0.01);
    assert!(hard["slo"]["budget_left_per_year_s"].as_f64().unwrap() < 0.0);
    let err = dir.nines(&["run", "p.toml", "--slo", "99.99"]).bad_input();
    assert!(err.contains("0.9999 for four nines"), "{err}");
}

#[test]
fn vary_given_twice_for_one_path_is_refused_not_mislabelled() {
    let dir = Dir::new();
    dir.write("s.toml", crate::util::SMALL);
    let err = dir
        .nines(&[
            "sweep",
            "s.toml",
            "--vary",
            "service.api.replicas=1,2",
            "--vary",
            "service.api.replicas=3,4",
            "--out",
            "o",
        ])
        .bad_input();
    assert!(err.contains("--vary service.api.replicas is given twice"), "{err}");
}

#[test]
fn vary_to_nan_is_refused_not_one_silent_point() {
    let dir = Dir::new();
    dir.write("s.toml", crate::util::SMALL);
    for spec in [
        "service.api.failure.mean=1..nan",
        "service.api.replicas=nan..3",
        "service.api.replicas=1..inf:1",
    ] {
        let err = dir
            .nines(&["sweep", "s.toml", "--vary", spec, "--out", "o"])
            .bad_input();
        assert!(err.contains("finite numbers"), "{spec}: {err}");
    }
}
