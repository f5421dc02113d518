//! The command line: flags as close to what the user typed as possible
//! ([`Cli`]), then one function per subcommand that builds the real objects
//! and calls the library.
//!
//! Exit codes: 0 success; 2 bad input (unreadable or invalid scenario, bad
//! flag); 1 anything else. Errors are one clear message on stderr.

pub mod check;
pub mod compare;
pub mod conventions;
pub mod generate;
pub mod improve;
pub mod interrupt;
pub mod merge;
pub mod new;
pub mod output_guard;
pub mod run;
pub mod sweep;
pub mod trace;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::scenario::Override;
use crate::scenario::limits::{MAX_THREADS, MAX_TRIALS};

/// `nines --version`: the crate's version and the commit it was built
/// from (`unknown` outside a git checkout; see `build.rs`).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("NINES_COMMIT"), ")");

/// How available will this design really be, and how does it fail?
///
/// Without arguments it prints this help on stderr and exits 2.
#[derive(Debug, Parser)]
#[command(name = "nines", version = VERSION, about, long_about = None, arg_required_else_help = true)]
pub struct Cli {
    /// When to colour the table: auto (stdout is a terminal and NO_COLOR
    /// is unset), always, never.
    #[arg(long, value_enum, global = true, default_value_t = conventions::Color::Auto)]
    pub color: conventions::Color,
    /// Say on stderr what nines is doing: the estimator chosen, chunks,
    /// threads.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
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
    /// Run a scenario over a grid of one or two varied values.
    Sweep(SweepArgs),
    /// Run two or more designs on the same trials and compare them.
    Compare(CompareArgs),
    /// Record one trial's story: faults, failures, failovers, breakers and
    /// per-bucket success, as CSV and JSON Lines.
    Trace(TraceArgs),
    /// Join the parts of a sharded run (`run --shard I/N`) into the
    /// `summary.json`, `trials.csv` and `timeline.csv` one whole run would
    /// have written.
    Merge(MergeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(generate::CompletionsArgs),
    /// Print the man page (roff), or write one page per command with --out.
    Man(generate::ManArgs),
    /// Print a JSON Schema of the scenario format (for editors), or of
    /// summary.json with `nines schema summary`.
    Schema(generate::SchemaArgs),
    /// Write a commented starting scenario from a template (`--list`
    /// lists them).
    New(NewArgs),
    /// Rank fixed improvements (halve MTTR, double MTBF, one more replica,
    /// halve failover, one more retry, halve breaker open time) by the
    /// nines each gains on the same trials, with importance measures.
    Improve(ImproveArgs),
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
    /// Scenario file (TOML); `-` reads it from standard input.
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
    /// Output folder (default: `output/<file stem>/`, `output/stdin/` for
    /// `-`); `-` writes no files, as `--no-write`.
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
    /// Availability objective, e.g. 0.9999 (overrides the file's `slo`).
    #[arg(long)]
    pub slo: Option<f64>,
    /// Also write the plots that fit this run (PNG and SVG) and report.html.
    #[arg(long)]
    pub plot: bool,
    /// Run only shard I of N (0-based) and write `shard-I-of-N.nines-part`
    /// into the output folder, for `nines merge`.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<crate::montecarlo::shard::Shard>,
    /// Run batches of `--trials` until the 95 % interval on nines is at
    /// most this wide (e.g. 0.05), or `--max-trials` is reached.
    #[arg(long, value_name = "NINES")]
    pub precision: Option<f64>,
    /// Trial cap for `--precision` (default: 100 batches).
    #[arg(long, value_name = "N", requires = "precision")]
    pub max_trials: Option<u64>,
    /// How to estimate the availability (overrides the file's
    /// `estimator`): `auto` uses rare-event splitting when crude trials see
    /// too few outages.
    #[arg(long, value_enum)]
    pub estimator: Option<crate::scenario::Estimator>,
    /// Write into an output folder that holds another scenario's results,
    /// deleting the files nines wrote there.
    #[arg(long)]
    pub force: bool,
    /// Write no files (no output folder): for scripts that only want the
    /// JSON on stdout. `--out -` says the same.
    #[arg(long)]
    pub no_write: bool,
    /// Also write the table as Markdown to FILE, for design documents.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
    /// How requests over the horizon are simulated (overrides the file's
    /// `request_sampling`): `full` simulates every request, `windowed` the
    /// transients after each change and a sample of each configuration,
    /// `auto` windowed when full would pass the request budget.
    #[arg(long, value_enum)]
    pub request_sampling: Option<crate::scenario::RequestSampling>,
}

/// `nines merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Part files (`shard-I-of-N.nines-part`), or folders holding them.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Output folder for `summary.json`, `trials.csv` and `timeline.csv`.
    #[arg(long, required = true)]
    pub out: PathBuf,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// No notes on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Write into an output folder that holds another scenario's results,
    /// deleting the files nines wrote there.
    #[arg(long)]
    pub force: bool,
}

