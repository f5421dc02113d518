//! Workflows (sagas) against closed forms, through the real library and
//! CLI: each case checks that the truth lies inside the summary's own 95 %
//! interval and that the interval is tight (a bounded half-width, and a
//! natural wrong answer outside it).
//!
//! Closed forms, with independent failures (a service's `error_rate` is an
//! independent draw per served request; no timeouts, breakers or bulkheads
//! interfere unless a case says so):
//! - a saga completes when every step succeeds: `P(completed) = Π (1 - p_i)`;
//! - step `k` is the one that fails with `P_k = p_k Π_{j<k} (1 - p_j)`;
//! - a compensation with error rate `q` and `n` attempts gives up with
//!   `g = q^n`; after step `k` fails, the compensations of steps `k-1 .. 0`
//!   run newest first and the saga is stuck as soon as one gives up, so
//!   `P(stuck) = Σ_k P_k (1 - Π_{j<k} (1 - g_j))`.
//!
//! Seeds are fixed and were the first tried.

use crate::util::{Dir, assert_covers, assert_excludes};
use nines::RunOptions;
use nines::stats::Summary;
use nines::stats::workflow::WorkflowSummary;

fn run(name: &str, toml: &str, trials: u64, seed: u64) -> Summary {
    let sc = nines::scenario::parse(&format!("{name}.toml"), name, toml, &[])
        .unwrap_or_else(|e| panic!("{name}: scenario does not parse: {e}"));
    let opts = RunOptions {
        trials: Some(trials),
        seed: Some(seed),
        ..Default::default()
    };
    nines::simulate(&sc, &opts, |_, _| Ok(())).unwrap()
}

fn workflow<'s>(s: &'s Summary, name: &str) -> &'s WorkflowSummary {
    s.workflows
        .get(name)
        .unwrap_or_else(|| panic!("no workflow {name} in the summary"))
}

/// Three steps with independent failures; the first two have compensations
/// that fail independently and are retried.
const INDEPENDENT: &str = r#"
horizon = "5m"

[[workload]]
name = "shoppers"
workflow = "order"
rate = 100

[[workflow]]
name = "order"

[[workflow.step]]
name = "a"
to = "a"
compensation = { to = "a-undo", retry = { max_attempts = 2, backoff = "constant", base = "1ms" } }

[[workflow.step]]
name = "b"
to = "b"
compensation = { to = "b-undo", retry = { max_attempts = 3, backoff = "constant", base = "1ms" } }

[[workflow.step]]
name = "c"
to = "c"

[[service]]
name = "a"
service_time = { mean = "5ms" }
error_rate = 0.1

[[service]]
name = "b"
service_time = { mean = "5ms" }
error_rate = 0.2

[[service]]
name = "c"
service_time = { mean = "5ms" }
error_rate = 0.3

[[service]]
name = "a-undo"
service_time = { mean = "2ms" }
error_rate = 0.5

[[service]]
name = "b-undo"
service_time = { mean = "2ms" }
error_rate = 0.4
"#;

#[test]
fn independent_failures_match_the_closed_forms() {
    let s = run("independent", INDEPENDENT, 16, 7);
    let w = workflow(&s, "order");
    let p = [0.1, 0.2, 0.3];
    // Compensations give up with q^n: a-undo 0.5^2, b-undo 0.4^3.
    let give_up = [0.5f64.powi(2), 0.4f64.powi(3)];
    let completed: f64 = p.iter().map(|x| 1.0 - x).product();
    let fails_at = |k: usize| p[k] * p[..k].iter().map(|x| 1.0 - x).product::<f64>();
    let stuck_after = |k: usize| 1.0 - give_up[..k].iter().map(|g| 1.0 - g).product::<f64>();
    let stuck: f64 = (0..3).map(|k| fails_at(k) * stuck_after(k)).sum();
    assert!((completed - 0.504).abs() < 1e-12);
    assert!((stuck - 0.109368).abs() < 1e-12);
    assert_covers("completed", completed, w.completed_ratio.ci95, 0.004);
    assert_covers("stuck", stuck, w.stuck_ratio.ci95, 0.003);
    assert_covers("compensated", 1.0 - completed - stuck, w.compensated_ratio.ci95, 0.004);
    for (k, name) in ["a", "b", "c"].iter().enumerate() {
        assert_covers(
            &format!("step {name} failed"),
            fails_at(k),
            w.steps[*name].failed_ratio.ci95,
            0.003,
        );
    }
    // The natural mistakes: compensations not retried (q instead of q^n),
    // or the failed step compensated too although it did nothing.
    let no_retry = fails_at(1) * 0.5 + fails_at(2) * (1.0 - 0.6 * 0.5);
    assert_excludes("stuck without compensation retries", no_retry, w.stuck_ratio.ci95);
    let self_too = fails_at(0) * give_up[0] + fails_at(1) * stuck_after(2) + fails_at(2) * stuck_after(2);
    assert_excludes("stuck compensating the failed step", self_too, w.stuck_ratio.ci95);
    // Every saga is one request of its workload; completed ones succeed.
    let r = s.requests.as_ref().expect("requests");
    assert_eq!(r.total, w.sagas);
    assert!((r.success_ratio.mean - w.completed_ratio.mean).abs() < 1e-12);
    assert!(w.sagas > 16 * 29_000, "about 30 000 sagas a trial, found {}", w.sagas);
    assert_eq!(w.steps["c"].compensations, 0, "step c has no compensation");
}

