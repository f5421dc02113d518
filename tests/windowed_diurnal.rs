//! Windowed request sampling of workloads with a diurnal swing (issue 18):
//! stationary segments are estimated from samples at rate levels,
//! interpolated and integrated against the true rate. Checked against
//! closed forms (PASTA at month scale; Erlang B followed through the
//! swing), against full simulation near saturation paired by seed, for
//! determinism across threads, and for the combinations it refuses.

use crate::util::{
    Dir, assert_covers, assert_excludes, erlang_b, mean_se, request_availability, same_bytes_on_one_and_two_threads,
    simulate, with_sampling,
};

/// A pool of 4 replicas (2 slots each, 25 ms a request: 320 requests/s at
/// most) failing every 2 hours each (a change every 30 minutes), repaired
/// in 5; 180 requests/s on average swinging by 60 % over a 90-minute
/// "day": 288/s at the crest, 90 % busy on 4 replicas and 120 %
/// (overload) on 3, and 72/s in the trough.
const POOL: &str = r#"
name = "diurnal pool near saturation"
horizon = "3h"

[[workload]]
name = "users"
to = "api"
rate = 180
timeout = "1s"
diurnal = { amplitude = 0.6, period = "90m", peak = "40m" }

[[service]]
name = "api"
topology = "active-active"
replicas = 4
concurrency = 2
queue = 20
service_time = { mean = "25ms" }
health_check = { interval = "5s", unhealthy = 2, healthy = 1 }
failure = { mean = "2h" }
repair = { mean = "5m" }
"#;

/// One replica with 20 slots and no waiting room (M/G/20/20), 50 ms a
/// request, no failures: 250 requests/s on average swinging by 50 % over
/// an hour. At each moment the loss is Erlang B at that moment's load
/// (the swing is slow against a 50 ms service), so the request
/// availability is `1 - integral of lambda B(20, lambda / mu) / integral
/// of lambda`, sharply nonlinear near the crest (a = 18.75 of 20).
const ERLANG: &str = r#"
name = "erlang loss through a swing"
horizon = "2h"

[[workload]]
name = "users"
to = "api"
rate = 250
diurnal = { amplitude = 0.5, period = "1h", peak = "30m" }

[[service]]
name = "api"
concurrency = 20
queue = 0
service_time = { mean = "50ms" }
"#;

/// One replica failing every 3 days, repaired in an hour, for 30 days at
/// 20 requests/s swinging by 80 % over a day: its refused requests are its
/// only failures.
pub const SINGLE: &str = r#"
name = "single replica, a month, diurnal"
horizon = "30d"

[[workload]]
name = "clients"
to = "api"
rate = 20
diurnal = { amplitude = 0.8 }

[[service]]
name = "api"
replicas = 1
concurrency = 64
queue = 100
service_time = { mean = "5ms" }
failure = { mean = "3d" }
repair = { mean = "1h" }
"#;

/// The Erlang model's request availability: Erlang B at each moment's
/// load, weighted by the rate over one period (midpoint rule).
fn erlang_truth(amplitude: f64) -> f64 {
    let n = 200_000;
    let (mut lost, mut all) = (0.0, 0.0);
    for i in 0..n {
        let phase = (f64::from(i) + 0.5) / f64::from(n);
        let lambda = 250.0 * (1.0 + amplitude * (std::f64::consts::TAU * phase).cos());
        lost += lambda * erlang_b(20, lambda * 0.05);
        all += lambda;
    }
    1.0 - lost / all
}

