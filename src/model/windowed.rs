//! Windowed request sampling: the request availability of a long horizon
//! (a month, a year) without simulating every request.
//!
//! The availability component runs alone over the whole horizon (with the
//! planned operations, when the model has them: [`master`]). Its
//! *configuration* ([`configuration`]: which replicas serve and take
//! traffic, which groups serve and are routed, which group each global
//! active-passive service uses, which regions are up; plus, with deploys,
//! which replicas serve a bad release that errs or slows, [`master::Marks`])
//! changes only at crashes, repairs, failovers, region and zone outages,
//! common-cause shocks, and the steps of deploys and maintenance windows.
//! One trial is cut into:
//!
//! - **Windows**, simulated request by request: each starts one warm-up
//!   ([`Timescales::warmup`]) before a configuration change, from the
//!   availability state the component alone reached there (the request
//!   state starts empty, with the health checks' verdicts already agreeing
//!   with what serves, and warms up; its counts before the change are
//!   dropped), and runs both components on until the request process has
//!   *settled* (below). Counts are taken from the change to the window's
//!   end. After a window that ended with a breaker open (a dependency down
//!   for over an hour, below), the next starts a random [`lead`] earlier
//!   still: that breaker opens, fails its trial and opens again, a cycle
//!   that hardly mixes, so a window started a fixed time before the change
//!   would meet the change at one phase of it, where a full run meets it
//!   at any.
//! - **Stationary segments** between windows, whose configuration is
//!   fixed: their requests are estimated from a *stationary sample* of the
//!   configuration, a request-level run with the availability frozen (no
//!   failure or repair events), two warm-ups then batches of
//!   [`Timescales::batch`] until the sample's failed share is known to
//!   [`SAMPLE_PRECISION`] (relative standard error) or [`SAMPLE_CAP`]
//!   requests (at least [`MIN_BATCHES`] batches and [`MIN_SAMPLE_REQUESTS`]
//!   requests). Every counter of the sample, per second, times the
//!   segment's length is the segment's estimate, after scaling the sample
//!   to the workloads' known rate (every arrival concludes as one request
//!   at stationarity: a ratio estimator, so a configuration that serves all
//!   or nothing is estimated exactly).
//!
//! **Timescales** ([`timescales`]) come from the scenario's own settings:
//! the warm-up covers the longest request lifetime (timeout times attempts
//! plus backoffs, or the deadline), a breaker's window and longest open
//! period, an outlier ejection and a rate limiter's burst (at least
//! [`MIN_WARMUP`], at most [`MAX_WARMUP`]); health checks need no warm-up
//! because their verdicts are preset, and a window waits for them to agree
//! again before it settles.
//!
//! **Settling rule.** After the last change in a window, the window ends at
//! the first step boundary (steps of [`Timescales::step`]) where (a) at
//! least one warm-up has passed since that change, (b) each of the last
//! [`SETTLE_STEPS`] steps served a share of its requests within
//! [`SETTLE_Z`] standard errors (binomial on the step's count, plus the
//! sample's own) of the configuration's stationary share, (c) the requests
//! in flight are at most the stationary sample's largest batch-end count
//! plus [`SETTLE_Z`] times its square root, (d) every replica's health
//! verdict agrees with whether it serves (with request probes, `probes`'s
//! rule instead: no liveness restart in progress and the verdicts as the
//! sample saw them), and (e) no configuration change
//! is due within one warm-up (else the window runs on through it), nor,
//! while a breaker is open, within [`CAP`] (the window then runs on to
//! that change: a breaker whose callee is down opens, fails its trial and
//! opens again, a cycle whose phase at the next change is set by the
//! change before, as when a failover's detection and switch-over take
//! fixed times). A window
//! that has not settled [`CAP`] after its last change is *metastable*: it
//! runs to the horizon, request by request, and is counted in
//! [`Windowed::metastable`], never estimated away.
//!
//! **Shared samples, honest intervals.** A configuration's stationary
//! sample is drawn once per run ([`Samples`], kept across the batches of
//! a `--precision` run too) and used by every trial that meets it:
//! configurations equal up to a permutation of the replicas of one group
//! are one (the sample runs from the [`canonical`] state), and
//! the sample's streams derive from the seed and the configuration alone,
//! so whichever thread draws it first, every trial gets the same sample.
//! Shared samples make the trials' request availabilities share their
//! sampling errors, which the spread across trials cannot show; each
//! trial therefore reports the weight each sample carries in its figures
//! ([`Windowed::samples`]), and the summary adds the samples' variance
//! (`sum over configurations of (mean weight)^2 x variance of its share`)
//! to the Student t interval of the request availability and of the
//! success, degraded and failed shares.
//!
//! **Supported models**: workloads whose diurnal swings share one phase
//! are carried by [`diurnal`] (a configuration's stationary segments are
//! estimated from samples at rate levels, refined by bisection where the
//! share bends, interpolated and integrated against the true rate, with a
//! bias bound added to the intervals; not beside bursts, workflows,
//! faults, probes or autoscaling); injected
//! faults of every kind are carried by `faults` (the availability
//! process runs their schedule, which faults are active joins the
//! configuration key, and a window holds from a fault's start until every
//! occurrence in it has recovered, so their figures are simulated);
//! bursts are carried by [`bursts`] (which bursts are active joins
//! the configuration key, so a burst's start and end are changes with
//! their windows, and a burst state's sample runs at its rates); workflows (sagas) are carried by [`workflows`]
//! (their outcome counters and histograms travel with the request
//! counters, their lifetime stretches the warm-up, each workflow's counts
//! are scaled to its own start rate, and their ratios' intervals hold the
//! shared samples' error); zones, common causes, repair crews and
//! spares (they only change who is up, inside the availability component),
//! deploys and maintenance windows (each restart, return, opening and
//! closing is a change; a bad release's error rate or latency is part of
//! the configuration); autoscalers are carried by `autoscale` (each
//! slot's state joins the configuration key, the autoscalers are handed
//! from window to window and the availability process follows their
//! holds, samples run the autoscaler and one in which it acts is never
//! estimated from); readiness and liveness probes (below).
//! [`refusal`](crate::scenario::sampling::refusal) says why another model cannot run
//! windowed. `auto` runs windowed only when full simulation of a
//! trial would pass [`REQUEST_BUDGET`](crate::scenario::sampling::REQUEST_BUDGET) requests and the model is
//! supported.
//!
//! **Request-side policies** (issue 20) are `policies`'s: hedged requests
//! and retry budgets by concurrency run windowed (a window takes the
//! hedgers' books from its sample, and their counts are carried), so do
//! interval outlier detectors and panic routing, and slowdowns, cold
//! starts and caches (the replicas' warm-up state is handed from window to
//! window, and waited for). Readiness and
//! liveness probes are `probes`'s: the stationary samples run them, a
//! window starts from a probe state its sample kept and settles once no
//! restart is in progress and its verdicts are ones the sample saw; with
//! injected faults they are refused.
//!
//! **Invariants.** A trial's result depends only on `(seed, trial)`: every
//! window uses streams derived from the trial index, a kind and its ordinal
//! ([`stream`]), every sample streams derived from its configuration, never
//! the thread or the trials before it. Memory is one window's (or one
//! sample's) requests in flight, plus one set of counters per sampled
//! configuration.

