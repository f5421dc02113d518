//! The header every JSON document nines writes opens with: `format` (the
//! document's shape and its version, `"summary/1"`), `nines_version` (the
//! crate's version, never the commit, so the bytes of a result do not
//! change between commits of one release) and `overrides` (the `--set` and
//! `--vary` flags that produced it, in the order given).
//!
//! The header keys come first, in that order, in every document
//! (`summary.json`, `sweep.json`, `compare.json`, `nines check --format
//! json`); the document's own keys follow in the order its struct declares
//! them. A shape's version goes up when a key is renamed or removed or its
//! meaning changes, not when one is added.

use serde::Serialize;

/// The shape of `summary.json` (and `run`/`merge --format json`).
pub const SUMMARY: &str = "summary/1";
/// The shape of `sweep.json`.
pub const SWEEP: &str = "sweep/1";
/// The shape of `compare.json`.
pub const COMPARE: &str = "compare/1";
/// The shape of `nines check --format json`.
pub const CHECK: &str = "check/1";
/// The shape of `improve.json` (and `improve --format json`).
pub const IMPROVE: &str = "improve/1";

/// The flags that changed the scenario: `PATH=VALUE` per `--set` and
/// `PATH=SPEC` per `--vary`, as given. Both keys are always present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Overrides {
    /// `--set PATH=VALUE`, in order.
    pub set: Vec<String>,
    /// `--vary PATH=SPEC`, in order (empty but for a sweep).
    pub vary: Vec<String>,
}

impl Overrides {
    /// `--set` flags from `(path, value)` pairs.
    pub fn set<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            set: pairs.into_iter().map(|(p, v)| format!("{p}={v}")).collect(),
            vary: Vec::new(),
        }
    }
}

#[derive(Serialize)]
struct Document<'a, T> {
    format: &'static str,
    nines_version: &'static str,
    overrides: &'a Overrides,
    #[serde(flatten)]
    body: &'a T,
}

/// The pretty-printed, newline-terminated text of a document of shape
/// `format` whose own keys are `body`'s (a struct or a map).
pub fn json<T: Serialize>(format: &'static str, overrides: &Overrides, body: &T) -> String {
    let doc = Document {
        format,
        nines_version: env!("CARGO_PKG_VERSION"),
        overrides,
        body,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("a document always serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::{Overrides, json};

    #[test]
    fn header_keys_come_first_in_a_fixed_order() {
        let o = Overrides::set([("service.api.replicas", "5")]);
        let text = json("summary/1", &o, &serde_json::json!({ "scenario": "x" }));
        let keys: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("  \""))
            .map(|l| l.trim().split('"').nth(1).unwrap())
            .collect();
        assert_eq!(keys, ["format", "nines_version", "overrides", "scenario"]);
        assert!(text.contains("\"service.api.replicas=5\""));
    }
}
