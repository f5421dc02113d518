//! The run's accumulator (mergeable, one per chunk of trials) and the
//! [`Summary`] computed from it, which *is* `summary.json`.
//!
//! Field order in the structs below is the order in the JSON; services and
//! regions keep the scenario's order. Every number is finite: a figure that
//! does not exist (nines of a perfect run's upper end, time to recover with
//! no incident) is `null`, never NaN or infinity.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::estimate::{Estimate, Latency};
use super::histogram::Quantiles;
use super::interval::{availability_at_least, availability_ci95, mean_ci95, nines, zero_event_bound};
use super::skewed::Skewed;
use super::welford::Welford;
use super::workflow::{WorkflowAcc, WorkflowSummary};
use crate::engine::time::{self, YEAR};
use crate::model::TrialResult;
use crate::model::counts::ClientCounts;
use crate::model::traffic::workflow::WorkflowHistograms;
use crate::model::traffic::{DefenceCounts, EdgeCounts, TrafficResult};
use hdrhistogram::Histogram;

/// Everything the trials measured, mergeable in trial order.
///
/// It serialises exactly (floats bit for bit, histograms bucket for bucket)
/// so that shards of a run can be merged elsewhere into the same figures
/// (`nines merge`); a field added here travels with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Accumulator {
    horizon_s: f64,
    availability: Skewed,
    downtime_year: Welford,
    downtime_year_q: Quantiles,
    incidents_year: Welford,
    total_downtime: f64,
    total_incidents: u64,
    /// Wall-clock length of every incident (absent in shards written
    /// before it was kept).
    #[serde(default)]
    total_incident_time: f64,
    with_downtime: u64,
    longest: f64,
    worst: Option<(u64, f64)>,
    services: Vec<Skewed>,
    own: Vec<Skewed>,
    cause_services: Vec<f64>,
    regions: Vec<Skewed>,
    cause_regions: Vec<f64>,
    events: u64,
    traffic: Option<TrafficAcc>,
    faults: Vec<super::faults::FaultTotals>,
    /// Deploys and maintenance windows (absent without them).
    #[serde(default)]
    ops: Option<super::ops::OpsTotals>,
    /// SLO windows and alert scores (absent without them).
    #[serde(default)]
    slo: Option<super::slo::SloAcc>,
}

/// Request-level figures across trials.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrafficAcc {
    requests: u64,
    success: u64,
    degraded: u64,
    failed: u64,
    latency_sum: f64,
    /// Served requests' latency (absent in shards written before it was
    /// kept).
    #[serde(default)]
    served_latency_sum: f64,
    entry_attempts: u64,
    entry_calls: u64,
    success_ratio: Welford,
    degraded_ratio: Welford,
    failed_ratio: Welford,
    #[serde(with = "super::histogram::exact")]
    latency_us: Histogram<u64>,
    #[serde(with = "super::histogram::exact", default = "empty_histogram")]
    served_latency_us: Histogram<u64>,
    services: Vec<(u64, u64, Welford)>,
    edges: Vec<EdgeCounts>,
    defence: Vec<DefenceCounts>,
    /// Per workflow; sized by the first trial (empty without workflows).
    workflows: Vec<WorkflowAcc>,
    /// Windowed request sampling's work, summed over trials (absent when
    /// every request was simulated).
    #[serde(default)]
    windowed: Option<crate::model::windowed::Windowed>,
    /// Per service, what its autoscalers did (empty without autoscaling).
    #[serde(default)]
    autoscale: Vec<super::autoscale::ScaleAcc>,
    /// Per edge, the waits of calls let in from a bulkhead's queue (empty
    /// without bulkheads).
    #[serde(default)]
    bulkhead_waits: Vec<super::bulkhead::Waits>,
    /// Caches and cold starts (empty without them).
    #[serde(default)]
    load: super::load::LoadAcc,
    /// Per edge, the calls that gave up in a bulkhead's queue (empty
    /// until one did).
    #[serde(default)]
    bulkhead_gave_up: Vec<super::bulkhead::GaveUpAcc>,
}

impl TrafficAcc {
    fn new(services: usize, edges: usize) -> Self {
        Self {
            requests: 0,
            success: 0,
            degraded: 0,
            failed: 0,
            latency_sum: 0.0,
            served_latency_sum: 0.0,
            entry_attempts: 0,
            entry_calls: 0,
            success_ratio: Welford::default(),
            degraded_ratio: Welford::default(),
            failed_ratio: Welford::default(),
            latency_us: empty_histogram(),
            served_latency_us: empty_histogram(),
            services: vec![(0, 0, Welford::default()); services],
            edges: vec![EdgeCounts::default(); edges],
            defence: vec![DefenceCounts::default(); services],
            workflows: Vec::new(),
            windowed: None,
            autoscale: Vec::new(),
            bulkhead_waits: Vec::new(),
            load: super::load::LoadAcc::default(),
            bulkhead_gave_up: Vec::new(),
        }
    }

    fn push(&mut self, t: &TrafficResult) {
        if let Some(w) = &t.windowed {
            self.windowed.get_or_insert_with(Default::default).add(w);
        }
        self.requests += t.requests;
        self.success += t.success;
        self.degraded += t.degraded;
        self.failed += t.failed;
        self.latency_sum += t.latency_sum;
        self.served_latency_sum += t.served_latency_sum;
        self.entry_attempts += t.entry_attempts;
        self.entry_calls += t.entry_calls;
        if t.requests > 0 {
            let n = t.requests as f64;
            self.success_ratio.push(t.success as f64 / n);
            self.degraded_ratio.push(t.degraded as f64 / n);
            self.failed_ratio.push(t.failed as f64 / n);
        }
        for (acc, &(received, ok)) in self.services.iter_mut().zip(&t.services) {
            acc.0 += received;
            acc.1 += ok;
            if received > 0 {
                acc.2.push(ok as f64 / received as f64);
            }
        }
        for (acc, e) in self.edges.iter_mut().zip(&t.edges) {
            add_counts(acc, e);
        }
        for (acc, d) in self.defence.iter_mut().zip(&t.defence) {
            add_defence(acc, d);
        }
        if self.workflows.is_empty() {
            self.workflows = t.workflows.iter().map(|w| WorkflowAcc::new(w.steps.len())).collect();
        }
        for (acc, w) in self.workflows.iter_mut().zip(&t.workflows) {
            acc.push(w);
        }
        super::autoscale::push(&mut self.autoscale, &t.autoscale);
        self.load.push(t);
    }

