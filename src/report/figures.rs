//! Which plots fit which run, built from finished figures (a summary, the
//! per-trial timelines of a request-level run, the points of a sweep) and
//! staged as PNG and SVG beside `summary.json` (published with it).
//!
//! Every figure's data is bounded whatever the number of trials: CDFs come
//! from the mergeable histograms, timelines have a fixed number of buckets.
//!
//! Distributions whose tail matters (downtime, latency) are survival curves
//! on a log scale; a run where no trial saw downtime gets its finding in
//! words instead of a degenerate curve. Sweep and compare plots take the
//! headline from `headline` alone, draw a lower bound as a bound (never as
//! a point a line passes through) and draw the closed form beside the
//! simulated value where one exists.

use std::path::PathBuf;

use super::files::Staging;
use super::plot::{self, BandPoint, Bar, Format, Labels, Layout, Series, XScale};
use crate::engine::time;
use crate::error::{Error, Result};
use crate::format::human_duration;
use crate::model::traffic::TIMELINE_BUCKETS;
use crate::scenario::Scenario;
use crate::stats::Summary;
use crate::sweep::Vary;

/// What `run --plot` keeps of each request-level trial: its timelines.
#[derive(Debug, Clone)]
pub struct TrialTimeline {
    /// Requests, successes, degraded, entry attempts per bucket.
    pub root: Vec<[u32; 4]>,
    /// Per edge and bucket: calls, attempts, breaker open seconds.
    pub edges: Vec<[f32; 3]>,
    /// Per service and bucket: serving replica-seconds of autoscaled
    /// services (empty without autoscaling).
    pub replicas: Vec<f64>,
}

/// One point of a sweep: the index of each varied value, and its summary.
pub type Point = (Vec<usize>, Summary);

/// A written figure.
#[derive(Debug, Clone)]
pub struct Figure {
    /// What it shows, for the report.
    pub title: String,
    /// Its SVG text, for inlining in `report.html`.
    pub svg: String,
    /// The PNG and SVG files.
    pub files: Vec<PathBuf>,
}

fn write(
    out: &mut Staging,
    name: &str,
    title: &str,
    render: impl Fn(Format) -> Result<Vec<u8>, plot::PlotError>,
) -> Result<Figure> {
    let to_err = |e: plot::PlotError| Error::Write {
        path: out.dir().join(name),
        source: std::io::Error::other(e.to_string()),
    };
    let [png, svg] = plot::render_both(&render).map_err(to_err)?;
    let files = vec![
        out.write(&format!("{name}.png"), &png)?,
        out.write(&format!("{name}.svg"), &svg)?,
    ];
    Ok(Figure {
        title: title.to_string(),
        svg: String::from_utf8_lossy(&svg).into_owned(),
        files,
    })
}

fn labels(title: &str, x: &str, y: &str) -> Labels {
    Labels {
        title: title.to_string(),
        x: x.to_string(),
        y: y.to_string(),
    }
}

/// What the sweep and compare plots show of a summary. It is read here
/// and nowhere else, so the request objective (CONTRACT: with `objective =
/// "requests"` the plots use the request availability) changes this one
/// function.
struct Headline {
    nines: f64,
    lo: f64,
    hi: f64,
    /// No trial saw downtime: `nines` is a lower bound.
    bound: bool,
    /// The closed form's nines, where one exists.
    closed_form: Option<f64>,
}

fn headline(s: &Summary) -> Headline {
    // The metric the run is judged on (`objective`); the closed form is of
    // the time-based availability, so it is drawn only beside that.
    let h = s.headline();
    Headline {
        nines: h.nines,
        lo: h.nines_ci95[0].unwrap_or(h.nines),
        hi: h.nines_ci95[1].unwrap_or(h.nines),
        bound: h.nines_is_bound,
        closed_form: if on_requests(s) {
            None
        } else {
            s.availability.analytic.and_then(crate::stats::interval::nines)
        },
    }
}

/// Whether `s` is judged on requests served (the request objective).
fn on_requests(s: &Summary) -> bool {
    s.requests.is_some() && s.objective == crate::scenario::Objective::Requests.name()
}

