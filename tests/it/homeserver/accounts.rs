//! Issue 18's Matrix accounts, made by `privai apply` against the real
//! Synapse (started from privai's staged config and the unit's command
//! line, as [`super`] does): privai's admin account, the AI's and one per
//! spec user, registered with the shared secret; the stored passwords sign
//! in and the AI's token in the gateway's secret file is the AI's; a
//! second apply changes nothing; a user dropped from the spec is
//! deactivated and Synapse refuses their login. privai runs in the host's
//! namespace with services recorded (they are not started again: Synapse
//! runs already), Ollama a stand-in there.

use super::{HOST, PORT, SERVER_NAME, Staged, Synapse, TAILNET_IP, client, request, stage, start};
use crate::standin::ollama::{Config, Model, Standin};
use crate::tailnet::net::{Host, Net};
use crate::tools::show;
use privai::api::synapse::{Client, Error};
use privai::secret::Secret;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The accounts fixture, with Synapse's environment, and `extra` Nickel.
pub(super) fn spec(dir: &Path, name: &str, extra: &str) -> PathBuf {
    super::fixture_spec(dir, "accounts.ncl", name, extra)
}

/// `privai ARGS` in `host`'s namespace, services recorded.
pub(super) fn privai_on(host: &Host, dir: &Path, args: &[&std::ffi::OsStr]) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("privai");
    host.command(bin)
        .args(args)
        .env("PRIVAI_TEST_SERVICES", dir.join("services.log"))
        .env_remove("PRIVAI_TEST_FAILPOINT")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

pub(super) fn apply_on(host: &Host, dir: &Path, staged: &Staged, spec: &Path) -> Output {
    privai_on(
        host,
        dir,
        &[
            "apply".as_ref(),
            spec.as_os_str(),
            "--root".as_ref(),
            staged.root.as_os_str(),
            "--auto-approve".as_ref(),
        ],
    )
}

/// Answers 200 to everything on 127.0.0.1:`port` of `host`: the health
/// endpoints of the services a changed spec restarts (Headscale's and the
/// gateway's; their commands are only recorded here).
pub(super) fn healthy(host: &Host, port: u16) {
    use std::io::{Read, Write};
    let listener = host.enter(|| std::net::TcpListener::bind(("127.0.0.1", port)).unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            );
        }
    });
}

/// The homeserver's host: its own namespace, the tailnet address on loopback.
pub(super) fn chat_host(net: &mut Net) -> Host {
    let host = net.add_host(HOST);
    let out = host.run(
        "ip",
        &["addr", "add", &format!("{TAILNET_IP}/32"), "dev", "lo"],
    );
    assert!(out.status.success(), "{}", show(&out));
    host
}

/// A running homeserver for a test: Synapse started from the staged
/// install in the chat host's namespace, beside a stand-in Ollama and the
/// health endpoints of the services a changed spec restarts.
pub(super) struct Running {
    /// Synapse; killed when dropped.
    pub(super) synapse: Synapse,
    /// The chat host.
    pub(super) host: Host,
    _net: Net,
}

/// Starts [`Running`] for `staged`, Synapse's output in `dir`.
pub(super) fn running(dir: &Path, staged: &Staged) -> Running {
    let mut net = Net::new();
    let host = chat_host(&mut net);
    let synapse = start(&host, staged, &dir.join("synapse.log"));
    // Never dropped: stopping it from outside the namespace would wait on
    // a listener it cannot reach.
    let _ollama = std::mem::ManuallyDrop::new(host.enter(|| {
        Standin::start(Config {
            port: 11434,
            registry: vec![Model::new("llama3.2:3b", 1000)],
            local: vec!["llama3.2:3b".into()],
            ..Config::default()
        })
    }));
    healthy(&host, 8080);
    healthy(&host, 18789);
    Running {
        synapse,
        host,
        _net: net,
    }
}

/// The records privai keeps: local part → (status, password).
pub(super) fn records(staged: &Staged) -> serde_json::Map<String, Value> {
    let path = staged.root.join(".privai/matrix.json");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    value["accounts"].as_object().unwrap().clone()
}

