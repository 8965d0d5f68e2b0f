use super::*;
use crate::observe::{FileKey, FileState};
use crate::render::manifest::Manifest;
use crate::render::manifest::sha256_hex;
use crate::render::units::{Health, LaunchdDomain, Manager};
use crate::render::{Artifact, Owner};

fn artifact(path: &str, text: &str) -> Artifact {
    Artifact {
        host: "mac".into(),
        path: path.into(),
        contents: text.as_bytes().to_vec(),
        mode: 0o644,
        owner: Owner::Root,
        secret: false,
        restarts: vec![ServiceId::Ollama],
        reloads: Vec::new(),
    }
}

fn rendered(artifacts: Vec<Artifact>) -> Rendered {
    Rendered {
        artifacts,
        ..Rendered::default()
    }
}

pub(crate) fn unit(id: ServiceId, label: &str) -> ServiceUnit {
    ServiceUnit {
        host: "mac".into(),
        id,
        manager: Manager::Launchd {
            domain: LaunchdDomain::Gui,
            label: label.into(),
            plist: format!("~/Library/LaunchAgents/{label}.plist"),
        },
        health: Some(Health::Http {
            url: "http://127.0.0.1:11434/api/version".into(),
        }),
        health_timeout_secs: 60,
        definition: None,
    }
}

/// Records `path` on host `mac` as present with `text` and `mode`.
pub(crate) fn present(observed: &mut Observed, path: &str, text: &str, mode: u32) {
    observed.files.insert(
        FileKey::new("mac", path),
        FileState::Present {
            contents: text.as_bytes().to_vec(),
            mode,
        },
    );
}

/// An observation in which privai installed `installed` last, and the
/// files are as it wrote them.
pub(crate) fn installed(installed: &Rendered) -> Observed {
    let mut observed = Observed {
        previous: Manifest::of(installed).files,
        previous_services: installed.services.clone(),
        generation: Some(1),
        ..Observed::default()
    };
    for a in &installed.artifacts {
        observed.files.insert(
            FileKey::new(&a.host, &a.path),
            FileState::Present {
                contents: a.contents.clone(),
                mode: a.mode,
            },
        );
    }
    observed
}

#[test]
fn an_absent_file_is_created() {
    let desired = rendered(vec![artifact("/etc/a", "one\n")]);
    let plan = plan(&desired, &Observed::default());
    assert_eq!(
        plan.actions,
        vec![Action::File(FileAction::Create {
            file: ManagedFile::of(&desired.artifacts[0]),
            sha256: sha256_hex(b"one\n"),
            drift: None,
        })]
    );
}

#[test]
fn a_file_with_the_same_bytes_and_mode_needs_nothing_even_if_privai_did_not_write_it() {
    let desired = rendered(vec![artifact("/etc/a", "one\n")]);
    let mut observed = Observed::default();
    present(&mut observed, "/etc/a", "one\n", 0o644);
    let plan = plan(&desired, &observed);
    assert!(plan.is_empty(), "{plan:?}");
}

#[test]
fn a_file_privai_installed_with_other_bytes_is_updated_with_both_texts_and_hashes() {
    let desired = rendered(vec![artifact("/etc/a", "two\n")]);
    let observed = installed(&rendered(vec![artifact("/etc/a", "one\n")]));
    let plan = plan(&desired, &observed);
    assert_eq!(
        plan.actions,
        vec![Action::File(FileAction::Update {
            file: ManagedFile::of(&desired.artifacts[0]),
            old_mode: 0o644,
            old_sha256: sha256_hex(b"one\n"),
            new_sha256: sha256_hex(b"two\n"),
            text: Some(TextChange {
                old: "one\n".into(),
                new: "two\n".into()
            }),
            drift: None,
        })]
    );
    assert_eq!(plan.actions[0].restarts(), [ServiceId::Ollama]);
}

#[test]
fn a_file_privai_did_not_write_is_adopted_not_updated() {
    let desired = rendered(vec![artifact("/etc/a", "two\n")]);
    let mut observed = Observed::default();
    present(&mut observed, "/etc/a", "mine\n", 0o600);
    let plan = plan(&desired, &observed);
    let [
        Action::File(FileAction::Adopt {
            old_mode,
            old_sha256,
            text: Some(text),
            ..
        }),
    ] = plan.actions.as_slice()
    else {
        panic!("{plan:?}")
    };
    assert_eq!(
        (*old_mode, old_sha256.as_str()),
        (0o600, sha256_hex(b"mine\n").as_str())
    );
    assert_eq!(text.old, "mine\n");
    assert_eq!(plan.adoptions().count(), 1);
    assert_eq!(plan.count(Change::Adopt), 1);
}

