//! Workloads with a diurnal swing under windowed sampling: stationary
//! segments are estimated from *rate levels*, each a stationary sample of
//! the configuration at one flat rate, with the failed share interpolated
//! between levels and integrated against the true rate over time.
//!
//! **Levels.** Every diurnal workload of the model swings with one phase
//! (one `period` and `peak`; [`crate::scenario::sampling::refusal`] stops
//! any other), so the rate of
//! workload `w` at `t` is `rate_w x (1 + a_w x c(t))` with
//! `c(t) = cos(2 pi (t - peak) / period)` in `[-1, 1]`, and the *level*
//! `c` alone fixes every workload's rate. Levels sit on a grid of
//! [`RESOLUTION`] + 1 points of `c` (the trough at `-1`, the crest at
//! `1`); level `k`'s sample runs every workload flat at its rate at
//! `c_k` ([`flat_world`]) and is keyed by the configuration plus `k`, so it
//! is drawn once per run from streams of the seed, the configuration and
//! the level, and shared like every other sample.
//!
//! **Refinement.** Which levels a configuration uses is a bisection tree
//! on the grid, the same for every trial: a node `[a, b]` draws its ends
//! and its midpoint `m` and compares the midpoint's served share with the
//! chord of its ends, `d = p_m - (p_a + p_b) / 2`. When `|d|` is more than
//! [`REFINE_Z`] standard errors of that difference (the three samples'
//! own), the node splits in two; otherwise (or on the finest grid, nodes
//! two grid steps wide) it is a *leaf*, interpolated linearly on `[a, m]`
//! and `[m, b]`. Each node's decision reads only its three samples, which
//! depend only on the seed, the configuration and the level, so a trial
//! descends lazily (only into the leaves its segments' rates reach) and
//! still meets the tree every other trial does.
//!
//! **Estimate.** A segment `[t0, t1)` of a configuration adds, per level
//! `j`, its sample's counters per entry request times the request mass
//! `M_j = integral of R(c(t)) x phi_j(c(t)) dt`, where `R(c)` is the
//! workloads' total known rate at level `c` (linear in `c`) and `phi_j`
//! is level `j`'s hat function on the leaves' knots: the integral over
//! time of rate times the interpolated share, in closed form on each
//! half-period (where `c` is monotone). The segment is cut at the SLO
//! series' buckets and the timeline's, so both follow the swing.
//!
//! **Bias bound.** The interpolation's remaining error is bounded per
//! leaf by the difference between the leaf's interpolant (through `a`,
//! `m`, `b`) and its chord (through `a`, `b`), which is `|d|` times `m`'s
//! hat: the bound assumes the share is convex or concave inside a leaf and
//! that halving a stratum at least halves its interpolation error (it
//! quarters it where the share is smooth, halves it at a kink such as the
//! onset of overload). Per trial, `sum over leaves of |d| x M_m` over the
//! trial's requests is its bound ([`super::Windowed::interpolation_bias`]);
//! the summary reports the mean and adds it to the half-width of the
//! request shares' intervals, beside the samples' variance.
//!
//! **Windows** run on the real clock: arrivals thin at the true
//! time-varying rate, as in a full trial. The settling rule compares a
//! step's served share with the configuration's stationary share at the
//! step's level (interpolated between the leaf's knots, with their
//! standard errors interpolated too), and its requests in flight with the
//! larger of the two knots' largest counts.
//!
//! **Invariant.** Without a diurnal swing nothing here runs: samples keep
//! their keys (no level byte), streams and worlds, and [`reference`] is the
//! configuration's own sample.

use std::collections::BTreeMap;

use super::super::availability::Availability;
use super::super::runaway::Runaway;
use super::super::world::World;
use super::master::Marks;
use super::{Estimate, Samples, Stationary, Timescales, TrialSamples, bursts};
use crate::engine::Nanos;

pub use crate::scenario::timescales::RESOLUTION;
/// A node splits when its midpoint's served share differs from its ends'
/// chord by more than this many standard errors of the difference.
pub const REFINE_Z: f64 = 2.0;
/// A rate level's sample stops once the standard error of its failed share
/// is at most this share of it (in place of [`super::SAMPLE_PRECISION`]):
/// the refinement reads differences of three samples' shares, and the
/// bias bound their size, so both need the shares tighter than a flat
/// configuration's estimate does.
pub const LEVEL_PRECISION: f64 = 0.03;

