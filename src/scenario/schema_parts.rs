//! The building blocks of the scenario format's JSON Schema: a duration, a
//! distribution, a word list, a bounded integer, a probability, a closed
//! table. [`super::schema`] assembles the whole schema from them, and the
//! modules that own a group of keys ([`super::load`], [`super::autoscale`])
//! describe their tables with them, so the blocks sit below both.
//!
//! Invariant: a `$ref` here names a definition `schema` puts in `$defs`
//! (`duration`, `distribution`).

use serde_json::{Value, json};

pub(super) fn duration(description: &str) -> Value {
    json!({ "$ref": "#/$defs/duration", "description": description })
}

pub(super) fn dist(description: &str) -> Value {
    json!({ "$ref": "#/$defs/distribution", "description": description })
}

pub(super) fn words(description: &str, choices: &[&str]) -> Value {
    json!({ "type": "string", "enum": choices, "description": description })
}

pub(super) fn names(description: &str) -> Value {
    json!({ "type": "array", "items": { "type": "string" }, "description": description })
}

pub(super) fn int(description: &str, min: i64, max: i64) -> Value {
    json!({ "type": "integer", "minimum": min, "maximum": max, "description": description })
}

pub(super) fn probability(description: &str) -> Value {
    json!({ "type": "number", "minimum": 0, "maximum": 1, "description": description })
}

pub(super) fn table(description: &str, required: &[&str], properties: Value) -> Value {
    json!({
        "type": "object",
        "description": description,
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    })
}

/// A duration string, or a distribution table.
pub(super) fn length(description: &str) -> Value {
    json!({
        "description": description,
        "anyOf": [ { "$ref": "#/$defs/duration" }, { "$ref": "#/$defs/distribution" } ],
    })
}
