//! Hardening of the gateway's container and image.
//!
//! The checks follow the CIS Docker Benchmark's container-runtime section as
//! docker-bench-security implements it, made stricter where its script is
//! lax: privileged mode (PRV030), capabilities (PRV031), no-new-privileges
//! (PRV032), a read-only root (PRV033), a non-root user (PRV034), no egress
//! (PRV035), no sensitive host mounts (PRV036), the image pinned by digest
//! (PRV038) and resource limits (PRV039).
//!
//! Each weakening is an error unless `openclaw.container.exceptions` states an
//! exception for its setting; then it is a warning that quotes the reason, so
//! every plan shows the deliberate weakening. The exceptions are checked too
//! (PRV037): a reason must say something, and an exception must relax
//! something.

use crate::codes::{
    CAPABILITIES, EGRESS, EXCEPTION, LIMITS, NEW_PRIVILEGES, PRIVILEGED, ROOT_USER,
    SENSITIVE_MOUNT, UNPINNED_IMAGE, WRITABLE_ROOT,
};
use crate::diagnostic::{Diagnostic, Severity, SpecPath};
use crate::model::{
    Container, ContainerNetwork, ExceptionSetting, Folder, FolderMode, Openclaw, Spec,
};

/// Least memory the gateway boots with, MiB.
const MIN_MEMORY_MB: u32 = 1024;
/// Fewest processes the gateway and its tools are expected to need.
const MIN_PIDS: u32 = 64;
/// Smallest `/tmp` that holds the gateway's logs, MiB.
const MIN_TMPFS_MB: u32 = 16;
/// Fewest non-space characters of an exception's reason.
pub(super) const MIN_REASON_CHARS: usize = 20;

/// Reasons that only stand in for one.
const PLACEHOLDERS: &[&str] = &[
    "todo",
    "tbd",
    "tbc",
    "n/a",
    "na",
    "none",
    "needed",
    "required",
    "necessary",
    "because",
    "fixme",
    "xxx",
    "wip",
    "temp",
    "temporary",
    "test",
    "testing",
    "later",
    "-",
    "?",
];
/// First words that mark a reason as not written yet.
const PLACEHOLDER_OPENINGS: &[&str] = &["todo", "tbd", "fixme", "xxx"];

/// Checks the gateway's container, folders and image.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let Some(openclaw) = spec.gateway() else {
        return;
    };
    let container = &openclaw.container;
    let mut weakenings = Vec::new();
    privileges(container, &mut weakenings);
    isolation(container, &mut weakenings);
    mounts(openclaw, &mut weakenings);
    limits(container, &mut weakenings, out);
    for weakening in &weakenings {
        out.push(report(container, weakening));
    }
    exceptions(container, &weakenings, out);
    folders(openclaw, out);
    if let Some(reference) = &openclaw.image {
        image(reference, out);
    }
}

/// The path of `openclaw.container.KEY`.
fn container_path(key: &str) -> SpecPath {
    SpecPath::root().key("openclaw").key("container").key(key)
}

/// The path of `openclaw.folders[INDEX].KEY`.
fn folder_path(index: usize, key: &str) -> SpecPath {
    SpecPath::root()
        .key("openclaw")
        .key("folders")
        .index(index)
        .key(key)
}

/// A departure from the hardened baseline that an exception can allow.
#[derive(Debug)]
struct Weakening {
    /// The exception setting that allows it.
    setting: ExceptionSetting,
    /// Its diagnostic code.
    code: &'static str,
    /// Severity without an exception.
    severity: Severity,
    /// The offending value.
    path: SpecPath,
    /// What is wrong.
    message: String,
    /// How to fix it.
    hint: String,
}

impl Weakening {
    fn error(
        setting: ExceptionSetting,
        code: &'static str,
        path: SpecPath,
        message: String,
        hint: &str,
    ) -> Self {
        Self {
            setting,
            code,
            severity: Severity::Error,
            path,
            message,
            hint: hint.to_string(),
        }
    }

    fn warning(self) -> Self {
        Self {
            severity: Severity::Warning,
            ..self
        }
    }
}

