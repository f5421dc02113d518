//! A traced fault scenario: the same bytes on any thread count, and the
//! story of one of its trials told by `nines trace`.

use crate::util::Dir;

const TRACED: &str = r#"name = "traced"
horizon = "2m"
trials = 4
seed = 9
[[workload]]
name = "users"
to = "api"
rate = 100
timeout = "300ms"
[[service]]
name = "api"
topology = "active-active"
replicas = 2
concurrency = 8
service_time = { mean = "5ms" }
health_check = { interval = "2s", unhealthy = 2 }
[[service.call]]
to = "db"
timeout = "100ms"
retry = { max_attempts = 2 }
circuit_breaker = { failure_threshold = 5, open_for = "5s" }
[[service]]
name = "db"
service_time = { mean = "2ms" }
[[fault]]
name = "api0 down"
at = "20s"
duration = "20s"
kind = "crash"
target = "api[0]"
[[fault]]
name = "db cut"
at = "60s"
duration = "10s"
kind = "partition"
target = "api->db"
"#;

/// Fault scenarios give the same bytes on any thread count.
#[test]
fn fault_runs_are_identical_on_any_thread_count() {
    let d = Dir::new();
    let p = d.write("traced.toml", TRACED);
    let p = p.to_str().unwrap();
    d.nines(&["run", p, "--threads", "1", "--out", "one", "--quiet"]).ok();
    d.nines(&["run", p, "--threads", "2", "--out", "two", "--quiet"]).ok();
    assert_eq!(d.read("one/summary.json"), d.read("two/summary.json"));
    assert_eq!(d.read("one/trials.csv"), d.read("two/trials.csv"));
    let timeline = d.read("one/timeline.csv");
    assert_eq!(timeline, d.read("two/timeline.csv"));
    assert_eq!(timeline.lines().count(), 61, "a header and 60 buckets");
    // The cut of api->db (60 s to 70 s of 120 s) is in buckets 30 to 35:
    // the entry's success ratio falls there; it is back once the breaker
    // (open for 5 s) has closed again, and high outside both faults.
    let success: Vec<f64> = timeline
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .collect();
    for (b, x) in success.iter().enumerate() {
        if (30..35).contains(&b) {
            assert!(*x < 0.5, "bucket {b}: {x}");
        } else if !(10..21).contains(&b) && !(35..40).contains(&b) {
            assert!(*x > 0.95, "bucket {b}: {x}");
        }
    }
    let header = d.read("one/trials.csv");
    let header = header.lines().next().unwrap();
    assert!(header.ends_with(
        "fault.api0 down.occurrences,fault.api0 down.success_ratio_during,fault.api0 down.recovered,\
         fault.api0 down.metastable,fault.db cut.occurrences,fault.db cut.success_ratio_during,\
         fault.db cut.recovered,fault.db cut.metastable"
    ));
}

/// `nines trace` writes the story of one trial: the events in order, a
/// bucket per second, and JSON Lines that parse; and its trial is the
/// same trial as in `run`.
#[test]
fn trace_tells_the_story_of_one_trial() {
    let d = Dir::new();
    let p = d.write("traced.toml", TRACED);
    let p = p.to_str().unwrap();
    let out = d.nines(&["trace", p, "--trial", "2", "--out", "tr"]).ok();
    assert!(out.contains("trial 2"), "{out}");
    let events = d.read("tr/events.csv");
    let kinds: Vec<(f64, &str, &str)> = events
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
    let at = |kind: &str, subject: &str| {
        kinds
            .iter()
            .find(|(_, k, s)| *k == kind && *s == subject)
            .unwrap_or_else(|| panic!("no {kind} {subject} in\n{events}"))
            .0
    };
    assert_eq!(at("fault_start", "api0 down"), 20.0);
    assert_eq!(at("replica_down", "api[0]"), 20.0);
    let unhealthy = at("unhealthy", "api[0]");
    assert!((22.0..=24.0).contains(&unhealthy), "{unhealthy}");
    assert_eq!(at("fault_end", "api0 down"), 40.0);
    assert_eq!(at("replica_up", "api[0]"), 40.0);
    assert!(at("healthy", "api[0]") > 40.0);
    assert_eq!(at("fault_start", "db cut"), 60.0);
    let open = at("breaker_open", "api->db");
    assert!(
        (60.0..=62.0).contains(&open),
        "the breaker opens within the cut: {open}"
    );
    assert!(at("degraded", "db") <= 61.0);
    let times: Vec<f64> = kinds.iter().map(|k| k.0).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "events in time order");

    let buckets = d.read("tr/buckets.csv");
    assert_eq!(buckets.lines().count(), 1 + 120, "a header and one row per second");
    assert!(buckets.lines().next().unwrap().contains("edge.api->db.breaker"));
    for line in d.read("tr/trace.jsonl").lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("every line is JSON");
        assert!(v["type"] == "event" || v["type"] == "bucket");
    }

    // The traced trial is trial 2 of `run`.
    d.nines(&["run", p, "--out", "run", "--quiet"]).ok();
    let csv = d.read("run/trials.csv");
    let row2: Vec<&str> = csv.lines().nth(3).unwrap().split(',').collect();
    let requests_col = csv
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == "requests")
        .unwrap();
    assert!(
        out.contains(&format!("requests {} ", row2[requests_col])),
        "trace and run disagree on trial 2:\n{out}\n{}",
        row2.join(",")
    );
}

