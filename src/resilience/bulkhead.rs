//! A bulkhead: at most `max_concurrent` calls run at once, at most
//! `max_queue` more wait in a FIFO room, and the rest are rejected.
//!
//! The parameters are those of Polly's bulkhead (`MaxParallelization`,
//! `MaxQueuingActions`) and resilience4j's semaphore bulkhead
//! (`maxConcurrentCalls`, with `maxWaitDuration` as our `queue_timeout`).
//! The bulkhead only keeps the books: the caller schedules the queue timeout
//! (see [`Bulkhead::queue_timeout`]) and calls [`Bulkhead::abandon`] when it
//! fires, and calls [`Bulkhead::leave`] when a running call ends.
//!
//! ```text
//!                 running < max_concurrent
//!   try_enter ─────────────────────────────────────────> Run ──┐
//!       │ full, waiting < max_queue                            │ leave
//!       ├──────────────────────────> Queued ── leave (FIFO) ──>┘ (frees a slot,
//!       │                              │                         admits the head)
//!       │ full, queue full             │ abandon (timeout / caller gave up)
//!       └──────────> Rejected <────────┘
//! ```
//!
//! Invariants: `running <= max_concurrent`; `waiting <= max_queue`; anyone
//! waiting implies every slot is taken (`waiting > 0 => running ==
//! max_concurrent`), because a freed slot goes straight to the head of the
//! queue; `accepted` counts calls that started running (at once or from the
//! queue), `rejected` those turned away or abandoned while waiting.
//!
//! The waiting room is a ring buffer allocated in `new()` (up to
//! [`PREALLOCATED`] entries; a larger `max_queue` grows it only when the
//! queue reaches a new high-water mark). Abandoning scans it, which is
//! linear in the number waiting but allocation-free.
//!
//! The waits of calls admitted from the queue go into a histogram
//! ([`Bulkhead::waits`], microseconds), recorded only when a call leaves
//! the queue to run; calls that leave it without running (abandoned) are
//! not in it, as they are not in [`Bulkhead::total_wait`].

use std::collections::VecDeque;

use hdrhistogram::Histogram;

use crate::engine::Nanos;

/// Waiting-room entries allocated up front; see the module documentation.
pub const PREALLOCATED: u32 = 1 << 16;

/// The configuration of a [`Bulkhead`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkheadConfig {
    /// Calls allowed to run at once (>= 1).
    pub max_concurrent: u32,
    /// Calls allowed to wait for a slot (0 = no waiting room).
    pub max_queue: u32,
    /// How long a call may wait before giving up; `None` = as long as it
    /// takes. Must be positive when given.
    pub queue_timeout: Option<Nanos>,
}

/// Why a [`BulkheadConfig`] was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BulkheadError {
    /// `max_concurrent` is zero: nothing could ever run.
    #[error("max_concurrent must be at least 1")]
    ZeroConcurrency,
    /// `queue_timeout` is zero: use `max_queue = 0` for no waiting.
    #[error("queue_timeout must be positive (for no waiting room, set max_queue = 0)")]
    ZeroQueueTimeout,
}

/// What [`Bulkhead::try_enter`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// A slot was free: the call runs now.
    Run,
    /// Every slot is taken: the call waits; a later [`Bulkhead::leave`]
    /// returns its id when it may run.
    Queued,
    /// Every slot and the waiting room are full: the call is refused.
    Rejected,
}

/// A concurrency limit with a FIFO waiting room; see the module docs.
#[derive(Clone, Debug)]
pub struct Bulkhead {
    config: BulkheadConfig,
    /// Waiting calls: caller's id and the time each joined.
    queue: VecDeque<(u64, Nanos)>,
    running: u32,
    accepted: u64,
    rejected: u64,
    peak_running: u32,
    peak_waiting: u32,
    total_wait: Nanos,
    /// Calls admitted from the queue.
    queued: u64,
    /// Their waits, microseconds.
    waits: Histogram<u64>,
    /// Calls that left the queue without running, kept by
    /// [`Bulkhead::abandon_at`] (allocated at the first).
    gave_up: Option<Box<GaveUp>>,
}

/// The calls that left a bulkhead's queue without running (a timeout
/// fired while they waited) and how long they had waited.
#[derive(Clone, Debug)]
pub struct GaveUp {
    /// Their waits, microseconds (three significant digits); its length
    /// is their count.
    pub waits: Histogram<u64>,
    /// Their waits added up, exactly.
    pub total_wait: Nanos,
}

