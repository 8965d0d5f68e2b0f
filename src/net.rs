//! Small, pure helpers about addresses: parsing IPv4 prefixes and telling
//! loopback, tailnet and wildcard addresses apart.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;

/// An IPv4 prefix such as `100.64.0.0/10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Net {
    /// Network address.
    pub addr: Ipv4Addr,
    /// Prefix length, 0 to 32.
    pub len: u8,
}

impl Ipv4Net {
    /// Parses `a.b.c.d/len`.
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, len) = text.split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        let len: u8 = len.parse().ok()?;
        (len <= 32).then_some(Self { addr, len })
    }

    fn mask(&self) -> u32 {
        if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - self.len)
        }
    }

    /// Whether `ip` lies inside this prefix.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.addr) & self.mask()
    }

    /// The first and last addresses of this prefix.
    pub fn bounds(&self) -> (Ipv4Addr, Ipv4Addr) {
        let first = u32::from(self.addr) & self.mask();
        (Ipv4Addr::from(first), Ipv4Addr::from(first | !self.mask()))
    }

    /// Whether all of `other` lies inside this prefix.
    pub fn covers(&self, other: &Ipv4Net) -> bool {
        other.len >= self.len && self.contains(other.addr)
    }
}

/// The range Tailscale clients accept for tailnet IPv4 addresses (CGNAT).
pub const TAILNET_V4: Ipv4Net = Ipv4Net {
    addr: Ipv4Addr::new(100, 64, 0, 0),
    len: 10,
};

/// The kinds of bind address privai tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindKind {
    /// `127.0.0.0/8`, `::1` or `localhost`.
    Loopback,
    /// `0.0.0.0`, `::` or empty: every interface.
    Wildcard,
    /// An address inside the tailnet's CGNAT range.
    Tailnet,
    /// Any other address (a LAN or public interface).
    Other,
}

/// Classifies a bind address (with or without a `:port` suffix).
pub fn bind_kind(address: &str) -> BindKind {
    let host = host_part(address);
    match host {
        "" | "0.0.0.0" | "::" | "*" => BindKind::Wildcard,
        "localhost" | "::1" => BindKind::Loopback,
        _ => match host.parse::<Ipv4Addr>() {
            Ok(ip) if ip.is_loopback() => BindKind::Loopback,
            Ok(ip) if ip.is_unspecified() => BindKind::Wildcard,
            Ok(ip) if TAILNET_V4.contains(ip) => BindKind::Tailnet,
            _ => BindKind::Other,
        },
    }
}

/// The host part of `host:port`, `[v6]:port` or a bare host.
pub fn host_part(address: &str) -> &str {
    let address = address.trim();
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match address.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            host
        }
        _ => address,
    }
}

/// A listen address as the spec writes it (`127.0.0.1`, `0.0.0.0:443`,
/// `[::]:8080`, `localhost`): `openclaw.bind`, `ollama.listen`,
/// `headscale.listen_addr`. Parsed once, when the spec is read, into its
/// host, its port (when it names one) and its [`BindKind`]. Any text is
/// accepted: the checks report a bad one, quoting it as written
/// ([`ListenAddr::as_str`], and `Display`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct ListenAddr {
    text: String,
    host: String,
    port: Option<u16>,
    kind: BindKind,
}

impl ListenAddr {
    /// Parses `host`, `host:port`, `[v6]` or `[v6]:port`.
    pub fn parse(text: &str) -> Self {
        let trimmed = text.trim();
        let port = match trimmed.strip_prefix('[') {
            Some(rest) => rest
                .split_once("]:")
                .and_then(|(_, port)| port.parse().ok()),
            None => match trimmed.rsplit_once(':') {
                Some((host, port)) if !host.contains(':') => port.parse().ok(),
                _ => None,
            },
        };
        Self {
            text: text.to_owned(),
            host: host_part(text).to_owned(),
            port,
            kind: bind_kind(text),
        }
    }

    /// The address as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Its host, without brackets or port.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Its host, an IPv6 one in brackets (for `HOST:PORT` text).
    pub fn bracketed_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// Its port, when it names one from 0 to 65535.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Loopback, wildcard, tailnet or other.
    pub fn kind(&self) -> BindKind {
        self.kind
    }

    /// Whether only the host itself reaches it.
    pub fn is_loopback(&self) -> bool {
        self.kind == BindKind::Loopback
    }

    /// Whether it listens on every interface.
    pub fn is_wildcard(&self) -> bool {
        self.kind == BindKind::Wildcard
    }

    /// `HOST:PORT` where a process on the same machine reaches the listener
    /// on `port` ([`local_host`]).
    pub fn local_socket(&self, port: u16) -> String {
        socket_address(local_host(self), port)
    }
}

impl From<String> for ListenAddr {
    fn from(text: String) -> Self {
        Self::parse(&text)
    }
}

impl From<&str> for ListenAddr {
    fn from(text: &str) -> Self {
        Self::parse(text)
    }
}

impl From<ListenAddr> for String {
    fn from(address: ListenAddr) -> Self {
        address.text
    }
}

