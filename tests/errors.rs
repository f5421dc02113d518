//! One test per class of bad input. Each checks exit code 2, no panic, and
//! that the message names the file, line and column and the key.

use crate::util::{Dir, SMALL};

/// Runs `check` on `text` and returns stderr (asserting exit code 2).
fn check_error(text: &str) -> String {
    let dir = Dir::new();
    dir.write("bad.toml", text);
    let err = dir.nines(&["check", "bad.toml"]).bad_input();
    // `run` must refuse the same file the same way.
    let run_err = dir.nines(&["run", "bad.toml", "--quiet"]).bad_input();
    assert_eq!(err, run_err);
    err
}

#[test]
fn unknown_key_names_it_and_suggests_the_near_miss() {
    let err = check_error(&SMALL.replace("replicas = 2", "replicaz = 2"));
    assert!(err.contains("bad.toml:9:1: key `replicaz`: unknown key"), "{err}");
    assert!(err.contains("did you mean `replicas`?"), "{err}");
}

#[test]
fn wrong_type_names_the_key_and_what_was_expected() {
    let err = check_error(&SMALL.replace("replicas = 2", "replicas = \"two\""));
    assert!(
        err.contains("bad.toml:9:12: key `replicas`: expected a whole number, found the string \"two\""),
        "{err}"
    );
}

#[test]
fn negative_duration_is_rejected() {
    let err = check_error(&SMALL.replace("mean = \"100h\"", "mean = \"-100h\""));
    assert!(err.contains("bad.toml:10:20: key `mean`"), "{err}");
    assert!(err.contains("cannot be negative"), "{err}");
}

#[test]
fn duration_without_unit_is_rejected() {
    let err = check_error(&SMALL.replace("horizon = \"1y\"", "horizon = 8760"));
    assert!(err.contains("bad.toml:2:11: key `horizon`"), "{err}");
    assert!(err.contains("without a unit"), "{err}");
}

#[test]
fn probability_outside_zero_one_is_rejected() {
    let text = SMALL.replace(
        "name = \"db\"",
        "name = \"db\"\ntopology = \"active-passive\"\nfailover = { detect = \"10s\", success = 1.5 }",
    );
    let err = check_error(&text);
    assert!(err.contains("key `service.db.failover.success`"), "{err}");
    assert!(err.contains("between 0 and 1, found 1.5"), "{err}");
    assert!(err.contains("bad.toml:19:"), "{err}");
}

#[test]
fn min_healthy_above_replicas_is_rejected() {
    let err = check_error(&SMALL.replace("replicas = 2", "replicas = 2\nmin_healthy = 3"));
    assert!(err.contains("bad.toml:10:15: key `service.api.min_healthy`"), "{err}");
    assert!(err.contains("between 1 and replicas (2), found 3"), "{err}");
}

#[test]
fn zero_replicas_is_rejected() {
    let err = check_error(&SMALL.replace("replicas = 2", "replicas = 0"));
    assert!(err.contains("bad.toml:9:12: key `service.api.replicas`"), "{err}");
    assert!(err.contains("found 0"), "{err}");
}

#[test]
fn unknown_service_in_a_call_suggests_the_near_miss() {
    let err = check_error(&SMALL.replace("to = \"db\"", "to = \"bd\""));
    assert!(err.contains("bad.toml:14:6: key `service.api.call.to`"), "{err}");
    assert!(err.contains("no service is named \"bd\""), "{err}");
    assert!(err.contains("did you mean \"db\"?"), "{err}");
}

#[test]
fn unknown_region_is_rejected() {
    let text = SMALL.replace("name = \"db\"", "name = \"db\"\nregions = [\"mars\"]");
    let err = check_error(&format!("{text}\n[[region]]\nname = \"eu\"\n"));
    assert!(err.contains("key `service.db.regions`"), "{err}");
    assert!(err.contains("no region is named \"mars\"; defined: eu"), "{err}");
}

#[test]
fn duplicate_names_are_rejected() {
    let err = check_error(&SMALL.replace("name = \"db\"", "name = \"api\""));
    assert!(err.contains("bad.toml:17:8: key `service.name`"), "{err}");
    assert!(err.contains("another service is already named \"api\""), "{err}");
}

#[test]
fn a_dependency_cycle_is_named() {
    let err = check_error(&format!("{SMALL}\n[[service.call]]\nto = \"api\"\n"));
    assert!(err.contains("the calls form a cycle: api -> db -> api"), "{err}");
    assert!(err.contains("key `service.db.call.to`"), "{err}");
}

#[test]
fn misspelt_topology_suggests_the_word() {
    let err = check_error(&SMALL.replace("\"active-active\"", "\"active-activ\""));
    assert!(err.contains("bad.toml:8:12: key `service.api.topology`"), "{err}");
    assert!(err.contains("did you mean \"active-active\"?"), "{err}");
}

