//! The `nines` binary: parse the command line, call the library, map errors
//! to exit codes (0 success, 2 bad input, 1 anything else).

use std::process::ExitCode;

use clap::Parser as _;
use clap::error::ErrorKind;

fn main() -> ExitCode {
    let cli = match nines::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => ExitCode::SUCCESS,
                _ => ExitCode::from(2),
            };
        }
    };
    match nines::cli::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Names in a message may hold control or right-to-left characters.
            eprintln!("error: {}", nines::report::escape::terminal(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}
