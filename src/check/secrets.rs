//! Secrets are written as references, never as values.
//!
//! Every secret field (`headscale.api_key`, `openclaw.gateway_token`,
//! `openclaw.channels.<id>.token`) must be a reference: `env:NAME`,
//! `file:PATH` or `keychain:ITEM` ([`SecretRef`], parsed when the spec is
//! read). Anything else is taken for the secret itself (PRV040): the diagnostic never repeats it and hides the source
//! excerpt. A reference with a known scheme but a malformed rest is PRV041,
//! and so is one reference used for two different secrets.

use crate::codes::{LITERAL_SECRET, SECRET_REF};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::secret_ref::Form;
use crate::model::{SecretRef, Spec};

/// How to write a reference, for hints.
const FORMS: &str = "`keychain:ITEM`, `file:~/.config/privai/secrets/NAME` (a file only you can read) or `env:NAME`";

/// Checks every secret field of the spec.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let fields = secret_fields(spec);
    for (path, value) in &fields {
        if let Some(diagnostic) = classify(path, value) {
            out.push(diagnostic);
        }
    }
    shared_references(&fields, out);
}

/// Every secret field that has a value, with its path.
fn secret_fields(spec: &Spec) -> Vec<(SpecPath, &SecretRef)> {
    let mut fields = Vec::new();
    if let Some(key) = &spec.headscale.api_key {
        fields.push((SpecPath::root().key("headscale").key("api_key"), key));
    }
    // Checked whether or not a host runs the gateway: a secret written into
    // the spec leaks through git either way.
    let openclaw = &spec.openclaw;
    let base = SpecPath::root().key("openclaw");
    fields.push((base.key("gateway_token"), &openclaw.gateway_token));
    for (id, channel) in openclaw.channels.iter() {
        if let Some(token) = &channel.token {
            fields.push((base.key("channels").key(id).key("token"), token));
        }
    }
    fields
}

/// The diagnostic for the secret field at `path`, if its value is wrong.
fn classify(path: &SpecPath, value: &SecretRef) -> Option<Diagnostic> {
    match value.form() {
        Form::Env { .. } | Form::File { .. } | Form::Keychain { .. } => None,
        // Never quote `value` here: it is presumably the secret.
        Form::Literal => Some(
            Diagnostic::error(
                LITERAL_SECRET,
                format!("`{path}` holds a secret value instead of a reference to it"),
            )
            .at(path.clone())
            .hint(format!(
                "store the secret outside the spec and write a reference: {FORMS}; then rotate the secret, since the spec has exposed it"
            ))
            .redacted(),
        ),
        Form::Malformed(why) => Some(
            Diagnostic::error(
                SECRET_REF,
                format!(
                    "the secret reference `{}` of `{path}` {why}",
                    value.as_str()
                ),
            )
            .at(path.clone())
            .hint(format!("write a reference: {FORMS}")),
        ),
    }
}

