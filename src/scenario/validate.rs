//! From the raw file to a [`Scenario`]: every check of meaning, each
//! reported with its location and key in `--set` path form.
//!
//! Validation does not stop at the first problem: it collects every
//! diagnostic it can, so a user fixes a file in one pass.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::limits;
use super::policy::{self, RawClient};
use super::raw::{RawDist, RawScenario, RawService, RawWorkload};
use super::source::{Source, suggest};
use super::{
    Arrival, Burst, Call, CallMode, Diurnal, Failover, Global, GlobalMode, HealthCheck, LoadBalancer, Region, Scenario,
    Service, Standby, Topology, Workload,
};
use crate::distribution::Dist;
use crate::engine::time::{SECOND, YEAR};
use crate::error::{Diagnostic, Origin};

/// Defaults when the file is silent.
pub const DEFAULT_TRIALS: u64 = 1000;
/// One simulated year per trial unless `horizon` says otherwise.
pub const DEFAULT_HORIZON: u64 = YEAR;

/// Collects diagnostics while checking.
pub(super) struct Checker<'a> {
    src: &'a Source,
    diags: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(super) fn err(&mut self, span: &Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        self.diags.push(self.src.diag(span, key, message));
    }

    pub(super) fn err_help(
        &mut self,
        span: &Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
        help: String,
    ) {
        let mut d = self.src.diag(span, key, message);
        d.help = Some(help);
        self.diags.push(d);
    }

    /// A word from a fixed list, with a suggestion when it is misspelt.
    pub(super) fn word<T: Copy>(&mut self, value: &Spanned<String>, key: &str, choices: &[(&str, T)]) -> Option<T> {
        let v = value.get_ref().as_str();
        if let Some((_, t)) = choices.iter().find(|(name, _)| *name == v) {
            return Some(*t);
        }
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let message = format!("found \"{v}\", expected one of: {}", names.join(", "));
        match suggest(v, &names) {
            Some(s) => self.err_help(&value.span(), key, message, format!("did you mean \"{s}\"?")),
            None => self.err(&value.span(), key, message),
        }
        None
    }

    pub(super) fn count(&mut self, value: &Spanned<i64>, key: &str, min: i64, max: i64) -> Option<u32> {
        let v = *value.get_ref();
        if v < min || v > max {
            self.err(
                &value.span(),
                key,
                format!("must be between {min} and {max}, found {v}"),
            );
            None
        } else {
            Some(v as u32)
        }
    }

    pub(super) fn probability(&mut self, value: &Spanned<f64>, key: &str) -> Option<f64> {
        let v = *value.get_ref();
        if (0.0..=1.0).contains(&v) {
            Some(v)
        } else {
            self.err(
                &value.span(),
                key,
                format!("a probability must be between 0 and 1, found {v}"),
            );
            None
        }
    }

    pub(super) fn dist(&mut self, raw: &Spanned<RawDist>, key: &str) -> Option<Dist> {
        let d = raw.get_ref();
        const FAMILIES: [(&str, &[&str]); 7] = [
            ("exponential", &["mean"]),
            ("weibull", &["shape", "mean"]),
            ("lognormal", &["mean", "cv"]),
            ("gamma", &["shape", "mean"]),
            ("fixed", &["mean"]),
            ("uniform", &["min", "max"]),
            ("empirical", &["values"]),
        ];
        let family = match &d.dist {
            None => "exponential",
            Some(name) => {
                let choices: Vec<(&str, &str)> = FAMILIES.iter().map(|(n, _)| (*n, *n)).collect();
                self.word(name, &format!("{key}.dist"), &choices)?
            }
        };
        let wants = FAMILIES
            .iter()
            .find(|(n, _)| *n == family)
            .map(|(_, k)| *k)
            .unwrap_or(&[]);
        let present: [(&str, Option<Range<usize>>); 6] = [
            ("mean", d.mean.as_ref().map(Spanned::span)),
            ("shape", d.shape.as_ref().map(Spanned::span)),
            ("cv", d.cv.as_ref().map(Spanned::span)),
            ("min", d.min.as_ref().map(Spanned::span)),
            ("max", d.max.as_ref().map(Spanned::span)),
            ("values", d.values.as_ref().map(Spanned::span)),
        ];
        let mut ok = true;
        for (name, span) in &present {
            if let Some(span) = span
                && !wants.contains(name)
            {
                self.err(
                    span,
                    format!("{key}.{name}"),
                    format!(
                        "does not apply to dist = \"{family}\", which takes: {}",
                        wants.join(", ")
                    ),
                );
                ok = false;
            }
        }
        for name in wants {
            if present.iter().any(|(n, s)| n == name && s.is_none()) {
                self.err(
                    &raw.span(),
                    format!("{key}.{name}"),
                    format!("dist = \"{family}\" needs `{name}` (it takes: {})", wants.join(", ")),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        let mean = d.mean.as_ref().map_or(0, |m| m.get_ref().0);
        let built = match family {
            "exponential" => Dist::exponential(mean),
            "weibull" => Dist::weibull(*d.shape.as_ref()?.get_ref(), mean),
            "lognormal" => Dist::lognormal(*d.cv.as_ref()?.get_ref(), mean),
            "gamma" => Dist::gamma(*d.shape.as_ref()?.get_ref(), mean),
            "fixed" => Dist::fixed(mean),
            "uniform" => Dist::uniform(d.min.as_ref()?.get_ref().0, d.max.as_ref()?.get_ref().0),
            _ => Dist::empirical(d.values.as_ref()?.get_ref().iter().map(|v| v.0).collect()),
        };
        built
            .map_err(|e| self.err(&raw.span(), key.to_string(), e.to_string()))
            .ok()
    }

    /// A failure process: `failure` needs `repair` beside it.
    fn failure_repair(
        &mut self,
        failure: &Option<Spanned<RawDist>>,
        repair: &Option<Spanned<RawDist>>,
        prefix: &str,
        name_span: &Range<usize>,
    ) -> (Option<Dist>, Option<Dist>) {
        let f = failure
            .as_ref()
            .and_then(|f| self.dist(f, &format!("{prefix}.failure")));
        let r = repair.as_ref().and_then(|r| self.dist(r, &format!("{prefix}.repair")));
        if failure.is_some() && repair.is_none() {
            self.err_help(
                name_span,
                format!("{prefix}.repair"),
                "`failure` is given but `repair` is not: what fails would never come back",
                "add repair = { mean = \"4h\" } (or any distribution)".to_string(),
            );
        }
        (f, r)
    }
}

/// Checks `raw` and builds the scenario, or returns every problem found.
pub fn validate(src: &Source, stem: &str, raw: RawScenario) -> Result<Scenario, Vec<Diagnostic>> {
    let mut c = Checker { src, diags: Vec::new() };

    let horizon = match &raw.horizon {
        Some(h) if h.get_ref().0 == 0 => {
            c.err(&h.span(), "horizon", "must be longer than zero");
            DEFAULT_HORIZON
        }
        Some(h) => h.get_ref().0,
        None => DEFAULT_HORIZON,
    };
    let trials = match &raw.trials {
        Some(t) => c.count(t, "trials", 1, 1_000_000_000).map_or(DEFAULT_TRIALS, u64::from),
        None => DEFAULT_TRIALS,
    };
    let seed = raw.seed.as_ref().map_or(0, |s| *s.get_ref());
    let slo = raw.slo.as_ref().and_then(|s| {
        let v = *s.get_ref();
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

    let region_index = names(&mut c, raw.region.iter().map(|r| &r.get_ref().name), "region");
    let regions: Vec<Region> = raw
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

    let service_index = names(&mut c, raw.service.iter().map(|s| &s.get_ref().name), "service");
    let services: Vec<Service> = raw
        .service
        .iter()
        .map(|s| service(&mut c, s.get_ref(), &region_index, &service_index))
        .collect();

    let global = global(&mut c, &raw, &services);
    let workload_names = names(&mut c, raw.workload.iter().map(|w| &w.get_ref().name), "workload");
    for name in workload_names.keys() {
        if service_index.contains_key(name) {
            let span = raw.workload[workload_names[name]].get_ref().name.span();
            c.err(
                &span,
                "workload.name",
                format!("\"{name}\" is also a service's name; edges are named FROM->TO, so names must differ"),
            );
        }
    }
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
    if c.diags.is_empty() {
        check_request_level(&mut c, &raw, &services, &workloads, &workflows);
    }
    let cascade = super::fault::cascade(&mut c, &raw.cascade);
    let faults = if c.diags.is_empty() {
        let names = super::fault::Names {
            services: &service_index,
            regions: &region_index,
            workloads: &workload_names,
        };
        super::fault::faults(&mut c, &raw, &services, &names, !workloads.is_empty())
    } else {
        Vec::new()
    };

    if services.is_empty() {
        c.diags.push(Diagnostic {
            origin: Origin::Scenario(src.path.clone()),
            key: Some("service".into()),
            message: "the scenario has no service; add at least one [[service]] table".into(),
            help: None,
        });
    }
    if c.diags.is_empty() {
        check_cycles(&mut c, &raw, &services);
    }
    let entry = if c.diags.is_empty() {
        entry(&mut c, &raw, &services, &workloads)
    } else {
        0
    };
    let limits = limits::limits(&mut c, raw.limits.as_ref());
    if c.diags.is_empty() {
        let sizes = limits::Sizes {
            horizon,
            regions: &regions,
            services: &services,
            workloads: &workloads,
            limits,
        };
        limits::check(&mut c, &raw, &sizes);
    }

    if !c.diags.is_empty() {
        return Err(c.diags);
    }
    Ok(Scenario {
        name: raw.name.map_or_else(|| stem.to_string(), |n| n.into_inner()),
        path: src.path.clone(),
        horizon,
        trials,
        seed,
        entry,
        regions,
        services,
        global,
        workloads,
        slo,
        faults,
        cascade,
        workflows,
        limits,
    })
}

/// Checks names are non-empty and unique; returns name -> index.
pub(super) fn names<'a>(
    c: &mut Checker<'_>,
    list: impl Iterator<Item = &'a Spanned<String>>,
    what: &str,
) -> BTreeMap<String, usize> {
    let mut index = BTreeMap::new();
    for (i, name) in list.enumerate() {
        let n = name.get_ref();
        if n.is_empty() || n.contains(['.', '[', ']', ' ']) || n.contains("->") {
            c.err(
                &name.span(),
                format!("{what}.name"),
                format!("\"{n}\" is not a usable name: use letters, digits, '-' and '_'"),
            );
        } else if index.insert(n.clone(), i).is_some() {
            c.err(
                &name.span(),
                format!("{what}.name"),
                format!("another {what} is already named \"{n}\""),
            );
        }
    }
    index
}

pub(super) fn lookup(
    c: &mut Checker<'_>,
    name: &Spanned<String>,
    index: &BTreeMap<String, usize>,
    key: &str,
    what: &str,
) -> Option<usize> {
    let n = name.get_ref();
    if let Some(&i) = index.get(n) {
        return Some(i);
    }
    let known: Vec<&str> = index.keys().map(String::as_str).collect();
    let message = if known.is_empty() {
        format!("no {what} is named \"{n}\" (the scenario defines none)")
    } else {
        format!("no {what} is named \"{n}\"; defined: {}", known.join(", "))
    };
    match suggest(n, &known) {
        Some(s) => c.err_help(&name.span(), key, message, format!("did you mean \"{s}\"?")),
        None => c.err(&name.span(), key, message),
    }
    None
}

fn service(
    c: &mut Checker<'_>,
    s: &RawService,
    region_index: &BTreeMap<String, usize>,
    service_index: &BTreeMap<String, usize>,
) -> Service {
    let p = format!("service.{}", s.name.get_ref());
    let topology = match &s.topology {
        Some(t) => c
            .word(
                t,
                &format!("{p}.topology"),
                &[
                    ("single", Topology::Single),
                    ("active-passive", Topology::ActivePassive),
                    ("active-active", Topology::ActiveActive),
                ],
            )
            .unwrap_or(Topology::Single),
        None => Topology::Single,
    };
    let default_replicas = if topology == Topology::Single { 1 } else { 2 };
    let replicas = match &s.replicas {
        Some(r) => {
            let n = c.count(r, &format!("{p}.replicas"), 1, 10_000).unwrap_or(1);
            if topology == Topology::Single && n != 1 {
                c.err_help(
                    &r.span(),
                    format!("{p}.replicas"),
                    format!("topology \"single\" has exactly one replica, found {n}"),
                    "use topology = \"active-active\" or \"active-passive\" for several replicas".into(),
                );
            }
            n
        }
        None => default_replicas,
    };
    let min_healthy = match &s.min_healthy {
        Some(m) => {
            if topology != Topology::ActiveActive {
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
        None => 1,
    };
    let regions = match &s.regions {
        Some(list) => {
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
        None => Vec::new(),
    };
    let (failure, repair) = c.failure_repair(&s.failure, &s.repair, &p, &s.name.span());
    let mut failover = Failover {
        detect: 0,
        switch: 0,
        success: 1.0,
    };
    if let Some(f) = &s.failover {
        if topology != Topology::ActivePassive {
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
    let standby = match &s.standby {
        Some(sb) => {
            if topology != Topology::ActivePassive {
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
        None => Standby::Hot,
    };
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
    let concurrency = s
        .concurrency
        .as_ref()
        .and_then(|n| c.count(n, &format!("{p}.concurrency"), 1, 1_000_000));
    let queue = s
        .queue
        .as_ref()
        .and_then(|n| c.count(n, &format!("{p}.queue"), 0, 100_000_000));
    let service_time = s
        .service_time
        .as_ref()
        .and_then(|d| c.dist(d, &format!("{p}.service_time")));
    let error_rate = s
        .error_rate
        .as_ref()
        .map_or(0.0, |e| c.probability(e, &format!("{p}.error_rate")).unwrap_or(0.0));
    let load_balancer = match &s.load_balancer {
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
    };
    let mut health_check = DEFAULT_HEALTH_CHECK;
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
    let call_mode = match &s.call_mode {
        Some(m) => c
            .word(
                m,
                &format!("{p}.call_mode"),
                &[("sequential", CallMode::Sequential), ("parallel", CallMode::Parallel)],
            )
            .unwrap_or(CallMode::Sequential),
        None => CallMode::Sequential,
    };
    Service {
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
        concurrency,
        queue,
        service_time,
        error_rate,
        load_balancer,
        health_check,
        call_mode,
        defence: super::defence::defence(c, s, &p),
    }
}

/// Kubernetes' readiness-probe defaults: every 10 s, 3 failures to mark a
/// replica unhealthy, 1 success to mark it healthy again.
pub const DEFAULT_HEALTH_CHECK: HealthCheck = HealthCheck {
    interval: 10 * SECOND,
    unhealthy: 3,
    healthy: 1,
};

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
    let arrival = match &w.arrival {
        Some(a) => c
            .word(
                a,
                &format!("{p}.arrival"),
                &[("poisson", Arrival::Poisson), ("constant", Arrival::Constant)],
            )
            .unwrap_or(Arrival::Poisson),
        None => Arrival::Poisson,
    };
    let diurnal = w.diurnal.as_ref().and_then(|d| {
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
    });
    let bursts = w
        .burst
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
        .collect();
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

fn dfs(node: usize, services: &[Service], state: &mut [u8], path: &mut Vec<usize>) -> Option<(usize, usize)> {
    state[node] = 1;
    path.push(node);
    for call in &services[node].calls {
        match state[call.to] {
            1 => return Some((node, call.to)),
            0 => {
                if let Some(found) = dfs(call.to, services, state, path) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    path.pop();
    state[node] = 2;
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
        c.diags.push(Diagnostic {
            origin: Origin::Scenario(c.src.path.clone()),
            key: Some("entry".into()),
            message: format!(
                "cannot tell which service is the entry point: workloads target {}",
                targets.join(", ")
            ),
            help: Some(format!("add entry = \"{}\" at the top of the file", targets[0])),
        });
        return 0;
    }
    let called: Vec<bool> = (0..services.len())
        .map(|i| services.iter().any(|s| s.calls.iter().any(|k| k.to == i)))
        .collect();
    let roots: Vec<usize> = (0..services.len()).filter(|&i| !called[i]).collect();
    if roots.len() == 1 {
        return roots[0];
    }
    let names: Vec<&str> = roots.iter().map(|&i| services[i].name.as_str()).collect();
    c.diags.push(Diagnostic {
        origin: Origin::Scenario(c.src.path.clone()),
        key: Some("entry".into()),
        message: format!(
            "cannot tell which service is the entry point: {} are called by no other service",
            names.join(", ")
        ),
        help: Some(format!("add entry = \"{}\" at the top of the file", names[0])),
    });
    0
}
