//! `privai status` against the stand-ins of an applied seed, healthy and
//! with each failure of the seed's "Failure Response" injected.

use crate::apply::{HEADSCALE_KEY, Seed, privai, stdout};
use crate::tools::repo;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

/// `privai status SPEC --root ROOT ARGS`, observing the stand-ins.
fn status(seed: &Seed, spec: &Path, args: &[&str]) -> Output {
    let root = seed.root();
    let mut all: Vec<&OsStr> = vec![
        "status".as_ref(),
        spec.as_os_str(),
        "--root".as_ref(),
        root.as_os_str(),
    ];
    all.extend(args.iter().map(OsStr::new));
    privai(
        all,
        &[
            ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
            ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
        ],
    )
}

/// The seed on the stand-ins' ports, plus `extra`. The seed is copied next
/// to the spec: imports stay inside the spec's directory.
fn seed_spec(seed: &Seed, extra: &str) -> std::path::PathBuf {
    let base = seed.dir.path().join("seed-home.ncl");
    std::fs::copy(repo("examples/seed-home.ncl"), &base).unwrap();
    seed.spec_on(&base, "privai.ncl", extra)
}

/// The seed applied, with both models present and the gateway healthy.
fn applied() -> (Seed, std::path::PathBuf) {
    let seed = Seed::with_ollama_having(&["codellama:13b", "llama3.2:3b"]);
    let spec = seed_spec(&seed, "");
    let out = seed.apply(&spec, &[]);
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    (seed, spec)
}

#[test]
fn an_applied_seed_with_every_service_answering_is_reported() {
    let (seed, spec) = applied();
    let out = status(&seed, &spec, &[]);
    let text = stdout(&out);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}");
}
