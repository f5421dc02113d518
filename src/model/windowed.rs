//! Windowed request sampling: the request availability of a long horizon
//! (a month, a year) without simulating every request.
//!
//! The availability component runs alone over the whole horizon. Its
//! *configuration* ([`configuration`]: which replicas serve and take
//! traffic, which groups serve and are routed, which group each global
//! active-passive service uses, which regions are up) changes only at
//! crashes, repairs, failovers and region outages. One trial is cut into:
//!
//! - **Windows**, simulated request by request: each starts [`WARMUP`]
//!   before a configuration change, from the availability state the
//!   component alone reached there (the request state starts empty and
//!   warms up; its counts before the change are dropped), and runs both
//!   components on until the request process has *settled* (below) and no
//!   change is due within [`WARMUP`]. Counts are taken from the change to
//!   the window's end.
//! - **Stationary segments** between windows, whose configuration is
//!   fixed: their requests are estimated from a *stationary sample* of the
//!   configuration, a request-level run with the availability frozen
//!   (no failure or repair events), [`WARMUP`] of warm-up then
//!   [`SAMPLE`] cut into [`BATCHES`] batches (strata of equal length).
//!   Every counter of the sample, per second, times the segment's length
//!   is the segment's estimate, after scaling the sample to the workloads'
//!   known rate (every arrival concludes as one request at stationarity:
//!   a ratio estimator, so a configuration that serves all or nothing is
//!   estimated exactly). A configuration is sampled once per trial
//!   and reused by all its segments (a cache per trial, never across
//!   trials; see below).
//!
//! **Settling rule.** After the last change in a window, the window ends at
//! the first step boundary (steps of [`STEP`]) where (a) at least
//! [`MIN_SETTLE`] has passed since that change, (b) each of the last
//! [`SETTLE_STEPS`] steps served a share of its requests within
//! [`SETTLE_Z`] standard errors (binomial on the step's count, plus the
//! sample's own) of the configuration's stationary share, (c) the requests
//! in flight are at most the stationary sample's largest batch-end count
//! plus [`SETTLE_Z`] times its square root, and (d) no configuration
//! change is due within [`WARMUP`] (else the window runs on through it). A
//! window that has not settled [`CAP`] after its last change is
//! *metastable*: it runs to the horizon, request by request, and is
//! counted in [`Windowed::metastable`], never estimated away.
//!
//! **Honest intervals.** Each trial draws its own stationary samples from
//! streams of its own, so trials stay independent and identically
//! distributed: the spread of per-trial request availability across trials
//! holds the sampling error of the stationary estimates, and the usual
//! Student t interval across trials covers it. (Sharing samples across
//! trials would save work but correlate the trials, and the interval
//! across them would then miss the shared error.)
//!
//! **Supported models**: flat-rate workloads (no diurnal swing, no bursts),
//! no injected faults, no workflows; [`refusal`] says why another model
//! cannot run windowed. `auto` runs windowed only when full simulation of a
//! trial would pass [`REQUEST_BUDGET`] requests and the model is
//! supported.
//!
//! **Invariants.** A trial's result depends only on `(seed, trial)`: every
//! window and sample uses streams derived from the trial index, a kind and
//! its ordinal ([`stream`]), never the thread or the trials before it.
//! Memory is one window's (or one sample's) requests in flight.

use std::collections::HashMap;

use hdrhistogram::Histogram;

use super::availability::{Availability, FailureOnly};
use super::result::{TrafficResult, TrialResult};
use super::runaway::Runaway;
use super::traffic::{Requests, TIMELINE_BUCKETS};
use super::trial::Trial;
use super::world::World;
use crate::engine::{self, Nanos};
use crate::scenario::{RequestSampling, Scenario, Workload};

const SECOND: Nanos = 1_000_000_000;
/// Request-level warm-up before a change (and before a stationary sample):
/// queues, health checks and breakers reach their steady state from empty.
pub const WARMUP: Nanos = 60 * SECOND;
/// The step at which a window checks whether it has settled.
pub const STEP: Nanos = 5 * SECOND;
/// Least time from a window's last change to its end: covers health-check
/// detection, failover switches and retry backoffs of usual settings.
pub const MIN_SETTLE: Nanos = 60 * SECOND;
/// Steps in a row that must look stationary.
pub const SETTLE_STEPS: usize = 3;
/// Standard errors a settled step may differ from the stationary share.
pub const SETTLE_Z: f64 = 4.0;
/// A window still unsettled this long after its last change is metastable.
pub const CAP: Nanos = 3600 * SECOND;
/// Length of a configuration's stationary sample (after its warm-up).
pub const SAMPLE: Nanos = 300 * SECOND;
/// Strata of the stationary sample.
pub const BATCHES: u64 = 10;
/// `auto` turns to windowed when one full trial would simulate more entry
/// requests than this (about a minute of one core's simulation for a
/// three-tier service).
pub const REQUEST_BUDGET: f64 = 5e7;

