//! Service definitions: launchd plists (macOS) and hardened systemd units
//! (Linux) for Ollama, Headscale and the key-rotation job, and phase 6's
//! log rotation.
//!
//! External validators:
//! - plists are parsed by Python's `plistlib` (strict about XML and
//!   integers), which also checks launchd's keys.
//! - units go through `systemd-analyze verify` and
//!   `systemd-analyze security --offline=yes` (systemd 252 here). `verify`
//!   fails when an `ExecStart=` binary is missing, so every unit is written
//!   into a throw-away root (`--root=DIR`) that holds executable stand-ins at
//!   the binaries' paths; `--man=no` skips the check of `Documentation=`
//!   pages, and `--recursive-errors=no` makes warnings about the unit itself
//!   (unknown keys, bad values) fail the run, while leaving out the units it
//!   pulls in (the host's `network-online.target` and friends).
//!   `security --offline=yes` takes the unit file's path and needs nothing
//!   else.
//!
//! Both tools are required: a test fails, rather than skips, when one is
//! missing, so that CI cannot pass without running them.

use privai::model::{Host, Spec};
use privai::render::service::{self, Schedule, ServiceSpec};
use privai::render::{Artifact, Owner, ServiceId, render};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn load(path: &str) -> Spec {
    match privai::spec::load(&repo(path)) {
        Ok(loaded) => loaded.spec,
        Err(e) => panic!("{path} does not load: {:#?}", e.diagnostics),
    }
}

fn artifacts(path: &str) -> Vec<Artifact> {
    render(&load(path)).artifacts
}

fn find<'a>(artifacts: &'a [Artifact], path: &str) -> &'a Artifact {
    artifacts
        .iter()
        .find(|a| a.path == path)
        .unwrap_or_else(|| {
            let paths: Vec<&str> = artifacts.iter().map(|a| a.path.as_str()).collect();
            panic!("no artifact at {path}; have {paths:#?}")
        })
}

fn text(artifact: &Artifact) -> &str {
    std::str::from_utf8(&artifact.contents).expect("UTF-8 artifact")
}

fn plists(artifacts: &[Artifact]) -> Vec<&Artifact> {
    artifacts
        .iter()
        .filter(|a| a.path.ends_with(".plist"))
        .collect()
}

fn units(artifacts: &[Artifact]) -> Vec<&Artifact> {
    artifacts
        .iter()
        .filter(|a| a.path.starts_with("/etc/systemd/system/"))
        .collect()
}

/// Parses `artifact` with Python's plistlib and checks launchd's rules
/// there: `Label` equal to the file name, an absolute `ProgramArguments[0]`,
/// only keys launchd knows with the right types, and no `UserName`. Returns
/// the plist as JSON.
fn check_plist(artifact: &Artifact) -> serde_json::Value {
    const SCRIPT: &str = r#"
import json, os, plistlib, sys
path, name = sys.argv[1], sys.argv[2]
d = plistlib.load(open(path, "rb"))
assert isinstance(d, dict), d
types = {
    "Label": str, "ProgramArguments": list, "EnvironmentVariables": dict,
    "RunAtLoad": bool, "KeepAlive": (bool, dict), "StartCalendarInterval": dict,
    "StandardOutPath": str, "StandardErrorPath": str, "ProcessType": str,
    "ThrottleInterval": int, "Umask": int, "LimitLoadToSessionType": str,
    "StartInterval": int,
}
for key, value in d.items():
    assert key in types, f"unexpected key {key}"
    assert isinstance(value, types[key]), f"{key} has type {type(value)}"
assert d["Label"] == name[: -len(".plist")], (d["Label"], name)
argv = d["ProgramArguments"]
assert argv and all(isinstance(a, str) for a in argv), argv
assert argv[0].startswith("/"), argv
assert "UserName" not in d and "Program" not in d
assert d["ProcessType"] in ("Background", "Standard", "Adaptive", "Interactive")
assert d["ThrottleInterval"] >= 10 and d["Umask"] == 0o077
assert ("KeepAlive" in d) != ("StartCalendarInterval" in d or "StartInterval" in d), "daemon xor periodic"
assert not ("StartCalendarInterval" in d and "StartInterval" in d), "one schedule"
assert d.get("StartInterval", 60) >= 60, d.get("StartInterval")
for k, v in d.get("EnvironmentVariables", {}).items():
    assert isinstance(v, str), (k, v)
if "StartCalendarInterval" in d:
    when = d["StartCalendarInterval"]
    assert set(when) == {"Hour", "Minute"} and 0 <= when["Hour"] <= 23, when
for key in ("StandardOutPath", "StandardErrorPath"):
    if key in d:
        assert d[key].startswith("/") and not d[key].startswith("/tmp"), d[key]
print(json.dumps(d))
"#;
    let dir = tempfile::tempdir().unwrap();
    let name = Path::new(&artifact.path).file_name().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, &artifact.contents).unwrap();
    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(&file)
        .arg(name)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{} fails plistlib: {}\n{}",
        artifact.path,
        String::from_utf8_lossy(&out.stderr),
        text(artifact)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A throw-away root holding `units` under /etc/systemd/system and an
