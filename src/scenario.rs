//! Scenario files: reading, overriding, validating.
//!
//! Two layers, as in DSLab's raw and validated configs: [`raw`] mirrors the
//! TOML with spans kept; [`validate`] checks meaning, reports every problem
//! with its file, line, column and key, and builds the [`Scenario`] below.
//! Nothing downstream re-checks what validation guaranteed: replica counts
//! are at least one, `min_healthy` fits, names resolve, calls form a DAG,
//! and the entry point is known.

pub mod duration;
pub mod limits;
pub mod overrides;
pub mod policy;
pub mod raw;
pub mod schema;
pub mod source;
pub mod validate;

use std::path::Path;

use crate::distribution::Dist;
use crate::engine::Nanos;
use crate::error::{Error, Result};

pub use limits::Limits;
pub use overrides::Override;

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Human name (`name`, else the file stem).
    pub name: String,
    /// The file it came from, as given.
    pub path: String,
    /// Simulated time per trial.
    pub horizon: Nanos,
    /// Number of trials.
    pub trials: u64,
    /// Master seed.
    pub seed: u64,
    /// Index of the entry service, whose availability is the headline.
    pub entry: usize,
    /// Regions in file order.
    pub regions: Vec<Region>,
    /// Services in file order.
    pub services: Vec<Service>,
    /// Routing between regions.
    pub global: Global,
    /// Request sources; empty for a time-based-only scenario.
    pub workloads: Vec<Workload>,
    /// Availability objective of the entry point, in (0, 1).
    pub slo: Option<f64>,
    /// Per-trial budgets (`[limits]`).
    pub limits: Limits,
}

/// A region: a common-cause failure domain.
#[derive(Debug, Clone)]
pub struct Region {
    /// Unique name.
    pub name: String,
    /// Time to an outage; `None` never fails.
    pub failure: Option<Dist>,
    /// Outage duration; present whenever `failure` is.
    pub repair: Option<Dist>,
}

/// How a service's replicas combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    /// One replica.
    Single,
    /// One active, the rest standbys.
    ActivePassive,
    /// All serve; up while at least `min_healthy` are.
    ActiveActive,
}

/// Whether idle standbys age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standby {
    /// Standbys fail like the active.
    Hot,
    /// Standbys do not fail while idle.
    Cold,
}

/// Active-passive switch-over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Failover {
    /// Time to notice the active has failed.
    pub detect: Nanos,
    /// Time to promote a standby once noticed.
    pub switch: Nanos,
    /// Chance that a switch-over works.
    pub success: f64,
}

/// A service.
#[derive(Debug, Clone)]
pub struct Service {
    /// Unique name.
    pub name: String,
    /// Replica arrangement.
    pub topology: Topology,
    /// Replicas (per region when `regions` is non-empty); at least 1.
    pub replicas: u32,
    /// Active-active: replicas needed to serve; 1 ..= replicas.
    pub min_healthy: u32,
    /// Region indices the service is deployed in; empty = not in a region.
    pub regions: Vec<usize>,
    /// Per-replica time to failure; `None` never fails.
    pub failure: Option<Dist>,
    /// Per-replica repair time; present whenever `failure` is.
    pub repair: Option<Dist>,
    /// Active-passive switch-over.
    pub failover: Failover,
    /// Active-passive standby mode.
    pub standby: Standby,
    /// Dependencies, in file order.
    pub calls: Vec<Call>,
    /// Request level: requests one replica serves at once; `None` = unlimited.
    pub concurrency: Option<u32>,
    /// Request level: waiting room per replica; `None` = unbounded.
    pub queue: Option<u32>,
    /// Request level: time to serve one request (before its calls).
    pub service_time: Option<Dist>,
    /// Request level: chance a served request fails.
    pub error_rate: f64,
    /// Request level: how a request picks a replica.
    pub load_balancer: LoadBalancer,
    /// Request level: how the balancer learns a replica's health.
    pub health_check: HealthCheck,
    /// Request level: calls one after another, or all at once.
    pub call_mode: CallMode,
}

/// How a service's load balancer picks a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadBalancer {
    /// Each healthy replica in turn.
    RoundRobin,
    /// A healthy replica at random.
    Random,
    /// The healthy replica with the fewest requests in flight.
    LeastOutstanding,
    /// The less loaded of two healthy replicas drawn at random.
    PowerOfTwo,
}