/// The nines axis: of requests served when every run is judged on them.
fn nines_axis<'a>(mut runs: impl Iterator<Item = &'a Summary>, what: &str) -> String {
    if runs.all(on_requests) {
        format!("nines of requests served ({what})")
    } else {
        format!("nines ({what})")
    }
}

/// "64 trials of 1 year" (the trials behind a sentence).
fn trials_text(s: &Summary) -> String {
    let years = s.horizon_s / time::to_secs(time::YEAR);
    let horizon = if years >= 1.0 && (years - years.round()).abs() < 1e-9 {
        let n = years.round();
        format!("{n} year{}", if n == 1.0 { "" } else { "s" })
    } else {
        human_duration(s.horizon_s)
    };
    format!("{} trials of {horizon}", s.trials)
}

/// Downtime per year in minutes as survival curves (the share of trials
/// with more downtime, log scale), with the SLO's budget marked; designs
/// where no trial saw downtime are named in a note, and when that is every
/// design the figure says so in words.
fn downtime(out: &mut Staging, designs: &[(String, &Summary)], slo: Option<f64>) -> Result<Figure> {
    let title = "Downtime per year across trials";
    let (clean, seen): (Vec<_>, Vec<_>) = designs
        .iter()
        .partition(|(_, s)| s.availability.trials_with_downtime == 0);
    if seen.is_empty() {
        let lines: Vec<String> = clean
            .iter()
            .map(|(name, s)| {
                let who = if designs.len() > 1 {
                    format!("{name}: ")
                } else {
                    String::new()
                };
                format!(
                    "{who}no downtime in any of {}; nines ≥ {:.2} (a lower bound)",
                    trials_text(s),
                    s.availability.nines
                )
            })
            .chain(std::iter::once(
                "so there is no distribution of downtime to draw".to_string(),
            ))
            .chain(clean.iter().filter_map(|(name, s)| {
                // Time-based availability counts a service up while its
                // requests fail; say what the requests saw beside it.
                let r = s.requests.as_ref()?;
                let who = if designs.len() > 1 {
                    format!("{name}: ")
                } else {
                    String::new()
                };
                let served = (r.success_ratio.mean + r.degraded_ratio) * 100.0;
                Some(format!(
                    "{who}requests served: {served:.2} % (downtime counts services down, not failed requests)"
                ))
            }))
            .collect();
        return write(out, "downtime", title, |f| plot::note(title, &lines, f));
    }
    let minutes: Vec<(String, Vec<(f64, f64)>)> = seen
        .iter()
        .map(|(name, s)| {
            let cdf = s.downtime_cdf.iter().map(|&(x, f)| (x / 60.0, f)).collect();
            let k = s.availability.trials_with_downtime;
            (format!("{name} ({k} of {} saw downtime)", trials_text(s)), cdf)
        })
        .collect();
    let mut x = String::from("downtime per year (minutes)");
    if !clean.is_empty() {
        let names: Vec<&str> = clean.iter().map(|(n, _)| n.as_str()).collect();
        x += &format!("; no downtime in any trial: {}", names.join(", "));
    }
    let year_min = time::to_secs(time::YEAR) / 60.0;
    let vlines: Vec<(f64, String)> = slo
        .map(|t| vec![((1.0 - t) * year_min, format!("SLO {} budget", t))])
        .unwrap_or_default();
    write(out, "downtime", title, |f| {
        plot::survival(
            &labels(title, &x, "share of trials with more (log scale)"),
            &minutes,
            &vlines,
            false,
            f,
        )
    })
}

/// How a per-bucket value is summarised across trials.
#[derive(Clone, Copy)]
enum Across {
    /// Median with the 10-90 % band.
    Median,
    /// Mean with its 95 % interval (a rare event that the median hides).
    Mean,
    /// The lowest trial, without a band.
    Lowest,
}

