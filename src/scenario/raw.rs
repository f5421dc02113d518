//! The scenario file as written: serde structs that mirror the TOML, with
//! spans kept so that validation can point at the exact key.
//!
//! Every struct denies unknown fields (a misspelt key is an error, never a
//! silent default). Enumerations such as `topology` stay strings here so
//! that validation can suggest the nearest valid word. Nothing here checks
//! meaning; [`super::validate`] turns these into the model.

// Each field is the key of the same name in the file; README documents them.
#![allow(missing_docs)]

use serde::Deserialize;
use toml::Spanned;

use super::duration::Duration;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<Spanned<String>>,
    pub horizon: Option<Spanned<Duration>>,
    pub trials: Option<Spanned<i64>>,
    pub seed: Option<Spanned<u64>>,
    pub entry: Option<Spanned<String>>,
    pub slo: Option<Spanned<RawSlo>>,
    pub objective: Option<Spanned<String>>,
    pub estimator: Option<Spanned<String>>,
    #[serde(default)]
    pub region: Vec<Spanned<RawRegion>>,
    #[serde(default)]
    pub service: Vec<Spanned<RawService>>,
    pub global: Option<Spanned<RawGlobal>>,
    #[serde(default)]
    pub workload: Vec<Spanned<RawWorkload>>,
    #[serde(default)]
    pub fault: Vec<Spanned<RawFault>>,
    pub cascade: Option<Spanned<RawCascade>>,
    #[serde(default)]
    pub workflow: Vec<Spanned<RawWorkflow>>,
    pub limits: Option<Spanned<RawLimits>>,
    #[serde(default)]
    pub common_cause: Vec<Spanned<RawCommonCause>>,
    pub repair: Option<Spanned<RawRepair>>,
    pub request_sampling: Option<Spanned<String>>,
    #[serde(default)]
    pub deploy: Vec<Spanned<RawDeploy>>,
    #[serde(default)]
    pub maintenance: Vec<Spanned<RawMaintenance>>,
    #[serde(default)]
    pub alert: Vec<Spanned<RawAlert>>,
}

/// `slo`: a bare objective (`slo = 0.999`), or a table that adds the SLO
/// window (`slo = { target = 0.999, window = "30d" }`).
#[derive(Debug)]
pub enum RawSlo {
    Target(f64),
    Table(RawSloTable),
}

impl RawSlo {
    /// The objective as written, with the span of its value.
    pub fn target(&self) -> Option<f64> {
        match self {
            Self::Target(t) => Some(*t),
            Self::Table(t) => t.target.as_ref().map(|t| *t.get_ref()),
        }
    }
}

