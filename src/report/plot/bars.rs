//! One bar per label from zero, with a 95 % error bar and its value written
//! above it; bar `i` has the colour of series `i` in the other figures, so
//! a design keeps its colour across a comparison's plots.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{self, usable};
use super::frame::{self, Backend, Look, draw_err};
use super::{Figure, Labels, PlotError};

/// Half a bar's width, in slots.
const HALF: f64 = 0.32;
/// Half an error bar's cap, in slots.
const CAP: f64 = 0.1;

/// A [`super::bars`] figure.
pub(super) struct Bars<'a> {
    pub labels: &'a Labels,
    pub bars: &'a [(String, f64, f64, f64)],
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
        let ys = axis::extent(self.bars.iter().flat_map(|b| [0.0, b.1, b.2, b.3]));
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
        frame::with_chart(root, &self.labels.title, x, y, &[], |chart| {
            let area = chart.plotting_area().strip_coord_spec();
            let slot = area.dim_in_pixel().0 as i32 / n.max(1) as i32;
            let style = frame::text(frame::SMALL_PX);
            let names: Vec<String> = self
                .bars
                .iter()
                .map(|b| frame::fit_middle(&area, &b.0, &style, slot - 8))
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

/// Bar `i`: the bar, its error bar and its caption (or "n/a").
fn bar<DB: Backend>(
    chart: &mut frame::Chart<DB>,
    i: usize,
    &(_, v, lo, hi): &(String, f64, f64, f64),
    slot: i32,
) -> Result<(), PlotError> {
    let x = i as f64;
    let look = Look::nth(i);
    let area = chart.plotting_area();
    if usable(v) {
        area.draw(&Rectangle::new(
            [(x - HALF, 0.0), (x + HALF, v)],
            look.color.mix(0.85).filled(),
        ))
        .map_err(draw_err)?;
    }
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
    let caption = if usable(v) { value(v) } else { "n/a".into() };
    let style = frame::text(frame::SMALL_PX).pos(Pos::new(HPos::Center, VPos::Bottom));
    let (w, _) = area.estimate_text_size(&caption, &style).map_err(draw_err)?;
    if w as i32 > slot {
        return Ok(());
    }
    let top = [v, if whisker { lo.max(hi) } else { v }]
        .into_iter()
        .filter(|t| usable(*t))
        .fold(0f64, f64::max);
    area.draw(&(EmptyElement::at((x, top)) + Text::new(caption, (0, -6), style)))
        .map_err(draw_err)
}
