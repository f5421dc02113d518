//! Many independent trials in parallel, merged in trial order.
//!
//! Trials are cut into fixed chunks of [`chunk_size`] consecutive indices. A
//! chunk runs sequentially on one worker with one reusable [`Trial`] and
//! yields its accumulator and per-trial results; chunks are processed in
//! waves of [`WAVE`] and merged in chunk order on the calling thread. The
//! chunk boundaries do not depend on the thread count, so neither does any
//! figure (rayon's own parallel float sums would). Memory is bounded by one
//! wave, whatever the number of trials.
//!
//! The fold is a left fold over chunks starting from an empty accumulator;
//! [`shard`] relies on it to rebuild a whole run from slices, and
//! [`precision`] continues it batch after batch. A stop request (Ctrl-C) is
//! honoured between chunks, and only the finished chunks that form a
//! prefix of the trials are merged.

pub mod estimator;
pub mod precision;
pub mod regenerative;
pub mod shard;
pub mod splitting;

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(feature = "cli")]
use std::time::Instant;

#[cfg(feature = "cli")]
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

/// What one chunk yields: its accumulator and its trials' results.
type ChunkOut = (Accumulator, Vec<TrialResult>);

/// Progress on stderr, shown only for runs that last more than a second.
/// Clones share one bar, so a sweep can count all its points on it.
#[cfg(feature = "cli")]
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    enabled: bool,
    shown: std::sync::Arc<AtomicBool>,
    start: Instant,
}

#[cfg(feature = "cli")]
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

/// Without the `cli` feature there is no progress bar: a library
/// embedding nines reports progress its own way (`on_trial`).
#[cfg(not(feature = "cli"))]
#[derive(Clone, Debug, Default)]
pub struct Progress;

#[cfg(not(feature = "cli"))]
impl Progress {
    /// Progress that never shows (no `cli` feature).
    pub fn new(_total: u64, _enabled: bool) -> Self {
        Self
    }

    /// A progress that never shows.
    pub fn hidden() -> Self {
        Self
    }

    fn advance(&self, _n: u64) {}

    /// Nothing to clear.
    pub fn finish(&self) {}
}

/// Runs trials `trials` of `seed` on `threads` workers (`None`: all cores),
/// calling `on_trial` for each trial in index order on the calling thread.
///
/// Stops early, at a chunk boundary, once [`request_stop`] was called: the
/// accumulator then holds a prefix of the trials, in order.
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
    on_trial: impl FnMut(u64, &TrialResult) -> Result<()>,
) -> Result<Accumulator> {
    let mut total = accumulator(world);
    run_into(&mut total, world, seed, trials, threads, progress, on_trial)?;
    Ok(total)
}

/// Like [`run`], but folds the chunks into `total`, which holds the trials
/// before `trials.start`. When `trials.start` is a multiple of
/// [`chunk_size`], the result is bit for bit that of one [`run`] over
/// `0..trials.end`: the merges happen in the same order.
///
/// # Errors
/// As [`run`].
pub fn run_into(
    total: &mut Accumulator,
    world: &World,
    seed: u64,
    trials: Range<u64>,
    threads: Option<usize>,
    progress: &Progress,
    on_trial: impl FnMut(u64, &TrialResult) -> Result<()>,
) -> Result<()> {
    let samples = crate::model::windowed::Samples::default();
    run_into_sharing(total, world, &samples, seed, trials, threads, progress, on_trial)
}

/// [`run_into`] taking windowed sampling's stationary samples from (and
/// adding them to) `samples`, which earlier calls of the same world and
/// seed may have filled: a run continued batch after batch
/// ([`precision`]) draws each sample once. The samples derive from the
/// seed and the configuration alone, so reusing them changes no figure.
///
/// # Errors
/// As [`run`].
#[allow(clippy::too_many_arguments)]
pub fn run_into_sharing(
    total: &mut Accumulator,
    world: &World,
    samples: &crate::model::windowed::Samples,
    seed: u64,
    trials: Range<u64>,
    threads: Option<usize>,
    progress: &Progress,
    on_trial: impl FnMut(u64, &TrialResult) -> Result<()>,
) -> Result<()> {
    run_chunks_sharing(world, samples, seed, trials, threads, progress, on_trial, |acc| {
        total.merge(&acc);
        Ok(())
    })
}

