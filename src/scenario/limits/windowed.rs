//! What one trial of a windowed run is expected to simulate: what the
//! static `[limits]` check counts ([`requests_per_trial`]) in place of
//! every arrival when windowed request sampling will run.
//!
//! **Windows, per trial.** Every change of the configuration the request
//! component reads may open a transient window ([`changes`]): a region's
//! or a replica's failure and repair, a zone's outage and return, a
//! common-cause shock and the repairs of the replicas it fails, each batch
//! of a deploy going out and coming back (a rollback again), each
//! maintenance window's opening and closing, and each burst's start and
//! end. Each costs two warm-ups, the slowest health check's detection and
//! the settling steps at the peak rate ([`Estimate::window_requests`]).
//! The count is an expectation over the horizon, deliberately generous (a
//! shock that hits nothing, or changes close enough to share a window,
//! count in full).
//!
//! **Samples, per distinct configuration.** A stationary sample is drawn
//! once per configuration for the whole run and shared by every trial that
//! meets it, so a trial draws at most one per distinct configuration it
//! meets, however many windows lead back to it. The estimate counts the
//! configurations one trial is expected to meet ([`configurations`], from
//! the model's structure, at most one more than its windows), each sample
//! at its cap ([`SAMPLE_CAP`] requests and two warm-ups), and with a
//! diurnal swing every rate level of the grid. That is the cost of the
//! heaviest trial (the first to meet those configurations); a run of `n`
//! trials meets at most `n` times as many configurations as one, so it
//! costs at most `n` times the estimate.
//!
//! The estimate is a guard, not a prediction: it errs towards letting a
//! run start only where the true cost is below it (windows counted in
//! full, samples at their cap, every diurnal level drawn), and each window
//! and sample step still has its own runtime budget. The arithmetic of the
//! timescales is [`crate::scenario::timescales`]'s, which the windowed
//! sampler reads too, so this module never calls into the model.

use super::{copies, cycles};
use crate::engine::Nanos;
use crate::engine::time::to_secs;
use crate::scenario::sampling::full_requests;
use crate::scenario::timescales::{self, RESOLUTION, SAMPLE_CAP, SAMPLE_EVALUATIONS, SETTLE_STEPS};
use crate::scenario::{Batch, DeploySchedule, FaultSchedule, ReleaseEffect, Scenario, Topology};

/// Expected configuration changes of one trial of `sc` (see the module
/// doc).
pub fn changes(sc: &Scenario) -> f64 {
    let h = sc.horizon;
    let regions: f64 = sc
        .regions
        .iter()
        .map(|r| cycles(h, r.failure.as_ref(), r.repair.as_ref()))
        .sum();
    let services: f64 = sc
        .services
        .iter()
        .map(|s| cycles(h, s.failure.as_ref(), s.repair.as_ref()) * copies(s) as f64)
        .sum();
    let zones: f64 = sc
        .infra
        .zones
        .iter()
        .map(|z| cycles(h, z.failure.as_ref(), z.repair.as_ref()))
        .sum();
    let shocks: f64 = sc
        .infra
        .common_causes
        .iter()
        .map(|c| {
            let hit: f64 = c
                .services
                .iter()
                .map(|&s| copies(&sc.services[s]) as f64 * c.probability)
                .sum();
            to_secs(h) / c.every.mean_secs().max(1e-9) * (1.0 + hit)
        })
        .sum();
    let deploys: f64 = sc
        .deploys
        .iter()
        .map(|d| {
            let n = copies(&sc.services[d.service]).max(1);
            let per = match d.batch {
                Batch::Count(k) => u64::from(k.max(1)),
                Batch::Share(f) => ((f * n as f64).ceil() as u64).max(1),
            };
            let mut batches = n.div_ceil(per);
            if let Some((share, _)) = d.canary {
                let first = ((share * n as f64).ceil() as u64).clamp(1, n);
                batches = 1 + (n - first).div_ceil(per);
            }
            // Each batch goes out together and its replicas come back one
            // by one (each restart its own draw); a bad release is caught
            // (one change), its replicas go out and come back one by one.
            let steps = (batches + n) as f64 + d.bad * (n + 2) as f64;
            rolls(h, &d.schedule) * steps
        })
        .sum();
    let maintenance: f64 = sc
        .maintenance
        .iter()
        .map(|m| {
            let windows = if m.at < h {
                1 + (h - 1 - m.at) / m.every.max(1)
            } else {
                0
            };
            // Its target (a service, a replica, a region) goes out and
            // comes back together.
            2.0 * windows as f64
        })
        .sum();
    regions + services + zones + shocks + deploys + maintenance
}

