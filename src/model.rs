//! The simulated world: what a scenario compiles to, and one trial of it,
//! as components that own their state and handle their own events.
//!
//! - [`world`] flattens a validated [`Scenario`](crate::scenario::Scenario)
//!   into index-based tables (regions, services, replica groups, replicas)
//!   shared read-only by every trial.
//! - [`availability`] owns regions, replicas, failover groups and global
//!   routing: failure and repair processes and the time integrals that
//!   become availability. It is `Clone` and runs alone
//!   ([`availability::FailureOnly`]) for the failure-only model.
//! - [`traffic`] owns the requests: workloads, replicas' queues, balancing,
//!   health checks, client policies, and (in [`traffic::workflow`]) sagas.
//! - [`fault`] owns the injected faults: schedules, the overlay of what is
//!   hung, slow, erroring, cut, capacity-reduced or skewed, and what each
//!   occurrence did (blast radius, time to detect, time to recover).
//! - [`trace`] and [`runaway`] observe a trial: its story for `nines
//!   trace`, and the blame when a budget of `[limits]` stops it.
//! - [`trial`] joins them on one event queue and dispatches the effects
//!   between them.
//! - [`analytic`] computes the closed-form availability where one exists,
//!   for `nines check` and the validation tests.
//!
//! # Components and the effects between them
//! ```text
//!                 Context { world, queue, now, trace }
//!                        |  Event::Availability(..) | Event::<request kinds>
//!          +-------------+----------------+-------------------+
//!          v                              v                   v
//!    Availability  --ReplicaLost-->   Requests  <--reads--  Faults
//!    (regions,     --RegionChanged->  (workloads, queues,   (schedules,
//!     replicas,        (reset the      LB, health checks,    overlay: hung,
//!     groups,           jobs on it)    client policies,      slow, cut, skew,
//!     routing)                         sagas)                errors, capacity)
//!       |   ^  reads what serves          |                    |   |
//!       |   +-----------------------------+                    |   |
//!       |   <---- hold / release replica or region ------------+   |
//!       +---------- Detected (promotion, unroute, reroute) ------->+
//! ```
//! An availability handler returns an
//! [`Effect`](availability::Effect); the trial carries it out in one place
//! ([`Trial`]'s dispatch), so the order of scheduled events and random
//! draws, which determinism rests on, reads top to bottom.

pub mod analytic;
pub mod availability;
pub mod fault;
pub mod runaway;
pub mod slab;
pub mod trace;
pub mod traffic;
pub mod trial;
pub mod world;

pub use runaway::Runaway;
pub use trial::{Trial, TrialResult};
pub use world::World;
