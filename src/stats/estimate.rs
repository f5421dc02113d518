//! The figures a summary is built from: a mean with its 95 % interval,
//! and a latency's mean and percentiles. Every part of the summary
//! (services, faults, workflows) uses them, so they sit below all of it.

use serde::{Deserialize, Serialize};

use super::interval::mean_ci95;
use super::welford::Welford;

/// A mean with its 95 % interval.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Estimate {
    /// Mean across trials.
    pub mean: f64,
    /// 95 % interval `[low, high]`.
    pub ci95: [f64; 2],
}

impl Estimate {
    /// The mean of `w` with its 95 % interval, clamped to `[0, 1]`: for
    /// ratios and availabilities.
    pub fn of(w: &Welford) -> Self {
        Self {
            mean: w.mean(),
            ci95: mean_ci95(w, 0.0, 1.0),
        }
    }
}

/// Request latency, seconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
}
