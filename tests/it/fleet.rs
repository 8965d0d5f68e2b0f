//! More than one machine, over the real OpenSSH: three hosts of the split
//! seed (`examples/seed-fleet.ncl`), each a network namespace running
//! Debian's `sshd` (its own host key, the test's authorized key), and the
//! operator's laptop, a fourth namespace, running `privai apply` with the
//! system's `ssh` and a `known_hosts` the test wrote. Each namespace has
//! its own `/etc/passwd` (bound over the machine's by `ip netns exec`), so
//! root's home, where privai keeps its copy, the spec and the host's
//! state, is a directory of that host alone.
//!
//! The services cannot really run in these namespaces (no systemd, no
//! Ollama, no podman there), so each host stages its part with
//! `--host-root stage` (`--root ~/stage --host NAME` on the host):
//! generations, journal, lock and files are real, on each host; services
//! are not started, except where a test asks the host to record them and
//! run their health checks for real (`PRIVAI_TEST_SERVICES`, set by that
//! host's `sshd`).

use crate::tailnet::net::{Host, Net};
use crate::tools::{repo, show, which};
use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The hosts of the split seed, in spec order.
pub const HOSTS: [&str; 3] = ["headscale-server", "ollama-server", "openclaw-server"];

/// One host of the fleet: its namespace and its home (root's, there).
pub struct Machine {
    pub name: String,
    pub host: Host,
    pub home: PathBuf,
}

/// The test fleet: the laptop and the three hosts, `sshd` on each host.
pub struct Fleet {
    /// The namespaces and their `sshd`s, torn down first when the fleet is
    /// dropped.
    _net: Net,
    pub dir: tempfile::TempDir,
    pub laptop: Machine,
    pub hosts: Vec<Machine>,
    pub spec: PathBuf,
}

/// `program` on `PATH`; fails (never skips) without it.
fn required(program: &str, package: &str) -> PathBuf {
    which(program).unwrap_or_else(|| {
        panic!("{program} is not installed: apt-get install -y {package} (tests/run.sh does)")
    })
}

/// Runs `program ARGS` here, panicking with its output when it fails.
fn run(program: &Path, args: &[&str]) -> Output {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        program.display(),
        show(&out)
    );
    out
}

/// Options of one host's `sshd`.
#[derive(Default, Clone)]
pub struct HostOptions {
    /// `SetEnv` lines: the environment privai gets there.
    pub env: Vec<(String, String)>,
    /// Do not start its `sshd` (the host does not answer).
    pub down: bool,
    /// The operator logs in as `admin` (uid 1500, in this host's own
    /// passwd and shadow) and privai runs through Debian's `sudo -n` (the
    /// host's own sudoers: admin, no password).
    pub sudo: bool,
}

/// The uid of the `admin` user of a [`HostOptions::sudo`] host.
const ADMIN_UID: u32 = 1500;

impl Fleet {
    /// The fleet with every host answering.
    pub fn start() -> Self {
        Self::with(|_| HostOptions::default())
    }

