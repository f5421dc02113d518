//! Issue 21: what a run leaves for scripts and notebooks, checked on real
//! outputs of every example scenario (`scenarios/*.toml`, two trials each):
//! `summary.json` against `nines schema summary`, and `metrics.csv`
//! against `trials.csv`. The runs are made once and shared by the tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};

/// One example scenario's output folder.
struct Output {
    name: String,
    dir: PathBuf,
}

impl Output {
    fn summary(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.dir.join("summary.json")).unwrap()).unwrap()
    }
}

/// Runs every example scenario once (all at once: most of a run is one
/// thread) and keeps the folders under the test target's scratch space.
fn outputs() -> &'static [Output] {
    static OUTPUTS: OnceLock<Vec<Output>> = OnceLock::new();
    OUTPUTS.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("summary-schema");
        let _ = std::fs::remove_dir_all(&root);
        let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&scenarios)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        assert!(files.len() >= 10, "only {} example scenarios", files.len());
        let runs: Vec<(Output, std::process::Child)> = files
            .iter()
            .map(|f| {
                let name = f.file_stem().unwrap().to_string_lossy().into_owned();
                let dir = root.join(&name);
                let child = Command::new(env!("CARGO_BIN_EXE_nines"))
                    .args([
                        "run",
                        &f.to_string_lossy(),
                        "--trials",
                        "2",
                        "--threads",
                        "1",
                        "--quiet",
                        "--out",
                    ])
                    .arg(&dir)
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap();
                (Output { name, dir }, child)
            })
            .collect();
        runs.into_iter()
            .map(|(o, mut child)| {
                assert!(child.wait().unwrap().success(), "{} failed", o.name);
                o
            })
            .collect()
    })
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&nines::report::schema::schema()).expect("schema compiles")
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn summary_schema_is_a_valid_schema_printed_by_nines_schema_summary() {
    let schema = nines::report::schema::schema();
    assert!(jsonschema::meta::is_valid(&schema), "not a valid JSON Schema");
    let printed = crate::util::Dir::new().nines(&["schema", "summary"]).ok();
    assert_eq!(printed, nines::report::schema::text());
    // The scenario schema stays the default.
    let scenario = crate::util::Dir::new().nines(&["schema"]).ok();
    assert_eq!(scenario, nines::scenario::schema::text());
}

#[test]
fn summary_of_every_example_scenario_validates() {
    let v = validator();
    let mut parts = BTreeMap::new();
    for o in outputs() {
        let s = o.summary();
        let errs = errors(&v, &s);
        assert!(errs.is_empty(), "{}: {errs:#?}", o.name);
        for key in ["requests", "regions", "edges", "workflows", "faults"] {
            if s.get(key).is_some() {
                *parts.entry(key).or_insert(0) += 1;
            }
        }
    }
    // Every optional part of the document was seen in some example.
    assert_eq!(parts.len(), 5, "parts seen: {parts:?}");
}

/// An output with requests (for the request-level keys).
fn with_requests() -> Value {
    outputs()
        .iter()
        .map(Output::summary)
        .find(|s| s.get("requests").is_some() && s.get("faults").is_some())
        .expect("an example with requests and faults")
}

/// A way to spoil a valid summary.
type Break = Box<dyn Fn(&mut Value)>;

#[test]
fn summary_schema_rejects_wrong_types_and_unknown_keys() {
    let v = validator();
    let good = with_requests();
    assert!(errors(&v, &good).is_empty());
    let breaks: Vec<(&str, Break)> = vec![
        (
            "mean as a string",
            Box::new(|s| s["availability"]["mean"] = json!("high")),
        ),
        (
            "interval of one end",
            Box::new(|s| s["availability"]["ci95"] = json!([0.9])),
        ),
        (
            "percentile interval end a string",
            Box::new(|s| s["availability"]["downtime_per_year_s"]["p50_ci95"] = json!(["0", 1.0])),
        ),
        ("negative trials", Box::new(|s| s["trials"] = json!(-1))),
        ("unknown top-level key", Box::new(|s| s["surprise"] = json!(1))),
        (
            "unknown availability key",
            Box::new(|s| s["availability"]["p42"] = json!(1.0)),
        ),
        (
            "missing required key",
            Box::new(|s| drop(s["availability"].as_object_mut().unwrap().remove("nines"))),
        ),
        ("wrong format", Box::new(|s| s["format"] = json!("summary/0"))),
        (
            "objective not a word it knows",
            Box::new(|s| s["objective"] = json!("latency")),
        ),
        (
            "request availability without nines",
            Box::new(|s| s["requests"]["availability"] = json!({ "mean": 0.9, "ci95": [0.8, 0.95] })),
        ),
        (
            "edge count fractional",
            Box::new(|s| {
                let edges = s["edges"].as_object_mut().unwrap();
                let first = edges.values_mut().next().unwrap();
                first["calls"] = json!(1.5);
            }),
        ),
        (
            "service value not an object",
            Box::new(|s| {
                let services = s["services"].as_object_mut().unwrap();
                services.insert("ghost".into(), json!(0.99));
            }),
        ),
    ];
    for (what, f) in &breaks {
        let mut s = good.clone();
        f(&mut s);
        assert!(!errors(&v, &s).is_empty(), "the schema accepts a summary with {what}");
    }
    // The keys another part of issue 14 adds (CONTRACT) validate as optional.
    let mut s = good.clone();
    s["objective"] = json!("requests");
    s["estimator"] = json!("crude");
    s["requests"]["availability"] =
        json!({ "mean": 0.999, "ci95": [0.998, 0.9995], "nines": 3.0, "nines_ci95": [2.7, 3.3] });
    assert!(errors(&v, &s).is_empty(), "{:#?}", errors(&v, &s));
}

