//! Direct messages on the client-server API: a direct room made with
//! `is_direct` and its invite (`POST /createRoom`), the sender's `m.direct`
//! account data that marks it so in the clients, a member's membership
//! and a re-invite, and a plain-text `m.room.message`
//! (`PUT /rooms/{roomId}/send/m.room.message/{txnId}`). Used by the
//! monitor's Matrix sink ([`crate::monitor::dm`]).

use super::{Client, Error, encode};
use crate::secret::Secret;
use serde_json::{Value, json};

impl Client {
    /// Creates a private room with `user_id` invited, marked direct
    /// (`is_direct`, the `trusted_private_chat` preset), named `name`;
    /// its room ID.
    pub fn create_direct_room(
        &self,
        token: &Secret,
        user_id: &str,
        name: &str,
    ) -> Result<String, Error> {
        const WHAT: &str = "POST /_matrix/client/v3/createRoom";
        let body = json!({"is_direct": true, "invite": [user_id],
                          "preset": "trusted_private_chat", "name": name});
        let answer = self
            .call(
                reqwest::Method::POST,
                "/_matrix/client/v3/createRoom",
                Some(token),
                Some(body),
            )?
            .map_err(|r| Self::refused(WHAT, r))?;
        answer["room_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::Unreadable {
                what: WHAT.into(),
                reason: "no room_id".into(),
            })
    }

    /// Adds `room_id` to the direct rooms with `with` in the `m.direct`
    /// account data of `user_id` (the token's owner), keeping the rest.
    pub fn mark_direct(
        &self,
        token: &Secret,
        user_id: &str,
        with: &str,
        room_id: &str,
    ) -> Result<(), Error> {
        let path = format!(
            "/_matrix/client/v3/user/{}/account_data/m.direct",
            encode(user_id)
        );
        let mut direct = match self.call(reqwest::Method::GET, &path, Some(token), None)? {
            Ok(Value::Object(map)) => map,
            Ok(_) | Err((404, _)) => serde_json::Map::new(),
            Err(other) => {
                return Err(Self::refused(
                    "GET /_matrix/client/v3/user/USER/account_data/m.direct",
                    other,
                ));
            }
        };
        let rooms = direct
            .entry(with.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !rooms.is_array() {
            *rooms = Value::Array(Vec::new());
        }
        let list = rooms.as_array_mut().expect("an array");
        if !list.iter().any(|r| r == room_id) {
            list.push(Value::from(room_id));
        }
        self.call(
            reqwest::Method::PUT,
            &path,
            Some(token),
            Some(Value::Object(direct)),
        )?
        .map(drop)
        .map_err(|r| Self::refused("PUT /_matrix/client/v3/user/USER/account_data/m.direct", r))
    }

    /// The membership of `user_id` in `room_id` (`join`, `invite`, `leave`,
    /// `ban`), or `None` when the room has none for them.
    pub fn membership(
        &self,
        token: &Secret,
        room_id: &str,
        user_id: &str,
    ) -> Result<Option<String>, Error> {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
            encode(room_id),
            encode(user_id)
        );
        match self.call(reqwest::Method::GET, &path, Some(token), None)? {
            Ok(body) => Ok(body["membership"].as_str().map(str::to_owned)),
            Err((404, _)) => Ok(None),
            Err(other) => Err(Self::refused(
                "GET /_matrix/client/v3/rooms/ROOM/state/m.room.member/USER",
                other,
            )),
        }
    }

    /// Invites `user_id` into `room_id`.
    pub fn invite(&self, token: &Secret, room_id: &str, user_id: &str) -> Result<(), Error> {
        let path = format!("/_matrix/client/v3/rooms/{}/invite", encode(room_id));
        self.call(
            reqwest::Method::POST,
            &path,
            Some(token),
            Some(json!({"user_id": user_id})),
        )?
        .map(drop)
        .map_err(|r| Self::refused("POST /_matrix/client/v3/rooms/ROOM/invite", r))
    }

    /// Sends `text` as a plain-text `m.room.message` (`m.text`) to
    /// `room_id`; `txn_id` makes a retry of the same message idempotent.
    /// The event's ID.
    pub fn send_text(
        &self,
        token: &Secret,
        room_id: &str,
        txn_id: &str,
        text: &str,
    ) -> Result<String, Error> {
        const WHAT: &str = "PUT /_matrix/client/v3/rooms/ROOM/send/m.room.message/TXN";
        let path = format!(
            "/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
            encode(room_id),
            encode(txn_id)
        );
        let answer = self
            .call(
                reqwest::Method::PUT,
                &path,
                Some(token),
                Some(json!({"msgtype": "m.text", "body": text})),
            )?
            .map_err(|r| Self::refused(WHAT, r))?;
        answer["event_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::Unreadable {
                what: WHAT.into(),
                reason: "no event_id".into(),
            })
    }
}