pub mod tally;
pub mod workflows;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use hdrhistogram::Histogram;

use super::availability::{Availability, FailureOnly};
use super::result::{TrafficResult, TrialResult};
use super::runaway::Runaway;
use super::slo::RequestSeries;
use super::traffic::{Requests, TIMELINE_BUCKETS};
use super::trial::Trial;
use super::world::World;
use crate::engine::time::SECOND;
use crate::engine::{self, Nanos};
use master::{Marks, Master};
pub use tally::{SampleUse, ShareUse, Windowed};

pub mod master;

pub mod bursts;

pub mod diurnal;

mod policies;

mod autoscale;
mod faults;
mod probes;

pub use crate::scenario::timescales::{
    MAX_STEP, MAX_WARMUP, MIN_STEP, MIN_WARMUP, SAMPLE_CAP, SETTLE_STEPS, STEP_REQUESTS, Timescales, timescales_of,
};

/// Standard errors a settled step may differ from the stationary share.
pub const SETTLE_Z: f64 = 4.0;
/// A window still unsettled this long after its last change is metastable.
pub const CAP: Nanos = 3600 * SECOND;
/// Least batches of a stationary sample.
pub const MIN_BATCHES: u64 = 10;
/// Least entry requests of a stationary sample (after its warm-up).
pub const MIN_SAMPLE_REQUESTS: f64 = 20_000.0;
/// A stationary sample stops once the standard error of its failed share
/// is at most this share of it, or once it holds [`SAMPLE_CAP`] entry
/// requests.
pub const SAMPLE_PRECISION: f64 = 0.1;
/// Most batches of a stationary sample (very slow workloads).
pub const MAX_BATCHES: u64 = 10_000;

impl Windowed {
    /// Adds another trial's (or run's) figures.
    pub fn add(&mut self, o: &Self) {
        self.windows += o.windows;
        self.metastable += o.metastable;
        self.configurations += o.configurations;
        self.simulated_requests += o.simulated_requests;
        self.estimated_requests += o.estimated_requests;
        self.window_s += o.window_s;
        if let Some(b) = o.interpolation_bias {
            *self.interpolation_bias.get_or_insert(0.0) += b;
        }
        for (k, u) in &o.samples {
            let mine = self.samples.entry(*k).or_default();
            mine.weight += u.weight;
            // The same sample in every trial: its error and cost once.
            mine.var = u.var;
            mine.requests = u.requests;
            workflows::add_uses(&mut mine.workflows, &u.workflows);
        }
    }

    /// The variance the shared samples add to the mean over `trials`
    /// trials of the success, degraded and failed shares.
    pub fn shared_variance(&self, trials: u64) -> [f64; 3] {
        let n = trials.max(1) as f64;
        let mut v = [0.0; 3];
        for u in self.samples.values() {
            let w = u.weight / n;
            for (acc, var) in v.iter_mut().zip(u.var) {
                *acc += w * w * var;
            }
        }
        v
    }

    /// The mean over `trials` trials of the interpolation's bias bound (0
    /// without a diurnal swing).
    pub fn bias_bound(&self, trials: u64) -> f64 {
        self.interpolation_bias.unwrap_or(0.0) / trials.max(1) as f64
    }

    /// The figures `summary.json` reports, over `trials` trials.
    pub fn summary(&self, trials: u64) -> WindowedSummary {
        let n = trials.max(1) as f64;
        let sample_requests: u64 = self.samples.values().map(|u| u.requests).sum();
        let simulated = self.simulated_requests + sample_requests;
        WindowedSummary {
            share_simulated: if self.estimated_requests > 0.0 {
                simulated as f64 / self.estimated_requests
            } else {
                0.0
            },
            simulated_requests: simulated,
            windows: self.windows,
            windows_per_trial: self.windows as f64 / n,
            metastable_windows: self.metastable,
            configurations_per_trial: self.configurations as f64 / n,
            window_s_per_trial: self.window_s / n,
            configurations_sampled: self.samples.len() as u64,
            sample_requests,
            sampling_error: self.shared_variance(trials)[2].sqrt(),
            interpolation_bias: self.interpolation_bias.map(|_| self.bias_bound(trials)),
        }
    }
}

/// `requests.windowed` in `summary.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WindowedSummary {
    /// Entry requests simulated (windows, samples, warm-ups) over the
    /// requests the estimate stands for: what full simulation would cost
    /// more, inverted.
    pub share_simulated: f64,
    /// Entry requests simulated, all trials (windows and shared samples).
    pub simulated_requests: u64,
    /// Transient windows simulated, all trials.
    pub windows: u64,
    /// Mean windows per trial.
    pub windows_per_trial: f64,
    /// Windows that never settled and ran to the horizon (metastable), all
    /// trials.
    pub metastable_windows: u64,
    /// Mean configurations used per trial.
    pub configurations_per_trial: f64,
    /// Mean horizon time per trial covered by windows (seconds).
    pub window_s_per_trial: f64,
    /// Stationary samples drawn for the run (one per configuration, shared
    /// by the trials).
    pub configurations_sampled: u64,
    /// Entry requests the shared samples simulated (part of
    /// `simulated_requests`).
    pub sample_requests: u64,
    /// Standard error the shared samples add to the mean request
    /// availability (inside its interval).
    pub sampling_error: f64,
    /// With a diurnal swing: the bound on the bias interpolating between
    /// rate levels leaves in the mean request shares (added to their
    /// intervals' half-widths).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpolation_bias: Option<f64>,
}

