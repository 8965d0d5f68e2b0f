//! `privai diagram`: the system drawn from the spec, as the seed draws it.
//!
//! [`Diagram::of`] reduces a spec to what the picture shows: the people
//! (with their groups) and their devices on one side, the hosts with the
//! services they run and the ports they listen on on the other, and one
//! edge for each device → service connection the ACL accepts (from the ACL
//! evaluator, [`crate::acl`]). [`svg`], [`mermaid`] and [`dot`] draw it.
//! Everything here is pure.

#[cfg(test)]
mod golden;
mod graph;
mod svg;
mod template;

pub use graph::{dot, mermaid};
pub use svg::svg;

use crate::acl::eval::Policy;
use crate::acl::matrix::matrix;
use crate::model::{Role, Spec};
use serde::Serialize;

/// What the diagram shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagram {
    /// The people, in spec order.
    pub users: Vec<Person>,
    /// The hosts, in spec order.
    pub hosts: Vec<HostBox>,
    /// The connections the ACL accepts.
    pub edges: Vec<Edge>,
    /// Services that talk on the host itself (the gateway to Ollama).
    pub local_edges: Vec<LocalEdge>,
}

/// A person and their devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// User name.
    pub name: String,
    /// Display name, if the spec gives one.
    pub display_name: Option<String>,
    /// Groups the user is in, `group:NAME`.
    pub groups: Vec<String>,
    /// Their devices.
    pub devices: Vec<DeviceBox>,
}

/// A device of the tailnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceBox {
    /// Its name.
    pub name: String,
    /// e.g. `phone · ios`.
    pub what: String,
    /// Whether it is connected now, when Headscale was asked (`--live`).
    pub online: Option<bool>,
}

/// A host and its services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostBox {
    /// Its name.
    pub name: String,
    /// Its tailnet address, if pinned.
    pub tailnet_ip: Option<String>,
    /// e.g. `darwin · 36 GB · Apple M3 Pro`.
    pub what: String,
    /// What it runs.
    pub services: Vec<ServiceBox>,
}

/// A service on a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceBox {
    /// `headscale`, `ollama` or `gateway`.
    pub what: &'static str,
    /// Its port.
    pub port: u16,
    /// Where it listens, e.g. `127.0.0.1:11434 (loopback)`.
    pub listen: String,
    /// Models (Ollama) or the image (gateway), short.
    pub detail: Option<String>,
}

/// A device → service connection the ACL accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// The device.
    pub device: String,
    /// The host.
    pub host: String,
    /// The service's port.
    pub port: u16,
    /// The service.
    pub what: &'static str,
    /// Index in `acl.rules` of the rule accepting it.
    pub rule: usize,
}

/// A connection between two services of one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalEdge {
    /// The host.
    pub host: String,
    /// From this service…
    pub from: &'static str,
    /// …to this one.
    pub to: &'static str,
}

/// The lower-case name serde gives an enum value, e.g. `ios`.
fn tag_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Diagram {
    /// The diagram of `spec`.
    pub fn of(spec: &Spec) -> Self {
        let users = spec
            .users
            .iter()
            .map(|u| Person {
                name: u.name.clone(),
                display_name: u.display_name.clone(),
                groups: spec
                    .groups
                    .iter()
                    .filter(|(_, members)| members.contains(&u.name))
                    .map(|(g, _)| format!("group:{g}"))
                    .collect(),
                devices: spec
                    .devices
                    .iter()
                    .filter(|d| d.user == u.name)
                    .map(|d| DeviceBox {
                        name: d.name.clone(),
                        what: format!("{} · {}", tag_name(&d.kind), tag_name(&d.os)),
                        online: None,
                    })
                    .collect(),
            })
            .collect();
        let services = crate::acl::matrix::services(spec);
        let hosts = spec
            .hosts
            .iter()
            .map(|h| {
                let mut what = format!("{} · {} GB", tag_name(&h.platform), h.ram_gb);
                if let Some(chip) = &h.chip {
                    what.push_str(&format!(" · {chip}"));
                }
                if let Some(gpu) = h.gpu_memory_gb {
                    what.push_str(&format!(" · GPU {gpu} GB"));
                }
                HostBox {
                    name: h.name.clone(),
                    tailnet_ip: h.tailnet_ip.clone(),
                    what,
                    services: services
                        .iter()
                        .filter(|s| s.host == h.name)
                        .map(|s| service_box(spec, s.what, s.port))
                        .collect(),
                }
            })
            .collect();
        let policy = Policy::compile(spec);
        let reach = matrix(spec, &policy);
        let mut edges = Vec::new();
        for (row, device) in reach.sources.iter().enumerate() {
            for (column, service) in reach.services.iter().enumerate() {
                if let Some(rule) = reach.cells[row][column] {
                    edges.push(Edge {
                        device: device.clone(),
                        host: service.host.clone(),
                        port: service.port,
                        what: service.what,
                        rule,
                    });
                }
            }
        }
        let mut local_edges = Vec::new();
        if let (Some(gateway), Some(ollama)) = (
            spec.gateway().and(spec.service_host(Role::Openclaw)),
            spec.service_host(Role::Ollama),
        ) && gateway.name == ollama.name
        {
            local_edges.push(LocalEdge {
                host: gateway.name.clone(),
                from: "gateway",
                to: "ollama",
            });
        }
        Self {
            users,
            hosts,
            edges,
            local_edges,
        }
    }

    /// Marks each device online or not, as `online` says (what Headscale
    /// reported); a device it does not name stays unmarked.
    pub fn with_online(mut self, online: &std::collections::BTreeMap<String, bool>) -> Self {
        for person in &mut self.users {
            for device in &mut person.devices {
                device.online = online.get(&device.name).copied();
            }
        }
        self
    }

    /// Every rule of `acl.rules` for the legend, with whether it accepts an
    /// edge of the diagram (a rule may open only ports or devices outside
    /// privai's services, e.g. SSH; `privai acl` shows those).
    pub fn legend(&self, spec: &Spec) -> Vec<LegendRule> {
        spec.acl
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| LegendRule {
                index,
                text: rule.comment.clone().unwrap_or_else(|| {
                    format!("{} -> {}", rule.src.join(", "), rule.dst.join(", "))
                }),
                drawn: self.edges.iter().any(|e| e.rule == index),
            })
            .collect()
    }
}

