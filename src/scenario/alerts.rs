//! `slo = { target, window, kind }` and `[[alert]]`: the SLO window over
//! which request availability is judged, and the multi-window burn-rate
//! alert rules scored against each trial's request stream.
//!
//! Both are read on requests, so they need a `[[workload]]`, an objective
//! on requests and an SLO target. Every window must fit in the horizon
//! (the run could not show a single one otherwise) and each rule's short
//! window must be shorter than its long one (a short window exists to
//! make the alert reset quickly; one as long as the long window does
//! nothing). The resolution of the request series both are computed on,
//! [`SloSpec::bucket`], is the greatest common divisor of every window and
//! one minute, so every window is a whole number of buckets.

use toml::Spanned;

use super::checker::{Checker, names};
use super::raw::{RawScenario, RawSlo};
use crate::engine::time::{Nanos, SECOND};

const MINUTE: Nanos = 60 * SECOND;

/// Most buckets one trial's request series may hold (16 MB per thread).
pub const MAX_BUCKETS: u64 = 1 << 20;

/// `slo.window` and `slo.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SloWindow {
    /// Window length.
    pub length: Nanos,
    /// Calendar windows (back to back from the start of the trial) rather
    /// than rolling ones (ending at every evaluation).
    pub calendar: bool,
}

impl SloWindow {
    /// `"rolling"` or `"calendar"`.
    pub fn kind(&self) -> &'static str {
        if self.calendar { "calendar" } else { "rolling" }
    }
}

/// One `[[alert]]`: fire when the burn rate over both windows reaches
/// `burn_rate`.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    /// Its name.
    pub name: String,
    /// Burn rate threshold: error rate over `1 - target`.
    pub burn_rate: f64,
    /// Long window.
    pub long: Nanos,
    /// Short window.
    pub short: Nanos,
    /// Free text (`page`, `ticket`), shown beside the name.
    pub severity: Option<String>,
}

/// Everything the request-series analysis needs, present when a window or
/// a rule is configured.
#[derive(Debug, Clone, PartialEq)]
pub struct SloSpec {
    /// The objective on requests.
    pub target: f64,
    /// SLO windows, when `slo.window` is set.
    pub window: Option<SloWindow>,
    /// Alert rules in file order.
    pub alerts: Vec<AlertRule>,
    /// Width of one bucket of the request series (ns).
    pub bucket: Nanos,
}

impl SloSpec {
    /// The budget share that the most sensitive rule is built to fire at
    /// (burn rate x long window / SLO window): the smallest incident that
    /// counts as budget-relevant.
    pub fn incident_budget(&self) -> f64 {
        let Some(w) = self.window else { return 0.0 };
        self.alerts
            .iter()
            .map(|a| a.burn_rate * a.long as f64 / w.length as f64)
            .fold(f64::INFINITY, f64::min)
    }
}

/// A window as a scenario file writes it: `30d`, `6h`, `5m`, `90s`, in
/// the largest unit that divides it.
pub fn window_text(ns: Nanos) -> String {
    for (unit, size) in [
        ("d", 86_400 * SECOND),
        ("h", 3_600 * SECOND),
        ("m", MINUTE),
        ("s", SECOND),
        ("ms", SECOND / 1000),
    ] {
        if ns >= size && ns.is_multiple_of(size) {
            return format!("{}{unit}", ns / size);
        }
    }
    format!("{ns}ns")
}

