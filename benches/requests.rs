//! Benchmarks of nines' request-level simulation, on one thread:
//!
//! - `requests/two_hop_all_policies`: a workload calls `api`, which calls
//!   `db` (see [`TWO_HOP`]). Both edges carry every client policy at once: a
//!   per-attempt timeout, retries with jittered exponential backoff and a
//!   retry budget, a circuit breaker (a count window on the workload edge, a
//!   time window on `api -> db`) and a bulkhead with a waiting queue and a
//!   queue timeout. The replicas have a concurrency limit and a bounded FIFO,
//!   and both services fail a small share of requests, so retries, bulkhead
//!   queueing and rejections, timeouts and budget withdrawals all happen. No
//!   replica crashes: a steady state, so every request costs the same.
//! - `requests/two_hop_with_crashes`: the same model with replica crashes
//!   (mean 10 min up, 20 s repair) and health-check ejection, so breakers
//!   open, connections are reset and refused, and retries burst.
//! - `requests/mm1`: an M/M/1 queue (one replica, concurrency 1, Poisson
//!   arrivals at λ = 80/s, exponential service at μ = 100/s), the model also
//!   written in SimPy in `benches/peers/simpy_mm1.py`.
//!
//! Each iteration is one `nines::simulate` call with one trial on one thread
//! (`RunOptions { threads: Some(1), trials: Some(1), .. }`) and a horizon
//! long enough for about 500,000 requests. Throughput is requests concluded
//! per iteration (counted once, before the timing, from the same fixed seed,
//! so every iteration does exactly the same work): criterion's `elem/s` is
//! simulated requests per second of wall time. The issue asks for at least
//! 2 million per second on one core for the two-hop model.
//!
//! Before the timing, a memory check: the two-hop model is run with its
//! horizon and with ten times its horizon, resetting the process's peak
//! resident set size (`/proc/self/clear_refs`) before each, and the peak
//! (`VmHWM` in `/proc/self/status`) must not grow by more than
//! [`RSS_SLACK_KB`]: memory is bounded by the requests in flight, not by
//! the requests simulated. Skipped with a note where `/proc` cannot do this.
//!
//! Every seed is fixed. The whole file runs in about a minute
//! (`cargo bench --bench requests`).

use std::fs;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group};

use nines::stats::Summary;
use nines::{RunOptions, Scenario, simulate};

/// Master seed of every run in this file.
const SEED: u64 = 20_240_601;

/// Simulated seconds per iteration of the two-hop models: 2,000 requests/s
/// for 250 s is about 500,000 requests.
const TWO_HOP_HORIZON_S: u64 = 250;

/// Simulated seconds per iteration of M/M/1: 80 requests/s for 6,250 s is
/// about 500,000 requests.
const MM1_HORIZON_S: u64 = 6_250;

/// How much the peak RSS may grow (KiB) when the horizon is ten times
/// longer: allocator noise, far below the ~100 MB that keeping one record
/// per request of the 5 million would take.
const RSS_SLACK_KB: u64 = 2_048;

/// The two-hop model (`benches/two_hop.toml.in`, whose comment explains
/// its load; `benches/peers/speed_target.sh` runs the same file);
/// `{horizon}` and `{crashes}` are filled in by [`two_hop`].
const TWO_HOP: &str = include_str!("two_hop.toml.in");

/// Replica crashes for [`TWO_HOP`]'s services.
const CRASHES: &str = r#"failure = { mean = "10m" }
repair = { mean = "20s" }"#;

/// The M/M/1 model (the SimPy peer's, `benches/peers/simpy_mm1.py`).
const MM1: &str = r#"
name = "M/M/1"
horizon = "{horizon}s"
trials = 1
seed = 1

[[workload]]
name = "customers"
to = "server"
rate = 80
arrival = "poisson"

[[service]]
name = "server"
concurrency = 1
service_time = { mean = "10ms" }
"#;

fn parse(name: &str, text: &str) -> Scenario {
    nines::scenario::parse(&format!("{name}.toml"), name, text, &[])
        .unwrap_or_else(|e| panic!("the benchmark scenario {name} is valid: {e}"))
}

/// The two-hop model over `horizon_s` simulated seconds.
fn two_hop(horizon_s: u64, crashes: bool) -> Scenario {
    let text = TWO_HOP
        .replace("{horizon}", &horizon_s.to_string())
        .replace("{crashes}", if crashes { CRASHES } else { "" });
    parse("two-hop", &text)
}

/// The M/M/1 model over `horizon_s` simulated seconds.
fn mm1(horizon_s: u64) -> Scenario {
    parse("mm1", &MM1.replace("{horizon}", &horizon_s.to_string()))
}

