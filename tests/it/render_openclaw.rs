//! The gateway's `openclaw.json` and `compose.yaml`, checked with the real
//! tools: OpenClaw's own validator (pinned 2026.9.6) and podman running the
//! rendered compose file against a local stand-in image.
//!
//! Install the tools first (idempotent):
//!
//! ```text
//! apt-get install -y podman runc busybox-static
//! tests/tools/install-openclaw.sh
//! ```
//!
//! Everything here talks only to 127.0.0.1 and to the test's own containers
//! (the 10.254.89.0/24 network the compose file creates). The podman tests
//! run one at a time: both create that network.

use privai::model::Spec;
use privai::render::compose::{GATEWAY_SERVICE, RELAY_SERVICE, SUBNET_GATEWAY};
use privai::render::{Artifact, openclaw};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::tools::{repo, tool};

fn load(example: &str) -> Spec {
    privai::spec::load(&repo(example)).unwrap().spec
}

/// The gateway's artifacts of `spec`.
fn artifacts(spec: &Spec) -> Vec<Artifact> {
    let host = spec
        .service_host(privai::model::Role::Openclaw)
        .expect("the example runs a gateway");
    let mut out = Vec::new();
    openclaw::render(spec, host, &mut out);
    out
}

fn artifact<'a>(artifacts: &'a [Artifact], suffix: &str) -> &'a Artifact {
    artifacts
        .iter()
        .find(|a| a.path.ends_with(suffix))
        .unwrap_or_else(|| panic!("no artifact ending in {suffix}"))
}

fn text(artifact: &Artifact) -> &str {
    std::str::from_utf8(&artifact.contents).unwrap()
}

