//! References between the parts of the tailnet: users, groups, hosts,
//! devices, tags and the ACL policy.
//!
//! Headscale resolves every alias of the policy by name. A name that points
//! nowhere is either an error when Headscale loads the policy or, worse, a
//! rule that silently matches nothing. This pass finds those before anything
//! is deployed:
//!
//! - PRV010: a device or group names a user that `users` does not declare;
//! - PRV011: an ACL rule, test or tag owner names an unknown user, group,
//!   autogroup, host or device;
//! - PRV012: two hosts/devices, users or models share a name, or an
//!   `acl.hosts` alias takes the name of a host or device;
//! - PRV013: two hosts or devices pin the same tailnet address;
//! - PRV014: a tailnet address lies outside `headscale.prefixes.v4` (or on an
//!   address Tailscale reserves);
//! - PRV017: an ACL entry is malformed (user without `@`, destination without
//!   ports, bad ports, an alias where Headscale does not allow it);
//! - PRV018: a tag has no owner in `acl.tag_owners`, or is not a tag name;
//! - PRV019: a group is empty, or lists something other than a user.

use crate::codes::{
    ACL_SYNTAX, DUPLICATE_IP, DUPLICATE_NAME, EMPTY_GROUP, IP_OUTSIDE_PREFIX, TAG_WITHOUT_OWNER,
    UNKNOWN_ACL_REF, UNKNOWN_USER,
};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::{Protocol, Spec};
use crate::net::Ipv4Net;
use crate::spec::closest;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Checks the cross-references of the tailnet and of its ACL policy.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    duplicate_names(spec, out);
    tailnet_ips(spec, out);
    device_owners(spec, out);
    group_members(spec, out);
    empty_groups(spec, out);
    node_tags(spec, out);
    acl_hosts(spec, out);
    let policy = Policy::new(spec);
    policy.tag_owners(out);
    policy.rules(out);
    policy.tests(out);
}

// ---------------------------------------------------------------------------
// Names and addresses of hosts, devices, users and models.

fn acl_path() -> SpecPath {
    SpecPath::root().key("acl")
}

/// Host and device names with the path of each, hosts first: one namespace.
fn node_names(spec: &Spec) -> Vec<(&str, SpecPath)> {
    let hosts = spec.hosts.iter().enumerate().map(|(i, h)| {
        let path = SpecPath::root().key("hosts").index(i).key("name");
        (h.name.as_str(), path)
    });
    let devices = spec.devices.iter().enumerate().map(|(i, d)| {
        let path = SpecPath::root().key("devices").index(i).key("name");
        (d.name.as_str(), path)
    });
    hosts.chain(devices).collect()
}

/// Reports each name of `named` seen before, at its second occurrence.
fn report_duplicates<'a>(
    named: impl IntoIterator<Item = (&'a str, SpecPath)>,
    what: &str,
    hint: &str,
    out: &mut Vec<Diagnostic>,
) {
    let mut first: BTreeMap<&str, SpecPath> = BTreeMap::new();
    for (name, path) in named {
        match first.get(name) {
            Some(earlier) => out.push(
                Diagnostic::error(DUPLICATE_NAME, format!("{what} `{name}` is declared twice"))
                    .at(path)
                    .hint(hint)
                    .note(format!("first declared at `{earlier}`")),
            ),
            None => {
                first.insert(name, path);
            }
        }
    }
}

fn duplicate_names(spec: &Spec, out: &mut Vec<Diagnostic>) {
    report_duplicates(
        node_names(spec),
        "the node name",
        "hosts and devices share one namespace (their tailnet names and ACL aliases): rename one of them",
        out,
    );
    let users = spec.users.iter().enumerate().map(|(i, u)| {
        let path = SpecPath::root().key("users").index(i).key("name");
        (u.name.as_str(), path)
    });
    report_duplicates(
        users,
        "the user",
        "declare each user once: remove this entry or rename it",
        out,
    );
    let models = spec.ollama.models.iter().enumerate().map(|(i, m)| {
        let path = SpecPath::root()
            .key("ollama")
            .key("models")
            .index(i)
            .key("name");
        (m.name.as_str(), path)
    });
    report_duplicates(
        models,
        "the model",
        "list each model once: remove this entry",
        out,
    );
}

/// Pinned tailnet addresses of hosts and devices: (node, address, path).
fn node_ips(spec: &Spec) -> Vec<(&str, &str, SpecPath)> {
    let hosts = spec.hosts.iter().enumerate().filter_map(|(i, h)| {
        let path = SpecPath::root().key("hosts").index(i).key("tailnet_ip");
        Some((h.name.as_str(), h.tailnet_ip.as_deref()?, path))
    });
    let devices = spec.devices.iter().enumerate().filter_map(|(i, d)| {
        let path = SpecPath::root().key("devices").index(i).key("tailnet_ip");
        Some((d.name.as_str(), d.tailnet_ip.as_deref()?, path))
    });
    hosts.chain(devices).collect()
}

