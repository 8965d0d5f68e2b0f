//! The machine-readable view of a plan (`privai plan --json`), modelled on
//! `terraform show -json`: a versioned document with one entry per action
//! in `resource_changes`, the files changed outside privai in
//! `resource_drift`, the services that start or restart, and the summary
//! counts. Pure. The schema and its version policy are documented in
//! `docs/plan-json.md`.
//!
//! A secret's value never appears: the entry of a secret file, or of a
//! secret privai writes (`"type": "secret"`), has `before_sensitive` /
//! `after_sensitive` set and carries hashes only, even if the plan
//! (wrongly) held its text.

use crate::output::plan_view::SECRET_MODE;
use crate::plan::{
    Action, Change, Drift, FileAction, HeadscaleAction, ManagedFile, ModelAction, Plan,
    SecretAction, ServiceAction, TextChange,
};
use crate::render::Owner;
use crate::render::units::ServiceUnit;
use serde_json::{Map, Value, json};

/// Version of the document's schema: the minor part grows with additive
/// changes, the major part with breaking ones.
pub const FORMAT_VERSION: &str = "1.1";

/// What the document says besides the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonContext {
    /// The current generation (the one the plan starts from); `None` before
    /// the first apply.
    pub generation: Option<u64>,
    /// The fingerprint of the observed state the plan was made against
    /// ([`crate::observe::Observed::fingerprint`]).
    pub fingerprint: String,
    /// The plan is against a staging tree (`--root`): services are not
    /// started, restarted or stopped.
    pub staged: bool,
}

/// The plan as a JSON document (see `docs/plan-json.md`).
pub fn to_json(plan: &Plan, context: &JsonContext) -> Value {
    let changes: Vec<Value> = plan.actions.iter().map(|a| change(plan, a)).collect();
    let drift: Vec<Value> = plan.drifted().filter_map(drift).collect();
    let restarts: Vec<&str> = plan.restarts().iter().map(|s| s.name()).collect();
    json!({
        "format_version": FORMAT_VERSION,
        "privai_version": env!("CARGO_PKG_VERSION"),
        "prior_generation": context.generation,
        "observed_fingerprint": context.fingerprint,
        "staged": context.staged,
        "resource_changes": changes,
        "resource_drift": drift,
        "restarts": restarts,
        "summary": {
            "add": plan.count(Change::Create),
            "change": plan.count(Change::Update) + plan.count(Change::Adopt),
            "delete": plan.count(Change::Delete),
            "restart": plan.count(Change::Restart),
            "reload": plan.count(Change::Reload),
        },
    })
}

/// A `resource_changes` entry of something set through Headscale's API;
/// `detail` never holds a key, only its id.
fn control_entry(action: &Action, host: &str, name: &str, detail: Value) -> Value {
    let actions = [action.change().name()];
    let (before, after) = match action.change() {
        Change::Delete => (detail, Value::Null),
        _ => (Value::Null, detail),
    };
    json!({
        "address": action.address(),
        "type": "headscale",
        "host": host,
        "name": name,
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "before_sensitive": false,
            "after_sensitive": false,
        },
        "action_reason": "headscale_differs",
    })
}

/// The `resource_changes` entry of a Matrix action (`type` `matrix`; no
/// secret: passwords and tokens never enter a plan).
fn matrix_entry(action: &Action, matrix: &crate::plan::MatrixAction) -> Value {
    use crate::plan::MatrixAction;
    let (host, name, detail, reason) = match matrix {
        MatrixAction::CreateAccount {
            host,
            user_id,
            kind,
            ..
        } => (host, user_id, json!({ "kind": kind }), "account_absent"),
        MatrixAction::SetAiToken {
            host,
            user_id,
            path,
        } => (
            host,
            user_id,
            json!({ "path": path }),
            "token_absent_or_refused",
        ),
        MatrixAction::DeactivateAccount { host, user_id, .. } => (
            host,
            user_id,
            json!({ "deactivated": true }),
            "user_not_in_spec",
        ),
    };
    json!({
        "address": action.address(),
        "type": "matrix",
        "host": host,
        "name": name,
        "change": {
            "actions": [action.change().name()],
            "before": null,
            "after": detail,
            "before_sensitive": false,
            "after_sensitive": false,
        },
        "action_reason": reason,
    })
}

