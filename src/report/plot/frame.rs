//! What every figure shares: the palette and type sizes, the title, the
//! legend panel to the right of the plot (so it never covers data), the
//! axes and grid, and the "no data" note.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::PlotError;
use super::axis::Axis;

/// A backend the figures draw on, and whether it is a raster.
pub(super) trait Backend: DrawingBackend {
    /// Pixels rather than vector shapes.
    const RASTER: bool;
}

impl Backend for BitMapBackend<'_> {
    const RASTER: bool = true;
}

impl Backend for SVGBackend<'_> {
    const RASTER: bool = false;
}

/// The chart every figure draws into.
pub(super) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// The one font family; the font is embedded and registered by the parent.
pub(super) const FONT: &str = "sans-serif";
// plotters sizes text by its full height (ascent plus descent), about 1.2
// em, so these give an em of about 24, 18 and 14 px.
const TITLE_PX: f64 = 29.0;
const AXIS_PX: f64 = 21.0;
/// Tick labels and notes.
pub(super) const SMALL_PX: f64 = 17.0;
const LEGEND_PX: f64 = 18.0;
const LEGEND_ROW: i32 = 28;
const MARGIN: i32 = 14;
/// More characters than any line of text here has room for.
const LONGEST: usize = 160;
/// The legend's line sample, and the space between entries in a row.
const SWATCH: i32 = 32;
const GAP: i32 = 28;

/// Okabe and Ito's colour-blind-safe palette, without its yellow (too pale
/// on white).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x00, 0x00),
];
/// Reference lines and error bars.
pub(super) const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// Shaded x intervals.
pub(super) const SHADE: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);

/// How the `i`th series is drawn: palette colours in turn, dashed on the
/// second pass through the palette.
#[derive(Clone, Copy, Debug)]
pub(super) struct Look {
    /// Line colour.
    pub color: RGBColor,
    /// Dashed rather than solid.
    pub dashed: bool,
}

impl Look {
    /// The look of series `i`.
    pub(super) fn nth(i: usize) -> Self {
        Self {
            color: PALETTE[i % PALETTE.len()],
            dashed: (i / PALETTE.len()) % 2 == 1,
        }
    }

    /// The line style.
    pub(super) fn stroke(&self) -> ShapeStyle {
        self.color.stroke_width(3)
    }

    /// The band fill (about 20 % opaque).
    pub(super) fn band(&self) -> ShapeStyle {
        self.color.mix(0.2).filled()
    }
}

/// What a legend entry's sample shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Swatch {
    /// A line in the entry's look.
    Line,
    /// A line over its band.
    Band,
    /// A grey block, as the shaded x intervals.
    Shade,
    /// An open marker with an arrow up: a lower bound.
    Bound,
}

/// One line of the legend.
pub(super) struct Entry {
    /// The series' label.
    pub label: String,
    /// Its look.
    pub look: Look,
    /// Its sample.
    pub swatch: Swatch,
}

/// A text style in the embedded font.
pub(super) fn text(px: f64) -> TextStyle<'static> {
    (FONT, px).into_font().color(&BLACK)
}

/// Converts a plotters drawing error.
pub(super) fn draw_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// The width of `s` in `style`, in pixels.
fn width<DB: Backend>(area: &DrawingArea<DB, Shift>, s: &str, style: &TextStyle) -> Result<i32, PlotError> {
    Ok(area.estimate_text_size(s, style).map_err(draw_err)?.0 as i32)
}

/// `s`, shortened with an ellipsis until it fits in `max` pixels.
pub(super) fn fit<DB: Backend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    style: &TextStyle,
    max: i32,
) -> Result<String, PlotError> {
    if width(area, s, style)? <= max {
        return Ok(s.to_string());
    }
    // No figure has room for more; this bounds the search below.
    let mut chars: Vec<char> = s.chars().take(LONGEST).collect();
    while !chars.is_empty() {
        chars.pop();
        let t: String = chars.iter().collect::<String>().trim_end().to_string() + "…";
        if width(area, &t, style)? <= max {
            return Ok(t);
        }
    }
    Ok(String::new())
}

