//! Observing live resources: the models Ollama has, the users, keys and
//! nodes Headscale has. Only when privai
//! activates services (on the live system, or under the test recorder); a
//! staged install (`--root`) has no Ollama to ask.

use crate::api::ollama::Client;
use crate::observe::ollama::LocalModel;
use crate::render::units::Health;
use crate::render::{Rendered, ServiceId};

/// What privai knows about Ollama's models.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OllamaState {
    /// Not asked: the install is staged, or the spec runs no Ollama here.
    #[default]
    NotObserved,
    /// Asked, and no answer (not running yet, or down).
    Unreachable {
        /// Its URL.
        url: String,
        /// Why.
        error: String,
    },
    /// Running, with these models.
    Running {
        /// Its URL.
        url: String,
        /// Its version.
        version: String,
        /// The models it has.
        models: Vec<LocalModel>,
    },
}

impl OllamaState {
    /// The models Ollama has; none unless it answered.
    pub fn models(&self) -> &[LocalModel] {
        match self {
            Self::Running { models, .. } => models,
            _ => &[],
        }
    }

    /// Whether Ollama was asked (answered or not).
    pub fn observed(&self) -> bool {
        !matches!(self, Self::NotObserved)
    }
}

/// The base URL of the Ollama that `desired` runs here (from its health
/// check, which reaches it as the host itself does).
pub fn ollama_url(desired: &Rendered) -> Option<String> {
    desired
        .services
        .iter()
        .find(|u| u.id == ServiceId::Ollama)
        .and_then(|u| match &u.health {
            Some(Health::Http { url }) => url.strip_suffix("/api/version").map(str::to_owned),
            _ => None,
        })
}

/// Asks Ollama for its version and models.
pub fn observe_ollama(desired: &Rendered) -> OllamaState {
    let Some(url) = ollama_url(desired) else {
        return OllamaState::NotObserved;
    };
    let client = match Client::new(&url) {
        Ok(client) => client,
        Err(e) => {
            return OllamaState::Unreachable {
                url,
                error: e.to_string(),
            };
        }
    };
    match client.version().and_then(|v| Ok((v, client.tags()?))) {
        Ok((version, models)) => OllamaState::Running {
            url,
            version,
            models,
        },
        Err(e) => OllamaState::Unreachable {
            url,
            error: e.to_string(),
        },
    }
}

/// The download size of each model of `desired` that Ollama lacks and
/// whose weights come from a mirror (its manifest) or a file (its size),
/// by name. A source that does not answer leaves its model out: the plan
/// then says the size is unknown, and apply reports the real error.
pub fn observe_model_downloads(
    desired: &Rendered,
    ollama: &OllamaState,
) -> std::collections::BTreeMap<String, u64> {
    use crate::model::model_name::same_model;
    use crate::render::ModelSource;
    let have = ollama.models();
    desired
        .models
        .iter()
        .filter(|m| !have.iter().any(|h| same_model(&h.name, &m.name)))
        .filter_map(|m| {
            let size = match &m.source {
                ModelSource::Registry => None,
                ModelSource::Mirror { insecure, .. } => m
                    .source
                    .pull_name(&m.name)
                    .and_then(|name| crate::api::registry::download_size(&name, *insecure).ok()),
                ModelSource::File { path } => std::fs::metadata(path).ok().map(|md| md.len()),
            }?;
            Some((m.name.clone(), size))
        })
        .collect()
}

/// What privai knows about Headscale's users, keys and nodes.
#[derive(Debug, Clone, Default)]
pub enum HeadscaleState {
    /// Not asked: staged, no Headscale here, or no API key in the spec.
    #[default]
    NotObserved,
    /// Asked, and no usable answer.
    Unreachable {
        /// Its API URL.
        url: String,
        /// Why.
        error: String,
    },
    /// Healthy, holding these.
    Running {
        /// Its users.
        users: Vec<crate::observe::headscale::User>,
        /// Its pre-auth keys (masked).
        keys: Vec<crate::observe::headscale::PreAuthKey>,
        /// Its nodes.
        nodes: Vec<crate::observe::headscale::Node>,
        /// The ACL policy it holds in its database (`None` in file mode,
        /// where privai reads the file instead).
        policy: Option<String>,
    },
}

impl PartialEq for HeadscaleState {
    fn eq(&self, other: &Self) -> bool {
        format!("{self:?}") == format!("{other:?}")
    }
}

impl Eq for HeadscaleState {}

impl HeadscaleState {
    /// Whether Headscale was asked (answered or not).
    pub fn observed(&self) -> bool {
        !matches!(self, Self::NotObserved)
    }
}

/// A client of the Headscale API `control` names, with its API key
/// resolved (from a file, the environment or the keychain).
pub fn headscale_client(
    control: &crate::render::control::Control,
    install: &crate::state::Install,
) -> Result<crate::api::headscale::Client, String> {
    use crate::observe::api_key::{SystemSecrets, resolve_api_key};
    let Some(reference) = &control.api_key else {
        return Err("the spec has no `headscale.api_key`, so privai cannot manage users and keys; create one with `headscale apikeys create` and reference it there".into());
    };
    let key =
        resolve_api_key(reference, &mut SystemSecrets::default()).map_err(|e| e.to_string())?;
    headscale_client_with(control, install, key)
}

