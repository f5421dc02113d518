//! Servers under load (request level): service time that grows with a
//! replica's utilisation or queue (`slowdown`), a slow start after a
//! restart (`cold_start`), and a cache in front of a dependency whose hit
//! rate starts at zero after a restart (`[[service.call]] cache`). Checked
//! here, applied by `model::traffic::load`.
//!
//! Invariants of what `load` returns: a curve has at least one point,
//! its `x` strictly increase from 0 or more, and every factor is finite
//! and above zero; `by = "utilisation"` only on a service with a
//! `concurrency`; a cold start's factor is at least 1 and its duration
//! longer than zero; a cache's hit rate is in `[0, 1]`, and an
//! exponential fill has a warm-up longer than zero. `caches` has one entry
//! per `[[service.call]]`, in file order.

use serde_json::{Value, json};
use toml::Spanned;

use super::checker::Checker;
use super::raw::{RawCache, RawColdStart, RawService, RawSlowdown};
use crate::engine::Nanos;

/// What a slowdown curve reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gauge {
    /// Busy slots over `concurrency`, the starting job included.
    Utilisation,
    /// Requests waiting in the replica's queue (the starting job no longer
    /// among them).
    Queue,
}

/// A piecewise-linear curve through `(x, factor)` points: flat before the
/// first point and after the last.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    points: Vec<(f64, f64)>,
}

impl Curve {
    /// A curve through `points`; `None` unless they are non-empty, finite,
    /// with `x` at 0 or more and strictly increasing, and factors above 0.
    pub fn new(points: Vec<(f64, f64)>) -> Option<Self> {
        let ok = !points.is_empty()
            && points
                .iter()
                .all(|&(x, f)| x.is_finite() && x >= 0.0 && f.is_finite() && f > 0.0)
            && points.windows(2).all(|w| w[0].0 < w[1].0);
        ok.then_some(Self { points })
    }

    /// The factor at `x`.
    pub fn at(&self, x: f64) -> f64 {
        let p = &self.points;
        let i = p.partition_point(|q| q.0 <= x);
        if i == 0 {
            return p[0].1;
        }
        if i == p.len() {
            return p[i - 1].1;
        }
        let (x0, f0) = p[i - 1];
        let (x1, f1) = p[i];
        f0 + (f1 - f0) * (x - x0) / (x1 - x0)
    }

    /// The points.
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }
}

/// Load-dependent service time.
#[derive(Debug, Clone, PartialEq)]
pub struct Slowdown {
    /// What the curve reads at a job's service start.
    pub by: Gauge,
    /// Factor on the service-time draw.
    pub curve: Curve,
}

/// How a cold start's factor returns to 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decay {
    /// In a straight line from `factor` to 1 over `duration`.
    Linear,
    /// `factor` for all of `duration`, then 1.
    Step,
}

/// Slower service for a while after a restart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColdStart {
    /// Factor on the service-time draw right after the restart (at least 1).
    pub factor: f64,
    /// How long the replica is cold.
    pub duration: Nanos,
    /// How the factor returns to 1.
    pub decay: Decay,
}

impl ColdStart {
    /// The factor `elapsed` after the warm-up began.
    pub fn factor_at(&self, elapsed: Nanos) -> f64 {
        if elapsed >= self.duration {
            return 1.0;
        }
        match self.decay {
            Decay::Step => self.factor,
            Decay::Linear => self.factor + (1.0 - self.factor) * elapsed as f64 / self.duration as f64,
        }
    }
}

/// How a restarted cache fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// The hit rate rises in a straight line from 0 to `hit_rate` over
    /// `warmup`.
    Linear,
    /// `hit_rate × (1 − e^(−t / warmup))`: `warmup` is the time constant.
    Exponential,
}

/// A cache in front of one dependency, local to each replica of the
/// caller: a hit answers the call at once, without a call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cache {
    /// The share of calls answered locally when warm.
    pub hit_rate: f64,
    /// How long a restarted cache takes to fill (0: warm at once).
    pub warmup: Nanos,
    /// The shape of the fill.
    pub fill: Fill,
}

