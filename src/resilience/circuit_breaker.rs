//! A circuit breaker: stop calling a callee that is failing, probe it after a
//! while, and resume when it answers again.
//!
//! ```text
//!               trip condition met
//!   ┌────────┐ ───────────────────────────> ┌──────┐   rejects every call
//!   │ Closed │                              │ Open │
//!   └────────┘ <──┐              ┌────────> └──────┘
//!   admits all,   │              │ a trial      │ open_for has passed
//!   measures      │              │ fails or     │ (lazily, in try_acquire
//!   results       │              │ is slow      │  or state)
//!                 │           ┌──────────┐ <────┘
//!                 └────────── │ HalfOpen │   at most half_open_calls
//!   success_threshold trial   └──────────┘   trials in flight at once
//!   successes (window cleared)
//! ```
//!
//! # Trip condition
//! - `Consecutive { failure_threshold }`: that many failures in a row (the
//!   seed's breaker, and Polly's basic one). A success resets the run.
//! - `CountWindow { size }` / `TimeWindow { size }`: resilience4j's
//!   `slidingWindowType` `COUNT_BASED` / `TIME_BASED` with
//!   `slidingWindowSize`. Once the window holds at least `min_calls` results
//!   (`minimumNumberOfCalls`, Polly's `MinimumThroughput`; for a count
//!   window, capped at `size` as resilience4j does), the breaker opens when
//!   the failure rate is `>= failure_rate` (`failureRateThreshold`, Polly's
//!   `FailureRatio`) or, with `slow_call` set, when the share of calls that
//!   took `>= slow_call` (`slowCallDurationThreshold`) is `>= slow_call_rate`
//!   (`slowCallRateThreshold`). See [`window`] for how memory stays fixed.
//!
//! `open_for` is resilience4j's `waitDurationInOpenState` (Polly's
//! `BreakDuration`), `half_open_calls` its
//! `permittedNumberOfCallsInHalfOpenState`. Closing differs from
//! resilience4j, which evaluates the rates over the trial calls: here, as in
//! the contract, `success_threshold` trial successes close the breaker and
//! any trial failure reopens it; a slow trial counts as a failure, since a
//! callee that is still slow has not recovered.
//!
//! # Permits and epochs
//! Every admitted call holds a [`Permit`] stamped with the breaker's epoch,
//! which moves on every transition. A result is counted only if its permit
//! is from the current epoch: a slow call admitted while closed cannot close
//! (or reopen) a half-open breaker, and a straggler from the last half-open
//! round cannot trip a fresh one. Trial permits also hold a slot until they
//! are recorded or released, whatever the epoch, so trial calls in flight
//! never exceed `half_open_calls`, not even across a reopen.
//!
//! Invariants: `trials_in_flight <= half_open_calls`; Open rejects every
//! call; a state change always bumps the epoch; time spent Open is counted
//! from the opening to `open_for` later (after that the breaker is
//! half-open, whether or not anyone has asked). Every permit must be passed
//! back exactly once, to [`CircuitBreaker::record`] or
//! [`CircuitBreaker::release`].
//!
//! # Open periods that grow, and a bounded half-open
//! With `open_backoff`, the open period grows on repeated trips and shrinks
//! back on closes; with `half_open_limit`, a half-open state that lasts
//! longer than its `max_wait` reopens or closes by rule. Both are in
//! [`backoff`], with their state machine. Without them the breaker is the
//! one above, transition for transition.

pub mod backoff;
pub mod window;

use crate::engine::Nanos;
pub use backoff::{HalfOpenExpiry, HalfOpenLimit, OpenBackoff};
use window::{CountWindow, Tally, TimeWindow};

/// What opens a closed breaker; see [the trip condition](self#trip-condition).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trip {
    /// `failure_threshold` consecutive failures (>= 1).
    Consecutive {
        /// Failures in a row that open the breaker.
        failure_threshold: u32,
    },
    /// Rates over the last `size` results (>= 1).
    CountWindow {
        /// Results in the window.
        size: u32,
    },
    /// Rates over the results of the last `size` ns (>= 1).
    TimeWindow {
        /// Length of the window.
        size: Nanos,
    },
}