/// Active health checking by the load balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthCheck {
    /// Time between probes.
    pub interval: Nanos,
    /// Consecutive failed probes that mark a replica unhealthy.
    pub unhealthy: u32,
    /// Consecutive good probes that mark it healthy again.
    pub healthy: u32,
}

/// How a request makes its calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMode {
    /// In file order; a failed required call ends the request.
    Sequential,
    /// All at once; the request waits for every one.
    Parallel,
}

/// The client side of a call edge: what runs on every call.
#[derive(Debug, Clone, Default)]
pub struct ClientPolicy {
    /// Per-attempt timeout.
    pub timeout: Option<Nanos>,
    /// Overall deadline for the call and everything downstream of it.
    pub deadline: Option<Nanos>,
    /// Retry policy.
    pub retry: Option<crate::resilience::retry::RetryConfig>,
    /// Circuit breaker.
    pub breaker: Option<crate::resilience::circuit_breaker::BreakerConfig>,
    /// Bulkhead.
    pub bulkhead: Option<crate::resilience::bulkhead::BulkheadConfig>,
    /// A failed call degrades the caller instead of failing it.
    pub fallback: bool,
    /// A timed-out attempt cancels the server's work.
    pub cancel_on_timeout: bool,
}

/// How requests arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Exponential gaps.
    Poisson,
    /// Evenly spaced.
    Constant,
}

/// A daily (or any period) swing of the rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diurnal {
    /// Relative swing, 0 ..= 1: the rate goes from (1 - a) to (1 + a) times `rate`.
    pub amplitude: f64,
    /// Period of the swing.
    pub period: Nanos,
    /// Time of the peak within the period.
    pub peak: Nanos,
}

/// A window in which the rate is multiplied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burst {
    /// Start.
    pub at: Nanos,
    /// Length.
    pub duration: Nanos,
    /// Rate multiplier.
    pub factor: f64,
}

/// A source of requests at an entry service.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Unique name (the FROM of its edge).
    pub name: String,
    /// Target service.
    pub to: usize,
    /// Mean requests per second (before diurnal and bursts).
    pub rate: f64,
    /// Arrival process.
    pub arrival: Arrival,
    /// Daily swing.
    pub diurnal: Option<Diurnal>,
    /// Bursts.
    pub bursts: Vec<Burst>,
    /// Client policies on the edge to `to`.
    pub policy: ClientPolicy,
}

/// A dependency edge.
#[derive(Debug, Clone)]
pub struct Call {
    /// Callee service index.
    pub to: usize,
    /// With a fallback the caller stays up when the callee is down.
    pub fallback: bool,
    /// Request level: client policies (`policy.fallback` equals `fallback`).
    pub policy: ClientPolicy,
}

/// How regions combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalMode {
    /// Every serving region takes a share.
    ActiveActive,
    /// The first listed region serves; others wait.
    ActivePassive,
}

/// Routing between regions.
#[derive(Debug, Clone, Copy)]
pub struct Global {
    /// Combination rule.
    pub mode: GlobalMode,
    /// Time for traffic to leave a failed region.
    pub failover: Nanos,
}

impl Scenario {
    /// Index of the service named `name`.
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }
}

/// Reads, overrides and validates the scenario at `path`.
///
/// # Errors
/// [`Error::Read`] when the file cannot be read; [`Error::Scenario`] listing
/// every problem when it is invalid or an override does not apply.
pub fn load(path: &Path, overrides: &[Override]) -> Result<Scenario> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let display = path.display().to_string();
    let stem = path
        .file_stem()
        .map_or_else(|| "scenario".to_string(), |s| s.to_string_lossy().into_owned());
    parse(&display, &stem, &text, overrides)
}

/// Validates scenario `text`; `path` is only used in messages and `stem`
/// names an unnamed scenario.
///
/// # Errors
/// [`Error::Scenario`] listing every problem.
pub fn parse(path: &str, stem: &str, text: &str, overrides: &[Override]) -> Result<Scenario> {
    let source = overrides::apply(path, text, overrides).map_err(Error::Scenario)?;
    let raw: raw::RawScenario =
        toml::from_str(&source.text).map_err(|e| Error::Scenario(vec![source.from_toml(&e)]))?;
    validate::validate(&source, stem, raw).map_err(Error::Scenario)
}