/// executable stand-in at every `ExecStart=` binary.
fn unit_root(units: &[&Artifact]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for unit in units {
        let path = root.path().join(unit.path.trim_start_matches('/'));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &unit.contents).unwrap();
        for line in text(unit).lines() {
            if let Some(command) = line
                .strip_prefix("ExecStart=")
                .or_else(|| line.strip_prefix("ExecReload="))
            {
                let binary = unquote_words(command).remove(0);
                let stand_in = root.path().join(binary.trim_start_matches('/'));
                std::fs::create_dir_all(stand_in.parent().unwrap()).unwrap();
                std::fs::write(&stand_in, "#!/bin/sh\n").unwrap();
                std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755))
                    .unwrap();
            }
        }
    }
    root
}

/// Runs `systemd-analyze verify` on every unit in `units` (in a root
/// holding a stand-in for each program it runs).
fn verify(units: &[&Artifact]) {
    assert!(!units.is_empty());
    let root = unit_root(units);
    for unit in units {
        let path = root.path().join(unit.path.trim_start_matches('/'));
        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no", "--recursive-errors=no"])
            .arg(format!("--root={}", root.path().display()))
            .arg(&path)
            .output()
            .expect("systemd-analyze runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{} fails verify ({}):\n{stderr}\n{}",
            unit.path,
            out.status,
            text(unit)
        );
    }
}

/// The overall exposure `systemd-analyze security --offline=yes` gives the
/// service unit `unit`.
fn exposure(unit: &Artifact) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(Path::new(&unit.path).file_name().unwrap());
    std::fs::write(&path, &unit.contents).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&path)
        .output()
        .expect("systemd-analyze runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| {
            panic!(
                "no exposure for {}:\n{stdout}\n{}",
                unit.path,
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let number = line
        .split(':')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("cannot parse {line:?}"));
    number
        .parse()
        .unwrap_or_else(|_| panic!("cannot parse {line:?}"))
}

/// Every service unit among `units` scores 2.0 or lower; returns the scores.
fn assert_exposure(units: &[&Artifact]) -> BTreeMap<String, f64> {
    let mut scores = BTreeMap::new();
    for unit in units.iter().filter(|u| u.path.ends_with(".service")) {
        let score = exposure(unit);
        assert!(
            score <= 2.0,
            "{} scores {score} > 2.0:\n{}",
            unit.path,
            text(unit)
        );
        eprintln!("{}: exposure {score}", unit.path);
        scores.insert(unit.path.clone(), score);
    }
    assert!(!scores.is_empty());
    scores
}

/// The values of setting `key` in a unit, as written.
fn setting<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .collect()
}

// ------------------------------------------------------------------ macOS

#[test]
fn the_seed_renders_launchd_jobs_that_plistlib_reads() {
    let artifacts = artifacts("examples/seed-home.ncl");
    let plists = plists(&artifacts);
    let paths: Vec<&str> = plists.iter().map(|a| a.path.as_str()).collect();
    for expected in [
        "/Library/LaunchDaemons/net.privai.headscale.plist",
        "~/Library/LaunchAgents/net.privai.ollama.plist",
        "~/Library/LaunchAgents/net.privai.rotate-keys.plist",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:#?}"
        );
    }
    for plist in &plists {
        check_plist(plist);
        assert_eq!(plist.mode, 0o644);
        let daemon = plist.path.starts_with("/Library/LaunchDaemons/");
        assert_eq!(
            plist.owner,
            if daemon { Owner::Root } else { Owner::User },
            "{}",
            plist.path
        );
        assert!(!plist.secret);
    }
    // No unit files on a Mac.
    assert!(units(&artifacts).is_empty());
}