impl<'de> Deserialize<'de> for RawSlo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawSlo;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // serde's own word for a number, so that explain.rs says it
                // as it does for every other number.
                f.write_str("f64")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RawSlo, E> {
                Ok(RawSlo::Target(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawSlo, E> {
                Ok(RawSlo::Target(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawSlo, E> {
                Ok(RawSlo::Target(v as f64))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawSlo, A::Error> {
                RawSloTable::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(RawSlo::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// `slo = { ... }` as a table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSloTable {
    pub target: Option<Spanned<f64>>,
    pub window: Option<Spanned<Duration>>,
    pub kind: Option<Spanned<String>>,
    pub exclude_planned: Option<Spanned<bool>>,
}

/// `[[alert]]`: a multi-window burn-rate alert rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlert {
    pub name: Spanned<String>,
    pub burn_rate: Spanned<f64>,
    pub long_window: Spanned<Duration>,
    pub short_window: Spanned<Duration>,
    pub severity: Option<Spanned<String>>,
}

/// `[[fault]]`: a scripted fault, or a fault process when `every` is given.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub name: Option<Spanned<String>>,
    pub kind: Spanned<String>,
    pub target: Spanned<String>,
    pub at: Option<Spanned<Duration>>,
    pub duration: Spanned<RawLength>,
    pub every: Option<Spanned<RawDist>>,
    pub latency: Option<Spanned<RawDist>>,
    pub error_rate: Option<Spanned<f64>>,
    pub capacity: Option<Spanned<f64>>,
    pub skew: Option<Spanned<String>>,
}

/// A length: a duration string, or a distribution table.
#[derive(Debug)]
pub enum RawLength {
    Fixed(Duration),
    Dist(Box<RawDist>),
}

impl<'de> Deserialize<'de> for RawLength {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawLength;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration like \"10m\", or a distribution table like { mean = \"10m\" }")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawLength, E> {
                super::duration::parse(v).map(RawLength::Fixed).map_err(E::custom)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawLength, A::Error> {
                RawDist::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|d| RawLength::Dist(Box::new(d)))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[cascade]`: how fault impact is judged.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCascade {
    pub threshold: Option<Spanned<f64>>,
    pub bucket: Option<Spanned<Duration>>,
    pub settle: Option<Spanned<Duration>>,
}

/// `[[region]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    pub name: Spanned<String>,
    pub failure: Option<Spanned<RawDist>>,
    pub repair: Option<Spanned<RawDist>>,
    #[serde(default)]
    pub zone: Vec<Spanned<RawZone>>,
    pub crews: Option<Spanned<i64>>,
}

/// `[[region.zone]]`: a failure domain inside a region.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawZone {
    pub name: Spanned<String>,
    pub failure: Option<Spanned<RawDist>>,
    pub repair: Option<Spanned<RawDist>>,
}

/// `[[common_cause]]`: a shock that fails several replicas together.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommonCause {
    pub name: Spanned<String>,
    pub every: Spanned<RawDist>,
    pub targets: Spanned<Vec<Spanned<String>>>,
    pub probability: Option<Spanned<f64>>,
}

/// `[repair]`: the repair crews shared by replicas outside regions with
/// crews of their own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRepair {
    pub crews: Option<Spanned<i64>>,
    pub order: Option<Spanned<String>>,
}

/// `spares = { count, lead_time }` (per service).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpares {
    pub count: Spanned<i64>,
    pub lead_time: Spanned<RawLength>,
}

/// `[[service]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub name: Spanned<String>,
    pub topology: Option<Spanned<String>>,
    pub replicas: Option<Spanned<i64>>,
    pub min_healthy: Option<Spanned<i64>>,
    pub regions: Option<Spanned<Vec<Spanned<String>>>>,
    pub failure: Option<Spanned<RawDist>>,
    pub repair: Option<Spanned<RawDist>>,
    pub failover: Option<Spanned<RawFailover>>,
    pub standby: Option<Spanned<String>>,
    #[serde(default)]
    pub call: Vec<Spanned<RawCall>>,
    pub concurrency: Option<Spanned<i64>>,
    pub queue: Option<Spanned<i64>>,
    pub service_time: Option<Spanned<RawDist>>,
    pub error_rate: Option<Spanned<f64>>,
    pub load_balancer: Option<Spanned<String>>,
    pub health_check: Option<Spanned<RawHealthCheck>>,
    pub call_mode: Option<Spanned<String>>,
    pub rate_limit: Option<Spanned<RawRateLimit>>,
    pub shed: Option<Spanned<RawShed>>,
    pub outlier_detection: Option<Spanned<RawOutlier>>,
    pub liveness: Option<Spanned<RawLiveness>>,
    pub spread: Option<Spanned<String>>,
    pub spares: Option<Spanned<RawSpares>>,
    pub repair_priority: Option<Spanned<i64>>,
    pub slowdown: Option<Spanned<RawSlowdown>>,
    pub cold_start: Option<Spanned<RawColdStart>>,
    pub autoscale: Option<Spanned<RawAutoscale>>,
    pub gc_pause: Option<Spanned<RawGcPause>>,
}

/// `[service.autoscale]`: the HPA rule per replica group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAutoscale {
    pub metric: Option<Spanned<String>>,
    pub target: Spanned<f64>,
    pub interval: Option<Spanned<Duration>>,
    pub stabilisation: Option<Spanned<Duration>>,
    pub provision: Option<Spanned<RawLength>>,
    pub min: Option<Spanned<i64>>,
    pub max: Spanned<i64>,
    pub tolerance: Option<Spanned<f64>>,
    pub step_up: Option<Spanned<i64>>,
    pub step_down: Option<Spanned<i64>>,
}

/// `rate_limit = { rate, burst }` (per replica).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    pub rate: Spanned<f64>,
    pub burst: Option<Spanned<f64>>,
}

