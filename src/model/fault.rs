//! Injected faults: when they start and end, what they do to replicas,
//! regions and links, and what each occurrence did to the system.
//!
//! # Effects
//! - crash: the replicas (or the region) stop serving; connections are
//!   refused and those in flight are reset, as for a natural failure. The
//!   replicas' own failure clocks keep running underneath.
//! - hang: the replicas stop serving but accept connections and never
//!   answer; only the caller's timeout ends an attempt.
//! - latency: serving on the replicas, or delivery over the link, takes the
//!   added delay drawn per request.
//! - errors: a served request also fails with the fault's chance.
//! - capacity: each replica keeps `floor(share * concurrency)` slots; jobs
//!   already running finish, new ones wait for a slot under the new limit.
//! - partition: calls across the link get no answer.
//! - clock_skew: the replicas read the absolute deadline a request carries
//!   with a clock that is off: ahead, they see it (nearly) expired and give
//!   up on downstream calls early; behind, they keep calling past it.
//!
//! A liveness restart cures a hang: the restarted process is a new one,
//! so the hang faults holding the replica let go of it for the rest of
//! their occurrence (a fault that recurs hangs it again at its next
//! occurrence); a crash fault's hold stays.
//!
//! Overlapping faults add up: a replica is held down while any crash or
//! hang holds it, error chances combine as independent causes, capacity
//! takes the smallest share, latencies add.
//!
//! # Measuring an occurrence (request-level scenarios)
//! While any fault is active, or an ended one has not yet recovered, a
//! probe runs every `cascade.bucket` and computes, per service, the
//! success ratio its callers saw over the bucket (attempt outcomes on the
//! edges into it). A service is *affected* by an occurrence when one of
//! its buckets overlapping the fault falls below `cascade.threshold`. The
//! occurrence is *detected* at the first defensive reaction while it is
//! open: a health check marking a replica unhealthy, a breaker opening, a
//! standby being promoted, a region's traffic moving. It has *recovered*
//! once `cascade.settle` of buckets after its end pass with every service
//! above the threshold; the time to recover runs from the fault's end to
//! the first of those buckets. An occurrence that ended early enough to be
//! judged but never recovered before the horizon is a metastable failure.
//!
//! # The component
//! [`Faults`] owns the schedules' streams, the [`FaultOverlay`] and the
//! open occurrences. Its handlers change only that state and schedule only
//! fault events; what a fault does to replicas and regions (hold them, let
//! them go, start queued jobs under new slots) it reports as a
//! [`FaultReach`] that the trial carries out, and what it needs of the
//! requests (figures so far, breakers opened) the trial hands it.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};

use super::event::{Context, FaultEvent};
use super::trace::Subject;
use super::world::World;
use crate::engine::Nanos;
use crate::random::{self, Purpose, Rng};
use crate::scenario::{FaultKind, FaultSchedule};

/// What one fault did in one trial. Times in seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultResult {
    /// Occurrences that started before the horizon.
    pub occurrences: u32,
    /// Time the fault was active within the horizon.
    pub active_s: f64,
    /// Per service: occurrences that affected it (request level).
    pub affected: Vec<u32>,
    /// Occurrences with a defensive reaction while open.
    pub detected: u32,
    /// Sum of their times to detect.
    pub detect_s: f64,
    /// Occurrences that ended early enough for recovery to be judged.
    pub judged: u32,
    /// Of those, the ones that recovered.
    pub recovered: u32,
    /// Sum of their times to recover.
    pub recover_s: f64,
    /// Longest time to recover.
    pub recover_max_s: f64,
    /// Requests concluded while the fault was active.
    pub requests: u64,
    /// Full successes among them.
    pub success: u64,
}

/// An occurrence still being measured.
#[derive(Debug, Clone)]
struct Occurrence {
    fault: usize,
    start: Nanos,
    end: Nanos,
    /// Probe buckets judged before it opened: the buckets judged from then
    /// until its end overlap it.
    first_bucket: u64,
    detected: bool,
    /// Its place in [`Faults::order`].
    pos: usize,
    /// Start of the first bucket judged after its end: from then on it
    /// waits to recover (its affected services are tallied).
    entered: Option<Nanos>,
    ended: bool,
}

/// What the active faults do to replicas and links, in the form the request
/// path reads: the faults write it, the requests only read it. Empty when the
/// world has no requests.
#[derive(Default, Clone)]
pub struct FaultOverlay {
    /// Per replica: hang faults holding it (empty until reset).
    pub hung: Vec<u16>,
    /// Hang faults active on any replica.
    pub hung_any: u32,
    /// Per replica: latency faults slowing it.
    pub slow: Vec<u16>,
    /// Latency faults active on any replica.
    pub slow_any: u32,
    /// Per edge: latency faults slowing the link.
    pub edge_slow: Vec<u16>,
    /// Per edge: partitions cutting the link.
    pub edge_cut: Vec<u16>,
    /// Active faults on links (edges or between regions).
    pub link_faults: u16,
    /// Per replica: chance a served request fails, faults included.
    pub err: Vec<f64>,
    /// Per replica: slots, capacity faults included; `None` = unlimited.
    pub cap: Vec<Option<u32>>,
    /// Per replica: how far its clock is ahead (negative: behind).
    pub skew: Vec<i64>,
    /// Clock-skew faults active anywhere.
    pub skew_any: u32,
    /// Per replica: in a stop-the-world pause (`gc_pause`): no slot.
    pub paused: Vec<bool>,
}

