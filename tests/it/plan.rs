//! `privai plan --root`: creates on an empty root, no changes once the tree
//! is in place, one update with a diff after an edit, a deletion of a file
//! the previous manifest lists and the spec no longer renders.

use assert_cmd::Command;
use privai::render::manifest::Manifest;
use privai::render::{Rendered, render};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn seed() -> Rendered {
    render(
        &privai::spec::load(&repo("examples/seed-home.ncl"))
            .unwrap()
            .spec,
    )
}

/// Runs `privai plan SEED --root ROOT --detailed-exitcode`: exit code, stdout.
fn plan(root: &Path) -> (i32, String) {
    let output = Command::cargo_bin("privai")
        .unwrap()
        .arg("plan")
        .arg(repo("examples/seed-home.ncl"))
        .arg("--root")
        .arg(root)
        .arg("--detailed-exitcode")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap(), stdout)
}

/// Installs every artifact under `root` as `privai build` lays out its tree.
fn install(root: &Path, rendered: &Rendered) {
    for artifact in &rendered.artifacts {
        let path = root.join(artifact.tree_path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &artifact.contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(artifact.mode)).unwrap();
    }
}

fn action_lines(stdout: &str, symbol: char) -> Vec<&str> {
    let prefix = format!("  {symbol} file ");
    stdout.lines().filter(|l| l.starts_with(&prefix)).collect()
}

#[test]
fn plan_creates_everything_then_nothing_then_one_update() {
    let rendered = seed();
    let n = rendered.artifacts.len();
    let root = tempfile::tempdir().unwrap();

    let (code, stdout) = plan(root.path());
    assert_eq!(code, 2, "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some(format!("Plan: {n} to add, 0 to change, 0 to delete.").as_str())
    );
    assert_eq!(action_lines(&stdout, '+').len(), n, "{stdout}");
    assert!(stdout.contains("  + create\n") && !stdout.contains("  ~ update"));

    install(root.path(), &rendered);
    let (code, stdout) = plan(root.path());
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(stdout, "No changes. Your system matches the spec.\n");

    let edited = rendered
        .artifacts
        .iter()
        .find(|a| !a.secret && std::str::from_utf8(&a.contents).is_ok())
        .unwrap();
    let path = root.path().join(edited.tree_path());
    let mut text = String::from_utf8(edited.contents.clone()).unwrap();
    text.push_str("edited outside privai\n");
    std::fs::write(&path, text).unwrap();
    let (code, stdout) = plan(root.path());
    assert_eq!(code, 2, "{stdout}");
    assert_eq!(
        action_lines(&stdout, '~'),
        [format!(
            "  ~ file {}:{} (mode {:04o}, owner {})",
            edited.host,
            edited.path,
            edited.mode,
            if edited.owner == privai::render::Owner::Root {
                "root"
            } else {
                "user"
            }
        )],
        "{stdout}"
    );
    assert!(action_lines(&stdout, '+').is_empty(), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.trim() == "-edited outside privai"),
        "{stdout}"
    );
    assert!(stdout.ends_with("Plan: 0 to add, 1 to change, 0 to delete.\n"));
}

#[test]
fn a_file_of_the_previous_manifest_the_spec_no_longer_renders_is_deleted() {
    let rendered = seed();
    let root = tempfile::tempdir().unwrap();
    install(root.path(), &rendered);
    let mut previous = rendered.clone();
    let mut gone = previous.artifacts[0].clone();
    gone.path = "/etc/privai-removed.conf".into();
    previous.artifacts.push(gone.clone());
    install(root.path(), &previous);
    let state = root.path().join(".privai");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("manifest.json"),
        Manifest::of(&previous).to_bytes(),
    )
    .unwrap();

    let (code, stdout) = plan(root.path());
    assert_eq!(code, 2, "{stdout}");
    assert_eq!(action_lines(&stdout, '-').len(), 1, "{stdout}");
    assert!(stdout.contains(&format!("{}:/etc/privai-removed.conf", gone.host)));
    assert!(stdout.contains("  - delete\n") && !stdout.contains("  + create"));
    assert!(stdout.ends_with("Plan: 0 to add, 0 to change, 1 to delete.\n"));
}

#[test]
fn plan_without_root_refuses_to_look_at_the_live_system() {
    Command::cargo_bin("privai")
        .unwrap()
        .arg("plan")
        .arg(repo("examples/seed-home.ncl"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "plan against the live system comes with `privai apply`; pass --root DIR",
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
