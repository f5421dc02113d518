//! Regenerative simulation with balanced failure biasing: the rare-event
//! estimator of the entry's long-run unavailability for all-exponential
//! models (every failure and repair exponential, every switch-over and
//! global failover instant), where it has bounded relative error
//! (Shahabuddin, "Importance sampling for the simulation of highly reliable
//! Markovian systems", Management Science 40, 1994).
//!
//! # Model
//! With exponential clocks and instant reactions the failure-only model is
//! a continuous-time Markov chain on its discrete state (which regions and
//! replicas are up, which replica is active, what is routed). A cycle
//! starts in the all-up state the model starts in (the regeneration state)
//! and ends at the next return to exactly that state; cycles are
//! independent and identically distributed, so the long-run unavailability
//! is the ratio `U = E[Y] / E[τ]` of a cycle's expected downtime `Y` (the
//! entry's lost traffic share integrated over the cycle) to its expected
//! length `τ`. The state machinery is the model's own
//! ([`FailureOnly::fire`]): the running clocks are the pending failure and
//! repair events, each with the rate of its law; instant reactions (a
//! promotion, an unroute, a reroute) fire at once, as the queue would.
//!
//! # Sampling
//! Each step picks which running clock fires: in the natural chain with
//! probability `rate / total`; under balanced failure biasing, while the
//! cycle has not yet seen an outage, failures get total probability
//! [`BIAS`] split evenly among the running failure clocks when any repair
//! runs (all of it when none does), and repairs share the rest in
//! proportion to their rates. The cycle's likelihood ratio multiplies
//! `natural / biased` at every step. After the first state with downtime
//! the cycle continues in the natural chain (no more biasing: the repairs
//! that end the outage are not rare). A state's holding time is its
//! expected one, `1 / total` (conditional Monte Carlo: no sampled time).
//! So `Y = Σ L · loss / total` and `τ = Σ L · 1 / total` over the states
//! the cycle visits, `L` the likelihood ratio up to that state: both
//! unbiased for their expectations.
//!
//! # Interval
//! `Û = ΣY / Στ` over `n` cycles; its 95 % interval is the delta-method
//! (regenerative) one, `Û ± t · s / (τ̄ √n)` with `s²` the sample variance
//! of `Y_k − Û τ_k`. Cycles run in stages (a first stage of
//! [`FIRST_STAGE`], then as many as its variance asks for with a margin),
//! each cycle a pure function of `(seed, cycle)`, merged in order, so the
//! result is the same on any thread count.

use rand::RngExt as _;
use rayon::prelude::*;

use crate::engine::Nanos;
use crate::error::{Error, Result};
use crate::model::World;
use crate::model::availability::{Availability, AvailabilityEvent, FailureOnly};
use crate::random::{self, Purpose};
use crate::scenario::Topology;
use crate::stats::interval::{student_t_is_fine, t95};

/// Total probability of a failure at a step where repairs also run,
/// before the cycle's first outage (balanced failure biasing's usual 0.5).
pub const BIAS: f64 = 0.5;
/// Cycles in the first stage.
pub const FIRST_STAGE: u64 = 20_000;
/// Cycles are run and merged in multiples of this.
const BATCH: u64 = 1000;
/// Most stages.
const MAX_STAGES: u32 = 6;
/// Margin on the cycles a stage's variance asks for.
const STAGE_MARGIN: f64 = 1.5;
/// Cycles cap.
pub const MAX_CYCLES: u64 = 20_000_000;
/// Steps one cycle may take.
const STEP_BUDGET: u64 = 10_000_000;

/// Why regenerative simulation cannot run this world; `None` when it can.
pub fn unsupported(world: &World) -> Option<String> {
    if let Some(why) = super::splitting::unsupported(world) {
        return Some(why);
    }
    let processes = world
        .regions
        .iter()
        .filter_map(|r| r.process.as_ref())
        .chain(world.services.iter().filter_map(|s| s.process.as_ref()));
    for (failure, repair) in processes {
        if !failure.is_exponential() || !repair.is_exponential() {
            return Some(
                "it needs a Markov chain, and this scenario has failure or repair times that are not exponential"
                    .into(),
            );
        }
    }
    let delayed_group = world
        .groups
        .iter()
        .any(|g| g.topology == Topology::ActivePassive && g.failover_delay > 0);
    let delayed_service = world.services.iter().any(|s| s.multi_region && s.failover > 0);
    if delayed_group || delayed_service {
        return Some(
            "it needs a Markov chain, and this scenario has switch-over or failover delays (fixed times)".into(),
        );
    }
    None
}

