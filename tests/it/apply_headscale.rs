//! `privai apply` and Headscale's policy and users: the policy set through
//! the API in database mode (and put back by a rollback), the policy file
//! reloaded with SIGHUP in file mode (and refused before the reload when
//! Headscale would not take it), users the spec dropped deleted only with
//! `--prune` and never while they own nodes. Against the Headscale
//! stand-in on 127.0.0.1, services recorded.

use crate::apply::{Seed, current, stdout, tree};
use crate::tools::show;
use std::path::Path;

const DATABASE: &str = "  headscale.policy_mode | force = 'database,";

/// A rule more in the ACL: a changed policy and nothing else.
const MORE_ACL: &str = "  acl.hosts.nas = \"100.64.0.9\",";

/// The policy file as installed under `root`.
fn policy_file(root: &Path) -> String {
    let path = root.join("openclaw-server/usr/local/etc/privai/headscale/policy.hujson");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn in_database_mode_the_policy_is_set_through_the_api_once() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", DATABASE);
    let first = seed.apply(&a, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    let text = stdout(&first);
    assert!(
        text.contains("  + acl policy openclaw-server: done"),
        "{text}"
    );
    let installed = policy_file(&seed.root());
    assert_eq!(seed.headscale.policy().as_deref(), Some(installed.as_str()));
    let order: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains(": done")
                && (l.contains("headscale user")
                    || l.contains("acl policy")
                    || l.contains("pre-auth key"))
        })
        .collect();
    assert!(
        order[0].contains("headscale user") && order[2].contains("acl policy"),
        "users first, then the policy, then keys: {order:?}"
    );

    seed.headscale.clear_log();
    let second = seed.apply(&a, &[]);
    assert_eq!(second.status.code(), Some(0), "{}", show(&second));
    assert_eq!(
        stdout(&second),
        "No changes. Your system matches the spec.\n"
    );
    assert!(
        seed.headscale.writes().is_empty(),
        "{:?}",
        seed.headscale.writes()
    );
}

#[test]
fn in_database_mode_a_changed_policy_is_shown_as_a_diff_and_a_rollback_puts_the_old_one_back() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", DATABASE);
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    let old = seed.headscale.policy().unwrap();

    let b = seed.spec("b.ncl", &format!("{DATABASE}\n{MORE_ACL}"));
    let plan = seed.plan(&b);
    assert_eq!(plan.status.code(), Some(2), "{}", show(&plan));
    let text = stdout(&plan);
    assert!(
        text.contains("  ~ acl policy openclaw-server (through the API)"),
        "{text}"
    );
    assert!(text.contains("+    \"nas\": \"100.64.0.9\","), "{text}");
    assert!(
        text.contains("      policy: the change shown for openclaw-server:/usr/local/etc/privai/headscale/policy.hujson above"),
        "the diff once: {text}"
    );
    assert!(
        !text.contains("service openclaw-server:headscale"),
        "no restart: {text}"
    );

    // The gateway is recreated too, and fails its health check.
    seed.gateway.answer(500);
    let c = seed.spec(
        "c.ncl",
        &format!("{DATABASE}\n{MORE_ACL}\n  openclaw.container.memory_mb | force = 3072,"),
    );
    let out = seed.apply(&c, &["--health-timeout", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains("set Headscale's previous ACL policy again"),
        "{text}"
    );
    assert_eq!(seed.headscale.policy(), Some(old));
    assert_eq!(current(&seed.root()), Some(1));

    seed.gateway.answer(200);
    let out = seed.apply(&b, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(seed.headscale.policy().unwrap().contains("100.64.0.9"));
}

#[test]
fn a_policy_headscale_refuses_fails_the_apply_and_changes_nothing_it_held() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", DATABASE);
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    let old = seed.headscale.policy().unwrap();
    let installed = tree(&seed.root());

    seed.headscale
        .reject_policies(Some("test(s) failed: user1@ cannot reach nas:22"));
    let b = seed.spec("b.ncl", &format!("{DATABASE}\n{MORE_ACL}"));
    let out = seed.apply(&b, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let text = stdout(&out);
    assert!(text.contains("user1@ cannot reach nas:22"), "{text}");
    assert_eq!(seed.headscale.policy(), Some(old));
    assert_eq!(tree(&seed.root()), installed);
}

#[test]
fn in_file_mode_a_changed_policy_reloads_headscale_instead_of_restarting_it() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    seed.headscale.use_policy_file(&policy_file(&seed.root()));
    let before = seed.calls().len();

    let b = seed.spec("b.ncl", MORE_ACL);
    let plan = seed.plan(&b);
    let text = stdout(&plan);
    assert!(
        text.contains("⟳ reload (re-read changed files, no restart)"),
        "{text}"
    );
    assert!(text.contains("      reloads: headscale"), "{text}");
    assert!(
        text.contains("  ⟳ service openclaw-server:headscale"),
        "{text}"
    );
    assert!(
        text.ends_with("Plan: 0 to add, 1 to change, 0 to delete, 1 to reload.\n"),
        "{text}"
    );

    seed.headscale.clear_log();
    let out = seed.apply(&b, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        seed.calls()[before..],
        ["launchctl kill SIGHUP system/net.privai.headscale"],
        "a SIGHUP, no bootout"
    );
    let checked = seed
        .headscale
        .log()
        .iter()
        .any(|l| l.method == "POST" && l.path == "/api/v1/policy/check");
    assert!(checked, "Headscale checked the policy before the reload");
    assert!(policy_file(&seed.root()).contains("100.64.0.9"));
}

