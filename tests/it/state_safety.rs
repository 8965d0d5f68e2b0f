//! `apply`, `rollback` and `generations` against hostile conditions: a
//! closed output pipe, a kill at every temp file a run writes, umask 000,
//! state others can write, an interrupted run's generation, a held lock.

use crate::apply::{Seed, current, generation_tree, privai, stdout, tree};
use crate::tools::show;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const TG: &str = crate::apply::TELEGRAM;

/// The change the tests make (`apply.rs`'s bigger change: an update
/// restarting Ollama, a deletion, a creation; 6 steps).
const CHANGE: &str = crate::apply::BIG_CHANGE;
const CHANGE_STEPS: usize = 6;

fn privai_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("privai")
}

/// `privai apply SPEC --root ROOT --auto-approve`, staged, with `env`.
fn apply(spec: &Path, root: &Path, env: &[(&str, &OsStr)]) -> std::process::Output {
    privai(
        [
            OsStr::new("apply"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--auto-approve".as_ref(),
        ],
        env,
    )
}

fn plan(spec: &Path, root: &Path, env: &[(&str, &OsStr)]) -> std::process::Output {
    privai(
        [
            OsStr::new("plan"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
        ],
        env,
    )
}

/// Every path under `dir` (state directory included) that a finished run
/// must not leave: temp files, pre-images (of secrets above all), a `run/`
/// directory, a journal, a partial generation.
pub fn leftovers(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let stale = name.contains(".privai-tmp-")
            || name.contains(".privai-pre-")
            || name.ends_with(".partial")
            || name == "journal.ndjson"
            || (name == "run" && path.parent().is_some_and(|p| p.ends_with(".privai")));
        if stale {
            found.push(path.display().to_string());
        }
        if path.is_dir() && !path.is_symlink() {
            found.extend(leftovers(&path));
        }
    }
    found
}

/// Every path under `dir` whose mode lets `bits` (e.g. `0o022`) write it.
fn writable_by(dir: &Path, bits: u32) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.permissions().mode() & bits != 0 {
            found.push(format!(
                "{} {:o}",
                path.display(),
                meta.permissions().mode() & 0o7777
            ));
        }
        if meta.is_dir() {
            found.extend(writable_by(&path, bits));
        }
    }
    found
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn a_run_killed_at_each_temp_file_it_writes_leaves_no_temp_file_secret_copy_or_run_dir() {
    let seed = Seed::new();
    let root = seed.root();
    let spec_a = seed.spec("a.ncl", TG);
    let spec_b = seed.spec("b.ncl", &format!("{TG}\n{CHANGE}"));
    let old = OsStr::new("tg-OLD-secret-1111");
    let new = OsStr::new("tg-NEW-secret-2222");
    let out = apply(&spec_a, &root, &[("PRIVAI_TEST_TG_TOKEN", old)]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let before = tree(&root);
    let token = root.join("openclaw-server/HOME/.config/privai/secrets/telegram-token");

    // The same change, killed at its 1st, 2nd, … temp file, each time
    // recovered back to generation 1, until a run writes no temp file more.
    let mut k = 1;
    loop {
        let n = k.to_string();
        let killed = apply(
            &spec_b,
            &root,
            &[
                ("PRIVAI_TEST_TG_TOKEN", new),
                ("PRIVAI_TEST_CRASH_AT_TEMP", OsStr::new(&n)),
            ],
        );
        if killed.status.code() == Some(0) {
            break;
        }
        assert_eq!(killed.status.code(), None, "at {k}: {}", show(&killed));
        let next = plan(&spec_b, &root, &[("PRIVAI_TEST_TG_TOKEN", new)]);
        assert_eq!(next.status.code(), Some(0), "after {k}: {}", show(&next));
        assert!(
            String::from_utf8_lossy(&next.stderr).contains("was interrupted"),
            "after {k}: {}",
            show(&next)
        );
        assert_eq!(
            leftovers(&root),
            Vec::<String>::new(),
            "after a kill at temp file {k}"
        );
        match current(&root) {
            Some(1) => {
                assert_eq!(tree(&root), before, "after {k}: the old tree");
                assert_eq!(std::fs::read(&token).unwrap(), old.as_encoded_bytes());
            }
            other => panic!("after {k}: generation {other:?} is current"),
        }
        k += 1;
    }
    assert!(k > 10, "the change writes more than 10 temp files, not {k}");
    assert_eq!(current(&root), Some(2));
    assert_eq!(tree(&root), generation_tree(&root, 2));
    assert_eq!(leftovers(&root), Vec::<String>::new());
}

#[test]
fn apply_under_umask_000_creates_its_state_0700_and_nothing_others_can_write() {
    let seed = Seed::new();
    let root = seed.root();
    let a = seed.spec("a.ncl", "");
    let b = seed.spec("b.ncl", CHANGE);
    let under_umask_000 = |spec: &Path, failpoint: Option<&str>| {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("umask 000; exec \"$0\" \"$@\"")
            .arg(privai_bin())
            .args([OsStr::new("apply"), spec.as_os_str(), "--root".as_ref()])
            .arg(&root)
            .arg("--auto-approve")
            .env_remove("PRIVAI_TEST_SERVICES")
            .env_remove("PRIVAI_TEST_FAILPOINT");
        if let Some(k) = failpoint {
            cmd.env("PRIVAI_TEST_FAILPOINT", k);
        }
        cmd.output().unwrap()
    };

    let out = under_umask_000(&a, None);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let state = root.join(".privai");
    for dir in ["", "generations", "generations/1", "store"] {
        assert_eq!(mode(&state.join(dir)), 0o700, "`.privai/{dir}`");
    }
    assert_eq!(writable_by(&state, 0o022), Vec::<String>::new());
    assert_eq!(writable_by(&root, 0o002), Vec::<String>::new());

    // A run killed after its first step: its backups are private too.
    let killed = under_umask_000(&b, Some("1"));
    assert_eq!(killed.status.code(), None, "{}", show(&killed));
    assert_eq!(mode(&state.join("run")), 0o700);
    assert_eq!(mode(&state.join("run/backup")), 0o700);
    assert_eq!(writable_by(&state, 0o022), Vec::<String>::new());

    // The state passes privai's own check: the next command recovers.
    let next = plan(&b, &root, &[]);
    assert_eq!(next.status.code(), Some(0), "{}", show(&next));
    assert_eq!(tree(&root), generation_tree(&root, 1));
}

fn rollback(root: &Path, to: Option<&str>) -> std::process::Output {
    let mut args = vec![
        OsStr::new("rollback"),
        "--root".as_ref(),
        root.as_os_str(),
        "--auto-approve".as_ref(),
    ];
    if let Some(n) = to {
        args.extend([OsStr::new("--to"), OsStr::new(n)]);
    }
    privai(args, &[])
}

#[test]
fn rollback_refuses_a_generation_others_can_write_naming_the_chmod_that_fixes_it() {
    let seed = Seed::new();
    let root = seed.root();
    for (name, extra) in [("a.ncl", ""), ("b.ncl", CHANGE)] {
        let out = apply(&seed.spec(name, extra), &root, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    }
    let state = root.join(".privai");
    let manifest = state.join("generations/1/manifest.json");
    std::fs::set_permissions(&manifest, std::fs::Permissions::from_mode(0o666)).unwrap();

    let out = rollback(&root, Some("1"));

    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("`{}`", manifest.display())), "{err}");
    assert!(
        err.contains(&format!("chmod -R go-w {}", state.display())),
        "{err}"
    );
    assert_eq!(current(&root), Some(2));
    assert_eq!(tree(&root), generation_tree(&root, 2), "nothing installed");

    // A group-writable generation directory, the same.
    std::fs::set_permissions(&manifest, std::fs::Permissions::from_mode(0o644)).unwrap();
    let dir = state.join("generations/1");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
    let out = rollback(&root, Some("1"));
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("generations/1` is writable by others"),
        "{}",
        show(&out)
    );
    assert_eq!(current(&root), Some(2));
}

