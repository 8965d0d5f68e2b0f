//! Paths the spec gives privai: files it writes or reads (TLS certificate
//! and key, `file:` secrets), folders it mounts into the gateway's
//! container, the directory Ollama keeps its models in.
//!
//! - PRV080: a path that is not absolute — starting with `/`, or with `~/`
//!   where the option allows the operator's home — or not normalised: a
//!   `..` or `.` component, `//`, a trailing `/`. Such a path can lead
//!   outside the directory privai installs under (`--root`, `build --out`,
//!   the operator's home); the write layer refuses it too
//!   ([`crate::render::paths::split_install_path`]), this names the option.
//! - PRV081: a character the path's target format cannot carry: a NUL or
//!   other control character anywhere; `:` in a folder's paths (compose
//!   reads a volume as `HOST:CONTAINER:MODE`); `$` in any path compose
//!   reads (it would interpolate a variable).
//!
//! A `file:` secret reference is checked here only once the secrets pass
//! accepts its form (`file:/…` or `file:~/…`), so that it is reported once.

use crate::codes::{PATH_CHARACTER, PATH_FORM};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::{SecretRef, Spec};
use crate::render::paths::split_install_path;

/// Where a path may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// `/` only: the program reading it does not expand `~`.
    Root,
    /// `/` or `~/` (the operator's home).
    RootOrHome,
}

/// How a path reaches the program that uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A configuration file privai writes with proper quoting, or privai itself.
    Quoted,
    /// A compose volume (`HOST:CONTAINER:MODE`): `:` and `$` break it.
    Volume,
    /// A file compose reads (`secrets.*.file`): `$` breaks it.
    Compose,
}

/// One path-valued option.
struct Field<'a> {
    at: SpecPath,
    value: &'a str,
    start: Start,
    target: Target,
}

/// Runs this pass.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    for field in fields(spec) {
        if let Some(diagnostic) = characters(&field) {
            out.push(diagnostic);
        } else {
            out.extend(form(&field));
            out.extend(target_characters(&field));
        }
    }
}

/// Every path-valued option the spec sets, in spec order.
fn fields(spec: &Spec) -> Vec<Field<'_>> {
    let mut found = Vec::new();
    let headscale = SpecPath::root().key("headscale");
    let tls = &spec.headscale.tls;
    for (key, value) in [("cert_path", &tls.cert_path), ("key_path", &tls.key_path)] {
        if let Some(value) = value {
            found.push(Field {
                at: headscale.key("tls").key(key),
                value,
                start: Start::RootOrHome,
                target: Target::Quoted,
            });
        }
    }
    if let Some(reference) = &spec.headscale.api_key {
        found.extend(secret_file(
            headscale.key("api_key"),
            reference,
            Target::Quoted,
        ));
    }
    if let Some(dir) = &spec.ollama.models_dir {
        found.push(Field {
            at: SpecPath::root().key("ollama").key("models_dir"),
            value: dir,
            start: Start::Root,
            target: Target::Quoted,
        });
    }
    for (index, model) in spec.ollama.models.iter().enumerate() {
        // A source other than `file:/…` is the models pass's to report.
        if let Some(path) = model
            .source
            .as_deref()
            .and_then(|s| s.strip_prefix("file:"))
            && path.starts_with('/')
        {
            found.push(Field {
                at: SpecPath::root()
                    .key("ollama")
                    .key("models")
                    .index(index)
                    .key("source"),
                value: path,
                start: Start::Root,
                target: Target::Quoted,
            });
        }
    }
    let openclaw = SpecPath::root().key("openclaw");
    found.extend(secret_file(
        openclaw.key("gateway_token"),
        &spec.openclaw.gateway_token,
        Target::Compose,
    ));
    for (id, channel) in spec.openclaw.channels.iter() {
        if let Some(token) = &channel.token {
            found.extend(secret_file(
                openclaw.key("channels").key(id).key("token"),
                token,
                Target::Compose,
            ));
        }
    }
    for (index, folder) in spec.openclaw.folders.iter().enumerate() {
        let at = openclaw.key("folders").index(index);
        found.push(Field {
            at: at.key("host_path"),
            value: &folder.host_path,
            start: Start::RootOrHome,
            target: Target::Volume,
        });
        found.push(Field {
            at: at.key("container_path"),
            value: &folder.container_path,
            start: Start::Root,
            target: Target::Volume,
        });
    }
    found
}

/// The path of a `file:` reference whose form the secrets pass accepts.
fn secret_file(at: SpecPath, reference: &SecretRef, target: Target) -> Option<Field<'_>> {
    Some(Field {
        at,
        value: reference.file()?,
        start: Start::RootOrHome,
        target,
    })
}