    fn merge(&mut self, o: &Self) {
        if let Some(w) = &o.windowed {
            self.windowed.get_or_insert_with(Default::default).add(w);
        }
        self.requests += o.requests;
        self.success += o.success;
        self.degraded += o.degraded;
        self.failed += o.failed;
        self.latency_sum += o.latency_sum;
        self.served_latency_sum += o.served_latency_sum;
        self.entry_attempts += o.entry_attempts;
        self.entry_calls += o.entry_calls;
        self.success_ratio.merge(&o.success_ratio);
        self.degraded_ratio.merge(&o.degraded_ratio);
        self.failed_ratio.merge(&o.failed_ratio);
        self.latency_us
            .add(&o.latency_us)
            .expect("auto-resizing histograms merge");
        self.served_latency_us
            .add(&o.served_latency_us)
            .expect("auto-resizing histograms merge");
        for (a, b) in self.services.iter_mut().zip(&o.services) {
            a.0 += b.0;
            a.1 += b.1;
            a.2.merge(&b.2);
        }
        for (a, b) in self.edges.iter_mut().zip(&o.edges) {
            add_counts(a, b);
        }
        for (a, b) in self.defence.iter_mut().zip(&o.defence) {
            add_defence(a, b);
        }
        if self.workflows.is_empty() {
            self.workflows = o.workflows.clone();
        } else {
            for (a, b) in self.workflows.iter_mut().zip(&o.workflows) {
                a.merge(b);
            }
        }
        super::autoscale::merge(&mut self.autoscale, &o.autoscale);
        super::bulkhead::merge(&mut self.bulkhead_waits, &o.bulkhead_waits);
        self.load.merge(&o.load);
        super::bulkhead::merge_gave_up(&mut self.bulkhead_gave_up, &o.bulkhead_gave_up);
    }
}

/// An empty latency histogram (microseconds, 3 significant digits).
fn empty_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is valid")
}

fn add_defence(a: &mut DefenceCounts, b: &DefenceCounts) {
    a.shed += b.shed;
    a.shed_wait += b.shed_wait;
    a.rate_limited += b.rate_limited;
    a.ejections += b.ejections;
    a.ejected_success_rate += b.ejected_success_rate;
    a.ejected_failure_percentage += b.ejected_failure_percentage;
    a.restarts += b.restarts;
    a.probes += b.probes;
    a.probes_failed += b.probes_failed;
}

fn add_counts(a: &mut EdgeCounts, b: &EdgeCounts) {
    a.calls += b.calls;
    a.attempts += b.attempts;
    a.retries += b.retries;
    a.timeouts += b.timeouts;
    a.errors += b.errors;
    a.refused += b.refused;
    a.breaker_rejected += b.breaker_rejected;
    a.bulkhead_rejected += b.bulkhead_rejected;
    a.fallbacks += b.fallbacks;
    a.failed += b.failed;
    a.succeeded += b.succeeded;
    a.breaker_open_s += b.breaker_open_s;
    a.bulkhead_peak = a.bulkhead_peak.max(b.bulkhead_peak);
    a.client.add(&b.client);
}

impl Accumulator {
    /// Per service: what its server-side defences and probes did (request
    /// level only).
    pub(crate) fn defence(&self) -> Option<&[DefenceCounts]> {
        self.traffic.as_ref().map(|t| t.defence.as_slice())
    }

    /// Per service: what its autoscalers did (empty without autoscaling),
    /// and the horizon in seconds.
    pub(crate) fn autoscale(&self) -> (&[super::autoscale::ScaleAcc], f64) {
        (
            self.traffic.as_ref().map_or(&[][..], |t| t.autoscale.as_slice()),
            self.horizon_s,
        )
    }

    /// An empty accumulator for `services` services and `regions` regions;
    /// `edges` is `Some(count)` when requests are simulated.
    pub fn new(horizon: u64, services: usize, regions: usize, edges: Option<usize>) -> Self {
        Self {
            horizon_s: time::to_secs(horizon),
            availability: Skewed::default(),
            downtime_year: Welford::default(),
            downtime_year_q: Quantiles::default(),
            incidents_year: Welford::default(),
            total_downtime: 0.0,
            total_incidents: 0,
            total_incident_time: 0.0,
            with_downtime: 0,
            longest: 0.0,
            worst: None,
            services: vec![Skewed::default(); services],
            own: vec![Skewed::default(); services],
            cause_services: vec![0.0; services],
            regions: vec![Skewed::default(); regions],
            cause_regions: vec![0.0; regions],
            events: 0,
            traffic: edges.map(|e| TrafficAcc::new(services, e)),
            faults: Vec::new(),
            ops: None,
            slo: None,
        }
    }

    /// Adds one trial's request latencies (microseconds): every concluded
    /// request's, and the served ones'.
    pub fn push_latency(&mut self, latency_us: &Histogram<u64>, served_us: &Histogram<u64>) {
        if let Some(t) = &mut self.traffic {
            t.latency_us.add(latency_us).expect("auto-resizing histograms merge");
            t.served_latency_us
                .add(served_us)
                .expect("auto-resizing histograms merge");
        }
    }

    /// Adds one trial's saga latency histograms, per workflow (after
    /// [`Accumulator::push`] of the same trial).
    pub fn push_workflow_histograms(&mut self, hists: &[WorkflowHistograms]) {
        if let Some(t) = &mut self.traffic {
            for (acc, h) in t.workflows.iter_mut().zip(hists) {
                acc.push_histograms(h);
            }
        }
    }

