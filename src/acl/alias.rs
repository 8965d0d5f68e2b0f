//! The syntax of the policy's entries (Headscale policy v2): aliases
//! classified the way Headscale's `parseAlias` does, `TARGET:PORTS`
//! destinations, and port lists. Parsing only: [`super::eval`] resolves
//! aliases to nodes, `privai check` reports the malformed ones.

use std::net::{Ipv4Addr, Ipv6Addr};

/// One alias of the policy, classified the way Headscale's `parseAlias` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alias<'a> {
    /// Blank.
    Empty,
    /// `*`.
    Any,
    /// An IP address, or a prefix when `cidr`.
    Ip { cidr: bool },
    /// Contains `@`: `NAME@` or an e-mail address (the whole text).
    User(&'a str),
    /// `group:NAME`.
    Group(&'a str),
    /// `tag:NAME`.
    Tag(&'a str),
    /// `autogroup:NAME`.
    Autogroup(&'a str),
    /// Anything else with a `:`: an unknown prefix.
    Prefixed(&'a str),
    /// A bare name: a host, a device or an `acl.hosts` alias.
    Name(&'a str),
}

pub fn parse_alias(text: &str) -> Alias<'_> {
    let text = text.trim();
    if text.is_empty() {
        Alias::Empty
    } else if is_ip_or_prefix(text) {
        Alias::Ip {
            cidr: text.contains('/'),
        }
    } else if text == "*" {
        Alias::Any
    } else if text.contains('@') {
        Alias::User(text)
    } else if let Some(name) = text.strip_prefix("group:") {
        Alias::Group(name)
    } else if let Some(name) = text.strip_prefix("tag:") {
        Alias::Tag(name)
    } else if let Some(name) = text.strip_prefix("autogroup:") {
        Alias::Autogroup(name)
    } else if let Some((prefix, _)) = text.split_once(':') {
        Alias::Prefixed(prefix)
    } else {
        Alias::Name(text)
    }
}

fn is_ip_or_prefix(text: &str) -> bool {
    let (addr, len) = match text.split_once('/') {
        Some((addr, len)) => (addr, Some(len)),
        None => (text, None),
    };
    let max = if addr.parse::<Ipv4Addr>().is_ok() {
        32
    } else if addr.parse::<Ipv6Addr>().is_ok() {
        128
    } else {
        return false;
    };
    len.is_none_or(|l| l.parse::<u8>().is_ok_and(|l| l <= max))
}

/// Splits `TARGET:PORTS` at its last `:` (`[v6]:PORTS` for IPv6); `None`
/// when there are no ports, as in `tag:server` or `box`.
pub fn split_destination(text: &str) -> Option<(&str, &str)> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let (_, ports) = after.rsplit_once(':')?;
        return Some((host, ports));
    }
    match text.rsplit_once(':')? {
        ("group" | "tag" | "autogroup", _) => None,
        (target, ports) => Some((target, ports)),
    }
}

/// The ports of a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ports {
    /// `*`.
    Any,
    /// Inclusive ranges; a single port is a range of one.
    Ranges(Vec<(u16, u16)>),
}

/// Parses `*`, `443`, `80,443`, `8000-8100` or a mixture; the error says why not.
pub fn parse_ports(text: &str) -> Result<Ports, String> {
    if text.trim() == "*" {
        return Ok(Ports::Any);
    }
    text.split(',')
        .map(|item| parse_range(item.trim()))
        .collect::<Result<_, _>>()
        .map(Ports::Ranges)
}

fn parse_range(item: &str) -> Result<(u16, u16), String> {
    let (first, last) = match item.split_once('-') {
        Some((first, last)) => (parse_port(first)?, parse_port(last)?),
        None => {
            let port = parse_port(item)?;
            (port, port)
        }
    };
    if first > last {
        return Err(format!("the range `{item}` is inverted"));
    }
    Ok((first, last))
}

fn parse_port(text: &str) -> Result<u16, String> {
    if text.is_empty() {
        return Err("a port is missing".to_string());
    }
    if text == "*" {
        return Err("`*` cannot be combined with other ports".to_string());
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not a port number"));
    }
    match text.parse::<u32>() {
        Ok(0) => Err("port 0 does not exist; use `*` for every port".to_string()),
        Ok(port) => u16::try_from(port).map_err(|_| format!("`{text}` is above 65535")),
        Err(_) => Err(format!("`{text}` is above 65535")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_classified_like_headscale_does() {
        assert_eq!(parse_alias("*"), Alias::Any);
        assert_eq!(parse_alias("100.64.0.1"), Alias::Ip { cidr: false });
        assert_eq!(parse_alias("10.0.0.0/8"), Alias::Ip { cidr: true });
        assert_eq!(parse_alias("fd7a:115c:a1e0::/48"), Alias::Ip { cidr: true });
        assert_eq!(parse_alias("user1@"), Alias::User("user1@"));
        assert_eq!(parse_alias(" group:trusted "), Alias::Group("trusted"));
        assert_eq!(parse_alias("tag:server"), Alias::Tag("server"));
        assert_eq!(parse_alias("autogroup:member"), Alias::Autogroup("member"));
        assert_eq!(parse_alias("grp:x"), Alias::Prefixed("grp"));
        assert_eq!(parse_alias("box"), Alias::Name("box"));
        assert_eq!(parse_alias("1.2.3.4/33"), Alias::Name("1.2.3.4/33"));
        assert_eq!(parse_alias(""), Alias::Empty);
    }

    #[test]
    fn destinations_split_at_the_last_colon() {
        assert_eq!(
            split_destination("tag:server:22"),
            Some(("tag:server", "22"))
        );
        assert_eq!(split_destination("box:*"), Some(("box", "*")));
        assert_eq!(split_destination("[fd7a::1]:80"), Some(("fd7a::1", "80")));
        assert_eq!(split_destination("box"), None);
        assert_eq!(split_destination("tag:server"), None);
        assert_eq!(split_destination("group:trusted"), None);
    }

    #[test]
    fn ports_are_star_numbers_lists_and_ranges() {
        assert_eq!(parse_ports("*"), Ok(Ports::Any));
        assert_eq!(parse_ports("443"), Ok(Ports::Ranges(vec![(443, 443)])));
        assert_eq!(
            parse_ports("22,80,8000-8100"),
            Ok(Ports::Ranges(vec![(22, 22), (80, 80), (8000, 8100)]))
        );
        assert_eq!(parse_ports("1-65535"), Ok(Ports::Ranges(vec![(1, 65535)])));
        for bad in [
            "",
            "0",
            "65536",
            "99999999999",
            "200-100",
            "http",
            "22,",
            "-5",
            "+5",
            "*,22",
        ] {
            assert!(parse_ports(bad).is_err(), "`{bad}` parsed");
        }
    }
}
