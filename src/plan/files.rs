//! The files domain: each file the spec renders against what is installed
//! now. A desired file that is absent is created; one whose bytes or mode
//! differ is updated (adopted, when privai did not install it); one whose
//! bytes and mode match needs nothing, even when privai did not write it. A
//! file of the previous manifest that the spec no longer renders, and that
//! still exists, is deleted. Pure.

use super::Change;
use crate::observe::{FileKey, FileState, Observed};
use crate::render::manifest::{Entry, sha256_hex};
use crate::render::{Artifact, Owner, Rendered, ServiceId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A file privai manages, as an action names it: where it is and what it
/// should (or, for a deletion, did) look like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedFile {
    /// The host it is on.
    pub host: String,
    /// Install path on that host; `~/` is the operator's home.
    pub path: String,
    /// Permission bits it gets (for a deletion: the ones it has).
    pub mode: u32,
    /// Owner.
    pub owner: Owner,
    /// Whether it holds a secret: its contents are never shown.
    pub secret: bool,
    /// Services to restart when its contents change.
    pub restarts: Vec<ServiceId>,
    /// Services that reload (re-read it on SIGHUP) when its contents change.
    pub reloads: Vec<ServiceId>,
}

impl ManagedFile {
    /// The file `artifact` installs.
    pub fn of(artifact: &Artifact) -> Self {
        Self {
            host: artifact.host.clone(),
            path: artifact.path.clone(),
            mode: artifact.mode,
            owner: artifact.owner,
            secret: artifact.secret,
            restarts: artifact.restarts.clone(),
            reloads: artifact.reloads.clone(),
        }
    }

    /// The file a manifest entry names, with the mode it has now.
    fn of_entry(entry: &Entry, mode: u32) -> Self {
        Self {
            host: entry.host.clone(),
            path: entry.path.clone(),
            mode,
            owner: entry.owner,
            secret: entry.secret,
            restarts: entry.restarts.clone(),
            reloads: entry.reloads.clone(),
        }
    }

    /// Its key, `host` and `path`.
    pub fn key(&self) -> FileKey {
        FileKey::new(&self.host, &self.path)
    }
}

/// The old and new text of a changed, non-secret UTF-8 file, for the diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextChange {
    /// What is installed now.
    pub old: String,
    /// What the spec renders.
    pub new: String,
}

/// How a file privai installed was changed by something else since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Drift {
    /// Its bytes differ from what privai wrote.
    Edited {
        /// sha256 of what privai wrote, hex.
        recorded_sha256: String,
    },
    /// Only its permission bits differ from what privai set.
    ModeChanged {
        /// The mode privai set.
        recorded_mode: u32,
    },
    /// It is gone.
    Removed,
}

/// A step on one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum FileAction {
    /// Write a file that does not exist.
    Create {
        /// The file, as the spec renders it.
        file: ManagedFile,
        /// sha256 of the bytes to write, hex.
        sha256: String,
        /// Set when privai installed it before and something removed it.
        drift: Option<Drift>,
    },
    /// Rewrite a file privai installed whose bytes or mode differ from the spec's.
    Update {
        /// The file, as the spec renders it (its new mode).
        file: ManagedFile,
        /// The mode it has now.
        old_mode: u32,
        /// sha256 of its bytes now, hex.
        old_sha256: String,
        /// sha256 of the bytes to write, hex.
        new_sha256: String,
        /// Old and new text, for a diff: `None` for secret or non-UTF-8
        /// files, and when only the mode changes.
        text: Option<TextChange>,
        /// Set when it was changed outside privai since privai wrote it.
        drift: Option<Drift>,
    },
    /// Replace a file privai never wrote that differs from the spec's. Needs
    /// `--adopt`, which first saves it as `<name>.before-privai`.
    Adopt {
        /// The file, as the spec renders it.
        file: ManagedFile,
        /// The mode it has now.
        old_mode: u32,
        /// sha256 of its bytes now, hex.
        old_sha256: String,
        /// sha256 of the bytes to write, hex.
        new_sha256: String,
        /// Old and new text, as for [`FileAction::Update`].
        text: Option<TextChange>,
    },
    /// Remove a file privai installed earlier that the spec no longer renders.
    Delete {
        /// The file, as the previous manifest lists it (mode as observed).
        file: ManagedFile,
        /// sha256 of its bytes now, hex.
        sha256: String,
        /// Set when it was changed outside privai since privai wrote it.
        drift: Option<Drift>,
    },
}

impl FileAction {
    /// The file acted on.
    pub fn file(&self) -> &ManagedFile {
        match self {
            Self::Create { file, .. }
            | Self::Update { file, .. }
            | Self::Adopt { file, .. }
            | Self::Delete { file, .. } => file,
        }
    }