/// The timescales of `w`'s request process.
pub fn timescales(w: &World) -> Timescales {
    let rate: f64 = w.workloads.iter().map(|wl| wl.rate).sum();
    let ts = timescales_of(
        w.edges.iter().map(|e| &e.policy),
        w.services.iter().map(|s| &s.serve.defence),
        rate,
    );
    ts.stretched(workflows::saga_lifetime(w))
        .stretched(probes::world_warmup(w))
        .stretched(autoscale::warmup(w))
}

/// The stationary samples of one run, shared by its trials and threads:
/// one per (seed, canonical configuration), drawn by the first trial that
/// needs it from streams of the seed and the configuration alone.
#[derive(Default)]
pub struct Samples {
    cells: Mutex<Cells>,
    /// Samples drawn (not taken from a cell already filled).
    drawn: std::sync::atomic::AtomicU64,
}

/// The samples by (seed, canonical configuration key).
type Cells = HashMap<(u64, Vec<u8>), Arc<Cell>>;

/// One configuration's sample, drawn once (or the runaway that stopped it).
type Cell = OnceLock<Result<Arc<Stationary>, Runaway>>;

impl std::fmt::Debug for Samples {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Samples").finish_non_exhaustive()
    }
}

impl Samples {
    /// How many stationary samples were drawn into these (each cell once).
    pub fn drawn(&self) -> u64 {
        self.drawn.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn cell(&self, seed: u64, key: &[u8]) -> Arc<Cell> {
        let mut cells = self.cells.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(cells.entry((seed, key.to_vec())).or_default())
    }
}

/// One configuration's stationary sample.
struct Stationary {
    /// [`key_hash`] of its configuration.
    hash: u64,
    /// Every counter of [`flatten`], per second.
    rates: Vec<f64>,
    /// Served share of the sample's requests.
    served: f64,
    /// Its standard error (from the batches).
    served_se: f64,
    /// Variance of the success, degraded and failed shares.
    var: [f64; 3],
    /// Largest requests in flight at a batch end.
    in_flight: f64,
    /// Latency of the sample's requests, and of the served ones (us).
    latency: Histogram<u64>,
    served_latency: Histogram<u64>,
    /// Entry requests simulated, warm-up included.
    requests: u64,
    /// Saga histograms of the sample's sagas (after its warm-up).
    sagas: workflows::Hists,
    /// Per edge: its hedger's books at the sample's end (a window's
    /// start).
    hedgers: Vec<Option<crate::resilience::hedge::Hedger>>,
    /// The most retries in flight the sample saw.
    peaks: policies::Peaks,
    /// Its probe states and verdict signatures at batch ends.
    probes: probes::Sampled,
    /// Its autoscalers acted: the count is not stationary here.
    restless: bool,
}

/// A stationary sample in one trial.
struct Used {
    sample: Arc<Stationary>,
    /// Horizon seconds this configuration's segments covered.
    covered_s: f64,
}

/// The estimate of one trial, built up segment by segment.
struct Estimate {
    counters: Vec<f64>,
    /// Per bucket: requests, successes, degraded, entry attempts.
    timeline: Vec<[f64; 4]>,
    /// Service-major: concluded, succeeded.
    services: Vec<[f64; 2]>,
    /// Edge-major: calls, attempts.
    edges: Vec<[f64; 2]>,
    latency: Histogram<u64>,
    served_latency: Histogram<u64>,
    /// The SLO windows' and alerts' series, when the world has them.
    series: Option<RequestSeries>,
    /// Saga histograms, per workflow.
    sagas: workflows::Hists,
    /// Levels of the simulated parts (the most retries in flight).
    peaks: policies::Peaks,
    /// The replicas' warm-up state the last window ended with.
    warmth: super::traffic::Warmth,
    /// The autoscalers the last window ended with.
    scale: autoscale::Carry,
    /// The injected faults' request-level figures, from the windows.
    faults: faults::Books,
    /// The last window ended with a breaker open (the next window starts
    /// a random [`lead`] before its warm-up).
    open: bool,
}

/// The configuration the request component reads: what serves and takes
/// traffic. Two states with the same configuration route and refuse the
/// same way.
pub fn configuration(a: &Availability) -> Vec<u8> {
    let mut key = Vec::with_capacity(a.replicas.len() + a.groups.len() + a.services.len() * 4 + a.region_up.len());
    key.extend(a.region_up.iter().map(|&u| u8::from(u)));
    key.extend(a.replicas.iter().map(|r| u8::from(r.up) | (u8::from(r.active) << 1)));
    key.extend(
        a.groups
            .iter()
            .map(|g| u8::from(g.serving) | (u8::from(g.routed) << 1) | ((g.ap as u8) << 2)),
    );
    for s in &a.services {
        key.extend(s.current.map_or(u32::MAX, |c| c).to_le_bytes());
    }
    key
}

/// `a` with the replicas of each group sorted (serving and active first):
/// the replicas of a group are alike, so every state of one configuration
/// up to such a permutation has the same stationary request process, and
/// this is the one its sample runs from. (The request component reads only
/// what [`configuration`] holds, so states with the same canonical key
/// give the same sample.) A group whose replicas are not [`alike`] keeps
/// its order.
pub fn canonical(w: &World, a: &Availability) -> Availability {
    let mut c = a.clone();
    for g in w.groups.iter().filter(|g| alike(w, g)) {
        c.replicas[g.replicas.clone()].sort_by_key(|r| std::cmp::Reverse((r.up, r.active, r.natural)));
    }
    c
}

/// Whether the request process of group `g` is the same, in distribution,
/// under any permutation of its replicas. Not with an interval outlier
/// detector: it flags replicas in index order and its `max_ejected` cap
/// keeps the first, so which replicas are down decides which are ejected.
/// (Two web replicas of four down, most calls failing downstream: a
/// detector that flags every replica ejects the two lowest, its cap of
/// half; when those are the two that serve, none is healthy and panic
/// routing spreads the traffic over all four, the down ones too; when the
/// two down ones are the lowest, the two that serve stay in. Sorted,
/// every such state would take the first one's sample.)
pub fn alike(w: &World, g: &super::world::GroupSpec) -> bool {
    !policies::detects(w, g.service)
}

/// A stable 64-bit hash of a configuration key (FNV-1a, then mixed).
pub fn key_hash(key: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    stream(h, 3, key.len() as u64)
}

/// The trial index handed to the request streams of window or sample
/// `ordinal` of trial `trial`: distinct from every real trial index (top
/// bit set) and from each other.
pub fn stream(trial: u64, kind: u64, ordinal: u64) -> u64 {
    let mut z = trial.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (kind << 56) ^ ordinal;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) | (1 << 63)
}

