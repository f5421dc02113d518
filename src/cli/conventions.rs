//! What every command shares with other Unix tools: `-` for standard
//! input, `--color`, `--verbose`, `--export-markdown`, and a closed pipe
//! on stdout ending the command quietly (see `docs/cli-conventions.md`).
//!
//! `--color` and `--verbose` are global flags, read once by
//! [`super::dispatch`] and kept here for the commands to ask.

use std::io::{IsTerminal as _, Read as _};
use std::path::Path;
use std::sync::OnceLock;

use clap::ValueEnum;

use crate::error::{Error, Result};
use crate::report::escape;
use crate::scenario::{self, Override, Scenario};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

struct Settings {
    color: bool,
    verbose: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Records the global flags (the first call wins).
pub fn set(color: Color, verbose: bool) {
    let color = match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    };
    let _ = SETTINGS.set(Settings { color, verbose });
}

/// True when the table is coloured.
pub fn color() -> bool {
    SETTINGS.get().is_some_and(|s| s.color)
}

/// True with `--verbose`.
pub fn verbose() -> bool {
    SETTINGS.get().is_some_and(|s| s.verbose)
}

/// Prints one `--verbose` line on stderr.
pub fn say(what: std::fmt::Arguments<'_>) {
    if verbose() {
        eprintln!("nines: {what}");
    }
}

/// `--verbose` for `sweep` and `compare`: how many runs, trials, threads.
pub fn say_threads(threads: Option<usize>, runs: usize, what: &str, trials: u64) {
    let threads = threads.unwrap_or_else(rayon::current_num_threads);
    say(format_args!(
        "{runs} {what} of {trials} trials each, one after another · {threads} threads · estimator crude"
    ));
}

/// True when `e` is a write to stdout whose reader has gone.
pub fn is_closed_pipe(e: &Error) -> bool {
    matches!(e, Error::Write { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}

/// True when `file` is `-`, standard input.
pub fn is_stdin(file: &Path) -> bool {
    file == Path::new("-")
}

/// A scenario's text with the name its messages use (`<stdin>` for `-`)
/// and the stem that names its outputs (`stdin` for `-`).
pub struct Input {
    /// The name in messages.
    pub display: String,
    /// The stem of the output folder and of an unnamed scenario.
    pub stem: String,
    /// The TOML text.
    pub text: String,
}

/// Reads `file`, or standard input for `-`.
///
/// # Errors
/// [`Error::Read`] when it cannot be read.
pub fn read(file: &Path) -> Result<Input> {
    if is_stdin(file) {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|source| Error::Read {
                path: "<stdin>".into(),
                source,
            })?;
        let text = scenario::source::decode("<stdin>", bytes).map_err(|d| Error::Scenario(vec![d]))?;
        return Ok(Input {
            display: "<stdin>".into(),
            stem: "stdin".into(),
            text,
        });
    }
    let bytes = std::fs::read(file).map_err(|source| Error::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let display = file.display().to_string();
    let text = scenario::source::decode(&display, bytes).map_err(|d| Error::Scenario(vec![d]))?;
    Ok(Input {
        display,
        stem: super::stem(file),
        text,
    })
}

/// Reads and validates the scenario at `file` (`-`: standard input).
///
/// # Errors
/// As [`read`], and [`Error::Scenario`] when it is invalid.
pub fn load(file: &Path, set: &[Override]) -> Result<Scenario> {
    let input = read(file)?;
    let scenario = scenario::parse(&input.display, &input.stem, &input.text, set)?;
    warn(&scenario);
    Ok(scenario)
}

/// Prints the scenario's warnings on stderr (also with `--quiet`: a
/// warning is about the input, not progress); the command goes on.
pub fn warn(scenario: &Scenario) {
    for w in &scenario.warnings {
        eprintln!("warning: {}", escape::terminal(&w.to_string()));
    }
}

/// Writes `--export-markdown FILE` (through a temporary file and a rename).
///
/// # Errors
/// [`Error::Write`] when it cannot be written.
pub fn export_markdown(path: Option<&Path>, text: &str) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    say(format_args!("writing the table as Markdown to {}", path.display()));
    crate::report::write_atomic(path, text.as_bytes())
}

/// When colour is on: the table's title line in bold and the SLO verdict
/// line (`verdict`: its text and whether the objective is met) in green or
/// red.
pub fn paint(table: String, verdict: Option<(String, bool)>) -> String {
    if !color() {
        return table;
    }
    let verdict = verdict.map(|(text, ok)| (escape::terminal(&text).into_owned(), ok));
    let mut out = String::with_capacity(table.len() + 32);
    for (i, line) in table.split_inclusive('\n').enumerate() {
        let (body, end) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        let code = match &verdict {
            _ if i == 0 => Some("1"),
            Some((text, ok)) if body.trim_start() == text => Some(if *ok { "32" } else { "31" }),
            _ => None,
        };
        match code {
            Some(c) => out.push_str(&format!("\x1b[{c}m{body}\x1b[0m{end}")),
            None => out.push_str(line),
        }
    }
    out
}
