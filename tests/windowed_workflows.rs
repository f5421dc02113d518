//! Windowed request sampling with workflows (sagas): windowed against full
//! simulation on a compressed model where full is affordable, outcome by
//! outcome, and the workflow figures of `summary.json` in a windowed run.

use crate::util::{
    SAGA, assert_covers, full_and_windowed, mean_se, request_availability, same_bytes_on_one_and_two_threads,
};

/// One saga outcome's count in a trial's workflow result.
type Outcome = fn(&nines::model::result::WorkflowResult) -> u64;

/// Each trial's share of its ended sagas that `f` picks.
fn saga_share(rows: &[nines::model::TrialResult], f: fn(&nines::model::result::WorkflowResult) -> u64) -> Vec<f64> {
    rows.iter()
        .map(|r| {
            let wf = &r.traffic.as_ref().expect("requests").workflows[0];
            f(wf) as f64 / wf.concluded().max(1) as f64
        })
        .collect()
}

/// Four comparisons (three outcomes and the request availability) at a
/// family-wise 95 %: each at 98.75 %, two-sided (Bonferroni).
const Z: f64 = 2.5;

#[test]
fn windowed_counts_saga_outcomes_as_full_simulation_does() {
    let trials = 24;
    let [(sf, rf), (sw, rw)] = full_and_windowed(SAGA, trials, 3);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("windowed: {w:?}");
    assert!(w.share_simulated < 0.9, "{w:?}");
    // The same seeds give the same failure paths: compare trial by trial.
    let outcomes: [(&str, Outcome); 3] = [
        ("completed", |r| r.completed),
        ("compensated", |r| r.compensated),
        ("stuck", |r| r.stuck),
    ];
    // The shared samples' error is common to every trial, so the paired
    // differences cannot show it: it is added, as the summary does.
    let mut used = nines::model::windowed::Windowed::default();
    for r in &rw {
        used.add(r.traffic.as_ref().unwrap().windowed.as_ref().expect("windowed"));
    }
    let shared = used.shared_workflow_variance(trials, 0);
    for (k, (name, f)) in outcomes.into_iter().enumerate() {
        let (a, b) = (saga_share(&rf, f), saga_share(&rw, f));
        let diffs: Vec<f64> = a.iter().zip(&b).map(|(x, y)| y - x).collect();
        let (mean, paired) = mean_se(&diffs);
        let half = Z * (paired.powi(2) + shared[k]).sqrt();
        let level = a.iter().sum::<f64>() / a.len() as f64;
        println!(
            "{name}: full {level:.3e}, windowed - full {mean:+.3e} +- {half:.3e} (paired s.e. {paired:.3e}, shared samples' s.e. {:.3e})",
            shared[k].sqrt()
        );
        assert!(
            level > 1e-3,
            "{name}: the model must produce it to mean anything: {level}"
        );
        // Completed sagas are ~94 %: its tolerance is the loss's. The
        // small sample of a ship outage (its failed share, a fifth of its
        // requests, is known after 20,000) carries a stuck share of 9 % to
        // about 5 %: the widest interval here, at 9 % of the level.
        let scale = level.min(1.0 - level);
        assert_covers(
            &format!("{name}: windowed - full"),
            0.0,
            [mean - half, mean + half],
            0.1 * scale,
        );
    }
    let stuck = &sw.workflows["order"].stuck_ratio.ci95;
    let widened = (stuck[1] - stuck[0]) / 2.0;
    assert!(
        shared[2] > 0.0 && widened >= 1.96 * shared[2].sqrt(),
        "{stuck:?} vs {shared:?}"
    );
    // Per step, the sagas that step ended, summed over the trials, and the
    // compensations that succeeded: within their Poisson noise.
    let step_totals =
        |rows: &[nines::model::TrialResult], f: fn(&nines::model::result::StepCounts) -> u64| -> Vec<f64> {
            (0..3)
                .map(|k| {
                    rows.iter()
                        .map(|r| f(&r.traffic.as_ref().unwrap().workflows[0].steps[k]) as f64)
                        .sum()
                })
                .collect()
        };
    for (name, f) in [
        ("failed", (|s| s.failed) as fn(&nines::model::result::StepCounts) -> u64),
        ("compensated", |s| s.compensated),
    ] {
        let (a, b) = (step_totals(&rf, f), step_totals(&rw, f));
        println!("steps {name}: full {a:?}, windowed {b:?}");
        for (x, y) in a.iter().zip(&b) {
            // Paired by failure path, the counts differ by far less than
            // independent Poisson counts would (sqrt(2 x) each): 4 of those.
            assert!((y - x).abs() <= 4.0 * (2.0 * x).sqrt() + 5.0, "{name}: {x} vs {y}");
        }
        assert!(a.iter().sum::<f64>() > 100.0, "{name}: too few to compare: {a:?}");
    }
    // The request availability too, sagas included.
    let (af, aw) = (request_availability(&rf), request_availability(&rw));
    let diffs: Vec<f64> = af.iter().zip(&aw).map(|(f, w)| w - f).collect();
    let (mean, paired) = mean_se(&diffs);
    let half = Z * (paired.powi(2) + w.sampling_error.powi(2)).sqrt();
    let loss = 1.0 - af.iter().sum::<f64>() / af.len() as f64;
    assert_covers(
        "request availability: windowed - full",
        0.0,
        [mean - half, mean + half],
        0.1 * loss,
    );
    // summary.json's workflow figures come out windowed, and agree.
    let (f, w) = (&sf.workflows["order"], &sw.workflows["order"]);
    println!("full {f:?}\nwindowed {w:?}");
    // Each workflow's counts are scaled to its own known start rate: no
    // error from the samples' mix of workloads.
    assert!(
        (w.started as f64 / f.started as f64 - 1.0).abs() < 0.003,
        "{} vs {}",
        w.started,
        f.started
    );
    assert!((w.sagas as f64 / f.sagas as f64 - 1.0).abs() < 0.01);
    assert!(w.completed_latency_s.p50 > 0.0 && w.inconsistency_window_s.count > 0);
    let rel = |a: f64, b: f64| (a / b - 1.0).abs();
    assert!(
        rel(w.completed_latency_s.mean, f.completed_latency_s.mean) < 0.05,
        "{:?} vs {:?}",
        w.completed_latency_s,
        f.completed_latency_s
    );
    assert!(
        rel(w.completed_latency_s.p50, f.completed_latency_s.p50) < 0.05,
        "{:?} vs {:?}",
        w.completed_latency_s,
        f.completed_latency_s
    );
    assert!(
        rel(
            w.inconsistency_window_s.count as f64,
            f.inconsistency_window_s.count as f64
        ) < 0.15,
        "{:?} vs {:?}",
        w.inconsistency_window_s,
        f.inconsistency_window_s
    );
}

#[test]
fn a_windowed_saga_run_writes_its_workflow_figures() {
    // A day, its failures a day apart: few windows, long stationary
    // segments.
    let day = SAGA
        .replace("horizon = \"6h\"", "horizon = \"1d\"")
        .replace("mean = \"2h\" }", "mean = \"1d\" }")
        .replace("mean = \"3h\" }", "mean = \"1d\" }");
    let one = same_bytes_on_one_and_two_threads("saga", &day, 2, 2, &[]);
    let json: serde_json::Value = serde_json::from_str(&one).expect("json");
    let order = &json["workflows"]["order"];
    // Five a second: over one a second of the two trials' horizons.
    assert!(order["sagas"].as_u64().unwrap() > 2 * 86_400, "{order}");
    assert!(order["completed_ratio"]["mean"].as_f64().unwrap() > 0.9, "{order}");
    assert!(order["completed_latency_s"]["p50"].as_f64().unwrap() > 0.0, "{order}");
}
