//! Planning: a pure function from what the spec renders ([`Rendered`]) and
//! what is there now ([`Observed`]) to an ordered list of [`Action`]s.
//!
//! `privai plan` prints the plan ([`crate::output::plan_view`], or JSON with
//! [`crate::output::plan_json`]); `privai apply` executes it
//! ([`crate::apply`]). Nothing here reads the disk or runs anything.
//!
//! # Order
//!
//! 1. services the spec no longer runs (or runs differently) stop, in
//!    reverse activation order, while their files are still there;
//! 2. files are created, updated and adopted in the order the spec renders
//!    them (host, then path), then deleted (host, then path);
//! 3. services start or restart in activation order — Headscale before
//!    clients, Ollama before the gateway ([`ServiceId`]'s order) — each one
//!    health-checked before the next starts.

use crate::observe::{FileKey, FileState, Observed};
use crate::render::manifest::{Entry, sha256_hex};
use crate::render::secrets::SecretFile;
use crate::render::units::ServiceUnit;
use crate::render::{Artifact, Owner, Rendered, ServiceId};
use std::collections::BTreeSet;

/// A file privai manages, as an action names it: where it is and what it
/// should (or, for a deletion, did) look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedFile {
    /// The host it is on.
    pub host: String,
    /// Install path on that host; `~/` is the operator's home.
    pub path: String,
    /// Permission bits it gets (for a deletion: the ones it has).
    pub mode: u32,
    /// Owner.
    pub owner: Owner,
    /// Whether it holds a secret: its contents are never shown.
    pub secret: bool,
    /// Services to restart when its contents change.
    pub restarts: Vec<ServiceId>,
    /// Services that reload (re-read it on SIGHUP) when its contents change.
    pub reloads: Vec<ServiceId>,
}

impl ManagedFile {
    /// The file `artifact` installs.
    pub fn of(artifact: &Artifact) -> Self {
        Self {
            host: artifact.host.clone(),
            path: artifact.path.clone(),
            mode: artifact.mode,
            owner: artifact.owner,
            secret: artifact.secret,
            restarts: artifact.restarts.clone(),
            reloads: artifact.reloads.clone(),
        }
    }

    /// The file a manifest entry names, with the mode it has now.
    fn of_entry(entry: &Entry, mode: u32) -> Self {
        Self {
            host: entry.host.clone(),
            path: entry.path.clone(),
            mode,
            owner: entry.owner,
            secret: entry.secret,
            restarts: entry.restarts.clone(),
            reloads: entry.reloads.clone(),
        }
    }

    /// Its key, `host` and `path`.
    pub fn key(&self) -> FileKey {
        FileKey::new(&self.host, &self.path)
    }
}

/// The old and new text of a changed, non-secret UTF-8 file, for the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChange {
    /// What is installed now.
    pub old: String,
    /// What the spec renders.
    pub new: String,
}

