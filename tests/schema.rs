//! `nines schema`, `completions` and `man`: the schema matches the raw
//! structs key for key (read from the field lists serde derives, so a key
//! added to `raw.rs` alone fails here), accepts every shipped scenario and a
//! file using every key, and rejects what `nines check` rejects for form.

use std::collections::BTreeSet;

use nines::scenario::raw::*;
use serde::Deserialize;
use serde::de::{self, Visitor};
use serde_json::Value;

use crate::util::Dir;

/// A deserializer that records the field list a derived `Deserialize`
/// passes to `deserialize_struct`, then stops.
struct Grab<'a>(&'a mut Vec<&'static str>);

impl<'de> de::Deserializer<'de> for Grab<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.extend_from_slice(fields);
        Err(de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

fn fields<T: for<'de> Deserialize<'de>>() -> BTreeSet<String> {
    let mut out = Vec::new();
    let _ = T::deserialize(Grab(&mut out));
    assert!(!out.is_empty(), "no field list recorded");
    out.into_iter().map(String::from).collect()
}

fn schema() -> Value {
    nines::scenario::schema::schema()
}

fn at<'a>(schema: &'a Value, pointer: &str) -> &'a Value {
    schema
        .pointer(pointer)
        .unwrap_or_else(|| panic!("schema has no {pointer}"))
}