impl Cache {
    /// The hit rate `elapsed` after the warm-up began (`None`: warm).
    pub fn hit_rate_at(&self, elapsed: Option<Nanos>) -> f64 {
        let Some(t) = elapsed else { return self.hit_rate };
        if self.warmup == 0 {
            return self.hit_rate;
        }
        let s = t as f64 / self.warmup as f64;
        match self.fill {
            Fill::Linear => self.hit_rate * s.min(1.0),
            Fill::Exponential => self.hit_rate * (1.0 - (-s).exp()),
        }
    }
}

/// A service's behaviour under load and after restarts; `None` on the
/// service when it sets none of the keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Load {
    /// Load-dependent service time.
    pub slowdown: Option<Slowdown>,
    /// Slower service after a restart.
    pub cold_start: Option<ColdStart>,
    /// Per `[[service.call]]`, in file order: its cache.
    pub caches: Vec<Option<Cache>>,
    /// Stop-the-world pauses (`gc_pause`).
    pub gc: Option<super::gc::GcPause>,
}

impl Load {
    /// Whether a restart changes anything (a cold start, or a cache that
    /// refills).
    pub fn restarts_matter(&self) -> bool {
        self.cold_start.is_some() || self.caches.iter().flatten().any(|c| c.warmup > 0)
    }

    /// Whether any call has a cache.
    pub fn has_cache(&self) -> bool {
        self.caches.iter().any(Option::is_some)
    }
}

/// The load keys of service `s` (prefix `p`).
pub(super) fn load(c: &mut Checker<'_>, s: &RawService, p: &str) -> Option<Box<Load>> {
    let mut out = Load {
        caches: s.call.iter().map(|_| None).collect(),
        ..Load::default()
    };
    if let Some(sd) = &s.slowdown {
        out.slowdown = slowdown(c, s, sd, &format!("{p}.slowdown"));
    }
    if let Some(cs) = &s.cold_start {
        out.cold_start = cold_start(c, cs, &format!("{p}.cold_start"));
    }
    let serves = s.service_time.is_some();
    for (k, which) in [
        (s.slowdown.as_ref().map(Spanned::span), "slowdown"),
        (s.cold_start.as_ref().map(Spanned::span), "cold_start"),
    ] {
        if let Some(span) = k
            && !serves
        {
            c.err_help(
                &span,
                format!("{p}.{which}"),
                format!("{which} changes service times, but this service serves no requests"),
                "add service_time = { mean = \"10ms\" } and a workload that reaches it, or drop the key".into(),
            );
        }
    }
    for (i, call) in s.call.iter().enumerate() {
        if let Some(raw) = &call.get_ref().cache {
            out.caches[i] = cache(c, raw, &format!("{p}.call.cache"));
        }
    }
    if let Some(g) = &s.gc_pause {
        out.gc = super::gc::gc_pause(c, s, g, &format!("{p}.gc_pause"));
    }
    let any = out.slowdown.is_some() || out.cold_start.is_some() || out.has_cache() || out.gc.is_some();
    any.then(|| Box::new(out))
}

fn slowdown(c: &mut Checker<'_>, s: &RawService, sd: &Spanned<RawSlowdown>, key: &str) -> Option<Slowdown> {
    let r = sd.get_ref();
    let by = c.word(
        &r.by,
        &format!("{key}.by"),
        &[("utilisation", Gauge::Utilisation), ("queue", Gauge::Queue)],
    );
    if by == Some(Gauge::Utilisation) && s.concurrency.is_none() {
        c.err_help(
            &r.by.span(),
            format!("{key}.by"),
            "utilisation is busy slots over concurrency, and this service's concurrency is unlimited",
            "set concurrency = 16 (slots per replica), or use by = \"queue\"".into(),
        );
        return None;
    }
    let mut points = Vec::new();
    for pt in r.curve.get_ref() {
        match pt.get_ref().as_slice() {
            &[x, f] => points.push((x, f)),
            other => {
                c.err_help(
                    &pt.span(),
                    format!("{key}.curve"),
                    format!("a point is [x, factor], found {} numbers", other.len()),
                    "write curve = [[0.5, 1.0], [1.0, 3.0]]: factor 1 up to half busy, 3 when full".into(),
                );
                return None;
            }
        }
    }
    let Some(curve) = Curve::new(points.clone()) else {
        let why = if points.is_empty() {
            "the curve has no point".to_string()
        } else if let Some(&(x, f)) = points
            .iter()
            .find(|&&(x, f)| !(x.is_finite() && x >= 0.0 && f.is_finite() && f > 0.0))
        {
            format!("[{x}, {f}]: x must be 0 or more and the factor above 0")
        } else {
            "the x of its points must strictly increase".to_string()
        };
        c.err_help(
            &r.curve.span(),
            format!("{key}.curve"),
            why,
            "write curve = [[0.5, 1.0], [1.0, 3.0]]: points [x, factor] in increasing x".into(),
        );
        return None;
    };
    Some(Slowdown { by: by?, curve })
}

