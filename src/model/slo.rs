//! SLO windows and burn-rate alerts, read off one trial's request series.
//!
//! The input is a [`RequestSeries`]: requests concluded and requests served
//! (full successes and degraded ones) per bucket of [`SloSpec::bucket`],
//! from the start of the trial. Full request-level simulation fills it as
//! requests conclude; any other source of the same counts (a sampler that
//! estimates them per bucket) can fill it too, with fractional counts, and
//! [`analyse`] reads it the same way. A trailing part of the horizon
//! shorter than one bucket is left out.
//!
//! # Definitions (`docs/slo-alerts.md` says them for users)
//! - Budget rate `e = 1 - target`. A window's **budget consumed** is its
//!   failed requests over `e` times its requests (1 = the whole budget; a
//!   window without requests consumed none and meets the objective). It
//!   **meets** the objective when served / requests >= target.
//! - Rolling windows end at every bucket boundary from one window in;
//!   calendar windows are back to back from the trial's start. Windows that
//!   would run past the horizon are not counted.
//! - A rule is evaluated at every bucket end `t`: it is **firing** when the
//!   burn rate (failed / requests / e) over `(t - long, t]` and over
//!   `(t - short, t]` both reach its `burn_rate`; windows reaching before
//!   the trial's start are cut at the start. An **alert** is a maximal run
//!   of evaluations at which it fires.
//! - A bucket is **hot** when its failed requests exceed `e` times its
//!   requests (the budget burns faster than it refills). An **incident**
//!   is a maximal run of hot buckets, runs less than the shortest short
//!   window apart merged, that consumed at least
//!   [`SloSpec::incident_budget`] of one SLO window's budget (the share the
//!   most sensitive rule is built to fire at). A window's budget is `e`
//!   times the trial's requests per SLO window on average.
//! - An incident is **detected** by the first evaluation at or after its
//!   start, and no later than its end plus the rule's long window, at which
//!   the rule fires; **detection time** is from its start to that
//!   evaluation. Otherwise it is **missed**. **Budget before the alert**:
//!   the incident's failed requests before that evaluation, as a share of
//!   the window's budget. **Reset time**: from the incident's end to the
//!   first evaluation at which that alert no longer fires (0 when it
//!   stopped before the end); not counted when it still fires at the
//!   horizon. A **false alert** is an alert that fires at no evaluation
//!   from an incident's start to its end plus the long window.

use hdrhistogram::Histogram;

use crate::engine::Nanos;
use crate::scenario::alerts::SloSpec;

/// Requests and served requests per bucket of one trial.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSeries {
    bucket: Nanos,
    /// Requests concluded per bucket.
    pub requests: Vec<f64>,
    /// Requests served per bucket.
    pub served: Vec<f64>,
}

impl RequestSeries {
    /// Zero counts over every whole bucket of `horizon`.
    pub fn new(bucket: Nanos, horizon: Nanos) -> Self {
        let n = usize::try_from(horizon / bucket.max(1)).unwrap_or(0);
        Self {
            bucket: bucket.max(1),
            requests: vec![0.0; n],
            served: vec![0.0; n],
        }
    }

    /// Back to zero counts.
    pub fn clear(&mut self) {
        self.requests.fill(0.0);
        self.served.fill(0.0);
    }

    /// Bucket width (ns).
    pub fn bucket(&self) -> Nanos {
        self.bucket
    }

    /// One request concluded at `t`.
    #[inline]
    pub fn record(&mut self, t: Nanos, served: bool) {
        let b = (t / self.bucket) as usize;
        if b < self.requests.len() {
            self.requests[b] += 1.0;
            if served {
                self.served[b] += 1.0;
            }
        }
    }
}

/// How one rule (or every rule together) scored in one trial.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertTrial {
    /// Incidents in the trial.
    pub incidents: u64,
    /// Those the rule detected.
    pub detected: u64,
    /// Each detected incident's detection time (seconds).
    pub detection_s: Vec<f64>,
    /// Sum over detected incidents of the budget spent before the alert.
    pub budget_before: f64,
    /// Resets measured, and their sum (seconds).
    pub resets: u64,
    /// Sum of the reset times (seconds).
    pub reset_s: f64,
    /// Alerts (runs of firing evaluations).
    pub alerts: u64,
    /// Alerts with no incident.
    pub false_alerts: u64,
}

/// What one trial's request series says about its SLO windows and alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct SloTrial {
    /// Windows judged.
    pub windows: u64,
    /// Windows that met the objective.
    pub met: u64,
    /// Sum of the budget consumed over the windows.
    pub budget_sum: f64,
    /// Budget consumed per window, in millionths.
    pub budgets: Histogram<u64>,
    /// The worst window: its availability and its end (seconds).
    pub worst: Option<(f64, f64)>,
    /// Per rule in file order, then (with two rules or more) every rule
    /// together: an incident is detected by the first rule that fires.
    pub alerts: Vec<AlertTrial>,
}