#[test]
fn the_seeds_ollama_agent_carries_the_spec_settings() {
    let artifacts = artifacts("examples/seed-home.ncl");
    let ollama = find(&artifacts, "~/Library/LaunchAgents/net.privai.ollama.plist");
    assert_eq!(ollama.restarts, vec![ServiceId::Ollama]);
    let d = check_plist(ollama);
    assert_eq!(d["Label"], "net.privai.ollama");
    assert_eq!(
        d["ProgramArguments"],
        serde_json::json!(["/opt/homebrew/bin/ollama", "serve"])
    );
    let env = &d["EnvironmentVariables"];
    assert_eq!(env["OLLAMA_HOST"], "127.0.0.1:11434");
    assert_eq!(env["OLLAMA_KEEP_ALIVE"], "15m");
    assert_eq!(env["OLLAMA_MAX_LOADED_MODELS"], "2");
    assert_eq!(env["OLLAMA_NUM_PARALLEL"], "1");
    assert_eq!(env["OLLAMA_FLASH_ATTENTION"], "1");
    assert_eq!(env["OLLAMA_KV_CACHE_TYPE"], "q8_0");
    assert_eq!(env["OLLAMA_CONTEXT_LENGTH"], "16384");
    // No models_dir: Ollama's default under the operator's home applies
    // (launchd would not expand `~`). No origins: nothing extra allowed.
    assert!(env.get("OLLAMA_MODELS").is_none());
    assert!(env.get("OLLAMA_ORIGINS").is_none());
    assert_eq!(d["KeepAlive"], serde_json::json!({"SuccessfulExit": false}));
    assert_eq!(d["RunAtLoad"], true);
    assert_eq!(d["ProcessType"], "Interactive");
    assert_eq!(d["LimitLoadToSessionType"], "Aqua");
    assert_eq!(d["StandardOutPath"], "/usr/local/var/log/privai/ollama.log");
    assert_eq!(
        d["StandardErrorPath"],
        "/usr/local/var/log/privai/ollama.log"
    );
    insta::assert_snapshot!("seed_ollama_plist", text(ollama));
}

#[test]
fn the_seeds_key_rotation_runs_daily_in_the_background() {
    let spec = load("examples/seed-home.ncl");
    let artifacts = render(&spec).artifacts;
    let job = find(
        &artifacts,
        "~/Library/LaunchAgents/net.privai.rotate-keys.plist",
    );
    assert_eq!(job.restarts, vec![ServiceId::KeyRotation]);
    let d = check_plist(job);
    assert_eq!(
        d["ProgramArguments"],
        serde_json::json!(["/usr/local/bin/privai", "rotate-keys"])
    );
    assert_eq!(
        d["StartCalendarInterval"],
        serde_json::json!({"Hour": spec.monitoring.key_rotation.hour, "Minute": 0})
    );
    assert_eq!(d["RunAtLoad"], false);
    assert_eq!(d["ProcessType"], "Background");
    assert!(d.get("KeepAlive").is_none());
}

#[test]
fn the_seeds_logs_rotate_with_newsyslog() {
    let artifacts = artifacts("examples/seed-home.ncl");
    let conf = find(&artifacts, "/etc/newsyslog.d/privai.conf");
    assert_eq!((conf.owner, conf.mode), (Owner::Root, 0o644));
    let entries: Vec<Vec<&str>> = text(conf)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    // 10 MiB, 7 archives, as the seed says.
    assert_eq!(
        entries,
        vec![
            vec![
                "/usr/local/var/log/privai/headscale.log",
                "root:wheel",
                "640",
                "7",
                "10240",
                "*",
                "CN"
            ],
            vec![
                "/usr/local/var/log/privai/homeserver.log",
                "root:wheel",
                "640",
                "7",
                "10240",
                "*",
                "CN"
            ],
            vec![
                "/usr/local/var/log/privai/ollama.log",
                "640",
                "7",
                "10240",
                "*",
                "CN"
            ],
            vec![
                "/usr/local/var/log/privai/rotate-keys.log",
                "640",
                "7",
                "10240",
                "*",
                "CN"
            ],
            vec![
                "/usr/local/var/log/privai/monitor.log",
                "root:wheel",
                "640",
                "7",
                "10240",
                "*",
                "CN"
            ],
        ]
    );
    // Every log a plist names is rotated.
    for plist in plists(&artifacts) {
        if let Some(log) = check_plist(plist)["StandardOutPath"].as_str() {
            assert!(entries.iter().any(|e| e[0] == log), "{log} is not rotated");
        }
    }
}

