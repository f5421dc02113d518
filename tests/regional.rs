//! Regional stacks: dependencies compose per region (locality) in the
//! time-based model, as the request level routes them. Each case has an
//! exact or closed-form truth, and the old rule (multiplying the tiers'
//! served fractions, 1 - (1/2)^tiers lost during a region's failover) is
//! shown to fall outside it.

use crate::util::{assert_covers, assert_excludes, simulate, t_ci95};

/// A web, api and db stack deployed in `regions`, global active-active
/// with `failover`; `replicas` is each service's failure process (empty:
/// never fails), `db_regions` where the db lives.
fn stack(horizon: &str, failover: &str, regions: &str, replicas: &str, db_regions: &str) -> String {
    format!(
        r#"horizon = "{horizon}"
[global]
mode = "active-active"
failover = "{failover}"
{regions}
[[service]]
name = "web"
topology = "active-active"
replicas = 2
regions = ["eu", "us"]
{replicas}
[[service.call]]
to = "api"
[[service]]
name = "api"
topology = "active-active"
replicas = 2
regions = ["eu", "us"]
{replicas}
[[service.call]]
to = "db"
[[service]]
name = "db"
topology = "active-active"
replicas = 2
regions = {db_regions}
{replicas}
"#
    )
}

const FIXED_EU_OUTAGE: &str = r#"[[region]]
name = "eu"
failure = { dist = "fixed", mean = "10h" }
repair = { dist = "fixed", mean = "1h" }
[[region]]
name = "us"
"#;

