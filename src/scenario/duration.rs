//! Durations as written in scenario files: a number and a unit, repeated.
//!
//! Units: `ns us ms s m h d w y` (`y` = 365 days). Compound forms such as
//! `"1h30m"` add their parts; numbers may have a fraction (`"1.5h"`).
//! Negative durations and bare numbers are rejected with a message that
//! says what was expected.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::engine::time::{Nanos, SECOND};

/// What a duration should look like, for error messages.
pub const EXPECTED: &str =
    "a duration string with a unit, like \"250ms\", \"30s\", \"4h\" or \"1h30m\" (units: ns us ms s m h d w y)";

/// The longest duration a scenario may state (half of `u64` nanoseconds,
/// about 292 years), so that a time plus a duration never overflows.
pub const MAX: Duration = Duration(Nanos::MAX / 2);

/// A parsed, non-negative duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub Nanos);

fn unit_nanos(unit: &str) -> Option<f64> {
    let s = SECOND as f64;
    Some(match unit {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "s" => s,
        "m" => 60.0 * s,
        "h" => 3600.0 * s,
        "d" => 86_400.0 * s,
        "w" => 7.0 * 86_400.0 * s,
        "y" => 365.0 * 86_400.0 * s,
        _ => return None,
    })
}

/// Parses `"1h30m"` and friends.
///
/// # Errors
/// A message naming what was wrong and what was expected.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.starts_with('-') {
        return Err(format!("a duration cannot be negative, found \"{text}\""));
    }
    if t.is_empty() {
        return Err(format!("found an empty string, expected {EXPECTED}"));
    }
    let mut total = 0.0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        let unit_len = tail.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let value: f64 = num
            .replace('_', "")
            .parse()
            .map_err(|_| format!("found \"{text}\", expected {EXPECTED}"))?;
        let scale = match unit {
            "" => return Err(format!("\"{text}\" has no unit; expected {EXPECTED}")),
            u => unit_nanos(u).ok_or_else(|| format!("unknown unit \"{u}\" in \"{text}\"; expected {EXPECTED}"))?,
        };
        total += value * scale;
        rest = tail;
    }
    if total >= MAX.0 as f64 {
        return Err(format!("\"{text}\" is too long: the longest duration is 292 years"));
    }
    Ok(Duration(total.round() as Nanos))
}

impl fmt::Display for Duration {
    /// The largest exact unit, so `check` prints what the user wrote.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        const UNITS: [(&str, Nanos); 9] = [
            ("y", 365 * 86_400 * SECOND),
            ("w", 7 * 86_400 * SECOND),
            ("d", 86_400 * SECOND),
            ("h", 3600 * SECOND),
            ("m", 60 * SECOND),
            ("s", SECOND),
            ("ms", 1_000_000),
            ("us", 1_000),
            ("ns", 1),
        ];
        if ns == 0 {
            return write!(f, "0s");
        }
        for (name, size) in UNITS {
            if ns >= size && ns.is_multiple_of(size) {
                return write!(f, "{}{name}", ns / size);
            }
        }
        // Not a whole number of any unit: show hours or seconds with a fraction.
        let s = ns as f64 / SECOND as f64;
        if s >= 3600.0 {
            write!(f, "{:.3}h", s / 3600.0)
        } else {
            write!(f, "{s:.3}s")
        }
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "found the number {v} without a unit; expected {EXPECTED}"
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "found the number {v} without a unit; expected {EXPECTED}"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                Err(E::custom(format!(
                    "found the number {v} without a unit; expected {EXPECTED}"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit_and_compounds() {
        assert_eq!(parse("250ms").unwrap().0, 250_000_000);
        assert_eq!(parse("30s").unwrap().0, 30 * SECOND);
        assert_eq!(parse("1h30m").unwrap().0, 5400 * SECOND);
        assert_eq!(parse("1.5h").unwrap().0, 5400 * SECOND);
        assert_eq!(parse("10y").unwrap().0, 3650 * 86_400 * SECOND);
        assert_eq!(parse("2w").unwrap().0, 14 * 86_400 * SECOND);
        assert_eq!(parse("7us").unwrap().0, 7_000);
        assert_eq!(parse("7ns").unwrap().0, 7);
        assert_eq!(parse("0s").unwrap().0, 0);
    }

    #[test]
    fn rejects_bad_text_with_a_reason() {
        assert!(parse("-5h").unwrap_err().contains("negative"));
        assert!(parse("5").unwrap_err().contains("no unit"));
        assert!(parse("5 parsecs").unwrap_err().contains("expected"));
        assert!(parse("5x").unwrap_err().contains("unknown unit"));
        assert!(parse("").unwrap_err().contains("empty"));
        assert!(parse("99999999y").unwrap_err().contains("too long"));
    }

    #[test]
    fn displays_in_the_largest_exact_unit() {
        assert_eq!(parse("90m").unwrap().to_string(), "90m");
        assert_eq!(parse("2h").unwrap().to_string(), "2h");
        assert_eq!(parse("1y").unwrap().to_string(), "1y");
        assert_eq!(parse("250ms").unwrap().to_string(), "250ms");
    }
}
