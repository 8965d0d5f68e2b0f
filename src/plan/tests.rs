use super::*;
use crate::render::manifest::Manifest;

fn artifact(path: &str, text: &str) -> Artifact {
    Artifact {
        host: "mac".into(),
        path: path.into(),
        contents: text.as_bytes().to_vec(),
        mode: 0o644,
        owner: Owner::Root,
        secret: false,
        restarts: vec![ServiceId::Ollama],
    }
}

fn rendered(artifacts: Vec<Artifact>) -> Rendered {
    Rendered {
        artifacts,
        models: Vec::new(),
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

#[test]
fn an_absent_file_is_created() {
    let desired = rendered(vec![artifact("/etc/a", "one\n")]);
    let plan = plan(&desired, &Observed::default());
    assert_eq!(
        plan.actions,
        vec![Action::CreateFile {
            file: ManagedFile::of(&desired.artifacts[0]),
            sha256: sha256_hex(b"one\n"),
        }]
    );
    assert_eq!(plan.restarts(), BTreeSet::from([ServiceId::Ollama]));
}

#[test]
fn a_file_with_the_same_bytes_and_mode_needs_nothing() {
    let desired = rendered(vec![artifact("/etc/a", "one\n")]);
    let mut observed = Observed::default();
    present(&mut observed, "/etc/a", "one\n", 0o644);
    let plan = plan(&desired, &observed);
    assert!(plan.is_empty(), "{plan:?}");
    assert!(plan.restarts().is_empty());
}

#[test]
fn a_file_with_other_bytes_is_updated_with_both_texts_and_hashes() {
    let desired = rendered(vec![artifact("/etc/a", "two\n")]);
    let mut observed = Observed::default();
    present(&mut observed, "/etc/a", "one\n", 0o644);
    let plan = plan(&desired, &observed);
    assert_eq!(
        plan.actions,
        vec![Action::UpdateFile {
            file: ManagedFile::of(&desired.artifacts[0]),
            old_mode: 0o644,
            old_sha256: sha256_hex(b"one\n"),
            new_sha256: sha256_hex(b"two\n"),
            text: Some(TextChange {
                old: "one\n".into(),
                new: "two\n".into()
            }),
        }]
    );
    assert_eq!(plan.restarts(), BTreeSet::from([ServiceId::Ollama]));
}

#[test]
fn a_change_of_mode_only_is_an_update_without_text_or_restart() {
    let desired = rendered(vec![artifact("/etc/a", "one\n")]);
    let mut observed = Observed::default();
    present(&mut observed, "/etc/a", "one\n", 0o666);
    let plan = plan(&desired, &observed);
    let [
        Action::UpdateFile {
            old_mode,
            old_sha256,
            new_sha256,
            text,
            ..
        },
    ] = plan.actions.as_slice()
    else {
        panic!("{plan:?}")
    };
    assert_eq!(*old_mode, 0o666);
    assert_eq!(old_sha256, new_sha256);
    assert_eq!(*text, None);
    assert!(plan.restarts().is_empty());
}

#[test]
fn a_secret_file_carries_hashes_but_never_its_text() {
    let desired = rendered(vec![artifact("/etc/key", "new-secret\n").secret()]);
    let mut observed = Observed::default();
    present(&mut observed, "/etc/key", "old-secret\n", 0o600);
    let plan = plan(&desired, &observed);
    let [Action::UpdateFile { file, text, .. }] = plan.actions.as_slice() else {
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
    let mut observed = Observed {
        previous: Manifest::of(&old).files,
        ..Observed::default()
    };
    present(&mut observed, "/etc/a", "one\n", 0o644);
    present(&mut observed, "/etc/gone", "bye\n", 0o600);
    let plan = plan(&desired, &observed);
    assert_eq!(
        plan.actions,
        vec![Action::DeleteFile {
            file: ManagedFile {
                host: "mac".into(),
                path: "/etc/gone".into(),
                mode: 0o600,
                owner: Owner::Root,
                secret: true,
                restarts: vec![ServiceId::Ollama],
            },
            sha256: sha256_hex(b"bye\n"),
        }]
    );
}

#[test]
fn a_previously_installed_file_that_is_already_gone_needs_nothing() {
    let old = rendered(vec![artifact("/etc/gone", "bye\n")]);
    let observed = Observed {
        previous: Manifest::of(&old).files,
        ..Observed::default()
    };
    assert!(plan(&rendered(Vec::new()), &observed).is_empty());
}

#[test]
fn actions_are_creations_and_updates_in_render_order_then_deletions() {
    let old = rendered(vec![
        artifact("/etc/z-old", "z\n"),
        artifact("/etc/b-old", "b\n"),
    ]);
    let desired = rendered(vec![artifact("/etc/a", "1\n"), artifact("/etc/c", "2\n")]);
    let mut observed = Observed {
        previous: Manifest::of(&old).files,
        ..Observed::default()
    };
    present(&mut observed, "/etc/c", "old\n", 0o644);
    present(&mut observed, "/etc/z-old", "z\n", 0o644);
    present(&mut observed, "/etc/b-old", "b\n", 0o644);
    let plan = plan(&desired, &observed);
    let order: Vec<(Change, &str)> = plan
        .actions
        .iter()
        .map(|a| (a.change(), a.file().path.as_str()))
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
