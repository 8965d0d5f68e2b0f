//! The Matrix domain: the accounts privai keeps on the spec's homeserver
//! (issue 18) — one per spec user, one for the AI (whose access token the
//! gateway's Matrix channel signs in with), and `privai-admin`, privai's
//! own admin account, through which it lists and deactivates accounts.
//!
//! Decisions are pure, from what the spec renders
//! ([`crate::render::homeserver::Accounts`]), what Synapse lists
//! ([`crate::observe::matrix::MatrixState`]) and what privai recorded as
//! its own ([`Records`], `matrix.json` of the state directory):
//!
//! - an account the spec wants that Synapse does not have is created; one
//!   privai recorded but may not have finished (killed between recording
//!   the password and registering) is created again, which adopts it when
//!   it exists with the recorded password;
//! - when Synapse does not answer yet (first apply: it starts in this run),
//!   every account privai has no record of is created once it has started;
//!   when it is not asked (a staged install), nothing is planned;
//! - a user account privai made whose user left the spec is deactivated,
//!   never one privai did not make;
//! - the AI's token file is written again when it is missing or Synapse no
//!   longer knows the token in it.
//!
//! Accounts are not undone by a rollback (like Headscale's users): a
//! rollback leaves them, and the next apply of the older spec deactivates
//! users it no longer names.

use super::Change;
use crate::observe::matrix::MatrixState;
use crate::observe::matrix::TokenState;
use crate::render::Rendered;
use crate::render::homeserver::{ADMIN_USER, Accounts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whose account it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// privai's own admin account.
    Admin,
    /// The AI's account, which the gateway signs in with.
    Ai,
    /// A spec user's.
    User,
}

impl AccountKind {
    /// How the plan names it.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Admin => "privai's admin account",
            Self::Ai => "the AI's account",
            Self::User => "a user's account",
        }
    }
}

/// Where an account privai made stands, as privai recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Its password is recorded; registering it may not have finished.
    Pending,
    /// Registered (or adopted with the recorded password).
    Active,
    /// Deactivated by privai.
    Deactivated,
}

/// An account privai recorded as its own (no secret: passwords and tokens
/// stay in the state directory's `matrix.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// Whose.
    pub kind: AccountKind,
    /// Where it stands.
    pub status: AccountStatus,
}

/// The accounts privai recorded, by local part.
pub type Records = BTreeMap<String, Recorded>;

/// One step of the Matrix domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum MatrixAction {
    /// Registers an account with the shared secret and a password privai
    /// makes (recorded 0600 before it registers), or adopts the account
    /// when it exists with the recorded password.
    CreateAccount {
        /// The homeserver's host.
        host: String,
        /// Its local part.
        user: String,
        /// Its Matrix ID.
        user_id: String,
        /// Whose.
        kind: AccountKind,
    },
    /// Signs the AI in with its recorded password and writes the new
    /// token to the gateway's Matrix channel's secret file.
    SetAiToken {
        /// The homeserver's host.
        host: String,
        /// The AI's Matrix ID.
        user_id: String,
        /// The secret file.
        path: String,
    },
    /// Deactivates an account privai made whose user left the spec.
    DeactivateAccount {
        /// The homeserver's host.
        host: String,
        /// Its local part.
        user: String,
        /// Its Matrix ID.
        user_id: String,
    },
}

impl MatrixAction {
    /// The kind of change.
    pub fn change(&self) -> Change {
        match self {
            Self::CreateAccount { .. } => Change::Create,
            Self::SetAiToken { .. } => Change::Update,
            Self::DeactivateAccount { .. } => Change::Delete,
        }
    }

    /// `matrix account HOST:@NAME:SERVER`, `matrix token HOST:@AI:SERVER`.
    pub fn address(&self) -> String {
        match self {
            Self::CreateAccount { host, user_id, .. }
            | Self::DeactivateAccount { host, user_id, .. } => {
                format!("matrix account {host}:{user_id}")
            }
            Self::SetAiToken { host, user_id, .. } => format!("matrix token {host}:{user_id}"),
        }
    }

    /// What it does, in a few words, for the plan.
    pub fn detail(&self) -> String {
        match self {
            Self::CreateAccount { kind, .. } => format!(
                "{}, password kept 0600 by privai; not undone by a rollback",
                kind.noun()
            ),
            Self::SetAiToken { path, .. } => {
                format!("a new access token of the AI for the gateway, in {path}")
            }
            Self::DeactivateAccount { .. } => {
                "its user left the spec: deactivated, it can no longer sign in".to_owned()
            }
        }
    }
}