/// The relative precision a stationary sample of `w` stops at.
pub fn sample_precision(w: &World) -> f64 {
    if any(w) {
        LEVEL_PRECISION
    } else {
        super::SAMPLE_PRECISION
    }
}

/// Whether any workload of `w` has a diurnal swing.
pub fn any(w: &World) -> bool {
    w.workloads.iter().any(|wl| wl.diurnal.is_some())
}

/// The swing's period and peak (seconds), from the first diurnal workload.
fn phase(w: &World) -> Option<(f64, f64)> {
    w.workloads
        .iter()
        .find_map(|wl| wl.diurnal)
        .map(|d| (d.period as f64 / 1e9, d.peak as f64 / 1e9))
}

/// The swing's angle at `t` (radians).
fn angle(w: &World, t: Nanos) -> f64 {
    let (period, peak) = phase(w).expect("a diurnal world");
    std::f64::consts::TAU * (t as f64 / 1e9 - peak) / period
}

/// The level `c` at `t`.
pub fn level_at(w: &World, t: Nanos) -> f64 {
    angle(w, t).cos()
}

/// Grid level `k`'s `c`.
pub fn level_c(k: u32) -> f64 {
    -1.0 + 2.0 * f64::from(k) / f64::from(RESOLUTION)
}

/// A workload's flat rate at level `c` (never quite zero: a trough at zero
/// still schedules its next arrival somewhere).
fn rate_at_level(rate: f64, amplitude: f64, c: f64) -> f64 {
    (rate * (1.0 + amplitude * c)).max(rate * 1e-6)
}

/// The workloads' total rate at level `c`, as `(R0, R1)` with `R(c) = R0 +
/// R1 c` (the exact rate, without the trough's floor).
fn total_rate(w: &World) -> (f64, f64) {
    w.workloads.iter().fold((0.0, 0.0), |(r0, r1), wl| {
        (r0 + wl.rate, r1 + wl.rate * wl.diurnal.map_or(0.0, |d| d.amplitude))
    })
}

/// The world a stationary sample runs on, for the rate state `state`:
/// [`bursts::flat_world`] without a swing; with one, `state` ends with
/// the level's grid index and every workload runs flat at that level's
/// rate.
pub fn flat_world(w: &World, state: &[u8]) -> Option<World> {
    if !any(w) {
        return bursts::flat_world(w, state);
    }
    let k = u32::from(*state.last().expect("a diurnal sample has a level"));
    let c = level_c(k);
    let mut flat = w.clone();
    for wl in &mut flat.workloads {
        if let Some(d) = wl.diurnal.take() {
            wl.rate = rate_at_level(wl.rate, d.amplitude, c);
        }
        wl.max_rate = wl.rate;
        wl.shaped = false;
    }
    Some(flat)
}

/// A leaf of a configuration's level tree: its knots `a`, `m`, `b` (grid
/// indices and the samples' indices in the trial's [`TrialSamples`]) and
/// its midpoint's distance from the chord.
struct Leaf {
    k: [u32; 3],
    i: [usize; 3],
    d: f64,
}

/// One configuration (and burst state) of a trial, whose levels are drawn
/// on demand.
pub(super) struct Config<'a> {
    pub w: &'a World,
    pub samples: &'a Samples,
    pub seed: u64,
    pub trial: u64,
    pub state: &'a Availability,
    pub marks: &'a Marks,
    pub burst: &'a [u8],
    pub ts: Timescales,
}

/// What a window's settling rule compares a step with.
pub(super) struct Reference {
    /// Stationary served share.
    pub served: f64,
    /// Its standard error.
    pub served_se: f64,
    /// Largest requests in flight at a batch end.
    pub in_flight: f64,
    /// The sample nearest the level (its rates and hedgers stand for it).
    pub nearest: usize,
}

impl Reference {
    fn of(s: &Stationary, i: usize) -> Self {
        Self {
            served: s.served,
            served_se: s.served_se,
            in_flight: s.in_flight,
            nearest: i,
        }
    }
}

