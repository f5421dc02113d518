//! The compiled, flat form of a scenario.
//!
//! A service deployed in regions becomes one replica *group* per region (a
//! service without regions has one group). Groups and replicas live in flat
//! vectors and refer to each other by index; nothing is boxed or shared.
//! Invariants (from validation): every group has at least one replica,
//! `1 <= min_healthy <= replicas`, `order` lists every service after all the
//! services it requires, and `dists` exist whenever a component can fail.

pub mod infra;
pub mod ops;

use std::ops::Range;

use crate::distribution::Dist;
use crate::engine::Nanos;
use crate::resilience::retry::RetryPolicy;
use crate::scenario::{
    Arrival, Burst, CallMode, Cascade, ClientPolicy, Diurnal, FaultKind, FaultSchedule, FaultTarget, GlobalMode,
    HealthCheck, LoadBalancer, Scenario, Standby, Topology,
};

/// A region's failure process.
#[derive(Debug, Clone)]
pub struct RegionSpec {
    /// Time to outage and outage length; `None` never fails.
    pub process: Option<(Dist, Dist)>,
}

/// A service, flattened.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// Its groups, contiguous in [`World::groups`].
    pub groups: Range<usize>,
    /// Deployed in regions: routing between groups applies.
    pub multi_region: bool,
    /// Global routing rule.
    pub mode: GlobalMode,
    /// Time for traffic to leave a failed region.
    pub failover: Nanos,
    /// Services it needs (calls without a fallback).
    pub requires: Vec<usize>,
    /// Per-replica time to failure and repair; `None` never fails.
    pub process: Option<(Dist, Dist)>,
    /// How it serves requests.
    pub serve: ServeSpec,
}

/// How a service serves requests (request level only).
#[derive(Debug, Clone)]
pub struct ServeSpec {
    /// Requests one replica serves at once; `None` = unlimited.
    pub concurrency: Option<u32>,
    /// Waiting room per replica; `None` = unbounded.
    pub queue: Option<u32>,
    /// Time to serve one request ([`Dist::zero`], never drawn, for a
    /// service no request reaches: validation requires one of the others).
    pub service_time: Dist,
    /// Chance a served request fails.
    pub error_rate: f64,
    /// Replica choice.
    pub load_balancer: LoadBalancer,
    /// Health checking.
    pub health_check: HealthCheck,
    /// Sequential or parallel calls.
    pub call_mode: CallMode,
    /// Its call edges in file order, with whether each is required.
    pub calls: Vec<usize>,
    /// Server-side defences.
    pub defence: crate::scenario::Defence,
    /// Slowdown under load, cold starts and caches (`traffic::load`);
    /// `None`, the request path's one test, when the service sets none.
    pub load: Option<Box<crate::scenario::load::Load>>,
}

/// A call edge: a workload or a service calling a service.
#[derive(Debug, Clone)]
pub struct EdgeSpec {
    /// `FROM->TO`.
    pub name: String,
    /// Caller service; `None` for a workload.
    pub from: Option<usize>,
    /// Callee service.
    pub to: usize,
    /// Client policies.
    pub policy: ClientPolicy,
    /// The retry policy, built once and shared by every call.
    pub retry: Option<RetryPolicy>,
    /// The callee's balancer runs outlier detection.
    pub outlier: bool,
    /// A retry budget by concurrency or hedging is configured: the request
    /// path's one test for both (`traffic::hedge`).
    pub client_extras: bool,
}

/// A request source.
#[derive(Debug, Clone)]
pub struct WorkloadSpec {
    /// Its edge in [`World::edges`] (the same index as the workload).
    pub edge: usize,
    /// Mean rate (per second).
    pub rate: f64,
    /// The highest rate the diurnal swing and bursts reach.
    pub max_rate: f64,
    /// Arrival process.
    pub arrival: Arrival,
    /// Daily swing.
    pub diurnal: Option<Diurnal>,
    /// Bursts.
    pub bursts: Vec<Burst>,
    /// Whether the rate varies (diurnal or bursts); a flat rate needs no
    /// thinning draw.
    pub shaped: bool,
    /// Its requests are shed first.
    pub low_priority: bool,
    /// The region its clients are in.
    pub region: Option<usize>,
    /// The workflow each arrival starts, instead of a call on `edge`.
    pub workflow: Option<usize>,
}

