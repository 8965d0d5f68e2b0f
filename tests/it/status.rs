//! `privai status` against the stand-ins of an applied seed, healthy and
//! with each failure of the seed's "Failure Response" injected.

use crate::apply::{HEADSCALE_KEY, Seed, privai, stdout};
use crate::tools::repo;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

/// `privai status SPEC --root ROOT ARGS`, observing the stand-ins.
fn status(seed: &Seed, spec: &Path, args: &[&str]) -> Output {
    let root = seed.root();
    let mut all: Vec<&OsStr> = vec![
        "status".as_ref(),
        spec.as_os_str(),
        "--root".as_ref(),
        root.as_os_str(),
    ];
    all.extend(args.iter().map(OsStr::new));
    privai(
        all,
        &[
            ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
            ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
        ],
    )
}

/// The seed on the stand-ins' ports, plus `extra`. The seed is copied next
/// to the spec: imports stay inside the spec's directory.
pub fn seed_spec(seed: &Seed, extra: &str) -> std::path::PathBuf {
    let base = seed.dir.path().join("seed-home.ncl");
    std::fs::copy(repo("examples/seed-home.ncl"), &base).unwrap();
    seed.spec_on(
        &base,
        "privai.ncl",
        &format!("{}{extra}", crate::apply::SEED_WITHOUT_HOMESERVER),
    )
}

/// The seed applied, with both models present and the gateway healthy.
pub fn applied() -> (Seed, std::path::PathBuf) {
    let seed = Seed::with_ollama_having(&["codellama:13b", "llama3.2:3b"]);
    let spec = seed_spec(&seed, "");
    let out = seed.apply(&spec, &[]);
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    (seed, spec)
}