/// The engine under [`run`]: hands every chunk's accumulator to `on_chunk`
/// in chunk order, after `on_trial` has seen that chunk's trials. Chunks are
/// the fixed slices `[c * chunk_size, (c + 1) * chunk_size)` cut by
/// `trials`, so a shard that starts on a chunk boundary yields exactly the
/// accumulators a whole run would have merged.
///
/// # Errors
/// As [`run`]; any error `on_chunk` returns.
pub fn run_chunks(
    world: &World,
    seed: u64,
    trials: Range<u64>,
    threads: Option<usize>,
    progress: &Progress,
    on_trial: impl FnMut(u64, &TrialResult) -> Result<()>,
    on_chunk: impl FnMut(Accumulator) -> Result<()>,
) -> Result<()> {
    // Windowed sampling's stationary samples, shared by every chunk.
    let samples = crate::model::windowed::Samples::default();
    run_chunks_sharing(world, &samples, seed, trials, threads, progress, on_trial, on_chunk)
}

/// [`run_chunks`] with windowed sampling's stationary samples in `samples`
/// (see [`run_into_sharing`]).
///
/// # Errors
/// As [`run`]; any error `on_chunk` returns.
#[allow(clippy::too_many_arguments)]
pub fn run_chunks_sharing(
    world: &World,
    samples: &crate::model::windowed::Samples,
    seed: u64,
    trials: Range<u64>,
    threads: Option<usize>,
    progress: &Progress,
    mut on_trial: impl FnMut(u64, &TrialResult) -> Result<()>,
    mut on_chunk: impl FnMut(Accumulator) -> Result<()>,
) -> Result<()> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        builder = builder.num_threads(t);
    }
    let pool = builder.build().map_err(|e| {
        let n = threads.map_or_else(|| "the default number of".into(), |t| t.to_string());
        Error::Usage(format!("cannot start {n} worker threads: {e}"))
    })?;
    let chunk = chunk_size(world);
    let first_chunk = trials.start / chunk;
    let last_chunk = trials.end.div_ceil(chunk);
    let mut wave_start = first_chunk;
    while wave_start < last_chunk && !stop_requested() {
        let wave_end = (wave_start + WAVE).min(last_chunk);
        // After a stop request, chunks not yet started are skipped (`None`).
        let results: Vec<Option<Result<ChunkOut>>> = pool.install(|| {
            (wave_start..wave_end)
                .into_par_iter()
                .map(|c| {
                    if stop_requested() {
                        return None;
                    }
                    let lo = (c * chunk).max(trials.start);
                    let hi = ((c + 1) * chunk).min(trials.end);
                    let out = run_chunk(world, samples, seed, lo..hi);
                    progress.advance(hi - lo);
                    Some(out)
                })
                .collect()
        });
        let mut index = (wave_start * chunk).max(trials.start);
        // Only the chunks before the first skipped one are kept: what is
        // merged stays a prefix of the trials, whatever ran after the gap.
        for chunk in results.into_iter().map_while(|r| r) {
            // The first runaway in trial order, whatever the thread count.
            let (acc, rows) = chunk?;
            for r in &rows {
                on_trial(index, r)?;
                index += 1;
            }
            on_chunk(acc)?;
        }
        wave_start = wave_end;
    }
    Ok(())
}

/// Set once the user asked to stop (Ctrl-C); never cleared in a process.
static STOP: AtomicBool = AtomicBool::new(false);

/// Asks every running [`run`] in this process to stop: chunks under way
/// finish, no new one starts, and the longest run of finished chunks from
/// the start is kept (whole chunks, a prefix of the trials).
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// Whether [`request_stop`] was called.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

fn run_chunk(
    world: &World,
    samples: &crate::model::windowed::Samples,
    seed: u64,
    trials: Range<u64>,
) -> Result<(Accumulator, Vec<TrialResult>)> {
    let mut trial = Trial::new(world);
    let mut acc = accumulator(world);
    let mut rows = Vec::with_capacity(usize::try_from(trials.end - trials.start).unwrap_or(0).min(1 << 16));
    for i in trials {
        let r = if world.windowed() {
            trial.run_windowed(samples, seed, i)
        } else {
            trial.run(seed, i)
        };
        let r = r.map_err(|r| Error::Runaway(Box::new(r)))?;
        acc.push(i, &r);
        if world.has_traffic() {
            acc.push_latency(trial.latency(), trial.served_latency());
            if !world.workflows.is_empty() {
                acc.push_workflow_histograms(trial.workflow_histograms());
            }
            if !world.windowed() {
                // Windowed sampling estimates counts, not waits (the
                // summary has no bulkhead books there).
                acc.push_bulkhead_waits(trial.bulkhead_waits());
                acc.push_bulkhead_gave_up(trial.bulkhead_gave_up());
            }
        }
        rows.push(r);
    }
    Ok((acc, rows))
}

/// An empty accumulator shaped for `world`: where every run's fold starts.
pub fn accumulator(world: &World) -> Accumulator {
    let edges = world.has_traffic().then_some(world.edges.len());
    Accumulator::new(world.horizon, world.services.len(), world.regions.len(), edges)
}