/// The second step's server takes 200 ms and its client waits 100 ms: every
/// attempt times out, yet the server finishes the work (timeouts do not
/// cancel it). The saga cannot know, so it compensates that step too.
const AMBIGUOUS: &str = r#"
horizon = "2m"

[[workload]]
name = "shoppers"
workflow = "order"
rate = 20

[[workflow]]
name = "order"

[[workflow.step]]
name = "create"
to = "orders"
compensation = { to = "orders" }

[[workflow.step]]
name = "reserve"
to = "inventory"
timeout = "100ms"
compensation = { to = "inventory-undo" }

[[service]]
name = "orders"
service_time = { dist = "fixed", mean = "10ms" }

[[service]]
name = "inventory"
service_time = { dist = "fixed", mean = "200ms" }

[[service]]
name = "inventory-undo"
service_time = { dist = "fixed", mean = "10ms" }
"#;

#[test]
fn a_timed_out_step_whose_server_did_the_work_is_compensated() {
    let s = run("ambiguous", AMBIGUOUS, 4, 3);
    let w = workflow(&s, "order");
    let n = w.sagas;
    assert!(n > 4 * 2000, "{n} sagas");
    assert_eq!(w.completed_ratio.mean, 0.0);
    assert_eq!(w.compensated_ratio.mean, 1.0);
    assert_eq!(w.stuck_ratio.mean, 0.0);
    assert_eq!(w.compensated, n);
    // Counts of sagas still in flight at a horizon (at most 3 a trial
    // here) can be ahead of the ended ones.
    let near = |x: u64| x >= n && x <= n + 12;
    assert!(near(w.steps["reserve"].failed));
    assert!(
        near(w.steps["reserve"].compensations),
        "the timed-out step is compensated"
    );
    assert!(near(w.steps["create"].compensations));
    // The server did the work the client gave up on: every request that
    // reached inventory was served successfully (less the few in flight at
    // the horizon).
    let inv = s.services["inventory"].requests.as_ref().expect("requests");
    assert!(
        inv.received >= n && inv.received <= n + 4 * 5,
        "{} vs {n}",
        inv.received
    );
    assert!(inv.success_ratio.mean > 0.995, "{:?}", inv.success_ratio);
    let timeouts = s.edges["order.reserve->inventory"].timeouts;
    assert!(timeouts >= n && timeouts <= inv.received, "{timeouts} timeouts");
    // Windows, with fixed service times: reserve's effect is dated from its
    // attempt's start, undone 100 ms (timeout) + 10 ms later; create's
    // effect is 10 ms older still: mean (110 + 120) / 2 ms.
    let win = &w.inconsistency_window_s;
    // (A saga in flight at the horizon may have made one compensation.)
    assert!(win.count >= 2 * n && win.count <= 2 * n + 12, "{} windows", win.count);
    assert!((win.mean - 0.115).abs() < 1e-4, "window mean {}", win.mean);
    assert!((win.p99 - 0.120).abs() < 0.001, "window p99 {}", win.p99);
    // The saga lasts create 10 + timeout 100 + two compensations of 10 ms.
    assert!((w.compensated_latency_s.mean - 0.130).abs() < 1e-6);

    // The same step failing with an error instead is unambiguous: it did
    // nothing, and only `create` is compensated.
    let errors = AMBIGUOUS
        .replace("timeout = \"100ms\"\n", "")
        .replace("mean = \"200ms\" }", "mean = \"200ms\" }\nerror_rate = 1.0");
    let s = run("errors", &errors, 4, 3);
    let w = workflow(&s, "order");
    assert_eq!(w.compensated_ratio.mean, 1.0);
    assert_eq!(w.steps["reserve"].compensations, 0);
    assert_eq!(w.steps["create"].compensations, w.sagas);
}

/// `charge` is the pivot: before it the saga rolls back, after it the saga
/// only goes forward. `ship` fails half the time and is retried by the
/// saga until it succeeds (or the deadline passes).
const PIVOT: &str = r#"
horizon = "5m"

