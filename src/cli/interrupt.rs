//! Ctrl-C for the commands that simulate (`run`, `sweep`, `compare`).
//!
//! The first press asks the runner to stop ([`crate::montecarlo::request_stop`]):
//! chunks under way finish, no new one starts, and the command then keeps
//! what its module doc says it keeps and exits 1 with
//! [`crate::Error::Interrupted`]. The second press quits at once, exit 1.
//!
//! Invariant the second press relies on: every result file is written under
//! a `.tmp` name and renamed only when complete, so quitting at any moment
//! leaves whole files or `.tmp` leftovers, never a half-written result.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::montecarlo;

/// Installs the handler; `then` completes the first press's note
/// ("interrupted: finishing the trials under way and {then}").
pub fn catch(then: &'static str) {
    static PRESSES: AtomicU32 = AtomicU32::new(0);
    // Fails only when a handler is already set (a second command in one
    // process), which then already does this.
    let _ = ctrlc::set_handler(move || {
        if PRESSES.fetch_add(1, Ordering::SeqCst) == 0 {
            montecarlo::request_stop();
            eprintln!("\ninterrupted: finishing the trials under way and {then} (Ctrl-C again to quit now)");
        } else {
            eprintln!("interrupted again: quit at once; a file not yet complete is left under its .tmp name");
            // Exit codes are 0, 1 and 2 only (README): scripts that test for
            // "anything else" must see this as the failure it is.
            std::process::exit(1);
        }
    });
}
