//! What Headscale holds, as its REST API (v0.29.2, JSON as grpc-gateway
//! emits it) lists it: users, pre-auth keys, nodes, API keys, the policy.
//! [`crate::api::headscale::Client`] reads these; `plan` decides from them.

use crate::secret::Secret;
use serde::Deserialize;
use serde::de::Deserializer;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// The ID of the synthetic user that owns every tagged node in API output.
pub const TAGGED_DEVICES_ID: u64 = 2_147_455_555;

/// The name of that user.
pub const TAGGED_DEVICES: &str = "tagged-devices";

/// A point in time as the API writes it: RFC 3339, UTC. Go's zero time
/// (`0001-01-01T00:00:00Z`), which Headscale sends for a key created
/// without an expiration, and anything else before 1970 read as 1970.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub SystemTime);

impl Timestamp {
    /// Reads `text`; `None` when it is not an RFC 3339 UTC timestamp.
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(time) = humantime::parse_rfc3339(text) {
            return Some(Self(time));
        }
        let year: u32 = text.get(..4)?.parse().ok()?;
        (year < 1970 && text.as_bytes().get(4) == Some(&b'-')).then_some(Self(UNIX_EPOCH))
    }

    /// RFC 3339 with whole seconds, as sent to the API
    /// (`2026-07-01T12:00:00Z`).
    pub fn rfc3339(&self) -> String {
        humantime::format_rfc3339_seconds(self.0.max(UNIX_EPOCH)).to_string()
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 timestamp: {text:?}")))
    }
}

/// `null` as the type's default: grpc-gateway writes unset messages as
/// `null`, and other versions may do so for lists and strings too.
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A uint64 ID: a JSON string (as grpc-gateway writes it) or a number.
fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    match Id::deserialize(deserializer)? {
        Id::Number(n) => Ok(n),
        Id::Text(text) => text
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("not an ID: {text:?}"))),
    }
}

/// A Headscale user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Its ID.
    #[serde(deserialize_with = "id")]
    pub id: u64,
    /// Its name (`NAME@` in the policy).
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Human-readable name; empty when unset.
    #[serde(default, deserialize_with = "nullable")]
    pub display_name: String,
    /// E-mail address; empty when unset.
    #[serde(default, deserialize_with = "nullable")]
    pub email: String,
    /// `oidc` for a user created by an OpenID Connect login; empty otherwise.
    #[serde(default, deserialize_with = "nullable")]
    pub provider: String,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

/// A pre-auth key. Listed, [`key`](Self::key) is masked
/// (`hskey-auth-PREFIX-***`); only [`Client::create_preauth_key`] returns
/// it whole.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreAuthKey {
    /// Its ID.
    #[serde(deserialize_with = "id")]
    pub id: u64,
    /// The user whose nodes it registers; `None` for a tags-only key.
    #[serde(default)]
    pub user: Option<User>,
    /// The key.
    #[serde(default)]
    pub key: Secret,
    /// Whether it registers any number of nodes.
    #[serde(default, deserialize_with = "nullable")]
    pub reusable: bool,
    /// Whether its nodes are removed when they go offline.
    #[serde(default, deserialize_with = "nullable")]
    pub ephemeral: bool,
    /// Whether a node has registered with it.
    #[serde(default, deserialize_with = "nullable")]
    pub used: bool,
    /// When it stops registering nodes; `None` reads as expired.
    #[serde(default)]
    pub expiration: Option<Timestamp>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Tags its nodes get (sorted, without duplicates).
    #[serde(default, deserialize_with = "nullable")]
    pub acl_tags: Vec<String>,
}

impl PreAuthKey {
    /// Whether it has expired at `now` (a key without an expiration has).
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expiration.is_none_or(|at| at.0 <= now)
    }

    /// Whether it can still register a new node at `now`: not expired, and
    /// reusable or unused.
    pub fn is_usable(&self, now: SystemTime) -> bool {
        !self.is_expired(now) && (self.reusable || !self.used)
    }

    /// The name of its user, if it has one.
    pub fn user_name(&self) -> Option<&str> {
        self.user.as_ref().map(|user| user.name.as_str())
    }
}

/// An API key as Headscale lists it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    /// Its ID.
    #[serde(deserialize_with = "id")]
    pub id: u64,
    /// Its display prefix, `hskey-api-PREFIX-***`.
    pub prefix: String,
    /// When it stops working.
    #[serde(default)]
    pub expiration: Option<Timestamp>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

/// The 12-character prefix of a Headscale API key
/// (`hskey-api-PREFIX-SECRET`, or its display form `hskey-api-PREFIX-***`),
/// which names it in the API.
pub fn api_key_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("hskey-api-")?;
    let prefix = rest.get(..12)?;
    (rest.as_bytes().get(12) == Some(&b'-')).then_some(prefix)
}

