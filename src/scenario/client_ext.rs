//! Validation of the second round of client-policy keys (issue 20): a
//! breaker's growing open periods and bounded half-open, the retry budget
//! by concurrency, hedged requests, and the order the policies wrap a call
//! in. Each builds its policy object with its validated constructor, as
//! [`super::policy`] does for the first round, so the simulator never
//! meets an invalid one.

use toml::Spanned;

use super::checker::Checker;
use super::raw::{RawBreaker, RawConcurrencyBudget, RawHedge};
use crate::resilience::circuit_breaker::{BreakerConfig, HalfOpenExpiry, HalfOpenLimit, OpenBackoff};
use crate::resilience::hedge::{HedgeConfig, HedgeDelay, Hedger};
use crate::resilience::retry::{BudgetConfig, ConcurrencyBudget, ConcurrencyConfig};

/// Default number of recent latencies a quantile hedge delay is taken over.
pub const DEFAULT_HEDGE_WINDOW: u32 = 100;

/// Default growth of the open period with `open_backoff`.
pub const DEFAULT_OPEN_MULTIPLIER: f64 = 2.0;
/// Default cap of the open period with `open_backoff`, in multiples of
/// `open_for`.
pub const DEFAULT_OPEN_MAX_FACTOR: u64 = 10;

/// Adds `open_backoff`, `half_open_max_wait` and `half_open_expiry` to a
/// breaker's configuration.
pub(super) fn breaker_extras(
    c: &mut Checker<'_>,
    b: &RawBreaker,
    key: &str,
    mut config: BreakerConfig,
) -> Option<BreakerConfig> {
    if let Some(raw) = &b.open_backoff {
        let ob = raw.get_ref();
        let multiplier = ob.multiplier.as_ref().map_or(DEFAULT_OPEN_MULTIPLIER, |m| *m.get_ref());
        if !(multiplier.is_finite() && multiplier > 1.0) {
            let span = ob.multiplier.as_ref().map_or(raw.span(), Spanned::span);
            c.err_help(
                &span,
                format!("{key}.open_backoff.multiplier"),
                format!("must be a number above 1, found {multiplier}"),
                "write multiplier = 2.0 (each trip doubles the open period)".into(),
            );
            return None;
        }
        let max = match &ob.max {
            Some(m) if m.get_ref().0 < config.open_for => {
                c.err_help(
                    &m.span(),
                    format!("{key}.open_backoff.max"),
                    "is shorter than open_for, the first open period",
                    "raise max above open_for (or lower open_for)".into(),
                );
                return None;
            }
            Some(m) => m.get_ref().0,
            None => config.open_for.saturating_mul(DEFAULT_OPEN_MAX_FACTOR),
        };
        config.open_backoff = Some(OpenBackoff { multiplier, max });
    }
    let then = match &b.half_open_expiry {
        Some(e) => Some(c.word(
            e,
            &format!("{key}.half_open_expiry"),
            &[("open", HalfOpenExpiry::Open), ("close", HalfOpenExpiry::Close)],
        )?),
        None => None,
    };
    match (&b.half_open_max_wait, then) {
        (Some(w), then) => {
            if w.get_ref().0 == 0 {
                c.err(
                    &w.span(),
                    format!("{key}.half_open_max_wait"),
                    "must be longer than zero",
                );
                return None;
            }
            config.half_open_limit = Some(HalfOpenLimit {
                max_wait: w.get_ref().0,
                then: then.unwrap_or(HalfOpenExpiry::Open),
            });
        }
        (None, Some(_)) => {
            let span = b.half_open_expiry.as_ref().map(Spanned::span).unwrap_or_default();
            c.err_help(
                &span,
                format!("{key}.half_open_expiry"),
                "says what an expired half-open becomes, but nothing makes it expire",
                "add half_open_max_wait = \"30s\"".into(),
            );
            return None;
        }
        (None, None) => {}
    }
    Some(config)
}

/// `retry.concurrency_budget = { percent, min_retry_concurrency }`.
pub(super) fn concurrency(
    c: &mut Checker<'_>,
    raw: &Spanned<RawConcurrencyBudget>,
    key: &str,
) -> Option<ConcurrencyBudget> {
    let b = raw.get_ref();
    let percent = match &b.percent {
        Some(p) => {
            let v = *p.get_ref();
            if !(v > 0.0 && v <= 100.0) {
                c.err_help(
                    &p.span(),
                    format!("{key}.percent"),
                    format!("must be above 0 and at most 100, found {v}"),
                    "write percent = 20.0 (Envoy's default: retries in flight up to 20 % of active calls)".into(),
                );
                return None;
            }
            v
        }
        None => ConcurrencyConfig::ENVOY.percent,
    };
    let min_retry_concurrency = match &b.min_retry_concurrency {
        Some(m) => c.count(m, &format!("{key}.min_retry_concurrency"), 0, 1_000_000)?,
        None => ConcurrencyConfig::ENVOY.min_retry_concurrency,
    };
    match ConcurrencyBudget::new(ConcurrencyConfig {
        percent,
        min_retry_concurrency,
    }) {
        Ok(b) => Some(b),
        Err(e) => {
            c.err(&raw.span(), key.to_string(), e.to_string());
            None
        }
    }
}

