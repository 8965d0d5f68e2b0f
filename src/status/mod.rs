//! `privai status`: is the private AI system healthy, and if not, why?
//!
//! [`gather::probes`] asks the running services what [`crate::observe`]
//! does not (health checks, the models Ollama has loaded); [`assess`] is a
//! pure function of the spec, what it renders, what was observed, the plan
//! and those probes. It names each of the seed's failure cases with its fix
//! and sets the [`Level`] a monitor reads from the exit code.

mod gateway;
pub mod gather;
mod models;
mod report;
mod tailnet;
pub mod view;

pub use report::*;

use crate::model::{ModelRole, Spec};
use crate::observe::Observed;
use crate::observe::live::{HeadscaleState, OllamaState};
use crate::observe::ollama::RunningModel;
use crate::plan::Plan;
use crate::render::units::{LaunchdDomain, Manager, ServiceUnit};
use crate::render::{Rendered, ServiceId};
use std::time::{Duration, SystemTime};

/// A pre-auth key expiring sooner than this is reported.
pub const KEY_WARNING: Duration = Duration::from_secs(3 * 24 * 3600);

/// What the probes learnt beyond [`Observed`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Probes {
    /// Each service's health check: `Err(why)` when it failed, by service.
    pub health: Vec<(ServiceId, Result<(), String>)>,
    /// The models Ollama has loaded (`/api/ps`), if it answered.
    pub loaded: Option<Vec<RunningModel>>,
    /// Headscale's version (`/version`), if it answered.
    pub headscale_version: Option<String>,
    /// What the service manager says of each launchd job or systemd unit,
    /// e.g. `running`, `not loaded`, `active`, `failed`.
    pub manager: Vec<(ServiceId, String)>,
    /// Whether the journal of an apply is on record: one is running now, or
    /// was killed midway.
    pub interrupted_apply: bool,
    /// When it was probed.
    pub now: Option<SystemTime>,
}

/// The command that restarts `unit`, as the operator types it.
pub fn restart_command(unit: &ServiceUnit) -> String {
    match &unit.manager {
        Manager::Systemd { unit } => format!("sudo systemctl restart {unit}"),
        Manager::Launchd {
            domain: LaunchdDomain::Gui,
            label,
            ..
        } => format!("launchctl kickstart -k gui/$(id -u)/{label}"),
        Manager::Launchd { label, .. } => {
            format!("sudo launchctl kickstart -k system/{label}")
        }
        Manager::Compose {
            runtime,
            project,
            file,
        } => format!("{runtime} compose -p {project} -f {file} up -d"),
    }
}

fn managed_by(unit: &ServiceUnit) -> String {
    match &unit.manager {
        Manager::Systemd { unit } => format!("systemd {unit}"),
        Manager::Launchd { label, .. } => format!("launchd {label}"),
        Manager::Compose {
            runtime, project, ..
        } => format!("{runtime} compose {project}"),
    }
}

fn restart_of(desired: &Rendered, id: ServiceId) -> String {
    desired
        .services
        .iter()
        .find(|u| u.id == id)
        .map(restart_command)
        .unwrap_or_else(|| "`privai apply`".into())
}

fn role_name(role: ModelRole) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The result of `id`'s health check, if it was probed.
fn health_of(probes: &Probes, id: ServiceId) -> Option<Result<(), String>> {
    probes
        .health
        .iter()
        .find(|(service, _)| *service == id)
        .map(|(_, r)| r.clone())
}

/// Each service, with what its manager and health check say.
fn services(
    desired: &Rendered,
    probes: &Probes,
    findings: &mut Vec<Finding>,
) -> Vec<ServiceStatus> {
    desired
        .services
        .iter()
        .map(|unit| {
            let health = unit
                .health
                .as_ref()
                .and_then(|_| health_of(probes, unit.id));
            let state = probes
                .manager
                .iter()
                .find(|(id, _)| *id == unit.id)
                .map(|(_, state)| state.clone());
            // A job without a health check (key rotation) is judged by its
            // manager: not loaded, or failed, it does not run.
            if unit.health.is_none()
                && let Some(state) = state.as_deref()
                && matches!(state, "not loaded" | "failed" | "inactive")
            {
                findings.push(Finding {
                    level: Level::Degraded,
                    problem: format!(
                        "the {} job is {state} ({}): it does not run",
                        unit.id.name(),
                        managed_by(unit)
                    ),
                    fix: format!(
                        "`privai apply` installs and loads it again; or `{}`",
                        restart_command(unit)
                    ),
                });
            }
            ServiceStatus {
                name: unit.id.name().to_owned(),
                managed_by: managed_by(unit),
                state,
                healthy: health.as_ref().map(Result::is_ok),
                error: health.and_then(Result::err),
            }
        })
        .collect()
}

