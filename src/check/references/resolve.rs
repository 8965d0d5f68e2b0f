//! What one alias of the policy refers to, and whether it may appear where it
//! is written (PRV011, PRV017): users, groups, tags, autogroups and bare host,
//! device or `acl.hosts` names, each against the [`Policy`]'s names and the
//! [`Place`] of the entry.

use super::policy::Policy;
use super::tags::tag_problem;
use super::{quoted, suggest};
use crate::acl::alias::{Alias, parse_alias};
use crate::codes::{ACL_SYNTAX, UNKNOWN_ACL_REF};
use crate::diagnostic::Diagnostic;

/// Where an alias appears; Headscale allows different aliases in each place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// `acl.rules[i].src[j]`.
    Src,
    /// The target of `acl.rules[i].dst[j]`.
    Dst,
    /// `acl.tests[i].src`.
    TestSrc,
    /// The target of `acl.tests[i].accept[j]` or `deny[j]`.
    TestDst,
    /// `acl.tag_owners.TAG[j]`.
    TagOwner,
}

impl Place {
    fn describe(self) -> &'static str {
        match self {
            Place::Src => "as a rule source",
            Place::Dst => "as a rule destination",
            Place::TestSrc => "as a test source",
            Place::TestDst => "as a test destination",
            Place::TagOwner => "as a tag owner",
        }
    }

    /// Whether `autogroup:NAME` may appear here (Headscale policy v2: aliases and tests).
    fn allows_autogroup(self, name: &str) -> bool {
        match self {
            Place::Src | Place::TestSrc => matches!(name, "member" | "tagged" | "danger-all"),
            Place::Dst => matches!(name, "member" | "tagged" | "self" | "internet"),
            Place::TestDst | Place::TagOwner => false,
        }
    }

    fn autogroup_hint(self) -> &'static str {
        match self {
            Place::Src | Place::TestSrc => {
                "sources may use `autogroup:member` or `autogroup:tagged`"
            }
            Place::Dst => {
                "destinations may use `autogroup:member`, `autogroup:tagged`, `autogroup:self` or `autogroup:internet`"
            }
            Place::TestDst => "a test destination is a single host: name a host or device",
            Place::TagOwner => "tag owners are users (`NAME@`), groups and tags",
        }
    }
}

/// Autogroups of ACL rules, the ones a hint suggests.
const ACL_AUTOGROUPS: &[&str] = &["member", "tagged", "self", "internet"];

/// Other autogroups Headscale knows: `danger-all` (sources) and `nonroot` (SSH only).
const OTHER_AUTOGROUPS: &[&str] = &["danger-all", "nonroot"];