/// eu is down from 10 h to 11 h of a 15-hour horizon; replicas never fail.
/// Traffic is spread over both regions' web groups; eu's half is lost
/// until the 5-minute failover moves it, and us's half is served end to
/// end by us's api and db: 150 s of downtime exactly, not the 262.5 s of
/// 1 - (1/2)^3 lost. Every service's own rule holds throughout, so the
/// region takes the whole downtime share.
#[test]
fn a_regional_stack_loses_half_for_the_failover() {
    let text = stack("15h", "5m", FIXED_EU_OUTAGE, "", r#"["eu", "us"]"#);
    let (s, rows) = simulate(&text, 3, 1);
    for r in &rows {
        assert!(
            (r.downtime - 150.0).abs() < 1e-9,
            "downtime {} s, expected 150",
            r.downtime
        );
        assert_eq!(r.incidents, 1);
    }
    for (name, svc) in &s.services {
        assert_eq!(svc.own_availability.mean, 1.0, "{name}: own rule");
        assert_eq!(svc.downtime_share, 0.0, "{name}: downtime share");
    }
    assert!((s.regions["eu"].downtime_share - 1.0).abs() < 1e-12);
    assert_eq!(s.regions["us"].downtime_share, 0.0);
}

/// The same outage's incident, as `summary.json` and the table report it:
/// it lasts the 5-minute failover (300 s to recover) and costs half the
/// traffic over it (150 s lost). Dividing the traffic lost by the incidents
/// (the old "mean time to recover") would read 150 s.
#[test]
fn an_incident_reports_its_length_and_the_traffic_it_lost() {
    let text = stack("15h", "5m", FIXED_EU_OUTAGE, "", r#"["eu", "us"]"#);
    let (s, rows) = simulate(&text, 3, 1);
    for r in &rows {
        assert!((r.incident_time - 300.0).abs() < 1e-9, "incident {} s", r.incident_time);
    }
    let a = &s.availability;
    let mttr = a.mean_time_to_recover_s.expect("incidents");
    let lost = a.mean_traffic_lost_per_incident_s.expect("incidents");
    assert!((mttr - 300.0).abs() < 1e-9, "time to recover {mttr}");
    assert!((lost - 150.0).abs() < 1e-9, "traffic lost {lost}");
    assert!((a.longest_outage_s - 300.0).abs() < 1e-9);

    let d = crate::util::Dir::new();
    let p = d.write("stack.toml", &format!("trials = 3\n{text}"));
    let out = d.nines(&["run", p.to_str().unwrap(), "--out", "o", "--quiet"]).ok();
    assert!(
        out.contains("mean time to recover 5.00 min · traffic lost / incident 2.50 min · longest 5.00 min"),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_str(&d.read("o/summary.json")).unwrap();
    assert_eq!(json["availability"]["mean_time_to_recover_s"], 300.0);
    assert_eq!(json["availability"]["mean_traffic_lost_per_incident_s"], 150.0);
}

/// An incident that loses all the traffic costs what it lasts: the table's
/// line is unchanged, with no "traffic lost" part.
#[test]
fn an_incident_that_loses_everything_reads_as_before() {
    let text = stack("15h", "5m", FIXED_EU_OUTAGE, "", r#"["eu"]"#);
    let (s, _) = simulate(&text, 2, 1);
    let a = &s.availability;
    assert_eq!(a.mean_time_to_recover_s, a.mean_traffic_lost_per_incident_s);
    assert_eq!(a.mean_time_to_recover_s, Some(3600.0));
    let d = crate::util::Dir::new();
    let p = d.write("stack.toml", &format!("trials = 2\n{text}"));
    let out = d.nines(&["run", p.to_str().unwrap(), "--out", "o", "--quiet"]).ok();
    assert!(
        out.contains("mean time to recover 60.0 min · longest 60.0 min"),
        "{out}"
    );
}

/// The same stack with the db only in eu: every caller needs it, so the
/// whole hour of eu's outage is lost (no failover can help).
#[test]
fn a_dependency_in_one_region_takes_every_caller_down() {
    let text = stack("15h", "5m", FIXED_EU_OUTAGE, "", r#"["eu"]"#);
    let (_, rows) = simulate(&text, 2, 1);
    for r in &rows {
        assert!(
            (r.downtime - 3600.0).abs() < 1e-9,
            "downtime {} s, expected 3600",
            r.downtime
        );
    }
}

/// Regional stacks with zero failover have a closed form: the entry serves
/// while every tier has a serving group (traffic that finds its local group
/// down moves at once). Given the regions' states the groups are
/// independent: A = Σ_states P(states) Π_tiers (1 - Π_{up regions} (1 - g))
/// with g = a^2 (both replicas of a group needed). The
/// figure `check` and `availability.analytic` print equals it, and the
/// simulation's interval covers it, tight.
#[test]
fn closed_form_for_a_regional_stack_with_zero_failover() {
    let regions = r#"[[region]]
name = "eu"
failure = { mean = "200h" }
repair = { dist = "gamma", shape = 2.0, mean = "20h" }
[[region]]
name = "us"
failure = { mean = "200h" }
repair = { dist = "gamma", shape = 2.0, mean = "20h" }
"#;
    let replicas = "min_healthy = 2\nfailure = { mean = \"100h\" }\nrepair = { mean = \"10h\" }";
    let text = stack("5y", "0s", regions, replicas, r#"["eu", "us"]"#);
    let ar: f64 = 200.0 / 220.0;
    let a: f64 = 100.0 / 110.0;
    let g = a * a; // 2 of 2 replicas
    let tier = |up: i32| -> f64 { 1.0 - (1.0 - g).powi(up) };
    let truth = ar * ar * tier(2).powi(3) + 2.0 * ar * (1.0 - ar) * tier(1).powi(3);
    let (s, _) = simulate(&text, 600, 21);
    let analytic = s.availability.analytic.expect("a closed form");
    assert!((analytic - truth).abs() < 1e-12, "analytic {analytic} vs {truth}");
    // `check` prints the same figure on the entry's line.
    let d = crate::util::Dir::new();
    let p = d.write("stack.toml", &text);
    let check = d.nines(&["check", p.to_str().unwrap()]).ok();
    let web = check.split("  web ").nth(1).expect("the web service");
    let line = web
        .lines()
        .find(|l| l.contains("closed-form availability"))
        .expect("a closed form");
    assert!(
        line.contains(&format!("closed-form availability {truth:.9}")),
        "{line} vs {truth}"
    );
    // U ≈ 0.15 (a tier with no serving group, often because one region is
    // out); 600 five-year trials give about 0.35 % of U. Allow 1 %.
    assert_covers("regional stack", truth, s.availability.ci95, 0.01 * (1.0 - truth));
    // Each service's own rule is its replicas alone: 1 - (1 - g)^2 over
    // its two groups, regions aside. Counting the regions in it (the old
    // rule) gives 0.937.
    let own = tier(2);
    let with_regions = ar * ar * tier(2) + 2.0 * ar * (1.0 - ar) * tier(1);
    for (name, svc) in &s.services {
        let ci = svc.own_availability.ci95;
        assert_covers(&format!("own rule of {name}"), own, ci, 0.02 * (1.0 - own));
        assert_excludes(&format!("own rule of {name} with regions"), with_regions, ci);
    }
}

/// `scenarios/multi-region.toml` with replicas that never fail: each
/// region outage (once a year each) costs half the traffic for the
/// 5-minute failover, 2.5 minutes; both regions out together adds
/// (4 h / 8764 h)^2 of the year, 0.11 minutes. About 5.1 minutes a year,
/// as the file's comment says; the old rule gave 7.6.
#[test]
fn multi_region_with_perfect_replicas_loses_five_minutes_a_year() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/multi-region.toml")).unwrap();
    let text: String = text
        .lines()
        .filter(|l| {
            let replica_process = l.starts_with("failure = { mean = \"") || l.starts_with("repair = { mean = \"");
            !(replica_process && l.ends_with("h\" }"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(text.matches("failure").count(), 2, "only the regions fail");
    let (s, _) = simulate(&text, 2000, 3);
    let year_min = 365.0 * 24.0 * 60.0;
    let down = |per_year_min: f64| 1.0 - per_year_min / year_min;
    let cycle = 8760.0 / 8764.0; // an outage starts once per failure + repair
    let truth = down(2.0 * 2.5 * cycle + (4.0f64 / 8764.0).powi(2) * year_min);
    assert_covers("perfect replicas", truth, s.availability.ci95, 0.05 * (1.0 - truth));
    assert_excludes(
        "perfect replicas, tiers multiplied",
        down(2.0 * 3.75 * cycle),
        s.availability.ci95,
    );
}

/// Time-based and request-level availability of the same regional stack
/// (compressed time scale: regions fail every 5 minutes for a minute, 20 s
/// failover) agree trial by trial: the paired difference's interval holds
/// 0 and is narrow, where multiplying the tiers would be 2.7 % apart.
#[test]
fn time_and_request_availability_agree_on_a_regional_stack() {
    let regions = r#"[[region]]
name = "eu"
failure = { mean = "5m" }
repair = { mean = "1m" }
[[region]]
name = "us"
failure = { mean = "5m" }
repair = { mean = "1m" }
[[workload]]
name = "users"
to = "web"
rate = 50
"#;
    let text = stack(
        "20m",
        "20s",
        regions,
        "service_time = { dist = \"fixed\", mean = \"1ms\" }",
        r#"["eu", "us"]"#,
    );
    let (s, rows) = simulate(&text, 40, 7);
    let diffs: Vec<f64> = rows
        .iter()
        .map(|r| {
            let t = r.traffic.as_ref().unwrap();
            r.availability - (t.success + t.degraded) as f64 / t.requests as f64
        })
        .collect();
    let (mean, ci) = t_ci95(&diffs);
    println!(
        "time {:.5} {:?}, requests {:.5}, paired difference {mean:+.2e} {ci:?}",
        s.availability.mean,
        s.availability.ci95,
        s.requests.as_ref().unwrap().success_ratio.mean
    );
    assert!(
        ci[0] <= 0.0 && 0.0 <= ci[1],
        "time and requests disagree: {mean:+.3e} {ci:?}"
    );
    assert!(ci[1] - ci[0] < 2e-3, "interval too wide: {ci:?}");
}

/// Under global active-passive with zero failover the same closed form
/// holds (each service's traffic moves at once to a serving group), and
/// the simulation covers it: web needs db, both 2 of 2 replicas in each of
/// two regions.
#[test]
fn closed_form_for_a_regional_stack_under_global_active_passive() {
    let text = r#"horizon = "5y"
[global]
mode = "active-passive"
failover = "0s"
[[region]]
name = "eu"
failure = { mean = "200h" }
repair = { mean = "20h" }
[[region]]
name = "us"
failure = { mean = "200h" }
repair = { mean = "20h" }
[[service]]
name = "web"
topology = "active-active"
replicas = 2
min_healthy = 2
regions = ["eu", "us"]
failure = { mean = "100h" }
repair = { mean = "10h" }
[[service.call]]
to = "db"
[[service]]
name = "db"
topology = "active-active"
replicas = 2
min_healthy = 2
regions = ["eu", "us"]
failure = { mean = "100h" }
repair = { mean = "10h" }
"#;
    let ar: f64 = 200.0 / 220.0;
    let g = (100.0f64 / 110.0).powi(2);
    let tier = |up: i32| -> f64 { 1.0 - (1.0 - g).powi(up) };
    let truth = ar * ar * tier(2).powi(2) + 2.0 * ar * (1.0 - ar) * tier(1).powi(2);
    let (s, _) = simulate(text, 600, 3);
    let analytic = s.availability.analytic.expect("a closed form");
    assert!((analytic - truth).abs() < 1e-12, "analytic {analytic} vs {truth}");
    assert_covers(
        "active-passive regional stack",
        truth,
        s.availability.ci95,
        0.01 * (1.0 - truth),
    );
}