/// A per-bucket value summarised across trials.
fn band(
    timelines: &[TrialTimeline],
    horizon_s: f64,
    unit: f64,
    across: Across,
    ratio: impl Fn(&TrialTimeline, usize) -> Option<f64>,
) -> Vec<BandPoint> {
    (0..TIMELINE_BUCKETS)
        .filter_map(|b| {
            let mut v: Vec<f64> = timelines.iter().filter_map(|t| ratio(t, b)).collect();
            if v.is_empty() {
                return None;
            }
            v.sort_by(f64::total_cmp);
            let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
            let x = (b as f64 + 0.5) * horizon_s / TIMELINE_BUCKETS as f64 / unit;
            let (mid, lo, hi) = match across {
                Across::Median => (q(0.5), q(0.1), q(0.9)),
                Across::Lowest => (v[0], v[0], v[0]),
                Across::Mean => {
                    let n = v.len() as f64;
                    let mean = v.iter().sum::<f64>() / n;
                    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
                    let half = crate::stats::interval::t95(v.len() as u64) * (var / n).sqrt();
                    let half = if half.is_finite() { half } else { 0.0 };
                    (mean, (mean - half).max(0.0), mean + half)
                }
            };
            Some(BandPoint { x, mid, lo, hi })
        })
        .collect()
}

/// The lowest point of a curve, ringed and labelled, when it dips.
fn lowest(points: &[BandPoint], what: &str) -> Vec<(f64, f64, String)> {
    points
        .iter()
        .filter(|p| p.mid.is_finite())
        .min_by(|a, b| a.mid.total_cmp(&b.mid))
        .filter(|p| p.mid < 0.999)
        .map(|p| (p.x, p.mid, format!("{what}: {:.1} %", p.mid * 100.0)))
        .into_iter()
        .collect()
}

/// The figures of one run: downtime survival curve; with requests, latency
/// survival curve, share served over time, attempts per call over time and
/// breakers open over time.
///
/// # Errors
/// [`Error::Write`] when a file cannot be written.
pub fn for_run(out: &mut Staging, sc: &Scenario, s: &Summary, timelines: &[TrialTimeline]) -> Result<Vec<Figure>> {
    let mut figs = vec![downtime(
        out,
        &[(s.scenario.clone(), s)],
        s.slo.as_ref().map(|x| x.target),
    )?];
    if s.requests.is_some() {
        figs.push(latency(out, s)?);
        figs.extend(over_time(out, sc, s, timelines)?);
    }
    if let Some(w) = &s.slo_windows {
        figs.push(window_budget(out, s, w)?);
    }
    Ok(figs)
}

/// Error budget consumed per SLO window, as a CDF over every window of
/// every trial, with the whole budget ruled: the curve's height there is
/// the share of windows that met the objective.
fn window_budget(out: &mut Staging, s: &Summary, w: &crate::stats::slo::WindowsSummary) -> Result<Figure> {
    let pct: Vec<(f64, f64)> = s.window_budget_cdf.iter().map(|&(x, f)| (x * 100.0, f)).collect();
    let window = crate::scenario::alerts::window_text((w.window_s * 1e9).round() as u64);
    let title = format!("Error budget consumed per {window} window ({})", w.kind);
    write(out, "slo-windows", &title, |f| {
        plot::cdf(
            &labels(
                &title,
                "budget consumed (% of the window's budget)",
                "share of windows at or below",
            ),
            &[(s.scenario.clone(), pct.clone())],
            &[(100.0, "whole budget".to_string())],
            false,
            f,
        )
    })
}

/// Request latency as a survival curve on log-log axes.
fn latency(out: &mut Staging, s: &Summary) -> Result<Figure> {
    let ms: Vec<(f64, f64)> = s.latency_cdf.iter().map(|&(x, f)| (x * 1000.0, f)).collect();
    let title = "Request latency";
    write(out, "latency", title, |f| {
        plot::survival(
            &labels(title, "latency (ms, log scale)", "share of requests slower (log scale)"),
            &[(s.scenario.clone(), ms.clone())],
            &[],
            true,
            f,
        )
    })
}