/// The random time window `ordinal` of trial `trial` starts before its
/// warm-up: the sum of two uniform draws of up to one warm-up each, from
/// the window's own stream. Its phase modulo any request-side cycle of
/// period `P` (at most one warm-up: the warm-up covers a breaker's window
/// and open period) is then uniform up to a relative error of
/// `(P / (pi x warm-up))^2`, a tenth at most; the mean cost is one
/// warm-up of requests a window that draws it.
pub fn lead(ts: Timescales, trial: u64, ordinal: u64) -> Nanos {
    let streams = stream(trial, 2, ordinal);
    // [`stream`] sets the top bit: the 53 bits below it.
    let uniform = |i| (stream(streams, 7, i) << 1 >> 11) as f64 / (1u64 << 53) as f64;
    ((uniform(0) + uniform(1)) * ts.warmup as f64) as Nanos
}

/// Every additive counter of a trial's requests, in a fixed order:
/// requests, successes, degraded, failed, latency sums (2), entry attempts
/// and calls, then per service (received, succeeded, failed), per edge its
/// eleven counts, per service its four defence counts.
fn flatten(w: &World, t: &TrafficResult) -> Vec<f64> {
    // Set from the workload edges at the horizon only: counted here.
    let entry = |f: fn(&super::counts::EdgeCounts) -> u64| -> f64 {
        w.workloads.iter().map(|wl| f(&t.edges[wl.edge]) as f64).sum()
    };
    let mut v = vec![
        t.requests as f64,
        t.success as f64,
        t.degraded as f64,
        t.failed as f64,
        t.latency_sum,
        t.served_latency_sum,
        entry(|e| e.attempts),
        entry(|e| e.calls),
    ];
    for (s, &(received, ok)) in t.services.iter().enumerate() {
        v.extend([received as f64, ok as f64, t.service_failed[s] as f64]);
    }
    for e in &t.edges {
        v.extend(
            [
                e.calls,
                e.attempts,
                e.retries,
                e.timeouts,
                e.errors,
                e.refused,
                e.breaker_rejected,
                e.bulkhead_rejected,
                e.fallbacks,
                e.failed,
                e.succeeded,
            ]
            .map(|x| x as f64),
        );
    }
    for d in &t.defence {
        v.extend([d.shed, d.shed_wait, d.rate_limited, d.ejections].map(|x| x as f64));
    }
    policies::flatten(w, t, &mut v);
    probes::flatten(w, t, &mut v);
    workflows::extend(&mut v, t);
    v
}

/// The counters of [`flatten`] back into a result, rounded to counts.
fn unflatten(v: &[f64], services: usize, edges: usize) -> TrafficResult {
    let n = |x: f64| x.max(0.0).round() as u64;
    let (success, degraded, failed) = (n(v[1]), n(v[2]), n(v[3]));
    let mut t = TrafficResult {
        // Rounded parts, so that successes + degraded + failures = requests.
        requests: success + degraded + failed,
        success: n(v[1]),
        degraded: n(v[2]),
        failed: n(v[3]),
        latency_sum: v[4],
        served_latency_sum: v[5],
        entry_attempts: n(v[6]),
        entry_calls: n(v[7]),
        ..TrafficResult::default()
    };
    let mut i = 8;
    for _ in 0..services {
        t.services.push((n(v[i]), n(v[i + 1])));
        t.service_failed.push(n(v[i + 2]));
        i += 3;
    }
    for _ in 0..edges {
        let c = |k: usize| n(v[i + k]);
        t.edges.push(super::counts::EdgeCounts {
            calls: c(0),
            attempts: c(1),
            retries: c(2),
            timeouts: c(3),
            errors: c(4),
            refused: c(5),
            breaker_rejected: c(6),
            bulkhead_rejected: c(7),
            fallbacks: c(8),
            failed: c(9),
            succeeded: c(10),
            ..Default::default()
        });
        i += 11;
    }
    for _ in 0..services {
        t.defence.push(super::counts::DefenceCounts {
            shed: n(v[i]),
            shed_wait: n(v[i + 1]),
            rate_limited: n(v[i + 2]),
            ejections: n(v[i + 3]),
            ..Default::default()
        });
        i += 4;
    }
    t
}

fn empty_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant figures are valid")
}

/// Counters of a batch or step: successes, degraded, failed, requests.
fn shares(r: &TrafficResult) -> [f64; 4] {
    [r.success as f64, r.degraded as f64, r.failed as f64, r.requests as f64]
}

/// Variance of the ratio estimator `sum x / sum n` over batches of about
/// equal length (`k` of them): their spread around it.
fn ratio_variance(batches: &[[f64; 4]], i: usize) -> f64 {
    let k = batches.len() as f64;
    let n: f64 = batches.iter().map(|b| b[3]).sum();
    if k < 2.0 || n <= 0.0 {
        return 0.0;
    }
    let p = batches.iter().map(|b| b[i]).sum::<f64>() / n;
    let mean_n = (n / k).max(1.0);
    batches.iter().map(|b| (b[i] - p * b[3]).powi(2)).sum::<f64>() / (k - 1.0) / k / (mean_n * mean_n)
}

