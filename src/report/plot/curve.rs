//! Lines with shaded bands over a linear, whole-number or log x axis, with
//! optional grey x intervals behind them (in the legend when labelled),
//! lower bounds as open markers with an arrow up, closed forms as dashed
//! lines in their series' colour, and marked points.
//!
//! Points are sorted by x; a point whose x cannot be placed is dropped, a
//! point whose `mid` is not finite leaves the line (which joins its
//! neighbours) and one whose `lo` or `hi` is not finite leaves the band.
//! Bounds never join the line: a bound is not a value, and a line through
//! it would show the curve falling where the data only says "at least".

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{self, Axis, usable};
use super::frame::{self, Backend, Entry, Look, Swatch, draw_err};
use super::{BandPoint, Figure, Labels, Layout, PlotError, Series, XScale};

/// Series with at most this many points get a marker on each point.
const MARKED: usize = 30;

/// A [`super::curve`] figure.
pub(super) struct Curve<'a> {
    pub labels: &'a Labels,
    pub series: &'a [Series],
    pub layout: &'a Layout,
}

/// One series reduced to what can be drawn.
struct Clean {
    line: Vec<(f64, f64)>,
    /// `(x, lo, hi)` with `lo <= hi`.
    band: Vec<(f64, f64, f64)>,
    /// `(x, bound)`.
    bounds: Vec<(f64, f64)>,
}

impl Clean {
    fn new(s: &Series, x_log: bool) -> Self {
        let placeable = |x: f64| usable(x) && (!x_log || x > 0.0);
        let bounds = s
            .bounds
            .iter()
            .filter(|b| placeable(b.0) && usable(b.1))
            .copied()
            .collect();
        let mut this = Self::points(&s.points, x_log);
        this.bounds = bounds;
        this
    }

    fn points(points: &[BandPoint], x_log: bool) -> Self {
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
        Self {
            line,
            band,
            bounds: Vec::new(),
        }
    }

    fn xs(&self) -> impl Iterator<Item = f64> + '_ {
        self.line
            .iter()
            .map(|p| p.0)
            .chain(self.band.iter().map(|b| b.0))
            .chain(self.bounds.iter().map(|b| b.0))
    }

    fn ys(&self) -> impl Iterator<Item = f64> + '_ {
        self.line
            .iter()
            .map(|p| p.1)
            .chain(self.band.iter().flat_map(|b| [b.1, b.2]))
            .chain(self.bounds.iter().map(|b| b.1))
    }
}

/// Each series' look: palette colours counted over measured series only,
/// a closed form taking the colour of the series before it, dashed.
fn looks(series: &[Series]) -> Vec<Look> {
    let mut n = 0;
    series
        .iter()
        .map(|s| {
            if s.closed_form {
                Look {
                    dashed: true,
                    ..Look::nth(n.max(1) - 1)
                }
            } else {
                n += 1;
                Look::nth(n - 1)
            }
        })
        .collect()
}

/// The y axis: padded around the data, then cut to `limits` (a share never
/// shows above 1) while keeping a sliver of room past a line on the limit.
fn y_axis(ys: Option<(f64, f64)>, limits: Option<(f64, f64)>) -> Axis {
    let Some((lo, hi)) = ys else {
        return axis::linear(0.0, 1.0, 0.0, 5);
    };
    let Some((min, max)) = limits else {
        return axis::linear(lo, hi, 0.06, 6);
    };
    let (lo, hi) = (lo.max(min), hi.min(max));
    // At least a twentieth of the limits: a line flat at 0 is then read
    // as "0 of 1", not blown up over an axis of thousandths.
    let span = (hi - lo).max((max - min) * 0.05);
    let sliver = (max - min) * 0.01;
    let lo = (lo - span * 0.06).max(min - sliver);
    let hi = (hi + span * 0.06).min(max + sliver);
    axis::linear(lo, hi.max(lo + span), 0.0, 6)
}

impl Figure for Curve<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let layout = self.layout;
        let x_log = layout.x == XScale::Log;
        let clean: Vec<Clean> = self.series.iter().map(|s| Clean::new(s, x_log)).collect();
        let looks = looks(self.series);
        let xs = axis::extent(clean.iter().flat_map(Clean::xs));
        let ys = axis::extent(clean.iter().flat_map(Clean::ys));
        let x = match (xs, layout.x) {
            (Some((lo, hi)), XScale::Linear) => axis::linear(lo, hi, 0.03, 8),
            (Some((lo, hi)), XScale::Integer) => axis::integer(lo, hi, 0.03, 8),
            (Some((lo, hi)), XScale::Log) => axis::log(lo, hi, 0.03),
            (None, XScale::Log) => axis::log(1.0, 10.0, 0.0),
            (None, _) => axis::linear(0.0, 1.0, 0.0, 5),
        };
        let y = y_axis(ys, layout.y_limits);
        let legend = self.legend(&clean, &looks, &x);
        let (xa, ya) = (x.clone(), y.clone());
        frame::with_chart(root, &self.labels.title, x, y, &legend, |chart| {
            shade(chart, &xa, &ya, &layout.shade)?;
            frame::mesh(
                chart,
                (&self.labels.x, &self.labels.y),
                &|v| xa.label(*v),
                &|v| ya.label(*v),
                true,
            )?;
            for (c, look) in clean.iter().zip(&looks) {
                band(chart, *look, &c.band)?;
            }
            for ((c, look), s) in clean.iter().zip(&looks).zip(self.series) {
                line(chart, *look, &c.line, !s.closed_form)?;
            }
            for (c, look) in clean.iter().zip(&looks) {
                bounds(chart, *look, &c.bounds)?;
            }
            marks(chart, &layout.marks)?;
            if xs.is_none() {
                frame::no_data(chart, &xa, &ya)?;
            }
            Ok(())
        })
    }
}

