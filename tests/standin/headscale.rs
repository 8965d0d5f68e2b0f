//! A stand-in for Headscale 0.29.2's REST API, on 127.0.0.1 only.
//!
//! It follows the API as documented (`shared/reference/headscale.md` §3):
//! the `/api/v1` paths, lowerCamelCase JSON with every field present (as
//! grpc-gateway emits it: unset messages `null`, uint64 IDs as strings,
//! RFC 3339 timestamps), error bodies `{"code":…,"message":…,"details":[]}`,
//! `401 Unauthorized` (plain text) for a missing or wrong bearer key, 404
//! `Not Found` for an unknown endpoint, and the 0.29.2 quirks a reconciler
//! meets: the key list holds every key, masked; a key created without an
//! expiration has Go's zero time and is expired; expiring an unknown key
//! succeeds; a user who owns nodes cannot be deleted; setting tags makes a
//! node tagged (owned by `tagged-devices`); the policy can be set only in
//! database mode. Where Headscale's exact wording is not documented, the
//! stand-in's messages are its own.
//!
//! State (users, keys, nodes, policy) lives in memory; every request is
//! logged (method and target) so that tests can assert that a second run
//! wrote nothing (`GET /version` answers `v0.29.2`); [`Standin::join`],
//! [`Standin::join_with_key`] and [`Standin::join_advertising`] play a
//! device registering. Documented endpoints the stand-in does not model
//! (rename, routes, API keys, auth register…) answer 501.
//!
//! [`Standin::start`] serves plain HTTP, as Headscale behind a reverse
//! proxy (`tls.mode = 'proxy`) does; [`Standin::start_tls`] serves HTTPS
//! only, with a given certificate, as Headscale terminating TLS itself
//! (`'self_signed`); the log says which session each request came over.

use super::{Request, Responder, Server, Tls, tls_config};
use serde_json::{Value, json};
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// The ID of the synthetic owner of tagged nodes in API output.
pub const TAGGED_DEVICES_ID: u64 = 2_147_455_555;

/// Go's zero time, as protojson writes it.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Top-level policy sections 0.29.2 accepts (§2.1).
const POLICY_SECTIONS: &[&str] = &[
    "groups",
    "hosts",
    "tagOwners",
    "acls",
    "grants",
    "nodeAttrs",
    "autoApprovers",
    "ssh",
    "tests",
    "sshTests",
    "randomizeClientPort",
];

/// One logged request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, with `?query` when there was one.
    pub path: String,
    /// The TLS session it came over; `None`: plain HTTP.
    pub tls: Option<Tls>,
}

impl Logged {
    /// Whether it could have changed state: anything but `GET`/`HEAD`.
    pub fn is_write(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD")
    }
}

#[derive(Debug, Clone)]
struct UserRow {
    id: u64,
    name: String,
    display_name: String,
    email: String,
    created_at: SystemTime,
}

#[derive(Debug, Clone)]
struct KeyRow {
    id: u64,
    user: Option<u64>,
    prefix: String,
    secret: String,
    reusable: bool,
    ephemeral: bool,
    used: bool,
    /// `None`: created without one (Go's zero time).
    expiration: Option<SystemTime>,
    created_at: SystemTime,
    acl_tags: Vec<String>,
}

impl KeyRow {
    fn full(&self) -> String {
        format!("hskey-auth-{}-{}", self.prefix, self.secret)
    }

    fn is_expired(&self, now: SystemTime) -> bool {
        self.expiration.is_none_or(|at| at <= now)
    }
}

#[derive(Debug, Clone)]
struct NodeRow {
    id: u64,
    name: String,
    given_name: String,
    /// `None`: a tagged node.
    user: Option<u64>,
    tags: Vec<String>,
    online: bool,
    key: Option<u64>,
    register_method: &'static str,
    created_at: SystemTime,
}

/// An API key: the one the stand-in starts with, and those made through
/// `POST /api/v1/apikey`.
#[derive(Debug)]
struct ApiKeyRow {
    id: u64,
    /// The whole key, `hskey-api-PREFIX-SECRET`.
    key: String,
    /// The 12 characters after `hskey-api-` (the whole key if it has none).
    prefix: String,
    expiration: Option<SystemTime>,
    created_at: SystemTime,
}

impl ApiKeyRow {
    fn new(id: u64, key: &str, expiration: Option<SystemTime>) -> Self {
        let prefix = key
            .strip_prefix("hskey-api-")
            .and_then(|rest| rest.get(..12))
            .unwrap_or(key)
            .to_owned();
        Self {
            id,
            key: key.to_owned(),
            prefix,
            expiration,
            created_at: SystemTime::now(),
        }
    }

