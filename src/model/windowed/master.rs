//! The availability process a windowed trial runs over the whole horizon
//! ([`Master`]), and what of its state besides [`super::configuration`]
//! the request component reads ([`Marks`]).
//!
//! A model without deploys, maintenance windows or injected faults runs
//! the availability component alone ([`FailureOnly`]: failures, repairs,
//! failovers, region and zone outages, common-cause shocks, crews and
//! spares all live in it). A model with them runs a [`Trial`] with no
//! request component (no arrival, health check or tick is ever
//! scheduled): its queue holds the availability, operations and fault
//! events, and the operations' and faults' handlers hold replicas and
//! regions down exactly as in a full trial (the faults' component runs
//! only their schedule: see `windowed::faults`). Operations and fault
//! schedules draw from their own streams and read nothing of the
//! requests, so this path is the one a full trial of the same seed takes
//! (a latency fault's per-request draws share its schedule's stream in a
//! full trial, so a recurring latency fault with a random `every` or
//! `duration` follows a different, equally distributed, path).
//!
//! **Marks.** A bad release that errs or slows (not one that crashes:
//! that holds its replicas down, which the configuration holds already)
//! changes how its replicas answer without changing what serves. Such
//! replicas are marked ([`Marks::bad`]), the marks join the configuration
//! key, and a window or a stationary sample starts its request component
//! with the bad release on the marked replicas. Without deploys the marks
//! are empty and the key is the configuration's alone (so models that ran
//! windowed before keep their keys, streams and outputs).
//!
//! **Invariant.** A window started from the master at time `t` continues
//! the same availability and operations path: it takes the master's queue,
//! availability and operations state, and both handle the same events in
//! the same order. With autoscalers, whose holds and failure clocks the
//! window's requests decide, the master instead takes the window's path
//! back at its end (`Master::follow`).

use super::super::availability::{Availability, FailureOnly};
use super::super::event::Event;
use super::super::result::TrialResult;
use super::super::trial::Trial;
use super::super::world::World;
use crate::engine::{Model, Nanos};
use crate::scenario::ReleaseEffect;

/// Per replica: what of its request behaviour the configuration does not
/// hold. Empty without deploys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Marks {
    /// Per replica: it serves a bad release that errs or slows.
    pub bad: Vec<bool>,
    /// Per injected fault: it is active (empty without faults; see
    /// `windowed::faults`).
    pub faults: Vec<bool>,
}

impl Marks {
    /// The marks of a trial's operations state.
    pub(in crate::model) fn of(w: &World, t: &Trial<'_>) -> Self {
        let faults = super::faults::active(w, t);
        if w.ops.deploys.is_empty() {
            return Self {
                faults,
                ..Self::default()
            };
        }
        let on_bad = t.ops.on_bad();
        Self {
            faults,
            bad: (0..w.replicas.len())
                .map(|r| {
                    on_bad.get(r).copied().unwrap_or(false)
                        && w.ops.deploy_of[r]
                            .is_some_and(|d| !matches!(w.ops.deploys[d as usize].effect, ReleaseEffect::Crash))
                })
                .collect(),
        }
    }

    /// Appends the marks to configuration key `key`.
    pub fn extend_key(&self, key: &mut Vec<u8>) {
        key.extend(self.bad.iter().map(|&b| u8::from(b)));
        key.extend(self.faults.iter().map(|&b| u8::from(b)));
    }

    /// Starts the marked replicas' bad releases in `t`'s request component
    /// (just started: nothing queued yet).
    pub(in crate::model) fn apply(&self, t: &mut Trial<'_>) {
        // Windows start, and samples run, with no fault active (see
        // `super::faults`): a fault's state is never sampled.
        debug_assert!(
            !self.faults.iter().any(|&a| a),
            "a request component started with a fault active"
        );
        let w = t.world;
        for (r, &bad) in self.bad.iter().enumerate() {
            if bad {
                let d = w.ops.deploy_of[r].map(|d| d as usize);
                t.faults.set_release(w, r, d);
            }
        }
    }
}

/// `a` and `marks` with the replicas of each group sorted (serving,
/// active, naturally up, then unmarked first): [`super::canonical`] with
/// the marks moved along with their replicas.
pub fn canonical(w: &World, a: &Availability, marks: &Marks) -> (Availability, Marks) {
    if marks.bad.is_empty() {
        return (
            super::canonical(w, a),
            Marks {
                faults: marks.faults.clone(),
                ..Marks::default()
            },
        );
    }
    let mut c = a.clone();
    let mut m = marks.clone();
    for g in w.groups.iter().filter(|g| super::alike(w, g)) {
        let mut order: Vec<usize> = g.replicas.clone().collect();
        order.sort_by_key(|&r| {
            let s = &a.replicas[r];
            std::cmp::Reverse((s.up, s.active, s.natural, !marks.bad[r]))
        });
        for (slot, r) in g.replicas.clone().zip(order) {
            c.replicas[slot] = a.replicas[r];
            m.bad[slot] = marks.bad[r];
        }
    }
    (c, m)
}

/// The configuration key of `a` with `marks`.
pub fn key(a: &Availability, marks: &Marks) -> Vec<u8> {
    let mut k = super::configuration(a);
    marks.extend_key(&mut k);
    k
}

/// The availability process of a windowed trial (see the module doc).
pub enum Master<'w> {
    /// The availability component alone.
    Alone(Box<FailureOnly<'w>>),
    /// Availability and operations, in a trial without requests.
    Ops(Box<OpsRun<'w>>),
}

/// Availability and operations run without requests.
pub struct OpsRun<'w> {
    run: Trial<'w>,
    /// A scratch copy looking ahead for the next change.
    probe: Trial<'w>,
    events: u64,
}