fn tailnet_ips(spec: &Spec, out: &mut Vec<Diagnostic>) {
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

fn user_names(spec: &Spec) -> Vec<String> {
    spec.users.iter().map(|u| u.name.clone()).collect()
}

/// "did you mean `X`?" when a candidate is close to `word`, else `otherwise`.
fn suggest(word: &str, candidates: &[String], otherwise: impl FnOnce() -> String) -> String {
    match closest(word, candidates) {
        Some(near) => format!("did you mean `{near}`?"),
        None => otherwise(),
    }
}

/// A hint for a user name that `users` does not declare.
fn unknown_user_hint(name: &str, users: &[String]) -> String {
    if let Some(plain) = name.strip_suffix('@')
        && users.iter().any(|u| u == plain)
    {
        return format!("write the plain user name `{plain}`; privai adds the `@`");
    }
    if let Some(near) = closest(name, users) {
        return format!("did you mean `{near}`? If not, add `{name}` to `users`");
    }
    if users.is_empty() {
        format!("add it to `users`: `users = [{{ name = \"{name}\" }}]`")
    } else {
        format!("add it to `users`, or use one of {}", quoted(users))
    }
}

/// `` `a`, `b` `` for a hint.
fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn device_owners(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let users = user_names(spec);
    for (i, device) in spec.devices.iter().enumerate() {
        if !users.contains(&device.user) {
            out.push(
                Diagnostic::error(
                    UNKNOWN_USER,
                    format!(
                        "device `{}` belongs to `{}`, which is not a declared user",
                        device.name, device.user
                    ),
                )
                .at(SpecPath::root().key("devices").index(i).key("user"))
                .hint(unknown_user_hint(&device.user, &users)),
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Groups and tags.

fn group_members(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let users = user_names(spec);
    for (group, members) in &spec.groups {
        let path = SpecPath::root().key("groups").key(group);
        if group.starts_with("group:") {
            out.push(
                Diagnostic::error(
                    ACL_SYNTAX,
                    format!("the group key `{group}` repeats `group:`"),
                )
                .at(path.clone())
                .hint("write the key without `group:`; privai adds it in the policy"),
            );
        }
        for (j, member) in members.iter().enumerate() {
            if let Some(d) = group_member(group, member, &users) {
                out.push(d.at(path.index(j)));
            }
        }
    }
}

/// What is wrong with `member` of `group`, if anything.
fn group_member(group: &str, member: &str, users: &[String]) -> Option<Diagnostic> {
    if member.starts_with("group:") {
        return Some(
            Diagnostic::error(
                EMPTY_GROUP,
                format!("group `{group}` lists the group `{member}`: Headscale groups cannot contain groups"),
            )
            .hint(format!("list the users of `{member}` in `groups.{group}` instead")),
        );
    }
    if member.contains(':') {
        return Some(
            Diagnostic::error(
                EMPTY_GROUP,
                format!("group `{group}` lists `{member}`: groups contain users only"),
            )
            .hint("list plain user names from `users`"),
        );
    }
    if let Some(plain) = member.strip_suffix('@') {
        return Some(
            Diagnostic::error(
                EMPTY_GROUP,
                format!("group `{group}` lists `{member}` with an `@`"),
            )
            .hint(format!(
                "write `{plain}`: groups list plain user names and privai writes the `@`"
            )),
        );
    }
    if users.iter().any(|u| u == member) {
        return None;
    }
    Some(
        Diagnostic::error(
            UNKNOWN_USER,
            format!("group `{group}` lists `{member}`, which is not a declared user"),
        )
        .hint(unknown_user_hint(member, users)),
    )
}

/// The targets of the destinations `list` (`box` of `box:443`).
fn targets(list: &[String]) -> impl Iterator<Item = &str> {
    list.iter()
        .filter_map(|d| split_destination(d).map(|(target, _)| target))
}

/// Groups named by ACL rules and tests (not by tag owners).
fn groups_in_policy(spec: &Spec) -> BTreeSet<&str> {
    let mut aliases: Vec<&str> = Vec::new();
    for rule in &spec.acl.rules {
        aliases.extend(rule.src.iter().map(String::as_str));
        aliases.extend(targets(&rule.dst));
    }
    for test in &spec.acl.tests {
        aliases.push(&test.src);
        aliases.extend(targets(&test.accept));
        aliases.extend(targets(&test.deny));
    }
    aliases
        .into_iter()
        .filter_map(|a| match parse_alias(a) {
            Alias::Group(group) => Some(group),
            _ => None,
        })
        .collect()
}

fn empty_groups(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let used = groups_in_policy(spec);
    for group in spec
        .groups
        .iter()
        .filter(|(_, m)| m.is_empty())
        .map(|(g, _)| g)
    {
        let path = SpecPath::root().key("groups").key(group);
        let found = if used.contains(group.as_str()) {
            Diagnostic::error(
                EMPTY_GROUP,
                format!("group `{group}` has no members, so the ACL entries that name `group:{group}` never match"),
            )
            .hint(format!("add users to `groups.{group}`, or remove the entries that name it"))
        } else {
            Diagnostic::warning(EMPTY_GROUP, format!("group `{group}` has no members"))
                .hint(format!("add users to `groups.{group}`, or remove it"))
        };
        out.push(found.at(path));
    }
}

/// Whether `name` (after `tag:`) is a tag name Headscale accepts.
fn valid_tag_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_graphic() && c != ':')
}

/// What is wrong with the tag `text` (`tag:NAME`, with `name` after `tag:`).
fn tag_problem(
    text: &str,
    name: &str,
    owners: &BTreeMap<String, Vec<String>>,
) -> Option<Diagnostic> {
    if !valid_tag_name(name) {
        return Some(
            Diagnostic::error(
                TAG_WITHOUT_OWNER,
                format!("`{text}` is not a valid tag: tag names start with a letter and contain no spaces"),
            )
            .hint("rename the tag, e.g. `tag:server`"),
        );
    }
    if owners.contains_key(name) {
        return None;
    }
    let known: Vec<String> = owners.keys().map(|t| format!("tag:{t}")).collect();
    Some(
        Diagnostic::error(
            TAG_WITHOUT_OWNER,
            format!("the tag `{text}` has no owner in `acl.tag_owners`"),
        )
        .hint(suggest(text, &known, || {
            format!("declare who may assign it: `acl.tag_owners.{name} = [\"USER@\"]` (users, groups or tags)")
        })),
    )
}

fn node_tags(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let hosts = spec
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (&h.name, &h.tags, SpecPath::root().key("hosts").index(i)));
    let devices = spec
        .devices
        .iter()
        .enumerate()
        .map(|(i, d)| (&d.name, &d.tags, SpecPath::root().key("devices").index(i)));
    for (node, tags, base) in hosts.chain(devices) {
        for (j, tag) in tags.iter().enumerate() {
            let found = match tag.strip_prefix("tag:") {
                Some(name) => tag_problem(tag, name, &spec.acl.tag_owners),
                None => Some(
                    Diagnostic::error(
                        TAG_WITHOUT_OWNER,
                        format!("the tag `{tag}` of `{node}` is not written `tag:NAME`"),
                    )
                    .hint(format!("write `tag:{tag}`")),
                ),
            };
            if let Some(d) = found {
                out.push(d.at(base.key("tags").index(j)));
            }
        }
    }
}

fn acl_hosts(spec: &Spec, out: &mut Vec<Diagnostic>) {
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
        if let (Some(net), Ok(addr)) = (net, ip.parse::<Ipv4Addr>())
            && !net.contains(addr)
        {
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

// ---------------------------------------------------------------------------
// The ACL policy: rules, tests and tag owners.

/// Where an alias appears; Headscale allows different aliases in each place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// `acl.rules[i].src[j]`.
    Src,
    /// The target of `acl.rules[i].dst[j]`.
    Dst,
    /// `acl.tests[i].src`.
    TestSrc,
    /// The target of `acl.tests[i].accept[j]` or `deny[j]`.
    TestDst,
    /// `acl.tag_owners.TAG[j]`.
    TagOwner,
}

impl Place {
    fn describe(self) -> &'static str {
        match self {
            Place::Src => "as a rule source",
            Place::Dst => "as a rule destination",
            Place::TestSrc => "as a test source",
            Place::TestDst => "as a test destination",
            Place::TagOwner => "as a tag owner",
        }
    }

    /// Whether `autogroup:NAME` may appear here (headscale.md §2.2, §2.8).
    fn allows_autogroup(self, name: &str) -> bool {
        match self {
            Place::Src | Place::TestSrc => matches!(name, "member" | "tagged" | "danger-all"),
            Place::Dst => matches!(name, "member" | "tagged" | "self" | "internet"),
            Place::TestDst | Place::TagOwner => false,
        }
    }

    fn autogroup_hint(self) -> &'static str {
        match self {
            Place::Src | Place::TestSrc => {
                "sources may use `autogroup:member` or `autogroup:tagged`"
            }
            Place::Dst => {
                "destinations may use `autogroup:member`, `autogroup:tagged`, `autogroup:self` or `autogroup:internet`"
            }
            Place::TestDst => "a test destination is a single host: name a host or device",
            Place::TagOwner => "tag owners are users (`NAME@`), groups and tags",
        }
    }
}

/// Autogroups of ACL rules, the ones a hint suggests.
const ACL_AUTOGROUPS: &[&str] = &["member", "tagged", "self", "internet"];

/// Other autogroups Headscale knows: `danger-all` (sources) and `nonroot` (SSH only).
const OTHER_AUTOGROUPS: &[&str] = &["danger-all", "nonroot"];

/// The names the policy can refer to, looked up once.
struct Policy<'a> {
    spec: &'a Spec,
    users: Vec<String>,
    /// `NAME@` of every user, for suggestions.
    user_refs: Vec<String>,
    emails: BTreeSet<&'a str>,
    /// Host and device names, with whether the node pins a tailnet address.
    nodes: BTreeMap<&'a str, bool>,
    /// Host and device names and `acl.hosts` keys, for suggestions.
    names: Vec<String>,
}

