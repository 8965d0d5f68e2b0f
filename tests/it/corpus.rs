//! The corpus of bad specs under `tests/corpus/`: each file states what
//! `privai check` must report for it, and the test holds the checker to it.
//!
//! A case declares its expectations in comment lines at its top:
//!
//! ```text
//! # expect: PRV012 line 9
//! # expect: PRV040 line 14
//! ```
//!
//! Every expected code must be reported as pointing at that line of the case
//! file itself, and no error with a code not listed may be reported.
//! Warnings are only checked when expected.

use privai::diagnostic::Diagnostic;
use std::path::{Path, PathBuf};

/// One expectation: a code at a line of the case file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    code: String,
    line: usize,
}

fn expectations(path: &Path) -> Vec<Expected> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("# expect:"))
        .map(|rest| {
            let words: Vec<&str> = rest.split_whitespace().collect();
            match words.as_slice() {
                [code, "line", line] => Expected {
                    code: code.to_string(),
                    line: line.parse().expect("line number"),
                },
                _ => panic!("{}: malformed expectation `{rest}`", path.display()),
            }
        })
        .collect()
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut found = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("ncl" | "toml")
            ) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn describe(d: &Diagnostic) -> String {
    format!(
        "{} {} at {} ({})",
        d.severity,
        d.code,
        d.location
            .as_ref()
            .map(|l| l.to_string())
            .unwrap_or_else(|| "nowhere".into()),
        d.message
    )
}

/// Checks one case; returns what is wrong with the checker's answer.
fn verify(path: &Path) -> Vec<String> {
    let expected = expectations(path);
    let mut problems = Vec::new();
    if expected.is_empty() {
        return vec![format!("{}: no `# expect:` line", path.display())];
    }
    let outcome = privai::check::check_file(path);
    let shown = path.display().to_string();
    for e in &expected {
        let hit = outcome.diagnostics.iter().any(|d| {
            d.code == e.code
                && d.location
                    .as_ref()
                    .is_some_and(|l| l.file == shown && l.line == e.line)
        });
        if !hit {
            problems.push(format!(
                "{}: expected {} at line {}, got: [{}]",
                path.display(),
                e.code,
                e.line,
                outcome
                    .diagnostics
                    .iter()
                    .map(describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
    for d in outcome.diagnostics.iter().filter(|d| d.is_error()) {
        if !expected.iter().any(|e| e.code == d.code) {
            problems.push(format!("{}: unexpected {}", path.display(), describe(d)));
        }
    }
    problems
}

#[test]
fn every_bad_spec_reports_its_codes_at_the_right_lines() {
    let cases = cases();
    let problems: Vec<String> = cases.iter().flat_map(|p| verify(p)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_corpus_is_large_and_mixes_nickel_and_toml() {
    let cases = cases();
    let toml = cases
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .count();
    assert!(cases.len() >= 40, "only {} corpus cases", cases.len());
    assert!(toml >= 10, "only {toml} TOML cases");
    assert!(
        cases.len() - toml >= 10,
        "only {} Nickel cases",
        cases.len() - toml
    );
}
