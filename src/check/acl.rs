//! The policy's meaning: the spec's ACL tests, and lints about who can reach
//! what (a `*:*` rule, Ollama open to devices, the gateway open to people
//! outside every group, rules that match nobody, devices that reach nothing),
//! then [`super::open_ports`] on the same compiled policy.

use crate::acl::alias::split_destination;
use crate::acl::eval::Policy;
use crate::acl::matrix::{Service, services};
use crate::codes::{
    ACL_TEST_FAILED, ACL_WIDE_OPEN, DEVICE_ISOLATED, GATEWAY_UNTRUSTED, OLLAMA_REACHABLE,
    RULE_NEVER_MATCHES,
};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::{DeviceKind, Protocol, Spec};
use crate::net::BindKind;
use std::collections::{HashMap, HashSet};

/// Checks the policy's tests and its reachability lints.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let policy = Policy::compile(spec);
    policy_tests(spec, &policy, out);
    wide_open(spec, out);
    exposed_services(spec, &policy, out);
    rules_matching_nobody(spec, &policy, out);
    isolated_devices(spec, &policy, out);
    // With the same compiled policy: ports against what listens.
    super::open_ports::check(spec, &policy, out);
}

fn acl_path() -> SpecPath {
    SpecPath::root().key("acl")
}

/// `acl.rules[i]` in words: `group:trusted -> openclaw-server:18789`.
pub(super) fn describe_rule(spec: &Spec, index: usize) -> String {
    let rule = &spec.acl.rules[index];
    format!(
        "acl.rules[{index}]: {} -> {}",
        rule.src.join(", "),
        rule.dst.join(", ")
    )
}

/// The single node and port of a test destination `host:port`, if well formed.
fn test_destination(spec: &Spec, policy: &Policy, text: &str) -> Option<(usize, u16)> {
    let (target, port) = split_destination(text)?;
    let port: u16 = port.trim().parse().ok()?;
    let nodes = policy.select(spec, target);
    match nodes.len() {
        1 => nodes.into_iter().next().map(|n| (n, port)),
        _ => None,
    }
}

fn policy_tests(spec: &Spec, policy: &Policy, out: &mut Vec<Diagnostic>) {
    for (i, test) in spec.acl.tests.iter().enumerate() {
        let path = acl_path().key("tests").index(i);
        let sources = policy.select(spec, &test.src);
        if sources.is_empty() {
            out.push(
                Diagnostic::warning(
                    ACL_TEST_FAILED,
                    format!("ACL test source `{}` matches no host or device yet, so the test proves nothing", test.src),
                )
                .at(path.key("src"))
                .hint("name a user who owns a device, a group of such users, a tag in use, or a host or device"),
            );
            continue;
        }
        let expectations = [("accept", &test.accept, true), ("deny", &test.deny, false)];
        for (key, destinations, want) in expectations {
            for (j, destination) in destinations.iter().enumerate() {
                let Some((dst, port)) = test_destination(spec, policy, destination) else {
                    continue; // malformed: reported by the reference checks
                };
                let wrong = sources.iter().find_map(|&src| {
                    let rule = policy.accepting_rule(src, dst, port, Protocol::Tcp);
                    (rule.is_some() != want).then_some((src, rule))
                });
                if let Some((src, rule)) = wrong {
                    let who = &policy.nodes()[src].name;
                    let mut d = match rule {
                        None => Diagnostic::error(
                            ACL_TEST_FAILED,
                            format!("ACL test fails: `{}` must reach `{destination}`, but `{who}` cannot: no rule accepts it", test.src),
                        )
                        .hint(format!("add a rule that lets `{}` reach `{destination}`, or correct the test", test.src)),
                        Some(r) => Diagnostic::error(
                            ACL_TEST_FAILED,
                            format!("ACL test fails: `{}` must not reach `{destination}`, but `{who}` can: {} accepts it", test.src, describe_rule(spec, r)),
                        )
                        .hint(format!("narrow acl.rules[{r}] so it no longer covers `{destination}`, or correct the test")),
                    };
                    d = d.at(path.key(key).index(j));
                    if let Some(r) = rule {
                        d = d.note(format!("the rule responsible: {}", describe_rule(spec, r)));
                    }
                    out.push(d);
                }
            }
        }
    }
}

