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
    affected: Vec<bool>,
    detected: bool,
    good_since: Option<Nanos>,
    /// Entry (requests, successes) when it started.
    requests_at_start: (u64, u64),
    ended: bool,
}

/// What the active faults do to replicas and links, in the form the request
/// path reads: the faults write it, the requests only read it. Empty when the
/// world has no requests.
#[derive(Default)]
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
    }
}

/// The fault component: per-trial fault state.
#[derive(Default)]
pub struct Faults {
    /// What the active faults do, for the request path.
    overlay: FaultOverlay,
    rng: Vec<Rng>,
    active: Vec<bool>,
    started: Vec<Nanos>,
    ends: Vec<Nanos>,
    open: Vec<Occurrence>,
    probing: bool,
    /// When the current probe bucket started.
    bucket_start: Nanos,
    /// Per edge: breaker openings seen at the last probe.
    opened: Vec<u64>,
    /// Per service: (successful, all) attempt outcomes in this bucket.
    seen: Vec<[u32; 2]>,
    /// What each fault did.
    results: Vec<FaultResult>,
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
        self.open.clear();
        self.probing = false;
        self.bucket_start = 0;
        self.opened.clear();
        self.opened.resize(w.edges.len(), 0);
        self.seen.clear();
        self.seen.resize(ns, [0, 0]);
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
    pub fn open(&mut self, w: &World, f: usize, now: Nanos, end: Nanos, counts: (u64, u64)) {
        self.open.push(Occurrence {
            fault: f,
            start: now,
            end,
            affected: vec![false; w.services.len()],
            detected: false,
            good_since: None,
            requests_at_start: counts,
            ended: false,
        });
    }

    /// Fault `f` ends (its effects are still on).
    pub fn end(&mut self, cx: &mut Context<'_>, f: usize) {
        self.active[f] = false;
        self.results[f].active_s += (cx.now - self.started[f]) as f64 / 1e9;
        cx.record("fault_end", Subject::Fault(f));
    }

    /// After fault `f`'s end (and its effects are off): its occurrences
    /// count the requests that ran while it was on (`counts` as for
    /// [`Self::open`]), and a process schedules its next occurrence.
    pub fn close(&mut self, cx: &mut Context<'_>, f: usize, counts: (u64, u64)) {
        let (requests, success) = counts;
        for o in &mut self.open {
            if o.fault == f && !o.ended {
                o.ended = true;
                let res = &mut self.results[f];
                res.requests += requests - o.requests_at_start.0;
                res.success += success - o.requests_at_start.1;
            }
        }
        if let FaultSchedule::Process { every, .. } = &cx.world.faults[f].schedule {
            let next = cx.now.saturating_add(every.sample(&mut self.rng[f]));
            if next < cx.world.horizon {
                cx.queue.schedule(next, FaultEvent::Start(f as u32).into());
            }
        }
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
        self.overlay.err[r] = 1.0 - ok;
        self.overlay.cap[r] = serve.concurrency.map(|c| (f64::from(c) * share).floor() as u32);
        true
    }

    /// The extra serving delay of the latency faults on replica `r`.
    pub fn delay(&mut self, w: &World, r: usize) -> Nanos {
        let mut d: Nanos = 0;
        for (f, spec) in w.faults.iter().enumerate() {
            if let FaultKind::Latency(dist) = &spec.kind
                && self.active[f]
                && spec.replicas.contains(&r)
            {
                d = d.saturating_add(dist.sample(&mut self.rng[f]));
            }
        }
        d
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
                FaultKind::Latency(dist) => delay = delay.saturating_add(dist.sample(&mut self.rng[f])),
                _ => {}
            }
        }
        (cut, delay)
    }

    /// Starts the probe (unless it runs): `opened` are the edges' breaker
    /// openings so far.
    pub fn start_probing(&mut self, cx: &mut Context<'_>, opened: &[u64]) {
        if self.probing {
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
    /// detected is detected now.
    pub fn signal(&mut self, now: Nanos) {
        for o in &mut self.open {
            if !o.detected && now >= o.start {
                o.detected = true;
                let r = &mut self.results[o.fault];
                r.detected += 1;
                r.detect_s += (now - o.start) as f64 / 1e9;
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
    pub fn probe_close(&mut self, cx: &mut Context<'_>, from: Nanos, bad: &[bool]) {
        let (c, now) = (cx.world.cascade, cx.now);
        self.seen.iter_mut().for_each(|s| *s = [0, 0]);
        let any_bad = bad.iter().any(|&b| b);
        let mut i = 0;
        while i < self.open.len() {
            let o = &mut self.open[i];
            if from < o.end {
                for (a, &b) in o.affected.iter_mut().zip(bad) {
                    *a |= b;
                }
            }
            let mut done = false;
            if from >= o.end {
                if any_bad {
                    o.good_since = None;
                } else {
                    let since = *o.good_since.get_or_insert(from);
                    if now - since >= c.settle {
                        let res = &mut self.results[o.fault];
                        let t = since.saturating_sub(o.end) as f64 / 1e9;
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
                tally_affected(&mut self.results[o.fault], &o);
            } else {
                i += 1;
            }
        }
        if self.open.is_empty() && !self.active.iter().any(|&a| a) && cx.trace.is_none() {
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
        for o in std::mem::take(&mut self.open) {
            let res = &mut self.results[o.fault];
            if !o.ended {
                res.requests += requests - o.requests_at_start.0;
                res.success += success - o.requests_at_start.1;
            } else if o.end.saturating_add(settle) <= horizon {
                // Ended in time to recover, and did not: metastable.
                res.judged += 1;
            }
            tally_affected(res, &o);
        }
    }
}

fn tally_affected(res: &mut FaultResult, o: &Occurrence) {
    for (n, &a) in res.affected.iter_mut().zip(&o.affected) {
        *n += u32::from(a);
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
        faults.open(&w, 0, at, end, (0, 0));
        faults.signal(at + 2_000_000_000);
        faults.signal(at + 3_000_000_000);
        let r = &faults.results()[0];
        assert_eq!(r.detected, 1);
        assert!((r.detect_s - 2.0).abs() < 1e-9);
    }
}
