//! The Matrix sink: each alert as a direct message from the AI's account
//! to the alerts' owners ([`crate::model::Alerts::matrix_owners`]) on the
//! spec's own homeserver, when the monitor runs on the homeserver's host
//! (it speaks to Synapse on loopback only, [`crate::api::synapse`]).
//!
//! It signs in with the AI's access token privai recorded (`matrix.json`
//! of the state directory, 0600); when Synapse no longer knows it, with the
//! recorded password, and records the new token. One direct room per
//! owner, made on the first alert (`is_direct`, the owner invited, marked
//! in the AI's `m.direct`) and remembered in the monitor's state
//! ([`super::State::rooms`]); an owner who left it is invited again. The
//! message is the alert's text and fix, as in the alert log: never a
//! secret. A failure is returned to [`super::pass`], which reports the
//! alert as not delivered; the alert log has it all the same.

use super::alert::AlertSink;
use super::rules::Alert;
use crate::api::synapse::{Client, Error};
use crate::render::homeserver::Accounts;
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The name of the direct room the AI makes with an owner.
pub const ROOM_NAME: &str = "privai alerts";

/// Direct messages from the AI's account.
pub struct MatrixDm {
    /// The homeserver's accounts, as the spec renders them.
    pub accounts: Accounts,
    /// Local parts of the owners.
    pub owners: Vec<String>,
    /// privai's state directory (the AI's recorded credentials).
    pub state: PathBuf,
    /// The spec's name for the host the alerts are about (`None` under
    /// `--root`, which reads every host's logs).
    pub host: Option<String>,
    /// Owner's Matrix ID → the direct room, kept in the monitor's state.
    pub rooms: BTreeMap<String, String>,
    token: Option<Secret>,
    sent: u64,
}

/// The text of the message for `alert` raised on `host`.
pub fn text(host: Option<&str>, alert: &Alert) -> String {
    let on = host.map(|h| format!(" on {h}")).unwrap_or_default();
    format!(
        "privai alert{on} ({}): {}\nFix: {}",
        alert.service, alert.summary, alert.fix
    )
}

/// The AI's access token: the one recorded in privai's state directory
/// `state` (unless `fresh`: Synapse forgot it), else a new one from the
/// recorded password, then recorded.
pub fn ai_token(
    client: &Client,
    accounts: &Accounts,
    state: &Path,
    fresh: bool,
) -> Result<Secret, String> {
    use crate::state::matrix;
    let ai = &accounts.ai_user;
    let io = |e: std::io::Error| format!("reading privai's Matrix records: {e}");
    let mut file = matrix::read(state).map_err(io)?;
    if let Some(token) = file.token(ai).filter(|_| !fresh) {
        return Ok(token);
    }
    let password = file.password(ai).ok_or_else(|| {
        format!("privai has no record of the AI's Matrix account `{ai}`; run `privai apply` with the homeserver running, which makes it")
    })?;
    let session = client.login(ai, &password).map_err(|e| e.to_string())?;
    if let Some(entry) = file.accounts.get_mut(ai) {
        entry.token = Some(session.access_token.expose().to_owned());
        matrix::write(state, &file).map_err(io)?;
    }
    Ok(session.access_token)
}

impl MatrixDm {
    /// A sink for `owners` on the homeserver of `accounts`; `rooms`: the
    /// rooms the monitor's state remembers.
    pub fn new(
        accounts: Accounts,
        owners: Vec<String>,
        state: PathBuf,
        host: Option<&str>,
        rooms: BTreeMap<String, String>,
    ) -> Self {
        Self {
            accounts,
            owners,
            state,
            host: host.map(str::to_owned),
            rooms,
            token: None,
            sent: 0,
        }
    }

    /// The AI's token: the one in use, else [`ai_token`].
    fn token(&mut self, client: &Client, fresh: bool) -> Result<Secret, String> {
        if !fresh && let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let token = ai_token(client, &self.accounts, &self.state, fresh)?;
        self.token = Some(token.clone());
        Ok(token)
    }

