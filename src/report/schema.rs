//! A JSON Schema (draft 2020-12) of `summary.json`, printed by `nines
//! schema summary`, for scripts that parse the document and want to know
//! its shape before they rely on it.
//!
//! It mirrors [`crate::stats::Summary`] key for key, header first
//! ([`super::document`]): every object is `additionalProperties: false`
//! except the maps keyed by a name (services, regions, edges, workflows,
//! steps, faults, blast radius), whose values are strict. Keys the summary
//! omits when their part of the model is absent are optional; the rest are
//! required. `availability.relative_error`, `splitting` and
//! `requests.sampling` are optional: they are written only by the
//! estimators and sampling that produce them. The integration test `summary_schema`
//! validates the output of every example scenario against it and checks
//! that a wrong type fails.

use serde_json::{Value, json};

/// A strict object: exactly these properties, `required` among them.
fn object(description: &str, required: &[&str], properties: Value) -> Value {
    json!({
        "type": "object",
        "description": description,
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    })
}

/// An object keyed by names (services, edges, ...), each value `value`.
fn named(description: &str, value: Value) -> Value {
    json!({ "type": "object", "description": description, "additionalProperties": value })
}

fn num(description: &str) -> Value {
    json!({ "type": "number", "description": description })
}

fn share(description: &str) -> Value {
    json!({ "type": "number", "minimum": 0, "maximum": 1, "description": description })
}

fn count(description: &str) -> Value {
    json!({ "type": "integer", "minimum": 0, "description": description })
}

fn num_or_null(description: &str) -> Value {
    json!({ "type": ["number", "null"], "description": description })
}

fn def(name: &str, description: &str) -> Value {
    json!({ "$ref": format!("#/$defs/{name}"), "description": description })
}

fn defs() -> Value {
    json!({
        "ci95": {
            "type": "array", "description": "95 % interval `[low, high]`.",
            "items": { "type": "number" }, "minItems": 2, "maxItems": 2,
        },
        "open_ci95": {
            "type": "array",
            "description": "95 % interval `[low, high]`; an end is `null` where nothing bounds it.",
            "items": { "type": ["number", "null"] }, "minItems": 2, "maxItems": 2,
        },
        "estimate": object("A mean across trials with its 95 % interval.", &["mean", "ci95"], json!({
            "mean": num("Mean across trials."),
            "ci95": def("ci95", "95 % interval of the mean."),
        })),
        "latency": object("A latency distribution (seconds).", &["mean", "p50", "p90", "p99", "p999"], json!({
            "mean": num("Mean."), "p50": num("Median."), "p90": num("90th percentile."),
            "p99": num("99th percentile."), "p999": num("99.9th percentile."),
        })),
        "share": object("A share of occurrences with its Wilson interval.", &["mean", "ci95", "of"], json!({
            "mean": share("The share."),
            "ci95": def("ci95", "95 % Wilson interval."),
            "of": count("Occurrences it is a share of."),
        })),
        "nines_estimate": object(
            "An availability with its interval, in nines too.",
            &["mean", "ci95", "nines", "nines_ci95"],
            json!({
                "mean": share("Mean availability."),
                "ci95": def("ci95", "95 % interval."),
                "nines": num("`-log10(1 - mean)`."),
                "nines_ci95": def("open_ci95", "nines at the interval's ends; `null` for an unbounded end."),
                "nines_is_bound": { "type": "boolean", "description": "True when no failure was seen and `nines` is a lower bound." },
            }),
        ),
    })
}

fn header() -> Value {
    json!({
        "format": { "const": super::document::SUMMARY, "description": "The document's shape and its version." },
        "nines_version": { "type": "string", "description": "The version of nines that wrote it." },
        "overrides": object("The flags that changed the scenario.", &["set", "vary"], json!({
            "set": { "type": "array", "items": { "type": "string" }, "description": "`--set PATH=VALUE`, in order." },
            "vary": { "type": "array", "items": { "type": "string" }, "description": "`--vary PATH=SPEC`, in order." },
        })),
    })
}

