//! What `privai status` reports: the verdict, each part of the system,
//! and every problem with its fix (also the JSON of `--json`).

use serde::Serialize;

/// How the system is, worst first in severity; the exit code of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Everything answers as the spec says: exit 0.
    Healthy = 0,
    /// Working, with something to fix: exit 1.
    Degraded = 1,
    /// The AI cannot answer: exit 2.
    Down = 2,
}

/// A problem and its fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How bad it is.
    pub level: Level,
    /// What is wrong and what it means, one or two sentences.
    pub problem: String,
    /// What to do.
    pub fix: String,
}

/// One service of the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceStatus {
    /// `headscale`, `ollama`, `gateway`, `key-rotation`.
    pub name: String,
    /// How it is run, e.g. `systemd privai-ollama.service`.
    pub managed_by: String,
    /// What its service manager says, e.g. `running`, `not loaded`,
    /// `active`, `failed`; `None` when not asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Its health check: `None` when it has none or was not probed.
    pub healthy: Option<bool>,
    /// Why the check failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A device of the spec on the tailnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceStatus {
    /// Its name.
    pub name: String,
    /// Its user.
    pub user: String,
    /// Whether it has joined (Headscale has its node); `None`: Headscale
    /// did not answer.
    pub joined: Option<bool>,
    /// Whether it is connected now; `None`: Headscale did not answer.
    pub online: Option<bool>,
    /// Its tailnet addresses.
    pub addresses: Vec<String>,
    /// When Headscale last heard from it (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
}

/// Headscale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeadscaleStatus {
    /// `up`, `down` or `not asked` (no API key in the spec, staged install).
    pub state: String,
    /// Its version, e.g. `v0.29.2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Nodes Headscale has, and how many are online.
    pub nodes: usize,
    /// Of which online.
    pub online: usize,
    /// The pre-auth keys of devices not joined yet that expire within
    /// [`KEY_WARNING`] or have expired, in words.
    pub keys_expiring: Vec<String>,
    /// Whether the policy Headscale holds is the spec's (database mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_is_the_spec_s: Option<bool>,
    /// Nodes that are neither a device nor a host of the spec, in words.
    pub unexpected_nodes: Vec<String>,
}

/// One model of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelStatus {
    /// Its name.
    pub name: String,
    /// Its role, e.g. `primary`.
    pub role: String,
    /// Whether Ollama has it; `None`: Ollama did not answer.
    pub present: Option<bool>,
    /// Whether its digest is the one `privai.lock` records (`None`: not locked or absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches_lock: Option<bool>,
    /// Bytes it takes in memory when loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loaded_bytes: Option<u64>,
}

/// Ollama.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OllamaStatus {
    /// `up`, `down` or `not asked`.
    pub state: String,
    /// Its version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The spec's models.
    pub models: Vec<ModelStatus>,
    /// Models Ollama has that the spec does not name.
    pub extra: Vec<String>,
}

/// The gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayStatus {
    /// Whether its health check passes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthy: Option<bool>,
    /// Whether its containers run the compose file of the current
    /// generation (`None`: the container runtime was not asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_definition: Option<bool>,
    /// The model that answers now, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answering: Option<String>,
    /// `primary`, `fallback`, `none`, or `unknown` when Ollama was not
    /// asked (a staged install, or Ollama on another host).
    pub answering_as: String,
}

/// `format_version` of the JSON report (docs/status-json.md).
pub const FORMAT_VERSION: &str = "1.0";

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// [`FORMAT_VERSION`].
    pub format_version: &'static str,
    /// The verdict.
    pub level: Level,
    /// The current generation; `None` before the first apply.
    pub generation: Option<u64>,
    /// Changes `privai apply` would make (drift or a changed spec).
    pub pending_changes: usize,
    /// Whether the pending changes are drift: not while Headscale or
    /// Ollama does not answer (the plan then recreates what it cannot see).
    pub drift_known: bool,
    /// Each of them, e.g. `~ file openclaw-server:/etc/headscale/config.yaml`.
    pub pending: Vec<String>,
    /// The services.
    pub services: Vec<ServiceStatus>,
    /// Headscale, if the spec runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headscale: Option<HeadscaleStatus>,
    /// The devices.
    pub devices: Vec<DeviceStatus>,
    /// Ollama, if the spec runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ollama: Option<OllamaStatus>,
    /// The gateway, if the spec deploys it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayStatus>,
    /// Every problem, worst first.
    pub findings: Vec<Finding>,
}
