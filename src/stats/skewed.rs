//! Per-trial fractions of time (availability) in one pass: Welford's mean
//! and variance plus the third central moment and the smallest value, all
//! mergeable.
//!
//! The extra two figures are what [`super::interval::availability_ci95`]
//! needs to tell a skewed sample from a well-behaved one and to cover when
//! it is skewed: the sample skewness decides whether the Student t is fine,
//! and the smallest availability (the trial with the most downtime) is the
//! largest single contribution to the mean.
//!
//! # Formula
//! One observation (Terriberry's form of Welford's update), with `n` the new
//! count, `δ = x - mean` before the update and `M2` before the update:
//! `M3 += δ³ (n-1)(n-2)/n² - 3 δ M2 / n`.
//!
//! Merging `a` then `b` (Pébay 2008, *Formulas for robust, one-pass parallel
//! computation of covariances and arbitrary-order statistical moments*,
//! Sandia SAND2008-6212, eq. 2.1), with `δ = mean_b - mean_a`:
//! `M3 = M3a + M3b + δ³ na nb (na - nb)/n² + 3 δ (na M2b - nb M2a)/n`.
//!
//! The merge is a fixed sequence of float operations on both states, so
//! merging the same chunks in the same order gives the same bits on any
//! thread count and across shards.

use serde::{Deserialize, Serialize};

use super::Welford;

/// Count, mean, `M2`, `M3` and minimum of the values pushed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Skewed {
    w: Welford,
    m3: f64,
    min: f64,
}

impl Default for Skewed {
    fn default() -> Self {
        Self {
            w: Welford::default(),
            m3: 0.0,
            min: f64::INFINITY,
        }
    }
}

impl Skewed {
    /// Adds one observation.
    #[inline]
    pub fn push(&mut self, x: f64) {
        let n = (self.w.count() + 1) as f64;
        let d = x - self.w.mean();
        let dn = d / n;
        self.m3 += d * dn * (n - 1.0) * dn * (n - 2.0) - 3.0 * dn * self.w.m2();
        self.w.push(x);
        self.min = self.min.min(x);
    }

    /// Absorbs `other` as if its observations had been pushed after ours.
    pub fn merge(&mut self, other: &Self) {
        if other.w.count() == 0 {
            return;
        }
        if self.w.count() == 0 {
            *self = *other;
            return;
        }
        let (na, nb) = (self.w.count() as f64, other.w.count() as f64);
        let n = na + nb;
        let d = other.w.mean() - self.w.mean();
        self.m3 +=
            other.m3 + d * d * d * na * nb * (na - nb) / (n * n) + 3.0 * d * (na * other.w.m2() - nb * self.w.m2()) / n;
        self.w.merge(&other.w);
        self.min = self.min.min(other.min);
    }

    /// Mean and variance of the same observations.
    pub fn welford(&self) -> &Welford {
        &self.w
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.w.count()
    }

    /// Sample mean (0 when empty).
    pub fn mean(&self) -> f64 {
        self.w.mean()
    }

    /// Smallest observation (infinity when empty).
    pub fn min(&self) -> f64 {
        self.min
    }

    /// Sample skewness `g1 = (M3/n) / (M2/n)^1.5`; 0 when every
    /// observation is equal.
    pub fn skewness(&self) -> f64 {
        let n = self.w.count() as f64;
        let m2 = self.w.m2();
        if n < 2.0 || m2 <= 0.0 {
            0.0
        } else {
            (self.m3 / n) / (m2 / n).powf(1.5)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two-pass skewness, the reference.
    fn g1(xs: &[f64]) -> f64 {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let m2 = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let m3 = xs.iter().map(|x| (x - mean).powi(3)).sum::<f64>() / n;
        m3 / m2.powf(1.5)
    }

    #[test]
    fn matches_two_pass_skewness_and_merges() {
        // A skewed sample: mostly 1, a few low values.
        let xs: Vec<f64> = (0..1000)
            .map(|i| {
                if i % 7 == 0 {
                    1.0 - ((i * 7919) % 1013) as f64 * 1e-5
                } else {
                    1.0
                }
            })
            .collect();
        let mut all = Skewed::default();
        xs.iter().for_each(|&x| all.push(x));
        let reference = g1(&xs);
        assert!(reference < -2.0, "the sample is skewed: {reference}");
        assert!((all.skewness() - reference).abs() < 1e-9 * reference.abs());
        assert_eq!(all.min(), xs.iter().cloned().fold(f64::INFINITY, f64::min));
        let (mut a, mut b) = (Skewed::default(), Skewed::default());
        xs[..313].iter().for_each(|&x| a.push(x));
        xs[313..].iter().for_each(|&x| b.push(x));
        a.merge(&b);
        assert_eq!(a.count(), 1000);
        assert!((a.skewness() - reference).abs() < 1e-9 * reference.abs());
        assert_eq!(a.min(), all.min());
    }

    #[test]
    fn merging_empty_is_identity() {
        let mut a = Skewed::default();
        [0.5, 0.9, 1.0].iter().for_each(|&x| a.push(x));
        let before = a;
        a.merge(&Skewed::default());
        assert_eq!(a, before);
        let mut e = Skewed::default();
        e.merge(&before);
        assert_eq!(e, before);
    }
}
