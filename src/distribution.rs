//! Validated probability distributions of durations, all parameterised so
//! that `mean` means the same under every family.
//!
//! # Formula
//! - exponential: rate = 1 / mean
//! - weibull(shape k): scale = mean / Γ(1 + 1/k)
//! - lognormal(cv): σ² = ln(1 + cv²), μ = ln(mean) − σ²/2
//! - gamma(shape k): scale = mean / k
//! - uniform(min, max): mean = (min + max) / 2
//! - fixed: always `mean`
//! - empirical(values): each listed value with equal probability
//!
//! Samples are durations in nanoseconds. Constructors validate their
//! parameters; a constructed [`Dist`] never fails to sample.

use rand_distr::Distribution as _;
use statrs::function::gamma::gamma;

use crate::engine::time::{self, Nanos};
use crate::random::Rng;

/// A distribution of durations, with its exact mean kept beside it.
#[derive(Clone, Debug)]
pub struct Dist {
    kind: Kind,
    mean_secs: f64,
    /// Weibull and gamma: the shape; lognormal: the cv; else unused (0).
    shape: f64,
    /// Weibull: the scale (s); lognormal: μ and σ; else unused (0).
    params: (f64, f64),
}

#[derive(Clone, Debug)]
enum Kind {
    Exponential(rand_distr::Exp<f64>),
    Weibull(rand_distr::Weibull<f64>),
    LogNormal(rand_distr::LogNormal<f64>),
    Gamma(rand_distr::Gamma<f64>),
    /// Inclusive bounds in nanoseconds.
    Uniform(Nanos, Nanos),
    Fixed(Nanos),
    Empirical(Vec<Nanos>),
}

/// Why a distribution's parameters were rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DistError {
    /// The mean must be a positive duration.
    #[error("mean must be greater than zero")]
    NonPositiveMean,
    /// A shape parameter must be positive and finite.
    #[error("shape must be a positive number, found {0}")]
    BadShape(f64),
    /// A coefficient of variation must be positive and finite.
    #[error("cv must be a positive number, found {0}")]
    BadCv(f64),
    /// Uniform bounds out of order or both zero.
    #[error("min must not exceed max, and max must be greater than zero")]
    BadBounds,
    /// An empirical list must hold at least one positive value.
    #[error("values must list at least one duration, and not all zero")]
    EmptyValues,
}

impl Dist {
    /// Exponential with mean `mean` ns.
    ///
    /// # Errors
    /// [`DistError::NonPositiveMean`] when `mean` is zero.
    pub fn exponential(mean: Nanos) -> Result<Self, DistError> {
        let m = positive_secs(mean)?;
        let d = rand_distr::Exp::new(1.0 / m).map_err(|_| DistError::NonPositiveMean)?;
        Ok(Self {
            kind: Kind::Exponential(d),
            mean_secs: m,
            shape: 0.0,
            params: (0.0, 0.0),
        })
    }

    /// Weibull with the given shape and mean.
    ///
    /// # Errors
    /// Non-positive mean or shape.
    pub fn weibull(shape: f64, mean: Nanos) -> Result<Self, DistError> {
        let m = positive_secs(mean)?;
        check_shape(shape)?;
        let scale = m / gamma(1.0 + 1.0 / shape);
        let d = rand_distr::Weibull::new(scale, shape).map_err(|_| DistError::BadShape(shape))?;
        Ok(Self {
            kind: Kind::Weibull(d),
            mean_secs: m,
            shape,
            params: (scale, 0.0),
        })
    }

    /// Lognormal with the given mean and coefficient of variation.
    ///
    /// # Errors
    /// Non-positive mean or cv.
    pub fn lognormal(cv: f64, mean: Nanos) -> Result<Self, DistError> {
        let m = positive_secs(mean)?;
        if !(cv.is_finite() && cv > 0.0) {
            return Err(DistError::BadCv(cv));
        }
        let sigma2 = (1.0 + cv * cv).ln();
        let mu = m.ln() - sigma2 / 2.0;
        let d = rand_distr::LogNormal::new(mu, sigma2.sqrt()).map_err(|_| DistError::BadCv(cv))?;
        Ok(Self {
            kind: Kind::LogNormal(d),
            mean_secs: m,
            shape: cv,
            params: (mu, sigma2.sqrt()),
        })
    }

