//! One bar per label from zero, with a 95 % error bar and its value written
//! above it; bar `i` has the colour of series `i` in the other figures, so
//! a design keeps its colour across a comparison's plots.
//!
//! A lower bound (no trial saw downtime) is an open bar under an arrow,
//! captioned "≥ v", never a filled bar that reads as a measured value; a
//! closed form is a dashed black rule across its bar. Either puts an entry
//! in the legend.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{self, usable};
use super::frame::{self, Backend, Entry, Look, Swatch, draw_err};
use super::{Bar, Figure, Labels, PlotError};

/// Half a bar's width, in slots.
const HALF: f64 = 0.32;
/// Half an error bar's cap, in slots.
const CAP: f64 = 0.1;

/// A [`super::bars`] figure.
pub(super) struct Bars<'a> {
    pub labels: &'a Labels,
    pub bars: &'a [Bar],
}

/// A bar's value for its caption: about three significant digits.
fn value(v: f64) -> String {
    match v.abs() {
        a if a >= 1e6 || (a < 1e-3 && a > 0.0) => axis::number(v, a),
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
}

impl Figure for Bars<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let n = self.bars.len();
        let ys = axis::extent(
            self.bars
                .iter()
                .flat_map(|b| [0.0, b.value, b.lo, b.hi, b.closed_form.unwrap_or(0.0)]),
        );
        let y = match ys {
            Some((lo, hi)) => {
                let pad = (hi - lo) * 0.12;
                let lo = if lo < 0.0 { lo - pad } else { lo };
                let hi = if hi > 0.0 { hi + pad } else { hi };
                axis::linear(lo, hi, 0.0, 6)
            }
            None => axis::linear(0.0, 1.0, 0.0, 5),
        };
        let x = axis::categories(n);
        let (xa, ya) = (x.clone(), y.clone());
        let legend = self.legend();
        frame::with_chart(root, &self.labels.title, x, y, &legend, |chart| {
            let area = chart.plotting_area().strip_coord_spec();
            let slot = area.dim_in_pixel().0 as i32 / n.max(1) as i32;
            let style = frame::text(frame::SMALL_PX);
            let names: Vec<String> = self
                .bars
                .iter()
                .map(|b| frame::fit_middle(&area, &b.label, &style, slot - 8))
                .collect::<Result<_, _>>()?;
            let name = |v: &f64| names.get(v.round().max(0.0) as usize).cloned().unwrap_or_default();
            frame::mesh(chart, (&self.labels.x, &self.labels.y), &name, &|v| ya.label(*v), false)?;
            for (i, b) in self.bars.iter().enumerate() {
                bar(chart, i, b, slot)?;
            }
            if n == 0 {
                frame::no_data(chart, &xa, &ya)?;
            }
            Ok(())
        })
    }
}

impl Bars<'_> {
    /// Entries for the closed form and the bound, when a bar has one.
    fn legend(&self) -> Vec<Entry> {
        let ink = Look {
            color: frame::INK,
            dashed: true,
        };
        let mut legend = Vec::new();
        if self.bars.iter().any(|b| b.closed_form.is_some_and(usable)) {
            legend.push(Entry {
                label: "closed form".into(),
                look: ink,
                swatch: Swatch::Line,
            });
        }
        if self.bars.iter().any(|b| b.bound && usable(b.value)) {
            legend.push(Entry {
                label: "lower bound (no downtime seen)".into(),
                look: Look { dashed: false, ..ink },
                swatch: Swatch::Bound,
            });
        }
        legend
    }
}

/// Bar `i`: the bar (open under an arrow for a bound), its error bar, its
/// closed form and its caption (or "n/a").
fn bar<DB: Backend>(chart: &mut frame::Chart<DB>, i: usize, b: &Bar, slot: i32) -> Result<(), PlotError> {
    let (v, lo, hi) = (b.value, b.lo, b.hi);
    let x = i as f64;
    let look = Look::nth(i);
    if usable(v) {
        let area = chart.plotting_area();
        let rect = [(x - HALF, 0.0), (x + HALF, v)];
        if b.bound {
            area.draw(&Rectangle::new(rect, look.color.mix(0.15).filled()))
                .map_err(draw_err)?;
            area.draw(&Rectangle::new(rect, look.color.stroke_width(2)))
                .map_err(draw_err)?;
            let (px, py) = chart.backend_coord(&(x, v));
            let (bx, by) = chart.plotting_area().get_base_pixel();
            let plain = chart.plotting_area().strip_coord_spec();
            frame::bound_marker(&plain, (px - bx, py - by), look)?;
        } else {
            area.draw(&Rectangle::new(rect, look.color.mix(0.85).filled()))
                .map_err(draw_err)?;
        }
    }
    if let Some(c) = b.closed_form.filter(|c| usable(*c)) {
        let rule = DashedLineSeries::new(
            [(x - HALF - 0.06, c), (x + HALF + 0.06, c)],
            8,
            5,
            frame::INK.stroke_width(3),
        );
        chart.draw_series(rule).map_err(draw_err)?;
    }
    let area = chart.plotting_area();
    let whisker = usable(lo) && usable(hi);
    if whisker {
        let ink = frame::INK.stroke_width(2);
        for path in [
            [(x, lo), (x, hi)],
            [(x - CAP, lo), (x + CAP, lo)],
            [(x - CAP, hi), (x + CAP, hi)],
        ] {
            area.draw(&PathElement::new(path, ink)).map_err(draw_err)?;
        }
    }
    let caption = match (usable(v), b.bound) {
        (false, _) => "n/a".into(),
        (true, false) => value(v),
        (true, true) => format!("≥ {}", value(v)),
    };
    let style = frame::text(frame::SMALL_PX).pos(Pos::new(HPos::Center, VPos::Bottom));
    let (w, _) = area.estimate_text_size(&caption, &style).map_err(draw_err)?;
    if w as i32 > slot {
        return Ok(());
    }
    // Above the bound's arrow too (about 24 px over its value).
    let arrow = if b.bound && usable(v) {
        let (y0, y1) = (chart.y_range().start, chart.y_range().end);
        let px = f64::from(chart.plotting_area().dim_in_pixel().1.max(1));
        v + (y1 - y0) * 24.0 / px
    } else {
        v
    };
    let area = chart.plotting_area();
    let top = [v, arrow, if whisker { lo.max(hi) } else { v }]
        .into_iter()
        .filter(|t| usable(*t))
        .fold(0f64, f64::max);
    area.draw(&(EmptyElement::at((x, top)) + Text::new(caption, (0, -6), style)))
        .map_err(draw_err)
}
