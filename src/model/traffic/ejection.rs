//! Ejection time that grows with repeated ejections, as Envoy's outlier
//! detection does it (`outlier_detection.max_ejection_time`).
//!
//! # State machine
//! Each replica carries a multiplier `m`, 0 at the start of a trial.
//!
//! ```text
//!  ejected (any detector) ──> if m x eject_for < max_ejection_time: m += 1
//!                             out for min(m x eject_for, max_ejection_time)
//!  every interval sweep ────> each replica in service (not ejected) with
//!                             m > 0: m -= 1; then the detectors judge
//! ```
//! So a replica ejected again and again stays out `eject_for`,
//! `2 x eject_for`, ... up to the cap, and one that stays in service for
//! `m` sweeps is back to the base time. The multiplier stops growing once
//! the time reaches the cap (Envoy's rule), so it never takes more than
//! `ceil(max / eject_for)` sweeps to decay. Unlike Envoy, whose sweep
//! returns ejected hosts, a replica returns at exactly its ejection time.
//!
//! # Invariants
//! `backoff` holds one multiplier per replica while some service has
//! `max_ejection_time` (empty otherwise), each at most
//! `ceil(max / eject_for)` of its service; without the key, ejection
//! times are `eject_for` and nothing here is touched.

use super::Requests;
use crate::engine::Nanos;
use crate::scenario::Outlier;

/// One ejection of a replica whose multiplier is `m`: the multiplier
/// after it and how long the replica stays out.
pub(crate) fn eject_once(m: u32, base: Nanos, max: Nanos) -> (u32, Nanos) {
    let cap = max.max(base);
    let m = if u128::from(m) * u128::from(base) < u128::from(cap) {
        m + 1
    } else {
        m
    };
    let out = (u128::from(m) * u128::from(base)).min(u128::from(cap)) as Nanos;
    (m, out)
}

/// The growing ejection times' state, reused across trials.
#[derive(Default)]
pub(super) struct Ejections {
    /// Per replica: its multiplier (empty without `max_ejection_time`).
    backoff: Vec<u32>,
}

impl Requests<'_> {
    /// Resets every multiplier to 0 (a trial starts).
    pub(super) fn reset_ejections(&mut self) {
        let w = self.world;
        let e = &mut self.traffic.probe.ejections;
        e.backoff.clear();
        let grows = w
            .services
            .iter()
            .any(|s| s.serve.defence.outlier.is_some_and(|o| o.max_eject.is_some()));
        if grows {
            e.backoff.resize(w.replicas.len(), 0);
        }
    }

    /// How long replica `r`, being ejected now, stays out.
    pub(super) fn ejection_time(&mut self, r: usize, o: &Outlier) -> Nanos {
        let Some(max) = o.max_eject else {
            return o.eject_for;
        };
        let m = &mut self.traffic.probe.ejections.backoff[r];
        let (next, out) = eject_once(*m, o.eject_for, max);
        *m = next;
        out
    }

    /// A sweep of replicas `replicas`: each in service decays by one.
    pub(super) fn decay_ejections(&mut self, replicas: std::ops::Range<usize>, o: &Outlier) {
        if o.max_eject.is_none() {
            return;
        }
        for r in replicas {
            let m = &mut self.traffic.probe.ejections.backoff[r];
            if *m > 0 && !self.traffic.health[r].ejected {
                *m -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: Nanos = 1_000_000_000;

    /// One step of a hand-built history.
    enum Step {
        /// Ejected: expect this many seconds out.
        Eject(u64),
        /// A sweep finds the replica in service.
        Sweep,
    }

    /// Runs a history on one replica (the sweep's rule with the replica
    /// in service) and checks each ejection time.
    fn replay(base: Nanos, max: Nanos, steps: &[Step]) {
        let mut m = 0;
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Eject(secs) => {
                    let (next, out) = eject_once(m, base, max);
                    assert_eq!(out, secs * S, "step {i}: multiplier {m}");
                    m = next;
                }
                Step::Sweep => m = m.saturating_sub(1),
            }
        }
    }

    /// Envoy's defaults (30 s base, 300 s cap): 30, 60, 90, ... 300, then
    /// 300 again without growing; ten sweeps in service bring it back to
    /// 30; two sweeps after three ejections leave one step: 60.
    #[test]
    fn ejection_times_follow_a_hand_built_history() {
        use Step::*;
        let mut steps: Vec<Step> = (1..=10).map(|k| Eject(30 * k)).collect();
        steps.extend([Eject(300), Eject(300)]);
        steps.extend((0..10).map(|_| Sweep));
        steps.extend([
            Eject(30),
            Eject(60),
            Eject(90),
            Sweep,
            Sweep,
            Eject(60),
            Sweep,
            Eject(60),
        ]);
        replay(30 * S, 300 * S, &steps);
        // A cap that is not a multiple of the base: 30, 60, 90, 100, 100;
        // the multiplier stops at 4, so 4 sweeps reset it.
        let mut steps = vec![Eject(30), Eject(60), Eject(90), Eject(100), Eject(100)];
        steps.extend((0..3).map(|_| Sweep));
        steps.extend([Eject(60), Sweep, Sweep, Eject(30)]);
        replay(30 * S, 100 * S, &steps);
        // A cap equal to the base: always the base, as without the key.
        replay(30 * S, 30 * S, &[Eject(30), Eject(30), Sweep, Eject(30)]);
    }

    proptest! {
        /// Any history: every time lies in [base, cap]; ejections without
        /// a sweep between them never shrink; the multiplier never exceeds
        /// ceil(cap / base), and that many sweeps bring any replica back to
        /// the base time.
        #[test]
        fn times_stay_within_base_and_cap(
            base in 1u64..100,
            extra in 0u64..1000,
            steps in proptest::collection::vec(any::<bool>(), 0..200),
        ) {
            let (base, max) = (base * S, (base + extra) * S);
            let top = max.div_ceil(base) as u32;
            let mut m = 0;
            let mut last: Option<Nanos> = None;
            for eject in steps {
                if eject {
                    let (next, out) = eject_once(m, base, max);
                    prop_assert!(out >= base && out <= max);
                    if let Some(l) = last {
                        prop_assert!(out >= l);
                    }
                    last = Some(out);
                    m = next;
                } else {
                    m = m.saturating_sub(1);
                    last = None;
                }
                prop_assert!(m <= top);
            }
            for _ in 0..top {
                m = m.saturating_sub(1);
            }
            prop_assert_eq!(eject_once(m, base, max).1, base);
        }
    }
}
