//! Scale-out and nothing lost: shards merged into the bytes of one run,
//! runs to a precision, Ctrl-C, the output folder guard and the recipes in
//! `recipes/` (Slurm run locally, Kubernetes manifests against the CLI).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Dir, SMALL};

/// Request level: a workload, retries, a breaker and crashes, so every
/// request figure (histograms, per-edge counts) goes through the merge.
const REQUESTS: &str = r#"name = "requests"
horizon = "20m"
trials = 5
seed = 9

[[workload]]
name = "users"
to = "api"
rate = 40
timeout = "1s"
retry = { max_attempts = 3, backoff = "exponential", base = "20ms", jitter = "full" }

[[service]]
name = "api"
topology = "active-active"
replicas = 2
concurrency = 8
service_time = { mean = "5ms" }
failure = { mean = "5m" }
repair = { mean = "30s" }

[[service.call]]
to = "db"
timeout = "100ms"
circuit_breaker = { failure_threshold = 3, success_threshold = 1, open_for = "2s" }
fallback = true

[[service]]
name = "db"
concurrency = 4
service_time = { mean = "3ms" }
error_rate = 0.05
failure = { mean = "4m" }
repair = { mean = "20s" }
"#;

/// Runs `file` whole and in `n` shards for each `n` (with `extra` flags on
/// every run), merges, and asserts identical `summary.json`, `trials.csv`
/// and `timeline.csv` (or none on both sides).
pub(crate) fn assert_shards_match(dir: &Dir, file: &str, trials: &str, counts: &[u64], extra: &[&str]) {
    let mut whole = vec!["run", file, "--trials", trials, "--out", "whole", "--quiet"];
    whole.extend(extra);
    dir.nines(&whole).ok();
    let summary = dir.read("whole/summary.json");
    let csv = dir.read("whole/trials.csv");
    let timeline = std::fs::read_to_string(dir.path_of("whole/timeline.csv")).ok();
    for &n in counts {
        let parts = format!("parts{n}");
        for i in 0..n {
            let shard = format!("{i}/{n}");
            let mut args = vec![
                "run",
                file,
                "--trials",
                trials,
                "--shard",
                &shard,
                "--out",
                &parts,
                "--threads",
                "2",
                "--quiet",
            ];
            args.extend(extra);
            dir.nines(&args).ok();
        }
        let merged = format!("merged{n}");
        let stdout = dir
            .nines(&["merge", &parts, "--out", &merged, "--format", "json", "--quiet"])
            .ok();
        assert_eq!(stdout, summary, "merge --format json prints summary.json ({n} shards)");
        assert_eq!(
            dir.read(&format!("{merged}/summary.json")),
            summary,
            "summary.json, {n} shards"
        );
        assert_eq!(dir.read(&format!("{merged}/trials.csv")), csv, "trials.csv, {n} shards");
        let merged_timeline = std::fs::read_to_string(dir.path_of(&format!("{merged}/timeline.csv"))).ok();
        assert!(
            merged_timeline == timeline,
            "timeline.csv, {n} shards: whole {} bytes, merged {} bytes",
            timeline.as_ref().map_or(0, String::len),
            merged_timeline.as_ref().map_or(0, String::len)
        );
    }
}

#[test]
fn shards_merge_into_the_bytes_of_one_run() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    // 150 trials are 3 chunks of 64: with 5 shards two hold none.
    assert_shards_match(&dir, "small.toml", "150", &[1, 2, 3, 5], &[]);
    assert!(!dir.path_of("whole/timeline.csv").exists(), "no requests, no timeline");
}

/// Rare, skewed downtime takes the gamma interval (`stats::Skewed`, with a
/// third moment and a minimum in every part): still the bytes of one run.
#[test]
fn skewed_availability_shards_merge_exactly() {
    let dir = Dir::new();
    dir.write("skewed.toml", crate::coverage::LOGNORMAL_CV2);
    assert_shards_match(&dir, "skewed.toml", "300", &[2, 3, 5], &[]);
    let s: serde_json::Value = serde_json::from_str(&dir.read("whole/summary.json")).unwrap();
    let a = &s["availability"];
    let (mean, lo, hi) = (
        a["mean"].as_f64().unwrap(),
        a["ci95"][0].as_f64().unwrap(),
        a["ci95"][1].as_f64().unwrap(),
    );
    assert!(mean - lo > 1.5 * (hi - mean), "the skewed interval is used: {a}");
}

#[test]
fn request_level_shards_merge_exactly_even_with_more_shards_than_trials() {
    let dir = Dir::new();
    dir.write("req.toml", REQUESTS);
    assert_shards_match(&dir, "req.toml", "5", &[1, 2, 3, 7], &[]);
    let s = dir.read("merged7/summary.json");
    assert!(s.contains("\"requests\"") && s.contains("\"api->db\""), "{s}");
    assert!(dir.read("merged7/timeline.csv").contains("edge.api->db.breaker_open"));
}

