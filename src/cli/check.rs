//! `nines check FILE`: validate, then print what the scenario compiles to
//! ([`crate::report::describe`]).

use super::CheckArgs;
use crate::error::Result;
use crate::report::describe::describe;
use crate::scenario;

/// Runs `nines check`.
///
/// # Errors
/// Bad input (exit 2).
pub fn check(args: &CheckArgs) -> Result<()> {
    let scenario = scenario::load(&args.file, &args.set)?;
    // Names may hold control or right-to-left characters.
    print!("{}", crate::report::escape::terminal(&describe(&scenario)));
    Ok(())
}