fn spread() -> Value {
    object(
        "Downtime per year (seconds) across trials: mean, percentiles and their distribution-free intervals.",
        &["mean", "p50", "p90", "p99", "p50_ci95", "p90_ci95", "p99_ci95"],
        json!({
            "mean": num("Mean."), "p50": num("Median."), "p90": num("90th percentile."), "p99": num("99th percentile."),
            "p50_ci95": def("open_ci95", "95 % interval of p50 (order statistics)."),
            "p90_ci95": def("open_ci95", "95 % interval of p90."),
            "p99_ci95": def("open_ci95", "95 % interval of p99; upper end `null` with too few trials."),
        }),
    )
}

fn availability() -> Value {
    object(
        "The entry point's time-based availability.",
        &[
            "mean",
            "ci95",
            "nines",
            "nines_ci95",
            "nines_is_bound",
            "downtime_per_year_s",
            "downtime_per_trial_s",
            "incidents_per_year",
            "incidents_per_trial",
            "mean_time_to_recover_s",
            "mean_traffic_lost_per_incident_s",
            "longest_outage_s",
            "trials_with_downtime",
        ],
        json!({
            "mean": share("Mean availability."),
            "ci95": def("ci95", "95 % interval."),
            "nines": num("`-log10(1 - mean)`; with no downtime seen, the lower bound the trials support."),
            "nines_ci95": def("open_ci95", "nines at the interval's ends; `null` for an unbounded upper end."),
            "nines_is_bound": { "type": "boolean", "description": "True when no downtime was seen and `nines` is a lower bound." },
            "analytic": share("Closed-form availability, where one exists."),
            "relative_error": num("Student t half-width (t s/sqrt(n)) of the replications' mean unavailability over that mean: the precision splitting aims at; ci95 may be wider and asymmetric when the replications are skewed (splitting)."),
            "downtime_per_year_s": spread(),
            "downtime_per_trial_s": spread(),
            "incidents_per_year": def("estimate", "Incidents of the entry per year."),
            "incidents_per_trial": def("estimate", "Incidents of the entry per trial."),
            "mean_time_to_recover_s": num_or_null("Mean length of an incident; `null` with none."),
            "mean_traffic_lost_per_incident_s": num_or_null("Traffic-weighted downtime per incident; `null` with none."),
            "longest_outage_s": num("Longest incident in any trial."),
            "trials_with_downtime": count("Trials that saw any downtime."),
        }),
    )
}

fn service() -> Value {
    let requests = object(
        "Requests at this service (request level).",
        &[
            "received",
            "success_ratio",
            "shed",
            "shed_wait",
            "rate_limited",
            "ejections",
        ],
        json!({
            "received": count("Requests that reached a replica."),
            "success_ratio": def("estimate", "Successes / requests received."),
            "shed": count("Requests refused by a full queue."),
            "shed_wait": count("Queued requests dropped after waiting too long."),
            "rate_limited": count("Requests refused by the rate limiter."),
            "ejections": count("Replicas ejected by outlier detection."),
            "probes": object(
                "Probes sent as requests (with a request readiness probe or liveness).",
                &["sent", "failed"],
                json!({
                    "sent": count("Readiness and liveness probes sent."),
                    "failed": count("Probes that failed: refused, timed out, or a deep call failed."),
                }),
            ),
            "restarts": count("Replicas restarted by their liveness probe (with liveness)."),
            "ejections_by_detector": object(
                "Ejections by detector (with success_rate or failure_percentage).",
                &["consecutive", "success_rate", "failure_percentage"],
                json!({
                    "consecutive": count("By failed attempts in a row."),
                    "success_rate": count("By the success-rate detector."),
                    "failure_percentage": count("By the failure-percentage detector."),
                }),
            ),
            "autoscale": super::autoscale::schema(),
            "cold_start": super::observe::cold_start_schema(),
        }),
    );
    object(
        "One service.",
        &["availability", "own_availability", "downtime_share"],
        json!({
            "availability": def("estimate", "Availability including everything it requires."),
            "own_availability": def("estimate", "Availability by its own topology rule alone."),
            "downtime_share": num("Share of the entry's downtime during which its own rule was broken."),
            "requests": requests,
        }),
    )
}