/// A shipped request-level scenario, its database failing within the
/// horizon so the timeline has a shape: `timeline.csv` merges exactly too.
#[test]
fn a_shipped_request_scenario_merges_into_the_same_timeline() {
    let dir = Dir::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("scenarios/retry-storm.toml")).unwrap();
    dir.write("retry-storm.toml", &text);
    let set = ["--set", "horizon=3m", "--set", "service.db.failure.mean=2m"];
    assert_shards_match(&dir, "retry-storm.toml", "4", &[1, 3, 5], &set);
    let timeline = dir.read("merged3/timeline.csv");
    assert_eq!(timeline.lines().count(), 61, "a header and 60 buckets");
}

#[test]
fn a_part_of_an_older_format_is_refused_by_name() {
    let dir = Dir::new();
    // A part as nines wrote it before parts carried timeline rows: its
    // metadata starts with format 1 (a postcard varint).
    let meta = [1u8, 5, b'0', b'.', b'1', b'.', b'0'];
    let mut part = b"trial,availability\n0,1\n".to_vec();
    part.extend(meta);
    part.extend((meta.len() as u64).to_le_bytes());
    part.extend(b"NINESPRT");
    std::fs::write(dir.path_of("shard-0-of-1.nines-part"), part).unwrap();
    let err = dir
        .nines(&["merge", "shard-0-of-1.nines-part", "--out", "m"])
        .bad_input();
    assert!(
        err.contains("shard-0-of-1.nines-part") && err.contains("part format 1") && err.contains("rerun every shard"),
        "{err}"
    );
    assert!(!dir.path_of("m/summary.json").exists());
}

/// Runs shard `shard` of `small.toml` into `out`, with `extra` flags.
fn small_shard(dir: &Dir, trials: &str, shard: &str, out: &str, extra: &[&str]) {
    let mut args = vec![
        "run",
        "small.toml",
        "--trials",
        trials,
        "--shard",
        shard,
        "--out",
        out,
        "-q",
    ];
    args.extend(extra);
    dir.nines(&args).ok();
}

/// Three shards of SMALL in `parts`, seed 1, and one of seed 2 in `other`.
fn three_parts(dir: &Dir) {
    dir.write("small.toml", SMALL);
    for i in 0..3 {
        small_shard(dir, "200", &format!("{i}/3"), "parts", &[]);
    }
    small_shard(dir, "200", "1/3", "other", &["--seed", "2"]);
}

