//! The discrete-event core: simulated time and a deterministic event queue.
//!
//! This module knows nothing of services, replicas or requests. A model owns
//! its state and an event type (a plain `enum`); [`run`] pops events in
//! `(time, sequence)` order and hands each one to the model, which may
//! schedule more. Time is an integer count of nanoseconds, so ordering is
//! exact and never depends on float rounding.
//!
//! Cancellation is lazy: a model that wants to cancel a pending timer bumps a
//! generation counter in its own state and ignores events carrying a stale
//! generation when they are popped. The queue itself never searches.

pub mod queue;
pub mod time;

pub use queue::EventQueue;
pub use time::Nanos;

/// A simulated system driven by events of type `Self::Event`.
pub trait Model {
    /// The event type: a small `Copy` enum.
    type Event: Copy;

    /// Handles one event due at `now`; may schedule further events.
    fn handle(&mut self, now: Nanos, event: Self::Event, queue: &mut EventQueue<Self::Event>);
}

/// Runs `model` until the queue is empty or the next event is at or after
/// `horizon`. Returns the number of events handled.
///
/// Events scheduled exactly at `horizon` are not handled: the trial covers
/// the half-open interval `[0, horizon)`.
pub fn run<M: Model>(model: &mut M, queue: &mut EventQueue<M::Event>, horizon: Nanos) -> u64 {
    let mut handled = 0;
    while let Some(time) = queue.peek_time() {
        if time >= horizon {
            break;
        }
        let (now, event) = queue.pop().expect("peeked an event");
        model.handle(now, event, queue);
        handled += 1;
    }
    handled
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Schedules itself every `period` ns and counts how often it ran.
    struct Ticker {
        period: Nanos,
        ticks: u64,
    }

    impl Model for Ticker {
        type Event = ();
        fn handle(&mut self, now: Nanos, _: (), queue: &mut EventQueue<()>) {
            self.ticks += 1;
            queue.schedule(now + self.period, ());
        }
    }

    #[test]
    fn stops_before_the_horizon() {
        let mut queue = EventQueue::new();
        queue.schedule(0, ());
        let mut model = Ticker { period: 10, ticks: 0 };
        let handled = run(&mut model, &mut queue, 100);
        // Ticks at 0, 10, ..., 90; the one at 100 is outside [0, 100).
        assert_eq!(handled, 10);
        assert_eq!(model.ticks, 10);
        assert_eq!(queue.peek_time(), Some(100));
    }
}
