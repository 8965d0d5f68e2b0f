//! Evaluation of the policy with Headscale's semantics, for what a spec can
//! express: users (`NAME@`, matching the untagged nodes of that user; tagged
//! nodes lose their user's identity), groups, tags, host and device names,
//! `acl.hosts` aliases, IPs and prefixes, `*`, and the autogroups `member`,
//! `tagged` and `self`; ports as `*`, numbers, lists and ranges; protocols.
//!
//! Hosts belong to no user in the spec: rules reach them by name, address,
//! tag or `*`.
//!
//! The policy is compiled once, the way Tailscale's packet filter compiles
//! its rules: the nodes are indexed by name, user, tag and address, so an
//! alias resolves without scanning every node, and the rules are indexed by
//! destination and port, so "which rule lets this node reach that port"
//! looks only at the rules that name that destination and port. The cost of
//! a question no longer grows with the number of rules and nodes.

use super::alias::{Alias, Ports, parse_alias, parse_ports, split_destination};
use crate::model::{Protocol, Spec};
use crate::net::Ipv4Net;
use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
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

impl Node {
    /// The hosts of `spec`, then its devices, in spec order.
    pub fn all(spec: &Spec) -> Vec<Self> {
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
        nodes
    }
}

/// The nodes an alias selects.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selection {
    /// Every node (`*`).
    All,
    /// These nodes: indices, ascending, without repeats.
    Nodes(Vec<usize>),
}

impl Selection {
    fn contains(&self, node: usize) -> bool {
        match self {
            Self::All => true,
            Self::Nodes(nodes) => nodes.binary_search(&node).is_ok(),
        }
    }

    fn is_empty(&self, total: usize) -> bool {
        match self {
            Self::All => total == 0,
            Self::Nodes(nodes) => nodes.is_empty(),
        }
    }
}

/// Who, among the sources of a rule, it lets reach another node.
#[derive(Debug, Clone, Copy, Default)]
struct Reach {
    /// Every source: a destination holds two nodes or more.
    everyone: bool,
    /// Every source but this node: the destinations hold only it.
    all_but: Option<usize>,
    /// Sources with another untagged node of their user (`autogroup:self`).
    same_user: bool,
}

/// One compiled rule.
#[derive(Debug, Clone)]
struct Rule {
    proto: Option<Protocol>,
    src: Selection,
    reach: Reach,
}

/// A destination in the rule index: a node, every node, or the source's own
/// nodes (`autogroup:self`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Target {
    Node(usize),
    All,
    SameUser,
}

/// The nodes by name, user, tag and address.
#[derive(Debug, Clone, Default)]
struct NodeIndex {
    by_name: HashMap<String, Vec<usize>>,
    /// The untagged nodes of each user.
    by_user: HashMap<String, Vec<usize>>,
    /// The nodes with each tag (`tag:NAME`).
    by_tag: HashMap<String, Vec<usize>>,
    by_ip: HashMap<Ipv4Addr, Vec<usize>>,
    /// `(address, node)` of the nodes with an address, ascending.
    ips: Vec<(u32, usize)>,
    /// Untagged nodes with a user (`autogroup:member`).
    members: Vec<usize>,
    /// Tagged nodes (`autogroup:tagged`).
    tagged: Vec<usize>,
    /// The name of the first user with each e-mail address.
    by_email: HashMap<String, String>,
}

/// The spec's policy, resolved against its nodes.
#[derive(Debug, Clone)]
pub struct Policy {
    nodes: Vec<Node>,
    index: NodeIndex,
    rules: Vec<Rule>,
    /// The port sets of the destinations (indexed by [`Self::wide`]).
    ports: Vec<Ports>,
    /// The rules (ascending) that accept a target on one port, from the
    /// destinations that list single ports.
    exact: HashMap<(Target, u16), Vec<usize>>,
    /// `(rule, port set)`, rules ascending, for the destinations with `*`
    /// or a range.
    wide: HashMap<Target, Vec<(usize, usize)>>,
    /// The nodes some rule names as a destination.
    destination: Vec<bool>,
    /// Whether some rule names every node (`*`) as a destination.
    all_destination: bool,
    /// Which nodes some rule lets reach another node, worked out when first asked.
    reaches: OnceCell<Vec<bool>>,
}