/// The timelines' figures: share served, attempts per call, (where
/// breakers exist) breakers open and (where autoscalers exist) replicas
/// serving, with scripted fault windows shaded.
fn over_time(out: &mut Staging, sc: &Scenario, s: &Summary, timelines: &[TrialTimeline]) -> Result<Vec<Figure>> {
    let horizon_s = time::to_secs(sc.horizon);
    let (unit, unit_name) = if horizon_s > 5.0 * 3600.0 {
        (3600.0, "h")
    } else {
        (60.0, "min")
    };
    let bucket_s = horizon_s / TIMELINE_BUCKETS as f64;
    let x = format!(
        "time in trial ({unit_name}), in buckets of {}",
        human_duration(bucket_s)
    );
    let base = Layout {
        shade: fault_windows(sc, unit),
        shade_label: "scripted fault".into(),
        ..Layout::default()
    };
    let served = |t: &TrialTimeline, b: usize| {
        let r = &t.root[b];
        (r[0] > 0).then(|| f64::from(r[1] + r[2]) / f64::from(r[0]))
    };
    let median = band(timelines, horizon_s, unit, Across::Median, served);
    let layout = Layout {
        y_limits: Some((0.0, 1.0)),
        marks: lowest(&median, "lowest median bucket"),
        ..base.clone()
    };
    let series = [
        Series {
            label: "median, 10-90 % band".into(),
            points: median,
            ..Series::default()
        },
        Series {
            label: "lowest trial".into(),
            points: band(timelines, horizon_s, unit, Across::Lowest, served),
            ..Series::default()
        },
    ];
    let title = "Requests served (success or degraded) over time";
    let mut figs = vec![write(out, "success_over_time", title, |f| {
        plot::curve(&labels(title, &x, "share of requests served"), &series, &layout, f)
    })?];
    let edges: Vec<&String> = s.edges.keys().collect();
    let per_edge = |k: usize, b: usize, t: &TrialTimeline| t.edges[k * TIMELINE_BUCKETS + b];
    let amplification: Vec<Series> = edges
        .iter()
        .enumerate()
        .map(|(k, name)| Series {
            label: name.to_string(),
            points: band(timelines, horizon_s, unit, Across::Median, |t, b| {
                let c = per_edge(k, b, t);
                (c[0] > 0.0).then(|| f64::from(c[1]) / f64::from(c[0]))
            }),
            ..Series::default()
        })
        .collect();
    let title = "Retry amplification over time";
    figs.push(write(out, "attempts_over_time", title, |f| {
        plot::curve(
            &labels(title, &x, "attempts per call (median, 10-90 % band)"),
            &amplification,
            &base,
            f,
        )
    })?);
    let breakers: Vec<Series> = edges
        .iter()
        .enumerate()
        .filter(|(_, name)| sc_has_breaker(sc, name))
        .map(|(k, name)| {
            let points = band(timelines, horizon_s, unit, Across::Mean, |t, b| {
                Some(f64::from(per_edge(k, b, t)[2]) / bucket_s)
            });
            let never = points.iter().all(|p| p.hi == 0.0);
            Series {
                label: if never {
                    format!("{name} (never open)")
                } else {
                    name.to_string()
                },
                points,
                ..Series::default()
            }
        })
        .collect();
    if !breakers.is_empty() {
        let title = "Circuit breakers open over time";
        let layout = Layout {
            y_limits: Some((0.0, 1.0)),
            ..base.clone()
        };
        figs.push(write(out, "breakers_over_time", title, |f| {
            plot::curve(
                &labels(title, &x, "share of time open (mean, 95 % band)"),
                &breakers,
                &layout,
                f,
            )
        })?);
    }
    figs.extend(replicas_over_time(out, sc, timelines, (unit, &x), &base)?);
    Ok(figs)
}

/// Replicas serving per autoscaled service over time (mean, 95 % band);
/// none without autoscaling.
fn replicas_over_time(
    out: &mut Staging,
    sc: &Scenario,
    timelines: &[TrialTimeline],
    (unit, x): (f64, &str),
    base: &Layout,
) -> Result<Vec<Figure>> {
    if timelines.iter().all(|t| t.replicas.is_empty()) {
        return Ok(Vec::new());
    }
    let horizon_s = time::to_secs(sc.horizon);
    let bucket_s = horizon_s / TIMELINE_BUCKETS as f64;
    let series: Vec<Series> = sc
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| s.defence.autoscale.is_some())
        .map(|(k, s)| Series {
            label: s.name.clone(),
            points: band(timelines, horizon_s, unit, Across::Mean, |t, b| {
                t.replicas.get(k * TIMELINE_BUCKETS + b).map(|r| r / bucket_s)
            }),
            ..Series::default()
        })
        .collect();
    let title = "Replicas serving over time";
    Ok(vec![write(out, "replicas_over_time", title, |f| {
        plot::curve(
            &labels(title, x, "replicas serving (mean, 95 % band)"),
            &series,
            base,
            f,
        )
    })?])
}

