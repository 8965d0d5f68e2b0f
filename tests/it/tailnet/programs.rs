//! The real programs the tailnet tests run, from the tools cache that
//! `tests/tools/install-headscale.sh` and `install-tailscale.sh` fill
//! (`$PRIVAI_TOOLS`, else `$XDG_CACHE_HOME/privai-tools`, else
//! `~/.cache/privai-tools`). A missing program fails the test with the
//! command that installs it: never a silent skip.

use std::path::PathBuf;

/// The Headscale version the tests run.
pub const HEADSCALE: &str = "v0.29.2";
/// The Tailscale version the tests run.
pub const TAILSCALE: &str = "v1.102.5";

/// The tools cache.
fn cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("PRIVAI_TOOLS") {
        return dir.into();
    }
    match std::env::var_os("XDG_CACHE_HOME") {
        Some(dir) => PathBuf::from(dir).join("privai-tools"),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
            .join(".cache/privai-tools"),
    }
}

/// `bin/NAME` of the cached tool `tool-VERSION`; panics with `install`.
fn program(tool: &str, version: &str, name: &str, install: &str) -> PathBuf {
    let path = cache().join(format!("{tool}-{version}/bin/{name}"));
    assert!(
        path.is_file(),
        "{} is not installed: run tests/{install} (it installs {tool} {version} into the tools cache)",
        path.display()
    );
    path
}

/// The real programs.
pub struct Programs {
    /// `headscale`.
    pub headscale: PathBuf,
    /// `tailscaled`.
    pub tailscaled: PathBuf,
    /// `tailscale`.
    pub tailscale: PathBuf,
}

/// The real programs, or a panic naming the install command.
pub fn programs() -> Programs {
    let ts = |name| program("tailscale", TAILSCALE, name, "tools/install-tailscale.sh");
    Programs {
        headscale: program(
            "headscale",
            HEADSCALE,
            "headscale",
            "tools/install-headscale.sh",
        ),
        tailscaled: ts("tailscaled"),
        tailscale: ts("tailscale"),
    }
}
