//! Stop-the-world pauses (`gc_pause`): a replica that now and then stops
//! serving, more often when it is busy, as a garbage-collected runtime
//! does under allocation pressure.
//!
//! # State machine (per replica of a service with `gc_pause`)
//! ```text
//!            candidate (Poisson, max(rate, busy_rate) a second)
//!  running ─────────────> accepted with rate_at(u) / max_rate, u = busy / concurrency
//!     ^                       │ yes
//!     │                       v
//!     │  pause end         paused: slots 0 (no job starts, arrivals queue),
//!     └──────────────────  jobs in service frozen; lasts a draw of `pause`
//! ```
//! Thinning makes the pause starts a Poisson process of intensity
//! `rate_at(u(t))` over the running time, exact for the piecewise-constant
//! utilisation; candidates during a pause, or while the replica is not
//! reachable (down, restarting), are dropped, so at a fixed rate `λ` and
//! mean pause `P` the replica is paused `λP / (1 + λP)` of the time.
//!
//! A frozen job keeps its place: its completion is put off by the pause
//! time that overlapped its service. Each job carries a mark, the
//! replica's paused time so far when it started (or was last put off);
//! when its completion comes, the pause time since the mark (a pause
//! still running counts up to now) puts it off again by that much, until
//! none has accrued. A job waiting on its calls is not frozen (it waits
//! on others); a probe is a job like any other.
//!
//! # Invariants
//! Empty vectors unless some service has `gc_pause` (`any` false, and the
//! request path's one test per completion is that flag). `total[r]` is
//! the replica's closed pauses' time; `since[r]` the running pause's start
//! while `paused[r]`. A job's mark never exceeds its replica's paused time
//! so far.

use rand::RngExt as _;

use super::{JobState, Requests};
use crate::engine::Nanos;
use crate::model::event::Event;
use crate::model::slab::Key;
use crate::model::trace::Subject;
use crate::model::world::World;
use crate::random::{self, Purpose, Rng};

/// The pause streams' tag in [`Purpose::Service`], clear of the replicas'
/// own stream numbers (bits below 56) and of the caches' (bit 55 alone).
const GC_STREAM: u64 = 3 << 55;

/// Per replica pause state, reused across trials.
#[derive(Default)]
pub(super) struct GcState {
    /// Some service has `gc_pause`.
    pub(super) any: bool,
    paused: Vec<bool>,
    since: Vec<Nanos>,
    total: Vec<Nanos>,
    /// Per job slab index: its mark.
    marks: Vec<Nanos>,
    rng: Vec<Rng>,
}

impl GcState {
    /// No replica paused, fresh streams for trial `trial`.
    pub(super) fn reset(&mut self, w: &World, seed: u64, trial: u64) {
        self.any = w
            .services
            .iter()
            .any(|s| s.serve.load.as_ref().is_some_and(|l| l.gc.is_some()));
        for v in [&mut self.since, &mut self.total, &mut self.marks] {
            v.clear();
        }
        self.paused.clear();
        self.rng.clear();
        if !self.any {
            return;
        }
        let n = w.replicas.len();
        self.paused.resize(n, false);
        self.since.resize(n, 0);
        self.total.resize(n, 0);
        self.rng.extend(
            w.replicas
                .iter()
                .map(|r| random::stream(seed, trial, Purpose::Service, GC_STREAM | r.stream)),
        );
    }

    /// Replica `r`'s paused time up to `now`, a running pause included.
    fn paused_time(&self, r: usize, now: Nanos) -> Nanos {
        self.total[r] + if self.paused[r] { now - self.since[r] } else { 0 }
    }
}

/// A draw of an exponential gap at `rate` a second.
fn gap(rng: &mut Rng, rate: f64) -> Nanos {
    let u: f64 = rng.random();
    ((-(1.0 - u).ln() / rate) * 1e9).ceil().max(1.0) as Nanos
}

