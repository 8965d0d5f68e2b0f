//! References between the parts of the tailnet: users, groups, hosts,
//! devices, tags and the ACL policy.
//!
//! Headscale resolves every alias of the policy by name. A name that points
//! nowhere is either an error when Headscale loads the policy or, worse, a
//! rule that silently matches nothing. This pass finds those before anything
//! is deployed:
//!
//! - PRV010: a device or group names a user that `users` does not declare;
//! - PRV011: an ACL rule, test or tag owner names an unknown user, group,
//!   autogroup, host or device;
//! - PRV012: two hosts/devices, users or models share a name, or an
//!   `acl.hosts` alias takes the name of a host or device;
//! - PRV013: two hosts or devices pin the same tailnet address;
//! - PRV014: a tailnet address lies outside `headscale.prefixes.v4` (or on an
//!   address Tailscale reserves);
//! - PRV017: an ACL entry is malformed (user without `@`, destination without
//!   ports, bad ports, an alias where Headscale does not allow it);
//! - PRV018: a tag has no owner in `acl.tag_owners`, or is not a tag name;
//! - PRV019: a group is empty, or lists something other than a user.
//!
//! This file holds the pass's entry point and the helpers every part shares
//! (the nodes of the tailnet, hint wording). The parts:
//!
//! - [`names`]: duplicate names, and users that are not declared;
//! - [`addresses`]: pinned tailnet addresses and `acl.hosts`;
//! - [`groups`]: group members and empty groups;
//! - [`tags`]: tag names and whether each tag has an owner;
//! - [`policy`]: the walk over ACL rules, tests and tag owners;
//! - [`resolve`]: what one alias refers to, and where it may appear;
//! - [`crate::acl::alias`]: the syntax of aliases, destinations and ports.

mod addresses;
#[cfg(test)]
mod fixtures;
mod groups;
mod names;
mod policy;
mod resolve;
mod tags;

use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::Spec;
use crate::spec::closest;

/// Checks the cross-references of the tailnet and of its ACL policy.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    names::duplicate_names(spec, out);
    addresses::tailnet_ips(spec, out);
    names::device_owners(spec, out);
    groups::group_members(spec, out);
    groups::empty_groups(spec, out);
    tags::node_tags(spec, out);
    addresses::acl_hosts(spec, out);
    let policy = policy::Policy::new(spec);
    policy.tag_owners(out);
    policy.rules(out);
    policy.tests(out);
}

fn acl_path() -> SpecPath {
    SpecPath::root().key("acl")
}

/// A host or a device: the two share one namespace in the tailnet.
struct Node<'a> {
    name: &'a str,
    tailnet_ip: Option<&'a str>,
    tags: &'a [String],
    /// `hosts[i]` or `devices[i]`.
    path: SpecPath,
}

/// Every host, then every device.
fn nodes(spec: &Spec) -> impl Iterator<Item = Node<'_>> {
    let hosts = spec.hosts.iter().enumerate().map(|(i, h)| Node {
        name: &h.name,
        tailnet_ip: h.tailnet_ip.as_deref(),
        tags: &h.tags,
        path: SpecPath::root().key("hosts").index(i),
    });
    let devices = spec.devices.iter().enumerate().map(|(i, d)| Node {
        name: &d.name,
        tailnet_ip: d.tailnet_ip.as_deref(),
        tags: &d.tags,
        path: SpecPath::root().key("devices").index(i),
    });
    hosts.chain(devices)
}

/// "did you mean `X`?" when a candidate is close to `word`, else `otherwise`.
fn suggest(word: &str, candidates: &[String], otherwise: impl FnOnce() -> String) -> String {
    match closest(word, candidates) {
        Some(near) => format!("did you mean `{near}`?"),
        None => otherwise(),
    }
}

/// `` `a`, `b` `` for a hint.
fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::fixtures::{expect, found, with_people};
    use super::*;
    use crate::codes::UNKNOWN_USER;

    #[test]
    fn the_seed_example_has_no_reference_problem() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-home.ncl");
        let loaded = crate::spec::load(&path).expect("the seed evaluates");
        let mut out = Vec::new();
        check(&loaded.spec, &mut out);
        assert_eq!(out, Vec::new());
    }

    #[test]
    fn a_valid_policy_with_every_kind_of_alias_is_clean() {
        let found = with_people(
            r#"devices = [{ name = "phone", user = "user1", kind = 'phone, os = 'ios, tailnet_ip = "100.64.0.2", tags = ["tag:mobile"] }],
               acl = {
                 tag_owners = { mobile = ["group:trusted"], server = ["user1@", "tag:mobile"] },
                 hosts = { nas = "100.64.0.9" },
                 rules = [
                   { src = ["group:trusted", "user2@", "tag:mobile", "phone", "100.64.0.0/10", "autogroup:member"], dst = ["box:443,8000-8100", "nas:*", "tag:server:22", "autogroup:internet:*", "[fd7a:115c:a1e0::1]:80"] },
                   { src = ["autogroup:member"], dst = ["autogroup:self:*"] },
                   { src = ["*"], dst = ["box:*"], proto = 'icmp },
                 ],
                 tests = [{ src = "user1@", accept = ["box:443", "100.64.0.1:8000"], deny = ["nas:22", "tag:server:23"] }],
               }"#,
        );
        assert_eq!(found, Vec::new());
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let found = found(
            r#"{ users = [{ name = "u" }], devices = [{ name = "a", user = "x", kind = 'phone, os = 'ios }, { name = "b", user = "y", kind = 'phone, os = 'ios }] }"#,
        );
        assert_eq!(
            found,
            expect(&[
                (UNKNOWN_USER, "devices[0].user"),
                (UNKNOWN_USER, "devices[1].user")
            ])
        );
    }
}