impl<'a> Policy<'a> {
    fn new(spec: &'a Spec) -> Self {
        let users = user_names(spec);
        let nodes: BTreeMap<&str, bool> = spec
            .hosts
            .iter()
            .map(|h| (h.name.as_str(), h.tailnet_ip.is_some()))
            .chain(
                spec.devices
                    .iter()
                    .map(|d| (d.name.as_str(), d.tailnet_ip.is_some())),
            )
            .collect();
        let names = nodes
            .keys()
            .map(|n| n.to_string())
            .chain(spec.acl.hosts.keys().cloned())
            .collect();
        Self {
            spec,
            user_refs: users.iter().map(|u| format!("{u}@")).collect(),
            users,
            emails: spec
                .users
                .iter()
                .filter_map(|u| u.email.as_deref())
                .collect(),
            nodes,
            names,
        }
    }

    fn rules(&self, out: &mut Vec<Diagnostic>) {
        for (i, rule) in self.spec.acl.rules.iter().enumerate() {
            let path = acl_path().key("rules").index(i);
            for (field, list) in [("src", &rule.src), ("dst", &rule.dst)] {
                if list.is_empty() {
                    out.push(
                        Diagnostic::error(ACL_SYNTAX, format!("rule {i} has an empty `{field}`"))
                            .at(path.key(field))
                            .hint(format!("a rule with no `{field}` never matches: fill it in or remove the rule")),
                    );
                }
            }
            for (j, src) in rule.src.iter().enumerate() {
                if let Some(d) = self.alias(src, Place::Src) {
                    out.push(d.at(path.key("src").index(j)));
                }
            }
            for (j, dst) in rule.dst.iter().enumerate() {
                if let Some(d) = self.destination(dst, rule.proto) {
                    out.push(d.at(path.key("dst").index(j)));
                }
            }
            let to_self = rule
                .dst
                .iter()
                .filter_map(|d| split_destination(d))
                .any(|(target, _)| target.trim() == "autogroup:self");
            if to_self {
                for (j, src) in rule.src.iter().enumerate() {
                    if let Some(d) = self_source(src) {
                        out.push(d.at(path.key("src").index(j)));
                    }
                }
            }
        }
    }

    fn tests(&self, out: &mut Vec<Diagnostic>) {
        for (i, test) in self.spec.acl.tests.iter().enumerate() {
            let path = acl_path().key("tests").index(i);
            if test.accept.is_empty() && test.deny.is_empty() {
                out.push(
                    Diagnostic::error(
                        ACL_SYNTAX,
                        format!("test {i} of `{}` checks nothing", test.src),
                    )
                    .at(path.clone())
                    .hint(
                        "give the test `accept` or `deny` destinations (`HOST:PORT`), or remove it",
                    ),
                );
            }
            if let Some(d) = self.alias(&test.src, Place::TestSrc) {
                out.push(d.at(path.key("src")));
            }
            for (field, list) in [("accept", &test.accept), ("deny", &test.deny)] {
                for (j, dst) in list.iter().enumerate() {
                    if let Some(d) = self.test_destination(dst) {
                        out.push(d.at(path.key(field).index(j)));
                    }
                }
            }
        }
    }

