//! The typed spec: what `modules/*.ncl` declare, as Rust types.
//!
//! Values arrive here only after Nickel has applied the option modules as a
//! contract and filled in every default, so fields carry no serde defaults
//! except where the module declares the option `optional`. Every struct denies
//! unknown fields: a key the modules accept but this model does not know is a
//! bug that `tests/schema.rs` catches.

mod homeserver;
pub mod model_name;
mod openclaw;
pub mod secret_ref;
mod tailnet;

pub use homeserver::{Database, DatabaseKind, Homeserver, HomeserverLogLevel};
pub use openclaw::{
    Channel, ChannelPolicy, Channels, Container, ContainerNetwork, ContainerRuntime, Exception,
    ExceptionSetting, Folder, FolderMode, GatewayModels, GroupPolicy, Openclaw,
};
pub use secret_ref::SecretRef;
pub use tailnet::{Acl, AclAction, AclRule, AclTest, Device, DeviceKind, DeviceOs, Protocol, User};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole privai spec after evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Hardware facts every host inherits (already merged into `hosts`).
    pub host_defaults: HostDefaults,
    /// The machines privai deploys to.
    pub hosts: Vec<Host>,
    /// The Headscale coordinator.
    pub headscale: Headscale,
    /// Headscale users.
    pub users: Vec<User>,
    /// Groups of users, keyed by name without `group:`.
    pub groups: BTreeMap<String, Vec<String>>,
    /// Devices that join the tailnet.
    pub devices: Vec<Device>,
    /// The access policy.
    pub acl: Acl,
    /// The local LLM.
    pub ollama: Ollama,
    /// The messaging gateway (deployed when a host has the `openclaw` role).
    pub openclaw: Openclaw,
    /// The private Matrix homeserver (deployed when a host has the
    /// `homeserver` role). Defaulted so that specs saved before the option
    /// existed still read.
    #[serde(default)]
    pub homeserver: Homeserver,
    /// Phase 6: log and key rotation.
    pub monitoring: Monitoring,
}

/// Hardware facts shared by every host unless the host states its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostDefaults {
    /// Operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// CPU architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    /// Installed memory in GB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ram_gb: Option<u32>,
    /// Processor name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chip: Option<String>,
    /// GPU memory in GB (Linux).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_memory_gb: Option<u32>,
    /// `iogpu.wired_limit_mb` override (macOS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_wired_limit_mb: Option<u32>,
}

/// One machine that runs some of the system's services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Unique name; also the host's ACL alias.
    pub name: String,
    /// Operating system.
    pub platform: Platform,
    /// CPU architecture.
    pub arch: Arch,
    /// Installed memory in GB.
    pub ram_gb: u32,
    /// Processor name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chip: Option<String>,
    /// GPU memory in GB (Linux).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_memory_gb: Option<u32>,
    /// `iogpu.wired_limit_mb` override (macOS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_wired_limit_mb: Option<u32>,
    /// Services the host runs.
    pub roles: Vec<Role>,
    /// Pinned tailnet address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tailnet_ip: Option<String>,
    /// ACL tags of the host's node.
    pub tags: Vec<String>,
    /// Listeners privai does not manage (sshd, a file server) that the ACL
    /// may open. Defaulted and left out when empty so that specs saved
    /// before the option existed still read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_services: Vec<OtherService>,
    /// How privai reaches the host over SSH (`privai apply` across the
    /// fleet); absent: the host is applied where privai runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
}

/// How privai reaches a host over OpenSSH (`hosts[].deploy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    /// `[USER@]HOST` or an alias of `~/.ssh/config`.
    pub ssh: String,
    /// The SSH port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The private key, `file:PATH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Run privai there through `sudo -n`.
    pub sudo: bool,
}

/// A service on a host that privai does not manage, declared so that the
/// ACL may open its port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherService {
    /// What listens (`ssh`).
    pub name: String,
    /// Its port.
    pub port: u16,
}

/// Operating system of a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// macOS: services are launchd jobs.
    Darwin,
    /// Linux: services are systemd units.
    Linux,
}

/// CPU architecture of a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// 64-bit ARM (Apple Silicon).
    Aarch64,
    /// 64-bit x86.
    #[serde(rename = "x86_64")]
    X86_64,
}

/// A service a host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The Headscale coordinator.
    Headscale,
    /// The Ollama LLM server.
    Ollama,
    /// The OpenClaw gateway.
    Openclaw,
    /// The private Matrix homeserver (Synapse).
    Homeserver,
}