/// The pending changes, and whether they are drift (false while a service
/// the plan asks does not answer).
fn drift(observed: &Observed, plan: &Plan, findings: &mut Vec<Finding>) -> (Vec<String>, bool) {
    // With Headscale or Ollama down, the plan recreates what it cannot
    // see: that is not drift.
    let service_down = matches!(observed.headscale, HeadscaleState::Unreachable { .. })
        || matches!(observed.ollama, OllamaState::Unreachable { .. });
    let pending: Vec<String> = plan
        .actions
        .iter()
        .map(|a| format!("{} {}", a.change().symbol(), a.address()))
        .collect();
    if observed.generation.is_none() {
        findings.push(Finding {
            level: Level::Degraded,
            problem: "nothing is installed yet: there is no generation".into(),
            fix: "`privai plan` shows what `privai apply` will install".into(),
        });
    } else if !plan.is_empty() && !service_down {
        let edited = plan.drifted().count();
        let mut shown: Vec<String> = pending.iter().take(4).cloned().collect();
        if pending.len() > shown.len() {
            shown.push(format!("and {} more", pending.len() - shown.len()));
        }
        findings.push(Finding {
            level: Level::Degraded,
            problem: format!(
                "the system differs from the spec: {} change(s) pending{}: {}",
                plan.actions.len(),
                match edited {
                    0 => String::new(),
                    n => format!(" ({n} file(s) edited outside privai)"),
                },
                shown.join(", ")
            ),
            fix: "`privai plan` shows them; `privai apply` makes them".into(),
        });
    }
    (pending, !service_down)
}

