//! What to improve first: the gain of fixed improvements, measured on
//! common random numbers, and the classic importance measures.
//!
//! This module owns the list of improvements ([`Kind`]), which components
//! each applies to ([`candidates`]), how a variant of the scenario is built
//! ([`Candidate::apply`]) and how a variant's trials are compared with the
//! baseline's ([`paired`]). [`importance`] holds the closed-form Birnbaum,
//! criticality and diagnostic importance of the time-based model.
//!
//! Invariants:
//!
//! - A variant differs from the baseline in one component's parameter and
//!   nothing else, and is run with the baseline's seed and trial count. The
//!   random streams are keyed by component ([`crate::random`]), and a
//!   scaled distribution draws the same random numbers as the original
//!   ([`crate::distribution::Dist::scaled`]), so trial `i` of a variant
//!   sees the baseline's trial `i` with that one parameter changed: the
//!   paired difference per trial carries only the change's effect, and its
//!   interval is narrower than that of two independent runs (the ratio is
//!   reported as `variance_reduction`).
//! - Candidates come in a fixed order (services in file order, then
//!   regions, then the global failover, then call edges; within a
//!   component, the kinds in [`Kind::ALL`] order) and the ranking is a
//!   stable sort on the mean difference, so the output does not depend on
//!   the thread count.
//! - Gains are judged on the scenario's objective: the entry's time-based
//!   availability per trial, or, with `objective = "requests"`, the share of
//!   requests served per trial (as `compare` does).

pub mod importance;

use serde::Serialize;

use crate::engine::Nanos;
use crate::model::World;
use crate::model::world::closure;
use crate::resilience::circuit_breaker::CircuitBreaker;
use crate::resilience::retry::RetryPolicy;
use crate::scenario::{ClientPolicy, Objective, Scenario, Topology};
use crate::stats::Welford;
use crate::stats::interval::{mean_ci95, t95};

/// A fixed improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Halve the mean repair time (the whole repair distribution scaled by
    /// 1/2) of a service's replicas or of a region.
    Mttr,
    /// Double the mean time between failures (the failure distribution
    /// scaled by 2) of a service's replicas or of a region.
    Mtbf,
    /// One more replica of an active-active or active-passive service (in
    /// each of its regions).
    Replicas,
    /// Halve an active-passive service's detection and switch times, or
    /// the global failover time between regions.
    Failover,
    /// One more attempt on a call edge's retry policy (request objective).
    Retry,
    /// Halve a call edge's circuit breaker `open_for` (request objective).
    Breaker,
}

impl Kind {
    /// Every kind, in the order candidates list them.
    pub const ALL: [Kind; 6] = [
        Kind::Mttr,
        Kind::Mtbf,
        Kind::Replicas,
        Kind::Failover,
        Kind::Retry,
        Kind::Breaker,
    ];

    /// The word on the command line (`--kinds mttr,replicas`).
    pub fn word(self) -> &'static str {
        match self {
            Kind::Mttr => "mttr",
            Kind::Mtbf => "mtbf",
            Kind::Replicas => "replicas",
            Kind::Failover => "failover",
            Kind::Retry => "retry",
            Kind::Breaker => "breaker",
        }
    }

    /// The kind named `word`.
    pub fn parse(word: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.word() == word)
    }
}

/// What a candidate changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Service(usize),
    Region(usize),
    Global,
    /// A workload's edge.
    Workload(usize),
    /// Call `c` of service `s`.
    Call(usize, usize),
}

/// One improvement of one component.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// What is improved.
    pub kind: Kind,
    /// The component's kind: `service`, `region`, `global` or `edge`.
    pub component_kind: &'static str,
    /// The component's name (`api`, `eu`, `global`, `users->api`).
    pub component: String,
    /// The change in words, old value to new (`repair mean 30m → 15m`).
    pub change: String,
    target: Target,
}

fn secs(d: &crate::distribution::Dist) -> String {
    crate::format::human_duration(d.mean_secs())
}

fn ns(t: Nanos) -> String {
    crate::format::human_duration(crate::engine::time::to_secs(t))
}