#[test]
fn an_interrupted_runs_generation_is_not_listed_nor_rolled_back_to() {
    let seed = Seed::new();
    let root = seed.root();
    let a = seed.spec("a.ncl", "");
    let b = seed.spec("b.ncl", CHANGE);
    assert_eq!(apply(&a, &root, &[]).status.code(), Some(0));
    // Killed once generation 2 is written, before it is made current.
    let steps = CHANGE_STEPS;
    let killed = apply(
        &b,
        &root,
        &[(
            "PRIVAI_TEST_FAILPOINT",
            OsStr::new(&(steps + 1).to_string()),
        )],
    );
    assert_eq!(killed.status.code(), None, "{}", show(&killed));
    assert!(
        root.join(".privai/generations/2").is_dir(),
        "killed after writing generation 2 ({steps} steps)"
    );

    let list = privai(
        [
            OsStr::new("generations"),
            "--root".as_ref(),
            root.as_os_str(),
        ],
        &[],
    );
    let text = stdout(&list);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.lines().nth(1).unwrap().starts_with("*    1 "),
        "{text}"
    );

    let out = rollback(&root, Some("2"));
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("generation 2 was never made current"),
        "{}",
        show(&out)
    );
    assert_eq!(current(&root), Some(1));
    assert!(
        root.join(".privai/journal.ndjson").exists(),
        "the interrupted run is left for recovery, not installed"
    );

    // The next command that recovers undoes it, generation 2 included.
    let next = plan(&b, &root, &[]);
    assert_eq!(next.status.code(), Some(0), "{}", show(&next));
    assert_eq!(tree(&root), generation_tree(&root, 1));
    assert!(!root.join(".privai/generations/2").exists());
}

