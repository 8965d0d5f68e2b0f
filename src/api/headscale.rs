//! Headscale's REST API (v0.29.2: `/api/v1`, JSON as grpc-gateway emits
//! it), as a blocking [`Client`], and the pure decisions a reconciler makes
//! from what the client lists: which users to create ([`users_to_create`])
//! or delete ([`users_to_delete`]), which devices need a pre-auth key and
//! which keys to expire ([`key_decisions`]), which nodes need other tags
//! ([`tag_changes`]). The decisions read only their arguments, so `observe`
//! lists, `plan` decides and `apply` writes.
//!
//! # Reaching Headscale
//!
//! The client speaks https as well as http: Headscale terminates TLS itself
//! in the `self_signed` and `letsencrypt` modes, so its only listener speaks
//! TLS and the API cannot be reached without it. The API key is a bearer
//! credential for the whole tailnet, so plain `http://` is refused for
//! anything but a loopback address ([`Error::InsecureUrl`]).
//!
//! Run on the Headscale host, the recommended base URL is:
//!
//! * `tls.mode = 'proxy` with a loopback `listen_addr`: `http://` + the
//!   listener (as the health check reaches it), so the proxy is not needed;
//! * otherwise `server_url`, pinned to the local listener with
//!   [`Builder::resolve_to`] (no detour through a public address) and, in
//!   `self_signed` mode, trusting the certificate with
//!   [`Builder::root_certificate_pem`].
//!
//! No proxy from the environment is ever used, redirects are not followed
//! (one is reported as [`Error::Redirect`]), and every call has a timeout.
//!
//! # Linking pre-auth keys to devices
//!
//! Headscale 0.29.2 keys have no name or description, the full key is
//! returned only once (by create) and the list holds every key of every
//! user. privai therefore links a key to a device by **recording the key's
//! ID** when it creates it ([`KeyRecords`], kept in privai's state next to
//! the key itself, which must be stored anyway to be handed to the device).
//! A recorded key counts for its device only while it still *fits* it
//! ([`key_fits`]: same user, same tags, same ephemerality, single use).
//! Keys privai did not record are never touched. Neither of the other
//! schemes works: marking keys with ACL tags makes every node joined with
//! them a tagged node (owned by `tagged-devices`, no longer matched by
//! `alice@` rules), and matching keys by attributes cannot tell two devices
//! of one user with the same tags apart, so it cannot say which key to
//! expire when one of them leaves the spec.
//!
//! A device has *joined* ([`device_node`]) when a node registered with its
//! recorded key exists, or a node named like it (hostname or given name,
//! ignoring case) that belongs to its user or is tagged.
//!
//! # Errors
//!
//! Every [`Error`] names the fix: a rejected API key names the reference it
//! came from, a refused connection says Headscale is not running at the URL,
//! a rejected policy carries Headscale's message verbatim.

use crate::model::{Device, DeviceOs};
use crate::sys::{Runner, SystemRunner};
use reqwest::Method;
use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The Headscale release this client follows.
pub const HEADSCALE_VERSION: &str = "0.29.2";

/// The ID of the synthetic user that owns every tagged node in API output.
pub const TAGGED_DEVICES_ID: u64 = 2_147_455_555;

/// The name of that user.
pub const TAGGED_DEVICES: &str = "tagged-devices";

/// How long one call may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A secret string: its `Debug` shows `***`, never the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value; never log or print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(nullable(deserializer)?))
    }
}

/// A Headscale API key and the secret reference it was read from (which
/// errors name; the value never appears in any message).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    value: Secret,
    reference: String,
}

impl ApiKey {
    /// The key `value`, read from `reference` (e.g. `env:HEADSCALE_API_KEY`).
    pub fn new(value: impl Into<String>, reference: impl Into<String>) -> Self {
        Self {
            value: Secret::new(value),
            reference: reference.into(),
        }
    }

    /// Where the key was read from.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The key itself; never log or print it.
    pub fn expose(&self) -> &str {
        self.value.expose()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("reference", &self.reference)
            .finish_non_exhaustive()
    }
}

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
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
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

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    /// Its name.
    pub name: String,
    /// Human-readable name; not sent when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// E-mail address; not sent when empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub email: String,
}

impl NewUser {
    /// The user the spec declares.
    pub fn of(user: &crate::model::User) -> Self {
        Self {
            name: user.name.clone(),
            display_name: user.display_name.clone().unwrap_or_default(),
            email: user.email.clone().unwrap_or_default(),
        }
    }
}

/// A pre-auth key to create. It always has an expiration: Headscale reads
/// a key created without one as already expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPreAuthKey {
    /// The ID of the user whose nodes it registers.
    pub user: Option<u64>,
    /// Whether it registers any number of nodes.
    pub reusable: bool,
    /// Whether its nodes are removed when they go offline.
    pub ephemeral: bool,
    /// When it stops registering nodes.
    pub expiration: SystemTime,
    /// Tags its nodes get (`tag:NAME`); they become tagged nodes.
    pub acl_tags: Vec<String>,
}

impl NewPreAuthKey {
    /// The key that joins `device` as a node of the user with ID `user`,
    /// with the device's tags, ephemerality and reuse.
    pub fn for_device(device: &Device, user: u64, expiration: SystemTime) -> Self {
        Self {
            user: Some(user),
            reusable: device.reusable,
            ephemeral: device.ephemeral,
            expiration,
            acl_tags: normalized_tags(&device.tags),
        }
    }

    /// The JSON body of the create call.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "reusable": self.reusable,
            "ephemeral": self.ephemeral,
            "expiration": Timestamp(self.expiration).rfc3339(),
            "aclTags": self.acl_tags,
        });
        if let Some(user) = self.user {
            body["user"] = serde_json::Value::String(user.to_string());
        }
        body
    }
}

