//! The secret files `apply` writes: the gateway's token when its `file:`
//! does not exist yet (generated), and every secret the spec reads from an
//! environment variable (copied into privai's secrets directory, where the
//! compose file mounts it from). Pure: values are read by `observe` and
//! `apply`, never here, and never stored in a generation.
//!
//! Not written (yet): secrets in the macOS keychain (`keychain:`); a
//! channel token given as `file:`, which only its owner can provide.

use super::ServiceId;
use super::paths::Layout;
use crate::model::{Role, Spec};
use serde::{Deserialize, Serialize};

/// Where a secret file's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecretSource {
    /// Random bytes, written once when the file is missing and then kept.
    Generate,
    /// The value of an environment variable when privai runs.
    Env {
        /// The variable.
        var: String,
    },
}

/// A secret file privai writes (mode 0600).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFile {
    /// The host it is on.
    pub host: String,
    /// Its install path (`~/` is the operator's home).
    pub path: String,
    /// What the spec calls it, e.g. `openclaw.gateway_token`.
    pub name: String,
    /// Where its value comes from.
    pub source: SecretSource,
    /// Services to restart when it changes.
    pub restarts: Vec<ServiceId>,
}

/// The secret files of `spec`, by host and path.
pub fn secrets(spec: &Spec) -> Vec<SecretFile> {
    let (Some(openclaw), Some(host)) = (spec.gateway(), spec.service_host(Role::Openclaw)) else {
        return Vec::new();
    };
    let layout = Layout::of(host);
    let mut out = Vec::new();
    let mut add = |name: String, reference: &str, file: String, generate: bool| {
        let (path, source) = if let Some(path) = reference.strip_prefix("file:") {
            if !generate {
                return;
            }
            (path.to_owned(), SecretSource::Generate)
        } else if let Some(var) = reference.strip_prefix("env:") {
            (
                format!("{}/{file}", layout.secrets_dir()),
                SecretSource::Env {
                    var: var.to_owned(),
                },
            )
        } else {
            return;
        };
        out.push(SecretFile {
            host: host.name.clone(),
            path,
            name,
            source,
            restarts: vec![ServiceId::Gateway],
        });
    };
    add(
        "openclaw.gateway_token".into(),
        &openclaw.gateway_token,
        "openclaw-gateway-token".into(),
        true,
    );
    for (id, channel) in openclaw.channels.iter() {
        if let Some(token) = &channel.token {
            add(
                format!("openclaw.channels.{id}.token"),
                token,
                format!("{id}-token"),
                false,
            );
        }
    }
    out.sort_by(|a, b| (&a.host, &a.path).cmp(&(&b.host, &b.path)));
    out
}
