//! The ACL `tests` Headscale can run yet. Headscale 0.29 runs a policy's
//! `tests` whenever it checks, sets or reloads the policy, and refuses the
//! policy when a test's source or destination resolves to no node: a user
//! resolves only through its untagged nodes, a group through its members',
//! a tag through the nodes that carry it (`source "user1@" resolved to no
//! IP addresses`). Before the devices have joined, the seed's tests would
//! make Headscale refuse every policy, and the devices could never get the
//! keys they join with. So the policy privai installs holds such tests
//! back, the plan says which, and the first apply after their nodes have
//! joined puts them in. Pure: Headscale's nodes come from `observe`.

use crate::observe::headscale::Node;
use crate::observe::live::HeadscaleState;
use crate::render::Rendered;
use serde_json::{Map, Value};

/// Whether `alias` (a test's source, or a destination without its port)
/// names at least one of `nodes`, as Headscale resolves it. Host names,
/// addresses and prefixes always resolve (to themselves).
fn resolves(alias: &str, groups: &Map<String, Value>, nodes: &[Node]) -> bool {
    let untagged = || nodes.iter().filter(|n| !n.is_tagged());
    if alias.starts_with("group:") {
        let members = groups.get(alias).and_then(Value::as_array);
        return members.is_some_and(|m| {
            m.iter()
                .filter_map(Value::as_str)
                .any(|member| resolves(member, groups, nodes))
        });
    }
    if alias.starts_with("tag:") {
        return nodes.iter().any(|n| n.tags.iter().any(|t| t == alias));
    }
    match alias {
        "autogroup:member" => return untagged().next().is_some(),
        "autogroup:tagged" => return nodes.iter().any(Node::is_tagged),
        _ => {}
    }
    if let Some((name, domain)) = alias.split_once('@') {
        return untagged().any(|n| {
            n.user
                .as_ref()
                .is_some_and(|u| (domain.is_empty() && u.name == name) || u.email == alias)
        });
    }
    true
}

/// `destination` (`ALIAS:PORTS`) without its ports.
fn destination_alias(destination: &str) -> &str {
    destination
        .rsplit_once(':')
        .map_or(destination, |(alias, _)| alias)
}

/// Holds back the tests of the policy in `desired` that Headscale, with
/// the nodes `headscale` holds, would refuse: rewrites the policy privai
/// sets (database mode) and installs (file mode) without them. Returns the
/// plan's note naming them; `None` when every test can run, or when
/// Headscale was not observed (no API key: privai cannot know).
pub fn hold_back(desired: &mut Rendered, headscale: &HeadscaleState) -> Option<String> {
    let nodes: &[Node] = match headscale {
        HeadscaleState::NotObserved => return None,
        HeadscaleState::Unreachable { .. } => &[],
        HeadscaleState::Running { nodes, .. } => nodes,
    };
    let control = desired.control.as_mut()?;
    let (header, body) = control.policy.split_once('\n')?;
    let mut policy: Value = serde_json::from_str(body).ok()?;
    let groups = policy
        .get("groups")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let tests = policy.get("tests").and_then(Value::as_array)?.clone();
    let runs = |test: &Value| {
        let src = test["src"].as_str().unwrap_or_default();
        let destinations = ["accept", "deny"]
            .iter()
            .filter_map(|k| test.get(*k).and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str);
        resolves(src, &groups, nodes)
            && destinations
                .into_iter()
                .all(|d| resolves(destination_alias(d), &groups, nodes))
    };
    let (kept, held): (Vec<Value>, Vec<Value>) = tests.into_iter().partition(runs);
    if held.is_empty() {
        return None;
    }
    let object = policy.as_object_mut()?;
    if kept.is_empty() {
        object.remove("tests");
    } else {
        object.insert("tests".to_owned(), Value::Array(kept));
    }
    let text = format!(
        "{header}\n{}\n",
        serde_json::to_string_pretty(&policy).expect("a JSON value serializes")
    );
    let old = std::mem::replace(&mut control.policy, text.clone());
    for artifact in &mut desired.artifacts {
        if artifact.host == control.host && artifact.contents == old.as_bytes() {
            artifact.contents = text.clone().into_bytes();
        }
    }
    let sources: Vec<String> = held
        .iter()
        .map(|t| format!("`{}`", t["src"].as_str().unwrap_or_default()))
        .collect();
    Some(format!(
        "ACL tests held back until the nodes they name have joined (Headscale refuses a policy whose tests name no node): the tests of {}; the first apply after those devices join adds them",
        sources.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    fn node(owner: &str, tags: &[&str]) -> Node {
        serde_json::from_value(serde_json::json!({
            "id": "7",
            "name": "n",
            "user": {"id": "1", "name": owner},
            "tags": tags,
        }))
        .unwrap()
    }

    fn groups() -> Map<String, Value> {
        serde_json::from_str(r#"{"group:trusted": ["user1@", "user2@"]}"#).unwrap()
    }

    #[test]
    fn users_resolve_through_their_untagged_nodes_only() {
        let nodes = [node("user1", &[]), node("user3", &["tag:server"])];
        assert!(resolves("user1@", &groups(), &nodes));
        assert!(!resolves("user2@", &groups(), &nodes));
        assert!(!resolves("user3@", &groups(), &nodes), "its node is tagged");
        assert!(resolves("tag:server", &groups(), &nodes));
        assert!(!resolves("tag:nas", &groups(), &nodes));
    }

    #[test]
    fn a_group_resolves_when_one_member_has_a_node_and_hosts_always_do() {
        assert!(!resolves("group:trusted", &groups(), &[]));
        assert!(resolves("group:trusted", &groups(), &[node("user2", &[])]));
        assert!(!resolves("group:unknown", &groups(), &[node("user2", &[])]));
        assert!(resolves("openclaw-server", &groups(), &[]));
        assert!(resolves("100.64.0.1", &groups(), &[]));
        assert_eq!(
            destination_alias("openclaw-server:18789"),
            "openclaw-server"
        );
        assert_eq!(destination_alias("tag:server:22"), "tag:server");
    }
}
