//! The client side of a call: deadline, breaker, bulkhead, the attempt and
//! its timeout, retry or give up, then hand the result to the caller.

use super::{Call, CallResult, Job, JobState, Parent, TimerKind};
use super::{Requests, Traffic};
use crate::engine::Nanos;
use crate::model::event::Event;
use crate::model::slab::Key;
use crate::model::trace::Subject;
use crate::resilience::Outcome;
use crate::resilience::bulkhead::Admission;
use crate::resilience::circuit_breaker::{BreakerState, Permit};
use crate::resilience::deadline::Deadline;
use crate::resilience::order::Layer;
use crate::resilience::retry::{RetryBudget, RetryDecision};

impl Traffic {
    /// Per edge, the waits of the last trial's calls let in from its
    /// bulkhead's queue (microseconds); `None` where the edge has none.
    pub fn bulkhead_waits(&self) -> impl ExactSizeIterator<Item = Option<&hdrhistogram::Histogram<u64>>> {
        self.bulkheads.iter().map(|b| b.as_ref().map(|b| b.waits()))
    }

    /// Per edge, the last trial's calls that gave up in its bulkhead's
    /// queue; `None` where none did or the edge has no bulkhead.
    pub fn bulkhead_gave_up(&self) -> impl ExactSizeIterator<Item = Option<&crate::resilience::bulkhead::GaveUp>> {
        self.bulkheads.iter().map(|b| b.as_ref().and_then(|b| b.gave_up()))
    }
}