#[test]
fn in_file_mode_a_policy_headscale_refuses_is_caught_before_the_reload_and_the_file_put_back() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    let old = policy_file(&seed.root());
    seed.headscale.use_policy_file(&old);
    seed.headscale
        .reject_policies(Some("tag not found: \"tag:nas\""));
    let before = seed.calls().len();

    let out = seed.apply(&seed.spec("b.ncl", MORE_ACL), &[]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains("checking the new policy before Headscale reloads it: Headscale rejected the policy: tag not found"),
        "{text}"
    );
    assert_eq!(policy_file(&seed.root()), old);
    assert_eq!(current(&seed.root()), Some(1));
    assert!(
        !seed.calls()[before..]
            .iter()
            .any(|c| c.contains("kill SIGHUP")),
        "Headscale was never sent the refused policy: {:?}",
        &seed.calls()[before..]
    );
}

/// The seed without user2 (and user2's laptop).
const WITHOUT_USER2: &str = "  users | force = [{ name = \"user1\", display_name = \"User One\" }],
  groups.trusted | force = [\"user1\"],
  devices | force = [
    { name = \"phone\", user = \"user1\", kind = 'phone, os = 'ios },
    { name = \"desktop\", user = \"user1\", kind = 'desktop, os = 'linux },
  ],";

#[test]
fn a_user_the_spec_dropped_is_deleted_only_with_prune() {
    let seed = Seed::new();
    assert_eq!(
        seed.apply(&seed.spec("a.ncl", ""), &[]).status.code(),
        Some(0)
    );
    let b = seed.spec("b.ncl", WITHOUT_USER2);

    let out = seed.apply(&b, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains("headscale user user2 is not in the spec; `--prune` deletes it"),
        "{text}"
    );
    assert_eq!(seed.headscale.users(), ["user1", "user2"]);

    let out = seed.apply(&b, &["--prune"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains("  - headscale user openclaw-server:user2: done"),
        "{text}"
    );
    assert_eq!(seed.headscale.users(), ["user1"]);
}

#[test]
fn a_user_that_owns_nodes_is_never_deleted_even_with_prune() {
    let seed = Seed::new();
    assert_eq!(
        seed.apply(&seed.spec("a.ncl", ""), &[]).status.code(),
        Some(0)
    );
    seed.headscale.join("old-tablet", "user2", &[]);

    let out = seed.apply(&seed.spec("b.ncl", WITHOUT_USER2), &["--prune"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "headscale user user2 is not in the spec but owns old-tablet; privai keeps it"
        ),
        "{text}"
    );
    assert!(!text.contains("- headscale user"), "{text}");
    assert_eq!(seed.headscale.users(), ["user1", "user2"]);
}
