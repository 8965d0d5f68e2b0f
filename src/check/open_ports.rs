//! The policy against what listens on the hosts privai deploys to:
//!
//! - PRV077: a rule opens a port of a host where neither a privai service
//!   nor one of the host's declared `other_services` listens, or the port
//!   of a gateway published on loopback only;
//! - PRV078: the gateway, published on the tailnet, is reached by no device;
//! - PRV079: a host declares, in `other_services`, a port a privai service
//!   of the host takes.
//!
//! What privai serves on each host comes from [`services`] (the ports the
//! `privai acl` matrix and the tailnet proof try), plus Headscale's STUN
//! port when its DERP server is embedded.

use super::acl::describe_rule;
use crate::acl::alias::{Ports, parse_ports, split_destination};
use crate::acl::eval::Policy;
use crate::acl::matrix::services;
use crate::codes::{OTHER_SERVICE_CLASH, PORT_NOT_SERVED, SERVICE_UNREACHED};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::{DerpMode, Protocol, Role, Spec};
use std::collections::{BTreeSet, HashMap};

/// Runs these checks with the policy the ACL pass compiled.
pub fn check(spec: &Spec, policy: &Policy, out: &mut Vec<Diagnostic>) {
    ports_nothing_serves(spec, policy, out);
    gateway_reached_by_no_rule(spec, policy, out);
    declared_on_privai_ports(spec, out);
}

/// The ports something listens on at each host (by index in `hosts`):
/// privai's services, with what they are, then the host's declared
/// `other_services`. Linear in the number of hosts (a spec may list
/// thousands, duplicates included, before the checks refuse it).
fn listening(spec: &Spec) -> Vec<Vec<(u16, String)>> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, host) in spec.hosts.iter().enumerate() {
        index.entry(host.name.as_str()).or_insert(i);
    }
    let mut found: Vec<Vec<(u16, String)>> = vec![Vec::new(); spec.hosts.len()];
    for service in services(spec) {
        if let Some(&i) = index.get(service.host.as_str()) {
            found[i].push((service.port, service.what.to_owned()));
        }
    }
    if spec.headscale.derp.mode == DerpMode::Embedded
        && let Some(host) = spec.service_host(Role::Headscale)
        && let Some(&i) = index.get(host.name.as_str())
    {
        found[i].push((spec.headscale.derp.stun_port, "stun".to_owned()));
    }
    for (i, host) in spec.hosts.iter().enumerate() {
        found[i].extend(host.other_services.iter().map(|o| (o.port, o.name.clone())));
    }
    found
}

/// The parts of `ranges` (inclusive, as a destination lists them) that no
/// port of `served` covers, in order.
fn uncovered(ranges: &[(u16, u16)], served: &BTreeSet<u16>) -> Vec<(u16, u16)> {
    // In u32, so that the port after 65535 has a number.
    let port = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
    let mut gaps = Vec::new();
    for &(first, last) in ranges {
        let mut start = u32::from(first);
        for &taken in served.range(first..=last) {
            let taken = u32::from(taken);
            if taken > start {
                gaps.push((port(start), port(taken - 1)));
            }
            start = taken + 1;
        }
        if start <= u32::from(last) {
            gaps.push((port(start), last));
        }
    }
    gaps
}

/// `22`, `22, 445`, `8000-8079, 8081-8100`.
fn list(ranges: &[(u16, u16)]) -> String {
    ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A name for what usually listens on `port`, for the declaration a hint shows.
fn usual_name(port: u16) -> &'static str {
    match port {
        22 => "ssh",
        53 => "dns",
        80 | 8080 => "http",
        443 => "https",
        139 | 445 => "smb",
        2049 => "nfs",
        3389 => "rdp",
        5900 => "vnc",
        9100 => "node-exporter",
        _ => "service",
    }
}

