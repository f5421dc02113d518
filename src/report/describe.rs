//! What `nines check` prints: what a scenario compiles to, in words, and
//! where one exists the closed-form availability to judge a run by.

use std::fmt::Write as _;

use crate::distribution::Dist;
use crate::engine::time::from_secs;
use crate::model::{World, analytic};
use crate::resilience::circuit_breaker::Trip;
use crate::scenario::duration::Duration;
use crate::scenario::{
    Arrival, ClientPolicy, Fault, FaultKind, FaultSchedule, GlobalMode, Scenario, Service, Standby, Topology, Workload,
};

/// The whole description: the scenario's settings, then its regions,
/// workloads, workflows, services and faults.
pub fn describe(sc: &Scenario) -> String {
    let world = World::compile(sc);
    let load = offered_load(sc, true);
    let cold = offered_load(sc, false);
    let mut t = String::new();
    settings(&mut t, sc);
    regions(&mut t, sc);
    workloads(&mut t, sc);
    workflows(&mut t, sc);
    let _ = writeln!(t, "services:");
    for i in 0..sc.services.len() {
        service(&mut t, sc, &world, i, [&load, &cold]);
    }
    faults(&mut t, sc);
    super::describe_ops::describe(&mut t, sc, &world);
    super::slo::describe(&mut t, sc);
    super::infra::describe(&mut t, sc, &world);
    t
}

fn dist(d: Option<&Dist>) -> String {
    d.map_or("never".into(), |d| {
        format!("mean {}", Duration(from_secs(d.mean_secs())))
    })
}

/// The file, the run's settings and the entry point.
fn settings(t: &mut String, sc: &Scenario) {
    let _ = writeln!(t, "{}: valid", sc.path);
    let _ = writeln!(
        t,
        "scenario \"{}\" · horizon {} · {} trials · seed {}",
        sc.name,
        Duration(sc.horizon),
        sc.trials,
        sc.seed
    );
    let _ = writeln!(t, "entry point: {}", sc.services[sc.entry].name);
    // Only a scenario with requests has a choice to state.
    if !sc.workloads.is_empty() {
        let judged = match sc.objective {
            crate::scenario::Objective::Requests => {
                "requests served over requests (objective = \"requests\"); time-based availability beside it"
            }
            crate::scenario::Objective::Time => "time-based availability (objective = \"time\")",
        };
        let _ = writeln!(t, "judged on: {judged}");
    }
}

/// Global routing and each region's failure process.
fn regions(t: &mut String, sc: &Scenario) {
    if sc.regions.is_empty() {
        return;
    }
    let mode = match sc.global.mode {
        GlobalMode::ActiveActive => "active-active",
        GlobalMode::ActivePassive => "active-passive",
    };
    let latency = sc
        .global
        .latency
        .as_ref()
        .map_or(String::new(), |l| format!(", calls between regions +{}", dist(Some(l))));
    let _ = writeln!(
        t,
        "global routing: {mode}, failover {}{latency}",
        Duration(sc.global.failover)
    );
    let _ = writeln!(t, "regions:");
    for r in &sc.regions {
        let _ = writeln!(
            t,
            "  {:<16} failure {} · repair {}",
            r.name,
            dist(r.failure.as_ref()),
            dist(r.repair.as_ref())
        );
    }
}

fn workloads(t: &mut String, sc: &Scenario) {
    if sc.workloads.is_empty() {
        return;
    }
    let _ = writeln!(t, "workloads:");
    for w in &sc.workloads {
        let target = match w.workflow {
            Some(i) => format!("starting workflow {}", sc.workflows[i].name),
            None => format!("to {}", sc.services[w.to].name),
        };
        let _ = writeln!(
            t,
            "  {:<16} {} requests/s ({}) {target}{}",
            w.name,
            w.rate,
            arrival(w),
            policy(&w.policy)
        );
    }
}

