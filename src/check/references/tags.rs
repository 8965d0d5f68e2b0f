//! Tags: whether a tag is a valid `tag:NAME` and has an owner in
//! `acl.tag_owners` (PRV018) and is lower-case (PRV076: Headscale 0.29
//! refuses any other with "tag should be lowercase"), for the tags of hosts
//! and devices here and for the tags the ACL policy names.

use super::{nodes, suggest};
use crate::codes::{TAG_UPPERCASE, TAG_WITHOUT_OWNER};
use crate::diagnostic::Diagnostic;
use crate::model::Spec;
use std::collections::BTreeMap;

/// Whether `name` (after `tag:`) is a tag name Headscale accepts.
pub(super) fn valid_tag_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_graphic() && c != ':')
}

/// `tag` (written `tag:NAME`) is not a valid tag; the hint renames it to
/// `example`, written the way the tag is written there.
pub(super) fn invalid_tag(tag: &str, example: &str) -> Diagnostic {
    Diagnostic::error(
        TAG_WITHOUT_OWNER,
        format!("`{tag}` is not a valid tag: tag names start with a letter and contain no spaces"),
    )
    .hint(format!("rename the tag, e.g. `{example}`"))
}

/// `tag` (written `tag:NAME` or `NAME`) has upper-case letters, which
/// Headscale refuses; `None` when it has none.
pub(super) fn uppercase_tag(tag: &str) -> Option<Diagnostic> {
    tag.chars().any(|c| c.is_uppercase()).then(|| {
        Diagnostic::error(
            TAG_UPPERCASE,
            format!("the tag `{tag}` has upper-case letters; Headscale refuses it (\"tag should be lowercase\")"),
        )
        .hint(format!("write it `{}`", tag.to_lowercase()))
    })
}

/// What is wrong with the tag `text` (`tag:NAME`, with `name` after `tag:`).
pub(super) fn tag_problem(
    text: &str,
    name: &str,
    owners: &BTreeMap<String, Vec<String>>,
) -> Option<Diagnostic> {
    if !valid_tag_name(name) {
        return Some(invalid_tag(text, "tag:server"));
    }
    if let Some(d) = uppercase_tag(text) {
        return Some(d);
    }
    if owners.contains_key(name) {
        return None;
    }
    let known: Vec<String> = owners.keys().map(|t| format!("tag:{t}")).collect();
    Some(
        Diagnostic::error(
            TAG_WITHOUT_OWNER,
            format!("the tag `{text}` has no owner in `acl.tag_owners`"),
        )
        .hint(suggest(text, &known, || {
            format!("declare who may assign it: `acl.tag_owners.{name} = [\"USER@\"]` (users, groups or tags)")
        })),
    )
}

pub(super) fn node_tags(spec: &Spec, out: &mut Vec<Diagnostic>) {
    for node in nodes(spec) {
        for (j, tag) in node.tags.iter().enumerate() {
            let found = match tag.strip_prefix("tag:") {
                Some(name) => tag_problem(tag, name, &spec.acl.tag_owners),
                None => Some(
                    Diagnostic::error(
                        TAG_WITHOUT_OWNER,
                        format!(
                            "the tag `{tag}` of `{}` is not written `tag:NAME`",
                            node.name
                        ),
                    )
                    .hint(format!("write `tag:{tag}`")),
                ),
            };
            if let Some(d) = found {
                out.push(d.at(node.path.key("tags").index(j)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{expect, with_people};
    use super::*;

    #[test]
    fn tags_need_an_owner_a_prefix_and_a_letter_first() {
        let found = with_people(
            r#"devices = [{ name = "phone", user = "user1", kind = 'phone, os = 'ios, tags = ["tag:mobile", "server", "tag:1st"] }],
               acl.rules = [{ src = ["tag:laptop"], dst = ["box:443"] }]"#,
        );
        assert_eq!(
            found,
            expect(&[
                (TAG_WITHOUT_OWNER, "devices[0].tags[0]"),
                (TAG_WITHOUT_OWNER, "devices[0].tags[1]"),
                (TAG_WITHOUT_OWNER, "devices[0].tags[2]"),
                (TAG_WITHOUT_OWNER, "acl.rules[0].src[0]"),
            ])
        );
    }

    #[test]
    fn upper_case_tags_are_refused_as_headscale_refuses_them() {
        let found = with_people(
            r#"devices = [{ name = "phone", user = "user1", kind = 'phone, os = 'ios, tags = ["tag:Mobile"] }],
               acl.tag_owners = { Mobile = ["user1@"] }"#,
        );
        assert_eq!(
            found,
            expect(&[
                (TAG_UPPERCASE, "devices[0].tags[0]"),
                (TAG_UPPERCASE, "acl.tag_owners.Mobile"),
            ])
        );
        let d = uppercase_tag("tag:Mobile").unwrap();
        assert_eq!(d.hint.as_deref(), Some("write it `tag:mobile`"));
    }
}