    /// The fleet, each host's `sshd` as `options(NAME)` says.
    pub fn with(options: impl Fn(&str) -> HostOptions) -> Self {
        let sshd = required("sshd", "openssh-server");
        let keygen = required("ssh-keygen", "openssh-client");
        required("ssh", "openssh-client");
        let dir = tempfile::tempdir().unwrap();
        let mut net = Net::new();
        let laptop_host = net.add_host("laptop");
        let servers: Vec<Host> = HOSTS.iter().map(|h| net.add_host(h)).collect();
        for (name, host) in HOSTS.iter().zip(&servers) {
            net.name(&format!("{name}.test"), host.ip);
        }
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
        let home_of = |host: &Host, admin: bool| {
            let home = dir.path().join("homes").join(&host.name);
            std::fs::create_dir_all(home.join(".ssh")).unwrap();
            // Root's home is this host's own directory, there only.
            let own: String = passwd
                .lines()
                .map(|line| {
                    let mut fields: Vec<&str> = line.split(':').collect();
                    let home = home.display().to_string();
                    if fields.first() == Some(&"root") && fields.len() > 5 {
                        fields[5] = &home;
                        return fields.join(":") + "\n";
                    }
                    format!("{line}\n")
                })
                .chain(admin.then(|| {
                    format!(
                        "admin:x:{ADMIN_UID}:{ADMIN_UID}::{}:/bin/sh\n",
                        home.display()
                    )
                }))
                .collect();
            std::fs::write(Path::new("/etc/netns").join(&host.ns).join("passwd"), own).unwrap();
            home
        };
        let laptop = Machine {
            name: "laptop".into(),
            home: home_of(&laptop_host, false),
            host: laptop_host,
        };
        // The operator's key, made by the test.
        let key = laptop.home.join(".ssh/id_ed25519");
        run(
            &keygen,
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "operator",
                "-f",
                key.to_str().unwrap(),
            ],
        );
        let authorized = dir.path().join("authorized_keys");
        std::fs::copy(key.with_extension("pub"), &authorized).unwrap();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let mut known_hosts = String::new();
        let mut sudo_hosts = Vec::new();
        let mut hosts = Vec::new();
        for (name, host) in HOSTS.iter().zip(servers) {
            let options = options(name);
            let home = home_of(&host, options.sudo);
            if options.sudo {
                let etc = Path::new("/etc/netns").join(&host.ns);
                std::fs::write(etc.join("sudoers"), "admin ALL=(ALL:ALL) NOPASSWD: ALL\n").unwrap();
                std::fs::set_permissions(
                    etc.join("sudoers"),
                    std::os::unix::fs::PermissionsExt::from_mode(0o440),
                )
                .unwrap();
                // sudo's PAM account check reads admin's shadow entry.
                let shadow = std::fs::read_to_string("/etc/shadow").unwrap()
                    + "admin:*:20000:0:99999:7:::\n";
                std::fs::write(etc.join("shadow"), shadow).unwrap();
                std::fs::set_permissions(
                    etc.join("shadow"),
                    std::os::unix::fs::PermissionsExt::from_mode(0o600),
                )
                .unwrap();
                for dir in [home.clone(), home.join(".ssh")] {
                    std::os::unix::fs::chown(&dir, Some(ADMIN_UID), Some(ADMIN_UID)).unwrap();
                }
                sudo_hosts.push(*name);
            }
            let host_key = dir.path().join(format!("{name}_host_ed25519"));
            run(
                &keygen,
                &[
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-f",
                    host_key.to_str().unwrap(),
                ],
            );
            let public = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
            known_hosts.push_str(&format!("{name}.test,{} {public}", host.ip));
            let mut config = format!(
                "ListenAddress {}\nPort 22\nHostKey {}\nAuthorizedKeysFile {}\nPidFile none\nStrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n",
                host.ip,
                host_key.display(),
                authorized.display()
            );
            if !options.env.is_empty() {
                let env: Vec<String> = options
                    .env
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                config.push_str(&format!("SetEnv {}\n", env.join(" ")));
            }
            let config_path = dir.path().join(format!("{name}_sshd_config"));
            std::fs::write(&config_path, config).unwrap();
            if !options.down {
                let log = dir.path().join(format!("{name}_sshd.log"));
                net.spawn(
                    &host,
                    &sshd,
                    &[
                        "-D".into(),
                        "-e".into(),
                        "-f".into(),
                        config_path.display().to_string(),
                    ],
                    &[],
                    &log,
                );
                let deadline = Instant::now() + Duration::from_secs(20);
                while !laptop
                    .host
                    .connects((host.ip, 22).into(), Duration::from_millis(200))
                {
                    assert!(
                        Instant::now() < deadline,
                        "sshd on {name} does not listen: {}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            hosts.push(Machine {
                name: (*name).to_owned(),
                host,
                home,
            });
        }
        std::fs::write(laptop.home.join(".ssh/known_hosts"), known_hosts).unwrap();
        // The split seed as the operator would write it for these
        // machines: root logs in (no sudo there), `NAME.test` resolves.
        let mut text = std::fs::read_to_string(repo("examples/seed-fleet.ncl"))
            .unwrap()
            .replace(
                "admin@headscale-server.home.arpa",
                "root@headscale-server.test",
            )
            .replace("admin@gpu-box.home.arpa", "root@ollama-server.test")
            .replace(
                "admin@openclaw-server.home.arpa",
                "root@openclaw-server.test",
            )
            .replace("sudo = true", "sudo = false");
        // A sudo host as the example writes it: admin, through sudo.
        for name in sudo_hosts {
            let root = format!("ssh = \"root@{name}.test\", sudo = false");
            assert!(text.contains(&root), "{name}'s deploy is not on one line");
            text = text.replace(&root, &format!("ssh = \"admin@{name}.test\", sudo = true"));
        }
        let spec = dir.path().join("privai.ncl");
        std::fs::write(&spec, text).unwrap();
        Self {
            _net: net,
            dir,
            laptop,
            hosts,
            spec,
        }
    }

