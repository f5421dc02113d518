//! Retry: when to try a failed call again, and how long to wait first.
//!
//! A [`RetryPolicy`] is immutable and shared by every call on an edge; the
//! state of one call (attempts made, the previous delay) lives with the
//! caller and is passed in. A [`RetryBudget`] is the one mutable piece,
//! shared by the edge, and is consulted by the caller after
//! [`RetryPolicy::decide`] says `Retry`.
//!
//! ```text
//!   attempt n fails with outcome o
//!        │
//!        ├─ n >= max_attempts ────────────────> GiveUp(Exhausted)
//!        ├─ o not in retry_on ────────────────> GiveUp(NotRetryable)
//!        ├─ d = delay(n, prev); now + d >= deadline ──> GiveUp(Deadline)
//!        └─ otherwise ──> Retry { after: d } ──> caller: budget.try_withdraw()?
//!                                                  yes: attempt n+1 at now + d
//! ```
//!
//! # Formula
//! For retry number `n >= 1` (1 is the wait after the first attempt), with
//! `cap = max_delay` (or [`DELAY_CEILING`] without one), all products
//! saturating:
//!
//! | backoff        | nominal delay `d`                       |
//! |----------------|-----------------------------------------|
//! | `Constant`     | `base`                                  |
//! | `Linear`       | `base * n`                              |
//! | `Fibonacci`    | `base * fib(n)`, `fib(1) = fib(2) = 1`, so 1, 1, 2, 3, 5, 8 … |
//! | `Exponential`  | `base * 2^(n-1)`                        |
//!
//! then `d = min(d, cap)` and jitter: `None` keeps `d`; `Full` draws
//! uniformly from `[0, d]`; `Equal` from `[d/2, d]` (`d/2 + U[0, d/2]`).
//! These are the "Full Jitter" and "Equal Jitter" of the AWS Architecture
//! Blog's "Exponential Backoff and Jitter" (Marc Brooker, 2015); full jitter
//! on exponential backoff is also gRPC's (`random(0, min(initialBackoff *
//! multiplier^(n-1), maxBackoff))`, proposal A6), and `Exponential` matches
//! Polly's `DelayBackoffType.Exponential` with `MaxDelay`.
//!
//! `Decorrelated` is that article's "Decorrelated Jitter": `d = min(cap,
//! U[base, 3 * prev])` with `prev = base` before the first retry; the
//! randomness is built in, so `jitter` is ignored. Its state is the previous
//! delay, which the caller passes back as `prev`.
//!
//! Invariants: delays never exceed `cap` nor [`DELAY_CEILING`], so `now +
//! delay` cannot overflow; a `Retry` is never scheduled at or past the
//! deadline; `decide` draws randomness only when it computes a delay.

mod budget;
pub mod concurrency;

pub use budget::{BudgetConfig, RetryBudget};
pub use concurrency::{ConcurrencyBudget, ConcurrencyConfig};

use rand::RngExt;

use super::{Outcome, OutcomeSet};
use crate::engine::Nanos;
use crate::random::Rng;

/// The longest delay ever returned (a quarter of the `u64` range, as
/// [`crate::engine::time::from_secs`] saturates), leaving room to add `now`.
pub const DELAY_CEILING: Nanos = Nanos::MAX / 4;

/// How the nominal delay grows with the retry number; see [the formula](self#formula).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backoff {
    /// `base` every time.
    Constant,
    /// `base * n`.
    Linear,
    /// `base * fib(n)` with `fib(1) = fib(2) = 1`.
    Fibonacci,
    /// `base * 2^(n-1)`.
    Exponential,
    /// AWS decorrelated jitter: `min(cap, U[base, 3 * prev])`.
    Decorrelated,
}

/// Randomisation applied to a nominal delay `d` (not to `Decorrelated`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// `d` exactly.
    None,
    /// Uniform on `[0, d]`.
    Full,
    /// Uniform on `[d/2, d]`.
    Equal,
}

