//! Scenario files: reading, overriding, validating.
//!
//! Two layers, as in DSLab's raw and validated configs: [`raw`] mirrors the
//! TOML with spans kept; [`validate`] checks meaning, reports every problem
//! with its file, line, column and key, and builds the [`Scenario`] below.
//! Nothing downstream re-checks what validation guaranteed: replica counts
//! are at least one, `min_healthy` fits, names resolve, calls form a DAG,
//! and the entry point is known.

pub mod alerts;
pub mod autoscale;
mod checker;
mod client_ext;
pub mod defence;
pub mod duration;
mod ejection;
mod explain;
pub mod fault;
pub mod gc;
pub mod health;
pub mod infra;
pub mod limits;
pub mod load;
pub mod ops;
pub mod overrides;
pub mod policy;
pub mod raw;
pub mod sampling;
pub mod schema;
mod schema_parts;
pub mod source;
pub mod timescales;
pub mod validate;
pub mod workflow;

use std::path::Path;

use crate::distribution::Dist;
use crate::engine::Nanos;
use crate::error::{Error, Result};

pub use health::{Detectors, FailurePercentage, Liveness, ProbeSpec, Probes, SuccessRate};
pub use limits::Limits;
pub use ops::{Batch, Deploy, DeploySchedule, Maintenance, ReleaseEffect};
pub use overrides::Override;
pub use workflow::{Compensation, Step, Workflow};

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
    /// What the run is judged on: the headline, `slo`, `compare` and
    /// `sweep` use this metric.
    pub objective: Objective,
    /// Injected faults, in file order.
    pub faults: Vec<Fault>,
    /// How a fault's impact is judged.
    pub cascade: Cascade,
    /// Workflows (sagas) in file order; each is started by some workload.
    pub workflows: Vec<Workflow>,
    /// Per-trial budgets (`[limits]`).
    pub limits: Limits,
    /// Valid but almost certainly unintended (a fault that starts after
    /// the horizon): the commands print them on stderr and go on.
    pub warnings: Vec<crate::error::Diagnostic>,
    /// How to estimate the availability (`estimator`).
    pub estimator: Estimator,
    /// Rolling deploys, one per service at most (`[[deploy]]`).
    pub deploys: Vec<Deploy>,
    /// Planned maintenance windows (`[[maintenance]]`).
    pub maintenance: Vec<Maintenance>,
    /// The SLO verdict leaves planned downtime out (`slo.exclude_planned`).
    pub exclude_planned: bool,
    /// SLO windows and alert rules (`slo.window`, `[[alert]]`), when set.
    pub slo_spec: Option<alerts::SloSpec>,
    /// How requests over the horizon are simulated (`request_sampling`;
    /// `None` when unset: `auto`, and nothing said about it).
    pub request_sampling: Option<RequestSampling>,
    /// Zones, common causes, repair crews and spares.
    pub infra: infra::Ops,
}

/// How the entry's time-based availability is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Estimator {
    /// Splitting when crude trials see too few outages, else crude.
    #[default]
    Auto,
    /// Independent trials.
    Crude,
    /// Multilevel splitting (rare-event simulation).
    Splitting,
    /// Regenerative simulation with balanced failure biasing
    /// (all-exponential models).
    Regenerative,
}

impl Estimator {
    /// The word in the file and on the command line.
    pub fn word(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Crude => "crude",
            Self::Splitting => "splitting",
            Self::Regenerative => "regenerative",
        }
    }
}

/// What an injected fault does.
#[derive(Debug, Clone)]
pub enum FaultKind {
    /// The target is down: connections are refused (fast failure).
    Crash,
    /// The target accepts connections and never answers.
    Hang,
    /// Every request served (or sent over a link) takes this much longer.
    Latency(Dist),
    /// Served requests fail with this extra chance.
    Errors(f64),
    /// Calls across the link get no answer.
    Partition,
    /// This share of each replica's concurrency is left.
    Capacity(f64),
    /// The target's clock is off by this many nanoseconds (positive:
    /// ahead), which shifts how it reads the absolute deadlines it inherits.
    ClockSkew(i64),
}

impl FaultKind {
    /// The word used in scenario files.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Crash => "crash",
            Self::Hang => "hang",
            Self::Latency(_) => "latency",
            Self::Errors(_) => "errors",
            Self::Partition => "partition",
            Self::Capacity(_) => "capacity",
            Self::ClockSkew(_) => "clock_skew",
        }
    }
}

/// What a fault hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultTarget {
    /// Every replica of a service.
    Service(usize),
    /// One replica: the service, and the index among its replicas (region
    /// by region, in the order of `regions`).
    Replica(usize, u32),
    /// A region.
    Region(usize),
    /// Calls from a caller (a service, or a workload when `from` is
    /// `None` and `workload` is set) to a service.
    Link {
        /// Calling service; `None` for a workload.
        from: Option<usize>,
        /// The workload, when the caller is one.
        workload: Option<usize>,
        /// Callee service.
        to: usize,
    },
    /// Calls between replicas in two regions, both ways.
    RegionLink(usize, usize),
}