#[test]
fn merge_refuses_parts_that_do_not_make_one_run() {
    let dir = Dir::new();
    three_parts(&dir);
    let p = |i: u64| format!("parts/shard-{i}-of-3.nines-part");
    let cases: [(Vec<String>, &str); 5] = [
        (vec![p(0), p(2)], "shard 1/3 missing"),
        (vec![p(0), p(1), p(1), p(2)], "shard 1/3 is given twice"),
        (
            vec![p(0), "other/shard-1-of-3.nines-part".into(), p(2)],
            "seed differs (1 vs 2)",
        ),
        (vec![p(0), p(1), p(2), "small.toml".into()], "not a nines part file"),
        (vec!["small.toml".into()], "not a nines part file"),
    ];
    for (parts, expected) in cases {
        let mut args = vec!["merge".to_string()];
        args.extend(parts);
        args.extend(["--out".into(), "m".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = dir.nines(&args).bad_input();
        assert!(err.contains(expected), "{args:?}: expected `{expected}` in\n{err}");
    }
    // A different trial count or shard count is another run too.
    small_shard(&dir, "201", "1/3", "t", &[]);
    let err = dir
        .nines(&["merge", &p(0), "t/shard-1-of-3.nines-part", &p(2), "--out", "m"])
        .bad_input();
    assert!(err.contains("trial count differs (200 vs 201)"), "{err}");
    assert!(!dir.path_of("m/summary.json").exists(), "nothing is written on refusal");
    dir.nines(&["merge", "parts", "--out", "m", "-q"]).ok();
}

#[test]
fn bad_shard_flags_are_refused() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    for (args, expected) in [
        (vec!["--shard", "3/3"], "expected I/N"),
        (vec!["--shard", "1/0"], "expected I/N"),
        (vec!["--shard", "0/2", "--precision", "0.1"], "--precision"),
        (vec!["--shard", "0/2", "--plot"], "--plot"),
        (vec!["--precision", "0"], "positive number"),
        (vec!["--max-trials", "10"], "--precision"),
    ] {
        let mut all = vec!["run", "small.toml", "--out", "o"];
        all.extend(args);
        let err = dir.nines(&all).bad_input();
        assert!(err.contains(expected), "{all:?}: expected `{expected}` in\n{err}");
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("summary.json is JSON")
}

#[test]
fn precision_stops_when_the_interval_on_nines_is_narrow_enough() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    let run = |threads: &str, out: &str| {
        dir.nines(&[
            "run",
            "small.toml",
            "--trials",
            "100",
            "--precision",
            "0.02",
            "--max-trials",
            "100000",
            "--threads",
            threads,
            "--out",
            out,
            "--format",
            "json",
            "-q",
        ])
        .ok()
    };
    let one = run("1", "p1");
    assert_eq!(
        one,
        run("3", "p3"),
        "the stopping point and figures depend on the thread count"
    );
    assert_eq!(dir.read("p1/trials.csv"), dir.read("p3/trials.csv"));
    let mut s = json(&one);
    let p = s["precision"].clone();
    assert_eq!(p["reached"], true, "{p}");
    assert!(p["achieved"].as_f64().unwrap() <= 0.02, "{p}");
    assert_eq!(p["batch"], 128, "100 trials round up to whole chunks of 64");
    let trials = s["trials"].as_u64().unwrap();
    assert!(
        trials.is_multiple_of(128) && trials > 128,
        "several batches ran: {trials}"
    );
    assert!(s.get("partial").is_none(), "a complete run has no `partial`");
    // Batches continue one fold: the figures are those of a plain run of as many trials.
    let plain = dir
        .nines(&[
            "run",
            "small.toml",
            "--trials",
            &trials.to_string(),
            "--out",
            "plain",
            "--format",
            "json",
            "-q",
        ])
        .ok();
    s.as_object_mut().unwrap().remove("precision");
    assert_eq!(s, json(&plain));
    // One batch fewer would not have been narrow enough.
    let fewer = dir
        .nines(&[
            "run",
            "small.toml",
            "--trials",
            &(trials - 128).to_string(),
            "--out",
            "fewer",
            "--format",
            "json",
            "-q",
        ])
        .ok();
    let a = &json(&fewer)["availability"]["nines_ci95"];
    assert!(a[1].as_f64().unwrap() - a[0].as_f64().unwrap() > 0.02, "{a}");
}

#[test]
fn precision_says_when_the_trial_cap_came_first() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    let out = dir
        .nines(&[
            "run",
            "small.toml",
            "--trials",
            "64",
            "--precision",
            "0.001",
            "--max-trials",
            "300",
            "--out",
            "o",
            "--format",
            "json",
            "-q",
        ])
        .ok();
    let s = json(&out);
    assert_eq!(s["trials"], 300, "the cap is exact even within a batch");
    assert_eq!(s["precision"]["reached"], false);
    assert!(s["precision"]["achieved"].as_f64().unwrap() > 0.001);
    assert_eq!(s["precision"]["max_trials"], 300);
    assert_eq!(dir.read("o/trials.csv").lines().count(), 301);
}

/// The size of `file` in `dir`; for `FOLDER/NAME.tmp`, of the temporary
/// file nines writes `FOLDER/NAME` through (`.NAME.*.nines-tmp`).
fn size(dir: &Dir, file: &str) -> Option<u64> {
    let Some(target) = file.strip_suffix(".tmp") else {
        return std::fs::metadata(dir.path_of(file)).ok().map(|m| m.len());
    };
    let (folder, name) = target.rsplit_once('/').unwrap_or((".", target));
    let prefix = format!(".{name}.");
    std::fs::read_dir(dir.path_of(folder))
        .ok()?
        .filter_map(Result::ok)
        .find(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(&prefix) && n.ends_with(".nines-tmp")
        })
        .and_then(|e| e.metadata().ok())
        .map(|m| m.len())
}

