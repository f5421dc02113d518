//! A retry budget: a token bucket that keeps retries near a fixed share of
//! requests, so that retries cannot multiply load on a failing callee.
//!
//! It follows Finagle's `RetryBudget` (and tower's `Budget`): every original
//! request deposits `ratio` tokens, every retry withdraws one, and a retry
//! finding less than one token is refused. The bucket starts full and holds
//! at most `burst` tokens, which bounds the retries a fresh or idle client
//! may make at once. With `ratio = 0.1`, retries settle at about one per ten
//! requests however badly the callee fails.
//!
//! gRPC's retry throttling (proposal A6, `retryThrottling: {maxTokens,
//! tokenRatio}`) is the same bucket on different events: there a failure
//! withdraws one token, a success deposits `tokenRatio`, and retries stop
//! while the count is at or below `maxTokens / 2`. Our `burst` plays the part
//! of `maxTokens` and `ratio` of `tokenRatio`; we count requests and retries
//! rather than successes and failures, as the contract specifies.
//!
//! ```text
//!   on_request:    tokens = min(burst, tokens + ratio)
//!   try_withdraw:  tokens >= 1 ──> tokens - 1, true
//!                  tokens <  1 ──> refused + 1, false
//! ```
//!
//! Tokens are kept in millionths as integers (gRPC keeps thousandths for the
//! same reason): ten deposits of 0.1 make exactly one token, where floats
//! would make 0.9999999999999999 and refuse a retry that should pass.
//!
//! Invariants: `0 <= tokens <= burst`; every successful withdrawal removed
//! exactly one token; the bucket only changes through these two calls.

use super::RetryError;

/// Fixed-point scale: tokens are counted in millionths.
const SCALE: f64 = 1e6;
/// One whole token, in millionths.
const ONE: u64 = 1_000_000;
/// The largest `burst` accepted, far above any sensible bucket and far
/// below what would overflow the fixed-point count.
const MAX_BURST: f64 = 1e9;

/// The configuration of a [`RetryBudget`].
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetConfig {
    /// Tokens each original request deposits (> 0, at least 1e-6): about the
    /// share of requests that may be retried.
    pub ratio: f64,
    /// Bucket size and starting balance, in retries (>= 1; default 10).
    pub burst: f64,
}

impl BudgetConfig {
    /// The contract's default bucket size.
    pub const DEFAULT_BURST: f64 = 10.0;

    /// A budget of `ratio` with the default burst.
    pub const fn with_ratio(ratio: f64) -> Self {
        BudgetConfig {
            ratio,
            burst: Self::DEFAULT_BURST,
        }
    }

    /// The config in millionths of a token: (deposit, capacity).
    pub(super) fn validate(&self) -> Result<(u64, u64), RetryError> {
        let deposit = (self.ratio * SCALE).round();
        if !(self.ratio.is_finite() && deposit >= 1.0 && self.ratio <= MAX_BURST) {
            return Err(RetryError::BudgetRatio(self.ratio));
        }
        if !(self.burst.is_finite() && (1.0..=MAX_BURST).contains(&self.burst)) {
            return Err(RetryError::BudgetBurst(self.burst));
        }
        Ok((deposit as u64, (self.burst * SCALE).round() as u64))
    }
}

/// A retry budget shared by every call on an edge; see the module docs.
#[derive(Clone, Debug)]
pub struct RetryBudget {
    deposit: u64,
    capacity: u64,
    tokens: u64,
    refused: u64,
}

impl RetryBudget {
    /// A full budget.
    ///
    /// # Errors
    /// [`RetryError::BudgetRatio`] or [`RetryError::BudgetBurst`] when a
    /// parameter is out of range.
    pub fn new(config: BudgetConfig) -> Result<Self, RetryError> {
        let (deposit, capacity) = config.validate()?;
        Ok(RetryBudget {
            deposit,
            capacity,
            tokens: capacity,
            refused: 0,
        })
    }

    /// An original request (not a retry) was sent: deposit `ratio` tokens.
    pub fn on_request(&mut self) {
        self.tokens = (self.tokens + self.deposit).min(self.capacity);
    }

