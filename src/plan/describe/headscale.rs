//! Descriptions of the Headscale domain: users, pre-auth keys (never a
//! key, only its id), node tags and the policy.

use super::{Description, HeadscaleState, Object, Reason, State, short, text_diff};
use crate::plan::{Action, Change, FileAction, HeadscaleAction, Plan, TextChange};

/// A Headscale action. The policy's diff is left out when a file update of
/// `plan` shows the same change.
pub(super) fn control(plan: &Plan, action: &HeadscaleAction) -> Description {
    let (host, name, state, summary) = match action {
        HeadscaleAction::CreateUser { host, user } => (
            host,
            user.name.as_str(),
            HeadscaleState::User { user: user.clone() },
            None,
        ),
        HeadscaleAction::CreateKey {
            host,
            device,
            user,
            tags,
            ephemeral,
            reusable,
            expiry_days,
        } => {
            let shown_tags = if tags.is_empty() {
                String::new()
            } else {
                format!(", tags {}", tags.join(" "))
            };
            let kind = if *ephemeral { "ephemeral, " } else { "" };
            let uses = if *reusable { "reusable" } else { "single use" };
            (
                host,
                device.as_str(),
                HeadscaleState::Key {
                    user: user.clone(),
                    tags: tags.clone(),
                    ephemeral: *ephemeral,
                    reusable: *reusable,
                    expiry_days: *expiry_days,
                },
                Some(format!(
                    "user {user}{shown_tags}; {kind}{uses}, expires in {expiry_days} days"
                )),
            )
        }
        HeadscaleAction::ExpireKey {
            host,
            device,
            key,
            reason,
        } => (
            host,
            device.as_str(),
            HeadscaleState::ExpiredKey {
                key_id: *key,
                reason: reason.clone(),
            },
            Some(format!("key {key}: {reason}")),
        ),
        HeadscaleAction::SetNodeTags {
            host,
            device,
            node,
            tags,
        } => (
            host,
            device.as_str(),
            HeadscaleState::NodeTags {
                node_id: *node,
                tags: tags.clone(),
            },
            Some(tags.join(" ")),
        ),
        HeadscaleAction::DeleteUser { host, name, id } => (
            host,
            name.as_str(),
            HeadscaleState::UserId { user_id: *id },
            Some(format!("user {id}: not in the spec, owns no nodes")),
        ),
        HeadscaleAction::SetPolicy {
            host,
            old_sha256,
            new_sha256,
            text,
        } => return policy(plan, action, host, old_sha256.as_deref(), new_sha256, text),
    };
    let reason = match action {
        HeadscaleAction::DeleteUser { .. } => Reason::NotInSpecAndOwnsNoNodes,
        _ => Reason::HeadscaleDiffers,
    };
    let mut description = Description::new(
        action.address(),
        action.change(),
        Object::Headscale,
        host,
        name,
        reason,
    );
    let state = Some(State::Headscale(state));
    if action.change() == Change::Delete {
        description.before = state;
    } else {
        description.after = state;
    }
    description.summary = summary;
    description
}

/// The policy set through the API: its digests and text before and after,
/// and its diff, unless a file update above shows the same change.
fn policy(
    plan: &Plan,
    action: &HeadscaleAction,
    host: &str,
    old_sha256: Option<&str>,
    new_sha256: &str,
    text: &Option<TextChange>,
) -> Description {
    let reason = if old_sha256.is_some() {
        Reason::PolicyDiffers
    } else {
        Reason::PolicyAbsent
    };
    let mut description = Description::new(
        action.address(),
        action.change(),
        Object::Headscale,
        host,
        "policy",
        reason,
    );
    description.before = old_sha256.map(|sha256| {
        State::Headscale(HeadscaleState::Policy {
            sha256: sha256.to_owned(),
            text: text.as_ref().map(|t| t.old.clone()),
        })
    });
    description.after = Some(State::Headscale(HeadscaleState::Policy {
        sha256: new_sha256.to_owned(),
        text: text.as_ref().map(|t| t.new.clone()),
    }));
    description.summary = Some("through the API".to_owned());
    let same_as_file = plan.actions.iter().find_map(|a| match a {
        Action::File(FileAction::Update {
            file,
            text: Some(change),
            ..
        }) if Some(change) == text.as_ref() => Some(file),
        _ => None,
    });
    match (text, old_sha256) {
        (Some(_), _) if let Some(file) = same_as_file => description.field(
            "policy",
            format!("the change shown for {}:{} above", file.host, file.path),
        ),
        (Some(TextChange { old, new }), _) => {
            let diff = text_diff(&format!("{host} acl policy"), old, new);
            description.details.push(super::Detail::Diff(diff));
        }
        (None, Some(old)) => description.field(
            "policy",
            format!("sha256 {} -> {}", short(old), short(new_sha256)),
        ),
        (None, None) => description.field("policy", format!("sha256 {}", short(new_sha256))),
    }
    description
}
