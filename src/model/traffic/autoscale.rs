//! Autoscalers (`[service.autoscale]`): one per replica group of an
//! autoscaled service, running Kubernetes' horizontal pod autoscaler rule
//! on the group's requests.
//!
//! # Slots
//! An autoscaled group has a slot for each replica it may have (`max`,
//! allocated once by [`World::compile`](crate::model::World::compile));
//! the first `replicas` start serving, the rest start parked. A slot is in
//! one of four states:
//!
//! ```text
//!            scale up (a draw of `provision`)        provisioned
//!  Parked ───────────────────────────────> Provisioning ─────────> Serving
//!    ^  ^             scale down (cancelled)    │                    │
//!    │  └───────────────────────────────────────┘        scale down  │
//!    │                    last job done (or empty at an evaluation)  v
//!    └──────────────────────────────────────────────────────── Draining
//! ```
//! - **Parked**: not a replica. The availability component holds it down
//!   (one hold, like a crash fault's) with no failure clock; the balancer
//!   never routes to it and no probe is sent to it.
//! - **Provisioning**: decided, not serving yet (a VM or pod starting).
//! - **Serving**: a replica like the declared ones: routed to, probed, and
//!   failing by the service's failure process, whose clock starts when it
//!   starts serving.
//! - **Draining**: scaled in. It gets no new work, finishes what it holds
//!   (its queue included), then leaves (Parked). A scale-up with no parked
//!   slot left keeps a draining replica instead (it serves again at once).
//!
//! # The rule, every `interval` (per group)
//! 1. The metric over the serving replicas: `utilisation` is their busy
//!    slot-time since the last evaluation over the slot-time the replicas
//!    serving now would offer in that interval (the interval's load
//!    against today's capacity, so a replica that started serving
//!    meanwhile does not count the load twice); `queue` is the requests
//!    waiting in their queues now, per replica.
//! 2. The recommendation: with `ratio = metric / target`, unchanged within
//!    `tolerance` of 1, else `ceil(serving × ratio)`, clamped to `[min,
//!    max]` ([`Autoscale::desired`]).
//! 3. Scale up at once when it is above the wanted count (serving plus
//!    provisioning: a replica still provisioning counts, as a pod that is
//!    not ready yet counts in a Deployment's replicas), at most `step_up`
//!    at a time; scale down only to the largest recommendation of the
//!    stabilisation window (this one included), at most `step_down` at a
//!    time, cancelling provisioning slots first, then draining the serving
//!    replicas with the highest index.
//!
//! Replicas that fail are still counted as serving (their slots are taken):
//! a crashed replica offers slot-time it does not use, which lowers the
//! utilisation, as a pod that is not ready but exists does in a
//! Deployment. A group whose region is down measures no load and scales in
//! towards `min`.
//!
//! # Invariants
//! `wanted = serving + provisioning`, `min <= wanted <= max` after every
//! evaluation, and at least one replica serves (scale-down cancels
//! provisioning before it drains, and never below `min >= 1`). A slot's
//! generation changes with its state, so a `Provisioned` or `Drained` event
//! scheduled for an earlier state is ignored. `health[r].out` is true
//! exactly when slot `r` is not Serving.

use std::collections::VecDeque;

use super::{Requests, TIMELINE_BUCKETS};
use crate::engine::Nanos;
use crate::model::event::{AutoscaleEvent, Event};
use crate::model::result::ScaleCounts;
use crate::model::trace::Subject;
use crate::random::{self, Purpose, Rng};
use crate::scenario::autoscale::{Autoscale, Metric};
use rand::RngExt as _;

pub(in crate::model) mod handoff;

/// A slot's state (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Parked,
    Provisioning,
    Serving,
    Draining,
}

/// One group's autoscaler.
#[derive(Clone)]
struct Group {
    /// Serving plus provisioning.
    wanted: u32,
    /// Provisioning, serving or draining.
    existing: u32,
    last_eval: Nanos,
    /// Since when `existing` and `wanted` are what they are.
    since: Nanos,
    /// Recommendations of the stabilisation window: `(time, replicas)`.
    history: VecDeque<(Nanos, u32)>,
    /// Provisioning delays.
    rng: Rng,
    /// Slots in the Serving state.
    serving: u32,
    /// Since when `serving` is what it is (integrated into the trial's
    /// replica timeline up to here).
    serving_since: Nanos,
}