/// A workflow (saga), compiled: each step and compensation is a call edge
/// of its own (from outside, like a workload's), after the service calls.
#[derive(Debug, Clone)]
pub struct WorkflowSpec {
    /// Its name.
    pub name: String,
    /// Time from a saga's start after which it stops going forward.
    pub deadline: Option<Nanos>,
    /// Steps in order.
    pub steps: Vec<StepSpec>,
}

/// One step of a workflow.
#[derive(Debug, Clone)]
pub struct StepSpec {
    /// Its name.
    pub name: String,
    /// The step's call edge.
    pub edge: usize,
    /// The compensation's call edge, if the step has one.
    pub compensation: Option<usize>,
    /// After it succeeds the saga only goes forward.
    pub pivot: bool,
    /// After a pivot, the wait before a step that gave up is called again
    /// (its retry `base`, else the default base).
    pub resume_after: Nanos,
}

impl WorkloadSpec {
    /// The rate at time `t`, per second.
    pub fn rate_at(&self, t: Nanos) -> f64 {
        let mut r = self.rate;
        if let Some(d) = &self.diurnal {
            let phase = (t as f64 - d.peak as f64) / d.period as f64;
            r *= 1.0 + d.amplitude * (std::f64::consts::TAU * phase).cos();
        }
        for b in &self.bursts {
            if t >= b.at && t < b.at.saturating_add(b.duration) {
                r *= b.factor;
            }
        }
        r
    }
}

/// The replicas of one service in one region (or its only group).
#[derive(Debug, Clone)]
pub struct GroupSpec {
    /// Owning service.
    pub service: usize,
    /// Position among the service's groups (its region order).
    pub slot: usize,
    /// Region, if any.
    pub region: Option<usize>,
    /// Its replicas, contiguous in [`World::replicas`].
    pub replicas: Range<usize>,
    /// How its replicas combine.
    pub topology: Topology,
    /// Active-active: replicas needed.
    pub min_healthy: u32,
    /// Active-passive: detect + switch.
    pub failover_delay: Nanos,
    /// Active-passive: switch-over success probability.
    pub failover_success: f64,
    /// Active-passive: standbys do not age while idle.
    pub cold: bool,
    /// Autoscaled: the last `parked` of `replicas` are slots that start out
    /// of service (`traffic::autoscale`); 0 otherwise.
    pub parked: usize,
}

/// One replica.
#[derive(Debug, Clone, Copy)]
pub struct ReplicaSpec {
    /// Owning group.
    pub group: usize,
    /// Owning service.
    pub service: usize,
    /// Stable stream index: (service, slot, position) packed, so that
    /// changing one service's replica count leaves the others' randomness
    /// untouched.
    pub stream: u64,
}

/// An injected fault, resolved to what it touches.
#[derive(Debug, Clone)]
pub struct FaultSpec {
    /// What it does.
    pub kind: FaultKind,
    /// When it happens.
    pub schedule: FaultSchedule,
    /// How long each occurrence lasts.
    pub duration: Dist,
    /// Replicas it acts on (crash, hang, errors, capacity, latency).
    pub replicas: Vec<usize>,
    /// A region it takes down (crash on a region).
    pub region: Option<usize>,
    /// Call edges it acts on (a link between a caller and a callee).
    pub edges: Vec<usize>,
    /// Two regions between which calls are cut or slowed, both ways.
    pub region_link: Option<(usize, usize)>,
}

/// The compiled scenario.
#[derive(Debug, Clone)]
pub struct World {
    /// Trial length.
    pub horizon: Nanos,
    /// Entry service.
    pub entry: usize,
    /// Regions.
    pub regions: Vec<RegionSpec>,
    /// Services.
    pub services: Vec<ServiceSpec>,
    /// Replica groups.
    pub groups: Vec<GroupSpec>,
    /// Replicas.
    pub replicas: Vec<ReplicaSpec>,
    /// Groups placed in each region.
    pub region_groups: Vec<Vec<usize>>,
    /// Services in dependency order (required services first).
    pub order: Vec<usize>,
    /// Services the entry requires, directly or not (including itself).
    pub entry_needs: Vec<bool>,
    /// Regions those services are deployed in.
    pub entry_regions: Vec<bool>,
    /// Call edges: one per workload (same index), then every service call.
    pub edges: Vec<EdgeSpec>,
    /// Request sources.
    pub workloads: Vec<WorkloadSpec>,
    /// Injected faults.
    pub faults: Vec<FaultSpec>,
    /// How fault impact is judged.
    pub cascade: Cascade,
    /// Added delay of a call between regions.
    pub cross_region: Option<Dist>,
    /// Some workload is low priority.
    pub low_priority: bool,
    /// Some service has a rate limiter.
    pub rate_limited: bool,
    /// Workflows (sagas), in scenario order.
    pub workflows: Vec<WorkflowSpec>,
    /// Per-trial budgets.
    pub limits: crate::scenario::Limits,
    /// Names of the parts, for messages about a runaway trial.
    pub names: Names,
    /// Deploys and maintenance windows.
    pub ops: ops::OpsWorld,
    /// SLO windows and alert rules, read off each trial's request series.
    pub slo: Option<crate::scenario::alerts::SloSpec>,
    /// How requests are simulated: `None` (full, unset), or what
    /// `request_sampling` resolved to ([`crate::scenario::sampling::resolve`]).
    pub request_sampling: Option<crate::scenario::RequestSampling>,
    /// Zones, common causes, crews and spares.
    pub infra: infra::OpsSpec,
    /// Some service is autoscaled: the request path's one test for its
    /// hooks (`traffic::autoscale`).
    pub autoscaled: bool,
}

