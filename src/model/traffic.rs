//! Requests: workloads, the client policies on every call, and replicas that
//! queue and serve them. Runs inside the same trial (and event queue) as the
//! failure processes of [`super::trial`], so time-based and request-based
//! availability come out of one run.
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
//! replica, `busy <= concurrency`, `waiting <= queue`, and `active` lists
//! exactly the jobs holding a slot. The FIFO may also hold keys of jobs
//! cancelled while waiting (removal is lazy, so cancelling is O(1)); they
//! are skipped when popped and are not counted in `waiting`.

use std::collections::VecDeque;

use hdrhistogram::Histogram;
use rand::RngExt as _;

use super::slab::{Key, Slab};
use super::trial::{Ap, Event, Trial};
use crate::engine::Nanos;
use crate::random::{self, Purpose, Rng};
use crate::resilience::bulkhead::{Admission, Bulkhead};
use crate::resilience::circuit_breaker::{CircuitBreaker, Permit};
use crate::resilience::deadline::Deadline;
use crate::resilience::retry::{RetryBudget, RetryDecision};
use crate::resilience::Outcome;
use crate::scenario::{Arrival, CallMode, GlobalMode, LoadBalancer, Topology};

/// Who waits for a call's result.
#[derive(Debug, Clone, Copy)]
enum Parent {
    Root,
    Job { job: Key },
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
}

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
    slot: u32,
}

#[derive(Default)]
struct Server {
    busy: u32,
    waiting: u32,
    queue: VecDeque<Key>,
    active: Vec<Key>,
}

#[derive(Clone, Copy)]
struct Health {
    healthy: bool,
    fails: u32,
    oks: u32,
}

/// Per-edge counters of one trial.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EdgeCounts {
    /// Original calls (not counting retries).
    pub calls: u64,
    /// Attempts sent to a replica.
    pub attempts: u64,
    /// Retries scheduled.
    pub retries: u64,
    /// Attempts that timed out.
    pub timeouts: u64,
    /// Attempts answered with an error (including resets and refusals).
    pub errors: u64,
    /// Attempts the breaker rejected.
    pub breaker_rejected: u64,
    /// Attempts the bulkhead rejected (full, or queue timeout).
    pub bulkhead_rejected: u64,
    /// Calls that ended in their fallback.
    pub fallbacks: u64,
    /// Calls that failed.
    pub failed: u64,
    /// Calls that succeeded (including degraded).
    pub succeeded: u64,
    /// Time the breaker was open (seconds).
    pub breaker_open_s: f64,
    /// Most calls running at once in the bulkhead.
    pub bulkhead_peak: u32,
}

/// What the requests of one trial measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrafficResult {
    /// Requests concluded (in flight at the horizon are not counted).
    pub requests: u64,
    /// Full successes.
    pub success: u64,
    /// Successes through a fallback.
    pub degraded: u64,
    /// Failures.
    pub failed: u64,
    /// Sum of request latencies (seconds).
    pub latency_sum: f64,
    /// Attempts on the workload edges.
    pub entry_attempts: u64,
    /// Calls started on the workload edges (requests, in flight or not).
    pub entry_calls: u64,
    /// Per service: jobs received and jobs that succeeded.
    pub services: Vec<(u64, u64)>,
    /// Per edge.
    pub edges: Vec<EdgeCounts>,
}

/// The request-level state of a trial, reused across trials.
pub struct Traffic {
    calls: Slab<Call>,
    jobs: Slab<Job>,
    servers: Vec<Server>,
    health: Vec<Health>,
    cursor: Vec<u32>,
    breakers: Vec<Option<CircuitBreaker>>,
    bulkheads: Vec<Option<Bulkhead>>,
    budgets: Vec<Option<RetryBudget>>,
    arrival_rng: Vec<Rng>,
    service_rng: Vec<Rng>,
    route_rng: Vec<Rng>,
    jitter_rng: Vec<Rng>,
    /// Per edge: attempt timeouts in due order (see [`Trial::arm_timeout`]).
    timeouts: Vec<VecDeque<(Nanos, Key, u32)>>,
    /// Per edge: whether an `EdgeTimeouts` event is pending.
    armed: Vec<bool>,
    /// Latency of concluded requests, microseconds.
    pub latency: Histogram<u64>,
    /// Counters.
    pub result: TrafficResult,
}

