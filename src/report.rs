//! What a run leaves behind: `summary.json`, `trials.csv` and the terminal
//! table. Each writer takes finished figures; none computes statistics.

pub mod csv;
pub mod escape;
pub mod figures;
pub mod files;
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

/// A duration in seconds in the largest unit that keeps it readable.
pub fn human_duration(secs: f64) -> String {
    let (v, unit) = if secs < 1.0 {
        (secs * 1000.0, "ms")
    } else if secs < 120.0 {
        (secs, "s")
    } else if secs < 7200.0 {
        (secs / 60.0, "min")
    } else if secs < 3.0 * 86_400.0 {
        (secs / 3600.0, "h")
    } else {
        (secs / 86_400.0, "d")
    };
    if v >= 100.0 {
        format!("{v:.0} {unit}")
    } else if v >= 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.2} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(0.25), "250 ms");
        assert_eq!(human_duration(59.3), "59.3 s");
        assert_eq!(human_duration(150.0), "2.50 min");
        assert_eq!(human_duration(5.0 * 3600.0), "5.00 h");
        assert_eq!(human_duration(10.0 * 86_400.0), "10.0 d");
    }
}
