use super::*;
use crate::plan::headscale::NewUser;
use crate::plan::{
    FileAction, HeadscaleAction, ManagedFile, ModelAction, SecretAction, ServiceAction, TextChange,
};
use crate::render::secrets::{SecretFile, SecretSource};
use crate::render::units::{Health, Manager, ServiceUnit};
use crate::render::{ModelSource, Owner};

/// A fake sha256: `c` 64 times.
fn hash(c: char) -> String {
    c.to_string().repeat(64)
}

fn file(path: &str, secret: bool) -> ManagedFile {
    ManagedFile {
        host: "mac".into(),
        path: path.into(),
        mode: 0o644,
        owner: Owner::Root,
        secret,
        restarts: vec![ServiceId::Ollama],
        reloads: Vec::new(),
    }
}

fn unit(host: &str, id: ServiceId) -> ServiceUnit {
    ServiceUnit {
        host: host.into(),
        id,
        manager: Manager::Systemd {
            unit: format!("privai-{}.service", id.name()),
        },
        health: Some(Health::Tcp {
            addr: "127.0.0.1:443".into(),
        }),
        health_timeout_secs: 30,
        definition: None,
    }
}

pub(crate) const SECRET_TEXT: &str = "hunter2-the-secret-value";

/// A plan with one action of every kind of every domain. The secret file's
/// update (wrongly) carries its text, which no description may hold.
pub(crate) fn every_action() -> Plan {
    let policy = TextChange {
        old: "{}\n".into(),
        new: "{\"acls\": []}\n".into(),
    };
    Plan {
        actions: vec![
            Action::Service(ServiceAction::Stop {
                unit: unit("mac", ServiceId::Gateway),
            }),
            Action::File(FileAction::Create {
                file: file("/etc/new", false),
                sha256: hash('1'),
                drift: Some(Drift::Removed),
            }),
            Action::File(FileAction::Update {
                file: file("/etc/conf", false),
                old_mode: 0o600,
                old_sha256: hash('2'),
                new_sha256: hash('3'),
                text: Some(TextChange {
                    old: "a\nB\n".into(),
                    new: "a\nb\n".into(),
                }),
                drift: Some(Drift::Edited {
                    recorded_sha256: hash('4'),
                }),
            }),
            Action::File(FileAction::Update {
                file: file("~/key", true),
                old_mode: 0o644,
                old_sha256: hash('5'),
                new_sha256: hash('6'),
                text: Some(TextChange {
                    old: format!("old-{SECRET_TEXT}\n"),
                    new: format!("{SECRET_TEXT}\n"),
                }),
                drift: None,
            }),
            Action::File(FileAction::Adopt {
                file: file("/etc/hosts", false),
                old_mode: 0o644,
                old_sha256: hash('7'),
                new_sha256: hash('8'),
                text: None,
            }),
            Action::Secret(SecretAction::Write {
                secret: SecretFile {
                    host: "mac".into(),
                    path: "~/.privai/secrets/telegram-token".into(),
                    name: "openclaw.channels.telegram.token".into(),
                    source: SecretSource::Env {
                        var: "TELEGRAM_TOKEN".into(),
                    },
                    restarts: vec![ServiceId::Gateway],
                    owner: None,
                },
                old_sha256: Some(hash('9')),
                new_sha256: Some(hash('a')),
            }),
            Action::File(FileAction::Delete {
                file: file("/etc/gone", false),
                sha256: hash('b'),
                drift: None,
            }),
            Action::Service(ServiceAction::Start {
                unit: unit("vps", ServiceId::Headscale),
            }),
            Action::Service(ServiceAction::Reload {
                unit: unit("vps", ServiceId::Headscale),
                because: vec!["/etc/headscale/policy.hujson".into()],
            }),
            Action::Headscale(HeadscaleAction::CreateUser {
                host: "vps".into(),
                user: NewUser {
                    name: "alice".into(),
                    display_name: String::new(),
                    email: String::new(),
                },
            }),
            Action::Headscale(HeadscaleAction::SetPolicy {
                host: "vps".into(),
                old_sha256: Some(hash('c')),
                new_sha256: hash('d'),
                text: Some(policy),
            }),
            Action::Headscale(HeadscaleAction::CreateKey {
                host: "vps".into(),
                device: "laptop".into(),
                user: "alice".into(),
                tags: vec!["tag:laptop".into()],
                ephemeral: false,
                reusable: false,
                expiry_days: 7,
            }),
            Action::Headscale(HeadscaleAction::ExpireKey {
                host: "vps".into(),
                device: "phone".into(),
                key: 12,
                reason: "the device left the spec".into(),
            }),
            Action::Headscale(HeadscaleAction::SetNodeTags {
                host: "vps".into(),
                device: "nas".into(),
                node: 4,
                tags: vec!["tag:nas".into()],
            }),
            Action::Headscale(HeadscaleAction::DeleteUser {
                host: "vps".into(),
                name: "bob".into(),
                id: 3,
            }),
            Action::Model(ModelAction::Pull {
                host: "mac".into(),
                name: "qwen3:8b".into(),
                download_bytes: Some(5 << 30),
                locked_digest: Some("sha256:abc".into()),
                source: ModelSource::Registry,
            }),
            Action::Model(ModelAction::Remove {
                host: "mac".into(),
                name: "llama3:8b".into(),
            }),
            Action::Service(ServiceAction::Repair {
                unit: unit("mac", ServiceId::Gateway),
                drift: vec!["gateway: stopped".into()],
            }),
            Action::Service(ServiceAction::Restart {
                unit: unit("mac", ServiceId::Ollama),
                because: vec!["/etc/conf".into()],
            }),
        ],
        notes: Vec::new(),
    }
}

