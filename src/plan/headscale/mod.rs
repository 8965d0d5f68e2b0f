//! The Headscale domain's decisions: pure functions of the spec and what
//! Headscale listed ([`crate::observe::headscale`]): which users to create
//! ([`users_to_create`]) or delete ([`users_to_delete`]), which devices need
//! a pre-auth key and which keys to expire ([`key_decisions`]), which nodes
//! need other tags ([`tag_changes`]).
//!
//! # Linking pre-auth keys to devices
//!
//! Headscale 0.29.2 keys have no name or description, the full key is
//! returned only once (by create) and the list holds every key of every
//! user. privai therefore links a key to a device by **recording the key's
//! ID** when it creates it ([`KeyRecords`], kept in privai's state next to
//! the key itself, which must be stored anyway to be handed to the device).
//! A recorded key counts for its device only while it still *fits* it
//! ([`key_fits`]: same user, same tags, same ephemerality, single use).
//! Keys privai did not record are never touched. Neither of the other
//! schemes works: marking keys with ACL tags makes every node joined with
//! them a tagged node (owned by `tagged-devices`, no longer matched by
//! `alice@` rules), and matching keys by attributes cannot tell two devices
//! of one user with the same tags apart, so it cannot say which key to
//! expire when one of them leaves the spec.
//!
//! A device has *joined* ([`device_node`]) when a node registered with its
//! recorded key exists, or a node named like it (hostname or given name,
//! ignoring case) that belongs to its user or is tagged.

use super::files::TextChange;
use super::{Change, Options};
use crate::model::{Device, DeviceOs};
use crate::observe::Observed;
use crate::observe::headscale::{Node, PreAuthKey, TAGGED_DEVICES_ID, User};
use crate::observe::live::HeadscaleState;
use crate::render::Rendered;
use crate::render::manifest::sha256_hex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    /// Its name.
    pub name: String,
    /// Human-readable name; not sent when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// E-mail address; not sent when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
}

impl NewUser {
    /// The user the spec declares.
    pub fn of(user: &crate::model::User) -> Self {
        Self {
            name: user.name.clone(),
            display_name: user.display_name.clone().unwrap_or_default(),
            email: user.email.clone().unwrap_or_default(),
        }
    }
}

// ---------------------------------------------------------------------------
// Decisions: pure functions of the spec and what the API listed.

/// A step on Headscale's users, keys, nodes or policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum HeadscaleAction {
    /// Create a Headscale user (after Headscale starts).
    CreateUser {
        /// The host running Headscale.
        host: String,
        /// The user.
        user: NewUser,
    },
    /// Create a single-use pre-auth key for a device that has not joined;
    /// it is kept 0600 in privai's state, shown only by `privai enroll`.
    CreateKey {
        /// The host running Headscale.
        host: String,
        /// The device.
        device: String,
        /// Its user.
        user: String,
        /// Its tags, sorted.
        tags: Vec<String>,
        /// Whether the node is ephemeral.
        ephemeral: bool,
        /// Whether the key joins any number of nodes.
        reusable: bool,
        /// Days the key stays valid.
        expiry_days: u32,
    },
    /// Expire a pre-auth key privai created (its device left the spec,
    /// joined, or needs another key).
    ExpireKey {
        /// The host running Headscale.
        host: String,
        /// The device it was for.
        device: String,
        /// The key's id.
        key: u64,
        /// Why, in words.
        reason: String,
    },
    /// Set Headscale's ACL policy through its API (`policy_mode =
    /// 'database`), after its users exist and before keys are made. A
    /// rollback sets the previous policy again.
    SetPolicy {
        /// The host running Headscale.
        host: String,
        /// sha256 of the policy Headscale holds now; `None` when it holds
        /// none or did not answer.
        old_sha256: Option<String>,
        /// sha256 of the spec's policy.
        new_sha256: String,
        /// Old and new text, for a diff (`None` when the old is unknown).
        text: Option<TextChange>,
    },
    /// Delete a Headscale user the spec no longer declares (only with
    /// `--prune`, and never one that owns nodes or came from OIDC). Not
    /// undone by a rollback.
    DeleteUser {
        /// The host running Headscale.
        host: String,
        /// The user's name.
        name: String,
        /// Its id.
        id: u64,
    },
    /// Set the tags of a joined device's node.
    SetNodeTags {
        /// The host running Headscale.
        host: String,
        /// The device.
        device: String,
        /// The node's id.
        node: u64,
        /// The tags, sorted.
        tags: Vec<String>,
    },
}

