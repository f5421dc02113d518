//! Probes sent as requests, liveness restarts, and Envoy's interval
//! outlier detectors (success rate, failure percentage).
//!
//! # A probe
//! A readiness probe (`health_check` with `timeout`, `cost` or `deep`) or
//! a liveness probe (`liveness`) is a job on the replica like any request:
//! it waits in the FIFO, holds a slot for `cost`, then, when deep, calls
//! the listed dependencies at once through their edges (with the edges'
//! policies; a fallback answer counts as a failed dependency). It passes when
//! all of that succeeds before its timeout; a refused connection, a full
//! queue, a reset or a failed dependency fails it at once, and no answer
//! fails it at the timeout. A shallow probe never draws the service's
//! error chance: a health endpoint does not run the code that fails.
//!
//! ```text
//!  tick ──> in flight? ──yes──> skip (one probe per replica and kind)
//!             │no
//!             v
//!          hung? ──yes──> (no answer) ──> timeout ──> fail
//!             │no
//!          reachable? ──no──> fail
//!             │yes
//!             v
//!          queue ─> slot for `cost` ─> deep calls ─> pass / fail
//! ```
//! A readiness verdict counts toward `healthy` / `unhealthy` as the free
//! check does. `failures` failed liveness probes in a row restart the
//! replica: its jobs are reset (in-flight work lost), it refuses
//! connections and is not ready for a draw of `restart`, then the
//! readiness check must pass again, and liveness probing waits
//! `initial_delay`. Liveness probes go to replicas the failure model has
//! up and to hung ones (a hang fault's replica accepts connections): a
//! crashed replica is the failure model's to repair, but a hung one fails
//! `failures` probes in a row at their timeouts and is restarted, within
//! `failures x interval + timeout` of the hang's start. The restart cures
//! the hang (see [`crate::model::fault`]): its connections are reset, it
//! is out for the restart time, then serves while the fault's window
//! lasts; a crash fault or a natural failure holding it as well keeps it
//! down. Attempts sent to it while it hung left no job there: they end at
//! their own timeouts.
//!
//! # Invariants
//! A probe job's call key has index `u32::MAX` (never handed out by a
//! slab) and the probe kind as its generation; its call epoch is the
//! probe's sequence number. `inflight[r][kind]` is that number while the
//! probe waits for a verdict, 0 otherwise: an answer or timeout with
//! another number is stale and ignored. `restarting_any` counts the
//! `true` entries of `restarting`.

use rand::RngExt as _;

mod handed;

pub(in crate::model) use handed::ReplicaProbes;

use super::{Job, JobState, Requests};
use crate::engine::Nanos;
use crate::model::event::{Event, ProbeEvent};
use crate::model::slab::Key;
use crate::model::trace::Subject;
use crate::random::{self, Purpose, Rng};
use crate::resilience::Outcome;
use crate::resilience::deadline::Deadline;
use crate::scenario::{Outlier, ProbeSpec};

/// A readiness probe.
pub(super) const READY: u8 = 0;
/// A liveness probe.
pub(super) const LIVE: u8 = 1;

/// The call key a probe job of `kind` carries.
fn probe_key(kind: u8) -> Key {
    Key::from_id((u64::from(kind) << 32) | u64::from(u32::MAX))
}

/// Whether a job with this call key is a probe.
#[inline(always)]
pub(super) fn is_probe(call: Key) -> bool {
    call.id() as u32 == u32::MAX
}

/// The kind of a probe job's call key.
fn kind_of(call: Key) -> u8 {
    (call.id() >> 32) as u8
}