/// The report on the system: pure.
pub fn assess(
    spec: &Spec,
    desired: &Rendered,
    observed: &Observed,
    plan: &Plan,
    probes: &Probes,
) -> Report {
    let mut findings = Vec::new();
    let services = services(desired, probes, &mut findings);
    let (pending, drift_known) = drift(observed, plan, &mut findings);
    if probes.interrupted_apply {
        findings.push(Finding {
            level: Level::Degraded,
            problem: "an apply is running, or was interrupted midway (its journal is on record): files and services may be half changed".into(),
            fix: "if none is running, the next `privai plan` or `privai apply` finishes or undoes it first".into(),
        });
    }
    let (headscale, devices) = tailnet::assess(spec, desired, observed, probes, &mut findings);
    let ollama = models::assess(spec, desired, observed, probes, &mut findings);
    let gateway = gateway::assess(spec, desired, observed, probes, &mut findings);
    findings.sort_by_key(|f| std::cmp::Reverse(f.level));
    let level = findings
        .iter()
        .map(|f| f.level)
        .max()
        .unwrap_or(Level::Healthy);
    Report {
        format_version: FORMAT_VERSION,
        level,
        generation: observed.generation,
        pending_changes: plan.actions.len(),
        drift_known,
        pending,
        services,
        headscale,
        devices,
        ollama,
        gateway,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::headscale::{PreAuthKey, Timestamp};
    use crate::observe::live::Containers;
    use crate::observe::ollama::LocalModel;
    use serde_json::json;

    fn seed() -> Spec {
        crate::check::testing::load(include_str!("../../examples/seed-home.ncl"), "ncl").spec
    }

    const NOW: u64 = 1_800_000_000;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn key(id: u64, expires: u64) -> PreAuthKey {
        serde_json::from_value(json!({
            "id": id.to_string(),
            "user": { "id": "2", "name": "user2" },
            "key": "hskey-auth-abc-***",
            "reusable": false,
            "ephemeral": false,
            "used": false,
            "expiration": Timestamp(at(expires)).rfc3339(),
            "aclTags": [],
        }))
        .unwrap()
    }

    fn local(name: &str) -> LocalModel {
        LocalModel {
            name: name.into(),
            model: name.into(),
            digest: "ab".repeat(32),
            size: 1,
        }
    }

    /// An applied seed, everything answering, as observed.
    fn healthy(spec: &Spec) -> (Rendered, Observed, Probes) {
        let desired = crate::render::render(spec);
        let observed = Observed {
            generation: Some(1),
            headscale: HeadscaleState::Running {
                users: Vec::new(),
                keys: Vec::new(),
                nodes: Vec::new(),
                policy: None,
            },
            ollama: OllamaState::Running {
                url: "http://127.0.0.1:11434".into(),
                version: "0.12.0".into(),
                models: vec![local("codellama:13b"), local("llama3.2:3b")],
            },
            now: Some(at(NOW)),
            ..Observed::default()
        };
        let probes = Probes {
            health: vec![
                (ServiceId::Headscale, Ok(())),
                (ServiceId::Ollama, Ok(())),
                (ServiceId::Gateway, Ok(())),
            ],
            loaded: Some(Vec::new()),
            headscale_version: Some("v0.29.2".into()),
            manager: Vec::new(),
            interrupted_apply: false,
            now: Some(at(NOW)),
        };
        (desired, observed, probes)
    }

    fn no_plan() -> Plan {
        Plan {
            actions: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn everything_answering_is_healthy_with_the_primary_answering() {
        let spec = seed();
        let (desired, observed, probes) = healthy(&spec);
        let report = assess(&spec, &desired, &observed, &no_plan(), &probes);
        assert_eq!(report.findings, Vec::new());
        assert_eq!(report.level, Level::Healthy);
        let gateway = report.gateway.unwrap();
        assert_eq!(gateway.answering.as_deref(), Some("codellama:13b"));
        assert_eq!(gateway.answering_as, "primary");
    }

    #[test]
    fn the_key_of_a_device_not_joined_yet_is_reported_when_it_expires_within_three_days() {
        let spec = seed();
        let (desired, mut observed, probes) = healthy(&spec);
        if let HeadscaleState::Running { keys, .. } = &mut observed.headscale {
            keys.push(key(7, NOW + 2 * 24 * 3600));
            keys.push(key(8, NOW + 10 * 24 * 3600));
        }
        observed.key_records.insert("laptop".into(), 7);
        observed.key_records.insert("desktop".into(), 8);
        let report = assess(&spec, &desired, &observed, &no_plan(), &probes);
        let expiring = &report.headscale.as_ref().unwrap().keys_expiring;
        assert_eq!(expiring.len(), 1, "{expiring:?}");
        assert!(expiring[0].starts_with("the key of `laptop` expires "));
        assert_eq!(report.level, Level::Degraded);
        assert!(
            report.findings[0]
                .fix
                .contains("`privai apply` replaces expired keys")
        );
    }

    #[test]
    fn a_policy_in_headscale_s_database_other_than_the_spec_s_is_degraded() {
        let spec = seed();
        let (desired, mut observed, probes) = healthy(&spec);
        let spec_policy = desired.control.as_ref().unwrap().policy.clone();
        for (policy, expected) in [(spec_policy, Some(true)), ("{}".to_owned(), Some(false))] {
            if let HeadscaleState::Running { policy: held, .. } = &mut observed.headscale {
                *held = Some(policy);
            }
            let report = assess(&spec, &desired, &observed, &no_plan(), &probes);
            assert_eq!(report.headscale.unwrap().policy_is_the_spec_s, expected);
            assert_eq!(
                report.level,
                if expected == Some(true) {
                    Level::Healthy
                } else {
                    Level::Degraded
                }
            );
        }
    }

    #[test]
    fn without_either_model_the_gateway_answers_nothing_and_the_system_is_down() {
        let spec = seed();
        let (desired, mut observed, probes) = healthy(&spec);
        if let OllamaState::Running { models, .. } = &mut observed.ollama {
            models.clear();
        }
        let report = assess(&spec, &desired, &observed, &no_plan(), &probes);
        assert_eq!(report.level, Level::Down);
        assert_eq!(report.gateway.unwrap().answering_as, "none");
    }

    #[test]
    fn a_model_whose_tag_moved_away_from_the_lock_is_degraded() {
        let spec = seed();
        let (desired, mut observed, probes) = healthy(&spec);
        observed
            .lock
            .set("codellama:13b", &format!("sha256:{}", "cd".repeat(32)));
        observed
            .lock
            .set("llama3.2:3b", &format!("sha256:{}", "ab".repeat(32)));
        let report = assess(&spec, &desired, &observed, &no_plan(), &probes);
        let models = &report.ollama.as_ref().unwrap().models;
        assert_eq!(models[0].matches_lock, Some(false));
        assert_eq!(models[1].matches_lock, Some(true));
        assert_eq!(report.level, Level::Degraded);
        assert!(
            report.findings[0]
                .problem
                .contains("codellama:13b is not the one `privai.lock` records")
        );
    }

    #[test]
    fn gateway_containers_are_of_the_current_generation_only_when_running_with_its_compose_file() {
        use crate::observe::containers::ContainerState;
        use crate::render::compose::DEFINITION_LABEL;
        let spec = seed();
        let (desired, mut observed, probes) = healthy(&spec);
        let unit = desired
            .services
            .iter()
            .find(|u| u.id == ServiceId::Gateway)
            .unwrap();
        let current = unit.definition.as_ref().unwrap().sha256.clone();
        let container = |running: bool, sha: &str| ContainerState {
            name: "privai-gateway-openclaw-1".into(),
            running,
            labels: [(DEFINITION_LABEL.to_owned(), sha.to_owned())].into(),
            ..ContainerState::default()
        };
        for (list, expected) in [
            (vec![container(true, &current)], Some(true)),
            (vec![container(true, "0123")], Some(false)),
            (vec![container(false, &current)], Some(false)),
            (vec![], Some(false)),
        ] {
            observed
                .containers
                .insert(unit.host.clone(), Containers::Listed(list));
            let report = assess(&spec, &desired, &observed, &no_plan(), &probes);
            assert_eq!(report.gateway.unwrap().current_definition, expected);
            let degraded = expected == Some(false);
            assert_eq!(report.level == Level::Degraded, degraded);
        }
        observed.containers.insert(
            unit.host.clone(),
            Containers::Unreadable("podman: not found".into()),
        );
        let report = assess(&spec, &desired, &observed, &no_plan(), &probes);
        assert_eq!(report.gateway.unwrap().current_definition, None);
    }

    #[test]
    fn without_a_gateway_ollama_not_responding_is_down_all_the_same_with_its_systemd_restart() {
        let spec = crate::check::testing::load(crate::check::testing::BASE, "ncl").spec;
        assert!(spec.gateway().is_none());
        let desired = crate::render::render(&spec);
        let observed = Observed {
            generation: Some(3),
            ollama: OllamaState::Unreachable {
                url: "http://127.0.0.1:11434".into(),
                error: "connection refused".into(),
            },
            ..Observed::default()
        };
        let report = assess(&spec, &desired, &observed, &no_plan(), &Probes::default());
        assert_eq!(report.level, Level::Down);
        assert_eq!(report.gateway, None);
        assert_eq!(
            report.findings[0].problem,
            "Ollama is not responding: no model answers"
        );
        assert_eq!(
            report.findings[0].fix,
            "restart it with `sudo systemctl restart privai-ollama.service` (`ollama serve`)"
        );
    }

    #[test]
    fn restart_commands_follow_the_service_manager() {
        use crate::render::units::{LaunchdDomain, Manager};
        let mut unit = crate::render::render(&seed())
            .services
            .into_iter()
            .find(|u| u.id == ServiceId::Ollama)
            .unwrap();
        unit.manager = Manager::Systemd {
            unit: "privai-ollama.service".into(),
        };
        assert_eq!(
            restart_command(&unit),
            "sudo systemctl restart privai-ollama.service"
        );
        unit.manager = Manager::Launchd {
            domain: LaunchdDomain::Gui,
            label: "net.privai.ollama".into(),
            plist: String::new(),
        };
        assert_eq!(
            restart_command(&unit),
            "launchctl kickstart -k gui/$(id -u)/net.privai.ollama"
        );
    }
}
