//! Lines with shaded bands over a linear or log x axis, with optional grey
//! x intervals behind them.
//!
//! Points are sorted by x; a point whose x cannot be placed is dropped, a
//! point whose `mid` is not finite leaves the line (which joins its
//! neighbours) and one whose `lo` or `hi` is not finite leaves the band.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{self, Axis, usable};
use super::frame::{self, Backend, Entry, Look, draw_err};
use super::{BandPoint, Figure, Labels, PlotError, Series};

/// Series with at most this many points get a marker on each point.
const MARKED: usize = 30;

/// A [`super::curve`] figure.
pub(super) struct Curve<'a> {
    pub labels: &'a Labels,
    pub series: &'a [Series],
    pub x_log: bool,
    pub shade: &'a [(f64, f64)],
}

/// One series reduced to what can be drawn.
struct Clean {
    line: Vec<(f64, f64)>,
    /// `(x, lo, hi)` with `lo <= hi`.
    band: Vec<(f64, f64, f64)>,
}

impl Clean {
    fn new(points: &[BandPoint], x_log: bool) -> Self {
        let mut pts: Vec<BandPoint> = points
            .iter()
            .filter(|p| usable(p.x) && (!x_log || p.x > 0.0))
            .copied()
            .collect();
        pts.sort_by(|a, b| a.x.total_cmp(&b.x));
        let line = pts.iter().filter(|p| usable(p.mid)).map(|p| (p.x, p.mid)).collect();
        let band: Vec<(f64, f64, f64)> = pts
            .iter()
            .filter(|p| usable(p.lo) && usable(p.hi))
            .map(|p| (p.x, p.lo.min(p.hi), p.lo.max(p.hi)))
            .collect();
        let band = if band.iter().any(|(_, lo, hi)| hi > lo) {
            band
        } else {
            Vec::new()
        };
        Self { line, band }
    }

    fn xs(&self) -> impl Iterator<Item = f64> + '_ {
        self.line.iter().map(|p| p.0).chain(self.band.iter().map(|b| b.0))
    }

    fn ys(&self) -> impl Iterator<Item = f64> + '_ {
        self.line
            .iter()
            .map(|p| p.1)
            .chain(self.band.iter().flat_map(|b| [b.1, b.2]))
    }
}

impl Figure for Curve<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let clean: Vec<Clean> = self.series.iter().map(|s| Clean::new(&s.points, self.x_log)).collect();
        let xs = axis::extent(clean.iter().flat_map(Clean::xs));
        let ys = axis::extent(clean.iter().flat_map(Clean::ys));
        let x = match (xs, self.x_log) {
            (Some((lo, hi)), false) => axis::linear(lo, hi, 0.03, 8),
            (Some((lo, hi)), true) => axis::log(lo, hi, 0.03),
            (None, false) => axis::linear(0.0, 1.0, 0.0, 5),
            (None, true) => axis::log(1.0, 10.0, 0.0),
        };
        let y = match ys {
            Some((lo, hi)) => axis::linear(lo, hi, 0.06, 6),
            None => axis::linear(0.0, 1.0, 0.0, 5),
        };
        let legend: Vec<Entry> = if self.series.iter().all(|s| s.label.is_empty()) {
            Vec::new()
        } else {
            self.series
                .iter()
                .zip(&clean)
                .enumerate()
                .map(|(i, (s, c))| Entry {
                    label: s.label.clone(),
                    look: Look::nth(i),
                    band: !c.band.is_empty(),
                })
                .collect()
        };
        let (xa, ya) = (x.clone(), y.clone());
        frame::with_chart(root, &self.labels.title, x, y, &legend, |chart| {
            shade(chart, &xa, &ya, self.shade)?;
            frame::mesh(
                chart,
                (&self.labels.x, &self.labels.y),
                &|v| xa.label(*v),
                &|v| ya.label(*v),
                true,
            )?;
            for (i, c) in clean.iter().enumerate() {
                band(chart, Look::nth(i), &c.band)?;
            }
            for (i, c) in clean.iter().enumerate() {
                line(chart, Look::nth(i), &c.line)?;
            }
            if xs.is_none() {
                frame::no_data(chart, &xa, &ya)?;
            }
            Ok(())
        })
    }
}

/// Grey vertical bands over the x intervals, clipped to the axis.
fn shade<DB: Backend>(chart: &mut frame::Chart<DB>, x: &Axis, y: &Axis, spans: &[(f64, f64)]) -> Result<(), PlotError> {
    let (y0, y1) = y.bounds();
    let (x0, x1) = x.bounds();
    let rects = spans
        .iter()
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|&(a, b)| (a.min(b), a.max(b)))
        .filter(|&(a, b)| b >= x0 && a <= x1)
        .map(|(a, b)| (x.clamp(a), x.clamp(b)))
        .map(|(a, b)| Rectangle::new([(a, y0), (b, y1)], frame::SHADE.filled()));
    chart.draw_series(rects).map_err(draw_err)?;
    Ok(())
}

/// The band as one filled polygon (a single point becomes a thick bar).
fn band<DB: Backend>(chart: &mut frame::Chart<DB>, look: Look, band: &[(f64, f64, f64)]) -> Result<(), PlotError> {
    match band {
        [] => Ok(()),
        [(x, lo, hi)] => {
            let bar = PathElement::new([(*x, *lo), (*x, *hi)], look.color.mix(0.35).stroke_width(8));
            chart.draw_series(std::iter::once(bar)).map(drop).map_err(draw_err)
        }
        _ => {
            let outline: Vec<(f64, f64)> = band
                .iter()
                .map(|b| (b.0, b.2))
                .chain(band.iter().rev().map(|b| (b.0, b.1)))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(outline, look.band())))
                .map(drop)
                .map_err(draw_err)
        }
    }
}

/// The line, solid or dashed, with markers when the points are few.
fn line<DB: Backend>(chart: &mut frame::Chart<DB>, look: Look, line: &[(f64, f64)]) -> Result<(), PlotError> {
    frame::polyline(chart, line, look)?;
    if line.len() <= MARKED {
        let dots = line.iter().map(|p| Circle::new(*p, 4, look.color.filled()));
        chart.draw_series(dots).map_err(draw_err)?;
    }
    Ok(())
}