impl World {
    /// Compiles a validated scenario.
    pub fn compile(sc: &Scenario) -> Self {
        let placement = Placement::compile(sc);
        let mut services = placement.services;
        let (edges, workloads, workflows) = compile_requests(sc, &mut services);
        let order = dependency_order(&services);
        let entry_needs = closure(&services, sc.entry);
        let mut entry_regions = vec![false; sc.regions.len()];
        for g in &placement.groups {
            if let Some(r) = g.region
                && entry_needs[g.service]
            {
                entry_regions[r] = true;
            }
        }
        let faults = sc
            .faults
            .iter()
            .map(|f| fault(sc, f, &placement.groups, &placement.replicas, &edges))
            .collect();
        let ops = ops::OpsWorld::compile(sc, &placement.groups, &placement.replicas);
        let infra = infra::OpsSpec::compile(sc, &placement.replicas, &placement.groups);
        World {
            faults,
            cascade: sc.cascade,
            cross_region: sc.global.latency.clone(),
            low_priority: sc.workloads.iter().any(|w| w.low_priority),
            rate_limited: sc.services.iter().any(|s| s.defence.rate_limit.is_some()),
            horizon: sc.horizon,
            entry: sc.entry,
            regions: sc
                .regions
                .iter()
                .map(|r| RegionSpec {
                    process: r.failure.clone().zip(r.repair.clone()),
                })
                .collect(),
            services,
            groups: placement.groups,
            replicas: placement.replicas,
            region_groups: placement.region_groups,
            order,
            entry_needs,
            entry_regions,
            edges,
            workloads,
            workflows,
            limits: sc.limits,
            names: Names::of(sc),
            ops,
            slo: sc.slo_spec.clone().filter(|_| !sc.workloads.is_empty()),
            request_sampling: crate::scenario::sampling::resolve(sc, sc.request_sampling),
            infra,
            autoscaled: sc.services.iter().any(|s| s.defence.autoscale.is_some()) && !sc.workloads.is_empty(),
        }
    }

    /// Whether requests are sampled in windows (else every one is simulated).
    pub fn windowed(&self) -> bool {
        self.request_sampling == Some(crate::scenario::RequestSampling::Windowed)
    }

    /// Whether requests are simulated.
    pub fn has_traffic(&self) -> bool {
        !self.workloads.is_empty()
    }
}

pub(super) fn fault(
    sc: &Scenario,
    f: &crate::scenario::Fault,
    groups: &[GroupSpec],
    replicas: &[ReplicaSpec],
    edges: &[EdgeSpec],
) -> FaultSpec {
    let mut spec = FaultSpec {
        kind: f.kind.clone(),
        schedule: f.schedule.clone(),
        duration: f.duration.clone(),
        replicas: Vec::new(),
        region: None,
        edges: Vec::new(),
        region_link: None,
    };
    match f.target {
        FaultTarget::Service(s) => spec.replicas = (0..replicas.len()).filter(|&r| replicas[r].service == s).collect(),
        FaultTarget::Replica(s, i) => {
            // A replica's index counts the declared replicas, not an
            // autoscaler's slots.
            let of_service: Vec<usize> = (0..replicas.len())
                .filter(|&r| {
                    replicas[r].service == s
                        && r < groups[replicas[r].group].replicas.end - groups[replicas[r].group].parked
                })
                .collect();
            spec.replicas = vec![of_service[i as usize]];
        }
        FaultTarget::Region(region) => {
            if matches!(f.kind, FaultKind::Crash) {
                spec.region = Some(region);
            } else {
                spec.replicas = (0..replicas.len())
                    .filter(|&r| groups[replicas[r].group].region == Some(region))
                    .collect();
            }
        }
        FaultTarget::Link { from, workload, to } => {
            spec.edges = match workload {
                Some(w) => vec![w],
                None => (sc.workloads.len()..edges.len())
                    .filter(|&e| edges[e].from == from && edges[e].to == to)
                    .collect(),
            };
        }
        FaultTarget::RegionLink(a, b) => spec.region_link = Some((a, b)),
    }
    spec
}

