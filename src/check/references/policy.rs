//! The ACL policy: walks `acl.rules`, `acl.tests` and `acl.tag_owners` and
//! checks each entry in its place (PRV011, PRV017, PRV018): empty rules and
//! tests, rule and test destinations with their ports, sources that cannot
//! reach `autogroup:self`, and tag owner keys. [`Policy`] holds the names an
//! entry can refer to; [`super::resolve`] resolves one alias against them.

use super::names::user_names;
use super::resolve::Place;
use super::tags::{invalid_tag, uppercase_tag, valid_tag_name};
use super::{acl_path, nodes};
use crate::acl::alias::{Alias, Ports, parse_alias, parse_ports, split_destination};
use crate::codes::ACL_SYNTAX;
use crate::diagnostic::Diagnostic;
use crate::model::{Protocol, Spec};
use std::collections::{BTreeMap, BTreeSet};

/// The names the policy can refer to, looked up once.
pub(super) struct Policy<'a> {
    pub(super) spec: &'a Spec,
    pub(super) users: Vec<String>,
    /// `NAME@` of every user, for suggestions.
    pub(super) user_refs: Vec<String>,
    pub(super) emails: BTreeSet<&'a str>,
    /// Host and device names, with whether the node pins a tailnet address.
    pub(super) nodes: BTreeMap<&'a str, bool>,
    /// Host and device names and `acl.hosts` keys, for suggestions.
    pub(super) names: Vec<String>,
}

impl<'a> Policy<'a> {
    pub(super) fn new(spec: &'a Spec) -> Self {
        let users = user_names(spec);
        let nodes: BTreeMap<&str, bool> = nodes(spec)
            .map(|node| (node.name, node.tailnet_ip.is_some()))
            .collect();
        let names = nodes
            .keys()
            .map(|n| n.to_string())
            .chain(spec.acl.hosts.keys().cloned())
            .collect();
        Self {
            spec,
            user_refs: users.iter().map(|u| format!("{u}@")).collect(),
            users,
            emails: spec
                .users
                .iter()
                .filter_map(|u| u.email.as_deref())
                .collect(),
            nodes,
            names,
        }
    }

    pub(super) fn rules(&self, out: &mut Vec<Diagnostic>) {
        for (i, rule) in self.spec.acl.rules.iter().enumerate() {
            let path = acl_path().key("rules").index(i);
            for (field, list) in [("src", &rule.src), ("dst", &rule.dst)] {
                if list.is_empty() {
                    out.push(
                        Diagnostic::error(ACL_SYNTAX, format!("rule {i} has an empty `{field}`"))
                            .at(path.key(field))
                            .hint(format!("a rule with no `{field}` never matches: fill it in or remove the rule")),
                    );
                }
            }
            for (j, src) in rule.src.iter().enumerate() {
                if let Some(d) = self.alias(src, Place::Src) {
                    out.push(d.at(path.key("src").index(j)));
                }
            }
            for (j, dst) in rule.dst.iter().enumerate() {
                if let Some(d) = self.destination(dst, rule.proto) {
                    out.push(d.at(path.key("dst").index(j)));
                }
            }
            let to_self = rule
                .dst
                .iter()
                .filter_map(|d| split_destination(d))
                .any(|(target, _)| target.trim() == "autogroup:self");
            if to_self {
                for (j, src) in rule.src.iter().enumerate() {
                    if let Some(d) = self_source(src) {
                        out.push(d.at(path.key("src").index(j)));
                    }
                }
            }
        }
    }

    pub(super) fn tests(&self, out: &mut Vec<Diagnostic>) {
        for (i, test) in self.spec.acl.tests.iter().enumerate() {
            let path = acl_path().key("tests").index(i);
            if test.accept.is_empty() && test.deny.is_empty() {
                out.push(
                    Diagnostic::error(
                        ACL_SYNTAX,
                        format!("test {i} of `{}` checks nothing", test.src),
                    )
                    .at(path.clone())
                    .hint(
                        "give the test `accept` or `deny` destinations (`HOST:PORT`), or remove it",
                    ),
                );
            }
            if let Some(d) = self.alias(&test.src, Place::TestSrc) {
                out.push(d.at(path.key("src")));
            }
            for (field, list) in [("accept", &test.accept), ("deny", &test.deny)] {
                for (j, dst) in list.iter().enumerate() {
                    if let Some(d) = self.test_destination(dst) {
                        out.push(d.at(path.key(field).index(j)));
                    }
                }
            }
        }
    }

