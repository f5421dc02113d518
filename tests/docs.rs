//! The documentation's worked examples, run: every figure a chapter quotes
//! from an example is reproduced here by the real `nines` binary.
//!
//! A chapter marks what to run with HTML comments (invisible on GitHub),
//! each on a line of its own:
//!
//! - `<!-- file: NAME -->` before a fenced block: the block is written to
//!   `NAME` in a scratch folder.
//! - `<!-- copy: PATH -->`: copies the repository's `PATH` to the same
//!   place in the scratch folder (README's example uses a shipped scenario).
//! - `<!-- run -->` before a fenced `sh` block: every line of it that starts
//!   with `nines ` runs (split on spaces, a trailing `# comment` dropped) and
//!   must exit 0. `<!-- run: ARGS -->` runs `nines ARGS` without showing it;
//!   `<!-- fails: ARGS -->` runs it and expects exit 2.
//! - `<!-- output -->` before a fenced block: each non-empty line of the
//!   block must be a line of the last command's stdout (stderr after
//!   `fails`), in order, compared with runs of spaces squeezed and every
//!   number masked, so a quoted table shows the real shape without pinning
//!   simulated decimals. `<!-- output exact -->` compares the numbers too
//!   (for `check` and error messages, which are deterministic).
//! - `<!-- read: FILE -->`: later `expect`s read FILE (JSON) instead of the
//!   last stdout.
//! - `<!-- expect: PATH OP ... -->` on a JSON value (PATH is dotted; a
//!   segment with dots or arrows is quoted, `edges."users->api"`):
//!   `in-ci X "QUOTE"`: the closed form X lies in the value's `ci95`;
//!   `rounds "QUOTE"`: the value, rounded as QUOTE is, reads QUOTE;
//!   `between LO HI`; `= JSON`. A QUOTE (`"99.99956 %"`, `%` meaning
//!   percent) must also appear in the chapter's text, so the prose cannot
//!   drift from what is checked.
//! - `<!-- same: A B -->`: two output files are byte-identical.
//!
//! Closed forms and ranges, not long simulated decimals, are what the
//! chapters quote, so a change to the estimators that moves the fifth
//! decimal does not break them, while a wrong figure does
//! (`a_wrong_figure_is_caught` proves the checker can fail).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The chapters that must each carry at least one checked example.
const CHAPTERS: &[&str] = &[
    "docs/scenario-format.md",
    "docs/request-level.md",
    "docs/faults.md",
    "docs/workflows.md",
    "docs/sweeps-and-plots.md",
    "docs/scale-out.md",
    "docs/output-reference.md",
    "docs/performance.md",
    "docs/validation.md",
    "docs/rare-events.md",
    "docs/improve.md",
    "docs/operations.md",
    "docs/slo-alerts.md",
    "docs/zones-and-repair.md",
    "docs/autoscaling.md",
];

fn repo(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// What a checked chapter did: commands run and figures asserted.
#[derive(Debug, Default)]
struct Tally {
    runs: usize,
    checks: usize,
}

/// Runs every marked example of `markdown`; an error names the first
/// failed check and its line.
fn check_markdown(markdown: &str) -> Result<Tally, String> {
    let prose: String = markdown
        .lines()
        .filter(|l| !l.trim_start().starts_with("<!--"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut state = State::new(prose)?;
    let lines: Vec<&str> = markdown.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        i += 1;
        let Some(directive) = line.strip_prefix("<!--").and_then(|l| l.strip_suffix("-->")) else {
            continue;
        };
        let directive = directive.trim();
        let (block, next) = fenced_block(&lines, i);
        state
            .apply(directive, block)
            .map_err(|e| format!("line {i}: `{directive}`: {e}"))?;
        if let Some(next) = next {
            i = next;
        }
    }
    Ok(state.tally)
}

/// The fenced block starting on line `from` (after blank lines), if any,
/// and the line after it.
fn fenced_block<'a>(lines: &[&'a str], from: usize) -> (Option<Vec<&'a str>>, Option<usize>) {
    let mut j = from;
    while j < lines.len() && lines[j].trim().is_empty() {
        j += 1;
    }
    if j >= lines.len() || !lines[j].trim_start().starts_with("```") {
        return (None, None);
    }
    let body: Vec<&str> = lines[j + 1..]
        .iter()
        .take_while(|l| !l.trim_start().starts_with("```"))
        .copied()
        .collect();
    let end = j + 1 + body.len() + 1;
    (Some(body), Some(end))
}