/// The autoscalers' state, reused across trials (empty without them).
#[derive(Default, Clone)]
pub(in crate::model) struct ScaleState {
    /// Per replica.
    slot: Vec<Slot>,
    /// Per replica: bumped on every change of `slot`.
    gen_: Vec<u32>,
    /// Per replica: busy slot-nanoseconds since the last evaluation.
    area: Vec<u128>,
    /// Per replica: when `area` was last brought up to date.
    last: Vec<Nanos>,
    /// Per group (`None` for a group that is not autoscaled).
    groups: Vec<Option<Group>>,
    /// Per service.
    counts: Vec<ScaleCounts>,
    /// Holds the trial must put on (`true`: park) or take off replicas.
    holds: Vec<(usize, bool)>,
}

impl ScaleState {
    /// Brings replica `r`'s busy area up to `now`, `busy` being its busy
    /// slots since the last call. Out of line: the request path's hooks
    /// cost one test when no service is autoscaled.
    #[cold]
    #[inline(never)]
    pub(super) fn accrue(&mut self, r: usize, busy: u32, now: Nanos) {
        let last = &mut self.last[r];
        self.area[r] += u128::from(busy) * u128::from(now - *last);
        *last = now;
    }
}

impl super::Traffic {
    /// The holds the autoscalers left for the trial to put on (`true`:
    /// park) or take off replicas.
    pub(in crate::model) fn scale_holds(&mut self) -> &mut Vec<(usize, bool)> {
        &mut self.scale.holds
    }
}

