//! Getting privai and the spec onto a host, and running privai there: over
//! SSH for a host with `deploy` ([`crate::sys::ssh`]), as a child process
//! of this privai for a host without (applied here, as `--host NAME`).
//!
//! Each host runs the same binary on its own state: a version check first
//! (the host's copy, or a `privai` on its `PATH`, must print the same
//! `--version` as this one); if it has none and is of this machine's
//! platform, this binary is copied to `~/.cache/privai/fleet/privai-HASH`
//! there; else the host is refused with how to install privai on it. The
//! spec's compiled input (the evaluated spec as JSON, which every host
//! reads the same) goes to `~/.cache/privai/fleet/spec.json`.

use crate::model::{Host, Spec};
use crate::sys::RunOutput;
use crate::sys::ssh::{self, Destination, Input};
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};

/// The directory on each host (under the SSH user's home) that holds
/// privai's copy and the spec's compiled input.
pub const REMOTE_DIR: &str = ".cache/privai/fleet";

/// The name of the compiled spec in [`REMOTE_DIR`].
pub const REMOTE_SPEC: &str = "spec.json";

/// This privai: its path, the digest of its bytes and its `--version`.
#[derive(Debug, Clone)]
pub struct Binary {
    /// The running executable.
    pub path: PathBuf,
    /// The first 16 hex digits of its sha256.
    pub digest: String,
    /// What `privai --version` prints.
    pub version: String,
}

impl Binary {
    /// The running privai.
    pub fn current() -> io::Result<Self> {
        let path = std::env::current_exe()?;
        let mut hasher = Sha256::new();
        io::copy(&mut std::fs::File::open(&path)?, &mut hasher)?;
        let digest: String = hasher
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Self {
            path,
            digest,
            version: format!("privai {}", crate::cli::VERSION),
        })
    }

    /// Its name on a host: `privai-HASH`.
    pub fn remote_name(&self) -> String {
        format!("privai-{}", self.digest)
    }
}

/// How privai reaches one host.
#[derive(Debug, Clone)]
pub enum Reach {
    /// Applied on this machine: this binary as `--host NAME` on the spec.
    Local {
        /// The spec file.
        spec: PathBuf,
    },
    /// Over SSH.
    Ssh(Destination),
}

impl Reach {
    /// How `host` is reached: its `deploy`, else here. `file:` identities
    /// resolve like the spec's other files: `~/` in `home`, a relative
    /// path beside the spec.
    pub fn of(host: &Host, spec: &Path, home: Option<&Path>) -> Self {
        let Some(deploy) = &host.deploy else {
            return Self::Local {
                spec: spec.to_owned(),
            };
        };
        let identity = deploy.identity.as_deref().map(|identity| {
            let path = identity.strip_prefix("file:").unwrap_or(identity);
            match (path.strip_prefix("~/"), home) {
                (Some(rest), Some(home)) => home.join(rest),
                _ => spec.parent().unwrap_or(Path::new(".")).join(path),
            }
        });
        Self::Ssh(Destination {
            ssh: deploy.ssh.clone(),
            port: deploy.port,
            identity,
            sudo: deploy.sudo,
        })
    }

    /// How the host is reached, for messages: `ssh admin@box`, `here`.
    pub fn describe(&self) -> String {
        match self {
            Self::Local { .. } => "here".to_owned(),
            Self::Ssh(d) => match d.port {
                Some(port) => format!("ssh {} -p {port}", d.ssh),
                None => format!("ssh {}", d.ssh),
            },
        }
    }
}

/// A host that did not take privai.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The host did not answer (the connection failed): unreachable.
    pub unreachable: bool,
    /// Why, with the fix.
    pub message: String,
}

/// A host ready to run privai: the program and the spec to give it.
#[derive(Debug, Clone)]
pub struct Ready {
    /// How it is reached.
    pub reach: Reach,
    /// privai there (a path on the host, relative to the SSH user's home).
    pub program: String,
    /// The spec there.
    pub spec: String,
}

