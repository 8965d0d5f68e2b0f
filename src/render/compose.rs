//! The gateway's compose file: `{gateway_dir}/compose.yaml`.
//!
//! # Reachability without egress
//!
//! The gateway container sits only on `internal`, a network created with
//! `internal: true` and a fixed subnet ([`SUBNET`]): it has no default
//! route, so it reaches nothing but the addresses of that subnet, the host's
//! end of the bridge ([`SUBNET_GATEWAY`]) included. Three facts shape the
//! rest (observed with podman/netavark):
//!
//! - a port published from a container attached only to an internal network
//!   does not answer;
//! - the host's loopback is out of reach from every container network, and
//!   Ollama listens on loopback (it has no authentication);
//! - the host reaches the addresses of the internal network, and a host
//!   socket bound on [`SUBNET_GATEWAY`] answers the containers on it.
//!
//! So a second service, `openclaw-relay`, carries both hops. It runs the
//! same digest-pinned gateway image (no second image to trust or pin) with a
//! short Node TCP relay ([`RELAY_JS`]) under the same hardening (uid 1000,
//! no capabilities, no-new-privileges, read-only root, memory, CPU and
//! process limits, no mounts). Where it runs depends on the platform.
//!
//! ## macOS: the relay between two container networks
//!
//! The relay is attached to `internal` (fixed address [`RELAY_IP`]) and to
//! `edge`, an ordinary bridge, and:
//!
//! - publishes `BIND:PORT` on the spec's bind address only and forwards it
//!   to the gateway at [`GATEWAY_IP`]:18789;
//! - listens on `RELAY_IP:OLLAMA_PORT` inside `internal` and forwards to
//!   Ollama on the host: `host.containers.internal` (podman; Docker gets
//!   `host.docker.internal:host-gateway`), or Ollama's own address when it
//!   listens on one (e.g. the tailnet IP). Podman machine maps
//!   `host.containers.internal` to the Mac's loopback, where Ollama listens.
//!
//! The gateway's `baseUrl` is `http://RELAY_IP:OLLAMA_PORT`.
//!
//! ## Linux: the relay on the host's network
//!
//! On Linux `host.containers.internal` is a bridge address of the host, where
//! a loopback-only Ollama does not answer (and privai does not let Ollama
//! listen beyond loopback or the tailnet). The relay therefore runs with
//! `network_mode: host`, and `edge` is not created:
//!
//! - it listens on `SUBNET_GATEWAY:OLLAMA_PORT` and forwards to Ollama's own
//!   address (`127.0.0.1`, or the tailnet IP it listens on); when Ollama
//!   listens on every address it already answers there and the relay
//!   carries only the other hop;
//! - it listens on the spec's `BIND:PORT` and forwards to the gateway at
//!   [`GATEWAY_IP`]:18789.
//!
//! The gateway's `baseUrl` is `http://SUBNET_GATEWAY:OLLAMA_PORT`. The relay
//! binds an address of the internal network, so it starts after the gateway
//! (whose start brings the network up) and retries a missing address for a
//! few seconds. A host firewall must let the internal subnet reach
//! `SUBNET_GATEWAY:OLLAMA_PORT`.
//!
//! Sharing the host's network is acceptable for this one container: it is a
//! privai component, not OpenClaw, and runs no code that acts on what it
//! carries; it has no capabilities, so it can bind only unprivileged ports
//! and can neither sniff nor reconfigure the host's interfaces; and it keeps
//! every other restriction above. The container `privai check` holds to the
//! spec's network setting (`openclaw.container.network`) is the gateway,
//! which stays on `internal` without egress.
//!
//! In both layouts the gateway's only peers are the relay's two listeners.
//! The relay has egress, but it runs no code that acts on what it carries.
//!
//! With `network = 'bridge` the same layout is used but `internal` allows
//! egress; with `network = 'host` the gateway shares the host's network and
//! there is no relay (both are exceptions `privai check` reports).
//!
//! # Portability
//!
//! The portable subset of compose that both podman-compose and Docker
//! Compose accept: no `version` or `name` (the CLI passes `-p privai`), YAML
//! booleans, a string `user`, short-syntax ports with a host address,
//! top-level `mem_limit`/`cpus`/`pids_limit`, `file` secrets, and `${HOME}`
//! for `~` (compose does not expand `~`).