/// The weakening as a diagnostic: as it is, or as a warning quoting the
/// reason of the exception that allows it.
fn report(container: &Container, weakening: &Weakening) -> Diagnostic {
    let excepted = container
        .exceptions
        .iter()
        .find(|e| e.setting == weakening.setting);
    let diagnostic = match (excepted, weakening.severity) {
        (Some(exception), _) => Diagnostic::warning(
            weakening.code,
            format!(
                "{}; allowed by the exception for `{}`: \"{}\"",
                weakening.message,
                setting_name(weakening.setting),
                exception.reason.trim()
            ),
        ),
        (None, Severity::Error) => Diagnostic::error(weakening.code, &weakening.message),
        (None, Severity::Warning) => Diagnostic::warning(weakening.code, &weakening.message),
    };
    diagnostic
        .at(weakening.path.clone())
        .hint(weakening.hint.clone())
}

/// The name of `setting` as the spec writes it.
fn setting_name(setting: ExceptionSetting) -> &'static str {
    match setting {
        ExceptionSetting::Privileged => "privileged",
        ExceptionSetting::CapAdd => "cap_add",
        ExceptionSetting::NoNewPrivileges => "no_new_privileges",
        ExceptionSetting::ReadOnlyRoot => "read_only_root",
        ExceptionSetting::RootUser => "root_user",
        ExceptionSetting::Network => "network",
        ExceptionSetting::Mount => "mount",
        ExceptionSetting::Limits => "limits",
    }
}

/// Privileged mode, capabilities, no-new-privileges, the root file system and the user.
fn privileges(container: &Container, found: &mut Vec<Weakening>) {
    if container.privileged {
        found.push(Weakening::error(
            ExceptionSetting::Privileged,
            PRIVILEGED,
            container_path("privileged"),
            "the gateway container runs privileged (`privileged = true`): it gets every capability and every host device, so whoever takes over the gateway owns the host".into(),
            "set `privileged = false`; OpenClaw never needs privileged mode",
        ));
    }
    if !container.cap_add.is_empty() {
        let names: Vec<String> = container.cap_add.iter().map(|c| format!("`{c}`")).collect();
        found.push(Weakening::error(
            ExceptionSetting::CapAdd,
            CAPABILITIES,
            container_path("cap_add"),
            format!(
                "the gateway container adds capabilities back: {}",
                names.join(", ")
            ),
            "set `cap_add = []`; OpenClaw needs no Linux capability",
        ));
    }
    if !container
        .cap_drop
        .iter()
        .any(|c| c.eq_ignore_ascii_case("ALL"))
    {
        found.push(Weakening::error(
            ExceptionSetting::CapAdd,
            CAPABILITIES,
            container_path("cap_drop"),
            "`cap_drop` does not contain `ALL`, so the gateway keeps the engine's default capabilities (`NET_RAW`, `CHOWN`, `SETUID`, …)".into(),
            "set `cap_drop = [\"ALL\"]`",
        ));
    }
    if !container.no_new_privileges {
        found.push(Weakening::error(
            ExceptionSetting::NoNewPrivileges,
            NEW_PRIVILEGES,
            container_path("no_new_privileges"),
            "`no_new_privileges = false` lets processes in the gateway container gain privileges through setuid programs".into(),
            "set `no_new_privileges = true`",
        ));
    }
    if !container.read_only_root {
        found.push(Weakening::error(
            ExceptionSetting::ReadOnlyRoot,
            WRITABLE_ROOT,
            container_path("read_only_root"),
            "`read_only_root = false` lets the gateway rewrite its own programs, so a compromise can persist".into(),
            "set `read_only_root = true`; the gateway writes only to `/tmp` (a tmpfs) and its folders",
        ));
    }
    if let Some(why) = root_user(&container.user) {
        found.push(Weakening::error(
            ExceptionSetting::RootUser,
            ROOT_USER,
            container_path("user"),
            format!("`user = \"{}\"` {why}", container.user),
            "set `user = \"1000:1000\"`, the image's `node` user",
        ));
    }
}

/// Why `user` (`uid[:gid]`) runs the container as root, if it does.
fn root_user(user: &str) -> Option<&'static str> {
    let uid = user.split(':').next().unwrap_or_default().trim();
    if uid.is_empty() {
        Some("names no uid, so the gateway runs as whatever user the image says (or root)")
    } else if uid == "root" || uid.parse::<u64>().is_ok_and(|n| n == 0) {
        Some("runs the gateway container as root")
    } else {
        None
    }
}

