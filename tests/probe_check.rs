//! `nines check` on request probes: the probe load per replica and its
//! share of capacity, how soon readiness and liveness act, and the deep
//! check's warning with each panic rule, against hand-computed lines; a
//! service without probes gets none of them.

use crate::util::Dir;

/// api: 2 slots of 20 ms (100 requests/s per replica); readiness every
/// 5 s (3 failures, 1 s timeout) calling db; liveness every 10 s (2
/// failures, 1 s timeout, 30 s restarts). Neither cache nor db has probes.
const SCENARIO: &str = r#"
name = "probe check"
horizon = "1h"
[[workload]]
name = "users"
to = "api"
rate = 50
[[service]]
name = "api"
topology = "active-active"
replicas = 3
concurrency = 2
service_time = { dist = "fixed", mean = "20ms" }
health_check = { interval = "5s", unhealthy = 3, healthy = 1, timeout = "1s", deep = ["db"] }
liveness = { interval = "10s", failures = 2, timeout = "1s", restart = { dist = "fixed", mean = "30s" } }
[[service.call]]
to = "cache"
[[service.call]]
to = "db"
[[service]]
name = "cache"
concurrency = 8
service_time = { mean = "1ms" }
[[service]]
name = "db"
concurrency = 4
service_time = { mean = "5ms" }
health_check = { interval = "2s", unhealthy = 2, healthy = 1 }
"#;

/// Readiness 1/5 s + liveness 1/10 s = 0.3 probes/s; capacity 2 / 20 ms =
/// 100 requests/s, so 0.3 %. Readiness ejects after 3 x 5 s = 15 s (16 s
/// when the 1 s timeout decides); liveness restarts after 2 x 10 s + 1 s.
const LOAD: &str = "probes 0.30/s per replica (readiness every 5s + liveness every 10s), 0.30 % of its capacity of 100.0 requests/s (concurrency 2 / service time 20ms)";
const DETECTION: &str = "detection: readiness ejects a crashed replica within 3 x 5s = 15s (refused: fails at once), a hung or overloaded one within 16s (+ the 1s timeout); liveness restarts an overloaded or hung replica within 2 x 10s + 1s = 21s, out for a restart of mean 30s (a crashed one is the failure model's)";
const DEEP: &str = "WARNING: the readiness probe is deep (calls db): a failure of any one of them fails every replica's probe at once and ejects them all";

fn check(text: &str) -> Vec<String> {
    let dir = Dir::new();
    dir.write("s.toml", text);
    dir.nines(&["check", "s.toml"])
        .ok()
        .lines()
        .map(|l| l.trim().to_string())
        .collect()
}

/// The lines of `api`'s section (up to the next service).
fn api_section(lines: &[String]) -> &[String] {
    let start = lines.iter().position(|l| l.starts_with("api ")).expect("api listed");
    let end = lines[start..]
        .iter()
        .position(|l| l.starts_with("cache "))
        .expect("cache listed");
    &lines[start..start + end]
}

#[test]
fn probe_load_and_detection_by_hand() {
    let lines = check(SCENARIO);
    let api = api_section(&lines);
    assert!(api.iter().any(|l| l == LOAD), "{api:#?}");
    assert!(api.iter().any(|l| l == DETECTION), "{api:#?}");
    // Only api has probes: cache has none, and db's free health check is
    // not a probe.
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("probes ")).count(),
        1,
        "{lines:#?}"
    );
    assert_eq!(lines.iter().filter(|l| l.starts_with("detection: ")).count(), 1);
    assert_eq!(lines.iter().filter(|l| l.starts_with("WARNING: ")).count(), 1);
}

