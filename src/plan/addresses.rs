//! The tailnet addresses the spec pins against the ones Headscale handed
//! out. Headscale allocates every node's address itself (there is no API
//! to choose one), and privai's policy names hosts and devices by their
//! `tailnet_ip`: when the node called so got another address, the policy
//! privai gives Headscale names it by the address it really has (else its
//! rules would reach whatever node holds the pinned one, maybe someone
//! else's device), and the plan says so; when another node holds the
//! address pinned for a host or device that has not joined, the plan says
//! that too. Pure: Headscale's nodes come from `observe`.

use crate::observe::headscale::Node;
use crate::observe::live::HeadscaleState;
use crate::render::Rendered;
use serde_json::Value;

/// A pinned address `nodes` contradict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The node called `name` is at `actual`, not at its pinned `pinned`;
    /// `held_by` names the node at `pinned`, if any.
    Moved {
        name: String,
        pinned: String,
        actual: String,
        held_by: Option<String>,
    },
    /// `name` has no node, and the node `held_by` holds its `pinned` address.
    Taken {
        name: String,
        pinned: String,
        held_by: String,
    },
}

/// The node `name` is, as Headscale lists it (its hostname or MagicDNS name).
fn node_named<'a>(nodes: &'a [Node], name: &str) -> Option<&'a Node> {
    nodes
        .iter()
        .find(|n| n.given_name == name || n.name == name)
}

/// The node holding `ip`.
fn holder<'a>(nodes: &'a [Node], ip: &str) -> Option<&'a Node> {
    nodes
        .iter()
        .find(|n| n.ip_addresses.iter().any(|a| a == ip))
}

/// The pinned (name, address) pairs of `pinned` that `nodes` contradict.
/// Pins of names without a node whose address no node holds are not
/// contradicted (yet).
pub fn mismatches(pinned: &[(String, String)], nodes: &[Node]) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (name, ip) in pinned {
        let held_by = holder(nodes, ip).map(|n| n.given_name.clone());
        match node_named(nodes, name) {
            Some(node) if node.ip_addresses.iter().any(|a| a == ip) => {}
            Some(node) => {
                let v4 = node.ip_addresses.iter().find(|a| !a.contains(':'));
                if let Some(actual) = v4.or(node.ip_addresses.first()) {
                    out.push(Mismatch::Moved {
                        name: name.clone(),
                        pinned: ip.clone(),
                        actual: actual.clone(),
                        held_by,
                    });
                }
            }
            None => {
                if let Some(held_by) = held_by {
                    out.push(Mismatch::Taken {
                        name: name.clone(),
                        pinned: ip.clone(),
                        held_by,
                    });
                }
            }
        }
    }
    out
}

/// The plan's note for `mismatch`.
fn note(mismatch: &Mismatch) -> String {
    match mismatch {
        Mismatch::Moved {
            name,
            pinned,
            actual,
            held_by,
        } => {
            let holder = match held_by {
                Some(other) => format!(", which `{other}` holds"),
                None => String::new(),
            };
            format!(
                "`{name}` is on the tailnet at {actual}, not at its `tailnet_ip` {pinned}{holder}: the policy names `{name}` by {actual}, the address Headscale gave it; Headscale chooses addresses itself, so set `tailnet_ip = \"{actual}\"` on `{name}`"
            )
        }
        Mismatch::Taken {
            name,
            pinned,
            held_by,
        } => format!(
            "the `tailnet_ip` of `{name}` ({pinned}) is the address of the node `{held_by}`: the policy's rules for `{name}` reach that node; set `{name}`'s `tailnet_ip` to the address it gets when it joins"
        ),
    }
}

/// An `acl.hosts` alias pinned to the `tailnet_ip` of a node Headscale put
/// elsewhere: the alias follows the node.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AliasMove {
    alias: String,
    node: String,
    pinned: String,
    actual: String,
}

/// The plan's note for an alias that follows its node.
fn alias_note(m: &AliasMove) -> String {
    let AliasMove {
        alias,
        node,
        pinned,
        actual,
    } = m;
    format!(
        "the `acl.hosts` alias `{alias}` is {pinned}, the `tailnet_ip` of `{node}`, which is on the tailnet at {actual}: the policy's `{alias}` follows `{node}` to {actual}; set `acl.hosts.\"{alias}\" = \"{actual}\"`"
    )
}

