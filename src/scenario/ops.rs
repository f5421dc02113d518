//! `[[deploy]]` and `[[maintenance]]`: planned operations, checked against
//! the rest of the scenario.
//!
//! A deploy rolls a release over every replica of one service (all its
//! regions, in replica order), batch by batch; a release may be bad, and
//! then it must be caught, by an alert `detect` after it first serves or
//! by the canary's analysis at the end of `bake`. A maintenance window
//! takes a service, a replica or a region out of service for `duration`,
//! every `every` from `at`. Everything here is checked once, so the model
//! never meets a deploy that cannot end or windows that overlap.

use std::collections::BTreeMap;

use super::checker::Checker;
use super::fault::Names;
use super::raw::{RawDeploy, RawMaintenance, RawScenario};
use super::{FaultTarget, Service};
use crate::distribution::Dist;
use crate::engine::Nanos;

/// When a service is deployed.
#[derive(Debug, Clone)]
pub enum DeploySchedule {
    /// Again and again: the first at `first` (or one draw of `every`), then
    /// each next start `every` after the previous one started.
    Every {
        /// Time of the first deploy, when given.
        first: Option<Nanos>,
        /// Time from one deploy's start to the next.
        every: Dist,
    },
    /// At these times after the start of each trial (increasing).
    At(Vec<Nanos>),
}

/// How many replicas restart together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Batch {
    /// This many (the last batch may be smaller).
    Count(u32),
    /// This share of the service's replicas, rounded up.
    Share(f64),
}

/// What a bad release does to the replicas running it.
#[derive(Debug, Clone)]
pub enum ReleaseEffect {
    /// They crash: out of service until rolled back.
    Crash,
    /// Served requests also fail with this chance.
    Errors(f64),
    /// Serving takes this much longer.
    Latency(Dist),
}

impl ReleaseEffect {
    /// The word used in scenario files.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Crash => "crash",
            Self::Errors(_) => "errors",
            Self::Latency(_) => "latency",
        }
    }
}

/// A service's releases (`[[deploy]]`).
#[derive(Debug, Clone)]
pub struct Deploy {
    /// The service rolled.
    pub service: usize,
    /// When.
    pub schedule: DeploySchedule,
    /// Replicas per batch.
    pub batch: Batch,
    /// Wait between one batch serving again and the next starting.
    pub pause: Nanos,
    /// The canary: share of replicas in the first batch (rounded up) and
    /// the bake time after it serves, at whose end its analysis catches a
    /// bad release.
    pub canary: Option<(f64, Nanos)>,
    /// How long a replica is out of service while it restarts.
    pub restart: Dist,
    /// Chance a release is bad.
    pub bad: f64,
    /// What a bad release does.
    pub effect: ReleaseEffect,
    /// Alerting: a bad release is caught this long after it first serves.
    pub detect: Option<Nanos>,
}

/// A recurring maintenance window (`[[maintenance]]`).
#[derive(Debug, Clone)]
pub struct Maintenance {
    /// Its name (`name`, else "maintenance TARGET").
    pub name: String,
    /// What it takes out of service: a service, a replica or a region.
    pub target: FaultTarget,
    /// Start of the first window.
    pub at: Nanos,
    /// Time from one window's start to the next.
    pub every: Nanos,
    /// Length of each window.
    pub duration: Nanos,
}

/// The words `effect` accepts.
const EFFECTS: [(&str, &str); 3] = [("crash", "crash"), ("errors", "errors"), ("latency", "latency")];

pub(super) fn deploys(
    c: &mut Checker<'_>,
    raw: &RawScenario,
    services: &[Service],
    names: &Names<'_>,
    has_workloads: bool,
) -> Vec<Deploy> {
    let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, d) in raw.deploy.iter().enumerate() {
        let d = d.get_ref();
        let p = format!("deploy[{i}]");
        let Some(&s) = names.services.get(d.service.get_ref().trim()) else {
            let known: Vec<&str> = names.services.keys().map(String::as_str).collect();
            let message = format!("no service is named \"{}\"", d.service.get_ref());
            match super::source::suggest(d.service.get_ref(), &known) {
                Some(h) => c.err_help(
                    &d.service.span(),
                    format!("{p}.service"),
                    message,
                    format!("did you mean \"{h}\"?"),
                ),
                None => c.err(&d.service.span(), format!("{p}.service"), message),
            }
            continue;
        };
        if let Some(first) = seen.insert(s, i) {
            c.err_help(
                &d.service.span(),
                format!("{p}.service"),
                format!("deploy[{first}] already rolls \"{}\"", d.service.get_ref()),
                "give each service one [[deploy]]".into(),
            );
            continue;
        }
        if let Some(deploy) = one(c, d, &p, s, services, has_workloads) {
            out.push(deploy);
        }
    }
    out
}

