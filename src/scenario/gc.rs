//! `gc_pause = { rate, busy_rate, pause }` (request level): a replica
//! that stops the world now and then, more often when it is busy. Checked
//! here, applied by `model::traffic::gc`.
//!
//! Invariants of what `gc_pause` returns: `rate` and `busy_rate` are
//! finite, at least 0, at most [`MAX_RATE`], not both 0; they differ only
//! on a service with a `concurrency` (utilisation is busy slots over it);
//! the pause's mean is above zero.

use toml::Spanned;

use super::checker::Checker;
use super::raw::{RawGcPause, RawService};
use crate::distribution::Dist;

/// Most pauses a second a replica may start (beyond it, a pause process
/// is a model of something else).
pub const MAX_RATE: f64 = 1000.0;

/// A stop-the-world pause process on each replica of a service.
#[derive(Debug, Clone)]
pub struct GcPause {
    /// Pauses a second of a running replica with no busy slot.
    pub rate: f64,
    /// Pauses a second of a running replica with every slot busy; in
    /// between, the rate is linear in the utilisation.
    pub busy_rate: f64,
    /// How long a pause lasts.
    pub pause: Dist,
}

impl PartialEq for GcPause {
    fn eq(&self, other: &Self) -> bool {
        self.rate == other.rate
            && self.busy_rate == other.busy_rate
            && format!("{:?}", self.pause) == format!("{:?}", other.pause)
    }
}

impl GcPause {
    /// The pause rate (per second of running) at utilisation `u` in [0, 1].
    pub fn rate_at(&self, u: f64) -> f64 {
        self.rate + (self.busy_rate - self.rate) * u
    }

    /// The largest rate, at which candidate pauses are drawn (thinning).
    pub fn max_rate(&self) -> f64 {
        self.rate.max(self.busy_rate)
    }

    /// The long-run share of time a replica held at utilisation `u` spends
    /// paused: runs last Exp(rate_at(u)), pauses the mean pause `P`, so
    /// `rate_at(u) P / (1 + rate_at(u) P)`.
    pub fn paused_share(&self, u: f64) -> f64 {
        let x = self.rate_at(u) * self.pause.mean_secs();
        x / (1.0 + x)
    }
}

/// Checks a service's `gc_pause`.
pub(super) fn gc_pause(c: &mut Checker<'_>, s: &RawService, raw: &Spanned<RawGcPause>, key: &str) -> Option<GcPause> {
    let r = raw.get_ref();
    let mut ok = true;
    let mut rate_of = |v: &Option<Spanned<f64>>, name: &str, c: &mut Checker<'_>| -> Option<f64> {
        let v = v.as_ref()?;
        let x = *v.get_ref();
        if !(x.is_finite() && (0.0..=MAX_RATE).contains(&x)) {
            c.err_help(
                &v.span(),
                format!("{key}.{name}"),
                format!("pauses a second must be between 0 and {MAX_RATE}, found {x}"),
                format!("write {name} = 0.5 (one pause every 2 s of running)"),
            );
            ok = false;
            return None;
        }
        Some(x)
    };
    let rate = rate_of(&r.rate, "rate", c);
    let busy = rate_of(&r.busy_rate, "busy_rate", c);
    let pause = c.dist(&r.pause, &format!("{key}.pause"));
    if !ok {
        return None;
    }
    let rate = rate.unwrap_or(0.0);
    let busy_rate = busy.unwrap_or(rate);
    if rate == 0.0 && busy_rate == 0.0 {
        c.err_help(
            &raw.span(),
            format!("{key}.rate"),
            "pauses nothing: rate and busy_rate are both 0 or missing",
            "write rate = 0.5 (pauses a second when idle) and, for pauses that come with load, busy_rate = 2.0".into(),
        );
        return None;
    }
    if busy_rate != rate && s.concurrency.is_none() {
        c.err_help(
            &r.busy_rate.as_ref().map(Spanned::span).unwrap_or_else(|| raw.span()),
            format!("{key}.busy_rate"),
            "the rate follows utilisation, busy slots over concurrency, and this service's concurrency is unlimited",
            "set concurrency = 16 (slots per replica), or drop busy_rate for a fixed rate".into(),
        );
        return None;
    }
    if s.service_time.is_none() {
        c.err_help(
            &raw.span(),
            key.to_string(),
            "a pause stops the service's work, but this service serves no requests",
            "add service_time = { mean = \"10ms\" } and a workload that reaches it, or drop the key".into(),
        );
        return None;
    }
    let pause = pause?;
    if pause.mean_secs() <= 0.0 {
        c.err(
            &r.pause.span(),
            format!("{key}.pause"),
            "a pause must last longer than zero",
        );
        return None;
    }
    Some(GcPause { rate, busy_rate, pause })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rate_at is linear from `rate` idle to `busy_rate` full, and the
    /// paused share is x / (1 + x) with x = rate x mean pause.
    #[test]
    fn the_rate_follows_utilisation_and_the_share_is_x_over_one_plus_x() {
        let g = GcPause {
            rate: 0.0,
            busy_rate: 2.0,
            pause: Dist::fixed(250_000_000).expect("positive"),
        };
        assert_eq!(g.rate_at(0.0), 0.0);
        assert_eq!(g.rate_at(0.5), 1.0);
        assert_eq!(g.max_rate(), 2.0);
        assert!((g.paused_share(1.0) - 0.5 / 1.5).abs() < 1e-12);
        assert_eq!(g.paused_share(0.0), 0.0);
    }
}
