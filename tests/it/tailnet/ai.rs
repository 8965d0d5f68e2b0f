//! The seed's Network Flow, all real, on the test network: a device →
//! (WireGuard) → OpenClaw → (localhost) → Ollama → the answer back to the
//! device.
//!
//! The server's namespace (`openclaw-server`) runs the real Headscale, its
//! own tailscaled, the real Ollama (v0.24.0, on its loopback, with the tiny
//! models of [`crate::ai_path`]) and the real OpenClaw (2026.9.6) in the
//! hardened container `privai apply` starts with podman in that namespace.
//! The spec binds the gateway to the server's tailnet address, where the
//! relay publishes it (and nowhere else). Each step prints a `step:` line:
//!
//! 1. tailnet up: Headscale from the files privai rendered, the server
//!    joined at its `tailnet_ip`;
//! 2. gateway healthy: apply's own health check passed against the real
//!    gateway on the tailnet address; loopback does not answer;
//! 3. devices joined with `privai enroll`'s command and key;
//! 4. question: the laptop (user2, in `group:trusted`) asks the gateway at
//!    the server's tailnet address through its real TUN; without the token
//!    it is refused (401), with it the answer comes from the primary model
//!    (Ollama's `/api/ps`: only the primary ran);
//! 5. denied: `privai acl --json` says the guest's phone may not reach the
//!    gateway's port, and its connection fails (Headscale gives it no peer
//!    the policy does not let it reach: no route to the server);
//! 6. Ollama down: with the real Ollama stopped under the real gateway,
//!    `privai status` names Ollama, with its fix, and exits with the
//!    "down" code (2), the gateway itself still healthy;
//! 7. recovery: Ollama started again, `privai status` is healthy (0) and
//!    the laptop's next question is answered, without re-applying.
//!
//! Needs root (namespaces, tailscaled's TUN), podman, and the tools of
//! `tests/tools/install-{headscale,tailscale,ollama,gguf,openclaw}.sh`.
//! Holds [`crate::podman_lock`].

use super::{SERVER_NAME, Setup, Tailnet, proof};
use crate::ai_path::{
    self, Netns, PRIMARY, Server, gateway_host_side, link_config, ollama_spec, openclaw_spec,
};
use crate::tools::{CONTAINERS_CONF, show};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The server host of the spec.
pub(super) const SERVER: &str = "openclaw-server";
/// The server's `tailnet_ip`: the first address Headscale hands out.
pub(super) const TAILNET_IP: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 1);
/// The gateway's port (the seed's).
pub(super) const GATEWAY_PORT: u16 = 18789;
/// Ollama's port on the server's loopback (the seed's).
pub(super) const OLLAMA_PORT: u16 = 11434;
/// How long a device the ACL denies is given to connect (and must not).
pub(super) const DENIED_WITHIN: Duration = Duration::from_secs(3);
/// A trusted device, and one of a user outside `group:trusted`.
pub(super) const TRUSTED: &str = "laptop";
pub(super) const GUEST: &str = "guest-phone";

