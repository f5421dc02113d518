//! `--precision` with windowed request sampling: the batches share one set
//! of stationary samples, drawn once for the run, so the run has the
//! figures of a plain run of as many trials, on any thread count.

use crate::util::Dir;

/// One replica failing every day for an hour, every request also erring
/// with probability 1 %: every configuration's sample has a failed share.
const ERRING: &str = r#"
name = "erring single replica"
horizon = "2d"
request_sampling = "windowed"

[[workload]]
name = "clients"
to = "api"
rate = 20

[[service]]
name = "api"
replicas = 1
concurrency = 64
service_time = { mean = "5ms" }
error_rate = 0.01
failure = { mean = "1d" }
repair = { mean = "1h" }
"#;

#[test]
fn a_precision_run_draws_each_sample_once() {
    let sc = nines::scenario::parse("erring.toml", "erring", ERRING, &[]).expect("valid");
    let opts = nines::RunOptions {
        trials: Some(2),
        seed: Some(5),
        threads: Some(2),
        ..Default::default()
    };
    // A width no run reaches: three batches of two trials, to the cap.
    let target = nines::montecarlo::precision::Target::new(1e-9, 6).expect("a target");
    let samples = nines::model::windowed::Samples::default();
    let s = nines::montecarlo::precision::simulate_sharing(&sc, &opts, target, &samples, |_, _| Ok(()), |_| false)
        .expect("runs");
    assert_eq!(s.trials, 6);
    let w = s.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    assert!(w.configurations_sampled >= 2, "{w:?}");
    assert_eq!(
        samples.drawn(),
        w.configurations_sampled,
        "each sample drawn once: {w:?}"
    );
    // The figures of a plain run of six trials.
    let plain = nines::simulate(
        &sc,
        &nines::RunOptions {
            trials: Some(6),
            seed: Some(5),
            threads: Some(2),
            ..Default::default()
        },
        |_, _| Ok(()),
    )
    .expect("runs");
    let r = s.requests.as_ref().unwrap();
    let p = plain.requests.as_ref().unwrap();
    assert_eq!(r.total, p.total);
    assert_eq!(r.availability.mean, p.availability.mean);
    assert_eq!(r.availability.ci95, p.availability.ci95);
    assert_eq!(r.windowed, p.windowed);
}

#[test]
fn a_windowed_precision_run_is_the_same_on_one_and_two_threads() {
    let env = Dir::new();
    let path = env.write("erring.toml", ERRING);
    let run = |threads: &str| {
        env.nines(&[
            "run",
            path.to_str().unwrap(),
            "--trials",
            "2",
            "--precision",
            "1e-9",
            "--max-trials",
            "6",
            "--seed",
            "5",
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
        one.contains("\"sampling\": \"windowed\"") && one.contains("\"trials\": 6"),
        "{one}"
    );
    assert_eq!(one, run("2"));
}
