//! Synapse's admin and client-server APIs (Synapse 1.x), as a blocking
//! [`Client`] with typed [`Error`]s: shared-secret registration
//! (`/_synapse/admin/v1/register`, a nonce and an HMAC-SHA1 of the
//! request), the user list and one user (`/_synapse/admin/v2/users`),
//! deactivation (`/_synapse/admin/v1/deactivate`), password login and
//! `whoami`; direct messages ([`direct`]) and who wrote to an account ([`sync`]). It decides nothing: [`crate::plan::matrix`] decides,
//! [`crate::apply::matrix`] calls.
//!
//! Only loopback is spoken to (`http://127.0.0.1:PORT`, where the
//! homeserver always listens): the shared secret's MAC and the admin token
//! never cross a network. No proxy, no redirects, a timeout on every call.

pub mod direct;
pub mod sync;

use crate::observe::matrix::Account;
use crate::secret::Secret;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// How long one call may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A refusal or failure, each naming what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The base URL is not a loopback `http://` URL.
    #[error(
        "`{url}` is not a loopback http:// URL; privai speaks to Synapse's admin API on the homeserver's host only"
    )]
    NotLoopback {
        /// The URL.
        url: String,
    },
    /// Nothing answered.
    #[error(
        "Synapse does not answer at {url} ({reason}); start the homeserver (`privai apply` starts it) and try again"
    )]
    Unreachable {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Shared-secret registration refused the MAC (403): the secret privai
    /// holds is not the one Synapse reads.
    #[error(
        "Synapse refused the registration's MAC (403 {errcode}): the registration shared secret privai read is not the one Synapse runs with; restart the homeserver so that it reads the secret file privai wrote"
    )]
    MacRejected {
        /// Synapse's error code (`M_FORBIDDEN`).
        errcode: String,
    },
    /// The user ID is taken (400 `M_USER_IN_USE`).
    #[error("the Matrix account `{user}` exists already (400 M_USER_IN_USE)")]
    UserInUse {
        /// The local part asked for.
        user: String,
    },
    /// A token was refused (401 `M_UNKNOWN_TOKEN` or `M_MISSING_TOKEN`).
    #[error(
        "Synapse does not know the access token ({errcode}); privai makes a new one on the next `privai apply`"
    )]
    UnknownToken {
        /// Synapse's error code.
        errcode: String,
    },
    /// An admin call with the token of an account that is not an admin (403).
    #[error(
        "the account privai signs in with is not a server admin of the homeserver (403 {errcode}); make it one (`privai apply` registers `privai-admin` as an admin) or remove privai's Matrix records to start afresh"
    )]
    NotAdmin {
        /// Synapse's error code.
        errcode: String,
    },
    /// A password login refused (403 `M_FORBIDDEN`): a wrong password, or
    /// a deactivated account (deactivation removes its password; Synapse
    /// 1.163 answers both alike).
    #[error(
        "Synapse refused the password of `{user}` (403 M_FORBIDDEN): a wrong password, or a deactivated account"
    )]
    WrongPassword {
        /// The user asked for.
        user: String,
    },
    /// No such user (404 `M_NOT_FOUND`).
    #[error("the homeserver has no account `{user}` (404)")]
    NotFound {
        /// The user asked for.
        user: String,
    },
    /// Too many requests (429 `M_LIMIT_EXCEEDED`).
    #[error(
        "Synapse limits the rate of these calls (429); wait {retry_after_ms} ms and run privai again"
    )]
    RateLimited {
        /// What Synapse asks to wait.
        retry_after_ms: u64,
    },
    /// Any other refusal, with Synapse's words.
    #[error("{what}: Synapse answered {status} {errcode}: {message}")]
    Refused {
        /// The call.
        what: String,
        /// The HTTP status.
        status: u16,
        /// Synapse's error code.
        errcode: String,
        /// Synapse's message.
        message: String,
    },
    /// An answer privai cannot read.
    #[error("{what}: Synapse's answer is not what privai reads ({reason}); is this Synapse 1.x?")]
    Unreadable {
        /// The call.
        what: String,
        /// Why.
        reason: String,
    },
}

