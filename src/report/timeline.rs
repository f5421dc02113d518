//! `timeline.csv`: the horizon cut into [`TIMELINE_BUCKETS`] equal
//! buckets, each summarised across all trials, so a retry storm or a
//! fault's aftermath shows as a curve rather than an average.
//!
//! Columns: `bucket,start_s,end_s`, then for the entry requests
//! `requests` concluded (mean per trial), `success_ratio`, `degraded_ratio`
//! and `attempts_per_request` (attempts sent in the bucket over requests
//! concluded in it; all pooled over trials: sums divided by sums); per
//! service `service.NAME.concluded` (jobs that ended, mean per trial),
//! `service.NAME.success_ratio` (the share of them that succeeded, pooled)
//! and `service.NAME.queued` (mean queue length at the bucket's end); per edge `edge.FROM->TO.calls`
//! (mean per trial), `edge.FROM->TO.attempts_per_call` (pooled) and
//! `edge.FROM->TO.breaker_open` (share of the bucket the breaker was open,
//! mean across trials). A ratio with nothing to divide is left empty.
//! Last, only for a scenario with autoscaling, per autoscaled service
//! `service.NAME.replicas`: its replicas serving (slots in the autoscaler's
//! Serving state, summed over its groups), time-averaged over the bucket,
//! mean across trials; every other scenario's file keeps its columns.
//!
//! Memory is one row of sums per bucket whatever the trial count; sums are
//! taken in trial order, so the file is identical for any thread count.
//! The sums are of `f32` cells and regrouping them would change their last
//! bits, so a sharded run does not add up per-shard sums: each part keeps
//! its trials' [`TimelineRows`](crate::stats::timeline::TimelineRows) and `nines merge` replays them, in trial
//! order, into one [`TimelineAcc`] (see [`crate::montecarlo::shard`]).

use std::fmt::Write as _;

use crate::model::traffic::TIMELINE_BUCKETS;
use crate::scenario::Scenario;
use crate::stats::timeline::TimelineAcc;

impl TimelineAcc {
    /// The CSV text; `None` when no trial had requests.
    pub fn csv(&self, sc: &Scenario) -> Option<String> {
        if self.trials == 0 {
            return None;
        }
        // Edges in world order: workloads first, then each service's calls.
        let mut edge_names: Vec<String> = sc
            .workloads
            .iter()
            .map(|w| format!("{}->{}", w.name, sc.services[w.to].name))
            .collect();
        for s in &sc.services {
            edge_names.extend(
                s.calls
                    .iter()
                    .map(|c| format!("{}->{}", s.name, sc.services[c.to].name)),
            );
        }
        let n = self.trials as f64;
        let horizon = sc.horizon as f64 / 1e9;
        let width = horizon / TIMELINE_BUCKETS as f64;
        let ratio = |a: f64, b: f64| if b > 0.0 { (a / b).to_string() } else { String::new() };
        let mut out = String::from("bucket,start_s,end_s,requests,success_ratio,degraded_ratio,attempts_per_request");
        // Names may hold commas, quotes or line breaks: each column is a
        // CSV field of its own.
        let mut column = |name: String| {
            out.push(',');
            out.push_str(&crate::report::escape::csv_field(&name));
        };
        for s in &sc.services {
            for col in ["concluded", "success_ratio", "queued"] {
                column(format!("service.{}.{col}", s.name));
            }
        }
        for e in &edge_names {
            for col in ["calls", "attempts_per_call", "breaker_open"] {
                column(format!("edge.{e}.{col}"));
            }
        }
        // Autoscaled services, when the trials measured any.
        let scaled: Vec<usize> = if self.replicas.is_empty() {
            Vec::new()
        } else {
            (0..sc.services.len())
                .filter(|&s| sc.services[s].defence.autoscale.is_some())
                .collect()
        };
        for &s in &scaled {
            column(format!("service.{}.replicas", sc.services[s].name));
        }
        out.push('\n');
        for b in 0..TIMELINE_BUCKETS {
            let start = width * b as f64;
            let end = width * (b + 1) as f64;
            let [req, ok, degraded, attempts] = self.entry[b];
            let _ = write!(
                out,
                "{b},{start},{end},{},{},{},{}",
                req / n,
                ratio(ok, req),
                ratio(degraded, req),
                ratio(attempts, req)
            );
            for s in 0..sc.services.len() {
                let [done, succeeded, queued] = self.services[s * TIMELINE_BUCKETS + b];
                let _ = write!(out, ",{},{},{}", done / n, ratio(succeeded, done), queued / n);
            }
            for e in 0..edge_names.len() {
                let [calls, attempts, open] = self.edges[e * TIMELINE_BUCKETS + b];
                let _ = write!(
                    out,
                    ",{},{},{}",
                    calls / n,
                    ratio(attempts, calls),
                    open / n / (end - start)
                );
            }
            for &s in &scaled {
                let _ = write!(out, ",{}", self.replicas[s * TIMELINE_BUCKETS + b] / n / (end - start));
            }
            out.push('\n');
        }
        Some(out)
    }
}
