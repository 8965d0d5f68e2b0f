//! Who can reach what: the addresses and ports the services listen on.
//!
//! - PRV015: two services of one host on the same port and overlapping addresses.
//! - PRV020: Ollama (no authentication) on anything but loopback or its host's tailnet IP.
//! - PRV021: the gateway published on anything but loopback or its host's tailnet IP.
//! - PRV022: browser origins Ollama accepts that are open or not local.
//! - PRV023: Headscale's listeners exposed, or at odds with its TLS mode.
//! - PRV024: the gateway on another host than a loopback-only Ollama.
//!
//! Only services the spec deploys are checked, on the host they resolve to;
//! a service without a host is reported by the services pass.

use crate::codes::{
    GATEWAY_EXPOSED, HEADSCALE_LISTEN, OLLAMA_EXPOSED, OPEN_ORIGINS, PORT_CLASH, PORT_RANGE,
    UNREACHABLE_OLLAMA,
};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::{DerpMode, Host, Role, Spec, TlsMode};
use crate::net::{BindKind, ListenAddr, bind_kind, host_part};

/// Runs this pass.
pub fn check(spec: &Spec, out: &mut Vec<Diagnostic>) {
    port_clashes(spec, out);
    ollama_listen(spec, out);
    gateway_bind(spec, out);
    ollama_origins(spec, out);
    headscale_listeners(spec, out);
    listen_ports(spec, out);
    ollama_reachable(spec, out);
}

fn ollama_path(key: &str) -> SpecPath {
    SpecPath::root().key("ollama").key(key)
}

fn openclaw_path(key: &str) -> SpecPath {
    SpecPath::root().key("openclaw").key(key)
}

fn headscale_path(key: &str) -> SpecPath {
    SpecPath::root().key("headscale").key(key)
}

/// The host that runs `role`, if the spec deploys the role and the host resolves.
fn deployed_on(spec: &Spec, role: Role) -> Option<&Host> {
    if spec.deploys(role) {
        spec.service_host(role)
    } else {
        None
    }
}

/// The path `hosts[i]` of the host named `name`.
fn host_path(spec: &Spec, name: &str) -> SpecPath {
    let index = spec.hosts.iter().position(|h| h.name == name).unwrap_or(0);
    SpecPath::root().key("hosts").index(index)
}

// ---------------------------------------------------------------- PRV015

/// One socket a service listens on.
struct Listener<'a> {
    /// Host the service runs on.
    host: &'a str,
    /// The option that sets the port, for the message.
    option: &'static str,
    /// The value as written (`127.0.0.1:8080`, `11434`).
    shown: String,
    /// Path of the value that sets the port.
    path: SpecPath,
    /// Bind address without port.
    address: String,
    /// Port number.
    port: u16,
    /// UDP rather than TCP.
    udp: bool,
}

/// Every socket of the deployed services, in spec order.
fn listeners(spec: &Spec) -> Vec<Listener<'_>> {
    let mut found = Vec::new();
    if let Some(host) = deployed_on(spec, Role::Headscale) {
        let hs = &spec.headscale;
        for (option, key, addr) in [
            ("headscale.listen_addr", "listen_addr", &hs.listen_addr),
            (
                "headscale.metrics_listen_addr",
                "metrics_listen_addr",
                &hs.metrics_listen_addr,
            ),
        ] {
            if let Some(port) = addr.port() {
                found.push(Listener {
                    host: &host.name,
                    option,
                    shown: addr.to_string(),
                    path: headscale_path(key),
                    address: addr.host().to_string(),
                    port,
                    udp: false,
                });
            }
        }
        if hs.derp.mode == DerpMode::Embedded {
            found.push(Listener {
                host: &host.name,
                option: "headscale.derp.stun_port",
                shown: hs.derp.stun_port.to_string(),
                path: headscale_path("derp").key("stun_port"),
                address: "0.0.0.0".into(),
                port: hs.derp.stun_port,
                udp: true,
            });
        }
    }
    if let Some(host) = deployed_on(spec, Role::Ollama) {
        found.push(Listener {
            host: &host.name,
            option: "ollama.port",
            shown: spec.ollama.port.to_string(),
            path: ollama_path("port"),
            address: spec.ollama.listen.host().to_string(),
            port: spec.ollama.port,
            udp: false,
        });
    }
    if let (Some(gateway), Some(host)) = (spec.gateway(), deployed_on(spec, Role::Openclaw)) {
        found.push(Listener {
            host: &host.name,
            option: "openclaw.port",
            shown: gateway.port.to_string(),
            path: openclaw_path("port"),
            address: gateway.bind.host().to_string(),
            port: gateway.port,
            udp: false,
        });
    }
    if let Some((homeserver, host)) = spec.homeserver() {
        for address in crate::render::homeserver::bind_addresses(homeserver, host) {
            found.push(Listener {
                host: &host.name,
                option: "homeserver.port",
                shown: format!("{address}:{}", homeserver.port),
                path: SpecPath::root().key("homeserver").key("port"),
                address,
                port: homeserver.port,
                udp: false,
            });
        }
    }
    found
}

