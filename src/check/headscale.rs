//! Headscale's own settings, and the monitoring schedule.
//!
//! - PRV050: `server_url` under the MagicDNS domain, or MagicDNS without a domain.
//! - PRV051: TLS settings incomplete or inconsistent with `tls.mode`.
//! - PRV052: tailnet prefixes outside the ranges Tailscale clients support.
//! - PRV053: relays through Tailscale Inc., or an embedded DERP without https.
//! - PRV054: clients reach Headscale over plain HTTP or on a port other than 443.
//! - PRV065: key rotation scheduled at an impossible hour or outlived by its keys.
//!
//! The Headscale checks run only when the spec deploys Headscale.

use crate::codes::{
    DERP_PUBLIC, MONITOR_BLIND, PLAIN_HTTP, PREFIX_RANGE, SCHEDULE, SERVER_URL_DNS, TLS,
};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::{
    AcmeChallenge, DerpMode, Headscale, KeyRotation, LogLevel, Role, Spec, TlsMode,
};
use crate::net::{Ipv4Net, TAILNET_V4};
use std::net::Ipv6Addr;

/// Runs this pass.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    if spec.deploys(Role::Headscale) {
        let hs = &spec.headscale;
        let url = ServerUrl::parse(&hs.server_url);
        server_url_dns(hs, url.as_ref(), out);
        tls(hs, url.as_ref(), out);
        prefixes(hs, out);
        derp(hs, url.as_ref(), out);
        plain_http(hs, url.as_ref(), out);
        monitor_blind(spec, out);
    }
    schedule(&spec.monitoring.key_rotation, out);
}

// ---------------------------------------------------------------- PRV101

/// The monitor's Headscale alerts read `info` lines.
fn monitor_blind(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let alerts = &spec.monitoring.alerts;
    let wanted = alerts.unexpected_nodes || alerts.auth_failures.enabled;
    let level = spec.headscale.log_level;
    if !alerts.enabled || !wanted || !matches!(level, LogLevel::Warn | LogLevel::Error) {
        return;
    }
    out.push(
        Diagnostic::warning(
            MONITOR_BLIND,
            format!(
                "`headscale.log_level` is `{}`: Headscale then does not log nodes connecting or refused API keys, so `privai monitor` cannot alert on them",
                if level == LogLevel::Warn { "warn" } else { "error" }
            ),
        )
        .at(path(&["log_level"]))
        .hint("set `headscale.log_level = 'info`, or turn the alerts off: `monitoring.alerts.unexpected_nodes = false`, `monitoring.alerts.auth_failures.enabled = false`"),
    );
}

fn path(keys: &[&str]) -> SpecPath {
    keys.iter()
        .fold(SpecPath::root().key("headscale"), |p, k| p.key(*k))
}

/// The parts of `server_url` the checks need.
#[derive(Debug, PartialEq)]
struct ServerUrl {
    /// `https://` rather than `http://`.
    https: bool,
    /// Host name or address, lower-case, without a trailing dot.
    host: String,
    /// The port, explicit or implied by the scheme.
    port: u16,
}

impl ServerUrl {
    /// Parses an `http://` or `https://` URL; `None` when it has no host.
    fn parse(url: &str) -> Option<Self> {
        let url = url.trim();
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else {
            (false, url.strip_prefix("http://")?)
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']')?;
                (host, after.strip_prefix(':'))
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        let default = if https { 443 } else { 80 };
        let port = match port {
            Some(p) => p.parse().ok()?,
            None => default,
        };
        let host = normalize(host);
        (!host.is_empty()).then_some(Self { https, host, port })
    }
}