/// What went wrong talking to Headscale. Each message names the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The base URL cannot be used.
    #[error("`{url}` is not a Headscale URL: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Plain http to a host that is not loopback.
    #[error(
        "refusing to send the Headscale API key over plain http to `{url}`: use an https URL (`headscale.server_url`), or plain http only to a loopback address"
    )]
    InsecureUrl {
        /// The URL.
        url: String,
    },
    /// Nothing listens at the URL.
    #[error(
        "Headscale is not running at {url} (connection refused): start it (`privai apply` on its host) or check `headscale.server_url` and `headscale.listen_addr`"
    )]
    NotRunning {
        /// The base URL.
        url: String,
    },
    /// Connecting failed otherwise (name resolution, TLS).
    #[error("{}", connect_message(url, reason))]
    Connect {
        /// The base URL.
        url: String,
        /// The cause chain.
        reason: String,
    },
    /// No answer in time.
    #[error(
        "Headscale at {url} did not answer {method} {path} within {} s: check that it is running and reachable",
        timeout.as_secs()
    )]
    Timeout {
        /// The base URL.
        url: String,
        /// The method.
        method: String,
        /// The path.
        path: String,
        /// The timeout.
        timeout: Duration,
    },
    /// 401 or 403.
    #[error(
        "the Headscale API key in `{reference}` was rejected by {url} (HTTP {status}): create one with `headscale apikeys create` and store it there"
    )]
    Unauthorized {
        /// Where the key was read from.
        reference: String,
        /// The base URL.
        url: String,
        /// 401 or 403.
        status: u16,
    },
    /// 404: no such object, or no such endpoint.
    #[error(
        "{method} {path} on {url}: not found: {message}{}",
        version_hint(message)
    )]
    NotFound {
        /// The method.
        method: String,
        /// The path.
        path: String,
        /// The base URL.
        url: String,
        /// Headscale's message.
        message: String,
    },
    /// Headscale refused the policy; its message, verbatim.
    #[error("Headscale rejected the policy: {message}")]
    PolicyRejected {
        /// Headscale's message, verbatim.
        message: String,
    },
    /// The policy is in a file, so the API cannot set it.
    #[error(
        "Headscale keeps its policy in a file, so the API cannot set it ({message}): set `headscale.policy_mode = 'database` in the spec and apply it"
    )]
    PolicyNotInDatabase {
        /// Headscale's message, verbatim.
        message: String,
    },
    /// `GET /health` answered `fail`.
    #[error(
        "Headscale at {url} is unhealthy (`/health` reports HTTP {status}: its database does not answer): see Headscale's log"
    )]
    Unhealthy {
        /// The base URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// A 3xx answer.
    #[error(
        "{method} {path} on {url} answered with a redirect to `{location}`: use the URL it redirects to as the Headscale URL"
    )]
    Redirect {
        /// The method.
        method: String,
        /// The path.
        path: String,
        /// The base URL.
        url: String,
        /// The `Location` header.
        location: String,
    },
    /// Any other failure Headscale reported.
    #[error("{method} {path} on {url} failed with HTTP {status}: {message}")]
    Api {
        /// The method.
        method: String,
        /// The path.
        path: String,
        /// The base URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The gRPC code of the error body, if it had one.
        code: Option<i32>,
        /// Headscale's message, verbatim.
        message: String,
    },
    /// A 2xx answer this client cannot read.
    #[error(
        "{method} {path} on {url}: unexpected answer ({reason}): is this Headscale {HEADSCALE_VERSION}?"
    )]
    Decode {
        /// The method.
        method: String,
        /// The path.
        path: String,
        /// The base URL.
        url: String,
        /// What did not parse.
        reason: String,
    },
    /// Another transport failure.
    #[error("{method} {path} on {url}: {reason}")]
    Http {
        /// The method.
        method: String,
        /// The path.
        path: String,
        /// The base URL.
        url: String,
        /// The cause chain.
        reason: String,
    },
}

impl Error {
    /// Whether Headscale answered with a TLS certificate privai does not
    /// trust: something answers, so this is not "not running yet".
    pub fn is_untrusted_certificate(&self) -> bool {
        matches!(self, Self::Connect { reason, .. } if reason.contains("invalid peer certificate"))
    }
}

/// The message of [`Error::Connect`]. A certificate the TLS client refused
/// (rustls: `invalid peer certificate: …`) is named as such, with the fix:
/// in `'self_signed` mode Headscale must serve the file privai trusts.
fn connect_message(url: &str, reason: &str) -> String {
    match reason.find("invalid peer certificate") {
        Some(at) => format!(
            "Headscale at {url} presented a TLS certificate privai does not trust ({}): with `headscale.tls.mode = 'self_signed` privai trusts only the certificate at `headscale.tls.cert_path`, so Headscale must serve that file (restart it after replacing the file) and the certificate must name the host of `headscale.server_url`",
            &reason[at..]
        ),
        None => format!("cannot connect to Headscale at {url}: {reason}"),
    }
}

/// A hint for a 404 of an unknown endpoint, which means another version.
fn version_hint(message: &str) -> String {
    if message.eq_ignore_ascii_case("not found") {
        format!(" (no such endpoint: is this Headscale {HEADSCALE_VERSION}?)")
    } else {
        String::new()
    }
}

/// The error body of Headscale 0.29: `{"code":…,"message":…,"details":[]}`.
#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    code: Option<i32>,
    #[serde(default)]
    message: Option<String>,
}

/// Options of a [`Client`]; [`Builder::build`] makes it.
#[derive(Debug, Clone)]
pub struct Builder {
    base_url: String,
    api_key: ApiKey,
    timeout: Duration,
    connect_timeout: Duration,
    root_pem: Option<Vec<u8>>,
    resolve: Option<IpAddr>,
}

impl Builder {
    /// How long one call may take (default [`TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long connecting may take (default [`CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Also trusts the certificate(s) in `pem`: Headscale's own certificate
    /// in `self_signed` mode.
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_pem = Some(pem.into());
        self
    }

    /// Connects to `ip` whatever the URL's host resolves to, still checking
    /// the certificate against the URL's host name: `server_url` reached at
    /// the local listener. The URL's port is kept.
    pub fn resolve_to(mut self, ip: IpAddr) -> Self {
        self.resolve = Some(ip);
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client, Error> {
        let base = self.base_url.trim_end_matches('/').to_owned();
        let bad = |reason: String| Error::BadUrl {
            url: base.clone(),
            reason,
        };
        let url = reqwest::Url::parse(&base).map_err(|e| bad(e.to_string()))?;
        let host = url
            .host_str()
            .ok_or_else(|| bad("it has no host".to_owned()))?
            .to_owned();
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) || self.resolve.is_some_and(|ip| ip.is_loopback()) => {}
            "http" => return Err(Error::InsecureUrl { url: base }),
            scheme => return Err(bad(format!("`{scheme}` is neither http nor https"))),
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("it has a query or fragment".to_owned()));
        }
        let mut http = reqwest::blocking::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("privai/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &self.root_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| bad(format!("the certificate is not PEM: {e}")))?;
            for certificate in certificates {
                http = http.add_root_certificate(certificate);
            }
        }
        if let Some(ip) = self.resolve {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            http = http.resolve(host, SocketAddr::new(ip, 0));
        }
        let http = http.build().map_err(|e| bad(chain(&e)))?;
        Ok(Client {
            http,
            base,
            key: self.api_key,
            timeout: self.timeout,
        })
    }
}

/// Whether `url`'s host is a loopback address or `localhost`.
fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `error` and its sources, joined with `: `.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Whether some source of `error` is a refused connection.
fn refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// A blocking client of Headscale's REST API.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
    key: ApiKey,
    timeout: Duration,
}

impl Client {
    /// A client of the Headscale at `base_url` (e.g. `https://hs.example.org`,
    /// without `/api/v1`) using `api_key`, with the default options.
    pub fn new(base_url: &str, api_key: ApiKey) -> Result<Self, Error> {
        Self::builder(base_url, api_key).build()
    }

    /// Options for a client of `base_url` using `api_key`.
    pub fn builder(base_url: &str, api_key: ApiKey) -> Builder {
        Builder {
            base_url: base_url.to_owned(),
            api_key,
            timeout: TIMEOUT,
            connect_timeout: CONNECT_TIMEOUT,
            root_pem: None,
            resolve: None,
        }
    }

    /// The base URL, without a trailing `/`.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// `GET /health` (no API key needed): `Ok` when Headscale answers
    /// `{"status":"pass"}`.
    pub fn health(&self) -> Result<(), Error> {
        let (status, _, body) = self.send(Method::GET, "/health", None, false)?;
        if status == 200 {
            let pass = serde_json::from_str::<serde_json::Value>(&body)
                .is_ok_and(|v| v["status"] == "pass");
            if pass {
                return Ok(());
            }
        }
        if status == 500 || status == 200 {
            return Err(Error::Unhealthy {
                url: self.base.clone(),
                status,
            });
        }
        Err(self.failure(&Method::GET, "/health", status, None, &body))
    }