fn requests() -> Value {
    object(
        "Request-level figures at the entry (with workloads).",
        &[
            "total",
            "success_ratio",
            "degraded_ratio",
            "degraded_ratio_ci95",
            "failed_ratio",
            "attempts_per_request",
            "latency_s",
            "latency_served_s",
            "availability",
        ],
        json!({
            "total": count("Requests concluded in all trials."),
            "success_ratio": def("estimate", "Full successes / requests."),
            "degraded_ratio": share("Fallbacks / requests."),
            "degraded_ratio_ci95": def("ci95", "95 % interval of degraded_ratio."),
            "failed_ratio": def("estimate", "Failures / requests."),
            "attempts_per_request": num("Attempts at the entry service / requests."),
            "latency_s": def("latency", "Latency of every concluded request, failed ones included."),
            "latency_served_s": def("latency", "Latency of served requests (success or degraded)."),
            "availability": def("nines_estimate", "(success + degraded) / requests, per trial, across trials."),
            "sampling": {
                "type": ["string", "object"],
                "description": "Which request sampling ran: \"full\" or \"windowed\" (absent when request_sampling was left unset and every request was simulated).",
            },
            "windowed": object(
                "What windowed request sampling did (windowed runs only); the request counts are then estimates.",
                &["share_simulated", "simulated_requests", "windows", "windows_per_trial", "metastable_windows", "configurations_per_trial", "window_s_per_trial", "configurations_sampled", "sample_requests", "sampling_error"],
                json!({
                    "share_simulated": num("Entry requests simulated (windows, samples, warm-ups) / requests estimated."),
                    "simulated_requests": count("Entry requests simulated, all trials."),
                    "windows": count("Transient windows simulated, all trials."),
                    "windows_per_trial": num("Mean windows per trial."),
                    "metastable_windows": count("Windows that never settled and ran to the horizon."),
                    "configurations_per_trial": num("Mean configurations used per trial."),
                    "window_s_per_trial": num("Mean horizon seconds per trial covered by windows."),
                    "configurations_sampled": count("Stationary samples drawn for the run: one per configuration (up to a permutation of identical replicas), shared by every trial."),
                    "sample_requests": count("Entry requests the shared stationary samples simulated (part of simulated_requests)."),
                    "sampling_error": num("Standard error the shared stationary samples add to the mean request availability; inside requests.availability.ci95."),
                    "interpolation_bias": num("With a diurnal swing: the bound on the bias interpolating between rate levels leaves in the mean request shares; added to the half-width of requests.availability.ci95 and the shares' intervals."),
                }),
            ),
        }),
    )
}

