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

/// Streams trial rows to a file.
pub struct TrialWriter {
    out: csv::Writer<BufWriter<File>>,
    path: PathBuf,
    per_year: f64,
    row: Vec<String>,
}

impl TrialWriter {
    /// Creates `path` and writes the header.
    ///
    /// # Errors
    /// [`Error::Write`] when the file cannot be created.
    pub fn create(path: &Path, scenario: &Scenario) -> Result<Self> {
        let err = |e: std::io::Error| Error::Write {
            path: path.to_path_buf(),
            source: e,
        };
        let file = File::create(path).map_err(err)?;
        let mut w = Self {
            out: csv::Writer::from_writer(BufWriter::new(file)),
            path: path.to_path_buf(),
            per_year: time::to_secs(YEAR) / time::to_secs(scenario.horizon),
            row: Vec::new(),
        };
        let mut header: Vec<String> = [
            "trial",
            "availability",
            "downtime_s",
            "downtime_per_year_s",
            "incidents",
            "longest_outage_s",
            "events",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        header.extend(
            scenario
                .services
                .iter()
                .map(|s| format!("service.{}.availability", s.name)),
        );
        header.extend(
            scenario
                .regions
                .iter()
                .map(|r| format!("region.{}.availability", r.name)),
        );
        if !scenario.workloads.is_empty() {
            header.extend(
                [
                    "requests",
                    "success_ratio",
                    "degraded_ratio",
                    "failed_ratio",
                    "attempts_per_request",
                    "latency_mean_s",
                ]
                .map(String::from),
            );
        }
        for wf in &scenario.workflows {
            let p = format!("workflow.{}", wf.name);
            header.extend(
                [
                    "sagas",
                    "completed_ratio",
                    "compensated_ratio",
                    "stuck_ratio",
                    "completed_latency_mean_s",
                    "compensated_latency_mean_s",
                    "inconsistency_window_mean_s",
                ]
                .map(|k| format!("{p}.{k}")),
            );
            header.extend(wf.steps.iter().map(|s| format!("{p}.step.{}.failed", s.name)));
        }
        for f in &scenario.faults {
            header.push(format!("fault.{}.occurrences", f.name));
            if !scenario.workloads.is_empty() {
                for col in ["success_ratio_during", "recovered", "metastable"] {
                    header.push(format!("fault.{}.{col}", f.name));
                }
            }
        }
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
        self.row.clear();
        self.row.push(index.to_string());
        self.row.push(r.availability.to_string());
        self.row.push(r.downtime.to_string());
        self.row.push((r.downtime * self.per_year).to_string());
        self.row.push(r.incidents.to_string());
        self.row.push(r.longest_outage.to_string());
        self.row.push(r.events.to_string());
        self.row.extend(r.services.iter().map(f64::to_string));
        self.row.extend(r.regions.iter().map(f64::to_string));
        if let Some(t) = &r.traffic {
            let per = |x: f64| if t.requests == 0 { 0.0 } else { x / t.requests as f64 };
            self.row.push(t.requests.to_string());
            self.row.push(per(t.success as f64).to_string());
            self.row.push(per(t.degraded as f64).to_string());
            self.row.push(per(t.failed as f64).to_string());
            self.row
                .push((t.entry_attempts as f64 / t.entry_calls.max(1) as f64).to_string());
            self.row.push(per(t.latency_sum).to_string());
            for wf in &t.workflows {
                let n = wf.concluded();
                let per = |x: f64, n: u64| if n == 0 { 0.0 } else { x / n as f64 };
                self.row.push(n.to_string());
                self.row.push(per(wf.completed as f64, n).to_string());
                self.row.push(per(wf.compensated as f64, n).to_string());
                self.row.push(per(wf.stuck as f64, n).to_string());
                self.row.push(per(wf.completed_latency_s, wf.completed).to_string());
                self.row.push(per(wf.compensated_latency_s, wf.compensated).to_string());
                self.row.push(per(wf.window_s, wf.windows).to_string());
                self.row.extend(wf.steps.iter().map(|s| s.failed.to_string()));
            }
        }
        for f in &r.faults {
            self.row.push(f.occurrences.to_string());
            if r.traffic.is_some() {
                self.row.push(if f.requests == 0 {
                    String::new()
                } else {
                    (f.success as f64 / f.requests as f64).to_string()
                });
                self.row.push(f.recovered.to_string());
                self.row.push((f.judged - f.recovered).to_string());
            }
        }
        let result = self.out.write_record(&self.row);
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