// ------------------------------------------------------------------ Linux

#[test]
fn the_homelab_renders_units_that_verify_and_score_two_or_lower() {
    let artifacts = artifacts("examples/linux-homelab.ncl");
    let units = units(&artifacts);
    let paths: Vec<&str> = units.iter().map(|a| a.path.as_str()).collect();
    for expected in [
        "/etc/systemd/system/privai-headscale.service",
        "/etc/systemd/system/privai-ollama.service",
        "/etc/systemd/system/privai-rotate-keys.service",
        "/etc/systemd/system/privai-rotate-keys.timer",
        "/etc/systemd/system/privai-monitor.service",
        "/etc/systemd/system/privai-monitor.timer",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:#?}"
        );
    }
    for unit in &units {
        assert_eq!(
            (unit.owner, unit.mode, unit.secret),
            (Owner::Root, 0o644, false),
            "{}",
            unit.path
        );
    }
    verify(&units);
    let scores = assert_exposure(&units);
    assert_eq!(scores.len(), 4, "{scores:?}");
    // Linux services log to the journal: no logrotate file, no plist.
    assert!(
        artifacts
            .iter()
            .all(|a| a.path != "/etc/logrotate.d/privai")
    );
    assert!(plists(&artifacts).is_empty());
}

#[test]
fn the_homelabs_ollama_unit_is_sandboxed_with_gpu_access() {
    let artifacts = artifacts("examples/linux-homelab.ncl");
    let unit = find(&artifacts, "/etc/systemd/system/privai-ollama.service");
    assert_eq!(unit.restarts, vec![ServiceId::Ollama]);
    let t = text(unit);
    assert_eq!(setting(t, "ExecStart"), ["/usr/local/bin/ollama serve"]);
    let env = setting(t, "Environment");
    for expected in [
        "HOME=/var/lib/privai/ollama",
        "OLLAMA_HOST=127.0.0.1:11434",
        "OLLAMA_MODELS=/var/lib/privai/ollama/models",
        "OLLAMA_CONTEXT_LENGTH=32768",
        "OLLAMA_MAX_LOADED_MODELS=2",
        "OLLAMA_KV_CACHE_TYPE=q8_0",
        "OLLAMA_FLASH_ATTENTION=1",
    ] {
        assert!(env.contains(&expected), "{expected} missing from {env:#?}");
    }
    assert_eq!(setting(t, "DynamicUser"), ["yes"]);
    assert_eq!(setting(t, "StateDirectory"), ["privai/ollama"]);
    // The GPU: device nodes allowed, not hidden.
    assert!(setting(t, "PrivateDevices").is_empty());
    assert!(setting(t, "DeviceAllow").contains(&"char-nvidia-uvm rw"));
    assert!(setting(t, "DeviceAllow").contains(&"char-drm rw"));
    // Loopback only.
    assert_eq!(setting(t, "IPAddressDeny"), ["any"]);
    assert_eq!(setting(t, "IPAddressAllow"), ["localhost"]);
    assert_eq!(setting(t, "Restart"), ["on-failure"]);
    assert_eq!(setting(t, "WantedBy"), ["multi-user.target"]);
    insta::assert_snapshot!("homelab_ollama_unit", t);
}

#[test]
fn the_homelabs_key_rotation_is_a_oneshot_on_a_daily_timer() {
    let spec = load("examples/linux-homelab.ncl");
    let artifacts = render(&spec).artifacts;
    let service = text(find(
        &artifacts,
        "/etc/systemd/system/privai-rotate-keys.service",
    ));
    assert_eq!(setting(service, "Type"), ["oneshot"]);
    assert_eq!(
        setting(service, "ExecStart"),
        ["/usr/local/bin/privai rotate-keys"]
    );
    // Started by its timer, never at boot.
    assert!(!service.contains("[Install]"));
    let timer = find(&artifacts, "/etc/systemd/system/privai-rotate-keys.timer");
    assert_eq!(timer.restarts, vec![ServiceId::KeyRotation]);
    let t = text(timer);
    assert_eq!(
        setting(t, "OnCalendar"),
        [format!("*-*-* {:02}:00:00", spec.monitoring.key_rotation.hour).as_str()]
    );
    assert_eq!(setting(t, "Persistent"), ["true"]);
    assert_eq!(setting(t, "Unit"), ["privai-rotate-keys.service"]);
    insta::assert_snapshot!("homelab_rotate_keys_timer", t);
}