/// When a fault happens.
#[derive(Debug, Clone)]
pub enum FaultSchedule {
    /// Once, at this time after the start of each trial.
    Once(Nanos),
    /// Again and again: the first start at `first` (or one draw of `every`
    /// after time zero), then each next start `every` after the previous
    /// one ended.
    Process {
        /// Time of the first start, when given.
        first: Option<Nanos>,
        /// Time from the end of one occurrence to the next start.
        every: Dist,
    },
}

/// An injected fault.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Its name (`name`, else "KIND TARGET").
    pub name: String,
    /// What it does.
    pub kind: FaultKind,
    /// What it hits, as written.
    pub target_text: String,
    /// What it hits.
    pub target: FaultTarget,
    /// When.
    pub schedule: FaultSchedule,
    /// How long each occurrence lasts.
    pub duration: Dist,
}

/// How fault impact is judged (`[cascade]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cascade {
    /// A service whose callers see a success ratio below this within one
    /// bucket is affected.
    pub threshold: f64,
    /// Measurement bucket.
    pub bucket: Nanos,
    /// Good buckets in a row, after a fault ended, that count as recovered.
    pub settle: Nanos,
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
    /// Request level: server-side defences.
    pub defence: Defence,
    /// Request level: slowdown under load, cold starts and caches.
    pub load: Option<Box<load::Load>>,
}

/// A service's server-side defences (request level).
#[derive(Debug, Clone, Default)]
pub struct Defence {
    /// Per replica token bucket; requests over it are refused at once.
    pub rate_limit: Option<crate::resilience::rate_limit::RateLimitConfig>,
    /// The rate limiter validation built from `rate_limit`, full.
    pub rate_limiter: Option<crate::resilience::rate_limit::RateLimiter>,
    /// Load shedding.
    pub shed: Shed,
    /// Ejecting replicas that fail in a row (as Envoy's outlier detection).
    pub outlier: Option<Outlier>,
    /// Request probes (readiness, liveness, deep) and panic routing.
    pub probes: Probes,
    /// The autoscaler of each of its replica groups.
    pub autoscale: Option<autoscale::Autoscale>,
}

/// Load shedding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shed {
    /// A queued request that waited longer than this is dropped when its
    /// turn comes, instead of being served for a caller that gave up.
    pub queue_wait: Option<Nanos>,
    /// Low-priority requests are refused once this many wait.
    pub low_priority_queue: Option<u32>,
}

/// Outlier detection by the balancer in front of a service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outlier {
    /// Failed attempts in a row (errors, resets, refusals, timeouts) that
    /// eject a replica.
    pub consecutive: u32,
    /// How long an ejected replica stays out.
    pub eject_for: Nanos,
    /// Largest share of a group's replicas ejected at once.
    pub max_ejected: f64,
    /// Envoy's interval detectors (success rate, failure percentage).
    pub detectors: Detectors,
    /// `max_ejection_time`: with it, the ejection time grows with
    /// repeated ejections (`eject_for` x the replica's multiplier, capped
    /// here) and the multiplier decays by one per `detectors.interval` the
    /// replica spends in service, as Envoy's; without it, `eject_for`.
    pub max_eject: Option<Nanos>,
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
    /// The order the policies wrap a call in, when the scenario gives one
    /// (`None`: the default, [`PolicyOrder::default`](crate::resilience::order::PolicyOrder)).
    pub order: Option<crate::resilience::order::PolicyOrder>,
    /// The retry, breaker and bulkhead above as the objects validation
    /// built, for the simulator to clone.
    pub objects: policy::Policies,
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
    /// Its requests are shed first (`priority = "low"`).
    pub low_priority: bool,
    /// The region its clients are in (`None`: outside every region).
    pub region: Option<usize>,
    /// The workflow it starts instead of single requests (then `to` is the
    /// first step's service and `policy` is empty).
    pub workflow: Option<usize>,
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

/// What a run is judged on (`objective`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Requests served (full successes and degraded ones) over requests.
    Requests,
    /// The entry's time-based availability.
    Time,
}

impl Objective {
    /// Its name in the file and in `summary.json`.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Requests => "requests",
            Objective::Time => "time",
        }
    }
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
#[derive(Debug, Clone)]
pub struct Global {
    /// Combination rule.
    pub mode: GlobalMode,
    /// Time for traffic to leave a failed region.
    pub failover: Nanos,
    /// Request level: added delay of a call between regions.
    pub latency: Option<Dist>,
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
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let display = path.display().to_string();
    let text = source::decode(&display, bytes).map_err(|d| Error::Scenario(vec![d]))?;
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

/// How requests over the horizon are simulated (`request_sampling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum RequestSampling {
    /// Windowed when full simulation would pass [`REQUEST_BUDGET`](sampling::REQUEST_BUDGET) and the
    /// model allows it, else full.
    #[default]
    Auto,
    /// Every request of the horizon.
    Full,
    /// Transient windows simulated, stationary segments sampled.
    Windowed,
}

impl RequestSampling {
    /// The word in the file, on the command line and in `summary.json`.
    pub fn word(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Full => "full",
            Self::Windowed => "windowed",
        }
    }
}
