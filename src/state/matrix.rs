//! The Matrix accounts privai made (the Matrix domain,
//! [`crate::plan::matrix`]): `matrix.json` in the state directory, 0600,
//! with each account's kind, status, password and — for privai's admin
//! account and the AI's — its latest access token. A password is recorded
//! before its account is registered, so a run killed in between leaves an
//! account privai can adopt, never one it cannot sign in to. Read for
//! planning without the secrets ([`File::records`]); a password is shown
//! only by `privai enroll DEVICE --show-password`.

use super::atomic;
use crate::plan::matrix::{AccountKind, AccountStatus, Recorded, Records};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// Where the records are.
pub fn path(state: &Path) -> PathBuf {
    state.join("matrix.json")
}

/// One account privai made. No `Debug`: it holds secrets.
#[derive(Clone, Serialize, Deserialize)]
pub struct Account {
    /// Whose.
    pub kind: AccountKind,
    /// Where it stands.
    pub status: AccountStatus,
    /// Its password.
    pub password: String,
    /// Its latest access token (privai's admin account and the AI's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `matrix.json`: the accounts by local part.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct File {
    /// The accounts.
    pub accounts: BTreeMap<String, Account>,
}

impl File {
    /// The records, without secrets.
    pub fn records(&self) -> Records {
        self.accounts
            .iter()
            .map(|(name, a)| {
                (
                    name.clone(),
                    Recorded {
                        kind: a.kind,
                        status: a.status,
                    },
                )
            })
            .collect()
    }

    /// The recorded token of `user`.
    pub fn token(&self, user: &str) -> Option<Secret> {
        self.accounts
            .get(user)
            .and_then(|a| a.token.as_deref())
            .map(Secret::new)
    }

    /// The recorded password of `user`, unless it was deactivated.
    pub fn password(&self, user: &str) -> Option<Secret> {
        self.accounts
            .get(user)
            .filter(|a| a.status != AccountStatus::Deactivated)
            .map(|a| Secret::new(a.password.clone()))
    }
}

/// The records; empty when privai made no account.
pub fn read(state: &Path) -> io::Result<File> {
    let path = path(state);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "`{}` is damaged: {e}; restore it from a backup (it holds the passwords of the Matrix accounts privai made)",
                    path.display()
                ),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(File::default()),
        Err(e) => Err(e),
    }
}

/// Writes the records (0600).
pub fn write(state: &Path, file: &File) -> io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(file).map_err(io::Error::other)?;
    bytes.push(b'\n');
    atomic::write(&path(state), &bytes, 0o600)
}