/// A rule in the legend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegendRule {
    /// Index in `acl.rules`.
    pub index: usize,
    /// Its comment, else its `src -> dst`.
    pub text: String,
    /// Whether an edge of the diagram is its.
    pub drawn: bool,
}

fn service_box(spec: &Spec, what: &'static str, port: u16) -> ServiceBox {
    let loopback = |addr: &crate::net::ListenAddr| {
        if addr.is_loopback() {
            " (loopback)"
        } else {
            ""
        }
    };
    match what {
        "headscale" => ServiceBox {
            what,
            port,
            listen: spec.headscale.listen_addr.to_string(),
            detail: Some(spec.headscale.server_url.clone()),
        },
        "ollama" => ServiceBox {
            what,
            port,
            listen: format!(
                "{}:{port}{}",
                spec.ollama.listen,
                loopback(&spec.ollama.listen)
            ),
            detail: (!spec.ollama.models.is_empty()).then(|| {
                spec.ollama
                    .models
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
        },
        _ => ServiceBox {
            what,
            port,
            listen: format!(
                "{}:{port}{}",
                spec.openclaw.bind,
                loopback(&spec.openclaw.bind)
            ),
            detail: Some(format!(
                "OpenClaw · {}",
                spec.openclaw.model.primary.as_deref().unwrap_or("no model")
            )),
        },
    }
}

/// The label of a service, e.g. `Gateway :18789`.
pub fn service_label(what: &str, port: u16) -> String {
    let name = match what {
        "headscale" => "Headscale",
        "ollama" => "Ollama",
        "gateway" => "OpenClaw gateway",
        other => other,
    };
    format!("{name} :{port}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::load;

    fn seed() -> Spec {
        load(include_str!("../../examples/seed-home.ncl"), "ncl").spec
    }

    #[test]
    fn the_seed_shows_two_people_three_devices_and_one_host_with_four_services() {
        let diagram = Diagram::of(&seed());
        let people: Vec<_> = diagram.users.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(people, ["user1", "user2"]);
        assert_eq!(diagram.users[0].groups, ["group:trusted"]);
        let devices: Vec<_> = diagram.users[0]
            .devices
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(devices, ["phone", "desktop"]);
        assert_eq!(diagram.users[0].devices[0].what, "phone · ios");
        let services: Vec<_> = diagram.hosts[0]
            .services
            .iter()
            .map(|s| (s.what, s.port))
            .collect();
        assert_eq!(
            services,
            [
                ("headscale", 443),
                ("ollama", 11434),
                ("homeserver", 8008),
                ("gateway", 18789)
            ]
        );
        assert_eq!(
            diagram.hosts[0].services[1].listen,
            "127.0.0.1:11434 (loopback)"
        );
    }

    #[test]
    fn edges_are_exactly_what_the_acl_accepts() {
        let spec = seed();
        let diagram = Diagram::of(&spec);
        let edges: Vec<_> = diagram
            .edges
            .iter()
            .map(|e| (e.device.as_str(), e.port, e.rule))
            .collect();
        assert_eq!(
            edges,
            [
                ("phone", 8008, 0),
                ("phone", 18789, 1),
                ("laptop", 8008, 0),
                ("laptop", 18789, 1),
                ("desktop", 8008, 0),
                ("desktop", 18789, 1)
            ]
        );
        assert_eq!(
            diagram.legend(&spec),
            [
                LegendRule {
                    index: 0,
                    text: "Trusted people chat on the private Matrix homeserver.".to_owned(),
                    drawn: true
                },
                LegendRule {
                    index: 1,
                    text: "Trusted people talk to the AI gateway.".to_owned(),
                    drawn: true
                }
            ]
        );
        assert_eq!(diagram.local_edges.len(), 1);
    }

    #[test]
    fn a_rule_opening_only_ports_outside_privai_s_services_is_listed_but_not_drawn() {
        let spec = load(include_str!("../../examples/linux-homelab.ncl"), "ncl").spec;
        let diagram = Diagram::of(&spec);
        let legend = diagram.legend(&spec);
        assert_eq!(legend.len(), 2);
        assert!(legend[0].drawn);
        assert!(!legend[1].drawn, "{legend:?}");
        assert!(diagram.edges.iter().all(|e| e.rule == 0));
    }

    #[test]
    fn a_rule_that_opens_ollama_adds_its_edges() {
        let mut spec = seed();
        spec.acl.rules[0].dst.push("openclaw-server:11434".into());
        let diagram = Diagram::of(&spec);
        assert!(
            diagram
                .edges
                .iter()
                .any(|e| e.device == "laptop" && e.what == "ollama")
        );
    }
}
