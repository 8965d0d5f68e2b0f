//! The wiring between hosts that privai adds to the spec it loads: with
//! the gateway on one host and Ollama on another, the ACL rule that lets
//! the gateway's host reach Ollama's port, and nothing else. Ollama then
//! listens on its host's tailnet address (PRV020, PRV024); `privai check`
//! reports a gateway that still cannot reach it (PRV109) and anyone else
//! who can (PRV110). Pure.

use crate::model::{AclAction, AclRule, Protocol, Role, Spec};

/// How the comment of the rule privai adds begins.
pub const ADDED: &str = "Added by privai:";

/// The rule the gateway needs to reach Ollama on another host: from the
/// gateway's host to Ollama's port on Ollama's host, TCP. `None` when
/// they share a host, Ollama listens on loopback (PRV024), or either host
/// has no pinned tailnet address for the rule to name.
pub fn ollama_rule(spec: &Spec) -> Option<AclRule> {
    spec.gateway()?;
    if !spec.deploys(Role::Ollama) || spec.ollama.listen.is_loopback() {
        return None;
    }
    let gateway = spec.service_host(Role::Openclaw)?;
    let ollama = spec.service_host(Role::Ollama)?;
    if gateway.name == ollama.name || gateway.tailnet_ip.is_none() || ollama.tailnet_ip.is_none() {
        return None;
    }
    Some(AclRule {
        action: AclAction::Accept,
        src: vec![gateway.name.clone()],
        dst: vec![format!("{}:{}", ollama.name, spec.ollama.port)],
        proto: Some(Protocol::Tcp),
        comment: Some(format!(
            "{ADDED} the gateway on {} uses Ollama on {}.",
            gateway.name, ollama.name
        )),
    })
}

/// Adds [`ollama_rule`] to `spec.acl.rules`, unless a rule with the same
/// sources, destinations and protocol is there already.
pub fn wire(spec: &mut Spec) {
    let Some(rule) = ollama_rule(spec) else {
        return;
    };
    let present = spec
        .acl
        .rules
        .iter()
        .any(|r| r.src == rule.src && r.dst == rule.dst && r.proto == rule.proto);
    if !present {
        spec.acl.rules.push(rule);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_fleet() -> Spec {
        crate::spec::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/seed-fleet.ncl"
        )))
        .unwrap_or_else(|e| panic!("{:#?}", e.diagnostics))
        .spec
    }

    #[test]
    fn the_split_seed_gets_exactly_the_gateway_to_ollama_rule_once() {
        let mut spec = seed_fleet();
        let added: Vec<&AclRule> = spec
            .acl
            .rules
            .iter()
            .filter(|r| r.comment.as_deref().is_some_and(|c| c.starts_with(ADDED)))
            .collect();
        assert_eq!(added.len(), 1, "{:#?}", spec.acl.rules);
        assert_eq!(added[0].src, ["openclaw-server"]);
        assert_eq!(added[0].dst, ["ollama-server:11434"]);
        assert_eq!(added[0].proto, Some(Protocol::Tcp));
        let before = spec.acl.rules.len();
        wire(&mut spec);
        assert_eq!(spec.acl.rules.len(), before, "added twice");
        // Headscale gets it.
        let policy = crate::render::headscale::policy_hujson(&spec);
        assert!(policy.contains("\"ollama-server:11434\""), "{policy}");
    }

    #[test]
    fn one_host_or_a_loopback_ollama_gets_no_rule() {
        let mut spec = seed_fleet();
        spec.ollama.listen = "127.0.0.1".into();
        assert_eq!(ollama_rule(&spec), None);
        let mut spec = seed_fleet();
        spec.hosts[2].roles.push(Role::Ollama);
        spec.hosts[1].roles.clear();
        assert_eq!(ollama_rule(&spec), None);
        let mut spec = seed_fleet();
        spec.hosts[1].tailnet_ip = None;
        assert_eq!(ollama_rule(&spec), None);
    }
}
