//! The [`Checker`] every part of validation reports through, and the name
//! look-ups they share.
//!
//! It knows the raw file and the source, nothing of the scenario's parts:
//! the per-part validators (policies, faults, workflows, limits) import it
//! and it imports none of them.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::raw::RawDist;
use super::source::{Source, suggest};
use crate::distribution::Dist;
use crate::error::{Diagnostic, Origin};

/// Collects diagnostics while checking.
pub(super) struct Checker<'a> {
    src: &'a Source,
    diags: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(src: &'a Source) -> Self {
        Self {
            src,
            diags: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// True while nothing is wrong: later checks that rely on earlier ones
    /// run only then.
    pub(super) fn is_clean(&self) -> bool {
        self.diags.is_empty()
    }

    /// Every problem found, or the warnings when there is none.
    pub(super) fn finish(self) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
        if self.diags.is_empty() {
            Ok(self.warnings)
        } else {
            Err(self.diags)
        }
    }

    /// Something valid that is almost certainly not what the user meant:
    /// the run goes ahead, and the warning is printed on stderr.
    pub(super) fn warn(
        &mut self,
        span: &Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
        help: String,
    ) {
        let mut d = self.src.diag(span, key, message);
        d.help = Some(help);
        self.warnings.push(d);
    }

    /// A problem of the whole file, with no one place to point at.
    pub(super) fn err_file(&mut self, key: &str, message: String, help: Option<String>) {
        self.diags.push(Diagnostic {
            origin: Origin::Scenario(self.src.path.clone()),
            key: Some(key.into()),
            message,
            help,
        });
    }

    pub(super) fn err(&mut self, span: &Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        self.diags.push(self.src.diag(span, key, message));
    }

    pub(super) fn err_help(
        &mut self,
        span: &Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
        help: String,
    ) {
        let mut d = self.src.diag(span, key, message);
        d.help = Some(help);
        self.diags.push(d);
    }

    /// A word from a fixed list, with a suggestion when it is misspelt.
    pub(super) fn word<T: Copy>(&mut self, value: &Spanned<String>, key: &str, choices: &[(&str, T)]) -> Option<T> {
        let v = value.get_ref().as_str();
        if let Some((_, t)) = choices.iter().find(|(name, _)| *name == v) {
            return Some(*t);
        }
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let message = format!("found \"{v}\", expected one of: {}", names.join(", "));
        match suggest(v, &names) {
            Some(s) => self.err_help(&value.span(), key, message, format!("did you mean \"{s}\"?")),
            None => self.err(&value.span(), key, message),
        }
        None
    }

    pub(super) fn count(&mut self, value: &Spanned<i64>, key: &str, min: i64, max: i64) -> Option<u32> {
        let v = *value.get_ref();
        if v < min || v > max {
            self.err(
                &value.span(),
                key,
                format!("must be between {min} and {max}, found {v}"),
            );
            None
        } else {
            Some(v as u32)
        }
    }

    pub(super) fn probability(&mut self, value: &Spanned<f64>, key: &str) -> Option<f64> {
        let v = *value.get_ref();
        if (0.0..=1.0).contains(&v) {
            Some(v)
        } else {
            self.err(
                &value.span(),
                key,
                format!("a probability must be between 0 and 1, found {v}"),
            );
            None
        }
    }

    pub(super) fn dist(&mut self, raw: &Spanned<RawDist>, key: &str) -> Option<Dist> {
        let d = raw.get_ref();
        const FAMILIES: [(&str, &[&str]); 7] = [
            ("exponential", &["mean"]),
            ("weibull", &["shape", "mean"]),
            ("lognormal", &["mean", "cv"]),
            ("gamma", &["shape", "mean"]),
            ("fixed", &["mean"]),
            ("uniform", &["min", "max"]),
            ("empirical", &["values"]),
        ];
        let family = match &d.dist {
            None => "exponential",
            Some(name) => {
                let choices: Vec<(&str, &str)> = FAMILIES.iter().map(|(n, _)| (*n, *n)).collect();
                self.word(name, &format!("{key}.dist"), &choices)?
            }
        };
        let wants = FAMILIES
            .iter()
            .find(|(n, _)| *n == family)
            .map(|(_, k)| *k)
            .unwrap_or(&[]);
        let present: [(&str, Option<Range<usize>>); 6] = [
            ("mean", d.mean.as_ref().map(Spanned::span)),
            ("shape", d.shape.as_ref().map(Spanned::span)),
            ("cv", d.cv.as_ref().map(Spanned::span)),
            ("min", d.min.as_ref().map(Spanned::span)),
            ("max", d.max.as_ref().map(Spanned::span)),
            ("values", d.values.as_ref().map(Spanned::span)),
        ];
        let mut ok = true;
        for (name, span) in &present {
            if let Some(span) = span
                && !wants.contains(name)
            {
                self.err(
                    span,
                    format!("{key}.{name}"),
                    format!(
                        "does not apply to dist = \"{family}\", which takes: {}",
                        wants.join(", ")
                    ),
                );
                ok = false;
            }
        }
        for name in wants {
            if present.iter().any(|(n, s)| n == name && s.is_none()) {
                self.err(
                    &raw.span(),
                    format!("{key}.{name}"),
                    format!("dist = \"{family}\" needs `{name}` (it takes: {})", wants.join(", ")),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        let mean = d.mean.as_ref().map_or(0, |m| m.get_ref().0);
        let built = match family {
            "exponential" => Dist::exponential(mean),
            "weibull" => Dist::weibull(*d.shape.as_ref()?.get_ref(), mean),
            "lognormal" => Dist::lognormal(*d.cv.as_ref()?.get_ref(), mean),
            "gamma" => Dist::gamma(*d.shape.as_ref()?.get_ref(), mean),
            "fixed" => Dist::fixed(mean),
            "uniform" => Dist::uniform(d.min.as_ref()?.get_ref().0, d.max.as_ref()?.get_ref().0),
            _ => Dist::empirical(d.values.as_ref()?.get_ref().iter().map(|v| v.0).collect()),
        };
        built
            .map_err(|e| self.err(&raw.span(), key.to_string(), e.to_string()))
            .ok()
    }

    /// A failure process: `failure` needs `repair` beside it.
    pub(super) fn failure_repair(
        &mut self,
        failure: &Option<Spanned<RawDist>>,
        repair: &Option<Spanned<RawDist>>,
        prefix: &str,
        name_span: &Range<usize>,
    ) -> (Option<Dist>, Option<Dist>) {
        let f = failure
            .as_ref()
            .and_then(|f| self.dist(f, &format!("{prefix}.failure")));
        let r = repair.as_ref().and_then(|r| self.dist(r, &format!("{prefix}.repair")));
        if failure.is_some() && repair.is_none() {
            self.err_help(
                name_span,
                format!("{prefix}.repair"),
                "`failure` is given but `repair` is not: what fails would never come back",
                "add repair = { mean = \"4h\" } (or any distribution)".to_string(),
            );
        }
        (f, r)
    }
}

/// Checks names are non-empty and unique; returns name -> index.
pub(super) fn names<'a>(
    c: &mut Checker<'_>,
    list: impl Iterator<Item = &'a Spanned<String>>,
    what: &str,
) -> BTreeMap<String, usize> {
    let mut index = BTreeMap::new();
    for (i, name) in list.enumerate() {
        let n = name.get_ref();
        if n.is_empty() || n.contains(['.', '[', ']', ' ']) || n.contains("->") {
            c.err(
                &name.span(),
                format!("{what}.name"),
                format!("\"{n}\" is not a usable name: use letters, digits, '-' and '_'"),
            );
        } else if index.insert(n.clone(), i).is_some() {
            c.err(
                &name.span(),
                format!("{what}.name"),
                format!("another {what} is already named \"{n}\""),
            );
        }
    }
    index
}

pub(super) fn lookup(
    c: &mut Checker<'_>,
    name: &Spanned<String>,
    index: &BTreeMap<String, usize>,
    key: &str,
    what: &str,
) -> Option<usize> {
    let n = name.get_ref();
    if let Some(&i) = index.get(n) {
        return Some(i);
    }
    let known: Vec<&str> = index.keys().map(String::as_str).collect();
    let message = if known.is_empty() {
        format!("no {what} is named \"{n}\" (the scenario defines none)")
    } else {
        format!("no {what} is named \"{n}\"; defined: {}", known.join(", "))
    };
    match suggest(n, &known) {
        Some(s) => c.err_help(&name.span(), key, message, format!("did you mean \"{s}\"?")),
        None => c.err(&name.span(), key, message),
    }
    None
}