    /// Adds one trial's bulkhead waits, per edge (`None` where the edge
    /// has no bulkhead).
    pub fn push_bulkhead_waits<'a>(&mut self, edges: impl ExactSizeIterator<Item = Option<&'a Histogram<u64>>>) {
        if let Some(t) = &mut self.traffic {
            super::bulkhead::push(&mut t.bulkhead_waits, edges);
        }
    }

    /// Adds one trial's calls that gave up in a bulkhead's queue, per
    /// edge.
    pub fn push_bulkhead_gave_up<'a>(
        &mut self,
        edges: impl ExactSizeIterator<Item = Option<&'a crate::resilience::bulkhead::GaveUp>>,
    ) {
        if let Some(t) = &mut self.traffic {
            super::bulkhead::push_gave_up(&mut t.bulkhead_gave_up, edges);
        }
    }

    fn per_year(&self) -> f64 {
        time::to_secs(YEAR) / self.horizon_s
    }

    /// Adds trial `index`.
    pub fn push(&mut self, index: u64, r: &TrialResult) {
        let per_year = self.per_year();
        self.availability.push(r.availability);
        self.downtime_year.push(r.downtime * per_year);
        self.downtime_year_q.record(r.downtime * per_year);
        self.incidents_year.push(f64::from(r.incidents) * per_year);
        self.total_downtime += r.downtime;
        self.total_incidents += u64::from(r.incidents);
        self.total_incident_time += r.incident_time;
        self.with_downtime += u64::from(r.downtime > 0.0);
        self.longest = self.longest.max(r.longest_outage);
        if r.downtime > 0.0 && self.worst.is_none_or(|(_, d)| r.downtime > d) {
            self.worst = Some((index, r.downtime));
        }
        for (w, &x) in self.services.iter_mut().zip(&r.services) {
            w.push(x);
        }
        for (w, &x) in self.own.iter_mut().zip(&r.own) {
            w.push(x);
        }
        for (acc, &x) in self.cause_services.iter_mut().zip(&r.cause_services) {
            *acc += x;
        }
        for (w, &x) in self.regions.iter_mut().zip(&r.regions) {
            w.push(x);
        }
        for (acc, &x) in self.cause_regions.iter_mut().zip(&r.cause_regions) {
            *acc += x;
        }
        self.events += r.events;
        if let (Some(acc), Some(t)) = (&mut self.traffic, &r.traffic) {
            acc.push(t);
        }
        super::faults::push_all(&mut self.faults, &r.faults);
        if let Some(o) = &r.ops {
            let horizon_s = self.horizon_s;
            self.ops
                .get_or_insert_default()
                .push(o, r.downtime, horizon_s, per_year);
        }
        if let Some(t) = r.traffic.as_ref().and_then(|t| t.slo.as_ref()) {
            let h = self.horizon_s;
            self.slo
                .get_or_insert_with(|| super::slo::SloAcc::new(h))
                .push(index, t);
        }
    }

    /// Absorbs the trials of `other`, which come after ours.
    pub fn merge(&mut self, other: &Self) {
        self.availability.merge(&other.availability);
        self.downtime_year.merge(&other.downtime_year);
        self.downtime_year_q.merge(&other.downtime_year_q);
        self.incidents_year.merge(&other.incidents_year);
        self.total_downtime += other.total_downtime;
        self.total_incidents += other.total_incidents;
        self.total_incident_time += other.total_incident_time;
        self.with_downtime += other.with_downtime;
        self.longest = self.longest.max(other.longest);
        if let Some((i, d)) = other.worst
            && self.worst.is_none_or(|(_, w)| d > w)
        {
            self.worst = Some((i, d));
        }
        for (a, b) in self.services.iter_mut().zip(&other.services) {
            a.merge(b);
        }
        for (a, b) in self.own.iter_mut().zip(&other.own) {
            a.merge(b);
        }
        for (a, b) in self.cause_services.iter_mut().zip(&other.cause_services) {
            *a += b;
        }
        for (a, b) in self.regions.iter_mut().zip(&other.regions) {
            a.merge(b);
        }
        for (a, b) in self.cause_regions.iter_mut().zip(&other.cause_regions) {
            *a += b;
        }
        self.events += other.events;
        if let (Some(a), Some(b)) = (&mut self.traffic, &other.traffic) {
            a.merge(b);
        }
        super::faults::merge_all(&mut self.faults, &other.faults);
        if let Some(o) = &other.ops {
            self.ops.get_or_insert_default().merge(o);
        }
        match (&mut self.slo, &other.slo) {
            (Some(a), Some(b)) => a.merge(b),
            (None, Some(b)) => self.slo = Some(b.clone()),
            _ => {}
        }
    }

    /// SLO windows and alert scores, when trials carried them.
    pub fn slo(&self) -> Option<&super::slo::SloAcc> {
        self.slo.as_ref()
    }

    /// Trials absorbed.
    pub fn trials(&self) -> u64 {
        self.availability.count()
    }

    /// Events handled across all trials.
    pub fn events(&self) -> u64 {
        self.events
    }
}

/// Shortest horizon (seconds, a week) from which per-year figures are
/// shown. Per-year figures scale each trial by a year over its horizon: a
/// week is scaled 52 times, and covers a whole weekly cycle of traffic and
/// operations; a 20-minute trial would be scaled 26,280 times, so one
/// 30-second blip would read as 9 days of downtime a year. Below it the
/// table reports what a trial saw, per trial, and per-horizon budgets.
pub const PER_YEAR_FROM_S: f64 = 7.0 * 86_400.0;

/// Downtime per year across trials.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 95 % intervals of the percentiles, distribution-free
    /// ([`super::quantile_ci`]); the upper end is `null` when too few
    /// trials bound it.
    pub p50_ci95: [Option<f64>; 2],
    /// 95 % interval of `p90`.
    pub p90_ci95: [Option<f64>; 2],
    /// 95 % interval of `p99`.
    pub p99_ci95: [Option<f64>; 2],
}

/// The headline: the entry point's time-based availability.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Availability {
    /// Mean availability (1 when no downtime was seen).
    pub mean: f64,
    /// 95 % interval.
    pub ci95: [f64; 2],
    /// `-log10(1 - mean)`; with no downtime seen, the lower bound the
    /// trials support.
    pub nines: f64,
    /// nines at the interval's ends; `null` for an unbounded upper end.
    pub nines_ci95: [Option<f64>; 2],
    /// True when no downtime was seen and `nines` is a lower bound.
    pub nines_is_bound: bool,
    /// Splitting: the interval's half-width over the mean unavailability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative_error: Option<f64>,
    /// Closed-form availability, where one exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analytic: Option<f64>,
    /// Downtime per year (seconds) across trials.
    pub downtime_per_year_s: Spread,
    /// Downtime per trial (seconds) across trials: what a trial shorter
    /// than [`PER_YEAR_FROM_S`] actually saw, which the table shows instead
    /// of per-year figures.
    pub downtime_per_trial_s: Spread,
    /// Incidents (outages of the entry) per year.
    pub incidents_per_year: Estimate,
    /// Incidents per trial.
    pub incidents_per_trial: Estimate,
    /// Mean length of an incident (wall clock, from the first request
    /// lost to the moment all traffic is served again); `null` with none.
    pub mean_time_to_recover_s: Option<f64>,
    /// Mean traffic-weighted downtime per incident: what an incident cost.
    /// Equal to `mean_time_to_recover_s` when every incident loses all
    /// traffic; less when it loses a share (half the traffic for 30 s is
    /// 15 s); `null` with no incident.
    pub mean_traffic_lost_per_incident_s: Option<f64>,
    /// Longest incident in any trial.
    pub longest_outage_s: f64,
    /// Trials that saw any downtime.
    pub trials_with_downtime: u64,
}

/// One service's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceSummary {
    /// Availability including everything it requires.
    pub availability: Estimate,
    /// Availability by its own topology rule alone.
    pub own_availability: Estimate,
    /// Share of the entry's downtime during which this service's own rule
    /// was broken (shares can overlap and sum past 1).
    pub downtime_share: f64,
    /// Requests it served (request level only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<ServiceRequests>,
}

