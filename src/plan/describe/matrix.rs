//! Descriptions of the Matrix domain: accounts and the AI's token, never
//! a password or a token.

use super::{Description, MatrixState, Object, Reason, State};
use crate::plan::MatrixAction;

/// An account registered or deactivated, or the AI's token written.
pub(super) fn account(action: &MatrixAction) -> Description {
    let (host, user_id, reason, after) = match action {
        MatrixAction::CreateAccount {
            host,
            user_id,
            kind,
            ..
        } => (
            host,
            user_id,
            Reason::AccountAbsent,
            MatrixState::Account { kind: *kind },
        ),
        MatrixAction::SetAiToken {
            host,
            user_id,
            path,
        } => (
            host,
            user_id,
            Reason::TokenAbsentOrRefused,
            MatrixState::Token { path: path.clone() },
        ),
        MatrixAction::DeactivateAccount { host, user_id, .. } => (
            host,
            user_id,
            Reason::UserNotInSpec,
            MatrixState::Deactivated { deactivated: true },
        ),
    };
    let mut description = Description::new(
        action.address(),
        action.change(),
        Object::Matrix,
        host,
        user_id,
        reason,
    );
    description.after = Some(State::Matrix(after));
    description.summary = Some(action.detail());
    description
}
