//! Text for people: durations in the unit that reads best.
//!
//! It sits below every module that prints (the scenario's diagnostics, the
//! model's budget errors, the report's tables), so none of them reaches up
//! into another's formatting.

/// A duration in seconds in the largest unit that keeps it readable.
pub fn human_duration(secs: f64) -> String {
    let (v, unit) = if secs < 1.0 {
        (secs * 1000.0, "ms")
    } else if secs < 120.0 {
        (secs, "s")
    } else if secs < 7200.0 {
        (secs / 60.0, "min")
    } else if secs < 3.0 * 86_400.0 {
        (secs / 3600.0, "h")
    } else {
        (secs / 86_400.0, "d")
    };
    if v >= 100.0 {
        format!("{v:.0} {unit}")
    } else if v >= 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.2} {unit}")
    }
}

/// An availability as a percentage with its significant nines.
pub fn pct(a: f64) -> String {
    // Enough digits to show the first non-nine and the next.
    let digits = match 1.0 - a {
        u if u <= 0.0 => 4,
        u => ((-u.log10()).floor() as usize).clamp(1, 9),
    };
    format!("{:.*} %", digits, a * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(0.25), "250 ms");
        assert_eq!(human_duration(59.3), "59.3 s");
        assert_eq!(human_duration(150.0), "2.50 min");
        assert_eq!(human_duration(5.0 * 3600.0), "5.00 h");
        assert_eq!(human_duration(10.0 * 86_400.0), "10.0 d");
    }
}
