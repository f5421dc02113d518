//! The distribution of bulkhead waits across trials: per edge, one
//! histogram of the waits of calls let in from the bulkhead's queue
//! (microseconds, three significant digits), and the quantiles the summary
//! reads from it.
//!
//! Invariants: the per-edge list is empty until a trial of a world with a
//! bulkhead is pushed, and then has one histogram per edge (empty where
//! the edge has no bulkhead), so every chunk of one run has the same
//! shape. Histograms add bucket counts, which is exact and independent of
//! the order of trials, so the figures do not depend on the thread count;
//! they serialise bucket for bucket ([`super::histogram::exact`]) so
//! shards merge into the same figures.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// One edge's bulkhead waits, microseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Waits(#[serde(with = "super::histogram::exact")] Histogram<u64>);

impl Waits {
    fn new() -> Self {
        Self(Histogram::new(3).expect("3 significant digits is valid"))
    }
}

/// Adds one trial's waits, per edge (`None` where the edge has no
/// bulkhead); leaves `acc` empty when no edge has one.
pub fn push<'a>(acc: &mut Vec<Waits>, edges: impl ExactSizeIterator<Item = Option<&'a Histogram<u64>>>) {
    let n = edges.len();
    for (i, h) in edges.enumerate() {
        let Some(h) = h else { continue };
        if acc.is_empty() {
            acc.resize_with(n, Waits::new);
        }
        acc[i].0.add(h).expect("auto-resizing histograms merge");
    }
}

/// Adds another chunk's waits.
pub fn merge(acc: &mut Vec<Waits>, o: &[Waits]) {
    if acc.is_empty() {
        acc.extend_from_slice(o);
        return;
    }
    for (a, b) in acc.iter_mut().zip(o) {
        a.0.add(&b.0).expect("auto-resizing histograms merge");
    }
}

/// Edge `edge`'s wait quantiles, seconds: p50, p90, p99 and the longest
/// wait (each the middle of its histogram bucket, as request latencies
/// are); zeros when no call waited.
pub fn quantiles(acc: &[Waits], edge: usize) -> [f64; 4] {
    let Some(Waits(h)) = acc.get(edge).filter(|w| !w.0.is_empty()) else {
        return [0.0; 4];
    };
    let q = |p: f64| h.median_equivalent(h.value_at_quantile(p)) as f64 / 1e6;
    [q(0.5), q(0.9), q(0.99), q(1.0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_merge_and_quantiles() {
        let mut a = Vec::new();
        let mut h = Histogram::<u64>::new(3).unwrap();
        push(&mut a, [None, None].into_iter());
        assert!(a.is_empty(), "no bulkhead, nothing kept");
        for us in 1..=1000 {
            h.record(us * 1000).unwrap();
        }
        push(&mut a, [None, Some(&h)].into_iter());
        assert_eq!(a.len(), 2);
        let mut b = Vec::new();
        merge(&mut b, &a);
        merge(&mut b, &a);
        let [p50, p90, p99, max] = quantiles(&b, 1);
        assert!((p50 - 0.5).abs() < 1e-3 && (p90 - 0.9).abs() < 1e-3, "{p50} {p90}");
        assert!((p99 - 0.99).abs() < 1e-3 && (max - 1.0).abs() < 1e-3, "{p99} {max}");
        assert_eq!(quantiles(&b, 0), [0.0; 4]);
        assert_eq!(quantiles(&[], 0), [0.0; 4]);
    }
}
