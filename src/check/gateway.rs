//! The OpenClaw gateway's wiring: its models and its messaging channels.
//!
//! The gateway's primary and fallback models must be declared in
//! `ollama.models` (PRV060), agree with the roles given there (PRV061) and
//! have the context window OpenClaw insists on (PRV062). Each enabled channel
//! must let some people in and not everyone (PRV063), and must be able to run
//! where the gateway runs (PRV064).

use crate::codes::{
    CHANNEL_PLATFORM, CHANNEL_POLICY, CONTEXT_TOO_SMALL, MODEL_ROLES, UNKNOWN_MODEL,
};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::{
    Channel, ChannelPolicy, GroupPolicy, Model, ModelRole, Openclaw, Platform, Role, Spec,
};

/// OpenClaw's minimum context window, in tokens ("Minimum is 16000").
pub const MIN_CONTEXT: u32 = 16000;
/// Channels that log in with a bot token.
const TOKEN_CHANNELS: &[&str] = &["telegram", "discord", "slack"];
/// The provider prefix of OpenClaw's model references.
const PROVIDER_PREFIX: &str = "ollama/";

/// Checks the gateway's models and channels.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let Some(openclaw) = spec.gateway() else {
        return;
    };
    // Without a primary there is nothing to wire; `services` reports it.
    let Some(primary) = openclaw.model.primary.as_deref() else {
        return;
    };
    let gateway_models = gateway_models(openclaw, primary);
    unknown_models(spec, &gateway_models, out);
    model_roles(spec, openclaw, primary, &gateway_models, out);
    context_windows(spec, &gateway_models, out);
    for (id, channel) in openclaw.channels.iter().filter(|(_, c)| c.enabled) {
        channel_policy(id, channel, out);
    }
    imessage(spec, openclaw, out);
}

/// The path of `openclaw.model.primary`.
fn primary_path() -> SpecPath {
    SpecPath::root().key("openclaw").key("model").key("primary")
}

/// The path of `openclaw.model.fallbacks`.
fn fallbacks_path() -> SpecPath {
    SpecPath::root()
        .key("openclaw")
        .key("model")
        .key("fallbacks")
}

/// The path of `ollama.models[INDEX]`.
fn model_path(index: usize) -> SpecPath {
    SpecPath::root().key("ollama").key("models").index(index)
}

/// The path of `openclaw.channels.ID.KEY`.
fn channel_path(id: &str, key: &str) -> SpecPath {
    SpecPath::root()
        .key("openclaw")
        .key("channels")
        .key(id)
        .key(key)
}

/// A model the gateway names: where, and which name.
struct GatewayModel<'a> {
    /// The path of the name.
    path: SpecPath,
    /// The name as written.
    name: &'a str,
    /// Whether it is the primary.
    primary: bool,
}

/// The primary, then the fallbacks in order.
fn gateway_models<'a>(openclaw: &'a Openclaw, primary: &'a str) -> Vec<GatewayModel<'a>> {
    let primary = GatewayModel {
        path: primary_path(),
        name: primary,
        primary: true,
    };
    let fallbacks = openclaw
        .model
        .fallbacks
        .iter()
        .enumerate()
        .map(|(i, name)| GatewayModel {
            path: fallbacks_path().index(i),
            name,
            primary: false,
        });
    std::iter::once(primary).chain(fallbacks).collect()
}

/// `name` with Ollama's implicit `:latest` tag made explicit.
fn canonical(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// Whether `a` and `b` name the same Ollama model.
fn same_model(a: &str, b: &str) -> bool {
    canonical(a) == canonical(b)
}

/// The declared model named `name`, with its index in `ollama.models`.
fn declared<'a>(spec: &'a Spec, name: &str) -> Option<(usize, &'a Model)> {
    spec.ollama
        .models
        .iter()
        .enumerate()
        .find(|(_, m)| same_model(&m.name, name))
}

