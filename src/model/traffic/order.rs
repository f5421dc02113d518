//! The client path of an edge with a policy `order`: the retry, breaker,
//! bulkhead and timeout wrap the call in the order the scenario gives
//! (outermost first; [`PolicyOrder`]). An edge without the key runs the
//! fixed path of [`super::client`] (retry, breaker, bulkhead, timeout),
//! and every hook from there is one test of `policy.order`.
//!
//! # Layers as a stack
//! ```text
//!  order = [L0, L1, L2, L3]      layers before `retry`: once per call
//!                                layers after it: once per attempt
//!  enter L0 ─> L1 ─> L2 ─> L3 ─> send          (a bulkhead may queue: its
//!     │ reject  │ ...                          admission resumes at the
//!     v         v                              next layer)
//!  an outcome at level k (a layer's rejection or timeout, or the callee's
//!  answer, level 4) goes out through the layers it is inside:
//!    attempt layers (after retry): release, innermost first
//!    retry: retry? ──yes──> enter the layers after retry again
//!    call layers (before retry): release, innermost first ──> the caller
//! ```
//! Layers entered after level `k` (inside the one that produced the
//! outcome) are cancelled: a breaker there forgets its call (`release`),
//! a bulkhead there frees its slot. Layers outside it see the outcome: a
//! breaker records it, except a breaker or bulkhead rejection, which a
//! breaker never counts (as on the fixed path). A breaker wrapping each
//! attempt times it from its send; one wrapping the whole call, from the
//! call's start.
//!
//! - A timeout after `retry` bounds each attempt from the moment it is
//!   entered (`min(timeout, deadline left)`); one before `retry` bounds the
//!   whole call, backoffs included, and when it fires ends the attempt in
//!   flight (or the wait in a bulkhead, or the backoff) and the call, with
//!   no retry. A timeout before a bulkhead counts the wait in its queue.
//! - The deadline inherited from the caller and the fallback sit outside
//!   every order: the deadline is checked before each attempt, a fallback
//!   answers for a call that failed however it failed.
//!
//! # Invariants
//! A call holds at most one breaker permit and one bulkhead slot (or
//! place in its queue), each released exactly once: by the attempt's end
//! when the layer is inside the retry, by the call's end when outside. At
//! most one whole-call timer per call (its key is generational, so a timer
//! of a finished call is ignored); attempt timers carry the attempt epoch.

use super::hedge::RETRYING;
use super::{CallResult, Requests, TimerKind};
use crate::engine::Nanos;
use crate::model::event::Event;
use crate::model::slab::Key;
use crate::resilience::Outcome;
use crate::resilience::bulkhead::Admission;
use crate::resilience::order::{Layer, PolicyOrder};

/// The level of an outcome from the callee (or the way to it): inside
/// every layer.
pub(super) const CORE: usize = 4;

