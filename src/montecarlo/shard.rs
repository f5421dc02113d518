//! Shards of a run and the partial results they leave (`nines run --shard
//! I/N`, `nines merge`).
//!
//! # Slicing
//! Trials are cut into the fixed chunks of [`super::chunk_size`]; shard `I`
//! of `N` (0-based) takes the contiguous chunks `[C·I/N, C·(I+1)/N)` of the
//! `C` chunks (integer division). Each shard therefore starts on a chunk
//! boundary, shards hold whole chunks and, with `N > C`, some hold none.
//! The slice depends only on the trial count, the chunk size and `I/N`.
//!
//! # Why merging is exact
//! A whole run folds the chunks' accumulators left to right from an empty
//! one. A shard keeps each of its chunks' accumulators apart (not their sum,
//! which would regroup the float additions), and [`Merged::fold`] replays the
//! same left fold over every part in shard order: the same operations on the
//! same bits. `trials.csv` rows are the same text whoever writes them, so
//! they are joined in order under one header. `timeline.csv` is a left
//! fold too, but over trials (float sums of `f32` cells): a part keeps each
//! trial's [`TimelineRows`] with its chunk, and [`Merged::timeline`]
//! replays them into one [`TimelineAcc`] in trial order. Per-shard totals
//! would not do: adding them regroups the float sums.
//!
//! Memory: the metadata is held until the shard ends, and it grows with the
//! chunks: a failure-only chunk is 64 trials, a request-level chunk is one,
//! so a request-level shard holds per trial its accumulator and its
//! timeline rows (60 × (4 + 3 per service + 3 per edge) numbers). On the
//! two-hop bench model over 5 s that is 15.5 KB of part per trial, and a
//! 10,000-trial shard peaked at 222 MB; the metadata is streamed into the
//! file, never copied into a second buffer.
//!
//! # The part file (`shard-I-of-N.nines-part`)
//! ```text
//! trials.csv of the shard (header + rows) | postcard(Meta) | u64 LE length of Meta | "NINESPRT"
//! ```
//! The CSV streams to disk during the run (memory stays bounded by a wave),
//! the metadata follows when the shard is done. [`Meta`] carries the
//! scenario text and overrides, so the merge rebuilds the very same
//! scenario, and per chunk ([`Chunk`]) the accumulator and the timeline
//! rows through serde, so fields added to them travel without touching
//! this file. Floats are stored as their bits.
//!
//! `Meta` begins with its layout version ([`Meta::format`]), read on its own
//! before the rest: a part of another layout (format 1 had no timeline
//! rows) is refused with a message naming both versions, never misread.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::World;
use crate::model::traffic::TIMELINE_BUCKETS;
use crate::scenario::{self, Override, Scenario};
use crate::stats::Accumulator;
use crate::stats::timeline::{TimelineAcc, TimelineRows};

/// Bumped when the part layout changes; parts of another format are
/// refused. 2: chunks carry their trials' timeline rows. 3: availability
/// accumulators carry a third moment and a minimum (`stats::Skewed`), and a
/// checksum covers the CSV and the metadata ([`Meta::checksum`]). 4: the
/// accumulator carries operations (deploys, maintenance), SLO windows and
/// alerts, and the request counters of probes, hedges and bulkheads. 5:
/// windowed runs carry their shared samples' use, and request accumulators
/// their autoscalers and the distribution of bulkhead waits. 6: timeline
/// rows carry the serving replicas of autoscaled services, and request
/// accumulators the books of caches, cold starts and bulkhead queue
/// timeouts.
const FORMAT: u32 = 6;
/// The last bytes of every part file.
const MAGIC: &[u8; 8] = b"NINESPRT";
/// The extension of part files.
pub const EXTENSION: &str = "nines-part";

