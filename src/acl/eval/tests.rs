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
    1, 21, 22, 53, 80, 81, 443, 445, 999, 1000, 1500, 2000, 2001, 3000, 8000, 8008, 8100, 9000,
    11434, 18789, 65535,
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

#[test]
fn the_indexed_policy_answers_like_the_reference_on_every_example() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let mut examples = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let spec = crate::spec::load(&path)
            .unwrap_or_else(|e| panic!("{}: {:#?}", path.display(), e.diagnostics))
            .spec;
        let mut aliases: Vec<String> = ALIASES.iter().map(|a| a.to_string()).collect();
        aliases.extend(spec.hosts.iter().map(|h| h.name.clone()));
        aliases.extend(spec.users.iter().map(|u| format!("{}@", u.name)));
        aliases.extend(spec.groups.keys().map(|g| format!("group:{g}")));
        let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
        assert_agrees_with_reference(&spec, &aliases, PORTS);
        examples += 1;
    }
    assert!(examples >= 5, "{examples} examples");
}