/// Breaker transitions are dated at the instant they happen, not at the
/// end of the bucket that saw them: it opens on the failing result (not a
/// whole second), is half-open exactly `open_for` (5 s) later, closes only
/// from half-open; and a bucket's verdict never precedes its cause (the
/// api is degraded after its replica went down, the db after the cut;
/// both start mid-bucket here, where a verdict dated at its bucket's
/// start came first).
#[test]
fn trace_dates_breakers_at_the_instant_and_keeps_causes_first() {
    let d = Dir::new();
    let text = TRACED
        .replace("at = \"20s\"", "at = \"20500ms\"")
        .replace("at = \"60s\"", "at = \"60500ms\"");
    assert_ne!(text, TRACED);
    let p = d.write("traced.toml", &text);
    let p = p.to_str().unwrap();
    for trial in 0..4 {
        let out = format!("tr{trial}");
        d.nines(&["trace", p, "--trial", &trial.to_string(), "--out", &out, "--quiet"])
            .ok();
        let events = d.read(&format!("{out}/events.csv"));
        let rows: Vec<(f64, String, String)> = events
            .lines()
            .skip(1)
            .map(|l| {
                let mut it = l.splitn(3, ',');
                (
                    it.next().unwrap().parse().unwrap(),
                    it.next().unwrap().to_string(),
                    it.next().unwrap().to_string(),
                )
            })
            .collect();
        let breaker: Vec<&(f64, String, String)> = rows.iter().filter(|r| r.1.starts_with("breaker_")).collect();
        assert!(
            !breaker.is_empty(),
            "trial {trial}: the cut opens the breaker\n{events}"
        );
        assert!(
            breaker.iter().any(|r| r.0.fract() != 0.0),
            "trial {trial}: breaker events sampled at bucket ends\n{events}"
        );
        let mut state = "closed";
        let mut opened_at = None;
        for (t, kind, subject) in &breaker {
            assert_eq!(subject, "api->db");
            match kind.as_str() {
                "breaker_open" => {
                    assert_ne!(state, "open", "trial {trial}: opened twice at {t}\n{events}");
                    opened_at = Some(*t);
                    state = "open";
                }
                "breaker_half_open" => {
                    assert_eq!(state, "open", "trial {trial}: half-open at {t}\n{events}");
                    let gap = t - opened_at.unwrap();
                    assert!(
                        (gap - 5.0).abs() < 1e-9,
                        "trial {trial}: half-open {gap} s after opening"
                    );
                    state = "half_open";
                }
                "breaker_closed" => {
                    assert_eq!(state, "half_open", "trial {trial}: closed at {t}\n{events}");
                    state = "closed";
                }
                other => panic!("unknown breaker event {other}"),
            }
        }
        let opens = breaker.iter().filter(|r| r.1 == "breaker_open").count();
        let half = breaker.iter().filter(|r| r.1 == "breaker_half_open").count();
        assert_eq!(
            opens, half,
            "trial {trial}: every opening is half-open 5 s later\n{events}"
        );
        let first = |kind: &str, subject: &str, from: f64| {
            rows.iter()
                .find(|r| r.1 == kind && r.2 == subject && r.0 >= from)
                .map(|r| r.0)
        };
        let down = first("replica_down", "api[0]", 0.0).unwrap();
        if let Some(t) = first("degraded", "api", 0.0) {
            assert!(
                t >= down,
                "trial {trial}: api degraded at {t}, before api[0] went down at {down}"
            );
        }
        let cut = first("fault_start", "db cut", 0.0).unwrap();
        let degraded_db = first("degraded", "db", 0.0).expect("the cut degrades the db");
        assert!(
            degraded_db >= cut,
            "trial {trial}: db degraded at {degraded_db}, cut at {cut}"
        );
        let times: Vec<f64> = rows.iter().map(|r| r.0).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "events in time order");
    }
}
