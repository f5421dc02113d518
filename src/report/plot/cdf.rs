//! Empirical CDFs as step lines, with labelled vertical reference lines.
//!
//! Each CDF starts at its level left of the first drawn point (0, or on a
//! log axis the share at or below the last skipped `x <= 0`) and runs to
//! the right edge at its last level, so curves of different ranges compare
//! at every x. Reference lines widen the x axis so they always show.
//!
//! As a survival curve (`tail`), the y axis is the share above x, `1 - F`,
//! on a log scale down to the smallest share the data holds, with the p90,
//! p99 and p99.9 levels ruled, so the tail that a linear CDF squeezes into
//! its top pixel row reads directly. On a log x axis the curve then starts
//! at the 1st percentile and the y axis stops at 1e-5: the fastest
//! hundredth says nothing about the tail and would stretch the x axis over
//! decades of empty space, and shares under 1e-5 are a handful of requests.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{self, Axis, usable};
use super::frame::{self, Backend, Entry, Look, Swatch, draw_err};
use super::{Figure, Labels, PlotError};

/// A [`super::cdf`] figure.
pub(super) struct Cdf<'a> {
    pub labels: &'a Labels,
    pub series: &'a [(String, Vec<(f64, f64)>)],
    pub vlines: &'a [(f64, String)],
    pub x_log: bool,
    /// Draw `1 - F` on a log y axis.
    pub tail: bool,
}

/// The percentiles ruled on a survival curve, as `(1 - F, label)`.
const PERCENTILES: [(f64, &str); 3] = [(0.1, "p90"), (0.01, "p99"), (0.001, "p99.9")];
/// The share below which a log-x survival curve's start is cut.
const LEFT_TAIL: f64 = 0.01;
/// The lowest share a survival curve's axis reaches.
const FLOOR: f64 = 1e-5;

/// One CDF reduced to what can be drawn: its level before the first point
/// and its points, sorted, with F clamped to [0, 1].
struct Clean {
    start: f64,
    points: Vec<(f64, f64)>,
}

impl Clean {
    fn new(points: &[(f64, f64)], x_log: bool, tail: bool) -> Self {
        let mut pts: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| usable(p.0) && usable(p.1))
            .map(|&(x, f)| (x, f.clamp(0.0, 1.0)))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let skipped = match (x_log, tail) {
            (true, true) => pts.iter().take_while(|p| p.0 <= 0.0 || p.1 < LEFT_TAIL).count(),
            (true, false) => pts.iter().take_while(|p| p.0 <= 0.0).count(),
            (false, _) => 0,
        };
        let start = if skipped > 0 { pts[skipped - 1].1 } else { 0.0 };
        Self {
            start,
            points: pts.split_off(skipped),
        }
    }

    /// The step path from the left edge `x0` to the right edge `x1`.
    fn steps(&self, x0: f64, x1: f64) -> Vec<(f64, f64)> {
        let mut path = vec![(x0, self.start)];
        let mut level = self.start;
        for &(x, f) in &self.points {
            path.push((x, level));
            path.push((x, f));
            level = f;
        }
        path.push((x1, level));
        path
    }

    /// The smallest share above any point, if one is positive.
    fn least_tail(&self) -> Option<f64> {
        std::iter::once(self.start)
            .chain(self.points.iter().map(|p| p.1))
            .map(|f| 1.0 - f)
            .filter(|s| *s > 1e-12)
            .reduce(f64::min)
    }
}

/// A survival curve's y axis: log from under the smallest share to 1.
fn tail_axis(clean: &[Clean]) -> Axis {
    let least = clean
        .iter()
        .filter_map(Clean::least_tail)
        .reduce(f64::min)
        .unwrap_or(0.1);
    axis::log((least * 0.6).clamp(FLOOR, 0.3), 1.15, 0.0)
}