impl<'w> Master<'w> {
    /// Trial `trial` of seed `seed` at time 0.
    pub fn start(w: &'w World, seed: u64, trial: u64) -> Self {
        if w.ops.is_empty() && w.faults.is_empty() {
            return Self::Alone(Box::new(FailureOnly::start(w, seed, trial)));
        }
        let mut run = Trial::new(w);
        run.reset_without_requests(seed, trial);
        Self::Ops(Box::new(OpsRun {
            run,
            probe: Trial::new(w),
            events: 0,
        }))
    }

    /// The availability state now.
    pub fn availability(&self) -> &Availability {
        match self {
            Self::Alone(m) => &m.availability,
            Self::Ops(m) => &m.run.availability,
        }
    }

    /// The marks now.
    pub fn marks(&self) -> Marks {
        match self {
            Self::Alone(_) => Marks::default(),
            Self::Ops(m) => Marks::of(m.run.world, &m.run),
        }
    }

    /// The configuration key now.
    pub fn key(&self) -> Vec<u8> {
        key(self.availability(), &self.marks())
    }

    /// Runs the events due before `until`.
    pub fn run_until(&mut self, until: Nanos) {
        match self {
            Self::Alone(m) => {
                m.run_until(until, u64::MAX);
            }
            Self::Ops(m) => {
                let handled = crate::engine::run_within(&mut m.run, until, u64::MAX)
                    .expect("availability and operations alone stop only at the horizon");
                m.events += handled;
            }
        }
    }

    /// When the configuration key (now `key`) next changes, if before the
    /// horizon.
    pub fn next_change(&mut self, key: &[u8]) -> Option<Nanos> {
        match self {
            Self::Alone(m) => super::next_change(m, key),
            Self::Ops(m) => {
                let w = m.run.world;
                let p = &mut m.probe;
                p.queue.clone_from(&m.run.queue);
                p.availability.clone_from(&m.run.availability);
                p.ops.clone_from(&m.run.ops);
                if !w.faults.is_empty() {
                    p.faults.clone_from(&m.run.faults);
                }
                while let Some((at, event)) = p.queue.pop_before(w.horizon) {
                    Model::handle(p, at, event);
                    if self::key(&p.availability, &Marks::of(w, p)) != key {
                        return Some(at);
                    }
                }
                None
            }
        }
    }

    /// Gives `t` the master's pending availability (and operations) events
    /// and state, to start a window from.
    pub(in crate::model) fn lend(&self, t: &mut Trial<'_>) {
        match self {
            Self::Alone(m) => t.queue = m.queue.clone(),
            Self::Ops(m) => {
                t.queue.clone_from(&m.run.queue);
                t.ops.clone_from(&m.run.ops);
            }
        }
        t.availability = self.availability().clone();
    }

    /// Gives `t`'s fault component (just cleared) the master's fault
    /// schedule, so the window's starts and ends are the master's.
    pub(in crate::model) fn lend_faults(&self, t: &mut Trial<'_>) {
        if let Self::Ops(m) = self
            && !m.run.world.faults.is_empty()
        {
            t.faults.take_schedule(&m.run.faults);
        }
    }

    /// Continues from window `t`'s availability (and operations) state and
    /// pending availability (and operations) events instead of the
    /// master's own: with autoscalers, whose holds and failure clocks reach
    /// into the availability process, the window's path is the trial's
    /// (see `super::autoscale`). Faults are not carried (refused beside
    /// autoscaling).
    pub(in crate::model) fn follow(&mut self, t: &Trial<'_>) {
        match self {
            Self::Alone(m) => {
                m.queue.clone_from(&t.queue);
                m.queue.retain(|e| matches!(e, Event::Availability(_)));
                m.availability.clone_from(&t.availability);
            }
            Self::Ops(m) => {
                m.run.queue.clone_from(&t.queue);
                m.run
                    .queue
                    .retain(|e| matches!(e, Event::Availability(_) | Event::Ops(_)));
                m.run.availability.clone_from(&t.availability);
                m.run.ops.clone_from(&t.ops);
            }
        }
    }

    /// Runs to the horizon and returns the trial's time-based figures (and
    /// the operations').
    pub fn finish(self) -> TrialResult {
        match self {
            Self::Alone(m) => (*m).finish(),
            Self::Ops(mut m) => {
                let w = m.run.world;
                let horizon = w.horizon;
                let handled = crate::engine::run_within(&mut m.run, horizon, u64::MAX)
                    .expect("availability and operations alone stop only at the horizon");
                m.events += handled;
                m.run.availability.advance(w, horizon);
                let mut result = m.run.availability.finish(w, m.events);
                result.ops = m.run.ops.finish(horizon, m.run.availability.tagged_ns());
                if !w.faults.is_empty() {
                    // Occurrences and active time (the request-level
                    // figures are the windows', see `super::faults`).
                    m.run.faults.finish(w, horizon, (0, 0));
                    result.faults = m.run.faults.results().to_vec();
                }
                result
            }
        }
    }
}

impl Trial<'_> {
    /// Trial `trial` of seed `seed` at time 0 with the availability and
    /// operations components only: no request is ever scheduled.
    fn reset_without_requests(&mut self, seed: u64, trial: u64) {
        let w = self.world;
        self.queue.clear();
        let (availability, mut cx) = self.split(0);
        availability.reset(&mut cx, seed, trial);
        self.faults.clear(w, seed, trial);
        let mut cx = super::super::event::Context {
            world: w,
            queue: &mut self.queue,
            trace: &mut self.trace,
            now: 0,
        };
        if !w.faults.is_empty() {
            // The faults' starts and ends, as a full trial draws them.
            self.faults.set_time_only();
            self.faults.schedule_first(&mut cx);
        }
        self.ops.reset(&mut cx, seed, trial);
    }
}