#[test]
fn an_applied_seed_with_every_service_answering_is_healthy_on_one_screen() {
    let (seed, spec) = applied();
    let out = status(&seed, &spec, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for line in [
        "System: healthy",
        "Generation: 1, no drift",
        "headscale      ok       launchd net.privai.headscale",
        "gateway        ok       podman compose privai-gateway",
        "Headscale: up (v0.29.2), 0 node(s), 0 online",
        "phone            user1    -                not joined",
        "Ollama: up (version 0.33.0)",
        "Gateway: healthy, answering with codellama:13b (primary)",
        "No problems found.",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
}

/// The report's JSON.
fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn a_healthy_system_reports_both_models_present_and_loaded_and_the_primary_answering_as_json() {
    let (seed, spec) = applied();
    let out = status(&seed, &spec, &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    assert_eq!(report["format_version"], "1.0");
    assert_eq!(report["level"], "healthy");
    assert_eq!(report["generation"], 1);
    assert_eq!(report["pending_changes"], 0);
    assert_eq!(report["headscale"]["state"], "up");
    assert_eq!(report["headscale"]["version"], "v0.29.2");
    assert_eq!(report["ollama"]["state"], "up");
    assert_eq!(report["ollama"]["version"], "0.33.0");
    assert_eq!(report["ollama"]["models"][0]["name"], "codellama:13b");
    assert_eq!(report["ollama"]["models"][0]["present"], true);
    assert_eq!(report["ollama"]["models"][0]["matches_lock"], true);
    assert!(
        report["ollama"]["models"][0]["loaded_bytes"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(report["gateway"]["healthy"], true);
    assert_eq!(report["gateway"]["answering"], "codellama:13b");
    assert_eq!(report["gateway"]["answering_as"], "primary");
    assert_eq!(report["findings"], serde_json::json!([]));
}

#[test]
fn headscale_down_is_degraded_existing_connections_keep_working_and_the_restart_is_named() {
    let (seed, spec) = applied();
    seed.headscale.set_healthy(false);
    let out = status(&seed, &spec, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("System: DEGRADED"), "{text}");
    assert!(text.contains("Headscale is down"), "{text}");
    assert!(text.contains("existing connections keep working"), "{text}");
    // What Headscale would say about the devices is unknown, not "not joined".
    assert!(
        text.contains("unknown (Headscale did not answer)"),
        "{text}"
    );
    assert!(text.contains("new devices cannot join"), "{text}");
    // What the plan would recreate while Headscale cannot be asked is not drift.
    assert!(!text.contains("differs from the spec"), "{text}");
    assert!(
        text.contains("Generation: 1, drift unknown while a service does not answer"),
        "{text}"
    );
    assert!(
        text.contains(
            "fix: restart it with `sudo launchctl kickstart -k system/net.privai.headscale`"
        ),
        "{text}"
    );
}

#[test]
fn ollama_not_responding_is_down_and_says_what_the_gateway_does_with_its_fallback() {
    let (mut seed, spec) = applied();
    seed.ollama.stop();
    let out = status(&seed, &spec, &["--json"]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    assert_eq!(report["level"], "down");
    assert_eq!(report["ollama"]["state"], "down");
    assert_eq!(report["gateway"]["answering_as"], "none");
    assert_eq!(
        report["ollama"]["models"][0]["present"],
        serde_json::Value::Null
    );
    // Found down by the observation, Ollama is not probed again for 3 s.
    let service = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "ollama")
        .unwrap();
    assert_eq!(service["healthy"], false);
    let error = service["error"].as_str().unwrap();
    assert!(!error.contains(" after "), "{error}");
    let first = &report["findings"][0];
    assert_eq!(first["level"], "down");
    let problem = first["problem"].as_str().unwrap();
    assert!(problem.starts_with("Ollama is not responding"), "{problem}");
    assert!(problem.contains("falls back to llama3.2:3b"), "{problem}");
    assert_eq!(
        first["fix"],
        "restart it with `launchctl kickstart -k gui/$(id -u)/net.privai.ollama` (`ollama serve`)"
    );
}

#[test]
fn a_device_off_the_vpn_is_named_with_its_user_and_how_to_reconnect() {
    let (seed, spec) = applied();
    let desktop = seed.headscale.join("desktop", "user1", &[]);
    let laptop = seed.headscale.join("laptop", "user2", &[]);
    seed.headscale.set_online(desktop, true);
    seed.headscale.set_online(laptop, false);
    let out = status(&seed, &spec, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("device `laptop` (user2) is off the VPN"),
        "{text}"
    );
    assert!(text.contains("`privai enroll laptop`"), "{text}");
    assert!(text.contains("OFF the VPN (last seen "), "{text}");
    let report = json(&status(&seed, &spec, &["--json"]));
    let devices = report["devices"].as_array().unwrap();
    let find = |name: &str| devices.iter().find(|d| d["name"] == name).unwrap().clone();
    assert_eq!(find("desktop")["online"], true);
    assert!(
        find("desktop")["addresses"][0]
            .as_str()
            .unwrap()
            .starts_with("100.64."),
        "{devices:?}"
    );
    assert_eq!(find("laptop")["joined"], true);
    assert_eq!(find("laptop")["online"], false);
    assert_eq!(find("phone")["joined"], false);
    assert_eq!(report["headscale"]["nodes"], 2);
    assert_eq!(report["headscale"]["online"], 1);
}

#[test]
fn a_gateway_failing_its_health_check_is_down() {
    let (seed, spec) = applied();
    seed.gateway.answer(503);
    let out = status(&seed, &spec, &["--json"]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    assert_eq!(report["gateway"]["healthy"], false);
    let problems: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["problem"].as_str().unwrap())
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("the gateway fails its health check")),
        "{problems:?}"
    );
}

/// Removes `model` from the stand-in Ollama at `url` (`DELETE /api/delete`).
fn delete_model(url: &str, model: &str) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let body = format!("{{\"model\":\"{model}\"}}");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "DELETE /api/delete HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn with_the_primary_model_gone_the_gateway_answers_with_the_fallback_and_status_says_so() {
    let (seed, spec) = applied();
    delete_model(&seed.ollama.url, "codellama:13b");
    let out = status(&seed, &spec, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("answering with llama3.2:3b (fallback)"),
        "{text}"
    );
    assert!(
        text.contains(
            "the gateway uses the fallback llama3.2:3b: the primary codellama:13b is missing"
        ),
        "{text}"
    );
    assert!(
        text.contains("codellama:13b            primary   MISSING"),
        "{text}"
    );
}

#[test]
fn a_file_edited_outside_privai_is_drift_and_degraded() {
    let (seed, spec) = applied();
    let before = json(&status(&seed, &spec, &["--json"]));
    assert_eq!(before["pending_changes"], 0);
    let config = walk_find(&seed.root(), "config.yaml").expect("Headscale's config.yaml");
    std::fs::write(&config, "edited: by hand\n").unwrap();
    let out = status(&seed, &spec, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("change(s) pending (1 file(s) edited outside privai)"),
        "{text}"
    );
    assert!(text.contains("config.yaml"), "{text}");
    assert!(text.contains("`privai apply` makes them"), "{text}");
}

/// The first file named `name` under `dir`, outside the state directory.
fn walk_find(dir: &Path, name: &str) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()? {
        let path = entry.ok()?.path();
        if path.file_name().is_some_and(|n| n == ".privai") {
            continue;
        }
        if path.is_dir() {
            if let Some(found) = walk_find(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

#[test]
fn before_the_first_apply_status_says_nothing_is_installed() {
    let seed = Seed::with_ollama_having(&["codellama:13b", "llama3.2:3b"]);
    let spec = seed_spec(&seed, "");
    let out = status(&seed, &spec, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Generation: none (nothing applied yet)"),
        "{text}"
    );
    assert!(text.contains("nothing is installed yet"), "{text}");
}

#[test]
fn watch_reports_again_until_interrupted_reading_the_spec_each_round() {
    let (seed, spec) = applied();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("privai"))
        .args(["status", spec.to_str().unwrap(), "--root"])
        .arg(seed.root())
        .args(["--watch", "1"])
        .env("PRIVAI_TEST_SERVICES", seed.log())
        .env("PRIVAI_TEST_HS_KEY", HEADSCALE_KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3500));
    // The spec breaks: the next rounds say why, and the watch goes on.
    std::fs::write(&spec, "{ hosts = 42 }").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let alive = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.matches("System: healthy").count() >= 2, "{text}");
    assert!(alive, "the watch stopped at a broken spec");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no status: fix the errors above"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_staged_install_without_running_services_is_reported_without_asking_them() {
    // Installed staged, as status then looks at it: no service asked.
    let seed = Seed::with_ollama_having(&["codellama:13b", "llama3.2:3b"]);
    let spec = seed_spec(&seed, "");
    let root = seed.root();
    let out = privai(
        [
            OsStr::new("apply"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--auto-approve".as_ref(),
        ],
        &[("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY))],
    );
    assert!(out.status.success(), "{}", stdout(&out));
    seed.ollama.clear_log();
    seed.headscale.clear_log();
    let out = privai(
        [
            OsStr::new("status"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
        ],
        &[("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY))],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Headscale: not asked"), "{text}");
    assert!(text.contains("Ollama: not asked"), "{text}");
    assert!(text.contains("Ollama was not asked"), "{text}");
    assert!(!text.contains("not responding"), "{text}");
    // Nothing was asked of the stand-ins.
    assert_eq!(seed.ollama.log().len(), 0);
    assert_eq!(seed.headscale.log().len(), 0);
}

#[test]
fn a_key_rotation_job_launchd_does_not_have_loaded_is_degraded_and_each_job_s_state_is_shown() {
    use std::os::unix::fs::PermissionsExt;
    let (seed, spec) = applied();
    // A launchctl that knows every job but the key rotation.
    let bin = seed.dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let launchctl = bin.join("launchctl");
    std::fs::write(
        &launchctl,
        "#!/bin/sh\ncase \"$2\" in\n  */net.privai.rotate-keys) echo 'Could not find service \"net.privai.rotate-keys\"' >&2; exit 113;;\n  *) printf '%s = {\\n\\tstate = running\\n}\\n' \"$2\";;\nesac\n",
    )
    .unwrap();
    std::fs::set_permissions(&launchctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let root = seed.root();
    let out = privai(
        [
            OsStr::new("status"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
        ],
        &[
            ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
            ("PRIVAI_TEST_PASS_THROUGH", OsStr::new("launchctl")),
            ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
            ("PATH", OsStr::new(&path)),
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("ollama         ok       launchd net.privai.ollama (running)"),
        "{text}"
    );
    assert!(
        text.contains("key-rotation   -        launchd net.privai.rotate-keys (not loaded)"),
        "{text}"
    );
    assert!(
        text.contains(
            "the key-rotation job is not loaded (launchd net.privai.rotate-keys): it does not run"
        ),
        "{text}"
    );
}

#[test]
fn a_spec_that_does_not_check_gives_no_report_and_exits_3_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("privai.ncl");
    std::fs::write(&spec, "{ hosts = 42 }").unwrap();
    let root = dir.path().join("root");
    let out = privai(
        [
            OsStr::new("status"),
            spec.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no status: fix the errors above"),
        "{stderr}"
    );
}

#[test]
fn a_node_that_is_neither_a_device_nor_a_host_of_the_spec_is_named_with_how_to_remove_it() {
    let (seed, spec) = applied();
    let desktop = seed.headscale.join("desktop", "user1", &[]);
    seed.headscale.set_online(desktop, true);
    let host = seed.headscale.join("openclaw-server", "user1", &[]);
    seed.headscale.set_online(host, true);
    let stranger = seed.headscale.join("stranger-pc", "user2", &[]);
    seed.headscale.set_online(stranger, true);
    let out = status(&seed, &spec, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "1 node(s) on the tailnet are not in the spec: stranger-pc (id {stranger}, user2)"
        )),
        "{text}"
    );
    assert!(
        text.contains("`headscale nodes delete --identifier ID`"),
        "{text}"
    );
    assert!(!text.contains("desktop (id"), "{text}");
    assert!(!text.contains("openclaw-server (id"), "{text}");
}

#[test]
fn an_apply_killed_midway_is_reported_and_status_leaves_its_journal_for_the_next_apply() {
    let (seed, _) = applied();
    let changed = seed_spec(&seed, "  ollama.keep_alive | force = \"30m\",");
    let root = seed.root();
    let killed = privai(
        [
            OsStr::new("apply"),
            changed.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "--auto-approve".as_ref(),
        ],
        &[
            ("PRIVAI_TEST_SERVICES", seed.log().as_os_str()),
            ("PRIVAI_TEST_HS_KEY", OsStr::new(HEADSCALE_KEY)),
            ("PRIVAI_TEST_FAILPOINT", OsStr::new("1")),
        ],
    );
    assert!(!killed.status.success());
    let journal = root.join(".privai").join("journal.ndjson");
    assert!(journal.exists(), "the killed apply left its journal");
    let out = status(&seed, &changed, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("an apply is running, or was interrupted midway"),
        "{text}"
    );
    assert!(journal.exists(), "status recovers nothing");
}
