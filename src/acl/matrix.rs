//! Who reaches what: every device against every service port of the hosts.

use super::eval::Policy;
use crate::model::{Protocol, Role, Spec};
use serde::Serialize;

/// A port a host serves on the tailnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// The host.
    pub host: String,
    /// The TCP port.
    pub port: u16,
    /// What listens there: `headscale`, `ollama` or `gateway`.
    pub what: &'static str,
}

/// The services of the spec's hosts, in host order.
pub fn services(spec: &Spec) -> Vec<Service> {
    let mut found = Vec::new();
    for host in &spec.hosts {
        let runs = |role| spec.service_host(role).is_some_and(|h| h.name == host.name);
        let mut add = |port, what| {
            found.push(Service {
                host: host.name.clone(),
                port,
                what,
            })
        };
        if runs(Role::Headscale) {
            add(
                spec.headscale.listen_addr.port().unwrap_or(443),
                "headscale",
            );
        }
        if runs(Role::Ollama) {
            add(spec.ollama.port, "ollama");
        }
        if runs(Role::Homeserver) {
            add(spec.homeserver.port, "homeserver");
        }
        if runs(Role::Openclaw) && spec.gateway().is_some() {
            add(spec.openclaw.port, "gateway");
        }
    }
    found
}

/// The reachability matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    /// Row names: the devices (and, when asked, the hosts).
    pub sources: Vec<String>,
    /// Columns.
    pub services: Vec<Service>,
    /// `cells[row][column]`: the index in `acl.rules` of the rule that
    /// accepts the connection, or `None` (denied).
    pub cells: Vec<Vec<Option<usize>>>,
}

/// The matrix of every device against every service, over TCP.
pub fn matrix(spec: &Spec, policy: &Policy) -> Matrix {
    let services = services(spec);
    let rows: Vec<usize> = (0..policy.nodes().len())
        .filter(|&i| !policy.nodes()[i].host)
        .collect();
    let cells = rows
        .iter()
        .map(|&src| {
            services
                .iter()
                .map(|s| {
                    let dst = policy.node(&s.host)?;
                    policy.accepting_rule(src, dst, s.port, Protocol::Tcp)
                })
                .collect()
        })
        .collect();
    Matrix {
        sources: rows
            .iter()
            .map(|&i| policy.nodes()[i].name.clone())
            .collect(),
        services,
        cells,
    }
}