/// Entry requests one full trial would simulate (mean rate times horizon).
pub fn full_requests(sc: &Scenario) -> f64 {
    sc.workloads.iter().map(|w| w.rate).sum::<f64>() * sc.horizon as f64 / 1e9
}

/// Why windowed sampling cannot run this model, or `None` when it can.
pub fn refusal(sc: &Scenario) -> Option<String> {
    refusal_of(&sc.workloads, sc.faults.len(), sc.workflows.len(), sc.horizon).or_else(|| refusal_of_parts(sc))
}

/// The parts of a model whose state or counters windowed sampling does not
/// carry from its windows and samples yet: refused rather than estimated
/// wrong (or reported as zero).
fn refusal_of_parts(sc: &Scenario) -> Option<String> {
    let not_yet = |what: &str| Some(format!("windowed request sampling does not model {what} yet"));
    if !sc.deploys.is_empty() || !sc.maintenance.is_empty() {
        return not_yet("deploys or maintenance windows ([[deploy]], [[maintenance]])");
    }
    if sc.infra.is_used() {
        return not_yet("zones, common causes, repair crews or spares");
    }
    if sc.slo_spec.is_some() {
        return not_yet("SLO windows or alert rules (slo.window, [[alert]]): they read every minute's requests");
    }
    if let Some(s) = sc.services.iter().find(|s| {
        let p = &s.defence.probes;
        p.readiness.is_some()
            || p.liveness.is_some()
            || p.panic_threshold.is_some()
            || s.defence
                .outlier
                .as_ref()
                .is_some_and(|o| o.detectors.success_rate.is_some() || o.detectors.failure_percentage.is_some())
    }) {
        return not_yet(&format!(
            "request probes, panic routing or interval outlier detectors (service \"{}\")",
            s.name
        ));
    }
    let hedged = |p: &crate::scenario::ClientPolicy| p.objects.hedge.is_some() || p.objects.concurrency.is_some();
    if sc.workloads.iter().any(|w| hedged(&w.policy))
        || sc.services.iter().any(|s| s.calls.iter().any(|c| hedged(&c.policy)))
    {
        return not_yet("hedged requests or retry budgets by concurrency");
    }
    if let Some(s) = sc.services.iter().find(|s| s.defence.autoscale.is_some()) {
        return not_yet(&format!("autoscaling (service \"{}\")", s.name));
    }
    None
}

/// [`refusal`] from the parts of a scenario that decide it.
pub fn refusal_of(workloads: &[Workload], faults: usize, workflows: usize, horizon: Nanos) -> Option<String> {
    if workloads.is_empty() {
        return Some("windowed request sampling needs a workload (requests to sample)".into());
    }
    if let Some(w) = workloads.iter().find(|w| w.diurnal.is_some() || !w.bursts.is_empty()) {
        return Some(format!(
            "windowed request sampling needs flat-rate workloads; workload \"{}\" has a diurnal swing or bursts",
            w.name
        ));
    }
    if faults > 0 {
        return Some("windowed request sampling does not model injected faults ([[fault]]) yet".into());
    }
    if workflows > 0 {
        return Some("windowed request sampling does not model workflows ([[workflow]]) yet".into());
    }
    if horizon < 2 * (WARMUP + SAMPLE) {
        return Some(format!(
            "windowed request sampling needs a horizon of at least {} s (two warm-ups and stationary samples)",
            2 * (WARMUP + SAMPLE) / SECOND
        ));
    }
    None
}

/// What `request_sampling` resolves to for `sc` (`requested` overrides the
/// file): `None` when it was left unset and full simulation runs (nothing is
/// said in `summary.json`, as before the option existed).
pub fn resolve(sc: &Scenario, requested: Option<RequestSampling>) -> Option<RequestSampling> {
    match requested {
        Some(RequestSampling::Full) => Some(RequestSampling::Full),
        Some(RequestSampling::Windowed) => Some(RequestSampling::Windowed),
        Some(RequestSampling::Auto) | None => {
            let windowed = full_requests(sc) > REQUEST_BUDGET && refusal(sc).is_none();
            if windowed {
                Some(RequestSampling::Windowed)
            } else {
                requested.map(|_| RequestSampling::Full)
            }
        }
    }
}