/// `s`, with its middle replaced by an ellipsis until it fits in `max`
/// pixels (names that share a prefix stay distinct).
pub(super) fn fit_middle<DB: Backend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    style: &TextStyle,
    max: i32,
) -> Result<String, PlotError> {
    if width(area, s, style)? <= max {
        return Ok(s.to_string());
    }
    let chars: Vec<char> = s.chars().collect();
    for keep in (1..chars.len().min(LONGEST)).rev() {
        let (head, tail) = (keep.div_ceil(2), keep / 2);
        let t: String = chars[..head]
            .iter()
            .chain(['…'].iter())
            .chain(&chars[chars.len() - tail..])
            .collect();
        if width(area, &t, style)? <= max {
            return Ok(t);
        }
    }
    Ok(String::new())
}

/// Paints the background and title, lays out the legend (if any entries)
/// and the axes, and hands the chart to `body`, which draws the data and
/// calls [`mesh`] when it wants the grid drawn.
///
/// The legend goes in rows under the title when it fits in two, otherwise
/// in a column to the right of the plot; either way it never covers data.
pub(super) fn with_chart<DB: Backend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x: Axis,
    y: Axis,
    legend: &[Entry],
    body: impl FnOnce(&mut Chart<DB>) -> Result<(), PlotError>,
) -> Result<(), PlotError> {
    let w = root.dim_in_pixel().0 as i32;
    heading(root, title)?;
    let mut body_area = root.margin(MARGIN + TITLE_PX as i32 + 10, 0, 0, 0);
    let mut column = 0;
    if !legend.is_empty() {
        let rows = flow(&body_area, legend, w - 2 * MARGIN)?;
        if rows.len() <= 2 {
            draw_rows(&body_area, legend, &rows, w)?;
            body_area = body_area.margin(rows.len() as i32 * LEGEND_ROW + 4, 0, 0, 0);
        } else {
            column = column_width(&body_area, legend, w)?;
        }
    }
    let (plot_area, legend_area) = body_area.split_horizontally(w - column);
    let mut chart = ChartBuilder::on(&plot_area)
        .margin_top(10)
        .margin_left(MARGIN)
        .margin_right(if column == 0 { 2 * MARGIN } else { MARGIN })
        .margin_bottom(MARGIN)
        .x_label_area_size(SMALL_PX as i32 + AXIS_PX as i32 + 24)
        .y_label_area_size(y_label_width(&plot_area, &y)?)
        .build_cartesian_2d(x, y)
        .map_err(draw_err)?;
    if column > 0 {
        let top = chart.plotting_area().get_pixel_range().1.start - legend_area.get_pixel_range().1.start;
        draw_column(&legend_area, legend, top)?;
    }
    body(&mut chart)
}

/// Paints the background and the title.
pub(super) fn heading<DB: Backend>(root: &DrawingArea<DB, Shift>, title: &str) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(draw_err)?;
    let w = root.dim_in_pixel().0 as i32;
    let style = text(TITLE_PX).pos(Pos::new(HPos::Center, VPos::Top));
    let title = fit(root, title, &style, w - 2 * MARGIN)?;
    root.draw(&Text::new(title, (w / 2, MARGIN), style)).map_err(draw_err)
}

/// Writes `lines` centred on the figure, one under another.
pub(super) fn centred<DB: Backend>(root: &DrawingArea<DB, Shift>, lines: &[String]) -> Result<(), PlotError> {
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let style = text(AXIS_PX).color(&INK).pos(Pos::new(HPos::Center, VPos::Center));
    let row = AXIS_PX as i32 + 12;
    let top = h / 2 - row * (lines.len() as i32 - 1) / 2;
    for (i, line) in lines.iter().enumerate() {
        let line = fit(root, line, &style, w - 4 * MARGIN)?;
        root.draw(&Text::new(line, (w / 2, top + i as i32 * row), style.clone()))
            .map_err(draw_err)?;
    }
    Ok(())
}