/// The rule set the seed's system needs: the sources may reach the gateway.
fn tighter_rule(spec: &Spec) -> String {
    match services(spec).into_iter().find(|s| s.what == "gateway") {
        Some(gateway) => format!(
            "`dst = [\"{}:{}\"]` (the gateway only)",
            gateway.host, gateway.port
        ),
        None => "the hosts and ports the sources need, e.g. `[\"HOST:PORT\"]`".to_owned(),
    }
}

fn wide_open(spec: &Spec, out: &mut Vec<Diagnostic>) {
    for (i, rule) in spec.acl.rules.iter().enumerate() {
        for (j, dst) in rule.dst.iter().enumerate() {
            if dst.trim() == "*:*" {
                out.push(
                    Diagnostic::warning(
                        ACL_WIDE_OPEN,
                        format!("acl.rules[{i}] lets {} reach every port of every node (`*:*`), Ollama and Headscale's host included", rule.src.join(", ")),
                    )
                    .at(acl_path().key("rules").index(i).key("dst").index(j))
                    .hint(format!("open only what is needed: {}", tighter_rule(spec))),
                );
            }
        }
    }
}

/// The devices that can reach `service`, grouped by the rule that lets them.
fn reachers(policy: &Policy, service: &Service) -> Vec<(usize, Vec<String>)> {
    let Some(dst) = policy.node(&service.host) else {
        return Vec::new();
    };
    let mut by_rule: Vec<(usize, Vec<String>)> = Vec::new();
    let mut position: HashMap<usize, usize> = HashMap::new();
    for (src, node) in policy.nodes().iter().enumerate().filter(|(_, n)| !n.host) {
        if let Some(rule) = policy.accepting_rule(src, dst, service.port, Protocol::Tcp) {
            let at = *position.entry(rule).or_insert_with(|| {
                by_rule.push((rule, Vec::new()));
                by_rule.len() - 1
            });
            by_rule[at].1.push(node.name.clone());
        }
    }
    by_rule
}

