//! The private Matrix homeserver: reachable where the spec says (PRV099),
//! and the gateway's Matrix channel able to sign in to it (PRV100): with
//! the AI's token privai makes on the homeserver's host, or the spec's.

use crate::codes::{HOMESERVER_UNREACHABLE, MATRIX_NO_TOKEN};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::Spec;

/// Runs this pass.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let Some((homeserver, host)) = spec.homeserver() else {
        return;
    };
    if homeserver.tailnet && host.tailnet_ip.is_none() {
        let index = spec
            .hosts
            .iter()
            .position(|h| h.name == host.name)
            .unwrap_or_default();
        out.push(
            Diagnostic::warning(
                HOMESERVER_UNREACHABLE,
                format!(
                    "the homeserver should listen on the tailnet, but its host `{}` has no `tailnet_ip`: it will listen on loopback only, out of reach of every device",
                    host.name
                ),
            )
            .at(SpecPath::root().key("hosts").index(index))
            .hint(format!(
                "pin the host's address: `hosts[{index}].tailnet_ip = \"100.64.0.N\"`; or set `homeserver.tailnet = false` if only the host itself should reach it"
            )),
        );
    }
    if let Some(gateway) = spec.gateway()
        && let Some(matrix) = gateway.channels.matrix.as_ref()
        && matrix.enabled
        && matrix.token.is_none()
        && crate::render::homeserver::ai_token_file(spec).is_none()
    {
        let server_name = spec.matrix_server_name().unwrap_or_default();
        out.push(
            Diagnostic::warning(
                MATRIX_NO_TOKEN,
                format!(
                    "the Matrix channel has no `token` and the gateway runs on another host than the homeserver (`{}`): privai cannot hand it the token of `@{}:{server_name}` it makes there",
                    host.name, homeserver.ai_user
                ),
            )
            .at(SpecPath::root().key("openclaw").key("channels").key("matrix"))
            .hint("run the gateway on the homeserver's host, or reference the AI's access token on the gateway's host (`privai explain PRV100` shows how): `openclaw.channels.matrix.token = \"env:MATRIX_AI_TOKEN\"`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::check::testing::findings;

    fn ours(extra_host: &str, extra: &str) -> Vec<(&'static str, String)> {
        findings(&format!(
            r#"{{
              hosts = [{{ name = "srv", platform = 'linux, arch = 'x86_64, ram_gb = 32, roles = ['headscale, 'ollama, 'openclaw, 'homeserver] {extra_host} }}],
              headscale.server_url = "https://hs.example.org",
              ollama.models = [{{ name = "llama3.2:3b", role = 'primary }}],
              openclaw.image = "ghcr.io/openclaw/openclaw@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
              openclaw.model.primary = "llama3.2:3b",
              {extra}
            }}"#
        ))
        .into_iter()
        .filter(|(code, _)| *code == "PRV099" || *code == "PRV100")
        .collect()
    }

    #[test]
    fn a_homeserver_meant_for_the_tailnet_needs_the_hosts_address() {
        assert_eq!(ours("", ""), [("PRV099", "hosts[0]".to_owned())]);
        assert_eq!(ours(r#", tailnet_ip = "100.64.0.1""#, ""), []);
        assert_eq!(ours("", "homeserver.tailnet = false,"), []);
    }

    #[test]
    fn the_matrix_channel_needs_the_ais_token_from_privai_on_the_same_host_or_from_the_spec() {
        let ip = r#", tailnet_ip = "100.64.0.1""#;
        // privai makes the AI's account and token beside the gateway.
        assert_eq!(ours(ip, "openclaw.channels.matrix = {},"), []);
        // The homeserver on another host: privai cannot hand it over.
        let apart = findings(
            r#"{
              hosts = [
                { name = "srv", platform = 'linux, arch = 'x86_64, ram_gb = 32, roles = ['headscale, 'ollama, 'openclaw], tailnet_ip = "100.64.0.1" },
                { name = "chat", platform = 'linux, arch = 'x86_64, ram_gb = 8, roles = ['homeserver], tailnet_ip = "100.64.0.2" },
              ],
              headscale.server_url = "https://hs.example.org",
              ollama.models = [{ name = "llama3.2:3b", role = 'primary }],
              openclaw.image = "ghcr.io/openclaw/openclaw@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
              openclaw.model.primary = "llama3.2:3b",
              openclaw.channels.matrix = {},
            }"#,
        );
        assert!(
            apart.contains(&("PRV100", "openclaw.channels.matrix".to_owned())),
            "{apart:?}"
        );
        assert_eq!(
            ours(
                ip,
                r#"openclaw.channels.matrix = { token = "env:MATRIX_AI_TOKEN" },"#
            ),
            []
        );
        assert_eq!(
            ours(ip, "openclaw.channels.matrix = { enabled = false },"),
            []
        );
    }
}
