//! The scenario text and its mapping from byte spans to what a user sees:
//! file, line and column, or the `--set` flag that supplied a value.
//!
//! `--set` overrides edit the document before it is deserialised (see
//! [`super::overrides`]); a value that came from a flag is reported against
//! the flag, and lines that an override inserted are subtracted so that
//! every other location still names the line in the user's file.

use std::ops::Range;

use crate::error::{Diagnostic, Origin};

/// A value that a `--set` flag placed in the text.
#[derive(Debug, Clone)]
pub struct FlagSpan {
    /// Byte range of the key-value in the edited text.
    pub span: Range<usize>,
    /// The flag as typed, `--set service.api.replicas=0`.
    pub flag: String,
    /// Whether the key was absent from the file (its line was inserted).
    pub inserted: bool,
}

/// The text that is deserialised, and how to map its spans back.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file name as the user gave it.
    pub path: String,
    /// The text after overrides.
    pub text: String,
    /// Values supplied by flags.
    pub flags: Vec<FlagSpan>,
}

impl Source {
    /// A source with no overrides.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
            flags: Vec::new(),
        }
    }

    /// Where byte `offset` is, for a user.
    pub fn origin(&self, offset: usize) -> Origin {
        if let Some(f) = self.flags.iter().find(|f| f.span.contains(&offset)) {
            return Origin::Flag(f.flag.clone());
        }
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let mut line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        // Lines inserted by overrides above this one do not exist in the file.
        line -= self
            .flags
            .iter()
            .filter(|f| f.inserted && f.span.start < line_start)
            .count();
        Origin::File {
            path: self.path.clone(),
            line,
            column,
        }
    }

    /// A diagnostic at `span`.
    pub fn diag(&self, span: &Range<usize>, key: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            origin: self.origin(span.start),
            key: Some(key.into()),
            message: message.into(),
            help: None,
        }
    }

    /// Turns a TOML or serde error into a diagnostic with its key and, for
    /// a misspelt key or word, a suggestion.
    pub fn from_toml(&self, err: &toml::de::Error) -> Diagnostic {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim().to_string();
        let origin = self.origin(span.start);
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
            let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let help = suggest(key, &candidates)
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| (!candidates.is_empty()).then(|| format!("valid keys here: {}", candidates.join(", "))));
            return Diagnostic {
                origin,
                key: Some(key.to_string()),
                message: "unknown key".to_string(),
                help,
            };
        }
        if let Some(rest) = message.strip_prefix("missing field `") {
            let key = rest.split('`').next().unwrap_or(rest);
            return Diagnostic {
                origin,
                key: Some(key.to_string()),
                message: "this table needs this key, and it is missing".to_string(),
                help: super::explain::missing(key),
            };
        }
        if message == "duplicate key" {
            let key = key_at(&self.text, span.start);
            let help = key.as_ref().map(|k| format!("keep one `{k}` in this table"));
            return Diagnostic {
                origin,
                key,
                message: "is given twice in the same table".to_string(),
                help,
            };
        }
        let key = match &origin {
            // A value from `--set PATH=VALUE`: the flag's path names it in full.
            Origin::Flag(flag) => flag
                .strip_prefix("--set ")
                .and_then(|f| f.split_once('='))
                .map(|(path, _)| path.to_string()),
            _ => None,
        };
        let key = key
            .or_else(|| key_before(&self.text, span.start))
            .or_else(|| header_at(&self.text, span.start));
        let (message, help) = super::explain::type_error(key.as_deref(), &message).unwrap_or((message, None));
        Diagnostic {
            origin,
            key,
            message,
            help,
        }
    }
}

/// A scenario file's bytes as text, or where they stop being UTF-8.
///
/// # Errors
/// A diagnostic at the line and column of the first byte that is not
/// UTF-8 (TOML files are UTF-8).
pub fn decode(path: &str, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        // The prefix up to `at` is valid by definition.
        let before = String::from_utf8_lossy(&bytes[..at]);
        let shown: Vec<String> = bytes[at..].iter().take(4).map(|b| format!("0x{b:02X}")).collect();
        Diagnostic {
            origin: Source::new(path, before.as_ref()).origin(at),
            key: None,
            message: format!(
                "the file is not UTF-8 text: byte {} here does not start a character",
                shown.first().map_or("?", String::as_str)
            ),
            help: Some("TOML files are UTF-8: save it as UTF-8 (for example `iconv -f latin1 -t utf-8`)".into()),
        }
    })
}

/// The key whose value starts at `offset`: the word before the nearest `=`
/// on the same line.
fn key_before(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let head = &text[line_start..offset];
    let eq = head.rfind('=')?;
    let key: String = head[..eq]
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"'))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let key = key.trim_matches('"').to_string();
    (!key.is_empty()).then_some(key)
}

/// The key written at `offset` (`name` in `name = "b"`).
fn key_at(text: &str, offset: usize) -> Option<String> {
    let rest = text.get(offset.min(text.len())..)?;
    let key: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect();
    (!key.is_empty()).then_some(key)
}

/// The table a header at `offset` names: `service` for `[service]`.
fn header_at(text: &str, offset: usize) -> Option<String> {
    let rest = text.get(offset.min(text.len())..)?.trim_start_matches('[');
    let name = rest.split(']').next()?.trim();
    let simple = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (text[offset.min(text.len())..].starts_with('[') && simple).then(|| name.to_string())
}

/// The candidate nearest to `word`, when it is near enough to be a typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        // Never the word itself: "did you mean `service`?" for `service`
        // helps no one.
        .filter(|(d, c)| *d > 0 && *d <= 2.max(c.len() / 4) && *d < c.len().max(word.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
        .or_else(|| abbreviation(word, candidates))
}

/// The one candidate that `word` abbreviates (`expo` for `exponential`).
fn abbreviation<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if word.len() < 3 {
        return None;
    }
    let mut matches = candidates
        .iter()
        .filter(|c| c.len() > word.len() && c.starts_with(word));
    let first = matches.next()?;
    matches.next().is_none().then_some(*first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_lines_and_columns() {
        let s = Source::new("a.toml", "x = 1\n  y = 2\n");
        let Origin::File { line, column, .. } = s.origin(10) else {
            panic!()
        };
        assert_eq!((line, column), (2, 5));
    }

    #[test]
    fn finds_the_key_before_a_value() {
        let text = "failure = { mean = \"-5h\" }";
        assert_eq!(key_before(text, 19).as_deref(), Some("mean"));
        assert_eq!(key_before("replicas = 0", 11).as_deref(), Some("replicas"));
    }

    #[test]
    fn locates_the_first_byte_that_is_not_utf8() {
        let d = decode("a.toml", b"x = 1\nname = \"caf\xE9\"\n".to_vec()).unwrap_err();
        assert_eq!(
            d.to_string().lines().next().unwrap(),
            "a.toml:2:12: the file is not UTF-8 text: byte 0xE9 here does not start a character"
        );
        assert_eq!(decode("a.toml", b"x = 1".to_vec()).unwrap(), "x = 1");
    }

    #[test]
    fn suggests_near_misses_only() {
        let keys = ["replicas", "regions", "repair"];
        assert_eq!(suggest("replicaz", &keys), Some("replicas"));
        assert_eq!(suggest("regoins", &keys), Some("regions"));
        assert_eq!(suggest("banana", &keys), None);
        assert_eq!(suggest("expo", &["linear", "exponential"]), Some("exponential"));
        // An abbreviation of two candidates suggests neither.
        assert_eq!(suggest("rep", &keys), None);
    }
}