/// Spawns `nines ARGS` in `dir`, waits until `file` exists with at least
/// `len` bytes (the run is under way, its Ctrl-C handler set), and returns the child.
fn spawn_running(dir: &Dir, args: &[&str], file: &str, len: u64) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nines"))
        .args(args)
        .current_dir(dir.path_of(""))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nines");
    let deadline = Instant::now() + Duration::from_secs(60);
    while size(dir, file).is_none_or(|n| n < len) {
        assert!(Instant::now() < deadline, "{file} never grew");
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("nines ended before the test could interrupt it: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn sigint(child: &std::process::Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
}

/// Waits at most a minute for `child`, killing it if it hangs.
fn finish(mut child: std::process::Child) -> (i32, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            use std::io::Read as _;
            child.stderr.take().map(|mut e| e.read_to_string(&mut err));
            return (status.code().unwrap_or(-1), err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nines did not stop within a minute of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_writes_the_trials_done_marked_partial() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    let child = spawn_running(
        &dir,
        &[
            "run",
            "small.toml",
            "--trials",
            "1000000000",
            "--out",
            "o",
            "--threads",
            "2",
        ],
        "o/trials.csv.tmp",
        1,
    );
    sigint(&child);
    let (code, err) = finish(child);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("interrupted after") && err.contains("partial"), "{err}");
    let s = json(&dir.read("o/summary.json"));
    assert_eq!(s["partial"], true);
    let trials = s["trials"].as_u64().unwrap();
    assert!(trials > 0 && trials < 1_000_000_000, "{trials}");
    assert_eq!(trials % 64, 0, "it stopped on a chunk boundary");
    assert_eq!(dir.read("o/trials.csv").lines().count() as u64, trials + 1);
    assert_eq!(size(&dir, "o/trials.csv.tmp"), None, "no temporary file is left");
    // The trials done are exactly the first trials of a whole run.
    let rows: Vec<String> = dir.read("o/trials.csv").lines().take(65).map(String::from).collect();
    dir.nines(&["run", "small.toml", "--trials", "64", "--out", "o", "-q"])
        .ok();
    let whole: Vec<String> = dir.read("o/trials.csv").lines().map(String::from).collect();
    assert_eq!(rows, whole);
}

#[test]
fn a_second_ctrl_c_exits_at_once_without_half_written_files() {
    let dir = Dir::new();
    // A wave of these trials takes minutes: only the second Ctrl-C can end it.
    let long = SMALL
        .replace("horizon = \"1y\"", "horizon = \"250y\"")
        .replace("mean = \"100h\"", "mean = \"1h\"");
    dir.write("long.toml", &long);
    // The temporary CSV exists (empty) once the handler is set.
    let child = spawn_running(
        &dir,
        &[
            "run",
            "long.toml",
            "--trials",
            "1000000",
            "--out",
            "o",
            "--threads",
            "1",
        ],
        "o/trials.csv.tmp",
        0,
    );
    sigint(&child);
    std::thread::sleep(Duration::from_millis(300));
    let at = Instant::now();
    sigint(&child);
    let (code, err) = finish(child);
    assert_eq!(code, 1, "exit codes are 0, 1 and 2 only: {err}");
    assert!(err.contains("quit at once"), "{err}");
    assert!(
        at.elapsed() < Duration::from_secs(20),
        "the second Ctrl-C did not exit at once"
    );
    assert!(!dir.path_of("o/summary.json").exists());
    assert!(!dir.path_of("o/trials.csv").exists());
    assert_eq!(
        size(&dir, "o/trials.csv.tmp"),
        None,
        "the file under way is deleted, not left under its temporary name"
    );
}

#[test]
fn an_output_folder_is_not_mixed_between_scenarios() {
    let dir = Dir::new();
    dir.write("a.toml", SMALL);
    dir.write("b.toml", &SMALL.replace("replicas = 2", "replicas = 3"));
    dir.nines(&["run", "a.toml", "--out", "o", "-q"]).ok();
    dir.nines(&["run", "a.toml", "--out", "o", "-q", "--seed", "5", "--plot"])
        .ok();
    let err = dir.nines(&["run", "b.toml", "--out", "o", "-q"]).bad_input();
    assert!(
        err.contains("another scenario") && err.contains("a.toml") && err.contains("--force"),
        "{err}"
    );
    assert!(dir.read("o/trials.csv").lines().count() == 51);
    let plots = |d: &str| {
        std::fs::read_dir(dir.path_of(d))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png"))
            .count()
    };
    assert!(plots("o") > 0);
    dir.nines(&["run", "b.toml", "--out", "o", "-q", "--force"]).ok();
    assert_eq!(plots("o"), 0, "--force deletes the other scenario's plots");
    assert!(!dir.path_of("o/report.html").exists());
    assert!(dir.read("o/.nines-run").contains("b.toml"));
    // The merge of a.toml's shards may not land there either.
    dir.nines(&["run", "a.toml", "--shard", "0/1", "--out", "parts", "-q"])
        .ok();
    let err = dir.nines(&["merge", "parts", "--out", "o"]).bad_input();
    assert!(err.contains("another scenario"), "{err}");
}

#[test]
fn a_sweep_folder_is_not_mixed_between_scenarios() {
    let dir = Dir::new();
    dir.write("a.toml", SMALL);
    dir.write("b.toml", &SMALL.replace("replicas = 2", "replicas = 3"));
    let sweep = |file: &str, vary: &str, extra: &[&str]| {
        let mut args = vec!["sweep", file, "--vary", vary, "--trials", "20", "--out", "s", "-q"];
        args.extend(extra);
        dir.nines(&args)
    };
    sweep("a.toml", "service.api.replicas=1,2", &[]).ok();
    // The same scenario again, over other values: its files are replaced.
    sweep("a.toml", "service.db.repair.mean=1h,2h,3h", &[]).ok();
    let a_rows = dir.read("s/sweep.csv");
    assert_eq!(a_rows.lines().count(), 4);
    let err = sweep("b.toml", "service.api.replicas=1,2", &[]).bad_input();
    assert!(
        err.contains("another scenario") && err.contains("a.toml") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(dir.read("s/sweep.csv"), a_rows, "a refused sweep writes nothing");
    // A run of the same file is another command: its files would mix too.
    let err = dir.nines(&["run", "a.toml", "--out", "s", "-q"]).bad_input();
    assert!(
        err.contains("another command") && err.contains("`nines sweep`"),
        "{err}"
    );
    sweep("b.toml", "service.api.replicas=1,2", &["--force"]).ok();
    assert_eq!(dir.read("s/sweep.csv").lines().count(), 3);
    assert!(dir.read("s/.nines-run").contains("b.toml"));
    sweep("b.toml", "service.api.replicas=1,2", &[]).ok();
}

#[test]
fn a_compare_folder_is_not_mixed_between_scenarios() {
    let dir = Dir::new();
    dir.write("a.toml", SMALL);
    dir.write("b.toml", &SMALL.replace("replicas = 2", "replicas = 3"));
    let compare = |files: &[&str], extra: &[&str]| {
        let mut args = vec!["compare"];
        args.extend(files);
        args.extend(["--trials", "20", "--out", "c", "-q"]);
        args.extend(extra);
        dir.nines(&args)
    };
    compare(&["a.toml", "b.toml"], &[]).ok();
    compare(&["a.toml", "b.toml"], &["--seed", "3"]).ok();
    let json = dir.read("c/compare.json");
    // Another baseline is another comparison.
    let err = compare(&["b.toml", "a.toml"], &[]).bad_input();
    assert!(
        err.contains("another scenario") && err.contains("a.toml vs") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(dir.read("c/compare.json"), json, "a refused compare writes nothing");
    let err = dir.nines(&["run", "a.toml", "--out", "c", "-q"]).bad_input();
    assert!(
        err.contains("another scenario") && err.contains("`nines compare`"),
        "{err}"
    );
    compare(&["b.toml", "a.toml"], &["--force"]).ok();
    assert_ne!(dir.read("c/compare.json"), json);
    compare(&["b.toml", "a.toml"], &[]).ok();
    // --force hands a compare folder to a run, deleting the comparison.
    dir.nines(&["run", "a.toml", "--out", "c", "-q", "--force"]).ok();
    for f in ["compare.json", "compare.csv", "nines.png"] {
        assert!(!dir.path_of(&format!("c/{f}")).exists(), "{f} was left behind");
    }
}

/// Request level, so every chunk is one trial and a stop takes effect
/// within a trial; at `rate = 1` a trial is instant, at 4000 it takes
/// about half a second (40 of them many seconds).
const PACED: &str = r#"name = "paced"
horizon = "10m"
trials = 20
seed = 3

[[workload]]
name = "users"
to = "api"
rate = 1

[[service]]
name = "api"
concurrency = 64
service_time = { mean = "1ms" }
"#;

/// A sweep whose first point is instant and whose next two take many
/// seconds each, so Ctrl-C lands inside the second point.
fn slow_sweep(dir: &Dir) -> std::process::Child {
    dir.write("paced.toml", PACED);
    let args = [
        "sweep",
        "paced.toml",
        "--vary",
        "workload.users.rate=1,4000,8000",
        "--trials",
        "40",
        "--threads",
        "1",
        "--out",
        "s",
    ];
    // The marker is written once the handler is set.
    spawn_running(dir, &args, "s/.nines-run", 1)
}

#[test]
fn ctrl_c_keeps_the_sweep_points_completed_and_says_so() {
    let dir = Dir::new();
    let child = slow_sweep(&dir);
    // Long enough for the first point, not the second.
    std::thread::sleep(Duration::from_millis(1500));
    sigint(&child);
    let (code, err) = finish(child);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("interrupted after") && err.contains("the 1 of 3 points completed"),
        "{err}"
    );
    let csv = dir.read("s/sweep.csv");
    assert_eq!(csv.lines().count(), 2, "only the complete point is kept:\n{csv}");
    let s = json(&dir.read("s/sweep.json"));
    assert_eq!(s["partial"], true);
    assert_eq!(s["points"].as_array().unwrap().len(), 1);
    assert_eq!(s["points"][0]["summary"]["trials"], 40);
    assert!(dir.read("s/report.html").contains("first 1 of the grid"));
    let tmp = std::fs::read_dir(dir.path_of("s"))
        .unwrap()
        .filter(|e| {
            let p = e.as_ref().unwrap().path();
            p.extension().is_some_and(|x| x == "tmp" || x == "nines-tmp")
        })
        .count();
    assert_eq!(tmp, 0, "no temporary file is left");
    // The point kept is exactly that point of a complete sweep.
    dir.nines(&[
        "sweep",
        "paced.toml",
        "--vary",
        "workload.users.rate=1",
        "--trials",
        "40",
        "--out",
        "whole",
        "-q",
    ])
    .ok();
    assert_eq!(csv, dir.read("whole/sweep.csv"));
    assert!(json(&dir.read("whole/sweep.json")).get("partial").is_none());
}

#[test]
fn ctrl_c_on_compare_writes_nothing_and_says_so() {
    let dir = Dir::new();
    dir.write("fast.toml", PACED);
    dir.write("slow.toml", &PACED.replace("rate = 1\n", "rate = 4000\n"));
    let child = spawn_running(
        &dir,
        &[
            "compare",
            "fast.toml",
            "slow.toml",
            "--trials",
            "40",
            "--threads",
            "1",
            "--out",
            "c",
        ],
        "c/.nines-run",
        1,
    );
    std::thread::sleep(Duration::from_millis(1500));
    sigint(&child);
    let (code, err) = finish(child);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("1 of 2 designs were complete") && err.contains("nothing was written"),
        "{err}"
    );
    let left: Vec<String> = std::fs::read_dir(dir.path_of("c"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".nines-run" && n != ".nines-lock")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

fn bash(dir: &Dir, script: &str, env: &[(&str, String)], args: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("bash")
        .arg(root.join(script))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("NINES", env!("CARGO_BIN_EXE_nines"))
        .current_dir(dir.path_of(""))
        .status()
        .expect("bash");
    assert!(status.success(), "{script} {args:?} {env:?}");
}

#[test]
fn slurm_array_script_run_locally_then_merged() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    dir.nines(&["run", "small.toml", "--trials", "300", "--out", "whole", "-q"])
        .ok();
    for task in 0..4 {
        let env = [
            ("SLURM_ARRAY_TASK_ID", task.to_string()),
            ("SLURM_ARRAY_TASK_COUNT", "4".into()),
            ("SLURM_CPUS_PER_TASK", "2".into()),
        ];
        bash(
            &dir,
            "recipes/slurm/shard.sbatch",
            &env,
            &["small.toml", "res", "--trials", "300"],
        );
    }
    // What the merge job of recipes/slurm/submit.sh runs.
    let submit =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes/slurm/submit.sh")).unwrap();
    assert!(
        submit.contains("--wrap \"$nines merge $out/parts --out $out\""),
        "{submit}"
    );
    dir.nines(&["merge", "res/parts", "--out", "res", "-q"]).ok();
    assert_eq!(dir.read("res/summary.json"), dir.read("whole/summary.json"));
    assert_eq!(dir.read("res/trials.csv"), dir.read("whole/trials.csv"));
}

#[test]
fn parallel_recipe_gives_the_bytes_of_one_run() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    dir.nines(&["run", "small.toml", "--trials", "300", "--out", "whole", "-q"])
        .ok();
    bash(
        &dir,
        "recipes/parallel.sh",
        &[],
        &["small.toml", "res", "3", "--trials", "300"],
    );
    assert_eq!(dir.read("res/summary.json"), dir.read("whole/summary.json"));
    assert_eq!(dir.read("res/trials.csv"), dir.read("whole/trials.csv"));
}

/// `merge --force` into the folder that holds its own parts (and another
/// command's results) keeps the parts it reads, and gives exactly the
/// whole run's files.
#[test]
fn merge_force_keeps_the_parts_it_merges() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    dir.nines(&["run", "small.toml", "--trials", "200", "--out", "whole", "-q"])
        .ok();
    // A sweep owns `res`; the parts are run elsewhere and copied in.
    dir.nines(&[
        "sweep",
        "small.toml",
        "--vary",
        "service.api.replicas=1,2",
        "--trials",
        "20",
        "--out",
        "res",
        "-q",
    ])
    .ok();
    for i in 0..2 {
        small_shard(&dir, "200", &format!("{i}/2"), "parts", &[]);
        let name = format!("shard-{i}-of-2.nines-part");
        std::fs::copy(
            dir.path_of(&format!("parts/{name}")),
            dir.path_of(&format!("res/{name}")),
        )
        .unwrap();
    }
    let err = dir.nines(&["merge", "res", "--out", "res", "-q"]).bad_input();
    assert!(err.contains("another command") && err.contains("--force"), "{err}");
    dir.nines(&["merge", "res", "--out", "res", "--force", "-q"]).ok();
    assert_eq!(dir.read("res/trials.csv"), dir.read("whole/trials.csv"));
    assert_eq!(dir.read("res/summary.json"), dir.read("whole/summary.json"));
    assert!(
        dir.path_of("res/shard-0-of-2.nines-part").exists(),
        "the parts merged are kept"
    );
    assert!(!dir.path_of("res/sweep.csv").exists(), "the sweep's files are gone");
}