fn props(schema: &Value, pointer: &str) -> BTreeSet<String> {
    at(schema, pointer)["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{pointer} has no properties"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn schema_has_every_key_of_the_raw_structs_and_no_other() {
    let s = schema();
    let svc = "/properties/service/items";
    let call = "/properties/service/items/properties/call/items";
    let wl = "/properties/workload/items";
    let cases: Vec<(&str, BTreeSet<String>, Vec<String>)> = vec![
        ("RawScenario", fields::<RawScenario>(), vec![String::new()]),
        (
            "RawRegion",
            fields::<RawRegion>(),
            vec!["/properties/region/items".into()],
        ),
        ("RawService", fields::<RawService>(), vec![svc.into()]),
        ("RawCall", fields::<RawCall>(), vec![call.into()]),
        ("RawWorkload", fields::<RawWorkload>(), vec![wl.into()]),
        (
            "RawHealthCheck",
            fields::<RawHealthCheck>(),
            vec![format!("{svc}/properties/health_check")],
        ),
        (
            "RawFailover",
            fields::<RawFailover>(),
            vec![format!("{svc}/properties/failover")],
        ),
        (
            "RawDiurnal",
            fields::<RawDiurnal>(),
            vec![format!("{wl}/properties/diurnal")],
        ),
        (
            "RawBurst",
            fields::<RawBurst>(),
            vec![format!("{wl}/properties/burst/items")],
        ),
        ("RawGlobal", fields::<RawGlobal>(), vec!["/properties/global".into()]),
        ("RawLimits", fields::<RawLimits>(), vec!["/properties/limits".into()]),
        (
            "RawSloTable",
            fields::<RawSloTable>(),
            vec!["/properties/slo/oneOf/1".into()],
        ),
        ("RawAlert", fields::<RawAlert>(), vec!["/properties/alert/items".into()]),
        ("RawFault", fields::<RawFault>(), vec!["/properties/fault/items".into()]),
        ("RawCascade", fields::<RawCascade>(), vec!["/properties/cascade".into()]),
        (
            "RawRateLimit",
            fields::<RawRateLimit>(),
            vec![format!("{svc}/properties/rate_limit")],
        ),
        ("RawShed", fields::<RawShed>(), vec![format!("{svc}/properties/shed")]),
        (
            "RawOutlier",
            fields::<RawOutlier>(),
            vec![format!("{svc}/properties/outlier_detection")],
        ),
        (
            "RawWorkflow",
            fields::<RawWorkflow>(),
            vec!["/properties/workflow/items".into()],
        ),
        (
            "RawStep",
            fields::<RawStep>(),
            vec!["/properties/workflow/items/properties/step/items".into()],
        ),
        (
            "RawCompensation",
            fields::<RawCompensation>(),
            vec!["/properties/workflow/items/properties/step/items/properties/compensation".into()],
        ),
        (
            "RawRetry",
            fields::<RawRetry>(),
            vec![format!("{call}/properties/retry"), format!("{wl}/properties/retry")],
        ),
        (
            "RawBudget",
            fields::<RawBudget>(),
            vec![
                format!("{call}/properties/retry/properties/budget"),
                format!("{wl}/properties/retry/properties/budget"),
            ],
        ),
        (
            "RawBreaker",
            fields::<RawBreaker>(),
            vec![
                format!("{call}/properties/circuit_breaker"),
                format!("{wl}/properties/circuit_breaker"),
            ],
        ),
        (
            "RawBulkhead",
            fields::<RawBulkhead>(),
            vec![
                format!("{call}/properties/bulkhead"),
                format!("{wl}/properties/bulkhead"),
            ],
        ),
        (
            "RawLiveness",
            fields::<RawLiveness>(),
            vec![format!("{svc}/properties/liveness")],
        ),
        (
            "RawSuccessRate",
            fields::<RawSuccessRate>(),
            vec![format!("{svc}/properties/outlier_detection/properties/success_rate")],
        ),
        (
            "RawFailurePercentage",
            fields::<RawFailurePercentage>(),
            vec![format!(
                "{svc}/properties/outlier_detection/properties/failure_percentage"
            )],
        ),
        (
            "RawZone",
            fields::<RawZone>(),
            vec!["/properties/region/items/properties/zone/items".into()],
        ),
        (
            "RawCommonCause",
            fields::<RawCommonCause>(),
            vec!["/properties/common_cause/items".into()],
        ),
        ("RawRepair", fields::<RawRepair>(), vec!["/properties/repair".into()]),
        (
            "RawSpares",
            fields::<RawSpares>(),
            vec![format!("{svc}/properties/spares")],
        ),
        (
            "RawSlowdown",
            fields::<RawSlowdown>(),
            vec![format!("{svc}/properties/slowdown")],
        ),
        (
            "RawColdStart",
            fields::<RawColdStart>(),
            vec![format!("{svc}/properties/cold_start")],
        ),
        (
            "RawCache",
            fields::<RawCache>(),
            vec![format!("{call}/properties/cache")],
        ),
    ];
    for (name, want, pointers) in &cases {
        let mut want = want.clone();
        if matches!(*name, "RawStep" | "RawCompensation") {
            // Parsed only to be rejected with a clear message.
            want.remove("fallback");
        }
        for p in pointers {
            assert_eq!(props(&s, p), want, "{name} at `{p}`");
        }
    }
    // A distribution's keys are spread over its families.
    let mut dist = BTreeSet::new();
    for family in at(&s, "/$defs/distribution/oneOf").as_array().unwrap() {
        dist.extend(family["properties"].as_object().unwrap().keys().cloned());
    }
    assert_eq!(dist, fields::<RawDist>(), "RawDist");
}

/// Every table of the schema forbids keys it does not list.
#[test]
fn every_table_of_the_schema_is_closed() {
    fn walk(v: &Value, path: &str, tables: &mut usize) {
        match v {
            Value::Object(map) => {
                if map.contains_key("properties") {
                    *tables += 1;
                    assert_eq!(map.get("additionalProperties"), Some(&Value::Bool(false)), "{path}");
                }
                for (k, child) in map {
                    walk(child, &format!("{path}/{k}"), tables);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{path}/{i}"), tables);
                }
            }
            _ => {}
        }
    }
    let mut tables = 0;
    walk(&schema(), "", &mut tables);
    assert!(tables >= 20, "only {tables} tables found");
    assert!(jsonschema::meta::is_valid(&schema()), "not a valid JSON Schema");
}

fn toml_to_json(text: &str) -> Value {
    toml::from_str::<Value>(text).expect("TOML")
}

fn errors(instance: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn every_shipped_scenario_validates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let errs = errors(&toml_to_json(&text));
            assert!(errs.is_empty(), "{}: {errs:#?}", path.display());
            n += 1;
        }
    }
    assert!(n >= 5, "only {n} scenarios found");
}