/// `shed = { queue_wait, low_priority_queue }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShed {
    pub queue_wait: Option<Spanned<Duration>>,
    pub low_priority_queue: Option<Spanned<i64>>,
}

/// `outlier_detection = { consecutive_failures, eject_for, max_ejected }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutlier {
    pub consecutive_failures: Option<Spanned<i64>>,
    pub eject_for: Option<Spanned<Duration>>,
    pub max_ejected: Option<Spanned<f64>>,
    pub interval: Option<Spanned<Duration>>,
    pub success_rate: Option<Spanned<RawSuccessRate>>,
    pub failure_percentage: Option<Spanned<RawFailurePercentage>>,
    pub max_ejection_time: Option<Spanned<Duration>>,
}

/// `outlier_detection.success_rate = { stdev_factor, minimum_hosts, request_volume }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSuccessRate {
    pub stdev_factor: Option<Spanned<f64>>,
    pub minimum_hosts: Option<Spanned<i64>>,
    pub request_volume: Option<Spanned<i64>>,
}

/// `outlier_detection.failure_percentage = { threshold, minimum_hosts, request_volume }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailurePercentage {
    pub threshold: Option<Spanned<f64>>,
    pub minimum_hosts: Option<Spanned<i64>>,
    pub request_volume: Option<Spanned<i64>>,
}

/// `liveness = { interval, failures, timeout, cost, deep, restart, initial_delay }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLiveness {
    pub interval: Option<Spanned<Duration>>,
    pub failures: Option<Spanned<i64>>,
    pub timeout: Option<Spanned<Duration>>,
    pub cost: Option<Spanned<Duration>>,
    pub deep: Option<Spanned<Vec<Spanned<String>>>>,
    pub restart: Option<Spanned<RawDist>>,
    pub initial_delay: Option<Spanned<Duration>>,
}

/// `health_check = { interval, unhealthy, healthy }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealthCheck {
    pub interval: Option<Spanned<Duration>>,
    pub unhealthy: Option<Spanned<i64>>,
    pub healthy: Option<Spanned<i64>>,
    pub timeout: Option<Spanned<Duration>>,
    pub cost: Option<Spanned<Duration>>,
    pub deep: Option<Spanned<Vec<Spanned<String>>>>,
    pub panic_threshold: Option<Spanned<f64>>,
}

/// `[[workload]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub name: Spanned<String>,
    pub to: Option<Spanned<String>>,
    pub workflow: Option<Spanned<String>>,
    pub rate: Spanned<f64>,
    pub arrival: Option<Spanned<String>>,
    pub diurnal: Option<Spanned<RawDiurnal>>,
    #[serde(default)]
    pub burst: Vec<Spanned<RawBurst>>,
    pub timeout: Option<Spanned<Duration>>,
    pub deadline: Option<Spanned<Duration>>,
    pub retry: Option<Spanned<RawRetry>>,
    pub circuit_breaker: Option<Spanned<RawBreaker>>,
    pub bulkhead: Option<Spanned<RawBulkhead>>,
    pub fallback: Option<Spanned<bool>>,
    pub cancel_on_timeout: Option<Spanned<bool>>,
    pub priority: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
    pub hedge: Option<Spanned<RawHedge>>,
    /// The order the client policies wrap a call in, outermost first.
    pub order: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `diurnal = { amplitude = 0.5, period = "24h", peak = "14h" }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiurnal {
    pub amplitude: Spanned<f64>,
    pub period: Option<Spanned<Duration>>,
    pub peak: Option<Spanned<Duration>>,
}

/// `[[workload.burst]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBurst {
    pub at: Spanned<Duration>,
    pub duration: Spanned<Duration>,
    pub factor: Spanned<f64>,
}

/// `retry = { max_attempts, backoff, base, max_delay, jitter, retry_on, budget }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub max_attempts: Option<Spanned<i64>>,
    pub backoff: Option<Spanned<String>>,
    pub base: Option<Spanned<Duration>>,
    pub max_delay: Option<Spanned<Duration>>,
    pub jitter: Option<Spanned<String>>,
    pub retry_on: Option<Spanned<Vec<Spanned<String>>>>,
    pub budget: Option<Spanned<RawBudget>>,
    pub concurrency_budget: Option<Spanned<RawConcurrencyBudget>>,
}