use super::openclaw::{config_file, config_folder, owner_of};
use super::paths::Layout;
use super::{Artifact, ServiceId};
use crate::model::{
    ContainerNetwork, ContainerRuntime, FolderMode, Host, Openclaw, Platform, Spec,
};
use crate::net::{BindKind, bind_kind, host_part};
use serde::Serialize;
use std::collections::BTreeMap;

/// The port the gateway listens on inside its container (OpenClaw hangs on
/// others in some images; the host remaps).
pub const CONTAINER_PORT: u16 = 18789;
/// OpenClaw's state directory inside the container (a tmpfs; the spec's
/// folders are mounted inside it).
pub const STATE_DIR: &str = "/home/node/.openclaw";
/// The auth-profile key directory inside the container (a tmpfs).
const AUTH_KEY_DIR: &str = "/home/node/.config/openclaw";
/// The node user's cache directory inside the container (a tmpfs): OpenClaw
/// 2026.9.6 makes its fallback temp directory `~/.cache/openclaw-UID` there
/// when it opens its state database, and exits (78) when it cannot.
const CACHE_DIR: &str = "/home/node/.cache";
/// The internal network's subnet.
pub const SUBNET: &str = "10.254.89.0/24";
/// The internal network's gateway (the host's end of the bridge).
pub const SUBNET_GATEWAY: &str = "10.254.89.1";
/// The gateway container's address.
pub const GATEWAY_IP: &str = "10.254.89.2";
/// The relay's address on the internal network.
pub const RELAY_IP: &str = "10.254.89.3";
/// The compose service of the gateway.
pub const GATEWAY_SERVICE: &str = "openclaw-gateway";
/// The compose service of the relay.
pub const RELAY_SERVICE: &str = "openclaw-relay";
/// The network without egress.
pub const INTERNAL_NETWORK: &str = "internal";
/// The ordinary bridge the relay publishes from (macOS).
pub const EDGE_NETWORK: &str = "edge";
/// The compose secret holding the gateway token.
pub const GATEWAY_TOKEN_SECRET: &str = "openclaw_gateway_token";
/// Memory of the relay, MiB.
const RELAY_MEMORY_MB: u32 = 128;

/// The relay: each argument `LISTEN_HOST:LISTEN_PORT=TARGET_HOST:TARGET_PORT`
/// (IPv6 hosts in brackets) is one TCP listener piping every connection to
/// its target. A listen address that does not exist yet (the internal
/// network's, before its bridge is up) is retried every half second for ten
/// seconds; any other listen error ends the relay. No `$` anywhere: compose
/// would interpolate it.
pub const RELAY_JS: &str = r#"const net = require("net");
const at = (s) => { const i = s.lastIndexOf(":"); const h = s.slice(0, i); return [h.startsWith("[") ? h.slice(1, -1) : h, Number(s.slice(i + 1))]; };
const retries = 20;
for (const route of process.argv.slice(1)) {
  const [from, to] = route.split("=");
  const [listenHost, listenPort] = at(from);
  const [host, port] = at(to);
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    const close = () => { client.destroy(); upstream.destroy(); };
    client.on("error", close);
    upstream.on("error", close);
    client.pipe(upstream).pipe(client);
  });
  let tries = 0;
  server.on("error", (e) => {
    if (e.code === "EADDRNOTAVAIL" && tries++ < retries) {
      setTimeout(() => { server.close(); server.listen(listenPort, listenHost); }, 500);
      return;
    }
    console.error("relay " + from + ": " + e.message);
    process.exit(1);
  });
  server.listen(listenPort, listenHost);
}
"#;