    /// `n` original requests at once: the same as `n` calls of
    /// [`RetryBudget::on_request`] with no withdrawal between them.
    pub fn on_requests(&mut self, n: u64) {
        self.tokens = self
            .tokens
            .saturating_add(self.deposit.saturating_mul(n))
            .min(self.capacity);
    }

    /// Asks to send one retry: withdraws a token, or refuses (and counts it)
    /// when less than one is left.
    pub fn try_withdraw(&mut self) -> bool {
        if self.tokens >= ONE {
            self.tokens -= ONE;
            true
        } else {
            self.refused += 1;
            false
        }
    }

    /// Retries refused so far.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// The balance, in retries (fractional).
    pub fn tokens(&self) -> f64 {
        self.tokens as f64 / SCALE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_bad_configs() {
        for ratio in [0.0, -0.1, 1e-9, f64::NAN, f64::INFINITY] {
            let err = RetryBudget::new(BudgetConfig { ratio, burst: 10.0 }).unwrap_err();
            assert!(matches!(err, RetryError::BudgetRatio(_)), "{ratio}");
        }
        for burst in [0.0, 0.99, f64::NAN, f64::INFINITY, 1e12] {
            let err = RetryBudget::new(BudgetConfig { ratio: 0.1, burst }).unwrap_err();
            assert!(matches!(err, RetryError::BudgetBurst(_)), "{burst}");
        }
    }

    #[test]
    fn starts_full_and_drains() {
        let mut b = RetryBudget::new(BudgetConfig::with_ratio(0.1)).unwrap();
        assert_eq!(b.tokens(), 10.0);
        for _ in 0..10 {
            assert!(b.try_withdraw());
        }
        assert!(!b.try_withdraw());
        assert_eq!(b.refused(), 1);
    }

    #[test]
    fn ten_deposits_of_a_tenth_buy_exactly_one_retry() {
        let mut b = RetryBudget::new(BudgetConfig { ratio: 0.1, burst: 1.0 }).unwrap();
        assert!(b.try_withdraw());
        for _ in 0..9 {
            b.on_request();
        }
        assert!(!b.try_withdraw());
        b.on_request();
        assert!(b.try_withdraw());
        assert_eq!(b.refused(), 1);
    }

    #[test]
    fn many_deposits_at_once_equal_one_by_one() {
        for n in [0, 1, 7, 19, 20, 21, 1_000] {
            let mut one = RetryBudget::new(BudgetConfig { ratio: 0.1, burst: 2.0 }).unwrap();
            let mut many = one.clone();
            for _ in 0..3 {
                one.try_withdraw();
                many.try_withdraw();
            }
            for _ in 0..n {
                one.on_request();
            }
            many.on_requests(n);
            assert_eq!(one.tokens(), many.tokens(), "{n}");
        }
    }

    #[test]
    fn deposits_are_capped_at_burst() {
        let mut b = RetryBudget::new(BudgetConfig { ratio: 0.5, burst: 2.0 }).unwrap();
        for _ in 0..100 {
            b.on_request();
        }
        assert_eq!(b.tokens(), 2.0);
    }

    proptest! {
        /// Retries granted never exceed burst + ratio * requests, and the
        /// balance stays within [0, burst].
        #[test]
        fn retries_stay_within_budget(
            ratio in 0.01f64..2.0,
            burst in 1.0f64..20.0,
            events in prop::collection::vec(any::<bool>(), 0..500),
        ) {
            let mut b = RetryBudget::new(BudgetConfig { ratio, burst }).unwrap();
            let (mut requests, mut granted) = (0u64, 0u64);
            for is_request in events {
                if is_request {
                    b.on_request();
                    requests += 1;
                } else {
                    granted += u64::from(b.try_withdraw());
                }
                prop_assert!(b.tokens() >= 0.0 && b.tokens() <= burst + 1e-6);
            }
            prop_assert!(granted as f64 <= burst + ratio * requests as f64 + 1e-6 * (requests + 1) as f64);
        }
    }
}
