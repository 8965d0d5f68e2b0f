use super::*;
use crate::model::DeviceKind;
use crate::observe::headscale::{TAGGED_DEVICES, Timestamp};
use crate::secret::Secret;
use std::time::{Duration, UNIX_EPOCH};

const HOUR: Duration = Duration::from_secs(3600);

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_780_000_000)
}

fn spec_user(name: &str) -> crate::model::User {
    crate::model::User {
        name: name.to_owned(),
        display_name: None,
        email: None,
    }
}

fn user(id: u64, name: &str) -> User {
    User {
        id,
        name: name.to_owned(),
        display_name: String::new(),
        email: String::new(),
        provider: String::new(),
        created_at: None,
    }
}

fn device(name: &str, user: &str, os: DeviceOs, tags: &[&str]) -> Device {
    Device {
        name: name.to_owned(),
        user: user.to_owned(),
        kind: DeviceKind::Laptop,
        os,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        tailnet_ip: None,
        ephemeral: false,
        reusable: false,
    }
}

fn laptop(name: &str, user: &str) -> Device {
    device(name, user, DeviceOs::Linux, &[])
}

fn key(id: u64, owner: &str, expires: SystemTime) -> PreAuthKey {
    PreAuthKey {
        id,
        user: Some(user(1, owner)),
        key: Secret::new(format!("hskey-auth-prefix{id:05}-***")),
        reusable: false,
        ephemeral: false,
        used: false,
        expiration: Some(Timestamp(expires)),
        created_at: None,
        acl_tags: Vec::new(),
    }
}

fn node(id: u64, name: &str, owner: User, tags: &[&str]) -> Node {
    Node {
        id,
        name: name.to_owned(),
        given_name: name.to_owned(),
        user: Some(owner),
        ip_addresses: vec!["100.64.0.1".to_owned()],
        online: true,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        pre_auth_key: None,
        register_method: "REGISTER_METHOD_AUTH_KEY".to_owned(),
        last_seen: None,
        expiry: None,
        created_at: None,
        approved_routes: Vec::new(),
        available_routes: Vec::new(),
    }
}

fn records(pairs: &[(&str, u64)]) -> KeyRecords {
    pairs.iter().map(|(d, k)| (d.to_string(), *k)).collect()
}

fn expiry(key: u64, device: &str, reason: ExpiryReason) -> KeyExpiry {
    KeyExpiry {
        key,
        device: device.to_owned(),
        reason,
    }
}

#[test]
fn only_missing_users_are_created_in_spec_order() {
    let spec = [spec_user("carol"), spec_user("alice"), spec_user("bob")];
    let existing = [user(1, "alice"), user(2, "dave")];
    let names: Vec<_> = users_to_create(&spec, &existing)
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["carol", "bob"]);
    assert_eq!(users_to_create(&spec[1..2], &existing), vec![]);
}

#[test]
fn a_new_user_carries_display_name_and_email_and_omits_empty_ones() {
    let mut alice = spec_user("alice");
    alice.display_name = Some("Alice A.".to_owned());
    assert_eq!(
        serde_json::to_value(NewUser::of(&alice)).unwrap(),
        serde_json::json!({"name": "alice", "displayName": "Alice A."})
    );
}

#[test]
fn users_are_deleted_only_with_prune_and_never_while_they_own_nodes() {
    let spec = [spec_user("alice")];
    let mut oidc = user(5, "erin");
    oidc.provider = "oidc".to_owned();
    let existing = [
        user(1, "alice"),
        user(2, "bob"),
        user(3, "carol"),
        user(TAGGED_DEVICES_ID, TAGGED_DEVICES),
        oidc.clone(),
    ];
    let nodes = [node(7, "carol-laptop", user(3, "carol"), &[])];
    assert_eq!(
        users_to_delete(&spec, &existing, &nodes, false),
        UserDeletions {
            delete: vec![],
            kept: vec![
                (user(2, "bob"), Kept::NoPrune),
                // Not "`--prune` deletes it": it would not.
                (
                    user(3, "carol"),
                    Kept::OwnsNodes(vec!["carol-laptop".to_owned()])
                ),
                (oidc.clone(), Kept::Oidc),
            ],
        }
    );
    assert_eq!(
        users_to_delete(&spec, &existing, &nodes, true),
        UserDeletions {
            delete: vec![user(2, "bob")],
            kept: vec![
                (
                    user(3, "carol"),
                    Kept::OwnsNodes(vec!["carol-laptop".to_owned()])
                ),
                (oidc, Kept::Oidc),
            ],
        }
    );
}

