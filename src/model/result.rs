//! What one trial measured: the figures every component's results join in,
//! below the components so that each can fill its part.

use super::counts::{DefenceCounts, EdgeCounts};
use super::fault::FaultResult;
use super::world::World;
use crate::engine::Nanos;

/// One figure per service or region. Small scenarios keep them inline, so
/// a trial's result costs no allocation (it matters at 10^5 trials a second).
pub type PerPart = smallvec::SmallVec<[f64; 4]>;

/// What one trial measured. Times are in seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrialResult {
    /// Entry availability: served share of the horizon.
    pub availability: f64,
    /// Entry downtime (traffic-weighted).
    pub downtime: f64,
    /// Maximal periods of non-zero length with some entry traffic lost.
    pub incidents: u32,
    /// Longest such period.
    pub longest_outage: f64,
    /// Total length of those periods (wall-clock time with some entry
    /// traffic lost, whatever share): what incidents last, where
    /// `downtime` is the traffic they lost.
    pub incident_time: f64,
    /// Per service: availability including what it requires.
    pub services: PerPart,
    /// Per service: availability by its own topology rule alone.
    pub own: PerPart,
    /// Per service: entry downtime while this service's own rule was broken.
    pub cause_services: PerPart,
    /// Per region: availability.
    pub regions: PerPart,
    /// Per region: entry downtime while this region was down.
    pub cause_regions: PerPart,
    /// Events handled.
    pub events: u64,
    /// Request-level figures, when the scenario has workloads.
    pub traffic: Option<TrafficResult>,
    /// Per injected fault (empty without faults).
    pub faults: Vec<FaultResult>,
    /// Deploys and maintenance windows (`None` without them).
    pub ops: Option<OpsResult>,
}

/// What the requests of one trial measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrafficResult {
    /// Requests concluded (in flight at the horizon are not counted).
    pub requests: u64,
    /// Full successes.
    pub success: u64,
    /// Successes through a fallback.
    pub degraded: u64,
    /// Failures.
    pub failed: u64,
    /// Sum of request latencies (seconds).
    pub latency_sum: f64,
    /// Sum of the latencies of served requests (full successes and
    /// degraded ones), seconds.
    pub served_latency_sum: f64,
    /// Attempts on the workload edges.
    pub entry_attempts: u64,
    /// Calls started on the workload edges (requests, in flight or not).
    pub entry_calls: u64,
    /// Per service: jobs received and jobs that succeeded.
    pub services: Vec<(u64, u64)>,
    /// Per service: jobs that ended without success (errors, sheds,
    /// resets).
    pub service_failed: Vec<u64>,
    /// Per edge.
    pub edges: Vec<EdgeCounts>,
    /// Per service: its server-side defences at work.
    pub defence: Vec<DefenceCounts>,
    /// The horizon cut into [`TIMELINE_BUCKETS`](super::traffic::TIMELINE_BUCKETS) equal buckets: requests
    /// concluded, full successes, degraded, and attempts sent on the
    /// workload edges, in each.
    pub timeline: Vec<[u32; 4]>,
    /// Per edge, per timeline bucket: calls started, attempts sent and
    /// seconds the breaker was open, in that bucket (edge-major:
    /// `edge * TIMELINE_BUCKETS + bucket`).
    pub edge_timeline: Vec<[f32; 3]>,
    /// Per service, per timeline bucket: jobs that concluded in that
    /// bucket, the ones that succeeded, and jobs queued at its end
    /// (service-major: `service * TIMELINE_BUCKETS + bucket`).
    pub service_timeline: Vec<[f32; 3]>,
    /// Per workflow, in scenario order.
    pub workflows: Vec<WorkflowResult>,
    /// Every saga state transition, in order, when the trial was asked to
    /// record them ([`super::Trial::record_sagas`]); for a trace of one trial.
    pub saga_log: Vec<SagaTransition>,
    /// SLO windows and alert scores, when the scenario sets them.
    pub slo: Option<super::slo::SloTrial>,
    /// What windowed request sampling did, when it ran this trial (the
    /// counts above are then estimates; see [`super::windowed`]).
    pub windowed: Option<super::windowed::tally::Windowed>,
    /// Per service: what its autoscalers did (empty without autoscaling).
    pub autoscale: Vec<ScaleCounts>,
    /// Per service, per timeline bucket: replica-seconds its autoscaled
    /// groups spent with slots serving (service-major, as
    /// `service_timeline`; zero for a service that is not autoscaled;
    /// empty without autoscaling).
    pub replica_timeline: Vec<f64>,
    /// Per edge: cache lookups and hits (empty in a trial without a
    /// lookup).
    pub cache: Vec<[u64; 2]>,
    /// Per service: cold starts begun and replica-seconds cold (empty in
    /// a trial without one).
    pub cold: Vec<(u64, f64)>,
}

