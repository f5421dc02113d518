//! Runs the real binary in a temporary folder.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A scratch folder with scenario files, where `nines` runs.
pub struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Writes `name` with `text`; returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write scenario");
        p
    }

    /// The absolute path of `rel` in this folder.
    pub fn path_of(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Runs `nines ARGS` here.
    pub fn nines(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_nines"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("RUST_BACKTRACE")
            .output()
            .expect("run nines");
        Run(out)
    }

    /// Runs `nines ARGS` here, killed after `limit` of wall-clock time so
    /// that a hang fails the test instead of stalling the suite.
    pub fn nines_within(&self, args: &[&str], limit: std::time::Duration) -> Run {
        use std::io::Read;
        use std::process::Stdio;
        let mut child = Command::new(env!("CARGO_BIN_EXE_nines"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("RUST_BACKTRACE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run nines");
        // Drained while waiting: a child whose output outgrows the pipe
        // would otherwise block on it and look like a hang.
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                pipe.read_to_end(&mut bytes).expect("read output");
                bytes
            })
        };
        let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
        let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if start.elapsed() > limit {
                child.kill().expect("kill");
                child.wait().expect("reap");
                panic!("nines {args:?} still running after {limit:?}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        Run(Output {
            status,
            stdout: stdout.join().expect("stdout"),
            stderr: stderr.join().expect("stderr"),
        })
    }
}

/// A finished run.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    /// Asserts success and returns stdout.
    pub fn ok(&self) -> String {
        assert_eq!(self.code(), 0, "stderr:\n{}", self.stderr());
        self.stdout()
    }

    /// Asserts a bad-input failure (exit 2, no panic) and returns stderr.
    pub fn bad_input(&self) -> String {
        let err = self.stderr();
        assert_eq!(
            self.code(),
            2,
            "expected exit 2; stderr:\n{err}\nstdout:\n{}",
            self.stdout()
        );
        assert!(!err.contains("panicked"), "panicked:\n{err}");
        assert!(!err.contains("RUST_BACKTRACE"), "backtrace hint:\n{err}");
        err
    }
}

/// A small valid scenario, fast to run.
pub const SMALL: &str = r#"name = "small"
horizon = "1y"
trials = 50
seed = 1

[[service]]
name = "api"
topology = "active-active"
replicas = 2
failure = { mean = "100h" }
repair = { mean = "10h" }

[[service.call]]
to = "db"

[[service]]
name = "db"
failure = { mean = "500h" }
repair = { mean = "5h" }
"#;

/// Asserts that `truth` lies in `ci` and that `ci` is at most
/// `max_half_width` either side of its centre; prints every number.
pub fn assert_covers(name: &str, truth: f64, ci: [f64; 2], max_half_width: f64) {
    let half = (ci[1] - ci[0]) / 2.0;
    let centre = (ci[0] + ci[1]) / 2.0;
    let report = format!(
        "{name}: truth {truth:.6}, ci95 [{:.6}, {:.6}] centre {centre:.6}, half-width {half:.3e} \
         = {:.2} % of the truth (max {max_half_width:.3e}), error {:+.3e} = {:+.2} half-widths",
        ci[0],
        ci[1],
        100.0 * half / truth.abs(),
        centre - truth,
        (centre - truth) / half,
    );
    println!("{report}");
    assert!(ci[0] <= truth && truth <= ci[1], "truth outside the interval: {report}");
    assert!(half <= max_half_width, "interval too wide to mean anything: {report}");
}

/// Erlang B, `B(c, a)`, by the stable recursion.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (f64::from(k) + a * b))
}

/// Erlang C, the chance of waiting in M/M/c: `c·B / (c - a(1 - B))`.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    f64::from(c) * b / (f64::from(c) - a * (1.0 - b))
}

/// Mean time in system of M/M/c: the Erlang C wait plus the service.
pub fn erlang_c_sojourn(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda) + 1.0 / mu
}

