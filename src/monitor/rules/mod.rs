//! Pure: what one line of a service's log means ([`parse`]), and which
//! alerts a batch of events raises under the spec's rules ([`alerts`]).
//!
//! The line formats are those of the pinned programs, captured from real
//! runs (`tests/fixtures/monitor/`, with a note of how each was made):
//!
//! - Headscale v0.29.2, `log.format: text` (what privai renders): a node
//!   joining logs `INF node connected … node.id=1 … node.name=NAME …
//!   user.name=USER`; each request with an API key it refuses logs
//!   `failed to validate token`, `invalid token` or `missing "Bearer "
//!   prefix`, with `client_address=IP:PORT`.
//! - OpenClaw 2026.9.6: a WebSocket client refused at authentication logs
//!   `[ws] unauthorized conn=… remote=IP … reason=token_mismatch`; a
//!   message from a sender outside the allowlist logs `Blocked
//!   unauthorized telegram sender ID (dmPolicy=allowlist)` (verbose). Run
//!   with `--verbose`, it logs a refused connection as `[ws] → close
//!   code=1008 cause=unauthorized … endpoint=IP:PORT->…` instead. Its
//!   console lines carry ANSI colours even when not on a terminal.
//! - Ollama v0.24.0: a model too large for memory logs `msg="Load failed"
//!   … error="model requires more system memory (…) than is available
//!   (…)"`; a runner that died logs `msg="llama runner process no longer
//!   running" … string="signal: killed"`.
//!
//! The Matrix channel's refused senders are not read from a log but from
//! privai's homeserver ([`super::senders`]), under the same alert kind.
//!
//! Log lines are untrusted (a node picks its own name): nothing here runs
//! or interprets them, and what an alert quotes is cut to a short length.

use crate::model::Alerts;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// A service whose log privai reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// Headscale.
    Headscale,
    /// Ollama.
    Ollama,
    /// The OpenClaw gateway.
    Gateway,
}

impl Service {
    /// The name privai prints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Headscale => "headscale",
            Self::Ollama => "ollama",
            Self::Gateway => "gateway",
        }
    }
}

/// What a log line reported, when it matters to an alert rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A node connected to Headscale.
    NodeConnected {
        /// Its name on the tailnet.
        node: String,
        /// Headscale's id of the node.
        id: Option<String>,
        /// Its user; `None` for a tagged node.
        user: Option<String>,
    },
    /// Headscale's API refused a request's key.
    ApiAuthFailed {
        /// The client's address.
        client: String,
        /// Headscale's reason.
        why: String,
    },
    /// The gateway refused a connection at authentication.
    GatewayAuthFailed {
        /// The client's address.
        client: String,
        /// OpenClaw's reason (`token_mismatch`, …).
        why: String,
    },
    /// The gateway dropped a message from a sender outside its allowlist.
    RefusedSender {
        /// The channel (`telegram`, …).
        channel: String,
        /// The sender's id on that channel.
        sender: String,
    },
    /// Ollama could not load a model: not enough memory.
    OutOfMemory {
        /// Ollama's words.
        detail: String,
    },
    /// An Ollama model runner died.
    RunnerDied {
        /// Ollama's words.
        detail: String,
    },
}

/// The longest piece of a log line an alert quotes.
const QUOTE: usize = 160;

/// `line` without ANSI escape sequences (OpenClaw colours its console).
pub fn strip_ansi(line: &str) -> Cow<'_, str> {
    if !line.contains('\x1b') {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// The value of `key=` in a logfmt-style line (Headscale, Ollama,
/// OpenClaw's `[ws]` lines): a quoted value with `\"` escapes, or the word
/// up to the next space. The key must start a word.
pub fn field(line: &str, key: &str) -> Option<String> {
    let needle = format!("{key}=");
    let mut from = 0;
    while let Some(at) = line[from..].find(&needle) {
        let start = from + at;
        from = start + needle.len();
        if start > 0 && !line[..start].ends_with(' ') {
            continue;
        }
        let rest = &line[from..];
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => return Some(value),
                    c => value.push(c),
                }
            }
            return Some(value);
        }
        return Some(rest.split(' ').next().unwrap_or_default().to_owned());
    }
    None
}

/// `text` cut to [`QUOTE`] characters, control characters replaced.
pub(crate) fn quote(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(QUOTE)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > QUOTE {
        out.push('…');
    }
    out
}

/// The address without its port (`127.0.0.1:38554` → `127.0.0.1`).
fn host_of(address: &str) -> String {
    match address.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) && !host.is_empty() => {
            host.trim_matches(['[', ']']).to_owned()
        }
        _ => address.to_owned(),
    }
}