fn edge() -> Value {
    object(
        "One call edge, totals over all trials.",
        &[
            "calls",
            "attempts",
            "retries",
            "timeouts",
            "errors",
            "server_errors",
            "refused",
            "breaker_rejected",
            "breaker_open_fraction",
            "bulkhead_rejected",
            "bulkhead_peak",
            "fallbacks",
            "failed",
            "attempts_per_call",
            "success_ratio",
        ],
        json!({
            "calls": count("Original calls."),
            "attempts": count("Attempts sent to a replica."),
            "retries": count("Retries scheduled."),
            "timeouts": count("Attempts that timed out."),
            "errors": count("Attempts answered with an error, refused or reset (server_errors + refused)."),
            "server_errors": count("Attempts the callee answered with an error."),
            "refused": count("Attempts refused, reset or unreachable."),
            "breaker_rejected": count("Attempts the circuit breaker rejected."),
            "breaker_open_fraction": share("Fraction of time the breaker was open."),
            "bulkhead_rejected": count("Attempts the bulkhead rejected."),
            "bulkhead_peak": count("Most calls running at once in the bulkhead."),
            "fallbacks": count("Calls that ended in their fallback."),
            "failed": count("Calls that failed."),
            "attempts_per_call": num("Attempts per call."),
            "success_ratio": share("Calls that succeeded / calls."),
            "hedge": object(
                "Hedged requests (only where `hedge` is configured).",
                &["sent", "won", "cancelled", "budget_refused", "per_call"],
                json!({
                    "sent": count("Hedges sent."),
                    "won": count("Hedges whose answer came first."),
                    "cancelled": count("Losing copies cancelled."),
                    "budget_refused": count("Hedges the hedge budget refused."),
                    "per_call": num("Hedges sent per call."),
                }),
            ),
            "retry_concurrency": object(
                "The retry budget by concurrency (only where configured).",
                &["refused", "peak_in_flight"],
                json!({
                    "refused": count("Retries it refused."),
                    "peak_in_flight": count("Most retries in flight at once, in any trial."),
                }),
            ),
            "bulkhead": object(
                "The bulkhead's books (only where a bulkhead is configured).",
                &[
                    "accepted",
                    "rejected",
                    "peak_in_use",
                    "peak_waiting",
                    "queued",
                    "mean_wait_s",
                    "wait_p50_s",
                    "wait_p90_s",
                    "wait_p99_s",
                    "wait_max_s",
                ],
                json!({
                    "accepted": count("Calls let run, at once or from the queue."),
                    "rejected": count("Calls turned away (full) or abandoned while waiting."),
                    "peak_in_use": count("Most calls running at once, in any trial."),
                    "peak_waiting": count("Most calls waiting at once, in any trial."),
                    "queued": count("Calls that waited in the queue and were then let in."),
                    "mean_wait_s": num("Their mean wait, seconds."),
                    "wait_p50_s": num("Median of their waits, seconds (0 with none; calls that left the queue without running are not included)."),
                    "wait_p90_s": num("90th percentile of their waits, seconds (0 with none)."),
                    "wait_p99_s": num("99th percentile of their waits, seconds (0 with none)."),
                    "wait_max_s": num("Their longest wait, seconds (0 with none)."),
                    "queue_timeouts": count("Calls that left the queue without running because a timeout fired while they waited (only with queue_timeout); each is also in rejected."),
                    "queue_timeout_mean_wait_s": num("Their mean wait, seconds (0 with none; only with queue_timeout)."),
                    "queue_timeout_wait_p50_s": num("Median of their waits, seconds (0 with none; only with queue_timeout)."),
                    "queue_timeout_wait_p90_s": num("90th percentile of their waits, seconds (0 with none; only with queue_timeout)."),
                    "queue_timeout_wait_p99_s": num("99th percentile of their waits, seconds (0 with none; only with queue_timeout)."),
                    "queue_timeout_wait_max_s": num("Their longest wait, seconds (0 with none; only with queue_timeout)."),
                }),
            ),
            "cache": super::observe::cache_schema(),
        }),
    )
}

fn workflow() -> Value {
    let step = object(
        "One step of the saga.",
        &["failed", "failed_ratio", "compensations", "compensations_gave_up"],
        json!({
            "failed": count("Sagas that failed at this step."),
            "failed_ratio": def("estimate", "Failed here / ended."),
            "compensations": count("Compensations run for this step."),
            "compensations_gave_up": count("Compensations that gave up."),
        }),
    );
    let window = object(
        "Time from a step's effect to its compensation's success (seconds).",
        &["count", "mean", "p50", "p99"],
        json!({
            "count": count("Windows measured."), "mean": num("Mean."),
            "p50": num("Median."), "p99": num("99th percentile."),
        }),
    );
    object(
        "One workflow (saga).",
        &[
            "started",
            "sagas",
            "completed",
            "compensated",
            "stuck",
            "completed_ratio",
            "compensated_ratio",
            "stuck_ratio",
            "steps",
            "completed_latency_s",
            "compensated_latency_s",
            "inconsistency_window_s",
        ],
        json!({
            "started": count("Sagas started."),
            "sagas": count("Sagas that ended."),
            "completed": count("Sagas whose every step succeeded."),
            "compensated": count("Sagas rolled back cleanly."),
            "stuck": count("Sagas left with a partial effect."),
            "completed_ratio": def("estimate", "Completed / ended."),
            "compensated_ratio": def("estimate", "Compensated / ended."),
            "stuck_ratio": def("estimate", "Stuck / ended."),
            "steps": named("Per step, in order.", step),
            "completed_latency_s": def("latency", "Duration of completed sagas."),
            "compensated_latency_s": def("latency", "Duration of compensated sagas."),
            "inconsistency_window_s": window,
        }),
    )
}

