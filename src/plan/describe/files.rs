//! Descriptions of the files and secrets domains, and of drift.

use super::{
    Description, Detail, FileState, Object, Reason, SECRET_MODE, SecretState, State, drift_words,
    octal, short, text_diff,
};
use crate::plan::{Action, Change, Drift, FileAction, ManagedFile, SecretAction, TextChange};
use crate::render::Owner;
use crate::render::secrets::SecretSource;

/// A file action: the file's digest, mode and owner before and after, its
/// diff (never for a secret file), and what it restarts.
pub(super) fn file(action: &FileAction) -> Description {
    let file = action.file();
    let new = |file: &ManagedFile, sha256: &str, text: Option<&str>| FileState {
        sha256: Some(sha256.to_owned()),
        mode: Some(file.mode),
        owner: Some(file.owner),
        text: text.map(str::to_owned),
    };
    let reason = match action {
        FileAction::Create { .. } => Reason::FileAbsent,
        FileAction::Adopt { .. } => Reason::NotWrittenByPrivai,
        FileAction::Update {
            old_sha256,
            new_sha256,
            ..
        } if old_sha256 != new_sha256 => Reason::ContentsDiffer,
        FileAction::Update { .. } => Reason::ModeDiffers,
        FileAction::Delete { .. } => Reason::NoLongerInSpec,
    };
    let mut description = Description::new(
        action.address(),
        action.change(),
        Object::File,
        &file.host,
        &file.path,
        reason,
    );
    description.sensitive = file.secret;
    description.summary = Some(format!(
        "mode {}, owner {}",
        octal(file.mode),
        owner(file.owner)
    ));
    match action {
        FileAction::Create { sha256, .. } | FileAction::Delete { sha256, .. } => {
            let state = State::File(new(file, sha256, None));
            if matches!(action, FileAction::Create { .. }) {
                description.after = Some(state);
            } else {
                description.before = Some(state);
            }
            if file.secret {
                description.field("contents", format!("(sensitive) sha256 {}", short(sha256)));
            }
        }
        FileAction::Update {
            old_mode,
            old_sha256,
            new_sha256,
            text,
            ..
        }
        | FileAction::Adopt {
            old_mode,
            old_sha256,
            new_sha256,
            text,
            ..
        } => {
            // A secret's text is never described, whatever the plan carries.
            let text = text.as_ref().filter(|_| !file.secret);
            description.before = Some(State::File(FileState {
                sha256: Some(old_sha256.clone()),
                mode: Some(*old_mode),
                owner: None,
                text: text.map(|t: &TextChange| t.old.clone()),
            }));
            description.after = Some(State::File(new(
                file,
                new_sha256,
                text.map(|t| t.new.as_str()),
            )));
            if *old_mode != file.mode {
                description.field(
                    "mode",
                    format!("{} -> {}", octal(*old_mode), octal(file.mode)),
                );
            }
            if old_sha256 != new_sha256 {
                match text {
                    Some(TextChange { old, new }) => {
                        let diff = text_diff(&description.location(), old, new);
                        description.details.push(Detail::Diff(diff));
                    }
                    None => {
                        let what = if file.secret { "sensitive" } else { "binary" };
                        description.field(
                            "contents",
                            format!(
                                "({what}) sha256 {} -> {}",
                                short(old_sha256),
                                short(new_sha256)
                            ),
                        );
                    }
                }
            }
        }
    }
    description
}

/// A secret privai writes: where its value comes from and its digests,
/// never the value.
pub(super) fn secret(action: &SecretAction) -> Description {
    let SecretAction::Write {
        secret,
        old_sha256,
        new_sha256,
    } = action;
    let reason = match (old_sha256, new_sha256) {
        (None, _) => Reason::SecretAbsent,
        (Some(old), Some(new)) if old == new => Reason::ModeDiffers,
        _ => Reason::SecretDiffers,
    };
    let mut description = Description::new(
        action.address(),
        action.change(),
        Object::Secret,
        &secret.host,
        &secret.path,
        reason,
    );
    description.sensitive = true;
    description.before = old_sha256.as_ref().map(|sha256| {
        State::Secret(SecretState {
            sha256: Some(sha256.clone()),
            ..SecretState::default()
        })
    });
    description.after = Some(State::Secret(SecretState {
        sha256: new_sha256.clone(),
        mode: Some(SECRET_MODE),
        source: Some(secret.source.clone()),
    }));
    description.summary = Some(format!("mode {}", octal(SECRET_MODE)));
    description.secret_name = Some(secret.name.clone());
    let source = match &secret.source {
        SecretSource::Generate => "generated".to_owned(),
        SecretSource::Env { var } => format!("from ${var}"),
        SecretSource::SelfSigned { certificate, names } => format!(
            "a new key, with a self-signed certificate for {} at {certificate}",
            names.join(", ")
        ),
    };
    let digests = match (old_sha256, new_sha256) {
        (None, None) => String::new(),
        (None, Some(new)) => format!(" sha256 {}", short(new)),
        (Some(old), None) => format!(" sha256 {} -> (generated)", short(old)),
        (Some(old), Some(new)) if old == new => format!(
            " sha256 {} (unchanged; mode set to {})",
            short(old),
            octal(SECRET_MODE)
        ),
        (Some(old), Some(new)) => format!(" sha256 {} -> {}", short(old), short(new)),
    };
    description.field(
        "value",
        format!("{}, {source} (sensitive){digests}", secret.name),
    );
    description
}

/// What happened to `file` outside privai: `before` as privai recorded
/// it, `after` as it is now (`action` says what is there now).
pub(super) fn drift(file: &ManagedFile, drift: &Drift, action: &Action) -> Description {
    let now = match action {
        Action::File(FileAction::Update {
            old_sha256,
            old_mode,
            ..
        }) => Some((old_sha256.as_str(), *old_mode)),
        Action::File(FileAction::Delete { sha256, .. }) => Some((sha256.as_str(), file.mode)),
        _ => None,
    };
    let state = |sha256: Option<&str>, mode: Option<u32>| {
        State::File(FileState {
            sha256: sha256.map(str::to_owned),
            mode,
            ..FileState::default()
        })
    };
    let after = now.map(|(sha256, mode)| state(Some(sha256), Some(mode)));
    let (change, reason, before, after) = match drift {
        Drift::Edited { recorded_sha256 } => (
            Change::Update,
            Reason::Edited,
            state(Some(recorded_sha256), None),
            after,
        ),
        Drift::ModeChanged { recorded_mode } => (
            Change::Update,
            Reason::ModeChanged,
            state(now.map(|(sha256, _)| sha256), Some(*recorded_mode)),
            after,
        ),
        Drift::Removed => (Change::Delete, Reason::Removed, State::Present {}, None),
    };
    let mut description = Description::new(
        format!("file {}:{}", file.host, file.path),
        change,
        Object::File,
        &file.host,
        &file.path,
        reason,
    );
    description.sensitive = file.secret;
    description.before = Some(before);
    description.after = after;
    description.summary = Some(drift_words(drift, now));
    description
}

fn owner(owner: Owner) -> &'static str {
    match owner {
        Owner::Root => "root",
        Owner::User => "user",
    }
}