    /// `GET /version` (no API key needed): the version Headscale reports,
    /// e.g. `v0.29.2`.
    pub fn version(&self) -> Result<String, Error> {
        let (status, _, body) = self.send(Method::GET, "/version", None, false)?;
        if status == 200
            && let Some(version) = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["version"].as_str().map(str::to_owned))
        {
            return Ok(version);
        }
        Err(self.failure(&Method::GET, "/version", status, None, &body))
    }

    /// Every user (`GET /api/v1/user`).
    pub fn list_users(&self) -> Result<Vec<User>, Error> {
        #[derive(Deserialize)]
        struct Users {
            #[serde(default, deserialize_with = "nullable")]
            users: Vec<User>,
        }
        let users: Users = self.call(Method::GET, "/api/v1/user", None)?;
        Ok(users.users)
    }

    /// Creates `user` (`POST /api/v1/user`).
    pub fn create_user(&self, user: &NewUser) -> Result<User, Error> {
        #[derive(Deserialize)]
        struct Created {
            user: User,
        }
        let body = serde_json::to_value(user).unwrap_or_default();
        let created: Created = self.call(Method::POST, "/api/v1/user", Some(&body))?;
        Ok(created.user)
    }

    /// Deletes the user with ID `id` (`DELETE /api/v1/user/{id}`); Headscale
    /// refuses while the user owns nodes.
    pub fn delete_user(&self, id: u64) -> Result<(), Error> {
        self.call::<serde_json::Value>(Method::DELETE, &format!("/api/v1/user/{id}"), None)
            .map(drop)
    }

    /// Every pre-auth key of every user (`GET /api/v1/preauthkey`; 0.28+
    /// has no user filter), keys masked.
    pub fn list_preauth_keys(&self) -> Result<Vec<PreAuthKey>, Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Keys {
            #[serde(default, deserialize_with = "nullable")]
            pre_auth_keys: Vec<PreAuthKey>,
        }
        let keys: Keys = self.call(Method::GET, "/api/v1/preauthkey", None)?;
        Ok(keys.pre_auth_keys)
    }

    /// Creates `key` (`POST /api/v1/preauthkey`); the answer holds the
    /// whole key, the only time Headscale shows it.
    pub fn create_preauth_key(&self, key: &NewPreAuthKey) -> Result<PreAuthKey, Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            pre_auth_key: PreAuthKey,
        }
        let created: Created = self.call(Method::POST, "/api/v1/preauthkey", Some(&key.body()))?;
        Ok(created.pre_auth_key)
    }

    /// Expires the key with ID `id` now (`POST /api/v1/preauthkey/expire`).
    /// Headscale 0.29.2 also answers success for an unknown ID.
    pub fn expire_preauth_key(&self, id: u64) -> Result<(), Error> {
        let body = serde_json::json!({ "id": id.to_string() });
        self.call::<serde_json::Value>(Method::POST, "/api/v1/preauthkey/expire", Some(&body))
            .map(drop)
    }

    /// Deletes the key with ID `id` (`DELETE /api/v1/preauthkey?id=N`).
    pub fn delete_preauth_key(&self, id: u64) -> Result<(), Error> {
        self.call::<serde_json::Value>(Method::DELETE, &format!("/api/v1/preauthkey?id={id}"), None)
            .map(drop)
    }

    /// Every API key, by its display prefix (`GET /api/v1/apikey`).
    pub fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>, Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Keys {
            #[serde(default, deserialize_with = "nullable")]
            api_keys: Vec<ApiKeyInfo>,
        }
        let keys: Keys = self.call(Method::GET, "/api/v1/apikey", None)?;
        Ok(keys.api_keys)
    }

    /// Creates an API key valid until `expiration` (`POST /api/v1/apikey`);
    /// the answer holds the whole key, the only time Headscale shows it.
    pub fn create_api_key(&self, expiration: SystemTime) -> Result<Secret, Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            api_key: String,
        }
        let body = serde_json::json!({ "expiration": Timestamp(expiration).rfc3339() });
        let created: Created = self.call(Method::POST, "/api/v1/apikey", Some(&body))?;
        Ok(Secret::new(created.api_key))
    }

    /// Expires the API key whose prefix is `prefix` now
    /// (`POST /api/v1/apikey/expire`).
    pub fn expire_api_key(&self, prefix: &str) -> Result<(), Error> {
        let body = serde_json::json!({ "prefix": prefix });
        self.call::<serde_json::Value>(Method::POST, "/api/v1/apikey/expire", Some(&body))
            .map(drop)
    }

    /// Every node, or those of the user named `user` (`GET /api/v1/node`).
    pub fn list_nodes(&self, user: Option<&str>) -> Result<Vec<Node>, Error> {
        #[derive(Deserialize)]
        struct Nodes {
            #[serde(default, deserialize_with = "nullable")]
            nodes: Vec<Node>,
        }
        let path = match user {
            Some(user) => format!("/api/v1/node?user={}", query_escape(user)),
            None => "/api/v1/node".to_owned(),
        };
        let nodes: Nodes = self.call(Method::GET, &path, None)?;
        Ok(nodes.nodes)
    }

    /// The node with ID `id` (`GET /api/v1/node/{id}`).
    pub fn get_node(&self, id: u64) -> Result<Node, Error> {
        let node: NodeAnswer = self.call(Method::GET, &format!("/api/v1/node/{id}"), None)?;
        Ok(node.node)
    }

    /// Replaces the tags of node `id` (`POST /api/v1/node/{id}/tags`). At
    /// least one tag; a user's node becomes a tagged node for good.
    pub fn set_node_tags(&self, id: u64, tags: &[String]) -> Result<Node, Error> {
        let body = serde_json::json!({ "tags": tags });
        let node: NodeAnswer = self.call(
            Method::POST,
            &format!("/api/v1/node/{id}/tags"),
            Some(&body),
        )?;
        Ok(node.node)
    }

    /// The policy (`GET /api/v1/policy`). In database mode, a Headscale
    /// that never held a policy answers HTTP 500 `acl policy not found`:
    /// that is an empty policy here (allow-all, as Headscale enforces it).
    pub fn get_policy(&self) -> Result<Policy, Error> {
        match self.call(Method::GET, "/api/v1/policy", None) {
            Err(Error::Api { message, .. }) if message.ends_with(POLICY_NOT_FOUND) => Ok(Policy {
                policy: String::new(),
                updated_at: None,
            }),
            answer => answer,
        }
    }

    /// Sets the policy to the HuJSON text `policy` (`PUT /api/v1/policy`;
    /// only in `policy.mode: database`). A policy Headscale refuses is
    /// [`Error::PolicyRejected`] with its message verbatim.
    pub fn set_policy(&self, policy: &str) -> Result<Policy, Error> {
        let body = serde_json::json!({ "policy": policy });
        self.call(Method::PUT, "/api/v1/policy", Some(&body))
            .map_err(policy_error)
    }

    /// Checks `policy` against the live users and nodes, its `tests`
    /// included, without setting it (`POST /api/v1/policy/check`; works in
    /// either policy mode).
    pub fn check_policy(&self, policy: &str) -> Result<(), Error> {
        let body = serde_json::json!({ "policy": policy });
        self.call::<serde_json::Value>(Method::POST, "/api/v1/policy/check", Some(&body))
            .map(drop)
            .map_err(policy_error)
    }

    /// `method path` with `body`, authenticated; the 2xx answer parsed as `T`.
    fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, Error> {
        let (status, location, text) = self.send(method.clone(), path, body, true)?;
        if !(200..300).contains(&status) {
            return Err(self.failure(&method, path, status, location, &text));
        }
        serde_json::from_str(&text).map_err(|e| Error::Decode {
            method: method.to_string(),
            path: path.to_owned(),
            url: self.base.clone(),
            reason: e.to_string(),
        })
    }

    /// Sends one request: its status, `Location` header and body.
    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        authenticated: bool,
    ) -> Result<(u16, Option<String>, String), Error> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if authenticated {
            request = request.bearer_auth(self.key.expose());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .map_err(|e| self.transport(&method, path, &e))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let text = response
            .text()
            .map_err(|e| self.transport(&method, path, &e))?;
        Ok((status, location, text))
    }

    /// The error of a request that got no answer.
    fn transport(&self, method: &Method, path: &str, error: &reqwest::Error) -> Error {
        let url = self.base.clone();
        if error.is_timeout() {
            Error::Timeout {
                url,
                method: method.to_string(),
                path: path.to_owned(),
                timeout: self.timeout,
            }
        } else if refused(error) {
            Error::NotRunning { url }
        } else if error.is_connect() {
            Error::Connect {
                url,
                reason: chain(error),
            }
        } else {
            Error::Http {
                method: method.to_string(),
                path: path.to_owned(),
                url,
                reason: chain(error),
            }
        }
    }

    /// The error of a non-2xx answer.
    fn failure(
        &self,
        method: &Method,
        path: &str,
        status: u16,
        location: Option<String>,
        body: &str,
    ) -> Error {
        let url = self.base.clone();
        let method = method.to_string();
        let path = path.to_owned();
        let (code, message) = match serde_json::from_str::<Status>(body) {
            Ok(Status {
                code,
                message: Some(message),
            }) => (code, message),
            _ => (None, excerpt(body)),
        };
        match status {
            401 | 403 => Error::Unauthorized {
                reference: self.key.reference().to_owned(),
                url,
                status,
            },
            404 => Error::NotFound {
                method,
                path,
                url,
                message,
            },
            300..=399 => Error::Redirect {
                method,
                path,
                url,
                location: location.unwrap_or_default(),
            },
            _ => Error::Api {
                method,
                path,
                url,
                status,
                code,
                message,
            },
        }
    }
}

