//! The refused-sender rule for the Matrix channel, observed on privai's
//! own homeserver rather than in the gateway's log (OpenClaw 2026.9.6
//! logs a refused sender only at `debug`, beside previews of the allowed
//! senders' messages; see the README's `privai monitor`).
//!
//! When the spec runs the homeserver on a host this install covers, the
//! gateway's Matrix channel is enabled with `dm_policy = 'allowlist` and
//! `monitoring.alerts.refused_senders` is on ([`watch`]), each pass asks
//! Synapse, on loopback and with the AI's token ([`super::dm::ai_token`]),
//! for the `m.room.message` events sent to the rooms the AI has joined
//! since the last pass ([`crate::api::synapse::sync`]; where it left off,
//! Synapse's `next_batch`, is kept in the monitor's state). Each sender
//! outside the channel's `allow_from` (as the gateway gets it: a spec
//! user's name as their Matrix ID, [`crate::render::openclaw::matrix_sender`])
//! raises one alert per pass, with how many messages in how many rooms:
//! never a message's text, which privai does not even read.
//!
//! Not alerted on: the AI's own messages and privai's admin account's;
//! every message in the rooms the monitor's Matrix sink made for the
//! alerts ([`super::State::rooms`]), where only the AI and that owner are
//! (an owner need not be in `allow_from` to answer an alert there); and,
//! on the first pass (no `next_batch` kept yet, or the rule was off), the
//! history: that pass only notes where Synapse's stream is, so the rule
//! starts from now. A room with more than
//! [`crate::api::synapse::sync::TIMELINE_LIMIT`] messages since the last
//! pass shows only its latest, so a count may be short.
//!
//! Under `'pairing` the rule does not run: a stranger gets a pairing code
//! the owner approves in OpenClaw, and privai cannot tell an approved
//! sender (not in the spec) from a refused one. Under `'disabled` every
//! direct message is dropped by the owner's choice, and `'open` refuses
//! no one.

use super::dm::ai_token;
use super::rules::{Alert, Kind, quote};
use crate::api::synapse::sync::Message;
use crate::api::synapse::{Client, Error};
use crate::model::{ChannelPolicy, Spec};
use crate::render::homeserver::{ADMIN_USER, Accounts};
use crate::state::Install;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// What the rule needs to watch the AI's rooms.
pub struct Watch {
    /// The homeserver's accounts, as the spec renders them.
    pub accounts: Accounts,
    /// The Matrix channel's `allow_from`, as the gateway gets it.
    pub allowed: BTreeSet<String>,
    /// Senders never alerted on: the AI and privai's admin account.
    pub ignored: BTreeSet<String>,
    /// privai's state directory (the AI's recorded credentials).
    pub state: PathBuf,
}

/// The rule for `spec` under `install`, when it runs (see the module's
/// docs): `None` otherwise.
pub fn watch(spec: &Spec, install: &Install) -> Option<Watch> {
    if !spec.monitoring.alerts.refused_senders {
        return None;
    }
    let accounts = crate::render::homeserver::accounts(spec)?;
    if !install.includes(&accounts.host) {
        return None;
    }
    let channel = spec.gateway()?.channels.matrix.as_ref()?;
    if !channel.enabled || channel.dm_policy != ChannelPolicy::Allowlist {
        return None;
    }
    let allowed = channel
        .allow_from
        .iter()
        .map(|entry| crate::render::openclaw::matrix_sender(spec, &accounts.server_name, entry))
        .collect();
    let ignored = [accounts.ai_user.as_str(), ADMIN_USER]
        .into_iter()
        .map(|user| accounts.user_id(user))
        .collect();
    Some(Watch {
        accounts,
        allowed,
        ignored,
        state: install.state_dir(),
    })
}

impl Watch {
    /// The alerts of `messages`, outside the rooms `skip` (the alert
    /// rooms): one per refused sender, in the order of their IDs. Pure.
    pub fn alerts(&self, messages: &[Message], skip: &BTreeSet<String>) -> Vec<Alert> {
        let mut senders: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
        for message in messages {
            let sender = message.sender.as_str();
            if skip.contains(&message.room)
                || self.allowed.contains(sender)
                || self.ignored.contains(sender)
            {
                continue;
            }
            let (count, rooms) = senders.entry(sender).or_default();
            *count += 1;
            rooms.insert(&message.room);
        }
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        senders
            .into_iter()
            .map(|(sender, (count, rooms))| {
                let sender = quote(sender);
                Alert {
                    kind: Kind::RefusedSender,
                    service: "gateway".into(),
                    summary: format!(
                        "`{sender}` wrote {count} message{} to the AI in {} room{} on privai's homeserver, but is not in the Matrix channel's `allow_from`: the gateway does not answer them",
                        plural(count),
                        rooms.len(),
                        plural(rooms.len()),
                    ),
                    fix: format!(
                        "nothing to do if you do not know `{sender}`; to let them in, add them (a spec user's name, or the Matrix ID) to `openclaw.channels.matrix.allow_from` in the spec and run `privai apply`"
                    ),
                }
            })
            .collect()
    }