/// The configuration of a [`RetryPolicy`].
#[derive(Clone, Debug, PartialEq)]
pub struct RetryConfig {
    /// Attempts in all, counting the first (>= 1; 1 = never retry).
    pub max_attempts: u32,
    /// How delays grow.
    pub backoff: Backoff,
    /// The first (and smallest nominal) delay.
    pub base: Nanos,
    /// Upper bound on every delay (>= `base`); `None` = unbounded.
    pub max_delay: Option<Nanos>,
    /// Randomisation of the nominal delay.
    pub jitter: Jitter,
    /// Outcomes that are retried (must not contain `Success`).
    pub retry_on: OutcomeSet,
    /// The edge's retry budget, if any (built by the caller with
    /// [`RetryBudget::new`]; validated here too so errors surface early).
    pub budget: Option<BudgetConfig>,
}

/// Why a [`RetryConfig`] or [`BudgetConfig`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RetryError {
    /// `max_attempts` is zero: the first attempt counts, so at least 1.
    #[error("max_attempts counts the first attempt and must be at least 1")]
    ZeroAttempts,
    /// `max_delay` is below `base`, so every delay would be `max_delay`.
    #[error("max_delay ({max_delay} ns) must be at least base ({base} ns)")]
    MaxDelayBelowBase {
        /// The configured base.
        base: Nanos,
        /// The configured cap.
        max_delay: Nanos,
    },
    /// `retry_on` contains `success`.
    #[error("retry_on cannot contain `success`")]
    RetriesSuccess,
    /// The budget ratio is not a finite number in [1e-6, 1e9].
    #[error("budget ratio must be a positive number of tokens per request (at least 1e-6), got {0}")]
    BudgetRatio(f64),
    /// The budget burst is not a finite number in [1, 1e9].
    #[error("budget burst must be between 1 and 1e9 retries, got {0}")]
    BudgetBurst(f64),
    /// The concurrency budget's percent is not in (0, 100].
    #[error("concurrency_budget.percent must be above 0 and at most 100, got {0}")]
    ConcurrencyPercent(f64),
}

/// Why a call is not retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveUpReason {
    /// `max_attempts` attempts have been made.
    Exhausted,
    /// The outcome is not in `retry_on`.
    NotRetryable,
    /// The retry would start at or after the deadline.
    Deadline,
}

/// What [`RetryPolicy::decide`] concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    /// Try again `after` ns from now (if the budget allows).
    Retry {
        /// The delay before the next attempt.
        after: Nanos,
    },
    /// Stop and report the last outcome.
    GiveUp(GiveUpReason),
}

/// A validated, immutable retry policy; see the module documentation.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    config: RetryConfig,
}

impl RetryPolicy {
    /// Validates `config`.
    ///
    /// # Errors
    /// [`RetryError`] naming the first parameter out of range.
    pub fn new(config: RetryConfig) -> Result<Self, RetryError> {
        if config.max_attempts == 0 {
            return Err(RetryError::ZeroAttempts);
        }
        if let Some(max_delay) = config.max_delay.filter(|&m| m < config.base) {
            return Err(RetryError::MaxDelayBelowBase {
                base: config.base,
                max_delay,
            });
        }
        if config.retry_on.contains(Outcome::Success) {
            return Err(RetryError::RetriesSuccess);
        }
        if let Some(budget) = &config.budget {
            budget.validate()?;
        }
        Ok(RetryPolicy { config })
    }

    /// Attempts in all, counting the first.
    pub fn max_attempts(&self) -> u32 {
        self.config.max_attempts
    }

    /// Whether `outcome` is retried.
    pub fn retries(&self, outcome: Outcome) -> bool {
        self.config.retry_on.contains(outcome)
    }

    /// The budget configuration, for the caller to build the edge's
    /// [`RetryBudget`].
    pub fn budget(&self) -> Option<&BudgetConfig> {
        self.config.budget.as_ref()
    }

    /// The validated configuration.
    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// Delay before retry number `retry` (1 = the wait after the first
    /// attempt; 0 is read as 1); `prev` is the previous delay (decorrelated
    /// jitter needs it; 0 for the first). See [the formula](self#formula).
    pub fn delay(&self, retry: u32, prev: Nanos, rng: &mut Rng) -> Nanos {
        match self.config.backoff {
            Backoff::Decorrelated => self.decorrelated(prev, rng),
            _ => jittered(self.nominal(retry), self.config.jitter, rng),
        }
    }

