//! `metrics.csv`: the per-trial figures of `trials.csv` in long ("tidy")
//! form, one value per row: `trial,subject,metric,value`.
//!
//! Notebooks filter and pivot long data without knowing the scenario's
//! column names (`df[df.metric == "availability"]` gives every service
//! and region at once). It is made by reading the finished `trials.csv`
//! back rather than beside it trial by trial, so the two always hold the
//! same values byte for byte, `nines merge` gets it with no second path,
//! and the simulation's hot loop writes one file, not two. Subjects and
//! metrics are [`super::csv::columns`]; an empty value in `trials.csv`
//! (no request during a fault) stays empty here.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write as _};
use std::path::Path;

use super::csv::columns;
use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// The header of `metrics.csv`.
pub const HEADER: [&str; 4] = ["trial", "subject", "metric", "value"];

/// Reads `trials` (the temporary file of `trials.csv`, named `trials_name`
/// in errors) and writes its long form into `out` (for `out_path`).
///
/// # Errors
/// [`Error::Read`] when `trials` cannot be read or its header is not the
/// scenario's; [`Error::Write`] on an I/O failure writing `out`.
pub fn write_long(trials: &Path, trials_name: &Path, scenario: &Scenario, out: File, out_path: &Path) -> Result<()> {
    let rerr = |source: io::Error| Error::Read {
        path: trials_name.to_path_buf(),
        source,
    };
    let werr = |source: io::Error| Error::Write {
        path: out_path.to_path_buf(),
        source,
    };
    let file = File::open(trials).map_err(rerr)?;
    let mut rows = csv::ReaderBuilder::new().from_reader(BufReader::new(file));
    let cols = columns(scenario);
    let header = rows.byte_headers().map_err(|e| rerr(e.into()))?;
    let expected = std::iter::once("trial".to_string()).chain(cols.iter().map(|c| c.header()));
    if !header
        .iter()
        .eq(expected.collect::<Vec<_>>().iter().map(|h| h.as_bytes()))
    {
        return Err(rerr(io::Error::new(
            io::ErrorKind::InvalidData,
            "its header is not this scenario's columns",
        )));
    }
    let mut w = csv::Writer::from_writer(BufWriter::new(out));
    w.write_record(HEADER).map_err(|e| werr(e.into()))?;
    let mut row = csv::ByteRecord::new();
    let mut long = csv::ByteRecord::new();
    while rows.read_byte_record(&mut row).map_err(|e| rerr(e.into()))? {
        for (col, value) in cols.iter().zip(row.iter().skip(1)) {
            long.clear();
            long.push_field(&row[0]);
            long.push_field(col.subject.as_bytes());
            long.push_field(col.metric.as_bytes());
            long.push_field(value);
            w.write_byte_record(&long).map_err(|e| werr(e.into()))?;
        }
    }
    let mut inner = w.into_inner().map_err(|e| werr(e.into_error()))?;
    inner.flush().map_err(werr)
}
