//! Ctrl-C for the commands that simulate (`run`, `sweep`, `compare`).
//!
//! The first press asks the runner to stop ([`crate::montecarlo::request_stop`]):
//! chunks under way finish, no new one starts, and the command then keeps
//! what its module doc says it keeps and exits 1 with
//! [`crate::Error::Interrupted`]. The second press quits at once, exit 1.
//!
//! Invariant the second press relies on: every result file is written under
//! a temporary name and published only when the whole set is complete
//! ([`crate::report::files`], [`super::output_guard`]), so quitting at any
//! moment leaves the previous results or the new ones, never a half-written
//! file; the pending temporary files are deleted before quitting.

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
            crate::report::files::remove_pending();
            eprintln!("interrupted again: quit at once; the files not yet complete were deleted");
            // Exit codes are 0, 1 and 2 only (README): scripts that test for
            // "anything else" must see this as the failure it is.
            std::process::exit(1);
        }
    });
}
