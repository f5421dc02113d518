//! The server side: a replica's slots and FIFO, serving a job, its own
//! calls, and answering (or resetting) the caller.

use rand::RngExt as _;

use super::Requests;
use super::{CallResult, Job, JobState, Parent};
use crate::engine::Nanos;
use crate::model::event::Event;
use crate::model::slab::Key;
use crate::resilience::Outcome;
use crate::scenario::CallMode;

impl Requests<'_> {
    pub(super) fn arrive(&mut self, job: Key, now: Nanos) {
        let t = &mut self.traffic;
        let j = t.jobs.get_mut(job).expect("new job");
        let (service, replica) = (j.service as usize, j.replica as usize);
        if self.world.rate_limited
            && let Some(limiter) = &mut t.limiters[replica]
            && !limiter.try_acquire(now)
        {
            t.result.defence[service].rate_limited += 1;
            self.complete_job(job, Outcome::Shed, now);
            return;
        }
        let server = &mut t.servers[replica];
        if self.faults.overlay().cap[replica].is_none_or(|c| server.busy < c) {
            self.start_job(job, now);
        } else if self.world.services[service]
            .serve
            .queue
            .is_none_or(|q| server.waiting < q)
            && !(j.low
                && self.world.services[service]
                    .serve
                    .defence
                    .shed
                    .low_priority_queue
                    .is_some_and(|q| server.waiting >= q))
        {
            server.waiting += 1;
            server.queue.push_back(job);
            j.state = JobState::Queued;
            j.queued_at = now;
        } else {
            t.result.defence[service].shed += 1;
            self.complete_job(job, Outcome::Shed, now);
        }
    }

    pub(super) fn start_job(&mut self, job: Key, now: Nanos) {
        let t = &mut self.traffic;
        let j = t.jobs.get_mut(job).expect("live job");
        let (service, replica) = (j.service as usize, j.replica as usize);
        let server = &mut t.servers[replica];
        if self.world.autoscaled {
            t.scale.accrue(replica, server.busy, now);
        }
        server.busy += 1;
        j.state = JobState::Serving;
        let serve = &self.world.services[service].serve;
        let mut d = if super::probe::is_probe(j.call) {
            let call = j.call;
            self.probe_cost(service, call)
        } else {
            serve.service_time.sample(&mut t.service_rng[replica])
        };
        if let Some(l) = &serve.load {
            d = self.loaded_time(l, job, replica, d, now);
        }
        if self.faults.overlay().slow_any > 0 && self.faults.overlay().slow[replica] > 0 {
            d = d.saturating_add(self.faults.delay(self.world, replica));
        }
        self.queue.schedule(now.saturating_add(d), Event::ServiceDone(job));
    }

    #[inline]
    pub(in crate::model) fn on_service_done(&mut self, job: Key, now: Nanos) {
        if self.traffic.load.gc.any && self.gc_defer(job, now) {
            return;
        }
        let t = &mut self.traffic;
        let Some(j) = t.jobs.get_mut(job) else { return };
        if j.state != JobState::Serving {
            return;
        }
        if super::probe::is_probe(j.call) {
            self.probe_served(job, now);
            return;
        }
        let (service, replica) = (j.service as usize, j.replica as usize);
        let serve = &self.world.services[service].serve;
        let error_rate = self.faults.overlay().err[replica];
        if error_rate > 0.0 && t.service_rng[replica].random::<f64>() < error_rate {
            self.complete_job(job, Outcome::Error, now);
            return;
        }
        let n = serve.calls.len();
        if n == 0 {
            self.complete_job(job, Outcome::Success, now);
            return;
        }
        j.state = JobState::Calling;
        if serve.load.is_some() {
            self.cached_calls(job, 0, now);
            return;
        }
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

    pub(super) fn job_call_done(&mut self, job: Key, result: CallResult, now: Nanos) {
        let Some(j) = self.traffic.jobs.get_mut(job) else {
            return;
        };
        if super::probe::is_probe(j.call) {
            // A fallback answer means the dependency is not fine.
            self.probe_call_done(job, result == CallResult::Success { degraded: false }, now);
            return;
        }
        match result {
            CallResult::Failed => j.failed = true,
            CallResult::Success { degraded } => j.degraded |= degraded,
        }
        let serve = &self.world.services[j.service as usize].serve;
        match serve.call_mode {
            CallMode::Sequential => {
                let next = j.next_call as usize;
                if j.failed || next == serve.calls.len() {
                    let outcome = if j.failed { Outcome::Error } else { Outcome::Success };
                    self.complete_job(job, outcome, now);
                } else if serve.load.is_some() {
                    self.cached_calls(job, next, now);
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
    pub(super) fn complete_job(&mut self, job: Key, outcome: Outcome, now: Nanos) {
        let j = self.release_job(job, now);
        if super::probe::is_probe(j.call) {
            self.probe_answered(&j, outcome == Outcome::Success, now);
            return;
        }
        if outcome == Outcome::Success {
            self.traffic.result.services[j.service as usize].1 += 1;
        } else {
            self.traffic.result.service_failed[j.service as usize] += 1;
        }
        self.respond(&j, outcome, now);
    }

    /// Removes a job from its replica, starting the next queued one.
    pub(super) fn release_job(&mut self, job: Key, now: Nanos) -> Job {
        let t = &mut self.traffic;
        let j = t.jobs.remove(job).expect("live job");
        let server = &mut t.servers[j.replica as usize];
        match j.state {
            JobState::Arriving => {}
            // Its key stays in the FIFO and is skipped when popped.
            JobState::Queued => server.waiting -= 1,
            JobState::Serving | JobState::Calling => {
                // Read once: `fill_slots` in between makes it a second load.
                let autoscaled = self.world.autoscaled;
                if autoscaled {
                    t.scale.accrue(j.replica as usize, server.busy, now);
                }
                server.busy -= 1;
                self.fill_slots(j.replica as usize, now);
                if autoscaled {
                    self.drain_check(j.replica as usize, now);
                }
            }
        }
        j
    }

    /// Starts queued jobs while replica `r` has free slots (after its
    /// capacity grew back).
    #[inline]
    pub(in crate::model) fn fill_slots(&mut self, r: usize, now: Nanos) {
        if !self.traffic.servers[r].queue.is_empty() {
            self.start_queued(r, now);
        }
    }

    fn start_queued(&mut self, r: usize, now: Nanos) {
        let queue_wait = self.world.services[self.world.replicas[r].service]
            .serve
            .defence
            .shed
            .queue_wait;
        loop {
            let t = &mut self.traffic;
            let server = &mut t.servers[r];
            if self.faults.overlay().cap[r].is_some_and(|c| server.busy >= c) {
                return;
            }
            let Some(next) = server.queue.pop_front() else { return };
            let Some(j) = t.jobs.get_mut(next) else { continue };
            server.waiting -= 1;
            if let Some(limit) = queue_wait
                && now - j.queued_at > limit
            {
                // Its caller has most likely given up: serving it would
                // only delay the requests behind it.
                j.state = JobState::Arriving;
                t.result.defence[j.service as usize].shed_wait += 1;
                self.complete_job(next, Outcome::Shed, now);
                continue;
            }
            self.start_job(next, now);
        }
    }

    /// An attempt delayed on a slow link reaches its replica.
    pub(in crate::model) fn on_deliver(&mut self, job: Key, now: Nanos) {
        let Some(j) = self.traffic.jobs.get(job) else { return };
        let r = j.replica as usize;
        if self.hangs(r) {
            // Accepted and never answered: the caller's timeout decides.
            self.traffic.jobs.remove(job);
        } else if !self.reachable(r) {
            let j = self.traffic.jobs.remove(job).expect("checked above");
            self.respond(&j, Outcome::Refused, now);
        } else {
            self.arrive(job, now);
        }
    }

    #[inline(always)]
    pub(super) fn respond(&mut self, j: &Job, outcome: Outcome, now: Nanos) {
        if self.faults.overlay().hung_any > 0 && self.faults.overlay().hung[j.replica as usize] > 0 {
            // A hung replica never answers.
            return;
        }
        let Some(c) = self.traffic.calls.get(j.call) else {
            return;
        };
        if c.epoch == j.call_epoch {
            let degraded = j.degraded && outcome.is_success();
            if self.world.edges[c.edge as usize].client_extras {
                self.hedge_answer(j, outcome, degraded, now);
            } else {
                self.attempt_done(j.call, outcome, degraded, now);
            }
        }
    }

    /// The caller gave up and asked the server to stop.
    pub(super) fn cancel_job(&mut self, job: Key, now: Nanos) {
        // A job waiting on its own calls is left to finish: its answer is
        // dropped, and cancelling its children would need a cancel chain.
        if self.traffic.jobs.get(job).is_some_and(|j| j.state != JobState::Calling) {
            self.release_job(job, now);
        }
    }

    /// A replica crashed or lost its region: reset every connection to it.
    pub(in crate::model) fn kill_replica_jobs(&mut self, replica: usize, now: Nanos) {
        if self.traffic.servers.is_empty() {
            return;
        }
        let r = replica as u32;
        let mut victims = self
            .traffic
            .jobs
            .keys_where(|j| j.replica == r && matches!(j.state, JobState::Serving | JobState::Calling));
        self.mark_cold(replica);
        let server = &mut self.traffic.servers[replica];
        victims.extend(server.queue.drain(..));
        if self.world.autoscaled {
            self.traffic.scale.accrue(replica, server.busy, now);
        }
        server.busy = 0;
        server.waiting = 0;
        for job in victims {
            if let Some(j) = self.traffic.jobs.remove(job) {
                if super::probe::is_probe(j.call) {
                    self.probe_answered(&j, false, now);
                    continue;
                }
                self.traffic.result.service_failed[j.service as usize] += 1;
                self.respond(&j, Outcome::Refused, now);
            }
        }
    }
}