/// Room for the y tick labels and the rotated y axis label.
fn y_label_width<DB: Backend>(area: &DrawingArea<DB, Shift>, y: &Axis) -> Result<i32, PlotError> {
    let style = text(SMALL_PX);
    let mut widest = 0;
    for v in y.ticks() {
        widest = widest.max(width(area, &y.label(*v), &style)?);
    }
    Ok(widest + AXIS_PX as i32 + 26)
}

/// The width of a legend entry: swatch, gap, label.
fn entry_width<DB: Backend>(area: &DrawingArea<DB, Shift>, e: &Entry) -> Result<i32, PlotError> {
    Ok(SWATCH + 8 + width(area, &e.label, &text(LEGEND_PX))?)
}

/// The legend entries laid out in rows no wider than `avail`, as
/// `(index, width)`.
fn flow<DB: Backend>(
    area: &DrawingArea<DB, Shift>,
    legend: &[Entry],
    avail: i32,
) -> Result<Vec<Vec<(usize, i32)>>, PlotError> {
    let mut rows: Vec<Vec<(usize, i32)>> = vec![Vec::new()];
    let mut used = 0;
    for (i, e) in legend.iter().enumerate() {
        let ew = entry_width(area, e)?.min(avail);
        if used > 0 && used + GAP + ew > avail {
            rows.push(Vec::new());
            used = 0;
        }
        used += if used > 0 { GAP } else { 0 } + ew;
        if let Some(row) = rows.last_mut() {
            row.push((i, ew));
        }
    }
    Ok(rows)
}

/// Draws legend rows, each centred on the figure.
fn draw_rows<DB: Backend>(
    area: &DrawingArea<DB, Shift>,
    legend: &[Entry],
    rows: &[Vec<(usize, i32)>],
    w: i32,
) -> Result<(), PlotError> {
    for (r, row) in rows.iter().enumerate() {
        let total: i32 = row.iter().map(|e| e.1).sum::<i32>() + GAP * (row.len() as i32 - 1);
        let mut x = (w - total) / 2;
        let y = LEGEND_ROW / 2 + r as i32 * LEGEND_ROW;
        for &(i, ew) in row {
            draw_entry(area, &legend[i], (x, y), ew)?;
            x += ew + GAP;
        }
    }
    Ok(())
}

/// The legend column's width: the longest entry, capped at 30 % of `total`.
fn column_width<DB: Backend>(area: &DrawingArea<DB, Shift>, legend: &[Entry], total: i32) -> Result<i32, PlotError> {
    let mut widest = 0;
    for e in legend {
        widest = widest.max(entry_width(area, e)?);
    }
    Ok((widest + 4 + MARGIN).min(total * 3 / 10))
}

/// Draws the legend entries in a column from `top` down, as many as fit.
fn draw_column<DB: Backend>(area: &DrawingArea<DB, Shift>, legend: &[Entry], top: i32) -> Result<(), PlotError> {
    let (w, h) = area.dim_in_pixel();
    let rows = ((h as i32 - top - MARGIN) / LEGEND_ROW).max(1) as usize;
    for (i, e) in legend.iter().enumerate() {
        let y = top + LEGEND_ROW / 2 + i as i32 * LEGEND_ROW;
        if i + 1 == rows && legend.len() > rows {
            let more = format!("… {} more", legend.len() - i);
            let style = text(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center));
            area.draw(&Text::new(more, (4, y), style)).map_err(draw_err)?;
            break;
        }
        draw_entry(area, e, (4, y), w as i32 - 4 - MARGIN)?;
    }
    Ok(())
}

