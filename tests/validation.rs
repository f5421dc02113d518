//! Closed-form validation: each test runs the real simulator on a scenario
//! whose long-run availability is known exactly (or, for the failover delay,
//! to first order) and checks that
//!
//! (a) the truth lies inside the reported 95 % interval, and
//! (b) the interval is narrow enough for (a) to mean something: its
//!     half-width is bounded by a small fraction of the unavailability
//!     `U = 1 - A`, chosen per case so that a plausible modelling mistake
//!     (a wrong mean, a standby that ages when it should not, a region
//!     counted twice, ...) would move the estimate well outside it. Where a
//!     specific wrong answer is the natural mistake, the test also checks
//!     that the interval excludes it.
//!
//! Seeds are fixed, so the tests are deterministic, and were not tuned:
//! each is the first one tried with the final trial sizes. A correct
//! simulator still misses a 95 % interval for about 1 seed in 20, so a change
//! to the random streams may make one case fail by chance: rerun it with ten
//! times the trials and a few other seeds before suspecting the model.
//!
//! Finite horizons: every trial starts with everything up, so the expected
//! time-average over `[0, T]` differs slightly from the steady state. For
//! an alternating renewal process started at a failure-free instant, the
//! expected downtime is `U·T + c + o(1)` with (coupling with the stationary
//! version) `c = U·E[C²]/(2m) - (m_X·m_Y + E[Y²]/2)/m`, `X` up, `Y` down,
//! `C = X + Y`, `m = E[C]`: -0.8 h for exponential 100 h / 10 h, -4.4 h for
//! the Weibull/lognormal case, -3.5 h for the lognormal/fixed case, +3.6 h
//! for the gamma case. That is at most
//! 0.06 % of `U` over 10 years and 0.011 % over 50; with exponential
//! components (relaxation rate λ+μ ≈ 0.1/h, 0.055/h for the regions) it is
//! below 0.1 % of `U` for every horizon used. Each case keeps it under
//! 0.1 of its interval's half-width (checked when the sizes were chosen).
//!
//! Sources of the formulas:
//! - renewal theory (alternating renewal process / renewal-reward theorem):
//!   `A = MTTF / (MTTF + MTTR)` for any distributions, e.g. Ross,
//!   *Stochastic Processes*, §3.4 (also Barlow & Proschan, *Statistical
//!   Theory of Reliability and Life Testing*, ch. 7);
//! - independent components: time-averages of products of independent
//!   stationary indicators are products of availabilities; k-of-n is the
//!   binomial tail (Trivedi, *Probability and Statistics with Reliability,
//!   Queuing and Computer Science Applications*, §3.x, k-out-of-n systems);
//! - standby and imperfect switch-over: continuous-time Markov chains solved
//!   for their stationary distribution `π Q = 0, Σ π = 1` (Trivedi, ch. 8,
//!   "availability models": cold standby and imperfect coverage).

use std::time::Instant;

use crate::util::{assert_covers, assert_excludes};
use nines::RunOptions;
use nines::stats::Summary;

// ---------------------------------------------------------------- helpers

/// Runs the scenario `toml` with `trials` trials and master seed `seed`.
fn run(name: &str, toml: &str, trials: u64, seed: u64) -> Summary {
    let sc = nines::scenario::parse(&format!("{name}.toml"), name, toml, &[])
        .unwrap_or_else(|e| panic!("{name}: scenario does not parse: {e}"));
    let opts = RunOptions {
        trials: Some(trials),
        seed: Some(seed),
        ..Default::default()
    };
    let start = Instant::now();
    let summary = nines::simulate(&sc, &opts, |_, _| Ok(())).unwrap();
    println!(
        "{name}: {trials} trials, {} events, {:.3} s",
        summary.events,
        start.elapsed().as_secs_f64()
    );
    summary
}

/// Renewal availability `MTTF / (MTTF + MTTR)`.
fn renewal(mttf: f64, mttr: f64) -> f64 {
    mttf / (mttf + mttr)
}