#[test]
fn a_device_without_a_node_or_a_recorded_key_needs_one() {
    let devices = [laptop("a", "alice"), laptop("b", "bob")];
    let got = key_decisions(&devices, &[], &[], &KeyRecords::new(), now());
    assert_eq!(
        got,
        KeyDecisions {
            create: vec!["a".to_owned(), "b".to_owned()],
            ..KeyDecisions::default()
        }
    );
}

#[test]
fn a_recorded_usable_fitting_key_is_enough_and_nothing_is_written() {
    let devices = [laptop("a", "alice")];
    let keys = [key(4, "alice", now() + HOUR)];
    let got = key_decisions(&devices, &[], &keys, &records(&[("a", 4)]), now());
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn an_unrecorded_key_never_counts_and_is_never_touched() {
    let devices = [laptop("a", "alice")];
    let keys = [key(4, "alice", now() + HOUR)];
    let got = key_decisions(&devices, &[], &keys, &KeyRecords::new(), now());
    assert_eq!(got.create, ["a"]);
    assert_eq!(got.expire, vec![]);
}

#[test]
fn an_expired_used_or_vanished_recorded_key_is_replaced() {
    let devices = [
        laptop("a", "alice"),
        laptop("b", "alice"),
        laptop("c", "alice"),
    ];
    let mut used = key(5, "alice", now() + HOUR);
    used.used = true;
    let keys = [key(4, "alice", now()), used];
    let got = key_decisions(
        &devices,
        &[],
        &keys,
        &records(&[("a", 4), ("b", 5), ("c", 6)]),
        now(),
    );
    assert_eq!(
        got,
        KeyDecisions {
            create: vec!["a".to_owned(), "b".to_owned(), "c".to_owned()],
            expire: vec![],
            forget: vec!["c".to_owned()],
        }
    );
}

#[test]
fn a_key_that_no_longer_fits_is_replaced_and_expired() {
    let mut tagged = device("a", "alice", DeviceOs::Linux, &["tag:server"]);
    tagged.ephemeral = false;
    let mut other_user = key(5, "bob", now() + HOUR);
    other_user.acl_tags = vec!["tag:server".to_owned()];
    let keys = [key(4, "alice", now() + HOUR), other_user];
    let devices = [tagged, laptop("b", "alice")];
    let got = key_decisions(&devices, &[], &keys, &records(&[("a", 4), ("b", 5)]), now());
    assert_eq!(
        got,
        KeyDecisions {
            create: vec!["a".to_owned(), "b".to_owned()],
            expire: vec![
                expiry(4, "a", ExpiryReason::Replaced),
                expiry(5, "b", ExpiryReason::Replaced),
            ],
            forget: vec![],
        }
    );
}

#[test]
fn tags_fit_as_sets_and_ephemerality_and_reuse_must_match() {
    let device = device("a", "alice", DeviceOs::Linux, &["tag:b", "tag:a", "tag:b"]);
    let mut fitting = key(1, "alice", now() + HOUR);
    fitting.acl_tags = vec!["tag:a".to_owned(), "tag:b".to_owned()];
    assert!(key_fits(&fitting, &device));
    let mut reusable = fitting.clone();
    reusable.reusable = true;
    assert!(!key_fits(&reusable, &device));
    let mut reusing = device.clone();
    reusing.reusable = true;
    assert!(key_fits(&reusable, &reusing));
    assert!(!key_fits(&fitting, &reusing));
    let mut ephemeral = fitting.clone();
    ephemeral.ephemeral = true;
    assert!(!key_fits(&ephemeral, &device));
    let mut tagless = fitting;
    tagless.user = None;
    assert!(!key_fits(&tagless, &device));
}

#[test]
fn a_joined_device_needs_no_key_and_its_usable_key_is_expired() {
    let devices = [laptop("a", "alice"), laptop("b", "alice")];
    let mut used = key(5, "alice", now() + HOUR);
    used.used = true;
    let keys = [key(4, "alice", now() + HOUR), used];
    let nodes = [
        node(1, "A", user(1, "alice"), &[]),
        node(2, "b", user(1, "alice"), &[]),
    ];
    let got = key_decisions(
        &devices,
        &nodes,
        &keys,
        &records(&[("a", 4), ("b", 5)]),
        now(),
    );
    assert_eq!(
        got,
        KeyDecisions {
            create: vec![],
            expire: vec![expiry(4, "a", ExpiryReason::Joined)],
            forget: vec![],
        }
    );
}

#[test]
fn a_reusable_key_is_kept_once_its_device_has_joined_so_it_can_join_again() {
    let mut runner = laptop("a", "alice");
    runner.reusable = true;
    runner.ephemeral = true;
    let mut reusable = key(4, "alice", now() + HOUR);
    reusable.reusable = true;
    reusable.ephemeral = true;
    reusable.used = true;
    let nodes = [node(1, "a", user(1, "alice"), &[])];
    let decide = |nodes: &[Node]| {
        key_decisions(
            std::slice::from_ref(&runner),
            nodes,
            std::slice::from_ref(&reusable),
            &records(&[("a", 4)]),
            now(),
        )
    };
    assert_eq!(decide(&nodes), KeyDecisions::default());
    // Gone offline and removed (ephemeral): the key still fits and joins.
    assert_eq!(decide(&[]), KeyDecisions::default());
}

#[test]
fn a_node_of_another_user_with_the_same_name_is_not_the_device() {
    let devices = [laptop("a", "alice")];
    let nodes = [node(1, "a", user(2, "bob"), &[])];
    assert_eq!(device_node(&devices[0], &nodes, None), None);
    let tagged = [node(
        1,
        "a",
        user(TAGGED_DEVICES_ID, TAGGED_DEVICES),
        &["tag:x"],
    )];
    assert_eq!(
        device_node(&devices[0], &tagged, None).map(|n| n.id),
        Some(1)
    );
    let mut by_key = node(9, "renamed", user(2, "bob"), &[]);
    by_key.pre_auth_key = Some(key(4, "alice", now()));
    assert_eq!(
        device_node(&devices[0], &[by_key], Some(4)).map(|n| n.id),
        Some(9)
    );
}

#[test]
fn keys_of_removed_devices_are_expired_if_usable_and_their_records_dropped() {
    let mut used = key(5, "alice", now() + HOUR);
    used.used = true;
    let keys = [key(4, "alice", now() + HOUR), used, key(6, "alice", now())];
    let got = key_decisions(
        &[],
        &[],
        &keys,
        &records(&[
            ("gone", 4),
            ("gone-used", 5),
            ("gone-expired", 6),
            ("gone-deleted", 7),
        ]),
        now(),
    );
    assert_eq!(
        got,
        KeyDecisions {
            create: vec![],
            expire: vec![expiry(4, "gone", ExpiryReason::DeviceRemoved)],
            forget: vec![
                "gone".to_owned(),
                "gone-deleted".to_owned(),
                "gone-expired".to_owned(),
                "gone-used".to_owned(),
            ],
        }
    );
}

#[test]
fn ios_devices_join_without_a_key() {
    let phone = device("phone", "alice", DeviceOs::Ios, &[]);
    let android = device("android", "alice", DeviceOs::Android, &[]);
    assert!(!joins_with_key(&phone));
    assert!(joins_with_key(&android));
    let keys = [key(4, "alice", now() + HOUR)];
    let got = key_decisions(
        &[phone, android],
        &[],
        &keys,
        &records(&[("phone", 4)]),
        now(),
    );
    assert_eq!(
        got,
        KeyDecisions {
            create: vec!["android".to_owned()],
            expire: vec![expiry(4, "phone", ExpiryReason::NoKeyNeeded)],
            forget: vec!["phone".to_owned()],
        }
    );
}

#[test]
fn after_the_writes_a_second_decision_is_empty() {
    let devices = [laptop("a", "alice")];
    // The first run created key 8 for `a` and expired key 4 of `gone`.
    let mut expired = key(4, "alice", now());
    expired.expiration = Some(Timestamp(now()));
    let keys = [expired, key(8, "alice", now() + HOUR)];
    let got = key_decisions(&devices, &[], &keys, &records(&[("a", 8)]), now());
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn node_tags_are_set_when_they_differ_and_cannot_be_removed() {
    let devices = [
        device("same", "alice", DeviceOs::Linux, &["tag:a"]),
        device("more", "alice", DeviceOs::Linux, &["tag:b", "tag:a"]),
        device("fewer", "alice", DeviceOs::Linux, &[]),
        device("absent", "alice", DeviceOs::Linux, &["tag:a"]),
    ];
    let tagged = || user(TAGGED_DEVICES_ID, TAGGED_DEVICES);
    let nodes = [
        node(1, "same", tagged(), &["tag:a"]),
        node(2, "more", tagged(), &["tag:a"]),
        node(3, "fewer", tagged(), &["tag:x"]),
    ];
    assert_eq!(
        tag_changes(&devices, &nodes, &KeyRecords::new()),
        vec![
            TagChange::Set {
                node: 2,
                device: "more".to_owned(),
                tags: vec!["tag:a".to_owned(), "tag:b".to_owned()],
            },
            TagChange::CannotUntag {
                node: 3,
                device: "fewer".to_owned(),
                tags: vec!["tag:x".to_owned()],
            },
        ]
    );
}