/// The answer of the node calls: `{"node":{…}}`.
#[derive(Deserialize)]
struct NodeAnswer {
    node: Node,
}

/// A policy call's failure: Headscale's refusal, named.
/// How Headscale's database says it holds no policy
/// (`types.ErrPolicyNotFound`).
const POLICY_NOT_FOUND: &str = "acl policy not found";

fn policy_error(error: Error) -> Error {
    match error {
        Error::Api { message, .. }
            if message.contains("update is disabled for modes other than") =>
        {
            Error::PolicyNotInDatabase { message }
        }
        Error::Api { message, .. } => Error::PolicyRejected { message },
        other => other,
    }
}

/// The first line of a non-JSON error body, at most 200 characters.
fn excerpt(body: &str) -> String {
    let line = body.trim().lines().next().unwrap_or_default();
    match line.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None if line.is_empty() => "(empty answer)".to_owned(),
        None => line.to_owned(),
    }
}

/// `text` percent-encoded for a query value.
fn query_escape(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The API key, from its secret reference.

/// Why the API key could not be read. Messages name the reference, never
/// the value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The setting is not `file:`, `env:` or `keychain:` (it is not
    /// repeated: it may be the key itself).
    #[error(
        "`headscale.api_key` is not a secret reference: write `file:PATH`, `env:NAME` or `keychain:ITEM`"
    )]
    NotAReference,
    /// `env:VAR` with VAR unset or empty.
    #[error(
        "the Headscale API key reference `{reference}` names the environment variable {var}, which is not set: export {var}=… (a key from `headscale apikeys create`) and run privai again"
    )]
    EnvNotSet {
        /// The reference.
        reference: String,
        /// The variable.
        var: String,
    },
    /// `file:~/…` without a home directory.
    #[error("the Headscale API key reference `{reference}` starts with `~/`, but HOME is not set")]
    NoHome {
        /// The reference.
        reference: String,
    },
    /// The file cannot be read.
    #[error(
        "cannot read the Headscale API key from `{path}` (`{reference}`): {reason}; store a key from `headscale apikeys create` there (mode 600)"
    )]
    File {
        /// The reference.
        reference: String,
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file, variable or item holds nothing.
    #[error(
        "`{reference}` holds no Headscale API key (it is empty): store a key from `headscale apikeys create` there"
    )]
    Empty {
        /// The reference.
        reference: String,
    },
    /// `keychain:` off macOS.
    #[error(
        "`{reference}`: keychain is read only on macOS; on this system store the key in a file (`file:~/.config/privai/secrets/headscale-api-key`, mode 600) or an environment variable (`env:HEADSCALE_API_KEY`)"
    )]
    KeychainNotHere {
        /// The reference.
        reference: String,
    },
    /// `security find-generic-password` failed.
    #[error(
        "cannot read the Headscale API key from the keychain (`{reference}`): {reason}; add it with `security add-generic-password -a privai -s {item} -w`"
    )]
    Keychain {
        /// The reference.
        reference: String,
        /// The item.
        item: String,
        /// Why.
        reason: String,
    },
}

/// Where secret references are read: the environment, the home directory,
/// the macOS keychain. [`SystemSecrets`] reads the real ones; tests fake them.
pub trait Secrets {
    /// The value of the environment variable `name`.
    fn var(&self, name: &str) -> Option<OsString>;
    /// The home directory, for `~/`.
    fn home(&self) -> Option<PathBuf>;
    /// The password of the keychain item `item`, or why not.
    fn keychain(&mut self, item: &str) -> Result<String, KeychainError>;
}

/// Why a keychain item could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeychainError {
    /// Not on macOS.
    NotHere,
    /// `security` failed; why.
    Failed(String),
}

/// The real [`Secrets`]: the process environment, `HOME`, and on macOS the
/// keychain through `security`, run by `runner`.
#[derive(Debug, Clone)]
pub struct SystemSecrets<R: Runner = SystemRunner> {
    /// Runs `security`.
    pub runner: R,
    /// Whether this is macOS (the only system with a keychain).
    pub macos: bool,
}

impl Default for SystemSecrets {
    fn default() -> Self {
        Self {
            runner: SystemRunner,
            macos: cfg!(target_os = "macos"),
        }
    }
}

impl<R: Runner> Secrets for SystemSecrets<R> {
    fn var(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }

    fn home(&self) -> Option<PathBuf> {
        std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(PathBuf::from)
    }

    fn keychain(&mut self, item: &str) -> Result<String, KeychainError> {
        read_keychain(&mut self.runner, self.macos, item)
    }
}

/// The argv that prints the password of the keychain item `item`.
pub fn keychain_argv(item: &str) -> Vec<String> {
    ["security", "find-generic-password", "-w", "-s", item]
        .map(String::from)
        .to_vec()
}

/// The password of the keychain item `item`, read with `runner` — only on
/// macOS (`macos`); the trailing newline `security` prints is removed.
pub fn read_keychain(
    runner: &mut dyn Runner,
    macos: bool,
    item: &str,
) -> Result<String, KeychainError> {
    if !macos {
        return Err(KeychainError::NotHere);
    }
    let output = runner
        .run(&keychain_argv(item))
        .map_err(|e| KeychainError::Failed(format!("cannot run `security`: {e}")))?;
    match output.status {
        0 => Ok(output.stdout.trim_end_matches(['\r', '\n']).to_owned()),
        // errSecItemNotFound, as `security` reports it.
        44 => Err(KeychainError::Failed(format!("no keychain item `{item}`"))),
        status => Err(KeychainError::Failed(format!(
            "`security find-generic-password` exited {status}: {}",
            output.stderr.trim()
        ))),
    }
}