/// Asserts that a plausible wrong answer is outside `ci`: the interval is
/// tight enough to tell a natural mistake from the truth.
pub fn assert_excludes(name: &str, wrong: f64, ci: [f64; 2]) {
    println!("{name}: wrong answer {wrong:.7} vs ci95 [{:.7}, {:.7}]", ci[0], ci[1]);
    assert!(
        wrong < ci[0] || wrong > ci[1],
        "{name}: the interval [{:.7}, {:.7}] cannot tell the wrong answer {wrong:.7} from the truth",
        ci[0],
        ci[1]
    );
}

/// Mean and Student t 95 % interval of independent per-trial values.
pub fn t_ci95(xs: &[f64]) -> (f64, [f64; 2]) {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let n = xs.len() as f64;
    assert!(n >= 2.0, "an interval needs two trials");
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0).unwrap().inverse_cdf(0.975);
    let half = t * (var / n).sqrt();
    (mean, [mean - half, mean + half])
}

/// Each trial's mean latency (seconds) of its concluded requests.
pub fn mean_latency(rows: &[nines::model::TrialResult]) -> Vec<f64> {
    rows.iter()
        .map(|r| {
            let t = r.traffic.as_ref().unwrap();
            t.latency_sum / t.requests as f64
        })
        .collect()
}

/// Runs scenario `text` through the library with `trials` trials and
/// master seed `seed`, keeping every trial's result.
pub fn simulate(text: &str, trials: u64, seed: u64) -> (nines::Summary, Vec<nines::model::TrialResult>) {
    simulate_on(text, trials, seed, None)
}

/// [`simulate`] on `threads` worker threads (`None`: every core); a long
/// study runs on one, beside other work.
pub fn simulate_on(
    text: &str,
    trials: u64,
    seed: u64,
    threads: Option<usize>,
) -> (nines::Summary, Vec<nines::model::TrialResult>) {
    let sc = nines::scenario::parse("case.toml", "case", text, &[])
        .unwrap_or_else(|e| panic!("scenario does not parse: {e}"));
    let opts = nines::RunOptions {
        trials: Some(trials),
        seed: Some(seed),
        threads,
        ..Default::default()
    };
    let mut rows = Vec::new();
    let s = nines::simulate(&sc, &opts, |_, r| {
        rows.push(r.clone());
        Ok(())
    })
    .expect("runs");
    (s, rows)
}

/// Request availability of each trial: served / requests.
pub fn request_availability(rows: &[nines::model::TrialResult]) -> Vec<f64> {
    rows.iter()
        .map(|r| {
            let t = r.traffic.as_ref().expect("requests");
            (t.success + t.degraded) as f64 / t.requests as f64
        })
        .collect()
}

/// Runs `text` with `estimator` on `threads` threads, after `trials` crude
/// trials (the scenario's count by default): the rare-event tests' run.
pub fn run_estimator(
    text: &str,
    estimator: nines::scenario::Estimator,
    seed: u64,
    threads: usize,
    trials: Option<u64>,
) -> nines::Summary {
    let sc = nines::scenario::parse("t.toml", "t", text, &[]).expect("valid scenario");
    let options = nines::RunOptions {
        seed: Some(seed),
        threads: Some(threads),
        trials,
        ..nines::RunOptions::default()
    };
    nines::montecarlo::estimator::simulate(&sc, &options, None, estimator, |_, _| Ok(())).expect("runs")
}

/// Runs `text` with the rare-event `estimator` on 2 threads and checks that
/// it ran, that its relative error is at most 10 %, and that the closed
/// form lies inside its unavailability interval, which is at most 10 % of
/// the estimate wide on each side.
pub fn check_rare(name: &str, text: &str, seed: u64, estimator: nines::scenario::Estimator) -> nines::Summary {
    let s = run_estimator(text, estimator, seed, 2, None);
    let a = &s.availability;
    let truth = 1.0 - a.analytic.expect("a closed form");
    let ci = [1.0 - a.ci95[1], 1.0 - a.ci95[0]];
    let re = a
        .relative_error
        .expect("a rare-event estimator reports its relative error");
    println!(
        "{name}: {:.3} nines (closed form {:.3}), relative error {re:.3}, {:?} {:?}",
        a.nines,
        -truth.log10(),
        s.splitting,
        s.regenerative
    );
    let word = match estimator {
        nines::scenario::Estimator::Splitting => "splitting",
        nines::scenario::Estimator::Regenerative => "regenerative",
        other => panic!("{other:?} is not a rare-event estimator"),
    };
    assert_eq!(s.estimator, word, "{name}");
    assert!(re <= 0.1, "{name}: relative error {re}");
    assert_covers(name, truth, ci, 0.1 * (ci[0] + ci[1]) / 2.0 * (1.0 + 1e-9));
    s
}