/// The configuration of a [`CircuitBreaker`].
#[derive(Clone, Debug, PartialEq)]
pub struct BreakerConfig {
    /// What opens it.
    pub trip: Trip,
    /// Windows only: the failure rate that opens it, in (0, 1].
    pub failure_rate: f64,
    /// Windows only: results needed before the rates are judged (>= 1).
    pub min_calls: u32,
    /// Windows only: a call taking at least this long is slow (> 0).
    pub slow_call: Option<Nanos>,
    /// With `slow_call`: the slow-call rate that opens it, in (0, 1]. At 1.0
    /// it opens only when every call in the window is slow.
    pub slow_call_rate: f64,
    /// How long it stays open before letting trial calls through (> 0).
    pub open_for: Nanos,
    /// Trial calls allowed in flight at once while half-open (>= 1).
    pub half_open_calls: u32,
    /// Trial successes that close it (>= 1).
    pub success_threshold: u32,
    /// Open periods that grow on repeated trips (`None`: always
    /// `open_for`).
    pub open_backoff: Option<OpenBackoff>,
    /// How long half-open may last (`None`: until its trial calls decide).
    pub half_open_limit: Option<HalfOpenLimit>,
}

/// Why a [`BreakerConfig`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BreakerError {
    /// `failure_threshold`, a window `size`, `min_calls`, `half_open_calls`
    /// or `success_threshold` is zero.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// `open_for` is zero.
    #[error("open_for must be positive")]
    ZeroOpenFor,
    /// `failure_rate` is outside (0, 1].
    #[error("failure_rate must be in (0, 1], got {0}")]
    FailureRate(f64),
    /// `slow_call_rate` is outside (0, 1].
    #[error("slow_call_rate must be in (0, 1], got {0}")]
    SlowCallRate(f64),
    /// `slow_call` is zero, which would make every call slow.
    #[error("slow_call must be positive")]
    ZeroSlowCall,
    /// `slow_call` was given with a consecutive-failure trip.
    #[error("slow_call needs a sliding window (window = \"count\" or \"time\")")]
    SlowCallNeedsWindow,
    /// The open backoff's multiplier is not a finite number above 1.
    #[error("open_backoff.multiplier must be a number above 1, got {0}")]
    BackoffMultiplier(f64),
    /// The open backoff's cap is below `open_for`.
    #[error("open_backoff.max ({max} ns) must be at least open_for ({open_for} ns)")]
    BackoffMax {
        /// The configured cap.
        max: Nanos,
        /// The configured first period.
        open_for: Nanos,
    },
    /// `half_open_max_wait` is zero.
    #[error("half_open_max_wait must be positive")]
    ZeroHalfOpenWait,
}

/// The breaker's state as seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Admitting every call and measuring results.
    Closed,
    /// Rejecting every call.
    Open,
    /// Admitting a few trial calls.
    HalfOpen,
}

/// Proof that a call was admitted; hand it back to [`CircuitBreaker::record`]
/// or [`CircuitBreaker::release`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permit {
    epoch: u64,
    half_open: bool,
}

/// The internal state: what the outside sees, plus its bookkeeping.
#[derive(Clone, Copy, Debug)]
enum State {
    Closed,
    Open { since: Nanos, until: Nanos },
    HalfOpen { successes: u32, since: Nanos },
}

/// How a closed breaker judges results.
#[derive(Clone, Debug)]
enum Detector {
    Consecutive { threshold: u32, run: u32 },
    Count(CountWindow),
    Time(TimeWindow),
}

/// A circuit breaker; see the module documentation.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    detector: Detector,
    state: State,
    epoch: u64,
    trials_in_flight: u32,
    rejected: u64,
    times_opened: u64,
    /// Time spent Open in periods that have ended.
    open_total: Nanos,
    /// The open backoff's level (see [`backoff`]); 0 without backoff.
    level: u32,
}

impl CircuitBreaker {
    /// A closed breaker.
    ///
    /// # Errors
    /// [`BreakerError`] naming the first parameter out of range.
    pub fn new(config: BreakerConfig) -> Result<Self, BreakerError> {
        validate(&config)?;
        let detector = match config.trip {
            Trip::Consecutive { failure_threshold } => Detector::Consecutive {
                threshold: failure_threshold,
                run: 0,
            },
            Trip::CountWindow { size } => Detector::Count(CountWindow::new(size)),
            Trip::TimeWindow { size } => Detector::Time(TimeWindow::new(size)),
        };
        Ok(CircuitBreaker {
            config,
            detector,
            state: State::Closed,
            epoch: 0,
            trials_in_flight: 0,
            rejected: 0,
            times_opened: 0,
            open_total: 0,
            level: 0,
        })
    }

