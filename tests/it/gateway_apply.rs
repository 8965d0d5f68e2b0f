//! `privai apply --root` with the gateway's compose project run for real
//! under podman (`PRIVAI_TEST_PASS_THROUGH=podman`), against the stand-in
//! images of `tests/tools/gateway-standin-image.sh` (`:ok` answers
//! `/healthz`, `:failing` answers 500): a first apply starts the gateway, a
//! changed memory limit replaces its container, a failing image is
//! rolled back to the previous container definition, and a gateway stopped
//! outside privai is seen by the plan and started again.
//!
//! The spec is the Linux home lab with its ports on 127.0.0.1: Headscale on
//! the Headscale stand-in (its API key in a file of the test), Ollama on the
//! Ollama stand-in (which has the home lab's models in its registry), the
//! gateway published on a free port, its image the stand-in pinned by
//! digest (the home lab's hardening refuses a bare tag). The
//! systemd units are recorded, not run; only `podman …` command lines run,
//! through a wrapper first in privai's `PATH` that hands `podman compose`
//! to podman-compose (podman 4.3 has no `compose`).
//!
//! The compose file privai writes has the fixed project `privai-gateway`
//! and subnet `10.254.89.0/24`: the test holds [`crate::podman_lock`], as
//! every podman test does, and tears the project down when it ends.
//!
//! Needs podman (with runc), busybox-static and the tools of
//! `tests/tools/install-openclaw.sh`; skipped with a message when podman is
//! absent.

use crate::apply::{generation_tree, privai, stdout, tree};
use crate::standin::headscale::Standin as Headscale;
use crate::standin::ollama::{Config, Model, Standin as Ollama};
use crate::tools::{
    CONTAINERS_CONF, FAILING_IMAGE, OK_IMAGE, free_port, repo, show, standin_images,
};
use privai::observe::containers::ContainerState;
use privai::render::compose::{GATEWAY_SERVICE, RELAY_SERVICE};
use privai::render::units::GATEWAY_PROJECT;
use privai::sys::container;
use privai::sys::{Runner, SystemRunner, command_line};
use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The key the Headscale stand-in accepts.
const API_KEY: &str = "test-api-key";
/// The host of the home lab.
const HOST: &str = "homelab";
/// The home lab's gateway memory, MiB.
const HOMELAB_MEMORY_MB: u64 = 3072;
/// How long a healthy apply may wait for the gateway to answer.
const HEALTHY_WITHIN: &str = "30";
/// How long the failing apply waits for the failing gateway, and then for
/// the restored one.
const FAILING_WITHIN: &str = "12";

/// The status line 127.0.0.1:`port` answers `GET /healthz` with, or `None`.
fn healthz(port: u16) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(stream, "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.lines().next().map(str::to_owned)
}

/// A stand-in image as the spec names it: pinned by digest, as the home
/// lab's hardening requires.
#[derive(Debug, Clone)]
struct Image {
    /// `localhost/privai-gateway-standin:TAG@sha256:…`.
    reference: String,
    /// The image's id, which its containers report.
    id: String,
}

/// The home lab installed under a temporary root: stand-ins for Headscale
/// and Ollama, the gateway's host side (folders, token), a `podman`
/// wrapper in a directory of its own for privai's `PATH`. Tears the
/// gateway's compose project down when dropped, also when the test fails.
struct Homelab {
    dir: tempfile::TempDir,
    headscale: Headscale,
    ollama: Ollama,
    /// The wrapper: podman with the test's containers.conf; `compose` runs
    /// podman-compose (bounded: it waits forever on a dependency that failed
    /// to start) with the test's `$HOME`.
    runtime: String,
    /// `PATH` for privai: the wrapper's directory first.
    path: OsString,
    /// Where the gateway is published on 127.0.0.1.
    port: u16,
    /// The stand-in that answers `/healthz`.
    ok: Image,
    /// The stand-in that answers 500.
    failing: Image,
}

impl Homelab {
    fn new(podman: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("containers.conf");
        std::fs::write(&conf, CONTAINERS_CONF).unwrap();
        standin_images(podman, &conf);
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();

        let (wrapper, path) =
            crate::tools::podman_wrapper(dir.path(), podman, &conf, &home, 120, None, None);

        let registry = ["qwen2.5:14b", "llama3.1:8b", "nomic-embed-text"]
            .iter()
            .zip([3_000_000, 2_000_000, 500_000])
            .map(|(name, size)| Model::new(name, size))
            .collect();
        let image = |name: &str| {
            let (reference, id) = crate::tools::pinned_image(&wrapper, name);
            Image { reference, id }
        };
        let homelab = Self {
            ok: image(OK_IMAGE),
            failing: image(FAILING_IMAGE),
            headscale: Headscale::start(API_KEY),
            ollama: Ollama::start(Config::with_registry(registry)),
            runtime: wrapper.to_str().unwrap().to_owned(),
            path,
            port: free_port(),
            dir,
        };
        // Whatever an earlier, interrupted run left.
        homelab.remove();
        homelab
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("services.log")
    }