/// Deploys started within horizon `h`.
fn rolls(h: Nanos, schedule: &DeploySchedule) -> f64 {
    match schedule {
        DeploySchedule::Every { first, every } => {
            let after = to_secs(h) / every.mean_secs().max(1e-9);
            match first {
                Some(f) if *f < h => 1.0 + to_secs(h - f) / every.mean_secs().max(1e-9),
                Some(_) => 0.0,
                None => after,
            }
        }
        DeploySchedule::At(times) => times.iter().filter(|&&t| t < h).count() as f64,
    }
}

/// A burst's start and its end, each a change with its window.
fn burst_edges(sc: &Scenario) -> f64 {
    sc.workloads.iter().map(|w| 2 * w.bursts.len()).sum::<usize>() as f64
}

/// Windows one windowed trial of `sc` opens at most, about: 1.5 for each
/// of its [`changes`] (each may open a window, and an active-passive
/// switch-over a second) and one for each burst's start and end.
pub fn windows_per_trial(sc: &Scenario) -> f64 {
    1.5 * changes(sc) + burst_edges(sc)
}

/// What one windowed trial of a scenario is estimated to simulate
/// ([`estimate`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Windows a trial opens ([`windows_per_trial`]).
    pub windows: f64,
    /// Entry requests one window simulates: its warm-up before the change,
    /// a warm-up after it, the slowest health check's detection and the
    /// settling steps, at the peak rate.
    pub window_requests: f64,
    /// Distinct configurations a trial meets ([`configurations`]), at most
    /// one more than its windows.
    pub configurations: f64,
    /// Stationary samples each configuration draws: 1, or with a diurnal
    /// swing every rate level of the grid ([`RESOLUTION`] + 1).
    pub levels: f64,
    /// Entry requests one stationary sample simulates at most: two
    /// warm-ups and [`SAMPLE_CAP`] requests (or an autoscaler's least
    /// sample, if longer).
    pub sample_requests: f64,
    /// Entry requests the windows over injected faults simulate: each
    /// occurrence's mean length, its recovery and two warm-ups.
    pub fault_requests: f64,
    /// The total: windows, samples and fault windows, at most every
    /// arrival of the horizon.
    pub requests: f64,
}

/// Entry requests one windowed trial of `sc` simulates, about (see
/// [`Estimate`]): what the `[limits]` check counts for a windowed run in
/// place of every arrival.
///
/// Windows cost in every trial. Stationary samples are drawn once per
/// configuration for the whole run and shared by its trials, so a trial
/// draws at most one for each distinct configuration it meets: the
/// estimate counts [`configurations`], the configurations one trial is
/// expected to meet, not one per window. That bounds the heaviest trial
/// (the first to meet them), and, since a run of `n` trials meets at most
/// `n` times as many configurations as one, `n` times the estimate bounds
/// the run.
pub fn estimate(sc: &Scenario) -> Estimate {
    let ts = timescales::of_scenario(sc);
    let secs = |n: Nanos| n as f64 / 1e9;
    let detection = sc
        .services
        .iter()
        .map(|s| s.health_check.interval as f64 * f64::from(s.health_check.unhealthy.max(s.health_check.healthy)))
        .fold(0.0, f64::max)
        / 1e9;
    // A burst's windows and samples run at up to its peak rate.
    let peak: f64 = sc
        .workloads
        .iter()
        .map(|w| w.rate * w.bursts.iter().map(|b| b.factor).fold(1.0, f64::max))
        .sum();
    let windows = windows_per_trial(sc);
    let window_s = 2.0 * secs(ts.warmup) + detection + (SETTLE_STEPS + 1) as f64 * secs(ts.step);
    let window_requests = window_s * peak;
    let configurations = configurations(sc).min(windows + 1.0);
    // Rate levels sit on a grid symmetric around the mean rate: their
    // warm-ups together hold as many requests as the grid's levels at the
    // mean rate.
    let swung = sc.workloads.iter().any(|w| w.diurnal.is_some());
    let levels = if swung { f64::from(RESOLUTION + 1) } else { 1.0 };
    let least = sc
        .services
        .iter()
        .filter_map(|s| s.defence.autoscale.as_ref())
        .map(|a| secs(a.stabilisation) + secs(a.interval) * SAMPLE_EVALUATIONS as f64)
        .fold(0.0, f64::max);
    let sample_requests = SAMPLE_CAP.max(least * peak) + 2.0 * secs(ts.warmup) * peak;
    let fault_requests = fault_window_requests(sc, ts.warmup, peak);
    let requests =
        (windows * window_requests + configurations * levels * sample_requests + fault_requests).min(full_requests(sc));
    Estimate {
        windows,
        window_requests,
        configurations,
        levels,
        sample_requests,
        fault_requests,
        requests,
    }
}