    /// One pass: the alerts of the messages sent to the AI's rooms since
    /// `since` (none when `since` is `None`: the first pass starts from
    /// now), outside the rooms `skip`, and where the next pass starts.
    pub fn pass(
        &self,
        since: Option<&str>,
        skip: &BTreeSet<String>,
    ) -> Result<(Vec<Alert>, String), String> {
        let what = |e: Error| {
            format!("reading who wrote to the AI on the homeserver (the refused-sender rule): {e}")
        };
        let client = Client::new(&self.accounts.local_url).map_err(what)?;
        let token = ai_token(&client, &self.accounts, &self.state, false)?;
        let sync = match client.messages_since(&token, since) {
            Err(Error::UnknownToken { .. }) => {
                let token = ai_token(&client, &self.accounts, &self.state, true)?;
                client.messages_since(&token, since)
            }
            other => other,
        }
        .map_err(what)?;
        let alerts = match since {
            Some(_) => self.alerts(&sync.messages, skip),
            None => Vec::new(),
        };
        Ok((alerts, sync.next_batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(extra: &str) -> Spec {
        crate::check::testing::load(
            &format!(
                r#"{{
                  hosts = [{{ name = "chat", platform = 'linux, arch = 'x86_64, ram_gb = 16, roles = ['headscale, 'homeserver, 'ollama, 'openclaw], tailnet_ip = "100.64.0.1" }}],
                  headscale.server_url = "https://hs.example.org",
                  users = [{{ name = "alex" }}, {{ name = "sam" }}],
                  ollama.models = [{{ name = "llama3.2:3b", role = 'primary }}],
                  openclaw.model.primary = "llama3.2:3b",
                  {extra}
                }}"#
            ),
            "ncl",
        )
        .spec
    }

    fn staged() -> Install {
        Install::Staged {
            root: PathBuf::from("/tmp/stage"),
        }
    }

    fn message(room: &str, sender: &str) -> Message {
        Message {
            room: room.into(),
            sender: sender.into(),
        }
    }

    #[test]
    fn the_rule_runs_for_the_matrix_channel_under_allowlist_only() {
        let allowlist = r#"openclaw.channels.matrix = { dm_policy = 'allowlist, allow_from = ["alex", "@kim:elsewhere.org"] },"#;
        let watch = watch(&spec(allowlist), &staged()).expect("the rule runs");
        let server = &watch.accounts.server_name;
        assert_eq!(
            watch.allowed,
            BTreeSet::from([format!("@alex:{server}"), "@kim:elsewhere.org".to_owned()])
        );
        assert_eq!(
            watch.ignored,
            BTreeSet::from([format!("@ai:{server}"), format!("@privai-admin:{server}")])
        );
        for off in [
            "openclaw.channels.matrix = { allow_from = [\"alex\"] },",
            "openclaw.channels.matrix = { dm_policy = 'disabled },",
            "openclaw.channels.matrix = { enabled = false, dm_policy = 'allowlist, allow_from = [\"alex\"] },",
            "openclaw.channels.telegram = { dm_policy = 'allowlist, allow_from = [\"1\"], token = \"env:T\" },",
            &format!("monitoring.alerts.refused_senders = false, {allowlist}"),
        ] {
            assert!(watch_of(off).is_none(), "{off}");
        }
    }

    fn watch_of(extra: &str) -> Option<Watch> {
        watch(&spec(extra), &staged())
    }

    #[test]
    fn one_alert_per_refused_sender_with_counts_and_never_the_allowed_the_ai_or_the_alert_rooms() {
        let watch = Watch {
            accounts: crate::render::homeserver::accounts(&spec("")).unwrap(),
            allowed: BTreeSet::from(["@alex:s".to_owned()]),
            ignored: BTreeSet::from(["@ai:s".to_owned(), "@privai-admin:s".to_owned()]),
            state: PathBuf::new(),
        };
        let messages = [
            message("!dm1:s", "@sam:s"),
            message("!dm1:s", "@ai:s"),
            message("!dm2:s", "@sam:s"),
            message("!dm2:s", "@sam:s"),
            message("!dm3:s", "@alex:s"),
            message("!alerts:s", "@kim:s"),
            message("!dm4:s", "@privai-admin:s"),
            message("!dm5:s", "@kim:s"),
        ];
        let skip = BTreeSet::from(["!alerts:s".to_owned()]);
        let alerts = watch.alerts(&messages, &skip);
        let summaries: Vec<&str> = alerts.iter().map(|a| a.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "`@kim:s` wrote 1 message to the AI in 1 room on privai's homeserver, but is not in the Matrix channel's `allow_from`: the gateway does not answer them",
                "`@sam:s` wrote 3 messages to the AI in 2 rooms on privai's homeserver, but is not in the Matrix channel's `allow_from`: the gateway does not answer them",
            ]
        );
        assert!(alerts.iter().all(|a| a.kind == Kind::RefusedSender));
        assert!(watch.alerts(&messages[4..5], &skip).is_empty());
    }
}
