//! Where each service runs (PRV016): every service the spec configures must
//! resolve to exactly one host that has the service's role.
//!
//! A service's host is the one its `host` option names, else the only host
//! whose `roles` include the service (see [`Spec::service_host`]). This pass
//! reports the ways that resolution can fail: an unknown or role-less named
//! host, no host at all for a configured service, several candidates and no
//! `host` option to choose, a role without a service section, and a spec
//! with no hosts.

use crate::codes::{MISSING, SERVICE_HOST};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::{Role, Spec};

/// Runs this pass.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    if spec.hosts.is_empty() {
        out.push(no_hosts());
        return;
    }
    for role in [
        Role::Headscale,
        Role::Ollama,
        Role::Openclaw,
        Role::Homeserver,
    ] {
        check_role(spec, role, out);
    }
}

/// The spec's name of a service: its section and its role literal.
fn section(role: Role) -> &'static str {
    match role {
        Role::Headscale => "headscale",
        Role::Ollama => "ollama",
        Role::Openclaw => "openclaw",
        Role::Homeserver => "homeserver",
    }
}

/// The `host` option of the service that `role` stands for.
fn named_host(spec: &Spec, role: Role) -> Option<&str> {
    match role {
        Role::Headscale => spec.headscale.host.as_deref(),
        Role::Ollama => spec.ollama.host.as_deref(),
        Role::Openclaw => spec.openclaw.host.as_deref(),
        Role::Homeserver => spec.homeserver.host.as_deref(),
    }
}

/// Checks that the service of `role` resolves to one host that has the role.
fn check_role(spec: &Spec, role: Role, out: &mut Vec<Diagnostic>) {
    if let Some(name) = named_host(spec, role) {
        check_named(spec, role, name, out);
        return;
    }
    let with_role = role_positions(spec, role);
    if role == Role::Openclaw {
        for (host, index) in &with_role {
            out.extend(gateway_without_settings(spec, *host, *index));
        }
    }
    match with_role.as_slice() {
        [] => out.extend(missing_role(spec, role)),
        [_] => {}
        [_, (host, index), ..] => out.push(ambiguous(spec, role, *host, *index)),
    }
}

/// `(host index, roles index)` of every host that lists `role`.
fn role_positions(spec: &Spec, role: Role) -> Vec<(usize, usize)> {
    spec.hosts
        .iter()
        .enumerate()
        .filter_map(|(h, host)| {
            host.roles
                .iter()
                .position(|r| *r == role)
                .map(|index| (h, index))
        })
        .collect()
}

fn host_path(host: usize) -> SpecPath {
    SpecPath::root().key("hosts").index(host)
}

/// Checks the host a service's `host` option names.
fn check_named(spec: &Spec, role: Role, name: &str, out: &mut Vec<Diagnostic>) {
    let section = section(role);
    let path = SpecPath::root().key(section).key("host");
    let Some((index, host)) = spec.hosts.iter().enumerate().find(|(_, h)| h.name == name) else {
        let names: Vec<String> = spec.hosts.iter().map(|h| h.name.clone()).collect();
        let hint = match crate::spec::closest(name, &names) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("name one of the hosts: {}", list(&names)),
        };
        out.push(
            Diagnostic::error(
                SERVICE_HOST,
                format!("`{section}.host` names `{name}`, which is not a host of the spec"),
            )
            .at(path)
            .hint(hint),
        );
        return;
    };
    if !host.roles.contains(&role) {
        out.push(
            Diagnostic::error(
                SERVICE_HOST,
                format!("`{section}.host` names `{name}`, but that host does not have the role `'{section}`"),
            )
            .at(path)
            .hint(format!(
                "add `'{section}` to `hosts[{index}].roles`, or name a host that has it"
            )),
        );
    }
}

