//! End to end: `privai apply` of the seed under `--root`, then the real
//! OpenClaw gateway (pinned 2026.9.6) running the generated `openclaw.json`
//! against the Ollama stand-in: `/healthz` answers, and the running
//! gateway's primary and fallback models are the spec's.
//!
//! Install the tools first (idempotent): `tests/tools/install-openclaw.sh`.
//! Needs root (or CAP_SYS_ADMIN) for `unshare`: the gateway runs in private
//! mount and PID namespaces that stand in for its container.
//!
//! How it runs:
//!
//! 1. Stand-ins on 127.0.0.1: Ollama (the spec's models in its registry)
//!    and Headscale. The spec is the seed with Headscale, Ollama and the
//!    gateway on the stand-ins' and free ports, the gateway token a `file:`
//!    in the test's directory (privai generates it), and no messaging
//!    channel nor homeserver (`tailnet::matrix` runs the Matrix path).
//! 2. `privai apply SPEC --root ROOT --auto-approve` with
//!    `PRIVAI_TEST_SERVICES`: service-manager commands are recorded, health
//!    checks and model pulls are real. The test plays the service manager
//!    for the gateway: when apply records the gateway's `compose up`, the
//!    test starts the real gateway, so apply's own health check
//!    (`GET 127.0.0.1:PORT/healthz`) is answered by OpenClaw itself.
//! 3. The gateway runs as its compose service would: the compose file's
//!    environment (`OPENCLAW_CONFIG_PATH`, `OPENCLAW_STATE_DIR`, `HOME`,
//!    `OPENCLAW_OFFLINE`…), `openclaw.json` mounted read-only at
//!    `/home/node/.openclaw/config`, the compose secrets at
//!    `/run/secrets/NAME`, tmpfs at `/tmp`, `/home/node/.openclaw` and
//!    `/home/node/.config/openclaw`, all in a private mount namespace (the
//!    host's `/run`, `/home` and `/tmp` are covered by tmpfs there, never
//!    touched). It runs as root, not as the image's uid 1000, and outside
//!    the image (Node 24 from the install script). With no container
//!    network, two things differ: `--bind loopback --port PORT` replace
//!    the relay that publishes the container's port, and the Ollama
//!    `baseUrl` (the relay's address inside the container network) is
//!    rewritten to the stand-in's loopback URL in a copy of the file.
//!    Every other byte is the file apply installed.
//! 4. OpenClaw's own gateway RPC, through `openclaw gateway call --port
//!    PORT` (ws://127.0.0.1:PORT) with the generated token: `models.list`
//!    (the running gateway's model catalog, its default model tagged
//!    `default`, the fallbacks `fallback#N`) and `config.get` (the running
//!    gateway's `runtimeConfig` and the path it read it from).
//!    The CLI too gets a private tmpfs at `/tmp/openclaw` (for its home,
//!    state and logs): the host keeps only that empty directory. (Not a
//!    tmpfs over all of `/tmp`, which would hide a checkout under `/tmp`.)
//!
//! Only 127.0.0.1 (and the gateway's `::1` twin of its loopback bind) is
//! used: the generated config turns off catalog refresh, update checks,
//! mDNS and Tailscale, and the compose environment sets `OPENCLAW_OFFLINE`.
//! The gateway itself does not call Ollama here: starting, `models.list`
//! and `config.get` read its configuration only (apply pulled and ran the
//! models on the stand-in).