#[test]
fn a_change_of_mode_only_is_an_update_without_text_or_restart() {
    let desired = rendered(vec![artifact("/etc/a", "one\n")]);
    let mut observed = installed(&desired);
    present(&mut observed, "/etc/a", "one\n", 0o666);
    let plan = plan(&desired, &observed);
    let [
        Action::File(FileAction::Update {
            old_mode,
            old_sha256,
            new_sha256,
            text,
            drift,
            ..
        }),
    ] = plan.actions.as_slice()
    else {
        panic!("{plan:?}")
    };
    assert_eq!(*old_mode, 0o666);
    assert_eq!(old_sha256, new_sha256);
    assert_eq!(*text, None);
    assert_eq!(
        *drift,
        Some(Drift::ModeChanged {
            recorded_mode: 0o644
        })
    );
    assert!(plan.actions[0].restarts().is_empty());
}

#[test]
fn a_file_edited_outside_privai_is_drift_and_is_put_back() {
    let desired = rendered(vec![artifact("/etc/a", "one\n")]);
    let mut observed = installed(&desired);
    present(&mut observed, "/etc/a", "hand edit\n", 0o644);
    let plan = plan(&desired, &observed);
    assert_eq!(plan.drifted().count(), 1);
    assert_eq!(
        plan.actions[0].drift(),
        Some(&Drift::Edited {
            recorded_sha256: sha256_hex(b"one\n")
        })
    );
    assert_eq!(plan.actions[0].change(), Change::Update);
}

#[test]
fn a_file_removed_outside_privai_is_drift_and_is_created_again() {
    let desired = rendered(vec![artifact("/etc/a", "one\n")]);
    let mut observed = installed(&desired);
    observed
        .files
        .insert(FileKey::new("mac", "/etc/a"), FileState::Absent);
    let plan = plan(&desired, &observed);
    assert_eq!(plan.actions[0].change(), Change::Create);
    assert_eq!(plan.actions[0].drift(), Some(&Drift::Removed));
}

#[test]
fn a_secret_file_carries_hashes_but_never_its_text() {
    let desired = rendered(vec![artifact("/etc/key", "new-secret\n").secret()]);
    let mut observed = installed(&rendered(vec![
        artifact("/etc/key", "old-secret\n").secret(),
    ]));
    present(&mut observed, "/etc/key", "old-secret\n", 0o600);
    let plan = plan(&desired, &observed);
    let [Action::File(FileAction::Update { file, text, .. })] = plan.actions.as_slice() else {
        panic!("{plan:?}")
    };
    assert!(file.secret);
    assert_eq!(*text, None);
    assert!(!format!("{plan:?}").contains("secret\\n"));
}

#[test]
fn a_previously_installed_file_the_spec_no_longer_renders_is_deleted() {
    let old = rendered(vec![
        artifact("/etc/a", "one\n"),
        artifact("/etc/gone", "bye\n").secret(),
    ]);
    let desired = rendered(vec![artifact("/etc/a", "one\n")]);
    let plan = plan(&desired, &installed(&old));
    assert_eq!(
        plan.actions,
        vec![Action::File(FileAction::Delete {
            file: ManagedFile {
                host: "mac".into(),
                path: "/etc/gone".into(),
                mode: 0o600,
                owner: Owner::Root,
                secret: true,
                restarts: vec![ServiceId::Ollama],
                reloads: Vec::new(),
            },
            sha256: sha256_hex(b"bye\n"),
            drift: None,
        })]
    );
}

#[test]
fn a_previously_installed_file_that_is_already_gone_needs_nothing() {
    let old = rendered(vec![artifact("/etc/gone", "bye\n")]);
    let mut observed = installed(&old);
    observed.files.clear();
    assert!(plan(&rendered(Vec::new()), &observed).is_empty());
}

#[test]
fn actions_are_creations_and_updates_in_render_order_then_deletions() {
    let old = rendered(vec![
        artifact("/etc/z-old", "z\n"),
        artifact("/etc/b-old", "b\n"),
        artifact("/etc/c", "old\n"),
    ]);
    let desired = rendered(vec![artifact("/etc/a", "1\n"), artifact("/etc/c", "2\n")]);
    let plan = plan(&desired, &installed(&old));
    let order: Vec<(Change, &str)> = plan
        .actions
        .iter()
        .map(|a| (a.change(), a.file().unwrap().path.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            (Change::Create, "/etc/a"),
            (Change::Update, "/etc/c"),
            (Change::Delete, "/etc/b-old"),
            (Change::Delete, "/etc/z-old"),
        ]
    );
    assert_eq!(plan.count(Change::Delete), 2);
}

#[test]
fn the_first_apply_starts_every_service_in_activation_order_after_the_files() {
    let mut desired = rendered(vec![artifact("/etc/a", "1\n")]);
    desired.services = vec![
        unit(ServiceId::Headscale, "net.privai.headscale"),
        unit(ServiceId::Ollama, "net.privai.ollama"),
    ];
    let plan = plan(&desired, &Observed::default());
    let addresses: Vec<String> = plan
        .actions
        .iter()
        .map(|a| format!("{} {}", a.change().name(), a.address()))
        .collect();
    assert_eq!(
        addresses,
        [
            "create file mac:/etc/a",
            "create service mac:headscale",
            "create service mac:ollama"
        ]
    );
}

