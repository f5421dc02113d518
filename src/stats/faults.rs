//! What injected faults did, across trials: per fault, how often it
//! happened, what share of the entry's requests succeeded while it was
//! active, which services it affected (blast radius), how soon a defence
//! reacted, and whether and how fast the system recovered after it ended.
//!
//! Totals are sums and Welford accumulators, so merging chunks in order
//! gives the same figures for any thread count. Occurrence-level shares
//! (blast radius, detected, recovered) pool the occurrences of all trials;
//! their intervals are Wilson score intervals over those occurrences.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::estimate::Estimate;
use super::welford::Welford;
use crate::model::fault::FaultResult;

/// One fault's totals across trials.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct FaultTotals {
    occurrences: u64,
    active_s: f64,
    affected: Vec<u64>,
    detected: u64,
    detect_s: f64,
    judged: u64,
    recovered: u64,
    recover_s: f64,
    recover_max_s: f64,
    /// Per trial with requests during the fault: their success ratio.
    success_during: Welford,
}

impl FaultTotals {
    /// Adds one trial.
    pub fn push(&mut self, r: &FaultResult) {
        self.occurrences += u64::from(r.occurrences);
        self.active_s += r.active_s;
        self.affected.resize(r.affected.len().max(self.affected.len()), 0);
        for (a, &b) in self.affected.iter_mut().zip(&r.affected) {
            *a += u64::from(b);
        }
        self.detected += u64::from(r.detected);
        self.detect_s += r.detect_s;
        self.judged += u64::from(r.judged);
        self.recovered += u64::from(r.recovered);
        self.recover_s += r.recover_s;
        self.recover_max_s = self.recover_max_s.max(r.recover_max_s);
        if r.requests > 0 {
            self.success_during.push(r.success as f64 / r.requests as f64);
        }
    }

    /// Absorbs totals of later trials.
    pub fn merge(&mut self, o: &Self) {
        self.occurrences += o.occurrences;
        self.active_s += o.active_s;
        self.affected.resize(o.affected.len().max(self.affected.len()), 0);
        for (a, &b) in self.affected.iter_mut().zip(&o.affected) {
            *a += b;
        }
        self.detected += o.detected;
        self.detect_s += o.detect_s;
        self.judged += o.judged;
        self.recovered += o.recovered;
        self.recover_s += o.recover_s;
        self.recover_max_s = self.recover_max_s.max(o.recover_max_s);
        self.success_during.merge(&o.success_during);
    }
}

/// Adds one trial's faults to `totals` (sized on first use).
pub fn push_all(totals: &mut Vec<FaultTotals>, results: &[FaultResult]) {
    if totals.len() < results.len() {
        totals.resize_with(results.len(), FaultTotals::default);
    }
    for (t, r) in totals.iter_mut().zip(results) {
        t.push(r);
    }
}

/// Absorbs `other`'s totals, which come from later trials.
pub fn merge_all(totals: &mut Vec<FaultTotals>, other: &[FaultTotals]) {
    if totals.len() < other.len() {
        totals.resize_with(other.len(), FaultTotals::default);
    }
    for (t, o) in totals.iter_mut().zip(other) {
        t.merge(o);
    }
}

/// A share with its 95 % interval.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Share {
    /// The share.
    pub mean: f64,
    /// 95 % Wilson interval.
    pub ci95: [f64; 2],
    /// Occurrences it is a share of.
    pub of: u64,
}

/// `faults.NAME` in summary.json.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultSummary {
    /// crash, hang, latency, errors, partition or capacity.
    pub kind: String,
    /// What it hit, as written.
    pub target: String,
    /// Occurrences per trial.
    pub occurrences_per_trial: f64,
    /// Time active per trial (seconds).
    pub active_s_per_trial: f64,
    /// Entry requests' full-success ratio while the fault was active
    /// (trials with requests then); `null` without any.
    pub success_ratio_during: Option<Estimate>,
    /// Per service: share of occurrences during which its callers' success
    /// ratio fell below `cascade.threshold` (request level).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub blast_radius: IndexMap<String, f64>,
    /// Share of occurrences a defence reacted to (health check, breaker,
    /// failover, rerouting); request level.
    pub detected: Option<Share>,
    /// Mean time from the fault's start to the first reaction (seconds).
    pub time_to_detect_s: Option<f64>,
    /// Share of occurrences (that ended in time to be judged) after which
    /// every service recovered before the horizon; request level.
    pub recovered: Option<Share>,
    /// Share that never recovered: metastable failures.
    pub metastable: Option<f64>,
    /// Mean time from the fault's end to recovery (seconds).
    pub time_to_recover_s: Option<f64>,
    /// Longest time to recover (seconds).
    pub time_to_recover_max_s: Option<f64>,
}