fn cold_start(c: &mut Checker<'_>, cs: &Spanned<RawColdStart>, key: &str) -> Option<ColdStart> {
    let r = cs.get_ref();
    let factor = *r.factor.get_ref();
    if !(factor.is_finite() && factor >= 1.0) {
        c.err_help(
            &r.factor.span(),
            format!("{key}.factor"),
            format!("a cold replica is slower: the factor must be at least 1, found {factor}"),
            "write factor = 3.0 (three times the service time right after a restart)".into(),
        );
        return None;
    }
    let duration = r.duration.get_ref().0;
    if duration == 0 {
        c.err(
            &r.duration.span(),
            format!("{key}.duration"),
            "must be longer than zero",
        );
        return None;
    }
    let decay = match &r.decay {
        Some(d) => c.word(
            d,
            &format!("{key}.decay"),
            &[("linear", Decay::Linear), ("step", Decay::Step)],
        )?,
        None => Decay::Linear,
    };
    Some(ColdStart {
        factor,
        duration,
        decay,
    })
}

fn cache(c: &mut Checker<'_>, raw: &Spanned<RawCache>, key: &str) -> Option<Cache> {
    let r = raw.get_ref();
    let hit_rate = c.probability(&r.hit_rate, &format!("{key}.hit_rate"))?;
    let warmup = r.warmup.as_ref().map_or(0, |w| w.get_ref().0);
    let fill = match &r.fill {
        Some(f) => c.word(
            f,
            &format!("{key}.fill"),
            &[("linear", Fill::Linear), ("exponential", Fill::Exponential)],
        )?,
        None => Fill::Linear,
    };
    if fill == Fill::Exponential && warmup == 0 {
        c.err_help(
            &raw.span(),
            format!("{key}.warmup"),
            "an exponential fill needs a warm-up (its time constant)",
            "add warmup = \"5m\"".into(),
        );
        return None;
    }
    Some(Cache { hit_rate, warmup, fill })
}

