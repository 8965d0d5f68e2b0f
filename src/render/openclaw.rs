//! The OpenClaw gateway: its `openclaw.json` (here) and its compose file
//! ([`super::compose`]).
//!
//! Every key written here was checked with `openclaw config validate` of the
//! pinned release (2026.9.6, see `tests/it/render_openclaw.rs`): the schema
//! is strict and an unknown key stops the gateway.
//!
//! # Secrets
//!
//! The file holds no secret, so it is installed 0644 (the container's uid
//! 1000 must read it through the read-only `config` mount). The gateway token
//! and channel tokens are compose `secrets:` files mounted at
//! `/run/secrets/NAME`; the config names them through OpenClaw's file
//! SecretRefs (`secrets.providers.NAME = {source: "file", mode:
//! "singleValue"}`, referenced as `{source: "file", provider: NAME, id:
//! "value"}`) or, for Telegram, its own `tokenFile`. OpenClaw reads such a
//! file only when it is a private regular file: the host file must be owned
//! by the container user and mode 0600/0400 (compose ignores `uid`/`mode` of
//! file secrets). No token goes through the environment or the command line.

use super::compose::{self, CONTAINER_PORT};
use super::paths::Layout;
use super::{Artifact, Owner, ServiceId};
use crate::model::{Channel, ChannelPolicy, ContainerNetwork, GroupPolicy, Host, Openclaw, Spec};
use crate::net::ListenAddr;
use serde_json::{Map, Value, json};

/// Seconds OpenClaw waits for Ollama: cold local models load slowly.
const OLLAMA_TIMEOUT_SECONDS: u32 = 300;
/// Where the workspace is when the spec mounts none.
const DEFAULT_WORKSPACE: &str = "/home/node/.openclaw/workspace";
/// OpenClaw's Matrix channel plugin, `@openclaw/matrix` (the version of
/// OpenClaw), comes with the gateway image, installed there by OpenClaw
/// itself (`openclaw plugins install`, which records it in OpenClaw's state
/// database): the container has no egress, so it cannot be installed at run
/// time, and OpenClaw 2026.9.6 gives a plugin loaded from a path
/// (`plugins.load.paths`) no trusted features, which the Matrix channel
/// needs (its keyed state store). The config names no path: it trusts the
/// installed plugin (`plugins.entries.matrix.enabled`). See the README's
/// "The gateway image" for how such an image is built.
pub const MATRIX_PLUGIN: &str = "matrix";

/// Renders `openclaw.json` and the compose file of the gateway on `host`.
pub fn render(spec: &Spec, host: &Host, out: &mut Vec<Artifact>) {
    let Some(openclaw) = spec.gateway() else {
        return;
    };
    let layout = Layout::of(host);
    let path = config_file(openclaw, &layout);
    let owner = owner_of(&path);
    out.push(
        Artifact::text(host, path, config_json(spec, host, openclaw), owner)
            .restarts(ServiceId::Gateway),
    );
    compose::render(spec, host, out);
}

/// Where `openclaw.json` is installed: in the spec's `config` folder, else
/// in the gateway directory (which the compose file then mounts).
pub fn config_file(openclaw: &Openclaw, layout: &Layout) -> String {
    match config_folder(openclaw) {
        Some(folder) => format!("{}/openclaw.json", folder.host_path.trim_end_matches('/')),
        None => format!("{}/config/openclaw.json", layout.gateway_dir()),
    }
}

/// The spec's folder named `config`.
pub fn config_folder(openclaw: &Openclaw) -> Option<&crate::model::Folder> {
    openclaw.folders.iter().find(|f| f.name == "config")
}

/// Files under `~` belong to the operator, others to root.
pub(super) fn owner_of(path: &str) -> Owner {
    if path.starts_with("~/") {
        Owner::User
    } else {
        Owner::Root
    }
}

