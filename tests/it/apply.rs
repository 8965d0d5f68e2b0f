//! `privai apply --root`: the whole life of an install of the seed — first
//! apply, no-op apply, one changed value, a failing health check, a kill at
//! every checkpoint, two concurrent applies, rollback, gc — through the
//! binary, with services recorded (`PRIVAI_TEST_SERVICES`) and health
//! checks answered by stand-ins on 127.0.0.1.

use crate::tools::{repo, show};
use assert_cmd::Command;
use privai::render::manifest::{Manifest, sha256_hex};
use privai::render::tree_path;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

/// Runs privai with `args` (and `env`), stdin closed.
pub fn privai<I, S>(args: I, env: &[(&str, &OsStr)]) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::cargo_bin("privai").unwrap();
    cmd.args(args)
        .env_remove("PRIVAI_TEST_SERVICES")
        .env_remove("PRIVAI_TEST_FAILPOINT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A stand-in for a service's health endpoint on 127.0.0.1: answers every
/// request with the status it is set to.
pub struct Standin {
    pub port: u16,
    status: Arc<AtomicU16>,
}

impl Standin {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let status = Arc::new(AtomicU16::new(200));
        let shared = status.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf);
                let code = shared.load(Ordering::SeqCst);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                );
            }
        });
        Self { port, status }
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
}

/// Nickel fields that take the private homeserver out of the seed (its
/// role; its Matrix channel off), for the tests whose services are
/// stand-ins: no Synapse answers apply's health check or makes accounts
/// there (the homeserver's own tests, `homeserver` and `tailnet::matrix`,
/// run the real one). Its ACL rule stays (a PRV077 warning).
pub const SEED_WITHOUT_HOMESERVER: &str = "  hosts | force = [{ name = \"openclaw-server\", roles = ['headscale, 'ollama, 'openclaw], tailnet_ip = \"100.64.0.1\" }],\n  openclaw.channels.matrix.enabled | force = false,\n";

/// An install of the seed under a temporary root, with its own ports so
/// that health checks reach the stand-ins.
/// The API key of the Headscale stand-in.
pub const HEADSCALE_KEY: &str = "hskey-api-test01234567-0123456789abcdef";

/// Nickel fields: the seed's gateway on Telegram (as
/// `examples/seed-telegram.ncl`), its token from `PRIVAI_TEST_TG_TOKEN`.
pub const TELEGRAM: &str = "  openclaw.channels.telegram = { dm_policy = 'allowlist, allow_from = [\"tg:123456789\"], group_policy = 'disabled, token = \"env:PRIVAI_TEST_TG_TOKEN\", cloud_reason = \"A test of the token's secret.\" },";

pub struct Seed {
    pub dir: tempfile::TempDir,
    pub headscale: crate::standin::headscale::Standin,
    pub ollama: crate::standin::ollama::Standin,
    pub gateway: Standin,
}

impl Seed {
    pub fn new() -> Self {
        Self::with_ollama_having(&[])
    }

    /// The seed, with an Ollama that has `models` already.
    pub fn with_ollama_having(models: &[&str]) -> Self {
        use crate::standin::ollama::{Config, Model, Standin as Ollama};
        Self {
            dir: tempfile::tempdir().unwrap(),
            headscale: crate::standin::headscale::Standin::start(HEADSCALE_KEY),
            ollama: Ollama::start(Config {
                local: models.iter().map(|m| (*m).to_owned()).collect(),
                ..Config::with_registry(vec![
                    Model::new("codellama:13b", 3_000_000),
                    Model::new("llama3.2:3b", 1_000_000),
                ])
            }),
            gateway: Standin::start(),
        }
    }

    fn ollama_port(&self) -> u16 {
        self.ollama.url.rsplit(':').next().unwrap().parse().unwrap()
    }

    fn headscale_port(&self) -> u16 {
        self.headscale
            .url
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// Writes a spec: the seed on this install's ports (Headscale behind a
    /// proxy, so its API is plain HTTP on loopback; its API key from the
    /// environment; the gateway bound to loopback, where its stand-in
    /// answers apply's health check), plus `extra` fields.
    /// The seed's homeserver is left out ([`SEED_WITHOUT_HOMESERVER`]).
    pub fn spec(&self, name: &str, extra: &str) -> PathBuf {
        self.spec_on(
            &repo("examples/seed-home.ncl"),
            name,
            &format!("{SEED_WITHOUT_HOMESERVER}{extra}"),
        )
    }

    /// [`Seed::spec`] on the spec at `base` instead of the seed's.
    pub fn spec_on(&self, base: &Path, name: &str, extra: &str) -> PathBuf {
        self.spec_keyed(base, name, "env:PRIVAI_TEST_HS_KEY", extra)
    }

    /// [`Seed::spec_on`] with Headscale's API key read from `api_key`.
    pub fn spec_keyed(&self, base: &Path, name: &str, api_key: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        let base = crate::tools::importable(self.dir.path(), base);
        std::fs::write(
            &path,
            format!(
                "(import \"{}\") & {{\n  headscale.listen_addr | force = \"127.0.0.1:{}\",\n  headscale.tls.mode | force = 'proxy,\n  headscale.api_key | force = \"{api_key}\",\n  ollama.port | force = {},\n  openclaw.port | force = {},\n  openclaw.bind | force = \"127.0.0.1\",\n{extra}\n}}\n",
                base,
                self.headscale_port(),
                self.ollama_port(),
                self.gateway.port
            ),
        )
        .unwrap();
        path
    }

    pub fn log(&self) -> PathBuf {
        self.dir.path().join("services.log")
    }

    /// `privai apply SPEC --root ROOT --auto-approve ARGS`, services recorded.
    pub fn apply(&self, spec: &Path, args: &[&str]) -> Output {
        let root = self.root();
        let mut all: Vec<&OsStr> = vec![
            "apply".as_ref(),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--auto-approve".as_ref(),
        ];
        all.extend(args.iter().map(OsStr::new));
        privai(
            all,
            &[
                ("PRIVAI_TEST_SERVICES", self.log().as_os_str()),
                ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
            ],
        )
    }

    /// `privai plan SPEC --root ROOT --detailed-exitcode`, observing the
    /// stand-ins as `apply` does.
    pub fn plan(&self, spec: &Path) -> Output {
        privai(
            [
                OsStr::new("plan"),
                spec.as_os_str(),
                "--root".as_ref(),
                self.root().as_os_str(),
                "--detailed-exitcode".as_ref(),
            ],
            &[
                ("PRIVAI_TEST_SERVICES", self.log().as_os_str()),
                ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
            ],
        )
    }

    /// Service-manager command lines recorded so far, one per call.
    pub fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Vec<String>>(l).unwrap().join(" "))
            .collect()
    }
}