/// What `line` of `service`'s log means, if it matters to a rule.
pub fn parse(service: Service, line: &str) -> Option<Event> {
    let line = strip_ansi(line);
    let line = line.as_ref();
    match service {
        Service::Headscale => headscale(line),
        Service::Ollama => ollama(line),
        Service::Gateway => gateway(line),
    }
}

fn headscale(line: &str) -> Option<Event> {
    // `node connected` once per connection (the poll line that follows
    // says `node has connected`).
    if line.contains(" node connected ") {
        let node = field(line, "node.name")?;
        let tagged = field(line, "node.is_tagged").as_deref() == Some("true");
        return Some(Event::NodeConnected {
            node: quote(&node),
            id: field(line, "node.id").map(|id| quote(&id)),
            user: if tagged {
                None
            } else {
                field(line, "user.name").map(|u| quote(&u))
            },
        });
    }
    let why = if line.contains(" failed to validate token ") {
        field(line, "error").unwrap_or_else(|| "failed to validate token".to_owned())
    } else if line.contains(" invalid token ") {
        "invalid or expired API key".to_owned()
    } else if line.contains("missing \"Bearer \" prefix") {
        "no API key (missing `Bearer` prefix)".to_owned()
    } else {
        return None;
    };
    Some(Event::ApiAuthFailed {
        client: quote(&host_of(&field(line, "client_address").unwrap_or_default())),
        why: quote(&why),
    })
}

fn gateway(line: &str) -> Option<Event> {
    if line.contains("[ws] unauthorized ") {
        return Some(Event::GatewayAuthFailed {
            client: quote(&field(line, "remote").unwrap_or_default()),
            why: quote(&field(line, "reason").unwrap_or_else(|| "unauthorized".to_owned())),
        });
    }
    // With `--verbose` the refusal is logged as the connection's close.
    if line.contains("[ws] → close ") && field(line, "cause").as_deref() == Some("unauthorized") {
        let endpoint = field(line, "endpoint").unwrap_or_default();
        let client = endpoint.split("->").next().unwrap_or_default();
        return Some(Event::GatewayAuthFailed {
            client: quote(&host_of(client)),
            why: quote(&format!(
                "unauthorized at {}",
                field(line, "phase").unwrap_or_else(|| "connect".to_owned())
            )),
        });
    }
    // `Blocked unauthorized CHANNEL sender ID (dmPolicy=…)`.
    let at = line.find("Blocked unauthorized ")?;
    let mut words = line[at + "Blocked unauthorized ".len()..].split(' ');
    let channel = words.next()?;
    if words.next()? != "sender" {
        return None;
    }
    let sender = words.next()?;
    Some(Event::RefusedSender {
        channel: quote(channel),
        sender: quote(sender),
    })
}

fn ollama(line: &str) -> Option<Event> {
    let msg = field(line, "msg").unwrap_or_default();
    if msg == "Load failed" {
        let error = field(line, "error").unwrap_or_default();
        if error.contains("memory") {
            return Some(Event::OutOfMemory {
                detail: quote(&error),
            });
        }
        return None;
    }
    if msg.contains("runner process no longer running") || msg.contains("runner terminated") {
        let detail = field(line, "string")
            .or_else(|| field(line, "error"))
            .unwrap_or(msg);
        return Some(Event::RunnerDied {
            detail: quote(&detail),
        });
    }
    // A GPU allocation failing mid-run (`cudaMalloc failed: out of memory`).
    if line.contains("out of memory") {
        return Some(Event::OutOfMemory {
            detail: quote(if msg.is_empty() { line } else { &msg }),
        });
    }
    None
}

/// When `line` says it was written: its RFC 3339 timestamp (first word, or
/// Ollama's `time=`), with a `±HH:MM` offset applied.
pub fn timestamp(line: &str) -> Option<SystemTime> {
    let line = strip_ansi(line);
    let word = match field(&line, "time") {
        Some(time) => time,
        None => line.split(' ').next()?.to_owned(),
    };
    rfc3339(&word)
}

/// Parses `2026-12-07T04:49:22.919+00:00`, `…Z` and `…-05:00`.
fn rfc3339(word: &str) -> Option<SystemTime> {
    if word.len() < 20 || word.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    if let Some(utc) = word.strip_suffix('Z') {
        return humantime::parse_rfc3339_weak(utc).ok();
    }
    let (base, offset) = word.split_at(word.len() - 6);
    let sign = match offset.as_bytes()[0] {
        b'+' => 1i64,
        b'-' => -1,
        _ => return None,
    };
    let hours: u64 = offset.get(1..3)?.parse().ok()?;
    let minutes: u64 = offset.get(4..6)?.parse().ok()?;
    let local = humantime::parse_rfc3339_weak(base).ok()?;
    let shift = Duration::from_secs(hours * 3600 + minutes * 60);
    // Local time = UTC + offset.
    if sign > 0 {
        local.checked_sub(shift)
    } else {
        local.checked_add(shift)
    }
}

