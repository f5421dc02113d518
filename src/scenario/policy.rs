//! Validation of the request-level keys: client policies on call edges and
//! workloads (timeout, deadline, retry, circuit breaker, bulkhead), with the
//! defaults documented in README.
//!
//! Each policy's configuration is checked here by its own validated
//! constructor (`CircuitBreaker::new`, `RetryPolicy::new`, `Bulkhead::new`,
//! `RetryBudget::new`), so the simulator never meets an invalid one; a
//! rejection is reported at the table's location. The objects those
//! constructors return are kept ([`Policies`]): the simulator clones them
//! for every trial and never builds (or re-checks) one itself.

use toml::Spanned;

use super::ClientPolicy;
use super::checker::Checker;
use super::raw::{RawBreaker, RawBulkhead, RawRetry};
use crate::engine::Nanos;
use crate::engine::time::SECOND;
use crate::resilience::bulkhead::{Bulkhead, BulkheadConfig};
use crate::resilience::circuit_breaker::{BreakerConfig, CircuitBreaker, Trip};
use crate::resilience::retry::{Backoff, BudgetConfig, Jitter, RetryBudget, RetryConfig, RetryPolicy};
use crate::resilience::{Outcome, OutcomeSet};

/// Default time a breaker stays open (resilience4j's default).
pub const DEFAULT_OPEN_FOR: Nanos = 60 * SECOND;
/// Default first retry delay.
pub const DEFAULT_BASE: Nanos = 100_000_000;

/// An edge's policy objects, built once by validation; a trial starts from
/// clones of them.
#[derive(Debug, Clone, Default)]
pub struct Policies {
    /// The retry policy.
    pub retry: Option<RetryPolicy>,
    /// The retry budget's token bucket, full.
    pub budget: Option<RetryBudget>,
    /// The circuit breaker, closed.
    pub breaker: Option<CircuitBreaker>,
    /// The bulkhead, empty.
    pub bulkhead: Option<Bulkhead>,
    /// The retry budget by concurrency, idle.
    pub concurrency: Option<crate::resilience::retry::ConcurrencyBudget>,
    /// The hedging books, empty.
    pub hedge: Option<crate::resilience::hedge::Hedger>,
}

/// The raw client keys shared by `[[workload]]` and `[[service.call]]`.
pub(super) struct RawClient<'a> {
    pub timeout: &'a Option<Spanned<super::duration::Duration>>,
    pub deadline: &'a Option<Spanned<super::duration::Duration>>,
    pub retry: &'a Option<Spanned<RawRetry>>,
    pub breaker: &'a Option<Spanned<RawBreaker>>,
    pub bulkhead: &'a Option<Spanned<RawBulkhead>>,
    pub fallback: &'a Option<Spanned<bool>>,
    pub cancel_on_timeout: &'a Option<Spanned<bool>>,
    /// `hedge` (workloads and calls only).
    pub hedge: &'a Option<Spanned<super::raw::RawHedge>>,
    /// `order`.
    pub order: &'a Option<Spanned<Vec<Spanned<String>>>>,
}

/// Checks the client keys of one edge; `key` is the `--set` prefix.
pub(super) fn client(c: &mut Checker<'_>, raw: RawClient<'_>, key: &str) -> ClientPolicy {
    let positive = |c: &mut Checker<'_>, d: &Option<Spanned<super::duration::Duration>>, name: &str| {
        d.as_ref().and_then(|d| {
            if d.get_ref().0 == 0 {
                c.err(&d.span(), format!("{key}.{name}"), "must be longer than zero");
                None
            } else {
                Some(d.get_ref().0)
            }
        })
    };
    let timeout = positive(c, raw.timeout, "timeout");
    let deadline = positive(c, raw.deadline, "deadline");
    let (retry, budget) = match raw.retry.as_ref().and_then(|r| retry(c, r, &format!("{key}.retry"))) {
        Some((retry, budget)) => (Some(retry), budget),
        None => (None, None),
    };
    let concurrency = raw
        .retry
        .as_ref()
        .filter(|_| retry.is_some())
        .and_then(|r| r.get_ref().concurrency_budget.as_ref())
        .and_then(|b| super::client_ext::concurrency(c, b, &format!("{key}.retry.concurrency_budget")));
    let hedge = raw
        .hedge
        .as_ref()
        .and_then(|h| super::client_ext::hedge(c, h, &format!("{key}.hedge")));
    let breaker = raw
        .breaker
        .as_ref()
        .and_then(|b| breaker(c, b, &format!("{key}.circuit_breaker")));
    let bulkhead = raw
        .bulkhead
        .as_ref()
        .and_then(|b| bulkhead(c, b, &format!("{key}.bulkhead")));
    let order = raw
        .order
        .as_ref()
        .and_then(|o| super::client_ext::order(c, o, &format!("{key}.order")));
    ClientPolicy {
        timeout,
        deadline,
        retry: retry.as_ref().map(|r| r.config().clone()),
        breaker: breaker.as_ref().map(|b| b.config().clone()),
        bulkhead: bulkhead.as_ref().map(|b| b.config().clone()),
        fallback: raw.fallback.as_ref().is_some_and(|f| *f.get_ref()),
        cancel_on_timeout: raw.cancel_on_timeout.as_ref().is_some_and(|f| *f.get_ref()),
        order,
        objects: Policies {
            retry,
            budget,
            breaker,
            bulkhead,
            concurrency,
            hedge,
        },
    }
}

