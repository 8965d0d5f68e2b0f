//! Addresses: tailnet addresses pinned twice (PRV013) or outside the tailnet
//! prefix or on a reserved address (PRV014), and the `acl.hosts` aliases
//! (their names, and whether they point inside the prefix).

use super::acl_path;
use super::names::node_names;
use super::nodes;
use crate::codes::{ACL_SYNTAX, DUPLICATE_IP, DUPLICATE_NAME, IP_OUTSIDE_PREFIX};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::Spec;
use crate::net::Ipv4Net;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Pinned tailnet addresses of hosts and devices: (node, address, path).
fn node_ips(spec: &Spec) -> Vec<(&str, &str, SpecPath)> {
    nodes(spec)
        .filter_map(|node| Some((node.name, node.tailnet_ip?, node.path.key("tailnet_ip"))))
        .collect()
}

pub(super) fn tailnet_ips(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let prefix = &spec.headscale.prefixes.v4;
    let net = Ipv4Net::parse(prefix);
    let mut first: BTreeMap<&str, (&str, SpecPath)> = BTreeMap::new();
    for (name, ip, path) in node_ips(spec) {
        if let Some((owner, earlier)) = first.get(ip) {
            out.push(
                Diagnostic::error(
                    DUPLICATE_IP,
                    format!("`{name}` and `{owner}` both have the tailnet address `{ip}`"),
                )
                .at(path.clone())
                .hint("give each host and device its own address (an `acl.hosts` alias may share one)")
                .note(format!("first used at `{earlier}`")),
            );
        } else {
            first.insert(ip, (name, path.clone()));
        }
        if let (Some(net), Ok(addr)) = (net, ip.parse::<Ipv4Addr>())
            && let Some(d) = node_address(name, ip, addr, &net, prefix)
        {
            out.push(d.at(path));
        }
    }
}

/// What is wrong with the pinned address `addr` of node `name`, if anything.
fn node_address(
    name: &str,
    ip: &str,
    addr: Ipv4Addr,
    net: &Ipv4Net,
    prefix: &str,
) -> Option<Diagnostic> {
    if !net.contains(addr) {
        return Some(
            Diagnostic::error(
                IP_OUTSIDE_PREFIX,
                format!("the tailnet address `{ip}` of `{name}` lies outside the tailnet prefix `{prefix}`"),
            )
            .hint(format!("pick an address inside `{prefix}`, or widen `headscale.prefixes.v4`")),
        );
    }
    if addr == Ipv4Addr::new(100, 100, 100, 100) {
        return Some(
            Diagnostic::error(
                IP_OUTSIDE_PREFIX,
                format!("`{ip}` of `{name}` is Tailscale's MagicDNS address, which every client keeps for itself"),
            )
            .hint(format!("pick another address inside `{prefix}`")),
        );
    }
    let why = reserved_address(addr, net)?;
    Some(
        Diagnostic::warning(
            IP_OUTSIDE_PREFIX,
            format!("the tailnet address `{ip}` of `{name}` is {why}"),
        )
        .hint(format!(
            "pick another address inside `{prefix}`, such as the next one"
        )),
    )
}

/// Why `addr` (inside `net`) is a poor node address: a network or broadcast
/// address, or Tailscale's ChromeOS range that Headscale never assigns.
fn reserved_address(addr: Ipv4Addr, net: &Ipv4Net) -> Option<&'static str> {
    let chromeos = Ipv4Net {
        addr: Ipv4Addr::new(100, 115, 92, 0),
        len: 23,
    };
    let bits = u32::from(addr);
    let host_bits = u32::MAX.checked_shr(u32::from(net.len)).unwrap_or(0);
    if net.len <= 30 && bits & host_bits == 0 {
        Some("the network address of the prefix")
    } else if net.len <= 30 && bits & host_bits == host_bits {
        Some("the broadcast address of the prefix")
    } else if chromeos.contains(addr) {
        Some("in `100.115.92.0/23`, which Tailscale reserves for ChromeOS virtual machines")
    } else {
        None
    }
}