impl HeadscaleAction {
    /// The kind of change.
    pub fn change(&self) -> Change {
        match self {
            Self::CreateUser { .. } | Self::CreateKey { .. } => Change::Create,
            Self::ExpireKey { .. } | Self::DeleteUser { .. } => Change::Delete,
            Self::SetPolicy { old_sha256, .. } => match old_sha256 {
                None => Change::Create,
                Some(_) => Change::Update,
            },
            Self::SetNodeTags { .. } => Change::Update,
        }
    }

    /// `headscale user HOST:NAME`, `pre-auth key HOST:DEVICE`, `node tags
    /// HOST:DEVICE` or `acl policy HOST`.
    pub fn address(&self) -> String {
        match self {
            Self::CreateUser { host, user } => format!("headscale user {host}:{}", user.name),
            Self::DeleteUser { host, name, .. } => format!("headscale user {host}:{name}"),
            Self::SetPolicy { host, .. } => format!("acl policy {host}"),
            Self::CreateKey { host, device, .. } | Self::ExpireKey { host, device, .. } => {
                format!("pre-auth key {host}:{device}")
            }
            Self::SetNodeTags { host, device, .. } => format!("node tags {host}:{device}"),
        }
    }
}

/// The Headscale actions and notes, in this order: create the spec's
/// users; set the policy (database mode) when it differs; expire keys
/// privai created that are no longer needed; create a key for each device
/// that has not joined; set the tags of joined devices; with `--prune`,
/// delete users the spec dropped that own no nodes. Nothing when Headscale
/// was not observed; everything when it did not answer (it may be about
/// to start). Pure.
pub fn control_actions(
    desired: &Rendered,
    observed: &Observed,
    options: Options,
) -> (Vec<HeadscaleAction>, Vec<String>) {
    let mut actions = Vec::new();
    let mut notes = Vec::new();
    let Some(control) = &desired.control else {
        return (actions, notes);
    };
    let blind = matches!(observed.headscale, HeadscaleState::Unreachable { .. });
    let (users, keys, nodes, policy) = match &observed.headscale {
        HeadscaleState::NotObserved => return (actions, notes),
        HeadscaleState::Unreachable { url, error } => {
            notes.push(format!(
                "Headscale did not answer at {url} ({error}); the plan assumes it is starting and lists every user (apply creates only those Headscale lacks by then) and a key for each device without one on record (the next apply checks the others)"
            ));
            (&[][..], &[][..], &[][..], None)
        }
        HeadscaleState::Running {
            users,
            keys,
            nodes,
            policy,
        } => (
            users.as_slice(),
            keys.as_slice(),
            nodes.as_slice(),
            policy.as_deref(),
        ),
    };
    let host = &control.host;
    for user in users_to_create(&control.users, users) {
        actions.push(HeadscaleAction::CreateUser {
            host: host.clone(),
            user,
        });
    }
    if control.policy_mode == crate::model::PolicyMode::Database {
        let old = policy.filter(|text| !text.trim().is_empty());
        if old.map(str::trim) != Some(control.policy.trim()) {
            actions.push(HeadscaleAction::SetPolicy {
                host: host.clone(),
                old_sha256: old.map(|text| sha256_hex(text.as_bytes())),
                new_sha256: sha256_hex(control.policy.as_bytes()),
                text: old.map(|old| TextChange {
                    old: old.to_owned(),
                    new: control.policy.clone(),
                }),
            });
        }
    }
    let now = observed.now.unwrap_or(std::time::UNIX_EPOCH);
    let mut decisions = key_decisions(&control.devices, nodes, keys, &observed.key_records, now);
    if blind {
        // Unseen, a recorded key may well be usable still: a new one would
        // leave it valid and no longer on record.
        decisions
            .create
            .retain(|device| !observed.key_records.contains_key(device));
    }
    actions.extend(retired_expiries(host, &observed.retired_keys, keys, now));
    for expiry in decisions.expire {
        let reason = match expiry.reason {
            ExpiryReason::DeviceRemoved => "the device left the spec",
            ExpiryReason::Joined => "the device has joined",
            ExpiryReason::Replaced => "its user, tags or ephemerality changed",
            ExpiryReason::NoKeyNeeded => "the device joins without a key",
        };
        actions.push(HeadscaleAction::ExpireKey {
            host: host.clone(),
            device: expiry.device,
            key: expiry.key,
            reason: reason.to_owned(),
        });
    }
    for name in decisions.create {
        let Some(device) = control.devices.iter().find(|d| d.name == name) else {
            continue;
        };
        actions.push(HeadscaleAction::CreateKey {
            host: host.clone(),
            device: name,
            user: device.user.clone(),
            tags: normalized_tags(&device.tags),
            ephemeral: device.ephemeral,
            reusable: device.reusable,
            expiry_days: control.key_expiry_days,
        });
    }
    for change in tag_changes(&control.devices, nodes, &observed.key_records) {
        match change {
            TagChange::Set { node, device, tags } => actions.push(HeadscaleAction::SetNodeTags {
                host: host.clone(),
                device,
                node,
                tags,
            }),
            TagChange::CannotUntag { device, .. } => notes.push(format!(
                "device {device} has tags the spec no longer gives it; Headscale cannot remove them: re-join it with `tailscale up --advertise-tags= --force-reauth`"
            )),
        }
    }
    let deletions = users_to_delete(&control.users, users, nodes, options.prune);
    for user in deletions.delete {
        actions.push(HeadscaleAction::DeleteUser {
            host: host.clone(),
            name: user.name,
            id: user.id,
        });
    }
    for (user, why) in deletions.kept {
        match why {
            Kept::NoPrune => notes.push(format!(
                "headscale user {} is not in the spec; `--prune` deletes it (privai never deletes a user that owns nodes)",
                user.name
            )),
            Kept::OwnsNodes(nodes) => notes.push(format!(
                "headscale user {} is not in the spec but owns {}; privai keeps it: delete those nodes first (`headscale nodes list`, `headscale nodes delete -i ID`)",
                user.name,
                nodes.join(", ")
            )),
            Kept::Oidc => {}
        }
    }
    (actions, notes)
}