/// A valid scenario that sets every key the format has (each distribution
/// family once, both breaker kinds, both client tables).
const EVERY_KEY: &str = r#"
name = "every key"
horizon = "1d"
trials = 2
seed = 7
entry = "api"
slo = { target = 0.999, window = "12h", kind = "calendar" }
objective = "requests"
estimator = "crude"
request_sampling = "full"

[[alert]]
name = "fast"
burn_rate = 14.4
long_window = "1h"
short_window = "5m"
severity = "page"

[limits]
events_per_trial = 10_000_000
in_flight = 100_000

[global]
mode = "active-passive"
failover = "5m"
latency = "40ms"

[cascade]
threshold = 0.8
bucket = "2s"
settle = "20s"

[[region]]
name = "eu"
failure = { dist = "weibull", shape = 1.5, mean = "1y" }
repair = { dist = "lognormal", mean = "4h", cv = 0.5 }
crews = 2

[[region.zone]]
name = "eu-a"
failure = { mean = "2000h" }
repair = { mean = "4h" }

[[region]]
name = "us"
failure = { dist = "gamma", shape = 2.0, mean = "1y" }
repair = { dist = "uniform", min = "1h", max = "3h" }

[[region.zone]]
name = "us-a"

[repair]
crews = 1
order = "priority"

[[common_cause]]
name = "bad-push"
every = { mean = "1y" }
targets = ["api"]
probability = 0.5

[[workload]]
name = "users"
to = "api"
rate = 5
arrival = "constant"
diurnal = { amplitude = 0.5, period = "24h", peak = "14h" }
timeout = "2s"
deadline = "5s"
retry = { max_attempts = 2, backoff = "decorrelated", base = "10ms", max_delay = "1s", jitter = "equal", retry_on = ["timeout", "error"], budget = { ratio = 0.1, burst = 5 } }
circuit_breaker = { window = "time", size = "10s", failure_rate = 0.5, min_calls = 5, slow_call = "1s", slow_call_rate = 0.8, open_for = "30s", half_open_calls = 2, success_threshold = 2 }
bulkhead = { max_concurrent = 50, max_queue = 10, queue_timeout = "1s" }
fallback = false
cancel_on_timeout = true
hedge = { delay = "50ms", cancel = false, budget = { ratio = 0.1, burst = 5 } }
order = ["timeout", "retry", "breaker", "bulkhead"]

[[workload.burst]]
at = "1h"
duration = "10m"
factor = 2.0

[[workload]]
name = "orders"
workflow = "order"
rate = 1
priority = "low"
region = "eu"

[[workflow]]
name = "order"
deadline = "1m"

[[workflow.step]]
name = "reserve"
to = "db"
timeout = "1s"
compensation = { to = "db", timeout = "1s", deadline = "5s", retry = { max_attempts = 3 }, circuit_breaker = { failure_threshold = 5 }, bulkhead = { max_concurrent = 4 }, cancel_on_timeout = false, order = ["breaker", "retry", "timeout", "bulkhead"] }
order = ["retry", "timeout", "bulkhead", "breaker"]

[[workflow.step]]
name = "charge"
to = "api"
pivot = true

[[fault]]
name = "slow db"
kind = "latency"
target = "db"
at = "1h"
duration = { mean = "1m" }
latency = { mean = "100ms" }

[[fault]]
kind = "errors"
target = "api"
every = { mean = "6h" }
duration = "5m"
error_rate = 0.5

[[fault]]
kind = "capacity"
target = "api"
duration = "1m"
capacity = 0.5

[[fault]]
kind = "clock_skew"
target = "api"
duration = "1m"
skew = "-100ms"