    /// The direct room with `owner_id`: the remembered one (the owner
    /// invited again if they left it), else a new one.
    fn room(&mut self, client: &Client, token: &Secret, owner_id: &str) -> Result<String, Error> {
        if let Some(room) = self.rooms.get(owner_id).cloned() {
            match client.membership(token, &room, owner_id) {
                Ok(Some(m)) if m == "join" || m == "invite" => return Ok(room),
                Ok(Some(m)) if m == "leave" => {
                    client.invite(token, &room, owner_id)?;
                    return Ok(room);
                }
                // Banned, or a room the AI is no longer in (403/404): a new one.
                Ok(_)
                | Err(Error::Refused {
                    status: 403 | 404, ..
                }) => {
                    self.rooms.remove(owner_id);
                }
                Err(e) => return Err(e),
            }
        }
        let ai_id = self.accounts.user_id(&self.accounts.ai_user);
        let room = client.create_direct_room(token, owner_id, ROOM_NAME)?;
        self.rooms.insert(owner_id.to_owned(), room.clone());
        client.mark_direct(token, &ai_id, owner_id, &room)?;
        Ok(room)
    }

    /// Sends `text` to every owner with `token`.
    fn send_all(
        &mut self,
        client: &Client,
        token: &Secret,
        text: &str,
        at: SystemTime,
    ) -> Result<(), Error> {
        let stamp = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for owner in self.owners.clone() {
            let owner_id = self.accounts.user_id(&owner);
            let room = self.room(client, token, &owner_id)?;
            self.sent += 1;
            let txn = format!("privai-{stamp}-{}-{}", std::process::id(), self.sent);
            client.send_text(token, &room, &txn, text)?;
        }
        Ok(())
    }
}

impl AlertSink for MatrixDm {
    fn send(&mut self, alert: &Alert, at: SystemTime) -> Result<(), String> {
        let client = Client::new(&self.accounts.local_url).map_err(|e| e.to_string())?;
        let text = text(self.host.as_deref(), alert);
        let token = self.token(&client, false)?;
        let outcome = match self.send_all(&client, &token, &text, at) {
            Err(Error::UnknownToken { .. }) => {
                let token = self.token(&client, true)?;
                self.send_all(&client, &token, &text, at)
            }
            other => other,
        };
        outcome.map_err(|e| format!("the Matrix direct message from the AI's account: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::rules::Kind;

    #[test]
    fn the_owners_are_matrix_to_else_the_admins_group_else_every_user() {
        let owners = |extra: &str| {
            let loaded = crate::check::testing::load(
                &format!(
                    r#"{{
                      hosts = [{{ name = "box", platform = 'linux, arch = 'x86_64, ram_gb = 16, roles = ['headscale, 'homeserver], tailnet_ip = "100.64.0.1" }}],
                      headscale.server_url = "https://hs.example.org",
                      users = [{{ name = "alex" }}, {{ name = "sam" }}, {{ name = "kim" }}],
                      {extra}
                    }}"#
                ),
                "ncl",
            );
            let spec = loaded.spec;
            spec.monitoring
                .alerts
                .matrix_owners(&spec.users, &spec.groups)
        };
        assert_eq!(owners(""), ["alex", "sam", "kim"]);
        assert_eq!(
            owners(r#"groups = { admins = ["sam", "kim"], family = ["alex"] },"#),
            ["sam", "kim"]
        );
        assert_eq!(
            owners(
                r#"groups = { admins = ["sam"] }, monitoring.alerts.matrix_to = ["kim", "alex", "kim"],"#
            ),
            ["kim", "alex"]
        );
        assert!(owners("monitoring.alerts.matrix_to = [],").is_empty());
    }

    #[test]
    fn the_message_is_the_alerts_text_and_fix_naming_the_host() {
        let alert = Alert {
            kind: Kind::UnexpectedNode,
            service: "headscale".into(),
            summary: "node `rogue` connected".into(),
            fix: "remove it".into(),
        };
        assert_eq!(
            text(Some("chat"), &alert),
            "privai alert on chat (headscale): node `rogue` connected\nFix: remove it"
        );
        assert_eq!(
            text(None, &alert),
            "privai alert (headscale): node `rogue` connected\nFix: remove it"
        );
    }
}
