//! `privai plan --json` on the bundled examples, kept byte for byte: the
//! receipt a reviewer or a pipeline reads must not change when privai's
//! insides are rearranged.

use crate::apply::{Seed, privai, stdout};
use crate::tools::{repo, show};
use std::ffi::OsStr;

/// `privai plan EXAMPLE --root EMPTY --json` (a staged install), with the
/// temporary root written as `ROOT`.
fn staged_plan_json(example: &str) -> String {
    let root = tempfile::tempdir().unwrap();
    let out = privai(
        [
            OsStr::new("plan"),
            repo(example).as_os_str(),
            "--root".as_ref(),
            root.path().as_os_str(),
            "--json".as_ref(),
        ],
        &[("OPENCLAW_GATEWAY_TOKEN", OsStr::new("golden-token"))],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    stdout(&out).replace(&root.path().display().to_string(), "ROOT")
}

#[test]
fn the_seed_example_plans_the_same_json() {
    insta::assert_snapshot!(staged_plan_json("examples/seed-home.ncl"));
}

#[test]
fn the_minimal_example_plans_the_same_json() {
    insta::assert_snapshot!(staged_plan_json("examples/minimal.toml"));
}

#[test]
fn the_linux_homelab_example_plans_the_same_json() {
    insta::assert_snapshot!(staged_plan_json("examples/linux-homelab.ncl"));
}

/// The seed against the stand-ins (users, keys and models to create too);
/// what depends on their random ports is written as `PORT`/`HASH`.
#[test]
fn the_seed_against_live_services_plans_the_same_json() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    let root = seed.root();
    let out = privai(
        [
            OsStr::new("plan"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--json".as_ref(),
        ],
        &[
            ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
            (
                "PRIVAI_TEST_HS_KEY",
                OsStr::new(crate::apply::HEADSCALE_KEY),
            ),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let mut json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    redact(&mut json, &seed.dir.path().display().to_string());
    insta::assert_json_snapshot!(json);
}

/// Hashes (of files that hold the stand-ins' ports) become `HASH`, the
/// ports `PORT`, the temporary directory `DIR`.
fn redact(value: &mut serde_json::Value, dir: &str) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if matches!(key.as_str(), "sha256" | "observed_fingerprint") && v.is_string() {
                    *v = Value::from("HASH");
                } else {
                    redact(v, dir);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, dir)),
        Value::String(s) => {
            let mut text = s.replace(dir, "DIR");
            for port in ports_in(&text) {
                text = text.replace(&format!(":{port}"), ":PORT");
            }
            *s = text;
        }
        _ => {}
    }
}

/// Numbers after a `127.0.0.1:` in `text`.
fn ports_in(text: &str) -> Vec<String> {
    text.match_indices("127.0.0.1:")
        .map(|(at, m)| {
            text[at + m.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect()
        })
        .filter(|p: &String| !p.is_empty())
        .collect()
}

/// The human plan of the same staged install, kept as well: both are
/// rendered from one description of each change.
#[test]
fn the_seed_and_homelab_examples_plan_the_same_text() {
    for example in ["examples/seed-home.ncl", "examples/linux-homelab.ncl"] {
        let root = tempfile::tempdir().unwrap();
        let out = privai(
            [
                OsStr::new("plan"),
                repo(example).as_os_str(),
                "--root".as_ref(),
                root.path().as_os_str(),
            ],
            &[("OPENCLAW_GATEWAY_TOKEN", OsStr::new("golden-token"))],
        );
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        let text = stdout(&out).replace(&root.path().display().to_string(), "ROOT");
        insta::assert_snapshot!(example.replace(['/', '.'], "_"), text);
    }
}