impl Policy<'_> {
    /// What is wrong with the alias `text` written in `place`, if anything.
    pub(super) fn alias(&self, text: &str, place: Place) -> Option<Diagnostic> {
        match parse_alias(text) {
            Alias::Empty => Some(
                Diagnostic::error(ACL_SYNTAX, "an ACL entry is empty")
                    .hint("write a user `NAME@`, a `group:NAME`, a `tag:NAME`, a host or device name, an IP or `*`"),
            ),
            Alias::Any | Alias::Ip { cidr: true } if place == Place::TestDst => {
                Some(not_single_host(text))
            }
            Alias::Group(_) if place == Place::TestDst => Some(not_single_host(text)),
            Alias::Any | Alias::Ip { .. } if place == Place::TagOwner => Some(not_an_owner(text)),
            Alias::Any | Alias::Ip { .. } => None,
            Alias::User(user) => self.user(user),
            Alias::Group(group) => self.group(text, group),
            Alias::Tag(name) => tag_problem(text, name, &self.spec.acl.tag_owners),
            Alias::Autogroup(name) => autogroup(text, name, place),
            Alias::Name(name) => self.name(text, name, place),
            Alias::Prefixed(prefix) => Some(
                Diagnostic::error(
                    ACL_SYNTAX,
                    format!("`{text}` is not an alias: `{prefix}:` is not a prefix Headscale knows"),
                )
                .hint("prefixes are `group:`, `tag:` and `autogroup:`; a user is written `NAME@`"),
            ),
        }
    }

    fn user(&self, text: &str) -> Option<Diagnostic> {
        let known = match text.strip_suffix('@') {
            Some(name) => self.users.iter().any(|u| u == name),
            None => self.emails.contains(text),
        };
        if known {
            return None;
        }
        Some(
            Diagnostic::error(
                UNKNOWN_ACL_REF,
                format!("`{text}` names a user the spec does not declare"),
            )
            .hint(suggest(text, &self.user_refs, || {
                "add the user to `users`, or fix the name".to_string()
            })),
        )
    }

    fn group(&self, text: &str, group: &str) -> Option<Diagnostic> {
        if self.spec.groups.contains_key(group) {
            return None;
        }
        let known: Vec<String> = self
            .spec
            .groups
            .keys()
            .map(|g| format!("group:{g}"))
            .collect();
        Some(
            Diagnostic::error(
                UNKNOWN_ACL_REF,
                format!("the group `{text}` is not declared"),
            )
            .hint(suggest(text, &known, || {
                format!("declare it: `groups.{group} = [\"USER\"]`")
            })),
        )
    }

    fn name(&self, text: &str, name: &str, place: Place) -> Option<Diagnostic> {
        let is_user = self.users.iter().any(|u| u == name);
        if place == Place::TagOwner && !is_user {
            return Some(not_an_owner(text));
        }
        match self.nodes.get(name) {
            Some(true) if place != Place::TagOwner => None,
            Some(false) if place != Place::TagOwner => Some(
                Diagnostic::warning(
                    UNKNOWN_ACL_REF,
                    format!("`{name}` has no `tailnet_ip`, so the policy cannot name it"),
                )
                .hint(format!(
                    "pin a `tailnet_ip` on `{name}`: privai names hosts and devices in the policy by their address"
                )),
            ),
            _ if self.spec.acl.hosts.contains_key(name) && place != Place::TagOwner => None,
            _ if is_user => Some(
                Diagnostic::error(
                    ACL_SYNTAX,
                    format!("`{text}` names the user `{name}` without `@`"),
                )
                .hint(format!(
                    "write `{name}@`; a bare name is a host, a device or an `acl.hosts` alias"
                )),
            ),
            _ => Some(
                Diagnostic::error(
                    UNKNOWN_ACL_REF,
                    format!("`{text}` is not a host, a device or an `acl.hosts` alias"),
                )
                .hint(suggest(name, &self.names, || {
                    "declare it in `hosts`, `devices` or `acl.hosts`, or write a user as `NAME@`"
                        .to_string()
                })),
            ),
        }
    }
}

fn autogroup(text: &str, name: &str, place: Place) -> Option<Diagnostic> {
    if !ACL_AUTOGROUPS.contains(&name) && !OTHER_AUTOGROUPS.contains(&name) {
        let known: Vec<String> = ACL_AUTOGROUPS
            .iter()
            .map(|a| format!("autogroup:{a}"))
            .collect();
        return Some(
            Diagnostic::error(
                UNKNOWN_ACL_REF,
                format!("`{text}` is not an autogroup Headscale knows"),
            )
            .hint(suggest(text, &known, || {
                format!("Headscale knows {}", quoted(&known))
            })),
        );
    }
    if place.allows_autogroup(name) {
        return None;
    }
    Some(
        Diagnostic::error(
            ACL_SYNTAX,
            format!("`{text}` cannot be used {}", place.describe()),
        )
        .hint(place.autogroup_hint()),
    )
}

fn not_single_host(text: &str) -> Diagnostic {
    Diagnostic::error(
        ACL_SYNTAX,
        format!("the test destination `{text}` is not a single host"),
    )
    .hint("tests check one host and one port: name a host, a device, an alias or one IP")
}

