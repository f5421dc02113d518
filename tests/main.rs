//! The integration tests: one binary, one module per concern.
//!
//! - `cli`: the real `nines` binary in a temporary folder (contract of the
//!   command line and its files).
//! - `errors`: one test per class of bad input: exit code 2, a message that
//!   names file, line, column and key, never a panic.
//! - `determinism`: identical bytes on any thread count.
//! - `validation`: the simulator against closed-form results.
//! - `requests`: the request path against queueing and retry closed forms.
//! - `traffic`: request-level behaviour with a clear expected direction.
//! - `faults`: injected faults, cascades and `nines trace`.
//! - `sweep`: sweeps, comparisons, plots, `report.html` and the SLO.
//! - `shard`: shards and merge, precision targets, Ctrl-C, the output
//!   folder guard and the recipes.
//! - `workflows`: sagas against closed forms, their errors, determinism.

mod cli;
mod determinism;
mod errors;
mod faults;
mod requests;
mod shard;
mod sweep;
mod traffic;
mod util;
mod validation;
mod workflows;
