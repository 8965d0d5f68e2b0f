//! Ollama and the spec's models: present, as locked, loaded.

use super::{Finding, Level, ModelStatus, OllamaStatus, Probes, role_name};
use crate::model::Spec;
use crate::model::model_name::same_model;
use crate::observe::Observed;
use crate::observe::live::OllamaState;
use crate::render::{Rendered, ServiceId};

/// Ollama's part of the report, if the spec runs Ollama here.
pub(super) fn assess(
    spec: &Spec,
    desired: &Rendered,
    observed: &Observed,
    probes: &Probes,
    findings: &mut Vec<Finding>,
) -> Option<OllamaStatus> {
    // Ollama and the models.
    let runs_ollama = desired.services.iter().any(|u| u.id == ServiceId::Ollama);
    let loaded = probes.loaded.as_deref().unwrap_or(&[]);
    runs_ollama.then(|| {
        let have = observed.ollama.models();
        let ollama_answered = matches!(observed.ollama, OllamaState::Running { .. });
        let models: Vec<ModelStatus> = spec
            .ollama
            .models
            .iter()
            .map(|m| {
                let local = have.iter().find(|h| same_model(&h.name, &m.name));
                ModelStatus {
                    name: m.name.clone(),
                    role: role_name(m.role),
                    present: ollama_answered.then_some(local.is_some()),
                    matches_lock: local.and_then(|l| {
                        observed
                            .lock
                            .digest(&m.name)
                            .map(|d| d == l.manifest_digest())
                    }),
                    loaded_bytes: loaded
                        .iter()
                        .find(|r| same_model(&r.name, &m.name))
                        .map(|r| r.size),
                }
            })
            .collect();
        for model in &models {
            if model.matches_lock == Some(false) {
                findings.push(Finding {
                    level: Level::Degraded,
                    problem: format!(
                        "model {} is not the one `privai.lock` records: its tag moved",
                        model.name
                    ),
                    fix: "`privai lock` shows both digests; `privai lock --update` records what Ollama has".into(),
                });
            }
        }
        let extra = have
            .iter()
            .filter(|h| !spec.ollama.models.iter().any(|m| same_model(&h.name, &m.name)))
            .map(|h| h.name.clone())
            .collect();
        let (state, version) = match &observed.ollama {
            OllamaState::Running { version, .. } => ("up", Some(version.clone())),
            OllamaState::Unreachable { .. } => ("down", None),
            OllamaState::NotObserved => ("not asked", None),
        };
        OllamaStatus {
            state: state.into(),
            version,
            models,
            extra,
        }
    })
}
