//! The ACL proof: every (device, host:port) pair `privai acl --json`
//! reports is tried on the real tailnet with a TCP connect from the
//! device's namespace to the host's tailnet address; accepted pairs must
//! connect, denied pairs must not.

use super::Tailnet;
use crate::tools::show;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

/// How long an accepted pair may take to connect (the first packets wait
/// for the peers' WireGuard handshake).
const ACCEPT_WITHIN: Duration = Duration::from_secs(30);
/// How long a denied pair is given to connect (and must not).
const DENY_AFTER: Duration = Duration::from_secs(3);

/// One service column of `privai acl --json`.
#[derive(Debug, serde::Deserialize)]
pub(super) struct Service {
    pub host: String,
    pub port: u16,
}

/// `privai acl --json`'s matrix: `cells[source][service]` is the index of
/// the rule that allows it, or null when denied.
#[derive(Debug, serde::Deserialize)]
pub(super) struct Matrix {
    pub sources: Vec<String>,
    pub services: Vec<Service>,
    pub cells: Vec<Vec<Option<usize>>>,
}

/// `privai acl SPEC --json` on the server.
pub(super) fn acl_matrix(tailnet: &Tailnet) -> Matrix {
    let out = super::privai_on(
        &tailnet.server,
        &["acl".as_ref(), tailnet.spec.as_os_str(), "--json".as_ref()],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    #[derive(serde::Deserialize)]
    struct Report {
        matrix: Matrix,
    }
    serde_json::from_slice::<Report>(&out.stdout)
        .unwrap_or_else(|e| panic!("privai acl --json: {e}: {}", show(&out)))
        .matrix
}

/// Whether `from` connects to `to`: within [`ACCEPT_WITHIN`] when the
/// ACL accepts it (retrying), within [`DENY_AFTER`] otherwise.
pub(super) fn connects(tailnet: &Tailnet, from: &str, to: SocketAddr, accepted: bool) -> bool {
    let host = &tailnet.nodes[from].host;
    if !accepted {
        return host.connects(to, DENY_AFTER);
    }
    let deadline = Instant::now() + ACCEPT_WITHIN;
    loop {
        if host.connects(to, Duration::from_secs(2)) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Tries every pair of `privai acl --json` on `tailnet`, whose server
/// node is `server` and whose devices have all joined; prints the matrix
/// size and panics on any disagreement. Returns (tried, accepted, denied).
fn prove(tailnet: &Tailnet, name: &str) -> (usize, usize, usize) {
    let server: Ipv4Addr = tailnet.nodes[&tailnet.server.name].address();
    let matrix = acl_matrix(tailnet);
    // A listener on each service port of the server's tailnet address
    // (Headscale's own 0.0.0.0:443 already is one), which the server
    // reaches itself: a refused pair is the ACL's doing, not a closed port.
    for service in &matrix.services {
        assert_eq!(service.host, tailnet.server.name, "{service:?}");
        tailnet.server.listen_at(server, service.port);
        let addr = SocketAddr::from((server, service.port));
        assert!(
            tailnet.server.connects(addr, Duration::from_secs(2)),
            "nothing listens on {addr}"
        );
    }
    let (mut accepted, mut denied, mut disagreements) = (0, 0, Vec::new());
    for (row, source) in matrix.sources.iter().enumerate() {
        for (column, service) in matrix.services.iter().enumerate() {
            let allowed = matrix.cells[row][column].is_some();
            let addr = SocketAddr::from((server, service.port));
            let connected = connects(tailnet, source, addr, allowed);
            match (allowed, connected) {
                (true, true) => accepted += 1,
                (false, false) => denied += 1,
                _ => disagreements.push(format!(
                    "{source} -> {}:{}: privai acl says {}, the tailnet {}",
                    service.host,
                    service.port,
                    if allowed { "accept" } else { "deny" },
                    if connected {
                        "connected"
                    } else {
                        "did not connect"
                    }
                )),
            }
        }
    }
    let tried = accepted + denied + disagreements.len();
    eprintln!(
        "ACL proof ({name}): pairs tried={tried} accepted={accepted} denied={denied} disagreements={}",
        disagreements.len()
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    (tried, accepted, denied)
}

#[test]
fn every_pair_privai_acl_reports_for_the_seed_behaves_so_on_the_real_tailnet() {
    let mut tailnet = Tailnet::seed("database");
    let spec = tailnet.spec.clone();
    tailnet.apply(&spec);
    tailnet.join_server();
    for device in super::DEVICES {
        tailnet.join(device);
    }
    tailnet.apply(&spec);
    let server = tailnet.nodes["openclaw-server"].address();
    assert_eq!(
        server,
        Ipv4Addr::new(100, 64, 0, 1),
        "the seed's tailnet_ip"
    );
    let (tried, accepted, denied) = prove(&tailnet, "seed");
    assert_eq!(
        (tried, accepted, denied),
        (9, 3, 6),
        "3 devices x 3 services"
    );
}

/// `examples/linux-homelab.ncl` on the test network: Headscale serving
/// its own self-signed TLS on 443 (the example's proxy is not part of the
/// test), policy in Headscale's database, the iPhone an Android one (it
/// joins with a key), the gateway on loopback (where its stand-in answers
/// apply's health check), and the pinned addresses the ones Headscale hands
/// out in the order the test joins the nodes (homelab, then nas).
fn homelab_spec() -> String {
    format!(
        "(import \"{}\") & {{
  headscale.tls.mode | force = 'self_signed,
  headscale.listen_addr | force = \"0.0.0.0:443\",
  headscale.api_key | force = \"env:PRIVAI_TEST_HS_KEY\",
  headscale.policy_mode | force = 'database,
  hosts | force = [
    {{ name = \"homelab\", chip = \"AMD Ryzen 9 7900\", gpu_memory_gb = 24, roles = ['headscale, 'ollama, 'openclaw], tailnet_ip = \"100.64.0.1\", tags = [\"tag:server\"] }},
  ],
  devices | force = [
    {{ name = \"alex-phone\", user = \"alex\", kind = 'phone, os = 'android }},
    {{ name = \"alex-laptop\", user = \"alex\", kind = 'laptop, os = 'linux }},
    {{ name = \"sam-phone\", user = \"sam\", kind = 'phone, os = 'android }},
    {{ name = \"kim-laptop\", user = \"kim\", kind = 'laptop, os = 'windows }},
    {{ name = \"nas\", user = \"alex\", kind = 'server, os = 'linux, tags = [\"tag:storage\"], tailnet_ip = \"100.64.0.2\" }},
  ],
  openclaw.bind | force = \"127.0.0.1\",
}}
",
        "linux-homelab.ncl"
    )
}

#[test]
fn every_pair_privai_acl_reports_for_the_linux_homelab_behaves_so_on_the_real_tailnet() {
    let mut tailnet = Tailnet::start(super::Setup {
        host: "homelab",
        server_name: "vpn.example.org",
        spec: homelab_spec(),
        mode: "database",
        models: &["qwen2.5:14b", "llama3.1:8b", "nomic-embed-text"],
        standins: true,
    });
    let spec = tailnet.spec.clone();
    tailnet.apply(&spec);
    tailnet.join_server_tagged(&["tag:server"]);
    let devices = [
        "nas",
        "alex-phone",
        "alex-laptop",
        "sam-phone",
        "kim-laptop",
    ];
    for device in devices {
        tailnet.join(device);
    }
    tailnet.apply(&spec);
    assert_eq!(
        tailnet.nodes["homelab"].address(),
        Ipv4Addr::new(100, 64, 0, 1)
    );
    assert_eq!(tailnet.nodes["nas"].address(), Ipv4Addr::new(100, 64, 0, 2));
    let (tried, accepted, denied) = prove(&tailnet, "linux-homelab");
    assert_eq!(
        (tried, accepted, denied),
        (15, 4, 11),
        "5 devices x 3 services; the tagged nas is in no group"
    );
}
