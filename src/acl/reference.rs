//! The evaluator as first written: every question answered by scanning
//! every node and every rule. Kept for the tests only, as the reference the
//! indexed [`super::eval::Policy`] must agree with on every question.

use crate::acl::alias::{Alias, Ports, parse_alias, parse_ports, split_destination};
use crate::acl::eval::Node;
use crate::model::{Protocol, Spec};
use crate::net::Ipv4Net;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

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
pub struct Reference {
    nodes: Vec<Node>,
    rules: Vec<Rule>,
}

impl Reference {
    /// Resolves every rule of `spec`. Malformed entries select nothing
    /// (`privai check` reports them).
    pub fn compile(spec: &Spec) -> Self {
        let nodes = Node::all(spec);
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
