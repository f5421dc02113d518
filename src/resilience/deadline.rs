//! An absolute deadline, propagated from a request to every call it makes.
//!
//! A deadline is a point in simulated time, not a duration, so that it can be
//! handed down the call graph unchanged: a child call's deadline is the
//! earlier of its parent's and its own (`Deadline::min`), as gRPC propagates
//! deadlines and as its retry design requires ("the call deadline applies
//! across all attempts", gRPC proposal A6). Each attempt's timeout is then
//! the shorter of the per-attempt timeout and what is left of the deadline.
//!
//! ```text
//!            now < t                 now >= t
//!   Deadline(Some(t)) ── live ──────────────────> expired   (remaining = 0)
//!   Deadline(None)    ── live forever             (remaining = None)
//! ```
//!
//! Invariants: the value never changes once made ([`Deadline`] is `Copy`);
//! `None` means "no deadline" and sorts after every time; arithmetic
//! saturates, so a huge timeout never wraps to an early deadline.

use crate::engine::Nanos;

/// An absolute deadline in simulated time; `None` means there is none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deadline(Option<Nanos>);

impl Deadline {
    /// No deadline.
    pub const NONE: Deadline = Deadline(None);

    /// The deadline at absolute time `t`.
    pub const fn at(t: Nanos) -> Self {
        Deadline(Some(t))
    }

    /// The deadline `d` after `now`, or none when `d` is `None`.
    pub fn after(now: Nanos, d: Option<Nanos>) -> Self {
        Deadline(d.map(|d| now.saturating_add(d)))
    }

    /// The earlier of two deadlines (a missing one never wins).
    pub fn min(self, other: Deadline) -> Deadline {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Deadline(Some(a.min(b))),
            (a, b) => Deadline(a.or(b)),
        }
    }

    /// Whether the deadline has passed at `now` (it is due at its own time).
    pub fn expired(&self, now: Nanos) -> bool {
        self.0.is_some_and(|t| now >= t)
    }

    /// Time left at `now` (zero once expired), or `None` without a deadline.
    pub fn remaining(&self, now: Nanos) -> Option<Nanos> {
        self.0.map(|t| t.saturating_sub(now))
    }

    /// The timeout of one attempt started at `now`: the shorter of the
    /// per-attempt timeout and the time remaining; `None` when neither exists.
    pub fn attempt_timeout(&self, now: Nanos, per_attempt: Option<Nanos>) -> Option<Nanos> {
        match (self.remaining(now), per_attempt) {
            (Some(left), Some(limit)) => Some(left.min(limit)),
            (left, limit) => left.or(limit),
        }
    }

    /// The absolute time of the deadline, if any.
    pub fn get(&self) -> Option<Nanos> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_never_expires() {
        assert!(!Deadline::NONE.expired(Nanos::MAX));
        assert_eq!(Deadline::NONE.remaining(5), None);
        assert_eq!(Deadline::NONE.get(), None);
        assert_eq!(Deadline::default(), Deadline::NONE);
    }

    #[test]
    fn expires_at_its_own_time() {
        let d = Deadline::at(100);
        assert!(!d.expired(99));
        assert!(d.expired(100));
        assert_eq!(d.remaining(40), Some(60));
        assert_eq!(d.remaining(150), Some(0));
    }

    #[test]
    fn after_adds_and_saturates() {
        assert_eq!(Deadline::after(10, Some(5)), Deadline::at(15));
        assert_eq!(Deadline::after(10, None), Deadline::NONE);
        assert_eq!(Deadline::after(Nanos::MAX - 1, Some(10)), Deadline::at(Nanos::MAX));
    }

    #[test]
    fn min_prefers_the_earlier_and_ignores_none() {
        assert_eq!(Deadline::at(5).min(Deadline::at(7)), Deadline::at(5));
        assert_eq!(Deadline::at(7).min(Deadline::at(5)), Deadline::at(5));
        assert_eq!(Deadline::NONE.min(Deadline::at(7)), Deadline::at(7));
        assert_eq!(Deadline::at(7).min(Deadline::NONE), Deadline::at(7));
        assert_eq!(Deadline::NONE.min(Deadline::NONE), Deadline::NONE);
    }

    #[test]
    fn attempt_timeout_is_the_tighter_bound() {
        let d = Deadline::at(1_000);
        assert_eq!(d.attempt_timeout(900, Some(200)), Some(100));
        assert_eq!(d.attempt_timeout(100, Some(200)), Some(200));
        assert_eq!(d.attempt_timeout(100, None), Some(900));
        assert_eq!(Deadline::NONE.attempt_timeout(100, Some(200)), Some(200));
        assert_eq!(Deadline::NONE.attempt_timeout(100, None), None);
        assert_eq!(d.attempt_timeout(2_000, Some(200)), Some(0));
    }
}