/// How a file privai installed was changed by something else since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// Its bytes differ from what privai wrote.
    Edited {
        /// sha256 of what privai wrote, hex.
        recorded_sha256: String,
    },
    /// Only its permission bits differ from what privai set.
    ModeChanged {
        /// The mode privai set.
        recorded_mode: u32,
    },
    /// It is gone.
    Removed,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write a file that does not exist.
    CreateFile {
        /// The file, as the spec renders it.
        file: ManagedFile,
        /// sha256 of the bytes to write, hex.
        sha256: String,
        /// Set when privai installed it before and something removed it.
        drift: Option<Drift>,
    },
    /// Rewrite a file privai installed whose bytes or mode differ from the spec's.
    UpdateFile {
        /// The file, as the spec renders it (its new mode).
        file: ManagedFile,
        /// The mode it has now.
        old_mode: u32,
        /// sha256 of its bytes now, hex.
        old_sha256: String,
        /// sha256 of the bytes to write, hex.
        new_sha256: String,
        /// Old and new text, for a diff: `None` for secret or non-UTF-8
        /// files, and when only the mode changes.
        text: Option<TextChange>,
        /// Set when it was changed outside privai since privai wrote it.
        drift: Option<Drift>,
    },
    /// Replace a file privai never wrote that differs from the spec's. Needs
    /// `--adopt`, which first saves it as `<name>.before-privai`.
    AdoptFile {
        /// The file, as the spec renders it.
        file: ManagedFile,
        /// The mode it has now.
        old_mode: u32,
        /// sha256 of its bytes now, hex.
        old_sha256: String,
        /// sha256 of the bytes to write, hex.
        new_sha256: String,
        /// Old and new text, as for [`Action::UpdateFile`].
        text: Option<TextChange>,
    },
    /// Remove a file privai installed earlier that the spec no longer renders.
    DeleteFile {
        /// The file, as the previous manifest lists it (mode as observed).
        file: ManagedFile,
        /// sha256 of its bytes now, hex.
        sha256: String,
        /// Set when it was changed outside privai since privai wrote it.
        drift: Option<Drift>,
    },
    /// Write a secret file (mode 0600): generate it when it is missing, or
    /// copy its value from the environment when missing or different. Its
    /// value is never shown, only digests.
    WriteSecret {
        /// The secret.
        secret: SecretFile,
        /// sha256 of the file now; `None` when it does not exist.
        old_sha256: Option<String>,
        /// sha256 of the value to write; `None` when it is generated.
        new_sha256: Option<String>,
    },
    /// Have Ollama pull a model it lacks (after Ollama starts, before the
    /// gateway does). Never undone by a rollback: models are data.
    PullModel {
        /// The host running Ollama.
        host: String,
        /// The model, as the spec names it.
        name: String,
        /// Download size from privai's catalog, when it knows the model.
        download_bytes: Option<u64>,
        /// The digest `privai.lock` pins it to, if any.
        locked_digest: Option<String>,
        /// Where its weights come from.
        source: crate::render::ModelSource,
    },
    /// Remove a model privai pulled earlier that the spec dropped (only
    /// with `--prune`; never a model privai did not pull).
    RemoveModel {
        /// The host running Ollama.
        host: String,
        /// The model.
        name: String,
    },
    /// Create a Headscale user (after Headscale starts).
    CreateUser {
        /// The host running Headscale.
        host: String,
        /// The user.
        user: crate::plan::headscale::NewUser,
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
    /// Stop a service the spec no longer runs, or runs under another name.
    StopService {
        /// The service, as the previous generation ran it.
        unit: ServiceUnit,
    },
    /// Start a service privai has not started before.
    StartService {
        /// The service.
        unit: ServiceUnit,
    },
    /// Restart a running service because files it reads changed.
    RestartService {
        /// The service.
        unit: ServiceUnit,
        /// Install paths of the changed files that cause the restart.
        because: Vec<String>,
    },
    /// Re-create a service whose files are unchanged but whose containers
    /// are not what its definition declares (stopped, missing, removed, or
    /// created from another definition).
    RepairService {
        /// The service.
        unit: ServiceUnit,
        /// What is wrong, one item each.
        drift: Vec<String>,
    },
    /// Have a running service re-read changed files without a restart
    /// (Headscale reloads its policy file on SIGHUP), because only files it
    /// reloads changed.
    ReloadService {
        /// The service.
        unit: ServiceUnit,
        /// Install paths of the changed files it re-reads.
        because: Vec<String>,
    },
}

/// The kind of an action, as the legend and the summary count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// `+`
    Create,
    /// `~`
    Update,
    /// `!`: replace a file privai did not write (with `--adopt`).
    Adopt,
    /// `-`
    Delete,
    /// `↻`
    Restart,
    /// `⟳`: re-read files without a restart.
    Reload,
}

impl Change {
    /// The symbol printed in front of an action.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Create => "+",
            Self::Update => "~",
            Self::Adopt => "!",
            Self::Delete => "-",
            Self::Restart => "↻",
            Self::Reload => "⟳",
        }
    }

    /// What the symbol means, for the legend.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update in place",
            Self::Adopt => "take over a file privai did not write (needs --adopt)",
            Self::Delete => "delete",
            Self::Restart => "restart",
            Self::Reload => "reload (re-read changed files, no restart)",
        }
    }

    /// The name used in `--json` (`create`, `update`, `adopt`, `delete`,
    /// `restart`, `reload`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Adopt => "adopt",
            Self::Delete => "delete",
            Self::Restart => "restart",
            Self::Reload => "reload",
        }
    }
}

