//! The secrets domain: each secret file the spec needs (a generated token,
//! a value from the environment, a self-signed key) against the file there
//! now. Values are never held here, only digests. Pure.

use super::Change;
use crate::observe::{FileKey, Observed};
use crate::render::Rendered;
use crate::render::secrets::SecretFile;
use serde::{Deserialize, Serialize};

/// A step on one secret file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SecretAction {
    /// Write a secret file (mode 0600): generate it when it is missing, or
    /// copy its value from the environment when missing or different. Its
    /// value is never shown, only digests.
    Write {
        /// The secret.
        secret: SecretFile,
        /// sha256 of the file now; `None` when it does not exist.
        old_sha256: Option<String>,
        /// sha256 of the value to write; `None` when it is generated.
        new_sha256: Option<String>,
    },
}

impl SecretAction {
    /// The secret written.
    pub fn secret(&self) -> &SecretFile {
        let Self::Write { secret, .. } = self;
        secret
    }

    /// Create when the file is missing, else update.
    pub fn change(&self) -> Change {
        let Self::Write { old_sha256, .. } = self;
        match old_sha256 {
            None => Change::Create,
            Some(_) => Change::Update,
        }
    }

    /// `secret HOST:PATH`.
    pub fn address(&self) -> String {
        let secret = self.secret();
        format!("secret {}:{}", secret.host, secret.path)
    }
}

/// The secret actions, in the order the spec renders the secrets, and the
/// notes of secrets that cannot be written (e.g. a variable not set).
pub fn secret_actions(desired: &Rendered, observed: &Observed) -> (Vec<SecretAction>, Vec<String>) {
    let mut actions = Vec::new();
    let mut notes = Vec::new();
    for secret in &desired.secrets {
        let key = FileKey::new(&secret.host, &secret.path);
        let state = observed.secrets.get(&key).cloned().unwrap_or_default();
        if let Some(note) = state.note {
            notes.push(note);
            continue;
        }
        let write = match (&state.file, &state.wanted_sha256) {
            (None, _) => true,
            (Some((sha256, mode)), Some(wanted)) => sha256 != wanted || *mode != 0o600,
            (Some(_), None) => false,
        };
        if write {
            actions.push(SecretAction::Write {
                secret: secret.clone(),
                old_sha256: state.file.map(|(sha256, _)| sha256),
                new_sha256: state.wanted_sha256,
            });
        }
    }
    (actions, notes)
}
