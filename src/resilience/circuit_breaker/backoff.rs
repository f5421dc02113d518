//! What a breaker does with time on its own: how long each open period
//! lasts (growing on repeated trips, as Envoy's ejection time and
//! resilience4j's `waitIntervalFunctionInOpenState` with an exponential
//! interval do) and what a half-open state that lasts too long turns into
//! (resilience4j's `maxWaitDurationInHalfOpenState`).
//!
//! ```text
//!   level k (0 at start):  open period = min(open_for * multiplier^k, max)
//!
//!   Closed ──trip──> Open(k) ──period over──> HalfOpen ──trial fails──> Open(k+1)
//!     ^                                          │  │
//!     │ success_threshold successes: k -> k-1    │  │ half_open_max_wait passed
//!     └──────────────────────────────────────────┘  ├─ expiry "open":  Open(k+1)
//!                                                   └─ expiry "close": Closed (k kept)
//! ```
//!
//! Every opening, from Closed or from HalfOpen, uses the current level and
//! then raises it by one, unless the period is already at `max`; every close
//! by trial successes lowers it by one (so a callee that recovers for good
//! gets back to `open_for` after as many closes as it took trips, while one
//! that flaps keeps long open periods). A close because half-open expired
//! is not a success and leaves the level alone.
//!
//! Both transitions happen with no call to trigger them, so they are
//! computed lazily (`settle`): from the stored state and `now`, replaying
//! every period that ended since. A breaker that cycles with nobody calling
//! (half-open expires, reopens, expires ...) has a fixed cycle once its
//! level stops growing, so whole cycles are skipped by a division rather
//! than replayed one by one.
//!
//! Invariants: every period is at least `open_for` and at most `max`
//! (`open_for` without backoff); the level only moves by one at a time;
//! settling twice at the same `now` changes nothing.

use super::{BreakerConfig, State};
use crate::engine::Nanos;

/// Growth of the open period on repeated trips.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OpenBackoff {
    /// Factor between consecutive periods (> 1, finite).
    pub multiplier: f64,
    /// The longest period (>= `open_for`).
    pub max: Nanos,
}

/// What a half-open breaker becomes when it has waited too long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HalfOpenExpiry {
    /// Open again, as a trip (resilience4j's rule).
    Open,
    /// Close, as if the trial calls had passed.
    Close,
}

/// How long half-open may last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HalfOpenLimit {
    /// Longest time in half-open (> 0).
    pub max_wait: Nanos,
    /// What it becomes then.
    pub then: HalfOpenExpiry,
}

/// The length of an open period at `level`.
pub fn open_period(config: &BreakerConfig, level: u32) -> Nanos {
    match config.open_backoff {
        None => config.open_for,
        Some(b) => {
            let grown = config.open_for as f64 * b.multiplier.powi(level.min(i32::MAX as u32) as i32);
            // Beyond `max` the float may be huge or infinite; `min` first.
            grown.min(b.max as f64).max(config.open_for as f64) as Nanos
        }
    }
}

/// The level after an opening at `level`: one up, unless the period is
/// already at its cap.
pub fn raised(config: &BreakerConfig, level: u32) -> u32 {
    if config.open_backoff.is_some() && open_period(config, level + 1) > open_period(config, level) {
        level + 1
    } else {
        level
    }
}

/// The level after a close by trial successes.
pub fn lowered(level: u32) -> u32 {
    level.saturating_sub(1)
}

/// The time-driven part of a breaker's state: what [`settle`] advances.
#[derive(Clone, Copy, Debug)]
pub(super) struct Phase {
    pub state: State,
    pub level: u32,
    /// Time spent Open in periods that have ended.
    pub open_total: Nanos,
    pub times_opened: u64,
    /// Transitions made (each moves the breaker's epoch).
    pub moves: u64,
    /// Closed because half-open expired (the caller clears its window).
    pub expired_closed: bool,
}