impl Figure for Cdf<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let clean: Vec<Clean> = self
            .series
            .iter()
            .map(|s| Clean::new(&s.1, self.x_log, self.tail))
            .collect();
        let placeable = |x: f64| usable(x) && (!self.x_log || x > 0.0);
        let data = axis::extent(clean.iter().flat_map(|c| c.points.iter().map(|p| p.0)));
        let refs = self.vlines.iter().map(|v| v.0).filter(|x| placeable(*x));
        let xs = axis::extent(data.into_iter().flat_map(|(a, b)| [a, b]).chain(refs));
        let x = match (xs, self.x_log) {
            (Some((lo, hi)), false) => axis::linear(lo, hi, 0.03, 8),
            (Some((lo, hi)), true) => axis::log(lo, hi, 0.03),
            (None, false) => axis::linear(0.0, 1.0, 0.0, 5),
            (None, true) => axis::log(1.0, 10.0, 0.0),
        };
        let y = if self.tail {
            tail_axis(&clean)
        } else {
            axis::linear(0.0, 1.0, 0.02, 6)
        };
        let legend: Vec<Entry> = if self.series.iter().all(|s| s.0.is_empty()) {
            Vec::new()
        } else {
            (self.series.iter().enumerate())
                .map(|(i, s)| Entry {
                    label: s.0.clone(),
                    look: Look::nth(i),
                    swatch: Swatch::Line,
                })
                .collect()
        };
        let (xa, ya) = (x.clone(), y.clone());
        frame::with_chart(root, &self.labels.title, x, y, &legend, |chart| {
            frame::mesh(
                chart,
                (&self.labels.x, &self.labels.y),
                &|v| xa.label(*v),
                &|v| ya.label(*v),
                true,
            )?;
            let refs: Vec<&(f64, String)> = self.vlines.iter().filter(|v| placeable(v.0)).collect();
            rules(chart, &ya, &refs)?;
            if self.tail {
                percentiles(chart, &xa, &ya)?;
            }
            let (x0, x1) = xa.bounds();
            let floor = ya.bounds().0;
            let paths: Vec<Vec<(i32, i32)>> = clean
                .iter()
                .map(|c| {
                    let mut steps = c.steps(x0, x1);
                    if self.tail {
                        // A share of 0 has no place on a log axis: the
                        // curve leaves through the bottom edge.
                        steps.iter_mut().for_each(|p| p.1 = (1.0 - p.1).max(floor));
                    }
                    frame::pixel_path(chart, &steps)
                })
                .collect();
            for (i, path) in paths.iter().enumerate() {
                frame::stroke(chart, path, Look::nth(i))?;
            }
            captions(chart, &ya, &refs, &paths)?;
            if data.is_none() {
                frame::no_data(chart, &xa, &ya)?;
            }
            Ok(())
        })
    }
}

/// The reference lines, dashed, behind the data.
fn rules<DB: Backend>(chart: &mut frame::Chart<DB>, y: &Axis, refs: &[&(f64, String)]) -> Result<(), PlotError> {
    let (y0, y1) = y.bounds();
    for (x, _) in refs {
        let style = frame::INK.stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new([(*x, y0), (*x, y1)], 8, 6, style))
            .map_err(draw_err)?;
    }
    Ok(())
}

/// The p90, p99 and p99.9 levels of a survival curve, as faint rules
/// labelled at the left edge (below a falling curve, where it leaves room).
fn percentiles<DB: Backend>(chart: &mut frame::Chart<DB>, x: &Axis, y: &Axis) -> Result<(), PlotError> {
    let (x0, x1) = x.bounds();
    let (y0, y1) = y.bounds();
    let style = frame::text(frame::SMALL_PX)
        .color(&frame::INK)
        .pos(Pos::new(HPos::Left, VPos::Bottom));
    for (level, label) in PERCENTILES.iter().filter(|p| p.0 > y0 && p.0 < y1) {
        let rule = DashedLineSeries::new([(x0, *level), (x1, *level)], 4, 6, frame::INK.mix(0.5).stroke_width(1));
        chart.draw_series(rule).map_err(draw_err)?;
        let text = EmptyElement::at((x0, *level)) + Text::new(label.to_string(), (6, -3), style.clone());
        chart.plotting_area().draw(&text).map_err(draw_err)?;
    }
    Ok(())
}