impl Action {
    /// The kind of change.
    pub fn change(&self) -> Change {
        match self {
            Self::CreateFile { .. } | Self::StartService { .. } | Self::PullModel { .. } => {
                Change::Create
            }
            Self::RemoveModel { .. } | Self::ExpireKey { .. } | Self::DeleteUser { .. } => {
                Change::Delete
            }
            Self::SetPolicy { old_sha256, .. } => match old_sha256 {
                None => Change::Create,
                Some(_) => Change::Update,
            },
            Self::ReloadService { .. } => Change::Reload,
            Self::RepairService { .. } => Change::Update,
            Self::CreateUser { .. } | Self::CreateKey { .. } => Change::Create,
            Self::SetNodeTags { .. } => Change::Update,
            Self::WriteSecret { old_sha256, .. } => match old_sha256 {
                None => Change::Create,
                Some(_) => Change::Update,
            },
            Self::UpdateFile { .. } => Change::Update,
            Self::AdoptFile { .. } => Change::Adopt,
            Self::DeleteFile { .. } | Self::StopService { .. } => Change::Delete,
            Self::RestartService { .. } => Change::Restart,
        }
    }

    /// The file acted on, for a file action.
    pub fn file(&self) -> Option<&ManagedFile> {
        match self {
            Self::CreateFile { file, .. }
            | Self::UpdateFile { file, .. }
            | Self::AdoptFile { file, .. }
            | Self::DeleteFile { file, .. } => Some(file),
            _ => None,
        }
    }

    /// The service acted on, for a service action.
    pub fn unit(&self) -> Option<&ServiceUnit> {
        match self {
            Self::StopService { unit }
            | Self::StartService { unit }
            | Self::RestartService { unit, .. }
            | Self::ReloadService { unit, .. }
            | Self::RepairService { unit, .. } => Some(unit),
            _ => None,
        }
    }

    /// What it changes outside privai's knowledge, for a file privai
    /// installed that something else changed since.
    pub fn drift(&self) -> Option<&Drift> {
        match self {
            Self::CreateFile { drift, .. }
            | Self::UpdateFile { drift, .. }
            | Self::DeleteFile { drift, .. } => drift.as_ref(),
            _ => None,
        }
    }

    /// Whether its bytes change (rather than only its mode): a file action
    /// that makes the file's services restart.
    fn changes_contents(&self) -> bool {
        match self {
            Self::UpdateFile {
                old_sha256,
                new_sha256,
                ..
            }
            | Self::AdoptFile {
                old_sha256,
                new_sha256,
                ..
            } => old_sha256 != new_sha256,
            Self::CreateFile { .. } | Self::DeleteFile { .. } => true,
            _ => false,
        }
    }

    /// Services this action makes restart: those of the file (or secret)
    /// when its contents change; none for a change of mode only, or a
    /// service action.
    pub fn restarts(&self) -> &[ServiceId] {
        match (self, self.file()) {
            (Self::WriteSecret { secret, .. }, _) => &secret.restarts,
            (_, Some(file)) if self.changes_contents() => &file.restarts,
            _ => &[],
        }
    }

    /// Services that re-read this file action's file on a reload, when its
    /// contents change.
    pub fn reloads(&self) -> &[ServiceId] {
        match self.file() {
            Some(file) if self.changes_contents() => &file.reloads,
            _ => &[],
        }
    }

    /// The host and install path of the file or secret it writes or removes.
    pub fn target_path(&self) -> Option<(&str, &str)> {
        match self {
            Self::WriteSecret { secret, .. } => Some((&secret.host, &secret.path)),
            _ => self.file().map(|f| (f.host.as_str(), f.path.as_str())),
        }
    }