/// Each workflow's steps in order, with their compensations.
fn workflows(t: &mut String, sc: &Scenario) {
    for wf in &sc.workflows {
        let deadline = wf
            .deadline
            .map_or(String::new(), |d| format!(" · deadline {}", Duration(d)));
        let _ = writeln!(t, "workflow {}{deadline}:", wf.name);
        for (i, s) in wf.steps.iter().enumerate() {
            let _ = writeln!(
                t,
                "  {}. {:<13} calls {}{}{}",
                i + 1,
                s.name,
                sc.services[s.to].name,
                policy(&s.policy),
                if s.pivot { " (pivot: only forward after it)" } else { "" }
            );
            if let Some(k) = &s.compensation {
                let _ = writeln!(
                    t,
                    "     {:<13} compensated by calling {}{}",
                    "",
                    sc.services[k.to].name,
                    policy(&k.policy)
                );
            }
        }
    }
}

/// Service `i`: its shape, where it runs, how it fails, whom it calls, how
/// it serves (given the offered load with warm and with cold caches), and
/// its closed-form availability.
fn service(t: &mut String, sc: &Scenario, world: &World, i: usize, [load, cold]: [&[f64]; 2]) {
    let s = &sc.services[i];
    let _ = writeln!(t, "  {:<16} {}", s.name, topology(s));
    let _ = writeln!(t, "  {:<16} {}", "", placement(sc, s));
    let _ = writeln!(
        t,
        "  {:<16} failure {} · repair {}",
        "",
        dist(s.failure.as_ref()),
        dist(s.repair.as_ref())
    );
    for (k, c) in s.calls.iter().enumerate() {
        let _ = writeln!(
            t,
            "  {:<16} calls {}{}{}{}",
            "",
            sc.services[c.to].name,
            policy(&c.policy),
            super::describe_load::cache_words(s, k),
            if c.fallback {
                " (with fallback: not required)"
            } else {
                ""
            }
        );
    }
    if let Some(line) = serving(sc, i, load) {
        let _ = writeln!(t, "  {:<16} {line}", "");
        if let Some(line) = super::autoscale::check_line(sc, world, i, load) {
            let _ = writeln!(t, "  {:<16} {line}", "");
        }
    }
    for line in super::describe_load::service_lines(s) {
        let _ = writeln!(t, "  {:<16} {line}", "");
    }
    if let Some(line) = super::describe_load::cold_cache_line(sc, i, load, cold) {
        let _ = writeln!(t, "  {:<16} {line}", "");
    }
    for line in super::describe_probes::service_lines(sc, i) {
        let _ = writeln!(t, "  {:<16} {line}", "");
    }
    let _ = writeln!(t, "  {:<16} {}", "", closed_form(sc, world, i));
}

fn topology(s: &Service) -> String {
    match s.topology {
        Topology::Single => "single".to_string(),
        Topology::ActiveActive => format!("active-active, {} of {} needed", s.min_healthy, s.replicas),
        Topology::ActivePassive => format!(
            "active-passive, 1 active + {} {} standby, failover detect {} + switch {}, success {}",
            s.replicas - 1,
            if s.standby == Standby::Cold { "cold" } else { "hot" },
            Duration(s.failover.detect),
            Duration(s.failover.switch),
            s.failover.success
        ),
    }
}

fn placement(sc: &Scenario, s: &Service) -> String {
    if s.regions.is_empty() {
        format!("{} replica(s), no region", s.replicas)
    } else {
        let names: Vec<&str> = s.regions.iter().map(|&r| sc.regions[r].name.as_str()).collect();
        format!("{} replica(s) in each of {}", s.replicas, names.join(", "))
    }
}

/// Most services for which every service's closed form is printed: each
/// costs a walk over what it needs, so all of them together grow with the
/// square of the services. Above it, only the entry's is computed.
const CLOSED_FORMS_UP_TO: usize = 2000;

/// Service `i`'s availability from the closed form, or why there is none.
fn closed_form(sc: &Scenario, world: &World, i: usize) -> String {
    if sc.services.len() > CLOSED_FORMS_UP_TO && i != sc.entry {
        return format!(
            "closed form: printed for the entry only, in a scenario of more than {CLOSED_FORMS_UP_TO} services"
        );
    }
    match analytic::availability(sc, world, i) {
        Ok(a) if a >= 1.0 => "never down: nothing it needs can fail".to_string(),
        Ok(a) => format!("closed-form availability {a:.9} ({:.3} nines)", -(1.0 - a).log10()),
        Err(why) => format!("no closed form: {why}"),
    }
}