/// Headscale settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Headscale {
    /// Host running Headscale, when named explicitly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// URL clients use.
    pub server_url: String,
    /// Listener address.
    pub listen_addr: crate::net::ListenAddr,
    /// Metrics listener address.
    pub metrics_listen_addr: crate::net::ListenAddr,
    /// TLS settings.
    pub tls: Tls,
    /// Tailnet address ranges.
    pub prefixes: Prefixes,
    /// DNS settings.
    pub dns: Dns,
    /// DERP relay settings.
    pub derp: Derp,
    /// Where the policy lives.
    pub policy_mode: PolicyMode,
    /// Reference to the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<SecretRef>,
    /// Default node key expiry.
    pub node_expiry: String,
    /// Log level.
    pub log_level: LogLevel,
}

/// TLS settings of Headscale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// How TLS is provided.
    pub mode: TlsMode,
    /// Certificate (self-signed mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_path: Option<String>,
    /// Key (self-signed mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_path: Option<String>,
    /// Public name (Let's Encrypt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letsencrypt_hostname: Option<String>,
    /// ACME contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme_email: Option<String>,
    /// ACME challenge.
    pub challenge: AcmeChallenge,
}

/// How Headscale serves HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// Certificate files provided by the operator.
    SelfSigned,
    /// ACME with Let's Encrypt.
    Letsencrypt,
    /// A reverse proxy terminates TLS.
    Proxy,
}

/// ACME challenge type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcmeChallenge {
    /// HTTP-01.
    #[serde(rename = "http_01")]
    Http01,
    /// TLS-ALPN-01.
    #[serde(rename = "tls_alpn_01")]
    TlsAlpn01,
}

/// Tailnet address ranges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prefixes {
    /// IPv4 range.
    pub v4: String,
    /// IPv6 range.
    pub v6: String,
}

/// DNS settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// MagicDNS on or off.
    pub magic_dns: bool,
    /// MagicDNS domain.
    pub base_domain: String,
    /// Resolvers pushed to nodes.
    pub nameservers: Vec<String>,
}

/// DERP relay settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derp {
    /// Embedded or Tailscale's map.
    pub mode: DerpMode,
    /// STUN UDP port.
    pub stun_port: u16,
    /// Region id of the embedded server.
    pub region_id: u32,
}

/// Which DERP relays nodes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DerpMode {
    /// Headscale's embedded DERP and STUN.
    Embedded,
    /// Tailscale Inc.'s public relays.
    Tailscale,
}

/// Where Headscale keeps its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyMode {
    /// A HuJSON file reloaded on SIGHUP.
    File,
    /// Headscale's database, set through the API.
    Database,
}

/// Log level of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Trace.
    Trace,
    /// Debug.
    Debug,
    /// Info.
    Info,
    /// Warnings.
    Warn,
    /// Errors.
    Error,
}

/// Ollama settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ollama {
    /// Host running Ollama, when named explicitly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Bind address (OLLAMA_HOST).
    pub listen: crate::net::ListenAddr,
    /// API port.
    pub port: u16,
    /// A private mirror to pull from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<Registry>,
    /// Models to pull.
    pub models: Vec<Model>,
    /// Default context window.
    pub context_length: u32,
    /// KV cache element type.
    pub kv_cache_type: KvCacheType,
    /// Flash attention.
    pub flash_attention: bool,
    /// Idle unload delay.
    pub keep_alive: String,
    /// Most models loaded at once.
    pub max_loaded_models: u32,
    /// Parallel slots per model.
    pub num_parallel: u32,
    /// Model storage directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models_dir: Option<String>,
    /// Extra CORS origins.
    pub origins: Vec<String>,
}

/// One Ollama model of the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Ollama tag.
    pub name: String,
    /// What it is for.
    pub role: ModelRole,
    /// Context window override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u32>,
    /// Download size in GB, for models the catalog lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_gb: Option<f64>,
    /// Keep it loaded.
    pub keep_warm: bool,
    /// Where its weights come from, when not from a registry
    /// (`file:/path/model.gguf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A private model mirror (`ollama.registry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// `HOST[:PORT]` of the mirror.
    pub host: String,
    /// Namespace of the models on it.
    pub namespace: String,
    /// Plain HTTP.
    pub insecure: bool,
}

/// What a model is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelRole {
    /// The gateway's model.
    Primary,
    /// Used when the primary fails.
    Fallback,
    /// Code assistance.
    Code,
    /// Embeddings.
    Embedding,
    /// Anything else.
    Extra,
}

/// Element type of Ollama's KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvCacheType {
    /// 16-bit floats.
    F16,
    /// 8-bit quantized.
    Q8_0,
    /// 4-bit quantized.
    Q4_0,
}

