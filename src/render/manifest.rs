//! The manifest of a build: every artifact's path, digest, mode, owner,
//! secrecy and restart effect. A generation is named by the sha256 of the
//! manifest's bytes, which are deterministic (sorted, no timestamps).

use super::{Artifact, Owner, Rendered, ServiceId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Version of the manifest format.
pub const FORMAT: u32 = 1;

/// One manifest entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Host the file is for.
    pub host: String,
    /// Install path.
    pub path: String,
    /// sha256 of the contents, hex.
    pub sha256: String,
    /// Permission bits, as an octal string (`"0644"`).
    pub mode: String,
    /// Owner.
    pub owner: Owner,
    /// Whether the file holds a secret.
    pub secret: bool,
    /// Services to restart when it changes.
    pub restarts: Vec<ServiceId>,
    /// Services that reload (SIGHUP) when it changes; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reloads: Vec<ServiceId>,
}

/// The manifest of a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version, see [`FORMAT`].
    pub format: u32,
    /// Every artifact, sorted by host and path.
    pub files: Vec<Entry>,
    /// Models Ollama must have, as `host`, `name`.
    pub models: Vec<super::ModelPull>,
}

/// sha256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn entry(a: &Artifact) -> Entry {
    Entry {
        host: a.host.clone(),
        path: a.path.clone(),
        sha256: sha256_hex(&a.contents),
        mode: format!("{:04o}", a.mode),
        owner: a.owner,
        secret: a.secret,
        restarts: a.restarts.clone(),
        reloads: a.reloads.clone(),
    }
}

impl Manifest {
    /// The manifest of `rendered`.
    pub fn of(rendered: &Rendered) -> Self {
        Self {
            format: FORMAT,
            files: rendered.artifacts.iter().map(entry).collect(),
            models: rendered.models.clone(),
        }
    }

    /// The manifest as written to `manifest.json`: pretty JSON, newline-terminated.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The generation hash: sha256 of [`Self::to_bytes`].
    pub fn hash(&self) -> String {
        sha256_hex(&self.to_bytes())
    }
}