fn ports_nothing_serves(spec: &Spec, policy: &Policy, out: &mut Vec<Diagnostic>) {
    // By host index, which is the host's node index (hosts come first).
    let listeners = listening(spec);
    let served: Vec<BTreeSet<u16>> = listeners
        .iter()
        .map(|l| l.iter().map(|(port, _)| *port).collect())
        .collect();
    // The gateway's host and port when it is published on loopback only:
    // a rule that opens its port reaches nothing there.
    let hidden_gateway = spec
        .gateway()
        .filter(|g| g.bind.is_loopback())
        .and_then(|g| {
            let host = spec.service_host(Role::Openclaw)?;
            let at = spec.hosts.iter().position(|h| h.name == host.name)?;
            Some((at, g.port, g.bind.as_str()))
        });
    for (i, rule) in spec.acl.rules.iter().enumerate() {
        if rule.proto == Some(Protocol::Icmp) {
            continue; // ICMP has no ports
        }
        for (j, dst) in rule.dst.iter().enumerate() {
            let Some((target, ports)) = split_destination(dst) else {
                continue; // malformed: reported by the reference checks
            };
            // Every port (`HOST:*`) is meant as the whole host.
            let Ok(Ports::Ranges(ranges)) = parse_ports(ports) else {
                continue;
            };
            let path = SpecPath::root()
                .key("acl")
                .key("rules")
                .index(i)
                .key("dst")
                .index(j);
            for host in policy.select_hosts(spec, target) {
                if let Some((at, port, bind)) = hidden_gateway
                    && at == host
                    && ranges.iter().any(|&(a, b)| a <= port && port <= b)
                {
                    let name = &spec.hosts[host].name;
                    let address = spec.hosts[host]
                        .tailnet_ip
                        .as_deref()
                        .unwrap_or("TAILNET_IP");
                    out.push(
                        Diagnostic::warning(
                            PORT_NOT_SERVED,
                            format!(
                                "{} opens the gateway's port {port} of host `{name}`, but the gateway listens on loopback only (`openclaw.bind` is `{bind}`)",
                                describe_rule(spec, i),
                            ),
                        )
                        .at(path.clone())
                        .hint(format!(
                            "publish the gateway on the host's tailnet address, `openclaw.bind = \"{address}\"`, or remove port {port} from `{}` in acl.rules[{i}] if devices are not to use it",
                            dst.trim()
                        )),
                    );
                }
                let gaps = uncovered(&ranges, &served[host]);
                let Some(&(first, _)) = gaps.first() else {
                    continue;
                };
                let name = &spec.hosts[host].name;
                let (port_word, where_word) = match gaps.as_slice() {
                    [(a, b)] if a == b => ("port", "no privai service listens"),
                    _ => ("ports", "no privai service listens on them"),
                };
                let mut d = Diagnostic::warning(
                    PORT_NOT_SERVED,
                    format!(
                        "{} opens {port_word} {} of host `{name}`, where {where_word}",
                        describe_rule(spec, i),
                        list(&gaps),
                    ),
                )
                .at(path.clone())
                .hint(format!(
                    "remove {port_word} {} from `{}` in acl.rules[{i}], or, if something privai does not manage listens there, declare it: add `{{ name = \"{}\", port = {first} }}` to `hosts[{host}].other_services`",
                    list(&gaps),
                    dst.trim(),
                    usual_name(first)
                ));
                if !listeners[host].is_empty() {
                    let known = listeners[host]
                        .iter()
                        .map(|(port, what)| format!("{port} ({what})"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    d = d.note(format!("listening on `{name}`: {known}"));
                }
                out.push(d);
            }
        }
    }
}

/// The source a rule for the gateway would name: the first group with a
/// member who owns a device, else the first device's user.
fn gateway_users(spec: &Spec) -> String {
    let owns_device = |user: &str| {
        let user = user.trim_end_matches('@');
        spec.devices.iter().any(|d| d.user == user)
    };
    spec.groups
        .iter()
        .find(|(_, members)| members.iter().any(|m| owns_device(m)))
        .map(|(group, _)| format!("group:{group}"))
        .or_else(|| spec.devices.first().map(|d| format!("{}@", d.user)))
        .unwrap_or_else(|| "autogroup:member".to_owned())
}

fn gateway_reached_by_no_rule(spec: &Spec, policy: &Policy, out: &mut Vec<Diagnostic>) {
    let Some(gateway) = spec.gateway() else {
        return;
    };
    // On loopback the gateway is used through its channels alone.
    if gateway.bind.is_loopback() || spec.devices.is_empty() {
        return;
    }
    let Some(service) = services(spec).into_iter().find(|s| s.what == "gateway") else {
        return;
    };
    let Some(dst) = policy.node(&service.host) else {
        return;
    };
    let reached = policy
        .nodes()
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.host)
        .any(|(src, _)| {
            policy
                .accepting_rule(src, dst, service.port, Protocol::Tcp)
                .is_some()
        });
    if reached {
        return;
    }
    out.push(
        Diagnostic::warning(
            SERVICE_UNREACHED,
            format!(
                "no rule lets a device reach the gateway on `{}:{}`: it listens on the tailnet, but no device can use it",
                service.host, service.port
            ),
        )
        .at(SpecPath::root().key("acl").key("rules"))
        .hint(format!(
            "add a rule for the people who use it to `acl.rules`: `{{ src = [\"{}\"], dst = [\"{}:{}\"], proto = 'tcp }}`",
            gateway_users(spec),
            service.host,
            service.port
        )),
    );
}

/// The option that sets the port of privai's service `what`.
fn port_option(what: &str) -> &'static str {
    match what {
        "headscale" => "headscale.listen_addr",
        "ollama" => "ollama.port",
        _ => "openclaw.port",
    }
}

