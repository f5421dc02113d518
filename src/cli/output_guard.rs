//! The output folder guard: who owns an output folder, who may write into
//! it now, and how a command's result files replace the previous ones.
//!
//! It owns three things in every output folder: the marker `.nines-run`
//! (owner and manifest), the lock `.nines-lock`, and the order in which a
//! command's files are published. Every file is written as
//! [`crate::report::files`] says (a fresh temporary name created
//! exclusively, never through a link); this module decides when those
//! files take their final names.
//!
//! # Owner
//! Every command that writes results into a folder (`run`, `merge`,
//! `sweep`, `compare`) records there which command wrote them and of which
//! scenario file(s) (canonical paths). `run` and `merge` count as one
//! command: a merge writes exactly what a run writes. Running the same
//! command on the same scenario (for `compare`, the same files in the same
//! order) into the folder again replaces its files, whatever the `--set`,
//! `--vary`, `--trials` or seed. Anything else is refused (exit 2), so two
//! runs' results are never mixed. A folder without a marker (new, or
//! written by an older nines) is taken as it is; a marker without a command
//! (older nines) is a `run`'s.
//!
//! # Lock
//! A command holds an advisory lock on `.nines-lock` for as long as it
//! runs: exclusive for `run`, `merge`, `sweep`, `compare` and `trace`,
//! shared for `run --shard` (the shards of one run write their own parts
//! side by side). A command that cannot take it at once is refused with
//! exit 2 and says the folder is in use: a second run into a folder that
//! one is writing is a mistake (one would replace the other's results), and
//! waiting could hang a script for hours. The lock file stays (deleting it
//! would let two commands lock two different files); it holds nothing. On a
//! file system without locks the command goes on unlocked and says so.
//!
//! # Publish
//! A command writes every result file under a temporary name first (a
//! failure or a full disk then changes nothing), and [`Guard::publish`]
//! gives them their names together: the marker lists the old and new sets;
//! the old head file (`summary.json`, `sweep.json`, `compare.json`,
//! `trace.jsonl`) is deleted; files of the old set the new one lacks (the
//! plots of an earlier `--plot`) are deleted; the new files are renamed into
//! place, the head last; the marker then lists the new set. So while the
//! head is present, every result beside it is of the same command; a crash
//! in between leaves no head, never one run's rows beside another's
//! summary. The CONTRACT's names and places are kept (users read
//! `output/<stem>/summary.json` directly), which rules out publishing a
//! fresh folder renamed over the old one.
//!
//! # `--force`
//! Deletes only what the marker records as written by nines: the files of
//! its manifest (for a marker of an older nines, without one: the fixed
//! result names of its command), part files (recognised by their content),
//! and temporary files a crash left. A user's `notes.png`, `data.tmp` or
//! own `report.html` stay. Shards share the folder, so two shards of
//! different runs given `--force` at the same moment may both clean it;
//! the first marker written wins and `merge` refuses parts of two runs.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::montecarlo::shard;
use crate::report::escape;
use crate::report::files::{self, Staging, TempFile};

/// The marker's file name.
pub const MARKER: &str = ".nines-run";

/// The lock file's name.
pub const LOCK: &str = ".nines-lock";

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
    /// `improve`: `improve.csv`, `improve.json`.
    Improve,
    /// A command this nines does not know (a newer nines wrote the
    /// marker): never this command, so the folder is refused, not taken.
    #[serde(other)]
    Unknown,
}