/// An expiry of each retired key (replaced on record by a run that stopped
/// before it expired it) that Headscale still lists as not expired.
pub fn retired_expiries(
    host: &str,
    retired: &[(String, u64)],
    keys: &[PreAuthKey],
    now: SystemTime,
) -> Vec<HeadscaleAction> {
    retired
        .iter()
        .filter(|(_, id)| keys.iter().any(|k| k.id == *id && !k.is_expired(now)))
        .map(|(device, id)| HeadscaleAction::ExpireKey {
            host: host.to_owned(),
            device: device.clone(),
            key: *id,
            reason: "a newer key replaced it, and the run that made it stopped before expiring it"
                .to_owned(),
        })
        .collect()
}

/// The users of `spec` that `existing` lacks (matched by name), in spec order.
pub fn users_to_create(spec: &[crate::model::User], existing: &[User]) -> Vec<NewUser> {
    let names: BTreeSet<&str> = existing.iter().map(|user| user.name.as_str()).collect();
    spec.iter()
        .filter(|user| !names.contains(user.name.as_str()))
        .map(NewUser::of)
        .collect()
}

/// Why a user the spec does not declare is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// Deleting needs `--prune`.
    NoPrune,
    /// It owns these nodes (by given name); Headscale refuses to delete it.
    OwnsNodes(Vec<String>),
    /// It was created by an OpenID Connect login, not by privai.
    Oidc,
}

/// The users the spec does not declare: those to delete and those kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserDeletions {
    /// To delete.
    pub delete: Vec<User>,
    /// Kept, and why.
    pub kept: Vec<(User, Kept)>,
}