    /// The host named `name`.
    pub fn host(&self, name: &str) -> &Machine {
        self.hosts.iter().find(|m| m.name == name).unwrap()
    }

    /// The log of every `ssh` command line privai ran.
    pub fn ssh_log(&self) -> PathBuf {
        self.dir.path().join("ssh.log")
    }

    /// `privai ARGS` on the laptop, as the operator (their home).
    pub fn command(&self, args: &[&str]) -> Command {
        let privai = Command::cargo_bin("privai").unwrap();
        let mut cmd = self.laptop.host.command(privai.get_program());
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("HOME", &self.laptop.home)
            .env("PRIVAI_TEST_SSH_LOG", self.ssh_log())
            .env_remove("PRIVAI_TEST_SERVICES")
            .env_remove("SSH_AUTH_SOCK");
        cmd
    }

    /// [`Fleet::command`], run to its end.
    pub fn privai(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// `privai apply` across the fleet, staged on each host, JSON events.
    pub fn apply(&self, extra: &[&str]) -> (Output, Vec<Value>) {
        let spec = self.spec.to_str().unwrap();
        let mut args = vec![
            "apply",
            spec,
            "--host-root",
            "stage",
            "--auto-approve",
            "--json",
        ];
        args.extend(extra);
        let out = self.privai(&args);
        let events = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        (out, events)
    }
}

/// Each host's outcome in the run's summary event.
pub fn outcomes(events: &[Value]) -> Vec<(String, String)> {
    let summary = events
        .iter()
        .find(|e| e["event"] == "fleet_summary")
        .unwrap_or_else(|| panic!("no summary in {events:#?}"));
    summary["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["host"].as_str().unwrap().to_owned(),
                h["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The detail of `host`'s outcome in the summary.
pub fn detail(events: &[Value], host: &str) -> String {
    let summary = events
        .iter()
        .find(|e| e["event"] == "fleet_summary")
        .unwrap();
    summary["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == host)
        .map(|h| h["detail"].as_str().unwrap().to_owned())
        .unwrap()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn the_split_seed_applies_from_the_laptop_over_openssh_and_again_is_a_no_op() {
    let fleet = Fleet::start();
    let (out, events) = fleet.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        outcomes(&events),
        pairs(&[
            ("headscale-server", "applied"),
            ("ollama-server", "applied"),
            ("openclaw-server", "applied"),
        ])
    );
    // Headscale's host first; Ollama's before the gateway's.
    let started: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "host_started")
        .map(|e| e["host"].as_str().unwrap())
        .collect();
    assert_eq!(started, HOSTS);
    let first_gateway = events
        .iter()
        .position(|e| e["event"] == "host_started" && e["host"] == "openclaw-server")
        .unwrap();
    let ollama_done = events
        .iter()
        .position(|e| e["event"] == "host_done" && e["host"] == "ollama-server")
        .unwrap();
    assert!(ollama_done < first_gateway, "{events:#?}");
    // Each host's events came from that host's privai, tagged with it.
    assert!(
        events.iter().any(|e| e["event"] == "applied"
            && e["host"] == "ollama-server"
            && e["generation"] == 1)
    );
    // Each host has its own part and its own state, and no other host's.
    for machine in &fleet.hosts {
        let stage = machine.home.join("stage");
        assert!(
            stage.join(".privai").is_dir(),
            "no state on {}",
            machine.name
        );
        assert!(stage.join(&machine.name).is_dir(), "{}", machine.name);
        for other in HOSTS.iter().filter(|h| **h != machine.name) {
            assert!(
                !stage.join(other).exists(),
                "{other}'s files on {}",
                machine.name
            );
        }
        // privai's copy and the compiled spec, in the host's cache.
        let cache = machine.home.join(".cache/privai/fleet");
        assert!(cache.join("spec.json").is_file());
        assert!(
            std::fs::read_dir(&cache).unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("privai-")),
            "no copy of privai on {}",
            machine.name
        );
    }
    let ollama = fleet.host("ollama-server").home.join("stage/ollama-server");
    assert!(ollama.exists());
    // The operator's machine has no state of the hosts.
    assert!(!fleet.laptop.home.join("stage").exists());
    // Every ssh ran in batch mode: an unknown host key fails, never asks.
    let log = std::fs::read_to_string(fleet.ssh_log()).unwrap();
    let ssh_lines: Vec<&str> = log.lines().filter(|l| l.starts_with("[\"ssh\"")).collect();
    assert!(ssh_lines.len() >= 9, "{log}");
    for line in &ssh_lines {
        assert!(line.contains("BatchMode=yes"), "{line}");
        assert!(!line.contains("StrictHostKeyChecking"), "{line}");
    }

    // Again: nothing to do anywhere, and privai is not copied again.
    let copies = ssh_lines
        .iter()
        .filter(|l| l.contains("privai-") && l.contains("cat >") && l.contains("0755"))
        .count();
    assert_eq!(copies, 3, "{log}");
    let (out, events) = fleet.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        outcomes(&events),
        pairs(&[
            ("headscale-server", "applied"),
            ("ollama-server", "applied"),
            ("openclaw-server", "applied"),
        ])
    );
    for host in HOSTS {
        assert_eq!(detail(&events, host), "no changes", "{events:#?}");
    }
    let log = std::fs::read_to_string(fleet.ssh_log()).unwrap();
    let copies = log
        .lines()
        .filter(|l| l.contains("privai-") && l.contains("cat >") && l.contains("0755"))
        .count();
    assert_eq!(copies, 3, "copied again: {log}");

    // For a person (not a terminal): one line per host event, a summary.
    let spec = fleet.spec.to_str().unwrap();
    let human = fleet.privai(&["apply", spec, "--host-root", "stage", "--auto-approve"]);
    assert_eq!(human.status.code(), Some(0), "{}", show(&human));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("ollama-server: applying\n"), "{text}");
    assert!(
        text.contains("ollama-server: applied: no changes\n"),
        "{text}"
    );
    let summary = text
        .split("Fleet summary:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        summary.lines().collect::<Vec<_>>(),
        [
            "  headscale-server  applied: no changes",
            "  ollama-server     applied: no changes",
            "  openclaw-server   applied: no changes",
        ]
    );

    // The combined plan, grouped by host, has nothing to do.
    let spec = fleet.spec.to_str().unwrap();
    let plan = fleet.privai(&["plan", spec, "--host-root", "stage", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains(
            "applied in this order: headscale-server, then ollama-server, then openclaw-server"
        ),
        "{text}"
    );
    assert!(
        text.contains("  openclaw-server needs headscale-server (joins the tailnet through Headscale), ollama-server (the gateway uses its Ollama)\n"),
        "{text}"
    );
    for host in HOSTS {
        assert!(
            text.contains(&format!("── {host} (ssh root@{host}.test) ──")),
            "{text}"
        );
    }
    // Status: each host's own report, under its name.
    let status = fleet.privai(&["status", spec, "--host-root", "stage"]);
    let text = String::from_utf8_lossy(&status.stdout);
    for host in HOSTS {
        assert!(
            text.contains(&format!("── {host} (ssh root@{host}.test) ──\n")),
            "{text}"
        );
    }
    assert!(
        status.status.code().is_some_and(|c| c < 3),
        "{}",
        show(&status)
    );
}

#[test]
fn a_host_that_does_not_answer_is_unreachable_while_the_others_apply() {
    let fleet = Fleet::with(|name| HostOptions {
        down: name == "openclaw-server",
        ..HostOptions::default()
    });
    let (out, events) = fleet.apply(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(
        outcomes(&events),
        pairs(&[
            ("headscale-server", "applied"),
            ("ollama-server", "applied"),
            ("openclaw-server", "unreachable"),
        ])
    );
    let why = detail(&events, "openclaw-server");
    assert!(why.contains("Connection refused"), "{why}");
    assert!(why.contains("is up"), "{why}");
    assert!(
        fleet
            .host("ollama-server")
            .home
            .join("stage/.privai")
            .is_dir()
    );

    // Status asks each host about itself; the silent one is unknown (3).
    let spec = fleet.spec.to_str().unwrap();
    let status = fleet.privai(&["status", spec, "--host-root", "stage", "--json"]);
    assert_eq!(status.status.code(), Some(3), "{}", show(&status));
    let report: Value = serde_json::from_slice(&status.stdout).unwrap();
    let hosts = report["fleet"]["hosts"].as_array().unwrap();
    let names: Vec<&str> = hosts.iter().map(|h| h["host"].as_str().unwrap()).collect();
    assert_eq!(names, HOSTS);
    assert!(hosts[0]["report"].is_object(), "{report:#}");
    assert!(hosts[1]["report"].is_object(), "{report:#}");
    assert!(
        hosts[2]["unknown"]
            .as_str()
            .unwrap()
            .contains("Connection refused"),
        "{report:#}"
    );
}

#[test]
fn a_host_whose_key_is_not_known_is_refused_not_trusted() {
    let fleet = Fleet::start();
    let known = fleet.laptop.home.join(".ssh/known_hosts");
    let kept: String = std::fs::read_to_string(&known)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("openclaw-server"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&known, kept).unwrap();
    let (out, events) = fleet.apply(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let why = detail(&events, "openclaw-server");
    assert!(why.contains("Host key verification failed"), "{why}");
    assert!(
        why.contains("log in once with `ssh root@openclaw-server.test`"),
        "{why}"
    );
    assert!(!fleet.host("openclaw-server").home.join(".cache").exists());
    // Nothing was added to known_hosts behind the operator's back.
    let after = std::fs::read_to_string(&known).unwrap();
    assert!(!after.contains("openclaw-server"), "{after}");
}

#[test]
fn a_failing_health_check_on_the_ollama_host_rolls_it_back_and_skips_the_gateway() {
    let fleet = Fleet::with(|name| HostOptions {
        // Ollama's host records its service commands and runs their
        // health checks for real: nothing answers on 100.64.0.2:11434.
        env: if name == "ollama-server" {
            vec![("PRIVAI_TEST_SERVICES".to_owned(), "/dev/null".to_owned())]
        } else {
            Vec::new()
        },
        ..HostOptions::default()
    });
    let (out, events) = fleet.apply(&["--health-timeout", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert_eq!(
        outcomes(&events),
        pairs(&[
            ("headscale-server", "applied"),
            ("ollama-server", "rolled back"),
            ("openclaw-server", "skipped"),
        ])
    );
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "rolled_back" && e["host"] == "ollama-server"),
        "{events:#?}"
    );
    let why = detail(&events, "openclaw-server");
    assert!(why.contains("needs `ollama-server`"), "{why}");
    let failure = detail(&events, "ollama-server");
    assert!(
        failure.contains("health check of ollama-server:ollama"),
        "{failure}"
    );
    // The gateway's host was never touched; Ollama's has no generation.
    assert!(!fleet.host("openclaw-server").home.join("stage").exists());
    assert!(
        !fleet
            .host("ollama-server")
            .home
            .join("stage/.privai/generations/1")
            .exists()
    );
}

#[test]
fn a_second_operator_is_refused_per_host_with_the_holders_name() {
    use std::io::BufRead;
    // Ollama's host runs its health check for real and waits for it: the
    // first operator's apply holds that host's state lock meanwhile (up to
    // 30 s, time enough for the second on a loaded machine).
    let fleet = Fleet::with(|name| HostOptions {
        env: if name == "ollama-server" {
            vec![("PRIVAI_TEST_SERVICES".to_owned(), "/dev/null".to_owned())]
        } else {
            Vec::new()
        },
        ..HostOptions::default()
    });
    let spec = fleet.spec.to_str().unwrap();
    let args = [
        "apply",
        spec,
        "--host-root",
        "stage",
        "--auto-approve",
        "--json",
        "--health-timeout",
        "30",
    ];
    let mut first = fleet
        .command(&args)
        .env("USER", "alice")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(first.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the first apply ended early: {seen:#?}"))
            .unwrap();
        let event: Value = serde_json::from_str(&line).unwrap();
        let waiting =
            event["event"] == "started" && event["address"] == "service ollama-server:ollama";
        seen.push(event);
        if waiting {
            break;
        }
    }
    let second = fleet
        .command(&args[..6])
        .env("USER", "bob")
        .output()
        .unwrap();
    let events: Vec<Value> = String::from_utf8_lossy(&second.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(second.status.code(), Some(1), "{}", show(&second));
    assert_eq!(
        outcomes(&events),
        pairs(&[
            ("headscale-server", "applied"),
            ("ollama-server", "failed"),
            ("openclaw-server", "skipped"),
        ])
    );
    let why = detail(&events, "ollama-server");
    assert!(why.contains("another privai holds the state lock"), "{why}");
    assert!(why.contains("--fleet-operator alice@"), "{why}");
    for line in lines {
        line.unwrap();
    }
    first.wait().unwrap();
}

#[test]
fn generations_and_rollback_of_one_host_run_on_that_host_over_ssh() {
    let fleet = Fleet::start();
    let (out, _) = fleet.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    // A change on Ollama's host only: generation 2 there, none elsewhere.
    let text = std::fs::read_to_string(&fleet.spec).unwrap();
    std::fs::write(
        &fleet.spec,
        text.replace(
            "listen = \"100.64.0.2\",",
            "listen = \"100.64.0.2\",\n    max_loaded_models = 2,",
        ),
    )
    .unwrap();
    let (out, events) = fleet.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(detail(&events, "ollama-server"), "generation 2");
    assert_eq!(detail(&events, "openclaw-server"), "no changes");

    let spec = fleet.spec.to_str().unwrap();
    let on = |host: &str, args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--host", host, "--spec", spec, "--host-root", "stage"]);
        fleet.privai(&all)
    };
    let list = on("ollama-server", &["generations"]);
    assert_eq!(list.status.code(), Some(0), "{}", show(&list));
    let text = String::from_utf8_lossy(&list.stdout).into_owned();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows[0].starts_with("*    2"), "{text}");
    assert!(rows[1].starts_with("     1"), "{text}");
    let other = on("headscale-server", &["generations"]);
    assert_eq!(
        String::from_utf8_lossy(&other.stdout).lines().count(),
        2,
        "{}",
        show(&other)
    );

    // Rolling back is not asked for over SSH: it must be approved here.
    let refused = on("ollama-server", &["rollback"]);
    assert_eq!(refused.status.code(), Some(1), "{}", show(&refused));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pass --auto-approve"));

    let back = on("ollama-server", &["rollback", "--auto-approve"]);
    assert_eq!(back.status.code(), Some(0), "{}", show(&back));
    let list = on("ollama-server", &["generations"]);
    let text = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("*    3") && l.ends_with("rollback to 1")),
        "{text}"
    );
    // The host is as generation 1 left it: the spec's change is to do again.
    let plan = fleet.privai(&["plan", spec, "--host-root", "stage", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", show(&plan));
    // The commands ran there: the laptop has no state.
    assert!(!fleet.laptop.home.join("stage").exists());
}

#[test]
fn a_host_of_another_platform_is_refused_with_how_to_install_privai_there() {
    // openclaw-server says it is a Mac (its `uname` is a script first on
    // its PATH): this Linux privai is not copied there.
    let fake = tempfile::tempdir().unwrap();
    let uname = fake.path().join("uname");
    std::fs::write(&uname, "#!/bin/sh\necho Darwin arm64\n").unwrap();
    std::fs::set_permissions(&uname, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", fake.path().display());
    let fleet = Fleet::with(|name| HostOptions {
        env: if name == "openclaw-server" {
            vec![("PATH".to_owned(), path.clone())]
        } else {
            Vec::new()
        },
        ..HostOptions::default()
    });
    let (out, events) = fleet.apply(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert_eq!(
        outcomes(&events),
        pairs(&[
            ("headscale-server", "applied"),
            ("ollama-server", "applied"),
            ("openclaw-server", "failed"),
        ])
    );
    let why = detail(&events, "openclaw-server");
    assert!(why.contains("is a `Darwin arm64` machine"), "{why}");
    assert!(why.contains("install privai"), "{why}");
    assert!(!fleet.host("openclaw-server").home.join(".cache").exists());
}

#[test]
fn a_host_without_deploy_is_applied_here_with_the_others_over_ssh() {
    let fleet = Fleet::start();
    // headscale-server is the operator's own machine: no `deploy`.
    let text = std::fs::read_to_string(&fleet.spec).unwrap();
    std::fs::write(
        &fleet.spec,
        text.replace(
            "deploy = { ssh = \"root@headscale-server.test\", sudo = false },",
            "",
        ),
    )
    .unwrap();
    let spec = fleet.spec.to_str().unwrap();
    let plan = fleet.privai(&["plan", spec, "--host-root", "stage", "--json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", show(&plan));
    let document: Value = serde_json::from_slice(&plan.stdout).unwrap();
    let hosts = document["fleet"]["hosts"].as_array().unwrap();
    assert_eq!(hosts[0]["reach"], "here");
    assert_eq!(hosts[1]["reach"], "ssh root@ollama-server.test");
    for host in hosts {
        assert_eq!(host["plan"]["format_version"], "1.1", "{document:#}");
    }
    assert_eq!(
        document["fleet"]["order"],
        serde_json::json!([["headscale-server"], ["ollama-server"], ["openclaw-server"]])
    );
    let (out, events) = fleet.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(detail(&events, "headscale-server"), "generation 1");
    // Staged here, beside the spec; the others on their hosts.
    assert!(fleet.dir.path().join("stage/headscale-server").is_dir());
    assert!(!fleet.host("headscale-server").home.join("stage").exists());
    assert!(
        fleet
            .host("openclaw-server")
            .home
            .join("stage/openclaw-server")
            .is_dir()
    );
}

#[test]
fn a_host_with_sudo_is_applied_by_root_through_sudo_as_the_ssh_user_logs_in() {
    required("sudo", "sudo");
    let fleet = Fleet::with(|name| HostOptions {
        sudo: name == "ollama-server",
        ..HostOptions::default()
    });
    let (out, events) = fleet.apply(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(detail(&events, "ollama-server"), "generation 1");
    use std::os::unix::fs::MetadataExt;
    let home = &fleet.host("ollama-server").home;
    // admin copied privai into their cache; root (through sudo) applied.
    let cache = std::fs::metadata(home.join(".cache/privai/fleet/spec.json")).unwrap();
    assert_eq!(cache.uid(), ADMIN_UID);
    let state = std::fs::metadata(home.join("stage/.privai")).unwrap();
    assert_eq!(state.uid(), 0);
    let log = std::fs::read_to_string(fleet.ssh_log()).unwrap();
    let apply = log
        .lines()
        .find(|l| l.contains("admin@ollama-server.test") && l.contains(" apply "))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(apply.contains("sudo -n -- "), "{apply}");
}
