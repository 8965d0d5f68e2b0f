//! Small, pure helpers about addresses: parsing IPv4 prefixes and telling
//! loopback, tailnet and wildcard addresses apart.

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

/// The host a process on the same machine reaches a service bound to
/// `address` at (with or without a `:port`): the bind address itself; for a
/// wildcard, loopback of the same family (`::1` for `::`, which takes IPv4
/// only where the system maps it; `127.0.0.1` otherwise); `127.0.0.1` for
/// `localhost`, so that no resolver is asked. Every part of privai that
/// reaches a local service (health checks, the gateway's Ollama URL, what
/// `observe` asks) goes through this one function.
pub fn local_host(address: &str) -> &str {
    match host_part(address) {
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
}
