//! Requests: workloads, the client policies on every call, and replicas that
//! queue and serve them. Runs inside the same trial (and event queue) as the
//! availability component ([`super::availability`]), whose state it reads to
//! route and to refuse (what serves, which group is active, which regions are
//! routed), so time-based and request-based availability come out of one
//! run. It reads the faults' overlay ([`super::fault::FaultOverlay`]) and
//! never writes either; a request component can also start from an
//! availability state reached alone ([`super::Trial::run_from`]).
//!
//! # The path of one call (edge `A -> B`)
//! ```text
//!  new call ──> deadline? ──> breaker ──> bulkhead ──> send attempt ──> replica
//!                  │expired      │open       │full/      │ (timeout      │ queue, serve,
//!                  v             v           │timeout    │  armed)       │ make own calls
//!               give up      attempt failed <┘           v               v
//!                                 │               attempt done <── response / timeout /
//!                                 v                     │               refusal / reset
//!                       retry? (attempts, outcome,      │success
//!                       deadline, budget) ──yes──> wait backoff ──> (again)
//!                                 │no                   v
//!                                 v                 call done ──> caller (job or root)
//!                       fallback? degraded : failed
//! ```
//! - A replica serves up to `concurrency` jobs at once and queues up to
//!   `queue` more (FIFO); a job holds its slot through its own downstream
//!   calls, which is what lets slowness upstream of a sick dependency pile up.
//! - A client that times out does not cancel the server's work (unless the
//!   edge sets `cancel_on_timeout`): the late response is dropped by an epoch
//!   check, but the replica stayed busy, which is what makes retry storms.
//! - A crashed replica, or one in a region that is down, refuses new
//!   connections at once and resets the ones in flight. The load balancer
//!   keeps sending it traffic until health checks mark it unhealthy; with no
//!   healthy replica it spreads over all of them (Envoy's panic routing).
//! - An active-passive group takes traffic only on its active replica.
//!
//! # Invariants
//! Events about calls and jobs hold generational slab keys (and calls an
//! attempt epoch), so an event about something finished is ignored. Per
//! replica, `busy <= concurrency`, `waiting <= queue`, and `busy` counts
//! exactly the live jobs on it in state `Serving` or `Calling` (a crash
//! finds them by scanning the job slab: crashes are rare, requests are not). The FIFO may also hold keys of jobs
//! cancelled while waiting (removal is lazy, so cancelling is O(1)); they
//! are skipped when popped and are not counted in `waiting`.

pub mod autoscale;
mod client;
mod ejection;
mod gc;
mod hedge;
mod load;
mod order;
mod probe;
mod routing;
mod sampled;
mod server;
mod settled;
pub mod workflow;

pub(in crate::model) use load::Warmth;
pub(in crate::model) use probe::ReplicaProbes;

use std::collections::VecDeque;

use hdrhistogram::Histogram;
use rand::RngExt as _;

use super::availability::Availability;
pub use super::counts::{DefenceCounts, EdgeCounts};
use super::event::Event;
pub use super::event::TimerKind;
use super::fault::Faults;
pub use super::result::TrafficResult;
use super::slab::{Key, Slab};
use super::trace::{Subject, Trace};
use super::world::World;
use crate::engine::{EventQueue, Nanos};
use crate::random::{self, Purpose, Rng};
use crate::resilience::bulkhead::Bulkhead;
use crate::resilience::circuit_breaker::{CircuitBreaker, Permit};
use crate::resilience::deadline::Deadline;
use crate::resilience::retry::RetryBudget;
use crate::scenario::Arrival;

/// Who waits for a call's result.
#[derive(Debug, Clone, Copy)]
enum Parent {
    Root,
    Job { job: Key },
    Saga { saga: Key },
}

/// What a finished call hands its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallResult {
    Success { degraded: bool },
    Failed,
}

struct Call {
    edge: u32,
    parent: Parent,
    deadline: Deadline,
    attempts: u32,
    prev_delay: Nanos,
    permit: Option<Permit>,
    holds_bulkhead: bool,
    queued: bool,
    epoch: u32,
    attempt_start: Nanos,
    job: Option<Key>,
    started: Nanos,
    /// Low priority (inherited from the workload that started the request).
    low: bool,
    /// The replica the current attempt went to ([`NO_REPLICA`] before one
    /// is chosen).
    replica: u32,
    /// Hedging and retry-concurrency bits ([`hedge`]'s constants); the
    /// hedge copy itself is in its edge's [`hedge::EdgeExtras`], so that
    /// calls on other edges carry one byte for it.
    extras: u8,
}

