//! A serde type error ("invalid type: string \"720h\", expected struct
//! RawDist") said as a user needs it: what the key takes, what was found,
//! and the line to write instead.
//!
//! serde names Rust types (`f64`, `i64`, `struct RawDist`); a user of the
//! file knows numbers, whole numbers, tables and lists. Messages of other
//! shapes are left as they are, since they already say what was expected
//! (durations and lengths explain themselves).

use super::raw::keys;

/// The message and help for serde's `message`, where it is a type error.
pub(super) fn type_error(key: Option<&str>, message: &str) -> Option<(String, Option<String>)> {
    if let Some(rest) = message.strip_prefix("invalid value: integer ")
        && let Some((n, "u64")) = rest.split_once(", expected ")
    {
        let n = n.trim_matches('`');
        return Some((format!("expected a whole number of 0 or more, found {n}"), None));
    }
    let rest = message.strip_prefix("invalid type: ")?;
    let (found, expected) = rest.rsplit_once(", expected ")?;
    let value = Found::parse(found);
    // A flag's key is a full path (`service.api.replicas`); the file's
    // words are its last part.
    let key = key.map_or("the key", |k| k.rsplit('.').next().unwrap_or(k));
    let said = value.said();
    Some(match expected.trim() {
        "struct RawDist" => distribution(key, &value),
        "f64" if key == "rate" => (
            format!("rate is a number of requests per second, found {said}"),
            Some(format!(
                "write rate = {}",
                value.number().unwrap_or_else(|| "300".into())
            )),
        ),
        "f64" => (format!("expected a number, found {said}"), value.number_help(key)),
        "i64" | "u64" | "u32" | "usize" => (
            format!("expected a whole number, found {said}"),
            value
                .number()
                .filter(|n| n.parse::<i64>().is_ok())
                .map(|n| format!("write {key} = {n}, without quotes")),
        ),
        "a boolean" | "bool" => (
            format!("expected true or false, found {said}"),
            Some(format!("write {key} = true or {key} = false, without quotes")),
        ),
        "a string" | "string" => (
            format!("expected a string in quotes, found {said}"),
            value.plain().map(|v| format!("write {key} = \"{v}\"")),
        ),
        "a sequence" if matches!(value, Found::Other(ref t) if t == "a table") => (
            format!("expected a list of tables, found {said}"),
            Some(format!(
                "write [[{key}]] with double brackets: each [[{key}]] table adds one to the list"
            )),
        ),
        "a sequence" => (
            format!("expected a list, found {said}"),
            value.plain().map(|v| format!("write {key} = [\"{v}\"]")),
        ),
        table if table.starts_with("struct Raw") => {
            let name = &table["struct Raw".len()..];
            let help = table_keys(name).map(|k| format!("write {key} = {{ ... }} with any of: {}", k.join(", ")));
            (format!("expected a table, found {said}"), help)
        }
        _ => return None,
    })
}

/// What to add for a required key that is missing.
pub(super) fn missing(key: &str) -> Option<String> {
    Some(
        match key {
            "name" => "add name = \"...\" (letters, digits, '-' and '_')",
            "rate" => "add rate = 100 (requests per second)",
            "to" => "add to = \"SERVICE\", the service called",
            "kind" => "add kind = \"crash\" (crash, hang, latency, errors, partition, capacity, clock_skew)",
            "target" => {
                "add target = \"SERVICE\" (a service, a replica like \"db[0]\", a region, or a link like \"api->db\")"
            }
            "duration" => "add duration = \"10m\" (or a distribution table)",
            _ => return None,
        }
        .to_string(),
    )
}

/// A distribution written as a bare duration is the common slip: show the
/// table it should be, keeping the user's duration.
fn distribution(key: &str, value: &Found) -> (String, Option<String>) {
    let mean = match value {
        Found::Text(t) if super::duration::parse(t).is_ok() => t.clone(),
        _ => "1000h".into(),
    };
    (
        format!("a distribution is a table, found {}", value.said()),
        Some(format!(
            "write {key} = {{ mean = \"{mean}\" }} (exponential), or name a family: \
             {{ dist = \"weibull\", shape = 2.0, mean = \"{mean}\" }}"
        )),
    )
}

/// The keys of a table, by the name of its raw struct.
fn table_keys(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "Failover" => keys::FAILOVER,
        "Retry" => keys::RETRY,
        "Breaker" => keys::BREAKER,
        "Bulkhead" => keys::BULKHEAD,
        "HealthCheck" => keys::HEALTH_CHECK,
        "Diurnal" => keys::DIURNAL,
        "RateLimit" => keys::RATE_LIMIT,
        "Shed" => keys::SHED,
        "Outlier" => keys::OUTLIER,
        "Cascade" => keys::CASCADE,
        "Global" => keys::GLOBAL,
        "Limits" => keys::LIMITS,
        "Budget" => &["ratio", "burst"],
        "Liveness" => keys::LIVENESS,
        "SuccessRate" => keys::SUCCESS_RATE,
        "FailurePercentage" => keys::FAILURE_PERCENTAGE,
        "Zone" => keys::ZONE,
        "CommonCause" => keys::COMMON_CAUSE,
        "Repair" => keys::REPAIR,
        "Spares" => keys::SPARES,
        "Slowdown" => keys::SLOWDOWN,
        "ColdStart" => keys::COLD_START,
        "Cache" => keys::CACHE,
        "Autoscale" => keys::AUTOSCALE,
        _ => return None,
    })
}

