//! `nines trace FILE --trial K`: one trial's story, to learn why a design
//! failed.
//!
//! Writes, into the output folder (default `output/<stem>/trace-K/`):
//! - `events.csv`: `t_s,event,subject`, every state change in time order
//!   (faults, replicas and regions down and up, health-check verdicts,
//!   promotions, traffic moving between regions, breaker transitions) and,
//!   derived from the buckets, `degraded`/`recovered` when a service's
//!   callers' success ratio crosses `cascade.threshold` and
//!   `bulkhead_saturated`/`bulkhead_clear` when an edge's bulkhead starts and
//!   stops rejecting, each dated at the end of the bucket that shows it (so
//!   it never precedes its cause). Breaker transitions are dated at the
//!   instant: open on the result that trips it, half-open `open_for` later,
//!   closed on the trial success that closes it;
//! - `buckets.csv` (request-level scenarios): one row per `cascade.bucket`
//!   with, per service, the attempts its callers made, their success ratio,
//!   queued and busy jobs and serving replicas at the bucket's end, and per
//!   edge the calls, attempts, retries, timeouts, errors, breaker and
//!   bulkhead rejections in the bucket and the breaker's state;
//! - `trace.jsonl`: the same events and buckets as JSON Lines, merged in
//!   time order (`"type": "event"` or `"bucket"`);
//! - `sagas.csv` (scenarios with workflows): `t_s,saga,transition`, every
//!   saga's state changes (started, step succeeded or failed, compensation
//!   started, succeeded or gave up, ended completed, compensated or stuck).
//!
//! The folder is held alone while the trace is written, and the files are
//! published together, `trace.jsonl` last ([`super::output_guard`]).
//!
//! Trial K is the same trial K as in `nines run` with the same seed: its
//! randomness depends only on (seed, K), never on the trial count.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::json;

use super::TraceArgs;
use crate::error::{Error, Result};
use crate::format;
use crate::model::trace::{Subject, Trace};
use crate::model::{Trial, World};
use crate::report;
use crate::resilience::circuit_breaker::BreakerState;
use crate::scenario::{self, Scenario};

/// Most buckets a trace may hold.
const MAX_BUCKETS: u64 = 1_000_000;
/// Most rows a trace may hold over all its buckets: one per service and one
/// per edge in each bucket (each row is held in memory and written twice,
/// to `buckets.csv` and `trace.jsonl`).
const MAX_BUCKET_ROWS: u64 = 5_000_000;

