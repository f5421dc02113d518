//! Hedged requests ("The Tail at Scale", Dean and Barroso, 2013; gRPC's
//! `hedgingPolicy`): when an attempt has had no answer after a delay, send
//! a second copy to another replica and take whichever answers first.
//!
//! The [`Hedger`] keeps an edge's books: the delay (fixed, or a quantile of
//! the latency of the edge's recent successful attempts), a budget that
//! caps hedges (the token bucket of [`super::retry::RetryBudget`]: each
//! call deposits `ratio`, each hedge pays one), and the counts. The caller
//! schedules the hedge, picks the replica and settles the race; see
//! `model::traffic::hedge`.
//!
//! ```text
//!   attempt sent at t ──> delay() = d?  (None: no hedge for this attempt)
//!        │ answer before t + d: no hedge
//!        └ t + d, still waiting: try_hedge() ──budget refuses──> no hedge
//!                                   │ granted
//!                                   v
//!                     second copy to another replica
//!   first success wins (the other is cancelled when `cancel`); a failure
//!   waits for the other copy; the attempt fails when both have failed.
//! ```
//!
//! With a quantile delay, the delay is the nearest-rank `quantile` of the
//! last `window` successful attempt latencies, recomputed lazily after each
//! new sample; until `window` samples are in, no hedge is sent (a guess
//! would hedge the cold start's every call).
//!
//! Invariants: `hedges <= burst + ratio * calls` with a budget; the window
//! holds at most `window` samples; `delay()` is `None` or positive.

use super::retry::{BudgetConfig, RetryBudget, RetryError};
use crate::engine::Nanos;

/// When to send the hedge.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HedgeDelay {
    /// A fixed delay after the attempt was sent (> 0).
    Fixed(Nanos),
    /// The `quantile` (in (0, 1)) of the last `window` (>= 1) successful
    /// attempts' latencies.
    Quantile {
        /// Which quantile, e.g. 0.95.
        quantile: f64,
        /// How many recent latencies it is taken over.
        window: u32,
    },
}

/// The configuration of a [`Hedger`].
#[derive(Clone, Debug, PartialEq)]
pub struct HedgeConfig {
    /// When the hedge goes.
    pub delay: HedgeDelay,
    /// Cancel the losing copy when the winner answers (default true); when
    /// false it runs to its end and its answer is dropped.
    pub cancel: bool,
    /// A token bucket capping hedges; `None`: every late attempt is hedged.
    pub budget: Option<BudgetConfig>,
}

/// Why a [`HedgeConfig`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HedgeError {
    /// A fixed delay of zero would always send two copies: ask for it with
    /// two callers instead.
    #[error("hedge delay must be positive")]
    ZeroDelay,
    /// The quantile is not in (0, 1).
    #[error("hedge quantile must be above 0 and below 1, got {0}")]
    Quantile(f64),
    /// The window is empty.
    #[error("hedge window must hold at least 1 latency")]
    ZeroWindow,
    /// The budget is invalid.
    #[error(transparent)]
    Budget(#[from] RetryError),
}

/// An edge's hedging books; see the module documentation.
#[derive(Clone, Debug)]
pub struct Hedger {
    config: HedgeConfig,
    budget: Option<RetryBudget>,
    /// Recent successful latencies, a ring (quantile delay only).
    recent: Vec<Nanos>,
    next: usize,
    /// The delay computed from `recent`, until a new sample arrives.
    cached: Option<Nanos>,
    scratch: Vec<Nanos>,
    sent: u64,
    refused: u64,
}