/// `P(Binomial(n, a) >= k)`, by direct summation.
fn at_least(k: u32, n: u32, a: f64) -> f64 {
    let choose = |n: u32, i: u32| (0..i).fold(1.0, |c, j| c * f64::from(n - j) / f64::from(j + 1));
    (k..=n)
        .map(|i| choose(n, i) * a.powi(i as i32) * (1.0 - a).powi((n - i) as i32))
        .sum()
}

/// Stationary distribution of the CTMC with off-diagonal rates `rates[i][j]`
/// (diagonal ignored): solves `π Q = 0` with one balance equation replaced
/// by `Σ π = 1`, by Gaussian elimination with partial pivoting.
fn stationary(rates: &[Vec<f64>]) -> Vec<f64> {
    let n = rates.len();
    // Row i of the system is the balance equation of state i:
    // Σ_j π_j q_ji - π_i Σ_j q_ij = 0, i.e. column i of Q.
    let mut m = vec![vec![0.0; n + 1]; n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                m[i][j] += rates[j][i];
                m[i][i] -= rates[i][j];
            }
        }
    }
    m[n - 1] = vec![1.0; n + 1]; // Σ π = 1
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
            .unwrap();
        m.swap(col, pivot);
        let pivot_row = m[col].clone();
        for (row, r) in m.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot_row[col];
                for (x, p) in r.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    (0..n).map(|i| m[i][n] / m[i][i]).collect()
}

// Hours, the unit of every rate below.
const MTTF: f64 = 100.0;
const MTTR: f64 = 10.0;

// ------------------------------------------------ 1-4: one replica, renewal

fn single(name: &str, failure: &str, repair: &str, seed: u64) {
    // Few long trials rather than many short ones: the interval's width
    // depends on the total simulated time, the start-up bias (see the
    // module notes) on each trial's length.
    let toml = format!(
        r#"
        horizon = "50y"
        [[service]]
        name = "app"
        topology = "single"
        failure = {failure}
        repair = {repair}
        "#
    );
    let s = run(name, &toml, 100, seed);
    let truth = renewal(MTTF, MTTR);
    // U = 1/11 = 0.091. Per 50-year trial the downtime has a relative
    // spread of 0.7-2.3 % (asymptotic variance of an alternating renewal
    // process, (m_u² σ_d² + m_d² σ_u²) / (m_u + m_d)³ per hour: 0.2-1.9 h
    // for these families), so 100 trials give a half-width of 0.15-0.5 % of
    // U. We allow 1.5 %: a 10 % error in either mean (a Weibull scale or a
    // lognormal median taken for the mean, say) moves U by ~9 %.
    assert_covers(name, truth, s.availability.ci95, 0.015 * (1.0 - truth));
    // The service's own figure is the entry's.
    assert_covers(
        &format!("{name} (service)"),
        truth,
        s.services["app"].availability.ci95,
        0.015 * (1.0 - truth),
    );
}