    pub(super) fn tag_owners(&self, out: &mut Vec<Diagnostic>) {
        for (tag, owners) in &self.spec.acl.tag_owners {
            let path = acl_path().key("tag_owners").key(tag);
            if tag.starts_with("tag:") {
                out.push(
                    Diagnostic::error(
                        ACL_SYNTAX,
                        format!("the tag owner key `{tag}` repeats `tag:`"),
                    )
                    .at(path.clone())
                    .hint("write the key without `tag:`; privai adds it in the policy"),
                );
            } else if !valid_tag_name(tag) {
                out.push(invalid_tag(&format!("tag:{tag}"), "server").at(path.clone()));
            } else if let Some(d) = uppercase_tag(tag) {
                out.push(d.at(path.clone()));
            }
            for (j, owner) in owners.iter().enumerate() {
                if let Some(d) = self.alias(owner, Place::TagOwner) {
                    out.push(d.at(path.index(j)));
                }
            }
        }
    }

    /// What is wrong with the rule destination `text`, if anything.
    fn destination(&self, text: &str, proto: Option<Protocol>) -> Option<Diagnostic> {
        let Some((target, ports)) = split_destination(text) else {
            return Some(missing_ports(text));
        };
        if let Some(d) = self.alias(target, Place::Dst) {
            return Some(d);
        }
        match parse_ports(ports) {
            Err(why) => Some(bad_ports(text, &why)),
            Ok(Ports::Ranges(_)) if proto == Some(Protocol::Icmp) => Some(
                Diagnostic::error(
                    ACL_SYNTAX,
                    format!(
                        "`{text}` names ports, but the rule is limited to ICMP, which has none"
                    ),
                )
                .hint(format!("write `{target}:*`, or change the rule's `proto`")),
            ),
            Ok(_) => None,
        }
    }

    /// What is wrong with the test destination `text` (one host, one port).
    fn test_destination(&self, text: &str) -> Option<Diagnostic> {
        let Some((target, ports)) = split_destination(text) else {
            return Some(missing_ports(text));
        };
        if let Some(d) = self.alias(target, Place::TestDst) {
            return Some(d);
        }
        match parse_ports(ports) {
            Err(why) => Some(bad_ports(text, &why)),
            Ok(Ports::Ranges(ranges)) if ranges.len() == 1 && ranges[0].0 == ranges[0].1 => None,
            Ok(_) => Some(
                Diagnostic::error(
                    ACL_SYNTAX,
                    format!("the test destination `{text}` does not name a single port"),
                )
                .hint(format!(
                    "tests check one host and one port, e.g. `{target}:443`"
                )),
            ),
        }
    }
}

/// What is wrong with `src` in a rule whose destinations include `autogroup:self`.
fn self_source(src: &str) -> Option<Diagnostic> {
    let allowed = match parse_alias(src) {
        Alias::Tag(_) | Alias::Ip { .. } | Alias::Name(_) => false,
        Alias::Autogroup(name) => name != "tagged",
        _ => true,
    };
    (!allowed).then(|| {
        Diagnostic::error(
            ACL_SYNTAX,
            format!("`{src}` cannot reach `autogroup:self`: only users, groups and `autogroup:member` can"),
        )
        .hint("move the `autogroup:self` destination to a rule whose sources are users or groups")
    })
}

fn missing_ports(text: &str) -> Diagnostic {
    Diagnostic::error(ACL_SYNTAX, format!("the destination `{text}` has no ports")).hint(format!(
        "write `{text}:PORTS`, e.g. `{text}:443` or `{text}:*`"
    ))
}

