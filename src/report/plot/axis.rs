//! One numeric axis, linear or log10: its range (padded so that no data sits
//! on the frame and a constant series still gets a visible span), its ticks
//! and their labels.
//!
//! plotters' own log axis puts no tick at all on a range inside one decade,
//! and its `{:?}` labels print float noise (`0.30000000000000004`), so the
//! axis here chooses and formats its ticks itself and plotters only maps.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// Values beyond this magnitude are treated like infinities: skipped.
const HUGE: f64 = 1e300;
/// The smallest value a log axis reaches down to.
const TINY: f64 = 1e-300;

/// Whether `v` can be placed on an axis.
pub(super) fn usable(v: f64) -> bool {
    v.is_finite() && v.abs() < HUGE
}

/// The smallest and largest usable values, if any.
pub(super) fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| usable(*v))
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// A linear axis over `[lo, hi]`, widened by `pad` of the span on each side;
/// an empty span is widened by 5 % of the value (or 1 around zero).
pub(super) fn linear(lo: f64, hi: f64, pad: f64, target: usize) -> Axis {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    let span = hi - lo;
    let (lo, hi) = if span <= 1e-12 * lo.abs().max(hi.abs()) {
        let w = if lo == 0.0 { 1.0 } else { (lo.abs() * 0.05).max(TINY) };
        (lo - w, hi + w)
    } else {
        (lo - span * pad, hi + span * pad)
    };
    if !(lo < hi && (hi - lo).is_finite()) {
        return linear(0.0, 1.0, 0.0, target);
    }
    let step = nice_step(hi - lo, target);
    Axis {
        lo,
        hi,
        log: false,
        major: multiples(lo, hi, step),
        minor: Vec::new(),
        step: Some(step),
    }
}

/// A linear axis like [`linear`] whose ticks are whole numbers only (a
/// count of replicas has no 2.5); a span under one is widened to it.
pub(super) fn integer(lo: f64, hi: f64, pad: f64, target: usize) -> Axis {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    let (lo, hi) = if hi - lo < 1.0 {
        let mid = (lo + hi) / 2.0;
        (mid - 0.5, mid + 0.5)
    } else {
        (lo, hi)
    };
    let mut axis = linear(lo, hi, pad, target);
    let step = axis.step.unwrap_or(1.0).max(1.0).round();
    axis.major = multiples(axis.lo, axis.hi, step);
    axis.step = Some(step);
    axis
}

/// A log10 axis over `[lo, hi]` (both > 0), widened by `pad` of its decades
/// on each side; a single value gets a factor of 2 either way.
pub(super) fn log(lo: f64, hi: f64, pad: f64) -> Axis {
    let (lo, hi) = (lo.min(hi).clamp(TINY, HUGE), lo.max(hi).clamp(TINY, HUGE));
    let (a, b) = (lo.log10(), hi.log10());
    let (a, b) = if b - a < 1e-9 {
        (a - 2f64.log10(), b + 2f64.log10())
    } else {
        (a - (b - a) * pad, b + (b - a) * pad)
    };
    let (lo, hi) = (10f64.powf(a), 10f64.powf(b));
    if !(lo > 0.0 && lo < hi && hi.is_finite()) {
        return log(1.0, 10.0, 0.0);
    }
    let mut axis = Axis {
        lo,
        hi,
        log: true,
        major: Vec::new(),
        minor: Vec::new(),
        step: None,
    };
    let decades = (a.floor() as i32)..=(b.ceil() as i32);
    let within = |v: &f64| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9);
    let mantissas = |ms: &[f64]| -> Vec<f64> {
        decades
            .clone()
            .flat_map(|d| ms.iter().map(move |m| m * 10f64.powi(d)))
            .filter(within)
            .collect()
    };
    if b - a >= 1.0 {
        let powers = mantissas(&[1.0]);
        let stride = powers.len().div_ceil(10).max(1);
        axis.major = powers.iter().step_by(stride).copied().collect();
        if b - a <= 3.5 {
            axis.major = mantissas(&[1.0, 2.0, 5.0]);
        }
        if b - a <= 8.0 {
            axis.minor = mantissas(&[2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        }
    } else {
        axis.major = mantissas(&[1.0, 2.0, 5.0]);
        if axis.major.len() < 3 {
            axis.major = mantissas(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        }
        if axis.major.len() < 3 {
            let step = nice_step(hi - lo, 5);
            axis.major = multiples(lo, hi, step).into_iter().filter(|v| *v > 0.0).collect();
            axis.step = Some(step);
        }
    }
    axis
}

/// An axis of `n` categories at 0, 1, …, n - 1.
pub(super) fn categories(n: usize) -> Axis {
    let n = n.max(1) as f64;
    Axis {
        lo: -0.5,
        hi: n - 0.5,
        log: false,
        major: (0..n as usize).map(|i| i as f64).collect(),
        minor: Vec::new(),
        step: Some(1.0),
    }
}

/// 1, 2 or 5 times a power of ten, giving about `target` steps over `span`.
fn nice_step(span: f64, target: usize) -> f64 {
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let m = match raw / mag {
        f if f <= 1.0 => 1.0,
        f if f <= 2.0 => 2.0,
        f if f <= 5.0 => 5.0,
        _ => 10.0,
    };
    m * mag
}

/// The multiples of `step` in `[lo, hi]` (at most 200 of them).
fn multiples(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last.min(first + 200))
        .map(|k| if k == 0 { 0.0 } else { k as f64 * step })
        .collect()
}

/// An axis for plotters: maps values to pixels and hands out its ticks.
#[derive(Clone, Debug)]
pub(super) struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    /// Labelled ticks with a grid line.
    major: Vec<f64>,
    /// Fainter grid lines without a label.
    minor: Vec<f64>,
    /// The spacing of evenly spaced ticks, which fixes their decimals.
    step: Option<f64>,
}

