//! What several integration tests share: the repository, installed tools,
//! podman and its stand-in gateway images, free ports, output for failures.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

/// The stand-in gateway image that answers `/healthz`.
pub const OK_IMAGE: &str = "localhost/privai-gateway-standin:ok";
/// The stand-in gateway image whose `/healthz` fails.
pub const FAILING_IMAGE: &str = "localhost/privai-gateway-standin:failing";
/// The podman configuration the tests run under (runc, cgroupfs).
pub const CONTAINERS_CONF: &str = "[containers]\ndefault_ulimits = [\"nofile=1024:1024\",\"nproc=1024:1024\"]\n\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\n";

/// `path` in the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// `program` on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Copies `base` (e.g. an example spec) into `dir` unless it is there, and
/// returns the name to import it by from a spec in `dir`: imports may not
/// leave the spec's directory.
pub fn importable(dir: &Path, base: &Path) -> String {
    let name = base.file_name().unwrap().to_str().unwrap().to_owned();
    let copy = dir.join(&name);
    if base != copy {
        std::fs::copy(base, &copy).unwrap();
    }
    name
}

/// The tools cache of `tests/tools/lib.sh`: `$PRIVAI_TOOLS`, else
/// `$XDG_CACHE_HOME/privai-tools`, else `~/.cache/privai-tools`.
pub fn tools_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("PRIVAI_TOOLS") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    cache.join("privai-tools")
}

/// `bin` of a real program that `tests/tools/install-TOOL.sh` installed
/// (pinned, in the tools cache); fails, never skips, when it is missing.
pub fn installed(tool: &str, bin: &str) -> PathBuf {
    let path = tools_root().join(tool).join("bin").join(bin);
    assert!(
        path.exists(),
        "{} is not installed: run tests/tools/install-{tool}.sh (it installs the pinned {tool} into {})",
        path.display(),
        tools_root().display()
    );
    path
}

/// A tool of `tests/tools/install-openclaw.sh` (Node 24, the pinned
/// OpenClaw, podman-compose); fails (never skips) without it.
pub fn tool(name: &str) -> PathBuf {
    installed("openclaw", name)
}

/// podman; fails (never skips) without it.
pub fn podman() -> PathBuf {
    which("podman").unwrap_or_else(|| {
        panic!("podman is not installed: apt-get install -y podman runc busybox-static")
    })
}

/// The local image `name` of `runtime` (podman or a wrapper of it): its
/// reference pinned by digest (`name@sha256:…`) and its id.
pub fn pinned_image(runtime: &Path, name: &str) -> (String, String) {
    use privai::sys::{Runner, SystemRunner};
    let argv = [
        runtime.to_str().unwrap(),
        "image",
        "inspect",
        "--format",
        "{{.Id}} {{.Digest}}",
        name,
    ]
    .map(str::to_owned);
    let out = SystemRunner.run(&argv).unwrap();
    assert!(out.success(), "{name}: {}", out.stderr);
    let (id, digest) = out.stdout.trim().split_once(' ').unwrap();
    assert!(digest.starts_with("sha256:"), "{name}: {}", out.stdout);
    (format!("{name}@{digest}"), id.to_owned())
}

/// Removes compose project `project` of `runtime` (podman or a wrapper of
/// it) and whatever is left of it: `down` with `file` when it exists, then
/// its containers (by label), its networks and its pod. Cleanup: failures
/// are ignored.
pub fn remove_compose_project(runtime: &str, project: &str, file: &Path) {
    use privai::sys::{Runner, SystemRunner, compose, container};
    let run = |argv: &[String]| SystemRunner.run(argv).ok();
    if file.exists() {
        run(&compose::down(runtime, project, &file.to_string_lossy()));
    }
    let ids = run(&container::list(runtime, project)).map(|out| out.stdout);
    for id in container::parse_ids(ids.as_deref().unwrap_or_default()) {
        run(&[runtime, "rm", "-f", "-t", "0", &id].map(str::to_owned));
    }
    for network in ["internal", "edge"] {
        let network = format!("{project}_{network}");
        run(&[runtime, "network", "rm", "-f", &network].map(str::to_owned));
    }
    let pod = format!("pod_{project}");
    run(&[runtime, "pod", "rm", "-f", &pod].map(str::to_owned));
}

/// Builds (once per run, idempotently across runs) the stand-in images.
pub fn standin_images(podman: &Path, conf: &Path) {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let script = repo("tests/tools/gateway-standin-image.sh");
        let out = std::process::Command::new(&script)
            .arg(podman)
            .env("CONTAINERS_CONF", conf)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} failed: {}\n{}",
                script.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = built {
        panic!("{e}");
    }
}

/// A port free on 127.0.0.1 now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A finished command's status and output, for a failure message.
pub fn show(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A `podman` on a `PATH` of its own in `dir/bin`: podman under `conf`, its
/// `compose` subcommand run by the pinned podman-compose (whose podman is
/// the wrapper again) with `HOME` at `home` and cut after `timeout_secs`.
/// With `netns` (an `ip netns` name), podman runs in that network namespace
/// wherever the wrapper is called from, and in the mount namespace
/// `mount_ns` (a `/proc/PID/ns/mnt`), this process's by default: `ip netns
/// exec` mounts a `/sys` of its own, without the cgroup mounts runc needs.
/// Returns the wrapper and the `PATH` that finds it first.
pub fn podman_wrapper(
    dir: &Path,
    podman: &Path,
    conf: &Path,
    home: &Path,
    timeout_secs: u32,
    netns: Option<&str>,
    mount_ns: Option<&Path>,
) -> (PathBuf, std::ffi::OsString) {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let wrapper = bin.join("podman");
    let enter = match netns {
        Some(ns) => format!(
            "nsenter --mount={} --net=/run/netns/{ns} --wd=\"$PWD\" ",
            mount_ns.map_or_else(
                || format!("/proc/{}/ns/mnt", std::process::id()),
                |m| m.display().to_string()
            )
        ),
        None => String::new(),
    };
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nCONTAINERS_CONF='{conf}'\nexport CONTAINERS_CONF\n\
             if [ \"$1\" = compose ]; then\n  shift\n  PATH='{bin}':\"$PATH\" HOME='{home}' exec timeout {timeout_secs} '{compose}' \"$@\"\nfi\n\
             exec {enter}'{podman}' \"$@\"\n",
            conf = conf.display(),
            bin = bin.display(),
            home = home.display(),
            compose = tool("podman-compose").display(),
            podman = podman.display(),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    (wrapper, std::env::join_paths(dirs).unwrap())
}