/// One shard of a run: `index` of `count`, 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which slice, `0..count`.
    pub index: u64,
    /// How many slices.
    pub count: u64,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("expected I/N with 0 <= I < N (e.g. 0/4 for the first of four shards), found `{s}`");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The trial indices of this shard among `trials`, cut in chunks of `chunk`.
    pub fn slice(self, trials: u64, chunk: u64) -> Range<u64> {
        let chunks = trials.div_ceil(chunk);
        // u128: chunks * index can pass u64 for huge trial counts.
        let at = |k: u64| (u128::from(chunks) * u128::from(k) / u128::from(self.count)) as u64;
        let lo = (at(self.index) * chunk).min(trials);
        let hi = (at(self.index + 1) * chunk).min(trials);
        lo..hi
    }

    /// The part file's name.
    pub fn file_name(self) -> String {
        format!("shard-{}-of-{}.{EXTENSION}", self.index, self.count)
    }
}

/// What a part file carries besides its CSV rows.
#[derive(Debug, Serialize, Deserialize)]
pub struct Meta {
    /// The part layout version this file was written in.
    pub format: u32,
    /// The nines version that wrote it.
    pub version: String,
    /// The scenario file as the user named it (for messages).
    pub path: String,
    /// The scenario file's canonical path (identifies the output folder's run).
    pub identity: String,
    /// The file stem (names an unnamed scenario).
    pub stem: String,
    /// The scenario file's text.
    pub text: String,
    /// `--set` overrides, `(path, value)` in order.
    pub overrides: Vec<(String, String)>,
    /// Master seed.
    pub seed: u64,
    /// Trials of the whole run.
    pub trials: u64,
    /// `--slo`, if given.
    pub slo: Option<f64>,
    /// Which shard.
    pub index: u64,
    /// Of how many.
    pub count: u64,
    /// Trials per chunk.
    pub chunk: u64,
    /// The trials this part holds.
    pub first: u64,
    /// One past its last trial.
    pub end: u64,
    /// Bytes of the CSV header line at the start of the file.
    pub header_len: u64,
    /// Bytes of CSV (header and rows) at the start of the file.
    pub csv_len: u64,
    /// What each chunk measured, in chunk order.
    pub chunks: Vec<Chunk>,
    /// FNV-1a (64 bits) over the CSV bytes, then over this metadata encoded
    /// with `checksum` = 0: a part whose rows, scenario text or numbers were
    /// edited, truncated or spliced after it was written is refused.
    pub checksum: u64,
}

/// One chunk's results besides its CSV rows, each postcard-encoded: a
/// decoded accumulator holds its histograms' full bucket arrays (tens of
/// kilobytes), an encoded one only the occupied buckets, so a failure-only
/// part of a million trials (64 trials a chunk) stays a few megabytes in
/// memory; a request-level chunk is one trial (see the module doc).
#[derive(Debug, Serialize, Deserialize)]
pub struct Chunk {
    /// The chunk's [`Accumulator`].
    pub acc: Vec<u8>,
    /// A `Vec<TimelineRows>`: the timeline rows of the chunk's trials that
    /// had traffic, in trial order (empty without a workload).
    pub timeline: Vec<u8>,
}

impl Meta {
    /// The scenario this part was run on, rebuilt from its text.
    ///
    /// # Errors
    /// [`Error::Scenario`] if it no longer validates (another nines version).
    pub fn scenario(&self) -> Result<Scenario> {
        let overrides: Vec<Override> = self
            .overrides
            .iter()
            .map(|(path, value)| Override {
                path: path.clone(),
                value: value.clone(),
            })
            .collect();
        scenario::parse(&self.path, &self.stem, &self.text, &overrides)
    }
}