#[test]
fn only_the_service_of_a_changed_file_restarts_and_says_why() {
    let mut old = rendered(vec![
        artifact("/etc/ollama", "1\n"),
        Artifact {
            restarts: vec![ServiceId::Headscale],
            reloads: Vec::new(),
            ..artifact("/etc/headscale", "h\n")
        },
    ]);
    old.services = vec![
        unit(ServiceId::Headscale, "net.privai.headscale"),
        unit(ServiceId::Ollama, "net.privai.ollama"),
    ];
    let mut desired = old.clone();
    desired.artifacts[0].contents = b"2\n".to_vec();
    let plan = plan(&desired, &installed(&old));
    assert_eq!(plan.restarts(), BTreeSet::from([ServiceId::Ollama]));
    let Some(Action::Service(ServiceAction::Restart { unit, because })) = plan.actions.last()
    else {
        panic!("{plan:?}")
    };
    assert_eq!(
        (unit.id, because.as_slice()),
        (ServiceId::Ollama, ["/etc/ollama".to_owned()].as_slice())
    );
    assert_eq!(plan.count(Change::Restart), 1);
}

#[test]
fn a_service_the_spec_drops_stops_before_any_file_changes() {
    let mut old = rendered(vec![artifact("/etc/ollama", "1\n")]);
    old.services = vec![unit(ServiceId::Ollama, "net.privai.ollama")];
    let desired = rendered(Vec::new());
    let plan = plan(&desired, &installed(&old));
    let changes: Vec<(Change, String)> = plan
        .actions
        .iter()
        .map(|a| (a.change(), a.address()))
        .collect();
    assert_eq!(
        changes,
        [
            (Change::Delete, "service mac:ollama".to_owned()),
            (Change::Delete, "file mac:/etc/ollama".to_owned())
        ]
    );
}

#[test]
fn a_service_under_a_new_label_stops_under_the_old_and_starts_under_the_new() {
    let mut old = rendered(Vec::new());
    old.services = vec![unit(ServiceId::Ollama, "net.privai.ollama")];
    let mut desired = rendered(Vec::new());
    desired.services = vec![unit(ServiceId::Ollama, "org.example.ollama")];
    let plan = plan(&desired, &installed(&old));
    let [
        Action::Service(ServiceAction::Stop { unit: stopped }),
        Action::Service(ServiceAction::Start { unit: started }),
    ] = plan.actions.as_slice()
    else {
        panic!("{plan:?}")
    };
    assert_eq!(stopped.manager, old.services[0].manager);
    assert_eq!(started.manager, desired.services[0].manager);
}

/// Headscale with a config it restarts for and a policy it reloads.
fn headscale_files(config: &str, policy: &str) -> Rendered {
    let mut out = rendered(vec![
        Artifact {
            restarts: vec![ServiceId::Headscale],
            ..artifact("/etc/headscale/config.yaml", config)
        },
        Artifact {
            restarts: Vec::new(),
            reloads: vec![ServiceId::Headscale],
            ..artifact("/etc/headscale/policy.hujson", policy)
        },
    ]);
    out.services = vec![unit(ServiceId::Headscale, "net.privai.headscale")];
    out
}

#[test]
fn a_changed_file_the_service_reloads_makes_it_reload_not_restart() {
    let old = headscale_files("c\n", "p1\n");
    let plan = plan(&headscale_files("c\n", "p2\n"), &installed(&old));
    let Some(Action::Service(ServiceAction::Reload { unit, because })) = plan.actions.last() else {
        panic!("{plan:?}")
    };
    assert_eq!(unit.id, ServiceId::Headscale);
    assert_eq!(because, &["/etc/headscale/policy.hujson".to_owned()]);
    assert_eq!(
        (plan.count(Change::Reload), plan.count(Change::Restart)),
        (1, 0)
    );
}

#[test]
fn a_restart_covers_a_reload_when_both_kinds_of_file_change() {
    let old = headscale_files("c1\n", "p1\n");
    let plan = plan(&headscale_files("c2\n", "p2\n"), &installed(&old));
    assert_eq!(
        (plan.count(Change::Reload), plan.count(Change::Restart)),
        (0, 1)
    );
}

#[test]
fn a_compose_service_cannot_reload_so_it_restarts() {
    let mut old = headscale_files("c\n", "p1\n");
    old.services[0].manager = Manager::Compose {
        runtime: "podman".into(),
        project: "p".into(),
        file: "/etc/compose.yaml".into(),
    };
    let mut desired = old.clone();
    desired.artifacts[1].contents = b"p2\n".to_vec();
    let plan = plan(&desired, &installed(&old));
    assert!(
        matches!(
            plan.actions.last(),
            Some(Action::Service(ServiceAction::Restart { .. }))
        ),
        "{plan:?}"
    );
}