/// Destinations listing at most this many single ports are indexed port by
/// port; others are checked range by range.
const EXACT_PORTS: usize = 16;

impl Policy {
    /// Resolves every rule of `spec`. Malformed entries select nothing
    /// (`privai check` reports them).
    pub fn compile(spec: &Spec) -> Self {
        let nodes = Node::all(spec);
        let index = NodeIndex::new(spec, &nodes);
        let mut policy = Self {
            destination: vec![false; nodes.len()],
            nodes,
            index,
            rules: Vec::with_capacity(spec.acl.rules.len()),
            ports: Vec::new(),
            exact: HashMap::new(),
            wide: HashMap::new(),
            all_destination: false,
            reaches: OnceCell::new(),
        };
        for (r, rule) in spec.acl.rules.iter().enumerate() {
            let sources: Vec<Selection> =
                rule.src.iter().map(|a| policy.selection(spec, a)).collect();
            let src = union(sources);
            let mut reach = Reach::default();
            for d in &rule.dst {
                let Some((target, ports)) = split_destination(d) else {
                    continue;
                };
                let Ok(ports) = parse_ports(ports) else {
                    continue;
                };
                if target.trim() == "autogroup:self" {
                    reach.same_user = true;
                    policy.add(Target::SameUser, r, ports);
                    continue;
                }
                let selected = policy.selection(spec, target);
                let (count, first) = match &selected {
                    Selection::All => (policy.nodes.len(), 0),
                    Selection::Nodes(nodes) => (nodes.len(), nodes.first().copied().unwrap_or(0)),
                };
                match count {
                    0 => {}
                    1 => match reach.all_but {
                        Some(other) if other != first => reach.everyone = true,
                        _ => reach.all_but = Some(first),
                    },
                    _ => reach.everyone = true,
                }
                match selected {
                    Selection::All => {
                        policy.all_destination = true;
                        policy.add(Target::All, r, ports);
                    }
                    Selection::Nodes(nodes) => {
                        for &node in &nodes {
                            policy.destination[node] = true;
                        }
                        policy.add_each(&nodes, r, ports);
                    }
                }
            }
            policy.rules.push(Rule {
                proto: rule.proto,
                src,
                reach,
            });
        }
        policy
    }

    /// Indexes destination `target` of rule `rule` on `ports`.
    fn add(&mut self, target: Target, rule: usize, ports: Ports) {
        self.add_each_target(std::iter::once(target), rule, ports);
    }

    fn add_each(&mut self, nodes: &[usize], rule: usize, ports: Ports) {
        self.add_each_target(nodes.iter().map(|&n| Target::Node(n)), rule, ports);
    }

    fn add_each_target(
        &mut self,
        targets: impl Iterator<Item = Target>,
        rule: usize,
        ports: Ports,
    ) {
        let single: Option<Vec<u16>> = match &ports {
            Ports::Ranges(ranges)
                if ranges.len() <= EXACT_PORTS && ranges.iter().all(|(a, b)| a == b) =>
            {
                Some(ranges.iter().map(|&(a, _)| a).collect())
            }
            _ => None,
        };
        match single {
            Some(list) => {
                for target in targets {
                    for &port in &list {
                        let rules = self.exact.entry((target, port)).or_default();
                        if rules.last() != Some(&rule) {
                            rules.push(rule);
                        }
                    }
                }
            }
            None => {
                let set = self.ports.len();
                self.ports.push(ports);
                for target in targets {
                    self.wide.entry(target).or_default().push((rule, set));
                }
            }
        }
    }

    /// The nodes, hosts first, in spec order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The index of the node named `name`.
    pub fn node(&self, name: &str) -> Option<usize> {
        self.index.by_name.get(name).map(|nodes| nodes[0])
    }