/// Whether two bind addresses (without port) can accept the same connection.
fn addresses_overlap(a: &str, b: &str) -> bool {
    let canonical = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
        "localhost" => "127.0.0.1".to_string(),
        other => other.to_string(),
    };
    bind_kind(a) == BindKind::Wildcard
        || bind_kind(b) == BindKind::Wildcard
        || canonical(a) == canonical(b)
}

fn port_clashes(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let all = listeners(spec);
    for (i, later) in all.iter().enumerate() {
        let Some(earlier) = all[..i].iter().find(|e| {
            e.host == later.host
                && e.udp == later.udp
                && e.port == later.port
                && addresses_overlap(&e.address, &later.address)
        }) else {
            continue;
        };
        let proto = if later.udp { "UDP" } else { "TCP" };
        out.push(
            Diagnostic::error(
                PORT_CLASH,
                format!(
                    "`{}` (`{}`) and `{}` (`{}`) both take {proto} port {} on host `{}`",
                    later.option,
                    later.shown,
                    earlier.option,
                    earlier.shown,
                    later.port,
                    later.host
                ),
            )
            .at(later.path.clone())
            .hint(format!(
                "give `{}` or `{}` another port",
                later.option, earlier.option
            )),
        );
    }
}

// ---------------------------------------------------------- PRV020, PRV021

/// What is wrong with a service's bind address.
enum Exposure {
    /// Every interface.
    Wildcard,
    /// A LAN or public address.
    Other,
    /// A tailnet address that is not the host's own; carries the host's, if any.
    ForeignTailnet(Option<String>),
}

/// A service's bind address, where it is set and the host it applies to.
struct Bind<'a> {
    /// The code to report under.
    code: &'static str,
    /// The option, for messages (`ollama.listen`).
    option: &'static str,
    /// Path of the option.
    path: SpecPath,
    /// The address.
    address: &'a ListenAddr,
    /// The host the service runs on, when it resolves.
    host: Option<&'a Host>,
}

