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
//!    health-checked before the next starts; Headscale's users and keys
//!    once it is up, models once Ollama is, Matrix accounts once the
//!    homeserver is (before the gateway, which signs in with the AI's).

use crate::observe::Observed;
use crate::render::units::ServiceUnit;
use crate::render::{Rendered, ServiceId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub use containers::container_actions;
pub use files::{Drift, FileAction, ManagedFile, TextChange};
pub use headscale::HeadscaleAction;
pub use matrix::MatrixAction;
pub use models::ModelAction;
pub use secrets::SecretAction;
pub use services::{ServiceAction, service_actions};

/// One step of a plan, by the domain it acts on. Each domain's actions
/// live in its own module, with the pure decisions that make them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "domain", rename_all = "snake_case")]
pub enum Action {
    /// A file privai installs ([`files`]).
    File(FileAction),
    /// A secret file ([`secrets`]).
    Secret(SecretAction),
    /// A service ([`services`]).
    Service(ServiceAction),
    /// A model in Ollama ([`models`]).
    Model(ModelAction),
    /// Headscale's users, keys, nodes and policy ([`headscale`]).
    Headscale(HeadscaleAction),
    /// Matrix accounts on the spec's homeserver ([`matrix`]).
    Matrix(MatrixAction),
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
            Self::File(a) => a.change(),
            Self::Secret(a) => a.change(),
            Self::Service(a) => a.change(),
            Self::Model(a) => a.change(),
            Self::Headscale(a) => a.change(),
            Self::Matrix(a) => a.change(),
        }
    }

    /// A one-line address: `file HOST:PATH`, `service HOST:NAME`,
    /// `model HOST:NAME`, `secret HOST:PATH`, `headscale user HOST:NAME`,
    /// `pre-auth key HOST:DEVICE`, `node tags HOST:DEVICE`, `acl policy HOST`,
    /// `matrix account HOST:@NAME:SERVER`, `matrix token HOST:@AI:SERVER`.
    pub fn address(&self) -> String {
        match self {
            Self::File(a) => a.address(),
            Self::Secret(a) => a.address(),
            Self::Service(a) => a.address(),
            Self::Model(a) => a.address(),
            Self::Headscale(a) => a.address(),
            Self::Matrix(a) => a.address(),
        }
    }

    /// The file acted on, for a file action.
    pub fn file(&self) -> Option<&ManagedFile> {
        match self {
            Self::File(a) => Some(a.file()),
            _ => None,
        }
    }

    /// The service acted on, for a service action.
    pub fn unit(&self) -> Option<&ServiceUnit> {
        match self {
            Self::Service(a) => Some(a.unit()),
            _ => None,
        }
    }

    /// What it changes outside privai's knowledge, for a file privai
    /// installed that something else changed since.
    pub fn drift(&self) -> Option<&Drift> {
        match self {
            Self::File(a) => a.drift(),
            _ => None,
        }
    }

    /// Services this action makes restart: those of the file (or secret)
    /// when its contents change; none for a change of mode only, or a
    /// service action.
    pub fn restarts(&self) -> &[ServiceId] {
        match self {
            Self::Secret(a) => &a.secret().restarts,
            Self::File(a) if a.changes_contents() => &a.file().restarts,
            _ => &[],
        }
    }

    /// Services that re-read this file action's file on a reload, when its
    /// contents change.
    pub fn reloads(&self) -> &[ServiceId] {
        match self {
            Self::File(a) if a.changes_contents() => &a.file().reloads,
            _ => &[],
        }
    }

    /// The host and install path of the file or secret it writes or removes.
    pub fn target_path(&self) -> Option<(&str, &str)> {
        match self {
            Self::Secret(a) => Some((&a.secret().host, &a.secret().path)),
            _ => self.file().map(|f| (f.host.as_str(), f.path.as_str())),
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
                    Action::Service(ServiceAction::Start { .. })
                        | Action::Service(ServiceAction::Restart { .. })
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
            .filter(|a| matches!(a, Action::File(FileAction::Adopt { .. })))
    }
}