/// One trial on one thread: what every iteration runs.
fn run(scenario: &Scenario) -> Summary {
    let options = RunOptions {
        trials: Some(1),
        threads: Some(1),
        seed: Some(SEED),
        ..Default::default()
    };
    simulate(scenario, &options, |_, _| Ok(())).expect("the run succeeds")
}

/// Requests concluded in a summary.
fn requests(s: &Summary) -> u64 {
    s.requests
        .as_ref()
        .expect("a scenario with a workload has requests")
        .total
}

/// Runs `scenario` once, untimed by criterion, and prints what one iteration
/// is: requests, events, and what the policies did on each edge.
fn describe(label: &str, scenario: &Scenario) -> u64 {
    let start = Instant::now();
    let s = run(scenario);
    let seconds = start.elapsed().as_secs_f64();
    let n = requests(&s);
    let r = s.requests.as_ref().expect("requests");
    eprintln!(
        "{label}: {n} requests, {} events ({:.2} per request) per iteration; success {:.4} %, \
         {:.4} attempts/request; one untimed run took {seconds:.3} s ({:.2} M requests/s)",
        s.events,
        s.events as f64 / n as f64,
        100.0 * r.success_ratio.mean,
        r.attempts_per_request,
        n as f64 / seconds / 1e6,
    );
    for (name, e) in &s.edges {
        eprintln!(
            "  {name}: {} calls, {} attempts, {} retries, {} timeouts, {} errors, breaker rejected {} \
             (open {:.2} %), bulkhead rejected {} (peak {}), {} failed",
            e.calls,
            e.attempts,
            e.retries,
            e.timeouts,
            e.errors,
            e.breaker_rejected,
            100.0 * e.breaker_open_fraction,
            e.bulkhead_rejected,
            e.bulkhead_peak,
            e.failed,
        );
    }
    n
}

/// A line of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`).
fn status_kb(key: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .trim_start_matches(':')
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

/// Resets the peak RSS to the current RSS (Linux `clear_refs` value 5).
fn reset_peak() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak RSS (KiB) of one run of `scenario`, from a reset peak; also its
/// request count and wall seconds.
fn peak_of(scenario: &Scenario) -> Option<(u64, u64, f64)> {
    if !reset_peak() {
        return None;
    }
    let start = Instant::now();
    let s = black_box(run(scenario));
    let seconds = start.elapsed().as_secs_f64();
    Some((status_kb("VmHWM")?, requests(&s), seconds))
}

/// Memory is bounded by the requests in flight: ten times the horizon (and
/// the requests) must not raise the peak RSS beyond [`RSS_SLACK_KB`].
fn memory_check() {
    let Some(before) = status_kb("VmRSS") else {
        eprintln!("memory: skipped (no /proc/self/status)");
        return;
    };
    let short = two_hop(TWO_HOP_HORIZON_S, false);
    let long = two_hop(10 * TWO_HOP_HORIZON_S, false);
    let (Some((peak1, n1, s1)), Some((peak10, n10, s10))) = (peak_of(&short), peak_of(&long)) else {
        eprintln!("memory: skipped (/proc/self/clear_refs cannot reset the peak RSS here)");
        return;
    };
    eprintln!(
        "memory: two-hop model, RSS {before} KiB before; peak RSS {peak1} KiB over {}s ({n1} requests, \
         {s1:.2} s), {peak10} KiB over {}s ({n10} requests, {s10:.2} s): {:+} KiB for 10x the requests",
        TWO_HOP_HORIZON_S,
        10 * TWO_HOP_HORIZON_S,
        peak10 as i64 - peak1 as i64,
    );
    assert!(
        peak10 <= peak1 + RSS_SLACK_KB,
        "peak RSS grew from {peak1} KiB to {peak10} KiB with 10x the requests: memory is not bounded by the \
         requests in flight"
    );
}

/// Requests per second through each model, on one thread.
fn request_throughput(c: &mut Criterion) {
    let models = [
        ("two_hop_all_policies", two_hop(TWO_HOP_HORIZON_S, false)),
        ("two_hop_with_crashes", two_hop(TWO_HOP_HORIZON_S, true)),
        ("mm1", mm1(MM1_HORIZON_S)),
    ];
    let mut group = c.benchmark_group("requests");
    // About 0.2 s per iteration: few samples, each a single run.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for (name, scenario) in &models {
        let n = describe(&format!("requests/{name}"), scenario);
        group.throughput(Throughput::Elements(n));
        group.bench_function(*name, |b| b.iter(|| black_box(run(scenario))));
    }
    group.finish();
}

criterion_group!(benches, request_throughput);

fn main() {
    memory_check();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
