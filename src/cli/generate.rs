//! `nines completions`, `nines man` and `nines schema`: files for the
//! user's shell, manual and editor, generated from the definitions the
//! program itself uses (the clap [`super::Cli`] and
//! [`crate::scenario::schema`]), so they never drift from it.

use std::io::Write as _;
use std::path::PathBuf;

use clap::CommandFactory as _;

use super::Cli;
use crate::error::{Error, Result};

/// `nines completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `nines man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write `nines.1` and one page per command (`nines-run.1`, ...) into
    /// this folder instead of printing `nines.1`.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `nines schema`.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which document: the scenario format or summary.json.
    #[arg(value_enum, default_value_t = SchemaOf::Scenario)]
    pub of: SchemaOf,
}

/// The documents `nines schema` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaOf {
    /// Scenario files (TOML, checked as JSON).
    Scenario,
    /// `summary.json`.
    Summary,
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Write {
        path: PathBuf::from("<stdout>"),
        source,
    }
}

/// Prints the completion script for `args.shell`.
///
/// # Errors
/// [`Error::Write`] when stdout is closed.
pub fn completions(args: &CompletionsArgs) -> Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "nines", &mut out);
    std::io::stdout().write_all(&out).map_err(stdout_error)
}

/// Prints the man page, or writes every page into `args.out`.
///
/// # Errors
/// [`Error::Write`] when a page cannot be written.
pub fn man(args: &ManArgs) -> Result<()> {
    let command = Cli::command();
    if let Some(dir) = &args.out {
        let write = |source| Error::Write {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(write)?;
        let mut command = command.disable_help_subcommand(true);
        command.build();
        return write_pages(command, dir);
    }
    let mut out = Vec::new();
    clap_mangen::Man::new(command).render(&mut out).map_err(stdout_error)?;
    std::io::stdout().write_all(&out).map_err(stdout_error)
}

/// Writes `command`'s page and its subcommands' (as
/// `clap_mangen::generate_to` names them), each through a fresh temporary
/// file ([`crate::report::files`]), never through a link.
fn write_pages(command: clap::Command, dir: &std::path::Path) -> Result<()> {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
        write_pages(sub, dir)?;
    }
    let man = clap_mangen::Man::new(command);
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    man.render(&mut page).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    crate::report::files::write_new(&path, &page)
}

/// Prints the JSON Schema of the scenario format or of `summary.json`.
///
/// # Errors
/// [`Error::Write`] when stdout is closed.
pub fn schema(args: &SchemaArgs) -> Result<()> {
    let text = match args.of {
        SchemaOf::Scenario => crate::scenario::schema::text(),
        SchemaOf::Summary => crate::report::schema::text(),
    };
    std::io::stdout().write_all(text.as_bytes()).map_err(stdout_error)
}