    /// The nodes an alias selects (as a source, or a destination target).
    pub fn select(&self, spec: &Spec, alias: &str) -> BTreeSet<usize> {
        match self.selection(spec, alias) {
            Selection::All => (0..self.nodes.len()).collect(),
            Selection::Nodes(nodes) => nodes.into_iter().collect(),
        }
    }

    /// The hosts (as node indices) an alias selects, without listing every
    /// device when it selects every node.
    pub fn select_hosts(&self, spec: &Spec, alias: &str) -> Vec<usize> {
        let is_host = |&n: &usize| self.nodes[n].host;
        match self.selection(spec, alias) {
            Selection::All => (0..self.nodes.len()).take_while(is_host).collect(),
            Selection::Nodes(nodes) => nodes.into_iter().filter(is_host).collect(),
        }
    }

    fn selection(&self, spec: &Spec, alias: &str) -> Selection {
        let index = &self.index;
        let list =
            |found: Option<&Vec<usize>>| Selection::Nodes(found.cloned().unwrap_or_default());
        match parse_alias(alias) {
            Alias::Any => Selection::All,
            Alias::Ip { cidr } => match (cidr, alias.trim()) {
                (true, text) => match Ipv4Net::parse(text) {
                    Some(net) => {
                        let (first, last) = net.bounds();
                        let (first, last) = (u32::from(first), u32::from(last));
                        let start = index.ips.partition_point(|&(ip, _)| ip < first);
                        let end = index.ips.partition_point(|&(ip, _)| ip <= last);
                        sorted(index.ips[start..end].iter().map(|&(_, n)| n).collect())
                    }
                    None => Selection::Nodes(Vec::new()),
                },
                (false, text) => match text.parse::<Ipv4Addr>() {
                    Ok(ip) => list(index.by_ip.get(&ip)),
                    Err(_) => Selection::Nodes(Vec::new()),
                },
            },
            Alias::User(text) => {
                let name = text.strip_suffix('@').unwrap_or(text);
                let user = index.by_email.get(text).map_or(name, String::as_str);
                list(index.by_user.get(user))
            }
            Alias::Group(group) => sorted(
                spec.groups
                    .get(group)
                    .into_iter()
                    .flatten()
                    .filter_map(|member| index.by_user.get(member.trim_end_matches('@')))
                    .flatten()
                    .copied()
                    .collect(),
            ),
            Alias::Tag(_) => list(index.by_tag.get(alias.trim())),
            Alias::Autogroup("member") => Selection::Nodes(index.members.clone()),
            Alias::Autogroup("tagged") => Selection::Nodes(index.tagged.clone()),
            Alias::Name(name) => match spec.acl.hosts.get(name) {
                Some(ip) => self.selection(spec, ip),
                None => list(index.by_name.get(name)),
            },
            Alias::Autogroup(_) | Alias::Prefixed(_) | Alias::Empty => Selection::Nodes(Vec::new()),
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
        let accepts = |rule: usize| {
            let rule = &self.rules[rule];
            rule.proto.is_none_or(|p| p == proto) && rule.src.contains(src)
        };
        let mut best = usize::MAX;
        let targets = [
            Some(Target::Node(dst)),
            Some(Target::All),
            self.same_user(src, dst).then_some(Target::SameUser),
        ];
        for target in targets.into_iter().flatten() {
            let exact = self.exact.get(&(target, port)).into_iter().flatten();
            if let Some(&r) = exact.take_while(|&&r| r < best).find(|&&r| accepts(r)) {
                best = r;
            }
            let wide = self.wide.get(&target).into_iter().flatten();
            if let Some(&(r, _)) = wide
                .take_while(|&&(r, _)| r < best)
                .find(|&&(r, set)| ports_contain(&self.ports[set], port) && accepts(r))
            {
                best = r;
            }
        }
        (best != usize::MAX).then_some(best)
    }

    /// Whether some rule lets `src` reach another node on some port.
    pub fn reaches_any_node(&self, src: usize) -> bool {
        self.reaches.get_or_init(|| self.all_reaches())[src]
    }

    /// For every node, whether some rule lets it reach another node.
    fn all_reaches(&self) -> Vec<bool> {
        let total = self.nodes.len();
        let mut reaches = vec![false; total];
        let user_peers = |node: usize| {
            let n = &self.nodes[node];
            n.tags.is_empty()
                && n.user
                    .as_ref()
                    .and_then(|u| self.index.by_user.get(u))
                    .is_some_and(|nodes| nodes.len() >= 2)
        };
        for rule in &self.rules {
            let reach = rule.reach;
            if !(reach.everyone || reach.all_but.is_some() || reach.same_user) {
                continue;
            }
            let mut visit = |src: usize| {
                if reach.everyone
                    || reach.all_but.is_some_and(|only| only != src)
                    || (reach.same_user && user_peers(src))
                {
                    reaches[src] = true;
                }
            };
            match &rule.src {
                Selection::All => (0..total).for_each(&mut visit),
                Selection::Nodes(nodes) => nodes.iter().copied().for_each(&mut visit),
            }
        }
        reaches
    }

    /// Whether some rule names node `dst` as a destination.
    pub fn is_destination(&self, dst: usize) -> bool {
        self.all_destination || self.destination[dst]
    }

    fn same_user(&self, src: usize, dst: usize) -> bool {
        let (s, d) = (&self.nodes[src], &self.nodes[dst]);
        s.tags.is_empty() && d.tags.is_empty() && s.user.is_some() && s.user == d.user
    }

    /// Whether rule `index` selects no source node at all.
    pub fn rule_matches_nobody(&self, index: usize) -> bool {
        self.rules
            .get(index)
            .is_some_and(|r| r.src.is_empty(self.nodes.len()))
    }
}

impl NodeIndex {
    fn new(spec: &Spec, nodes: &[Node]) -> Self {
        let mut index = Self::default();
        for (i, node) in nodes.iter().enumerate() {
            index.by_name.entry(node.name.clone()).or_default().push(i);
            if node.tags.is_empty() {
                if let Some(user) = &node.user {
                    index.by_user.entry(user.clone()).or_default().push(i);
                    index.members.push(i);
                }
            } else {
                index.tagged.push(i);
            }
            for tag in &node.tags {
                let tagged = index.by_tag.entry(tag.clone()).or_default();
                if tagged.last() != Some(&i) {
                    tagged.push(i);
                }
            }
            if let Some(ip) = node.ip {
                index.by_ip.entry(ip).or_default().push(i);
                index.ips.push((u32::from(ip), i));
            }
        }
        index.ips.sort_unstable();
        for user in &spec.users {
            if let Some(email) = &user.email {
                index
                    .by_email
                    .entry(email.clone())
                    .or_insert_with(|| user.name.clone());
            }
        }
        index
    }
}

/// The selection of these nodes, in any order and with repeats.
fn sorted(mut nodes: Vec<usize>) -> Selection {
    nodes.sort_unstable();
    nodes.dedup();
    Selection::Nodes(nodes)
}

/// The union of selections.
fn union(selections: Vec<Selection>) -> Selection {
    if selections.contains(&Selection::All) {
        return Selection::All;
    }
    let mut selections = selections.into_iter();
    match (selections.next(), selections.len()) {
        (None, _) => Selection::Nodes(Vec::new()),
        (Some(only), 0) => only,
        (Some(Selection::Nodes(mut first)), _) => {
            for s in selections {
                if let Selection::Nodes(nodes) = s {
                    first.extend(nodes);
                }
            }
            sorted(first)
        }
        (Some(Selection::All), _) => Selection::All,
    }
}

fn ports_contain(ports: &Ports, port: u16) -> bool {
    match ports {
        Ports::Any => true,
        Ports::Ranges(ranges) => ranges.iter().any(|&(a, b)| (a..=b).contains(&port)),
    }
}

#[cfg(test)]
mod tests;