    /// The compose file apply installs.
    fn compose_file(&self) -> PathBuf {
        self.root()
            .join(HOST)
            .join("etc/privai/openclaw/compose.yaml")
    }

    /// Writes spec `name`: the home lab on this install's ports and host
    /// paths, its gateway with `image` and `memory_mb`.
    fn spec(&self, name: &str, image: &Image, memory_mb: u64) -> PathBuf {
        let home = self.home();
        let mut folders = String::new();
        for (folder, container_path, mode) in [
            ("config", "/home/node/.openclaw/config", "ro"),
            ("sessions", "/home/node/.openclaw/agents", "rw"),
            ("workspace", "/home/node/.openclaw/workspace", "rw"),
        ] {
            let host = home.join(folder);
            std::fs::create_dir_all(&host).unwrap();
            std::os::unix::fs::chown(&host, Some(1000), Some(1000)).unwrap();
            folders.push_str(&format!(
                "    {{ name = \"{folder}\", host_path = \"{}\", container_path = \"{container_path}\", mode = '{mode} }},\n",
                host.display()
            ));
        }
        // Under a `secrets` directory, which [`tree`] leaves out: apply writes
        // the secret under the root too, and generations do not hold it.
        let token = home.join("secrets/openclaw-gateway-token");
        if !token.exists() {
            std::fs::create_dir_all(token.parent().unwrap()).unwrap();
            std::fs::write(&token, "test-token\n").unwrap();
            std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::os::unix::fs::chown(&token, Some(1000), Some(1000)).unwrap();
        }
        let api_key = self.dir.path().join("secrets/headscale-api-key");
        if !api_key.exists() {
            std::fs::create_dir_all(api_key.parent().unwrap()).unwrap();
            std::fs::write(&api_key, API_KEY).unwrap();
            std::fs::set_permissions(&api_key, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let port = |url: &str| -> u16 { url.rsplit(':').next().unwrap().parse().unwrap() };
        let ollama_port = port(&self.ollama.url);
        let path = self.dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "(import \"{homelab}\") & {{\n\
                 \x20 headscale.listen_addr | force = \"127.0.0.1:{headscale}\",\n\
                 \x20 headscale.api_key | force = \"file:{api_key}\",\n\
                 \x20 ollama.port | force = {ollama_port},\n\
                 \x20 openclaw.bind | force = \"127.0.0.1\",\n\
                 \x20 openclaw.port | force = {port},\n\
                 \x20 openclaw.image | force = \"{image}\",\n\
                 \x20 openclaw.gateway_token | force = \"file:{token}\",\n\
                 \x20 openclaw.container.cpus | force = 1,\n\
                 \x20 openclaw.container.memory_mb | force = {memory_mb},\n\
                 \x20 openclaw.folders | force = [\n{folders}  ],\n\
                 }}\n",
                homelab =
                    crate::tools::importable(self.dir.path(), &repo("examples/linux-homelab.ncl")),
                headscale = port(&self.headscale.url),
                api_key = api_key.display(),
                port = self.port,
                token = token.display(),
                image = image.reference,
            ),
        )
        .unwrap();
        path
    }

    /// `privai apply SPEC --root ROOT --auto-approve --health-timeout
    /// SECONDS`, services recorded and podman run for real.
    fn apply(&self, spec: &Path, health_timeout: &str) -> Output {
        let root = self.root();
        privai(
            [
                OsStr::new("apply"),
                spec.as_os_str(),
                "--root".as_ref(),
                root.as_os_str(),
                "--auto-approve".as_ref(),
                "--health-timeout".as_ref(),
                health_timeout.as_ref(),
            ],
            &[
                ("PRIVAI_TEST_SERVICES", self.log().as_os_str()),
                ("PRIVAI_TEST_PASS_THROUGH", OsStr::new("podman")),
                ("PATH", &self.path),
            ],
        )
    }