impl Bind<'_> {
    /// The problem with this bind address, if any.
    fn exposure(&self) -> Option<Exposure> {
        match self.address.kind() {
            BindKind::Loopback => None,
            BindKind::Wildcard => Some(Exposure::Wildcard),
            BindKind::Other => Some(Exposure::Other),
            BindKind::Tailnet => {
                let own = self.host?.tailnet_ip.as_deref();
                (own != Some(self.address.host()))
                    .then(|| Exposure::ForeignTailnet(own.map(String::from)))
            }
        }
    }

    /// The addresses the service may use, for hints.
    fn allowed(&self) -> String {
        match self.host.and_then(|h| h.tailnet_ip.as_deref()) {
            Some(ip) => format!("`127.0.0.1` or the host's tailnet IP `{ip}`"),
            None => "`127.0.0.1`".to_string(),
        }
    }

    /// The diagnostic for this bind address, if it exposes the service.
    fn check(self, spec: &Spec) -> Option<Diagnostic> {
        let problem = self.exposure()?;
        let (option, address) = (self.option, self.address);
        let allowed = self.allowed();
        let host_name = self.host.map_or("?", |h| h.name.as_str());
        let (message, hint) = match problem {
            Exposure::Wildcard => (
                format!(
                    "`{option}` is `{address}`: the service answers on every interface of the host, LAN included"
                ),
                format!("set `{option}` to {allowed}; never `0.0.0.0`"),
            ),
            Exposure::Other => (
                format!(
                    "`{option}` is `{address}`, a LAN or public address: the service is reachable outside the tailnet"
                ),
                format!("set `{option}` to {allowed}"),
            ),
            Exposure::ForeignTailnet(Some(own)) => (
                format!(
                    "`{option}` is `{address}`, which is not the tailnet IP of host `{host_name}` (`{own}`)"
                ),
                format!("set `{option}` to {allowed}"),
            ),
            Exposure::ForeignTailnet(None) => (
                format!(
                    "`{option}` is the tailnet address `{address}`, but host `{host_name}` has no `tailnet_ip`"
                ),
                format!(
                    "pin the host's address with `{}.tailnet_ip = \"{}\"`, or set `{option}` to `127.0.0.1`",
                    host_path(spec, host_name),
                    address.host()
                ),
            ),
        };
        Some(
            Diagnostic::error(self.code, message)
                .at(self.path)
                .hint(hint),
        )
    }
}

fn ollama_listen(spec: &Spec, out: &mut Vec<Diagnostic>) {
    if !spec.deploys(Role::Ollama) {
        return;
    }
    let bind = Bind {
        code: OLLAMA_EXPOSED,
        option: "ollama.listen",
        path: ollama_path("listen"),
        address: &spec.ollama.listen,
        host: spec.service_host(Role::Ollama),
    };
    if let Some(d) = bind.check(spec) {
        out.push(d.note(
            "Ollama has no authentication: whoever reaches its port can use its models and pull new ones",
        ));
    }
}

fn gateway_bind(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let Some(gateway) = spec.gateway() else {
        return;
    };
    let bind = Bind {
        code: GATEWAY_EXPOSED,
        option: "openclaw.bind",
        path: openclaw_path("bind"),
        address: &gateway.bind,
        host: spec.service_host(Role::Openclaw),
    };
    out.extend(bind.check(spec));
}

// ---------------------------------------------------------------- PRV022

/// Schemes Ollama always allows (local apps and editors).
const LOCAL_SCHEMES: &[&str] = &["app", "file", "tauri", "vscode-webview", "vscode-file"];

/// The scheme (if any) and host of a CORS origin such as `https://ui.example:3000`.
fn origin_parts(origin: &str) -> (Option<&str>, &str) {
    let origin = origin.trim();
    let (scheme, rest) = match origin.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, origin),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    (scheme, host_part(authority))
}

fn ollama_origins(spec: &Spec, out: &mut Vec<Diagnostic>) {
    if !spec.deploys(Role::Ollama) {
        return;
    }
    for (i, origin) in spec.ollama.origins.iter().enumerate() {
        let path = ollama_path("origins").index(i);
        let (scheme, host) = origin_parts(origin);
        if host == "*" {
            out.push(
                Diagnostic::error(
                    OPEN_ORIGINS,
                    format!("`ollama.origins` allows `{origin}`: any web page can call Ollama from a browser that reaches it"),
                )
                .at(path)
                .hint("list the exact origins of the web UIs you use, e.g. `http://localhost:3000`; CORS is not authentication"),
            );
        } else if !scheme.is_some_and(|s| LOCAL_SCHEMES.contains(&s))
            && bind_kind(host) != BindKind::Loopback
            && host != "0.0.0.0"
        {
            out.push(
                Diagnostic::warning(
                    OPEN_ORIGINS,
                    format!("`ollama.origins` allows `{origin}`, which is not a local origin: pages served from it can call Ollama from a browser"),
                )
                .at(path)
                .hint("remove it unless a web UI you trust is served there; local origins (`localhost`, `127.0.0.1`) are always allowed"),
            );
        }
    }
}

