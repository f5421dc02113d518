//! Plots as PNG and SVG bytes: curves with 95 % bands, empirical CDFs and
//! survival curves, bars with error bars and notes in words, plus a writer
//! for both formats.
//!
//! The module knows nothing of the simulator: it takes plain numbers and
//! labels (with their units already in the text) and returns rendered
//! bytes. Odd data never panics: values that cannot be placed (NaN,
//! infinities, `x <= 0` on a log axis) are skipped, a constant or single
//! value gets a padded axis, and a figure with nothing to draw says
//! "no data".
//!
//! Text uses DejaVu Sans, embedded in the binary and registered once as
//! the family "sans-serif", so PNGs render on a machine with no fonts
//! installed; SVGs name the family and the viewer supplies it.
//!
//! Every text drawn (title, axis labels, legend, bar and line labels)
//! passes through [`escape::plot_text`] first: a name holding a control
//! character would otherwise make the SVG invalid XML. PNGs are encoded in
//! memory, never through a file outside the output folder.
//!
//! PNGs are drawn into plotters' in-memory bitmap and encoded with the
//! `png` crate directly, which keeps the `image` stack out of the build.
//!
//! Files: `axis` (ranges, ticks, labels), `frame` (title, legend, grid,
//! palette), one file per kind of figure.

mod axis;
mod bars;
mod cdf;
mod curve;
mod frame;
mod note;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use frame::Backend;

use super::escape;

/// Figure width in pixels.
pub const WIDTH: u32 = 960;
/// Figure height in pixels.
pub const HEIGHT: u32 = 600;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A WIDTH x HEIGHT RGB PNG.
    Png,
    /// A WIDTH x HEIGHT SVG document.
    Svg,
}

impl Format {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Svg => "svg",
        }
    }
}

/// One point of a curve with its 95 % band.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandPoint {
    /// Position on the x axis.
    pub x: f64,
    /// The line's value.
    pub mid: f64,
    /// The band's lower edge (equal to `mid`, or NaN, for no band).
    pub lo: f64,
    /// The band's upper edge (equal to `mid`, or NaN, for no band).
    pub hi: f64,
}

/// A labelled line (with an optional band).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Series {
    /// The legend text; when every series' label is empty there is no legend.
    pub label: String,
    /// The points, in any order.
    pub points: Vec<BandPoint>,
    /// Lower bounds `(x, at least)`, drawn as open markers with an arrow
    /// up and never joined to the line.
    pub bounds: Vec<(f64, f64)>,
    /// A closed form rather than samples: dashed, in the colour of the
    /// series before it, without markers.
    pub closed_form: bool,
}

/// How the x axis of a [`curve`] is scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum XScale {
    /// Linear, ticks at round numbers.
    #[default]
    Linear,
    /// Linear, ticks at whole numbers only (a count of replicas).
    Integer,
    /// log10 (points with `x <= 0` skipped).
    Log,
}

/// Everything about a [`curve`] beyond its series.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Layout {
    /// The x axis' scale.
    pub x: XScale,
    /// x intervals drawn as light grey bands behind the data (fault
    /// windows, say).
    pub shade: Vec<(f64, f64)>,
    /// The shade's legend entry (none when empty).
    pub shade_label: String,
    /// Limits the y axis never passes (`(0, 1)` for a share).
    pub y_limits: Option<(f64, f64)>,
    /// Points `(x, y, label)` ringed and labelled (the lowest bucket, say).
    pub marks: Vec<(f64, f64, String)>,
}

/// One bar of [`bars`].
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Bar {
    /// The category's name.
    pub label: String,
    /// The bar's height.
    pub value: f64,
    /// The error bar's lower end.
    pub lo: f64,
    /// The error bar's upper end.
    pub hi: f64,
    /// The value is only a lower bound (drawn open under an arrow, "≥ v").
    pub bound: bool,
    /// A closed-form value, drawn as a dashed rule across the bar.
    pub closed_form: Option<f64>,
}