/// What to do with the users in `existing` that `spec` does not declare:
/// delete them only with `prune`, and never one that owns a node in
/// `nodes`, an OIDC user, or the synthetic [`TAGGED_DEVICES`] user (which
/// is left out of the answer). In `existing`'s order.
pub fn users_to_delete(
    spec: &[crate::model::User],
    existing: &[User],
    nodes: &[Node],
    prune: bool,
) -> UserDeletions {
    let declared: BTreeSet<&str> = spec.iter().map(|user| user.name.as_str()).collect();
    let mut out = UserDeletions::default();
    for user in existing {
        if declared.contains(user.name.as_str()) || user.id == TAGGED_DEVICES_ID {
            continue;
        }
        let owned: Vec<String> = nodes
            .iter()
            .filter(|node| node.user.as_ref().is_some_and(|owner| owner.id == user.id))
            .map(|node| node_label(node).to_owned())
            .collect();
        let kept = if user.provider == "oidc" {
            Some(Kept::Oidc)
        } else if !owned.is_empty() {
            // Said with or without `--prune`, which would not delete it.
            Some(Kept::OwnsNodes(owned))
        } else if !prune {
            Some(Kept::NoPrune)
        } else {
            None
        };
        match kept {
            Some(why) => out.kept.push((user.clone(), why)),
            None => out.delete.push(user.clone()),
        }
    }
    out
}

/// A node's name as people know it: its given name, else its hostname.
fn node_label(node: &Node) -> &str {
    if node.given_name.is_empty() {
        &node.name
    } else {
        &node.given_name
    }
}

/// privai's record of the pre-auth key it created for each device: device
/// name → key ID. Kept in privai's state; see the module docs.
pub type KeyRecords = BTreeMap<String, u64>;

/// Whether `device` joins with a pre-auth key. The iOS app cannot take
/// one: an iPhone or iPad joins interactively (`headscale auth register`).
pub fn joins_with_key(device: &Device) -> bool {
    device.os != DeviceOs::Ios
}

/// `tags` sorted, without duplicates, as Headscale stores them.
pub fn normalized_tags(tags: &[String]) -> Vec<String> {
    tags.iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Whether `key` is the key privai would create for `device`: of the
/// device's user, with its tags, its ephemerality and its reuse.
pub fn key_fits(key: &PreAuthKey, device: &Device) -> bool {
    key.reusable == device.reusable
        && key.ephemeral == device.ephemeral
        && key.user_name() == Some(device.user.as_str())
        && normalized_tags(&key.acl_tags) == normalized_tags(&device.tags)
}

/// The node of `device`, if it has joined: the node registered with its
/// recorded key `record`, else one named like the device (hostname or
/// given name, ignoring case) that belongs to the device's user or is
/// tagged.
pub fn device_node<'a>(
    device: &Device,
    nodes: &'a [Node],
    record: Option<u64>,
) -> Option<&'a Node> {
    let by_key = record.and_then(|id| {
        nodes
            .iter()
            .find(|node| node.pre_auth_key.as_ref().is_some_and(|key| key.id == id))
    });
    by_key.or_else(|| {
        nodes.iter().find(|node| {
            let named = node.name.eq_ignore_ascii_case(&device.name)
                || node.given_name.eq_ignore_ascii_case(&device.name);
            named && (node.owner() == Some(device.user.as_str()) || node.is_tagged())
        })
    })
}

/// Why a pre-auth key is expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryReason {
    /// Its device left the spec.
    DeviceRemoved,
    /// Its device has joined; the key is not needed any more.
    Joined,
    /// It no longer fits its device (user, tags or ephemerality changed);
    /// a new key replaces it.
    Replaced,
    /// Its device now joins without a key (iOS).
    NoKeyNeeded,
}

/// A recorded key to expire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyExpiry {
    /// The key's ID.
    pub key: u64,
    /// The device it was recorded for.
    pub device: String,
    /// Why.
    pub reason: ExpiryReason,
}