impl Requests<'_> {
    /// Enters the layers of `order` from index `from` on, then sends the
    /// attempt. Stops where a layer rejects the call or a bulkhead queues
    /// it (its admission calls this again with the next index).
    #[cold]
    #[inline(never)]
    pub(super) fn ordered_advance(&mut self, call: Key, order: PolicyOrder, from: usize, now: Nanos) {
        let Some(c) = self.traffic.calls.get(call) else { return };
        let edge = c.edge as usize;
        let ri = order.index(Layer::Retry);
        for (i, layer) in order.layers().into_iter().enumerate().skip(from) {
            let t = &mut self.traffic;
            let c = t.calls.get_mut(call).expect("live");
            match layer {
                Layer::Retry => {
                    if c.deadline.expired(now) {
                        if c.extras & RETRYING != 0 {
                            // A granted retry that will not run gives its place back.
                            t.extras[edge].attempt_ended(c);
                        }
                        self.call_over(call, order, Outcome::Timeout, false, i, now);
                        return;
                    }
                    c.attempts += 1;
                    c.attempt_start = now;
                }
                Layer::Breaker => {
                    if let Some(b) = &mut t.breakers[edge] {
                        match b.try_acquire(now) {
                            Some(p) => c.permit = Some(p),
                            None => {
                                t.result.edges[edge].breaker_rejected += 1;
                                self.ordered_failed(call, order, Outcome::BreakerOpen, i, now);
                                return;
                            }
                        }
                    }
                }
                Layer::Bulkhead => {
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
                                self.ordered_failed(call, order, Outcome::BulkheadFull, i, now);
                                return;
                            }
                        }
                    }
                }
                // Innermost, it is armed at the send, as on the fixed path.
                Layer::Timeout if i == 3 => {}
                Layer::Timeout => {
                    let limit = c.deadline.attempt_timeout(now, self.world.edges[edge].policy.timeout);
                    let epoch = c.epoch;
                    if let Some(limit) = limit {
                        let due = now.saturating_add(limit);
                        if i < ri {
                            let event = Event::PolicyTimeout {
                                call,
                                epoch,
                                whole: true,
                            };
                            self.queue.schedule(due, event);
                        } else if order.wraps(Layer::Timeout, Layer::Bulkhead) {
                            // It may fire while the attempt waits in the
                            // bulkhead, which the edge's FIFO does not serve.
                            let event = Event::PolicyTimeout {
                                call,
                                epoch,
                                whole: false,
                            };
                            self.queue.schedule(due, event);
                        } else {
                            self.arm_timer(TimerKind::Attempt, edge, due, call, epoch);
                        }
                    }
                }
            }
        }
        self.send_with(call, now, order.layers()[3] == Layer::Timeout);
    }

    /// The layer at index `level` rejected the call.
    #[cold]
    #[inline(never)]
    pub(super) fn ordered_failed(&mut self, call: Key, order: PolicyOrder, outcome: Outcome, level: usize, now: Nanos) {
        if level > order.index(Layer::Retry) {
            self.ordered_attempt_done(call, outcome, false, level, now);
        } else {
            self.call_over(call, order, outcome, false, level, now);
        }
    }

    /// A breaker permit is given back: recorded when the breaker wraps the
    /// level the outcome came from (and the outcome is not a rejection),
    /// forgotten otherwise.
    fn settle_breaker(&mut self, call: Key, outcome: Outcome, sees: bool, since: Nanos, now: Nanos) {
        let t = &mut self.traffic;
        let c = t.calls.get_mut(call).expect("live");
        let edge = c.edge as usize;
        let Some(p) = c.permit.take() else { return };
        if sees && !matches!(outcome, Outcome::BreakerOpen | Outcome::BulkheadFull) {
            self.record_breaker(edge, p, outcome.is_success(), now - since, now);
        } else if let Some(b) = &mut t.breakers[edge] {
            b.release(p);
        }
    }

    /// Frees the call's bulkhead slot, letting the head of the queue in.
    fn leave_bulkhead(&mut self, call: Key, now: Nanos) {
        let t = &mut self.traffic;
        let c = t.calls.get_mut(call).expect("live");
        if !c.holds_bulkhead {
            return;
        }
        c.holds_bulkhead = false;
        if let Some(next) = t.bulkheads[c.edge as usize].as_mut().and_then(|b| b.leave(now)) {
            self.queue.schedule(now, Event::BulkheadAdmit(Key::from_id(next)));
        }
    }

    /// A timeout took the call out of its bulkhead's queue. If the bulkhead
    /// had let it in at this very instant (its admission is pending), the
    /// slot it was given is freed for the next.
    fn leave_queue(&mut self, call: Key, now: Nanos) {
        let t = &mut self.traffic;
        let c = t.calls.get_mut(call).expect("live");
        if !c.queued {
            return;
        }
        c.queued = false;
        let Some(b) = &mut t.bulkheads[c.edge as usize] else {
            return;
        };
        if !b.abandon_at(call.id(), now) {
            c.holds_bulkhead = true;
            self.leave_bulkhead(call, now);
        }
    }

    /// One attempt is over with `outcome` from level `level`: the layers
    /// inside the retry let go of it, then succeed, retry or give up (the
    /// fixed path's [`Requests::attempt_done`] with layers).
    #[cold]
    #[inline(never)]
    pub(super) fn ordered_attempt_done(
        &mut self,
        call: Key,
        outcome: Outcome,
        degraded: bool,
        level: usize,
        now: Nanos,
    ) {
        let t = &mut self.traffic;
        let Some(c) = t.calls.get_mut(call) else { return };
        let edge = c.edge as usize;
        let order = self.world.edges[edge].policy.order.expect("an ordered edge");
        let ri = order.index(Layer::Retry);
        c.epoch = c.epoch.wrapping_add(1);
        c.job = None;
        if c.extras & RETRYING != 0 {
            t.extras[edge].attempt_ended(c);
        }
        let since = c.attempt_start;
        for i in (ri + 1..4).rev() {
            match order.layers()[i] {
                Layer::Bulkhead => self.leave_bulkhead(call, now),
                Layer::Breaker => self.settle_breaker(call, outcome, i < level, since, now),
                _ => {}
            }
        }
        let t = &mut self.traffic;
        let c = t.calls.get_mut(call).expect("live");
        let replica = std::mem::replace(&mut c.replica, super::NO_REPLICA);
        let observe = replica != super::NO_REPLICA && self.world.edges[edge].outlier;
        if self.faults.probing() {
            self.faults.observe(self.world.edges[edge].to, outcome.is_success());
        }
        if outcome.is_success() {
            if observe {
                self.observe_outlier(replica as usize, true, now);
            }
            self.call_over(call, order, outcome, degraded, ri, now);
            return;
        }
        if observe {
            self.observe_outlier(replica as usize, false, now);
        }
        if self.retry_failed(call, edge, outcome, now) {
            return;
        }
        self.call_over(call, order, outcome, degraded, ri, now);
    }

    /// The call is over with `outcome` from level `level` (the retry's for
    /// a finished retry loop): the layers outside the retry let go of it,
    /// then the caller hears.
    fn call_over(&mut self, call: Key, order: PolicyOrder, outcome: Outcome, degraded: bool, level: usize, now: Nanos) {
        let ri = order.index(Layer::Retry);
        let since = self.traffic.calls.get(call).expect("live").started;
        for i in (0..ri).rev() {
            match order.layers()[i] {
                Layer::Bulkhead => self.leave_bulkhead(call, now),
                Layer::Breaker => self.settle_breaker(call, outcome, i < level, since, now),
                _ => {}
            }
        }
        if outcome.is_success() {
            self.finish_call(call, CallResult::Success { degraded }, now);
        } else {
            self.give_up(call, outcome, now);
        }
    }

    /// A timeout of an ordered edge that the edge's FIFO does not serve.
    #[cold]
    #[inline(never)]
    pub(in crate::model) fn on_policy_timeout(&mut self, call: Key, epoch: u32, whole: bool, now: Nanos) {
        let Some(c) = self.traffic.calls.get(call) else { return };
        if whole {
            self.whole_call_timeout(call, now);
        } else if c.epoch == epoch {
            self.ordered_attempt_timeout(call, now);
        }
    }

    /// An attempt's timeout (a layer after the retry) fired, while the
    /// attempt waited for an answer or in the bulkhead's queue.
    #[cold]
    #[inline(never)]
    pub(super) fn ordered_attempt_timeout(&mut self, call: Key, now: Nanos) {
        self.leave_queue(call, now);
        let t = &mut self.traffic;
        let c = t.calls.get_mut(call).expect("live");
        let edge = c.edge as usize;
        let order = self.world.edges[edge].policy.order.expect("an ordered edge");
        t.result.edges[edge].timeouts += 1;
        self.abort_attempt(call, now);
        self.ordered_attempt_done(call, Outcome::Timeout, false, order.index(Layer::Timeout), now);
    }

    /// What an attempt in flight does when a timeout ends it: cancel the
    /// server's work (with `cancel_on_timeout`), and its hedge's, and tell
    /// a saga.
    fn abort_attempt(&mut self, call: Key, now: Nanos) {
        let c = self.traffic.calls.get_mut(call).expect("live");
        let edge = c.edge as usize;
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
        if let super::Parent::Saga { saga } = parent {
            self.saga_attempt_timed_out(saga, attempt_start);
        }
    }

    /// The timeout around the whole retried call fired: whatever the call
    /// is doing (waiting in a bulkhead, an attempt in flight, a backoff)
    /// stops, the layers inside the timeout forget it, and the call fails
    /// with no retry.
    fn whole_call_timeout(&mut self, call: Key, now: Nanos) {
        self.leave_queue(call, now);
        let t = &mut self.traffic;
        let c = t.calls.get_mut(call).expect("live");
        let edge = c.edge as usize;
        let order = self.world.edges[edge].policy.order.expect("an ordered edge");
        t.result.edges[edge].timeouts += 1;
        let in_flight = c.replica != super::NO_REPLICA;
        if in_flight {
            self.abort_attempt(call, now);
        }
        let t = &mut self.traffic;
        let c = t.calls.get_mut(call).expect("live");
        c.epoch = c.epoch.wrapping_add(1);
        c.job = None;
        if c.extras & RETRYING != 0 {
            t.extras[edge].attempt_ended(c);
        }
        let replica = std::mem::replace(&mut c.replica, super::NO_REPLICA);
        let ri = order.index(Layer::Retry);
        for i in (ri + 1..4).rev() {
            match order.layers()[i] {
                Layer::Bulkhead => self.leave_bulkhead(call, now),
                Layer::Breaker => self.settle_breaker(call, Outcome::Timeout, false, now, now),
                _ => {}
            }
        }
        if in_flight {
            if self.faults.probing() {
                self.faults.observe(self.world.edges[edge].to, false);
            }
            if self.world.edges[edge].outlier {
                self.observe_outlier(replica as usize, false, now);
            }
        }
        self.call_over(call, order, Outcome::Timeout, false, order.index(Layer::Timeout), now);
    }
}
