//! Validation of the second round of client-policy keys (issue 20): a
//! breaker's growing open periods and bounded half-open, the retry budget
//! by concurrency, hedged requests, and the order the policies wrap a call
//! in. Each builds its policy object with its validated constructor, as
//! [`super::policy`] does for the first round, so the simulator never
//! meets an invalid one.

use toml::Spanned;

use super::checker::Checker;
use super::raw::RawBreaker;
use crate::resilience::circuit_breaker::{BreakerConfig, HalfOpenExpiry, HalfOpenLimit, OpenBackoff};

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
                c.err(&w.span(), format!("{key}.half_open_max_wait"), "must be longer than zero");
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
