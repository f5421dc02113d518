//! Workload bursts under windowed sampling: which bursts are active (the
//! *burst state*) joins the configuration key, a burst's start and end are
//! configuration changes, and a stationary sample of a burst state runs its
//! workloads at that state's flat rates.
//!
//! **Invariants.** Without bursts the state is empty, the key is the
//! configuration's alone and a sample runs on the model's own world, so
//! models that ran windowed before keep their keys, streams and outputs.
//! A window runs on the real clock (its arrivals thin at `rate_at`, as in
//! a full trial); only stationary samples use [`flat_world`], whose rates
//! are the state's `rate x factor` for every active burst, so the sample's
//! known rate (what its counters are scaled to) is the state's.

use super::super::world::World;
use crate::engine::Nanos;

/// Whether any workload of `w` has a burst.
pub fn any(w: &World) -> bool {
    w.workloads.iter().any(|wl| !wl.bursts.is_empty())
}

/// The burst state at `t`: one byte per burst of every workload (1 when
/// active). Empty without bursts.
pub fn state(w: &World, t: Nanos) -> Vec<u8> {
    w.workloads
        .iter()
        .flat_map(|wl| wl.bursts.iter())
        .map(|b| u8::from(t >= b.at && t < b.at.saturating_add(b.duration)))
        .collect()
}

/// The first burst start or end after `t` and before the horizon.
pub fn next_edge(w: &World, t: Nanos) -> Option<Nanos> {
    w.workloads
        .iter()
        .flat_map(|wl| wl.bursts.iter())
        .flat_map(|b| [b.at, b.at.saturating_add(b.duration)])
        .filter(|&e| e > t && e < w.horizon)
        .min()
}

/// The earlier of two optional times.
pub fn earliest(a: Option<Nanos>, b: Option<Nanos>) -> Option<Nanos> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// `w` with every workload at the flat rate of burst state `state` (as
/// [`state`] lays it out): each active burst multiplies its workload's
/// rate by its factor, and the bursts are dropped. `None` without bursts
/// (the sample runs on `w` itself).
pub fn flat_world(w: &World, state: &[u8]) -> Option<World> {
    if state.is_empty() {
        return None;
    }
    let mut flat = w.clone();
    let mut i = 0;
    for wl in &mut flat.workloads {
        for b in &wl.bursts {
            if state[i] == 1 {
                wl.rate *= b.factor;
            }
            i += 1;
        }
        wl.bursts.clear();
        wl.max_rate = wl.rate * wl.diurnal.map_or(1.0, |d| 1.0 + d.amplitude);
        wl.shaped = wl.diurnal.is_some();
    }
    Some(flat)
}
