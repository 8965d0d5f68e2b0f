//! A platform-neutral description of a service, and its rendering as a
//! launchd plist (macOS) or a hardened systemd unit (Linux).
//!
//! Renderers of Headscale, Ollama and the phase-6 jobs describe what their
//! service runs; this module alone knows launchd and systemd. The plist is
//! serialized by the `plist` crate; the unit and timer are the templates
//! `unit.service.j2` and `unit.timer.j2`.
//!
//! # Linux hardening
//!
//! Every unit is written to score 2.0 or lower ("OK") in
//! `systemd-analyze security --offline=yes` (a well-hardened network daemon
//! lands at 0.9-1.5), per systemd.exec(5) and the scoring of
//! `systemd-analyze security`; the choices that depend on the
//! service:
//!
//! - **User.** `DynamicUser=yes`, with state under `StateDirectory=` (writable
//!   paths below `/var/lib`, `/var/cache`, `/var/log` and `/run` become the
//!   matching `*Directory=`, owned by the dynamic user; others
//!   `ReadWritePaths=`, which the installer must make writable). A service
//!   that reads or writes privai's secrets directory runs as root instead,
//!   because those files are root's and mode 0600; it keeps no capability
//!   (`CapabilityBoundingSet=` empty), so it can reach only root-owned files
//!   and nothing a capability grants.
//! - **Privileged port.** `CAP_NET_BIND_SERVICE` in the bounding and ambient
//!   sets, and no `PrivateUsers=` (a user namespace would make the capability
//!   useless in the host's network namespace).
//! - **GPU.** No `PrivateDevices=` (it hides `/dev/nvidia*` and `/dev/dri`);
//!   `DevicePolicy=closed` plus `DeviceAllow=` for the NVIDIA, DRM and KFD
//!   character devices, and the `render` and `video` groups that own
//!   `/dev/dri/renderD*` and `/dev/kfd`. `MemoryDenyWriteExecute=` stays on, as
//!   in NixOS's Ollama module, which runs CUDA and ROCm under it; runtime
//!   behaviour on real GPUs is still to be confirmed.
//! - **Ollama.** `ProcSubset=all`: Ollama sizes models against `/proc/meminfo`
//!   and `/proc/cpuinfo`, and the NVIDIA runtime reads `/proc/driver/nvidia`,
//!   all of which `ProcSubset=pid` hides (the directive weighs 10 of about
//!   30 000, so the score does not move).
//! - **Homeserver.** No `MemoryDenyWriteExecute=`: Synapse's outbound TLS
//!   context (Twisted through pyOpenSSL) registers its ALPN callback with
//!   cffi's `ffi.callback()`, which needs writable and executable memory;
//!   under the restriction Synapse stops at start-up with `MemoryError:
//!   Cannot allocate write+execute memory for ffi.callback()` (see
//!   <https://cffi.readthedocs.io/en/latest/using.html#callbacks>;
//!   `tests/it/homeserver.rs` runs it under the unit's setting).
//! - **No network.** `IPAddressDeny=any` with `IPAddressAllow=localhost`. For
//!   Ollama this also blocks model pulls (the server downloads them), so
//!   `apply` must lift it with a temporary drop-in while it pulls.
//! - **Syscalls.** `@system-service` without `@privileged @resources`, and
//!   `SystemCallErrorNumber=EPERM` so that a filtered call fails instead of
//!   killing the process (Go raises `RLIMIT_NOFILE` at start-up and
//!   llama.cpp sets thread priorities; both tolerate `EPERM`).
//!
//! # Schedules
//!
//! Neither launchd nor a systemd calendar expression says "every N days"
//! with a fixed phase, so periodic jobs run daily at the hour and the job
//! itself decides whether `interval_days` have passed since its last run.

use super::paths::Layout;
use super::template;
use super::{Artifact, Owner, ServiceId};
use crate::model::{Host, Platform};
use serde::Serialize;
use std::collections::BTreeMap;

/// When a service runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Always: started at boot (or login) and restarted when it exits.
    Daemon,
    /// Once every `interval_days` days at `hour`:00 local time.
    Periodic {
        /// Days between runs.
        interval_days: u32,
        /// Hour of day, 0-23.
        hour: u32,
    },
    /// Every `minutes` minutes, the first run soon after boot (or login).
    Every {
        /// Minutes between runs.
        minutes: u32,
    },
}

