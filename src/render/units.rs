//! The services privai activates, as the service manager knows them: which
//! launchd job, systemd unit or compose project runs each one, and how to
//! tell that it is healthy. Pure; `apply` hands these to the process runner
//! ([`crate::sys`]).

use super::ServiceId;
use super::paths::Layout;
use crate::model::{Host, Platform, Role, Spec, TlsMode};
use serde::{Deserialize, Serialize};

/// A launchd domain (launchctl(1) "domain-target").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaunchdDomain {
    /// `system`: LaunchDaemons, loaded as root.
    System,
    /// `gui/<uid>`: the operator's LaunchAgents in their login session.
    Gui,
}

/// Who runs a service and how it is addressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Manager {
    /// A launchd job (macOS).
    Launchd {
        /// Domain it is loaded into.
        domain: LaunchdDomain,
        /// Its label, e.g. `net.privai.headscale`.
        label: String,
        /// Install path of its plist (`~/` is the operator's home).
        plist: String,
    },
    /// A systemd system unit (Linux).
    Systemd {
        /// The unit to start: `privai-NAME.service`, or the `.timer` of a
        /// periodic job.
        unit: String,
    },
    /// A compose project (the gateway container).
    Compose {
        /// `podman` or `docker`.
        runtime: String,
        /// The fixed project name.
        project: String,
        /// Install path of the compose file.
        file: String,
    },
}

/// How `apply` tells that a service came up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Health {
    /// `GET url` answers 2xx within the timeout.
    Http {
        /// The URL, always on the host itself.
        url: String,
    },
    /// A TCP connection to `addr` succeeds within the timeout (for a TLS
    /// listener whose certificate the probe cannot verify).
    Tcp {
        /// `ip:port`.
        addr: String,
    },
}

/// A service on a host, as `apply` starts, restarts, stops and probes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceUnit {
    /// The host it runs on.
    pub host: String,
    /// Which service it is.
    pub id: ServiceId,
    /// The service manager's handle on it.
    pub manager: Manager,
    /// Its health check; `None` for a scheduled job.
    pub health: Option<Health>,
    /// Seconds the health check may take before the service counts as failed.
    pub health_timeout_secs: u64,
    /// For a compose project: the services it declares and its
    /// definition's hash, which its containers must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<Definition>,
}

/// What a compose project's containers must be: one running container per
/// declared service, each labelled with the definition's hash
/// ([`crate::render::compose::DEFINITION_LABEL`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    /// The declared services, sorted.
    pub services: Vec<String>,
    /// [`crate::render::compose::definition_sha256`] of the compose file.
    pub sha256: String,
}

impl ServiceUnit {
    /// Whether its manager can have it re-read its files without a restart
    /// (SIGHUP through launchd or systemd); a compose project cannot.
    pub fn can_reload(&self) -> bool {
        !matches!(self.manager, Manager::Compose { .. })
    }
}

/// Compose project name of the gateway.
pub const GATEWAY_PROJECT: &str = "privai-gateway";