impl FaultOverlay {
    /// No fault in effect: nothing hung, slow, cut or skewed; each
    /// replica's own error chance and slots.
    fn reset(&mut self, w: &World) {
        let nr = w.replicas.len();
        for v in [&mut self.hung, &mut self.slow] {
            v.clear();
            v.resize(nr, 0);
        }
        for v in [&mut self.edge_slow, &mut self.edge_cut] {
            v.clear();
            v.resize(w.edges.len(), 0);
        }
        self.hung_any = 0;
        self.slow_any = 0;
        self.skew.clear();
        self.skew.resize(nr, 0);
        self.skew_any = 0;
        self.link_faults = 0;
        self.err.clear();
        self.err
            .extend(w.replicas.iter().map(|r| w.services[r.service].serve.error_rate));
        self.cap.clear();
        self.cap
            .extend(w.replicas.iter().map(|r| w.services[r.service].serve.concurrency));
        self.paused.clear();
        self.paused.resize(nr, false);
    }
}

/// The fault component: per-trial fault state.
#[derive(Default, Clone)]
pub struct Faults {
    /// What the active faults do, for the request path.
    overlay: FaultOverlay,
    rng: Vec<Rng>,
    active: Vec<bool>,
    started: Vec<Nanos>,
    ends: Vec<Nanos>,
    /// The open occurrences, in slots reused once an occurrence is closed
    /// for good (`free`).
    slots: Vec<Occurrence>,
    free: Vec<u32>,
    /// The open occurrences' slots in the order the judging visits them:
    /// appended when one opens, the last moved into the place of one that
    /// recovers. Sums of seconds add up in this order, so it is kept
    /// exactly as a single list judged front to back would keep it.
    order: Vec<u32>,
    /// Places in `order` of the occurrences not yet detected (a signal
    /// detects them all, so each is visited once).
    undetected: BTreeSet<usize>,
    /// Occurrences still overlapping the buckets, by end.
    ending: BinaryHeap<Reverse<(Nanos, u32)>>,
    /// Occurrences past their end waiting to recover, in the order they
    /// got there (their `entered` never decreases along it).
    waiting: VecDeque<u32>,
    /// Per fault: the slot of its occurrence still on and the trial's
    /// (requests, successes) when it started.
    running: Vec<Option<(u32, (u64, u64))>>,
    /// Buckets judged so far.
    buckets: u64,
    /// Per service: 1 + the index of the last bucket it fell below the
    /// threshold in (0: none).
    last_bad: Vec<u64>,
    /// Start of the run of buckets without a service below the threshold
    /// that the last bucket ends (`None` when the last one had one).
    good_run: Option<Nanos>,
    /// Work done beyond handling events (occurrences, services and
    /// replicas visited), counted against the event budget.
    work: u64,
    probing: bool,
    /// When the current probe bucket started.
    bucket_start: Nanos,
    /// Per edge: breaker openings seen at the last probe.
    opened: Vec<u64>,
    /// Per service: (successful, all) attempt outcomes in this bucket.
    seen: Vec<[u32; 2]>,
    /// What each fault did.
    results: Vec<FaultResult>,
    /// Per replica: the deploy whose bad release it serves (empty
    /// without deploys); its errors and latency join the faults' here.
    release: Vec<Option<u32>>,
    /// Per deploy: draws of its bad release's latency.
    release_rng: Vec<Rng>,
    /// (fault, replica) pairs whose hang a liveness restart cured during
    /// the fault's current occurrence: its end must not let go of them
    /// again.
    cured: Vec<(u32, u32)>,
    /// Only the schedule runs (the availability process of a windowed
    /// trial): no occurrence is opened or probed.
    time_only: bool,
    /// Per fault: the stream of its per-request draws (latency) when it is
    /// not the schedule's (a windowed trial's window, whose schedule draws
    /// must follow its availability process's); empty otherwise.
    draws: Vec<Rng>,
}

/// What turning a fault on or off asks of the other components, replica by
/// replica of the fault's target (its overlay changes are already made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultReach {
    /// Nothing beyond the overlay (latency, partition, clock skew).
    Overlay,
    /// Hold each replica down, or let it go (crash, hang), then the region
    /// (a region crash). Call [`Faults::hold_hung`] on each replica first.
    Hold {
        /// A hang: connections stay open (no reset), and it is marked hung.
        hang: bool,
    },
    /// The replicas' error chance and slots changed: call
    /// [`Faults::refresh`] on each, and start queued jobs that now fit.
    Refresh,
}

impl Faults {
    /// What the active faults do, for the request path.
    #[inline]
    pub fn overlay(&self) -> &FaultOverlay {
        &self.overlay
    }

    /// No fault in effect in the overlay (a request component starts).
    pub fn reset_overlay(&mut self, w: &World) {
        self.overlay.reset(w);
    }

    /// Whether probes are counting outcomes.
    #[inline]
    pub fn probing(&self) -> bool {
        self.probing
    }

    /// Counts an attempt outcome seen by callers of `service` (only while
    /// [`Self::probing`]).
    #[inline]
    pub fn observe(&mut self, service: usize, ok: bool) {
        let seen = &mut self.seen[service];
        seen[0] += u32::from(ok);
        seen[1] += 1;
    }

