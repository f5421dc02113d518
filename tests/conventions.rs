//! Issue 21, CLI conventions: the header of every JSON document, `-` for
//! standard input, `--no-write` and `--out -`, `--export-markdown`, a
//! closed pipe, `nines` alone, `--version`, `--verbose` and `--color`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{Dir, SMALL};

/// The top-level keys of a pretty-printed JSON document, in order.
fn keys(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("  \""))
        .map(|l| l.trim().split('"').nth(1).unwrap().to_string())
        .collect()
}

/// Asserts the header every document opens with; returns the document.
fn assert_header(text: &str, format: &str, set: &[&str], vary: &[&str]) -> Value {
    assert_eq!(keys(text)[..3], ["format", "nines_version", "overrides"], "{text}");
    let doc: Value = serde_json::from_str(text).unwrap();
    assert_eq!(doc["format"], format);
    assert_eq!(doc["nines_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["overrides"], serde_json::json!({ "set": set, "vary": vary }));
    doc
}

/// `nines ARGS` in `dir` with `input` on standard input.
fn with_stdin(dir: &Dir, args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nines"))
        .args(args)
        .current_dir(dir.path_of(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn summary_json_opens_with_format_version_and_overrides() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    let stdout = dir
        .nines(&[
            "run",
            "small.toml",
            "--trials",
            "20",
            "--set",
            "service.api.replicas=3",
            "--format",
            "json",
            "--quiet",
        ])
        .ok();
    let file = dir.read("output/small/summary.json");
    assert_eq!(stdout, file, "--format json prints exactly summary.json");
    let doc = assert_header(&file, "summary/1", &["service.api.replicas=3"], &[]);
    assert_eq!(keys(&file)[3], "scenario", "the summary's own keys follow the header");
    assert_eq!(doc["trials"], 20);
}

#[test]
fn merged_shards_carry_the_overrides_of_the_parts() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    let set = ["--set", "service.db.repair.mean=1h", "--quiet", "--trials", "70"];
    dir.nines(&[&["run", "small.toml", "--out", "whole"][..], &set].concat())
        .ok();
    for shard in ["0/2", "1/2"] {
        dir.nines(&[&["run", "small.toml", "--out", "parts", "--shard", shard][..], &set].concat())
            .ok();
    }
    dir.nines(&["merge", "parts", "--out", "merged", "--quiet"]).ok();
    let merged = dir.read("merged/summary.json");
    assert_eq!(merged, dir.read("whole/summary.json"));
    assert_header(&merged, "summary/1", &["service.db.repair.mean=1h"], &[]);
}

#[test]
fn sweep_compare_and_check_documents_share_the_header() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    dir.write("b.toml", &SMALL.replace("replicas = 2", "replicas = 3"));
    let q = ["--trials", "10", "--quiet", "--set", "seed=3"];
    dir.nines(
        &[
            &[
                "sweep",
                "small.toml",
                "--vary",
                "service.api.replicas=1,2",
                "--out",
                "s",
            ][..],
            &q,
        ]
        .concat(),
    )
    .ok();
    let sweep = assert_header(
        &dir.read("s/sweep.json"),
        "sweep/1",
        &["seed=3"],
        &["service.api.replicas=1,2"],
    );
    assert_eq!(sweep["points"][1]["values"]["service.api.replicas"], "2");
    dir.nines(&[&["compare", "small.toml", "b.toml", "--out", "c"][..], &q].concat())
        .ok();
    let compare = dir.read("c/compare.json");
    assert_header(&compare, "compare/1", &["seed=3"], &[]);
    assert_eq!(keys(&compare)[3..], ["trials", "seed", "objective", "designs"]);
    let check = dir.nines(&["check", "small.toml", "--format", "json"]).ok();
    let doc = assert_header(&check, "check/1", &[], &[]);
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["entry"], "api");
    assert_eq!(doc["services"], serde_json::json!(["api", "db"]));
}

#[test]
fn export_markdown_writes_the_table_for_design_documents() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    dir.nines(&[
        "run",
        "small.toml",
        "--trials",
        "10",
        "--quiet",
        "--export-markdown",
        "run.md",
    ])
    .ok();
    let md = dir.read("run.md");
    assert!(
        md.contains("| figure | value |\n| :--- | ---: |\n| availability |"),
        "{md}"
    );
    assert!(
        md.contains("| service | availability | own rule | downtime share |"),
        "{md}"
    );
    assert!(md.contains("\n| db |"), "{md}");
    dir.nines(&[
        "sweep",
        "small.toml",
        "--vary",
        "service.api.replicas=1,2",
        "--trials",
        "10",
        "--quiet",
        "--export-markdown",
        "sweep.md",
    ])
    .ok();
    let md = dir.read("sweep.md");
    assert!(md.starts_with("| service.api.replicas | availability |"), "{md}");
    assert_eq!(md.lines().count(), 4, "header, rule, two points:\n{md}");
}