/// Requests at one service.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceRequests {
    /// Requests that reached a replica, over all trials.
    pub received: u64,
    /// Requests it answered with success / requests received (per trial, then across trials).
    pub success_ratio: Estimate,
    /// Requests refused because its queue was full (or, for low-priority
    /// requests, past `shed.low_priority_queue`), over all trials.
    pub shed: u64,
    /// Queued requests dropped after waiting past `shed.queue_wait`.
    pub shed_wait: u64,
    /// Requests refused by its rate limiter.
    pub rate_limited: u64,
    /// Replicas ejected by outlier detection.
    pub ejections: u64,
    /// Probes sent as requests, and how many failed (with request probes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<super::health::ProbeCounts>,
    /// Replicas restarted by their liveness probe (with `liveness`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarts: Option<u64>,
    /// `ejections` by detector (with an interval detector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ejections_by_detector: Option<super::health::EjectionsByDetector>,
    /// What its autoscalers did (with `autoscale`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<super::autoscale::AutoscaleSummary>,
    /// Cold starts taken and time spent cold (with `cold_start`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_start: Option<super::load::ColdStartSummary>,
}

/// A metric a run can be judged on, as the headline shows it: a fraction
/// with its 95 % interval and nines.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Headline {
    /// Mean across trials (1 when no failure was seen).
    pub mean: f64,
    /// 95 % interval.
    pub ci95: [f64; 2],
    /// `-log10(1 - mean)`; with no failure seen, the lower bound the trials
    /// support.
    pub nines: f64,
    /// nines at the interval's ends; `null` for an unbounded upper end.
    pub nines_ci95: [Option<f64>; 2],
    /// True when no failure was seen and `nines` is a lower bound.
    pub nines_is_bound: bool,
}

/// Request-level figures at the entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Requests {
    /// Requests concluded in all trials.
    pub total: u64,
    /// Requests served (full successes and degraded ones) / requests, per
    /// trial, Student t across trials. With no failed request in any trial
    /// the interval is the zero-event bound over trials, as for time: the
    /// expected share of failed requests is at most the chance that a trial
    /// has any, whose 95 % bound after `n` clean trials is `1 - 0.05^(1/n)`
    /// (requests within a trial are not independent, so their count gives
    /// no tighter honest bound).
    pub availability: Headline,
    /// Full successes / requests.
    pub success_ratio: Estimate,
    /// Fallbacks / requests (mean across trials).
    pub degraded_ratio: f64,
    /// 95 % interval of `degraded_ratio`.
    pub degraded_ratio_ci95: [f64; 2],
    /// Failures / requests.
    pub failed_ratio: Estimate,
    /// Attempts at the entry service / requests.
    pub attempts_per_request: f64,
    /// Latency of every concluded request, failed and refused ones
    /// included (a refusal counts with the time it took).
    pub latency_s: Latency,
    /// Latency of served requests only (full successes and degraded ones):
    /// what a user who was served waited. All zero with none served.
    pub latency_served_s: Latency,
    /// How requests were simulated (`"full"` or `"windowed"`); absent when
    /// `request_sampling` was left unset and every request was simulated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<String>,
    /// What windowed sampling did (windowed runs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windowed: Option<crate::model::windowed::WindowedSummary>,
}

/// One call edge, totals over all trials.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EdgeSummary {
    /// Original calls.
    pub calls: u64,
    /// Attempts sent to a replica.
    pub attempts: u64,
    /// Retries scheduled.
    pub retries: u64,
    /// Attempts that timed out.
    pub timeouts: u64,
    /// Attempts answered with an error, refused or reset
    /// (`server_errors + refused`).
    pub errors: u64,
    /// Attempts the callee answered with an error.
    pub server_errors: u64,
    /// Attempts the callee did not serve: refused (a full queue, a rate
    /// limiter, a shed), reset (its replica crashed) or unreachable (no
    /// serving replica, a partition).
    pub refused: u64,
    /// Attempts the circuit breaker rejected.
    pub breaker_rejected: u64,
    /// Fraction of time the breaker was open.
    pub breaker_open_fraction: f64,
    /// Attempts the bulkhead rejected.
    pub bulkhead_rejected: u64,
    /// Most calls running at once in the bulkhead, in any trial.
    pub bulkhead_peak: u32,
    /// Calls that ended in their fallback.
    pub fallbacks: u64,
    /// Calls that failed.
    pub failed: u64,
    /// Attempts sent per call (retry amplification).
    pub attempts_per_call: f64,
    /// Calls that succeeded (fully or degraded) / calls.
    pub success_ratio: f64,
    /// Hedged requests (only where `hedge` is configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hedge: Option<HedgeSummary>,
    /// The retry budget by concurrency (only where configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_concurrency: Option<RetryConcurrencySummary>,
    /// The bulkhead's books (only where a bulkhead is configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulkhead: Option<BulkheadSummary>,
    /// The call's cache (only where `cache` is configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<super::load::CacheSummary>,
}

/// What hedging did on one edge, totals over all trials.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HedgeSummary {
    /// Hedges sent.
    pub sent: u64,
    /// Hedges whose answer came first.
    pub won: u64,
    /// Losing copies cancelled.
    pub cancelled: u64,
    /// Hedges the hedge budget refused.
    pub budget_refused: u64,
    /// Hedges sent per call.
    pub per_call: f64,
}

/// What the retry budget by concurrency did on one edge.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RetryConcurrencySummary {
    /// Retries it refused.
    pub refused: u64,
    /// Most retries in flight at once, in any trial.
    pub peak_in_flight: u64,
}

/// A bulkhead's books on one edge, totals over all trials.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BulkheadSummary {
    /// Calls let run, at once or from the queue.
    pub accepted: u64,
    /// Calls turned away (full) or abandoned while waiting.
    pub rejected: u64,
    /// Most calls running at once, in any trial.
    pub peak_in_use: u32,
    /// Most calls waiting at once, in any trial.
    pub peak_waiting: u32,
    /// Calls that waited in the queue and were then let in.
    pub queued: u64,
    /// Their mean wait, seconds (0 with none).
    pub mean_wait_s: f64,
    /// Median of their waits, seconds (0 with none).
    #[serde(default)]
    pub wait_p50_s: f64,
    /// 90th percentile of their waits, seconds (0 with none).
    #[serde(default)]
    pub wait_p90_s: f64,
    /// 99th percentile of their waits, seconds (0 with none).
    #[serde(default)]
    pub wait_p99_s: f64,
    /// Their longest wait, seconds (0 with none).
    #[serde(default)]
    pub wait_max_s: f64,
    /// The calls that gave up waiting (only where the bulkhead has a
    /// `queue_timeout`).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub gave_up: Option<super::bulkhead::QueueTimeouts>,
}

/// One region's figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RegionSummary {
    /// Fraction of time the region was up.
    pub availability: Estimate,
    /// Share of the entry's downtime during which this region was down.
    pub downtime_share: f64,
}

/// The trial with the most downtime, to rerun and inspect.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Worst {
    /// Trial index.
    pub trial: u64,
    /// Its entry downtime (seconds).
    pub downtime_s: f64,
}

