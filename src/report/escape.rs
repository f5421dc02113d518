//! Escaping at the output boundaries, for names a scenario may hold
//! (commas, quotes, line breaks, control characters, right-to-left marks):
//! a CSV field, the text of a plot (SVG is XML), a line on the terminal.
//!
//! JSON needs nothing here (serde escapes control characters) and HTML has
//! [`super::html::escape`]. A name of letters, digits, `-` and `_` comes
//! out of every function unchanged (borrowed), so the outputs of ordinary
//! scenarios keep their bytes.
//!
//! Values are never rewritten to defuse spreadsheet formulas (a name
//! starting with `=`): that would change the data a script reads back.

use std::borrow::Cow;
use std::fmt::Write as _;

/// A CSV field as RFC 4180 and the `csv` crate write it: quoted, inner
/// quotes doubled, when it holds a comma, a quote or a line break.
pub fn csv_field(s: &str) -> Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(s)
    }
}

/// Characters that reorder or hide what follows on a terminal: the bidi
/// embeddings, overrides, isolates and marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` safe to print on a terminal: control characters other than line
/// feed and tab, and bidi controls, shown as `\u{…}` escapes, so a name
/// can neither move the cursor, recolour the terminal nor reorder the
/// rest of the line.
pub fn terminal(s: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c);
    if !s.contains(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` fit for one line of a plot: every control character (which XML 1.0
/// forbids, even escaped, and which a line of text cannot show) becomes a
/// space, and bidi controls are dropped, so an SVG stays well-formed XML.
/// Markup characters are left to the SVG writer, which escapes them.
pub fn plot_text(s: &str) -> Cow<'_, str> {
    let odd = |c: char| c.is_control() || is_bidi_control(c);
    if !s.contains(odd) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .filter(|&c| !is_bidi_control(c))
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_unchanged() {
        for f in [csv_field, terminal, plot_text] {
            assert!(matches!(f("api-v2_eu"), Cow::Borrowed("api-v2_eu")));
        }
    }

    #[test]
    fn csv_fields_read_back() {
        let name = "a,b \"c\"\nd\re";
        let line = format!("{},x\n", csv_field(name));
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[0], name);
        assert_eq!(&rec[1], "x");
    }

    #[test]
    fn terminal_text_cannot_move_the_cursor_or_reorder() {
        assert_eq!(
            terminal("a\u{1b}[2Jb\u{202e}c\rd\ne"),
            "a\\u{1b}[2Jb\\u{202e}c\\u{d}d\ne"
        );
    }

    #[test]
    fn plot_text_has_no_control_characters() {
        assert_eq!(plot_text("a\u{1}b\nc\u{200f}d"), "a b cd");
    }
}