/// A bad part fails the merge before `--force` deletes anything.
#[test]
fn a_bad_part_under_force_leaves_the_old_results() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    dir.write("other.toml", &SMALL.replace("replicas = 2", "replicas = 3"));
    dir.nines(&["run", "other.toml", "--trials", "50", "--out", "res", "-q"])
        .ok();
    let before = dir.read("res/summary.json");
    small_shard(&dir, "200", "0/2", "parts", &[]);
    small_shard(&dir, "200", "1/2", "parts", &[]);
    // The last chunk's timeline rows, an empty list (a count of 0), made
    // a count of 5 under a fresh checksum: the part still opens but does
    // not decode, so it fails only once the merge reads the rows.
    let part = dir.path_of("parts/shard-1-of-2.nines-part");
    let (csv, mut meta) = open_part(&part);
    let last = meta.chunks.last_mut().unwrap();
    assert_eq!(last.timeline, [0], "the part ends with an empty timeline");
    last.timeline = vec![5];
    seal_part(&part, &csv, meta);
    let err = dir
        .nines(&["merge", "parts", "--out", "res", "--force", "-q"])
        .bad_input();
    assert!(err.contains("shard-1-of-2"), "{err}");
    assert_eq!(dir.read("res/summary.json"), before, "the old results are untouched");
}