impl Curve<'_> {
    /// One entry per labelled series, then the shade and the bounds (when
    /// any show); none when no series has a label.
    fn legend(&self, clean: &[Clean], looks: &[Look], x: &Axis) -> Vec<Entry> {
        if self.series.iter().all(|s| s.label.is_empty()) {
            return Vec::new();
        }
        let mut legend: Vec<Entry> = self
            .series
            .iter()
            .zip(clean)
            .zip(looks)
            .map(|((s, c), look)| Entry {
                label: s.label.clone(),
                look: *look,
                swatch: if c.band.is_empty() { Swatch::Line } else { Swatch::Band },
            })
            .collect();
        let (x0, x1) = x.bounds();
        let shaded = self.layout.shade.iter().any(|&(a, b)| a.min(b) <= x1 && a.max(b) >= x0);
        if shaded && !self.layout.shade_label.is_empty() {
            legend.push(Entry {
                label: self.layout.shade_label.clone(),
                look: Look::nth(0),
                swatch: Swatch::Shade,
            });
        }
        if clean.iter().any(|c| !c.bounds.is_empty()) {
            legend.push(Entry {
                label: "lower bound (no downtime seen)".into(),
                look: Look {
                    color: frame::INK,
                    dashed: false,
                },
                swatch: Swatch::Bound,
            });
        }
        legend
    }
}

/// Each lower bound as an open marker with an arrow up, captioned "≥ v"
/// to its left (a bound sits at a sweep's last x more often than not).
fn bounds<DB: Backend>(chart: &mut frame::Chart<DB>, look: Look, bounds: &[(f64, f64)]) -> Result<(), PlotError> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let area = chart.plotting_area().strip_coord_spec();
    let (bx, by) = chart.plotting_area().get_base_pixel();
    let style = frame::text(frame::SMALL_PX)
        .color(&look.color)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for b in bounds {
        let (x, y) = chart.backend_coord(b);
        let (x, y) = (x - bx, y - by);
        frame::bound_marker(&area, (x, y), look)?;
        let caption = format!("≥ {}", axis::number(b.1, 0.01));
        area.draw(&Text::new(caption, (x - 10, y), style.clone()))
            .map_err(draw_err)?;
    }
    Ok(())
}

/// Each marked point as a ring with its label below and beside it (a
/// marked point is a minimum, so the room is underneath).
fn marks<DB: Backend>(chart: &mut frame::Chart<DB>, marks: &[(f64, f64, String)]) -> Result<(), PlotError> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let area = chart.plotting_area().strip_coord_spec();
    let (w, h) = area.dim_in_pixel();
    let (bx, by) = chart.plotting_area().get_base_pixel();
    let style = frame::text(frame::SMALL_PX).color(&frame::INK);
    for (x, y, label) in marks.iter().filter(|m| usable(m.0) && usable(m.1)) {
        let (px, py) = chart.backend_coord(&(*x, *y));
        let (px, py) = (px - bx, py - by);
        area.draw(&Circle::new((px, py), 9, frame::INK.stroke_width(2)))
            .map_err(draw_err)?;
        let (tw, th) = area.estimate_text_size(label, &style).map_err(draw_err)?;
        let right = px + 14 + tw as i32 <= w as i32;
        let (tx, anchor) = if right {
            (px + 10, HPos::Left)
        } else {
            (px - 10, HPos::Right)
        };
        let left = if right { tx - 2 } else { tx - tw as i32 - 2 };
        let below = py + 12 + th as i32 <= h as i32;
        let ty = if below { py + 12 } else { py - 12 - th as i32 };
        area.draw(&Rectangle::new(
            [(left, ty - 2), (left + tw as i32 + 4, ty + th as i32 + 2)],
            WHITE.mix(0.85).filled(),
        ))
        .map_err(draw_err)?;
        area.draw(&Text::new(
            label.clone(),
            (tx, ty),
            style.pos(Pos::new(anchor, VPos::Top)),
        ))
        .map_err(draw_err)?;
    }
    Ok(())
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

/// The line, solid or dashed, with markers when the points are few and
/// `dots` (a closed form is a line, not samples).
fn line<DB: Backend>(
    chart: &mut frame::Chart<DB>,
    look: Look,
    line: &[(f64, f64)],
    dots: bool,
) -> Result<(), PlotError> {
    frame::polyline(chart, line, look)?;
    if dots && line.len() <= MARKED {
        let dots = line.iter().map(|p| Circle::new(*p, 4, look.color.filled()));
        chart.draw_series(dots).map_err(draw_err)?;
    }
    Ok(())
}