/// Every file under `root` but the state directory and the secrets
/// (data, which generations do not hold): path → (sha256, mode).
pub fn tree(root: &Path) -> BTreeMap<String, (String, u32)> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut |rel, path| {
        if rel.contains("/secrets/") {
            return;
        }
        let meta = std::fs::metadata(path).unwrap();
        out.insert(
            rel,
            (
                sha256_hex(&std::fs::read(path).unwrap()),
                meta.permissions().mode() & 0o7777,
            ),
        );
    });
    out
}

/// Every file under `root` but the state directory: path → (inode, mtime ns).
fn stats(root: &Path) -> BTreeMap<String, (u64, i64, i64)> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut |rel, path| {
        let m = std::fs::metadata(path).unwrap();
        out.insert(rel, (m.ino(), m.mtime(), m.mtime_nsec()));
    });
    out
}

fn walk(root: &Path, dir: &Path, f: &mut dyn FnMut(String, &Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel == ".privai" {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, f);
        } else {
            f(rel, &path);
        }
    }
}

/// What generation `n` says the tree holds: path → (sha256, mode).
pub fn generation_tree(root: &Path, n: u64) -> BTreeMap<String, (String, u32)> {
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(root.join(format!(".privai/generations/{n}/manifest.json"))).unwrap(),
    )
    .unwrap();
    manifest
        .files
        .iter()
        .map(|e| {
            (
                tree_path(&e.host, &e.path)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                (e.sha256.clone(), u32::from_str_radix(&e.mode, 8).unwrap()),
            )
        })
        .collect()
}

pub fn current(root: &Path) -> Option<u64> {
    std::fs::read_to_string(root.join(".privai/current"))
        .ok()
        .map(|s| s.trim().parse().unwrap())
}

const KEEP_ALIVE: &str = "  ollama.keep_alive | force = \"30m\",";