/// What a service runs and needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Short name: `headscale`, `ollama`, `rotate-keys`. Becomes the launchd
    /// label `net.privai.NAME` and the unit `privai-NAME`.
    pub name: &'static str,
    /// One line for humans.
    pub description: String,
    /// The command, as argv (never a shell string).
    pub program: Vec<String>,
    /// Environment variables, sorted.
    pub environment: BTreeMap<String, String>,
    /// System-wide (LaunchDaemon, system unit as root or a dynamic user)
    /// rather than the operator's (LaunchAgent).
    pub system: bool,
    /// When it runs.
    pub schedule: Schedule,
    /// Binds a port below 1024 (needs the capability on Linux, root on macOS).
    pub binds_privileged_port: bool,
    /// Needs network access beyond loopback (listens on or connects to other hosts).
    pub network: bool,
    /// Needs the GPU (device access on Linux).
    pub gpu: bool,
    /// Directories it writes (state), absolute.
    pub writable_paths: Vec<String>,
    /// Files or directories it only reads (config), absolute.
    pub readable_paths: Vec<String>,
    /// Log file for stdout and stderr on macOS (Linux logs to the journal).
    pub log_file: Option<String>,
    /// The service this definition starts (restarted when the file changes).
    pub id: ServiceId,
    /// It re-reads some files on SIGHUP (Headscale: its policy), so the
    /// unit gets `ExecReload=` and `systemctl reload` works.
    pub reloads_on_sighup: bool,
    /// Root-only files systemd hands the service as credentials
    /// (`LoadCredential=NAME:PATH`, read under `/run/credentials/UNIT/NAME`),
    /// so that a dynamic user can read them (Linux; ignored on macOS).
    pub credentials: Vec<(String, String)>,
    /// Exit statuses besides 0 that are not a failure
    /// (`SuccessExitStatus=`): the monitor's 2, "alerts raised".
    pub success_exit_statuses: Vec<u8>,
}

/// The log file of service `name` on a host with `layout`:
/// `/usr/local/var/log/privai/NAME.log` on macOS, `None` on Linux (journal).
/// Renderers set [`ServiceSpec::log_file`] from it, and log rotation rotates it.
pub fn log_file(layout: &Layout, name: &str) -> Option<String> {
    layout.log_dir().map(|dir| format!("{dir}/{name}.log"))
}

/// The service definition files of `service` on `host`: a plist on macOS,
/// a unit (plus a timer for periodic jobs) on Linux.
pub fn files(service: &ServiceSpec, host: &Host) -> Vec<Artifact> {
    let layout = Layout::of(host);
    match layout.platform() {
        Platform::Darwin => {
            let owner = if service.system {
                Owner::Root
            } else {
                Owner::User
            };
            let path = layout.service_file(service.name, service.system, "service");
            vec![Artifact::text(host, path, plist(service, &layout), owner).restarts(service.id)]
        }
        Platform::Linux => {
            let unit = layout.service_file(service.name, true, "service");
            let mut out = vec![
                Artifact::text(host, unit, unit_file(service, &layout), Owner::Root)
                    .restarts(service.id),
            ];
            let when = match service.schedule {
                Schedule::Daemon => None,
                Schedule::Periodic {
                    interval_days,
                    hour,
                } => Some(When::Daily {
                    interval_days,
                    hour: format!("{hour:02}"),
                }),
                Schedule::Every { minutes } => Some(When::Every { minutes }),
            };
            if let Some(when) = when {
                let timer = layout.service_file(service.name, true, "timer");
                let text = timer_file(service, &layout, when);
                out.push(Artifact::text(host, timer, text, Owner::Root).restarts(service.id));
            }
            out
        }
    }
}

// ---------------------------------------------------------------- launchd

