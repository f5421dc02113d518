//! A server-side rate limiter: a token bucket refilled continuously.
//!
//! The bucket holds at most `burst` tokens and gains `rate` tokens per
//! second of simulated time; a request takes one token or is rejected. It
//! starts full. This is the classic token bucket (as in Envoy's local rate
//! limit or Guava's `SmoothBursty`), not resilience4j's `RateLimiter`, which
//! refills `limitForPeriod` permits in whole periods.
//!
//! ```text
//!                 refill: +rate tokens/s, capped at burst
//!                ┌─────────────────────┐
//!                ▼                     │
//!   [ tokens >= 1 ] ── try_acquire ──> tokens - 1 ──> true
//!   [ tokens <  1 ] ── try_acquire ──> rejected + 1 ──> false
//! ```
//!
//! Tokens are kept in integer nanoseconds of refill time rather than as a
//! float: one token is worth `period = 1 s / rate` (rounded to the
//! nanosecond) and the bucket holds up to `burst * period`. Refilling then
//! adds the elapsed time exactly, so a client arriving exactly every
//! `period` is never rejected by accumulated rounding (the same reason gRPC
//! keeps retry tokens in thousandths).
//!
//! Invariants: `0 <= credit <= capacity`; `credit` only grows with elapsed
//! time, only shrinks by one `period` per admitted request; a `now` earlier
//! than one already seen adds nothing.

use crate::engine::Nanos;
use crate::engine::time::SECOND;

/// The configuration of a [`RateLimiter`].
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimitConfig {
    /// Sustained rate, in requests per second (> 0, at most 1e9).
    pub rate: f64,
    /// Bucket size, in requests (>= 1): how many may arrive at once.
    pub burst: f64,
}

/// Why a [`RateLimitConfig`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitError {
    /// The rate is not a finite number in (0, 1e9] per second.
    #[error("rate must be a number of requests per second in (0, 1e9], got {0}")]
    Rate(f64),
    /// The burst is not a finite number of at least 1.
    #[error("burst must be at least 1 request, got {0}")]
    Burst(f64),
}

/// A token bucket; see the module documentation.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    /// Refill time one token is worth, in ns (>= 1).
    period: Nanos,
    /// Refill time a full bucket holds, in ns (>= period).
    capacity: Nanos,
    /// Refill time currently held, in ns.
    credit: Nanos,
    /// The latest `now` seen.
    last: Nanos,
    rejected: u64,
}

impl RateLimiter {
    /// A full bucket.
    ///
    /// # Errors
    /// [`RateLimitError`] when `rate` or `burst` is out of range.
    pub fn new(config: RateLimitConfig) -> Result<Self, RateLimitError> {
        let RateLimitConfig { rate, burst } = config;
        if !(rate.is_finite() && rate > 0.0 && rate <= SECOND as f64) {
            return Err(RateLimitError::Rate(rate));
        }
        if !(burst.is_finite() && burst >= 1.0) {
            return Err(RateLimitError::Burst(burst));
        }
        let period = ((SECOND as f64 / rate).round() as Nanos).max(1);
        // Float-to-int `as` saturates, so an absurd burst cannot wrap.
        let capacity = ((burst * period as f64).round() as Nanos).max(period);
        Ok(RateLimiter {
            period,
            capacity,
            credit: capacity,
            last: 0,
            rejected: 0,
        })
    }

    /// Takes a token at `now`; `false` (and counted) when none is left.
    pub fn try_acquire(&mut self, now: Nanos) -> bool {
        self.refill(now);
        if self.credit >= self.period {
            self.credit -= self.period;
            true
        } else {
            self.rejected += 1;
            false
        }
    }

    /// Requests rejected so far.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Tokens available at the last `now` seen (fractional).
    pub fn tokens(&self) -> f64 {
        self.credit as f64 / self.period as f64
    }

    fn refill(&mut self, now: Nanos) {
        let elapsed = now.saturating_sub(self.last);
        self.last = self.last.max(now);
        self.credit = self.credit.saturating_add(elapsed).min(self.capacity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limiter(rate: f64, burst: f64) -> RateLimiter {
        RateLimiter::new(RateLimitConfig { rate, burst }).unwrap()
    }

    #[test]
    fn rejects_bad_configs() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e9] {
            let err = RateLimiter::new(RateLimitConfig { rate, burst: 1.0 }).unwrap_err();
            assert!(matches!(err, RateLimitError::Rate(_)), "{rate}");
        }
        for burst in [0.0, 0.5, f64::NAN, f64::INFINITY] {
            let err = RateLimiter::new(RateLimitConfig { rate: 1.0, burst }).unwrap_err();
            assert!(matches!(err, RateLimitError::Burst(_)), "{burst}");
        }
    }

    #[test]
    fn starts_full_then_rejects() {
        let mut rl = limiter(10.0, 3.0);
        assert_eq!(rl.tokens(), 3.0);
        assert!(rl.try_acquire(0) && rl.try_acquire(0) && rl.try_acquire(0));
        assert!(!rl.try_acquire(0));
        assert_eq!(rl.rejected(), 1);
    }

    #[test]
    fn refills_continuously_and_caps_at_burst() {
        let mut rl = limiter(10.0, 2.0); // one token per 100 ms
        assert!(rl.try_acquire(0) && rl.try_acquire(0));
        assert!(!rl.try_acquire(99_999_999));
        assert!(rl.try_acquire(100_000_000));
        // A long idle spell refills only up to the burst.
        assert_eq!(rl.tokens(), 0.0);
        assert!(!rl.try_acquire(100_000_001));
        rl.refill(100 * SECOND);
        assert_eq!(rl.tokens(), 2.0);
    }

    #[test]
    fn exact_period_arrivals_never_rejected() {
        // 3/s does not divide a second evenly; integer credit keeps it exact.
        let mut rl = limiter(3.0, 1.0);
        let period = rl.period;
        for k in 0..10_000u64 {
            assert!(rl.try_acquire(k * period), "arrival {k}");
        }
    }

    #[test]
    fn time_going_backwards_adds_nothing() {
        let mut rl = limiter(1.0, 1.0);
        assert!(rl.try_acquire(5 * SECOND));
        assert!(!rl.try_acquire(SECOND));
        assert!(!rl.try_acquire(5 * SECOND + SECOND / 2));
        assert!(rl.try_acquire(6 * SECOND));
    }

    proptest! {
        /// Admissions never exceed what a full bucket plus the refill since
        /// time zero can pay for, and the bucket is the configured size.
        #[test]
        fn never_exceeds_rate_plus_burst(
            rate in 0.5f64..1000.0,
            burst in 1.0f64..50.0,
            gaps in prop::collection::vec(0u64..50_000_000, 1..400),
        ) {
            let mut rl = limiter(rate, burst);
            prop_assert!((rl.tokens() - burst).abs() < 1e-6);
            let (mut now, mut admitted) = (0u64, 0u64);
            for gap in gaps {
                now += gap;
                admitted += u64::from(rl.try_acquire(now));
                prop_assert!(rl.credit <= rl.capacity);
            }
            prop_assert!(admitted * rl.period <= rl.capacity + now);
        }
    }
}
