//! What a run leaves behind: `summary.json`, `trials.csv` and the terminal
//! table; and what `nines check` prints ([`describe`]). Each writer takes
//! finished figures; none computes statistics.

pub mod autoscale;
pub mod csv;
pub mod describe;
mod describe_load;
pub mod describe_ops;
mod describe_probes;
pub mod document;
pub mod escape;
#[cfg(feature = "plot")]
pub mod figures;
pub mod files;
pub mod html;
pub mod infra;
pub mod markdown;
pub mod metrics;
mod observe;
pub mod operations;
#[cfg(feature = "plot")]
pub mod plot;
pub mod schema;
pub mod slo;
pub mod table;
pub mod timeline;
pub mod workflows;

use crate::stats::Summary;

/// The exact text of `summary.json` (pretty-printed, newline-terminated):
/// the [`document`] header, then the summary's own keys.
pub fn json(summary: &Summary, overrides: &document::Overrides) -> String {
    document::json(document::SUMMARY, overrides, summary)
}

/// Writes `bytes` to `path` through a fresh temporary file in the same
/// folder and a rename ([`files::write_new`]), so a crash never leaves a
/// half-written file behind and a link is never followed.
///
/// # Errors
/// [`crate::Error::Write`] on an I/O failure.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> crate::Result<()> {
    files::write_new(path, bytes)
}

/// Prints `text` on stdout.
///
/// # Errors
/// [`crate::Error::Write`] when stdout is closed.
pub fn print(text: &str) -> crate::Result<()> {
    use std::io::Write as _;
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|source| crate::Error::Write {
            path: std::path::PathBuf::from("<stdout>"),
            source,
        })
}