impl Requests<'_> {
    /// Schedules each paused-capable replica's first candidate after `from`.
    pub(super) fn start_gc(&mut self, from: Nanos) {
        if !self.traffic.load.gc.any {
            return;
        }
        let w = self.world;
        for (r, spec) in w.replicas.iter().enumerate() {
            if let Some(g) = w.services[spec.service].serve.load.as_ref().and_then(|l| l.gc.as_ref()) {
                let at = from.saturating_add(gap(&mut self.traffic.load.gc.rng[r], g.max_rate()));
                self.queue.schedule(
                    at,
                    Event::Gc {
                        replica: r as u32,
                        end: false,
                    },
                );
            }
        }
    }

    /// A candidate pause (`end` false) or a pause's end on replica `r`.
    pub(in crate::model) fn on_gc(&mut self, r: usize, end: bool, now: Nanos) {
        let w = self.world;
        let service = w.replicas[r].service;
        let serve = &w.services[service].serve;
        let g = serve
            .load
            .as_ref()
            .and_then(|l| l.gc.as_ref())
            .expect("scheduled only with gc_pause");
        if end {
            let st = &mut self.traffic.load.gc;
            st.total[r] += now - st.since[r];
            st.paused[r] = false;
            self.faults.set_paused(w, r, false);
            self.record(now, "gc_end", Subject::Replica(r));
            self.fill_slots(r, now);
            return;
        }
        let next = now.saturating_add(gap(&mut self.traffic.load.gc.rng[r], g.max_rate()));
        self.queue.schedule(
            next,
            Event::Gc {
                replica: r as u32,
                end: false,
            },
        );
        let u = serve.concurrency.map_or(0.0, |c| {
            (f64::from(self.traffic.servers[r].busy) / f64::from(c.max(1))).min(1.0)
        });
        // Drawn for every candidate, so the stream stays aligned.
        let accept = self.traffic.load.gc.rng[r].random::<f64>() * g.max_rate() < g.rate_at(u);
        if !accept || self.traffic.load.gc.paused[r] || !self.reachable(r) {
            return;
        }
        let length = g.pause.sample(&mut self.traffic.load.gc.rng[r]).max(1);
        let st = &mut self.traffic.load.gc;
        st.paused[r] = true;
        st.since[r] = now;
        self.faults.set_paused(w, r, true);
        self.record(now, "gc_start", Subject::Replica(r));
        self.queue.schedule(
            now.saturating_add(length),
            Event::Gc {
                replica: r as u32,
                end: true,
            },
        );
    }

    /// Job `job` starts on replica `r` of a service with `gc_pause`.
    pub(super) fn gc_mark(&mut self, job: Key, r: usize, now: Nanos) {
        let st = &mut self.traffic.load.gc;
        let i = job.id() as u32 as usize;
        if st.marks.len() <= i {
            st.marks.resize(i + 1, 0);
        }
        st.marks[i] = st.paused_time(r, now);
    }

    /// Job `job`'s service is due now: whether a pause put it off (its
    /// completion is rescheduled). Only called while some service has
    /// `gc_pause`.
    #[cold]
    #[inline(never)]
    pub(super) fn gc_defer(&mut self, job: Key, now: Nanos) -> bool {
        let Some(j) = self.traffic.jobs.get(job) else {
            return false;
        };
        if j.state != JobState::Serving {
            return false;
        }
        let r = j.replica as usize;
        let has = self.world.services[j.service as usize]
            .serve
            .load
            .as_ref()
            .is_some_and(|l| l.gc.is_some());
        if !has {
            return false;
        }
        let st = &mut self.traffic.load.gc;
        let i = job.id() as u32 as usize;
        let paused = st.paused_time(r, now);
        let extra = paused - st.marks[i];
        if extra == 0 {
            return false;
        }
        st.marks[i] = paused;
        self.queue.schedule(now.saturating_add(extra), Event::ServiceDone(job));
        true
    }
}
