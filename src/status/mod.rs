//! `privai status`: is the private AI system healthy, and if not, why?
//!
//! [`gather::probes`] asks the running services what [`crate::observe`]
//! does not (health checks, the models Ollama has loaded); [`assess`] is a
//! pure function of the spec, what it renders, what was observed, the plan
//! and those probes. It names each of the seed's failure cases with its fix
//! and sets the [`Level`] a monitor reads from the exit code.

pub mod gather;
pub mod view;

use crate::api::headscale::device_node;
use crate::api::ollama::{RunningModel, same_model};
use crate::model::{ModelRole, Spec};
use crate::observe::Observed;
use crate::observe::live::{Containers, HeadscaleState, OllamaState};
use crate::plan::Plan;
use crate::render::units::{LaunchdDomain, Manager, ServiceUnit};
use crate::render::{Rendered, ServiceId};
use serde::Serialize;
use std::time::{Duration, SystemTime};

/// A pre-auth key expiring sooner than this is reported.
pub const KEY_WARNING: Duration = Duration::from_secs(3 * 24 * 3600);

/// How the system is, worst first in severity; the exit code of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Everything answers as the spec says: exit 0.
    Healthy = 0,
    /// Working, with something to fix: exit 1.
    Degraded = 1,
    /// The AI cannot answer: exit 2.
    Down = 2,
}

/// A problem and its fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How bad it is.
    pub level: Level,
    /// What is wrong and what it means, one or two sentences.
    pub problem: String,
    /// What to do.
    pub fix: String,
}

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
    /// When it was probed.
    pub now: Option<SystemTime>,
}

/// One service of the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceStatus {
    /// `headscale`, `ollama`, `gateway`, `key-rotation`.
    pub name: String,
    /// How it is run, e.g. `systemd privai-ollama.service`.
    pub managed_by: String,
    /// What its service manager says, e.g. `running`, `not loaded`,
    /// `active`, `failed`; `None` when not asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Its health check: `None` when it has none or was not probed.
    pub healthy: Option<bool>,
    /// Why the check failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A device of the spec on the tailnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceStatus {
    /// Its name.
    pub name: String,
    /// Its user.
    pub user: String,
    /// Whether it has joined (Headscale has its node); `None`: Headscale
    /// did not answer.
    pub joined: Option<bool>,
    /// Whether it is connected now; `None`: Headscale did not answer.
    pub online: Option<bool>,
    /// Its tailnet addresses.
    pub addresses: Vec<String>,
    /// When Headscale last heard from it (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
}

/// Headscale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeadscaleStatus {
    /// `up`, `down` or `not asked` (no API key in the spec, staged install).
    pub state: String,
    /// Its version, e.g. `v0.29.2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Nodes Headscale has, and how many are online.
    pub nodes: usize,
    /// Of which online.
    pub online: usize,
    /// The pre-auth keys of devices not joined yet that expire within
    /// [`KEY_WARNING`] or have expired, in words.
    pub keys_expiring: Vec<String>,
    /// Whether the policy Headscale holds is the spec's (database mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_is_the_spec_s: Option<bool>,
}

/// One model of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelStatus {
    /// Its name.
    pub name: String,
    /// Its role, e.g. `primary`.
    pub role: String,
    /// Whether Ollama has it; `None`: Ollama did not answer.
    pub present: Option<bool>,
    /// Whether its digest is the one `privai.lock` records (`None`: not locked or absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches_lock: Option<bool>,
    /// Bytes it takes in memory when loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loaded_bytes: Option<u64>,
}

/// Ollama.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OllamaStatus {
    /// `up`, `down` or `not asked`.
    pub state: String,
    /// Its version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The spec's models.
    pub models: Vec<ModelStatus>,
    /// Models Ollama has that the spec does not name.
    pub extra: Vec<String>,
}

/// The gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayStatus {
    /// Whether its health check passes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthy: Option<bool>,
    /// Whether its containers run the compose file of the current
    /// generation (`None`: the container runtime was not asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_definition: Option<bool>,
    /// The model that answers now, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answering: Option<String>,
    /// `primary`, `fallback`, `none`, or `unknown` when Ollama was not
    /// asked (a staged install, or Ollama on another host).
    pub answering_as: String,
}

/// `format_version` of the JSON report (docs/status-json.md).
pub const FORMAT_VERSION: &str = "1.0";

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// [`FORMAT_VERSION`].
    pub format_version: &'static str,
    /// The verdict.
    pub level: Level,
    /// The current generation; `None` before the first apply.
    pub generation: Option<u64>,
    /// Changes `privai apply` would make (drift or a changed spec).
    pub pending_changes: usize,
    /// Whether the pending changes are drift: not while Headscale or
    /// Ollama does not answer (the plan then recreates what it cannot see).
    pub drift_known: bool,
    /// Each of them, e.g. `~ file openclaw-server:/etc/headscale/config.yaml`.
    pub pending: Vec<String>,
    /// The services.
    pub services: Vec<ServiceStatus>,
    /// Headscale, if the spec runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headscale: Option<HeadscaleStatus>,
    /// The devices.
    pub devices: Vec<DeviceStatus>,
    /// Ollama, if the spec runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ollama: Option<OllamaStatus>,
    /// The gateway, if the spec deploys it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayStatus>,
    /// Every problem, worst first.
    pub findings: Vec<Finding>,
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

