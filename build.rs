//! Names the commit the binary is built from, for `nines --version`:
//! `NINES_COMMIT` is `git rev-parse --short HEAD`, or `unknown` outside a
//! git checkout (a crates.io download, a source tarball). Only the version
//! line carries it; no result file does, so results stay byte-identical
//! across commits of one release.
//!
//! The script reruns when HEAD moves (a checkout, or a commit on the
//! current branch), and only then: it watches `HEAD`, the branch's ref file
//! and `packed-refs`, each only when it exists (a missing file would make
//! cargo rerun it on every build).

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=NINES_COMMIT");
    let commit = std::env::var("NINES_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=NINES_COMMIT={commit}");
    let (Some(git_dir), Some(common)) = (
        git(&["rev-parse", "--absolute-git-dir"]),
        git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]),
    ) else {
        return;
    };
    let mut watch = vec![
        PathBuf::from(&git_dir).join("HEAD"),
        PathBuf::from(&common).join("packed-refs"),
    ];
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(PathBuf::from(&common).join(r));
    }
    for p in watch.into_iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", p.display());
    }
}