struct State {
    dir: tempfile::TempDir,
    prose: String,
    last: String,
    json: Option<Value>,
    tally: Tally,
}

impl State {
    fn new(prose: String) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        Ok(Self {
            dir,
            prose,
            last: String::new(),
            json: None,
            tally: Tally::default(),
        })
    }

    fn apply(&mut self, directive: &str, block: Option<Vec<&str>>) -> Result<(), String> {
        let (word, rest) = directive.split_once([':', ' ']).unwrap_or((directive, ""));
        let rest = rest.trim();
        let need_block = || block.clone().ok_or_else(|| "needs a fenced block after it".to_string());
        match word {
            "file" => {
                let text = need_block()?.join("\n") + "\n";
                std::fs::write(self.dir.path().join(rest), text).map_err(|e| e.to_string())
            }
            "copy" => {
                let to = self.dir.path().join(rest);
                std::fs::create_dir_all(to.parent().unwrap()).map_err(|e| e.to_string())?;
                std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(rest), to)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            "run" if rest.is_empty() => {
                let commands: Vec<String> = need_block()?
                    .iter()
                    .filter_map(|l| l.trim().strip_prefix("nines "))
                    .map(|l| l.split(" #").next().unwrap_or(l).trim().to_string())
                    .collect();
                if commands.is_empty() {
                    return Err("the block has no `nines` command".into());
                }
                commands.iter().try_for_each(|c| self.nines(c, 0))
            }
            "run" => self.nines(rest, 0),
            "fails" => self.nines(rest, 2),
            "output" => self.output(&need_block()?, rest == "exact"),
            "read" => {
                let text = std::fs::read_to_string(self.dir.path().join(rest)).map_err(|e| format!("{rest}: {e}"))?;
                self.json = Some(serde_json::from_str(&text).map_err(|e| format!("{rest}: {e}"))?);
                Ok(())
            }
            "expect" => self.expect(rest),
            "same" => {
                let files: Vec<&str> = rest.split_whitespace().collect();
                let read = |f: &str| std::fs::read(self.dir.path().join(f)).map_err(|e| format!("{f}: {e}"));
                self.tally.checks += 1;
                if files.len() != 2 || read(files[0])? != read(files[1])? {
                    return Err(format!("{rest}: not byte-identical"));
                }
                Ok(())
            }
            _ => Ok(()), // an ordinary comment
        }
    }

    fn nines(&mut self, args: &str, code: i32) -> Result<(), String> {
        let out = Command::new(env!("CARGO_BIN_EXE_nines"))
            .args(args.split_whitespace())
            .current_dir(self.dir.path())
            .env_remove("RUST_BACKTRACE")
            .output()
            .map_err(|e| e.to_string())?;
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        if out.status.code() != Some(code) {
            return Err(format!(
                "`nines {args}` exited {:?}, expected {code}\n{stderr}",
                out.status.code()
            ));
        }
        self.tally.runs += 1;
        self.last = if code == 0 {
            stdout.into_owned()
        } else {
            stderr.into_owned()
        };
        self.json = serde_json::from_str(&self.last).ok();
        Ok(())
    }

    /// Each quoted line must be one of the output's lines, in order.
    fn output(&mut self, block: &[&str], exact: bool) -> Result<(), String> {
        let norm = |l: &str| {
            let squeezed = l.split_whitespace().collect::<Vec<_>>().join(" ");
            if exact { squeezed } else { mask_numbers(&squeezed) }
        };
        let actual: Vec<String> = self.last.lines().map(norm).collect();
        let mut at = 0;
        for want in block.iter().filter(|l| !l.trim().is_empty()) {
            let want = norm(want);
            match actual[at..].iter().position(|a| *a == want) {
                Some(k) => at += k + 1,
                None => {
                    return Err(format!(
                        "line not in the output (in order): {want}\noutput:\n{}",
                        self.last
                    ));
                }
            }
            self.tally.checks += 1;
        }
        Ok(())
    }

    fn expect(&mut self, spec: &str) -> Result<(), String> {
        let words = split_words(spec);
        let [path, op, args @ ..] = words.as_slice() else {
            return Err("expect: PATH OP ...".into());
        };
        let json = self
            .json
            .as_ref()
            .ok_or("no JSON to read: run with --format json, or `read` a file")?;
        let value = lookup(json, path)?;
        self.tally.checks += 1;
        match (op.as_str(), args) {
            ("in-ci", [x, quote]) => {
                let x: f64 = x.parse().map_err(|_| format!("not a number: {x}"))?;
                let ci = value.get("ci95").unwrap_or(value);
                let (lo, hi) = (ci[0].as_f64().ok_or("no ci95")?, ci[1].as_f64().ok_or("no ci95")?);
                if !(lo <= x && x <= hi) {
                    return Err(format!("{x} is not in {path}'s interval [{lo}, {hi}]"));
                }
                self.quoted(quote, x)
            }
            ("rounds", [quote]) => self.quoted(quote, number(value)?),
            ("between", [lo, hi]) => {
                let (lo, hi, v) = (lo.parse::<f64>().unwrap(), hi.parse::<f64>().unwrap(), number(value)?);
                if !(lo <= v && v <= hi) {
                    return Err(format!("{path} = {v}, not in [{lo}, {hi}]"));
                }
                Ok(())
            }
            ("=", [want]) => {
                let want: Value = serde_json::from_str(want).unwrap_or_else(|_| Value::String(want.clone()));
                let same = match (want.as_f64(), value.as_f64()) {
                    (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                    _ => want == *value,
                };
                if !same {
                    return Err(format!("{path} = {value}, expected {want}"));
                }
                Ok(())
            }
            _ => Err(format!("unknown expectation `{op}` with {} argument(s)", args.len())),
        }
    }

    /// `quote` appears in the prose and is `x` rounded to its own precision.
    fn quoted(&self, quote: &str, x: f64) -> Result<(), String> {
        if !self.prose.contains(quote) {
            return Err(format!("the text does not quote \"{quote}\""));
        }
        let (digits, scale) = match quote.strip_suffix('%') {
            Some(d) => (d.trim(), 100.0),
            None => (quote.trim(), 1.0),
        };
        let decimals = digits.split_once('.').map_or(0, |(_, d)| d.len());
        let shown = format!("{:.*}", decimals, x * scale);
        if shown != digits {
            return Err(format!("the text says {quote}, the figure rounds to {shown}"));
        }
        Ok(())
    }
}