/// Liveness of the gateway: `/healthz` must answer `{"ok": true}` (the
/// Control UI answers unknown paths with 200, so the body is checked).
const GATEWAY_HEALTH_JS: &str = "fetch('http://127.0.0.1:18789/healthz').then((r) => r.json()).then((b) => process.exit(b.ok === true ? 0 : 1), () => process.exit(1))";

/// A compose file.
#[derive(Debug, Serialize)]
pub struct ComposeFile {
    /// Networks.
    pub networks: BTreeMap<String, Network>,
    /// Secrets (host files).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretFile>,
    /// Services.
    pub services: BTreeMap<String, Service>,
}

/// A top-level network.
#[derive(Debug, Serialize)]
pub struct Network {
    /// Driver.
    pub driver: String,
    /// No egress.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
    /// Fixed addressing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
}

/// IPAM of a network.
#[derive(Debug, Serialize)]
pub struct Ipam {
    /// Subnets.
    pub config: Vec<IpamConfig>,
}

/// One subnet.
#[derive(Debug, Serialize)]
pub struct IpamConfig {
    /// The host's address on it.
    pub gateway: String,
    /// CIDR.
    pub subnet: String,
}

/// A file secret.
#[derive(Debug, Serialize)]
pub struct SecretFile {
    /// Host path.
    pub file: String,
}

/// A service.
#[derive(Debug, Serialize)]
pub struct Service {
    /// Capabilities added.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    /// Capabilities dropped.
    pub cap_drop: Vec<String>,
    /// CPU limit.
    pub cpus: f64,
    /// Started after these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Entry point override.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    /// Environment (never a secret).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Extra `/etc/hosts` entries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<String>,
    /// Health check.
    pub healthcheck: Healthcheck,
    /// Image.
    pub image: String,
    /// Run an init process.
    pub init: bool,
    /// Labels; privai's [`DEFINITION_LABEL`] on every service.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Memory limit.
    pub mem_limit: String,
    /// Host network mode, when the spec asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    /// Networks and fixed addresses.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Attachment>,
    /// Process limit.
    pub pids_limit: u32,
    /// Published ports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    /// Privileged (only with an exception).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub privileged: bool,
    /// Read-only root.
    pub read_only: bool,
    /// Restart policy.
    pub restart: String,
    /// Secrets mounted at `/run/secrets`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    /// Security options.
    pub security_opt: Vec<String>,
    /// tmpfs mounts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    /// uid:gid.
    pub user: String,
    /// Bind mounts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
}

/// A network attachment.
#[derive(Debug, Serialize)]
pub struct Attachment {
    /// Fixed address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<String>,
}

/// A health check.
#[derive(Debug, Serialize)]
pub struct Healthcheck {
    /// Between checks.
    pub interval: String,
    /// Failures before unhealthy.
    pub retries: u32,
    /// Grace period.
    pub start_period: String,
    /// Command.
    pub test: Vec<String>,
    /// Per check.
    pub timeout: String,
}

/// Pushes `compose.yaml` for the gateway on `host`.
pub fn render(spec: &Spec, host: &Host, out: &mut Vec<Artifact>) {
    let Some(openclaw) = spec.gateway() else {
        return;
    };
    let layout = Layout::of(host);
    let path = format!("{}/compose.yaml", layout.gateway_dir());
    let owner = owner_of(&path);
    out.push(
        Artifact::text(host, path, compose_yaml(spec, host, openclaw), owner)
            .restarts(ServiceId::Gateway),
    );
}

/// The label privai puts on every service of its compose file: the hex
/// SHA-256 of the compose definition without this label
/// ([`definition_sha256`]). A container carrying another value (or none)
/// was created from another definition, or not by privai.
pub const DEFINITION_LABEL: &str = "net.privai.compose-sha256";

/// The hex SHA-256 that [`DEFINITION_LABEL`] carries: of `yaml`, the
/// compose file as rendered without that label.
pub fn definition_sha256(yaml: &str) -> String {
    crate::render::manifest::sha256_hex(yaml.as_bytes())
}