/// The container's network.
fn isolation(container: &Container, found: &mut Vec<Weakening>) {
    let message = match container.network {
        ContainerNetwork::Internal => return,
        ContainerNetwork::Bridge => {
            "`network = 'bridge` gives the gateway container internet egress: a prompt-injected agent could send your data anywhere"
        }
        ContainerNetwork::Host => {
            "`network = 'host` shares the host's interfaces and loopback with the gateway container, so it could reach Ollama and everything else listening on the host, and the internet"
        }
    };
    found.push(Weakening::error(
        ExceptionSetting::Network,
        EGRESS,
        container_path("network"),
        message.into(),
        "set `network = 'internal`: the container then reaches Ollama and nothing else",
    ));
}

/// Folders whose host path is sensitive.
fn mounts(openclaw: &Openclaw, found: &mut Vec<Weakening>) {
    for (i, folder) in openclaw.folders.iter().enumerate() {
        if let Some(why) = sensitive(&folder.host_path) {
            found.push(Weakening::error(
                ExceptionSetting::Mount,
                SENSITIVE_MOUNT,
                folder_path(i, "host_path"),
                format!(
                    "folder `{}` mounts `{}` into the gateway container, {why}",
                    folder.name, folder.host_path
                ),
                "mount only a folder made for the gateway, such as `~/.openclaw/workspace`",
            ));
        }
    }
}

/// Kernel and device trees: sensitive at any depth.
const KERNEL_DIRS: &[&[&str]] = &[&["proc"], &["sys"], &["dev"], &["boot"]];
/// System directories: sensitive themselves and through any folder that contains them.
const SYSTEM_DIRS: &[&[&str]] = &[
    &["etc"],
    &["lib"],
    &["lib64"],
    &["usr"],
    &["bin"],
    &["sbin"],
    &["var", "run"],
    &["run"],
    &["System"],
    &["Library"],
];
/// Container engine sockets, by file name.
const ENGINE_SOCKETS: &[&str] = &["docker.sock", "podman.sock"];

/// Why mounting `host_path` exposes something it should not, if it does.
fn sensitive(host_path: &str) -> Option<String> {
    let (home, segments) = normalize(host_path);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    if segments.iter().any(|s| ENGINE_SOCKETS.contains(s)) {
        return Some(
            "a container engine socket: whatever reaches it controls the engine, and so the host"
                .into(),
        );
    }
    if home {
        return sensitive_in_home(&segments);
    }
    if segments.is_empty() {
        return Some("the host's whole file system".into());
    }
    if matches!(segments.as_slice(), ["home"] | ["Users"]) {
        return Some("which holds every user's home directory".into());
    }
    if holds_engine_sockets(&segments) {
        return Some("a runtime directory that holds container engine sockets (`podman.sock`, `docker.sock`)".into());
    }
    if KERNEL_DIRS
        .iter()
        .any(|d| segments.starts_with(d) || d.starts_with(&segments))
    {
        return Some("a kernel or device tree of the host".into());
    }
    for dir in SYSTEM_DIRS {
        if segments.as_slice() == *dir {
            return Some("a system directory".into());
        }
        if dir.starts_with(&segments) {
            return Some(format!(
                "which contains the system directory `/{}`",
                dir.join("/")
            ));
        }
    }
    None
}

/// Why mounting `~/SEGMENTS` is sensitive, if it is.
fn sensitive_in_home(segments: &[&str]) -> Option<String> {
    let related = |dir: &[&str]| segments.starts_with(dir) || dir.starts_with(segments);
    if segments.is_empty() {
        Some(
            "the home directory itself, with SSH keys, browser profiles and privai's own secrets"
                .into(),
        )
    } else if related(&[".ssh"]) {
        Some("which holds SSH keys (`~/.ssh`)".into())
    } else if related(&[".config", "privai"]) {
        Some("which holds privai's own secrets (`~/.config/privai`)".into())
    } else {
        None
    }
}