/// Compares the address as written.
impl PartialEq<&str> for ListenAddr {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The host a process on the same machine reaches a service bound to
/// `address` at: the bind address itself; for a wildcard, loopback of the
/// same family (`::1` for `::`, which takes IPv4 only where the system maps
/// it; `127.0.0.1` otherwise); `127.0.0.1` for `localhost`, so that no
/// resolver is asked. Every part of privai that reaches a local service
/// (health checks, the gateway's Ollama URL, what `observe` asks) goes
/// through this one function.
pub fn local_host(address: &ListenAddr) -> &str {
    match address.host() {
        "::" => "::1",
        "" | "0.0.0.0" | "*" | "localhost" => "127.0.0.1",
        host => host,
    }
}

/// `host:port`, with an IPv6 host in brackets.
pub fn socket_address(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The port of `host:port`, if there is one.
pub fn port_part(address: &str) -> Option<u16> {
    let (_, port) = address.trim().rsplit_once(':')?;
    port.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_service_is_reached_at_its_bind_address_or_the_loopback_of_its_family() {
        let local_host = |text: &str| local_host(&ListenAddr::parse(text)).to_owned();
        assert_eq!(local_host("100.64.0.1"), "100.64.0.1");
        assert_eq!(local_host("127.0.0.1:11434"), "127.0.0.1");
        assert_eq!(local_host("0.0.0.0"), "127.0.0.1");
        assert_eq!(local_host(""), "127.0.0.1");
        assert_eq!(local_host("localhost"), "127.0.0.1");
        assert_eq!(local_host("::"), "::1");
        assert_eq!(local_host("[::]:11434"), "::1");
        assert_eq!(local_host("fd7a:115c:a1e0::1"), "fd7a:115c:a1e0::1");
        assert_eq!(socket_address("::1", 11434), "[::1]:11434");
        assert_eq!(socket_address("127.0.0.1", 11434), "127.0.0.1:11434");
    }

    #[test]
    fn prefixes_contain_their_addresses_only() {
        let net = Ipv4Net::parse("100.64.0.0/10").unwrap();
        assert!(net.contains("100.64.0.1".parse().unwrap()));
        assert!(net.contains("100.127.255.254".parse().unwrap()));
        assert!(!net.contains("100.128.0.1".parse().unwrap()));
        assert!(TAILNET_V4.covers(&Ipv4Net::parse("100.64.1.0/24").unwrap()));
        assert!(!TAILNET_V4.covers(&Ipv4Net::parse("10.0.0.0/8").unwrap()));
        assert_eq!(Ipv4Net::parse("100.64.0.0/33"), None);
    }

    #[test]
    fn bind_addresses_are_classified() {
        assert_eq!(bind_kind("127.0.0.1"), BindKind::Loopback);
        assert_eq!(bind_kind("127.0.0.1:8080"), BindKind::Loopback);
        assert_eq!(bind_kind("localhost:11434"), BindKind::Loopback);
        assert_eq!(bind_kind("0.0.0.0:443"), BindKind::Wildcard);
        assert_eq!(bind_kind(":443"), BindKind::Wildcard);
        assert_eq!(bind_kind("[::]:443"), BindKind::Wildcard);
        assert_eq!(bind_kind("100.64.0.1"), BindKind::Tailnet);
        assert_eq!(bind_kind("192.168.1.10"), BindKind::Other);
    }

    #[test]
    fn host_and_port_are_split() {
        assert_eq!(host_part("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(port_part("127.0.0.1:8080"), Some(8080));
        assert_eq!(host_part("[::1]:80"), "::1");
        assert_eq!(port_part("127.0.0.1"), None);
    }

    #[test]
    fn a_listen_address_is_parsed_once_into_host_port_and_kind() {
        let cases = [
            ("0.0.0.0:443", "0.0.0.0", Some(443), BindKind::Wildcard),
            ("[::]:8080", "::", Some(8080), BindKind::Wildcard),
            ("[::1]", "::1", None, BindKind::Loopback),
            ("::1", "::1", None, BindKind::Loopback),
            (
                "fd7a:115c:a1e0::1",
                "fd7a:115c:a1e0::1",
                None,
                BindKind::Other,
            ),
            (
                "localhost:11434",
                "localhost",
                Some(11434),
                BindKind::Loopback,
            ),
            ("100.64.0.1", "100.64.0.1", None, BindKind::Tailnet),
            ("127.0.0.1:99999", "127.0.0.1", None, BindKind::Loopback),
        ];
        for (text, host, port, kind) in cases {
            let address = ListenAddr::parse(text);
            assert_eq!(
                (address.host(), address.port(), address.kind()),
                (host, port, kind),
                "{text}"
            );
            assert_eq!(address.to_string(), text);
        }
        assert_eq!(ListenAddr::parse("::1").bracketed_host(), "[::1]");
        assert_eq!(ListenAddr::parse("[::]:443").local_socket(443), "[::1]:443");
        assert_eq!(
            ListenAddr::parse("0.0.0.0:8080").local_socket(8080),
            "127.0.0.1:8080"
        );
        // Read from and written to the spec as the text it is.
        let read: ListenAddr = serde_json::from_str("\"[::]:443\"").unwrap();
        assert_eq!(read, ListenAddr::parse("[::]:443"));
        assert_eq!(serde_json::to_string(&read).unwrap(), "\"[::]:443\"");
    }
}
