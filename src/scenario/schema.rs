//! A JSON Schema (draft 2020-12) of the scenario format, printed by
//! `nines schema`, so that editors validate and complete scenario files
//! (Taplo and Even Better TOML read a `#:schema` line or a settings entry;
//! any JSON Schema validator works on the file converted to JSON).
//!
//! It mirrors [`super::raw`] key for key: every table is
//! `additionalProperties: false`, words are `enum`s, durations are strings
//! checked by [`DURATION_PATTERN`], and a distribution is a `oneOf` over its
//! families. The schema checks form, not meaning (names that resolve, a
//! breaker that has a trip rule, calls that form no cycle): `nines check`
//! does the rest. Keys and their types are pinned to the raw structs by the
//! integration test `schema`, which reads the field lists serde generates,
//! so a key added to `raw.rs` without a schema entry fails it.

use serde_json::{Value, json};

use super::schema_parts::{dist, duration, int, length, names, probability, table, words};

/// What a duration string looks like: numbers with units, `"250ms"`,
/// `"1h30m"`, `"1.5d"` (units `ns us ms s m h d w y`).
pub const DURATION_PATTERN: &str = r"^\s*((\d[\d_]*(\.[\d_]*)?|\.\d[\d_]*)(ns|us|ms|s|m|h|d|w|y))+\s*$";

/// One family of a distribution: `dist` equal to `name` (optional for the
/// exponential, the default) and the keys it takes.
fn family(name: &str, description: &str, required: &[&str], properties: Value) -> Value {
    let mut props = properties;
    props["dist"] = json!({ "const": name });
    let mut required: Vec<&str> = required.to_vec();
    if name != "exponential" {
        required.push("dist");
    }
    table(description, &required, props)
}

fn distribution() -> Value {
    let mean = duration("Mean of the distribution.");
    json!({
        "description": "A distribution of durations. Without `dist` it is exponential with the given `mean`.",
        "oneOf": [
            family("exponential", "Exponential: `{ mean = \"1000h\" }`.", &["mean"], json!({ "mean": mean })),
            family(
                "weibull",
                "Weibull: `{ dist = \"weibull\", shape = 2.0, mean = \"1000h\" }`.",
                &["shape", "mean"],
                json!({ "shape": { "type": "number", "exclusiveMinimum": 0, "description": "Shape (above 1: wear-out)." }, "mean": mean }),
            ),
            family(
                "lognormal",
                "Lognormal: `{ dist = \"lognormal\", mean = \"10h\", cv = 0.5 }`.",
                &["mean", "cv"],
                json!({ "cv": { "type": "number", "exclusiveMinimum": 0, "description": "Coefficient of variation: stddev / mean." }, "mean": mean }),
            ),
            family(
                "gamma",
                "Gamma: `{ dist = \"gamma\", shape = 2.0, mean = \"10h\" }`.",
                &["shape", "mean"],
                json!({ "shape": { "type": "number", "exclusiveMinimum": 0, "description": "Shape." }, "mean": mean }),
            ),
            family("fixed", "Always `mean`: `{ dist = \"fixed\", mean = \"5m\" }`.", &["mean"], json!({ "mean": mean })),
            family(
                "uniform",
                "Uniform: `{ dist = \"uniform\", min = \"1m\", max = \"9m\" }`.",
                &["min", "max"],
                json!({ "min": duration("Shortest."), "max": duration("Longest.") }),
            ),
            family(
                "empirical",
                "Equally likely draws from a list: `{ dist = \"empirical\", values = [\"1m\", \"5m\"] }`.",
                &["values"],
                json!({ "values": { "type": "array", "minItems": 1, "items": { "$ref": "#/$defs/duration" }, "description": "The durations to draw from." } }),
            ),
        ]
    })
}

