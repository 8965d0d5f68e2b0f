//! One description of each change of a plan, from which both views are
//! rendered: the human plan ([`crate::output::plan_view`]) and `plan
//! --json` ([`crate::output::plan_json`]). Pure.
//!
//! A [`Description`] says, once, what an action changes (its address, the
//! kind of object and the kind of change), why ([`Reason`]), the object's
//! state before and after ([`State`]), whether that state is sensitive,
//! and the lines a person reads under it ([`Detail`]: a diff, a mode
//! change, a health check …). The views only lay descriptions out; neither
//! looks at an [`Action`].
//!
//! A secret's description never holds its value or text, only digests:
//! a secret file's states have no `text` and no diff, whatever the plan
//! carries.
//!
//! # Adding a domain
//!
//! Write `describe/<domain>.rs` with a function from the domain's action
//! to a [`Description`] (new states go in [`state`], new reasons in
//! [`Reason`]), and add its arm to [`describe_action`]. Both views print
//! it without a change.

use super::{Action, Change, Drift, Plan};
use crate::render::ServiceId;
use serde::Serialize;

mod files;
mod headscale;
mod matrix;
mod models;
mod services;
pub mod state;

pub use state::{
    FileState, HeadscaleState, HealthState, MatrixState, ModelState, SecretState, ServiceState,
    State,
};

/// Lines of context around each change in a diff.
pub const CONTEXT: usize = 3;

/// Hex digits of a sha256 shown for a file whose contents are not.
pub const SHORT_HASH: usize = 8;

/// The mode `apply` gives a secret file it writes.
pub const SECRET_MODE: u32 = 0o600;

/// Facts about the run that change what a plan says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    /// The plan is against a staging tree (`--root`): services are not
    /// started, restarted or stopped.
    pub staged: bool,
}

/// What kind of object a change acts on (`type` in `plan --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Object {
    /// A file privai installs.
    File,
    /// A secret file privai writes.
    Secret,
    /// A service.
    Service,
    /// A model in Ollama.
    Model,
    /// Headscale's users, keys, nodes or policy.
    Headscale,
    /// A Matrix account on the homeserver.
    Matrix,
}

/// Why a change is planned (`action_reason` in `plan --json`), or, for
/// drift, what happened to a file outside privai.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The file does not exist.
    FileAbsent,
    /// The file exists, privai did not write it, and it differs.
    NotWrittenByPrivai,
    /// Its bytes differ from the spec's.
    ContentsDiffer,
    /// Only its mode differs.
    ModeDiffers,
    /// The spec no longer renders it.
    NoLongerInSpec,
    /// The secret file does not exist.
    SecretAbsent,
    /// The secret file differs from its source.
    SecretDiffers,
    /// The service's manager entry changed: it stops, then starts.
    ManagerChanged,
    /// The spec no longer runs the service.
    ServiceRemoved,
    /// privai has not started the service before.
    NewService,
    /// Its containers are not what its definition declares.
    ContainerDrift,
    /// Files it reads changed.
    FilesChanged,
    /// Ollama lacks the model.
    ModelAbsent,
    /// privai pulled the model and the spec dropped it.
    PulledByPrivaiAndNoLongerInSpec,
    /// Headscale's users, keys or nodes differ from the spec.
    HeadscaleDiffers,
    /// A user the spec dropped that owns no nodes.
    NotInSpecAndOwnsNoNodes,
    /// Headscale's policy differs from the spec's.
    PolicyDiffers,
    /// Headscale holds no policy (or did not say).
    PolicyAbsent,
    /// The homeserver has no such account.
    AccountAbsent,
    /// The AI has no token on record, or the homeserver refused it.
    TokenAbsentOrRefused,
    /// Its user left the spec.
    UserNotInSpec,
    /// Drift: the file was edited outside privai.
    Edited,
    /// Drift: its mode was changed outside privai.
    ModeChanged,
    /// Drift: it was removed outside privai.
    Removed,
}

/// A line a person reads under a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// `LABEL: VALUE`.
    Field {
        /// What it says (`mode`, `contents`, `health` …).
        label: &'static str,
        /// The value, in words.
        value: String,
    },
    /// A unified diff of the installed and the planned text, one line each.
    Diff(String),
    /// A remark of its own (`(staged under --root: not started)`).
    Remark(String),
}

/// One change, described once for every view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// `file HOST:PATH`, `service HOST:NAME` … ([`Action::address`]).
    pub address: String,
    /// The kind of change (its symbol, its name).
    pub change: Change,
    /// The kind of object.
    pub object: Object,
    /// The host it is on.
    pub host: String,
    /// Its name on that host (a path, a service, a model, a user, a device).
    pub name: String,
    /// Why.
    pub reason: Reason,
    /// Its state now; `None` when it does not exist.
    pub before: Option<State>,
    /// Its state after the change; `None` when it will not exist.
    pub after: Option<State>,
    /// Whether its states are secret: then they carry digests only.
    pub sensitive: bool,
    /// A few words after the address (`mode 0644, owner root`).
    pub summary: Option<String>,
    /// Install paths of the changed files that make a service restart or
    /// reload.
    pub because: Option<Vec<String>>,
    /// What is wrong with a service's containers, one item each.
    pub container_drift: Option<Vec<String>>,
    /// The name of the secret a secret file holds.
    pub secret_name: Option<String>,
    /// The lines under it, in order.
    pub details: Vec<Detail>,
}