    /// The command lines privai ran or recorded, one per call.
    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Vec<String>>(l).unwrap().join(" "))
            .collect()
    }

    fn current(&self) -> Option<u64> {
        std::fs::read_to_string(self.root().join(".privai/current"))
            .ok()
            .map(|s| s.trim().parse().unwrap())
    }

    fn run(&self, argv: &[String]) -> privai::sys::RunOutput {
        SystemRunner
            .run(argv)
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", command_line(argv)))
    }

    /// The project's containers, as `apply` would observe them.
    fn observe(&self) -> Vec<ContainerState> {
        container::observe(&mut SystemRunner, &self.runtime, GATEWAY_PROJECT)
            .unwrap_or_else(|e| panic!("observe: {e}"))
    }

    /// The gateway and the relay, both running from `image`, and nothing
    /// else; returns the gateway.
    fn running(&self, image: &Image) -> ContainerState {
        let observed = self.observe();
        let services: Vec<Option<&str>> = observed.iter().map(|c| c.service.as_deref()).collect();
        assert_eq!(
            services,
            [Some(GATEWAY_SERVICE), Some(RELAY_SERVICE)],
            "{observed:#?}"
        );
        for c in &observed {
            assert!(c.running, "{} is {}: {c:#?}", c.name, c.status);
            assert_eq!(c.image_id, image.id, "{} runs {}", c.name, c.image);
            assert_eq!(
                c.labels.get(container::PROJECT_LABEL).map(String::as_str),
                Some(GATEWAY_PROJECT)
            );
        }
        observed.into_iter().next().unwrap()
    }

    /// `GET /healthz` on the published port answers 200, with the relay's
    /// and the gateway's logs otherwise.
    fn assert_healthz_ok(&self) {
        let answer = healthz(self.port);
        if answer.as_deref().is_some_and(|line| {
            line.starts_with("HTTP/1.0 200") || line.starts_with("HTTP/1.1 200")
        }) {
            return;
        }
        let logs = |service: &str| {
            let out = self.run(&[
                self.runtime.clone(),
                "logs".into(),
                format!("{GATEWAY_PROJECT}_{service}_1"),
            ]);
            format!("{}{}", out.stdout, out.stderr)
        };
        panic!(
            "GET http://127.0.0.1:{}/healthz answered {answer:?}\nrelay: {}\ngateway: {}",
            self.port,
            logs(RELAY_SERVICE),
            logs(GATEWAY_SERVICE)
        );
    }

    /// `down` (with the installed compose file, if any), then whatever is
    /// left of the project: containers by label, networks, pod.
    fn remove(&self) {
        crate::tools::remove_compose_project(&self.runtime, GATEWAY_PROJECT, &self.compose_file());
    }
}

impl Drop for Homelab {
    fn drop(&mut self) {
        let started = Instant::now();
        self.remove();
        eprintln!("{GATEWAY_PROJECT}: down in {:?}", started.elapsed());
    }
}