/// A configured service that no host runs, if the spec configures it.
fn missing_role(spec: &Spec, role: Role) -> Option<Diagnostic> {
    let section = section(role);
    let (path, what) = match role {
        Role::Headscale | Role::Homeserver => return None,
        Role::Ollama if !spec.ollama.models.is_empty() => (
            SpecPath::root().key("ollama").key("models"),
            "`ollama.models` lists models",
        ),
        Role::Openclaw if gateway_configured(spec) => (
            SpecPath::root().key("openclaw"),
            "the spec configures `openclaw` (an image or a model)",
        ),
        Role::Ollama | Role::Openclaw => return None,
    };
    Some(
        Diagnostic::error(
            SERVICE_HOST,
            format!("{what}, but no host has the role `'{section}`"),
        )
        .at(path)
        .hint(format!(
            "add `'{section}` to the `roles` of the host that should run it, or set `{section}.host`"
        )),
    )
}

/// Several hosts have `role` and the service's `host` option names none;
/// reported at the role of the second such host.
fn ambiguous(spec: &Spec, role: Role, host: usize, index: usize) -> Diagnostic {
    let section = section(role);
    let names: Vec<String> = spec
        .hosts
        .iter()
        .filter(|h| h.roles.contains(&role))
        .map(|h| h.name.clone())
        .collect();
    Diagnostic::error(
        SERVICE_HOST,
        format!(
            "several hosts have the role `'{section}` ({}) and `{section}.host` names none of them",
            list(&names)
        ),
    )
    .at(host_path(host).key("roles").index(index))
    .hint(format!(
        "set `{section}.host` to the host that runs {section}, or keep `'{section}` on one host only"
    ))
}

/// A host with the `'openclaw` role while the spec has no `openclaw` section.
/// Whether the spec says anything of its own about the gateway: its image
/// or its primary model (neither has a default).
fn gateway_configured(spec: &Spec) -> bool {
    spec.openclaw.image.is_some() || spec.openclaw.model.primary.is_some()
}

/// A host runs the gateway, but the options it cannot run without are unset.
fn gateway_without_settings(spec: &Spec, host: usize, index: usize) -> Vec<Diagnostic> {
    let name = &spec.hosts[host].name;
    let missing = [
        (
            "image",
            spec.openclaw.image.is_none(),
            "the container image, pinned by digest",
        ),
        (
            "model.primary",
            spec.openclaw.model.primary.is_none(),
            "the Ollama model it answers with",
        ),
    ];
    missing
        .into_iter()
        .filter(|(_, absent, _)| *absent)
        .map(|(option, _, what)| {
            Diagnostic::error(
                MISSING,
                format!("host `{name}` runs the gateway (role `'openclaw`), but `openclaw.{option}` has no value"),
            )
            .at(host_path(host).key("roles").index(index))
            .hint(format!("set `openclaw.{option}`: {what}; or remove the role"))
        })
        .collect()
}

/// The spec has no hosts at all.
fn no_hosts() -> Diagnostic {
    Diagnostic::error(SERVICE_HOST, "`hosts` is empty: there is nothing to deploy")
        .at(SpecPath::root().key("hosts"))
        .hint(
            "add a host, e.g. `hosts = [{ name = \"box\", platform = 'linux, ram_gb = 16, roles = ['ollama] }]`; \
             a hardware profile such as `privai/profiles/mac-16gb.ncl` can fill in its hardware",
        )
}

