//! Where the conversation goes (PRV097, PRV098): every enabled channel
//! whose messages pass through a third party's servers is reported, with
//! the private alternative, unless the channel acknowledges it with a
//! `cloud_reason`, like the hardening exceptions of the container.
//!
//! Third parties: Telegram, WhatsApp, Discord and Slack (their servers read
//! the messages), Signal and iMessage (end-to-end encrypted, but their
//! servers relay every message and see who talks to the AI), and Matrix
//! when the spec deploys no homeserver (the channel then talks to someone
//! else's). The Matrix channel on the spec's own homeserver stays on the
//! tailnet.

use super::hardening::{MIN_REASON_CHARS, reason_problem};
use crate::codes::{CLOUD_CHANNEL, CLOUD_REASON};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::{Role, Spec};

/// Whose servers channel `id` passes messages through, and how, when it
/// leaves the tailnet.
fn third_party(spec: &Spec, id: &str) -> Option<&'static str> {
    Some(match id {
        "telegram" => "Telegram's servers, which read every message",
        "whatsapp" => "WhatsApp's (Meta's) servers",
        "discord" => "Discord's servers, which read every message",
        "slack" => "Slack's servers, which read every message",
        "signal" => {
            "Signal's servers (end-to-end encrypted, but they see who talks to the AI, and when)"
        }
        "imessage" => {
            "Apple's servers (end-to-end encrypted, but they see who talks to the AI, and when)"
        }
        "matrix" if !spec.deploys(Role::Homeserver) => {
            "a Matrix homeserver outside the spec (no host has the `'homeserver` role)"
        }
        _ => return None,
    })
}

/// Runs this pass.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let Some(openclaw) = spec.gateway() else {
        return;
    };
    for (id, channel) in openclaw.channels.iter() {
        let path = SpecPath::root().key("openclaw").key("channels").key(id);
        let cloud = third_party(spec, id).filter(|_| channel.enabled);
        match (&channel.cloud_reason, cloud) {
            (None, Some(whose)) => out.push(
                Diagnostic::warning(
                    CLOUD_CHANNEL,
                    format!("the `{id}` channel carries every message and answer through {whose}: the conversation leaves the tailnet"),
                )
                .at(path)
                .hint(alternative(spec, id)),
            ),
            (Some(reason), Some(_)) => {
                if let Some(problem) = reason_problem(reason) {
                    out.push(
                        Diagnostic::error(
                            CLOUD_REASON,
                            format!("the `cloud_reason` of the `{id}` channel, `{}`, {problem}", reason.trim()),
                        )
                        .at(path.key("cloud_reason"))
                        .hint(format!("say in a full sentence (at least {MIN_REASON_CHARS} characters) why the conversation may pass through the channel's cloud")),
                    );
                }
            }
            (Some(_), None) => out.push(
                Diagnostic::warning(
                    CLOUD_REASON,
                    format!("the `cloud_reason` of the `{id}` channel acknowledges nothing: {}", if channel.enabled { "its messages stay on the tailnet" } else { "the channel is disabled" }),
                )
                .at(path.key("cloud_reason"))
                .hint("remove the stale `cloud_reason`, so that it cannot silently allow a later change"),
            ),
            (None, None) => {}
        }
    }
}

/// The private alternative to channel `id`, as a hint.
fn alternative(spec: &Spec, id: &str) -> String {
    let matrix = if spec.deploys(Role::Homeserver) {
        "talk to the AI through `openclaw.channels.matrix` on the spec's own homeserver"
    } else {
        "add `'homeserver` to a host's `roles` (a private Matrix homeserver on the tailnet) and talk to the AI through `openclaw.channels.matrix`"
    };
    format!(
        "{matrix}; or, if the cloud is deliberate, acknowledge it: `openclaw.channels.{id}.cloud_reason = \"...\"`"
    )
}

#[cfg(test)]
mod tests {
    use crate::check::testing::findings;

    const BASE: &str = r#"
      hosts = [{ name = "srv", platform = 'linux, arch = 'x86_64, ram_gb = 32, roles = ['headscale, 'ollama, 'openclaw], tailnet_ip = "100.64.0.1" }],
      headscale.server_url = "https://hs.example.org",
      ollama.models = [{ name = "llama3.2:3b", role = 'primary }],
      openclaw.image = "ghcr.io/openclaw/openclaw@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
      openclaw.model.primary = "llama3.2:3b","#;

    fn privacy(extra: &str) -> Vec<(&'static str, String)> {
        findings(&format!("{{ {BASE} {extra} }}"))
            .into_iter()
            .filter(|(code, _)| *code == "PRV097" || *code == "PRV098")
            .collect()
    }

    #[test]
    fn each_cloud_channel_is_reported_at_its_place() {
        let found = privacy(
            r#"openclaw.channels = { telegram = { token = "env:TG" }, whatsapp = {}, signal = { account = "+15550100" }, slack = { enabled = false } },"#,
        );
        assert_eq!(
            found,
            [
                ("PRV097", "openclaw.channels.telegram".to_owned()),
                ("PRV097", "openclaw.channels.whatsapp".to_owned()),
                ("PRV097", "openclaw.channels.signal".to_owned()),
            ]
        );
    }

    #[test]
    fn an_acknowledged_cloud_channel_is_quiet_and_its_reason_must_be_one() {
        assert_eq!(
            privacy(
                r#"openclaw.channels.telegram = { cloud_reason = "the family already uses Telegram on every phone" },"#
            ),
            []
        );
        assert_eq!(
            privacy(r#"openclaw.channels.telegram = { cloud_reason = "TODO" },"#),
            [(
                "PRV098",
                "openclaw.channels.telegram.cloud_reason".to_owned()
            )]
        );
    }

    #[test]
    fn matrix_is_private_only_on_the_specs_own_homeserver() {
        assert_eq!(
            privacy(r#"openclaw.channels.matrix = {},"#),
            [("PRV097", "openclaw.channels.matrix".to_owned())]
        );
        let own = BASE.replace("'openclaw]", "'openclaw, 'homeserver]");
        let found: Vec<_> = findings(&format!(
            "{{ {own} openclaw.channels.matrix = {{ cloud_reason = \"an old habit of ours that we keep\" }}, }}"
        ))
        .into_iter()
        .filter(|(code, _)| code.starts_with("PRV09"))
        .collect();
        assert_eq!(
            found,
            [("PRV098", "openclaw.channels.matrix.cloud_reason".to_owned())]
        );
    }

    #[test]
    fn the_warning_names_the_private_alternative() {
        let diagnostics = crate::check::testing::diagnostics(&format!(
            "{{ {BASE} openclaw.channels.discord = {{ token = \"env:D\" }}, }}"
        ));
        let d = diagnostics.iter().find(|d| d.code == "PRV097").unwrap();
        let hint = d.hint.clone().unwrap_or_default();
        assert!(hint.contains("'homeserver"), "{hint}");
        assert!(
            hint.contains("openclaw.channels.discord.cloud_reason"),
            "{hint}"
        );
    }
}