// ---------------------------------------------------------------- PRV023

fn headscale_listeners(spec: &Spec, out: &mut Vec<Diagnostic>) {
    if !spec.deploys(Role::Headscale) {
        return;
    }
    let hs = &spec.headscale;
    let metrics = hs.metrics_listen_addr.as_str().trim();
    if !metrics.is_empty() && !hs.metrics_listen_addr.is_loopback() {
        out.push(
            Diagnostic::error(
                HEADSCALE_LISTEN,
                format!("`headscale.metrics_listen_addr` is `{metrics}`: the metrics and debug endpoint has no authentication"),
            )
            .at(headscale_path("metrics_listen_addr"))
            .hint("keep it on loopback, e.g. `127.0.0.1:9090`"),
        );
    }
    let listen = &hs.listen_addr;
    let loopback = listen.is_loopback();
    let path = headscale_path("listen_addr");
    match hs.tls.mode {
        TlsMode::Proxy if !loopback => out.push(
            Diagnostic::warning(
                HEADSCALE_LISTEN,
                format!("`headscale.listen_addr` is `{listen}` although a reverse proxy terminates TLS: Headscale's plain-HTTP listener is reachable beside the proxy"),
            )
            .at(path)
            .hint("listen on loopback, e.g. `127.0.0.1:8080`, and let the proxy forward to it"),
        ),
        TlsMode::SelfSigned | TlsMode::Letsencrypt if loopback => out.push(
            Diagnostic::warning(
                HEADSCALE_LISTEN,
                format!("`headscale.listen_addr` is `{listen}`, loopback only: clients cannot reach Headscale's TLS listener unless something forwards to it"),
            )
            .at(path)
            .hint("listen where clients reach it, e.g. `0.0.0.0:443`, or set `headscale.tls.mode = 'proxy` behind a reverse proxy"),
        ),
        _ => {}
    }
}

// ---------------------------------------------------------------- PRV082

/// Headscale's `HOST:PORT` listeners must name a port from 1 to 65535: a
/// missing or impossible port is otherwise skipped by the checks above and
/// only breaks Headscale when it starts. An empty metrics address (no
/// metrics endpoint) is allowed.
fn listen_ports(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let hs = &spec.headscale;
    for (key, value, example, optional) in [
        ("listen_addr", &hs.listen_addr, "0.0.0.0:443", false),
        (
            "metrics_listen_addr",
            &hs.metrics_listen_addr,
            "127.0.0.1:9090",
            true,
        ),
    ] {
        let value = value.as_str().trim();
        if optional && value.is_empty() {
            continue;
        }
        let problem = match value.rsplit_once(':').map(|(_, port)| port) {
            None | Some("") => "has no port".to_owned(),
            Some(port) => match port.parse::<u32>() {
                Ok(1..=65535) => continue,
                Ok(n) => format!("has port {n}, outside 1 to 65535"),
                Err(_) => format!("has `{port}` where its port should be"),
            },
        };
        out.push(
            Diagnostic::error(
                PORT_RANGE,
                format!("`headscale.{key}` is `{value}`, which {problem}"),
            )
            .at(headscale_path(key))
            .hint(format!(
                "write `HOST:PORT` with a port from 1 to 65535, e.g. `{example}`"
            )),
        );
    }
}

// ---------------------------------------------------------------- PRV024