    fn is_expired(&self, now: SystemTime) -> bool {
        self.expiration.is_some_and(|at| at <= now)
    }

    fn json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "prefix": format!("hskey-api-{}-***", self.prefix),
            "expiration": self.expiration.map_or_else(|| ZERO_TIME.to_owned(), ts),
            "createdAt": ts(self.created_at),
        })
    }
}

#[derive(Debug)]
struct State {
    api_keys: Vec<ApiKeyRow>,
    log: Vec<Logged>,
    users: Vec<UserRow>,
    keys: Vec<KeyRow>,
    nodes: Vec<NodeRow>,
    /// The policy text and when it was set.
    policy: Option<(String, SystemTime)>,
    /// `policy.mode: database` (else `file`).
    database_mode: bool,
    healthy: bool,
    /// Set: every policy set or check is refused with this message.
    policy_rejection: Option<String>,
    next_id: u64,
    random: RandomState,
}

impl State {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn user(&self, id: u64) -> Option<&UserRow> {
        self.users.iter().find(|u| u.id == id)
    }

    fn user_named(&self, name: &str) -> Option<&UserRow> {
        self.users.iter().find(|u| u.name == name)
    }

    /// `len` lowercase hex digits, different each time.
    fn hex(&mut self, len: usize) -> String {
        let mut out = String::new();
        while out.len() < len {
            let n = self.next_id();
            out.push_str(&format!("{:016x}", self.random.hash_one(n)));
        }
        out.truncate(len);
        out
    }

    fn user_json(&self, id: Option<u64>) -> Value {
        match id.and_then(|id| self.user(id)) {
            Some(u) => json!({
                "id": u.id.to_string(),
                "name": u.name,
                "createdAt": ts(u.created_at),
                "displayName": u.display_name,
                "email": u.email,
                "providerId": "",
                "provider": "",
                "profilePicUrl": "",
            }),
            None => Value::Null,
        }
    }

    fn key_json(&self, key: &KeyRow, reveal: bool) -> Value {
        json!({
            "user": self.user_json(key.user),
            "id": key.id.to_string(),
            "key": if reveal { key.full() } else { format!("hskey-auth-{}-***", key.prefix) },
            "reusable": key.reusable,
            "ephemeral": key.ephemeral,
            "used": key.used,
            "expiration": key.expiration.map_or_else(|| ZERO_TIME.to_owned(), ts),
            "createdAt": ts(key.created_at),
            "aclTags": key.acl_tags,
        })
    }

    fn node_json(&self, node: &NodeRow) -> Value {
        let user = match node.user {
            Some(id) => self.user_json(Some(id)),
            None => json!({
                "id": TAGGED_DEVICES_ID.to_string(),
                "name": "tagged-devices",
                "createdAt": null,
                "displayName": "",
                "email": "",
                "providerId": "",
                "provider": "",
                "profilePicUrl": "",
            }),
        };
        let key = node
            .key
            .and_then(|id| self.keys.iter().find(|k| k.id == id))
            .map_or(Value::Null, |k| self.key_json(k, false));
        json!({
            "id": node.id.to_string(),
            "machineKey": format!("mkey:{:064x}", node.id),
            "nodeKey": format!("nodekey:{:064x}", node.id),
            "discoKey": format!("discokey:{:064x}", node.id),
            "ipAddresses": [format!("100.64.0.{}", node.id), format!("fd7a:115c:a1e0::{:x}", node.id)],
            "name": node.name,
            "user": user,
            "lastSeen": ts(SystemTime::now()),
            "expiry": null,
            "preAuthKey": key,
            "createdAt": ts(node.created_at),
            "registerMethod": node.register_method,
            "tags": node.tags,
            "givenName": node.given_name,
            "online": node.online,
            "approvedRoutes": [],
            "availableRoutes": [],
            "subnetRoutes": [],
        })
    }