/// The CSV bytes and decoded metadata of a part, read past its checksum.
fn open_part(path: &Path) -> (Vec<u8>, nines::montecarlo::shard::Meta) {
    let bytes = std::fs::read(path).unwrap();
    let n = bytes.len();
    let meta_len = u64::from_le_bytes(bytes[n - 16..n - 8].try_into().unwrap()) as usize;
    let meta = postcard::from_bytes(&bytes[n - 16 - meta_len..n - 16]).unwrap();
    (bytes[..n - 16 - meta_len].to_vec(), meta)
}

/// Writes `csv` and `meta` as a part at `path`, sealed with a fresh
/// checksum as nines seals its own: a part forged by hand.
fn seal_part(path: &Path, csv: &[u8], meta: nines::montecarlo::shard::Meta) {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap();
    std::io::Write::write_all(&mut f, csv).unwrap();
    nines::montecarlo::shard::finish_part(&mut f, path, meta).unwrap();
}

#[test]
fn merge_refuses_a_part_with_edited_rows_or_scenario_text() {
    let dir = Dir::new();
    three_parts(&dir);
    let part = dir.path_of("parts/shard-1-of-3.nines-part");
    let original = std::fs::read(&part).unwrap();
    // A digit of one row changed; then one byte of the scenario text.
    let row = original.iter().position(|&b| b == b'\n').unwrap() + 3;
    let text = original.windows(4).position(|w| w == b"100h").unwrap();
    for at in [row, text] {
        let mut edited = original.clone();
        edited[at] = if edited[at] == b'1' { b'2' } else { b'1' };
        std::fs::write(&part, &edited).unwrap();
        let err = dir.nines(&["merge", "parts", "--out", "m"]).bad_input();
        assert!(
            err.contains("shard-1-of-3.nines-part") && err.contains("checksum does not match"),
            "{err}"
        );
    }
    assert!(!dir.path_of("m/summary.json").exists());
    std::fs::write(&part, &original).unwrap();
    dir.nines(&["merge", "parts", "--out", "m", "-q"]).ok();
}

