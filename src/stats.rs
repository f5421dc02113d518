//! Streaming, mergeable statistics across trials.
//!
//! Every accumulator here can absorb one trial at a time and merge with
//! another of its kind. Merging is done in trial-index order (fixed chunks
//! merged in chunk order), which makes every figure independent of the
//! number of threads. Nothing here keeps one value per trial: memory is
//! bounded whatever the trial count.

pub mod autoscale;
pub mod bulkhead;
pub mod estimate;
pub mod faults;
pub mod health;
pub mod histogram;
pub mod interval;
pub mod ops;
pub mod quantile_ci;
pub mod skewed;
pub mod slo;
pub mod summary;
pub mod timeline;
pub mod welford;
pub mod workflow;

pub use histogram::Quantiles;
pub use skewed::Skewed;
pub use summary::{Accumulator, Summary};
pub use welford::Welford;
pub mod load;
