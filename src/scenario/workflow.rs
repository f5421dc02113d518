//! Workflows (sagas): `[[workflow]]` with ordered `[[workflow.step]]`s, each
//! a call with the usual client policies and an optional compensation call,
//! and the `workflow = "NAME"` key of a workload that starts them.
//!
//! Checked here: names are unique and resolve; a step's and a compensation's
//! policies go through the same `policy::client` as any call edge; a
//! step takes no `fallback` (a failed step is compensated, not degraded); a
//! pivot step has no compensation (it is the point of no return), nor has
//! any step after it (those only go forward); a
//! workflow whose pivot has later steps has a `deadline` (those steps are
//! retried until it passes); a workload gives exactly one of `to` and
//! `workflow`, and a workflow workload carries no client policy (its steps
//! do); every workflow is started by some workload.

// Each field is the key of the same name in the file; README documents them.
#![allow(missing_docs)]

use std::collections::BTreeMap;

use toml::Spanned;

use super::checker::{Checker, lookup, names};
use super::policy::{self, RawClient};
use super::raw::{RawStep, RawWorkflow, RawWorkload};
use super::{ClientPolicy, Workload};
use crate::engine::Nanos;

/// Most steps a workflow may have (a saga keeps one effect time per step).
pub const MAX_STEPS: usize = 64;

/// A validated workflow.
#[derive(Debug, Clone)]
pub struct Workflow {
    /// Unique name.
    pub name: String,
    /// Time from the saga's start after which it stops going forward.
    pub deadline: Option<Nanos>,
    /// Steps in order; at least one.
    pub steps: Vec<Step>,
}

/// One step of a workflow.
#[derive(Debug, Clone)]
pub struct Step {
    /// Unique within its workflow.
    pub name: String,
    /// Service called.
    pub to: usize,
    /// Client policies of the step's call (`fallback` is always false).
    pub policy: ClientPolicy,
    /// After it succeeds the saga only goes forward.
    pub pivot: bool,
    /// The call that undoes it; `None` when there is nothing to undo.
    pub compensation: Option<Compensation>,
}

/// The call that undoes a step.
#[derive(Debug, Clone)]
pub struct Compensation {
    /// Service called.
    pub to: usize,
    /// Its client policies (`fallback` is always false).
    pub policy: ClientPolicy,
}

/// Checks every `[[workflow]]`; returns them with a name index.
pub(super) fn workflows(
    c: &mut Checker<'_>,
    raw: &[Spanned<RawWorkflow>],
    service_index: &BTreeMap<String, usize>,
) -> (Vec<Workflow>, BTreeMap<String, usize>) {
    let index = names(c, raw.iter().map(|w| &w.get_ref().name), "workflow");
    let list = raw.iter().map(|w| workflow(c, w, service_index)).collect();
    (list, index)
}

fn workflow(c: &mut Checker<'_>, raw: &Spanned<RawWorkflow>, service_index: &BTreeMap<String, usize>) -> Workflow {
    let w = raw.get_ref();
    let p = format!("workflow.{}", w.name.get_ref());
    let deadline = w.deadline.as_ref().and_then(|d| {
        if d.get_ref().0 == 0 {
            c.err(&d.span(), format!("{p}.deadline"), "must be longer than zero");
            None
        } else {
            Some(d.get_ref().0)
        }
    });
    if w.step.is_empty() {
        c.err_help(
            &w.name.span(),
            format!("{p}.step"),
            "a workflow needs at least one step",
            "add [[workflow.step]] tables with name = \"...\" and to = \"SERVICE\"".into(),
        );
    }
    if w.step.len() > MAX_STEPS {
        c.err(
            &w.step[MAX_STEPS].span(),
            format!("{p}.step"),
            format!("a workflow has at most {MAX_STEPS} steps, found {}", w.step.len()),
        );
    }
    names(c, w.step.iter().map(|s| &s.get_ref().name), &format!("{p}.step"));
    let steps: Vec<Step> = w.step.iter().map(|s| step(c, s.get_ref(), service_index, &p)).collect();
    if let Some(pivot) = steps.iter().position(|s| s.pivot) {
        for s in &w.step[pivot + 1..] {
            if let Some(k) = &s.get_ref().compensation {
                c.err(
                    &k.span(),
                    format!("{p}.step.{}.compensation", s.get_ref().name.get_ref()),
                    format!(
                        "would never run: after the pivot \"{}\" succeeds the saga only goes forward",
                        steps[pivot].name
                    ),
                );
            }
        }
    }
    if let Some(pivot) = w
        .step
        .iter()
        .position(|s| s.get_ref().pivot.as_ref().is_some_and(|v| *v.get_ref()))
        && pivot + 1 < w.step.len()
        && w.deadline.is_none()
    {
        c.err_help(
            &w.name.span(),
            format!("{p}.deadline"),
            format!(
                "step \"{}\" is a pivot with steps after it, which are retried until they succeed or the workflow's deadline passes, but the workflow has no deadline",
                w.step[pivot].get_ref().name.get_ref()
            ),
            "add deadline = \"30s\" (any duration) to the [[workflow]]".into(),
        );
    }
    Workflow {
        name: w.name.get_ref().clone(),
        deadline,
        steps,
    }
}