impl Command {
    /// The result files a marker of an older nines (without a manifest)
    /// stands for.
    fn results(self) -> &'static [&'static str] {
        match self {
            Command::Run => &["summary.json", "trials.csv", "timeline.csv"],
            Command::Sweep => &["sweep.csv", "sweep.json"],
            Command::Compare => &["compare.csv", "compare.json"],
            Command::Improve => &["improve.csv", "improve.json"],
            Command::Unknown => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Command::Run => "run",
            Command::Sweep => "sweep",
            Command::Compare => "compare",
            Command::Improve => "improve",
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
    /// The files of the last published set (absent in markers of older
    /// nines, which did not record them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    files: Option<Vec<String>>,
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
            files: None,
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

impl Owner {
    /// `improve FILE`.
    pub fn improve(file: &Path) -> Self {
        Self {
            command: Command::Improve,
            scenario: shard::identity(file),
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`nines {}` of {}", self.command.name(), self.scenario)
    }
}

/// How a command holds its folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    /// Alone: every command but a shard.
    Whole,
    /// Beside the other shards of a run.
    Shared,
}

/// A folder held by this command: its lock, its owner and the files the
/// marker lists. Dropping it releases the lock.
#[derive(Debug)]
pub struct Guard {
    dir: PathBuf,
    /// `None` on a file system without locks.
    _lock: Option<File>,
    owner: Option<Owner>,
    /// The files of the last published set.
    previous: Vec<String>,
}

/// Claims `dir` for `owner` and holds it alone until the guard is
/// dropped. With `force`, the files nines wrote there are deleted first,
/// except those in `keep` (the parts a `merge` is reading, when they sit
/// in its output folder).
///
/// # Errors
/// [`Error::Usage`] when another command is writing into `dir`, or `dir`
/// holds another owner's results and `force` is off; [`Error::Write`] when
/// the marker or a stale file cannot be written or deleted.
pub fn claim(dir: &Path, owner: &Owner, force: bool, keep: &[PathBuf]) -> Result<Guard> {
    take(dir, Some(owner), force, keep, Hold::Whole)
}

/// As [`claim`], for one shard of a run: held beside the other shards
/// (each writes its own part), never beside any other command.
///
/// # Errors
/// As [`claim`].
pub fn claim_shard(dir: &Path, owner: &Owner, force: bool) -> Result<Guard> {
    take(dir, Some(owner), force, &[], Hold::Shared)
}

/// Holds `dir` alone without an owner (a trace's folder).
///
/// # Errors
/// [`Error::Usage`] when another command is writing into `dir`.
pub fn hold(dir: &Path) -> Result<Guard> {
    take(dir, None, false, &[], Hold::Whole)
}

fn take(dir: &Path, owner: Option<&Owner>, force: bool, keep: &[PathBuf], hold: Hold) -> Result<Guard> {
    let lock = lock(dir, hold)?;
    if hold == Hold::Whole {
        // Alone here: any temporary file is a crash's leftover.
        remove_temporaries(dir)?;
    }
    let mut guard = Guard {
        dir: dir.to_path_buf(),
        _lock: lock,
        owner: owner.cloned(),
        previous: Vec::new(),
    };
    if let Some(owner) = owner {
        guard.previous = settle(dir, owner, force, keep, hold)?;
    }
    Ok(guard)
}

/// Checks the marker against `owner` and writes it when the folder changes
/// hands; returns the files the marker lists for this owner.
fn settle(dir: &Path, owner: &Owner, force: bool, keep: &[PathBuf], hold: Hold) -> Result<Vec<String>> {
    // Shards of one run race to mark a new folder: the first marker
    // written wins, and the others check against it.
    for _ in 0..3 {
        match read_marker(dir) {
            Some((o, files)) if o == *owner => return Ok(files.unwrap_or_else(|| strings(o.command.results()))),
            Some((o, _)) if !force => {
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
            Some((o, files)) => {
                let files = files.unwrap_or_else(|| strings(o.command.results()));
                clean(dir, &files, keep)?;
                write_marker(dir, owner, &[])?;
                return Ok(Vec::new());
            }
            None if hold == Hold::Whole => {
                write_marker(dir, owner, &[])?;
                return Ok(Vec::new());
            }
            None => {
                let t = marker_file(dir, owner, &[])?;
                if t.commit_new()? {
                    return Ok(Vec::new());
                }
            }
        }
    }
    Err(Error::Usage(format!(
        "output folder {}: its marker {MARKER} keeps changing; is another nines writing there?",
        dir.display()
    )))
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_string()).collect()
}

impl Guard {
    /// A set of result files for this folder, to publish together.
    pub fn staging(&self) -> Staging {
        Staging::new(&self.dir)
    }

    /// Gives the staged files their names together, `head` last (see the
    /// module doc); the marker then lists exactly them.
    ///
    /// # Errors
    /// [`Error::Write`] when a file cannot be renamed or deleted, or the
    /// marker cannot be written; the files not yet published are deleted.
    pub fn publish(&mut self, staged: Staging, head: &str) -> Result<()> {
        let names = staged.names();
        let mut files = staged.into_files();
        if let Some(owner) = &self.owner {
            let mut all = self.previous.clone();
            all.extend(names.iter().filter(|n| !self.previous.contains(n)).cloned());
            write_marker(&self.dir, owner, &all)?;
        }
        let head_file = files
            .iter()
            .position(|f| f.dest().file_name().is_some_and(|n| n == head))
            .map(|i| files.remove(i));
        if head_file.is_some() {
            remove(&self.dir, head)?;
        }
        for stale in self.previous.iter().filter(|p| !names.contains(p)) {
            remove(&self.dir, stale)?;
        }
        for f in files {
            f.commit()?;
        }
        if let Some(h) = head_file {
            h.commit()?;
        }
        if let Some(owner) = &self.owner {
            write_marker(&self.dir, owner, &names)?;
        }
        files::sync_dir(&self.dir);
        self.previous = names;
        Ok(())
    }
}

/// Takes the folder's lock without waiting.
fn lock(dir: &Path, hold: Hold) -> Result<Option<File>> {
    let file = open_lock(&dir.join(LOCK))?;
    let taken = match hold {
        Hold::Whole => file.try_lock(),
        Hold::Shared => file.try_lock_shared(),
    };
    match taken {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Err(Error::Usage(format!(
            "output folder {} is in use: another nines is writing there now. \
             Wait for it to end, or choose another folder with --out",
            escape::terminal(&dir.display().to_string())
        ))),
        Err(TryLockError::Error(e)) => {
            eprintln!(
                "note: cannot lock output folder {} ({e}); going on without the lock, so run one command at a time there",
                escape::terminal(&dir.display().to_string())
            );
            Ok(None)
        }
    }
}

/// Opens the lock file, creating it; never through a link.
fn open_lock(path: &Path) -> Result<File> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    match OpenOptions::new().read(true).write(true).create_new(true).open(path) {
        Ok(f) => return Ok(f),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(err(e)),
    }
    let not_a_file = || {
        Error::Usage(format!(
            "{} is not a plain file (a link?); nines does not follow links in its output folder. Remove it",
            escape::terminal(&path.display().to_string())
        ))
    };
    let before = std::fs::symlink_metadata(path).map_err(err)?;
    if !before.file_type().is_file() {
        return Err(not_a_file());
    }
    let f = OpenOptions::new().read(true).write(true).open(path).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let after = f.metadata().map_err(err)?;
        if (after.dev(), after.ino()) != (before.dev(), before.ino()) {
            return Err(not_a_file());
        }
    }
    Ok(f)
}