/// A DNS name compared case-insensitively, without a trailing dot.
fn normalize(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

// ---------------------------------------------------------------- PRV050

fn server_url_dns(hs: &Headscale, url: Option<&ServerUrl>, out: &mut Vec<Diagnostic>) {
    if !hs.dns.magic_dns {
        return;
    }
    let base = normalize(&hs.dns.base_domain);
    if base.is_empty() {
        out.push(
            Diagnostic::error(
                SERVER_URL_DNS,
                "`headscale.dns.base_domain` is empty while `headscale.dns.magic_dns` is on: Headscale refuses to start",
            )
            .at(path(&["dns", "base_domain"]))
            .hint("set a domain for MagicDNS names, e.g. `tailnet.home.arpa`, or turn `headscale.dns.magic_dns` off"),
        );
        return;
    }
    let Some(url) = url else {
        return;
    };
    if url.host == base || url.host.ends_with(&format!(".{base}")) {
        out.push(
            Diagnostic::error(
                SERVER_URL_DNS,
                format!(
                    "the host of `headscale.server_url` (`{}`) is the MagicDNS domain `{base}` or a name under it: Headscale refuses to start",
                    url.host
                ),
            )
            .at(path(&["server_url"]))
            .hint(format!(
                "serve Headscale under a name outside `{base}` (e.g. `headscale.home.arpa` beside `tailnet.home.arpa`), or change `headscale.dns.base_domain`"
            )),
        );
    }
}

// ---------------------------------------------------------------- PRV051

fn tls(hs: &Headscale, url: Option<&ServerUrl>, out: &mut Vec<Diagnostic>) {
    match hs.tls.mode {
        TlsMode::SelfSigned => self_signed(hs, out),
        TlsMode::Letsencrypt => {
            letsencrypt(hs, url, out);
            ignored_files(hs, "'letsencrypt", out);
        }
        TlsMode::Proxy => ignored_files(hs, "'proxy", out),
    }
    if hs.tls.mode != TlsMode::Letsencrypt {
        ignored_acme(hs, out);
    }
}

/// Self-signed mode takes both files or neither (privai then creates a
/// certificate for the `server_url` host); one without the other is a mistake.
fn self_signed(hs: &Headscale, out: &mut Vec<Diagnostic>) {
    let files = [
        ("cert_path", &hs.tls.cert_path, "certificate (full chain)"),
        ("key_path", &hs.tls.key_path, "private key"),
    ];
    if files.iter().all(|(_, value, _)| value.is_none()) {
        return;
    }
    for (key, value, what) in files {
        if value.is_none() {
            out.push(
                Diagnostic::error(
                    TLS,
                    format!("`headscale.tls.mode` is `'self_signed` with one file given but `headscale.tls.{key}` is not set: Headscale has no {what} to serve"),
                )
                .at(path(&["tls", key]))
                .hint(format!(
                    "set `headscale.tls.{key}` to the absolute path of the {what}, or set neither file to let privai create a self-signed certificate"
                )),
            );
        }
    }
}

fn letsencrypt(hs: &Headscale, url: Option<&ServerUrl>, out: &mut Vec<Diagnostic>) {
    let tls = &hs.tls;
    match &tls.letsencrypt_hostname {
        None => out.push(
            Diagnostic::error(
                TLS,
                "`headscale.tls.mode` is `'letsencrypt` but `headscale.tls.letsencrypt_hostname` is not set",
            )
            .at(path(&["tls", "letsencrypt_hostname"]))
            .hint(match url {
                Some(url) => format!("set `headscale.tls.letsencrypt_hostname = \"{}\"`, the host of `server_url`", url.host),
                None => "set `headscale.tls.letsencrypt_hostname` to the public name of `server_url`".to_string(),
            }),
        ),
        Some(name) => {
            if let Some(url) = url.filter(|u| u.host != normalize(name)) {
                out.push(
                    Diagnostic::error(
                        TLS,
                        format!(
                            "`headscale.tls.letsencrypt_hostname` is `{name}`, but clients connect to `{}` (`server_url`): the certificate will not match",
                            url.host
                        ),
                    )
                    .at(path(&["tls", "letsencrypt_hostname"]))
                    .hint(format!("use the same name in both, e.g. `letsencrypt_hostname = \"{}\"`", url.host)),
                );
            }
        }
    }
    if tls.acme_email.is_none() {
        out.push(
            Diagnostic::warning(TLS, "`headscale.tls.acme_email` is not set: Let's Encrypt cannot warn you about expiring certificates or account problems")
                .at(path(&["tls", "acme_email"]))
                .hint("set `headscale.tls.acme_email` to an address you read"),
        );
    }
    if tls.challenge == AcmeChallenge::TlsAlpn01 && hs.listen_addr.port() != Some(443) {
        out.push(
            Diagnostic::warning(
                TLS,
                format!("`headscale.tls.challenge` is `'tls_alpn_01` but `headscale.listen_addr` (`{}`) is not on port 443, where Let's Encrypt connects", hs.listen_addr),
            )
            .at(path(&["tls", "challenge"]))
            .hint("listen on port 443 (e.g. `0.0.0.0:443`), or use `challenge = 'http_01`"),
        );
    }
}

/// Certificate files given in a mode that does not use them.
fn ignored_files(hs: &Headscale, mode: &str, out: &mut Vec<Diagnostic>) {
    for (key, value) in [
        ("cert_path", &hs.tls.cert_path),
        ("key_path", &hs.tls.key_path),
    ] {
        if let Some(value) = value {
            out.push(
                Diagnostic::warning(
                    TLS,
                    format!("`headscale.tls.{key}` (`{value}`) is ignored: `headscale.tls.mode` is `{mode}`"),
                )
                .at(path(&["tls", key]))
                .hint(format!("remove `headscale.tls.{key}`, or set `tls.mode = 'self_signed` to serve these files")),
            );
        }
    }
}

/// ACME settings given in a mode that does not use them.
fn ignored_acme(hs: &Headscale, out: &mut Vec<Diagnostic>) {
    for (key, value) in [
        ("letsencrypt_hostname", &hs.tls.letsencrypt_hostname),
        ("acme_email", &hs.tls.acme_email),
    ] {
        if let Some(value) = value {
            out.push(
                Diagnostic::warning(
                    TLS,
                    format!("`headscale.tls.{key}` (`{value}`) is ignored: `headscale.tls.mode` is not `'letsencrypt`"),
                )
                .at(path(&["tls", key]))
                .hint(format!("remove `headscale.tls.{key}`, or set `tls.mode = 'letsencrypt`")),
            );
        }
    }
}

// ---------------------------------------------------------------- PRV052

/// The range Tailscale clients accept for tailnet IPv6 addresses.
const TAILNET_V6: &str = "fd7a:115c:a1e0::/48";

/// Whether `prefix` is an IPv6 prefix inside `fd7a:115c:a1e0::/48`; `None` if it does not parse.
fn v6_inside_tailnet(prefix: &str) -> Option<bool> {
    let (addr, len) = prefix.trim().split_once('/')?;
    let addr: Ipv6Addr = addr.parse().ok()?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 128)?;
    Some(len >= 48 && addr.segments()[..3] == [0xfd7a, 0x115c, 0xa1e0])
}