/// Appends `meta` to the CSV already written in `file` (the part's
/// temporary file, read and write; `path` names it in errors), making it a
/// part. The file is reached only through its handle, never by name again.
///
/// # Errors
/// [`Error::Write`] on an I/O failure.
pub fn finish_part(file: &mut File, path: &Path, mut meta: Meta) -> Result<()> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let csv_len = file.seek(SeekFrom::End(0)).map_err(err)?;
    meta.csv_len = csv_len;
    file.seek(SeekFrom::Start(0)).map_err(err)?;
    meta.header_len = header_len(&mut *file).map_err(err)?;
    file.seek(SeekFrom::End(0)).map_err(err)?;
    // Streamed, not encoded into a buffer first: a request-level part's
    // metadata holds every trial's timeline rows, and a second copy of them
    // would double the shard's peak memory.
    meta.checksum = 0;
    let mut hash = Fnv::default();
    file.seek(SeekFrom::Start(0)).map_err(err)?;
    std::io::copy(&mut (&mut *file).take(csv_len), &mut hash).map_err(err)?;
    postcard::to_io(&meta, &mut hash).map_err(|e| err(std::io::Error::other(e)))?;
    meta.checksum = hash.0;
    file.seek(SeekFrom::End(0)).map_err(err)?;
    let mut w = std::io::BufWriter::new(&mut *file);
    postcard::to_io(&meta, &mut w).map_err(|e| err(std::io::Error::other(e)))?;
    let f = w.into_inner().map_err(|e| err(e.into_error()))?;
    let meta_len = f.stream_position().map_err(err)? - csv_len;
    f.write_all(&meta_len.to_le_bytes()).map_err(err)?;
    f.write_all(MAGIC).map_err(err)?;
    f.sync_all().map_err(err)
}

/// The byte length of the first CSV record (the header) read from `file`;
/// the csv reader knows where a quoted field with a line break ends.
fn header_len(file: &mut File) -> std::io::Result<u64> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let mut rec = csv::ByteRecord::new();
    r.read_byte_record(&mut rec).map_err(std::io::Error::other)?;
    Ok(r.position().byte())
}

/// FNV-1a, 64 bits, fed as a writer: the part's checksum.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Opens `path` for reading only if it is a regular file: a FIFO, a device
/// or a socket named like a part is refused before it is opened, so that
/// opening it cannot block.
fn open_regular(path: &Path) -> std::io::Result<File> {
    let not_regular = || std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file");
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    let f = File::open(path)?;
    // Replaced between the two looks: still refused.
    if !f.metadata()?.is_file() {
        return Err(not_regular());
    }
    Ok(f)
}

/// Whether `path` is a part file nines wrote: a regular file whose name
/// ends in `.nines-part` and whose last bytes are the part's magic.
pub fn is_part(path: &Path) -> bool {
    if path.extension().is_none_or(|x| x != EXTENSION) {
        return false;
    }
    let Ok(mut f) = open_regular(path) else {
        return false;
    };
    let mut tail = [0u8; 8];
    f.seek(SeekFrom::End(-8)).is_ok() && f.read_exact(&mut tail).is_ok() && tail == *MAGIC
}