/// Reads the API key `reference` names: `file:PATH` (`~/` is the home
/// directory; surrounding whitespace is dropped), `env:VAR`, or
/// `keychain:ITEM` (macOS only).
pub fn resolve_api_key(reference: &str, secrets: &mut dyn Secrets) -> Result<ApiKey, KeyError> {
    let value = match reference.split_once(':') {
        Some(("env", var)) if !var.is_empty() => {
            match secrets.var(var).filter(|value| !value.is_empty()) {
                Some(value) => value.to_string_lossy().into_owned(),
                None => {
                    return Err(KeyError::EnvNotSet {
                        reference: reference.to_owned(),
                        var: var.to_owned(),
                    });
                }
            }
        }
        Some(("file", path)) if !path.is_empty() => {
            let path = match path.strip_prefix("~/") {
                Some(rest) => secrets
                    .home()
                    .ok_or_else(|| KeyError::NoHome {
                        reference: reference.to_owned(),
                    })?
                    .join(rest),
                None => PathBuf::from(path),
            };
            let bytes = std::fs::read(&path).map_err(|e| KeyError::File {
                reference: reference.to_owned(),
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            String::from_utf8(bytes).map_err(|_| KeyError::File {
                reference: reference.to_owned(),
                path: path.display().to_string(),
                reason: "it is not UTF-8 text".to_owned(),
            })?
        }
        Some(("keychain", item)) if !item.trim().is_empty() => match secrets.keychain(item) {
            Ok(value) => value,
            Err(KeychainError::NotHere) => {
                return Err(KeyError::KeychainNotHere {
                    reference: reference.to_owned(),
                });
            }
            Err(KeychainError::Failed(reason)) => {
                return Err(KeyError::Keychain {
                    reference: reference.to_owned(),
                    item: item.to_owned(),
                    reason,
                });
            }
        },
        _ => return Err(KeyError::NotAReference),
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(KeyError::Empty {
            reference: reference.to_owned(),
        });
    }
    Ok(ApiKey::new(value, reference))
}

// ---------------------------------------------------------------------------
// Decisions: pure functions of the spec and what the API listed.

/// The users of `spec` that `existing` lacks (matched by name), in spec order.
pub fn users_to_create(spec: &[crate::model::User], existing: &[User]) -> Vec<NewUser> {
    let names: BTreeSet<&str> = existing.iter().map(|user| user.name.as_str()).collect();
    spec.iter()
        .filter(|user| !names.contains(user.name.as_str()))
        .map(NewUser::of)
        .collect()
}

/// Why a user the spec does not declare is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// Deleting needs `--prune`.
    NoPrune,
    /// It owns these nodes (by given name); Headscale refuses to delete it.
    OwnsNodes(Vec<String>),
    /// It was created by an OpenID Connect login, not by privai.
    Oidc,
}

/// The users the spec does not declare: those to delete and those kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserDeletions {
    /// To delete.
    pub delete: Vec<User>,
    /// Kept, and why.
    pub kept: Vec<(User, Kept)>,
}

/// What to do with the users in `existing` that `spec` does not declare:
/// delete them only with `prune`, and never one that owns a node in
/// `nodes`, an OIDC user, or the synthetic [`TAGGED_DEVICES`] user (which
/// is left out of the answer). In `existing`'s order.
pub fn users_to_delete(
    spec: &[crate::model::User],
    existing: &[User],
    nodes: &[Node],
    prune: bool,
) -> UserDeletions {
    let declared: BTreeSet<&str> = spec.iter().map(|user| user.name.as_str()).collect();
    let mut out = UserDeletions::default();
    for user in existing {
        if declared.contains(user.name.as_str()) || user.id == TAGGED_DEVICES_ID {
            continue;
        }
        let owned: Vec<String> = nodes
            .iter()
            .filter(|node| node.user.as_ref().is_some_and(|owner| owner.id == user.id))
            .map(|node| node_label(node).to_owned())
            .collect();
        let kept = if user.provider == "oidc" {
            Some(Kept::Oidc)
        } else if !owned.is_empty() {
            // Said with or without `--prune`, which would not delete it.
            Some(Kept::OwnsNodes(owned))
        } else if !prune {
            Some(Kept::NoPrune)
        } else {
            None
        };
        match kept {
            Some(why) => out.kept.push((user.clone(), why)),
            None => out.delete.push(user.clone()),
        }
    }
    out
}

/// A node's name as people know it: its given name, else its hostname.
fn node_label(node: &Node) -> &str {
    if node.given_name.is_empty() {
        &node.name
    } else {
        &node.given_name
    }
}

/// privai's record of the pre-auth key it created for each device: device
/// name → key ID. Kept in privai's state; see the module docs.
pub type KeyRecords = BTreeMap<String, u64>;

/// Whether `device` joins with a pre-auth key. The iOS app cannot take
/// one: an iPhone or iPad joins interactively (`headscale auth register`).
pub fn joins_with_key(device: &Device) -> bool {
    device.os != DeviceOs::Ios
}

/// `tags` sorted, without duplicates, as Headscale stores them.
pub fn normalized_tags(tags: &[String]) -> Vec<String> {
    tags.iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Whether `key` is the key privai would create for `device`: of the
/// device's user, with its tags, its ephemerality and its reuse.
pub fn key_fits(key: &PreAuthKey, device: &Device) -> bool {
    key.reusable == device.reusable
        && key.ephemeral == device.ephemeral
        && key.user_name() == Some(device.user.as_str())
        && normalized_tags(&key.acl_tags) == normalized_tags(&device.tags)
}

/// The node of `device`, if it has joined: the node registered with its
/// recorded key `record`, else one named like the device (hostname or
/// given name, ignoring case) that belongs to the device's user or is
/// tagged.
pub fn device_node<'a>(
    device: &Device,
    nodes: &'a [Node],
    record: Option<u64>,
) -> Option<&'a Node> {
    let by_key = record.and_then(|id| {
        nodes
            .iter()
            .find(|node| node.pre_auth_key.as_ref().is_some_and(|key| key.id == id))
    });
    by_key.or_else(|| {
        nodes.iter().find(|node| {
            let named = node.name.eq_ignore_ascii_case(&device.name)
                || node.given_name.eq_ignore_ascii_case(&device.name);
            named && (node.owner() == Some(device.user.as_str()) || node.is_tagged())
        })
    })
}

/// Why a pre-auth key is expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryReason {
    /// Its device left the spec.
    DeviceRemoved,
    /// Its device has joined; the key is not needed any more.
    Joined,
    /// It no longer fits its device (user, tags or ephemerality changed);
    /// a new key replaces it.
    Replaced,
    /// Its device now joins without a key (iOS).
    NoKeyNeeded,
}

/// A recorded key to expire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyExpiry {
    /// The key's ID.
    pub key: u64,
    /// The device it was recorded for.
    pub device: String,
    /// Why.
    pub reason: ExpiryReason,
}

/// What to do about pre-auth keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyDecisions {
    /// Devices that need a new key, in spec order.
    pub create: Vec<String>,
    /// Recorded keys to expire, in device order.
    pub expire: Vec<KeyExpiry>,
    /// Records to drop once the expiries are done (no API write): of
    /// devices that left the spec or join without a key, and of keys
    /// Headscale no longer lists.
    pub forget: Vec<String>,
}

impl KeyDecisions {
    /// Whether nothing is to be done.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.expire.is_empty() && self.forget.is_empty()
    }
}

