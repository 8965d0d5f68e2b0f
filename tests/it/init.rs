//! `privai init`: a spec for this machine that `privai check` accepts.

use assert_cmd::Command;

fn privai(dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("privai").unwrap();
    cmd.current_dir(dir).env("USER", "Anna Smith");
    cmd
}

#[test]
fn init_writes_a_spec_for_this_machine_that_check_accepts_and_prints_the_next_three_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = privai(dir.path()).arg("init").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("Next:\n  privai check\n  privai plan\n  privai apply\n"),
        "{stdout}"
    );
    let spec = std::fs::read_to_string(dir.path().join("privai.ncl")).unwrap();
    assert!(
        spec.contains("users = [ { name = \"anna-smith\" } ]"),
        "{spec}"
    );
    assert!(spec.contains("role = 'primary"));
    let check = privai(dir.path()).arg("check").output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("no problems found"));
}

#[test]
fn init_refuses_to_overwrite_a_spec_without_force() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("privai.ncl"), "# mine\n{}").unwrap();
    let out = privai(dir.path()).arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass `--force`"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("privai.ncl")).unwrap(),
        "# mine\n{}"
    );
    let forced = privai(dir.path())
        .args(["init", "--force"])
        .output()
        .unwrap();
    assert!(forced.status.success());
    assert!(
        std::fs::read_to_string(dir.path().join("privai.ncl"))
            .unwrap()
            .contains("written by `privai init`")
    );
}

#[test]
fn init_with_force_replaces_a_symlink_not_the_file_it_points_to() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere.txt");
    std::fs::write(&elsewhere, "keep me").unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.path().join("privai.ncl")).unwrap();
    let out = privai(dir.path())
        .args(["init", "--force"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "keep me");
}

#[test]
fn init_with_a_profile_and_out_file_names_the_file_in_the_next_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = privai(dir.path())
        .args(["init", "--profile", "linux-server", "--out", "home.ncl"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("  privai plan home.ncl\n"));
    let spec = std::fs::read_to_string(dir.path().join("home.ncl")).unwrap();
    assert!(spec.contains("(import \"privai/profiles/linux-server.ncl\")"));
    let check = privai(dir.path())
        .args(["check", "home.ncl"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn init_names_the_bundled_profiles_when_given_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = privai(dir.path())
        .args(["init", "--profile", "cray-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("m3-pro-36gb"), "{stderr}");
    assert!(!dir.path().join("privai.ncl").exists());
}
