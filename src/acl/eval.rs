//! Evaluation of the policy with Headscale's semantics, for what a spec can
//! express: users (`NAME@`, matching the untagged nodes of that user; tagged
//! nodes lose their user's identity), groups, tags, host and device names,
//! `acl.hosts` aliases, IPs and prefixes, `*`, and the autogroups `member`,
//! `tagged` and `self`; ports as `*`, numbers, lists and ranges; protocols.
//!
//! Hosts belong to no user in the spec: rules reach them by name, address,
//! tag or `*`.

use super::alias::{Alias, Ports, parse_alias, parse_ports, split_destination};
use crate::model::{Protocol, Spec};
use crate::net::Ipv4Net;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// A machine of the tailnet: a host or a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its name.
    pub name: String,
    /// Whether it is a host (else a device).
    pub host: bool,
    /// Its user (devices only).
    pub user: Option<String>,
    /// Its tags, written `tag:NAME`.
    pub tags: Vec<String>,
    /// Its tailnet address, if pinned.
    pub ip: Option<Ipv4Addr>,
}

/// What a source or destination alias selects.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    /// Some of the nodes (indices).
    Nodes(BTreeSet<usize>),
    /// The source's own untagged nodes (`autogroup:self`, destinations only).
    SameUser,
}

/// One compiled rule.
#[derive(Debug, Clone)]
struct Rule {
    proto: Option<Protocol>,
    src: BTreeSet<usize>,
    dst: Vec<(Selector, Ports)>,
}

/// The spec's policy, resolved against its nodes.
#[derive(Debug, Clone)]
pub struct Policy {
    nodes: Vec<Node>,
    rules: Vec<Rule>,
}

impl Policy {
    /// Resolves every rule of `spec`. Malformed entries select nothing
    /// (`privai check` reports them).
    pub fn compile(spec: &Spec) -> Self {
        let mut nodes: Vec<Node> = spec
            .hosts
            .iter()
            .map(|h| Node {
                name: h.name.clone(),
                host: true,
                user: None,
                tags: h.tags.clone(),
                ip: h.tailnet_ip.as_deref().and_then(|ip| ip.parse().ok()),
            })
            .collect();
        nodes.extend(spec.devices.iter().map(|d| Node {
            name: d.name.clone(),
            host: false,
            user: Some(d.user.clone()),
            tags: d.tags.clone(),
            ip: d.tailnet_ip.as_deref().and_then(|ip| ip.parse().ok()),
        }));
        let mut policy = Self {
            nodes,
            rules: Vec::new(),
        };
        policy.rules = spec
            .acl
            .rules
            .iter()
            .map(|rule| Rule {
                proto: rule.proto,
                src: rule
                    .src
                    .iter()
                    .flat_map(|a| policy.select(spec, a))
                    .collect(),
                dst: rule
                    .dst
                    .iter()
                    .filter_map(|d| {
                        let (target, ports) = split_destination(d)?;
                        let ports = parse_ports(ports).ok()?;
                        let selector = if target.trim() == "autogroup:self" {
                            Selector::SameUser
                        } else {
                            Selector::Nodes(policy.select(spec, target))
                        };
                        Some((selector, ports))
                    })
                    .collect(),
            })
            .collect();
        policy
    }

