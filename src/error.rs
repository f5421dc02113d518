//! The library's error type and the diagnostics it carries.
//!
//! Every failure a user can cause (a bad scenario, a bad flag, an unreadable
//! file) is [`Error::is_input`] and maps to exit code 2; anything else (a
//! result that cannot be written) maps to 1. A [`Diagnostic`] names where the
//! problem is (file, line and column, or the flag), the key, what was found
//! and what was expected.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::engine::time::to_secs;
use crate::engine::{Halt, Nanos, STALL_EVENTS};

/// Where a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A position in the scenario file (1-based line and column).
    File {
        /// The file as the user named it.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
    },
    /// A command-line flag, as the user typed it.
    Flag(String),
    /// The scenario as a whole (e.g. an ambiguous entry point).
    Scenario(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { path, line, column } => write!(f, "{path}:{line}:{column}"),
            Self::Flag(flag) => write!(f, "{flag}"),
            Self::Scenario(path) => write!(f, "{path}"),
        }
    }
}

/// One problem with the input, with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where it is.
    pub origin: Origin,
    /// The key at fault, in `--set` path form where known (`service.api.replicas`).
    pub key: Option<String>,
    /// What was found and what was expected.
    pub message: String,
    /// A suggestion, such as the nearest valid key.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.origin)?;
        if let Some(key) = &self.key {
            write!(f, "key `{key}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The scenario is invalid; every problem found is listed.
    #[error("{}", render(.0))]
    Scenario(Vec<Diagnostic>),
    /// The scenario file could not be read.
    #[error("cannot read scenario {}: {source}", path.display())]
    Read {
        /// The path given.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A flag's value is invalid.
    #[error("{0}")]
    Usage(String),
    /// The user interrupted the run (Ctrl-C) after `trials` trials; `what`
    /// says what was kept.
    #[error("interrupted after {trials} trials: {what}")]
    Interrupted {
        /// Trials done.
        trials: u64,
        /// What was written, or that nothing was.
        what: String,
    },
    /// A trial exceeded a budget of `[limits]`: the model runs away.
    #[error("{0}")]
    Runaway(Box<Runaway>),
    /// A result could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// Where it was going.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

fn render(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in diags.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&d.to_string());
    }
    if diags.len() > 1 {
        out.push_str(&format!("\n{} problems found", diags.len()));
    }
    out
}

impl Error {
    /// Whether the user's input caused this (exit code 2).
    pub fn is_input(&self) -> bool {
        // A runaway is the scenario's doing: the user changes the model or
        // raises its budget, so it is bad input too.
        matches!(
            self,
            Self::Scenario(_) | Self::Read { .. } | Self::Usage(_) | Self::Runaway(_)
        )
    }

    /// The process exit code this error maps to.
    pub fn exit_code(&self) -> u8 {
        if self.is_input() { 2 } else { 1 }
    }
}

/// A trial stopped by a budget of `[limits]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runaway {
    /// Trial index.
    pub trial: u64,
    /// Simulated time it stopped at.
    pub at: Nanos,
    /// Which budget.
    pub halt: Halt,
    /// The budget's value.
    pub limit: u64,
    /// The part responsible, as `service "db"`, `edge "web->db"` or
    /// `region "eu"`, with what it holds.
    pub culprit: String,
}

impl fmt::Display for Runaway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = to_secs(self.at);
        write!(
            f,
            "trial {} stopped at simulated time {secs:.9} s ({}): ",
            self.trial,
            crate::format::human_duration(secs)
        )?;
        let (what, help) = match self.halt {
            Halt::Events => (
                format!(
                    "it used up its budget of {} events (limits.events_per_trial)",
                    self.limit
                ),
                "a model this busy is usually running away (retries feeding an unbounded queue, failures and \
                 repairs of near-zero length); if it is genuine, shorten horizon or raise the budget with \
                 [limits] events_per_trial = N or --set limits.events_per_trial=N",
            ),
            Halt::Work => (
                format!(
                    "it used up its budget of {} events (limits.events_per_trial), counting the work done \
                     inside events (each fault occurrence, service or replica a handler visits counts as one)",
                    self.limit
                ),
                "faults that start far more often than they can end and recover are usually a mistake: \
                 lengthen the fault's `every` or shorten its `duration` (or cascade.settle); if it is genuine, \
                 shorten horizon or raise the budget with [limits] events_per_trial = N or \
                 --set limits.events_per_trial=N",
            ),
            Halt::Stalled => (
                format!("simulated time stopped advancing ({STALL_EVENTS} events in a row at that instant)"),
                "a delay of zero (or a few nanoseconds) makes a loop: lengthen that part's durations",
            ),
            Halt::Model => (
                format!(
                    "more than {} calls and jobs were in flight at once (limits.in_flight)",
                    self.limit
                ),
                "requests pile up faster than they finish: bound the queue (queue = 256), add a timeout, a retry \
                 budget or a circuit breaker, or raise the budget with [limits] in_flight = N or \
                 --set limits.in_flight=N",
            ),
        };
        write!(f, "{what}; {}\n  help: {help}", self.culprit)
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
