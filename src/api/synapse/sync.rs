//! Who wrote to the token's account: an incremental `GET
//! /_matrix/client/v3/sync` (no waiting) with a filter that keeps only the
//! `m.room.message` events of the timelines of joined rooms, and nothing
//! of presence, account data, state or ephemeral events. Only each
//! message's room and sender are read, never its content. Used by the
//! monitor's refused-sender rule on privai's homeserver
//! ([`crate::monitor::senders`]).

use super::{Client, Error, encode};
use crate::secret::Secret;
use serde_json::{Value, json};

/// The most messages one sync returns per room; a room with more since
/// the last sync shows only its latest (`limited` in Synapse's answer).
pub const TIMELINE_LIMIT: u32 = 200;

/// One message: where and from whom (never what).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The room ID.
    pub room: String,
    /// The sender's Matrix ID.
    pub sender: String,
}

/// What a sync returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Messages {
    /// Where the next sync starts (`next_batch`).
    pub next_batch: String,
    /// The messages in the joined rooms' timelines, room by room.
    pub messages: Vec<Message>,
}

/// The sync filter: joined rooms' `m.room.message` timeline events only.
fn filter() -> String {
    let none = json!({"types": []});
    json!({
        "presence": none, "account_data": none,
        "room": {"timeline": {"types": ["m.room.message"], "limit": TIMELINE_LIMIT},
                 "state": none, "ephemeral": none, "account_data": none},
    })
    .to_string()
}

impl Client {
    /// The messages sent since `since` to the rooms the token's account
    /// has joined (`None`: an initial sync, the latest of each room) and
    /// where the next sync starts.
    pub fn messages_since(&self, token: &Secret, since: Option<&str>) -> Result<Messages, Error> {
        const WHAT: &str = "GET /_matrix/client/v3/sync";
        let mut path = format!(
            "/_matrix/client/v3/sync?timeout=0&filter={}",
            encode(&filter())
        );
        if let Some(since) = since {
            path.push_str(&format!("&since={}", encode(since)));
        }
        let body = self
            .call(reqwest::Method::GET, &path, Some(token), None)?
            .map_err(|r| Self::refused(WHAT, r))?;
        let next_batch = body["next_batch"]
            .as_str()
            .ok_or_else(|| Error::Unreadable {
                what: WHAT.into(),
                reason: "no next_batch".into(),
            })?
            .to_owned();
        Ok(Messages {
            next_batch,
            messages: joined_messages(&body),
        })
    }
}

/// The `m.room.message` events of the joined rooms' timelines in a sync
/// answer: room and sender.
fn joined_messages(body: &Value) -> Vec<Message> {
    let Some(rooms) = body["rooms"]["join"].as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (room, joined) in rooms {
        let events = joined["timeline"]["events"].as_array();
        for event in events.into_iter().flatten() {
            if event["type"] != "m.room.message" {
                continue;
            }
            if let Some(sender) = event["sender"].as_str() {
                out.push(Message {
                    room: room.clone(),
                    sender: sender.to_owned(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_joined_rooms_messages_senders_are_read() {
        let body = json!({
            "next_batch": "s1",
            "rooms": {
                "join": {
                    "!a:s": {"timeline": {"events": [
                        {"type": "m.room.message", "sender": "@x:s", "content": {"body": "hi"}},
                        {"type": "m.room.member", "sender": "@y:s"},
                    ]}},
                    "!b:s": {"timeline": {"events": [
                        {"type": "m.room.message", "sender": "@y:s"},
                    ]}},
                },
                "invite": {"!c:s": {"invite_state": {"events": [
                    {"type": "m.room.message", "sender": "@z:s"},
                ]}}},
            },
        });
        assert_eq!(
            joined_messages(&body),
            [
                Message {
                    room: "!a:s".into(),
                    sender: "@x:s".into()
                },
                Message {
                    room: "!b:s".into(),
                    sender: "@y:s".into()
                },
            ]
        );
    }

    #[test]
    fn the_filter_keeps_the_timelines_messages_only() {
        let filter: Value = serde_json::from_str(&filter()).unwrap();
        assert_eq!(
            filter["room"]["timeline"]["types"],
            json!(["m.room.message"])
        );
        assert_eq!(filter["room"]["state"]["types"], json!([]));
        assert_eq!(filter["presence"]["types"], json!([]));
    }
}
