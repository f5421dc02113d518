//! `[[fault]]` and `[cascade]`: checking injected faults against the rest
//! of the scenario.
//!
//! A fault's kind decides which targets make sense: crash and hang hit
//! replicas (a service, one replica, or a region for crash); errors and
//! capacity hit served requests; partition cuts a link; latency slows
//! serving (on a service, replica or region) or a link. Kinds that only
//! act on requests need a `[[workload]]`. Clock skew shifts how a
//! service reads the absolute deadlines it inherits. Everything here is checked once,
//! so the model never meets a target that does not resolve.

use std::collections::BTreeMap;

use toml::Spanned;

use super::checker::Checker;
use super::raw::{RawCascade, RawFault, RawLength, RawScenario};
use super::{Cascade, Fault, FaultKind, FaultSchedule, FaultTarget, Service};
use crate::distribution::Dist;
use crate::engine::time::SECOND;

/// Defaults of `[cascade]`.
pub const DEFAULT_CASCADE: Cascade = Cascade {
    threshold: 0.9,
    bucket: SECOND,
    settle: 10 * SECOND,
};

/// Names the scenario defines, for resolving targets.
pub(super) struct Names<'a> {
    pub services: &'a BTreeMap<String, usize>,
    pub regions: &'a BTreeMap<String, usize>,
    pub workloads: &'a BTreeMap<String, usize>,
}

pub(super) fn cascade(c: &mut Checker<'_>, raw: &Option<Spanned<RawCascade>>) -> Cascade {
    let mut out = DEFAULT_CASCADE;
    let Some(raw) = raw else { return out };
    let r = raw.get_ref();
    if let Some(t) = &r.threshold {
        let v = *t.get_ref();
        if v > 0.0 && v <= 1.0 {
            out.threshold = v;
        } else {
            c.err(
                &t.span(),
                "cascade.threshold",
                format!("a success ratio between 0 (excluded) and 1, found {v}"),
            );
        }
    }
    if let Some(b) = &r.bucket {
        if b.get_ref().0 == 0 {
            c.err(&b.span(), "cascade.bucket", "must be longer than zero");
        } else {
            out.bucket = b.get_ref().0;
        }
    }
    if let Some(s) = &r.settle {
        out.settle = s.get_ref().0;
    }
    out
}

pub(super) fn faults(
    c: &mut Checker<'_>,
    raw: &RawScenario,
    services: &[Service],
    names: &Names<'_>,
    has_workloads: bool,
) -> Vec<Fault> {
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    for (i, f) in raw.fault.iter().enumerate() {
        let f = f.get_ref();
        if let Some(n) = &f.name {
            let name = n.get_ref();
            if name.is_empty() || name.contains(['.', '[', ']']) || name.contains("->") {
                c.err(
                    &n.span(),
                    "fault.name",
                    format!("\"{name}\" is not a usable name: use letters, digits, spaces, '-' and '_'"),
                );
            } else if seen.insert(name.clone(), i).is_some() {
                c.err(
                    &n.span(),
                    "fault.name",
                    format!("another fault is already named \"{name}\""),
                );
            }
        }
        if let Some(fault) = one(c, f, i, services, names, has_workloads) {
            out.push(fault);
        }
    }
    // Unnamed faults are named after what they do; keep names unique so
    // that summary.json keys never collide.
    let mut used: BTreeMap<String, u32> = BTreeMap::new();
    for f in &mut out {
        let n = used.entry(f.name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            f.name = format!("{} #{}", f.name, n);
        }
    }
    out
}

/// Warns of a fault that starts after the horizon: valid, but it never
/// happens, which is rarely what was meant.
pub(super) fn warn_late(c: &mut Checker<'_>, raw: &RawScenario, horizon: crate::engine::Nanos) {
    for (i, f) in raw.fault.iter().enumerate() {
        let f = f.get_ref();
        let Some(at) = f.at.as_ref().filter(|a| a.get_ref().0 >= horizon) else {
            continue;
        };
        let p = match &f.name {
            Some(n) => format!("fault.{}", n.get_ref()),
            None => format!("fault[{i}]"),
        };
        let horizon = super::duration::Duration(horizon);
        c.warn(
            &at.span(),
            format!("{p}.at"),
            format!(
                "starts at {}, when every trial has ended (horizon = \"{horizon}\"), so it never happens",
                at.get_ref()
            ),
            format!("start it within the horizon (at < \"{horizon}\"), or lengthen horizon"),
        );
    }
}

