//! The `nines` binary: parse the command line, call the library, map errors
//! to exit codes (0 success, 2 bad input, 1 anything else).
//!
//! The binary owns its flags: [`cli`] is declared here, not in the library,
//! which knows nothing of the command line.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;
use clap::error::ErrorKind;
// The library's modules and items under the names the command line's
// files use (`crate::scenario`, `crate::Result`, ...).
use nines::{
    Error, Result, RunOptions, error, format, model, montecarlo, report, resilience, scenario, simulate, stats,
    summarise, sweep,
};

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // `nines` alone prints help on stderr and exits 2, as a bad
            // command line does; `--help` and `--version` succeed.
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(2),
            };
        }
    };
    match cli::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `nines run ... | head`: the reader left; quietly done, as Unix
        // tools are (Rust ignores SIGPIPE, so the write fails instead).
        Err(e) if cli::conventions::is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Names in a message may hold control or right-to-left characters.
            eprintln!("error: {}", nines::report::escape::terminal(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}
