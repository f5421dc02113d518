//! Same scenario and seed: byte-identical files on any thread count.

use crate::util::Dir;

/// Regions, failover, active-passive and dependencies together; 300 trials
/// so that chunks split unevenly among threads.
const MIXED: &str = include_str!("../scenarios/multi-region.toml");

#[test]
fn files_are_identical_on_one_and_two_threads() {
    let dir = Dir::new();
    dir.write("mixed.toml", MIXED);
    let mut outputs = Vec::new();
    for threads in ["1", "2", "3"] {
        let out = format!("out{threads}");
        dir.nines(&[
            "run",
            "mixed.toml",
            "--trials",
            "300",
            "--threads",
            threads,
            "--out",
            &out,
            "--quiet",
        ])
        .ok();
        outputs.push((
            dir.read(&format!("{out}/summary.json")),
            dir.read(&format!("{out}/trials.csv")),
        ));
    }
    assert_eq!(
        outputs[0].0, outputs[1].0,
        "summary.json differs between 1 and 2 threads"
    );
    assert_eq!(outputs[0].1, outputs[1].1, "trials.csv differs between 1 and 2 threads");
    assert_eq!(outputs[0], outputs[2], "3 threads differ");
    assert_eq!(outputs[0].1.lines().count(), 301);
}

#[test]
fn a_different_seed_gives_different_trials() {
    let dir = Dir::new();
    dir.write("mixed.toml", MIXED);
    dir.nines(&[
        "run",
        "mixed.toml",
        "--trials",
        "64",
        "--seed",
        "1",
        "--out",
        "a",
        "--quiet",
    ])
    .ok();
    dir.nines(&[
        "run",
        "mixed.toml",
        "--trials",
        "64",
        "--seed",
        "2",
        "--out",
        "b",
        "--quiet",
    ])
    .ok();
    assert_ne!(dir.read("a/trials.csv"), dir.read("b/trials.csv"));
}

/// Trial i does not depend on how many trials run: the first 100 rows of a
/// 300-trial run are the rows of a 100-trial run.
#[test]
fn a_trial_depends_only_on_seed_and_index() {
    let dir = Dir::new();
    dir.write("mixed.toml", MIXED);
    dir.nines(&["run", "mixed.toml", "--trials", "100", "--out", "a", "--quiet"])
        .ok();
    dir.nines(&["run", "mixed.toml", "--trials", "300", "--out", "b", "--quiet"])
        .ok();
    let short = dir.read("a/trials.csv");
    let long = dir.read("b/trials.csv");
    let head: Vec<&str> = long.lines().take(101).collect();
    assert_eq!(short.lines().collect::<Vec<_>>(), head);
}

/// Common random numbers: changing one service leaves another service's
/// failure timeline in every trial untouched.
#[test]
fn changing_one_service_leaves_the_others_streams_alone() {
    let dir = Dir::new();
    dir.write("mixed.toml", MIXED);
    dir.nines(&["run", "mixed.toml", "--trials", "64", "--out", "a", "--quiet"])
        .ok();
    dir.nines(&[
        "run",
        "mixed.toml",
        "--trials",
        "64",
        "--out",
        "b",
        "--quiet",
        "--set",
        "service.web.replicas=5",
    ])
    .ok();
    let column = |csv: &str, name: &str| -> Vec<String> {
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let i = header.iter().position(|h| *h == name).unwrap();
        lines.map(|l| l.split(',').nth(i).unwrap().to_string()).collect()
    };
    let (a, b) = (dir.read("a/trials.csv"), dir.read("b/trials.csv"));
    assert_eq!(
        column(&a, "region.eu.availability"),
        column(&b, "region.eu.availability")
    );
    assert_eq!(
        column(&a, "service.db.availability"),
        column(&b, "service.db.availability")
    );
    assert_ne!(
        column(&a, "service.web.availability"),
        column(&b, "service.web.availability")
    );
}