/// Flags shared by `sweep` and `compare`.
#[derive(Debug, clap::Args)]
pub struct Shared {
    /// Number of trials per point (default: the file's `trials`).
    #[arg(long)]
    pub trials: Option<u64>,
    /// Master seed, the same for every point (default: the file's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: every core). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override one value of the file(s): service.api.replicas=5.
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_override)]
    pub set: Vec<Override>,
    /// Availability objective, e.g. 0.9999.
    #[arg(long)]
    pub slo: Option<f64>,
    /// No progress bar or notes on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write into an output folder that holds another scenario's (or
    /// command's) results, deleting the files nines wrote there.
    #[arg(long)]
    pub force: bool,
    /// Also write the table as Markdown to FILE, for design documents.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
}

/// `nines sweep`.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Scenario file (TOML); `-` reads it from standard input.
    pub file: PathBuf,
    /// A value to vary: PATH=SPEC, SPEC a list (1,2,5), a range (1..6) or a
    /// range with a step (100h..1000h:100h). Give one or two.
    #[arg(long, value_name = "PATH=SPEC", required = true)]
    pub vary: Vec<String>,
    /// How to estimate each point's availability (overrides the file's
    /// `estimator`).
    #[arg(long, value_enum)]
    pub estimator: Option<crate::scenario::Estimator>,
    /// Flags shared with `compare`.
    #[command(flatten)]
    pub shared: Shared,
}

/// `nines compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Two or more scenario files; the first is the baseline. One may be
    /// `-`, standard input.
    #[arg(required = true, num_args = 2..)]
    pub files: Vec<PathBuf>,
    /// Flags shared with `sweep`.
    #[command(flatten)]
    pub shared: Shared,
}

/// `nines improve`.
#[derive(Debug, clap::Args)]
pub struct ImproveArgs {
    /// Scenario file (TOML); `-` reads it from standard input.
    pub file: PathBuf,
    /// Only these components: service, region or edge (`users->api`)
    /// names, or `global`, comma-separated.
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Only these improvements: mttr, mtbf, replicas, failover, retry,
    /// breaker, comma-separated.
    #[arg(long, value_name = "KIND,...", value_delimiter = ',')]
    pub kinds: Vec<String>,
    /// Flags shared with `sweep` and `compare`.
    #[command(flatten)]
    pub shared: Shared,
}

/// `nines trace FILE --trial K`.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// Trial index to record (the same trial K as in `run` with the same seed).
    #[arg(long, default_value_t = 0)]
    pub trial: u64,
    /// Master seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder (default: `output/<file stem>/trace-K`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override one value of the file.
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_override)]
    pub set: Vec<Override>,
    /// Print nothing on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `nines new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Template: single, active-passive, regional, requests, saga. Without
    /// it, the templates are listed.
    pub template: Option<String>,
    /// File to write; `-` or none writes the scenario on stdout.
    pub file: Option<PathBuf>,
    /// List the templates, one a line, and write nothing.
    #[arg(long)]
    pub list: bool,
    /// Replace FILE when it exists.
    #[arg(long)]
    pub force: bool,
}

/// `nines check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scenario file (TOML); `-` reads it from standard input.
    pub file: PathBuf,
    /// What to print: the description (`table`), or a JSON document.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Override one value of the file: service.api.replicas=5.
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_override)]
    pub set: Vec<Override>,
}

fn parse_override(s: &str) -> Result<Override, String> {
    s.parse()
}

fn parse_shard(s: &str) -> Result<crate::montecarlo::shard::Shard, String> {
    s.parse()
}