    /// The full decision after attempt number `attempts_made` ended with
    /// `outcome` at `now`. Gives up when the attempts are used up, the
    /// outcome is not retryable, or the retry would start at or after
    /// `deadline`; otherwise says how long to wait. The caller then checks
    /// the budget, if any.
    pub fn decide(
        &self,
        attempts_made: u32,
        outcome: Outcome,
        now: Nanos,
        deadline: Option<Nanos>,
        prev: Nanos,
        rng: &mut Rng,
    ) -> RetryDecision {
        if attempts_made >= self.config.max_attempts {
            return RetryDecision::GiveUp(GiveUpReason::Exhausted);
        }
        if !self.retries(outcome) {
            return RetryDecision::GiveUp(GiveUpReason::NotRetryable);
        }
        let after = self.delay(attempts_made, prev, rng);
        // A retry starting exactly at the deadline would have no time to run.
        if deadline.is_some_and(|d| now.saturating_add(after) >= d) {
            return RetryDecision::GiveUp(GiveUpReason::Deadline);
        }
        RetryDecision::Retry { after }
    }

    /// The nominal (un-jittered, capped) delay of a non-decorrelated backoff.
    fn nominal(&self, retry: u32) -> Nanos {
        let n = retry.max(1);
        let base = self.config.base;
        let raw = match self.config.backoff {
            Backoff::Constant | Backoff::Decorrelated => base,
            Backoff::Linear => base.saturating_mul(u64::from(n)),
            Backoff::Fibonacci => base.saturating_mul(fibonacci(n)),
            Backoff::Exponential => base.saturating_mul(1u64.checked_shl(n - 1).unwrap_or(u64::MAX)),
        };
        self.cap(raw)
    }

    fn decorrelated(&self, prev: Nanos, rng: &mut Rng) -> Nanos {
        let base = self.config.base;
        let prev = if prev == 0 { base } else { prev };
        let high = prev.saturating_mul(3).max(base);
        self.cap(rng.random_range(base..=high))
    }

    fn cap(&self, delay: Nanos) -> Nanos {
        delay
            .min(self.config.max_delay.unwrap_or(DELAY_CEILING))
            .min(DELAY_CEILING)
    }
}

/// `fib(n)` with `fib(1) = fib(2) = 1`, saturating at `u64::MAX` (from
/// `fib(94)` on); at most 93 steps whatever `n` is.
fn fibonacci(n: u32) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 1..n {
        let Some(next) = a.checked_add(b) else {
            return u64::MAX;
        };
        (a, b) = (b, next);
    }
    b
}