#[test]
fn the_deep_warning_follows_the_panic_rule() {
    let unset =
        format!("{DEEP}; with none left healthy the balancer spreads over all of them again (panic_threshold unset)");
    assert!(check(SCENARIO).contains(&unset));
    let closed = SCENARIO.replace("deep = [\"db\"]", "deep = [\"db\"], panic_threshold = 0");
    let want =
        format!("{DEEP}, the whole service: with panic_threshold = 0 nothing is routed and every request is refused");
    assert!(check(&closed).contains(&want), "{:#?}", check(&closed));
    let open = SCENARIO.replace("deep = [\"db\"]", "deep = [\"db\"], panic_threshold = 0.5");
    let want = format!("{DEEP}, but below 50 % healthy the balancer routes to all of them (panic_threshold = 0.5)");
    assert!(check(&open).contains(&want), "{:#?}", check(&open));
}

#[test]
fn a_deep_liveness_probe_warns_of_restarting_everything() {
    let text = SCENARIO.replace(", deep = [\"db\"] }", " }").replace(
        "timeout = \"1s\", restart",
        "timeout = \"1s\", deep = [\"cache\", \"db\"], restart",
    );
    let lines = check(&text);
    let warnings: Vec<&String> = lines.iter().filter(|l| l.starts_with("WARNING: ")).collect();
    assert_eq!(
        warnings,
        [
            "WARNING: the liveness probe is deep (calls cache, db): a failure of any one of them fails every replica's probe at once and restarts them all (no panic threshold holds back restarts)"
        ],
        "{lines:#?}"
    );
}

/// Liveness alone: readiness is the free check (no probe load, no
/// timeout), which never sees a hung replica. Unlimited slots: no share.
#[test]
fn liveness_alone_and_unlimited_concurrency() {
    let text = SCENARIO
        .replace(", timeout = \"1s\", deep = [\"db\"] }", " }")
        .replace("concurrency = 2\n", "");
    let lines = check(&text);
    let api = api_section(&lines);
    let load = "probes 0.10/s per replica (liveness every 10s), concurrency unlimited: no capacity share";
    assert!(api.iter().any(|l| l == load), "{api:#?}");
    let detection = "detection: readiness (free check) ejects a crashed or hung replica within 3 x 5s = 15s, never an overloaded one; liveness restarts an overloaded or hung replica within 2 x 10s + 1s = 21s, out for a restart of mean 30s (a crashed one is the failure model's)";
    assert!(api.iter().any(|l| l == detection), "{api:#?}");
    assert!(!lines.iter().any(|l| l.starts_with("WARNING: ")));
}

/// Without any probe key, not a line changes.
#[test]
fn a_service_without_probes_gets_no_probe_line() {
    let text = SCENARIO
        .replace(", timeout = \"1s\", deep = [\"db\"] }", " }")
        .lines()
        .filter(|l| !l.starts_with("liveness"))
        .collect::<Vec<_>>()
        .join("\n");
    let lines = check(&text);
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("probes ") || l.starts_with("detection: ") || l.starts_with("WARNING: ")),
        "{lines:#?}"
    );
}

/// The detection line says the free check ejects a hung replica within
/// `unhealthy × interval`: a replica a `hang` fault holds is down to it.
/// One of three replicas hangs for ten minutes at 30 requests/s with no
/// retry: ejected within 15 s, it fails about 10/s × 15 s = 150 requests
/// (at most ~165 with the first check's phase); left in the balancer it
/// would fail 10/s × 600 s = 6,000.
#[test]
fn the_free_check_ejects_a_hung_replica_within_its_detection_time() {
    let model = r#"
horizon = "20m"
[[workload]]
name = "clients"
to = "api"
rate = 30
timeout = "500ms"
[[service]]
name = "api"
topology = "active-active"
replicas = 3
concurrency = 8
service_time = { mean = "10ms" }
health_check = { interval = "5s", unhealthy = 3, healthy = 1 }
[[fault]]
name = "hang0"
kind = "hang"
target = "api[0]"
at = "1m"
duration = "10m"
"#;
    let (_, rows) = crate::util::simulate(model, 8, 1);
    for r in &rows {
        let t = r.traffic.as_ref().expect("requests");
        let failed = t.requests - t.success - t.degraded;
        // Poisson noise on ~150 is about 12; the bounds are 5 sigma wide.
        assert!(
            (80..=230).contains(&failed),
            "failed {failed}: the hung replica was not ejected in time"
        );
    }
}