fn retry() -> Value {
    table(
        "Retry policy: attempts, backoff, jitter, which outcomes to retry, and an optional budget.",
        &[],
        json!({
            "max_attempts": int("Attempts in all, counting the first (default 3).", 1, 1000),
            "backoff": words("Delay growth between attempts (default exponential).", &["constant", "linear", "fibonacci", "exponential", "decorrelated"]),
            "base": duration("First retry delay (default 100ms)."),
            "max_delay": duration("Cap on one delay."),
            "jitter": words("Randomisation of the delay (default none).", &["none", "full", "equal"]),
            "retry_on": {
                "type": "array",
                "description": "Outcomes worth a retry (default: every failure).",
                "items": words("An outcome.", &["timeout", "error", "refused", "breaker", "bulkhead", "rate_limited", "shed"]),
            },
            "budget": table(
                "Retry budget: a token bucket that gains `ratio` per call and pays 1 per retry.",
                &["ratio"],
                json!({
                    "ratio": { "type": "number", "minimum": 0, "description": "Tokens each call adds." },
                    "burst": { "type": "number", "minimum": 0, "description": "Bucket size, and its start (default 10)." },
                }),
            ),
            "concurrency_budget": table(
                "Retry budget by concurrency (Envoy's): retries in flight stay under `percent` of active calls, never below `min_retry_concurrency`.",
                &[],
                json!({
                    "percent": { "type": "number", "exclusiveMinimum": 0, "maximum": 100, "description": "Share of active calls that may be retrying (default 20)." },
                    "min_retry_concurrency": int("Retries in flight always allowed (default 3).", 0, 1_000_000),
                }),
            ),
        }),
    )
}

/// `hedge = { ... }` on workloads and calls.
fn hedge() -> Value {
    table(
        "Hedged requests: a second copy of a late attempt to another replica; the first answer wins.",
        &[],
        json!({
            "delay": duration("Send the hedge this long after the attempt (give delay or quantile)."),
            "quantile": { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "description": "Send the hedge at this quantile of recent successful attempts' latency." },
            "window": int("Recent latencies the quantile is taken over (default 100).", 1, 100_000),
            "cancel": { "type": "boolean", "description": "Cancel the losing copy (default true)." },
            "budget": table(
                "Hedge budget: a token bucket that gains `ratio` per call and pays 1 per hedge.",
                &["ratio"],
                json!({
                    "ratio": { "type": "number", "minimum": 0, "description": "Tokens each call adds." },
                    "burst": { "type": "number", "minimum": 0, "description": "Bucket size, and its start (default 10)." },
                }),
            ),
        }),
    )
}

fn breaker() -> Value {
    table(
        "Circuit breaker: `failure_threshold`, or a sliding `window` with `size`; then `open_for`.",
        &[],
        json!({
            "failure_threshold": int("Consecutive failures that open it.", 1, 1_000_000),
            "window": words("Sliding window over a number of calls or a time.", &["count", "time"]),
            "size": {
                "description": "Window size: calls (count window) or a duration (time window).",
                "oneOf": [ { "type": "integer", "minimum": 1, "maximum": 100_000 }, { "$ref": "#/$defs/duration" } ],
            },
            "failure_rate": probability("Failure rate that opens it (default 0.5)."),
            "min_calls": int("Calls in the window before the rate counts.", 1, 1_000_000),
            "slow_call": duration("A call slower than this counts as slow."),
            "slow_call_rate": probability("Slow-call rate that opens it (default 1)."),
            "open_for": duration("Time it stays open (default 60s)."),
            "half_open_calls": int("Trial calls at once in half-open (default 1).", 1, 10_000),
            "success_threshold": int("Successes in half-open that close it (default 1).", 1, 10_000),
            "open_backoff": table(
                "Open periods that grow on repeated trips: open_for * multiplier^level, capped at max; a close by trial successes steps the level down.",
                &[],
                json!({
                    "multiplier": { "type": "number", "exclusiveMinimum": 1, "description": "Growth per trip (default 2)." },
                    "max": duration("Longest open period (default 10 x open_for)."),
                }),
            ),
            "half_open_max_wait": duration("Longest time half-open; then `half_open_expiry` applies."),
            "half_open_expiry": words("What an expired half-open becomes (default open).", &["open", "close"]),
        }),
    )
}