    fn tag_owners(&self, out: &mut Vec<Diagnostic>) {
        for (tag, owners) in &self.spec.acl.tag_owners {
            let path = acl_path().key("tag_owners").key(tag);
            if tag.starts_with("tag:") {
                out.push(
                    Diagnostic::error(
                        ACL_SYNTAX,
                        format!("the tag owner key `{tag}` repeats `tag:`"),
                    )
                    .at(path.clone())
                    .hint("write the key without `tag:`; privai adds it in the policy"),
                );
            } else if !valid_tag_name(tag) {
                out.push(
                    Diagnostic::error(
                        TAG_WITHOUT_OWNER,
                        format!("`tag:{tag}` is not a valid tag: tag names start with a letter and contain no spaces"),
                    )
                    .at(path.clone())
                    .hint("rename the tag, e.g. `server`"),
                );
            }
            for (j, owner) in owners.iter().enumerate() {
                if let Some(d) = self.alias(owner, Place::TagOwner) {
                    out.push(d.at(path.index(j)));
                }
            }
        }
    }

    /// What is wrong with the rule destination `text`, if anything.
    fn destination(&self, text: &str, proto: Option<Protocol>) -> Option<Diagnostic> {
        let Some((target, ports)) = split_destination(text) else {
            return Some(missing_ports(text));
        };
        if let Some(d) = self.alias(target, Place::Dst) {
            return Some(d);
        }
        match parse_ports(ports) {
            Err(why) => Some(bad_ports(text, &why)),
            Ok(Ports::Ranges(_)) if proto == Some(Protocol::Icmp) => Some(
                Diagnostic::error(
                    ACL_SYNTAX,
                    format!(
                        "`{text}` names ports, but the rule is limited to ICMP, which has none"
                    ),
                )
                .hint(format!("write `{target}:*`, or change the rule's `proto`")),
            ),
            Ok(_) => None,
        }
    }

    /// What is wrong with the test destination `text` (one host, one port).
    fn test_destination(&self, text: &str) -> Option<Diagnostic> {
        let Some((target, ports)) = split_destination(text) else {
            return Some(missing_ports(text));
        };
        if let Some(d) = self.alias(target, Place::TestDst) {
            return Some(d);
        }
        match parse_ports(ports) {
            Err(why) => Some(bad_ports(text, &why)),
            Ok(Ports::Ranges(ranges)) if ranges.len() == 1 && ranges[0].0 == ranges[0].1 => None,
            Ok(_) => Some(
                Diagnostic::error(
                    ACL_SYNTAX,
                    format!("the test destination `{text}` does not name a single port"),
                )
                .hint(format!(
                    "tests check one host and one port, e.g. `{target}:443`"
                )),
            ),
        }
    }

    /// What is wrong with the alias `text` written in `place`, if anything.
    fn alias(&self, text: &str, place: Place) -> Option<Diagnostic> {
        match parse_alias(text) {
            Alias::Empty => Some(
                Diagnostic::error(ACL_SYNTAX, "an ACL entry is empty")
                    .hint("write a user `NAME@`, a `group:NAME`, a `tag:NAME`, a host or device name, an IP or `*`"),
            ),
            Alias::Any | Alias::Ip { cidr: true } if place == Place::TestDst => {
                Some(not_single_host(text))
            }
            Alias::Group(_) if place == Place::TestDst => Some(not_single_host(text)),
            Alias::Any | Alias::Ip { .. } if place == Place::TagOwner => Some(not_an_owner(text)),
            Alias::Any | Alias::Ip { .. } => None,
            Alias::User(user) => self.user(user),
            Alias::Group(group) => self.group(text, group),
            Alias::Tag(name) => tag_problem(text, name, &self.spec.acl.tag_owners),
            Alias::Autogroup(name) => autogroup(text, name, place),
            Alias::Name(name) => self.name(text, name, place),
            Alias::Prefixed(prefix) => Some(
                Diagnostic::error(
                    ACL_SYNTAX,
                    format!("`{text}` is not an alias: `{prefix}:` is not a prefix Headscale knows"),
                )
                .hint("prefixes are `group:`, `tag:` and `autogroup:`; a user is written `NAME@`"),
            ),
        }
    }

    fn user(&self, text: &str) -> Option<Diagnostic> {
        let known = match text.strip_suffix('@') {
            Some(name) => self.users.iter().any(|u| u == name),
            None => self.emails.contains(text),
        };
        if known {
            return None;
        }
        Some(
            Diagnostic::error(
                UNKNOWN_ACL_REF,
                format!("`{text}` names a user the spec does not declare"),
            )
            .hint(suggest(text, &self.user_refs, || {
                "add the user to `users`, or fix the name".to_string()
            })),
        )
    }

    fn group(&self, text: &str, group: &str) -> Option<Diagnostic> {
        if self.spec.groups.contains_key(group) {
            return None;
        }
        let known: Vec<String> = self
            .spec
            .groups
            .keys()
            .map(|g| format!("group:{g}"))
            .collect();
        Some(
            Diagnostic::error(
                UNKNOWN_ACL_REF,
                format!("the group `{text}` is not declared"),
            )
            .hint(suggest(text, &known, || {
                format!("declare it: `groups.{group} = [\"USER\"]`")
            })),
        )
    }

    fn name(&self, text: &str, name: &str, place: Place) -> Option<Diagnostic> {
        let is_user = self.users.iter().any(|u| u == name);
        if place == Place::TagOwner && !is_user {
            return Some(not_an_owner(text));
        }
        match self.nodes.get(name) {
            Some(true) if place != Place::TagOwner => None,
            Some(false) if place != Place::TagOwner => Some(
                Diagnostic::warning(
                    UNKNOWN_ACL_REF,
                    format!("`{name}` has no `tailnet_ip`, so the policy cannot name it"),
                )
                .hint(format!(
                    "pin a `tailnet_ip` on `{name}`: privai names hosts and devices in the policy by their address"
                )),
            ),
            _ if self.spec.acl.hosts.contains_key(name) && place != Place::TagOwner => None,
            _ if is_user => Some(
                Diagnostic::error(
                    ACL_SYNTAX,
                    format!("`{text}` names the user `{name}` without `@`"),
                )
                .hint(format!(
                    "write `{name}@`; a bare name is a host, a device or an `acl.hosts` alias"
                )),
            ),
            _ => Some(
                Diagnostic::error(
                    UNKNOWN_ACL_REF,
                    format!("`{text}` is not a host, a device or an `acl.hosts` alias"),
                )
                .hint(suggest(name, &self.names, || {
                    "declare it in `hosts`, `devices` or `acl.hosts`, or write a user as `NAME@`"
                        .to_string()
                })),
            ),
        }
    }
}