/// [`Estimate::requests`] of `sc`.
pub fn requests_per_trial(sc: &Scenario) -> f64 {
    estimate(sc).requests
}

/// Entry requests the windows over `sc`'s faults simulate in one trial, at
/// most about: each occurrence's length, its recovery (`cascade.settle`)
/// and two warm-ups of `warmup` ns, at `rate` requests per second.
fn fault_window_requests(sc: &Scenario, warmup: Nanos, rate: f64) -> f64 {
    let horizon = sc.horizon as f64 / 1e9;
    sc.faults
        .iter()
        .map(|f| {
            let length = f.duration.mean_secs();
            let occurrences = match &f.schedule {
                FaultSchedule::Once(at) => f64::from(u8::from(*at < sc.horizon)),
                FaultSchedule::Process { every, .. } => 1.0 + horizon / (every.mean_secs() + length).max(1e-9),
            };
            let window = length.min(horizon) + sc.cascade.settle as f64 / 1e9 + 2.0 * warmup as f64 / 1e9;
            occurrences * window * rate
        })
        .sum()
}

/// One independent part of the configuration (a group of replicas, a
/// region, a zone, a burst, ...): per local state, its stationary
/// probability and the rate (per second) at which it is left.
struct Part {
    states: Vec<(f64, f64)>,
}

impl Part {
    /// Up and down, alternating with means `up` and `down` (seconds).
    fn on_off(up: f64, down: f64) -> Self {
        let (up, down) = (up.max(1e-9), down.max(1e-9));
        let p = down / (up + down);
        Self {
            states: vec![(1.0 - p, 1.0 / up), (p, 1.0 / down)],
        }
    }
}

/// Least expected entries per trial of a combination of local states the
/// count follows: rarer ones add less than this each.
pub const NEGLIGIBLE: f64 = 1e-3;

/// Most combinations [`configurations`] weighs before it gives up and
/// counts one configuration per window.
pub const MOST_COMBINATIONS: u64 = 200_000;