/// Axis and figure text.
#[derive(Clone, Debug, PartialEq)]
pub struct Labels {
    /// The title above the plot.
    pub title: String,
    /// The x axis label, with its unit ("MTBF (h)").
    pub x: String,
    /// The y axis label, with its unit ("nines").
    pub y: String,
}

/// Why a plot could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The embedded font could not be loaded (a build problem, not a data one).
    #[error("the embedded plot font could not be loaded")]
    Font,
    /// plotters failed while drawing or encoding.
    #[error("drawing the plot failed: {0}")]
    Draw(String),
    /// A file could not be written, read or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Something that draws itself onto any plotters backend.
trait Figure {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// Lines with shaded 95 % bands, one colour per series, and a legend
/// (unless every label is empty), laid out as `layout` says; y linear.
///
/// A series whose `lo` and `hi` equal `mid` everywhere has no band; a series
/// of at most 30 points gets a marker on each.
///
/// # Errors
/// [`PlotError::Draw`] or [`PlotError::Io`] if rendering fails; odd data is
/// never an error.
pub fn curve(labels: &Labels, series: &[Series], layout: &Layout, format: Format) -> Result<Vec<u8>, PlotError> {
    let series: Vec<Series> = series
        .iter()
        .map(|s| Series {
            label: text(&s.label),
            ..s.clone()
        })
        .collect();
    let layout = Layout {
        shade_label: text(&layout.shade_label),
        marks: layout.marks.iter().map(|(x, y, l)| (*x, *y, text(l))).collect(),
        ..layout.clone()
    };
    render(
        &curve::Curve {
            labels: &clean(labels),
            series: &series,
            layout: &layout,
        },
        format,
    )
}

/// Empirical CDFs as step lines, one per `(label, points)` with points
/// `(x, F(x))` and F in [0, 1] (sorted here if not already), with labelled
/// dashed vertical reference lines `vlines` (an SLO's yearly downtime
/// budget, say); x linear, or log10 when `x_log` (points with `x <= 0`
/// then only set the level the curve starts at).
///
/// # Errors
/// As [`curve`].
pub fn cdf(
    labels: &Labels,
    series: &[(String, Vec<(f64, f64)>)],
    vlines: &[(f64, String)],
    x_log: bool,
    format: Format,
) -> Result<Vec<u8>, PlotError> {
    distribution(labels, series, vlines, (x_log, false), format)
}

/// The same data as [`cdf`] drawn as survival curves: the share above x,
/// `1 - F(x)`, on a log y axis with p90, p99 and p99.9 ruled, so the tail
/// reads; on a log x axis the curves start at the 1st percentile.
///
/// # Errors
/// As [`curve`].
pub fn survival(
    labels: &Labels,
    series: &[(String, Vec<(f64, f64)>)],
    vlines: &[(f64, String)],
    x_log: bool,
    format: Format,
) -> Result<Vec<u8>, PlotError> {
    distribution(labels, series, vlines, (x_log, true), format)
}

fn distribution(
    labels: &Labels,
    series: &[(String, Vec<(f64, f64)>)],
    vlines: &[(f64, String)],
    (x_log, tail): (bool, bool),
    format: Format,
) -> Result<Vec<u8>, PlotError> {
    let series: Vec<(String, Vec<(f64, f64)>)> = series.iter().map(|(l, p)| (text(l), p.clone())).collect();
    let vlines: Vec<(f64, String)> = vlines.iter().map(|(x, l)| (*x, text(l))).collect();
    render(
        &cdf::Cdf {
            labels: &clean(labels),
            series: &series,
            vlines: &vlines,
            x_log,
            tail,
        },
        format,
    )
}

/// Bars from zero, one per [`Bar`] in order, each with a 95 % error bar
/// from `lo` to `hi` and its value written above it (for comparing two or
/// more designs). A non-finite value shows "n/a".
///
/// # Errors
/// As [`curve`].
pub fn bars(labels: &Labels, bars: &[Bar], format: Format) -> Result<Vec<u8>, PlotError> {
    let bars: Vec<Bar> = bars
        .iter()
        .map(|b| Bar {
            label: text(&b.label),
            ..b.clone()
        })
        .collect();
    render(
        &bars::Bars {
            labels: &clean(labels),
            bars: &bars,
        },
        format,
    )
}

/// A figure of words only: the title and `lines` centred, for data with
/// nothing worth drawing (say why rather than draw a degenerate chart).
///
/// # Errors
/// As [`curve`].
pub fn note(title: &str, lines: &[String], format: Format) -> Result<Vec<u8>, PlotError> {
    let lines: Vec<String> = lines.iter().map(|l| text(l)).collect();
    render(
        &note::Note {
            title: &text(title),
            lines: &lines,
        },
        format,
    )
}

fn text(s: &str) -> String {
    escape::plot_text(s).into_owned()
}

fn clean(l: &Labels) -> Labels {
    Labels {
        title: text(&l.title),
        x: text(&l.x),
        y: text(&l.y),
    }
}

/// Renders both formats: the PNG bytes, then the SVG's.
///
/// # Errors
/// Whatever `render` returns.
pub fn render_both(render: impl Fn(Format) -> Result<Vec<u8>, PlotError>) -> Result<[Vec<u8>; 2], PlotError> {
    Ok([render(Format::Png)?, render(Format::Svg)?])
}

/// Renders both formats, then writes `stem.png` and `stem.svg` (the
/// extension is appended, so `stem` may contain dots), each through a
/// fresh temporary file in the same folder renamed into place
/// ([`super::files::write_new`]); returns the two paths, PNG first.
///
/// # Errors
/// Whatever `render` returns; [`PlotError::Io`] if a file cannot be written.
pub fn write_both(
    stem: &Path,
    render: impl Fn(Format) -> Result<Vec<u8>, PlotError>,
) -> Result<[PathBuf; 2], PlotError> {
    let paths = [Format::Png, Format::Svg].map(|f| {
        let mut name = stem.as_os_str().to_owned();
        name.push(".");
        name.push(f.extension());
        PathBuf::from(name)
    });
    let bytes = render_both(render)?;
    for (path, bytes) in paths.iter().zip(&bytes) {
        super::files::write_new(path, bytes).map_err(|e| PlotError::Io {
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    Ok(paths)
}

/// Registers the embedded font under "sans-serif" (once per process).
fn font() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = DONE.get_or_init(|| {
        let bytes = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        plotters::style::register_font(frame::FONT, FontStyle::Normal, bytes).is_ok()
    });
    if *ok { Ok(()) } else { Err(PlotError::Font) }
}

fn render(fig: &impl Figure, format: Format) -> Result<Vec<u8>, PlotError> {
    font()?;
    match format {
        Format::Svg => {
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
                fig.draw(&root)?;
                root.present().map_err(frame::draw_err)?;
            }
            Ok(text.into_bytes())
        }
        Format::Png => {
            // Drawn into memory and encoded here with the settings plotters'
            // own file writer used (fast deflate, adaptive filters), so the
            // bytes match what it saved.
            let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
                fig.draw(&root)?;
                root.present().map_err(frame::draw_err)?;
            }
            let png = encode_png(&pixels).map_err(|e| PlotError::Draw(e.to_string()))?;
            Ok(png)
        }
    }
}

/// RGB pixels, WIDTH x HEIGHT, as PNG bytes.
fn encode_png(pixels: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    enc.set_filter(png::FilterType::Sub);
    enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut writer = enc.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn labels(title: &str) -> Labels {
        Labels {
            title: title.into(),
            x: "MTBF (h)".into(),
            y: "nines".into(),
        }
    }

    fn sweep(label: &str, shift: f64) -> Series {
        let points = [10.0, 30.0, 100.0, 300.0, 1000.0]
            .iter()
            .map(|&x: &f64| {
                let mid = 1.5 + x.log10() * 0.8 + shift;
                BandPoint {
                    x,
                    mid,
                    lo: mid - 0.2,
                    hi: mid + 0.25,
                }
            })
            .collect();
        Series {
            label: label.into(),
            points,
            ..Series::default()
        }
    }

    fn timeline() -> Series {
        let points = (0..200)
            .map(|i| {
                let x = f64::from(i) * 0.1;
                let dip = if (5.0..7.0).contains(&x) { 0.3 } else { 0.0 };
                BandPoint {
                    x,
                    mid: 0.99 - dip,
                    lo: 0.97 - dip * 1.5,
                    hi: 1.0 - dip * 0.5,
                }
            })
            .collect();
        Series {
            label: "median across trials, 10-90 % band".into(),
            points,
            ..Series::default()
        }
    }

    fn downtime(scale: f64) -> Vec<(f64, f64)> {
        let mut xs: Vec<f64> = (0..400)
            .map(|i| scale * (-(1.0 - (f64::from(i) + 0.5) / 400.0).ln()))
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.iter()
            .enumerate()
            .map(|(i, &x)| (x, (i + 1) as f64 / 400.0))
            .collect()
    }

    fn bar(label: &str, value: f64, lo: f64, hi: f64) -> Bar {
        Bar {
            label: label.into(),
            value,
            lo,
            hi,
            ..Bar::default()
        }
    }

    fn designs() -> Vec<Bar> {
        vec![
            Bar {
                closed_form: Some(3.5),
                ..bar("active-active", 3.42, 3.31, 3.55)
            },
            bar("active-passive", 2.91, 2.80, 3.02),
            Bar {
                bound: true,
                ..bar("single", 1.96, 1.96, 1.96)
            },
        ]
    }

    fn layout(x: XScale, shade: &[(f64, f64)]) -> Layout {
        Layout {
            x,
            shade: shade.to_vec(),
            shade_label: "fault".into(),
            ..Layout::default()
        }
    }

    fn log(x_log: bool) -> XScale {
        if x_log { XScale::Log } else { XScale::Linear }
    }

    /// A figure that only paints the background, for the size of a blank PNG.
    struct Blank;
    impl Figure for Blank {
        fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
            root.fill(&WHITE).map_err(frame::draw_err)
        }
    }