#[test]
fn key_rotation_can_be_turned_off() {
    let mut spec = load("examples/linux-homelab.ncl");
    spec.monitoring.key_rotation.enabled = false;
    let artifacts = render(&spec).artifacts;
    assert!(artifacts.iter().all(|a| !a.path.contains("rotate-keys")));
    let mut spec = load("examples/seed-home.ncl");
    spec.monitoring.key_rotation.enabled = false;
    spec.monitoring.log_rotation.enabled = false;
    let artifacts = render(&spec).artifacts;
    assert!(
        artifacts
            .iter()
            .all(|a| !a.path.contains("rotate-keys") && !a.path.contains("newsyslog"))
    );
}

#[test]
fn the_homelabs_monitor_is_a_hardened_oneshot_on_a_timer_every_interval_without_network() {
    let mut spec = load("examples/linux-homelab.ncl");
    spec.monitoring.alerts.interval_minutes = 7;
    let artifacts = render(&spec).artifacts;
    let unit = find(&artifacts, "/etc/systemd/system/privai-monitor.service");
    assert_eq!(unit.restarts, vec![ServiceId::Monitor]);
    let service = text(unit);
    assert_eq!(setting(service, "Type"), ["oneshot"]);
    assert_eq!(
        setting(service, "ExecStart"),
        ["/usr/local/bin/privai monitor --once"]
    );
    // Exit 2 is "alerts raised": a pass that did its job, not a failure.
    assert_eq!(setting(service, "SuccessExitStatus"), ["2"]);
    // Root without capabilities (it reads root's journal and writes
    // privai's state, never a dynamic user's copy of it), no network.
    assert!(setting(service, "DynamicUser").is_empty());
    assert!(setting(service, "StateDirectory").is_empty());
    assert_eq!(
        setting(service, "ReadWritePaths"),
        ["/var/lib/privai/state"]
    );
    assert_eq!(setting(service, "CapabilityBoundingSet"), [""]);
    assert_eq!(setting(service, "IPAddressDeny"), ["any"]);
    assert!(!service.contains("[Install]"));
    let score = exposure(unit);
    assert!(score <= 2.0, "exposure {score}:\n{service}");
    let timer = text(find(&artifacts, "/etc/systemd/system/privai-monitor.timer"));
    assert_eq!(setting(timer, "OnUnitActiveSec"), ["7min"]);
    assert_eq!(setting(timer, "OnBootSec"), ["1min"]);
    assert!(setting(timer, "OnCalendar").is_empty());
    assert_eq!(setting(timer, "Unit"), ["privai-monitor.service"]);
    verify(&[
        unit,
        find(&artifacts, "/etc/systemd/system/privai-monitor.timer"),
    ]);
    insta::assert_snapshot!("homelab_monitor_timer", timer);
}

#[test]
fn the_seeds_monitor_is_a_launch_daemon_every_five_minutes_and_can_be_turned_off() {
    let mut spec = load("examples/seed-home.ncl");
    let artifacts = render(&spec).artifacts;
    let plist = find(
        &artifacts,
        "/Library/LaunchDaemons/net.privai.monitor.plist",
    );
    assert_eq!(plist.owner, Owner::Root);
    let d = check_plist(plist);
    assert_eq!(
        d["ProgramArguments"],
        serde_json::json!(["/usr/local/bin/privai", "monitor", "--once"])
    );
    assert_eq!(d["StartInterval"], 300);
    assert_eq!(d["RunAtLoad"], false);
    assert_eq!(d["ProcessType"], "Background");
    assert_eq!(
        d["StandardOutPath"],
        "/usr/local/var/log/privai/monitor.log"
    );
    spec.monitoring.alerts.enabled = false;
    let artifacts = render(&spec).artifacts;
    assert!(artifacts.iter().all(|a| !a.path.contains("monitor")));
}

// --------------------------------------------------------------- escaping