    /// Gamma with the given shape and mean.
    ///
    /// # Errors
    /// Non-positive mean or shape.
    pub fn gamma(shape: f64, mean: Nanos) -> Result<Self, DistError> {
        let m = positive_secs(mean)?;
        check_shape(shape)?;
        let d = rand_distr::Gamma::new(shape, m / shape).map_err(|_| DistError::BadShape(shape))?;
        Ok(Self {
            kind: Kind::Gamma(d),
            mean_secs: m,
            shape,
            params: (0.0, 0.0),
        })
    }

    /// Uniform on `[min, max]`.
    ///
    /// # Errors
    /// [`DistError::BadBounds`] when `min > max` or `max == 0`.
    pub fn uniform(min: Nanos, max: Nanos) -> Result<Self, DistError> {
        if min > max || max == 0 {
            return Err(DistError::BadBounds);
        }
        let mean_secs = (time::to_secs(min) + time::to_secs(max)) / 2.0;
        Ok(Self {
            kind: Kind::Uniform(min, max),
            mean_secs,
            shape: 0.0,
            params: (0.0, 0.0),
        })
    }

    /// Always `mean`.
    ///
    /// # Errors
    /// [`DistError::NonPositiveMean`] when `mean` is zero.
    pub fn fixed(mean: Nanos) -> Result<Self, DistError> {
        let m = positive_secs(mean)?;
        Ok(Self {
            kind: Kind::Fixed(mean),
            mean_secs: m,
            shape: 0.0,
            params: (0.0, 0.0),
        })
    }

    /// Always zero. No scenario can ask for it (every duration it gives is
    /// positive); the world uses it as the service time of a service no
    /// request reaches, so that it holds one for every service and never
    /// draws this one.
    pub fn zero() -> Self {
        Self {
            kind: Kind::Fixed(0),
            mean_secs: 0.0,
            shape: 0.0,
            params: (0.0, 0.0),
        }
    }

    /// Equally likely draws from `values`.
    ///
    /// # Errors
    /// [`DistError::EmptyValues`] when the list is empty or all zero.
    pub fn empirical(values: Vec<Nanos>) -> Result<Self, DistError> {
        if values.iter().all(|&v| v == 0) {
            return Err(DistError::EmptyValues);
        }
        let mean_secs = values.iter().map(|&v| time::to_secs(v)).sum::<f64>() / values.len() as f64;
        Ok(Self {
            kind: Kind::Empirical(values),
            mean_secs,
            shape: 0.0,
            params: (0.0, 0.0),
        })
    }

    /// Draws one duration in nanoseconds.
    #[inline(always)]
    pub fn sample(&self, rng: &mut Rng) -> Nanos {
        use rand::RngExt as _;
        // The exponential law is the common case on every hot path; the
        // others stay out of line so that callers inline only this test.
        match &self.kind {
            Kind::Exponential(d) => time::from_secs(rng.sample(d)),
            _ => self.sample_other(rng),
        }
    }

    /// [`Dist::sample`] for every family but the exponential.
    #[inline(never)]
    fn sample_other(&self, rng: &mut Rng) -> Nanos {
        use rand::RngExt as _;
        match &self.kind {
            Kind::Exponential(d) => time::from_secs(d.sample(rng)),
            Kind::Weibull(d) => time::from_secs(d.sample(rng)),
            Kind::LogNormal(d) => time::from_secs(d.sample(rng)),
            Kind::Gamma(d) => time::from_secs(d.sample(rng)),
            Kind::Uniform(lo, hi) => rng.random_range(*lo..=*hi),
            Kind::Fixed(v) => *v,
            Kind::Empirical(vs) => vs[rng.random_range(0..vs.len())],
        }
    }