    /// A one-line address: `file HOST:PATH`, `service HOST:NAME`,
    /// `model HOST:NAME`, `secret HOST:PATH`, `headscale user HOST:NAME`,
    /// `pre-auth key HOST:DEVICE`, `node tags HOST:DEVICE`, `acl policy HOST`.
    pub fn address(&self) -> String {
        match self {
            Self::CreateFile { file, .. }
            | Self::UpdateFile { file, .. }
            | Self::AdoptFile { file, .. }
            | Self::DeleteFile { file, .. } => format!("file {}:{}", file.host, file.path),
            Self::WriteSecret { secret, .. } => format!("secret {}:{}", secret.host, secret.path),
            Self::PullModel { host, name, .. } | Self::RemoveModel { host, name } => {
                format!("model {host}:{name}")
            }
            Self::CreateUser { host, user } => format!("headscale user {host}:{}", user.name),
            Self::DeleteUser { host, name, .. } => format!("headscale user {host}:{name}"),
            Self::SetPolicy { host, .. } => format!("acl policy {host}"),
            Self::CreateKey { host, device, .. } | Self::ExpireKey { host, device, .. } => {
                format!("pre-auth key {host}:{device}")
            }
            Self::SetNodeTags { host, device, .. } => format!("node tags {host}:{device}"),
            Self::StopService { unit }
            | Self::StartService { unit }
            | Self::RestartService { unit, .. }
            | Self::ReloadService { unit, .. }
            | Self::RepairService { unit, .. } => {
                format!("service {}:{}", unit.host, unit.id.name())
            }
        }
    }
}

/// An ordered list of actions (see the module docs for the order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The actions, in order.
    pub actions: Vec<Action>,
    /// Things the plan cannot act on but the operator should know, one
    /// sentence each (e.g. a model tag that moved away from `privai.lock`).
    pub notes: Vec<String>,
}

/// Choices that change what a plan does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Remove what the spec dropped: models privai pulled, Headscale users
    /// that own no nodes.
    pub prune: bool,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The number of actions of kind `change`.
    pub fn count(&self, change: Change) -> usize {
        self.actions.iter().filter(|a| a.change() == change).count()
    }

    /// The kinds of change present, in legend order.
    pub fn changes(&self) -> BTreeSet<Change> {
        self.actions.iter().map(Action::change).collect()
    }

    /// Every service that starts or restarts, once each, sorted.
    pub fn restarts(&self) -> BTreeSet<ServiceId> {
        self.actions
            .iter()
            .filter(|a| {
                matches!(
                    a,
                    Action::StartService { .. } | Action::RestartService { .. }
                )
            })
            .filter_map(|a| a.unit().map(|u| u.id))
            .collect()
    }

    /// Actions on files something else changed since privai wrote them.
    pub fn drifted(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| a.drift().is_some())
    }

    /// Files privai did not write that apply would replace (`--adopt`).
    pub fn adoptions(&self) -> impl Iterator<Item = &Action> {
        self.actions
            .iter()
            .filter(|a| matches!(a, Action::AdoptFile { .. }))
    }
}

/// Plans the actions that turn `observed` into `desired`. Pure.
///
/// A desired file that is absent is created; one whose bytes or mode differ
/// is updated (adopted, when privai did not install it); one whose bytes and
/// mode match needs nothing, even when privai did not write it. A file of
/// the previous manifest that the spec no longer renders, and that still
/// exists, is deleted. Services: see [`service_actions`].
pub fn plan(desired: &Rendered, observed: &Observed) -> Plan {
    plan_with(desired, observed, Options::default())
}