/// Every service of `spec`, sorted by host, then in activation order
/// ([`ServiceId`]'s order: Headscale, Ollama, the homeserver, the gateway,
/// key rotation, the monitor).
pub fn units(spec: &Spec) -> Vec<ServiceUnit> {
    let mut out = Vec::new();
    for host in &spec.hosts {
        let runs = |role| spec.service_host(role).is_some_and(|h| h.name == host.name);
        let layout = Layout::of(host);
        if runs(Role::Headscale) {
            out.push(daemon(
                host,
                &layout,
                ServiceId::Headscale,
                "headscale",
                true,
                Some(headscale_health(spec)),
                60,
            ));
        }
        if runs(Role::Ollama) {
            let darwin = layout.platform() == Platform::Darwin;
            let addr = spec.ollama.listen.local_socket(spec.ollama.port);
            out.push(daemon(
                host,
                &layout,
                ServiceId::Ollama,
                "ollama",
                !darwin,
                Some(Health::Http {
                    url: format!("http://{addr}/api/version"),
                }),
                60,
            ));
        }
        if runs(Role::Homeserver) {
            // Loopback is always among its listeners.
            out.push(daemon(
                host,
                &layout,
                ServiceId::Homeserver,
                super::homeserver::SERVICE,
                true,
                Some(Health::Http {
                    url: format!(
                        "http://{}/_matrix/client/versions",
                        crate::net::socket_address("127.0.0.1", spec.homeserver.port)
                    ),
                }),
                // The first start creates the database schema.
                120,
            ));
        }
        if runs(Role::Openclaw)
            && let Some(openclaw) = spec.gateway()
        {
            let runtime = match openclaw.container.runtime {
                Some(crate::model::ContainerRuntime::Docker) => "docker",
                _ => "podman",
            };
            out.push(ServiceUnit {
                host: host.name.clone(),
                id: ServiceId::Gateway,
                manager: Manager::Compose {
                    runtime: runtime.to_owned(),
                    project: GATEWAY_PROJECT.to_owned(),
                    file: format!("{}/compose.yaml", layout.gateway_dir()),
                },
                // Where the gateway is published: only on the spec's bind
                // address (e.g. the host's tailnet IP), not on loopback.
                health: Some(Health::Http {
                    url: format!(
                        "http://{}/healthz",
                        openclaw.bind.local_socket(openclaw.port)
                    ),
                }),
                health_timeout_secs: 60,
                definition: Some(super::compose::definition(spec, host, openclaw)),
            });
        }
        if runs(Role::Headscale) && spec.monitoring.key_rotation.enabled {
            out.push(daemon(
                host,
                &layout,
                ServiceId::KeyRotation,
                "rotate-keys",
                false,
                None,
                0,
            ));
        }
        if spec.monitoring.alerts.enabled
            && [Role::Headscale, Role::Ollama, Role::Openclaw]
                .into_iter()
                .any(runs)
        {
            // A LaunchDaemon (system) on macOS, a timer on Linux.
            out.push(daemon(
                host,
                &layout,
                ServiceId::Monitor,
                "monitor",
                true,
                None,
                0,
            ));
        }
    }
    out
}

fn daemon(
    host: &Host,
    layout: &Layout,
    id: ServiceId,
    name: &str,
    system: bool,
    health: Option<Health>,
    health_timeout_secs: u64,
) -> ServiceUnit {
    let manager = match layout.platform() {
        Platform::Darwin => Manager::Launchd {
            domain: if system {
                LaunchdDomain::System
            } else {
                LaunchdDomain::Gui
            },
            label: layout.label(name),
            plist: layout.service_file(name, system, "service"),
        },
        Platform::Linux => Manager::Systemd {
            unit: format!(
                "{}.{}",
                layout.unit(name),
                if health.is_some() { "service" } else { "timer" }
            ),
        },
    };
    ServiceUnit {
        host: host.name.clone(),
        id,
        manager,
        health,
        health_timeout_secs,
        definition: None,
    }
}

/// Headscale's health: `GET /health` when it serves plain HTTP behind a
/// proxy; a TCP connection when it terminates TLS itself.
fn headscale_health(spec: &Spec) -> Health {
    let hs = &spec.headscale;
    let addr = hs
        .listen_addr
        .local_socket(hs.listen_addr.port().unwrap_or(0));
    if hs.tls.mode == TlsMode::Proxy {
        Health::Http {
            url: format!("http://{addr}/health"),
        }
    } else {
        Health::Tcp { addr }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcard_listeners_are_probed_on_loopback() {
        let local_addr = |ip: &str, port| crate::net::ListenAddr::parse(ip).local_socket(port);
        assert_eq!(local_addr("0.0.0.0", 8080), "127.0.0.1:8080");
        assert_eq!(local_addr("[::]", 8080), "[::1]:8080");
        assert_eq!(local_addr("100.64.0.1", 11434), "100.64.0.1:11434");
        assert_eq!(local_addr("::1", 1), "[::1]:1");
    }
}
