//! The real AI path, end to end, on this machine: `privai apply` of a
//! seed-like spec (a Linux server, the hardened profile, podman) installs
//! models from a private mirror into the real Ollama (v0.24.0, on loopback)
//! and starts the real OpenClaw (2026.9.6) in the hardened container its
//! compose file describes; then a question goes through OpenClaw's
//! OpenAI-compatible HTTP endpoint, from the gateway's published address on
//! loopback (`tailnet::ai` asks the same gateway from a device on the real
//! tailnet).
//!
//! Each step prints a `step:` line:
//!
//! 1. mirror pull: privai pulls the primary and the fallback (tiny models of
//!    random weights, pushed to Debian's docker-registry behind nginx) into
//!    the server's Ollama, with the mirror's digests;
//! 2. gateway healthy: apply's own health check passes against the real
//!    gateway, run from the image of `tests/tools/gateway-image.sh`;
//! 3. container truth: inside the running gateway container, read with its
//!    own Node: no effective capabilities and no-new-privileges for the
//!    gateway process, a read-only root, the config folder read-only, and a
//!    route table without a default route (egress is never tested by
//!    contacting an outside address);
//! 4. question: without the token the endpoint refuses (401); with it, the
//!    gateway's answer is the real Ollama's: its log shows the chat, and of
//!    the loaded models (`/api/ps`) only the primary ran (Ollama renews a
//!    model's `expires_at` each time it runs);
//! 5. fallback: with the primary removed from Ollama (`ollama rm`), the
//!    answer comes from the fallback, the only model that ran;
//! 6. Ollama down: the gateway answers with an error (OpenClaw 2026.9.6
//!    retries first: a 408 "upstream provider timeout" after 2–3 minutes);
//! 7. recovery: Ollama started again, the next question is answered again,
//!    without re-applying.
//!
//! The tiny models (random weights, `tests/tools/tiny-gguf.py`) carry a
//! vocabulary of the words of OpenClaw's prompt, a context of 16,384 tokens
//! and a template that takes tools: OpenClaw's agent sends its system
//! prompt and tool schemas with every question, which a byte-level
//! vocabulary would make ~36,000 tokens, minutes on a shared 2-core machine.
//! For the same reason the workspace holds short bootstrap files of the
//! user's own (`AGENTS.md`, `SOUL.md`, …) instead of OpenClaw's long
//! templates. The answers are nonsense, produced by Ollama's real engine.
//!
//! Needs podman (runc), the tools of `tests/tools/install-openclaw.sh`,
//! `install-ollama.sh` and `install-gguf.sh`, docker-registry and nginx;
//! skipped with a message when podman is absent. Holds
//! [`crate::podman_lock`] (the compose project and its subnet are fixed).

use crate::apply::{privai, stdout};
use crate::real::mirror::Mirror;
use crate::real::ollama::Ollama;
use crate::tools::{CONTAINERS_CONF, free_port, repo, show};
use privai::render::compose::{GATEWAY_SERVICE, RELAY_SERVICE};
use privai::render::units::GATEWAY_PROJECT;
use privai::sys::container;
use privai::sys::{Runner, SystemRunner, command_line};
use serde_json::Value;
use std::ffi::{OsStr, OsString};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// The gateway token the test writes (the compose secret's file).
pub(crate) const TOKEN: &str = "ai-path-token-0123456789";
/// How long apply waits for the gateway: the real one loads in 15–60 s on a
/// 2-core machine, depending on what else runs.
const HEALTH_TIMEOUT: &str = "240";
/// The user's own workspace bootstrap files (OpenClaw injects them into
/// every prompt; with none it writes its long templates).
const WORKSPACE_FILES: [(&str, &str); 5] = [
    ("AGENTS.md", "# AGENTS.md\n\nAnswer briefly.\n"),
    ("SOUL.md", "# SOUL.md\n\nBe kind.\n"),
    ("IDENTITY.md", "# IDENTITY.md\n\nName: Tiny.\n"),
    ("USER.md", "# USER.md\n\nA tester.\n"),
    ("TOOLS.md", "# TOOLS.md\n\nNone.\n"),
];
/// The spec's models.
pub(crate) const PRIMARY: &str = "tiny:latest";
pub(crate) const FALLBACK: &str = "tiny-fallback:latest";

