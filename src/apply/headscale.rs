//! Carrying out the Headscale domain through a [`ControlPlane`]: users and
//! keys are not undone by a rollback (a user is harmless, a key expires);
//! a policy is, so its journal record keeps the previous one.

use crate::plan::HeadscaleAction;
use crate::render::Rendered;
use crate::secret::Secret;
use crate::state::StateDir;
use crate::state::journal::{Journal, Record};

/// What the Headscale domain needs from Headscale's API.
pub trait ControlPlane {
    /// Creates a Headscale user, unless Headscale has one of that name.
    fn create_user(&mut self, user: &crate::plan::headscale::NewUser) -> Result<(), String>;
    /// Creates a pre-auth key of `user` with `tags` (ephemeral, reusable
    /// or not), valid for `days`; returns its id and the key itself.
    fn create_key(
        &mut self,
        user: &str,
        tags: &[String],
        ephemeral: bool,
        reusable: bool,
        days: u32,
    ) -> Result<(u64, Secret), String>;
    /// Expires pre-auth key `id`.
    fn expire_key(&mut self, id: u64) -> Result<(), String>;
    /// Sets the tags of node `node`.
    fn set_node_tags(&mut self, node: u64, tags: &[String]) -> Result<(), String>;
    /// Deletes Headscale user `id`.
    fn delete_user(&mut self, id: u64) -> Result<(), String>;
    /// The ACL policy Headscale holds (`None`: none).
    fn get_policy(&mut self) -> Result<Option<String>, String>;
    /// Has Headscale check `policy` against its users and nodes, its
    /// `tests` included, without setting it.
    fn check_policy(&mut self, policy: &str) -> Result<(), String>;
    /// Sets Headscale's ACL policy (database mode).
    fn set_policy(&mut self, policy: &str) -> Result<(), String>;
}

/// Runs one Headscale action: journals it (users and keys are not undone
/// by a rollback: a user is harmless, a key expires; a policy is, so its
/// record keeps the previous one), calls the API, keeps a new key 0600 in
/// the state directory.
#[allow(clippy::too_many_arguments)]
pub(super) fn control_step(
    state: &StateDir,
    step: usize,
    action: &HeadscaleAction,
    desired: &Rendered,
    control: &mut dyn ControlPlane,
    journal: &mut Journal,
    records: &mut Vec<Record>,
) -> Result<(), String> {
    let address = action.address();
    if let HeadscaleAction::SetPolicy { .. } = action {
        return set_policy(step, &address, desired, control, journal, records);
    }
    let record = Record::Control {
        step,
        action: format!("{} {address}", action.change().name()),
    };
    journal.append(&record).map_err(|e| e.to_string())?;
    records.push(record);
    let keys = |e: std::io::Error| format!("keeping the pre-auth key: {e}");
    match action {
        HeadscaleAction::CreateUser { user, .. } => control.create_user(user),
        HeadscaleAction::DeleteUser { id, .. } => control.delete_user(*id),
        HeadscaleAction::CreateKey {
            device,
            user,
            tags,
            ephemeral,
            reusable,
            expiry_days,
            ..
        } => {
            let (id, key) = control.create_key(user, tags, *ephemeral, *reusable, *expiry_days)?;
            crate::state::keys::store(state.dir(), device, id, key.expose()).map_err(keys)
        }
        HeadscaleAction::ExpireKey { device, key, .. } => {
            control.expire_key(*key)?;
            crate::state::keys::forget(state.dir(), device, *key).map_err(keys)
        }
        HeadscaleAction::SetNodeTags { node, tags, .. } => control.set_node_tags(*node, tags),
        HeadscaleAction::SetPolicy { .. } => unreachable!("set above"),
    }
    .map_err(|e| format!("{address}: {e}"))
}

/// Sets the spec's policy (database mode): checked by Headscale first, as
/// a reload in file mode is, so nothing is set unless Headscale accepts it
/// against its users and nodes; the journal keeps the policy it replaces.
fn set_policy(
    step: usize,
    address: &str,
    desired: &Rendered,
    control: &mut dyn ControlPlane,
    journal: &mut Journal,
    records: &mut Vec<Record>,
) -> Result<(), String> {
    let policy = desired
        .control
        .as_ref()
        .map(|c| c.policy.as_str())
        .ok_or_else(|| format!("{address}: the spec runs no Headscale"))?;
    control
        .check_policy(policy)
        .map_err(|e| format!("{address}: checking the new policy: {e}"))?;
    let previous = control
        .get_policy()
        .map_err(|e| format!("{address}: reading the policy it replaces: {e}"))?;
    let record = Record::Policy { step, previous };
    journal.append(&record).map_err(|e| e.to_string())?;
    // Kept even when setting fails: undoing checks what Headscale holds.
    records.push(record);
    control
        .set_policy(policy)
        .map_err(|e| format!("{address}: {e}"))
}