fn ollama_reachable(spec: &Spec, out: &mut Vec<Diagnostic>) {
    if spec.gateway().is_none() {
        return;
    }
    let (Some(gateway), Some(ollama)) = (
        spec.service_host(Role::Openclaw),
        spec.service_host(Role::Ollama),
    ) else {
        return;
    };
    let listen = &spec.ollama.listen;
    if gateway.name == ollama.name || !listen.is_loopback() {
        return;
    }
    let target = match &ollama.tailnet_ip {
        Some(ip) => format!("the tailnet IP of `{}` (`{ip}`)", ollama.name),
        None => format!(
            "the tailnet IP of `{}` (pin one with `{}.tailnet_ip`)",
            ollama.name,
            host_path(spec, &ollama.name)
        ),
    };
    out.push(
        Diagnostic::error(
            UNREACHABLE_OLLAMA,
            format!(
                "`ollama.listen` is `{listen}` on host `{}`, but the gateway runs on host `{}` and cannot reach a loopback address of another machine",
                ollama.name, gateway.name
            ),
        )
        .at(ollama_path("listen"))
        .hint(format!(
            "set `ollama.listen` to {target} and let `{}` reach port {} in the ACL, or run the gateway on `{}`",
            gateway.name, spec.ollama.port, ollama.name
        )),
    );
}

#[cfg(test)]
mod tests {
    use crate::check::testing::{BASE, findings};

    const CODES: &[&str] = &["PRV015", "PRV020", "PRV021", "PRV022", "PRV023", "PRV024"];

    /// The findings of this pass for `text`, as `(code, path)`.
    fn network_findings(text: &str) -> Vec<(&'static str, String)> {
        findings(text)
            .into_iter()
            .filter(|(code, _)| CODES.contains(code))
            .collect()
    }

    /// BASE with Headscale on TLS at 0.0.0.0:443, merged with `extra`.
    fn case(extra: &str) -> Vec<(&'static str, String)> {
        network_findings(&format!(
            r#"{BASE} & {{ headscale.listen_addr = "0.0.0.0:443" }} & {extra}"#
        ))
    }

    fn found(code: &'static str, path: &str) -> Vec<(&'static str, String)> {
        vec![(code, path.to_string())]
    }

    const GATEWAY: &str = r#"image = "ghcr.io/openclaw/openclaw@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c", model.primary = "m""#;