impl Description {
    /// A description of `object` `host:name` with nothing before, after or
    /// under it yet.
    pub fn new(
        address: String,
        change: Change,
        object: Object,
        host: &str,
        name: &str,
        reason: Reason,
    ) -> Self {
        Self {
            address,
            change,
            object,
            host: host.to_owned(),
            name: name.to_owned(),
            reason,
            before: None,
            after: None,
            sensitive: false,
            summary: None,
            because: None,
            container_drift: None,
            secret_name: None,
            details: Vec::new(),
        }
    }

    /// Whether the state before is secret.
    pub fn before_sensitive(&self) -> bool {
        self.sensitive && self.before.is_some()
    }

    /// Whether the state after is secret.
    pub fn after_sensitive(&self) -> bool {
        self.sensitive && self.after.is_some()
    }

    /// `HOST:NAME`.
    pub fn location(&self) -> String {
        format!("{}:{}", self.host, self.name)
    }

    /// The diff under it, if any.
    pub fn diff(&self) -> Option<&str> {
        self.details.iter().find_map(|d| match d {
            Detail::Diff(text) => Some(text.as_str()),
            _ => None,
        })
    }

    fn field(&mut self, label: &'static str, value: String) {
        self.details.push(Detail::Field { label, value });
    }
}

/// A plan, described: one description per action, in plan order, and one
/// per file changed outside privai.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanDescription {
    /// The changes, in plan order.
    pub changes: Vec<Description>,
    /// The files something else changed since privai wrote them: `before`
    /// as privai recorded it, `after` as it is now, `summary` what happened
    /// in words (`edited, sha256 … (written by privai) -> … (now)`).
    pub drift: Vec<Description>,
}

/// Describes every action of `plan`, and its drift.
pub fn describe(plan: &Plan, context: &Context) -> PlanDescription {
    PlanDescription {
        changes: plan
            .actions
            .iter()
            .map(|a| describe_action(plan, a, context))
            .collect(),
        drift: plan.drifted().filter_map(describe_drift).collect(),
    }
}

/// Describes `action`, one of `plan`'s (some descriptions depend on the
/// others: a service that both stops and starts, a policy shown above).
pub fn describe_action(plan: &Plan, action: &Action, context: &Context) -> Description {
    let mut description = match action {
        Action::File(a) => files::file(a),
        Action::Secret(a) => files::secret(a),
        Action::Service(a) => services::service(plan, a, context),
        Action::Model(a) => models::model(a),
        Action::Headscale(a) => headscale::control(plan, a),
        Action::Matrix(a) => matrix::account(a),
    };
    restarts(&mut description, "restarts", action.restarts());
    restarts(&mut description, "reloads", action.reloads());
    description
}

fn restarts(description: &mut Description, label: &'static str, services: &[ServiceId]) {
    if !services.is_empty() {
        let names: Vec<&str> = services.iter().map(|s| s.name()).collect();
        description.field(label, names.join(", "));
    }
}

/// Describes what happened to `action`'s file outside privai, if anything.
pub fn describe_drift(action: &Action) -> Option<Description> {
    Some(files::drift(action.file()?, action.drift()?, action))
}

/// A unified diff of `old` (installed) and `new` (planned) text of the
/// thing `address` names.
pub fn text_diff(address: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(CONTEXT)
        .header(
            &format!("{address} (installed)"),
            &format!("{address} (planned)"),
        )
        .to_string()
}

/// The first [`SHORT_HASH`] hex digits of a sha256.
pub fn short(sha256: &str) -> &str {
    sha256.get(..SHORT_HASH).unwrap_or(sha256)
}

/// `0644`.
fn octal(mode: u32) -> String {
    format!("{mode:04o}")
}

/// How a file changed outside privai, in words.
fn drift_words(drift: &Drift, now: Option<(&str, u32)>) -> String {
    match drift {
        Drift::Edited { recorded_sha256 } => format!(
            "edited, sha256 {} (written by privai) -> {} (now)",
            short(recorded_sha256),
            now.map_or("?", |(sha256, _)| short(sha256))
        ),
        Drift::ModeChanged { recorded_mode } => format!(
            "mode {} (set by privai) -> {} (now)",
            octal(*recorded_mode),
            now.map_or_else(|| "?".to_owned(), |(_, mode)| octal(mode))
        ),
        Drift::Removed => "removed".to_owned(),
    }
}

#[cfg(test)]
pub(crate) mod tests;
