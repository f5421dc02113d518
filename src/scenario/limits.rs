//! Limits that keep one trial inside memory and time: the `[limits]` table,
//! its defaults, and the size checks made before anything runs.
//!
//! Two kinds of guard, so that no scenario ends in an out-of-memory kill or
//! a run that never returns:
//! - **Sizes, checked at validation**: the total number of
//!   replicas, and an estimate of the events one trial must handle (failure
//!   and repair cycles, request arrivals, fault occurrences and the probes
//!   that measure them) against the event budget. Over
//!   either, the scenario is invalid input (exit 2) and the message says
//!   what to change.
//! - **Budgets, enforced while running**: at most `events_per_trial` events
//!   handled and `in_flight` calls plus jobs alive at once in one trial. A
//!   runaway model that validation cannot foresee (a retry storm into an
//!   unbounded queue, a failure and repair loop of near-zero length) stops
//!   with an error naming the part responsible and the simulated time
//!   ([`crate::model::runaway`]).
//!
//! ```toml
//! [limits]
//! events_per_trial = 500_000_000   # default
//! in_flight = 1_000_000            # default
//! ```

pub mod windowed;

use toml::Spanned;

use super::checker::Checker;
use super::raw::{RawLimits, RawScenario};
use super::{Arrival, Cascade, Fault, FaultSchedule, Region, Service, Workload};
use crate::distribution::Dist;
use crate::engine::Nanos;
use crate::engine::time::to_secs;

/// Default event budget of one trial: about a minute of one core.
pub const DEFAULT_EVENTS_PER_TRIAL: u64 = 500_000_000;
/// Default budget of calls and jobs alive at once (a few hundred MB at most).
pub const DEFAULT_IN_FLIGHT: u64 = 1_000_000;
/// Most replicas a scenario may hold, over all services and regions.
pub const MAX_REPLICAS: u64 = 100_000;
/// Most trials one run may ask for, in the file (`trials`) or on the command
/// line (`--trials`, `--max-trials`).
pub const MAX_TRIALS: u64 = 1_000_000_000;
/// Most worker threads `--threads` may ask for.
pub const MAX_THREADS: usize = 1024;
/// Largest budget accepted for either key.
const MAX_BUDGET: i64 = 1_000_000_000_000;

/// Per-trial budgets of the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Events one trial may handle before it is stopped as a runaway.
    pub events_per_trial: u64,
    /// Calls plus jobs alive at once before a trial is stopped as a runaway.
    pub in_flight: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            events_per_trial: DEFAULT_EVENTS_PER_TRIAL,
            in_flight: DEFAULT_IN_FLIGHT,
        }
    }
}

/// Reads `[limits]`, defaults where the file is silent.
pub(super) fn limits(c: &mut Checker<'_>, raw: Option<&Spanned<RawLimits>>) -> Limits {
    let mut limits = Limits::default();
    let Some(raw) = raw else { return limits };
    let budget = |c: &mut Checker<'_>, v: &Option<Spanned<i64>>, key: &str, default: u64| match v {
        Some(v) if !(1..=MAX_BUDGET).contains(v.get_ref()) => {
            c.err(
                &v.span(),
                format!("limits.{key}"),
                format!("must be between 1 and {MAX_BUDGET}, found {}", v.get_ref()),
            );
            default
        }
        Some(v) => *v.get_ref() as u64,
        None => default,
    };
    let r = raw.get_ref();
    limits.events_per_trial = budget(c, &r.events_per_trial, "events_per_trial", limits.events_per_trial);
    limits.in_flight = budget(c, &r.in_flight, "in_flight", limits.in_flight);
    limits
}

/// The parts of a scenario the size checks look at.
pub struct Sizes<'a> {
    /// Simulated time per trial.
    pub horizon: Nanos,
    /// Regions.
    pub regions: &'a [Region],
    /// Services.
    pub services: &'a [Service],
    /// Workloads.
    pub workloads: &'a [Workload],
    /// Injected faults.
    pub faults: &'a [Fault],
    /// How fault impact is measured (the probe's bucket).
    pub cascade: Cascade,
    /// Budgets.
    pub limits: Limits,
    /// Entry requests one trial simulates when windowed request sampling
    /// will run ([`windowed::requests_per_trial`]), counted
    /// in place of the workloads' arrivals (shared by rate); `None` when
    /// every request is simulated.
    pub windowed: Option<f64>,
}

