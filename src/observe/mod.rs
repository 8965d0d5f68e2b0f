//! Observation: everything privai reads about the current state of the
//! system, gathered in one place so that [`crate::plan::plan`] stays pure.
//!
//! Files and the current generation are observed ([`files::observe`]).
//! Live resources — the models Ollama has, Headscale's users and keys, the
//! gateway container, whether each service is loaded — come as further
//! fields of [`Observed`] read by further submodules.

pub mod api_key;
pub mod containers;
pub mod files;
pub mod headscale;
pub mod live;
pub mod matrix;
pub mod ollama;
pub mod secrets;

use crate::render::manifest::{Entry, sha256_hex};
use crate::render::units::ServiceUnit;
use std::collections::BTreeMap;

/// Observes everything `desired` needs as `install` lays it out: files,
/// the current generation, secret files.
pub fn observe(
    install: &crate::state::Install,
    desired: &crate::render::Rendered,
) -> anyhow::Result<Observed> {
    let mut observed = files::observe(install, desired)?;
    observed.secrets = secrets::observe(install, &desired.secrets)?;
    if desired.matrix.is_some() {
        observed.matrix_records = crate::state::matrix::read(&install.state_dir())?.records();
    }
    Ok(observed)
}

/// [`observe`], plus the live resources — Ollama's models, Headscale's
/// users, keys and nodes — when `live` (services are activated), the
/// gateway's containers when `runner` can ask the container runtime, and
/// `lock` (`privai.lock`).
pub fn observe_all(
    install: &crate::state::Install,
    desired: &crate::render::Rendered,
    live: bool,
    runner: Option<&mut dyn crate::sys::Runner>,
    lock: crate::lockfile::LockFile,
) -> anyhow::Result<Observed> {
    let mut observed = observe(install, desired)?;
    if let Some(runner) = runner {
        observed.containers = live::observe_containers(desired, runner);
    }
    if live {
        observed.ollama = live::observe_ollama(desired);
        observed.model_downloads = live::observe_model_downloads(desired, &observed.ollama);
        observed.shown_models = live::observe_shown_models(desired, &observed.ollama);
        observed.headscale = live::observe_headscale(desired, install)?;
        observed.key_records = crate::state::keys::read_records(&install.state_dir())?;
        observed.retired_keys = crate::state::keys::read_retired(&install.state_dir())?;
        observed.now = Some(std::time::SystemTime::now());
        if let Some(accounts) = &desired.matrix {
            observed.matrix = matrix::observe(accounts, install)?;
        }
    }
    observed.lock = lock;
    Ok(observed)
}

/// A file privai manages, named as the spec names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileKey {
    /// The host it is on.
    pub host: String,
    /// Its install path on that host (`~/` is the operator's home).
    pub path: String,
}

impl FileKey {
    /// The key of `host`, `path`.
    pub fn new(host: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            path: path.into(),
        }
    }
}

/// What is at a file's install path now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Nothing.
    Absent,
    /// A file with these bytes and permission bits.
    Present {
        /// Its bytes.
        contents: Vec<u8>,
        /// Its permission bits (`mode & 0o7777`).
        mode: u32,
    },
}