impl Requests<'_> {
    /// The autoscaler of group `g`.
    fn rule(&self, g: usize) -> &Autoscale {
        let s = self.world.groups[g].service;
        self.world.services[s]
            .serve
            .defence
            .autoscale
            .as_ref()
            .expect("only autoscaled groups are evaluated")
    }

    /// Resets the autoscalers: the declared replicas serve, the other
    /// slots are parked; the first evaluation of each group is one
    /// interval after `from`.
    pub(super) fn start_autoscale(&mut self, seed: u64, trial: u64, from: Nanos) {
        let w = self.world;
        let st = &mut self.traffic.scale;
        st.groups.clear();
        st.holds.clear();
        st.counts.clear();
        if !w.autoscaled {
            return;
        }
        let n = w.replicas.len();
        st.slot.clear();
        st.slot.resize(n, Slot::Serving);
        st.gen_.clear();
        st.gen_.resize(n, 0);
        st.area.clear();
        st.area.resize(n, 0);
        st.last.clear();
        st.last.resize(n, from);
        st.counts.resize(w.services.len(), ScaleCounts::default());
        self.traffic.result.replica_timeline = vec![0.0; w.services.len() * TIMELINE_BUCKETS];
        for (g, spec) in w.groups.iter().enumerate() {
            let Some(a) = &w.services[spec.service].serve.defence.autoscale else {
                self.traffic.scale.groups.push(None);
                continue;
            };
            let declared = (spec.replicas.len() - spec.parked) as u32;
            for r in spec.replicas.end - spec.parked..spec.replicas.end {
                self.traffic.scale.slot[r] = Slot::Parked;
                let h = &mut self.traffic.health[r];
                h.out = true;
                h.healthy = false;
                self.traffic.unhealthy[g] += 1;
            }
            let stream = (0x41 << 40) | ((spec.service as u64) << 20) | spec.slot as u64;
            let st = &mut self.traffic.scale;
            st.groups.push(Some(Group {
                wanted: declared,
                existing: declared,
                last_eval: from,
                since: from,
                history: VecDeque::new(),
                rng: random::stream(seed, trial, Purpose::Health, stream),
                serving: declared,
                serving_since: from,
            }));
            // The service's replicas at the start: every group's declared.
            st.counts[spec.service].peak += declared;
            self.queue.schedule(
                from.saturating_add(a.interval),
                Event::Autoscale(AutoscaleEvent::Evaluate(g as u32)),
            );
        }
    }

    /// Integrates group `g`'s replica count and time at `max` up to `now`.
    fn integrate(&mut self, g: usize, now: Nanos) {
        let max = self.rule(g).max;
        let s = self.world.groups[g].service;
        let st = &mut self.traffic.scale;
        let grp = st.groups[g].as_mut().expect("an autoscaled group");
        let dt = now.saturating_sub(grp.since) as f64 / 1e9;
        let c = &mut st.counts[s];
        c.replica_s += f64::from(grp.existing) * dt;
        if grp.wanted == max {
            c.at_max_s += dt;
        }
        grp.since = now;
    }

    /// The figures of the trial's autoscalers, integrated to `horizon`.
    pub(super) fn finish_autoscale(&mut self, horizon: Nanos) {
        if self.traffic.scale.groups.is_empty() {
            self.traffic.result.autoscale.clear();
            return;
        }
        for g in 0..self.world.groups.len() {
            if self.traffic.scale.groups[g].is_some() {
                self.integrate(g, horizon);
                self.integrate_serving(g, horizon, 0);
            }
        }
        self.traffic.result.autoscale = self.traffic.scale.counts.clone();
    }

    pub(in crate::model) fn on_autoscale_event(&mut self, event: AutoscaleEvent, now: Nanos) {
        match event {
            AutoscaleEvent::Evaluate(g) => self.evaluate(g as usize, now),
            AutoscaleEvent::Provisioned { replica, gen_ } => {
                let r = replica as usize;
                let st = &self.traffic.scale;
                if st.gen_[r] == gen_ && st.slot[r] == Slot::Provisioning {
                    self.start_serving(r, now);
                }
            }
            AutoscaleEvent::Drained { replica, gen_ } => {
                let r = replica as usize;
                let st = &self.traffic.scale;
                if st.gen_[r] == gen_ && st.slot[r] == Slot::Draining {
                    let (busy, waiting) = self.traffic.load_of(r);
                    if busy == 0 && waiting == 0 {
                        self.park(r, now);
                    }
                }
            }
        }
    }

    /// A draining replica that has just let go of a job leaves when it
    /// holds none.
    #[cold]
    #[inline(never)]
    pub(super) fn drain_check(&mut self, r: usize, now: Nanos) {
        let st = &self.traffic.scale;
        if st.slot.get(r) != Some(&Slot::Draining) {
            return;
        }
        let (busy, waiting) = self.traffic.load_of(r);
        if busy == 0 && waiting == 0 {
            // It leaves from the trial, which holds it down in the
            // availability component.
            let gen_ = st.gen_[r];
            self.queue.schedule(
                now,
                Event::Autoscale(AutoscaleEvent::Drained {
                    replica: r as u32,
                    gen_,
                }),
            );
        }
    }

    /// Adds group `g`'s serving replica-seconds since the last change to
    /// the trial's replica timeline up to `now`, then changes its serving
    /// count by `delta`.
    fn integrate_serving(&mut self, g: usize, now: Nanos, delta: i32) {
        let s = self.world.groups[g].service;
        let horizon = self.world.horizon;
        let grp = self.traffic.scale.groups[g].as_mut().expect("an autoscaled group");
        let row = &mut self.traffic.result.replica_timeline[s * TIMELINE_BUCKETS..(s + 1) * TIMELINE_BUCKETS];
        spread(row, grp.serving_since, now.min(horizon), grp.serving, horizon);
        grp.serving = grp.serving.saturating_add_signed(delta);
        grp.serving_since = now;
    }

    fn set_slot(&mut self, r: usize, slot: Slot, now: Nanos) {
        let was = self.traffic.scale.slot[r] == Slot::Serving;
        if was != (slot == Slot::Serving) {
            let g = self.world.replicas[r].group;
            self.integrate_serving(g, now, if was { -1 } else { 1 });
        }
        let st = &mut self.traffic.scale;
        st.slot[r] = slot;
        st.gen_[r] = st.gen_[r].wrapping_add(1);
        let out = slot != Slot::Serving;
        if self.traffic.health[r].out != out {
            self.traffic.health[r].out = out;
            self.set_eligible(r);
        }
    }

    /// One evaluation of group `g`'s autoscaler.
    fn evaluate(&mut self, g: usize, now: Nanos) {
        let rule = self.rule(g).clone();
        let replicas = self.world.groups[g].replicas.clone();
        let concurrency = self.world.services[self.world.groups[g].service]
            .serve
            .concurrency
            .unwrap_or(1);
        let last_eval = self.traffic.scale.groups[g].as_ref().expect("autoscaled").last_eval;
        let (mut ready, mut used, mut waiting) = (0u32, 0u128, 0u64);
        for r in replicas.clone() {
            let (busy, queued) = self.traffic.load_of(r);
            let st = &mut self.traffic.scale;
            st.accrue(r, busy, now);
            if st.slot[r] == Slot::Serving {
                ready += 1;
                used += st.area[r];
                waiting += u64::from(queued);
            }
            st.area[r] = 0;
        }
        // The load of the interval (busy slots, time-averaged) over what
        // the replicas serving now offer.
        let offered = u128::from(concurrency) * u128::from(ready) * u128::from(now - last_eval);
        let value = match rule.metric {
            Metric::Utilisation if offered > 0 => used as f64 / offered as f64,
            // No time has passed: the previous recommendation stands.
            Metric::Utilisation => rule.target,
            Metric::Queue => waiting as f64 / f64::from(ready.max(1)),
        };
        let grp = self.traffic.scale.groups[g].as_mut().expect("autoscaled");
        grp.last_eval = now;
        let wanted = grp.wanted;
        let raw = rule.desired(ready, value, wanted);
        let target = stabilised(&mut grp.history, &rule, now, raw, wanted);
        if target > wanted {
            self.scale_up(g, target - wanted, now);
        } else if target < wanted {
            self.scale_down(g, wanted - target, now);
        }
        // A drained replica whose last job ended some other way (a reset, a
        // cancelled queued job) leaves now.
        for r in replicas {
            if self.traffic.scale.slot[r] == Slot::Draining && self.traffic.load_of(r) == (0, 0) {
                self.park(r, now);
            }
        }
        self.queue.schedule(
            now.saturating_add(rule.interval),
            Event::Autoscale(AutoscaleEvent::Evaluate(g as u32)),
        );
    }

    fn scale_up(&mut self, g: usize, k: u32, now: Nanos) {
        self.integrate(g, now);
        let replicas = self.world.groups[g].replicas.clone();
        let service = self.world.groups[g].service;
        for _ in 0..k {
            let st = &self.traffic.scale;
            // A fresh slot (its last replica left while up) before one
            // whose repair is under way; else a draining replica stays.
            let parked = |r: &usize| st.slot[*r] == Slot::Parked;
            let fresh = replicas
                .clone()
                .filter(parked)
                .find(|&r| self.availability.replicas[r].natural);
            let pick = fresh.or_else(|| replicas.clone().find(parked));
            if let Some(r) = pick {
                self.set_slot(r, Slot::Provisioning, now);
                let d = self.rule(g).provision.clone();
                let st = &mut self.traffic.scale;
                let grp = st.groups[g].as_mut().expect("autoscaled");
                let delay = d.sample(&mut grp.rng);
                grp.wanted += 1;
                grp.existing += 1;
                let gen_ = st.gen_[r];
                self.queue.schedule(
                    now.saturating_add(delay),
                    Event::Autoscale(AutoscaleEvent::Provisioned {
                        replica: r as u32,
                        gen_,
                    }),
                );
                self.record(now, "scale_up", Subject::Replica(r));
            } else if let Some(r) = replicas.clone().rev().find(|&r| st.slot[r] == Slot::Draining) {
                self.set_slot(r, Slot::Serving, now);
                self.traffic.scale.groups[g].as_mut().expect("autoscaled").wanted += 1;
                self.record(now, "scale_up", Subject::Replica(r));
            } else {
                break;
            }
            let existing: u32 = self.world.services[service]
                .groups
                .clone()
                .filter_map(|h| self.traffic.scale.groups[h].as_ref())
                .map(|h| h.existing)
                .sum();
            let c = &mut self.traffic.scale.counts[service];
            c.scale_ups += 1;
            c.peak = c.peak.max(existing);
        }
    }

    fn scale_down(&mut self, g: usize, k: u32, now: Nanos) {
        self.integrate(g, now);
        let replicas = self.world.groups[g].replicas.clone();
        let service = self.world.groups[g].service;
        for _ in 0..k {
            let st = &self.traffic.scale;
            let provisioning = replicas.clone().rev().find(|&r| st.slot[r] == Slot::Provisioning);
            let serving = || replicas.clone().rev().find(|&r| st.slot[r] == Slot::Serving);
            let grp = st.groups[g].as_ref().expect("autoscaled");
            if let Some(r) = provisioning {
                self.set_slot(r, Slot::Parked, now);
                let grp = self.traffic.scale.groups[g].as_mut().expect("autoscaled");
                grp.wanted -= 1;
                grp.existing -= 1;
                self.record(now, "scale_cancelled", Subject::Replica(r));
            } else if let Some(r) = serving().filter(|_| grp.wanted > 1) {
                self.set_slot(r, Slot::Draining, now);
                self.traffic.scale.groups[g].as_mut().expect("autoscaled").wanted -= 1;
                self.record(now, "draining", Subject::Replica(r));
                self.drain_check(r, now);
            } else {
                break;
            }
            self.traffic.scale.counts[service].scale_downs += 1;
        }
    }

    /// Slot `r` has provisioned: it serves from now on.
    fn start_serving(&mut self, r: usize, now: Nanos) {
        self.set_slot(r, Slot::Serving, now);
        // A new process: a cold start and empty caches, as after a restart.
        self.mark_cold(r);
        let st = &mut self.traffic.scale;
        st.area[r] = 0;
        st.last[r] = now;
        self.traffic.consecutive[r] = 0;
        let h = &mut self.traffic.health[r];
        h.fails = 0;
        h.oks = 0;
        if !h.probe_ok {
            h.probe_ok = true;
            self.set_eligible(r);
        }
        self.traffic.scale.holds.push((r, false));
        self.record(now, "provisioned", Subject::Replica(r));
    }

    /// A drained replica leaves.
    fn park(&mut self, r: usize, now: Nanos) {
        let g = self.world.replicas[r].group;
        self.integrate(g, now);
        self.set_slot(r, Slot::Parked, now);
        self.traffic.scale.groups[g].as_mut().expect("autoscaled").existing -= 1;
        self.traffic.scale.holds.push((r, true));
        self.record(now, "scaled_in", Subject::Replica(r));
    }
}