/// Each reference line's label on a white backing, beside its line: at
/// whichever corner (right or left of the line, bottom or top of the plot,
/// nearest rows first) covers the fewest curve pixels without touching
/// another label or reference line; a label with no room is left out.
fn captions<DB: Backend>(
    chart: &mut frame::Chart<DB>,
    y: &Axis,
    refs: &[&(f64, String)],
    paths: &[Vec<(i32, i32)>],
) -> Result<(), PlotError> {
    let area = chart.plotting_area().strip_coord_spec();
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let bx = area.get_base_pixel().0;
    let style = frame::text(frame::SMALL_PX).color(&frame::INK);
    let mut sorted: Vec<&&(f64, String)> = refs.iter().collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let xs: Vec<i32> = sorted
        .iter()
        .map(|r| chart.backend_coord(&(r.0, y.bounds().1)).0 - bx)
        .collect();
    let ink: Vec<(i32, i32)> = dense(paths.iter().map(Vec::as_slice)).collect();
    let mut placed: Vec<[i32; 4]> = Vec::new();
    for (r, &px) in sorted.iter().zip(&xs) {
        let label = frame::fit(&area, &r.1, &style, w / 2)?;
        let (tw, th) = area.estimate_text_size(&label, &style).map_err(draw_err)?;
        let (tw, th) = (tw as i32, th as i32);
        let mut best: Option<((usize, usize), [i32; 4])> = None;
        for row in 0..6 {
            for (rank, (right, low)) in [(true, true), (false, false), (true, false), (false, true)]
                .into_iter()
                .enumerate()
            {
                let l = if right { px + 5 } else { px - 11 - tw };
                let t = if low {
                    h - 11 - th - row * (th + 10)
                } else {
                    5 + row * (th + 10)
                };
                let b = [l, t, l + tw + 6, t + th + 6];
                let clear = |q: &[i32; 4]| b[2] < q[0] || b[0] > q[2] || b[3] < q[1] || b[1] > q[3];
                let fits = b[0] >= 0 && b[1] >= 0 && b[2] <= w && b[3] <= h;
                if !fits || !placed.iter().all(clear) || xs.iter().any(|x| *x >= b[0] - 2 && *x <= b[2] + 2) {
                    continue;
                }
                let hits = ink
                    .iter()
                    .filter(|q| q.0 >= b[0] - 3 && q.0 <= b[2] + 3 && q.1 >= b[1] - 3 && q.1 <= b[3] + 3);
                let key = (hits.count(), row as usize * 4 + rank);
                if best.is_none_or(|(k, _)| key < k) {
                    best = Some((key, b));
                }
            }
        }
        if let Some((_, b)) = best {
            area.draw(&Rectangle::new([(b[0], b[1]), (b[2], b[3])], WHITE.mix(0.85).filled()))
                .map_err(draw_err)?;
            let text = Text::new(label, (b[0] + 3, b[1] + 3), style.pos(Pos::new(HPos::Left, VPos::Top)));
            area.draw(&text).map_err(draw_err)?;
            placed.push(b);
        }
    }
    Ok(())
}

/// Points along the paths no more than 2 pixels apart.
fn dense<'a>(paths: impl Iterator<Item = &'a [(i32, i32)]>) -> impl Iterator<Item = (i32, i32)> {
    paths.flat_map(|p| p.windows(2)).flat_map(|s| {
        let (a, b) = (s[0], s[1]);
        let n = (b.0 - a.0).abs().max((b.1 - a.1).abs()) / 2 + 1;
        (0..=n).map(move |i| (a.0 + (b.0 - a.0) * i / n, a.1 + (b.1 - a.1) * i / n))
    })
}