/// The retry policy and its budget's bucket.
fn retry(c: &mut Checker<'_>, raw: &Spanned<RawRetry>, key: &str) -> Option<(RetryPolicy, Option<RetryBudget>)> {
    let r = raw.get_ref();
    let max_attempts = match &r.max_attempts {
        Some(m) => c.count(m, &format!("{key}.max_attempts"), 1, 1000)?,
        None => 3,
    };
    let backoff = match &r.backoff {
        Some(b) => c.word(
            b,
            &format!("{key}.backoff"),
            &[
                ("constant", Backoff::Constant),
                ("linear", Backoff::Linear),
                ("fibonacci", Backoff::Fibonacci),
                ("exponential", Backoff::Exponential),
                ("decorrelated", Backoff::Decorrelated),
            ],
        )?,
        None => Backoff::Exponential,
    };
    let jitter = match &r.jitter {
        Some(j) => c.word(
            j,
            &format!("{key}.jitter"),
            &[("none", Jitter::None), ("full", Jitter::Full), ("equal", Jitter::Equal)],
        )?,
        None => Jitter::None,
    };
    let retry_on = match &r.retry_on {
        Some(list) => {
            let mut set = OutcomeSet::default();
            for name in list.get_ref() {
                let names = [
                    "timeout",
                    "error",
                    "refused",
                    "breaker",
                    "bulkhead",
                    "rate_limited",
                    "shed",
                ];
                let choices: Vec<(&str, &str)> = names.iter().map(|n| (*n, *n)).collect();
                let n = c.word(name, &format!("{key}.retry_on"), &choices)?;
                set.insert(Outcome::from_name(n).expect("listed names are outcomes"));
            }
            set
        }
        None => OutcomeSet::ALL_FAILURES,
    };
    let (budget, bucket) = match &r.budget {
        Some(b) => {
            let bg = b.get_ref();
            let config = BudgetConfig {
                ratio: *bg.ratio.get_ref(),
                burst: bg.burst.as_ref().map_or(10.0, |x| *x.get_ref()),
            };
            match RetryBudget::new(config.clone()) {
                Ok(bucket) => (Some(config), Some(bucket)),
                Err(e) => {
                    c.err(&b.span(), format!("{key}.budget"), e.to_string());
                    return None;
                }
            }
        }
        None => (None, None),
    };
    let config = RetryConfig {
        max_attempts,
        backoff,
        base: r.base.as_ref().map_or(DEFAULT_BASE, |b| b.get_ref().0),
        max_delay: r.max_delay.as_ref().map(|m| m.get_ref().0),
        jitter,
        retry_on,
        budget,
    };
    match RetryPolicy::new(config) {
        Ok(policy) => Some((policy, bucket)),
        Err(e) => {
            c.err(&raw.span(), key.to_string(), e.to_string());
            None
        }
    }
}

