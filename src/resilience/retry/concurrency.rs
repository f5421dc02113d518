//! A retry budget by concurrency, Envoy's form
//! (`circuit_breakers.thresholds.retry_budget`): retries are allowed while
//! the retries in flight stay under a share of the active requests, and
//! never below a minimum.
//!
//! ```text
//!   limit = max(min_retry_concurrency, floor(percent / 100 * active))
//!   try_start_retry:  retries < limit ──> retries + 1, true
//!                     otherwise       ──> refused + 1, false
//!   end_retry:        retries - 1      (the retry's attempt ended)
//!   call_started / call_ended: active +- 1
//! ```
//!
//! Envoy counts active and pending requests to the cluster; here `active`
//! is the calls alive on the edge (sent, queued in a bulkhead, or waiting
//! out a backoff), each counted once however many attempts it makes. A
//! retry is in flight from the moment it is granted (its backoff included:
//! it has been promised) until its attempt ends. Where the token bucket
//! ([`super::RetryBudget`]) bounds retries over time, this bounds them at
//! any instant, so a burst of failures cannot double the load at once;
//! an edge may have both, and a retry then needs both.
//!
//! Invariants: `retries <= max(limit at each grant)`; every grant is ended
//! exactly once; `active` never goes below zero.

use super::RetryError;

/// The configuration of a [`ConcurrencyBudget`].
#[derive(Clone, Debug, PartialEq)]
pub struct ConcurrencyConfig {
    /// Retries in flight allowed, in percent of active calls (in (0, 100]).
    pub percent: f64,
    /// Retries in flight always allowed (Envoy's default: 3).
    pub min_retry_concurrency: u32,
}

impl ConcurrencyConfig {
    /// Envoy's defaults: 20 % with a minimum of 3.
    pub const ENVOY: ConcurrencyConfig = ConcurrencyConfig {
        percent: 20.0,
        min_retry_concurrency: 3,
    };
}

/// Retries in flight bounded by a share of the active calls.
#[derive(Clone, Debug)]
pub struct ConcurrencyBudget {
    config: ConcurrencyConfig,
    active: u64,
    retries: u64,
    refused: u64,
    peak: u64,
}

