//! `privai rotate-keys` against the real Headscale (v0.29.2, started from
//! the files privai rendered) and real Tailscale clients: the pre-auth keys
//! of an unjoined device and of a reusable device replaced before they
//! expire, the API key privai keeps in a file replaced (the new one works,
//! the old one expired after), and a run killed midway (kill -9 at a
//! checkpoint, as `PRIVAI_TEST_FAILPOINT` aborts) leaving working keys on
//! record, and the old key it replaced on record expired by the next
//! rotation (found here: before, nothing ever expired it). Time is moved on
//! in Headscale's own database (`sqlite3`): the keys' expiry and the API
//! key's creation date.

use super::{Setup, Tailnet};
use crate::tools::show;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The seed in database mode with a single-use laptop and a reusable
/// desktop, its API key read from `key_file`.
fn spec(key_file: &Path) -> String {
    format!(
        "(import \"seed-home.ncl\") & {{
  headscale.api_key | force = \"file:{}\",
  headscale.policy_mode | force = 'database,
  openclaw.bind | force = \"127.0.0.1\",
  devices | force = [
    {{ name = \"laptop\", user = \"user2\", kind = 'laptop, os = 'macos }},
    {{ name = \"desktop\", user = \"user1\", kind = 'desktop, os = 'linux, reusable = true }},
  ],
{}}}
",
        key_file.display(),
        crate::apply::SEED_WITHOUT_HOMESERVER,
    )
}

/// Headscale's SQLite database, from the config it runs with.
fn database(tailnet: &Tailnet) -> PathBuf {
    let config: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&tailnet.headscale.config).unwrap())
            .unwrap();
    PathBuf::from(config["database"]["sqlite"]["path"].as_str().unwrap())
}

/// Runs `sql` on Headscale's database (the real `sqlite3`).
fn sql(tailnet: &Tailnet, sql: &str) {
    let out = Command::new("sqlite3")
        .arg(database(tailnet))
        .arg(sql)
        .output()
        .expect("sqlite3 runs (a missing sqlite3 is a failure, never a skip)");
    assert!(out.status.success(), "{sql}: {}", show(&out));
}

/// The pre-auth key ids privai keeps on record, by device.
fn on_record(tailnet: &Tailnet) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(tailnet.root().join(".privai/keys.json")).unwrap())
        .unwrap()
}

/// Asserts the key on record for `device` is one the real Headscale holds
/// unexpired.
fn usable_on_record(tailnet: &Tailnet, device: &str) {
    let id = on_record(tailnet)[device].clone();
    let keys = tailnet
        .headscale
        .json(&tailnet.server, &["preauthkeys", "list"]);
    let key = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id || k["id"].as_str() == Some(id.to_string().as_str()))
        .unwrap_or_else(|| panic!("key {id} of {device} is not in Headscale: {keys:#}"));
    let expiry = key["expiration"]["seconds"]
        .as_u64()
        .unwrap_or_else(|| panic!("{key:#}"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        expiry > now,
        "{device}'s key on record has expired: {key:#}"
    );
}