/// `concurrency_budget = { percent, min_retry_concurrency }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConcurrencyBudget {
    pub percent: Option<Spanned<f64>>,
    pub min_retry_concurrency: Option<Spanned<i64>>,
}

/// `hedge = { delay | quantile, window, cancel, budget }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHedge {
    pub delay: Option<Spanned<Duration>>,
    pub quantile: Option<Spanned<f64>>,
    pub window: Option<Spanned<i64>>,
    pub cancel: Option<Spanned<bool>>,
    pub budget: Option<Spanned<RawBudget>>,
}

/// `budget = { ratio, burst }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    pub ratio: Spanned<f64>,
    pub burst: Option<Spanned<f64>>,
}

/// `circuit_breaker = { ... }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    pub failure_threshold: Option<Spanned<i64>>,
    pub window: Option<Spanned<String>>,
    pub size: Option<Spanned<toml::Value>>,
    pub failure_rate: Option<Spanned<f64>>,
    pub min_calls: Option<Spanned<i64>>,
    pub slow_call: Option<Spanned<Duration>>,
    pub slow_call_rate: Option<Spanned<f64>>,
    pub open_for: Option<Spanned<Duration>>,
    pub half_open_calls: Option<Spanned<i64>>,
    pub success_threshold: Option<Spanned<i64>>,
    pub open_backoff: Option<Spanned<RawOpenBackoff>>,
    pub half_open_max_wait: Option<Spanned<Duration>>,
    pub half_open_expiry: Option<Spanned<String>>,
}

/// `open_backoff = { multiplier, max }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpenBackoff {
    pub multiplier: Option<Spanned<f64>>,
    pub max: Option<Spanned<Duration>>,
}

/// `bulkhead = { max_concurrent, max_queue, queue_timeout }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBulkhead {
    pub max_concurrent: Spanned<i64>,
    pub max_queue: Option<Spanned<i64>>,
    pub queue_timeout: Option<Spanned<Duration>>,
}

/// `failover = { detect, switch, success }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailover {
    pub detect: Option<Spanned<Duration>>,
    pub switch: Option<Spanned<Duration>>,
    pub success: Option<Spanned<f64>>,
}

/// `[[service.call]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCall {
    pub to: Spanned<String>,
    pub fallback: Option<Spanned<bool>>,
    pub timeout: Option<Spanned<Duration>>,
    pub deadline: Option<Spanned<Duration>>,
    pub retry: Option<Spanned<RawRetry>>,
    pub circuit_breaker: Option<Spanned<RawBreaker>>,
    pub bulkhead: Option<Spanned<RawBulkhead>>,
    pub cancel_on_timeout: Option<Spanned<bool>>,
    pub hedge: Option<Spanned<RawHedge>>,
    pub cache: Option<Spanned<RawCache>>,
    /// The order the client policies wrap a call in, outermost first.
    pub order: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[global]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGlobal {
    pub mode: Option<Spanned<String>>,
    pub failover: Option<Spanned<Duration>>,
    pub latency: Option<Spanned<RawLength>>,
}

/// A distribution table: `{ dist = "weibull", shape = 2.0, mean = "1000h" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    pub dist: Option<Spanned<String>>,
    pub mean: Option<Spanned<Duration>>,
    pub shape: Option<Spanned<f64>>,
    pub cv: Option<Spanned<f64>>,
    pub min: Option<Spanned<Duration>>,
    pub max: Option<Spanned<Duration>>,
    pub values: Option<Spanned<Vec<Duration>>>,
}

/// `[[workflow]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkflow {
    pub name: Spanned<String>,
    pub deadline: Option<Spanned<Duration>>,
    #[serde(default)]
    pub step: Vec<Spanned<RawStep>>,
}