/// Whether anything is due at `now`: an open period over, or half-open
/// past its limit.
#[inline]
pub(super) fn due(config: &BreakerConfig, state: State, now: Nanos) -> bool {
    match state {
        State::Open { until, .. } => now >= until,
        State::HalfOpen { since, .. } => config
            .half_open_limit
            .is_some_and(|l| now >= since.saturating_add(l.max_wait)),
        State::Closed => false,
    }
}

/// Replays every time-driven transition up to `now`.
pub(super) fn settle(config: &BreakerConfig, p: &mut Phase, now: Nanos) {
    loop {
        match p.state {
            State::Open { since, until } if now >= until => {
                p.open_total = p.open_total.saturating_add(until - since);
                p.state = State::HalfOpen {
                    successes: 0,
                    since: until,
                };
                p.moves += 1;
            }
            State::HalfOpen { since, .. } => {
                let Some(limit) = config.half_open_limit else { return };
                let expiry = since.saturating_add(limit.max_wait);
                if now < expiry {
                    return;
                }
                match limit.then {
                    HalfOpenExpiry::Close => {
                        p.state = State::Closed;
                        p.moves += 1;
                        p.expired_closed = true;
                    }
                    HalfOpenExpiry::Open => {
                        skip_cycles(config, p, since, now);
                        let State::HalfOpen { since, .. } = p.state else {
                            unreachable!("skip_cycles keeps the state half-open")
                        };
                        let at = since.saturating_add(limit.max_wait);
                        if now < at {
                            // Skipped to a half-open that has not expired.
                            return;
                        }
                        let period = open_period(config, p.level);
                        p.level = raised(config, p.level);
                        p.times_opened += 1;
                        p.state = State::Open {
                            since: at,
                            until: at.saturating_add(period),
                        };
                        p.moves += 1;
                    }
                }
            }
            _ => return,
        }
    }
}

/// With expiry "open" and a level that no longer grows, half-open-then-open
/// repeats with period `max_wait + open period`: jumps over every whole
/// cycle that ended by `now`, from a half-open that began at `since`.
fn skip_cycles(config: &BreakerConfig, p: &mut Phase, since: Nanos, now: Nanos) {
    let Some(limit) = config.half_open_limit else { return };
    if raised(config, p.level) != p.level {
        return;
    }
    let period = open_period(config, p.level);
    let cycle = limit.max_wait.saturating_add(period);
    let cycles = (now - since) / cycle;
    if cycles == 0 {
        return;
    }
    p.open_total = p.open_total.saturating_add(period.saturating_mul(cycles));
    p.times_opened += cycles;
    p.moves += 2 * cycles;
    p.state = State::HalfOpen {
        successes: 0,
        since: since.saturating_add(cycle.saturating_mul(cycles)),
    };
}

#[cfg(test)]
mod tests {
    use super::super::{BreakerConfig, BreakerError, BreakerState, CircuitBreaker, Trip};
    use super::*;
    use proptest::prelude::*;

    const OPEN_FOR: Nanos = 1_000;
    const WAIT: Nanos = 300;

    fn config(backoff: Option<OpenBackoff>, limit: Option<HalfOpenLimit>) -> BreakerConfig {
        BreakerConfig {
            trip: Trip::Consecutive { failure_threshold: 1 },
            failure_rate: 0.5,
            min_calls: 1,
            slow_call: None,
            slow_call_rate: 1.0,
            open_for: OPEN_FOR,
            half_open_calls: 1,
            success_threshold: 1,
            open_backoff: backoff,
            half_open_limit: limit,
        }
    }

    fn doubling(max: Nanos) -> Option<OpenBackoff> {
        Some(OpenBackoff { multiplier: 2.0, max })
    }

    fn limit(then: HalfOpenExpiry) -> Option<HalfOpenLimit> {
        Some(HalfOpenLimit { max_wait: WAIT, then })
    }

    fn call(b: &mut CircuitBreaker, now: Nanos, success: bool) {
        let permit = b.try_acquire(now).expect("admitted");
        b.record(permit, now, success, 0);
    }