/// The launchd job of `service` as an XML plist. Keys are written in
/// alphabetical order so that the file is stable. `UserName` is never set:
/// LaunchDaemons run as root (Headscale needs port 443), LaunchAgents as the
/// operator who loads them.
fn plist(service: &ServiceSpec, layout: &Layout) -> String {
    use plist::{Dictionary, Value};
    let mut d = Dictionary::new();
    if !service.environment.is_empty() {
        let mut env = Dictionary::new();
        for (k, v) in &service.environment {
            env.insert(k.clone(), Value::String(v.clone()));
        }
        d.insert("EnvironmentVariables".into(), env.into());
    }
    if service.schedule == Schedule::Daemon {
        // Restart when it exits unsuccessfully or is killed (systemd's
        // Restart=on-failure); a clean exit stays down.
        let mut keep = Dictionary::new();
        keep.insert("SuccessfulExit".into(), false.into());
        d.insert("KeepAlive".into(), keep.into());
    }
    d.insert("Label".into(), layout.label(service.name).into());
    if !service.system && service.gpu {
        // The GPU belongs to the login session: load the agent into the GUI
        // (Aqua) session only, as Ollama's own app does.
        d.insert("LimitLoadToSessionType".into(), "Aqua".into());
    }
    // Background for jobs; servers are not throttled: Interactive ("same
    // resource limitations as apps, that is to say, none") for GPU work,
    // Standard for the rest (launchd.plist(5)).
    let process_type = match (&service.schedule, service.gpu) {
        (Schedule::Periodic { .. } | Schedule::Every { .. }, _) => "Background",
        (Schedule::Daemon, true) => "Interactive",
        (Schedule::Daemon, false) => "Standard",
    };
    d.insert("ProcessType".into(), process_type.into());
    let argv: Vec<Value> = service
        .program
        .iter()
        .map(|a| Value::String(a.clone()))
        .collect();
    d.insert("ProgramArguments".into(), argv.into());
    d.insert(
        "RunAtLoad".into(),
        (service.schedule == Schedule::Daemon).into(),
    );
    if let Some(log) = &service.log_file {
        d.insert("StandardErrorPath".into(), log.clone().into());
        d.insert("StandardOutPath".into(), log.clone().into());
    }
    if let Schedule::Periodic { hour, .. } = service.schedule {
        // launchd cannot say "every N days": run daily at the hour; the job
        // skips the days before its interval has passed. A run missed while
        // the Mac sleeps happens when it wakes.
        let mut when = Dictionary::new();
        when.insert("Hour".into(), Value::Integer(hour.into()));
        when.insert("Minute".into(), Value::Integer(0.into()));
        d.insert("StartCalendarInterval".into(), when.into());
    }
    if let Schedule::Every { minutes } = service.schedule {
        // Seconds; launchd runs a missed interval once when the Mac wakes.
        d.insert(
            "StartInterval".into(),
            Value::Integer((u64::from(minutes) * 60).into()),
        );
    }
    d.insert("ThrottleInterval".into(), Value::Integer(10.into()));
    // 0o077: plists have no octal integers (launchd.plist(5)).
    d.insert("Umask".into(), Value::Integer(0o077.into()));
    let mut out = Vec::new();
    let options = plist::XmlWriteOptions::default().indent(b' ', 2);
    Value::Dictionary(d)
        .to_writer_xml_with_options(&mut out, &options)
        .expect("writing a plist to memory cannot fail");
    let mut text = String::from_utf8(out).expect("plist XML is UTF-8");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

// ---------------------------------------------------------------- systemd

/// Directories systemd creates and hands to the service's user, by prefix.
const MANAGED_DIRS: &[(&str, &str)] = &[
    ("/var/lib/", "StateDirectory"),
    ("/var/cache/", "CacheDirectory"),
    ("/var/log/", "LogsDirectory"),
    ("/run/", "RuntimeDirectory"),
];

/// Whether the service touches privai's secrets, which are root's 0600 files.
fn uses_secrets(service: &ServiceSpec, layout: &Layout) -> bool {
    let secrets = layout.secrets_dir();
    service
        .writable_paths
        .iter()
        .chain(&service.readable_paths)
        .any(|p| p == secrets || p.starts_with(&format!("{secrets}/")))
        // privai's own state directory is root's too (and must never
        // become a dynamic user's `StateDirectory=`).
        || service
            .writable_paths
            .iter()
            .any(|p| *p == format!("{}/state", layout.var_lib()))
}

/// The unit's settings, for `unit.service.j2`.
#[derive(Serialize)]
struct UnitContext<'a> {
    description: &'a str,
    network: bool,
    daemon: bool,
    program: &'a [String],
    reloads_on_sighup: bool,
    credentials: &'a [(String, String)],
    /// `(NAME, VALUE)`, sorted.
    environment: Vec<(&'a String, &'a String)>,
    as_root: bool,
    /// `(StateDirectory, [privai/x])`, … in the order of the setting names.
    managed_dirs: Vec<(&'static str, Vec<String>)>,
    read_write_paths: Vec<String>,
    /// Each starting with `-`: a file not there yet (the installer writes
    /// it later) is no reason to refuse to start.
    read_only_paths: Vec<String>,
    binds_privileged_port: bool,
    gpu: bool,
    /// `ProcSubset=all` rather than `pid` (Ollama).
    all_of_proc: bool,
    /// `MemoryDenyWriteExecute=yes`; off for the homeserver only.
    deny_write_execute: bool,
    success_exit_statuses: &'a [u8],
}

fn unit_file(service: &ServiceSpec, layout: &Layout) -> String {
    let as_root = uses_secrets(service, layout);
    let mut managed_dirs: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut read_write_paths = Vec::new();
    for path in &service.writable_paths {
        match MANAGED_DIRS
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix))
        {
            Some((prefix, key)) if !as_root => {
                managed_dirs
                    .entry(key)
                    .or_default()
                    .push(path[prefix.len()..].trim_end_matches('/').to_owned());
            }
            _ => read_write_paths.push(path.clone()),
        }
    }
    let context = UnitContext {
        description: &service.description,
        network: service.network,
        daemon: service.schedule == Schedule::Daemon,
        program: &service.program,
        reloads_on_sighup: service.reloads_on_sighup,
        credentials: &service.credentials,
        environment: service.environment.iter().collect(),
        as_root,
        managed_dirs: managed_dirs.into_iter().collect(),
        read_write_paths,
        read_only_paths: service
            .readable_paths
            .iter()
            .map(|p| format!("-{p}"))
            .collect(),
        binds_privileged_port: service.binds_privileged_port,
        gpu: service.gpu,
        all_of_proc: service.id == ServiceId::Ollama,
        deny_write_execute: service.id != ServiceId::Homeserver,
        success_exit_statuses: &service.success_exit_statuses,
    };
    template::render("unit.service.j2", context)
}

