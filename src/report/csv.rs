//! `trials.csv`: one row per trial, in trial order.
//!
//! Columns: `trial`, `availability` (entry, time-based), `downtime_s`,
//! `downtime_per_year_s`, `incidents`, `longest_outage_s`, `events`, then
//! `service.NAME.availability` for each service and
//! `region.NAME.availability` for each region, in scenario order. With
//! workloads, then: `requests`, `success_ratio`, `degraded_ratio`,
//! `failed_ratio`, `attempts_per_request`, `latency_mean_s`. Then, per
//! workflow: `workflow.NAME.sagas` (ended), `.completed_ratio`,
//! `.compensated_ratio`, `.stuck_ratio`, `.completed_latency_mean_s`,
//! `.compensated_latency_mean_s`, `.inconsistency_window_mean_s`, and
//! `workflow.NAME.step.STEP.failed` per step. Then per injected fault:
//! `fault.NAME.occurrences`, and with workloads
//! `fault.NAME.success_ratio_during` (empty when no request concluded
//! during it), `fault.NAME.recovered` and `fault.NAME.metastable`
//! (occurrences that did and did not recover before the horizon).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::engine::time::{self, YEAR};
use crate::error::{Error, Result};
use crate::model::TrialResult;
use crate::scenario::Scenario;

/// One column of `trials.csv` after `trial`: what it measures (`subject`:
/// `entry`, `service.NAME`, `region.NAME`, `workflow.NAME`,
/// `workflow.NAME.step.STEP` or `fault.NAME`) and which figure (`metric`).
/// `metrics.csv` holds the same values in long form, one per row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// What the value is about.
    pub subject: String,
    /// Which figure of it.
    pub metric: String,
}

impl Column {
    fn new(subject: impl Into<String>, metric: &str) -> Self {
        Self {
            subject: subject.into(),
            metric: metric.to_string(),
        }
    }

    /// Its name in `trials.csv`: the metric alone for the entry,
    /// `SUBJECT.METRIC` otherwise.
    pub fn header(&self) -> String {
        if self.subject == ENTRY {
            self.metric.clone()
        } else {
            format!("{}.{}", self.subject, self.metric)
        }
    }
}

/// The subject of the entry point's figures.
pub const ENTRY: &str = "entry";

/// The columns of `trials.csv` after `trial`, in order, for `scenario`.
pub fn columns(scenario: &Scenario) -> Vec<Column> {
    let mut cols: Vec<Column> = [
        "availability",
        "downtime_s",
        "downtime_per_year_s",
        "incidents",
        "longest_outage_s",
        "events",
    ]
    .iter()
    .map(|m| Column::new(ENTRY, m))
    .collect();
    cols.extend(
        scenario
            .services
            .iter()
            .map(|s| Column::new(format!("service.{}", s.name), "availability")),
    );
    cols.extend(
        scenario
            .regions
            .iter()
            .map(|r| Column::new(format!("region.{}", r.name), "availability")),
    );
    if !scenario.workloads.is_empty() {
        cols.extend(
            [
                "requests",
                "success_ratio",
                "degraded_ratio",
                "failed_ratio",
                "attempts_per_request",
                "latency_mean_s",
            ]
            .iter()
            .map(|m| Column::new(ENTRY, m)),
        );
    }
    for wf in &scenario.workflows {
        let p = format!("workflow.{}", wf.name);
        cols.extend(
            [
                "sagas",
                "completed_ratio",
                "compensated_ratio",
                "stuck_ratio",
                "completed_latency_mean_s",
                "compensated_latency_mean_s",
                "inconsistency_window_mean_s",
            ]
            .iter()
            .map(|m| Column::new(p.clone(), m)),
        );
        cols.extend(
            wf.steps
                .iter()
                .map(|s| Column::new(format!("{p}.step.{}", s.name), "failed")),
        );
    }
    for f in &scenario.faults {
        let p = format!("fault.{}", f.name);
        cols.push(Column::new(p.clone(), "occurrences"));
        if !scenario.workloads.is_empty() {
            for m in ["success_ratio_during", "recovered", "metastable"] {
                cols.push(Column::new(p.clone(), m));
            }
        }
    }
    cols
}

/// Streams trial rows to a file.
pub struct TrialWriter {
    out: csv::Writer<BufWriter<File>>,
    path: PathBuf,
    per_year: f64,
    /// The row being built, kept between rows so its buffers are reused.
    row: csv::ByteRecord,
    /// Where one field is formatted before it joins the row.
    scratch: String,
}

