//! Issue 17: regenerative simulation with balanced failure biasing for
//! all-exponential models, against closed forms from 4 to 12 nines, its
//! determinism on any thread count, `auto` keeping to crude trials and
//! splitting, and its refusals. The coverage study over hundreds of seeds
//! is `coverage_study` (ignored; run it with
//! `cargo test --release --test main rare_regenerative::coverage_study -- --ignored --nocapture`).

use nines::scenario::Estimator;

use crate::util::{Dir, check_rare, run_estimator};

/// Runs `text` with `estimator` on `threads` threads.
fn run(text: &str, estimator: Estimator, seed: u64, threads: usize) -> nines::Summary {
    run_estimator(text, estimator, seed, threads, None)
}

/// [`run`] after `trials` crude trials (the scenario's count by default).
fn run_after(text: &str, estimator: Estimator, seed: u64, threads: usize, trials: Option<u64>) -> nines::Summary {
    run_estimator(text, estimator, seed, threads, trials)
}

/// Regenerative simulation's estimate against the closed form
/// ([`check_rare`]).
fn check(name: &str, text: &str, seed: u64) -> nines::Summary {
    check_rare(name, text, seed, Estimator::Regenerative)
}

/// `n` exponential replicas of which `k` must be up.
fn k_of_n(n: u32, k: u32) -> String {
    format!(
        r#"
horizon = "10y"
trials = 100
[[service]]
name = "api"
topology = "active-active"
replicas = {n}
min_healthy = {k}
failure = {{ mean = "500h" }}
repair = {{ mean = "5h" }}
"#
    )
}

#[test]
fn k_of_n_at_four_nines() {
    let s = check("1-of-2 exponential", &k_of_n(2, 1), 1);
    assert!((3.5..4.5).contains(&s.availability.nines));
}

#[test]
fn k_of_n_at_twelve_nines() {
    let s = check("1-of-6 exponential", &k_of_n(6, 1), 2);
    assert!(s.availability.nines > 11.5, "{}", s.availability.nines);
}

/// Two hot active-passive pairs in series (instant, certain switch-overs).
const PAIRS: &str = r#"
horizon = "10y"
trials = 100
[[service]]
name = "api"
topology = "active-passive"
replicas = 2
failure = { mean = "1000h" }
repair = { mean = "3h" }
[[service.call]]
to = "db"
[[service]]
name = "db"
topology = "active-passive"
replicas = 2
failure = { mean = "2000h" }
repair = { mean = "4h" }
"#;

#[test]
fn series_of_active_passive_pairs() {
    let s = check("api -> db pairs", PAIRS, 3);
    assert!((4.5..6.0).contains(&s.availability.nines), "{}", s.availability.nines);
}

/// The issue's all-exponential speed case: three regions of 2-of-3 behind
/// a global balancer, about 10.6 nines.
const TEN: &str = include_str!("../benches/rare/ten-nines-exp.toml");

#[test]
fn three_regions_of_two_of_three_at_ten_nines() {
    let s = check("3 regions x 2-of-3 exponential", TEN, 11);
    assert!(s.availability.nines > 10.0, "{}", s.availability.nines);
}

#[test]
fn identical_on_one_and_two_threads() {
    let one = serde_json::to_string(&run(TEN, Estimator::Regenerative, 7, 1)).unwrap();
    let two = serde_json::to_string(&run(TEN, Estimator::Regenerative, 7, 2)).unwrap();
    assert_eq!(one, two);
    let other = serde_json::to_string(&run(TEN, Estimator::Regenerative, 8, 2)).unwrap();
    assert_ne!(one, other, "another seed, another estimate");
}

#[test]
fn auto_keeps_to_crude_and_splitting() {
    // The contract names crude trials and splitting as auto's choices: an
    // all-exponential model gets splitting unless regenerative is asked.
    let s = run(&k_of_n(4, 1), Estimator::Auto, 1, 2);
    assert_eq!(s.estimator, "splitting");
    assert!(s.regenerative.is_none());
    let s = run(&k_of_n(4, 1), Estimator::Regenerative, 1, 2);
    assert_eq!(s.estimator, "regenerative");
    assert_eq!(
        s.regenerative.as_ref().unwrap().reason,
        "asked for (--estimator regenerative)"
    );
    assert!(s.splitting.is_none());
}

