//! Rendering: pure functions from the typed spec to artifacts — every file
//! privai installs, with its install path, mode, owner, whether it holds a
//! secret and which service must restart when it changes.
//!
//! One module per target. Nothing here touches the disk: `privai build`
//! writes the artifacts, `privai apply` will install them.

pub mod compose;
pub mod control;
pub mod enroll;
pub mod escape;
pub mod headscale;
pub mod homeserver;
pub mod manifest;
pub mod ollama;
pub mod openclaw;
pub mod paths;
pub mod phase6;
pub mod secrets;
pub mod service;
pub mod tailscale;
pub mod template;
pub mod units;

use crate::model::{Host, Role, Spec};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Who owns an installed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// root (system files, LaunchDaemons, systemd units).
    Root,
    /// The person who runs privai (files under `~`).
    User,
}

/// A service privai manages; artifacts name the ones that must restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceId {
    /// The Headscale coordinator.
    Headscale,
    /// The Ollama server.
    Ollama,
    /// The Matrix homeserver (Synapse); before the gateway, whose Matrix
    /// channel talks to it.
    Homeserver,
    /// The OpenClaw gateway container.
    Gateway,
    /// The scheduled key-rotation job.
    KeyRotation,
    /// The log monitor job (`privai monitor --once`).
    Monitor,
}

impl ServiceId {
    /// The service's name as privai prints it (and as the manifest spells it).
    pub fn name(self) -> &'static str {
        match self {
            Self::Headscale => "headscale",
            Self::Ollama => "ollama",
            Self::Homeserver => "homeserver",
            Self::Gateway => "gateway",
            Self::KeyRotation => "key-rotation",
            Self::Monitor => "monitor",
        }
    }
}

/// One file to install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Artifact {
    /// The host it is for.
    pub host: String,
    /// Absolute install path on that host; `~/` is the operator's home.
    pub path: String,
    /// The file's bytes.
    #[serde(skip)]
    pub contents: Vec<u8>,
    /// Unix permission bits, e.g. `0o644`.
    pub mode: u32,
    /// Owner.
    pub owner: Owner,
    /// Whether it holds (or is) a secret: never printed, copied 0600.
    pub secret: bool,
    /// Services to restart when it changes.
    pub restarts: Vec<ServiceId>,
    /// Services that re-read it on a reload (SIGHUP) when it changes, so
    /// that no restart is needed (unless another file restarts them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reloads: Vec<ServiceId>,
}

impl Artifact {
    /// A text file owned by `owner` with mode 0644 that restarts nothing.
    pub fn text(host: &Host, path: impl Into<String>, text: String, owner: Owner) -> Self {
        Self {
            host: host.name.clone(),
            path: path.into(),
            contents: text.into_bytes(),
            mode: 0o644,
            owner,
            secret: false,
            restarts: Vec::new(),
            reloads: Vec::new(),
        }
    }

    /// Sets the mode.
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    /// Marks the artifact as holding a secret (mode 0600).
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self.mode = 0o600;
        self
    }

    /// Adds a service to restart when the artifact changes.
    pub fn restarts(mut self, service: ServiceId) -> Self {
        if !self.restarts.contains(&service) {
            self.restarts.push(service);
            self.restarts.sort();
        }
        self
    }

    /// Adds a service that reloads (rather than restarts) when the artifact
    /// changes.
    pub fn reloads(mut self, service: ServiceId) -> Self {
        if !self.reloads.contains(&service) {
            self.reloads.push(service);
            self.reloads.sort();
        }
        self
    }
}

/// A model Ollama must have, for `apply` to pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelPull {
    /// The host running Ollama.
    pub host: String,
    /// Model name as the spec writes it.
    pub name: String,
    /// Where its weights come from.
    #[serde(default, skip_serializing_if = "ModelSource::is_default")]
    pub source: ModelSource,
}

impl ModelPull {
    /// Whether this is `other`'s model: the same name on the same host,
    /// wherever its weights came from.
    pub fn same(&self, other: &ModelPull) -> bool {
        self.host == other.host && self.name == other.name
    }
}

/// Where a model's weights come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSource {
    /// Pulled by its name: Ollama's default registry, or the registry its
    /// name starts with.
    #[default]
    Registry,
    /// Pulled from a private mirror as `HOST/NAMESPACE/MODEL:TAG`, then
    /// named as the spec names it.
    Mirror {
        /// `HOST[:PORT]` of the mirror.
        host: String,
        /// Namespace of the models on it.
        namespace: String,
        /// Plain HTTP.
        insecure: bool,
    },
    /// A GGUF file on the Ollama host, uploaded and created as the model.
    File {
        /// Absolute path of the file.
        path: String,
    },
}

impl ModelSource {
    fn is_default(&self) -> bool {
        *self == Self::Registry
    }

    /// The source of `model` in `spec`: its `source`, else the spec's
    /// mirror, else its name.
    pub fn of(model: &crate::model::Model, registry: Option<&crate::model::Registry>) -> Self {
        if let Some(path) = model
            .source
            .as_deref()
            .and_then(|s| s.strip_prefix("file:"))
        {
            return Self::File {
                path: path.to_owned(),
            };
        }
        match registry {
            Some(r) => Self::Mirror {
                host: r.host.clone(),
                namespace: r.namespace.clone(),
                insecure: r.insecure,
            },
            None => Self::Registry,
        }
    }

