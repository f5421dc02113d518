//! Parameter sweeps: `--vary PATH=SPEC` turned into the values of a grid.
//!
//! A SPEC is a list `1,2,5` (values taken as written, so `100h,1y` or
//! `round-robin,random` work too), an inclusive integer range `1..6`, or a
//! range with a step `100h..1000h:100h` / `0.9..0.99:0.01` (numbers or
//! durations; the end is included when a whole number of steps reaches it,
//! within rounding). Every point of a sweep runs the same trial indices
//! with the same seed, so trial `i` of every point draws the same random
//! streams for every component the change leaves in place (common random
//! numbers): differences between points are the model's, not noise.

use crate::engine::time::SECOND;
use crate::error::{Error, Result};
use crate::scenario::duration;

/// One varied parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Vary {
    /// The `--set` path.
    pub path: String,
    /// The values, as `--set` would take them.
    pub values: Vec<String>,
    /// Each value as a number for plotting (durations in `unit`s; a list
    /// of words is numbered 0, 1, 2 ...).
    pub numbers: Vec<f64>,
    /// The unit numbers are in (`h`, `s`, ...), or empty.
    pub unit: String,
}

/// The most points one `--vary` may produce.
pub const MAX_VALUES: usize = 1000;

impl std::str::FromStr for Vary {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::Usage(format!(
                "--vary {s}: {why}; expected PATH=SPEC with SPEC a list (1,2,5), a range (1..6) or a range with a step (100h..1000h:100h)"
            ))
        };
        let (path, spec) = s.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let (path, spec) = (path.trim(), spec.trim());
        if path.is_empty() || spec.is_empty() {
            return Err(bad("empty path or values"));
        }
        let (values, numbers, unit) = match spec.split_once("..") {
            Some((start, rest)) => range(start.trim(), rest.trim()).map_err(|why| bad(&why))?,
            None => list(spec),
        };
        if values.is_empty() {
            return Err(bad("no values"));
        }
        if values.len() > MAX_VALUES {
            return Err(bad(&format!("{} values; at most {MAX_VALUES}", values.len())));
        }
        Ok(Self {
            path: path.to_string(),
            values,
            numbers,
            unit,
        })
    }
}

/// The unit letters a duration ends with: `1h30m` -> `m`, `100h` -> `h`.
fn unit_of(text: &str) -> Option<String> {
    let unit: String = text.chars().rev().take_while(|c| c.is_ascii_alphabetic()).collect();
    let unit: String = unit.chars().rev().collect();
    (!unit.is_empty()).then_some(unit)
}

fn unit_seconds(unit: &str) -> f64 {
    duration::parse(&format!("1{unit}")).map_or(1.0, |d| d.0 as f64 / SECOND as f64)
}

fn list(spec: &str) -> (Vec<String>, Vec<f64>, String) {
    let values: Vec<String> = spec
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    // Numbers when every value is a finite number; `nan` or `inf` are
    // left to the scenario's own checks, as words.
    if let Ok(numbers) = values.iter().map(|v| v.parse::<f64>()).collect::<Result<Vec<_>, _>>()
        && numbers.iter().all(|x| x.is_finite())
    {
        return (values, numbers, String::new());
    }
    if let Some(unit) = values.first().and_then(|v| unit_of(v))
        && let Ok(ds) = values.iter().map(|v| duration::parse(v)).collect::<Result<Vec<_>, _>>()
    {
        let per = unit_seconds(&unit);
        let numbers = ds.iter().map(|d| d.0 as f64 / SECOND as f64 / per).collect();
        return (values, numbers, unit);
    }
    let numbers = (0..values.len()).map(|i| i as f64).collect();
    (values, numbers, String::new())
}