/// PRV060: gateway models that `ollama.models` does not declare.
fn unknown_models(spec: &Spec, gateway_models: &[GatewayModel], out: &mut Vec<Diagnostic>) {
    let names: Vec<String> = spec.ollama.models.iter().map(|m| m.name.clone()).collect();
    for model in gateway_models
        .iter()
        .filter(|m| declared(spec, m.name).is_none())
    {
        let which = if model.primary { "primary" } else { "fallback" };
        let unprefixed = model.name.strip_prefix(PROVIDER_PREFIX);
        let hint = match (unprefixed, crate::spec::closest(model.name, &names)) {
            (Some(bare), _) if declared(spec, bare).is_some() => format!(
                "write the Ollama name without the provider: `\"{bare}\"`; privai adds `{PROVIDER_PREFIX}` itself"
            ),
            (_, Some(near)) => format!("did you mean `\"{near}\"`?"),
            _ => format!(
                "declare it in `ollama.models`, e.g. `{{ name = \"{}\", role = '{which} }}`, or name one of the declared models",
                model.name
            ),
        };
        out.push(
            Diagnostic::error(
                UNKNOWN_MODEL,
                format!(
                    "the gateway's {which} model `{}` is not declared in `ollama.models`, so Ollama will not pull it",
                    model.name
                ),
            )
            .at(model.path.clone())
            .hint(hint),
        );
    }
}

/// PRV061: fallbacks missing or repeating, embedding models, and `'primary` roles.
fn model_roles(
    spec: &Spec,
    openclaw: &Openclaw,
    primary: &str,
    gateway_models: &[GatewayModel],
    out: &mut Vec<Diagnostic>,
) {
    if openclaw.model.fallbacks.is_empty() {
        out.push(
            Diagnostic::warning(
                MODEL_ROLES,
                "the gateway has no fallback model: when Ollama does not answer with the primary, nothing else is tried",
            )
            .at(fallbacks_path())
            .hint("declare a smaller model with `role = 'fallback` in `ollama.models` and list it in `openclaw.model.fallbacks`"),
        );
    }
    repeated_fallbacks(openclaw, primary, out);
    for model in gateway_models {
        let embedding =
            declared(spec, model.name).is_some_and(|(_, m)| m.role == ModelRole::Embedding);
        if embedding {
            out.push(
                Diagnostic::error(
                    MODEL_ROLES,
                    format!(
                        "`{}` is an embedding model (`role = 'embedding`): it cannot chat",
                        model.name
                    ),
                )
                .at(model.path.clone())
                .hint("name a chat model here; embedding models only turn text into vectors"),
            );
        }
    }
    primary_roles(spec, primary, out);
}

/// Fallbacks that repeat the primary or an earlier fallback.
fn repeated_fallbacks(openclaw: &Openclaw, primary: &str, out: &mut Vec<Diagnostic>) {
    let fallbacks = &openclaw.model.fallbacks;
    for (i, fallback) in fallbacks.iter().enumerate() {
        let message = if same_model(fallback, primary) {
            format!(
                "fallback `{fallback}` is the primary model: when the primary fails, trying it again does not help"
            )
        } else if fallbacks[..i].iter().any(|f| same_model(f, fallback)) {
            format!("fallback `{fallback}` is listed twice")
        } else {
            continue;
        };
        out.push(
            Diagnostic::warning(MODEL_ROLES, message)
                .at(fallbacks_path().index(i))
                .hint("remove it from `openclaw.model.fallbacks`; a fallback should be another, smaller model"),
        );
    }
}

/// Models with `role = 'primary` that are not the gateway's primary.
fn primary_roles(spec: &Spec, primary: &str, out: &mut Vec<Diagnostic>) {
    let primaries: Vec<(usize, &Model)> = spec
        .ollama
        .models
        .iter()
        .enumerate()
        .filter(|(_, m)| m.role == ModelRole::Primary)
        .collect();
    let gateway_is_primary = primaries.iter().any(|(_, m)| same_model(&m.name, primary));
    let role_path = |i: usize| model_path(i).key("role");
    if primaries.len() > 1 {
        // Keep the gateway's primary, or else the first one.
        let kept = if gateway_is_primary {
            None
        } else {
            Some(primaries[0].0)
        };
        for (i, model) in &primaries {
            if same_model(&model.name, primary) || Some(*i) == kept {
                continue;
            }
            out.push(
                Diagnostic::error(
                    MODEL_ROLES,
                    format!("`{}` is a second model with `role = 'primary`; the gateway has one primary, `{primary}`", model.name),
                )
                .at(role_path(*i))
                .hint("give it `role = 'fallback` (and list it in `openclaw.model.fallbacks`) or another role"),
            );
        }
    } else if let [(i, model)] = primaries.as_slice()
        && !gateway_is_primary
        && declared(spec, primary).is_some()
    {
        out.push(
            Diagnostic::warning(
                MODEL_ROLES,
                format!(
                    "`{}` has `role = 'primary`, but the gateway's primary is `{primary}`",
                    model.name
                ),
            )
            .at(role_path(*i))
            .hint(format!(
                "set `openclaw.model.primary = \"{}\"`, or give this model another role",
                model.name
            )),
        );
    }
}