/// What windowed sampling did in one trial (or, summed, in a run).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Windowed {
    /// Transient windows simulated.
    pub windows: u64,
    /// Of them, windows that never settled (run to the horizon).
    pub metastable: u64,
    /// Configurations sampled (stationary samples drawn).
    pub configurations: u64,
    /// Entry requests simulated: in windows (warm-up included) and in the
    /// stationary samples (warm-up included).
    pub simulated_requests: u64,
    /// Entry requests of the estimate (simulated in windows, estimated in
    /// segments).
    pub estimated_requests: f64,
    /// Horizon time covered by windows (seconds, warm-ups excluded).
    pub window_s: f64,
}

impl Windowed {
    /// Adds another trial's (or run's) figures.
    pub fn add(&mut self, o: &Self) {
        self.windows += o.windows;
        self.metastable += o.metastable;
        self.configurations += o.configurations;
        self.simulated_requests += o.simulated_requests;
        self.estimated_requests += o.estimated_requests;
        self.window_s += o.window_s;
    }

    /// The figures `summary.json` reports, over `trials` trials.
    pub fn summary(&self, trials: u64) -> WindowedSummary {
        let n = trials.max(1) as f64;
        WindowedSummary {
            share_simulated: if self.estimated_requests > 0.0 {
                self.simulated_requests as f64 / self.estimated_requests
            } else {
                0.0
            },
            simulated_requests: self.simulated_requests,
            windows: self.windows,
            windows_per_trial: self.windows as f64 / n,
            metastable_windows: self.metastable,
            configurations_per_trial: self.configurations as f64 / n,
            window_s_per_trial: self.window_s / n,
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
    /// Entry requests simulated, all trials.
    pub simulated_requests: u64,
    /// Transient windows simulated, all trials.
    pub windows: u64,
    /// Mean windows per trial.
    pub windows_per_trial: f64,
    /// Windows that never settled and ran to the horizon (metastable), all
    /// trials.
    pub metastable_windows: u64,
    /// Mean configurations sampled per trial.
    pub configurations_per_trial: f64,
    /// Mean horizon time per trial covered by windows (seconds).
    pub window_s_per_trial: f64,
}

/// One configuration's stationary sample.
struct Stationary {
    /// Every counter of [`flatten`], per second.
    rates: Vec<f64>,
    /// Served share of the sample's requests.
    served: f64,
    /// Its standard error (from the batches).
    served_se: f64,
    /// Largest requests in flight at a batch end.
    in_flight: f64,
    /// Latency of the sample's requests, and of the served ones (us).
    latency: Histogram<u64>,
    served_latency: Histogram<u64>,
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

/// The trial index handed to the request streams of window or sample
/// `ordinal` of trial `trial`: distinct from every real trial index (top
/// bit set) and from each other.
pub fn stream(trial: u64, kind: u64, ordinal: u64) -> u64 {
    let mut z = trial.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (kind << 56) ^ ordinal;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) | (1 << 63)
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

impl Estimate {
    fn new(w: &World, len: usize) -> Self {
        Self {
            counters: vec![0.0; len],
            timeline: vec![[0.0; 4]; TIMELINE_BUCKETS],
            services: vec![[0.0; 2]; w.services.len() * TIMELINE_BUCKETS],
            edges: vec![[0.0; 2]; w.edges.len() * TIMELINE_BUCKETS],
            latency: empty_histogram(),
            served_latency: empty_histogram(),
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
                let (received, ok, failed) = (delta[8 + 3 * s], delta[9 + 3 * s], delta[10 + 3 * s]);
                let _ = received;
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
        let n = |x: f64| x.max(0.0).round() as u32;
        t.timeline = self.timeline.iter().map(|c| c.map(n)).collect();
        t.service_timeline = self.services.iter().map(|c| [c[0] as f32, c[1] as f32, 0.0]).collect();
        t.edge_timeline = self.edges.iter().map(|c| [c[0] as f32, c[1] as f32, 0.0]).collect();
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

impl Trial<'_> {
    /// Replaces the trial's state with availability `availability` (and the
    /// pending availability events `start` holds, unless `frozen`) and
    /// starts the request component at `from` on streams `streams`.
    fn begin_window(
        &mut self,
        start: Option<&FailureOnly<'_>>,
        availability: &Availability,
        seed: u64,
        streams: u64,
        from: Nanos,
    ) {
        match start {
            Some(s) => self.queue = s.queue.clone(),
            None => self.queue.clear(),
        }
        self.availability = availability.clone();
        self.faults.clear(self.world, seed, streams);
        Requests::new(
            self.world,
            &mut self.queue,
            &mut self.trace,
            &mut self.traffic,
            &self.availability,
            &mut self.faults,
        )
        .start_traffic(seed, streams, from);
    }

    /// Runs the events due before `until`.
    fn advance_window(&mut self, until: Nanos, trial: u64) -> Result<(), Runaway> {
        let budget = self.world.limits.events_per_trial;
        match engine::run_within(self, until, budget) {
            Ok(_) => Ok(()),
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
    /// (see the module doc). Returns the trial's result and the latency
    /// histograms of its requests (all, served).
    ///
    /// # Errors
    /// [`Runaway`] when a window or sample exceeds a budget of `[limits]`.
    pub fn run_windowed(&mut self, seed: u64, trial: u64) -> Result<TrialResult, Runaway> {
        let w = self.world;
        let horizon = w.horizon;
        let mut master = FailureOnly::start(w, seed, trial);
        let len = flatten(
            w,
            &TrafficResult {
                services: vec![(0, 0); w.services.len()],
                service_failed: vec![0; w.services.len()],
                edges: vec![Default::default(); w.edges.len()],
                defence: vec![Default::default(); w.services.len()],
                ..TrafficResult::default()
            },
        )
        .len();
        let mut est = Estimate::new(w, len);
        let mut cache: HashMap<Vec<u8>, Stationary> = HashMap::new();
        let mut order: Vec<Vec<u8>> = Vec::new();
        let mut stats = Windowed::default();
        let mut t: Nanos = 0;
        while t < horizon {
            let key = configuration(&master.availability);
            self.ensure_sample(
                &mut cache,
                &mut order,
                &key,
                &master.availability,
                seed,
                trial,
                &mut stats,
            )?;
            let change = next_change(&master, &key);
            let until = change.unwrap_or(horizon);
            let sample = &mut cache.get_mut(&key).expect("sampled above");
            let secs = (until - t) as f64 / 1e9;
            est.add(w, &sample.rates, secs, t, until);
            sample.covered_s += secs;
            let Some(change) = change else { break };
            let from = change.saturating_sub(WARMUP).max(t);
            master.run_until(from, u64::MAX);
            let end = self.run_window(
                &mut master,
                &mut cache,
                &mut order,
                &mut est,
                seed,
                trial,
                from,
                change,
                &mut stats,
            )?;
            t = end;
        }
        // Latency: each configuration's sample, scaled to the time it covered.
        for key in &order {
            let s = &cache[key];
            let scale = s.covered_s * s.rates[0] / s.latency.len().max(1) as f64;
            add_scaled(&mut est.latency, &s.latency, scale);
            add_scaled(&mut est.served_latency, &s.served_latency, scale);
        }
        stats.estimated_requests = est.counters[0];
        self.traffic.latency = est.latency.clone();
        self.traffic.served_latency = est.served_latency.clone();
        let mut result = master.finish();
        result.traffic = Some(est.finish(w, stats));
        Ok(result)
    }

    /// Draws the stationary sample of configuration `key` (the state
    /// `availability`) unless this trial already has it.
    #[allow(clippy::too_many_arguments)]
    fn ensure_sample(
        &mut self,
        cache: &mut HashMap<Vec<u8>, Stationary>,
        order: &mut Vec<Vec<u8>>,
        key: &[u8],
        availability: &Availability,
        seed: u64,
        trial: u64,
        stats: &mut Windowed,
    ) -> Result<(), Runaway> {
        if cache.contains_key(key) {
            return Ok(());
        }
        let w = self.world;
        let streams = stream(trial, 1, order.len() as u64);
        self.begin_window(None, availability, seed, streams, 0);
        self.advance_window(WARMUP, trial)?;
        let before = flatten(w, &self.traffic.result);
        let (lat0, served0) = (self.traffic.latency.clone(), self.traffic.served_latency.clone());
        let batch = SAMPLE / BATCHES;
        let mut ratios = Vec::with_capacity(BATCHES as usize);
        let mut in_flight: f64 = 0.0;
        let mut last = self.served_and_requests();
        for b in 1..=BATCHES {
            self.advance_window(WARMUP + b * batch, trial)?;
            let now = self.served_and_requests();
            let (served, requests) = (now.0 - last.0, now.1 - last.1);
            ratios.push((served as f64, requests as f64));
            in_flight = in_flight.max(self.traffic.in_flight() as f64);
            last = now;
        }
        let after = flatten(w, &self.traffic.result);
        let secs = SAMPLE as f64 / 1e9;
        // Ratio estimation: every arrival concludes as one request, at the
        // workloads' known rate; scaling the sample to that rate leaves only
        // the error of the shares (served, failed, per edge), not that of
        // the sample's arrival count.
        let sampled = (after[0] - before[0]) / secs;
        let known: f64 = w.workloads.iter().map(|wl| wl.rate).sum();
        let scale = if sampled > 0.0 { known / sampled } else { 1.0 };
        let rates: Vec<f64> = after.iter().zip(&before).map(|(a, b)| (a - b) / secs * scale).collect();
        let (served, requests) = ratios.iter().fold((0.0, 0.0), |(s, n), (a, b)| (s + a, n + b));
        let p = if requests > 0.0 { served / requests } else { 1.0 };
        // Ratio estimator over equal strata: the batches' spread around p.
        let k = ratios.len() as f64;
        let mean_n = requests / k;
        let var =
            ratios.iter().map(|(s, n)| (s - p * n).powi(2)).sum::<f64>() / (k - 1.0) / k / mean_n.max(1.0).powi(2);
        let mut latency = self.traffic.latency.clone();
        let mut served_latency = self.traffic.served_latency.clone();
        latency
            .subtract(&lat0)
            .expect("a later histogram holds the earlier one");
        served_latency
            .subtract(&served0)
            .expect("a later histogram holds the earlier one");
        stats.configurations += 1;
        stats.simulated_requests += self.traffic.result.requests;
        order.push(key.to_vec());
        cache.insert(
            key.to_vec(),
            Stationary {
                rates,
                served: p,
                served_se: var.sqrt(),
                in_flight,
                latency,
                served_latency,
                covered_s: 0.0,
            },
        );
        Ok(())
    }

    /// Simulates one window: from `from` (warm-up) through the change at
    /// `change` until the request process settles; `master` is advanced to
    /// the window's end, which is returned.
    #[allow(clippy::too_many_arguments)]
    fn run_window(
        &mut self,
        master: &mut FailureOnly<'_>,
        cache: &mut HashMap<Vec<u8>, Stationary>,
        order: &mut Vec<Vec<u8>>,
        est: &mut Estimate,
        seed: u64,
        trial: u64,
        from: Nanos,
        change: Nanos,
        stats: &mut Windowed,
    ) -> Result<Nanos, Runaway> {
        let w = self.world;
        let horizon = w.horizon;
        let streams = stream(trial, 2, stats.windows);
        stats.windows += 1;
        let start = master.clone();
        let availability = start.availability.clone();
        self.begin_window(Some(&start), &availability, seed, streams, from);
        self.advance_window(change, trial)?;
        let mut mark = flatten(w, &self.traffic.result);
        let (lat0, served0) = (self.traffic.latency.clone(), self.traffic.served_latency.clone());
        let mut key = configuration(&self.availability);
        let mut last_change = change;
        let mut now = change;
        let mut calm = 0usize;
        let mut metastable = false;
        loop {
            let next = (now + STEP).min(horizon);
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
            let k = configuration(&self.availability);
            if k != key {
                key = k;
                last_change = now;
                calm = 0;
                continue;
            }
            // The configuration's stationary share, sampled from this very
            // state with the availability frozen.
            let state = self.availability.clone();
            let queue = std::mem::take(&mut self.queue);
            let traffic = std::mem::take(&mut self.traffic);
            let sampled = self.ensure_sample(cache, order, &key, &state, seed, trial, stats);
            self.queue = queue;
            self.traffic = traffic;
            self.availability = state;
            sampled?;
            let s = &cache[&key];
            let after = self.served_and_requests();
            let (served, requests) = ((after.0 - before.0) as f64, (after.1 - before.1) as f64);
            let stationary = requests > 0.0 && {
                let p = s.served;
                let se = (p * (1.0 - p) / requests + s.served_se.powi(2)).sqrt();
                (served / requests - p).abs() <= SETTLE_Z * se + 1e-12
            };
            let drained = self.traffic.in_flight() as f64 <= s.in_flight + SETTLE_Z * s.in_flight.sqrt() + 1.0;
            calm = if stationary && drained { calm + 1 } else { 0 };
            if calm >= SETTLE_STEPS && now - last_change >= MIN_SETTLE {
                master.run_until(now, u64::MAX);
                match next_change(master, &key) {
                    Some(c) if c < now + WARMUP => {}
                    _ => break,
                }
            } else if now - last_change >= CAP {
                metastable = true;
                stats.metastable += 1;
            }
        }
        stats.simulated_requests += self.traffic.result.requests;
        stats.window_s += (now - change) as f64 / 1e9;
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
        master.run_until(now, u64::MAX);
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