fn range(start: &str, rest: &str) -> std::result::Result<(Vec<String>, Vec<f64>, String), String> {
    let (end, step) = match rest.split_once(':') {
        Some((e, st)) => (e.trim(), Some(st.trim())),
        None => (rest, None),
    };
    // Numbers first, then durations.
    if let (Ok(a), Ok(b)) = (start.parse::<f64>(), end.parse::<f64>()) {
        let integer = !start.contains('.') && !end.contains('.') && step.is_none_or(|s| !s.contains('.'));
        let step: f64 = match step {
            Some(s) => s.parse().map_err(|_| format!("step \"{s}\" is not a number"))?,
            None if integer => 1.0,
            None => return Err("a range of fractions needs a step, like 0.9..0.99:0.01".into()),
        };
        let numbers = steps(a, b, step)?;
        let values = numbers
            .iter()
            .map(|x| {
                if integer {
                    format!("{}", x.round() as i64)
                } else {
                    format!("{}", round12(*x))
                }
            })
            .collect();
        return Ok((values, numbers, String::new()));
    }
    let a = duration::parse(start).map_err(|e| format!("start: {e}"))?;
    let b = duration::parse(end).map_err(|e| format!("end: {e}"))?;
    let step = step.ok_or("a range of durations needs a step, like 100h..1000h:100h")?;
    let st = duration::parse(step).map_err(|e| format!("step: {e}"))?;
    let unit = unit_of(step).or_else(|| unit_of(start)).unwrap_or_else(|| "s".into());
    let per = unit_seconds(&unit);
    let to_unit = |d: u64| d as f64 / SECOND as f64 / per;
    let numbers = steps(to_unit(a.0), to_unit(b.0), to_unit(st.0))?;
    let values = numbers.iter().map(|x| format!("{}{unit}", round12(*x))).collect();
    Ok((values, numbers, unit))
}

fn round12(x: f64) -> f64 {
    (x * 1e12).round() / 1e12
}

fn steps(a: f64, b: f64, step: f64) -> std::result::Result<Vec<f64>, String> {
    if !(a.is_finite() && b.is_finite()) {
        return Err(format!(
            "the range must start and end at finite numbers, found {a}..{b}"
        ));
    }
    if !(step.is_finite() && step > 0.0) {
        return Err(format!("the step must be positive, found {step}"));
    }
    if b < a {
        return Err(format!("the range ends ({b}) before it starts ({a})"));
    }
    let n = ((b - a) / step + 1e-9).floor() as usize + 1;
    if n > MAX_VALUES {
        return Err(format!("{n} values; at most {MAX_VALUES}"));
    }
    Ok((0..n).map(|i| a + step * i as f64).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vary(s: &str) -> Vary {
        s.parse().unwrap()
    }

    #[test]
    fn lists_ranges_and_steps() {
        let v = vary("service.api.replicas=1,2,5");
        assert_eq!(v.values, ["1", "2", "5"]);
        assert_eq!(v.numbers, [1.0, 2.0, 5.0]);
        assert_eq!(vary("service.api.replicas=1..6").values, ["1", "2", "3", "4", "5", "6"]);
        let d = vary("service.api.failure.mean=100h..1000h:300h");
        assert_eq!(d.values, ["100h", "400h", "700h", "1000h"]);
        assert_eq!(d.numbers, [100.0, 400.0, 700.0, 1000.0]);
        assert_eq!(d.unit, "h");
        let f = vary("service.db.failover.success=0.9..0.99:0.03");
        assert_eq!(f.values, ["0.9", "0.93", "0.96", "0.99"]);
        let l = vary("service.db.failure.mean=100h,300h,1000h");
        assert_eq!(l.numbers, [100.0, 300.0, 1000.0]);
        let w = vary("service.api.load_balancer=random,round-robin");
        assert_eq!(w.numbers, [0.0, 1.0]);
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in [
            "noequals",
            "a=",
            "a=5..1",
            "a=0.1..0.5",
            "a=1h..5h",
            "a=1..2:0",
            "a=1..100000",
        ] {
            assert!(bad.parse::<Vary>().is_err(), "{bad}");
        }
    }
}