/// Whether a running clock is a failure, and its rate (per second); `None`
/// for an instant reaction.
fn rate(world: &World, event: &AvailabilityEvent) -> Option<(bool, f64)> {
    let per_s = |d: &crate::distribution::Dist| 1.0 / d.mean_secs();
    let service = |s: usize| {
        world.services[s]
            .process
            .as_ref()
            .expect("only failing services have clocks")
    };
    let region = |r: u32| {
        world.regions[r as usize]
            .process
            .as_ref()
            .expect("only failing regions have clocks")
    };
    match *event {
        AvailabilityEvent::ReplicaDown { replica, .. } => {
            Some((true, per_s(&service(world.replicas[replica as usize].service).0)))
        }
        AvailabilityEvent::ReplicaUp(r) => Some((false, per_s(&service(world.replicas[r as usize].service).1))),
        AvailabilityEvent::RegionDown(r) => Some((true, per_s(&region(r).0))),
        AvailabilityEvent::RegionUp(r) => Some((false, per_s(&region(r).1))),
        AvailabilityEvent::Restore { group, .. } => {
            Some((false, per_s(&service(world.groups[group as usize].service).1)))
        }
        _ => None,
    }
}

/// Whether state `a` of the chain is the regeneration state `b` (the
/// clocks aside). Which replica of a serving active-passive group is the
/// active one does not count: its replicas are alike (one law, and the
/// promotion takes the first healthy standby), so with all of them up the
/// future is the same whichever serves, and counting it would make a
/// cycle of a pair wait for the original active to serve again.
fn same_state(world: &World, a: &Availability, b: &Availability) -> bool {
    a.region_up == b.region_up
        && (0..world.regions.len()).all(|r| a.region_natural(r) == b.region_natural(r))
        && a.replicas
            .iter()
            .zip(&b.replicas)
            .all(|(x, y)| x.up == y.up && x.natural == y.natural)
        && a.groups
            .iter()
            .zip(&b.groups)
            .all(|(x, y)| x.ap == y.ap && x.serving == y.serving && x.routed == y.routed)
        && a.services.iter().zip(&b.services).all(|(x, y)| x.current == y.current)
}

