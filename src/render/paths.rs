//! Where privai installs things, per platform. One place, so that every
//! renderer agrees (a unit names the config file another renderer writes).
//!
//! macOS: Headscale is a LaunchDaemon (it binds port 443), Ollama and the
//! key-rotation job are LaunchAgents of the operator (Ollama needs the GPU of
//! the login session); binaries are Homebrew's. Linux: systemd system units;
//! binaries where the Headscale package and Ollama's installer put them.

use crate::model::{Arch, Host, Platform};

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