#[test]
fn windowed_agrees_with_full_simulation_through_a_swing_near_saturation() {
    let trials = 12;
    let (sf, rf) = simulate(&with_sampling(POOL, "full"), trials, 3);
    let (sw, rw) = simulate(&with_sampling(POOL, "windowed"), trials, 3);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("windowed: {w:?}");
    assert_eq!(sf.requests.as_ref().unwrap().sampling.as_deref(), Some("full"));
    assert_eq!(w.metastable_windows, 0, "{w:?}");
    assert!(w.windows_per_trial >= 3.0, "{w:?}");
    let bias = w.interpolation_bias.expect("a swing reports its bias bound");
    let (af, aw) = (request_availability(&rf), request_availability(&rw));
    let loss = 1.0 - af.iter().sum::<f64>() / af.len() as f64;
    assert!(loss > 5e-3, "the crests must lose requests to mean anything: {loss}");
    // Paired by seed (the same failure paths); the shared samples' error
    // and the interpolation's bias bound are the summary's, which pairing
    // cannot show.
    let diffs: Vec<f64> = af.iter().zip(&aw).map(|(f, w)| w - f).collect();
    let (mean, se) = mean_se(&diffs);
    let combined = (se * se + w.sampling_error * w.sampling_error).sqrt();
    println!(
        "full loss {loss:.4e}, windowed - full {mean:+.3e} (paired s.e. {se:.2e}, shared {:.2e}, bias bound {bias:.2e})",
        w.sampling_error
    );
    assert!(mean.abs() <= 2.5 * combined + bias, "{mean} vs {combined} + {bias}");
    assert!(2.5 * combined + bias < 0.1 * loss, "{combined} + {bias} vs {loss}");
    // Requests: the swing's arrivals are counted (known rates over time).
    let (nf, nw) = (
        sf.requests.as_ref().unwrap().total as f64,
        sw.requests.as_ref().unwrap().total as f64,
    );
    assert!((nw / nf - 1.0).abs() < 0.005, "{nw} vs {nf}");
    // The comparison can fail: one rate level, the mean (the model without
    // its swing), windowed, is far outside.
    let flat = POOL.replace("diurnal = { amplitude = 0.6, period = \"90m\", peak = \"40m\" }\n", "");
    assert!(!flat.contains("diurnal = "), "{flat}");
    let (_, rn) = simulate(&with_sampling(&flat, "windowed"), trials, 3);
    let an = request_availability(&rn);
    let diffs: Vec<f64> = af.iter().zip(&an).map(|(f, w)| w - f).collect();
    let (mean_flat, _) = mean_se(&diffs);
    println!("one level at the mean rate, windowed - full {mean_flat:+.3e}");
    assert!(
        mean_flat.abs() > 10.0 * (2.5 * combined + bias),
        "{mean_flat} vs {combined}"
    );
}

#[test]
fn windowed_follows_erlang_b_through_the_swing() {
    let (s, _) = simulate(&with_sampling(ERLANG, "windowed"), 10, 7);
    let r = s.requests.as_ref().unwrap();
    let w = r.windowed.as_ref().expect("windowed");
    println!("windowed: {w:?}");
    // No failure: no window, the whole horizon from the rate levels.
    assert_eq!(w.windows, 0);
    let truth = erlang_truth(0.5);
    let one_level = 1.0 - erlang_b(20, 12.5);
    println!(
        "truth {truth:.6}, windowed {:.6} {:?}, one level at the mean {one_level:.6}",
        r.availability.mean, r.availability.ci95
    );
    // Loss 5.6 %; the interval is the samples' error and the bias bound.
    assert_covers("erlang through the swing", truth, r.availability.ci95, 0.003);
    assert_excludes("one level at the mean rate", one_level, r.availability.ci95);
    let bias = w.interpolation_bias.expect("a swing reports its bias bound");
    assert!(bias < 1e-3, "{bias}");
    // The refinement reached into the crest, where the loss bends: more
    // than the three levels of the root.
    assert!(w.configurations_sampled > 5, "{w:?}");
    // The requests are the rate's integral: 250/s for 2 h a trial.
    let per_trial = r.total as f64 / 10.0;
    assert!((per_trial / (250.0 * 7200.0) - 1.0).abs() < 1e-3, "{per_trial}");
}

#[test]
fn a_single_replica_month_through_a_swing_is_its_rate_weighted_time_availability() {
    let (s, rows) = simulate(&with_sampling(SINGLE, "windowed"), 40, 11);
    let r = s.requests.as_ref().expect("requests");
    let w = r.windowed.as_ref().expect("windowed figures");
    assert!(w.share_simulated < 0.05, "{w:?}");
    assert_eq!(w.metastable_windows, 0);
    // Served or refused, nothing between: every level's share is exact,
    // and so is the interpolation.
    assert_eq!(w.interpolation_bias, Some(0.0), "{w:?}");
    // Outages fall at any phase of the day: over trials, the request
    // availability is the time availability, 72/73 (PASTA).
    assert_covers("request availability", 72.0 / 73.0, r.availability.ci95, 0.004);
    // Within a trial its outages are weighted by the rate they fall in:
    // between 0.2 and 1.8 times the time unavailability, and not equal to
    // it (the swing is followed).
    let mut moved = 0;
    for (row, a) in rows.iter().zip(request_availability(&rows)) {
        let (down, lost) = (1.0 - row.availability, 1.0 - a);
        assert!(
            lost >= 0.2 * down - 2e-4 && lost <= 1.8 * down + 2e-4,
            "{lost} vs {down}"
        );
        if (lost - down).abs() > 0.05 * down {
            moved += 1;
        }
    }
    assert!(moved > 20, "{moved} of 40 trials weighted by the rate");
}