/// A web replica crashes over [100 s, 110 s) of a 600 s horizon and comes
/// back with an empty cache in front of its database calls, filling
/// linearly to a 0.8 hit rate over 200 s from its first request; 100
/// requests a second (`tests/load.rs`, `tests/observability.rs`).
pub const REFILLING_CACHE: &str = r#"
horizon = "600s"
[[workload]]
name = "users"
to = "web"
rate = 100
[[service]]
name = "web"
service_time = { dist = "fixed", mean = "1ms" }
[[service.call]]
to = "db"
cache = { hit_rate = 0.8, warmup = "200s" }
[[service]]
name = "db"
service_time = { dist = "fixed", mean = "1ms" }
[[fault]]
kind = "crash"
target = "web"
at = "100s"
duration = "10s"
"#;
/// Mean and standard error of independent values `xs`.
pub fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    assert!(n >= 2.0, "a standard error needs two values");
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// The clients, web tier and active-passive database of [`COMPRESSED`],
/// which [`SAGA`] shares (a macro: `concat!` joins literals only).
macro_rules! compressed_tiers {
    () => {
        r#"
[[workload]]
name = "clients"
to = "web"
rate = 20
timeout = "2s"
retry = { max_attempts = 2, backoff = "constant", base = "50ms", retry_on = ["refused", "error", "timeout"] }

[[service]]
name = "web"
topology = "active-active"
replicas = 3
concurrency = 32
queue = 64
service_time = { mean = "5ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "3h" }
repair = { mean = "10m" }

[[service.call]]
to = "db"
timeout = "200ms"
retry = { max_attempts = 3, backoff = "constant", base = "20ms" }
circuit_breaker = { window = "time", size = "5s", failure_rate = 0.5, min_calls = 20, open_for = "2s", half_open_calls = 5, success_threshold = 5 }

[[service]]
name = "db"
topology = "active-passive"
replicas = 2
concurrency = 32
service_time = { mean = "3ms" }
failure = { mean = "2h" }
repair = { mean = "15m" }
failover = { detect = "10s", switch = "30s", success = 0.9 }
"#
    };
}

/// A compressed model where full simulation is affordable: six hours,
/// replicas failing about every hour across the tier, retries, a breaker,
/// and an active-passive database whose failover takes 40 s.
pub const COMPRESSED: &str = concat!(
    r#"
name = "compressed"
horizon = "6h"
"#,
    compressed_tiers!()
);

/// Six hours; a web tier of three replicas failing every 3 h each behind
/// health checks, retries and a circuit breaker towards an active-passive
/// database failing every 2 h with a 40 s failover ([`COMPRESSED`]'s); and
/// a saga of three steps (reserve on web, charge on the database, ship on
/// a single replica failing every 2 h for 5 minutes), the first two with
/// compensations (charge's on a refund service that errs 30 % of the time
/// and fails every 4 h): a ship outage compensates charge and reserve and,
/// when the refund gives up twice, leaves the saga stuck; a failover fails
/// charges and compensates reserve.
pub const SAGA: &str = concat!(
    r#"
name = "compressed saga"
horizon = "6h"
"#,
    compressed_tiers!(),
    r#"
[[workload]]
name = "orders"
workflow = "order"
rate = 5

[[workflow]]
name = "order"

[[workflow.step]]
name = "reserve"
to = "web"
timeout = "1s"
retry = { max_attempts = 2, backoff = "constant", base = "50ms", retry_on = ["refused", "error", "timeout"] }
compensation = { to = "web", timeout = "1s", retry = { max_attempts = 3, backoff = "constant", base = "1s", retry_on = ["refused", "error", "timeout"] } }

[[workflow.step]]
name = "charge"
to = "db"
timeout = "300ms"
retry = { max_attempts = 2, backoff = "constant", base = "100ms", retry_on = ["refused", "error", "timeout"] }
compensation = { to = "refund", timeout = "300ms", retry = { max_attempts = 2, backoff = "constant", base = "1s", retry_on = ["refused", "error", "timeout"] } }

[[workflow.step]]
name = "ship"
to = "ship"
timeout = "500ms"

[[service]]
name = "refund"
replicas = 1
concurrency = 16
service_time = { mean = "5ms" }
error_rate = 0.3
failure = { mean = "4h" }
repair = { mean = "5m" }

[[service]]
name = "ship"
replicas = 1
concurrency = 16
service_time = { mean = "10ms" }
failure = { mean = "2h" }
repair = { mean = "5m" }
"#
);

/// `model` full and windowed (`request_sampling` set at its top) on the
/// same trials and seed: the same failure paths, so the two compare trial
/// by trial. Returns the full and windowed summaries and rows.
pub fn full_and_windowed(model: &str, trials: u64, seed: u64) -> [(nines::Summary, Vec<nines::model::TrialResult>); 2] {
    let run = |mode: &str| simulate(&format!("request_sampling = \"{mode}\"\n{model}"), trials, seed);
    let full = run("full");
    assert_eq!(full.0.requests.as_ref().unwrap().sampling.as_deref(), Some("full"));
    [full, run("windowed")]
}

/// Paired by seed: asserts that the 95 % interval of the per-trial
/// difference windowed - full of the request availability covers 0 within
/// 5 % of the full run's loss (which must be over 10^-3 to mean anything);
/// returns that loss.
pub fn agree_on_requests(
    name: &str,
    full: &[nines::model::TrialResult],
    windowed: &[nines::model::TrialResult],
) -> f64 {
    let (af, aw) = (request_availability(full), request_availability(windowed));
    let diffs: Vec<f64> = af.iter().zip(&aw).map(|(f, w)| w - f).collect();
    let (mean, ci) = t_ci95(&diffs);
    let loss = 1.0 - af.iter().sum::<f64>() / af.len() as f64;
    println!(
        "{name}: full loss {loss:.3e}, windowed - full {mean:+.3e} ci95 [{:.3e}, {:.3e}]",
        ci[0], ci[1]
    );
    assert!(
        loss > 1e-3,
        "{name}: the model must lose requests to mean anything: {loss}"
    );
    assert_covers(&format!("{name}: windowed - full"), 0.0, ci, 0.05 * loss);
    loss
}

/// Paired by seed (the same failure paths): the mean of windowed minus
/// full of a per-trial figure within its 95 % interval's half-width (at
/// most `slack` times the full level) plus three standard errors of the
/// shared stationary samples (`sample_n` requests each, a count per
/// request of variance at most its mean), which the pairing cannot show.
/// Returns the full level.
pub fn agree_per_trial(name: &str, full: &[f64], windowed: &[f64], slack: f64, sample_n: f64) -> f64 {
    let diffs: Vec<f64> = full.iter().zip(windowed).map(|(f, w)| w - f).collect();
    let (mean, ci) = t_ci95(&diffs);
    let level = full.iter().sum::<f64>() / full.len() as f64;
    let half = (ci[1] - ci[0]) / 2.0;
    let shared = (level / sample_n).sqrt();
    println!(
        "{name}: full {level:.4e}, windowed - full {mean:+.3e} ci95 [{:.3e}, {:.3e}], shared samples' s.e. {shared:.2e}",
        ci[0], ci[1]
    );
    assert!(half <= slack * level, "{name}: interval too wide ({half:.3e})");
    assert!(mean.abs() <= half + 3.0 * shared, "{name}: windowed and full disagree");
    level
}

/// `model` with `request_sampling = mode` set at its top.
pub fn with_sampling(model: &str, mode: &str) -> String {
    format!("request_sampling = \"{mode}\"\n{model}")
}

/// `model` with its `horizon` line set to `horizon`.
pub fn with_horizon(model: &str, horizon: &str) -> String {
    let at = model.find("\nhorizon = ").expect("a horizon line") + 1;
    let end = at + model[at..].find('\n').expect("the horizon line ends");
    format!("{}horizon = \"{horizon}\"{}", &model[..at], &model[end..])
}

/// A windowed run against its full run on the same trials and seed.
pub struct Paired {
    /// The full run's mean request loss.
    pub loss: f64,
    /// The standard error of the mean paired difference of the request
    /// availability, combined with the shared samples' `sampling_error`.
    pub combined: f64,
    /// The full run's per-trial request availabilities.
    pub full: Vec<f64>,
}

/// Paired by seed (the same failure paths): asserts that the windowed run
/// settled everywhere and that its request availability is within `z`
/// combined standard errors of the full run's (the paired differences'
/// plus the shared samples' `sampling_error`, which pairing cannot show).
pub fn agree_with_shared(
    name: &str,
    windowed: &nines::Summary,
    full_rows: &[nines::model::TrialResult],
    windowed_rows: &[nines::model::TrialResult],
    z: f64,
) -> Paired {
    let w = windowed.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("{name}: windowed {w:?}");
    assert_eq!(w.metastable_windows, 0, "{name}: {w:?}");
    let (af, aw) = (request_availability(full_rows), request_availability(windowed_rows));
    let loss = 1.0 - af.iter().sum::<f64>() / af.len() as f64;
    let diffs: Vec<f64> = af.iter().zip(&aw).map(|(f, w)| w - f).collect();
    let (mean, se) = mean_se(&diffs);
    let combined = (se * se + w.sampling_error * w.sampling_error).sqrt();
    println!(
        "{name}: full loss {loss:.4e}, windowed - full {mean:+.3e} (paired s.e. {se:.2e}, shared {:.2e}): {:+.2} combined s.e. (at most {z})",
        w.sampling_error,
        mean / combined
    );
    assert!(mean.abs() <= z * combined, "{name}: {mean} vs {combined}");
    Paired {
        loss,
        combined,
        full: af,
    }
}

/// The comparison can fail: `wrong` (the model without the part under
/// test), windowed on the same trials and seed, has a paired mean request
/// availability at least `least` from `paired`'s full run. Returns that
/// distance in units of `least`.
pub fn far_from_full(name: &str, wrong: &str, trials: u64, seed: u64, paired: &Paired, least: f64) -> f64 {
    let (mean, _) = mean_se(&off_from_full(wrong, trials, seed, &paired.full));
    println!(
        "{name}: without the part, windowed - full {mean:+.3e}, {:.1} times the least {least:.2e}",
        mean.abs() / least
    );
    assert!(mean.abs() > least, "{name}: {mean} vs {least}");
    mean.abs() / least
}

/// Per trial, the request availability of `wrong` windowed on `trials`
/// trials and `seed` minus `full`'s (the full run's on the same trials).
pub fn off_from_full(wrong: &str, trials: u64, seed: u64, full: &[f64]) -> Vec<f64> {
    let (_, rows) = simulate(&with_sampling(wrong, "windowed"), trials, seed);
    let off = request_availability(&rows);
    full.iter().zip(&off).map(|(f, w)| w - f).collect()
}

/// Runs `model` windowed through the CLI with `trials` trials and `seed`
/// on one and on two threads; asserts that the JSON says windowed, holds
/// every one of `marks`, and is the same bytes both times; returns it.
pub fn same_bytes_on_one_and_two_threads(name: &str, model: &str, trials: u32, seed: u32, marks: &[&str]) -> String {
    let env = Dir::new();
    // A model that sets its sampling already is taken as it is.
    let text = if model.contains("request_sampling =") {
        model.to_string()
    } else {
        with_sampling(model, "windowed")
    };
    let path = env.write("windowed.toml", &text);
    let (path, trials, seed) = (path.to_str().unwrap(), trials.to_string(), seed.to_string());
    let run = |threads: &str| {
        let common = [
            "run",
            path,
            "--format",
            "json",
            "--no-write",
            "--trials",
            &trials,
            "--seed",
            &seed,
        ];
        env.nines(&[&common[..], &["--threads", threads]].concat()).ok()
    };
    let one = run("1");
    for mark in ["\"sampling\": \"windowed\""].iter().chain(marks) {
        assert!(one.contains(mark), "{name}: no {mark} in {one}");
    }
    assert_eq!(one, run("2"), "{name}");
    one
}