impl Requests<'_> {
    pub(super) fn new_call(&mut self, edge: usize, parent: Parent, inherited: Deadline, now: Nanos) {
        let inherited = if self.faults.overlay().skew_any > 0 {
            self.skewed(parent, inherited)
        } else {
            inherited
        };
        let deadline = inherited.min(Deadline::after(now, self.world.edges[edge].policy.deadline));
        let low = self.world.low_priority
            && match parent {
                Parent::Root => self.world.workloads.get(edge).is_some_and(|w| w.low_priority),
                Parent::Job { job } => self.traffic.jobs.get(job).is_some_and(|j| j.low),
                Parent::Saga { saga } => self
                    .saga_workload(saga)
                    .is_some_and(|w| self.world.workloads[w].low_priority),
            };
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
            low,
            replica: super::NO_REPLICA,
            extras: 0,
        });
        self.start_attempt(call, now);
    }

    /// Deadline, breaker, bulkhead, then send.
    pub(in crate::model) fn start_attempt(&mut self, call: Key, now: Nanos) {
        let t = &mut self.traffic;
        let Some(c) = t.calls.get_mut(call) else { return };
        let edge = c.edge as usize;
        if let Some(order) = self.world.edges[edge].policy.order {
            // A fresh call enters every layer; a retry those inside the retry.
            let from = if c.attempts == 0 { 0 } else { order.index(Layer::Retry) };
            self.ordered_advance(call, order, from, now);
            return;
        }
        if c.deadline.expired(now) {
            if c.extras & super::hedge::RETRYING != 0 {
                // A granted retry that will not run gives its place back.
                t.extras[edge].attempt_ended(c);
            }
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
                        self.arm_timer(TimerKind::Queue, edge, now + limit, call, epoch);
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
    #[inline]
    pub(in crate::model) fn on_bulkhead_admit(&mut self, call: Key, now: Nanos) {
        if let Some(c) = self.traffic.calls.get_mut(call) {
            if let Some(order) = self.world.edges[c.edge as usize].policy.order {
                // A call that left the queue at the instant it was let in
                // (a timeout around the bulkhead) gave its slot back already.
                if c.queued {
                    c.queued = false;
                    c.holds_bulkhead = true;
                    self.ordered_advance(call, order, order.index(Layer::Bulkhead) + 1, now);
                }
                return;
            }
            c.queued = false;
            c.holds_bulkhead = true;
            self.send(call, now);
        }
    }

    pub(in crate::model) fn on_queue_timeout(&mut self, call: Key, epoch: u32, now: Nanos) {
        let t = &mut self.traffic;
        let Some(c) = t.calls.get_mut(call) else { return };
        if c.epoch != epoch || !c.queued {
            return;
        }
        let edge = c.edge as usize;
        if let Some(b) = &mut t.bulkheads[edge]
            && b.abandon_at(call.id(), now)
        {
            c.queued = false;
            t.result.edges[edge].bulkhead_rejected += 1;
            if let Some(order) = self.world.edges[edge].policy.order {
                self.ordered_failed(call, order, Outcome::BulkheadFull, order.index(Layer::Bulkhead), now);
                return;
            }
            if let (Some(p), Some(br)) = (c.permit.take(), &mut t.breakers[edge]) {
                br.release(p);
            }
            self.attempt_done(call, Outcome::BulkheadFull, false, now);
        }
    }

    pub(super) fn send(&mut self, call: Key, now: Nanos) {
        self.send_with(call, now, true);
    }

    /// Sends the call's attempt; `arm`: arm its timeout (the timeout is the
    /// innermost layer), else a policy order armed it already, or not at all.
    #[inline(always)]
    pub(super) fn send_with(&mut self, call: Key, now: Nanos, arm: bool) {
        let t = &mut self.traffic;
        let c = t.calls.get_mut(call).expect("send is called on a live call");
        let edge = c.edge as usize;
        let spec = &self.world.edges[edge];
        t.result.edges[edge].attempts += 1;
        if spec.from.is_none() {
            t.result.timeline[t.clock.at(now)][3] += 1;
        }
        c.attempt_start = now;
        let limit = c.deadline.attempt_timeout(now, spec.policy.timeout);
        let deadline = c.deadline;
        let epoch = c.epoch;
        if arm && let Some(limit) = limit {
            self.arm_timer(TimerKind::Attempt, edge, now + limit, call, epoch);
        }
        if spec.client_extras {
            self.extras_on_send(call, edge, epoch, now);
        }
        let multi = self.world.services[spec.to].multi_region;
        let faults = self.faults.overlay().link_faults > 0 || self.faults.overlay().hung_any > 0;
        let from_region = if multi || faults {
            self.caller_region(call)
        } else {
            None
        };
        let Some(r) = self.route(spec.to, from_region) else {
            // No endpoint: the connection is refused at once.
            self.attempt_done(call, Outcome::Refused, false, now);
            return;
        };
        let c = self.traffic.calls.get_mut(call).expect("live");
        c.replica = r as u32;
        let low = c.low;
        let mut delay = 0;
        if let Some(latency) = &self.world.cross_region
            && let (Some(a), Some(b)) = (from_region, self.region_of(r))
            && a != b
        {
            delay = latency.sample(&mut self.traffic.route_rng[spec.to]);
        }
        if faults {
            let (cut, d) = self.faults.link_state(self.world, edge, from_region, self.region_of(r));
            if cut || self.hangs(r) {
                // No answer will come: only the timeout ends this attempt.
                return;
            }
            delay += d;
        }
        if !self.reachable(r) {
            // A dead endpoint refuses the connection at once.
            self.attempt_done(call, Outcome::Refused, false, now);
            return;
        }
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
            low,
            queued_at: now,
        });
        self.traffic.calls.get_mut(call).expect("live").job = Some(job);
        self.traffic.result.services[spec.to].0 += 1;
        if delay > 0 {
            self.queue.schedule(now.saturating_add(delay), Event::Deliver(job));
        } else {
            self.arrive(job, now);
        }
    }

    /// The inherited deadline as a caller with a skewed clock reads it: a
    /// clock `s` ahead sees the same instant `s` closer.
    fn skewed(&self, parent: Parent, inherited: Deadline) -> Deadline {
        let (Parent::Job { job }, Some(at)) = (parent, inherited.get()) else {
            return inherited;
        };
        let Some(j) = self.traffic.jobs.get(job) else {
            return inherited;
        };
        let skew = self.faults.overlay().skew[j.replica as usize];
        Deadline::at((at as i64).saturating_sub(skew).max(0) as Nanos)
    }

    /// The region the caller of `call` is in: its workload's clients, or
    /// the replica serving the job that made it.
    pub(super) fn caller_region(&self, call: Key) -> Option<usize> {
        let c = self.traffic.calls.get(call)?;
        match c.parent {
            Parent::Root => self.world.workloads.get(c.edge as usize)?.region,
            Parent::Job { job } => self.region_of(self.traffic.jobs.get(job)?.replica as usize),
            Parent::Saga { saga } => self.world.workloads[self.saga_workload(saga)?].region,
        }
    }

    /// Schedules an attempt's timeout, or the end of a call's wait in the
    /// bulkhead queue.
    ///
    /// Nearly every such timer is overtaken (by the answer, or by admission),
    /// so pushing each one on the event heap would make the heap mostly dead
    /// timers. An edge's timers of one kind are almost always due in the
    /// order they were armed (same duration), so they wait in a per-edge
    /// FIFO with a single event on the heap for its head; overtaken ones
    /// are dropped when they reach the head. A timer due earlier than the
    /// FIFO's tail (an attempt timeout shortened by a deadline) goes on the
    /// heap as its own event.
    pub(super) fn arm_timer(&mut self, kind: TimerKind, edge: usize, due: Nanos, call: Key, epoch: u32) {
        let fifo = &mut self.traffic.timers[edge][kind as usize];
        if fifo.due.back().is_some_and(|b| b.0 > due) {
            let event = match kind {
                TimerKind::Attempt => Event::AttemptTimeout { call, epoch },
                TimerKind::Queue => Event::QueueTimeout { call, epoch },
            };
            self.queue.schedule(due, event);
            return;
        }
        fifo.due.push_back((due, call, epoch));
        self.arm_head(edge, kind, due);
    }

    /// Puts the FIFO's one heap event for its head at `due`, unless it is
    /// pending already. Inlined: `arm_timer` runs on every attempt.
    #[inline(always)]
    fn arm_head(&mut self, edge: usize, kind: TimerKind, due: Nanos) {
        let fifo = &mut self.traffic.timers[edge][kind as usize];
        if !fifo.armed {
            fifo.armed = true;
            self.queue.schedule(
                due,
                Event::EdgeTimers {
                    edge: edge as u32,
                    kind,
                },
            );
        }
    }

    #[inline]
    pub(in crate::model) fn on_edge_timers(&mut self, edge: usize, kind: TimerKind, now: Nanos) {
        self.traffic.timers[edge][kind as usize].armed = false;
        while let Some(&(due, call, epoch)) = self.traffic.timers[edge][kind as usize].due.front() {
            // A timer is live while its attempt is where the timer left it:
            // waiting for an answer, or waiting in the bulkhead queue.
            let live = self
                .traffic
                .calls
                .get(call)
                .is_some_and(|c| c.epoch == epoch && c.queued == (kind == TimerKind::Queue));
            if live && due > now {
                // A handler run below may have armed it already.
                self.arm_head(edge, kind, due);
                return;
            }
            self.traffic.timers[edge][kind as usize].due.pop_front();
            if live {
                match kind {
                    TimerKind::Attempt => self.on_attempt_timeout(call, epoch, now),
                    TimerKind::Queue => self.on_queue_timeout(call, epoch, now),
                }
            }
        }
    }

    pub(in crate::model) fn on_attempt_timeout(&mut self, call: Key, epoch: u32, now: Nanos) {
        let t = &mut self.traffic;
        let Some(c) = t.calls.get_mut(call) else { return };
        if c.epoch != epoch || c.queued {
            return;
        }
        let edge = c.edge as usize;
        if self.world.edges[edge].policy.order.is_some() {
            self.ordered_attempt_timeout(call, now);
            return;
        }
        t.result.edges[edge].timeouts += 1;
        let (parent, attempt_start) = (c.parent, c.attempt_start);
        let job = c.job.take();
        if self.world.edges[edge].policy.cancel_on_timeout
            && let Some(job) = job
        {
            self.cancel_job(job, now);
        }
        if self.world.edges[edge].client_extras {
            self.extras_on_timeout(call, now);
        }
        if let Parent::Saga { saga } = parent {
            self.saga_attempt_timed_out(saga, attempt_start);
        }
        self.attempt_done(call, Outcome::Timeout, false, now);
    }

    /// One attempt is over: free its bulkhead slot, tell the breaker, then
    /// succeed, retry or give up.
    pub(super) fn attempt_done(&mut self, call: Key, outcome: Outcome, degraded: bool, now: Nanos) {
        let t = &mut self.traffic;
        let Some(c) = t.calls.get_mut(call) else { return };
        let edge = c.edge as usize;
        if self.world.edges[edge].policy.order.is_some() {
            self.ordered_attempt_done(call, outcome, degraded, super::order::CORE, now);
            return;
        }
        c.epoch = c.epoch.wrapping_add(1);
        c.job = None;
        if c.extras & super::hedge::RETRYING != 0 {
            t.extras[edge].attempt_ended(c);
        }
        if c.holds_bulkhead {
            c.holds_bulkhead = false;
            if let Some(next) = t.bulkheads[edge].as_mut().and_then(|b| b.leave(now)) {
                self.queue.schedule(now, Event::BulkheadAdmit(Key::from_id(next)));
            }
        }
        let replica = std::mem::replace(&mut c.replica, super::NO_REPLICA);
        if let Some(p) = c.permit.take() {
            let duration = now - c.attempt_start;
            self.record_breaker(edge, p, outcome.is_success(), duration, now);
        }
        // Outlier detection judges the replica once this call is settled
        // (it never touches the call, so the order does not matter).
        let observe = replica != super::NO_REPLICA && self.world.edges[edge].outlier;
        if self.faults.probing() {
            self.faults.observe(self.world.edges[edge].to, outcome.is_success());
        }
        if outcome.is_success() {
            if observe {
                self.observe_outlier(replica as usize, true, now);
            }
            self.finish_call(call, CallResult::Success { degraded }, now);
            return;
        }
        if observe {
            self.observe_outlier(replica as usize, false, now);
        }
        if self.retry_failed(call, edge, outcome, now) {
            return;
        }
        self.give_up(call, outcome, now);
    }

    /// After a failed attempt (its breaker, bulkhead and outlier detection
    /// told): counts the error, then schedules a retry if the policy, the
    /// retry budget and a concurrency limit all allow one; returns whether
    /// it did. The plain and the ordered path share it; out of line, as
    /// failures are rare.
    #[inline(never)]
    pub(super) fn retry_failed(&mut self, call: Key, edge: usize, outcome: Outcome, now: Nanos) -> bool {
        let t = &mut self.traffic;
        let c = t.calls.get_mut(call).expect("outlier detection keeps calls");
        if matches!(outcome, Outcome::Error | Outcome::Refused | Outcome::Shed) {
            t.result.edges[edge].errors += 1;
            t.result.edges[edge].refused += u64::from(outcome != Outcome::Error);
        }
        if let Some(policy) = &self.world.edges[edge].retry {
            let extras = self.world.edges[edge].client_extras;
            let decision = policy.decide(
                c.attempts,
                outcome,
                now,
                c.deadline.get(),
                c.prev_delay,
                &mut t.jitter_rng[edge],
            );
            if let RetryDecision::Retry { after } = decision
                && (!extras || t.extras[edge].retry_allowed(&t.result.edges[edge]))
                && t.budgets[edge].as_mut().is_none_or(RetryBudget::try_withdraw)
            {
                if extras {
                    t.extras[edge].retry_started(c);
                }
                c.prev_delay = after;
                t.result.edges[edge].retries += 1;
                self.queue.schedule(now + after, Event::Retry(call));
                return true;
            }
        }
        false
    }

    /// Tells edge `edge`'s breaker how a call it let through ended (and
    /// traces a change of state).
    #[inline(always)]
    pub(super) fn record_breaker(&mut self, edge: usize, p: Permit, success: bool, duration: Nanos, now: Nanos) {
        let Some(b) = &mut self.traffic.breakers[edge] else {
            return;
        };
        let epoch = b.epoch();
        b.record(p, now, success, duration);
        if let Some(tr) = self.trace.as_mut()
            && b.epoch() != epoch
        {
            // A result changes the state only to Closed or Open; an Open
            // breaker is half-open when its open period ends whether or not anyone
            // calls (the state the buckets read), so that is dated now.
            if b.state(now) == BreakerState::Closed {
                tr.record(now, "breaker_closed", Subject::Edge(edge));
            } else {
                tr.record(now, "breaker_open", Subject::Edge(edge));
                let half_open = b.open_until(now).unwrap_or(now);
                tr.record_later(half_open, "breaker_half_open", Subject::Edge(edge));
            }
        }
    }

    pub(super) fn give_up(&mut self, call: Key, _outcome: Outcome, now: Nanos) {
        let edge = self.traffic.calls.get(call).expect("live").edge as usize;
        if self.world.edges[edge].policy.fallback {
            self.traffic.result.edges[edge].fallbacks += 1;
            self.finish_call(call, CallResult::Success { degraded: true }, now);
        } else {
            self.finish_call(call, CallResult::Failed, now);
        }
    }

    pub(super) fn finish_call(&mut self, call: Key, result: CallResult, now: Nanos) {
        let t = &mut self.traffic;
        let c = t.calls.remove(call).expect("live");
        if c.extras & super::hedge::HEDGE_SENT != 0 {
            t.extras[c.edge as usize].race_over(call);
        }
        let counts = &mut t.result.edges[c.edge as usize];
        match result {
            CallResult::Failed => counts.failed += 1,
            CallResult::Success { .. } => counts.succeeded += 1,
        }
        match c.parent {
            Parent::Root => {
                let r = &mut t.result;
                r.requests += 1;
                let b = &mut r.timeline[t.clock.at(now)];
                b[0] += 1;
                match result {
                    CallResult::Success { degraded: false } => {
                        r.success += 1;
                        b[1] += 1;
                    }
                    CallResult::Success { degraded: true } => {
                        r.degraded += 1;
                        b[2] += 1;
                    }
                    CallResult::Failed => r.failed += 1,
                }
                if let Some(series) = &mut t.series {
                    series.record(now, result != CallResult::Failed);
                }
                let latency = now - c.started;
                r.latency_sum += latency as f64 / 1e9;
                let _ = t.latency.record((latency / 1000).max(1));
                if let CallResult::Success { .. } = result {
                    r.served_latency_sum += latency as f64 / 1e9;
                    let _ = t.served_latency.record((latency / 1000).max(1));
                }
            }
            Parent::Job { job } => self.job_call_done(job, result, now),
            Parent::Saga { saga } => self.saga_call_done(saga, result, now),
        }
    }
}