    /// The kind of change.
    pub fn change(&self) -> Change {
        match self {
            Self::Create { .. } => Change::Create,
            Self::Update { .. } => Change::Update,
            Self::Adopt { .. } => Change::Adopt,
            Self::Delete { .. } => Change::Delete,
        }
    }

    /// `file HOST:PATH`.
    pub fn address(&self) -> String {
        let file = self.file();
        format!("file {}:{}", file.host, file.path)
    }

    /// What something else changed since privai wrote the file.
    pub fn drift(&self) -> Option<&Drift> {
        match self {
            Self::Create { drift, .. }
            | Self::Update { drift, .. }
            | Self::Delete { drift, .. } => drift.as_ref(),
            Self::Adopt { .. } => None,
        }
    }

    /// Whether its bytes change (rather than only its mode): then the
    /// file's services restart or reload.
    pub fn changes_contents(&self) -> bool {
        match self {
            Self::Update {
                old_sha256,
                new_sha256,
                ..
            }
            | Self::Adopt {
                old_sha256,
                new_sha256,
                ..
            } => old_sha256 != new_sha256,
            Self::Create { .. } | Self::Delete { .. } => true,
        }
    }
}

/// The file actions, as (creations, updates and adoptions in the order the
/// spec renders the files; deletions, by host then path).
pub fn file_actions(desired: &Rendered, observed: &Observed) -> (Vec<FileAction>, Vec<FileAction>) {
    let previous: BTreeMap<FileKey, &Entry> = observed
        .previous
        .iter()
        .map(|e| (FileKey::new(&e.host, &e.path), e))
        .collect();
    let mut files = Vec::new();
    let mut wanted = BTreeSet::new();
    for artifact in &desired.artifacts {
        let key = FileKey::new(&artifact.host, &artifact.path);
        let state = observed.file(&key);
        let recorded = previous.get(&key).copied();
        let drift = drift(recorded, state);
        wanted.insert(key);
        let file = ManagedFile::of(artifact);
        let new_sha256 = sha256_hex(&artifact.contents);
        match state {
            FileState::Absent => files.push(FileAction::Create {
                file,
                sha256: new_sha256,
                drift,
            }),
            FileState::Present { contents, mode } => {
                let same_bytes = *contents == artifact.contents;
                if same_bytes && *mode == artifact.mode {
                    continue;
                }
                let text = (!same_bytes && !artifact.secret)
                    .then(|| text_change(contents, &artifact.contents))
                    .flatten();
                let old_sha256 = sha256_hex(contents);
                files.push(match recorded {
                    Some(_) => FileAction::Update {
                        file,
                        old_mode: *mode,
                        old_sha256,
                        new_sha256,
                        text,
                        drift,
                    },
                    None => FileAction::Adopt {
                        file,
                        old_mode: *mode,
                        old_sha256,
                        new_sha256,
                        text,
                    },
                });
            }
        }
    }
    let mut deletions = Vec::new();
    for entry in &observed.previous {
        let key = FileKey::new(&entry.host, &entry.path);
        if !wanted.insert(key.clone()) {
            continue;
        }
        let state = observed.file(&key);
        if let FileState::Present { contents, mode } = state {
            deletions.push(FileAction::Delete {
                file: ManagedFile::of_entry(entry, *mode),
                sha256: sha256_hex(contents),
                drift: drift(Some(entry), state),
            });
        }
    }
    deletions.sort_by_key(|a| a.file().key());
    (files, deletions)
}

/// How the file privai recorded (`recorded`) differs from what is there now.
fn drift(recorded: Option<&Entry>, state: &FileState) -> Option<Drift> {
    let recorded = recorded?;
    match state {
        FileState::Absent => Some(Drift::Removed),
        FileState::Present { contents, mode } => {
            if sha256_hex(contents) != recorded.sha256 {
                Some(Drift::Edited {
                    recorded_sha256: recorded.sha256.clone(),
                })
            } else {
                let recorded_mode = u32::from_str_radix(&recorded.mode, 8).ok()?;
                (recorded_mode != *mode).then_some(Drift::ModeChanged { recorded_mode })
            }
        }
    }
}

/// The old and new text, when both are UTF-8.
pub fn text_change(old: &[u8], new: &[u8]) -> Option<TextChange> {
    match (std::str::from_utf8(old), std::str::from_utf8(new)) {
        (Ok(old), Ok(new)) => Some(TextChange {
            old: old.to_owned(),
            new: new.to_owned(),
        }),
        _ => None,
    }
}
