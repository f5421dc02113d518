//! Issue 17: the splitting estimator against closed forms from 4 to 12
//! nines, with non-exponential failures and repairs (the steady state
//! depends only on the means), its determinism on any thread count, the
//! `auto` choice, and its refusals. The coverage study over hundreds of
//! seeds is `coverage_study` (ignored: minutes; run it with
//! `cargo test --release --test main rare::coverage_study -- --ignored --nocapture`).

use nines::scenario::Estimator;

use crate::util::{Dir, check_rare, run_estimator};

/// Runs `text` with `estimator` on `threads` threads.
fn run(text: &str, estimator: Estimator, seed: u64, threads: usize) -> nines::Summary {
    run_estimator(text, estimator, seed, threads, None)
}

/// Splitting's estimate against the closed form ([`check_rare`]).
fn check(name: &str, text: &str, seed: u64) -> nines::Summary {
    check_rare(name, text, seed, Estimator::Splitting)
}

/// k-of-n with Weibull failures and lognormal repairs: `n` replicas, `k`
/// needed, each down about 1 % of the time.
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
failure = {{ dist = "weibull", shape = 1.5, mean = "500h" }}
repair = {{ dist = "lognormal", cv = 1.5, mean = "5h" }}
"#
    )
}

#[test]
fn k_of_n_at_four_nines_non_exponential() {
    let s = check("1-of-2 weibull/lognormal", &k_of_n(2, 1), 1);
    assert!((3.5..4.5).contains(&s.availability.nines));
}

#[test]
fn k_of_n_at_nine_nines_non_exponential() {
    let s = check("2-of-6 weibull/lognormal", &k_of_n(6, 2), 2);
    assert!((8.5..10.0).contains(&s.availability.nines), "{}", s.availability.nines);
}

#[test]
fn k_of_n_at_twelve_nines_non_exponential() {
    let s = check("1-of-6 weibull/lognormal", &k_of_n(6, 1), 13);
    assert!(s.availability.nines > 11.5, "{}", s.availability.nines);
}

/// A series of two active-passive pairs with hot standbys, instant and
/// certain switch-overs: the entry is down while either pair is.
const PAIRS: &str = r#"
horizon = "10y"
trials = 100
[[service]]
name = "api"
topology = "active-passive"
replicas = 2
failure = { dist = "gamma", shape = 2.0, mean = "1000h" }
repair = { dist = "uniform", min = "1h", max = "5h" }
[[service.call]]
to = "db"
[[service]]
name = "db"
topology = "active-passive"
replicas = 2
failure = { dist = "weibull", shape = 0.8, mean = "2000h" }
repair = { dist = "lognormal", cv = 0.5, mean = "4h" }
"#;

#[test]
fn series_of_active_passive_pairs() {
    let s = check("api -> db, hot pairs", PAIRS, 4);
    assert!((4.5..5.5).contains(&s.availability.nines), "{}", s.availability.nines);
}

/// Three regions of 2-of-3, global active-active without delay.
const REGIONS: &str = include_str!("../scenarios/nine-nines.toml");

#[test]
fn three_regions_of_two_of_three_at_nine_nines() {
    let s = check("3 regions x 2-of-3", REGIONS, 5);
    assert!(s.availability.nines > 9.0, "{}", s.availability.nines);
}

#[test]
fn identical_on_one_and_two_threads() {
    let text = k_of_n(4, 1);
    let one = serde_json::to_string(&run(&text, Estimator::Splitting, 7, 1)).unwrap();
    let two = serde_json::to_string(&run(&text, Estimator::Splitting, 7, 2)).unwrap();
    assert_eq!(one, two);
    let other = serde_json::to_string(&run(&text, Estimator::Splitting, 8, 2)).unwrap();
    assert_ne!(one, other, "another seed, another estimate");
}

#[test]
fn cli_files_are_identical_on_one_and_two_threads() {
    let dir = Dir::new();
    dir.write("nn.toml", REGIONS);
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = format!("out{threads}");
        let table = dir
            .nines(&["run", "nn.toml", "--threads", threads, "--out", &out, "--quiet"])
            .ok();
        assert!(table.contains("estimator         splitting"), "{table}");
        outs.push(dir.read(&format!("{out}/summary.json")));
    }
    assert_eq!(outs[0], outs[1]);
    let json: serde_json::Value = serde_json::from_str(&outs[0]).unwrap();
    assert_eq!(json["estimator"], "splitting");
    assert!(json["availability"]["relative_error"].as_f64().unwrap() <= 0.1);
}

#[test]
fn auto_keeps_crude_where_outages_are_common() {
    let s = run(&k_of_n(1, 1), Estimator::Auto, 1, 2);
    assert_eq!(s.estimator, "crude");
    assert!(s.splitting.is_none() && s.availability.relative_error.is_none());
    let s = run(&k_of_n(4, 1), Estimator::Auto, 1, 2);
    assert_eq!(s.estimator, "splitting");
    let reason = &s.splitting.as_ref().unwrap().reason;
    assert!(reason.starts_with("auto:"), "{reason}");
}