/// Streams of cycle `cycle`: a trial index no crude trial uses (the top bit
/// set) and none of splitting's.
fn key(cycle: u64) -> u64 {
    let mut z = cycle.wrapping_mul(0xd6e8_feb8_6659_fd93) ^ 0x5851_f42d_4c95_7f2d;
    z = (z ^ (z >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93);
    z = (z ^ (z >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93);
    (z ^ (z >> 32)) | (1 << 63)
}

/// One cycle's figures.
#[derive(Debug, Clone, Copy, Default)]
struct Cycle {
    /// Weighted downtime (seconds).
    y: f64,
    /// Weighted length (seconds).
    tau: f64,
    /// Steps (transitions) taken.
    steps: u64,
    /// Whether it saw downtime.
    outage: bool,
}

/// A trajectory of the chain with its running clocks.
struct Chain<'w> {
    world: &'w World,
    run: FailureOnly<'w>,
    clocks: Vec<AvailabilityEvent>,
    pending: Vec<AvailabilityEvent>,
    now: Nanos,
}

impl<'w> Chain<'w> {
    fn start(world: &'w World, seed: u64, trial: u64) -> Self {
        let mut me = Self {
            world,
            run: FailureOnly::start(world, seed, trial),
            clocks: Vec::new(),
            pending: Vec::new(),
            now: 0,
        };
        me.settle();
        me
    }

    /// Fires the instant reactions due now, in the queue's order, and
    /// keeps the failure and repair clocks that are still current.
    fn settle(&mut self) {
        loop {
            self.pending.clear();
            self.run.take_pending(&mut self.pending);
            let mut instant = false;
            for i in 0..self.pending.len() {
                let event = self.pending[i];
                if rate(self.world, &event).is_some() {
                    self.clocks.push(event);
                } else {
                    instant = true;
                    self.run.fire(self.now, event);
                }
            }
            if !instant {
                break;
            }
        }
        let a = &self.run.availability;
        self.clocks.retain(|e| a.is_current(e));
    }

    /// Fires clock `i` (one nanosecond later: the model's own times are
    /// not used, only its states).
    fn fire(&mut self, i: usize) {
        let event = self.clocks.swap_remove(i);
        self.now += 1;
        self.run.fire(self.now, event);
        self.settle();
    }
}

/// Cycle `cycle` from the regeneration state `start`.
fn cycle(world: &World, start: &Availability, seed: u64, k: u64, rates: &mut Vec<(bool, f64)>) -> Result<Cycle> {
    let trial = key(k);
    let mut chain = Chain::start(world, seed, trial);
    let mut rng = random::stream(seed, trial, Purpose::Routing, u64::MAX);
    let mut out = Cycle::default();
    let mut weight = 1.0;
    loop {
        rates.clear();
        rates.extend(chain.clocks.iter().map(|e| rate(world, e).expect("clocks have rates")));
        let (mut failures, mut repairs, mut failing) = (0.0, 0.0, 0u32);
        for &(failure, r) in rates.iter() {
            if failure {
                failures += r;
                failing += 1;
            } else {
                repairs += r;
            }
        }
        let total = failures + repairs;
        if total <= 0.0 {
            return Err(Error::Usage(
                "regenerative simulation reached a state nothing can leave; use --estimator crude".into(),
            ));
        }
        let loss = chain.run.availability.entry_loss(world);
        out.y += weight * loss / total;
        out.tau += weight / total;
        out.outage |= loss > 0.0;
        // The biased probability of clock i, given the natural one.
        let biased = |(failure, r): (bool, f64)| {
            if out.outage || failing == 0 {
                r / total
            } else if repairs == 0.0 {
                if failure { 1.0 / f64::from(failing) } else { 0.0 }
            } else if failure {
                BIAS / f64::from(failing)
            } else {
                (1.0 - BIAS) * r / repairs
            }
        };
        let u: f64 = rng.random();
        let mut acc = 0.0;
        let mut chosen = rates.len() - 1;
        for (i, &x) in rates.iter().enumerate() {
            acc += biased(x);
            if u < acc {
                chosen = i;
                break;
            }
        }
        let x = rates[chosen];
        weight *= (x.1 / total) / biased(x);
        chain.fire(chosen);
        out.steps += 1;
        if same_state(world, &chain.run.availability, start) {
            return Ok(out);
        }
        if out.steps > STEP_BUDGET {
            return Err(Error::Usage(format!(
                "a regenerative cycle took more than {STEP_BUDGET} steps without returning to all-up; use \
                 --estimator splitting or crude"
            )));
        }
        if super::stop_requested() {
            return Err(Error::Interrupted {
                trials: 0,
                what: "regenerative simulation stopped".into(),
            });
        }
    }
}

/// The estimate of the long-run unavailability.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// `ΣY / Στ` over the cycles.
    pub unavailability: f64,
    /// 95 % interval on it.
    pub ci95: [f64; 2],
    /// Its half-width over the estimate.
    pub relative_error: f64,
    /// Cycles run.
    pub cycles: u64,
    /// Cycles that reached an outage.
    pub outage_cycles: u64,
    /// Transitions over all cycles.
    pub steps: u64,
    /// Mean cycle length (seconds), `τ̄`.
    pub mean_cycle_s: f64,
    /// Ctrl-C stopped it before the goal.
    pub partial: bool,
}