impl Axis {
    /// The ends of the axis.
    pub(super) fn bounds(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }

    /// The labelled ticks.
    pub(super) fn ticks(&self) -> &[f64] {
        &self.major
    }

    /// The value halfway along the axis.
    pub(super) fn mid(&self) -> f64 {
        if self.log {
            (self.lo * self.hi).sqrt()
        } else {
            (self.lo + self.hi) / 2.0
        }
    }

    /// `v` clamped to the axis.
    pub(super) fn clamp(&self, v: f64) -> f64 {
        // Not f64::clamp, which panics if the bounds are out of order.
        v.max(self.lo).min(self.hi)
    }

    /// A tick's label.
    pub(super) fn label(&self, v: f64) -> String {
        number(v, self.step.unwrap_or(v.abs()))
    }

    /// Where `v` falls, 0 at `lo` and 1 at `hi` (clamped well outside).
    fn fraction(&self, v: f64) -> f64 {
        let f = if self.log {
            if v <= 0.0 {
                -1.0
            } else {
                (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
            }
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        if f.is_nan() { 0.0 } else { f.clamp(-1.0, 2.0) }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = f64::from(limit.1) - f64::from(limit.0);
        (f64::from(limit.0) + self.fraction(*value) * span).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.major.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// `v` written with as many decimals as `step` needs, or in scientific
/// notation when very large or very small.
pub(super) fn number(v: f64, step: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let big = v.abs() >= 1e6;
    let tiny = step > 0.0 && step < 1e-4;
    if (big || tiny) && v != 0.0 {
        let s = format!("{v:.2e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        return format!("{mantissa}e{exp}");
    }
    let decimals = if step > 0.0 {
        (-step.log10() - 1e-9).ceil().max(0.0) as usize
    } else {
        0
    };
    let s = format!("{v:.decimals$}");
    // No "-0.0" for a value that rounds to zero.
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_numbers() {
        let a = linear(0.0, 1.0, 0.0, 5);
        let labels: Vec<String> = a.ticks().iter().map(|v| a.label(*v)).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
    }

    #[test]
    fn a_constant_gets_a_span() {
        let a = linear(3.0, 3.0, 0.05, 6);
        let (lo, hi) = a.bounds();
        assert!(lo < 3.0 && hi > 3.0 && a.ticks().len() >= 3, "{a:?}");
        let z = linear(0.0, 0.0, 0.05, 6);
        assert_eq!(z.bounds(), (-1.0, 1.0));
    }

    #[test]
    fn log_ticks_inside_one_decade() {
        let a = log(2.0, 5.0, 0.0);
        assert!(a.ticks().len() >= 3, "{a:?}");
        let a = log(7.0, 7.0, 0.0);
        assert!(a.ticks().len() >= 3, "{a:?}");
        let a = log(1e-3, 1e9, 0.0);
        assert!(a.ticks().len() >= 4 && a.ticks().len() <= 13, "{a:?}");
        let labels: Vec<String> = log(0.01, 1000.0, 0.0)
            .ticks()
            .iter()
            .map(|v| number(*v, v.abs()))
            .collect();
        assert_eq!(labels, ["0.01", "0.1", "1", "10", "100", "1000"]);
    }

    #[test]
    fn integer_ticks_are_whole() {
        for (lo, hi) in [(1.0, 3.0), (2.0, 2.0), (1.0, 2.0), (0.0, 40.0), (3.0, 7.0)] {
            let a = integer(lo, hi, 0.03, 8);
            assert!(!a.ticks().is_empty(), "{a:?}");
            for v in a.ticks() {
                assert_eq!(v.fract(), 0.0, "{lo}..{hi}: {a:?}");
                assert!(!a.label(*v).contains('.'), "{}", a.label(*v));
            }
        }
        let a = integer(1.0, 3.0, 0.03, 8);
        assert_eq!(a.ticks(), [1.0, 2.0, 3.0]);
    }

    #[test]
    fn numbers_read_cleanly() {
        assert_eq!(number(2_500_000.0, 500_000.0), "2.5e6");
        assert_eq!(number(0.000_02, 0.000_01), "2e-5");
        assert_eq!(number(-0.0000001, 0.5), "0.0");
        assert_eq!(number(1.5, 0.5), "1.5");
        assert_eq!(number(40.0, 20.0), "40");
    }
}