/// The report on the system: pure.
pub fn assess(
    spec: &Spec,
    desired: &Rendered,
    observed: &Observed,
    plan: &Plan,
    probes: &Probes,
) -> Report {
    let mut findings = Vec::new();
    let health_of = |id: ServiceId| {
        probes
            .health
            .iter()
            .find(|(service, _)| *service == id)
            .map(|(_, r)| r.clone())
    };
    let services: Vec<ServiceStatus> = desired
        .services
        .iter()
        .map(|unit| {
            let health = unit.health.as_ref().and_then(|_| health_of(unit.id));
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
        .collect();

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

    // Headscale and the devices.
    let now = probes
        .now
        .or(observed.now)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut devices = Vec::new();
    let headscale = desired.control.as_ref().map(|control| {
        let restart = restart_of(desired, ServiceId::Headscale);
        match &observed.headscale {
            HeadscaleState::Running {
                keys,
                nodes,
                policy,
                ..
            } => {
                for device in &control.devices {
                    let record = observed.key_records.get(&device.name).copied();
                    let node = device_node(device, nodes, record);
                    let status = DeviceStatus {
                        name: device.name.clone(),
                        user: device.user.clone(),
                        joined: Some(node.is_some()),
                        online: Some(node.is_some_and(|n| n.online)),
                        addresses: node.map(|n| n.ip_addresses.clone()).unwrap_or_default(),
                        last_seen: node.and_then(|n| n.last_seen).map(|t| t.rfc3339()),
                    };
                    if status.joined == Some(true) && status.online == Some(false) {
                        findings.push(Finding {
                            level: Level::Degraded,
                            problem: format!(
                                "device `{}` ({}) is off the VPN{}: it cannot reach the gateway",
                                device.name,
                                device.user,
                                status
                                    .last_seen
                                    .as_deref()
                                    .map(|t| format!(", last seen {t}"))
                                    .unwrap_or_default()
                            ),
                            fix: format!(
                                "open Tailscale on `{}` and connect; if it no longer logs in, `privai enroll {}` shows how to join it again",
                                device.name, device.name
                            ),
                        });
                    }
                    devices.push(status);
                }
                // The keys privai created for devices that have not joined yet.
                let keys_expiring: Vec<String> = devices
                    .iter()
                    .filter(|d| d.joined == Some(false))
                    .filter_map(|d| {
                        let id = observed.key_records.get(&d.name)?;
                        let key = keys.iter().find(|k| k.id == *id)?;
                        let expiry = key.expiration.map(|t| t.0).unwrap_or(SystemTime::UNIX_EPOCH);
                        (expiry <= now + KEY_WARNING).then(|| {
                            let when = crate::api::headscale::Timestamp(expiry).rfc3339();
                            if expiry <= now {
                                format!("the key of `{}` expired {when}", d.name)
                            } else {
                                format!("the key of `{}` expires {when}", d.name)
                            }
                        })
                    })
                    .collect();
                if !keys_expiring.is_empty() {
                    findings.push(Finding {
                        level: Level::Degraded,
                        problem: format!(
                            "{} pre-auth key(s) of devices not joined yet expire within 3 days or have expired: {}",
                            keys_expiring.len(),
                            keys_expiring.join("; ")
                        ),
                        fix: "`privai apply` replaces expired keys; join the devices before then (`privai enroll DEVICE`)".into(),
                    });
                }
                let policy_is_the_spec_s = policy.as_ref().map(|p| p.trim() == control.policy.trim());
                if policy_is_the_spec_s == Some(false) {
                    findings.push(Finding {
                        level: Level::Degraded,
                        problem: "the ACL policy Headscale enforces is not the spec's".into(),
                        fix: "`privai apply` sets the spec's policy; `privai acl` shows what it allows".into(),
                    });
                }
                HeadscaleStatus {
                    state: "up".into(),
                    version: probes.headscale_version.clone(),
                    nodes: nodes.len(),
                    online: nodes.iter().filter(|n| n.online).count(),
                    keys_expiring,
                    policy_is_the_spec_s,
                }
            }
            HeadscaleState::Unreachable { error, .. } => {
                findings.push(Finding {
                    level: Level::Degraded,
                    problem: format!(
                        "Headscale is down ({error}): existing connections keep working (devices talk to each other directly); new devices cannot join and keys cannot be rotated"
                    ),
                    fix: format!("restart it with `{restart}`; `privai apply` also starts it"),
                });
                devices.extend(control.devices.iter().map(|d| DeviceStatus {
                    name: d.name.clone(),
                    user: d.user.clone(),
                    joined: None,
                    online: None,
                    addresses: Vec::new(),
                    last_seen: None,
                }));
                HeadscaleStatus {
                    state: "down".into(),
                    version: None,
                    nodes: 0,
                    online: 0,
                    keys_expiring: Vec::new(),
                    policy_is_the_spec_s: None,
                }
            }
            HeadscaleState::NotObserved => HeadscaleStatus {
                state: "not asked".into(),
                version: None,
                nodes: 0,
                online: 0,
                keys_expiring: Vec::new(),
                policy_is_the_spec_s: None,
            },
        }
    });

    // Ollama and the models.
    let runs_ollama = desired.services.iter().any(|u| u.id == ServiceId::Ollama);
    let loaded = probes.loaded.as_deref().unwrap_or(&[]);
    let ollama = runs_ollama.then(|| {
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
    });

    // The gateway, and which model answers.
    let gateway = spec.gateway().map(|gateway| {
        let healthy = health_of(ServiceId::Gateway).map(|r| r.is_ok());
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
                    health_of(ServiceId::Gateway)
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
        drift_known: !service_down,
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
    use crate::api::headscale::{PreAuthKey, Timestamp};
    use crate::api::ollama::LocalModel;
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
        use crate::render::compose::DEFINITION_LABEL;
        use crate::sys::container::ContainerState;
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