/// PRV081 for a NUL or other control character, which no target carries.
fn characters(field: &Field<'_>) -> Option<Diagnostic> {
    let bad = field.value.chars().find(|c| c.is_control())?;
    Some(
        Diagnostic::error(
            PATH_CHARACTER,
            format!(
                "the path {:?} of `{}` has the control character {bad:?}",
                field.value, field.at
            ),
        )
        .at(field.at.clone())
        .hint("write the path without control characters (NUL, newline, tab…)"),
    )
}

/// PRV080 for a path that is not absolute or not normalised.
fn form(field: &Field<'_>) -> Option<Diagnostic> {
    let Field {
        at, value, start, ..
    } = field;
    if *start == Start::Root && value.starts_with("~/") {
        return Some(
            Diagnostic::error(
                PATH_FORM,
                format!(
                    "the path `{value}` of `{at}` starts with `~/`, which is not expanded here"
                ),
            )
            .at(at.clone())
            .hint("give the full path, starting with `/`"),
        );
    }
    let why = split_install_path(value).err()?;
    let hint = match normalised(value) {
        Some(fixed) if fixed != *value => format!("write `{fixed}`"),
        _ if value.split('/').any(|name| name == "..") => {
            "write the absolute path it should name, without `..`: privai installs only below `/` or `~/` as written"
                .to_owned()
        }
        _ => match start {
            Start::Root => "give an absolute path, starting with `/`".to_owned(),
            Start::RootOrHome => {
                "give an absolute path, starting with `/` or `~/` (your home)".to_owned()
            }
        },
    };
    Some(
        Diagnostic::error(PATH_FORM, format!("the path `{value}` of `{at}` {why}"))
            .at(at.clone())
            .hint(hint),
    )
}

/// `path` without `.` and empty components, if it starts with `/` or `~/`,
/// has no `..` and names something below its start.
fn normalised(path: &str) -> Option<String> {
    let (start, rest) = match path.strip_prefix("~/") {
        Some(rest) => ("~/", rest),
        None => ("/", path.strip_prefix('/')?),
    };
    let names: Vec<&str> = rest
        .split('/')
        .filter(|name| !name.is_empty() && *name != ".")
        .collect();
    if names.is_empty() || names.contains(&"..") {
        return None;
    }
    Some(format!("{start}{}", names.join("/")))
}