    /// Open periods: 1x, 2x, 4x, then capped at 4x; a close by trial
    /// successes steps one level down, so the next trip opens for 2x.
    #[test]
    fn periods_double_up_to_the_cap_and_step_down_on_a_close() {
        let mut b = CircuitBreaker::new(config(doubling(4 * OPEN_FOR), None)).unwrap();
        let mut now = 0;
        call(&mut b, now, false);
        let mut periods = Vec::new();
        for _ in 0..4 {
            let until = b.open_until(now).expect("open");
            periods.push(until - now);
            now = until;
            call(&mut b, now, false); // the trial fails: reopens
        }
        assert_eq!(periods, [OPEN_FOR, 2 * OPEN_FOR, 4 * OPEN_FOR, 4 * OPEN_FOR]);
        assert_eq!(b.level(), 2, "the level stops where the period reaches the cap");
        now = b.open_until(now).unwrap();
        call(&mut b, now, true);
        assert_eq!(b.state(now), BreakerState::Closed);
        assert_eq!(b.level(), 1);
        call(&mut b, now + 1, false);
        assert_eq!(b.open_until(now + 1), Some(now + 1 + 2 * OPEN_FOR));
        assert_eq!(b.times_opened(), 6);
    }

    /// Without a backoff every period is open_for, however often it trips.
    #[test]
    fn without_a_backoff_the_period_is_fixed() {
        let mut b = CircuitBreaker::new(config(None, None)).unwrap();
        let mut now = 0;
        for _ in 0..5 {
            call(&mut b, now, false);
            assert_eq!(b.open_until(now), Some(now + OPEN_FOR));
            now += OPEN_FOR;
        }
        assert_eq!(b.level(), 0);
    }

    /// resilience4j's rule: a half-open state nobody settles within its
    /// maximum wait reopens (a trip: the period grows).
    #[test]
    fn an_expired_half_open_reopens() {
        let mut b = CircuitBreaker::new(config(doubling(100 * OPEN_FOR), limit(HalfOpenExpiry::Open))).unwrap();
        call(&mut b, 0, false);
        let trial = b.try_acquire(OPEN_FOR).expect("a trial call");
        assert_eq!(b.state(OPEN_FOR + WAIT - 1), BreakerState::HalfOpen);
        assert_eq!(b.state(OPEN_FOR + WAIT), BreakerState::Open);
        assert_eq!(b.open_until(OPEN_FOR + WAIT), Some(OPEN_FOR + WAIT + 2 * OPEN_FOR));
        // The trial's late success is stale and closes nothing.
        b.record(trial, OPEN_FOR + WAIT + 1, true, WAIT + 1);
        assert_eq!(b.state(OPEN_FOR + WAIT + 1), BreakerState::Open);
        assert_eq!(b.trials_in_flight(), 0, "its slot is free");
        assert_eq!(b.try_acquire(OPEN_FOR + WAIT + 1), None);
        assert_eq!(b.times_opened(), 2);
        assert_eq!(b.open_time(OPEN_FOR + WAIT + 10), OPEN_FOR + 10);
    }

    /// The other rule: an expired half-open closes, with a clean window,
    /// and the level is kept (it was not a successful close).
    #[test]
    fn an_expired_half_open_closes_when_told_to() {
        let mut b = CircuitBreaker::new(config(doubling(100 * OPEN_FOR), limit(HalfOpenExpiry::Close))).unwrap();
        call(&mut b, 0, false);
        let trial = b.try_acquire(OPEN_FOR).expect("a trial call");
        assert_eq!(b.state(OPEN_FOR + WAIT), BreakerState::Closed);
        assert!(!b.try_acquire(OPEN_FOR + WAIT).unwrap().half_open);
        b.record(trial, OPEN_FOR + WAIT + 1, false, WAIT + 1);
        assert_eq!(
            b.state(OPEN_FOR + WAIT + 1),
            BreakerState::Closed,
            "the trial's late failure is stale"
        );
        assert_eq!(b.level(), 1);
        call(&mut b, OPEN_FOR + WAIT + 2, false);
        assert_eq!(
            b.open_until(OPEN_FOR + WAIT + 2),
            Some(OPEN_FOR + WAIT + 2 + 2 * OPEN_FOR)
        );
    }

