//! What the fuzz target does with one input, shared word for word with the
//! regression test `tests/fuzz_regressions.rs` (both include this file), so
//! a saved input is replayed through exactly the path that found it.

/// Events one fuzzed trial may handle (the real default is far higher).
pub const EVENTS: u64 = 20_000;
/// Calls and jobs one fuzzed trial may hold at once.
pub const IN_FLIGHT: u64 = 2_000;
/// Largest estimated work of a fuzzed trial: failure cycles and arrival
/// draws are not all bounded by the event budget (a Poisson arrival draws
/// thinning candidates within one event), so bigger inputs are skipped as
/// validation would skip them under a smaller `limits.events_per_trial`.
pub const ESTIMATE: f64 = 2e6;

/// Parses, validates, compiles and runs a 2-trial simulation of `data`
/// with the budgets above (skipping inputs estimated above [`ESTIMATE`]); `Err` is a clean rejection (bad input, runaway).
pub fn replay(data: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|e| e.to_string())?;
    let mut scenario = nines::scenario::parse("fuzz.toml", "fuzz", text, &[]).map_err(|e| e.to_string())?;
    if nines::scenario::limits::events_per_trial(&scenario) > ESTIMATE {
        return Err("too big to fuzz".into());
    }
    scenario.limits.events_per_trial = scenario.limits.events_per_trial.min(EVENTS);
    scenario.limits.in_flight = scenario.limits.in_flight.min(IN_FLIGHT);
    let options = nines::RunOptions {
        trials: Some(2),
        threads: Some(1),
        ..nines::RunOptions::default()
    };
    nines::simulate(&scenario, &options, |_, _| Ok(()))
        .map(|_| ())
        .map_err(|e| e.to_string())
}