impl Estimate {
    fn new(w: &World, len: usize) -> Self {
        Self {
            counters: vec![0.0; len],
            timeline: vec![[0.0; 4]; TIMELINE_BUCKETS],
            services: vec![[0.0; 2]; w.services.len() * TIMELINE_BUCKETS],
            edges: vec![[0.0; 2]; w.edges.len() * TIMELINE_BUCKETS],
            latency: empty_histogram(),
            served_latency: empty_histogram(),
            series: w.slo.as_ref().map(|spec| RequestSeries::new(spec.bucket, w.horizon)),
            sagas: workflows::Hists::new(w),
            peaks: policies::Peaks::default(),
            warmth: super::traffic::Warmth::default(),
            scale: autoscale::Carry::default(),
            faults: faults::Books::new(w),
            open: false,
        }
    }

    /// Spreads `requests` and `served` per second over `[from, to)` of the
    /// SLO series (a stationary segment's expected counts).
    fn add_series_rates(&mut self, requests: f64, served: f64, from: Nanos, to: Nanos) {
        let Some(s) = &mut self.series else { return };
        let width = s.bucket();
        let n = s.requests.len();
        let mut b = (from / width) as usize;
        while b < n {
            let lo = from.max(b as u64 * width);
            let hi = to.min((b as u64 + 1) * width);
            if hi <= lo {
                break;
            }
            let secs = (hi - lo) as f64 / 1e9;
            s.requests[b] += requests * secs;
            s.served[b] += served * secs;
            b += 1;
        }
    }

    /// Adds counters `delta` that accrued over `[from, to)`, spread over
    /// the timeline buckets in proportion to their overlap.
    fn add(&mut self, w: &World, delta: &[f64], scale: f64, from: Nanos, to: Nanos) {
        for (acc, d) in self.counters.iter_mut().zip(delta) {
            *acc += d * scale;
        }
        if to <= from {
            return;
        }
        let horizon = w.horizon as f64;
        let width = horizon / TIMELINE_BUCKETS as f64;
        let (a, b) = (from as f64, to as f64);
        let first = ((a / width) as usize).min(TIMELINE_BUCKETS - 1);
        let last = ((b / width) as usize).min(TIMELINE_BUCKETS - 1);
        let ns = w.services.len();
        for bucket in first..=last {
            let lo = a.max(bucket as f64 * width);
            let hi = b.min((bucket + 1) as f64 * width);
            if hi <= lo {
                continue;
            }
            let share = scale * (hi - lo) / (b - a);
            let cell = &mut self.timeline[bucket];
            for (k, &idx) in [0usize, 1, 2, 6].iter().enumerate() {
                cell[k] += delta[idx] * share;
            }
            for s in 0..ns {
                let (ok, failed) = (delta[9 + 3 * s], delta[10 + 3 * s]);
                let c = &mut self.services[s * TIMELINE_BUCKETS + bucket];
                c[0] += (ok + failed) * share;
                c[1] += ok * share;
            }
            for e in 0..w.edges.len() {
                let base = 8 + 3 * ns + 11 * e;
                let c = &mut self.edges[e * TIMELINE_BUCKETS + bucket];
                c[0] += delta[base] * share;
                c[1] += delta[base + 1] * share;
            }
        }
    }

    fn finish(self, w: &World, stats: Windowed) -> TrafficResult {
        let mut t = unflatten(&self.counters, w.services.len(), w.edges.len());
        t.workflows = workflows::unflatten(w, &self.counters[self.counters.len() - workflows::len(w)..]);
        policies::unflatten(w, &self.counters, 8 + 7 * w.services.len() + 11 * w.edges.len(), &mut t);
        self.peaks.finish(w, &mut t);
        probes::unflatten(w, &self.counters[..self.counters.len() - workflows::len(w)], &mut t);
        let n = |x: f64| x.max(0.0).round() as u32;
        t.timeline = self.timeline.iter().map(|c| c.map(n)).collect();
        t.service_timeline = self.services.iter().map(|c| [c[0] as f32, c[1] as f32, 0.0]).collect();
        t.edge_timeline = self.edges.iter().map(|c| [c[0] as f32, c[1] as f32, 0.0]).collect();
        if let (Some(spec), Some(series)) = (&w.slo, &self.series) {
            t.slo = Some(super::slo::analyse(series, spec));
        }
        t.windowed = Some(stats);
        t
    }
}

/// Adds `h` scaled by `scale` into `into`.
fn add_scaled(into: &mut Histogram<u64>, h: &Histogram<u64>, scale: f64) {
    for v in h.iter_recorded() {
        let count = (v.count_at_value() as f64 * scale).round() as u64;
        if count > 0 {
            // (`saturating_record_n` would clamp instead of growing.)
            into.record_n(v.value_iterated_to(), count)
                .expect("an auto-resizing histogram takes any value");
        }
    }
}

/// The counters' length for `w` (see [`flatten`]).
fn counters_len(w: &World) -> usize {
    flatten(
        w,
        &TrafficResult {
            services: vec![(0, 0); w.services.len()],
            service_failed: vec![0; w.services.len()],
            edges: vec![Default::default(); w.edges.len()],
            defence: vec![Default::default(); w.services.len()],
            workflows: workflows::unflatten(w, &vec![0.0; workflows::len(w)]),
            ..TrafficResult::default()
        },
    )
    .len()
}

