//! Coverage of the availability interval when downtime is rare and skewed
//! (issue 14): does the 95 % interval hold the closed-form truth in 95 % of
//! independent runs?
//!
//! `coverage_study` (ignored: ~10 s at 1000 seeds with the optimised test
//! profile) runs each case over many master seeds and prints, per interval,
//! the coverage, how many misses were optimistic (truth below the
//! interval's availability, i.e. above its unavailability) and the mean
//! width. `scripts/coverage.sh` runs it and keeps the figures in `output/`;
//! `docs/intervals.md` has them with the date and command. The candidates
//! besides the one nines reports ("after") are there so that the choice in
//! `src/stats/interval.rs` can be checked.
//!
//! `skewed_interval_covers_where_student_t_missed` is the fast guard: seeds
//! of the first case on which the old Student t interval missed
//! optimistically; it fails if the Student t comes back.
//!
//! Truths: `1 - (MTTR/(MTTF+MTTR))²` for two independent replicas needing
//! one, `MTTF/(MTTF+MTTR)` for one replica (renewal theory, see
//! `validation.rs`), the binomial tail for 2 of 3. Every trial starts all
//! up; with exponential failures the start-up deficit of downtime is about
//! `U·E[Y²]/(2 E[Y])` per replica, at most 1 % of `U` over one year here,
//! under 1/50 of any interval's half-width.

use nines::stats::Skewed;
use nines::stats::interval::{availability_ci95, mean_ci95, student_t_is_fine};
use statrs::distribution::{ContinuousCDF, StudentsT};

struct Case {
    name: &'static str,
    toml: &'static str,
    trials: u64,
    truth: f64,
}

/// Two replicas needing one, lognormal repair with cv 2: ~0.17 outages of
/// the pair per 1-year trial (the first case of the study).
pub const LOGNORMAL_CV2: &str = r#"
horizon = "1y"
[[service]]
name = "api"
topology = "active-active"
replicas = 2
min_healthy = 1
failure = { mean = "1000h" }
repair = { dist = "lognormal", mean = "10h", cv = 2.0 }
"#;

fn lognormal_cv2_truth() -> f64 {
    1.0 - (10.0f64 / 1010.0).powi(2)
}

fn cases() -> Vec<Case> {
    let a = 100.0 / 110.0;
    vec![
        // ~0.17 outages of the pair per trial.
        Case {
            name: "2 replicas, lognormal repair cv 2, 300 trials",
            toml: LOGNORMAL_CV2,
            trials: 300,
            truth: lognormal_cv2_truth(),
        },
        // ~0.2 outages per trial, Weibull repair of shape 0.5 (cv 2.2).
        Case {
            name: "1 replica, Weibull repair shape 0.5, 300 trials",
            toml: r#"
horizon = "1y"
[[service]]
name = "api"
topology = "single"
failure = { mean = "43800h" }
repair = { dist = "weibull", shape = 0.5, mean = "24h" }
"#,
            trials: 300,
            truth: 43800.0 / 43824.0,
        },
        // ~0.044 outages per trial: rarer, heavier tail, more trials.
        Case {
            name: "2 replicas, lognormal repair cv 3, 1000 trials",
            toml: r#"
horizon = "1y"
[[service]]
name = "api"
topology = "active-active"
replicas = 2
min_healthy = 1
failure = { mean = "2000h" }
repair = { dist = "lognormal", mean = "10h", cv = 3.0 }
"#,
            trials: 1000,
            truth: 1.0 - (10.0f64 / 2010.0).powi(2),
        },
        // Hundreds of outages per trial: the Student t is fine and kept.
        Case {
            name: "2 of 3 replicas, exponential, 100 trials",
            toml: r#"
horizon = "1y"
[[service]]
name = "api"
topology = "active-active"
replicas = 3
min_healthy = 2
failure = { mean = "100h" }
repair = { mean = "10h" }
"#,
            trials: 100,
            truth: a * a * a + 3.0 * a * a * (1.0 - a),
        },
    ]
}

/// Moments of the per-trial unavailabilities, for the alternatives.
struct Sample {
    n: f64,
    mean: f64,
    var: f64,
    g1: f64,
}

fn sample(u: &[f64]) -> Sample {
    let n = u.len() as f64;
    let mean = u.iter().sum::<f64>() / n;
    let m2 = u.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let m3 = u.iter().map(|x| (x - mean).powi(3)).sum::<f64>() / n;
    let g1 = if m2 > 0.0 { m3 / m2.powf(1.5) } else { 0.0 };
    Sample {
        n,
        mean,
        var: m2 * n / (n - 1.0),
        g1,
    }
}

fn t975(n: f64) -> f64 {
    StudentsT::new(0.0, 1.0, n - 1.0).unwrap().inverse_cdf(0.975)
}

/// Log-transformed t on the unavailability.
fn log_t(m: &Sample) -> [f64; 2] {
    let r = t975(m.n) * (m.var / m.n).sqrt() / m.mean;
    [m.mean * (-r).exp(), m.mean * r.exp()]
}