/// The ratio estimate, its delta-method half-width over `cycles`, and the
/// sample skewness of the residuals `Y_k − Û τ_k` whose mean it rests on.
fn ratio(cycles: &[Cycle]) -> (f64, f64, f64) {
    let n = cycles.len() as f64;
    let y: f64 = cycles.iter().map(|c| c.y).sum();
    let tau: f64 = cycles.iter().map(|c| c.tau).sum();
    let u = y / tau;
    let (m2, m3) = cycles.iter().fold((0.0, 0.0), |(m2, m3), c| {
        let z = c.y - u * c.tau;
        (m2 + z * z, m3 + z * z * z)
    });
    let s2 = m2 / (n - 1.0);
    let half = t95(cycles.len() as u64) * (s2 / n).sqrt() / (tau / n);
    let (m2, m3) = (m2 / n, m3 / n);
    let g1 = if m2 > 0.0 { m3 / m2.powf(1.5) } else { 0.0 };
    (u, half, g1)
}

/// Runs cycles in stages until `goal` is met.
///
/// # Errors
/// A cycle that runs away; a thread pool that cannot start.
pub fn estimate(world: &World, seed: u64, threads: Option<usize>, goal: super::splitting::Goal) -> Result<Estimate> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        builder = builder.num_threads(t);
    }
    let pool = builder
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the worker threads: {e}")))?;
    let start = Chain::start(world, seed, key(u64::MAX)).run.availability;
    let mut cycles: Vec<Cycle> = Vec::new();
    let cap = goal.max_replications.max(2);
    let mut stage_end = FIRST_STAGE.min(cap);
    let mut stages = 0;
    let mut stopped = false;
    // The last stage was sized from a finite relative error.
    let mut sized = false;
    loop {
        let done = cycles.len() as u64;
        let outs: Vec<Result<Cycle>> = pool.install(|| {
            (done..stage_end)
                .into_par_iter()
                .map_init(Vec::new, |rates, k| cycle(world, &start, seed, k, rates))
                .collect()
        });
        for out in outs {
            match out {
                Ok(c) => cycles.push(c),
                Err(Error::Interrupted { .. }) => {
                    stopped = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let n = cycles.len() as u64;
        if n < 2 {
            return Err(Error::Interrupted {
                trials: 0,
                what: "regenerative simulation stopped".into(),
            });
        }
        let (u, half, g1) = ratio(&cycles);
        let relative_error = if u > 0.0 { half / u } else { f64::INFINITY };
        stages += 1;
        // The residuals are skewed (most cycles see no outage, the others'
        // likelihood ratios span orders of magnitude), and a symmetric
        // interval on too few of them misses on the optimistic side:
        // Cochran's rule decides when there are enough.
        let fine = student_t_is_fine(n, g1);
        // A stage sized from the first stage's variance is the last: going
        // on only when its own interval looks too wide would add cycles to
        // exactly the runs whose large values widened it (the residuals'
        // mean and variance rise together) and stop the others, and the
        // stopped ones miss on the optimistic side. A further stage runs
        // only when the sized one fell short by more than the margin
        // allows for.
        let sized_enough = sized && relative_error <= goal.relative_error;
        let finished =
            (relative_error <= goal.relative_error && fine) || sized_enough || n >= cap || stages >= MAX_STAGES;
        stopped |= super::stop_requested() && !finished;
        if finished || stopped {
            return Ok(Estimate {
                unavailability: u,
                ci95: [(u - half).max(0.0), (u + half).min(1.0)],
                relative_error,
                cycles: n,
                outage_cycles: cycles.iter().filter(|c| c.outage).count() as u64,
                steps: cycles.iter().map(|c| c.steps).sum(),
                mean_cycle_s: cycles.iter().map(|c| c.tau).sum::<f64>() / n as f64,
                partial: stopped,
            });
        }
        let needed = if relative_error.is_finite() {
            let precise = n as f64 * (relative_error / goal.relative_error).powi(2);
            (precise.max(28.0 + 25.0 * g1 * g1) * STAGE_MARGIN).ceil() as u64
        } else {
            n * 8
        };
        sized = relative_error.is_finite();
        stage_end = needed.max(n + BATCH).div_ceil(BATCH).saturating_mul(BATCH).min(cap);
    }
}