/// One legend entry with its left end at `x`, centred on `y`, at most `max`
/// pixels wide.
fn draw_entry<DB: Backend>(
    area: &DrawingArea<DB, Shift>,
    e: &Entry,
    (x, y): (i32, i32),
    max: i32,
) -> Result<(), PlotError> {
    match e.swatch {
        Swatch::Band => area
            .draw(&Rectangle::new([(x, y - 9), (x + SWATCH, y + 9)], e.look.band()))
            .map_err(draw_err)?,
        Swatch::Shade => area
            .draw(&Rectangle::new([(x, y - 9), (x + SWATCH, y + 9)], SHADE.filled()))
            .map_err(draw_err)?,
        Swatch::Bound => {
            bound_marker(area, (x + SWATCH / 2, y + 5), e.look)?;
        }
        Swatch::Line => {}
    }
    let stroke = e.look.stroke();
    if matches!(e.swatch, Swatch::Shade | Swatch::Bound) {
        // The sample is the block or marker alone.
    } else if e.look.dashed {
        for (a, b) in [(0, 11), (19, SWATCH)] {
            area.draw(&PathElement::new([(x + a, y), (x + b, y)], stroke))
                .map_err(draw_err)?;
        }
    } else {
        area.draw(&PathElement::new([(x, y), (x + SWATCH, y)], stroke))
            .map_err(draw_err)?;
    }
    let style = text(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center));
    let label = fit(area, &e.label, &style, max - SWATCH - 8)?;
    area.draw(&Text::new(label, (x + SWATCH + 8, y), style))
        .map_err(draw_err)
}

/// A lower bound's marker at pixel `at` (its circle's centre): an open
/// circle with an arrow pointing up, away from the value it bounds.
pub(super) fn bound_marker<DB: Backend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    look: Look,
) -> Result<(), PlotError> {
    let ink = look.color.stroke_width(2);
    area.draw(&Circle::new((x, y), 5, WHITE.filled())).map_err(draw_err)?;
    area.draw(&Circle::new((x, y), 5, ink)).map_err(draw_err)?;
    area.draw(&PathElement::new([(x, y - 6), (x, y - 20)], ink))
        .map_err(draw_err)?;
    area.draw(&Polygon::new(
        [(x - 5, y - 16), (x + 5, y - 16), (x, y - 23)],
        look.color.filled(),
    ))
    .map_err(draw_err)
}

/// Draws the grid (vertical lines only if `x_grid`), the axes, the tick
/// labels (through `x_fmt` and `y_fmt`) and the axis labels.
pub(super) fn mesh<DB: Backend>(
    chart: &mut Chart<DB>,
    (x_desc, y_desc): (&str, &str),
    x_fmt: &dyn Fn(&f64) -> String,
    y_fmt: &dyn Fn(&f64) -> String,
    x_grid: bool,
) -> Result<(), PlotError> {
    let mut mesh = chart.configure_mesh();
    if !x_grid {
        mesh.disable_x_mesh();
    }
    mesh.x_labels(100)
        .y_labels(100)
        .x_label_formatter(x_fmt)
        .y_label_formatter(y_fmt)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(text(SMALL_PX))
        .axis_desc_style(text(AXIS_PX))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(BLACK.mix(0.05))
        .axis_style(INK.stroke_width(1))
        .x_label_offset(0)
        .draw()
        .map_err(draw_err)
}

/// Writes "no data" in the middle of the plot.
pub(super) fn no_data<DB: Backend>(chart: &mut Chart<DB>, x: &Axis, y: &Axis) -> Result<(), PlotError> {
    let style = text(AXIS_PX).color(&INK).pos(Pos::new(HPos::Center, VPos::Center));
    chart
        .plotting_area()
        .draw(&Text::new("no data", (x.mid(), y.mid()), style))
        .map_err(draw_err)
}

/// Draws a line through `points` (chart coordinates) in `look`.
pub(super) fn polyline<DB: Backend>(chart: &Chart<DB>, points: &[(f64, f64)], look: Look) -> Result<(), PlotError> {
    stroke(chart, &pixel_path(chart, points), look)
}

/// `points` (chart coordinates) as a path in pixels from the plotting
/// area's top-left corner, simplified to within a pixel
/// (Ramer-Douglas-Peucker): plotters outlines a thick path as one polygon,
/// and runs of one-pixel zigzags, such as a dense CDF's steps, would
/// otherwise fold it into notches. It also keeps SVGs small.
pub(super) fn pixel_path<DB: Backend>(chart: &Chart<DB>, points: &[(f64, f64)]) -> Vec<(i32, i32)> {
    let (bx, by) = chart.plotting_area().get_base_pixel();
    let pixels: Vec<(i32, i32)> = points
        .iter()
        .map(|p| {
            let (x, y) = chart.backend_coord(p);
            (x - bx, y - by)
        })
        .collect();
    simplify(&pixels, 1.0)
}

