//! Observation: everything privai reads about the current state of the
//! system, gathered in one place so that [`crate::plan::plan`] stays pure.
//!
//! This slice observes files only ([`files::observe`]). Later slices add the
//! state of services (launchctl / systemctl), the models Ollama has, the
//! Headscale users and keys, and containers, as further fields of
//! [`Observed`] read by further submodules.

pub mod files;

use crate::render::manifest::Entry;
use std::collections::BTreeMap;

/// Directory, under the root, holding privai's state. `privai apply` will own
/// it (generations, journal, lock); for now `plan` only reads the manifest of
/// the last install from it, [`PREVIOUS_MANIFEST`].
pub const STATE_DIR: &str = ".privai";

/// The manifest of what privai installed last, relative to [`STATE_DIR`].
pub const PREVIOUS_MANIFEST: &str = "manifest.json";

/// A file privai manages, named as the spec names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileKey {
    /// The host it is on.
    pub host: String,
    /// Its install path on that host (`~/` is the operator's home).
    pub path: String,
}

impl FileKey {
    /// The key of `host`, `path`.
    pub fn new(host: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            path: path.into(),
        }
    }
}

/// What is at a file's install path now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Nothing.
    Absent,
    /// A file with these bytes and permission bits.
    Present {
        /// Its bytes.
        contents: Vec<u8>,
        /// Its permission bits (`mode & 0o7777`).
        mode: u32,
    },
}

/// The observed state of the system, as far as a plan needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The current state of every desired file and of every file of the
    /// previous manifest. A key missing here is treated as absent.
    pub files: BTreeMap<FileKey, FileState>,
    /// The files privai installed last (the previous manifest), empty when
    /// privai has installed nothing yet. A file listed here that the spec no
    /// longer renders is deleted.
    pub previous: Vec<Entry>,
}

impl Observed {
    /// The state of `key`; absent if it was not observed.
    pub fn file(&self, key: &FileKey) -> &FileState {
        self.files.get(key).unwrap_or(&FileState::Absent)
    }
}