/// Whether `/SEGMENTS` is a runtime directory where engines put their sockets:
/// `/run/user`, `/run/user/UID`, or a `docker`/`podman` directory under `/run`.
fn holds_engine_sockets(segments: &[&str]) -> bool {
    let under_run = match segments {
        ["run", rest @ ..] => rest,
        ["var", "run", rest @ ..] => rest,
        _ => return false,
    };
    matches!(under_run, ["user"] | ["user", _])
        || under_run
            .last()
            .is_some_and(|s| matches!(*s, "docker" | "podman" | "containers"))
}

/// `path` as (whether it is under a home directory, its segments there),
/// with `.` and `..` resolved, `/Users/NAME`, `/home/NAME` and `/root`
/// read as a home directory, and macOS's `/private/etc` as `/etc`.
fn normalize(path: &str) -> (bool, Vec<String>) {
    let (home, rest) = match path.strip_prefix('~') {
        Some(rest) => (true, rest),
        None => (false, path),
    };
    let mut segments: Vec<String> = Vec::new();
    for segment in rest.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s.to_string()),
        }
    }
    if home {
        return (true, segments);
    }
    let first_two: Vec<&str> = segments.iter().take(2).map(String::as_str).collect();
    let (drop, home) = match first_two.as_slice() {
        ["private", "etc" | "var" | "tmp"] => (1, false),
        ["Users" | "home", _] => (2, true),
        ["root", ..] => (1, true),
        _ => (0, false),
    };
    segments.drain(..drop);
    (home, segments)
}

/// Memory, process, CPU and `/tmp` limits. A negative CPU limit is an error
/// no exception can allow; it goes straight to `out`.
fn limits(container: &Container, found: &mut Vec<Weakening>, out: &mut Vec<Diagnostic>) {
    if container.memory_mb < MIN_MEMORY_MB {
        found.push(Weakening::error(
            ExceptionSetting::Limits,
            LIMITS,
            container_path("memory_mb"),
            format!(
                "`memory_mb = {}` is below {MIN_MEMORY_MB} MiB: OpenClaw fails to boot with less than about 1 GiB",
                container.memory_mb
            ),
            "set `memory_mb = 2048`",
        ));
    }
    if container.pids_limit < MIN_PIDS {
        found.push(
            Weakening::error(
                ExceptionSetting::Limits,
                LIMITS,
                container_path("pids_limit"),
                format!(
                    "`pids_limit = {}` is below {MIN_PIDS}: the gateway and its tools may fail to start processes",
                    container.pids_limit
                ),
                "set `pids_limit = 256` (the hardened profile uses 128)",
            )
            .warning(),
        );
    }
    if container.cpus < 0.0 {
        out.push(
            Diagnostic::error(
                LIMITS,
                format!("`cpus = {}` is not a CPU limit", container.cpus),
            )
            .at(container_path("cpus"))
            .hint("set `cpus = 2`, a positive number of cores"),
        );
    } else if container.cpus == 0.0 {
        found.push(Weakening::error(
            ExceptionSetting::Limits,
            LIMITS,
            container_path("cpus"),
            "`cpus = 0` sets no CPU limit: a runaway gateway can starve Ollama and the host".into(),
            "set `cpus = 2`, a positive number of cores",
        ));
    }
    if container.tmpfs_mb < MIN_TMPFS_MB {
        found.push(
            Weakening::error(
                ExceptionSetting::Limits,
                LIMITS,
                container_path("tmpfs_mb"),
                format!(
                    "`tmpfs_mb = {}` is below {MIN_TMPFS_MB} MiB: OpenClaw writes its logs under `/tmp/openclaw` and may run out of space",
                    container.tmpfs_mb
                ),
                "set `tmpfs_mb = 64`",
            )
            .warning(),
        );
    }
}

