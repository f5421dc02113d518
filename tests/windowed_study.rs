//! Studies of windowed request sampling over many seeds (`#[ignore]`:
//! minutes of one core each): its bias against full simulation, paired by
//! seed, and the coverage of its 95 % intervals.
//!
//! Each seed runs the same trials full and windowed (the same failure
//! paths) on one thread. A seed's windowed run draws its own stationary
//! samples, so the seeds are independent: the mean over seeds of each
//! seed's mean paired difference estimates the bias of windowed sampling,
//! its standard error is the spread across seeds, and a bias shows as
//! |mean| > 3 standard errors. The truth for coverage is the mean of
//! every full trial of the study (its own standard error is printed; it is
//! a fortieth of an interval's half-width), and the full runs' own
//! intervals are covered as a control: the Student t interval of a few
//! trials of a skewed loss covers less than 95 % by itself.
//!
//! Run with (single core, niced, beside other builds):
//! `nice -n 10 cargo test --release --test main windowed_study -- --ignored --nocapture --test-threads 1`.
//! `WSTUDY_SEEDS=N` runs N seeds instead (a quick look).

use crate::util::{COMPRESSED, SAGA, mean_se, request_availability, simulate_on};
use nines::model::TrialResult;
use nines::model::result::WorkflowResult;

/// Trials per seed, full and windowed.
const TRIALS: u64 = 8;