#[test]
fn dash_reads_the_scenario_from_standard_input() {
    let dir = Dir::new();
    let out = with_stdin(
        &dir,
        &["run", "-", "--trials", "10", "--quiet", "--format", "json"],
        SMALL,
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        dir.read("output/stdin/summary.json")
    );
    let out = with_stdin(&dir, &["check", "-"], "name = \"x\"\nhorizon = 5\n");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("<stdin>:2:11"), "names <stdin>, line and column: {err}");
}

#[test]
fn no_write_and_out_dash_write_no_files() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    for flags in [&["--no-write"][..], &["--out", "-"]] {
        let stdout = dir
            .nines(
                &[
                    &["run", "small.toml", "--trials", "10", "--quiet", "--format", "json"][..],
                    flags,
                ]
                .concat(),
            )
            .ok();
        assert_header(&stdout, "summary/1", &[], &[]);
        assert!(!dir.path_of("output").exists(), "{flags:?} made an output folder");
        assert!(!dir.path_of("-").exists(), "{flags:?} made a folder named -");
    }
    let out = with_stdin(&dir, &["run", "-", "--no-write", "--trials", "10", "--quiet"], SMALL);
    assert_eq!(out.status.code(), Some(0));
    assert!(!dir.path_of("output").exists());
    let out = with_stdin(&dir, &["run", "-", "--shard", "0/2"], SMALL);
    assert_eq!(out.status.code(), Some(2), "--shard refuses standard input");
    let err = dir.nines(&["run", "small.toml", "--no-write", "--plot"]).bad_input();
    assert!(err.contains("--no-write") && err.contains("--plot"), "{err}");
}

#[test]
fn closed_pipe_on_stdout_exits_quietly() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    let mut child = Command::new(env!("CARGO_BIN_EXE_nines"))
        .args([
            "run",
            "small.toml",
            "--trials",
            "200",
            "--no-write",
            "--quiet",
            "--format",
            "json",
        ])
        .current_dir(dir.path_of(""))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader leaves before the run prints, as `| head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "nothing on stderr: {err}");
}

#[test]
fn no_arguments_prints_help_on_stderr_and_exits_2() {
    let run = Dir::new().nines(&[]);
    let err = run.bad_input();
    assert!(err.contains("Usage: nines"), "{err}");
    assert!(run.stdout().is_empty());
}

#[test]
fn version_names_the_commit() {
    let out = Dir::new().nines(&["--version"]).ok();
    let rest = out
        .strip_prefix(concat!("nines ", env!("CARGO_PKG_VERSION"), " ("))
        .unwrap_or_else(|| panic!("{out}"));
    let commit = rest.trim_end().strip_suffix(')').unwrap_or_else(|| panic!("{out}"));
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{out}"
    );
}

#[test]
fn verbose_says_threads_chunks_and_estimator() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    let run = dir.nines(&[
        "run",
        "small.toml",
        "--trials",
        "100",
        "--threads",
        "2",
        "--verbose",
        "--no-write",
    ]);
    run.ok();
    let err = run.stderr();
    assert!(err.contains("100 trials in 2 chunks of 64 · 2 threads"), "{err}");
    assert!(err.contains("estimator crude"), "{err}");
    let sweep = dir.nines(&[
        "sweep",
        "small.toml",
        "--vary",
        "service.api.replicas=1,2",
        "--trials",
        "10",
        "--threads",
        "1",
        "-v",
        "--out",
        "s",
    ]);
    sweep.ok();
    let err = sweep.stderr();
    assert!(
        err.contains("2 points of 10 trials each, one after another · 1 threads"),
        "{err}"
    );
    assert!(err.contains("nines: point service.api.replicas=2"), "{err}");
    let quiet = dir.nines(&["run", "small.toml", "--trials", "10", "--no-write", "--quiet"]);
    assert!(quiet.stderr().is_empty(), "{}", quiet.stderr());
}

#[test]
fn color_is_honoured_by_the_table() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    let run = |c: &str| {
        dir.nines(&[
            "run",
            "small.toml",
            "--trials",
            "10",
            "--no-write",
            "--quiet",
            "--color",
            c,
        ])
        .ok()
    };
    assert!(
        run("always").starts_with("\x1b[1mnines · small\x1b[0m\n"),
        "{}",
        run("always")
    );
    assert!(!run("never").contains('\x1b'));
    // auto: stdout is a pipe here.
    assert!(!run("auto").contains('\x1b'));
    let json = dir
        .nines(&[
            "run",
            "small.toml",
            "--trials",
            "10",
            "--no-write",
            "--quiet",
            "--color",
            "always",
            "--format",
            "json",
        ])
        .ok();
    assert!(!json.contains('\x1b'), "JSON is never coloured");
    let slo = |o: &str| {
        dir.nines(&[
            "run",
            "small.toml",
            "--trials",
            "10",
            "--no-write",
            "-q",
            "--color",
            "always",
            "--slo",
            o,
        ])
        .ok()
    };
    assert!(
        slo("0.5").contains("\x1b[32m  SLO 0.5: the design meets it"),
        "{}",
        slo("0.5")
    );
    assert!(slo("0.999999999").contains("\x1b[31m  SLO"), "{}", slo("0.999999999"));
}