#[test]
fn awkward_values_survive_the_plist() {
    let spec = load("tests/fixtures/services/escaping-darwin.ncl");
    let artifacts = render(&spec).artifacts;
    for plist in plists(&artifacts) {
        check_plist(plist);
    }
    let d = check_plist(find(
        &artifacts,
        "~/Library/LaunchAgents/net.privai.ollama.plist",
    ));
    let env = &d["EnvironmentVariables"];
    assert_eq!(
        env["OLLAMA_MODELS"],
        spec.ollama.models_dir.as_deref().unwrap()
    );
    assert_eq!(env["OLLAMA_ORIGINS"], spec.ollama.origins.join(","));
}

#[test]
fn awkward_values_survive_the_unit() {
    let spec = load("tests/fixtures/services/escaping-linux.ncl");
    let artifacts = render(&spec).artifacts;
    let units = units(&artifacts);
    verify(&units);
    assert_exposure(&units);
    let unit = text(find(
        &artifacts,
        "/etc/systemd/system/privai-ollama.service",
    ));
    let models = spec.ollama.models_dir.as_deref().unwrap();
    let env = systemd_environment(unit);
    assert_eq!(env["OLLAMA_MODELS"], models);
    assert_eq!(env["OLLAMA_ORIGINS"], spec.ollama.origins.join(","));
}

/// A hand-made service whose argv, environment and paths need every kind of
/// escaping: the plist round-trips them exactly, the unit verifies, and
/// systemd reads back the same argv and environment.
#[test]
fn awkward_argv_and_environment_round_trip() {
    let nasty = [
        "plain",
        "with space",
        "quote\"d",
        "single'quote",
        "amp&<lt>",
        "100%",
        "$HOME and ${X}",
        "back\\slash",
        "ünïcödé ✓",
        ";",
        "",
        "tab\there",
    ];
    let mut environment = BTreeMap::new();
    for (i, v) in nasty.iter().enumerate() {
        environment.insert(format!("V{i:02}"), (*v).to_owned());
    }
    let mut program = vec!["/opt/odd dir/bin/tool".to_owned()];
    program.extend(nasty.iter().map(|s| (*s).to_owned()));
    let service = ServiceSpec {
        name: "odd",
        description: "Odd 100% \"service\" ü".to_owned(),
        program: program.clone(),
        environment: environment.clone(),
        system: true,
        schedule: Schedule::Daemon,
        binds_privileged_port: true,
        network: true,
        gpu: false,
        writable_paths: vec![
            "/var/lib/privai/odd dir".to_owned(),
            "/srv/data \"x\" ü".to_owned(),
        ],
        readable_paths: vec!["/etc/privai/odd 100%.conf".to_owned()],
        log_file: Some("/usr/local/var/log/privai/odd & <x>.log".to_owned()),
        id: ServiceId::Headscale,
        reloads_on_sighup: false,
        credentials: Vec::new(),
        success_exit_statuses: Vec::new(),
    };

    let mac = host("darwin");
    let [plist] = service::files(&service, &mac)
        .try_into()
        .expect("one plist");
    assert_eq!(plist.path, "/Library/LaunchDaemons/net.privai.odd.plist");
    let d = check_plist(&plist);
    assert_eq!(d["ProgramArguments"], serde_json::json!(program));
    assert_eq!(d["EnvironmentVariables"], serde_json::json!(environment));
    assert_eq!(
        d["StandardOutPath"],
        "/usr/local/var/log/privai/odd & <x>.log"
    );

    let linux = host("linux");
    let files = service::files(&service, &linux);
    let units: Vec<&Artifact> = files.iter().collect();
    verify(&units);
    assert_exposure(&units);
    let unit = text(units[0]);
    assert_eq!(systemd_environment(unit), environment);
    assert_eq!(systemd_argv(unit), program);
}

fn host(platform: &str) -> Host {
    serde_json::from_value(serde_json::json!({
        "name": "h", "platform": platform, "arch": "aarch64", "ram_gb": 16,
        "roles": [], "tags": [],
    }))
    .unwrap()
}