/// Decides, at `now`, which devices of `devices` need a pre-auth key —
/// those that join with one, have not joined (per `nodes`) and have no
/// recorded key that is usable and fits — and which recorded keys to
/// expire: the still usable ones of devices that left the spec, have
/// joined, need a different key, or join without one. Keys not in
/// `records` are never touched. An expired or used key needs no write, so
/// a second run after the writes decides nothing.
pub fn key_decisions(
    devices: &[Device],
    nodes: &[Node],
    keys: &[PreAuthKey],
    records: &KeyRecords,
    now: SystemTime,
) -> KeyDecisions {
    let key_by_id = |id: u64| keys.iter().find(|key| key.id == id);
    let mut out = KeyDecisions::default();
    let mut expire = |key: Option<&PreAuthKey>, device: &str, reason| {
        if let Some(key) = key.filter(|key| key.is_usable(now)) {
            out.expire.push(KeyExpiry {
                key: key.id,
                device: device.to_owned(),
                reason,
            });
        }
    };
    let mut create = Vec::new();
    for device in devices {
        let record = records.get(&device.name).copied();
        let recorded = record.and_then(key_by_id);
        if !joins_with_key(device) {
            expire(recorded, &device.name, ExpiryReason::NoKeyNeeded);
        } else if device_node(device, nodes, record).is_some() {
            // A reusable key is there to join again (ephemeral CI runners).
            if !device.reusable {
                expire(recorded, &device.name, ExpiryReason::Joined);
            }
        } else if !recorded.is_some_and(|key| key.is_usable(now) && key_fits(key, device)) {
            create.push(device.name.clone());
            expire(recorded, &device.name, ExpiryReason::Replaced);
        }
    }
    for (name, id) in records {
        if !devices.iter().any(|device| &device.name == name) {
            expire(key_by_id(*id), name, ExpiryReason::DeviceRemoved);
        }
    }
    out.create = create;
    out.forget = records
        .iter()
        .filter(|(name, id)| {
            let device = devices.iter().find(|device| &device.name == *name);
            key_by_id(**id).is_none() || !device.is_some_and(joins_with_key)
        })
        .map(|(name, _)| name.clone())
        .collect();
    out
}

/// A change to a joined device's node tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagChange {
    /// Set the node's tags to `tags` ([`Client::set_node_tags`]).
    Set {
        /// The node's ID.
        node: u64,
        /// The device.
        device: String,
        /// The tags, sorted.
        tags: Vec<String>,
    },
    /// The node has tags the spec no longer gives the device; the API
    /// cannot take them away (the device must re-join: `tailscale up
    /// --advertise-tags= --force-reauth`).
    CannotUntag {
        /// The node's ID.
        node: u64,
        /// The device.
        device: String,
        /// The node's tags now.
        tags: Vec<String>,
    },
}

