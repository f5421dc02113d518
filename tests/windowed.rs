//! Windowed request sampling (`request_sampling = "windowed"`): closed
//! forms at month scale, agreement with full simulation on compressed
//! models, determinism across threads, and the refusals.

use crate::util::{
    COMPRESSED, Dir, agree_on_requests, assert_covers, full_and_windowed, request_availability,
    same_bytes_on_one_and_two_threads, simulate, t_ci95,
};

/// One replica failing every 3 days, repaired in an hour: its refused
/// requests are its only failures, so by PASTA (Poisson arrivals see time
/// averages) the request availability is the time availability,
/// MTTF / (MTTF + MTTR) = 72 / 73, and in each trial it matches that
/// trial's time availability.
const SINGLE: &str = r#"
name = "single replica, a month"
horizon = "30d"
request_sampling = "windowed"

[[workload]]
name = "clients"
to = "api"
rate = 20

[[service]]
name = "api"
replicas = 1
concurrency = 64
queue = 100
service_time = { mean = "5ms" }
failure = { mean = "3d" }
repair = { mean = "1h" }
"#;

#[test]
fn a_single_replica_month_has_the_time_availability_by_pasta() {
    let (s, rows) = simulate(SINGLE, 60, 11);
    let r = s.requests.as_ref().expect("requests");
    assert_eq!(r.sampling.as_deref(), Some("windowed"));
    let w = r.windowed.as_ref().expect("windowed figures");
    assert!(w.share_simulated < 0.02, "{w:?}");
    assert_eq!(w.metastable_windows, 0);
    // A month of 20 requests a second is 51.8 M requests per trial.
    assert!(r.total > 60 * 50_000_000, "{}", r.total);
    assert_covers("request availability", 72.0 / 73.0, r.availability.ci95, 0.003);
    for (row, a) in rows.iter().zip(request_availability(&rows)) {
        // Windows hold a few thousand requests of the 51.8 M: the
        // estimate is the time availability to within their noise.
        assert!((a - row.availability).abs() < 2e-4, "{a} vs {}", row.availability);
    }
}

/// Four replicas behind health checks (every 10 s, 3 failures eject): a
/// crashed replica keeps its quarter of the traffic, refused, until it is
/// ejected (20 s plus the phase of the checks, 25 s on average), and costs
/// nothing once ejected or when it comes back. Crashes per second are
/// 4 / (MTTF + MTTR), each losing a quarter of the traffic for 25 s:
/// unavailability 25 s / (MTTF + MTTR).
const POOL: &str = r#"
name = "4 replicas, health-check ejection"
horizon = "30d"
request_sampling = "windowed"

[[workload]]
name = "clients"
to = "api"
rate = 20

[[service]]
name = "api"
topology = "active-active"
replicas = 4
concurrency = 64
service_time = { mean = "5ms" }
health_check = { interval = "10s", unhealthy = 3, healthy = 1 }
failure = { mean = "3d" }
repair = { mean = "30m" }
"#;

#[test]
fn a_pool_loses_a_quarter_of_the_traffic_for_each_detection_time() {
    let (s, rows) = simulate(POOL, 40, 5);
    let r = s.requests.as_ref().expect("requests");
    let truth = 1.0 - 25.0 / (3.0 * 86_400.0 + 1_800.0);
    assert_covers("request availability", truth, r.availability.ci95, 1.5e-5);
    // Every trial's time availability is 1 (one replica serves the rule):
    // the loss is the detection transient alone, which the windows see.
    assert!(rows.iter().all(|row| row.availability == 1.0));
    assert_eq!(r.windowed.as_ref().expect("windowed").metastable_windows, 0);
}

/// SLO windows and an alert rule on the compressed model: a 99 % objective
/// over rolling hours (a budget of 720 failed requests at 20 a second, which
/// one 40-second failover overspends) and a page at 5x over 10 minutes and
/// 1 minute. They read the request series only, so the request figures are
/// those of the model without them.
const SLO: &str = r#"
[[alert]]
name = "page"
burn_rate = 5
long_window = "10m"
short_window = "1m"
"#;

/// The per-trial mean of `f` over the trials' SLO figures.
fn per_trial(rows: &[nines::model::TrialResult], f: impl Fn(&nines::model::slo::SloTrial) -> f64) -> Vec<f64> {
    rows.iter()
        .map(|r| f(r.traffic.as_ref().and_then(|t| t.slo.as_ref()).expect("slo figures")))
        .collect()
}