/// One `resource_changes` entry.
fn change(plan: &Plan, action: &Action) -> Value {
    let actions = [action.change().name()];
    match action {
        Action::File(FileAction::Create { file, sha256, .. }) => file_entry(
            file,
            &actions,
            Value::Null,
            file_state(sha256, Some(file.mode), Some(file.owner), None),
            "file_absent",
        ),
        Action::File(FileAction::Update {
            file,
            old_mode,
            old_sha256,
            new_sha256,
            text,
            ..
        })
        | Action::File(FileAction::Adopt {
            file,
            old_mode,
            old_sha256,
            new_sha256,
            text,
        }) => {
            // A secret's text is never included, whatever the plan carries.
            let text = text.as_ref().filter(|_| !file.secret);
            let reason = if matches!(action, Action::File(FileAction::Adopt { .. })) {
                "not_written_by_privai"
            } else if old_sha256 != new_sha256 {
                "contents_differ"
            } else {
                "mode_differs"
            };
            file_entry(
                file,
                &actions,
                file_state(
                    old_sha256,
                    Some(*old_mode),
                    None,
                    text.map(|t: &TextChange| t.old.as_str()),
                ),
                file_state(
                    new_sha256,
                    Some(file.mode),
                    Some(file.owner),
                    text.map(|t| t.new.as_str()),
                ),
                reason,
            )
        }
        Action::File(FileAction::Delete { file, sha256, .. }) => file_entry(
            file,
            &actions,
            file_state(sha256, Some(file.mode), Some(file.owner), None),
            Value::Null,
            "no_longer_in_spec",
        ),
        Action::Model(ModelAction::Pull {
            host,
            name,
            download_bytes,
            locked_digest,
            source,
        }) => json!({
            "address": action.address(),
            "type": "model",
            "host": host,
            "name": name,
            "change": {
                "actions": actions,
                "before": null,
                "after": { "download_bytes": download_bytes, "locked_digest": locked_digest, "source": source },
                "before_sensitive": false,
                "after_sensitive": false,
            },
            "action_reason": "model_absent",
        }),
        Action::Headscale(HeadscaleAction::CreateUser { host, user }) => {
            control_entry(action, host, &user.name, json!({ "user": user }))
        }
        Action::Headscale(HeadscaleAction::CreateKey {
            host,
            device,
            user,
            tags,
            ephemeral,
            reusable,
            expiry_days,
        }) => control_entry(
            action,
            host,
            device,
            json!({
                "user": user,
                "tags": tags,
                "ephemeral": ephemeral,
                "reusable": reusable,
                "expiry_days": expiry_days,
            }),
        ),
        Action::Headscale(HeadscaleAction::ExpireKey {
            host,
            device,
            key,
            reason,
        }) => control_entry(
            action,
            host,
            device,
            json!({ "key_id": key, "reason": reason }),
        ),
        Action::Headscale(HeadscaleAction::SetNodeTags {
            host,
            device,
            node,
            tags,
        }) => control_entry(
            action,
            host,
            device,
            json!({ "node_id": node, "tags": tags }),
        ),
        Action::Headscale(HeadscaleAction::DeleteUser { host, name, id }) => {
            let mut entry = control_entry(action, host, name, json!({ "user_id": id }));
            entry["action_reason"] = json!("not_in_spec_and_owns_no_nodes");
            entry
        }
        Action::Headscale(HeadscaleAction::SetPolicy {
            host,
            old_sha256,
            new_sha256,
            text,
        }) => {
            let before = old_sha256.as_ref().map_or(Value::Null, |sha256| {
                let mut state = json!({ "sha256": sha256 });
                if let Some(text) = text {
                    state["text"] = json!(text.old);
                }
                state
            });
            let mut after = json!({ "sha256": new_sha256 });
            if let Some(text) = text {
                after["text"] = json!(text.new);
            }
            json!({
                "address": action.address(),
                "type": "headscale",
                "host": host,
                "name": "policy",
                "change": {
                    "actions": actions,
                    "before": before,
                    "after": after,
                    "before_sensitive": false,
                    "after_sensitive": false,
                },
                "action_reason": if old_sha256.is_some() { "policy_differs" } else { "policy_absent" },
            })
        }
        Action::Matrix(matrix) => matrix_entry(action, matrix),
        Action::Model(ModelAction::Remove { host, name }) => json!({
            "address": action.address(),
            "type": "model",
            "host": host,
            "name": name,
            "change": {
                "actions": actions,
                "before": {},
                "after": null,
                "before_sensitive": false,
                "after_sensitive": false,
            },
            "action_reason": "pulled_by_privai_and_no_longer_in_spec",
        }),
        Action::Secret(SecretAction::Write {
            secret,
            old_sha256,
            new_sha256,
        }) => {
            let reason = match (old_sha256, new_sha256) {
                (None, _) => "secret_absent",
                (Some(old), Some(new)) if old == new => "mode_differs",
                _ => "secret_differs",
            };
            let before = old_sha256
                .as_ref()
                .map_or(Value::Null, |sha256| json!({ "sha256": sha256 }));
            let mut after = Map::new();
            if let Some(sha256) = new_sha256 {
                after.insert("sha256".into(), sha256.as_str().into());
            }
            after.insert("mode".into(), octal(SECRET_MODE).into());
            after.insert("source".into(), json!(secret.source));
            let before_sensitive = !before.is_null();
            json!({
                "address": format!("secret {}:{}", secret.host, secret.path),
                "type": "secret",
                "host": secret.host,
                "name": secret.path,
                "change": {
                    "actions": actions,
                    "before": before,
                    "after": after,
                    "before_sensitive": before_sensitive,
                    "after_sensitive": true,
                },
                "action_reason": reason,
                "secret_name": secret.name,
            })
        }
        Action::Service(ServiceAction::Stop { unit }) => {
            let reason = if replaced(plan, unit) {
                "manager_changed"
            } else {
                "service_removed"
            };
            service_entry(unit, &actions, service_state(unit), Value::Null, reason)
        }
        Action::Service(ServiceAction::Start { unit }) => {
            let reason = if replaced(plan, unit) {
                "manager_changed"
            } else {
                "new_service"
            };
            service_entry(unit, &actions, Value::Null, service_state(unit), reason)
        }
        Action::Service(ServiceAction::Repair { unit, drift }) => {
            let mut entry = service_entry(
                unit,
                &actions,
                service_state(unit),
                service_state(unit),
                "container_drift",
            );
            entry["drift"] = json!(drift);
            entry
        }
        Action::Service(ServiceAction::Restart { unit, because })
        | Action::Service(ServiceAction::Reload { unit, because }) => {
            let mut entry = service_entry(
                unit,
                &actions,
                service_state(unit),
                service_state(unit),
                "files_changed",
            );
            entry["because"] = json!(because);
            entry
        }
    }
}