fn not_an_owner(text: &str) -> Diagnostic {
    Diagnostic::error(ACL_SYNTAX, format!("`{text}` cannot own a tag"))
        .hint("tag owners are users (`NAME@`), groups (`group:NAME`) and tags (`tag:NAME`)")
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{expect, first_diagnostic, found, rule};
    use super::*;

    #[test]
    fn undeclared_groups_users_hosts_and_autogroups_in_rules_are_unknown_references() {
        let found = rule(
            r#""group:trustd", "user3@", "autogroup:admin""#,
            r#""nas:443""#,
        );
        assert_eq!(
            found,
            expect(&[
                (UNKNOWN_ACL_REF, "acl.rules[0].src[0]"),
                (UNKNOWN_ACL_REF, "acl.rules[0].src[1]"),
                (UNKNOWN_ACL_REF, "acl.rules[0].src[2]"),
                (UNKNOWN_ACL_REF, "acl.rules[0].dst[0]"),
            ])
        );
    }

    #[test]
    fn an_unknown_group_suggests_the_declared_one() {
        let d = first_diagnostic(
            r#"{ users = [{ name = "u" }], groups.trusted = ["u"], acl.rules = [{ src = ["group:trustd"], dst = ["box:443"] }] }"#,
        );
        assert_eq!(d.hint.as_deref(), Some("did you mean `group:trusted`?"));
    }

    #[test]
    fn a_user_written_without_at_is_a_syntax_error_with_a_fix() {
        let found = rule(r#""user1""#, r#""user2:22""#);
        assert_eq!(
            found,
            expect(&[
                (ACL_SYNTAX, "acl.rules[0].src[0]"),
                (ACL_SYNTAX, "acl.rules[0].dst[0]")
            ])
        );
        let d = first_diagnostic(
            r#"{ users = [{ name = "user1" }], acl.rules = [{ src = ["user1"], dst = ["box:443"] }] }"#,
        );
        assert_eq!(
            d.hint.as_deref(),
            Some("write `user1@`; a bare name is a host, a device or an `acl.hosts` alias")
        );
    }

    #[test]
    fn an_email_user_matches_a_declared_email() {
        let found = found(
            r#"{ users = [{ name = "alice", email = "alice@example.com" }], acl.rules = [{ src = ["alice@example.com", "bob@example.com"], dst = ["box:443"] }] }"#,
        );
        assert_eq!(found, expect(&[(UNKNOWN_ACL_REF, "acl.rules[0].src[1]")]));
    }

    #[test]
    fn autogroups_respect_their_placement() {
        let found = rule(
            r#""autogroup:internet", "autogroup:self""#,
            r#""autogroup:danger-all:*", "autogroup:internet:443""#,
        );
        assert_eq!(
            found,
            expect(&[
                (ACL_SYNTAX, "acl.rules[0].src[0]"),
                (ACL_SYNTAX, "acl.rules[0].src[1]"),
                (ACL_SYNTAX, "acl.rules[0].dst[0]"),
            ])
        );
    }

    #[test]
    fn an_unknown_prefix_is_a_syntax_error() {
        let found = rule(r#""grp:trusted""#, r#""host:box:443""#);
        assert_eq!(
            found,
            expect(&[
                (ACL_SYNTAX, "acl.rules[0].src[0]"),
                (ACL_SYNTAX, "acl.rules[0].dst[0]")
            ])
        );
    }

    #[test]
    fn a_node_without_an_address_named_by_the_policy_is_a_warning() {
        let d = first_diagnostic(
            r#"{ users = [{ name = "u" }], devices = [{ name = "phone", user = "u", kind = 'phone, os = 'ios }], acl.rules = [{ src = ["phone"], dst = ["box:443"] }] }"#,
        );
        assert_eq!((d.code, d.is_error()), (UNKNOWN_ACL_REF, false));
    }
}
