//! Server-side defences of a service (`rate_limit`, `shed`,
//! `outlier_detection`) and a workload's `priority`: checked here, applied
//! in the request path.

use super::checker::Checker;
use super::raw::{RawService, RawWorkload};
use super::{Defence, Outlier, Shed};
use crate::resilience::rate_limit::{RateLimitConfig, RateLimiter};

/// Kubernetes' readiness-probe defaults: every 10 s, 3 failures to mark a
/// replica unhealthy, 1 success to mark it healthy again.
pub const DEFAULT_HEALTH_CHECK: super::HealthCheck = super::HealthCheck {
    interval: 10 * crate::engine::time::SECOND,
    unhealthy: 3,
    healthy: 1,
};

pub(super) fn defence(c: &mut Checker<'_>, s: &RawService, p: &str) -> Defence {
    let mut d = Defence::default();
    if let Some(rl) = &s.rate_limit {
        let r = rl.get_ref();
        let config = RateLimitConfig {
            rate: *r.rate.get_ref(),
            burst: r.burst.as_ref().map_or(1.0, |b| *b.get_ref()),
        };
        match RateLimiter::new(config.clone()) {
            Ok(limiter) => {
                d.rate_limit = Some(config);
                d.rate_limiter = Some(limiter);
            }
            Err(e) => c.err(&rl.span(), format!("{p}.rate_limit"), e.to_string()),
        }
    }
    if let Some(sh) = &s.shed {
        let r = sh.get_ref();
        d.shed = Shed {
            queue_wait: r.queue_wait.as_ref().map(|w| w.get_ref().0),
            low_priority_queue: r
                .low_priority_queue
                .as_ref()
                .and_then(|q| c.count(q, &format!("{p}.shed.low_priority_queue"), 0, 100_000_000)),
        };
        if d.shed.queue_wait.is_none() && d.shed.low_priority_queue.is_none() {
            c.err_help(
                &sh.span(),
                format!("{p}.shed"),
                "sheds nothing",
                "add queue_wait = \"200ms\" (drop requests that waited longer) or low_priority_queue = 20".into(),
            );
        }
    }
    if let Some(od) = &s.outlier_detection {
        let r = od.get_ref();
        let key = format!("{p}.outlier_detection");
        let consecutive = r.consecutive_failures.as_ref().map_or(Some(5), |n| {
            c.count(n, &format!("{key}.consecutive_failures"), 1, 1_000_000)
        });
        let eject_for = r
            .eject_for
            .as_ref()
            .map_or(30 * crate::engine::time::SECOND, |e| e.get_ref().0);
        if eject_for == 0 {
            c.err(&od.span(), format!("{key}.eject_for"), "must be longer than zero");
        }
        let max_ejected = match &r.max_ejected {
            Some(m) => c.probability(m, &format!("{key}.max_ejected")),
            None => Some(0.5),
        };
        let detectors = super::health::detectors(c, r, &key);
        let max_eject = super::ejection::max_ejection_time(c, r, &key, eject_for);
        if let (Some(consecutive), Some(max_ejected), Some(detectors), Some(max_eject)) =
            (consecutive, max_ejected, detectors, max_eject)
        {
            d.outlier = Some(Outlier {
                consecutive,
                eject_for,
                max_ejected,
                detectors,
                max_eject,
            });
        }
    }
    let interval = s
        .health_check
        .as_ref()
        .and_then(|h| h.get_ref().interval.as_ref())
        .map_or(DEFAULT_HEALTH_CHECK.interval, |i| i.get_ref().0);
    d.probes = super::health::probes(c, s, p, interval);
    d
}

/// Whether a workload's requests are low priority.
pub(super) fn low_priority(c: &mut Checker<'_>, w: &RawWorkload, p: &str) -> bool {
    w.priority.as_ref().is_some_and(|v| {
        c.word(v, &format!("{p}.priority"), &[("normal", false), ("low", true)])
            .unwrap_or(false)
    })
}
