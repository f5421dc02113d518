//! The JSON Schema of `[[deploy]]` and `[[maintenance]]` (see
//! [`super::schema`], which places them; [`super::ops`] checks meaning).

use serde_json::{Value, json};

use super::schema::{duration, int, length, probability, table, words};

pub(super) fn deploy() -> Value {
    table(
        "Releases of one service, rolled over its replicas batch by batch: on a schedule (`every` fixed), a process (`every` a distribution) or at listed times (`at`).",
        &["service", "restart"],
        json!({
            "service": { "type": "string", "description": "The service rolled (every replica, all regions, in replica order)." },
            "every": length("Time from one deploy's start to the next: a duration (a schedule) or a distribution (a process)."),
            "first": duration("With `every`: the first deploy (default: one `every` after the start)."),
            "at": { "type": "array", "minItems": 1, "items": { "$ref": "#/$defs/duration" }, "description": "Deploy times, increasing (instead of `every`)." },
            "batch": int("Replicas restarted together (default 1).", 1, 10_000_000),
            "batch_share": { "type": "number", "exclusiveMinimum": 0, "maximum": 1, "description": "Share of the replicas restarted together, rounded up (instead of `batch`)." },
            "pause": duration("Wait between one batch serving again and the next (default 0s)."),
            "canary": { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "description": "Share of the replicas in a first, canary batch (rounded up); needs `bake`." },
            "bake": duration("Time the canary serves before the roll goes on; its analysis catches a bad release at the end."),
            "restart": length("Time a replica is out of service while it restarts (also when rolled back)."),
            "bad": probability("Chance a release is bad (default 0)."),
            "effect": words("What a bad release does to the replicas running it (default crash).", &["crash", "errors", "latency"]),
            "error_rate": probability("effect = errors: extra chance a served request fails."),
            "latency": length("effect = latency: the added serving delay: a duration, or a distribution."),
            "detect": duration("Alerting: a bad release is caught this long after its first replica serves it."),
        }),
    )
}

pub(super) fn maintenance() -> Value {
    table(
        "A recurring maintenance window: planned downtime of a service (every replica), one replica \"db[0]\" or a region.",
        &["target", "every", "duration"],
        json!({
            "name": { "type": "string", "description": "Names it in messages." },
            "target": { "type": "string", "description": "A service, one replica \"db[0]\", or a region." },
            "every": duration("Time from one window's start to the next, e.g. 1w."),
            "at": duration("Start of the first window (default 0), e.g. \"27h\" for Tuesday 03:00 in a week from Monday 00:00."),
            "duration": duration("Length of each window, shorter than `every`."),
        }),
    )
}