impl Hedger {
    /// Fresh books.
    ///
    /// # Errors
    /// [`HedgeError`] naming the first parameter out of range.
    pub fn new(config: HedgeConfig) -> Result<Self, HedgeError> {
        let window = match config.delay {
            HedgeDelay::Fixed(0) => return Err(HedgeError::ZeroDelay),
            HedgeDelay::Fixed(_) => 0,
            HedgeDelay::Quantile { quantile, .. } if !(quantile > 0.0 && quantile < 1.0) => {
                return Err(HedgeError::Quantile(quantile));
            }
            HedgeDelay::Quantile { window: 0, .. } => return Err(HedgeError::ZeroWindow),
            HedgeDelay::Quantile { window, .. } => window as usize,
        };
        let budget = config.budget.clone().map(RetryBudget::new).transpose()?;
        Ok(Self {
            config,
            budget,
            recent: Vec::with_capacity(window),
            next: 0,
            cached: None,
            scratch: Vec::with_capacity(window),
            sent: 0,
            refused: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HedgeConfig {
        &self.config
    }

    /// A call began: deposit into the budget.
    pub fn on_call(&mut self) {
        self.on_calls(1);
    }

    /// `n` calls began (the same as `n` calls of [`Hedger::on_call`] with
    /// no hedge between them).
    pub fn on_calls(&mut self, n: u64) {
        if let Some(b) = &mut self.budget {
            b.on_requests(n);
        }
    }

    /// How long after sending an attempt its hedge goes; `None` while a
    /// quantile's window is still filling.
    pub fn delay(&mut self) -> Option<Nanos> {
        match self.config.delay {
            HedgeDelay::Fixed(d) => Some(d),
            HedgeDelay::Quantile { quantile, window } => {
                if self.recent.len() < window as usize {
                    return None;
                }
                if self.cached.is_none() {
                    self.scratch.clear();
                    self.scratch.extend_from_slice(&self.recent);
                    let rank = nearest_rank(quantile, self.scratch.len());
                    let (_, q, _) = self.scratch.select_nth_unstable(rank);
                    self.cached = Some((*q).max(1));
                }
                self.cached
            }
        }
    }

    /// A successful attempt took `latency`.
    pub fn observe(&mut self, latency: Nanos) {
        let HedgeDelay::Quantile { window, .. } = self.config.delay else {
            return;
        };
        if self.recent.len() < window as usize {
            self.recent.push(latency);
        } else {
            self.recent[self.next] = latency;
            self.next = (self.next + 1) % window as usize;
        }
        self.cached = None;
    }

    /// Asks to send one hedge: granted by the budget (and counted), or
    /// refused.
    pub fn try_hedge(&mut self) -> bool {
        if self.budget.as_mut().is_none_or(RetryBudget::try_withdraw) {
            self.sent += 1;
            true
        } else {
            self.refused += 1;
            false
        }
    }

    /// Hedges sent.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Hedges the budget refused.
    pub fn refused(&self) -> u64 {
        self.refused
    }
}

/// The 0-based index of the nearest-rank `q` quantile of `n` sorted values:
/// the smallest value with at least `q * n` values at or below it.
fn nearest_rank(q: f64, n: usize) -> usize {
    ((q * n as f64).ceil() as usize).clamp(1, n) - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixed(d: Nanos, budget: Option<BudgetConfig>) -> Hedger {
        Hedger::new(HedgeConfig {
            delay: HedgeDelay::Fixed(d),
            cancel: true,
            budget,
        })
        .unwrap()
    }

    fn quantile(quantile: f64, window: u32) -> Hedger {
        Hedger::new(HedgeConfig {
            delay: HedgeDelay::Quantile { quantile, window },
            cancel: true,
            budget: None,
        })
        .unwrap()
    }

    #[test]
    fn rejects_bad_configs() {
        let bad = |delay| {
            Hedger::new(HedgeConfig {
                delay,
                cancel: true,
                budget: None,
            })
            .unwrap_err()
        };
        assert_eq!(bad(HedgeDelay::Fixed(0)), HedgeError::ZeroDelay);
        for q in [0.0, 1.0, -0.5, f64::NAN] {
            assert!(matches!(
                bad(HedgeDelay::Quantile {
                    quantile: q,
                    window: 10
                }),
                HedgeError::Quantile(_)
            ));
        }
        assert_eq!(
            bad(HedgeDelay::Quantile {
                quantile: 0.5,
                window: 0
            }),
            HedgeError::ZeroWindow
        );
        let budget = Hedger::new(HedgeConfig {
            delay: HedgeDelay::Fixed(5),
            cancel: false,
            budget: Some(BudgetConfig { ratio: 0.0, burst: 1.0 }),
        });
        assert!(matches!(budget, Err(HedgeError::Budget(_))));
    }

    #[test]
    fn a_fixed_delay_is_always_known() {
        let mut h = fixed(7, None);
        assert_eq!(h.delay(), Some(7));
        h.observe(1_000);
        assert_eq!(h.delay(), Some(7));
        assert!(h.try_hedge());
        assert_eq!(h.sent(), 1);
    }

    /// The nearest rank of 0.9 over 1..=10 is 9; the window then slides.
    #[test]
    fn a_quantile_delay_waits_for_its_window_then_follows_it() {
        let mut h = quantile(0.9, 10);
        for x in 1..=9 {
            h.observe(x);
            assert_eq!(h.delay(), None, "the window is not full");
        }
        h.observe(10);
        assert_eq!(h.delay(), Some(9));
        // Ten large samples push every small one out.
        for x in 0..10 {
            h.observe(100 + x);
        }
        assert_eq!(h.delay(), Some(108));
        assert_eq!(nearest_rank(0.5, 4), 1);
        assert_eq!(nearest_rank(0.01, 4), 0);
        assert_eq!(nearest_rank(0.99, 4), 3);
    }

    /// burst 2, ratio 0.5: two hedges at once, then one per two calls.
    #[test]
    fn the_budget_caps_hedges() {
        let mut h = fixed(5, Some(BudgetConfig { ratio: 0.5, burst: 2.0 }));
        assert!(h.try_hedge() && h.try_hedge());
        assert!(!h.try_hedge());
        h.on_call();
        assert!(!h.try_hedge());
        h.on_call();
        assert!(h.try_hedge());
        assert_eq!((h.sent(), h.refused()), (3, 2));
    }

    proptest! {
        /// The quantile delay is the nearest-rank quantile of the last
        /// `window` samples, computed here by sorting.
        #[test]
        fn the_quantile_matches_a_sort(
            q in 0.01f64..0.99,
            window in 1u32..40,
            samples in prop::collection::vec(1u64..1_000, 0..200),
        ) {
            let mut h = quantile(q, window);
            for (i, &x) in samples.iter().enumerate() {
                h.observe(x);
                let seen = i + 1;
                if seen < window as usize {
                    prop_assert_eq!(h.delay(), None);
                } else {
                    let mut last: Vec<u64> = samples[seen - window as usize..seen].to_vec();
                    last.sort_unstable();
                    prop_assert_eq!(h.delay(), Some(last[nearest_rank(q, last.len())]));
                }
            }
        }
    }
}
