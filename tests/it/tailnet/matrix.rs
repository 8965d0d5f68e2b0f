//! Issue 18's end-to-end proof: a direct message to the AI on the private
//! Matrix homeserver, answered by the model, all real, over the tailnet.
//!
//! The server's namespace (`openclaw-server`) runs the real Headscale, its
//! tailscaled, the real Ollama (tiny models of [`crate::ai_path`]), the real
//! Synapse (1.163.2) started from the `homeserver.yaml` and the unit command
//! line `privai apply` installed, and the real OpenClaw (2026.9.6) with its
//! real Matrix plugin (`@openclaw/matrix` 2026.9.6, baked into the image of
//! `tests/tools/gateway-image.sh`) in the hardened container `privai apply`
//! starts with podman. The test's own Matrix client talks the client-server
//! API from the laptop's namespace, to the homeserver at the server's
//! tailnet address, through the laptop's real TUN. Each step prints a
//! `step:` line:
//!
//! 1. tailnet up: Headscale from the files privai rendered, the server
//!    joined at its `tailnet_ip`;
//! 2. apply: the test plays systemd for `privai-homeserver.service` (the
//!    start apply records), so apply's own health checks pass against the
//!    real Synapse and then the real gateway;
//! 3. accounts: apply made them itself (privai's admin, the AI and one per
//!    spec user) and wrote the AI's access token where the gateway reads
//!    it (owned by the container's user) before it started the gateway; a
//!    second apply changes nothing;
//! 4. devices joined with `privai enroll`'s command and key;
//! 5. the DM: `user1`, signed in from the laptop over the tailnet with the
//!    password `privai enroll laptop --show-password` prints, opens a
//!    direct chat with the AI; the gateway joins it and its answer comes
//!    back as an event of the AI account in that room, produced by the
//!    primary model (Ollama's log shows a chat, `/api/ps` shows the
//!    primary ran, and only it);
//! 6. `user2`, who has an account but is not in `dm.allowFrom`, opens a
//!    direct chat the AI joins, writes to it and gets no answer within a
//!    bounded wait; Ollama saw no chat for it;
//! 7. denied: `privai acl --json` says the guest's phone may not reach the
//!    homeserver's port, and its connection fails.
//!
//! The gateway's compose file mounts the AI's token from
//! `/etc/privai/secrets/matrix-token`, which apply (with `--root`) wrote
//! under the root: podman runs in a mount namespace of the test
//! ([`EtcOverlay`]) whose `/etc/privai` is the root's.
//!
//! Needs root (namespaces, tailscaled's TUN), podman, and the tools of
//! `tests/tools/install-{headscale,tailscale,ollama,gguf,openclaw,openclaw-matrix,synapse}.sh`.
//! Holds [`crate::podman_lock`].

use super::ai::{GUEST, SERVER, TRUSTED, acl_allows, ai_server, denied, server_spec};
use super::{Tailnet, proof};
use crate::ai_path::{self, PRIMARY};
use crate::homeserver::{self as hs, encode, request};
use crate::tailnet::net::Host;
use crate::tools::{show, tools_root};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The homeserver's port (the module's default).
const HS_PORT: u16 = 8008;
/// The Matrix server name: the server's MagicDNS name (the default).
const MATRIX_NAME: &str = "openclaw-server.tailnet.home.arpa";
/// How long the AI is given to answer `user1` (the tiny model answers in
/// about 20 s; the gateway loads its Matrix channel first).
const ANSWER_WITHIN: Duration = Duration::from_secs(300);
/// How long a stranger waits, at least, for the answer that must not come.
const STRANGER_WAITS: Duration = Duration::from_secs(45);
/// The gateway's token, which apply generates (see [`spec`]).
const GATEWAY_TOKEN: &str = "/etc/privai/secrets/openclaw-gateway-token";
/// The AI account's local part (the module's default).
const AI_USER: &str = "ai";
/// A spec user with an account on the homeserver, not in `dm.allowFrom`,
/// and their device (never joined: only their password is asked of it).
const STRANGER: &str = "user2";
const STRANGERS_DEVICE: &str = "tablet";