    /// Per service: (successful, all) attempt outcomes in this bucket.
    pub fn seen(&self) -> &[[u32; 2]] {
        &self.seen
    }

    /// What each fault did in the trial (complete after [`Self::finish`]).
    pub fn results(&self) -> &[FaultResult] {
        &self.results
    }

    /// No fault active, none scheduled, nothing measured.
    pub fn clear(&mut self, w: &World, seed: u64, trial: u64) {
        let n = w.faults.len();
        let ns = w.services.len();
        self.rng.clear();
        self.rng
            .extend((0..n).map(|i| random::stream(seed, trial, Purpose::Fault, i as u64)));
        self.active.clear();
        self.active.resize(n, false);
        self.started.clear();
        self.started.resize(n, 0);
        self.ends.clear();
        self.ends.resize(n, 0);
        self.slots.clear();
        self.free.clear();
        self.order.clear();
        self.undetected.clear();
        self.ending.clear();
        self.waiting.clear();
        self.running.clear();
        self.running.resize(n, None);
        self.buckets = 0;
        self.last_bad.clear();
        self.last_bad.resize(ns, 0);
        self.good_run = None;
        self.work = 0;
        self.probing = false;
        self.bucket_start = 0;
        self.opened.clear();
        self.opened.resize(w.edges.len(), 0);
        self.seen.clear();
        self.seen.resize(ns, [0, 0]);
        self.release.clear();
        self.release_rng.clear();
        self.cured.clear();
        self.time_only = false;
        self.draws.clear();
        if !w.ops.deploys.is_empty() {
            self.release.resize(w.replicas.len(), None);
            self.release_rng
                .extend((0..w.ops.deploys.len()).map(|d| random::stream(seed, trial, Purpose::Release, d as u64)));
        }
        self.results.clear();
        self.results.resize(
            n,
            FaultResult {
                affected: vec![0; if w.has_traffic() { ns } else { 0 }],
                ..FaultResult::default()
            },
        );
    }

    /// Schedules each fault's first occurrence (after [`Self::clear`]).
    pub fn schedule_first(&mut self, cx: &mut Context<'_>) {
        let w = cx.world;
        for (i, spec) in w.faults.iter().enumerate() {
            let first = match &spec.schedule {
                FaultSchedule::Once(at) => *at,
                FaultSchedule::Process { first: Some(at), .. } => *at,
                FaultSchedule::Process { first: None, every } => every.sample(&mut self.rng[i]),
            };
            if first < w.horizon {
                cx.queue.schedule(first, FaultEvent::Start(i as u32).into());
            }
        }
    }

    /// Fault `f` starts: its length is drawn and its end scheduled. Returns
    /// when it ends.
    pub fn start(&mut self, cx: &mut Context<'_>, f: usize) -> Nanos {
        let spec = &cx.world.faults[f];
        let length = spec.duration.sample(&mut self.rng[f]).max(1);
        let end = cx.now.saturating_add(length);
        self.active[f] = true;
        self.started[f] = cx.now;
        self.ends[f] = end;
        self.results[f].occurrences += 1;
        cx.queue.schedule(end, FaultEvent::End(f as u32).into());
        cx.record("fault_start", Subject::Fault(f));
        end
    }