/// `summary.json`: what [`crate::simulate`] returns. It reads back from
/// the file (`serde_json::from_str`; the header keys are skipped) into the
/// same value, but for the CDFs kept for plots, which the file does not
/// hold.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// Trials run.
    pub trials: u64,
    /// Simulated time per trial (seconds).
    pub horizon_s: f64,
    /// Entry service.
    pub entry: String,
    /// What the run is judged on, `"requests"` or `"time"`: the headline,
    /// the SLO, `compare`'s significance and `sweep`'s curves use that
    /// metric ([`Summary::headline`]).
    pub objective: String,
    /// How the entry's availability was estimated: `crude` (independent
    /// trials) or `splitting` (rare-event splitting, with [`Summary::splitting`]).
    pub estimator: String,
    /// Entry availability.
    pub availability: Availability,
    /// Per service, in scenario order.
    pub services: IndexMap<String, ServiceSummary>,
    /// Per region, in scenario order (omitted without regions).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub regions: IndexMap<String, RegionSummary>,
    /// Request-level figures (omitted without workloads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Requests>,
    /// Per call edge `FROM->TO` (omitted without workloads).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub edges: IndexMap<String, EdgeSummary>,
    /// Per workflow (sagas), in scenario order (omitted without workflows).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub workflows: IndexMap<String, WorkflowSummary>,
    /// The availability objective, when the scenario or `--slo` sets one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slo: Option<Slo>,
    /// Per injected fault, in scenario order (omitted without faults).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub faults: IndexMap<String, super::faults::FaultSummary>,
    /// The trial with the most downtime; `null` when none had any.
    pub worst_trial: Option<Worst>,
    /// Events simulated in all trials.
    pub events: u64,
    /// The splitting estimator's effort, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub splitting: Option<Splitting>,
    /// The regenerative estimator's effort, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regenerative: Option<Regenerative>,
    /// With `--precision`: the target, what was achieved and whether it was
    /// reached before the trial cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
    /// True when the run was interrupted and `trials` counts the trials
    /// done; omitted for a complete run.
    #[serde(default, skip_serializing_if = "is_false")]
    pub partial: bool,
    /// Deploys and maintenance windows: planned and unplanned downtime,
    /// and what each deploy did (omitted without them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<super::ops::OpsSummary>,
    /// Downtime per year across trials as a CDF `(seconds, share)`, for plots.
    #[serde(skip)]
    pub downtime_cdf: Vec<(f64, f64)>,
    /// Request latency as a CDF `(seconds, share)`, for plots.
    #[serde(skip)]
    pub latency_cdf: Vec<(f64, f64)>,
    /// Request availability over SLO windows (`slo.window`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_windows: Option<super::slo::WindowsSummary>,
    /// Alert rules scored against the simulated incidents (`[[alert]]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<super::slo::AlertsSummary>,
    /// Budget consumed per SLO window as a CDF `(budget, share)`, for plots.
    #[serde(skip)]
    pub window_budget_cdf: Vec<(f64, f64)>,
}

/// What the splitting estimator did (see `montecarlo::splitting`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Splitting {
    /// Why it ran rather than crude trials.
    pub reason: String,
    /// Independent replications behind the interval.
    pub replications: u64,
    /// Levels up to an outage (the last is the outage).
    pub levels: usize,
    /// Copies a trajectory becomes on entering each level, from level 1.
    pub factors: Vec<u64>,
    /// Pilot runs that chose them.
    pub pilots: u64,
    /// Simulated time before each replication's window (seconds).
    pub warmup_s: f64,
    /// Each replication's window (seconds).
    pub window_s: f64,
    /// Events in the replications (pilots excluded).
    pub events: u64,
    /// Trajectory copies made in the replications.
    pub copies: u64,
}

/// What the regenerative estimator did (see `montecarlo::regenerative`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Regenerative {
    /// Why it ran rather than crude trials.
    pub reason: String,
    /// Independent regenerative cycles (from all-up back to all-up).
    pub cycles: u64,
    /// Cycles that reached an outage of the entry.
    pub outage_cycles: u64,
    /// Transitions over all cycles.
    pub events: u64,
    /// Mean weighted cycle length (seconds).
    pub mean_cycle_s: f64,
    /// Total probability given to failures before a cycle's first outage.
    pub bias: f64,
}

/// The outcome of a run to a precision target (`--precision`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Precision {
    /// Asked width of the 95 % interval on nines.
    pub target: f64,
    /// Width reached; `null` while the interval is unbounded (no downtime
    /// seen, or its upper end at availability 1).
    pub achieved: Option<f64>,
    /// True when `achieved <= target`; false when the trial cap (or an
    /// interruption) came first.
    pub reached: bool,
    /// Trials per batch: the interval is checked after each batch.
    pub batch: u64,
    /// The trial cap (`--max-trials`).
    pub max_trials: u64,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Whether the design meets its availability objective.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Slo {
    /// The objective, e.g. 0.9999.
    pub target: f64,
    /// The metric judged against it: `"requests"` or `"time"` (the run's
    /// objective).
    pub metric: String,
    /// True when the whole 95 % interval of the metric is at or above it.
    pub meets: bool,
    /// Confidence that the metric's long-run value is at or above the
    /// objective: the one-sided Student t probability given the trials, or
    /// (time-based) under the gamma law of the interval when downtime is
    /// skewed (`stats::interval`).
    pub confidence: f64,
    /// Judged on requests: the share of requests that failed (mean across
    /// trials), against the `1 - target` the objective allows. The per-year
    /// figures below stay time-based.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_requests: Option<f64>,
    /// Downtime a year the objective allows (seconds).
    pub error_budget_per_year_s: f64,
    /// Mean downtime a year spends of it (seconds).
    pub expected_downtime_per_year_s: f64,
    /// Budget left a year on average (negative when overspent).
    pub budget_left_per_year_s: f64,
    /// Share of simulated years that stayed within the budget.
    pub years_within_budget: f64,
    /// True when planned downtime (maintenance windows) was left out of
    /// the verdict (`slo.exclude_planned`): it is then judged on the
    /// time-based availability without it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub excludes_planned: bool,
}

/// Names and context the accumulator does not carry.
pub struct Labels<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// Master seed.
    pub seed: u64,
    /// Entry service name.
    pub entry: &'a str,
    /// Service names in order.
    pub services: Vec<&'a str>,
    /// Region names in order.
    pub regions: Vec<&'a str>,
    /// Closed-form availability, if any.
    pub analytic: Option<f64>,
    /// Call edge names `FROM->TO`, in world order.
    pub edges: Vec<String>,
    /// Availability objective, if any.
    pub slo: Option<f64>,
    /// What the run is judged on.
    pub objective: crate::scenario::Objective,
    /// Injected faults in scenario order.
    pub faults: Vec<super::faults::FaultLabel<'a>>,
    /// Workflow names, each with its step names, in scenario order.
    pub workflows: Vec<(String, Vec<String>)>,
    /// Deploys, named by their service, in scenario order.
    pub deploys: Vec<&'a str>,
    /// `slo.exclude_planned`: the verdict leaves planned downtime out.
    pub exclude_planned: bool,
}