[[service]]
name = "api"
topology = "active-active"
replicas = 2
min_healthy = 1
regions = ["eu", "us"]
failure = { dist = "fixed", mean = "1000h" }
repair = { dist = "empirical", values = ["1h", "2h"] }
concurrency = 8
queue = 16
service_time = { mean = "5ms" }
error_rate = 0.001
load_balancer = "least-outstanding"
health_check = { interval = "5s", unhealthy = 2, healthy = 1, timeout = "1s", cost = "1ms", deep = ["db"], panic_threshold = 0.5 }
call_mode = "parallel"
rate_limit = { rate = 100, burst = 10 }
shed = { queue_wait = "1s", low_priority_queue = 4 }
outlier_detection = { consecutive_failures = 5, eject_for = "30s", max_ejected = 0.5, interval = "10s", success_rate = { stdev_factor = 1.9, minimum_hosts = 2, request_volume = 10 }, failure_percentage = { threshold = 0.85, minimum_hosts = 2, request_volume = 10 }, max_ejection_time = "300s" }
liveness = { interval = "10s", failures = 3, timeout = "1s", cost = "1ms", deep = ["db"], restart = { mean = "20s" }, initial_delay = "5s" }
spread = "zone"
spares = { count = 1, lead_time = "3d" }
repair_priority = 2
slowdown = { by = "utilisation", curve = [[0.5, 1.0], [1.0, 3.0]] }
cold_start = { factor = 3.0, duration = "1m", decay = "step" }
gc_pause = { rate = 0.1, busy_rate = 2.0, pause = { mean = "200ms" } }

[[service.call]]
to = "worker"

[[service.call]]
to = "db"
fallback = true
timeout = "100ms"
deadline = "1s"
retry = { max_attempts = 3, concurrency_budget = { percent = 20.0, min_retry_concurrency = 3 } }
circuit_breaker = { failure_threshold = 5, open_backoff = { multiplier = 2.0, max = "5m" }, half_open_max_wait = "10s", half_open_expiry = "close" }
bulkhead = { max_concurrent = 4 }
cancel_on_timeout = false
hedge = { quantile = 0.95, window = 50 }
cache = { hit_rate = 0.9, warmup = "5m", fill = "exponential" }
order = ["bulkhead", "breaker", "retry", "timeout"]

[[service]]
name = "db"
topology = "active-passive"
replicas = 2
standby = "cold"
failover = { detect = "30s", switch = "1m", success = 0.99 }
failure = { mean = "1000h" }
repair = { mean = "10h" }
service_time = { mean = "2ms" }

[[service]]
name = "worker"
topology = "active-active"
replicas = 2
regions = ["eu", "us"]
concurrency = 4
service_time = { mean = "10ms" }

[service.autoscale]
metric = "utilisation"
target = 0.6
interval = "15s"
stabilisation = "5m"
provision = { mean = "30s" }
min = 2
max = 6
tolerance = 0.1
step_up = 2
step_down = 1

[[deploy]]
service = "api"
every = "1d"
first = "10h"
batch = 1
pause = "1m"
canary = 0.1
bake = "10m"
restart = { mean = "30s" }
bad = 0.1
effect = "errors"
error_rate = 0.5
detect = "10m"

[[deploy]]
service = "db"
at = ["2h", "20h"]
batch_share = 0.5
restart = "30s"
bad = 0.1
effect = "latency"
latency = "100ms"
detect = "5m"

[[maintenance]]
name = "patching"
target = "db[0]"
every = "1d"
at = "3h"
duration = "10m"
"#;

/// Paths (`service.call.retry.budget.ratio`) of every key `v` sets.
fn set_keys(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone());
                set_keys(child, &path, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| set_keys(i, prefix, out)),
        _ => {}
    }
}

/// Paths of every key the schema lists (distributions expanded once).
fn schema_keys(node: &Value, root: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    if node.get("$ref").and_then(Value::as_str) == Some("#/$defs/distribution") {
        for family in at(root, "/$defs/distribution/oneOf").as_array().unwrap() {
            schema_keys(family, root, prefix, out);
        }
        return;
    }
    if let Some(items) = node.get("items") {
        schema_keys(items, root, prefix, out);
    }
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (k, child) in props {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.insert(path.clone());
            schema_keys(child, root, &path, out);
        }
    }
}

#[test]
fn a_file_with_every_key_is_valid_for_nines_and_the_schema() {
    nines::scenario::parse("every.toml", "every", EVERY_KEY, &[]).expect("nines accepts it");
    let instance = toml_to_json(EVERY_KEY);
    let errs = errors(&instance);
    assert!(errs.is_empty(), "{errs:#?}");
    let mut used = BTreeSet::new();
    set_keys(&instance, "", &mut used);
    let s = schema();
    let mut listed = BTreeSet::new();
    schema_keys(&s, &s, "", &mut listed);
    let used: BTreeSet<String> = used.iter().map(|k| normalize(k)).collect();
    let missing: Vec<String> = listed
        .iter()
        .map(|k| normalize(k))
        .filter(|k| !used.contains(k))
        .collect();
    assert!(missing.is_empty(), "EVERY_KEY does not set {missing:?}");
}

