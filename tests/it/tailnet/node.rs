//! A real Tailscale client on a host of the test network: `tailscaled`
//! with a real TUN device in the host's namespace (trusting Headscale's
//! self-signed certificate, no log upload), and `tailscale` talking to it through its own socket.

use super::net::{Host, Net};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// A running tailscaled.
pub struct Node {
    /// Its host.
    pub host: Host,
    socket: PathBuf,
    tailscale: PathBuf,
    log: PathBuf,
}

impl Node {
    /// Starts tailscaled on `host`, its state and socket under `dir`,
    /// trusting the certificate(s) in `certificate` (Go's `SSL_CERT_FILE`).
    pub fn start(
        net: &mut Net,
        host: &Host,
        dir: &Path,
        certificate: &Path,
        tailscaled: &Path,
        tailscale: &Path,
    ) -> Self {
        let state = dir.join(format!("ts-{}-{}", host.name, host.ns));
        std::fs::create_dir_all(&state).unwrap();
        let socket = state.join("tailscaled.sock");
        let log = state.join("tailscaled.log");
        let args = vec![
            "--tun=tailscale0".to_owned(),
            format!("--statedir={}", state.display()),
            format!("--socket={}", socket.display()),
            "--port=0".to_owned(),
            "--no-logs-no-support".to_owned(),
        ];
        net.spawn(
            host,
            tailscaled,
            &args,
            &[
                ("SSL_CERT_FILE", &certificate.to_string_lossy()),
                ("TS_DISABLE_PORTMAPPER", "1"),
                ("TS_ASSUME_NETWORK_UP_FOR_TEST", "1"),
            ],
            &log,
        );
        let node = Self {
            host: host.clone(),
            socket,
            tailscale: tailscale.to_owned(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !node.socket.exists() {
            assert!(
                Instant::now() < deadline,
                "tailscaled on {} did not start: {}",
                host.name,
                node.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        node
    }

    /// Its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `tailscale --socket=S ARGS` on the node's host.
    pub fn tailscale(&self, args: &[String]) -> Output {
        let mut all = vec![format!("--socket={}", self.socket.display())];
        all.extend(args.iter().cloned());
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        self.host.run(&self.tailscale, &all)
    }

    /// Runs the `tailscale up …` argv `up` (as `privai enroll` prints it,
    /// `tailscale` first) against this node's daemon, bounded in time and
    /// leaving the host's DNS alone.
    pub fn up(&self, up: &[String]) -> Output {
        assert_eq!(up.first().map(String::as_str), Some("tailscale"), "{up:?}");
        let mut args = up[1..].to_vec();
        args.extend(["--accept-dns=false".to_owned(), "--timeout=60s".to_owned()]);
        self.tailscale(&args)
    }

    /// The node's tailnet IPv4 address.
    pub fn address(&self) -> Ipv4Addr {
        let out = self.tailscale(&["ip".to_owned(), "-4".to_owned()]);
        assert!(out.status.success(), "{}", crate::tools::show(&out));
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }
}
