//! Saved plans (`privai plan -o FILE`): what was planned, for which spec,
//! and the state it was planned against, so that `privai apply FILE`
//! carries out exactly what was reviewed — and refuses, rather than
//! re-plans, once the spec or the system has changed since.
//!
//! A saved plan holds hashes, the actions themselves (which `apply FILE`
//! carries out, read back from the file) and, for people and tools, the
//! JSON plan ([`crate::output::plan_json`]); never a secret (actions carry
//! digests of secrets, never their values).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `kind` every saved plan carries.
pub const KIND: &str = "privai-saved-plan";
/// Version of the saved-plan format.
pub const FORMAT: u32 = 2;

/// Where the plan was to be applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedTarget {
    /// `--root`, absolute, for a staged install.
    pub root: Option<PathBuf>,
    /// `--host`, for a live install.
    pub host: Option<String>,
}

/// A saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPlan {
    /// [`KIND`].
    pub kind: String,
    /// [`FORMAT`].
    pub format: u32,
    /// The privai that saved it.
    pub privai_version: String,
    /// The spec, absolute.
    pub spec: PathBuf,
    /// sha256 of the spec file's bytes, hex.
    pub spec_sha256: String,
    /// sha256 of the manifest of what the spec renders.
    pub manifest_sha256: String,
    /// Where it applies.
    pub target: SavedTarget,
    /// The current generation when it was planned.
    pub generation: Option<u64>,
    /// [`crate::observe::Observed::fingerprint`] when it was planned.
    pub fingerprint: String,
    /// The plan, as `privai plan --json` prints it.
    pub plan: serde_json::Value,
    /// The actions, in order: what `privai apply FILE` carries out.
    pub actions: Vec<crate::plan::Action>,
}

impl SavedPlan {
    /// Reads a saved plan; `Ok(None)` when `path` is not one (a spec).
    pub fn read(path: &Path) -> anyhow::Result<Option<Self>> {
        let bytes = std::fs::read(path)?;
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return Ok(None);
        };
        if value.get("kind").and_then(|k| k.as_str()) != Some(KIND) {
            return Ok(None);
        }
        let plan: Self = serde_json::from_value(value)
            .map_err(|e| anyhow::anyhow!("`{}` is a damaged saved plan: {e}", path.display()))?;
        if plan.format != FORMAT {
            anyhow::bail!(
                "`{}` is a saved plan of format {}; this privai reads format {FORMAT}. Plan again with `privai plan -o`",
                path.display(),
                plan.format
            );
        }
        Ok(Some(plan))
    }

    /// Writes it to `path` (pretty JSON).
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        crate::state::atomic::write(path, &bytes, 0o644)?;
        Ok(())
    }
}