#[test]
fn the_file_key_chooses_and_the_flag_overrides() {
    let dir = Dir::new();
    dir.write("f.toml", &format!("estimator = \"crude\"\n{}", k_of_n(4, 1)));
    let crude = dir.nines(&["run", "f.toml", "--no-write", "--format", "json"]).ok();
    let json: serde_json::Value = serde_json::from_str(&crude).unwrap();
    assert_eq!(json["estimator"], "crude");
    let split = dir
        .nines(&[
            "run",
            "f.toml",
            "--no-write",
            "--format",
            "json",
            "--estimator",
            "splitting",
        ])
        .ok();
    let json: serde_json::Value = serde_json::from_str(&split).unwrap();
    assert_eq!(json["estimator"], "splitting");
    dir.write("bad.toml", &format!("estimator = \"fast\"\n{}", k_of_n(4, 1)));
    let err = dir.nines(&["run", "bad.toml", "--no-write"]).bad_input();
    assert!(err.contains("estimator"), "{err}");
}

#[test]
fn splitting_refuses_what_it_cannot_run_with_exit_2() {
    let dir = Dir::new();
    dir.write("req.toml", include_str!("../scenarios/request-active-active.toml"));
    let err = dir
        .nines(&["run", "req.toml", "--no-write", "--estimator", "splitting"])
        .bad_input();
    assert!(err.contains("workloads"), "{err}");
    dir.write("nn.toml", REGIONS);
    let err = dir
        .nines(&["run", "nn.toml", "--shard", "0/2", "--estimator", "splitting"])
        .bad_input();
    assert!(err.contains("--shard"), "{err}");
}

/// The coverage study: hundreds of seeds on two cases; the 95 % interval
/// must cover the closed form at least 93 % of the time.
/// `NINES_COVERAGE_SEEDS` (default 400) and `NINES_COVERAGE_FIRST`
/// (default 1000) choose the seeds, `NINES_COVERAGE_ONLY` a case by a part
/// of its name.
#[test]
#[ignore = "minutes: the coverage study"]
fn coverage_study() {
    let var = |name: &str, default: u64| std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default);
    let seeds = var("NINES_COVERAGE_SEEDS", 400);
    let first = var("NINES_COVERAGE_FIRST", 1000);
    let only = std::env::var("NINES_COVERAGE_ONLY").unwrap_or_default();
    let mut shares = Vec::new();
    for (name, text) in [
        ("2-of-6 weibull/lognormal", k_of_n(6, 2)),
        ("api -> db pairs", PAIRS.to_string()),
    ] {
        if !name.contains(&only) {
            continue;
        }
        let (mut covered, mut optimistic, mut width) = (0, 0, 0.0);
        // The symmetric Student t interval of the same runs, for comparison:
        // the mean unavailability ± its relative error.
        let (mut t_covered, mut t_optimistic) = (0, 0);
        for seed in first..first + seeds {
            let s = run(&text, Estimator::Splitting, seed, 2);
            let a = &s.availability;
            let truth = 1.0 - a.analytic.unwrap();
            let u = 1.0 - a.mean;
            let ci = [1.0 - a.ci95[1], 1.0 - a.ci95[0]];
            if ci[0] <= truth && truth <= ci[1] {
                covered += 1;
            } else if ci[1] < truth {
                // Less unavailability than the truth: optimistic.
                optimistic += 1;
            }
            width += (ci[1] - ci[0]) / (2.0 * u);
            let half = u * a.relative_error.unwrap();
            if (u - truth).abs() <= half {
                t_covered += 1;
            } else if u + half < truth {
                t_optimistic += 1;
            }
            // A running figure, so that a long study shows where it stands.
            let done = seed - first + 1;
            if done % 50 == 0 && done < seeds {
                println!("  {name}: {covered} of {done} covered after seed {seed}");
            }
        }
        let share = covered as f64 / seeds as f64;
        println!(
            "coverage {name} (seeds {first}..{}): {covered} of {seeds} = {:.1} %, misses {optimistic} optimistic, \
             {} pessimistic, mean half-width over the estimate {:.3}; Student t on the same runs: {t_covered} = {:.1} %, \
             misses {t_optimistic} optimistic, {} pessimistic",
            first + seeds - 1,
            100.0 * share,
            seeds - covered - optimistic,
            width / seeds as f64,
            100.0 * t_covered as f64 / seeds as f64,
            seeds - t_covered - t_optimistic,
        );
        shares.push((name, share));
    }
    for (name, share) in shares {
        assert!(share >= 0.93, "{name}: coverage {share}");
    }
}