    /// Draws the time left of a duration that has already lasted `age` ns:
    /// a draw from this distribution conditioned on exceeding `age`, minus
    /// `age`. Rare-event splitting uses it to give each copy of a trial its
    /// own future from the same state (see `montecarlo::splitting`): the
    /// conditional law of a clock's remainder, given only that it has not
    /// fired after `age`, is exactly this one.
    pub fn sample_residual(&self, age: Nanos, rng: &mut Rng) -> Nanos {
        use rand::RngExt as _;
        use statrs::distribution::{ContinuousCDF as _, Normal};
        if age == 0 {
            return self.sample(rng);
        }
        let a = time::to_secs(age);
        // One uniform in (0, 1]: the survival probability beyond the draw.
        let u = 1.0 - rng.random::<f64>();
        let total_secs = match &self.kind {
            Kind::Exponential(_) => return self.sample(rng),
            Kind::Weibull(_) => {
                // S(x) = exp(-(x/scale)^k): invert S(x) = S(a) * u.
                let (scale, k) = (self.params.0, self.shape);
                scale * ((a / scale).powf(k) - u.ln()).powf(1.0 / k)
            }
            Kind::LogNormal(_) => {
                // Upper tail of the normal: z with Q(z) = Q(z_a) * u, from
                // the lower tail of -z so that deep tails keep precision.
                let (mu, sigma) = self.params;
                let std = Normal::standard();
                let za = (a.ln() - mu) / sigma;
                let tail = std.cdf(-za) * u;
                if tail <= 0.0 {
                    a
                } else {
                    (mu - sigma * std.inverse_cdf(tail)).exp().max(a)
                }
            }
            Kind::Gamma(_) => {
                // No closed inverse: the survival function bisected.
                let (shape, scale) = (self.shape, self.mean_secs / self.shape);
                let g = statrs::distribution::Gamma::new(shape, 1.0 / scale);
                match g {
                    Ok(g) => {
                        let target = g.sf(a) * u;
                        if target <= 0.0 {
                            a
                        } else {
                            let (mut lo, mut hi) = (a, a.max(scale) * 2.0);
                            while g.sf(hi) > target && hi < 1e30 {
                                hi *= 2.0;
                            }
                            for _ in 0..100 {
                                let mid = 0.5 * (lo + hi);
                                if g.sf(mid) > target {
                                    lo = mid;
                                } else {
                                    hi = mid;
                                }
                            }
                            0.5 * (lo + hi)
                        }
                    }
                    Err(_) => return self.sample(rng),
                }
            }
            Kind::Uniform(lo, hi) => {
                let from = (*lo).max(age);
                if from >= *hi {
                    return 0;
                }
                return rng.random_range(from..=*hi) - age;
            }
            Kind::Fixed(v) => return v.saturating_sub(age),
            Kind::Empirical(vs) => {
                let later: Vec<Nanos> = vs.iter().copied().filter(|&v| v > age).collect();
                if later.is_empty() {
                    return 0;
                }
                return later[rng.random_range(0..later.len())] - age;
            }
        };
        time::from_secs(total_secs).saturating_sub(age)
    }

    /// The exact mean in seconds, from the parameters.
    pub fn mean_secs(&self) -> f64 {
        self.mean_secs
    }

    /// Whether the family is exponential (memoryless).
    pub fn is_exponential(&self) -> bool {
        matches!(self.kind, Kind::Exponential(_))
    }

    /// The same family with every duration multiplied by `factor` (> 0):
    /// the mean scales, the shape (or cv) stays. Each draw of the scaled
    /// law takes the same random numbers as the original's and returns
    /// that draw times `factor` (up to rounding to whole nanoseconds), so a
    /// variant built with it keeps common random numbers with the original.
    /// A scaled mean that rounds to zero nanoseconds keeps one nanosecond.
    pub fn scaled(&self, factor: f64) -> Self {
        let scale = |v: Nanos| ((v as f64 * factor).round() as Nanos).max(1);
        let mean = time::from_secs(self.mean_secs * factor).max(1);
        let built = match &self.kind {
            Kind::Exponential(_) => Self::exponential(mean),
            Kind::Weibull(_) => Self::weibull(self.shape, mean),
            Kind::LogNormal(_) => Self::lognormal(self.shape, mean),
            Kind::Gamma(_) => Self::gamma(self.shape, mean),
            Kind::Uniform(lo, hi) => Self::uniform((*lo as f64 * factor).round() as Nanos, scale(*hi)),
            Kind::Fixed(0) => return self.clone(),
            Kind::Fixed(v) => Self::fixed(scale(*v)),
            Kind::Empirical(vs) => Self::empirical(vs.iter().map(|&v| (v as f64 * factor).round() as Nanos).collect()),
        };
        // Every parameter above stays valid (a positive factor keeps means
        // positive and shapes unchanged); the original is the fallback.
        built.unwrap_or_else(|_| self.clone())
    }
}