/// The knots of `leaves` (sorted by level): `(c, sample index)`.
fn knots(leaves: &[Leaf]) -> Vec<(f64, usize)> {
    let mut k: Vec<(u32, usize)> = leaves
        .iter()
        .flat_map(|l| l.k.iter().copied().zip(l.i.iter().copied()))
        .collect();
    k.sort_unstable();
    k.dedup();
    k.into_iter().map(|(k, i)| (level_c(k), i)).collect()
}

impl Config<'_> {
    /// The index in `used` of grid level `k`'s sample.
    fn level(&self, used: &mut TrialSamples, k: u32) -> Result<usize, Runaway> {
        let mut state = self.burst.to_vec();
        state.push(u8::try_from(k).expect("RESOLUTION fits a byte"));
        used.of(
            self.w,
            self.samples,
            self.seed,
            self.trial,
            self.state,
            self.marks,
            &state,
            // No autoscalers beside a swing (refused): no slot states.
            &[],
            self.ts,
        )
    }

    /// The leaves whose levels overlap `[lo, hi]`, in order.
    fn leaves(&self, used: &mut TrialSamples, lo: f64, hi: f64) -> Result<Vec<Leaf>, Runaway> {
        let mut out = Vec::new();
        self.visit(used, 0, RESOLUTION, lo, hi, &mut out)?;
        Ok(out)
    }

    fn visit(
        &self,
        used: &mut TrialSamples,
        a: u32,
        b: u32,
        lo: f64,
        hi: f64,
        out: &mut Vec<Leaf>,
    ) -> Result<(), Runaway> {
        if level_c(b) < lo || level_c(a) > hi {
            return Ok(());
        }
        let m = (a + b) / 2;
        let i = [self.level(used, a)?, self.level(used, m)?, self.level(used, b)?];
        let s = i.map(|i| &used.used[i].sample);
        let d = s[1].served - (s[0].served + s[2].served) / 2.0;
        let se = (s[1].served_se.powi(2) + (s[0].served_se.powi(2) + s[2].served_se.powi(2)) / 4.0).sqrt();
        if b - a > 2 && d.abs() > REFINE_Z * se + 1e-12 {
            self.visit(used, a, m, lo, hi, out)?;
            self.visit(used, m, b, lo, hi, out)
        } else {
            out.push(Leaf { k: [a, m, b], i, d });
            Ok(())
        }
    }

    /// The stationary reference at level `c` (see the module doc).
    pub fn reference(&self, used: &mut TrialSamples, c: f64) -> Result<Reference, Runaway> {
        let knots = knots(&self.leaves(used, c, c)?);
        let j = knots
            .windows(2)
            .position(|p| c <= p[1].0)
            .unwrap_or(knots.len().saturating_sub(2));
        let ((x0, i0), (x1, i1)) = (knots[j], knots[j + 1]);
        let lambda = ((c - x0) / (x1 - x0)).clamp(0.0, 1.0);
        let (s0, s1) = (&used.used[i0].sample, &used.used[i1].sample);
        Ok(Reference {
            served: (1.0 - lambda) * s0.served + lambda * s1.served,
            served_se: (1.0 - lambda) * s0.served_se + lambda * s1.served_se,
            in_flight: s0.in_flight.max(s1.in_flight),
            nearest: if lambda < 0.5 { i0 } else { i1 },
        })
    }

    /// Adds the stationary segment `[t0, t1)` of this configuration to
    /// `est` (see the module doc), and its leaves' midpoints to `swing`.
    pub fn segment(
        &self,
        used: &mut TrialSamples,
        est: &mut Estimate,
        swing: &mut Swing,
        t0: Nanos,
        t1: Nanos,
    ) -> Result<(), Runaway> {
        let w = self.w;
        let (lo, hi) = level_range(w, t0, t1);
        let leaves = self.leaves(used, lo, hi)?;
        for l in &leaves {
            swing.mids.insert(l.i[1], l.d.abs());
        }
        let knots = knots(&leaves);
        let (r0, r1) = total_rate(w);
        let (period, _) = phase(w).expect("a diurnal world");
        let grid = piece(w, est);
        let mut a = t0;
        let mut mass = vec![0.0; knots.len()];
        while a < t1 {
            let b = ((a / grid + 1) * grid).min(t1);
            mass.iter_mut().for_each(|m| *m = 0.0);
            integrate(&knots, angle(w, a), angle(w, b), period, r0, r1, &mut mass);
            let (mut requests, mut served) = (0.0, 0.0);
            for (&m, &(_, i)) in mass.iter().zip(&knots) {
                let u = &mut used.used[i];
                let rate = u.sample.rates[0];
                if m <= 0.0 || rate <= 0.0 {
                    continue;
                }
                let secs = m / rate;
                est.add(w, &u.sample.rates, secs, a, b);
                requests += m;
                served += (u.sample.rates[1] + u.sample.rates[2]) * secs;
                u.covered_s += secs;
            }
            let span = (b - a) as f64 / 1e9;
            est.add_series_rates(requests / span, served / span, a, b);
            a = b;
        }
        Ok(())
    }
}