/// Every improvement the scenario admits, in a fixed order (see the
/// module docs). A component that cannot change the objective gets none:
/// under the time objective, only what the entry requires (and the regions
/// those services run in); a service that never fails has no MTTR, MTBF or
/// (time objective) replica candidate; a single-topology service gets no
/// replica (it would need another topology); retry and breaker candidates
/// only under the request objective.
pub fn candidates(sc: &Scenario) -> Vec<Candidate> {
    let world = World::compile(sc);
    let requests = sc.objective == Objective::Requests;
    let needs = if requests {
        vec![true; sc.services.len()]
    } else {
        closure(&world.services, sc.entry)
    };
    let mut out = Vec::new();
    let mut push = |kind, component_kind, component: &str, change: String, target| {
        out.push(Candidate {
            kind,
            component_kind,
            component: component.to_string(),
            change,
            target,
        });
    };
    for (s, svc) in sc.services.iter().enumerate().filter(|(s, _)| needs[*s]) {
        if let (Some(f), Some(r)) = (&svc.failure, &svc.repair) {
            push(
                Kind::Mttr,
                "service",
                &svc.name,
                format!("repair mean {} → {}", secs(r), secs(&r.scaled(0.5))),
                Target::Service(s),
            );
            push(
                Kind::Mtbf,
                "service",
                &svc.name,
                format!("failure mean {} → {}", secs(f), secs(&f.scaled(2.0))),
                Target::Service(s),
            );
        }
        if svc.topology != Topology::Single && (svc.failure.is_some() || requests) {
            push(
                Kind::Replicas,
                "service",
                &svc.name,
                format!("replicas {} → {}", svc.replicas, svc.replicas + 1),
                Target::Service(s),
            );
        }
        let delay = svc.failover.detect + svc.failover.switch;
        if svc.topology == Topology::ActivePassive && svc.replicas > 1 && svc.failure.is_some() && delay > 0 {
            push(
                Kind::Failover,
                "service",
                &svc.name,
                format!("failover detect + switch {} → {}", ns(delay), ns(delay / 2)),
                Target::Service(s),
            );
        }
    }
    let used: Vec<bool> = (0..sc.regions.len())
        .map(|r| {
            sc.services
                .iter()
                .enumerate()
                .any(|(s, svc)| needs[s] && svc.regions.contains(&r))
        })
        .collect();
    for (r, region) in sc.regions.iter().enumerate().filter(|(r, _)| used[*r]) {
        if let (Some(f), Some(rep)) = (&region.failure, &region.repair) {
            push(
                Kind::Mttr,
                "region",
                &region.name,
                format!("outage mean {} → {}", secs(rep), secs(&rep.scaled(0.5))),
                Target::Region(r),
            );
            push(
                Kind::Mtbf,
                "region",
                &region.name,
                format!("failure mean {} → {}", secs(f), secs(&f.scaled(2.0))),
                Target::Region(r),
            );
        }
    }
    let spans = sc
        .services
        .iter()
        .enumerate()
        .any(|(s, svc)| needs[s] && svc.regions.len() > 1);
    let regions_fail = sc.regions.iter().any(|r| r.failure.is_some());
    let services_fail = sc.services.iter().any(|s| s.failure.is_some());
    if spans && sc.global.failover > 0 && (regions_fail || services_fail) {
        push(
            Kind::Failover,
            "global",
            "global",
            format!(
                "global failover {} → {}",
                ns(sc.global.failover),
                ns(sc.global.failover / 2)
            ),
            Target::Global,
        );
    }
    if requests {
        let mut edge = |name: String, p: &ClientPolicy, target: Target| {
            if let Some(r) = &p.retry {
                push(
                    Kind::Retry,
                    "edge",
                    &name,
                    format!("retry max_attempts {} → {}", r.max_attempts, r.max_attempts + 1),
                    target,
                );
            }
            if let Some(b) = &p.breaker {
                push(
                    Kind::Breaker,
                    "edge",
                    &name,
                    format!("breaker open_for {} → {}", ns(b.open_for), ns(b.open_for / 2)),
                    target,
                );
            }
        };
        for (w, wl) in sc.workloads.iter().enumerate().filter(|(_, w)| w.workflow.is_none()) {
            edge(
                format!("{}->{}", wl.name, sc.services[wl.to].name),
                &wl.policy,
                Target::Workload(w),
            );
        }
        for (s, svc) in sc.services.iter().enumerate() {
            for (c, call) in svc.calls.iter().enumerate() {
                edge(
                    format!("{}->{}", svc.name, sc.services[call.to].name),
                    &call.policy,
                    Target::Call(s, c),
                );
            }
        }
    }
    out
}