/// Expected events of one failure process over `horizon`: a failure and a
/// repair per cycle.
fn cycles(horizon: Nanos, failure: Option<&Dist>, repair: Option<&Dist>) -> f64 {
    match (failure, repair) {
        (Some(f), Some(r)) => 2.0 * to_secs(horizon) / (f.mean_secs() + r.mean_secs()).max(1e-9),
        _ => 0.0,
    }
}

/// The part of a scenario an estimate is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A region's outages, by index.
    Region(usize),
    /// A service's replica failures, by index.
    Service(usize),
    /// A workload's arrivals, by index.
    Workload(usize),
    /// A fault's starts and ends, by index.
    Fault(usize),
    /// The probe that measures fault impact every `cascade.bucket`.
    Probe,
}

/// Expected occurrences of `fault` within `horizon`. A process starts again
/// `every` after each end, so one cycle lasts `every` plus the occurrence,
/// which the model makes at least 1 ns long.
fn occurrences(horizon: Nanos, fault: &Fault) -> f64 {
    match &fault.schedule {
        FaultSchedule::Once(at) => f64::from(u8::from(*at < horizon)),
        FaultSchedule::Process { every, .. } => {
            let cycle = every.mean_secs() + fault.duration.mean_secs().max(1e-9);
            1.0 + to_secs(horizon) / cycle
        }
    }
}

/// Expected events of one trial, per part: every failure and repair cycle
/// of every region and replica, every arrival a workload draws, every
/// start and end of a fault and, with traffic, the probe that runs every
/// `cascade.bucket` while an occurrence is open (its length plus
/// `cascade.settle` at least, never more often than once a bucket over the
/// whole horizon). Poisson
/// arrivals with a diurnal swing or bursts are drawn by thinning at the
/// peak rate over the whole horizon, so that is what they cost, whatever
/// the mean rate.
pub fn estimate(s: &Sizes<'_>) -> Vec<(f64, Part)> {
    let mut parts = Vec::new();
    for (i, r) in s.regions.iter().enumerate() {
        parts.push((
            cycles(s.horizon, r.failure.as_ref(), r.repair.as_ref()),
            Part::Region(i),
        ));
    }
    for (i, svc) in s.services.iter().enumerate() {
        let n = cycles(s.horizon, svc.failure.as_ref(), svc.repair.as_ref()) * copies(svc) as f64;
        parts.push((n, Part::Service(i)));
    }
    let rate: f64 = s.workloads.iter().map(|w| w.rate).sum();
    for (i, w) in s.workloads.iter().enumerate() {
        let shaped = w.diurnal.is_some() || !w.bursts.is_empty();
        let n = if let Some(total) = s.windowed {
            total * w.rate / rate.max(1e-300)
        } else if w.arrival == Arrival::Poisson && shaped {
            let peak = w.rate
                * w.diurnal.map_or(1.0, |d| 1.0 + d.amplitude)
                * w.bursts.iter().map(|b| b.factor).fold(1.0, f64::max);
            peak * to_secs(s.horizon)
        } else {
            let burst: f64 = w
                .bursts
                .iter()
                .map(|b| (b.factor - 1.0).max(0.0) * to_secs(b.duration.min(s.horizon)))
                .sum();
            w.rate * (to_secs(s.horizon) + burst)
        };
        parts.push((n, Part::Workload(i)));
    }
    let bucket = to_secs(s.cascade.bucket.max(1));
    let mut probes = 0.0;
    for (i, f) in s.faults.iter().enumerate() {
        let n = occurrences(s.horizon, f);
        parts.push((2.0 * n, Part::Fault(i)));
        let open = (f.duration.mean_secs() + to_secs(s.cascade.settle)) / bucket + 1.0;
        probes += n * open;
    }
    if !s.workloads.is_empty() && !s.faults.is_empty() {
        parts.push((probes.min(to_secs(s.horizon) / bucket + 1.0), Part::Probe));
    }
    parts
}

/// [`estimate`] summed, for a validated scenario.
pub fn events_per_trial(sc: &super::Scenario) -> f64 {
    let sizes = Sizes {
        horizon: sc.horizon,
        regions: &sc.regions,
        services: &sc.services,
        workloads: &sc.workloads,
        faults: &sc.faults,
        cascade: sc.cascade,
        limits: sc.limits,
        windowed: None,
    };
    estimate(&sizes).iter().map(|p| p.0).sum()
}