fn breaker(c: &mut Checker<'_>, raw: &Spanned<RawBreaker>, key: &str) -> Option<CircuitBreaker> {
    let b = raw.get_ref();
    let trip = match (&b.failure_threshold, &b.window) {
        (Some(_), Some(w)) => {
            c.err(
                &w.span(),
                format!("{key}.window"),
                "give either failure_threshold (consecutive failures) or a sliding window, not both",
            );
            return None;
        }
        (None, None) => {
            c.err_help(
                &raw.span(),
                key.to_string(),
                "needs a trip rule",
                "add failure_threshold = 5, or window = \"count\" with size = 20 and failure_rate = 0.5".into(),
            );
            return None;
        }
        (Some(t), None) => Trip::Consecutive {
            failure_threshold: c.count(t, &format!("{key}.failure_threshold"), 1, 1_000_000)?,
        },
        (None, Some(w)) => {
            let kind = c.word(w, &format!("{key}.window"), &[("count", true), ("time", false)])?;
            window(c, raw, key, kind)?
        }
    };
    let rate = |c: &mut Checker<'_>, v: &Option<Spanned<f64>>, name: &str, default: f64| match v {
        Some(x) => c.probability(x, &format!("{key}.{name}")),
        None => Some(default),
    };
    let min_default = match trip {
        Trip::CountWindow { size } => size,
        _ => 10,
    };
    let config = BreakerConfig {
        trip,
        failure_rate: rate(c, &b.failure_rate, "failure_rate", 0.5)?,
        min_calls: match &b.min_calls {
            Some(m) => c.count(m, &format!("{key}.min_calls"), 1, 1_000_000)?,
            None => min_default,
        },
        slow_call: b.slow_call.as_ref().map(|s| s.get_ref().0),
        slow_call_rate: rate(c, &b.slow_call_rate, "slow_call_rate", 1.0)?,
        open_for: b.open_for.as_ref().map_or(DEFAULT_OPEN_FOR, |o| o.get_ref().0),
        half_open_calls: match &b.half_open_calls {
            Some(h) => c.count(h, &format!("{key}.half_open_calls"), 1, 10_000)?,
            None => 1,
        },
        success_threshold: match &b.success_threshold {
            Some(s) => c.count(s, &format!("{key}.success_threshold"), 1, 10_000)?,
            None => 1,
        },
        open_backoff: None,
        half_open_limit: None,
    };
    let config = super::client_ext::breaker_extras(c, b, key, config)?;
    match CircuitBreaker::new(config) {
        Ok(breaker) => Some(breaker),
        Err(e) => {
            c.err(&raw.span(), key.to_string(), e.to_string());
            None
        }
    }
}

fn window(c: &mut Checker<'_>, raw: &Spanned<RawBreaker>, key: &str, count: bool) -> Option<Trip> {
    let Some(size) = &raw.get_ref().size else {
        let example = if count { "size = 20" } else { "size = \"10s\"" };
        c.err_help(
            &raw.span(),
            format!("{key}.size"),
            "a sliding window needs a size",
            format!("add {example}"),
        );
        return None;
    };
    let k = format!("{key}.size");
    match (count, size.get_ref()) {
        (true, toml::Value::Integer(n)) if (1..=100_000).contains(n) => Some(Trip::CountWindow { size: *n as u32 }),
        (true, v) => {
            c.err(
                &size.span(),
                k,
                format!("a count window's size is a number of calls (1 to 100000), found {v}"),
            );
            None
        }
        (false, toml::Value::String(s)) => match super::duration::parse(s) {
            Ok(d) if d.0 > 0 => Some(Trip::TimeWindow { size: d.0 }),
            Ok(_) => {
                c.err(&size.span(), k, "must be longer than zero");
                None
            }
            Err(e) => {
                c.err(&size.span(), k, e);
                None
            }
        },
        (false, v) => {
            c.err(
                &size.span(),
                k,
                format!("a time window's size is a duration like \"10s\", found {v}"),
            );
            None
        }
    }
}

fn bulkhead(c: &mut Checker<'_>, raw: &Spanned<RawBulkhead>, key: &str) -> Option<Bulkhead> {
    let b = raw.get_ref();
    let config = BulkheadConfig {
        max_concurrent: c.count(&b.max_concurrent, &format!("{key}.max_concurrent"), 1, 1_000_000)?,
        max_queue: match &b.max_queue {
            Some(q) => c.count(q, &format!("{key}.max_queue"), 0, 1_000_000)?,
            None => 0,
        },
        queue_timeout: b.queue_timeout.as_ref().map(|q| q.get_ref().0),
    };
    match Bulkhead::new(config) {
        Ok(bulkhead) => Some(bulkhead),
        Err(e) => {
            c.err(&raw.span(), key.to_string(), e.to_string());
            None
        }
    }
}