/// `hedge = { delay | quantile, window, cancel, budget }`.
pub(super) fn hedge(c: &mut Checker<'_>, raw: &Spanned<RawHedge>, key: &str) -> Option<Hedger> {
    let h = raw.get_ref();
    let delay = match (&h.delay, &h.quantile) {
        (Some(_), Some(q)) => {
            c.err(
                &q.span(),
                format!("{key}.quantile"),
                "give either a fixed delay or a quantile of recent latencies, not both",
            );
            return None;
        }
        (None, None) => {
            c.err_help(
                &raw.span(),
                key.to_string(),
                "needs to know when to send the hedge",
                "add delay = \"50ms\", or quantile = 0.95 (of the last `window` successful attempts)".into(),
            );
            return None;
        }
        (Some(d), None) => {
            if let Some(w) = &h.window {
                c.err(
                    &w.span(),
                    format!("{key}.window"),
                    "a window is for a quantile delay; remove it, or use quantile instead of delay",
                );
                return None;
            }
            if d.get_ref().0 == 0 {
                c.err(&d.span(), format!("{key}.delay"), "must be longer than zero");
                return None;
            }
            HedgeDelay::Fixed(d.get_ref().0)
        }
        (None, Some(q)) => {
            let quantile = *q.get_ref();
            if !(quantile > 0.0 && quantile < 1.0) {
                c.err_help(
                    &q.span(),
                    format!("{key}.quantile"),
                    format!("must be above 0 and below 1, found {quantile}"),
                    "write quantile = 0.95 to hedge the slowest 5 % of attempts".into(),
                );
                return None;
            }
            let window = match &h.window {
                Some(w) => c.count(w, &format!("{key}.window"), 1, 100_000)?,
                None => DEFAULT_HEDGE_WINDOW,
            };
            HedgeDelay::Quantile { quantile, window }
        }
    };
    let budget = match &h.budget {
        Some(b) => {
            let bg = b.get_ref();
            Some(BudgetConfig {
                ratio: *bg.ratio.get_ref(),
                burst: bg.burst.as_ref().map_or(BudgetConfig::DEFAULT_BURST, |x| *x.get_ref()),
            })
        }
        None => None,
    };
    let config = HedgeConfig {
        delay,
        cancel: h.cancel.as_ref().is_none_or(|x| *x.get_ref()),
        budget,
    };
    match Hedger::new(config) {
        Ok(h) => Some(h),
        Err(e) => {
            let span = h.budget.as_ref().map_or(raw.span(), Spanned::span);
            let k = if h.budget.is_some() {
                format!("{key}.budget")
            } else {
                key.to_string()
            };
            c.err(&span, k, e.to_string());
            None
        }
    }
}

/// `order = ["retry", "breaker", "bulkhead", "timeout"]`: a permutation of
/// the four policies, outermost first.
pub(super) fn order(
    c: &mut Checker<'_>,
    raw: &Spanned<Vec<Spanned<String>>>,
    key: &str,
) -> Option<crate::resilience::order::PolicyOrder> {
    use crate::resilience::order::{OrderError, PolicyOrder};
    let names: Vec<&str> = raw.get_ref().iter().map(|n| n.get_ref().as_str()).collect();
    match PolicyOrder::parse(&names) {
        Ok(o) => Some(o),
        Err((i, e)) => {
            let span = raw.get_ref().get(i).map_or(raw.span(), Spanned::span);
            let help = match &e {
                OrderError::Unknown(n) => {
                    let names = ["retry", "breaker", "bulkhead", "timeout"];
                    match super::source::suggest(n, &names) {
                        Some(s) => format!("did you mean \"{s}\"?"),
                        None => "write order = [\"retry\", \"breaker\", \"bulkhead\", \"timeout\"] (the default), \
                                 outermost first"
                            .into(),
                    }
                }
                _ => "write order = [\"retry\", \"breaker\", \"bulkhead\", \"timeout\"] (the default), outermost first"
                    .into(),
            };
            c.err_help(&span, key.to_string(), e.to_string(), help);
            None
        }
    }
}