/// The tailnet of `tailnet::ai` with the private homeserver on the server,
/// the only rule letting `group:trusted` (`user1`'s laptop) reach its port,
/// and the gateway's Matrix channel: direct messages from `user1` only, no
/// `token` (privai makes the AI's account and hands the gateway its token).
/// The gateway's own token is privai's too: a `file:` that does not exist,
/// under `/etc/privai/secrets`, which apply generates (under `--root`,
/// seen there through [`EtcOverlay`]) and gives to the container's user.
fn spec((image, folders, _): (&str, &str, &Path)) -> String {
    server_spec(
        "'headscale, 'ollama, 'openclaw, 'homeserver",
        &format!(
            r#"  homeserver = {{ venv = "{venv}" }},
  users = [{{ name = "user1" }}, {{ name = "{STRANGER}" }}, {{ name = "guest" }}],
  groups.trusted = ["user1", "{STRANGER}"],
  devices = [
    {{ name = "{TRUSTED}", user = "user1", kind = 'laptop, os = 'linux }},
    {{ name = "{STRANGERS_DEVICE}", user = "{STRANGER}", kind = 'tablet, os = 'android }},
    {{ name = "{GUEST}", user = "guest", kind = 'phone, os = 'android }},
  ],
  acl.rules = [
    {{ src = ["group:trusted"], dst = ["{SERVER}:{HS_PORT}"], proto = 'tcp, comment = "Trusted people reach the homeserver." }},
  ],"#,
            venv = tools_root().join("synapse").display(),
        ),
        (image, folders, Path::new(GATEWAY_TOKEN)),
        r#"channels.matrix = {
      enabled = true,
      dm_policy = 'allowlist,
      allow_from = ["user1"],
      group_policy = 'disabled,
    },"#,
    )
}

/// A mount namespace for podman whose `/etc` is the machine's with
/// `/etc/privai` the install root's (an overlay, in that namespace only),
/// so that the host paths of the gateway's compose file (its secrets under
/// `/etc/privai/secrets`) are those apply wrote under `--root`. Held by a
/// `sleep` in it; the namespace goes when that is killed (on drop), and
/// with it the overlay.
struct EtcOverlay {
    holder: std::process::Child,
    _dir: tempfile::TempDir,
}

impl EtcOverlay {
    fn new(installed: &Path) -> Self {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let (upper, work) = (dir.path().join("upper"), dir.path().join("work"));
        std::fs::create_dir_all(&upper).unwrap();
        std::fs::create_dir_all(&work).unwrap();
        let privai = installed.join("etc/privai");
        std::fs::create_dir_all(&privai).unwrap();
        std::os::unix::fs::symlink(&privai, upper.join("privai")).unwrap();
        let mut holder = std::process::Command::new("unshare")
            .args(["--mount", "--propagation", "slave", "sh", "-euc"])
            .arg(
                "mount -t overlay privai-etc -o \"lowerdir=/etc,upperdir=$1,workdir=$2\" /etc; \
                 echo ready; exec sleep infinity",
            )
            .args(["sh".as_ref(), upper.as_os_str(), work.as_os_str()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("unshare runs (util-linux)");
        let mut line = String::new();
        std::io::BufReader::new(holder.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the overlay of /etc was not mounted");
        Self { holder, _dir: dir }
    }

    /// The namespace, for `nsenter --mount=`.
    fn mount_ns(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/ns/mnt", self.holder.id()))
    }
}

impl Drop for EtcOverlay {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// The password of `device`'s user's Matrix account, as `privai enroll
/// DEVICE --show-password` prints it on the server.
fn password_of(tailnet: &Tailnet, device: &str) -> String {
    let root = tailnet.root();
    let out = super::privai_on(
        &tailnet.server,
        &[
            "enroll".as_ref(),
            device.as_ref(),
            tailnet.spec.as_os_str(),
            "--show-password".as_ref(),
            "--root".as_ref(),
            root.as_os_str(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Plays systemd for `privai-homeserver.service` while `privai apply`
/// runs: once apply has recorded the unit's start in `services_log`,
/// starts Synapse from the files apply installed under `tree` as the unit
/// says ([`hs::prepare`], [`hs::spawn`]), so that apply's own health check
/// (`GET 127.0.0.1:8008/_matrix/client/versions`) meets the real Synapse.
/// Gives up when `applied` is set first.
fn systemd_for_the_homeserver(
    server: &Host,
    services_log: &Path,
    tree: &Path,
    dir: &Path,
    applied: &AtomicBool,
) -> Option<(hs::Staged, hs::Synapse)> {
    loop {
        let log = std::fs::read_to_string(services_log).unwrap_or_default();
        // One JSON array per recorded command line.
        let start = ["systemctl", "start", "privai-homeserver.service"];
        if log
            .lines()
            .any(|l| serde_json::from_str::<Vec<String>>(l).is_ok_and(|argv| argv == start))
        {
            break;
        }
        if applied.load(Ordering::SeqCst) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let staged = hs::prepare(dir, tree);
    let synapse = hs::spawn(server, &staged, &dir.join("synapse.log"));
    Some((staged, synapse))
}

/// The test's Matrix client: one account, logged in, talking the
/// client-server API from `host`'s namespace to `base`
/// (`http://ADDRESS:PORT`).
struct Client<'a> {
    host: &'a Host,
    base: String,
    token: String,
    user_id: String,
}

impl<'a> Client<'a> {
    /// Logs `user` in with `password`.
    fn login(host: &'a Host, base: &str, user: &str, password: &str) -> Self {
        let (status, body) = request(
            host,
            "POST",
            &format!("{base}/_matrix/client/v3/login"),
            None,
            Some(json!({"type": "m.login.password",
                        "identifier": {"type": "m.id.user", "user": user},
                        "password": password})),
        );
        assert_eq!(status, 200, "{user}'s login at {base}: {body}");
        Self {
            host,
            base: base.to_owned(),
            token: body["access_token"].as_str().unwrap().to_owned(),
            user_id: body["user_id"].as_str().unwrap().to_owned(),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/_matrix/client/v3/{path}", self.base);
        let (status, answer) = request(self.host, method, &url, Some(&self.token), body);
        assert_eq!(status, 200, "{method} {url}: {answer}");
        answer
    }

    /// Opens a direct chat with `user` (invited), as Matrix apps do.
    fn open_dm(&self, user: &str) -> String {
        let room = self.call(
            "POST",
            "createRoom",
            Some(json!({"is_direct": true, "preset": "trusted_private_chat", "invite": [user]})),
        );
        let room = room["room_id"].as_str().unwrap().to_owned();
        self.call(
            "PUT",
            &format!("user/{}/account_data/m.direct", encode(&self.user_id)),
            Some(json!({ user: [room] })),
        );
        room
    }

    /// The room's members who joined.
    fn joined(&self, room: &str) -> Vec<String> {
        let members = self.call(
            "GET",
            &format!("rooms/{}/joined_members", encode(room)),
            None,
        );
        members["joined"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Sends the text `body` to `room`.
    fn say(&self, room: &str, txn: &str, body: &str) {
        self.call(
            "PUT",
            &format!("rooms/{}/send/m.room.message/{txn}", encode(room)),
            Some(json!({"msgtype": "m.text", "body": body})),
        );
    }

    /// The room's text messages, oldest first: (sender, body).
    fn messages(&self, room: &str) -> Vec<(String, String)> {
        let page = self.call(
            "GET",
            &format!("rooms/{}/messages?dir=b&limit=100", encode(room)),
            None,
        );
        let mut said: Vec<(String, String)> = page["chunk"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "m.room.message")
            .map(|e| {
                (
                    e["sender"].as_str().unwrap_or_default().to_owned(),
                    e["content"]["body"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        said.reverse();
        said
    }
}

/// Waits up to `within` for `check` to give something, polling each
/// half second.
fn wait_for<T>(within: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        if started.elapsed() > within {
            return None;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn user1_writes_to_the_ai_on_the_private_homeserver_over_the_tailnet_and_the_model_answers_while_a_stranger_gets_no_answer_and_a_denied_device_cannot_connect()
 {
    let _podman = crate::podman_lock();
    let podman = crate::tools::podman();
    let started = Instant::now();
    let step = |what: String| {
        println!("step: {what} [{:.1} s]", started.elapsed().as_secs_f64());
    };
    // 1. The tailnet: Headscale on the server, which joins first; podman
    // in a mount namespace whose /etc/privai is the install root's.
    let mut etc = None;
    let (mut tailnet, server) = ai_server(&podman, spec, |installed| {
        let overlay = EtcOverlay::new(installed);
        let ns = overlay.mount_ns();
        etc = Some(overlay);
        Some(ns)
    });
    let installed = tailnet.root().join(SERVER);
    let server_ip = tailnet.nodes[SERVER].address();
    step(format!(
        "tailnet up: the real Headscale, {SERVER} joined at {server_ip}"
    ));

    // 2. Apply, the test playing systemd for the homeserver's unit.
    let spec = tailnet.spec.clone();
    let synapse_dir = tempfile::tempdir().unwrap();
    let services_log = tailnet.dir.path().join("services.log");
    let applied = AtomicBool::new(false);
    let host = tailnet.server.clone();
    let (apply, synapse) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            systemd_for_the_homeserver(
                &host,
                &services_log,
                &installed,
                synapse_dir.path(),
                &applied,
            )
        });
        let apply = tailnet.privai(
            "apply",
            &spec,
            &["--auto-approve", "--health-timeout", "240"],
        );
        applied.store(true, Ordering::SeqCst);
        (apply, watcher.join().unwrap())
    });
    let synapse_log = synapse_dir.path().join("synapse.log");
    let Some((_staged, _synapse)) = synapse else {
        panic!(
            "apply did not start privai-homeserver.service:\n{}",
            show(&apply)
        )
    };
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}\n{}\n--- synapse\n{}",
        show(&apply),
        server.logs(),
        std::fs::read_to_string(&synapse_log).unwrap_or_default()
    );
    let text = String::from_utf8_lossy(&apply.stdout).into_owned();
    let ai_id = format!("@{AI_USER}:{MATRIX_NAME}");
    let mut done: Vec<String> = ["privai-admin", AI_USER, "user1", STRANGER, "guest"]
        .iter()
        .map(|user| format!("  + matrix account {SERVER}:@{user}:{MATRIX_NAME}: done"))
        .collect();
    done.push(format!("  + service {SERVER}:homeserver: done"));
    done.push(format!("  + service {SERVER}:gateway: done"));
    for done in &done {
        assert!(text.contains(done), "{done:?} not in:\n{text}");
    }
    // The accounts were made before the gateway started.
    let made = text.find(&done[1]).unwrap();
    assert!(made < text.find(&done[6]).unwrap(), "{text}");
    step(
        "apply: the real Synapse (started from the config and unit it installed) healthy, \
         the Matrix accounts made, then the real gateway with the Matrix plugin healthy"
            .to_owned(),
    );

    // 3. The AI's token, where the gateway reads it, is the AI's; a second
    // apply changes nothing.
    let token_file = installed.join("etc/privai/secrets/matrix-token");
    let meta = std::fs::metadata(&token_file).unwrap();
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            (meta.uid(), meta.gid(), meta.mode() & 0o777),
            (1000, 1000, 0o600),
            "the container's user reads the AI's token"
        );
    }
    // The gateway's own token, generated by apply: the container's user's
    // too (the gateway above started healthy reading it).
    let gateway_token = installed.join(GATEWAY_TOKEN.trim_start_matches('/'));
    let generated = std::fs::metadata(&gateway_token).unwrap();
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            (
                generated.uid(),
                generated.gid(),
                generated.mode() & 0o777,
                generated.len()
            ),
            (1000, 1000, 0o600, 64),
            "the container's user reads the gateway token apply generated"
        );
    }
    let ai_token = std::fs::read_to_string(&token_file).unwrap();
    let (status, whoami) = request(
        &tailnet.server,
        "GET",
        &format!("http://127.0.0.1:{HS_PORT}/_matrix/client/v3/account/whoami"),
        Some(ai_token.trim()),
        None,
    );
    assert_eq!(status, 200, "{whoami}");
    assert_eq!(whoami["user_id"], json!(ai_id));
    let again = tailnet.privai("apply", &spec, &["--auto-approve"]);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("No changes."),
        "{}",
        show(&again)
    );
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), ai_token);
    step(format!(
        "accounts: {ai_id}'s token and the generated gateway token in the gateway's secret files (1000:1000, 0600); a second apply: No changes."
    ));

    // 4. The devices join as `privai enroll` says.
    for device in [TRUSTED, GUEST] {
        tailnet.join(device);
    }
    let matrix = proof::acl_matrix(&tailnet);
    assert!(acl_allows(&matrix, TRUSTED, HS_PORT), "{matrix:?}");
    let homeserver = SocketAddr::from((server_ip, HS_PORT));
    assert!(
        proof::connects(&tailnet, TRUSTED, homeserver, true),
        "{TRUSTED} does not reach {homeserver}"
    );
    step(format!("{TRUSTED} (user1) and {GUEST} joined"));

    // 5. user1, on the laptop, over the tailnet: a DM to the AI.
    let base = format!("http://{homeserver}");
    let laptop = &tailnet.nodes[TRUSTED].host;
    let user1 = Client::login(laptop, &base, "user1", &password_of(&tailnet, TRUSTED));
    assert_eq!(user1.user_id, format!("@user1:{MATRIX_NAME}"));
    let room = user1.open_dm(&ai_id);
    let joined = wait_for(ANSWER_WITHIN, || {
        user1.joined(&room).contains(&ai_id).then_some(())
    });
    assert!(
        joined.is_some(),
        "the AI did not join {room}\n{}\n--- synapse\n{}",
        server.gateway_log(),
        std::fs::read_to_string(&synapse_log).unwrap_or_default()
    );
    step(format!("the gateway joined user1's direct chat {room}"));
    let before = ai_path::chats(&server.ollama);
    let models = ai_path::loaded(&server.ollama);
    // `/api/ps` times have a resolution of a second.
    std::thread::sleep(Duration::from_millis(1100));
    let question = "What is the capital of France?";
    let asked = Instant::now();
    user1.say(&room, "q1", question);
    let answer = wait_for(ANSWER_WITHIN, || {
        user1
            .messages(&room)
            .into_iter()
            .find(|(sender, _)| *sender == ai_id)
    });
    let took = asked.elapsed();
    let Some((_, answer)) = answer else {
        panic!(
            "no answer from {ai_id} in {room} within {ANSWER_WITHIN:?}\n{}",
            server.gateway_log()
        )
    };
    assert!(!answer.trim().is_empty());
    ai_path::assert_the_primary_answered(&server.ollama, before, &models);
    let said = user1.messages(&room);
    assert_eq!(
        said[0],
        (user1.user_id.clone(), question.to_owned()),
        "{said:?}"
    );
    step(format!(
        "DM from user1 on {TRUSTED} to {ai_id} over the tailnet answered in {:.1} s by {ai_id} in the same room, produced by the real Ollama's {PRIMARY}: {answer:?}",
        took.as_secs_f64()
    ));

    // 6. A stranger (an account, not in dm.allowFrom) gets no answer.
    // Through the laptop: their own device is not on the tailnet.
    let stranger = Client::login(
        laptop,
        &base,
        STRANGER,
        &password_of(&tailnet, STRANGERS_DEVICE),
    );
    let strangers_room = stranger.open_dm(&ai_id);
    // The AI joins (autoJoin): what keeps it silent is the allowlist.
    let joined = wait_for(ANSWER_WITHIN, || {
        stranger
            .joined(&strangers_room)
            .contains(&ai_id)
            .then_some(())
    });
    assert!(joined.is_some(), "the AI did not join {strangers_room}");
    let chats = ai_path::chats(&server.ollama);
    stranger.say(&strangers_room, "s1", "Hello, may I use you too?");
    let waited = STRANGER_WAITS.max(took * 2);
    let reply = wait_for(waited, || {
        stranger
            .messages(&strangers_room)
            .into_iter()
            .find(|(sender, _)| *sender == ai_id)
    });
    assert_eq!(reply, None, "the AI answered a stranger");
    assert_eq!(
        ai_path::chats(&server.ollama),
        chats,
        "Ollama ran for the stranger"
    );
    step(format!(
        "{STRANGER} (an account, not in dm.allowFrom; the AI joined the chat): no answer within {:.0} s, no chat in Ollama",
        waited.as_secs_f64()
    ));

    // 7. The guest's phone: denied by privai acl, and on the tailnet.
    let (tried, why) = denied(&tailnet, &matrix, GUEST, homeserver);
    step(format!(
        "{GUEST} (user guest): privai acl --json denies {SERVER}:{HS_PORT}, and its connection to {homeserver} fails after {:.1} s: {why}",
        tried.as_secs_f64()
    ));
    eprintln!(
        "tailnet matrix path: {:.1} s in all, DM to answer {:.1} s",
        started.elapsed().as_secs_f64(),
        took.as_secs_f64()
    );
}
