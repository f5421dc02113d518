//! The request path's second-round client policies: hedged requests and the
//! retry budget by concurrency (their books are in
//! [`crate::resilience::hedge`] and [`crate::resilience::retry::concurrency`]).
//! Every hook from the shared path is one test of
//! [`EdgeSpec::client_extras`](crate::model::world::EdgeSpec) or of a bit
//! of the call's `extras`, so an edge without them pays a load and a
//! branch. The concurrency budget's active calls are the edge's calls
//! started minus those ended (counters the path keeps anyway), and the
//! hedge budget's deposits are made when a hedge is asked for, for every
//! call started since: neither needs a hook on every call.
//!
//! # A hedged attempt
//! ```text
//!  send ──> primary job; hedge timer at + delay (if the delay is known)
//!  timer, same attempt, still waiting ──> budget? ──> hedge job to another
//!        replica (same attempt epoch; both answers reach `answer`)
//!  answer: success ──> cancel the other (if `cancel`), attempt done: success
//!          failure, the other copy still out ──> wait for it
//!          failure, no other copy ──> attempt done: that failure
//! ```
//! A timeout (attempt or deadline) ends both copies at once; with
//! `cancel_on_timeout` both are cancelled. A hedge does not count as an
//! attempt (`attempts` stays the retry loop's count); it is counted in
//! `hedges`, and the callee counts it as a request received.
//!
//! # Invariants
//! Per attempt at most one hedge; the hedge goes to a replica of the
//! primary's group other than the primary's (none is sent when there is
//! none); a call
//! counted as retrying holds exactly one place in the concurrency budget,
//! given back when that attempt ends or the call does.

use super::{Call, Job, JobState, Requests};
use crate::engine::Nanos;
use crate::model::counts::ClientCounts;
use crate::model::event::Event;
use crate::model::slab::Key;
use crate::resilience::Outcome;
use crate::resilience::hedge::Hedger;
use crate::resilience::retry::ConcurrencyBudget;

/// A hedge was sent in this attempt.
pub(super) const HEDGE_SENT: u8 = 1;
/// The primary copy answered with a failure.
const PRIMARY_FAILED: u8 = 2;
/// The hedge copy answered with a failure.
const HEDGE_FAILED: u8 = 4;
/// The call's current (or pending) attempt is a retry held in the
/// concurrency budget.
pub(super) const RETRYING: u8 = 8;

/// An edge's second-round client policies, fresh each trial.
#[derive(Debug, Clone, Default)]
pub(super) struct EdgeExtras {
    pub concurrency: Option<ConcurrencyBudget>,
    pub hedger: Option<Hedger>,
    pub counts: ClientCounts,
    /// Per call (by key id) whose current attempt sent a hedge: the hedge
    /// job and its replica. An entry lives from the hedge until the call's
    /// next attempt or its end.
    races: std::collections::HashMap<u64, (Option<Key>, u32)>,
    /// The edge's calls counted into the hedge budget so far.
    calls_seen: u64,
}

impl EdgeExtras {
    /// Fresh clones of what validation built.
    pub(super) fn of(p: &crate::scenario::policy::Policies) -> Self {
        let mut configured = 0;
        if p.hedge.is_some() {
            configured |= ClientCounts::HEDGE;
        }
        if p.concurrency.is_some() {
            configured |= ClientCounts::CONCURRENCY;
        }
        if p.bulkhead.is_some() {
            configured |= ClientCounts::BULKHEAD;
        }
        Self {
            concurrency: p.concurrency.clone(),
            hedger: p.hedge.clone(),
            counts: ClientCounts {
                configured,
                ..ClientCounts::default()
            },
            races: std::collections::HashMap::new(),
            calls_seen: 0,
        }
    }

    /// Whether the concurrency budget lets a retry start now (counted when
    /// it does not). Pure otherwise: [`EdgeExtras::retry_started`] books it.
    pub(super) fn retry_allowed(&mut self, counts: &crate::model::counts::EdgeCounts) -> bool {
        match &mut self.concurrency {
            Some(b) => {
                // Every call started and not yet ended is active.
                b.set_active(counts.calls - counts.succeeded - counts.failed);
                if b.retries() < b.limit() {
                    return true;
                }
                self.counts.retries_refused_concurrency += 1;
                false
            }
            None => true,
        }
    }

