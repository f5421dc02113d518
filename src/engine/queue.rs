//! The pending-event set: a binary heap keyed by `(time, sequence)`.
//!
//! Ordering rule: events come out by ascending time; events due at the same
//! time come out first-in first-out, by a sequence number assigned when they
//! were scheduled. The order therefore never depends on the heap's internal
//! layout, which is what makes a trial reproducible.
//!
//! The heap's storage is reused across [`EventQueue::clear`], so a trial in
//! steady state allocates nothing per event.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::Nanos;

struct Entry<E> {
    time: Nanos,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    // Reversed: `BinaryHeap` is a max-heap and we want the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// A deterministic priority queue of timed events.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`.
    #[inline]
    pub fn schedule(&mut self, time: Nanos, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, event });
    }

    /// Removes and returns the earliest event (FIFO among equal times).
    #[inline]
    pub fn pop(&mut self) -> Option<(Nanos, E)> {
        self.heap.pop().map(|e| (e.time, e.event))
    }

    /// The time of the earliest pending event.
    #[inline]
    pub fn peek_time(&self) -> Option<Nanos> {
        self.heap.peek().map(|e| e.time)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Drops every pending event and restarts the sequence, keeping storage.
    pub fn clear(&mut self) {
        self.heap.clear();
        self.next_seq = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    use std::collections::BTreeMap;

    #[test]
    fn equal_times_come_out_in_insertion_order() {
        let mut q = EventQueue::new();
        for i in 0..5 {
            q.schedule(7, i);
        }
        q.schedule(3, 99);
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(3, 99), (7, 0), (7, 1), (7, 2), (7, 3), (7, 4)]);
    }

    /// The queue against a `BTreeMap` keyed by `(time, seq)` under a
    /// fixed-seed random mix of pushes and pops.
    #[test]
    fn matches_a_btreemap_model() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut q = EventQueue::new();
        let mut model = BTreeMap::new();
        let mut seq = 0u64;
        for _ in 0..20_000 {
            if rng.random_bool(0.55) {
                let t = rng.random_range(0..50u64);
                q.schedule(t, seq);
                model.insert((t, seq), seq);
                seq += 1;
            } else {
                let expect = model.pop_first().map(|((t, _), v)| (t, v));
                assert_eq!(q.pop(), expect);
            }
            assert_eq!(q.len(), model.len());
        }
    }
}