/// When a timer fires.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum When {
    /// Daily at `hour`:00 (the job skips days before `interval_days`).
    Daily {
        interval_days: u32,
        /// Two digits.
        hour: String,
    },
    /// Every `minutes` minutes.
    Every { minutes: u32 },
}

/// The timer of a periodic job: daily at `hour`:00 (the job skips days
/// before `interval_days` have passed), catching up a run missed while the
/// machine was off; or every N minutes.
fn timer_file(service: &ServiceSpec, layout: &Layout, when: When) -> String {
    #[derive(Serialize)]
    struct TimerContext<'a> {
        description: &'a str,
        when: When,
        unit: String,
    }
    template::render(
        "unit.timer.j2",
        TimerContext {
            description: &service.description,
            when,
            unit: layout.unit(service.name),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_description_argv_or_environment_cannot_add_a_setting_to_the_unit_or_timer() {
        let host: Host = serde_json::from_value(serde_json::json!({
            "name": "h", "platform": "linux", "arch": "x86_64", "ram_gb": 16,
            "roles": [], "tags": [],
        }))
        .unwrap();
        let service = ServiceSpec {
            name: "odd",
            description: "x\nExecStartPre=/bin/reboot %h".to_owned(),
            program: vec![
                "/bin/tool".to_owned(),
                "$(reboot)\nExecStartPre=x".to_owned(),
            ],
            environment: BTreeMap::from([("A".to_owned(), "b\nExecStartPre=y $z".to_owned())]),
            system: true,
            schedule: Schedule::Periodic {
                interval_days: 7,
                hour: 3,
            },
            binds_privileged_port: false,
            network: false,
            gpu: false,
            writable_paths: vec!["/var/lib/privai/odd".to_owned()],
            readable_paths: vec!["/etc/privai/odd dir".to_owned()],
            log_file: None,
            id: ServiceId::KeyRotation,
            reloads_on_sighup: false,
            credentials: Vec::new(),
            success_exit_statuses: Vec::new(),
        };
        let files = files(&service, &host);
        let [unit, timer] = [0, 1].map(|i| String::from_utf8(files[i].contents.clone()).unwrap());
        for text in [&unit, &timer] {
            assert!(
                !text.lines().any(|l| l.starts_with("ExecStartPre")),
                "{text}"
            );
            assert!(text.contains("\nDescription=x ExecStartPre=/bin/reboot %%h\n"));
        }
        assert!(unit.contains("\nExecStart=/bin/tool \"$$(reboot)\\nExecStartPre=x\"\n"));
        assert!(unit.contains("\nEnvironment=\"A=b\\nExecStartPre=y $z\"\n"));
        assert!(unit.contains("\nReadOnlyPaths=\"-/etc/privai/odd dir\"\n"));
        assert!(timer.contains("\nOnCalendar=*-*-* 03:00:00\n"));
    }
}