fn bulkhead() -> Value {
    table(
        "Bulkhead: calls running at once, and a waiting room.",
        &["max_concurrent"],
        json!({
            "max_concurrent": int("Calls running at once.", 1, 1_000_000),
            "max_queue": int("Calls waiting for a slot (default 0).", 0, 1_000_000),
            "queue_timeout": duration("Longest wait for a slot."),
        }),
    )
}

/// The client keys shared by `[[workload]]` and `[[service.call]]`.
fn client(props: &mut Value) {
    props["timeout"] = duration("Per-attempt timeout.");
    props["deadline"] = duration("Overall deadline for the call and everything downstream of it.");
    props["retry"] = retry();
    props["circuit_breaker"] = breaker();
    props["bulkhead"] = bulkhead();
    props["fallback"] =
        json!({ "type": "boolean", "description": "A failed call degrades the caller instead of failing it." });
    props["cancel_on_timeout"] = json!({ "type": "boolean", "description": "A timed-out attempt stops the server's work (default: it does not)." });
    props["order"] = json!({
        "type": "array",
        "description": "The order the policies wrap a call in, outermost first: a permutation of retry, breaker, bulkhead and timeout (default [\"retry\", \"breaker\", \"bulkhead\", \"timeout\"]). A policy before retry wraps the whole retried call, one after it each attempt.",
        "items": { "enum": ["retry", "breaker", "bulkhead", "timeout"] },
        "minItems": 4,
        "maxItems": 4,
        "uniqueItems": true,
    });
}

fn call() -> Value {
    let mut props = json!({ "to": { "type": "string", "description": "The service called." } });
    client(&mut props);
    props["hedge"] = hedge();
    table("A dependency of the service, with its client policies.", &["to"], props)
}

fn workload() -> Value {
    let mut props = json!({
        "name": { "type": "string", "description": "Unique name (the FROM of its edge)." },
        "to": { "type": "string", "description": "The service requests go to." },
        "rate": { "type": "number", "exclusiveMinimum": 0, "description": "Requests per second." },
        "arrival": words("Arrival process (default poisson).", &["poisson", "constant"]),
        "diurnal": table(
            "A periodic swing of the rate.",
            &["amplitude"],
            json!({
                "amplitude": probability("Relative swing: the rate goes from (1 - a) to (1 + a) times `rate`."),
                "period": duration("Period of the swing (default 24h)."),
                "peak": duration("Time of the peak within the period."),
            }),
        ),
        "burst": {
            "type": "array",
            "description": "Windows in which the rate is multiplied.",
            "items": table(
                "The rate times `factor` in [at, at + duration).",
                &["at", "duration", "factor"],
                json!({
                    "at": duration("Start."),
                    "duration": duration("Length."),
                    "factor": { "type": "number", "minimum": 0, "description": "Rate multiplier." },
                }),
            ),
        },
    });
    client(&mut props);
    props["hedge"] = hedge();
    props["priority"] = words(
        "Low-priority requests (and every call they make) are shed first (default normal).",
        &["normal", "low"],
    );
    props["region"] =
        json!({ "type": "string", "description": "The region its clients are in (default: outside every region)." });
    props["workflow"] = json!({ "type": "string", "description": "The workflow (saga) each arrival starts, instead of a request to `to`." });
    table(
        "A source of requests (give `to` or `workflow`).",
        &["name", "rate"],
        props,
    )
}