/// Timers of one kind on one edge, in due order, behind at most one heap
/// event for the head.
#[derive(Default)]
struct TimerFifo {
    /// `(due, call, attempt epoch)`.
    due: VecDeque<(Nanos, Key, u32)>,
    /// Whether an [`Event::EdgeTimers`] for this FIFO is pending.
    armed: bool,
}

/// No replica chosen yet.
const NO_REPLICA: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobState {
    /// Created, not yet queued or started.
    Arriving,
    Queued,
    Serving,
    Calling,
}

struct Job {
    call: Key,
    call_epoch: u32,
    service: u32,
    replica: u32,
    deadline: Deadline,
    state: JobState,
    next_call: u16,
    pending: u16,
    failed: bool,
    degraded: bool,
    low: bool,
    /// When it joined the FIFO.
    queued_at: Nanos,
}

#[derive(Default)]
struct Server {
    busy: u32,
    waiting: u32,
    queue: VecDeque<Key>,
}

#[derive(Clone, Copy)]
struct Health {
    /// The balancer sends it traffic: probes pass and it is not ejected.
    healthy: bool,
    /// The last health-check verdict.
    probe_ok: bool,
    /// Ejected by outlier detection.
    ejected: bool,
    /// An autoscaler's slot that is not in service (parked, provisioning
    /// or draining): never routed to.
    out: bool,
    fails: u32,
    oks: u32,
}

/// Buckets in a trial's timeline.
pub const TIMELINE_BUCKETS: usize = 60;

/// The request-level state of a trial, reused across trials.
pub struct Traffic {
    calls: Slab<Call>,
    jobs: Slab<Job>,
    servers: Vec<Server>,
    health: Vec<Health>,
    /// Per group: replicas the balancer currently thinks unhealthy.
    unhealthy: Vec<u32>,
    cursor: Vec<u32>,
    breakers: Vec<Option<CircuitBreaker>>,
    bulkheads: Vec<Option<Bulkhead>>,
    budgets: Vec<Option<RetryBudget>>,
    arrival_rng: Vec<Rng>,
    service_rng: Vec<Rng>,
    route_rng: Vec<Rng>,
    jitter_rng: Vec<Rng>,
    /// Per edge, per [`TimerKind`]: timers in due order (see
    /// [`Requests::arm_timer`]).
    timers: Vec<[TimerFifo; 2]>,
    /// Per edge: the cumulative (calls, attempts, breaker open seconds) at
    /// the last timeline tick.
    marks: Vec<[f64; 3]>,
    /// Per service: the cumulative (concluded, succeeded) at the last tick.
    service_marks: Vec<[u64; 2]>,
    /// Per replica: its rate limiter.
    limiters: Vec<Option<crate::resilience::rate_limit::RateLimiter>>,
    /// Per replica: failed attempts in a row (outlier detection).
    consecutive: Vec<u32>,
    /// The timeline bucket of the current time.
    clock: BucketClock,
    /// Latency of concluded requests, microseconds.
    pub latency: Histogram<u64>,
    /// Latency of served requests (full successes and degraded ones),
    /// microseconds.
    pub served_latency: Histogram<u64>,
    /// Counters.
    pub result: TrafficResult,
    sagas: workflow::Sagas,
    /// Requests and served requests per bucket, when the world has SLO
    /// windows or alert rules.
    pub series: Option<super::slo::RequestSeries>,
    /// Per edge: hedging, the retry budget by concurrency and bulkhead
    /// books.
    extras: Vec<hedge::EdgeExtras>,
    /// Request probes, restarts and interval outlier detection.
    probe: probe::ProbeState,
    /// Warm-ups after restarts and cache draws.
    load: load::LoadState,
    /// Autoscalers (empty without them).
    scale: autoscale::ScaleState,
}

impl Traffic {
    /// Replica `r`'s (busy slots, queued jobs).
    pub(super) fn load_of(&self, r: usize) -> (u32, u32) {
        self.servers.get(r).map_or((0, 0), |s| (s.busy, s.waiting))
    }