    /// The nodes, hosts first, in spec order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The index of the node named `name`.
    pub fn node(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// The nodes an alias selects (as a source, or a destination target).
    pub fn select(&self, spec: &Spec, alias: &str) -> BTreeSet<usize> {
        let all = 0..self.nodes.len();
        let by = |pred: &dyn Fn(&Node) -> bool| -> BTreeSet<usize> {
            all.clone().filter(|&i| pred(&self.nodes[i])).collect()
        };
        let users_nodes =
            |user: &str| by(&|n: &Node| n.tags.is_empty() && n.user.as_deref() == Some(user));
        match parse_alias(alias) {
            Alias::Any => by(&|_| true),
            Alias::Ip { cidr } => match (cidr, alias.trim()) {
                (true, text) => match Ipv4Net::parse(text) {
                    Some(net) => by(&|n: &Node| n.ip.is_some_and(|ip| net.contains(ip))),
                    None => BTreeSet::new(),
                },
                (false, text) => match text.parse::<Ipv4Addr>() {
                    Ok(ip) => by(&|n: &Node| n.ip == Some(ip)),
                    Err(_) => BTreeSet::new(),
                },
            },
            Alias::User(text) => {
                let name = text.strip_suffix('@').unwrap_or(text);
                let by_email = spec.users.iter().find(|u| u.email.as_deref() == Some(text));
                users_nodes(by_email.map_or(name, |u| u.name.as_str()))
            }
            Alias::Group(group) => spec
                .groups
                .get(group)
                .into_iter()
                .flatten()
                .flat_map(|member| users_nodes(member.trim_end_matches('@')))
                .collect(),
            Alias::Tag(_) => by(&|n: &Node| n.tags.iter().any(|t| t == alias.trim())),
            Alias::Autogroup("member") => by(&|n: &Node| n.tags.is_empty() && n.user.is_some()),
            Alias::Autogroup("tagged") => by(&|n: &Node| !n.tags.is_empty()),
            Alias::Name(name) => match spec.acl.hosts.get(name) {
                Some(ip) => self.select(spec, ip),
                None => by(&|n: &Node| n.name == name),
            },
            Alias::Autogroup(_) | Alias::Prefixed(_) | Alias::Empty => BTreeSet::new(),
        }
    }

    /// The first rule (by index in `acl.rules`) that lets node `src` reach
    /// node `dst` on `port` over `proto`; `None`: denied.
    pub fn accepting_rule(
        &self,
        src: usize,
        dst: usize,
        port: u16,
        proto: Protocol,
    ) -> Option<usize> {
        self.rules.iter().position(|rule| {
            rule.proto.is_none_or(|p| p == proto)
                && rule.src.contains(&src)
                && rule.dst.iter().any(|(selector, ports)| {
                    let target = match selector {
                        Selector::Nodes(nodes) => nodes.contains(&dst),
                        Selector::SameUser => self.same_user(src, dst),
                    };
                    target && ports_contain(ports, port)
                })
        })
    }

    /// Whether some rule lets `src` reach another node on some port.
    pub fn reaches_any_node(&self, src: usize) -> bool {
        self.rules.iter().any(|rule| {
            rule.src.contains(&src)
                && rule.dst.iter().any(|(selector, _)| match selector {
                    Selector::Nodes(nodes) => nodes.iter().any(|&dst| dst != src),
                    Selector::SameUser => {
                        (0..self.nodes.len()).any(|dst| dst != src && self.same_user(src, dst))
                    }
                })
        })
    }

    /// Whether some rule names node `dst` as a destination.
    pub fn is_destination(&self, dst: usize) -> bool {
        self.rules.iter().any(|rule| {
            rule.dst.iter().any(|(selector, _)| match selector {
                Selector::Nodes(nodes) => nodes.contains(&dst),
                Selector::SameUser => false,
            })
        })
    }

    fn same_user(&self, src: usize, dst: usize) -> bool {
        let (s, d) = (&self.nodes[src], &self.nodes[dst]);
        s.tags.is_empty() && d.tags.is_empty() && s.user.is_some() && s.user == d.user
    }

    /// Whether rule `index` selects no source node at all.
    pub fn rule_matches_nobody(&self, index: usize) -> bool {
        self.rules.get(index).is_some_and(|r| r.src.is_empty())
    }
}

fn ports_contain(ports: &Ports, port: u16) -> bool {
    match ports {
        Ports::Any => true,
        Ports::Ranges(ranges) => ranges.iter().any(|&(a, b)| (a..=b).contains(&port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::load;

    /// A tailnet to test Headscale's alias semantics on: two users, a group,
    /// a tagged device, hosts with addresses and an `acl.hosts` alias.
    const TAILNET: &str = r#"{
      hosts = [
        { name = "server", platform = 'linux, ram_gb = 16, roles = ['ollama], tailnet_ip = "100.64.0.1", tags = ["tag:server"] },
        { name = "nas", platform = 'linux, ram_gb = 8, tailnet_ip = "100.64.0.2" },
      ],
      users = [ { name = "alice", email = "alice@example.org" }, { name = "bob" } ],
      groups.admins = ["alice"],
      devices = [
        { name = "alice-laptop", user = "alice", kind = 'laptop, os = 'linux, tailnet_ip = "100.64.0.10" },
        { name = "bob-phone", user = "bob", kind = 'phone, os = 'ios, tailnet_ip = "100.64.0.11" },
        { name = "bob-ci", user = "bob", kind = 'server, os = 'linux, tags = ["tag:ci"], tailnet_ip = "100.64.1.5" },
      ],
      acl.tag_owners = { server = ["group:admins"], ci = ["bob@"] },
      acl.hosts = { storage = "100.64.0.2", lan = "100.64.0.0/24" },
    }"#;

    fn policy(rules: &str) -> (Policy, Spec) {
        let spec = load(&format!("{TAILNET} & {{ acl.rules = {rules} }}"), "ncl").spec;
        (Policy::compile(&spec), spec)
    }

    /// Which rule (if any) lets `src` reach `dst:port` over TCP.
    fn decide(p: &Policy, src: &str, dst: &str, port: u16) -> Option<usize> {
        p.accepting_rule(
            p.node(src).unwrap(),
            p.node(dst).unwrap(),
            port,
            Protocol::Tcp,
        )
    }

    #[test]
    fn everything_not_accepted_is_denied() {
        let (p, _) = policy("[]");
        assert_eq!(decide(&p, "alice-laptop", "server", 22), None);
    }

    #[test]
    fn a_user_reaches_through_their_untagged_devices_only() {
        let (p, _) = policy(r#"[ { src = ["bob@"], dst = ["server:22"] } ]"#);
        assert_eq!(decide(&p, "bob-phone", "server", 22), Some(0));
        // A tagged device has lost its user's identity.
        assert_eq!(decide(&p, "bob-ci", "server", 22), None);
        assert_eq!(decide(&p, "alice-laptop", "server", 22), None);
    }

    #[test]
    fn an_email_style_user_matches_the_user_with_that_email() {
        let (p, _) = policy(r#"[ { src = ["alice@example.org"], dst = ["server:22"] } ]"#);
        assert_eq!(decide(&p, "alice-laptop", "server", 22), Some(0));
    }

    #[test]
    fn groups_hosts_tags_and_aliases_select_their_nodes() {
        let (p, _) = policy(
            r#"[
              { src = ["group:admins"], dst = ["tag:server:443"] },
              { src = ["tag:ci"], dst = ["storage:445"] },
              { src = ["bob-phone"], dst = ["nas:80"] },
            ]"#,
        );
        assert_eq!(decide(&p, "alice-laptop", "server", 443), Some(0));
        assert_eq!(decide(&p, "bob-phone", "server", 443), None);
        assert_eq!(decide(&p, "bob-ci", "nas", 445), Some(1));
        assert_eq!(decide(&p, "bob-phone", "nas", 80), Some(2));
        assert_eq!(decide(&p, "bob-phone", "nas", 445), None);
    }

    #[test]
    fn ports_match_as_star_single_lists_and_ranges() {
        let (p, _) = policy(
            r#"[
              { src = ["*"], dst = ["server:22,80,8000-8100"] },
              { src = ["group:admins"], dst = ["nas:*"] },
            ]"#,
        );
        for port in [22, 80, 8000, 8050, 8100] {
            assert_eq!(
                decide(&p, "bob-phone", "server", port),
                Some(0),
                "port {port}"
            );
        }
        for port in [21, 81, 7999, 8101] {
            assert_eq!(decide(&p, "bob-phone", "server", port), None, "port {port}");
        }
        assert_eq!(decide(&p, "alice-laptop", "nas", 65535), Some(1));
    }

    #[test]
    fn star_sources_include_every_node_and_ip_prefixes_select_by_address() {
        let (p, _) = policy(r#"[ { src = ["lan"], dst = ["100.64.0.1:443"] } ]"#);
        // `lan` is 100.64.0.0/24: the laptop and phone, not the CI box at 100.64.1.5.
        assert_eq!(decide(&p, "alice-laptop", "server", 443), Some(0));
        assert_eq!(decide(&p, "bob-phone", "server", 443), Some(0));
        assert_eq!(decide(&p, "bob-ci", "server", 443), None);
    }

    #[test]
    fn autogroups_member_tagged_and_self() {
        let (p, _) = policy(
            r#"[
              { src = ["autogroup:member"], dst = ["autogroup:self:*"] },
              { src = ["autogroup:tagged"], dst = ["nas:9000"] },
            ]"#,
        );
        assert_eq!(decide(&p, "bob-phone", "bob-phone", 1), Some(0));
        assert_eq!(decide(&p, "bob-phone", "alice-laptop", 1), None);
        assert_eq!(decide(&p, "bob-ci", "nas", 9000), Some(1));
        assert_eq!(decide(&p, "bob-phone", "nas", 9000), None);
    }

    #[test]
    fn a_protocol_limits_the_rule() {
        let (p, _) = policy(r#"[ { src = ["*"], dst = ["server:53"], proto = 'udp } ]"#);
        let (phone, server) = (p.node("bob-phone").unwrap(), p.node("server").unwrap());
        assert_eq!(p.accepting_rule(phone, server, 53, Protocol::Udp), Some(0));
        assert_eq!(p.accepting_rule(phone, server, 53, Protocol::Tcp), None);
    }

    #[test]
    fn the_first_accepting_rule_is_named() {
        let (p, _) =
            policy(r#"[ { src = ["bob@"], dst = ["nas:80"] }, { src = ["*"], dst = ["nas:*"] } ]"#);
        assert_eq!(decide(&p, "bob-phone", "nas", 80), Some(0));
        assert_eq!(decide(&p, "bob-phone", "nas", 81), Some(1));
    }
}