/// The nodes the spec expects on the tailnet: each device under its user,
/// each host under any user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// (name, user); `None`: any user (a host, or a tagged device).
    pub nodes: Vec<(String, Option<String>)>,
}

impl Expected {
    /// The nodes of `spec`.
    pub fn of(spec: &crate::model::Spec) -> Self {
        let mut nodes: Vec<(String, Option<String>)> = spec
            .devices
            .iter()
            .map(|d| {
                let user = d.tags.is_empty().then(|| d.user.clone());
                (d.name.clone(), user)
            })
            .collect();
        nodes.extend(spec.hosts.iter().map(|h| (h.name.clone(), None)));
        Self { nodes }
    }

    /// Whether the spec names node `name` of `user`.
    pub fn knows(&self, name: &str, user: Option<&str>) -> bool {
        self.nodes.iter().any(|(known, owner)| {
            known.eq_ignore_ascii_case(name)
                && match (owner, user) {
                    (None, _) => true,
                    (Some(owner), Some(user)) => owner == user,
                    // A tagged node where the spec has a user's device.
                    (Some(_), None) => false,
                }
        })
    }
}

/// One event, where it came from and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The service whose log said it.
    pub service: Service,
    /// When (the line's timestamp, else the journal's, else when read).
    pub at: SystemTime,
    /// What happened.
    pub event: Event,
}

/// What kind of alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A node the spec does not name joined or connected.
    UnexpectedNode,
    /// Repeated authentication failures.
    AuthFailures,
    /// A sender the allowlist refused.
    RefusedSender,
    /// Ollama ran out of memory.
    OllamaOutOfMemory,
    /// An Ollama runner died.
    OllamaCrash,
    /// privai's certificate expires soon (or has).
    CertificateExpiry,
}

/// An alert for the owner. Never holds a secret: only names, addresses and
/// the services' own words about a failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// What kind.
    pub kind: Kind,
    /// The service it is about.
    pub service: String,
    /// What happened, in one sentence.
    pub summary: String,
    /// What to do.
    pub fix: String,
}

/// Failures counted toward the auth-failure rule, kept between runs:
/// seconds since the epoch, per service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Windows {
    /// Recent failures.
    pub failures: BTreeMap<Service, Vec<u64>>,
}