#[test]
fn downtime_percentiles_carry_intervals_that_hold_them() {
    for o in outputs() {
        let s = o.summary();
        let d = &s["availability"]["downtime_per_year_s"];
        for p in ["p50", "p90", "p99"] {
            let x = d[p].as_f64().unwrap();
            let ci = &d[format!("{p}_ci95")];
            let lo = ci[0].as_f64().unwrap();
            assert!(lo <= x, "{}: {p} {x} below its interval {ci}", o.name);
            // Two trials bound no percentile from above at 95 %.
            assert!(ci[1].is_null(), "{}: {p} upper end {ci} from two trials", o.name);
        }
    }
}

/// `(subject, metric) -> value` per trial, from `metrics.csv`.
type Long = BTreeMap<u64, Vec<(String, String, String)>>;

fn read_long(path: &Path) -> Long {
    let mut r = csv::Reader::from_path(path).unwrap();
    assert_eq!(r.headers().unwrap(), vec!["trial", "subject", "metric", "value"]);
    let mut out = Long::new();
    for row in r.records() {
        let row = row.unwrap();
        out.entry(row[0].parse().unwrap())
            .or_default()
            .push((row[1].into(), row[2].into(), row[3].into()));
    }
    out
}

#[test]
fn metrics_csv_is_trials_csv_in_long_form() {
    for o in outputs() {
        let long = read_long(&o.dir.join("metrics.csv"));
        let mut wide = csv::Reader::from_path(o.dir.join("trials.csv")).unwrap();
        let header: Vec<String> = wide.headers().unwrap().iter().map(String::from).collect();
        let mut trials = 0;
        for row in wide.records() {
            let row = row.unwrap();
            let trial: u64 = row[0].parse().unwrap();
            let values = &long[&trial];
            assert_eq!(values.len(), header.len() - 1, "{}: trial {trial}", o.name);
            for ((name, value), (subject, metric, v)) in header.iter().zip(row.iter()).skip(1).zip(values) {
                let joined = if subject == "entry" {
                    metric.clone()
                } else {
                    format!("{subject}.{metric}")
                };
                assert_eq!(&joined, name, "{}", o.name);
                assert_eq!(v, value, "{}: trial {trial} {name}", o.name);
            }
            trials += 1;
        }
        assert_eq!(long.len(), trials, "{}", o.name);
        // Every service appears as a subject with its availability.
        let summary = o.summary();
        for service in summary["services"].as_object().unwrap().keys() {
            let subject = format!("service.{service}");
            assert!(
                long[&0].iter().any(|(s, m, _)| *s == subject && m == "availability"),
                "{}: no {subject}",
                o.name
            );
        }
    }
}

#[test]
fn summary_reads_back_from_summary_json_into_the_same_bytes() {
    for o in outputs() {
        let text = std::fs::read_to_string(o.dir.join("summary.json")).unwrap();
        let summary: nines::Summary =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: summary.json does not read back: {e}", o.name));
        let v: Value = serde_json::from_str(&text).unwrap();
        let strings = |k: &str| -> Vec<String> {
            v["overrides"][k]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect()
        };
        let overrides = nines::report::document::Overrides {
            set: strings("set"),
            vary: strings("vary"),
        };
        assert_eq!(nines::report::json(&summary, &overrides), text, "{}", o.name);
    }
}