/// `a`, `b`, `c` — names in backticks, comma separated.
fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use crate::check::testing::{BASE, findings};
    use crate::codes::{MISSING, SERVICE_HOST};

    /// The PRV016 findings of `text`, as `(code, path)`.
    fn service_findings(text: &str) -> Vec<(&'static str, String)> {
        findings(text)
            .into_iter()
            .filter(|(code, _)| [SERVICE_HOST, MISSING].contains(code))
            .collect()
    }

    fn case(extra: &str) -> Vec<(&'static str, String)> {
        service_findings(&format!("{BASE} & {extra}"))
    }

    const OPENCLAW: &str = r#"image = "ghcr.io/openclaw/openclaw@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c", model.primary = "m""#;

    #[test]
    fn a_spec_with_one_host_per_role_is_fine() {
        assert_eq!(case("{}"), vec![]);
    }

    #[test]
    fn a_spec_without_hosts_has_nothing_to_deploy() {
        assert_eq!(
            service_findings("{ hosts = [] }"),
            vec![("PRV016", "hosts".into())]
        );
    }

    #[test]
    fn a_host_option_naming_an_unknown_host_is_an_error() {
        assert_eq!(
            case(r#"{ ollama.host = "bxo" }"#),
            vec![("PRV016", "ollama.host".into())]
        );
    }

    #[test]
    fn a_misspelt_host_gets_a_suggestion() {
        let text = format!(r#"{BASE} & {{ headscale.host = "bx" }}"#);
        let found = crate::check::testing::diagnostics(&text);
        let hint = found
            .iter()
            .find(|d| d.code == "PRV016")
            .and_then(|d| d.hint.clone())
            .unwrap();
        assert!(hint.contains("`box`"), "{hint}");
    }

    #[test]
    fn a_host_option_naming_a_host_without_the_role_is_an_error() {
        let text = r#"{
          hosts = [
            { name = "a", platform = 'linux, ram_gb = 16, roles = ['ollama] },
            { name = "b", platform = 'linux, ram_gb = 16, roles = [] },
          ],
          ollama.host = "b",
        }"#;
        assert_eq!(
            service_findings(text),
            vec![("PRV016", "ollama.host".into())]
        );
    }

    #[test]
    fn models_without_an_ollama_host_are_an_error() {
        let text = r#"{
          hosts = [ { name = "a", platform = 'linux, ram_gb = 16, roles = ['headscale] } ],
          ollama.models = [ { name = "m", role = 'primary } ],
        }"#;
        assert_eq!(
            service_findings(text),
            vec![("PRV016", "ollama.models".into())]
        );
    }

    #[test]
    fn no_ollama_host_is_fine_when_no_models_are_listed() {
        let text = r#"{ hosts = [ { name = "a", platform = 'linux, ram_gb = 16, roles = ['headscale] } ] }"#;
        assert_eq!(service_findings(text), vec![]);
    }

    #[test]
    fn a_gateway_section_without_a_gateway_host_is_an_error() {
        assert_eq!(
            case(&format!("{{ openclaw = {{ {OPENCLAW} }} }}")),
            vec![("PRV016", "openclaw".into())]
        );
    }

    #[test]
    fn a_gateway_role_without_an_image_or_a_model_is_an_error() {
        let text = r#"{ hosts = [ { name = "a", platform = 'linux, ram_gb = 16, roles = ['ollama, 'openclaw] } ] }"#;
        assert_eq!(
            service_findings(text),
            vec![
                ("PRV005", "hosts[0].roles[1]".into()),
                ("PRV005", "hosts[0].roles[1]".into())
            ]
        );
    }

    #[test]
    fn several_hosts_with_a_role_need_a_host_option() {
        let text = r#"{
          hosts = [
            { name = "a", platform = 'linux, ram_gb = 16, roles = ['ollama] },
            { name = "b", platform = 'linux, ram_gb = 16, roles = ['headscale, 'ollama] },
          ],
        }"#;
        assert_eq!(
            service_findings(text),
            vec![("PRV016", "hosts[1].roles[1]".into())]
        );
        let named = format!(r#"{text} & {{ ollama.host = "b" }}"#);
        assert_eq!(service_findings(&named), vec![]);
    }

    #[test]
    fn headscale_on_a_host_without_a_tailnet_ip_is_fine() {
        let text = r#"{ hosts = [ { name = "a", platform = 'linux, ram_gb = 16, roles = ['headscale] } ] }"#;
        assert_eq!(service_findings(text), vec![]);
    }

    #[test]
    fn the_seed_example_has_no_service_findings() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/seed-home.ncl"
        ))
        .unwrap();
        assert_eq!(service_findings(&text), vec![]);
    }
}
