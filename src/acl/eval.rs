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

    /// Every question the checks and the matrix ask, put to the indexed
    /// policy and to the reference evaluator (which scans every node and
    /// rule): the answers must be the same.
    fn assert_agrees_with_reference(spec: &Spec, aliases: &[&str], ports: &[u16]) {
        let fast = Policy::compile(spec);
        let slow = crate::acl::reference::Reference::compile(spec);
        assert_eq!(fast.nodes(), slow.nodes());
        let n = fast.nodes().len();
        for node in fast.nodes() {
            assert_eq!(
                fast.node(&node.name),
                slow.node(&node.name),
                "{}",
                node.name
            );
        }
        assert_eq!(fast.node("no-such-node"), None);
        for alias in aliases {
            assert_eq!(
                fast.select(spec, alias),
                slow.select(spec, alias),
                "alias `{alias}`"
            );
        }
        for i in 0..=spec.acl.rules.len() {
            assert_eq!(
                fast.rule_matches_nobody(i),
                slow.rule_matches_nobody(i),
                "rule {i}"
            );
        }
        for node in 0..n {
            assert_eq!(
                fast.reaches_any_node(node),
                slow.reaches_any_node(node),
                "reach of {node}"
            );
            assert_eq!(
                fast.is_destination(node),
                slow.is_destination(node),
                "destination {node}"
            );
        }
        for src in 0..n {
            for dst in 0..n {
                for &port in ports {
                    for proto in [Protocol::Tcp, Protocol::Udp, Protocol::Icmp] {
                        assert_eq!(
                            fast.accepting_rule(src, dst, port, proto),
                            slow.accepting_rule(src, dst, port, proto),
                            "{src} -> {dst}:{port} {proto:?}"
                        );
                    }
                }
            }
        }
    }

    /// Aliases of every kind, well and badly formed.
    const ALIASES: &[&str] = &[
        "*",
        "alice@",
        "bob@",
        "alice@example.org",
        "nobody@",
        "group:admins",
        "group:none",
        "tag:server",
        "tag:ci",
        "tag:none",
        "autogroup:member",
        "autogroup:tagged",
        "autogroup:self",
        "autogroup:other",
        "storage",
        "lan",
        "server",
        "nas",
        "bob-phone",
        "100.64.0.1",
        "100.64.0.0/24",
        "100.64.0.0/16",
        "0.0.0.0/0",
        "100.64.1.5/32",
        "fd7a::/48",
        "fd7a::1",
        "grp:x",
        "",
        " server ",
        "unknown",
    ];

    const PORTS: &[u16] = &[
        1, 21, 22, 53, 80, 81, 443, 445, 999, 1000, 1500, 2000, 2001, 3000, 8000, 8100, 9000,
        18789, 65535,
    ];

    #[test]
    fn the_indexed_policy_answers_like_the_reference_on_every_kind_of_alias() {
        let (_, spec) = policy(
            r#"[
              { src = ["group:admins"], dst = ["tag:server:443", "nas:22,80"] },
              { src = ["tag:ci", "bob@"], dst = ["storage:445", "lan:1000-2000,3000"] },
              { src = ["bob-phone"], dst = ["nas:80"], proto = 'udp },
              { src = ["*"], dst = ["server:22,80,8000-8100"] },
              { src = ["autogroup:member"], dst = ["autogroup:self:*"] },
              { src = ["autogroup:tagged"], dst = ["nas:9000", "*:53"], proto = 'udp },
              { src = ["alice@example.org"], dst = ["100.64.0.0/16:*"] },
              { src = ["lan"], dst = ["100.64.0.1:443", "bob-phone:1"] },
              { src = ["nobody@", "group:none"], dst = ["server:22"] },
              { src = ["bob-ci"], dst = ["bob-ci:22"] },
              { src = ["server"], dst = ["autogroup:self:22", "fd7a::/48:80", "grp:x:1", "server:0", "server"] },
              { src = ["100.64.1.5"], dst = ["*:*"], proto = 'icmp },
            ]"#,
        );
        assert_agrees_with_reference(&spec, ALIASES, PORTS);
    }

    #[test]
    fn the_indexed_policy_answers_like_the_reference_on_a_generated_tailnet() {
        use crate::model::{AclAction, AclRule, Device, DeviceKind, DeviceOs, User};
        let (_, mut spec) = policy("[]");
        let users = 12;
        spec.users = (0..users)
            .map(|u| User {
                name: format!("u{u}"),
                display_name: None,
                email: (u % 3 == 0).then(|| format!("u{u}@example.org")),
            })
            .collect();
        for g in 0..4 {
            let members = (0..users)
                .filter(|u| u % 4 == g)
                .map(|u| format!("u{u}"))
                .collect();
            spec.groups.insert(format!("g{g}"), members);
        }
        spec.devices = (0..60)
            .map(|d| Device {
                name: format!("d{}", d % 57),          // a few names twice
                user: format!("u{}", d % (users + 1)), // and a user nobody declared
                kind: DeviceKind::Laptop,
                os: DeviceOs::Linux,
                tags: match d % 7 {
                    0 => vec![format!("tag:t{}", d % 3)],
                    1 => vec![
                        "tag:t1".to_owned(),
                        "tag:t1".to_owned(),
                        "tag:t2".to_owned(),
                    ],
                    _ => Vec::new(),
                },
                tailnet_ip: (d % 5 != 0).then(|| format!("100.64.{}.{}", d % 3, 1 + d % 40)),
                ephemeral: false,
                reusable: false,
            })
            .collect();
        spec.acl
            .hosts
            .insert("half".to_owned(), "100.64.1.0/25".to_owned());
        spec.acl
            .hosts
            .insert("one".to_owned(), "100.64.2.3".to_owned());
        let sources = |r: usize| match r % 9 {
            0 => vec![format!("group:g{}", r % 5)],
            1 => vec![format!("u{}@", r % 14)],
            2 => vec![format!("tag:t{}", r % 4)],
            3 => vec![format!("d{}", r % 58)],
            4 => vec!["half".to_owned(), format!("u{}@example.org", r % 12)],
            5 => vec!["autogroup:member".to_owned()],
            6 => vec![format!("100.64.{}.0/24", r % 4)],
            7 => vec!["*".to_owned()],
            _ => vec!["autogroup:tagged".to_owned(), "one".to_owned()],
        };
        let destinations = |r: usize| match r % 11 {
            0 => vec![format!("d{}:22,80,443", (r * 7) % 58)],
            1 => vec![format!("tag:t{}:1000-2000,3000", r % 4)],
            2 => vec!["autogroup:self:22".to_owned()],
            3 => vec![format!("group:g{}:*", r % 4)],
            4 => vec![format!("100.64.{}.{}:80", r % 3, 1 + r % 40)],
            5 => vec!["server:443".to_owned(), format!("d{}:443", r % 58)],
            6 => vec!["*:8000-8100".to_owned()],
            7 => vec!["half:53".to_owned(), "one:*".to_owned()],
            8 => vec![format!("u{}@:22", r % 12)],
            9 => vec!["autogroup:member:443".to_owned()],
            _ => vec![format!("d{}:1-65535", r % 58)],
        };
        spec.acl.rules = (0..120)
            .map(|r| AclRule {
                action: AclAction::Accept,
                src: sources(r),
                dst: destinations(r),
                proto: [None, Some(Protocol::Tcp), Some(Protocol::Udp)][r % 3],
                comment: None,
            })
            .collect();
        let mut aliases: Vec<String> = ALIASES.iter().map(|a| a.to_string()).collect();
        aliases.extend(
            [
                "half",
                "one",
                "tag:t0",
                "tag:t1",
                "tag:t2",
                "g1",
                "u3@example.org",
            ]
            .map(String::from),
        );
        aliases.extend((0..60).map(|d| format!("d{d}")));
        aliases.extend((0..14).map(|u| format!("u{u}@")));
        aliases.extend((0..5).map(|g| format!("group:g{g}")));
        let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
        assert_agrees_with_reference(&spec, &aliases, PORTS);
    }
}