/// PRV062: gateway models whose context window is below OpenClaw's minimum.
/// Models that inherit a too-small `ollama.context_length` share one finding.
fn context_windows(spec: &Spec, gateway_models: &[GatewayModel], out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<usize> = Vec::new();
    let mut inheriting: Vec<&str> = Vec::new();
    for model in gateway_models {
        let Some((index, declared)) = declared(spec, model.name) else {
            continue;
        };
        if seen.contains(&index) {
            continue;
        }
        seen.push(index);
        match declared.context_length {
            Some(own) if own < MIN_CONTEXT => out.push(
                too_small(&[&declared.name], own)
                    .at(model_path(index).key("context_length"))
                    .hint(format!(
                        "set `context_length` of `{}` to at least {MIN_CONTEXT} (16384 is usual)",
                        declared.name
                    )),
            ),
            Some(_) => {}
            None if spec.ollama.context_length < MIN_CONTEXT => inheriting.push(&declared.name),
            None => {}
        }
    }
    if !inheriting.is_empty() {
        out.push(
            too_small(&inheriting, spec.ollama.context_length)
                .at(SpecPath::root().key("ollama").key("context_length"))
                .hint(format!("set `ollama.context_length` to at least {MIN_CONTEXT} (16384 is usual), or give the model its own `context_length`")),
        );
    }
}

/// The PRV062 error for the models `names`, whose window is `tokens`.
fn too_small(names: &[&str], tokens: u32) -> Diagnostic {
    let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let names = names.join(", ");
    Diagnostic::error(
        CONTEXT_TOO_SMALL,
        format!(
            "the context window of {names} is {tokens} tokens; OpenClaw refuses models below {MIN_CONTEXT} (\"Model context window too small\")"
        ),
    )
}

/// PRV063: who may use an enabled channel.
fn channel_policy(id: &str, channel: &Channel, out: &mut Vec<Diagnostic>) {
    match channel.dm_policy {
        ChannelPolicy::Open => out.push(
            Diagnostic::error(
                CHANNEL_POLICY,
                format!("channel `{id}` has `dm_policy = 'open`: anyone who finds the bot can use your AI and its tools"),
            )
            .at(channel_path(id, "dm_policy"))
            .hint("use `dm_policy = 'pairing` (you approve each new sender) or `'allowlist` with `allow_from`"),
        ),
        ChannelPolicy::Allowlist if channel.allow_from.is_empty() => out.push(
            Diagnostic::warning(
                CHANNEL_POLICY,
                format!("channel `{id}` has `dm_policy = 'allowlist` but `allow_from` is empty: no one can talk to the bot"),
            )
            .at(channel_path(id, "allow_from"))
            .hint("list the sender ids in `allow_from`, or use `dm_policy = 'pairing`"),
        ),
        ChannelPolicy::Disabled if channel.group_policy == GroupPolicy::Disabled => out.push(
            Diagnostic::warning(
                CHANNEL_POLICY,
                format!("channel `{id}` disables both direct messages and groups: no one can use it"),
            )
            .at(channel_path(id, "dm_policy"))
            .hint(format!("use `dm_policy = 'pairing` or `'allowlist`, or set `channels.{id}.enabled = false`")),
        ),
        _ => {}
    }
    if channel.dm_policy != ChannelPolicy::Disabled {
        for (i, sender) in channel.allow_from.iter().enumerate() {
            if sender.trim() == "*" {
                out.push(
                    Diagnostic::error(
                        CHANNEL_POLICY,
                        format!("channel `{id}` allows `\"*\"`: every sender, as if `dm_policy` were `'open`"),
                    )
                    .at(channel_path(id, "allow_from").index(i))
                    .hint("list the sender ids one by one"),
                );
            }
        }
    }
    if channel.group_policy == GroupPolicy::Open {
        out.push(
            Diagnostic::error(
                CHANNEL_POLICY,
                format!("channel `{id}` has `group_policy = 'open`: any group the bot is added to can use your AI"),
            )
            .at(channel_path(id, "group_policy"))
            .hint("use `group_policy = 'disabled` or `'allowlist`"),
        );
    }
    if TOKEN_CHANNELS.contains(&id) && channel.token.is_none() {
        out.push(
            Diagnostic::warning(
                CHANNEL_POLICY,
                format!("channel `{id}` has no `token`: the gateway cannot log in to it"),
            )
            .at(channel_path(id, "token"))
            .hint(format!("set `channels.{id}.token` to a reference such as `\"keychain:privai-{id}-bot-token\"`")),
        );
    }
}

