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

use crate::engine::Nanos;
use crate::model::trial::{Event, Trial};
use crate::model::world::World;
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
    pub(in crate::model) hung: Vec<u16>,
    /// Hang faults active on any replica.
    pub(in crate::model) hung_any: u32,
    /// Per replica: latency faults slowing it.
    pub(in crate::model) slow: Vec<u16>,
    /// Latency faults active on any replica.
    pub(in crate::model) slow_any: u32,
    /// Per edge: latency faults slowing the link.
    pub(in crate::model) edge_slow: Vec<u16>,
    /// Per edge: partitions cutting the link.
    pub(in crate::model) edge_cut: Vec<u16>,
    /// Active faults on links (edges or between regions).
    pub(in crate::model) link_faults: u16,
    /// Per replica: chance a served request fails, faults included.
    pub(in crate::model) err: Vec<f64>,
    /// Per replica: slots, capacity faults included; `None` = unlimited.
    pub(in crate::model) cap: Vec<Option<u32>>,
    /// Per replica: how far its clock is ahead (negative: behind).
    pub(in crate::model) skew: Vec<i64>,
    /// Clock-skew faults active anywhere.
    pub(in crate::model) skew_any: u32,
}

impl FaultOverlay {
    /// No fault in effect: nothing hung, slow, cut or skewed; each
    /// replica's own error chance and slots.
    pub(in crate::model) fn reset(&mut self, w: &World) {
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

/// Per-trial fault state.
#[derive(Default)]
pub struct FaultState {
    /// What the active faults do, for the request path.
    pub(super) overlay: FaultOverlay,
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
    pub(super) seen: Vec<[u32; 2]>,
    /// What each fault did.
    pub results: Vec<FaultResult>,
}

impl FaultState {
    /// Whether probes are counting outcomes.
    #[inline]
    pub(super) fn probing(&self) -> bool {
        self.probing
    }
}

impl Trial<'_> {
    /// Resets the fault state for trial `trial` and schedules each fault's
    /// first occurrence.
    pub(super) fn reset_faults(&mut self, seed: u64, trial: u64) {
        self.clear_faults(seed, trial);
        let w = self.world;
        for (i, spec) in w.faults.iter().enumerate() {
            let first = match &spec.schedule {
                FaultSchedule::Once(at) => *at,
                FaultSchedule::Process { first: Some(at), .. } => *at,
                FaultSchedule::Process { first: None, every } => every.sample(&mut self.faults.rng[i]),
            };
            if first < w.horizon {
                self.queue.schedule(first, Event::FaultStart(i as u32));
            }
        }
        if self.tracing() && w.has_traffic() {
            self.start_probing(0);
        }
    }

    /// No fault active, none scheduled, nothing measured.
    pub(super) fn clear_faults(&mut self, seed: u64, trial: u64) {
        let w = self.world;
        let n = w.faults.len();
        let ns = w.services.len();
        let f = &mut self.faults;
        f.rng.clear();
        f.rng
            .extend((0..n).map(|i| random::stream(seed, trial, Purpose::Fault, i as u64)));
        f.active.clear();
        f.active.resize(n, false);
        f.started.clear();
        f.started.resize(n, 0);
        f.ends.clear();
        f.ends.resize(n, 0);
        f.open.clear();
        f.probing = false;
        f.bucket_start = 0;
        f.opened.clear();
        f.opened.resize(w.edges.len(), 0);
        f.seen.clear();
        f.seen.resize(ns, [0, 0]);
        f.results.clear();
        f.results.resize(
            n,
            FaultResult {
                affected: vec![0; if w.has_traffic() { ns } else { 0 }],
                ..FaultResult::default()
            },
        );
    }

    pub(in crate::model) fn on_fault_start(&mut self, f: usize, now: Nanos) {
        let spec = &self.world.faults[f];
        let length = spec.duration.sample(&mut self.faults.rng[f]).max(1);
        let end = now.saturating_add(length);
        self.faults.active[f] = true;
        self.faults.started[f] = now;
        self.faults.ends[f] = end;
        self.faults.results[f].occurrences += 1;
        self.queue.schedule(end, Event::FaultEnd(f as u32));
        self.trace_fault(f, now, true);
        self.apply_fault(f, now, true);
        if self.world.has_traffic() {
            let r = &self.traffic.result;
            let occurrence = Occurrence {
                fault: f,
                start: now,
                end,
                affected: vec![false; self.world.services.len()],
                detected: false,
                good_since: None,
                requests_at_start: (r.requests, r.success),
                ended: false,
            };
            self.faults.open.push(occurrence);
            self.start_probing(now);
        }
    }

    pub(in crate::model) fn on_fault_end(&mut self, f: usize, now: Nanos) {
        self.faults.active[f] = false;
        let res = &mut self.faults.results[f];
        res.active_s += (now - self.faults.started[f]) as f64 / 1e9;
        self.trace_fault(f, now, false);
        self.apply_fault(f, now, false);
        let (requests, success) = (self.traffic.result.requests, self.traffic.result.success);
        for o in &mut self.faults.open {
            if o.fault == f && !o.ended {
                o.ended = true;
                let res = &mut self.faults.results[f];
                res.requests += requests - o.requests_at_start.0;
                res.success += success - o.requests_at_start.1;
            }
        }
        if let FaultSchedule::Process { every, .. } = &self.world.faults[f].schedule {
            let next = now.saturating_add(every.sample(&mut self.faults.rng[f]));
            if next < self.world.horizon {
                self.queue.schedule(next, Event::FaultStart(f as u32));
            }
        }
    }

    /// Turns fault `f`'s effects on or off.
    fn apply_fault(&mut self, f: usize, now: Nanos, on: bool) {
        let spec = &self.world.faults[f];
        match spec.kind {
            FaultKind::Crash | FaultKind::Hang => {
                let hang = matches!(spec.kind, FaultKind::Hang);
                for i in 0..spec.replicas.len() {
                    let r = self.world.faults[f].replicas[i];
                    if hang && !self.faults.overlay.hung.is_empty() {
                        let h = &mut self.faults.overlay.hung[r];
                        *h = if on { *h + 1 } else { *h - 1 };
                        self.faults.overlay.hung_any = if on {
                            self.faults.overlay.hung_any + 1
                        } else {
                            self.faults.overlay.hung_any - 1
                        };
                    }
                    self.hold_replica(r, now, on, !hang);
                }
                if let Some(region) = spec.region {
                    self.availability.hold_region(region, on);
                    self.set_region(region, now);
                }
            }
            FaultKind::Latency(_) => {
                let t = &mut self.faults.overlay;
                let step = |x: &mut u16| *x = if on { *x + 1 } else { *x - 1 };
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
                let t = &mut self.faults.overlay;
                let step = |x: &mut u16| *x = if on { *x + 1 } else { *x - 1 };
                for &e in &spec.edges {
                    step(&mut t.edge_cut[e]);
                }
                step(&mut t.link_faults);
            }
            FaultKind::ClockSkew(skew) => {
                let t = &mut self.faults.overlay;
                let d = if on { skew } else { -skew };
                for &r in &spec.replicas {
                    t.skew[r] += d;
                }
                t.skew_any = if on { t.skew_any + 1 } else { t.skew_any - 1 };
            }
            FaultKind::Errors(_) | FaultKind::Capacity(_) => {
                for i in 0..spec.replicas.len() {
                    let r = self.world.faults[f].replicas[i];
                    self.refresh_replica_mods(r, now);
                }
            }
        }
    }

    /// A crash or hang fault takes hold of replica `r`, or lets go.
    fn hold_replica(&mut self, r: usize, now: Nanos, on: bool, reset: bool) {
        if !self.availability.hold_replica(r, on) {
            return;
        }
        if on {
            self.replica_lost(r, now, reset);
            if !self.availability.ages(self.world, r) {
                // A cold standby does not age while it is held down.
                self.availability.stop_clock(r);
            }
        } else {
            let aged = self.availability.ages(self.world, r);
            self.replica_back(r, now);
            if !aged && self.availability.ages(self.world, r) {
                let (availability, mut cx) = self.split(now);
                availability.restart_clock(&mut cx, r);
            }
        }
    }

    /// Recomputes replica `r`'s error chance and slots from the active
    /// error and capacity faults, and starts queued jobs that now fit.
    fn refresh_replica_mods(&mut self, r: usize, now: Nanos) {
        if self.faults.overlay.err.is_empty() {
            return;
        }
        let serve = &self.world.services[self.world.replicas[r].service].serve;
        let mut ok = 1.0 - serve.error_rate;
        let mut share: f64 = 1.0;
        for (f, spec) in self.world.faults.iter().enumerate() {
            if !self.faults.active[f] || !spec.replicas.contains(&r) {
                continue;
            }
            match spec.kind {
                FaultKind::Errors(p) => ok *= 1.0 - p,
                FaultKind::Capacity(c) => share = share.min(c),
                _ => {}
            }
        }
        self.faults.overlay.err[r] = 1.0 - ok;
        self.faults.overlay.cap[r] = serve.concurrency.map(|c| (f64::from(c) * share).floor() as u32);
        self.fill_slots(r, now);
    }

    /// The extra serving delay of the latency faults on replica `r`.
    pub(super) fn fault_delay(&mut self, r: usize) -> Nanos {
        let mut d: Nanos = 0;
        for (f, spec) in self.world.faults.iter().enumerate() {
            if let FaultKind::Latency(dist) = &spec.kind
                && self.faults.active[f]
                && spec.replicas.contains(&r)
            {
                d = d.saturating_add(dist.sample(&mut self.faults.rng[f]));
            }
        }
        d
    }

    /// Whether an attempt on `edge` from `from_region` to a replica in
    /// `to_region` is cut, and the delay of slow links on its way.
    pub(super) fn link_state(
        &mut self,
        edge: usize,
        from_region: Option<usize>,
        to_region: Option<usize>,
    ) -> (bool, Nanos) {
        let mut cut = self.faults.overlay.edge_cut[edge] > 0;
        let mut delay: Nanos = 0;
        for (f, spec) in self.world.faults.iter().enumerate() {
            if !self.faults.active[f] {
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
                FaultKind::Latency(dist) => delay = delay.saturating_add(dist.sample(&mut self.faults.rng[f])),
                _ => {}
            }
        }
        (cut, delay)
    }

    fn start_probing(&mut self, now: Nanos) {
        if self.faults.probing {
            return;
        }
        self.faults.probing = true;
        self.faults.bucket_start = now;
        self.faults.seen.iter_mut().for_each(|s| *s = [0, 0]);
        for (e, b) in self.traffic.breakers_opened().into_iter().enumerate() {
            self.faults.opened[e] = b;
        }
        let bucket = self.world.cascade.bucket;
        let next = (now / bucket + 1).saturating_mul(bucket);
        self.queue.schedule(next, Event::Probe);
    }

    /// A defensive reaction happened: every open occurrence not yet
    /// detected is detected now.
    pub(super) fn fault_signal(&mut self, now: Nanos) {
        let f = &mut self.faults;
        for o in &mut f.open {
            if !o.detected && now >= o.start {
                o.detected = true;
                let r = &mut f.results[o.fault];
                r.detected += 1;
                r.detect_s += (now - o.start) as f64 / 1e9;
            }
        }
    }

    pub(in crate::model) fn on_probe(&mut self, now: Nanos) {
        let c = self.world.cascade;
        let from = self.faults.bucket_start;
        self.faults.bucket_start = now;
        let opened = self.traffic.breakers_opened();
        if opened.iter().zip(&self.faults.opened).any(|(a, b)| a != b) {
            self.fault_signal(now);
        }
        self.faults.opened = opened;
        let bad: Vec<bool> = self
            .faults
            .seen
            .iter()
            .map(|&[ok, all]| all > 0 && f64::from(ok) < c.threshold * f64::from(all))
            .collect();
        self.trace_bucket(from, now, &bad);
        self.faults.seen.iter_mut().for_each(|s| *s = [0, 0]);
        let any_bad = bad.iter().any(|&b| b);
        let f = &mut self.faults;
        let mut i = 0;
        while i < f.open.len() {
            let o = &mut f.open[i];
            if from < o.end {
                for (a, &b) in o.affected.iter_mut().zip(&bad) {
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
                        let res = &mut f.results[o.fault];
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
                let o = f.open.swap_remove(i);
                tally_affected(&mut f.results[o.fault], &o);
            } else {
                i += 1;
            }
        }
        if f.open.is_empty() && !f.active.iter().any(|&a| a) && self.trace.is_none() {
            f.probing = false;
        } else {
            self.queue.schedule(now.saturating_add(c.bucket), Event::Probe);
        }
    }

    pub(super) fn finish_faults(&mut self, horizon: Nanos) {
        if self.faults.probing && self.faults.bucket_start < horizon {
            // The last bucket ends at the horizon, where no event runs.
            self.on_probe(horizon);
        }
        let (requests, success) = (self.traffic.result.requests, self.traffic.result.success);
        let settle = self.world.cascade.settle;
        let f = &mut self.faults;
        for (i, active) in f.active.iter().enumerate() {
            if *active {
                f.results[i].active_s += (horizon - f.started[i]) as f64 / 1e9;
            }
        }
        for o in std::mem::take(&mut f.open) {
            let res = &mut f.results[o.fault];
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
