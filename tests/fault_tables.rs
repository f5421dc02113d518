//! Bad fault tables: rejected with the key named, exit code 2.

use crate::util::Dir;

#[test]
fn bad_fault_tables_are_rejected_with_the_key_named() {
    let d = Dir::new();
    let head = "horizon = \"1h\"\n[[workload]]\nname = \"users\"\nto = \"api\"\nrate = 10\n[[service]]\nname = \"api\"\nservice_time = { mean = \"1ms\" }\n[[service.call]]\nto = \"db\"\n[[service]]\nname = \"db\"\nservice_time = { mean = \"1ms\" }\n";
    let cases = [
        (
            "kind = \"crahs\"\ntarget = \"db\"\nduration = \"1m\"",
            "fault[0].kind",
            "did you mean \"crash\"",
        ),
        (
            "kind = \"crash\"\ntarget = \"dbb\"\nduration = \"1m\"",
            "fault[0].target",
            "did you mean \"db\"",
        ),
        (
            "kind = \"crash\"\ntarget = \"db[3]\"\nduration = \"1m\"",
            "fault[0].target",
            "has 1 replicas",
        ),
        (
            "kind = \"partition\"\ntarget = \"db\"\nduration = \"1m\"",
            "fault[0].target",
            "needs a link",
        ),
        (
            "kind = \"partition\"\ntarget = \"db->api\"\nduration = \"1m\"",
            "fault[0].target",
            "does not call",
        ),
        (
            "kind = \"latency\"\ntarget = \"db\"\nduration = \"1m\"",
            "fault[0].latency",
            "needs the added delay",
        ),
        (
            "kind = \"crash\"\ntarget = \"db\"\nduration = \"1m\"\nerror_rate = 0.5",
            "fault[0].error_rate",
            "applies to kind = \"errors\"",
        ),
        (
            "kind = \"capacity\"\ntarget = \"db\"\nduration = \"1m\"\ncapacity = 0.5",
            "fault[0].target",
            "unlimited concurrency",
        ),
        (
            "kind = \"crash\"\ntarget = \"db\"\nduration = \"0s\"",
            "fault[0].duration",
            "longer than zero",
        ),
        (
            "kind = \"crash\"\ntarget = \"db\"\nduration = \"1m\"\nevery = { dist = \"weibul\", mean = \"1h\" }",
            "fault[0].every.dist",
            "did you mean \"weibull\"",
        ),
        (
            "kind = \"crash\"\ntarget = \"db\"\nduration = 5",
            "duration",
            "a duration like",
        ),
    ];
    for (i, (fault, key, says)) in cases.iter().enumerate() {
        let p = d.write(&format!("f{i}.toml"), &format!("{head}[[fault]]\n{fault}\n"));
        let err = d.nines(&["check", p.to_str().unwrap()]).bad_input();
        assert!(err.contains(key), "case {i}: no key {key} in:\n{err}");
        assert!(err.contains(says), "case {i}: no \"{says}\" in:\n{err}");
        assert!(
            err.contains(&format!("f{i}.toml:")),
            "case {i}: no file:line in:\n{err}"
        );
    }
    // Request-only kinds need a workload.
    let p = d.write(
        "tb.toml",
        "[[service]]\nname = \"db\"\n[[fault]]\nkind = \"errors\"\ntarget = \"db\"\nduration = \"1m\"\nerror_rate = 0.5\n",
    );
    let err = d.nines(&["check", p.to_str().unwrap()]).bad_input();
    assert!(err.contains("acts on requests"), "{err}");
    // --set reaches a named fault.
    let p = d.write(
        "named.toml",
        &format!("{head}[[fault]]\nname = \"x\"\nkind = \"crash\"\ntarget = \"db\"\nduration = \"1m\"\n"),
    );
    d.nines(&["check", p.to_str().unwrap(), "--set", "fault.x.duration=2m"])
        .ok();
    let err = d
        .nines(&["check", p.to_str().unwrap(), "--set", "fault.y.duration=2m"])
        .bad_input();
    assert!(err.contains("no fault is named \"y\""), "{err}");
}
