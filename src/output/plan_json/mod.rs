//! The machine-readable view of a plan (`privai plan --json`), modelled on
//! `terraform show -json`: a versioned document with one entry per action
//! in `resource_changes`, the files changed outside privai in
//! `resource_drift`, the services that start or restart, and the summary
//! counts. Pure. The schema and its version policy are documented in
//! `docs/plan-json.md`.
//!
//! Each entry is a layout of one [`Description`]
//! ([`crate::plan::describe`]), the same the human view prints.
//!
//! A secret's value never appears: the entry of a secret file, or of a
//! secret privai writes (`"type": "secret"`), has `before_sensitive` /
//! `after_sensitive` set and carries hashes only, even if the plan
//! (wrongly) held its text.

use crate::plan::describe::{self, Context, Description};
use crate::plan::{Change, Plan};
use serde_json::{Value, json};

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
    let described = describe::describe(
        plan,
        &Context {
            staged: context.staged,
        },
    );
    let changes: Vec<Value> = described.changes.iter().map(entry).collect();
    let drift: Vec<Value> = described.drift.iter().map(entry).collect();
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

/// One `resource_changes` (or `resource_drift`) entry.
fn entry(description: &Description) -> Value {
    let mut entry = json!({
        "address": description.address,
        "type": description.object,
        "host": description.host,
        "name": description.name,
        "change": {
            "actions": [description.change.name()],
            "before": description.before,
            "after": description.after,
            "before_sensitive": description.before_sensitive(),
            "after_sensitive": description.after_sensitive(),
        },
        "action_reason": description.reason,
    });
    if let Some(name) = &description.secret_name {
        entry["secret_name"] = json!(name);
    }
    if let Some(drift) = &description.container_drift {
        entry["drift"] = json!(drift);
    }
    if let Some(because) = &description.because {
        entry["because"] = json!(because);
    }
    entry
}

#[cfg(test)]
mod tests;