    fn check_png(bytes: &[u8]) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
        assert_eq!(&bytes[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), WIDTH);
        assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), HEIGHT);
        let blank = render(&Blank, Format::Png).unwrap();
        assert!(
            bytes.len() > 2 * blank.len(),
            "{} bytes against a blank {}",
            bytes.len(),
            blank.len()
        );
    }

    fn check_svg(bytes: &[u8], title_escaped: &str) {
        let text = std::str::from_utf8(bytes).unwrap();
        assert!(text.starts_with("<svg"), "{}", &text[..40]);
        assert!(text.trim_end().ends_with("</svg>"));
        assert!(text.contains(title_escaped), "title {title_escaped} missing");
        assert!(text.contains("<polyline") || text.contains("<path"));
        assert!(text.contains("<text"));
        assert!(text.contains(r#"font-family="sans-serif""#));
    }

    /// The raw RGB pixels of a figure.
    fn pixels(fig: &impl Figure) -> Result<Vec<u8>, PlotError> {
        font()?;
        let mut buf = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
            fig.draw(&root)?;
            root.present().map_err(frame::draw_err)?;
        }
        Ok(buf)
    }

    /// A figure's pixels must not be blank and must have text in the title
    /// strip (so the embedded font works).
    fn check_pixels(fig: &impl Figure) {
        let buf = pixels(fig).unwrap();
        let dark = |px: &[u8]| px.iter().all(|c| *c < 128);
        assert!(buf.chunks(3).any(|px| px != &buf[..3]), "blank image");
        let title = &buf[..(WIDTH * 44 * 3) as usize];
        assert!(title.chunks(3).filter(|px| dark(px)).count() > 30, "no title text");
    }

    fn check_both(render: impl Fn(Format) -> Result<Vec<u8>, PlotError>, title_escaped: &str) {
        check_png(&render(Format::Png).unwrap());
        check_svg(&render(Format::Svg).unwrap(), title_escaped);
    }

    #[test]
    fn curve_renders_both_formats() {
        let l = labels("Availability & MTBF <sweep>");
        let s = [sweep("replicas = 2", 0.0), sweep("replicas = 3", 1.0)];
        check_both(
            |f| curve(&l, &s, &layout(XScale::Log, &[]), f),
            "Availability &amp; MTBF &lt;sweep&gt;",
        );
        check_both(
            |f| curve(&l, &s, &layout(XScale::Linear, &[(100.0, 200.0)]), f),
            "Availability &amp; MTBF",
        );
        check_pixels(&curve::Curve {
            labels: &l,
            series: &s,
            layout: &layout(XScale::Log, &[]),
        });
        let t = [timeline()];
        check_pixels(&curve::Curve {
            labels: &l,
            series: &t,
            layout: &layout(XScale::Linear, &[(5.0, 7.0)]),
        });
    }

    #[test]
    fn cdf_renders_both_formats() {
        let l = labels("Downtime per year");
        let s = [("A".to_string(), downtime(60.0)), ("B".to_string(), downtime(20.0))];
        let v = [(525.6, "SLO 0.999 budget".to_string())];
        check_both(|f| cdf(&l, &s, &v, false, f), "Downtime per year");
        check_both(|f| cdf(&l, &s, &v, true, f), "Downtime per year");
        check_both(|f| survival(&l, &s, &v, false, f), "Downtime per year");
        check_both(|f| survival(&l, &s, &v, true, f), "Downtime per year");
        for tail in [false, true] {
            check_pixels(&cdf::Cdf {
                labels: &l,
                series: &s,
                vlines: &v,
                x_log: true,
                tail,
            });
        }
    }

    #[test]
    fn bars_render_both_formats() {
        let l = labels("Nines of each design");
        let b = designs();
        check_both(|f| bars(&l, &b, f), "Nines of each design");
        check_pixels(&bars::Bars { labels: &l, bars: &b });
    }

    #[test]
    fn odd_curves_do_not_panic() {
        let l = labels("odd");
        let p = |x, mid, lo, hi| BandPoint { x, mid, lo, hi };
        let one = |points: Vec<BandPoint>| {
            vec![Series {
                label: String::new(),
                bounds: points.iter().map(|p| (p.x, p.lo)).collect(),
                points,
                closed_form: false,
            }]
        };
        let cases: Vec<Vec<Series>> = vec![
            vec![],
            one(vec![]),
            one(vec![p(1.0, 2.0, 1.0, 3.0)]),
            one(vec![p(1.0, 2.0, 2.0, 2.0), p(1.0, 2.0, 2.0, 2.0)]),
            one(vec![
                p(f64::NAN, 1.0, 0.0, 2.0),
                p(2.0, f64::INFINITY, f64::NAN, 1.0),
                p(3.0, 1.0, 3.0, -1.0),
            ]),
            one(vec![
                p(0.0, 3.0, 3.0, 3.0),
                p(-1.0, 3.0, 3.0, 3.0),
                p(5.0, 3.0, 3.0, 3.0),
            ]),
            one(vec![
                p(1e300, 1e-300, -1e308, f64::MAX),
                p(f64::MIN_POSITIVE, 0.0, 0.0, 0.0),
            ]),
            one(vec![p(f64::NAN, f64::NAN, f64::NAN, f64::NAN)]),
        ];
        let shades: [&[(f64, f64)]; 3] = [
            &[],
            &[(f64::NAN, 1.0), (4.0, 2.0), (-5.0, 0.0), (2.0, 2.0)],
            &[(f64::NEG_INFINITY, f64::INFINITY)],
        ];
        for s in &cases {
            for shade in shades {
                for x in [XScale::Linear, XScale::Integer, XScale::Log] {
                    let lay = Layout {
                        y_limits: Some((0.0, 1.0)),
                        marks: s
                            .iter()
                            .flat_map(|s| s.points.iter().map(|p| (p.x, p.mid, "m".to_string())))
                            .collect(),
                        ..layout(x, shade)
                    };
                    for f in [Format::Png, Format::Svg] {
                        curve(&l, s, &layout(x, shade), f).unwrap();
                        curve(&l, s, &lay, f).unwrap();
                    }
                    check_pixels(&curve::Curve {
                        labels: &l,
                        series: s,
                        layout: &lay,
                    });
                }
            }
        }
        // No text at all.
        let blank = Labels {
            title: String::new(),
            x: String::new(),
            y: String::new(),
        };
        let s = [sweep("", 0.0)];
        for f in [Format::Png, Format::Svg] {
            curve(&blank, &s, &Layout::default(), f).unwrap();
            cdf(
                &blank,
                &[(String::new(), downtime(1.0))],
                &[(1.0, String::new())],
                false,
                f,
            )
            .unwrap();
            bars(&blank, &[bar("", 1.0, 0.5, 1.5)], f).unwrap();
            note("", &[String::new()], f).unwrap();
            note("", &[], f).unwrap();
        }
        // More series than colours, with labels too long for the legend.
        let many: Vec<Series> = (0..20)
            .map(|i| sweep(&format!("a long series label number {i} of twenty"), f64::from(i) * 0.1))
            .collect();
        check_both(|f| curve(&l, &many, &layout(XScale::Log, &[]), f), "odd");
    }

    #[test]
    fn odd_cdfs_and_bars_do_not_panic() {
        let l = labels("odd");
        type Cdfs = Vec<(String, Vec<(f64, f64)>)>;
        let cases: Vec<Cdfs> = vec![
            vec![],
            vec![("".into(), vec![])],
            vec![("x".into(), vec![(5.0, 1.0)])],
            vec![("x".into(), vec![(0.0, 0.4), (0.0, 0.6), (2.0, 1.0)])],
            vec![("x".into(), vec![(0.0, 0.5), (-1.0, 0.2)])],
            vec![(
                "x".into(),
                vec![
                    (f64::NAN, 0.5),
                    (1.0, f64::NAN),
                    (3.0, 2.0),
                    (1.0, -1.0),
                    (f64::INFINITY, 1.0),
                ],
            )],
        ];
        let vlines: [&[(f64, String)]; 3] = [
            &[],
            &[
                (f64::NAN, "nan".into()),
                (0.0, "zero".into()),
                (-3.0, "negative".into()),
            ],
            &[
                (10.0, "a".into()),
                (10.5, "b".into()),
                (11.0, "a much longer label that will not fit beside".into()),
            ],
        ];
        for s in &cases {
            for v in vlines {
                for (x_log, tail) in [(false, false), (true, false), (false, true), (true, true)] {
                    for f in [Format::Png, Format::Svg] {
                        cdf(&l, s, v, x_log, f).unwrap();
                        survival(&l, s, v, x_log, f).unwrap();
                    }
                    check_pixels(&cdf::Cdf {
                        labels: &l,
                        series: s,
                        vlines: v,
                        x_log,
                        tail,
                    });
                }
            }
        }
        let nan = f64::NAN;
        let odd = |b: Bar| Bar {
            bound: true,
            closed_form: Some(b.lo),
            ..b
        };
        let cases: Vec<Vec<Bar>> = vec![
            vec![],
            vec![bar("only", 2.0, 2.0, 2.0)],
            vec![bar("zero", 0.0, 0.0, 0.0), bar("nan", nan, nan, nan)],
            vec![
                bar("neg", -1.0, -1.5, -0.5),
                odd(bar("pos", 1.0, 0.5, 1.5)),
                odd(bar("inf", f64::INFINITY, 0.0, 1.0)),
                odd(bar("nan", nan, nan, nan)),
            ],
            (0..40)
                .map(|i| {
                    let b = bar(
                        &format!("design number {i}"),
                        f64::from(i),
                        f64::from(i) - 0.5,
                        f64::from(i) + 0.5,
                    );
                    if i % 3 == 0 { odd(b) } else { b }
                })
                .collect(),
        ];
        for b in &cases {
            for f in [Format::Png, Format::Svg] {
                bars(&l, b, f).unwrap();
            }
            check_pixels(&bars::Bars { labels: &l, bars: b });
        }
    }

    #[test]
    fn write_both_replaces_files_whole() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("nines.v2");
        let l = labels("Nines of each design");
        let b = designs();
        let paths = write_both(&stem, |f| bars(&l, &b, f)).unwrap();
        assert_eq!(
            paths,
            [dir.path().join("nines.v2.png"), dir.path().join("nines.v2.svg")]
        );
        check_png(&fs::read(&paths[0]).unwrap());
        check_svg(&fs::read(&paths[1]).unwrap(), "Nines of each design");
        // Again over the existing files, then nothing else is left behind.
        write_both(&stem, |f| bars(&l, &b, f)).unwrap();
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["nines.v2.png", "nines.v2.svg"]);
        // A render error writes nothing; a missing folder is an I/O error.
        let failed = write_both(&dir.path().join("x"), |_| Err(PlotError::Draw("no".into())));
        assert!(matches!(failed, Err(PlotError::Draw(_))));
        assert!(!dir.path().join("x.png").exists());
        let missing = write_both(&dir.path().join("no/such/dir/x"), |f| bars(&l, &b, f));
        assert!(matches!(missing, Err(PlotError::Io { .. })), "{missing:?}");
    }

    /// Any mix of ordinary and hostile numbers.
    fn number() -> impl proptest::strategy::Strategy<Value = f64> {
        use proptest::prelude::*;
        prop_oneof![
            4 => -1e6..1e6f64,
            1 => prop::sample::select(vec![
                0.0, -0.0, 1.0, 1.0 + f64::EPSILON, f64::NAN, f64::INFINITY, f64::NEG_INFINITY,
                f64::MAX, f64::MIN, f64::MIN_POSITIVE, 1e-310, -1e300, 1e300,
            ]),
            1 => any::<f64>(),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(48))]

        /// Whatever the numbers, every figure renders in both formats.
        #[test]
        fn any_numbers_render(
            pts in proptest::collection::vec((number(), number(), number(), number()), 0..12),
            x_log: bool,
        ) {
            let l = labels("fuzz");
            let series = [Series {
                label: "s".into(),
                points: pts.iter().map(|&(x, mid, lo, hi)| BandPoint { x, mid, lo, hi }).collect(),
                bounds: pts.iter().map(|p| (p.0, p.2)).collect(),
                closed_form: false,
            }, Series {
                label: "c".into(),
                points: pts.iter().map(|&(x, mid, lo, hi)| BandPoint { x, mid: hi, lo, hi: mid }).collect(),
                bounds: Vec::new(),
                closed_form: true,
            }];
            let shade: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
            let steps = vec![("c".to_string(), pts.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>())];
            let vlines: Vec<(f64, String)> = pts.iter().map(|p| (p.2, "v".to_string())).collect();
            let columns: Vec<Bar> = pts.iter().map(|p| Bar {
                bound: p.0 > 0.0,
                closed_form: Some(p.0),
                ..bar("b", p.1, p.2, p.3)
            }).collect();
            let lay = Layout {
                y_limits: Some((pts.first().map_or(0.0, |p| p.0), pts.last().map_or(1.0, |p| p.1))),
                marks: pts.iter().map(|p| (p.0, p.1, "m".to_string())).collect(),
                ..layout(log(x_log), &shade)
            };
            let results = [
                curve(&l, &series, &lay, Format::Svg).map(drop),
                cdf(&l, &steps, &vlines, x_log, Format::Svg).map(drop),
                survival(&l, &steps, &vlines, x_log, Format::Svg).map(drop),
                bars(&l, &columns, Format::Svg).map(drop),
                pixels(&curve::Curve { labels: &l, series: &series, layout: &lay }).map(drop),
                pixels(&cdf::Cdf { labels: &l, series: &steps, vlines: &vlines, x_log, tail: true }).map(drop),
                pixels(&bars::Bars { labels: &l, bars: &columns }).map(drop),
            ];
            for r in results {
                proptest::prop_assert!(r.is_ok(), "{:?}", r);
            }
        }
    }

    /// Writes sample figures to /tmp/nines-plots for looking at:
    /// `cargo test --lib plot::tests::samples -- --ignored`.
    #[test]
    #[ignore = "writes sample figures to /tmp/nines-plots"]
    fn samples() {
        let dir = std::env::temp_dir().join("nines-plots");
        fs::create_dir_all(&dir).unwrap();
        let l = |t: &str, x: &str, y: &str| Labels {
            title: t.into(),
            x: x.into(),
            y: y.into(),
        };
        let sw = [
            sweep("replicas = 2", 0.0),
            sweep("replicas = 3", 1.0),
            sweep("replicas = 4", 1.7),
        ];
        let lc = l("Availability curve", "MTBF (h)", "nines (95 % band)");
        write_both(&dir.join("curve_log"), |f| {
            curve(&lc, &sw, &layout(XScale::Log, &[]), f)
        })
        .unwrap();
        let t = [timeline()];
        let lt = l(
            "Requests served (success or degraded) over time",
            "time in trial (h)",
            "share of requests served",
        );
        write_both(&dir.join("curve_time"), |f| {
            curve(&lt, &t, &layout(XScale::Linear, &[(5.0, 7.0), (12.0, 12.5)]), f)
        })
        .unwrap();
        let lone = [sweep("nines", 0.0)];
        write_both(&dir.join("curve_one"), |f| curve(&lc, &lone, &Layout::default(), f)).unwrap();
        let many: Vec<Series> = (0..10)
            .map(|i| sweep(&format!("timeout = {} ms and a long tail", 100 * i), f64::from(i) * 0.3))
            .collect();
        write_both(&dir.join("curve_many"), |f| {
            curve(&lc, &many, &layout(XScale::Log, &[]), f)
        })
        .unwrap();
        let ld = l(
            "Downtime per year across trials",
            "downtime per year (minutes)",
            "share of trials at or below",
        );
        let s = [
            ("active-active".to_string(), downtime(60.0)),
            ("single".to_string(), downtime(200.0)),
        ];
        let v = [
            (525.6, "SLO 0.999 budget".to_string()),
            (52.56, "SLO 0.9999 budget".to_string()),
        ];
        write_both(&dir.join("cdf"), |f| cdf(&ld, &s, &v, false, f)).unwrap();
        let lat = l(
            "Request latency",
            "latency (ms, log scale)",
            "share of requests at or below",
        );
        write_both(&dir.join("cdf_log"), |f| cdf(&lat, &s[..1], &v, true, f)).unwrap();
        write_both(&dir.join("survival"), |f| survival(&ld, &s, &v, false, f)).unwrap();
        write_both(&dir.join("survival_log"), |f| survival(&lat, &s[..1], &v, true, f)).unwrap();
        let words = ["no downtime in any of 64 trials".to_string()];
        write_both(&dir.join("note"), |f| note("Downtime per year", &words, f)).unwrap();
        let lb = l("Nines of each design", "design", "nines (95 % interval)");
        write_both(&dir.join("bars"), |f| bars(&lb, &designs(), f)).unwrap();
        let long: Vec<Bar> = (0..12)
            .map(|i| {
                bar(
                    &format!("design with a long name {i}"),
                    2.0 + f64::from(i) * 0.37,
                    1.9 + f64::from(i) * 0.3,
                    2.2 + f64::from(i) * 0.4,
                )
            })
            .collect();
        write_both(&dir.join("bars_many"), |f| bars(&lb, &long, f)).unwrap();
        let single = [Series {
            label: "one point".into(),
            points: vec![BandPoint {
                x: 5.0,
                mid: 3.2,
                lo: 3.0,
                hi: 3.5,
            }],
            bounds: vec![(6.0, 2.5)],
            closed_form: false,
        }];
        let int = layout(XScale::Integer, &[]);
        write_both(&dir.join("single"), |f| curve(&lc, &single, &int, f)).unwrap();
        write_both(&dir.join("empty"), |f| curve(&lc, &[], &Layout::default(), f)).unwrap();
        write_both(&dir.join("flat"), |f| curve(&lc, &one_flat(), &Layout::default(), f)).unwrap();
    }

    fn one_flat() -> Vec<Series> {
        let points = (0..5)
            .map(|i| BandPoint {
                x: f64::from(i),
                mid: 3.0,
                lo: 3.0,
                hi: 3.0,
            })
            .collect();
        vec![Series {
            label: String::new(),
            points,
            ..Series::default()
        }]
    }
}