#[test]
fn cli_table_says_so_and_files_are_identical_on_one_and_two_threads() {
    let dir = Dir::new();
    dir.write("ten.toml", TEN);
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = format!("out{threads}");
        let table = dir
            .nines(&[
                "run",
                "ten.toml",
                "--estimator",
                "regenerative",
                "--threads",
                threads,
                "--out",
                &out,
                "--quiet",
            ])
            .ok();
        assert!(table.contains("estimator         regenerative"), "{table}");
        outs.push(dir.read(&format!("{out}/summary.json")));
    }
    assert_eq!(outs[0], outs[1]);
    let json: serde_json::Value = serde_json::from_str(&outs[0]).unwrap();
    assert_eq!(json["estimator"], "regenerative");
    assert!(json["availability"]["relative_error"].as_f64().unwrap() <= 0.1);
    assert!(json["regenerative"]["cycles"].as_u64().unwrap() > 0);
}

#[test]
fn refuses_models_that_are_not_markov_chains() {
    let dir = Dir::new();
    let weibull = k_of_n(4, 1).replace("failure = { mean", "failure = { dist = \"weibull\", shape = 1.5, mean");
    dir.write("w.toml", &weibull);
    let err = dir
        .nines(&["run", "w.toml", "--no-write", "--estimator", "regenerative"])
        .bad_input();
    assert!(err.contains("regenerative") && err.contains("not exponential"), "{err}");
    let delayed = PAIRS.replace(
        "repair = { mean = \"3h\" }",
        "repair = { mean = \"3h\" }\nfailover = { detect = \"10s\", switch = \"20s\" }",
    );
    dir.write("d.toml", &delayed);
    let err = dir
        .nines(&["run", "d.toml", "--no-write", "--estimator", "regenerative"])
        .bad_input();
    assert!(err.contains("delays"), "{err}");
    dir.write("f.toml", &format!("estimator = \"regenerative\"\n{}", k_of_n(4, 1)));
    let err = dir.nines(&["run", "f.toml", "--shard", "0/2"]).bad_input();
    assert!(err.contains("shard"), "{err}");
}

/// The 95 % interval must cover the closed form at least 93 % of the time
/// on two cases (ignored: minutes). `NINES_COVERAGE_SEEDS`,
/// `NINES_COVERAGE_FIRST` and `NINES_COVERAGE_ONLY` choose the number of
/// seeds, the first seed and a case.
#[test]
#[ignore = "coverage study: minutes; run with --ignored --nocapture"]
fn coverage_study() {
    let var = |name: &str, default: u64| std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default);
    let seeds = var("NINES_COVERAGE_SEEDS", 400);
    let first = var("NINES_COVERAGE_FIRST", 1000);
    let only = std::env::var("NINES_COVERAGE_ONLY").unwrap_or_default();
    let mut shares = Vec::new();
    for (name, text) in [
        ("3 regions x 2-of-3 exponential", TEN.to_string()),
        ("api -> db pairs", PAIRS.to_string()),
    ] {
        if !name.contains(&only) {
            continue;
        }
        let (mut covered, mut optimistic, mut width) = (0u64, 0u64, 0.0);
        for (i, seed) in (first..first + seeds).enumerate() {
            // Two crude trials: the study is about the regenerative estimate.
            let s = run_after(&text, Estimator::Regenerative, seed, 2, Some(2));
            let a = &s.availability;
            let truth = 1.0 - a.analytic.unwrap();
            let ci = [1.0 - a.ci95[1], 1.0 - a.ci95[0]];
            if ci[0] <= truth && truth <= ci[1] {
                covered += 1;
            } else if ci[1] < truth {
                optimistic += 1;
            }
            width += a.relative_error.unwrap_or(f64::INFINITY);
            if (i + 1) % 50 == 0 {
                println!("{name}: {covered} of {} so far", i + 1);
            }
        }
        let share = covered as f64 / seeds as f64;
        println!(
            "{name}: covered {covered} of {seeds} = {:.1} % (misses: {optimistic} optimistic, {} pessimistic), mean \
             relative error {:.3}",
            share * 100.0,
            seeds - covered - optimistic,
            width / seeds as f64
        );
        shares.push((name, share));
    }
    for (name, share) in shares {
        assert!(share >= 0.93, "{name}: coverage {share}");
    }
}