    /// Asks to make a call at `now`: a permit, or `None` when rejected (and
    /// counted). An Open breaker whose `open_for` has passed becomes
    /// HalfOpen here.
    pub fn try_acquire(&mut self, now: Nanos) -> Option<Permit> {
        if backoff::due(&self.config, self.state, now) {
            self.settle(now);
        }
        match self.state {
            State::Closed => Some(Permit {
                epoch: self.epoch,
                half_open: false,
            }),
            State::HalfOpen { .. } if self.trials_in_flight < self.config.half_open_calls => {
                self.trials_in_flight += 1;
                Some(Permit {
                    epoch: self.epoch,
                    half_open: true,
                })
            }
            _ => {
                self.rejected += 1;
                None
            }
        }
    }

    /// The result of a permitted call, finished at `now` after `duration`.
    /// Results from a stale epoch are ignored (see the module docs).
    pub fn record(&mut self, permit: Permit, now: Nanos, success: bool, duration: Nanos) {
        self.free_trial_slot(permit);
        if permit.epoch != self.epoch {
            return;
        }
        let slow = self.config.slow_call.is_some_and(|limit| duration >= limit);
        match self.state {
            State::Closed => self.judge(now, !success, slow),
            // A half-open past its limit has ended, whether or not anyone
            // asked since: its trials' results are stale.
            State::HalfOpen { .. } if backoff::due(&self.config, self.state, now) => {}
            State::HalfOpen { successes, since } if success && !slow => {
                if successes + 1 >= self.config.success_threshold {
                    self.level = backoff::lowered(self.level);
                    self.close();
                } else {
                    self.state = State::HalfOpen {
                        successes: successes + 1,
                        since,
                    };
                }
            }
            State::HalfOpen { .. } => self.open(now),
            // No permit is issued while Open, so none can be current.
            State::Open { .. } => {}
        }
    }

    /// The permitted call was never made (e.g. a bulkhead then rejected it):
    /// frees its trial slot without counting a result.
    pub fn release(&mut self, permit: Permit) {
        self.free_trial_slot(permit);
    }

