//! Names: hosts, devices, users and models declared twice (PRV012), and
//! devices owned by a user that `users` does not declare (PRV010), with the
//! hint shared by every unknown user.

use super::{nodes, quoted};
use crate::codes::{DUPLICATE_NAME, UNKNOWN_USER};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::Spec;
use crate::spec::closest;
use std::collections::BTreeMap;

/// Host and device names with the path of each, hosts first: one namespace.
pub(super) fn node_names(spec: &Spec) -> Vec<(&str, SpecPath)> {
    nodes(spec)
        .map(|node| (node.name, node.path.key("name")))
        .collect()
}

/// Reports each name of `named` seen before, at its second occurrence.
fn report_duplicates<'a>(
    named: impl IntoIterator<Item = (&'a str, SpecPath)>,
    what: &str,
    hint: &str,
    out: &mut Vec<Diagnostic>,
) {
    let mut first: BTreeMap<&str, SpecPath> = BTreeMap::new();
    for (name, path) in named {
        match first.get(name) {
            Some(earlier) => out.push(
                Diagnostic::error(DUPLICATE_NAME, format!("{what} `{name}` is declared twice"))
                    .at(path)
                    .hint(hint)
                    .note(format!("first declared at `{earlier}`")),
            ),
            None => {
                first.insert(name, path);
            }
        }
    }
}

pub(super) fn duplicate_names(spec: &Spec, out: &mut Vec<Diagnostic>) {
    report_duplicates(
        node_names(spec),
        "the node name",
        "hosts and devices share one namespace (their tailnet names and ACL aliases): rename one of them",
        out,
    );
    let users = spec.users.iter().enumerate().map(|(i, u)| {
        let path = SpecPath::root().key("users").index(i).key("name");
        (u.name.as_str(), path)
    });
    report_duplicates(
        users,
        "the user",
        "declare each user once: remove this entry or rename it",
        out,
    );
    let models = spec.ollama.models.iter().enumerate().map(|(i, m)| {
        let path = SpecPath::root()
            .key("ollama")
            .key("models")
            .index(i)
            .key("name");
        (m.name.as_str(), path)
    });
    report_duplicates(
        models,
        "the model",
        "list each model once: remove this entry",
        out,
    );
}

pub(super) fn user_names(spec: &Spec) -> Vec<String> {
    spec.users.iter().map(|u| u.name.clone()).collect()
}

/// A hint for a user name that `users` does not declare.
pub(super) fn unknown_user_hint(name: &str, users: &[String]) -> String {
    if let Some(plain) = name.strip_suffix('@')
        && users.iter().any(|u| u == plain)
    {
        return format!("write the plain user name `{plain}`; privai adds the `@`");
    }
    if let Some(near) = closest(name, users) {
        return format!("did you mean `{near}`? If not, add `{name}` to `users`");
    }
    if users.is_empty() {
        format!("add it to `users`: `users = [{{ name = \"{name}\" }}]`")
    } else {
        format!("add it to `users`, or use one of {}", quoted(users))
    }
}

pub(super) fn device_owners(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let users = user_names(spec);
    for (i, device) in spec.devices.iter().enumerate() {
        if !users.contains(&device.user) {
            out.push(
                Diagnostic::error(
                    UNKNOWN_USER,
                    format!(
                        "device `{}` belongs to `{}`, which is not a declared user",
                        device.name, device.user
                    ),
                )
                .at(SpecPath::root().key("devices").index(i).key("user"))
                .hint(unknown_user_hint(&device.user, &users)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{expect, first_diagnostic, found, with_people};
    use super::*;

    #[test]
    fn a_device_owned_by_an_undeclared_user_is_reported_at_its_user() {
        let found = with_people(
            r#"devices = [{ name = "phone", user = "usr1", kind = 'phone, os = 'ios }]"#,
        );
        assert_eq!(found, expect(&[(UNKNOWN_USER, "devices[0].user")]));
    }

    #[test]
    fn an_unknown_user_gets_a_did_you_mean_hint() {
        let d = first_diagnostic(
            r#"{ users = [{ name = "user1" }], devices = [{ name = "phone", user = "usr1", kind = 'phone, os = 'ios }] }"#,
        );
        assert_eq!(
            d.hint.as_deref(),
            Some("did you mean `user1`? If not, add `usr1` to `users`")
        );
        assert!(d.message.contains("`usr1`"), "{}", d.message);
    }

    #[test]
    fn hosts_and_devices_share_one_namespace() {
        let found = with_people(
            r#"devices = [{ name = "box", user = "user1", kind = 'laptop, os = 'macos }, { name = "phone", user = "user1", kind = 'phone, os = 'ios }, { name = "phone", user = "user2", kind = 'phone, os = 'android }]"#,
        );
        assert_eq!(
            found,
            expect(&[
                (DUPLICATE_NAME, "devices[0].name"),
                (DUPLICATE_NAME, "devices[2].name")
            ])
        );
    }

    #[test]
    fn a_duplicate_points_at_the_second_occurrence_and_notes_the_first() {
        let d = first_diagnostic(r#"{ users = [{ name = "user1" }, { name = "user1" }] }"#);
        assert_eq!(d.code, DUPLICATE_NAME);
        assert_eq!(
            d.path.map(|p| p.to_string()).as_deref(),
            Some("users[1].name")
        );
        assert_eq!(
            d.notes,
            vec!["first declared at `users[0].name`".to_string()]
        );
    }

    #[test]
    fn duplicate_models_are_reported() {
        let found = found(
            r#"{ ollama.models = [{ name = "llama3.2:3b", role = 'primary }, { name = "llama3.2:3b", role = 'fallback }] }"#,
        );
        assert_eq!(found, expect(&[(DUPLICATE_NAME, "ollama.models[1].name")]));
    }
}