fn workflow() -> Value {
    // A step's failure is what the saga handles, so steps and compensations
    // take every client key but `fallback` (nines rejects it there).
    let mut compensation = json!({ "to": { "type": "string", "description": "The service that undoes the step." } });
    client(&mut compensation);
    compensation.as_object_mut().map(|o| o.remove("fallback"));
    let mut step = json!({
        "name": { "type": "string", "description": "Unique within the workflow." },
        "to": { "type": "string", "description": "The service the step calls." },
        "pivot": { "type": "boolean", "description": "After it succeeds the saga only goes forward." },
        "compensation": table("The call that undoes the step, with its own policies.", &["to"], compensation),
    });
    client(&mut step);
    step.as_object_mut().map(|o| o.remove("fallback"));
    table(
        "A workflow (saga): ordered steps, each with an optional compensation.",
        &["name", "step"],
        json!({
            "name": { "type": "string", "description": "Unique name." },
            "deadline": duration("Time from a saga's start after which it stops going forward (required when a pivot has later steps)."),
            "step": {
                "type": "array",
                "minItems": 1,
                "maxItems": 64,
                "description": "Steps in order.",
                "items": table("One step: a call with the usual client policies.", &["name", "to"], step),
            },
        }),
    )
}

fn fault() -> Value {
    table(
        "An injected fault: scripted (`at`), or a process (`every`).",
        &["kind", "target", "duration"],
        json!({
            "name": { "type": "string", "description": "Names it in the output and for --set fault.NAME.KEY." },
            "kind": words("What it does.", &["crash", "hang", "latency", "errors", "partition", "capacity", "clock_skew"]),
            "target": { "type": "string", "description": "A service, one replica \"db[0]\", a region, or a link \"api->db\" / \"eu->us\"." },
            "at": duration("Start, from the beginning of each trial (default 0); with `every`, the first start."),
            "duration": length("How long each occurrence lasts: a duration, or a distribution."),
            "every": dist("A fault process: time from the end of one occurrence to the next start."),
            "latency": dist("kind = latency: the added delay."),
            "error_rate": probability("kind = errors: extra chance that a served request fails."),
            "capacity": probability("kind = capacity: share of each replica's concurrency left."),
            "skew": { "type": "string", "pattern": "^\\s*[-+]?\\s*((\\d[\\d_]*(\\.[\\d_]*)?|\\.\\d[\\d_]*)(ns|us|ms|s|m|h|d|w|y))+\\s*$", "description": "kind = clock_skew: how far the target's clock is ahead (\"-300ms\": behind)." },
        }),
    )
}