/// [`plan`] with `options`. Pure.
pub fn plan_with(desired: &Rendered, observed: &Observed, options: Options) -> Plan {
    let previous: std::collections::BTreeMap<FileKey, &Entry> = observed
        .previous
        .iter()
        .map(|e| (FileKey::new(&e.host, &e.path), e))
        .collect();
    let mut files = Vec::new();
    let mut wanted = BTreeSet::new();
    for artifact in &desired.artifacts {
        let key = FileKey::new(&artifact.host, &artifact.path);
        let state = observed.file(&key);
        let recorded = previous.get(&key).copied();
        let drift = drift(recorded, state);
        wanted.insert(key);
        let file = ManagedFile::of(artifact);
        let new_sha256 = sha256_hex(&artifact.contents);
        match state {
            FileState::Absent => files.push(Action::CreateFile {
                file,
                sha256: new_sha256,
                drift,
            }),
            FileState::Present { contents, mode } => {
                let same_bytes = *contents == artifact.contents;
                if same_bytes && *mode == artifact.mode {
                    continue;
                }
                let text = (!same_bytes && !artifact.secret)
                    .then(|| text_change(contents, &artifact.contents))
                    .flatten();
                let old_sha256 = sha256_hex(contents);
                files.push(match recorded {
                    Some(_) => Action::UpdateFile {
                        file,
                        old_mode: *mode,
                        old_sha256,
                        new_sha256,
                        text,
                        drift,
                    },
                    None => Action::AdoptFile {
                        file,
                        old_mode: *mode,
                        old_sha256,
                        new_sha256,
                        text,
                    },
                });
            }
        }
    }
    let mut secret_notes = Vec::new();
    for secret in &desired.secrets {
        let key = FileKey::new(&secret.host, &secret.path);
        let state = observed.secrets.get(&key).cloned().unwrap_or_default();
        if let Some(note) = state.note {
            secret_notes.push(note);
            continue;
        }
        let write = match (&state.file, &state.wanted_sha256) {
            (None, _) => true,
            (Some((sha256, mode)), Some(wanted)) => sha256 != wanted || *mode != 0o600,
            (Some(_), None) => false,
        };
        if write {
            files.push(Action::WriteSecret {
                secret: secret.clone(),
                old_sha256: state.file.map(|(sha256, _)| sha256),
                new_sha256: state.wanted_sha256,
            });
        }
    }
    let mut deletions = Vec::new();
    for entry in &observed.previous {
        let key = FileKey::new(&entry.host, &entry.path);
        if !wanted.insert(key.clone()) {
            continue;
        }
        let state = observed.file(&key);
        if let FileState::Present { contents, mode } = state {
            deletions.push(Action::DeleteFile {
                file: ManagedFile::of_entry(entry, *mode),
                sha256: sha256_hex(contents),
                drift: drift(Some(entry), state),
            });
        }
    }
    deletions.sort_by(|a, b| {
        let (a, b) = (
            a.file().map(ManagedFile::key),
            b.file().map(ManagedFile::key),
        );
        a.cmp(&b)
    });
    files.extend(deletions);
    let (stops, mut starts) =
        service_actions(&desired.services, &observed.previous_services, &files);
    let (repairs, container_notes) = container_actions(desired, observed, &stops, &starts);
    let mut notes = secret_notes;
    notes.extend(container_notes);
    for repair in repairs {
        let id = repair.unit().map(|u| u.id);
        let at = starts
            .iter()
            .position(|a| a.unit().map(|u| u.id) > id)
            .unwrap_or(starts.len());
        starts.insert(at, repair);
    }
    let (models, model_notes) = model_actions(desired, observed, options);
    notes.extend(model_notes);
    let (control, control_notes) = control_actions(desired, observed, options);
    notes.extend(control_notes);
    // Users, policy and keys once Headscale is up (it starts first). When
    // Headscale only reloads its policy file, it is running: its users are
    // created first, so that the new policy finds them.
    match starts.iter().position(
        |a| matches!(a, Action::ReloadService { unit, .. } if unit.id == ServiceId::Headscale),
    ) {
        Some(reload) => {
            let (users, rest): (Vec<Action>, Vec<Action>) = control
                .into_iter()
                .partition(|a| matches!(a, Action::CreateUser { .. }));
            starts.splice(reload + 1..reload + 1, rest);
            starts.splice(reload..reload, users);
        }
        None => {
            let at = starts
                .iter()
                .position(|a| a.unit().is_some_and(|u| u.id > ServiceId::Headscale))
                .unwrap_or(starts.len());
            starts.splice(at..at, control);
        }
    }
    // Models are pulled once Ollama is up, before the gateway starts.
    let at = starts
        .iter()
        .position(|a| a.unit().is_some_and(|u| u.id > ServiceId::Ollama))
        .unwrap_or(starts.len());
    starts.splice(at..at, models);
    let mut actions = stops;
    actions.extend(files);
    actions.extend(starts);
    Plan { actions, notes }
}