/// Whether `prefix` is an IPv4 prefix inside `100.64.0.0/10`; `None` if it does not parse.
fn v4_inside_tailnet(prefix: &str) -> Option<bool> {
    Ipv4Net::parse(prefix.trim()).map(|net| TAILNET_V4.covers(&net))
}

fn prefixes(hs: &Headscale, out: &mut Vec<Diagnostic>) {
    for (key, value, inside, range) in [
        (
            "v4",
            &hs.prefixes.v4,
            v4_inside_tailnet(&hs.prefixes.v4),
            "100.64.0.0/10",
        ),
        (
            "v6",
            &hs.prefixes.v6,
            v6_inside_tailnet(&hs.prefixes.v6),
            TAILNET_V6,
        ),
    ] {
        let message = match inside {
            Some(true) => continue,
            Some(false) => format!(
                "`headscale.prefixes.{key}` is `{value}`, which does not lie inside `{range}`, the range Tailscale clients support"
            ),
            None => format!("`headscale.prefixes.{key}` is `{value}`, which is not a valid prefix"),
        };
        out.push(
            Diagnostic::error(PREFIX_RANGE, message)
                .at(path(&["prefixes", key]))
                .hint(format!("use `{range}` or a smaller range inside it")),
        );
    }
}

// ---------------------------------------------------------------- PRV053

