//! Confidence intervals and nines.
//!
//! # Formula
//! - mean: Student t across independent trials, `mean ± t(0.975, n-1) · s/√n`;
//! - nines: `-log10(1 - A)`, mapped through the interval's ends;
//! - no downtime in any of `n` trials: the fraction of time down is at most
//!   the chance that a trial sees any downtime, whose exact one-sided 95 %
//!   upper bound is `1 - 0.05^(1/n)` (≈ 3/n, the rule of three). nines is
//!   then reported as a lower bound, never as infinity.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::welford::Welford;

/// The two-sided 95 % Student t quantile for `n` observations.
pub fn t95(n: u64) -> f64 {
    if n < 2 {
        return f64::INFINITY;
    }
    StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(1.96)
}

/// A 95 % interval for the mean, clamped to `[lo, hi]`; the whole range
/// when there are fewer than two observations.
pub fn mean_ci95(w: &Welford, lo: f64, hi: f64) -> [f64; 2] {
    if w.count() < 2 {
        return [lo, hi];
    }
    let half = t95(w.count()) * w.std_error();
    [(w.mean() - half).max(lo), (w.mean() + half).min(hi)]
}

/// `-log10(1 - a)`; `None` when `a` is 1 (unbounded).
pub fn nines(a: f64) -> Option<f64> {
    (a < 1.0).then(|| -(1.0 - a).log10())
}

/// Upper 95 % bound on the chance of an event never seen in `n` trials.
pub fn zero_event_bound(n: u64) -> f64 {
    1.0 - 0.05f64.powf(1.0 / n.max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Reference: any Student t table (two-sided 95 %).
        assert!((t95(2) - 12.706).abs() < 1e-3);
        assert!((t95(11) - 2.228).abs() < 1e-3);
        assert!((t95(1_000_001) - 1.960).abs() < 1e-3);
    }

    #[test]
    fn rule_of_three() {
        assert!((zero_event_bound(1000) - 3.0 / 1000.0).abs() < 1e-5);
        assert_eq!(nines(1.0), None);
        assert!((nines(0.999).unwrap() - 3.0).abs() < 1e-9);
    }
}