/// PRV064: iMessage needs macOS, and the gateway runs in a Linux container.
fn imessage(spec: &Spec, openclaw: &Openclaw, out: &mut Vec<Diagnostic>) {
    if !openclaw
        .channels
        .imessage
        .as_ref()
        .is_some_and(|c| c.enabled)
    {
        return;
    }
    let message = match spec.service_host(Role::Openclaw) {
        Some(host) if host.platform == Platform::Linux => format!(
            "channel `imessage` needs macOS, but the gateway's host `{}` runs Linux",
            host.name
        ),
        Some(host) => format!(
            "channel `imessage` needs macOS itself, but the gateway runs in a Linux container even on `{}`",
            host.name
        ),
        None => "channel `imessage` needs macOS itself, but the gateway runs in a Linux container"
            .to_string(),
    };
    out.push(
        Diagnostic::error(CHANNEL_PLATFORM, message)
            .at(channel_path("imessage", "enabled"))
            .hint("set `channels.imessage.enabled = false` or remove the channel; use Telegram, Signal or WhatsApp instead"),
    );
}

#[cfg(test)]
mod tests {
    use super::canonical;
    use crate::check::testing::{
        diagnostics_of, findings_of, pairs, seed_findings, summary, with_gateway,
    };
    use crate::diagnostic::{Diagnostic, Severity};

    fn is_gateway(code: &str) -> bool {
        ("PRV060"..="PRV064").contains(&code)
    }

    /// `(code, path)` of this pass's findings for `case`.
    fn found(case: &str) -> Vec<(&'static str, String)> {
        findings_of(&with_gateway(case), is_gateway)
    }

    /// This pass's diagnostics for `case`.
    fn reported(case: &str) -> Vec<Diagnostic> {
        diagnostics_of(&with_gateway(case), is_gateway)
    }

    #[test]
    fn a_wired_gateway_gives_no_finding() {
        assert_eq!(found("{}"), vec![]);
    }

    #[test]
    fn the_seed_gives_no_finding() {
        assert_eq!(seed_findings(is_gateway), vec![]);
    }

    #[test]
    fn a_tag_without_size_means_latest() {
        assert_eq!(canonical("llama3.2"), "llama3.2:latest");
        assert_eq!(canonical("llama3.2:latest"), "llama3.2:latest");
        assert_eq!(
            canonical("registry.local:5000/team/llama"),
            "registry.local:5000/team/llama:latest"
        );
        assert_eq!(
            found(
                r#"{ openclaw.model.primary | force = "qwen2.5:14b", ollama.models | force = [ { name = "qwen2.5:14b", role = 'primary }, { name = "llama3.2", role = 'fallback } ], openclaw.model.fallbacks | force = ["llama3.2:latest"] }"#
            ),
            vec![]
        );
    }