/// One fault: its kind, target, length and schedule each checked, then
/// whether they fit together and the scenario can carry it.
fn one(
    c: &mut Checker<'_>,
    f: &RawFault,
    index: usize,
    services: &[Service],
    names: &Names<'_>,
    has_workloads: bool,
) -> Option<Fault> {
    let p = match &f.name {
        Some(n) => format!("fault.{}", n.get_ref()),
        None => format!("fault[{index}]"),
    };
    let kind_word = c.word(&f.kind, &format!("{p}.kind"), &KINDS);
    let target = resolve_target(c, &f.target, &format!("{p}.target"), services, names);
    let duration = duration(c, f, &p);
    let schedule = schedule(c, f, &p);
    check_params(c, f, &p, kind_word);
    let kind = kind(c, f, &p, kind_word?)?;
    let target = target?;
    check_fits(c, f, &p, &kind, &target)?;
    check_requests(c, f, &p, &kind, has_workloads)?;
    check_capacity(c, f, &p, &kind, &target, services)?;
    let name = f.name.as_ref().map_or_else(
        || format!("{} {}", kind.word(), f.target.get_ref()),
        |n| n.get_ref().clone(),
    );
    Some(Fault {
        name,
        kind,
        target_text: f.target.get_ref().clone(),
        target,
        schedule: schedule?,
        duration: duration?,
    })
}

/// The fault kinds, as `kind` names them.
const KINDS: [(&str, &str); 7] = [
    ("crash", "crash"),
    ("hang", "hang"),
    ("latency", "latency"),
    ("errors", "errors"),
    ("partition", "partition"),
    ("capacity", "capacity"),
    ("clock_skew", "clock_skew"),
];

/// How long each occurrence lasts: never zero.
fn duration(c: &mut Checker<'_>, f: &RawFault, p: &str) -> Option<Dist> {
    match f.duration.get_ref() {
        RawLength::Fixed(d) if d.0 == 0 => {
            c.err(&f.duration.span(), format!("{p}.duration"), "must be longer than zero");
            None
        }
        _ => length(c, &f.duration, &format!("{p}.duration")),
    }
}

/// Once at `at`, or recurring `every` (first at `at` when given).
fn schedule(c: &mut Checker<'_>, f: &RawFault, p: &str) -> Option<FaultSchedule> {
    let every = f.every.as_ref().and_then(|e| c.dist(e, &format!("{p}.every")));
    match (&f.every, every) {
        (None, _) => Some(FaultSchedule::Once(f.at.as_ref().map_or(0, |a| a.get_ref().0))),
        (Some(_), Some(every)) => Some(FaultSchedule::Process {
            first: f.at.as_ref().map(|a| a.get_ref().0),
            every,
        }),
        (Some(_), None) => None,
    }
}

/// Rejects a parameter that belongs to another kind.
fn check_params(c: &mut Checker<'_>, f: &RawFault, p: &str, kind_word: Option<&str>) {
    let params: [(&str, Option<std::ops::Range<usize>>); 4] = [
        ("latency", f.latency.as_ref().map(Spanned::span)),
        ("error_rate", f.error_rate.as_ref().map(Spanned::span)),
        ("capacity", f.capacity.as_ref().map(Spanned::span)),
        ("skew", f.skew.as_ref().map(Spanned::span)),
    ];
    let owner = |param: &str| match param {
        "latency" => "latency",
        "error_rate" => "errors",
        "skew" => "clock_skew",
        _ => "capacity",
    };
    if let Some(k) = kind_word {
        for (param, span) in &params {
            if let Some(span) = span
                && owner(param) != k
            {
                c.err(
                    span,
                    format!("{p}.{param}"),
                    format!("applies to kind = \"{}\", not to kind = \"{k}\"", owner(param)),
                );
            }
        }
    }
}

