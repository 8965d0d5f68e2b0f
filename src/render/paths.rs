//! Where privai installs things, per platform. One place, so that every
//! renderer agrees (a unit names the config file another renderer writes).
//!
//! macOS: Headscale is a LaunchDaemon (it binds port 443), Ollama and the
//! key-rotation job are LaunchAgents of the operator (Ollama needs the GPU of
//! the login session); binaries are Homebrew's. Linux: systemd system units;
//! binaries where the Headscale package and Ollama's installer put them.

use crate::model::{Arch, Host, Platform};
use std::path::PathBuf;

/// Reverse-DNS prefix of launchd labels.
pub const LABEL_PREFIX: &str = "net.privai";
/// Prefix of systemd unit names.
pub const UNIT_PREFIX: &str = "privai";
/// Where the `privai` binary is installed (the key-rotation job runs it).
pub const PRIVAI_BIN: &str = "/usr/local/bin/privai";

/// Install locations for one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    platform: Platform,
    arch: Arch,
}

impl Layout {
    /// The layout of `host`.
    pub fn of(host: &Host) -> Self {
        Self {
            platform: host.platform,
            arch: host.arch,
        }
    }

    /// The host's platform.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    fn darwin(&self) -> bool {
        self.platform == Platform::Darwin
    }

    /// Directory of generated configuration: `/usr/local/etc/privai` or `/etc/privai`.
    pub fn etc(&self) -> &'static str {
        if self.darwin() {
            "/usr/local/etc/privai"
        } else {
            "/etc/privai"
        }
    }

    /// Directory of state services keep: `/usr/local/var/lib/privai` or `/var/lib/privai`.
    pub fn var_lib(&self) -> &'static str {
        if self.darwin() {
            "/usr/local/var/lib/privai"
        } else {
            "/var/lib/privai"
        }
    }

    /// Directory of logs on macOS (Linux services log to the journal).
    pub fn log_dir(&self) -> Option<&'static str> {
        self.darwin().then_some("/usr/local/var/log/privai")
    }

    /// Where secrets privai manages live: `~/.config/privai/secrets` or `/etc/privai/secrets`.
    pub fn secrets_dir(&self) -> &'static str {
        if self.darwin() {
            "~/.config/privai/secrets"
        } else {
            "/etc/privai/secrets"
        }
    }

    /// Directory of the gateway's container manifest.
    pub fn gateway_dir(&self) -> &'static str {
        if self.darwin() {
            "~/.config/privai/openclaw"
        } else {
            "/etc/privai/openclaw"
        }
    }

    /// Directory holding a binary installed by the package manager.
    fn bin_dir(&self) -> &'static str {
        match (self.platform, self.arch) {
            (Platform::Darwin, Arch::Aarch64) => "/opt/homebrew/bin",
            (Platform::Darwin, Arch::X86_64) => "/usr/local/bin",
            (Platform::Linux, _) => "/usr/bin",
        }
    }

    /// The `headscale` binary.
    pub fn headscale_bin(&self) -> String {
        format!("{}/headscale", self.bin_dir())
    }

    /// The `ollama` binary (Ollama's Linux installer uses /usr/local/bin).
    pub fn ollama_bin(&self) -> String {
        match self.platform {
            Platform::Darwin => format!("{}/ollama", self.bin_dir()),
            Platform::Linux => "/usr/local/bin/ollama".to_owned(),
        }
    }

    /// The service definition file of `name` (e.g. `headscale`): a plist in
    /// `/Library/LaunchDaemons` (`system`) or `~/Library/LaunchAgents`, or a
    /// systemd unit (`suffix` `service` or `timer`).
    pub fn service_file(&self, name: &str, system: bool, suffix: &str) -> String {
        match self.platform {
            Platform::Darwin if system => {
                format!("/Library/LaunchDaemons/{}.plist", self.label(name))
            }
            Platform::Darwin => format!("~/Library/LaunchAgents/{}.plist", self.label(name)),
            Platform::Linux => format!("/etc/systemd/system/{}.{suffix}", self.unit(name)),
        }
    }

    /// The launchd label of `name`, e.g. `net.privai.headscale`.
    pub fn label(&self, name: &str) -> String {
        format!("{LABEL_PREFIX}.{name}")
    }

    /// The systemd unit base name of `name`, e.g. `privai-headscale`.
    pub fn unit(&self, name: &str) -> String {
        format!("{UNIT_PREFIX}-{name}")
    }
}