/// [`headscale_client`] with the API key `key` (a new one, being tried).
pub fn headscale_client_with(
    control: &crate::render::control::Control,
    install: &crate::state::Install,
    key: crate::secret::ApiKey,
) -> Result<crate::api::headscale::Client, String> {
    use crate::api::headscale::Client;
    let mut builder = Client::builder(&control.api_url, key);
    if !control.api_url.starts_with("http://") {
        builder = builder.resolve_to(std::net::IpAddr::from([127, 0, 0, 1]));
    }
    if let Some(cert) = &control.certificate {
        let path = install
            .path(&control.host, cert)
            .map_err(|e| e.to_string())?;
        let pem = std::fs::read(&path)
            .map_err(|e| format!("reading Headscale's certificate `{}`: {e}", path.display()))?;
        builder = builder.root_certificate_pem(pem);
    }
    builder.build().map_err(|e| e.to_string())
}

/// Asks Headscale for its users, keys and nodes. Headscale not answering
/// is a state (it may be about to start); an API key that cannot be read
/// or is refused is an error: nothing can be planned without it.
pub fn observe_headscale(
    desired: &Rendered,
    install: &crate::state::Install,
) -> anyhow::Result<HeadscaleState> {
    use crate::api::headscale::Error;
    let Some(control) = &desired.control else {
        return Ok(HeadscaleState::NotObserved);
    };
    if control.api_key.is_none() {
        return Ok(HeadscaleState::NotObserved);
    }
    let client = headscale_client(control, install).map_err(|e| anyhow::anyhow!(e))?;
    let database = control.policy_mode == crate::model::PolicyMode::Database;
    let state = client.health().and_then(|()| {
        Ok(HeadscaleState::Running {
            users: client.list_users()?,
            keys: client.list_preauth_keys()?,
            nodes: client.list_nodes(None)?,
            policy: match database {
                true => Some(client.get_policy()?.policy),
                false => None,
            },
        })
    });
    match state {
        Ok(state) => Ok(state),
        Err(e) if e.is_untrusted_certificate() => Err(anyhow::anyhow!("{e}; nothing was changed")),
        Err(
            e @ (Error::NotRunning { .. }
            | Error::Connect { .. }
            | Error::Timeout { .. }
            | Error::Unhealthy { .. }),
        ) => Ok(HeadscaleState::Unreachable {
            url: control.api_url.clone(),
            error: e.to_string(),
        }),
        Err(e) => Err(anyhow::anyhow!("{e}; nothing was changed")),
    }
}

/// A compose project's containers, as the container runtime reported them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Containers {
    /// Every container of the project, stopped ones included.
    Listed(Vec<crate::observe::containers::ContainerState>),
    /// The runtime could not be asked, or failed; why.
    Unreadable(String),
}

/// The containers of each compose project `desired` runs, by host, asked
/// of its runtime through `runner`.
pub fn observe_containers(
    desired: &Rendered,
    runner: &mut dyn crate::sys::Runner,
) -> std::collections::BTreeMap<String, Containers> {
    use crate::render::units::Manager;
    let mut out = std::collections::BTreeMap::new();
    for unit in &desired.services {
        let Manager::Compose {
            runtime, project, ..
        } = &unit.manager
        else {
            continue;
        };
        let state = match crate::sys::container::observe(runner, runtime, project) {
            Ok(list) => Containers::Listed(list),
            Err(e) => Containers::Unreadable(e.to_string()),
        };
        out.insert(unit.host.clone(), state);
    }
    out
}

/// What Ollama's `/api/show` said about a model it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownModel {
    /// The model, as `/api/tags` lists it.
    pub local: LocalModel,
    /// Its facts, or why Ollama did not give them.
    pub facts: Result<crate::observe::ollama::ModelFacts, String>,
}

/// Asks Ollama (`/api/show`) about each model of `wanted` that it has among
/// `local`.
pub fn show_models(client: &Client, local: &[LocalModel], wanted: &[&str]) -> Vec<ShownModel> {
    use crate::model::model_name::same_model;
    wanted
        .iter()
        .filter_map(|name| local.iter().find(|l| same_model(&l.name, name)))
        .map(|have| ShownModel {
            local: have.clone(),
            facts: client.show(&have.name).map_err(|e| e.to_string()),
        })
        .collect()
}

/// The exact facts of the shown models, for the memory fit check; with a
/// note (one sentence) for each model Ollama could not describe well
/// enough, which keeps its catalog facts. Pure.
pub fn exact_from(shown: &[ShownModel]) -> (crate::sizing::fit::Exact, Vec<String>) {
    use crate::sizing::fit::{Exact, OllamaModel};
    let mut exact = Exact::none();
    let mut notes = Vec::new();
    for ShownModel { local, facts } in shown {
        match facts {
            Ok(show) => match OllamaModel::from_api(local, show) {
                Some(facts) => exact.insert(facts),
                None => notes.push(format!(
                    "Ollama's facts about {} lack the layers, KV heads, head size or context length: catalog facts",
                    local.name
                )),
            },
            Err(e) => notes.push(format!(
                "Ollama did not describe {} ({e}): catalog facts",
                local.name
            )),
        }
    }
    (exact, notes)
}

/// [`show_models`] of the spec's models, when Ollama answered.
pub fn observe_shown_models(desired: &Rendered, ollama: &OllamaState) -> Vec<ShownModel> {
    let OllamaState::Running { url, models, .. } = ollama else {
        return Vec::new();
    };
    let Ok(client) = Client::new(url) else {
        return Vec::new();
    };
    let wanted: Vec<&str> = desired.models.iter().map(|m| m.name.as_str()).collect();
    show_models(&client, models, &wanted)
}

/// [`show_models`], then [`exact_from`].
pub fn exact_facts(
    client: &Client,
    local: &[LocalModel],
    wanted: &[&str],
) -> (crate::sizing::fit::Exact, Vec<String>) {
    exact_from(&show_models(client, local, wanted))
}