/// A node: a device registered with Headscale.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// Its ID.
    #[serde(deserialize_with = "id")]
    pub id: u64,
    /// Its hostname, as the device reported it.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Its MagicDNS name (the hostname, made unique).
    #[serde(default, deserialize_with = "nullable")]
    pub given_name: String,
    /// Its owner; [`TAGGED_DEVICES`] for a tagged node.
    #[serde(default)]
    pub user: Option<User>,
    /// Its tailnet addresses.
    #[serde(default, deserialize_with = "nullable")]
    pub ip_addresses: Vec<String>,
    /// Whether it is connected now.
    #[serde(default, deserialize_with = "nullable")]
    pub online: bool,
    /// Its tags.
    #[serde(default, deserialize_with = "nullable")]
    pub tags: Vec<String>,
    /// The key it registered with, if any.
    #[serde(default)]
    pub pre_auth_key: Option<PreAuthKey>,
    /// `REGISTER_METHOD_AUTH_KEY`, `REGISTER_METHOD_CLI` or `REGISTER_METHOD_OIDC`.
    #[serde(default, deserialize_with = "nullable")]
    pub register_method: String,
    /// When it was last seen.
    #[serde(default)]
    pub last_seen: Option<Timestamp>,
    /// When its node key expires; `None` for never.
    #[serde(default)]
    pub expiry: Option<Timestamp>,
    /// When it registered.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Routes the administrator approved.
    #[serde(default, deserialize_with = "nullable")]
    pub approved_routes: Vec<String>,
    /// Routes the node announces.
    #[serde(default, deserialize_with = "nullable")]
    pub available_routes: Vec<String>,
}

impl Node {
    /// The name of its owner (the user, or [`TAGGED_DEVICES`]).
    pub fn owner(&self) -> Option<&str> {
        self.user.as_ref().map(|user| user.name.as_str())
    }

    /// Whether it is a tagged node (owned by its tags, not by a user).
    pub fn is_tagged(&self) -> bool {
        !self.tags.is_empty()
            || self
                .user
                .as_ref()
                .is_some_and(|u| u.id == TAGGED_DEVICES_ID)
    }
}

/// The policy Headscale holds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// The HuJSON text (in file mode: the file's bytes).
    #[serde(default, deserialize_with = "nullable")]
    pub policy: String,
    /// When it was last set.
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ApiKey;
    use std::time::Duration;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_000_000)
    }

    fn key(id: u64, owner: &str, expires: SystemTime) -> PreAuthKey {
        PreAuthKey {
            id,
            user: Some(User {
                id: 1,
                name: owner.to_owned(),
                display_name: String::new(),
                email: String::new(),
                provider: String::new(),
                created_at: None,
            }),
            key: Secret::new(format!("hskey-auth-prefix{id:05}-***")),
            reusable: false,
            ephemeral: false,
            used: false,
            expiration: Some(Timestamp(expires)),
            created_at: None,
            acl_tags: Vec::new(),
        }
    }

    #[test]
    fn timestamps_read_rfc3339_and_go_zero_time_as_long_past() {
        assert_eq!(
            Timestamp::parse("1970-01-02T00:00:00Z"),
            Some(Timestamp(UNIX_EPOCH + Duration::from_secs(86_400)))
        );
        assert_eq!(
            Timestamp::parse("2026-07-01T12:00:00.123456789Z").map(|t| t.rfc3339()),
            Some("2026-07-01T12:00:00Z".to_owned())
        );
        assert_eq!(
            Timestamp::parse("0001-01-01T00:00:00Z"),
            Some(Timestamp(UNIX_EPOCH))
        );
        assert_eq!(Timestamp::parse("yesterday"), None);
        let mut k = key(1, "alice", now());
        k.expiration = None;
        assert!(k.is_expired(now()));
    }

    #[test]
    fn api_json_is_read_with_string_ids_and_nulls() {
        let node: Node = serde_json::from_value(serde_json::json!({
            "id": "12",
            "machineKey": "mkey:1",
            "ipAddresses": ["100.64.0.1", "fd7a:115c:a1e0::1"],
            "name": "laptop",
            "user": {"id": "3", "name": "alice", "createdAt": "2026-07-01T12:00:00Z",
                     "displayName": "", "email": "", "providerId": "", "provider": "",
                     "profilePicUrl": ""},
            "lastSeen": null,
            "expiry": null,
            "preAuthKey": null,
            "createdAt": "2026-07-01T12:00:00Z",
            "registerMethod": "REGISTER_METHOD_AUTH_KEY",
            "tags": null,
            "givenName": "laptop",
            "online": true,
            "approvedRoutes": [],
            "availableRoutes": [],
            "subnetRoutes": []
        }))
        .unwrap();
        assert_eq!(node.id, 12);
        assert_eq!(node.owner(), Some("alice"));
        assert_eq!(node.tags, Vec::<String>::new());
        assert!(!node.is_tagged());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let key = ApiKey::new("hskey-api-abc-SECRETVALUE", "env:HEADSCALE_API_KEY");
        let shown = format!("{key:?}");
        assert!(!shown.contains("SECRETVALUE"), "{shown}");
        assert!(shown.contains("env:HEADSCALE_API_KEY"));
        let mut k = key_of_text("hskey-auth-abc-SECRETVALUE");
        k.used = true;
        assert!(!format!("{k:?}").contains("SECRETVALUE"));
    }

    fn key_of_text(text: &str) -> PreAuthKey {
        let mut k = key(1, "alice", now());
        k.key = Secret::new(text);
        k
    }
}