fn number(v: &Value) -> Result<f64, String> {
    v.as_f64().ok_or_else(|| format!("not a number: {v}"))
}

/// Follows a dotted path; quoted segments may hold dots.
fn lookup<'a>(json: &'a Value, path: &str) -> Result<&'a Value, String> {
    let mut v = json;
    let mut rest = path;
    while !rest.is_empty() {
        let (seg, after) = match rest.strip_prefix('"') {
            Some(q) => {
                let end = q.find('"').ok_or("unclosed quote in path")?;
                (&q[..end], q[end + 1..].strip_prefix('.').unwrap_or(&q[end + 1..]))
            }
            None => rest.split_once('.').unwrap_or((rest, "")),
        };
        v = match seg.parse::<usize>() {
            Ok(k) if v.is_array() => &v[k],
            _ => v.get(seg).ok_or_else(|| format!("{path}: no `{seg}`"))?,
        };
        rest = after;
    }
    Ok(v)
}

/// Splits on spaces, keeping `"quoted words"` (quotes dropped) and a path
/// with quoted segments whole.
fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ' ' if !quoted => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    // A whole-word quote is a value: drop its quotes. A path keeps them.
    words
        .into_iter()
        .enumerate()
        .map(|(k, w)| {
            if k > 0 && w.len() >= 2 && w.starts_with('"') && w.ends_with('"') && !w.starts_with("\"{") {
                w[1..w.len() - 1].to_string()
            } else {
                w
            }
        })
        .collect()
}

/// Replaces every number (digits, with a sign, decimals or exponent) by `#`.
fn mask_numbers(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars
                .peek()
                .is_some_and(|d| d.is_ascii_digit() || *d == '.' || *d == ',' || *d == 'e')
            {
                chars.next();
            }
            if out.ends_with('−') || out.ends_with('-') {
                out.pop();
            }
            out.push('#');
        } else {
            out.push(c);
        }
    }
    out
}