/// The explicit aliases of `hosts` (the policy's `hosts`, less the names of
/// `pinned` nodes) whose address, alone or as a `/32`, is the pinned address
/// of a node of `moved` (name, pinned, actual); the value each gets.
fn alias_moves(
    hosts: &serde_json::Map<String, Value>,
    pinned: &[(String, String)],
    moved: &[(&str, &str, &str)],
) -> Vec<(AliasMove, String)> {
    let mut found = Vec::new();
    for (alias, value) in hosts {
        if pinned.iter().any(|(name, _)| name == alias) {
            continue; // a host or device: named by its own pin
        }
        let Some(text) = value.as_str().map(str::trim) else {
            continue;
        };
        let (address, suffix) = match text.strip_suffix("/32") {
            Some(address) => (address, "/32"),
            None => (text, ""),
        };
        if let Some(&(node, at, actual)) = moved.iter().find(|(_, at, _)| *at == address) {
            found.push((
                AliasMove {
                    alias: alias.clone(),
                    node: node.to_owned(),
                    pinned: at.to_owned(),
                    actual: actual.to_owned(),
                },
                format!("{actual}{suffix}"),
            ));
        }
    }
    found
}

/// Makes the policy in `desired` name each host or device whose node
/// `headscale` holds at another address than its `tailnet_ip` by the
/// address it has (the policy set in database mode, the file installed in
/// file mode), and with it each `acl.hosts` alias pinned to that
/// `tailnet_ip`. Returns the plan's notes of every contradicted pin and
/// every alias that follows its node.
pub fn follow(desired: &mut Rendered, headscale: &HeadscaleState) -> Vec<String> {
    let HeadscaleState::Running { nodes, .. } = headscale else {
        return Vec::new();
    };
    let Some(control) = desired.control.as_mut() else {
        return Vec::new();
    };
    let found = mismatches(&control.addresses, nodes);
    let moved: Vec<(&str, &str, &str)> = found
        .iter()
        .filter_map(|m| match m {
            Mismatch::Moved {
                name,
                pinned,
                actual,
                ..
            } => Some((name.as_str(), pinned.as_str(), actual.as_str())),
            Mismatch::Taken { .. } => None,
        })
        .collect();
    let mut aliases = Vec::new();
    let rewritten = control.policy.split_once('\n').and_then(|(header, body)| {
        let mut policy: Value = serde_json::from_str(body).ok()?;
        let hosts = policy.get_mut("hosts")?.as_object_mut()?;
        aliases = alias_moves(hosts, &control.addresses, &moved);
        for (name, _, actual) in &moved {
            hosts.insert((*name).to_owned(), Value::String((*actual).to_owned()));
        }
        for (m, value) in &aliases {
            hosts.insert(m.alias.clone(), Value::String(value.clone()));
        }
        Some(format!(
            "{header}\n{}\n",
            serde_json::to_string_pretty(&policy).expect("a JSON value serializes")
        ))
    });
    if let Some(text) = rewritten.filter(|_| !moved.is_empty()) {
        let old = std::mem::replace(&mut control.policy, text.clone());
        for artifact in &mut desired.artifacts {
            if artifact.host == control.host && artifact.contents == old.as_bytes() {
                artifact.contents = text.clone().into_bytes();
            }
        }
    }
    found
        .iter()
        .map(note)
        .chain(aliases.iter().map(|(m, _)| alias_note(m)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, ip: &str) -> Node {
        serde_json::from_value(serde_json::json!({
            "id": "1",
            "name": name,
            "givenName": name,
            "ipAddresses": [ip, "fd7a:115c:a1e0::1"],
        }))
        .unwrap()
    }

    fn pins(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, ip)| (n.to_string(), ip.to_string()))
            .collect()
    }

    #[test]
    fn a_node_at_its_pinned_address_or_not_joined_yet_is_no_mismatch() {
        let nodes = [node("openclaw-server", "100.64.0.1")];
        let pinned = pins(&[("openclaw-server", "100.64.0.1"), ("laptop", "100.64.0.9")]);
        assert_eq!(mismatches(&pinned, &nodes), vec![]);
    }

    #[test]
    fn a_node_at_another_address_is_named_with_the_node_that_holds_the_pinned_one() {
        let nodes = [
            node("phone", "100.64.0.1"),
            node("openclaw-server", "100.64.0.4"),
        ];
        let found = mismatches(&pins(&[("openclaw-server", "100.64.0.1")]), &nodes);
        assert_eq!(
            found,
            vec![Mismatch::Moved {
                name: "openclaw-server".into(),
                pinned: "100.64.0.1".into(),
                actual: "100.64.0.4".into(),
                held_by: Some("phone".into()),
            }]
        );
        assert_eq!(
            note(&found[0]),
            "`openclaw-server` is on the tailnet at 100.64.0.4, not at its `tailnet_ip` 100.64.0.1, which `phone` holds: the policy names `openclaw-server` by 100.64.0.4, the address Headscale gave it; Headscale chooses addresses itself, so set `tailnet_ip = \"100.64.0.4\"` on `openclaw-server`"
        );
    }

    #[test]
    fn a_pinned_address_held_by_another_node_is_named_before_its_owner_joins() {
        let nodes = [node("phone", "100.64.0.1")];
        let found = mismatches(&pins(&[("openclaw-server", "100.64.0.1")]), &nodes);
        assert!(
            note(&found[0]).contains("is the address of the node `phone`"),
            "{found:?}"
        );
    }

    #[test]
    fn the_rendered_policy_names_a_moved_node_and_its_aliases_by_its_real_address() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-home.ncl");
        let spec = crate::spec::load(&path).expect("the seed evaluates").spec;
        let mut desired = crate::render::render(&spec);
        let before = desired.control.as_ref().unwrap().policy.clone();
        let running = |nodes| HeadscaleState::Running {
            users: vec![],
            keys: vec![],
            nodes,
            policy: None,
        };
        assert_eq!(
            follow(
                &mut desired,
                &running(vec![node("openclaw-server", "100.64.0.1")])
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            desired.control.as_ref().unwrap().policy,
            before,
            "untouched"
        );

        let nodes = vec![
            node("phone", "100.64.0.1"),
            node("openclaw-server", "100.64.0.2"),
        ];
        let notes = follow(&mut desired, &running(nodes));
        assert_eq!(notes.len(), 2, "{notes:?}");
        let policy = &desired.control.as_ref().unwrap().policy;
        assert!(
            policy.contains(r#""openclaw-server": "100.64.0.2""#),
            "{policy}"
        );
        // The seed's `ollama-server` alias is openclaw-server's `tailnet_ip`:
        // it follows the host rather than name the phone now at 100.64.0.1.
        assert!(
            policy.contains(r#""ollama-server": "100.64.0.2""#),
            "{policy}"
        );
        assert_eq!(
            notes[1],
            "the `acl.hosts` alias `ollama-server` is 100.64.0.1, the `tailnet_ip` of `openclaw-server`, which is on the tailnet at 100.64.0.2: the policy's `ollama-server` follows `openclaw-server` to 100.64.0.2; set `acl.hosts.\"ollama-server\" = \"100.64.0.2\"`"
        );
        let installed = desired
            .artifacts
            .iter()
            .find(|a| a.contents == policy.as_bytes())
            .expect("the policy file follows too");
        assert_eq!(installed.host, "openclaw-server");
    }

    #[test]
    fn only_aliases_of_a_moved_nodes_pinned_address_follow_it_and_a_32_prefix_stays_one() {
        let hosts: serde_json::Map<String, Value> = serde_json::from_value(serde_json::json!({
            "server": "100.64.0.1",
            "phone": "100.64.0.5",
            "box": "100.64.0.1",
            "box-net": "100.64.0.1/32",
            "lan": "100.64.0.0/24",
            "other": "100.64.0.9",
        }))
        .unwrap();
        let pinned = pins(&[("server", "100.64.0.1"), ("phone", "100.64.0.5")]);
        let moved = [("server", "100.64.0.1", "100.64.0.3")];
        let found: Vec<(String, String)> = alias_moves(&hosts, &pinned, &moved)
            .into_iter()
            .map(|(m, value)| (m.alias, value))
            .collect();
        assert_eq!(
            found,
            vec![
                ("box".to_owned(), "100.64.0.3".to_owned()),
                ("box-net".to_owned(), "100.64.0.3/32".to_owned()),
            ]
        );
        assert_eq!(alias_moves(&hosts, &pinned, &[]), vec![]);
    }
}