/// The configurations one trial of `sc` is expected to meet, each of which
/// may draw a stationary sample: the starting one, plus, for every
/// combination of the parts' local states, the chance that the trial
/// enters it at least once, `1 - exp(-E)` with `E` its expected entries
/// (the horizon times its stationary probability times the rate at which
/// it is left, the parts taken as independent).
///
/// The parts: each group of a service's replicas in a region, by how many
/// of them are down (binomial; a common cause adds its shocks to the
/// failure rate), with an active-passive group's detection and switch-over
/// as two more states entered at each failure; each region and zone, up or
/// down; each burst and each maintenance window, on or off; each deploy's
/// batches out, and with a bad release that errs or slows, every count of
/// replicas on it with every batch out; each autoscaler's replica counts,
/// all taken as met. Injected faults add none: a window holds while one is
/// active, and no sample runs with one. Combinations expected fewer than
/// [`NEGLIGIBLE`] times a trial are not counted; past
/// [`MOST_COMBINATIONS`] the count is abandoned for infinity (the caller
/// caps it by the windows).
pub fn configurations(sc: &Scenario) -> f64 {
    let h = to_secs(sc.horizon).max(1e-9);
    let n_changes = changes(sc) + burst_edges(sc);
    let mut parts: Vec<Part> = Vec::new();
    for (i, s) in sc.services.iter().enumerate() {
        let (Some(f), Some(r)) = (&s.failure, &s.repair) else {
            continue;
        };
        let shocks: f64 = sc
            .infra
            .common_causes
            .iter()
            .filter(|c| c.services.contains(&i))
            .map(|c| c.probability / c.every.mean_secs().max(1e-9))
            .sum();
        let lambda = 1.0 / f.mean_secs().max(1e-9) + shocks;
        let mu = 1.0 / r.mean_secs().max(1e-9);
        // A group with an interval outlier detector is sampled per
        // arrangement (`model::windowed::alike`).
        let arranged = s.defence.outlier.as_ref().is_some_and(|o| o.detectors.any());
        let group = replica_group(
            s.replicas,
            lambda,
            mu,
            s.topology,
            (s.failover.detect, s.failover.switch),
            arranged,
        );
        for _ in 0..s.regions.len().max(1) {
            parts.push(Part {
                states: group.states.clone(),
            });
        }
    }
    for r in &sc.regions {
        if let (Some(f), Some(rep)) = (&r.failure, &r.repair) {
            parts.push(Part::on_off(f.mean_secs(), rep.mean_secs()));
        }
    }
    for z in &sc.infra.zones {
        if let (Some(f), Some(rep)) = (&z.failure, &z.repair) {
            parts.push(Part::on_off(f.mean_secs(), rep.mean_secs()));
        }
    }
    for w in &sc.workloads {
        for b in w.bursts.iter().filter(|b| b.at < sc.horizon) {
            // Once a trial: on for its length, off the rest of the horizon.
            let on = to_secs(b.duration.min(sc.horizon - b.at));
            parts.push(Part::on_off(h - on, on));
        }
    }
    for m in &sc.maintenance {
        let windows = if m.at < sc.horizon {
            1 + (sc.horizon - 1 - m.at) / m.every.max(1)
        } else {
            0
        };
        if windows > 0 {
            let on = to_secs(m.duration) * windows as f64;
            parts.push(Part::on_off((h - on).max(0.0) / windows as f64, on / windows as f64));
        }
    }
    for d in &sc.deploys {
        let n = copies(&sc.services[d.service]).max(1);
        let per = match d.batch {
            Batch::Count(k) => u64::from(k.max(1)),
            Batch::Share(f) => ((f * n as f64).ceil() as u64).max(1),
        }
        .min(n);
        let rolls = rolls(sc.horizon, &d.schedule);
        if rolls <= 0.0 {
            continue;
        }
        // Each step holds about one restart; a roll enters each of its
        // states once (a bad release's, with its chance).
        let step = d.restart.mean_secs().max(1.0);
        let mut states = vec![(1.0, 0.0)];
        let enter = |rate: f64| (rate * step, 1.0 / step);
        states.extend((0..per).map(|_| enter(rolls / h)));
        if d.bad > 0.0 && !matches!(d.effect, ReleaseEffect::Crash) {
            states.extend((0..n * (per + 1)).map(|_| enter(d.bad * rolls / h)));
        }
        let busy: f64 = states[1..].iter().map(|s| s.0).sum();
        states[0] = ((1.0 - busy).max(1e-9), busy / step / (1.0 - busy).max(1e-9));
        parts.push(Part { states });
    }
    for s in &sc.services {
        if let Some(a) = &s.defence.autoscale {
            // Which counts the load wants is not known here: every one is
            // taken as met, at any change.
            let counts = f64::from(a.max.saturating_sub(a.min) + 1);
            let per = 1.0 / counts;
            parts.push(Part {
                states: vec![(per, counts * (1.0 + n_changes) / h); counts as usize],
            });
        }
    }
    Combinations::new(parts, h).count()
}

/// Most arrangements a count of replicas down is split into.
const MOST_ARRANGEMENTS: f64 = 256.0;

/// `n` choose `k`.
fn choose(n: u32, k: u32) -> f64 {
    (0..k.min(n - k)).fold(1.0, |c, i| c * f64::from(n - i) / f64::from(i + 1))
}