use crate::tools::{free_port, repo, show, tool};
use privai::render::Artifact;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The API key the Headscale stand-in accepts.
const HEADSCALE_KEY: &str = "hskey-api-e2e-0123456789";
/// How long apply's health checks may wait (seconds): the gateway loads
/// in 15–50 s on a 2-CPU machine, depending on what else runs.
const HEALTH_TIMEOUT: &str = "120";
/// Where the compose file mounts the config folder in the container.
const CONFIG_MOUNT: &str = "/home/node/.openclaw/config";

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// The last `max` bytes of file `path`, as text.
fn tail(path: &Path, max: usize) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let start = bytes.len().saturating_sub(max);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// Kills (SIGKILL) and reaps a child process when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sets up the gateway's container filesystem in a private mount
/// namespace, then becomes the gateway. Arguments: the config folder, the
/// openclaw launcher, the port, then `NAME FILE` per compose secret.
const CONTAINER_SH: &str = r#"set -eu
config=$1 openclaw=$2 port=$3
shift 3
mount -t tmpfs -o mode=0755 privai-e2e-run /run
mkdir /run/secrets
while [ $# -gt 0 ]; do
  : > "/run/secrets/$1"
  mount --bind -o ro "$2" "/run/secrets/$1"
  shift 2
done
mount -t tmpfs -o mode=0755 privai-e2e-home /home
mkdir -p /home/node/.openclaw /home/node/.config/openclaw
mount -t tmpfs -o mode=0700 privai-e2e-state /home/node/.openclaw
mount -t tmpfs -o mode=0700 privai-e2e-auth /home/node/.config/openclaw
mkdir /home/node/.openclaw/config /home/node/.openclaw/workspace /home/node/.openclaw/agents
mount --bind -o ro "$config" /home/node/.openclaw/config
mkdir -p /tmp/openclaw
mount -t tmpfs -o mode=1777 privai-e2e-tmp /tmp/openclaw
cd /home/node
exec "$openclaw" gateway run --bind loopback --port "$port"
"#;

/// The real gateway, killed with its whole PID namespace when dropped.
struct Gateway {
    process: Killed,
    output: PathBuf,
}

impl Gateway {
    /// Starts `openclaw gateway run` on 127.0.0.1:`port` with the config in
    /// `config_dir` at [`CONFIG_MOUNT`], `secrets` (name, host file) at
    /// `/run/secrets/NAME` and the environment `env`.
    fn start(
        dir: &Path,
        config_dir: &Path,
        secrets: &[(String, PathBuf)],
        env: &BTreeMap<String, String>,
        port: u16,
    ) -> Self {
        let output = dir.join("gateway.out");
        let log = std::fs::File::create(&output).unwrap();
        let mut command = Command::new("unshare");
        // --kill-child: SIGKILL to unshare kills the namespace's first
        // process, and with it every process of the PID namespace.
        command
            .args([
                "--mount",
                "--propagation",
                "private",
                "--pid",
                "--fork",
                "--mount-proc",
                "--kill-child",
                "sh",
                "-c",
                CONTAINER_SH,
                "sh",
            ])
            .arg(config_dir)
            .arg(tool("openclaw"))
            .arg(port.to_string());
        for (name, file) in secrets {
            command.arg(name).arg(file);
        }
        let process = command
            .env_clear()
            .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
            .envs(env)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot run unshare (util-linux)");
        Self {
            process: Killed(process),
            output,
        }
    }

    /// What the gateway printed so far (its tail).
    fn output(&self) -> String {
        tail(&self.output, 6000)
    }

    /// Panics if the gateway has exited.
    fn assert_running(&mut self) {
        if let Some(status) = self.process.0.try_wait().unwrap() {
            panic!(
                "the gateway exited ({status}) (its namespaces need root: \
                 unshare needs CAP_SYS_ADMIN):\n{}",
                self.output()
            );
        }
    }
}

/// `GET /healthz` on 127.0.0.1:`port`: the status line and the body.
fn healthz(port: u16) -> std::io::Result<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    Ok((
        head.lines().next().unwrap_or_default().to_owned(),
        body.to_owned(),
    ))
}

/// `openclaw gateway call METHOD --json` against the gateway on
/// 127.0.0.1:`port`, authenticated with `token` (`OPENCLAW_GATEWAY_TOKEN`),
/// from a CLI with an empty home and state and no config file, in a mount
/// namespace whose `/tmp/openclaw` is a tmpfs (the CLI writes its logs there).
fn gateway_call(port: u16, token: &str, method: &str) -> serde_json::Value {
    // `--port`: the local gateway, ws://127.0.0.1:PORT. (With `--url`,
    // OpenClaw wants the token on the command line.)
    let output = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg("mkdir -p /tmp/openclaw && mount -t tmpfs -o mode=1777 privai-e2e-cli-tmp /tmp/openclaw && cd / && exec \"$@\"")
        .arg("sh")
        .arg(tool("openclaw"))
        .args(["gateway", "call", method, "--json", "--timeout", "30000"])
        .args(["--port", &port.to_string()])
        .env_clear()
        .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
        .env("HOME", "/tmp/openclaw/home")
        .env("OPENCLAW_STATE_DIR", "/tmp/openclaw/state")
        .env("OPENCLAW_GATEWAY_TOKEN", token)
        .env("OPENCLAW_OFFLINE", "1")
        .env("OPENCLAW_NO_AUTO_UPDATE", "1")
        .env("OPENCLAW_DISABLE_BONJOUR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "openclaw gateway call {method}: {}",
        show(&output)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let json = text.find('{').map_or("", |i| &text[i..]);
    serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("openclaw gateway call {method}: not JSON ({e}): {text}"))
}