#[test]
fn windowed_swings_are_the_same_on_one_and_two_threads() {
    same_bytes_on_one_and_two_threads("pool", POOL, 4, 5, &["\"interpolation_bias\""]);
}

#[test]
fn windowed_refuses_what_it_cannot_run_with_a_swing() {
    let env = Dir::new();
    let refused = |name: &str, text: &str, why: &str| {
        let path = env.write(name, &with_sampling(text, "windowed"));
        let err = env.nines(&["run", path.to_str().unwrap(), "--no-write"]).bad_input();
        assert!(err.contains(why), "{name}: {err}");
    };
    let second = "\n[[workload]]\nname = \"batch\"\nto = \"api\"\nrate = 10\ndiurnal = { amplitude = 0.3, period = \"90m\", peak = \"10m\" }\n";
    refused("phases.toml", &format!("{POOL}{second}"), "one phase");
    let burst = "\n[[workload.burst]]\nat = \"20m\"\nduration = \"5m\"\nfactor = 2.0\n";
    let bursty = POOL.replacen("\n\n[[service]]", &format!("\n{burst}\n[[service]]"), 1);
    refused("bursts.toml", &bursty, "with bursts");
    let fast = POOL.replace("period = \"90m\"", "period = \"5m\"");
    refused("fast.toml", &fast, "diurnal period of at least");
    // The same peak written a period later is the same phase.
    let same = "\n[[workload]]\nname = \"batch\"\nto = \"api\"\nrate = 10\ndiurnal = { amplitude = 0.3, period = \"90m\", peak = \"130m\" }\n";
    let path = env.write("same.toml", &with_sampling(&format!("{POOL}{same}"), "windowed"));
    env.nines(&["check", path.to_str().unwrap()]).ok();
}

/// Coverage of the interval (the shared samples' variance plus the bias
/// bound) on the Erlang model, where every trial of a seed has the same
/// estimate and the samples carry all the error: 200 seeds x 10 trials.
/// `cargo test --release --test main windowed_diurnal_interval_coverage -- --ignored --nocapture`
#[test]
#[ignore = "a coverage study: minutes"]
fn windowed_diurnal_interval_coverage() {
    let truth = erlang_truth(0.5);
    let text = with_sampling(ERLANG, "windowed");
    let (mut covered, mut half, mut bias, mut err) = (0, 0.0, 0.0, 0.0);
    let seeds = 200;
    for seed in 0..seeds {
        let (s, _) = simulate(&text, 10, 1000 + seed);
        let r = s.requests.as_ref().unwrap();
        let ci = r.availability.ci95;
        if ci[0] <= truth && truth <= ci[1] {
            covered += 1;
        }
        let w = r.windowed.as_ref().unwrap();
        half += (ci[1] - ci[0]) / 2.0;
        bias += w.interpolation_bias.unwrap();
        err += (r.availability.mean - truth).abs();
    }
    let n = seeds as f64;
    println!(
        "covered {covered} of {seeds}; mean half-width {:.3e}, of it bias bound {:.3e}; mean |error| {:.3e}; loss {:.4e}",
        half / n,
        bias / n,
        err / n,
        1.0 - truth
    );
    assert!(f64::from(covered) >= 0.93 * n, "{covered}");
}

/// `scenarios/diurnal-month.toml`'s comment quotes its month with the
/// swing and without it (10 trials, seed 1): the afternoon outages cost
/// about ten times the flat model's requests.
#[test]
fn the_diurnal_month_example_says_what_it_runs() {
    let text = include_str!("../scenarios/diurnal-month.toml");
    let served = |text: &str| {
        let (s, _) = simulate(text, 10, 1);
        let r = s.requests.expect("requests");
        assert_eq!(r.sampling.as_deref(), Some("windowed"));
        format!("{:.3} %", 100.0 * r.availability.mean)
    };
    assert!(text.contains("serves 99.953 % of requests"), "{text}");
    assert_eq!(served(text), "99.953 %");
    let flat: String = text
        .lines()
        .filter(|l| !l.starts_with("diurnal = "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(text.contains("a flat 600 requests a second,\n# 99.995 %"), "{text}");
    assert_eq!(served(&flat), "99.995 %");
}