/// What serde says it found.
enum Found {
    Text(String),
    Number(String),
    Other(String),
}

impl Found {
    /// `string "720h"`, `integer `5``, `floating point `1.5``, `map`, ...
    fn parse(found: &str) -> Self {
        let quoted = |s: &str| s.trim().trim_matches('`').to_string();
        if let Some(s) = found.strip_prefix("string ") {
            let s = s.trim();
            let s = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s);
            return Self::Text(s.to_string());
        }
        if let Some(n) = found
            .strip_prefix("integer ")
            .or_else(|| found.strip_prefix("floating point "))
        {
            return Self::Number(quoted(n));
        }
        Self::Other(match found {
            "map" => "a table".into(),
            "sequence" => "a list".into(),
            other => other.replace('`', ""),
        })
    }

    /// As a message says it: `the string "720h"`, `the number 5`, `a table`.
    fn said(&self) -> String {
        match self {
            Self::Text(t) => format!("the string \"{t}\""),
            Self::Number(n) => format!("the number {n}"),
            Self::Other(o) => o.clone(),
        }
    }

    /// The number the value holds: `300` from `"300/s"` or `"300"`.
    fn number(&self) -> Option<String> {
        match self {
            Self::Number(n) => Some(n.clone()),
            Self::Text(t) => {
                let t = t.trim();
                let end = t
                    .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | '_')))
                    .unwrap_or(t.len());
                let n = &t[..end];
                n.replace('_', "").parse::<f64>().ok().map(|_| n.to_string())
            }
            Self::Other(_) => None,
        }
    }

    /// How to write the number a string holds: without quotes, and a
    /// percentage as the fraction the file takes.
    fn number_help(&self, key: &str) -> Option<String> {
        let n = self.number()?;
        match self {
            Self::Text(t) if t.trim_end().ends_with('%') => {
                // Rounded so that 99.9 % reads 0.999, not 0.9990000000000001.
                let fraction = (n.replace('_', "").parse::<f64>().ok()? * 1e10).round() / 1e12;
                Some(format!("write {key} = {fraction}: a fraction, not a percentage"))
            }
            _ => Some(format!("write {key} = {n}, without quotes")),
        }
    }

    /// The value as plain text, for a string or a number.
    fn plain(&self) -> Option<String> {
        match self {
            Self::Text(t) | Self::Number(t) => Some(t.clone()),
            Self::Other(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn says(key: &str, message: &str) -> (String, String) {
        let (m, h) = type_error(Some(key), message).expect("a type error");
        (m, h.unwrap_or_default())
    }

    #[test]
    fn a_bare_duration_for_a_distribution_shows_the_table() {
        let (m, h) = says("failure", "invalid type: string \"720h\", expected struct RawDist");
        assert_eq!(m, "a distribution is a table, found the string \"720h\"");
        assert!(h.starts_with("write failure = { mean = \"720h\" }"), "{h}");
    }

    #[test]
    fn a_rate_with_a_unit_shows_the_number() {
        let (m, h) = says("rate", "invalid type: string \"300/s\", expected f64");
        assert_eq!(m, "rate is a number of requests per second, found the string \"300/s\"");
        assert_eq!(h, "write rate = 300");
    }

    #[test]
    fn integers_are_whole_numbers() {
        let (m, h) = says("replicas", "invalid type: string \"three\", expected i64");
        assert_eq!(m, "expected a whole number, found the string \"three\"");
        assert_eq!(h, "");
        let (_, h) = says("replicas", "invalid type: string \"3\", expected i64");
        assert_eq!(h, "write replicas = 3, without quotes");
        let (m, _) = says("replicas", "invalid type: floating point `2.5`, expected i64");
        assert_eq!(m, "expected a whole number, found the number 2.5");
    }

    #[test]
    fn a_percentage_is_shown_as_a_fraction() {
        let (m, h) = says("slo", "invalid type: string \"99.9%\", expected f64");
        assert_eq!(m, "expected a number, found the string \"99.9%\"");
        assert_eq!(h, "write slo = 0.999: a fraction, not a percentage");
        let (m, _) = says("seed", "invalid value: integer `-1`, expected u64");
        assert_eq!(m, "expected a whole number of 0 or more, found -1");
    }

    #[test]
    fn a_single_table_for_a_list_of_tables_shows_double_brackets() {
        let (m, h) = says("service", "invalid type: map, expected a sequence");
        assert_eq!(m, "expected a list of tables, found a table");
        assert!(h.starts_with("write [[service]] with double brackets"), "{h}");
    }

    #[test]
    fn tables_name_their_keys_and_other_messages_pass() {
        let (m, h) = says("failover", "invalid type: string \"30s\", expected struct RawFailover");
        assert_eq!(m, "expected a table, found the string \"30s\"");
        assert!(h.contains("detect, switch, success"), "{h}");
        assert!(type_error(Some("x"), "a duration cannot be negative").is_none());
    }
}