/// Logs `user` in with `password`: (status, body).
pub(super) fn login(host: &Host, user: &str, password: &str) -> (u16, Value) {
    request(
        host,
        "POST",
        &client("login"),
        None,
        Some(json!({"type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": user},
                    "password": password})),
    )
}

#[test]
fn privai_apply_makes_the_accounts_keeps_them_and_deactivates_a_user_who_left_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let both = spec(dir.path(), "spec.ncl", "");
    let staged = stage(dir.path(), both.clone());
    // Staged, Synapse not asked: no account yet.
    assert!(
        !staged.apply_stdout.contains("matrix account"),
        "{}",
        staged.apply_stdout
    );
    assert!(!staged.root.join(".privai/matrix.json").exists());

    let running = running(dir.path(), &staged);
    let host = &running.host;

    // The first apply with Synapse running makes every account.
    let out = apply_on(host, dir.path(), &staged, &both);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for user in ["privai-admin", "ai", "user1", "user2"] {
        assert!(
            text.contains(&format!(
                "+ matrix account chat:@{user}:{SERVER_NAME}: done"
            )),
            "{user}: {text}"
        );
    }
    let recorded = records(&staged);
    let password = |user: &str| recorded[user]["password"].as_str().unwrap().to_owned();
    // Nothing secret on the terminal, in the journal or the generations.
    let state = staged.root.join(".privai");
    for user in ["privai-admin", "ai", "user1", "user2"] {
        assert!(!text.contains(&password(user)));
        assert!(!String::from_utf8_lossy(&out.stderr).contains(&password(user)));
        let found = std::process::Command::new("grep")
            .args(["-rlF", &password(user)])
            .arg(&state)
            .output()
            .unwrap();
        let files = String::from_utf8_lossy(&found.stdout).into_owned();
        assert_eq!(
            files.trim(),
            state.join("matrix.json").display().to_string()
        );
    }

    // The stored passwords sign in; the AI's token file is the AI's.
    for user in ["user1", "user2", "ai"] {
        let (status, body) = login(host, user, &password(user));
        assert_eq!(status, 200, "{user}: {body}");
        assert_eq!(body["user_id"], json!(format!("@{user}:{SERVER_NAME}")));
    }
    let token_file = staged.tree.join("etc/privai/secrets/matrix-token");
    assert_eq!(
        std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let token = std::fs::read_to_string(&token_file).unwrap();
    let (status, body) = request(host, "GET", &client("account/whoami"), Some(&token), None);
    assert_eq!(
        (status, &body["user_id"]),
        (200, &json!(format!("@ai:{SERVER_NAME}"))),
        "{body}"
    );
    // The gateway's compose file mounts that file as the channel's secret.
    let compose =
        std::fs::read_to_string(staged.tree.join("etc/privai/openclaw/compose.yaml")).unwrap();
    assert!(
        compose.contains("file: /etc/privai/secrets/matrix-token"),
        "{compose}"
    );

    // Only `privai enroll DEVICE --show-password` prints a password.
    let enroll = |extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "enroll".as_ref(),
            "phone".as_ref(),
            both.as_os_str(),
            "--root".as_ref(),
            staged.root.as_os_str(),
        ];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        crate::apply::privai(args, &[])
    };
    let shown = enroll(&["--show-password"]);
    assert_eq!(shown.status.code(), Some(0), "{}", show(&shown));
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout),
        format!("{}\n", password("user1"))
    );
    let told = enroll(&[]);
    let told_text = String::from_utf8_lossy(&told.stdout).into_owned();
    assert!(
        told_text.contains(&format!("Matrix ID:   @user1:{SERVER_NAME}")),
        "{told_text}"
    );
    for user in ["privai-admin", "ai", "user1", "user2"] {
        assert!(!told_text.contains(&password(user)));
    }

    // Again: nothing to do.
    let again = apply_on(host, dir.path(), &staged, &both);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("No changes."),
        "{}",
        show(&again)
    );

    // user2 leaves the spec: planned, then deactivated; Synapse refuses them.
    let user2_password = password("user2");
    let one = spec(
        dir.path(),
        "one.ncl",
        r#"users | force = [{ name = "user1" }],"#,
    );
    let plan = privai_on(
        host,
        dir.path(),
        &[
            "plan".as_ref(),
            one.as_os_str(),
            "--root".as_ref(),
            staged.root.as_os_str(),
        ],
    );
    let plan_text = String::from_utf8_lossy(&plan.stdout).into_owned();
    assert!(
        plan_text.contains(&format!(
            "- matrix account chat:@user2:{SERVER_NAME} (its user left the spec"
        )),
        "{}",
        show(&plan)
    );
    let out = apply_on(host, dir.path(), &staged, &one);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("- matrix account chat:@user2:{SERVER_NAME}: done")),
        "{}",
        show(&out)
    );
    // Synapse refuses the login (deactivation removed the password) and
    // lists the account as deactivated.
    let (status, body) = login(host, "user2", &user2_password);
    assert_eq!(
        (status, &body["errcode"]),
        (403, &json!("M_FORBIDDEN")),
        "{body}"
    );
    let admin = records(&staged)["privai-admin"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = request(
        host,
        "GET",
        &format!("http://127.0.0.1:{PORT}/_synapse/admin/v2/users/%40user2%3A{SERVER_NAME}"),
        Some(&admin),
        None,
    );
    assert_eq!(
        (status, &body["deactivated"]),
        (200, &json!(true)),
        "{body}"
    );
    let (status, body) = login(host, "user1", &password("user1"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(records(&staged)["user2"]["status"], json!("deactivated"));
}

#[test]
fn synapse_refusals_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let staged = stage(dir.path(), super::spec(dir.path(), ""));
    let mut net = Net::new();
    let host = chat_host(&mut net);
    let _synapse = start(&host, &staged, &dir.path().join("synapse.log"));
    let secret = Secret::new(staged.secret.trim());
    let password = Secret::new("user1-password-0123");
    let url = format!("http://127.0.0.1:{PORT}");
    host.enter(move || {
        let synapse = Client::new(&url).unwrap();
        // A wrong shared secret: 403, the MAC refused.
        let wrong = synapse.register(&Secret::new("not-the-secret"), "user1", &password, false);
        assert!(matches!(wrong, Err(Error::MacRejected { .. })), "{wrong:?}");
        // The right one registers; a second time the ID is taken.
        let user1 = synapse
            .register(&secret, "user1", &password, false)
            .unwrap();
        assert_eq!(user1.user_id, format!("@user1:{SERVER_NAME}"));
        let again = synapse.register(&secret, "user1", &password, false);
        assert!(matches!(again, Err(Error::UserInUse { .. })), "{again:?}");
        // A wrong password; an admin call with a user's token.
        let bad = synapse.login("user1", &Secret::new("wrong-password-0123"));
        assert!(matches!(bad, Err(Error::WrongPassword { .. })), "{bad:?}");
        let not_admin = synapse.users(&user1.access_token);
        assert!(
            matches!(not_admin, Err(Error::NotAdmin { .. })),
            "{not_admin:?}"
        );
        // An admin lists and deactivates; an unknown token is refused.
        let admin = synapse
            .register(&secret, "admin", &Secret::new("admin-password-0123"), true)
            .unwrap();
        let users = synapse.users(&admin.access_token).unwrap();
        assert!(
            users
                .iter()
                .any(|u| u.user_id == user1.user_id && !u.deactivated)
        );
        assert!(users.iter().any(|u| u.user_id == admin.user_id && u.admin));
        synapse
            .deactivate(&admin.access_token, &user1.user_id)
            .unwrap();
        // Deactivation removed the password: refused as a wrong one.
        let gone = synapse.login("user1", &password);
        assert!(matches!(gone, Err(Error::WrongPassword { .. })), "{gone:?}");
        let unknown = synapse.whoami(&user1.access_token);
        assert!(
            matches!(unknown, Err(Error::UnknownToken { .. })),
            "{unknown:?}"
        );
        assert!(
            synapse
                .user(&admin.access_token, &user1.user_id)
                .unwrap()
                .deactivated
        );
    });
}