/// Runs `openclaw config validate --json` on `json`.
fn validate(json: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("openclaw.json");
    std::fs::write(&config, json).unwrap();
    Command::new(tool("openclaw"))
        .args(["config", "validate", "--json"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir.path().join("home"))
        .env("OPENCLAW_STATE_DIR", dir.path().join("state"))
        .env("OPENCLAW_CONFIG_PATH", &config)
        .output()
        .unwrap()
}

/// Runs `openclaw config validate` on `example`'s config, with the pinned
/// Matrix plugin when the config enables it (see
/// [`with_installed_matrix_plugin`]).
fn assert_valid(example: &str) {
    let spec = load(example);
    let rendered = artifacts(&spec);
    let mut json = text(artifact(&rendered, "/openclaw.json")).to_owned();
    if json.contains("\"matrix\"") {
        json = with_installed_matrix_plugin(&json);
    }
    let output = validate(&json);
    assert!(
        output.status.success(),
        "openclaw rejects the {example} config:\n{}\n{}\n{json}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn openclaw_validates_the_seed_config() {
    assert_valid("examples/seed-home.ncl");
}

#[test]
fn openclaw_validates_the_seed_on_telegram_config() {
    assert_valid("examples/seed-telegram.ncl");
}

#[test]
fn openclaw_validates_the_homelab_config() {
    assert_valid("examples/linux-homelab.ncl");
}

/// The seed, with `openclaw.chat_completions` set to `enabled`.
fn seed_with_chat_completions(enabled: bool) -> Spec {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.ncl");
    std::fs::write(
        &path,
        format!(
            "(import \"{}\") & {{ openclaw.chat_completions | force = {enabled} }}\n",
            crate::tools::importable(dir.path(), &repo("examples/seed-home.ncl"))
        ),
    )
    .unwrap();
    privai::spec::load(&path).unwrap().spec
}

/// `gateway.http` of the rendered `openclaw.json` of `spec`.
fn gateway_http(spec: &Spec) -> (serde_json::Value, String) {
    let rendered = artifacts(spec);
    let json = text(artifact(&rendered, "/openclaw.json")).to_owned();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    (value["gateway"]["http"].clone(), json)
}

#[test]
fn the_openai_chat_endpoint_is_off_unless_the_spec_asks_for_it() {
    let (http, _) = gateway_http(&load("examples/seed-home.ncl"));
    assert_eq!(http, serde_json::Value::Null);
    let (http, _) = gateway_http(&seed_with_chat_completions(false));
    assert_eq!(http, serde_json::Value::Null);
    let (http, json) = gateway_http(&seed_with_chat_completions(true));
    assert_eq!(
        http,
        serde_json::json!({"endpoints": {"chatCompletions": {"enabled": true}}}),
        "{json}"
    );
}

#[test]
fn openclaw_validates_a_config_with_the_openai_chat_endpoint() {
    let (_, json) = gateway_http(&seed_with_chat_completions(true));
    let output = validate(&json);
    assert!(
        output.status.success(),
        "openclaw rejects the config:\n{}\n{}\n{json}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn openclaw_rejects_a_config_with_a_misspelt_key() {
    let rendered = artifacts(&load("examples/seed-home.ncl"));
    let json = text(artifact(&rendered, "/openclaw.json"));
    assert!(json.contains("\"dmScope\""));
    let output = validate(&json.replace("\"dmScope\"", "\"dmScop\""));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "accepted: {stdout}");
    assert!(stdout.contains("dmScop"), "{stdout}");
}

#[test]
fn the_seed_renders_its_config_into_the_config_folder_and_compose_into_the_gateway_dir() {
    let rendered = artifacts(&load("examples/seed-home.ncl"));
    let paths: Vec<(&str, u32, bool)> = rendered
        .iter()
        .map(|a| (a.path.as_str(), a.mode, a.secret))
        .collect();
    assert_eq!(
        paths,
        [
            ("~/.openclaw/config/openclaw.json", 0o644, false),
            ("~/.config/privai/openclaw/compose.yaml", 0o644, false),
        ]
    );
    for a in &rendered {
        assert_eq!(a.restarts, [privai::render::ServiceId::Gateway]);
        assert_eq!(a.owner, privai::render::Owner::User);
    }
    let homelab = artifacts(&load("examples/linux-homelab.ncl"));
    let paths: Vec<&str> = homelab.iter().map(|a| a.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/srv/openclaw/config/openclaw.json",
            "/etc/privai/openclaw/compose.yaml"
        ]
    );
    assert!(
        homelab
            .iter()
            .all(|a| a.owner == privai::render::Owner::Root)
    );
}

#[test]
fn no_secret_value_or_reference_name_reaches_the_rendered_files() {
    for example in ["examples/seed-home.ncl", "examples/linux-homelab.ncl"] {
        for a in artifacts(&load(example)) {
            let text = text(&a);
            assert!(!text.contains("keychain:"), "{}", a.path);
            assert!(!text.contains("OPENCLAW_GATEWAY_TOKEN"), "{}", a.path);
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    let spec = load("examples/seed-home.ncl");
    assert_eq!(artifacts(&spec), artifacts(&spec));
}

#[test]
fn seed_openclaw_json_snapshot() {
    let rendered = artifacts(&load("examples/seed-home.ncl"));
    insta::assert_snapshot!(text(artifact(&rendered, "/openclaw.json")));
}

#[test]
fn seed_compose_yaml_snapshot() {
    let rendered = artifacts(&load("examples/seed-home.ncl"));
    insta::assert_snapshot!(text(artifact(&rendered, "/compose.yaml")));
}

#[test]
fn homelab_compose_yaml_snapshot() {
    let rendered = artifacts(&load("examples/linux-homelab.ncl"));
    insta::assert_snapshot!(text(artifact(&rendered, "/compose.yaml")));
}

/// The `baseUrl` of the Ollama provider in `openclaw.json`.
fn base_url(spec: &Spec) -> String {
    let rendered = artifacts(spec);
    let json: serde_json::Value =
        serde_json::from_str(text(artifact(&rendered, "/openclaw.json"))).unwrap();
    json["models"]["providers"]["ollama"]["baseUrl"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_gateway_reaches_ollama_through_the_relay_on_each_platform() {
    // macOS: the relay's address inside the internal network.
    let seed = load("examples/seed-home.ncl");
    assert_eq!(
        base_url(&seed),
        format!("http://10.254.89.3:{}", seed.ollama.port)
    );
    // Linux: the internal network's gateway, where the host-network relay
    // listens; no edge network, no published port.
    let homelab = load("examples/linux-homelab.ncl");
    assert_eq!(
        base_url(&homelab),
        format!("http://10.254.89.1:{}", homelab.ollama.port)
    );
    let rendered = artifacts(&homelab);
    let compose: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text(artifact(&rendered, "/compose.yaml"))).unwrap();
    let relay = &compose["services"][RELAY_SERVICE];
    assert_eq!(relay["network_mode"].as_str(), Some("host"));
    assert!(relay.get("ports").is_none() && relay.get("networks").is_none());
    assert_eq!(relay["cap_drop"][0].as_str(), Some("ALL"));
    assert_eq!(relay["depends_on"][0].as_str(), Some(GATEWAY_SERVICE));
    let routes: Vec<&str> = relay["entrypoint"]
        .as_sequence()
        .unwrap()
        .iter()
        .skip(3)
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        routes,
        [
            "100.64.0.10:18789=10.254.89.2:18789".to_owned(),
            format!("10.254.89.1:{0}=127.0.0.1:{0}", homelab.ollama.port),
        ]
    );
    assert!(compose["networks"].get("edge").is_none());
    // Compose interpolates `$`: the relay's script must have none.
    assert!(!privai::render::compose::RELAY_JS.contains('$'));
    assert_eq!(
        compose["networks"]["internal"]["internal"].as_bool(),
        Some(true)
    );
    let gateway = &compose["services"][GATEWAY_SERVICE];
    assert!(gateway.get("network_mode").is_none());
    assert_eq!(
        gateway["networks"]["internal"]["ipv4_address"].as_str(),
        Some("10.254.89.2")
    );
}

// ------------------------------------------------------------------ podman

/// Runs `program` with `args`, returning its output.
fn run(program: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(program);
    command.args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn which(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("`{program}` is not installed: apt-get install -y podman runc busybox-static")
        })
}

/// Removes the test's containers, networks and image, also when it fails.
struct Cleanup {
    podman: PathBuf,
    compose: PathBuf,
    conf: PathBuf,
    home: PathBuf,
    file: PathBuf,
    project: String,
    image: String,
}

impl Cleanup {
    fn podman(&self, args: &[&str]) -> Output {
        run(&self.podman, args, &[("CONTAINERS_CONF", &self.conf)])
    }

    /// Runs podman-compose, bounded: it waits forever on a dependency that
    /// failed to start.
    fn compose(&self, args: &[&str]) -> Output {
        let mut all = vec![
            "120",
            self.compose.to_str().unwrap(),
            "-p",
            &self.project,
            "-f",
            self.file.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        run(
            Path::new("timeout"),
            &all,
            &[("CONTAINERS_CONF", &self.conf), ("HOME", &self.home)],
        )
    }

    /// The container of compose service `service`.
    fn container(&self, service: &str) -> String {
        let label = format!("label=io.podman.compose.project={}", self.project);
        let service_label = format!("label=io.podman.compose.service={service}");
        let output = self.podman(&[
            "ps",
            "-a",
            "--filter",
            &label,
            "--filter",
            &service_label,
            "--format",
            "{{.ID}}",
        ]);
        let id = stdout(&output).trim().to_owned();
        assert!(
            !id.is_empty(),
            "no container for {service}: {}",
            describe(&output)
        );
        id
    }

    fn exec(&self, container: &str, command: &[&str]) -> Output {
        let mut args = vec!["exec", container];
        args.extend_from_slice(command);
        self.podman(&args)
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "-t", "0"]);
        let label = format!("label=io.podman.compose.project={}", self.project);
        let ids = stdout(&self.podman(&["ps", "-aq", "--filter", &label]));
        for id in ids.split_whitespace() {
            let _ = self.podman(&["rm", "-f", "-t", "0", id]);
        }
        for network in ["internal", "edge"] {
            let _ = self.podman(&[
                "network",
                "rm",
                "-f",
                &format!("{}_{network}", self.project),
            ]);
        }
        let _ = self.podman(&["pod", "rm", "-f", &format!("pod_{}", self.project)]);
        let _ = self.podman(&["rmi", "-f", &self.image]);
    }
}

/// Builds the stand-in image: static busybox serving `/healthz` as
/// OpenClaw does, plus the real Node binary (the relay and the health check
/// run Node, as in OpenClaw's image).
fn build_standin(cleanup: &Cleanup, dir: &Path) {
    let root = dir.join("rootfs");
    for d in ["bin", "www", "tmp", "etc", "usr/local/bin", "run"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    // As in OpenClaw's image: the node user's private directories.
    for d in ["home/node/.openclaw", "home/node/.config/openclaw"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    for d in [
        "home/node",
        "home/node/.openclaw",
        "home/node/.config",
        "home/node/.config/openclaw",
    ] {
        chown_tree(&root.join(d));
    }
    let busybox = Path::new("/bin/busybox");
    assert!(
        busybox.exists(),
        "/bin/busybox is missing: apt-get install -y busybox-static"
    );
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    for applet in [
        "sh", "cat", "touch", "ip", "httpd", "wget", "grep", "ls", "timeout",
    ] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    std::fs::write(
        root.join("www/healthz"),
        "{\"ok\":true,\"status\":\"live\"}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\nnode:x:1000:\n").unwrap();
    // The real Node and the shared libraries it loads.
    let node = std::fs::canonicalize(tool("node")).unwrap();
    std::fs::copy(&node, root.join("usr/local/bin/node")).unwrap();
    let ldd = run(Path::new("ldd"), &[node.to_str().unwrap()], &[]);
    assert!(ldd.status.success(), "{}", describe(&ldd));
    for line in stdout(&ldd).lines() {
        let lib = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line
                .split_whitespace()
                .next()
                .filter(|p| p.starts_with('/')),
        };
        if let Some(lib) = lib.filter(|l| l.starts_with('/')) {
            let target = root.join(lib.trim_start_matches('/'));
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(lib, &target).unwrap();
        }
    }
    let tarball = dir.join("standin.tar");
    let tar = run(
        Path::new("tar"),
        &[
            "-C",
            root.to_str().unwrap(),
            "-cf",
            tarball.to_str().unwrap(),
            ".",
        ],
        &[],
    );
    assert!(tar.status.success(), "{}", describe(&tar));
    let import = cleanup.podman(&[
        "import",
        "--change",
        "CMD [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"18789\", \"-h\", \"/www\"]",
        "--change",
        "ENV PATH=/usr/local/bin:/bin",
        tarball.to_str().unwrap(),
        &cleanup.image,
    ]);
    assert!(import.status.success(), "{}", describe(&import));
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` on 127.0.0.1:`port`: the response, if any.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    (!response.is_empty()).then_some(response)
}

fn chown_tree(path: &Path) {
    std::os::unix::fs::chown(path, Some(1000), Some(1000)).unwrap();
}

/// Serializes the podman tests: each creates the fixed internal subnet.
static PODMAN: Mutex<()> = Mutex::new(());

/// The podman side of a test named `name` in `dir`: the test's
/// containers.conf, its compose project, and the stand-in image (built).
fn podman_project(dir: &Path, name: &str) -> Cleanup {
    let podman = which("podman");
    let compose = tool("podman-compose");
    let conf = dir.join("containers.conf");
    std::fs::write(
        &conf,
        "[containers]\ndefault_ulimits = [\"nofile=1024:1024\",\"nproc=1024:1024\"]\n\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\n",
    )
    .unwrap();
    let id = std::process::id();
    let cleanup = Cleanup {
        podman,
        compose,
        conf,
        home: dir.join("home"),
        file: dir.join("compose.yaml"),
        project: format!("privai-test-{name}-{id}"),
        image: format!("localhost/privai-openclaw-standin:{name}-{id}"),
    };
    build_standin(&cleanup, dir);
    cleanup
}

/// Waits until 127.0.0.1:`port` answers `/healthz` with `{"ok":true}`.
fn wait_healthz(cleanup: &Cleanup, port: u16, relay: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match get(port, "/healthz") {
            Some(r) if r.contains("\"ok\":true") => break r,
            other if Instant::now() > deadline => panic!(
                "no /healthz on 127.0.0.1:{port}: {other:?}\n{}",
                describe(&cleanup.podman(&["logs", relay]))
            ),
            _ => std::thread::sleep(Duration::from_millis(300)),
        }
    }
}

/// Whether container `id` has a default route.
fn default_route(cleanup: &Cleanup, id: &str) -> bool {
    let routes = stdout(&cleanup.exec(id, &["cat", "/proc/net/route"]));
    routes
        .lines()
        .skip(1)
        .any(|l| l.split_whitespace().nth(1) == Some("00000000"))
}

/// Capabilities, privilege escalation, read-only root and user of container
/// `id` (named `name` in messages).
fn assert_hardened(cleanup: &Cleanup, name: &str, id: &str) {
    let status = stdout(&cleanup.exec(id, &["cat", "/proc/self/status"]));
    assert!(
        status.lines().any(|l| l == "CapEff:\t0000000000000000"),
        "{name}: {status}"
    );
    assert!(
        status.lines().any(|l| l == "NoNewPrivs:\t1"),
        "{name}: {status}"
    );
    let write = cleanup.exec(id, &["touch", "/written"]);
    assert!(!write.status.success(), "{name} could write to /");
    let ids = stdout(&cleanup.podman(&["inspect", "--format", "{{.Config.User}}", id]));
    assert_eq!(ids.trim(), "1000:1000", "{name}");
}

/// The destinations mounted into container `id`.
fn mount_points(cleanup: &Cleanup, id: &str) -> String {
    stdout(&cleanup.podman(&[
        "inspect",
        "--format",
        "{{range .Mounts}}{{.Destination}} {{end}}",
        id,
    ]))
    .trim()
    .to_owned()
}

#[test]
fn the_seed_compose_file_runs_hardened_under_podman() {
    let _podman = crate::podman_lock();
    let _serial = PODMAN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let cleanup = podman_project(dir.path(), "seed");
    let home = cleanup.home.clone();

    // The seed on Telegram (three secrets: the gateway token, Telegram's,
    // the AI's Matrix token), published on loopback (its tailnet address does not exist
    // here) on a free port, with the stand-in image; nothing else changes.
    let mut spec = load("examples/seed-telegram.ncl");
    let port = free_port();
    spec.openclaw.bind = "127.0.0.1".into();
    spec.openclaw.port = port;
    spec.openclaw.image = Some(cleanup.image.clone());
    let rendered = artifacts(&spec);
    std::fs::write(&cleanup.file, text(artifact(&rendered, "/compose.yaml"))).unwrap();

    // The host side privai apply prepares: the folders and the secret files,
    // owned by the container user.
    let folders: Vec<(String, String)> = spec
        .openclaw
        .folders
        .iter()
        .map(|f| {
            let host = home.join(f.host_path.trim_start_matches("~/"));
            std::fs::create_dir_all(&host).unwrap();
            chown_tree(&host);
            (host.to_str().unwrap().to_owned(), f.container_path.clone())
        })
        .collect();
    let config = home.join(".openclaw/config/openclaw.json");
    std::fs::write(&config, text(artifact(&rendered, "/openclaw.json"))).unwrap();
    let secrets = home.join(".config/privai/secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    for name in ["openclaw-gateway-token", "telegram-token", "matrix-token"] {
        let file = secrets.join(name);
        std::fs::write(&file, "test-token\n").unwrap();
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        chown_tree(&file);
    }

    let up = cleanup.compose(&["up", "-d"]);
    assert!(up.status.success(), "compose up failed: {}", describe(&up));
    let gateway = cleanup.container(GATEWAY_SERVICE);
    let relay = cleanup.container(RELAY_SERVICE);

    // The published port answers /healthz through the relay, on loopback.
    let response = wait_healthz(&cleanup, port, &relay);
    assert!(response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"));

    // Only the relay publishes, only on 127.0.0.1.
    let relay_ports = stdout(&cleanup.podman(&["port", &relay]));
    assert_eq!(
        relay_ports.trim(),
        format!("18789/tcp -> 127.0.0.1:{port}"),
        "relay ports"
    );
    let gateway_ports = stdout(&cleanup.podman(&["port", &gateway]));
    assert_eq!(gateway_ports.trim(), "", "gateway ports");

    for (name, id) in [("gateway", &gateway), ("relay", &relay)] {
        assert_hardened(&cleanup, name, id);
    }
    // The gateway may write where OpenClaw must: /tmp and its state tmpfs.
    let tmp = cleanup.exec(
        &gateway,
        &["touch", "/tmp/written", "/home/node/.openclaw/written"],
    );
    assert!(tmp.status.success(), "{}", describe(&tmp));

    // Nothing but the designated folders and secrets is bind-mounted.
    let mounts = stdout(&cleanup.podman(&[
        "inspect",
        "--format",
        "{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}} {{.RW}}\n{{end}}",
        &gateway,
    ]));
    let mut expected: BTreeSet<String> = spec
        .openclaw
        .folders
        .iter()
        .zip(&folders)
        .map(|(f, (host, container))| {
            let rw = f.mode == privai::model::FolderMode::Rw;
            format!("bind {host} {container} {rw}")
        })
        .collect();
    for (name, file) in [
        ("openclaw_gateway_token", "openclaw-gateway-token"),
        ("telegram_token", "telegram-token"),
        ("matrix_token", "matrix-token"),
    ] {
        expected.insert(format!(
            "bind {} /run/secrets/{name} false",
            secrets.join(file).display()
        ));
    }
    let actual: BTreeSet<String> = mounts
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(actual, expected, "gateway mounts");
    assert_eq!(mount_points(&cleanup, &relay), "", "relay mounts");

    // No egress: the gateway has no default route (the relay, on the edge
    // network, has one: the check below can see a route when there is one).
    assert!(
        !default_route(&cleanup, &gateway),
        "the gateway has a default route"
    );
    assert!(
        default_route(&cleanup, &relay),
        "the relay has no default route"
    );

    drop(cleanup);
}

/// A stand-in Ollama on 127.0.0.1 (only): answers `GET /api/version` with
/// `{"version":"0.0.0"}`, anything else with 404. Returns its port.
fn stand_in_ollama() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = answer_like_ollama(stream);
        }
    });
    port
}

fn answer_like_ollama(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = Vec::new();
    let mut buf = [0; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let (status, body) = if request.starts_with(b"GET /api/version ") {
        ("200 OK", "{\"version\":\"0.0.0\"}")
    } else {
        ("404 Not Found", "")
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The addresses listening on TCP `port` in the test's (the host's) network
/// namespace: IPv4 dotted, IPv6 as `v6:HEX` (`v6:0…0` is the wildcard).
fn listeners(port: u16) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let Ok(table) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in table.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(&"0A")) = (fields.get(1), fields.get(3)) else {
                continue;
            };
            let Some((address, hex_port)) = local.split_once(':') else {
                continue;
            };
            if u16::from_str_radix(hex_port, 16) != Ok(port) {
                continue;
            }
            if v6 {
                found.insert(format!("v6:{address}"));
            } else {
                let [a, b, c, d] = u32::from_str_radix(address, 16).unwrap().to_le_bytes();
                found.insert(format!("{a}.{b}.{c}.{d}"));
            }
        }
    }
    found
}

#[test]
fn the_homelab_gateway_reaches_a_loopback_ollama_under_podman() {
    let _podman = crate::podman_lock();
    let _serial = PODMAN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let cleanup = podman_project(dir.path(), "linux");
    let home = cleanup.home.clone();
    let ollama_port = stand_in_ollama();

    // The Linux home lab, its gateway published on loopback (its tailnet
    // address does not exist here) on a free port, Ollama on the stand-in's
    // port, the stand-in image, folders and the token file under the test's
    // directory; nothing else changes.
    let mut spec = load("examples/linux-homelab.ncl");
    assert_eq!(spec.ollama.listen, "127.0.0.1");
    let port = free_port();
    spec.ollama.port = ollama_port;
    spec.openclaw.bind = "127.0.0.1".into();
    spec.openclaw.port = port;
    spec.openclaw.image = Some(cleanup.image.clone());
    for folder in &mut spec.openclaw.folders {
        let host = home.join(&folder.name);
        std::fs::create_dir_all(&host).unwrap();
        chown_tree(&host);
        folder.host_path = host.to_str().unwrap().to_owned();
    }
    let token = home.join("openclaw-gateway-token");
    std::fs::write(&token, "test-token\n").unwrap();
    std::fs::set_permissions(&token, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    chown_tree(&token);
    spec.openclaw.gateway_token = format!("file:{}", token.display()).into();
    let rendered = artifacts(&spec);
    let compose = text(artifact(&rendered, "/compose.yaml"));
    assert!(
        !compose.contains("/srv/") && !compose.contains("/etc/privai"),
        "{compose}"
    );
    std::fs::write(&cleanup.file, compose).unwrap();
    std::fs::write(
        home.join("config/openclaw.json"),
        text(artifact(&rendered, "/openclaw.json")),
    )
    .unwrap();

    let up = cleanup.compose(&["up", "-d"]);
    assert!(up.status.success(), "compose up failed: {}", describe(&up));
    let gateway = cleanup.container(GATEWAY_SERVICE);
    let relay = cleanup.container(RELAY_SERVICE);

    // The bind address answers /healthz through the relay.
    let response = wait_healthz(&cleanup, port, &relay);
    assert!(response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"));

    // The gateway reaches the loopback-only Ollama at the internal
    // network's gateway address, as its baseUrl says.
    assert_eq!(
        base_url(&spec),
        format!("http://{SUBNET_GATEWAY}:{ollama_port}")
    );
    let url = format!("http://{SUBNET_GATEWAY}:{ollama_port}/api/version");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = cleanup.exec(&gateway, &["timeout", "5", "wget", "-qO-", &url]);
        if stdout(&answer).trim() == "{\"version\":\"0.0.0\"}" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the gateway gets no answer from {url}: {}\nrelay: {}",
            describe(&answer),
            describe(&cleanup.podman(&["logs", &relay]))
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // The relay shares the host's network, publishes nothing, and is as
    // hardened as the gateway; neither has a port published by podman.
    let mode =
        stdout(&cleanup.podman(&["inspect", "--format", "{{.HostConfig.NetworkMode}}", &relay]));
    assert_eq!(mode.trim(), "host", "relay network mode");
    for (name, id) in [("gateway", &gateway), ("relay", &relay)] {
        assert_hardened(&cleanup, name, id);
        let ports = stdout(&cleanup.podman(&["port", id]));
        assert_eq!(ports.trim(), "", "{name} ports");
    }
    assert_eq!(mount_points(&cleanup, &relay), "", "relay mounts");

    // The gateway still has no egress.
    assert!(
        !default_route(&cleanup, &gateway),
        "the gateway has a default route"
    );

    // On the host, only the intended addresses listen: the relay on the bind
    // address and on the internal network's gateway, the stand-in on
    // loopback; nothing on a wildcard.
    assert_eq!(
        listeners(port),
        BTreeSet::from(["127.0.0.1".to_owned()]),
        "listeners on the gateway port"
    );
    assert_eq!(
        listeners(ollama_port),
        BTreeSet::from(["127.0.0.1".to_owned(), SUBNET_GATEWAY.to_owned()]),
        "listeners on the Ollama port"
    );

    drop(cleanup);
}

/// The seed on `platform` with the private homeserver on the gateway's
/// host and a Matrix channel instead of Telegram.
fn seed_on_matrix(platform: privai::model::Platform) -> Spec {
    let mut spec = load("examples/seed-home.ncl");
    spec.hosts[0].platform = platform;
    spec.hosts[0].roles.push(privai::model::Role::Homeserver);
    spec.openclaw.channels.telegram = None;
    spec.openclaw.channels.matrix = Some(privai::model::Channel {
        enabled: true,
        dm_policy: privai::model::ChannelPolicy::Allowlist,
        allow_from: vec!["user1".into(), "@friend:elsewhere.example".into()],
        group_policy: privai::model::GroupPolicy::Disabled,
        token: Some("env:MATRIX_AI_TOKEN".into()),
        account: None,
        cloud_reason: None,
    });
    spec
}

#[test]
fn the_matrix_channel_points_at_the_homeserver_through_the_relay_and_openclaw_validates_it() {
    use privai::model::Platform;
    for (platform, url, route) in [
        (
            Platform::Darwin,
            "http://10.254.89.3:8008",
            "10.254.89.3:8008=host.containers.internal:8008",
        ),
        (
            Platform::Linux,
            "http://10.254.89.1:8008",
            "10.254.89.1:8008=127.0.0.1:8008",
        ),
    ] {
        let spec = seed_on_matrix(platform);
        let rendered = artifacts(&spec);
        let json = text(artifact(&rendered, "/openclaw.json"));
        let config: serde_json::Value = serde_json::from_str(json).unwrap();
        let matrix = &config["channels"]["matrix"];
        assert_eq!(matrix["homeserver"], url, "{matrix}");
        assert_eq!(matrix["userId"], "@ai:openclaw-server.tailnet.home.arpa");
        assert_eq!(matrix["network"]["dangerouslyAllowPrivateNetwork"], true);
        assert_eq!(matrix["autoJoin"], "always");
        // The plugin trusted explicitly: without it the real gateway loads
        // the plugin but starts no Matrix channel ("external plugin
        // \"matrix\" is installed without explicit trust").
        assert_eq!(
            config["plugins"]["entries"],
            serde_json::json!({"matrix": {"enabled": true}})
        );
        assert_eq!(
            matrix["dm"],
            serde_json::json!({"policy": "allowlist", "allowFrom": [
                "@user1:openclaw-server.tailnet.home.arpa", "@friend:elsewhere.example"]})
        );
        // The AI account's token from a file secret, never inline.
        let provider = matrix["accessToken"]["provider"].as_str().unwrap();
        assert_eq!(
            config["secrets"]["providers"][provider]["path"],
            format!("/run/secrets/{provider}")
        );
        // The relay carries the hop.
        let compose = text(artifact(&rendered, "/compose.yaml"));
        assert!(
            compose.contains(route),
            "{platform:?}: no {route} in\n{compose}"
        );
        // The real OpenClaw, with the pinned plugin, accepts the channel
        // without a warning.
        let json = with_installed_matrix_plugin(json);
        let output = validate(&json);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
        assert_eq!(report["warnings"], serde_json::json!([]), "{report}");
        assert!(
            output.status.success(),
            "openclaw rejects the Matrix channel:\n{}\n{}\n{json}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// `json` (a rendered `openclaw.json`, which names no plugin path: the
/// gateway image carries the plugin installed) with the path where
/// tests/tools/install-openclaw-matrix.sh put the pinned plugin on this
/// machine added to `plugins.load.paths`, as the validator's only way to
/// find it here. OpenClaw skips the schema of a channel whose plugin is
/// missing ("uninspected plugin configuration is preserved"), so a
/// validation without the plugin would prove nothing.
fn with_installed_matrix_plugin(json: &str) -> String {
    let installed =
        crate::tools::tools_root().join("openclaw-matrix/node_modules/@openclaw/matrix");
    assert!(
        installed.join("package.json").exists(),
        "{} is missing: run tests/tools/install-openclaw-matrix.sh",
        installed.display()
    );
    let mut config: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        config["plugins"],
        serde_json::json!({"entries": {openclaw::MATRIX_PLUGIN: {"enabled": true}}}),
        "the rendered config names no plugin path"
    );
    config["plugins"]["load"] = serde_json::json!({"paths": [installed]});
    serde_json::to_string_pretty(&config).unwrap()
}

#[test]
fn the_pinned_matrix_plugin_loads_and_is_enabled_by_the_config() {
    let spec = seed_on_matrix(privai::model::Platform::Linux);
    let rendered = artifacts(&spec);
    let json = with_installed_matrix_plugin(text(artifact(&rendered, "/openclaw.json")));
    let output = validate(&json);
    assert!(
        output.status.success(),
        "openclaw rejects the config with the plugin:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // OpenClaw loads it: the Matrix channel plugin, enabled, of the pinned
    // version, from that path.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, &json).unwrap();
    let out = Command::new(tool("openclaw"))
        .args(["plugins", "list", "--json"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir.path().join("home"))
        .env("OPENCLAW_STATE_DIR", dir.path().join("state"))
        .env("OPENCLAW_CONFIG_PATH", &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let start = stdout
        .find('{')
        .unwrap_or_else(|| panic!("no JSON: {stdout}"));
    let list: serde_json::Value = serde_json::from_str(&stdout[start..]).unwrap();
    let plugins = list["plugins"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"));
    let matrix = plugins
        .iter()
        .find(|p| p["id"] == "matrix")
        .unwrap_or_else(|| panic!("no matrix plugin in {list}"));
    assert_eq!(matrix["version"], "2026.9.6", "{matrix}");
    assert_eq!(matrix["enabled"], true, "{matrix}");
    assert_eq!(matrix["status"], "loaded", "{matrix}");
    assert_eq!(
        matrix["channelIds"],
        serde_json::json!(["matrix"]),
        "{matrix}"
    );
}

#[test]
fn openclaw_rejects_a_matrix_channel_with_an_unknown_dm_policy() {
    // The validator knows the Matrix channel's schema: the check above is
    // not vacuous.
    let spec = seed_on_matrix(privai::model::Platform::Darwin);
    let rendered = artifacts(&spec);
    let json = with_installed_matrix_plugin(text(artifact(&rendered, "/openclaw.json")));
    let bad = json.replace("\"policy\": \"allowlist\"", "\"policy\": \"everyone\"");
    assert_ne!(bad, json);
    let output = validate(&bad);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "accepted: {stdout}");
    assert!(stdout.contains("channels.matrix.dm.policy"), "{stdout}");
}

#[test]
fn a_homeserver_on_another_host_is_reached_at_its_tailnet_address() {
    let mut spec = seed_on_matrix(privai::model::Platform::Linux);
    spec.hosts[0]
        .roles
        .retain(|r| *r != privai::model::Role::Homeserver);
    let mut chat = spec.hosts[0].clone();
    chat.name = "chat".into();
    chat.roles = vec![privai::model::Role::Homeserver];
    chat.tailnet_ip = Some("100.64.0.5".into());
    spec.hosts.push(chat);
    let rendered = artifacts(&spec);
    let config: serde_json::Value =
        serde_json::from_str(text(artifact(&rendered, "/openclaw.json"))).unwrap();
    assert_eq!(
        config["channels"]["matrix"]["homeserver"],
        "http://10.254.89.1:8008"
    );
    assert_eq!(
        config["channels"]["matrix"]["userId"],
        "@ai:chat.tailnet.home.arpa"
    );
    let compose = text(artifact(&rendered, "/compose.yaml"));
    assert!(
        compose.contains("10.254.89.1:8008=100.64.0.5:8008"),
        "{compose}"
    );
}
