//! Many independent trials in parallel, merged in trial order.
//!
//! Trials are cut into fixed chunks of [`chunk_size`] consecutive indices. A
//! chunk runs sequentially on one worker with one reusable [`Trial`] and
//! yields its accumulator and per-trial results; chunks are processed in
//! waves of [`WAVE`] and merged in chunk order on the calling thread. The
//! chunk boundaries do not depend on the thread count, so neither does any
//! figure (rayon's own parallel float sums would). Memory is bounded by one
//! wave, whatever the number of trials.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::model::{Trial, TrialResult, World};
use crate::stats::Accumulator;

/// Trials per chunk: many short failure/repair trials share a chunk to
/// amortise the merge; request-level trials are long, so each is its own
/// chunk and even a handful of them spread over every core. The size
/// depends only on the world, never on the thread count.
pub fn chunk_size(world: &World) -> u64 {
    if world.has_traffic() { 1 } else { 64 }
}
/// Chunks per wave.
pub const WAVE: u64 = 128;

/// Progress on stderr, shown only for runs that last more than a second.
/// Clones share one bar, so a sweep can count all its points on it.
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    enabled: bool,
    shown: std::sync::Arc<AtomicBool>,
    start: Instant,
}

impl Progress {
    /// A progress bar over `total` trials; `enabled` only when stderr is a
    /// terminal and the user did not ask for quiet.
    pub fn new(total: u64, enabled: bool) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} trials  {per_sec}  eta {eta}") {
            bar.set_style(style);
        }
        Self {
            bar,
            enabled,
            shown: std::sync::Arc::new(AtomicBool::new(false)),
            start: Instant::now(),
        }
    }

    /// A progress that never shows.
    pub fn hidden() -> Self {
        Self::new(0, false)
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
        // Wall-clock time only decides whether to draw; it never reaches a result.
        if self.enabled && !self.shown.load(Ordering::Relaxed) && self.start.elapsed().as_secs_f64() > 1.0 {
            self.shown.store(true, Ordering::Relaxed);
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Runs trials `trials` of `seed` on `threads` workers (`None`: all cores),
/// calling `on_trial` for each trial in index order on the calling thread.
///
/// # Errors
/// [`Error::Usage`] when the thread pool cannot be built (e.g. zero
/// threads); any error `on_trial` returns.
pub fn run(
    world: &World,
    seed: u64,
    trials: Range<u64>,
    threads: Option<usize>,
    progress: &Progress,
    mut on_trial: impl FnMut(u64, &TrialResult) -> Result<()>,
) -> Result<Accumulator> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        builder = builder.num_threads(t);
    }
    let pool = builder
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {threads:?} threads: {e}")))?;
    let mut total = accumulator(world);
    let chunk = chunk_size(world);
    let first_chunk = trials.start / chunk;
    let last_chunk = trials.end.div_ceil(chunk);
    let mut wave_start = first_chunk;
    while wave_start < last_chunk {
        let wave_end = (wave_start + WAVE).min(last_chunk);
        let results: Vec<Result<(Accumulator, Vec<TrialResult>)>> = pool.install(|| {
            (wave_start..wave_end)
                .into_par_iter()
                .map(|c| {
                    let lo = (c * chunk).max(trials.start);
                    let hi = ((c + 1) * chunk).min(trials.end);
                    let out = run_chunk(world, seed, lo..hi);
                    progress.advance(hi - lo);
                    out
                })
                .collect()
        });
        let mut index = (wave_start * chunk).max(trials.start);
        for chunk in results {
            // The first runaway in trial order, whatever the thread count.
            let (acc, rows) = chunk?;
            for r in &rows {
                on_trial(index, r)?;
                index += 1;
            }
            total.merge(&acc);
        }
        wave_start = wave_end;
    }
    Ok(total)
}

fn run_chunk(world: &World, seed: u64, trials: Range<u64>) -> Result<(Accumulator, Vec<TrialResult>)> {
    let mut trial = Trial::new(world);
    let mut acc = accumulator(world);
    let mut rows = Vec::with_capacity((trials.end - trials.start) as usize);
    for i in trials {
        let r = trial.run(seed, i).map_err(|r| Error::Runaway(Box::new(r)))?;
        acc.push(i, &r);
        if world.has_traffic() {
            acc.push_latency(trial.latency());
        }
        rows.push(r);
    }
    Ok((acc, rows))
}

fn accumulator(world: &World) -> Accumulator {
    let edges = world.has_traffic().then_some(world.edges.len());
    Accumulator::new(world.horizon, world.services.len(), world.regions.len(), edges)
}