    /// An occurrence of fault `f` opens (request-level scenarios):
    /// `counts` are the trial's (requests, successes) so far.
    pub fn open(&mut self, f: usize, now: Nanos, end: Nanos, counts: (u64, u64)) {
        if self.time_only {
            return;
        }
        let o = Occurrence {
            fault: f,
            start: now,
            end,
            first_bucket: self.buckets,
            detected: false,
            pos: self.order.len(),
            entered: None,
            ended: false,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = o;
                slot
            }
            None => {
                self.slots.push(o);
                (self.slots.len() - 1) as u32
            }
        };
        self.undetected.insert(self.order.len());
        self.order.push(slot);
        self.ending.push(Reverse((end, slot)));
        self.running[f] = Some((slot, counts));
    }

    /// Fault `f` ends (its effects are still on).
    pub fn end(&mut self, cx: &mut Context<'_>, f: usize) {
        self.active[f] = false;
        self.results[f].active_s += (cx.now - self.started[f]) as f64 / 1e9;
        cx.record("fault_end", Subject::Fault(f));
    }

    /// After fault `f`'s end (and its effects are off): its occurrence
    /// counts the requests that ran while it was on (`counts` as for
    /// [`Self::open`]), and a process schedules its next occurrence.
    /// Occurrences of one fault never overlap (the next is drawn at the
    /// end of the last), so only the one still on is touched.
    pub fn close(&mut self, cx: &mut Context<'_>, f: usize, counts: (u64, u64)) {
        let (requests, success) = counts;
        if let Some((slot, at_start)) = self.running[f].take() {
            // An occurrence waits to recover only once a bucket starting
            // after its end is judged, after this event: it is still open.
            self.slots[slot as usize].ended = true;
            let res = &mut self.results[f];
            res.requests += requests - at_start.0;
            res.success += success - at_start.1;
        }
        if let FaultSchedule::Process { every, .. } = &cx.world.faults[f].schedule {
            let next = cx.now.saturating_add(every.sample(&mut self.rng[f]));
            if next < cx.world.horizon {
                cx.queue.schedule(next, FaultEvent::Start(f as u32).into());
            }
        }
    }

    /// Runs only the schedule from now on (after [`Self::clear`]): starts,
    /// ends and their holds, no occurrence measured (a windowed trial's
    /// availability process).
    pub fn set_time_only(&mut self) {
        self.time_only = true;
    }

    /// Whether any fault is active or any occurrence is still being
    /// measured (not yet recovered, nor closed at the horizon).
    pub fn measuring(&self) -> bool {
        !self.order.is_empty() || self.active.iter().any(|&a| a)
    }

    /// Per fault: whether it is active now.
    pub fn active(&self) -> &[bool] {
        &self.active
    }

    /// Takes the schedule of `from` (its streams and which faults are on,
    /// since when and until when), so that this component's starts and
    /// ends follow `from`'s: the per-request draws keep this component's
    /// own streams (as set by [`Self::clear`]). Used by a windowed trial's
    /// window, which starts with no fault active.
    pub fn take_schedule(&mut self, from: &Faults) {
        self.draws = std::mem::take(&mut self.rng);
        self.rng.clone_from(&from.rng);
        self.active.clone_from(&from.active);
        self.started.clone_from(&from.started);
        self.ends.clone_from(&from.ends);
    }

    /// Work done beyond handling events so far in the trial: occurrences,
    /// services and replicas visited by the fault component and the
    /// components it reaches ([`Self::add_work`]).
    #[inline]
    pub fn work(&self) -> u64 {
        self.work
    }

    /// Counts `units` of work done inside one event (one per replica,
    /// service or occurrence visited).
    #[inline]
    pub fn add_work(&mut self, units: usize) {
        self.work = self.work.saturating_add(units as u64);
    }

    /// Turns fault `f`'s overlay effects on or off and says what is left
    /// for the other components to do.
    pub fn apply(&mut self, w: &World, f: usize, on: bool) -> FaultReach {
        let spec = &w.faults[f];
        let step = |x: &mut u16| *x = if on { *x + 1 } else { *x - 1 };
        let t = &mut self.overlay;
        match spec.kind {
            FaultKind::Crash | FaultKind::Hang => {
                return FaultReach::Hold {
                    hang: matches!(spec.kind, FaultKind::Hang),
                };
            }
            FaultKind::Errors(_) | FaultKind::Capacity(_) => return FaultReach::Refresh,
            // No request component (a windowed trial's availability
            // process): nothing reads the overlay.
            _ if t.slow.is_empty() => return FaultReach::Overlay,
            FaultKind::Latency(_) => {
                for &r in &spec.replicas {
                    step(&mut t.slow[r]);
                }
                if !spec.replicas.is_empty() {
                    t.slow_any = if on { t.slow_any + 1 } else { t.slow_any - 1 };
                }
                for &e in &spec.edges {
                    step(&mut t.edge_slow[e]);
                }
                if !spec.edges.is_empty() || spec.region_link.is_some() {
                    step(&mut t.link_faults);
                }
            }
            FaultKind::Partition => {
                for &e in &spec.edges {
                    step(&mut t.edge_cut[e]);
                }
                step(&mut t.link_faults);
            }
            FaultKind::ClockSkew(skew) => {
                let d = if on { skew } else { -skew };
                for &r in &spec.replicas {
                    t.skew[r] += d;
                }
                t.skew_any = if on { t.skew_any + 1 } else { t.skew_any - 1 };
            }
        }
        FaultReach::Overlay
    }

    /// A hang fault takes hold of replica `r`, or lets go: the request path
    /// sees it hung (before the replica is held down).
    pub fn hold_hung(&mut self, r: usize, on: bool) {
        let t = &mut self.overlay;
        if !t.hung.is_empty() {
            t.hung[r] = if on { t.hung[r] + 1 } else { t.hung[r] - 1 };
            t.hung_any = if on { t.hung_any + 1 } else { t.hung_any - 1 };
        }
    }

    /// A liveness restart of replica `r` ends the hang of every active
    /// hang fault holding it (the restarted process is not the one that
    /// hung) for the rest of that fault's occurrence: each lets go of it in
    /// the overlay now, and [`Self::take_cured`] keeps its end from letting
    /// go twice. Returns how many holds the caller must release on the
    /// replica in the availability component (0 when no hang holds it).
    pub fn cure_hang(&mut self, w: &World, r: usize) -> usize {
        let mut n = 0;
        for (f, spec) in w.faults.iter().enumerate() {
            if !self.active[f] || !matches!(spec.kind, FaultKind::Hang) || !spec.replicas.contains(&r) {
                continue;
            }
            let pair = (f as u32, r as u32);
            if self.cured.contains(&pair) {
                continue;
            }
            self.cured.push(pair);
            self.hold_hung(r, false);
            n += 1;
        }
        self.add_work(w.faults.len());
        n
    }

    /// Whether fault `f`'s hold on replica `r` was already let go by a
    /// liveness restart ([`Self::cure_hang`]); forgets it, since the fault's
    /// occurrence is ending.
    pub fn take_cured(&mut self, f: usize, r: usize) -> bool {
        match self.cured.iter().position(|&p| p == (f as u32, r as u32)) {
            Some(i) => {
                self.cured.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Recomputes replica `r`'s error chance and slots from the active
    /// error and capacity faults. Returns whether the overlay is kept (a
    /// request-level world), so queued jobs may now fit.
    pub fn refresh(&mut self, w: &World, r: usize) -> bool {
        if self.overlay.err.is_empty() {
            return false;
        }
        let serve = &w.services[w.replicas[r].service].serve;
        let mut ok = 1.0 - serve.error_rate;
        let mut share: f64 = 1.0;
        for (f, spec) in w.faults.iter().enumerate() {
            if !self.active[f] || !spec.replicas.contains(&r) {
                continue;
            }
            match spec.kind {
                FaultKind::Errors(p) => ok *= 1.0 - p,
                FaultKind::Capacity(c) => share = share.min(c),
                _ => {}
            }
        }
        if let Some(d) = self.release.get(r).copied().flatten()
            && let crate::scenario::ReleaseEffect::Errors(p) = w.ops.deploys[d as usize].effect
        {
            ok *= 1.0 - p;
        }
        self.overlay.err[r] = 1.0 - ok;
        self.overlay.cap[r] = if self.overlay.paused[r] {
            Some(0)
        } else {
            serve.concurrency.map(|c| (f64::from(c) * share).floor() as u32)
        };
        true
    }

    /// Replica `r` enters a stop-the-world pause (`on`: no slot, so no job
    /// starts) or leaves it (its slots as the faults leave them).
    pub fn set_paused(&mut self, w: &World, r: usize, on: bool) {
        self.overlay.paused[r] = on;
        self.refresh(w, r);
    }

    /// The extra serving delay of the latency faults on replica `r`.
    pub fn delay(&mut self, w: &World, r: usize) -> Nanos {
        let mut d: Nanos = 0;
        for (f, spec) in w.faults.iter().enumerate() {
            if let FaultKind::Latency(dist) = &spec.kind
                && self.active[f]
                && spec.replicas.contains(&r)
            {
                let rng = self.draws.get_mut(f).unwrap_or(&mut self.rng[f]);
                d = d.saturating_add(dist.sample(rng));
            }
        }
        if let Some(dep) = self.release.get(r).copied().flatten()
            && let crate::scenario::ReleaseEffect::Latency(dist) = &w.ops.deploys[dep as usize].effect
        {
            d = d.saturating_add(dist.sample(&mut self.release_rng[dep as usize]));
        }
        d
    }

    /// Replica `r` starts serving deploy `d`'s bad release (`Some`), or
    /// stops: its errors or latency join the overlay like a fault's.
    /// Returns whether the overlay is kept (a request-level world).
    pub fn set_release(&mut self, w: &World, r: usize, d: Option<usize>) -> bool {
        if self.overlay.err.is_empty() {
            return false;
        }
        let was = self.release[r];
        self.release[r] = d.map(|d| d as u32);
        let slow = |d: Option<u32>| {
            d.is_some_and(|d| {
                matches!(
                    w.ops.deploys[d as usize].effect,
                    crate::scenario::ReleaseEffect::Latency(_)
                )
            })
        };
        let t = &mut self.overlay;
        if slow(was) {
            t.slow[r] -= 1;
            t.slow_any -= 1;
        }
        if slow(self.release[r]) {
            t.slow[r] += 1;
            t.slow_any += 1;
        }
        self.refresh(w, r)
    }

    /// Whether an attempt on `edge` from `from_region` to a replica in
    /// `to_region` is cut, and the delay of slow links on its way.
    pub fn link_state(
        &mut self,
        w: &World,
        edge: usize,
        from_region: Option<usize>,
        to_region: Option<usize>,
    ) -> (bool, Nanos) {
        let mut cut = self.overlay.edge_cut[edge] > 0;
        let mut delay: Nanos = 0;
        for (f, spec) in w.faults.iter().enumerate() {
            if !self.active[f] {
                continue;
            }
            let crosses = match (spec.region_link, from_region, to_region) {
                (Some((a, b)), Some(x), Some(y)) => (a == x && b == y) || (a == y && b == x),
                _ => false,
            };
            let on_edge = spec.edges.contains(&edge);
            if !(crosses || on_edge) {
                continue;
            }
            match &spec.kind {
                FaultKind::Partition => cut = true,
                FaultKind::Latency(dist) => {
                    let rng = self.draws.get_mut(f).unwrap_or(&mut self.rng[f]);
                    delay = delay.saturating_add(dist.sample(rng));
                }
                _ => {}
            }
        }
        (cut, delay)
    }

    /// Starts the probe (unless it runs): `opened` are the edges' breaker
    /// openings so far.
    pub fn start_probing(&mut self, cx: &mut Context<'_>, opened: &[u64]) {
        if self.probing || self.time_only {
            return;
        }
        self.probing = true;
        self.bucket_start = cx.now;
        self.seen.iter_mut().for_each(|s| *s = [0, 0]);
        for (e, &b) in opened.iter().enumerate() {
            self.opened[e] = b;
        }
        let bucket = cx.world.cascade.bucket;
        let next = (cx.now / bucket + 1).saturating_mul(bucket);
        cx.queue.schedule(next, FaultEvent::Probe.into());
    }

    /// A defensive reaction happened: every open occurrence not yet
    /// detected is detected now (in the judging order, which is the order
    /// the times to detect add up in).
    pub fn signal(&mut self, now: Nanos) {
        if self.undetected.is_empty() {
            return;
        }
        let undetected = std::mem::take(&mut self.undetected);
        self.add_work(undetected.len());
        for pos in undetected {
            let o = &mut self.slots[self.order[pos] as usize];
            if now >= o.start {
                o.detected = true;
                let r = &mut self.results[o.fault];
                r.detected += 1;
                r.detect_s += (now - o.start) as f64 / 1e9;
            } else {
                self.undetected.insert(pos);
            }
        }
    }

    /// Whether the last bucket, ending at `horizon`, is still to judge.
    pub fn probe_due(&self, horizon: Nanos) -> bool {
        self.probing && self.bucket_start < horizon
    }

    /// A probe bucket ends at `now`: a breaker opened since the last one is
    /// a defensive reaction (`opened` as for [`Self::start_probing`]).
    /// Returns when the bucket started and which services fell below the
    /// threshold in it; [`Self::probe_close`] judges the occurrences.
    pub fn probe_open(&mut self, w: &World, now: Nanos, opened: Vec<u64>) -> (Nanos, Vec<bool>) {
        let c = w.cascade;
        let from = self.bucket_start;
        self.bucket_start = now;
        if opened.iter().zip(&self.opened).any(|(a, b)| a != b) {
            self.signal(now);
        }
        self.opened = opened;
        let bad = self
            .seen
            .iter()
            .map(|&[ok, all]| all > 0 && f64::from(ok) < c.threshold * f64::from(all))
            .collect();
        (from, bad)
    }

    /// Judges the open occurrences on the bucket `[from, now)` and
    /// schedules the next probe while one is needed.
    ///
    /// An occurrence overlaps the buckets judged from its start until the
    /// first that starts at or after its end; it is affected where a
    /// service fell below the threshold in one of them, which `last_bad`
    /// answers once it gets there. From that bucket on it waits to
    /// recover: it has once `settle` has passed since the later of that
    /// bucket and the start of the current run of buckets with every
    /// service above the threshold. So the ones that recover are a prefix
    /// of `waiting`, and each occurrence costs O(services + log open) in
    /// all rather than O(services) per bucket.
    pub fn probe_close(&mut self, cx: &mut Context<'_>, from: Nanos, bad: &[bool]) {
        let (c, now) = (cx.world.cascade, cx.now);
        self.seen.iter_mut().for_each(|s| *s = [0, 0]);
        self.add_work(bad.len());
        while let Some(&Reverse((end, slot))) = self.ending.peek() {
            if end > from {
                break;
            }
            self.ending.pop();
            let o = &mut self.slots[slot as usize];
            o.entered = Some(from);
            let res = &mut self.results[o.fault];
            for (n, &last) in res.affected.iter_mut().zip(&self.last_bad) {
                *n += u32::from(last > o.first_bucket);
            }
            self.waiting.push_back(slot);
            self.work = self.work.saturating_add(1 + res.affected.len() as u64);
        }
        self.buckets += 1;
        for (last, &b) in self.last_bad.iter_mut().zip(bad) {
            if b {
                *last = self.buckets;
            }
        }
        if bad.iter().any(|&b| b) {
            self.good_run = None;
        } else {
            let run = *self.good_run.get_or_insert(from);
            let since = |o: &Occurrence| o.entered.map_or(run, |e| e.max(run));
            let mut recovered = BTreeSet::new();
            while let Some(&slot) = self.waiting.front() {
                let o = &self.slots[slot as usize];
                if now - since(o) < c.settle {
                    break;
                }
                self.waiting.pop_front();
                recovered.insert(o.pos);
            }
            self.add_work(recovered.len());
            // Closed in the order a front-to-back walk over `order` that
            // moves the last into each freed place would close them.
            while let Some(pos) = recovered.pop_first() {
                let slot = self.order[pos];
                let o = &self.slots[slot as usize];
                let since = since(o);
                let res = &mut self.results[o.fault];
                let t = since.saturating_sub(o.end) as f64 / 1e9;
                res.judged += 1;
                res.recovered += 1;
                res.recover_s += t;
                res.recover_max_s = res.recover_max_s.max(t);
                self.undetected.remove(&pos);
                let last = self.order.len() - 1;
                self.order.swap_remove(pos);
                if pos != last {
                    self.slots[self.order[pos] as usize].pos = pos;
                    if recovered.remove(&last) {
                        recovered.insert(pos);
                    }
                    if self.undetected.remove(&last) {
                        self.undetected.insert(pos);
                    }
                }
                self.free.push(slot);
            }
        }
        if self.order.is_empty() && !self.active.iter().any(|&a| a) && cx.trace.is_none() {
            self.probing = false;
        } else {
            cx.queue
                .schedule(now.saturating_add(c.bucket), FaultEvent::Probe.into());
        }
    }

    /// Closes the trial's books at `horizon` (after the last probe):
    /// `counts` as for [`Self::open`].
    pub fn finish(&mut self, w: &World, horizon: Nanos, counts: (u64, u64)) {
        let (requests, success) = counts;
        let settle = w.cascade.settle;
        for (i, active) in self.active.iter().enumerate() {
            if *active {
                self.results[i].active_s += (horizon - self.started[i]) as f64 / 1e9;
            }
        }
        for (f, running) in self.running.iter_mut().enumerate() {
            if let Some((_, at_start)) = running.take() {
                let res = &mut self.results[f];
                res.requests += requests - at_start.0;
                res.success += success - at_start.1;
            }
        }
        for &slot in &self.order {
            let o = &self.slots[slot as usize];
            let res = &mut self.results[o.fault];
            if o.ended && o.end.saturating_add(settle) <= horizon {
                // Ended in time to recover, and did not: metastable.
                res.judged += 1;
            }
            if o.entered.is_none() {
                for (n, &last) in res.affected.iter_mut().zip(&self.last_bad) {
                    *n += u32::from(last > o.first_bucket);
                }
            }
        }
        self.order.clear();
        self.slots.clear();
        self.free.clear();
        self.undetected.clear();
        self.ending.clear();
        self.waiting.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EventQueue;
    use crate::model::event::Event;

    const TEXT: &str = r#"horizon = "1h"
[[workload]]
name = "users"
to = "api"
rate = 10
[[service]]
name = "api"
topology = "active-active"
replicas = 2
concurrency = 4
service_time = { mean = "10ms" }
error_rate = 0.1
[[fault]]
name = "errors"
at = "10m"
duration = "5m"
kind = "errors"
target = "api"
error_rate = 0.5
[[fault]]
name = "half"
at = "20m"
duration = "5m"
kind = "capacity"
target = "api[1]"
capacity = 0.5
[[fault]]
name = "hang"
at = "30m"
duration = "5m"
kind = "hang"
target = "api[0]"
"#;

    fn world() -> World {
        let sc = crate::scenario::parse("t.toml", "t", TEXT, &[]).expect("a valid scenario");
        World::compile(&sc)
    }

    /// Runs `f` with a context at `now` over `queue`.
    fn with_cx<T>(w: &World, queue: &mut EventQueue<Event>, now: Nanos, f: impl FnOnce(&mut Context<'_>) -> T) -> T {
        let mut trace = None;
        let mut cx = Context {
            world: w,
            queue,
            trace: &mut trace,
            now,
        };
        f(&mut cx)
    }

    /// The handlers change the overlay and report the rest: error and
    /// capacity faults ask for a refresh, and the refresh combines error
    /// chances as independent causes and takes the floor of the slots.
    #[test]
    fn errors_and_capacity_refresh_the_overlay() {
        let w = world();
        let mut queue = EventQueue::new();
        let mut faults = Faults::default();
        faults.clear(&w, 1, 0);
        faults.reset_overlay(&w);
        with_cx(&w, &mut queue, 0, |cx| faults.schedule_first(cx));
        assert_eq!(queue.len(), 3, "one first occurrence per fault");
        with_cx(&w, &mut queue, 600 * 1_000_000_000, |cx| faults.start(cx, 0));
        assert_eq!(faults.apply(&w, 0, true), FaultReach::Refresh);
        assert!(faults.refresh(&w, 0));
        assert!((faults.overlay().err[0] - (1.0 - 0.9 * 0.5)).abs() < 1e-12);
        with_cx(&w, &mut queue, 1200 * 1_000_000_000, |cx| faults.start(cx, 1));
        assert_eq!(faults.apply(&w, 1, true), FaultReach::Refresh);
        assert!(faults.refresh(&w, 1));
        assert_eq!(faults.overlay().cap[1], Some(2), "floor(0.5 * 4)");
        assert_eq!(faults.overlay().cap[0], Some(4), "api[0] keeps its slots");
        assert_eq!(faults.results()[1].occurrences, 1);
    }

    /// A hang reaches the replicas to hold them, without reset, and marks
    /// them hung for the request path; letting go unmarks them.
    #[test]
    fn a_hang_holds_its_replica_and_marks_it_hung() {
        let w = world();
        let mut faults = Faults::default();
        faults.clear(&w, 1, 0);
        faults.reset_overlay(&w);
        assert_eq!(faults.apply(&w, 2, true), FaultReach::Hold { hang: true });
        faults.hold_hung(0, true);
        assert_eq!((faults.overlay().hung[0], faults.overlay().hung_any), (1, 1));
        faults.hold_hung(0, false);
        assert_eq!((faults.overlay().hung[0], faults.overlay().hung_any), (0, 0));
    }

    /// A defensive reaction detects every open occurrence once, timed from
    /// its start.
    #[test]
    fn a_signal_detects_open_occurrences_once() {
        let w = world();
        let mut queue = EventQueue::new();
        let mut faults = Faults::default();
        faults.clear(&w, 1, 0);
        let at = 600 * 1_000_000_000;
        let end = with_cx(&w, &mut queue, at, |cx| faults.start(cx, 0));
        faults.open(0, at, end, (0, 0));
        faults.signal(at + 2_000_000_000);
        faults.signal(at + 3_000_000_000);
        let r = &faults.results()[0];
        assert_eq!(r.detected, 1);
        assert!((r.detect_s - 2.0).abs() < 1e-9);
    }
    /// Fault, start, end, services affected, detected, good since, ended,
    /// (requests, successes) at its start.
    type RefOccurrence = (usize, Nanos, Nanos, Vec<bool>, bool, Option<Nanos>, bool, (u64, u64));

    /// The books as a single list walked front to back kept them (the
    /// first version): every open occurrence visited at each close, signal
    /// and bucket. The indexed books must give the same results to the bit
    /// (sums of seconds add up in the same order).
    struct Reference {
        open: Vec<RefOccurrence>,
        results: Vec<FaultResult>,
    }

    impl Reference {
        fn close(&mut self, f: usize, counts: (u64, u64)) {
            for o in &mut self.open {
                if o.0 == f && !o.6 {
                    o.6 = true;
                    self.results[f].requests += counts.0 - o.7.0;
                    self.results[f].success += counts.1 - o.7.1;
                }
            }
        }

        fn signal(&mut self, now: Nanos) {
            for o in &mut self.open {
                if !o.4 && now >= o.1 {
                    o.4 = true;
                    self.results[o.0].detected += 1;
                    self.results[o.0].detect_s += (now - o.1) as f64 / 1e9;
                }
            }
        }

        fn tally(res: &mut FaultResult, affected: &[bool]) {
            for (n, &a) in res.affected.iter_mut().zip(affected) {
                *n += u32::from(a);
            }
        }

        fn probe(&mut self, settle: Nanos, from: Nanos, now: Nanos, bad: &[bool]) {
            let any_bad = bad.iter().any(|&b| b);
            let mut i = 0;
            while i < self.open.len() {
                let o = &mut self.open[i];
                if from < o.2 {
                    for (a, &b) in o.3.iter_mut().zip(bad) {
                        *a |= b;
                    }
                }
                let mut done = false;
                if from >= o.2 {
                    if any_bad {
                        o.5 = None;
                    } else {
                        let since = *o.5.get_or_insert(from);
                        if now - since >= settle {
                            let res = &mut self.results[o.0];
                            let t = since.saturating_sub(o.2) as f64 / 1e9;
                            res.judged += 1;
                            res.recovered += 1;
                            res.recover_s += t;
                            res.recover_max_s = res.recover_max_s.max(t);
                            done = true;
                        }
                    }
                }
                if done {
                    let o = self.open.swap_remove(i);
                    Self::tally(&mut self.results[o.0], &o.3);
                } else {
                    i += 1;
                }
            }
        }

        fn finish(&mut self, settle: Nanos, horizon: Nanos, counts: (u64, u64)) {
            for o in std::mem::take(&mut self.open) {
                let res = &mut self.results[o.0];
                if !o.6 {
                    res.requests += counts.0 - o.7.0;
                    res.success += counts.1 - o.7.1;
                } else if o.2.saturating_add(settle) <= horizon {
                    res.judged += 1;
                }
                Self::tally(res, &o.3);
            }
        }
    }

    /// Random occurrences of three faults (often several of one fault
    /// waiting to recover at once), signals and buckets, judged by the
    /// indexed books and by the reference: the same results, to the bit.
    #[test]
    fn the_indexed_books_judge_as_a_walk_over_every_occurrence() {
        let text = TEXT.replace(
            "horizon = \"1h\"",
            "horizon = \"1h\"\n[cascade]\nbucket = \"100ms\"\nsettle = \"300ms\"",
        ) + "[[service]]\nname = \"db\"\n";
        let sc = crate::scenario::parse("t.toml", "t", &text, &[]).expect("a valid scenario");
        let w = World::compile(&sc);
        let (bucket, settle) = (w.cascade.bucket, w.cascade.settle);
        for seed in 0..40 {
            let mut rng = random::stream(seed, 0, Purpose::Fault, 0);
            let mut draw = |n: u64| rand::RngExt::random_range(&mut rng, 0..n);
            let mut queue = EventQueue::new();
            let mut faults = Faults::default();
            faults.clear(&w, seed, 0);
            let mut reference = Reference {
                open: Vec::new(),
                results: faults.results().to_vec(),
            };
            let mut ends: Vec<Option<Nanos>> = vec![None; 3];
            let (mut now, mut counts) = (0, (0u64, 0u64));
            let mut from = 0;
            let horizon = 200 * bucket;
            while now < horizon {
                now += 1 + draw(bucket / 3);
                counts.0 += draw(5);
                counts.1 += draw(counts.0 - counts.1 + 1);
                // Ends before each bucket's end are handled before it is judged.
                let mut close_due = |t: Nanos, faults: &mut Faults, reference: &mut Reference| {
                    for (f, end) in ends.iter_mut().enumerate() {
                        if end.is_some_and(|e| e <= t) {
                            with_cx(&w, &mut queue, t, |cx| faults.close(cx, f, counts));
                            reference.close(f, counts);
                            *end = None;
                        }
                    }
                };
                while from + bucket <= now {
                    let at = from + bucket;
                    close_due(at - 1, &mut faults, &mut reference);
                    let bad: Vec<bool> = (0..2).map(|_| draw(4) == 0).collect();
                    let mut queue = EventQueue::new();
                    with_cx(&w, &mut queue, at, |cx| faults.probe_close(cx, from, &bad));
                    reference.probe(settle, from, at, &bad);
                    from = at;
                }
                close_due(now, &mut faults, &mut reference);
                for (f, end) in ends.iter_mut().enumerate() {
                    match *end {
                        None if draw(3) == 0 => {
                            let e = now + 1 + draw(4 * bucket);
                            faults.open(f, now, e, counts);
                            let o = (f, now, e, vec![false; 2], false, None, false, counts);
                            reference.open.push(o);
                            *end = Some(e);
                        }
                        _ => {}
                    }
                }
                if draw(25) == 0 {
                    faults.signal(now);
                    reference.signal(now);
                }
            }
            faults.finish(&w, from, counts);
            reference.finish(settle, from, counts);
            assert_eq!(faults.results(), &reference.results[..], "seed {seed}");
            assert!(reference.results.iter().any(|r| r.recovered > 1 && r.detected > 1));
        }
    }
}
