//! Inputs from the fuzzer (`fuzz/`, target `scenario`) that once crashed or
//! hung nines, plus hand-made extremes, replayed through the same library
//! path as the fuzz target: parse, validate, compile, a short simulation.
//! Each must end in a result or a clean error, never a panic.
//!
//! The files live in `tests/fuzz_regressions/`: `crash-*` / `timeout-*` as
//! libFuzzer saved them (named by their SHA-1), `handmade-*` written by hand.

use std::path::PathBuf;

#[path = "../fuzz/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn fuzz_regressions_end_cleanly() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fuzz_regressions")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 5, "only {} inputs", files.len());
    for f in &files {
        let data = std::fs::read(f).expect("read input");
        let outcome = std::panic::catch_unwind(|| replay(&data));
        match outcome {
            Ok(Ok(())) | Ok(Err(_)) => {}
            Err(_) => panic!("{} panicked", f.display()),
        }
    }
}

#[test]
fn hand_made_extremes_are_rejected_with_their_key() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let expect = [
        ("handmade-extremes.toml", "key `trials`"),
        ("handmade-huge-rate.toml", "key `workload.w.rate`"),
        ("handmade-garbage.toml", "key `horizon`"),
        // A burst of factor 1e9 made the Poisson thinning loop draw 3.6e12
        // candidates inside one event: a hang no event budget could stop.
        ("handmade-burst-thinning.toml", "3.600e12 events"),
        // A crash process restarting every nanosecond in a request-level
        // scenario: no event was over budget while fault bookkeeping grew
        // without end, so it ran forever; the estimate now counts it.
        ("handmade-fault-every-ns.toml", "key `fault.flap.every`"),
        // A service with an unusable name that calls another service:
        // validation indexed the name map with the unusable name and panicked.
        (
            "crash-a4efc4607bac35cf5f46ce0cb1f1b45afe1f5263",
            "\"front]end\" is not a usable name",
        ),
    ];
    for (file, key) in expect {
        let data = std::fs::read(dir.join(file)).expect("read input");
        let err = replay(&data).expect_err(file);
        assert!(err.contains(key), "{file}: {err}");
    }
}
