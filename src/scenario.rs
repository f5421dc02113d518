//! Scenario files: reading, overriding, validating.
//!
//! Two layers, as in DSLab's raw and validated configs: [`raw`] mirrors the
//! TOML with spans kept; [`validate`] checks meaning, reports every problem
//! with its file, line, column and key, and builds the [`Scenario`] below.
//! Nothing downstream re-checks what validation guaranteed: replica counts
//! are at least one, `min_healthy` fits, names resolve, calls form a DAG,
//! and the entry point is known.

pub mod duration;
pub mod overrides;
pub mod raw;
pub mod source;
pub mod validate;

use std::path::Path;

use crate::distribution::Dist;
use crate::engine::Nanos;
use crate::error::{Error, Result};

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
}

/// A dependency edge.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// Callee service index.
    pub to: usize,
    /// With a fallback the caller stays up when the callee is down.
    pub fallback: bool,
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
