//! How nines puts a file on disk: never through a link, never half written,
//! never under a name another process uses.
//!
//! Every file nines writes (results, plots, parts, `report.html`, the
//! output folder's marker, a trace) is first created as a [`TempFile`]: a
//! fresh name in its destination folder (`.NAME.PID-N-NONCE.nines-tmp`),
//! opened with `create_new` (`O_CREAT | O_EXCL`), which fails instead of
//! following a link or reusing a file planted at that name (another name is
//! then drawn). It is written through the handle that created it, synced,
//! and only then renamed over its final name; a rename replaces a link
//! planted at the final name, it never writes through it. Nothing is
//! rendered outside the destination folder (plots are encoded in memory).
//!
//! A temporary file that is never renamed is deleted when it is dropped,
//! so every error path (exit 1 or 2) leaves none; the second Ctrl-C, which
//! quits at once without unwinding, deletes the pending ones through
//! [`remove_pending`]. Only a crash (kill -9, power loss) can leave one;
//! the next command that takes the folder whole deletes it
//! ([`is_temporary`]).
//!
//! A [`Staging`] holds the temporary files of one command's results until
//! the command publishes them together (the order is the caller's: this
//! module only creates, writes, renames and deletes).

use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher as _, Hasher as _};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// The suffix of every temporary file nines creates.
pub const TEMP_SUFFIX: &str = ".nines-tmp";

/// Temporary files created and not yet renamed or deleted, for
/// [`remove_pending`]. A `Vec`: a command holds a handful at a time.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Whether `name` is one of nines' temporary names.
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

/// Deletes every temporary file this process has not renamed yet (the
/// second Ctrl-C calls it before quitting at once).
pub fn remove_pending() {
    let pending = PENDING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for p in pending.iter() {
        let _ = std::fs::remove_file(p);
    }
}

fn forget(path: &Path) {
    let mut pending = PENDING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    pending.retain(|p| p != path);
}

/// A name no other call in any process draws at the same time: the
/// process id, a counter and a per-process random nonce.
fn temp_name(dest: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static NONCE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let nonce = NONCE.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.finish()
    });
    format!(
        ".{dest}.{}-{}-{nonce:016x}{TEMP_SUFFIX}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A file being written under a temporary name beside its destination.
#[derive(Debug)]
pub struct TempFile {
    file: File,
    temp: PathBuf,
    dest: PathBuf,
    done: bool,
}

impl TempFile {
    /// Creates a fresh temporary file in `dest`'s folder, exclusively.
    ///
    /// # Errors
    /// [`Error::Write`] naming `dest` when the folder cannot hold it.
    pub fn create(dest: &Path) -> Result<Self> {
        let dir = dest
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let err = |source| Error::Write {
            path: dest.to_path_buf(),
            source,
        };
        // A taken name (a file or a link planted there) draws another; a
        // folder where a hundred names in a row are taken is refused.
        for _ in 0..100 {
            let temp = dir.join(temp_name(&name));
            let mut pending = PENDING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match OpenOptions::new().read(true).write(true).create_new(true).open(&temp) {
                Ok(file) => {
                    pending.push(temp.clone());
                    return Ok(Self {
                        file,
                        temp,
                        dest: dest.to_path_buf(),
                        done: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(err(e)),
            }
        }
        Err(err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "every temporary name tried was taken",
        )))
    }

    /// The open file (read and write).
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// A second handle on the same open file, for a writer that owns its
    /// `File`; whatever it writes is in this file.
    ///
    /// # Errors
    /// [`Error::Write`] when the handle cannot be duplicated.
    pub fn handle(&self) -> Result<File> {
        self.file.try_clone().map_err(|e| self.error(e))
    }

    /// Where the file goes when it is complete.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Its temporary path.
    pub fn temp(&self) -> &Path {
        &self.temp
    }

    fn error(&self, source: io::Error) -> Error {
        Error::Write {
            path: self.dest.clone(),
            source,
        }
    }

    /// Syncs the file and renames it over its destination (a link there
    /// is replaced, not followed).
    ///
    /// # Errors
    /// [`Error::Write`] on an I/O failure; the temporary file is deleted.
    pub fn commit(mut self) -> Result<PathBuf> {
        self.file.sync_all().map_err(|e| self.error(e))?;
        std::fs::rename(&self.temp, &self.dest).map_err(|e| self.error(e))?;
        self.done = true;
        forget(&self.temp);
        Ok(self.dest.clone())
    }

    /// As [`Self::commit`], but only when nothing is at the destination
    /// (a hard link, which never replaces); `Ok(false)` when something is.
    ///
    /// # Errors
    /// [`Error::Write`] on an I/O failure.
    pub fn commit_new(mut self) -> Result<bool> {
        self.file.sync_all().map_err(|e| self.error(e))?;
        match std::fs::hard_link(&self.temp, &self.dest) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            // A file system without hard links: as a plain commit.
            Err(_) if !self.dest.exists() => {
                std::fs::rename(&self.temp, &self.dest).map_err(|e| self.error(e))?;
                self.done = true;
                forget(&self.temp);
                Ok(true)
            }
            Err(e) => Err(self.error(e)),
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.temp);
            forget(&self.temp);
        }
    }
}