impl Requests<'_> {
    /// [`Requests::balance`] for an autoscaled group with some replica
    /// unhealthy or out of service: the same choice over the replicas in
    /// service (panic routing spreads over those, never over parked,
    /// provisioning or draining slots).
    #[cold]
    #[inline(never)]
    pub(super) fn balance_in_service(&mut self, s: usize, group: usize) -> Option<usize> {
        use crate::scenario::LoadBalancer;
        let replicas = self.world.groups[group].replicas.clone();
        let t = &mut self.traffic;
        let healthy = replicas.clone().filter(|&r| t.health[r].healthy).count();
        let in_service = replicas.clone().filter(|&r| !t.health[r].out).count();
        let every = match self.world.services[s].serve.defence.probes.panic_threshold {
            None => healthy == 0,
            Some(p) => (healthy as f64) < p * in_service as f64,
        };
        let n = if every { in_service } else { healthy };
        if n == 0 {
            return None;
        }
        let eligible = |r: usize| if every { !t.health[r].out } else { t.health[r].healthy };
        let nth = |k: usize| replicas.clone().filter(|&r| eligible(r)).nth(k);
        let load = |r: usize| t.servers[r].busy + t.servers[r].waiting;
        match self.world.services[s].serve.load_balancer {
            LoadBalancer::RoundRobin => {
                let k = super::routing::next_cursor(&mut t.cursor[group], n);
                nth(k)
            }
            LoadBalancer::Random => {
                let k = t.route_rng[s].random_range(0..n);
                nth(k)
            }
            LoadBalancer::LeastOutstanding => {
                let n_all = replicas.len();
                let start = super::routing::next_cursor(&mut t.cursor[group], n_all);
                (0..n_all)
                    .map(|i| replicas.start + (start + i) % n_all)
                    .filter(|&r| eligible(r))
                    .min_by_key(|&r| load(r))
            }
            LoadBalancer::PowerOfTwo => {
                let a = t.route_rng[s].random_range(0..n);
                let b = t.route_rng[s].random_range(0..n);
                let (ra, rb) = (nth(a)?, nth(b)?);
                Some(if load(rb) < load(ra) { rb } else { ra })
            }
        }
    }
}

