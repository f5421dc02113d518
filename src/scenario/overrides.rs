//! `--set PATH=VALUE`: one value of the file replaced before validation.
//!
//! Paths name services, regions, workloads and workflows by their `name`
//! (`service.api.replicas`, `region.eu.failure.mean`,
//! `workflow.order.deadline`; a workflow's steps cannot be addressed),
//! `[global]` keys as
//! `global.KEY`, and top-level keys by themselves (`horizon`). A path that
//! names nothing, or a key the schema does not have, is an error that names
//! the flag. The value is read as TOML (`5`, `0.99`, `true`, `["eu"]`,
//! `{ mean = "2h" }`) and otherwise taken as a string (`500h`,
//! `active-active`).
//!
//! The edit is made on the document itself (toml_edit keeps everything
//! else byte for byte), so every other key keeps its line; the values that
//! flags supplied are recorded in [`Source::flags`] so that a problem with
//! one is reported against the flag.

use std::str::FromStr;

use toml_edit::{DocumentMut, InlineTable, Item, Table, Value};

use super::raw::keys;
use super::source::{FlagSpan, Source, suggest};
use crate::error::{Diagnostic, Origin};

/// One `--set PATH=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// Dotted path.
    pub path: String,
    /// Raw value text.
    pub value: String,
}

impl FromStr for Override {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some((p, v)) if !p.trim().is_empty() => Ok(Self {
                path: p.trim().to_string(),
                value: v.trim().to_string(),
            }),
            _ => Err(format!(
                "expected PATH=VALUE (like service.api.replicas=5), found \"{s}\""
            )),
        }
    }
}

impl Override {
    fn flag(&self) -> String {
        format!("--set {}={}", self.path, self.value)
    }

    fn diag(&self, message: impl Into<String>, help: Option<String>) -> Diagnostic {
        Diagnostic {
            origin: Origin::Flag(self.flag()),
            key: Some(self.path.clone()),
            message: message.into(),
            help,
        }
    }
}

/// Where an override lands: which table, and the key path inside it.
struct Target<'p> {
    /// `None` for the top level; else `("service", name)`.
    array: Option<(&'p str, &'p str)>,
    /// `Some` for `[global]`.
    global: bool,
    keys: Vec<&'p str>,
}