fn derp(hs: &Headscale, url: Option<&ServerUrl>, out: &mut Vec<Diagnostic>) {
    match hs.derp.mode {
        DerpMode::Tailscale => out.push(
            Diagnostic::warning(
                DERP_PUBLIC,
                "`headscale.derp.mode` is `'tailscale`: relayed traffic and STUN go through Tailscale Inc.'s public DERP servers, an external dependency",
            )
            .at(path(&["derp", "mode"]))
            .hint("use `'embedded` so relays run on your own Headscale (it needs an https `server_url` and UDP `stun_port` reachable)"),
        ),
        DerpMode::Embedded => {
            if url.is_some_and(|u| !u.https) {
                out.push(
                    Diagnostic::error(
                        DERP_PUBLIC,
                        format!("`headscale.server_url` is `{}`, but the embedded DERP server needs an https URL", hs.server_url),
                    )
                    .at(path(&["server_url"]))
                    .hint("serve Headscale over https (set `server_url` to `https://…`), or set `headscale.derp.mode = 'tailscale`"),
                );
            }
        }
    }
}

// ---------------------------------------------------------------- PRV054

fn plain_http(hs: &Headscale, url: Option<&ServerUrl>, out: &mut Vec<Diagnostic>) {
    let Some(url) = url else {
        return;
    };
    let server_url = &hs.server_url;
    if !url.https {
        let why = match hs.tls.mode {
            TlsMode::Proxy => "a reverse proxy should give clients https",
            TlsMode::SelfSigned | TlsMode::Letsencrypt => "Headscale itself serves TLS",
        };
        out.push(
            Diagnostic::warning(
                PLAIN_HTTP,
                format!("`headscale.server_url` is `{server_url}`: clients reach Headscale over plain HTTP although {why}"),
            )
            .at(path(&["server_url"]))
            .hint(format!("use `https://{}`", url.host)),
        );
    } else if url.port != 443 {
        out.push(
            Diagnostic::warning(
                PLAIN_HTTP,
                format!("`headscale.server_url` is `{server_url}`, on port {} rather than 443: Tailscale clients and some networks expect 443", url.port),
            )
            .at(path(&["server_url"]))
            .hint(format!("serve Headscale on port 443: `https://{}`", url.host)),
        );
    }
}

// ---------------------------------------------------------------- PRV065