/// Draws a [`pixel_path`] in `look`.
pub(super) fn stroke<DB: Backend>(chart: &Chart<DB>, path: &[(i32, i32)], look: Look) -> Result<(), PlotError> {
    if path.len() < 2 {
        return Ok(());
    }
    let area = chart.plotting_area().strip_coord_spec();
    // plotters fills a thick raster path as a polygon, which comes out
    // about a pixel thinner on steep slopes; a 3 x 3 brush of one-pixel
    // lines keeps the weight even. Vector output strokes the path itself.
    let (brush, style): (&[(i32, i32)], ShapeStyle) = if DB::RASTER {
        (&BRUSH, look.color.stroke_width(1))
    } else {
        (&[(0, 0)], look.stroke())
    };
    for (dx, dy) in brush {
        let moved = path.iter().map(|(x, y)| (x + dx, y + dy));
        if look.dashed {
            area.draw(&DashedPathElement::new(moved, 12, 8, style))
                .map_err(draw_err)?;
        } else {
            area.draw(&PathElement::new(moved.collect::<Vec<_>>(), style))
                .map_err(draw_err)?;
        }
    }
    Ok(())
}

/// The offsets of a 3-pixel square brush.
const BRUSH: [(i32, i32); 9] = [
    (-1, -1),
    (0, -1),
    (1, -1),
    (-1, 0),
    (0, 0),
    (1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

/// `path` without repeated points and without points within `eps` pixels
/// of the line through the points kept either side (Ramer-Douglas-Peucker).
pub(super) fn simplify(path: &[(i32, i32)], eps: f64) -> Vec<(i32, i32)> {
    let mut p: Vec<(i32, i32)> = Vec::with_capacity(path.len());
    for &q in path {
        if p.last() != Some(&q) {
            p.push(q);
        }
    }
    if p.len() < 3 {
        return p;
    }
    let mut keep = vec![false; p.len()];
    keep[0] = true;
    keep[p.len() - 1] = true;
    let mut todo = vec![(0, p.len() - 1)];
    while let Some((a, b)) = todo.pop() {
        let (far, d) = (a + 1..b)
            .map(|i| (i, distance(p[i], p[a], p[b])))
            .fold((a, 0.0), |m, c| if c.1 > m.1 { c } else { m });
        if d > eps {
            keep[far] = true;
            todo.push((a, far));
            todo.push((far, b));
        }
    }
    p.into_iter().zip(keep).filter(|q| q.1).map(|q| q.0).collect()
}

/// The distance from `q` to the line through `a` and `b` (to `a` if they coincide).
fn distance(q: (i32, i32), a: (i32, i32), b: (i32, i32)) -> f64 {
    let (qx, qy) = (f64::from(q.0 - a.0), f64::from(q.1 - a.1));
    let (bx, by) = (f64::from(b.0 - a.0), f64::from(b.1 - a.1));
    let len = bx.hypot(by);
    if len == 0.0 {
        qx.hypot(qy)
    } else {
        (qx * by - qy * bx).abs() / len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplify_keeps_corners_and_drops_jitter() {
        // A staircase of one-pixel steps becomes its diagonal.
        let stairs: Vec<(i32, i32)> = (0..20).flat_map(|i| [(i, i), (i + 1, i)]).collect();
        assert_eq!(simplify(&stairs, 1.0), [(0, 0), (20, 19)]);
        // A real step stays a step.
        let step = [(0, 0), (5, 0), (10, 0), (10, 8), (20, 8)];
        assert_eq!(simplify(&step, 1.0), [(0, 0), (10, 0), (10, 8), (20, 8)]);
        assert_eq!(simplify(&[(1, 1), (1, 1)], 1.0), [(1, 1)]);
        assert!(simplify(&[], 1.0).is_empty());
    }
}