    /// Two hosts: `a` runs Headscale and Ollama, `b` the gateway.
    const TWO_HOSTS: &str = r#"{
      hosts = [
        { name = "a", platform = 'linux, ram_gb = 32, roles = ['headscale, 'ollama], tailnet_ip = "100.64.0.1" },
        { name = "b", platform = 'linux, ram_gb = 16, roles = ['openclaw], tailnet_ip = "100.64.0.2" },
      ],
      headscale.listen_addr = "0.0.0.0:443",
      ollama.models = [ { name = "m", role = 'primary } ],
    }"#;

    #[test]
    fn the_base_spec_with_a_reachable_headscale_is_clean() {
        assert_eq!(case("{}"), vec![]);
    }

    #[test]
    fn ollama_on_the_headscale_port_clashes() {
        let text = format!(
            r#"{BASE} & {{ headscale = {{ listen_addr = "0.0.0.0:11434", tls.mode = 'proxy }} }}"#
        );
        let found = network_findings(&text);
        assert!(
            found.contains(&("PRV015", "ollama.port".to_string())),
            "{found:?}"
        );
    }

    #[test]
    fn the_homeserver_on_the_gateways_port_and_address_clashes() {
        let found = network_findings(&format!(
            r#"{{
              hosts = [{{ name = "a", platform = 'linux, ram_gb = 32, roles = ['headscale, 'ollama, 'openclaw, 'homeserver], tailnet_ip = "100.64.0.1" }}],
              headscale.listen_addr = "0.0.0.0:443",
              ollama.models = [ {{ name = "m", role = 'primary }} ],
              openclaw = {{ {GATEWAY}, bind = "100.64.0.1" }},
              homeserver.port = 18789,
            }}"#
        ));
        assert_eq!(found, [("PRV015", "homeserver.port".to_owned())]);
        // On its own port it takes nothing of the others'.
        let found = network_findings(&format!(
            r#"{{
              hosts = [{{ name = "a", platform = 'linux, ram_gb = 32, roles = ['headscale, 'ollama, 'openclaw, 'homeserver], tailnet_ip = "100.64.0.1" }}],
              headscale.listen_addr = "0.0.0.0:443",
              ollama.models = [ {{ name = "m", role = 'primary }} ],
              openclaw = {{ {GATEWAY}, bind = "100.64.0.1" }},
            }}"#
        ));
        assert_eq!(found, []);
    }

    #[test]
    fn metrics_on_the_listen_port_of_the_same_address_clash() {
        assert_eq!(
            network_findings(&format!(
                r#"{BASE} & {{ headscale = {{ tls.mode = 'proxy, listen_addr = "127.0.0.1:8080", metrics_listen_addr = "127.0.0.1:8080" }} }}"#
            )),
            found("PRV015", "headscale.metrics_listen_addr")
        );
    }

    #[test]
    fn the_same_port_on_different_addresses_does_not_clash() {
        assert_eq!(
            case(r#"{ ollama = { listen = "100.64.0.1", port = 9090 } }"#),
            vec![]
        );
    }

    #[test]
    fn the_udp_stun_port_does_not_clash_with_a_tcp_port() {
        assert_eq!(case("{ ollama.port = 3478 }"), vec![]);
    }

    #[test]
    fn services_on_different_hosts_do_not_clash() {
        let text = format!(
            r#"{TWO_HOSTS} & {{ ollama.listen = "100.64.0.1", openclaw = {{ {GATEWAY}, port = 11434 }} }}"#
        );
        assert_eq!(network_findings(&text), vec![]);
    }

    #[test]
    fn ollama_on_every_interface_is_exposed() {
        assert_eq!(
            case(r#"{ ollama.listen = "0.0.0.0" }"#),
            found("PRV020", "ollama.listen")
        );
    }

    #[test]
    fn ollama_on_a_lan_address_is_exposed() {
        assert_eq!(
            case(r#"{ ollama.listen = "192.168.1.10" }"#),
            found("PRV020", "ollama.listen")
        );
    }

    #[test]
    fn ollama_on_its_own_tailnet_ip_is_fine() {
        assert_eq!(case(r#"{ ollama.listen = "100.64.0.1" }"#), vec![]);
    }

    #[test]
    fn ollama_on_another_tailnet_ip_is_exposed() {
        assert_eq!(
            case(r#"{ ollama.listen = "100.64.0.9" }"#),
            found("PRV020", "ollama.listen")
        );
    }

    #[test]
    fn the_gateway_on_every_interface_is_exposed() {
        let text = format!(
            r#"{TWO_HOSTS} & {{ ollama.listen = "100.64.0.1", openclaw = {{ {GATEWAY}, bind = "0.0.0.0" }} }}"#
        );
        assert_eq!(network_findings(&text), found("PRV021", "openclaw.bind"));
    }

    #[test]
    fn the_gateway_on_its_host_tailnet_ip_is_fine() {
        let text = format!(
            r#"{TWO_HOSTS} & {{ ollama.listen = "100.64.0.1", openclaw = {{ {GATEWAY}, bind = "100.64.0.2" }} }}"#
        );
        assert_eq!(network_findings(&text), vec![]);
    }

    #[test]
    fn the_gateway_on_a_tailnet_ip_needs_its_host_to_have_one() {
        let text = format!(
            r#"{{ hosts = [ {{ name = "a", platform = 'linux, ram_gb = 32, roles = ['ollama, 'openclaw] }} ],
                 ollama.models = [ {{ name = "m", role = 'primary }} ],
                 openclaw = {{ {GATEWAY}, bind = "100.64.0.5" }} }}"#
        );
        assert_eq!(network_findings(&text), found("PRV021", "openclaw.bind"));
    }

    #[test]
    fn a_wildcard_origin_is_an_error_and_a_remote_one_a_warning() {
        assert_eq!(
            case(
                r#"{ ollama.origins = ["http://localhost:3000", "*", "https://chat.example.com", "app://x"] }"#
            ),
            vec![
                ("PRV022", "ollama.origins[1]".into()),
                ("PRV022", "ollama.origins[2]".into())
            ]
        );
    }

    #[test]
    fn metrics_off_loopback_are_exposed() {
        assert_eq!(
            case(r#"{ headscale.metrics_listen_addr = "0.0.0.0:9090" }"#),
            found("PRV023", "headscale.metrics_listen_addr")
        );
    }

    #[test]
    fn a_proxied_headscale_listening_off_loopback_is_suspicious() {
        assert_eq!(
            case("{ headscale.tls.mode = 'proxy }"),
            found("PRV023", "headscale.listen_addr")
        );
    }

    #[test]
    fn a_tls_headscale_on_loopback_only_is_unreachable() {
        assert_eq!(
            network_findings(&format!(
                r#"{BASE} & {{ headscale.listen_addr = "127.0.0.1:8443" }}"#
            )),
            found("PRV023", "headscale.listen_addr")
        );
    }

    #[test]
    fn a_gateway_on_another_host_cannot_reach_a_loopback_ollama() {
        let text = format!(r#"{TWO_HOSTS} & {{ openclaw = {{ {GATEWAY} }} }}"#);
        assert_eq!(network_findings(&text), found("PRV024", "ollama.listen"));
    }

    #[test]
    fn a_gateway_beside_a_loopback_ollama_reaches_it() {
        let text = format!(
            r#"{{ hosts = [ {{ name = "a", platform = 'linux, ram_gb = 32, roles = ['ollama, 'openclaw] }} ],
                 ollama = {{ listen = "127.0.0.1", models = [ {{ name = "m", role = 'primary }} ] }},
                 openclaw = {{ {GATEWAY} }} }}"#
        );
        assert_eq!(network_findings(&text), vec![]);
    }

    #[test]
    fn the_seed_example_has_no_network_findings() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/seed-home.ncl"
        ))
        .unwrap();
        assert_eq!(network_findings(&text), vec![]);
    }

    /// `(code, path)` of the PRV082 findings of `text`.
    fn port_findings(text: &str) -> Vec<(&'static str, String)> {
        findings(text)
            .into_iter()
            .filter(|(code, _)| *code == "PRV082")
            .collect()
    }

    #[test]
    fn a_listen_address_with_port_99999_is_an_error_at_its_option() {
        let text = format!(r#"{BASE} & {{ headscale.listen_addr = "0.0.0.0:99999" }}"#);
        let found: Vec<_> = crate::check::testing::diagnostics(&text)
            .into_iter()
            .filter(|d| d.code == "PRV082")
            .collect();
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].is_error());
        assert!(found[0].message.contains("99999"), "{}", found[0].message);
        assert_eq!(
            found[0].location.as_ref().map(|l| l.line),
            Some(text.lines().count())
        );
    }

    #[test]
    fn listen_addresses_need_a_port_from_1_to_65535() {
        for (listen, metrics, expected) in [
            ("0.0.0.0:443", "127.0.0.1:9090", vec![]),
            ("[::]:65535", "", vec![]),
            ("0.0.0.0:0", "127.0.0.1:9090", vec!["headscale.listen_addr"]),
            ("0.0.0.0", "127.0.0.1:9090", vec!["headscale.listen_addr"]),
            (
                "0.0.0.0:https",
                "127.0.0.1:9090",
                vec!["headscale.listen_addr"],
            ),
            (
                "0.0.0.0:443",
                "127.0.0.1:70000",
                vec!["headscale.metrics_listen_addr"],
            ),
            (
                "0.0.0.0:443",
                "127.0.0.1:",
                vec!["headscale.metrics_listen_addr"],
            ),
        ] {
            let text = format!(
                r#"{BASE} & {{ headscale = {{ listen_addr = "{listen}", metrics_listen_addr = "{metrics}" }} }}"#
            );
            let expected: Vec<_> = expected
                .into_iter()
                .map(|p| ("PRV082", p.to_owned()))
                .collect();
            assert_eq!(port_findings(&text), expected, "{listen} {metrics}");
        }
    }
}