impl Traffic {
    /// Empty state for a world.
    pub fn new() -> Self {
        Self {
            calls: Slab::default(),
            jobs: Slab::default(),
            servers: Vec::new(),
            health: Vec::new(),
            cursor: Vec::new(),
            breakers: Vec::new(),
            bulkheads: Vec::new(),
            budgets: Vec::new(),
            arrival_rng: Vec::new(),
            service_rng: Vec::new(),
            route_rng: Vec::new(),
            jitter_rng: Vec::new(),
            timeouts: Vec::new(),
            armed: Vec::new(),
            latency: Histogram::new(3).expect("3 significant digits is valid"),
            result: TrafficResult::default(),
        }
    }
}

impl Default for Traffic {
    fn default() -> Self {
        Self::new()
    }
}

impl Trial<'_> {
    /// Resets the request state for trial `trial` and schedules the first
    /// arrivals and health checks.
    pub(super) fn reset_traffic(&mut self, seed: u64, trial: u64) {
        let w = self.w;
        let t = &mut self.traffic;
        t.calls.clear();
        t.jobs.clear();
        t.servers.resize_with(w.replicas.len(), Server::default);
        for s in &mut t.servers {
            s.busy = 0;
            s.waiting = 0;
            s.queue.clear();
            s.active.clear();
        }
        t.health.clear();
        t.health.resize(w.replicas.len(), Health { healthy: true, fails: 0, oks: 0 });
        t.cursor.clear();
        t.cursor.resize(w.groups.len(), 0);
        t.breakers.clear();
        t.bulkheads.clear();
        t.budgets.clear();
        t.jitter_rng.clear();
        for (i, e) in w.edges.iter().enumerate() {
            let p = &e.policy;
            t.breakers.push(p.breaker.clone().map(|c| CircuitBreaker::new(c).expect("validated")));
            t.bulkheads.push(p.bulkhead.clone().map(|c| Bulkhead::new(c).expect("validated")));
            let budget = p.retry.as_ref().and_then(|r| r.budget.clone());
            t.budgets.push(budget.map(|b| RetryBudget::new(b).expect("validated")));
            t.jitter_rng.push(random::stream(seed, trial, Purpose::Jitter, i as u64));
        }
        t.timeouts.resize_with(w.edges.len(), VecDeque::new);
        t.timeouts.iter_mut().for_each(VecDeque::clear);
        t.armed.clear();
        t.armed.resize(w.edges.len(), false);
        t.arrival_rng.clear();
        t.arrival_rng.extend((0..w.workloads.len()).map(|i| random::stream(seed, trial, Purpose::Arrival, i as u64)));
        t.service_rng.clear();
        t.service_rng
            .extend(w.replicas.iter().map(|r| random::stream(seed, trial, Purpose::Service, r.stream)));
        t.route_rng.clear();
        t.route_rng.extend((0..w.services.len()).map(|i| random::stream(seed, trial, Purpose::Routing, i as u64)));
        t.latency.reset();
        t.result = TrafficResult {
            services: vec![(0, 0); w.services.len()],
            edges: vec![EdgeCounts::default(); w.edges.len()],
            ..TrafficResult::default()
        };
        for i in 0..w.workloads.len() {
            self.schedule_arrival(i, 0);
        }
        for (g, spec) in w.groups.iter().enumerate() {
            let interval = w.services[spec.service].serve.health_check.interval;
            let stream = ((spec.service as u64) << 20) | spec.slot as u64;
            let offset = random::stream(seed, trial, Purpose::Health, stream).random_range(0..interval);
            self.queue.schedule(offset, Event::HealthCheck(g as u32));
        }
    }

    /// Copies the breakers' open time into the result at the horizon.
    pub(super) fn finish_traffic(&mut self, horizon: Nanos) {
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
        t.result.entry_attempts = self.w.workloads.iter().map(|wl| t.result.edges[wl.edge].attempts).sum();
        t.result.entry_calls = self.w.workloads.iter().map(|wl| t.result.edges[wl.edge].calls).sum();
    }

    fn schedule_arrival(&mut self, workload: usize, now: Nanos) {
        let spec = &self.w.workloads[workload];
        let rng = &mut self.traffic.arrival_rng[workload];
        let next = match spec.arrival {
            Arrival::Poisson => {
                // Thinning: candidates at the peak rate, each kept with
                // probability rate(t) / peak.
                let mut t = now;
                loop {
                    let gap: f64 = -rng.random::<f64>().ln_1p_neg() / spec.max_rate;
                    t = t.saturating_add((gap * 1e9) as Nanos).max(t + 1);
                    if spec.rate_at(t) >= spec.max_rate * rng.random::<f64>() || t >= self.w.horizon {
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

    pub(super) fn on_arrival(&mut self, workload: usize, now: Nanos) {
        self.schedule_arrival(workload, now);
        let edge = self.w.workloads[workload].edge;
        let deadline = Deadline::after(now, self.w.edges[edge].policy.deadline);
        self.new_call(edge, Parent::Root, deadline, now);
    }

    fn new_call(&mut self, edge: usize, parent: Parent, inherited: Deadline, now: Nanos) {
        let deadline = inherited.min(Deadline::after(now, self.w.edges[edge].policy.deadline));
        let t = &mut self.traffic;
        if let Some(b) = &mut t.budgets[edge] {
            b.on_request();
        }
        t.result.edges[edge].calls += 1;
        let call = t.calls.insert(Call {
            edge: edge as u32,
            parent,
            deadline,
            attempts: 0,
            prev_delay: 0,
            permit: None,
            holds_bulkhead: false,
            queued: false,
            epoch: 0,
            attempt_start: now,
            job: None,
            started: now,
        });
        self.start_attempt(call, now);
    }

    /// Deadline, breaker, bulkhead, then send.
    pub(super) fn start_attempt(&mut self, call: Key, now: Nanos) {
        let t = &mut self.traffic;
        let Some(c) = t.calls.get_mut(call) else { return };
        let edge = c.edge as usize;
        if c.deadline.expired(now) {
            self.give_up(call, Outcome::Timeout, now);
            return;
        }
        c.attempts += 1;
        if let Some(b) = &mut t.breakers[edge] {
            match b.try_acquire(now) {
                Some(p) => c.permit = Some(p),
                None => {
                    t.result.edges[edge].breaker_rejected += 1;
                    self.attempt_done(call, Outcome::BreakerOpen, false, now);
                    return;
                }
            }
        }
        if let Some(b) = &mut t.bulkheads[edge] {
            match b.try_enter(now, call.id()) {
                Admission::Run => c.holds_bulkhead = true,
                Admission::Queued => {
                    c.queued = true;
                    if let Some(limit) = b.queue_timeout() {
                        let epoch = c.epoch;
                        self.queue.schedule(now + limit, Event::QueueTimeout { call, epoch });
                    }
                    return;
                }
                Admission::Rejected => {
                    t.result.edges[edge].bulkhead_rejected += 1;
                    if let (Some(p), Some(br)) = (c.permit.take(), &mut t.breakers[edge]) {
                        br.release(p);
                    }
                    self.attempt_done(call, Outcome::BulkheadFull, false, now);
                    return;
                }
            }
        }
        self.send(call, now);
    }

    /// A call waiting in a bulkhead was admitted.
    pub(super) fn on_bulkhead_admit(&mut self, call: Key, now: Nanos) {
        if let Some(c) = self.traffic.calls.get_mut(call) {
            c.queued = false;
            c.holds_bulkhead = true;
            self.send(call, now);
        }
    }

    pub(super) fn on_queue_timeout(&mut self, call: Key, epoch: u32, now: Nanos) {
        let t = &mut self.traffic;
        let Some(c) = t.calls.get_mut(call) else { return };
        if c.epoch != epoch || !c.queued {
            return;
        }
        let edge = c.edge as usize;
        if let Some(b) = &mut t.bulkheads[edge]
            && b.abandon(call.id())
        {
            c.queued = false;
            t.result.edges[edge].bulkhead_rejected += 1;
            if let (Some(p), Some(br)) = (c.permit.take(), &mut t.breakers[edge]) {
                br.release(p);
            }
            self.attempt_done(call, Outcome::BulkheadFull, false, now);
        }
    }

    fn send(&mut self, call: Key, now: Nanos) {
        let t = &mut self.traffic;
        let c = t.calls.get_mut(call).expect("send is called on a live call");
        let edge = c.edge as usize;
        let spec = &self.w.edges[edge];
        t.result.edges[edge].attempts += 1;
        c.attempt_start = now;
        let limit = c.deadline.attempt_timeout(now, spec.policy.timeout);
        let deadline = c.deadline;
        let epoch = c.epoch;
        if let Some(limit) = limit {
            self.arm_timeout(edge, now + limit, call, epoch);
        }
        match self.route(spec.to) {
            Some(r) if self.reachable(r) => {
                let job = self.traffic.jobs.insert(Job {
                    call,
                    call_epoch: epoch,
                    service: spec.to as u32,
                    replica: r as u32,
                    deadline,
                    state: JobState::Arriving,
                    next_call: 0,
                    pending: 0,
                    failed: false,
                    degraded: false,
                    slot: 0,
                });
                self.traffic.calls.get_mut(call).expect("live").job = Some(job);
                self.traffic.result.services[spec.to].0 += 1;
                self.arrive(job, now);
            }
            // No endpoint, or a dead one: the connection is refused at once.
            _ => self.attempt_done(call, Outcome::Refused, false, now),
        }
    }

    /// Schedules an attempt's timeout.
    ///
    /// Nearly every timeout is overtaken by its answer, so pushing each one
    /// on the event heap would make the heap mostly dead timers. An edge's
    /// timeouts are almost always due in the order they were armed (same
    /// duration), so they wait in a per-edge FIFO with a single event on the
    /// heap for its head; answered ones are dropped when they reach the head.
    /// A timeout shortened by a deadline, out of order, goes on the heap.
    fn arm_timeout(&mut self, edge: usize, due: Nanos, call: Key, epoch: u32) {
        let fifo = &mut self.traffic.timeouts[edge];
        if fifo.back().is_some_and(|b| b.0 > due) {
            self.queue.schedule(due, Event::AttemptTimeout { call, epoch });
            return;
        }
        fifo.push_back((due, call, epoch));
        if !self.traffic.armed[edge] {
            self.traffic.armed[edge] = true;
            self.queue.schedule(due, Event::EdgeTimeouts(edge as u32));
        }
    }

    pub(super) fn on_edge_timeouts(&mut self, edge: usize, now: Nanos) {
        self.traffic.armed[edge] = false;
        while let Some(&(due, call, epoch)) = self.traffic.timeouts[edge].front() {
            let live = self.traffic.calls.get(call).is_some_and(|c| c.epoch == epoch && !c.queued);
            if live && due > now {
                if !self.traffic.armed[edge] {
                    self.traffic.armed[edge] = true;
                    self.queue.schedule(due, Event::EdgeTimeouts(edge as u32));
                }
                return;
            }
            self.traffic.timeouts[edge].pop_front();
            if live {
                self.on_attempt_timeout(call, epoch, now);
            }
        }
    }

    pub(super) fn on_attempt_timeout(&mut self, call: Key, epoch: u32, now: Nanos) {
        let t = &mut self.traffic;
        let Some(c) = t.calls.get_mut(call) else { return };
        if c.epoch != epoch || c.queued {
            return;
        }
        let edge = c.edge as usize;
        t.result.edges[edge].timeouts += 1;
        let job = c.job.take();
        if self.w.edges[edge].policy.cancel_on_timeout
            && let Some(job) = job
        {
            self.cancel_job(job, now);
        }
        self.attempt_done(call, Outcome::Timeout, false, now);
    }

    /// One attempt is over: free its bulkhead slot, tell the breaker, then
    /// succeed, retry or give up.
    fn attempt_done(&mut self, call: Key, outcome: Outcome, degraded: bool, now: Nanos) {
        let t = &mut self.traffic;
        let Some(c) = t.calls.get_mut(call) else { return };
        let edge = c.edge as usize;
        c.epoch = c.epoch.wrapping_add(1);
        c.job = None;
        if c.holds_bulkhead {
            c.holds_bulkhead = false;
            if let Some(next) = t.bulkheads[edge].as_mut().and_then(|b| b.leave(now)) {
                self.queue.schedule(now, Event::BulkheadAdmit(Key::from_id(next)));
            }
        }
        if let (Some(p), Some(b)) = (c.permit.take(), &mut t.breakers[edge]) {
            b.record(p, now, outcome.is_success(), now - c.attempt_start);
        }
        if outcome.is_success() {
            self.finish_call(call, CallResult::Success { degraded }, now);
            return;
        }
        if matches!(outcome, Outcome::Error | Outcome::Refused | Outcome::Shed) {
            t.result.edges[edge].errors += 1;
        }
        if let Some(policy) = &self.w.edges[edge].retry {
            let decision =
                policy.decide(c.attempts, outcome, now, c.deadline.get(), c.prev_delay, &mut t.jitter_rng[edge]);
            if let RetryDecision::Retry { after } = decision
                && t.budgets[edge].as_mut().is_none_or(RetryBudget::try_withdraw)
            {
                c.prev_delay = after;
                t.result.edges[edge].retries += 1;
                self.queue.schedule(now + after, Event::Retry(call));
                return;
            }
        }
        self.give_up(call, outcome, now);
    }

    fn give_up(&mut self, call: Key, _outcome: Outcome, now: Nanos) {
        let edge = self.traffic.calls.get(call).expect("live").edge as usize;
        if self.w.edges[edge].policy.fallback {
            self.traffic.result.edges[edge].fallbacks += 1;
            self.finish_call(call, CallResult::Success { degraded: true }, now);
        } else {
            self.finish_call(call, CallResult::Failed, now);
        }
    }

    fn finish_call(&mut self, call: Key, result: CallResult, now: Nanos) {
        let t = &mut self.traffic;
        let c = t.calls.remove(call).expect("live");
        let counts = &mut t.result.edges[c.edge as usize];
        match result {
            CallResult::Failed => counts.failed += 1,
            CallResult::Success { .. } => counts.succeeded += 1,
        }
        match c.parent {
            Parent::Root => {
                let r = &mut t.result;
                r.requests += 1;
                match result {
                    CallResult::Success { degraded: false } => r.success += 1,
                    CallResult::Success { degraded: true } => r.degraded += 1,
                    CallResult::Failed => r.failed += 1,
                }
                let latency = now - c.started;
                r.latency_sum += latency as f64 / 1e9;
                let _ = t.latency.record((latency / 1000).max(1));
            }
            Parent::Job { job } => self.job_call_done(job, result, now),
        }
    }

    // ---- server side -------------------------------------------------

    fn arrive(&mut self, job: Key, now: Nanos) {
        let j = self.traffic.jobs.get(job).expect("new job");
        let (service, replica) = (j.service as usize, j.replica as usize);
        let serve = &self.w.services[service].serve;
        let server = &mut self.traffic.servers[replica];
        if serve.concurrency.is_none_or(|c| server.busy < c) {
            self.start_job(job, now);
        } else if serve.queue.is_none_or(|q| server.waiting < q) {
            server.waiting += 1;
            server.queue.push_back(job);
            self.traffic.jobs.get_mut(job).expect("new job").state = JobState::Queued;
        } else {
            self.complete_job(job, Outcome::Shed, now);
        }
    }

    fn start_job(&mut self, job: Key, now: Nanos) {
        let t = &mut self.traffic;
        let j = t.jobs.get_mut(job).expect("live job");
        let (service, replica) = (j.service as usize, j.replica as usize);
        let server = &mut t.servers[replica];
        server.busy += 1;
        j.slot = server.active.len() as u32;
        server.active.push(job);
        j.state = JobState::Serving;
        let st = self.w.services[service].serve.service_time.as_ref().expect("validated: reached services have one");
        let d = st.sample(&mut t.service_rng[replica]);
        self.queue.schedule(now + d, Event::ServiceDone(job));
    }

    pub(super) fn on_service_done(&mut self, job: Key, now: Nanos) {
        let t = &mut self.traffic;
        let Some(j) = t.jobs.get_mut(job) else { return };
        if j.state != JobState::Serving {
            return;
        }
        let (service, replica) = (j.service as usize, j.replica as usize);
        let serve = &self.w.services[service].serve;
        if serve.error_rate > 0.0 && t.service_rng[replica].random::<f64>() < serve.error_rate {
            self.complete_job(job, Outcome::Error, now);
            return;
        }
        let n = serve.calls.len();
        if n == 0 {
            self.complete_job(job, Outcome::Success, now);
            return;
        }
        j.state = JobState::Calling;
        let deadline = j.deadline;
        match serve.call_mode {
            CallMode::Sequential => {
                j.next_call = 1;
                self.new_call(serve.calls[0], Parent::Job { job }, deadline, now);
            }
            CallMode::Parallel => {
                j.pending = n as u16;
                for &edge in &serve.calls {
                    if self.traffic.jobs.get(job).is_none() {
                        break;
                    }
                    self.new_call(edge, Parent::Job { job }, deadline, now);
                }
            }
        }
    }

    fn job_call_done(&mut self, job: Key, result: CallResult, now: Nanos) {
        let Some(j) = self.traffic.jobs.get_mut(job) else { return };
        match result {
            CallResult::Failed => j.failed = true,
            CallResult::Success { degraded } => j.degraded |= degraded,
        }
        let serve = &self.w.services[j.service as usize].serve;
        match serve.call_mode {
            CallMode::Sequential => {
                let next = j.next_call as usize;
                if j.failed || next == serve.calls.len() {
                    let outcome = if j.failed { Outcome::Error } else { Outcome::Success };
                    self.complete_job(job, outcome, now);
                } else {
                    j.next_call += 1;
                    let deadline = j.deadline;
                    self.new_call(serve.calls[next], Parent::Job { job }, deadline, now);
                }
            }
            CallMode::Parallel => {
                j.pending -= 1;
                if j.pending == 0 {
                    let outcome = if j.failed { Outcome::Error } else { Outcome::Success };
                    self.complete_job(job, outcome, now);
                }
            }
        }
    }

    /// Frees the job's slot (admitting the next queued job) and answers.
    fn complete_job(&mut self, job: Key, outcome: Outcome, now: Nanos) {
        let j = self.release_job(job, now);
        if outcome == Outcome::Success {
            self.traffic.result.services[j.service as usize].1 += 1;
        }
        self.respond(&j, outcome, now);
    }

    /// Removes a job from its replica, starting the next queued one.
    fn release_job(&mut self, job: Key, now: Nanos) -> Job {
        let t = &mut self.traffic;
        let j = t.jobs.remove(job).expect("live job");
        let server = &mut t.servers[j.replica as usize];
        match j.state {
            JobState::Arriving => {}
            // Its key stays in the FIFO and is skipped when popped.
            JobState::Queued => server.waiting -= 1,
            JobState::Serving | JobState::Calling => {
                server.busy -= 1;
                let slot = j.slot as usize;
                server.active.swap_remove(slot);
                if let Some(&moved) = server.active.get(slot) {
                    t.jobs.get_mut(moved).expect("active jobs are live").slot = slot as u32;
                }
                while let Some(next) = server.queue.pop_front() {
                    if t.jobs.get(next).is_some() {
                        server.waiting -= 1;
                        self.start_job(next, now);
                        break;
                    }
                }
            }
        }
        j
    }

    fn respond(&mut self, j: &Job, outcome: Outcome, now: Nanos) {
        let Some(c) = self.traffic.calls.get(j.call) else { return };
        if c.epoch == j.call_epoch {
            self.attempt_done(j.call, outcome, j.degraded && outcome.is_success(), now);
        }
    }

    /// The caller gave up and asked the server to stop.
    fn cancel_job(&mut self, job: Key, now: Nanos) {
        // A job waiting on its own calls is left to finish: its answer is
        // dropped, and cancelling its children would need a cancel chain.
        if self.traffic.jobs.get(job).is_some_and(|j| j.state != JobState::Calling) {
            self.release_job(job, now);
        }
    }

    /// A replica crashed or lost its region: reset every connection to it.
    pub(super) fn kill_replica_jobs(&mut self, replica: usize, now: Nanos) {
        if self.traffic.servers.is_empty() {
            return;
        }
        let server = &mut self.traffic.servers[replica];
        let mut victims: Vec<Key> = server.active.drain(..).collect();
        victims.extend(server.queue.drain(..));
        server.busy = 0;
        server.waiting = 0;
        for job in victims {
            if let Some(j) = self.traffic.jobs.remove(job) {
                self.respond(&j, Outcome::Refused, now);
            }
        }
    }

    // ---- routing ------------------------------------------------------

    /// Whether replica `r` accepts connections.
    fn reachable(&self, r: usize) -> bool {
        let g = self.w.replicas[r].group;
        self.rep[r].up && self.w.groups[g].region.is_none_or(|reg| self.region_up[reg])
    }

    /// The replica a request to service `s` goes to.
    fn route(&mut self, s: usize) -> Option<usize> {
        let spec = &self.w.services[s];
        let group = if !spec.multi_region {
            spec.groups.start
        } else {
            match spec.mode {
                GlobalMode::ActiveActive => {
                    let routed = spec.groups.clone().filter(|&g| self.grp[g].routed).count();
                    if routed == 0 {
                        return None;
                    }
                    let k = self.traffic.route_rng[s].random_range(0..routed);
                    spec.groups.clone().filter(|&g| self.grp[g].routed).nth(k)?
                }
                GlobalMode::ActivePassive => self.svc[s].current? as usize,
            }
        };
        let g = &self.w.groups[group];
        if g.topology == Topology::ActivePassive {
            if self.grp[group].ap != Ap::Serving {
                return None;
            }
            return g.replicas.clone().find(|&r| self.rep[r].active);
        }
        self.balance(s, group)
    }

    fn balance(&mut self, s: usize, group: usize) -> Option<usize> {
        let replicas = self.w.groups[group].replicas.clone();
        let t = &mut self.traffic;
        let healthy = replicas.clone().filter(|&r| t.health[r].healthy).count();
        // Panic routing: with nothing healthy, spread over everything.
        let panic = healthy == 0;
        let eligible = |r: usize| panic || t.health[r].healthy;
        let n = if panic { replicas.len() } else { healthy };
        let nth = |k: usize| replicas.clone().filter(|&r| eligible(r)).nth(k);
        let load = |r: usize| t.servers[r].busy + t.servers[r].waiting;
        match self.w.services[s].serve.load_balancer {
            LoadBalancer::RoundRobin => {
                let k = t.cursor[group] as usize % n;
                t.cursor[group] = t.cursor[group].wrapping_add(1);
                nth(k)
            }
            LoadBalancer::Random => {
                let k = t.route_rng[s].random_range(0..n);
                nth(k)
            }
            LoadBalancer::LeastOutstanding => {
                // Ties go round-robin so equal replicas share the load.
                let start = t.cursor[group] as usize % n;
                t.cursor[group] = t.cursor[group].wrapping_add(1);
                (0..n).filter_map(|i| nth((start + i) % n)).min_by_key(|&r| load(r))
            }
            LoadBalancer::PowerOfTwo => {
                let a = t.route_rng[s].random_range(0..n);
                let b = t.route_rng[s].random_range(0..n);
                let (ra, rb) = (nth(a)?, nth(b)?);
                Some(if load(rb) < load(ra) { rb } else { ra })
            }
        }
    }

    pub(super) fn on_health_check(&mut self, group: usize, now: Nanos) {
        let spec = &self.w.groups[group];
        let hc = self.w.services[spec.service].serve.health_check;
        for r in spec.replicas.clone() {
            let ok = self.reachable(r);
            let h = &mut self.traffic.health[r];
            if ok {
                h.oks += 1;
                h.fails = 0;
                if h.oks >= hc.healthy {
                    h.healthy = true;
                }
            } else {
                h.fails += 1;
                h.oks = 0;
                if h.fails >= hc.unhealthy {
                    h.healthy = false;
                }
            }
        }
        self.queue.schedule(now + hc.interval, Event::HealthCheck(group as u32));
    }
}

/// `-ln(1 - u)` for `u` in [0, 1): an exponential draw with mean 1.
trait NegLog {
    fn ln_1p_neg(self) -> f64;
}

impl NegLog for f64 {
    fn ln_1p_neg(self) -> f64 {
        (-self).ln_1p()
    }
}