/// PRV081 for `:` in a volume path and `$` in any path compose reads.
fn target_characters(field: &Field<'_>) -> Vec<Diagnostic> {
    let Field {
        at, value, target, ..
    } = field;
    let mut found = Vec::new();
    if *target == Target::Volume && value.contains(':') {
        found.push(
            Diagnostic::error(
                PATH_CHARACTER,
                format!(
                    "the path `{value}` of `{at}` has a `:`, which splits a compose volume (`HOST:CONTAINER:MODE`)"
                ),
            )
            .at(at.clone())
            .hint("use a folder whose path has no `:` (rename it, or mount a folder above it)"),
        );
    }
    if matches!(target, Target::Volume | Target::Compose) && value.contains('$') {
        found.push(
            Diagnostic::error(
                PATH_CHARACTER,
                format!(
                    "the path `{value}` of `{at}` has a `$`, which compose reads as a variable"
                ),
            )
            .at(at.clone())
            .hint("use a path without `$`"),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use super::normalised;
    use crate::check::testing::{BASE, diagnostics_of, findings_of, pairs, with_gateway};

    fn ours(code: &str) -> bool {
        code == "PRV080" || code == "PRV081"
    }

    #[test]
    fn the_seed_and_the_defaults_have_no_path_problems() {
        assert_eq!(
            crate::check::testing::seed_findings(ours),
            Vec::<(&str, String)>::new()
        );
        assert_eq!(
            findings_of(&with_gateway("{}"), ours),
            Vec::<(&str, String)>::new()
        );
    }

    #[test]
    fn a_file_secret_that_climbs_out_of_the_root_is_refused_with_its_location() {
        let spec = with_gateway(r#"{ openclaw.gateway_token = "file:/../../../x" }"#);
        let found = diagnostics_of(&spec, ours);
        assert_eq!(found.len(), 1, "{found:#?}");
        let d = &found[0];
        assert_eq!(d.code, "PRV080");
        assert!(d.is_error());
        assert_eq!(
            d.path.as_ref().unwrap().to_string(),
            "openclaw.gateway_token"
        );
        assert!(d.message.contains("`..`"), "{}", d.message);
        let location = d.location.as_ref().expect("a location");
        assert_eq!(location.line, spec.lines().count(), "the line of the value");
        assert!(d.hint.as_deref().unwrap().contains("without `..`"));
    }

    #[test]
    fn a_home_relative_secret_that_climbs_out_of_the_home_is_refused() {
        let spec = with_gateway(r#"{ openclaw.gateway_token = "file:~/../../x" }"#);
        assert_eq!(
            findings_of(&spec, ours),
            pairs(&[("PRV080", "openclaw.gateway_token")])
        );
        let spec = format!(r#"{BASE} & {{ headscale.api_key = "file:~/../k" }}"#);
        assert_eq!(
            findings_of(&spec, ours),
            pairs(&[("PRV080", "headscale.api_key")])
        );
    }

    #[test]
    fn channel_tokens_are_checked_like_the_gateway_token() {
        let spec = with_gateway(
            r#"{ openclaw.channels.telegram = { token = "file:/run/../../x", allow_from = ["1"], dm_policy = 'allowlist } }"#,
        );
        assert_eq!(
            findings_of(&spec, ours),
            pairs(&[("PRV080", "openclaw.channels.telegram.token")])
        );
    }

    #[test]
    fn tls_certificate_and_key_paths_must_be_normalised() {
        let spec = format!(
            r#"{BASE} & {{ headscale.tls = {{ cert_path = "/etc/../../x.crt", key_path = "/etc/tls//hs.key" }} }}"#
        );
        let found = diagnostics_of(&spec, ours);
        let summary: Vec<_> = found
            .iter()
            .map(|d| (d.code, d.path.as_ref().unwrap().to_string()))
            .collect();
        assert_eq!(
            summary,
            pairs(&[
                ("PRV080", "headscale.tls.cert_path"),
                ("PRV080", "headscale.tls.key_path")
            ])
        );
        assert_eq!(found[1].hint.as_deref(), Some("write `/etc/tls/hs.key`"));
    }

    #[test]
    fn a_folder_host_path_with_dot_dot_or_a_colon_is_refused() {
        let spec = with_gateway(
            r#"{ openclaw.folders = [
                 { name = "config", host_path = "~/.openclaw/../../../etc", container_path = "/home/node/.openclaw/config", mode = 'ro },
                 { name = "workspace", host_path = "~/work:shared", container_path = "/w", mode = 'rw },
               ] }"#,
        );
        assert_eq!(
            findings_of(&spec, ours),
            pairs(&[
                ("PRV080", "openclaw.folders[0].host_path"),
                ("PRV081", "openclaw.folders[1].host_path"),
            ])
        );
    }

    #[test]
    fn a_container_path_must_start_with_a_slash_and_have_no_colon() {
        let spec = with_gateway(
            r#"{ openclaw.folders = [
                 { name = "workspace", host_path = "~/w", container_path = "~/w", mode = 'rw },
                 { name = "sessions", host_path = "~/s", container_path = "/s:rw", mode = 'ro },
               ] }"#,
        );
        assert_eq!(
            findings_of(&spec, ours),
            pairs(&[
                ("PRV080", "openclaw.folders[0].container_path"),
                ("PRV081", "openclaw.folders[1].container_path"),
            ])
        );
    }

    #[test]
    fn a_dollar_in_a_path_compose_reads_is_refused_elsewhere_allowed() {
        let spec = with_gateway(
            r#"{ openclaw.gateway_token = "file:~/$HOME/token", openclaw.folders = [
                 { name = "workspace", host_path = "/srv/$USER", container_path = "/w", mode = 'rw },
               ] }"#,
        );
        assert_eq!(
            findings_of(&spec, ours),
            pairs(&[
                ("PRV081", "openclaw.gateway_token"),
                ("PRV081", "openclaw.folders[0].host_path"),
            ])
        );
        let spec = format!(
            r#"{BASE} & {{ headscale.tls = {{ cert_path = "/etc/$x.crt", key_path = "/etc/x.key" }} }}"#
        );
        assert_eq!(findings_of(&spec, ours), Vec::<(&str, String)>::new());
    }

    #[test]
    fn ollama_models_dir_must_be_a_normalised_path_from_the_root() {
        for (dir, code) in [
            ("/srv/models/../../../etc", "PRV080"),
            ("/srv/./models", "PRV080"),
            ("/srv/models/", "PRV080"),
            ("/srv/models\nx", "PRV081"),
        ] {
            let spec = format!(
                "{BASE} & {{ ollama.models_dir = {} }}",
                serde_json::to_string(dir).unwrap()
            );
            assert_eq!(
                findings_of(&spec, ours),
                pairs(&[(code, "ollama.models_dir")]),
                "{dir:?}"
            );
        }
    }

    #[test]
    fn normalising_drops_dots_and_empty_names_but_never_resolves_dot_dot() {
        assert_eq!(normalised("/a//b/./c/").as_deref(), Some("/a/b/c"));
        assert_eq!(normalised("~/./x").as_deref(), Some("~/x"));
        assert_eq!(normalised("/a/../b"), None);
        assert_eq!(normalised("relative"), None);
        assert_eq!(normalised("//"), None);
    }
}