/// The injected faults, then how their impact is judged.
fn faults(t: &mut String, sc: &Scenario) {
    if sc.faults.is_empty() {
        return;
    }
    let _ = writeln!(t, "faults:");
    for f in &sc.faults {
        let _ = writeln!(
            t,
            "  {:<16} {}{} on {}, {}, lasting {}",
            f.name,
            f.kind.word(),
            fault_size(f),
            f.target_text,
            fault_schedule(f),
            dist(Some(&f.duration))
        );
    }
    let c = &sc.cascade;
    let _ = writeln!(
        t,
        "  impact judged per {} bucket: affected below {:.1} % success, recovered after {} above",
        Duration(c.bucket),
        c.threshold * 100.0,
        Duration(c.settle)
    );
}

fn fault_schedule(f: &Fault) -> String {
    match &f.schedule {
        FaultSchedule::Once(at) => format!("at {}", Duration(*at)),
        FaultSchedule::Process { first, every } => format!(
            "every {}{}",
            dist(Some(every)),
            first.map_or(String::new(), |a| format!(", first at {}", Duration(a)))
        ),
    }
}

/// How much a fault does, where its kind has a size.
fn fault_size(f: &Fault) -> String {
    match &f.kind {
        FaultKind::Latency(d) => format!(" +{}", dist(Some(d))),
        FaultKind::Errors(p) => format!(" error_rate {p}"),
        FaultKind::Capacity(c) => format!(" capacity {c}"),
        _ => String::new(),
    }
}

fn arrival(w: &Workload) -> String {
    let mut s = match w.arrival {
        Arrival::Poisson => "poisson".to_string(),
        Arrival::Constant => "constant".to_string(),
    };
    if let Some(d) = &w.diurnal {
        s.push_str(&format!(
            ", diurnal ±{:.0} % peaking at {}",
            d.amplitude * 100.0,
            Duration(d.peak)
        ));
    }
    for b in &w.bursts {
        s.push_str(&format!(
            ", ×{} for {} at {}",
            b.factor,
            Duration(b.duration),
            Duration(b.at)
        ));
    }
    s
}

/// The client policies of an edge, in words.
fn policy(p: &ClientPolicy) -> String {
    let mut parts = Vec::new();
    if let Some(t) = p.timeout {
        parts.push(format!("timeout {}", Duration(t)));
    }
    if let Some(d) = p.deadline {
        parts.push(format!("deadline {}", Duration(d)));
    }
    if let Some(r) = &p.retry {
        let budget = r
            .budget
            .as_ref()
            .map_or(String::new(), |b| format!(", budget {}", b.ratio));
        parts.push(
            format!(
                "{} attempts {:?} backoff base {}{}",
                r.max_attempts,
                r.backoff,
                Duration(r.base),
                budget
            )
            .to_lowercase(),
        );
    }
    if let Some(b) = &p.breaker {
        let rule = match b.trip {
            Trip::Consecutive { failure_threshold } => format!("{failure_threshold} consecutive failures"),
            Trip::CountWindow { size } => format!("{:.0} % failing of the last {size} calls", b.failure_rate * 100.0),
            Trip::TimeWindow { size } => format!("{:.0} % failing over {}", b.failure_rate * 100.0, Duration(size)),
        };
        parts.push(format!(
            "breaker opens on {rule} for {}, {} half-open probe(s)",
            Duration(b.open_for),
            b.half_open_calls
        ));
    }
    if let Some(b) = &p.bulkhead {
        parts.push(format!("bulkhead {} + queue {}", b.max_concurrent, b.max_queue));
    }
    if p.cancel_on_timeout {
        parts.push("cancels on timeout".into());
    }
    parts.extend(client_extras(p));
    if parts.is_empty() {
        String::new()
    } else {
        format!(" [{}]", parts.join(", "))
    }
}