fn positive_secs(mean: Nanos) -> Result<f64, DistError> {
    if mean == 0 {
        Err(DistError::NonPositiveMean)
    } else {
        Ok(time::to_secs(mean))
    }
}

fn check_shape(shape: f64) -> Result<(), DistError> {
    if shape.is_finite() && shape > 0.0 {
        Ok(())
    } else {
        Err(DistError::BadShape(shape))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::{Purpose, stream};

    const HOUR: Nanos = 3600 * time::SECOND;

    fn sample_mean(d: &Dist, n: usize) -> f64 {
        let mut rng = stream(9, 0, Purpose::Replica, 0);
        (0..n).map(|_| time::to_secs(d.sample(&mut rng))).sum::<f64>() / n as f64
    }

    /// Every family honours `mean` (the parameterisation contract).
    #[test]
    fn every_family_has_the_requested_mean() {
        let dists = [
            Dist::exponential(10 * HOUR).unwrap(),
            Dist::weibull(0.7, 10 * HOUR).unwrap(),
            Dist::weibull(3.0, 10 * HOUR).unwrap(),
            Dist::lognormal(0.5, 10 * HOUR).unwrap(),
            Dist::gamma(2.0, 10 * HOUR).unwrap(),
            Dist::uniform(5 * HOUR, 15 * HOUR).unwrap(),
            Dist::fixed(10 * HOUR).unwrap(),
            Dist::empirical(vec![5 * HOUR, 15 * HOUR]).unwrap(),
        ];
        for d in &dists {
            assert!((d.mean_secs() - 36_000.0).abs() < 1e-6, "{d:?}");
            let m = sample_mean(d, 200_000);
            assert!((m / 36_000.0 - 1.0).abs() < 0.01, "{d:?}: sample mean {m}");
        }
    }

    /// A remainder drawn given the age has the law of `X - a` given
    /// `X > a` (rare-event splitting relies on it): its mean matches that
    /// of draws of `X` kept only when they exceed the age.
    #[test]
    fn residuals_follow_the_law_conditioned_on_the_age() {
        let dists = [
            Dist::exponential(10 * HOUR).unwrap(),
            Dist::weibull(0.7, 10 * HOUR).unwrap(),
            Dist::weibull(3.0, 10 * HOUR).unwrap(),
            Dist::lognormal(1.5, 10 * HOUR).unwrap(),
            Dist::gamma(2.0, 10 * HOUR).unwrap(),
            Dist::uniform(5 * HOUR, 15 * HOUR).unwrap(),
            Dist::fixed(10 * HOUR).unwrap(),
            Dist::empirical(vec![5 * HOUR, 15 * HOUR, 25 * HOUR]).unwrap(),
        ];
        let age = 8 * HOUR;
        for d in &dists {
            let mut rng = stream(11, 0, Purpose::Replica, 0);
            let n = 100_000;
            let drawn = (0..n)
                .map(|_| time::to_secs(d.sample_residual(age, &mut rng)))
                .sum::<f64>()
                / n as f64;
            let mut kept = Vec::new();
            while kept.len() < n {
                let x = d.sample(&mut rng);
                if x > age {
                    kept.push(time::to_secs(x - age));
                }
            }
            let expected = kept.iter().sum::<f64>() / n as f64;
            assert!(
                (drawn / expected - 1.0).abs() < 0.02,
                "{d:?}: residual mean {drawn} against {expected}"
            );
        }
    }

    #[test]
    fn constructors_reject_bad_parameters() {
        assert_eq!(Dist::exponential(0).unwrap_err(), DistError::NonPositiveMean);
        assert_eq!(Dist::weibull(-1.0, HOUR).unwrap_err(), DistError::BadShape(-1.0));
        assert!(matches!(Dist::lognormal(f64::NAN, HOUR), Err(DistError::BadCv(_))));
        assert_eq!(Dist::uniform(2, 1).unwrap_err(), DistError::BadBounds);
        assert_eq!(Dist::empirical(vec![]).unwrap_err(), DistError::EmptyValues);
    }
}