/// What a registration or a login returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The full Matrix ID (`@NAME:SERVER`).
    pub user_id: String,
    /// Its new access token.
    pub access_token: Secret,
}

/// A blocking client of one Synapse, on loopback.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
}

/// Synapse's error body.
#[derive(Deserialize, Default)]
struct MatrixError {
    #[serde(default)]
    errcode: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    retry_after_ms: Option<u64>,
}

/// The MAC of a shared-secret registration, as Synapse checks it:
/// hex(HMAC-SHA1(secret, nonce NUL user NUL password NUL admin|notadmin)).
pub fn registration_mac(
    secret: &str,
    nonce: &str,
    user: &str,
    password: &str,
    admin: bool,
) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    let admin = if admin { "admin" } else { "notadmin" };
    for (i, part) in [nonce, user, password, admin].into_iter().enumerate() {
        if i > 0 {
            mac.update(b"\x00");
        }
        mac.update(part.as_bytes());
    }
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `id` percent-encoded for a URL path (`@a:b` → `%40a%3Ab`).
fn encode(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A boolean Synapse may write as `true` or `1`.
fn truthy(value: &Value) -> bool {
    value.as_bool().unwrap_or_else(|| value.as_u64() == Some(1))
}

impl Client {
    /// A client of the Synapse at `base_url` (`http://127.0.0.1:8008`).
    pub fn new(base_url: &str) -> Result<Self, Error> {
        let base = base_url.trim_end_matches('/').to_owned();
        let loopback = reqwest::Url::parse(&base).ok().is_some_and(|url| {
            url.scheme() == "http"
                && url.host_str().is_some_and(|h| {
                    h == "localhost"
                        || h.trim_matches(['[', ']'])
                            .parse::<std::net::IpAddr>()
                            .is_ok_and(|ip| ip.is_loopback())
                })
        });
        if !loopback {
            return Err(Error::NotLoopback { url: base });
        }
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("privai/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Unreachable {
                url: base.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self { http, base })
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// One call; `Ok` with the body of a 2xx answer, else the status and
    /// Synapse's error.
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&Secret>,
        body: Option<Value>,
    ) -> Result<Result<Value, (u16, MatrixError)>, Error> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url);
        if let Some(token) = token {
            request = request.bearer_auth(token.expose());
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().map_err(|e| Error::Unreachable {
            url: self.base.clone(),
            reason: e.without_url().to_string(),
        })?;
        let status = response.status().as_u16();
        let text = response.text().unwrap_or_default();
        if (200..300).contains(&status) {
            return serde_json::from_str(&text)
                .map(Ok)
                .map_err(|e| Error::Unreadable {
                    what: path.split('?').next().unwrap_or(path).to_owned(),
                    reason: e.to_string(),
                });
        }
        Ok(Err((
            status,
            serde_json::from_str(&text).unwrap_or_default(),
        )))
    }

    /// A refusal no caller models on its own.
    fn refused(what: &str, (status, e): (u16, MatrixError)) -> Error {
        match (status, e.errcode.as_str()) {
            (429, _) => Error::RateLimited {
                retry_after_ms: e.retry_after_ms.unwrap_or(1000),
            },
            (401, "M_UNKNOWN_TOKEN" | "M_MISSING_TOKEN") => {
                Error::UnknownToken { errcode: e.errcode }
            }
            _ => Error::Refused {
                what: what.to_owned(),
                status,
                errcode: e.errcode,
                message: e.error,
            },
        }
    }

    /// A refusal of an admin call: 403 is a token of a non-admin.
    fn admin_refused(what: &str, refusal: (u16, MatrixError)) -> Error {
        match refusal {
            (403, e) => Error::NotAdmin { errcode: e.errcode },
            other => Self::refused(what, other),
        }
    }

    /// Whether Synapse answers (`/_matrix/client/versions`).
    pub fn versions(&self) -> Result<(), Error> {
        self.call(reqwest::Method::GET, "/_matrix/client/versions", None, None)?
            .map(drop)
            .map_err(|r| Self::refused("GET /_matrix/client/versions", r))
    }

    /// Registers `user` with `password` through the shared-secret
    /// registration API (a nonce, then the request with its MAC).
    pub fn register(
        &self,
        shared_secret: &Secret,
        user: &str,
        password: &Secret,
        admin: bool,
    ) -> Result<Session, Error> {
        const PATH: &str = "/_synapse/admin/v1/register";
        let nonce = self
            .call(reqwest::Method::GET, PATH, None, None)?
            .map_err(|r| Self::refused("GET /_synapse/admin/v1/register", r))?;
        let nonce = nonce["nonce"].as_str().ok_or_else(|| Error::Unreadable {
            what: "GET /_synapse/admin/v1/register".into(),
            reason: "no nonce".into(),
        })?;
        let mac = registration_mac(
            shared_secret.expose().trim(),
            nonce,
            user,
            password.expose(),
            admin,
        );
        let body = json!({"nonce": nonce, "username": user, "password": password.expose(),
                          "admin": admin, "mac": mac});
        match self.call(reqwest::Method::POST, PATH, None, Some(body))? {
            Ok(body) => session(&body, "POST /_synapse/admin/v1/register"),
            Err((403, e)) => Err(Error::MacRejected { errcode: e.errcode }),
            Err((400, e)) if e.errcode == "M_USER_IN_USE" => Err(Error::UserInUse {
                user: user.to_owned(),
            }),
            Err(other) => Err(Self::refused("POST /_synapse/admin/v1/register", other)),
        }
    }

    /// Logs `user` (a local part or a full ID) in with `password`: a new
    /// access token.
    pub fn login(&self, user: &str, password: &Secret) -> Result<Session, Error> {
        let body = json!({"type": "m.login.password",
                          "identifier": {"type": "m.id.user", "user": user},
                          "password": password.expose(),
                          "initial_device_display_name": "privai"});
        match self.call(
            reqwest::Method::POST,
            "/_matrix/client/v3/login",
            None,
            Some(body),
        )? {
            Ok(body) => session(&body, "POST /_matrix/client/v3/login"),
            Err((403, e)) if matches!(e.errcode.as_str(), "M_FORBIDDEN" | "M_USER_DEACTIVATED") => {
                Err(Error::WrongPassword {
                    user: user.to_owned(),
                })
            }
            Err(other) => Err(Self::refused("POST /_matrix/client/v3/login", other)),
        }
    }

    /// The Matrix ID `token` belongs to.
    pub fn whoami(&self, token: &Secret) -> Result<String, Error> {
        const PATH: &str = "/_matrix/client/v3/account/whoami";
        let body = self
            .call(reqwest::Method::GET, PATH, Some(token), None)?
            .map_err(|r| Self::refused("GET /_matrix/client/v3/account/whoami", r))?;
        body["user_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::Unreadable {
                what: PATH.into(),
                reason: "no user_id".into(),
            })
    }

    /// Every local account (deactivated ones included, guests not), with
    /// the admin token `token`.
    pub fn users(&self, token: &Secret) -> Result<Vec<Account>, Error> {
        let mut out = Vec::new();
        let mut from: Option<String> = None;
        loop {
            let mut path =
                "/_synapse/admin/v2/users?guests=false&deactivated=true&limit=500".to_owned();
            if let Some(from) = &from {
                path.push_str(&format!("&from={}", encode(from)));
            }
            let body = self
                .call(reqwest::Method::GET, &path, Some(token), None)?
                .map_err(|r| Self::admin_refused("GET /_synapse/admin/v2/users", r))?;
            let users = body["users"].as_array().ok_or_else(|| Error::Unreadable {
                what: "GET /_synapse/admin/v2/users".into(),
                reason: "no users".into(),
            })?;
            for user in users {
                out.push(account(user, "GET /_synapse/admin/v2/users")?);
            }
            from = match &body["next_token"] {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            if from.is_none() {
                return Ok(out);
            }
        }
    }

    /// The account `user_id`, with the admin token `token`.
    pub fn user(&self, token: &Secret, user_id: &str) -> Result<Account, Error> {
        let path = format!("/_synapse/admin/v2/users/{}", encode(user_id));
        match self.call(reqwest::Method::GET, &path, Some(token), None)? {
            Ok(body) => account(&body, "GET /_synapse/admin/v2/users/USER"),
            Err((404, _)) => Err(Error::NotFound {
                user: user_id.to_owned(),
            }),
            Err(other) => Err(Self::admin_refused(
                "GET /_synapse/admin/v2/users/USER",
                other,
            )),
        }
    }

    /// Deactivates `user_id` (its tokens revoked, its password removed; its
    /// messages kept: `erase` false), with the admin token `token`.
    pub fn deactivate(&self, token: &Secret, user_id: &str) -> Result<(), Error> {
        let path = format!("/_synapse/admin/v1/deactivate/{}", encode(user_id));
        match self.call(
            reqwest::Method::POST,
            &path,
            Some(token),
            Some(json!({"erase": false})),
        )? {
            Ok(_) => Ok(()),
            Err((404, _)) => Err(Error::NotFound {
                user: user_id.to_owned(),
            }),
            Err(other) => Err(Self::admin_refused(
                "POST /_synapse/admin/v1/deactivate/USER",
                other,
            )),
        }
    }
}