    /// Per edge: its breaker's state (`None`: no breaker).
    pub(super) fn breaker_states(&self, now: Nanos) -> Vec<Option<crate::resilience::circuit_breaker::BreakerState>> {
        self.breakers.iter().map(|b| b.as_ref().map(|b| b.state(now))).collect()
    }

    /// Per edge: how many times its breaker has opened so far.
    pub(super) fn breakers_opened(&self) -> Vec<u64> {
        self.breakers
            .iter()
            .map(|b| b.as_ref().map_or(0, CircuitBreaker::times_opened))
            .collect()
    }
}

/// When timeline bucket `b` ends.
fn bucket_end(b: usize, horizon: Nanos) -> Nanos {
    (u128::from(horizon) * (b as u128 + 1) / TIMELINE_BUCKETS as u128) as Nanos
}

/// The timeline bucket of time `t` (the definition [`BucketClock`]
/// follows).
#[cfg(test)]
fn bucket(t: Nanos, horizon: Nanos) -> usize {
    ((u128::from(t) * TIMELINE_BUCKETS as u128 / u128::from(horizon.max(1))) as usize).min(TIMELINE_BUCKETS - 1)
}

/// [`bucket`] for times that never go back (the clock of one trial),
/// without a 128-bit division per request: it remembers where the current
/// bucket ends.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct BucketClock {
    current: usize,
    /// The first time in bucket `current + 1`.
    next: Nanos,
    horizon: Nanos,
}

impl BucketClock {
    pub(super) fn new(horizon: Nanos) -> Self {
        let mut clock = Self {
            current: 0,
            next: 0,
            horizon,
        };
        clock.next = clock.start(1);
        clock
    }

    /// The first time `t` with `bucket(t) >= b`: `ceil(b * horizon / 60)`.
    fn start(&self, b: usize) -> Nanos {
        let h = u128::from(self.horizon.max(1));
        (b as u128 * h)
            .div_ceil(TIMELINE_BUCKETS as u128)
            .min(u128::from(Nanos::MAX)) as Nanos
    }

    /// `bucket(t, horizon)`, for `t` at or after every earlier call's.
    #[inline]
    pub(super) fn at(&mut self, t: Nanos) -> usize {
        while t >= self.next && self.current < TIMELINE_BUCKETS - 1 {
            self.current += 1;
            self.next = self.start(self.current + 1);
        }
        self.current
    }
}

impl Traffic {
    /// Empty state for a world.
    pub fn new() -> Self {
        Self {
            calls: Slab::default(),
            jobs: Slab::default(),
            servers: Vec::new(),
            health: Vec::new(),
            unhealthy: Vec::new(),
            cursor: Vec::new(),
            breakers: Vec::new(),
            bulkheads: Vec::new(),
            budgets: Vec::new(),
            arrival_rng: Vec::new(),
            service_rng: Vec::new(),
            route_rng: Vec::new(),
            jitter_rng: Vec::new(),
            timers: Vec::new(),
            marks: Vec::new(),
            service_marks: Vec::new(),
            limiters: Vec::new(),
            consecutive: Vec::new(),
            clock: BucketClock::default(),
            latency: Histogram::new(3).expect("3 significant digits is valid"),
            served_latency: Histogram::new(3).expect("3 significant digits is valid"),
            result: TrafficResult::default(),
            sagas: workflow::Sagas::default(),
            series: None,
            extras: Vec::new(),
            probe: probe::ProbeState::default(),
            load: load::LoadState::default(),
            scale: autoscale::ScaleState::default(),
        }
    }
}

impl Traffic {
    /// Calls and jobs alive: what `limits.in_flight` bounds.
    #[inline]
    pub(super) fn in_flight(&self) -> u64 {
        (self.calls.len() + self.jobs.len()) as u64
    }

    /// Whether some edge's breaker is open at `now`: rejecting every call
    /// until its open period ends, in a cycle whose phase the next change
    /// meets.
    pub(super) fn breaker_open(&self, now: Nanos) -> bool {
        self.breakers
            .iter()
            .flatten()
            .any(|b| b.state(now) == crate::resilience::circuit_breaker::BreakerState::Open)
    }

    /// The edge of a live call.
    pub(super) fn call_edge(&self, call: Key) -> Option<usize> {
        self.calls.get(call).map(|c| c.edge as usize)
    }