fn schedule(c: &mut Checker<'_>, d: &RawDeploy, p: &str) -> Option<DeploySchedule> {
    match (&d.every, &d.at) {
        (Some(e), None) => {
            let every = super::fault::length(c, e, &format!("{p}.every"))?;
            if every.mean_secs() <= 0.0 {
                c.err(&e.span(), format!("{p}.every"), "must be longer than zero");
                return None;
            }
            Some(DeploySchedule::Every {
                first: d.first.as_ref().map(|f| f.get_ref().0),
                every,
            })
        }
        (None, Some(at)) => {
            if let Some(f) = &d.first {
                c.err_help(
                    &f.span(),
                    format!("{p}.first"),
                    "first goes with every, not with a list of times",
                    "list every time in at, or use every and first".into(),
                );
                return None;
            }
            let times: Vec<Nanos> = at.get_ref().iter().map(|t| t.0).collect();
            if times.is_empty() || times.windows(2).any(|w| w[0] >= w[1]) {
                c.err(
                    &at.span(),
                    format!("{p}.at"),
                    "expected deploy times in increasing order, like [\"2h\", \"26h\"]",
                );
                return None;
            }
            Some(DeploySchedule::At(times))
        }
        (Some(e), Some(_)) => {
            c.err_help(
                &e.span(),
                format!("{p}.every"),
                "a deploy has either every (a schedule or a process) or at (a list of times), not both",
                "remove one of them".into(),
            );
            None
        }
        (None, None) => {
            c.err_help(
                &d.service.span(),
                p,
                "a deploy needs a schedule",
                "write every = \"1d\" (with first = \"10h\" for the first), or at = [\"2h\", \"26h\"]".into(),
            );
            None
        }
    }
}

fn batch(c: &mut Checker<'_>, d: &RawDeploy, p: &str, replicas: u32) -> Option<Batch> {
    match (&d.batch, &d.batch_share) {
        (Some(b), None) => c
            .count(b, &format!("{p}.batch"), 1, i64::from(replicas))
            .map(Batch::Count),
        (None, Some(s)) => {
            let v = *s.get_ref();
            if v > 0.0 && v <= 1.0 {
                Some(Batch::Share(v))
            } else {
                c.err(
                    &s.span(),
                    format!("{p}.batch_share"),
                    format!("a share of the replicas between 0 (excluded) and 1, found {v}"),
                );
                None
            }
        }
        (Some(b), Some(_)) => {
            c.err_help(
                &b.span(),
                format!("{p}.batch"),
                "give batch (replicas) or batch_share (a share of them), not both",
                "remove one of them".into(),
            );
            None
        }
        (None, None) => Some(Batch::Count(1)),
    }
}

fn canary(c: &mut Checker<'_>, d: &RawDeploy, p: &str) -> Option<Option<(f64, Nanos)>> {
    match (&d.canary, &d.bake) {
        (None, None) => Some(None),
        (Some(s), Some(b)) => {
            let v = *s.get_ref();
            if !(v > 0.0 && v < 1.0) {
                c.err(
                    &s.span(),
                    format!("{p}.canary"),
                    format!("the canary is a share of the replicas between 0 and 1 (both excluded), found {v}"),
                );
                return None;
            }
            Some(Some((v, b.get_ref().0)))
        }
        (Some(s), None) => {
            c.err_help(
                &s.span(),
                format!("{p}.canary"),
                "a canary needs a bake time",
                "add bake = \"30m\": the canary serves that long before the roll goes on".into(),
            );
            None
        }
        (None, Some(b)) => {
            c.err_help(
                &b.span(),
                format!("{p}.bake"),
                "bake is the canary's time to serve, and there is no canary",
                "add canary = 0.1 (a share of the replicas), or remove bake".into(),
            );
            None
        }
    }
}

fn effect(c: &mut Checker<'_>, d: &RawDeploy, p: &str) -> Option<ReleaseEffect> {
    let word = match &d.effect {
        Some(e) => c.word(e, &format!("{p}.effect"), &EFFECTS)?,
        None => "crash",
    };
    let stray = |c: &mut Checker<'_>, span: &std::ops::Range<usize>, key: &str| {
        c.err_help(
            span,
            format!("{p}.{key}"),
            format!("{key} does not apply to effect = \"{word}\""),
            format!("remove {key}, or set the effect it belongs to"),
        );
    };
    if word != "errors"
        && let Some(e) = &d.error_rate
    {
        stray(c, &e.span(), "error_rate");
        return None;
    }
    if word != "latency"
        && let Some(l) = &d.latency
    {
        stray(c, &l.span(), "latency");
        return None;
    }
    match word {
        "errors" => {
            let Some(e) = &d.error_rate else {
                c.err_help(
                    &d.service.span(),
                    format!("{p}.error_rate"),
                    "effect = \"errors\" needs the chance a served request fails",
                    "add error_rate = 0.5".into(),
                );
                return None;
            };
            c.probability(e, &format!("{p}.error_rate")).map(ReleaseEffect::Errors)
        }
        "latency" => {
            let Some(l) = &d.latency else {
                c.err_help(
                    &d.service.span(),
                    format!("{p}.latency"),
                    "effect = \"latency\" needs the added serving delay",
                    "add latency = \"200ms\" (or a distribution table)".into(),
                );
                return None;
            };
            super::fault::length(c, l, &format!("{p}.latency")).map(ReleaseEffect::Latency)
        }
        _ => Some(ReleaseEffect::Crash),
    }
}