/// PRV041: one well-formed reference used for two different secrets.
fn shared_references(fields: &[(SpecPath, &SecretRef)], out: &mut Vec<Diagnostic>) {
    for (i, (path, value)) in fields.iter().enumerate() {
        if !value.is_valid() {
            continue;
        }
        if let Some((first, _)) = fields[..i].iter().find(|(_, v)| v == value) {
            out.push(
                Diagnostic::warning(
                    SECRET_REF,
                    format!("`{path}` uses the same reference `{}` as `{first}`: two secrets share one value", value.as_str()),
                )
                .at(path.clone())
                .hint("give each secret its own value and reference, so one leak or rotation does not touch the other"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::testing::{
        BASE, diagnostics_of, findings, findings_of, pairs, seed_findings, summary, with_gateway,
    };
    use crate::diagnostic::{Diagnostic, Severity};
    use crate::model::SecretRef;
    use crate::model::secret_ref::Form;

    /// A secret as a leaked value would look.
    const SECRET: &str = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    fn is_secrets(code: &str) -> bool {
        matches!(code, "PRV040" | "PRV041")
    }

    /// `(code, path)` of this pass's findings for `case`.
    fn found(case: &str) -> Vec<(&'static str, String)> {
        findings_of(&with_gateway(case), is_secrets)
    }

    /// This pass's diagnostics for `case`.
    fn reported(case: &str) -> Vec<Diagnostic> {
        diagnostics_of(&with_gateway(case), is_secrets)
    }

    #[test]
    fn references_of_every_form_are_accepted() {
        for value in [
            "env:TELEGRAM_BOT_TOKEN",
            "env:_X1",
            "file:/run/secrets/token",
            "file:~/.config/privai/secrets/gateway-token",
            "keychain:privai-gateway-token",
        ] {
            assert!(SecretRef::parse(value).is_valid(), "{value}");
        }
    }

    #[test]
    fn a_known_scheme_with_a_bad_rest_is_malformed() {
        for value in [
            "env:lower-case",
            "env:",
            "env:1ABC",
            "file:relative/path",
            "file:",
            "file:/run/secrets/",
            "keychain:",
            "keychain:  ",
            "",
        ] {
            assert!(
                matches!(SecretRef::parse(value).form(), Form::Malformed(_)),
                "{value}"
            );
        }
    }

    #[test]
    fn anything_else_is_a_literal_secret() {
        for value in [
            SECRET,
            "hunter2",
            "sk-abc",
            "https://token@example.org",
            "ENV:TOKEN",
        ] {
            assert_eq!(SecretRef::parse(value).form(), &Form::Literal, "{value}");
        }
    }

    #[test]
    fn the_defaults_and_the_seed_give_no_finding() {
        assert_eq!(found("{}"), vec![]);
        assert_eq!(seed_findings(is_secrets), vec![]);
    }

    #[test]
    fn a_literal_secret_is_reported_at_each_secret_field() {
        let case = format!(
            r#"{{ headscale.api_key = "{SECRET}a",
                 openclaw.gateway_token = "{SECRET}b",
                 openclaw.channels.telegram.token = "{SECRET}c" }}"#
        );
        assert_eq!(
            found(&case),
            pairs(&[
                ("PRV040", "headscale.api_key"),
                ("PRV040", "openclaw.gateway_token"),
                ("PRV040", "openclaw.channels.telegram.token"),
            ])
        );
    }

    #[test]
    fn a_literal_secret_is_never_repeated_and_its_source_is_hidden() {
        let reported = reported(&format!(r#"{{ openclaw.gateway_token = "{SECRET}" }}"#));
        assert_eq!(reported.len(), 1, "{reported:#?}");
        let d = &reported[0];
        assert_eq!(d.code, "PRV040");
        assert_eq!(d.severity, Severity::Error);
        assert!(d.redact_source);
        assert!(!d.message.contains(SECRET));
        assert!(!d.hint.as_deref().unwrap_or_default().contains(SECRET));
        assert!(d.notes.iter().all(|n| !n.contains(SECRET)));
        assert!(d.related.iter().all(|(_, label)| !label.contains(SECRET)));
        assert!(!format!("{d:?}").contains("AAHdqTcv"));
    }

    #[test]
    fn a_malformed_reference_is_reported_and_shown() {
        let reported = reported(r#"{ headscale.api_key = "env:headscale-key" }"#);
        assert_eq!(reported.len(), 1, "{reported:#?}");
        let d = &reported[0];
        assert_eq!(d.code, "PRV041");
        assert_eq!(d.path.as_ref().unwrap().to_string(), "headscale.api_key");
        assert!(!d.redact_source);
        assert!(d.message.contains("`env:headscale-key`"));
    }

    #[test]
    fn one_reference_for_two_secrets_is_a_warning_at_the_second() {
        let reported = reported(
            r#"{ openclaw.gateway_token = "keychain:privai-token",
                 openclaw.channels.telegram.token = "keychain:privai-token" }"#,
        );
        let summary = summary(&reported);
        assert_eq!(
            summary,
            vec![(
                "PRV041",
                "openclaw.channels.telegram.token".to_string(),
                Severity::Warning
            )]
        );
    }

    #[test]
    fn the_headscale_key_is_checked_without_a_gateway() {
        let case = format!(r#"{BASE} & {{ headscale.api_key = "{SECRET}" }}"#);
        let codes: Vec<_> = findings(&case)
            .into_iter()
            .filter(|(code, _)| is_secrets(code))
            .collect();
        assert_eq!(codes, pairs(&[("PRV040", "headscale.api_key")]));
    }
}