/// A row under construction. Writing a field formats it into one reused
/// buffer: a `String` per field was most of the cost of a failure-only
/// trial's row, and the bytes are exactly `Display`'s either way.
struct Row {
    record: csv::ByteRecord,
    scratch: String,
}

impl Row {
    /// A whole number, by `itoa` (the same digits as `Display`, without
    /// the formatting machinery).
    fn int(&mut self, v: impl Into<u64>) {
        self.record.push_field(itoa::Buffer::new().format(v.into()).as_bytes());
    }

    /// `Display`'s shortest round-trip form. The two values nearly every
    /// failure-only row holds (an availability of exactly 1, a downtime of
    /// exactly 0) skip the float formatter; `Display` writes them as "1"
    /// and "0" too (but -0.0 as "-0", hence the test on the bits).
    fn float(&mut self, v: f64) {
        if v.to_bits() == 0 {
            self.record.push_field(b"0");
        } else if v == 1.0 {
            self.record.push_field(b"1");
        } else {
            self.display(v);
        }
    }

    fn display(&mut self, v: impl std::fmt::Display) {
        use std::fmt::Write as _;
        self.scratch.clear();
        // Writing into a String cannot fail.
        let _ = write!(self.scratch, "{v}");
        self.record.push_field(self.scratch.as_bytes());
    }
}

impl TrialWriter {
    /// Writes the header into `file` (a [`super::files::TempFile`]'s
    /// handle; `path`, where it goes, names it in errors).
    ///
    /// # Errors
    /// [`Error::Write`] when the header cannot be written.
    pub fn new(file: File, path: &Path, scenario: &Scenario) -> Result<Self> {
        let mut w = Self {
            out: csv::Writer::from_writer(BufWriter::new(file)),
            path: path.to_path_buf(),
            per_year: time::to_secs(YEAR) / time::to_secs(scenario.horizon),
            row: csv::ByteRecord::new(),
            scratch: String::new(),
        };
        let header: Vec<String> = std::iter::once("trial".to_string())
            .chain(columns(scenario).iter().map(Column::header))
            .collect();
        w.out.write_record(&header).map_err(|e| w.error(e))?;
        Ok(w)
    }

    fn error(&self, e: csv::Error) -> Error {
        Error::Write {
            path: self.path.clone(),
            source: e.into(),
        }
    }

    /// Writes trial `index`.
    ///
    /// # Errors
    /// [`Error::Write`] on an I/O failure.
    pub fn write(&mut self, index: u64, r: &TrialResult) -> Result<()> {
        let mut row = Row {
            record: std::mem::take(&mut self.row),
            scratch: std::mem::take(&mut self.scratch),
        };
        row.record.clear();
        row.int(index);
        row.float(r.availability);
        row.float(r.downtime);
        row.float(r.downtime * self.per_year);
        row.int(r.incidents);
        row.float(r.longest_outage);
        row.int(r.events);
        for &a in r.services.iter().chain(&r.regions) {
            row.float(a);
        }
        if let Some(t) = &r.traffic {
            let per = |x: f64| if t.requests == 0 { 0.0 } else { x / t.requests as f64 };
            row.int(t.requests);
            row.float(per(t.success as f64));
            row.float(per(t.degraded as f64));
            row.float(per(t.failed as f64));
            row.float(t.entry_attempts as f64 / t.entry_calls.max(1) as f64);
            row.float(per(t.latency_sum));
            for wf in &t.workflows {
                let n = wf.concluded();
                let per = |x: f64, n: u64| if n == 0 { 0.0 } else { x / n as f64 };
                row.int(n);
                row.float(per(wf.completed as f64, n));
                row.float(per(wf.compensated as f64, n));
                row.float(per(wf.stuck as f64, n));
                row.float(per(wf.completed_latency_s, wf.completed));
                row.float(per(wf.compensated_latency_s, wf.compensated));
                row.float(per(wf.window_s, wf.windows));
                for step in &wf.steps {
                    row.int(step.failed);
                }
            }
        }
        for f in &r.faults {
            row.int(f.occurrences);
            if r.traffic.is_some() {
                if f.requests == 0 {
                    row.record.push_field(b"");
                } else {
                    row.float(f.success as f64 / f.requests as f64);
                }
                row.int(f.recovered);
                row.int(f.judged - f.recovered);
            }
        }
        let result = self.out.write_byte_record(&row.record);
        (self.row, self.scratch) = (row.record, row.scratch);
        result.map_err(|e| self.error(e))
    }

    /// Flushes the file.
    ///
    /// # Errors
    /// [`Error::Write`] on an I/O failure.
    pub fn finish(mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::Write {
            path: self.path.clone(),
            source: e,
        })
    }
}