/// The kind with its parameter, which the kinds that have one require.
fn kind(c: &mut Checker<'_>, f: &RawFault, p: &str, kind_word: &str) -> Option<FaultKind> {
    let missing = |c: &mut Checker<'_>, param: &str, message: &str, help: &str| {
        c.err_help(&f.kind.span(), format!("{p}.{param}"), message, help.into());
        None
    };
    Some(match kind_word {
        "crash" => FaultKind::Crash,
        "hang" => FaultKind::Hang,
        "partition" => FaultKind::Partition,
        "latency" => {
            let Some(l) = &f.latency else {
                return missing(
                    c,
                    "latency",
                    "kind = \"latency\" needs the added delay",
                    "add latency = { dist = \"fixed\", mean = \"400ms\" } (any distribution)",
                );
            };
            FaultKind::Latency(c.dist(l, &format!("{p}.latency"))?)
        }
        "errors" => {
            let Some(e) = &f.error_rate else {
                return missing(
                    c,
                    "error_rate",
                    "kind = \"errors\" needs the chance that a served request fails",
                    "add error_rate = 0.5",
                );
            };
            FaultKind::Errors(c.probability(e, &format!("{p}.error_rate"))?)
        }
        "clock_skew" => {
            let Some(sk) = &f.skew else {
                return missing(
                    c,
                    "skew",
                    "kind = \"clock_skew\" needs how far the clock is off",
                    "add skew = \"300ms\" (ahead) or skew = \"-300ms\" (behind)",
                );
            };
            FaultKind::ClockSkew(skew(c, sk, p)?)
        }
        _ => {
            let Some(cap) = &f.capacity else {
                return missing(
                    c,
                    "capacity",
                    "kind = \"capacity\" needs the share of concurrency left",
                    "add capacity = 0.5 (half of each replica's slots stay)",
                );
            };
            FaultKind::Capacity(c.probability(cap, &format!("{p}.capacity"))?)
        }
    })
}

/// A signed duration: `"300ms"` or `"+300ms"` ahead, `"-300ms"` behind.
fn skew(c: &mut Checker<'_>, sk: &Spanned<String>, p: &str) -> Option<i64> {
    let text = sk.get_ref().trim();
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    match super::duration::parse(body) {
        Ok(d) => Some(sign * d.0 as i64),
        Err(e) => {
            c.err(&sk.span(), format!("{p}.skew"), e);
            None
        }
    }
}

/// The target must be of a sort the kind can hit.
fn check_fits(c: &mut Checker<'_>, f: &RawFault, p: &str, kind: &FaultKind, target: &FaultTarget) -> Option<()> {
    if fits(kind, target) {
        return Some(());
    }
    let wants = match kind {
        FaultKind::Crash | FaultKind::Errors(_) | FaultKind::Capacity(_) | FaultKind::ClockSkew(_) => {
            "a service, one replica like \"db[0]\", or a region"
        }
        FaultKind::Hang => "a service or one replica like \"db[0]\"",
        FaultKind::Partition => "a link: \"api->db\" (caller and callee) or \"eu->us\" (two regions)",
        FaultKind::Latency(_) => "a service, one replica, a region, or a link like \"api->db\"",
    };
    c.err(
        &f.target.span(),
        format!("{p}.target"),
        format!("kind = \"{}\" needs {wants}", kind.word()),
    );
    None
}

/// A kind that acts on requests needs a workload to send them.
fn check_requests(c: &mut Checker<'_>, f: &RawFault, p: &str, kind: &FaultKind, has_workloads: bool) -> Option<()> {
    let request_only = !matches!(kind, FaultKind::Crash | FaultKind::Hang);
    if !request_only || has_workloads {
        return Some(());
    }
    c.err_help(
        &f.kind.span(),
        format!("{p}.kind"),
        format!(
            "kind = \"{}\" acts on requests, and the scenario has no [[workload]]",
            kind.word()
        ),
        "add a [[workload]], or use kind = \"crash\" for a time-based scenario".into(),
    );
    None
}

/// Losing capacity means something only where concurrency is limited.
fn check_capacity(
    c: &mut Checker<'_>,
    f: &RawFault,
    p: &str,
    kind: &FaultKind,
    target: &FaultTarget,
    services: &[Service],
) -> Option<()> {
    if !matches!(kind, FaultKind::Capacity(_)) {
        return Some(());
    }
    for s in hit_services(target, services) {
        if services[s].concurrency.is_none() {
            c.err_help(
                &f.target.span(),
                format!("{p}.target"),
                format!(
                    "service \"{}\" has unlimited concurrency, so losing a share of it changes nothing",
                    services[s].name
                ),
                format!("give service \"{}\" a concurrency", services[s].name),
            );
            return None;
        }
    }
    Some(())
}

/// Services whose replicas a target hits directly (a region hits every
/// service deployed in it).
pub fn hit_services(target: &FaultTarget, services: &[Service]) -> Vec<usize> {
    match *target {
        FaultTarget::Service(s) | FaultTarget::Replica(s, _) => vec![s],
        FaultTarget::Region(r) => (0..services.len())
            .filter(|&s| services[s].regions.contains(&r))
            .collect(),
        FaultTarget::Link { .. } | FaultTarget::RegionLink(..) => Vec::new(),
    }
}

