//! Issue 19's refused-sender alert for the Matrix channel, observed on
//! privai's own homeserver (the real Synapse): the spec lets `user1` talk
//! to the AI (`dm_policy = 'allowlist, allow_from = ["user1"]`) and sends
//! the alerts to `user2` (`matrix_to`), who is not allowed. After `privai
//! apply` made the accounts, `user2` and `user1` each open a direct room
//! with the AI and the AI joins it with the token privai recorded (as the
//! gateway would; it does not run here). What `user2` wrote before the
//! monitor's first pass raises nothing (the rule starts from now); what
//! they write after it raises one refused-sender alert naming them, with
//! the count and never the text, also sent to them as a direct message;
//! `user1`'s messages raise none; `user2`'s answer in that alert room
//! raises none; a pass with nothing new raises nothing.

use super::accounts::{apply_on, login, records, running, spec};
use super::alerts::{alert_log, monitor_once};
use super::{SERVER_NAME, client, encode, request, stage};
use crate::tailnet::net::Host;
use crate::tools::show;
use serde_json::{Value, json};

/// Sends `text` to `room` as `token`'s user.
fn say(host: &Host, token: &str, room: &str, text: &str) {
    static TXN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let txn = TXN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = request(
        host,
        "PUT",
        &client(&format!(
            "rooms/{}/send/m.room.message/refused-{txn}",
            encode(room)
        )),
        Some(token),
        Some(json!({"msgtype": "m.text", "body": text})),
    );
    assert_eq!(status, 200, "{body}");
}

/// `user` opens a direct room with the AI, which joins it with `ai_token`.
fn direct_room_with_the_ai(host: &Host, token: &str, ai_token: &str) -> String {
    let ai = format!("@ai:{SERVER_NAME}");
    let (status, body) = request(
        host,
        "POST",
        &client("createRoom"),
        Some(token),
        Some(json!({"is_direct": true, "invite": [ai], "preset": "trusted_private_chat"})),
    );
    assert_eq!(status, 200, "{body}");
    let room = body["room_id"].as_str().unwrap().to_owned();
    join(host, ai_token, &room);
    room
}

fn join(host: &Host, token: &str, room: &str) {
    let (status, body) = request(
        host,
        "POST",
        &client(&format!("join/{}", encode(room))),
        Some(token),
        Some(json!({})),
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_sender_outside_the_matrix_allowlist_raises_one_alert_without_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(
        dir.path(),
        "spec.ncl",
        r#"monitoring.alerts.matrix_to = ["user2"], monitoring.alerts.desktop = false,
           openclaw.channels.matrix = { dm_policy = 'allowlist, allow_from = ["user1"] },"#,
    );
    let staged = stage(dir.path(), spec.clone());
    let running = running(dir.path(), &staged);
    let host = &running.host;
    let out = apply_on(host, dir.path(), &staged, &spec);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    let recorded = records(&staged);
    let secret = |user: &str, field: &str| recorded[user][field].as_str().unwrap().to_owned();
    let ai_token = secret("ai", "token");
    let token = |user: &str| {
        let (status, session) = login(host, user, &secret(user, "password"));
        assert_eq!(status, 200, "{session}");
        session["access_token"].as_str().unwrap().to_owned()
    };
    let (stranger, allowed) = (token("user2"), token("user1"));
    let stranger_id = format!("@user2:{SERVER_NAME}");

    // Written before the monitor's first pass: history, no alert.
    let theirs = direct_room_with_the_ai(host, &stranger, &ai_token);
    say(
        host,
        &stranger,
        &theirs,
        "an old message, before the monitor",
    );
    let monitor = || {
        let out = monitor_once(host, dir.path(), &spec, &staged);
        (out.status.code(), show(&out))
    };
    let (code, shown) = monitor();
    assert_eq!(code, Some(0), "{shown}");
    assert!(alert_log(&staged.root).is_empty(), "{shown}");
    let state = || -> Value {
        serde_json::from_slice(&std::fs::read(staged.root.join(".privai/monitor.json")).unwrap())
            .unwrap()
    };
    assert!(state()["matrix_since"].is_string(), "{}", state());

    // After it: two messages from user2, one from user1 (allowed).
    const TEXT: &str = "the secret plan of user2, 4711";
    say(host, &stranger, &theirs, TEXT);
    say(host, &stranger, &theirs, "and another");
    let ours = direct_room_with_the_ai(host, &allowed, &ai_token);
    say(host, &allowed, &ours, "hello from user1");
    let (code, shown) = monitor();
    assert_eq!(code, Some(2), "{shown}");
    let logged = alert_log(&staged.root);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["kind"], json!("refused-sender"), "{logged:?}");
    let summary = logged[0]["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "`{stranger_id}` wrote 2 messages to the AI in 1 room"
        )),
        "{summary}"
    );
    assert!(!summary.contains("user1"), "{summary}");
    // Never the text: not in the alert, the report or the monitor's state.
    for written in [
        std::fs::read_to_string(staged.root.join(".privai/alerts.ndjson")).unwrap(),
        shown.clone(),
        state().to_string(),
    ] {
        assert!(
            !written.contains("4711") && !written.contains("another"),
            "{written}"
        );
    }

    // The alert reached user2 in a room of its own; their answer there,
    // though they are not in allow_from, raises nothing; nor does a pass
    // with nothing new.
    let alert_room = state()["rooms"][&stranger_id]
        .as_str()
        .unwrap_or_else(|| panic!("{}", state()))
        .to_owned();
    assert_ne!(alert_room, theirs);
    join(host, &stranger, &alert_room);
    say(host, &stranger, &alert_room, "thanks, I know");
    let (code, shown) = monitor();
    assert_eq!(code, Some(0), "{shown}");
    let (code, shown) = monitor();
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(alert_log(&staged.root).len(), 1);

    // user2 writes to the AI again: one more alert.
    say(host, &stranger, &theirs, "still here");
    let (code, shown) = monitor();
    assert_eq!(code, Some(2), "{shown}");
    let logged = alert_log(&staged.root);
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert!(
        logged[1]["summary"].as_str().unwrap().contains(&format!(
            "`{stranger_id}` wrote 1 message to the AI in 1 room"
        )),
        "{logged:?}"
    );
}
