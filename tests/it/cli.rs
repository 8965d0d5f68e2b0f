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
fn every_example_passes_check_without_a_warning_except_the_seed_as_written() {
    for entry in std::fs::read_dir(repo("examples")).unwrap() {
        let path = entry.unwrap().path();
        // The seed taken literally must fail (tests/it/sizing.rs).
        if path.ends_with("seed-as-written.ncl") {
            continue;
        }
        let out = privai().arg("check").arg(&path).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.ends_with(": no problems found\n"),
            "{} fails check or warns:\n{stdout}",
            path.display(),
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

/// The privai commands of the README's quickstart line that runs the main
/// job (`cargo run --release -- …` joined by `&&`), as argument lists.
fn readme_main_job() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("cargo run --release -- apply examples/seed-home.ncl"))
        .expect("the README's quickstart has the main-job command");
    line.split('#')
        .next()
        .unwrap()
        .split("&&")
        .map(|command| {
            let command = command.trim();
            let args = command
                .strip_prefix("cargo run --release -- ")
                .unwrap_or_else(|| panic!("not a privai command: {command}"));
            args.split_whitespace().map(str::to_owned).collect()
        })
        .collect()
}

#[test]
fn the_readme_main_job_command_applies_the_seed_unattended_then_plans_no_changes() {
    let commands = readme_main_job();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(commands[0].contains(&"--auto-approve".to_owned()));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("examples")).unwrap();
    std::fs::copy(
        repo("examples/seed-home.ncl"),
        dir.path().join("examples/seed-home.ncl"),
    )
    .unwrap();
    let apply = privai()
        .args(&commands[0])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .write_stdin("")
        .output()
        .unwrap();
    assert!(
        apply.status.success(),
        "{}{}",
        String::from_utf8_lossy(&apply.stdout),
        String::from_utf8_lossy(&apply.stderr)
    );
    assert!(String::from_utf8_lossy(&apply.stdout).contains("Apply complete!"));
    let plan = privai()
        .args(&commands[1])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(plan.status.success());
    assert!(
        String::from_utf8_lossy(&plan.stdout).contains("No changes. Your system matches the spec."),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
}

#[test]
fn apply_without_a_terminal_and_without_auto_approve_says_how_to_approve() {
    let dir = tempfile::tempdir().unwrap();
    let out = privai()
        .arg("apply")
        .arg(repo("examples/minimal.toml"))
        .arg("--root")
        .arg(dir.path().join("demo"))
        .env("HOME", dir.path())
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.ends_with("Apply cancelled.\n"), "{stdout}");
    assert!(stderr.contains("not a terminal"), "{stderr}");
    assert!(stderr.contains("--auto-approve"), "{stderr}");
    assert!(stderr.contains("privai plan -o plan.json"), "{stderr}");
    assert!(stderr.contains("privai apply plan.json"), "{stderr}");
    assert!(!dir.path().join("demo/mac").exists(), "nothing was applied");
}

#[test]
fn check_prints_its_report_on_stdout_so_it_can_be_piped() {
    let out = privai()
        .args(["check", "examples/seed-as-written.ncl"])
        .current_dir(repo(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("error[PRV066]"), "{stdout}");
    let verdict = stdout.lines().last().unwrap_or_default();
    assert!(
        verdict.starts_with("examples/seed-as-written.ncl: ") && verdict.contains(" error"),
        "the verdict is on stdout: {stdout}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn hints_for_toml_and_json_specs_are_written_in_their_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("privai.toml");
    std::fs::write(&toml, "hosts = []\n").unwrap();
    let json = dir.path().join("privai.json");
    std::fs::write(&json, "{ \"hosts\": [] }\n").unwrap();
    let ncl = dir.path().join("privai.ncl");
    std::fs::write(&ncl, "{ hosts = [] }\n").unwrap();
    let report = |spec: &Path| {
        let out = privai().arg("check").arg(spec).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stdout).unwrap()
    };
    let toml = report(&toml);
    assert!(
        toml.contains(
            r#"`hosts = [{ name = "box", platform = "linux", ram_gb = 16, roles = ["ollama"] }]`"#
        ),
        "{toml}"
    );
    let json = report(&json);
    assert!(
        json.contains(r#"`"hosts": [{ "name": "box", "platform": "linux", "ram_gb": 16, "roles": ["ollama"] }]`"#),
        "{json}"
    );
    let ncl = report(&ncl);
    assert!(
        ncl.contains(
            r#"`hosts = [{ name = "box", platform = 'linux, ram_gb = 16, roles = ['ollama] }]`"#
        ),
        "{ncl}"
    );
}

#[test]
fn models_refuses_a_host_the_spec_does_not_have() {
    privai()
        .args(["models", "examples/seed-home.ncl", "--host", "nosuch"])
        .current_dir(repo(""))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("no host `nosuch`"))
        .stderr(predicates::str::contains("openclaw-server"));
}

#[test]
fn lock_under_root_refuses_rather_than_asking_this_machines_ollama() {
    let dir = tempfile::tempdir().unwrap();
    privai()
        .arg("lock")
        .arg(repo("examples/minimal.toml"))
        .arg("--root")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("only staged"))
        .stderr(predicates::str::contains("without --root"));
    assert!(!repo("examples/privai.lock").exists());
}