fn slo() -> Value {
    object(
        "Whether the design meets its availability objective.",
        &[
            "target",
            "metric",
            "meets",
            "confidence",
            "error_budget_per_year_s",
            "expected_downtime_per_year_s",
            "budget_left_per_year_s",
            "years_within_budget",
        ],
        json!({
            "target": share("The objective."),
            "metric": { "enum": ["requests", "time"], "description": "What it is judged on (the objective)." },
            "failed_requests": share("Share of requests that failed (request objective)."),
            "meets": { "type": "boolean", "description": "The whole 95 % interval is at or above it." },
            "confidence": share("Confidence that the long-run availability is at or above it."),
            "error_budget_per_year_s": num("Downtime a year the objective allows."),
            "expected_downtime_per_year_s": num("Mean downtime a year."),
            "budget_left_per_year_s": num("Budget left a year (negative when overspent)."),
            "years_within_budget": share("Share of simulated years within the budget."),
            "excludes_planned": { "const": true, "description": "Present when planned downtime was left out of the verdict (`slo.exclude_planned`)." },
        }),
    )
}

fn fault() -> Value {
    object(
        "One injected fault.",
        &[
            "kind",
            "target",
            "occurrences_per_trial",
            "active_s_per_trial",
            "success_ratio_during",
            "detected",
            "time_to_detect_s",
            "recovered",
            "metastable",
            "time_to_recover_s",
            "time_to_recover_max_s",
        ],
        json!({
            "kind": { "type": "string", "description": "The kind of fault." },
            "target": { "type": "string", "description": "What it hit, as written." },
            "occurrences_per_trial": num("Occurrences per trial."),
            "active_s_per_trial": num("Time active per trial."),
            "success_ratio_during": {
                "oneOf": [{ "$ref": "#/$defs/estimate" }, { "type": "null" }],
                "description": "Entry success ratio while active; `null` without requests then.",
            },
            "blast_radius": named("Per service: share of occurrences that cascaded to its callers.", share("Share.")),
            "detected": { "oneOf": [{ "$ref": "#/$defs/share" }, { "type": "null" }], "description": "Share a defence reacted to." },
            "time_to_detect_s": num_or_null("Mean time to the first reaction."),
            "recovered": { "oneOf": [{ "$ref": "#/$defs/share" }, { "type": "null" }], "description": "Share that recovered." },
            "metastable": { "type": ["number", "null"], "minimum": 0, "maximum": 1, "description": "Share that never recovered." },
            "time_to_recover_s": num_or_null("Mean time from the fault's end to recovery."),
            "time_to_recover_max_s": num_or_null("Longest time to recover."),
        }),
    )
}

fn precision() -> Value {
    object(
        "The outcome of a run to a precision target.",
        &["target", "achieved", "reached", "batch", "max_trials"],
        json!({
            "target": num("Asked width of the 95 % interval on nines."),
            "achieved": num_or_null("Width reached; `null` while unbounded."),
            "reached": { "type": "boolean", "description": "achieved <= target." },
            "batch": count("Trials per batch."),
            "max_trials": count("The trial cap."),
        }),
    )
}

/// `slo_windows` (with `slo.window`).
fn slo_windows() -> Value {
    object(
        "Request availability over SLO windows (slo.window only).",
        &[
            "target",
            "window_s",
            "kind",
            "bucket_s",
            "windows",
            "meeting",
            "budget_consumed",
            "worst",
        ],
        json!({
            "target": share("The objective on requests."),
            "window_s": num("Window length (seconds)."),
            "kind": { "enum": ["rolling", "calendar"], "description": "Rolling windows end at every bucket boundary; calendar ones are back to back from the trial's start." },
            "bucket_s": num("Width of the request series' buckets (seconds)."),
            "windows": count("Windows judged in all trials."),
            "meeting": def("estimate", "Share of windows whose request availability met the objective (per trial, then Student t across trials)."),
            "budget_consumed": object("Error budget consumed per window (1 = all of it).", &["mean", "ci95", "p50", "p90", "p99"], json!({
                "mean": num("Mean across trials of each trial's mean over its windows."),
                "ci95": def("ci95", "95 % interval of the mean."),
                "p50": num("Median window (every window of every trial)."),
                "p90": num("90th percentile."),
                "p99": num("99th percentile."),
            })),
            "worst": {
                "oneOf": [
                    object("The window with the lowest request availability.", &["availability", "budget_consumed", "trial", "end_s"], json!({
                        "availability": share("Its request availability."),
                        "budget_consumed": num("Its budget consumed."),
                        "trial": count("The trial it was in."),
                        "end_s": num("When it ended (seconds into the trial)."),
                    })),
                    { "type": "null" },
                ],
                "description": "The worst window; `null` without windows.",
            },
        }),
    )
}