/// Runs a parsed command line.
///
/// # Errors
/// Whatever the subcommand returns.
pub fn dispatch(cli: Cli) -> crate::Result<()> {
    conventions::set(cli.color, cli.verbose);
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Check(args) => check::check(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::Trace(args) => trace::trace(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::Completions(args) => generate::completions(&args),
        Command::Man(args) => generate::man(&args),
        Command::Schema(args) => generate::schema(&args),
        Command::New(args) => new::new(&args),
        Command::Improve(args) => improve::improve(&args),
    }
}

/// Checks flags every running command shares.
///
/// # Errors
/// [`crate::Error::Usage`] for a thread or trial count outside its limits
/// ([`MAX_THREADS`], [`MAX_TRIALS`]), or an objective outside (0, 1).
pub fn check_flags(threads: Option<usize>, trials: Option<u64>, slo: Option<f64>) -> crate::Result<()> {
    if let Some(t) = threads
        && !(1..=MAX_THREADS).contains(&t)
    {
        return Err(crate::Error::Usage(format!(
            "--threads must be between 1 and {MAX_THREADS}, found {t}"
        )));
    }
    check_trials("--trials", trials)?;
    if let Some(s) = slo
        && !(s > 0.0 && s < 1.0)
    {
        return Err(crate::Error::Usage(format!(
            "--slo is an availability between 0 and 1 (0.9999 for four nines), found {s}"
        )));
    }
    Ok(())
}

/// Checks a trial count given by `flag` against [`MAX_TRIALS`].
///
/// # Errors
/// [`crate::Error::Usage`] for zero or more than [`MAX_TRIALS`].
pub fn check_trials(flag: &str, trials: Option<u64>) -> crate::Result<()> {
    match trials {
        Some(n) if !(1..=MAX_TRIALS).contains(&n) => Err(crate::Error::Usage(format!(
            "{flag} must be between 1 and {MAX_TRIALS}, found {n}"
        ))),
        _ => Ok(()),
    }
}

/// `output/<name>` unless `--out` says otherwise; created.
///
/// # Errors
/// [`crate::Error::Write`] when the folder cannot be created.
pub fn out_dir(out: Option<&std::path::Path>, name: &str) -> crate::Result<PathBuf> {
    let dir = out.map_or_else(|| PathBuf::from("output").join(name), std::path::Path::to_path_buf);
    std::fs::create_dir_all(&dir).map_err(|source| crate::Error::Write {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

/// The `--set` flags as a document records them.
pub fn overrides(set: &[Override]) -> crate::report::document::Overrides {
    crate::report::document::Overrides::set(set.iter().map(|o| (o.path.as_str(), o.value.as_str())))
}

/// The stem of a scenario file, for naming outputs.
/// `stdin` for `-`, standard input.
pub fn stem(file: &std::path::Path) -> String {
    if conventions::is_stdin(file) {
        return "stdin".into();
    }
    file.file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::Parser as _;

    use super::{Cli, Command};

    /// The documents of a multi-document YAML file.
    fn yaml_docs(rel: &str) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap();
        serde_norway::Deserializer::from_str(&text)
            .map(|d| serde::Deserialize::deserialize(d).unwrap_or_else(|e| panic!("{rel}: {e}")))
            .collect()
    }

    /// The command line of the job's one container.
    fn command_of(job: &serde_json::Value) -> Vec<String> {
        let c = &job["spec"]["template"]["spec"]["containers"][0];
        let strings = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect()
        };
        let mut cmd = strings(&c["command"]);
        cmd.extend(strings(&c["args"]));
        cmd
    }

    #[test]
    fn kubernetes_manifests_give_every_index_a_shard_the_cli_accepts() {
        let docs = yaml_docs("recipes/kubernetes/shards.yaml");
        let job = docs.iter().find(|d| d["kind"] == "Job").expect("a Job");
        let spec = &job["spec"];
        assert_eq!(spec["completionMode"], "Indexed");
        let n = spec["completions"].as_u64().unwrap();
        assert_eq!(spec["parallelism"].as_u64(), Some(n));
        let env = &spec["template"]["spec"]["containers"][0]["env"][0];
        assert_eq!(env["name"], "JOB_COMPLETION_INDEX");
        assert_eq!(
            env["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.annotations['batch.kubernetes.io/job-completion-index']"
        );
        let cmd = command_of(job);
        for index in 0..n {
            // Kubernetes expands $(VAR) from the container's env.
            let args: Vec<String> = cmd
                .iter()
                .map(|a| a.replace("$(JOB_COMPLETION_INDEX)", &index.to_string()))
                .collect();
            let cli = Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            let Command::Run(run) = cli.command else {
                panic!("not `nines run`: {args:?}")
            };
            assert_eq!(run.shard.map(|s| (s.index, s.count)), Some((index, n)), "{args:?}");
            assert_eq!(run.out.as_deref(), Some(Path::new("/results/parts")));
        }
        let merge = yaml_docs("recipes/kubernetes/merge.yaml");
        let args = command_of(merge.iter().find(|d| d["kind"] == "Job").unwrap());
        let cli = Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let Command::Merge(m) = cli.command else {
            panic!("not `nines merge`: {args:?}")
        };
        assert_eq!(m.parts, [Path::new("/results/parts")]);
        assert_eq!(m.out, Path::new("/results"));
    }
}