/// Whether the plan both stops and starts `unit`'s service on its host:
/// its service manager entry changed.
fn replaced(plan: &Plan, unit: &ServiceUnit) -> bool {
    let acts = |stop: bool| {
        plan.actions.iter().any(|a| match a {
            Action::Service(ServiceAction::Stop { unit: other }) if stop => {
                same_service(unit, other)
            }
            Action::Service(ServiceAction::Start { unit: other }) if !stop => {
                same_service(unit, other)
            }
            _ => false,
        })
    };
    acts(true) && acts(false)
}

fn same_service(a: &ServiceUnit, b: &ServiceUnit) -> bool {
    a.host == b.host && a.id == b.id
}

/// One `resource_drift` entry: `before` as privai recorded it, `after` as
/// it is now.
fn drift(action: &Action) -> Option<Value> {
    let file = action.file()?;
    let now = match action {
        Action::File(FileAction::Update {
            old_sha256,
            old_mode,
            ..
        }) => Some((old_sha256, *old_mode)),
        Action::File(FileAction::Delete { sha256, .. }) => Some((sha256, file.mode)),
        _ => None,
    };
    let after = now.map_or(Value::Null, |(sha256, mode)| {
        file_state(sha256, Some(mode), None, None)
    });
    Some(match action.drift()? {
        Drift::Edited { recorded_sha256 } => file_entry(
            file,
            &["update"],
            file_state(recorded_sha256, None, None, None),
            after,
            "edited",
        ),
        Drift::ModeChanged { recorded_mode } => {
            let before = match now {
                Some((sha256, _)) => file_state(sha256, Some(*recorded_mode), None, None),
                None => json!({ "mode": octal(*recorded_mode) }),
            };
            file_entry(file, &["update"], before, after, "mode_changed")
        }
        Drift::Removed => file_entry(file, &["delete"], json!({}), Value::Null, "removed"),
    })
}

fn file_entry(
    file: &ManagedFile,
    actions: &[&str],
    before: Value,
    after: Value,
    reason: &str,
) -> Value {
    let before_sensitive = file.secret && !before.is_null();
    let after_sensitive = file.secret && !after.is_null();
    json!({
        "address": format!("file {}:{}", file.host, file.path),
        "type": "file",
        "host": file.host,
        "name": file.path,
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "before_sensitive": before_sensitive,
            "after_sensitive": after_sensitive,
        },
        "action_reason": reason,
    })
}

fn service_entry(
    unit: &ServiceUnit,
    actions: &[&str],
    before: Value,
    after: Value,
    reason: &str,
) -> Value {
    json!({
        "address": format!("service {}:{}", unit.host, unit.id.name()),
        "type": "service",
        "host": unit.host,
        "name": unit.id.name(),
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "before_sensitive": false,
            "after_sensitive": false,
        },
        "action_reason": reason,
    })
}

/// `{"sha256", "mode", "owner", "text"}`, leaving out what is not known.
fn file_state(sha256: &str, mode: Option<u32>, owner: Option<Owner>, text: Option<&str>) -> Value {
    let mut state = Map::new();
    state.insert("sha256".into(), sha256.into());
    if let Some(mode) = mode {
        state.insert("mode".into(), octal(mode).into());
    }
    if let Some(owner) = owner {
        let owner = match owner {
            Owner::Root => "root",
            Owner::User => "user",
        };
        state.insert("owner".into(), owner.into());
    }
    if let Some(text) = text {
        state.insert("text".into(), text.into());
    }
    Value::Object(state)
}

/// `{"manager", "health"}`; `health` carries its timeout, or is `null` for
/// a scheduled job.
fn service_state(unit: &ServiceUnit) -> Value {
    let health = match &unit.health {
        Some(health) => {
            let mut health = serde_json::to_value(health).unwrap_or(Value::Null);
            if let Value::Object(fields) = &mut health {
                fields.insert("timeout_secs".into(), unit.health_timeout_secs.into());
            }
            health
        }
        None => Value::Null,
    };
    json!({
        "manager": unit.manager,
        "health": health,
    })
}

fn octal(mode: u32) -> String {
    format!("{mode:04o}")
}

#[cfg(test)]
mod tests;
