//! `privai rotate-keys` against the Headscale stand-in and the recorded
//! service manager: an unjoined device's pre-auth key replaced before it
//! expires (the old one refused afterwards, the new one joining), a
//! reusable key and the gateway token replaced on the interval, the
//! gateway's failed health check putting the old token back, nothing done
//! while the system differs from the spec, and the installed job's own
//! command line rotating for the spec last applied.

use crate::apply::{HEADSCALE_KEY, Seed, current, privai, stdout};
use crate::tools::show;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, SystemTime};

const DAY: Duration = Duration::from_secs(86_400);

/// The seed with a single-use laptop and a reusable desktop.
const DEVICES: &str = "  devices | force = [
    { name = \"laptop\", user = \"user2\", kind = 'laptop, os = 'macos },
    { name = \"desktop\", user = \"user1\", kind = 'desktop, os = 'linux, reusable = true },
  ],";

/// `privai rotate-keys ARGS --root ROOT` as `seed.apply` runs apply.
fn rotate(seed: &Seed, args: &[&OsStr]) -> Output {
    let root = seed.root();
    let mut all: Vec<&OsStr> = vec![OsStr::new("rotate-keys")];
    all.extend(args);
    all.extend([OsStr::new("--root"), root.as_os_str()]);
    privai(
        all,
        &[
            ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
            ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
        ],
    )
}

fn key_of(seed: &Seed, device: &str) -> String {
    std::fs::read_to_string(seed.root().join(format!(".privai/keys/{device}")))
        .unwrap()
        .trim()
        .to_owned()
}

fn token_path(seed: &Seed) -> PathBuf {
    seed.root()
        .join("openclaw-server/HOME/.config/privai/secrets/openclaw-gateway-token")
}

/// Makes `path` look written `age` ago.
fn written_ago(path: &Path, age: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

#[test]
fn an_unjoined_devices_key_is_replaced_before_it_expires_and_the_old_one_no_longer_joins() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", DEVICES);
    let out = seed.apply(&spec, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    // Fresh keys: nothing is due.
    let out = rotate(&seed, &[spec.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains("  · pre-auth key of laptop: its device has not joined; it expires in 6 days, replaced 2 days before")
            && text.contains("  · pre-auth key of desktop: reusable, 0 h old; replaced once 30 days old, or 2 days before it expires in 6 days")
            && text.contains("  · gateway token: 0 h old; replaced once 30 days old")
            && text.ends_with("\nNothing to rotate.\n"),
        "{text}"
    );
    assert_eq!(current(&seed.root()), Some(1));

    // Six days on, both keys expire within a day.
    seed.headscale.age_keys(DAY * 6);
    let old = key_of(&seed, "laptop");
    let out = rotate(&seed, &[spec.as_os_str(), OsStr::new("--dry-run")]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(
        stdout(&out).ends_with("\n2 due; nothing changed (--dry-run).\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(key_of(&seed, "laptop"), old);

    let out = rotate(&seed, &[spec.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "  ↻ pre-auth key of laptop: its device has not joined and it expires in 23 h"
        ) && text.contains("  ↻ pre-auth key of desktop: reusable and it expires in 23 h")
            && text.contains("Rotated 2 keys; generation 2 is current."),
        "{text}"
    );
    assert!(!text.contains(&old), "a key was printed:\n{text}");
    let new = key_of(&seed, "laptop");
    assert_ne!(new, old);
    assert!(!text.contains(&new), "a key was printed:\n{text}");
    assert_eq!(
        seed.headscale.join_with_key("laptop", &old),
        Err("authkey expired".to_owned())
    );
    assert!(seed.headscale.join_with_key("laptop", &new).is_ok());

    // A device joined: apply gives Headscale the policy's tests it held
    // back; then the laptop's key is left alone, and nothing is due.
    let out = rotate(&seed, &[spec.as_os_str()]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(seed.apply(&spec, &[]).status.success());
    let out = rotate(&seed, &[spec.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        stdout(&out).ends_with("\nNothing to rotate.\n"),
        "{}",
        stdout(&out)
    );
    let again = seed.apply(&spec, &[]);
    assert_eq!(
        stdout(&again),
        "No changes. Your system matches the spec.\n"
    );
}

#[test]
fn a_reusable_key_is_replaced_once_older_than_the_interval_though_its_device_joined() {
    let seed = Seed::new();
    let spec = seed.spec(
        "a.ncl",
        &format!("{DEVICES}\n  monitoring.key_rotation.interval_days | force = 3,"),
    );
    assert_eq!(seed.apply(&spec, &[]).status.code(), Some(0));
    let desktop = key_of(&seed, "desktop");
    seed.headscale.join_with_key("desktop", &desktop).unwrap();
    assert!(seed.apply(&spec, &[]).status.success());
    seed.headscale.age_keys(DAY * 4);
    let out = rotate(&seed, &[spec.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains("  ↻ pre-auth key of desktop: reusable, 4 days old; reusable keys are replaced every 3 days")
            && text.contains("  · pre-auth key of laptop: its device has not joined; it expires in 2 days, replaced 2 days before")
            && text.contains("Rotated 1 key; generation 3 is current."),
        "{text}"
    );
    assert_eq!(
        seed.headscale.join_with_key("desktop-2", &desktop),
        Err("authkey expired".to_owned())
    );
    assert!(
        seed.headscale
            .join_with_key("desktop-2", &key_of(&seed, "desktop"))
            .is_ok()
    );
}

#[test]
fn an_old_gateway_token_is_replaced_and_the_gateway_restarted_or_the_old_one_put_back() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", "");
    assert_eq!(seed.apply(&spec, &[]).status.code(), Some(0));
    let old = std::fs::read(token_path(&seed)).unwrap();

    // The gateway fails its health check with the new token: the old one
    // is put back and the gateway restarted with it.
    written_ago(&token_path(&seed), DAY * 31);
    seed.gateway.answer(500);
    let calls = seed.calls().len();
    let out = rotate(
        &seed,
        &[
            spec.as_os_str(),
            OsStr::new("--health-timeout"),
            OsStr::new("1"),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "  ↻ gateway token: 31 days old; replaced every 30 days, the gateway restarted with it"
        ) && text.contains("Rotation failed: ")
            && text.contains("Generation 1 is still current; the old keys work."),
        "{text}"
    );
    assert_eq!(std::fs::read(token_path(&seed)).unwrap(), old);
    assert!(
        seed.calls()[calls..]
            .iter()
            .any(|c| c.contains("privai-gateway")),
        "{:?}",
        seed.calls()
    );

    // Healthy: the token is new, the gateway restarted, generation 2 made.
    seed.gateway.answer(200);
    written_ago(&token_path(&seed), DAY * 31);
    let calls = seed.calls().len();
    let out = rotate(&seed, &[spec.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let new = std::fs::read(token_path(&seed)).unwrap();
    assert_ne!(new, old);
    assert_eq!(new.len(), old.len());
    assert!(!stdout(&out).contains(String::from_utf8_lossy(&new).trim()));
    assert!(
        seed.calls()[calls..]
            .iter()
            .any(|c| c.contains("privai-gateway")),
        "{:?}",
        seed.calls()
    );
    assert_eq!(current(&seed.root()), Some(2));
    let listed = privai(
        [
            OsStr::new("generations"),
            OsStr::new("--root"),
            seed.root().as_os_str(),
        ],
        &[],
    );
    assert!(
        stdout(&listed).contains("rotate-keys "),
        "{}",
        show(&listed)
    );
}

#[test]
fn nothing_is_rotated_while_the_system_differs_from_the_spec() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", DEVICES);
    assert_eq!(seed.apply(&spec, &[]).status.code(), Some(0));
    seed.headscale.age_keys(DAY * 6);
    let changed = seed.spec(
        "b.ncl",
        &format!("{DEVICES}\n  ollama.keep_alive | force = \"30m\","),
    );
    let old = key_of(&seed, "laptop");
    let out = rotate(&seed, &[changed.as_os_str()]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "pending; `privai plan` shows them): run `privai apply` first; no key was rotated"
        ),
        "{}",
        show(&out)
    );
    assert_eq!(key_of(&seed, "laptop"), old);
    assert_eq!(current(&seed.root()), Some(1));
}

#[test]
fn the_installed_job_s_command_line_rotates_for_the_spec_last_applied() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", DEVICES);
    assert_eq!(seed.apply(&spec, &[]).status.code(), Some(0));
    seed.headscale.age_keys(DAY * 6);
    // The job as installed: its program arguments, run with this build of
    // privai under the staged root.
    let argv = job_argv(&seed.root());
    assert_eq!(argv[1..], ["rotate-keys"], "{argv:?}");
    let old = key_of(&seed, "laptop");
    // `rotate` runs `privai rotate-keys` with what follows it.
    let args: Vec<&OsStr> = argv[2..].iter().map(OsStr::new).collect();
    let out = rotate(&seed, &args);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        stdout(&out).contains("Rotated 2 keys; generation 2 is current."),
        "{}",
        stdout(&out)
    );
    assert_ne!(key_of(&seed, "laptop"), old);
}

/// The rotation job's program arguments, as the staged install holds them
/// (a launchd plist on the seed's Mac).
fn job_argv(root: &Path) -> Vec<String> {
    let plist = walk_find(root, "net.privai.rotate-keys.plist")
        .unwrap_or_else(|| panic!("no rotation job under {}", root.display()));
    let value = plist::Value::from_file(&plist).unwrap();
    value
        .as_dictionary()
        .unwrap()
        .get("ProgramArguments")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_string().unwrap().to_owned())
        .collect()
}

fn walk_find(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
        if path.is_dir()
            && let Some(found) = walk_find(&path, name)
        {
            return Some(found);
        }
    }
    None
}

#[test]
fn a_rotation_killed_at_any_step_leaves_a_working_key_on_record() {
    let seed = Seed::new();
    let spec = seed.spec("a.ncl", DEVICES);
    assert_eq!(seed.apply(&spec, &[]).status.code(), Some(0));
    seed.headscale.age_keys(DAY * 6);
    let on_record = |device: &str| {
        let records: serde_json::Value =
            serde_json::from_slice(&std::fs::read(seed.root().join(".privai/keys.json")).unwrap())
                .unwrap();
        records[device].as_u64().unwrap()
    };
    let usable_on_record = |device: &str| {
        let id = on_record(device);
        let key = seed
            .headscale
            .keys()
            .into_iter()
            .find(|k| k["id"].as_str() == Some(id.to_string().as_str()) || k["id"] == id)
            .unwrap_or_else(|| panic!("key {id} of {device} is not in Headscale"));
        let expiry = key["expiration"].as_str().unwrap().to_owned();
        // RFC 3339 in UTC compares as text.
        let now = privai::observe::headscale::Timestamp(SystemTime::now()).rfc3339();
        assert!(expiry > now, "{device}'s key on record expired: {key}");
    };
    let (mut completed, mut killed) = (false, 0);
    for failpoint in 0..12 {
        let root = seed.root();
        let out = privai(
            [
                OsStr::new("rotate-keys"),
                spec.as_os_str(),
                OsStr::new("--root"),
                root.as_os_str(),
            ],
            &[
                ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
                ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
                ("PRIVAI_TEST_FAILPOINT", OsStr::new(&failpoint.to_string())),
            ],
        );
        // The next command recovers the run, whatever it had done.
        // It plans nothing, or only the expiry of a key a killed run
        // replaced on record and did not expire.
        let plan = seed.plan(&spec);
        let planned = stdout(&plan);
        match plan.status.code() {
            Some(0) => {}
            Some(2) => assert!(
                planned.contains("Plan: 0 to add, 0 to change, 1 to delete.")
                    && planned.contains("the run that made it stopped before expiring it"),
                "after failpoint {failpoint}: {}",
                show(&plan)
            ),
            _ => panic!("after failpoint {failpoint}: {}", show(&plan)),
        }
        for device in ["laptop", "desktop"] {
            usable_on_record(device);
        }
        if out.status.code() == Some(0) {
            completed = true;
            break;
        }
        killed += 1;
    }
    assert!(completed, "no rotation ran to its end");
    // And no key a kill left behind still works: every key but those on
    // record has expired (a key replaced on record before its run was
    // killed is retired, and the next run expires it).
    let on_record: Vec<u64> = ["laptop", "desktop"].map(on_record).to_vec();
    let now = privai::observe::headscale::Timestamp(SystemTime::now()).rfc3339();
    for key in seed.headscale.keys() {
        let id: u64 = match &key["id"] {
            serde_json::Value::String(s) => s.parse().unwrap(),
            other => other.as_u64().unwrap(),
        };
        if !on_record.contains(&id) {
            let expiry = key["expiration"].as_str().unwrap().to_owned();
            assert!(expiry <= now, "key {id} left usable after the kills: {key}");
        }
    }
    // Killed after the journal began; after the laptop's new key (its old
    // key retired); after expiring that retired key and making the
    // desktop's new key (its old one retired); after expiring the desktop's
    // retired key, as the generation was made current. A key made before a
    // kill stays (Headscale keys are not undone), so each run has less left
    // to do than the one before.
    assert_eq!(killed, 4);
}

#[test]
fn an_api_key_kept_in_a_file_is_replaced_once_old_and_the_old_one_expired_after_the_new_one_works()
{
    let seed = Seed::new();
    let key_file = seed.dir.path().join("headscale-api-key");
    std::fs::write(&key_file, format!("{HEADSCALE_KEY}\n")).unwrap();
    let spec = seed.spec_keyed(
        &crate::tools::repo("examples/seed-home.ncl"),
        "a.ncl",
        &format!("file:{}", key_file.display()),
        &format!("{}{DEVICES}", crate::apply::SEED_WITHOUT_HOMESERVER),
    );
    let first = seed.apply(&spec, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", show(&first));
    let out = rotate(&seed, &[spec.as_os_str()]);
    assert!(
        stdout(&out).contains("  · Headscale API key: 0 h old; replaced once 30 days old"),
        "{}",
        show(&out)
    );

    seed.headscale.age_api_keys(DAY * 31);
    let out = rotate(&seed, &[spec.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let text = stdout(&out);
    assert!(
        text.contains("  ↻ Headscale API key: 31 days old; replaced every 30 days, the old one expired once the new one works")
            && text.contains("  ↻ Headscale API key: a new one in `file:")
            && text.contains("Rotated the API key."),
        "{text}"
    );
    let new = std::fs::read_to_string(&key_file).unwrap();
    let new = new.trim();
    assert_ne!(new, HEADSCALE_KEY);
    assert!(
        new.starts_with("hskey-api-") && !text.contains(new),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The old key is expired, the new one works: privai goes on with it.
    let keys = seed.headscale.api_keys();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_ne!(keys[0]["expiration"], "0001-01-01T00:00:00Z", "{keys:?}");
    let again = seed.apply(&spec, &[]);
    assert_eq!(
        stdout(&again),
        "No changes. Your system matches the spec.\n",
        "{}",
        show(&again)
    );
    assert!(!std::path::Path::new(&seed.root().join(".privai/api-key-rotation.json")).exists());
}
