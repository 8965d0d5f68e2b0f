//! What goes wrong talking to Headscale; each message names the fix.

use super::HEADSCALE_VERSION;
use std::time::Duration;

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