fn jittered(d: Nanos, jitter: Jitter, rng: &mut Rng) -> Nanos {
    match jitter {
        Jitter::None => d,
        Jitter::Full => rng.random_range(0..=d),
        Jitter::Equal => {
            let half = d / 2;
            half + rng.random_range(0..=d - half)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::{Purpose, Rng, stream};
    use proptest::prelude::*;

    const MS: Nanos = 1_000_000;

    fn config(backoff: Backoff, jitter: Jitter) -> RetryConfig {
        RetryConfig {
            max_attempts: 4,
            backoff,
            base: 100 * MS,
            max_delay: Some(500 * MS),
            jitter,
            retry_on: OutcomeSet::ALL_FAILURES,
            budget: None,
        }
    }

    fn policy(backoff: Backoff, jitter: Jitter) -> RetryPolicy {
        RetryPolicy::new(config(backoff, jitter)).unwrap()
    }

    fn rng(seed: u64) -> Rng {
        stream(seed, 0, Purpose::Replica, 0)
    }

    fn delays(p: &RetryPolicy, count: u32) -> Vec<Nanos> {
        let mut r = rng(1);
        (1..=count).map(|n| p.delay(n, 0, &mut r) / MS).collect()
    }

    #[test]
    fn rejects_bad_configs() {
        let bad = |edit: fn(&mut RetryConfig)| {
            let mut c = config(Backoff::Constant, Jitter::None);
            edit(&mut c);
            RetryPolicy::new(c).unwrap_err()
        };
        assert_eq!(bad(|c| c.max_attempts = 0), RetryError::ZeroAttempts);
        assert!(matches!(
            bad(|c| c.max_delay = Some(1)),
            RetryError::MaxDelayBelowBase { .. }
        ));
        assert_eq!(
            bad(|c| c.retry_on = OutcomeSet::of(Outcome::Success)),
            RetryError::RetriesSuccess
        );
        assert!(matches!(
            bad(|c| c.budget = Some(BudgetConfig::with_ratio(0.0))),
            RetryError::BudgetRatio(_)
        ));
    }

    #[test]
    fn nominal_delays_follow_each_formula_and_the_cap() {
        assert_eq!(
            delays(&policy(Backoff::Constant, Jitter::None), 4),
            [100, 100, 100, 100]
        );
        assert_eq!(
            delays(&policy(Backoff::Linear, Jitter::None), 6),
            [100, 200, 300, 400, 500, 500]
        );
        assert_eq!(
            delays(&policy(Backoff::Fibonacci, Jitter::None), 6),
            [100, 100, 200, 300, 500, 500]
        );
        assert_eq!(
            delays(&policy(Backoff::Exponential, Jitter::None), 4),
            [100, 200, 400, 500]
        );
    }

    #[test]
    fn huge_retry_numbers_saturate_without_a_cap() {
        let uncapped = |backoff| {
            RetryPolicy::new(RetryConfig {
                max_delay: None,
                ..config(backoff, Jitter::None)
            })
            .unwrap()
        };
        for backoff in [Backoff::Fibonacci, Backoff::Exponential] {
            assert_eq!(
                uncapped(backoff).delay(u32::MAX, 0, &mut rng(0)),
                DELAY_CEILING,
                "{backoff:?}"
            );
        }
        let linear = uncapped(Backoff::Linear).delay(u32::MAX, 0, &mut rng(0));
        assert_eq!(linear, 100 * MS * u64::from(u32::MAX));
        assert_eq!(fibonacci(93), 12_200_160_415_121_876_738);
        assert_eq!(fibonacci(94), u64::MAX);
    }

    #[test]
    fn jitter_spreads_within_its_range() {
        let mut r = rng(7);
        let full = policy(Backoff::Constant, Jitter::Full);
        let equal = policy(Backoff::Constant, Jitter::Equal);
        let fulls: Vec<_> = (0..1000).map(|_| full.delay(1, 0, &mut r)).collect();
        let equals: Vec<_> = (0..1000).map(|_| equal.delay(1, 0, &mut r)).collect();
        assert!(fulls.iter().all(|&d| d <= 100 * MS) && fulls.iter().any(|&d| d < 50 * MS));
        assert!(equals.iter().all(|&d| (50 * MS..=100 * MS).contains(&d)));
        let mean = fulls.iter().sum::<u64>() as f64 / 1000.0 / MS as f64;
        assert!((mean - 50.0).abs() < 5.0, "full jitter mean {mean} ms");
    }

    #[test]
    fn decorrelated_grows_from_base_and_respects_the_cap() {
        let p = policy(Backoff::Decorrelated, Jitter::Full); // jitter ignored
        let mut r = rng(3);
        let first = p.delay(1, 0, &mut r);
        assert!((100 * MS..=300 * MS).contains(&first));
        let mut prev = first;
        for n in 2..50 {
            let d = p.delay(n, prev, &mut r);
            assert!(d >= 100 * MS && d <= (3 * prev).min(500 * MS));
            prev = d;
        }
    }

    #[test]
    fn decide_gives_up_for_each_reason() {
        let p = policy(Backoff::Constant, Jitter::None);
        let mut r = rng(0);
        let retry = RetryDecision::Retry { after: 100 * MS };
        assert_eq!(p.decide(1, Outcome::Timeout, 0, None, 0, &mut r), retry);
        assert_eq!(p.decide(3, Outcome::Error, 0, None, 0, &mut r), retry);
        assert_eq!(
            p.decide(4, Outcome::Error, 0, None, 0, &mut r),
            RetryDecision::GiveUp(GiveUpReason::Exhausted)
        );
        let only_timeouts = RetryConfig {
            retry_on: OutcomeSet::of(Outcome::Timeout),
            ..config(Backoff::Constant, Jitter::None)
        };
        let p2 = RetryPolicy::new(only_timeouts).unwrap();
        assert!(p2.retries(Outcome::Timeout) && !p2.retries(Outcome::Error));
        assert_eq!(
            p2.decide(1, Outcome::Error, 0, None, 0, &mut r),
            RetryDecision::GiveUp(GiveUpReason::NotRetryable)
        );
        // The retry would start exactly at the deadline: no time left to run.
        let deadline = RetryDecision::GiveUp(GiveUpReason::Deadline);
        assert_eq!(p.decide(1, Outcome::Error, 0, Some(100 * MS), 0, &mut r), deadline);
        assert_eq!(p.decide(1, Outcome::Error, 0, Some(100 * MS + 1), 0, &mut r), retry);
    }

    #[test]
    fn single_attempt_never_retries() {
        let p = RetryPolicy::new(RetryConfig {
            max_attempts: 1,
            ..config(Backoff::Constant, Jitter::None)
        })
        .unwrap();
        assert_eq!(p.max_attempts(), 1);
        assert_eq!(
            p.decide(1, Outcome::Error, 0, None, 0, &mut rng(0)),
            RetryDecision::GiveUp(GiveUpReason::Exhausted)
        );
    }

    /// An independent, wide-integer statement of the nominal formulas.
    fn reference_nominal(backoff: Backoff, base: u64, n: u32, cap: Option<u64>) -> u64 {
        let factor: u128 = match backoff {
            Backoff::Constant | Backoff::Decorrelated => 1,
            Backoff::Linear => u128::from(n),
            Backoff::Fibonacci => (1..n).fold((0u128, 1u128), |(a, b), _| (b, a + b)).1,
            Backoff::Exponential => 1u128 << (n - 1),
        };
        let raw = u128::from(base).saturating_mul(factor);
        raw.min(u128::from(cap.unwrap_or(DELAY_CEILING)))
            .min(u128::from(DELAY_CEILING)) as u64
    }

    fn backoff() -> impl Strategy<Value = Backoff> {
        prop_oneof![
            Just(Backoff::Constant),
            Just(Backoff::Linear),
            Just(Backoff::Fibonacci),
            Just(Backoff::Exponential),
            Just(Backoff::Decorrelated),
        ]
    }

    fn jitter() -> impl Strategy<Value = Jitter> {
        prop_oneof![Just(Jitter::None), Just(Jitter::Full), Just(Jitter::Equal)]
    }

    fn any_policy() -> impl Strategy<Value = RetryPolicy> {
        (
            backoff(),
            jitter(),
            0u64..10_000_000_000,
            prop::option::of(0u64..100_000_000_000),
            1u32..20,
        )
            .prop_map(|(backoff, jitter, base, extra, max_attempts)| {
                let max_delay = extra.map(|e| base + e);
                let retry_on = OutcomeSet::ALL_FAILURES;
                RetryPolicy::new(RetryConfig {
                    max_attempts,
                    backoff,
                    base,
                    max_delay,
                    jitter,
                    retry_on,
                    budget: None,
                })
                .unwrap()
            })
    }

    proptest! {
        /// Every delay lies within its strategy's bounds.
        #[test]
        fn delays_lie_within_bounds(p in any_policy(), n in 1u32..120, prev in 0u64..1_000_000_000_000, seed: u64) {
            let c = p.config();
            let d = p.delay(n, prev, &mut rng(seed));
            let cap = c.max_delay.unwrap_or(DELAY_CEILING);
            prop_assert!(d <= cap && d <= DELAY_CEILING);
            if c.backoff == Backoff::Decorrelated {
                let prev = if prev == 0 { c.base } else { prev };
                let high = u128::from(prev) * 3;
                prop_assert!(d >= c.base.min(cap));
                prop_assert!(u128::from(d) <= high.max(u128::from(c.base)).min(u128::from(cap)));
            } else {
                let nominal = reference_nominal(c.backoff, c.base, n, c.max_delay);
                let low = match c.jitter { Jitter::None => nominal, Jitter::Full => 0, Jitter::Equal => nominal / 2 };
                prop_assert!(low <= d && d <= nominal, "{} not in [{}, {}]", d, low, nominal);
            }
        }

        /// A retry is never scheduled at or past the deadline, nor beyond
        /// max_attempts, nor for an outcome outside retry_on.
        #[test]
        fn never_retries_past_the_deadline(
            p in any_policy(),
            attempts in 0u32..25,
            now in 0u64..1_000_000_000_000,
            budget in prop::option::of(0u64..100_000_000_000),
            seed: u64,
        ) {
            let deadline = budget.map(|b| now + b);
            let outcome = Outcome::ALL[(seed % 8) as usize];
            if let RetryDecision::Retry { after } = p.decide(attempts, outcome, now, deadline, 0, &mut rng(seed)) {
                prop_assert!(deadline.is_none_or(|d| now + after < d));
                prop_assert!(attempts < p.max_attempts() && p.retries(outcome));
            }
        }
    }
}