/// The contents of `openclaw.json`: pretty JSON with sorted keys.
pub fn config_json(spec: &Spec, host: &Host, openclaw: &Openclaw) -> String {
    let value = sorted(config_value(spec, host, openclaw));
    let mut text = serde_json::to_string_pretty(&value).expect("JSON values always serialize");
    text.push('\n');
    text
}

/// The configuration as a JSON value (key order is fixed by [`sorted`]).
fn config_value(spec: &Spec, host: &Host, openclaw: &Openclaw) -> Value {
    let mut providers = Map::new();
    providers.insert(
        compose::GATEWAY_TOKEN_SECRET.to_owned(),
        file_provider(compose::GATEWAY_TOKEN_SECRET),
    );
    let mut channels = Map::new();
    for (id, channel) in openclaw.channels.iter() {
        // The AI's token privai makes on its own homeserver counts as one.
        let token = channel.token.is_some()
            || (id == "matrix" && super::homeserver::ai_token_file(spec).is_some());
        let mut value = channel_value(id, channel, token, &mut providers);
        if id == "matrix" {
            matrix_value(spec, host, openclaw, &mut value);
        }
        channels.insert(id.to_owned(), value);
    }
    let models = gateway_models(openclaw);
    let primary = models
        .first()
        .map(|m| format!("ollama/{m}"))
        .unwrap_or_default();
    let fallbacks: Vec<String> = models
        .iter()
        .skip(1)
        .map(|m| format!("ollama/{m}"))
        .collect();
    let workspace = openclaw
        .folders
        .iter()
        .find(|f| f.name == "workspace")
        .map_or(DEFAULT_WORKSPACE, |f| f.container_path.as_str());
    let mut config = json!({
        "gateway": gateway_value(spec, host, openclaw),
        "models": {
            "mode": "replace",
            "catalogRefresh": {"enabled": false},
            "providers": {"ollama": ollama_provider(spec, host, openclaw, &models)},
        },
        "agents": {"defaults": {
            "workspace": workspace,
            "model": {"primary": primary, "fallbacks": fallbacks},
            "utilityModel": "",
            "heartbeat": {"every": "0m"},
        }},
        "session": {"dmScope": "per-channel-peer"},
        "tools": {
            "profile": "messaging",
            "deny": ["group:runtime", "group:fs", "group:web", "group:ui", "group:automation", "group:nodes"],
            "exec": {"mode": "deny"},
            "fs": {"workspaceOnly": true},
            "elevated": {"enabled": false},
        },
        "channels": channels,
        "secrets": {"providers": providers},
        "discovery": {"mdns": {"mode": "off"}},
        "update": {"checkOnStart": false, "auto": {"enabled": false}},
    });
    if openclaw.channels.matrix.as_ref().is_some_and(|m| m.enabled) {
        // Installed in the image, and trusted explicitly: OpenClaw starts no
        // channel of an external plugin without `entries.ID.enabled`
        // ("installed without explicit trust"), whatever `channels` says.
        config["plugins"] = json!({"entries": {MATRIX_PLUGIN: {"enabled": true}}});
    }
    config
}

