//! The sliding windows a circuit breaker measures failure and slow-call
//! rates over, both of fixed size once built.
//!
//! - [`CountWindow`]: the last `size` results, a ring buffer (resilience4j's
//!   `COUNT_BASED` window).
//! - [`TimeWindow`]: the results of roughly the last `size` ns, as a ring of
//!   `n` buckets each `width = ceil(size / n)` ns wide, indexed by
//!   `epoch = now / width` (resilience4j's `TIME_BASED` window, whose buckets
//!   are epoch seconds). A window of `s` whole seconds from 10 s to 120 s
//!   gets one bucket per second, exactly as there; shorter windows get 10
//!   finer buckets and longer ones 120 coarser ones, so memory stays fixed.
//!
//! ```text
//!   TimeWindow, n = 4:   epochs  e-3   e-2   e-1    e   <- now / width
//!                                [b1]  [b2]  [b3]  [b0]    ring index = epoch % n
//!   record(now) at epoch e' > e: clear the buckets of epochs e+1 ..= e'
//!                                (at most n), subtracting them from the total
//! ```
//!
//! Invariants: `tally` is always the sum of the live entries; a count window
//! holds at most `size` results; a time window holds only results whose
//! epoch is within the last `n` epochs, so a result counts for between
//! `(n-1) * width` and `n * width` ns after it is recorded. Times earlier
//! than the latest seen are booked into the current bucket.

use crate::engine::Nanos;
use crate::engine::time::SECOND;

/// Calls, failures and slow calls in a stretch of results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Results recorded.
    pub calls: u64,
    /// Of which failed.
    pub failures: u64,
    /// Of which were slow (failed or not).
    pub slow: u64,
}

impl Tally {
    fn add(&mut self, failed: bool, slow: bool) {
        self.calls += 1;
        self.failures += u64::from(failed);
        self.slow += u64::from(slow);
    }

    fn subtract(&mut self, other: Tally) {
        self.calls -= other.calls;
        self.failures -= other.failures;
        self.slow -= other.slow;
    }
}

/// The last `size` results.
#[derive(Clone, Debug)]
pub struct CountWindow {
    /// One entry per result: bit 0 = failed, bit 1 = slow.
    ring: Vec<u8>,
    /// Where the next result goes.
    next: usize,
    /// Live entries (< ring.len() until the ring first fills).
    len: usize,
    tally: Tally,
}

const FAILED: u8 = 1;
const SLOW: u8 = 2;

impl CountWindow {
    /// An empty window of `size >= 1` results.
    pub fn new(size: u32) -> Self {
        CountWindow {
            ring: vec![0; size.max(1) as usize],
            next: 0,
            len: 0,
            tally: Tally::default(),
        }
    }

    /// Records one result, evicting the oldest once full; returns the total.
    pub fn record(&mut self, failed: bool, slow: bool) -> Tally {
        if self.len == self.ring.len() {
            let old = self.ring[self.next];
            self.tally.calls -= 1;
            self.tally.failures -= u64::from(old & FAILED != 0);
            self.tally.slow -= u64::from(old & SLOW != 0);
        } else {
            self.len += 1;
        }
        self.ring[self.next] = (u8::from(failed) * FAILED) | (u8::from(slow) * SLOW);
        self.next += 1;
        if self.next == self.ring.len() {
            self.next = 0;
        }
        self.tally.add(failed, slow);
        self.tally
    }

    /// Forgets every result.
    pub fn clear(&mut self) {
        (self.next, self.len, self.tally) = (0, 0, Tally::default());
    }
}

/// Buckets for windows up to this many seconds are one second wide.
const MAX_BUCKETS: u64 = 120;
/// Shorter windows still get this many buckets.
const MIN_BUCKETS: u64 = 10;

/// The results of (about) the last `size` ns.
#[derive(Clone, Debug)]
pub struct TimeWindow {
    buckets: Vec<Tally>,
    width: Nanos,
    /// The epoch of the newest bucket.
    head: u64,
    /// `head`'s bucket, and where its epoch ends: recording within the
    /// current epoch needs no division.
    head_slot: usize,
    head_end: Nanos,
    tally: Tally,
}