/// Where an install path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// `/…`: the file system's root (or the `--root`/`--out` directory).
    Root,
    /// `~/…`: the operator's home directory.
    Home,
}

/// Why an install path cannot be used: a reason that completes "the path …".
pub type Unusable = &'static str;

/// Splits the install path `path` into where it starts and the plain names
/// below that: `/etc/x` → (`Root`, `etc/x`), `~/x/y` → (`Home`, `x/y`).
///
/// Refuses, with the reason, every path whose names could lead anywhere
/// but below its anchor, or that is not written the one normal way: not
/// starting with `/` or `~/`, a `..` or `.` name, an empty name (`//`, a
/// trailing `/`), nothing below the anchor, or a NUL or other control
/// character. So a path this accepts, joined under any directory, stays
/// inside that directory (short of symlinks the operator put there). Pure.
pub fn split_install_path(path: &str) -> Result<(Anchor, PathBuf), Unusable> {
    if path.chars().any(char::is_control) {
        return Err("has a NUL or other control character");
    }
    let (anchor, rest) = if let Some(rest) = path.strip_prefix("~/") {
        (Anchor::Home, rest)
    } else if let Some(rest) = path.strip_prefix('/') {
        (Anchor::Root, rest)
    } else {
        return Err("is not absolute: it must start with `/` (or `~/` where the option allows)");
    };
    if rest.is_empty() {
        return Err("names a root or home directory, not a path below it");
    }
    let mut relative = PathBuf::new();
    for name in rest.split('/') {
        match name {
            ".." => return Err("has a `..` component, which could lead outside its directory"),
            "." => return Err("has a `.` component (it is not normalised)"),
            "" => {
                return Err(
                    "has an empty component (`//` or a trailing `/`; it is not normalised)",
                );
            }
            name => relative.push(name),
        }
    }
    Ok((anchor, relative))
}

/// An install path privai refuses to write or read, because it could land
/// outside the directory it is placed under (a spec `privai check` would
/// have refused, a tampered saved plan, or a renderer bug).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refusing the install path `{path}` of host `{host}`: it {why}; privai writes and reads only absolute, normalised paths without `..`, so that nothing lands outside its root (`privai check` names the option that sets it)"
)]
pub struct UnsafeInstallPath {
    /// The host the path is on.
    pub host: String,
    /// The path, as rendered.
    pub path: String,
    /// Why it is refused.
    pub why: Unusable,
}

impl UnsafeInstallPath {
    /// The refusal of `path` on `host` for `why`.
    pub fn new(host: &str, path: &str, why: Unusable) -> Self {
        Self {
            host: host.to_owned(),
            path: path.to_owned(),
            why,
        }
    }
}

impl From<UnsafeInstallPath> for std::io::Error {
    fn from(e: UnsafeInstallPath) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

/// Whether `host` can name a directory of a staging tree: one plain name.
pub fn plain_name(host: &str) -> bool {
    !host.is_empty()
        && host != "."
        && host != ".."
        && !host.contains('/')
        && !host.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_and_home_paths_split_into_their_anchor_and_plain_names() {
        assert_eq!(
            split_install_path("/etc/privai/a.yaml"),
            Ok((Anchor::Root, PathBuf::from("etc/privai/a.yaml")))
        );
        assert_eq!(
            split_install_path("~/.openclaw/config/openclaw.json"),
            Ok((
                Anchor::Home,
                PathBuf::from(".openclaw/config/openclaw.json")
            ))
        );
    }

    #[test]
    fn paths_that_could_leave_their_directory_or_are_not_normal_are_refused() {
        for hostile in [
            "/../../../x",
            "~/../../x",
            "/etc/../../x",
            "/etc/./x",
            "/etc//x",
            "/etc/x/",
            "etc/x",
            "../x",
            "~x",
            "~",
            "/",
            "~/",
            "",
            "/etc/x\0",
            "/etc/\0x",
            "/etc/a\nb",
        ] {
            assert!(
                split_install_path(hostile).is_err(),
                "{hostile:?} was accepted"
            );
        }
    }

    #[test]
    fn a_host_directory_is_one_plain_name() {
        assert!(plain_name("mac"));
        for bad in ["", ".", "..", "a/b", "/abs", "a\0"] {
            assert!(!plain_name(bad), "{bad:?}");
        }
    }
}
