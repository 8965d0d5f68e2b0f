//! Issue 19's Matrix sink, against the real Synapse: after `privai apply`
//! made the accounts (as [`super::accounts`] does), `privai monitor
//! --once` reads a real journal holding Headscale's captured lines
//! (`tests/fixtures/monitor/headscale.log`) and sends each alert as a
//! direct message from the AI's account to the owner the spec names
//! (`monitoring.alerts.matrix_to`). The owner, signed in with the password
//! privai recorded, finds the invite, joins and reads the alerts sent by
//! the AI; a second pass writes into the same room, a third invites the
//! owner back after they left it (signing in again with the AI's recorded
//! password once Synapse forgot its token); with Synapse stopped
//! the direct message fails, the alert log still gets the alert and the
//! exit status is 1. The installed job's unit allows loopback only.

use super::accounts::{apply_on, login, privai_on, records, running, spec};
use super::{PORT, SERVER_NAME, client, encode, request, stage};
use crate::monitor::real_journal_files;
use crate::tailnet::net::Host;
use crate::tools::{repo, show};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// The alert log's lines.
pub(super) fn alert_log(root: &Path) -> Vec<Value> {
    std::fs::read_to_string(root.join(".privai/alerts.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `privai monitor --once SPEC --root ROOT` in `host`'s namespace.
pub(super) fn monitor_once(
    host: &Host,
    dir: &Path,
    spec: &Path,
    staged: &super::Staged,
) -> std::process::Output {
    privai_on(
        host,
        dir,
        &[
            "monitor".as_ref(),
            "--once".as_ref(),
            spec.as_os_str(),
            "--root".as_ref(),
            staged.root.as_os_str(),
        ],
    )
}

/// Forgets where the monitor read up to (keeping its rooms): the next pass
/// reads the journal's lines again and raises their alerts again.
fn forget_positions(root: &Path) {
    let path = root.join(".privai/monitor.json");
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    state["positions"] = json!({"sources": {}});
    state["windows"] = json!({"failures": {}});
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
}

/// The text messages in `room` as `token` sees them, oldest first:
/// (sender, body).
fn messages(host: &Host, token: &str, room: &str) -> Vec<(String, String)> {
    let (status, body) = request(
        host,
        "GET",
        &client(&format!("rooms/{}/messages?dir=b&limit=100", encode(room))),
        Some(token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    body["chunk"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .filter(|e| e["type"] == "m.room.message")
        .map(|e| {
            (
                e["sender"].as_str().unwrap().to_owned(),
                e["content"]["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The rooms `token`'s user is invited to, from an initial sync (each
/// with a filter of its own: Synapse answers the same sync request from a
/// cache for a while).
fn invites(host: &Host, token: &str) -> Vec<(String, Value)> {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    let limit = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let filter = format!("%7B%22room%22%3A%7B%22timeline%22%3A%7B%22limit%22%3A{limit}%7D%7D%7D");
    let (status, body) = request(
        host,
        "GET",
        &client(&format!("sync?timeout=0&filter={filter}")),
        Some(token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    body["rooms"]["invite"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

#[test]
fn alerts_reach_the_owner_as_a_direct_message_from_the_ai_in_one_room() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(
        dir.path(),
        "spec.ncl",
        r#"monitoring.alerts.matrix_to = ["user1"], monitoring.alerts.desktop = false,"#,
    );
    let staged = stage(dir.path(), spec.clone());
    let running = running(dir.path(), &staged);
    let host = &running.host;
    let out = apply_on(host, dir.path(), &staged, &spec);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    // The installed job may reach Synapse on loopback, and nothing else.
    let unit = std::fs::read_to_string(
        staged
            .tree
            .join("etc/systemd/system/privai-monitor.service"),
    )
    .unwrap();
    assert_eq!(super::settings(&unit, "IPAddressDeny"), ["any"]);
    assert_eq!(super::settings(&unit, "IPAddressAllow"), ["localhost"]);
    assert!(
        super::settings(&unit, "PrivateNetwork").is_empty(),
        "{unit}"
    );

    // Headscale's captured lines in the host's journal under the root.
    real_journal_files(
        &staged.tree.join("var/log/journal"),
        &[(
            "privai-headscale.service",
            repo("tests/fixtures/monitor/headscale.log"),
        )],
    );
    let monitor = || monitor_once(host, dir.path(), &spec, &staged);
    let first = monitor();
    assert_eq!(first.status.code(), Some(2), "{}", show(&first));
    let logged = alert_log(&staged.root);
    assert!(!logged.is_empty());

    // The owner signs in with the password privai recorded: one invite,
    // from the AI, to a direct room.
    let recorded = records(&staged);
    let secret = |user: &str, field: &str| {
        recorded[user][field]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let (status, session) = login(host, "user1", &secret("user1", "password"));
    assert_eq!(status, 200, "{session}");
    let owner = session["access_token"].as_str().unwrap().to_owned();
    let invited = invites(host, &owner);
    assert_eq!(invited.len(), 1, "{invited:?}");
    let (room, invite) = &invited[0];
    let ai = format!("@ai:{SERVER_NAME}");
    let member = invite["invite_state"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["type"] == "m.room.member" && e["state_key"] == json!(format!("@user1:{SERVER_NAME}"))
        })
        .unwrap_or_else(|| panic!("{invite}"));
    assert_eq!(member["sender"], json!(ai), "{member}");
    assert_eq!(member["content"]["is_direct"], json!(true), "{member}");
    // The AI marked it direct in its m.direct account data.
    let ai_token = secret("ai", "token");
    let (status, direct) = request(
        host,
        "GET",
        &client(&format!("user/{}/account_data/m.direct", encode(&ai))),
        Some(&ai_token),
        None,
    );
    assert_eq!(status, 200, "{direct}");
    assert_eq!(
        direct[format!("@user1:{SERVER_NAME}")],
        json!([room]),
        "{direct}"
    );
    // user2 is no owner: nothing for them.
    let (_, other) = login(host, "user2", &secret("user2", "password"));
    assert!(invites(host, other["access_token"].as_str().unwrap()).is_empty());

    let (status, body) = request(
        host,
        "POST",
        &client(&format!("join/{}", encode(room))),
        Some(&owner),
        Some(json!({})),
    );
    assert_eq!(status, 200, "{body}");
    let read = messages(host, &owner, room);
    assert_eq!(read.len(), logged.len(), "{read:?}");
    for ((sender, text), alert) in read.iter().zip(&logged) {
        assert_eq!(sender, &ai);
        assert!(
            text.contains(alert["summary"].as_str().unwrap())
                && text.contains(alert["fix"].as_str().unwrap()),
            "{text}"
        );
        // Never a secret.
        for (user, field) in [("ai", "password"), ("ai", "token"), ("user1", "password")] {
            assert!(!text.contains(&secret(user, field)), "{text}");
        }
    }
    let remembered = |root: &Path| -> Value {
        let state: Value =
            serde_json::from_slice(&std::fs::read(root.join(".privai/monitor.json")).unwrap())
                .unwrap();
        state["rooms"].clone()
    };
    assert_eq!(
        remembered(&staged.root),
        json!({ format!("@user1:{SERVER_NAME}"): room })
    );

    // The same alerts again: the same room, no new invite.
    forget_positions(&staged.root);
    let second = monitor();
    assert_eq!(second.status.code(), Some(2), "{}", show(&second));
    assert_eq!(
        messages(host, &owner, room).len(),
        2 * logged.len(),
        "{}",
        show(&second)
    );
    assert!(invites(host, &owner).is_empty());
    let (status, joined) = request(host, "GET", &client("joined_rooms"), Some(&owner), None);
    assert_eq!((status, &joined["joined_rooms"]), (200, &json!([room])));

    // The owner leaves the room: the next alert invites them back into it.
    let (status, body) = request(
        host,
        "POST",
        &client(&format!("rooms/{}/leave", encode(room))),
        Some(&owner),
        Some(json!({})),
    );
    assert_eq!(status, 200, "{body}");
    // And Synapse forgot the AI's recorded token (logged out): the monitor
    // signs in with the recorded password and records the new token.
    let (status, body) = request(
        host,
        "POST",
        &client("logout"),
        Some(&ai_token),
        Some(json!({})),
    );
    assert_eq!(status, 200, "{body}");
    forget_positions(&staged.root);
    let again = monitor();
    assert_eq!(again.status.code(), Some(2), "{}", show(&again));
    let back: Vec<String> = invites(host, &owner).into_iter().map(|(r, _)| r).collect();
    assert_eq!(back, std::slice::from_ref(room));
    let new_token = records(&staged)["ai"]["token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, ai_token);
    let (status, body) = request(
        host,
        "GET",
        &client("account/whoami"),
        Some(&new_token),
        None,
    );
    assert_eq!((status, &body["user_id"]), (200, &json!(ai)), "{body}");

    // Synapse stopped: the direct message fails, the alert log has the
    // alerts, the exit status says it (1).
    drop(running.synapse);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], PORT));
    let stopped = std::time::Instant::now();
    while host.connects(addr, Duration::from_millis(200)) {
        assert!(
            stopped.elapsed() < Duration::from_secs(60),
            "Synapse did not stop"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    forget_positions(&staged.root);
    let before = alert_log(&staged.root).len();
    let third = monitor();
    assert_eq!(third.status.code(), Some(1), "{}", show(&third));
    let text = String::from_utf8_lossy(&third.stdout).into_owned();
    assert!(
        text.contains("error: an alert was not delivered: the Matrix direct message from the AI's account: Synapse does not answer at http://127.0.0.1:8008"),
        "{text}"
    );
    assert_eq!(alert_log(&staged.root).len(), before + logged.len());
    // The room is still remembered for when Synapse is back.
    assert_eq!(
        remembered(&staged.root),
        json!({ format!("@user1:{SERVER_NAME}"): room })
    );
}
