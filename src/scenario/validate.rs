//! From the raw file to a [`Scenario`]: every check of meaning, each
//! reported with its location and key in `--set` path form.
//!
//! Validation does not stop at the first problem: it collects every
//! diagnostic it can, so a user fixes a file in one pass.

use std::collections::BTreeMap;

use toml::Spanned;

use super::checker::{Checker, lookup, names};
use super::limits;
use super::policy::{self, RawClient};
use super::raw::{RawScenario, RawService, RawWorkload};
use super::source::Source;
use super::{
    Arrival, Burst, Call, CallMode, Diurnal, Failover, Global, GlobalMode, HealthCheck, LoadBalancer, Objective,
    Region, Scenario, Service, Standby, Topology, Workload,
};
use crate::engine::time::{SECOND, YEAR};
use crate::error::Diagnostic;

/// Defaults when the file is silent.
pub const DEFAULT_TRIALS: u64 = 1000;
/// One simulated year per trial unless `horizon` says otherwise.
pub const DEFAULT_HORIZON: u64 = YEAR;

/// Checks `raw` and builds the scenario, or returns every problem found.
///
/// The steps run in file order (settings, regions, services, workloads,
/// faults, then the checks of the whole), so the problems are listed in the
/// order a reader meets them; a check that relies on earlier ones runs only
/// while nothing is wrong.
pub fn validate(src: &Source, stem: &str, raw: RawScenario) -> Result<Scenario, Vec<Diagnostic>> {
    let mut c = Checker::new(src);
    let settings = settings(&mut c, &raw);
    let (regions, region_index) = regions(&mut c, &raw);
    let (services, service_index) = services(&mut c, &raw, &region_index);
    let global = global(&mut c, &raw, &services);
    let workload_names = workload_names(&mut c, &raw, &service_index);
    let (workflows, workflow_index) = super::workflow::workflows(&mut c, &raw.workflow, &service_index);
    let workloads: Vec<Workload> = raw
        .workload
        .iter()
        .map(|w| {
            workload(
                &mut c,
                w.get_ref(),
                &service_index,
                &region_index,
                (&workflow_index, &workflows),
            )
        })
        .collect();
    super::workflow::check_started(&mut c, &raw.workflow, &workloads);
    if c.is_clean() {
        check_request_level(&mut c, &raw, &services, &workloads, &workflows);
    }
    let cascade = super::fault::cascade(&mut c, &raw.cascade);
    let faults = if c.is_clean() {
        let names = super::fault::Names {
            services: &service_index,
            regions: &region_index,
            workloads: &workload_names,
        };
        super::fault::faults(&mut c, &raw, &services, &names, !workloads.is_empty())
    } else {
        Vec::new()
    };
    let (deploys, maintenance) = if c.is_clean() {
        let names = super::fault::Names {
            services: &service_index,
            regions: &region_index,
            workloads: &workload_names,
        };
        (
            super::ops::deploys(&mut c, &raw, &services, &names, !workloads.is_empty()),
            super::ops::maintenance(&mut c, &raw, &services, &names),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let infra = super::infra::ops(&mut c, &raw, &regions, &services, &service_index);
    super::autoscale::cross_check(&mut c, &raw, &services, &deploys);
    check_graph(&mut c, &raw, &services);
    let entry = if c.is_clean() {
        entry(&mut c, &raw, &services, &workloads)
    } else {
        0
    };
    let limits = limits::limits(&mut c, raw.limits.as_ref());
    super::fault::warn_late(&mut c, &raw, settings.horizon);
    let objective = objective(&mut c, &raw, !workloads.is_empty());
    let slo_spec = super::alerts::slo_spec(
        &mut c,
        &raw,
        settings.slo,
        objective == Objective::Requests,
        settings.horizon,
    );
    let mut sc = Scenario {
        name: raw
            .name
            .as_ref()
            .map_or_else(|| stem.to_string(), |n| n.get_ref().clone()),
        path: src.path.clone(),
        horizon: settings.horizon,
        trials: settings.trials,
        seed: settings.seed,
        entry,
        regions,
        services,
        global,
        workloads,
        slo: settings.slo,
        objective,
        faults,
        cascade,
        workflows,
        limits,
        warnings: Vec::new(),
        estimator: settings.estimator,
        deploys,
        maintenance,
        exclude_planned: settings.exclude_planned,
        slo_spec,
        request_sampling: None,
        infra,
    };
    // After the whole scenario is built: what windowed sampling can run
    // depends on every part of it.
    sc.request_sampling = request_sampling(&mut c, &raw, &sc);
    if c.is_clean() {
        // Sizes are checked on the whole scenario: a windowed run simulates
        // only a share of the arrivals.
        let windowed = super::sampling::resolve(&sc, sc.request_sampling) == Some(super::RequestSampling::Windowed);
        limits::check_scenario(&mut c, &raw, &sc, windowed);
    }
    sc.warnings = c.finish()?;
    Ok(sc)
}

/// The run's own settings, from the top of the file.
struct Settings {
    horizon: u64,
    trials: u64,
    seed: u64,
    slo: Option<f64>,
    estimator: super::Estimator,
    exclude_planned: bool,
}

fn settings(c: &mut Checker<'_>, raw: &RawScenario) -> Settings {
    let horizon = match &raw.horizon {
        Some(h) if h.get_ref().0 == 0 => {
            c.err(&h.span(), "horizon", "must be longer than zero");
            DEFAULT_HORIZON
        }
        Some(h) => h.get_ref().0,
        None => DEFAULT_HORIZON,
    };
    let trials = match &raw.trials {
        Some(t) => c
            .count(t, "trials", 1, super::limits::MAX_TRIALS as i64)
            .map_or(DEFAULT_TRIALS, u64::from),
        None => DEFAULT_TRIALS,
    };
    let seed = raw.seed.as_ref().map_or(0, |s| *s.get_ref());
    let slo = raw.slo.as_ref().and_then(|s| {
        let v = s.get_ref().target()?;
        if v > 0.0 && v < 1.0 {
            Some(v)
        } else {
            c.err_help(
                &s.span(),
                "slo",
                format!("an availability objective is a fraction between 0 and 1, found {v}"),
                "write slo = 0.9999 for four nines".into(),
            );
            None
        }
    });
    let estimator = raw
        .estimator
        .as_ref()
        .map_or(super::Estimator::Auto, |e| match e.get_ref().as_str() {
            "auto" => super::Estimator::Auto,
            "crude" => super::Estimator::Crude,
            "splitting" => super::Estimator::Splitting,
            "regenerative" => super::Estimator::Regenerative,
            other => {
                c.err_help(
                    &e.span(),
                    "estimator",
                    format!("unknown estimator \"{other}\""),
                    "write estimator = \"auto\", \"crude\", \"splitting\" or \"regenerative\"".into(),
                );
                super::Estimator::Auto
            }
        });
    let exclude_planned = match raw.slo.as_ref().map(|s| s.get_ref()) {
        Some(super::raw::RawSlo::Table(t)) => t.exclude_planned.as_ref().is_some_and(|e| *e.get_ref()),
        _ => false,
    };
    Settings {
        horizon,
        trials,
        seed,
        slo,
        estimator,
        exclude_planned,
    }
}

/// `objective`: requests by default when a workload exists, else time;
/// requests need a workload.
fn objective(c: &mut Checker<'_>, raw: &RawScenario, requests: bool) -> Objective {
    let default = if requests { Objective::Requests } else { Objective::Time };
    let Some(o) = &raw.objective else {
        return default;
    };
    let chosen = c.word(
        o,
        "objective",
        &[("requests", Objective::Requests), ("time", Objective::Time)],
    );
    if chosen == Some(Objective::Requests) && !requests {
        c.err_help(
            &o.span(),
            "objective",
            "judges the run on requests, but the scenario has no [[workload]] to send any",
            "add a [[workload]], or write objective = \"time\"".into(),
        );
    }
    chosen.unwrap_or(default)
}

/// The regions, and their index by name.
fn regions(c: &mut Checker<'_>, raw: &RawScenario) -> (Vec<Region>, BTreeMap<String, usize>) {
    let index = names(c, raw.region.iter().map(|r| &r.get_ref().name), "region");
    let regions = raw
        .region
        .iter()
        .map(|r| {
            let r = r.get_ref();
            let prefix = format!("region.{}", r.name.get_ref());
            let (failure, repair) = c.failure_repair(&r.failure, &r.repair, &prefix, &r.name.span());
            Region {
                name: r.name.get_ref().clone(),
                failure,
                repair,
            }
        })
        .collect();
    (regions, index)
}

/// The services, and their index by name.
fn services(
    c: &mut Checker<'_>,
    raw: &RawScenario,
    region_index: &BTreeMap<String, usize>,
) -> (Vec<Service>, BTreeMap<String, usize>) {
    let index = names(c, raw.service.iter().map(|s| &s.get_ref().name), "service");
    let services = raw
        .service
        .iter()
        .map(|s| service(c, s.get_ref(), region_index, &index))
        .collect();
    (services, index)
}

/// The workloads' index by name; a workload may not share a service's
/// name, since edges are named after both ends.
fn workload_names(
    c: &mut Checker<'_>,
    raw: &RawScenario,
    service_index: &BTreeMap<String, usize>,
) -> BTreeMap<String, usize> {
    let index = names(c, raw.workload.iter().map(|w| &w.get_ref().name), "workload");
    for name in index.keys() {
        if service_index.contains_key(name) {
            let span = raw.workload[index[name]].get_ref().name.span();
            c.err(
                &span,
                "workload.name",
                format!("\"{name}\" is also a service's name; edges are named FROM->TO, so names must differ"),
            );
        }
    }
    index
}

/// The call graph as a whole: at least one service, and no cycle.
fn check_graph(c: &mut Checker<'_>, raw: &RawScenario, services: &[Service]) {
    if services.is_empty() {
        c.err_file(
            "service",
            "the scenario has no service; add at least one [[service]] table".into(),
            None,
        );
    }
    if c.is_clean() {
        check_cycles(c, raw, services);
    }
}

/// One service: each key checked by its own step, in the order of the
/// fields (which is the order its problems are reported in).
fn service(
    c: &mut Checker<'_>,
    s: &RawService,
    region_index: &BTreeMap<String, usize>,
    service_index: &BTreeMap<String, usize>,
) -> Service {
    let p = format!("service.{}", s.name.get_ref());
    // An unknown topology is reported once: the checks that depend on it
    // are skipped rather than run against a guess, which would add
    // follow-on errors that vanish when the word is fixed.
    let known = topology(c, s, &p);
    let topology = known.unwrap_or(Topology::Single);
    let replicas = replicas(c, s, &p, known);
    let min_healthy = min_healthy(c, s, &p, known, replicas);
    let regions = placement(c, s, &p, region_index);
    let (failure, repair) = c.failure_repair(&s.failure, &s.repair, &p, &s.name.span());
    let failover = failover(c, s, &p, known);
    let standby = standby(c, s, &p, known);
    let calls = calls(c, s, &p, service_index);
    let mut svc = Service {
        name: s.name.get_ref().clone(),
        topology,
        replicas,
        min_healthy,
        regions,
        failure,
        repair,
        failover,
        standby,
        calls,
        concurrency: s
            .concurrency
            .as_ref()
            .and_then(|n| c.count(n, &format!("{p}.concurrency"), 1, 1_000_000)),
        queue: s
            .queue
            .as_ref()
            .and_then(|n| c.count(n, &format!("{p}.queue"), 0, 100_000_000)),
        service_time: s
            .service_time
            .as_ref()
            .and_then(|d| c.dist(d, &format!("{p}.service_time"))),
        error_rate: s
            .error_rate
            .as_ref()
            .map_or(0.0, |e| c.probability(e, &format!("{p}.error_rate")).unwrap_or(0.0)),
        load_balancer: load_balancer(c, s, &p),
        health_check: health_check(c, s, &p),
        call_mode: call_mode(c, s, &p),
        defence: super::defence::defence(c, s, &p),
        load: super::load::load(c, s, &p),
    };
    let sizes = (replicas, min_healthy, svc.concurrency);
    svc.defence.autoscale = super::autoscale::autoscale(c, s, &p, known, sizes);
    svc
}

/// The topology, `None` when the word is not one (already reported).
fn topology(c: &mut Checker<'_>, s: &RawService, p: &str) -> Option<Topology> {
    match &s.topology {
        Some(t) => c.word(
            t,
            &format!("{p}.topology"),
            &[
                ("single", Topology::Single),
                ("active-passive", Topology::ActivePassive),
                ("active-active", Topology::ActiveActive),
            ],
        ),
        None => Some(Topology::Single),
    }
}

/// Replicas per region: exactly one for a single replica, two by default
/// otherwise.
fn replicas(c: &mut Checker<'_>, s: &RawService, p: &str, topology: Option<Topology>) -> u32 {
    let Some(r) = &s.replicas else {
        return if topology == Some(Topology::Single) { 1 } else { 2 };
    };
    let n = c.count(r, &format!("{p}.replicas"), 1, 10_000).unwrap_or(1);
    if topology == Some(Topology::Single) && n != 1 {
        c.err_help(
            &r.span(),
            format!("{p}.replicas"),
            format!("topology \"single\" has exactly one replica, found {n}"),
            "use topology = \"active-active\" or \"active-passive\" for several replicas".into(),
        );
    }
    n
}

fn min_healthy(c: &mut Checker<'_>, s: &RawService, p: &str, topology: Option<Topology>, replicas: u32) -> u32 {
    let Some(m) = &s.min_healthy else {
        return 1;
    };
    if topology.is_some_and(|t| t != Topology::ActiveActive) {
        c.err(
            &m.span(),
            format!("{p}.min_healthy"),
            "applies only to topology = \"active-active\"",
        );
    }
    let v = *m.get_ref();
    if v < 1 || v > i64::from(replicas) {
        c.err(
            &m.span(),
            format!("{p}.min_healthy"),
            format!("must be between 1 and replicas ({replicas}), found {v}"),
        );
        1
    } else {
        v as u32
    }
}

/// The regions a service runs in, each named once.
fn placement(c: &mut Checker<'_>, s: &RawService, p: &str, region_index: &BTreeMap<String, usize>) -> Vec<usize> {
    let Some(list) = &s.regions else {
        return Vec::new();
    };
    if list.get_ref().is_empty() {
        c.err(
            &list.span(),
            format!("{p}.regions"),
            "is empty; omit it or name at least one region",
        );
    }
    let mut seen = Vec::new();
    for r in list.get_ref() {
        if let Some(i) = lookup(c, r, region_index, &format!("{p}.regions"), "region") {
            if seen.contains(&i) {
                c.err(
                    &r.span(),
                    format!("{p}.regions"),
                    format!("region \"{}\" is listed twice", r.get_ref()),
                );
            } else {
                seen.push(i);
            }
        }
    }
    seen
}

fn failover(c: &mut Checker<'_>, s: &RawService, p: &str, topology: Option<Topology>) -> Failover {
    let mut failover = Failover {
        detect: 0,
        switch: 0,
        success: 1.0,
    };
    if let Some(f) = &s.failover {
        if topology.is_some_and(|t| t != Topology::ActivePassive) {
            c.err(
                &f.span(),
                format!("{p}.failover"),
                "applies only to topology = \"active-passive\"",
            );
        }
        let f = f.get_ref();
        failover.detect = f.detect.as_ref().map_or(0, |d| d.get_ref().0);
        failover.switch = f.switch.as_ref().map_or(0, |d| d.get_ref().0);
        if let Some(sp) = &f.success {
            failover.success = c.probability(sp, &format!("{p}.failover.success")).unwrap_or(1.0);
        }
    }
    failover
}

fn standby(c: &mut Checker<'_>, s: &RawService, p: &str, topology: Option<Topology>) -> Standby {
    let Some(sb) = &s.standby else {
        return Standby::Hot;
    };
    if topology.is_some_and(|t| t != Topology::ActivePassive) {
        c.err(
            &sb.span(),
            format!("{p}.standby"),
            "applies only to topology = \"active-passive\"",
        );
    }
    c.word(
        sb,
        &format!("{p}.standby"),
        &[("hot", Standby::Hot), ("cold", Standby::Cold)],
    )
    .unwrap_or(Standby::Hot)
}

/// The services this one calls, each once and never itself, with the
/// client policies of each call.
fn calls(c: &mut Checker<'_>, s: &RawService, p: &str, service_index: &BTreeMap<String, usize>) -> Vec<Call> {
    let mut calls = Vec::new();
    for call in &s.call {
        let call = call.get_ref();
        if let Some(to) = lookup(c, &call.to, service_index, &format!("{p}.call.to"), "service") {
            // A service whose own name is unusable is not in the index.
            if service_index.get(s.name.get_ref()) == Some(&to) {
                c.err(&call.to.span(), format!("{p}.call.to"), "a service cannot call itself");
            } else if calls.iter().any(|k: &Call| k.to == to) {
                c.err(
                    &call.to.span(),
                    format!("{p}.call.to"),
                    format!("\"{}\" is already called", call.to.get_ref()),
                );
            } else {
                let key = format!("{p}.call");
                let policy = policy::client(
                    c,
                    RawClient {
                        timeout: &call.timeout,
                        deadline: &call.deadline,
                        retry: &call.retry,
                        breaker: &call.circuit_breaker,
                        bulkhead: &call.bulkhead,
                        fallback: &call.fallback,
                        cancel_on_timeout: &call.cancel_on_timeout,
                        hedge: &call.hedge,
                        order: &call.order,
                    },
                    &key,
                );
                calls.push(Call {
                    to,
                    fallback: policy.fallback,
                    policy,
                });
            }
        }
    }
    calls
}

fn load_balancer(c: &mut Checker<'_>, s: &RawService, p: &str) -> LoadBalancer {
    match &s.load_balancer {
        Some(lb) => c
            .word(
                lb,
                &format!("{p}.load_balancer"),
                &[
                    ("round-robin", LoadBalancer::RoundRobin),
                    ("random", LoadBalancer::Random),
                    ("least-outstanding", LoadBalancer::LeastOutstanding),
                    ("power-of-two", LoadBalancer::PowerOfTwo),
                ],
            )
            .unwrap_or(LoadBalancer::RoundRobin),
        None => LoadBalancer::RoundRobin,
    }
}

fn health_check(c: &mut Checker<'_>, s: &RawService, p: &str) -> HealthCheck {
    let mut health_check = super::defence::DEFAULT_HEALTH_CHECK;
    if let Some(hc) = &s.health_check {
        let h = hc.get_ref();
        if let Some(i) = &h.interval {
            if i.get_ref().0 == 0 {
                c.err(
                    &i.span(),
                    format!("{p}.health_check.interval"),
                    "must be longer than zero",
                );
            } else {
                health_check.interval = i.get_ref().0;
            }
        }
        if let Some(u) = &h.unhealthy {
            health_check.unhealthy = c.count(u, &format!("{p}.health_check.unhealthy"), 1, 1000).unwrap_or(1);
        }
        if let Some(u) = &h.healthy {
            health_check.healthy = c.count(u, &format!("{p}.health_check.healthy"), 1, 1000).unwrap_or(1);
        }
    }
    health_check
}

fn call_mode(c: &mut Checker<'_>, s: &RawService, p: &str) -> CallMode {
    match &s.call_mode {
        Some(m) => c
            .word(
                m,
                &format!("{p}.call_mode"),
                &[("sequential", CallMode::Sequential), ("parallel", CallMode::Parallel)],
            )
            .unwrap_or(CallMode::Sequential),
        None => CallMode::Sequential,
    }
}

fn workload(
    c: &mut Checker<'_>,
    w: &RawWorkload,
    service_index: &BTreeMap<String, usize>,
    region_index: &BTreeMap<String, usize>,
    (workflow_index, workflows): (&BTreeMap<String, usize>, &[super::Workflow]),
) -> Workload {
    let p = format!("workload.{}", w.name.get_ref());
    let region = w
        .region
        .as_ref()
        .and_then(|r| lookup(c, r, region_index, &format!("{p}.region"), "region"));
    let (to, workflow) = super::workflow::target(c, w, service_index, workflow_index, workflows, &p);
    let rate = *w.rate.get_ref();
    if !(rate.is_finite() && rate > 0.0) {
        c.err(
            &w.rate.span(),
            format!("{p}.rate"),
            format!("must be a positive number of requests per second, found {rate}"),
        );
    }
    let arrival = arrival(c, w, &p);
    let diurnal = diurnal(c, w, &p);
    let bursts = bursts(c, w, &p);
    let policy = policy::client(
        c,
        RawClient {
            timeout: &w.timeout,
            deadline: &w.deadline,
            retry: &w.retry,
            breaker: &w.circuit_breaker,
            bulkhead: &w.bulkhead,
            fallback: &w.fallback,
            cancel_on_timeout: &w.cancel_on_timeout,
            hedge: &w.hedge,
            order: &w.order,
        },
        &p,
    );
    Workload {
        region,
        low_priority: super::defence::low_priority(c, w, &p),
        name: w.name.get_ref().clone(),
        to,
        rate,
        arrival,
        diurnal,
        bursts,
        policy,
        workflow,
    }
}

fn arrival(c: &mut Checker<'_>, w: &RawWorkload, p: &str) -> Arrival {
    match &w.arrival {
        Some(a) => c
            .word(
                a,
                &format!("{p}.arrival"),
                &[("poisson", Arrival::Poisson), ("constant", Arrival::Constant)],
            )
            .unwrap_or(Arrival::Poisson),
        None => Arrival::Poisson,
    }
}

/// A daily swing of the rate: by default over 24 h, peaking at 14:00.
fn diurnal(c: &mut Checker<'_>, w: &RawWorkload, p: &str) -> Option<Diurnal> {
    let d = w.diurnal.as_ref()?;
    let raw = d.get_ref();
    let amplitude = c.probability(&raw.amplitude, &format!("{p}.diurnal.amplitude"))?;
    let period = raw.period.as_ref().map_or(24 * 3600 * SECOND, |x| x.get_ref().0);
    if period == 0 {
        c.err(&d.span(), format!("{p}.diurnal.period"), "must be longer than zero");
        return None;
    }
    Some(Diurnal {
        amplitude,
        period,
        peak: raw.peak.as_ref().map_or(14 * 3600 * SECOND, |x| x.get_ref().0),
    })
}

/// Windows in which the rate is multiplied by a factor.
fn bursts(c: &mut Checker<'_>, w: &RawWorkload, p: &str) -> Vec<Burst> {
    w.burst
        .iter()
        .filter_map(|b| {
            let raw = b.get_ref();
            let factor = *raw.factor.get_ref();
            if !(factor.is_finite() && factor >= 0.0) {
                c.err(
                    &raw.factor.span(),
                    format!("{p}.burst.factor"),
                    format!("must be a number >= 0, found {factor}"),
                );
                return None;
            }
            Some(Burst {
                at: raw.at.get_ref().0,
                duration: raw.duration.get_ref().0,
                factor,
            })
        })
        .collect()
}

/// Every service that requests reach must say how long serving takes.
fn check_request_level(
    c: &mut Checker<'_>,
    raw: &RawScenario,
    services: &[Service],
    workloads: &[Workload],
    workflows: &[super::Workflow],
) {
    let mut reached = vec![false; services.len()];
    let mut stack: Vec<usize> = workloads.iter().map(|w| w.to).collect();
    stack.extend(super::workflow::services_reached(workflows, workloads));
    while let Some(s) = stack.pop() {
        if !reached[s] {
            reached[s] = true;
            stack.extend(services[s].calls.iter().map(|k| k.to));
        }
    }
    for (i, s) in services.iter().enumerate() {
        if reached[i] && s.service_time.is_none() {
            c.err_help(
                &raw.service[i].get_ref().name.span(),
                format!("service.{}.service_time", s.name),
                "requests reach this service, but it has no service_time",
                "add service_time = { mean = \"10ms\" } (any distribution)".into(),
            );
        }
    }
}

fn global(c: &mut Checker<'_>, raw: &RawScenario, services: &[Service]) -> Global {
    let mut g = Global {
        mode: GlobalMode::ActiveActive,
        failover: 0,
        latency: None,
    };
    if let Some(gl) = &raw.global {
        let gl = gl.get_ref();
        if let Some(m) = &gl.mode {
            g.mode = c
                .word(
                    m,
                    "global.mode",
                    &[
                        ("active-active", GlobalMode::ActiveActive),
                        ("active-passive", GlobalMode::ActivePassive),
                    ],
                )
                .unwrap_or(GlobalMode::ActiveActive);
        }
        if let Some(f) = &gl.failover {
            g.failover = f.get_ref().0;
        }
        if let Some(l) = &gl.latency {
            g.latency = super::fault::length(c, l, "global.latency");
        }
        if services.iter().all(|s| s.regions.is_empty())
            && let Some(span) = raw.global.as_ref().map(Spanned::span)
        {
            c.err_help(
                &span,
                "global",
                "routes traffic between regions, but no service lists `regions`",
                "add regions = [\"...\"] to the services deployed in regions, or remove [global]".into(),
            );
        }
    }
    g
}

/// Rejects a dependency cycle, naming it.
fn check_cycles(c: &mut Checker<'_>, raw: &RawScenario, services: &[Service]) {
    // 0 = unvisited, 1 = on the current path, 2 = done.
    let mut state = vec![0u8; services.len()];
    let mut path = Vec::new();
    for start in 0..services.len() {
        if state[start] == 0
            && let Some((from, to)) = dfs(start, services, &mut state, &mut path)
        {
            let pos = path.iter().position(|&p| p == to).unwrap_or(0);
            let mut names: Vec<&str> = path[pos..].iter().map(|&i| services[i].name.as_str()).collect();
            names.push(&services[to].name);
            let call = raw.service[from]
                .get_ref()
                .call
                .iter()
                .find(|k| k.get_ref().to.get_ref() == &services[to].name)
                .expect("the cycle's edge is a call");
            c.err(
                &call.get_ref().to.span(),
                format!("service.{}.call.to", services[from].name),
                format!("the calls form a cycle: {}", names.join(" -> ")),
            );
            return;
        }
    }
}

/// Depth-first search from `start`, iterative so that a long chain of calls
/// cannot overflow the stack: the first edge back onto the current path, as
/// `(from, to)`, with `path` left holding that path.
fn dfs(start: usize, services: &[Service], state: &mut [u8], path: &mut Vec<usize>) -> Option<(usize, usize)> {
    // Each frame: a node on the path and the index of its next call.
    let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
    state[start] = 1;
    path.push(start);
    while let Some(top) = stack.last_mut() {
        let (node, next) = *top;
        if let Some(call) = services[node].calls.get(next) {
            top.1 += 1;
            match state[call.to] {
                1 => return Some((node, call.to)),
                0 => {
                    state[call.to] = 1;
                    path.push(call.to);
                    stack.push((call.to, 0));
                }
                _ => {}
            }
        } else {
            stack.pop();
            path.pop();
            state[node] = 2;
        }
    }
    None
}

fn entry(c: &mut Checker<'_>, raw: &RawScenario, services: &[Service], workloads: &[Workload]) -> usize {
    if let Some(e) = &raw.entry {
        let index: BTreeMap<String, usize> = services.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
        return lookup(c, e, &index, "entry", "service").unwrap_or(0);
    }
    if let Some(first) = workloads.first() {
        if workloads.iter().all(|w| w.to == first.to) {
            return first.to;
        }
        let mut targets: Vec<&str> = workloads.iter().map(|w| services[w.to].name.as_str()).collect();
        targets.dedup();
        // Point at the first workload that targets another service: the
        // place where the entry point stopped being clear.
        let other = workloads.iter().position(|w| w.to != first.to).unwrap_or(0);
        let w = raw.workload[other].get_ref();
        let span = w.to.as_ref().or(w.workflow.as_ref()).unwrap_or(&w.name).span();
        c.err_help(
            &span,
            "entry",
            format!(
                "cannot tell which service is the entry point: workloads target {}",
                targets.join(", ")
            ),
            format!("add entry = \"{}\" at the top of the file", targets[0]),
        );
        return 0;
    }
    // One pass over the calls: linear in the size of the graph.
    let mut called = vec![false; services.len()];
    for call in services.iter().flat_map(|s| &s.calls) {
        called[call.to] = true;
    }
    let roots: Vec<usize> = (0..services.len()).filter(|&i| !called[i]).collect();
    if roots.len() == 1 {
        return roots[0];
    }
    let names: Vec<&str> = roots.iter().map(|&i| services[i].name.as_str()).collect();
    // Point at the second service that nothing calls: with it, the entry
    // point stopped being clear.
    let span = raw.service[roots.get(1).copied().unwrap_or(0)].get_ref().name.span();
    c.err_help(
        &span,
        "entry",
        format!(
            "cannot tell which service is the entry point: {} are called by no other service",
            names.join(", ")
        ),
        format!("add entry = \"{}\" at the top of the file", names[0]),
    );
    0
}

/// `request_sampling`: a word, and `windowed` only for a model it can run.
fn request_sampling(c: &mut Checker<'_>, raw: &RawScenario, sc: &Scenario) -> Option<super::RequestSampling> {
    use super::RequestSampling;
    let word = raw.request_sampling.as_ref()?;
    let mode = match word.get_ref().as_str() {
        "auto" => RequestSampling::Auto,
        "full" => RequestSampling::Full,
        "windowed" => RequestSampling::Windowed,
        other => {
            c.err_help(
                &word.span(),
                "request_sampling",
                format!("unknown request sampling \"{other}\""),
                "write request_sampling = \"auto\", \"full\" or \"windowed\"".into(),
            );
            return None;
        }
    };
    if mode == RequestSampling::Windowed
        && c.is_clean()
        && let Some(why) = super::sampling::refusal(sc)
    {
        c.err_help(
            &word.span(),
            "request_sampling",
            why,
            "write request_sampling = \"full\" (or \"auto\", which falls back to full)".into(),
        );
    }
    Some(mode)
}
