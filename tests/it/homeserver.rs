//! The private Matrix homeserver, proven against the real Synapse (the
//! pinned `matrix-synapse` of tests/tools/install-synapse.sh): `privai
//! apply --root` stages its config, unit and registration secret; Synapse
//! then runs from exactly that config and the unit's command line, with
//! only the install paths moved under the staging root (systemd is not PID
//! 1 here, so the test does what the unit asks of it: the state directory,
//! the credential, umask 0077). It runs in a network namespace of its own
//! whose loopback also carries the host's tailnet address, beside a second
//! namespace standing for another machine.
//!
//! Then, over the client-server API: accounts registered with the shared
//! secret (Synapse's own `register_new_matrix_user`, the admin
//! registration API), `user1` logs in, opens a direct chat with the AI
//! account and writes to it, and the AI account reads the message;
//! open registration is refused, the federation API is absent, and the
//! port answers only on the addresses the config names; and a second
//! apply changes nothing.

#[path = "homeserver/accounts.rs"]
mod accounts;
#[path = "homeserver/alerts.rs"]
mod alerts;
#[path = "homeserver/refused.rs"]
mod refused;

use crate::apply::privai;
use crate::tailnet::net::{Host, Net};
use crate::tools::{installed, repo, show, tools_root};
use serde_json::{Value, json};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The fixture's host, its tailnet address and the default port.
const HOST: &str = "chat";
const TAILNET_IP: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 1);
const PORT: u16 = 8008;
/// The default server name: the host's MagicDNS name.
const SERVER_NAME: &str = "chat.tailnet.home.arpa";

/// The fixture with Synapse's Python environment where the tests installed
/// it.
fn spec(dir: &Path, extra: &str) -> PathBuf {
    fixture_spec(dir, "home.ncl", "spec.ncl", extra)
}

/// `dir/name`: the fixture `tests/fixtures/homeserver/FIXTURE` with
/// Synapse's Python environment where the tests installed it, and `extra`
/// Nickel.
pub(crate) fn fixture_spec(dir: &Path, fixture: &str, name: &str, extra: &str) -> PathBuf {
    let venv = tools_root().join("synapse");
    let base =
        crate::tools::importable(dir, &repo(&format!("tests/fixtures/homeserver/{fixture}")));
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "(import \"{base}\") & {{ homeserver.venv = \"{}\", {extra} }}\n",
            venv.display()
        ),
    )
    .unwrap();
    path
}

/// `path` on the host, inside the staging tree `tree`.
fn staged(tree: &Path, path: &str) -> PathBuf {
    tree.join(path.trim_start_matches('/'))
}

/// The values of setting `key` in the unit text.
fn settings<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

/// Every path in the config moved under `tree`; a credential
/// (`/run/credentials/UNIT/NAME`) becomes the staged file the unit's
/// `LoadCredential=NAME:PATH` hands over.
fn adapt(value: &mut serde_yaml_ng::Value, tree: &Path, credentials: &[(String, String)]) {
    use serde_yaml_ng::Value as Y;
    match value {
        Y::String(s) if s.starts_with('/') => {
            let moved = match s.strip_prefix("/run/credentials/privai-homeserver.service/") {
                Some(name) => {
                    let (_, source) = credentials
                        .iter()
                        .find(|(n, _)| n == name)
                        .unwrap_or_else(|| panic!("no LoadCredential={name}"));
                    staged(tree, source)
                }
                None => staged(tree, s),
            };
            *s = moved.display().to_string();
        }
        Y::Sequence(items) => items.iter_mut().for_each(|v| adapt(v, tree, credentials)),
        Y::Mapping(map) => map
            .iter_mut()
            .for_each(|(_, v)| adapt(v, tree, credentials)),
        _ => {}
    }
}

/// A blocking HTTP client for requests made from `host`'s namespace.
pub(crate) fn request(
    host: &Host,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let (method, url, token) = (method.to_owned(), url.to_owned(), token.map(str::to_owned));
    host.enter(move || {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .build()
            .unwrap();
        let mut req = client.request(method.parse().unwrap(), &url);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        match req.send() {
            Ok(resp) => {
                let status = resp.status().as_u16();
                (status, resp.json().unwrap_or(Value::Null))
            }
            Err(e) => (0, json!({ "error": e.to_string() })),
        }
    })
}