/// The request probes' state, reused across trials.
#[derive(Default)]
pub(super) struct ProbeState {
    /// Per replica, per kind: the sequence number of the probe awaiting a
    /// verdict, 0 for none.
    inflight: Vec<[u32; 2]>,
    seq: u32,
    /// Per replica: failed liveness probes in a row.
    live_fails: Vec<u32>,
    /// Per replica: out of service for a restart.
    restarting: Vec<bool>,
    /// How many replicas are restarting.
    restarting_any: u32,
    /// Per replica: no liveness probe before this time.
    not_before: Vec<Nanos>,
    /// Per replica: when its restart ends (while `restarting`).
    back_at: Vec<Nanos>,
    /// Per replica: restart times (only when a service has `liveness`).
    rng: Vec<Rng>,
    /// Per replica: (attempts, failed attempts) in the current detector
    /// interval.
    window: Vec<[u32; 2]>,
    /// Growing ejection times' multipliers.
    pub(super) ejections: super::ejection::Ejections,
}

impl ProbeState {
    /// Whether replica `r` is out of service for a restart.
    #[inline(always)]
    pub(super) fn restarting(&self, r: usize) -> bool {
        self.restarting_any > 0 && self.restarting[r]
    }
}

impl Requests<'_> {
    /// Resets the probe state and schedules the first liveness probes and
    /// detector sweeps after `from`.
    pub(super) fn start_probes(&mut self, seed: u64, trial: u64, from: Nanos) {
        let w = self.world;
        let n = w.replicas.len();
        let p = &mut self.traffic.probe;
        p.inflight.clear();
        p.inflight.resize(n, [0; 2]);
        p.seq = 0;
        p.live_fails.clear();
        p.live_fails.resize(n, 0);
        p.restarting.clear();
        p.restarting.resize(n, false);
        p.restarting_any = 0;
        p.not_before.clear();
        p.not_before.resize(n, 0);
        p.back_at.clear();
        p.back_at.resize(n, 0);
        p.window.clear();
        p.window.resize(n, [0; 2]);
        p.rng.clear();
        self.reset_ejections();
        let p = &mut self.traffic.probe;
        let live = w.services.iter().any(|s| s.serve.defence.probes.liveness.is_some());
        if live {
            p.rng.extend(
                w.replicas
                    .iter()
                    .map(|r| random::stream(seed, trial, Purpose::Health, (1 << 40) | r.stream)),
            );
        }
        for (g, spec) in w.groups.iter().enumerate() {
            let d = &w.services[spec.service].serve.defence;
            let stream = ((spec.service as u64) << 20) | spec.slot as u64;
            if let Some(l) = &d.probes.liveness {
                let offset =
                    random::stream(seed, trial, Purpose::Health, (2 << 40) | stream).random_range(0..l.interval);
                self.queue
                    .schedule(from + offset, Event::Probe(ProbeEvent::Liveness(g as u32)));
            }
            if let Some(o) = &d.outlier
                && (o.detectors.any() || o.max_eject.is_some())
            {
                // On the grid of multiples of the interval from time 0,
                // whenever the request component starts (a windowed run's
                // window keeps a full run's phase).
                let i = o.detectors.interval.max(1);
                self.queue.schedule(
                    (from / i + 1).saturating_mul(i),
                    Event::Probe(ProbeEvent::Sweep(g as u32)),
                );
            }
        }
    }

    pub(in crate::model) fn on_probe_event(&mut self, event: ProbeEvent, now: Nanos) {
        match event {
            ProbeEvent::Liveness(g) => self.on_liveness(g as usize, now),
            ProbeEvent::Timeout { replica, kind, seq } => {
                let r = replica as usize;
                if self.traffic.probe.inflight[r][kind as usize] == seq {
                    self.probe_verdict(r, kind, false, now);
                }
            }
            ProbeEvent::Restarted(r) => self.on_restarted(r as usize, now),
            ProbeEvent::Sweep(g) => self.on_sweep(g as usize, now),
            ProbeEvent::Cure { .. } => unreachable!("the trial carries out a cure"),
        }
    }

    /// The readiness probes of a group's tick, as requests.
    pub(super) fn send_readiness(&mut self, group: usize, spec: ProbeSpec, now: Nanos) {
        for r in self.world.groups[group].replicas.clone() {
            // An autoscaler's slot out of service is not probed.
            if !self.traffic.probe.restarting(r) && !self.traffic.health[r].out {
                self.send_probe(r, READY, spec, now);
            }
        }
    }

    fn on_liveness(&mut self, group: usize, now: Nanos) {
        let g = &self.world.groups[group];
        let l = self.world.services[g.service]
            .serve
            .defence
            .probes
            .liveness
            .as_ref()
            .expect("scheduled only with liveness");
        let (spec, interval) = (l.probe, l.interval);
        for r in g.replicas.clone() {
            let p = &self.traffic.probe;
            if p.restarting(r)
                || now < p.not_before[r]
                || !(self.availability.reachable(self.world, r) || self.hangs(r))
            {
                continue;
            }
            self.send_probe(r, LIVE, spec, now);
        }
        self.queue
            .schedule(now + interval, Event::Probe(ProbeEvent::Liveness(group as u32)));
    }

    /// Sends one probe of `kind` to replica `r`, unless one is in flight.
    fn send_probe(&mut self, r: usize, kind: u8, spec: ProbeSpec, now: Nanos) {
        let p = &mut self.traffic.probe;
        if p.inflight[r][kind as usize] != 0 {
            return;
        }
        p.seq = p.seq.wrapping_add(1).max(1);
        let seq = p.seq;
        p.inflight[r][kind as usize] = seq;
        let service = self.world.replicas[r].service;
        self.traffic.result.defence[service].probes += 1;
        if self.hangs(r) {
            // Accepted and never answered.
        } else if !self.reachable(r) {
            self.probe_verdict(r, kind, false, now);
            return;
        } else {
            let job = self.traffic.jobs.insert(Job {
                call: probe_key(kind),
                call_epoch: seq,
                service: service as u32,
                replica: r as u32,
                deadline: Deadline::after(now, Some(spec.timeout)),
                state: JobState::Arriving,
                next_call: 0,
                pending: 0,
                failed: false,
                degraded: false,
                low: false,
                queued_at: now,
            });
            self.arrive(job, now);
        }
        if self.traffic.probe.inflight[r][kind as usize] == seq {
            self.queue.schedule(
                now + spec.timeout,
                Event::Probe(ProbeEvent::Timeout {
                    replica: r as u32,
                    kind,
                    seq,
                }),
            );
        }
    }

    /// The probe job's slot time (instead of a service-time draw).
    #[inline(never)]
    pub(super) fn probe_cost(&self, service: usize, call: Key) -> Nanos {
        self.spec_of(service, kind_of(call)).cost
    }

    fn spec_of(&self, service: usize, kind: u8) -> ProbeSpec {
        let probes = &self.world.services[service].serve.defence.probes;
        if kind == READY {
            probes.readiness.expect("a readiness probe job")
        } else {
            probes.liveness.as_ref().expect("a liveness probe job").probe
        }
    }

    /// A probe job's own handler is done: answer, or call its
    /// dependencies (deep).
    #[inline(never)]
    pub(super) fn probe_served(&mut self, job: Key, now: Nanos) {
        let j = self.traffic.jobs.get(job).expect("a serving probe");
        let service = j.service as usize;
        let mask = self.spec_of(service, kind_of(j.call)).deep;
        if mask == 0 {
            self.complete_job(job, Outcome::Success, now);
            return;
        }
        let deadline = j.deadline;
        let calls = &self.world.services[service].serve.calls;
        let j = self.traffic.jobs.get_mut(job).expect("checked above");
        j.state = JobState::Calling;
        j.pending = mask.count_ones() as u16;
        for (i, &edge) in calls.iter().enumerate().take(64) {
            if mask & (1 << i) == 0 {
                continue;
            }
            if self.traffic.jobs.get(job).is_none() {
                break;
            }
            self.new_call(edge, super::Parent::Job { job }, deadline, now);
        }
    }

    /// One of a deep probe's calls is over.
    #[inline(never)]
    pub(super) fn probe_call_done(&mut self, job: Key, ok: bool, now: Nanos) {
        let j = self.traffic.jobs.get_mut(job).expect("checked by the caller");
        j.failed |= !ok;
        j.pending -= 1;
        if j.pending == 0 {
            let outcome = if j.failed { Outcome::Error } else { Outcome::Success };
            self.complete_job(job, outcome, now);
        }
    }

    /// A probe job ended (its slot already freed).
    pub(super) fn probe_answered(&mut self, j: &Job, ok: bool, now: Nanos) {
        let (r, kind) = (j.replica as usize, kind_of(j.call));
        if self.traffic.probe.inflight[r][kind as usize] == j.call_epoch {
            self.probe_verdict(r, kind, ok, now);
        }
    }

    fn probe_verdict(&mut self, r: usize, kind: u8, ok: bool, now: Nanos) {
        self.traffic.probe.inflight[r][kind as usize] = 0;
        if !ok {
            let service = self.world.replicas[r].service;
            self.traffic.result.defence[service].probes_failed += 1;
        }
        if kind == READY {
            self.readiness_verdict(r, ok, now);
            return;
        }
        let failures = self.world.services[self.world.replicas[r].service]
            .serve
            .defence
            .probes
            .liveness
            .as_ref()
            .expect("a liveness verdict")
            .failures;
        let p = &mut self.traffic.probe;
        if ok {
            p.live_fails[r] = 0;
            return;
        }
        p.live_fails[r] += 1;
        if p.live_fails[r] >= failures {
            self.restart(r, now);
        }
    }

    /// The orchestrator restarts replica `r`: its work is lost and it is
    /// out of service for a draw of the restart time.
    fn restart(&mut self, r: usize, now: Nanos) {
        let service = self.world.replicas[r].service;
        let l = self.world.services[service]
            .serve
            .defence
            .probes
            .liveness
            .as_ref()
            .expect("restarts come from liveness");
        let p = &mut self.traffic.probe;
        if p.restarting[r] {
            return;
        }
        let down = l.restart.sample(&mut p.rng[r]);
        let hung = self.hangs(r);
        let p = &mut self.traffic.probe;
        p.restarting[r] = true;
        p.restarting_any += 1;
        p.back_at[r] = now.saturating_add(down);
        p.live_fails[r] = 0;
        p.inflight[r] = [0; 2];
        self.traffic.result.defence[service].restarts += 1;
        self.record(now, "restarted", Subject::Replica(r));
        // The orchestrator takes it out of the endpoints at once; it must
        // pass its readiness check again to come back.
        let h = &mut self.traffic.health[r];
        h.oks = 0;
        h.fails = 0;
        if h.probe_ok {
            h.probe_ok = false;
            self.set_eligible(r);
            self.faults.signal(now);
            self.trace_health(r, now, false);
        }
        if hung {
            // The new process is not hung: the hang faults let go of it
            // before its connections are reset (a hung replica answers
            // nothing, resets included), and in the availability
            // component right after.
            let holds = self.faults.cure_hang(self.world, r);
            self.faults.signal(now);
            self.record(now, "hang_cured", Subject::Replica(r));
            self.queue.schedule(
                now,
                Event::Probe(ProbeEvent::Cure {
                    replica: r as u32,
                    holds: holds as u32,
                }),
            );
        }
        self.kill_replica_jobs(r, now);
        self.queue
            .schedule(now.saturating_add(down), Event::Probe(ProbeEvent::Restarted(r as u32)));
    }

    fn on_restarted(&mut self, r: usize, now: Nanos) {
        let service = self.world.replicas[r].service;
        let delay = self.world.services[service]
            .serve
            .defence
            .probes
            .liveness
            .as_ref()
            .map_or(0, |l| l.initial_delay);
        let p = &mut self.traffic.probe;
        p.restarting[r] = false;
        p.restarting_any -= 1;
        p.not_before[r] = now.saturating_add(delay);
        self.record(now, "restart_done", Subject::Replica(r));
    }

    /// Counts an attempt outcome for the interval detectors.
    #[inline]
    pub(super) fn window_observe(&mut self, r: usize, ok: bool) {
        let w = &mut self.traffic.probe.window[r];
        w[0] += 1;
        w[1] += u32::from(!ok);
    }

    /// Envoy's interval detectors over a group's last interval, then a
    /// fresh interval.
    fn on_sweep(&mut self, group: usize, now: Nanos) {
        let g = &self.world.groups[group];
        let o = self.world.services[g.service]
            .serve
            .defence
            .outlier
            .expect("scheduled only with outlier detection");
        let replicas = g.replicas.clone();
        // Envoy's order: replicas in service decay first, then the
        // detectors eject.
        self.decay_ejections(replicas.clone(), &o);
        let counts: Vec<[u32; 2]> = replicas
            .clone()
            .map(|r| std::mem::take(&mut self.traffic.probe.window[r]))
            .collect();
        for (r, detector) in judge(&o, &counts) {
            let r = replicas.start + r;
            if !self.traffic.health[r].ejected && self.eject(r, &o, now) {
                let d = &mut self.traffic.result.defence[g.service];
                match detector {
                    Detector::SuccessRate => d.ejected_success_rate += 1,
                    Detector::FailurePercentage => d.ejected_failure_percentage += 1,
                }
            }
        }
        self.queue.schedule(
            now.saturating_add(o.detectors.interval),
            Event::Probe(ProbeEvent::Sweep(group as u32)),
        );
    }
}