pub(super) fn acl_hosts(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let mut nodes: BTreeMap<&str, SpecPath> = BTreeMap::new();
    for (name, path) in node_names(spec) {
        nodes.entry(name).or_insert(path);
    }
    let prefix = &spec.headscale.prefixes.v4;
    let net = Ipv4Net::parse(prefix);
    for (alias, ip) in &spec.acl.hosts {
        let path = acl_path().key("hosts").key(alias);
        if alias.is_empty() || alias.contains(['@', ':']) || alias.contains(char::is_whitespace) {
            out.push(
                Diagnostic::error(ACL_SYNTAX, format!("`{alias}` cannot name an address"))
                    .at(path.clone())
                    .hint("alias names may not be empty or contain `@`, `:` or spaces; use e.g. `nas`"),
            );
        }
        if let Some(node) = nodes.get(alias.as_str()) {
            out.push(
                Diagnostic::error(
                    DUPLICATE_NAME,
                    format!("the alias `{alias}` has the name of a host or device"),
                )
                .at(path.clone())
                .hint("hosts and devices with a `tailnet_ip` are named automatically: remove this alias or rename it")
                .note(format!("first declared at `{node}`")),
            );
        }
        let outside = match (net, ip.parse::<Ipv4Addr>(), Ipv4Net::parse(ip)) {
            (Some(net), Ok(addr), _) => !net.contains(addr),
            (Some(net), _, Some(range)) => !net.covers(&range),
            _ => false,
        };
        if outside {
            out.push(
                Diagnostic::warning(
                    IP_OUTSIDE_PREFIX,
                    format!("the alias `{alias}` points at `{ip}`, outside the tailnet prefix `{prefix}`"),
                )
                .at(path)
                .hint(format!(
                    "no node of the tailnet has that address; use an address inside `{prefix}`"
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{expect, first_diagnostic, found, with_people};
    use super::*;

    #[test]
    fn an_acl_alias_may_share_an_address_but_not_a_name_with_a_host() {
        let found =
            found(r#"{ acl.hosts = { box = "100.64.0.1", "ollama-server" = "100.64.0.1" } }"#);
        assert_eq!(found, expect(&[(DUPLICATE_NAME, "acl.hosts.box")]));
    }

    #[test]
    fn two_nodes_with_one_address_are_reported_at_the_second() {
        let found = with_people(
            r#"devices = [{ name = "phone", user = "user1", kind = 'phone, os = 'ios, tailnet_ip = "100.64.0.1" }]"#,
        );
        assert_eq!(found, expect(&[(DUPLICATE_IP, "devices[0].tailnet_ip")]));
    }

    #[test]
    fn addresses_outside_the_tailnet_prefix_are_reported() {
        let found = with_people(
            r#"headscale.prefixes.v4 = "100.64.0.0/24",
               devices = [{ name = "phone", user = "user1", kind = 'phone, os = 'ios, tailnet_ip = "100.64.1.2" }],
               acl.hosts = { nas = "192.168.1.5" }"#,
        );
        assert_eq!(
            found,
            expect(&[
                (IP_OUTSIDE_PREFIX, "devices[0].tailnet_ip"),
                (IP_OUTSIDE_PREFIX, "acl.hosts.nas")
            ])
        );
    }

    #[test]
    fn reserved_addresses_are_flagged_and_magicdns_is_an_error() {
        let found = with_people(
            r#"devices = [
                 { name = "a", user = "user1", kind = 'laptop, os = 'linux, tailnet_ip = "100.64.0.0" },
                 { name = "b", user = "user1", kind = 'laptop, os = 'linux, tailnet_ip = "100.127.255.255" },
                 { name = "c", user = "user1", kind = 'laptop, os = 'linux, tailnet_ip = "100.100.100.100" },
                 { name = "d", user = "user1", kind = 'laptop, os = 'linux, tailnet_ip = "100.115.92.7" },
               ]"#,
        );
        let paths: Vec<String> = found.iter().map(|(_, p)| p.clone()).collect();
        assert_eq!(
            paths,
            [
                "devices[0].tailnet_ip",
                "devices[1].tailnet_ip",
                "devices[2].tailnet_ip",
                "devices[3].tailnet_ip"
            ]
        );
        let magic = first_diagnostic(
            r#"{ users = [{ name = "u" }], devices = [{ name = "c", user = "u", kind = 'laptop, os = 'linux, tailnet_ip = "100.100.100.100" }] }"#,
        );
        assert!(magic.is_error());
    }
}