impl ConcurrencyBudget {
    /// An idle budget.
    ///
    /// # Errors
    /// [`RetryError::ConcurrencyPercent`] when `percent` is not in (0, 100].
    pub fn new(config: ConcurrencyConfig) -> Result<Self, RetryError> {
        if !(config.percent > 0.0 && config.percent <= 100.0) {
            return Err(RetryError::ConcurrencyPercent(config.percent));
        }
        Ok(Self {
            config,
            active: 0,
            retries: 0,
            refused: 0,
            peak: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ConcurrencyConfig {
        &self.config
    }

    /// A call began on the edge.
    #[inline]
    pub fn call_started(&mut self) {
        self.active += 1;
    }

    /// The calls active now, counted by the caller (the model derives them
    /// from the edge's calls started and ended).
    #[inline]
    pub fn set_active(&mut self, active: u64) {
        self.active = active;
    }

    /// A call on the edge ended.
    #[inline]
    pub fn call_ended(&mut self) {
        debug_assert!(self.active > 0, "a call ended twice");
        self.active = self.active.saturating_sub(1);
    }

    /// Retries allowed in flight now.
    pub fn limit(&self) -> u64 {
        let share = (self.config.percent / 100.0 * self.active as f64).floor() as u64;
        share.max(u64::from(self.config.min_retry_concurrency))
    }

    /// Asks to start a retry: granted (and counted in flight) or refused.
    pub fn try_start_retry(&mut self) -> bool {
        if self.retries < self.limit() {
            self.retries += 1;
            self.peak = self.peak.max(self.retries);
            true
        } else {
            self.refused += 1;
            false
        }
    }

    /// A granted retry's attempt ended (or its call did).
    pub fn end_retry(&mut self) {
        debug_assert!(self.retries > 0, "a retry ended twice");
        self.retries = self.retries.saturating_sub(1);
    }

    /// Calls active now.
    pub fn active(&self) -> u64 {
        self.active
    }

    /// Retries in flight now.
    pub fn retries(&self) -> u64 {
        self.retries
    }

    /// Retries refused so far.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// The most retries in flight at once.
    pub fn peak(&self) -> u64 {
        self.peak
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn budget(percent: f64, min: u32) -> ConcurrencyBudget {
        ConcurrencyBudget::new(ConcurrencyConfig {
            percent,
            min_retry_concurrency: min,
        })
        .unwrap()
    }

    #[test]
    fn rejects_bad_percentages() {
        for percent in [0.0, -1.0, 100.5, f64::NAN] {
            let err = ConcurrencyBudget::new(ConcurrencyConfig {
                percent,
                min_retry_concurrency: 3,
            })
            .unwrap_err();
            assert!(matches!(err, RetryError::ConcurrencyPercent(_)), "{percent}");
        }
        assert!(ConcurrencyBudget::new(ConcurrencyConfig::ENVOY).is_ok());
    }

    /// Envoy's example: 100 active requests at 25 % allow 25 retries.
    #[test]
    fn a_quarter_of_a_hundred_active_is_twenty_five() {
        let mut b = budget(25.0, 3);
        for _ in 0..100 {
            b.call_started();
        }
        assert_eq!(b.limit(), 25);
        let granted = (0..40).filter(|_| b.try_start_retry()).count();
        assert_eq!(granted, 25);
        assert_eq!((b.retries(), b.refused()), (25, 15));
        b.end_retry();
        assert!(b.try_start_retry(), "a retry that ended frees its place");
        assert!(!b.try_start_retry());
    }

    /// Hand-computed limits: max(min, floor(percent / 100 * active)).
    #[test]
    fn the_limit_is_the_larger_of_the_minimum_and_the_share() {
        let cases = [
            // (percent, min, active, limit)
            (20.0, 3, 0, 3),
            (20.0, 3, 10, 3), // 2 < 3
            (20.0, 3, 19, 3), // 3.8 -> 3
            (20.0, 3, 20, 4), // 4
            (20.0, 3, 24, 4), // 4.8 -> 4
            (20.0, 0, 4, 0),  // 0.8 -> 0: no retries at all
            (50.0, 1, 7, 3),  // 3.5 -> 3
            (100.0, 0, 9, 9), // every call may be retrying
            (12.5, 2, 40, 5), // 5
        ];
        for (percent, min, active, limit) in cases {
            let mut b = budget(percent, min);
            for _ in 0..active {
                b.call_started();
            }
            assert_eq!(b.limit(), limit, "{percent} % of {active}, min {min}");
            let granted = (0..100).filter(|_| b.try_start_retry()).count() as u64;
            assert_eq!(granted, limit);
        }
    }

    /// Calls ending lower the limit; retries already in flight stay, but
    /// no new one starts until they fall under it.
    #[test]
    fn a_shrinking_share_blocks_new_retries_until_in_flight_ones_end() {
        let mut b = budget(50.0, 1);
        for _ in 0..10 {
            b.call_started();
        }
        for _ in 0..5 {
            assert!(b.try_start_retry());
        }
        for _ in 0..6 {
            b.call_ended();
        }
        assert_eq!(b.limit(), 2);
        assert!(!b.try_start_retry());
        for _ in 0..3 {
            b.end_retry();
        }
        assert_eq!(b.retries(), 2);
        assert!(!b.try_start_retry(), "2 in flight, limit 2");
        b.end_retry();
        assert!(b.try_start_retry());
        assert_eq!(b.peak(), 5);
    }

    proptest! {
        /// Whatever the sequence, a retry is granted only below the limit
        /// of that instant, and the counts stay consistent.
        #[test]
        fn grants_never_exceed_the_limit(
            percent in 1.0f64..100.0,
            min in 0u32..5,
            ops in prop::collection::vec(0u8..4, 0..400),
        ) {
            let mut b = budget(percent, min);
            let (mut active, mut retries) = (0u64, 0u64);
            for op in ops {
                match op {
                    0 => { b.call_started(); active += 1; }
                    1 if active > 0 => { b.call_ended(); active -= 1; }
                    2 => {
                        let limit = (percent / 100.0 * active as f64).floor() as u64;
                        let limit = limit.max(u64::from(min));
                        let granted = b.try_start_retry();
                        prop_assert_eq!(granted, retries < limit);
                        retries += u64::from(granted);
                    }
                    3 if retries > 0 => { b.end_retry(); retries -= 1; }
                    _ => {}
                }
                prop_assert_eq!((b.active(), b.retries()), (active, retries));
            }
        }
    }
}