/// Scripted fault windows in `unit`s, clipped to the horizon.
fn fault_windows(sc: &Scenario, unit: f64) -> Vec<(f64, f64)> {
    let horizon_s = time::to_secs(sc.horizon);
    sc.faults
        .iter()
        .filter_map(|f| match f.schedule {
            crate::scenario::FaultSchedule::Once(at) if at < sc.horizon => {
                let start = time::to_secs(at);
                let end = (start + f.duration.mean_secs()).min(horizon_s);
                Some((start / unit, end / unit))
            }
            _ => None,
        })
        .collect()
}

/// Whether the edge named `FROM->TO` has a circuit breaker.
fn sc_has_breaker(sc: &Scenario, edge: &str) -> bool {
    let Some((from, to)) = edge.split_once("->") else {
        return false;
    };
    sc.workloads
        .iter()
        .filter(|w| w.name == from && sc.services[w.to].name == to)
        .map(|w| &w.policy)
        .chain(sc.services.iter().filter(|s| s.name == from).flat_map(|s| {
            s.calls
                .iter()
                .filter(|c| sc.services[c.to].name == to)
                .map(|c| &c.policy)
        }))
        .chain(sc.workflows.iter().flat_map(|wf| {
            // Step edges are named WORKFLOW.STEP->TO, compensations WORKFLOW.STEP.compensate->TO.
            wf.steps.iter().flat_map(move |s| {
                let step = format!("{}.{}", wf.name, s.name);
                let own = (from == step).then_some(&s.policy);
                let undo = s
                    .compensation
                    .as_ref()
                    .filter(|_| from == format!("{step}.compensate"))
                    .map(|k| &k.policy);
                own.into_iter().chain(undo)
            })
        }))
        .any(|p| p.breaker.is_some())
}

/// The last two parts of a path (`failover.success`), short enough for a legend.
fn short(path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    parts[parts.len().saturating_sub(2)..].join(".")
}

fn axis(v: &Vary) -> String {
    if v.unit.is_empty() {
        if v.values.iter().all(|x| x.parse::<f64>().is_ok()) {
            v.path.clone()
        } else {
            format!("{} ({})", v.path, v.values.join(", "))
        }
    } else {
        format!("{} ({})", v.path, v.unit)
    }
}

/// The figures of a sweep: nines against the first varied value with its
/// band, one line per value of the second; success ratio likewise when the
/// scenario has requests.
///
/// # Errors
/// [`Error::Write`] when a file cannot be written.
pub fn for_sweep(out: &mut Staging, vary: &[Vary], points: &[Point]) -> Result<Vec<Figure>> {
    let first = &vary[0];
    let groups: Vec<(String, Vec<&Point>)> = match vary.get(1) {
        None => vec![(String::from("nines"), points.iter().collect())],
        Some(second) => second
            .values
            .iter()
            .enumerate()
            .map(|(j, v)| {
                (
                    format!("{} = {v}", short(&second.path)),
                    points.iter().filter(|p| p.0[1] == j).collect::<Vec<_>>(),
                )
            })
            // An interrupted sweep holds a prefix of the grid: no legend
            // entry for a value none of its points reached.
            .filter(|(_, pts)| !pts.is_empty())
            .collect(),
    };
    let nines: Vec<Series> = groups
        .iter()
        .flat_map(|(label, pts)| nines_series(first, label, pts))
        .collect();
    let title = "Availability curve";
    let x = axis(first);
    let layout = Layout {
        x: x_scale(first),
        ..Layout::default()
    };
    let y = nines_axis(points.iter().map(|p| &p.1), "95 % band");
    let mut figs = vec![write(out, "availability_curve", title, |f| {
        plot::curve(&labels(title, &x, &y), &nines, &layout, f)
    })?];
    if points.iter().any(|p| p.1.requests.is_some()) {
        let success: Vec<Series> = groups
            .iter()
            .map(|(label, pts)| Series {
                label: label.replace("nines", "success ratio"),
                points: pts
                    .iter()
                    .filter_map(|(idx, s)| {
                        let r = s.requests.as_ref()?;
                        Some(BandPoint {
                            x: first.numbers[idx[0]],
                            mid: r.success_ratio.mean,
                            lo: r.success_ratio.ci95[0],
                            hi: r.success_ratio.ci95[1],
                        })
                    })
                    .collect(),
                ..Series::default()
            })
            .collect();
        let title = "Request success ratio";
        figs.push(write(out, "success_curve", title, |f| {
            plot::curve(
                &labels(title, &x, "full successes / requests (95 % band)"),
                &success,
                &layout,
                f,
            )
        })?);
    }
    Ok(figs)
}