fn fits(kind: &FaultKind, target: &FaultTarget) -> bool {
    let link = matches!(target, FaultTarget::Link { .. } | FaultTarget::RegionLink(..));
    match kind {
        FaultKind::Crash | FaultKind::Errors(_) | FaultKind::Capacity(_) | FaultKind::ClockSkew(_) => !link,
        FaultKind::Hang => matches!(target, FaultTarget::Service(_) | FaultTarget::Replica(..)),
        FaultKind::Partition => link,
        FaultKind::Latency(_) => true,
    }
}

pub(super) fn resolve_target(
    c: &mut Checker<'_>,
    target: &Spanned<String>,
    key: &str,
    services: &[Service],
    names: &Names<'_>,
) -> Option<FaultTarget> {
    let text = target.get_ref().trim();
    let span = target.span();
    if let Some((from, to)) = text.split_once("->") {
        let (from, to) = (from.trim(), to.trim());
        if let (Some(&a), Some(&b)) = (names.regions.get(from), names.regions.get(to)) {
            if a == b {
                c.err(
                    &span,
                    key,
                    format!("a partition needs two different regions, found \"{text}\""),
                );
                return None;
            }
            return Some(FaultTarget::RegionLink(a, b));
        }
        let Some(&callee) = names.services.get(to) else {
            c.err(
                &span,
                key,
                format!(
                    "\"{to}\" is neither a service nor a region (a link is \"caller->callee\" or \"region->region\")"
                ),
            );
            return None;
        };
        if let Some(&caller) = names.services.get(from) {
            if !services[caller].calls.iter().any(|k| k.to == callee) {
                c.err(&span, key, format!("service \"{from}\" does not call \"{to}\""));
                return None;
            }
            return Some(FaultTarget::Link {
                from: Some(caller),
                workload: None,
                to: callee,
            });
        }
        if let Some(&w) = names.workloads.get(from) {
            return Some(FaultTarget::Link {
                from: None,
                workload: Some(w),
                to: callee,
            });
        }
        c.err(
            &span,
            key,
            format!("\"{from}\" is neither a service, a workload nor a region"),
        );
        return None;
    }
    if let Some((name, rest)) = text.split_once('[') {
        let Some(&s) = names.services.get(name.trim()) else {
            c.err(&span, key, format!("no service is named \"{}\"", name.trim()));
            return None;
        };
        let total = services[s].replicas * (services[s].regions.len().max(1) as u32);
        let index = rest.strip_suffix(']').and_then(|i| i.trim().parse::<u32>().ok());
        return match index {
            Some(i) if i < total => Some(FaultTarget::Replica(s, i)),
            Some(i) => {
                c.err(
                    &span,
                    key,
                    format!(
                        "service \"{}\" has {total} replicas (0 to {}), found index {i}",
                        name.trim(),
                        total - 1
                    ),
                );
                None
            }
            None => {
                c.err(
                    &span,
                    key,
                    format!("expected a replica like \"{}[0]\", found \"{text}\"", name.trim()),
                );
                None
            }
        };
    }
    match (names.services.get(text), names.regions.get(text)) {
        (Some(_), Some(_)) => {
            c.err(
                &span,
                key,
                format!("\"{text}\" names both a service and a region; rename one of them"),
            );
            None
        }
        (Some(&s), None) => Some(FaultTarget::Service(s)),
        (None, Some(&r)) => Some(FaultTarget::Region(r)),
        (None, None) => {
            let mut known: Vec<&str> = names.services.keys().map(String::as_str).collect();
            known.extend(names.regions.keys().map(String::as_str));
            let help = super::source::suggest(text, &known).map(|s| format!("did you mean \"{s}\"?"));
            let message =
                format!("\"{text}\" is not a service, a replica like \"db[0]\", a region, or a link like \"api->db\"");
            match help {
                Some(h) => c.err_help(&span, key, message, h),
                None => c.err(&span, key, message),
            }
            None
        }
    }
}

/// A length given as a duration (a fixed distribution) or a distribution
/// table; a table's problems are reported at the key's span.
pub(super) fn length(c: &mut Checker<'_>, raw: &Spanned<RawLength>, key: &str) -> Option<Dist> {
    match raw.get_ref() {
        RawLength::Fixed(d) => Dist::fixed(d.0).ok(),
        RawLength::Dist(d) => c.dist(&Spanned::new(raw.span(), (**d).clone()), key),
    }
}