fn resolve<'p>(o: &'p Override) -> Result<Target<'p>, Diagnostic> {
    let parts: Vec<&str> = o.path.split('.').collect();
    let (array, global, rest, allowed): (_, _, &[&str], &[&str]) = match parts.as_slice() {
        [
            "service" | "region" | "workload" | "fault" | "workflow" | "alert" | "common_cause",
            name,
            rest @ ..,
        ] => {
            let allowed = match parts[0] {
                "service" => keys::SERVICE,
                "region" => keys::REGION,
                "fault" => keys::FAULT,
                "workflow" => keys::WORKFLOW,
                "alert" => keys::ALERT,
                "common_cause" => keys::COMMON_CAUSE,
                _ => keys::WORKLOAD,
            };
            (Some((parts[0], *name)), false, rest, allowed)
        }
        ["global", rest @ ..] => (None, true, rest, keys::GLOBAL),
        rest => (None, false, rest, keys::TOP),
    };
    let Some(first) = rest.first() else {
        return Err(o.diag(
            "the path names a table, not a value",
            Some("add the key to set, like service.api.replicas=5".into()),
        ));
    };
    let unknown = |k: &str, allowed: &[&str]| {
        let help = suggest(k, allowed)
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| (!allowed.is_empty()).then(|| format!("valid keys here: {}", allowed.join(", "))));
        o.diag(format!("`{k}` is not a key that can be set here"), help)
    };
    if array.is_none()
        && !global
        && rest.len() == 1
        && matches!(
            *first,
            "service" | "region" | "workload" | "fault" | "workflow" | "alert" | "common_cause"
        )
    {
        return Err(o.diag(
            format!("`{first}` is a list of tables, not a value"),
            Some(format!(
                "address one by name and set one of its keys, like {first}.NAME.KEY=VALUE"
            )),
        ));
    }
    if !allowed.contains(first)
        || matches!(
            *first,
            "service" | "region" | "global" | "call" | "burst" | "workload" | "fault" | "step"
        )
    {
        return Err(unknown(first, allowed));
    }
    let nested: &[&str] = match *first {
        "repair" if array.is_none() && !global => keys::REPAIR,
        "failure" | "repair" | "service_time" | "every" | "latency" => keys::DIST,
        "cascade" => keys::CASCADE,
        "rate_limit" => keys::RATE_LIMIT,
        "shed" => keys::SHED,
        "outlier_detection" => keys::OUTLIER,
        "failover" if !global => keys::FAILOVER,
        "health_check" => keys::HEALTH_CHECK,
        "diurnal" => keys::DIURNAL,
        "retry" => keys::RETRY,
        "circuit_breaker" => keys::BREAKER,
        "bulkhead" => keys::BULKHEAD,
        "limits" => keys::LIMITS,
        "slo" => keys::SLO,
        "liveness" => keys::LIVENESS,
        "spares" => keys::SPARES,
        "autoscale" => keys::AUTOSCALE,
        _ => &[],
    };
    match rest {
        [_] => {}
        [_, k] if !nested.is_empty() => {
            if !nested.contains(k) {
                return Err(unknown(k, nested));
            }
        }
        _ => return Err(o.diag(format!("`{first}` has no key `{}`", rest[1..].join(".")), None)),
    }
    Ok(Target {
        array,
        global,
        keys: rest.to_vec(),
    })
}

fn parse_value(text: &str) -> Value {
    text.parse::<Value>().unwrap_or_else(|_| Value::from(text))
}

/// The table an override edits, found in a mutable document.
fn table_mut<'d>(doc: &'d mut DocumentMut, t: &Target<'_>, o: &Override) -> Result<&'d mut Table, Diagnostic> {
    if t.global {
        let item = doc.entry("global").or_insert_with(|| Item::Table(Table::new()));
        return item
            .as_table_mut()
            .ok_or_else(|| o.diag("[global] is not a table in the file", None));
    }
    let Some((kind, name)) = t.array else {
        return Ok(doc.as_table_mut());
    };
    let names: Vec<String> = doc
        .get(kind)
        .and_then(Item::as_array_of_tables)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.get("name")?.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let found = doc.get_mut(kind).and_then(Item::as_array_of_tables_mut).and_then(|a| {
        a.iter_mut()
            .find(|t| t.get("name").and_then(Item::as_str) == Some(name))
    });
    found.ok_or_else(|| {
        let known: Vec<&str> = names.iter().map(String::as_str).collect();
        let help = suggest(name, &known).map(|s| format!("did you mean \"{s}\"?"));
        let defined = if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        };
        o.diag(format!("no {kind} is named \"{name}\" (defined: {defined})"), help)
    })
}

fn set(table: &mut Table, keys: &[&str], value: Value) {
    match keys {
        [k] => {
            table.insert(k, Item::Value(value));
        }
        [outer, inner] => {
            let item = table
                .entry(outer)
                .or_insert_with(|| Item::Value(Value::InlineTable(InlineTable::new())));
            if let Some(t) = item.as_table_like_mut() {
                t.insert(inner, Item::Value(value));
            } else {
                let mut t = InlineTable::new();
                t.insert(*inner, value);
                *item = Item::Value(Value::InlineTable(t));
            }
        }
        _ => unreachable!("resolve() allows at most two keys"),
    }
}

