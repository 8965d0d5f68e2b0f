//! The tailnet addresses the spec pins against the ones Headscale handed
//! out. Headscale allocates every node's address itself (there is no API
//! to choose one), and privai's policy names hosts and devices by their
//! `tailnet_ip`: when the node called so got another address, or another
//! node holds the pinned one, the policy's rules for that name reach a
//! different machine, maybe someone else's device. The plan says so.
//! Pure: Headscale's nodes come from `observe`.

use crate::api::headscale::Node;

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

/// A note for each pinned (name, address) in `pinned` that `nodes`
/// contradict: the node called `name` has other addresses, or another
/// node holds the address. Pins of names without a node whose address no
/// node holds are not contradicted (yet).
pub fn mismatches(pinned: &[(String, String)], nodes: &[Node]) -> Vec<String> {
    let mut notes = Vec::new();
    for (name, ip) in pinned {
        let held_by = holder(nodes, ip);
        match node_named(nodes, name) {
            Some(node) if node.ip_addresses.iter().any(|a| a == ip) => {}
            Some(node) => {
                let actual = node
                    .ip_addresses
                    .iter()
                    .find(|a| !a.contains(':'))
                    .or(node.ip_addresses.first())
                    .map_or("no address", String::as_str);
                let reach = match held_by {
                    Some(other) => format!("`{}`, which holds {ip}", other.given_name),
                    None => format!("{ip}, which no node holds"),
                };
                notes.push(format!(
                    "`{name}` is on the tailnet at {actual}, not at its `tailnet_ip` {ip}: the policy's rules for `{name}` reach {reach}; Headscale chooses addresses itself, so set `tailnet_ip = \"{actual}\"` on `{name}`"
                ));
            }
            None => {
                if let Some(other) = held_by {
                    notes.push(format!(
                        "the `tailnet_ip` of `{name}` ({ip}) is the address of the node `{}`: the policy's rules for `{name}` reach that node; set `{name}`'s `tailnet_ip` to the address it gets when it joins",
                        other.given_name
                    ));
                }
            }
        }
    }
    notes
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
        assert_eq!(mismatches(&pinned, &nodes), Vec::<String>::new());
    }

    #[test]
    fn a_node_at_another_address_is_named_with_the_node_that_holds_the_pinned_one() {
        let nodes = [
            node("phone", "100.64.0.1"),
            node("openclaw-server", "100.64.0.4"),
        ];
        let notes = mismatches(&pins(&[("openclaw-server", "100.64.0.1")]), &nodes);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("`openclaw-server` is on the tailnet at 100.64.0.4, not at its `tailnet_ip` 100.64.0.1: the policy's rules for `openclaw-server` reach `phone`"),
            "{}",
            notes[0]
        );
        assert!(notes[0].ends_with("set `tailnet_ip = \"100.64.0.4\"` on `openclaw-server`"));
    }

    #[test]
    fn a_pinned_address_held_by_another_node_is_named_before_its_owner_joins() {
        let nodes = [node("phone", "100.64.0.1")];
        let notes = mismatches(&pins(&[("openclaw-server", "100.64.0.1")]), &nodes);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("is the address of the node `phone`"),
            "{}",
            notes[0]
        );
    }
}
