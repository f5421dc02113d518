//! The table lines and summary-schema entries of what the request path
//! reports beside its policies: caches (`edges."A->B".cache`), cold
//! starts (`services.NAME.requests.cold_start`) and calls that gave up in
//! a bulkhead's queue (`edges."A->B".bulkhead.queue_timeouts...`). Each
//! is present only where its key is configured, so every other scenario
//! keeps its table and summary.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::format::human_duration;
use crate::stats::summary::{EdgeSummary, Summary};

/// One line per service with a cold start, under the service table.
pub(super) fn service_lines(t: &mut String, summary: &Summary) {
    for (name, s) in &summary.services {
        let Some(c) = s.requests.as_ref().and_then(|q| q.cold_start.as_ref()) else {
            continue;
        };
        let _ = writeln!(
            t,
            "  cold start {name}: {} taken · {} replica-time cold/trial",
            c.starts,
            human_duration(c.cold_s)
        );
    }
}

/// The cache line under an edge with a cache.
pub(super) fn edge_lines(t: &mut String, e: &EdgeSummary) {
    if let Some(g) = e.bulkhead.as_ref().and_then(|b| b.gave_up.as_ref())
        && g.queue_timeouts > 0
    {
        let _ = writeln!(
            t,
            "    bulkhead queue timeouts: {} gave up waiting, wait mean {} p50 {} p90 {} p99 {} max {}",
            g.queue_timeouts,
            human_duration(g.queue_timeout_mean_wait_s),
            human_duration(g.queue_timeout_wait_p50_s),
            human_duration(g.queue_timeout_wait_p90_s),
            human_duration(g.queue_timeout_wait_p99_s),
            human_duration(g.queue_timeout_wait_max_s)
        );
    }
    if let Some(c) = &e.cache {
        let _ = writeln!(
            t,
            "    cache: {} lookups · {} hits ({:.2} %) · {} passed through",
            c.lookups,
            c.hits,
            c.hit_rate * 100.0,
            c.passed_through
        );
    }
}

fn count(d: &str) -> Value {
    json!({ "type": "integer", "minimum": 0, "description": d })
}

fn num(d: &str) -> Value {
    json!({ "type": "number", "minimum": 0, "description": d })
}

/// `edges."A->B".cache` in the summary schema.
pub(super) fn cache_schema() -> Value {
    json!({
        "type": "object",
        "description": "The call's cache (only where `cache` is configured), totals over all trials.",
        "additionalProperties": false,
        "required": ["lookups", "hits", "hit_rate", "passed_through"],
        "properties": {
            "lookups": count("Calls looked up in the cache."),
            "hits": count("Lookups the cache answered (no call made)."),
            "hit_rate": { "type": "number", "minimum": 0, "maximum": 1, "description": "hits / lookups (0 with no lookup)." },
            "passed_through": count("Lookups that missed and went on as calls."),
        },
    })
}

/// `services.NAME.requests.cold_start` in the summary schema.
pub(super) fn cold_start_schema() -> Value {
    json!({
        "type": "object",
        "description": "Cold starts (only where `cold_start` is configured).",
        "additionalProperties": false,
        "required": ["starts", "cold_s"],
        "properties": {
            "starts": count("Cold starts taken (warm-ups begun after a restart or a scale-up), over all trials."),
            "cold_s": num("Replica-seconds spent cold per trial (mean): each cold start's duration, cut short by the replica's next restart or the horizon."),
        },
    })
}