fn improve_policy(p: &mut ClientPolicy, kind: Kind) {
    match kind {
        Kind::Retry => {
            if let Some(mut cfg) = p.retry.clone() {
                cfg.max_attempts += 1;
                if let Ok(policy) = RetryPolicy::new(cfg.clone()) {
                    p.retry = Some(cfg);
                    p.objects.retry = Some(policy);
                }
            }
        }
        Kind::Breaker => {
            if let Some(mut cfg) = p.breaker.clone() {
                cfg.open_for = (cfg.open_for / 2).max(1);
                if let Ok(breaker) = CircuitBreaker::new(cfg.clone()) {
                    p.breaker = Some(cfg);
                    p.objects.breaker = Some(breaker);
                }
            }
        }
        _ => {}
    }
}

impl Candidate {
    /// The scenario with this one improvement made.
    pub fn apply(&self, sc: &Scenario) -> Scenario {
        let mut v = sc.clone();
        match (self.target, self.kind) {
            (Target::Service(s), kind) => {
                let svc = &mut v.services[s];
                match kind {
                    Kind::Mttr => svc.repair = svc.repair.as_ref().map(|d| d.scaled(0.5)),
                    Kind::Mtbf => svc.failure = svc.failure.as_ref().map(|d| d.scaled(2.0)),
                    Kind::Replicas => svc.replicas += 1,
                    Kind::Failover => {
                        svc.failover.detect /= 2;
                        svc.failover.switch /= 2;
                    }
                    Kind::Retry | Kind::Breaker => {}
                }
            }
            (Target::Region(r), kind) => {
                let region = &mut v.regions[r];
                match kind {
                    Kind::Mttr => region.repair = region.repair.as_ref().map(|d| d.scaled(0.5)),
                    Kind::Mtbf => region.failure = region.failure.as_ref().map(|d| d.scaled(2.0)),
                    _ => {}
                }
            }
            (Target::Global, _) => v.global.failover /= 2,
            (Target::Workload(w), kind) => improve_policy(&mut v.workloads[w].policy, kind),
            (Target::Call(s, c), kind) => improve_policy(&mut v.services[s].calls[c].policy, kind),
        }
        v
    }
}

/// Why a selection of candidates is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    /// `--only` names no component of the scenario.
    UnknownComponent {
        /// The name given.
        name: String,
        /// The components that have candidates.
        known: Vec<String>,
    },
    /// `--kinds` names no kind.
    UnknownKind(String),
    /// Nothing is left to improve.
    Nothing(String),
}

impl std::fmt::Display for SelectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectError::UnknownComponent { name, known } => write!(
                f,
                "--only: \"{name}\" is not a component with something to improve (these have: {})",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ),
            SelectError::UnknownKind(k) => write!(
                f,
                "--kinds: \"{k}\" is not an improvement (valid: {})",
                Kind::ALL.map(Kind::word).join(", ")
            ),
            SelectError::Nothing(why) => write!(f, "nothing to improve: {why}"),
        }
    }
}

/// The candidates of `sc` on the components in `only` (every one when
/// empty) and of the kinds in `kinds` (every one when empty).
///
/// # Errors
/// A name in `only` that has no candidate, a word in `kinds` that is no
/// [`Kind`], or an empty selection.
pub fn select(sc: &Scenario, only: &[String], kinds: &[String]) -> Result<Vec<Candidate>, SelectError> {
    let all = candidates(sc);
    let mut known: Vec<String> = Vec::new();
    for c in &all {
        if !known.contains(&c.component) {
            known.push(c.component.clone());
        }
    }
    let mut wanted_kinds = Vec::new();
    for k in kinds {
        wanted_kinds.push(Kind::parse(k).ok_or_else(|| SelectError::UnknownKind(k.clone()))?);
    }
    for name in only {
        if !known.contains(name) {
            return Err(SelectError::UnknownComponent {
                name: name.clone(),
                known,
            });
        }
    }
    if all.is_empty() {
        return Err(SelectError::Nothing(
            "nothing the entry depends on fails, and there is no request objective with replicas, retries or breakers to change"
                .into(),
        ));
    }
    let chosen: Vec<Candidate> = all
        .into_iter()
        .filter(|c| only.is_empty() || only.contains(&c.component))
        .filter(|c| wanted_kinds.is_empty() || wanted_kinds.contains(&c.kind))
        .collect();
    if chosen.is_empty() {
        return Err(SelectError::Nothing(format!(
            "no improvement of kind {} applies to {}",
            kinds.join(", "),
            if only.is_empty() {
                "any component".into()
            } else {
                only.join(", ")
            }
        )));
    }
    Ok(chosen)
}