/// One alert rule's scores.
fn alert_rule(description: &str) -> Value {
    let optional_estimate = |d: &str| json!({ "oneOf": [def("estimate", d), { "type": "null" }], "description": d });
    object(
        description,
        &[
            "burn_rate",
            "long_window_s",
            "short_window_s",
            "incidents",
            "detected",
            "missed",
            "detection_s",
            "budget_before_alert",
            "reset_s",
            "unreset",
            "alerts",
            "false_alerts",
            "false_alerts_per_month",
        ],
        json!({
            "burn_rate": num_or_null("Burn rate threshold; `null` for every rule together."),
            "long_window_s": num_or_null("Long window (seconds)."),
            "short_window_s": num_or_null("Short window (seconds)."),
            "severity": { "type": "string", "description": "severity as written." },
            "incidents": count("Incidents in all trials."),
            "detected": count("Incidents the rule detected."),
            "missed": optional_estimate("Share of incidents missed (ratio of sums across trials, cluster interval); `null` without incidents."),
            "detection_s": {
                "oneOf": [
                    object("Detection time after an incident starts (seconds).", &["mean", "ci95", "p50", "p90"], json!({
                        "mean": num("Mean over detected incidents."),
                        "ci95": def("ci95", "95 % interval (ratio of sums across trials)."),
                        "p50": num("Median."),
                        "p90": num("90th percentile."),
                    })),
                    { "type": "null" },
                ],
                "description": "`null` when no incident was detected.",
            },
            "budget_before_alert": optional_estimate("Share of one window's budget the incident spent before the alert fired."),
            "reset_s": optional_estimate("From the incident's end to the first evaluation at which the alert no longer fires (seconds)."),
            "unreset": count("Detected incidents whose alert still fired at the horizon."),
            "alerts": count("Alerts (runs of firing evaluations) in all trials."),
            "false_alerts": count("Alerts with no incident."),
            "false_alerts_per_month": def("estimate", "False alerts per 30 days (per trial, then Student t across trials)."),
        }),
    )
}

/// `alerts` (with `[[alert]]`).
fn alerts() -> Value {
    object(
        "Alert rules scored against the simulated incidents ([[alert]] only).",
        &["incident_budget", "incidents_per_trial", "rules"],
        json!({
            "incident_budget": num("Least share of a window's budget an incident spends: the most sensitive rule's burn rate x long window / SLO window."),
            "incidents_per_trial": num("Incidents per trial."),
            "rules": named("Per rule, in file order.", alert_rule("One rule's scores.")),
            "any": alert_rule("Every rule together: an incident is detected by the first rule to fire (two rules or more)."),
        }),
    )
}