/// Exceptions without a real reason, relaxing nothing, or stated twice.
fn exceptions(container: &Container, weakenings: &[Weakening], out: &mut Vec<Diagnostic>) {
    let path = |i: usize, key: &str| container_path("exceptions").index(i).key(key);
    for (i, exception) in container.exceptions.iter().enumerate() {
        let name = setting_name(exception.setting);
        if let Some(problem) = reason_problem(&exception.reason) {
            out.push(
                Diagnostic::error(
                    EXCEPTION,
                    format!("the reason of the `{name}` exception, `{}`, {problem}", exception.reason.trim()),
                )
                .at(path(i, "reason"))
                .hint(format!("say in a full sentence (at least {MIN_REASON_CHARS} characters) why the gateway needs this; every plan shows it")),
            );
        }
        if container.exceptions[..i]
            .iter()
            .any(|e| e.setting == exception.setting)
        {
            out.push(
                Diagnostic::warning(EXCEPTION, format!("a second exception for `{name}`"))
                    .at(path(i, "setting"))
                    .hint("keep one exception per setting and put every reason in it"),
            );
        } else if !weakenings.iter().any(|w| w.setting == exception.setting) {
            out.push(
                Diagnostic::warning(
                    EXCEPTION,
                    format!("the exception for `{name}` relaxes nothing: the container does not weaken `{name}`"),
                )
                .at(path(i, "setting"))
                .hint("remove the stale exception, so it cannot silently allow a later weakening"),
            );
        }
    }
}

/// What is wrong with an exception's `reason`, if anything.
pub(super) fn reason_problem(reason: &str) -> Option<&'static str> {
    let normalized = reason.trim().trim_end_matches(['.', '!']).to_lowercase();
    let first_word = normalized
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default();
    if PLACEHOLDERS.contains(&normalized.as_str()) || PLACEHOLDER_OPENINGS.contains(&first_word) {
        Some("is a placeholder, not a reason")
    } else if reason.chars().filter(|c| !c.is_whitespace()).count() < MIN_REASON_CHARS {
        Some("is too short to explain anything")
    } else {
        None
    }
}

/// Folder mistakes no exception can allow: two folders at one mount point,
/// and a writable `config` folder.
fn folders(openclaw: &Openclaw, out: &mut Vec<Diagnostic>) {
    let mount_point = |f: &Folder| f.container_path.trim_end_matches('/').to_string();
    for (i, folder) in openclaw.folders.iter().enumerate() {
        if let Some(first) = openclaw.folders[..i]
            .iter()
            .find(|f| mount_point(f) == mount_point(folder))
        {
            out.push(
                Diagnostic::error(
                    SENSITIVE_MOUNT,
                    format!(
                        "folders `{}` and `{}` are both mounted at `{}`",
                        first.name, folder.name, folder.container_path
                    ),
                )
                .at(folder_path(i, "container_path"))
                .hint("give each folder its own `container_path`; the later mount would hide the earlier one"),
            );
        }
        if folder.name == "config" && folder.mode == FolderMode::Rw {
            out.push(
                Diagnostic::warning(
                    SENSITIVE_MOUNT,
                    "the `config` folder is mounted `'rw`: the gateway could rewrite its own configuration (tools, policies, allowlists)",
                )
                .at(folder_path(i, "mode"))
                .hint("mount it read-only: `mode = 'ro`"),
            );
        }
    }
}

/// The image must be pinned by a well-formed digest.
fn image(image: &str, out: &mut Vec<Diagnostic>) {
    let (name, digest) = match image.rsplit_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    let message = match digest {
        Some(digest) if is_sha256(digest) => return,
        Some(digest) => format!(
            "image `{image}` has a malformed digest `{digest}`: expected `sha256:` and 64 lower-case hex digits"
        ),
        None => {
            let last = name.rsplit('/').next().unwrap_or(name);
            let tag = match last.split_once(':') {
                None => "; without a tag it means `:latest`, which moves with every release",
                Some((_, "latest")) => "; its `:latest` tag moves with every release",
                Some(_) => "; a tag can be moved to other contents",
            };
            format!("image `{image}` is not pinned by digest{tag}")
        }
    };
    out.push(
        Diagnostic::error(UNPINNED_IMAGE, message)
            .at(SpecPath::root().key("openclaw").key("image"))
            .hint("pull a versioned tag you reviewed and pin its digest, `podman image inspect --format '{{.Digest}}' IMAGE` (or `docker inspect --format '{{index .RepoDigests 0}}' IMAGE`) prints it: write `REGISTRY/NAME:VERSION@sha256:DIGEST`"),
    );
}

/// Whether `digest` is `sha256:` and 64 lower-case hex digits.
fn is_sha256(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests;
