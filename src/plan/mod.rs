//! Planning: a pure function from what the spec renders ([`Rendered`]) and
//! what is there now ([`Observed`]) to an ordered list of [`Action`]s.
//!
//! `privai plan` prints the plan ([`crate::output::plan_view`]); `privai
//! apply` will execute it. Nothing here reads the disk or runs anything.

use crate::observe::{FileKey, FileState, Observed};
use crate::render::manifest::sha256_hex;
use crate::render::{Artifact, Owner, Rendered, ServiceId};
use std::collections::BTreeSet;

/// A file privai manages, as an action names it: where it is and what it
/// should (or, for a deletion, did) look like.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl ManagedFile {
    fn of(artifact: &Artifact) -> Self {
        Self {
            host: artifact.host.clone(),
            path: artifact.path.clone(),
            mode: artifact.mode,
            owner: artifact.owner,
            secret: artifact.secret,
            restarts: artifact.restarts.clone(),
        }
    }
}

/// The old and new text of a changed, non-secret UTF-8 file, for the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChange {
    /// What is installed now.
    pub old: String,
    /// What the spec renders.
    pub new: String,
}

/// One step of a plan.
///
/// This slice plans files. Variants to come, so that `apply` runs one list
/// of actions for everything privai manages:
/// - services: `StartService`, `RestartService`, `StopService` (launchctl
///   with an explicit domain on darwin, systemctl on linux), ordered by
///   dependency (Headscale before clients, Ollama before the gateway);
/// - models: `PullModel`, `RemoveModel` (Ollama);
/// - Headscale: `CreateHeadscaleUser`, `CreatePreauthKey`, `SetPolicy`;
/// - containers: `CreateContainer`, `ReplaceContainer`, `RemoveContainer`;
/// - files privai never wrote: `AdoptFile` (saved as `<name>.before-privai`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write a file that does not exist.
    CreateFile {
        /// The file, as the spec renders it.
        file: ManagedFile,
        /// sha256 of the bytes to write, hex.
        sha256: String,
    },
    /// Rewrite a file whose bytes or mode differ from the spec's.
    UpdateFile {
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
    },
    /// Remove a file privai installed earlier that the spec no longer renders.
    DeleteFile {
        /// The file, as the previous manifest lists it (mode as observed).
        file: ManagedFile,
        /// sha256 of its bytes now, hex.
        sha256: String,
    },
}

/// The kind of an action, as the legend and the summary count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// `+`
    Create,
    /// `~`
    Update,
    /// `-`
    Delete,
}

impl Change {
    /// The symbol printed in front of an action.
    pub fn symbol(self) -> char {
        match self {
            Self::Create => '+',
            Self::Update => '~',
            Self::Delete => '-',
        }
    }

    /// What the symbol means, for the legend.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update in place",
            Self::Delete => "delete",
        }
    }
}

impl Action {
    /// The kind of change.
    pub fn change(&self) -> Change {
        match self {
            Self::CreateFile { .. } => Change::Create,
            Self::UpdateFile { .. } => Change::Update,
            Self::DeleteFile { .. } => Change::Delete,
        }
    }

    /// The file acted on.
    pub fn file(&self) -> &ManagedFile {
        match self {
            Self::CreateFile { file, .. }
            | Self::UpdateFile { file, .. }
            | Self::DeleteFile { file, .. } => file,
        }
    }

    /// Services this action makes restart: those of the file when its
    /// contents change; none for a change of mode only.
    pub fn restarts(&self) -> &[ServiceId] {
        match self {
            Self::UpdateFile {
                old_sha256,
                new_sha256,
                ..
            } if old_sha256 == new_sha256 => &[],
            _ => &self.file().restarts,
        }
    }
}

/// An ordered list of actions: creations and updates in the order the spec
/// renders files (host, then path), then deletions (host, then path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The actions, in order.
    pub actions: Vec<Action>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The number of actions of kind `change`.
    pub fn count(&self, change: Change) -> usize {
        self.actions.iter().filter(|a| a.change() == change).count()
    }

    /// The kinds of change present, in legend order.
    pub fn changes(&self) -> BTreeSet<Change> {
        self.actions.iter().map(Action::change).collect()
    }

    /// Every service that restarts, once each, sorted.
    pub fn restarts(&self) -> BTreeSet<ServiceId> {
        self.actions
            .iter()
            .flat_map(|a| a.restarts().iter().copied())
            .collect()
    }
}

/// Plans the actions that turn `observed` into `desired`. Pure.
///
/// A desired file that is absent is created; one whose bytes or mode differ
/// is updated; one whose bytes and mode match needs nothing. A file of the
/// previous manifest that the spec no longer renders, and that still
/// exists, is deleted.
pub fn plan(desired: &Rendered, observed: &Observed) -> Plan {
    let mut actions = Vec::new();
    let mut wanted = BTreeSet::new();
    for artifact in &desired.artifacts {
        let key = FileKey::new(&artifact.host, &artifact.path);
        let state = observed.file(&key);
        wanted.insert(key);
        let file = ManagedFile::of(artifact);
        match state {
            FileState::Absent => actions.push(Action::CreateFile {
                file,
                sha256: sha256_hex(&artifact.contents),
            }),
            FileState::Present { contents, mode } => {
                let same_bytes = *contents == artifact.contents;
                if same_bytes && *mode == artifact.mode {
                    continue;
                }
                let text = if same_bytes || artifact.secret {
                    None
                } else {
                    match (
                        std::str::from_utf8(contents),
                        std::str::from_utf8(&artifact.contents),
                    ) {
                        (Ok(old), Ok(new)) => Some(TextChange {
                            old: old.to_owned(),
                            new: new.to_owned(),
                        }),
                        _ => None,
                    }
                };
                actions.push(Action::UpdateFile {
                    file,
                    old_mode: *mode,
                    old_sha256: sha256_hex(contents),
                    new_sha256: sha256_hex(&artifact.contents),
                    text,
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
        if let FileState::Present { contents, mode } = observed.file(&key) {
            deletions.push(Action::DeleteFile {
                file: ManagedFile {
                    host: entry.host.clone(),
                    path: entry.path.clone(),
                    mode: *mode,
                    owner: entry.owner,
                    secret: entry.secret,
                    restarts: entry.restarts.clone(),
                },
                sha256: sha256_hex(contents),
            });
        }
    }
    deletions.sort_by(|a, b| {
        let (a, b) = (a.file(), b.file());
        (&a.host, &a.path).cmp(&(&b.host, &b.path))
    });
    actions.extend(deletions);
    Plan { actions }
}

#[cfg(test)]
pub(crate) mod tests;
