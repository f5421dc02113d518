//! The simulated world: what a scenario compiles to, and one trial of it,
//! as components that own their state and handle their own events.
//!
//! - [`world`] flattens a validated [`Scenario`](crate::scenario::Scenario)
//!   into index-based tables (regions, services, replica groups, replicas)
//!   shared read-only by every trial; [`world::infra`] compiles zones,
//!   repair crews, spares and common causes, [`world::ops`] deploys and
//!   maintenance windows.
//! - [`availability`] owns regions, replicas, failover groups and global
//!   routing: failure and repair processes and the time integrals that
//!   become availability. It is `Clone` and runs alone
//!   ([`availability::FailureOnly`]) for the failure-only model.
//! - [`traffic`] owns the requests: workloads, replicas' queues, balancing,
//!   health checks, client policies, and (in [`traffic::workflow`]) sagas.
//!   Its handlers run on a [`traffic::Requests`] view the trial lends for
//!   one event: its own state, the world and the availability state to
//!   read, and the fault component to report to.
//! - [`fault`] owns the injected faults ([`fault::Faults`]): schedules, the
//!   overlay of what is hung, slow, erroring, cut, capacity-reduced or
//!   skewed (read-only to the requests), and what each occurrence did
//!   (blast radius, time to detect, time to recover).
//! - [`trace`] and [`runaway`] observe a trial: its story for `nines
//!   trace`, and the blame when a budget of `[limits]` stops it.
//! - [`event`] is what they share, and names none of them: the
//!   [`Event`](event::Event) enum of the trial's queue (the availability
//!   and fault components' events as sub-enums) and the
//!   [`Context`](event::Context) a handler runs in.
//! - [`result`] and [`counts`] are what a trial measured, each
//!   component's part of it (windowed sampling's tallies are
//!   [`windowed::tally`], which names nothing else of the model).
//! - [`trial`] joins them on one event queue and dispatches the effects
//!   between them; [`trial::ops`] is its part that runs planned operations
//!   (their state and handlers). It is the only file that names every
//!   component; no file of the model imports one that imports it back
//!   (`scripts/import-cycles.py src/model` checks it).
//! - [`windowed`] runs a long horizon's requests by windows and shared
//!   stationary samples on top of a trial; which sampling a scenario runs
//!   is [`crate::scenario::sampling`]'s.
//! - [`analytic`] computes the closed-form availability where one exists,
//!   for `nines check` and the validation tests.
//!
//! # Components and the effects between them
//! ```text
//!              Context { world, queue, now, trace }  (lent per event)
//!   Event::Availability(..)    Event::<request kinds>    Event::Fault(..)
//!            |                          |                       |
//!            v                          v                       v
//!   +----------------+         +------------------+     +-----------------+
//!   |  Availability  |         |     Requests     |     |     Faults      |
//!   | regions,       |  reads  | workloads, queues|reads| schedules,      |
//!   | replicas,      |<--------| balancing, health|---->| overlay (hung,  |
//!   | groups,        |         | checks, client   |     | slow, cut, skew,|
//!   | routing        |         | policies, sagas  |     | errors, slots), |
//!   +----------------+         +------------------+     | occurrences     |
//!      |  Effect                  | signal, observe,    +-----------------+
//!      |                          | draw delays ------------^    |
//!      v                                                       | FaultReach
//!   +--------------------------- Trial::dispatch <--------------+
//!   | ReplicaLost  -> Requests: reset the replica's jobs;         |
//!   |                 Availability: settle the loss               |
//!   | RegionChanged-> Requests: reset the region's jobs;          |
//!   |                 Availability: update its groups             |
//!   | Detected     -> Faults: open occurrences are detected       |
//!   | FaultReach   -> Availability: hold / release replica, region|
//!   |   Hold          (then ReplicaLost / RegionChanged as above) |
//!   |   Refresh    -> Requests: start queued jobs that now fit    |
//!   +-------------------------------------------------------------+
//! ```
//! An availability handler returns an [`Effect`](availability::Effect), a
//! fault handler a [`FaultReach`](fault::FaultReach) (what it does to
//! replicas and regions); the trial carries them out in one place
//! ([`Trial`]'s dispatch and fault glue), so the order of scheduled events
//! and random draws, which determinism rests on, reads top to bottom. The
//! request handlers call the fault component directly (a defensive
//! reaction, an outcome seen, a latency drawn from a fault's stream): those
//! touch only the fault component's own state.

pub mod analytic;
pub mod availability;
pub mod counts;
pub mod event;
pub mod fault;
pub mod result;
pub mod runaway;
pub mod slab;
pub mod slo;
pub mod trace;
pub mod traffic;
pub mod trial;
pub mod windowed;
pub mod world;

pub use runaway::Runaway;
pub use trial::{Trial, TrialResult};
pub use world::World;