/// `gateway.*`: local mode, token auth from the mounted secret, every
/// outbound or admin surface off; the OpenAI-compatible chat endpoint
/// (`gateway.http.endpoints.chatCompletions`) only where the spec asks.
///
/// Inside the container the gateway listens on all of the container's
/// interfaces (`bind: "lan"`) on port 18789; only the relay reaches it, and
/// the relay alone listens on the spec's bind address (published from its
/// container on macOS, bound on the host's network on Linux). With
/// `network = 'host` there is no container network: it binds the spec's
/// address itself.
fn gateway_value(spec: &Spec, host: &Host, openclaw: &Openclaw) -> Value {
    let (port, bind) = match openclaw.container.network {
        ContainerNetwork::Host => (openclaw.port, bind_mode(&openclaw.bind)),
        ContainerNetwork::Internal | ContainerNetwork::Bridge => {
            (CONTAINER_PORT, json!({"bind": "lan"}))
        }
    };
    let mut gateway = json!({
        "mode": "local",
        "port": port,
        "auth": {"mode": "token", "token": secret_ref(compose::GATEWAY_TOKEN_SECRET)},
        "controlUi": {
            "allowedOrigins": origins(spec, host, openclaw),
            "automaticallyFetchFavicons": false,
        },
        "tailscale": {"mode": "off"},
        "terminal": {"enabled": false},
        "nodes": {"pairing": {"sshVerify": false}},
    });
    if let (Some(gateway), Value::Object(bind)) = (gateway.as_object_mut(), bind) {
        gateway.extend(bind);
        if openclaw.chat_completions {
            gateway.insert(
                "http".into(),
                json!({"endpoints": {"chatCompletions": {"enabled": true}}}),
            );
        }
    }
    gateway
}

/// `bind` (and `customBindHost`) for a gateway on the host's network.
fn bind_mode(address: &ListenAddr) -> Value {
    if address.is_loopback() {
        json!({"bind": "loopback"})
    } else {
        json!({"bind": "custom", "customBindHost": address.host()})
    }
}

/// Browser origins of the Control UI: the published address, `localhost`
/// beside loopback, and the host's MagicDNS name.
fn origins(spec: &Spec, host: &Host, openclaw: &Openclaw) -> Vec<String> {
    let port = openclaw.port;
    let address = openclaw.bind.bracketed_host();
    let mut origins = vec![format!("http://{address}:{port}")];
    if openclaw.bind.is_loopback() {
        origins.push(format!("http://localhost:{port}"));
    }
    if spec.headscale.dns.magic_dns && !spec.headscale.dns.base_domain.is_empty() {
        origins.push(format!(
            "http://{}.{}:{port}",
            host.name, spec.headscale.dns.base_domain
        ));
    }
    origins.dedup();
    origins
}

/// The primary then the fallbacks, each once.
fn gateway_models(openclaw: &Openclaw) -> Vec<&str> {
    let mut models: Vec<&str> = Vec::new();
    for name in openclaw
        .model
        .primary
        .iter()
        .chain(&openclaw.model.fallbacks)
    {
        if !models.contains(&name.as_str()) {
            models.push(name);
        }
    }
    models
}

/// The explicit Ollama provider (a container must not rely on discovery,
/// which probes its own loopback), native API, every gateway model listed.
/// Its `baseUrl` is the relay's Ollama listener: `10.254.89.3` inside the
/// internal network on macOS, the network's gateway `10.254.89.1` on Linux
/// (see [`compose`]).
fn ollama_provider(spec: &Spec, host: &Host, openclaw: &Openclaw, models: &[&str]) -> Value {
    let entries: Vec<Value> = models
        .iter()
        .map(|name| {
            let context = spec
                .ollama
                .models
                .iter()
                .find(|m| m.name == *name)
                .and_then(|m| m.context_length)
                .unwrap_or(spec.ollama.context_length);
            json!({
                "id": name,
                "name": name,
                "input": ["text"],
                "contextWindow": context,
                "contextTokens": context,
                "params": {"num_ctx": context},
            })
        })
        .collect();
    json!({
        "api": "ollama",
        "baseUrl": compose::ollama_base_url(spec, host, openclaw),
        "apiKey": "ollama-local",
        "timeoutSeconds": OLLAMA_TIMEOUT_SECONDS,
        "models": entries,
    })
}