fn described() -> PlanDescription {
    describe(&every_action(), &Context::default())
}

fn find<'a>(described: &'a PlanDescription, address: &str) -> &'a Description {
    described
        .changes
        .iter()
        .find(|d| d.address == address)
        .unwrap_or_else(|| panic!("no description of {address}"))
}

/// Everything a description says, as one string to search.
fn all_text(description: &Description) -> String {
    format!(
        "{description:?} {} {}",
        serde_json::to_string(&description.before).unwrap(),
        serde_json::to_string(&description.after).unwrap()
    )
}

#[test]
fn every_action_yields_one_description_at_its_address_with_its_change() {
    let plan = every_action();
    let described = describe(&plan, &Context::default());
    assert_eq!(described.changes.len(), plan.actions.len());
    for (action, description) in plan.actions.iter().zip(&described.changes) {
        assert_eq!(description.address, action.address());
        assert_eq!(description.change, action.change());
        assert!(
            description.address.ends_with(&description.location())
                || description.address == format!("acl policy {}", description.host),
            "{} is not at {}",
            description.address,
            description.location()
        );
        // Something exists on at least one side of every change.
        assert!(description.before.is_some() || description.after.is_some());
    }
}

#[test]
fn a_secret_is_sensitive_and_carries_digests_never_its_value() {
    let described = described();
    let secret = find(&described, "secret mac:~/.privai/secrets/telegram-token");
    assert_eq!(secret.object, Object::Secret);
    assert!(secret.sensitive && secret.before_sensitive() && secret.after_sensitive());
    assert_eq!(
        secret.secret_name.as_deref(),
        Some("openclaw.channels.telegram.token")
    );
    assert_eq!(
        serde_json::to_value(&secret.after).unwrap(),
        serde_json::json!({
            "sha256": hash('a'),
            "mode": "0600",
            "source": { "kind": "env", "var": "TELEGRAM_TOKEN" },
        })
    );

    let key = find(&described, "file mac:~/key");
    assert!(key.sensitive && key.before_sensitive() && key.after_sensitive());
    assert_eq!(key.diff(), None);
    assert!(!all_text(key).contains(SECRET_TEXT), "{key:?}");
    assert!(key.details.contains(&Detail::Field {
        label: "contents",
        value: "(sensitive) sha256 55555555 -> 66666666".into(),
    }));
}

#[test]
fn a_text_file_update_carries_both_texts_its_diff_and_what_it_restarts() {
    let described = described();
    let conf = find(&described, "file mac:/etc/conf");
    assert!(!conf.sensitive);
    assert_eq!(conf.reason, Reason::ContentsDiffer);
    let text = |state: &Option<State>| match state {
        Some(State::File(FileState { text, .. })) => text.clone(),
        other => panic!("not a file: {other:?}"),
    };
    assert_eq!(text(&conf.before).as_deref(), Some("a\nB\n"));
    assert_eq!(text(&conf.after).as_deref(), Some("a\nb\n"));
    assert_eq!(
        conf.diff(),
        Some(
            "--- mac:/etc/conf (installed)\n+++ mac:/etc/conf (planned)\n\
             @@ -1,2 +1,2 @@\n a\n-B\n+b\n"
        )
    );
    assert_eq!(
        conf.details,
        vec![
            Detail::Field {
                label: "mode",
                value: "0600 -> 0644".into()
            },
            Detail::Diff(conf.diff().unwrap().to_owned()),
            Detail::Field {
                label: "restarts",
                value: "ollama".into()
            },
        ]
    );
}

