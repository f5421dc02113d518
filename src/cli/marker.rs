//! Who owns an output folder: the `.nines-run` marker.
//!
//! Every command that writes results into a folder (`run`, `merge`,
//! `sweep`, `compare`) records there which command wrote them and of which
//! scenario file(s) (canonical paths), in `DIR/.nines-run`. `run` and
//! `merge` count as one command: a merge writes exactly what a run writes.
//! Running the same command on the same scenario (for `compare`, the same
//! files in the same order) into the folder again simply replaces its
//! files, whatever the `--set`, `--vary`, `--trials` or seed. Anything else
//! is refused (exit 2), so two runs' `summary.json`, `trials.csv`, sweep or
//! comparison tables, plots and parts are never mixed; with `--force` the
//! files nines writes (listed in [`OWNED`]) are deleted first and the
//! folder changes hands. A folder without a marker (new, or written by an
//! older nines) is taken as it is; a marker without a command (older nines)
//! is a `run`'s.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::montecarlo::shard;
use crate::report;

/// The marker's file name.
pub const MARKER: &str = ".nines-run";

/// What nines writes into an output folder: exact names, then extensions.
pub const OWNED: (&[&str], &[&str]) = (
    &[
        "summary.json",
        "trials.csv",
        "timeline.csv",
        "report.html",
        "sweep.csv",
        "sweep.json",
        "compare.csv",
        "compare.json",
    ],
    &["png", "svg", "nines-part", "tmp"],
);

/// Which kind of results a folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// `run` or `merge`: `summary.json`, `trials.csv`, `timeline.csv`, parts.
    #[default]
    Run,
    /// `sweep`: `sweep.csv`, `sweep.json`.
    Sweep,
    /// `compare`: `compare.csv`, `compare.json`.
    Compare,
}

/// Who a folder's results belong to: a command and its scenario file(s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// The command; absent in markers of older nines, which only `run` and
    /// `merge` wrote.
    #[serde(default)]
    pub command: Command,
    /// The scenario's identity ([`shard::identity`]); for `compare`, the
    /// files' identities joined by ` vs `.
    pub scenario: String,
}

impl Owner {
    /// `run FILE` (and the merge of its shards).
    pub fn run(file: &Path) -> Self {
        Self {
            command: Command::Run,
            scenario: shard::identity(file),
        }
    }

    /// `sweep FILE`.
    pub fn sweep(file: &Path) -> Self {
        Self {
            command: Command::Sweep,
            scenario: shard::identity(file),
        }
    }

    /// `compare FILES...`, in the order given (the first is the baseline).
    pub fn compare(files: &[PathBuf]) -> Self {
        Self {
            command: Command::Compare,
            scenario: files
                .iter()
                .map(|f| shard::identity(f))
                .collect::<Vec<_>>()
                .join(" vs "),
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let command = match self.command {
            Command::Run => "run",
            Command::Sweep => "sweep",
            Command::Compare => "compare",
        };
        write!(f, "`nines {command}` of {}", self.scenario)
    }
}

/// Claims `dir` for `owner`.
///
/// # Errors
/// [`Error::Usage`] when `dir` holds another owner's results and `force`
/// is off; [`Error::Write`] when the marker or a stale file cannot be
/// written or deleted.
pub fn claim(dir: &Path, owner: &Owner, force: bool) -> Result<()> {
    let path = dir.join(MARKER);
    // An unreadable or foreign-looking marker counts as no owner.
    let held = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<Owner>(&t).ok());
    match held {
        Some(o) if o == *owner => return Ok(()),
        Some(o) if !force => {
            let other = if o.scenario == owner.scenario {
                "another command"
            } else {
                "another scenario"
            };
            return Err(Error::Usage(format!(
                "output folder {} holds the results of {other} ({o}); this is {owner}. \
                 Choose another folder with --out, or add --force to delete its results and reuse it",
                dir.display()
            )));
        }
        Some(_) => clean(dir)?,
        None => {}
    }
    let text = serde_json::to_string(owner).unwrap_or_default();
    report::write_atomic(&path, text.as_bytes())
}

fn clean(dir: &Path) -> Result<()> {
    let err = |source| Error::Write {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let path = entry.map_err(err)?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_file() && (OWNED.0.contains(&name.as_str()) || OWNED.1.contains(&ext.as_str())) {
            std::fs::remove_file(&path).map_err(|source| Error::Write { path, source })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Markers of older nines (`{"scenario": ...}` only) belong to `run`,
    /// so their folders keep accepting the same scenario's runs.
    #[test]
    fn a_marker_without_a_command_is_a_runs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MARKER), r#"{"scenario":"/x/a.toml"}"#).unwrap();
        let run = Owner {
            command: Command::Run,
            scenario: "/x/a.toml".into(),
        };
        claim(dir.path(), &run, false).unwrap();
        let sweep = Owner {
            command: Command::Sweep,
            ..run
        };
        let err = claim(dir.path(), &sweep, false).unwrap_err().to_string();
        assert!(
            err.contains("another command") && err.contains("`nines run` of /x/a.toml"),
            "{err}"
        );
    }
}