#[test]
fn a_changed_memory_limit_replaces_the_gateway_a_failing_one_is_rolled_back_and_a_stopped_one_restarted()
 {
    let _podman = crate::podman_lock();
    let podman = crate::tools::podman();
    let started = Instant::now();
    let lab = Homelab::new(&podman);
    let root = lab.root();
    let compose_up = format!(
        "podman compose -p {GATEWAY_PROJECT} -f {} up -d --force-recreate --remove-orphans",
        lab.compose_file().display()
    );

    // 1. The first apply installs everything and starts the gateway.
    let a = lab.spec("a.ncl", &lab.ok, HOMELAB_MEMORY_MB);
    let first = lab.apply(&a, HEALTHY_WITHIN);
    let first_took = started.elapsed();
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    let text = stdout(&first);
    assert!(
        text.contains(&format!("  + service {HOST}:gateway: done")),
        "{text}"
    );
    assert!(
        text.contains("the gateway's primary model qwen2.5:14b answers"),
        "{text}"
    );
    assert_eq!(
        lab.calls().iter().filter(|c| **c == compose_up).count(),
        1,
        "{:#?}",
        lab.calls()
    );
    assert_eq!(lab.current(), Some(1));
    assert_eq!(tree(&root), generation_tree(&root, 1));
    let gateway = lab.running(&lab.ok);
    assert_eq!(gateway.memory_limit_bytes, Some(HOMELAB_MEMORY_MB << 20));
    assert_eq!(gateway.nano_cpus, Some(1_000_000_000));
    lab.assert_healthz_ok();

    // 2. A new memory limit: the gateway container is replaced.
    let second_started = Instant::now();
    let b = lab.spec("b.ncl", &lab.ok, 2048);
    let second = lab.apply(&b, HEALTHY_WITHIN);
    let second_took = second_started.elapsed();
    assert_eq!(second.status.code(), Some(0), "{}", show(&second));
    assert!(
        stdout(&second).contains(&format!("  ↻ service {HOST}:gateway: done")),
        "{}",
        show(&second)
    );
    assert_eq!(
        lab.calls().iter().filter(|c| **c == compose_up).count(),
        2,
        "{:#?}",
        lab.calls()
    );
    let replaced = lab.running(&lab.ok);
    assert_ne!(
        replaced.id, gateway.id,
        "the gateway container was not replaced"
    );
    assert_eq!(replaced.memory_limit_bytes, Some(2048 << 20));
    lab.assert_healthz_ok();
    assert_eq!(lab.current(), Some(2));
    assert_eq!(tree(&root), generation_tree(&root, 2));
    let installed = tree(&root);

    // 3. A gateway that answers 500 (and yet another memory limit): the
    // health check fails and the run is rolled back, the gateway brought
    // up again from the previous compose file.
    let third_started = Instant::now();
    let c = lab.spec("c.ncl", &lab.failing, 1024);
    // What the published port answers meanwhile, polled from the side.
    let applying = AtomicBool::new(true);
    let (third, answers) = std::thread::scope(|scope| {
        let poller = scope.spawn(|| {
            let mut answers = BTreeSet::new();
            while applying.load(Ordering::SeqCst) {
                answers.insert(healthz(lab.port));
                std::thread::sleep(Duration::from_millis(200));
            }
            answers
        });
        let third = lab.apply(&c, FAILING_WITHIN);
        applying.store(false, Ordering::SeqCst);
        (third, poller.join().unwrap())
    });
    let third_took = third_started.elapsed();
    assert_eq!(third.status.code(), Some(3), "{}", show(&third));
    let text = stdout(&third);
    assert!(
        text.contains(&format!(
            "Apply failed: health check of {HOST}:gateway: GET http://127.0.0.1:{}/healthz: ",
            lab.port
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("restored {}", lab.compose_file().display())),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "restarted {HOST}:gateway on its previous files: healthy"
        )),
        "{text}"
    );
    assert!(text.contains("Generation 2 is still current."), "{text}");
    // The failing gateway did run, and answered 500.
    assert!(
        answers
            .iter()
            .flatten()
            .any(|line| line.starts_with("HTTP/1.0 500")),
        "{answers:?}"
    );
    // Up with the failing file, then up again with the restored one.
    assert_eq!(
        lab.calls().iter().filter(|c| **c == compose_up).count(),
        4,
        "{:#?}",
        lab.calls()
    );
    let restored = lab.running(&lab.ok);
    assert_ne!(restored.id, replaced.id, "the gateway was re-created");
    assert_eq!(restored.memory_limit_bytes, Some(2048 << 20));
    lab.assert_healthz_ok();
    assert_eq!(lab.current(), Some(2));
    assert!(!root.join(".privai/generations/3").exists());
    assert_eq!(tree(&root), installed, "every file as generation 2 left it");
    assert_eq!(tree(&root), generation_tree(&root, 2));

    // 4. The gateway is stopped outside privai, its files untouched: the
    // plan sees the stopped container and apply brings it back; then
    // nothing is left to do (the containers carry the definition's hash).
    let fourth_started = Instant::now();
    let stop = vec![lab.runtime.clone(), "stop".to_owned(), restored.id.clone()];
    assert!(lab.run(&stop).success());
    let fourth = lab.apply(&b, HEALTHY_WITHIN);
    let fourth_took = fourth_started.elapsed();
    assert_eq!(fourth.status.code(), Some(0), "{}", show(&fourth));
    let text = stdout(&fourth);
    assert!(
        text.contains(&format!(
            "  ~ service {HOST}:gateway (podman compose {GATEWAY_PROJECT})"
        )),
        "{text}"
    );
    assert!(text.contains("is exited, not running"), "{text}");
    assert!(
        text.contains(&format!("  ~ service {HOST}:gateway: done")),
        "{text}"
    );
    lab.running(&lab.ok);
    lab.assert_healthz_ok();
    assert_eq!(lab.current(), Some(3));
    let fifth = lab.apply(&b, HEALTHY_WITHIN);
    assert_eq!(
        stdout(&fifth),
        "No changes. Your system matches the spec.\n",
        "{}",
        show(&fifth)
    );

    eprintln!(
        "gateway_apply: first apply {first_took:?}, memory change {second_took:?}, \
         failing image {third_took:?}, stopped gateway {fourth_took:?}, total {:?}",
        started.elapsed()
    );
}