    /// The service of a live job.
    pub(super) fn job_service(&self, job: Key) -> Option<usize> {
        self.jobs.get(job).map(|j| j.service as usize)
    }

    /// Jobs waiting in each replica's queue.
    pub(super) fn waiting(&self) -> impl Iterator<Item = u32> + '_ {
        self.servers.iter().map(|s| s.waiting)
    }
}

impl Traffic {
    /// Empty slabs and queues, every replica healthy.
    fn reset_servers(&mut self, w: &World) {
        self.calls.clear();
        self.jobs.clear();
        self.servers.resize_with(w.replicas.len(), Server::default);
        for s in &mut self.servers {
            s.busy = 0;
            s.waiting = 0;
            s.queue.clear();
        }
        self.health.clear();
        self.health.resize(
            w.replicas.len(),
            Health {
                healthy: true,
                probe_ok: true,
                ejected: false,
                out: false,
                fails: 0,
                oks: 0,
            },
        );
        self.consecutive.clear();
        self.consecutive.resize(w.replicas.len(), 0);
        self.cursor.clear();
        self.cursor.resize(w.groups.len(), 0);
        self.unhealthy.clear();
        self.unhealthy.resize(w.groups.len(), 0);
    }

    /// Fresh policies (rate limiters, breakers, bulkheads, retry budgets:
    /// clones of the ones validation built) and each edge's jitter stream
    /// and timer FIFOs.
    fn reset_policies(&mut self, w: &World, seed: u64, trial: u64) {
        self.limiters.clear();
        self.limiters.extend(
            w.replicas
                .iter()
                .map(|r| w.services[r.service].serve.defence.rate_limiter.clone()),
        );
        self.breakers.clear();
        self.bulkheads.clear();
        self.budgets.clear();
        self.extras.clear();
        self.jitter_rng.clear();
        for (i, e) in w.edges.iter().enumerate() {
            let p = &e.policy.objects;
            self.breakers.push(p.breaker.clone());
            self.bulkheads.push(p.bulkhead.clone());
            self.budgets.push(p.budget.clone());
            self.extras.push(hedge::EdgeExtras::of(p));
            self.jitter_rng
                .push(random::stream(seed, trial, Purpose::Jitter, i as u64));
        }
        self.timers.resize_with(w.edges.len(), Default::default);
        for fifo in self.timers.iter_mut().flatten() {
            fifo.due.clear();
            fifo.armed = false;
        }
    }

    /// The arrival, service-time and routing streams of trial `trial`.
    fn reset_streams(&mut self, w: &World, seed: u64, trial: u64) {
        self.arrival_rng.clear();
        self.arrival_rng
            .extend((0..w.workloads.len()).map(|i| random::stream(seed, trial, Purpose::Arrival, i as u64)));
        self.service_rng.clear();
        self.service_rng.extend(
            w.replicas
                .iter()
                .map(|r| random::stream(seed, trial, Purpose::Service, r.stream)),
        );
        self.route_rng.clear();
        self.route_rng
            .extend((0..w.services.len()).map(|i| random::stream(seed, trial, Purpose::Routing, i as u64)));
    }

    /// Zero counters, timelines and marks.
    fn reset_results(&mut self, w: &World) {
        self.latency.reset();
        self.served_latency.reset();
        self.clock = BucketClock::new(w.horizon);
        self.result = TrafficResult {
            services: vec![(0, 0); w.services.len()],
            edges: vec![EdgeCounts::default(); w.edges.len()],
            defence: vec![DefenceCounts::default(); w.services.len()],
            service_failed: vec![0; w.services.len()],
            timeline: vec![[0; 4]; TIMELINE_BUCKETS],
            edge_timeline: vec![[0.0; 3]; w.edges.len() * TIMELINE_BUCKETS],
            service_timeline: vec![[0.0; 3]; w.services.len() * TIMELINE_BUCKETS],
            ..TrafficResult::default()
        };
        self.marks.clear();
        self.marks.resize(w.edges.len(), [0.0; 3]);
        self.service_marks.clear();
        self.service_marks.resize(w.services.len(), [0, 0]);
        match (&w.slo, &mut self.series) {
            (None, _) => self.series = None,
            (Some(_), Some(s)) => s.clear(),
            (Some(spec), None) => self.series = Some(super::slo::RequestSeries::new(spec.bucket, w.horizon)),
        }
    }
}

