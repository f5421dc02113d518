//! Fuzz target: scenario text through parsing, validation, compilation and
//! a short simulation ([`replay`]). Any panic is a bug; an `Err` is the
//! expected answer to bad input. Budgets are cut so that one input runs in
//! milliseconds.

#![no_main]

#[path = "../replay.rs"]
mod replay;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = replay::replay(data);
});
