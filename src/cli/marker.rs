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
    /// A command this nines does not know (a newer nines wrote the
    /// marker): never this command, so the folder is refused, not taken.
    #[serde(other)]
    Unknown,
}

impl Command {
    fn name(self) -> &'static str {
        match self {
            Command::Run => "run",
            Command::Sweep => "sweep",
            Command::Compare => "compare",
            Command::Unknown => "(a command of a newer nines)",
        }
    }
}

/// Who a folder's results belong to: a command and its scenario file(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The command.
    pub command: Command,
    /// The scenario's identity ([`shard::identity`]); for `compare`, the
    /// files' identities joined by ` vs `.
    pub scenario: String,
}

/// The marker as stored. Older nines read only `scenario` and compare it
/// with their own run's, so for any command but `run` the stored
/// `scenario` carries the command too (`sweep of /path/a.toml`): an older
/// `run` of the same file then sees another scenario and refuses the
/// folder instead of mixing its files into a sweep's.
#[derive(Serialize, Deserialize)]
struct Stored {
    /// Absent in markers of older nines, which only `run` and `merge` wrote.
    #[serde(default)]
    command: Command,
    scenario: String,
}

impl From<&Owner> for Stored {
    fn from(o: &Owner) -> Self {
        let scenario = match o.command {
            Command::Run => o.scenario.clone(),
            c => format!("{} of {}", c.name(), o.scenario),
        };
        Self {
            command: o.command,
            scenario,
        }
    }
}

impl From<Stored> for Owner {
    fn from(s: Stored) -> Self {
        let tag = format!("{} of ", s.command.name());
        let scenario = match s.command {
            Command::Run | Command::Unknown => s.scenario,
            _ => s.scenario.strip_prefix(&tag).map_or(s.scenario.clone(), str::to_string),
        };
        Self {
            command: s.command,
            scenario,
        }
    }
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
        write!(f, "`nines {}` of {}", self.command.name(), self.scenario)
    }
}

/// Claims `dir` for `owner`. With `force`, the files nines wrote there
/// are deleted first, except those in `keep` (the parts a `merge` is
/// reading, when they sit in its output folder).
///
/// # Errors
/// [`Error::Usage`] when `dir` holds another owner's results and `force`
/// is off; [`Error::Write`] when the marker or a stale file cannot be
/// written or deleted.
pub fn claim(dir: &Path, owner: &Owner, force: bool, keep: &[PathBuf]) -> Result<()> {
    let path = dir.join(MARKER);
    // An unreadable or foreign-looking marker counts as no owner.
    let held = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<Stored>(&t).ok())
        .map(Owner::from);
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
        Some(_) => clean(dir, keep)?,
        None => {}
    }
    let text = serde_json::to_string(&Stored::from(owner)).unwrap_or_default();
    report::write_atomic(&path, text.as_bytes())
}

fn clean(dir: &Path, keep: &[PathBuf]) -> Result<()> {
    let err = |source| Error::Write {
        path: dir.to_path_buf(),
        source,
    };
    let keep: Vec<PathBuf> = keep.iter().filter_map(|p| p.canonicalize().ok()).collect();
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
        let kept = path.canonicalize().is_ok_and(|p| keep.contains(&p));
        if path.is_file() && !kept && (OWNED.0.contains(&name.as_str()) || OWNED.1.contains(&ext.as_str())) {
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
        claim(dir.path(), &run, false, &[]).unwrap();
        let sweep = Owner {
            command: Command::Sweep,
            ..run
        };
        let err = claim(dir.path(), &sweep, false, &[]).unwrap_err().to_string();
        assert!(
            err.contains("another command") && err.contains("`nines run` of /x/a.toml"),
            "{err}"
        );
    }

    /// A sweep's marker names the command inside `scenario` too, so an
    /// older nines, which reads only `scenario`, sees another scenario
    /// and refuses to run into the folder.
    #[test]
    fn an_older_nines_sees_a_sweep_as_another_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let sweep = Owner::sweep(Path::new("/x/a.toml"));
        claim(dir.path(), &sweep, false, &[]).unwrap();
        let text = std::fs::read_to_string(dir.path().join(MARKER)).unwrap();
        let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(stored["scenario"], format!("sweep of {}", sweep.scenario));
        // And this nines reads it back as the same owner.
        claim(dir.path(), &sweep, false, &[]).unwrap();
    }

    /// A command a newer nines wrote is nobody's here: refused, not taken.
    #[test]
    fn a_marker_of_an_unknown_command_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(MARKER),
            r#"{"command":"replay","scenario":"/x/a.toml"}"#,
        )
        .unwrap();
        let run = Owner {
            command: Command::Run,
            scenario: "/x/a.toml".into(),
        };
        let err = claim(dir.path(), &run, false, &[]).unwrap_err().to_string();
        assert!(err.contains("newer nines"), "{err}");
        claim(dir.path(), &run, true, &[]).unwrap();
    }
}
