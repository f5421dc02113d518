//! The integration tests: one binary, one module per concern.
//!
//! - `cli`: the real `nines` binary in a temporary folder (contract of the
//!   command line and its files).
//! - `conventions`: issue 21: the header of every JSON document, `-`,
//!   `--no-write`, `--export-markdown`, a closed pipe, `--version`,
//!   `--verbose`, `--color`.
//! - `errors`: one test per class of bad input: exit code 2, a message that
//!   names file, line, column and key, never a panic.
//! - `determinism`: identical bytes on any thread count.
//! - `docs`: the worked examples of README and `docs/`, run and checked.
//! - `validation`: the simulator against closed-form results.
//! - `summary_schema`: issue 21: `summary.json` of every example scenario
//!   against `nines schema summary`; `metrics.csv` against `trials.csv`.
//! - `quantile_coverage`: the downtime percentiles' intervals cover.
//! - `coverage`: the availability interval's coverage when downtime is rare
//!   and skewed (the study is ignored; a fast guard is not).
//! - `fuzz_regressions`: inputs the fuzzer found, replayed: no panic.
//! - `limits`: size limits at validation, runaway budgets while running.
//! - `output`: output files under attack: links at temporary names, runs
//!   into one folder, failures while publishing, `--force`, shards started
//!   together, hostile names in every format.
//! - `properties`: generated valid scenarios never break the simulator's
//!   invariants, on any thread count.
//! - `requests`: the request path against queueing and retry closed forms.
//! - `traffic`: request-level behaviour with a clear expected direction.
//! - `faults`: injected faults, kind by kind, against their arithmetic.
//! - `cascades`: a metastable failure and a region loss, as designed.
//! - `fault_tables`: bad fault tables, rejected with the key named.
//! - `fault_runaways`: fault processes with millions of occurrences open:
//!   done in seconds, or stopped by the event budget counting their work.
//! - `trace`: a traced fault scenario: determinism and `nines trace`.
//! - `defences`: server-side defences (rate limiting, shedding, priority,
//!   outlier detection) against their arithmetic.
//! - `locality`: regions at request level: staying local, paying to cross.
//! - `new`: `nines new`: every template written, valid and run.
//! - `objective`: what a request-level run is judged on: the request
//!   availability, the table's first line, the SLO, `compare`, sagas.
//! - `regional`: regional stacks compose per region in the time-based
//!   model: exact cases, the closed form, and agreement with requests.
//! - `schema`: `nines schema` against the raw structs and the scenarios;
//!   `completions` and `man`.
//! - `sweep`: sweeps, comparisons, plots, `report.html` and the SLO.
//! - `shard`: shards and merge, precision targets, Ctrl-C, the output
//!   folder guard and the recipes.
//! - `workflows`: sagas against closed forms, their errors, determinism,
//!   and their transitions in a trace.
//! - `components`: the model's components on their own (the availability
//!   component cloned mid-trial and run alone).
//! - `rare`: the splitting estimator against closed forms from 4 to 12
//!   nines, its determinism, `auto`, refusals; the coverage study (ignored).
//! - `improve`: `nines improve`: paired gains and importance measures
//!   against closed forms, determinism, bad input; the coverage study of
//!   the paired intervals (ignored).
//! - `load`: servers under load: slowdown curves against an exact chain,
//!   cold starts and caches after restarts against hand sums and integrals.

mod autoscale;
mod bulkhead_waits;
mod cascades;
mod cli;
mod client_policies;
mod components;
mod conventions;
mod coverage;
mod crews;
mod defences;
mod determinism;
mod docs;
mod ejection_growth;
mod errors;
mod fault_runaways;
mod fault_tables;
mod faults;
mod fuzz_regressions;
mod gallery;
mod gc_pause;
mod hang_restart;
mod health;
mod improve;
mod limits;
mod load;
mod locality;
mod new;
mod objective;
mod observability;
mod operations;
mod output;
mod policy_order;
mod probe_check;
mod properties;
mod quantile_coverage;
mod rare;
mod rare_regenerative;
mod regional;
mod requests;
mod schema;
mod shard;
mod slo_alerts;
mod summary_schema;
mod sweep;
mod trace;
mod traffic;
mod util;
mod validation;
mod windowed;
mod windowed_autoscale;
mod windowed_bursts;
mod windowed_diurnal;
mod windowed_faults;
mod windowed_infra;
mod windowed_limits;
mod windowed_ops_autoscale;
mod windowed_phase;
mod windowed_policies;
mod windowed_precision;
mod windowed_probes;
mod windowed_study;
mod windowed_workflows;
mod workflows;