impl Bulkhead {
    /// An empty bulkhead.
    ///
    /// # Errors
    /// [`BulkheadError`] when `max_concurrent` or `queue_timeout` is zero.
    pub fn new(config: BulkheadConfig) -> Result<Self, BulkheadError> {
        if config.max_concurrent == 0 {
            return Err(BulkheadError::ZeroConcurrency);
        }
        if config.queue_timeout == Some(0) {
            return Err(BulkheadError::ZeroQueueTimeout);
        }
        let room = config.max_queue.min(PREALLOCATED) as usize;
        Ok(Bulkhead {
            config,
            queue: VecDeque::with_capacity(room),
            running: 0,
            accepted: 0,
            rejected: 0,
            peak_running: 0,
            peak_waiting: 0,
            total_wait: 0,
            queued: 0,
            waits: Histogram::new(3).expect("3 significant digits is valid"),
            gave_up: None,
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &BulkheadConfig {
        &self.config
    }

    /// Asks to run call `id` at `now`.
    pub fn try_enter(&mut self, now: Nanos, id: u64) -> Admission {
        if self.running < self.config.max_concurrent {
            // The queue is empty here (see the invariants), so no one is
            // overtaken.
            self.start();
            Admission::Run
        } else if self.waiting() < self.config.max_queue {
            self.queue.push_back((id, now));
            self.peak_waiting = self.peak_waiting.max(self.waiting());
            Admission::Queued
        } else {
            self.rejected += 1;
            Admission::Rejected
        }
    }

    /// A running call finished at `now`; returns the id admitted from the
    /// head of the queue, if any, which is now running.
    pub fn leave(&mut self, now: Nanos) -> Option<u64> {
        debug_assert!(self.running > 0, "leave() without a running call");
        self.running = self.running.saturating_sub(1);
        let (id, since) = self.queue.pop_front()?;
        let wait = now.saturating_sub(since);
        self.total_wait = self.total_wait.saturating_add(wait);
        // Auto-resizing: recording cannot fail.
        let _ = self.waits.record(wait / 1_000);
        self.queued += 1;
        self.start();
        Some(id)
    }

    /// Removes `id` from the waiting room (its queue timeout fired or its
    /// caller gave up); `false` if it was not waiting. Counted as rejected.
    pub fn abandon(&mut self, id: u64) -> bool {
        let Some(index) = self.queue.iter().position(|&(waiting, _)| waiting == id) else {
            return false;
        };
        self.queue.remove(index);
        self.rejected += 1;
        true
    }

    /// [`Bulkhead::abandon`] at `now`, keeping the wait of a call that was
    /// waiting in [`Bulkhead::gave_up`].
    pub fn abandon_at(&mut self, id: u64, now: Nanos) -> bool {
        let Some(index) = self.queue.iter().position(|&(waiting, _)| waiting == id) else {
            return false;
        };
        let (_, since) = self.queue.remove(index).expect("found above");
        self.rejected += 1;
        let wait = now.saturating_sub(since);
        let g = self.gave_up.get_or_insert_with(|| {
            Box::new(GaveUp {
                waits: Histogram::new(3).expect("3 significant digits is valid"),
                total_wait: 0,
            })
        });
        // Auto-resizing: recording cannot fail.
        let _ = g.waits.record(wait / 1_000);
        g.total_wait = g.total_wait.saturating_add(wait);
        true
    }

    /// The calls that left the queue without running through
    /// [`Bulkhead::abandon_at`]; `None` before the first.
    pub fn gave_up(&self) -> Option<&GaveUp> {
        self.gave_up.as_deref()
    }

    /// How long a call may wait, for the caller to schedule its timeout.
    pub fn queue_timeout(&self) -> Option<Nanos> {
        self.config.queue_timeout
    }

    /// Calls running now.
    pub fn running(&self) -> u32 {
        self.running
    }

    /// Calls waiting now.
    pub fn waiting(&self) -> u32 {
        // The queue never holds more than max_queue (a u32) entries.
        self.queue.len() as u32
    }

    /// Calls that started running, at once or from the queue.
    pub fn accepted(&self) -> u64 {
        self.accepted
    }

    /// Calls refused at the door or abandoned while waiting.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// The most calls ever running at once.
    pub fn peak_running(&self) -> u32 {
        self.peak_running
    }

    /// The most calls ever waiting at once.
    pub fn peak_waiting(&self) -> u32 {
        self.peak_waiting
    }

    /// Total time that admitted calls spent waiting (abandoned calls are not
    /// included); divide by [`Bulkhead::accepted`] for the mean wait.
    pub fn total_wait(&self) -> Nanos {
        self.total_wait
    }

    /// Calls that waited in the queue and were then let in (abandoned
    /// calls are not included).
    pub fn queued(&self) -> u64 {
        self.queued
    }

    /// The waits of the calls admitted from the queue (microseconds, three
    /// significant digits; abandoned calls are not included).
    pub fn waits(&self) -> &Histogram<u64> {
        &self.waits
    }

    fn start(&mut self) {
        self.running += 1;
        self.accepted += 1;
        self.peak_running = self.peak_running.max(self.running);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bulkhead(max_concurrent: u32, max_queue: u32) -> Bulkhead {
        Bulkhead::new(BulkheadConfig {
            max_concurrent,
            max_queue,
            queue_timeout: Some(1_000),
        })
        .unwrap()
    }

    #[test]
    fn rejects_bad_configs() {
        let zero = BulkheadConfig {
            max_concurrent: 0,
            max_queue: 1,
            queue_timeout: None,
        };
        assert_eq!(Bulkhead::new(zero).unwrap_err(), BulkheadError::ZeroConcurrency);
        let instant = BulkheadConfig {
            max_concurrent: 1,
            max_queue: 1,
            queue_timeout: Some(0),
        };
        assert_eq!(Bulkhead::new(instant).unwrap_err(), BulkheadError::ZeroQueueTimeout);
        let no_room = BulkheadConfig {
            max_concurrent: 1,
            max_queue: 0,
            queue_timeout: None,
        };
        assert!(Bulkhead::new(no_room).is_ok());
    }

    #[test]
    fn runs_then_queues_then_rejects() {
        let mut b = bulkhead(2, 1);
        assert_eq!(b.try_enter(0, 1), Admission::Run);
        assert_eq!(b.try_enter(0, 2), Admission::Run);
        assert_eq!(b.try_enter(0, 3), Admission::Queued);
        assert_eq!(b.try_enter(0, 4), Admission::Rejected);
        assert_eq!((b.running(), b.waiting()), (2, 1));
        assert_eq!((b.accepted(), b.rejected()), (2, 1));
        assert_eq!(b.queue_timeout(), Some(1_000));
    }

    #[test]
    fn leave_admits_in_fifo_order_and_measures_the_wait() {
        let mut b = bulkhead(1, 3);
        assert_eq!(b.try_enter(0, 1), Admission::Run);
        assert_eq!(b.try_enter(10, 2), Admission::Queued);
        assert_eq!(b.try_enter(20, 3), Admission::Queued);
        assert_eq!(b.leave(50), Some(2));
        assert_eq!(b.leave(60), Some(3));
        assert_eq!(b.leave(70), None);
        assert_eq!((b.running(), b.waiting()), (0, 0));
        assert_eq!(b.total_wait(), 40 + 40);
        assert_eq!(b.waits().len(), 2, "one wait per call let in from the queue");
        assert_eq!(b.queued(), 2, "two calls waited");
        assert_eq!(b.accepted(), 3);
        assert_eq!((b.peak_running(), b.peak_waiting()), (1, 2));
    }

    #[test]
    fn abandon_removes_only_waiters() {
        let mut b = bulkhead(1, 3);
        b.try_enter(0, 1);
        b.try_enter(0, 2);
        b.try_enter(0, 3);
        assert!(!b.abandon(1), "running, not waiting");
        assert!(b.abandon(2));
        assert!(!b.abandon(2), "already gone");
        assert_eq!(b.rejected(), 1);
        assert_eq!(b.leave(5), Some(3));
    }

    #[test]
    fn without_a_queue_a_full_bulkhead_rejects() {
        let mut b = bulkhead(1, 0);
        assert_eq!(b.try_enter(0, 1), Admission::Run);
        assert_eq!(b.try_enter(0, 2), Admission::Rejected);
        assert_eq!(b.leave(1), None);
        assert_eq!(b.try_enter(2, 3), Admission::Run);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Enter,
        Leave,
        Abandon(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![3 => Just(Op::Enter), 2 => Just(Op::Leave), 1 => (0u64..64).prop_map(Op::Abandon)]
    }

    proptest! {
        /// Limits hold after every operation, waiters imply full slots, and
        /// every call is accounted for exactly once.
        #[test]
        fn limits_always_hold(
            max_concurrent in 1u32..5,
            max_queue in 0u32..5,
            ops in prop::collection::vec(op(), 0..300),
        ) {
            let mut b = bulkhead(max_concurrent, max_queue);
            let mut next_id = 0;
            for (now, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Enter => { b.try_enter(now as Nanos, next_id); next_id += 1; }
                    Op::Leave if b.running() > 0 => { b.leave(now as Nanos); }
                    Op::Leave => {}
                    Op::Abandon(id) => { b.abandon(id); }
                }
                prop_assert!(b.running() <= max_concurrent);
                prop_assert!(b.waiting() <= max_queue);
                prop_assert!(b.waiting() == 0 || b.running() == max_concurrent);
                prop_assert!(b.peak_running() <= max_concurrent && b.peak_waiting() <= max_queue);
                prop_assert_eq!(b.accepted() + b.rejected() + u64::from(b.waiting()), next_id);
            }
        }
    }
}
