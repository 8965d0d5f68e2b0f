//! The OpenClaw gateway, its channels and its container.

use serde::{Deserialize, Serialize};

/// OpenClaw gateway settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Openclaw {
    /// Host running the gateway, when named explicitly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Image, pinned by digest (required when deployed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Gateway port.
    pub port: u16,
    /// Host address the port is published on.
    pub bind: crate::net::ListenAddr,
    /// Reference to the gateway token.
    pub gateway_token: super::SecretRef,
    /// Primary and fallback models.
    pub model: GatewayModels,
    /// Host folders mounted into the container.
    pub folders: Vec<Folder>,
    /// Serve the OpenAI-compatible `POST /v1/chat/completions` endpoint.
    #[serde(default)]
    pub chat_completions: bool,
    /// Messaging channels.
    pub channels: Channels,
    /// Container hardening.
    pub container: Container,
}

/// The models the gateway uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayModels {
    /// Main model (required when deployed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// Models tried in order when the primary fails.
    pub fallbacks: Vec<String>,
}

/// A host folder mounted into the container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Folder {
    /// What it holds.
    pub name: String,
    /// Folder on the host.
    pub host_path: String,
    /// Mount point in the container.
    pub container_path: String,
    /// Read-only or read-write.
    pub mode: FolderMode,
}

/// Mount mode of a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FolderMode {
    /// Read-only.
    Ro,
    /// Read-write.
    Rw,
}

/// The messaging channels, each optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channels {
    /// Telegram.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegram: Option<Channel>,
    /// WhatsApp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<Channel>,
    /// Signal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<Channel>,
    /// Discord.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discord: Option<Channel>,
    /// Slack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<Channel>,
    /// Matrix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<Channel>,
    /// iMessage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imessage: Option<Channel>,
}

impl Channels {
    /// The configured channels with their ids, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Channel)> {
        [
            ("telegram", &self.telegram),
            ("whatsapp", &self.whatsapp),
            ("signal", &self.signal),
            ("discord", &self.discord),
            ("slack", &self.slack),
            ("matrix", &self.matrix),
            ("imessage", &self.imessage),
        ]
        .into_iter()
        .filter_map(|(id, channel)| channel.as_ref().map(|c| (id, c)))
    }
}

/// One messaging channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// Started with the gateway.
    pub enabled: bool,
    /// Who may message the bot directly.
    pub dm_policy: ChannelPolicy,
    /// Allowed sender ids.
    pub allow_from: Vec<String>,
    /// Who may use the bot in groups.
    pub group_policy: GroupPolicy,
    /// Reference to the bot token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<super::SecretRef>,
    /// Channel account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Why the channel may pass messages through a third party's cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_reason: Option<String>,
}

/// Direct-message policy of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelPolicy {
    /// Unknown senders get a pairing code.
    Pairing,
    /// Only `allow_from`.
    Allowlist,
    /// No direct messages.
    Disabled,
    /// Anyone.
    Open,
}

/// Group-chat policy of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupPolicy {
    /// Only allowed groups.
    Allowlist,
    /// No groups.
    Disabled,
    /// Any group.
    Open,
}

/// Hardening of the gateway's container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Container {
    /// Container engine, when chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<ContainerRuntime>,
    /// uid:gid inside the container.
    pub user: String,
    /// Read-only root file system.
    pub read_only_root: bool,
    /// no-new-privileges.
    pub no_new_privileges: bool,
    /// Dropped capabilities.
    pub cap_drop: Vec<String>,
    /// Added capabilities.
    pub cap_add: Vec<String>,
    /// Privileged mode.
    pub privileged: bool,
    /// Network mode.
    pub network: ContainerNetwork,
    /// Memory limit, MiB.
    pub memory_mb: u32,
    /// CPU limit, cores.
    pub cpus: f64,
    /// Process limit.
    pub pids_limit: u32,
    /// Size of `/tmp`, MiB.
    pub tmpfs_mb: u32,
    /// Deliberate weakenings.
    pub exceptions: Vec<Exception>,
}

impl Container {
    /// Whether the spec states an exception for `setting`.
    pub fn excepts(&self, setting: ExceptionSetting) -> bool {
        self.exceptions.iter().any(|e| e.setting == setting)
    }
}

/// Container engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerRuntime {
    /// Podman.
    Podman,
    /// Docker.
    Docker,
}

/// Network of the gateway container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContainerNetwork {
    /// No route to the internet.
    Internal,
    /// A bridge with internet egress.
    Bridge,
    /// The host's network stack.
    Host,
}

/// A deliberate weakening of the container hardening.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// The rule relaxed.
    pub setting: ExceptionSetting,
    /// Why.
    pub reason: String,
}

/// A hardening rule an exception can relax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionSetting {
    /// Privileged mode.
    Privileged,
    /// Added capabilities.
    CapAdd,
    /// Privilege escalation allowed.
    NoNewPrivileges,
    /// Writable root file system.
    ReadOnlyRoot,
    /// Running as root.
    RootUser,
    /// Host or bridge network.
    Network,
    /// Sensitive host mounts.
    Mount,
    /// Missing resource limits.
    Limits,
}
