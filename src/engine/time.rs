//! Simulated time: an integer count of nanoseconds since the trial began.
//!
//! A year is about 3.2e16 ns, far inside `u64`; integer time makes event
//! ordering exact. Conversions to and from seconds saturate rather than wrap,
//! so an absurd sample can never fold back to an early time.

/// Simulated time or a duration, in nanoseconds.
pub type Nanos = u64;

/// Nanoseconds in one second.
pub const SECOND: Nanos = 1_000_000_000;
/// Nanoseconds in one (365-day) year, the unit of "per year" figures.
pub const YEAR: Nanos = 365 * 24 * 3600 * SECOND;

/// Converts nanoseconds to seconds.
pub fn to_secs(t: Nanos) -> f64 {
    t as f64 / SECOND as f64
}

/// Converts seconds to nanoseconds, rounding to the nearest and saturating at
/// zero and at `Nanos::MAX / 4` (leaving room to add without overflow).
pub fn from_secs(s: f64) -> Nanos {
    let ns = s * SECOND as f64;
    if ns.is_nan() || ns <= 0.0 {
        0
    } else if ns >= (Nanos::MAX / 4) as f64 {
        Nanos::MAX / 4
    } else {
        // Adding one half and truncating rounds a positive value; it is
        // cheaper than `f64::round` on the sampling hot path.
        (ns + 0.5) as Nanos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_saturates() {
        assert_eq!(from_secs(1.5), 1_500_000_000);
        assert_eq!(to_secs(2 * SECOND), 2.0);
        assert_eq!(from_secs(-3.0), 0);
        assert_eq!(from_secs(f64::NAN), 0);
        assert_eq!(from_secs(1e300), Nanos::MAX / 4);
    }
}