/// A difference paired by trial: variant minus baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Paired {
    /// Mean difference of the objective (an availability, 0 to 1).
    pub mean: f64,
    /// Its 95 % Student-t interval, from the per-trial differences.
    pub ci95: [f64; 2],
    /// True when the interval excludes zero.
    pub significant: bool,
    /// Width of the 95 % interval two independent runs of the same
    /// trial count would have given (Welch, from the two variances).
    pub unpaired_ci95_width: f64,
    /// `(unpaired width / paired width)²`: how many times more trials two
    /// independent runs would need for the paired interval's width; `None`
    /// when the paired width is zero (every trial moved by the same amount).
    pub variance_reduction: Option<f64>,
    /// Nines gained: `log10(U_base / U_variant)` with `U = 1 - mean`;
    /// `None` when either run saw no loss.
    pub nines_gain: Option<f64>,
    /// Its 95 % interval by the delta method on the paired unavailabilities
    /// (the covariance between the runs included).
    pub nines_gain_ci95: Option<[f64; 2]>,
}

/// The paired comparison of a variant's per-trial objective `variant` with
/// the baseline's `base` (the same trials, in order).
///
/// Returns `None` when the lengths differ or there are no trials.
pub fn paired(base: &[f64], variant: &[f64]) -> Option<Paired> {
    if base.len() != variant.len() || base.is_empty() {
        return None;
    }
    let (mut d, mut b, mut v) = (Welford::default(), Welford::default(), Welford::default());
    let mut cross = 0.0;
    let (mb, mv) = (mean(base), mean(variant));
    for (x, y) in base.iter().zip(variant) {
        d.push(y - x);
        b.push(*x);
        v.push(*y);
        cross += (x - mb) * (y - mv);
    }
    let n = base.len() as f64;
    let ci95 = mean_ci95(&d, -1.0, 1.0);
    let t = t95(d.count());
    let paired_width = 2.0 * t * d.std_error();
    let unpaired_width = 2.0 * t * ((b.variance() + v.variance()) / n).sqrt();
    let variance_reduction = (paired_width > 0.0).then(|| (unpaired_width / paired_width).powi(2));
    let (ub, uv) = (1.0 - mb, 1.0 - mv);
    let (nines_gain, nines_gain_ci95) = if ub > 0.0 && uv > 0.0 {
        let g = (ub / uv).log10();
        let cov = if n > 1.0 { cross / (n - 1.0) } else { 0.0 };
        // Var(log Ub - log Uv) ≈ Var(Ub)/Ub² + Var(Uv)/Uv² - 2 Cov/(Ub Uv),
        // each over n; the unavailabilities share the availabilities' spread.
        let var = (b.variance() / (ub * ub) + v.variance() / (uv * uv) - 2.0 * cov / (ub * uv)) / n;
        let half = t * var.max(0.0).sqrt() / std::f64::consts::LN_10;
        (Some(g), Some([g - half, g + half]))
    } else {
        (None, None)
    };
    Some(Paired {
        mean: d.mean(),
        ci95,
        significant: ci95[0] > 0.0 || ci95[1] < 0.0,
        unpaired_ci95_width: unpaired_width,
        variance_reduction,
        nines_gain,
        nines_gain_ci95,
    })
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_removes_the_shared_noise() {
        // The variant is the baseline plus a small constant: the paired
        // interval is a point, the unpaired one is as wide as the noise.
        let base: Vec<f64> = (0..100).map(|i| 0.99 + 0.0001 * f64::from(i % 7)).collect();
        let variant: Vec<f64> = base.iter().map(|x| x + 0.001).collect();
        let p = paired(&base, &variant).unwrap();
        assert!((p.mean - 0.001).abs() < 1e-12);
        assert!(p.significant);
        assert!(p.unpaired_ci95_width > 1e-5);
        assert!(p.variance_reduction.is_none_or(|r| r > 1e6));
        let g = p.nines_gain.unwrap();
        let ub = 1.0 - mean(&base);
        assert!((g - (ub / (ub - 0.001)).log10()).abs() < 1e-9);
        assert!(paired(&base, &variant[1..]).is_none());
    }

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.word()), Some(k));
        }
        assert_eq!(Kind::parse("speed"), None);
    }
}