fn step(c: &mut Checker<'_>, s: &RawStep, service_index: &BTreeMap<String, usize>, wp: &str) -> Step {
    let p = format!("{wp}.step.{}", s.name.get_ref());
    let to = lookup(c, &s.to, service_index, &format!("{p}.to"), "service").unwrap_or(0);
    no_fallback(c, &s.fallback, &p);
    let policy = policy::client(
        c,
        RawClient {
            timeout: &s.timeout,
            deadline: &s.deadline,
            retry: &s.retry,
            breaker: &s.circuit_breaker,
            bulkhead: &s.bulkhead,
            fallback: &None,
            cancel_on_timeout: &s.cancel_on_timeout,
            hedge: &None,
            order: &s.order,
        },
        &p,
    );
    let pivot = s.pivot.as_ref().is_some_and(|v| *v.get_ref());
    let compensation = s.compensation.as_ref().map(|raw| {
        let k = raw.get_ref();
        let cp = format!("{p}.compensation");
        if pivot {
            c.err(
                &raw.span(),
                cp.clone(),
                "a pivot step is the point of no return and is never compensated; remove its compensation or pivot = true",
            );
        }
        let to = lookup(c, &k.to, service_index, &format!("{cp}.to"), "service").unwrap_or(0);
        no_fallback(c, &k.fallback, &cp);
        let policy = policy::client(
            c,
            RawClient {
                timeout: &k.timeout,
                deadline: &k.deadline,
                retry: &k.retry,
                breaker: &k.circuit_breaker,
                bulkhead: &k.bulkhead,
                fallback: &None,
                cancel_on_timeout: &k.cancel_on_timeout,
                hedge: &None,
                order: &k.order,
            },
            &cp,
        );
        Compensation { to, policy }
    });
    Step {
        name: s.name.get_ref().clone(),
        to,
        policy,
        pivot,
        compensation,
    }
}

fn no_fallback(c: &mut Checker<'_>, fallback: &Option<Spanned<bool>>, p: &str) {
    if let Some(f) = fallback {
        c.err(
            &f.span(),
            format!("{p}.fallback"),
            "does not apply to a workflow: a failed step is compensated, and a failed compensation leaves the saga stuck",
        );
    }
}

/// Resolves a workload's target: a service (`to`) or a workflow
/// (`workflow`), exactly one of them. A workflow workload targets its first
/// step's service (for the entry point) and takes no client policy.
pub(super) fn target(
    c: &mut Checker<'_>,
    w: &RawWorkload,
    service_index: &BTreeMap<String, usize>,
    workflow_index: &BTreeMap<String, usize>,
    workflows: &[Workflow],
    p: &str,
) -> (usize, Option<usize>) {
    match (&w.to, &w.workflow) {
        (Some(_), Some(wf)) => {
            c.err(
                &wf.span(),
                format!("{p}.workflow"),
                "give either `to` (single requests to a service) or `workflow` (sagas), not both",
            );
            (0, None)
        }
        (None, None) => {
            c.err_help(
                &w.name.span(),
                format!("{p}.to"),
                "a workload needs a target",
                "add to = \"SERVICE\" for single requests, or workflow = \"NAME\" to start sagas".into(),
            );
            (0, None)
        }
        (Some(to), None) => (
            lookup(c, to, service_index, &format!("{p}.to"), "service").unwrap_or(0),
            None,
        ),
        (None, Some(wf)) => {
            let policies = [
                ("timeout", w.timeout.as_ref().map(Spanned::span)),
                ("deadline", w.deadline.as_ref().map(Spanned::span)),
                ("retry", w.retry.as_ref().map(Spanned::span)),
                ("circuit_breaker", w.circuit_breaker.as_ref().map(Spanned::span)),
                ("bulkhead", w.bulkhead.as_ref().map(Spanned::span)),
                ("fallback", w.fallback.as_ref().map(Spanned::span)),
                ("cancel_on_timeout", w.cancel_on_timeout.as_ref().map(Spanned::span)),
                ("hedge", w.hedge.as_ref().map(Spanned::span)),
                ("order", w.order.as_ref().map(Spanned::span)),
            ];
            for (key, span) in policies {
                if let Some(span) = span {
                    c.err_help(
                        &span,
                        format!("{p}.{key}"),
                        "does not apply to a workload that starts a workflow",
                        "set client policies on each [[workflow.step]], and the saga's deadline on the [[workflow]]"
                            .into(),
                    );
                }
            }
            match lookup(c, wf, workflow_index, &format!("{p}.workflow"), "workflow") {
                Some(i) => (workflows[i].steps.first().map_or(0, |s| s.to), Some(i)),
                None => (0, None),
            }
        }
    }
}

/// Every workflow must be started by a workload.
pub(super) fn check_started(c: &mut Checker<'_>, raw: &[Spanned<RawWorkflow>], workloads: &[Workload]) {
    for (i, w) in raw.iter().enumerate() {
        if !workloads.iter().any(|wl| wl.workflow == Some(i)) {
            let name = w.get_ref().name.get_ref();
            c.err_help(
                &w.get_ref().name.span(),
                format!("workflow.{name}"),
                "no workload starts this workflow",
                format!("add workflow = \"{name}\" to a [[workload]], or remove the workflow"),
            );
        }
    }
}

/// The services that the workflows started by `workloads` call (steps and
/// compensations), for the request-level checks.
pub(super) fn services_reached(workflows: &[Workflow], workloads: &[Workload]) -> Vec<usize> {
    let mut out = Vec::new();
    for w in workloads {
        if let Some(wf) = w.workflow.and_then(|i| workflows.get(i)) {
            for s in &wf.steps {
                out.push(s.to);
                out.extend(s.compensation.as_ref().map(|k| k.to));
            }
        }
    }
    out
}