#[test]
fn explain_prints_the_long_explanation_of_a_code() {
    let out = privai().args(["explain", "PRV066"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("PRV066: a model does not fit its host's memory"),
        "{text}"
    );
    assert!(text.contains("KV cache"), "{text}");
    assert!(text.contains("Fix:"), "{text}");
    privai()
        .args(["explain", "66"])
        .assert()
        .success()
        .stdout(text.clone());
    privai()
        .args(["explain", "PRV999"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("`privai explain` lists them all"));
    let list = privai().arg("explain").output().unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    assert_eq!(list.lines().count(), privai::codes::ALL.len());
    assert!(
        list.contains("PRV075  a device can reach no service"),
        "{list}"
    );
}

#[test]
fn examples_lists_and_prints_the_bundled_specs_which_check_cleanly() {
    let list = privai().arg("examples").output().unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    for name in ["seed-home.ncl", "minimal.toml", "linux-homelab.ncl"] {
        assert!(list.contains(name), "{list}");
    }
    let dir = tempfile::tempdir().unwrap();
    let printed = privai().args(["examples", "seed-home"]).output().unwrap();
    assert!(printed.status.success());
    assert_eq!(
        printed.stdout,
        std::fs::read(repo("examples/seed-home.ncl")).unwrap()
    );
    std::fs::write(dir.path().join("privai.ncl"), &printed.stdout).unwrap();
    privai()
        .arg("check")
        .current_dir(dir.path())
        .assert()
        .success();
    // The Telegram variant, printed next to the seed it imports.
    std::fs::write(dir.path().join("seed-home.ncl"), &printed.stdout).unwrap();
    let telegram = privai()
        .args(["examples", "seed-telegram"])
        .output()
        .unwrap();
    assert!(telegram.status.success());
    std::fs::write(dir.path().join("privai.ncl"), &telegram.stdout).unwrap();
    privai()
        .arg("check")
        .current_dir(dir.path())
        .assert()
        .success()
        .stdout("privai.ncl: no problems found\n");
    privai()
        .args(["examples", "nosuch"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("seed-home.ncl, minimal.toml"));
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = privai().arg("--version").output().unwrap();
    let version = String::from_utf8(out.stdout).unwrap();
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(repo(""))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    assert_eq!(
        version,
        format!("privai {} (commit {commit})\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_are_generated_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _privai"),
        ("zsh", "#compdef privai"),
        ("fish", "complete -c privai"),
    ] {
        let out = privai().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: {script}");
        for command in ["check", "apply", "explain", "examples"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    if let Some(bash) = which("bash") {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("privai.bash");
        let out = privai().args(["completions", "bash"]).output().unwrap();
        std::fs::write(&file, out.stdout).unwrap();
        let status = std::process::Command::new(bash)
            .arg("-n")
            .arg(&file)
            .status()
            .unwrap();
        assert!(status.success(), "the bash completion does not parse");
    }
}

#[test]
fn the_man_page_documents_every_command() {
    let out = privai().arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH privai 1"), "{page}");
    for command in [
        "check",
        "plan",
        "apply",
        "rollback",
        "explain",
        "completions",
    ] {
        assert!(page.contains(command), "the man page lacks {command}");
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