    fn add_node(
        &mut self,
        name: &str,
        user: Option<u64>,
        tags: Vec<String>,
        key: Option<u64>,
    ) -> u64 {
        let id = self.next_id();
        let taken = self
            .nodes
            .iter()
            .any(|n| n.given_name == name.to_ascii_lowercase());
        let given_name = if taken {
            format!("{}-{}", name.to_ascii_lowercase(), self.hex(8))
        } else {
            name.to_ascii_lowercase()
        };
        self.nodes.push(NodeRow {
            id,
            name: name.to_owned(),
            given_name,
            user: if tags.is_empty() { user } else { None },
            tags,
            online: true,
            key,
            register_method: if key.is_some() {
                "REGISTER_METHOD_AUTH_KEY"
            } else {
                "REGISTER_METHOD_CLI"
            },
            created_at: SystemTime::now(),
        });
        id
    }
}

/// RFC 3339 in UTC with milliseconds, as protojson writes timestamps.
fn ts(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

/// A running stand-in Headscale; it stops when dropped.
pub struct Standin {
    /// `http://127.0.0.1:PORT` (`https://…` from [`Standin::start_tls`]),
    /// the base URL (without `/api/v1`).
    pub url: String,
    state: Arc<Mutex<State>>,
    _server: Server,
}

impl Standin {
    /// Starts a stand-in that accepts the bearer key `api_key`, in
    /// database policy mode, healthy, with no users, keys, nodes or policy.
    pub fn start(api_key: &str) -> Self {
        Self::launch(api_key, None)
    }

    /// As [`Standin::start`], serving HTTPS only, with the certificate
    /// (chain) `cert_pem` and its private key `key_pem`; [`Standin::url`]
    /// is then `https://127.0.0.1:PORT`.
    pub fn start_tls(api_key: &str, cert_pem: &str, key_pem: &str) -> Self {
        let tls = tls_config(cert_pem, key_pem).expect("a PEM certificate and key");
        Self::launch(api_key, Some(tls))
    }

    fn launch(api_key: &str, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let state = Arc::new(Mutex::new(State {
            api_keys: vec![ApiKeyRow::new(1, api_key, None)],
            log: Vec::new(),
            users: Vec::new(),
            keys: Vec::new(),
            nodes: Vec::new(),
            policy: None,
            database_mode: true,
            healthy: true,
            policy_rejection: None,
            next_id: 0,
            random: RandomState::new(),
        }));
        let shared = Arc::clone(&state);
        let handler = Arc::new(move |request: Request, responder: Responder| {
            let (status, content_type, body) = {
                let mut state = shared.lock().unwrap_or_else(|e| e.into_inner());
                handle(&mut state, &request)
            };
            let _ = responder.send(status, content_type, body.as_bytes());
        });
        let server = match tls {
            None => Server::start(0, handler),
            Some(tls) => Server::start_tls(0, handler, tls),
        }
        .expect("the Headscale stand-in listens on 127.0.0.1");
        Self {
            url: server.url(),
            state,
            _server: server,
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self._server.port()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every request so far, in order.
    pub fn log(&self) -> Vec<Logged> {
        self.state().log.clone()
    }

    /// The requests so far that could have changed state.
    pub fn writes(&self) -> Vec<Logged> {
        self.log().into_iter().filter(Logged::is_write).collect()
    }

    /// Forgets the requests so far.
    pub fn clear_log(&self) {
        self.state().log.clear();
    }

    /// Adds the user `name` directly (not logged); its ID.
    pub fn add_user(&self, name: &str) -> u64 {
        let mut state = self.state();
        let id = state.next_id();
        state.users.push(UserRow {
            id,
            name: name.to_owned(),
            display_name: String::new(),
            email: String::new(),
            created_at: SystemTime::now(),
        });
        id
    }

    /// The names of the users, in creation order.
    pub fn users(&self) -> Vec<String> {
        self.state().users.iter().map(|u| u.name.clone()).collect()
    }

    /// The keys as the API lists them (masked).
    pub fn keys(&self) -> Vec<Value> {
        let state = self.state();
        state
            .keys
            .iter()
            .map(|k| state.key_json(k, false))
            .collect()
    }

    /// The nodes as the API lists them.
    pub fn nodes(&self) -> Vec<Value> {
        let state = self.state();
        state.nodes.iter().map(|n| state.node_json(n)).collect()
    }

    /// The policy text, if one was set.
    pub fn policy(&self) -> Option<String> {
        self.state().policy.as_ref().map(|(text, _)| text.clone())
    }

    /// Plays the device `device` joining interactively as a node of the
    /// user `user`, with `tags` (then a tagged node); the node's ID. Panics
    /// if there is no such user.
    pub fn join(&self, device: &str, user: &str, tags: &[&str]) -> u64 {
        let mut state = self.state();
        let user = state
            .user_named(user)
            .unwrap_or_else(|| panic!("the stand-in has no user {user}"))
            .id;
        let tags = sorted(tags.iter().map(|t| t.to_string()).collect());
        state.add_node(device, Some(user), tags, None)
    }

    /// Plays the device `device` joining with the pre-auth key `key` (the
    /// whole key): as `tailscale up --auth-key` would, it fails for an
    /// unknown, expired or used single-use key. The node's ID.
    pub fn join_with_key(&self, device: &str, key: &str) -> Result<u64, String> {
        self.join_advertising(device, key, &[])
    }

    /// Plays the device `device` joining with the pre-auth key `key` while
    /// advertising `tags` (`tailscale up --auth-key … --advertise-tags=…`).
    /// Headscale 0.29.2 takes a key-joined node's tags from its key only and
    /// refuses one that advertises any (`HandleNodeFromPreAuthKey`, state.go),
    /// after checking the key: its register response (HTTP 200) carries the
    /// error returned here, no node is made and the key stays unused.
    pub fn join_advertising(&self, device: &str, key: &str, tags: &[&str]) -> Result<u64, String> {
        let mut state = self.state();
        let now = SystemTime::now();
        let row = state
            .keys
            .iter_mut()
            .find(|k| k.full() == key)
            .ok_or_else(|| "invalid authkey".to_owned())?;
        if row.is_expired(now) {
            return Err("authkey expired".to_owned());
        }
        if row.used && !row.reusable {
            return Err("authkey already used".to_owned());
        }
        if !tags.is_empty() {
            // Go's `%v` of the requested tags: `[tag:a tag:b]`.
            return Err(format!(
                "handling register with auth key: creating new node: requested tags [{}] are invalid or not permitted",
                tags.join(" ")
            ));
        }
        row.used = true;
        let (id, user, tags) = (row.id, row.user, row.acl_tags.clone());
        Ok(state.add_node(device, user, tags, Some(id)))
    }

    /// Plays `by` passing for the keys: each was created and expires that
    /// much earlier.
    pub fn age_keys(&self, by: Duration) {
        for key in &mut self.state().keys {
            key.created_at = key.created_at.checked_sub(by).unwrap_or(key.created_at);
            key.expiration = key.expiration.map(|at| at.checked_sub(by).unwrap_or(at));
        }
    }

    /// Plays `by` passing for the API keys: each was created that much
    /// earlier.
    pub fn age_api_keys(&self, by: Duration) {
        for key in &mut self.state().api_keys {
            key.created_at = key.created_at.checked_sub(by).unwrap_or(key.created_at);
        }
    }

    /// The API keys as the API lists them (prefixes, never a key).
    pub fn api_keys(&self) -> Vec<Value> {
        self.state().api_keys.iter().map(ApiKeyRow::json).collect()
    }

    /// Sets whether node `id` is online.
    pub fn set_online(&self, id: u64, online: bool) {
        if let Some(node) = self.state().nodes.iter_mut().find(|n| n.id == id) {
            node.online = online;
        }
    }

    /// Sets whether `/health` passes (else its database "does not answer").
    pub fn set_healthy(&self, healthy: bool) {
        self.state().healthy = healthy;
    }

    /// Switches to `policy.mode: file` with the file holding `text`.
    pub fn use_policy_file(&self, text: &str) {
        let mut state = self.state();
        state.database_mode = false;
        state.policy = Some((text.to_owned(), SystemTime::now()));
    }

    /// Makes every policy set or check fail with `message` (as Headscale's
    /// validation would), or, with `None`, validate again.
    pub fn reject_policies(&self, message: Option<&str>) {
        self.state().policy_rejection = message.map(str::to_owned);
    }
}

type Answer = (u16, &'static str, String);

const JSON: &str = "application/json";

fn ok(value: Value) -> Answer {
    (200, JSON, value.to_string())
}

/// A gRPC-status error body with the HTTP status grpc-gateway maps `code` to.
fn error(code: i32, message: &str) -> Answer {
    let status = match code {
        3 | 9 | 11 => 400,
        5 => 404,
        6 | 10 => 409,
        7 => 403,
        12 => 501,
        16 => 401,
        _ => 500,
    };
    let body = json!({ "code": code, "message": message, "details": [] });
    (status, JSON, body.to_string())
}

/// An error the handler returned as a plain Go error: gRPC `Unknown`, 500.
fn failed(message: &str) -> Answer {
    error(2, message)
}

fn handle(state: &mut State, request: &Request) -> Answer {
    let target = if request.query.is_empty() {
        request.path.clone()
    } else {
        format!("{}?{}", request.path, request.query)
    };
    state.log.push(Logged {
        method: request.method.clone(),
        path: target,
        tls: request.tls.clone(),
    });
    let path = request.path.as_str();
    if path == "/health" && request.method == "GET" {
        return if state.healthy {
            (
                200,
                "application/health+json",
                json!({"status": "pass"}).to_string(),
            )
        } else {
            (
                500,
                "application/health+json",
                json!({"status": "fail"}).to_string(),
            )
        };
    }
    if path == "/version" && request.method == "GET" {
        return (
            200,
            "application/json",
            json!({"version": "v0.29.2", "commit": "8eea8948", "buildTime": "2026-07-01T00:00:00Z", "dirty": false}).to_string(),
        );
    }
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return (
            404,
            "text/plain; charset=utf-8",
            "404 page not found\n".to_owned(),
        );
    };
    let now = SystemTime::now();
    let bearer = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "));
    if !state
        .api_keys
        .iter()
        .any(|k| Some(k.key.as_str()) == bearer && !k.is_expired(now))
    {
        return (401, "text/plain; charset=utf-8", "Unauthorized".to_owned());
    }
    let segments: Vec<String> = rest.split('/').map(percent_decode).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = request.method.as_str();
    let body = request.json();
    match (method, segments.as_slice()) {
        ("GET", ["health"]) => ok(json!({"databaseConnectivity": state.healthy})),
        ("GET", ["apikey"]) => ok(json!({
            "apiKeys": state.api_keys.iter().map(ApiKeyRow::json).collect::<Vec<_>>()
        })),
        ("POST", ["apikey"]) => {
            let expiration = match body["expiration"].as_str() {
                Some(text) => match humantime::parse_rfc3339(text) {
                    Ok(at) => Some(at),
                    Err(_) => return error(3, &format!("invalid expiration: {text:?}")),
                },
                None => None,
            };
            let id = state.api_keys.len() as u64 + 1;
            let key = format!("hskey-api-{}-{}", state.hex(12), state.hex(64));
            state.api_keys.push(ApiKeyRow::new(id, &key, expiration));
            ok(json!({ "apiKey": key }))
        }
        ("POST", ["apikey", "expire"]) => {
            let wanted = body["prefix"].as_str().unwrap_or_default();
            let wanted = wanted
                .strip_prefix("hskey-api-")
                .and_then(|rest| rest.get(..12))
                .unwrap_or(wanted);
            match state.api_keys.iter_mut().find(|k| k.prefix == wanted) {
                Some(key) => {
                    key.expiration = Some(now);
                    ok(json!({}))
                }
                None => error(5, "record not found"),
            }
        }
        ("GET", ["user"]) => list_users(state, &request.query),
        ("POST", ["user"]) => create_user(state, &body),
        ("DELETE", ["user", id]) => delete_user(state, id),
        ("GET", ["preauthkey"]) => ok(json!({
            "preAuthKeys": state.keys.iter().map(|k| state.key_json(k, false)).collect::<Vec<_>>()
        })),
        ("POST", ["preauthkey"]) => create_key(state, &body),
        ("POST", ["preauthkey", "expire"]) => {
            let id = uint(&body["id"]);
            let now = SystemTime::now();
            if let Some(key) = state.keys.iter_mut().find(|k| Some(k.id) == id) {
                key.expiration = Some(now);
            }
            ok(json!({}))
        }
        ("DELETE", ["preauthkey"]) => {
            let id = query(&request.query, "id").and_then(|v| v.parse::<u64>().ok());
            state.keys.retain(|k| Some(k.id) != id);
            for node in &mut state.nodes {
                if node.key.is_some() && node.key == id {
                    node.key = None;
                }
            }
            ok(json!({}))
        }
        ("GET", ["node"]) => {
            let user = query(&request.query, "user").filter(|u| !u.is_empty());
            let user_id = user
                .as_deref()
                .map(|name| state.user_named(name).map(|u| u.id));
            let nodes: Vec<Value> = state
                .nodes
                .iter()
                .filter(|n| user_id.is_none_or(|id| id.is_some() && n.user == id))
                .map(|n| state.node_json(n))
                .collect();
            ok(json!({ "nodes": nodes }))
        }
        ("GET", ["node", id]) => match find_node(state, id) {
            Some(i) => ok(json!({"node": state.node_json(&state.nodes[i])})),
            None => error(5, "node not found"),
        },
        ("DELETE", ["node", id]) => match find_node(state, id) {
            Some(i) => {
                state.nodes.remove(i);
                ok(json!({}))
            }
            None => error(5, "node not found"),
        },
        ("POST", ["node", id, "tags"]) => set_tags(state, id, &body),
        ("GET", ["policy"]) => match &state.policy {
            Some((text, at)) => ok(json!({"policy": text, "updatedAt": ts(*at)})),
            // A database that never held a policy (`hscontrol/grpcv1.go`
            // wraps `types.ErrPolicyNotFound`).
            None => failed("loading ACL from database: acl policy not found"),
        },
        ("PUT", ["policy"]) => {
            if !state.database_mode {
                return failed("update is disabled for modes other than 'database'");
            }
            let text = body["policy"].as_str().unwrap_or_default().to_owned();
            if let Err(message) = validate_policy(state, &text) {
                return failed(&message);
            }
            if let Err(message) = run_tests(state, &text) {
                return failed(&message);
            }
            let now = SystemTime::now();
            state.policy = Some((text.clone(), now));
            ok(json!({"policy": text, "updatedAt": ts(now)}))
        }
        ("POST", ["policy", "check"]) => {
            let text = body["policy"].as_str().unwrap_or_default().to_owned();
            match validate_policy(state, &text) {
                Ok(()) => match run_tests(state, &text) {
                    Ok(()) => ok(json!({})),
                    Err(message) => error(3, &message),
                },
                Err(message) => failed(&message),
            }
        }
        (
            "POST",
            ["user", _, "rename", _]
            | ["node", _, "expire" | "approve_routes"]
            | ["node", _, "rename", _]
            | ["node", "register" | "backfillips"]
            | ["auth", "register" | "approve" | "reject"]
            | ["apikey" | "debug", ..],
        )
        | ("GET" | "DELETE", ["apikey", ..]) => {
            error(12, "not implemented by the Headscale stand-in")
        }
        (_, ["user"] | ["user", _] | ["preauthkey"] | ["preauthkey", "expire"] | ["node"])
        | (_, ["node", _] | ["node", _, "tags"] | ["policy"] | ["policy", "check"] | ["health"]) => {
            let body = json!({"code": 12, "message": "Method Not Allowed", "details": []});
            (405, JSON, body.to_string())
        }
        _ => error(5, "Not Found"),
    }
}

fn list_users(state: &State, query_text: &str) -> Answer {
    let id = query(query_text, "id")
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|id| *id != 0);
    let name = query(query_text, "name").filter(|v| !v.is_empty());
    let email = query(query_text, "email").filter(|v| !v.is_empty());
    let users: Vec<Value> = state
        .users
        .iter()
        .filter(|u| id.is_none_or(|id| u.id == id))
        .filter(|u| name.as_ref().is_none_or(|n| &u.name == n))
        .filter(|u| email.as_ref().is_none_or(|e| &u.email == e))
        .map(|u| state.user_json(Some(u.id)))
        .collect();
    ok(json!({ "users": users }))
}

/// §3.4: at least 2 characters, starts with a letter, letters, digits,
/// `-`, `.`, `_`, at most one `@`.
fn valid_username(name: &str) -> Result<(), String> {
    let starts = name.chars().next().is_some_and(|c| c.is_alphabetic());
    let chars = name
        .chars()
        .all(|c| c.is_alphanumeric() || "-._@".contains(c));
    if name.chars().count() < 2 || !starts || !chars || name.matches('@').count() > 1 {
        return Err(format!("invalid username: {name:?}"));
    }
    Ok(())
}

fn create_user(state: &mut State, body: &Value) -> Answer {
    let name = body["name"].as_str().unwrap_or_default().to_owned();
    if let Err(message) = valid_username(&name) {
        return failed(&message);
    }
    if state.user_named(&name).is_some() {
        return failed("creating user: constraint failed: UNIQUE constraint failed: users.name");
    }
    let text = |camel: &str, snake: &str| {
        body[camel]
            .as_str()
            .or_else(|| body[snake].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let id = state.next_id();
    state.users.push(UserRow {
        id,
        name,
        display_name: text("displayName", "display_name"),
        email: text("email", "email"),
        created_at: SystemTime::now(),
    });
    ok(json!({ "user": state.user_json(Some(id)) }))
}

fn delete_user(state: &mut State, id: &str) -> Answer {
    let Some(id) = id
        .parse::<u64>()
        .ok()
        .filter(|id| state.user(*id).is_some())
    else {
        return failed("user not found");
    };
    if state.nodes.iter().any(|n| n.user == Some(id)) {
        return failed("user not empty: node(s) found");
    }
    state.users.retain(|u| u.id != id);
    ok(json!({}))
}

/// A uint64 as protojson reads it: a string or a number.
fn uint(value: &Value) -> Option<u64> {
    match value {
        Value::String(text) => text.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn sorted(mut tags: Vec<String>) -> Vec<String> {
    tags.sort();
    tags.dedup();
    tags
}

/// §3.3: tags start with `tag:`, are lower-case and hold no spaces.
fn valid_tags(tags: &[String]) -> Result<(), String> {
    for tag in tags {
        if !tag.starts_with("tag:") {
            return Err(format!("tag must start with 'tag:', got: {tag:?}"));
        }
        if tag.chars().any(char::is_uppercase) {
            return Err("tag should be lowercase".to_owned());
        }
        if tag.chars().any(char::is_whitespace) {
            return Err(format!("tag must contain no spaces, got: {tag:?}"));
        }
    }
    Ok(())
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn create_key(state: &mut State, body: &Value) -> Answer {
    let tags = sorted(strings(if body["aclTags"].is_null() {
        &body["acl_tags"]
    } else {
        &body["aclTags"]
    }));
    if let Err(message) = valid_tags(&tags) {
        return error(3, &message);
    }
    if let Err(message) = owned_tags(state, &tags) {
        return error(3, &message);
    }
    let user = uint(&body["user"]).filter(|id| *id != 0);
    if let Some(id) = user
        && state.user(id).is_none()
    {
        return failed("user not found");
    }
    if user.is_none() && tags.is_empty() {
        return failed("pre-auth key must be owned by a user or have tags");
    }
    let expiration = match body["expiration"].as_str() {
        Some(text) => match humantime::parse_rfc3339(text) {
            Ok(at) => Some(at),
            Err(_) => return error(3, &format!("invalid expiration: {text:?}")),
        },
        None => None,
    };
    let id = state.next_id();
    let prefix = state.hex(12);
    let secret = state.hex(64);
    let row = KeyRow {
        id,
        user,
        prefix,
        secret,
        reusable: body["reusable"].as_bool().unwrap_or(false),
        ephemeral: body["ephemeral"].as_bool().unwrap_or(false),
        used: false,
        expiration,
        created_at: SystemTime::now(),
        acl_tags: tags,
    };
    let answer = json!({ "preAuthKey": state.key_json(&row, true) });
    state.keys.push(row);
    ok(answer)
}

fn find_node(state: &State, id: &str) -> Option<usize> {
    let id = id.parse::<u64>().ok()?;
    state.nodes.iter().position(|n| n.id == id)
}

fn set_tags(state: &mut State, id: &str, body: &Value) -> Answer {
    let Some(i) = find_node(state, id) else {
        return error(5, "node not found");
    };
    let tags = sorted(strings(&body["tags"]));
    if tags.is_empty() {
        return error(3, "at least one tag is required");
    }
    if let Err(message) = valid_tags(&tags) {
        return failed(&message);
    }
    if let Err(message) = owned_tags(state, &tags) {
        return error(3, &message);
    }
    let node = &mut state.nodes[i];
    node.tags = tags;
    node.user = None;
    ok(json!({ "node": state.node_json(&state.nodes[i]) }))
}

/// The part of Headscale's policy validation the stand-in models: HuJSON
/// syntax (JSON with `//` and `/* */` comments and trailing commas, as
/// Headscale reads it) and unknown top-level fields;
/// [`Standin::reject_policies`] stands for the rest.
fn validate_policy(state: &State, text: &str) -> Result<(), String> {
    if let Some(message) = &state.policy_rejection {
        return Err(message.clone());
    }
    if text.trim().is_empty() {
        return Ok(());
    }
    let value: Value =
        serde_json::from_str(&standardize(text)).map_err(|e| format!("parsing HuJSON: {e}"))?;
    let Some(object) = value.as_object() else {
        return Err("parsing policy: policy must be a JSON object".to_owned());
    };
    for key in object.keys() {
        if !POLICY_SECTIONS.iter().any(|s| s.eq_ignore_ascii_case(key)) {
            return Err(format!("unknown field: {key:?}"));
        }
    }
    Ok(())
}

/// HuJSON `text` as plain JSON: comments become spaces, then a comma
/// before `]` or `}` is dropped (what Tailscale's `hujson.Standardize` does).
fn standardize(text: &str) -> String {
    let without_comments = rewrite(text.as_bytes(), true);
    String::from_utf8(rewrite(&without_comments, false)).unwrap_or_default()
}

/// One pass over HuJSON `bytes`, strings copied whole: blanks out comments
/// (`comments`), else drops trailing commas.
fn rewrite(bytes: &[u8], comments: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'"', _) => {
                out.push(b'"');
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' && i + 1 < bytes.len() {
                        out.push(bytes[i]);
                        i += 1;
                    }
                    out.push(bytes[i]);
                    i += 1;
                }
                if i < bytes.len() {
                    out.push(b'"');
                    i += 1;
                }
            }
            (b'/', Some(b'/')) if comments => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out.push(b' ');
                    i += 1;
                }
            }
            (b'/', Some(b'*')) if comments => {
                let end = bytes[i + 2..]
                    .windows(2)
                    .position(|w| w == b"*/")
                    .map_or(bytes.len(), |e| i + 2 + e + 2);
                out.extend(std::iter::repeat_n(b' ', end - i));
                i = end;
            }
            (b',', _) if !comments => {
                let next = bytes[i + 1..].iter().find(|b| !b.is_ascii_whitespace());
                out.push(if matches!(next, Some(b']' | b'}')) {
                    b' '
                } else {
                    b','
                });
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// The value of `name` in the query `text`, percent-decoded.
fn query(text: &str, name: &str) -> Option<String> {
    text.split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| percent_decode(key) == name)
        .map(|(_, value)| percent_decode(&value.replace('+', " ")))
}

/// `text` with `%XX` escapes decoded (invalid ones kept as they are).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The live policy as JSON (`None`: no policy, or not JSON).
fn live_policy(state: &State) -> Option<Value> {
    let (text, _) = state.policy.as_ref()?;
    serde_json::from_str(&standardize(text)).ok()
}

/// v0.29.2 (`TagExists`): with a policy, every tag must be in its
/// `tagOwners`.
fn owned_tags(state: &State, tags: &[String]) -> Result<(), String> {
    let Some(policy) = live_policy(state) else {
        return Ok(());
    };
    let owners = policy.get("tagOwners").and_then(Value::as_object);
    let unknown: Vec<&String> = tags
        .iter()
        .filter(|t| !owners.is_some_and(|o| o.contains_key(t.as_str())))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(format!(
        "requested tags [{}] are invalid or not permitted",
        unknown
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    ))
}

/// Whether `alias` names a node: users through their untagged nodes,
/// groups through their members, tags through the nodes carrying them;
/// hosts and addresses always resolve.
fn resolves(state: &State, groups: &Value, alias: &str) -> bool {
    if alias.starts_with("group:") {
        return groups[alias].as_array().is_some_and(|m| {
            m.iter()
                .filter_map(Value::as_str)
                .any(|a| resolves(state, groups, a))
        });
    }
    if alias.starts_with("tag:") {
        return state
            .nodes
            .iter()
            .any(|n| n.tags.iter().any(|t| t == alias));
    }
    if let Some(name) = alias.strip_suffix('@') {
        return state.nodes.iter().any(|n| {
            n.tags.is_empty()
                && n.user
                    .and_then(|id| state.user(id))
                    .is_some_and(|u| u.name == name)
        });
    }
    true
}

/// v0.29.2 (`evaluateTests`): a test whose source or destination names no
/// node fails, and so does the policy.
fn run_tests(state: &State, text: &str) -> Result<(), String> {
    let Ok(policy) = serde_json::from_str::<Value>(&standardize(text)) else {
        return Ok(());
    };
    let groups = &policy["groups"];
    let mut failures = Vec::new();
    for test in policy["tests"].as_array().into_iter().flatten() {
        let src = test["src"].as_str().unwrap_or_default();
        if !resolves(state, groups, src) {
            failures.push(format!("{src}: source {src:?} resolved to no IP addresses"));
            continue;
        }
        for dst in ["accept", "deny"]
            .iter()
            .filter_map(|k| test[*k].as_array())
            .flatten()
            .filter_map(Value::as_str)
        {
            let alias = dst.rsplit_once(':').map_or(dst, |(a, _)| a);
            if !resolves(state, groups, alias) {
                failures.push(format!(
                    "{src}: destination {dst:?} resolved to no IP addresses"
                ));
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("test(s) failed:\n{}", failures.join("\n")))
    }
}