impl Default for Traffic {
    fn default() -> Self {
        Self::new()
    }
}

/// A request handler's view of the trial: the request component's own
/// state, what it reads of the others (the world, the availability state)
/// and the fault component it reports to (defensive reactions, outcomes
/// seen, delays drawn from the faults' streams). The trial lends it for
/// one event; nothing else of the trial is in reach.
pub struct Requests<'a> {
    world: &'a World,
    queue: &'a mut EventQueue<Event>,
    trace: &'a mut Option<Box<Trace>>,
    traffic: &'a mut Traffic,
    availability: &'a Availability,
    faults: &'a mut Faults,
}

impl<'a> Requests<'a> {
    /// The view of a trial's request component.
    #[inline(always)]
    pub(super) fn new(
        world: &'a World,
        queue: &'a mut EventQueue<Event>,
        trace: &'a mut Option<Box<Trace>>,
        traffic: &'a mut Traffic,
        availability: &'a Availability,
        faults: &'a mut Faults,
    ) -> Self {
        Self {
            world,
            queue,
            trace,
            traffic,
            availability,
            faults,
        }
    }

    fn record(&mut self, t: Nanos, kind: &'static str, subject: Subject) {
        if let Some(tr) = &mut self.trace {
            tr.record(t, kind, subject);
        }
    }

    fn trace_health(&mut self, r: usize, now: Nanos, healthy: bool) {
        let kind = if healthy { "healthy" } else { "unhealthy" };
        self.record(now, kind, Subject::Replica(r));
    }
}

