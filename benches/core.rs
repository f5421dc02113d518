//! Benchmarks of nines' hot paths, at three scales:
//!
//! - `event_queue_hold`: the classic hold model on [`EventQueue<u32>`] with
//!   10, 1,000 and 100,000 pending events. Each iteration pops the earliest
//!   event and schedules one at `now + increment`, the increment read from a
//!   table drawn beforehand from a fixed-seed exponential generator (the RNG
//!   is not in the timing). Throughput is events per second; the issue asks
//!   for at least 15 million per second on one core at 1,000 pending.
//! - `trial`: one trial of three active-active replicas (exponential MTBF
//!   1000 h, MTTR 10 h) over one simulated year, via [`Trial::run`].
//!   Throughput is trials per second.
//! - `monte_carlo`: `nines::simulate` of `scenarios/active-active.toml`
//!   (10-year horizon) for 10,000 trials on 1 and on 2 threads. Throughput
//!   is trials per second.
//!
//! Every seed is fixed, so two runs time exactly the same work. The whole
//! file runs in about two minutes on two cores (`cargo bench --bench core`).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_xoshiro::Xoshiro256PlusPlus;

use nines::engine::{EventQueue, Nanos};
use nines::model::{Trial, World};
use nines::{RunOptions, simulate};

/// Seed of every generator in this file.
const SEED: u64 = 20_240_601;

/// Length of the precomputed increment table (a power of two).
const INCREMENTS: usize = 1 << 16;

/// Mean increment of the hold model, in nanoseconds of simulated time.
const MEAN_INCREMENT: f64 = 1_000_000.0;

/// Exponential increments with mean [`MEAN_INCREMENT`], from a fixed seed.
fn increments() -> Vec<Nanos> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED);
    let exp = Exp::new(1.0 / MEAN_INCREMENT).expect("positive rate");
    (0..INCREMENTS).map(|_| exp.sample(&mut rng).round() as Nanos).collect()
}

/// Hold model: pop one event, schedule one a random increment later.
fn event_queue_hold(c: &mut Criterion) {
    let incs = increments();
    let mut group = c.benchmark_group("event_queue_hold");
    group.throughput(Throughput::Elements(1));
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for pending in [10usize, 1_000, 100_000] {
        group.bench_with_input(BenchmarkId::from_parameter(pending), &pending, |b, &pending| {
            let mut queue = EventQueue::<u32>::new();
            // Initial population: `pending` events spread like the increments.
            for i in 0..pending {
                queue.schedule(incs[i % INCREMENTS], i as u32);
            }
            let mut next = pending;
            b.iter(|| {
                let (now, event) = queue.pop().expect("the hold model never empties");
                queue.schedule(now + incs[next & (INCREMENTS - 1)], black_box(event));
                next = next.wrapping_add(1);
            });
            assert_eq!(queue.len(), pending);
        });
    }
    group.finish();
}

/// The failure/repair model also written in SimPy (`benches/peers/`).
const FAILURE_REPAIR: &str = r#"
name = "failure/repair, 3 replicas"
horizon = "1y"
seed = 1

[[service]]
name = "api"
topology = "active-active"
replicas = 3
min_healthy = 1
failure = { mean = "1000h" }
repair = { mean = "10h" }
"#;

/// One trial of three replicas over one simulated year.
fn trial(c: &mut Criterion) {
    let scenario = nines::scenario::parse("failure-repair.toml", "failure-repair", FAILURE_REPAIR, &[])
        .expect("the benchmark scenario is valid");
    let world = World::compile(&scenario);
    let mut runner = Trial::new(&world);

    // Not timed: how much work one trial is, to relate trials/s to events/s.
    let sample = 10_000u64;
    let events: u64 = (0..sample)
        .map(|i| runner.run(SEED, i).expect("within budget").events)
        .sum();
    eprintln!(
        "trial/failure_repair_3x_1y: {:.1} events per trial on average ({sample} trials, seed {SEED})",
        events as f64 / sample as f64
    );

    let mut group = c.benchmark_group("trial");
    group.throughput(Throughput::Elements(1));
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("failure_repair_3x_1y", |b| {
        let mut i = 0u64;
        b.iter(|| {
            let r = runner.run(SEED, i).expect("within budget");
            i = i.wrapping_add(1);
            black_box(r)
        });
    });
    group.finish();
}

/// The whole Monte Carlo of `scenarios/active-active.toml`.
fn monte_carlo(c: &mut Criterion) {
    const TRIALS: u64 = 10_000;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/active-active.toml");
    let scenario = nines::load(&path, &[]).expect("scenarios/active-active.toml is valid");
    let mut group = c.benchmark_group("monte_carlo_active_active_10y");
    group.throughput(Throughput::Elements(TRIALS));
    // About 0.1 s per iteration: few samples, each a single run.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(8));
    for threads in [1usize, 2] {
        group.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &threads| {
            b.iter(|| {
                let options = RunOptions {
                    trials: Some(TRIALS),
                    threads: Some(threads),
                    ..Default::default()
                };
                let summary = simulate(&scenario, &options, |_, _| Ok(())).expect("the run succeeds");
                black_box(summary)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, event_queue_hold, trial, monte_carlo);
criterion_main!(benches);
