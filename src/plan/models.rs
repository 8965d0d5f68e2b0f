//! The models domain: the models the spec names against those Ollama has,
//! the models privai pulled, and `privai.lock`. Pure.

use super::{Change, Options};
use crate::model::model_name::{canonical_digest, same_model};
use crate::observe::Observed;
use crate::observe::live::OllamaState;
use crate::render::{ModelSource, Rendered};
use serde::{Deserialize, Serialize};

/// A step on one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ModelAction {
    /// Have Ollama pull a model it lacks (after Ollama starts, before the
    /// gateway does). Never undone by a rollback: models are data.
    Pull {
        /// The host running Ollama.
        host: String,
        /// The model, as the spec names it.
        name: String,
        /// Download size from privai's catalog, when it knows the model.
        download_bytes: Option<u64>,
        /// The digest `privai.lock` pins it to, if any.
        locked_digest: Option<String>,
        /// Where its weights come from.
        source: ModelSource,
    },
    /// Remove a model privai pulled earlier that the spec dropped (only
    /// with `--prune`; never a model privai did not pull).
    Remove {
        /// The host running Ollama.
        host: String,
        /// The model.
        name: String,
    },
}

impl ModelAction {
    /// The kind of change.
    pub fn change(&self) -> Change {
        match self {
            Self::Pull { .. } => Change::Create,
            Self::Remove { .. } => Change::Delete,
        }
    }

    /// `model HOST:NAME`.
    pub fn address(&self) -> String {
        match self {
            Self::Pull { host, name, .. } | Self::Remove { host, name } => {
                format!("model {host}:{name}")
            }
        }
    }
}

/// The model actions and notes: pull each model of the spec that Ollama
/// lacks; with `--prune`, remove models privai pulled that the spec
/// dropped; note models whose digest moved away from `privai.lock`.
/// Nothing when Ollama was not observed (a staged install). Pure.
pub fn model_actions(
    desired: &Rendered,
    observed: &Observed,
    options: Options,
) -> (Vec<ModelAction>, Vec<String>) {
    let mut actions = Vec::new();
    let mut notes = Vec::new();
    if !observed.ollama.observed() {
        return (actions, notes);
    }
    if let OllamaState::Unreachable { url, error } = &observed.ollama {
        notes.push(format!(
            "Ollama did not answer at {url} ({error}); the plan assumes it is starting and lists every model (apply pulls only those Ollama lacks by then)"
        ));
    }
    let local = observed.ollama.models();
    for model in &desired.models {
        let locked = observed.lock.digest(&model.name).map(str::to_owned);
        match local.iter().find(|m| same_model(&m.name, &model.name)) {
            None => {
                actions.push(ModelAction::Pull {
                    host: model.host.clone(),
                    name: model.name.clone(),
                    download_bytes: observed.model_downloads.get(&model.name).copied().or_else(
                        || {
                            crate::sizing::catalog::Catalog::bundled()
                                .find(&model.name)
                                .map(|m| m.download_bytes)
                        },
                    ),
                    locked_digest: locked,
                    source: model.source.clone(),
                })
            }
            Some(have) => {
                if let Some(locked) = locked
                    && canonical_digest(&have.digest) != locked
                {
                    notes.push(format!(
                        "model {} is {} here but privai.lock pins {locked}: the tag moved upstream since the lock was written; `privai lock --update` accepts what Ollama has",
                        model.name,
                        canonical_digest(&have.digest)
                    ));
                }
            }
        }
    }
    if options.prune {
        for pulled in &observed.pulled {
            let wanted = desired
                .models
                .iter()
                .any(|m| same_model(&m.name, &pulled.name));
            let present = local.iter().any(|m| same_model(&m.name, &pulled.name));
            if !wanted && present {
                actions.push(ModelAction::Remove {
                    host: pulled.host.clone(),
                    name: pulled.name.clone(),
                });
            }
        }
    }
    (actions, notes)
}