/// Names a fault summary needs.
pub struct FaultLabel<'a> {
    /// Fault name.
    pub name: &'a str,
    /// Kind word.
    pub kind: &'a str,
    /// Target as written.
    pub target: &'a str,
}

/// The `faults` section of summary.json.
pub fn summarize(
    totals: &[FaultTotals],
    labels: &[FaultLabel<'_>],
    services: &[&str],
    trials: u64,
    requests: bool,
) -> IndexMap<String, FaultSummary> {
    let mut out = IndexMap::new();
    let n = trials.max(1) as f64;
    let empty = FaultTotals::default();
    for (i, l) in labels.iter().enumerate() {
        let t = totals.get(i).unwrap_or(&empty);
        let occ = t.occurrences;
        let share = |k: u64, of: u64| {
            (requests && of > 0).then(|| Share {
                mean: k as f64 / of as f64,
                ci95: wilson(k, of),
                of,
            })
        };
        let blast_radius = if requests && occ > 0 {
            services
                .iter()
                .enumerate()
                .map(|(s, name)| {
                    let k = t.affected.get(s).copied().unwrap_or(0);
                    ((*name).to_string(), k as f64 / occ as f64)
                })
                .collect()
        } else {
            IndexMap::new()
        };
        let during = &t.success_during;
        out.insert(
            l.name.to_string(),
            FaultSummary {
                kind: l.kind.to_string(),
                target: l.target.to_string(),
                occurrences_per_trial: occ as f64 / n,
                active_s_per_trial: t.active_s / n,
                success_ratio_during: (during.count() > 0).then(|| Estimate::of(during)),
                blast_radius,
                detected: share(t.detected, occ),
                time_to_detect_s: (t.detected > 0).then(|| t.detect_s / t.detected as f64),
                recovered: share(t.recovered, t.judged),
                metastable: (requests && t.judged > 0).then(|| (t.judged - t.recovered) as f64 / t.judged as f64),
                time_to_recover_s: (t.recovered > 0).then(|| t.recover_s / t.recovered as f64),
                time_to_recover_max_s: (t.recovered > 0).then_some(t.recover_max_s),
            },
        );
    }
    out
}

/// The 95 % Wilson score interval of `k` successes in `n` trials.
pub fn wilson(k: u64, n: u64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let z = 1.959_963_984_540_054_f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    // At the ends the bound is exact (rounding would leave a speck).
    let lo = if k == 0.0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if k == n { 1.0 } else { (centre + half).min(1.0) };
    [lo, hi]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_a_known_value() {
        // 8 of 10: Wilson 95 % is [0.4902, 0.9433].
        let [lo, hi] = wilson(8, 10);
        assert!((lo - 0.4902).abs() < 1e-3, "{lo}");
        assert!((hi - 0.9433).abs() < 1e-3, "{hi}");
        assert_eq!(wilson(0, 0), [0.0, 1.0]);
        let [lo, hi] = wilson(0, 50);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.0 && hi < 0.1);
    }

    #[test]
    fn merging_equals_pushing_in_order() {
        let r = |o: u32, rec: u32| FaultResult {
            occurrences: o,
            affected: vec![o, 0],
            judged: o,
            recovered: rec,
            recover_s: f64::from(rec),
            requests: 10,
            success: 7,
            ..FaultResult::default()
        };
        let (a, b, c) = (r(1, 1), r(2, 1), r(1, 0));
        let mut all = Vec::new();
        for x in [&a, &b, &c] {
            push_all(&mut all, std::slice::from_ref(x));
        }
        let (mut left, mut right) = (Vec::new(), Vec::new());
        push_all(&mut left, std::slice::from_ref(&a));
        push_all(&mut right, std::slice::from_ref(&b));
        push_all(&mut right, std::slice::from_ref(&c));
        merge_all(&mut left, &right);
        let labels = [FaultLabel {
            name: "f",
            kind: "crash",
            target: "db",
        }];
        let s1 = summarize(&all, &labels, &["api", "db"], 3, true);
        let s2 = summarize(&left, &labels, &["api", "db"], 3, true);
        assert_eq!(s1, s2);
        let f = &s1["f"];
        assert_eq!(f.recovered.as_ref().unwrap().of, 4);
        assert_eq!(f.metastable, Some(0.5));
        assert_eq!(f.blast_radius["api"], 1.0);
    }
}
