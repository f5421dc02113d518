//! Client and server resilience policies as plain state machines.
//!
//! Each policy lives in its own file and knows nothing of the simulator:
//! time comes in as an absolute [`Nanos`](crate::engine::Nanos) `now`,
//! randomness as a `&mut` [`Rng`](crate::random::Rng), and each answer is a
//! value the caller acts on. That keeps them testable transition by
//! transition and keeps the order of random draws (and so the results) in
//! the caller's hands.
//!
//! A call edge `A -> B` consults them in this order (DESIGN.md, "Request
//! path"):
//!
//! ```text
//!   deadline ──> circuit breaker ──> bulkhead ──> attempt (timeout) ──> outcome
//!   expired?     try_acquire         try_enter    Deadline::             │
//!      │            │ None              │ Rejected attempt_timeout       │ failure
//!      ▼            ▼                   ▼                                ▼
//!   Timeout      BreakerOpen        BulkheadFull              retry: decide + budget
//!                                  (breaker.release)          ──> Retry{after} | GiveUp
//! ```
//!
//! - [`circuit_breaker`]: consecutive-failure or sliding-window breaker with
//!   slow-call detection and a bounded half-open probe (resilience4j, Polly).
//! - [`retry`]: backoff strategies, jitter, retryable outcomes and a retry
//!   budget (AWS "Exponential Backoff and Jitter", gRPC retry throttling).
//! - [`bulkhead`]: a concurrency limit with a bounded FIFO waiting room.
//! - [`deadline`]: an absolute deadline propagated down the call graph.
//! - [`rate_limit`]: a server-side token bucket.
//! - [`order`]: the order the client policies wrap a call in, when a
//!   scenario changes it from the one drawn above.
//!
//! Every constructor validates its configuration and returns a typed error;
//! nothing downstream re-checks. No policy allocates per call once built.
//!
//! This file holds what they share: the [`Outcome`] of one attempt and a
//! small bit set of outcomes ([`OutcomeSet`]) used to say which are retried.

pub mod bulkhead;
pub mod circuit_breaker;
pub mod deadline;
pub mod hedge;
pub mod order;
pub mod rate_limit;
pub mod retry;

/// How one attempt (or a whole call) ended.
///
/// The discriminants are bit positions in [`OutcomeSet`]; the names are the
/// ones used in scenario files (`retry_on`) and in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Outcome {
    /// The callee answered successfully.
    Success = 0,
    /// The callee answered with an error.
    Error = 1,
    /// No answer before the attempt's timeout or the deadline.
    Timeout = 2,
    /// The callee could not be reached or refused the connection.
    Refused = 3,
    /// The caller's circuit breaker rejected the call without sending it.
    BreakerOpen = 4,
    /// The caller's bulkhead was full.
    BulkheadFull = 5,
    /// The callee's rate limiter rejected the call.
    RateLimited = 6,
    /// The callee shed the call (queue too long or too old).
    Shed = 7,
}

impl Outcome {
    /// Every outcome, in discriminant order.
    pub const ALL: [Outcome; 8] = [
        Outcome::Success,
        Outcome::Error,
        Outcome::Timeout,
        Outcome::Refused,
        Outcome::BreakerOpen,
        Outcome::BulkheadFull,
        Outcome::RateLimited,
        Outcome::Shed,
    ];

    /// Whether this is [`Outcome::Success`].
    pub fn is_success(self) -> bool {
        self == Outcome::Success
    }

    /// The outcome's name in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::Refused => "refused",
            Outcome::BreakerOpen => "breaker",
            Outcome::BulkheadFull => "bulkhead",
            Outcome::RateLimited => "rate_limited",
            Outcome::Shed => "shed",
        }
    }

    /// The outcome called `name` (exactly as [`Outcome::name`] spells it).
    pub fn from_name(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == name)
    }

    const fn bit(self) -> u16 {
        1 << self as u8
    }
}

/// A set of [`Outcome`]s, one bit each: copying and testing it is free,
/// which matters because the retry policy asks on every failed attempt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutcomeSet(u16);

impl OutcomeSet {
    /// No outcome.
    pub const EMPTY: OutcomeSet = OutcomeSet(0);
    /// Every outcome except [`Outcome::Success`]: the contract's default for
    /// `retry_on`.
    pub const ALL_FAILURES: OutcomeSet = OutcomeSet(0xff & !Outcome::Success.bit());

    /// The set holding only `outcome`.
    pub const fn of(outcome: Outcome) -> OutcomeSet {
        OutcomeSet(outcome.bit())
    }

    /// Whether `outcome` is in the set.
    pub const fn contains(self, outcome: Outcome) -> bool {
        self.0 & outcome.bit() != 0
    }

    /// Adds `outcome`; returns whether it was absent before.
    pub fn insert(&mut self, outcome: Outcome) -> bool {
        let absent = !self.contains(outcome);
        self.0 |= outcome.bit();
        absent
    }

    /// Removes `outcome`; returns whether it was present.
    pub fn remove(&mut self, outcome: Outcome) -> bool {
        let present = self.contains(outcome);
        self.0 &= !outcome.bit();
        present
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The outcomes in the set, in discriminant order.
    pub fn iter(self) -> impl Iterator<Item = Outcome> {
        Outcome::ALL.into_iter().filter(move |o| self.contains(*o))
    }
}

impl FromIterator<Outcome> for OutcomeSet {
    fn from_iter<I: IntoIterator<Item = Outcome>>(outcomes: I) -> Self {
        let mut set = OutcomeSet::EMPTY;
        set.extend(outcomes);
        set
    }
}

impl Extend<Outcome> for OutcomeSet {
    fn extend<I: IntoIterator<Item = Outcome>>(&mut self, outcomes: I) {
        for outcome in outcomes {
            self.insert(outcome);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::from_name(outcome.name()), Some(outcome));
        }
        assert_eq!(Outcome::from_name("breaker"), Some(Outcome::BreakerOpen));
        assert_eq!(Outcome::from_name("Success"), None);
        assert_eq!(Outcome::from_name(""), None);
    }

    #[test]
    fn only_success_is_success() {
        let successes: Vec<_> = Outcome::ALL.into_iter().filter(|o| o.is_success()).collect();
        assert_eq!(successes, [Outcome::Success]);
    }

    #[test]
    fn all_failures_is_everything_but_success() {
        for outcome in Outcome::ALL {
            assert_eq!(OutcomeSet::ALL_FAILURES.contains(outcome), !outcome.is_success());
        }
        assert_eq!(OutcomeSet::ALL_FAILURES.iter().count(), 7);
    }

    #[test]
    fn insert_remove_and_collect() {
        let mut set: OutcomeSet = [Outcome::Timeout, Outcome::Error].into_iter().collect();
        assert!(set.contains(Outcome::Timeout) && set.contains(Outcome::Error));
        assert!(!set.contains(Outcome::Refused));
        assert!(set.insert(Outcome::Refused));
        assert!(!set.insert(Outcome::Refused));
        assert!(set.remove(Outcome::Error));
        assert!(!set.remove(Outcome::Error));
        let listed: Vec<_> = set.iter().collect();
        assert_eq!(listed, [Outcome::Timeout, Outcome::Refused]);
        assert!(OutcomeSet::default().is_empty());
        assert_eq!(
            OutcomeSet::of(Outcome::Shed).iter().collect::<Vec<_>>(),
            [Outcome::Shed]
        );
    }
}