/// `1 - target` is not exact in binary (1 - 0.999 is 0.0010000000000000009),
/// so a burn rate of exactly the threshold could read a hair below it:
/// comparisons allow one part in 10^9.
const REACH: f64 = 1.0 - 1e-9;

/// Cumulative sums with a leading zero.
fn prefix(xs: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(xs.len() + 1);
    let mut acc = 0.0;
    out.push(0.0);
    for &x in xs {
        acc += x;
        out.push(acc);
    }
    out
}

/// An incident: buckets `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incident {
    /// First bucket.
    pub start: usize,
    /// One past the last bucket.
    pub end: usize,
}

/// Reads one trial's series.
pub fn analyse(series: &RequestSeries, spec: &SloSpec) -> SloTrial {
    let n = series.requests.len();
    let e = 1.0 - spec.target;
    let req = prefix(&series.requests);
    let ok = prefix(&series.served);
    let bad: Vec<f64> = req.iter().zip(&ok).map(|(r, s)| r - s).collect();
    let dt = series.bucket as f64 / 1e9;
    let mut out = SloTrial {
        windows: 0,
        met: 0,
        budget_sum: 0.0,
        budgets: Histogram::new(3).expect("3 significant digits is valid"),
        worst: None,
        alerts: Vec::new(),
    };
    if let Some(w) = spec.window {
        let k = (w.length / series.bucket) as usize;
        let step = if w.calendar { k } else { 1 };
        let mut j = k;
        while k > 0 && j <= n {
            let r = req[j] - req[j - k];
            let f = bad[j] - bad[j - k];
            let (avail, budget) = if r > 0.0 {
                ((r - f) / r, f / (e * r))
            } else {
                (1.0, 0.0)
            };
            out.windows += 1;
            out.met += u64::from(avail >= spec.target);
            out.budget_sum += budget;
            out.budgets
                .record((budget * 1e6).round() as u64)
                .expect("auto-resizing histogram accepts any u64");
            if out.worst.is_none_or(|(a, _)| avail < a) {
                out.worst = Some((avail, j as f64 * dt));
            }
            j += step;
        }
    }
    if spec.alerts.is_empty() {
        return out;
    }
    let window_budget = spec.window.map_or(0.0, |w| {
        e * req[n] * (w.length as f64 / series.bucket as f64) / n.max(1) as f64
    });
    let gap = spec.alerts.iter().map(|a| a.short).min().unwrap_or(0) / series.bucket;
    let incidents = incidents(series, e, gap as usize, &bad, window_budget, spec.incident_budget());
    let mut any = vec![false; n];
    let mut margin = 0;
    for rule in &spec.alerts {
        let firing = firing(
            &req,
            &bad,
            e,
            rule.burn_rate,
            rule.long / series.bucket,
            rule.short / series.bucket,
        );
        for (a, f) in any.iter_mut().zip(&firing) {
            *a |= *f;
        }
        let kl = (rule.long / series.bucket) as usize;
        margin = margin.max(kl);
        out.alerts.push(score(&firing, &incidents, kl, &bad, window_budget, dt));
    }
    if spec.alerts.len() > 1 {
        out.alerts
            .push(score(&any, &incidents, margin, &bad, window_budget, dt));
    }
    out
}

/// The budget-relevant incidents (see the module docs).
pub fn incidents(
    series: &RequestSeries,
    e: f64,
    gap: usize,
    bad: &[f64],
    window_budget: f64,
    threshold: f64,
) -> Vec<Incident> {
    let mut runs: Vec<Incident> = Vec::new();
    for (i, (&r, &s)) in series.requests.iter().zip(&series.served).enumerate() {
        if r > 0.0 && r - s > e * r / REACH {
            match runs.last_mut() {
                Some(last) if i - last.end < gap.max(1) => last.end = i + 1,
                _ => runs.push(Incident { start: i, end: i + 1 }),
            }
        }
    }
    if window_budget <= 0.0 {
        return Vec::new();
    }
    runs.retain(|x| (bad[x.end] - bad[x.start]) / window_budget >= threshold);
    runs
}

