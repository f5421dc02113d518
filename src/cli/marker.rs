//! Who owns an output folder: the `.nines-run` marker.
//!
//! `run` and `merge` record the scenario file they ran (its canonical path)
//! in `DIR/.nines-run`. Running the same scenario again into the folder
//! simply replaces its files, whatever the `--set`, `--trials` or seed.
//! Running another scenario into it is refused (exit 2), so two runs'
//! `summary.json`, `trials.csv`, plots and parts are never mixed; with
//! `--force` the files nines writes (listed in [`OWNED`]) are deleted
//! first and the folder changes hands. A folder without a marker (new, or
//! written by an older nines) is taken as it is.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::report;

/// The marker's file name.
pub const MARKER: &str = ".nines-run";

/// What nines writes into an output folder: exact names, then extensions.
pub const OWNED: (&[&str], &[&str]) = (
    &["summary.json", "trials.csv", "timeline.csv", "report.html"],
    &["png", "svg", "nines-part", "tmp"],
);

#[derive(Serialize, Deserialize)]
struct Marker {
    scenario: String,
}

/// Claims `dir` for the scenario `identity` (see [`crate::montecarlo::shard::identity`]).
///
/// # Errors
/// [`Error::Usage`] when `dir` holds another scenario's results and `force`
/// is off; [`Error::Write`] when the marker or a stale file cannot be
/// written or deleted.
pub fn claim(dir: &Path, identity: &str, force: bool) -> Result<()> {
    let path = dir.join(MARKER);
    // An unreadable or foreign-looking marker counts as no owner.
    let owner = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<Marker>(&t).ok())
        .map(|m| m.scenario);
    match owner {
        Some(o) if o == identity => return Ok(()),
        Some(o) if !force => {
            return Err(Error::Usage(format!(
                "output folder {} holds the results of another scenario ({o}); this run is of {identity}. \
                 Choose another folder with --out, or add --force to delete its results and reuse it",
                dir.display()
            )));
        }
        Some(_) => clean(dir)?,
        None => {}
    }
    let text = serde_json::to_string(&Marker {
        scenario: identity.to_string(),
    })
    .unwrap_or_default();
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