#[test]
fn the_real_headscales_due_pre_auth_keys_and_api_key_are_replaced_and_a_run_killed_midway_leaves_working_keys()
 {
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("headscale-api-key");
    let mut tailnet = Tailnet::start(Setup {
        host: "openclaw-server",
        server_name: super::SERVER_NAME,
        spec: spec(&key_file),
        mode: "database",
        models: &["codellama:13b", "llama3.2:3b"],
        standins: true,
    });
    std::fs::write(&key_file, format!("{}\n", tailnet.api_key)).unwrap();
    let spec = tailnet.spec.clone();
    tailnet.apply(&spec);
    let (old_laptop, old_desktop) = (tailnet.key_of("laptop"), tailnet.key_of("desktop"));
    let old_api = tailnet.api_key.clone();

    // Fresh keys (7 days): nothing is due.
    let out = tailnet.privai("rotate-keys", &spec, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).ends_with("\nNothing to rotate.\n"),
        "{}",
        show(&out)
    );

    // A day before the keys expire, and the API key 31 days old.
    let age = |tailnet: &Tailnet| {
        sql(
            tailnet,
            "UPDATE pre_auth_keys SET expiration = strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '+20 hours') WHERE expiration > strftime('%Y-%m-%d %H:%M:%f+00:00', 'now');
             UPDATE api_keys SET created_at = strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '-31 days');",
        )
    };
    age(&tailnet);
    let out = tailnet.privai("rotate-keys", &spec, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("  ↻ pre-auth key of laptop: its device has not joined and it expires in ")
            && text.contains("  ↻ pre-auth key of desktop: reusable and it expires in ")
            && text.contains("  ↻ Headscale API key: 31 days old")
            && text.contains("Rotated 2 keys; generation 2 is current.")
            && text.contains("  ↻ Headscale API key: a new one in `file:"),
        "{}\n--- headscale\n{}",
        show(&out),
        tailnet.headscale.log_text()
    );
    for secret in [&old_laptop, &old_desktop, &old_api] {
        assert!(
            !text.contains(secret.as_str()),
            "a key was printed:\n{text}"
        );
    }
    let (new_laptop, new_desktop) = (tailnet.key_of("laptop"), tailnet.key_of("desktop"));
    assert_ne!(new_laptop, old_laptop);
    assert_ne!(new_desktop, old_desktop);

    // The new API key is in the file (0600) and works (privai plans with
    // it); the old one is expired in Headscale.
    let new_api = std::fs::read_to_string(&key_file)
        .unwrap()
        .trim()
        .to_owned();
    assert_ne!(new_api, old_api);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let plan = tailnet.privai("plan", &spec, &[]);
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
    let api_keys = tailnet
        .headscale
        .json(&tailnet.server, &["apikeys", "list"]);
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    // `hskey-api-PREFIX-SECRET` is listed as `hskey-api-PREFIX-***`; the
    // 12 characters of PREFIX may hold a `-`.
    let listed = |key: &str| format!("{}-***", &key[.."hskey-api-".len() + 12]);
    let expires = |key: &str| {
        api_keys
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["prefix"].as_str() == Some(listed(key).as_str()))
            .unwrap_or_else(|| panic!("{} not listed: {api_keys:#}", listed(key)))["expiration"]
            ["seconds"]
            .as_u64()
            .unwrap_or(u64::MAX)
    };
    assert!(expires(&old_api) <= now(), "{api_keys:#}");
    assert!(expires(&new_api) > now(), "{api_keys:#}");

    // Real clients: the old keys are refused, the new ones join.
    for (device, old) in [("laptop", &old_laptop), ("desktop", &old_desktop)] {
        let refused = tailnet.try_join(device, old);
        assert!(
            !refused.status.success() && show(&refused).contains("authkey expired"),
            "{device} joined with its old key: {}\n--- keys\n{:#}",
            show(&refused),
            tailnet
                .headscale
                .json(&tailnet.server, &["preauthkeys", "list"])
        );
        // A tailscaled that was refused keeps retrying its old key.
        tailnet.nodes.remove(device);
        tailnet.join(device);
    }
    // Devices joined: apply hands Headscale the policy's tests it held back.
    tailnet.apply(&spec);

    // Again a day before expiry: the joined desktop's reusable key is due.
    // kill -9 after its new key was made, before the old one is expired.
    age(&tailnet);
    let before = tailnet.key_of("desktop");
    tailnet
        .env
        .push(("PRIVAI_TEST_FAILPOINT", std::ffi::OsString::from("1")));
    let killed = tailnet.privai("rotate-keys", &spec, &[]);
    tailnet
        .env
        .retain(|(name, _)| *name != "PRIVAI_TEST_FAILPOINT");
    assert_eq!(killed.status.code(), None, "not killed: {}", show(&killed));
    assert!(
        String::from_utf8_lossy(&killed.stdout)
            .contains("  + pre-auth key openclaw-server:desktop: done"),
        "{}",
        show(&killed)
    );
    // The next command finishes or undoes the run; the key on record works.
    let plan = tailnet.privai("plan", &spec, &[]);
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
    assert!(
        String::from_utf8_lossy(&plan.stderr).contains("was interrupted"),
        "{}",
        show(&plan)
    );
    usable_on_record(&tailnet, "desktop");
    let on_record = tailnet.key_of("desktop");
    tailnet.add_node("desktop-2");
    let argv = tailnet.enroll_command("desktop");
    let joined = tailnet.join_with("desktop-2", &argv, &on_record);
    assert!(
        joined.status.success(),
        "the key on record after the kill does not join: {}\n(before the kill: {})",
        show(&joined),
        if on_record == before {
            "the same key"
        } else {
            "another key"
        }
    );
    // The key the killed run replaced on record was retired, not expired:
    // the next rotation expires it, and it joins no more.
    assert_ne!(on_record, before, "the killed run made no new key");
    let rotated = tailnet.privai("rotate-keys", &spec, &[]);
    assert_eq!(rotated.status.code(), Some(0), "{}", show(&rotated));
    assert!(
        String::from_utf8_lossy(&rotated.stdout)
            .contains("  - pre-auth key openclaw-server:desktop: done"),
        "{}",
        show(&rotated)
    );
    tailnet.add_node("desktop-3");
    let refused = tailnet.join_with("desktop-3", &argv, &before);
    assert!(
        !refused.status.success(),
        "the key the killed run replaced still joins: {}",
        show(&refused)
    );
}