/// Applies `overrides` to `text`; returns the text to deserialise.
///
/// # Errors
/// One diagnostic per override that names nothing.
pub fn apply(path: &str, text: &str, overrides: &[Override]) -> Result<Source, Vec<Diagnostic>> {
    if overrides.is_empty() {
        return Ok(Source::new(path, text));
    }
    // A syntax error is reported by the deserialiser, against the file.
    let Ok(mut doc) = text.parse::<DocumentMut>() else {
        return Ok(Source::new(path, text));
    };
    let mut diags = Vec::new();
    let mut applied = Vec::new();
    for o in overrides {
        let result = resolve(o).and_then(|t| {
            let table = table_mut(&mut doc, &t, o)?;
            let inserted = !table.contains_key(t.keys[0]);
            set(table, &t.keys, parse_value(&o.value));
            Ok((t, inserted))
        });
        match result {
            Ok(done) => applied.push((o, done)),
            Err(d) => diags.push(d),
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let edited = doc.to_string();
    let spans = toml_edit::Document::parse(edited.clone()).ok();
    let flags = applied
        .iter()
        .filter_map(|(o, (t, inserted))| {
            let span = spans.as_ref().and_then(|d| locate(d, t))?;
            Some(FlagSpan {
                span,
                flag: o.flag(),
                inserted: *inserted,
            })
        })
        .collect();
    Ok(Source {
        path: path.to_string(),
        text: edited,
        flags,
    })
}

/// The byte span of the key-value an override wrote, in the edited text.
fn locate(doc: &toml_edit::Document<String>, t: &Target<'_>) -> Option<std::ops::Range<usize>> {
    let table: &Table = if t.global {
        doc.get("global")?.as_table()?
    } else if let Some((kind, name)) = t.array {
        doc.get(kind)?
            .as_array_of_tables()?
            .iter()
            .find(|tb| tb.get("name").and_then(Item::as_str) == Some(name))?
    } else {
        doc.as_table()
    };
    let (key, item) = table.get_key_value(t.keys[0])?;
    let start = key.span()?.start;
    let end = item.span()?.end;
    Some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "horizon = \"1y\"\n\n[[service]]\nname = \"api\"\nreplicas = 3\ntopology = \"active-active\"\n\n[[service]]\nname = \"db\"\n";

    fn ov(s: &str) -> Override {
        s.parse().unwrap()
    }

    #[test]
    fn replaces_and_inserts_values() {
        let src = apply(
            "f.toml",
            FILE,
            &[ov("service.api.replicas=5"), ov("service.db.failure.mean=500h")],
        )
        .unwrap();
        assert!(src.text.contains("replicas = 5"));
        assert!(src.text.contains("mean = \"500h\""));
        assert_eq!(src.flags.len(), 2);
        assert!(!src.flags[0].inserted);
        assert!(src.flags[1].inserted);
    }

    #[test]
    fn names_the_flag_when_the_path_is_wrong() {
        let err = apply("f.toml", FILE, &[ov("service.apx.replicas=5")]).unwrap_err();
        assert_eq!(err[0].origin, Origin::Flag("--set service.apx.replicas=5".into()));
        assert_eq!(err[0].help.as_deref(), Some("did you mean \"api\"?"));
        let err = apply("f.toml", FILE, &[ov("service.api.replicaz=5")]).unwrap_err();
        assert_eq!(err[0].help.as_deref(), Some("did you mean `replicas`?"));
        assert!(apply("f.toml", FILE, &[ov("service.api.failure.means=5h")]).is_err());
        assert!(apply("f.toml", FILE, &[ov("workload.users.rate=5")]).is_err());
        assert!("no-equals".parse::<Override>().is_err());
    }

    #[test]
    fn keeps_the_lines_of_the_file() {
        let src = apply(
            "f.toml",
            FILE,
            &[ov("service.api.replicas=7"), ov("service.api.failure.mean=5h")],
        )
        .unwrap();
        // `name = "db"` is on line 9 of the file, whatever was inserted above.
        let at = src.text.find("name = \"db\"").unwrap();
        let Origin::File { line, .. } = src.origin(at) else {
            panic!()
        };
        assert_eq!(line, 9);
    }
}