/// The compose file as YAML, each service labelled with the definition's
/// hash ([`DEFINITION_LABEL`]).
pub fn compose_yaml(spec: &Spec, host: &Host, openclaw: &Openclaw) -> String {
    let mut file = compose_file(spec, host, openclaw);
    let yaml = |file: &ComposeFile| {
        serde_yaml_ng::to_string(file).expect("compose structs always serialize")
    };
    let sha256 = definition_sha256(&yaml(&file));
    for service in file.services.values_mut() {
        service
            .labels
            .insert(DEFINITION_LABEL.to_owned(), sha256.clone());
    }
    yaml(&file)
}

/// The compose definition's services and hash, as a
/// [`crate::render::units::Definition`].
pub fn definition(
    spec: &Spec,
    host: &Host,
    openclaw: &Openclaw,
) -> crate::render::units::Definition {
    let file = compose_file(spec, host, openclaw);
    let yaml = serde_yaml_ng::to_string(&file).expect("compose structs always serialize");
    crate::render::units::Definition {
        services: file.services.keys().cloned().collect(),
        sha256: definition_sha256(&yaml),
    }
}

/// The compose file.
pub fn compose_file(spec: &Spec, host: &Host, openclaw: &Openclaw) -> ComposeFile {
    let layout = Layout::of(host);
    let container = &openclaw.container;
    let image = openclaw.image.clone().unwrap_or_default();
    let (uid, gid) = ids(&container.user);

    let mut secrets = BTreeMap::new();
    secrets.insert(
        GATEWAY_TOKEN_SECRET.to_owned(),
        SecretFile {
            file: secret_source(&openclaw.gateway_token, "openclaw-gateway-token", &layout),
        },
    );
    for (id, channel) in openclaw.channels.iter() {
        if let Some(token) = &channel.token {
            secrets.insert(
                channel_secret(id),
                SecretFile {
                    file: secret_source(token, &format!("{id}-token"), &layout),
                },
            );
        }
    }
    if let Some(path) = super::homeserver::ai_token_file(spec) {
        // The AI's token privai makes on its own homeserver.
        secrets.insert(channel_secret("matrix"), SecretFile { file: home(&path) });
    }

    let mut volumes: Vec<String> = openclaw
        .folders
        .iter()
        .map(|f| {
            let suffix = match f.mode {
                FolderMode::Ro => ":ro",
                FolderMode::Rw => "",
            };
            format!("{}:{}{suffix}", home(&f.host_path), f.container_path)
        })
        .collect();
    let config_path = match config_folder(openclaw) {
        Some(folder) => format!(
            "{}/openclaw.json",
            folder.container_path.trim_end_matches('/')
        ),
        None => {
            // The config must reach the container: mount its folder.
            let dir = config_file(openclaw, &layout);
            let dir = dir.trim_end_matches("/openclaw.json");
            volumes.push(format!("{}:{STATE_DIR}/config:ro", home(dir)));
            format!("{STATE_DIR}/config/openclaw.json")
        }
    };

    let heap = container.memory_mb.saturating_mul(3) / 4;
    let environment = BTreeMap::from(
        [
            ("HOME", "/home/node".to_owned()),
            ("NODE_OPTIONS", format!("--max-old-space-size={heap}")),
            ("OPENCLAW_CONFIG_PATH", config_path),
            ("OPENCLAW_DISABLE_BONJOUR", "1".to_owned()),
            ("OPENCLAW_NO_AUTO_UPDATE", "1".to_owned()),
            ("OPENCLAW_OFFLINE", "1".to_owned()),
            ("OPENCLAW_STATE_DIR", STATE_DIR.to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    // The writable tmpfs mounts belong to the container user: podman's `U`
    // chowns them (podman 4 rejects `uid=`, and some kernels ignore `mode`),
    // Docker passes `uid=`/`gid=` to the kernel.
    let owner = match container.runtime {
        Some(ContainerRuntime::Docker) => format!(",uid={uid},gid={gid}"),
        _ => ",U".to_owned(),
    };
    let tmpfs = vec![
        format!("/tmp:size={}m,mode=1777{owner}", container.tmpfs_mb),
        format!("{STATE_DIR}:size={}m,mode=0700{owner}", container.tmpfs_mb),
        format!("{AUTH_KEY_DIR}:size=1m,mode=0700{owner}"),
        format!("{CACHE_DIR}:size={}m,mode=0700{owner}", container.tmpfs_mb),
    ];
    let host_network = container.network == ContainerNetwork::Host;
    let relay_on_host = relay_on_host_network(host);
    let mut gateway = Service {
        cap_add: container.cap_add.clone(),
        cap_drop: container.cap_drop.clone(),
        cpus: container.cpus,
        depends_on: Vec::new(),
        entrypoint: Vec::new(),
        environment,
        extra_hosts: Vec::new(),
        healthcheck: Healthcheck {
            interval: "30s".into(),
            retries: 5,
            start_period: "20s".into(),
            test: vec![
                "CMD".into(),
                "node".into(),
                "-e".into(),
                GATEWAY_HEALTH_JS.into(),
            ],
            timeout: "10s".into(),
        },
        image: image.clone(),
        init: true,
        labels: BTreeMap::new(),
        mem_limit: format!("{}m", container.memory_mb),
        network_mode: host_network.then(|| "host".to_owned()),
        networks: BTreeMap::new(),
        pids_limit: container.pids_limit,
        ports: Vec::new(),
        privileged: container.privileged,
        read_only: container.read_only_root,
        restart: "on-failure:5".into(),
        secrets: secrets.keys().cloned().collect(),
        security_opt: vec![format!("no-new-privileges:{}", container.no_new_privileges)],
        tmpfs,
        user: container.user.clone(),
        volumes,
    };

    let mut services = BTreeMap::new();
    let mut networks = BTreeMap::new();
    if !host_network {
        gateway.networks.insert(
            INTERNAL_NETWORK.into(),
            Attachment {
                ipv4_address: Some(GATEWAY_IP.into()),
            },
        );
        networks.insert(
            INTERNAL_NETWORK.into(),
            Network {
                driver: "bridge".into(),
                internal: container.network == ContainerNetwork::Internal,
                ipam: Some(Ipam {
                    config: vec![IpamConfig {
                        gateway: SUBNET_GATEWAY.into(),
                        subnet: SUBNET.into(),
                    }],
                }),
            },
        );
        if !relay_on_host {
            networks.insert(
                EDGE_NETWORK.into(),
                Network {
                    driver: "bridge".into(),
                    internal: false,
                    ipam: None,
                },
            );
        }
        services.insert(
            RELAY_SERVICE.to_owned(),
            relay(spec, openclaw, &image, relay_on_host),
        );
    }
    services.insert(GATEWAY_SERVICE.to_owned(), gateway);
    ComposeFile {
        networks,
        secrets,
        services,
    }
}

/// Whether the relay of a gateway on `host` runs on the host's network
/// (Linux) rather than between `internal` and `edge` (macOS).
fn relay_on_host_network(host: &Host) -> bool {
    host.platform == Platform::Linux
}

/// The relay service (see the module documentation).
fn relay(spec: &Spec, openclaw: &Openclaw, image: &str, on_host: bool) -> Service {
    let container = &openclaw.container;
    let ollama_port = spec.ollama.port;
    let bind = bracketed(host_part(&openclaw.bind));
    let gateway = format!("{GATEWAY_IP}:{CONTAINER_PORT}");
    let mut routes = Vec::new();
    let mut extra_hosts = Vec::new();
    let mut ports = Vec::new();
    let mut networks = BTreeMap::new();
    // The relay's own check: its published listener accepts connections.
    let (health_host, health_port) = if on_host {
        routes.push(format!("{bind}:{}={gateway}", openclaw.port));
        if bind_kind(&spec.ollama.listen) != BindKind::Wildcard {
            let ollama = bracketed(&local_ollama_address(spec));
            routes.push(format!(
                "{SUBNET_GATEWAY}:{ollama_port}={ollama}:{ollama_port}"
            ));
        }
        if let Some((port, target)) = homeserver_hop(spec, openclaw, true) {
            routes.push(format!("{SUBNET_GATEWAY}:{port}={target}:{port}"));
        }
        let health_host = match bind_kind(&openclaw.bind) {
            BindKind::Wildcard => "127.0.0.1".to_owned(),
            _ => host_part(&openclaw.bind).to_owned(),
        };
        (health_host, openclaw.port)
    } else {
        let (ollama_host, hosts) = ollama_target(spec, openclaw);
        extra_hosts = hosts;
        routes.push(format!("0.0.0.0:{CONTAINER_PORT}={gateway}"));
        routes.push(format!(
            "{RELAY_IP}:{ollama_port}={ollama_host}:{ollama_port}"
        ));
        if let Some((port, target)) = homeserver_hop(spec, openclaw, false) {
            if target == "host.docker.internal" && extra_hosts.is_empty() {
                extra_hosts.push("host.docker.internal:host-gateway".into());
            }
            routes.push(format!("{RELAY_IP}:{port}={target}:{port}"));
        }
        ports.push(format!("{bind}:{}:{CONTAINER_PORT}", openclaw.port));
        networks.insert(EDGE_NETWORK.to_owned(), Attachment { ipv4_address: None });
        networks.insert(
            INTERNAL_NETWORK.to_owned(),
            Attachment {
                ipv4_address: Some(RELAY_IP.into()),
            },
        );
        ("127.0.0.1".to_owned(), CONTAINER_PORT)
    };
    let health = format!(
        "require('net').connect({health_port}, '{health_host}').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"
    );
    let mut entrypoint = vec!["node".into(), "-e".into(), RELAY_JS.into()];
    entrypoint.extend(routes);
    Service {
        cap_add: Vec::new(),
        cap_drop: vec!["ALL".into()],
        cpus: 0.5,
        depends_on: vec![GATEWAY_SERVICE.into()],
        entrypoint,
        environment: BTreeMap::from([(
            "NODE_OPTIONS".to_owned(),
            format!("--max-old-space-size={}", RELAY_MEMORY_MB / 2),
        )]),
        extra_hosts,
        healthcheck: Healthcheck {
            interval: "30s".into(),
            retries: 5,
            start_period: "10s".into(),
            test: vec!["CMD".into(), "node".into(), "-e".into(), health],
            timeout: "10s".into(),
        },
        image: image.to_owned(),
        init: true,
        labels: BTreeMap::new(),
        mem_limit: format!("{RELAY_MEMORY_MB}m"),
        network_mode: on_host.then(|| "host".to_owned()),
        networks,
        pids_limit: 32,
        ports,
        privileged: false,
        read_only: true,
        restart: "on-failure:5".into(),
        secrets: Vec::new(),
        security_opt: vec!["no-new-privileges:true".into()],
        tmpfs: Vec::new(),
        user: container.user.clone(),
        volumes: Vec::new(),
    }
}

/// `host` as the host part of `host:port` (IPv6 in brackets).
fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Ollama's address as a process on its host reaches it
/// ([`crate::net::local_host`]).
fn local_ollama_address(spec: &Spec) -> String {
    crate::net::local_host(&spec.ollama.listen).to_owned()
}

/// Where the relay between container networks (macOS) finds Ollama, and
/// the `extra_hosts` that name needs.
fn ollama_target(spec: &Spec, openclaw: &Openclaw) -> (String, Vec<String>) {
    let listen = host_part(&spec.ollama.listen);
    match bind_kind(&spec.ollama.listen) {
        BindKind::Loopback | BindKind::Wildcard => match openclaw.container.runtime {
            Some(ContainerRuntime::Docker) => (
                "host.docker.internal".into(),
                vec!["host.docker.internal:host-gateway".into()],
            ),
            _ => ("host.containers.internal".into(), Vec::new()),
        },
        _ => (listen.to_owned(), Vec::new()),
    }
}

/// Ollama's URL as the gateway on `host` sees it.
pub fn ollama_base_url(spec: &Spec, host: &Host, openclaw: &Openclaw) -> String {
    let port = spec.ollama.port;
    match openclaw.container.network {
        ContainerNetwork::Host => {
            format!("http://{}:{port}", bracketed(&local_ollama_address(spec)))
        }
        ContainerNetwork::Internal | ContainerNetwork::Bridge if relay_on_host_network(host) => {
            format!("http://{SUBNET_GATEWAY}:{port}")
        }
        ContainerNetwork::Internal | ContainerNetwork::Bridge => {
            format!("http://{RELAY_IP}:{port}")
        }
    }
}

/// The relay's hop to the homeserver, for a gateway with an enabled
/// Matrix channel when the spec deploys a homeserver: its port and where
/// the relay (on the host's network when `on_host`, else between container
/// networks) reaches it. On the gateway's host that is loopback (the
/// homeserver always listens there; from a container, the host's gateway
/// name); on another host, its tailnet address.
fn homeserver_hop(spec: &Spec, openclaw: &Openclaw, on_host: bool) -> Option<(u16, String)> {
    openclaw.channels.matrix.as_ref().filter(|m| m.enabled)?;
    let (homeserver, hs_host) = spec.homeserver()?;
    let same_host = spec
        .service_host(crate::model::Role::Openclaw)
        .is_some_and(|h| h.name == hs_host.name);
    let target = match (same_host, on_host) {
        (true, true) => "127.0.0.1".to_owned(),
        (true, false) => match openclaw.container.runtime {
            Some(ContainerRuntime::Docker) => "host.docker.internal".to_owned(),
            _ => "host.containers.internal".to_owned(),
        },
        (false, _) => hs_host.tailnet_ip.clone()?,
    };
    Some((homeserver.port, target))
}

/// The homeserver's URL as the gateway on `host` sees it (through the
/// relay), when [`homeserver_hop`] has one.
pub fn homeserver_url(spec: &Spec, host: &Host, openclaw: &Openclaw) -> Option<String> {
    let on_host = relay_on_host_network(host);
    let (port, target) = homeserver_hop(spec, openclaw, on_host)?;
    Some(match openclaw.container.network {
        ContainerNetwork::Host => format!("http://{}:{port}", bracketed(&target)),
        ContainerNetwork::Internal | ContainerNetwork::Bridge if on_host => {
            format!("http://{SUBNET_GATEWAY}:{port}")
        }
        ContainerNetwork::Internal | ContainerNetwork::Bridge => {
            format!("http://{RELAY_IP}:{port}")
        }
    })
}

/// The compose secret of channel `id`'s token.
pub fn channel_secret(id: &str) -> String {
    format!("{id}_token")
}

/// Where compose mounts secret `name` in the container.
pub fn secret_path(name: &str) -> String {
    format!("/run/secrets/{name}")
}

/// The host file behind a secret reference: the file a `file:` reference
/// names, else `{secrets_dir}/FILE`, which `privai apply` writes (0600,
/// owned by the container user) from the keychain item or the variable.
fn secret_source(reference: &str, file: &str, layout: &Layout) -> String {
    match reference.strip_prefix("file:") {
        Some(path) => home(path),
        None => home(&format!("{}/{file}", layout.secrets_dir())),
    }
}

/// `~/x` as `${HOME}/x`: compose interpolates variables but not `~`.
fn home(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some(rest) => format!("${{HOME}}/{rest}"),
        None => path.to_owned(),
    }
}

/// uid and gid of `uid:gid` (gid defaults to uid).
fn ids(user: &str) -> (&str, &str) {
    match user.split_once(':') {
        Some((uid, gid)) => (uid, gid),
        None => (user, user),
    }
}