/// Plans the actions that turn `observed` into `desired`, domain by
/// domain ([`files`], [`secrets`], [`services`], [`containers`],
/// [`models`], [`headscale`], [`matrix`]), in the order of the module docs. Pure.
pub fn plan(desired: &Rendered, observed: &Observed) -> Plan {
    plan_with(desired, observed, Options::default())
}

/// [`plan`] with `options`. Pure.
pub fn plan_with(desired: &Rendered, observed: &Observed, options: Options) -> Plan {
    let (writes, deletions) = files::file_actions(desired, observed);
    let (secrets, mut notes) = secrets::secret_actions(desired, observed);
    let files: Vec<Action> = writes
        .into_iter()
        .map(Action::File)
        .chain(secrets.into_iter().map(Action::Secret))
        .chain(deletions.into_iter().map(Action::File))
        .collect();
    let (stops, mut starts) =
        service_actions(&desired.services, &observed.previous_services, &files);
    let (repairs, container_notes) = container_actions(desired, observed, &stops, &starts);
    notes.extend(container_notes);
    for repair in repairs {
        let id = repair.unit().id;
        let at = starts
            .iter()
            .position(|a| a.unit().id > id)
            .unwrap_or(starts.len());
        starts.insert(at, repair);
    }
    let mut starts: Vec<Action> = starts.into_iter().map(Action::Service).collect();
    let (models, model_notes) = models::model_actions(desired, observed, options);
    notes.extend(model_notes);
    let (control, control_notes) = headscale::control_actions(desired, observed, options);
    notes.extend(control_notes);
    // Users, policy and keys once Headscale is up (it starts first). When
    // Headscale only reloads its policy file, it is running: its users are
    // created first, so that the new policy finds them.
    match starts.iter().position(|a| {
        matches!(a, Action::Service(ServiceAction::Reload { unit, .. }) if unit.id == ServiceId::Headscale)
    }) {
        Some(reload) => {
            let (users, rest): (Vec<_>, Vec<_>) = control
                .into_iter()
                .partition(|a| matches!(a, HeadscaleAction::CreateUser { .. }));
            starts.splice(reload + 1..reload + 1, rest.into_iter().map(Action::Headscale));
            starts.splice(reload..reload, users.into_iter().map(Action::Headscale));
        }
        None => {
            let at = starts
                .iter()
                .position(|a| a.unit().is_some_and(|u| u.id > ServiceId::Headscale))
                .unwrap_or(starts.len());
            starts.splice(at..at, control.into_iter().map(Action::Headscale));
        }
    }
    // Models are pulled once Ollama is up, before the gateway starts.
    let at = starts
        .iter()
        .position(|a| a.unit().is_some_and(|u| u.id > ServiceId::Ollama))
        .unwrap_or(starts.len());
    starts.splice(at..at, models.into_iter().map(Action::Model));
    // Matrix accounts once the homeserver is up, before the gateway starts
    // (its Matrix channel signs in with the AI's token).
    let (accounts, matrix_notes) = matrix::matrix_actions(desired, observed);
    notes.extend(matrix_notes);
    let at = starts
        .iter()
        .position(|a| a.unit().is_some_and(|u| u.id > ServiceId::Homeserver))
        .unwrap_or(starts.len());
    starts.splice(at..at, accounts.into_iter().map(Action::Matrix));
    let mut actions: Vec<Action> = stops.into_iter().map(Action::Service).collect();
    actions.extend(files);
    actions.extend(starts);
    Plan { actions, notes }
}

pub mod addresses;
pub mod containers;
pub mod files;
pub mod headscale;
pub mod matrix;
pub mod models;
pub mod policy_tests;
pub mod rotation;
pub mod secrets;
pub mod services;

#[cfg(test)]
pub(crate) mod tests;
