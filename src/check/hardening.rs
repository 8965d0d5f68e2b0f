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
mod tests {
    use super::{normalize, sensitive};
    use crate::check::testing::{
        BASE, diagnostics_of, findings, findings_of, pairs, seed_findings, with_gateway,
    };
    use crate::diagnostic::{Diagnostic, Severity};

    fn is_hardening(code: &str) -> bool {
        ("PRV030"..="PRV039").contains(&code)
    }

    /// `(code, path)` of this pass's findings for `case`.
    fn found(case: &str) -> Vec<(&'static str, String)> {
        findings_of(&with_gateway(case), is_hardening)
    }

    /// This pass's diagnostics for `case`.
    fn reported(case: &str) -> Vec<Diagnostic> {
        diagnostics_of(&with_gateway(case), is_hardening)
    }

    #[test]
    fn the_hardened_defaults_give_no_finding() {
        assert_eq!(found("{}"), vec![]);
    }

    #[test]
    fn the_seed_gives_no_finding() {
        assert_eq!(seed_findings(is_hardening), vec![]);
    }

    #[test]
    fn a_spec_without_gateway_gives_no_finding() {
        let codes: Vec<_> = findings(BASE)
            .into_iter()
            .filter(|(code, _)| is_hardening(code))
            .collect();
        assert_eq!(codes, vec![]);
    }