/// `/_matrix/client/v3/PATH` on loopback.
fn client(path: &str) -> String {
    format!("http://127.0.0.1:{PORT}/_matrix/client/v3/{path}")
}

/// Percent-encodes a room id or user id for a URL path.
pub(crate) fn encode(id: &str) -> String {
    id.replace('!', "%21")
        .replace(':', "%3A")
        .replace('@', "%40")
}

/// An install of the fixture staged by `privai apply --root`, with what
/// the unit does for Synapse done by hand: the state directory made, the
/// config's paths moved under the tree, the command line pointing at it.
pub(crate) struct Staged {
    root: PathBuf,
    tree: PathBuf,
    spec: PathBuf,
    secret_file: PathBuf,
    pub secret: String,
    state: PathBuf,
    argv: Vec<String>,
    /// The unit's `MemoryDenyWriteExecute=yes`.
    deny_write_execute: bool,
    apply_stdout: String,
}

/// Applies `spec` under `dir/root` and prepares Synapse's start.
fn stage(dir: &Path, spec: PathBuf) -> Staged {
    let root = dir.join("root");
    let out = privai(
        [
            "apply".as_ref(),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--auto-approve".as_ref(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let tree = root.join(HOST);
    let mut staged = prepare(dir, &tree);
    staged.root = root;
    staged.spec = spec;
    staged.apply_stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    staged
}

/// Prepares Synapse's start, in `dir`, from the files `privai apply`
/// installed in the staging tree `tree` (`ROOT/HOST`) as the unit
/// `privai-homeserver.service` there says.
pub(crate) fn prepare(dir: &Path, tree: &Path) -> Staged {
    let python = installed("synapse", "python");
    let tree = tree.to_path_buf();
    let unit = std::fs::read_to_string(staged(
        &tree,
        "/etc/systemd/system/privai-homeserver.service",
    ))
    .unwrap();
    let secret_file = staged(&tree, "/etc/privai/secrets/homeserver-registration-secret");
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    assert_eq!(
        std::fs::metadata(&secret_file)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert!(secret.trim().len() >= 32, "a generated secret");

    // The unit's command line, its credentials and its state directory.
    let [exec] = settings(&unit, "ExecStart")
        .try_into()
        .expect("one ExecStart=");
    assert!(!exec.contains('"'), "plain words: {exec}");
    let mut argv: Vec<String> = exec.split_whitespace().map(str::to_owned).collect();
    assert_eq!(PathBuf::from(&argv[0]), python);
    let credentials: Vec<(String, String)> = settings(&unit, "LoadCredential")
        .into_iter()
        .map(|c| {
            let (name, path) = c.split_once(':').unwrap();
            (name.to_owned(), path.to_owned())
        })
        .collect();
    assert_eq!(settings(&unit, "StateDirectory"), ["privai/homeserver"]);
    assert_eq!(settings(&unit, "UMask"), ["0077"]);
    let deny_write_execute = settings(&unit, "MemoryDenyWriteExecute") == ["yes"];
    let state = staged(&tree, "/var/lib/privai/homeserver");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();

    // The applied config, paths moved under the tree.
    let config_at = argv.iter().position(|a| a == "--config-path").unwrap() + 1;
    let config_text = std::fs::read_to_string(staged(&tree, &argv[config_at])).unwrap();
    let mut config: serde_yaml_ng::Value = serde_yaml_ng::from_str(&config_text).unwrap();
    adapt(&mut config, &tree, &credentials);
    let adapted = dir.join("homeserver.yaml");
    std::fs::write(&adapted, serde_yaml_ng::to_string(&config).unwrap()).unwrap();
    argv[config_at] = adapted.display().to_string();
    Staged {
        root: PathBuf::new(),
        tree,
        spec: PathBuf::new(),
        secret_file,
        secret,
        state,
        argv,
        deny_write_execute,
        apply_stdout: String::new(),
    }
}

/// What the unit asks of the kernel for its process, as far as a process
/// can ask it for itself: umask 0077, and with `MemoryDenyWriteExecute=yes`
/// the same restriction through `prctl(PR_SET_MDWE,
/// PR_MDWE_REFUSE_EXEC_GAIN)` (Linux 6.3+; kept across `execve`). Then
/// `execv` of the command line.
const UNIT_WRAPPER: &str = "import ctypes, os, sys
if sys.argv[1] == 'yes':
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(65, 1, 0, 0, 0) != 0:
        sys.exit('PR_SET_MDWE: errno %d' % ctypes.get_errno())
os.umask(0o077)
os.execv(sys.argv[2], sys.argv[2:])
";

/// Synapse running in a namespace of the test; killed when dropped.
pub(crate) struct Synapse(std::process::Child);

impl Drop for Synapse {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Synapse from `staged` on `host` as the unit would
/// ([`UNIT_WRAPPER`]), its output appended to `log`, without waiting.
pub(crate) fn spawn(host: &Host, staged: &Staged, log: &Path) -> Synapse {
    let python = installed("synapse", "python");
    let mdwe = if staged.deny_write_execute {
        "yes"
    } else {
        "no"
    };
    let file = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let child = host
        .command(&python)
        .args(["-c", UNIT_WRAPPER, mdwe])
        .args(&staged.argv)
        .stdin(std::process::Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("starting Synapse: {e}"));
    Synapse(child)
}

/// Starts Synapse from `staged` on `host` as the unit would
/// ([`UNIT_WRAPPER`]) and waits for the unit's health check to pass.
fn start(host: &Host, staged: &Staged, log: &Path) -> Synapse {
    let synapse = spawn(host, staged, log);
    wait_until_up(host, log);
    synapse
}

/// Waits until Synapse answers the unit's health check on `host`'s
/// loopback (its log `log` in the failure message).
pub(crate) fn wait_until_up(host: &Host, log: &Path) {
    let versions = format!("http://127.0.0.1:{PORT}/_matrix/client/versions");
    let started = Instant::now();
    loop {
        let (status, body) = request(host, "GET", &versions, None, None);
        if status == 200 {
            assert!(body["versions"].as_array().is_some_and(|v| !v.is_empty()));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "Synapse did not answer {versions}:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("Synapse answered after {:?}", started.elapsed());
}

/// Registers `user` (password `USER-password-0123`) through the
/// shared-secret registration API with Synapse's own client.
pub(crate) fn register(host: &Host, staged: &Staged, user: &str) {
    let register = installed("synapse", "register_new_matrix_user");
    let out = host.run(
        &register,
        &[
            "--user",
            user,
            "--password",
            &format!("{user}-password-0123"),
            "--no-admin",
            "-k",
            staged.secret.trim(),
            &format!("http://127.0.0.1:{PORT}"),
        ],
    );
    assert!(out.status.success(), "registering {user}: {}", show(&out));
}

#[test]
fn synapse_runs_from_the_applied_config_closed_unfederated_and_on_its_addresses_only() {
    let dir = tempfile::tempdir().unwrap();
    let staged = stage(dir.path(), spec(dir.path(), ""));
    let Staged {
        root,
        spec,
        secret_file,
        secret,
        state,
        ..
    } = &staged;
    let stdout = &staged.apply_stdout;
    assert!(
        stdout.contains("+ service chat:homeserver (systemd privai-homeserver.service)")
            && stdout.contains("GET http://127.0.0.1:8008/_matrix/client/versions"),
        "{stdout}"
    );

    // The host: its own namespace, the tailnet address on loopback.
    let mut net = Net::new();
    let host = net.add_host(HOST);
    let other = net.add_host("laptop");
    let out = host.run(
        "ip",
        &["addr", "add", &format!("{TAILNET_IP}/32"), "dev", "lo"],
    );
    assert!(out.status.success(), "{}", show(&out));
    let _synapse = start(&host, &staged, &dir.path().join("synapse.log"));

    // The signing key Synapse made on its first start: Synapse's format,
    // 0600 under the unit's umask.
    let key_file = state.join("signing.key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    let words: Vec<&str> = key.split_whitespace().collect();
    assert_eq!(words.len(), 3, "{key}");
    assert_eq!(words[0], "ed25519");
    assert!(words[1].starts_with("a_"), "{key}");
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Accounts through the shared-secret registration API.
    for user in ["user1", "ai"] {
        register(&host, &staged, user);
    }

    // Registration is closed to everyone else.
    let (status, body) = request(
        &host,
        "POST",
        &client("register"),
        None,
        Some(
            json!({"username": "intruder", "password": "intruder-password-0123",
                    "auth": {"type": "m.login.dummy"}}),
        ),
    );
    assert_eq!(
        (status, &body["errcode"]),
        (403, &json!("M_FORBIDDEN")),
        "{body}"
    );

    // user1 logs in, opens a direct chat with the AI and writes to it.
    let login = |user: &str| {
        let (status, body) = request(
            &host,
            "POST",
            &client("login"),
            None,
            Some(json!({"type": "m.login.password",
                        "identifier": {"type": "m.id.user", "user": user},
                        "password": format!("{user}-password-0123")})),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user_id"], json!(format!("@{user}:{SERVER_NAME}")));
        body["access_token"].as_str().unwrap().to_owned()
    };
    let user1 = login("user1");
    let ai_id = format!("@ai:{SERVER_NAME}");
    let (status, body) = request(
        &host,
        "POST",
        &client("createRoom"),
        Some(&user1),
        Some(json!({"is_direct": true, "preset": "trusted_private_chat", "invite": [ai_id]})),
    );
    assert_eq!(status, 200, "{body}");
    let room = body["room_id"].as_str().unwrap().to_owned();
    let text = "Hello from user1, on the tailnet only.";
    let (status, body) = request(
        &host,
        "PUT",
        &client(&format!("rooms/{}/send/m.room.message/txn1", encode(&room))),
        Some(&user1),
        Some(json!({"msgtype": "m.text", "body": text})),
    );
    assert_eq!(status, 200, "{body}");

    // The AI account has the invitation, joins and reads the message.
    let ai = login("ai");
    let (status, body) = request(&host, "GET", &client("sync"), Some(&ai), None);
    assert_eq!(status, 200, "{body}");
    assert!(
        body["rooms"]["invite"].get(&room).is_some(),
        "the AI is invited to the direct chat: {body}"
    );
    let (status, body) = request(
        &host,
        "POST",
        &client(&format!("join/{}", encode(&room))),
        Some(&ai),
        Some(json!({})),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = request(
        &host,
        "GET",
        &client(&format!("rooms/{}/messages?dir=b&limit=50", encode(&room))),
        Some(&ai),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let said: Vec<(&str, &str)> = body["chunk"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "m.room.message")
        .map(|e| {
            (
                e["sender"].as_str().unwrap(),
                e["content"]["body"].as_str().unwrap(),
            )
        })
        .collect();
    let user1_id = format!("@user1:{SERVER_NAME}");
    assert_eq!(said, [(user1_id.as_str(), text)]);

    // No federation: neither the federation API nor the key server.
    for path in ["/_matrix/federation/v1/version", "/_matrix/key/v2/server"] {
        let url = format!("http://127.0.0.1:{PORT}{path}");
        let (status, body) = request(&host, "GET", &url, None, None);
        assert_eq!(status, 404, "{path}: {body}");
    }

    // Only where the config says: loopback and the tailnet address, not
    // the host's other address, from the host itself or another machine.
    let wait = Duration::from_secs(3);
    let tailnet = SocketAddr::from((TAILNET_IP, PORT));
    assert!(host.connects(SocketAddr::from((Ipv4Addr::LOCALHOST, PORT)), wait));
    assert!(host.connects(tailnet, wait));
    let (status, _) = request(
        &host,
        "GET",
        &format!("http://{tailnet}/_matrix/client/versions"),
        None,
        None,
    );
    assert_eq!(status, 200);
    let lan = SocketAddr::from((host.ip, PORT));
    assert!(!host.connects(lan, wait), "Synapse answers on {lan}");
    assert!(
        !other.connects(lan, wait),
        "Synapse answers on {lan} from another machine"
    );
    // The other machine does reach the host there (so the refusal above is
    // Synapse's binding, not a broken network).
    host.listen_at(host.ip, PORT + 1);
    assert!(other.connects(SocketAddr::from((host.ip, PORT + 1)), wait));

    // Applying again, with Synapse running on its state, changes nothing:
    // not the config, not the registration secret Synapse and the accounts
    // depend on.
    let again = privai(
        [
            "apply".as_ref(),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--auto-approve".as_ref(),
        ],
        &[],
    );
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("No changes."),
        "{}",
        show(&again)
    );
    assert_eq!(&std::fs::read_to_string(secret_file).unwrap(), secret);
}

/// PostgreSQL's program `name` (Debian's `postgresql` package); fails,
/// never skips, when it is missing.
fn postgres(name: &str) -> PathBuf {
    std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|d| d.path().join("bin").join(name))
        .filter(|p| p.exists())
        .max()
        .unwrap_or_else(|| {
            panic!("PostgreSQL's {name} is not installed: apt-get install -y postgresql")
        })
}

/// Runs `program ARGS` as `nobody` (PostgreSQL refuses root), with
/// `PGPASSWORD`.
fn as_nobody(program: &Path, args: &[&str], password: &str) {
    let out = std::process::Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(program)
        .args(args)
        .env("PGPASSWORD", password)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        show(&out)
    );
}

/// A PostgreSQL server of the test, listening only on a Unix socket;
/// stopped on drop.
struct Postgres {
    data: PathBuf,
}

impl Postgres {
    /// Makes a cluster in `dir/postgres/data` whose superuser `synapse` has
    /// `password` (scram-sha-256, C locale, UTF-8: what Synapse requires),
    /// starts it with its socket in `socket_dir`, and creates the database
    /// `synapse`.
    fn start(dir: &Path, socket_dir: &Path, password: &str) -> Self {
        let nobody = |path: &Path| {
            let out = std::process::Command::new("chown")
                .args(["-R", "nobody:nogroup"])
                .arg(path)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", show(&out));
        };
        let base = dir.join("postgres");
        let data = base.join("data");
        let pwfile = base.join("password");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(&pwfile, password).unwrap();
        std::fs::create_dir_all(socket_dir).unwrap();
        for path in [&base, &socket_dir.to_path_buf()] {
            nobody(path);
        }
        let (data_arg, pwfile_arg) = (data.display().to_string(), pwfile.display().to_string());
        as_nobody(
            &postgres("initdb"),
            &[
                "-D",
                &data_arg,
                "-U",
                "synapse",
                "--auth=scram-sha-256",
                &format!("--pwfile={pwfile_arg}"),
                "--locale=C",
                "--encoding=UTF8",
            ],
            password,
        );
        let socket = socket_dir.display().to_string();
        let log = base.join("log").display().to_string();
        as_nobody(
            &postgres("pg_ctl"),
            &[
                "-D",
                &data_arg,
                "-o",
                &format!("-c listen_addresses='' -k {socket}"),
                "-l",
                &log,
                "-w",
                "start",
            ],
            password,
        );
        let server = Self { data };
        as_nobody(
            &postgres("createdb"),
            &["-h", &socket, "-U", "synapse", "synapse"],
            password,
        );
        server
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = std::process::Command::new("runuser")
            .args(["-u", "nobody", "--"])
            .arg(postgres("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

#[test]
fn synapse_keeps_its_data_in_postgresql_with_the_password_file_the_spec_names() {
    let dir = tempfile::tempdir().unwrap();
    // PostgreSQL runs as nobody: it must reach its socket under the tree.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let staged = stage(
        dir.path(),
        spec(
            dir.path(),
            "homeserver.tailnet = false, homeserver.database = { kind = 'postgres, host = \"/run/postgresql\", password_file = \"/etc/privai/secrets/synapse.pgpass\" }",
        ),
    );
    for path in [
        staged.root.as_path(),
        staged.tree.as_path(),
        &staged.tree.join("run"),
    ] {
        std::fs::create_dir_all(path).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // The server the spec names, at the socket directory it names (moved
    // under the tree like every path), and the operator's password file.
    let password = "pg-password-0123456789";
    let socket_dir = staged.tree.join("run/postgresql");
    let _server = Postgres::start(dir.path(), &socket_dir, password);
    let pgpass = staged.tree.join("etc/privai/secrets/synapse.pgpass");
    std::fs::write(&pgpass, format!("*:*:synapse:synapse:{password}\n")).unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();

    let mut net = Net::new();
    let host = net.add_host(HOST);
    let _synapse = start(&host, &staged, &dir.path().join("synapse.log"));
    register(&host, &staged, "user1");

    // The account is a row of PostgreSQL's `users`, and no sqlite file was
    // made.
    let out = std::process::Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(postgres("psql"))
        .args([
            "-h",
            &socket_dir.display().to_string(),
            "-U",
            "synapse",
            "-Atc",
        ])
        .arg("select name from users")
        .arg("synapse")
        .env("PGPASSWORD", password)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("@user1:{SERVER_NAME}")
    );
    assert!(!staged.state.join("homeserver.db").exists());
}