/// Whole-number values (replicas) get whole-number ticks.
fn x_scale(v: &Vary) -> XScale {
    if v.numbers.iter().all(|x| x.fract() == 0.0) {
        XScale::Integer
    } else {
        XScale::Linear
    }
}

/// One group's headline against the first varied value: measured points
/// joined by the line, bounds apart, and the closed form (when every point
/// has one) as a dashed line after it.
fn nines_series(first: &Vary, label: &str, pts: &[&Point]) -> Vec<Series> {
    let heads: Vec<(f64, Headline)> = pts
        .iter()
        .map(|(idx, s)| (first.numbers[idx[0]], headline(s)))
        .collect();
    let measured = Series {
        label: label.to_string(),
        points: heads
            .iter()
            .filter(|(_, h)| !h.bound)
            .map(|(x, h)| BandPoint {
                x: *x,
                mid: h.nines,
                lo: h.lo,
                hi: h.hi,
            })
            .collect(),
        bounds: heads
            .iter()
            .filter(|(_, h)| h.bound)
            .map(|(x, h)| (*x, h.nines))
            .collect(),
        closed_form: false,
    };
    let closed: Option<Vec<BandPoint>> = heads
        .iter()
        .map(|(x, h)| {
            h.closed_form.map(|c| BandPoint {
                x: *x,
                mid: c,
                lo: c,
                hi: c,
            })
        })
        .collect();
    let closed = closed.filter(|c| !c.is_empty()).map(|points| Series {
        label: if label == "nines" {
            "closed form".into()
        } else {
            format!("{label}, closed form")
        },
        points,
        bounds: Vec::new(),
        closed_form: true,
    });
    std::iter::once(measured).chain(closed).collect()
}

/// The figures of a comparison: nines of each design with its interval,
/// and their downtime CDFs overlaid.
///
/// # Errors
/// [`Error::Write`] when a file cannot be written.
pub fn for_compare(
    out: &mut Staging,
    names: &[String],
    summaries: &[Summary],
    slo: Option<f64>,
) -> Result<Vec<Figure>> {
    let bars: Vec<Bar> = names
        .iter()
        .zip(summaries)
        .map(|(n, s)| {
            let h = headline(s);
            Bar {
                label: n.clone(),
                value: h.nines,
                lo: h.lo,
                hi: h.hi,
                bound: h.bound,
                closed_form: h.closed_form,
            }
        })
        .collect();
    let title = "Nines of each design";
    let y = nines_axis(summaries.iter(), "95 % interval");
    let mut figs = vec![write(out, "nines", title, |f| {
        plot::bars(&labels(title, "design", &y), &bars, f)
    })?];
    let designs: Vec<(String, &Summary)> = names.iter().cloned().zip(summaries).collect();
    figs.push(downtime(out, &designs, slo)?);
    Ok(figs)
}

/// The bar chart of `nines improve`: the nines each improvement gains,
/// ranked, with its 95 % interval; `bars` holds the best of `of`
/// improvements, in rank order; `x` names the axis (the codes under the
/// bars). Written as `improve.png` and `improve.svg`.
///
/// # Errors
/// [`Error::Write`] when a file cannot be written.
pub fn for_improve(out: &mut Staging, bars: &[Bar], of: usize, x: &str) -> Result<Figure> {
    let title = if bars.len() < of {
        format!("Nines gained: the best {} of {of} improvements", bars.len())
    } else {
        "Nines gained by each improvement".to_string()
    };
    write(out, "improve", &title, |f| {
        plot::bars(&labels(&title, x, "nines gained (95 % interval)"), bars, f)
    })
}