[[workload]]
name = "shoppers"
workflow = "order"
rate = 50

[[workflow]]
name = "order"
deadline = "5s"

[[workflow.step]]
name = "create"
to = "orders"
compensation = { to = "orders" }

[[workflow.step]]
name = "charge"
to = "payment"
pivot = true

[[workflow.step]]
name = "ship"
to = "shipping"

[[service]]
name = "orders"
service_time = { mean = "5ms" }

[[service]]
name = "payment"
service_time = { mean = "5ms" }
error_rate = 0.2

[[service]]
name = "shipping"
service_time = { mean = "5ms" }
error_rate = 0.5
"#;

#[test]
fn a_pivot_is_never_compensated_and_the_saga_goes_forward_after_it() {
    let s = run("pivot", PIVOT, 8, 11);
    let w = workflow(&s, "order");
    // Only charge's failures roll back; ship fails half the time but is
    // called again (every 100 ms, about 47 times before the 5 s deadline:
    // 0.5^47 ~ 1e-14), so every charged order ships.
    assert_covers("completed", 0.8, w.completed_ratio.ci95, 0.005);
    assert_covers("compensated", 0.2, w.compensated_ratio.ci95, 0.005);
    assert_eq!(w.stuck_ratio.mean, 0.0);
    assert_eq!(w.steps["ship"].failed, 0);
    assert_eq!(w.steps["ship"].compensations, 0);
    assert_eq!(w.steps["charge"].compensations, 0);
    assert_eq!(w.steps["create"].compensations, w.compensated);
    assert!(w.steps["charge"].failed - w.compensated <= 8);
    assert!(!s.edges.keys().any(|e| e.starts_with("order.charge.compensate")));
    // Ship calls per shipped order: geometric with p = 0.5, mean 2.
    let ship = &s.edges["order.ship->shipping"];
    let per_order = ship.calls as f64 / (w.completed_ratio.mean * w.sagas as f64);
    assert!((per_order - 2.0).abs() < 0.05, "{per_order} ship calls per order");

    // Shipping always failing: the charged sagas exhaust the deadline and
    // end stuck, never compensated.
    let broken = PIVOT.replace("error_rate = 0.5", "error_rate = 1.0");
    let s = run("pivot-broken", &broken, 8, 11);
    let w = workflow(&s, "order");
    assert_eq!(w.completed_ratio.mean, 0.0);
    assert_covers("stuck", 0.8, w.stuck_ratio.ci95, 0.005);
    assert_covers("compensated", 0.2, w.compensated_ratio.ci95, 0.005);
    assert_eq!(w.steps["ship"].compensations, 0);
    assert_eq!(w.steps["create"].compensations, w.compensated);
    assert_eq!(w.steps["ship"].failed, w.stuck);
}

#[test]
fn order_saga_is_identical_on_one_and_two_threads() {
    let dir = Dir::new();
    dir.write("order.toml", include_str!("../scenarios/order-saga.toml"));
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = format!("out{threads}");
        let args = [
            "run",
            "order.toml",
            "--trials",
            "6",
            "--set",
            "horizon=20m",
            "--threads",
            threads,
        ];
        dir.nines(&[&args[..], &["--out", &out, "--quiet"]].concat()).ok();
        outputs.push((
            dir.read(&format!("{out}/summary.json")),
            dir.read(&format!("{out}/trials.csv")),
        ));
    }
    assert!(outputs[0].0.contains("\"workflows\""));
    assert!(
        outputs[0]
            .1
            .lines()
            .next()
            .unwrap()
            .contains("workflow.order.stuck_ratio")
    );
    assert_eq!(outputs[0], outputs[1], "1 and 2 threads differ");
}

#[test]
fn the_table_shows_each_workflow() {
    let dir = Dir::new();
    dir.write("order.toml", include_str!("../scenarios/order-saga.toml"));
    let out = dir
        .nines(&["run", "order.toml", "--trials", "2", "--set", "horizon=10m", "--quiet"])
        .ok();
    for text in [
        "workflow order",
        "completed",
        "compensated",
        "stuck",
        "inconsistent",
        "charge",
    ] {
        assert!(out.contains(text), "no {text:?} in\n{out}");
    }
}

// ------------------------------------------------------------ bad input

fn bad(text: &str) -> String {
    let dir = Dir::new();
    dir.write("bad.toml", text);
    let err = dir.nines(&["check", "bad.toml"]).bad_input();
    assert!(err.contains("bad.toml:"), "no location in {err}");
    err
}