/// The schema as a JSON value.
pub fn schema() -> Value {
    let mut properties = header();
    let body = json!({
        "scenario": { "type": "string", "description": "Scenario name." },
        "seed": count("Master seed."),
        "trials": count("Trials run."),
        "horizon_s": num("Simulated time per trial (seconds)."),
        "entry": { "type": "string", "description": "Entry service." },
        "objective": { "enum": ["requests", "time"], "description": "What the headline, slo, compare and sweep use." },
        "estimator": { "enum": ["crude", "splitting", "regenerative"], "description": "How availability was estimated." },
        "availability": availability(),
        "services": named("Per service, in scenario order.", service()),
        "regions": named("Per region, in scenario order.", object(
            "One region.",
            &["availability", "downtime_share"],
            json!({
                "availability": def("estimate", "Fraction of time the region was up."),
                "downtime_share": num("Share of the entry's downtime during which it was down."),
            }),
        )),
        "requests": requests(),
        "edges": named("Per call edge `FROM->TO`.", edge()),
        "workflows": named("Per workflow, in scenario order.", workflow()),
        "slo": slo(),
        "faults": named("Per injected fault, in scenario order.", fault()),
        "worst_trial": {
            "oneOf": [
                object("The trial with the most downtime.", &["trial", "downtime_s"], json!({
                    "trial": count("Trial index."),
                    "downtime_s": num("Its entry downtime (seconds)."),
                })),
                { "type": "null" },
            ],
            "description": "The trial with the most downtime; `null` when none had any.",
        },
        "events": count("Events simulated in all trials."),
        "precision": precision(),
        "splitting": object(
            "What the splitting estimator did (estimator = splitting only).",
            &["reason", "replications", "levels", "factors", "pilots", "warmup_s", "window_s", "events", "copies"],
            json!({
                "reason": { "type": "string", "description": "Why it ran rather than crude trials." },
                "replications": count("Independent replications behind the interval."),
                "levels": count("Levels up to an outage (the last is the outage)."),
                "factors": { "type": "array", "items": { "type": "integer", "minimum": 0 }, "description": "Copies a trajectory becomes on entering each level, from level 1." },
                "pilots": count("Pilot runs that chose the factors."),
                "warmup_s": num("Simulated time before each replication's window."),
                "window_s": num("Each replication's window."),
                "events": count("Events in the replications (pilots excluded)."),
                "copies": count("Trajectory copies made in the replications."),
            }),
        ),
        "regenerative": object(
            "What the regenerative estimator did (estimator = regenerative only).",
            &["reason", "cycles", "outage_cycles", "events", "mean_cycle_s", "bias"],
            json!({
                "reason": { "type": "string", "description": "Why it ran rather than crude trials." },
                "cycles": count("Independent regenerative cycles (all-up back to all-up)."),
                "outage_cycles": count("Cycles that reached an outage of the entry."),
                "events": count("Transitions over all cycles."),
                "mean_cycle_s": num("Mean weighted cycle length (seconds)."),
                "bias": num("Total probability given to failures before a cycle's first outage."),
            }),
        ),
        "partial": { "const": true, "description": "Present when the run was interrupted." },
        "slo_windows": slo_windows(),
        "alerts": alerts(),
        "operations": operations(),
    });
    if let (Some(p), Value::Object(b)) = (properties.as_object_mut(), body) {
        p.extend(b);
    }
    let mut doc = object(
        "summary.json, as written by `nines run` and `nines merge`.",
        &[
            "format",
            "nines_version",
            "overrides",
            "scenario",
            "seed",
            "trials",
            "horizon_s",
            "entry",
            "objective",
            "estimator",
            "availability",
            "services",
            "worst_trial",
            "events",
        ],
        properties,
    );
    doc["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    doc["$id"] = json!("https://github.com/nines-sim/nines/summary.schema.json");
    doc["title"] = json!("nines summary.json");
    doc["$defs"] = defs();
    doc
}

/// The schema as pretty-printed, newline-terminated text.
pub fn text() -> String {
    let mut s = serde_json::to_string_pretty(&schema()).expect("a JSON value always serialises");
    s.push('\n');
    s
}

/// `operations`: deploys and maintenance windows.
fn operations() -> Value {
    object(
        "Deploys and maintenance windows (omitted without them).",
        &[
            "planned_downtime_per_year_s",
            "unplanned_downtime_per_year_s",
            "unplanned_availability",
            "unplanned_nines",
        ],
        json!({
            "planned_downtime_per_year_s": def("estimate", "Entry downtime a year while a maintenance window was open."),
            "unplanned_downtime_per_year_s": def("estimate", "The rest of the entry's downtime a year (deploys included)."),
            "unplanned_availability": def("estimate", "Entry availability with planned downtime left out."),
            "unplanned_nines": num_or_null("Its nines; null when no trial had unplanned downtime."),
            "deploys": named("Per deploy, by service name.", object(
                "What one deploy did across trials.",
                &["rolls", "rolls_per_trial", "skipped", "bad", "caught_by_canary", "caught_by_alert", "bad_release_serving_s", "downtime_per_year_s"],
                json!({
                    "rolls": count("Rolls started, all trials."),
                    "rolls_per_trial": num("Rolls per trial."),
                    "skipped": count("Deploys skipped because the previous roll was under way."),
                    "bad": count("Rolls of a bad release."),
                    "caught_by_canary": count("Bad releases caught by the canary's analysis."),
                    "caught_by_alert": count("Bad releases caught by alerting."),
                    "bad_release_serving_s": num_or_null("Mean time a bad release served (null without one)."),
                    "downtime_per_year_s": def("estimate", "Entry downtime a year while its rolls were under way."),
                }),
            )),
        }),
    )
}