/// Adds `count × (overlap in seconds)` of `[from, to)` with each timeline
/// bucket to `row` (one cell per bucket of a trial of length `horizon`):
/// the replica-seconds a count held over that span put in each bucket.
/// Bucket `b` holds the times `t` with `floor(t × 60 / horizon) = b`, as
/// everywhere else in the timeline.
fn spread(row: &mut [f64], from: Nanos, to: Nanos, count: u32, horizon: Nanos) {
    if count == 0 || to <= from {
        return;
    }
    let h = u128::from(horizon.max(1));
    let n = TIMELINE_BUCKETS as u128;
    // The first time in bucket `b`: ceil(b × horizon / 60).
    let start = |b: usize| (b as u128 * h).div_ceil(n).min(u128::from(Nanos::MAX)) as Nanos;
    let mut b = ((u128::from(from) * n / h) as usize).min(TIMELINE_BUCKETS - 1);
    let mut t = from;
    while t < to {
        let end = if b + 1 < TIMELINE_BUCKETS {
            start(b + 1).min(to)
        } else {
            to
        };
        row[b] += f64::from(count) * (end - t) as f64 / 1e9;
        t = end;
        b += 1;
    }
}

/// What the autoscaler aims for after recommending `raw` at `now` with
/// `wanted` replicas wanted: `raw` when it scales up (limited by
/// `step_up`); else the largest recommendation of the stabilisation
/// window, when below `wanted` (limited by `step_down`). Keeps `history`
/// to the window.
fn stabilised(history: &mut VecDeque<(Nanos, u32)>, rule: &Autoscale, now: Nanos, raw: u32, wanted: u32) -> u32 {
    history.push_back((now, raw));
    while history
        .front()
        .is_some_and(|&(t, _)| t.saturating_add(rule.stabilisation) <= now && t < now)
    {
        history.pop_front();
    }
    if raw > wanted {
        return rule.step_up.map_or(raw, |s| raw.min(wanted + s));
    }
    let keep = history.iter().map(|&(_, n)| n).max().unwrap_or(raw);
    if keep < wanted {
        rule.step_down.map_or(keep, |s| keep.max(wanted - s))
    } else {
        wanted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distribution::Dist;
    use crate::engine::time::SECOND;

    fn rule(stabilisation: Nanos, step_up: Option<u32>, step_down: Option<u32>) -> Autoscale {
        Autoscale {
            metric: Metric::Utilisation,
            target: 0.5,
            interval: SECOND,
            stabilisation,
            provision: Dist::fixed(SECOND).expect("valid"),
            min: 1,
            max: 20,
            tolerance: 0.1,
            step_up,
            step_down,
        }
    }

    /// HPA's scale-down stabilisation by hand: with a 3 s window and one
    /// evaluation a second, recommendations 8, 2, 2, 2, 2 from 5 wanted
    /// hold at 5 while the 8 is in the window (t = 0, 1, 2), then fall to
    /// 2 at t = 3 when it has left; scale-up goes at once.
    #[test]
    fn scale_down_waits_for_the_window() {
        let r = rule(3 * SECOND, None, None);
        let mut h = VecDeque::new();
        assert_eq!(stabilised(&mut h, &r, 0, 8, 5), 8, "up at once");
        let mut wanted = 8;
        let mut got = Vec::new();
        for t in 1..=4 {
            wanted = stabilised(&mut h, &r, t * SECOND, 2, wanted);
            got.push(wanted);
        }
        assert_eq!(got, [8, 8, 2, 2]);
        // Steps limit both directions.
        let r = rule(0, Some(2), Some(1));
        let mut h = VecDeque::new();
        assert_eq!(stabilised(&mut h, &r, 0, 9, 4), 6);
        assert_eq!(stabilised(&mut h, &r, SECOND, 1, 6), 5);
        assert_eq!(stabilised(&mut h, &r, 2 * SECOND, 6, 6), 6, "no change");
    }

    /// The rule's property: a scale-down never goes below any
    /// recommendation made within the window, a scale-up never above the
    /// recommendation, and with no window the result is the
    /// recommendation itself (within the step limits).
    #[test]
    fn stabilisation_is_the_window_maximum() {
        use rand::SeedableRng as _;
        let mut rng = Rng::seed_from_u64(11);
        for case in 0..200 {
            let window = rng.random_range(0..6u64) * SECOND;
            let r = rule(window, None, None);
            let mut h = VecDeque::new();
            let mut wanted = rng.random_range(1..=20u32);
            let mut past: Vec<(Nanos, u32)> = Vec::new();
            for step in 0..40u64 {
                let now = step * SECOND;
                let raw = rng.random_range(1..=20u32);
                past.push((now, raw));
                let next = stabilised(&mut h, &r, now, raw, wanted);
                let in_window = past
                    .iter()
                    .filter(|&&(t, _)| t == now || t + window > now)
                    .map(|&(_, n)| n)
                    .max()
                    .expect("now is in it");
                let expect = if raw > wanted {
                    raw
                } else if in_window < wanted {
                    in_window
                } else {
                    wanted
                };
                assert_eq!(next, expect, "case {case} step {step}");
                if window == 0 {
                    assert_eq!(next, raw);
                }
                wanted = next;
            }
        }
    }
}
