//! Headscale's REST API (v0.29.2: `/api/v1`, JSON as grpc-gateway emits
//! it), as a blocking [`Client`] with typed [`Error`]s. It lists what
//! Headscale holds as [`crate::observe::headscale`] records and writes what
//! [`crate::plan::headscale`] decided; it decides nothing itself.
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
//! # Errors
//!
//! Every [`Error`] names the fix: a rejected API key names the reference it
//! came from, a refused connection says Headscale is not running at the URL,
//! a rejected policy carries Headscale's message verbatim.

mod error;

pub use error::Error;

use crate::model::Device;
use crate::observe::headscale::nullable;
use crate::observe::headscale::{ApiKeyInfo, Node, Policy, PreAuthKey, Timestamp, User};
use crate::plan::headscale::{NewUser, normalized_tags};
use crate::secret::{ApiKey, Secret};
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};

/// The Headscale release this client follows.
pub const HEADSCALE_VERSION: &str = "0.29.2";

/// How long one call may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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

#[cfg(test)]
mod tests;