fn bad_ports(text: &str, why: &str) -> Diagnostic {
    Diagnostic::error(ACL_SYNTAX, format!("the ports of `{text}` are malformed: {why}")).hint(
        "ports are `*`, a port (`443`), a list (`80,443`) or a range (`8000-8100`), each from 1 to 65535",
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{expect, rule, with_people};
    use super::*;
    use crate::codes::{TAG_WITHOUT_OWNER, UNKNOWN_ACL_REF};

    #[test]
    fn destinations_need_ports_in_range() {
        let found = rule(
            r#""group:trusted""#,
            r#""box", "tag:server", "box:0", "box:70000", "box:200-100", "box:http", "box:22,", "box:*,22""#,
        );
        let paths: Vec<String> = found
            .iter()
            .map(|(code, p)| {
                assert_eq!(*code, ACL_SYNTAX);
                p.clone()
            })
            .collect();
        let expected: Vec<String> = (0..8).map(|j| format!("acl.rules[0].dst[{j}]")).collect();
        assert_eq!(paths, expected);
    }

    #[test]
    fn icmp_rules_cannot_name_ports() {
        let found = with_people(
            r#"acl.rules = [{ src = ["group:trusted"], dst = ["box:22", "box:*"], proto = 'icmp }]"#,
        );
        assert_eq!(found, expect(&[(ACL_SYNTAX, "acl.rules[0].dst[0]")]));
    }

    #[test]
    fn rules_with_empty_sources_or_destinations_are_reported() {
        let found = with_people(r#"acl.rules = [{ src = [], dst = [] }]"#);
        assert_eq!(
            found,
            expect(&[
                (ACL_SYNTAX, "acl.rules[0].src"),
                (ACL_SYNTAX, "acl.rules[0].dst")
            ])
        );
    }

    #[test]
    fn only_users_and_groups_can_reach_autogroup_self() {
        let found = with_people(
            r#"acl.tag_owners.server = ["user1@"],
               acl.rules = [{ src = ["group:trusted", "tag:server", "box", "autogroup:member"], dst = ["autogroup:self:*"] }]"#,
        );
        assert_eq!(
            found,
            expect(&[
                (ACL_SYNTAX, "acl.rules[0].src[1]"),
                (ACL_SYNTAX, "acl.rules[0].src[2]")
            ])
        );
    }

    #[test]
    fn tag_owners_are_users_groups_or_tags_that_exist() {
        let found = with_people(
            r#"acl.tag_owners = { server = ["user1", "group:admins", "tag:ghost", "box", "*", "user9@"], "tag:web" = ["user1@"] }"#,
        );
        assert_eq!(
            found,
            expect(&[
                (ACL_SYNTAX, "acl.tag_owners.server[0]"),
                (UNKNOWN_ACL_REF, "acl.tag_owners.server[1]"),
                (TAG_WITHOUT_OWNER, "acl.tag_owners.server[2]"),
                (ACL_SYNTAX, "acl.tag_owners.server[3]"),
                (ACL_SYNTAX, "acl.tag_owners.server[4]"),
                (UNKNOWN_ACL_REF, "acl.tag_owners.server[5]"),
                (ACL_SYNTAX, "acl.tag_owners.tag:web"),
            ])
        );
    }

    #[test]
    fn tests_need_a_known_source_and_single_host_single_port_destinations() {
        let found = with_people(
            r#"acl.tests = [
                 { src = "user3@", accept = ["box:443"] },
                 { src = "group:trusted", accept = ["box:80,443", "group:trusted:22", "100.64.0.0/10:22", "box"], deny = ["*:22", "box:*"] },
                 { src = "user1@" },
               ]"#,
        );
        assert_eq!(
            found,
            expect(&[
                (UNKNOWN_ACL_REF, "acl.tests[0].src"),
                (ACL_SYNTAX, "acl.tests[1].accept[0]"),
                (ACL_SYNTAX, "acl.tests[1].accept[1]"),
                (ACL_SYNTAX, "acl.tests[1].accept[2]"),
                (ACL_SYNTAX, "acl.tests[1].accept[3]"),
                (ACL_SYNTAX, "acl.tests[1].deny[0]"),
                (ACL_SYNTAX, "acl.tests[1].deny[1]"),
                (ACL_SYNTAX, "acl.tests[2]"),
            ])
        );
    }
}
