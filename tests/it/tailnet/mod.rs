//! The real tailnet: privai against the real Headscale (v0.29.2) and real
//! Tailscale clients (v1.102.5), on a test network of Linux namespaces
//! ([`net`]) where nothing can reach any address the test did not make.
//! `openclaw-server` runs Headscale from the files privai rendered (and
//! stand-ins of Ollama and the gateway's health endpoint on its loopback);
//! each device of the spec runs its own tailscaled and joins with the
//! command `privai enroll DEVICE` prints and the key `privai apply` made.

mod addresses;
mod ai;
mod headscale;
mod keys;
mod matrix;
mod monitor;
pub(crate) mod net;
mod node;
mod programs;
mod proof;
mod rotate;
mod tags;

use crate::tools::{repo, show};
use headscale::Headscale;
use net::{Host, Net};
use node::Node;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The name in the seed's `headscale.server_url`, which every host of
/// the test network resolves to the server.
const SERVER_NAME: &str = "headscale.home.arpa";
/// The port of the seed's `headscale.listen_addr`.
const PORT: u16 = 443;

/// The seed as its owner wrote it (self-signed TLS, embedded DERP,
/// MagicDNS), but for Headscale's API key (from the environment), the
/// policy mode, the phone an Android one, which joins with a key, and the
/// gateway bound to loopback, where its stand-in answers apply's health
/// check (apply runs before the server has its tailnet address).
/// Only the devices named in `devices` are kept (`nas`, a server of
/// user1 tagged `tag:storage`, brings its tag's owners).
fn seed_spec(mode: &str, devices: &[&str]) -> String {
    let all = [
        (
            "phone",
            "{ name = \"phone\", user = \"user1\", kind = 'phone, os = 'android }",
        ),
        (
            "laptop",
            "{ name = \"laptop\", user = \"user2\", kind = 'laptop, os = 'macos }",
        ),
        (
            "desktop",
            "{ name = \"desktop\", user = \"user1\", kind = 'desktop, os = 'linux }",
        ),
        (
            "nas",
            "{ name = \"nas\", user = \"user1\", kind = 'server, os = 'linux, tags = [\"tag:storage\"] }",
        ),
    ];
    let kept: Vec<&str> = all
        .iter()
        .filter(|(name, _)| devices.contains(name))
        .map(|(_, device)| *device)
        .collect();
    format!(
        "(import \"{}\") & {{
  headscale.api_key | force = \"env:PRIVAI_TEST_HS_KEY\",
  headscale.policy_mode | force = '{mode},
  openclaw.bind | force = \"127.0.0.1\",
  devices | force = [{}],
{}{}}}
",
        // Copied next to the spec where it is written (imports stay in the
        // spec's directory).
        "seed-home.ncl",
        kept.join(", "),
        crate::apply::SEED_WITHOUT_HOMESERVER,
        if devices.contains(&"nas") {
            "  acl.tag_owners = { storage = [\"group:trusted\"] },\n"
        } else {
            ""
        }
    )
}

/// The seed's three devices.
pub const DEVICES: [&str; 3] = ["phone", "laptop", "desktop"];

/// Headscale's self-signed TLS pair for `name`, where `privai apply`
/// keeps it (the built config's `tls_cert_path`, the key beside it as
/// `headscale.key`) and where Headscale reads the key (`tls_key_path`:
/// the same file, or on Linux the copy systemd hands over as a
/// credential), under the server's staged `tree`; made beforehand because
/// Headscale must serve it before the first apply can talk to it, and
/// apply keeps a complete pair it finds. Returns the certificate.
fn make_tls_pair(tree: &Path, build: &Path, name: &str) -> PathBuf {
    let (cert_path, key_path) = headscale::tls_paths(build);
    let made = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
    let certificate = tree.join(cert_path.trim_start_matches('/'));
    let kept_key = certificate.with_file_name("headscale.key");
    let served_key = tree.join(key_path.trim_start_matches('/'));
    std::fs::create_dir_all(certificate.parent().unwrap()).unwrap();
    std::fs::write(&certificate, made.cert.pem()).unwrap();
    for key in [&kept_key, &served_key] {
        std::fs::create_dir_all(key.parent().unwrap()).unwrap();
        std::fs::write(key, made.signing_key.serialize_pem()).unwrap();
        std::fs::set_permissions(key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    }
    certificate
}

/// What a test tailnet runs: the server host of the spec, the name in its
/// `headscale.server_url` (served on port 443), the spec's text, its
/// policy mode, and the models Ollama's stand-in offers; with `standins`
/// false, no stand-ins of Ollama and the gateway's health (the test runs
/// the real ones).
pub struct Setup<'a> {
    pub host: &'a str,
    pub server_name: &'a str,
    pub spec: String,
    pub mode: &'a str,
    pub models: &'a [&'a str],
    pub standins: bool,
}

