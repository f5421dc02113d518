//! `nines new TEMPLATE [FILE]`: a commented starting scenario, written to
//! FILE or to stdout.
//!
//! The templates are files under `templates/`, compiled in, so that what a
//! user gets is exactly what the tests check and run. An existing FILE is
//! never replaced without `--force`: the check and the creation are one
//! step (the file is created only if absent), so nothing a user wrote in
//! the meantime is lost.

use std::io::Write as _;
use std::path::Path;

use super::NewArgs;
use crate::error::{Error, Result};
use crate::report;
use crate::scenario::source::suggest;

/// A starting scenario.
pub struct Template {
    /// The name `nines new` takes.
    pub name: &'static str,
    /// One line for `nines new --list`.
    pub about: &'static str,
    /// The scenario, with its comments.
    pub text: &'static str,
}

/// Every template, in the order `--list` prints them.
pub const TEMPLATES: [Template; 5] = [
    Template {
        name: "single",
        about: "one service, no redundancy: the baseline",
        text: include_str!("../../templates/single.toml"),
    },
    Template {
        name: "active-passive",
        about: "a database with a hot standby and an imperfect switch-over",
        text: include_str!("../../templates/active-passive.toml"),
    },
    Template {
        name: "regional",
        about: "a web tier and its database in two regions behind a global balancer",
        text: include_str!("../../templates/regional.toml"),
    },
    Template {
        name: "requests",
        about: "request level: a workload, queues, timeouts, retries, a breaker, a fallback",
        text: include_str!("../../templates/requests.toml"),
    },
    Template {
        name: "saga",
        about: "a workflow of steps with compensations and a pivot",
        text: include_str!("../../templates/saga.toml"),
    },
];

/// Runs `nines new`.
///
/// # Errors
/// [`Error::Usage`] (exit 2) for an unknown template or a FILE that exists
/// without `--force`; [`Error::Write`] (exit 1) when FILE cannot be written.
pub fn new(args: &NewArgs) -> Result<()> {
    let Some(name) = args.template.as_deref().filter(|_| !args.list) else {
        return report::print(&list());
    };
    let template = find(name)?;
    match args.file.as_deref() {
        None => report::print(template.text),
        Some(file) if super::conventions::is_stdin(file) => report::print(template.text),
        Some(file) => {
            write(file, template.text, args.force)?;
            let shown = file.display();
            eprintln!("wrote {shown} from template \"{name}\"; next: nines check {shown}, then nines run {shown}");
            Ok(())
        }
    }
}

/// The templates, one a line.
fn list() -> String {
    let mut out = String::from("templates (nines new TEMPLATE [FILE]):\n");
    for t in &TEMPLATES {
        out.push_str(&format!("  {:<16}{}\n", t.name, t.about));
    }
    out
}

fn find(name: &str) -> Result<&'static Template> {
    if let Some(t) = TEMPLATES.iter().find(|t| t.name == name) {
        return Ok(t);
    }
    let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
    let hint = suggest(name, &names).map_or_else(String::new, |s| format!("; did you mean \"{s}\"?"));
    Err(Error::Usage(format!(
        "no template is named \"{name}\"{hint} (templates: {}; `nines new --list` describes them)",
        names.join(", ")
    )))
}

/// Writes `text` to `file`; without `force`, only if `file` does not exist.
fn write(file: &Path, text: &str, force: bool) -> Result<()> {
    if force {
        return report::write_atomic(file, text.as_bytes());
    }
    let failed = |source| Error::Write {
        path: file.to_path_buf(),
        source,
    };
    match std::fs::OpenOptions::new().write(true).create_new(true).open(file) {
        Ok(mut f) => f.write_all(text.as_bytes()).map_err(failed),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::Usage(format!(
            "{} already exists; nines new does not overwrite it: pass --force to replace it, or name another file",
            file.display()
        ))),
        Err(e) => Err(failed(e)),
    }
}
