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

/// One edge's calls that left its bulkhead's queue without running (a
/// timeout fired while they waited): their count, their waits added up
/// exactly (nanoseconds) and their distribution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GaveUpAcc {
    count: u64,
    total_wait_ns: u64,
    waits: Waits,
}

impl GaveUpAcc {
    fn new() -> Self {
        Self {
            count: 0,
            total_wait_ns: 0,
            waits: Waits::new(),
        }
    }

    fn add(&mut self, o: &Self) {
        self.count += o.count;
        self.total_wait_ns = self.total_wait_ns.saturating_add(o.total_wait_ns);
        self.waits.0.add(&o.waits.0).expect("auto-resizing histograms merge");
    }
}

/// Adds one trial's calls that gave up in a bulkhead's queue, per edge
/// (`None` where none did or the edge has no bulkhead); leaves `acc` empty
/// until some call gave up.
pub fn push_gave_up<'a>(
    acc: &mut Vec<GaveUpAcc>,
    edges: impl ExactSizeIterator<Item = Option<&'a crate::resilience::bulkhead::GaveUp>>,
) {
    let n = edges.len();
    for (i, g) in edges.enumerate() {
        let Some(g) = g else { continue };
        if acc.is_empty() {
            acc.resize_with(n, GaveUpAcc::new);
        }
        let a = &mut acc[i];
        a.count += g.waits.len();
        a.total_wait_ns = a.total_wait_ns.saturating_add(g.total_wait);
        a.waits.0.add(&g.waits).expect("auto-resizing histograms merge");
    }
}

/// Adds another chunk's calls that gave up.
pub fn merge_gave_up(acc: &mut Vec<GaveUpAcc>, o: &[GaveUpAcc]) {
    if o.is_empty() {
        return;
    }
    if acc.is_empty() {
        acc.resize_with(o.len(), GaveUpAcc::new);
    }
    for (a, b) in acc.iter_mut().zip(o) {
        a.add(b);
    }
}

/// Edge `edge`'s calls that gave up in the queue: their count, mean wait
/// and wait p50, p90, p99 and max (seconds; zeros with none).
pub fn gave_up(acc: &[GaveUpAcc], edge: usize) -> QueueTimeouts {
    let Some(g) = acc.get(edge).filter(|g| g.count > 0) else {
        return QueueTimeouts::default();
    };
    let [p50, p90, p99, max] = quantiles(std::slice::from_ref(&g.waits), 0);
    QueueTimeouts {
        queue_timeouts: g.count,
        queue_timeout_mean_wait_s: g.total_wait_ns as f64 / 1e9 / g.count as f64,
        queue_timeout_wait_p50_s: p50,
        queue_timeout_wait_p90_s: p90,
        queue_timeout_wait_p99_s: p99,
        queue_timeout_wait_max_s: max,
    }
}

/// The calls that gave up in a bulkhead's queue, in
/// `edges."A->B".bulkhead` (only where the bulkhead has a
/// `queue_timeout`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct QueueTimeouts {
    /// Calls that left the queue without running because a timeout fired
    /// while they waited (the bulkhead's `queue_timeout`, or with a policy
    /// `order`, an attempt or call timeout around the bulkhead); each is
    /// also in `rejected`.
    pub queue_timeouts: u64,
    /// Their mean wait, seconds (0 with none).
    pub queue_timeout_mean_wait_s: f64,
    /// Median of their waits, seconds (0 with none).
    pub queue_timeout_wait_p50_s: f64,
    /// 90th percentile of their waits, seconds (0 with none).
    pub queue_timeout_wait_p90_s: f64,
    /// 99th percentile of their waits, seconds (0 with none).
    pub queue_timeout_wait_p99_s: f64,
    /// Their longest wait, seconds (0 with none).
    pub queue_timeout_wait_max_s: f64,
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
