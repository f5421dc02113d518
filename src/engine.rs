//! The discrete-event core: simulated time and a deterministic event queue.
//!
//! This module knows nothing of services, replicas or requests. A model owns
//! its state, its [`EventQueue`] and an event type (a plain `enum`); [`run`]
//! pops events in `(time, sequence)` order and hands each one to the model,
//! which may schedule more on its own queue. Time is an integer count of nanoseconds, so ordering is
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

    /// The model's pending events.
    fn queue(&mut self) -> &mut EventQueue<Self::Event>;

    /// Handles one event due at `now`; may schedule further events on
    /// [`Model::queue`].
    fn handle(&mut self, now: Nanos, event: Self::Event);

    /// Whether the model asks [`run_within`] to stop after the event it
    /// just handled (a budget of its own ran out). Checked after every
    /// event, so it must be cheap.
    fn halted(&self) -> bool {
        false
    }

    /// Work done inside the events handled so far beyond handling them, in
    /// units of about one event each (items visited by a handler whose
    /// cost grows with the model's state). [`run_within`] counts it with
    /// the events against its budget, so that a handler made slow by a
    /// runaway is stopped like a runaway stream of events.
    fn work(&self) -> u64 {
        0
    }
}

/// Events in a row at one simulated instant after which a run is stopped:
/// time has stopped advancing (a loop of zero-length delays). Far above
/// anything a real model does at one nanosecond.
pub const STALL_EVENTS: u64 = 10_000_000;

/// Why [`run_within`] stopped before the horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// The event budget ran out.
    Events,
    /// The event budget ran out counting the work done inside events
    /// ([`Model::work`]).
    Work,
    /// [`STALL_EVENTS`] events in a row happened at one instant.
    Stalled,
    /// The model's own budget ran out ([`Model::halted`]).
    Model,
}

/// A run stopped early: why, when (simulated time), and after how many events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Why.
    pub halt: Halt,
    /// Simulated time of the last event handled.
    pub at: Nanos,
    /// Events handled.
    pub events: u64,
}

/// [`run`] with budgets: stops with [`Stopped`] once `max_events` events
/// (with the model's [`Model::work`] added)
/// have been handled and more are due before `horizon`, when time stands
/// still for [`STALL_EVENTS`] events, or when the model reports
/// [`Model::halted`]. Returns the number of events handled otherwise.
///
/// # Errors
/// [`Stopped`] as above; the queue then still holds the pending events.
pub fn run_within<M: Model>(model: &mut M, horizon: Nanos, max_events: u64) -> Result<u64, Stopped> {
    let mut handled: u64 = 0;
    let (mut instant, mut same) = (Nanos::MAX, 0);
    loop {
        if handled.saturating_add(model.work()) >= max_events {
            return match model.queue().peek_time() {
                Some(at) if at < horizon => Err(Stopped {
                    halt: if handled >= max_events {
                        Halt::Events
                    } else {
                        Halt::Work
                    },
                    at,
                    events: handled,
                }),
                _ => Ok(handled),
            };
        }
        let Some((now, event)) = model.queue().pop_before(horizon) else {
            return Ok(handled);
        };
        model.handle(now, event);
        handled += 1;
        if model.halted() {
            return Err(Stopped {
                halt: Halt::Model,
                at: now,
                events: handled,
            });
        }
        if now != instant {
            (instant, same) = (now, 1);
        } else {
            same += 1;
            if same >= STALL_EVENTS && model.queue().peek_time() == Some(now) {
                return Err(Stopped {
                    halt: Halt::Stalled,
                    at: now,
                    events: handled,
                });
            }
        }
    }
}

/// Runs `model` until its queue is empty or the next event is at or after
/// `horizon`. Returns the number of events handled.
///
/// Events scheduled exactly at `horizon` are not handled: the trial covers
/// the half-open interval `[0, horizon)`.
pub fn run<M: Model>(model: &mut M, horizon: Nanos) -> u64 {
    let mut handled = 0;
    while let Some((now, event)) = model.queue().pop_before(horizon) {
        model.handle(now, event);
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
        queue: EventQueue<()>,
    }

    /// A ticker whose first tick is at `first`.
    fn ticker(period: Nanos, first: Nanos) -> Ticker {
        let mut queue = EventQueue::new();
        queue.schedule(first, ());
        Ticker {
            period,
            ticks: 0,
            queue,
        }
    }

    impl Model for Ticker {
        type Event = ();
        fn queue(&mut self) -> &mut EventQueue<()> {
            &mut self.queue
        }
        fn handle(&mut self, now: Nanos, _: ()) {
            self.ticks += 1;
            self.queue.schedule(now + self.period, ());
        }
    }

    #[test]
    fn stops_before_the_horizon() {
        let mut model = ticker(10, 0);
        let handled = run(&mut model, 100);
        // Ticks at 0, 10, ..., 90; the one at 100 is outside [0, 100).
        assert_eq!(handled, 10);
        assert_eq!(model.ticks, 10);
        assert_eq!(model.queue.peek_time(), Some(100));
    }

    #[test]
    fn stops_at_the_event_budget() {
        let mut model = ticker(10, 0);
        let stopped = run_within(&mut model, 1_000, 5).unwrap_err();
        assert_eq!(stopped.halt, Halt::Events);
        assert_eq!((stopped.events, stopped.at, model.ticks), (5, 50, 5));
        // A budget the run fits in changes nothing.
        let mut model = ticker(10, 0);
        assert_eq!(run_within(&mut model, 100, 10), Ok(10));
    }

    #[test]
    fn stops_when_time_stands_still() {
        let mut model = ticker(0, 7);
        let stopped = run_within(&mut model, 100, u64::MAX).unwrap_err();
        assert_eq!(stopped.halt, Halt::Stalled);
        assert_eq!(stopped.at, 7);
        assert_eq!(stopped.events, STALL_EVENTS);
    }

    /// Halts once it has run `limit` times.
    struct Capped(Ticker, u64);

    impl Model for Capped {
        type Event = ();
        fn queue(&mut self) -> &mut EventQueue<()> {
            &mut self.0.queue
        }
        fn handle(&mut self, now: Nanos, e: ()) {
            self.0.handle(now, e);
        }
        fn halted(&self) -> bool {
            self.0.ticks >= self.1
        }
    }

    #[test]
    fn stops_when_the_model_halts() {
        let mut model = Capped(ticker(10, 0), 3);
        let stopped = run_within(&mut model, 1_000, u64::MAX).unwrap_err();
        assert_eq!((stopped.halt, stopped.at, stopped.events), (Halt::Model, 20, 3));
    }
}