/// Per step of a workflow, in one trial.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepCounts {
    /// Sagas that ended (compensated or stuck) because this step failed.
    pub failed: u64,
    /// Compensations of this step that succeeded.
    pub compensated: u64,
    /// Compensations of this step that gave up (each left a saga stuck).
    pub gave_up: u64,
}

/// What one workflow's sagas did in one trial. Times in seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkflowResult {
    /// Sagas started.
    pub started: u64,
    /// Sagas whose every step succeeded.
    pub completed: u64,
    /// Sagas rolled back cleanly: every compensation they needed succeeded.
    pub compensated: u64,
    /// Sagas that left a partial effect behind.
    pub stuck: u64,
    /// Per step.
    pub steps: Vec<StepCounts>,
    /// Sum of the durations of completed sagas.
    pub completed_latency_s: f64,
    /// Sum of the durations of compensated sagas.
    pub compensated_latency_s: f64,
    /// Sum of the inconsistency windows (effect to its compensation).
    pub window_s: f64,
    /// Inconsistency windows measured (compensations that succeeded).
    pub windows: u64,
}

impl WorkflowResult {
    /// Sagas that ended.
    pub fn concluded(&self) -> u64 {
        self.completed + self.compensated + self.stuck
    }
}

/// What happened to a saga, for a trace of one trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SagaEvent {
    /// Its workload started it.
    Started,
    /// A step succeeded.
    StepSucceeded,
    /// A step gave up; `ambiguous` when one of its attempts timed out.
    StepFailed {
        /// An attempt timed out: the step may have taken effect.
        ambiguous: bool,
    },
    /// After a pivot: a step that gave up is called again.
    StepResumed,
    /// A compensation succeeded.
    Compensated,
    /// A compensation gave up.
    CompensationGaveUp,
    /// Every step succeeded.
    Completed,
    /// Every needed compensation succeeded.
    RolledBack,
    /// A partial effect is left.
    Stuck,
}

/// One saga state transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SagaTransition {
    /// When (simulated nanoseconds).
    pub at: Nanos,
    /// The saga's number in its trial (0, 1, ... in start order).
    pub saga: u64,
    /// Workflow index.
    pub workflow: u32,
    /// Step index the transition is about.
    pub step: u16,
    /// What happened.
    pub event: SagaEvent,
}

impl SagaTransition {
    /// One line for a trace, e.g. `saga 17 (order) step charge: failed (timed out: may have taken effect)`.
    pub fn describe(&self, w: &World) -> String {
        let wf = &w.workflows[self.workflow as usize];
        let step = wf.steps.get(self.step as usize).map_or("", |s| s.name.as_str());
        let what = match self.event {
            SagaEvent::Started => "started".to_string(),
            SagaEvent::StepSucceeded => format!("step {step} succeeded"),
            SagaEvent::StepFailed { ambiguous: true } => {
                format!("step {step} failed (an attempt timed out: it may have taken effect)")
            }
            SagaEvent::StepFailed { ambiguous: false } => format!("step {step} failed"),
            SagaEvent::StepResumed => format!("step {step} called again (after the pivot)"),
            SagaEvent::Compensated => format!("step {step} compensated"),
            SagaEvent::CompensationGaveUp => format!("compensation of step {step} gave up"),
            SagaEvent::Completed => "completed".to_string(),
            SagaEvent::RolledBack => "compensated (rolled back)".to_string(),
            SagaEvent::Stuck => format!("stuck at step {step}"),
        };
        format!("saga {} ({}): {what}", self.saga, wf.name)
    }
}

/// What one deploy did in one trial.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeployResult {
    /// Rolls started.
    pub rolls: u32,
    /// Deploys skipped because the previous one was under way.
    pub skipped: u32,
    /// Rolls of a bad release.
    pub bad: u32,
    /// Bad releases caught by the canary's analysis.
    pub caught_by_canary: u32,
    /// Bad releases caught by alerting.
    pub caught_by_alert: u32,
    /// Time bad releases served (from the first replica up on one to its
    /// catch, or the horizon), seconds.
    pub bad_s: f64,
    /// Entry downtime while a roll (or its rollback, or its bad release)
    /// was under way, seconds (traffic-weighted).
    pub downtime_s: f64,
}

/// What operations did in one trial.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpsResult {
    /// Entry downtime while a maintenance window was open, seconds.
    pub planned_downtime_s: f64,
    /// Per deploy.
    pub deploys: Vec<DeployResult>,
}

/// What an autoscaled service's autoscalers did in one trial (summed over
/// its groups).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScaleCounts {
    /// Replicas added (decisions, counted when taken).
    pub scale_ups: u64,
    /// Replicas removed (drained, or cancelled while provisioning).
    pub scale_downs: u64,
    /// Replica-seconds: the time each replica existed (provisioning,
    /// serving or draining), summed.
    pub replica_s: f64,
    /// Most replicas of the service that existed at once.
    pub peak: u32,
    /// Time each group wanted its `max` replicas, summed over the groups
    /// (seconds).
    pub at_max_s: f64,
}