/// Builds the real gateway image (idempotent); returns its reference pinned
/// by digest and its id.
pub(crate) fn gateway_image(podman: &Path, conf: &Path) -> (String, String) {
    let script = repo("tests/tools/gateway-image.sh");
    let out = std::process::Command::new(&script)
        .arg(podman)
        .env("CONTAINERS_CONF", conf)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}: {}", script.display(), show(&out));
    let name = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .to_owned();
    crate::tools::pinned_image(podman, &name)
}

/// The gateway's host side in `dir`: its folders but the config folder
/// (see [`link_config`]) and its token (the compose secret's file, written
/// here). Returns the spec's `folders` entries and the token's path.
pub(crate) fn gateway_host_side(dir: &Path) -> (String, PathBuf) {
    let mut folders = String::new();
    for (folder, container_path, mode) in [
        ("config", "/home/node/.openclaw/config", "ro"),
        ("sessions", "/home/node/.openclaw/agents", "rw"),
        ("workspace", "/home/node/.openclaw/workspace", "rw"),
    ] {
        let host = dir.join(folder);
        if folder != "config" {
            std::fs::create_dir_all(&host).unwrap();
            if folder == "workspace" {
                for (file, text) in WORKSPACE_FILES {
                    let path = host.join(file);
                    std::fs::write(&path, text).unwrap();
                    std::os::unix::fs::chown(&path, Some(1000), Some(1000)).unwrap();
                }
            }
            std::os::unix::fs::chown(&host, Some(1000), Some(1000)).unwrap();
        }
        folders.push_str(&format!(
            "      {{ name = \"{folder}\", host_path = \"{}\", container_path = \"{container_path}\", mode = '{mode} }},\n",
            host.display()
        ));
    }
    let token = dir.join("secrets/openclaw-gateway-token");
    std::fs::create_dir_all(token.parent().unwrap()).unwrap();
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(&token, Some(1000), Some(1000)).unwrap();
    (folders, token)
}

/// The config folder of [`gateway_host_side`] in `dir`: apply installs
/// under `--root`, so `openclaw.json` lands in `installed/FOLDER`
/// (`installed` is `ROOT/HOST`), and the folder the compose file mounts is
/// a symbolic link to that place.
pub(crate) fn link_config(dir: &Path, installed: &Path) {
    let host = dir.join("config");
    let target = installed.join(host.strip_prefix("/").unwrap());
    std::os::unix::fs::symlink(&target, &host).unwrap();
}

/// The spec's `ollama` field: Ollama on `port` with the tiny primary and
/// fallback, and `more` fields (e.g. the mirror).
pub(crate) fn ollama_spec(port: u16, more: &str) -> String {
    format!(
        r#"  ollama = {{
    port = {port},
    {more}
    context_length = 16384,
    models = [
      {{ name = "{PRIMARY}", role = 'primary, size_gb = 0.001 }},
      {{ name = "{FALLBACK}", role = 'fallback, size_gb = 0.001 }},
    ],
  }},"#
    )
}

/// The spec's `openclaw` field: the gateway from `image` published on
/// `port`, its token from the file `token`, its chat endpoint on, the
/// primary and fallback, `folders` (see [`gateway_host_side`]) and `more`
/// fields (e.g. `bind`).
pub(crate) fn openclaw_spec(
    image: &str,
    port: u16,
    token: &Path,
    folders: &str,
    more: &str,
) -> String {
    format!(
        r#"  openclaw = {{
    image = "{image}",
    port = {port},
    {more}
    gateway_token = "file:{token}",
    chat_completions = true,
    model = {{ primary = "{PRIMARY}", fallbacks = ["{FALLBACK}"] }},
    folders = [
{folders}    ],
    container = {{ memory_mb = 2048, cpus = 2 }},
  }},"#,
        token = token.display(),
    )
}