fn schedule(rotation: &KeyRotation, out: &mut Vec<Diagnostic>) {
    let base = SpecPath::root().key("monitoring").key("key_rotation");
    if rotation.hour > 23 {
        out.push(
            Diagnostic::error(
                SCHEDULE,
                format!("`monitoring.key_rotation.hour` is `{}`, but an hour of the day runs from 0 to 23", rotation.hour),
            )
            .at(base.key("hour"))
            .hint("set an hour from 0 to 23 (local time), e.g. `3`"),
        );
    }
    if rotation.enabled && rotation.preauth_key_expiry_days > rotation.interval_days {
        out.push(
            Diagnostic::warning(
                SCHEDULE,
                format!(
                    "`monitoring.key_rotation.preauth_key_expiry_days` is `{}`, longer than the rotation interval of {} days: old keys outlive their rotation",
                    rotation.preauth_key_expiry_days, rotation.interval_days
                ),
            )
            .at(base.key("preauth_key_expiry_days"))
            .hint(format!("let pre-auth keys expire within {} days", rotation.interval_days)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{ServerUrl, v6_inside_tailnet};
    use crate::check::testing::{BASE, findings};

    const CODES: &[&str] = &[
        "PRV050", "PRV051", "PRV052", "PRV053", "PRV054", "PRV065", "PRV101",
    ];

    /// BASE with a complete self-signed TLS setup.
    const TLS_BASE: &str = r#"{
      headscale = {
        listen_addr = "0.0.0.0:443",
        tls = { cert_path = "/etc/tls/hs.crt", key_path = "/etc/tls/hs.key" },
      },
    }"#;

    /// The findings of this pass for `text`, as `(code, path)`.
    fn headscale_findings(text: &str) -> Vec<(&'static str, String)> {
        findings(text)
            .into_iter()
            .filter(|(code, _)| CODES.contains(code))
            .collect()
    }

    /// BASE with TLS_BASE and `extra`.
    fn case(extra: &str) -> Vec<(&'static str, String)> {
        headscale_findings(&format!("{BASE} & {TLS_BASE} & {extra}"))
    }

    fn found(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        pairs.iter().map(|(c, p)| (*c, p.to_string())).collect()
    }

    #[test]
    fn a_complete_self_signed_setup_is_clean() {
        assert_eq!(case("{}"), vec![]);
    }

    #[test]
    fn a_headscale_log_level_that_hides_the_monitors_lines_is_reported_unless_those_alerts_are_off()
    {
        let blind = found(&[("PRV101", "headscale.log_level")]);
        assert_eq!(case("{ headscale.log_level = 'warn }"), blind);
        assert_eq!(case("{ headscale.log_level = 'error }"), blind);
        assert_eq!(case("{ headscale.log_level = 'debug }"), vec![]);
        assert_eq!(
            case(
                "{ headscale.log_level = 'warn, monitoring.alerts = { unexpected_nodes = false, auth_failures.enabled = false } }"
            ),
            vec![]
        );
        assert_eq!(
            case("{ headscale.log_level = 'warn, monitoring.alerts.enabled = false }"),
            vec![]
        );
    }

    #[test]
    fn urls_are_split_into_scheme_host_and_port() {
        let url = ServerUrl::parse("https://HS.Example.org.:8443/path").unwrap();
        assert_eq!(
            (url.https, url.host.as_str(), url.port),
            (true, "hs.example.org", 8443)
        );
        assert_eq!(
            ServerUrl::parse("http://[fd7a::1]/").map(|u| u.port),
            Some(80)
        );
        assert_eq!(
            ServerUrl::parse("https://hs.example.org").map(|u| u.port),
            Some(443)
        );
        assert_eq!(ServerUrl::parse("https://"), None);
    }

    #[test]
    fn a_server_url_under_the_magicdns_domain_is_refused() {
        assert_eq!(
            case(r#"{ headscale.server_url = "https://hs.tailnet.home.arpa" }"#),
            found(&[("PRV050", "headscale.server_url")])
        );
        assert_eq!(
            case(r#"{ headscale.server_url = "https://tailnet.home.arpa" }"#),
            found(&[("PRV050", "headscale.server_url")])
        );
    }

    #[test]
    fn a_server_url_beside_the_magicdns_domain_is_fine() {
        assert_eq!(
            case(r#"{ headscale.server_url = "https://mytailnet.home.arpa" }"#),
            vec![]
        );
    }

    #[test]
    fn the_server_url_may_be_anything_without_magicdns() {
        assert_eq!(
            case(
                r#"{ headscale = { server_url = "https://hs.tailnet.home.arpa", dns.magic_dns = false } }"#
            ),
            vec![]
        );
    }

    #[test]
    fn magicdns_without_a_base_domain_is_refused() {
        assert_eq!(
            case(r#"{ headscale.dns.base_domain = "" }"#),
            found(&[("PRV050", "headscale.dns.base_domain")])
        );
    }

    #[test]
    fn self_signed_tls_takes_both_files_or_neither() {
        assert_eq!(
            headscale_findings(&format!(
                r#"{BASE} & {{ headscale.listen_addr = "0.0.0.0:443" }}"#
            )),
            found(&[])
        );
        assert_eq!(
            headscale_findings(&format!(
                r#"{BASE} & {{ headscale = {{ listen_addr = "0.0.0.0:443", tls.cert_path = "/etc/tls/hs.crt" }} }}"#
            )),
            found(&[("PRV051", "headscale.tls.key_path")])
        );
    }

    #[test]
    fn letsencrypt_needs_a_hostname_and_should_have_an_email() {
        assert_eq!(
            headscale_findings(&format!(
                r#"{BASE} & {{ headscale = {{ listen_addr = "0.0.0.0:443", tls.mode = 'letsencrypt }} }}"#
            )),
            found(&[
                ("PRV051", "headscale.tls.letsencrypt_hostname"),
                ("PRV051", "headscale.tls.acme_email")
            ])
        );
    }

    #[test]
    fn the_letsencrypt_hostname_must_match_the_server_url() {
        let text = format!(
            r#"{BASE} & {{ headscale = {{ listen_addr = "0.0.0.0:443", server_url = "https://hs.example.org",
                 tls = {{ mode = 'letsencrypt, letsencrypt_hostname = "other.example.org", acme_email = "a@example.org" }} }} }}"#
        );
        assert_eq!(
            headscale_findings(&text),
            found(&[("PRV051", "headscale.tls.letsencrypt_hostname")])
        );
    }

    #[test]
    fn certificate_files_are_ignored_behind_a_proxy() {
        assert_eq!(
            case("{ headscale.tls.mode = 'proxy }"),
            found(&[
                ("PRV051", "headscale.tls.cert_path"),
                ("PRV051", "headscale.tls.key_path")
            ])
        );
    }

    #[test]
    fn prefixes_must_lie_inside_the_tailscale_ranges() {
        assert_eq!(
            case(r#"{ headscale.prefixes = { v4 = "10.0.0.0/8", v6 = "fd00::/48" } }"#),
            found(&[
                ("PRV052", "headscale.prefixes.v4"),
                ("PRV052", "headscale.prefixes.v6")
            ])
        );
        assert_eq!(
            case(
                r#"{ headscale.prefixes = { v4 = "100.64.0.0/24", v6 = "fd7a:115c:a1e0:ab12::/64" } }"#
            ),
            vec![]
        );
    }

    #[test]
    fn ipv6_prefixes_are_parsed() {
        assert_eq!(v6_inside_tailnet("fd7a:115c:a1e0::/48"), Some(true));
        assert_eq!(v6_inside_tailnet("fd7a:115c::/32"), Some(false));
        assert_eq!(v6_inside_tailnet("fd7a:::/48"), None);
        assert_eq!(v6_inside_tailnet("fd7a:115c:a1e0::/129"), None);
    }

    #[test]
    fn tailscale_relays_are_a_warning() {
        assert_eq!(
            case("{ headscale.derp.mode = 'tailscale }"),
            found(&[("PRV053", "headscale.derp.mode")])
        );
    }

    #[test]
    fn embedded_derp_over_plain_http_is_an_error() {
        assert_eq!(
            case(r#"{ headscale.server_url = "http://headscale.home.arpa" }"#),
            found(&[
                ("PRV053", "headscale.server_url"),
                ("PRV054", "headscale.server_url")
            ])
        );
    }

    #[test]
    fn https_on_another_port_than_443_is_a_warning() {
        assert_eq!(
            case(r#"{ headscale.server_url = "https://headscale.home.arpa:8443" }"#),
            found(&[("PRV054", "headscale.server_url")])
        );
    }

    #[test]
    fn headscale_settings_are_not_checked_without_a_headscale_host() {
        let text = r#"{ hosts = [ { name = "a", platform = 'linux, ram_gb = 16, roles = ['ollama] } ],
                       headscale.derp.mode = 'tailscale }"#;
        assert_eq!(headscale_findings(text), vec![]);
    }

    #[test]
    fn the_rotation_hour_must_be_an_hour_of_the_day() {
        assert_eq!(
            case("{ monitoring.key_rotation.hour = 24 }"),
            found(&[("PRV065", "monitoring.key_rotation.hour")])
        );
    }

    #[test]
    fn preauth_keys_should_not_outlive_the_rotation() {
        assert_eq!(
            case(
                "{ monitoring.key_rotation = { interval_days = 7, preauth_key_expiry_days = 30 } }"
            ),
            found(&[("PRV065", "monitoring.key_rotation.preauth_key_expiry_days")])
        );
    }

    #[test]
    fn the_seed_example_has_no_headscale_findings() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/seed-home.ncl"
        ))
        .unwrap();
        assert_eq!(headscale_findings(&text), vec![]);
    }
}