/// The observed state of the system, as far as a plan needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The current state of every desired file and of every file of the
    /// previous manifest. A key missing here is treated as absent.
    pub files: BTreeMap<FileKey, FileState>,
    /// The files privai installed last (the previous manifest), empty when
    /// privai has installed nothing yet. A file listed here that the spec no
    /// longer renders is deleted.
    pub previous: Vec<Entry>,
    /// The services the current generation runs.
    pub previous_services: Vec<ServiceUnit>,
    /// The current generation's number; `None` before the first apply.
    pub generation: Option<u64>,
    /// Each secret file privai writes: what is there, and the digest of
    /// the value it should hold (never the value).
    pub secrets: BTreeMap<FileKey, SecretState>,
    /// The models Ollama has.
    pub ollama: live::OllamaState,
    /// Headscale's users, keys and nodes.
    pub headscale: live::HeadscaleState,
    /// The pre-auth key privai created for each device, by key id.
    pub key_records: crate::plan::headscale::KeyRecords,
    /// Keys a newer key replaced on record and not known to be expired:
    /// (device, key id).
    pub retired_keys: Vec<(String, u64)>,
    /// When it was observed (key expiry is judged against it).
    pub now: Option<std::time::SystemTime>,
    /// Models privai pulled earlier (`pulled.json` of the state directory).
    pub pulled: Vec<crate::render::ModelPull>,
    /// `privai.lock`, the digest of each model tag, if there is one.
    pub lock: crate::lockfile::LockFile,
    /// The containers of each host's compose project (the gateway), by
    /// host; empty when the container runtime was not asked.
    pub containers: BTreeMap<String, live::Containers>,
    /// Download size of each model Ollama lacks that comes from a mirror
    /// (its manifest's layers) or a file (its size), by the spec's name;
    /// models whose source did not answer are missing.
    pub model_downloads: BTreeMap<String, u64>,
    /// The homeserver's accounts ([`matrix`]).
    pub matrix: matrix::MatrixState,
    /// The Matrix accounts privai made, by local part (no secrets).
    pub matrix_records: crate::plan::matrix::Records,
    /// What Ollama's `/api/show` said about each model of the spec it has,
    /// for the memory fit check with Ollama's own facts.
    pub shown_models: Vec<live::ShownModel>,
}

/// A secret file, as observed: digests only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretState {
    /// sha256 and mode of the file, if it exists.
    pub file: Option<(String, u32)>,
    /// sha256 of the value it should hold; `None` for a generated secret,
    /// which any existing file satisfies.
    pub wanted_sha256: Option<String>,
    /// Why privai will not write it though it is incomplete (a key whose
    /// certificate is missing), for the plan's notes.
    pub note: Option<String>,
}

impl Observed {
    /// The state of `key`; absent if it was not observed.
    pub fn file(&self, key: &FileKey) -> &FileState {
        self.files.get(key).unwrap_or(&FileState::Absent)
    }

    /// A digest of everything observed: a saved plan records it, and
    /// applying the plan is refused once it has changed (the plan is stale).
    pub fn fingerprint(&self) -> String {
        let mut text = format!("generation {:?}\n", self.generation);
        for (key, state) in &self.files {
            let state = match state {
                FileState::Absent => "absent".to_owned(),
                FileState::Present { contents, mode } => {
                    format!("{mode:o} {}", sha256_hex(contents))
                }
            };
            text.push_str(&format!("{} {} {state}\n", key.host, key.path));
        }
        if let live::OllamaState::Running { models, .. } = &self.ollama {
            for model in models {
                text.push_str(&format!("model {} {}\n", model.name, model.digest));
            }
        }
        for (key, secret) in &self.secrets {
            text.push_str(&format!(
                "secret {} {} {:?} {:?}\n",
                key.host, key.path, secret.file, secret.wanted_sha256
            ));
        }
        if let matrix::MatrixState::Running { accounts, ai_token } = &self.matrix {
            for a in accounts.iter().flatten() {
                text.push_str(&format!(
                    "matrix {} {} {}\n",
                    a.user_id, a.admin, a.deactivated
                ));
            }
            text.push_str(&format!("matrix token {ai_token:?}\n"));
        }
        for (name, record) in &self.matrix_records {
            text.push_str(&format!("matrix record {name} {record:?}\n"));
        }
        for (host, containers) in &self.containers {
            match containers {
                live::Containers::Listed(list) => {
                    for c in list {
                        text.push_str(&format!(
                            "container {host} {} {} {:?}\n",
                            c.id,
                            c.status,
                            c.labels.get(crate::render::compose::DEFINITION_LABEL)
                        ));
                    }
                }
                live::Containers::Unreadable(error) => {
                    text.push_str(&format!("containers {host} unreadable {error}\n"));
                }
            }
        }
        sha256_hex(text.as_bytes())
    }
}