#[test]
fn failure_without_repair_is_rejected() {
    let err = check_error(&SMALL.replace("repair = { mean = \"5h\" }", ""));
    assert!(err.contains("key `service.db.repair`"), "{err}");
    assert!(err.contains("would never come back"), "{err}");
}

#[test]
fn a_distribution_key_that_does_not_apply_is_rejected() {
    let err = check_error(&SMALL.replace(
        "{ mean = \"100h\" }",
        "{ dist = \"weibull\", cv = 0.5, mean = \"100h\" }",
    ));
    assert!(err.contains("key `service.api.failure.cv`"), "{err}");
    assert!(err.contains("does not apply to dist = \"weibull\""), "{err}");
}

#[test]
fn ambiguous_entry_asks_for_entry() {
    let err = check_error(&SMALL.replace("[[service.call]]\nto = \"db\"\n", ""));
    // Located at the second service nothing calls (`name = "db"`, line 15).
    assert!(
        err.contains("bad.toml:15:8: key `entry`: cannot tell which service is the entry point"),
        "{err}"
    );
    assert!(err.contains("api, db are called by no other service"), "{err}");
    assert!(err.contains("help: add entry = \"api\""), "{err}");
}

#[test]
fn toml_syntax_error_is_located() {
    let err = check_error(&SMALL.replace("replicas = 2", "replicas = = 2"));
    assert!(err.contains("bad.toml:9:"), "{err}");
}

#[test]
fn several_problems_are_reported_together() {
    let text = SMALL
        .replace("replicas = 2", "replicas = 0")
        .replace("to = \"db\"", "to = \"nope\"");
    let err = check_error(&text);
    assert!(
        err.contains("service.api.replicas") && err.contains("service.api.call.to"),
        "{err}"
    );
    assert!(err.contains("2 problems found"), "{err}");
}

#[test]
fn unreadable_file_is_bad_input() {
    let dir = Dir::new();
    let err = dir.nines(&["run", "missing.toml"]).bad_input();
    assert!(err.contains("cannot read scenario missing.toml"), "{err}");
}

#[test]
fn set_with_a_path_that_does_not_exist_names_the_flag() {
    let dir = Dir::new();
    dir.write("s.toml", SMALL);
    let err = dir
        .nines(&["run", "s.toml", "--set", "service.apx.replicas=3"])
        .bad_input();
    assert!(
        err.contains("--set service.apx.replicas=3: key `service.apx.replicas`"),
        "{err}"
    );
    assert!(err.contains("did you mean \"api\"?"), "{err}");
    let err = dir
        .nines(&["run", "s.toml", "--set", "service.api.replicaz=3"])
        .bad_input();
    assert!(err.contains("did you mean `replicas`?"), "{err}");
    let err = dir.nines(&["run", "s.toml", "--set", "replicas"]).bad_input();
    assert!(err.contains("expected PATH=VALUE"), "{err}");
}

#[test]
fn an_invalid_value_from_set_names_the_flag() {
    let dir = Dir::new();
    dir.write("s.toml", SMALL);
    let err = dir
        .nines(&["run", "s.toml", "--set", "service.api.replicas=0"])
        .bad_input();
    assert!(
        err.contains("--set service.api.replicas=0: key `service.api.replicas`"),
        "{err}"
    );
    // A key the file lacks, inserted by the flag, is blamed on the flag too.
    let err = dir
        .nines(&["check", "s.toml", "--set", "service.api.min_healthy=5"])
        .bad_input();
    assert!(
        err.contains("--set service.api.min_healthy=5: key `service.api.min_healthy`"),
        "{err}"
    );
}

#[test]
fn bad_flags_exit_with_two() {
    let dir = Dir::new();
    dir.write("s.toml", SMALL);
    dir.nines(&["run", "s.toml", "--threads", "0"]).bad_input();
    dir.nines(&["run", "s.toml", "--trials", "0"]).bad_input();
    dir.nines(&["run", "s.toml", "--format", "xml"]).bad_input();
    dir.nines(&["run", "s.toml", "--trials", "-3"]).bad_input();
    dir.nines(&["frobnicate"]).bad_input();
}

/// A small request-level scenario for the request-key error tests.
const TRAFFIC: &str = r#"horizon = "1m"
[[workload]]
name = "users"
to = "api"
rate = 10
[[service]]
name = "api"
service_time = { mean = "10ms" }
[[service.call]]
to = "db"
timeout = "100ms"
[[service]]
name = "db"
service_time = { mean = "5ms" }
"#;