fn one(
    c: &mut Checker<'_>,
    d: &RawDeploy,
    p: &str,
    s: usize,
    services: &[Service],
    has_workloads: bool,
) -> Option<Deploy> {
    let svc = &services[s];
    let replicas = svc.replicas * (svc.regions.len().max(1) as u32);
    let schedule = schedule(c, d, p);
    let batch = batch(c, d, p, replicas);
    let canary = canary(c, d, p);
    let restart = super::fault::length(c, &d.restart, &format!("{p}.restart"));
    let bad = match &d.bad {
        Some(b) => c.probability(b, &format!("{p}.bad")),
        None => Some(0.0),
    };
    let effect = effect(c, d, p);
    let (schedule, batch, canary, restart, bad, effect) = (schedule?, batch?, canary?, restart?, bad?, effect?);
    let detect = d.detect.as_ref().map(|t| t.get_ref().0);
    if bad > 0.0 && detect.is_none() && canary.is_none() {
        let span = d.bad.as_ref().map_or_else(|| d.service.span(), |b| b.span());
        c.err_help(
            &span,
            format!("{p}.bad"),
            "a bad release would never be caught: there is neither an alert nor a canary",
            "add detect = \"10m\" (alerting catches it that long after it first serves), or canary = 0.1 with bake = \"30m\"".into(),
        );
        return None;
    }
    if matches!(effect, ReleaseEffect::Errors(_) | ReleaseEffect::Latency(_)) && !has_workloads {
        let span = d.effect.as_ref().map_or_else(|| d.service.span(), |e| e.span());
        c.err_help(
            &span,
            format!("{p}.effect"),
            format!(
                "a bad release's {} act on served requests, and the scenario has no [[workload]]",
                effect.word()
            ),
            "add a [[workload]], or use effect = \"crash\"".into(),
        );
        return None;
    }
    Some(Deploy {
        service: s,
        schedule,
        batch,
        pause: d.pause.as_ref().map_or(0, |t| t.get_ref().0),
        canary,
        restart,
        bad,
        effect,
        detect,
    })
}

pub(super) fn maintenance(
    c: &mut Checker<'_>,
    raw: &RawScenario,
    services: &[Service],
    names: &Names<'_>,
) -> Vec<Maintenance> {
    let mut out = Vec::new();
    let mut used: BTreeMap<String, u32> = BTreeMap::new();
    for (i, m) in raw.maintenance.iter().enumerate() {
        let m: &RawMaintenance = m.get_ref();
        let p = match &m.name {
            Some(n) => format!("maintenance.{}", n.get_ref()),
            None => format!("maintenance[{i}]"),
        };
        let target = super::fault::resolve_target(c, &m.target, &format!("{p}.target"), services, names);
        let target = match target {
            Some(t @ (FaultTarget::Service(_) | FaultTarget::Replica(..) | FaultTarget::Region(_))) => t,
            Some(_) => {
                c.err(
                    &m.target.span(),
                    format!("{p}.target"),
                    "maintenance takes a service, a replica like \"db[0]\" or a region out of service, not a link",
                );
                continue;
            }
            None => continue,
        };
        let (every, duration) = (m.every.get_ref().0, m.duration.get_ref().0);
        if duration == 0 {
            c.err(&m.duration.span(), format!("{p}.duration"), "must be longer than zero");
            continue;
        }
        if duration >= every {
            c.err_help(
                &m.duration.span(),
                format!("{p}.duration"),
                format!(
                    "a window of {} every {} never ends before the next begins",
                    m.duration.get_ref(),
                    m.every.get_ref()
                ),
                "make duration shorter than every".into(),
            );
            continue;
        }
        let mut name = m.name.as_ref().map_or_else(
            || format!("maintenance {}", m.target.get_ref()),
            |n| n.get_ref().clone(),
        );
        let n = used.entry(name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            name = format!("{name} #{n}");
        }
        out.push(Maintenance {
            name,
            target,
            at: m.at.as_ref().map_or(0, |a| a.get_ref().0),
            every,
            duration,
        });
    }
    out
}