#[test]
fn rollback_while_an_apply_holds_the_lock_names_the_holder() {
    let seed = Seed::new();
    let root = seed.root();
    let a = seed.spec("a.ncl", "");
    assert_eq!(apply(&a, &root, &[]).status.code(), Some(0));
    let b = seed.spec("b.ncl", CHANGE);
    let mut holder = Command::new(privai_bin())
        .arg("apply")
        .arg(&b)
        .arg("--root")
        .arg(&root)
        .env_remove("PRIVAI_TEST_SERVICES")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It holds the lock while it waits for "yes".
    let lock_info = root.join(".privai/lock.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !lock_info.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the apply never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    let out = rollback(&root, None);

    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("pid {}", holder.id())), "{err}");
    assert!(!err.contains("is the first one"), "{err}");
    holder.stdin.take().unwrap().write_all(b"no\n").unwrap();
    assert_eq!(holder.wait().unwrap().code(), Some(1));
    assert_eq!(current(&root), Some(1));
}

#[test]
fn apply_with_its_output_closed_before_it_prints_applies_nothing_and_exits_1() {
    let seed = Seed::new();
    let root = seed.root();
    let a = seed.spec("a.ncl", "");
    let mut child = Command::new(privai_bin())
        .arg("apply")
        .arg(&a)
        .arg("--root")
        .arg(&root)
        .arg("--auto-approve")
        .env_remove("PRIVAI_TEST_SERVICES")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());

    let out = child.wait_with_output().unwrap();

    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing was applied"), "{err}");
    assert_eq!(tree(&root), Default::default());
    assert_eq!(current(&root), None);
    assert_eq!(leftovers(&root), Vec::<String>::new());
}

#[test]
fn apply_whose_output_closes_mid_run_finishes_it_and_exits_1_saying_so() {
    let seed = Seed::new();
    let root = seed.root();
    let a = seed.spec("a.ncl", "");
    // The gateway answers its health check only once the reader is gone,
    // so the run still has lines to print after that.
    seed.gateway.answer(503);
    let mut child = Command::new(privai_bin())
        .arg("apply")
        .arg(&a)
        .arg("--root")
        .arg(&root)
        .arg("--auto-approve")
        .env("PRIVAI_TEST_SERVICES", seed.log())
        .env("PRIVAI_TEST_HS_KEY", crate::apply::HEADSCALE_KEY)
        .env_remove("PRIVAI_TEST_FAILPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while line != "Applying:\n" {
        line.clear();
        assert_ne!(reader.read_line(&mut line).unwrap(), 0, "no `Applying:`");
    }
    drop(reader);
    seed.gateway.answer(200);

    let out = child.wait_with_output().unwrap();

    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("output was lost while it applied"), "{err}");
    assert!(err.contains("generation 1 is current"), "{err}");
    assert_eq!(current(&root), Some(1));
    assert_eq!(tree(&root), generation_tree(&root, 1));
    assert_eq!(leftovers(&root), Vec::<String>::new());
}

/// Runs privai with `args`, stdout a pipe the test closes after reading
/// `first` bytes (0: before privai writes anything).
fn with_stdout_closed_after(first: usize, args: &[&OsStr]) -> std::process::Output {
    let mut child = Command::new(privai_bin())
        .args(args)
        .env_remove("PRIVAI_TEST_SERVICES")
        .env_remove("PRIVAI_TEST_FAILPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = child.stdout.take().unwrap();
    let mut got = vec![0u8; first];
    std::io::Read::read_exact(&mut reader, &mut got).unwrap();
    drop(reader);
    child.wait_with_output().unwrap()
}

#[test]
fn read_only_json_commands_end_quietly_with_status_0_when_their_reader_goes_away() {
    let seed = Seed::new();
    let root = seed.root();
    let spec = seed.spec("a.ncl", "");
    assert_eq!(apply(&spec, &root, &[]).status.code(), Some(0));
    let saved = seed.dir.path().join("a.plan");
    let commands: [Vec<&OsStr>; 4] = [
        vec![
            "plan".as_ref(),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--json".as_ref(),
            "-o".as_ref(),
            saved.as_os_str(),
        ],
        vec!["acl".as_ref(), spec.as_os_str(), "--json".as_ref()],
        vec![
            "check".as_ref(),
            spec.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ],
        vec!["generations".as_ref(), "--root".as_ref(), root.as_os_str()],
    ];
    for args in &commands {
        for first in [0, 1] {
            let out = with_stdout_closed_after(first, args);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{args:?} after {first} bytes: {}",
                show(&out)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stderr),
                "",
                "{args:?} after {first} bytes"
            );
        }
    }
    assert!(
        saved.is_file(),
        "`plan -o` wrote its file whatever stdout did"
    );
}