/// The bigger change the kill test makes: one update that restarts
/// Ollama, one deletion that stops a service, one creation, one more update.
pub const BIG_CHANGE: &str = "  ollama.keep_alive | force = \"30m\",
  monitoring.key_rotation.enabled | force = false,
  devices | force = [
    { name = \"phone\", user = \"user1\", kind = 'phone, os = 'ios },
    { name = \"laptop\", user = \"user2\", kind = 'laptop, os = 'macos },
    { name = \"desktop\", user = \"user1\", kind = 'desktop, os = 'linux },
    { name = \"tablet\", user = \"user2\", kind = 'laptop, os = 'linux },
  ],";

#[test]
fn the_first_apply_creates_everything_and_the_second_changes_nothing() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    let first = seed.apply(&spec, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    assert!(
        stdout(&first).contains("Apply complete! Resources: 25 added, 0 changed, 0 destroyed."),
        "{}",
        show(&first)
    );
    assert_eq!(tree(&seed.root()), generation_tree(&seed.root(), 1));
    assert_eq!(tree(&seed.root()).len(), 13);
    assert_eq!(current(&seed.root()), Some(1));
    assert_eq!(
        seed.ollama.local_models(),
        ["codellama:13b", "llama3.2:3b"],
        "both models were pulled"
    );
    let text = stdout(&first);
    assert!(
        text.contains("  + model openclaw-server:codellama:13b: done"),
        "{text}"
    );
    assert!(
        text.contains(
            "\n  the gateway's primary model codellama:13b answers, and so does its fallback llama3.2:3b\n"
        ),
        "{text}"
    );
    assert_eq!(seed.headscale.users(), ["user1", "user2"]);
    assert_eq!(
        seed.headscale.keys().len(),
        2,
        "laptop and desktop; the iPhone joins interactively"
    );
    for device in ["laptop", "desktop"] {
        let key = seed.root().join(format!(".privai/keys/{device}"));
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(
            !text.contains(&std::fs::read_to_string(&key).unwrap()),
            "a key was printed"
        );
    }
    let lock = std::fs::read_to_string(seed.dir.path().join("privai.lock")).unwrap();
    assert!(
        lock.contains("codellama:13b") && lock.contains("sha256:"),
        "{lock}"
    );

    let plan = seed.plan(&spec);
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
    assert_eq!(stdout(&plan), "No changes. Your system matches the spec.\n");

    let before = stats(&seed.root());
    let calls = seed.calls().len();
    seed.ollama.clear_log();
    seed.headscale.clear_log();
    let second = seed.apply(&spec, &[]);
    assert_eq!(second.status.code(), Some(0), "{}", show(&second));
    assert_eq!(
        stdout(&second),
        "No changes. Your system matches the spec.\n"
    );
    assert_eq!(stats(&seed.root()), before, "no file was rewritten");
    assert_eq!(seed.calls().len(), calls, "no service was touched");
    assert!(
        seed.ollama.writes().is_empty(),
        "{:?}",
        seed.ollama.writes()
    );
    assert!(
        !seed.ollama.log().is_empty(),
        "Ollama was asked what it has"
    );
    assert!(
        seed.headscale.writes().is_empty(),
        "{:?}",
        seed.headscale.writes()
    );
    assert!(
        !seed.headscale.log().is_empty(),
        "Headscale was asked what it has"
    );
    assert!(!seed.root().join(".privai/generations/2").exists());
}

#[test]
fn the_first_apply_starts_each_service_in_dependency_order() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    let out = seed.apply(&spec, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let home = seed.root().join("openclaw-server/HOME");
    let uid = std::fs::metadata(std::env::var("HOME").unwrap())
        .unwrap()
        .uid();
    let root = seed.root();
    assert_eq!(
        seed.calls(),
        [
            "launchctl bootout system/net.privai.headscale".to_owned(),
            "launchctl enable system/net.privai.headscale".to_owned(),
            format!(
                "launchctl bootstrap system {}",
                root.join("openclaw-server/Library/LaunchDaemons/net.privai.headscale.plist")
                    .display()
            ),
            format!("launchctl bootout gui/{uid}/net.privai.ollama"),
            format!("launchctl enable gui/{uid}/net.privai.ollama"),
            format!(
                "launchctl bootstrap gui/{uid} {}",
                home.join("Library/LaunchAgents/net.privai.ollama.plist")
                    .display()
            ),
            format!(
                "podman compose -p privai-gateway -f {} up -d --force-recreate --remove-orphans",
                home.join(".config/privai/openclaw/compose.yaml").display()
            ),
            format!("launchctl bootout gui/{uid}/net.privai.rotate-keys"),
            format!("launchctl enable gui/{uid}/net.privai.rotate-keys"),
            format!(
                "launchctl bootstrap gui/{uid} {}",
                home.join("Library/LaunchAgents/net.privai.rotate-keys.plist")
                    .display()
            ),
            "launchctl bootout system/net.privai.monitor".to_owned(),
            "launchctl enable system/net.privai.monitor".to_owned(),
            format!(
                "launchctl bootstrap system {}",
                root.join("openclaw-server/Library/LaunchDaemons/net.privai.monitor.plist")
                    .display()
            ),
        ]
    );
}

#[test]
fn one_changed_value_updates_exactly_its_file_and_restarts_only_its_service() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    let b = seed.spec("b.ncl", KEEP_ALIVE);

    let plan = seed.plan(&b);
    assert_eq!(plan.status.code(), Some(2), "{}", show(&plan));
    let text = stdout(&plan);
    let blocks: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter(|l| l.contains(" file ") || l.contains(" service "))
        .collect();
    assert_eq!(
        blocks,
        [
            "  ~ file openclaw-server:~/Library/LaunchAgents/net.privai.ollama.plist (mode 0644, owner user)",
            "  ↻ service openclaw-server:ollama (launchd gui net.privai.ollama)",
        ],
        "{text}"
    );
    assert!(
        text.contains("\n      -    <string>15m</string>\n      +    <string>30m</string>\n"),
        "{text}"
    );

    let before = seed.calls().len();
    let out = seed.apply(&b, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let uid = std::fs::metadata(std::env::var("HOME").unwrap())
        .unwrap()
        .uid();
    assert_eq!(
        seed.calls()[before..],
        [
            format!("launchctl bootout gui/{uid}/net.privai.ollama"),
            format!("launchctl enable gui/{uid}/net.privai.ollama"),
            format!(
                "launchctl bootstrap gui/{uid} {}",
                seed.root()
                    .join("openclaw-server/HOME/Library/LaunchAgents/net.privai.ollama.plist")
                    .display()
            ),
        ]
    );
    assert_eq!(current(&seed.root()), Some(2));
    assert_eq!(tree(&seed.root()), generation_tree(&seed.root(), 2));
}

#[test]
fn a_failing_health_check_rolls_back_every_file_and_the_service_and_exits_3() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    let installed = tree(&seed.root());
    let before = seed.calls().len();

    seed.gateway.answer(500);
    let b = seed.spec(
        "b.ncl",
        &format!("{BIG_CHANGE}\n  openclaw.container.memory_mb | force = 3072,"),
    );
    let out = seed.apply(&b, &["--health-timeout", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Apply failed: health check of openclaw-server:gateway: "),
        "{text}"
    );
    assert!(text.contains("Generation 1 is still current."), "{text}");
    assert_eq!(
        tree(&seed.root()),
        installed,
        "every file as generation 1 left it"
    );
    assert_eq!(tree(&seed.root()), generation_tree(&seed.root(), 1));
    assert_eq!(current(&seed.root()), Some(1));
    assert!(!seed.root().join(".privai/generations/2").exists());

    // Stopped key rotation, restarted Ollama, recreated the gateway
    // (unhealthy); then, on the old files, Ollama and the gateway again and
    // key rotation started again, in dependency order.
    let calls: Vec<String> = seed.calls()[before..]
        .iter()
        .map(|c| c.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .collect();
    let uid = std::fs::metadata(std::env::var("HOME").unwrap())
        .unwrap()
        .uid();
    assert_eq!(
        calls,
        [
            format!("launchctl bootout gui/{uid}/net.privai.rotate-keys"),
            format!("launchctl bootout gui/{uid}/net.privai.ollama"),
            format!("launchctl enable gui/{uid}/net.privai.ollama"),
            format!("launchctl bootstrap gui/{uid}"),
            "podman compose -p".to_owned(),
            format!("launchctl bootout gui/{uid}/net.privai.ollama"),
            format!("launchctl enable gui/{uid}/net.privai.ollama"),
            format!("launchctl bootstrap gui/{uid}"),
            "podman compose -p".to_owned(),
            format!("launchctl bootout gui/{uid}/net.privai.rotate-keys"),
            format!("launchctl enable gui/{uid}/net.privai.rotate-keys"),
            format!("launchctl bootstrap gui/{uid}"),
        ]
    );
}

#[test]
fn a_run_killed_at_any_checkpoint_is_finished_or_undone_by_the_next() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    let b = seed.spec("b.ncl", BIG_CHANGE);
    let empty = BTreeMap::new();
    // Checkpoints: 0 after the journal starts, one per action, then the
    // generation written, then made current. Both the first apply (from
    // nothing) and a change (generation 1 to 2) are killed at each.
    for (from, to, spec, steps) in [(None, 1, &a, 19), (Some(1), 2, &b, 6)] {
        for k in 0..=steps + 2 {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("root");
            if from.is_some() {
                let out = privai(
                    [
                        OsStr::new("apply"),
                        a.as_os_str(),
                        "--root".as_ref(),
                        root.as_os_str(),
                        "--auto-approve".as_ref(),
                    ],
                    &[],
                );
                assert_eq!(out.status.code(), Some(0), "{}", show(&out));
            }
            let before = tree(&root);
            let killed = privai(
                [
                    OsStr::new("apply"),
                    spec.as_os_str(),
                    "--root".as_ref(),
                    root.as_os_str(),
                    "--auto-approve".as_ref(),
                ],
                &[("PRIVAI_TEST_FAILPOINT", OsStr::new(&k.to_string()))],
            );
            assert_eq!(
                killed.status.code(),
                None,
                "killed at {k}: {}",
                show(&killed)
            );

            let next = privai(
                [
                    OsStr::new("plan"),
                    spec.as_os_str(),
                    "--root".as_ref(),
                    root.as_os_str(),
                ],
                &[],
            );
            assert_eq!(next.status.code(), Some(0), "after {k}: {}", show(&next));
            let recovery = String::from_utf8_lossy(&next.stderr).into_owned();
            assert!(
                recovery.contains("was interrupted"),
                "after {k}: {recovery}"
            );
            assert!(!root.join(".privai/journal.ndjson").exists());
            assert!(!root.join(".privai/run").exists());
            assert_eq!(
                crate::state_safety::leftovers(&root),
                Vec::<String>::new(),
                "after {k}: no temp file, pre-image or partial generation"
            );
            let now = tree(&root);
            if k == steps + 2 {
                assert_eq!(current(&root), Some(to), "after {k}");
                assert_eq!(now, generation_tree(&root, to), "after {k}");
                assert!(recovery.contains(&format!("It had committed generation {to}")));
            } else {
                assert_eq!(current(&root), from, "after {k}");
                assert_eq!(now, before, "after {k}: the tree is the old one");
                match from {
                    Some(n) => assert_eq!(now, generation_tree(&root, n)),
                    None => assert_eq!(now, empty),
                }
                assert!(!root.join(format!(".privai/generations/{to}")).exists());
            }
        }
    }
}

#[test]
fn a_second_concurrent_apply_fails_at_once_naming_the_holder() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("privai"))
        .arg("apply")
        .arg(&spec)
        .arg("--root")
        .arg(seed.root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // It holds the lock while it waits for "yes".
    let lock_info = seed.root().join(".privai/lock.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !lock_info.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the first apply never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let started = std::time::Instant::now();
    let second = seed.apply(&spec, &[]);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(second.status.code(), Some(1), "{}", show(&second));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains(&format!("pid {}", first.id())), "{err}");
    assert!(err.contains("apply"), "{err}");

    first.stdin.take().unwrap().write_all(b"no\n").unwrap();
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).ends_with("Apply cancelled.\n"),
        "{}",
        show(&out)
    );
    assert_eq!(tree(&seed.root()), BTreeMap::new(), "nothing was applied");
    assert!(!lock_info.exists());
}

#[test]
fn rollback_installs_the_previous_generation_again_as_a_new_one() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    let b = seed.spec("b.ncl", BIG_CHANGE);
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    assert_eq!(seed.apply(&b, &[]).status.code(), Some(0));
    assert_eq!(tree(&seed.root()), generation_tree(&seed.root(), 2));

    let root = seed.root();
    let out = privai(
        [
            OsStr::new("rollback"),
            "--root".as_ref(),
            root.as_os_str(),
            "--auto-approve".as_ref(),
        ],
        &[("PRIVAI_TEST_SERVICES", seed.log().as_os_str())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(current(&root), Some(3));
    assert_eq!(tree(&root), generation_tree(&root, 1));
    assert_eq!(generation_tree(&root, 3), generation_tree(&root, 1));

    let list = privai(
        [
            OsStr::new("generations"),
            "--root".as_ref(),
            root.as_os_str(),
        ],
        &[],
    );
    let text = stdout(&list);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[1].starts_with("*    3 ") && lines[1].ends_with("rollback to 1"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("     1 ") && lines[3].contains(" apply "),
        "{text}"
    );

    let gc = privai(
        [
            OsStr::new("gc"),
            "--root".as_ref(),
            root.as_os_str(),
            "--keep".as_ref(),
            "1".as_ref(),
        ],
        &[],
    );
    assert_eq!(
        stdout(&gc),
        "Removed generations 1, 2.\nRemoved 3 file copies no generation lists.\n",
        "{}",
        show(&gc)
    );
    // Files only: rollback puts files back, not Headscale's keys: the
    // files match spec a, and the key b made for its tablet is left for
    // the next apply of a to expire.
    let plan = privai(
        [
            OsStr::new("plan"),
            a.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--detailed-exitcode".as_ref(),
        ],
        // Headscale observed as by the applies (whether the policy's tests
        // are held back depends on its nodes).
        &[
            ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
            ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
        ],
    );
    assert_eq!(plan.status.code(), Some(2), "{}", show(&plan));
    assert!(
        stdout(&plan).contains("  - pre-auth key openclaw-server:tablet (")
            && stdout(&plan).contains("Plan: 0 to add, 0 to change, 1 to delete."),
        "{}",
        show(&plan)
    );
}

/// `privai plan SPEC --root ROOT -o SAVED`, which must succeed.
fn save_plan(spec: &Path, root: &Path, saved: &Path) {
    let plan = privai(
        [
            OsStr::new("plan"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "-o".as_ref(),
            saved.as_os_str(),
        ],
        &[],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
}

#[test]
fn a_saved_plan_applies_exactly_and_is_refused_once_stale() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    let saved = seed.dir.path().join("a.plan");
    let root = seed.root();
    save_plan(&a, &root, &saved);
    let stale = seed.dir.path().join("stale.plan");
    std::fs::copy(&saved, &stale).unwrap();

    let out = privai([OsStr::new("apply"), saved.as_os_str()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(current(&root), Some(1));

    let out = privai([OsStr::new("apply"), stale.as_os_str()], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the saved plan is stale"));
    assert_eq!(current(&root), Some(1));
}

#[test]
fn a_saved_plan_holds_its_actions_and_apply_carries_out_those_it_reads_back() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    let saved = seed.dir.path().join("a.plan");
    let root = seed.root();
    save_plan(&a, &root, &saved);
    let mut document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    let actions = document["actions"].as_array().unwrap().clone();
    let planned = document["plan"]["resource_changes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(actions.len(), planned.len());
    assert_eq!(actions[0]["domain"], "file");
    // Keep only the first action: apply carries out what the file holds.
    document["actions"] = serde_json::json!([actions[0]]);
    std::fs::write(&saved, serde_json::to_vec(&document).unwrap()).unwrap();
    let out = privai([OsStr::new("apply"), saved.as_os_str()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = stdout(&out);
    let done: Vec<&str> = text.lines().filter(|l| l.ends_with(": done")).collect();
    assert_eq!(done.len(), 1, "{text}");
    assert!(
        done[0].contains(planned[0]["address"].as_str().unwrap()),
        "{text}"
    );
}

#[test]
fn a_file_edited_outside_privai_is_reported_as_drift_and_put_back() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    let config = seed
        .root()
        .join("openclaw-server/usr/local/etc/privai/headscale/config.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("# edited by hand\n");
    std::fs::write(&config, text).unwrap();

    let plan = seed.plan(&a);
    assert_eq!(plan.status.code(), Some(2));
    let out = stdout(&plan);
    let drift = out.find("changed outside privai").expect("a drift section");
    let legend = out.find("Actions are indicated").unwrap();
    assert!(drift < legend, "{out}");
    assert!(out.contains("      -# edited by hand\n"), "{out}");

    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    assert_eq!(tree(&seed.root()), generation_tree(&seed.root(), 2));
}

/// Every file under `dir`, as bytes.
fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn secrets_are_written_0600_and_never_appear_in_output_journal_state_or_generations() {
    let seed = Seed::new();
    let spec = seed.spec("s.ncl", TELEGRAM);
    let root = seed.root();
    let first = "tg-FIRST-secret-4242";
    let second = "tg-SECOND-secret-9393";
    let seen: std::cell::RefCell<Vec<(String, Vec<u8>)>> = Default::default();
    let run = |label: &str, args: &[&OsStr], value: &str, failpoint: Option<&str>| {
        let mut env = vec![("PRIVAI_TEST_TG_TOKEN", OsStr::new(value))];
        if let Some(k) = failpoint {
            env.push(("PRIVAI_TEST_FAILPOINT", OsStr::new(k)));
        }
        let out = privai(args, &env);
        let mut seen = seen.borrow_mut();
        seen.push((format!("{label} stdout"), out.stdout.clone()));
        seen.push((format!("{label} stderr"), out.stderr.clone()));
        out
    };
    let saved = seed.dir.path().join("s.plan");
    let plan = |json: bool| {
        let mut args = vec![
            OsStr::new("plan"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
        ];
        if json {
            args.push("--json".as_ref());
            args.push("-o".as_ref());
            args.push(saved.as_os_str());
        }
        args
    };
    let apply = [
        OsStr::new("apply"),
        spec.as_os_str(),
        "--root".as_ref(),
        root.as_os_str(),
        "--auto-approve".as_ref(),
    ];

    let out = run("plan", &plan(false), first, None);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains("  + secret openclaw-server:~/.config/privai/secrets/telegram-token"),
        "{text}"
    );
    run("plan --json", &plan(true), first, None);
    assert_eq!(run("apply", &apply, first, None).status.code(), Some(0));

    let token = root.join("openclaw-server/HOME/.config/privai/secrets/telegram-token");
    assert_eq!(std::fs::read_to_string(&token).unwrap(), first);
    assert_eq!(
        std::fs::metadata(&token).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let generated = root.join("openclaw-server/HOME/.config/privai/secrets/openclaw-gateway-token");
    let gateway_token = std::fs::read_to_string(&generated).unwrap();
    assert_eq!(gateway_token.len(), 64, "32 random bytes, hex");
    assert_eq!(
        std::fs::metadata(&generated).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // A new value: an update that shows digests only and restarts the
    // gateway; killed mid-run, so the journal and the pre-images are seen.
    let out = run("plan 2", &plan(false), second, None);
    assert!(
        stdout(&out).contains("  ~ secret openclaw-server:~/.config/privai/secrets/telegram-token"),
        "{}",
        show(&out)
    );
    let killed = run("killed apply", &apply, second, Some("1"));
    assert_eq!(killed.status.code(), None);
    for (path, bytes) in all_files(&root.join(".privai")) {
        seen.borrow_mut().push((path.display().to_string(), bytes));
    }
    assert_eq!(
        run("recovering plan", &plan(false), second, None)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        std::fs::read_to_string(&token).unwrap(),
        first,
        "recovery restored the old value"
    );
    assert_eq!(run("apply 2", &apply, second, None).status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&token).unwrap(), second);
    assert_eq!(
        std::fs::read_to_string(&generated).unwrap(),
        gateway_token,
        "a generated token is kept"
    );

    for (path, bytes) in all_files(&root.join(".privai")) {
        seen.borrow_mut().push((path.display().to_string(), bytes));
    }
    let mut seen = seen.into_inner();
    seen.push(("saved plan".into(), std::fs::read(&saved).unwrap()));
    assert!(
        seen.iter()
            .any(|(what, _)| what.ends_with("journal.ndjson")),
        "the killed run left its journal"
    );
    for secret in [first, second, gateway_token.as_str()] {
        for (what, bytes) in &seen {
            assert!(!contains(bytes, secret), "a secret leaked into {what}");
        }
    }
}

#[test]
fn a_removed_device_has_its_key_expired_and_a_wrong_api_key_changes_nothing() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    let desktop_key = std::fs::read_to_string(seed.root().join(".privai/keys/desktop")).unwrap();
    let b = seed.spec(
        "b.ncl",
        "  devices | force = [
    { name = \"phone\", user = \"user1\", kind = 'phone, os = 'ios },
    { name = \"laptop\", user = \"user2\", kind = 'laptop, os = 'macos },
  ],",
    );
    let plan = seed.apply(&b, &[]);
    let text = stdout(&plan);
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
    assert!(
        text.contains("  - pre-auth key openclaw-server:desktop (key "),
        "{text}"
    );
    assert!(!seed.root().join(".privai/keys/desktop").exists());
    assert!(seed.root().join(".privai/keys/laptop").exists());
    assert_eq!(
        seed.headscale.join_with_key("desktop", &desktop_key),
        Err("authkey expired".to_owned()),
        "Headscale no longer takes the removed device's key"
    );

    // A rejected API key: a clear error, and nothing changes.
    let root = seed.root();
    let tree_before = tree(&root);
    let c = seed.spec("c.ncl", "  ollama.keep_alive | force = \"30m\",");
    seed.headscale.clear_log();
    let out = privai(
        [
            OsStr::new("apply"),
            c.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--auto-approve".as_ref(),
        ],
        &[
            ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
            ("PRIVAI_TEST_HS_KEY", OsStr::new("not-the-key")),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("was rejected") && err.contains("headscale apikeys create"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(tree(&root), tree_before);
    assert!(seed.headscale.writes().is_empty());
    assert_eq!(current(&root), Some(2));
}

#[test]
fn privai_lock_flags_a_moved_tag_and_update_records_what_ollama_has() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    assert_eq!(seed.apply(&spec, &[]).status.code(), Some(0));
    let lock_path = seed.dir.path().join("privai.lock");
    let written = std::fs::read_to_string(&lock_path).unwrap();
    let have = seed.ollama.local_digest("codellama:13b").unwrap();
    let moved = written.replace(&have, &"e".repeat(64));
    assert_ne!(moved, written);
    std::fs::write(&lock_path, &moved).unwrap();
    let root = seed.root();
    let lock = |update: bool| {
        let mut args = vec![
            OsStr::new("lock"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
        ];
        if update {
            args.push("--update".as_ref());
        }
        // The stand-ins are the staged system's services, as for `apply`.
        privai(args, &[("PRIVAI_TEST_SERVICES", seed.log().as_os_str())])
    };
    let out = lock(false);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        stdout(&out).contains("codellama:13b: privai.lock pins sha256:eeee"),
        "{}",
        show(&out)
    );
    let plan = privai(
        [
            OsStr::new("plan"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
        ],
        &[
            ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
            ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
        ],
    );
    assert!(
        stdout(&plan).contains("Note: model codellama:13b is sha256:"),
        "{}",
        show(&plan)
    );
    // An apply of another change keeps the pin: only `lock --update`
    // accepts a moved tag.
    let other = seed.spec("b.ncl", "  ollama.keep_alive | force = \"30m\",");
    let applied = seed.apply(&other, &[]);
    assert_eq!(applied.status.code(), Some(0), "{}", show(&applied));
    assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), moved);

    assert_eq!(lock(true).status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), written);
    assert_eq!(lock(false).status.code(), Some(0));
}

#[test]
fn privai_lock_is_a_journaled_step_a_run_killed_before_it_commits_puts_the_old_lock_back() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    let lock_path = seed.dir.path().join("privai.lock");
    // An older lock, pinning a model the spec no longer names: the run drops
    // it and adds the spec's models, then is killed after the generation is
    // written, before it is made current (checkpoint actions + 1).
    let old = format!(
        "version = 1\n\n[[model]]\nname = \"gone:1b\"\ndigest = \"sha256:{}\"\n",
        "a".repeat(64)
    );
    std::fs::write(&lock_path, &old).unwrap();
    let planned = privai(
        [
            OsStr::new("plan"),
            spec.as_os_str(),
            "--root".as_ref(),
            seed.root().as_os_str(),
            "--json".as_ref(),
        ],
        &[
            ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
            ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
        ],
    );
    let plan: serde_json::Value = serde_json::from_slice(&planned.stdout).unwrap();
    let steps = plan["resource_changes"].as_array().unwrap().len();
    let root = seed.root();
    let killed = privai(
        [
            OsStr::new("apply"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--auto-approve".as_ref(),
        ],
        &[
            ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
            ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
            (
                "PRIVAI_TEST_FAILPOINT",
                OsStr::new(&(steps + 1).to_string()),
            ),
        ],
    );
    assert_eq!(killed.status.code(), None, "{}", show(&killed));
    assert!(
        stdout(&killed).contains("wrote the models' digests to `"),
        "{}",
        show(&killed)
    );
    assert_ne!(std::fs::read_to_string(&lock_path).unwrap(), old);
    // The next command recovers: the run had not committed, so the lock is
    // the old one again.
    let next = seed.plan(&spec);
    assert!(
        String::from_utf8_lossy(&next.stderr).contains("was interrupted"),
        "{}",
        show(&next)
    );
    assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), old);
    // Applied to the end, it pins the spec's models and drops the other.
    assert_eq!(seed.apply(&spec, &[]).status.code(), Some(0));
    let written = std::fs::read_to_string(&lock_path).unwrap();
    assert!(!written.contains("gone:1b"), "{written}");
    let have = seed.ollama.local_digest("codellama:13b").unwrap();
    assert!(written.contains(&have), "{written}");
}

#[test]
fn prune_removes_only_models_privai_pulled_that_the_spec_dropped() {
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    let b = seed.spec(
        "b.ncl",
        "  ollama.models | force = [{ name = \"llama3.2:3b\", role = 'primary, context_length = 16384 }],
  openclaw.model | force = { primary = \"llama3.2:3b\", fallbacks = [] },",
    );
    let without = seed.apply(&b, &[]);
    assert_eq!(without.status.code(), Some(0), "{}", show(&without));
    assert!(!stdout(&without).contains("- model"), "{}", show(&without));
    assert_eq!(seed.ollama.local_models(), ["codellama:13b", "llama3.2:3b"]);

    let with = seed.apply(&b, &["--prune"]);
    let text = stdout(&with);
    assert_eq!(with.status.code(), Some(0), "{}", show(&with));
    assert!(
        text.contains(
            "  - model openclaw-server:codellama:13b (pulled by privai, no longer in the spec)"
        ),
        "{text}"
    );
    assert_eq!(seed.ollama.local_models(), ["llama3.2:3b"]);
}

/// What Ollama answers `/api/generate` when a model does not fit
/// (`llm/server.go`).
const TOO_BIG: &str = "model requires more system memory (30.1 GiB) than is available (28.3 GiB)";

#[test]
fn a_primary_model_that_does_not_load_names_the_fallback_and_with_none_answering_apply_rolls_back()
{
    let seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    seed.ollama.fail_next("POST", "/api/generate", 500, TOO_BIG);
    let first = seed.apply(&a, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    let text = stdout(&first);
    let line = text
        .lines()
        .find(|l| l.contains("does not answer"))
        .unwrap_or_else(|| panic!("no line about the primary model: {text}"));
    assert!(
        line.starts_with("  the primary model codellama:13b does not answer (codellama:13b: ")
            && line.contains(TOO_BIG)
            && line.ends_with("; the gateway will use its fallback llama3.2:3b"),
        "{line}"
    );
    assert_eq!(current(&seed.root()), Some(1));

    // Neither model answers after Ollama restarts with a new setting.
    let installed = tree(&seed.root());
    seed.ollama.fail_next("POST", "/api/generate", 500, TOO_BIG);
    seed.ollama.fail_next("POST", "/api/generate", 500, TOO_BIG);
    let b = seed.spec("b.ncl", "  ollama.keep_alive | force = \"30m\",");
    let out = seed.apply(&b, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "Apply failed: checking the gateway's models: no model of the gateway answers: codellama:13b: "
        ) && text.contains("; llama3.2:3b: "),
        "{text}"
    );
    assert!(
        text.contains("Rolled back; nothing of this run remains:"),
        "{text}"
    );
    assert_eq!(tree(&seed.root()), installed);
    assert_eq!(current(&seed.root()), Some(1));
}

#[test]
fn models_and_users_of_a_rolled_back_run_are_reported_kept_and_its_pulls_stay_prunable() {
    let seed = Seed::new();
    seed.gateway.answer(500);
    let a = seed.spec("a.ncl", "");
    let failed = seed.apply(&a, &["--health-timeout", "1"]);
    assert_eq!(failed.status.code(), Some(3), "{}", show(&failed));
    let text = stdout(&failed);
    let kept: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Not undone, as a rollback never undoes them"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(
        kept,
        [
            "  create headscale user openclaw-server:user1",
            "  create headscale user openclaw-server:user2",
            "  create pre-auth key openclaw-server:laptop",
            "  create pre-auth key openclaw-server:desktop",
            "  create model openclaw-server:codellama:13b",
            "  create model openclaw-server:llama3.2:3b",
        ],
        "{text}"
    );
    assert!(text.contains("\nRolled back:\n"), "{text}");
    assert_eq!(current(&seed.root()), None);
    assert_eq!(seed.ollama.local_models(), ["codellama:13b", "llama3.2:3b"]);

    // The next apply neither pulls again nor makes new keys.
    seed.gateway.answer(200);
    seed.ollama.clear_log();
    let second = seed.apply(&a, &[]);
    assert_eq!(second.status.code(), Some(0), "{}", show(&second));
    let text = stdout(&second);
    assert!(!text.contains("+ model"), "{text}");
    assert!(!text.contains("+ pre-auth key"), "{text}");
    assert_eq!(seed.headscale.keys().len(), 2);
    assert!(
        !seed.ollama.writes().iter().any(|r| r.path == "/api/pull"),
        "{:?}",
        seed.ollama.writes()
    );

    // privai pulled codellama:13b, though in the run that was rolled back.
    let b = seed.spec(
        "b.ncl",
        "  ollama.models | force = [{ name = \"llama3.2:3b\", role = 'primary, context_length = 16384 }],
  openclaw.model | force = { primary = \"llama3.2:3b\", fallbacks = [] },",
    );
    let pruned = seed.apply(&b, &["--prune"]);
    assert_eq!(pruned.status.code(), Some(0), "{}", show(&pruned));
    assert!(
        stdout(&pruned).contains("  - model openclaw-server:codellama:13b: done"),
        "{}",
        show(&pruned)
    );
    assert_eq!(seed.ollama.local_models(), ["llama3.2:3b"]);
}

#[test]
fn a_plan_made_while_ollama_and_headscale_were_down_creates_only_what_they_lack_once_up() {
    // Ollama has llama3.2:3b, pulled by hand; privai did not pull it.
    let seed = Seed::with_ollama_having(&["llama3.2:3b"]);
    let a = seed.spec("a.ncl", "");
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    assert_eq!(seed.headscale.keys().len(), 2);

    // Neither answers while the plan is made (Headscale's database is
    // down), both do when apply gets to them.
    seed.ollama
        .fail_next("GET", "/api/version", 500, "starting");
    seed.headscale.set_healthy(false);
    let b = seed.spec("b.ncl", "  ollama.keep_alive | force = \"30m\",");
    seed.ollama.clear_log();
    seed.headscale.clear_log();
    let out = seed.apply(&b, &[]);
    seed.headscale.set_healthy(true);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text.contains("Note: Ollama did not answer")
            && text.contains("Note: Headscale did not answer"),
        "{text}"
    );
    assert!(
        text.contains("  + model openclaw-server:codellama:13b")
            && text.contains("  + headscale user openclaw-server:user1"),
        "{text}"
    );
    assert!(
        !text.contains("+ pre-auth key"),
        "keys on record are left for the next apply: {text}"
    );
    assert!(
        text.contains("    llama3.2:3b: Ollama has it already (sha256:"),
        "{text}"
    );
    assert!(
        seed.ollama.writes().iter().all(|r| r.path != "/api/pull"),
        "{:?}",
        seed.ollama.writes()
    );
    assert!(
        seed.headscale
            .writes()
            .iter()
            .all(|r| !r.path.starts_with("/api/v1/user")),
        "{:?}",
        seed.headscale.writes()
    );
    assert_eq!(seed.headscale.keys().len(), 2);
    let pulled = std::fs::read_to_string(seed.root().join(".privai/pulled.json")).unwrap();
    assert!(
        pulled.contains("codellama:13b") && !pulled.contains("llama3.2:3b"),
        "privai pulled codellama:13b only: {pulled}"
    );
}

#[test]
fn with_ollama_not_running_apply_says_how_to_start_it_and_changes_nothing() {
    let mut seed = Seed::new();
    let a = seed.spec("a.ncl", "");
    assert_eq!(seed.apply(&a, &[]).status.code(), Some(0));
    let installed = tree(&seed.root());
    let pulled = std::fs::read(seed.root().join(".privai/pulled.json")).unwrap();
    let url = seed.ollama.url.clone();
    seed.ollama.stop();

    let out = seed.apply(&a, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("Note: Ollama did not answer at {url}")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Apply failed: asking Ollama for codellama:13b: Ollama is not running at {url}: start it (`ollama serve`, or the service privai installs: `launchctl kickstart gui/$(id -u)/net.privai.ollama` on macOS"
        )),
        "{text}"
    );
    assert!(text.contains("Generation 1 is still current."), "{text}");
    assert_eq!(tree(&seed.root()), installed);
    assert_eq!(current(&seed.root()), Some(1));
    assert_eq!(
        std::fs::read(seed.root().join(".privai/pulled.json")).unwrap(),
        pulled
    );
}

#[test]
fn a_reusable_device_gets_a_reusable_key_that_stays_valid_after_it_joins() {
    let seed = Seed::new();
    let a = seed.spec(
        "a.ncl",
        "  devices | force = [
    { name = \"laptop\", user = \"user2\", kind = 'laptop, os = 'macos },
    { name = \"desktop\", user = \"user1\", kind = 'desktop, os = 'linux, ephemeral = true, reusable = true },
  ],",
    );
    let out = seed.apply(&a, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text.contains("  + pre-auth key openclaw-server:desktop (user user1; ephemeral, reusable, expires in 7 days)")
            && text.contains("  + pre-auth key openclaw-server:laptop (user user2; single use, expires in 7 days)"),
        "{text}"
    );
    let key_of = |device: &str| {
        std::fs::read_to_string(seed.root().join(format!(".privai/keys/{device}"))).unwrap()
    };
    // Listed masked: `hskey-auth-PREFIX-***`.
    let reusable = |key: &str| {
        let (prefix, _) = key.trim().rsplit_once('-').unwrap();
        let masked = format!("{prefix}-***");
        seed.headscale
            .keys()
            .into_iter()
            .find(|k| k["key"].as_str() == Some(masked.as_str()))
            .map(|k| (k["reusable"].clone(), k["ephemeral"].clone()))
    };
    let (desktop, laptop) = (key_of("desktop"), key_of("laptop"));
    assert_eq!(reusable(&desktop), Some((true.into(), true.into())));
    assert_eq!(reusable(&laptop), Some((false.into(), false.into())));

    // Both join: the laptop's key is used up, the desktop's stays for the
    // next runner.
    seed.headscale
        .join_with_key("desktop", desktop.trim())
        .unwrap();
    seed.headscale
        .join_with_key("laptop", laptop.trim())
        .unwrap();
    // Now that user1 and user2 have nodes, the policy's tests can run:
    // this apply adds them (held back until now), and changes nothing else.
    let tests = seed.apply(&a, &[]);
    assert!(
        stdout(&tests).contains("+  \"tests\": [")
            && stdout(&tests).contains(
                "Apply complete! Resources: 0 added, 1 changed, 0 destroyed, 1 reloaded."
            ),
        "{}",
        show(&tests)
    );
    let again = seed.apply(&a, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert_eq!(
        stdout(&again),
        "No changes. Your system matches the spec.\n"
    );
    assert!(
        seed.headscale
            .join_with_key("desktop-2", desktop.trim())
            .is_ok()
    );
    assert_eq!(
        seed.headscale.join_with_key("laptop-2", laptop.trim()),
        Err("authkey already used".to_owned())
    );
}

#[test]
fn five_no_op_applies_against_the_standins_change_nothing() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    let first = seed.apply(&spec, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    let writes = seed.headscale.writes().len();
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let again = seed.apply(&spec, &[]);
        times.push(started.elapsed());
        assert_eq!(
            stdout(&again),
            "No changes. Your system matches the spec.\n",
            "{}",
            show(&again)
        );
    }
    assert_eq!(seed.headscale.writes().len(), writes, "no Headscale writes");
    times.sort();
    eprintln!(
        "no-op apply against the stand-ins: median {} ms of 5",
        times[2].as_millis()
    );
}
