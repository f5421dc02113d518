//! The command line: flags as close to what the user typed as possible
//! ([`Cli`]), then one function per subcommand that builds the real objects
//! and calls the library.
//!
//! Exit codes: 0 success; 2 bad input (unreadable or invalid scenario, bad
//! flag); 1 anything else. Errors are one clear message on stderr.

pub mod check;
pub mod run;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::scenario::Override;

/// How available will this design really be, and how does it fail?
#[derive(Debug, Parser)]
#[command(name = "nines", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and report its availability.
    Run(RunArgs),
    /// Validate a scenario and print what it compiles to.
    Check(CheckArgs),
}

/// Output format on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable table.
    Table,
    /// Exactly `summary.json`.
    Json,
}

/// `nines run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file (TOML).
    pub file: PathBuf,
    /// Number of trials (overrides the file's `trials`).
    #[arg(long)]
    pub trials: Option<u64>,
    /// Master seed (overrides the file's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: every core). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output folder (default: output/<file stem>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Override one value of the file: service.api.replicas=5.
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_override)]
    pub set: Vec<Override>,
    /// No progress bar or notes on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `nines check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scenario file (TOML).
    pub file: PathBuf,
    /// Override one value of the file: service.api.replicas=5.
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_override)]
    pub set: Vec<Override>,
}

fn parse_override(s: &str) -> Result<Override, String> {
    s.parse()
}

/// Runs a parsed command line.
///
/// # Errors
/// Whatever the subcommand returns.
pub fn dispatch(cli: Cli) -> crate::Result<()> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Check(args) => check::check(&args),
    }
}
