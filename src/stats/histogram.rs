//! Quantiles of non-negative values (seconds) from a mergeable histogram.
//!
//! HdrHistogram with three significant digits over milliseconds: any
//! reported quantile is within 0.1 % of the exact order statistic, memory
//! is a few kilobytes whatever the count, and merging adds counts, so the
//! result is independent of how trials were split among threads.

use hdrhistogram::Histogram;

/// A mergeable quantile sketch of values in seconds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Quantiles {
    #[serde(with = "exact")]
    hist: Histogram<u64>,
}

impl Default for Quantiles {
    fn default() -> Self {
        Self {
            hist: Histogram::new(3).expect("3 significant digits is valid"),
        }
    }
}

impl Quantiles {
    /// Records one value in seconds (negative values count as zero).
    pub fn record(&mut self, secs: f64) {
        let ms = (secs.max(0.0) * 1000.0).round() as u64;
        self.hist.record(ms).expect("auto-resizing histogram accepts any u64");
    }

    /// Absorbs another sketch.
    pub fn merge(&mut self, other: &Self) {
        self.hist.add(&other.hist).expect("auto-resizing histograms merge");
    }

    /// The value at quantile `q` in seconds (0 when empty).
    pub fn quantile(&self, q: f64) -> f64 {
        if self.hist.is_empty() {
            return 0.0;
        }
        // Values within one bucket are equivalent; report the bucket's
        // middle so that p50 of identical values is that value.
        let v = self.hist.value_at_quantile(q);
        self.hist.median_equivalent(v) as f64 / 1000.0
    }

    /// The underlying histogram, for serialisation of partial results.
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.hist
    }

    /// The share of values at or below `secs`.
    pub fn fraction_at_or_below(&self, secs: f64) -> f64 {
        if self.hist.is_empty() {
            return 0.0;
        }
        let ms = (secs.max(0.0) * 1000.0).round() as u64;
        self.hist.count_between(0, ms) as f64 / self.hist.len() as f64
    }

    /// The empirical CDF as `(seconds, share at or below)` steps, one per
    /// occupied bucket (a few hundred points at most).
    pub fn cdf(&self) -> Vec<(f64, f64)> {
        cdf_of(&self.hist, 1e-3)
    }
}

/// The CDF of a histogram whose unit is `scale` seconds.
pub fn cdf_of(hist: &Histogram<u64>, scale: f64) -> Vec<(f64, f64)> {
    let total = hist.len() as f64;
    if total == 0.0 {
        return Vec::new();
    }
    let mut below = 0u64;
    hist.iter_recorded()
        .map(|v| {
            below += v.count_at_value();
            (
                hist.highest_equivalent(v.value_iterated_to()) as f64 * scale,
                below as f64 / total,
            )
        })
        .collect()
}

/// Serde for a histogram as its occupied buckets, `(value, count)` in
/// value order, for partial results (`nines run --shard`).
///
/// Every figure nines reads from a histogram (quantiles, counts, the CDF)
/// depends only on the count in each bucket, and recording a bucket's
/// highest equivalent value lands in that same bucket, so a round trip
/// gives identical figures and merges.
pub mod exact {
    use hdrhistogram::Histogram;
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

    /// Writes the occupied buckets.
    ///
    /// # Errors
    /// Whatever the serializer returns.
    pub fn serialize<S: Serializer>(h: &Histogram<u64>, s: S) -> Result<S::Ok, S::Error> {
        let buckets: Vec<(u64, u64)> = h
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        (h.sigfig(), buckets).serialize(s)
    }

    /// Rebuilds an auto-resizing histogram from its buckets.
    ///
    /// # Errors
    /// A bad precision or a value the histogram cannot hold.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Histogram<u64>, D::Error> {
        let (sigfig, buckets) = <(u8, Vec<(u64, u64)>)>::deserialize(d)?;
        let mut h = Histogram::new(sigfig).map_err(D::Error::custom)?;
        for (value, count) in buckets {
            h.record_n(value, count).map_err(D::Error::custom)?;
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_close_to_exact() {
        let mut q = Quantiles::default();
        for i in 1..=10_000 {
            q.record(i as f64);
        }
        assert!((q.quantile(0.5) / 5000.0 - 1.0).abs() < 2e-3);
        assert!((q.quantile(0.99) / 9900.0 - 1.0).abs() < 2e-3);
        let mut a = Quantiles::default();
        let mut b = Quantiles::default();
        (1..=5000).for_each(|i| a.record(i as f64));
        (5001..=10_000).for_each(|i| b.record(i as f64));
        a.merge(&b);
        assert_eq!(a.quantile(0.9), q.quantile(0.9));
        assert!((q.fraction_at_or_below(2500.0) - 0.25).abs() < 2e-3);
        let cdf = q.cdf();
        assert!(cdf.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        assert_eq!(cdf.last().unwrap().1, 1.0);
    }
}
