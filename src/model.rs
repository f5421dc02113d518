//! The simulated world: what a scenario compiles to, and one trial of it.
//!
//! - [`world`] flattens a validated [`Scenario`](crate::scenario::Scenario)
//!   into index-based tables (regions, services, replica groups, replicas)
//!   shared read-only by every trial.
//! - [`trial`] is the event handler: failure and repair processes, failover,
//!   global routing, and the time integrals that become the metrics.
//! - [`fault`] injects scripted and random faults and measures what they
//!   did: blast radius, time to detect, time to recover.
//! - [`analytic`] computes the closed-form availability where one exists,
//!   for `nines check` and the validation tests.

pub mod analytic;
pub mod budget;
pub mod fault;
pub mod slab;
pub mod trace;
pub mod traffic;
pub mod trial;
pub mod world;

pub use budget::Runaway;
pub use trial::{Trial, TrialResult};
pub use world::World;