/// Phase 6 settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Log rotation.
    pub log_rotation: LogRotation,
    /// Key rotation.
    pub key_rotation: KeyRotation,
    /// Log monitoring and its alerts (`privai monitor`).
    pub alerts: Alerts,
}

/// Log monitoring: which alerts `privai monitor` raises.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// Install the monitor job.
    pub enabled: bool,
    /// Minutes between runs of the job.
    pub interval_minutes: u32,
    /// Alert on nodes the spec does not name.
    pub unexpected_nodes: bool,
    /// Alert on repeated authentication failures.
    pub auth_failures: AuthFailures,
    /// Alert on senders the messaging allowlist refused.
    pub refused_senders: bool,
    /// Alert on Ollama running out of memory or losing its runner.
    pub ollama_failures: bool,
    /// Alert when privai's certificate expires within this many days; 0 is off.
    pub certificate_expiry_days: u32,
    /// Show alerts with the desktop's notification command too.
    pub desktop: bool,
    /// Spec users who get each alert as a Matrix direct message from the
    /// AI's account when the spec runs a homeserver; unset: the `admins`
    /// group's users, else every user ([`Alerts::matrix_owners`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix_to: Option<Vec<String>>,
}

impl Alerts {
    /// Who gets the alerts as Matrix direct messages: `matrix_to` when set,
    /// else the users of the spec's `admins` group when it has one, else
    /// every spec user. Local parts, in order, each once.
    pub fn matrix_owners(
        &self,
        users: &[User],
        groups: &BTreeMap<String, Vec<String>>,
    ) -> Vec<String> {
        let names: Vec<String> = match (&self.matrix_to, groups.get("admins")) {
            (Some(to), _) => to.clone(),
            (None, Some(admins)) => admins.clone(),
            (None, None) => users.iter().map(|u| u.name.clone()).collect(),
        };
        let mut out: Vec<String> = Vec::new();
        for name in names {
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }
}

/// The repeated-authentication-failure rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFailures {
    /// On or off.
    pub enabled: bool,
    /// Failures within the window that raise an alert (at least 1).
    pub threshold: u32,
    /// The window, minutes.
    pub window_minutes: u32,
}

/// Log rotation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogRotation {
    /// On or off.
    pub enabled: bool,
    /// Size that triggers rotation, MiB.
    pub max_size_mb: u32,
    /// Rotated files kept.
    pub keep: u32,
}

/// Key rotation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRotation {
    /// On or off.
    pub enabled: bool,
    /// Days between rotations.
    pub interval_days: u32,
    /// Hour of day the job runs.
    pub hour: u32,
    /// Lifetime of pre-auth keys, days.
    pub preauth_key_expiry_days: u32,
}

impl Spec {
    /// The host that runs `role`: the one named by the service's `host`
    /// option, else the only host with that role. `None` when there is no
    /// such host or several and none is named (reported by `privai check`).
    pub fn service_host(&self, role: Role) -> Option<&Host> {
        let named = match role {
            Role::Headscale => self.headscale.host.as_deref(),
            Role::Ollama => self.ollama.host.as_deref(),
            Role::Openclaw => self.openclaw.host.as_deref(),
            Role::Homeserver => self.homeserver.host.as_deref(),
        };
        match named {
            Some(name) => self.hosts.iter().find(|h| h.name == name),
            None => {
                let mut with_role = self.hosts.iter().filter(|h| h.roles.contains(&role));
                match (with_role.next(), with_role.next()) {
                    (Some(host), None) => Some(host),
                    _ => None,
                }
            }
        }
    }

    /// Whether the spec deploys `role` at all: some host has the role.
    pub fn deploys(&self, role: Role) -> bool {
        self.hosts.iter().any(|h| h.roles.contains(&role))
    }

    /// The homeserver's settings and its host, when a host runs it.
    pub fn homeserver(&self) -> Option<(&Homeserver, &Host)> {
        self.service_host(Role::Homeserver)
            .map(|host| (&self.homeserver, host))
    }

    /// The homeserver's Matrix server name: `homeserver.server_name`, else
    /// the MagicDNS name of its host, `HOST.BASE_DOMAIN`. `None` when no
    /// host runs the homeserver.
    pub fn matrix_server_name(&self) -> Option<String> {
        let (homeserver, host) = self.homeserver()?;
        Some(
            homeserver
                .server_name
                .clone()
                .unwrap_or_else(|| format!("{}.{}", host.name, self.headscale.dns.base_domain)),
        )
    }

    /// The gateway's settings, when a host runs it.
    pub fn gateway(&self) -> Option<&Openclaw> {
        self.deploys(Role::Openclaw).then_some(&self.openclaw)
    }
}