/// Writes `bytes` to `dest` through a [`TempFile`].
///
/// # Errors
/// [`Error::Write`] on an I/O failure.
pub fn write_new(dest: &Path, bytes: &[u8]) -> Result<()> {
    let mut t = TempFile::create(dest)?;
    t.file.write_all(bytes).map_err(|e| t.error(e))?;
    t.commit().map(|_| ())
}

/// The files of one command's results, complete under temporary names,
/// waiting to be published together.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    files: Vec<TempFile>,
}

impl Staging {
    /// An empty set for the folder `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            files: Vec::new(),
        }
    }

    /// The folder the files go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A temporary file for `name` in the folder, not yet in the set.
    ///
    /// # Errors
    /// As [`TempFile::create`].
    pub fn create(&self, name: &str) -> Result<TempFile> {
        TempFile::create(&self.dir.join(name))
    }

    /// Adds a complete temporary file to the set.
    pub fn add(&mut self, file: TempFile) {
        self.files.push(file);
    }

    /// Writes `bytes` as `name` (a temporary file in the set); returns the
    /// path it will have once published.
    ///
    /// # Errors
    /// [`Error::Write`] on an I/O failure.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let mut t = self.create(name)?;
        t.file.write_all(bytes).map_err(|e| t.error(e))?;
        let dest = t.dest.clone();
        self.add(t);
        Ok(dest)
    }

    /// The final names of the files, in the order they were added.
    pub fn names(&self) -> Vec<String> {
        self.files
            .iter()
            .filter_map(|f| f.dest.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect()
    }

    /// The files, in the order they were added.
    pub fn into_files(self) -> Vec<TempFile> {
        self.files
    }
}

/// Syncs a folder's entries (the renames into it), where the platform can.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn symlink_at_temp_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        // Plant a link at every name the next few calls could draw is
        // impossible (a nonce); plant one at the old fixed name instead,
        // and check a temporary file never opens an existing path.
        std::os::unix::fs::symlink(&victim, dir.path().join("summary.json.tmp")).unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("summary.json")).unwrap();
        write_new(&dir.path().join("summary.json"), b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(
            !std::fs::symlink_metadata(dir.path().join("summary.json"))
                .unwrap()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(dir.path().join("summary.json")).unwrap(), "new");
    }

    #[test]
    fn a_dropped_temp_file_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let t = TempFile::create(&dir.path().join("a.csv")).unwrap();
        let temp = t.temp().to_path_buf();
        assert!(temp.exists() && is_temporary(&temp.file_name().unwrap().to_string_lossy()));
        drop(t);
        assert!(!temp.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn commit_new_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("m");
        std::fs::write(&dest, "first").unwrap();
        let mut t = TempFile::create(&dest).unwrap();
        t.file().write_all(b"second").unwrap();
        assert!(!t.commit_new().unwrap());
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "first");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