/// Reads a part's metadata.
///
/// # Errors
/// [`Error::Usage`] naming the file when it is not a part of this format.
pub fn read_meta(path: &Path) -> Result<Meta> {
    let bad = |why: String| Error::Usage(format!("{}: not a nines part file ({why})", path.display()));
    let mut f = open_regular(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::InvalidInput => bad(source.to_string()),
        _ => Error::Read {
            path: path.to_path_buf(),
            source,
        },
    })?;
    let len = f.seek(SeekFrom::End(0)).map_err(|e| bad(e.to_string()))?;
    if len < 16 {
        return Err(bad("too short".into()));
    }
    let mut tail = [0u8; 16];
    f.seek(SeekFrom::Start(len - 16)).map_err(|e| bad(e.to_string()))?;
    f.read_exact(&mut tail).map_err(|e| bad(e.to_string()))?;
    if &tail[8..] != MAGIC {
        return Err(bad("no part trailer; was the shard interrupted?".into()));
    }
    let meta_len = u64::from_le_bytes(tail[..8].try_into().unwrap_or_default());
    if meta_len > len - 16 {
        return Err(bad("truncated".into()));
    }
    let mut bytes = vec![0u8; meta_len as usize];
    f.seek(SeekFrom::Start(len - 16 - meta_len))
        .map_err(|e| bad(e.to_string()))?;
    f.read_exact(&mut bytes).map_err(|e| bad(e.to_string()))?;
    // The format first: another layout's fields would not decode, or worse
    // decode into something else.
    let (format, _) = postcard::take_from_bytes::<u32>(&bytes).map_err(|e| bad(e.to_string()))?;
    if format != FORMAT {
        return Err(bad(format!(
            "part format {format}, where this nines reads format {FORMAT}; rerun every shard with this nines"
        )));
    }
    let mut meta: Meta = postcard::from_bytes(&bytes).map_err(|e| bad(e.to_string()))?;
    drop(bytes);
    if meta.csv_len != len - 16 - meta_len || meta.header_len > meta.csv_len {
        return Err(bad("its CSV length does not match its metadata".into()));
    }
    let stored = std::mem::take(&mut meta.checksum);
    let mut hash = Fnv::default();
    f.seek(SeekFrom::Start(0)).map_err(|e| bad(e.to_string()))?;
    std::io::copy(&mut (&mut f).take(meta.csv_len), &mut hash).map_err(|e| bad(e.to_string()))?;
    postcard::to_io(&meta, &mut hash).map_err(|e| bad(e.to_string()))?;
    if hash.0 != stored {
        return Err(bad(
            "its checksum does not match its content: the file was edited or damaged after the shard wrote it; rerun that shard"
                .into(),
        ));
    }
    meta.checksum = stored;
    check_values(&meta).map_err(bad)?;
    Ok(meta)
}

/// The numbers of a part that the merge computes with, in range: a part is
/// checked by its checksum, but one written by hand with a fresh checksum
/// must still not divide by zero or reach the statistics with a NaN.
fn check_values(m: &Meta) -> std::result::Result<(), String> {
    let max = scenario::limits::MAX_TRIALS;
    if !(1..=max).contains(&m.trials) {
        return Err(format!("trials = {}, outside 1..={max}", m.trials));
    }
    if !(1..=max).contains(&m.chunk) {
        return Err(format!("chunk = {}, outside 1..={max}", m.chunk));
    }
    if m.count == 0 || m.index >= m.count {
        return Err(format!("shard {}/{} is not a shard", m.index, m.count));
    }
    if let Some(s) = m.slo
        && !(s > 0.0 && s < 1.0)
    {
        return Err(format!("slo = {s}, outside (0, 1)"));
    }
    if m.first > m.end || m.end > m.trials {
        return Err(format!("trials {}..{} of {}", m.first, m.end, m.trials));
    }
    Ok(())
}

/// What every shard of one run shares besides the scenario.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Master seed.
    pub seed: u64,
    /// Trials of the whole run.
    pub trials: u64,
    /// `--slo`, if given.
    pub slo: Option<f64>,
    /// Trials per chunk ([`super::chunk_size`]).
    pub chunk: u64,
}

/// The metadata of a part before its run: everything but what the run
/// measures.
pub fn new_meta(file: &Path, text: String, overrides: &[Override], plan: Plan, shard: Shard) -> Meta {
    let range = shard.slice(plan.trials, plan.chunk);
    Meta {
        format: FORMAT,
        version: env!("CARGO_PKG_VERSION").to_string(),
        path: file.display().to_string(),
        identity: identity(file),
        stem: file
            .file_stem()
            .map_or_else(|| "scenario".to_string(), |s| s.to_string_lossy().into_owned()),
        text,
        overrides: overrides.iter().map(|o| (o.path.clone(), o.value.clone())).collect(),
        seed: plan.seed,
        trials: plan.trials,
        slo: plan.slo,
        index: shard.index,
        count: shard.count,
        chunk: plan.chunk,
        first: range.start,
        end: range.end,
        header_len: 0,
        csv_len: 0,
        chunks: Vec::new(),
        checksum: 0,
    }
}

