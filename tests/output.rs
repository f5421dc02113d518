//! Output files as an attacker would try them (issue 15, "Output files",
//! and the shards of issue 21): links planted at temporary names, two runs
//! into one folder, a failure in the middle of publishing, `--force`
//! beside a user's files, shards started together, and hostile names in
//! every output format. Each test is named after what broke.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Dir, SMALL};

/// Names of the temporary files nines left in `dir` (there should be none).
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".nines-tmp") || n.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default()
}

fn spawn(dir: &Dir, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nines"))
        .args(args)
        .current_dir(dir.path_of(""))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nines")
}

fn wait(child: Child) -> (i32, String) {
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A temporary file of `name` exists in `folder` (a run is under way).
fn wait_for_temp(dir: &Dir, folder: &str, name: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let prefix = format!(".{name}.");
    loop {
        let found = std::fs::read_dir(dir.path_of(folder)).is_ok_and(|mut r| {
            r.any(|e| {
                let n = e.unwrap().file_name().to_string_lossy().into_owned();
                n.starts_with(&prefix) && n.ends_with(".nines-tmp")
            })
        });
        if found {
            return;
        }
        assert!(Instant::now() < deadline, "no temporary {name} appeared");
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("nines ended too soon: {status}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

const WITH_REQUESTS: &str = r#"name = "req"
horizon = "1m"
trials = 4
seed = 2

[[workload]]
name = "users"
to = "api"
rate = 5

[[service]]
name = "api"
concurrency = 4
service_time = { mean = "5ms" }
failure = { mean = "20s" }
repair = { mean = "2s" }
"#;

/// A link at any name nines used to write through (`NAME.tmp`, the
/// marker's, a plot's, a part's) or at a final name is never followed:
/// the file it points to, outside the output folder, keeps its bytes.
#[cfg(unix)]
#[test]
fn symlink_at_temp_name_is_not_followed() {
    let dir = Dir::new();
    dir.write("req.toml", WITH_REQUESTS);
    let victim = dir.write("victim.txt", "precious");
    std::fs::create_dir_all(dir.path_of("o")).unwrap();
    std::fs::create_dir_all(dir.path_of("parts")).unwrap();
    let plant = |rel: &str| std::os::unix::fs::symlink(&victim, dir.path_of(rel)).unwrap();
    for name in [
        "summary.json.tmp",
        "trials.csv.tmp",
        "timeline.csv.tmp",
        "report.html.tmp",
        ".nines-run.tmp",
        "downtime.png",
        "latency.svg.tmp",
        "timeline.csv",
    ] {
        plant(&format!("o/{name}"));
    }
    plant("parts/shard-0-of-1.nines-part.tmp");
    plant("parts/.nines-run.tmp");
    dir.nines(&["run", "req.toml", "--out", "o", "--plot", "-q"]).ok();
    dir.nines(&["run", "req.toml", "--out", "parts", "--shard", "0/1", "-q"])
        .ok();
    dir.nines(&["trace", "req.toml", "--out", "o/trace", "-q"]).ok();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    for f in ["timeline.csv", "downtime.png"] {
        let m = std::fs::symlink_metadata(dir.path_of(&format!("o/{f}"))).unwrap();
        assert!(m.is_file(), "{f} replaced the link with a file");
    }
    // A link at the lock file is refused, not followed.
    let locked = dir.path_of("l");
    std::fs::create_dir_all(&locked).unwrap();
    plant("l/.nines-lock");
    let err = dir.nines(&["run", "req.toml", "--out", "l", "-q"]).bad_input();
    assert!(err.contains("link"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

/// Plots were rendered through a predictable `/tmp/nines-plot-PID-N.png`:
/// nothing is written outside the output folder now.
#[test]
fn plots_are_not_rendered_through_the_temp_folder() {
    let dir = Dir::new();
    dir.write("req.toml", WITH_REQUESTS);
    let tmp = dir.path_of("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nines"))
        .args(["run", "req.toml", "--out", "o", "--plot", "-q"])
        .current_dir(dir.path_of(""))
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    assert!(dir.path_of("o/latency.png").exists());
}

/// Two runs into one folder wrote the same temporary name and corrupted
/// `trials.csv`. The second is refused (exit 2) while the first writes.
#[test]
fn two_runs_into_one_folder_do_not_corrupt_trials_csv() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    let mut first = spawn(
        &dir,
        &[
            "run",
            "small.toml",
            "--trials",
            "1000000000",
            "--out",
            "o",
            "--threads",
            "1",
        ],
    );
    wait_for_temp(&dir, "o", "trials.csv", &mut first);
    let err = dir
        .nines(&["run", "small.toml", "--out", "o", "--seed", "2"])
        .bad_input();
    assert!(err.contains("in use") && err.contains("--out"), "{err}");
    let err = dir
        .nines(&["run", "small.toml", "--out", "o", "--shard", "0/2"])
        .bad_input();
    assert!(err.contains("in use"), "a shard waits for no run: {err}");
    let _ = Command::new("kill").args(["-INT", &first.id().to_string()]).status();
    let (code, err) = wait(first);
    assert_eq!(code, 1, "{err}");
    assert!(temporaries(&dir.path_of("o")).is_empty());
    // Once the first is done, the folder is free again.
    dir.nines(&["run", "small.toml", "--out", "o", "-q"]).ok();
}

/// The reproduction of the issue: five runs with five seeds started at
/// once into one folder. Whatever each exits with, the folder holds one
/// run's `summary.json` beside that run's rows, never a mix.
#[test]
fn runs_started_together_leave_one_consistent_set() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    for round in 0..3 {
        let out = format!("o{round}");
        let children: Vec<Child> = (1..=5)
            .map(|seed| {
                spawn(
                    &dir,
                    &[
                        "run",
                        "small.toml",
                        "--trials",
                        "400",
                        "--seed",
                        &seed.to_string(),
                        "--out",
                        &out,
                        "-q",
                    ],
                )
            })
            .collect();
        let codes: Vec<i32> = children.into_iter().map(|c| wait(c).0).collect();
        assert!(codes.iter().all(|&c| c == 0 || c == 2), "{codes:?}");
        assert!(codes.contains(&0), "{codes:?}");
        let summary: serde_json::Value = serde_json::from_str(&dir.read(&format!("{out}/summary.json"))).unwrap();
        let seed = summary["seed"].as_u64().unwrap();
        dir.nines(&[
            "run",
            "small.toml",
            "--trials",
            "400",
            "--seed",
            &seed.to_string(),
            "--out",
            "whole",
            "-q",
        ])
        .ok();
        assert_eq!(dir.read(&format!("{out}/trials.csv")), dir.read("whole/trials.csv"));
        assert!(temporaries(&dir.path_of(&out)).is_empty());
    }
}

/// `trials.csv` was renamed into place before `summary.json` was written:
/// a failure between them left one run's rows beside another's summary.
/// Now a failure while publishing leaves no summary, and no temporary file.
#[test]
fn a_failure_while_publishing_never_leaves_a_summary_beside_other_rows() {
    let dir = Dir::new();
    dir.write("req.toml", WITH_REQUESTS);
    dir.nines(&["run", "req.toml", "--out", "o", "-q", "--seed", "1"]).ok();
    // The next run's timeline.csv cannot take its name (a folder is there),
    // after trials.csv has.
    std::fs::remove_file(dir.path_of("o/timeline.csv")).unwrap();
    std::fs::create_dir_all(dir.path_of("o/timeline.csv/x")).unwrap();
    let run = dir.nines(&["run", "req.toml", "--out", "o", "-q", "--seed", "2"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        !dir.path_of("o/summary.json").exists(),
        "seed 1's summary stayed beside other rows"
    );
    assert!(
        temporaries(&dir.path_of("o")).is_empty(),
        "{:?}",
        temporaries(&dir.path_of("o"))
    );
    std::fs::remove_dir_all(dir.path_of("o/timeline.csv")).unwrap();
    dir.nines(&["run", "req.toml", "--out", "o", "-q", "--seed", "2"]).ok();
    assert!(dir.path_of("o/summary.json").exists());
}

/// A later run without `--plot` left the earlier run's plots beside its
/// summary: the set changes together, stale files of the old set go.
#[test]
fn a_run_without_plots_removes_the_plots_of_the_run_before() {
    let dir = Dir::new();
    dir.write("req.toml", WITH_REQUESTS);
    dir.nines(&["run", "req.toml", "--out", "o", "-q", "--plot"]).ok();
    assert!(dir.path_of("o/report.html").exists());
    dir.nines(&["run", "req.toml", "--out", "o", "-q", "--seed", "3"]).ok();
    assert!(!dir.path_of("o/report.html").exists());
    assert!(!dir.path_of("o/latency.png").exists());
    assert!(dir.path_of("o/timeline.csv").exists());
}

/// `--force` deleted a user's `notes.png`, `data.tmp` and own
/// `report.html`: it deletes only what the marker records.
#[test]
fn force_deletes_only_files_nines_wrote() {
    let dir = Dir::new();
    dir.write("a.toml", SMALL);
    dir.write("b.toml", &SMALL.replace("replicas = 2", "replicas = 3"));
    std::fs::create_dir_all(dir.path_of("o")).unwrap();
    for f in ["notes.png", "data.tmp", "report.html", "x.nines-part"] {
        std::fs::write(dir.path_of(&format!("o/{f}")), "mine").unwrap();
    }
    dir.nines(&["run", "a.toml", "--out", "o", "-q"]).ok();
    dir.nines(&["run", "b.toml", "--out", "o", "-q", "--force"]).ok();
    for f in ["notes.png", "data.tmp", "report.html", "x.nines-part"] {
        assert_eq!(dir.read(&format!("o/{f}")), "mine", "{f} was deleted");
    }
    // What a's run wrote and b's does not (its plots) is deleted.
    dir.nines(&["run", "a.toml", "--out", "p", "-q", "--plot"]).ok();
    dir.nines(&["run", "b.toml", "--out", "p", "-q", "--force"]).ok();
    assert!(!dir.path_of("p/downtime.png").exists());
    assert!(dir.read("p/.nines-run").contains("b.toml"));
}

/// Eight shards started together into a new folder failed now and then
/// with `cannot write parts/.nines-run` (a fixed temporary name).
#[test]
fn shards_started_together_into_a_new_folder_all_succeed() {
    let dir = Dir::new();
    dir.write("small.toml", SMALL);
    dir.nines(&["run", "small.toml", "--trials", "512", "--out", "whole", "-q"])
        .ok();
    for round in 0..5 {
        let parts = format!("r{round}/parts");
        let children: Vec<Child> = (0..8)
            .map(|i| {
                spawn(
                    &dir,
                    &[
                        "run",
                        "small.toml",
                        "--trials",
                        "512",
                        "--threads",
                        "1",
                        "--shard",
                        &format!("{i}/8"),
                        "--out",
                        &parts,
                        "-q",
                    ],
                )
            })
            .collect();
        for c in children {
            let (code, err) = wait(c);
            assert_eq!(code, 0, "round {round}: {err}");
        }
        assert!(temporaries(&dir.path_of(&parts)).is_empty());
        let res = format!("r{round}/res");
        dir.nines(&["merge", &parts, "--out", &res, "-q"]).ok();
        assert_eq!(dir.read(&format!("{res}/trials.csv")), dir.read("whole/trials.csv"));
    }
}

/// A service named `a,b` gave `timeline.csv` 19 header columns for 13 per row.
#[test]
fn timeline_header_is_csv_quoted() {
    let dir = Dir::new();
    dir.write("req.toml", &WITH_REQUESTS.replace("\"api\"", "\"a,b\""));
    dir.nines(&["run", "req.toml", "--out", "o", "-q"]).ok();
    let text = dir.read("o/timeline.csv");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().clone();
    assert!(header.iter().any(|h| h == "service.a,b.concluded"), "{header:?}");
    for row in r.records() {
        assert_eq!(row.unwrap().len(), header.len());
    }
}

/// Error messages printed control and right-to-left characters raw.
#[test]
fn error_messages_escape_control_and_rtl_characters() {
    let dir = Dir::new();
    let err = dir.nines(&["run", "evil\u{202e}\u{1b}[2J.toml"]).bad_input();
    assert!(!err.contains('\u{202e}') && !err.contains('\u{1b}'), "{err:?}");
    assert!(err.contains("\\u{202e}") && err.contains("\\u{1b}"), "{err}");
}

/// Whether `s` is safe on a terminal: no control character but line feed
/// and tab, no bidi control.
fn terminal_safe(s: &str) -> bool {
    !s.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

/// A small well-formedness check of XML (no XML parser among the
/// dependencies): only characters XML 1.0 allows, every `&` an entity,
/// every tag closed in order.
fn assert_xml(text: &str, what: &str) {
    let bad = text
        .chars()
        .find(|&c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
    assert!(bad.is_none(), "{what}: character {bad:?} is not allowed in XML");
    let entity_ok = |s: &str| {
        let Some(end) = s.find(';') else { return false };
        let name = &s[1..end];
        matches!(name, "lt" | "gt" | "amp" | "quot" | "apos")
            || name
                .strip_prefix("#x")
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            || name
                .strip_prefix('#')
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
    };
    let mut stack: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(off) = text[i..].find(['<', '&']) {
        let at = i + off;
        if text[at..].starts_with('&') {
            assert!(
                entity_ok(&text[at..]),
                "{what}: bad entity at {}",
                &text[at..(at + 12).min(text.len())]
            );
            i = at + 1;
            continue;
        }
        let end = at + text[at..].find('>').unwrap_or_else(|| panic!("{what}: unclosed tag"));
        let tag = &text[at + 1..end];
        assert!(!tag.contains('<'), "{what}: '<' inside a tag: {tag}");
        for (k, _) in tag.match_indices('&') {
            assert!(entity_ok(&tag[k..]), "{what}: bad entity in {tag}");
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.trim()), "{what}: tags out of order");
        } else if !(tag.starts_with('?') || tag.starts_with('!') || tag.ends_with('/')) {
            stack.push(tag.split_whitespace().next().unwrap_or("").to_string());
        }
        i = end + 1;
    }
    assert!(stack.is_empty(), "{what}: unclosed {stack:?}");
}

/// Reads CSV `text` back: its header, and every row as long as it.
fn csv_back(text: &str, what: &str) -> Vec<String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    for row in r.records() {
        let row = row.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            row.len(),
            header.len(),
            "{what}: a row of {} fields under {} columns",
            row.len(),
            header.len()
        );
    }
    header
}

/// A TOML basic string holding exactly `s`.
fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn hostile_name() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let chars = prop::sample::select(vec![
        'a', 'z', 'é', '中', '=', '+', '@', ',', ';', '"', '\'', '\\', '<', '>', '&', '#', '\n', '\r', '\t', '\u{1}',
        '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{202e}', '\u{200f}', '\u{2066}',
    ]);
    (
        prop::sample::select(vec!["", "=", "+", "@"]),
        prop::collection::vec(chars, 1..6),
    )
        .prop_map(|(lead, v)| format!("{lead}{}", v.into_iter().collect::<String>()))
}

fn hostile_scenario(title: &str, s: &[String; 3]) -> String {
    format!(
        r#"name = {title}
horizon = "30s"
trials = 2
seed = 1

[[workload]]
name = {w}
to = {a}
rate = 5

[[service]]
name = {a}
concurrency = 4
service_time = {{ mean = "5ms" }}
failure = {{ mean = "10s" }}
repair = {{ mean = "1s" }}

[[service.call]]
to = {b}
timeout = "1s"

[[service]]
name = {b}
concurrency = 4
service_time = {{ mean = "2ms" }}
"#,
        title = toml_str(title),
        w = toml_str(&s[0]),
        a = toml_str(&s[1]),
        b = toml_str(&s[2]),
    )
}

/// Checks every file of `folder`: CSV and JSON read back, SVG is XML,
/// HTML holds no control character.
fn check_folder(dir: &Dir, folder: &str) {
    for e in std::fs::read_dir(dir.path_of(folder)).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let what = format!("{folder}/{name}");
        match path.extension().and_then(|x| x.to_str()) {
            Some("csv") => {
                csv_back(&std::fs::read_to_string(&path).unwrap(), &what);
            }
            Some("json") => {
                serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&path).unwrap())
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
            }
            Some("jsonl") => {
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{what}: {e}"));
                }
            }
            Some("svg") => assert_xml(&std::fs::read_to_string(&path).unwrap(), &what),
            Some("html") => {
                let html = std::fs::read_to_string(&path).unwrap();
                assert!(
                    !html.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')),
                    "{what}: a control character"
                );
            }
            _ => {}
        }
        assert!(!name.ends_with(".nines-tmp"), "{what}: a temporary file was left");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 6, ..Default::default() })]

    /// Names with commas, quotes, line breaks, control characters, right-to-left
    /// marks and `=` prefixes: every output format is written and read back.
    #[test]
    fn every_output_format_reads_back_with_hostile_names(
        title in hostile_name(),
        w in hostile_name(),
        a in hostile_name(),
        b in hostile_name(),
    ) {
        let names = [format!("{w}0"), format!("{a}1"), format!("{b}2")];
        let dir = Dir::new();
        let text = hostile_scenario(&title, &names);
        dir.write("h.toml", &text);
        dir.write("g.toml", &text);
        let run = dir.nines(&["run", "h.toml", "--out", "o", "--plot"]);
        let table = run.ok();
        assert!(terminal_safe(&table), "table: {table:?}");
        assert!(terminal_safe(&run.stderr()), "stderr: {:?}", run.stderr());
        check_folder(&dir, "o");
        let summary: serde_json::Value = serde_json::from_str(&dir.read("o/summary.json")).unwrap();
        assert_eq!(summary["scenario"].as_str(), Some(title.as_str()));
        for n in &names[1..] {
            assert!(summary["services"][n].is_object(), "services.{n:?}");
        }
        let trials = csv_back(&dir.read("o/trials.csv"), "trials.csv");
        let timeline = csv_back(&dir.read("o/timeline.csv"), "timeline.csv");
        for n in &names[1..] {
            assert!(trials.contains(&format!("service.{n}.availability")), "{trials:?}");
            assert!(timeline.contains(&format!("service.{n}.concluded")), "{timeline:?}");
        }
        assert!(timeline.contains(&format!("edge.{}->{}.calls", names[1], names[2])));
        let json = dir.nines(&["run", "h.toml", "--out", "j", "--format", "json", "-q"]).ok();
        assert_eq!(json, dir.read("j/summary.json"));
        let trace = dir.nines(&["trace", "h.toml", "--out", "t"]);
        assert!(terminal_safe(&trace.ok()) && terminal_safe(&trace.stderr()));
        check_folder(&dir, "t");
        let cmp = dir.nines(&["compare", "h.toml", "g.toml", "--out", "c", "-q"]);
        assert!(terminal_safe(&cmp.ok()));
        check_folder(&dir, "c");
        let sweep = dir.nines(&["sweep", "h.toml", "--vary", "horizon=20s,30s", "--out", "s", "-q"]);
        assert!(terminal_safe(&sweep.ok()));
        check_folder(&dir, "s");
        let check = dir.nines(&["check", "h.toml"]).ok();
        assert!(terminal_safe(&check), "check: {check:?}");
        let missing = format!("{}.toml", names[1].replace(['/', '\0'], "_"));
        let err = dir.nines(&["run", &missing]).bad_input();
        assert!(terminal_safe(&err), "{err:?}");
    }
}