#[test]
fn a_breaker_without_a_trip_rule_is_rejected() {
    let err = check_error(&TRAFFIC.replace("timeout = \"100ms\"", "circuit_breaker = { open_for = \"30s\" }"));
    assert!(
        err.contains("bad.toml:11:19: key `service.api.call.circuit_breaker`: needs a trip rule"),
        "{err}"
    );
    assert!(err.contains("help: add failure_threshold = 5"), "{err}");
}

#[test]
fn a_service_that_requests_reach_needs_a_service_time() {
    let err = check_error(&TRAFFIC.replace("service_time = { mean = \"5ms\" }\n", ""));
    assert!(err.contains("key `service.db.service_time`"), "{err}");
    assert!(
        err.contains("requests reach this service, but it has no service_time"),
        "{err}"
    );
}

#[test]
fn a_misspelt_retry_outcome_suggests_the_word() {
    let err = check_error(&TRAFFIC.replace("timeout = \"100ms\"", "retry = { retry_on = [\"timeuot\"] }"));
    assert!(err.contains("key `service.api.call.retry.retry_on`"), "{err}");
    assert!(err.contains("did you mean \"timeout\"?"), "{err}");
}

#[test]
fn a_workload_to_an_unknown_service_is_rejected() {
    let err = check_error(&TRAFFIC.replace("to = \"api\"", "to = \"apj\""));
    assert!(err.contains("bad.toml:4:6: key `workload.users.to`"), "{err}");
    assert!(err.contains("did you mean \"api\"?"), "{err}");
}

#[test]
fn a_bulkhead_with_no_room_is_rejected() {
    let err = check_error(&TRAFFIC.replace("timeout = \"100ms\"", "bulkhead = { max_concurrent = 0 }"));
    assert!(err.contains("key `service.api.call.bulkhead.max_concurrent`"), "{err}");
    assert!(err.contains("between 1 and 1000000, found 0"), "{err}");
}

#[test]
fn a_negative_rate_is_rejected() {
    let err = check_error(&TRAFFIC.replace("rate = 10", "rate = -5.0"));
    assert!(err.contains("bad.toml:5:8: key `workload.users.rate`"), "{err}");
}

#[test]
fn set_on_a_list_of_tables_does_not_suggest_the_same_word() {
    let dir = Dir::new();
    dir.write("s.toml", SMALL);
    for table in ["service", "region", "workload", "fault", "workflow"] {
        let err = dir
            .nines(&["check", "s.toml", "--set", &format!("{table}=5")])
            .bad_input();
        assert!(!err.contains(&format!("did you mean `{table}`")), "{err}");
        assert!(err.contains(&format!("like {table}.NAME.KEY=VALUE")), "{err}");
    }
}

// Issue 16, "errors that show the fix": each message says what the key
// takes and shows the line to write.

#[test]
fn a_distribution_written_as_a_duration_shows_the_table() {
    let err = check_error(&SMALL.replace("failure = { mean = \"500h\" }", "failure = \"720h\""));
    assert!(
        err.contains("bad.toml:18:11: key `failure`: a distribution is a table, found the string \"720h\""),
        "{err}"
    );
    assert!(err.contains("help: write failure = { mean = \"720h\" }"), "{err}");
    assert!(!err.contains("RawDist"), "{err}");
}

#[test]
fn a_rate_with_a_unit_shows_the_number() {
    let err = check_error(&TRAFFIC.replace("rate = 10", "rate = \"300/s\""));
    assert!(
        err.contains("bad.toml:5:8: key `rate`: rate is a number of requests per second, found the string \"300/s\""),
        "{err}"
    );
    assert!(err.contains("help: write rate = 300"), "{err}");
    assert!(!err.contains("f64"), "{err}");
}

#[test]
fn a_word_for_a_count_from_set_asks_for_a_whole_number() {
    let dir = Dir::new();
    dir.write("s.toml", SMALL);
    let err = dir
        .nines(&["check", "s.toml", "--set", "service.api.replicas=three"])
        .bad_input();
    assert!(
        err.contains("--set service.api.replicas=three: key `service.api.replicas`: expected a whole number, found the string \"three\""),
        "{err}"
    );
    assert!(!err.contains("i64"), "{err}");
}

#[test]
fn a_vary_range_with_a_dash_names_vary_and_shows_two_dots() {
    let dir = Dir::new();
    dir.write("s.toml", SMALL);
    let err = dir
        .nines(&["sweep", "s.toml", "--vary", "service.api.replicas=1-3", "--out", "o"])
        .bad_input();
    assert!(
        err.contains("error: --vary service.api.replicas=1-3: key `service.api.replicas`: expected a whole number"),
        "{err}"
    );
    assert!(!err.contains("--set"), "{err}");
    assert!(
        err.contains("help: a range is written with two dots: --vary service.api.replicas=1..3"),
        "{err}"
    );
    // A bad value that is not a range is blamed on --vary too, without the hint.
    let err = dir
        .nines(&["sweep", "s.toml", "--vary", "service.api.replicas=1,0", "--out", "o"])
        .bad_input();
    assert!(
        err.contains("error: --vary service.api.replicas=1,0: key `service.api.replicas`"),
        "{err}"
    );
    assert!(!err.contains("two dots"), "{err}");
}

