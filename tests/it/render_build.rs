//! `privai build`: a deterministic tree of every artifact plus a manifest,
//! and every artifact parsing in its own format, whatever the spec's values.

use assert_cmd::Command;
use privai::render::{Artifact, render};
use std::path::{Path, PathBuf};
use std::process::Command as Process;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn privai() -> Command {
    Command::cargo_bin("privai").unwrap()
}

/// Builds `spec` into `out`; returns the generation hash printed.
fn build(spec: &Path, out: &Path) -> String {
    let output = privai()
        .arg("build")
        .arg(spec)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("generation "))
        .unwrap()
        .to_owned()
}

/// Every file under `dir`, relative, with its bytes and mode.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
                files.push((
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                    mode,
                ));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn building_twice_and_from_another_directory_gives_identical_trees_and_hash() {
    let work = tempfile::tempdir().unwrap();
    // Two copies of the spec in different directories, as on two machines.
    let mut hashes = Vec::new();
    let mut trees = Vec::new();
    for (i, dir) in ["one", "elsewhere/two"].iter().enumerate() {
        let spec_dir = work.path().join(dir);
        std::fs::create_dir_all(&spec_dir).unwrap();
        let spec = spec_dir.join("privai.ncl");
        std::fs::copy(repo("examples/seed-home.ncl"), &spec).unwrap();
        let out = work.path().join(format!("out{i}"));
        hashes.push(build(&spec, &out));
        // Rebuilding into the same directory replaces the earlier build.
        hashes.push(build(&spec, &out));
        trees.push(tree(&out));
    }
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");
    assert_eq!(trees[0], trees[1]);
    // No path of the build machine leaks into any artifact.
    let machine = work.path().to_string_lossy().to_string();
    for (path, bytes, _) in &trees[0] {
        assert!(
            !String::from_utf8_lossy(bytes).contains(&machine),
            "{} contains the build directory",
            path.display()
        );
    }
}

#[test]
fn the_manifest_lists_every_file_with_digest_mode_and_the_hash_is_its_sha256() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let hash = build(&repo("examples/seed-home.ncl"), &out);
    let manifest_bytes = std::fs::read(out.join("manifest.json")).unwrap();
    assert_eq!(hash, privai::render::manifest::sha256_hex(&manifest_bytes));
    let manifest: serde_json::Value = serde_json::from_slice(&manifest_bytes).unwrap();
    let files = manifest["files"].as_array().unwrap();
    let on_disk = tree(&out);
    assert_eq!(
        files.len() + 1,
        on_disk.len(),
        "manifest.json plus one file per entry"
    );
    for entry in files {
        let path = entry["path"].as_str().unwrap();
        let host = entry["host"].as_str().unwrap();
        let relative = match path.strip_prefix("~/") {
            Some(rest) => Path::new(host).join("HOME").join(rest),
            None => Path::new(host).join(path.trim_start_matches('/')),
        };
        let (_, bytes, mode) = on_disk.iter().find(|(p, _, _)| *p == relative).unwrap();
        assert_eq!(entry["sha256"], privai::render::manifest::sha256_hex(bytes));
        assert_eq!(entry["mode"], format!("{mode:04o}"));
        if entry["secret"] == true {
            assert_eq!(*mode, 0o600, "{path} holds a secret");
        }
    }
    assert_eq!(manifest["models"][0]["name"], "codellama:13b");
}

#[test]
fn a_spec_with_errors_builds_nothing() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    privai()
        .arg("build")
        .arg(repo("examples/seed-as-written.ncl"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("nothing built"));
    assert!(!out.exists());
}

#[test]
fn build_refuses_to_replace_a_directory_that_is_not_an_earlier_build() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("notes.txt"), "mine").unwrap();
    privai()
        .arg("build")
        .arg(repo("examples/seed-home.ncl"))
        .arg("--out")
        .arg(work.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("not an earlier privai build"));
    assert_eq!(
        std::fs::read_to_string(work.path().join("notes.txt")).unwrap(),
        "mine"
    );
}

/// Asserts that `artifact` parses in the format its name says.
fn assert_parses(artifact: &Artifact, dir: &Path) {
    let path = &artifact.path;
    let text = String::from_utf8(artifact.contents.clone())
        .unwrap_or_else(|_| panic!("{path} is not UTF-8"));
    let file = dir.join(path.rsplit('/').next().unwrap());
    std::fs::write(&file, &artifact.contents).unwrap();
    let ok = if path.ends_with(".json") {
        serde_json::from_str::<serde_json::Value>(&text).is_ok()
    } else if path.ends_with(".hujson") {
        let json: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        serde_json::from_str::<serde_json::Value>(&json).is_ok()
    } else if path.ends_with(".yaml") {
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text).is_ok()
    } else if path.ends_with(".plist") {
        Process::new("python3")
            .args([
                "-c",
                "import plistlib,sys; plistlib.load(open(sys.argv[1],'rb'))",
            ])
            .arg(&file)
            .status()
            .unwrap()
            .success()
    } else if path.ends_with(".sh") {
        Process::new("sh")
            .arg("-n")
            .arg(&file)
            .status()
            .unwrap()
            .success()
    } else if path.ends_with(".svg") {
        text.starts_with("<?xml") && text.trim_end().ends_with("</svg>")
    } else {
        // Units, timers, rotation configs and instructions: line-based text.
        !text.contains('\0')
    };
    assert!(ok, "{path} does not parse:\n{text}");
}

#[test]
fn awkward_names_and_paths_still_give_artifacts_that_parse() {
    let loaded = privai::spec::load(&repo("tests/fixtures/escaping/awkward-values.ncl")).unwrap();
    let rendered = render(&loaded.spec);
    let dir = tempfile::tempdir().unwrap();
    assert!(!rendered.artifacts.is_empty());
    for artifact in &rendered.artifacts {
        assert_parses(artifact, dir.path());
    }
}

#[test]
fn every_artifact_of_the_examples_parses() {
    let dir = tempfile::tempdir().unwrap();
    for example in [
        "examples/seed-home.ncl",
        "examples/linux-homelab.ncl",
        "examples/minimal.toml",
    ] {
        let loaded = privai::spec::load(&repo(example)).unwrap();
        for artifact in &render(&loaded.spec).artifacts {
            assert_parses(artifact, dir.path());
        }
    }
}

#[test]
fn rotate_keys_before_anything_was_applied_says_there_is_nothing_to_rotate() {
    let root = tempfile::tempdir().unwrap();
    privai()
        .arg("rotate-keys")
        .arg("--root")
        .arg(root.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "nothing was applied here yet (no generation in",
        ));
}

#[test]
fn every_artifact_of_the_seed_matches_its_golden_file() {
    let loaded = privai::spec::load(&repo("examples/seed-home.ncl")).unwrap();
    let rendered = render(&loaded.spec);
    let mut names = Vec::new();
    for artifact in &rendered.artifacts {
        let name = format!("seed{}", artifact.path.replace(['/', '~', '.'], "_"));
        let text = String::from_utf8(artifact.contents.clone()).unwrap();
        insta::assert_snapshot!(name.clone(), text);
        names.push(name);
    }
    // One golden file per artifact, and no artifact left without one.
    assert_eq!(names.len(), rendered.artifacts.len());
    assert!(names.len() >= 12, "only {} artifacts", names.len());
    let manifest = privai::render::manifest::Manifest::of(&rendered);
    insta::assert_snapshot!(
        "seed_manifest_json",
        String::from_utf8(manifest.to_bytes()).unwrap()
    );
}