fn gcd(a: Nanos, b: Nanos) -> Nanos {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The raw `slo` key's window part and every `[[alert]]`, checked.
/// `target` is the objective validation accepted; `requests` says whether
/// the run is judged on requests (a `[[workload]]` exists and `objective`
/// is not `"time"`).
pub(super) fn slo_spec(
    c: &mut Checker<'_>,
    raw: &RawScenario,
    target: Option<f64>,
    requests: bool,
    horizon: Nanos,
) -> Option<SloSpec> {
    let table = match raw.slo.as_ref().map(Spanned::get_ref) {
        Some(RawSlo::Table(t)) => Some(t),
        _ => None,
    };
    let slo_span = raw.slo.as_ref().map(Spanned::span).unwrap_or(0..0);
    if let Some(t) = table
        && t.target.is_none()
    {
        c.err_help(
            &slo_span,
            "slo.target",
            "the slo table has no target",
            "add target = 0.999 (the objective, a fraction between 0 and 1)".into(),
        );
    }
    let window = table.and_then(|t| {
        if let Some(k) = &t.kind
            && t.window.is_none()
        {
            c.err_help(
                &k.span(),
                "slo.kind",
                "says how SLO windows are laid, but there is no slo.window",
                "add window = \"30d\" beside it".into(),
            );
        }
        let w = t.window.as_ref()?;
        let calendar = t
            .kind
            .as_ref()
            .and_then(|k| c.word(k, "slo.kind", &[("rolling", false), ("calendar", true)]))
            .unwrap_or(false);
        let length = w.get_ref().0;
        if length == 0 {
            c.err(&w.span(), "slo.window", "must be longer than zero");
            return None;
        }
        if length > horizon {
            c.err_help(
                &w.span(),
                "slo.window",
                format!(
                    "a {} window is longer than the horizon ({}): no trial holds a whole window",
                    window_text(length),
                    window_text(horizon)
                ),
                format!(
                    "set horizon to at least {} (several windows give a distribution), or shorten the window",
                    window_text(length)
                ),
            );
            return None;
        }
        Some((SloWindow { length, calendar }, w.span()))
    });
    let alert_names = names(c, raw.alert.iter().map(|a| &a.get_ref().name), "alert");
    let _ = alert_names;
    let mut alerts = Vec::new();
    for a in &raw.alert {
        let a = a.get_ref();
        let key = |k: &str| format!("alert.{}.{k}", a.name.get_ref());
        let rate = *a.burn_rate.get_ref();
        if !(rate.is_finite() && rate > 0.0) {
            c.err_help(
                &a.burn_rate.span(),
                key("burn_rate"),
                format!("a burn rate is a positive multiple of the error budget's pace, found {rate}"),
                "write burn_rate = 14.4 (spends 2 % of a 30-day budget in an hour)".into(),
            );
        }
        let (long, short) = (a.long_window.get_ref().0, a.short_window.get_ref().0);
        let mut ok = rate.is_finite() && rate > 0.0;
        for (w, k) in [(&a.long_window, "long_window"), (&a.short_window, "short_window")] {
            let len = w.get_ref().0;
            if len == 0 {
                c.err(&w.span(), key(k), "must be longer than zero");
                ok = false;
            } else if len > horizon {
                c.err_help(
                    &w.span(),
                    key(k),
                    format!(
                        "a {} window is longer than the horizon ({})",
                        window_text(len),
                        window_text(horizon)
                    ),
                    "lengthen the horizon, or shorten the window".into(),
                );
                ok = false;
            }
        }
        if short > 0 && long > 0 && short >= long {
            c.err_help(
                &a.short_window.span(),
                key("short_window"),
                format!(
                    "the short window ({}) must be shorter than the long window ({})",
                    window_text(short),
                    window_text(long)
                ),
                "the short window makes the alert reset soon after recovery; it is usually 1/12 of the long one (1h and 5m)".into(),
            );
            ok = false;
        }
        let severity = a.severity.as_ref().map(|s| s.get_ref().clone());
        if ok {
            alerts.push(AlertRule {
                name: a.name.get_ref().clone(),
                burn_rate: rate,
                long,
                short,
                severity,
            });
        }
    }
    let configured = window.is_some() || !raw.alert.is_empty();
    if !configured {
        return None;
    }
    let span = window
        .as_ref()
        .map(|(_, s)| s.clone())
        .or_else(|| raw.alert.first().map(|a| a.get_ref().name.span()))
        .unwrap_or(slo_span.clone());
    let key = if window.is_some() { "slo.window" } else { "alert" };
    if !requests {
        c.err_help(
            &span,
            key,
            "SLO windows and alert rules are read on requests, but the run is not judged on requests",
            "add a [[workload]] (and leave objective unset, or write objective = \"requests\")".into(),
        );
        return None;
    }
    let Some(target) = target else {
        if table.is_none() {
            c.err_help(
                &span,
                key,
                "SLO windows and alert rules need an objective, and the scenario has no slo",
                "add slo = { target = 0.999, window = \"30d\" }".into(),
            );
        }
        return None;
    };
    if !raw.alert.is_empty() && window.is_none() {
        c.err_help(
            &span,
            "alert",
            "alert rules spend an error budget, which is set by slo.window",
            "write slo = { target = ..., window = \"30d\" }".into(),
        );
        return None;
    }
    let mut bucket = MINUTE;
    if let Some((w, _)) = &window {
        bucket = gcd(bucket, w.length);
    }
    for a in &alerts {
        bucket = gcd(gcd(bucket, a.long), a.short);
    }
    if horizon / bucket > MAX_BUCKETS {
        c.err_help(
            &span,
            key,
            format!(
                "the windows share no divisor longer than {}, which cuts the horizon into {} buckets (at most {MAX_BUCKETS})",
                window_text(bucket),
                horizon / bucket
            ),
            "use windows that are whole minutes, or a shorter horizon".into(),
        );
        return None;
    }
    if !c.is_clean() {
        return None;
    }
    Some(SloSpec {
        target,
        window: window.map(|(w, _)| w),
        alerts,
        bucket,
    })
}