/// The tag changes of the joined devices of `devices` whose node's tags
/// differ from the spec's (as sets), in spec order.
pub fn tag_changes(devices: &[Device], nodes: &[Node], records: &KeyRecords) -> Vec<TagChange> {
    let mut out = Vec::new();
    for device in devices {
        let Some(node) = device_node(device, nodes, records.get(&device.name).copied()) else {
            continue;
        };
        let wanted = normalized_tags(&device.tags);
        let has = normalized_tags(&node.tags);
        if wanted == has {
            continue;
        }
        out.push(if wanted.is_empty() {
            TagChange::CannotUntag {
                node: node.id,
                device: device.name.clone(),
                tags: has,
            }
        } else {
            TagChange::Set {
                node: node.id,
                device: device.name.clone(),
                tags: wanted,
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DeviceKind;
    use crate::sys::{Recorder, RunOutput};

    const HOUR: Duration = Duration::from_secs(3600);

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_000_000)
    }

    fn spec_user(name: &str) -> crate::model::User {
        crate::model::User {
            name: name.to_owned(),
            display_name: None,
            email: None,
        }
    }

    fn user(id: u64, name: &str) -> User {
        User {
            id,
            name: name.to_owned(),
            display_name: String::new(),
            email: String::new(),
            provider: String::new(),
            created_at: None,
        }
    }

    fn device(name: &str, user: &str, os: DeviceOs, tags: &[&str]) -> Device {
        Device {
            name: name.to_owned(),
            user: user.to_owned(),
            kind: DeviceKind::Laptop,
            os,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            tailnet_ip: None,
            ephemeral: false,
            reusable: false,
        }
    }

    fn laptop(name: &str, user: &str) -> Device {
        device(name, user, DeviceOs::Linux, &[])
    }

    fn key(id: u64, owner: &str, expires: SystemTime) -> PreAuthKey {
        PreAuthKey {
            id,
            user: Some(user(1, owner)),
            key: Secret::new(format!("hskey-auth-prefix{id:05}-***")),
            reusable: false,
            ephemeral: false,
            used: false,
            expiration: Some(Timestamp(expires)),
            created_at: None,
            acl_tags: Vec::new(),
        }
    }

    fn node(id: u64, name: &str, owner: User, tags: &[&str]) -> Node {
        Node {
            id,
            name: name.to_owned(),
            given_name: name.to_owned(),
            user: Some(owner),
            ip_addresses: vec!["100.64.0.1".to_owned()],
            online: true,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            pre_auth_key: None,
            register_method: "REGISTER_METHOD_AUTH_KEY".to_owned(),
            last_seen: None,
            expiry: None,
            created_at: None,
            approved_routes: Vec::new(),
            available_routes: Vec::new(),
        }
    }

    fn records(pairs: &[(&str, u64)]) -> KeyRecords {
        pairs.iter().map(|(d, k)| (d.to_string(), *k)).collect()
    }

    fn expiry(key: u64, device: &str, reason: ExpiryReason) -> KeyExpiry {
        KeyExpiry {
            key,
            device: device.to_owned(),
            reason,
        }
    }

    #[test]
    fn only_missing_users_are_created_in_spec_order() {
        let spec = [spec_user("carol"), spec_user("alice"), spec_user("bob")];
        let existing = [user(1, "alice"), user(2, "dave")];
        let names: Vec<_> = users_to_create(&spec, &existing)
            .into_iter()
            .map(|u| u.name)
            .collect();
        assert_eq!(names, ["carol", "bob"]);
        assert_eq!(users_to_create(&spec[1..2], &existing), vec![]);
    }

    #[test]
    fn a_new_user_carries_display_name_and_email_and_omits_empty_ones() {
        let mut alice = spec_user("alice");
        alice.display_name = Some("Alice A.".to_owned());
        assert_eq!(
            serde_json::to_value(NewUser::of(&alice)).unwrap(),
            serde_json::json!({"name": "alice", "displayName": "Alice A."})
        );
    }

    #[test]
    fn users_are_deleted_only_with_prune_and_never_while_they_own_nodes() {
        let spec = [spec_user("alice")];
        let mut oidc = user(5, "erin");
        oidc.provider = "oidc".to_owned();
        let existing = [
            user(1, "alice"),
            user(2, "bob"),
            user(3, "carol"),
            user(TAGGED_DEVICES_ID, TAGGED_DEVICES),
            oidc.clone(),
        ];
        let nodes = [node(7, "carol-laptop", user(3, "carol"), &[])];
        assert_eq!(
            users_to_delete(&spec, &existing, &nodes, false),
            UserDeletions {
                delete: vec![],
                kept: vec![
                    (user(2, "bob"), Kept::NoPrune),
                    // Not "`--prune` deletes it": it would not.
                    (
                        user(3, "carol"),
                        Kept::OwnsNodes(vec!["carol-laptop".to_owned()])
                    ),
                    (oidc.clone(), Kept::Oidc),
                ],
            }
        );
        assert_eq!(
            users_to_delete(&spec, &existing, &nodes, true),
            UserDeletions {
                delete: vec![user(2, "bob")],
                kept: vec![
                    (
                        user(3, "carol"),
                        Kept::OwnsNodes(vec!["carol-laptop".to_owned()])
                    ),
                    (oidc, Kept::Oidc),
                ],
            }
        );
    }

    #[test]
    fn a_device_without_a_node_or_a_recorded_key_needs_one() {
        let devices = [laptop("a", "alice"), laptop("b", "bob")];
        let got = key_decisions(&devices, &[], &[], &KeyRecords::new(), now());
        assert_eq!(
            got,
            KeyDecisions {
                create: vec!["a".to_owned(), "b".to_owned()],
                ..KeyDecisions::default()
            }
        );
    }

    #[test]
    fn a_recorded_usable_fitting_key_is_enough_and_nothing_is_written() {
        let devices = [laptop("a", "alice")];
        let keys = [key(4, "alice", now() + HOUR)];
        let got = key_decisions(&devices, &[], &keys, &records(&[("a", 4)]), now());
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn an_unrecorded_key_never_counts_and_is_never_touched() {
        let devices = [laptop("a", "alice")];
        let keys = [key(4, "alice", now() + HOUR)];
        let got = key_decisions(&devices, &[], &keys, &KeyRecords::new(), now());
        assert_eq!(got.create, ["a"]);
        assert_eq!(got.expire, vec![]);
    }

    #[test]
    fn an_expired_used_or_vanished_recorded_key_is_replaced() {
        let devices = [
            laptop("a", "alice"),
            laptop("b", "alice"),
            laptop("c", "alice"),
        ];
        let mut used = key(5, "alice", now() + HOUR);
        used.used = true;
        let keys = [key(4, "alice", now()), used];
        let got = key_decisions(
            &devices,
            &[],
            &keys,
            &records(&[("a", 4), ("b", 5), ("c", 6)]),
            now(),
        );
        assert_eq!(
            got,
            KeyDecisions {
                create: vec!["a".to_owned(), "b".to_owned(), "c".to_owned()],
                expire: vec![],
                forget: vec!["c".to_owned()],
            }
        );
    }

    #[test]
    fn a_key_that_no_longer_fits_is_replaced_and_expired() {
        let mut tagged = device("a", "alice", DeviceOs::Linux, &["tag:server"]);
        tagged.ephemeral = false;
        let mut other_user = key(5, "bob", now() + HOUR);
        other_user.acl_tags = vec!["tag:server".to_owned()];
        let keys = [key(4, "alice", now() + HOUR), other_user];
        let devices = [tagged, laptop("b", "alice")];
        let got = key_decisions(&devices, &[], &keys, &records(&[("a", 4), ("b", 5)]), now());
        assert_eq!(
            got,
            KeyDecisions {
                create: vec!["a".to_owned(), "b".to_owned()],
                expire: vec![
                    expiry(4, "a", ExpiryReason::Replaced),
                    expiry(5, "b", ExpiryReason::Replaced),
                ],
                forget: vec![],
            }
        );
    }

    #[test]
    fn tags_fit_as_sets_and_ephemerality_and_reuse_must_match() {
        let device = device("a", "alice", DeviceOs::Linux, &["tag:b", "tag:a", "tag:b"]);
        let mut fitting = key(1, "alice", now() + HOUR);
        fitting.acl_tags = vec!["tag:a".to_owned(), "tag:b".to_owned()];
        assert!(key_fits(&fitting, &device));
        let mut reusable = fitting.clone();
        reusable.reusable = true;
        assert!(!key_fits(&reusable, &device));
        let mut reusing = device.clone();
        reusing.reusable = true;
        assert!(key_fits(&reusable, &reusing));
        assert!(!key_fits(&fitting, &reusing));
        let mut ephemeral = fitting.clone();
        ephemeral.ephemeral = true;
        assert!(!key_fits(&ephemeral, &device));
        let mut tagless = fitting;
        tagless.user = None;
        assert!(!key_fits(&tagless, &device));
    }

    #[test]
    fn a_joined_device_needs_no_key_and_its_usable_key_is_expired() {
        let devices = [laptop("a", "alice"), laptop("b", "alice")];
        let mut used = key(5, "alice", now() + HOUR);
        used.used = true;
        let keys = [key(4, "alice", now() + HOUR), used];
        let nodes = [
            node(1, "A", user(1, "alice"), &[]),
            node(2, "b", user(1, "alice"), &[]),
        ];
        let got = key_decisions(
            &devices,
            &nodes,
            &keys,
            &records(&[("a", 4), ("b", 5)]),
            now(),
        );
        assert_eq!(
            got,
            KeyDecisions {
                create: vec![],
                expire: vec![expiry(4, "a", ExpiryReason::Joined)],
                forget: vec![],
            }
        );
    }

    #[test]
    fn a_reusable_key_is_kept_once_its_device_has_joined_so_it_can_join_again() {
        let mut runner = laptop("a", "alice");
        runner.reusable = true;
        runner.ephemeral = true;
        let mut reusable = key(4, "alice", now() + HOUR);
        reusable.reusable = true;
        reusable.ephemeral = true;
        reusable.used = true;
        let nodes = [node(1, "a", user(1, "alice"), &[])];
        let decide = |nodes: &[Node]| {
            key_decisions(
                std::slice::from_ref(&runner),
                nodes,
                std::slice::from_ref(&reusable),
                &records(&[("a", 4)]),
                now(),
            )
        };
        assert_eq!(decide(&nodes), KeyDecisions::default());
        // Gone offline and removed (ephemeral): the key still fits and joins.
        assert_eq!(decide(&[]), KeyDecisions::default());
    }

    #[test]
    fn a_node_of_another_user_with_the_same_name_is_not_the_device() {
        let devices = [laptop("a", "alice")];
        let nodes = [node(1, "a", user(2, "bob"), &[])];
        assert_eq!(device_node(&devices[0], &nodes, None), None);
        let tagged = [node(
            1,
            "a",
            user(TAGGED_DEVICES_ID, TAGGED_DEVICES),
            &["tag:x"],
        )];
        assert_eq!(
            device_node(&devices[0], &tagged, None).map(|n| n.id),
            Some(1)
        );
        let mut by_key = node(9, "renamed", user(2, "bob"), &[]);
        by_key.pre_auth_key = Some(key(4, "alice", now()));
        assert_eq!(
            device_node(&devices[0], &[by_key], Some(4)).map(|n| n.id),
            Some(9)
        );
    }

    #[test]
    fn keys_of_removed_devices_are_expired_if_usable_and_their_records_dropped() {
        let mut used = key(5, "alice", now() + HOUR);
        used.used = true;
        let keys = [key(4, "alice", now() + HOUR), used, key(6, "alice", now())];
        let got = key_decisions(
            &[],
            &[],
            &keys,
            &records(&[
                ("gone", 4),
                ("gone-used", 5),
                ("gone-expired", 6),
                ("gone-deleted", 7),
            ]),
            now(),
        );
        assert_eq!(
            got,
            KeyDecisions {
                create: vec![],
                expire: vec![expiry(4, "gone", ExpiryReason::DeviceRemoved)],
                forget: vec![
                    "gone".to_owned(),
                    "gone-deleted".to_owned(),
                    "gone-expired".to_owned(),
                    "gone-used".to_owned(),
                ],
            }
        );
    }

    #[test]
    fn ios_devices_join_without_a_key() {
        let phone = device("phone", "alice", DeviceOs::Ios, &[]);
        let android = device("android", "alice", DeviceOs::Android, &[]);
        assert!(!joins_with_key(&phone));
        assert!(joins_with_key(&android));
        let keys = [key(4, "alice", now() + HOUR)];
        let got = key_decisions(
            &[phone, android],
            &[],
            &keys,
            &records(&[("phone", 4)]),
            now(),
        );
        assert_eq!(
            got,
            KeyDecisions {
                create: vec!["android".to_owned()],
                expire: vec![expiry(4, "phone", ExpiryReason::NoKeyNeeded)],
                forget: vec!["phone".to_owned()],
            }
        );
    }

    #[test]
    fn after_the_writes_a_second_decision_is_empty() {
        let devices = [laptop("a", "alice")];
        // The first run created key 8 for `a` and expired key 4 of `gone`.
        let mut expired = key(4, "alice", now());
        expired.expiration = Some(Timestamp(now()));
        let keys = [expired, key(8, "alice", now() + HOUR)];
        let got = key_decisions(&devices, &[], &keys, &records(&[("a", 8)]), now());
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn a_key_for_a_device_has_its_user_tags_and_an_expiration() {
        let mut device = device("a", "alice", DeviceOs::Linux, &["tag:b", "tag:a"]);
        device.ephemeral = true;
        let key = NewPreAuthKey::for_device(&device, 3, UNIX_EPOCH + Duration::from_secs(86_400));
        assert_eq!(
            key.body(),
            serde_json::json!({
                "user": "3",
                "reusable": false,
                "ephemeral": true,
                "expiration": "1970-01-02T00:00:00Z",
                "aclTags": ["tag:a", "tag:b"],
            })
        );
    }

    #[test]
    fn node_tags_are_set_when_they_differ_and_cannot_be_removed() {
        let devices = [
            device("same", "alice", DeviceOs::Linux, &["tag:a"]),
            device("more", "alice", DeviceOs::Linux, &["tag:b", "tag:a"]),
            device("fewer", "alice", DeviceOs::Linux, &[]),
            device("absent", "alice", DeviceOs::Linux, &["tag:a"]),
        ];
        let tagged = || user(TAGGED_DEVICES_ID, TAGGED_DEVICES);
        let nodes = [
            node(1, "same", tagged(), &["tag:a"]),
            node(2, "more", tagged(), &["tag:a"]),
            node(3, "fewer", tagged(), &["tag:x"]),
        ];
        assert_eq!(
            tag_changes(&devices, &nodes, &KeyRecords::new()),
            vec![
                TagChange::Set {
                    node: 2,
                    device: "more".to_owned(),
                    tags: vec!["tag:a".to_owned(), "tag:b".to_owned()],
                },
                TagChange::CannotUntag {
                    node: 3,
                    device: "fewer".to_owned(),
                    tags: vec!["tag:x".to_owned()],
                },
            ]
        );
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

    /// Secrets from a table, with a scripted keychain.
    struct Fake {
        vars: BTreeMap<String, String>,
        home: Option<PathBuf>,
        keychain: Result<String, KeychainError>,
    }

    impl Secrets for Fake {
        fn var(&self, name: &str) -> Option<OsString> {
            self.vars.get(name).map(OsString::from)
        }
        fn home(&self) -> Option<PathBuf> {
            self.home.clone()
        }
        fn keychain(&mut self, _: &str) -> Result<String, KeychainError> {
            self.keychain.clone()
        }
    }

    fn fake() -> Fake {
        Fake {
            vars: BTreeMap::new(),
            home: None,
            keychain: Err(KeychainError::NotHere),
        }
    }

    #[test]
    fn the_key_is_read_from_env_and_file_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".config")).unwrap();
        std::fs::write(dir.path().join(".config/hs.key"), "hskey-api-x-y\n").unwrap();
        let mut secrets = fake();
        secrets.home = Some(dir.path().to_owned());
        secrets
            .vars
            .insert("HS_KEY".to_owned(), " hskey-api-a-b ".to_owned());
        let key = resolve_api_key("file:~/.config/hs.key", &mut secrets).unwrap();
        assert_eq!(
            (key.expose(), key.reference()),
            ("hskey-api-x-y", "file:~/.config/hs.key")
        );
        let absolute = format!("file:{}/.config/hs.key", dir.path().display());
        assert_eq!(
            resolve_api_key(&absolute, &mut secrets).unwrap().expose(),
            "hskey-api-x-y"
        );
        assert_eq!(
            resolve_api_key("env:HS_KEY", &mut secrets)
                .unwrap()
                .expose(),
            "hskey-api-a-b"
        );
    }

    #[test]
    fn an_unreadable_reference_names_the_fix_and_never_the_value() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("empty"), "\n").unwrap();
        let mut secrets = fake();
        let message = |r: &str, s: &mut Fake| resolve_api_key(r, s).unwrap_err().to_string();
        assert_eq!(
            message("env:HS_KEY", &mut secrets),
            "the Headscale API key reference `env:HS_KEY` names the environment variable HS_KEY, which is not set: export HS_KEY=… (a key from `headscale apikeys create`) and run privai again"
        );
        assert_eq!(
            message("file:~/k", &mut secrets),
            "the Headscale API key reference `file:~/k` starts with `~/`, but HOME is not set"
        );
        let empty = format!("file:{}/empty", dir.path().display());
        assert_eq!(
            message(&empty, &mut secrets),
            format!(
                "`{empty}` holds no Headscale API key (it is empty): store a key from `headscale apikeys create` there"
            )
        );
        assert!(
            message(
                &format!("file:{}/missing", dir.path().display()),
                &mut secrets
            )
            .starts_with("cannot read the Headscale API key from `")
        );
        let literal = message("hskey-api-abc-SECRET", &mut secrets);
        assert!(!literal.contains("SECRET"), "{literal}");
        assert!(literal.contains("is not a secret reference"));
        assert!(
            message("keychain:privai-headscale", &mut secrets)
                .contains("keychain is read only on macOS")
        );
    }

    #[test]
    fn the_keychain_is_read_with_security_on_macos_only() {
        let mut runner = Recorder::new().respond_when(
            keychain_argv("hs"),
            RunOutput {
                status: 0,
                stdout: "hskey-api-k-v\n".to_owned(),
                stderr: String::new(),
            },
        );
        assert_eq!(
            read_keychain(&mut runner, true, "hs"),
            Ok("hskey-api-k-v".to_owned())
        );
        assert_eq!(
            runner.command_lines(),
            ["security find-generic-password -w -s hs"]
        );
        assert_eq!(
            read_keychain(&mut runner, false, "hs"),
            Err(KeychainError::NotHere)
        );
        assert_eq!(runner.calls().len(), 1, "nothing runs off macOS");
        let mut missing = Recorder::new().fail_when(keychain_argv("nope"), 44, "not found");
        assert_eq!(
            read_keychain(&mut missing, true, "nope"),
            Err(KeychainError::Failed("no keychain item `nope`".to_owned()))
        );
        let mut secrets = SystemSecrets {
            runner,
            macos: true,
        };
        let key = resolve_api_key("keychain:hs", &mut secrets).unwrap();
        assert_eq!(key.expose(), "hskey-api-k-v");
        let mut off_macos = SystemSecrets {
            runner: Recorder::new(),
            macos: false,
        };
        assert!(matches!(
            resolve_api_key("keychain:hs", &mut off_macos),
            Err(KeyError::KeychainNotHere { .. })
        ));
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        let key = || ApiKey::new("k", "env:K");
        assert!(Client::new("http://127.0.0.1:8080", key()).is_ok());
        assert!(Client::new("http://[::1]:8080/", key()).is_ok());
        assert!(Client::new("http://localhost:8080", key()).is_ok());
        assert!(Client::new("https://hs.example.org", key()).is_ok());
        let refused = Client::new("http://hs.example.org", key()).unwrap_err();
        assert!(matches!(refused, Error::InsecureUrl { .. }), "{refused}");
        assert!(
            Client::builder("http://hs.example.org:8080", key())
                .resolve_to(IpAddr::from([127, 0, 0, 1]))
                .build()
                .is_ok()
        );
        assert!(matches!(
            Client::new("ftp://hs.example.org", key()),
            Err(Error::BadUrl { .. })
        ));
        assert!(matches!(
            Client::new("not a url", key()),
            Err(Error::BadUrl { .. })
        ));
        assert_eq!(
            Client::new("http://127.0.0.1:8080/", key()).unwrap().url(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(query_escape("alice@example.com"), "alice%40example.com");
        assert_eq!(query_escape("a b&c"), "a%20b%26c");
    }
}
