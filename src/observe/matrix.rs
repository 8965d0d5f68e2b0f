//! What the homeserver holds, as Synapse's admin API lists it: its local
//! accounts ([`Account`]), and whether the AI's token file signs in
//! ([`TokenState`]). [`crate::api::synapse::Client`] reads these through
//! privai's admin account; [`crate::plan::matrix`] decides from them.

use crate::render::homeserver::{ADMIN_USER, Accounts};
use crate::secret::Secret;
use crate::state::Install;

/// A local account of the homeserver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its Matrix ID (`@NAME:SERVER`).
    pub user_id: String,
    /// Whether it is a server admin.
    pub admin: bool,
    /// Whether it is deactivated.
    pub deactivated: bool,
}

/// Whether the AI's token file signs in as the AI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenState {
    /// Not asked (no token file of privai's, or Synapse not asked).
    #[default]
    Unknown,
    /// There is no token file.
    Missing,
    /// Synapse refuses the token in it, or it is another account's.
    Refused,
    /// It signs in as the AI.
    Valid,
}

/// What privai knows about the homeserver's accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MatrixState {
    /// Not asked: staged, or the spec runs no homeserver here.
    #[default]
    NotObserved,
    /// Asked, and no answer (not running yet, or down).
    Unreachable {
        /// Its local URL.
        url: String,
        /// Why.
        error: String,
    },
    /// Answering.
    Running {
        /// Its local accounts; `None` when privai has no admin token
        /// Synapse takes (none made yet, or refused).
        accounts: Option<Vec<Account>>,
        /// The AI's token file.
        ai_token: TokenState,
    },
}

impl MatrixState {
    /// Whether the homeserver was asked (answered or not).
    pub fn observed(&self) -> bool {
        !matches!(self, Self::NotObserved)
    }
}

/// Asks the homeserver of `accounts` for its accounts with privai's admin
/// token, and whether the AI's token file signs in. A homeserver that does
/// not answer is a state (it may be about to start); privai's records that
/// cannot be read are an error.
pub fn observe(accounts: &Accounts, install: &Install) -> anyhow::Result<MatrixState> {
    use crate::api::synapse::{Client, Error};
    let client = match Client::new(&accounts.local_url) {
        Ok(client) => client,
        Err(e) => {
            return Ok(MatrixState::Unreachable {
                url: accounts.local_url.clone(),
                error: e.to_string(),
            });
        }
    };
    if let Err(e) = client.versions() {
        return Ok(MatrixState::Unreachable {
            url: accounts.local_url.clone(),
            error: e.to_string(),
        });
    }
    let records = crate::state::matrix::read(&install.state_dir())?;
    let listed = match records.token(ADMIN_USER) {
        Some(token) => match client.users(&token) {
            Ok(listed) => Some(listed),
            Err(Error::UnknownToken { .. } | Error::NotAdmin { .. }) => None,
            Err(e) => {
                return Ok(MatrixState::Unreachable {
                    url: accounts.local_url.clone(),
                    error: e.to_string(),
                });
            }
        },
        None => None,
    };
    let ai_token = match &accounts.ai_token_file {
        None => TokenState::Unknown,
        Some(path) => {
            let file = install.path(&accounts.host, path)?;
            match std::fs::read_to_string(&file) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => TokenState::Missing,
                Err(e) => anyhow::bail!("reading the AI's Matrix token `{}`: {e}", file.display()),
                Ok(token) => {
                    let ai = accounts.user_id(&accounts.ai_user);
                    match client.whoami(&Secret::new(token.trim())) {
                        Ok(id) if id == ai => TokenState::Valid,
                        Ok(_) | Err(Error::UnknownToken { .. }) => TokenState::Refused,
                        Err(e) => {
                            return Ok(MatrixState::Unreachable {
                                url: accounts.local_url.clone(),
                                error: e.to_string(),
                            });
                        }
                    }
                }
            }
        }
    };
    Ok(MatrixState::Running {
        accounts: listed,
        ai_token,
    })
}
