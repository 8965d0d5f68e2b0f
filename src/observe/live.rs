//! Observing live resources: the models Ollama has. Only when privai
//! activates services (on the live system, or under the test recorder); a
//! staged install (`--root`) has no Ollama to ask.

use crate::api::ollama::{Client, LocalModel};
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