    /// The call's hedge race is over (it ended).
    #[inline(never)]
    pub(super) fn race_over(&mut self, call: Key) {
        self.races.remove(&call.id());
    }

    /// A retry was granted to `c`.
    pub(super) fn retry_started(&mut self, c: &mut Call) {
        if let Some(b) = &mut self.concurrency {
            let granted = b.try_start_retry();
            debug_assert!(granted, "retry_allowed said yes");
            c.extras |= RETRYING;
            self.counts.retry_concurrency_peak = self.counts.retry_concurrency_peak.max(b.retries());
        }
    }

    /// `c`'s attempt ended (or the call did): its retry place is free.
    #[inline(never)]
    pub(super) fn attempt_ended(&mut self, c: &mut Call) {
        if c.extras & RETRYING != 0 {
            c.extras &= !RETRYING;
            if let Some(b) = &mut self.concurrency {
                b.end_retry();
            }
        }
    }
}

impl Requests<'_> {
    /// An attempt is being sent: a fresh hedge race, and its timer.
    pub(super) fn extras_on_send(&mut self, call: Key, edge: usize, epoch: u32, now: Nanos) {
        let Some(c) = self.traffic.calls.get_mut(call) else {
            return;
        };
        if c.extras & HEDGE_SENT != 0 {
            self.traffic.extras[edge].races.remove(&call.id());
        }
        c.extras &= RETRYING;
        if let Some(d) = self.traffic.extras[edge].hedger.as_mut().and_then(Hedger::delay) {
            self.queue.schedule(now.saturating_add(d), Event::Hedge { call, epoch });
        }
    }

    /// The hedge delay of an attempt is over.
    pub(in crate::model) fn on_hedge(&mut self, call: Key, epoch: u32, now: Nanos) {
        let t = &mut self.traffic;
        let Some(c) = t.calls.get(call) else { return };
        if c.epoch != epoch || c.queued || c.extras & (HEDGE_SENT | PRIMARY_FAILED) != 0 {
            // Answered (or failed) in time, or still waiting in a bulkhead.
            return;
        }
        let edge = c.edge as usize;
        let primary = c.replica;
        let calls = t.result.edges[edge].calls;
        let x = &mut t.extras[edge];
        let Some(h) = x.hedger.as_mut() else {
            return;
        };
        // Each call started since the last hedge deposits into the budget.
        h.on_calls(calls - x.calls_seen);
        x.calls_seen = calls;
        if !h.try_hedge() {
            t.extras[edge].counts.hedges_refused += 1;
            return;
        }
        let spec = &self.world.edges[edge];
        let from_region = self.caller_region(call);
        let Some(r) = self.other_replica(primary) else {
            return;
        };
        let t = &mut self.traffic;
        t.extras[edge].counts.hedges += 1;
        t.extras[edge].races.insert(call.id(), (None, r as u32));
        let c = t.calls.get_mut(call).expect("live");
        c.extras |= HEDGE_SENT;
        let (low, deadline) = (c.low, c.deadline);
        let mut delay = 0;
        if let Some(latency) = &self.world.cross_region
            && let (Some(a), Some(b)) = (from_region, self.region_of(r))
            && a != b
        {
            delay = latency.sample(&mut self.traffic.route_rng[spec.to]);
        }
        if self.faults.overlay().link_faults > 0 || self.faults.overlay().hung_any > 0 {
            let (cut, d) = self.faults.link_state(self.world, edge, from_region, self.region_of(r));
            if cut || self.hangs(r) {
                return;
            }
            delay += d;
        }
        if !self.reachable(r) {
            self.hedge_failed(call, edge, now);
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
        self.traffic.extras[edge].races.insert(call.id(), (Some(job), r as u32));
        self.traffic.result.services[spec.to].0 += 1;
        if delay > 0 {
            self.queue.schedule(now.saturating_add(delay), Event::Deliver(job));
        } else {
            self.arrive(job, now);
        }
    }

    /// Where a hedge goes: the least loaded replica of the primary's group
    /// other than the primary, healthy ones first (ties: the first in
    /// order). Not the balancer's own pick, so that hedging leaves its
    /// rotation (and the routing path of every other call) untouched.
    fn other_replica(&self, primary: u32) -> Option<usize> {
        if primary == super::NO_REPLICA {
            return None;
        }
        let group = self.world.replicas[primary as usize].group;
        let t = &self.traffic;
        self.world.groups[group]
            .replicas
            .clone()
            .filter(|&r| r as u32 != primary && self.reachable(r))
            .min_by_key(|&r| (!t.health[r].healthy, t.servers[r].busy + t.servers[r].waiting))
    }

    /// The hedge copy could not be delivered: it failed at once.
    fn hedge_failed(&mut self, call: Key, edge: usize, now: Nanos) {
        let replica = self.traffic.extras[edge]
            .races
            .get(&call.id())
            .map_or(super::NO_REPLICA, |r| r.1);
        let c = self.traffic.calls.get_mut(call).expect("live");
        c.extras |= HEDGE_FAILED;
        if c.extras & PRIMARY_FAILED != 0 {
            c.replica = replica;
            self.attempt_done(call, Outcome::Refused, false, now);
        }
    }

    /// An answer to the current attempt of a call on a hedging edge.
    #[inline(never)]
    pub(super) fn hedge_answer(&mut self, j: &Job, outcome: Outcome, degraded: bool, now: Nanos) {
        let call = j.call;
        let t = &mut self.traffic;
        let c = t.calls.get_mut(call).expect("the caller checked");
        let edge = c.edge as usize;
        let hedged = c.extras & HEDGE_SENT != 0;
        let (hedge_job, hedge_replica) = if hedged {
            t.extras[edge]
                .races
                .get(&call.id())
                .copied()
                .unwrap_or((None, super::NO_REPLICA))
        } else {
            (None, super::NO_REPLICA)
        };
        let from_hedge = hedged && j.replica == hedge_replica;
        if outcome.is_success() {
            let loser = if from_hedge { c.job.take() } else { hedge_job };
            let x = &mut t.extras[edge];
            if from_hedge {
                x.counts.hedges_won += 1;
                c.replica = hedge_replica;
            }
            if let Some(h) = &mut x.hedger {
                h.observe(now - c.attempt_start);
            }
            let cancel = hedged && x.hedger.as_ref().is_some_and(|h| h.config().cancel);
            if cancel
                && let Some(loser) = loser
                && self.traffic.jobs.get(loser).is_some_and(|l| l.call == call)
            {
                self.traffic.extras[edge].counts.hedges_cancelled += 1;
                self.cancel_job(loser, now);
            }
            self.attempt_done(call, outcome, degraded, now);
            return;
        }
        let (mine, other) = if from_hedge {
            (HEDGE_FAILED, PRIMARY_FAILED)
        } else {
            (PRIMARY_FAILED, HEDGE_FAILED)
        };
        c.extras |= mine;
        if hedged && c.extras & other == 0 {
            // The other copy may still win.
            if self.world.edges[edge].outlier {
                self.observe_outlier(j.replica as usize, false, now);
            }
            return;
        }
        if from_hedge {
            c.replica = hedge_replica;
        }
        self.attempt_done(call, outcome, degraded, now);
    }

    /// An attempt timed out: with `cancel_on_timeout`, its hedge stops too.
    pub(super) fn extras_on_timeout(&mut self, call: Key, now: Nanos) {
        let Some(c) = self.traffic.calls.get(call) else {
            return;
        };
        let edge = c.edge as usize;
        if c.extras & HEDGE_SENT != 0
            && let Some((Some(h), _)) = self.traffic.extras[edge].races.get(&call.id()).copied()
            && self.world.edges[edge].policy.cancel_on_timeout
            && self.traffic.jobs.get(h).is_some_and(|l| l.call == call)
        {
            self.cancel_job(h, now);
        }
    }
}
