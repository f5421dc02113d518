//! What a run leaves behind: `summary.json`, `trials.csv` and the terminal
//! table; and what `nines check` prints ([`describe`]). Each writer takes
//! finished figures; none computes statistics.

pub mod csv;
pub mod describe;
pub mod figures;
pub mod html;
pub mod plot;
pub mod table;
pub mod timeline;
pub mod workflows;

use crate::stats::Summary;

/// The exact text of `summary.json` (pretty-printed, newline-terminated).
pub fn json(summary: &Summary) -> String {
    let mut s = serde_json::to_string_pretty(summary).expect("a summary always serialises");
    s.push('\n');
    s
}

/// Writes `bytes` to `path` through a temporary file in the same folder and
/// a rename, so a crash never leaves a half-written file behind.
///
/// # Errors
/// [`crate::Error::Write`] on an I/O failure.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> crate::Result<()> {
    let err = |source| crate::Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
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

// `crate::model::budget` still names the formatter by this path.
#[doc(hidden)]
pub use crate::format::human_duration;
