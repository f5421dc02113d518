//! Planned operations: rolling deploys and maintenance windows. It owns
//! their per-trial state ([`Ops`]) and the trial's handlers of their
//! events ([`OpsEvent`]) (their compiled form is
//! [`crate::model::world::ops`], their results
//! [`crate::model::result::OpsResult`]); what they do to
//! replicas and regions goes through the same holds as a crash fault, and
//! what a bad release does to requests through the fault overlay.
//!
//! # Semantics
//! - A deploy rolls a release over every replica of its service in replica
//!   order, batch by batch: the canary batch first (when there is one),
//!   then `batch` replicas at a time. Each replica of a batch is out of
//!   service (held down, connections reset) for one draw of `restart`;
//!   the next batch starts `pause` after the last replica of the previous
//!   one serves again, or, after the canary, once `bake` has passed.
//! - A release is bad with chance `bad` (drawn at the deploy's start from
//!   the deploy's stream, even when `bad` is 0, so that sweeping it keeps
//!   the stream aligned). A replica that finishes its restart into a bad
//!   release crashes (stays held down), or serves with the added error
//!   chance or latency (in the fault overlay). The release is *caught*
//!   at the earlier of `detect` after the first replica came up on it
//!   (alerting) and the end of the canary's bake (canary analysis): the
//!   roll stops, and every replica on the bad release restarts into the
//!   old one (out of service for one `restart` each). Replicas restarting
//!   when it is caught come up on the old release.
//! - A deploy that comes due while the previous roll of the same service
//!   (or its rollback, or a bad release not yet caught) is under way is
//!   skipped, and counted.
//! - A maintenance window holds its target (every replica of a service,
//!   one replica, or a region) down from `at + k * every` for `duration`.
//!   The entry's downtime while any window is open is *planned*; all
//!   other downtime (deploys included) is unplanned.
//!
//! # Invariants
//! - Ops holds a replica at most once for deploys (`held`) and once per
//!   open window, on top of faults' holds: the availability component
//!   counts holds.
//! - A replica has at most one restart pending: a rollback restarts only
//!   replicas up on the bad release, and a roll never starts while the
//!   previous one is under way. Timers of a roll carry its generation.
//! - Tags: the availability component integrates the entry's loss while
//!   a tag is on; tag 0 counts open windows, tag `1 + d` is on while
//!   deploy `d` is under way. Ops advances the integrals before it moves
//!   a tag, so each interval is integrated under the tags it had.

use rand::RngExt as _;

use super::Trial;
use crate::engine::Nanos;
use crate::model::event::Context;
pub use crate::model::event::OpsEvent;
use crate::model::result::{DeployResult, OpsResult};
use crate::model::trace::Subject;
use crate::random::{self, Purpose, Rng};
use crate::scenario::{DeploySchedule, ReleaseEffect};

/// One deploy's state in a trial.
#[derive(Debug, Clone)]
struct DeployState {
    rng: Rng,
    /// The next of an explicit list of times.
    next_at: usize,
    /// Generation of the current roll (timers of older rolls are stale).
    gen_: u32,
    /// A roll, its rollback or its uncaught bad release is under way.
    busy: bool,
    bad: bool,
    /// Replicas finishing a restart come up on the new release.
    forward: bool,
    next_batch: usize,
    pending: u32,
    onset: Option<Nanos>,
    result: DeployResult,
}

/// The operations' per-trial state.
#[derive(Debug, Clone, Default)]
pub struct Ops {
    deploys: Vec<DeployState>,
    /// Per replica: held down by a deploy (restart, or a crashed release).
    held: Vec<bool>,
    /// Per replica: runs a bad release.
    on_bad: Vec<bool>,
}

impl Ops {
    /// Fresh state for trial `trial` of `seed`, with each deploy's and
    /// window's first event scheduled.
    pub(in crate::model) fn reset(&mut self, cx: &mut Context<'_>, seed: u64, trial: u64) {
        let w = cx.world;
        let ops = &w.ops;
        self.deploys.clear();
        self.held.clear();
        self.on_bad.clear();
        if ops.deploys.is_empty() && ops.windows.is_empty() {
            return;
        }
        self.held.resize(w.replicas.len(), false);
        self.on_bad.resize(w.replicas.len(), false);
        for (d, spec) in ops.deploys.iter().enumerate() {
            let mut st = DeployState {
                rng: random::stream(seed, trial, Purpose::Deploy, d as u64),
                next_at: 0,
                gen_: 0,
                busy: false,
                bad: false,
                forward: true,
                next_batch: 0,
                pending: 0,
                onset: None,
                result: DeployResult::default(),
            };
            let first = match &spec.schedule {
                DeploySchedule::Every { first: Some(t), .. } => Some(*t),
                DeploySchedule::Every { first: None, every } => Some(every.sample(&mut st.rng)),
                DeploySchedule::At(times) => {
                    st.next_at = 1;
                    times.first().copied()
                }
            };
            if let Some(t) = first.filter(|&t| t < w.horizon) {
                cx.queue.schedule(t, OpsEvent::Deploy(d as u32).into());
            }
            self.deploys.push(st);
        }
        for (i, win) in ops.windows.iter().enumerate() {
            if win.at < w.horizon {
                cx.queue.schedule(win.at, OpsEvent::WindowOpen(i as u32).into());
            }
        }
    }