#[test]
fn merge_of_a_part_with_chunk_zero_or_a_nan_slo_or_zero_trials_is_refused_not_a_panic() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    small_shard(&dir, "200", "0/1", "parts", &["--slo", "0.99"]);
    let part = dir.path_of("parts/shard-0-of-1.nines-part");
    let (csv, _) = open_part(&part);
    type Edit = fn(&mut nines::montecarlo::shard::Meta);
    let edits: [(Edit, &str); 5] = [
        (|m| m.chunk = 0, "chunk = 0"),
        (|m| m.slo = Some(f64::NAN), "slo = NaN"),
        (|m| m.trials = 0, "trials = 0"),
        (|m| m.count = 0, "is not a shard"),
        (|m| m.end = u64::MAX, "trials 0.."),
    ];
    for (edit, expected) in edits {
        let (_, mut meta) = open_part(&part);
        edit(&mut meta);
        let forged = dir.path_of("forged/shard-0-of-1.nines-part");
        std::fs::create_dir_all(forged.parent().unwrap()).unwrap();
        seal_part(&forged, &csv, meta);
        let err = dir.nines(&["merge", "forged", "--out", "m"]).bad_input();
        assert!(err.contains(expected), "expected `{expected}` in\n{err}");
    }
}

#[test]
fn merge_refuses_a_duplicated_chunk() {
    let dir = Dir::new();
    three_parts(&dir);
    // Shard 2/3 of 200 trials holds chunks of 64 and 8 trials: the first
    // given twice, in place of the second, even under a fresh checksum.
    let part = dir.path_of("parts/shard-2-of-3.nines-part");
    let (csv, mut meta) = open_part(&part);
    assert_eq!(meta.chunks.len(), 2);
    meta.chunks[1] = nines::montecarlo::shard::Chunk {
        acc: meta.chunks[0].acc.clone(),
        timeline: meta.chunks[0].timeline.clone(),
    };
    seal_part(&part, &csv, meta);
    let err = dir.nines(&["merge", "parts", "--out", "m"]).bad_input();
    assert!(
        err.contains("shard-2-of-3.nines-part") && err.contains("chunk 1 holds 64 trials"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn merge_does_not_hang_on_a_fifo_named_like_a_part() {
    let dir = Dir::new();
    three_parts(&dir);
    let fifo = dir.path_of("parts/zz.nines-part");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let limit = Duration::from_secs(20);
    let err = dir.nines_within(&["merge", "parts", "--out", "m"], limit).bad_input();
    assert!(
        err.contains("zz.nines-part") && err.contains("not a regular file"),
        "{err}"
    );
    // Named on its own, too.
    let err = dir
        .nines_within(&["merge", "parts/zz.nines-part", "--out", "m"], limit)
        .bad_input();
    assert!(err.contains("not a regular file"), "{err}");
}

/// Merges the parts in `dir` in-process, as `nines merge` does before it
/// writes: an `Err` is a clean refusal.
fn merge_in_process(dir: &Path) -> nines::Result<()> {
    use nines::montecarlo::{self, shard::Merged};
    let merged = Merged::open(&[dir.to_path_buf()])?;
    let scenario = merged.meta().scenario()?;
    let world = nines::model::World::compile(&scenario);
    let acc = merged.fold(montecarlo::accumulator(&world))?;
    let _ = nines::summarise(&scenario, &world, &acc, merged.meta().seed, merged.meta().slo);
    let _ = merged.timeline(&world)?;
    merged.write_csv(&mut Vec::new(), Path::new("trials.csv"))
}

/// Parts forged byte by byte under a fresh checksum (what the checksum
/// cannot see): every one merges or is refused, none panics. Deterministic
/// mutations of the metadata's bytes, kept when they still decode.
#[test]
fn merge_of_forged_parts_never_panics() {
    let dir = Dir::new();
    dir.write("requests.toml", REQUESTS);
    for i in 0..2 {
        dir.nines(&[
            "run",
            "requests.toml",
            "--trials",
            "3",
            "--shard",
            &format!("{i}/2"),
            "--out",
            "parts",
            "-q",
        ])
        .ok();
    }
    merge_in_process(&dir.path_of("parts")).unwrap();
    let part = dir.path_of("parts/shard-1-of-2.nines-part");
    let original = std::fs::read(&part).unwrap();
    let n = original.len();
    let meta_len = u64::from_le_bytes(original[n - 16..n - 8].try_into().unwrap()) as usize;
    let (csv, meta) = original[..n - 16].split_at(n - 16 - meta_len);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut decoded, mut refused) = (0, 0);
    for _ in 0..400 {
        let mut bytes = meta.to_vec();
        for _ in 0..1 + next() % 4 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = match next() % 4 {
                0 => 0,
                1 => 0xff,
                2 => bytes[at].wrapping_add(1),
                _ => next() as u8,
            };
        }
        let Ok(forged) = postcard::from_bytes::<nines::montecarlo::shard::Meta>(&bytes) else {
            continue;
        };
        decoded += 1;
        seal_part(&part, csv, forged);
        let outcome = std::panic::catch_unwind(|| merge_in_process(&dir.path_of("parts")));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(_)) => refused += 1,
            Err(_) => panic!("a forged part panicked the merge: {bytes:?}"),
        }
    }
    assert!(decoded > 50 && refused > 10, "{decoded} decoded, {refused} refused");
}