fn service() -> Value {
    table(
        "A service: its replicas, how they fail and are repaired, what it calls, and how it serves requests.",
        &["name"],
        json!({
            "name": { "type": "string", "description": "Unique name." },
            "topology": words("How replicas combine (default single).", &["single", "active-passive", "active-active"]),
            "replicas": int("Replicas (per region when `regions` is given).", 1, 10_000),
            "min_healthy": int("Active-active: up while at least this many replicas are up (default 1).", 1, 10_000),
            "regions": { "type": "array", "minItems": 1, "items": { "type": "string" }, "description": "Regions the service is deployed in." },
            "failure": dist("Per replica: time to failure. Omitted: never fails."),
            "repair": dist("Per replica: time to repair."),
            "failover": table(
                "Active-passive switch-over.",
                &[],
                json!({
                    "detect": duration("Time to notice the active has failed."),
                    "switch": duration("Time to promote a standby."),
                    "success": probability("Chance that a switch-over works."),
                }),
            ),
            "standby": words("Active-passive: whether idle standbys fail (default hot).", &["hot", "cold"]),
            "call": { "type": "array", "items": call(), "description": "Dependencies." },
            "concurrency": int("Per replica: requests served at once (omitted: unlimited).", 1, 1_000_000),
            "queue": int("Per replica: waiting room (omitted: unbounded; 0: none).", 0, 100_000_000),
            "service_time": dist("Time to serve one request, before its calls."),
            "error_rate": probability("Chance that a served request fails."),
            "load_balancer": words("How a request picks a replica (default round-robin).", &["round-robin", "random", "least-outstanding", "power-of-two"]),
            "health_check": table(
                "How the load balancer learns a replica's health.",
                &[],
                json!({
                    "interval": duration("Time between probes (default 10s)."),
                    "unhealthy": int("Failed probes in a row that eject a replica (default 3).", 1, 1000),
                    "healthy": int("Good probes in a row that restore it (default 1).", 1, 1000),
                    "timeout": duration("Send the probe as a request, failing unanswered after this (default 1s once timeout, cost or deep is given)."),
                    "cost": duration("Slot time of the probe's own handler (default 1ms)."),
                    "deep": names("The probe also calls these dependencies (names of the service's calls)."),
                    "panic_threshold": probability("Below this share of healthy replicas, route to all (Envoy's panic threshold); 0: never, so with none healthy nothing is routed. Omitted: only when none is healthy."),
                }),
            ),
            "call_mode": words("Calls one after another or all at once (default sequential).", &["sequential", "parallel"]),
            "rate_limit": table(
                "Per replica token bucket; requests over it are refused at once.",
                &["rate"],
                json!({
                    "rate": { "type": "number", "exclusiveMinimum": 0, "description": "Requests per second." },
                    "burst": { "type": "number", "minimum": 1, "description": "Bucket size (default 1)." },
                }),
            ),
            "shed": table(
                "Load shedding.",
                &[],
                json!({
                    "queue_wait": duration("Drop a queued request that waited longer than this when its turn comes."),
                    "low_priority_queue": int("Refuse low-priority requests once this many wait.", 0, 100_000_000),
                }),
            ),
            "outlier_detection": table(
                "Eject replicas that fail in a row (as Envoy does).",
                &[],
                json!({
                    "consecutive_failures": int("Failed attempts in a row that eject a replica (default 5).", 1, 1_000_000),
                    "eject_for": duration("How long an ejected replica stays out (default 30s)."),
                    "max_ejected": probability("Largest share of a group ejected at once (default 0.5)."),
                    "interval": duration("How often the success-rate and failure-percentage detectors judge the last interval (default 10s)."),
                    "success_rate": table(
                        "Envoy's success-rate detector: eject below mean - stdev_factor * stdev.",
                        &[],
                        json!({
                            "stdev_factor": { "type": "number", "exclusiveMinimum": 0, "description": "Deviations below the mean (default 1.9)." },
                            "minimum_hosts": int("Replicas with enough volume for it to run (default 5).", 1, 1_000_000),
                            "request_volume": int("Attempts in the interval for a replica to count (default 100).", 1, 1_000_000),
                        }),
                    ),
                    "failure_percentage": table(
                        "Envoy's failure-percentage detector: eject at or above a failed share.",
                        &[],
                        json!({
                            "threshold": probability("Failed share that ejects (default 0.85)."),
                            "minimum_hosts": int("Replicas in the group for it to run (default 5).", 1, 1_000_000),
                            "request_volume": int("Attempts in the interval for a replica to count (default 50).", 1, 1_000_000),
                        }),
                    ),
                    "max_ejection_time": duration("Ejection time that grows with repeated ejections: eject_for x the times ejected in a row, capped here; the multiplier drops by one per interval in service (Envoy's; absent: always eject_for)."),
                }),
            ),
            "liveness": table(
                "The orchestrator's liveness probe: failed probes in a row restart a replica.",
                &[],
                json!({
                    "interval": duration("Time between probes (default 10s)."),
                    "failures": int("Failed probes in a row that restart it (default 3).", 1, 1000),
                    "timeout": duration("A probe unanswered after this fails (default 1s)."),
                    "cost": duration("Slot time of the probe's own handler (default 1ms)."),
                    "deep": names("The probe also calls these dependencies (names of the service's calls)."),
                    "restart": dist("Time out of service per restart (default fixed 10s)."),
                    "initial_delay": duration("No probe this long after a restart (default 0s)."),
                }),
            ),
        }),
    )
}

/// The schema as a JSON value.
pub fn schema() -> Value {
    let mut s = base();
    add_ops(&mut s);
    super::load::add_schema(&mut s);
    super::autoscale::schema(&mut s);
    s
}

