//! The static `[limits]` estimate of a windowed trial counts a window for
//! every kind of configuration change: zone outages, common-cause shocks,
//! deploy steps, maintenance windows and bursts, besides region and
//! replica failures. For each kind: the estimate grows with it, and its
//! windows are within a factor of those a run reports.

use crate::util::simulate;
use nines::scenario::Scenario;

/// A pool of three replicas behind health checks, failing once a day: few
/// windows of its own, so each kind's windows show.
const BASE: &str = r#"
name = "pool"
horizon = "1d"
request_sampling = "windowed"

[[workload]]
name = "clients"
to = "api"
rate = 20

[[service]]
name = "api"
topology = "active-active"
replicas = 3
concurrency = 32
service_time = { mean = "5ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "1d" }
repair = { mean = "30m" }
"#;

fn parse(text: &str) -> Scenario {
    nines::scenario::parse("case.toml", "case", text, &[]).unwrap_or_else(|e| panic!("does not parse: {e}"))
}

/// The estimate's windows and requests per trial of `text`.
fn estimate(text: &str) -> (f64, f64) {
    let sc = parse(text);
    let changes = nines::scenario::limits::windowed::changes(&sc);
    (
        nines::model::windowed::windows_per_trial(&sc, changes),
        nines::model::windowed::requests_per_trial(&sc, changes),
    )
}

/// Asserts that `part` (appended to [`BASE`], with `edit` applied to the
/// whole) raises the estimate's windows by at least `least`, and its
/// requests (those of a 30-day version at 1000 requests a second, which
/// full simulation's count does not cap), and that the windows a run
/// reports are at most the estimate and within a factor of 4 below it (an
/// estimate counts every change in full; changes close together share a
/// window).
fn grows(name: &str, part: &str, edit: impl Fn(String) -> String, least: f64) {
    let with = edit(format!("{BASE}{part}"));
    let (w0, r0) = estimate(BASE);
    let (w1, r1) = estimate(&with);
    // A month at 1000 requests a second: the requests are not capped by
    // full simulation's.
    let month = |t: &str| {
        estimate(&format!(
            "{}\n[limits]\nevents_per_trial = 1000000000000\n",
            t.replace("horizon = \"1d\"", "horizon = \"30d\"")
                .replace("rate = 20", "rate = 1000")
        ))
        .1
    };
    let (m0, m1) = (month(BASE), month(&with));
    let (s, _) = simulate(&with, 4, 3);
    let ran = s
        .requests
        .as_ref()
        .unwrap()
        .windowed
        .as_ref()
        .expect("windowed")
        .windows_per_trial;
    println!(
        "{name}: estimated windows {w0:.1} -> {w1:.1}, requests {r0:.3e} -> {r1:.3e}, a month {m0:.3e} -> {m1:.3e}; a run opened {ran:.1}"
    );
    assert!(w1 >= w0 + least, "{name}: windows {w0} -> {w1}");
    assert!(m1 > m0, "{name}: requests {m0} -> {m1}");
    assert!(r1 >= r0, "{name}: requests {r0} -> {r1}");
    assert!(
        ran <= w1 && w1 <= 4.0 * ran.max(1.0),
        "{name}: estimated {w1} windows, a run opened {ran}"
    );
}

fn same(t: String) -> String {
    t
}

#[test]
fn zone_outages_count_windows() {
    let zones = r#"
[[region]]
name = "eu"

[[region.zone]]
name = "eu-a"
failure = { mean = "4h" }
repair = { mean = "20m" }

[[region.zone]]
name = "eu-b"
failure = { mean = "4h" }
repair = { mean = "20m" }

[[region.zone]]
name = "eu-c"
failure = { mean = "4h" }
repair = { mean = "20m" }
"#;
    // Three zones, each down about 5.5 times a day: 33 changes.
    grows(
        "zones",
        zones,
        |t| {
            t.replace(
                "replicas = 3\n",
                "replicas = 3\nregions = [\"eu\"]\nspread = \"zone\"\n",
            )
        },
        30.0,
    );
}

#[test]
fn common_cause_shocks_count_windows() {
    let shock = r#"
[[common_cause]]
name = "push"
every = { mean = "3h" }
targets = ["api"]
probability = 0.5
"#;
    // 8 shocks a day, each failing 1.5 replicas on average.
    grows("common cause", shock, same, 8.0);
}

#[test]
fn deploy_steps_count_windows() {
    let deploy = r#"
[[deploy]]
service = "api"
every = { mean = "4h" }
batch = 1
pause = "30s"
restart = "1m"
bad = 0.5
effect = "errors"
error_rate = 0.3
detect = "5m"
"#;
    // 6 rolls a day, each three replicas out and back.
    grows("deploys", deploy, same, 30.0);
}

#[test]
fn maintenance_windows_count_windows() {
    let window = r#"
[[maintenance]]
name = "patching"
target = "api[0]"
every = "2h"
at = "30m"
duration = "10m"
"#;
    // 12 windows a day, each opening and closing.
    grows("maintenance", window, same, 24.0);
}

#[test]
fn bursts_count_windows() {
    let burst = r#"
[[workload.burst]]
at = "2h"
duration = "10m"
factor = 3.0

[[workload.burst]]
at = "8h"
duration = "10m"
factor = 3.0

[[workload.burst]]
at = "14h"
duration = "10m"
factor = 3.0
"#;
    // The bursts belong to the workload: inserted after its rate.
    grows(
        "bursts",
        "",
        |t| t.replace("rate = 20\n", &format!("rate = 20\n{burst}")),
        6.0,
    );
}