#[test]
fn windowed_agrees_with_full_simulation_on_a_compressed_model() {
    let trials = 12;
    let model = format!("{COMPRESSED}{SLO}").replace(
        "horizon = \"6h\"",
        "horizon = \"6h\"\nslo = { target = 0.99, window = \"1h\" }",
    );
    let [(sf, rf), (sw, rw)] = full_and_windowed(&model, trials, 3);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("windowed: {w:?}");
    assert!(w.share_simulated < 0.9, "{w:?}");
    // The same seeds give the same failure paths: compare trial by trial.
    agree_on_requests("request availability", &rf, &rw);
    // The time-based figures are the availability component's alone: equal.
    for (a, b) in rf.iter().zip(&rw) {
        assert_eq!(a.availability, b.availability);
    }
    // Requests in both within a few per cent.
    let (nf, nw) = (
        sf.requests.as_ref().unwrap().total as f64,
        sw.requests.as_ref().unwrap().total as f64,
    );
    assert!((nw / nf - 1.0).abs() < 0.01, "{nw} vs {nf}");
    // SLO windows: per trial, the mean budget consumed per window and the
    // share of windows meeting the objective, paired by seed.
    let budget = |rows: &[nines::model::TrialResult]| per_trial(rows, |s| s.budget_sum / s.windows as f64);
    let meeting = |rows: &[nines::model::TrialResult]| per_trial(rows, |s| s.met as f64 / s.windows as f64);
    for (name, f, w) in [
        ("budget per window", budget(&rf), budget(&rw)),
        ("windows meeting", meeting(&rf), meeting(&rw)),
    ] {
        let diffs: Vec<f64> = f.iter().zip(&w).map(|(a, b)| b - a).collect();
        let (mean, ci) = t_ci95(&diffs);
        let level = f.iter().sum::<f64>() / f.len() as f64;
        println!(
            "{name}: full {level:.4}, windowed - full {mean:+.4} ci95 [{:.4}, {:.4}]",
            ci[0], ci[1]
        );
        assert!(level > 0.05, "{name} must be far from 0 to mean anything: {level}");
        assert_covers(name, 0.0, ci, 0.1 * level);
    }
    // Alerts: the same incidents (same failure paths), detected as often
    // and as fast.
    let rule = |rows: &[nines::model::TrialResult], f: fn(&nines::model::slo::AlertTrial) -> f64| {
        per_trial(rows, |s| f(&s.alerts[0]))
    };
    let incidents = |a: &nines::model::slo::AlertTrial| a.incidents as f64;
    let detected = |a: &nines::model::slo::AlertTrial| a.detected as f64;
    let (inc_f, inc_w) = (rule(&rf, incidents), rule(&rw, incidents));
    let total = inc_f.iter().sum::<f64>();
    assert!(total >= 20.0, "too few incidents to compare: {total}");
    for (name, f, w) in [
        ("incidents", inc_f, inc_w),
        ("detected", rule(&rf, detected), rule(&rw, detected)),
    ] {
        let diffs: Vec<f64> = f.iter().zip(&w).map(|(a, b)| b - a).collect();
        let (mean, ci) = t_ci95(&diffs);
        println!(
            "{name} per trial: full {:.3}, windowed - full {mean:+.3} ci95 [{:.3}, {:.3}]",
            total / trials as f64,
            ci[0],
            ci[1]
        );
        assert!(
            ci[0] <= 0.0 && 0.0 <= ci[1] || mean.abs() < 0.1,
            "{name}: {mean} {ci:?}"
        );
    }
    let times = |rows: &[nines::model::TrialResult]| -> Vec<f64> {
        rows.iter()
            .flat_map(|r| {
                r.traffic.as_ref().unwrap().slo.as_ref().unwrap().alerts[0]
                    .detection_s
                    .clone()
            })
            .collect()
    };
    let (tf, tw) = (times(&rf), times(&rw));
    let (mf, cf) = t_ci95(&tf);
    let (mw, cw) = t_ci95(&tw);
    println!(
        "detection: full {mf:.1} s [{:.1}, {:.1}] ({} incidents), windowed {mw:.1} s [{:.1}, {:.1}] ({})",
        cf[0],
        cf[1],
        tf.len(),
        cw[0],
        cw[1],
        tw.len()
    );
    // Welch: the difference within two combined standard errors (half-widths
    // are about 2 s.e.).
    let combined = (((cf[1] - cf[0]) / 2.0).powi(2) + ((cw[1] - cw[0]) / 2.0).powi(2)).sqrt();
    assert!((mw - mf).abs() <= combined, "detection {mw} vs {mf} (+- {combined})");
}