/// The request-level bookkeeping of a trial's swing: each leaf midpoint
/// met (by sample index) and its distance from the chord, ordered so the
/// bound sums the same way on every run.
#[derive(Default)]
pub(super) struct Swing {
    mids: BTreeMap<usize, f64>,
}

impl Swing {
    /// The trial's bias bound on its request shares (see the module doc),
    /// its segments' requests estimated as `requests`.
    pub fn bias(&self, used: &TrialSamples, requests: f64) -> f64 {
        if requests <= 0.0 {
            return 0.0;
        }
        self.mids
            .iter()
            .map(|(&i, &d)| {
                let u = &used.used[i];
                d * u.covered_s * u.sample.rates[0]
            })
            .sum::<f64>()
            / requests
    }
}

/// The settling rule's reference for `state` at `at` (the middle of a
/// step): the configuration's own sample without a swing.
#[allow(clippy::too_many_arguments)]
pub(super) fn reference(
    w: &World,
    samples: &Samples,
    used: &mut TrialSamples,
    seed: u64,
    trial: u64,
    state: &Availability,
    marks: &Marks,
    burst: &[u8],
    slots: &[u8],
    ts: Timescales,
    at: Nanos,
) -> Result<Reference, Runaway> {
    if !any(w) {
        let i = used.of(w, samples, seed, trial, state, marks, burst, slots, ts)?;
        return Ok(Reference::of(&used.used[i].sample, i));
    }
    let cfg = Config {
        w,
        samples,
        seed,
        trial,
        state,
        marks,
        burst,
        ts,
    };
    cfg.reference(used, level_at(w, at))
}

/// The pieces a segment is cut into: the timeline's bucket, or the SLO
/// series' when finer (both then follow the swing within a bucket's
/// resolution).
fn piece(w: &World, est: &Estimate) -> Nanos {
    let timeline = (w.horizon / super::super::traffic::TIMELINE_BUCKETS as Nanos).max(1);
    est.series
        .as_ref()
        .map_or(timeline, |s| s.bucket().min(timeline))
        .max(1)
}

/// The least and greatest level over `[t0, t1]`.
fn level_range(w: &World, t0: Nanos, t1: Nanos) -> (f64, f64) {
    use std::f64::consts::{PI, TAU};
    let (a, b) = (angle(w, t0), angle(w, t1));
    let (ca, cb) = (a.cos(), b.cos());
    let (mut lo, mut hi) = (ca.min(cb), ca.max(cb));
    // A crest (angle a multiple of 2 pi) or trough (pi plus one) inside.
    if (b / TAU).floor() > (a / TAU).floor() {
        hi = 1.0;
    }
    if ((b - PI) / TAU).floor() > ((a - PI) / TAU).floor() {
        lo = -1.0;
    }
    (lo, hi)
}