/// The environment systemd gives the service of `unit`. Reading it back from
/// systemd needs PID 1 (`systemctl show`), so this is a reader of
/// systemd.syntax(7) quoting; `verify` proves systemd accepts the lines.
fn systemd_environment(unit: &str) -> BTreeMap<String, String> {
    setting(unit, "Environment")
        .into_iter()
        .map(|value| {
            let [word] = unquote_words(value)
                .try_into()
                .expect("one word per Environment=");
            let (k, v) = word.split_once('=').expect("KEY=value");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn systemd_argv(unit: &str) -> Vec<String> {
    let [line] = setting(unit, "ExecStart")
        .try_into()
        .expect("one ExecStart=");
    unquote_words(line)
        .into_iter()
        .map(|w| w.replace("$$", "$"))
        .collect()
}

/// systemd.syntax(7) word splitting with C unescaping and `%%` → `%`.
fn unquote_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut word = String::new();
        if first == '"' {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next().unwrap() {
                        'n' => word.push('\n'),
                        't' => word.push('\t'),
                        other => word.push(other),
                    },
                    c => word.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        words.push(word.replace("%%", "%"));
    }
    words
}

/// The gateway's health URL in the rendered units of `spec`.
fn gateway_health(spec: &Spec) -> String {
    use privai::render::units::{Health, units};
    let units = units(spec);
    let gateway = units
        .iter()
        .find(|u| u.id == ServiceId::Gateway)
        .expect("a gateway unit");
    match &gateway.health {
        Some(Health::Http { url }) => url.clone(),
        other => panic!("the gateway's health check is {other:?}"),
    }
}

#[test]
fn the_gateways_health_check_probes_the_address_the_spec_publishes_it_on() {
    // The seed publishes the gateway on its tailnet address only (the relay
    // listens there, podman publishes there): loopback does not answer.
    let mut spec = load("examples/seed-home.ncl");
    assert_eq!(spec.openclaw.bind, "100.64.0.1");
    assert_eq!(gateway_health(&spec), "http://100.64.0.1:18789/healthz");
    spec.openclaw.bind = "0.0.0.0".into();
    assert_eq!(gateway_health(&spec), "http://127.0.0.1:18789/healthz");
    spec.openclaw.bind = "127.0.0.1".into();
    assert_eq!(gateway_health(&spec), "http://127.0.0.1:18789/healthz");
}

// ------------------------------------------------------------- homeserver

#[test]
fn the_homeservers_unit_verifies_and_scores_two_or_lower() {
    let artifacts = artifacts("tests/fixtures/homeserver/home.ncl");
    let unit = find(&artifacts, "/etc/systemd/system/privai-homeserver.service");
    verify(&[unit]);
    let scores = assert_exposure(&[unit]);
    assert_eq!(scores.len(), 1);
    let text = text(unit);
    // A dynamic user with its state under /var/lib, the secret handed over
    // as a credential (not read from privai's root-only directory), on the
    // network (it listens on the tailnet address).
    assert_eq!(setting(text, "DynamicUser"), ["yes"]);
    assert_eq!(setting(text, "StateDirectory"), ["privai/homeserver"]);
    assert_eq!(
        setting(text, "LoadCredential"),
        ["registration-shared-secret:/etc/privai/secrets/homeserver-registration-secret"]
    );
    assert!(setting(text, "IPAddressDeny").is_empty());
    assert_eq!(
        systemd_argv(text),
        [
            "/opt/venvs/matrix-synapse/bin/python",
            "-m",
            "synapse.app.homeserver",
            "--config-path",
            "/etc/privai/homeserver/homeserver.yaml",
        ]
    );
}

#[test]
fn the_homeserver_on_macos_is_a_launchd_daemon_plistlib_reads() {
    let mut spec = load("tests/fixtures/homeserver/home.ncl");
    spec.hosts[0].platform = privai::model::Platform::Darwin;
    let artifacts = render(&spec).artifacts;
    let plist = find(
        &artifacts,
        "/Library/LaunchDaemons/net.privai.homeserver.plist",
    );
    let d = check_plist(plist);
    assert_eq!(d["KeepAlive"], serde_json::json!({"SuccessfulExit": false}));
    assert_eq!(
        d["ProgramArguments"],
        serde_json::json!([
            "/opt/venvs/matrix-synapse/bin/python",
            "-m",
            "synapse.app.homeserver",
            "--config-path",
            "/usr/local/etc/privai/homeserver/homeserver.yaml"
        ])
    );
    assert_eq!(
        d["StandardErrorPath"],
        "/usr/local/var/log/privai/homeserver.log"
    );
    // The registration secret sits in the root-only state directory, where
    // Synapse (root) reads it directly.
    let secrets = render(&spec).secrets;
    assert!(
        secrets.iter().any(|s| s.path
            == "/usr/local/var/lib/privai/homeserver/registration-shared-secret"
            && s.restarts == [ServiceId::Homeserver]),
        "{secrets:?}"
    );
}