/// The Headscale actions and notes, in this order: create the spec's
/// users; set the policy (database mode) when it differs; expire keys
/// privai created that are no longer needed; create a key for each device
/// that has not joined; set the tags of joined devices; with `--prune`,
/// delete users the spec dropped that own no nodes. Nothing when Headscale
/// was not observed; everything when it did not answer (it may be about
/// to start). Pure.
fn control_actions(
    desired: &Rendered,
    observed: &Observed,
    options: Options,
) -> (Vec<Action>, Vec<String>) {
    use crate::observe::live::HeadscaleState;
    use crate::plan::headscale::{
        ExpiryReason, Kept, TagChange, key_decisions, tag_changes, users_to_create, users_to_delete,
    };
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
        actions.push(Action::CreateUser {
            host: host.clone(),
            user,
        });
    }
    if control.policy_mode == crate::model::PolicyMode::Database {
        let old = policy.filter(|text| !text.trim().is_empty());
        if old.map(str::trim) != Some(control.policy.trim()) {
            actions.push(Action::SetPolicy {
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
    for expiry in decisions.expire {
        let reason = match expiry.reason {
            ExpiryReason::DeviceRemoved => "the device left the spec",
            ExpiryReason::Joined => "the device has joined",
            ExpiryReason::Replaced => "its user, tags or ephemerality changed",
            ExpiryReason::NoKeyNeeded => "the device joins without a key",
        };
        actions.push(Action::ExpireKey {
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
        actions.push(Action::CreateKey {
            host: host.clone(),
            device: name,
            user: device.user.clone(),
            tags: crate::plan::headscale::normalized_tags(&device.tags),
            ephemeral: device.ephemeral,
            reusable: device.reusable,
            expiry_days: control.key_expiry_days,
        });
    }
    for change in tag_changes(&control.devices, nodes, &observed.key_records) {
        match change {
            TagChange::Set { node, device, tags } => actions.push(Action::SetNodeTags {
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
        actions.push(Action::DeleteUser {
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

/// The compose services whose files are unchanged (the plan does not start,
/// restart or stop them) but whose containers are not what their
/// definition declares: each is re-created. A runtime that could not be
/// asked is a note. Nothing when the containers were not observed. Pure.
fn container_actions(
    desired: &Rendered,
    observed: &Observed,
    stops: &[Action],
    starts: &[Action],
) -> (Vec<Action>, Vec<String>) {
    use crate::observe::live::Containers;
    let mut actions = Vec::new();
    let mut notes = Vec::new();
    for unit in &desired.services {
        let (Some(definition), Some(containers)) =
            (&unit.definition, observed.containers.get(&unit.host))
        else {
            continue;
        };
        let acted = stops.iter().chain(starts).any(|a| {
            a.unit()
                .is_some_and(|u| u.host == unit.host && u.id == unit.id)
        });
        if acted {
            continue;
        }
        match containers {
            Containers::Unreadable(error) => notes.push(format!(
                "the containers of service {}:{} could not be read ({error}); the plan cannot tell whether they run",
                unit.host,
                unit.id.name()
            )),
            Containers::Listed(list) => {
                let services: Vec<&str> = definition.services.iter().map(String::as_str).collect();
                let drift = crate::plan::containers::label_drift(&services, &definition.sha256, list);
                if !drift.is_empty() {
                    actions.push(Action::RepairService {
                        unit: unit.clone(),
                        drift: drift.iter().map(ToString::to_string).collect(),
                    });
                }
            }
        }
    }
    (actions, notes)
}

/// The model actions and notes: pull each model of the spec that Ollama
/// lacks; with `--prune`, remove models privai pulled that the spec
/// dropped; note models whose digest moved away from `privai.lock`.
/// Nothing when Ollama was not observed (a staged install). Pure.
fn model_actions(
    desired: &Rendered,
    observed: &Observed,
    options: Options,
) -> (Vec<Action>, Vec<String>) {
    use crate::model::model_name::{canonical_digest, same_model};
    let mut actions = Vec::new();
    let mut notes = Vec::new();
    if !observed.ollama.observed() {
        return (actions, notes);
    }
    if let crate::observe::live::OllamaState::Unreachable { url, error } = &observed.ollama {
        notes.push(format!(
            "Ollama did not answer at {url} ({error}); the plan assumes it is starting and lists every model (apply pulls only those Ollama lacks by then)"
        ));
    }
    let local = observed.ollama.models();
    for model in &desired.models {
        let locked = observed.lock.digest(&model.name).map(str::to_owned);
        match local.iter().find(|m| same_model(&m.name, &model.name)) {
            None => {
                actions.push(Action::PullModel {
                    host: model.host.clone(),
                    name: model.name.clone(),
                    download_bytes: observed.model_downloads.get(&model.name).copied().or_else(
                        || {
                            crate::sizing::catalog::Catalog::bundled()
                                .find(&model.name)
                                .map(|m| m.download_bytes)
                        },
                    ),
                    locked_digest: locked,
                    source: model.source.clone(),
                })
            }
            Some(have) => {
                if let Some(locked) = locked
                    && canonical_digest(&have.digest) != locked
                {
                    notes.push(format!(
                        "model {} is {} here but privai.lock pins {locked}: the tag moved upstream since the lock was written; `privai lock --update` accepts what Ollama has",
                        model.name,
                        canonical_digest(&have.digest)
                    ));
                }
            }
        }
    }
    if options.prune {
        for pulled in &observed.pulled {
            let wanted = desired
                .models
                .iter()
                .any(|m| same_model(&m.name, &pulled.name));
            let present = local.iter().any(|m| same_model(&m.name, &pulled.name));
            if !wanted && present {
                actions.push(Action::RemoveModel {
                    host: pulled.host.clone(),
                    name: pulled.name.clone(),
                });
            }
        }
    }
    (actions, notes)
}

/// How the file privai recorded (`recorded`) differs from what is there now.
fn drift(recorded: Option<&Entry>, state: &FileState) -> Option<Drift> {
    let recorded = recorded?;
    match state {
        FileState::Absent => Some(Drift::Removed),
        FileState::Present { contents, mode } => {
            if sha256_hex(contents) != recorded.sha256 {
                Some(Drift::Edited {
                    recorded_sha256: recorded.sha256.clone(),
                })
            } else {
                let recorded_mode = u32::from_str_radix(&recorded.mode, 8).ok()?;
                (recorded_mode != *mode).then_some(Drift::ModeChanged { recorded_mode })
            }
        }
    }
}

fn text_change(old: &[u8], new: &[u8]) -> Option<TextChange> {
    match (std::str::from_utf8(old), std::str::from_utf8(new)) {
        (Ok(old), Ok(new)) => Some(TextChange {
            old: old.to_owned(),
            new: new.to_owned(),
        }),
        _ => None,
    }
}

/// The service actions, as (stops, starts and restarts), given the services
/// the spec runs (`desired`), those the last generation ran (`previous`)
/// and the file actions. Pure.
///
/// - A service of `previous` that `desired` lacks, or whose manager entry
///   (label, unit, plist, compose file) changed, stops.
/// - A service of `desired` that `previous` lacks (or that stopped above)
///   starts: the first apply starts everything.
/// - Any other service restarts when a file action changes the contents of
///   a file that names it among its restarts; when only files it reloads
///   changed, it reloads instead (a compose service cannot reload: it
///   restarts).
pub fn service_actions(
    desired: &[ServiceUnit],
    previous: &[ServiceUnit],
    files: &[Action],
) -> (Vec<Action>, Vec<Action>) {
    let same = |a: &ServiceUnit, b: &ServiceUnit| a.host == b.host && a.id == b.id;
    let mut stops: Vec<Action> = previous
        .iter()
        .filter(|old| {
            !desired
                .iter()
                .any(|new| same(old, new) && new.manager == old.manager)
        })
        .map(|unit| Action::StopService { unit: unit.clone() })
        .collect();
    stops.reverse();
    let mut starts = Vec::new();
    for unit in desired {
        let kept = previous
            .iter()
            .any(|old| same(old, unit) && old.manager == unit.manager);
        if !kept {
            starts.push(Action::StartService { unit: unit.clone() });
            continue;
        }
        let because: Vec<String> = files
            .iter()
            .filter(|a| a.restarts().contains(&unit.id))
            .filter_map(|a| a.target_path())
            .filter(|(host, _)| *host == unit.host)
            .map(|(_, path)| path.to_owned())
            .collect();
        if !because.is_empty() {
            starts.push(Action::RestartService {
                unit: unit.clone(),
                because,
            });
            continue;
        }
        let because: Vec<String> = files
            .iter()
            .filter(|a| a.reloads().contains(&unit.id))
            .filter_map(|a| a.target_path())
            .filter(|(host, _)| *host == unit.host)
            .map(|(_, path)| path.to_owned())
            .collect();
        if because.is_empty() {
            continue;
        }
        starts.push(if unit.can_reload() {
            Action::ReloadService {
                unit: unit.clone(),
                because,
            }
        } else {
            Action::RestartService {
                unit: unit.clone(),
                because,
            }
        });
    }
    (stops, starts)
}

pub mod addresses;
pub mod containers;
pub mod headscale;
pub mod policy_tests;
pub mod rotation;

#[cfg(test)]
pub(crate) mod tests;