/// Runs `nines trace`.
///
/// # Errors
/// Bad input (exit 2) or an output that cannot be written (exit 1).
pub fn trace(args: &TraceArgs) -> Result<()> {
    let sc = super::conventions::load(&args.file, &args.set)?;
    let seed = args.seed.unwrap_or(sc.seed);
    let world = World::compile(&sc);
    if world.has_traffic() {
        let buckets = sc.horizon / sc.cascade.bucket.max(1);
        // Rows of each bucket: one per service and one per edge.
        let per_bucket = (world.services.len() + world.edges.len()).max(1) as u64;
        let rows = buckets.saturating_mul(per_bucket);
        if buckets > MAX_BUCKETS || rows > MAX_BUCKET_ROWS {
            let fewest = (MAX_BUCKET_ROWS / per_bucket).clamp(1, MAX_BUCKETS);
            return Err(Error::Usage(format!(
                "a trace of this scenario would hold {buckets} buckets of {} with {per_bucket} rows each \
                 (services and calls), {rows} rows in all, more than the {MAX_BUCKET_ROWS} a trace may hold; \
                 use a coarser bucket, like --set cascade.bucket={}s",
                scenario::duration::Duration(sc.cascade.bucket),
                (sc.horizon / fewest).div_ceil(1_000_000_000).max(1),
            )));
        }
    }
    let dir = match &args.out {
        Some(d) => d.clone(),
        None => PathBuf::from("output")
            .join(super::stem(&args.file))
            .join(format!("trace-{}", args.trial)),
    };
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let mut guard = super::output_guard::hold(&dir)?;
    let mut staged = guard.staging();
    let mut trial = Trial::new(&world);
    trial.record_sagas(!world.workflows.is_empty());
    let (result, trace) = trial
        .run_traced(seed, args.trial)
        .map_err(|r| Error::Runaway(Box::new(r)))?;
    let names = Names::new(&sc, &world);
    let events = events(&sc, &world, &trace, &names);

    let mut csv = String::from("t_s,event,subject\n");
    for e in &events {
        let _ = writeln!(csv, "{},{},{}", secs(e.0), e.1, quote(&e.2));
    }
    let mut written = vec![staged.write("events.csv", csv.as_bytes())?];

    let mut lines = String::new();
    let mut bucket_rows = trace.buckets.iter().peekable();
    for e in &events {
        while let Some(b) = bucket_rows.next_if(|b| b.end <= e.0) {
            lines.push_str(&bucket_json(b, &names));
            lines.push('\n');
        }
        let line = json!({"type": "event", "t_s": e.0 as f64 / 1e9, "event": e.1, "subject": e.2});
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    for b in bucket_rows {
        lines.push_str(&bucket_json(b, &names));
        lines.push('\n');
    }
    if world.has_traffic() {
        written.push(staged.write("buckets.csv", buckets_csv(&trace, &names).as_bytes())?);
    }
    if let Some(t) = result.traffic.as_ref().filter(|t| !t.saga_log.is_empty()) {
        let mut text = String::from("t_s,saga,transition\n");
        for e in &t.saga_log {
            let _ = writeln!(text, "{},{},{}", secs(e.at), e.saga, quote(&e.describe(&world)));
        }
        written.push(staged.write("sagas.csv", text.as_bytes())?);
    }
    written.push(staged.write("trace.jsonl", lines.as_bytes())?);
    guard.publish(staged, "trace.jsonl")?;

    let mut out = String::new();
    let _ = writeln!(out, "nines trace · {} · trial {} · seed {}", sc.name, args.trial, seed);
    let _ = writeln!(
        out,
        "  availability {:.6} · downtime {} · {} incidents",
        result.availability,
        format::human_duration(result.downtime),
        result.incidents
    );
    if let Some(t) = &result.traffic {
        let ratio = if t.requests == 0 {
            0.0
        } else {
            t.success as f64 / t.requests as f64
        };
        let _ = writeln!(
            out,
            "  requests {} · success {:.3} % · failed {}",
            t.requests,
            ratio * 100.0,
            t.failed
        );
    }
    let _ = writeln!(out, "  {} events", events.len());
    const SHOWN: usize = 40;
    for e in events.iter().take(SHOWN) {
        let _ = writeln!(
            out,
            "  {:>14}  {:<20} {}",
            format::human_duration(e.0 as f64 / 1e9),
            e.1,
            e.2
        );
    }
    if events.len() > SHOWN {
        let _ = writeln!(out, "  … {} more in events.csv", events.len() - SHOWN);
    }
    report::print(&crate::report::escape::terminal(&out))?;
    if !args.quiet {
        eprintln!(
            "wrote {}",
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// Display names of everything a trace mentions.
struct Names {
    services: Vec<String>,
    replicas: Vec<String>,
    regions: Vec<String>,
    groups: Vec<String>,
    edges: Vec<String>,
    faults: Vec<String>,
}

impl Names {
    fn new(sc: &Scenario, w: &World) -> Self {
        let mut seen = vec![0u32; w.services.len()];
        let replicas = w
            .replicas
            .iter()
            .map(|r| {
                let i = seen[r.service];
                seen[r.service] += 1;
                format!("{}[{i}]", sc.services[r.service].name)
            })
            .collect();
        let groups = w
            .groups
            .iter()
            .map(|g| match g.region {
                Some(r) => format!("{}@{}", sc.services[g.service].name, sc.regions[r].name),
                None => sc.services[g.service].name.clone(),
            })
            .collect();
        Self {
            services: sc.services.iter().map(|s| s.name.clone()).collect(),
            replicas,
            regions: sc.regions.iter().map(|r| r.name.clone()).collect(),
            groups,
            edges: w.edges.iter().map(|e| e.name.clone()).collect(),
            faults: sc.faults.iter().map(|f| f.name.clone()).collect(),
        }
    }

    fn subject(&self, s: Subject) -> String {
        match s {
            Subject::Fault(i) => self.faults[i].clone(),
            Subject::Replica(i) => self.replicas[i].clone(),
            Subject::Region(i) => self.regions[i].clone(),
            Subject::Group(i) => self.groups[i].clone(),
            Subject::Edge(i) => self.edges[i].clone(),
        }
    }
}

/// Recorded events plus those derived from buckets, in time order
/// (stable, so simultaneous events keep the order they happened in).
fn events(sc: &Scenario, w: &World, trace: &Trace, names: &Names) -> Vec<(u64, &'static str, String)> {
    let mut out: Vec<(u64, &'static str, String)> = trace
        .events
        .iter()
        .map(|e| (e.t, e.kind, names.subject(e.subject)))
        .collect();
    // A bucket's verdicts are dated at its end, when its figures are
    // complete: dated at its start, a service read as degraded before the
    // replica whose loss degraded it went down.
    let mut bad = vec![false; w.services.len()];
    let mut rejecting = vec![false; w.edges.len()];
    for b in &trace.buckets {
        for (s, sb) in b.services.iter().enumerate() {
            if sb.bad != bad[s] {
                bad[s] = sb.bad;
                let kind = if sb.bad { "degraded" } else { "recovered" };
                out.push((b.end, kind, names.services[s].clone()));
            }
        }
        for (e, eb) in b.edges.iter().enumerate() {
            let now = eb.counts.bulkhead_rejected > 0;
            if now != rejecting[e] {
                rejecting[e] = now;
                let kind = if now { "bulkhead_saturated" } else { "bulkhead_clear" };
                out.push((b.end, kind, names.edges[e].clone()));
            }
        }
    }
    let _ = sc;
    out.sort_by_key(|e| e.0);
    out
}

fn breaker_word(b: Option<BreakerState>) -> &'static str {
    match b {
        None => "",
        Some(BreakerState::Closed) => "closed",
        Some(BreakerState::Open) => "open",
        Some(BreakerState::HalfOpen) => "half-open",
    }
}

fn buckets_csv(trace: &Trace, names: &Names) -> String {
    let mut out = String::from("start_s,end_s");
    for s in &names.services {
        for col in ["attempts", "success_ratio", "queued", "busy", "up"] {
            let _ = write!(out, ",{}", quote(&format!("service.{s}.{col}")));
        }
    }
    for e in &names.edges {
        for col in [
            "calls",
            "attempts",
            "retries",
            "timeouts",
            "errors",
            "breaker_rejected",
            "bulkhead_rejected",
            "breaker",
        ] {
            let _ = write!(out, ",{}", quote(&format!("edge.{e}.{col}")));
        }
    }
    out.push('\n');
    for b in &trace.buckets {
        let _ = write!(out, "{},{}", secs(b.start), secs(b.end));
        for s in &b.services {
            let ratio = if s.attempts == 0 {
                String::new()
            } else {
                (f64::from(s.ok) / f64::from(s.attempts)).to_string()
            };
            let _ = write!(out, ",{},{ratio},{},{},{}", s.attempts, s.queued, s.busy, s.up);
        }
        for e in &b.edges {
            let c = &e.counts;
            let _ = write!(
                out,
                ",{},{},{},{},{},{},{},{}",
                c.calls,
                c.attempts,
                c.retries,
                c.timeouts,
                c.errors,
                c.breaker_rejected,
                c.bulkhead_rejected,
                breaker_word(e.breaker)
            );
        }
        out.push('\n');
    }
    out
}

fn bucket_json(b: &crate::model::trace::Bucket, names: &Names) -> String {
    let services: serde_json::Map<String, serde_json::Value> = b
        .services
        .iter()
        .zip(&names.services)
        .map(|(s, name)| {
            let ratio = (s.attempts > 0).then(|| f64::from(s.ok) / f64::from(s.attempts));
            (
                name.clone(),
                json!({"attempts": s.attempts, "success_ratio": ratio, "queued": s.queued, "busy": s.busy, "up": s.up}),
            )
        })
        .collect();
    let edges: serde_json::Map<String, serde_json::Value> = b
        .edges
        .iter()
        .zip(&names.edges)
        .map(|(e, name)| {
            let c = &e.counts;
            (
                name.clone(),
                json!({
                    "calls": c.calls, "attempts": c.attempts, "retries": c.retries,
                    "timeouts": c.timeouts, "errors": c.errors,
                    "breaker_rejected": c.breaker_rejected, "bulkhead_rejected": c.bulkhead_rejected,
                    "breaker": (e.breaker.is_some()).then(|| breaker_word(e.breaker)),
                }),
            )
        })
        .collect();
    json!({
        "type": "bucket",
        "start_s": b.start as f64 / 1e9,
        "end_s": b.end as f64 / 1e9,
        "services": services,
        "edges": edges,
    })
    .to_string()
}

/// Seconds with nanosecond precision, exactly.
fn secs(ns: u64) -> String {
    let (s, frac) = (ns / 1_000_000_000, ns % 1_000_000_000);
    if frac == 0 {
        s.to_string()
    } else {
        format!("{s}.{:09}", frac).trim_end_matches('0').to_string()
    }
}

fn quote(s: &str) -> String {
    crate::report::escape::csv_field(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{quote, secs};

    #[test]
    fn seconds_are_exact_and_short() {
        assert_eq!(secs(0), "0");
        assert_eq!(secs(1_500_000_000), "1.5");
        assert_eq!(secs(1), "0.000000001");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("a->b"), "a->b");
    }
}