/// `[[workflow.step]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub name: Spanned<String>,
    pub to: Spanned<String>,
    pub pivot: Option<Spanned<bool>>,
    pub compensation: Option<Spanned<RawCompensation>>,
    pub timeout: Option<Spanned<Duration>>,
    pub deadline: Option<Spanned<Duration>>,
    pub retry: Option<Spanned<RawRetry>>,
    pub circuit_breaker: Option<Spanned<RawBreaker>>,
    pub bulkhead: Option<Spanned<RawBulkhead>>,
    pub fallback: Option<Spanned<bool>>,
    pub cancel_on_timeout: Option<Spanned<bool>>,
    /// The order the client policies wrap a call in, outermost first.
    pub order: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `compensation = { to, <client policy keys> }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCompensation {
    pub to: Spanned<String>,
    pub timeout: Option<Spanned<Duration>>,
    pub deadline: Option<Spanned<Duration>>,
    pub retry: Option<Spanned<RawRetry>>,
    pub circuit_breaker: Option<Spanned<RawBreaker>>,
    pub bulkhead: Option<Spanned<RawBulkhead>>,
    pub fallback: Option<Spanned<bool>>,
    pub cancel_on_timeout: Option<Spanned<bool>>,
    /// The order the client policies wrap a call in, outermost first.
    pub order: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `[limits]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Events one trial may handle.
    pub events_per_trial: Option<Spanned<i64>>,
    /// Calls and jobs alive at once in one trial.
    pub in_flight: Option<Spanned<i64>>,
}

/// Keys each table accepts, for `--set` path checks and suggestions.
pub mod keys {
    pub const TOP: &[&str] = &[
        "name",
        "horizon",
        "trials",
        "seed",
        "entry",
        "slo",
        "objective",
        "estimator",
        "region",
        "service",
        "global",
        "workload",
        "fault",
        "cascade",
        "workflow",
        "limits",
        "deploy",
        "maintenance",
        "alert",
        "request_sampling",
        "common_cause",
        "repair",
    ];
    pub const SLO: &[&str] = &["target", "window", "kind", "exclude_planned"];
    pub const ALERT: &[&str] = &["name", "burn_rate", "long_window", "short_window", "severity"];
    pub const FAULT: &[&str] = &[
        "name",
        "kind",
        "target",
        "at",
        "duration",
        "every",
        "latency",
        "error_rate",
        "capacity",
        "skew",
    ];
    pub const CASCADE: &[&str] = &["threshold", "bucket", "settle"];
    pub const LIMITS: &[&str] = &["events_per_trial", "in_flight"];
    pub const REGION: &[&str] = &["name", "failure", "repair", "zone", "crews"];
    pub const SERVICE: &[&str] = &[
        "name",
        "topology",
        "replicas",
        "min_healthy",
        "regions",
        "failure",
        "repair",
        "failover",
        "standby",
        "call",
        "concurrency",
        "queue",
        "service_time",
        "error_rate",
        "load_balancer",
        "health_check",
        "call_mode",
        "rate_limit",
        "shed",
        "outlier_detection",
        "liveness",
        "spread",
        "spares",
        "repair_priority",
        "slowdown",
        "cold_start",
        "autoscale",
        "gc_pause",
    ];
    pub const RATE_LIMIT: &[&str] = &["rate", "burst"];
    pub const SHED: &[&str] = &["queue_wait", "low_priority_queue"];
    pub const OUTLIER: &[&str] = &[
        "consecutive_failures",
        "eject_for",
        "max_ejected",
        "interval",
        "success_rate",
        "failure_percentage",
        "max_ejection_time",
    ];
    pub const SUCCESS_RATE: &[&str] = &["stdev_factor", "minimum_hosts", "request_volume"];
    pub const FAILURE_PERCENTAGE: &[&str] = &["threshold", "minimum_hosts", "request_volume"];
    pub const LIVENESS: &[&str] = &[
        "interval",
        "failures",
        "timeout",
        "cost",
        "deep",
        "restart",
        "initial_delay",
    ];
    pub const WORKLOAD: &[&str] = &[
        "name",
        "to",
        "rate",
        "arrival",
        "diurnal",
        "burst",
        "timeout",
        "deadline",
        "retry",
        "circuit_breaker",
        "bulkhead",
        "fallback",
        "cancel_on_timeout",
        "priority",
        "region",
        "workflow",
        "hedge",
        "order",
    ];
    pub const WORKFLOW: &[&str] = &["name", "deadline"];
    pub const HEALTH_CHECK: &[&str] = &[
        "interval",
        "unhealthy",
        "healthy",
        "timeout",
        "cost",
        "deep",
        "panic_threshold",
    ];
    pub const DIURNAL: &[&str] = &["amplitude", "period", "peak"];
    pub const RETRY: &[&str] = &[
        "max_attempts",
        "backoff",
        "base",
        "max_delay",
        "jitter",
        "retry_on",
        "budget",
        "concurrency_budget",
    ];
    pub const HEDGE: &[&str] = &["delay", "quantile", "window", "cancel", "budget"];
    pub const BREAKER: &[&str] = &[
        "failure_threshold",
        "window",
        "size",
        "failure_rate",
        "min_calls",
        "slow_call",
        "slow_call_rate",
        "open_for",
        "half_open_calls",
        "success_threshold",
        "open_backoff",
        "half_open_max_wait",
        "half_open_expiry",
    ];
    pub const BULKHEAD: &[&str] = &["max_concurrent", "max_queue", "queue_timeout"];
    pub const FAILOVER: &[&str] = &["detect", "switch", "success"];
    pub const GLOBAL: &[&str] = &["mode", "failover", "latency"];
    pub const DEPLOY: &[&str] = &[
        "service",
        "every",
        "first",
        "at",
        "batch",
        "batch_share",
        "pause",
        "canary",
        "bake",
        "restart",
        "bad",
        "effect",
        "error_rate",
        "latency",
        "detect",
    ];
    pub const MAINTENANCE: &[&str] = &["name", "target", "every", "at", "duration"];
    pub const ZONE: &[&str] = &["name", "failure", "repair"];
    pub const COMMON_CAUSE: &[&str] = &["name", "every", "targets", "probability"];
    pub const REPAIR: &[&str] = &["crews", "order"];
    pub const SPARES: &[&str] = &["count", "lead_time"];
    pub const AUTOSCALE: &[&str] = &[
        "metric",
        "target",
        "interval",
        "stabilisation",
        "provision",
        "min",
        "max",
        "tolerance",
        "step_up",
        "step_down",
    ];
    pub const DIST: &[&str] = &["dist", "mean", "shape", "cv", "min", "max", "values"];
    pub const SLOWDOWN: &[&str] = &["by", "curve"];
    pub const COLD_START: &[&str] = &["factor", "duration", "decay"];
    pub const CACHE: &[&str] = &["hit_rate", "warmup", "fill"];
}

