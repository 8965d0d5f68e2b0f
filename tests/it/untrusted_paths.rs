//! Hostile paths and addresses in a spec: `check` reports each with its
//! code and line, and `build --out D` and `apply --root D` exit 1 having
//! written nothing — neither outside D (a sentinel file beside D is
//! untouched, no new file appears beside D) nor inside it.

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A valid spec (one Linux host running every service), then `& HOSTILE`
/// on line [`HOSTILE_LINE`].
const BASE: &str = r#"{
  hosts = [ { name = "box", platform = 'linux, arch = 'x86_64, ram_gb = 32, roles = ['headscale, 'ollama, 'openclaw], tailnet_ip = "100.64.0.1" } ],
  ollama.models = [
    { name = "qwen2.5:14b", role = 'primary },
    { name = "llama3.2:3b", role = 'fallback },
  ],
  openclaw = {
    image = "ghcr.io/openclaw/openclaw:2026.9.6@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
    model = { primary = "qwen2.5:14b", fallbacks = ["llama3.2:3b"] },
  },
}
"#;

/// The line of the spec the hostile value is on.
const HOSTILE_LINE: usize = 12;

/// A scratch directory `dir` holding the spec, the root `dir/root` the
/// commands are pointed at, and a sentinel file `dir/sentinel` beside it.
struct Scene {
    dir: tempfile::TempDir,
}

const SENTINEL: &[u8] = b"not privai's\n";

impl Scene {
    fn new(hostile: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("spec.ncl"), format!("{BASE}& {hostile}\n")).unwrap();
        std::fs::write(dir.path().join("sentinel"), SENTINEL).unwrap();
        Self { dir }
    }

    fn spec(&self) -> PathBuf {
        self.dir.path().join("spec.ncl")
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// Every file and directory under the scene, with the bytes of each file.
    fn contents(&self) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
        let mut found = BTreeMap::new();
        walk(self.dir.path(), self.dir.path(), &mut found);
        found
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::cargo_bin("privai").unwrap();
        cmd.args(args)
            .env_remove("PRIVAI_TEST_SERVICES")
            .env_remove("PRIVAI_TEST_FAILPOINT")
            .env("HOME", self.dir.path().join("home"));
        cmd.output().unwrap()
    }
}

fn walk(base: &Path, dir: &Path, found: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let relative = path.strip_prefix(base).unwrap().to_owned();
        if path.is_dir() {
            found.insert(relative, None);
            walk(base, &path, found);
        } else {
            found.insert(relative, Some(std::fs::read(&path).unwrap()));
        }
    }
}

/// What privai printed: `check` reports on stdout, other commands their
/// errors on stderr.
fn stderr(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Checks that `hostile` is reported as `code` at its line by `check`, and
/// that `build --out ROOT` and `apply --root ROOT` refuse it the same way
/// and change nothing under the scene.
fn refused_everywhere(hostile: &str, code: &str) {
    let scene = Scene::new(hostile);
    let spec = scene.spec();
    let spec = spec.to_str().unwrap();
    let root = scene.root();
    let root = root.to_str().unwrap();
    let before = scene.contents();
    let at = format!("spec.ncl:{HOSTILE_LINE}:");
    for args in [
        vec!["check", spec],
        vec!["build", spec, "--out", root],
        vec!["apply", spec, "--root", root, "--auto-approve"],
    ] {
        let output = scene.run(&args);
        let err = stderr(&output);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?} on {hostile}:\n{err}"
        );
        assert!(
            err.contains(&format!("error[{code}]")),
            "{args:?} on {hostile}:\n{err}"
        );
        assert!(
            err.contains(&at),
            "{args:?} on {hostile}: no `{at}` in\n{err}"
        );
        assert_eq!(
            scene.contents(),
            before,
            "{args:?} on {hostile} changed files in or beside the root"
        );
    }
}

#[test]
fn a_file_secret_climbing_out_of_the_root_is_refused_and_nothing_is_written() {
    refused_everywhere(
        r#"{ openclaw.gateway_token = "file:/../../../x" }"#,
        "PRV080",
    );
    // Aimed at the sentinel beside the root (`ROOT/box/../../sentinel`).
    refused_everywhere(
        r#"{ openclaw.gateway_token = "file:/../../sentinel" }"#,
        "PRV080",
    );
}

#[test]
fn a_home_secret_climbing_out_of_the_home_is_refused_and_nothing_is_written() {
    refused_everywhere(r#"{ openclaw.gateway_token = "file:~/../../x" }"#, "PRV080");
    // `ROOT/box/HOME/../../../sentinel` is the sentinel.
    refused_everywhere(
        r#"{ openclaw.gateway_token = "file:~/../../../sentinel" }"#,
        "PRV080",
    );
}

#[test]
fn tls_certificate_and_key_paths_climbing_out_are_refused_and_nothing_is_written() {
    refused_everywhere(
        r#"{ headscale.tls = { cert_path = "/../../sentinel", key_path = "/../../sentinel.key" } }"#,
        "PRV080",
    );
}

#[test]
fn a_folder_host_path_climbing_out_is_refused_and_nothing_is_written() {
    // The config folder is where privai writes `openclaw.json`.
    refused_everywhere(
        r#"{ openclaw.folders = [ { name = "config", host_path = "/../../escaped", container_path = "/home/node/.openclaw/config", mode = 'ro } ] }"#,
        "PRV080",
    );
}

#[test]
fn a_colon_in_a_folder_path_is_refused_before_it_breaks_the_compose_file() {
    refused_everywhere(
        r#"{ openclaw.folders = [ { name = "workspace", host_path = "~/work:rw", container_path = "/w", mode = 'ro } ] }"#,
        "PRV081",
    );
}

#[test]
fn a_listen_address_with_port_99999_is_refused() {
    refused_everywhere(r#"{ headscale.listen_addr = "0.0.0.0:99999" }"#, "PRV082");
}

#[test]
fn the_base_spec_itself_builds_inside_its_root() {
    let scene = Scene::new("{}");
    let root = scene.root();
    let output = scene.run(&[
        "build",
        scene.spec().to_str().unwrap(),
        "--out",
        root.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let after = scene.contents();
    let outside: Vec<_> = after
        .keys()
        .filter(|p| {
            !p.starts_with("root") && !["spec.ncl", "sentinel"].contains(&p.to_str().unwrap())
        })
        .collect();
    assert_eq!(outside, Vec::<&PathBuf>::new());
    assert!(root.join("box/etc/privai").is_dir());
}