/// Adds to `mass[j]` the request mass of knot `j`'s hat over the angles
/// `[a, b]`: `integral of (r0 + r1 c) phi_j(c) dt` with `c = cos(angle)`
/// and `dt = period / 2 pi d(angle)` (seconds).
fn integrate(knots: &[(f64, usize)], a: f64, b: f64, period: f64, r0: f64, r1: f64, mass: &mut [f64]) {
    use std::f64::consts::PI;
    let k = period / std::f64::consts::TAU;
    // The half-period index advances by one each pass: recomputing it
    // from `lo` could round back to the same index at `lo = (n + 1) pi`
    // and never advance.
    let mut n = (a / PI).floor();
    let mut lo = a;
    while lo < b {
        let hi = ((n + 1.0) * PI).min(b).max(lo);
        // On [n pi, (n + 1) pi] the cosine is monotone: map to psi in
        // [0, pi], where c = cos(psi) falls.
        let (p0, p1) = if (n as i64).rem_euclid(2) == 0 {
            (lo - n * PI, hi - n * PI)
        } else {
            ((n + 1.0) * PI - hi, (n + 1.0) * PI - lo)
        };
        for j in 0..knots.len().saturating_sub(1) {
            let (x0, x1) = (knots[j].0, knots[j + 1].0);
            // c in [x0, x1] <=> psi in [acos x1, acos x0].
            let q0 = p0.max(x1.clamp(-1.0, 1.0).acos());
            let q1 = p1.min(x0.clamp(-1.0, 1.0).acos());
            if q1 <= q0 {
                continue;
            }
            let i0 = k * (q1 - q0);
            let i1 = k * (q1.sin() - q0.sin());
            let i2 = k * ((q1 - q0) / 2.0 + ((2.0 * q1).sin() - (2.0 * q0).sin()) / 4.0);
            let h = x1 - x0;
            mass[j] += (r0 * (x1 * i0 - i1) + r1 * (x1 * i1 - i2)) / h;
            mass[j + 1] += (r0 * (i1 - x0 * i0) + r1 * (i2 - x0 * i1)) / h;
        }
        lo = hi;
        n += 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_across_many_half_periods_ends() {
        // 11 pi / pi rounds below 11: a span through that boundary once
        // looped forever (the month-long model's hang).
        let knots: Vec<(f64, usize)> = (0..=4).map(|k| (-1.0 + 0.5 * f64::from(k), k as usize)).collect();
        let (period, r0, r1) = (86_400.0, 20.0, 16.0);
        let k = period / std::f64::consts::TAU;
        for n in [11.0, 15.0, 22.0, 88.0] {
            let (a, b) = (
                std::f64::consts::PI.mul_add(n, -0.5),
                std::f64::consts::PI.mul_add(n, 0.5),
            );
            let mut mass = vec![0.0; knots.len()];
            integrate(&knots, a, b, period, r0, r1, &mut mass);
            let want = r0 * k * (b - a) + r1 * k * (b.sin() - a.sin());
            let got: f64 = mass.iter().sum();
            assert!((got - want).abs() < 1e-9 * want, "{n}: {got} vs {want}");
        }
    }

    #[test]
    fn the_hats_integrate_the_rate_exactly() {
        // Knots over all of [-1, 1]: the masses sum to the integral of
        // R(c(t)), i.e. R0 T + R1 (period / 2 pi) (sin b - sin a).
        let knots: Vec<(f64, usize)> = (0..=8).map(|k| (-1.0 + 0.25 * f64::from(k), k as usize)).collect();
        let (a, b, period, r0, r1) = (0.3, 11.7, 3600.0, 100.0, 40.0);
        let mut mass = vec![0.0; knots.len()];
        integrate(&knots, a, b, period, r0, r1, &mut mass);
        let k = period / std::f64::consts::TAU;
        let want = r0 * k * (b - a) + r1 * k * (b.sin() - a.sin());
        let got: f64 = mass.iter().sum();
        assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
        assert!(mass.iter().all(|&m| m >= 0.0), "{mass:?}");
        // A linear share (served = c) is integrated exactly too.
        let first: f64 = knots.iter().zip(&mass).map(|(&(x, _), m)| x * m).sum();
        let i1 = k * (b.sin() - a.sin());
        let i2 = k * ((b - a) / 2.0 + ((2.0 * b).sin() - (2.0 * a).sin()) / 4.0);
        let want = r0 * i1 + r1 * i2;
        assert!((first - want).abs() < 1e-9 * want.abs().max(1.0), "{first} vs {want}");
    }
}