/// Adds the load keys to the schema of a service and of its calls.
pub(super) fn add_schema(s: &mut Value) {
    use super::schema_parts::{duration, table, words};
    let service = &mut s["properties"]["service"]["items"]["properties"];
    service["slowdown"] = table(
        "Load-dependent service time: each service-time draw times a piecewise-linear factor of the replica's utilisation or queue at the job's start.",
        &["by", "curve"],
        json!({
            "by": words("What the curve reads: busy slots over concurrency (utilisation), or requests waiting (queue).", &["utilisation", "queue"]),
            "curve": {
                "type": "array",
                "minItems": 1,
                "description": "Points [x, factor] in increasing x; flat before the first and after the last.",
                "items": { "type": "array", "minItems": 2, "maxItems": 2, "items": { "type": "number", "minimum": 0 } },
            },
        }),
    );
    service["cold_start"] = table(
        "Slower service after a restart: the service time times `factor`, back to 1 over `duration`, from the replica's first job after it is back.",
        &["factor", "duration"],
        json!({
            "factor": { "type": "number", "minimum": 1, "description": "Factor right after the restart." },
            "duration": duration("How long the replica is cold."),
            "decay": words("How the factor returns to 1 (default linear): a straight line, or a step at the end.", &["linear", "step"]),
        }),
    );
    let call = &mut service["call"]["items"]["properties"];
    call["cache"] = table(
        "A cache in front of this dependency, local to each replica of the caller: a share of the calls is answered at once, without a call. Empty after a restart, it refills over `warmup`.",
        &["hit_rate"],
        json!({
            "hit_rate": { "type": "number", "minimum": 0, "maximum": 1, "description": "Share of calls answered by a warm cache." },
            "warmup": duration("How long a restarted cache takes to fill (default 0s: warm at once)."),
            "fill": words("How the hit rate rises after a restart (default linear: to hit_rate at warmup; exponential: warmup is the time constant).", &["linear", "exponential"]),
        }),
    );
    service["gc_pause"] = table(
        "Stop-the-world pauses: each replica, while running, starts a pause at a rate linear in its utilisation (rate idle, busy_rate with every slot busy); during a pause it starts no job and the jobs in service are frozen.",
        &["pause"],
        json!({
            "rate": { "type": "number", "minimum": 0, "maximum": super::gc::MAX_RATE, "description": "Pauses a second of running with no busy slot (default 0)." },
            "busy_rate": { "type": "number", "minimum": 0, "maximum": super::gc::MAX_RATE, "description": "Pauses a second of running with every slot busy (default: rate); needs concurrency when it differs from rate." },
            "pause": super::schema_parts::dist("How long a pause lasts."),
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_curve_interpolates_between_its_points_and_is_flat_outside() {
        let c = Curve::new(vec![(0.5, 1.0), (1.0, 3.0), (2.0, 2.0)]).expect("a valid curve");
        assert_eq!(c.at(0.0), 1.0);
        assert_eq!(c.at(0.5), 1.0);
        assert!((c.at(0.75) - 2.0).abs() < 1e-12);
        assert_eq!(c.at(1.0), 3.0);
        assert!((c.at(1.5) - 2.5).abs() < 1e-12);
        assert_eq!(c.at(2.0), 2.0);
        assert_eq!(c.at(50.0), 2.0);
        let one = Curve::new(vec![(3.0, 4.0)]).expect("one point");
        assert_eq!(one.at(0.0), 4.0);
        assert_eq!(one.at(9.0), 4.0);
    }

    #[test]
    fn a_bad_curve_is_refused() {
        assert!(Curve::new(vec![]).is_none());
        assert!(Curve::new(vec![(1.0, 1.0), (1.0, 2.0)]).is_none(), "x repeats");
        assert!(Curve::new(vec![(1.0, 1.0), (0.5, 2.0)]).is_none(), "x decreases");
        assert!(Curve::new(vec![(-1.0, 1.0)]).is_none());
        assert!(Curve::new(vec![(0.0, 0.0)]).is_none());
        assert!(Curve::new(vec![(0.0, f64::NAN)]).is_none());
    }

    #[test]
    fn a_cold_start_decays_to_one() {
        let lin = ColdStart {
            factor: 3.0,
            duration: 100,
            decay: Decay::Linear,
        };
        assert_eq!(lin.factor_at(0), 3.0);
        assert!((lin.factor_at(50) - 2.0).abs() < 1e-12);
        assert_eq!(lin.factor_at(100), 1.0);
        assert_eq!(lin.factor_at(1000), 1.0);
        let step = ColdStart {
            decay: Decay::Step,
            ..lin
        };
        assert_eq!(step.factor_at(99), 3.0);
        assert_eq!(step.factor_at(100), 1.0);
    }

    #[test]
    fn a_cache_fills_linearly_or_exponentially() {
        let lin = Cache {
            hit_rate: 0.8,
            warmup: 100,
            fill: Fill::Linear,
        };
        assert_eq!(lin.hit_rate_at(None), 0.8);
        assert_eq!(lin.hit_rate_at(Some(0)), 0.0);
        assert!((lin.hit_rate_at(Some(25)) - 0.2).abs() < 1e-12);
        assert_eq!(lin.hit_rate_at(Some(100)), 0.8);
        assert_eq!(lin.hit_rate_at(Some(500)), 0.8);
        let exp = Cache {
            fill: Fill::Exponential,
            ..lin
        };
        assert!((exp.hit_rate_at(Some(100)) - 0.8 * (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        let instant = Cache { warmup: 0, ..lin };
        assert_eq!(instant.hit_rate_at(Some(0)), 0.8);
    }
}