/// The shell script of the version check, run on the host with `$1` the
/// path its copy of this binary would have: prints `uname -s -m`, then
/// `PATH<TAB>VERSION` for each of that copy and a `privai` on `PATH` that runs.
const PROBE: &str = r#"uname -s -m
for p in "$1" privai; do
  if v=$("$p" --version 2>/dev/null); then printf '%s\t%s\n' "$p" "$v"; fi
done"#;

/// Writes standard input to `$1/$2` (mode `$3`) through a temporary name.
const UPLOAD: &str = r#"umask 077 && mkdir -p "$1" && cat > "$1/.$2.part" && chmod "$3" "$1/.$2.part" && mv -f "$1/.$2.part" "$1/$2""#;

/// `uname -s -m` of a machine like this one, as it prints it.
pub fn this_uname() -> (&'static str, &'static [&'static str]) {
    let os = match std::env::consts::OS {
        "macos" => "Darwin",
        "linux" => "Linux",
        other => other,
    };
    let arch: &'static [&'static str] = match std::env::consts::ARCH {
        "aarch64" => &["aarch64", "arm64"],
        "x86_64" => &["x86_64", "amd64"],
        _ => &[],
    };
    (os, arch)
}

/// Gets privai and `compiled` (the spec's compiled input) onto the host
/// named `name`, reached over `destination`.
pub fn install(
    name: &str,
    destination: &Destination,
    binary: &Binary,
    compiled: &[u8],
) -> Result<Ready, Refused> {
    let copy = format!("{REMOTE_DIR}/{}", binary.remote_name());
    let fail = |output: &RunOutput| Refused {
        unreachable: output.status == ssh::CONNECTION_FAILED,
        message: format!("host `{name}`: {}", ssh::failure(destination, output)),
    };
    let io_fail = |e: io::Error| Refused {
        unreachable: false,
        message: format!(
            "host `{name}`: cannot run ssh ({e}); install OpenSSH's client (`ssh`) on this machine"
        ),
    };
    let probe = destination
        .run_argv(
            &destination
                .script_argv(PROBE, &[&copy], false)
                .map_err(io_fail)?,
            Input::None,
        )
        .map_err(io_fail)?;
    if !probe.success() {
        return Err(fail(&probe));
    }
    let mut lines = probe.stdout.lines();
    let uname = lines.next().unwrap_or_default().trim().to_owned();
    let found = lines.find_map(|line| {
        let (path, version) = line.split_once('\t')?;
        (version.trim() == binary.version).then(|| path.to_owned())
    });
    let program = match found {
        Some(path) => path,
        None => {
            let (os, arches) = this_uname();
            let mut words = uname.split_whitespace();
            let same =
                words.next() == Some(os) && words.next().is_some_and(|a| arches.contains(&a));
            if !same {
                return Err(Refused {
                    unreachable: false,
                    message: format!(
                        "host `{name}` is a `{uname}` machine and this privai is built for `{os} {}`: install {} there (on its PATH, e.g. `cargo install --locked privai --version {}`), then run again",
                        std::env::consts::ARCH,
                        binary.version,
                        env!("CARGO_PKG_VERSION")
                    ),
                });
            }
            let sent = upload(
                destination,
                Input::File(&binary.path),
                &binary.remote_name(),
                "0755",
            )
            .map_err(io_fail)?;
            if !sent.success() {
                return Err(fail(&sent));
            }
            let check = destination
                .run(&[&copy, "--version"], false, Input::None)
                .map_err(io_fail)?;
            if check.stdout.trim() != binary.version {
                return Err(Refused {
                    unreachable: false,
                    message: format!(
                        "host `{name}`: the copy of privai at `~/{copy}` does not run there ({}); install {} on it (on its PATH), then run again",
                        ssh::failure(destination, &check),
                        binary.version
                    ),
                });
            }
            copy
        }
    };
    let sent = upload(destination, Input::Bytes(compiled), REMOTE_SPEC, "0600").map_err(io_fail)?;
    if !sent.success() {
        return Err(fail(&sent));
    }
    Ok(Ready {
        reach: Reach::Ssh(destination.clone()),
        program,
        spec: format!("{REMOTE_DIR}/{REMOTE_SPEC}"),
    })
}