/// Draws the stationary sample of the configuration of (canonical) state
/// `state`, whose key is `key`, on streams of `seed` and the key alone.
/// `trial` only names the trial in a runaway's report; `burst` is the
/// burst state ([`bursts::state`]) whose rates the sample runs at.
#[allow(clippy::too_many_arguments)]
fn draw(
    w: &World,
    seed: u64,
    state: &Availability,
    marks: &Marks,
    key: &[u8],
    ts: Timescales,
    trial: u64,
    burst: &[u8],
    slots: &[u8],
) -> Result<Stationary, Runaway> {
    let hash = key_hash(key);
    let precision = diurnal::sample_precision(w);
    // A burst state's sample runs at that state's flat rates.
    let flat = diurnal::flat_world(w, burst);
    let w = flat.as_ref().unwrap_or(w);
    let mut t = Trial::new(w);
    t.begin_window(None, state, marks, seed, stream(hash, 1, 0), 0);
    autoscale::preset(&mut t, slots);
    let mut warm = 2 * ts.warmup;
    t.advance_window(warm, trial)?;
    // A quantile hedge delay needs its window of latencies (not filling
    // at all means no edge success: its calls are never hedged).
    while !t.traffic.hedgers_ready() && warm < CAP {
        warm += ts.warmup;
        t.advance_window(warm, trial)?;
    }
    let before = flatten(w, &t.traffic.result);
    let (lat0, served0) = (t.traffic.latency.clone(), t.traffic.served_latency.clone());
    let sagas0 = workflows::Hists::snapshot(t.workflow_histograms());
    let mut batches: Vec<[f64; 4]> = Vec::new();
    let mut in_flight: f64 = 0.0;
    let mut last = shares(&t.traffic.result);
    let mut saga_batches = workflows::Batches::new(&t.traffic.result);
    let mut probed = probes::Sampled::default();
    let mut b: u64 = 0;
    loop {
        b += 1;
        t.advance_window(warm + b * ts.batch, trial)?;
        probed.see(&t, marks, warm + b * ts.batch);
        let now = shares(&t.traffic.result);
        batches.push([now[0] - last[0], now[1] - last[1], now[2] - last[2], now[3] - last[3]]);
        in_flight = in_flight.max(t.traffic.in_flight() as f64);
        last = now;
        saga_batches.push(&t.traffic.result);
        let n: f64 = batches.iter().map(|x| x[3]).sum();
        if b >= MAX_BATCHES {
            break;
        }
        if b >= MIN_BATCHES && n >= MIN_SAMPLE_REQUESTS && warm + b * ts.batch >= autoscale::min_sample(w) {
            let failed: f64 = batches.iter().map(|x| x[2]).sum();
            let precise = failed > 0.0 && ratio_variance(&batches, 2).sqrt() <= precision * failed / n;
            if precise || n >= SAMPLE_CAP {
                break;
            }
        }
    }
    let after = flatten(w, &t.traffic.result);
    let secs = (b * ts.batch) as f64 / 1e9;
    // Ratio estimation: every arrival concludes as one request, at the
    // workloads' known rate; scaling the sample to that rate leaves only
    // the error of the shares (served, failed, per edge), not that of
    // the sample's arrival count.
    let sampled = (after[0] - before[0]) / secs;
    let known: f64 = w.workloads.iter().map(|wl| wl.rate).sum();
    let scale = if sampled > 0.0 { known / sampled } else { 1.0 };
    let mut rates: Vec<f64> = after.iter().zip(&before).map(|(a, b)| (a - b) / secs * scale).collect();
    workflows::rescale(w, &mut rates, &before, &after, secs);
    probes::rescale(w, &mut rates, &before, &after, secs);
    let requests: f64 = batches.iter().map(|x| x[3]).sum();
    let served: f64 = batches.iter().map(|x| x[0] + x[1]).sum();
    let p = if requests > 0.0 { served / requests } else { 1.0 };
    let var = [
        ratio_variance(&batches, 0),
        ratio_variance(&batches, 1),
        ratio_variance(&batches, 2),
    ];
    let mut latency = t.traffic.latency.clone();
    let mut served_latency = t.traffic.served_latency.clone();
    latency
        .subtract(&lat0)
        .expect("a later histogram holds the earlier one");
    served_latency
        .subtract(&served0)
        .expect("a later histogram holds the earlier one");
    Ok(Stationary {
        hash,
        rates,
        served: p,
        // Served = 1 - failed: the failed share's error.
        served_se: var[2].sqrt(),
        var,
        in_flight,
        latency,
        served_latency,
        requests: t.traffic.result.requests,
        sagas: workflows::Hists::since(t.workflow_histograms(), &sagas0).sampled(w, &before, &after, &saga_batches),
        hedgers: t.traffic.hedgers(),
        peaks: {
            let mut p = policies::Peaks::default();
            p.see(&t.traffic.result);
            p
        },
        probes: probed,
        restless: autoscale::acted(&mut t),
    })
}

/// The samples one trial uses, in the order it met them.
struct TrialSamples {
    used: Vec<Used>,
    index: HashMap<Vec<u8>, usize>,
}

impl TrialSamples {
    /// The index in `used` of the sample of `state`'s configuration,
    /// drawn (or taken from `samples`) when first met.
    #[allow(clippy::too_many_arguments)]
    fn of(
        &mut self,
        w: &World,
        samples: &Samples,
        seed: u64,
        trial: u64,
        state: &Availability,
        marks: &Marks,
        burst: &[u8],
        slots: &[u8],
        ts: Timescales,
    ) -> Result<usize, Runaway> {
        let (canon, marks, slots) = autoscale::canonical(w, state, marks, slots);
        let mut key = master::key(&canon, &marks);
        key.extend_from_slice(&slots);
        key.extend_from_slice(burst);
        if let Some(&i) = self.index.get(&key) {
            return Ok(i);
        }
        let cell = samples.cell(seed, &key);
        let drawn = cell.get_or_init(|| {
            samples.drawn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            draw(w, seed, &canon, &marks, &key, ts, trial, burst, &slots).map(Arc::new)
        });
        match drawn {
            Ok(s) => {
                self.used.push(Used {
                    sample: Arc::clone(s),
                    covered_s: 0.0,
                });
                self.index.insert(key, self.used.len() - 1);
                Ok(self.used.len() - 1)
            }
            Err(e) => {
                let mut e = e.clone();
                e.trial = trial;
                Err(e)
            }
        }
    }
}