fn seeds(default: u64) -> u64 {
    std::env::var("WSTUDY_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// One figure across the study: per seed, the mean paired difference
/// (windowed - full) and both runs' 95 % intervals; every full trial's
/// value.
#[derive(Default)]
struct Figure {
    diffs: Vec<f64>,
    windowed_ci: Vec<[f64; 2]>,
    full_ci: Vec<[f64; 2]>,
    full: Vec<f64>,
}

impl Figure {
    fn push(&mut self, full: &[f64], windowed: &[f64], full_ci: [f64; 2], windowed_ci: [f64; 2]) {
        let d: f64 = full.iter().zip(windowed).map(|(f, w)| w - f).sum::<f64>() / full.len() as f64;
        self.diffs.push(d);
        self.full.extend_from_slice(full);
        self.full_ci.push(full_ci);
        self.windowed_ci.push(windowed_ci);
    }

    /// Prints the bias and coverage; returns (bias in standard errors,
    /// windowed coverage, full coverage).
    fn report(&self, name: &str) -> (f64, f64, f64) {
        let (bias, se) = mean_se(&self.diffs);
        let (truth, truth_se) = mean_se(&self.full);
        let n = self.diffs.len() as f64;
        let covers = |cis: &[[f64; 2]]| cis.iter().filter(|c| c[0] <= truth && truth <= c[1]).count() as f64 / n;
        let half = |cis: &[[f64; 2]]| cis.iter().map(|c| (c[1] - c[0]) / 2.0).sum::<f64>() / n;
        let (cw, cf) = (covers(&self.windowed_ci), covers(&self.full_ci));
        let binomial = (0.95 * 0.05 / n).sqrt();
        println!(
            "{name}: {} seeds x {TRIALS} trials; truth (full mean) {truth:.6e} +- {truth_se:.1e} s.e.; \
             windowed - full {bias:+.3e}, s.e. {se:.2e} ({:+.2} s.e.); \
             coverage of the truth: windowed {:.1} % (mean half-width {:.2e}), full {:.1} % ({:.2e}); \
             binomial s.e. at 95 %: {:.1} points",
            self.diffs.len(),
            bias / se,
            100.0 * cw,
            half(&self.windowed_ci),
            100.0 * cf,
            half(&self.full_ci),
            100.0 * binomial,
        );
        (bias / se, cw, cf)
    }
}

/// One outcome's count of a trial's first workflow.
type Outcome = fn(&WorkflowResult) -> u64;

/// Each trial's share of its ended sagas that `f` picks.
fn saga_share(rows: &[TrialResult], f: Outcome) -> Vec<f64> {
    rows.iter()
        .map(|r| {
            let wf = &r.traffic.as_ref().expect("requests").workflows[0];
            f(wf) as f64 / wf.concluded().max(1) as f64
        })
        .collect()
}

/// Runs `model` full and windowed over `seeds` seeds from `first`; with
/// `sagas`, the saga ratios too. Figures: request availability, then
/// completed, compensated, stuck.
fn study(model: &str, seeds: u64, first: u64, sagas: bool) -> Vec<(&'static str, Figure)> {
    let full = format!("request_sampling = \"full\"\n{model}");
    let windowed = format!("request_sampling = \"windowed\"\n{model}");
    let mut figures: Vec<(&'static str, Figure)> = vec![("request availability", Figure::default())];
    let outcomes: [(&'static str, Outcome); 3] = [
        ("completed ratio", |r| r.completed),
        ("compensated ratio", |r| r.compensated),
        ("stuck ratio", |r| r.stuck),
    ];
    if sagas {
        figures.extend(outcomes.iter().map(|(n, _)| (*n, Figure::default())));
    }
    let (mut windows, mut metastable) = (0.0, 0);
    for (k, seed) in (first..first + seeds).enumerate() {
        let (sf, rf) = simulate_on(&full, TRIALS, seed, Some(1));
        let (sw, rw) = simulate_on(&windowed, TRIALS, seed, Some(1));
        let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
        windows += w.windows_per_trial;
        metastable += w.metastable_windows;
        figures[0].1.push(
            &request_availability(&rf),
            &request_availability(&rw),
            sf.requests.as_ref().unwrap().availability.ci95,
            sw.requests.as_ref().unwrap().availability.ci95,
        );
        if sagas {
            let (of, ow) = (&sf.workflows["order"], &sw.workflows["order"]);
            let cis = [
                (of.completed_ratio.ci95, ow.completed_ratio.ci95),
                (of.compensated_ratio.ci95, ow.compensated_ratio.ci95),
                (of.stuck_ratio.ci95, ow.stuck_ratio.ci95),
            ];
            for (o, (_, f)) in outcomes.iter().enumerate() {
                figures[1 + o]
                    .1
                    .push(&saga_share(&rf, *f), &saga_share(&rw, *f), cis[o].0, cis[o].1);
            }
        }
        // A running report, so that a study cut short still tells.
        if (k + 1) % 20 == 0 && k + 1 < seeds as usize {
            for (name, f) in &figures {
                f.report(name);
            }
        }
    }
    println!(
        "{:.1} windows per trial, {metastable} metastable",
        windows / seeds as f64
    );
    figures
}

/// Asserts no bias beyond 3 standard errors, and windowed coverage no
/// worse than the full runs' own by more than 3 binomial standard errors
/// of their difference.
fn judge(figures: &[(&'static str, Figure)]) {
    let mut failures = Vec::new();
    for (name, f) in figures {
        let (z, cw, cf) = f.report(name);
        let n = f.diffs.len() as f64;
        let spread = 3.0 * (2.0 * 0.95 * 0.05 / n).sqrt();
        if z.abs() > 3.0 {
            failures.push(format!("{name}: windowed - full is {z:+.2} standard errors"));
        }
        if cw < cf - spread {
            failures.push(format!("{name}: windowed covers {cw:.3}, full {cf:.3}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The compressed model of `tests/windowed.rs` (6 h; replicas failing
/// about every hour across the tier, retries, a breaker, a 40 s failover).
#[test]
#[ignore = "a study: about 10 minutes of one core"]
fn windowed_study_compressed() {
    judge(&study(COMPRESSED, seeds(200), 10_000, false));
}

/// The saga model of `tests/windowed_workflows.rs`: request availability
/// and the completed, compensated and stuck ratios.
#[test]
#[ignore = "a study: about 15 minutes of one core"]
fn windowed_study_saga() {
    judge(&study(SAGA, seeds(150), 20_000, true));
}