    #[test]
    fn an_undeclared_primary_is_an_error_with_a_suggestion() {
        let reported = reported(r#"{ openclaw.model.primary | force = "qwen2.5:14" }"#);
        let summary: Vec<_> = reported
            .iter()
            .map(|d| (d.code, d.path.as_ref().unwrap().to_string()))
            .collect();
        assert_eq!(summary, pairs(&[("PRV060", "openclaw.model.primary")]));
        assert!(
            reported[0].hint.as_ref().unwrap().contains("qwen2.5:14b"),
            "{reported:#?}"
        );
    }

    #[test]
    fn an_undeclared_fallback_is_an_error_at_its_index() {
        assert_eq!(
            found(r#"{ openclaw.model.fallbacks | force = ["llama3.2:3b", "mistral:7b"] }"#),
            pairs(&[("PRV060", "openclaw.model.fallbacks[1]")])
        );
    }

    #[test]
    fn a_provider_prefix_is_explained() {
        let reported = reported(r#"{ openclaw.model.primary | force = "ollama/qwen2.5:14b" }"#);
        assert_eq!(reported.len(), 1, "{reported:#?}");
        assert!(
            reported[0]
                .hint
                .as_ref()
                .unwrap()
                .contains("without the provider")
        );
    }

    #[test]
    fn no_fallback_is_a_warning() {
        let reported = reported(
            r#"{ openclaw.model.fallbacks | force = [], ollama.models | force = [ { name = "qwen2.5:14b", role = 'primary } ] }"#,
        );
        assert_eq!(reported.len(), 1, "{reported:#?}");
        assert_eq!(reported[0].code, "PRV061");
        assert_eq!(reported[0].severity, Severity::Warning);
        assert_eq!(
            reported[0].path.as_ref().unwrap().to_string(),
            "openclaw.model.fallbacks"
        );
    }

    #[test]
    fn a_fallback_equal_to_the_primary_or_repeated_is_a_warning() {
        assert_eq!(
            found(
                r#"{ openclaw.model.fallbacks | force = ["llama3.2:3b", "qwen2.5:14b", "llama3.2:3b"] }"#
            ),
            pairs(&[
                ("PRV061", "openclaw.model.fallbacks[1]"),
                ("PRV061", "openclaw.model.fallbacks[2]"),
            ])
        );
    }

    #[test]
    fn an_embedding_model_cannot_be_the_primary() {
        let reported = reported(
            r#"{ ollama.models | force = [ { name = "nomic-embed-text", role = 'embedding }, { name = "llama3.2:3b", role = 'fallback } ],
                 openclaw.model.primary | force = "nomic-embed-text" }"#,
        );
        let summary = summary(&reported);
        assert_eq!(
            summary,
            vec![(
                "PRV061",
                "openclaw.model.primary".to_string(),
                Severity::Error
            )]
        );
    }

    #[test]
    fn a_primary_role_elsewhere_is_a_warning() {
        let reported = reported(
            r#"{ ollama.models | force = [ { name = "qwen2.5:14b", role = 'extra }, { name = "llama3.2:3b", role = 'fallback }, { name = "mistral:7b", role = 'primary } ] }"#,
        );
        let summary = summary(&reported);
        assert_eq!(
            summary,
            vec![(
                "PRV061",
                "ollama.models[2].role".to_string(),
                Severity::Warning
            )]
        );
    }

    #[test]
    fn two_primary_roles_are_an_error() {
        let reported = reported(
            r#"{ ollama.models | force = [ { name = "qwen2.5:14b", role = 'primary }, { name = "llama3.2:3b", role = 'fallback }, { name = "mistral:7b", role = 'primary } ] }"#,
        );
        let summary = summary(&reported);
        assert_eq!(
            summary,
            vec![(
                "PRV061",
                "ollama.models[2].role".to_string(),
                Severity::Error
            )]
        );
    }

    #[test]
    fn a_small_own_context_is_reported_at_the_model() {
        assert_eq!(
            found(
                r#"{ ollama.models | force = [ { name = "qwen2.5:14b", role = 'primary }, { name = "llama3.2:3b", role = 'fallback, context_length = 8192 } ] }"#
            ),
            pairs(&[("PRV062", "ollama.models[1].context_length")])
        );
    }

    #[test]
    fn a_small_default_context_is_reported_once_at_ollama() {
        let reported = reported("{ ollama.context_length = 4096 }");
        assert_eq!(reported.len(), 1, "{reported:#?}");
        assert_eq!(reported[0].code, "PRV062");
        assert_eq!(
            reported[0].path.as_ref().unwrap().to_string(),
            "ollama.context_length"
        );
        assert!(reported[0].message.contains("`qwen2.5:14b`, `llama3.2:3b`"));
    }

    #[test]
    fn an_own_context_overrides_a_small_default() {
        assert_eq!(
            found(
                r#"{ ollama.context_length = 4096,
                     ollama.models | force = [ { name = "qwen2.5:14b", role = 'primary, context_length = 32768 }, { name = "llama3.2:3b", role = 'fallback, context_length = 16384 } ] }"#
            ),
            vec![]
        );
    }

    #[test]
    fn open_policies_are_errors_and_an_empty_allowlist_a_warning() {
        let reported = reported(
            r#"{ openclaw.channels = {
                 telegram = { dm_policy = 'open, token = "env:TELEGRAM_BOT_TOKEN" },
                 signal = { dm_policy = 'allowlist, group_policy = 'open },
               } }"#,
        );
        let summary = summary(&reported);
        assert_eq!(
            summary,
            vec![
                (
                    "PRV063",
                    "openclaw.channels.telegram.dm_policy".to_string(),
                    Severity::Error
                ),
                (
                    "PRV063",
                    "openclaw.channels.signal.allow_from".to_string(),
                    Severity::Warning
                ),
                (
                    "PRV063",
                    "openclaw.channels.signal.group_policy".to_string(),
                    Severity::Error
                ),
            ]
        );
    }