fn autogroup(text: &str, name: &str, place: Place) -> Option<Diagnostic> {
    if !ACL_AUTOGROUPS.contains(&name) && !OTHER_AUTOGROUPS.contains(&name) {
        let known: Vec<String> = ACL_AUTOGROUPS
            .iter()
            .map(|a| format!("autogroup:{a}"))
            .collect();
        return Some(
            Diagnostic::error(
                UNKNOWN_ACL_REF,
                format!("`{text}` is not an autogroup Headscale knows"),
            )
            .hint(suggest(text, &known, || {
                format!("Headscale knows {}", quoted(&known))
            })),
        );
    }
    if place.allows_autogroup(name) {
        return None;
    }
    Some(
        Diagnostic::error(
            ACL_SYNTAX,
            format!("`{text}` cannot be used {}", place.describe()),
        )
        .hint(place.autogroup_hint()),
    )
}

/// What is wrong with `src` in a rule whose destinations include `autogroup:self`.
fn self_source(src: &str) -> Option<Diagnostic> {
    let allowed = match parse_alias(src) {
        Alias::Tag(_) | Alias::Ip { .. } | Alias::Name(_) => false,
        Alias::Autogroup(name) => name != "tagged",
        _ => true,
    };
    (!allowed).then(|| {
        Diagnostic::error(
            ACL_SYNTAX,
            format!("`{src}` cannot reach `autogroup:self`: only users, groups and `autogroup:member` can"),
        )
        .hint("move the `autogroup:self` destination to a rule whose sources are users or groups")
    })
}

fn missing_ports(text: &str) -> Diagnostic {
    Diagnostic::error(ACL_SYNTAX, format!("the destination `{text}` has no ports")).hint(format!(
        "write `{text}:PORTS`, e.g. `{text}:443` or `{text}:*`"
    ))
}

fn bad_ports(text: &str, why: &str) -> Diagnostic {
    Diagnostic::error(ACL_SYNTAX, format!("the ports of `{text}` are malformed: {why}")).hint(
        "ports are `*`, a port (`443`), a list (`80,443`) or a range (`8000-8100`), each from 1 to 65535",
    )
}

fn not_single_host(text: &str) -> Diagnostic {
    Diagnostic::error(
        ACL_SYNTAX,
        format!("the test destination `{text}` is not a single host"),
    )
    .hint("tests check one host and one port: name a host, a device, an alias or one IP")
}

fn not_an_owner(text: &str) -> Diagnostic {
    Diagnostic::error(ACL_SYNTAX, format!("`{text}` cannot own a tag"))
        .hint("tag owners are users (`NAME@`), groups (`group:NAME`) and tags (`tag:NAME`)")
}

// ---------------------------------------------------------------------------
// Alias and port syntax (headscale.md §2.2, §2.3).