fn check_chapter(rel: &str) {
    let tally = check_markdown(&repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert!(
        tally.runs > 0 && tally.checks > 0,
        "{rel} has no checked example: {tally:?}"
    );
}

#[test]
fn readme_example_holds() {
    check_chapter("README.md");
}

#[test]
fn chapter_scenario_format() {
    check_chapter(CHAPTERS[0]);
}

#[test]
fn chapter_request_level() {
    check_chapter(CHAPTERS[1]);
}

#[test]
fn chapter_faults() {
    check_chapter(CHAPTERS[2]);
}

#[test]
fn chapter_workflows() {
    check_chapter(CHAPTERS[3]);
}

#[test]
fn chapter_sweeps_and_plots() {
    check_chapter(CHAPTERS[4]);
}

#[test]
fn chapter_scale_out() {
    check_chapter(CHAPTERS[5]);
}

#[test]
fn chapter_output_reference() {
    check_chapter(CHAPTERS[6]);
}

#[test]
fn chapter_performance() {
    check_chapter(CHAPTERS[7]);
}

#[test]
fn chapter_validation() {
    check_chapter(CHAPTERS[8]);
}

const TINY: &str = "<!-- file: a.toml -->\n```toml\nname = \"a\"\nhorizon = \"1y\"\ntrials = 50\n\n[[service]]\nname = \"api\"\nfailure = { mean = \"1000h\" }\nrepair = { mean = \"10h\" }\n```\n<!-- run: run a.toml --format json --quiet -->\n";

#[test]
fn a_wrong_figure_is_caught() {
    let right =
        format!("{TINY}The closed form is 99.0099 %.\n<!-- expect: availability.analytic rounds \"99.0099 %\" -->\n");
    check_markdown(&right).expect("the right figure passes");
    for wrong in [
        "The closed form is 99.0199 %.\n<!-- expect: availability.analytic rounds \"99.0199 %\" -->\n",
        "The text quotes nothing.\n<!-- expect: availability.analytic rounds \"99.0099 %\" -->\n",
        "<!-- expect: availability in-ci 0.5 \"0.5\" -->\nThe closed form is 0.5.\n",
        "<!-- expect: availability.nines_is_bound = true -->\n",
        "<!-- expect: trials between 51 60 -->\n",
        "<!-- output exact -->\n```\nnines · b\n```\n",
        "<!-- expect: availability.nope = 1 -->\n",
        "<!-- run: check missing.toml -->\n",
    ] {
        assert!(
            check_markdown(&format!("{TINY}{wrong}")).is_err(),
            "not caught:\n{wrong}"
        );
    }
}

#[test]
fn readme_is_short_and_every_doc_is_linked() {
    let readme = repo("README.md");
    assert!(
        readme.lines().count() <= 300,
        "README has {} lines",
        readme.lines().count()
    );
    let index = repo("docs/README.md");
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") && name != "README.md" {
            assert!(
                index.contains(&format!("({name})")),
                "docs/README.md does not link {name}"
            );
        }
    }
    for chapter in CHAPTERS {
        assert!(
            readme.contains(&format!("({chapter})")),
            "README does not link {chapter}"
        );
    }
}

#[test]
fn relative_links_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "md") {
            files.push(p);
        }
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for link in text.split("](").skip(1).filter_map(|s| s.split(')').next()) {
            let target = link.split('#').next().unwrap();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let path = file.parent().unwrap().join(target);
            assert!(path.exists(), "{}: link to {link} does not resolve", file.display());
        }
    }
}

#[test]
fn ci_runs_the_readme_test_command() {
    let readme = repo("README.md");
    let command = readme
        .lines()
        .find(|l| l.starts_with("cargo test"))
        .expect("README shows the test command")
        .split('#')
        .next()
        .unwrap();
    let words: Vec<&str> = command.split_whitespace().collect();
    let ci = repo(".ci/run");
    let ci_line = ci
        .lines()
        .find(|l| l.starts_with("cargo test"))
        .expect(".ci/run runs cargo test");
    for w in &words {
        assert!(
            ci_line.split_whitespace().any(|c| c == *w),
            ".ci/run's `{ci_line}` lacks `{w}` of README's `{command}`"
        );
    }
}

#[test]
fn chapter_improve() {
    check_chapter("docs/improve.md");
}

#[test]
fn chapter_operations() {
    check_chapter("docs/operations.md");
}

#[test]
fn chapter_slo_alerts() {
    check_chapter("docs/slo-alerts.md");
}

#[test]
fn chapter_zones_and_repair() {
    check_chapter("docs/zones-and-repair.md");
}

#[test]
fn chapter_autoscaling() {
    check_chapter("docs/autoscaling.md");
}
