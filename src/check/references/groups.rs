//! Groups: members that are not plain declared users (PRV010, PRV019), keys
//! that repeat `group:` (PRV017), and empty groups (PRV019), an error when
//! the ACL policy names them.

use super::names::{unknown_user_hint, user_names};
use crate::acl::alias::{Alias, parse_alias, split_destination};
use crate::codes::{ACL_SYNTAX, EMPTY_GROUP, UNKNOWN_USER};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::Spec;
use std::collections::BTreeSet;

pub(super) fn group_members(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let users = user_names(spec);
    for (group, members) in &spec.groups {
        let path = SpecPath::root().key("groups").key(group);
        if group.starts_with("group:") {
            out.push(
                Diagnostic::error(
                    ACL_SYNTAX,
                    format!("the group key `{group}` repeats `group:`"),
                )
                .at(path.clone())
                .hint("write the key without `group:`; privai adds it in the policy"),
            );
        }
        for (j, member) in members.iter().enumerate() {
            if let Some(d) = group_member(group, member, &users) {
                out.push(d.at(path.index(j)));
            }
        }
    }
}

/// What is wrong with `member` of `group`, if anything.
fn group_member(group: &str, member: &str, users: &[String]) -> Option<Diagnostic> {
    if member.starts_with("group:") {
        return Some(
            Diagnostic::error(
                EMPTY_GROUP,
                format!("group `{group}` lists the group `{member}`: Headscale groups cannot contain groups"),
            )
            .hint(format!("list the users of `{member}` in `groups.{group}` instead")),
        );
    }
    if member.contains(':') {
        return Some(
            Diagnostic::error(
                EMPTY_GROUP,
                format!("group `{group}` lists `{member}`: groups contain users only"),
            )
            .hint("list plain user names from `users`"),
        );
    }
    if let Some(plain) = member.strip_suffix('@') {
        return Some(
            Diagnostic::error(
                EMPTY_GROUP,
                format!("group `{group}` lists `{member}` with an `@`"),
            )
            .hint(format!(
                "write `{plain}`: groups list plain user names and privai writes the `@`"
            )),
        );
    }
    if users.iter().any(|u| u == member) {
        return None;
    }
    Some(
        Diagnostic::error(
            UNKNOWN_USER,
            format!("group `{group}` lists `{member}`, which is not a declared user"),
        )
        .hint(unknown_user_hint(member, users)),
    )
}

/// The targets of the destinations `list` (`box` of `box:443`).
fn targets(list: &[String]) -> impl Iterator<Item = &str> {
    list.iter()
        .filter_map(|d| split_destination(d).map(|(target, _)| target))
}

/// Groups named by ACL rules and tests (not by tag owners).
fn groups_in_policy(spec: &Spec) -> BTreeSet<&str> {
    let mut aliases: Vec<&str> = Vec::new();
    for rule in &spec.acl.rules {
        aliases.extend(rule.src.iter().map(String::as_str));
        aliases.extend(targets(&rule.dst));
    }
    for test in &spec.acl.tests {
        aliases.push(&test.src);
        aliases.extend(targets(&test.accept));
        aliases.extend(targets(&test.deny));
    }
    aliases
        .into_iter()
        .filter_map(|a| match parse_alias(a) {
            Alias::Group(group) => Some(group),
            _ => None,
        })
        .collect()
}

pub(super) fn empty_groups(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let used = groups_in_policy(spec);
    for group in spec
        .groups
        .iter()
        .filter(|(_, m)| m.is_empty())
        .map(|(g, _)| g)
    {
        let path = SpecPath::root().key("groups").key(group);
        let found = if used.contains(group.as_str()) {
            Diagnostic::error(
                EMPTY_GROUP,
                format!("group `{group}` has no members, so the ACL entries that name `group:{group}` never match"),
            )
            .hint(format!("add users to `groups.{group}`, or remove the entries that name it"))
        } else {
            Diagnostic::warning(EMPTY_GROUP, format!("group `{group}` has no members"))
                .hint(format!("add users to `groups.{group}`, or remove it"))
        };
        out.push(found.at(path));
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{expect, first_diagnostic, found, with_people};
    use super::*;

    #[test]
    fn a_group_member_that_is_not_a_user_is_reported_at_the_member() {
        let found =
            found(r#"{ users = [{ name = "user1" }], groups.trusted = ["user1", "mallory"] }"#);
        assert_eq!(found, expect(&[(UNKNOWN_USER, "groups.trusted[1]")]));
    }

    #[test]
    fn group_members_are_plain_user_names_not_groups_tags_or_user_at() {
        let found = with_people(r#"groups.admins = ["user1@", "group:trusted", "tag:x"]"#);
        assert_eq!(
            found,
            expect(&[
                (EMPTY_GROUP, "groups.admins[0]"),
                (EMPTY_GROUP, "groups.admins[1]"),
                (EMPTY_GROUP, "groups.admins[2]"),
            ])
        );
    }

    #[test]
    fn an_unused_empty_group_is_a_warning_and_a_used_one_an_error() {
        let unused = first_diagnostic(r#"{ groups.nobody = [] }"#);
        assert_eq!((unused.code, unused.is_error()), (EMPTY_GROUP, false));
        let used = first_diagnostic(
            r#"{ groups.nobody = [], acl.rules = [{ src = ["group:nobody"], dst = ["box:443"] }] }"#,
        );
        assert_eq!((used.code, used.is_error()), (EMPTY_GROUP, true));
        assert_eq!(
            used.path.map(|p| p.to_string()).as_deref(),
            Some("groups.nobody")
        );
    }
}