/// The owner and manifest a folder's marker records; `None` when there is
/// no marker, or it is unreadable, foreign-looking or a link.
fn read_marker(dir: &Path) -> Option<(Owner, Option<Vec<String>>)> {
    let path = dir.join(MARKER);
    if !std::fs::symlink_metadata(&path).ok()?.file_type().is_file() {
        return None;
    }
    let stored = serde_json::from_str::<Stored>(&std::fs::read_to_string(path).ok()?).ok()?;
    let files = stored.files.clone();
    Some((Owner::from(stored), files))
}

fn marker_file(dir: &Path, owner: &Owner, files: &[String]) -> Result<TempFile> {
    use std::io::Write as _;
    let mut stored = Stored::from(owner);
    stored.files = Some(files.to_vec());
    let text = serde_json::to_string(&stored).unwrap_or_default();
    let mut t = TempFile::create(&dir.join(MARKER))?;
    t.file().write_all(text.as_bytes()).map_err(|source| Error::Write {
        path: dir.join(MARKER),
        source,
    })?;
    Ok(t)
}

fn write_marker(dir: &Path, owner: &Owner, files: &[String]) -> Result<()> {
    marker_file(dir, owner, files)?.commit().map(|_| ())
}

/// A name the marker may list: a plain file name in the folder, never a
/// path out of it, nor the guard's own files.
fn listable(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name != MARKER
        && name != LOCK
        && !name.contains(['/', '\\'])
        && Path::new(name).file_name().is_some_and(|n| n == name)
}

