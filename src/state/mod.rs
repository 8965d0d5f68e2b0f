//! privai's state: where the system is installed ([`Install`]), and the
//! state directory — generations, the journal of the run in progress, the
//! lock — with the atomic file operations everything else writes through.
//!
//! ```text
//! STATE/
//!   lock, lock.json         the lock and who holds it (lock)
//!   journal.ndjson          the run in progress; gone after it ends (journal)
//!   run/backup/K            pre-images of the files the run changed
//!   current                 the number of the current generation
//!   generations/N/          generation N (generations)
//!   keys.json, keys/DEVICE  pre-auth keys privai created (keys; data)
//!   pulled.json             models privai pulled (pulled; data)
//! ```

pub mod atomic;
pub mod generations;
pub mod journal;
pub mod keys;
pub mod lock;
pub mod matrix;
pub mod pulled;
pub mod saved_plan;
pub mod trust;

use crate::model::Platform;
use crate::render::paths::{Anchor, UnsafeInstallPath, split_install_path};
use crate::render::{Rendered, tree_path};
use std::path::{Path, PathBuf};

/// Name of the state directory under a `--root`.
pub const STATE_DIR: &str = ".privai";

/// Where the system is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Install {
    /// Staged under a directory (`--root DIR`): every host's files at
    /// `DIR/HOST/PATH` (`~/` as `DIR/HOST/HOME/`), the state in
    /// `DIR/.privai`. Services are not activated.
    Staged {
        /// The directory.
        root: PathBuf,
    },
    /// This machine, as host `host` of the spec: files at their install
    /// paths, `~/` in `home`, the state in `state`.
    Live {
        /// The spec's name for this machine.
        host: String,
        /// The operator's home directory.
        home: PathBuf,
        /// The state directory ([`default_state_dir`]).
        state: PathBuf,
        /// uid and gid the operator's files (`~/…`) get when privai runs
        /// as root for them (`sudo privai apply`); `None`: leave the owner.
        operator: Option<(u32, u32)>,
    },
}

impl Install {
    /// Where the file installed at `path` on `host` is on this machine.
    ///
    /// Refuses (never joins) a path with `..`, `.` or empty components, a
    /// relative one or one with a control character, and a host name that
    /// is not one plain name: what this returns is inside the root (staged)
    /// or, for `~/…`, inside the operator's home.
    pub fn path(&self, host: &str, path: &str) -> Result<PathBuf, UnsafeInstallPath> {
        match self {
            Self::Staged { root } => Ok(root.join(tree_path(host, path)?)),
            Self::Live { home, .. } => {
                let (anchor, relative) = split_install_path(path)
                    .map_err(|why| UnsafeInstallPath::new(host, path, why))?;
                Ok(match anchor {
                    Anchor::Home => home.join(relative),
                    Anchor::Root => Path::new("/").join(relative),
                })
            }
        }
    }

    /// The state directory.
    pub fn state_dir(&self) -> PathBuf {
        match self {
            Self::Staged { root } => root.join(STATE_DIR),
            Self::Live { state, .. } => state.clone(),
        }
    }

    /// Whether files and services of `host` are installed here.
    pub fn includes(&self, host: &str) -> bool {
        match self {
            Self::Staged { .. } => true,
            Self::Live { host: this, .. } => this == host,
        }
    }

    /// The uid and gid files owned by the operator must get, if privai must
    /// set them.
    pub fn operator(&self) -> Option<(u32, u32)> {
        match self {
            Self::Live { operator, .. } => *operator,
            Self::Staged { .. } => None,
        }
    }

    /// Whether services are started, restarted and health-checked.
    pub fn activates(&self) -> bool {
        matches!(self, Self::Live { .. })
    }

    /// The part of `rendered` installed here.
    pub fn select(&self, mut rendered: Rendered) -> Rendered {
        rendered.artifacts.retain(|a| self.includes(&a.host));
        rendered.models.retain(|m| self.includes(&m.host));
        rendered.services.retain(|s| self.includes(&s.host));
        rendered.matrix = rendered.matrix.filter(|m| self.includes(&m.host));
        rendered
    }
}

/// The default state directory on `platform` when privai installs on the
/// live system: `/var/lib/privai/state` on Linux,
/// `/usr/local/var/lib/privai/state` on macOS.
pub fn default_state_dir(platform: Platform) -> PathBuf {
    match platform {
        Platform::Linux => PathBuf::from("/var/lib/privai/state"),
        Platform::Darwin => PathBuf::from("/usr/local/var/lib/privai/state"),
    }
}

/// Paths inside a state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// The state directory at `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The journal of the run in progress.
    pub fn journal(&self) -> PathBuf {
        self.dir.join("journal.ndjson")
    }

    /// Pre-images of the files the run in progress changed.
    pub fn backups(&self) -> PathBuf {
        self.dir.join("run").join("backup")
    }

    /// The directory of the run in progress.
    pub fn run(&self) -> PathBuf {
        self.dir.join("run")
    }

    /// The file naming the current generation.
    pub fn current(&self) -> PathBuf {
        self.dir.join("current")
    }

    /// The directory of generations.
    pub fn generations(&self) -> PathBuf {
        self.dir.join("generations")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_install_puts_every_host_under_the_root_and_the_state_in_dot_privai() {
        let install = Install::Staged {
            root: PathBuf::from("/tmp/demo"),
        };
        assert_eq!(
            install.path("mac", "/etc/a.conf").unwrap(),
            Path::new("/tmp/demo/mac/etc/a.conf")
        );
        assert_eq!(
            install.path("mac", "~/.openclaw/x.json").unwrap(),
            Path::new("/tmp/demo/mac/HOME/.openclaw/x.json")
        );
        assert_eq!(install.state_dir(), Path::new("/tmp/demo/.privai"));
        assert!(install.includes("anything") && !install.activates());
    }

    #[test]
    fn a_live_install_uses_real_paths_of_its_own_host_only() {
        let install = Install::Live {
            host: "mac".into(),
            home: PathBuf::from("/Users/ada"),
            state: default_state_dir(Platform::Darwin),
            operator: None,
        };
        assert_eq!(install.path("mac", "/etc/a").unwrap(), Path::new("/etc/a"));
        assert_eq!(
            install
                .path("mac", "~/Library/LaunchAgents/x.plist")
                .unwrap(),
            Path::new("/Users/ada/Library/LaunchAgents/x.plist")
        );
        assert!(install.includes("mac") && !install.includes("server"));
        assert!(install.activates());
    }

    #[test]
    fn a_staged_install_refuses_every_path_that_would_land_outside_its_root() {
        let install = Install::Staged {
            root: PathBuf::from("/tmp/demo"),
        };
        for (host, path) in [
            ("mac", "/../../../x"),
            ("mac", "~/../../x"),
            ("mac", "/etc/../../../x"),
            ("mac", "relative/x"),
            ("..", "/x"),
            ("a/../..", "/x"),
        ] {
            let refused = install.path(host, path).unwrap_err();
            assert_eq!((refused.host.as_str(), refused.path.as_str()), (host, path));
        }
    }

    #[test]
    fn a_live_install_refuses_a_home_path_that_would_leave_the_home() {
        let install = Install::Live {
            host: "mac".into(),
            home: PathBuf::from("/Users/ada"),
            state: default_state_dir(Platform::Darwin),
            operator: None,
        };
        let refused = install.path("mac", "~/../../etc/sudoers").unwrap_err();
        assert!(refused.to_string().contains("`..`"), "{refused}");
        assert!(install.path("mac", "/etc/../etc/sudoers").is_err());
    }
}