/// Where the server of [`Server::start`] runs: the network namespace
/// `name` (an `ip netns` name) and, for podman, the mount namespace
/// `mount` (a `/proc/PID/ns/mnt`; this process's when `None`).
pub(crate) struct Netns {
    pub name: String,
    pub mount: Option<PathBuf>,
}

/// The server: its Ollama, the gateway's host side (folders, token), a
/// `podman` wrapper for privai's `PATH`. Tears the gateway's compose
/// project down when dropped.
pub(crate) struct Server {
    dir: tempfile::TempDir,
    pub ollama: Ollama,
    pub runtime: String,
    pub path: OsString,
    /// Where the gateway is published on the server (on 127.0.0.1 unless
    /// the spec binds it elsewhere).
    pub port: u16,
    /// Where apply installs the server's files: `ROOT/HOST`.
    installed: PathBuf,
}

impl Server {
    /// The server on this machine's loopback, installed under its own root.
    fn new(podman: &Path, conf: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let installed = dir.path().join("root/server");
        Self::start(dir, installed, podman, conf, None, free_port(), free_port())
    }

    /// The server whose files are in `dir` (see [`gateway_host_side`]),
    /// installed at `installed` (`ROOT/HOST`); with `netns`, its Ollama
    /// runs in that network namespace, and podman too, in its mount
    /// namespace. Ollama serves on `127.0.0.1:ollama_port`; the gateway is
    /// published on `port`.
    pub fn start(
        dir: tempfile::TempDir,
        installed: PathBuf,
        podman: &Path,
        conf: &Path,
        netns: Option<&Netns>,
        ollama_port: u16,
        port: u16,
    ) -> Self {
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let (wrapper, path) = crate::tools::podman_wrapper(
            dir.path(),
            podman,
            conf,
            &home,
            300,
            netns.map(|n| n.name.as_str()),
            netns.and_then(|n| n.mount.as_deref()),
        );
        let netns = netns.map(|n| n.name.as_str());
        let server = Self {
            ollama: Ollama::start_at(netns, ollama_port),
            runtime: wrapper.to_str().unwrap().to_owned(),
            path,
            port,
            dir,
            installed,
        };
        server.remove();
        server
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn compose_file(&self) -> PathBuf {
        self.installed.join("etc/privai/openclaw/compose.yaml")
    }

    /// Writes the spec: the hardened Linux server running Ollama (the
    /// mirror's models, primary and fallback) and the gateway (the real
    /// image, its chat endpoint on), and returns its path.
    fn spec(&self, mirror: &Mirror, image: &str) -> PathBuf {
        let (folders, token) = gateway_host_side(self.dir.path());
        link_config(self.dir.path(), &self.installed);
        let path = self.dir.path().join("privai.ncl");
        std::fs::write(
            &path,
            format!(
                r#"(import "privai/profiles/linux-server.ncl")
& (import "privai/profiles/hardened.ncl")
& {{
  hosts = [{{ name = "server", ram_gb = 16, roles = ['ollama, 'openclaw] }}],
{ollama}
{openclaw}
}}
"#,
                ollama = ollama_spec(
                    self.ollama.port,
                    &format!(
                        "registry = {{ host = \"{}\", insecure = true }},",
                        mirror.host
                    )
                ),
                openclaw = openclaw_spec(image, self.port, &token, &folders, ""),
            ),
        )
        .unwrap();
        path
    }

    /// `privai apply SPEC --root ROOT --auto-approve`, services recorded
    /// except podman, which runs for real.
    fn apply(&self, spec: &Path) -> Output {
        let root = self.root();
        let log = self.dir.path().join("services.log");
        privai(
            [
                OsStr::new("apply"),
                spec.as_os_str(),
                "--root".as_ref(),
                root.as_os_str(),
                "--auto-approve".as_ref(),
                "--health-timeout".as_ref(),
                HEALTH_TIMEOUT.as_ref(),
            ],
            &[
                ("PRIVAI_TEST_SERVICES", log.as_os_str()),
                ("PRIVAI_TEST_PASS_THROUGH", OsStr::new("podman")),
                ("PATH", &self.path),
            ],
        )
    }

    fn run(&self, args: &[&str]) -> privai::sys::RunOutput {
        let mut argv = vec![self.runtime.clone()];
        argv.extend(args.iter().map(|a| (*a).to_owned()));
        SystemRunner
            .run(&argv)
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", command_line(&argv)))
    }

    fn container(service: &str) -> String {
        format!("{GATEWAY_PROJECT}_{service}_1")
    }

    /// The logs of both services, for failure messages.
    pub fn logs(&self) -> String {
        [GATEWAY_SERVICE, RELAY_SERVICE]
            .iter()
            .map(|service| {
                let out = self.run(&["logs", "--tail", "40", &Self::container(service)]);
                format!("--- {service}:\n{}{}", out.stdout, out.stderr)
            })
            .collect()
    }

    /// The gateway container's whole log.
    pub fn gateway_log(&self) -> String {
        let out = self.run(&["logs", &Self::container(GATEWAY_SERVICE)]);
        format!("{}{}", out.stdout, out.stderr)
    }

    /// Runs `node -e SCRIPT` inside the gateway container; its stdout.
    fn node_in_gateway(&self, script: &str) -> String {
        let out = self.run(&[
            "exec",
            &Self::container(GATEWAY_SERVICE),
            "node",
            "-e",
            script,
        ]);
        assert!(out.success(), "exec: {}{}", out.stdout, out.stderr);
        out.stdout
    }

    /// `POST /v1/chat/completions` on the published port of 127.0.0.1:
    /// status and body (waiting up to 7 minutes: with Ollama down the
    /// gateway retries for 2–3 minutes before it answers).
    fn ask(&self, token: Option<&str>, question: &str) -> (u16, Value) {
        self.ask_at(
            SocketAddr::from(([127, 0, 0, 1], self.port)),
            token,
            question,
        )
    }

    /// [`Self::ask`] of the gateway at `addr`, from this thread's network
    /// namespace.
    pub fn ask_at(&self, addr: SocketAddr, token: Option<&str>, question: &str) -> (u16, Value) {
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(420))
            .build()
            .unwrap();
        let mut request = client
            .post(format!("http://{addr}/v1/chat/completions"))
            .json(&serde_json::json!({
                "model": "openclaw",
                "messages": [{"role": "user", "content": question}],
            }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .unwrap_or_else(|e| panic!("the gateway did not answer: {e}\n{}", self.logs()));
        let status = response.status().as_u16();
        let text = response.text().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Asks with the token; the answer (HTTP 200, an assistant message).
    fn answer(&self, question: &str) -> String {
        self.answer_at(SocketAddr::from(([127, 0, 0, 1], self.port)), question)
    }

    /// [`Self::answer`] of the gateway at `addr`, from this thread's network
    /// namespace.
    pub fn answer_at(&self, addr: SocketAddr, question: &str) -> String {
        let (status, body) = self.ask_at(addr, Some(TOKEN), question);
        assert_eq!(status, 200, "{body}\n{}", self.logs());
        assert_eq!(body["choices"][0]["message"]["role"], "assistant", "{body}");
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or_else(|| panic!("no answer: {body}"))
            .to_owned()
    }

    /// `down`, then whatever is left of the project.
    fn remove(&self) {
        crate::tools::remove_compose_project(&self.runtime, GATEWAY_PROJECT, &self.compose_file());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The `POST /api/chat` requests in Ollama's log (one line each).
pub(crate) fn chats(ollama: &Ollama) -> usize {
    std::fs::read_to_string(ollama.dir.path().join("serve.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("POST") && l.contains("\"/api/chat\""))
        .count()
}

/// The models Ollama has loaded now (`/api/ps`), each with the time it
/// expires: Ollama sets it again (now + keep-alive) each time the model runs.
pub(crate) fn loaded(ollama: &Ollama) -> Vec<(String, String)> {
    ollama.ps()["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["expires_at"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The models that ran between two [`loaded`] readings.
pub(crate) fn ran(before: &[(String, String)], after: &[(String, String)]) -> Vec<String> {
    after
        .iter()
        .filter(|model| !before.contains(model))
        .map(|(name, _)| name.clone())
        .collect()
}

/// Asserts that Ollama saw a chat since it had `chats_before` and that,
/// of the models it had loaded as `loaded_before`, only the primary ran.
pub(crate) fn assert_the_primary_answered(
    ollama: &Ollama,
    chats_before: usize,
    loaded_before: &[(String, String)],
) {
    assert!(chats(ollama) > chats_before, "Ollama saw no chat");
    assert_eq!(ran(loaded_before, &loaded(ollama)), [PRIMARY]);
}

/// Ollama's models: name → (digest, size).
fn tags(ollama: &Ollama) -> Vec<(String, String, u64)> {
    let tags = ollama.get("/api/tags");
    let mut models: Vec<(String, String, u64)> = tags["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["digest"].as_str().unwrap().to_owned(),
                m["size"].as_u64().unwrap(),
            )
        })
        .collect();
    models.sort();
    models
}

/// What the gateway container's processes and mounts say of themselves:
/// `CapEff`/`NoNewPrivs` of the gateway process (the one running
/// `openclaw.mjs`), the mount options of `/` and of the config folder, the
/// routes' destinations (hex, as in `/proc/net/route`).
const CONTAINER_TRUTH_JS: &str = r#"
const fs = require("fs");
const status = (pid) => Object.fromEntries(fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").filter((l) => l.includes(":")).map((l) => l.split(/:\s*/)));
const gateway = fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).find((p) => { try { return fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes("openclaw"); } catch { return false; } });
const mounts = fs.readFileSync("/proc/mounts", "utf8").trim().split("\n").map((l) => l.split(" "));
const options = (point) => (mounts.filter((m) => m[1] === point).pop() || [])[3] || "";
const routes = fs.readFileSync("/proc/net/route", "utf8").trim().split("\n").slice(1).map((l) => l.split("\t")).map((f) => ({ iface: f[0], destination: f[1], mask: f[7] }));
const self = status("self");
const g = status(gateway);
console.log(JSON.stringify({
  gateway: { pid: gateway, uid: g.Uid, capEff: g.CapEff, noNewPrivs: g.NoNewPrivs },
  exec: { capEff: self.CapEff, noNewPrivs: self.NoNewPrivs },
  root: options("/"),
  config: options("/home/node/.openclaw/config"),
  routes,
}));
"#;

#[test]
fn a_question_through_the_real_openclaw_in_its_hardened_container_is_answered_by_the_real_ollama() {
    let _podman = crate::podman_lock();
    let podman = crate::tools::podman();
    let started = Instant::now();
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = conf_dir.path().join("containers.conf");
    std::fs::write(&conf, CONTAINERS_CONF).unwrap();
    let (image, image_id) = gateway_image(&podman, &conf);

    // The mirror holds the two tiny models, pushed by another Ollama.
    let mirror = Mirror::start();
    let source = Ollama::start();
    source.create_tiny_chat("tiny", 1);
    source.create_tiny_chat("tiny-fallback", 2);
    mirror.push(&source, "tiny");
    mirror.push(&source, "tiny-fallback");
    drop(source);

    let mut server = Server::new(&podman, &conf);
    let spec = server.spec(&mirror, &image);
    let applied = server.apply(&spec);
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}\n{}",
        show(&applied),
        server.logs()
    );
    let text = stdout(&applied);

    // 1. The models came from the mirror, with its digests.
    let have = tags(&server.ollama);
    let names: Vec<&str> = have.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, [FALLBACK, PRIMARY], "{have:?}");
    for (name, digest, size) in &have {
        assert_eq!(*digest, mirror.digest(name), "{name}");
        println!("step: mirror pull {name}: {size} bytes, digest sha256:{digest}");
    }

    // 2. Apply's health check passed against the real gateway.
    assert!(text.contains("  + service server:gateway: done"), "{text}");
    let running = container::observe(&mut SystemRunner, &server.runtime, GATEWAY_PROJECT)
        .unwrap_or_else(|e| panic!("observe: {e}"));
    assert_eq!(running.len(), 2, "{running:#?}");
    for c in &running {
        assert!(c.running, "{} is {}", c.name, c.status);
        assert_eq!(c.image_id, image_id, "{} runs {}", c.name, c.image);
    }
    println!(
        "step: gateway healthy in its hardened container ({image}), {:?} after the start",
        started.elapsed()
    );

    // 3. Container truth, read inside the container.
    let truth: Value =
        serde_json::from_str(server.node_in_gateway(CONTAINER_TRUTH_JS).trim()).unwrap();
    let gateway = &truth["gateway"];
    assert!(gateway["pid"].is_string(), "no gateway process: {truth}");
    assert_eq!(gateway["capEff"], "0000000000000000", "{truth}");
    assert_eq!(gateway["noNewPrivs"], "1", "{truth}");
    assert!(
        gateway["uid"].as_str().unwrap().starts_with("1000\t"),
        "{truth}"
    );
    assert_eq!(truth["exec"]["capEff"], "0000000000000000", "{truth}");
    let ro = |options: &Value| options.as_str().unwrap().split(',').any(|o| o == "ro");
    assert!(ro(&truth["root"]), "the root is not read-only: {truth}");
    assert!(
        ro(&truth["config"]),
        "the config folder is not read-only: {truth}"
    );
    let routes = truth["routes"].as_array().unwrap();
    assert!(!routes.is_empty(), "{truth}");
    assert!(
        routes.iter().all(|r| r["destination"] != "00000000"),
        "a default route: {truth}"
    );
    println!(
        "step: container truth: CapEff 0, NoNewPrivs 1, uid 1000, root and config read-only, {} route(s), none default",
        routes.len()
    );

    // 4. A question: refused without the token; with it, answered by the
    // primary, which Ollama loaded for it.
    let (status, body) = server.ask(None, "hello");
    assert_eq!(status, 401, "{body}");
    let before = chats(&server.ollama);
    let models = loaded(&server.ollama);
    std::thread::sleep(Duration::from_millis(1100));
    let asked = Instant::now();
    let answer = server.answer("What is the capital of France?");
    assert!(chats(&server.ollama) > before, "Ollama saw no chat");
    assert_eq!(ran(&models, &loaded(&server.ollama)), [PRIMARY]);
    println!(
        "step: question answered in {:?} by the real Ollama's {PRIMARY}: {answer:?}",
        asked.elapsed()
    );

    // 5. The primary removed from Ollama: the fallback answers.
    server.ollama.cli(&["rm", PRIMARY]);
    let models = loaded(&server.ollama);
    std::thread::sleep(Duration::from_millis(1100));
    let asked = Instant::now();
    let answer = server.answer("And the capital of Italy?");
    assert_eq!(ran(&models, &loaded(&server.ollama)), [FALLBACK]);
    println!(
        "step: fallback answer in {:?} by the real Ollama's {FALLBACK}, the primary gone: {answer:?}",
        asked.elapsed()
    );

    // 6. Ollama stopped: the gateway answers with an error.
    server.ollama.stop();
    let asked = Instant::now();
    let (status, body) = server.ask(Some(TOKEN), "Are you there?");
    assert!(status >= 400, "{status} {body}");
    println!(
        "step: Ollama down: the gateway answered {status} in {:?}: {}",
        asked.elapsed(),
        body["error"]["message"]
    );

    // 7. Ollama started again: answered again, without re-applying.
    server.ollama.restart();
    let asked = Instant::now();
    let answer = server.answer("Back?");
    assert!(chats(&server.ollama) >= 1, "Ollama saw no chat");
    println!(
        "step: recovery: answered again in {:?}, without re-applying: {answer:?}",
        asked.elapsed()
    );
    eprintln!("ai_path: {:?} in all", started.elapsed());
}