impl TimeWindow {
    /// An empty window covering `size >= 1` ns.
    pub fn new(size: Nanos) -> Self {
        let size = size.max(1);
        let n = size.div_ceil(SECOND).clamp(MIN_BUCKETS, MAX_BUCKETS).min(size);
        TimeWindow {
            buckets: vec![Tally::default(); n as usize],
            width: size.div_ceil(n),
            head: 0,
            head_slot: 0,
            head_end: size.div_ceil(n),
            tally: Tally::default(),
        }
    }

    /// Records one result at `now`; returns the total of the live window.
    pub fn record(&mut self, now: Nanos, failed: bool, slow: bool) -> Tally {
        if now >= self.head_end {
            self.advance(now);
        }
        self.buckets[self.head_slot].add(failed, slow);
        self.tally.add(failed, slow);
        self.tally
    }

    /// Forgets every result.
    pub fn clear(&mut self) {
        self.buckets.fill(Tally::default());
        self.tally = Tally::default();
    }

    /// Moves the head to `now`'s epoch, expiring the buckets it passes.
    fn advance(&mut self, now: Nanos) {
        let epoch = now / self.width;
        if epoch <= self.head {
            return;
        }
        let expired = (epoch - self.head).min(self.buckets.len() as u64);
        for k in 1..=expired {
            let slot = self.slot(self.head + k);
            let old = std::mem::take(&mut self.buckets[slot]);
            self.tally.subtract(old);
        }
        self.head = epoch;
        self.head_slot = self.slot(epoch);
        self.head_end = (epoch + 1).saturating_mul(self.width);
    }

    fn slot(&self, epoch: u64) -> usize {
        (epoch % self.buckets.len() as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_window_keeps_the_last_size_results() {
        let mut w = CountWindow::new(3);
        w.record(true, false);
        w.record(false, true);
        let t = w.record(false, false);
        assert_eq!(
            t,
            Tally {
                calls: 3,
                failures: 1,
                slow: 1
            }
        );
        // The failure falls out; a slow failure comes in.
        let t = w.record(true, true);
        assert_eq!(
            t,
            Tally {
                calls: 3,
                failures: 1,
                slow: 2
            }
        );
        w.clear();
        assert_eq!(
            w.record(false, false),
            Tally {
                calls: 1,
                failures: 0,
                slow: 0
            }
        );
    }

    #[test]
    fn time_window_sizes_its_buckets() {
        let w = TimeWindow::new(60 * SECOND);
        assert_eq!((w.buckets.len(), w.width), (60, SECOND));
        let w = TimeWindow::new(SECOND / 2);
        assert_eq!((w.buckets.len(), w.width), (10, SECOND / 20));
        let w = TimeWindow::new(3600 * SECOND);
        assert_eq!((w.buckets.len(), w.width), (120, 30 * SECOND));
        let w = TimeWindow::new(3);
        assert_eq!((w.buckets.len(), w.width), (3, 1));
    }

    #[test]
    fn time_window_expires_old_buckets() {
        let mut w = TimeWindow::new(10 * SECOND); // 10 buckets of 1 s
        w.record(0, true, false);
        w.record(SECOND / 2, false, false);
        assert_eq!(w.record(9 * SECOND, true, true).calls, 3);
        // At 10 s the bucket of epoch 0 is reused: its two results go.
        assert_eq!(
            w.record(10 * SECOND, false, false),
            Tally {
                calls: 2,
                failures: 1,
                slow: 1
            }
        );
        // A long gap clears everything but the new result.
        assert_eq!(
            w.record(1_000 * SECOND, false, false),
            Tally {
                calls: 1,
                failures: 0,
                slow: 0
            }
        );
        // An earlier time is booked into the current bucket.
        assert_eq!(w.record(5 * SECOND, true, false).calls, 2);
        // Both sit in the bucket of epoch 1,000, which the next epoch keeps
        // and the one ten epochs on reuses.
        assert_eq!(w.record(1_001 * SECOND, false, false).calls, 3);
        assert_eq!(
            w.record(1_010 * SECOND, false, false),
            Tally {
                calls: 2,
                failures: 0,
                slow: 0
            }
        );
        w.clear();
        assert_eq!(w.record(1_000 * SECOND, false, false).calls, 1);
    }
}
