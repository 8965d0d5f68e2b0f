//! The `privai` command as users run it.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn privai() -> Command {
    let mut cmd = Command::cargo_bin("privai").unwrap();
    cmd.env_remove("NO_COLOR");
    cmd
}

#[test]
fn checking_the_seed_example_succeeds() {
    privai()
        .args(["check", "examples/seed-home.ncl"])
        .current_dir(repo(""))
        .assert()
        .success()
        .stdout("examples/seed-home.ncl: no problems found\n")
        .stderr("");
}

#[test]
fn every_example_passes_check_except_the_seed_as_written() {
    for entry in std::fs::read_dir(repo("examples")).unwrap() {
        let path = entry.unwrap().path();
        // The seed taken literally must fail (tests/it/sizing.rs).
        if path.ends_with("seed-as-written.ncl") {
            continue;
        }
        let out = privai().arg("check").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{} fails check:\n{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn check_without_a_spec_uses_privai_ncl_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("privai.ncl"),
        r#"{ hosts = [ { name = "box", platform = 'linux, ram_gb = "16" } ] }"#,
    )
    .unwrap();
    privai()
        .arg("check")
        .current_dir(dir.path())
        .assert()
        .code(1)
        .stdout(predicates::str::contains("┌─ privai.ncl:1:57"));
}

#[test]
fn check_without_a_spec_and_none_here_says_what_it_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    privai()
        .arg("check")
        .current_dir(dir.path())
        .assert()
        .code(1)
        .stdout(predicates::str::contains("PRV000"))
        .stdout(predicates::str::contains("privai.ncl, privai.toml"));
}

#[test]
fn a_missing_spec_file_is_an_error_not_a_crash() {
    privai()
        .args(["check", "does-not-exist.ncl"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("PRV000"));
}

#[test]
fn human_output_has_no_colour_when_not_on_a_terminal() {
    let out = privai()
        .args(["check", "tests/corpus/eval/wrong-type.ncl"])
        .current_dir(repo(""))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!stdout.contains('\u{1b}'), "ANSI escapes in: {stdout}");
    assert!(stdout.contains("error[PRV004]"));
    assert!(stdout.contains("tests/corpus/eval/wrong-type.ncl:8:16"));
}

#[test]
fn json_output_lists_code_path_and_location() {
    let out = privai()
        .args([
            "check",
            "--format",
            "json",
            "tests/corpus/eval/wrong-type.ncl",
        ])
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["errors"], 1);
    let d = &report["diagnostics"][0];
    assert_eq!(d["code"], "PRV004");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["path"], "hosts[0].ram_gb");
    assert_eq!(d["location"]["file"], "tests/corpus/eval/wrong-type.ncl");
    assert_eq!(d["location"]["line"], 8);
    assert_eq!(d["location"]["column"], 16);
}

#[test]
fn github_output_is_one_annotation_per_diagnostic() {
    let out = privai()
        .args([
            "check",
            "--format",
            "github",
            "tests/corpus/eval/wrong-type.ncl",
        ])
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with(
            "::error file=tests/corpus/eval/wrong-type.ncl,line=8,col=16,title=PRV004::"
        ),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1);
}

#[test]
fn the_bundled_modules_need_no_files_beside_the_binary_or_the_spec() {
    // A copy of the binary in an empty directory, a spec in another: the
    // profile import and the option modules come from inside the binary.
    let bin_dir = tempfile::tempdir().unwrap();
    let spec_dir = tempfile::tempdir().unwrap();
    let binary = bin_dir.path().join("privai");
    std::fs::copy(assert_cmd::cargo::cargo_bin("privai"), &binary).unwrap();
    std::fs::write(
        spec_dir.path().join("privai.ncl"),
        r#"(import "privai/profiles/mac-8gb.ncl") & { hosts = [ { name = "mac", roles = ['ollama] } ] }"#,
    )
    .unwrap();
    let out = std::process::Command::new(&binary)
        .args(["check", "--format", "json"])
        .current_dir(spec_dir.path())
        .env("HOME", spec_dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(std::fs::read_dir(spec_dir.path()).unwrap().count(), 1);
}