/// No closed form: a 2-of-3 Weibull/lognormal API in front of a database
/// with a cold standby, a 1-minute switch-over that fails one time in 50,
/// Weibull failures and lognormal repairs; about 4.5 nines. `trials` crude
/// trials go first in either run.
fn delayed_cold_standby(trials: u32) -> String {
    format!(
        r#"
horizon = "10y"
trials = {trials}
[[service]]
name = "api"
topology = "active-active"
replicas = 3
min_healthy = 2
failure = {{ dist = "weibull", shape = 1.5, mean = "1000h" }}
repair = {{ dist = "lognormal", cv = 1.0, mean = "2h" }}
[[service.call]]
to = "db"
[[service]]
name = "db"
topology = "active-passive"
replicas = 2
standby = "cold"
failover = {{ detect = "20s", switch = "40s", success = 0.98 }}
failure = {{ dist = "weibull", shape = 1.2, mean = "5000h" }}
repair = {{ dist = "lognormal", cv = 1.5, mean = "8h" }}
"#
    )
}

/// Where no closed form exists but crude trials still see plenty of
/// outages (failover delays, a cold standby, an imperfect switch-over at
/// about 4.5 nines), a long crude run and splitting must agree: their 95 %
/// intervals on the unavailability overlap, and each is a real estimate
/// (downtime seen, a finite, reasonably narrow interval).
#[test]
fn splitting_agrees_with_long_crude_runs_without_closed_form() {
    let crude = run(&delayed_cold_standby(20000), Estimator::Crude, 21, 2);
    let split = run(&delayed_cold_standby(100), Estimator::Splitting, 22, 2);
    assert_eq!(crude.estimator, "crude");
    assert_eq!(split.estimator, "splitting");
    let mut intervals = Vec::new();
    for (name, s) in [("crude", &crude), ("splitting", &split)] {
        let a = &s.availability;
        assert!(a.analytic.is_none(), "{name}: this case has no closed form");
        let u = 1.0 - a.mean;
        let ci = [1.0 - a.ci95[1], 1.0 - a.ci95[0]];
        println!(
            "{name}: {:.3} nines, unavailability {u:.3e} in [{:.3e}, {:.3e}]",
            a.nines, ci[0], ci[1]
        );
        assert!((4.0..5.0).contains(&a.nines), "{name}: {} nines", a.nines);
        assert!(ci[0] > 0.0 && ci[0] < u && u < ci[1], "{name}: {ci:?} around {u}");
        assert!(ci[1] - ci[0] < 0.5 * u, "{name}: interval {ci:?} too wide for {u}");
        intervals.push(ci);
    }
    assert!(crude.availability.trials_with_downtime >= 5000);
    let (c, s) = (intervals[0], intervals[1]);
    assert!(
        c[0] <= s[1] && s[0] <= c[1],
        "crude {c:?} and splitting {s:?} do not overlap"
    );
}

/// Failure and repair times all fixed: every copy of a trajectory is the
/// trajectory, and the replications are equal. It ran without end (the
/// interval's gamma law on the rounding of equal values); now it ends at
/// once with the schedule's figure: both replicas fail together every
/// 1005 hours for 5 hours, 5/1005 of the time (within 1 %: the 10-year
/// window holds 87.2 cycles, not a whole number).
#[test]
fn splitting_on_fixed_times_ends_with_the_schedule() {
    let dir = Dir::new();
    dir.write(
        "fixed.toml",
        r#"
horizon = "10y"
trials = 3
[[service]]
name = "api"
topology = "active-active"
replicas = 2
min_healthy = 1
failure = { dist = "fixed", mean = "1000h" }
repair = { dist = "fixed", mean = "5h" }
"#,
    );
    let out = dir
        .nines_within(
            &[
                "run",
                "fixed.toml",
                "--no-write",
                "--format",
                "json",
                "--estimator",
                "splitting",
            ],
            std::time::Duration::from_secs(30),
        )
        .ok();
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["estimator"], "splitting");
    let u = 1.0 - json["availability"]["mean"].as_f64().unwrap();
    assert!((u / (5.0 / 1005.0) - 1.0).abs() < 1e-2, "{u}");
    let ci = &json["availability"]["ci95"];
    assert!(ci[1].as_f64().unwrap() - ci[0].as_f64().unwrap() < 1e-9, "{ci}");
}

/// Ctrl-C during splitting stops between two events, not after the
/// pilots or the replications under way: a 250-year window of the
/// nine-nines design makes every pilot and replication long, and the run
/// minutes long. The two crude trials take a fraction of a second, so the
/// signal lands in splitting (its pilots, under load); the run must end
/// within seconds of it, exit 1, and print the result marked partial.
#[test]
fn ctrl_c_stops_splitting_promptly_marked_partial() {
    use std::io::Read as _;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let dir = Dir::new();
    dir.write("long.toml", &REGIONS.replace("horizon = \"10y\"", "horizon = \"250y\""));
    let mut child = Command::new(env!("CARGO_BIN_EXE_nines"))
        .args([
            "run",
            "long.toml",
            "--trials",
            "2",
            "--estimator",
            "splitting",
            "--threads",
            "2",
            "--no-write",
            "--format",
            "json",
        ])
        .current_dir(dir.path_of(""))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nines");
    // Two crude trials of 250 years take a fraction of a second.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "splitting ended before the signal");
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("splitting did not stop within 30 s of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = signalled.elapsed();
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?} after Ctrl-C");
    assert!(err.contains("partial"), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["partial"], true);
}
