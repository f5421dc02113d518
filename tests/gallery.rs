//! The plot gallery in `docs/gallery/` is what `scripts/gallery.sh` would
//! write today: every line of its manifest is rerun with the real binary
//! and must give the same PNG bytes (output is deterministic), every
//! example scenario has a line, and every PNG decodes to a full-size RGB
//! image. When a plot, scenario or the model changes, rerun the script.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::Dir;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(name, nines arguments)` per manifest line.
fn manifest() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(repo().join("docs/gallery/manifest.txt")).expect("docs/gallery/manifest.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (name, args) = l
                .split_once('\t')
                .unwrap_or_else(|| panic!("manifest line without a tab: {l}"));
            let args = args.split_whitespace().map(|a| a.replace("scenarios/", "")).collect();
            (name.to_string(), args)
        })
        .collect()
}

/// The PNG files of a folder, by name.
fn pngs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn assert_full_size_png(bytes: &[u8], what: &str) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!((info.width, info.height), (960, 600), "{what}");
    assert_eq!(info.color_type, png::ColorType::Rgb, "{what}");
    assert!(buf.iter().any(|&c| c < 128), "{what}: no dark pixel");
}

#[test]
fn every_example_scenario_is_in_the_gallery() {
    let listed: Vec<String> = manifest().into_iter().map(|(n, _)| n).collect();
    for e in std::fs::read_dir(repo().join("scenarios")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(
                listed.contains(&name),
                "scenarios/{name}.toml has no gallery line: run scripts/gallery.sh"
            );
        }
    }
    let page = std::fs::read_to_string(repo().join("docs/gallery.md")).unwrap();
    for name in &listed {
        assert!(
            page.contains(&format!("gallery/{name}/")),
            "docs/gallery.md shows nothing of {name}"
        );
    }
}

#[test]
fn the_gallery_is_up_to_date() {
    let lines = manifest();
    let dir = Dir::new();
    for f in std::fs::read_dir(repo().join("scenarios")).unwrap() {
        let path = f.unwrap().path();
        std::fs::copy(&path, dir.path_of(&path.file_name().unwrap().to_string_lossy())).unwrap();
    }
    // Two at a time: the request-level lines dominate and the machine the
    // suite targets has two cores.
    let halves: Vec<Vec<&(String, Vec<String>)>> = vec![
        lines.iter().step_by(2).collect(),
        lines.iter().skip(1).step_by(2).collect(),
    ];
    std::thread::scope(|s| {
        for half in &halves {
            let dir = &dir;
            s.spawn(move || {
                for (name, args) in half {
                    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let out = format!("g/{name}");
                    args.extend(["--out", &out, "--quiet"]);
                    if args[0] == "run" {
                        args.push("--plot");
                    }
                    dir.nines(&args).ok();
                }
            });
        }
    });
    for (name, _) in &lines {
        let made = pngs(&dir.path_of(&format!("g/{name}")));
        let kept = pngs(&repo().join("docs/gallery").join(name));
        assert_eq!(
            made.keys().collect::<Vec<_>>(),
            kept.keys().collect::<Vec<_>>(),
            "{name}: other figures than docs/gallery holds; run scripts/gallery.sh"
        );
        for (file, bytes) in &made {
            assert_full_size_png(bytes, &format!("{name}/{file}"));
            assert!(
                *bytes == kept[file],
                "docs/gallery/{name}/{file} is out of date: run scripts/gallery.sh"
            );
        }
    }
}
