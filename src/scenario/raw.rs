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
    #[serde(default)]
    pub region: Vec<Spanned<RawRegion>>,
    #[serde(default)]
    pub service: Vec<Spanned<RawService>>,
    pub global: Option<Spanned<RawGlobal>>,
}

/// `[[region]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    pub name: Spanned<String>,
    pub failure: Option<Spanned<RawDist>>,
    pub repair: Option<Spanned<RawDist>>,
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
}

/// `[global]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGlobal {
    pub mode: Option<Spanned<String>>,
    pub failover: Option<Spanned<Duration>>,
}

/// A distribution table: `{ dist = "weibull", shape = 2.0, mean = "1000h" }`.
#[derive(Debug, Deserialize)]
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

/// Keys each table accepts, for `--set` path checks and suggestions.
pub mod keys {
    pub const TOP: &[&str] = &[
        "name", "horizon", "trials", "seed", "entry", "region", "service", "global",
    ];
    pub const REGION: &[&str] = &["name", "failure", "repair"];
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
    ];
    pub const FAILOVER: &[&str] = &["detect", "switch", "success"];
    pub const GLOBAL: &[&str] = &["mode", "failover"];
    pub const DIST: &[&str] = &["dist", "mean", "shape", "cv", "min", "max", "values"];
}