/// The artifact of `rendered` whose path ends with `suffix`.
fn artifact<'a>(rendered: &'a [Artifact], suffix: &str) -> &'a Artifact {
    rendered
        .iter()
        .find(|a| a.path.ends_with(suffix))
        .unwrap_or_else(|| panic!("no artifact ending in {suffix}"))
}

/// Where a host path of `host` (absolute, `~/…` or compose's `${HOME}/…`)
/// was staged under `root`.
fn staged(root: &Path, host: &str, path: &str) -> PathBuf {
    let path = match path.strip_prefix("${HOME}/") {
        Some(rest) => format!("~/{rest}"),
        None => path.to_owned(),
    };
    root.join(privai::render::tree_path(host, &path).unwrap())
}

/// Whether a recorded service-manager command line starts the gateway's
/// compose project.
fn starts_gateway(argv: &[String]) -> bool {
    argv.iter().any(|a| a == "compose")
        && argv.iter().any(|a| a == "privai-gateway")
        && argv.iter().any(|a| a == "up")
}

fn recorded(log: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn the_real_gateway_runs_the_applied_config_with_the_specs_models() {
    use crate::standin::ollama::{Config, Model, Standin as Ollama};
    let started = Instant::now();
    let mut timings: Vec<(&str, Duration)> = Vec::new();
    let mut lap = {
        let mut last = Instant::now();
        move |what: &'static str, timings: &mut Vec<(&str, Duration)>| {
            timings.push((what, last.elapsed()));
            last = Instant::now();
        }
    };
    tool("openclaw");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");

    // 1. Stand-ins with the seed's models, and the spec on their ports.
    let seed = privai::spec::load(&repo("examples/seed-home.ncl"))
        .unwrap()
        .spec;
    let ollama = Ollama::start(Config::with_registry(
        seed.ollama
            .models
            .iter()
            .map(|m| Model::new(&m.name, 1_000_000))
            .collect(),
    ));
    let headscale = crate::standin::headscale::Standin::start(HEADSCALE_KEY);
    let port = free_port();
    let token_file = dir.path().join("openclaw-gateway-token");
    let spec_path = dir.path().join("e2e.ncl");
    std::fs::write(
        &spec_path,
        format!(
            "(import \"{seed}\") & {{
  headscale.listen_addr | force = \"127.0.0.1:{headscale}\",
  headscale.tls.mode | force = 'proxy,
  headscale.api_key | force = \"env:PRIVAI_E2E_HS_KEY\",
  ollama.port | force = {ollama},
  openclaw.port | force = {port},
  openclaw.bind | force = \"127.0.0.1\",
  openclaw.gateway_token | force = \"file:{token}\",
  openclaw.channels | force = {{}},
  hosts | force = [{{ name = \"openclaw-server\", roles = ['headscale, 'ollama, 'openclaw], tailnet_ip = \"100.64.0.1\" }}],
}}
",
            seed = crate::tools::importable(dir.path(), &repo("examples/seed-home.ncl")),
            headscale = port_of(&headscale.url),
            ollama = port_of(&ollama.url),
            token = token_file.display(),
        ),
    )
    .unwrap();
    let spec = privai::spec::load(&spec_path).unwrap().spec;
    let host = spec
        .service_host(privai::model::Role::Openclaw)
        .expect("the seed runs a gateway")
        .name
        .clone();
    let gateway_spec = spec.gateway().expect("the seed runs a gateway");
    let primary = gateway_spec
        .model
        .primary
        .clone()
        .expect("the seed names a primary model");
    let fallbacks = gateway_spec.model.fallbacks.clone();
    assert!(!fallbacks.is_empty(), "the seed names fallback models");
    assert!(
        ollama.local_models().is_empty(),
        "the stand-in starts without models"
    );
    let rendered = privai::render::render(&spec).artifacts;
    let config_file = staged(&root, &host, &artifact(&rendered, "/openclaw.json").path);
    let compose_file = staged(&root, &host, &artifact(&rendered, "/compose.yaml").path);
    lap("spec and stand-ins", &mut timings);

    // 2. privai apply; the test starts the gateway when apply starts it.
    let services_log = dir.path().join("services.log");
    let apply_out = dir.path().join("apply.out");
    let apply_log = std::fs::File::create(&apply_out).unwrap();
    let mut apply = Killed(
        Command::new(env!("CARGO_BIN_EXE_privai"))
            .args([
                OsStr::new("apply"),
                spec_path.as_os_str(),
                "--root".as_ref(),
                root.as_os_str(),
                "--auto-approve".as_ref(),
                // Its health check waits for the real gateway to load.
                "--health-timeout".as_ref(),
                HEALTH_TIMEOUT.as_ref(),
            ])
            .env_remove("PRIVAI_TEST_FAILPOINT")
            .env_remove("PRIVAI_TEST_PASS_THROUGH")
            .env("PRIVAI_TEST_SERVICES", &services_log)
            .env("PRIVAI_E2E_HS_KEY", HEADSCALE_KEY)
            .stdin(Stdio::null())
            .stdout(apply_log.try_clone().unwrap())
            .stderr(apply_log)
            .spawn()
            .unwrap(),
    );
    let mut gateway: Option<Gateway> = None;
    let mut original_url = String::new();
    let deadline = Instant::now() + Duration::from_secs(150);
    let status = loop {
        if let Some(status) = apply.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "privai apply still runs after 150 s:\n{}\n--- gateway\n{}",
            tail(&apply_out, 6000),
            gateway.as_ref().map(Gateway::output).unwrap_or_default()
        );
        if let Some(gateway) = gateway.as_mut() {
            gateway.assert_running();
        }
        if gateway.is_none() && recorded(&services_log).iter().any(|a| starts_gateway(a)) {
            lap("apply up to the gateway's start", &mut timings);
            // What the gateway's compose service would get.
            let compose: serde_yaml_ng::Value =
                serde_yaml_ng::from_str(&std::fs::read_to_string(&compose_file).unwrap()).unwrap();
            let service = &compose["services"][privai::render::compose::GATEWAY_SERVICE];
            let env: BTreeMap<String, String> =
                serde_yaml_ng::from_value(service["environment"].clone()).unwrap();
            assert_eq!(
                env.get("OPENCLAW_CONFIG_PATH").map(String::as_str),
                Some(format!("{CONFIG_MOUNT}/openclaw.json").as_str()),
                "the compose file points OpenClaw at the mounted config"
            );
            let secrets: Vec<(String, PathBuf)> = compose["secrets"]
                .as_mapping()
                .unwrap()
                .iter()
                .map(|(name, secret)| {
                    let file = secret["file"].as_str().unwrap();
                    (
                        name.as_str().unwrap().to_owned(),
                        staged(&root, &host, file),
                    )
                })
                .collect();
            assert_eq!(
                secrets,
                [(
                    privai::render::compose::GATEWAY_TOKEN_SECRET.to_owned(),
                    staged(&root, &host, token_file.to_str().unwrap())
                )],
                "the only secret is the gateway token (no channel)"
            );

            // The installed config, with only the Ollama URL rewritten:
            // in the container it is the relay's address on the container
            // network (10.254.89.x), which does not exist out here; the
            // stand-in listens on 127.0.0.1.
            let installed = std::fs::read_to_string(&config_file).unwrap();
            let parsed: serde_json::Value = serde_json::from_str(&installed).unwrap();
            original_url = parsed["models"]["providers"]["ollama"]["baseUrl"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(
                original_url,
                privai::render::compose::ollama_base_url(
                    &spec,
                    spec.service_host(privai::model::Role::Openclaw).unwrap(),
                    gateway_spec
                ),
                "the installed config reaches Ollama through the relay"
            );
            assert_ne!(original_url, ollama.url, "no rewrite would be needed");
            let field = format!("\"baseUrl\": \"{original_url}\"");
            assert_eq!(installed.matches(&field).count(), 1, "{installed}");
            let copy = installed.replace(&field, &format!("\"baseUrl\": \"{}\"", ollama.url));
            let mut expected = parsed.clone();
            expected["models"]["providers"]["ollama"]["baseUrl"] = ollama.url.clone().into();
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&copy).unwrap(),
                expected,
                "only the URL changed"
            );
            let config_dir = dir.path().join("gateway-config");
            std::fs::create_dir_all(&config_dir).unwrap();
            std::fs::write(config_dir.join("openclaw.json"), copy).unwrap();

            gateway = Some(Gateway::start(
                dir.path(),
                &config_dir,
                &secrets,
                &env,
                port,
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let apply_text = tail(&apply_out, 20000);
    let mut gateway = gateway.unwrap_or_else(|| {
        panic!(
            "privai apply ({status}) never started the gateway; recorded:\n{:?}\n{apply_text}",
            recorded(&services_log)
        )
    });
    lap(
        "apply from the gateway's start (its health check)",
        &mut timings,
    );
    assert_eq!(
        status.code(),
        Some(0),
        "privai apply failed:\n{apply_text}\n--- gateway\n{}",
        gateway.output()
    );
    assert!(
        apply_text.contains(&format!("the gateway's primary model {primary} answers")),
        "{apply_text}"
    );
    let mut want: Vec<String> = spec.ollama.models.iter().map(|m| m.name.clone()).collect();
    want.sort();
    assert_eq!(
        ollama.local_models(),
        want,
        "apply pulled the spec's models into the stand-in"
    );

    // 3. After apply, the gateway answers /healthz.
    gateway.assert_running();
    let until = Instant::now() + Duration::from_secs(30);
    let (status_line, body) = loop {
        match healthz(port) {
            Ok(answer) if answer.0.contains(" 200") => break answer,
            other => {
                gateway.assert_running();
                assert!(
                    Instant::now() < until,
                    "no /healthz on 127.0.0.1:{port}: {other:?}\n{}",
                    gateway.output()
                );
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    };
    let health: serde_json::Value = serde_json::from_str(body.trim())
        .unwrap_or_else(|e| panic!("{status_line}: {body:?} is not JSON: {e}"));
    assert_eq!(health["ok"], true, "{body}");
    assert_eq!(health["status"], "live", "{body}");

    // 4. The running gateway's models, through its own RPC.
    let token = std::fs::read_to_string(staged(&root, &host, token_file.to_str().unwrap()))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(token.len(), 64, "privai generated the token");
    let (models, config) = std::thread::scope(|s| {
        let models = s.spawn(|| gateway_call(port, &token, "models.list"));
        let config = s.spawn(|| gateway_call(port, &token, "config.get"));
        (models.join().unwrap(), config.join().unwrap())
    });
    lap("healthz and two gateway RPCs", &mut timings);

    // models.list: the catalog is the spec's models, served by the Ollama
    // provider; the default is the spec's primary, then its fallbacks.
    let entries = models["models"].as_array().expect("models.list: models");
    let refs = |tag: &dyn Fn(&str) -> bool| -> Vec<String> {
        entries
            .iter()
            .filter(|m| {
                m["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t.as_str().is_some_and(tag)))
            })
            .map(|m| {
                format!(
                    "{}/{}",
                    m["provider"].as_str().unwrap(),
                    m["id"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        refs(&|t| t == "default"),
        [format!("ollama/{primary}")],
        "the gateway's default model: {models:#}"
    );
    let fallback_refs: Vec<String> = fallbacks.iter().map(|f| format!("ollama/{f}")).collect();
    for (i, fallback) in fallback_refs.iter().enumerate() {
        let tag = format!("fallback#{}", i + 1);
        assert_eq!(
            refs(&|t| t == tag),
            std::slice::from_ref(fallback),
            "the gateway's {tag}: {models:#}"
        );
    }
    let mut catalog: Vec<String> = entries
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["provider"].as_str().unwrap(),
                m["id"].as_str().unwrap()
            )
        })
        .collect();
    catalog.sort();
    let mut spec_refs: Vec<String> = std::iter::once(format!("ollama/{primary}"))
        .chain(fallback_refs.iter().cloned())
        .collect();
    spec_refs.sort();
    assert_eq!(catalog, spec_refs, "the gateway's catalog: {models:#}");

    // config.get: the running gateway read the mounted file, found it
    // valid, and runs with the spec's primary and fallbacks, against the
    // stand-in.
    assert_eq!(
        config["path"],
        format!("{CONFIG_MOUNT}/openclaw.json"),
        "{config:#}"
    );
    assert_eq!(config["valid"], true, "{config:#}");
    let runtime = &config["runtimeConfig"];
    assert_eq!(
        runtime["agents"]["defaults"]["model"]["primary"],
        format!("ollama/{primary}"),
        "{runtime:#}"
    );
    assert_eq!(
        runtime["agents"]["defaults"]["model"]["fallbacks"],
        serde_json::json!(fallback_refs),
        "{runtime:#}"
    );
    assert_eq!(
        runtime["models"]["providers"]["ollama"]["baseUrl"], ollama.url,
        "{runtime:#}"
    );

    // 5. Stop the gateway (its whole PID namespace): the port closes.
    drop(gateway);
    let until = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < until, "the gateway still listens");
        std::thread::sleep(Duration::from_millis(100));
    }
    lap("stopping the gateway", &mut timings);
    let total = started.elapsed();
    let report: Vec<String> = timings
        .iter()
        .map(|(what, d)| format!("{what}: {:.1} s", d.as_secs_f64()))
        .collect();
    eprintln!(
        "openclaw e2e: {:.1} s in all ({}); relay URL {original_url} rewritten to {}",
        total.as_secs_f64(),
        report.join(", "),
        ollama.url
    );
}