/// Deletes `dir/name` (a link is deleted, not followed); absent is fine.
fn remove(dir: &Path, name: &str) -> Result<()> {
    if !listable(name) {
        return Ok(());
    }
    let path = dir.join(name);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if !m.is_dir() => std::fs::remove_file(&path).map_err(|source| Error::Write { path, source }),
        _ => Ok(()),
    }
}

/// Deletes the temporary files a crash left in `dir`.
fn remove_temporaries(dir: &Path) -> Result<()> {
    for name in entries(dir)? {
        if files::is_temporary(&name) {
            remove(dir, &name)?;
        }
    }
    Ok(())
}

fn entries(dir: &Path) -> Result<Vec<String>> {
    let err = |source| Error::Write {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(err)? {
        names.push(entry.map_err(err)?.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// `--force`: deletes what the marker lists, part files and temporary
/// files, except the files in `keep`.
fn clean(dir: &Path, listed: &[String], keep: &[PathBuf]) -> Result<()> {
    let keep: Vec<PathBuf> = keep.iter().filter_map(|p| p.canonicalize().ok()).collect();
    for name in entries(dir)? {
        let path = dir.join(&name);
        if path.canonicalize().is_ok_and(|p| keep.contains(&p)) {
            continue;
        }
        if listed.contains(&name) || files::is_temporary(&name) || shard::is_part(&path) {
            remove(dir, &name)?;
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

    /// `--force` deletes what the marker lists: a marker listing a path
    /// out of the folder (or the guard's own files) deletes none of them.
    #[test]
    fn a_tampered_marker_cannot_delete_outside_the_folder() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("o");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(root.path().join("outside"), "keep").unwrap();
        std::fs::write(dir.join("summary.json"), "old").unwrap();
        std::fs::write(
            dir.join(MARKER),
            r#"{"command":"run","scenario":"/x/a.toml","files":["../outside","/etc/hostname",".nines-lock","summary.json"]}"#,
        )
        .unwrap();
        let other = Owner::run(Path::new("/x/b.toml"));
        let _guard = claim(&dir, &other, true, &[]).unwrap();
        assert_eq!(std::fs::read_to_string(root.path().join("outside")).unwrap(), "keep");
        assert!(dir.join(LOCK).exists());
        assert!(!dir.join("summary.json").exists());
    }

    /// Publishing: the marker lists exactly the new set, stale files of
    /// the old set are gone, and no temporary file is left.
    #[test]
    fn publish_replaces_the_set_and_lists_it() {
        let dir = tempfile::tempdir().unwrap();
        let owner = Owner::run(Path::new("/x/a.toml"));
        let mut guard = claim(dir.path(), &owner, false, &[]).unwrap();
        let mut staged = guard.staging();
        for name in ["trials.csv", "summary.json", "old.png"] {
            staged.write(name, name.as_bytes()).unwrap();
        }
        guard.publish(staged, "summary.json").unwrap();
        let mut staged = guard.staging();
        for name in ["trials.csv", "summary.json"] {
            staged.write(name, b"2").unwrap();
        }
        guard.publish(staged, "summary.json").unwrap();
        assert!(!dir.path().join("old.png").exists());
        let (_, files) = read_marker(dir.path()).unwrap();
        assert_eq!(files.unwrap(), ["trials.csv", "summary.json"]);
        let mut left: Vec<String> = entries(dir.path()).unwrap();
        left.sort();
        assert_eq!(left, [LOCK, MARKER, "summary.json", "trials.csv"]);
    }
}