impl Requests<'_> {
    /// Resets the request state for trial `trial` and schedules the first
    /// arrivals and health checks.
    pub(in crate::model) fn reset_traffic(&mut self, seed: u64, trial: u64) {
        self.start_traffic(seed, trial, 0);
    }

    /// Resets the request state for trial `trial` and starts it at `from`:
    /// the first arrivals and health checks after it, the timeline from its
    /// bucket on.
    pub(in crate::model) fn start_traffic(&mut self, seed: u64, trial: u64, from: Nanos) {
        let w = self.world;
        let t = &mut self.traffic;
        t.reset_servers(w);
        t.reset_policies(w, seed, trial);
        t.reset_streams(w, seed, trial);
        t.reset_results(w);
        t.load.reset(w, seed, trial);
        self.faults.reset_overlay(w);
        self.reset_sagas();
        let b = self.traffic.clock.at(from);
        self.queue.schedule(bucket_end(b, w.horizon), Event::Tick(b as u32));
        for i in 0..w.workloads.len() {
            self.schedule_arrival(i, from);
        }
        for (g, spec) in w.groups.iter().enumerate() {
            let interval = w.services[spec.service].serve.health_check.interval;
            let stream = ((spec.service as u64) << 20) | spec.slot as u64;
            let offset = random::stream(seed, trial, Purpose::Health, stream).random_range(0..interval);
            self.queue.schedule(from + offset, Event::HealthCheck(g as u32));
        }
        self.start_probes(seed, trial, from);
        self.start_autoscale(seed, trial, from);
        self.start_gc(from);
    }

    /// Copies the breakers' open time into the result at the horizon.
    /// Records each edge's calls, attempts and breaker time in bucket `b`.
    pub(in crate::model) fn on_tick(&mut self, b: usize, now: Nanos) {
        let t = &mut self.traffic;
        for (e, mark) in t.marks.iter_mut().enumerate() {
            let counts = &t.result.edges[e];
            let open = t.breakers[e].as_ref().map_or(0.0, |br| br.open_time(now) as f64 / 1e9);
            let cur = [counts.calls as f64, counts.attempts as f64, open];
            let cell = &mut t.result.edge_timeline[e * TIMELINE_BUCKETS + b];
            for k in 0..3 {
                cell[k] = (cur[k] - mark[k]) as f32;
            }
            *mark = cur;
        }
        for (sv, mark) in t.service_marks.iter_mut().enumerate() {
            let ok = t.result.services[sv].1;
            let done = ok + t.result.service_failed[sv];
            let cell = &mut t.result.service_timeline[sv * TIMELINE_BUCKETS + b];
            cell[0] = (done - mark[0]) as f32;
            cell[1] = (ok - mark[1]) as f32;
            *mark = [done, ok];
        }
        for (r, spec) in self.world.replicas.iter().enumerate() {
            t.result.service_timeline[spec.service * TIMELINE_BUCKETS + b][2] += t.servers[r].waiting as f32;
        }
        if b + 1 < TIMELINE_BUCKETS {
            self.queue
                .schedule(bucket_end(b + 1, self.world.horizon), Event::Tick(b as u32 + 1));
        }
    }

    pub(in crate::model) fn finish_traffic(&mut self, horizon: Nanos) {
        // The last bucket ends at the horizon, where no event runs.
        self.on_tick(TIMELINE_BUCKETS - 1, horizon);
        let t = &mut self.traffic;
        for (i, b) in t.breakers.iter().enumerate() {
            if let Some(b) = b {
                t.result.edges[i].breaker_open_s = b.open_time(horizon) as f64 / 1e9;
            }
        }
        for (i, b) in t.bulkheads.iter().enumerate() {
            if let Some(b) = b {
                t.result.edges[i].bulkhead_peak = b.peak_running();
            }
        }
        for (i, x) in t.extras.iter().enumerate() {
            let counts = &mut t.result.edges[i].client;
            *counts = x.counts;
            if let Some(b) = &t.bulkheads[i] {
                counts.bulkhead_accepted = b.accepted();
                counts.bulkhead_queued = b.queued();
                counts.bulkhead_peak_waiting = b.peak_waiting();
                counts.bulkhead_wait_s = b.total_wait() as f64 / 1e9;
            }
        }
        self.finish_autoscale(horizon);
        let t = &mut self.traffic;
        t.result.entry_attempts = self
            .world
            .workloads
            .iter()
            .map(|wl| t.result.edges[wl.edge].attempts)
            .sum();
        t.result.entry_calls = self
            .world
            .workloads
            .iter()
            .map(|wl| t.result.edges[wl.edge].calls)
            .sum();
    }

    fn schedule_arrival(&mut self, workload: usize, now: Nanos) {
        let spec = &self.world.workloads[workload];
        let rng = &mut self.traffic.arrival_rng[workload];
        let next = match spec.arrival {
            Arrival::Poisson => {
                // Thinning: candidates at the peak rate, each kept with
                // probability rate(t) / peak.
                let mut t = now;
                loop {
                    let gap: f64 = rng.sample::<f64, _>(rand_distr::Exp1) / spec.max_rate;
                    t = t.saturating_add((gap * 1e9) as Nanos).max(t + 1);
                    if !spec.shaped || spec.rate_at(t) >= spec.max_rate * rng.random::<f64>() || t >= self.world.horizon
                    {
                        break t;
                    }
                }
            }
            Arrival::Constant => {
                let rate = spec.rate_at(now).max(spec.rate * 1e-6);
                now + ((1e9 / rate) as Nanos).max(1)
            }
        };
        self.queue.schedule(next, Event::Arrival(workload as u32));
    }

    /// Outlier detection: one more attempt outcome from replica `r`.
    fn observe_outlier(&mut self, r: usize, ok: bool, now: Nanos) {
        let spec = self.world.replicas[r];
        let Some(o) = self.world.services[spec.service].serve.defence.outlier else {
            return;
        };
        if o.detectors.any() {
            self.window_observe(r, ok);
        }
        let t = &mut self.traffic;
        if ok {
            t.consecutive[r] = 0;
            return;
        }
        t.consecutive[r] += 1;
        if t.consecutive[r] < o.consecutive || t.health[r].ejected {
            return;
        }
        self.eject(r, &o, now);
    }

    /// Ejects replica `r` for its ejection time, unless that would put more than
    /// `max_ejected` of its group out; returns whether it did.
    fn eject(&mut self, r: usize, o: &crate::scenario::Outlier, now: Nanos) -> bool {
        let spec = self.world.replicas[r];
        let t = &mut self.traffic;
        let replicas = self.world.groups[spec.group].replicas.clone();
        let ejected = replicas.clone().filter(|&x| t.health[x].ejected).count();
        if (ejected + 1) as f64 > o.max_ejected * replicas.len() as f64 {
            return false;
        }
        t.consecutive[r] = 0;
        t.health[r].ejected = true;
        t.result.defence[spec.service].ejections += 1;
        self.set_eligible(r);
        let out = self.ejection_time(r, o);
        self.queue.schedule(now.saturating_add(out), Event::Uneject(r as u32));
        self.faults.signal(now);
        self.record(now, "ejected", Subject::Replica(r));
        true
    }

    /// An ejected replica's time out is over.
    pub(in crate::model) fn on_uneject(&mut self, r: usize, now: Nanos) {
        self.traffic.health[r].ejected = false;
        self.traffic.consecutive[r] = 0;
        self.set_eligible(r);
        self.record(now, "returned", Subject::Replica(r));
    }

    /// Recomputes whether the balancer may send to replica `r`.
    pub(super) fn set_eligible(&mut self, r: usize) {
        let g = self.world.replicas[r].group;
        let t = &mut self.traffic;
        let h = &mut t.health[r];
        let eligible = h.probe_ok && !h.ejected && !h.out;
        if eligible != h.healthy {
            h.healthy = eligible;
            if eligible {
                t.unhealthy[g] -= 1;
            } else {
                t.unhealthy[g] += 1;
            }
        }
    }

    #[inline]
    pub(in crate::model) fn on_arrival(&mut self, workload: usize, now: Nanos) {
        self.schedule_arrival(workload, now);
        if let Some(wf) = self.world.workloads[workload].workflow {
            self.start_saga(workload, wf, now);
            return;
        }
        let edge = self.world.workloads[workload].edge;
        let deadline = Deadline::after(now, self.world.edges[edge].policy.deadline);
        self.new_call(edge, Parent::Root, deadline, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EventQueue;
    use crate::model::event::Context;

    /// One replica that serves one request at a time and queues two more.
    const ONE_SLOT: &str = r#"horizon = "1h"
[[workload]]
name = "users"
to = "api"
rate = 10
[[service]]
name = "api"
concurrency = 1
queue = 2
service_time = { dist = "fixed", mean = "1s" }
"#;

    /// The request handlers on their own, with the availability and fault
    /// components they read: a full replica sheds, and losing it resets
    /// the job it serves and the ones queued on it.
    #[test]
    fn a_full_replica_sheds_and_a_lost_one_resets_its_jobs() {
        let sc = crate::scenario::parse("t.toml", "t", ONE_SLOT, &[]).expect("a valid scenario");
        let w = World::compile(&sc);
        let mut queue = EventQueue::new();
        let mut trace = None;
        let mut availability = Availability::new(&w);
        let mut cx = Context {
            world: &w,
            queue: &mut queue,
            trace: &mut trace,
            now: 0,
        };
        availability.reset(&mut cx, 1, 0);
        let mut traffic = Traffic::new();
        let mut faults = Faults::default();
        faults.clear(&w, 1, 0);
        let mut requests = Requests::new(&w, &mut queue, &mut trace, &mut traffic, &availability, &mut faults);
        requests.start_traffic(1, 0, 0);
        for _ in 0..3 {
            requests.on_arrival(0, 0);
        }
        assert_eq!(requests.traffic.load_of(0), (1, 2), "one served, two queued");
        requests.on_arrival(0, 0);
        assert_eq!(requests.traffic.load_of(0), (1, 2));
        assert_eq!(requests.traffic.result.defence[0].shed, 1, "the fourth is shed");
        requests.kill_replica_jobs(0, 1);
        assert_eq!(requests.traffic.load_of(0), (0, 0));
        assert_eq!(
            requests.traffic.result.service_failed[0], 4,
            "the shed one and the three reset"
        );
    }

    #[test]
    fn the_bucket_clock_agrees_with_the_formula() {
        for horizon in [1, 7, 59, 60, 61, 1_000, 999_983, 3_600_000_000_000, u64::MAX / 3] {
            let probe = BucketClock::new(horizon);
            // Times on a grid, and on both sides of every bucket edge.
            let step = (horizon / 997).max(1);
            let mut times: Vec<Nanos> = (0..=1_000).map(|k| step.saturating_mul(k)).collect();
            for b in 1..=TIMELINE_BUCKETS {
                let edge = probe.start(b);
                times.extend([edge.saturating_sub(1), edge, edge.saturating_add(1)]);
            }
            times.sort_unstable();
            let mut clock = BucketClock::new(horizon);
            for t in times {
                assert_eq!(clock.at(t), bucket(t, horizon), "t = {t}, horizon = {horizon}");
            }
        }
    }
}