    #[test]
    fn pairing_with_an_allowlist_is_fine() {
        assert_eq!(
            found(
                r#"{ openclaw.channels.signal = { dm_policy = 'pairing, allow_from = ["+15550001111"], account = "+15550002222" } }"#
            ),
            vec![]
        );
    }

    #[test]
    fn a_wildcard_sender_is_an_error() {
        assert_eq!(
            found(
                r#"{ openclaw.channels.signal = { dm_policy = 'allowlist, allow_from = ["+15550001111", "*"] } }"#
            ),
            pairs(&[("PRV063", "openclaw.channels.signal.allow_from[1]")])
        );
    }

    #[test]
    fn a_token_channel_without_token_is_a_warning() {
        let reported = reported("{ openclaw.channels.discord = { dm_policy = 'pairing } }");
        assert_eq!(reported.len(), 1, "{reported:#?}");
        assert_eq!(reported[0].severity, Severity::Warning);
        assert_eq!(
            reported[0].path.as_ref().unwrap().to_string(),
            "openclaw.channels.discord.token"
        );
    }

    #[test]
    fn a_disabled_channel_is_not_checked() {
        assert_eq!(
            found(
                "{ openclaw.channels.slack = { enabled = false, dm_policy = 'open }, openclaw.channels.imessage.enabled = false }"
            ),
            vec![]
        );
    }

    #[test]
    fn imessage_on_a_linux_gateway_host_is_an_error() {
        let reported = reported("{ openclaw.channels.imessage = {} }");
        assert_eq!(reported.len(), 1, "{reported:#?}");
        assert_eq!(reported[0].code, "PRV064");
        assert_eq!(
            reported[0].path.as_ref().unwrap().to_string(),
            "openclaw.channels.imessage.enabled"
        );
        assert!(reported[0].message.contains("runs Linux"));
    }

    #[test]
    fn imessage_on_a_mac_is_still_an_error_in_the_container() {
        let reported = reported(
            r#"{ hosts | force = [ { name = "mac", platform = 'darwin, ram_gb = 36, roles = ['headscale, 'ollama, 'openclaw], tailnet_ip = "100.64.0.1" } ],
                 openclaw.channels.imessage = {} }"#,
        );
        assert_eq!(reported.len(), 1, "{reported:#?}");
        assert_eq!(reported[0].code, "PRV064");
        assert!(reported[0].message.contains("container"));
    }
}