/// The accounts the spec wants, privai's admin first, then the AI, then
/// the users in the spec's order.
fn wanted(accounts: &Accounts) -> Vec<(&str, AccountKind)> {
    let mut out = vec![
        (ADMIN_USER, AccountKind::Admin),
        (accounts.ai_user.as_str(), AccountKind::Ai),
    ];
    out.extend(
        accounts
            .users
            .iter()
            .map(|u| (u.as_str(), AccountKind::User)),
    );
    out
}

/// The Matrix actions that give the homeserver of `desired` the accounts
/// it wants, and notes. Pure.
pub fn matrix_actions(
    desired: &Rendered,
    observed: &crate::observe::Observed,
) -> (Vec<MatrixAction>, Vec<String>) {
    // Nothing without a homeserver, or when it was not asked (a staged
    // install, like Headscale's and Ollama's domains).
    let (Some(accounts), true) = (&desired.matrix, observed.matrix.observed()) else {
        return (Vec::new(), Vec::new());
    };
    let records = &observed.matrix_records;
    let (running, listed, ai_token) = match &observed.matrix {
        MatrixState::Running { accounts, ai_token } => (true, accounts.as_deref(), *ai_token),
        _ => (false, None, TokenState::Unknown),
    };
    let host = accounts.host.clone();
    let mut actions = Vec::new();
    let mut notes = Vec::new();
    let mut creates_ai = false;
    for (user, kind) in wanted(accounts) {
        let user_id = accounts.user_id(user);
        let record = records.get(user);
        let create = match (listed, record) {
            (Some(listed), _) => match listed.iter().find(|a| a.user_id == user_id) {
                None => true,
                Some(a) if a.deactivated => {
                    notes.push(format!(
                        "The Matrix account {user_id} is deactivated; Synapse does not give a deactivated ID back to a new account. Name the user differently in the spec to give them an account."
                    ));
                    false
                }
                Some(_) => match record.map(|r| r.status) {
                    Some(AccountStatus::Active) => false,
                    Some(AccountStatus::Pending) => true,
                    _ => {
                        notes.push(format!(
                            "The Matrix account {user_id} exists and privai did not make it: privai leaves it to its owner{}.",
                            if kind == AccountKind::Ai {
                                " (the gateway then needs its token in `openclaw.channels.matrix.token`)"
                            } else {
                                ""
                            }
                        ));
                        false
                    }
                },
            },
            // Synapse answers but privai cannot list: its admin account
            // is (re)made, the others stand as recorded.
            (None, Some(r)) if r.status == AccountStatus::Active => {
                running && kind == AccountKind::Admin
            }
            (None, _) => true,
        };
        if create {
            creates_ai |= kind == AccountKind::Ai;
            actions.push(MatrixAction::CreateAccount {
                host: host.clone(),
                user: user.to_owned(),
                user_id,
                kind,
            });
        }
    }
    if let Some(path) = &accounts.ai_token_file
        && !creates_ai
        && running
        && matches!(ai_token, TokenState::Missing | TokenState::Refused)
    {
        actions.push(MatrixAction::SetAiToken {
            host: host.clone(),
            user_id: accounts.user_id(&accounts.ai_user),
            path: path.clone(),
        });
    }
    for (user, record) in records {
        let wanted = accounts.users.contains(user)
            || (record.kind == AccountKind::Ai && *user == accounts.ai_user)
            || record.kind == AccountKind::Admin;
        if wanted || record.status == AccountStatus::Deactivated {
            continue;
        }
        let user_id = accounts.user_id(user);
        let active = match listed {
            Some(listed) => listed
                .iter()
                .any(|a| a.user_id == user_id && !a.deactivated),
            None => true,
        };
        if active {
            actions.push(MatrixAction::DeactivateAccount {
                host: host.clone(),
                user: user.clone(),
                user_id,
            });
        }
    }
    if !running && !actions.is_empty() {
        notes.push(format!(
            "Synapse on {host} does not answer yet: its Matrix accounts are made once it has started in this run."
        ));
    }
    (actions, notes)
}

#[cfg(test)]
mod tests;
