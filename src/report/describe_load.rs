//! What `nines check` says about servers under load (`slowdown`,
//! `cold_start`, a call's `cache`): the keys in words, and a cached
//! dependency's utilisation with warm and with cold caches, since a
//! database sized for the miss rate of warm caches takes every call while
//! they refill.

use crate::engine::time::from_secs;
use crate::scenario::duration::Duration;
use crate::scenario::load::{Decay, Fill, Gauge};
use crate::scenario::{Scenario, Service, Topology};

/// The warm hit rate of service `s`'s `i`-th call's cache (0 without one).
pub(super) fn hit_rate(sc: &Scenario, s: usize, i: usize) -> f64 {
    sc.services[s]
        .load
        .as_ref()
        .and_then(|l| l.caches.get(i).copied().flatten())
        .map_or(0.0, |c| c.hit_rate)
}

/// ` [cache hit rate 0.9, empty after a restart, refills linearly over 5m]`
/// for a cached call, else nothing.
pub(super) fn cache_words(s: &Service, i: usize) -> String {
    let Some(c) = s.load.as_ref().and_then(|l| l.caches.get(i).copied().flatten()) else {
        return String::new();
    };
    if c.warmup == 0 {
        return format!(" [cache hit rate {}, warm at once after a restart]", c.hit_rate);
    }
    let fill = match c.fill {
        Fill::Linear => format!("refills linearly over {}", Duration(c.warmup)),
        Fill::Exponential => format!("refills with time constant {}", Duration(c.warmup)),
    };
    format!(" [cache hit rate {}, empty after a restart, {fill}]", c.hit_rate)
}

/// The slowdown and cold start of service `s` in words.
pub(super) fn service_lines(s: &Service) -> Vec<String> {
    let Some(l) = &s.load else { return Vec::new() };
    let mut out = Vec::new();
    if let Some(sd) = &l.slowdown {
        let by = match sd.by {
            Gauge::Utilisation => "utilisation",
            Gauge::Queue => "queue length",
        };
        let points: Vec<String> = sd.curve.points().iter().map(|(x, f)| format!("x{f} at {x}")).collect();
        out.push(format!("slows with {by}: service time {}", points.join(", ")));
    }
    if let Some(c) = &l.cold_start {
        let decay = match c.decay {
            Decay::Linear => "falling linearly to x1",
            Decay::Step => "then x1",
        };
        out.push(format!(
            "cold start: service time x{} after a restart, {decay} over {}",
            c.factor,
            Duration(c.duration)
        ));
    }
    if let Some(g) = &l.gc {
        let rates = if g.rate == g.busy_rate {
            format!("{} a second of running", g.rate)
        } else {
            format!(
                "{} a second of running idle, {} with every slot busy",
                g.rate, g.busy_rate
            )
        };
        out.push(format!(
            "gc pauses: {rates}, mean {}: paused {:.1} % of the time at full load (lambda P / (1 + lambda P)), capacity x{:.3}",
            Duration(from_secs(g.pause.mean_secs())),
            100.0 * g.paused_share(1.0),
            1.0 - g.paused_share(1.0)
        ));
    }
    out
}

/// For a service some cached call reaches: its utilisation with every
/// cache warm and with every cache cold, flagged when a cold start would
/// overload it.
pub(super) fn cold_cache_line(sc: &Scenario, s: usize, warm: &[f64], cold: &[f64]) -> Option<String> {
    let svc = &sc.services[s];
    if (warm[s] - cold[s]).abs() <= 1e-9 * cold[s].max(1.0) {
        return None;
    }
    let mean = svc.service_time.as_ref()?.mean_secs();
    let c = svc.concurrency?;
    let groups = svc.regions.len().max(1) as f64;
    let replicas = match svc.topology {
        Topology::ActivePassive => groups,
        _ => groups * f64::from(svc.replicas),
    };
    let rho = |load: f64| load * mean / (replicas * f64::from(c));
    let mut line = format!(
        "behind caches: utilisation {:.1} % warm, {:.1} % with every cache cold ({:.1} requests/s, service time {})",
        rho(warm[s]) * 100.0,
        rho(cold[s]) * 100.0,
        cold[s],
        Duration(from_secs(mean))
    );
    if rho(cold[s]) >= 1.0 {
        line.push_str(
            " (CANNOT SURVIVE A COLD CACHE: while the caches refill more work arrives than the replicas can serve)",
        );
    }
    Some(line)
}
