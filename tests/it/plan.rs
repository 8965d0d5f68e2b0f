//! `privai plan`: exit codes, refusals, `--json`.

use crate::apply::{Seed, privai, stdout};
use crate::tools::repo;
use assert_cmd::Command;
use std::ffi::OsStr;

#[test]
fn plan_on_an_empty_root_creates_every_file_and_starts_every_service() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    let out = seed.plan(&spec);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(
        text.starts_with("Actions are indicated with the following symbols:\n  + create\n\n"),
        "{text}"
    );
    assert_eq!(text.matches("\n  + file ").count(), 12, "{text}");
    assert_eq!(text.matches("\n  + service ").count(), 4, "{text}");
    assert_eq!(text.matches("\n  + secret ").count(), 1, "{text}");
    // What the stand-in Ollama and Headscale lack.
    assert_eq!(text.matches("\n  + headscale user ").count(), 2, "{text}");
    assert_eq!(text.matches("\n  + pre-auth key ").count(), 2, "{text}");
    assert_eq!(text.matches("\n  + model ").count(), 2, "{text}");
    assert!(
        text.ends_with("Plan: 23 to add, 0 to change, 0 to delete.\n"),
        "{text}"
    );
    assert!(
        !seed.root().join(".privai/generations").exists(),
        "plan changes nothing"
    );
}

#[test]
fn plan_on_the_live_system_needs_to_know_which_host_this_is() {
    Command::cargo_bin("privai")
        .unwrap()
        .arg("plan")
        .arg(repo("examples/seed-home.ncl"))
        .arg("--host")
        .arg("no-such-host")
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "is none of the spec's hosts (openclaw-server); pass --host NAME, or --root DIR",
        ));
}

#[test]
fn plan_without_detailed_exitcode_exits_0_with_changes() {
    let root = tempfile::tempdir().unwrap();
    Command::cargo_bin("privai")
        .unwrap()
        .arg("plan")
        .arg(repo("examples/seed-home.ncl"))
        .arg("--root")
        .arg(root.path())
        .assert()
        .code(0)
        .stdout(predicates::str::contains("to add"));
}

#[test]
fn a_spec_with_errors_plans_nothing() {
    let root = tempfile::tempdir().unwrap();
    Command::cargo_bin("privai")
        .unwrap()
        .arg("plan")
        .arg(repo("examples/seed-as-written.ncl"))
        .arg("--root")
        .arg(root.path())
        .arg("--detailed-exitcode")
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicates::str::contains("nothing planned"));
}

#[test]
fn plan_json_is_versioned_and_lists_every_change() {
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
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format_version"], "1.1");
    assert_eq!(json["prior_generation"], serde_json::Value::Null);
    assert_eq!(json["resource_changes"].as_array().unwrap().len(), 17);
    assert_eq!(json["summary"]["add"], 17);
}