/// Writes `input` to `~/REMOTE_DIR/NAME` on the host, mode `mode`.
fn upload(
    destination: &Destination,
    input: Input<'_>,
    name: &str,
    mode: &str,
) -> io::Result<RunOutput> {
    destination.run_argv(
        &destination.script_argv(UPLOAD, &[REMOTE_DIR, name, mode], false)?,
        input,
    )
}

/// The spec's compiled input: the evaluated spec as JSON, which each host
/// reads as its spec (same model, without the imports the source needs).
pub fn compiled(spec: &Spec) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(spec).expect("a spec serialises");
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_spec_reads_back_as_the_same_spec() {
        let loaded = crate::spec::load(&PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/seed-fleet.ncl"
        )))
        .unwrap_or_else(|e| panic!("{:#?}", e.diagnostics));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spec.json");
        std::fs::write(&path, compiled(&loaded.spec)).unwrap();
        let back = crate::spec::load(&path).unwrap_or_else(|e| panic!("{:#?}", e.diagnostics));
        assert_eq!(back.spec, loaded.spec);
        assert!(back.spec.hosts.iter().all(|h| h.deploy.is_some()));
    }

    #[test]
    fn each_host_installs_only_its_own_secrets() {
        let spec = crate::spec::load(&PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/seed-fleet.ncl"
        )))
        .unwrap_or_else(|e| panic!("{:#?}", e.diagnostics))
        .spec;
        let rendered = crate::render::render(&spec);
        assert!(
            rendered
                .secrets
                .iter()
                .any(|s| s.host == "headscale-server")
                && rendered.secrets.iter().any(|s| s.host == "openclaw-server"),
            "{:#?}",
            rendered.secrets
        );
        for host in ["headscale-server", "ollama-server", "openclaw-server"] {
            let install = crate::state::Install::Live {
                host: host.to_owned(),
                home: PathBuf::from("/home/op"),
                state: PathBuf::from("/var/lib/privai/state"),
                operator: None,
            };
            let mine = install.select(rendered.clone());
            assert!(mine.secrets.iter().all(|s| s.host == host), "{host}");
            assert_eq!(
                mine.secrets.len(),
                rendered.secrets.iter().filter(|s| s.host == host).count()
            );
        }
    }

    #[test]
    fn identities_resolve_in_the_home_or_beside_the_spec() {
        let mut host: Host = serde_json::from_value(serde_json::json!({
            "name": "gpu", "platform": "linux", "arch": "x86_64", "ram_gb": 8,
            "roles": [], "tags": [],
            "deploy": { "ssh": "admin@gpu", "identity": "file:~/.ssh/id", "sudo": false }
        }))
        .unwrap();
        let spec = Path::new("/specs/privai.ncl");
        let Reach::Ssh(d) = Reach::of(&host, spec, Some(Path::new("/home/op"))) else {
            panic!("over ssh")
        };
        assert_eq!(d.identity.as_deref(), Some(Path::new("/home/op/.ssh/id")));
        host.deploy.as_mut().unwrap().identity = Some("file:keys/gpu".into());
        let Reach::Ssh(d) = Reach::of(&host, spec, None) else {
            panic!("over ssh")
        };
        assert_eq!(d.identity.as_deref(), Some(Path::new("/specs/keys/gpu")));
        host.deploy = None;
        assert!(matches!(Reach::of(&host, spec, None), Reach::Local { .. }));
    }
}