fn base() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/nines/nines/scenario.schema.json",
        "title": "nines scenario",
        "description": "A deployment for nines to simulate: regions, services, workloads, faults, workflows and budgets.",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "name": { "type": "string", "description": "Human name (default: the file stem)." },
            "horizon": duration("Simulated time per trial (default 1y)."),
            "trials": int("Default number of trials.", 1, 1_000_000_000),
            "seed": { "type": "integer", "minimum": 0, "description": "Default master seed." },
            "entry": { "type": "string", "description": "The service whose availability is the headline." },
            "slo": {
                "description": "Availability objective, e.g. 0.9999; or a table that adds SLO windows and planned downtime: { target = 0.999, window = \"30d\", kind = \"rolling\", exclude_planned = true }.",
                "oneOf": [
                    { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "description": "The objective." },
                    table(
                        "The objective, the SLO window over which request availability is judged, and whether planned downtime counts.",
                        &["target"],
                        json!({
                            "target": { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "description": "The objective, e.g. 0.999." },
                            "window": duration("SLO window, e.g. \"30d\": the summary gives the distribution of request availability over windows of this length."),
                            "kind": words("rolling (default): windows end at every bucket boundary; calendar: back to back from the trial's start.", &["rolling", "calendar"]),
                            "exclude_planned": { "type": "boolean", "description": "Judge the SLO on the time-based availability without planned downtime (maintenance windows); default false." },
                        }),
                    ),
                ],
            },
            "objective": words("What the run is judged on (headline, slo, compare, sweep): requests served over requests, or time-based availability (default: requests when a [[workload]] exists, else time).", &["requests", "time"]),
            "estimator": { "enum": ["auto", "crude", "splitting", "regenerative"], "description": "How to estimate the availability: auto (default), crude trials, rare-event splitting, or regenerative simulation with balanced failure biasing (all-exponential models)." },
            "region": {
                "type": "array",
                "description": "Regions: a region outage takes down all it holds.",
                "items": table(
                    "A region.",
                    &["name"],
                    json!({
                        "name": { "type": "string", "description": "Unique name." },
                        "failure": dist("Time to an outage. Omitted: never fails."),
                        "repair": dist("Outage duration."),
                    }),
                ),
            },
            "service": { "type": "array", "items": service(), "description": "Services." },
            "global": table(
                "Routing between regions.",
                &[],
                json!({
                    "mode": words("How regions combine (default active-active).", &["active-active", "active-passive"]),
                    "failover": duration("Time for traffic to leave a failed region."),
                    "latency": length("Request level: added delay of a call between regions."),
                }),
            ),
            "workload": { "type": "array", "items": workload(), "description": "Request sources." },
            "fault": { "type": "array", "items": fault(), "description": "Injected faults." },
            "cascade": table(
                "How a fault's impact is judged.",
                &[],
                json!({
                    "threshold": { "type": "number", "exclusiveMinimum": 0, "maximum": 1, "description": "A service is affected when its callers' success ratio falls below this (default 0.9)." },
                    "bucket": duration("Measurement bucket (default 1s)."),
                    "settle": duration("Good buckets in a row that count as recovered (default 10s)."),
                }),
            ),
            "workflow": { "type": "array", "items": workflow(), "description": "Workflows (sagas)." },
            "limits": table(
                "Per-trial budgets; a trial over one stops with an error naming the part responsible.",
                &[],
                json!({
                    "events_per_trial": int("Events one trial may handle (default 500000000).", 1, 1_000_000_000_000),
                    "in_flight": int("Calls and jobs alive at once in one trial (default 1000000).", 1, 1_000_000_000_000),
                }),
            ),
            "deploy": { "type": "array", "items": deploy(), "description": "Rolling deploys, one per service at most." },
            "maintenance": { "type": "array", "items": maintenance(), "description": "Planned maintenance windows." },
            "alert": {
                "type": "array",
                "description": "Multi-window burn-rate alert rules, scored against each trial's request stream (needs slo.window).",
                "items": table(
                    "One rule: it fires when the burn rate over both windows reaches burn_rate.",
                    &["name", "burn_rate", "long_window", "short_window"],
                    json!({
                        "name": { "type": "string", "description": "Its name." },
                        "burn_rate": { "type": "number", "exclusiveMinimum": 0, "description": "Error rate over 1 - target that fires it, e.g. 14.4." },
                        "long_window": duration("Long window, e.g. \"1h\"."),
                        "short_window": duration("Short window, shorter than the long one, e.g. \"5m\"."),
                        "severity": { "type": "string", "description": "Free text shown beside the name (page, ticket)." },
                    }),
                ),
            },
            "request_sampling": { "enum": ["auto", "full", "windowed"], "description": "How requests over the horizon are simulated: auto (default: windowed when a trial would pass 5e7 requests and the model allows it), full (every request), windowed (transients after each change simulated, stationary configurations sampled)." },
        },
        "$defs": {
            "duration": {
                "type": "string",
                "pattern": DURATION_PATTERN,
                "description": "A duration with a unit: \"250ms\", \"30s\", \"4h\", \"10y\", \"1h30m\" (units: ns us ms s m h d w y; y = 365 d).",
            },
            "distribution": distribution(),
        },
    })
}