/// The seed's tailnet (Headscale with self-signed TLS, embedded DERP,
/// MagicDNS) on a hardened Linux server [`SERVER`] with `roles`, its policy
/// in Headscale's database; `people` (users, groups, devices, ACL), Ollama
/// and the gateway of [`crate::ai_path`] with `more` gateway fields.
pub(super) fn server_spec(
    roles: &str,
    people: &str,
    (image, folders, token): (&str, &str, &Path),
    more: &str,
) -> String {
    format!(
        r#"(import "privai/profiles/linux-server.ncl")
& (import "privai/profiles/hardened.ncl")
& {{
  hosts = [{{ name = "{SERVER}", ram_gb = 16, roles = [{roles}], tailnet_ip = "{TAILNET_IP}" }}],
  headscale = {{
    server_url = "https://{SERVER_NAME}",
    listen_addr = "0.0.0.0:443",
    tls = {{ mode = 'self_signed, cert_path = "/etc/privai/tls/headscale.crt", key_path = "/etc/privai/tls/headscale.key" }},
    prefixes.v4 = "100.64.0.0/10",
    dns = {{ magic_dns = true, base_domain = "tailnet.home.arpa" }},
    derp = {{ mode = 'embedded, stun_port = 3478 }},
    api_key = "env:PRIVAI_TEST_HS_KEY",
    policy_mode = 'database,
  }},
{people}
{ollama}
{openclaw}
}}
"#,
        ollama = ollama_spec(OLLAMA_PORT, ""),
        openclaw = openclaw_spec(image, GATEWAY_PORT, token, folders, more),
    )
}

/// [`server_spec`] with the gateway alone: `group:trusted` reaches it and
/// nothing else, a guest is outside the group, and the gateway is bound to
/// the server's tailnet address.
fn spec(gateway: (&str, &str, &Path)) -> String {
    server_spec(
        "'headscale, 'ollama, 'openclaw",
        &format!(
            r#"  users = [{{ name = "user1" }}, {{ name = "user2" }}, {{ name = "guest" }}],
  groups.trusted = ["user1", "user2"],
  devices = [
    {{ name = "{TRUSTED}", user = "user2", kind = 'laptop, os = 'linux }},
    {{ name = "{GUEST}", user = "guest", kind = 'phone, os = 'android }},
  ],
  acl.rules = [
    {{ src = ["group:trusted"], dst = ["{SERVER}:{GATEWAY_PORT}"], proto = 'tcp, comment = "Trusted people talk to the AI gateway." }},
  ],"#
        ),
        gateway,
        &format!("bind = \"{TAILNET_IP}\","),
    )
}

/// Whether `privai acl --json` lets `device` reach `port` of [`SERVER`].
pub(super) fn acl_allows(matrix: &proof::Matrix, device: &str, port: u16) -> bool {
    let row = matrix
        .sources
        .iter()
        .position(|s| s == device)
        .unwrap_or_else(|| panic!("{device} is not a source of privai acl: {matrix:?}"));
    let column = matrix
        .services
        .iter()
        .position(|s| s.host == SERVER && s.port == port)
        .unwrap_or_else(|| panic!("port {port} is not a service of privai acl: {matrix:?}"));
    matrix.cells[row][column].is_some()
}

/// `device`, which `privai acl --json` must deny `to`'s port, tries to
/// connect to `to` over the tailnet, and must fail: how long it tried and
/// why it failed.
pub(super) fn denied(
    tailnet: &Tailnet,
    matrix: &proof::Matrix,
    device: &str,
    to: SocketAddr,
) -> (Duration, std::io::Error) {
    assert!(!acl_allows(matrix, device, to.port()), "{matrix:?}");
    let tried = Instant::now();
    let refused = tailnet.nodes[device]
        .host
        .enter(|| TcpStream::connect_timeout(&to, DENIED_WITHIN));
    let Err(why) = refused else {
        panic!("{device} connected to {to}, which privai acl denies")
    };
    (tried.elapsed(), why)
}

/// The AI server of the tailnet tests: the real gateway image built (with
/// `podman`); the tailnet of the spec `spec((image, folders,
/// token))` gives, Headscale started; the server's Ollama with the tiny
/// primary and fallback, and podman in the server's network namespace and
/// in the mount namespace `mount(installed)` gives (`installed`: where
/// apply installs the server's files), which privai runs for real; the
/// server joined at [`TAILNET_IP`]. Bind the two in this order: the server
/// is dropped first, its containers going while its namespace is there.
pub(super) fn ai_server(
    podman: &Path,
    spec: impl FnOnce((&str, &str, &Path)) -> String,
    mount: impl FnOnce(&Path) -> Option<PathBuf>,
) -> (Tailnet, Server) {
    let side = tempfile::tempdir().unwrap();
    let conf = side.path().join("containers.conf");
    std::fs::write(&conf, CONTAINERS_CONF).unwrap();
    let (image, _) = ai_path::gateway_image(podman, &conf);
    let (folders, token) = gateway_host_side(side.path());
    let mut tailnet = Tailnet::start(Setup {
        host: SERVER,
        server_name: SERVER_NAME,
        spec: spec((&image, &folders, &token)),
        mode: "database",
        models: &[],
        standins: false,
    });
    let installed = tailnet.root().join(SERVER);
    link_config(side.path(), &installed);
    let mount = mount(&installed);
    let server = Server::start(
        side,
        installed,
        podman,
        &conf,
        Some(&Netns {
            name: tailnet.server.ns.clone(),
            mount,
        }),
        OLLAMA_PORT,
        GATEWAY_PORT,
    );
    server.ollama.create_tiny_chat("tiny", 1);
    server.ollama.create_tiny_chat("tiny-fallback", 2);
    tailnet.env = vec![
        ("PATH", server.path.clone()),
        ("PRIVAI_TEST_PASS_THROUGH", "podman".into()),
    ];
    tailnet.join_server();
    let server_ip = tailnet.nodes[SERVER].address();
    assert_eq!(server_ip, TAILNET_IP, "the spec's tailnet_ip");
    (tailnet, server)
}

#[test]
fn a_trusted_device_asks_the_real_gateway_over_the_tailnet_and_the_real_ollama_answers_while_a_device_the_acl_denies_cannot_connect()
 {
    let _podman = crate::podman_lock();
    let podman = crate::tools::podman();
    let started = Instant::now();
    let step = |what: String| {
        println!("step: {what} [{:.1} s]", started.elapsed().as_secs_f64());
    };
    // 1. The tailnet: Headscale on the server, which joins first.
    let (mut tailnet, mut server) = ai_server(&podman, spec, |_| None);
    let server_ip = TAILNET_IP;
    step(format!(
        "tailnet up: the real Headscale, {SERVER} joined at {server_ip}"
    ));

    // 2. Apply: Headscale's users, keys and policy; the gateway in its
    // hardened container, checked healthy on the tailnet address.
    let spec = tailnet.spec.clone();
    let applied = tailnet.privai(
        "apply",
        &spec,
        &["--auto-approve", "--health-timeout", "240"],
    );
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}\n{}\n--- headscale\n{}",
        show(&applied),
        server.logs(),
        tailnet.headscale.log_text()
    );
    let text = String::from_utf8_lossy(&applied.stdout);
    assert!(
        text.contains(&format!("  + service {SERVER}:gateway: done")),
        "{text}"
    );
    let gateway = SocketAddr::from((server_ip, GATEWAY_PORT));
    // Nothing of it on the server's loopback or on its address on the test
    // network, which the devices share: only over the tailnet.
    for elsewhere in [Ipv4Addr::LOCALHOST, tailnet.server.ip] {
        let addr = SocketAddr::from((elsewhere, GATEWAY_PORT));
        assert!(
            !tailnet.server.connects(addr, Duration::from_secs(2)),
            "the gateway answers on {addr} too"
        );
    }
    step(format!(
        "gateway healthy: apply's health check passed against the real gateway container on {gateway}, its only address (nothing on 127.0.0.1 nor {})",
        tailnet.server.ip
    ));

    // 3. The devices join as `privai enroll` says.
    for device in [TRUSTED, GUEST] {
        tailnet.join(device);
    }
    step(format!("{TRUSTED} and {GUEST} joined"));

    // 4. The trusted laptop asks through its TUN, over WireGuard.
    let matrix = proof::acl_matrix(&tailnet);
    assert!(acl_allows(&matrix, TRUSTED, GATEWAY_PORT), "{matrix:?}");
    assert!(
        proof::connects(&tailnet, TRUSTED, gateway, true),
        "{TRUSTED} does not reach {gateway}\n{}",
        server.logs()
    );
    let laptop = &tailnet.nodes[TRUSTED].host;
    let (status, body) = laptop.enter(|| server.ask_at(gateway, None, "hello"));
    assert_eq!(status, 401, "{body}");
    let before = ai_path::chats(&server.ollama);
    let models = ai_path::loaded(&server.ollama);
    // `/api/ps` times have a resolution of a second.
    std::thread::sleep(Duration::from_millis(1100));
    let asked = Instant::now();
    let answer = laptop.enter(|| server.answer_at(gateway, "What is the capital of France?"));
    let took = asked.elapsed();
    ai_path::assert_the_primary_answered(&server.ollama, before, &models);
    step(format!(
        "question from {TRUSTED} (user2, trusted) to {gateway} over the tailnet answered in {:.1} s by the real Ollama's {PRIMARY}: {answer:?}",
        took.as_secs_f64()
    ));

    // 5. The guest's phone: denied by privai acl, and on the tailnet.
    let (tried, why) = denied(&tailnet, &matrix, GUEST, gateway);
    step(format!(
        "{GUEST} (user guest): privai acl --json denies {SERVER}:{GATEWAY_PORT}, and its connection to {gateway} fails after {:.1} s: {why}",
        tried.as_secs_f64()
    ));

    // 6. Ollama stopped under the real gateway: status names it.
    server.ollama.stop();
    let status = tailnet.privai("status", &spec, &[]);
    let report = String::from_utf8_lossy(&status.stdout).into_owned();
    assert_eq!(status.status.code(), Some(2), "{}", show(&status));
    for expected in [
        "System: DOWN",
        "  ollama         FAILING  systemd privai-ollama.service",
        // The real gateway, probed on the tailnet address, still answers.
        "  gateway        ok       podman compose privai-gateway",
        "Gateway: healthy, containers of the current generation, answering with no model",
        "[down] Ollama is not responding",
        "fix: restart it with `sudo systemctl restart privai-ollama.service` (`ollama serve`)",
    ] {
        assert!(report.contains(expected), "{expected:?} not in:\n{report}");
    }
    step(
        "Ollama down under the real gateway: privai status exits 2 (down), names Ollama with its fix, the gateway healthy"
            .to_owned(),
    );

    // 7. Ollama started again: status is healthy, and the laptop's next
    // question is answered, without re-applying.
    server.ollama.restart();
    let status = tailnet.privai("status", &spec, &[]);
    let report = String::from_utf8_lossy(&status.stdout).into_owned();
    assert_eq!(status.status.code(), Some(0), "{}", show(&status));
    assert!(report.contains("System: healthy"), "{report}");
    let asked = Instant::now();
    let answer = laptop.enter(|| server.answer_at(gateway, "Back?"));
    step(format!(
        "recovery: privai status exits 0 (healthy); {TRUSTED}'s next question answered in {:.1} s, without re-applying: {answer:?}",
        asked.elapsed().as_secs_f64()
    ));
    eprintln!(
        "tailnet ai path: {:.1} s in all, question to answer over the tailnet {:.1} s",
        started.elapsed().as_secs_f64(),
        took.as_secs_f64()
    );
}