/// What to do about pre-auth keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyDecisions {
    /// Devices that need a new key, in spec order.
    pub create: Vec<String>,
    /// Recorded keys to expire, in device order.
    pub expire: Vec<KeyExpiry>,
    /// Records to drop once the expiries are done (no API write): of
    /// devices that left the spec or join without a key, and of keys
    /// Headscale no longer lists.
    pub forget: Vec<String>,
}

impl KeyDecisions {
    /// Whether nothing is to be done.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.expire.is_empty() && self.forget.is_empty()
    }
}

/// Decides, at `now`, which devices of `devices` need a pre-auth key —
/// those that join with one, have not joined (per `nodes`) and have no
/// recorded key that is usable and fits — and which recorded keys to
/// expire: the still usable ones of devices that left the spec, have
/// joined, need a different key, or join without one. Keys not in
/// `records` are never touched. An expired or used key needs no write, so
/// a second run after the writes decides nothing.
pub fn key_decisions(
    devices: &[Device],
    nodes: &[Node],
    keys: &[PreAuthKey],
    records: &KeyRecords,
    now: SystemTime,
) -> KeyDecisions {
    let key_by_id = |id: u64| keys.iter().find(|key| key.id == id);
    let mut out = KeyDecisions::default();
    let mut expire = |key: Option<&PreAuthKey>, device: &str, reason| {
        if let Some(key) = key.filter(|key| key.is_usable(now)) {
            out.expire.push(KeyExpiry {
                key: key.id,
                device: device.to_owned(),
                reason,
            });
        }
    };
    let mut create = Vec::new();
    for device in devices {
        let record = records.get(&device.name).copied();
        let recorded = record.and_then(key_by_id);
        if !joins_with_key(device) {
            expire(recorded, &device.name, ExpiryReason::NoKeyNeeded);
        } else if device_node(device, nodes, record).is_some() {
            // A reusable key is there to join again (ephemeral CI runners).
            if !device.reusable {
                expire(recorded, &device.name, ExpiryReason::Joined);
            }
        } else if !recorded.is_some_and(|key| key.is_usable(now) && key_fits(key, device)) {
            create.push(device.name.clone());
            expire(recorded, &device.name, ExpiryReason::Replaced);
        }
    }
    for (name, id) in records {
        if !devices.iter().any(|device| &device.name == name) {
            expire(key_by_id(*id), name, ExpiryReason::DeviceRemoved);
        }
    }
    out.create = create;
    out.forget = records
        .iter()
        .filter(|(name, id)| {
            let device = devices.iter().find(|device| &device.name == *name);
            key_by_id(**id).is_none() || !device.is_some_and(joins_with_key)
        })
        .map(|(name, _)| name.clone())
        .collect();
    out
}

/// A change to a joined device's node tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagChange {
    /// Set the node's tags to `tags` ([`Client::set_node_tags`]).
    Set {
        /// The node's ID.
        node: u64,
        /// The device.
        device: String,
        /// The tags, sorted.
        tags: Vec<String>,
    },
    /// The node has tags the spec no longer gives the device; the API
    /// cannot take them away (the device must re-join: `tailscale up
    /// --advertise-tags= --force-reauth`).
    CannotUntag {
        /// The node's ID.
        node: u64,
        /// The device.
        device: String,
        /// The node's tags now.
        tags: Vec<String>,
    },
}

/// The tag changes of the joined devices of `devices` whose node's tags
/// differ from the spec's (as sets), in spec order.
pub fn tag_changes(devices: &[Device], nodes: &[Node], records: &KeyRecords) -> Vec<TagChange> {
    let mut out = Vec::new();
    for device in devices {
        let Some(node) = device_node(device, nodes, records.get(&device.name).copied()) else {
            continue;
        };
        let wanted = normalized_tags(&device.tags);
        let has = normalized_tags(&node.tags);
        if wanted == has {
            continue;
        }
        out.push(if wanted.is_empty() {
            TagChange::CannotUntag {
                node: node.id,
                device: device.name.clone(),
                tags: has,
            }
        } else {
            TagChange::Set {
                node: node.id,
                device: device.name.clone(),
                tags: wanted,
            }
        });
    }
    out
}

#[cfg(test)]
mod tests;
