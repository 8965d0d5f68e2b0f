//! The wiring between hosts: the gateway on one host, Ollama on another.
//! The gateway then reaches Ollama over the tailnet, at Ollama's host's
//! tailnet address (PRV020 and PRV024 hold Ollama to that address), and
//! the ACL must let exactly the gateway's host through to Ollama's port:
//! privai adds that rule when both hosts have a pinned address
//! ([`crate::fleet::wiring`]).
//!
//! - PRV109: the ACL does not let the gateway's host reach Ollama's port:
//!   the gateway would get no answer.
//! - PRV110: the ACL lets other nodes than the gateway's host reach
//!   Ollama's port; Ollama has no authentication.

use crate::acl::eval::Policy;
use crate::codes::{OLLAMA_ACL_OPEN, OLLAMA_ACL_UNREACHABLE};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::{Protocol, Role, Spec};

/// Runs this pass.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    if spec.gateway().is_none() || !spec.deploys(Role::Ollama) {
        return;
    }
    let (Some(gateway), Some(ollama)) = (
        spec.service_host(Role::Openclaw),
        spec.service_host(Role::Ollama),
    ) else {
        return;
    };
    // One host: loopback. A loopback Ollama on another host is PRV024's.
    if gateway.name == ollama.name || spec.ollama.listen.is_loopback() {
        return;
    }
    let policy = Policy::compile(spec);
    let (Some(from), Some(to)) = (policy.node(&gateway.name), policy.node(&ollama.name)) else {
        return;
    };
    let port = spec.ollama.port;
    let rule = format!(
        "{{ src = [\"{}\"], dst = [\"{}:{port}\"], proto = 'tcp }}",
        gateway.name, ollama.name
    );
    if policy
        .accepting_rule(from, to, port, Protocol::Tcp)
        .is_none()
    {
        out.push(
            Diagnostic::error(
                OLLAMA_ACL_UNREACHABLE,
                format!(
                    "the gateway on `{}` uses Ollama on `{}`, but no ACL rule lets `{}` reach port {port} there: the gateway would get no answer",
                    gateway.name, ollama.name, gateway.name
                ),
            )
            .at(SpecPath::root().key("acl").key("rules"))
            .hint(format!(
                "pin the `tailnet_ip` of hosts `{}` and `{}`: privai then adds exactly the rule {rule} itself (or add it to `acl.rules` yourself)",
                gateway.name, ollama.name
            )),
        );
    }
    let others: Vec<(String, usize)> = policy
        .nodes()
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != from && *i != to)
        .filter_map(|(i, node)| {
            policy
                .accepting_rule(i, to, port, Protocol::Tcp)
                .map(|r| (node.name.clone(), r))
        })
        .collect();
    if let Some((_, first)) = others.first() {
        let names: Vec<&str> = others.iter().map(|(n, _)| n.as_str()).collect();
        out.push(
            Diagnostic::warning(
                OLLAMA_ACL_OPEN,
                format!(
                    "the ACL lets {} reach Ollama on `{}` (port {port}), which answers anyone without authentication; only the gateway's host `{}` needs it",
                    names.join(", "),
                    ollama.name,
                    gateway.name
                ),
            )
            .at(SpecPath::root().key("acl").key("rules").index(*first))
            .hint(format!(
                "narrow the rule so that Ollama's port is reached only by {rule}; people reach the AI through the gateway"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::check::testing::findings;

    fn split(rules: &str) -> String {
        split_with(rules, r#", tailnet_ip = "100.64.0.2""#)
    }

    fn split_with(rules: &str, gpu_ip: &str) -> String {
        format!(
            r#"{{
  hosts = [
    {{ name = "hs", platform = 'linux, arch = 'x86_64, ram_gb = 32, roles = ['headscale], tailnet_ip = "100.64.0.1" }},
    {{ name = "gpu", platform = 'linux, arch = 'x86_64, ram_gb = 32, roles = ['ollama]{gpu_ip} }},
    {{ name = "gw", platform = 'linux, arch = 'x86_64, ram_gb = 32, roles = ['openclaw], tailnet_ip = "100.64.0.3" }},
  ],
  users = [{{ name = "user1" }}],
  devices = [{{ name = "phone", user = "user1", kind = 'phone, os = 'ios }}],
  ollama = {{ listen = "100.64.0.2", models = [ {{ name = "qwen2.5:14b", role = 'primary }}, {{ name = "llama3.2:3b", role = 'fallback }} ] }},
  openclaw = {{
    image = "ghcr.io/openclaw/openclaw:2026.9.6@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
    bind = "100.64.0.3",
    model = {{ primary = "qwen2.5:14b", fallbacks = ["llama3.2:3b"] }},
  }},
  acl.rules = [ {{ src = ["user1@"], dst = ["gw:18789"], proto = 'tcp }}, {rules} ],
}}"#
        )
    }

    fn wiring(text: &str) -> Vec<(&'static str, String)> {
        findings(text)
            .into_iter()
            .filter(|(code, _)| ["PRV109", "PRV110"].contains(code))
            .collect()
    }

    #[test]
    fn exactly_the_gateway_host_reaching_ollama_passes() {
        assert_eq!(
            wiring(&split(
                r#"{ src = ["gw"], dst = ["gpu:11434"], proto = 'tcp }"#
            )),
            vec![]
        );
        // privai adds that rule itself.
        assert_eq!(wiring(&split("")), vec![]);
    }

    #[test]
    fn an_ollama_the_gateway_cannot_reach_by_the_acl_is_an_error() {
        // Without Ollama's host's address, no rule can name it.
        let found = crate::check::testing::diagnostics(&split_with("", ""));
        let d = found.iter().find(|d| d.code == "PRV109").expect("PRV109");
        let hint = d.hint.as_deref().unwrap();
        assert!(
            hint.contains(r#"{ src = ["gw"], dst = ["gpu:11434"], proto = 'tcp }"#)
                && hint.contains("pin the `tailnet_ip`"),
            "{d:?}"
        );
    }

    #[test]
    fn anyone_else_reaching_ollama_is_a_warning() {
        assert_eq!(
            wiring(&split(
                r#"{ src = ["gw", "user1@"], dst = ["gpu:11434"], proto = 'tcp }"#
            )),
            vec![("PRV110", "acl.rules[1]".to_owned())]
        );
    }

    #[test]
    fn one_host_for_both_is_not_this_passs_concern() {
        let text = crate::check::testing::with_gateway("{}");
        assert_eq!(wiring(&text), vec![]);
    }

    #[test]
    fn the_split_seed_passes() {
        let loaded = crate::spec::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/seed-fleet.ncl"
        )))
        .unwrap_or_else(|e| panic!("{:#?}", e.diagnostics));
        let found: Vec<_> = crate::check::run(&loaded)
            .into_iter()
            .map(|d| d.code)
            .collect();
        assert_eq!(found, Vec::<&str>::new());
    }
}