/// Encodes one chunk's accumulator and its trials' timeline rows for
/// [`Meta::chunks`].
///
/// # Errors
/// [`Error::Write`] naming `path` (the part) if serde fails, which plain
/// numbers never make it do.
pub fn encode(acc: &Accumulator, timeline: &[TimelineRows], path: &Path) -> Result<Chunk> {
    let err = |e| Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    };
    Ok(Chunk {
        acc: postcard::to_stdvec(acc).map_err(err)?,
        timeline: postcard::to_stdvec(timeline).map_err(err)?,
    })
}

/// The canonical path of a scenario file (as given when it cannot be
/// resolved): what makes two runs "of the same scenario" for an output folder.
pub fn identity(file: &Path) -> String {
    std::fs::canonicalize(file)
        .unwrap_or_else(|_| file.to_path_buf())
        .display()
        .to_string()
}

/// A complete, consistent set of parts, in shard order.
pub struct Merged {
    /// The parts' files and metadata, shard `i` at index `i`.
    pub parts: Vec<(PathBuf, Meta)>,
}

impl Merged {
    /// Reads `paths` (part files, or folders whose `*.nines-part` files are
    /// taken) and checks they are every shard of one run exactly once.
    ///
    /// # Errors
    /// [`Error::Usage`] (exit 2) for a file that is not a part, parts of
    /// different runs, or a shard missing or given twice.
    pub fn open(paths: &[PathBuf]) -> Result<Self> {
        let mut files = Vec::new();
        for p in paths {
            if p.is_dir() {
                let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                    .map_err(|source| Error::Read {
                        path: p.clone(),
                        source,
                    })?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| f.extension().is_some_and(|x| x == EXTENSION))
                    .collect();
                if found.is_empty() {
                    return Err(Error::Usage(format!(
                        "{}: no *.{EXTENSION} files in this folder",
                        p.display()
                    )));
                }
                found.sort();
                files.extend(found);
            } else {
                files.push(p.clone());
            }
        }
        let mut metas = Vec::with_capacity(files.len());
        for f in files {
            let m = read_meta(&f)?;
            metas.push((f, m));
        }
        let Some((first_path, first)) = metas.first() else {
            return Err(Error::Usage("nines merge needs at least one part".into()));
        };
        for (path, m) in &metas[1..] {
            check_same(first_path, first, path, m)?;
        }
        let count = first.count;
        let mut slots: std::collections::BTreeMap<u64, (PathBuf, Meta)> = std::collections::BTreeMap::new();
        for (path, m) in metas {
            if m.index >= count {
                return Err(Error::Usage(format!(
                    "{}: shard {}/{count} is out of range",
                    path.display(),
                    m.index
                )));
            }
            if let Some((other, _)) = slots.get(&m.index) {
                return Err(Error::Usage(format!(
                    "shard {}/{count} is given twice: {} and {}",
                    m.index,
                    other.display(),
                    path.display()
                )));
            }
            slots.insert(m.index, (path, m));
        }
        // Fewer parts than shards leaves a gap among the first few indices,
        // so this scan is short even for a corrupt count.
        let missing: Vec<String> = (0..count)
            .filter(|i| !slots.contains_key(i))
            .take(10)
            .map(|i| format!("{i}/{count}"))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Usage(format!(
                "shard{} {} missing: every shard from 0/{count} to {}/{count} is needed",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                count - 1
            )));
        }
        let parts: Vec<(PathBuf, Meta)> = slots.into_values().collect();
        for (path, m) in &parts {
            let expected = Shard { index: m.index, count }.slice(m.trials, m.chunk);
            let chunks = expected.end.div_ceil(m.chunk) - expected.start / m.chunk;
            if m.first != expected.start || m.end != expected.end || m.chunks.len() as u64 != chunks {
                return Err(Error::Usage(format!(
                    "{}: holds trials {}..{} in {} chunks where shard {}/{count} should hold {}..{} in {chunks}",
                    path.display(),
                    m.first,
                    m.end,
                    m.chunks.len(),
                    m.index,
                    expected.start,
                    expected.end
                )));
            }
        }
        Ok(Self { parts })
    }

    /// The metadata every part shares (scenario, seed, trials).
    pub fn meta(&self) -> &Meta {
        &self.parts[0].1
    }

    /// The accumulators of every chunk folded in chunk order onto `total`,
    /// decoded one at a time.
    ///
    /// # Errors
    /// [`Error::Usage`] naming the part whose accumulator does not decode.
    pub fn fold(&self, mut total: Accumulator) -> Result<Accumulator> {
        for (path, m) in &self.parts {
            let bad = |why: String| Error::Usage(format!("{}: not a nines part file ({why})", path.display()));
            for (i, c) in (0u64..).zip(&m.chunks) {
                let acc: Accumulator = postcard::from_bytes(&c.acc).map_err(|e| bad(e.to_string()))?;
                // Each chunk must hold exactly its own slice of the trials:
                // a chunk given twice, or one of another run, does not.
                let lo = ((m.first / m.chunk + i) * m.chunk).max(m.first);
                let hi = ((m.first / m.chunk + i + 1) * m.chunk).min(m.end);
                if acc.trials() != hi.saturating_sub(lo) {
                    return Err(bad(format!(
                        "its chunk {i} holds {} trials where trials {lo}..{hi} are {}",
                        acc.trials(),
                        hi.saturating_sub(lo)
                    )));
                }
                total.merge(&acc);
            }
        }
        Ok(total)
    }

    /// Every part's timeline rows replayed in trial order: the
    /// [`TimelineAcc`] a whole run of `world` builds.
    ///
    /// # Errors
    /// [`Error::Usage`] naming the part whose rows do not decode or are not
    /// shaped for `world` (which would otherwise index out of bounds).
    pub fn timeline(&self, world: &World) -> Result<TimelineAcc> {
        let mut acc = TimelineAcc::default();
        let shape = (
            TIMELINE_BUCKETS,
            world.services.len() * TIMELINE_BUCKETS,
            world.edges.len() * TIMELINE_BUCKETS,
        );
        for (path, m) in &self.parts {
            let bad = |why: String| Error::Usage(format!("{}: not a nines part file ({why})", path.display()));
            for c in &m.chunks {
                let rows: Vec<TimelineRows> = postcard::from_bytes(&c.timeline).map_err(|e| bad(e.to_string()))?;
                for r in &rows {
                    if (r.entry.len(), r.services.len(), r.edges.len()) != shape
                        || !(r.replicas.is_empty() || r.replicas.len() == shape.1)
                    {
                        return Err(bad("its timeline rows do not fit the scenario".into()));
                    }
                    acc.push_rows(r);
                }
            }
        }
        Ok(acc)
    }

    /// Writes the joined `trials.csv` to `out`: the header once, then each
    /// part's rows in shard order.
    ///
    /// # Errors
    /// [`Error::Read`] or [`Error::Write`] on an I/O failure.
    pub fn write_csv(&self, out: &mut impl Write, out_path: &Path) -> Result<()> {
        let werr = |source| Error::Write {
            path: out_path.to_path_buf(),
            source,
        };
        for (i, (path, m)) in self.parts.iter().enumerate() {
            let rerr = |source| Error::Read {
                path: path.clone(),
                source,
            };
            let mut f = File::open(path).map_err(rerr)?;
            let skip = if i == 0 { 0 } else { m.header_len };
            f.seek(SeekFrom::Start(skip)).map_err(rerr)?;
            let mut rows = f.take(m.csv_len - skip);
            std::io::copy(&mut rows, out).map_err(werr)?;
        }
        Ok(())
    }
}

