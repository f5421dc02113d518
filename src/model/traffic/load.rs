//! Servers under load: a service time that grows with the replica's
//! utilisation or queue (`slowdown`), a slow start after a restart
//! (`cold_start`), and a cache in front of a dependency that is empty after
//! a restart and refills (`[[service.call]] cache`). The keys are checked
//! in `scenario::load`; a service without them never reaches this module
//! (the request path tests `serve.load` once per job).
//!
//! # A restart and its warm-up
//! ```text
//!  connections reset (crash, region lost, deploy or liveness restart)
//!        │  cold[r] = true            (a hang resets nothing: no restart)
//!        v
//!  first job the replica starts once back ──> since[r] = now, cold[r] = false
//!        │
//!        v
//!  each job starting at t:  service time × curve(gauge) × cold_start(t − since)
//!  each call it makes:      answered by the cache with chance hit_rate(t − since)
//! ```
//! The warm-up runs from the first job the replica starts after it is back
//! (a request or a probe), since a restarted process warms with the work
//! it is given; it is back within a routing decision of becoming
//! reachable whenever requests arrive.
//!
//! # Books
//! Each cache lookup counts on its edge (`TrafficResult::cache`: lookups,
//! hits) and each warm-up begun on a service with a cold start counts on
//! the service (`TrafficResult::cold`: warm-ups, replica-seconds within
//! `duration` of their start, cut at the next warm-up of the replica and
//! at the horizon); both stay empty in a trial that has none.
//!
//! # Invariants
//! `cold` and `since` have one entry per replica when any service has a
//! load key, none otherwise; `rng` has one stream per replica when any
//! service has a cache. `since[r]` is `None` for a replica that has not
//! restarted in this trial (warm from the start).

use rand::RngExt as _;

use super::{JobState, Parent, Requests};
use crate::engine::Nanos;
use crate::model::slab::Key;
use crate::model::world::World;
use crate::random::{self, Purpose, Rng};
use crate::resilience::Outcome;
use crate::scenario::CallMode;
use crate::scenario::load::{ColdStart, Gauge, Load};

/// The cache streams' tag in [`Purpose::Service`], clear of the replicas'
/// own stream numbers (which use bits below 56 from 40 up for the service).
const CACHE_STREAM: u64 = 1 << 55;

/// Per replica warm-up state, reused across trials.
#[derive(Default)]
pub(super) struct LoadState {
    /// Lost since its warm-up last began: its next job begins another.
    cold: Vec<bool>,
    /// When its current warm-up began (`None`: warm since the start).
    since: Vec<Option<Nanos>>,
    /// Cache draws.
    rng: Vec<Rng>,
    /// Stop-the-world pauses.
    pub(super) gc: super::gc::GcState,
}

impl LoadState {
    /// Every replica warm, and fresh cache streams for trial `trial`.
    pub(super) fn reset(&mut self, w: &World, seed: u64, trial: u64) {
        self.cold.clear();
        self.since.clear();
        self.rng.clear();
        self.gc.reset(w, seed, trial);
        if !w.services.iter().any(|s| s.serve.load.is_some()) {
            return;
        }
        self.cold.resize(w.replicas.len(), false);
        self.since.resize(w.replicas.len(), None);
        if w.services
            .iter()
            .any(|s| s.serve.load.as_ref().is_some_and(|l| l.has_cache()))
        {
            self.rng.extend(
                w.replicas
                    .iter()
                    .map(|r| random::stream(seed, trial, Purpose::Service, CACHE_STREAM | r.stream)),
            );
        }
    }
}

/// The seconds a warm-up begun at `now` adds to its service's time cold:
/// `duration`, cut at the horizon, less what is left of the warm-up it
/// replaces (begun at `before`), which a restart cut short.
fn cold_seconds(c: &ColdStart, before: Option<Nanos>, now: Nanos, horizon: Nanos) -> f64 {
    let end = |from: Nanos| from.saturating_add(c.duration).min(horizon);
    let mut cold = end(now).saturating_sub(now) as f64;
    if let Some(b) = before {
        cold -= end(b).saturating_sub(now) as f64;
    }
    cold / 1e9
}

