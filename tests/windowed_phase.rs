//! Windowed request sampling where the request state remembers more than
//! its configuration: a breaker cycling while its callee is down (its
//! phase at the next change is set by the change before), and an interval
//! outlier detector (it ejects in index order, so which replicas are down
//! matters, not only how many).

use crate::util::{agree_on_requests, full_and_windowed};
use nines::model::World;
use nines::model::availability::FailureOnly;

/// Six hours at 100 requests a second through two web replicas to an
/// active-passive database failing every 30 minutes each, whose failover
/// takes exactly 60 s (20 s to detect, 40 s to switch). The web's breaker
/// opens at once when the database goes (half a second's window), stays
/// open 6 s, lets one trial through, and opens again: ten cycles fit the
/// failover exactly, so in full simulation the switch-over always finds
/// the breaker just about to let its trial through, and a window started
/// afresh before the switch-over finds it anywhere in its 6 s. (A trial
/// build without the rule that runs a window on through an open breaker:
/// windowed - full -1.09e-3, 95 % interval [-1.66e-3, -0.53e-3], against
/// a loss of 3.25e-2; with it -6.8e-6, [-1.57e-4, 1.43e-4]; 2026-12-06.)
const PHASE: &str = r#"
name = "a failover ends where its callers' breaker cycle puts it"
horizon = "6h"

[[workload]]
name = "clients"
to = "web"
rate = 100
timeout = "1s"

[[service]]
name = "web"
topology = "active-active"
replicas = 2
concurrency = 64
service_time = { mean = "2ms" }

[[service.call]]
to = "db"
timeout = "100ms"
circuit_breaker = { window = "time", size = "500ms", failure_rate = 0.5, min_calls = 10, open_for = "6s", half_open_calls = 1, success_threshold = 1 }

[[service]]
name = "db"
topology = "active-passive"
replicas = 2
concurrency = 64
service_time = { mean = "2ms" }
failure = { mean = "30m" }
repair = { mean = "2m" }
failover = { detect = "20s", switch = "40s", success = 1.0 }
"#;

#[test]
fn a_failover_meets_its_callers_breaker_where_full_simulation_does() {
    let [(_, rf), (sw, rw)] = full_and_windowed(PHASE, 8, 3);
    let w = sw.requests.as_ref().unwrap().windowed.as_ref().expect("windowed");
    println!("windowed: {w:?}");
    assert_eq!(w.metastable_windows, 0, "{w:?}");
    // Each failover is one window, crash to switch-over and on.
    assert!(w.window_s_per_trial > 60.0 * 8.0, "{w:?}");
    let loss = agree_on_requests("request availability", &rf, &rw);
    // The breaker's share of the loss: the switch-over's 6 s at most, of
    // a 66 s outage.
    assert!(loss > 0.02, "{loss}");
}

/// Four web replicas with a failure-percentage detector (which may eject
/// half of them), two database replicas without one.
const DETECTED: &str = r#"
name = "a detector ejects in index order"
horizon = "1h"

[[workload]]
name = "clients"
to = "web"
rate = 10

[[service]]
name = "web"
topology = "active-active"
replicas = 4
service_time = { mean = "5ms" }
outlier_detection = { consecutive_failures = 1000, eject_for = "20s", max_ejected = 0.5, interval = "5s", failure_percentage = { threshold = 0.5, minimum_hosts = 3, request_volume = 10 } }
failure = { mean = "40m" }
repair = { mean = "5m" }

[[service.call]]
to = "db"

[[service]]
name = "db"
topology = "active-active"
replicas = 2
service_time = { mean = "3ms" }
failure = { mean = "30m" }
repair = { mean = "10m" }
"#;

fn world(text: &str) -> World {
    let sc = nines::scenario::parse("case.toml", "case", text, &[]).unwrap_or_else(|e| panic!("parses: {e}"));
    World::compile(&sc)
}

#[test]
fn only_groups_without_an_interval_detector_are_taken_up_to_a_permutation() {
    let w = world(DETECTED);
    let mut a = FailureOnly::start(&w, 1, 0).availability;
    for r in &mut a.replicas {
        (r.up, r.active, r.natural) = (true, true, true);
    }
    let (web, db) = (w.groups[0].replicas.clone(), w.groups[1].replicas.clone());
    assert_eq!((web.len(), db.len()), (4, 2));
    for r in [web.start, db.start] {
        (a.replicas[r].up, a.replicas[r].natural) = (false, false);
    }
    let c = nines::model::windowed::canonical(&w, &a);
    // The web group keeps its order: its first replica is still the one
    // down. The database's down replica moves last.
    let up = |r: usize| c.replicas[r].up;
    assert!(!up(web.start) && web.clone().skip(1).all(up));
    assert!(up(db.start) && !up(db.start + 1));
    assert!(!nines::model::windowed::alike(&w, &w.groups[0]));
    assert!(nines::model::windowed::alike(&w, &w.groups[1]));
}

#[test]
fn the_limits_estimate_counts_a_detector_groups_arrangements() {
    let parse = |text: &str| nines::scenario::parse("case.toml", "case", text, &[]).expect("parses");
    let plain = DETECTED.replace(
        "outlier_detection = { consecutive_failures = 1000, eject_for = \"20s\", max_ejected = 0.5, interval = \"5s\", failure_percentage = { threshold = 0.5, minimum_hosts = 3, request_volume = 10 } }\n",
        "",
    );
    assert_ne!(plain, DETECTED);
    // A day: every arrangement of one web replica down is met.
    let day = |text: &str| parse(&text.replace("horizon = \"1h\"", "horizon = \"1d\""));
    let (with, without) = (
        nines::scenario::limits::windowed::configurations(&day(DETECTED)),
        nines::scenario::limits::windowed::configurations(&day(&plain)),
    );
    println!("configurations: with a detector {with:.2}, without {without:.2}");
    // One web replica down is four arrangements, not one.
    assert!(with > without + 3.0, "{with} vs {without}");
}