#[test]
fn a_misspelt_topology_is_the_only_error_reported() {
    let text = SMALL.replace(
        "name = \"db\"",
        "name = \"db\"\ntopology = \"active_passive\"\nreplicas = 2\nfailover = { detect = \"30s\" }\nstandby = \"cold\"",
    );
    let err = check_error(&text);
    assert!(err.contains("bad.toml:18:12: key `service.db.topology`"), "{err}");
    assert!(err.contains("did you mean \"active-passive\"?"), "{err}");
    // Not the follow-on errors of a guessed "single": replicas, failover,
    // standby.
    assert_eq!(err.matches("key `").count(), 1, "{err}");
    assert!(!err.contains("problems found"), "{err}");
    // With the word fixed, the file is valid: nothing was hidden.
    let dir = Dir::new();
    dir.write("ok.toml", &text.replace("active_passive", "active-passive"));
    dir.nines(&["check", "ok.toml"]).ok();
}

/// SMALL with a third service that nothing else needs, as the entry's
/// neighbour; `FAULT` crashes db.
const FAULT: &str = "\n[[fault]]\nat = \"AT\"\nduration = \"10m\"\nkind = \"crash\"\ntarget = \"db\"\n";

#[test]
fn a_fault_after_the_horizon_is_warned_of_and_runs() {
    let dir = Dir::new();
    dir.write("s.toml", &format!("{SMALL}{}", FAULT.replace("AT", "2y")));
    for args in [
        &["check", "s.toml"][..],
        &["run", "s.toml", "--trials", "5", "--out", "o", "--quiet"],
    ] {
        let run = dir.nines(args);
        let err = run.stderr();
        assert_eq!(run.code(), 0, "{err}");
        assert!(
            err.contains("warning: s.toml:22:6: key `fault[0].at`: starts at 2y, when every trial has ended (horizon = \"1y\"), so it never happens"),
            "{err}"
        );
    }
    // Within the horizon, no warning.
    dir.write("in.toml", &format!("{SMALL}{}", FAULT.replace("AT", "6m")));
    let run = dir.nines(&["check", "in.toml"]);
    assert_eq!(run.code(), 0);
    assert!(!run.stderr().contains("warning"), "{}", run.stderr());
}

#[test]
fn a_fault_spoils_the_closed_form_only_of_services_that_need_its_target() {
    let text = format!(
        "entry = \"api\"\n{SMALL}\n[[service]]\nname = \"batch\"\nfailure = {{ mean = \"100h\" }}\nrepair = {{ mean = \"10h\" }}\n{}",
        FAULT.replace("AT", "1h")
    );
    let dir = Dir::new();
    dir.write("s.toml", &text);
    let out = dir.nines(&["check", "s.toml"]).ok();
    let block = |name: &str| {
        let start = out
            .find(&format!("  {name} "))
            .unwrap_or_else(|| panic!("{name}:\n{out}"));
        out[start..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("     "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(block("api").contains("no closed form: fault \"crash db\""), "{out}");
    assert!(block("db").contains("no closed form: fault \"crash db\""), "{out}");
    // batch: one replica, 100 h up and 10 h down: 100 / 110.
    assert!(block("batch").contains("closed-form availability 0.909090909"), "{out}");
}

#[test]
fn a_file_that_is_not_utf8_is_located() {
    let dir = Dir::new();
    let mut bytes = SMALL.replace("name = \"small\"", "name = \"caf?\"").into_bytes();
    let at = bytes.iter().position(|&b| b == b'?').unwrap();
    bytes[at] = 0xE9;
    std::fs::write(dir.path_of("bad.toml"), &bytes).unwrap();
    for args in [&["check", "bad.toml"][..], &["run", "bad.toml", "--out", "o"]] {
        let err = dir.nines(args).bad_input();
        assert!(
            err.contains("bad.toml:1:12: the file is not UTF-8 text: byte 0xE9"),
            "{err}"
        );
        assert!(!err.contains("stream did not contain"), "{err}");
    }
}

#[test]
fn workloads_to_two_services_are_located_at_the_second() {
    let text = format!("{TRAFFIC}[[workload]]\nname = \"batch\"\nto = \"db\"\nrate = 1\n");
    let err = check_error(&text);
    assert!(
        err.contains(
            "bad.toml:17:6: key `entry`: cannot tell which service is the entry point: workloads target api, db"
        ),
        "{err}"
    );
}
