//! The gateway: its health, its containers, and which model answers now,
//! with the seed's "Ollama not responding" case.

use super::{Finding, GatewayStatus, Level, Probes, health_of, restart_of};
use crate::model::Spec;
use crate::model::model_name::same_model;
use crate::observe::Observed;
use crate::observe::live::{Containers, OllamaState};
use crate::render::units::Manager;
use crate::render::{Rendered, ServiceId};

/// The gateway's part of the report, if the spec deploys it; and the
/// "Ollama not responding" finding either way.
pub(super) fn assess(
    spec: &Spec,
    desired: &Rendered,
    observed: &Observed,
    probes: &Probes,
    findings: &mut Vec<Finding>,
) -> Option<GatewayStatus> {
    let runs_ollama = desired.services.iter().any(|u| u.id == ServiceId::Ollama);
    // The gateway, and which model answers.
    let gateway = spec.gateway().map(|gateway| {
        let healthy = health_of(probes, ServiceId::Gateway).map(|r| r.is_ok());
        let unit = desired.services.iter().find(|u| u.id == ServiceId::Gateway);
        let current_definition = unit.and_then(|unit| match observed.containers.get(&unit.host) {
            Some(Containers::Listed(list)) => {
                let wanted = unit.definition.as_ref().map(|d| d.sha256.as_str());
                Some(
                    !list.is_empty()
                        && list.iter().all(|c| {
                            c.running
                                && c.labels
                                    .get(crate::render::compose::DEFINITION_LABEL)
                                    .map(String::as_str)
                                    == wanted
                        }),
                )
            }
            _ => None,
        });
        let ollama_down = matches!(observed.ollama, OllamaState::Unreachable { .. });
        let present = |name: &str| {
            observed
                .ollama
                .models()
                .iter()
                .any(|h| same_model(&h.name, name))
        };
        let primary = gateway.model.primary.clone();
        let fallbacks = &gateway.model.fallbacks;
        let (answering, answering_as) = if !observed.ollama.observed() {
            (None, "unknown")
        } else if ollama_down {
            (None, "none")
        } else if let Some(primary) = primary.as_deref().filter(|p| present(p)) {
            (Some(primary.to_owned()), "primary")
        } else if let Some(fallback) = fallbacks.iter().find(|f| present(f)) {
            (Some(fallback.clone()), "fallback")
        } else {
            (None, "none")
        };
        let restart_ollama = restart_of(desired, ServiceId::Ollama);
        if ollama_down && runs_ollama {
            let fallback = match fallbacks.first() {
                Some(f) => format!(
                    "the gateway falls back to {f}, but this Ollama serves it too, so the gateway answers with an error until Ollama is back"
                ),
                None => "the spec names no fallback model, so the gateway answers with an error".into(),
            };
            findings.push(Finding {
                level: Level::Down,
                problem: format!("Ollama is not responding: {fallback}"),
                fix: format!("restart it with `{restart_ollama}` (`ollama serve`)"),
            });
        } else if answering_as == "fallback" {
            findings.push(Finding {
                level: Level::Degraded,
                problem: format!(
                    "the gateway uses the fallback {}: the primary {} is missing from Ollama",
                    answering.as_deref().unwrap_or("?"),
                    primary.as_deref().unwrap_or("?")
                ),
                fix: "`privai apply` pulls the primary model again".into(),
            });
        } else if answering_as == "none" {
            findings.push(Finding {
                level: Level::Down,
                problem: "no model of the gateway (primary or fallback) is in Ollama: it answers with an error".into(),
                fix: "`privai apply` pulls them".into(),
            });
        }
        if healthy == Some(false) {
            findings.push(Finding {
                level: Level::Down,
                problem: format!(
                    "the gateway fails its health check ({}): messages get no answer",
                    health_of(probes, ServiceId::Gateway)
                        .and_then(Result::err)
                        .unwrap_or_default()
                ),
                fix: format!(
                    "restart it with `{}`; its logs: `{}`",
                    restart_of(desired, ServiceId::Gateway),
                    unit.map(|u| match &u.manager {
                        Manager::Compose { runtime, project, .. } =>
                            format!("{runtime} compose -p {project} logs"),
                        _ => "privai apply".into(),
                    })
                    .unwrap_or_default()
                ),
            });
        }
        if current_definition == Some(false) {
            findings.push(Finding {
                level: Level::Degraded,
                problem: "the gateway's containers are not running the current generation's compose file".into(),
                fix: "`privai apply` recreates them".into(),
            });
        }
        GatewayStatus {
            healthy,
            current_definition,
            answering,
            answering_as: answering_as.into(),
        }
    });
    // Ollama down without a gateway: the AI is down all the same.
    if gateway.is_none() && matches!(observed.ollama, OllamaState::Unreachable { .. }) {
        findings.push(Finding {
            level: Level::Down,
            problem: "Ollama is not responding: no model answers".into(),
            fix: format!(
                "restart it with `{}` (`ollama serve`)",
                restart_of(desired, ServiceId::Ollama)
            ),
        });
    }
    gateway
}