/// Tables that repeat are one table: every distribution is `dist`, and a
/// workload's client keys are a call's (`client`); so each key needs to be
/// set once, somewhere.
fn normalize(path: &str) -> String {
    const CLIENT: [&str; 8] = [
        "timeout",
        "deadline",
        "retry",
        "circuit_breaker",
        "bulkhead",
        "fallback",
        "cancel_on_timeout",
        "hedge",
    ];
    let parts: Vec<&str> = path.split('.').collect();
    let rest = match parts.as_slice() {
        ["workload", k, rest @ ..]
        | ["service", "call", k, rest @ ..]
        | ["workflow", "step", k, rest @ ..]
        | ["workflow", "step", "compensation", k, rest @ ..]
            if CLIENT.contains(k) =>
        {
            return ["client", k].iter().chain(rest).copied().collect::<Vec<_>>().join(".");
        }
        ["region" | "service", "failure" | "repair" | "service_time", rest @ ..] if !rest.is_empty() => rest,
        ["fault", "every" | "latency", rest @ ..] if !rest.is_empty() => rest,
        ["region", "zone", "failure" | "repair", rest @ ..] if !rest.is_empty() => rest,
        ["common_cause", "every", rest @ ..] if !rest.is_empty() => rest,
        ["service", "liveness", "restart", rest @ ..] if !rest.is_empty() => rest,
        ["service", "gc_pause", "pause", rest @ ..] if !rest.is_empty() => rest,
        _ => return path.to_string(),
    };
    format!("dist.{}", rest.join("."))
}

#[test]
fn wrong_files_fail_the_schema_and_nines() {
    let base = "horizon = \"1y\"\n[[service]]\nname = \"api\"\ntopology = \"active-active\"\nreplicas = 2\n";
    let cases = [
        ("unknown key", format!("{base}replicaz = 3\n")),
        ("wrong word", base.replace("active-active", "active-activ")),
        ("bad duration", base.replace("1y", "1 parsec")),
        ("number for a duration", base.replace("\"1y\"", "365")),
        (
            "missing family key",
            format!("{base}failure = {{ dist = \"weibull\", mean = \"1h\" }}\nrepair = {{ mean = \"1h\" }}\n"),
        ),
        (
            "key of another family",
            format!("{base}failure = {{ mean = \"1h\", cv = 0.5 }}\nrepair = {{ mean = \"1h\" }}\n"),
        ),
        ("unknown limit", format!("[limits]\nevents = 5\n{base}")),
        ("replicas out of range", base.replace("replicas = 2", "replicas = 0")),
    ];
    assert!(errors(&toml_to_json(base)).is_empty(), "the base file is valid");
    for (what, text) in &cases {
        assert!(!errors(&toml_to_json(text)).is_empty(), "schema accepted: {what}");
        assert!(
            nines::scenario::parse("bad.toml", "bad", text, &[]).is_err(),
            "nines accepted: {what}"
        );
    }
}

#[test]
fn schema_command_prints_the_schema() {
    let out = Dir::new().nines(&["schema"]).ok();
    let printed: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(printed, schema());
}

#[test]
fn completions_and_man_are_generated() {
    let d = Dir::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = d.nines(&["completions", shell]).ok();
        assert!(out.len() > 500 && out.contains("nines"), "{shell}: {out}");
        assert!(out.contains("trials"), "{shell} completes run's flags");
    }
    let bad = d.nines(&["completions", "tcsh"]);
    assert_eq!(bad.code(), 2);
    let man = d.nines(&["man"]).ok();
    assert!(man.contains(".TH nines 1") && man.contains("completions"), "{man}");
    d.nines(&["man", "--out", "pages"]).ok();
    assert!(d.read("pages/nines-run.1").contains("\\-\\-trials"));
}