/// The operations keys (zones, spread, common causes, crews, spares; see
/// [`super::ops`]).
fn add_ops(s: &mut Value) {
    let failure_repair = |what: &str| {
        json!({
            "name": { "type": "string", "description": "Unique name (among all zones)." },
            "failure": dist(&format!("Time to {what}. Omitted: never fails.")),
            "repair": dist("Outage duration."),
        })
    };
    let region = &mut s["properties"]["region"]["items"]["properties"];
    region["zone"] = json!({
        "type": "array",
        "description": "Zones inside the region: a zone outage holds down the replicas placed in it.",
        "items": table("A zone.", &["name"], failure_repair("a zone outage")),
    });
    region["crews"] = int(
        "Repair crews for the replicas in this region (default: [repair] crews, else one per failure).",
        1,
        100_000,
    );
    let service = &mut s["properties"]["service"]["items"]["properties"];
    service["spread"] = words(
        "How replicas sit in their regions' zones: round-robin over them (zone) or all in the first (none, the default).",
        &["zone", "none"],
    );
    service["spares"] = table(
        "A spare pool: a failed replica takes a spare (each used one is reordered) or waits for the next to arrive.",
        &["count", "lead_time"],
        json!({
            "count": int("Spares on hand at the start.", 0, 1_000_000),
            "lead_time": length("Time for a reordered spare to arrive."),
        }),
    );
    service["repair_priority"] = int(
        "Higher is repaired first when [repair] order = \"priority\" (default 0).",
        0,
        1000,
    );
    let top = &mut s["properties"];
    top["common_cause"] = json!({
        "type": "array",
        "description": "Common-cause groups: shocks that fail replicas of several services together.",
        "items": table(
            "A shock process.",
            &["name", "every", "targets"],
            json!({
                "name": { "type": "string", "description": "Unique name." },
                "every": dist("Time between shocks."),
                "targets": { "type": "array", "items": { "type": "string" }, "minItems": 1, "description": "Services whose replicas a shock fails." },
                "probability": { "type": "number", "exclusiveMinimum": 0, "maximum": 1, "description": "Chance a shock fails one replica that is up (default 1: the beta-factor model)." },
            }),
        ),
    });
    top["repair"] = table(
        "Repair crews: repairs wait for a free crew.",
        &[],
        json!({
            "crews": int("Crews for replicas outside regions with crews of their own (default: one per failure).", 1, 100_000),
            "order": words("The order waiting repairs get a crew (default fifo).", &["fifo", "priority"]),
        }),
    );
}

/// The schema, pretty-printed.
pub fn text() -> String {
    let mut s = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    s.push('\n');
    s
}

/// `[[deploy]]` (meaning checked in `super::ops`).
fn deploy() -> Value {
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

/// `[[maintenance]]` (meaning checked in `super::ops`).
fn maintenance() -> Value {
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
