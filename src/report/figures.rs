//! Which plots fit which run, built from finished figures (a summary, the
//! per-trial timelines of a request-level run, the points of a sweep) and
//! staged as PNG and SVG beside `summary.json` (published with it).
//!
//! Every figure's data is bounded whatever the number of trials: CDFs come
//! from the mergeable histograms, timelines have a fixed number of buckets.

use std::path::PathBuf;

use super::files::Staging;
use super::plot::{self, BandPoint, Format, Labels, Series};
use crate::engine::time;
use crate::error::{Error, Result};
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

/// Downtime per year in minutes, as a CDF, with the SLO's budget marked.
fn downtime_cdf(out: &mut Staging, series: &[(String, Vec<(f64, f64)>)], slo: Option<f64>) -> Result<Figure> {
    let minutes: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(name, cdf)| (name.clone(), cdf.iter().map(|&(x, f)| (x / 60.0, f)).collect()))
        .collect();
    let year_min = time::to_secs(time::YEAR) / 60.0;
    let vlines: Vec<(f64, String)> = slo
        .map(|t| vec![((1.0 - t) * year_min, format!("SLO {} budget", t))])
        .unwrap_or_default();
    let title = "Downtime per year across trials";
    write(out, "downtime", title, |f| {
        plot::cdf(
            &labels(title, "downtime per year (minutes)", "share of trials at or below"),
            &minutes,
            &vlines,
            false,
            f,
        )
    })
}

/// Median and 10-90 % band across trials of a per-bucket ratio.
fn band(
    timelines: &[TrialTimeline],
    horizon_s: f64,
    unit: f64,
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
            Some(BandPoint {
                x,
                mid: q(0.5),
                lo: q(0.1),
                hi: q(0.9),
            })
        })
        .collect()
}

/// The figures of one run: downtime CDF; with requests, latency CDF,
/// success ratio over time and attempts per request over time.
///
/// # Errors
/// [`Error::Write`] when a file cannot be written.
pub fn for_run(out: &mut Staging, sc: &Scenario, s: &Summary, timelines: &[TrialTimeline]) -> Result<Vec<Figure>> {
    let mut figs = vec![downtime_cdf(
        out,
        &[(s.scenario.clone(), s.downtime_cdf.clone())],
        s.slo.as_ref().map(|x| x.target),
    )?];
    if s.requests.is_some() {
        let ms: Vec<(f64, f64)> = s.latency_cdf.iter().map(|&(x, f)| (x * 1000.0, f)).collect();
        let title = "Request latency";
        figs.push(write(out, "latency", title, |f| {
            plot::cdf(
                &labels(title, "latency (ms, log scale)", "share of requests at or below"),
                &[(s.scenario.clone(), ms.clone())],
                &[],
                true,
                f,
            )
        })?);
        let horizon_s = time::to_secs(sc.horizon);
        let (unit, unit_name) = if horizon_s > 5.0 * 3600.0 {
            (3600.0, "h")
        } else {
            (60.0, "min")
        };
        let x = format!("time in trial ({unit_name})");
        // Scripted fault windows, shaded behind the curves.
        let shade: Vec<(f64, f64)> = sc
            .faults
            .iter()
            .filter_map(|f| match f.schedule {
                crate::scenario::FaultSchedule::Once(at) if at < sc.horizon => {
                    let start = time::to_secs(at);
                    let end = (start + f.duration.mean_secs()).min(horizon_s);
                    Some((start / unit, end / unit))
                }
                _ => None,
            })
            .collect();
        let success = band(timelines, horizon_s, unit, |t, b| {
            let r = &t.root[b];
            (r[0] > 0).then(|| f64::from(r[1] + r[2]) / f64::from(r[0]))
        });
        let title = "Requests served (success or degraded) over time";
        let series = [Series {
            label: "median, 10-90 % band".into(),
            points: success,
        }];
        figs.push(write(out, "success_over_time", title, |f| {
            plot::curve(
                &labels(title, &x, "share of requests served"),
                &series,
                false,
                &shade,
                f,
            )
        })?);
        let edges: Vec<&String> = s.edges.keys().collect();
        let per_edge = |k: usize, b: usize, t: &TrialTimeline| t.edges[k * TIMELINE_BUCKETS + b];
        let amplification: Vec<Series> = edges
            .iter()
            .enumerate()
            .map(|(k, name)| Series {
                label: name.to_string(),
                points: band(timelines, horizon_s, unit, |t, b| {
                    let c = per_edge(k, b, t);
                    (c[0] > 0.0).then(|| f64::from(c[1]) / f64::from(c[0]))
                }),
            })
            .collect();
        let title = "Retry amplification over time";
        figs.push(write(out, "attempts_over_time", title, |f| {
            plot::curve(
                &labels(title, &x, "attempts per call (median, 10-90 % band)"),
                &amplification,
                false,
                &shade,
                f,
            )
        })?);
        let bucket_s = horizon_s / TIMELINE_BUCKETS as f64;
        let breakers: Vec<Series> = edges
            .iter()
            .enumerate()
            .filter(|(_, name)| sc_has_breaker(sc, name))
            .map(|(k, name)| Series {
                label: name.to_string(),
                points: band(timelines, horizon_s, unit, |t, b| {
                    Some(f64::from(per_edge(k, b, t)[2]) / bucket_s)
                }),
            })
            .collect();
        if !breakers.is_empty() {
            let title = "Circuit breakers open over time";
            figs.push(write(out, "breakers_over_time", title, |f| {
                plot::curve(
                    &labels(title, &x, "share of time open (median, 10-90 % band)"),
                    &breakers,
                    false,
                    &shade,
                    f,
                )
            })?);
        }
    }
    Ok(figs)
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
        .map(|(label, pts)| Series {
            label: label.clone(),
            points: pts
                .iter()
                .map(|(idx, s)| {
                    let a = &s.availability;
                    BandPoint {
                        x: first.numbers[idx[0]],
                        mid: a.nines,
                        lo: a.nines_ci95[0].unwrap_or(a.nines),
                        hi: a.nines_ci95[1].unwrap_or(a.nines),
                    }
                })
                .collect(),
        })
        .collect();
    let title = "Availability curve";
    let x = axis(first);
    let mut figs = vec![write(out, "availability_curve", title, |f| {
        plot::curve(&labels(title, &x, "nines (95 % band)"), &nines, false, &[], f)
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
            })
            .collect();
        let title = "Request success ratio";
        figs.push(write(out, "success_curve", title, |f| {
            plot::curve(
                &labels(title, &x, "full successes / requests (95 % band)"),
                &success,
                false,
                &[],
                f,
            )
        })?);
    }
    Ok(figs)
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
    let bars: Vec<(String, f64, f64, f64)> = names
        .iter()
        .zip(summaries)
        .map(|(n, s)| {
            let a = &s.availability;
            (
                n.clone(),
                a.nines,
                a.nines_ci95[0].unwrap_or(a.nines),
                a.nines_ci95[1].unwrap_or(a.nines),
            )
        })
        .collect();
    let title = "Nines of each design";
    let mut figs = vec![write(out, "nines", title, |f| {
        plot::bars(&labels(title, "design", "nines (95 % interval)"), &bars, f)
    })?];
    let cdfs: Vec<(String, Vec<(f64, f64)>)> = names
        .iter()
        .zip(summaries)
        .map(|(n, s)| (n.clone(), s.downtime_cdf.clone()))
        .collect();
    figs.push(downtime_cdf(out, &cdfs, slo)?);
    Ok(figs)
}