impl Requests<'_> {
    /// Replica `r` lost its process (its connections were reset): its next
    /// job starts a warm-up.
    #[cold]
    #[inline(never)]
    pub(super) fn mark_cold(&mut self, r: usize) {
        let w = self.world;
        if w.services[w.replicas[r].service]
            .serve
            .load
            .as_ref()
            .is_some_and(|l| l.restarts_matter())
        {
            self.traffic.load.cold[r] = true;
        }
    }

    /// The service time `d` drawn for a job starting now on replica `r`,
    /// times the slowdown curve at the replica's gauge and the cold-start
    /// factor.
    #[cold]
    #[inline(never)]
    pub(super) fn loaded_time(&mut self, l: &Load, job: Key, r: usize, d: Nanos, now: Nanos) -> Nanos {
        if l.gc.is_some() {
            self.gc_mark(job, r, now);
        }
        let mut f = 1.0;
        if let Some(s) = &l.slowdown {
            let server = &self.traffic.servers[r];
            let x = match s.by {
                Gauge::Utilisation => {
                    let c = self.world.services[self.world.replicas[r].service]
                        .serve
                        .concurrency
                        .expect("validation requires concurrency for utilisation");
                    f64::from(server.busy) / f64::from(c)
                }
                Gauge::Queue => f64::from(server.waiting),
            };
            f *= s.curve.at(x);
        }
        let horizon = self.world.horizon;
        let t = &mut *self.traffic;
        let st = &mut t.load;
        if st.cold.get(r).copied().unwrap_or(false) {
            st.cold[r] = false;
            let before = st.since[r].replace(now);
            if let Some(c) = &l.cold_start {
                let services = self.world.services.len();
                let books = &mut t.result.cold;
                if books.is_empty() {
                    books.resize(services, (0, 0.0));
                }
                let b = &mut books[self.world.replicas[r].service];
                b.0 += 1;
                b.1 += cold_seconds(c, before, now, horizon);
            }
        }
        if let Some(c) = &l.cold_start
            && let Some(since) = st.since[r]
        {
            f *= c.factor_at(now - since);
        }
        if f == 1.0 { d } else { (d as f64 * f).round() as Nanos }
    }

    /// Whether call `i` of a job on replica `r` is answered by its cache.
    fn cache_hit(&mut self, l: &Load, r: usize, i: usize, now: Nanos) -> bool {
        let Some(c) = l.caches.get(i).copied().flatten() else {
            return false;
        };
        let t = &mut *self.traffic;
        let st = &mut t.load;
        let h = c.hit_rate_at(st.since[r].map(|s| now - s));
        // Drawn even at 0 and 1, so that sweeping the hit rate keeps the
        // stream aligned.
        let hit = st.rng[r].random::<f64>() < h;
        let w = self.world;
        let books = &mut t.result.cache;
        if books.is_empty() {
            books.resize(w.edges.len(), [0, 0]);
        }
        let b = &mut books[w.services[w.replicas[r].service].serve.calls[i]];
        b[0] += 1;
        b[1] += u64::from(hit);
        hit
    }

    /// The calls of job `job` (in state `Calling`) of a service with load
    /// keys: sequential from call `from` on, or all of them in parallel; a
    /// call its cache answers is a success at once, without a call.
    #[cold]
    #[inline(never)]
    pub(super) fn cached_calls(&mut self, job: Key, from: usize, now: Nanos) {
        let w = self.world;
        let j = self.traffic.jobs.get(job).expect("a calling job");
        debug_assert_eq!(j.state, JobState::Calling);
        let (r, deadline) = (j.replica as usize, j.deadline);
        let serve = &w.services[j.service as usize].serve;
        let l = serve.load.as_deref().expect("called for services with load keys");
        let n = serve.calls.len();
        match serve.call_mode {
            CallMode::Sequential => {
                let mut i = from;
                while i < n && self.cache_hit(l, r, i, now) {
                    i += 1;
                }
                if i == n {
                    self.complete_job(job, Outcome::Success, now);
                    return;
                }
                self.traffic.jobs.get_mut(job).expect("still calling").next_call = (i + 1) as u16;
                self.new_call(serve.calls[i], Parent::Job { job }, deadline, now);
            }
            CallMode::Parallel => {
                let misses: Vec<usize> = (0..n).filter(|&i| !self.cache_hit(l, r, i, now)).collect();
                if misses.is_empty() {
                    self.complete_job(job, Outcome::Success, now);
                    return;
                }
                self.traffic.jobs.get_mut(job).expect("still calling").pending = misses.len() as u16;
                for i in misses {
                    if self.traffic.jobs.get(job).is_none() {
                        break;
                    }
                    self.new_call(serve.calls[i], Parent::Job { job }, deadline, now);
                }
            }
        }
    }
}

/// The warm-up state of every replica, as windowed request sampling hands
/// it from one window to the next (`super::sampled`): between two windows
/// the configuration holds, so no replica is reset and none that takes
/// traffic is still warming (a window settles only once they are warm).
#[derive(Debug, Clone, Default)]
pub(in crate::model) struct Warmth {
    cold: Vec<bool>,
    since: Vec<Option<Nanos>>,
}

impl LoadState {
    /// A copy of the replicas' warm-up state.
    pub(super) fn warmth(&self) -> Warmth {
        Warmth {
            cold: self.cold.clone(),
            since: self.since.clone(),
        }
    }

    /// Takes `w`'s warm-up state (empty: every replica warm, as reset).
    pub(super) fn set_warmth(&mut self, w: &Warmth) {
        if w.cold.len() == self.cold.len() {
            self.cold.clone_from(&w.cold);
            self.since.clone_from(&w.since);
        }
    }

    /// Whether replica `r` was reset and has not started a job since, and
    /// when its current warm-up began.
    pub(super) fn state_of(&self, r: usize) -> (bool, Option<Nanos>) {
        (
            self.cold.get(r).copied().unwrap_or(false),
            self.since.get(r).copied().flatten(),
        )
    }
}