/// A session from a registration's or login's answer.
fn session(body: &Value, what: &str) -> Result<Session, Error> {
    match (body["user_id"].as_str(), body["access_token"].as_str()) {
        (Some(user_id), Some(token)) => Ok(Session {
            user_id: user_id.to_owned(),
            access_token: Secret::new(token),
        }),
        _ => Err(Error::Unreadable {
            what: what.to_owned(),
            reason: "no user_id or access_token".into(),
        }),
    }
}

/// An account from the admin API's user object.
fn account(user: &Value, what: &str) -> Result<Account, Error> {
    let name = user["name"].as_str().ok_or_else(|| Error::Unreadable {
        what: what.to_owned(),
        reason: "a user without a name".into(),
    })?;
    Ok(Account {
        user_id: name.to_owned(),
        admin: truthy(&user["admin"]),
        deactivated: truthy(&user["deactivated"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mac_is_hmac_sha1_of_the_nul_separated_fields() {
        // RFC 2202 test case 2 ("Jefe"), with the fields joined by NUL as
        // Synapse joins them.
        let ours = registration_mac("Jefe", "what do ya want ", "for", "nothing?", false);
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want \x00for\x00nothing?\x00notadmin");
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(ours, expected);
        assert_eq!(ours.len(), 40);
        assert_ne!(
            ours,
            registration_mac("Jefe", "what do ya want ", "for", "nothing?", true)
        );
    }

    #[test]
    fn only_loopback_is_spoken_to() {
        assert!(Client::new("http://127.0.0.1:8008").is_ok());
        assert!(Client::new("http://[::1]:8008/").is_ok());
        assert!(matches!(
            Client::new("http://100.64.0.1:8008"),
            Err(Error::NotLoopback { .. })
        ));
        assert!(matches!(
            Client::new("https://127.0.0.1:8008"),
            Err(Error::NotLoopback { .. })
        ));
    }

    #[test]
    fn ids_are_encoded_for_a_path() {
        assert_eq!(
            encode("@user1:chat.tailnet.home.arpa"),
            "%40user1%3Achat.tailnet.home.arpa"
        );
    }
}