    /// The name Ollama pulls for `model` (`HOST/NAMESPACE/MODEL:TAG` from
    /// a mirror); `None` for a file.
    pub fn pull_name(&self, model: &str) -> Option<String> {
        match self {
            Self::Registry => Some(model.to_owned()),
            Self::Mirror {
                host, namespace, ..
            } => {
                let (repo, tag) = model.split_once(':').unwrap_or((model, "latest"));
                let repo = repo.rsplit('/').next().unwrap_or(repo);
                Some(format!("{host}/{namespace}/{repo}:{tag}"))
            }
            Self::File { .. } => None,
        }
    }

    /// Where it comes from, for the plan: `None` for Ollama's registry.
    pub fn describe(&self) -> Option<String> {
        match self {
            Self::Registry => None,
            Self::Mirror { host, insecure, .. } => Some(format!(
                "from mirror {host}{}",
                if *insecure { ", plain HTTP" } else { "" }
            )),
            Self::File { path } => Some(format!("from file {path}")),
        }
    }
}

/// Everything rendered from one spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rendered {
    /// Files, sorted by host then path.
    pub artifacts: Vec<Artifact>,
    /// Models to pull.
    pub models: Vec<ModelPull>,
    /// Services to activate, sorted by host, then in activation order.
    pub services: Vec<units::ServiceUnit>,
    /// Secret files to write (values are read by `apply`, never rendered).
    pub secrets: Vec<secrets::SecretFile>,
    /// The gateway's models, primary first, then its fallbacks: `apply`
    /// checks that one answers.
    pub gateway_models: Vec<String>,
    /// Users, keys and tags privai sets through Headscale's API.
    pub control: Option<control::Control>,
    /// The Matrix accounts privai keeps on the spec's homeserver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix: Option<homeserver::Accounts>,
}

/// Where the file installed at `path` on `host` lands in a staging tree
/// (`privai build --out`, `privai plan --root`): `HOST/PATH`, with the
/// operator's home (`~/`) written `HOST/HOME/`. Pure.
///
/// Refuses a host that is not one plain name and a path that
/// [`paths::split_install_path`] refuses (`..`, `.`, `//`, not absolute, a
/// control character): the relative path it returns is made of plain
/// names only, so joined under any directory it stays inside it.
pub fn tree_path(host: &str, path: &str) -> Result<PathBuf, paths::UnsafeInstallPath> {
    if !paths::plain_name(host) {
        return Err(paths::UnsafeInstallPath::new(
            host,
            path,
            "is on a host whose name is not one plain name",
        ));
    }
    let (anchor, relative) = paths::split_install_path(path)
        .map_err(|why| paths::UnsafeInstallPath::new(host, path, why))?;
    let mut tree = PathBuf::from(host);
    if anchor == paths::Anchor::Home {
        tree.push("HOME");
    }
    tree.push(relative);
    Ok(tree)
}

impl Artifact {
    /// [`tree_path`] of this artifact.
    pub fn tree_path(&self) -> Result<PathBuf, paths::UnsafeInstallPath> {
        tree_path(&self.host, &self.path)
    }
}

/// Renders every artifact of `spec` for every host. Pure.
pub fn render(spec: &Spec) -> Rendered {
    let mut artifacts = Vec::new();
    for host in &spec.hosts {
        let runs = |role| spec.service_host(role).is_some_and(|h| h.name == host.name);
        if runs(Role::Headscale) {
            headscale::render(spec, host, &mut artifacts);
        }
        if runs(Role::Ollama) {
            ollama::render(spec, host, &mut artifacts);
        }
        if runs(Role::Homeserver) {
            homeserver::render(spec, host, &mut artifacts);
        }
        if runs(Role::Openclaw) && spec.gateway().is_some() {
            openclaw::render(spec, host, &mut artifacts);
        }
        phase6::render(spec, host, &mut artifacts);
    }
    if let Some(host) = spec.service_host(Role::Headscale) {
        tailscale::render(spec, host, &mut artifacts);
    }
    artifacts.sort_by(|a, b| (&a.host, &a.path).cmp(&(&b.host, &b.path)));
    let models = spec
        .service_host(Role::Ollama)
        .map(|host| {
            spec.ollama
                .models
                .iter()
                .map(|m| ModelPull {
                    host: host.name.clone(),
                    name: m.name.clone(),
                    source: ModelSource::of(m, spec.ollama.registry.as_ref()),
                })
                .collect()
        })
        .unwrap_or_default();
    let services = units::units(spec);
    let control = control::control(spec, control::headscale_health(&services));
    Rendered {
        artifacts,
        models,
        control,
        services,
        matrix: homeserver::accounts(spec),
        secrets: secrets::secrets(spec),
        gateway_models: spec
            .gateway()
            .map(|g| {
                g.model
                    .primary
                    .iter()
                    .chain(&g.model.fallbacks)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
    }
}