    #[test]
    fn rejects_bad_configs() {
        let bad = |c: BreakerConfig| CircuitBreaker::new(c).unwrap_err();
        let with = |multiplier: f64, max: Nanos| config(Some(OpenBackoff { multiplier, max }), None);
        assert_eq!(bad(with(1.0, OPEN_FOR)), BreakerError::BackoffMultiplier(1.0));
        assert!(matches!(
            bad(with(f64::NAN, OPEN_FOR)),
            BreakerError::BackoffMultiplier(_)
        ));
        assert_eq!(
            bad(with(2.0, OPEN_FOR - 1)),
            BreakerError::BackoffMax {
                max: OPEN_FOR - 1,
                open_for: OPEN_FOR
            }
        );
        assert!(CircuitBreaker::new(with(2.0, OPEN_FOR)).is_ok());
        let zero = config(
            None,
            Some(HalfOpenLimit {
                max_wait: 0,
                then: HalfOpenExpiry::Open,
            }),
        );
        assert_eq!(bad(zero), BreakerError::ZeroHalfOpenWait);
    }

    fn any_config() -> impl Strategy<Value = BreakerConfig> {
        let backoff = prop::option::of((1.1f64..4.0, 1u64..20).prop_map(|(multiplier, k)| OpenBackoff {
            multiplier,
            max: k * OPEN_FOR,
        }));
        let limit = prop::option::of((1u64..3_000, any::<bool>()).prop_map(|(max_wait, open)| HalfOpenLimit {
            max_wait,
            then: if open {
                HalfOpenExpiry::Open
            } else {
                HalfOpenExpiry::Close
            },
        }));
        (backoff, limit, 1u32..3).prop_map(|(b, l, success_threshold)| BreakerConfig {
            success_threshold,
            ..config(b, l)
        })
    }

    proptest! {
        /// Settling lazily in one jump gives what settling at every step on
        /// the way gives (state, level, opens, open time), and every open
        /// period lies in [open_for, max].
        #[test]
        fn one_jump_equals_many_steps(
            c in any_config(),
            ops in prop::collection::vec((0u64..3_000, prop::option::of(any::<bool>())), 1..80),
        ) {
            let mut stepwise = CircuitBreaker::new(c.clone()).unwrap();
            let mut lazy = CircuitBreaker::new(c.clone()).unwrap();
            let cap = c.open_backoff.map_or(c.open_for, |b| b.max);
            let mut now = 0;
            for (dt, result) in ops {
                // Walk `stepwise` through the gap in small steps.
                for k in 1..=8 {
                    let t = now + dt * k / 8;
                    let _ = stepwise.state(t);
                    stepwise.settle(t);
                }
                now += dt;
                lazy.settle(now);
                prop_assert_eq!(stepwise.state(now), lazy.state(now));
                prop_assert_eq!(stepwise.level(), lazy.level());
                prop_assert_eq!(stepwise.times_opened(), lazy.times_opened());
                prop_assert_eq!(stepwise.open_time(now), lazy.open_time(now));
                if let Some(until) = lazy.open_until(now) {
                    let State::Open { since, .. } = lazy.state else { unreachable!("open") };
                    prop_assert!(until - since >= c.open_for && until - since <= cap);
                }
                if let Some(success) = result {
                    for b in [&mut stepwise, &mut lazy] {
                        if let Some(p) = b.try_acquire(now) {
                            b.record(p, now, success, 0);
                        }
                    }
                }
                prop_assert!(lazy.open_time(now) <= now);
            }
        }
    }
}
