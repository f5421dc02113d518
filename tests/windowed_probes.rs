//! Windowed request sampling with readiness and liveness probes
//! (`src/model/windowed/probes.rs`): agreement with full simulation on
//! compressed models, paired by seed (the same failure paths), each shown
//! able to fail; the same bytes on one and two threads; probes with
//! injected faults stay refused.

use crate::util::{
    Dir, Paired, agree_with_shared, far_from_full, full_and_windowed, mean_se, same_bytes_on_one_and_two_threads,
    with_horizon, with_sampling,
};

/// Three hours of an api of 4 replicas (failing every hour each) whose
/// deep readiness check calls "prefs", one replica failing every 40
/// minutes. The api answers with a fallback when prefs is down, but its
/// deep probes fail then, the balancer ejects every replica and, failing
/// closed (`panic_threshold = 0`), refuses every request until prefs is
/// back and the probes pass again.
const DEEP: &str = r#"
name = "deep readiness check, compressed"
horizon = "3h"

[[workload]]
name = "users"
to = "api"
rate = 40
timeout = "1s"

[[service]]
name = "api"
topology = "active-active"
replicas = 4
concurrency = 16
service_time = { mean = "5ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1, timeout = "1s", deep = ["prefs"], panic_threshold = 0 }
failure = { mean = "60m" }
repair = { mean = "5m" }

[[service.call]]
to = "prefs"
timeout = "100ms"
fallback = true

[[service]]
name = "prefs"
topology = "active-active"
replicas = 1
concurrency = 32
service_time = { mean = "2ms" }
failure = { mean = "40m" }
repair = { mean = "3m" }
"#;

/// Three hours of an api of 3 single-slot replicas (40 ms a request)
/// taking 35 requests a second (47 % busy), failing every 45 minutes each,
/// repaired in 5; a liveness probe every 5 s with a 300 ms timeout
/// restarts a replica at its first failure. The probe waits behind the
/// queue, so at stationarity a replica is restarted now and then for
/// being busy, and with one replica down (70 % busy) far more often, each
/// restart loading the others further (storms). The restarts triple the
/// loss of the same model without liveness (about 4 % of requests).
const LIVE: &str = r#"
name = "liveness under load, compressed"
horizon = "3h"

[[workload]]
name = "users"
to = "api"
rate = 35
timeout = "1s"

[[service]]
name = "api"
topology = "active-active"
replicas = 3
concurrency = 1
queue = 50
service_time = { mean = "40ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
liveness = { interval = "5s", failures = 1, timeout = "300ms", restart = { dist = "fixed", mean = "5s" } }
failure = { mean = "45m" }
repair = { mean = "5m" }
"#;

/// One of a service's defence counts.
type Count = fn(&nines::model::counts::DefenceCounts) -> u64;

/// Per trial: `f` of service `s`'s defence counts.
fn defence(
    rows: &[nines::model::TrialResult],
    s: usize,
    f: fn(&nines::model::counts::DefenceCounts) -> u64,
) -> Vec<f64> {
    rows.iter()
        .map(|r| f(&r.traffic.as_ref().expect("requests").defence[s]) as f64)
        .collect()
}

/// Windowed against full, paired by seed: the request availability within
/// 2.5 combined standard errors (paired, plus the shared samples'), and
/// the api's probes sent, failed and (with liveness) restarts per trial
/// within 3 paired standard errors plus 3 % of their level (the shared
/// samples' error, which pairing cannot show).
fn compare(name: &str, model: &str, trials: u64, seed: u64, liveness: bool) -> Paired {
    let [(_, rf), (sw, rw)] = full_and_windowed(model, trials, seed);
    let paired = agree_with_shared(name, &sw, &rf, &rw, 2.5);
    let mut counts: Vec<(&str, Count)> = vec![("probes sent", |d| d.probes), ("probes failed", |d| d.probes_failed)];
    if liveness {
        counts.push(("restarts", |d| d.restarts));
    }
    for (what, f) in counts {
        let (cf, cw) = (defence(&rf, 0, f), defence(&rw, 0, f));
        let level = cf.iter().sum::<f64>() / cf.len() as f64;
        let diffs: Vec<f64> = cf.iter().zip(&cw).map(|(f, w)| w - f).collect();
        let (mean, se) = mean_se(&diffs);
        println!("{name}: {what} per trial, full {level:.1}, windowed - full {mean:+.2} (paired s.e. {se:.2})");
        assert!(level > 10.0, "{name}: too few {what} to mean anything");
        assert!(mean.abs() <= 3.0 * se + 0.03 * level, "{name}: {what}: {mean} vs {se}");
    }
    paired
}

#[test]
fn windowed_agrees_with_full_simulation_with_a_deep_readiness_check() {
    let (trials, seed) = (12, 3);
    let paired = compare("deep readiness", DEEP, trials, seed, false);
    let (loss, combined) = (paired.loss, paired.combined);
    assert!(
        loss > 1e-2,
        "the deep check must lose requests to mean anything: {loss}"
    );
    assert!(2.5 * combined < 0.1 * loss, "{combined} vs {loss}");
    // The comparison can fail: with a free readiness check the api serves
    // its fallback while prefs is down.
    let shallow = DEEP.replace(", timeout = \"1s\", deep = [\"prefs\"], panic_threshold = 0", "");
    assert!(!shallow.contains("deep ="), "{shallow}");
    far_from_full("deep readiness", &shallow, trials, seed, &paired, 5.0 * 2.5 * combined);
}

#[test]
fn windowed_agrees_with_full_simulation_with_liveness_restarts_under_load() {
    let (trials, seed) = (24, 3);
    let paired = compare("liveness", LIVE, trials, seed, true);
    let (loss, combined) = (paired.loss, paired.combined);
    assert!(loss > 1e-2, "the restarts must lose requests to mean anything: {loss}");
    // Restart storms after a crash are chaotic: each run of the same
    // failure path has its own, which pairing cannot cancel.
    assert!(2.5 * combined < 0.3 * loss, "{combined} vs {loss}");
    // The comparison can fail: without liveness nothing restarts.
    let calm = LIVE.replace(
        "liveness = { interval = \"5s\", failures = 1, timeout = \"300ms\", restart = { dist = \"fixed\", mean = \"5s\" } }\n",
        "",
    );
    assert!(!calm.contains("liveness ="), "{calm}");
    far_from_full("liveness", &calm, trials, seed, &paired, 3.0 * 2.5 * combined);
}

#[test]
fn windowed_probes_give_the_same_bytes_on_one_and_two_threads() {
    same_bytes_on_one_and_two_threads("deep readiness", &with_horizon(DEEP, "1h"), 2, 4, &["\"probes\""]);
    same_bytes_on_one_and_two_threads("liveness", LIVE, 4, 4, &["\"restarts\""]);
}

/// Probes with injected faults stay refused (a liveness restart cures a
/// hang, which changes the availability from the request side), with the
/// reason and exit 2; the probes alone pass.
#[test]
fn probes_with_faults_stay_refused() {
    let env = Dir::new();
    let faulted = format!(
        "{}\n[[fault]]\nname = \"hang\"\nat = \"1h\"\nduration = \"1m\"\nkind = \"hang\"\ntarget = \"api\"\n",
        with_sampling(LIVE, "windowed")
    );
    let path = env.write("faulted.toml", &faulted);
    let err = env.nines(&["check", path.to_str().unwrap()]).bad_input();
    assert!(err.contains("request_sampling") && err.contains("fault"), "{err}");
    for (name, model) in [("deep.toml", DEEP), ("live.toml", LIVE)] {
        let path = env.write(name, &with_sampling(model, "windowed"));
        env.nines(&["check", path.to_str().unwrap()]).ok();
    }
}