/// Requests per second reaching each service, counting one call per edge
/// per request (no retries, no errors), less what warm caches answer when
/// `warm` (a cached call passes on its miss share).
fn offered_load(sc: &Scenario, warm: bool) -> Vec<f64> {
    let mut load = vec![0.0; sc.services.len()];
    for w in &sc.workloads {
        match w.workflow {
            // Every step once per saga (compensations are rare).
            Some(i) => sc.workflows[i].steps.iter().for_each(|s| load[s.to] += w.rate),
            None => load[w.to] += w.rate,
        }
    }
    // Callers before callees: reverse of the dependency order.
    let world = World::compile(sc);
    for &s in world.order.iter().rev() {
        for (k, c) in sc.services[s].calls.iter().enumerate() {
            let h = if warm {
                super::describe_load::hit_rate(sc, s, k)
            } else {
                0.0
            };
            load[c.to] += load[s] * (1.0 - h);
        }
    }
    load
}

/// How a service serves requests, and how busy the offered load keeps it.
fn serving(sc: &Scenario, s: usize, load: &[f64]) -> Option<String> {
    let svc = &sc.services[s];
    let st = svc.service_time.as_ref()?;
    let groups = svc.regions.len().max(1) as f64;
    let serving_replicas = match svc.topology {
        Topology::ActivePassive => groups,
        _ => groups * f64::from(svc.replicas),
    };
    let conc = svc.concurrency.map_or("unlimited".to_string(), |c| c.to_string());
    let queue = svc.queue.map_or("unbounded".to_string(), |q| q.to_string());
    let mut line = format!(
        "serves: concurrency {conc}, queue {queue}, service time mean {}, error rate {}; offered {:.1} requests/s",
        Duration(from_secs(st.mean_secs())),
        svc.error_rate,
        load[s]
    );
    if let Some(c) = svc.concurrency {
        let rho = load[s] * st.mean_secs() / (serving_replicas * f64::from(c));
        line.push_str(&format!(", utilisation {:.1} %", rho * 100.0));
        if rho >= 1.0 {
            line.push_str(" (OVERLOADED: more work arrives than the replicas can serve)");
        }
    }
    Some(line)
}

/// The second-round client policies of an edge (hedging, the retry budget
/// by concurrency, a breaker's growing open periods and bounded half-open),
/// in words.
fn client_extras(p: &ClientPolicy) -> Vec<String> {
    use crate::resilience::circuit_breaker::HalfOpenExpiry;
    use crate::resilience::hedge::HedgeDelay;
    let mut parts = Vec::new();
    if let Some(b) = &p.breaker {
        if let Some(ob) = b.open_backoff {
            parts.push(format!(
                "open period x{} per trip up to {}",
                ob.multiplier,
                Duration(ob.max)
            ));
        }
        if let Some(l) = b.half_open_limit {
            let then = match l.then {
                HalfOpenExpiry::Open => "reopens",
                HalfOpenExpiry::Close => "closes",
            };
            parts.push(format!("half-open at most {}, then {then}", Duration(l.max_wait)));
        }
    }
    if let Some(c) = &p.objects.concurrency {
        let c = c.config();
        parts.push(format!(
            "retries in flight under max({}, {} % of active calls)",
            c.min_retry_concurrency, c.percent
        ));
    }
    if let Some(h) = &p.objects.hedge {
        let h = h.config();
        let when = match h.delay {
            HedgeDelay::Fixed(d) => format!("after {}", Duration(d)),
            HedgeDelay::Quantile { quantile, window } => {
                format!("at the p{} of the last {window} successes", quantile * 100.0)
            }
        };
        let budget = h
            .budget
            .as_ref()
            .map_or(String::new(), |b| format!(", budget {}", b.ratio));
        let cancel = if h.cancel {
            "cancels the loser"
        } else {
            "lets the loser run"
        };
        parts.push(format!("hedges {when} ({cancel}{budget})"));
    }
    if let Some(o) = &p.order {
        use crate::resilience::order::Layer;
        parts.push(o.describe(|l| match l {
            Layer::Retry => p.retry.is_some(),
            Layer::Breaker => p.breaker.is_some(),
            Layer::Bulkhead => p.bulkhead.is_some(),
            Layer::Timeout => p.timeout.is_some(),
        }));
    }
    parts
}