/// Case 1. Renewal theory, exponential: A = MTTF / (MTTF + MTTR).
#[test]
fn single_exponential() {
    single("single_exponential", r#"{ mean = "100h" }"#, r#"{ mean = "10h" }"#, 1);
}

/// Case 2. Renewal theory: A depends only on the means (Weibull failure,
/// lognormal repair with a heavy tail; a median-for-mean mistake would make
/// the repair mean 10/√(1+cv²) = 5.5 h).
#[test]
fn single_weibull_lognormal() {
    single(
        "single_weibull_lognormal",
        r#"{ dist = "weibull", shape = 2.0, mean = "100h" }"#,
        r#"{ dist = "lognormal", mean = "10h", cv = 1.5 }"#,
        2,
    );
}

/// Case 3. Renewal theory: gamma failure (shape < 1, cv = 1.41), uniform repair.
#[test]
fn single_gamma_uniform() {
    single(
        "single_gamma_uniform",
        r#"{ dist = "gamma", shape = 0.5, mean = "100h" }"#,
        r#"{ dist = "uniform", min = "2h", max = "18h" }"#,
        3,
    );
}

/// Case 4. Renewal theory: lognormal failure, fixed repair.
#[test]
fn single_lognormal_fixed() {
    single(
        "single_lognormal_fixed",
        r#"{ dist = "lognormal", mean = "100h", cv = 0.5 }"#,
        r#"{ dist = "fixed", mean = "10h" }"#,
        4,
    );
}

/// Case 4b. Renewal theory: empirical repair, mean (1 + 19) / 2 = 10 h.
#[test]
fn single_empirical_repair() {
    single(
        "single_empirical_repair",
        r#"{ mean = "100h" }"#,
        r#"{ dist = "empirical", values = ["1h", "19h"] }"#,
        5,
    );
}

// ------------------------------------------------ 5-6: active-active k-of-n

const TWO_OF_THREE: &str = r#"
    horizon = "10y"
    [[service]]
    name = "api"
    topology = "active-active"
    replicas = 3
    min_healthy = 2
    failure = { mean = "100h" }
    repair = { mean = "10h" }
"#;

fn two_of_three_truth() -> f64 {
    at_least(2, 3, renewal(MTTF, MTTR))
}

/// Case 5. Independent replicas, k-of-n: A = P(Binomial(3, a) >= 2)
/// = 1 - 31/1331.
#[test]
fn active_active_two_of_three() {
    let s = run("active_active_2of3", TWO_OF_THREE, 400, 6);
    let truth = two_of_three_truth();
    // U = 0.0233; observed half-width under 1 % of U. Allow 3 %: needing 1 of 3
    // (U = 7.5e-4) or 3 of 3 (U = 0.25) is off by orders of magnitude, and a
    // 10 % error in a replica's mean moves U by ~20 %.
    assert_covers("active_active_2of3", truth, s.availability.ci95, 0.03 * (1.0 - truth));
}

/// Case 6. k-of-n with k = 1: A = 1 - (1 - a)^3, a = 100/120, U = 1/216.
#[test]
fn active_active_one_of_three() {
    let toml = r#"
        horizon = "10y"
        [[service]]
        name = "api"
        topology = "active-active"
        replicas = 3
        min_healthy = 1
        failure = { mean = "100h" }
        repair = { mean = "20h" }
    "#;
    let s = run("active_active_1of3", toml, 500, 7);
    let truth = at_least(1, 3, renewal(100.0, 20.0));
    // U = 4.6e-3, about 60 all-down spells of ~6.7 h per 10-year trial, so a
    // trial's downtime varies by ~20 % and 500 trials give ~2 % of U.
    // Allow 4 %: U is cubic in 1 - a, so a 5 % error in a mean moves it by
    // ~15 %.
    assert_covers("active_active_1of3", truth, s.availability.ci95, 0.04 * (1.0 - truth));
}

// ------------------------------------------------ 7-9: active-passive

/// Case 7. Hot standbys, no delay, certain switch-over: the group serves
/// while any replica is up (independent replicas): A = 1 - (1 - a)^3,
/// a = 80/100, U = 0.008.
#[test]
fn active_passive_hot_instant() {
    let toml = r#"
        horizon = "10y"
        [[service]]
        name = "db"
        topology = "active-passive"
        replicas = 3
        standby = "hot"
        failover = { detect = "0s", switch = "0s", success = 1.0 }
        failure = { mean = "80h" }
        repair = { mean = "20h" }
    "#;
    let s = run("active_passive_hot_instant", toml, 500, 8);
    let truth = 1.0 - (1.0 - renewal(80.0, 20.0)).powi(3);
    // As for case 6 (all-down spells of ~6.7 h): ~1.5 % of U observed,
    // allow 4 %. A group that could only use its first standby would have
    // U ≈ (1-a)^2 = 0.04.
    assert_covers(
        "active_passive_hot_instant",
        truth,
        s.availability.ci95,
        0.04 * (1.0 - truth),
    );
}

const COLD: &str = r#"
    horizon = "10y"
    [[service]]
    name = "db"
    topology = "active-passive"
    replicas = 2
    standby = "cold"
    failover = { detect = "0s", switch = "0s", success = 1.0 }
    failure = { mean = "100h" }
    repair = { mean = "10h" }
"#;

/// Case 8, by the CTMC's birth-death closed form: states 0, 1, 2 failed;
/// 0→1 at λ (only the active ages), 1→2 at λ, 1→0 at μ, 2→1 at 2μ (each
/// failed replica has its own repair). With ρ = λ/μ,
/// π2 = (ρ²/2) / (1 + ρ + ρ²/2).
fn cold_truth() -> f64 {
    let rho = MTTR / MTTF;
    let closed = 1.0 - (rho * rho / 2.0) / (1.0 + rho + rho * rho / 2.0);
    let (l, m) = (1.0 / MTTF, 1.0 / MTTR);
    let pi = stationary(&[vec![0.0, l, 0.0], vec![m, 0.0, l], vec![0.0, 2.0 * m, 0.0]]);
    assert!(
        (1.0 - pi[2] - closed).abs() < 1e-12,
        "solver {pi:?} vs closed form {closed}"
    );
    closed
}

/// Case 8. Cold standby (Trivedi, cold-standby Markov model): A = 1 - π2
/// = 1 - 0.005/1.105 (U = 4.52e-3).
#[test]
fn active_passive_cold() {
    let s = run("active_passive_cold", COLD, 800, 9);
    let truth = cold_truth();
    // ~80 all-down spells of ~5 h per trial: per-trial spread ~16 %, 800
    // trials give ~1 % of U; allow 3 %. A standby that aged while idle would
    // give the hot answer U = (1/11)^2 = 8.26e-3, +83 %.
    assert_covers("active_passive_cold", truth, s.availability.ci95, 0.03 * (1.0 - truth));
    let hot = 1.0 - (1.0 - renewal(MTTF, MTTR)).powi(2);
    assert_excludes("active_passive_cold vs hot", hot, s.availability.ci95);
}

/// Case 9's CTMC (imperfect coverage, Trivedi ch. 8). States:
/// 0 both up, serving; 1 one failed, the other serving; 2 one failed, the
/// other healthy but the group down after a failed switch-over; 3 both
/// failed. Rates:
/// - 0→1 at λ (the standby fails) + cλ (the active fails, switch works);
/// - 0→2 at (1-c)λ (the active fails, switch fails);
/// - 1→0 at μ (repair; the repaired replica becomes a hot standby);
/// - 1→3 at λ (the serving replica fails: no healthy standby);
/// - 2→0 at μ (the repaired replica is put into service at once, the idle
///   healthy one is its standby);
/// - 2→3 at λ (the idle hot standby keeps failing);
/// - 3→1 at 2μ (the first repaired replica is put into service).
///
/// A = π0 + π1.
fn coverage_truth(c: f64) -> f64 {
    let (l, m) = (1.0 / MTTF, 1.0 / MTTR);
    let q = vec![
        vec![0.0, l + c * l, (1.0 - c) * l, 0.0],
        vec![m, 0.0, 0.0, l],
        vec![m, 0.0, 0.0, l],
        vec![0.0, 2.0 * m, 0.0, 0.0],
    ];
    let pi = stationary(&q);
    assert!((pi.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    pi[0] + pi[1]
}

/// Case 9. Hot standby, no delay, switch-over success 0.8.
#[test]
fn active_passive_imperfect_switch() {
    let toml = r#"
        horizon = "10y"
        [[service]]
        name = "db"
        topology = "active-passive"
        replicas = 2
        standby = "hot"
        failover = { detect = "0s", switch = "0s", success = 0.8 }
        failure = { mean = "100h" }
        repair = { mean = "10h" }
    "#;
    let s = run("active_passive_imperfect_switch", toml, 500, 10);
    let truth = coverage_truth(0.8);
    // Sanity of the chain: with c = 1 it is the hot-standby answer.
    let hot = 1.0 - (1.0 - renewal(MTTF, MTTR)).powi(2);
    assert!((coverage_truth(1.0) - hot).abs() < 1e-12);
    // U = 0.0233 (by coincidence exactly 31/1331, case 5's figure: π0 =
    // 1/1.21, π2 + π3 = (1/55 + 1/100)/1.21): a failed switch, about 1.2 a
    // month, costs a ~9 h repair. Observed under 1 % of U; allow 3 %. Ignoring the failed switches (the hot
    // answer, U = 8.3e-3) or leaving the group down also after a failed
    // switch until *both* are repaired would be far outside.
    assert_covers(
        "active_passive_imperfect_switch",
        truth,
        s.availability.ci95,
        0.03 * (1.0 - truth),
    );
    assert_excludes("active_passive_imperfect_switch vs c = 1", hot, s.availability.ci95);
}

// ------------------------------------------------ 10: series and fallback

/// Case 10. Series (independent components): A = a_api · (1 - (1 - a_db)^2);
/// with `fallback = true` the call does not count: A = a_api.
#[test]
fn series_and_fallback() {
    let scenario = |fallback: bool| {
        format!(
            r#"
            horizon = "5y"
            [[service]]
            name = "api"
            topology = "single"
            failure = {{ mean = "200h" }}
            repair = {{ mean = "2h" }}
            [[service.call]]
            to = "db"
            fallback = {fallback}
            [[service]]
            name = "db"
            topology = "active-active"
            replicas = 2
            min_healthy = 1
            failure = {{ mean = "100h" }}
            repair = {{ mean = "10h" }}
            "#
        )
    };
    let a_api = renewal(200.0, 2.0);
    let a_db = 1.0 - (1.0 - renewal(MTTF, MTTR)).powi(2);

    let s = run("series", &scenario(false), 400, 11);
    let truth = a_api * a_db;
    // U = 0.018 (api 0.0099 + db 0.0083): observed ~1 % of U, allow 4 %;
    // leaving either factor out moves U by 45 % or more.
    assert_covers("series", truth, s.availability.ci95, 0.04 * (1.0 - truth));
    assert_covers(
        "series (db)",
        a_db,
        s.services["db"].availability.ci95,
        0.06 * (1.0 - a_db),
    );
    assert_excludes("series vs api alone", a_api, s.availability.ci95);

    let s = run("fallback", &scenario(true), 400, 12);
    // U = 0.0099 (1 %): observed ~1 % of U, allow 3 %; counting db would
    // nearly double U.
    assert_covers("fallback", a_api, s.availability.ci95, 0.03 * (1.0 - a_api));
    assert_covers(
        "fallback (db)",
        a_db,
        s.services["db"].availability.ci95,
        0.06 * (1.0 - a_db),
    );
    assert_excludes("fallback vs series", a_api * a_db, s.availability.ci95);
}

// ------------------------------------------------ 11-13: regions

const REGION_SERIES: &str = r#"
    horizon = "5y"
    [[region]]
    name = "eu"
    failure = { mean = "190h" }
    repair = { mean = "10h" }
    [[service]]
    name = "api"
    topology = "single"
    regions = ["eu"]
    failure = { mean = "200h" }
    repair = { mean = "2h" }
    [[service.call]]
    to = "db"
    [[service]]
    name = "db"
    topology = "single"
    regions = ["eu"]
    failure = { mean = "400h" }
    repair = { mean = "4h" }
"#;

/// Case 11: the region is a common cause; given its state everything is
/// independent, so A = A_region · a_api · a_db (conditioning on the common
/// cause, Trivedi's common-mode failures).
fn region_series_truth() -> (f64, f64, f64) {
    let a_region = renewal(190.0, 10.0);
    let (a_api, a_db) = (renewal(200.0, 2.0), renewal(400.0, 4.0));
    (a_region, a_api, a_db)
}

/// Case 11. A region holding two services in series.
#[test]
fn region_common_cause() {
    let s = run("region_common_cause", REGION_SERIES, 400, 13);
    let (a_region, a_api, a_db) = region_series_truth();
    let truth = a_region * a_api * a_db;
    // U = 0.069, dominated by ~220 region outages of 10 h per 5-year trial:
    // per-trial spread ~6 %, 400 trials give ~0.6 % of U. Allow 4 %; counting
    // the region once per service (U = 0.115) is 60 % off.
    assert_covers("region_common_cause", truth, s.availability.ci95, 0.04 * (1.0 - truth));
    let twice = (a_region * a_api) * (a_region * a_db);
    assert_excludes(
        "region_common_cause vs region counted twice",
        twice,
        s.availability.ci95,
    );
    // db on its own: region and its replica.
    let db = a_region * a_db;
    assert_covers(
        "region_common_cause (db)",
        db,
        s.services["db"].availability.ci95,
        0.05 * (1.0 - db),
    );
    let region = &s.regions["eu"].availability;
    assert_covers(
        "region_common_cause (region)",
        a_region,
        region.ci95,
        0.05 * (1.0 - a_region),
    );
}

fn two_regions(mode: &str, topology: &str) -> String {
    format!(
        r#"
        horizon = "5y"
        [global]
        mode = "{mode}"
        failover = "0s"
        [[region]]
        name = "eu"
        failure = {{ mean = "200h" }}
        repair = {{ dist = "gamma", shape = 2.0, mean = "20h" }}
        [[region]]
        name = "us"
        failure = {{ mean = "200h" }}
        repair = {{ dist = "gamma", shape = 2.0, mean = "20h" }}
        [[service]]
        name = "api"
        regions = ["eu", "us"]
        replicas = 2
        failure = {{ mean = "100h" }}
        repair = {{ mean = "10h" }}
        {topology}
        "#
    )
}

fn multi_region_aa() -> String {
    two_regions("active-active", "topology = \"active-active\"\nmin_healthy = 1")
}

/// Cases 12-13: with zero global failover the service serves while any
/// region serves; regions and replicas are independent, so
/// A = 1 - Π_r (1 - A_r · P(group up)), P(group up) = 1 - (1 - a)^2.
fn multi_region_truth() -> f64 {
    let a_region = renewal(200.0, 20.0);
    let group = 1.0 - (1.0 - renewal(MTTF, MTTR)).powi(2);
    1.0 - (1.0 - a_region * group).powi(2)
}

/// Case 12. Two regions, active-active, zero failover.
#[test]
fn multi_region_active_active() {
    let s = run("multi_region_active_active", &multi_region_aa(), 600, 14);
    let truth = multi_region_truth();
    // U = 9.7e-3, from ~40 both-regions-out spells of ~10 h per 5-year
    // trial: per-trial spread ~20 %, 600 trials give ~1.6 % of U. Allow
    // 5 %; a region whose share stayed lost (no instant failover) would give
    // U ≈ 0.098, one whose replicas were counted without the region
    // U ≈ 7e-5.
    assert_covers(
        "multi_region_active_active",
        truth,
        s.availability.ci95,
        0.05 * (1.0 - truth),
    );
}

/// Case 13. Two regions, active-passive, zero failover; inside each region
/// an active-passive pair with instant, certain switch-over, whose
/// P(group up) is again 1 - (1 - a)^2.
#[test]
fn multi_region_active_passive() {
    let toml = two_regions(
        "active-passive",
        "topology = \"active-passive\"\nstandby = \"hot\"\nfailover = { detect = \"0s\", switch = \"0s\" }",
    );
    let s = run("multi_region_active_passive", &toml, 600, 15);
    let truth = multi_region_truth();
    // As case 12. Staying on the first region (no reroute) would give
    // U ≈ 0.098.
    assert_covers(
        "multi_region_active_passive",
        truth,
        s.availability.ci95,
        0.05 * (1.0 - truth),
    );
}

// ------------------------------------------------ 14: traffic share, exact

/// Case 14. The contract's traffic-share rule, deterministic: eu fails at
/// 10 h for 1 h (fixed), us never fails, global active-active with a 5 m
/// failover, 15 h horizon. At 10 h eu stops serving: half the traffic is
/// lost until its share leaves 5 minutes later; at 11 h eu serves again
/// and is routed at once; its next outage (21 h) is past the horizon.
/// Downtime = 300 s · 1/2 = 150 s exactly.
#[test]
fn traffic_share_exact() {
    let toml = r#"
        horizon = "15h"
        [global]
        mode = "active-active"
        failover = "5m"
        [[region]]
        name = "eu"
        failure = { dist = "fixed", mean = "10h" }
        repair = { dist = "fixed", mean = "1h" }
        [[region]]
        name = "us"
        [[service]]
        name = "api"
        topology = "single"
        regions = ["eu", "us"]
    "#;
    let sc = nines::scenario::parse("traffic_share.toml", "traffic_share", toml, &[]).unwrap();
    let opts = RunOptions {
        trials: Some(3),
        seed: Some(16),
        ..Default::default()
    };
    let mut per_trial = Vec::new();
    let s = nines::simulate(&sc, &opts, |_, r| {
        per_trial.push(r.clone());
        Ok(())
    })
    .unwrap();
    let horizon = 15.0 * 3600.0;
    let truth = 1.0 - 150.0 / horizon;
    let a = &s.availability;
    println!(
        "traffic_share_exact: truth {truth:.12}, mean {:.12}, ci95 {:?}, downtime/year {}, per trial {:?}",
        a.mean,
        a.ci95,
        a.downtime_per_year_s.mean,
        per_trial
            .iter()
            .map(|r| (r.downtime, r.incidents, r.longest_outage))
            .collect::<Vec<_>>()
    );
    assert!((a.mean - truth).abs() < 1e-9, "mean {} vs {truth}", a.mean);
    assert!(
        (a.ci95[0] - truth).abs() < 1e-9 && (a.ci95[1] - truth).abs() < 1e-9,
        "ci95 {:?}",
        a.ci95
    );
    // 150 s in 15 h is 150 · 8760 / 15 = 87 600 s a year.
    let per_year = 150.0 * (365.0 * 24.0) / 15.0;
    assert!(
        (a.downtime_per_year_s.mean - per_year).abs() < 1e-6,
        "{}",
        a.downtime_per_year_s.mean
    );
    assert_eq!(per_trial.len(), 3);
    for r in &per_trial {
        assert!((r.downtime - 150.0).abs() < 1e-9, "downtime {}", r.downtime);
        assert_eq!(r.incidents, 1);
        assert!((r.longest_outage - 300.0).abs() < 1e-9, "longest {}", r.longest_outage);
    }
    assert_eq!(a.trials_with_downtime, 3);
    // The service lost half its traffic, the region was down one hour in 15.
    assert!((s.services["api"].availability.mean - truth).abs() < 1e-9);
    assert!((s.regions["eu"].availability.mean - 14.0 / 15.0).abs() < 1e-9);
    assert!((s.regions["us"].availability.mean - 1.0).abs() < 1e-12);
}

// ------------------------------------------------ 15: failover delay

/// Case 15. Active-passive, 2 hot replicas, exponential 100 h / 10 h,
/// switch-over delay d = 30 s + 2 m = 150 s, always successful.
///
/// First-order argument: replicas are hot and the switch always works, so
/// each replica still alternates up/down independently of roles; the group
/// is down (i) while both replicas are down, fraction (1 - a)^2 exactly,
/// plus (ii) inside each switch-over window while a replica is up. Windows
/// open at the active's failures, λ · P(serving) ≈ λ per hour; only those
/// where the standby is up add new downtime (otherwise the window is part
/// of (i)), rate λ · P(both up) = λ a², and each adds d (unless the standby
/// fails within the window: relative O(λd) = 4e-4). So
///
///   U ≈ (1 - a)^2 + λ a² d = 8.264e-3 + 3.44e-4 = 8.609e-3,
///
/// with neglected terms O(λ a² d · λd) + O(λ a(1-a) μ d²) < 3e-7
/// (< 0.01 % of U). The naive "failures of the active × delay", λ d, would
/// add 4.17e-4 instead: it overcounts the failures whose standby is already
/// down (0.8 % of U, about one interval half-width).
#[test]
fn active_passive_failover_delay() {
    let toml = r#"
        horizon = "10y"
        [[service]]
        name = "db"
        topology = "active-passive"
        replicas = 2
        standby = "hot"
        failover = { detect = "30s", switch = "2m", success = 1.0 }
        failure = { mean = "100h" }
        repair = { mean = "10h" }
    "#;
    let s = run("active_passive_failover_delay", toml, 1000, 17);
    let a = renewal(MTTF, MTTR);
    let d = 150.0 / 3600.0;
    let parallel = (1.0 - a).powi(2);
    let first_order = parallel + a * a * d / MTTF;
    let truth = 1.0 - first_order;
    // ~145 both-down spells of ~5 h per 10-year trial: per-trial spread
    // ~12 %, 1000 trials give ~0.9 % of U. The delay adds 4 % of U, so the
    // interval must be well below that to see it: allow 1.5 % of U. Looser
    // in the other sense: the interval is widened by 5 % of the delay term
    // (1.7e-5, 0.2 % of U), far more than the neglected terms, so only a
    // wrong model (not the approximation) can fail the test.
    let slack = 0.05 * (first_order - parallel);
    let ci = s.availability.ci95;
    assert_covers(
        "active_passive_failover_delay",
        truth,
        [ci[0] - slack, ci[1] + slack],
        0.015 * first_order + slack,
    );
    // The delay is visible: the zero-delay answer is outside the interval.
    assert_excludes("active_passive_failover_delay vs no delay", 1.0 - parallel, ci);
    // Each active failure costs d: incidents ≈ windows + all-down spells
    // starting outside a window; the mean time to recover is between d and
    // the mean all-down spell (5 h).
    let mttr = s.availability.mean_time_to_recover_s.unwrap();
    println!("active_passive_failover_delay: mean time to recover {mttr:.1} s");
    assert!(mttr > 150.0 && mttr < 5.0 * 3600.0);
}

// ------------------------------------------------ analytic figures

/// The closed form the library reports (`availability.analytic`) equals
/// ours where one exists, and is absent for a cold standby.
#[test]
fn analytic_matches_closed_forms() {
    let analytic = |name: &str, toml: &str| run(name, toml, 2, 1).availability.analytic;
    let single = r#"
        [[service]]
        name = "app"
        failure = { mean = "100h" }
        repair = { mean = "10h" }
    "#;
    let cases = [
        (
            "analytic single",
            analytic("analytic_single", single),
            renewal(MTTF, MTTR),
        ),
        (
            "analytic 2-of-3",
            analytic("analytic_2of3", TWO_OF_THREE),
            two_of_three_truth(),
        ),
        ("analytic region", analytic("analytic_region", REGION_SERIES), {
            let (r, a, b) = region_series_truth();
            r * a * b
        }),
        (
            "analytic multi-region",
            analytic("analytic_multi_region", &multi_region_aa()),
            multi_region_truth(),
        ),
    ];
    for (name, got, want) in cases {
        println!("{name}: library {got:?}, closed form {want:.12}");
        let got = got.unwrap_or_else(|| panic!("{name}: no analytic value"));
        assert!((got - want).abs() < 1e-9, "{name}: library {got} vs closed form {want}");
    }
    let cold = analytic("analytic_cold", COLD);
    assert_eq!(
        cold,
        None,
        "a cold standby has no closed form in the library (got {cold:?}, CTMC says {})",
        cold_truth()
    );
}