fn secs(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The alerts `entries` raise under `rules`, in a stable order. `windows`
/// carries the auth failures of earlier runs in and this run's out; a
/// burst that raised an alert is cleared, so it raises it once.
pub fn alerts(
    rules: &Alerts,
    expected: &Expected,
    entries: &[Entry],
    windows: &mut Windows,
) -> Vec<Alert> {
    let mut out = Vec::new();
    // Several lines of one kind in one run make one alert (Ollama logs a
    // dead runner twice, a phone retries).
    let mut nodes: BTreeMap<(String, Option<String>), Option<String>> = BTreeMap::new();
    let mut senders: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut oom: Vec<&str> = Vec::new();
    let mut died: Vec<&str> = Vec::new();
    let mut failed: BTreeMap<Service, Vec<(&str, &str)>> = BTreeMap::new();
    for entry in entries {
        match &entry.event {
            Event::NodeConnected { node, id, user } => {
                if rules.unexpected_nodes && !expected.knows(node, user.as_deref()) {
                    nodes.insert((node.clone(), user.clone()), id.clone());
                }
            }
            Event::ApiAuthFailed { client, why } | Event::GatewayAuthFailed { client, why } => {
                if rules.auth_failures.enabled {
                    windows
                        .failures
                        .entry(entry.service)
                        .or_default()
                        .push(secs(entry.at));
                    failed.entry(entry.service).or_default().push((client, why));
                }
            }
            Event::RefusedSender { channel, sender } => {
                if rules.refused_senders {
                    *senders
                        .entry((channel.clone(), sender.clone()))
                        .or_default() += 1;
                }
            }
            Event::OutOfMemory { detail } => {
                if rules.ollama_failures {
                    oom.push(detail);
                }
            }
            Event::RunnerDied { detail } => {
                if rules.ollama_failures {
                    died.push(detail);
                }
            }
        }
    }
    for ((node, user), id) in nodes {
        out.push(Alert {
            kind: Kind::UnexpectedNode,
            service: "headscale".into(),
            summary: format!(
                "node `{node}`{} connected to Headscale, but {}",
                match &user {
                    Some(user) => format!(" of user `{user}`"),
                    None => " (tagged)".into(),
                },
                if expected.nodes.iter().any(|(n, _)| n.eq_ignore_ascii_case(&node)) {
                    format!("the spec's `{node}` belongs to another user")
                } else {
                    "the spec has no such device".to_owned()
                }
            ),
            fix: format!(
                "if you know it, add it to `devices` in the spec; if not, remove it now: `headscale nodes delete --identifier {}`, and rotate the keys: `privai rotate-keys`",
                id.as_deref().unwrap_or("ID")
            ),
        });
    }
    let window = u64::from(rules.auth_failures.window_minutes) * 60;
    let threshold = rules.auth_failures.threshold.max(1) as usize;
    for (service, times) in &mut windows.failures {
        // The window ends at the newest failure, not at this pass: a burst
        // read late (the monitor was down) is still a burst.
        let newest = times.iter().copied().max().unwrap_or_default();
        times.retain(|t| t + window >= newest);
        times.sort_unstable();
        if times.len() < threshold {
            continue;
        }
        let this_run = failed.get(service).map_or(&[][..], Vec::as_slice);
        let mut clients: Vec<&str> = this_run.iter().map(|(c, _)| *c).collect();
        clients.sort_unstable();
        clients.dedup();
        let last_why = this_run.last().map_or("", |(_, why)| *why);
        let (what, fix) = match service {
            Service::Headscale => (
                "Headscale's API refused",
                "if it was not you or privai, someone holds an old or guessed API key: check who reaches Headscale's port, and rotate the API key: `privai rotate-keys`",
            ),
            _ => (
                "the gateway refused",
                "if it was not a client of yours with an old token, someone is guessing the gateway token: check who reaches the gateway's port, and rotate the token: `privai rotate-keys`",
            ),
        };
        out.push(Alert {
            kind: Kind::AuthFailures,
            service: service.name().into(),
            summary: format!(
                "{what} {} attempts with a wrong key within {} minutes{}{}",
                times.len(),
                rules.auth_failures.window_minutes,
                if clients.is_empty() {
                    String::new()
                } else {
                    format!(" (from {})", clients.join(", "))
                },
                if last_why.is_empty() {
                    String::new()
                } else {
                    format!("; last: {last_why}")
                },
            ),
            fix: fix.into(),
        });
        times.clear();
    }
    windows.failures.retain(|_, times| !times.is_empty());
    for ((channel, sender), count) in senders {
        out.push(Alert {
            kind: Kind::RefusedSender,
            service: "gateway".into(),
            summary: format!(
                "the gateway refused {count} message{} from `{sender}` on {channel}: not in the allowlist",
                if count == 1 { "" } else { "s" }
            ),
            fix: format!(
                "nothing to do if you do not know `{sender}`; to let them in, add them to the channel's `allow_from` in the spec and run `privai apply`"
            ),
        });
    }
    if let Some(last) = oom.last() {
        out.push(Alert {
            kind: Kind::OllamaOutOfMemory,
            service: "ollama".into(),
            summary: format!(
                "Ollama could not load a model: out of memory ({} time{}); last: {last}",
                oom.len(),
                if oom.len() == 1 { "" } else { "s" }
            ),
            fix: "use a smaller model or context (`privai models` shows what fits this host), or free memory; the gateway answers from its fallback model meanwhile".into(),
        });
    }
    if !died.is_empty() {
        out.push(Alert {
            kind: Kind::OllamaCrash,
            service: "ollama".into(),
            summary: format!(
                "an Ollama model runner died ({}); Ollama starts a new one on the next request",
                died.last().copied().unwrap_or_default()
            ),
            fix: "if it repeats, look at Ollama's log around that time (`privai status` shows its state); `signal: killed` is often the kernel's out-of-memory killer: use a smaller model".into(),
        });
    }
    out
}

/// The certificate alert for a certificate at `path` valid until
/// `not_after`, if it expires within `days` (0: never alert).
pub fn certificate(path: &str, not_after: SystemTime, days: u32, now: SystemTime) -> Option<Alert> {
    if days == 0 {
        return None;
    }
    let horizon = now + Duration::from_secs(u64::from(days) * 86_400);
    if not_after > horizon {
        return None;
    }
    let when = humantime::format_rfc3339_seconds(not_after);
    let summary = match not_after.duration_since(now) {
        Ok(left) => format!(
            "the certificate `{path}` expires in {} days ({when})",
            left.as_secs() / 86_400
        ),
        Err(_) => format!("the certificate `{path}` expired on {when}"),
    };
    Some(Alert {
        kind: Kind::CertificateExpiry,
        service: "headscale".into(),
        summary,
        fix: format!(
            "renew it: remove `{path}` and its key and run `privai apply` (privai makes a new self-signed pair), or install the renewed certificate there; devices must trust the new one"
        ),
    })
}

#[cfg(test)]
mod tests;