#[test]
fn windowed_output_is_the_same_on_one_and_two_threads() {
    same_bytes_on_one_and_two_threads("pool", POOL, 6, 4, &[]);
}

#[test]
fn the_flag_overrides_the_file_and_refuses_what_it_cannot_run() {
    let env = Dir::new();
    let path = env.write("single.toml", &SINGLE.replace("request_sampling = \"windowed\"\n", ""));
    let path = path.to_str().unwrap();
    // Unset, a month of 20 requests a second (51.8 M) stays under the
    // budget: full, and nothing said about it.
    let short = env.write(
        "short.toml",
        &SINGLE
            .replace("request_sampling = \"windowed\"\n", "")
            .replace("30d", "1h"),
    );
    let quiet = env
        .nines(&[
            "run",
            short.to_str().unwrap(),
            "--trials",
            "2",
            "--format",
            "json",
            "--no-write",
        ])
        .ok();
    assert!(!quiet.contains("\"sampling\""), "{quiet}");
    let said = env
        .nines(&[
            "run",
            short.to_str().unwrap(),
            "--trials",
            "2",
            "--format",
            "json",
            "--no-write",
            "--request-sampling",
            "full",
        ])
        .ok();
    assert!(said.contains("\"sampling\": \"full\""), "{said}");
    let _ = path;
    let faulty = format!(
        "{}topology = \"active-active\"\n[service.autoscale]\ntarget = 0.5\ninterval = \"10s\"\nmin = 1\nmax = 3\n[[fault]]\nname = \"kill\"\nkind = \"crash\"\ntarget = \"api\"\nat = \"1h\"\nduration = \"1m\"\n",
        SINGLE.replace("request_sampling = \"windowed\"\n", "")
    );
    let fpath = env.write("faulty.toml", &faulty);
    let out = env.nines(&[
        "run",
        fpath.to_str().unwrap(),
        "--request-sampling",
        "windowed",
        "--no-write",
    ]);
    let err = out.bad_input();
    assert!(err.contains("autoscaling"), "{err}");
    let in_file = env.write(
        "faulty-file.toml",
        &faulty.replacen(
            "horizon = \"30d\"",
            "horizon = \"30d\"\nrequest_sampling = \"windowed\"",
            1,
        ),
    );
    let err = env.nines(&["check", in_file.to_str().unwrap()]).bad_input();
    assert!(err.contains("request_sampling") && err.contains("autoscaling"), "{err}");
    let typo = env.write("typo.toml", &SINGLE.replace("\"windowed\"", "\"sampled\""));
    let err = env.nines(&["check", typo.to_str().unwrap()]).bad_input();
    assert!(err.contains("unknown request sampling \"sampled\""), "{err}");
}

/// Coverage of the windowed interval: the k-of-n pool's closed form against
/// the 95 % interval of 200 independent runs (seeds) of 10 trials of 10
/// days each. Run with
/// `cargo test --release --test main windowed_interval_coverage -- --ignored --nocapture`.
#[test]
#[ignore = "a coverage study: minutes"]
fn windowed_interval_coverage() {
    let text = POOL.replace("horizon = \"30d\"", "horizon = \"10d\"");
    let truth = 1.0 - 25.0 / (3.0 * 86_400.0 + 1_800.0);
    let seeds = 200;
    let mut covered = 0;
    let mut half = 0.0;
    for seed in 0..seeds {
        let (s, _) = simulate(&text, 10, 1_000 + seed);
        let ci = s.requests.as_ref().expect("requests").availability.ci95;
        covered += u32::from(ci[0] <= truth && truth <= ci[1]);
        half += (ci[1] - ci[0]) / 2.0;
    }
    let share = f64::from(covered) / seeds as f64;
    println!(
        "windowed coverage: {covered} of {seeds} = {:.1} %, mean half-width {:.3e} (loss {:.3e})",
        100.0 * share,
        half / seeds as f64,
        1.0 - truth
    );
    // 95 % nominal; 200 seeds have a binomial spread of 1.5 points.
    assert!(share >= 0.91, "coverage {share}");
}