/// One alias of the policy, classified the way Headscale's `parseAlias` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alias<'a> {
    /// Blank.
    Empty,
    /// `*`.
    Any,
    /// An IP address, or a prefix when `cidr`.
    Ip { cidr: bool },
    /// Contains `@`: `NAME@` or an e-mail address (the whole text).
    User(&'a str),
    /// `group:NAME`.
    Group(&'a str),
    /// `tag:NAME`.
    Tag(&'a str),
    /// `autogroup:NAME`.
    Autogroup(&'a str),
    /// Anything else with a `:`: an unknown prefix.
    Prefixed(&'a str),
    /// A bare name: a host, a device or an `acl.hosts` alias.
    Name(&'a str),
}

fn parse_alias(text: &str) -> Alias<'_> {
    let text = text.trim();
    if text.is_empty() {
        Alias::Empty
    } else if is_ip_or_prefix(text) {
        Alias::Ip {
            cidr: text.contains('/'),
        }
    } else if text == "*" {
        Alias::Any
    } else if text.contains('@') {
        Alias::User(text)
    } else if let Some(name) = text.strip_prefix("group:") {
        Alias::Group(name)
    } else if let Some(name) = text.strip_prefix("tag:") {
        Alias::Tag(name)
    } else if let Some(name) = text.strip_prefix("autogroup:") {
        Alias::Autogroup(name)
    } else if let Some((prefix, _)) = text.split_once(':') {
        Alias::Prefixed(prefix)
    } else {
        Alias::Name(text)
    }
}

fn is_ip_or_prefix(text: &str) -> bool {
    let (addr, len) = match text.split_once('/') {
        Some((addr, len)) => (addr, Some(len)),
        None => (text, None),
    };
    let max = if addr.parse::<Ipv4Addr>().is_ok() {
        32
    } else if addr.parse::<Ipv6Addr>().is_ok() {
        128
    } else {
        return false;
    };
    len.is_none_or(|l| l.parse::<u8>().is_ok_and(|l| l <= max))
}

/// Splits `TARGET:PORTS` at its last `:` (`[v6]:PORTS` for IPv6); `None`
/// when there are no ports, as in `tag:server` or `box`.
fn split_destination(text: &str) -> Option<(&str, &str)> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let (_, ports) = after.rsplit_once(':')?;
        return Some((host, ports));
    }
    match text.rsplit_once(':')? {
        ("group" | "tag" | "autogroup", _) => None,
        (target, ports) => Some((target, ports)),
    }
}

/// The ports of a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ports {
    /// `*`.
    Any,
    /// Inclusive ranges; a single port is a range of one.
    Ranges(Vec<(u16, u16)>),
}

/// Parses `*`, `443`, `80,443`, `8000-8100` or a mixture; the error says why not.
fn parse_ports(text: &str) -> Result<Ports, String> {
    if text.trim() == "*" {
        return Ok(Ports::Any);
    }
    text.split(',')
        .map(|item| parse_range(item.trim()))
        .collect::<Result<_, _>>()
        .map(Ports::Ranges)
}

fn parse_range(item: &str) -> Result<(u16, u16), String> {
    let (first, last) = match item.split_once('-') {
        Some((first, last)) => (parse_port(first)?, parse_port(last)?),
        None => {
            let port = parse_port(item)?;
            (port, port)
        }
    };
    if first > last {
        return Err(format!("the range `{item}` is inverted"));
    }
    Ok((first, last))
}

fn parse_port(text: &str) -> Result<u16, String> {
    if text.is_empty() {
        return Err("a port is missing".to_string());
    }
    if text == "*" {
        return Err("`*` cannot be combined with other ports".to_string());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a port number"));
    }
    match text.parse::<u32>() {
        Ok(0) => Err("port 0 does not exist; use `*` for every port".to_string()),
        Ok(port) => u16::try_from(port).map_err(|_| format!("`{text}` is above 65535")),
        Err(_) => Err(format!("`{text}` is above 65535")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::{BASE, load};

    /// `(code, path)` of what this pass finds in the Nickel spec `text`.
    fn found_in(text: &str) -> Vec<(&'static str, String)> {
        let loaded = load(text, "ncl");
        let mut out = Vec::new();
        check(&loaded.spec, &mut out);
        out.into_iter()
            .map(|d| (d.code, d.path.map(|p| p.to_string()).unwrap_or_default()))
            .collect()
    }

    /// What this pass finds in BASE merged with `case`.
    fn found(case: &str) -> Vec<(&'static str, String)> {
        found_in(&format!("{BASE} & {case}"))
    }

    fn expect(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        pairs.iter().map(|(c, p)| (*c, p.to_string())).collect()
    }

    const PEOPLE: &str =
        r#"users = [{ name = "user1" }, { name = "user2" }], groups.trusted = ["user1", "user2"]"#;

    /// BASE plus two users and `groups.trusted`, then `case`'s fields.
    fn with_people(case: &str) -> Vec<(&'static str, String)> {
        found(&format!("{{ {PEOPLE}, {case} }}"))
    }

    /// One ACL rule `src -> dst` on top of [`with_people`].
    fn rule(src: &str, dst: &str) -> Vec<(&'static str, String)> {
        with_people(&format!("acl.rules = [{{ src = [{src}], dst = [{dst}] }}]"))
    }

    fn first_diagnostic(case: &str) -> Diagnostic {
        let loaded = load(&format!("{BASE} & {case}"), "ncl");
        let mut out = Vec::new();
        check(&loaded.spec, &mut out);
        out.into_iter().next().expect("a diagnostic")
    }

    #[test]
    fn the_seed_example_has_no_reference_problem() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-home.ncl");
        let loaded = crate::spec::load(&path).expect("the seed evaluates");
        let mut out = Vec::new();
        check(&loaded.spec, &mut out);
        assert_eq!(out, Vec::new());
    }

    #[test]
    fn a_valid_policy_with_every_kind_of_alias_is_clean() {
        let found = with_people(
            r#"devices = [{ name = "phone", user = "user1", kind = 'phone, os = 'ios, tailnet_ip = "100.64.0.2", tags = ["tag:mobile"] }],
               acl = {
                 tag_owners = { mobile = ["group:trusted"], server = ["user1@", "tag:mobile"] },
                 hosts = { nas = "100.64.0.9" },
                 rules = [
                   { src = ["group:trusted", "user2@", "tag:mobile", "phone", "100.64.0.0/10", "autogroup:member"], dst = ["box:443,8000-8100", "nas:*", "tag:server:22", "autogroup:internet:*", "[fd7a:115c:a1e0::1]:80"] },
                   { src = ["autogroup:member"], dst = ["autogroup:self:*"] },
                   { src = ["*"], dst = ["box:*"], proto = 'icmp },
                 ],
                 tests = [{ src = "user1@", accept = ["box:443", "100.64.0.1:8000"], deny = ["nas:22", "tag:server:23"] }],
               }"#,
        );
        assert_eq!(found, Vec::new());
    }

    #[test]
    fn a_device_owned_by_an_undeclared_user_is_reported_at_its_user() {
        let found = with_people(
            r#"devices = [{ name = "phone", user = "usr1", kind = 'phone, os = 'ios }]"#,
        );
        assert_eq!(found, expect(&[(UNKNOWN_USER, "devices[0].user")]));
    }

    #[test]
    fn an_unknown_user_gets_a_did_you_mean_hint() {
        let d = first_diagnostic(
            r#"{ users = [{ name = "user1" }], devices = [{ name = "phone", user = "usr1", kind = 'phone, os = 'ios }] }"#,
        );
        assert_eq!(
            d.hint.as_deref(),
            Some("did you mean `user1`? If not, add `usr1` to `users`")
        );
        assert!(d.message.contains("`usr1`"), "{}", d.message);
    }

    #[test]
    fn a_group_member_that_is_not_a_user_is_reported_at_the_member() {
        let found =
            found(r#"{ users = [{ name = "user1" }], groups.trusted = ["user1", "mallory"] }"#);
        assert_eq!(found, expect(&[(UNKNOWN_USER, "groups.trusted[1]")]));
    }

    #[test]
    fn group_members_are_plain_user_names_not_groups_tags_or_user_at() {
        let found = with_people(r#"groups.admins = ["user1@", "group:trusted", "tag:x"]"#);
        assert_eq!(
            found,
            expect(&[
                (EMPTY_GROUP, "groups.admins[0]"),
                (EMPTY_GROUP, "groups.admins[1]"),
                (EMPTY_GROUP, "groups.admins[2]"),
            ])
        );
    }

    #[test]
    fn an_unused_empty_group_is_a_warning_and_a_used_one_an_error() {
        let unused = first_diagnostic(r#"{ groups.nobody = [] }"#);
        assert_eq!((unused.code, unused.is_error()), (EMPTY_GROUP, false));
        let used = first_diagnostic(
            r#"{ groups.nobody = [], acl.rules = [{ src = ["group:nobody"], dst = ["box:443"] }] }"#,
        );
        assert_eq!((used.code, used.is_error()), (EMPTY_GROUP, true));
        assert_eq!(
            used.path.map(|p| p.to_string()).as_deref(),
            Some("groups.nobody")
        );
    }

    #[test]
    fn hosts_and_devices_share_one_namespace() {
        let found = with_people(
            r#"devices = [{ name = "box", user = "user1", kind = 'laptop, os = 'macos }, { name = "phone", user = "user1", kind = 'phone, os = 'ios }, { name = "phone", user = "user2", kind = 'phone, os = 'android }]"#,
        );
        assert_eq!(
            found,
            expect(&[
                (DUPLICATE_NAME, "devices[0].name"),
                (DUPLICATE_NAME, "devices[2].name")
            ])
        );
    }

    #[test]
    fn a_duplicate_points_at_the_second_occurrence_and_notes_the_first() {
        let d = first_diagnostic(r#"{ users = [{ name = "user1" }, { name = "user1" }] }"#);
        assert_eq!(d.code, DUPLICATE_NAME);
        assert_eq!(
            d.path.map(|p| p.to_string()).as_deref(),
            Some("users[1].name")
        );
        assert_eq!(
            d.notes,
            vec!["first declared at `users[0].name`".to_string()]
        );
    }

    #[test]
    fn duplicate_models_are_reported() {
        let found = found(
            r#"{ ollama.models = [{ name = "llama3.2:3b", role = 'primary }, { name = "llama3.2:3b", role = 'fallback }] }"#,
        );
        assert_eq!(found, expect(&[(DUPLICATE_NAME, "ollama.models[1].name")]));
    }

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

    #[test]
    fn undeclared_groups_users_hosts_and_autogroups_in_rules_are_unknown_references() {
        let found = rule(
            r#""group:trustd", "user3@", "autogroup:admin""#,
            r#""nas:443""#,
        );
        assert_eq!(
            found,
            expect(&[
                (UNKNOWN_ACL_REF, "acl.rules[0].src[0]"),
                (UNKNOWN_ACL_REF, "acl.rules[0].src[1]"),
                (UNKNOWN_ACL_REF, "acl.rules[0].src[2]"),
                (UNKNOWN_ACL_REF, "acl.rules[0].dst[0]"),
            ])
        );
    }

    #[test]
    fn an_unknown_group_suggests_the_declared_one() {
        let d = first_diagnostic(
            r#"{ users = [{ name = "u" }], groups.trusted = ["u"], acl.rules = [{ src = ["group:trustd"], dst = ["box:443"] }] }"#,
        );
        assert_eq!(d.hint.as_deref(), Some("did you mean `group:trusted`?"));
    }

    #[test]
    fn a_user_written_without_at_is_a_syntax_error_with_a_fix() {
        let found = rule(r#""user1""#, r#""user2:22""#);
        assert_eq!(
            found,
            expect(&[
                (ACL_SYNTAX, "acl.rules[0].src[0]"),
                (ACL_SYNTAX, "acl.rules[0].dst[0]")
            ])
        );
        let d = first_diagnostic(
            r#"{ users = [{ name = "user1" }], acl.rules = [{ src = ["user1"], dst = ["box:443"] }] }"#,
        );
        assert_eq!(
            d.hint.as_deref(),
            Some("write `user1@`; a bare name is a host, a device or an `acl.hosts` alias")
        );
    }

    #[test]
    fn an_email_user_matches_a_declared_email() {
        let found = found(
            r#"{ users = [{ name = "alice", email = "alice@example.com" }], acl.rules = [{ src = ["alice@example.com", "bob@example.com"], dst = ["box:443"] }] }"#,
        );
        assert_eq!(found, expect(&[(UNKNOWN_ACL_REF, "acl.rules[0].src[1]")]));
    }

    #[test]
    fn destinations_need_ports_in_range() {
        let found = rule(
            r#""group:trusted""#,
            r#""box", "tag:server", "box:0", "box:70000", "box:200-100", "box:http", "box:22,", "box:*,22""#,
        );
        let paths: Vec<String> = found
            .iter()
            .map(|(code, p)| {
                assert_eq!(*code, ACL_SYNTAX);
                p.clone()
            })
            .collect();
        let expected: Vec<String> = (0..8).map(|j| format!("acl.rules[0].dst[{j}]")).collect();
        assert_eq!(paths, expected);
    }

    #[test]
    fn icmp_rules_cannot_name_ports() {
        let found = with_people(
            r#"acl.rules = [{ src = ["group:trusted"], dst = ["box:22", "box:*"], proto = 'icmp }]"#,
        );
        assert_eq!(found, expect(&[(ACL_SYNTAX, "acl.rules[0].dst[0]")]));
    }

    #[test]
    fn rules_with_empty_sources_or_destinations_are_reported() {
        let found = with_people(r#"acl.rules = [{ src = [], dst = [] }]"#);
        assert_eq!(
            found,
            expect(&[
                (ACL_SYNTAX, "acl.rules[0].src"),
                (ACL_SYNTAX, "acl.rules[0].dst")
            ])
        );
    }

    #[test]
    fn autogroups_respect_their_placement() {
        let found = rule(
            r#""autogroup:internet", "autogroup:self""#,
            r#""autogroup:danger-all:*", "autogroup:internet:443""#,
        );
        assert_eq!(
            found,
            expect(&[
                (ACL_SYNTAX, "acl.rules[0].src[0]"),
                (ACL_SYNTAX, "acl.rules[0].src[1]"),
                (ACL_SYNTAX, "acl.rules[0].dst[0]"),
            ])
        );
    }

    #[test]
    fn only_users_and_groups_can_reach_autogroup_self() {
        let found = with_people(
            r#"acl.tag_owners.server = ["user1@"],
               acl.rules = [{ src = ["group:trusted", "tag:server", "box", "autogroup:member"], dst = ["autogroup:self:*"] }]"#,
        );
        assert_eq!(
            found,
            expect(&[
                (ACL_SYNTAX, "acl.rules[0].src[1]"),
                (ACL_SYNTAX, "acl.rules[0].src[2]")
            ])
        );
    }

    #[test]
    fn an_unknown_prefix_is_a_syntax_error() {
        let found = rule(r#""grp:trusted""#, r#""host:box:443""#);
        assert_eq!(
            found,
            expect(&[
                (ACL_SYNTAX, "acl.rules[0].src[0]"),
                (ACL_SYNTAX, "acl.rules[0].dst[0]")
            ])
        );
    }

    #[test]
    fn tags_need_an_owner_a_prefix_and_a_letter_first() {
        let found = with_people(
            r#"devices = [{ name = "phone", user = "user1", kind = 'phone, os = 'ios, tags = ["tag:mobile", "server", "tag:1st"] }],
               acl.rules = [{ src = ["tag:laptop"], dst = ["box:443"] }]"#,
        );
        assert_eq!(
            found,
            expect(&[
                (TAG_WITHOUT_OWNER, "devices[0].tags[0]"),
                (TAG_WITHOUT_OWNER, "devices[0].tags[1]"),
                (TAG_WITHOUT_OWNER, "devices[0].tags[2]"),
                (TAG_WITHOUT_OWNER, "acl.rules[0].src[0]"),
            ])
        );
    }

    #[test]
    fn tag_owners_are_users_groups_or_tags_that_exist() {
        let found = with_people(
            r#"acl.tag_owners = { server = ["user1", "group:admins", "tag:ghost", "box", "*", "user9@"], "tag:web" = ["user1@"] }"#,
        );
        assert_eq!(
            found,
            expect(&[
                (ACL_SYNTAX, "acl.tag_owners.server[0]"),
                (UNKNOWN_ACL_REF, "acl.tag_owners.server[1]"),
                (TAG_WITHOUT_OWNER, "acl.tag_owners.server[2]"),
                (ACL_SYNTAX, "acl.tag_owners.server[3]"),
                (ACL_SYNTAX, "acl.tag_owners.server[4]"),
                (UNKNOWN_ACL_REF, "acl.tag_owners.server[5]"),
                (ACL_SYNTAX, "acl.tag_owners.tag:web"),
            ])
        );
    }

    #[test]
    fn tests_need_a_known_source_and_single_host_single_port_destinations() {
        let found = with_people(
            r#"acl.tests = [
                 { src = "user3@", accept = ["box:443"] },
                 { src = "group:trusted", accept = ["box:80,443", "group:trusted:22", "100.64.0.0/10:22", "box"], deny = ["*:22", "box:*"] },
                 { src = "user1@" },
               ]"#,
        );
        assert_eq!(
            found,
            expect(&[
                (UNKNOWN_ACL_REF, "acl.tests[0].src"),
                (ACL_SYNTAX, "acl.tests[1].accept[0]"),
                (ACL_SYNTAX, "acl.tests[1].accept[1]"),
                (ACL_SYNTAX, "acl.tests[1].accept[2]"),
                (ACL_SYNTAX, "acl.tests[1].accept[3]"),
                (ACL_SYNTAX, "acl.tests[1].deny[0]"),
                (ACL_SYNTAX, "acl.tests[1].deny[1]"),
                (ACL_SYNTAX, "acl.tests[2]"),
            ])
        );
    }

    #[test]
    fn a_node_without_an_address_named_by_the_policy_is_a_warning() {
        let d = first_diagnostic(
            r#"{ users = [{ name = "u" }], devices = [{ name = "phone", user = "u", kind = 'phone, os = 'ios }], acl.rules = [{ src = ["phone"], dst = ["box:443"] }] }"#,
        );
        assert_eq!((d.code, d.is_error()), (UNKNOWN_ACL_REF, false));
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let found = found(
            r#"{ users = [{ name = "u" }], devices = [{ name = "a", user = "x", kind = 'phone, os = 'ios }, { name = "b", user = "y", kind = 'phone, os = 'ios }] }"#,
        );
        assert_eq!(
            found,
            expect(&[
                (UNKNOWN_USER, "devices[0].user"),
                (UNKNOWN_USER, "devices[1].user")
            ])
        );
    }

    #[test]
    fn aliases_are_classified_like_headscale_does() {
        assert_eq!(parse_alias("*"), Alias::Any);
        assert_eq!(parse_alias("100.64.0.1"), Alias::Ip { cidr: false });
        assert_eq!(parse_alias("10.0.0.0/8"), Alias::Ip { cidr: true });
        assert_eq!(parse_alias("fd7a:115c:a1e0::/48"), Alias::Ip { cidr: true });
        assert_eq!(parse_alias("user1@"), Alias::User("user1@"));
        assert_eq!(parse_alias(" group:trusted "), Alias::Group("trusted"));
        assert_eq!(parse_alias("tag:server"), Alias::Tag("server"));
        assert_eq!(parse_alias("autogroup:member"), Alias::Autogroup("member"));
        assert_eq!(parse_alias("grp:x"), Alias::Prefixed("grp"));
        assert_eq!(parse_alias("box"), Alias::Name("box"));
        assert_eq!(parse_alias("1.2.3.4/33"), Alias::Name("1.2.3.4/33"));
        assert_eq!(parse_alias(""), Alias::Empty);
    }

    #[test]
    fn destinations_split_at_the_last_colon() {
        assert_eq!(
            split_destination("tag:server:22"),
            Some(("tag:server", "22"))
        );
        assert_eq!(split_destination("box:*"), Some(("box", "*")));
        assert_eq!(split_destination("[fd7a::1]:80"), Some(("fd7a::1", "80")));
        assert_eq!(split_destination("box"), None);
        assert_eq!(split_destination("tag:server"), None);
        assert_eq!(split_destination("group:trusted"), None);
    }

    #[test]
    fn ports_are_star_numbers_lists_and_ranges() {
        assert_eq!(parse_ports("*"), Ok(Ports::Any));
        assert_eq!(parse_ports("443"), Ok(Ports::Ranges(vec![(443, 443)])));
        assert_eq!(
            parse_ports("22,80,8000-8100"),
            Ok(Ports::Ranges(vec![(22, 22), (80, 80), (8000, 8100)]))
        );
        assert_eq!(parse_ports("1-65535"), Ok(Ports::Ranges(vec![(1, 65535)])));
        for bad in [
            "",
            "0",
            "65536",
            "99999999999",
            "200-100",
            "http",
            "22,",
            "-5",
            "+5",
            "*,22",
        ] {
            assert!(parse_ports(bad).is_err(), "`{bad}` parsed");
        }
    }
}