/// `[[deploy]]`: releases of one service, rolled out replica batch by batch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeploy {
    pub service: Spanned<String>,
    pub every: Option<Spanned<RawLength>>,
    pub first: Option<Spanned<Duration>>,
    pub at: Option<Spanned<Vec<Duration>>>,
    pub batch: Option<Spanned<i64>>,
    pub batch_share: Option<Spanned<f64>>,
    pub pause: Option<Spanned<Duration>>,
    pub canary: Option<Spanned<f64>>,
    pub bake: Option<Spanned<Duration>>,
    pub restart: Spanned<RawLength>,
    pub bad: Option<Spanned<f64>>,
    pub effect: Option<Spanned<String>>,
    pub error_rate: Option<Spanned<f64>>,
    pub latency: Option<Spanned<RawLength>>,
    pub detect: Option<Spanned<Duration>>,
}

/// `[[maintenance]]`: a recurring planned outage of a component.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaintenance {
    pub name: Option<Spanned<String>>,
    pub target: Spanned<String>,
    pub every: Spanned<Duration>,
    pub at: Option<Spanned<Duration>>,
    pub duration: Spanned<Duration>,
}

/// `slowdown = { by, curve }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlowdown {
    pub by: Spanned<String>,
    pub curve: Spanned<Vec<Spanned<Vec<f64>>>>,
}

/// `cold_start = { factor, duration, decay }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawColdStart {
    pub factor: Spanned<f64>,
    pub duration: Spanned<Duration>,
    pub decay: Option<Spanned<String>>,
}

/// `[[service.call]] cache = { hit_rate, warmup, fill }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCache {
    pub hit_rate: Spanned<f64>,
    pub warmup: Option<Spanned<Duration>>,
    pub fill: Option<Spanned<String>>,
}

/// `gc_pause = { rate, busy_rate, pause }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGcPause {
    pub rate: Option<Spanned<f64>>,
    pub busy_rate: Option<Spanned<f64>>,
    pub pause: Spanned<RawDist>,
}