fn names(list: &[String]) -> String {
    list.iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn exposed_services(spec: &Spec, policy: &Policy, out: &mut Vec<Diagnostic>) {
    for service in services(spec) {
        let rule_path = |r: usize| acl_path().key("rules").index(r);
        match service.what {
            "ollama" => {
                let listening = spec.ollama.listen.kind() == BindKind::Tailnet;
                for (rule, devices) in reachers(policy, &service) {
                    let message = format!(
                        "{} lets {} reach Ollama on `{}:{}`, which has no authentication",
                        describe_rule(spec, rule),
                        names(&devices),
                        service.host,
                        service.port
                    );
                    let d = if listening {
                        Diagnostic::error(OLLAMA_REACHABLE, message)
                    } else {
                        Diagnostic::warning(
                            OLLAMA_REACHABLE,
                            format!(
                                "{message} (it listens on loopback today, so nothing answers yet)"
                            ),
                        )
                    };
                    out.push(d.at(rule_path(rule)).hint(
                        "only the gateway talks to Ollama: leave its port out of every rule for devices",
                    ));
                }
            }
            "gateway" => {
                // The user of each device (the first of its name), and the users in a group.
                let mut owners: HashMap<&str, &str> = HashMap::new();
                for device in &spec.devices {
                    owners.entry(&device.name).or_insert(&device.user);
                }
                let grouped: HashSet<&str> =
                    spec.groups.values().flatten().map(String::as_str).collect();
                for (rule, devices) in reachers(policy, &service) {
                    let outsiders: Vec<String> = devices
                        .into_iter()
                        .filter(|name| {
                            !owners
                                .get(name.as_str())
                                .is_some_and(|user| grouped.contains(user))
                        })
                        .collect();
                    if !outsiders.is_empty() {
                        out.push(
                            Diagnostic::warning(
                                GATEWAY_UNTRUSTED,
                                format!(
                                    "{} lets {} reach the gateway on `{}:{}`, though their users are in no group",
                                    describe_rule(spec, rule),
                                    names(&outsiders),
                                    service.host,
                                    service.port
                                ),
                            )
                            .at(rule_path(rule))
                            .hint("grant the gateway to a group of trusted users (`group:trusted`), not to single devices or `*`"),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

fn rules_matching_nobody(spec: &Spec, policy: &Policy, out: &mut Vec<Diagnostic>) {
    for (i, rule) in spec.acl.rules.iter().enumerate() {
        if !rule.src.is_empty() && policy.rule_matches_nobody(i) {
            out.push(
                Diagnostic::warning(
                    RULE_NEVER_MATCHES,
                    format!(
                        "acl.rules[{i}] can never match: its sources {} select no host or device",
                        rule.src
                            .iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .at(acl_path().key("rules").index(i).key("src"))
                .hint("check the group's members and that each member owns a device in `devices`"),
            );
        }
    }
}

fn isolated_devices(spec: &Spec, policy: &Policy, out: &mut Vec<Diagnostic>) {
    for (i, device) in spec.devices.iter().enumerate() {
        // A server only others reach (a NAS) is not isolated.
        let serves = device.kind == DeviceKind::Server;
        let isolated = policy.node(&device.name).is_some_and(|node| {
            let reached_server = serves && policy.is_destination(node);
            !(policy.reaches_any_node(node) || reached_server)
        });
        if isolated {
            out.push(
                Diagnostic::warning(
                    DEVICE_ISOLATED,
                    format!("device `{}` can reach nothing: no rule lets it reach a service or another node", device.name),
                )
                .at(SpecPath::root().key("devices").index(i).key("name"))
                .hint("add its user to a group the rules use, or remove the device"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::testing::{findings_of, pairs};

    fn acl(code: &str) -> bool {
        ("PRV070"..="PRV075").contains(&code)
    }

    /// A server with the gateway, two users (only `alice` in a group), devices.
    const TAILNET: &str = r#"{
      hosts = [ { name = "server", platform = 'linux, ram_gb = 32, roles = ['ollama, 'openclaw], tailnet_ip = "100.64.0.1" } ],
      ollama.models = [ { name = "llama3.1:8b", role = 'primary }, { name = "llama3.2:3b", role = 'fallback } ],
      openclaw = {
        image = "x@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
        bind = "100.64.0.1",
        model = { primary = "llama3.1:8b", fallbacks = ["llama3.2:3b"] },
      },
      users = [ { name = "alice" }, { name = "bob" } ],
      groups = { trusted = ["alice"], nobody = [] },
      devices = [
        { name = "alice-phone", user = "alice", kind = 'phone, os = 'ios },
        { name = "bob-laptop", user = "bob", kind = 'laptop, os = 'linux },
      ],
    }"#;

    fn found(rules: &str) -> Vec<(&'static str, String)> {
        findings_of(&format!("{TAILNET} & {{ acl.rules = {rules} }}"), acl)
    }

    #[test]
    fn a_tight_policy_gives_no_finding_but_an_untouched_device_is_isolated() {
        assert_eq!(
            found(r#"[ { src = ["group:trusted"], dst = ["server:18789"] } ]"#),
            pairs(&[("PRV075", "devices[1].name")])
        );
    }

    #[test]
    fn the_gateway_open_to_a_user_in_no_group_is_flagged() {
        assert_eq!(
            found(r#"[ { src = ["*"], dst = ["server:18789"] } ]"#),
            pairs(&[("PRV073", "acl.rules[0]")])
        );
    }

    #[test]
    fn ollama_open_to_devices_is_flagged_at_the_rule() {
        assert_eq!(
            found(
                r#"[ { src = ["group:trusted"], dst = ["server:18789"] },
                    { src = ["bob@"], dst = ["server:11434"] } ]"#
            ),
            pairs(&[("PRV072", "acl.rules[1]")])
        );
    }

    #[test]
    fn a_rule_whose_group_has_no_device_never_matches() {
        let codes = found(
            r#"[ { src = ["group:trusted", "bob@"], dst = ["server:18789"] },
                { src = ["group:nobody"], dst = ["server:18789"] } ]"#,
        );
        assert!(
            codes.contains(&("PRV074", "acl.rules[1].src".to_owned())),
            "{codes:?}"
        );
    }

    #[test]
    fn a_star_star_rule_is_flagged_at_its_destination() {
        let codes = found(r#"[ { src = ["group:trusted"], dst = ["*:*"] } ]"#);
        assert!(
            codes.contains(&("PRV071", "acl.rules[0].dst[0]".to_owned())),
            "{codes:?}"
        );
    }
}