fn declared_on_privai_ports(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let privai = services(spec);
    for (h, host) in spec.hosts.iter().enumerate() {
        for (k, other) in host.other_services.iter().enumerate() {
            let Some(service) = privai
                .iter()
                .find(|s| s.host == host.name && s.port == other.port)
            else {
                continue;
            };
            out.push(
                Diagnostic::warning(
                    OTHER_SERVICE_CLASH,
                    format!(
                        "host `{}` declares `{}` on port {}, where privai's {} listens",
                        host.name, other.name, other.port, service.what
                    ),
                )
                .at(SpecPath::root()
                    .key("hosts")
                    .index(h)
                    .key("other_services")
                    .index(k)
                    .key("port"))
                .hint(format!(
                    "two programs cannot take one port: remove the declaration if it means privai's {}, or move `{}` or `{}` to another port",
                    service.what,
                    other.name,
                    port_option(service.what)
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{list, uncovered};
    use crate::check::testing::{diagnostics_of, findings_of, pairs};
    use std::collections::BTreeSet;

    fn ours(code: &str) -> bool {
        ["PRV077", "PRV078", "PRV079"].contains(&code)
    }

    /// A server running everything, the gateway on its tailnet address, two
    /// people in a group with a device each.
    const TAILNET: &str = r#"{
      hosts = [ { name = "server", platform = 'linux, ram_gb = 32, roles = ['headscale, 'ollama, 'openclaw], tailnet_ip = "100.64.0.1" } ],
      headscale = { listen_addr = "0.0.0.0:443", derp.mode = 'embedded },
      ollama.models = [ { name = "llama3.1:8b", role = 'primary }, { name = "llama3.2:3b", role = 'fallback } ],
      openclaw = {
        image = "x@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
        bind = "100.64.0.1",
        model = { primary = "llama3.1:8b", fallbacks = ["llama3.2:3b"] },
      },
      users = [ { name = "alice" }, { name = "bob" } ],
      groups = { trusted = ["alice", "bob"] },
      devices = [
        { name = "alice-phone", user = "alice", kind = 'phone, os = 'ios },
        { name = "bob-laptop", user = "bob", kind = 'laptop, os = 'linux, tags = ["tag:laptop"], tailnet_ip = "100.64.0.7" },
      ],
      acl.tag_owners.laptop = ["group:trusted"],
    }"#;

    /// The fields of `TAILNET`'s host, for specs that replace it.
    const SERVER: &str = r#"name = "server", platform = 'linux, ram_gb = 32, roles = ['headscale, 'ollama, 'openclaw], tailnet_ip = "100.64.0.1""#;

    const GATEWAY_RULE: &str = r#"{ src = ["group:trusted"], dst = ["server:18789"] }"#;

    fn spec(extra: &str) -> String {
        format!("{TAILNET} & {extra}")
    }

    fn found(extra: &str) -> Vec<(&'static str, String)> {
        findings_of(&spec(extra), ours)
    }

    #[test]
    fn rules_opening_only_privai_ports_give_no_finding() {
        assert_eq!(
            found(&format!(
                r#"{{ acl.rules = [ {GATEWAY_RULE}, {{ src = ["group:trusted"], dst = ["server:443"] }}, {{ src = ["*"], dst = ["server:3478"], proto = 'udp }} ] }}"#
            )),
            vec![]
        );
    }

    #[test]
    fn a_rule_opening_ssh_on_a_host_where_nothing_declared_listens_is_flagged_at_its_destination() {
        let text = spec(&format!(
            r#"{{ acl.rules = [ {GATEWAY_RULE}, {{ src = ["alice@"], dst = ["bob-laptop:22", "server:22"] }} ] }}"#
        ));
        assert_eq!(
            findings_of(&text, ours),
            pairs(&[("PRV077", "acl.rules[1].dst[1]")])
        );
        let d = &diagnostics_of(&text, ours)[0];
        assert!(!d.is_error());
        assert_eq!(
            d.message,
            "acl.rules[1]: alice@ -> bob-laptop:22, server:22 opens port 22 of host `server`, where no privai service listens"
        );
        assert_eq!(
            d.hint.as_deref(),
            Some(
                "remove port 22 from `server:22` in acl.rules[1], or, if something privai does not manage listens there, declare it: add `{ name = \"ssh\", port = 22 }` to `hosts[0].other_services`"
            )
        );
        assert!(
            d.notes
                .iter()
                .any(|n| n == "listening on `server`: 443 (headscale), 11434 (ollama), 18789 (gateway), 3478 (stun)"),
            "{:?}",
            d.notes
        );
        assert!(d.location.is_some(), "the rule's source span is shown");
    }

    #[test]
    fn the_homeservers_port_is_served_where_the_host_has_the_role() {
        let rule = r#"{ src = ["group:trusted"], dst = ["server:8008"] }"#;
        let with_role = SERVER.replace("'openclaw]", "'openclaw, 'homeserver]");
        assert_eq!(
            found(&format!(
                r#"{{ hosts | force = [ {{ {with_role} }} ], acl.rules = [ {GATEWAY_RULE}, {rule} ] }}"#
            )),
            vec![]
        );
        assert_eq!(
            found(&format!(r#"{{ acl.rules = [ {GATEWAY_RULE}, {rule} ] }}"#)),
            pairs(&[("PRV077", "acl.rules[1].dst[0]")])
        );
    }

    #[test]
    fn a_port_the_host_declares_in_other_services_is_not_flagged() {
        assert_eq!(
            found(&format!(
                r#"{{ hosts | force = [ {{ {SERVER}, other_services = [ {{ name = "ssh", port = 22 }} ] }} ],
                     acl.rules = [ {GATEWAY_RULE}, {{ src = ["alice@"], dst = ["server:22"] }} ] }}"#
            )),
            vec![]
        );
    }

    #[test]
    fn hosts_reached_by_tag_address_or_star_are_checked_and_only_their_unserved_ports_named() {
        let text = spec(&format!(
            r#"{{ hosts | force = [ {{ {SERVER}, tags = ["tag:server"], other_services = [ {{ name = "ssh", port = 22 }} ] }} ],
                 acl.tag_owners.server = ["group:trusted"],
                 acl.rules = [ {GATEWAY_RULE},
                   {{ src = ["alice@"], dst = ["tag:server:22,445,8000-8100"] }},
                   {{ src = ["alice@"], dst = ["100.64.0.1:9100"] }},
                   {{ src = ["alice@"], dst = ["*:80"] }},
                   {{ src = ["alice@"], dst = ["server:*"] }},
                   {{ src = ["alice@"], dst = ["tag:laptop:80"] }} ] }}"#
        ));
        let messages: Vec<String> = diagnostics_of(&text, ours)
            .into_iter()
            .map(|d| d.message)
            .collect();
        assert_eq!(messages.len(), 3, "{messages:#?}");
        assert!(
            messages[0].ends_with("opens ports 445, 8000-8100 of host `server`, where no privai service listens on them"),
            "{messages:#?}"
        );
        assert!(messages[1].contains("opens port 9100 of host `server`"));
        assert!(messages[2].contains("opens port 80 of host `server`"));
    }

    #[test]
    fn the_gateway_reached_by_no_rule_is_flagged_with_a_rule_to_add() {
        let text = spec(r#"{ acl.rules = [ { src = ["alice@"], dst = ["bob-laptop:22"] } ] }"#);
        assert_eq!(findings_of(&text, ours), pairs(&[("PRV078", "acl.rules")]));
        let d = &diagnostics_of(&text, ours)[0];
        assert_eq!(
            d.message,
            "no rule lets a device reach the gateway on `server:18789`: it listens on the tailnet, but no device can use it"
        );
        assert_eq!(
            d.hint.as_deref(),
            Some(
                "add a rule for the people who use it to `acl.rules`: `{ src = [\"group:trusted\"], dst = [\"server:18789\"], proto = 'tcp }`"
            )
        );
    }

    #[test]
    fn a_rule_for_another_protocol_or_a_group_without_devices_does_not_reach_the_gateway() {
        assert_eq!(
            found(
                r#"{ groups.empty = [], acl.rules = [ { src = ["group:trusted"], dst = ["server:18789"], proto = 'udp }, { src = ["group:empty"], dst = ["server:18789"] } ] }"#
            ),
            pairs(&[("PRV078", "acl.rules")])
        );
    }

    #[test]
    fn a_gateway_on_loopback_or_without_devices_needs_no_rule() {
        assert_eq!(found(r#"{ openclaw.bind | force = "127.0.0.1" }"#), vec![]);
        assert_eq!(found(r#"{ devices | force = [] }"#), vec![]);
    }

    #[test]
    fn a_gateway_reached_by_one_device_is_not_flagged() {
        assert_eq!(
            found(r#"{ acl.rules = [ { src = ["alice@"], dst = ["server:18789"] } ] }"#),
            vec![]
        );
        // A tagged node is no longer its user's: `bob@` does not select bob-laptop.
        assert_eq!(
            found(r#"{ acl.rules = [ { src = ["bob@"], dst = ["server:18789"] } ] }"#),
            pairs(&[("PRV078", "acl.rules")])
        );
    }

    #[test]
    fn uncovered_ports_are_the_ranges_minus_the_served_ports() {
        let served: BTreeSet<u16> = [22, 443, 8080].into_iter().collect();
        assert_eq!(uncovered(&[(22, 22), (443, 443)], &served), vec![]);
        assert_eq!(
            list(&uncovered(&[(20, 25), (8000, 8100)], &served)),
            "20-21, 23-25, 8000-8079, 8081-8100"
        );
        let edge: BTreeSet<u16> = [1, 65535].into_iter().collect();
        assert_eq!(uncovered(&[(1, 65535)], &edge), vec![(2, 65534)]);
        assert_eq!(uncovered(&[(65535, 65535)], &edge), vec![]);
    }

    #[test]
    fn a_declared_service_on_a_port_privai_takes_is_flagged_at_its_port() {
        let text = spec(&format!(
            r#"{{ hosts | force = [ {{ {SERVER}, other_services = [ {{ name = "ssh", port = 22 }}, {{ name = "web", port = 18789 }} ] }} ],
                 acl.rules = [ {GATEWAY_RULE} ] }}"#
        ));
        assert_eq!(
            findings_of(&text, ours),
            pairs(&[("PRV079", "hosts[0].other_services[1].port")])
        );
        let d = &diagnostics_of(&text, ours)[0];
        assert_eq!(
            d.message,
            "host `server` declares `web` on port 18789, where privai's gateway listens"
        );
        assert!(
            d.hint
                .as_deref()
                .unwrap()
                .contains("move `web` or `openclaw.port` to another port"),
            "{:?}",
            d.hint
        );
    }

    #[test]
    fn a_rule_to_a_gateway_published_on_loopback_only_is_flagged_with_its_bind() {
        let text = spec(&format!(
            r#"{{ openclaw.bind | force = "127.0.0.1", acl.rules = [ {GATEWAY_RULE} ] }}"#
        ));
        assert_eq!(
            findings_of(&text, ours),
            pairs(&[("PRV077", "acl.rules[0].dst[0]")])
        );
        let d = &diagnostics_of(&text, ours)[0];
        assert_eq!(
            d.message,
            "acl.rules[0]: group:trusted -> server:18789 opens the gateway's port 18789 of host `server`, but the gateway listens on loopback only (`openclaw.bind` is `127.0.0.1`)"
        );
        assert!(
            d.hint
                .as_deref()
                .unwrap()
                .starts_with("publish the gateway on the host's tailnet address, `openclaw.bind = \"100.64.0.1\"`"),
            "{:?}",
            d.hint
        );
    }
}