    /// The trial's figures, at the horizon (after the integrals reached
    /// it): `tagged` is the entry's loss integrated under each tag (ns).
    pub(in crate::model) fn finish(&mut self, horizon: Nanos, tagged: &[f64]) -> Option<OpsResult> {
        if tagged.is_empty() {
            return None;
        }
        let mut out = OpsResult {
            planned_downtime_s: tagged[0] / 1e9,
            deploys: Vec::with_capacity(self.deploys.len()),
        };
        for (d, st) in self.deploys.iter_mut().enumerate() {
            if let Some(onset) = st.onset.take() {
                st.result.bad_s += (horizon - onset) as f64 / 1e9;
            }
            let mut r = std::mem::take(&mut st.result);
            r.downtime_s = tagged[1 + d] / 1e9;
            out.deploys.push(r);
        }
        Some(out)
    }

    /// Per replica: it runs a bad release (empty without deploys).
    pub(in crate::model) fn on_bad(&self) -> &[bool] {
        &self.on_bad
    }
}

/// The operations' events, and what they ask of the other components.
impl Trial<'_> {
    /// Handles one operations event.
    pub(in crate::model) fn on_ops(&mut self, event: OpsEvent, now: Nanos) {
        match event {
            OpsEvent::Deploy(d) => self.deploy_due(d as usize, now),
            OpsEvent::Batch { deploy, gen_ } => {
                let st = &self.ops.deploys[deploy as usize];
                if st.gen_ == gen_ && st.forward {
                    self.start_batch(deploy as usize, now);
                }
            }
            OpsEvent::Restarted(r) => self.restarted(r as usize, now),
            OpsEvent::Baked { deploy, gen_ } => {
                let d = deploy as usize;
                let st = &self.ops.deploys[d];
                if st.gen_ != gen_ || !st.forward {
                    return;
                }
                if st.bad {
                    self.ops.deploys[d].result.caught_by_canary += 1;
                    self.roll_back(d, now);
                } else {
                    self.next_batch(d, now);
                }
            }
            OpsEvent::Alert { deploy, gen_ } => {
                let d = deploy as usize;
                let st = &self.ops.deploys[d];
                if st.gen_ == gen_ && st.forward {
                    self.ops.deploys[d].result.caught_by_alert += 1;
                    self.roll_back(d, now);
                }
            }
            OpsEvent::WindowOpen(i) => self.window(i as usize, now, true),
            OpsEvent::WindowClose(i) => self.window(i as usize, now, false),
        }
    }

    /// Integrates up to `now`, then moves tag `tag` on or off.
    fn tag(&mut self, tag: usize, now: Nanos, on: bool) {
        self.availability.advance(self.world, now);
        let t = &mut self.availability.tags[tag];
        *t = if on { *t + 1 } else { *t - 1 };
    }

    fn deploy_due(&mut self, d: usize, now: Nanos) {
        let w = self.world;
        let spec = &w.ops.deploys[d];
        let st = &mut self.ops.deploys[d];
        let next = match &spec.schedule {
            DeploySchedule::Every { every, .. } => Some(now.saturating_add(every.sample(&mut st.rng).max(1))),
            DeploySchedule::At(times) => {
                st.next_at += 1;
                times.get(st.next_at - 1).copied()
            }
        };
        if let Some(t) = next.filter(|&t| t < w.horizon) {
            self.queue.schedule(t, OpsEvent::Deploy(d as u32).into());
        }
        let st = &mut self.ops.deploys[d];
        let u: f64 = st.rng.random();
        if st.busy {
            st.result.skipped += 1;
            return;
        }
        st.busy = true;
        st.gen_ = st.gen_.wrapping_add(1);
        st.bad = u < spec.bad;
        st.forward = true;
        st.next_batch = 0;
        st.onset = None;
        st.result.rolls += 1;
        st.result.bad += u32::from(st.bad);
        self.record(
            now,
            "deploy_start",
            Subject::Group(self.world.services[spec.service].groups.start),
        );
        self.tag(1 + d, now, true);
        self.start_batch(d, now);
    }

    fn record(&mut self, now: Nanos, kind: &'static str, subject: Subject) {
        if let Some(trace) = self.trace.as_mut() {
            trace.record(now, kind, subject);
        }
    }

    fn start_batch(&mut self, d: usize, now: Nanos) {
        let spec = &self.world.ops.deploys[d];
        let batch = spec.batches[self.ops.deploys[d].next_batch].clone();
        self.ops.deploys[d].next_batch += 1;
        for i in batch {
            let r = spec.replicas[i];
            self.restart(d, r, now);
        }
    }

    /// Replica `r` goes out of service for one restart.
    fn restart(&mut self, d: usize, r: usize, now: Nanos) {
        let spec = &self.world.ops.deploys[d];
        let st = &mut self.ops.deploys[d];
        let after = spec.restart.sample(&mut st.rng);
        st.pending += 1;
        self.queue
            .schedule(now.saturating_add(after), OpsEvent::Restarted(r as u32).into());
        if !self.ops.held[r] {
            self.ops.held[r] = true;
            self.hold_replica(r, now, true, true);
        }
    }

    fn restarted(&mut self, r: usize, now: Nanos) {
        let w = self.world;
        let d = w.ops.deploy_of[r].expect("a rolled replica") as usize;
        let spec = &w.ops.deploys[d];
        let st = &mut self.ops.deploys[d];
        st.pending -= 1;
        let bad = st.forward && st.bad;
        if bad {
            if st.onset.is_none() {
                st.onset = Some(now);
                if let Some(detect) = spec.detect {
                    let gen_ = st.gen_;
                    self.queue.schedule(
                        now.saturating_add(detect),
                        OpsEvent::Alert { deploy: d as u32, gen_ }.into(),
                    );
                }
            }
            self.ops.on_bad[r] = true;
            self.record(now, "bad_release", Subject::Replica(r));
        }
        if !(bad && matches!(spec.effect, ReleaseEffect::Crash)) {
            self.ops.held[r] = false;
            self.hold_replica(r, now, false, true);
            if bad {
                self.set_release(r, Some(d), now);
            }
        }
        if self.ops.deploys[d].pending > 0 {
            return;
        }
        let st = &self.ops.deploys[d];
        if !st.forward {
            self.end_roll(d, now);
        } else if st.next_batch == 1
            && let Some(bake) = spec.bake
        {
            let gen_ = st.gen_;
            self.queue.schedule(
                now.saturating_add(bake),
                OpsEvent::Baked { deploy: d as u32, gen_ }.into(),
            );
        } else {
            self.next_batch(d, now);
        }
    }

    /// The last batch served again: the next one after the pause, or the
    /// roll is done (unless its bad release waits to be caught).
    fn next_batch(&mut self, d: usize, now: Nanos) {
        let spec = &self.world.ops.deploys[d];
        let st = &self.ops.deploys[d];
        if st.next_batch < spec.batches.len() {
            let gen_ = st.gen_;
            self.queue.schedule(
                now.saturating_add(spec.pause),
                OpsEvent::Batch { deploy: d as u32, gen_ }.into(),
            );
        } else if !st.bad {
            self.end_roll(d, now);
        }
    }

    fn end_roll(&mut self, d: usize, now: Nanos) {
        self.ops.deploys[d].busy = false;
        self.record(
            now,
            "deploy_end",
            Subject::Group(self.world.services[self.world.ops.deploys[d].service].groups.start),
        );
        self.tag(1 + d, now, false);
    }

    /// The bad release is caught: the roll stops and every replica on it
    /// restarts into the old release.
    fn roll_back(&mut self, d: usize, now: Nanos) {
        let spec = &self.world.ops.deploys[d];
        let st = &mut self.ops.deploys[d];
        st.forward = false;
        if let Some(onset) = st.onset.take() {
            st.result.bad_s += (now - onset) as f64 / 1e9;
        }
        self.record(
            now,
            "rollback",
            Subject::Group(self.world.services[spec.service].groups.start),
        );
        for &r in &spec.replicas {
            if self.ops.on_bad[r] {
                self.ops.on_bad[r] = false;
                if !matches!(spec.effect, ReleaseEffect::Crash) {
                    self.set_release(r, None, now);
                }
                self.restart(d, r, now);
            }
        }
        if self.ops.deploys[d].pending == 0 {
            self.end_roll(d, now);
        }
    }

    /// Replica `r` serves deploy `d`'s bad release (`Some`), or not.
    fn set_release(&mut self, r: usize, d: Option<usize>, now: Nanos) {
        if self.faults.set_release(self.world, r, d) {
            self.requests().fill_slots(r, now);
        }
    }

    fn window(&mut self, i: usize, now: Nanos, open: bool) {
        let w = self.world;
        let spec = &w.ops.windows[i];
        self.tag(0, now, open);
        if open {
            self.queue.schedule(
                now.saturating_add(spec.duration),
                OpsEvent::WindowClose(i as u32).into(),
            );
            let next = now.saturating_add(spec.every);
            if next < w.horizon {
                self.queue.schedule(next, OpsEvent::WindowOpen(i as u32).into());
            }
        }
        for &r in &spec.replicas {
            self.hold_replica(r, now, open, true);
        }
        if let Some(region) = spec.region {
            self.availability.hold_region(region, open);
            self.set_region(region, now);
        }
    }
}
