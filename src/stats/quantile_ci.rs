//! Distribution-free 95 % intervals for quantiles (the downtime
//! percentiles of `summary.json`), from order statistics.
//!
//! # Formula
//! Of `n` independent values, the number `B` at or below the true
//! `p`-quantile `q` is Binomial(n, p) (at least, with ties). The `l`-th
//! smallest value lies above `q` only when `B < l`, and the `u`-th smallest
//! lies below `q` only when `B >= u`, so
//!
//! ```text
//! P(X(l) <= q <= X(u)) >= 1 - P(B <= l-1) - P(B >= u)
//! ```
//!
//! With `l - 1` the largest `k` where `P(B <= k) <= 2.5 %` and `u - 1` the
//! smallest `k` where `P(B <= k) >= 97.5 %`, each tail is at most 2.5 %
//! whatever the distribution of the values: no normality, no bootstrap,
//! and it holds with the atom at zero that downtime has (most trials of a
//! good design have none). Coverage study: `tests/quantile_coverage.rs`,
//! figures in `docs/intervals.md`.
//!
//! # Ends that do not exist
//! When even the smallest value is too likely to lie above `q` (few trials
//! for the quantile, `(1-p)^n > 2.5 %`), the lower end is the least value
//! possible, 0 (the values here are non-negative). When `u > n` (the 99th
//! percentile of 100 trials, say), no order statistic bounds `q` from above
//! at 95 % and the upper end is `null`.
//!
//! The values come from the [`Quantiles`] sketch, whose buckets hold values
//! within 0.1 % of each other: the lower end reads a bucket's lowest
//! value and the upper end its highest, so the sketch only widens the
//! interval.

use statrs::distribution::{Binomial, DiscreteCDF};

use super::histogram::Quantiles;
use super::summary::Spread;
use super::welford::Welford;

/// Tail probability allowed on each side.
const TAIL: f64 = 0.025;

/// The 1-based ranks `(l, u)` of the order statistics that bound the
/// `p`-quantile of `n` values at 95 %: `l == 0` for no lower order
/// statistic, `u > n` for no upper one.
pub fn ranks(n: u64, p: f64) -> (u64, u64) {
    let Ok(b) = Binomial::new(p.clamp(0.0, 1.0), n) else {
        return (0, n + 1);
    };
    // The CDF rises with k, so both ranks are found by bisection.
    let first_at_least = |target: f64| {
        let (mut lo, mut hi) = (0u64, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if b.cdf(mid) >= target { hi = mid } else { lo = mid + 1 }
        }
        lo
    };
    // Largest k with cdf(k) <= TAIL, plus one; 0 when cdf(0) > TAIL.
    let l = first_at_least(f64::from_bits(TAIL.to_bits() + 1));
    let u = first_at_least(1.0 - TAIL) + 1;
    (l, u)
}

/// The 95 % interval of the `p`-quantile of the values in `q`: `[low,
/// high]`, `high` `None` when too few values bound it (module doc).
pub fn ci95(q: &Quantiles, p: f64) -> [Option<f64>; 2] {
    let hist = q.histogram();
    let n = hist.len();
    if n == 0 {
        return [Some(0.0), None];
    }
    let (l, u) = ranks(n, p);
    let low = if l == 0 {
        0.0
    } else {
        hist.lowest_equivalent(order_statistic(q, l)) as f64 / 1000.0
    };
    let high = (u <= n).then(|| hist.highest_equivalent(order_statistic(q, u)) as f64 / 1000.0);
    [Some(low), high]
}

/// The `k`-th smallest recorded value (1-based), in the sketch's unit.
fn order_statistic(q: &Quantiles, k: u64) -> u64 {
    let mut seen = 0;
    for v in q.histogram().iter_recorded() {
        seen += v.count_at_value();
        if seen >= k {
            return v.value_iterated_to();
        }
    }
    q.histogram().max()
}

impl Spread {
    /// Downtime per year across trials: the mean from `mean`, the
    /// percentiles and their intervals from `q`.
    pub fn new(mean: &Welford, q: &Quantiles) -> Self {
        Spread {
            mean: mean.mean(),
            p50: q.quantile(0.5),
            p90: q.quantile(0.9),
            p99: q.quantile(0.99),
            p50_ci95: ci95(q, 0.5),
            p90_ci95: ci95(q, 0.9),
            p99_ci95: ci95(q, 0.99),
        }
    }

    /// The same spread in other units: every figure times `k` (per year to
    /// per trial).
    pub fn scaled(&self, k: f64) -> Self {
        let end = |e: [Option<f64>; 2]| e.map(|v| v.map(|v| v * k));
        Spread {
            mean: self.mean * k,
            p50: self.p50 * k,
            p90: self.p90 * k,
            p99: self.p99 * k,
            p50_ci95: end(self.p50_ci95),
            p90_ci95: end(self.p90_ci95),
            p99_ci95: end(self.p99_ci95),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_match_published_tables() {
        // Conover, Practical Nonparametric Statistics (3rd ed.), table A3 /
        // the usual sign-test ranks: the median of 20 values lies between
        // the 6th and 15th smallest at >= 95 % (P = 0.9586).
        assert_eq!(ranks(20, 0.5), (6, 15));
        // Median of 100: 40th and 61st (P = 0.9648).
        assert_eq!(ranks(100, 0.5), (40, 61));
    }

    #[test]
    fn ranks_keep_each_tail_within_two_and_a_half_percent() {
        for &(n, p) in &[(50u64, 0.9), (300, 0.99), (1000, 0.5), (7, 0.5)] {
            let b = Binomial::new(p, n).unwrap();
            let (l, u) = ranks(n, p);
            if l > 0 {
                assert!(b.cdf(l - 1) <= TAIL, "{n} {p}: lower tail");
                assert!(b.cdf(l) > TAIL, "{n} {p}: l not the largest");
            }
            assert!(b.cdf(u - 1) >= 1.0 - TAIL, "{n} {p}: upper tail");
            assert!(u == 1 || b.cdf(u - 2) < 1.0 - TAIL, "{n} {p}: u not the smallest");
        }
    }

    #[test]
    fn ends_that_do_not_exist() {
        // (0.5)^5 = 3.1 % > 2.5 %: no lower order statistic for 5 values.
        assert_eq!(ranks(5, 0.5).0, 0);
        // p99 of 100 values: no upper one.
        assert!(ranks(100, 0.99).1 > 100);
        let mut q = Quantiles::default();
        (1..=100).for_each(|i| q.record(f64::from(i)));
        assert_eq!(ci95(&q, 0.99)[1], None);
        let [lo, hi] = ci95(&q, 0.5);
        assert!(lo.unwrap() <= 40.0 && 40.0 * 0.998 <= lo.unwrap());
        assert!(hi.unwrap() >= 61.0 && hi.unwrap() <= 61.0 * 1.002);
    }
}