#[test]
fn drift_is_described_as_privai_recorded_it_then_as_it_is_now() {
    let described = described();
    let drift: Vec<(&str, Change, Reason, Option<&str>)> = described
        .drift
        .iter()
        .map(|d| (d.address.as_str(), d.change, d.reason, d.summary.as_deref()))
        .collect();
    assert_eq!(
        drift,
        vec![
            (
                "file mac:/etc/new",
                Change::Delete,
                Reason::Removed,
                Some("removed")
            ),
            (
                "file mac:/etc/conf",
                Change::Update,
                Reason::Edited,
                Some("edited, sha256 44444444 (written by privai) -> 22222222 (now)")
            ),
        ]
    );
    let edited = &described.drift[1];
    assert_eq!(
        serde_json::to_value(&edited.before).unwrap(),
        serde_json::json!({ "sha256": hash('4') })
    );
    assert_eq!(
        serde_json::to_value(&edited.after).unwrap(),
        serde_json::json!({ "sha256": hash('2'), "mode": "0600" })
    );
    assert_eq!(
        serde_json::to_value(&described.drift[0].before).unwrap(),
        serde_json::json!({})
    );
}

#[test]
fn services_say_why_they_change_and_staged_ones_that_nothing_runs() {
    let plan = every_action();
    let staged = describe(&plan, &Context { staged: true });
    let stop = find(&staged, "service mac:gateway");
    assert_eq!(stop.reason, Reason::ServiceRemoved);
    assert_eq!(
        stop.details,
        vec![Detail::Remark("(staged under --root: not stopped)".into())]
    );
    let reload = staged
        .changes
        .iter()
        .find(|d| d.change == Change::Reload)
        .unwrap();
    assert_eq!(reload.reason, Reason::FilesChanged);
    assert_eq!(
        reload.because,
        Some(vec!["/etc/headscale/policy.hujson".to_owned()])
    );
    assert_eq!(
        serde_json::to_value(&reload.after).unwrap(),
        serde_json::json!({
            "manager": { "kind": "systemd", "unit": "privai-headscale.service" },
            "health": { "kind": "tcp", "addr": "127.0.0.1:443", "timeout_secs": 30 },
        })
    );
    let repair = staged
        .changes
        .iter()
        .find(|d| d.change == Change::Update && d.object == Object::Service)
        .unwrap();
    assert_eq!(
        repair.container_drift,
        Some(vec!["gateway: stopped".into()])
    );

    // The same service stopped and started: its manager entry changed.
    let mut moved = plan.clone();
    moved.actions.push(Action::Service(ServiceAction::Start {
        unit: unit("mac", ServiceId::Gateway),
    }));
    let described = describe(&moved, &Context::default());
    let reasons: Vec<Reason> = described
        .changes
        .iter()
        .filter(|d| d.address == "service mac:gateway" && d.change != Change::Update)
        .map(|d| d.reason)
        .collect();
    assert_eq!(
        reasons,
        vec![Reason::ManagerChanged, Reason::ManagerChanged]
    );
}

#[test]
fn headscale_changes_carry_ids_never_keys_and_deletions_their_before() {
    let described = described();
    let expire = find(&described, "pre-auth key vps:phone");
    assert_eq!(expire.change, Change::Delete);
    assert_eq!(expire.after, None);
    assert_eq!(
        serde_json::to_value(&expire.before).unwrap(),
        serde_json::json!({ "key_id": 12, "reason": "the device left the spec" })
    );
    let delete = find(&described, "headscale user vps:bob");
    assert_eq!(delete.reason, Reason::NotInSpecAndOwnsNoNodes);
    let policy = find(&described, "acl policy vps");
    assert_eq!(policy.reason, Reason::PolicyDiffers);
    assert!(
        policy
            .diff()
            .unwrap()
            .starts_with("--- vps acl policy (installed)\n")
    );
}

#[test]
fn a_policy_change_a_file_already_shows_is_not_shown_twice() {
    let change = TextChange {
        old: "{}\n".into(),
        new: "{\"acls\": []}\n".into(),
    };
    let plan = Plan {
        actions: vec![
            Action::File(FileAction::Update {
                file: file("/etc/headscale/policy.hujson", false),
                old_mode: 0o644,
                old_sha256: hash('1'),
                new_sha256: hash('2'),
                text: Some(change.clone()),
                drift: None,
            }),
            Action::Headscale(HeadscaleAction::SetPolicy {
                host: "vps".into(),
                old_sha256: Some(hash('1')),
                new_sha256: hash('2'),
                text: Some(change),
            }),
        ],
        notes: Vec::new(),
    };
    let described = describe(&plan, &Context::default());
    assert_eq!(
        described.changes[1].details,
        vec![Detail::Field {
            label: "policy",
            value: "the change shown for mac:/etc/headscale/policy.hujson above".into()
        }]
    );
}

#[test]
fn a_model_pull_says_its_size_and_pin() {
    let described = described();
    let pull = find(&described, "model mac:qwen3:8b");
    assert_eq!(pull.summary.as_deref(), Some("5.0 GiB download"));
    assert_eq!(
        pull.details,
        vec![Detail::Field {
            label: "pinned by privai.lock",
            value: "sha256:abc".into()
        }]
    );
    let remove = find(&described, "model mac:llama3:8b");
    assert_eq!(remove.before, Some(State::Present {}));
    assert_eq!(remove.after, None);
}