/// The static event budget of `[limits]` counts what a windowed run
/// simulates: a month at 1000 requests a second (2.6 billion arrivals, over
/// the default budget of 5 x 10^8) passes `check` when windowed sampling
/// will run, in the file or by `auto`, and is refused when every request
/// would be simulated, in the file or by `--request-sampling full`.
#[test]
fn the_event_budget_counts_the_windowed_requests() {
    let env = Dir::new();
    let busy = POOL.replace("rate = 20", "rate = 1000");
    let windowed = env.write("windowed.toml", &busy);
    env.nines(&["check", windowed.to_str().unwrap()]).ok();
    let auto = env.write("auto.toml", &busy.replace("request_sampling = \"windowed\"\n", ""));
    env.nines(&["check", auto.to_str().unwrap()]).ok();
    let full = env.write("full.toml", &busy.replace("\"windowed\"", "\"full\""));
    let err = env.nines(&["check", full.to_str().unwrap()]).bad_input();
    assert!(
        err.contains("events_per_trial") && err.contains("workload.clients.rate"),
        "{err}"
    );
    let err = env
        .nines(&[
            "run",
            windowed.to_str().unwrap(),
            "--request-sampling",
            "full",
            "--no-write",
        ])
        .bad_input();
    assert!(
        err.contains("--request-sampling full") && err.contains("events_per_trial"),
        "{err}"
    );
}

/// The pool of four replicas whose every request also fails with
/// probability 1 %: now every configuration's stationary sample has a
/// failed share to estimate, shared by the run's trials. Served share
/// (1 - 25 s / (MTTF + MTTR)) x 0.99: refused while a crashed replica is
/// not yet ejected, else served unless it errs.
fn erring_pool(horizon: &str) -> (String, f64) {
    let text = POOL
        .replace("horizon = \"30d\"", &format!("horizon = \"{horizon}\""))
        .replace(
            "service_time = { mean = \"5ms\" }",
            "service_time = { mean = \"5ms\" }\nerror_rate = 0.01",
        );
    (text, (1.0 - 25.0 / (3.0 * 86_400.0 + 1_800.0)) * 0.99)
}

#[test]
fn the_interval_holds_the_shared_samples_error() {
    let (text, truth) = erring_pool("10d");
    let (s, rows) = simulate(&text, 20, 8);
    let r = s.requests.as_ref().expect("requests");
    let w = r.windowed.as_ref().expect("windowed");
    // Each trial's own requests vary little (17 M of them): the shared
    // samples' error is most of the interval, and it is in it.
    assert!(w.sampling_error > 0.0, "{w:?}");
    let half = (r.availability.ci95[1] - r.availability.ci95[0]) / 2.0;
    assert!(half >= 1.96 * w.sampling_error, "{half} vs {}", w.sampling_error);
    assert_covers("request availability", truth, r.availability.ci95, 3e-3);
    // The same samples in every trial: one per configuration for the run.
    assert!(w.configurations_sampled <= 4, "{w:?}");
    assert!(rows.len() == 20);
}

/// Coverage of the interval when shared samples carry most of the error:
/// the erring pool's closed form against 200 independent runs (seeds) of 10
/// trials of 10 days each. Run with
/// `cargo test --release --test main windowed_shared_sample_coverage -- --ignored --nocapture`.
#[test]
#[ignore = "a coverage study: minutes"]
fn windowed_shared_sample_coverage() {
    let (text, truth) = erring_pool("10d");
    let seeds = 200;
    let mut covered = 0;
    let mut half = 0.0;
    let mut shared = 0.0;
    for seed in 0..seeds {
        let (s, _) = simulate(&text, 10, 5_000 + seed);
        let r = s.requests.as_ref().expect("requests");
        let ci = r.availability.ci95;
        covered += u32::from(ci[0] <= truth && truth <= ci[1]);
        half += (ci[1] - ci[0]) / 2.0;
        shared += r.windowed.as_ref().expect("windowed").sampling_error;
    }
    let share = f64::from(covered) / seeds as f64;
    println!(
        "shared-sample coverage: {covered} of {seeds} = {:.1} %, mean half-width {:.3e}, mean sampling error {:.3e} (loss {:.3e})",
        100.0 * share,
        half / seeds as f64,
        shared / seeds as f64,
        1.0 - truth
    );
    assert!(share >= 0.91, "coverage {share}");
}