/// Per evaluation (index `j - 1` for the evaluation at the end of bucket
/// `j - 1`, time `j` buckets): whether the rule fires.
pub fn firing(req: &[f64], bad: &[f64], e: f64, rate: f64, long: u64, short: u64) -> Vec<bool> {
    let n = req.len() - 1;
    let burn = |lo: usize, hi: usize| {
        let r = req[hi] - req[lo];
        if r > 0.0 { (bad[hi] - bad[lo]) / (e * r) } else { 0.0 }
    };
    (1..=n)
        .map(|j| {
            burn(j.saturating_sub(long as usize), j) >= rate * REACH
                && burn(j.saturating_sub(short as usize), j) >= rate * REACH
        })
        .collect()
}

/// Scores one firing sequence against the incidents; `margin` is the
/// long window in buckets.
pub fn score(
    firing: &[bool],
    incidents: &[Incident],
    margin: usize,
    bad: &[f64],
    window_budget: f64,
    dt: f64,
) -> AlertTrial {
    let n = firing.len();
    // Alerts as `[a, b)` evaluation indices.
    let mut alerts: Vec<(usize, usize)> = Vec::new();
    for (i, &f) in firing.iter().enumerate() {
        if f {
            match alerts.last_mut() {
                Some(last) if last.1 == i => last.1 = i + 1,
                _ => alerts.push((i, i + 1)),
            }
        }
    }
    let mut out = AlertTrial {
        incidents: incidents.len() as u64,
        alerts: alerts.len() as u64,
        ..AlertTrial::default()
    };
    // Evaluation indices that may detect incident `x`: times from its
    // start to its end plus the long window.
    let reach = |x: &Incident| (x.start.max(1) - 1, (x.end + margin).min(n) - 1);
    for x in incidents {
        let (lo, hi) = reach(x);
        let Some(i) = (lo..=hi).find(|&i| firing[i]) else {
            continue;
        };
        let j = i + 1;
        out.detected += 1;
        out.detection_s.push((j - x.start) as f64 * dt);
        out.budget_before += (bad[j.min(x.end).max(x.start)] - bad[x.start]) / window_budget;
        let &(_, b) = alerts
            .iter()
            .find(|&&(a, b)| a <= i && i < b)
            .expect("a firing evaluation is in an alert");
        if b < n {
            out.resets += 1;
            out.reset_s += ((b + 1) as f64 - x.end as f64).max(0.0) * dt;
        }
    }
    out.false_alerts = alerts
        .iter()
        .filter(|&&(a, b)| {
            !incidents.iter().any(|x| {
                let (lo, hi) = reach(x);
                a <= hi && b > lo
            })
        })
        .count() as u64;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::alerts::{AlertRule, SloWindow};

    const MIN: Nanos = 60_000_000_000;

    fn spec(window: Option<SloWindow>, alerts: Vec<AlertRule>) -> SloSpec {
        SloSpec {
            target: 0.999,
            window,
            alerts,
            bucket: MIN,
        }
    }

    fn rule(rate: f64, long_min: u64, short_min: u64) -> AlertRule {
        AlertRule {
            name: "r".into(),
            burn_rate: rate,
            long: long_min * MIN,
            short: short_min * MIN,
            severity: None,
        }
    }

    /// `minutes` buckets of 1000 requests; failed requests per bucket from
    /// `fail`.
    fn series(minutes: usize, fail: impl Fn(usize) -> f64) -> RequestSeries {
        let mut s = RequestSeries::new(MIN, minutes as u64 * MIN);
        for i in 0..minutes {
            s.requests[i] = 1000.0;
            s.served[i] = 1000.0 - fail(i);
        }
        s
    }

    #[test]
    fn a_step_in_the_error_rate_is_detected_when_both_windows_reach_the_burn_rate() {
        // Error rate 2 % from minute 600 to 720: burn rate 20 against a
        // 0.1 % budget. Rule 14.4 over 60 and 5 minutes: the long window
        // reaches 14.4 when k/60 * 20 >= 14.4, k = 44 minutes in (43.2 is
        // not whole); the short one after 5 * 14.4/20 = 3.6, i.e. 4.
        let s = series(3 * 24 * 60, |i| if (600..720).contains(&i) { 20.0 } else { 0.0 });
        let sp = spec(
            Some(SloWindow {
                length: 24 * 60 * MIN,
                calendar: false,
            }),
            vec![rule(14.4, 60, 5)],
        );
        let t = analyse(&s, &sp);
        let a = &t.alerts[0];
        assert_eq!(a.incidents, 1);
        assert_eq!(a.detected, 1);
        assert_eq!(a.detection_s, vec![44.0 * 60.0]);
        // Budget before: 44 minutes of 20 failures, over the day's budget
        // 0.001 * 1000 * 1440 = 1440.
        assert!(
            (a.budget_before - 44.0 * 20.0 / 1440.0).abs() < 1e-12,
            "{}",
            a.budget_before
        );
        // Reset: after the end the short window holds 5 - m hot minutes,
        // burn 4 (5 - m) < 14.4 from m = 2: the evaluation 2 minutes after
        // the end is the first that does not fire.
        assert_eq!(a.resets, 1);
        assert!((a.reset_s - 120.0).abs() < 1e-9, "{}", a.reset_s);
        assert_eq!((a.alerts, a.false_alerts), (1, 0));
    }

    #[test]
    fn a_burn_below_the_threshold_never_fires() {
        // Burn rate 10 for six hours: an incident (it spends 2.5 days'
        // budget), which a 14.4 rule never sees.
        let s = series(2 * 24 * 60, |i| if (600..960).contains(&i) { 10.0 } else { 0.0 });
        let sp = spec(
            Some(SloWindow {
                length: 24 * 60 * MIN,
                calendar: false,
            }),
            vec![rule(14.4, 60, 5), rule(6.0, 360, 30)],
        );
        let t = analyse(&s, &sp);
        assert_eq!(t.alerts[0].incidents, 1);
        assert_eq!((t.alerts[0].detected, t.alerts[0].alerts), (0, 0), "14.4 misses it");
        // The 6x rule: 360 * 6/10 = 216 minutes of the long window; the
        // short window has burn 10 >= 6 from 18 minutes.
        assert_eq!(t.alerts[1].detection_s, vec![216.0 * 60.0]);
        // Every rule together: the first to fire.
        assert_eq!(t.alerts[2].detection_s, vec![216.0 * 60.0]);
        assert_eq!(t.alerts.len(), 3);
    }

    #[test]
    fn an_alert_with_no_incident_is_false_and_a_quiet_stream_has_none() {
        // Six 2-minute bursts of 30 % errors, 10 minutes apart: each spends
        // 600 / 10080 = 6 % of a 7-day budget, below the 14.4-per-hour
        // rule's 14.4 / 168 = 8.6 %, and they are too far apart to merge;
        // so no incident, yet the rule sums them over its hour and fires
        // after each burst from the second on (5 alerts, all false).
        let s = series(8 * 24 * 60, |i| {
            if (600..660).contains(&i) && (i - 600) % 10 < 2 {
                300.0
            } else {
                0.0
            }
        });
        let sp = spec(
            Some(SloWindow {
                length: 7 * 24 * 60 * MIN,
                calendar: false,
            }),
            vec![rule(14.4, 60, 5)],
        );
        let t = analyse(&s, &sp);
        assert_eq!(t.alerts[0].incidents, 0);
        assert_eq!((t.alerts[0].alerts, t.alerts[0].false_alerts), (5, 5));
        let quiet = analyse(&series(8 * 24 * 60, |_| 0.0), &sp);
        assert_eq!((quiet.alerts[0].alerts, quiet.alerts[0].incidents), (0, 0));
        assert_eq!((quiet.windows, quiet.met), (24 * 60 + 1, 24 * 60 + 1));
    }

    #[test]
    fn rolling_and_calendar_windows_of_a_hand_built_series() {
        // Four days; day 2 fails 0.2 % (twice the budget), the others 0.05 %.
        let s = series(4 * 1440, |i| if i / 1440 == 1 { 2.0 } else { 0.5 });
        let day = 1440 * MIN;
        let cal = analyse(
            &s,
            &spec(
                Some(SloWindow {
                    length: day,
                    calendar: true,
                }),
                vec![],
            ),
        );
        assert_eq!((cal.windows, cal.met), (4, 3));
        assert!((cal.budget_sum - (0.5 * 3.0 + 2.0)).abs() < 1e-9, "{}", cal.budget_sum);
        let (worst, end) = cal.worst.expect("windows");
        assert!((worst - 0.998).abs() < 1e-12 && end == 2.0 * 86_400.0);
        let roll = analyse(
            &s,
            &spec(
                Some(SloWindow {
                    length: day,
                    calendar: false,
                }),
                vec![],
            ),
        );
        // Windows end at minutes 1440..=5760: 4321 of them. A window meets
        // 0.999 while it holds at most 480 minutes of day 2 (0.5 + 1.5 x
        // <= 1, x = 1/3): ends 1440..=1920 and 3840..=5760.
        assert_eq!(roll.windows, 4321);
        assert_eq!(roll.met, (1920 - 1440 + 1) + (5760 - 3840 + 1));
    }

    #[test]
    fn the_series_drops_a_trailing_partial_bucket() {
        let mut s = RequestSeries::new(MIN, 90 * 1_000_000_000);
        assert_eq!(s.requests.len(), 1);
        s.record(59 * 1_000_000_000, true);
        s.record(60 * 1_000_000_000, false);
        assert_eq!((s.requests[0], s.served[0]), (1.0, 1.0));
    }
}