/// Services, their groups (one per region they are placed in) and
/// replicas, before the call edges are known.
struct Placement {
    services: Vec<ServiceSpec>,
    groups: Vec<GroupSpec>,
    replicas: Vec<ReplicaSpec>,
    region_groups: Vec<Vec<usize>>,
}

impl Placement {
    fn compile(sc: &Scenario) -> Self {
        let mut t = Self {
            services: Vec::new(),
            groups: Vec::new(),
            replicas: Vec::new(),
            region_groups: vec![Vec::new(); sc.regions.len()],
        };
        for (si, s) in sc.services.iter().enumerate() {
            let first = t.groups.len();
            t.place(si, s);
            t.services.push(ServiceSpec {
                serve: ServeSpec {
                    concurrency: s.concurrency,
                    queue: s.queue,
                    service_time: s.service_time.clone().unwrap_or_else(Dist::zero),
                    error_rate: s.error_rate,
                    load_balancer: s.load_balancer,
                    health_check: s.health_check,
                    call_mode: s.call_mode,
                    calls: Vec::new(),
                    defence: s.defence.clone(),
                    load: s.load.clone(),
                },
                groups: first..t.groups.len(),
                multi_region: !s.regions.is_empty(),
                mode: sc.global.mode,
                failover: sc.global.failover,
                requires: s.calls.iter().filter(|c| !c.fallback).map(|c| c.to).collect(),
                process: s.failure.clone().zip(s.repair.clone()),
            });
        }
        t
    }

    /// Service `si`'s groups and replicas, one group per region it is
    /// placed in (or one unplaced).
    fn place(&mut self, si: usize, s: &crate::scenario::Service) {
        let placements: Vec<Option<usize>> = if s.regions.is_empty() {
            vec![None]
        } else {
            s.regions.iter().copied().map(Some).collect()
        };
        for (slot, region) in placements.into_iter().enumerate() {
            let g = self.groups.len();
            let start = self.replicas.len();
            // An autoscaled group gets a slot for every replica it may have.
            let slots = s
                .defence
                .autoscale
                .as_ref()
                .map_or(s.replicas, |a| a.max.max(s.replicas));
            for k in 0..slots as usize {
                self.replicas.push(ReplicaSpec {
                    group: g,
                    service: si,
                    stream: ((si as u64) << 40) | ((slot as u64) << 20) | k as u64,
                });
            }
            if let Some(r) = region {
                self.region_groups[r].push(g);
            }
            self.groups.push(GroupSpec {
                service: si,
                slot,
                region,
                replicas: start..self.replicas.len(),
                topology: s.topology,
                min_healthy: s.min_healthy,
                failover_delay: s.failover.detect.saturating_add(s.failover.switch),
                failover_success: s.failover.success,
                cold: s.standby == Standby::Cold,
                parked: (slots - s.replicas) as usize,
            });
        }
    }
}

/// The call edges (workloads' first, then services' calls in order, then
/// workflows'), the workloads and the workflows.
fn compile_requests(
    sc: &Scenario,
    services: &mut [ServiceSpec],
) -> (Vec<EdgeSpec>, Vec<WorkloadSpec>, Vec<WorkflowSpec>) {
    let mut edges = Vec::new();
    let mut workloads = Vec::new();
    for w in &sc.workloads {
        workloads.push(WorkloadSpec {
            edge: edges.len(),
            rate: w.rate,
            max_rate: w.rate
                * w.diurnal.map_or(1.0, |d| 1.0 + d.amplitude)
                * w.bursts.iter().map(|b| b.factor).fold(1.0, f64::max),
            arrival: w.arrival,
            diurnal: w.diurnal,
            bursts: w.bursts.clone(),
            shaped: w.diurnal.is_some() || !w.bursts.is_empty(),
            low_priority: w.low_priority,
            region: w.region,
            workflow: w.workflow,
        });
        // A workflow workload's edge stands for its sagas: WORKLOAD->WORKFLOW.
        let target = w.workflow.map_or(&sc.services[w.to].name, |i| &sc.workflows[i].name);
        edges.push(edge(format!("{}->{}", w.name, target), None, w.to, &w.policy, sc));
    }
    for (si, s) in sc.services.iter().enumerate() {
        for c in &s.calls {
            services[si].serve.calls.push(edges.len());
            let name = format!("{}->{}", s.name, sc.services[c.to].name);
            edges.push(edge(name, Some(si), c.to, &c.policy, sc));
        }
    }
    let workflows = compile_workflows(sc, &mut edges);
    (edges, workloads, workflows)
}

