//! Carrying out the Matrix domain through an [`AccountDirectory`]: accounts
//! registered with the homeserver's shared secret, adopted, deactivated;
//! the AI's token written for the gateway. Not undone by a rollback (an
//! account holds its user's messages): the journal records each step so
//! that a failed run reports it as kept.
//!
//! A password is recorded (0600, `matrix.json` of the state directory)
//! before its account is registered: a run killed in between leaves an
//! account that the next run's registration finds taken and adopts by
//! signing in with that password.

use crate::api::synapse::{Error, Session};
use crate::plan::MatrixAction;
use crate::plan::matrix::{AccountKind, AccountStatus};
use crate::render::homeserver::{ADMIN_USER, Accounts};
use crate::secret::Secret;
use crate::state::journal::{Journal, Record};
use crate::state::{Install, StateDir, atomic};

/// What the Matrix domain needs from the homeserver.
pub trait AccountDirectory {
    /// Registers `user` with `password` through the shared-secret
    /// registration API of the homeserver of `accounts`.
    fn register(
        &mut self,
        accounts: &Accounts,
        user: &str,
        password: &Secret,
        admin: bool,
    ) -> Result<Session, Error>;
    /// Signs `user` in with `password`: a new access token.
    fn login(
        &mut self,
        accounts: &Accounts,
        user: &str,
        password: &Secret,
    ) -> Result<Session, Error>;
    /// Deactivates `user_id` with privai's admin token `admin`.
    fn deactivate(
        &mut self,
        accounts: &Accounts,
        admin: &Secret,
        user_id: &str,
    ) -> Result<(), Error>;
}

/// Runs one Matrix action: journals it, then registers, signs in or
/// deactivates, keeping privai's records (0600) and the AI's token file.
#[allow(clippy::too_many_arguments)]
pub(super) fn matrix_step(
    install: &Install,
    state: &StateDir,
    step: usize,
    action: &MatrixAction,
    accounts: Option<&Accounts>,
    directory: &mut dyn AccountDirectory,
    journal: &mut Journal,
    records: &mut Vec<Record>,
) -> Result<(), String> {
    let address = action.address();
    let accounts = accounts.ok_or_else(|| format!("{address}: the spec runs no homeserver"))?;
    let record = Record::Matrix {
        step,
        action: format!("{} {address}", action.change().name()),
    };
    journal.append(&record).map_err(|e| e.to_string())?;
    records.push(record);
    run(install, state.dir(), action, accounts, directory).map_err(|e| format!("{address}: {e}"))
}

/// [`matrix_step`] once journaled.
fn run(
    install: &Install,
    state: &std::path::Path,
    action: &MatrixAction,
    accounts: &Accounts,
    directory: &mut dyn AccountDirectory,
) -> Result<(), String> {
    use crate::state::matrix::{self, Account};
    let io = |e: std::io::Error| format!("keeping privai's Matrix records: {e}");
    let mut file = matrix::read(state).map_err(io)?;
    match action {
        MatrixAction::CreateAccount { user, kind, .. } => {
            // The password is on record before Synapse hears of it.
            let (password, made_here) = match file.password(user) {
                Some(password) => (password, false),
                None => {
                    let password = super::files::generate_token()
                        .map_err(|e| e.to_string())
                        .map(|b| Secret::new(String::from_utf8_lossy(&b)))?;
                    file.accounts.insert(
                        user.clone(),
                        Account {
                            kind: *kind,
                            status: AccountStatus::Pending,
                            password: password.expose().to_owned(),
                            token: None,
                        },
                    );
                    matrix::write(state, &file).map_err(io)?;
                    (password, true)
                }
            };
            let admin = *kind == AccountKind::Admin;
            let session = match directory.register(accounts, user, &password, admin) {
                Ok(session) => session,
                Err(Error::UserInUse { .. }) => match directory.login(accounts, user, &password) {
                    Ok(session) => session,
                    Err(e) => {
                        if made_here {
                            file.accounts.remove(user);
                            matrix::write(state, &file).map_err(io)?;
                        }
                        return Err(format!(
                            "the account exists and privai did not make it ({e}); privai does not take over an account it cannot sign in to: remove it from the homeserver, or give the user another name in the spec"
                        ));
                    }
                },
                Err(e) => return Err(e.to_string()),
            };
            let entry = file.accounts.get_mut(user).expect("recorded above");
            entry.status = AccountStatus::Active;
            entry.kind = *kind;
            if *kind != AccountKind::User {
                entry.token = Some(session.access_token.expose().to_owned());
            }
            matrix::write(state, &file).map_err(io)?;
            if *kind == AccountKind::Ai
                && let Some(path) = &accounts.ai_token_file
            {
                write_token(install, accounts, path, &session.access_token)?;
            }
            Ok(())
        }
        MatrixAction::SetAiToken { path, .. } => {
            let user = &accounts.ai_user;
            let password = file.password(user).ok_or_else(|| {
                format!("privai has no password of the AI's account `{user}` on record; it cannot sign it in. Give the gateway a token in `openclaw.channels.matrix.token`")
            })?;
            let session = directory
                .login(accounts, user, &password)
                .map_err(|e| e.to_string())?;
            if let Some(entry) = file.accounts.get_mut(user) {
                entry.token = Some(session.access_token.expose().to_owned());
            }
            matrix::write(state, &file).map_err(io)?;
            write_token(install, accounts, path, &session.access_token)
        }
        MatrixAction::DeactivateAccount { user, user_id, .. } => {
            let admin = file.token(ADMIN_USER).ok_or_else(|| {
                "privai has no admin token of the homeserver on record; run `privai apply` with the homeserver running, which makes privai's admin account first".to_owned()
            })?;
            match directory.deactivate(accounts, &admin, user_id) {
                Ok(()) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e.to_string()),
            }
            if let Some(entry) = file.accounts.get_mut(user) {
                entry.status = AccountStatus::Deactivated;
                entry.password.clear();
                entry.token = None;
            }
            matrix::write(state, &file).map_err(io)
        }
    }
}

/// Writes the AI's token (0600) where the gateway's Matrix channel reads it,
/// owned by the gateway container's user (`uid:gid`): the secret mount
/// keeps the host file's owner, and the container's user reads only its
/// own files.
fn write_token(
    install: &Install,
    accounts: &Accounts,
    path: &str,
    token: &Secret,
) -> Result<(), String> {
    let file = install
        .path(&accounts.host, path)
        .map_err(|e| e.to_string())?;
    atomic::write(&file, token.expose().as_bytes(), 0o600)
        .map_err(|e| format!("writing the AI's Matrix token: {e}"))?;
    if let Some(owner) = accounts.ai_token_owner.as_deref() {
        super::files::give_to_container_user(&file, owner).map_err(|e| format!("{e:#}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