impl Trial<'_> {
    /// Replaces the trial's state with availability `availability` (and the
    /// pending availability and operations events and state `start` holds,
    /// unless frozen) and starts the request component at `from` on streams
    /// `streams`, its health checks agreeing with what serves and the
    /// replicas `marks` names on their bad release.
    fn begin_window(
        &mut self,
        start: Option<&Master<'_>>,
        availability: &Availability,
        marks: &Marks,
        seed: u64,
        streams: u64,
        from: Nanos,
    ) {
        match start {
            Some(s) => s.lend(self),
            None => self.queue.clear(),
        }
        self.availability = availability.clone();
        self.faults.clear(self.world, seed, streams);
        let mut requests = Requests::new(
            self.world,
            &mut self.queue,
            &mut self.trace,
            &mut self.traffic,
            &self.availability,
            &mut self.faults,
        );
        requests.start_traffic(seed, streams, from);
        requests.preset_health();
        marks.apply(self);
        if let Some(s) = start {
            s.lend_faults(self);
        }
        // Warm-ups and samples record no SLO series (a window lends it the
        // trial's from its change on).
        self.traffic.series = None;
    }

    /// Runs the events due before `until`.
    fn advance_window(&mut self, until: Nanos, trial: u64) -> Result<(), Runaway> {
        let budget = self.world.limits.events_per_trial;
        match engine::run_within(self, until, budget) {
            Ok(_) => {
                self.traffic.sync_client_counts();
                Ok(())
            }
            Err(stopped) => Err(self.window_runaway(trial, stopped)),
        }
    }

    fn window_runaway(&mut self, trial: u64, stopped: engine::Stopped) -> Runaway {
        super::runaway::blame(self.world, &self.traffic, &self.faults, &mut self.queue, trial, stopped)
    }

    /// Served requests and requests concluded so far.
    fn served_and_requests(&self) -> (u64, u64) {
        let r = &self.traffic.result;
        (r.success + r.degraded, r.requests)
    }

    /// Runs trial `trial` of seed `seed` with windowed request sampling
    /// (see the module doc), taking stationary samples from (and adding
    /// them to) `samples`.
    ///
    /// # Errors
    /// [`Runaway`] when a window or sample exceeds a budget of `[limits]`.
    pub fn run_windowed(&mut self, samples: &Samples, seed: u64, trial: u64) -> Result<TrialResult, Runaway> {
        let w = self.world;
        let horizon = w.horizon;
        let ts = timescales(w);
        let mut master = Master::start(w, seed, trial);
        let mut est = Estimate::new(w, counters_len(w));
        let mut used = TrialSamples {
            used: Vec::new(),
            index: HashMap::new(),
        };
        let mut stats = Windowed::default();
        est.scale = autoscale::Carry::start(w, seed, trial);
        let mut t: Nanos = 0;
        let mut swing = diurnal::Swing::default();
        while t < horizon {
            let burst = bursts::state(w, t);
            let key = master.key();
            let change = bursts::earliest(master.next_change(&key), bursts::next_edge(w, t));
            let change = if diurnal::any(w) {
                let until = change.unwrap_or(horizon);
                let marks = master.marks();
                let cfg = diurnal::Config {
                    w,
                    samples,
                    seed,
                    trial,
                    state: master.availability(),
                    marks: &marks,
                    burst: &burst,
                    ts,
                };
                cfg.segment(&mut used, &mut est, &mut swing, t, until)?;
                change
            } else {
                let i = used.of(
                    w,
                    samples,
                    seed,
                    trial,
                    master.availability(),
                    &master.marks(),
                    &burst,
                    &est.scale.slots(),
                    ts,
                )?;
                // Autoscalers not at rest at the start: a window from there.
                let change = if used.used[i].sample.restless { Some(t) } else { change };
                let until = change.unwrap_or(horizon);
                let u = &mut used.used[i];
                let secs = (until - t) as f64 / 1e9;
                let rates = &u.sample.rates;
                est.add(w, rates, secs, t, until);
                est.add_series_rates(rates[0], rates[1] + rates[2], t, until);
                u.covered_s += secs;
                change
            };
            let Some(change) = change else { break };
            let lead = if est.open { lead(ts, trial, stats.windows) } else { 0 };
            let from = change.saturating_sub(ts.warmup + lead).max(t);
            master.run_until(from);
            t = self.run_window(
                &mut master,
                samples,
                &mut used,
                &mut est,
                seed,
                trial,
                from,
                change,
                &mut stats,
                ts,
            )?;
        }
        // Latency: each configuration's sample, scaled to the time it covered.
        let requests = est.counters[0];
        for u in &used.used {
            let s = &u.sample;
            est.peaks.merge(&s.peaks);
            let scale = u.covered_s * s.rates[0] / s.latency.len().max(1) as f64;
            add_scaled(&mut est.latency, &s.latency, scale);
            add_scaled(&mut est.served_latency, &s.served_latency, scale);
            est.sagas.add_sample(w, &s.sagas, u.covered_s);
            let weight = if requests > 0.0 {
                u.covered_s * s.rates[0] / requests
            } else {
                0.0
            };
            stats.samples.insert(
                s.hash,
                SampleUse {
                    weight,
                    var: s.var,
                    requests: s.requests,
                    workflows: workflows::uses(w, &est.counters, u.covered_s, &s.sagas),
                },
            );
        }
        if diurnal::any(w) {
            stats.interpolation_bias = Some(swing.bias(&used, requests));
        }
        stats.configurations = used.used.len() as u64;
        stats.estimated_requests = requests;
        self.traffic.latency = est.latency.clone();
        self.traffic.served_latency = est.served_latency.clone();
        self.traffic
            .set_workflow_histograms(std::mem::take(&mut est.sagas).into_inner());
        let mut result = master.finish();
        std::mem::replace(&mut est.faults, faults::Books::new(w)).finish(&mut result.faults);
        let scale = std::mem::take(&mut est.scale);
        let mut traffic = est.finish(w, stats);
        autoscale::finish(w, &scale, &mut traffic);
        result.traffic = Some(traffic);
        Ok(result)
    }

    /// Simulates one window: from `from` (warm-up) through the change at
    /// `change` until the request process settles; `master` is advanced to
    /// the window's end, which is returned.
    #[allow(clippy::too_many_arguments)]
    fn run_window(
        &mut self,
        master: &mut Master<'_>,
        samples: &Samples,
        used: &mut TrialSamples,
        est: &mut Estimate,
        seed: u64,
        trial: u64,
        from: Nanos,
        change: Nanos,
        stats: &mut Windowed,
        ts: Timescales,
    ) -> Result<Nanos, Runaway> {
        let w = self.world;
        let horizon = w.horizon;
        let streams = stream(trial, 2, stats.windows);
        stats.windows += 1;
        let marks = master.marks();
        self.begin_window(Some(&*master), master.availability(), &marks, seed, streams, from);
        if policies::hedges(w) {
            let burst = bursts::state(w, from);
            let slots = est.scale.slots();
            let r = diurnal::reference(
                w,
                samples,
                used,
                seed,
                trial,
                master.availability(),
                &marks,
                &burst,
                &slots,
                ts,
                from,
            )?;
            self.traffic.preset_hedgers(&used.used[r.nearest].sample.hedgers);
        }
        if probes::any(w) {
            let i = used.of(
                w,
                samples,
                seed,
                trial,
                master.availability(),
                &marks,
                &bursts::state(w, from),
                &est.scale.slots(),
                ts,
            )?;
            self.preset_probes(&used.used[i].sample.probes, &marks, stream(streams, 6, 0), from);
        }
        autoscale::resume(self, &est.scale, from);
        let restarts = policies::restarts_matter(w);
        if restarts {
            self.traffic.set_warmth(&est.warmth);
        }
        self.advance_window(change, trial)?;
        // From the change on, the window's requests go straight into the
        // trial's series (the warm-up's into none).
        self.traffic.series = est.series.take();
        let mut mark = flatten(w, &self.traffic.result);
        let (lat0, served0) = (self.traffic.latency.clone(), self.traffic.served_latency.clone());
        let sagas0 = workflows::Hists::snapshot(self.workflow_histograms());
        let mut key = master::key(&self.availability, &Marks::of(w, self));
        let mut watch = autoscale::Watch::new(self, &key, change);
        let mut burst = bursts::state(w, change);
        let mut last_change = change;
        let mut now = change;
        let mut calm = 0usize;
        let mut metastable = false;
        // Settled with a breaker open: run through to the next change.
        let mut through = false;
        loop {
            let next = (now + ts.step).min(horizon);
            let step_from = now;
            let before = self.served_and_requests();
            self.advance_window(next, trial)?;
            let counters = flatten(w, &self.traffic.result);
            let delta: Vec<f64> = counters.iter().zip(&mark).map(|(a, b)| a - b).collect();
            est.add(w, &delta, 1.0, now, next);
            mark = counters;
            now = next;
            if now >= horizon {
                break;
            }
            if metastable {
                continue;
            }
            let marks = Marks::of(w, self);
            let k = master::key(&self.availability, &marks);
            let b = bursts::state(w, now);
            let scaled = watch.step(self, &k, b != burst, now);
            if k != key || b != burst || scaled || !autoscale::at_rest(self) || faults::measuring(w, self) {
                key = k;
                burst = b;
                last_change = now;
                calm = 0;
                through = false;
                if watch.capped(now) {
                    metastable = true;
                    stats.metastable += 1;
                }
                continue;
            }
            if through {
                continue;
            }
            let mid = step_from + (now - step_from) / 2;
            let s = diurnal::reference(
                w,
                samples,
                used,
                seed,
                trial,
                &self.availability,
                &marks,
                &burst,
                &watch.slots,
                ts,
                mid,
            )?;
            let sample = &used.used[s.nearest].sample;
            let after = self.served_and_requests();
            let (served, requests) = ((after.0 - before.0) as f64, (after.1 - before.1) as f64);
            let stationary = requests > 0.0 && {
                let p = s.served;
                let se = (p * (1.0 - p) / requests + s.served_se.powi(2)).sqrt();
                (served / requests - p).abs() <= SETTLE_Z * se + 1e-12
            };
            let drained = self.traffic.in_flight() as f64 <= s.in_flight + SETTLE_Z * s.in_flight.sqrt() + 1.0;
            calm = if stationary && drained { calm + 1 } else { 0 };
            let least = if policies::hedges(w) {
                ts.warmup.max(policies::refresh(
                    w,
                    &used.used[s.nearest].sample.rates,
                    8 + 3 * w.services.len(),
                ))
            } else {
                ts.warmup
            };
            if calm >= SETTLE_STEPS
                && now - last_change >= least
                && self.probes_settled(&sample.probes, &marks)
                && (!restarts || self.requests().warmed(now, |s| policies::warm_for(w, s)))
                && probes::with_master(w, master, &key, now)
                && !sample.restless
            {
                autoscale::sync(master, self);
                master.run_until(now);
                match bursts::earliest(master.next_change(&key), bursts::next_edge(w, now)) {
                    Some(c) if c < now + ts.warmup => {}
                    // A breaker open now is in a cycle (open, a trial,
                    // open again) that mixes only as fast as its trials'
                    // timing jitters: its phase at the next change is set
                    // by the change before, so the window runs on to it
                    // (committed, not until the breaker happens to close).
                    Some(c) if c < now + CAP && self.traffic.breaker_open(now) => through = true,
                    _ => break,
                }
            } else if watch.capped(now) {
                metastable = true;
                stats.metastable += 1;
            }
        }
        stats.simulated_requests += self.traffic.result.requests;
        stats.window_s += (now - change) as f64 / 1e9;
        est.peaks.see(&self.traffic.result);
        if restarts {
            est.warmth = self.traffic.warmth();
        }
        if w.autoscaled {
            est.scale = self.requests().carry_autoscale();
        }
        est.series = self.traffic.series.take();
        est.open = self.traffic.breaker_open(now);
        est.faults.add_window(self, now);
        let mut latency = self.traffic.latency.clone();
        let mut served_latency = self.traffic.served_latency.clone();
        latency
            .subtract(&lat0)
            .expect("a later histogram holds the earlier one");
        served_latency
            .subtract(&served0)
            .expect("a later histogram holds the earlier one");
        add_scaled(&mut est.latency, &latency, 1.0);
        add_scaled(&mut est.served_latency, &served_latency, 1.0);
        est.sagas
            .add(&workflows::Hists::since(self.workflow_histograms(), &sagas0), 1.0);
        autoscale::sync(master, self);
        master.run_until(now);
        Ok(now)
    }
}

/// When the configuration of `master` (now `key`) next changes, if before
/// the horizon.
fn next_change(master: &FailureOnly<'_>, key: &[u8]) -> Option<Nanos> {
    let horizon = master.world().horizon;
    let mut probe = master.clone();
    while let Some(at) = probe.step(horizon) {
        if configuration(&probe.availability) != key {
            return Some(at);
        }
    }
    None
}