/// A fraction of time: the interval that covers when downtime is skewed.
fn availability_estimate(s: &Skewed) -> Estimate {
    Estimate {
        mean: s.mean(),
        ci95: availability_ci95(s),
    }
}

impl Summary {
    /// Computes the summary of everything in `acc`.
    pub fn new(acc: &Accumulator, labels: &Labels<'_>) -> Self {
        let n = acc.trials();
        let share = |x: f64| {
            if acc.total_downtime > 0.0 {
                x / acc.total_downtime
            } else {
                0.0
            }
        };
        // Per-trial figures are the per-year ones scaled back by the horizon.
        let per_trial = acc.horizon_s / time::to_secs(YEAR);
        let availability = if acc.with_downtime == 0 {
            let bound = zero_event_bound(n);
            Availability {
                mean: 1.0,
                ci95: [1.0 - bound, 1.0],
                nines: nines(1.0 - bound).unwrap_or(0.0),
                nines_ci95: [nines(1.0 - bound), None],
                nines_is_bound: true,
                relative_error: None,
                analytic: labels.analytic,
                downtime_per_year_s: Spread::new(&acc.downtime_year, &acc.downtime_year_q),
                downtime_per_trial_s: Spread::new(&acc.downtime_year, &acc.downtime_year_q).scaled(per_trial),
                incidents_per_year: Estimate {
                    mean: 0.0,
                    ci95: [0.0, 0.0],
                },
                incidents_per_trial: Estimate {
                    mean: 0.0,
                    ci95: [0.0, 0.0],
                },
                mean_time_to_recover_s: None,
                mean_traffic_lost_per_incident_s: None,
                longest_outage_s: 0.0,
                trials_with_downtime: 0,
            }
        } else {
            let mean = acc.availability.mean().min(1.0);
            let ci95 = availability_ci95(&acc.availability);
            let q = &acc.downtime_year_q;
            Availability {
                mean,
                ci95,
                nines: nines(mean).unwrap_or(0.0),
                nines_ci95: [Some(nines(ci95[0]).unwrap_or(0.0)), nines(ci95[1])],
                nines_is_bound: false,
                relative_error: None,
                analytic: labels.analytic,
                downtime_per_year_s: Spread::new(&acc.downtime_year, q),
                downtime_per_trial_s: Spread::new(&acc.downtime_year, q).scaled(per_trial),
                incidents_per_year: Estimate {
                    mean: acc.incidents_year.mean(),
                    ci95: mean_ci95(&acc.incidents_year, 0.0, f64::MAX),
                },
                incidents_per_trial: {
                    let ci = mean_ci95(&acc.incidents_year, 0.0, f64::MAX);
                    Estimate {
                        mean: acc.incidents_year.mean() * per_trial,
                        ci95: [ci[0] * per_trial, ci[1] * per_trial],
                    }
                },
                mean_time_to_recover_s: (acc.total_incidents > 0)
                    .then(|| acc.total_incident_time / acc.total_incidents as f64),
                mean_traffic_lost_per_incident_s: (acc.total_incidents > 0)
                    .then(|| acc.total_downtime / acc.total_incidents as f64),
                longest_outage_s: acc.longest,
                trials_with_downtime: acc.with_downtime,
            }
        };
        let services = labels
            .services
            .iter()
            .enumerate()
            .map(|(i, name)| {
                (
                    name.to_string(),
                    ServiceSummary {
                        availability: availability_estimate(&acc.services[i]),
                        own_availability: availability_estimate(&acc.own[i]),
                        downtime_share: share(acc.cause_services[i]),
                        requests: acc.traffic.as_ref().map(|t| ServiceRequests {
                            received: t.services[i].0,
                            success_ratio: Estimate::of(&t.services[i].2),
                            shed: t.defence[i].shed,
                            shed_wait: t.defence[i].shed_wait,
                            rate_limited: t.defence[i].rate_limited,
                            ejections: t.defence[i].ejections,
                            probes: None,
                            restarts: None,
                            ejections_by_detector: None,
                            autoscale: None,
                            cold_start: None,
                        }),
                    },
                )
            })
            .collect();
        let regions = labels
            .regions
            .iter()
            .enumerate()
            .map(|(i, name)| {
                (
                    name.to_string(),
                    RegionSummary {
                        availability: availability_estimate(&acc.regions[i]),
                        downtime_share: share(acc.cause_regions[i]),
                    },
                )
            })
            .collect();
        Summary {
            scenario: labels.scenario.to_string(),
            seed: labels.seed,
            trials: n,
            horizon_s: acc.horizon_s,
            entry: labels.entry.to_string(),
            objective: objective(acc, labels).name().to_string(),
            estimator: "crude".to_string(),
            availability,
            services,
            regions,
            requests: acc.traffic.as_ref().map(|t| requests(t, n)),
            edges: acc
                .traffic
                .as_ref()
                .map(|t| {
                    let exposure = acc.horizon_s * n as f64;
                    labels
                        .edges
                        .iter()
                        .zip(&t.edges)
                        .enumerate()
                        .map(|(i, (name, e))| {
                            let waits = super::bulkhead::quantiles(&t.bulkhead_waits, i);
                            (name.clone(), edge(e, exposure, waits))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            workflows: acc
                .traffic
                .as_ref()
                .map(|t| {
                    labels
                        .workflows
                        .iter()
                        .zip(&t.workflows)
                        .enumerate()
                        .map(|(i, ((name, steps), w))| {
                            let shared = t
                                .windowed
                                .as_ref()
                                .map_or([0.0; 3], |x| x.shared_workflow_variance(n, i));
                            (name.clone(), WorkflowSummary::with_shared(w, steps, shared))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            slo: labels.slo.map(|target| {
                let mut s = slo(acc, target, objective(acc, labels));
                if labels.exclude_planned
                    && let Some(o) = &acc.ops
                {
                    // Judged on the time-based availability without planned
                    // downtime, whatever the objective (docs/operations.md).
                    let v = o.unplanned_verdict(s.target, s.error_budget_per_year_s);
                    s.confidence = v.confidence;
                    s.metric = "time".into();
                    s.meets = v.meets;
                    s.failed_requests = None;
                    s.excludes_planned = true;
                    s.expected_downtime_per_year_s = v.expected_downtime_per_year_s;
                    s.budget_left_per_year_s = s.error_budget_per_year_s - v.expected_downtime_per_year_s;
                    s.years_within_budget = v.years_within_budget;
                }
                s
            }),
            faults: super::faults::summarize(&acc.faults, &labels.faults, &labels.services, n, acc.traffic.is_some()),
            worst_trial: acc.worst.map(|(trial, downtime_s)| Worst { trial, downtime_s }),
            splitting: None,
            regenerative: None,
            events: acc.events,
            precision: None,
            partial: false,
            operations: acc.ops.as_ref().map(|o| o.summarize(&labels.deploys)),
            downtime_cdf: acc.downtime_year_q.cdf(),
            latency_cdf: acc
                .traffic
                .as_ref()
                .map(|t| super::histogram::cdf_of(&t.latency_us, 1e-6))
                .unwrap_or_default(),
            slo_windows: None,
            alerts: None,
            window_budget_cdf: Vec::new(),
        }
    }
}

impl Summary {
    /// The metric the run is judged on: the request availability with the
    /// request objective, else the entry's time-based availability.
    pub fn headline(&self) -> Headline {
        if self.objective == crate::scenario::Objective::Requests.name()
            && let Some(r) = &self.requests
        {
            return r.availability.clone();
        }
        let a = &self.availability;
        Headline {
            mean: a.mean,
            ci95: a.ci95,
            nines: a.nines,
            nines_ci95: a.nines_ci95,
            nines_is_bound: a.nines_is_bound,
        }
    }
}

/// The objective, on requests only where requests were simulated.
fn objective(acc: &Accumulator, labels: &Labels<'_>) -> crate::scenario::Objective {
    match (labels.objective, &acc.traffic) {
        (crate::scenario::Objective::Requests, Some(_)) => crate::scenario::Objective::Requests,
        _ => crate::scenario::Objective::Time,
    }
}

/// Requests served over requests, per trial; see [`Requests::availability`].
fn request_availability(t: &TrafficAcc, trials: u64) -> Headline {
    if t.failed == 0 {
        let low = 1.0 - zero_event_bound(trials);
        return Headline {
            mean: 1.0,
            ci95: [low, 1.0],
            nines: nines(low).unwrap_or(0.0),
            nines_ci95: [nines(low), None],
            nines_is_bound: true,
        };
    }
    // Per trial, served = 1 - failed / requests (every concluded request
    // is a success, a degraded success or a failure).
    let w = &t.failed_ratio;
    let mean = (1.0 - w.mean()).clamp(0.0, 1.0);
    let f = shared_ci95(w, t, trials, 2);
    let ci95 = [1.0 - f[1], 1.0 - f[0]];
    Headline {
        mean,
        ci95,
        nines: nines(mean).unwrap_or(0.0),
        nines_ci95: [Some(nines(ci95[0]).unwrap_or(0.0)), nines(ci95[1])],
        nines_is_bound: false,
    }
}

/// The 95 % interval of the mean of per-trial share `w` (0 success, 1
/// degraded, 2 failed): Student t across trials, plus, in a windowed run,
/// the variance of the stationary samples the trials share
/// ([`crate::model::windowed::Windowed::shared_variance`]), which the
/// spread across trials cannot show.
fn shared_ci95(w: &Welford, t: &TrafficAcc, trials: u64, share: usize) -> [f64; 2] {
    let extra = t.windowed.as_ref().map_or(0.0, |x| x.shared_variance(trials)[share]);
    // A diurnal swing's interpolation between rate levels: a bias bound,
    // added to the half-width.
    let bias = t.windowed.as_ref().map_or(0.0, |x| x.bias_bound(trials));
    if (extra <= 0.0 && bias <= 0.0) || w.count() < 2 {
        return mean_ci95(w, 0.0, 1.0);
    }
    let half = super::interval::t95(w.count()) * (w.std_error().powi(2) + extra).sqrt() + bias;
    [(w.mean() - half).max(0.0), (w.mean() + half).min(1.0)]
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Mean and quantiles of `n` latencies summing to `sum_s` seconds,
/// recorded in `h` (microseconds); zero with none.
fn latency_of(sum_s: f64, n: u64, h: &Histogram<u64>) -> Latency {
    let q = |p: f64| {
        if h.is_empty() {
            0.0
        } else {
            h.median_equivalent(h.value_at_quantile(p)) as f64 / 1e6
        }
    };
    Latency {
        mean: if n == 0 { 0.0 } else { sum_s / n as f64 },
        p50: q(0.5),
        p90: q(0.9),
        p99: q(0.99),
        p999: q(0.999),
    }
}

fn requests(t: &TrafficAcc, trials: u64) -> Requests {
    Requests {
        total: t.requests,
        availability: request_availability(t, trials),
        success_ratio: Estimate {
            mean: t.success_ratio.mean(),
            ci95: shared_ci95(&t.success_ratio, t, trials, 0),
        },
        degraded_ratio: t.degraded_ratio.mean(),
        degraded_ratio_ci95: shared_ci95(&t.degraded_ratio, t, trials, 1),
        failed_ratio: Estimate {
            mean: t.failed_ratio.mean(),
            ci95: shared_ci95(&t.failed_ratio, t, trials, 2),
        },
        attempts_per_request: ratio(t.entry_attempts, t.entry_calls),
        latency_s: latency_of(t.latency_sum, t.requests, &t.latency_us),
        latency_served_s: latency_of(t.served_latency_sum, t.success + t.degraded, &t.served_latency_us),
        sampling: None,
        windowed: t.windowed.as_ref().map(|w| w.summary(trials)),
    }
}

/// Edge `e`'s figures; `waits`: its bulkhead's wait p50, p90, p99 and
/// max ([`super::bulkhead::quantiles`]).
fn edge(e: &EdgeCounts, exposure_s: f64, waits: [f64; 4]) -> EdgeSummary {
    EdgeSummary {
        calls: e.calls,
        attempts: e.attempts,
        retries: e.retries,
        timeouts: e.timeouts,
        errors: e.errors,
        server_errors: e.errors - e.refused,
        refused: e.refused,
        breaker_rejected: e.breaker_rejected,
        breaker_open_fraction: if exposure_s > 0.0 {
            e.breaker_open_s / exposure_s
        } else {
            0.0
        },
        bulkhead_rejected: e.bulkhead_rejected,
        bulkhead_peak: e.bulkhead_peak,
        fallbacks: e.fallbacks,
        failed: e.failed,
        attempts_per_call: ratio(e.attempts, e.calls),
        success_ratio: ratio(e.succeeded, e.succeeded + e.failed),
        hedge: (e.client.configured & ClientCounts::HEDGE != 0).then(|| HedgeSummary {
            sent: e.client.hedges,
            won: e.client.hedges_won,
            cancelled: e.client.hedges_cancelled,
            budget_refused: e.client.hedges_refused,
            per_call: ratio(e.client.hedges, e.calls),
        }),
        retry_concurrency: (e.client.configured & ClientCounts::CONCURRENCY != 0).then_some(RetryConcurrencySummary {
            refused: e.client.retries_refused_concurrency,
            peak_in_flight: e.client.retry_concurrency_peak,
        }),
        bulkhead: (e.client.configured & ClientCounts::BULKHEAD != 0).then(|| BulkheadSummary {
            accepted: e.client.bulkhead_accepted,
            rejected: e.bulkhead_rejected,
            peak_in_use: e.bulkhead_peak,
            peak_waiting: e.client.bulkhead_peak_waiting,
            queued: e.client.bulkhead_queued,
            mean_wait_s: if e.client.bulkhead_queued > 0 {
                e.client.bulkhead_wait_s / e.client.bulkhead_queued as f64
            } else {
                0.0
            },
            wait_p50_s: waits[0],
            wait_p90_s: waits[1],
            wait_p99_s: waits[2],
            wait_max_s: waits[3],
            gave_up: None,
        }),
        cache: None,
    }
}

fn slo(acc: &Accumulator, target: f64, objective: crate::scenario::Objective) -> Slo {
    let year = time::to_secs(YEAR);
    let budget = (1.0 - target) * year;
    let n = acc.trials();
    let judged = match (objective, &acc.traffic) {
        (crate::scenario::Objective::Requests, Some(t)) => {
            let h = request_availability(t, n);
            let w = &t.failed_ratio;
            let confidence = if h.nines_is_bound {
                if h.ci95[0] >= target { 0.975 } else { 0.5 }
            } else if w.std_error() > 0.0 && w.count() > 1 {
                statrs::distribution::StudentsT::new(0.0, 1.0, (w.count() - 1) as f64)
                    .map(|d| statrs::distribution::ContinuousCDF::cdf(&d, (h.mean - target) / w.std_error()))
                    .unwrap_or(0.5)
            } else if h.mean >= target {
                1.0
            } else {
                0.0
            };
            Some((h, confidence))
        }
        _ => None,
    };
    let w = acc.availability.welford();
    let (mean, ci) = if acc.with_downtime == 0 {
        (1.0, [1.0 - zero_event_bound(n), 1.0])
    } else {
        (w.mean(), availability_ci95(&acc.availability))
    };
    let confidence = if acc.with_downtime == 0 {
        // Only the bound is known: certain above it, unknown below.
        if ci[0] >= target { 0.975 } else { 0.5 }
    } else if w.std_error() > 0.0 && n > 1 {
        availability_at_least(&acc.availability, target)
    } else if mean >= target {
        1.0
    } else {
        0.0
    };
    let expected = acc.downtime_year.mean();
    let (metric, meets, confidence, failed_requests) = match judged {
        Some((h, c)) => ("requests", h.ci95[0] >= target, c, Some(1.0 - h.mean)),
        None => ("time", ci[0] >= target, confidence, None),
    };
    Slo {
        target,
        metric: metric.to_string(),
        meets,
        confidence,
        failed_requests,
        error_budget_per_year_s: budget,
        expected_downtime_per_year_s: expected,
        budget_left_per_year_s: budget - expected,
        years_within_budget: if acc.with_downtime == 0 {
            1.0
        } else {
            acc.downtime_year_q.fraction_at_or_below(budget)
        },
        excludes_planned: false,
    }
}

/// Fills `autoscale` on each autoscaled service.
pub fn annotate_autoscale(summary: &mut Summary, scenario: &crate::scenario::Scenario, acc: &Accumulator) {
    let (per_service, horizon_s) = acc.autoscale();
    for (i, s) in scenario.services.iter().enumerate() {
        if s.defence.autoscale.is_none() {
            continue;
        }
        let Some(a) = per_service.get(i).and_then(|a| a.summary(horizon_s)) else {
            continue;
        };
        if let Some(req) = summary.services.get_mut(&s.name).and_then(|x| x.requests.as_mut()) {
            req.autoscale = Some(a);
        }
    }
}

/// Fills `cache` on each call with a cache, `cold_start` on each service
/// with a cold start, and the queue timeouts of each bulkhead with a
/// `queue_timeout`.
pub fn annotate_load(summary: &mut Summary, scenario: &crate::scenario::Scenario, acc: &Accumulator) {
    let Some(t) = &acc.traffic else { return };
    let timed_out = |p: &crate::scenario::ClientPolicy| p.bulkhead.as_ref().is_some_and(|b| b.queue_timeout.is_some());
    let mut set_gave_up = |name: String, edge: usize| {
        if let Some(b) = summary.edges.get_mut(&name).and_then(|e| e.bulkhead.as_mut()) {
            b.gave_up = Some(super::bulkhead::gave_up(&t.bulkhead_gave_up, edge));
        }
    };
    // Edges in world order: workloads first, then each service's calls.
    for (i, w) in scenario.workloads.iter().enumerate() {
        if timed_out(&w.policy) {
            set_gave_up(format!("{}->{}", w.name, scenario.services[w.to].name), i);
        }
    }
    let mut edge = scenario.workloads.len();
    for s in &scenario.services {
        for c in &s.calls {
            if timed_out(&c.policy) {
                set_gave_up(format!("{}->{}", s.name, scenario.services[c.to].name), edge);
            }
            edge += 1;
        }
    }
    let mut edge = scenario.workloads.len();
    for (i, s) in scenario.services.iter().enumerate() {
        let load = s.load.as_ref();
        for (k, c) in s.calls.iter().enumerate() {
            if load.is_some_and(|l| l.caches.get(k).is_some_and(Option::is_some)) {
                let name = format!("{}->{}", s.name, scenario.services[c.to].name);
                if let Some(e) = summary.edges.get_mut(&name) {
                    e.cache = Some(t.load.cache(edge));
                }
            }
            edge += 1;
        }
        if load.is_some_and(|l| l.cold_start.is_some())
            && let Some(req) = summary.services.get_mut(&s.name).and_then(|x| x.requests.as_mut())
        {
            req.cold_start = Some(t.load.cold_start(i, acc.trials()));
        }
    }
}

/// Fills the probe, restart and detector fields of each configured
/// service.
pub fn annotate_health(summary: &mut Summary, scenario: &crate::scenario::Scenario, acc: &Accumulator) {
    let Some(defence) = acc.defence() else { return };
    for (i, s) in scenario.services.iter().enumerate() {
        let Some(req) = summary.services.get_mut(&s.name).and_then(|x| x.requests.as_mut()) else {
            continue;
        };
        let d = &defence[i];
        let p = &s.defence.probes;
        if p.readiness.is_some() || p.liveness.is_some() {
            req.probes = Some(super::health::ProbeCounts {
                sent: d.probes,
                failed: d.probes_failed,
            });
        }
        if p.liveness.is_some() {
            req.restarts = Some(d.restarts);
        }
        if s.defence.outlier.is_some_and(|o| o.detectors.any()) {
            req.ejections_by_detector = Some(super::health::EjectionsByDetector {
                consecutive: d.ejections - d.ejected_success_rate - d.ejected_failure_percentage,
                success_rate: d.ejected_success_rate,
                failure_percentage: d.ejected_failure_percentage,
            });
        }
    }
}