#[test]
fn a_workload_needs_exactly_one_of_to_and_workflow() {
    let err = bad(&INDEPENDENT.replace("workflow = \"order\"\n", "workflow = \"order\"\nto = \"a\"\n"));
    assert!(err.contains("key `workload.shoppers.workflow`"), "{err}");
    assert!(err.contains("not both"), "{err}");
    let err = bad(&INDEPENDENT.replace("workflow = \"order\"\n", ""));
    assert!(err.contains("key `workload.shoppers.to`"), "{err}");
    assert!(
        err.contains("workflow = \\\"NAME\\\"") || err.contains("workflow = \"NAME\""),
        "{err}"
    );
}

#[test]
fn unknown_names_are_reported_with_a_suggestion() {
    let err = bad(&INDEPENDENT.replace("workflow = \"order\"", "workflow = \"ordr\""));
    assert!(err.contains("key `workload.shoppers.workflow`"), "{err}");
    assert!(err.contains("did you mean \"order\"?"), "{err}");
    let err = bad(&INDEPENDENT.replace("to = \"b-undo\"", "to = \"b-undoo\""));
    assert!(err.contains("key `workflow.order.step.b.compensation.to`"), "{err}");
    assert!(err.contains("no service is named \"b-undoo\""), "{err}");
    let err = bad(&INDEPENDENT.replace("name = \"c\"\nto = \"c\"", "name = \"c\"\nto = \"cc\""));
    assert!(err.contains("key `workflow.order.step.c.to`"), "{err}");
}

#[test]
fn pivot_rules_are_enforced() {
    let err = bad(&PIVOT.replace("pivot = true", "pivot = true\ncompensation = { to = \"payment\" }"));
    assert!(err.contains("key `workflow.order.step.charge.compensation`"), "{err}");
    assert!(err.contains("never compensated"), "{err}");
    let err = bad(&PIVOT.replace("deadline = \"5s\"\n", ""));
    assert!(err.contains("key `workflow.order.deadline`"), "{err}");
    assert!(err.contains("no deadline"), "{err}");
    let err = bad(&PIVOT.replace(
        "to = \"shipping\"\n",
        "to = \"shipping\"\ncompensation = { to = \"shipping\" }\n",
    ));
    assert!(err.contains("key `workflow.order.step.ship.compensation`"), "{err}");
    assert!(err.contains("only goes forward"), "{err}");
}

#[test]
fn misplaced_keys_are_rejected() {
    let err = bad(&INDEPENDENT.replace("name = \"c\"\nto = \"c\"", "name = \"c\"\nto = \"c\"\nfallback = true"));
    assert!(err.contains("key `workflow.order.step.c.fallback`"), "{err}");
    let err = bad(&INDEPENDENT.replace("rate = 100", "rate = 100\ntimeout = \"1s\""));
    assert!(err.contains("key `workload.shoppers.timeout`"), "{err}");
    assert!(err.contains("[[workflow.step]]"), "{err}");
    let err = bad(&INDEPENDENT.replace("name = \"c\"\nto = \"c\"", "name = \"b\"\nto = \"c\""));
    assert!(err.contains("already named \"b\""), "{err}");
    let err = bad(&format!("{INDEPENDENT}\n[[workflow]]\nname = \"refund\"\n"));
    assert!(err.contains("key `workflow.refund.step`"), "{err}");
    assert!(err.contains("key `workflow.refund`"), "{err}");
    assert!(err.contains("no workload starts this workflow"), "{err}");
}

/// A trace of a scenario with workflows also lists every saga's
/// transitions, in time order, each saga starting before it ends.
#[test]
fn trace_lists_saga_transitions() {
    let d = Dir::new();
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/order-saga.toml");
    d.nines(&[
        "trace",
        scenario.to_str().unwrap(),
        "--set",
        "horizon=20s",
        "--out",
        "tr",
        "--quiet",
    ])
    .ok();
    let sagas = d.read("tr/sagas.csv");
    let rows: Vec<(f64, &str, &str)> = sagas
        .lines()
        .skip(1)
        .map(|l| {
            let mut it = l.splitn(3, ',');
            (
                it.next().unwrap().parse().unwrap(),
                it.next().unwrap(),
                it.next().unwrap(),
            )
        })
        .collect();
    assert!(rows.len() > 100, "{} rows", rows.len());
    assert!(rows.windows(2).all(|w| w[0].0 <= w[1].0), "time order");
    assert!(rows[0].2.ends_with("started"), "{:?}", rows[0]);
    let first = rows[0].1;
    let end = rows
        .iter()
        .position(|r| {
            r.1 == first && (r.2.contains("completed") || r.2.contains("compensated") || r.2.contains("stuck"))
        })
        .expect("the first saga ends");
    assert!(end > 0);
}
