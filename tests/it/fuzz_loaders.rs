//! Fuzzing the spec loaders (Nickel, TOML, JSON): mutations of real specs and
//! hostile fragments must give diagnostics, never a panic, a crash or a hang.
//!
//! Ignored by default (not in CI); `tests/fuzz/run.sh` runs it for minutes.

use privai::spec::{Limits, load_with};
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Cases run so far, printed every 100 (tests/fuzz/run.sh reports the total).
static CASES: AtomicUsize = AtomicUsize::new(0);

/// Seeds: one spec per loader, and fragments that broke loaders before.
const SEEDS: &[(&str, &str)] = &[
    ("ncl", include_str!("../../examples/seed-home.ncl")),
    ("toml", include_str!("../../examples/minimal.toml")),
    ("json", include_str!("../fixtures/equivalence/home.json")),
];

const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "\\",
    "%{",
    "=",
    ":",
    "1e30",
    "1e400",
    "-0",
    "null",
    "import \"/etc/passwd\" as 'Text",
    "import \"../x.ncl\"",
    "import \"/dev/zero\"",
    "let rec f = fun n => f (n + 1) in f 0",
    "std.array.generate (fun i => i) 1000000000",
    "\u{feff}",
    "\u{0}",
    "\n",
    "[[hosts]]",
    "a.b.c.d.e.f.g.h",
    "| force",
    "& {}",
    "\"\"\"",
];

fn mutate(text: &str, edits: &[(usize, usize, u8)]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for &(at, what, byte) in edits {
        let at = at % (bytes.len() + 1);
        match what % 4 {
            0 => bytes.insert(at, byte),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            2 => {
                let fragment = FRAGMENTS[byte as usize % FRAGMENTS.len()];
                bytes.splice(at..at, fragment.bytes());
            }
            _ => {
                // Repeat a slice: deep nesting and long lines.
                let end = (at + byte as usize % 16 + 1).min(bytes.len());
                let slice = bytes[at..end].to_vec();
                for _ in 0..(byte as usize * 8) {
                    bytes.splice(at..at, slice.iter().copied());
                }
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    #[ignore = "fuzzing, minutes long: tests/fuzz/run.sh"]
    fn loaders_give_diagnostics_never_a_crash(
        seed in 0..SEEDS.len(),
        edits in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<u8>()), 0..6),
    ) {
        let (extension, text) = SEEDS[seed];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("spec.{extension}"));
        std::fs::write(&path, mutate(text, &edits)).unwrap();
        let limits = Limits {
            max_memory: 256 << 20,
            max_time: Duration::from_secs(10),
            allow_import: Vec::new(),
        };
        let start = Instant::now();
        match load_with(&path, &limits) {
            Ok(_) => {}
            Err(e) => {
                prop_assert!(!e.diagnostics.is_empty());
                for d in &e.diagnostics {
                    prop_assert!(d.code.starts_with("PRV"));
                    prop_assert!(d.code != "PRV094", "engine failure: {}", d.message);
                    prop_assert!(d.code != "PRV008", "schema mismatch: {}", d.message);
                }
            }
        }
        prop_assert!(start.elapsed() < Duration::from_secs(15));
        let done = CASES.fetch_add(1, Ordering::Relaxed) + 1;
        if done.is_multiple_of(100) {
            eprintln!("fuzz: {done} cases, no crash");
        }
    }
}
