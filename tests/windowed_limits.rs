//! The static `[limits]` estimate of a windowed trial counts a window for
//! every kind of configuration change: zone outages, common-cause shocks,
//! deploy steps, maintenance windows and bursts, besides region and
//! replica failures. For each kind: the estimate grows with it, and its
//! windows are within a factor of those a run reports. Its stationary
//! samples are counted per distinct configuration a trial meets (shared by
//! the run's trials), not per window: a month that changes every few hours
//! is within a factor of what a run simulates and fits the default budget,
//! and a diurnal swing's rate levels are counted.

use crate::util::{Dir, simulate};
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
    let e = nines::scenario::limits::windowed::estimate(&parse(text));
    (e.windows, e.requests)
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

/// A month of one pool of six replicas, each failing every day: a change
/// every two hours, about 540 windows a trial, and few configurations
/// (up to two or three replicas down at once).
const POOL_MONTH: &str = r#"
name = "pool, a month"
horizon = "30d"
request_sampling = "windowed"

[[workload]]
name = "clients"
to = "api"
rate = 200

[[service]]
name = "api"
topology = "active-active"
replicas = 6
concurrency = 64
service_time = { mean = "2ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "1d" }
repair = { mean = "1h" }
"#;

/// `benches/windowed_month.toml` (three tiers, retries, a breaker, a
/// bulkhead, an active-passive database), its web and app replicas failing
/// every `every`, at `rate` requests a second.
fn tiers_month(every: &str, rate: u32) -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/windowed_month.toml"))
        .expect("the month bench")
        .replace("mean = \"10d\"", &format!("mean = \"{every}\""))
        .replace("rate = 1000", &format!("rate = {rate}"))
}

/// Entry requests one trial of `text` simulated (windows and the samples
/// it drew: a run of one trial draws every sample it uses), and the
/// configurations it sampled.
fn one_trial(text: &str, seed: u64) -> (f64, f64) {
    let (s, _) = simulate(text, 1, seed);
    let w = s.requests.as_ref().unwrap().windowed.clone().expect("windowed");
    (w.simulated_requests as f64, w.configurations_sampled as f64)
}

/// Asserts that the estimate of `text` is within a factor of 4 of what one
/// trial simulated, for two seeds, and that the default budget takes it.
fn within_a_factor(name: &str, text: &str) {
    let e = nines::scenario::limits::windowed::estimate(&parse(text));
    for seed in [1, 2] {
        let (ran, configurations) = one_trial(text, seed);
        println!(
            "{name}, seed {seed}: estimated {:.3e} requests ({:.1} windows of {:.0}, {:.1} configurations x {} levels of {:.0}), one trial simulated {ran:.3e} ({configurations} configurations)",
            e.requests, e.windows, e.window_requests, e.configurations, e.levels, e.sample_requests
        );
        assert!(
            e.requests >= 0.25 * ran && e.requests <= 4.0 * ran,
            "{name}: estimated {:.3e}, simulated {ran:.3e}",
            e.requests
        );
        assert!(
            e.configurations >= 0.5 * configurations && e.configurations <= 4.0 * configurations,
            "{name}: estimated {} configurations, sampled {configurations}",
            e.configurations
        );
    }
    assert!(
        e.requests < nines::scenario::limits::DEFAULT_EVENTS_PER_TRIAL as f64,
        "{name}: {e:?}"
    );
}

#[test]
fn a_month_changing_every_two_hours_is_estimated_within_a_factor() {
    within_a_factor("pool", POOL_MONTH);
}

#[test]
fn a_three_tier_month_changing_every_few_hours_is_estimated_within_a_factor() {
    // Eight replicas failing every two days: a change every three hours.
    within_a_factor("three tiers", &tiers_month("2d", 100));
}

/// `nines check` of `text`: its exit code and standard error.
fn check(text: &str) -> (i32, String) {
    let env = Dir::new();
    let path = env.write("month.toml", text);
    let run = env.nines(&["check", path.to_str().unwrap()]);
    (run.code(), run.stderr())
}

#[test]
fn a_month_at_1000_requests_a_second_changing_every_few_hours_passes_check() {
    // Eight replicas failing every 12 hours, a change every 45 minutes:
    // one sample per window was 1.1e9 requests a trial, refused.
    for every in ["10d", "2d", "1d", "12h"] {
        let text = tiers_month(every, 1000);
        let e = nines::scenario::limits::windowed::estimate(&parse(&text));
        println!("failures every {every}: {e:?}");
        let (code, err) = check(&text);
        assert_eq!(code, 0, "failures every {every}: {err}");
    }
}

#[test]
fn a_month_that_would_blow_the_budget_is_still_refused() {
    // At 20,000 requests a second the windows alone (about 1,100 a trial,
    // 25 s each) simulate about 5e8 requests a trial.
    let (code, err) = check(&tiers_month("12h", 20_000));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("workload.clients.rate") && err.contains("limits.events_per_trial"),
        "{err}"
    );
    // And a budget below what one trial of the pool simulates (about 3e6
    // requests) refuses it.
    let (code, err) = check(&format!("{POOL_MONTH}\n[limits]\nevents_per_trial = 700000\n"));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_diurnal_month_counts_its_rate_levels() {
    // tests/windowed_diurnal.rs's single replica: up or down, each
    // configuration sampled at every level of the swing.
    let single = &crate::util::with_sampling(crate::windowed_diurnal::SINGLE, "windowed");
    let flat = single.replace("diurnal = { amplitude = 0.8 }\n", "");
    let swung = nines::scenario::limits::windowed::estimate(&parse(single));
    let still = nines::scenario::limits::windowed::estimate(&parse(&flat));
    let (ran, levels) = one_trial(single, 1);
    println!("diurnal: {swung:?}; flat: {still:?}; one trial simulated {ran:.3e} in {levels} samples");
    assert_eq!(swung.levels, 33.0);
    assert_eq!(still.levels, 1.0);
    assert!(swung.configurations > 1.9 && swung.configurations < 3.0, "{swung:?}");
    assert!(swung.requests >= 30.0 * still.requests, "{swung:?} against {still:?}");
    // An upper bound on the level samples: every level of the grid, each
    // to the cap.
    assert!(swung.requests >= ran, "estimated {}, simulated {ran}", swung.requests);
    assert!(swung.requests < nines::scenario::limits::DEFAULT_EVENTS_PER_TRIAL as f64);
}
