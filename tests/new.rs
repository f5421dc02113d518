//! `nines new`: every template is written as it is in `templates/`, is
//! valid, and runs; an existing file is never replaced without `--force`.

use std::path::Path;

use crate::util::Dir;

const NAMES: [&str; 5] = ["single", "active-passive", "regional", "requests", "saga"];

fn template(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("templates")
        .join(format!("{name}.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_template_is_listed_and_every_listed_one_is_a_file() {
    let dir = Dir::new();
    let listed = dir.nines(&["new", "--list"]).ok();
    assert_eq!(dir.nines(&["new"]).ok(), listed, "no TEMPLATE lists them too");
    let mut files: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".toml")
                .to_string()
        })
        .collect();
    files.sort();
    let mut names = NAMES.map(String::from).to_vec();
    names.sort();
    assert_eq!(files, names);
    for name in NAMES {
        assert!(listed.contains(&format!("\n  {name} ")), "{name} not listed:\n{listed}");
    }
}

#[test]
fn every_template_is_valid_and_runs() {
    let dir = Dir::new();
    for name in NAMES {
        let file = format!("{name}.toml");
        dir.nines(&["new", name, &file]).ok();
        assert_eq!(dir.read(&file), template(name), "{name}");
        let check = dir.nines(&["check", &file]).ok();
        assert!(check.starts_with(&format!("{file}: valid")), "{check}");
        let run = dir.nines(&["run", &file, "--trials", "2", "--out", name, "--quiet"]);
        assert_eq!(run.code(), 0, "{name}: {}", run.stderr());
        assert!(!run.stderr().contains("warning"), "{name}: {}", run.stderr());
        let summary: serde_json::Value = serde_json::from_str(&dir.read(&format!("{name}/summary.json"))).unwrap();
        let a = summary["availability"]["mean"].as_f64().unwrap();
        assert!((0.9..=1.0).contains(&a), "{name}: availability {a}");
        assert_eq!(summary["trials"], 2, "{name}");
        if name == "requests" || name == "saga" {
            assert!(summary["requests"]["total"].as_u64().unwrap() > 0, "{name}");
        }
    }
}

#[test]
fn the_single_template_has_its_closed_form_and_active_passive_says_why_not() {
    let dir = Dir::new();
    dir.nines(&["new", "single", "s.toml"]).ok();
    // Weibull mean 1000 h, lognormal repair mean 4 h: 1000 / 1004.
    let out = dir.nines(&["check", "s.toml"]).ok();
    assert!(
        out.contains(&format!("closed-form availability {:.9}", 1000.0 / 1004.0)),
        "{out}"
    );
    dir.nines(&["new", "active-passive", "ap.toml"]).ok();
    let out = dir.nines(&["check", "ap.toml"]).ok();
    assert!(
        out.contains("no closed form: service \"db\" has a failover delay"),
        "{out}"
    );
}

#[test]
fn no_file_or_dash_writes_stdout() {
    let dir = Dir::new();
    assert_eq!(dir.nines(&["new", "saga"]).ok(), template("saga"));
    assert_eq!(dir.nines(&["new", "regional", "-"]).ok(), template("regional"));
    assert!(!dir.path_of("-").exists());
}

#[test]
fn an_existing_file_is_kept_without_force() {
    let dir = Dir::new();
    dir.write("mine.toml", "# my own work\n");
    let err = dir.nines(&["new", "single", "mine.toml"]).bad_input();
    assert!(err.contains("mine.toml already exists"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(dir.read("mine.toml"), "# my own work\n");
    dir.nines(&["new", "single", "mine.toml", "--force"]).ok();
    assert_eq!(dir.read("mine.toml"), template("single"));
}

#[test]
fn an_unknown_template_suggests_the_near_miss() {
    let dir = Dir::new();
    let err = dir.nines(&["new", "activ-passive", "x.toml"]).bad_input();
    assert!(
        err.contains("no template is named \"activ-passive\"; did you mean \"active-passive\"?"),
        "{err}"
    );
    assert!(!dir.path_of("x.toml").exists());
}
