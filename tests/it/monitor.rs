//! `privai monitor`, as the installed job runs it: the seed staged with
//! `privai apply --root`, the job's command line taken from the launchd job
//! privai rendered there, run against the real log lines of
//! `tests/fixtures/monitor/` (see its README) placed where the services
//! write their logs; and against the log of a real Ollama made to run out
//! of memory.

use crate::apply::{privai, stdout};
use crate::real::ollama::{Ollama, tiny_gguf_with};
use crate::tools::{repo, show};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The seed applied under a temporary root.
struct Staged {
    dir: tempfile::TempDir,
}

impl Staged {
    fn new(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            repo("examples/seed-home.ncl"),
            dir.path().join("seed-home.ncl"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("spec.ncl"),
            format!("(import \"seed-home.ncl\") & {{\n{extra}\n}}\n"),
        )
        .unwrap();
        let staged = Self { dir };
        let out = privai(
            [
                OsString::from("apply"),
                "--auto-approve".into(),
                "--root".into(),
                staged.root().into(),
                staged.spec().into(),
            ],
            &[],
        );
        assert!(out.status.success(), "{}", show(&out));
        staged
    }

    fn spec(&self) -> PathBuf {
        self.dir.path().join("spec.ncl")
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// Where the Headscale host's service `name` logs, under the root.
    fn log(&self, name: &str) -> PathBuf {
        self.root()
            .join("openclaw-server/usr/local/var/log/privai")
            .join(format!("{name}.log"))
    }

    fn place(&self, name: &str, text: &str) {
        let path = self.log(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn append(&self, name: &str, text: &str) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(self.log(name))
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    /// The argv of the installed monitor job (the rendered LaunchDaemon).
    fn job(&self) -> Vec<String> {
        let plist = self
            .root()
            .join("openclaw-server/Library/LaunchDaemons/net.privai.monitor.plist");
        let value = plist::Value::from_file(&plist).unwrap();
        value
            .as_dictionary()
            .and_then(|d| d.get("ProgramArguments"))
            .and_then(|a| a.as_array())
            .unwrap()
            .iter()
            .map(|v| v.as_string().unwrap().to_owned())
            .collect()
    }

    /// Runs the job's command line, with this build of privai for
    /// `/usr/local/bin/privai` and the staged root, plus `more`.
    fn run_job(&self, more: &[&str]) -> Output {
        let job = self.job();
        assert_eq!(job, ["/usr/local/bin/privai", "monitor", "--once"]);
        let mut args: Vec<OsString> = job[1..].iter().map(OsString::from).collect();
        args.extend(["--root".into(), self.root().into()]);
        args.extend(more.iter().map(OsString::from));
        privai(args, &[])
    }

    fn alerts(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.root().join(".privai/alerts.ndjson"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(repo(&format!("tests/fixtures/monitor/{name}"))).unwrap()
}

fn kinds(alerts: &[serde_json::Value]) -> Vec<&str> {
    alerts.iter().map(|a| a["kind"].as_str().unwrap()).collect()
}

#[test]
fn the_installed_jobs_command_line_alerts_once_on_real_headscale_and_ollama_lines() {
    let staged = Staged::new("");
    staged.place("headscale", &fixture("headscale.log"));
    staged.place("ollama", &fixture("ollama.log"));
    let first = staged.run_job(&[]);
    assert_eq!(first.status.code(), Some(2), "{}", show(&first));
    let alerts = staged.alerts();
    assert_eq!(
        kinds(&alerts),
        [
            "unexpected-node",
            "auth-failures",
            "ollama-out-of-memory",
            "ollama-crash"
        ]
    );
    assert!(
        alerts[0]["summary"]
            .as_str()
            .unwrap()
            .starts_with("node `rogue-box` of user `intruder` connected to Headscale")
    );
    let text = stdout(&first);
    assert!(text.contains("Alerts (4):"), "{text}");
    assert!(
        text.contains("headscale on openclaw-server: 46 new lines"),
        "{text}"
    );
    // The log is the owner's alone.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(staged.root().join(".privai/alerts.ndjson"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // The next run reads only what is new: nothing, then one more node.
    let again = staged.run_job(&[]);
    assert_eq!(again.status.code(), Some(0), "{}", show(&again));
    assert!(stdout(&again).contains("No alert."));
    assert_eq!(staged.alerts().len(), 4);
    let node = fixture("headscale.log")
        .lines()
        .find(|l| l.contains(" node connected "))
        .unwrap()
        .replace("rogue-box", "second-rogue");
    staged.append("headscale", &format!("{node}\n"));
    let third = staged.run_job(&["--json"]);
    assert_eq!(third.status.code(), Some(2), "{}", show(&third));
    let report: serde_json::Value = serde_json::from_slice(&third.stdout).unwrap();
    assert_eq!(report["alerts"].as_array().unwrap().len(), 1);
    assert!(
        report["alerts"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("`second-rogue`")
    );
    assert_eq!(report["read"][0]["lines"], 1);
    assert_eq!(staged.alerts().len(), 5);
}

#[test]
fn rules_of_the_spec_turn_alerts_off() {
    let staged = Staged::new(
        "  monitoring.alerts = { unexpected_nodes = false, ollama_failures = false, auth_failures.threshold = 6 },",
    );
    staged.place("headscale", &fixture("headscale.log"));
    staged.place("ollama", &fixture("ollama.log"));
    let out = staged.run_job(&[]);
    // Five refusals under a threshold of six, the node and Ollama off.
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(staged.alerts().is_empty());
}

/// A certificate from the real `openssl req`, valid `days` days.
fn openssl_cert(dir: &Path, days: u32) -> PathBuf {
    let cert = dir.join("short.crt");
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=headscale.home.arpa",
            "-days",
        ])
        .arg(days.to_string())
        .arg("-keyout")
        .arg(dir.join("short.key"))
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs (a missing openssl is a failure, never a skip)");
    assert!(out.status.success(), "{}", show(&out));
    cert
}

#[test]
fn a_certificate_near_its_end_alerts_once_a_day_and_privais_own_reads_as_openssl_reads_it() {
    let staged = Staged::new("");
    let installed = staged
        .root()
        .join("openclaw-server/etc/privai/tls/headscale.crt");
    // privai's self-signed certificate: notAfter as openssl reads it.
    let pem = std::fs::read_to_string(&installed).unwrap();
    let ours = privai::monitor::cert::not_after(&pem).unwrap();
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-enddate", "-dateopt", "iso_8601", "-in"])
        .arg(&installed)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    let iso = said
        .trim()
        .trim_start_matches("notAfter=")
        .replace(' ', "T");
    assert_eq!(ours, humantime::parse_rfc3339(&iso).unwrap(), "{said}");

    let quiet = staged.run_job(&[]);
    assert_eq!(quiet.status.code(), Some(0), "{}", show(&quiet));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(openssl_cert(dir.path(), 3), &installed).unwrap();
    let soon = staged.run_job(&[]);
    assert_eq!(soon.status.code(), Some(2), "{}", show(&soon));
    let alerts = staged.alerts();
    assert_eq!(kinds(&alerts), ["certificate-expiry"]);
    let summary = alerts[0]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("the certificate `/etc/privai/tls/headscale.crt` expires in 2 days")
            || summary
                .starts_with("the certificate `/etc/privai/tls/headscale.crt` expires in 3 days"),
        "{summary}"
    );
    // Not again within the day.
    let later = staged.run_job(&[]);
    assert_eq!(later.status.code(), Some(0), "{}", show(&later));
}

#[test]
fn a_real_ollama_out_of_memory_is_alerted_from_its_own_log() {
    let ollama = Ollama::start();
    let gguf = tiny_gguf_with(ollama.dir.path(), 7, &["--context", "200000000"]);
    let modelfile = ollama.dir.path().join("Modelfile-huge");
    std::fs::write(&modelfile, format!("FROM {}\n", gguf.display())).unwrap();
    ollama.cli(&["create", "huge", "-f", modelfile.to_str().unwrap()]);
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let answer: serde_json::Value = client
        .post(format!("{}/api/generate", ollama.url))
        .json(&serde_json::json!({
            "model": "huge", "prompt": "hi", "stream": false,
            "options": {"num_ctx": 150_000_000, "num_predict": 1},
        }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("more system memory")),
        "{answer}"
    );
    let staged = Staged::new("");
    let log = std::fs::read_to_string(ollama.dir.path().join("serve.log")).unwrap();
    staged.place("ollama", &log);
    let out = staged.run_job(&[]);
    assert_eq!(out.status.code(), Some(2), "{}\n{log}", show(&out));
    let alerts = staged.alerts();
    assert_eq!(kinds(&alerts), ["ollama-out-of-memory"], "{log}");
    assert!(
        alerts[0]["summary"]
            .as_str()
            .unwrap()
            .contains("model requires more system memory")
    );
}

/// Writes the captured lines of each `(unit, fixture)` into a real journal
/// with the real systemd-journald, started in a mount namespace of its own
/// (a private `/run`; this machine runs no journald), each line sent by
/// `logger --journald` as an entry about the unit (`OBJECT_SYSTEMD_UNIT=`,
/// which `journalctl -u` matches for root's entries); then stops journald
/// and copies its journal files into `target`.
fn real_journal(target: &Path, units: &[(&str, &str)]) {
    const SCRIPT: &str = r#"
set -e
target="$1"; shift
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/journal /run/log/journal
/usr/lib/systemd/systemd-journald &
journald=$!
i=0
while [ ! -S /run/systemd/journal/socket ]; do
  i=$((i+1)); [ $i -lt 100 ] || { echo "journald did not start" >&2; exit 1; }
  sleep 0.1
done
while [ $# -gt 0 ]; do
  unit="$1"; file="$2"; shift 2
  while IFS= read -r line; do
    printf 'MESSAGE=%s
OBJECT_SYSTEMD_UNIT=%s
SYSLOG_IDENTIFIER=%s
' "$line" "$unit" "${unit%.service}" | logger --journald
  done < "$file"
done
kill -TERM $journald
wait $journald || true
cp -r /run/log/journal/. "$target"
"#;
    std::fs::create_dir_all(target).unwrap();
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c", SCRIPT, "sh"]).arg(target);
    for (unit, name) in units {
        cmd.arg(unit)
            .arg(repo(&format!("tests/fixtures/monitor/{name}")));
    }
    let out = cmd
        .output()
        .expect("unshare runs (a missing tool is a failure, never a skip)");
    assert!(out.status.success(), "real journal: {}", show(&out));
}

#[test]
fn the_linux_units_command_line_reads_the_real_journal_after_its_cursor_and_alerts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo("examples/linux-homelab.ncl"),
        dir.path().join("homelab.ncl"),
    )
    .unwrap();
    let spec = dir.path().join("homelab.ncl");
    let root = dir.path().join("root");
    let token = [(
        "OPENCLAW_GATEWAY_TOKEN",
        std::ffi::OsStr::new("test-gateway-token"),
    )];
    let out = privai(
        [
            OsString::from("apply"),
            "--auto-approve".into(),
            "--root".into(),
            root.clone().into(),
            spec.clone().into(),
        ],
        &token,
    );
    assert!(out.status.success(), "{}", show(&out));
    let unit =
        std::fs::read_to_string(root.join("homelab/etc/systemd/system/privai-monitor.service"))
            .unwrap();
    let exec: Vec<&str> = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap()
        .split(' ')
        .collect();
    assert_eq!(exec, ["/usr/local/bin/privai", "monitor", "--once"]);
    // The homelab's journal, under the root where the host keeps it.
    real_journal(
        &root.join("homelab/var/log/journal"),
        &[
            ("privai-headscale.service", "headscale.log"),
            ("privai-ollama.service", "ollama.log"),
        ],
    );
    let run = || {
        let mut args: Vec<OsString> = exec[1..].iter().map(OsString::from).collect();
        args.extend(["--root".into(), root.clone().into()]);
        privai(args, &token)
    };
    let first = run();
    assert_eq!(first.status.code(), Some(2), "{}", show(&first));
    let text = stdout(&first);
    assert!(
        text.contains("headscale on homelab: 46 new lines (journal:")
            && text.contains("ollama on homelab: 50 new lines (journal:"),
        "{text}"
    );
    let alerts: Vec<serde_json::Value> =
        std::fs::read_to_string(root.join(".privai/alerts.ndjson"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    assert_eq!(
        kinds(&alerts),
        [
            "unexpected-node",
            "auth-failures",
            "ollama-out-of-memory",
            "ollama-crash"
        ]
    );
    // The journal's cursors are kept; the next pass reads after them.
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join(".privai/monitor.json")).unwrap()).unwrap();
    let positions = state["positions"]["sources"].as_object().unwrap();
    assert_eq!(positions.len(), 2, "{state:#}");
    assert!(
        positions
            .values()
            .all(|p| p["kind"] == "cursor" && p["cursor"].as_str().unwrap().starts_with("s=")),
        "{state:#}"
    );
    let second = run();
    assert_eq!(second.status.code(), Some(0), "{}", show(&second));
    assert!(stdout(&second).contains("headscale on homelab: 0 new lines"));
}

#[test]
fn without_once_the_monitor_passes_again_and_again() {
    let staged = Staged::new("");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("privai"))
        .args(["monitor", "--root"])
        .arg(staged.root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The first pass runs at once; a log written afterwards waits for the
    // next pass, `interval_minutes` later: here the first pass is enough
    // to see it keeps running rather than exiting.
    staged.place("headscale", &fixture("headscale.log"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut state = None;
    while std::time::Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(staged.root().join(".privai/monitor.json")) {
            state = Some(text);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // A pass that ended would have exited well within two seconds.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(state.is_some(), "no pass was made");
    assert!(
        still_running,
        "the monitor exited after one pass without --once"
    );
}