fn check_same(a_path: &Path, a: &Meta, b_path: &Path, b: &Meta) -> Result<()> {
    let differ = |what: &str, x: String, y: String| {
        Err(Error::Usage(format!(
            "{} and {} are not parts of one run: {what} differs ({x} vs {y})",
            a_path.display(),
            b_path.display()
        )))
    };
    if a.version != b.version {
        return differ("nines version", a.version.clone(), b.version.clone());
    }
    if a.text != b.text || a.overrides != b.overrides || a.stem != b.stem {
        return differ("scenario", a.path.clone(), b.path.clone());
    }
    if a.seed != b.seed {
        return differ("seed", a.seed.to_string(), b.seed.to_string());
    }
    if a.trials != b.trials {
        return differ("trial count", a.trials.to_string(), b.trials.to_string());
    }
    if a.count != b.count {
        return differ("shard count", a.count.to_string(), b.count.to_string());
    }
    if a.slo.map(f64::to_bits) != b.slo.map(f64::to_bits) {
        return differ("--slo", format!("{:?}", a.slo), format!("{:?}", b.slo));
    }
    if a.chunk != b.chunk {
        return differ("chunk size", a.chunk.to_string(), b.chunk.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_every_trial_once_on_chunk_boundaries() {
        for trials in [1, 63, 64, 65, 1000, 4097] {
            for chunk in [1, 64] {
                for count in [1, 2, 3, 7, 100] {
                    let mut next = 0;
                    for index in 0..count {
                        let r = Shard { index, count }.slice(trials, chunk);
                        assert_eq!(r.start, next, "trials {trials} chunk {chunk} {index}/{count}");
                        assert!(r.start.is_multiple_of(chunk) || r.start == trials);
                        next = r.end;
                    }
                    assert_eq!(next, trials);
                }
            }
        }
    }

    /// Decoded accumulators fold into exactly the summary of the originals,
    /// histograms and request figures included.
    #[test]
    fn accumulators_round_trip_bit_for_bit() {
        let text = r#"
            horizon = "10m"
            [[workload]]
            name = "users"
            to = "api"
            rate = 50
            timeout = "200ms"
            retry = { max_attempts = 2 }
            [[service]]
            name = "api"
            replicas = 2
            topology = "active-active"
            concurrency = 4
            service_time = { mean = "20ms" }
            error_rate = 0.02
            failure = { mean = "2m" }
            repair = { mean = "20s" }
        "#;
        let sc = scenario::parse("t.toml", "t", text, &[]).unwrap();
        let world = crate::model::World::compile(&sc);
        let mut chunks = Vec::new();
        let progress = super::super::Progress::hidden();
        super::super::run_chunks(
            &world,
            3,
            0..6,
            Some(2),
            &progress,
            |_, _| Ok(()),
            |a| {
                chunks.push(a);
                Ok(())
            },
        )
        .unwrap();
        let mut direct = super::super::accumulator(&world);
        let mut decoded = super::super::accumulator(&world);
        for c in &chunks {
            direct.merge(c);
            let bytes = encode(c, &[], Path::new("p")).unwrap().acc;
            decoded.merge(&postcard::from_bytes(&bytes).unwrap());
        }
        let a = crate::summarise(&sc, &world, &direct, 3, Some(0.9));
        let b = crate::summarise(&sc, &world, &decoded, 3, Some(0.9));
        assert!(a.requests.as_ref().is_some_and(|r| r.total > 0));
        assert_eq!(a, b);
        assert_eq!(a.latency_cdf, b.latency_cdf);
        assert_eq!(a.downtime_cdf, b.downtime_cdf);
    }

    #[test]
    fn shard_flag_parses_and_rejects() {
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1/0", "x/2", "3", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