/// Hall's skewness-removing transformation of the t statistic (Hall 1992,
/// in the form of Zhou and Dinh 2005), on the unavailability.
fn hall(m: &Sample) -> [f64; 2] {
    let (s, g, n) = (m.var.sqrt(), m.g1, m.n);
    if g.abs() < 1e-12 {
        let h = t975(n) * s / n.sqrt();
        return [m.mean - h, m.mean + h];
    }
    let inv = |x: f64| 3.0 / g * ((1.0 + g * (x - g / (6.0 * n))).cbrt() - 1.0);
    let z = t975(n) / n.sqrt();
    [m.mean - s * inv(z), m.mean - s * inv(-z)]
}

const METHODS: [&str; 4] = ["before: Student t", "after: nines", "log t", "Hall t"];

#[derive(Default, Clone, Copy)]
struct Tally {
    covered: u32,
    optimistic: u32,
    missed: u32,
    width: f64,
}

impl Tally {
    /// `ci` on availability.
    fn add(&mut self, ci: [f64; 2], truth: f64) {
        if truth < ci[0] {
            self.missed += 1;
            self.optimistic += 1;
        } else if truth > ci[1] {
            self.missed += 1;
        } else {
            self.covered += 1;
        }
        self.width += (ci[1] - ci[0]) / (1.0 - truth);
    }
}

/// Runs `case` on master seed `seed`: the four intervals on availability,
/// and whether the Student t was kept.
fn intervals(case: &Case, seed: u64) -> ([[f64; 2]; 4], bool) {
    let (summary, rows) = crate::util::simulate(case.toml, case.trials, seed);
    let mut acc = Skewed::default();
    rows.iter().for_each(|r| acc.push(r.availability));
    let before = mean_ci95(acc.welford(), 0.0, 1.0);
    let after = summary.availability.ci95;
    // The summary's interval is the library's (to rounding: the run merges
    // chunks), unless no trial saw downtime.
    if summary.availability.trials_with_downtime > 0 {
        let mine = availability_ci95(&acc);
        let tol = 1e-6 * (1.0 - case.truth);
        assert!(
            (after[0] - mine[0]).abs() < tol && (after[1] - mine[1]).abs() < tol,
            "seed {seed}: summary {after:?}, library {mine:?}"
        );
    }
    let u: Vec<f64> = rows.iter().map(|r| 1.0 - r.availability).collect();
    let m = sample(&u);
    let flip = |c: [f64; 2]| [1.0 - c[1], 1.0 - c[0]];
    let kept = student_t_is_fine(acc.count(), acc.skewness());
    ([before, after, flip(log_t(&m)), flip(hall(&m))], kept)
}

#[test]
#[ignore = "coverage study, ~10 s: scripts/coverage.sh"]
fn coverage_study() {
    let seeds: u64 = std::env::var("NINES_COVERAGE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    for case in cases() {
        let mut tally = [Tally::default(); 4];
        let mut kept = 0;
        let mut t_missed = Vec::new();
        for seed in 1..=seeds {
            let (cis, t_kept) = intervals(&case, seed);
            let rescued = case.truth < cis[0][0] && cis[1][0] <= case.truth && case.truth <= cis[1][1];
            if rescued && t_missed.len() < 10 {
                t_missed.push(seed);
            }
            kept += u32::from(t_kept);
            for (t, ci) in tally.iter_mut().zip(cis) {
                t.add(ci, case.truth);
            }
        }
        println!(
            "{}: U = {:.3e}, seeds 1..={seeds}, Student t kept in {kept}",
            case.name,
            1.0 - case.truth
        );
        println!("  first seeds where the Student t missed optimistically and nines covers: {t_missed:?}");
        for (name, t) in METHODS.iter().zip(&tally) {
            println!(
                "  {name:18} coverage {:5.1} %, optimistic misses {:3} of {:3}, mean width {:.3} U",
                100.0 * f64::from(t.covered) / seeds as f64,
                t.optimistic,
                t.missed,
                t.width / seeds as f64
            );
        }
        let after = tally[1].covered as f64 / seeds as f64;
        assert!(after >= 0.93, "{}: coverage {after}", case.name);
    }
}

/// The first five seeds (printed by `coverage_study`) on which the Student t
/// interval of the first case missed the truth on the optimistic side and
/// the interval nines reports covers it (nines misses on 4 % of seeds
/// itself, seed 8 among them, as a 95 % interval must).
const MISSED_BY_T: [u64; 5] = [10, 20, 34, 37, 43];

#[test]
fn skewed_interval_covers_where_student_t_missed() {
    let case = &cases()[0];
    for seed in MISSED_BY_T {
        let ([before, after, ..], kept) = intervals(case, seed);
        assert!(
            case.truth < before[0],
            "seed {seed}: the Student t missed here: {before:?}"
        );
        assert!(!kept, "seed {seed}: the sample is skewed");
        assert!(
            after[0] <= case.truth && case.truth <= after[1],
            "seed {seed}: truth {} outside {after:?}",
            case.truth
        );
    }
}