fn edge(name: String, from: Option<usize>, to: usize, policy: &ClientPolicy, sc: &Scenario) -> EdgeSpec {
    EdgeSpec {
        outlier: sc.services[to].defence.outlier.is_some(),
        name,
        from,
        to,
        retry: policy.objects.retry.clone(),
        policy: policy.clone(),
        client_extras: policy.objects.concurrency.is_some() || policy.objects.hedge.is_some(),
    }
}

/// Appends each workflow's step and compensation edges, named
/// `WORKFLOW.STEP->SERVICE` and `WORKFLOW.STEP.compensate->SERVICE`.
fn compile_workflows(sc: &Scenario, edges: &mut Vec<EdgeSpec>) -> Vec<WorkflowSpec> {
    let mut out = Vec::with_capacity(sc.workflows.len());
    for wf in &sc.workflows {
        let mut steps = Vec::with_capacity(wf.steps.len());
        for s in &wf.steps {
            let edge_ix = edges.len();
            let name = format!("{}.{}->{}", wf.name, s.name, sc.services[s.to].name);
            edges.push(edge(name, None, s.to, &s.policy, sc));
            let compensation = s.compensation.as_ref().map(|k| {
                let name = format!("{}.{}.compensate->{}", wf.name, s.name, sc.services[k.to].name);
                edges.push(edge(name, None, k.to, &k.policy, sc));
                edges.len() - 1
            });
            steps.push(StepSpec {
                name: s.name.clone(),
                edge: edge_ix,
                compensation,
                pivot: s.pivot,
                resume_after: s
                    .policy
                    .retry
                    .as_ref()
                    .map_or(crate::scenario::policy::DEFAULT_BASE, |r| r.base)
                    .max(1),
            });
        }
        out.push(WorkflowSpec {
            name: wf.name.clone(),
            deadline: wf.deadline,
            steps,
        });
    }
    out
}

/// Post-order over `requires`: every service after what it requires.
fn dependency_order(services: &[ServiceSpec]) -> Vec<usize> {
    let mut seen = vec![false; services.len()];
    let mut out = Vec::with_capacity(services.len());
    // An explicit stack of (service, next requirement to visit), because a
    // call chain as long as the scenario limits allow would overflow the
    // thread's stack if walked by recursion.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..services.len() {
        if seen[root] {
            continue;
        }
        seen[root] = true;
        stack.push((root, 0));
        while let Some((s, next)) = stack.last_mut() {
            let s = *s;
            if let Some(&d) = services[s].requires.get(*next) {
                *next += 1;
                if !seen[d] {
                    seen[d] = true;
                    stack.push((d, 0));
                }
            } else {
                out.push(s);
                stack.pop();
            }
        }
    }
    out
}

/// Which services `root` requires, transitively, itself included.
pub fn closure(services: &[ServiceSpec], root: usize) -> Vec<bool> {
    let mut needs = vec![false; services.len()];
    let mut stack = vec![root];
    while let Some(s) = stack.pop() {
        if !needs[s] {
            needs[s] = true;
            stack.extend(services[s].requires.iter().copied());
        }
    }
    needs
}

/// Names of the parts of a world, for messages.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Service names, by index.
    pub services: Vec<String>,
    /// Region names, by index.
    pub regions: Vec<String>,
    /// Fault names, by index.
    pub faults: Vec<String>,
}

impl Names {
    /// The names of `sc`'s services and regions.
    pub fn of(sc: &Scenario) -> Self {
        Self {
            services: sc.services.iter().map(|s| s.name.clone()).collect(),
            regions: sc.regions.iter().map(|r| r.name.clone()).collect(),
            faults: sc.faults.iter().map(|f| f.name.clone()).collect(),
        }
    }
}
