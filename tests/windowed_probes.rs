//! Windowed request sampling with readiness and liveness probes
//! (`src/model/windowed/probes.rs`): agreement with full simulation on
//! compressed models, paired by seed (the same failure paths), each shown
//! able to fail; the same bytes on one and two threads; probes with
//! injected faults stay refused.

use crate::util::{Dir, request_availability, simulate};

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

fn with_sampling(model: &str, sampling: &str) -> String {
    model.replace(
        "horizon = \"3h\"",
        &format!("horizon = \"3h\"\nrequest_sampling = \"{sampling}\""),
    )
}

/// Mean and standard error of `xs`.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

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
/// samples' error, which pairing cannot show). Returns the full loss, the
/// combined standard error and the full per-trial availabilities.
fn compare(name: &str, model: &str, trials: u64, seed: u64, liveness: bool) -> (f64, f64, Vec<f64>) {
    let (sf, rf) = simulate(&with_sampling(model, "full"), trials, seed);
    let (sw, rw) = simulate(&with_sampling(model, "windowed"), trials, seed);
    assert_eq!(sf.requests.as_ref().unwrap().sampling.as_deref(), Some("full"));
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("{name}: windowed {w:?}");
    assert_eq!(w.metastable_windows, 0, "{name}: {w:?}");
    let (af, aw) = (request_availability(&rf), request_availability(&rw));
    let loss = 1.0 - af.iter().sum::<f64>() / af.len() as f64;
    let diffs: Vec<f64> = af.iter().zip(&aw).map(|(f, w)| w - f).collect();
    let (mean, se) = mean_se(&diffs);
    let combined = (se * se + w.sampling_error * w.sampling_error).sqrt();
    println!(
        "{name}: full loss {loss:.4e}, windowed - full {mean:+.3e} (paired s.e. {se:.2e}, shared {:.2e})",
        w.sampling_error
    );
    assert!(mean.abs() <= 2.5 * combined, "{name}: {mean} vs {combined}");
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
    (loss, combined, af)
}

/// The same model without its request probes, windowed: how far its
/// request availability is from `full`'s, paired.
fn removed(model: &str, trials: u64, seed: u64, full: &[f64]) -> f64 {
    let (_, rn) = simulate(&with_sampling(model, "windowed"), trials, seed);
    let an = request_availability(&rn);
    let diffs: Vec<f64> = full.iter().zip(&an).map(|(f, w)| w - f).collect();
    mean_se(&diffs).0
}

#[test]
fn windowed_agrees_with_full_simulation_with_a_deep_readiness_check() {
    let (trials, seed) = (12, 3);
    let (loss, combined, af) = compare("deep readiness", DEEP, trials, seed, false);
    assert!(
        loss > 1e-2,
        "the deep check must lose requests to mean anything: {loss}"
    );
    assert!(2.5 * combined < 0.1 * loss, "{combined} vs {loss}");
    // The comparison can fail: with a free readiness check the api serves
    // its fallback while prefs is down.
    let shallow = DEEP.replace(", timeout = \"1s\", deep = [\"prefs\"], panic_threshold = 0", "");
    assert!(!shallow.contains("deep ="), "{shallow}");
    let off = removed(&shallow, trials, seed, &af);
    println!("deep readiness: without the probe, windowed - full {off:+.3e}");
    assert!(off.abs() > 5.0 * 2.5 * combined, "{off} vs {combined}");
}

#[test]
fn windowed_agrees_with_full_simulation_with_liveness_restarts_under_load() {
    let (trials, seed) = (24, 3);
    let (loss, combined, af) = compare("liveness", LIVE, trials, seed, true);
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
    let off = removed(&calm, trials, seed, &af);
    println!("liveness: without the probe, windowed - full {off:+.3e}");
    assert!(off.abs() > 3.0 * 2.5 * combined, "{off} vs {combined}");
}

#[test]
fn windowed_probes_give_the_same_bytes_on_one_and_two_threads() {
    let env = Dir::new();
    for (name, model, mark) in [("deep.toml", DEEP, "\"probes\""), ("live.toml", LIVE, "\"restarts\"")] {
        let path = env.write(name, &with_sampling(model, "windowed"));
        let path = path.to_str().unwrap();
        let run = |threads: &str| {
            env.nines(&[
                "run",
                path,
                "--trials",
                "4",
                "--seed",
                "4",
                "--threads",
                threads,
                "--format",
                "json",
                "--no-write",
            ])
            .ok()
        };
        let one = run("1");
        assert!(
            one.contains("\"sampling\": \"windowed\"") && one.contains(mark),
            "{name}: {one}"
        );
        assert_eq!(one, run("2"), "{name}");
    }
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