    /// The state at `now` (an expired Open reads as HalfOpen).
    pub fn state(&self, now: Nanos) -> BreakerState {
        match self.settled(now).state {
            State::Closed => BreakerState::Closed,
            State::Open { .. } => BreakerState::Open,
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// When the current open period ends (`None` unless Open at `now`):
    /// `open_for` after the opening, or longer with `open_backoff`.
    pub fn open_until(&self, now: Nanos) -> Option<Nanos> {
        match self.settled(now).state {
            State::Open { until, .. } => Some(until),
            _ => None,
        }
    }

    /// The open backoff's level (0 without backoff): the next opening lasts
    /// `open_for * multiplier^level`, capped.
    pub fn level(&self) -> u32 {
        self.level
    }

    /// Calls rejected so far (while Open, or half-open with no free slot).
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Moves on every transition: a caller that compares it before and
    /// after [`CircuitBreaker::record`] sees whether the result changed the
    /// state (the lazy Open to HalfOpen of [`CircuitBreaker::try_acquire`]
    /// moves it too, at `open_for` after the opening).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// How many times it has opened (from Closed or reopened from HalfOpen).
    pub fn times_opened(&self) -> u64 {
        self.times_opened
    }

    /// Total time spent Open (not half-open) in `[0, now]`.
    pub fn open_time(&self, now: Nanos) -> Nanos {
        let p = self.settled(now);
        let current = match p.state {
            State::Open { since, until } => now.min(until).saturating_sub(since),
            _ => 0,
        };
        p.open_total.saturating_add(current)
    }

    /// Trial calls holding a half-open slot now.
    pub fn trials_in_flight(&self) -> u32 {
        self.trials_in_flight
    }

    /// The validated configuration.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// Books a result while Closed and opens if the trip condition holds.
    fn judge(&mut self, now: Nanos, failed: bool, slow: bool) {
        let trips = match &mut self.detector {
            Detector::Consecutive { threshold, run } => {
                *run = if failed { *run + 1 } else { 0 };
                *run >= *threshold
            }
            Detector::Count(w) => rates_exceeded(&self.config, w.record(failed, slow)),
            Detector::Time(w) => rates_exceeded(&self.config, w.record(now, failed, slow)),
        };
        if trips {
            self.open(now);
        }
    }

    fn open(&mut self, now: Nanos) {
        self.times_opened += 1;
        let period = backoff::open_period(&self.config, self.level);
        self.level = backoff::raised(&self.config, self.level);
        self.enter(State::Open {
            since: now,
            until: now.saturating_add(period),
        });
    }

    /// The time-driven part of the state, as it is now.
    fn phase(&self) -> backoff::Phase {
        backoff::Phase {
            state: self.state,
            level: self.level,
            open_total: self.open_total,
            times_opened: self.times_opened,
            moves: 0,
            expired_closed: false,
        }
    }

    /// The time-driven part of the state as it will be at `now`.
    fn settled(&self, now: Nanos) -> backoff::Phase {
        let mut p = self.phase();
        if backoff::due(&self.config, self.state, now) {
            backoff::settle(&self.config, &mut p, now);
        }
        p
    }

    /// Makes every time-driven transition due by `now`. Out of line: it
    /// runs once per open period, `try_acquire` on every call.
    #[cold]
    #[inline(never)]
    fn settle(&mut self, now: Nanos) {
        let p = self.settled(now);
        self.state = p.state;
        self.level = p.level;
        self.open_total = p.open_total;
        self.times_opened = p.times_opened;
        self.epoch += p.moves;
        if p.expired_closed && matches!(p.state, State::Closed) {
            self.clear_detector();
        }
    }

    fn close(&mut self) {
        self.clear_detector();
        self.enter(State::Closed);
    }

    fn clear_detector(&mut self) {
        match &mut self.detector {
            Detector::Consecutive { run, .. } => *run = 0,
            Detector::Count(w) => w.clear(),
            Detector::Time(w) => w.clear(),
        }
    }

    fn enter(&mut self, state: State) {
        self.state = state;
        self.epoch += 1;
    }

    fn free_trial_slot(&mut self, permit: Permit) {
        if permit.half_open {
            debug_assert!(self.trials_in_flight > 0, "a trial permit was returned twice");
            self.trials_in_flight = self.trials_in_flight.saturating_sub(1);
        }
    }
}

/// Whether a window's tally trips the breaker.
fn rates_exceeded(config: &BreakerConfig, tally: Tally) -> bool {
    let min_calls = match config.trip {
        // A count window could never hold more than `size` results.
        Trip::CountWindow { size } => config.min_calls.min(size),
        _ => config.min_calls,
    };
    if tally.calls < u64::from(min_calls) {
        return false;
    }
    let calls = tally.calls as f64;
    // `count / calls >= rate` is the definition. A rate far below the
    // threshold (the common case) is ruled out with a multiplication,
    // whose relative rounding (a few 1e-16) the 1e-9 margin covers; only
    // near the threshold is the division made.
    let reaches = |count: u64, rate: f64| {
        let count = count as f64;
        count >= rate * calls * (1.0 - 1e-9) && count / calls >= rate
    };
    reaches(tally.failures, config.failure_rate)
        || (config.slow_call.is_some() && reaches(tally.slow, config.slow_call_rate))
}

fn validate(config: &BreakerConfig) -> Result<(), BreakerError> {
    let in_unit = |x: f64| x > 0.0 && x <= 1.0;
    let windowed = match config.trip {
        Trip::Consecutive { failure_threshold: 0 } => return Err(BreakerError::Zero("failure_threshold")),
        Trip::CountWindow { size: 0 } | Trip::TimeWindow { size: 0 } => return Err(BreakerError::Zero("size")),
        Trip::Consecutive { .. } => false,
        Trip::CountWindow { .. } | Trip::TimeWindow { .. } => true,
    };
    if windowed && config.min_calls == 0 {
        return Err(BreakerError::Zero("min_calls"));
    }
    if windowed && !in_unit(config.failure_rate) {
        return Err(BreakerError::FailureRate(config.failure_rate));
    }
    if let Some(slow_call) = config.slow_call {
        if !windowed {
            return Err(BreakerError::SlowCallNeedsWindow);
        }
        if slow_call == 0 {
            return Err(BreakerError::ZeroSlowCall);
        }
        if !in_unit(config.slow_call_rate) {
            return Err(BreakerError::SlowCallRate(config.slow_call_rate));
        }
    }
    if config.open_for == 0 {
        return Err(BreakerError::ZeroOpenFor);
    }
    if config.half_open_calls == 0 {
        return Err(BreakerError::Zero("half_open_calls"));
    }
    if config.success_threshold == 0 {
        return Err(BreakerError::Zero("success_threshold"));
    }
    if let Some(b) = config.open_backoff {
        if !(b.multiplier.is_finite() && b.multiplier > 1.0) {
            return Err(BreakerError::BackoffMultiplier(b.multiplier));
        }
        if b.max < config.open_for {
            return Err(BreakerError::BackoffMax {
                max: b.max,
                open_for: config.open_for,
            });
        }
    }
    if config.half_open_limit.is_some_and(|l| l.max_wait == 0) {
        return Err(BreakerError::ZeroHalfOpenWait);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OPEN_FOR: Nanos = 1_000;

    fn config(trip: Trip) -> BreakerConfig {
        BreakerConfig {
            trip,
            failure_rate: 0.5,
            min_calls: 4,
            slow_call: None,
            slow_call_rate: 1.0,
            open_for: OPEN_FOR,
            half_open_calls: 1,
            success_threshold: 2,
            open_backoff: None,
            half_open_limit: None,
        }
    }

    fn consecutive(failure_threshold: u32) -> CircuitBreaker {
        CircuitBreaker::new(config(Trip::Consecutive { failure_threshold })).unwrap()
    }

    /// Makes one call at `now` and records it; panics if rejected.
    fn call(b: &mut CircuitBreaker, now: Nanos, success: bool, duration: Nanos) {
        let permit = b.try_acquire(now).expect("admitted");
        b.record(permit, now + duration, success, duration);
    }

    /// Opens a consecutive(1) breaker at `now`.
    fn tripped(now: Nanos) -> CircuitBreaker {
        let mut b = consecutive(1);
        call(&mut b, now, false, 0);
        assert_eq!(b.state(now), BreakerState::Open);
        b
    }

    /// A failure rate exactly at a threshold that binary floating point
    /// cannot hold (55 of 100 against 0.55, where `0.55 * 100` rounds
    /// above 55) trips the breaker, as `failures / calls >= failure_rate`
    /// says; one failure fewer does not.
    #[test]
    fn a_rate_exactly_at_an_inexact_threshold_trips() {
        let state_after = |failures: u64| {
            let mut b = CircuitBreaker::new(BreakerConfig {
                failure_rate: 0.55,
                min_calls: 100,
                ..config(Trip::CountWindow { size: 100 })
            })
            .unwrap();
            for i in 0..100 {
                call(&mut b, i, i >= failures, 0);
            }
            b.state(100)
        };
        assert!(
            std::hint::black_box(0.55) * 100.0 > 55.0,
            "the product rounds up, which is the point"
        );
        assert_eq!(state_after(54), BreakerState::Closed);
        assert_eq!(state_after(55), BreakerState::Open);
    }

    #[test]
    fn rejects_bad_configs() {
        let bad = |edit: fn(&mut BreakerConfig)| {
            let mut c = config(Trip::CountWindow { size: 10 });
            edit(&mut c);
            CircuitBreaker::new(c).unwrap_err()
        };
        assert_eq!(
            bad(|c| c.trip = Trip::Consecutive { failure_threshold: 0 }),
            BreakerError::Zero("failure_threshold")
        );
        assert_eq!(
            bad(|c| c.trip = Trip::CountWindow { size: 0 }),
            BreakerError::Zero("size")
        );
        assert_eq!(
            bad(|c| c.trip = Trip::TimeWindow { size: 0 }),
            BreakerError::Zero("size")
        );
        assert_eq!(bad(|c| c.min_calls = 0), BreakerError::Zero("min_calls"));
        assert_eq!(bad(|c| c.failure_rate = 0.0), BreakerError::FailureRate(0.0));
        assert_eq!(bad(|c| c.failure_rate = 1.5), BreakerError::FailureRate(1.5));
        assert!(matches!(
            bad(|c| c.failure_rate = f64::NAN),
            BreakerError::FailureRate(_)
        ));
        assert_eq!(bad(|c| c.slow_call = Some(0)), BreakerError::ZeroSlowCall);
        assert_eq!(
            bad(|c| (c.slow_call, c.slow_call_rate) = (Some(5), 0.0)),
            BreakerError::SlowCallRate(0.0)
        );
        assert_eq!(bad(|c| c.open_for = 0), BreakerError::ZeroOpenFor);
        assert_eq!(bad(|c| c.half_open_calls = 0), BreakerError::Zero("half_open_calls"));
        assert_eq!(
            bad(|c| c.success_threshold = 0),
            BreakerError::Zero("success_threshold")
        );
        let slow_consecutive = BreakerConfig {
            slow_call: Some(5),
            ..config(Trip::Consecutive { failure_threshold: 3 })
        };
        assert_eq!(
            CircuitBreaker::new(slow_consecutive).unwrap_err(),
            BreakerError::SlowCallNeedsWindow
        );
        // Rates are not judged by a consecutive breaker, so they are not checked.
        let rates_unused = BreakerConfig {
            failure_rate: 0.0,
            min_calls: 0,
            ..config(Trip::Consecutive { failure_threshold: 3 })
        };
        assert!(CircuitBreaker::new(rates_unused).is_ok());
    }

    #[test]
    fn closed_to_open_after_consecutive_failures() {
        let mut b = consecutive(3);
        call(&mut b, 0, false, 0);
        call(&mut b, 1, false, 0);
        call(&mut b, 2, true, 0); // resets the run
        call(&mut b, 3, false, 0);
        call(&mut b, 4, false, 0);
        assert_eq!(b.state(4), BreakerState::Closed);
        call(&mut b, 5, false, 0);
        assert_eq!(b.state(5), BreakerState::Open);
        assert_eq!(b.times_opened(), 1);
    }

    #[test]
    fn open_rejects_until_open_for_has_passed() {
        let mut b = tripped(10);
        assert_eq!(b.try_acquire(10), None);
        assert_eq!(b.try_acquire(10 + OPEN_FOR - 1), None);
        assert_eq!(b.rejected(), 2);
        // Read-only view turns half-open on time; try_acquire makes it so.
        assert_eq!(b.state(10 + OPEN_FOR), BreakerState::HalfOpen);
        let permit = b.try_acquire(10 + OPEN_FOR).expect("trial call");
        assert!(permit.half_open);
        assert_eq!(b.trials_in_flight(), 1);
    }

    #[test]
    fn half_open_admits_only_half_open_calls_at_once() {
        let mut b = CircuitBreaker::new(BreakerConfig {
            half_open_calls: 2,
            ..config(Trip::Consecutive { failure_threshold: 1 })
        })
        .unwrap();
        call(&mut b, 0, false, 0);
        let t = OPEN_FOR;
        let first = b.try_acquire(t).unwrap();
        let second = b.try_acquire(t).unwrap();
        assert_eq!(b.try_acquire(t), None);
        // A released slot (the call never happened) is free again, uncounted.
        b.release(first);
        assert_eq!(b.state(t), BreakerState::HalfOpen);
        let third = b.try_acquire(t).unwrap();
        assert_eq!(b.try_acquire(t), None);
        b.record(second, t + 1, true, 1);
        b.record(third, t + 2, true, 1);
        assert_eq!(b.state(t + 2), BreakerState::Closed);
        assert_eq!(b.rejected(), 2);
    }

    #[test]
    fn success_threshold_trial_successes_close_it() {
        let mut b = tripped(0);
        call(&mut b, OPEN_FOR, true, 5);
        assert_eq!(b.state(OPEN_FOR + 5), BreakerState::HalfOpen);
        call(&mut b, OPEN_FOR + 10, true, 5);
        assert_eq!(b.state(OPEN_FOR + 15), BreakerState::Closed);
        // Closed again: the permit is an ordinary one.
        assert!(!b.try_acquire(OPEN_FOR + 20).unwrap().half_open);
    }

    #[test]
    fn a_trial_failure_reopens_for_another_open_for() {
        let mut b = tripped(0);
        call(&mut b, OPEN_FOR, true, 5);
        call(&mut b, OPEN_FOR + 10, false, 5);
        let reopened = OPEN_FOR + 15;
        assert_eq!(b.state(reopened), BreakerState::Open);
        assert_eq!(b.times_opened(), 2);
        assert_eq!(b.try_acquire(reopened + OPEN_FOR - 1), None);
        assert!(b.try_acquire(reopened + OPEN_FOR).is_some());
    }

    #[test]
    fn a_slow_trial_reopens_it() {
        let mut b = CircuitBreaker::new(BreakerConfig {
            slow_call: Some(100),
            ..config(Trip::CountWindow { size: 1 })
        })
        .unwrap();
        call(&mut b, 0, false, 0);
        assert_eq!(b.state(0), BreakerState::Open);
        call(&mut b, OPEN_FOR, true, 100);
        assert_eq!(b.state(OPEN_FOR + 100), BreakerState::Open);
    }

    #[test]
    fn stale_results_are_ignored() {
        let mut b = consecutive(1);
        let slow_closed_call = b.try_acquire(0).unwrap();
        call(&mut b, 1, false, 0); // opens
        let trial = b.try_acquire(1 + OPEN_FOR).unwrap();
        // The call admitted while closed finishes well, but cannot close it...
        b.record(slow_closed_call, 1 + OPEN_FOR, true, OPEN_FOR);
        assert_eq!(b.state(1 + OPEN_FOR), BreakerState::HalfOpen);
        // ...nor, failing, reopen it.
        let mut b2 = consecutive(1);
        let old = b2.try_acquire(0).unwrap();
        call(&mut b2, 1, false, 0);
        let _trial2 = b2.try_acquire(1 + OPEN_FOR).unwrap();
        b2.record(old, 1 + OPEN_FOR, false, OPEN_FOR);
        assert_eq!(b2.state(1 + OPEN_FOR), BreakerState::HalfOpen);
        assert_eq!(b2.times_opened(), 1);
        b.record(trial, 2 + OPEN_FOR, true, 1);
    }

    #[test]
    fn a_trial_from_an_old_round_keeps_its_slot_across_a_reopen() {
        let mut b = CircuitBreaker::new(BreakerConfig {
            half_open_calls: 2,
            ..config(Trip::Consecutive { failure_threshold: 1 })
        })
        .unwrap();
        call(&mut b, 0, false, 0);
        let failing = b.try_acquire(OPEN_FOR).unwrap();
        let straggler = b.try_acquire(OPEN_FOR).unwrap();
        b.record(failing, OPEN_FOR + 1, false, 1); // reopens
        let t = OPEN_FOR + 1 + OPEN_FOR;
        assert!(b.try_acquire(t).is_some());
        assert_eq!(b.try_acquire(t), None, "the straggler still holds a slot");
        b.record(straggler, t, true, OPEN_FOR); // stale: frees the slot only
        assert_eq!(b.state(t), BreakerState::HalfOpen);
        assert!(b.try_acquire(t).is_some());
    }

    #[test]
    fn count_window_opens_on_failure_rate_after_min_calls() {
        let mut b = CircuitBreaker::new(config(Trip::CountWindow { size: 10 })).unwrap();
        call(&mut b, 0, false, 0);
        call(&mut b, 1, false, 0);
        call(&mut b, 2, false, 0);
        assert_eq!(b.state(2), BreakerState::Closed, "3 < min_calls");
        call(&mut b, 3, true, 0);
        assert_eq!(b.state(3), BreakerState::Open, "3/4 >= 0.5");
    }

    #[test]
    fn count_window_rate_is_inclusive_and_min_calls_capped_at_size() {
        let mut b = CircuitBreaker::new(BreakerConfig {
            min_calls: 100,
            ..config(Trip::CountWindow { size: 4 })
        })
        .unwrap();
        call(&mut b, 0, false, 0);
        call(&mut b, 1, false, 0);
        call(&mut b, 2, true, 0);
        assert_eq!(b.state(2), BreakerState::Closed);
        call(&mut b, 3, true, 0);
        assert_eq!(
            b.state(3),
            BreakerState::Open,
            "2/4 failures reach 0.5 once 4 = size calls are in"
        );
    }

    #[test]
    fn slow_call_rate_opens_it() {
        let mut b = CircuitBreaker::new(BreakerConfig {
            slow_call: Some(100),
            slow_call_rate: 0.75,
            ..config(Trip::CountWindow { size: 4 })
        })
        .unwrap();
        call(&mut b, 0, true, 100);
        call(&mut b, 1, true, 150);
        call(&mut b, 2, true, 99);
        call(&mut b, 3, true, 10);
        assert_eq!(b.state(3), BreakerState::Closed, "2/4 slow");
        call(&mut b, 4, true, 100);
        assert_eq!(b.state(4), BreakerState::Closed, "2/4 slow (the first fell out)");
        call(&mut b, 5, true, 200);
        call(&mut b, 6, true, 200);
        assert_eq!(b.state(6), BreakerState::Open, "3/4 slow");
    }

    #[test]
    fn time_window_forgets_old_failures() {
        let s = crate::engine::time::SECOND;
        let mut b = CircuitBreaker::new(config(Trip::TimeWindow { size: 10 * s })).unwrap();
        call(&mut b, 0, false, 0);
        call(&mut b, 1, false, 0);
        call(&mut b, 20 * s, true, 0);
        call(&mut b, 20 * s + 1, true, 0);
        call(&mut b, 20 * s + 2, false, 0);
        assert_eq!(
            b.state(20 * s + 2),
            BreakerState::Closed,
            "old failures expired: 1/3 calls"
        );
        call(&mut b, 20 * s + 3, false, 0);
        assert_eq!(b.state(20 * s + 3), BreakerState::Open, "2/4 failures in window");
    }

    #[test]
    fn closing_clears_the_window() {
        let mut b = CircuitBreaker::new(BreakerConfig {
            min_calls: 2,
            ..config(Trip::CountWindow { size: 4 })
        })
        .unwrap();
        call(&mut b, 0, true, 0);
        call(&mut b, 1, false, 0);
        assert_eq!(b.state(1), BreakerState::Open);
        call(&mut b, 1 + OPEN_FOR, true, 0);
        call(&mut b, 2 + OPEN_FOR, true, 0);
        assert_eq!(b.state(2 + OPEN_FOR), BreakerState::Closed);
        // Without clearing, 1 old failure + this one = 2/4 would trip it.
        call(&mut b, 3 + OPEN_FOR, false, 0);
        assert_eq!(b.state(3 + OPEN_FOR), BreakerState::Closed);
    }

    #[test]
    fn open_time_counts_only_open_periods() {
        let mut b = tripped(100);
        assert_eq!(b.open_time(100), 0);
        assert_eq!(b.open_time(400), 300);
        // Expired but never asked: still only open_for.
        assert_eq!(b.open_time(100 + 5 * OPEN_FOR), OPEN_FOR);
        let t = 100 + 2 * OPEN_FOR;
        let trial = b.try_acquire(t).unwrap();
        b.record(trial, t + 50, false, 50); // reopens at t + 50
        assert_eq!(b.open_time(t + 50), OPEN_FOR);
        assert_eq!(b.open_time(t + 60), OPEN_FOR + 10);
        assert_eq!(b.open_time(t + 50 + 10 * OPEN_FOR), 2 * OPEN_FOR);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Acquire,
        Record {
            pick: usize,
            success: bool,
            duration: Nanos,
        },
        Release {
            pick: usize,
        },
        Wait(Nanos),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Acquire),
            4 => (any::<usize>(), prop::bool::weighted(0.4), 0u64..300)
                .prop_map(|(pick, success, duration)| Op::Record { pick, success, duration }),
            1 => any::<usize>().prop_map(|pick| Op::Release { pick }),
            2 => (0u64..2 * OPEN_FOR).prop_map(Op::Wait),
        ]
    }

    fn any_config() -> impl Strategy<Value = BreakerConfig> {
        let trip = prop_oneof![
            (1u32..4).prop_map(|failure_threshold| Trip::Consecutive { failure_threshold }),
            (1u32..8).prop_map(|size| Trip::CountWindow { size }),
            (1u64..3_000).prop_map(|size| Trip::TimeWindow { size }),
        ];
        (trip, 1u32..4, 1u32..4, 1u32..6, prop::option::of(1u64..300)).prop_map(
            |(trip, half_open_calls, success_threshold, min_calls, slow_call)| BreakerConfig {
                trip,
                min_calls,
                half_open_calls,
                success_threshold,
                slow_call: slow_call.filter(|_| !matches!(trip, Trip::Consecutive { .. })),
                slow_call_rate: 0.6,
                ..config(trip)
            },
        )
    }

    proptest! {
        /// Trial calls in flight never exceed half_open_calls (counting
        /// stragglers from earlier rounds), Open admits nothing, and a trial
        /// permit is only issued while half-open.
        #[test]
        fn half_open_never_exceeds_its_trial_calls(c in any_config(), ops in prop::collection::vec(op(), 0..300)) {
            let mut b = CircuitBreaker::new(c.clone()).unwrap();
            let mut outstanding: Vec<Permit> = Vec::new();
            let mut now = 0;
            for op in ops {
                match op {
                    Op::Acquire => {
                        let before = b.state(now);
                        match b.try_acquire(now) {
                            Some(p) => {
                                prop_assert_ne!(before, BreakerState::Open);
                                prop_assert_eq!(p.half_open, before == BreakerState::HalfOpen);
                                outstanding.push(p);
                            }
                            None => prop_assert_ne!(before, BreakerState::Closed),
                        }
                    }
                    Op::Record { pick, success, duration } if !outstanding.is_empty() => {
                        let p = outstanding.swap_remove(pick % outstanding.len());
                        now += duration;
                        b.record(p, now, success, duration);
                    }
                    Op::Release { pick } if !outstanding.is_empty() => {
                        b.release(outstanding.swap_remove(pick % outstanding.len()));
                    }
                    Op::Wait(dt) => now += dt,
                    Op::Record { .. } | Op::Release { .. } => {}
                }
                let trials = outstanding.iter().filter(|p| p.half_open).count() as u32;
                prop_assert_eq!(trials, b.trials_in_flight());
                prop_assert!(trials <= c.half_open_calls);
                prop_assert!(b.open_time(now) <= now);
            }
        }
    }
}