/// A real tailnet for one spec; everything is torn down on drop.
pub struct Tailnet {
    pub dir: tempfile::TempDir,
    pub net: Net,
    pub server: Host,
    pub headscale: Headscale,
    pub api_key: String,
    pub spec: PathBuf,
    /// The policy mode (`file` or `database`).
    pub mode: String,
    /// The name in `headscale.server_url`.
    pub server_name: String,
    /// Headscale's certificate, which the clients trust.
    pub certificate: PathBuf,
    pub nodes: BTreeMap<String, Node>,
    /// More environment for privai (e.g. a `PATH` that finds a podman
    /// wrapper), replacing the harness's own variables of the same name.
    pub env: Vec<(&'static str, std::ffi::OsString)>,
    /// Ollama's stand-in on the server's loopback (dropped there).
    ollama: Option<crate::standin::ollama::Standin>,
}

impl Drop for Tailnet {
    fn drop(&mut self) {
        // Its server wakes its accept loop by connecting to it, which only
        // works from the server's namespace, while the namespace exists.
        if let Some(ollama) = self.ollama.take() {
            self.server.enter(move || drop(ollama));
        }
    }
}

/// `privai ARGS` in `host`'s namespace with `env`.
fn privai_on(host: &Host, args: &[&OsStr], env: &[(&str, &OsStr)]) -> Output {
    let mut cmd = host.command(assert_cmd::cargo::cargo_bin("privai"));
    cmd.args(args)
        .env_remove("PRIVAI_TEST_FAILPOINT")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

impl Tailnet {
    /// The seed (`examples/seed-home.ncl`) in policy `mode` (`file` or
    /// `database`), Headscale started, nothing applied yet.
    pub fn seed(mode: &str) -> Self {
        Self::start(Setup {
            host: "openclaw-server",
            server_name: SERVER_NAME,
            spec: seed_spec(mode, &DEVICES),
            mode,
            models: &["codellama:13b", "llama3.2:3b"],
            standins: true,
        })
    }

    /// The tailnet of `setup`: its server host with Headscale started
    /// (and stand-ins of Ollama and the gateway's health), nothing
    /// applied yet.
    pub fn start(setup: Setup) -> Self {
        let programs = programs::programs();
        let dir = tempfile::tempdir().unwrap();
        let mut net = Net::new();
        let server = net.add_host(setup.host);
        net.name(setup.server_name, server.ip);
        let spec = dir.path().join("spec.ncl");
        for example in ["seed-home.ncl", "linux-homelab.ncl"] {
            crate::tools::importable(dir.path(), &repo(&format!("examples/{example}")));
        }
        std::fs::write(&spec, &setup.spec).unwrap();
        let build = dir.path().join("build");
        let out = privai_on(
            &server,
            &[
                OsStr::new("build"),
                spec.as_os_str(),
                OsStr::new("--out"),
                build.as_os_str(),
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        let tree = dir.path().join("root").join(setup.host);
        let built = build.join(setup.host);
        let certificate = make_tls_pair(&tree, &built, setup.server_name);
        let headscale = Headscale::start(
            &mut net,
            &server,
            &built,
            &tree,
            &programs.headscale,
            (server.ip, PORT).into(),
        );
        let api_key = headscale.api_key(&server);
        let models = setup.models;
        let ollama = setup.standins.then(|| {
            serve_gateway_health(&server, 18789);
            server.enter(|| {
                use crate::standin::ollama::{Config, Model, Standin};
                Standin::start(Config {
                    port: 11434,
                    ..Config::with_registry(
                        models.iter().map(|m| Model::new(m, 1_000_000)).collect(),
                    )
                })
            })
        });
        launchctl_shim(&dir.path().join("shims"), headscale.pid);
        Self {
            dir,
            net,
            server,
            headscale,
            api_key,
            spec,
            mode: setup.mode.to_owned(),
            server_name: setup.server_name.to_owned(),
            certificate,
            nodes: BTreeMap::new(),
            env: Vec::new(),
            ollama,
        }
    }

    /// A variant of the seed with only `devices`, written next to it.
    pub fn seed_with(&self, devices: &[&str]) -> PathBuf {
        let path = self
            .dir
            .path()
            .join(format!("seed-{}.ncl", devices.join("-")));
        crate::tools::importable(self.dir.path(), &repo("examples/seed-home.ncl"));
        std::fs::write(&path, seed_spec(&self.mode, devices)).unwrap();
        path
    }

    /// Where the system is installed.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        let shims = self.dir.path().join("shims");
        let mut path = shims.into_os_string();
        path.push(":");
        path.push(std::env::var_os("PATH").unwrap_or_default());
        let mut env = vec![
            ("PATH", path),
            ("PRIVAI_TEST_PASS_THROUGH", "launchctl".into()),
            (
                "PRIVAI_TEST_SERVICES",
                self.dir.path().join("services.log").into_os_string(),
            ),
            ("PRIVAI_TEST_HS_KEY", self.api_key.clone().into()),
            // The homelab example's gateway token.
            ("OPENCLAW_GATEWAY_TOKEN", "test-gateway-token".into()),
        ];
        for (name, value) in &self.env {
            env.retain(|(n, _)| n != name);
            env.push((name, value.clone()));
        }
        env
    }

    /// `privai COMMAND SPEC --root ROOT ARGS` on the server.
    pub fn privai(&self, command: &str, spec: &Path, args: &[&str]) -> Output {
        let root = self.root();
        let mut all: Vec<&OsStr> = vec![
            command.as_ref(),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
        ];
        all.extend(args.iter().map(OsStr::new));
        let env = self.env();
        let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        privai_on(&self.server, &all, &env)
    }

    /// `privai apply SPEC --root ROOT --auto-approve`, which must succeed.
    pub fn apply(&self, spec: &Path) -> String {
        self.apply_with(spec, &[])
    }

    /// `privai apply SPEC --root ROOT --auto-approve ARGS`, which must succeed.
    pub fn apply_with(&self, spec: &Path, args: &[&str]) -> String {
        let mut all = vec!["--auto-approve"];
        all.extend(args);
        let out = self.privai("apply", spec, &all);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}\n--- headscale log\n{}",
            show(&out),
            self.headscale.log_text()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Adds a host named `name` running tailscaled.
    pub fn add_node(&mut self, name: &str) -> &Node {
        let host = self.net.add_host(name);
        self.start_node(host)
    }

    /// Starts tailscaled on `host` (a host of the network).
    fn start_node(&mut self, host: Host) -> &Node {
        let name = host.name.clone();
        let name = name.as_str();
        let programs = programs::programs();
        let node = Node::start(
            &mut self.net,
            &host,
            self.dir.path(),
            &self.certificate,
            &programs.tailscaled,
            &programs.tailscale,
        );
        self.nodes.insert(name.to_owned(), node);
        &self.nodes[name]
    }

    /// The `tailscale up …` argv `privai enroll DEVICE` prints; for a
    /// phone or tablet, whose app takes the login server and a key, the
    /// same command with the login server it prints (the test's phones
    /// are tailscaled).
    pub fn enroll_command(&self, device: &str) -> Vec<String> {
        let out = privai_on(
            &self.server,
            &[
                OsStr::new("enroll"),
                OsStr::new(device),
                self.spec.as_os_str(),
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines().map(str::trim);
        if let Some(line) = lines
            .clone()
            .map(|l| l.strip_prefix("sudo ").unwrap_or(l))
            .find(|l| l.starts_with("tailscale up "))
        {
            // (PowerShell's quotes, on Windows, are the shell's.)
            return line
                .split_whitespace()
                .map(|word| word.trim_matches(['"', '\'']).to_owned())
                .collect();
        }
        let server = lines
            .find_map(|l| l.strip_prefix("Login server: "))
            .unwrap_or_else(|| panic!("neither `tailscale up` nor a login server in:\n{text}"));
        ["tailscale", "up"]
            .into_iter()
            .map(str::to_owned)
            .chain([
                format!("--login-server={server}"),
                "--auth-key=file:KEY".to_owned(),
                format!("--hostname={device}"),
            ])
            .collect()
    }

    /// The pre-auth key privai made for `device` (`privai enroll --show-key`).
    pub fn key_of(&self, device: &str) -> String {
        let root = self.root();
        let out = privai_on(
            &self.server,
            &[
                OsStr::new("enroll"),
                OsStr::new(device),
                self.spec.as_os_str(),
                OsStr::new("--show-key"),
                OsStr::new("--root"),
                root.as_os_str(),
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Joins `device` (a node already added) with `argv`, its key put in
    /// a file for `--auth-key=file:`.
    pub fn join_with(&self, device: &str, argv: &[String], key: &str) -> Output {
        let file = self.dir.path().join(format!("{device}.key"));
        std::fs::write(&file, key).unwrap();
        let argv: Vec<String> = argv
            .iter()
            .map(|a| match a.strip_prefix("--auth-key=file:") {
                Some(_) => format!("--auth-key=file:{}", file.display()),
                None => a.clone(),
            })
            .collect();
        self.nodes[device].up(&argv)
    }

    /// Joins `device` as `privai enroll` says, with privai's key; must succeed.
    pub fn join(&mut self, device: &str) {
        let key = self.key_of(device);
        let out = self.try_join(device, &key);
        assert!(
            out.status.success(),
            "{device} did not join: {}\n--- tailscaled\n{}\n--- headscale\n{}",
            show(&out),
            self.nodes[device].log_text(),
            self.headscale.log_text()
        );
    }

    /// Joins the server itself (privai enrolls devices, not hosts): with a
    /// key made by Headscale's CLI for a user `servers` of its own.
    pub fn join_server(&mut self) {
        self.join_server_tagged(&[]);
    }

    /// [`Tailnet::join_server`], the key carrying `tags` (comma-separated).
    pub fn join_server_tagged(&mut self, tags: &[&str]) {
        let server = self.server.clone();
        self.start_node(server);
        self.headscale
            .cli(&self.server, &["users", "create", "servers"]);
        let users = self.headscale.json(&self.server, &["users", "list"]);
        let id = users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == "servers")
            .and_then(|u| u["id"].as_u64())
            .expect("the user servers");
        let id = id.to_string();
        let tags = tags.join(",");
        let mut args = vec!["preauthkeys", "create", "-u", &id, "-e", "1h"];
        if !tags.is_empty() {
            args.extend(["--tags", &tags]);
        }
        let key = self.headscale.cli(&self.server, &args);
        let key = key.lines().last().unwrap().trim().to_owned();
        let argv: Vec<String> = [
            "tailscale",
            "up",
            &format!("--login-server=https://{}", self.server_name),
            "--auth-key=file:KEY",
            &format!("--hostname={}", self.server.name),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        let name = self.server.name.clone();
        let out = self.join_with(&name, &argv, &key);
        assert!(
            out.status.success(),
            "the server did not join: {}",
            show(&out)
        );
    }

    /// Tries to join `device` as `privai enroll` says, with `key`.
    pub fn try_join(&mut self, device: &str, key: &str) -> Output {
        if !self.nodes.contains_key(device) {
            self.add_node(device);
        }
        let argv = self.enroll_command(device);
        self.join_with(device, &argv, key)
    }

    /// What Headscale holds, from its own CLI: users, pre-auth keys,
    /// nodes (without what changes by itself: last seen, online, expiry
    /// of the node key) and the policy it enforces.
    pub fn headscale_state(&self) -> serde_json::Value {
        let mut nodes = self.headscale.json(&self.server, &["nodes", "list"]);
        for node in nodes.as_array_mut().into_iter().flatten() {
            if let Some(node) = node.as_object_mut() {
                for volatile in ["last_seen", "online", "expiry"] {
                    node.remove(volatile);
                }
            }
        }
        serde_json::json!({
            "users": self.headscale.json(&self.server, &["users", "list"]),
            "keys": self.headscale.json(&self.server, &["preauthkeys", "list"]),
            "nodes": nodes,
            "policy": self.headscale.cli(&self.server, &["policy", "get"]),
        })
    }

    /// Headscale's nodes: name → (IPv4 address, user, tags).
    pub fn headscale_nodes(&self) -> BTreeMap<String, serde_json::Value> {
        let nodes = self.headscale.json(&self.server, &["nodes", "list"]);
        nodes
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|n| (n["given_name"].as_str().unwrap_or_default().to_owned(), n))
            .collect()
    }
}

/// A `launchctl` for `privai apply` on the (macOS) server: `launchctl
/// kill SIGHUP …headscale` sends SIGHUP to the test's Headscale (pid
/// `pid`), as launchd would; every other command line succeeds and does
/// nothing (the services are the test's).
fn launchctl_shim(dir: &Path, pid: u32) {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("launchctl");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\ncase \"$1 $2 $3\" in\n  \"kill SIGHUP \"*headscale) exec kill -HUP {pid} ;;\nesac\nexit 0\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// Answers `{"ok":true}` on `127.0.0.1:port` of `host` (the gateway's
/// health endpoint, which `apply` checks).
fn serve_gateway_health(host: &Host, port: u16) {
    use std::io::{Read, Write};
    let listener = host
        .enter(|| std::net::TcpListener::bind(("127.0.0.1", port)))
        .unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}");
        }
    });
}

#[test]
fn the_seed_applies_on_an_empty_real_headscale_in_database_mode_devices_join_the_held_back_tests_follow_and_later_applies_change_nothing()
 {
    seed_applies_joins_and_reapplies_without_writes("database");
}

/// The seed applied in policy `mode` on an empty Headscale (the policy's
/// `tests` held back: their users have no node yet), every device joined,
/// a second apply that gives Headscale the tests (which the real server
/// evaluates, and accepts), and a third that changes nothing in Headscale.
fn seed_applies_joins_and_reapplies_without_writes(mode: &str) {
    let started = std::time::Instant::now();
    let mut tailnet = Tailnet::seed(mode);
    let spec = tailnet.spec.clone();
    // File mode: Headscale started with the policy file `privai build`
    // rendered (it does not start without one), which apply adopts.
    let adopt: &[&str] = if mode == "file" { &["--adopt"] } else { &[] };
    let first = tailnet.apply_with(&spec, adopt);
    assert!(first.contains("Apply complete!"), "{first}");
    // The server first, so that it gets the seed's `tailnet_ip` (Headscale
    // hands out addresses in order).
    tailnet.join_server();
    for device in DEVICES {
        tailnet.join(device);
    }
    let nodes = tailnet.headscale_nodes();
    assert_eq!(
        nodes.keys().map(String::as_str).collect::<Vec<_>>(),
        ["desktop", "laptop", "openclaw-server", "phone"]
    );
    let second = tailnet.apply(&spec);
    assert!(second.contains("\"tests\""), "{second}");
    if mode == "file" {
        let log = tailnet.headscale.log_text();
        assert!(
            log.contains("reloading ACL policy"),
            "no SIGHUP reload:\n{log}"
        );
    }
    let policy = tailnet.headscale.cli(&tailnet.server, &["policy", "get"]);
    assert!(
        policy.contains("group:trusted") && policy.contains("\"tests\""),
        "{policy}"
    );
    let before = tailnet.headscale_state();
    // Five applies that change nothing: the figure beside the stand-in's
    // (`apply::five_no_op_applies_against_the_standins_change_nothing`).
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let again = tailnet.apply(&spec);
        times.push(started.elapsed());
        assert_eq!(
            again,
            "Note: headscale user servers is not in the spec but owns openclaw-server; privai keeps it: delete those nodes first (`headscale nodes list`, `headscale nodes delete -i ID`)\n\nNo changes. Your system matches the spec.\n",
            "(the user of the server's own node, which privai does not enroll)"
        );
    }
    let after = tailnet.headscale_state();
    assert_eq!(before, after, "a no-op apply changed Headscale");
    times.sort();
    eprintln!(
        "real tailnet ({mode} mode): applied, 3 devices joined, policy tests added, 5 no-op applies (median {} ms) in {:.1} s",
        times[2].as_millis(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn the_seed_applies_on_an_empty_real_headscale_in_file_mode_devices_join_the_held_back_tests_follow_and_later_applies_change_nothing()
 {
    seed_applies_joins_and_reapplies_without_writes("file");
}