/// [`check`] of a validated scenario, counting a windowed run's requests in
/// place of every arrival when `windowed` sampling will run.
pub(super) fn check_scenario(c: &mut Checker<'_>, raw: &RawScenario, sc: &super::Scenario, windowed: bool) {
    let mut sizes = Sizes {
        horizon: sc.horizon,
        regions: &sc.regions,
        services: &sc.services,
        workloads: &sc.workloads,
        faults: &sc.faults,
        cascade: sc.cascade,
        limits: sc.limits,
        windowed: None,
    };
    if windowed {
        sizes.windowed = Some(windowed::requests_per_trial(sc));
    }
    check(c, raw, &sizes);
}

/// Replicas of `svc` over all its regions.
fn copies(svc: &Service) -> u64 {
    u64::from(svc.replicas) * svc.regions.len().max(1) as u64
}

/// Checks the replica total and the estimated events per trial; each
/// problem points at the part that contributes most.
pub(super) fn check(c: &mut Checker<'_>, raw: &RawScenario, s: &Sizes<'_>) {
    let total: u64 = s.services.iter().map(copies).sum();
    if total > MAX_REPLICAS
        && let Some((i, svc)) = s.services.iter().enumerate().max_by_key(|(_, svc)| copies(svc))
    {
        let span = raw.service[i]
            .get_ref()
            .replicas
            .as_ref()
            .map_or_else(|| raw.service[i].get_ref().name.span(), Spanned::span);
        c.err_help(
            &span,
            format!("service.{}.replicas", svc.name),
            format!(
                "the scenario holds {total} replicas in all (replicas x regions, over every service), more than the {MAX_REPLICAS} one trial may hold"
            ),
            "model a large fleet as fewer, larger replicas (raise concurrency), or split it into several scenarios".into(),
        );
        return;
    }
    let parts = estimate(s);
    let total: f64 = parts.iter().map(|p| p.0).sum();
    let budget = s.limits.events_per_trial;
    if total <= budget as f64 {
        return;
    }
    let Some(&(n, part)) = parts.iter().max_by(|a, b| a.0.total_cmp(&b.0)) else {
        return;
    };
    let less_often = "make this part less frequent";
    let (key, span, what, change) = match part {
        Part::Region(i) => {
            let r = raw.region[i].get_ref();
            let span = r.failure.as_ref().map_or_else(|| r.name.span(), Spanned::span);
            (
                format!("region.{}.failure", s.regions[i].name),
                span,
                "failures and repairs",
                less_often,
            )
        }
        Part::Service(i) => {
            let r = raw.service[i].get_ref();
            let span = r.failure.as_ref().map_or_else(|| r.name.span(), Spanned::span);
            (
                format!("service.{}.failure", s.services[i].name),
                span,
                "failures and repairs",
                less_often,
            )
        }
        Part::Workload(i) => (
            format!("workload.{}.rate", s.workloads[i].name),
            raw.workload[i].get_ref().rate.span(),
            "arrivals drawn (at the peak rate, with diurnal swing and bursts)",
            less_often,
        ),
        Part::Fault(i) => {
            let r = raw.fault[i].get_ref();
            let name = r
                .name
                .as_ref()
                .map_or_else(|| format!("fault[{i}]"), |n| format!("fault.{}", n.get_ref()));
            let span = r.every.as_ref().map_or_else(|| r.target.span(), Spanned::span);
            (
                format!("{name}.every"),
                span,
                "fault starts and ends",
                "give this fault process a longer `every` mean (the time from one end to the next start)",
            )
        }
        Part::Probe => (
            "cascade.bucket".to_string(),
            raw.cascade
                .as_ref()
                .and_then(|c| c.get_ref().bucket.as_ref().map(Spanned::span))
                .or_else(|| raw.fault.first().map(Spanned::span))
                .unwrap_or(0..0),
            "probes measuring fault impact once a bucket",
            "make cascade.bucket longer or the faults rarer and shorter",
        ),
    };
    c.err_help(
        &span,
        key,
        format!(
            "one trial would handle about {total:.3e} events ({n:.3e} of them {what} here), more than limits.events_per_trial = {budget}"
        ),
        format!(
            "{change}, shorten horizon (now {}), or raise the budget with [limits] events_per_trial = N or --set limits.events_per_trial=N",
            crate::format::human_duration(to_secs(s.horizon))
        ),
    );
}