/// The states of a group of `n` replicas failing at rate `lambda` and
/// repaired at rate `mu` each (per second), by how many are down (with
/// `arranged`, each count split into its arrangements, which replicas are
/// down, at most [`MOST_ARRANGEMENTS`] of them, alike); an active-passive
/// group also passes through its detection and switch-over (`failover`)
/// after each failure of its active replica.
fn replica_group(n: u32, lambda: f64, mu: f64, topology: Topology, failover: (Nanos, Nanos), arranged: bool) -> Part {
    let (detect, switch) = failover;
    let p = lambda / (lambda + mu);
    let n = n.max(1);
    let mut states = Vec::new();
    // Binomial terms by recurrence, dropping those too small to matter at
    // any horizon.
    let mut pi = (1.0 - p).powf(f64::from(n));
    let mut log_pi = f64::from(n) * (1.0 - p).max(1e-300).ln();
    for k in 0..=n {
        if k > 0 {
            log_pi += (f64::from(n - k + 1) / f64::from(k)).ln() + (p / (1.0 - p).max(1e-300)).max(1e-300).ln();
            pi = log_pi.exp();
        }
        if pi > 1e-15 {
            let ways = if arranged {
                choose(n, k).min(MOST_ARRANGEMENTS)
            } else {
                1.0
            };
            let rate = f64::from(n - k) * lambda + f64::from(k) * mu;
            states.extend(std::iter::repeat_n((pi / ways, rate), ways as usize));
        }
    }
    if topology == Topology::ActivePassive && n > 1 {
        for d in [detect, switch] {
            let d = d as f64 / 1e9;
            if d > 0.0 {
                states.push((lambda * d, 1.0 / d));
            }
        }
    }
    Part { states }
}

/// The combinations of independent parts' local states, weighed by their
/// expected entries over one horizon.
struct Combinations {
    /// Per part: the most probable state's probability and exit rate, and
    /// the others' probability relative to it and extra exit rate, most
    /// probable first.
    nominal: Vec<(f64, f64)>,
    others: Vec<Vec<(f64, f64)>>,
    /// Per part: the largest extra exit rate of it and every later part.
    rest: Vec<f64>,
    horizon: f64,
    weighed: u64,
    sum: f64,
}

impl Combinations {
    fn new(parts: Vec<Part>, horizon: f64) -> Self {
        let mut nominal = Vec::new();
        let mut others = Vec::new();
        for part in parts {
            let Some(top) = (0..part.states.len()).max_by(|&a, &b| part.states[a].0.total_cmp(&part.states[b].0))
            else {
                continue;
            };
            let (p0, q0) = part.states[top];
            let mut rest: Vec<(f64, f64)> = part
                .states
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != top)
                .map(|(_, &(p, q))| (p / p0.max(1e-300), q - q0))
                .collect();
            rest.sort_by(|a, b| b.0.total_cmp(&a.0));
            nominal.push((p0, q0));
            others.push(rest);
        }
        let mut rest = vec![0.0; others.len() + 1];
        for i in (0..others.len()).rev() {
            let most = others[i].iter().map(|s| s.1).fold(0.0, f64::max);
            rest[i] = rest[i + 1] + most;
        }
        Self {
            nominal,
            others,
            rest,
            horizon,
            weighed: 0,
            sum: 0.0,
        }
    }

    /// The expected configurations met: the start and every combination's
    /// chance of being entered; infinite past [`MOST_COMBINATIONS`].
    fn count(mut self) -> f64 {
        let p: f64 = self.nominal.iter().map(|n| n.0).product();
        let q: f64 = self.nominal.iter().map(|n| n.1).sum();
        if self.visit(0, p, q) {
            1.0 + self.sum
        } else {
            f64::INFINITY
        }
    }

    /// Weighs every combination that adds states of parts `from..` to one
    /// of probability `p` left at rate `q`; false once too many were.
    fn visit(&mut self, from: usize, p: f64, q: f64) -> bool {
        for i in from..self.others.len() {
            for k in 0..self.others[i].len() {
                let (r, dq) = self.others[i][k];
                // States are in falling probability: no later one, nor
                // anything built on it, is entered often enough.
                if self.horizon * p * r * (q + self.rest[i]) < NEGLIGIBLE {
                    break;
                }
                self.weighed += 1;
                if self.weighed > MOST_COMBINATIONS {
                    return false;
                }
                let (p1, q1) = (p * r, (q + dq).max(0.0));
                self.sum += -(-self.horizon * p1 * q1).exp_m1();
                if self.horizon * p1 * (q1 + self.rest[i + 1]) >= NEGLIGIBLE && !self.visit(i + 1, p1, q1) {
                    return false;
                }
            }
        }
        true
    }
}