/// Which interval detector ejected a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detector {
    SuccessRate,
    FailurePercentage,
}

/// The replicas (indices into `counts`, each `[attempts, failures]` of
/// one interval) the interval detectors would eject, in index order, by
/// Envoy's rules: the success-rate detector runs when at least
/// `minimum_hosts` replicas reached `request_volume`, and flags those of
/// them below `mean - stdev_factor * stdev` (population deviation) of
/// their success rates; the failure-percentage detector runs when the
/// group has at least `minimum_hosts` replicas and flags those that
/// reached `request_volume` with a failed share at or above `threshold`.
/// A replica both flag is listed once, under success rate. The ejection
/// cap (`max_ejected`) applies afterwards.
pub(crate) fn judge(o: &Outlier, counts: &[[u32; 2]]) -> Vec<(usize, Detector)> {
    let mut out = Vec::new();
    if let Some(sr) = o.detectors.success_rate {
        let rates: Vec<(usize, f64)> = counts
            .iter()
            .enumerate()
            .filter(|(_, c)| c[0] >= sr.request_volume.max(1))
            .map(|(i, c)| (i, 1.0 - f64::from(c[1]) / f64::from(c[0])))
            .collect();
        if !rates.is_empty() && rates.len() >= sr.minimum_hosts as usize {
            let n = rates.len() as f64;
            let mean = rates.iter().map(|r| r.1).sum::<f64>() / n;
            let var = rates.iter().map(|r| (r.1 - mean).powi(2)).sum::<f64>() / n;
            let limit = mean - sr.stdev_factor * var.sqrt();
            out.extend(
                rates
                    .iter()
                    .filter(|r| r.1 < limit)
                    .map(|r| (r.0, Detector::SuccessRate)),
            );
        }
    }
    if let Some(fp) = o.detectors.failure_percentage
        && counts.len() >= fp.minimum_hosts as usize
    {
        for (i, c) in counts.iter().enumerate() {
            if c[0] >= fp.request_volume.max(1)
                && f64::from(c[1]) >= fp.threshold * f64::from(c[0])
                && !out.iter().any(|x| x.0 == i)
            {
                out.push((i, Detector::FailurePercentage));
            }
        }
        out.sort_by_key(|x| x.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Detectors, FailurePercentage, SuccessRate};

    fn outlier(sr: Option<SuccessRate>, fp: Option<FailurePercentage>) -> Outlier {
        Outlier {
            consecutive: 5,
            eject_for: 1,
            max_ejected: 1.0,
            max_eject: None,
            detectors: Detectors {
                interval: 1,
                success_rate: sr,
                failure_percentage: fp,
            },
        }
    }

    const SR: SuccessRate = SuccessRate {
        stdev_factor: 1.9,
        minimum_hosts: 5,
        request_volume: 100,
    };
    const FP: FailurePercentage = FailurePercentage {
        threshold: 0.85,
        minimum_hosts: 5,
        request_volume: 50,
    };

    /// Rates 1, 1, 1, 1, 0.5: mean 0.9, deviation 0.2, limit
    /// 0.9 - 1.9 * 0.2 = 0.52, so the fifth (0.5) goes. A lone deviant
    /// among five sits exactly sqrt(4) = 2 deviations below the mean,
    /// whatever its rate, so it always goes with a factor under 2.
    #[test]
    fn success_rate_ejects_a_lone_deviant_by_hand() {
        let o = outlier(Some(SR), None);
        let counts = [[100, 0], [100, 0], [100, 0], [100, 0], [100, 50]];
        assert_eq!(judge(&o, &counts), [(4, Detector::SuccessRate)]);
        let slight = [[200, 0], [100, 0], [100, 0], [100, 0], [100, 1]];
        assert_eq!(judge(&o, &slight), [(4, Detector::SuccessRate)]);
        let factor_2 = outlier(
            Some(SuccessRate {
                stdev_factor: 2.0,
                ..SR
            }),
            None,
        );
        assert!(judge(&factor_2, &counts).is_empty(), "2 deviations is not below 2");
    }

    /// Rates 1, 1, 1, 0.5, 0.5: mean 0.8, deviation sqrt(0.06) = 0.245,
    /// limit 0.335: two bad replicas hide each other.
    #[test]
    fn two_deviants_hide_each_other() {
        let o = outlier(Some(SR), None);
        let counts = [[100, 0], [100, 0], [100, 0], [100, 50], [100, 50]];
        assert!(judge(&o, &counts).is_empty());
        // The failure-percentage detector does not compare: at 50 % with a
        // 40 % threshold both go.
        let fp = outlier(None, Some(FailurePercentage { threshold: 0.4, ..FP }));
        assert_eq!(
            judge(&fp, &counts),
            [(3, Detector::FailurePercentage), (4, Detector::FailurePercentage)]
        );
    }

    /// A replica under `request_volume` is left out, and with fewer than
    /// `minimum_hosts` left the success-rate detector does not run.
    #[test]
    fn volume_and_minimum_hosts_gate_the_detectors() {
        let o = outlier(Some(SR), None);
        let counts = [[100, 0], [100, 0], [100, 0], [100, 0], [99, 99]];
        assert!(judge(&o, &counts).is_empty(), "the bad one is under the volume");
        let six = [[100, 0], [100, 0], [100, 0], [100, 0], [99, 99], [100, 60]];
        assert_eq!(judge(&o, &six), [(5, Detector::SuccessRate)]);
        let fp = outlier(None, Some(FP));
        // 43 / 50 = 0.86 goes; 42 / 50 = 0.84 stays; 49 / 49 is under the volume.
        let counts = [[50, 43], [50, 42], [49, 49], [60, 0], [60, 0]];
        assert_eq!(judge(&fp, &counts), [(0, Detector::FailurePercentage)]);
        // Four replicas: under minimum_hosts, the detector does not run.
        assert!(judge(&fp, &counts[..4]).is_empty());
    }

    /// A replica both detectors flag is listed once, under success rate.
    #[test]
    fn a_replica_both_flag_is_ejected_once() {
        let o = outlier(Some(SR), Some(FP));
        let counts = [[100, 0], [100, 0], [100, 0], [100, 0], [100, 100]];
        assert_eq!(judge(&o, &counts), [(4, Detector::SuccessRate)]);
    }

    #[test]
    fn a_probe_key_is_never_a_slab_key() {
        for kind in [READY, LIVE] {
            assert!(is_probe(probe_key(kind)));
            assert_eq!(kind_of(probe_key(kind)), kind);
        }
        let mut slab = crate::model::slab::Slab::default();
        let k = slab.insert(());
        assert!(!is_probe(k));
    }
}