/// `channels.<id>`: who may talk, and the token as a mounted file.
fn channel_value(
    id: &str,
    channel: &Channel,
    token: bool,
    providers: &mut Map<String, Value>,
) -> Value {
    let dm_policy = match channel.dm_policy {
        ChannelPolicy::Pairing => "pairing",
        ChannelPolicy::Allowlist => "allowlist",
        ChannelPolicy::Disabled => "disabled",
        ChannelPolicy::Open => "open",
    };
    let group_policy = match channel.group_policy {
        GroupPolicy::Allowlist => "allowlist",
        GroupPolicy::Disabled => "disabled",
        GroupPolicy::Open => "open",
    };
    let mut value = json!({"enabled": channel.enabled, "groupPolicy": group_policy});
    let map = value.as_object_mut().expect("an object");
    if id == "matrix" {
        // Matrix keeps its direct-message policy under `dm`.
        map.insert(
            "dm".into(),
            json!({"policy": dm_policy, "allowFrom": channel.allow_from}),
        );
    } else {
        map.insert("dmPolicy".into(), json!(dm_policy));
        map.insert("allowFrom".into(), json!(channel.allow_from));
    }
    if let Some(account) = &channel.account
        && id == "signal"
    {
        map.insert("account".into(), json!(account));
    }
    if token {
        let secret = compose::channel_secret(id);
        let key = match id {
            "telegram" => Some("tokenFile"),
            "discord" => Some("token"),
            "slack" => Some("botToken"),
            "matrix" => Some("accessToken"),
            _ => None,
        };
        match key {
            Some("tokenFile") => {
                map.insert("tokenFile".into(), json!(compose::secret_path(&secret)));
            }
            Some(key) => {
                providers.insert(secret.clone(), file_provider(&secret));
                map.insert(key.into(), secret_ref(&secret));
            }
            None => {}
        }
    }
    value
}

/// The Matrix channel on the spec's own homeserver: its URL through the
/// relay (a private address, which OpenClaw refuses unless told
/// `network.dangerouslyAllowPrivateNetwork`), the AI's account
/// `@AI_USER:SERVER_NAME`, invitations joined (only the spec's users have
/// accounts: registration is closed), and every spec user name in
/// `dm.allowFrom` written as that user's Matrix ID. Left as it is when the
/// spec deploys no homeserver.
fn matrix_value(spec: &Spec, host: &Host, openclaw: &Openclaw, value: &mut Value) {
    let (Some(url), Some(server_name)) = (
        compose::homeserver_url(spec, host, openclaw),
        spec.matrix_server_name(),
    ) else {
        return;
    };
    let map = value.as_object_mut().expect("an object");
    map.insert("homeserver".into(), json!(url));
    map.insert(
        "network".into(),
        json!({"dangerouslyAllowPrivateNetwork": true}),
    );
    map.insert(
        "userId".into(),
        json!(format!("@{}:{server_name}", spec.homeserver.ai_user)),
    );
    map.insert("autoJoin".into(), json!("always"));
    if let Some(allow) = map
        .get_mut("dm")
        .and_then(|dm| dm.get_mut("allowFrom"))
        .and_then(Value::as_array_mut)
    {
        for entry in allow.iter_mut() {
            if let Some(sender) = entry.as_str() {
                *entry = json!(matrix_sender(spec, &server_name, sender));
            }
        }
    }
}

/// An `allow_from` entry of the Matrix channel as the gateway gets it: a
/// spec user's name becomes their Matrix ID on `server_name`, anything
/// else stays as written. The monitor's refused-sender rule on privai's
/// homeserver ([`crate::monitor::senders`]) reads the allowlist so too.
pub fn matrix_sender(spec: &Spec, server_name: &str, entry: &str) -> String {
    if spec.users.iter().any(|u| u.name == entry) {
        format!("@{entry}:{server_name}")
    } else {
        entry.to_owned()
    }
}

/// A file secret provider reading `/run/secrets/NAME` whole.
fn file_provider(secret: &str) -> Value {
    json!({"source": "file", "path": compose::secret_path(secret), "mode": "singleValue"})
}

/// A reference to the secret of provider `secret`.
fn secret_ref(secret: &str) -> Value {
    json!({"source": "file", "provider": secret, "id": "value"})
}

/// `value` with every object's keys sorted, recursively.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