    #[test]
    fn each_weakening_is_an_error_at_its_setting() {
        let cases = [
            ("privileged = true", "PRV030", "privileged"),
            (r#"cap_add = ["NET_ADMIN"]"#, "PRV031", "cap_add"),
            (r#"cap_drop = ["NET_RAW"]"#, "PRV031", "cap_drop"),
            ("no_new_privileges = false", "PRV032", "no_new_privileges"),
            ("read_only_root = false", "PRV033", "read_only_root"),
            (r#"user = "0:0""#, "PRV034", "user"),
            ("network = 'bridge", "PRV035", "network"),
            ("network = 'host", "PRV035", "network"),
            ("memory_mb = 512", "PRV039", "memory_mb"),
            ("cpus = 0", "PRV039", "cpus"),
        ];
        for (setting, code, key) in cases {
            let case = format!("{{ openclaw.container.{setting} }}");
            let reported = reported(&case);
            let path = format!("openclaw.container.{key}");
            assert_eq!(
                reported
                    .iter()
                    .map(|d| (d.code, d.path.as_ref().unwrap().to_string(), d.severity))
                    .collect::<Vec<_>>(),
                vec![(code, path, Severity::Error)],
                "{setting}"
            );
            assert!(reported[0].message.contains('`'), "{setting}");
            assert!(reported[0].hint.is_some(), "{setting}");
        }
    }

    #[test]
    fn an_exception_turns_the_error_into_a_warning_that_quotes_the_reason() {
        let reported = reported(
            r#"{ openclaw.container = {
                 network = 'bridge,
                 exceptions = [ { setting = 'network, reason = "The Signal plugin must reach the Signal servers." } ],
               } }"#,
        );
        assert_eq!(reported.len(), 1, "{reported:#?}");
        assert_eq!(reported[0].code, "PRV035");
        assert_eq!(reported[0].severity, Severity::Warning);
        assert!(
            reported[0]
                .message
                .contains("The Signal plugin must reach the Signal servers.")
        );
    }

    #[test]
    fn an_exception_for_one_setting_does_not_allow_another() {
        let reported = reported(
            r#"{ openclaw.container = {
                 privileged = true,
                 read_only_root = false,
                 exceptions = [ { setting = 'read_only_root, reason = "The image writes its caches next to the binary." } ],
               } }"#,
        );
        let severities: Vec<_> = reported.iter().map(|d| (d.code, d.severity)).collect();
        assert_eq!(
            severities,
            vec![("PRV030", Severity::Error), ("PRV033", Severity::Warning)]
        );
    }

    #[test]
    fn host_network_says_it_shares_the_hosts_loopback() {
        let reported = reported("{ openclaw.container.network = 'host }");
        assert!(reported[0].message.contains("loopback"));
        assert!(reported[0].message.contains("Ollama"));
    }

    #[test]
    fn added_capabilities_and_a_partial_drop_are_two_findings() {
        assert_eq!(
            found(r#"{ openclaw.container = { cap_add = ["SYS_ADMIN"], cap_drop = [] } }"#),
            pairs(&[
                ("PRV031", "openclaw.container.cap_add"),
                ("PRV031", "openclaw.container.cap_drop"),
            ])
        );
    }

    #[test]
    fn root_is_uid_zero_the_name_root_or_no_uid() {
        for user in ["0", "root", "0:1000", "root:root", ":1000", "", "00:0"] {
            assert_eq!(
                found(&format!(r#"{{ openclaw.container.user = "{user}" }}"#)),
                pairs(&[("PRV034", "openclaw.container.user")]),
                "{user}"
            );
        }
        for user in ["1000:1000", "1000", "node", "65534:65534"] {
            assert_eq!(
                found(&format!(r#"{{ openclaw.container.user = "{user}" }}"#)),
                vec![],
                "{user}"
            );
        }
    }

    #[test]
    fn sensitive_host_paths_are_recognised() {
        for path in [
            "/",
            "~/",
            "/Users/alice",
            "/home/alice/",
            "/root",
            "/home",
            "/etc",
            "/proc",
            "/proc/1/root",
            "/sys/fs/cgroup",
            "/dev",
            "/boot",
            "/lib",
            "/usr",
            "/var",
            "/var/run",
            "/run",
            "/var/run/docker.sock",
            "/run/podman/podman.sock",
            "/run/user/1000/podman/podman.sock",
            "/run/user/1000",
            "~/.docker/run/docker.sock",
            "~/.ssh",
            "~/.ssh/id_ed25519",
            "/Users/alice/.ssh",
            "~/.config",
            "~/.config/privai",
            "~/.config/privai/secrets",
            "/private/etc",
            "/home/alice/work/../../bob",
        ] {
            assert!(sensitive(path).is_some(), "{path} should be sensitive");
        }
        for path in [
            "~/.openclaw/workspace",
            "/Users/alice/.openclaw/config",
            "/srv/openclaw",
            "/var/lib/openclaw",
            "/etc/../srv/openclaw",
            "~/.config/openclaw",
            "/data/runbooks",
        ] {
            assert_eq!(sensitive(path), None, "{path} should not be sensitive");
        }
    }

    #[test]
    fn home_directories_written_out_are_home_directories() {
        assert_eq!(
            normalize("/Users/alice/.ssh"),
            (true, vec![".ssh".to_string()])
        );
        assert_eq!(normalize("/root"), (true, vec![]));
        assert_eq!(
            normalize("/private/etc/hosts"),
            (false, vec!["etc".to_string(), "hosts".to_string()])
        );
    }

    #[test]
    fn a_sensitive_mount_is_reported_at_its_host_path() {
        assert_eq!(
            found(
                r#"{ openclaw.folders = [
                     { name = "workspace", host_path = "~/.openclaw/workspace", container_path = "/home/node/.openclaw/workspace", mode = 'rw },
                     { name = "engine", host_path = "/var/run/docker.sock", container_path = "/var/run/docker.sock", mode = 'ro },
                   ] }"#
            ),
            pairs(&[("PRV036", "openclaw.folders[1].host_path")])
        );
    }

    #[test]
    fn a_mount_exception_makes_a_sensitive_mount_a_warning() {
        let reported = reported(
            r#"{ openclaw = {
                 folders = [ { name = "keys", host_path = "~/.ssh", container_path = "/home/node/.ssh", mode = 'ro } ],
                 container.exceptions = [ { setting = 'mount, reason = "The agent pushes to our git server over SSH." } ],
               } }"#,
        );
        assert_eq!(reported.len(), 1, "{reported:#?}");
        assert_eq!(reported[0].severity, Severity::Warning);
    }

    #[test]
    fn two_folders_at_one_mount_point_are_an_error() {
        let reported = reported(
            r#"{ openclaw.folders = [
                 { name = "notes", host_path = "~/notes", container_path = "/data", mode = 'ro },
                 { name = "docs", host_path = "~/docs", container_path = "/data/", mode = 'ro },
               ] }"#,
        );
        assert_eq!(reported.len(), 1, "{reported:#?}");
        assert_eq!(reported[0].code, "PRV036");
        assert_eq!(reported[0].severity, Severity::Error);
        assert_eq!(
            reported[0].path.as_ref().unwrap().to_string(),
            "openclaw.folders[1].container_path"
        );
    }

    #[test]
    fn a_writable_config_folder_is_a_warning() {
        let reported = reported(
            r#"{ openclaw.folders = [
                 { name = "config", host_path = "~/.openclaw/config", container_path = "/home/node/.openclaw/config", mode = 'rw },
               ] }"#,
        );
        assert_eq!(reported.len(), 1, "{reported:#?}");
        assert_eq!(reported[0].severity, Severity::Warning);
        assert_eq!(
            reported[0].path.as_ref().unwrap().to_string(),
            "openclaw.folders[0].mode"
        );
        assert!(reported[0].hint.as_ref().unwrap().contains("'ro"));
    }

    #[test]
    fn an_exception_needs_a_real_reason() {
        for reason in [
            "todo",
            "TBD.",
            "n/a",
            "needed",
            "it is required",
            "TODO: write down why we need this one",
        ] {
            let case = format!(
                r#"{{ openclaw.container = {{ privileged = true, exceptions = [ {{ setting = 'privileged, reason = "{reason}" }} ] }} }}"#
            );
            assert_eq!(
                found(&case),
                pairs(&[
                    ("PRV030", "openclaw.container.privileged"),
                    ("PRV037", "openclaw.container.exceptions[0].reason"),
                ]),
                "{reason}"
            );
        }
    }

    #[test]
    fn a_stale_exception_is_a_warning_at_its_setting() {
        let reported = reported(
            r#"{ openclaw.container.exceptions = [ { setting = 'privileged, reason = "We once needed a FUSE mount inside it." } ] }"#,
        );
        assert_eq!(reported.len(), 1, "{reported:#?}");
        assert_eq!(reported[0].code, "PRV037");
        assert_eq!(reported[0].severity, Severity::Warning);
        assert_eq!(
            reported[0].path.as_ref().unwrap().to_string(),
            "openclaw.container.exceptions[0].setting"
        );
    }

    #[test]
    fn a_second_exception_for_one_setting_is_a_warning() {
        assert_eq!(
            found(
                r#"{ openclaw.container = {
                     read_only_root = false,
                     exceptions = [
                       { setting = 'read_only_root, reason = "The image writes its caches next to the binary." },
                       { setting = 'read_only_root, reason = "And the plugin installer writes under /app too." },
                     ],
                   } }"#
            ),
            pairs(&[
                ("PRV033", "openclaw.container.read_only_root"),
                ("PRV037", "openclaw.container.exceptions[1].setting"),
            ])
        );
    }

    #[test]
    fn an_image_without_digest_is_an_error_that_mentions_latest() {
        let reported =
            reported(r#"{ openclaw.image | force = "ghcr.io/openclaw/openclaw:latest" }"#);
        assert_eq!(reported.len(), 1, "{reported:#?}");
        assert_eq!(reported[0].code, "PRV038");
        assert_eq!(
            reported[0].path.as_ref().unwrap().to_string(),
            "openclaw.image"
        );
        assert!(reported[0].message.contains(":latest"));
        assert!(reported[0].hint.as_ref().unwrap().contains("Digest"));
    }

    #[test]
    fn a_malformed_digest_is_an_error() {
        let upper = "3F4B2C1D8E9A7B6C5D4E3F2A1B0C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B2C";
        let short = "3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2";
        for digest in [
            format!("sha256:{upper}"),
            format!("sha256:{short}"),
            format!("sha512:{short}c"),
        ] {
            assert_eq!(
                found(&format!(
                    r#"{{ openclaw.image | force = "ghcr.io/openclaw/openclaw:2026.9.6@{digest}" }}"#
                )),
                pairs(&[("PRV038", "openclaw.image")]),
                "{digest}"
            );
        }
    }

    #[test]
    fn small_limits_are_reported_with_their_severity() {
        let reported = reported(
            "{ openclaw.container = { memory_mb = 768, pids_limit = 32, cpus = -1, tmpfs_mb = 8 } }",
        );
        let summary: Vec<_> = reported
            .iter()
            .map(|d| (d.path.as_ref().unwrap().to_string(), d.severity))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("openclaw.container.cpus".to_string(), Severity::Error),
                ("openclaw.container.memory_mb".to_string(), Severity::Error),
                (
                    "openclaw.container.pids_limit".to_string(),
                    Severity::Warning
                ),
                ("openclaw.container.tmpfs_mb".to_string(), Severity::Warning),
            ]
        );
        assert!(reported.iter().all(|d| d.code == "PRV039"));
    }
}
