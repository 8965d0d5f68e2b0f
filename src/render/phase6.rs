//! Phase 6: log rotation and the scheduled key rotation.
//!
//! Log rotation covers the log files of the services privai installs on the
//! host. On macOS launchd writes them (`StandardOutPath`) and newsyslog
//! rotates them from `/etc/newsyslog.d/privai.conf`: it renames the log to
//! `NAME.log.0` and creates a new, empty one. launchd opens a job's log files
//! once and cannot be signalled to reopen them, so a running job keeps
//! writing into `NAME.log.0` until it restarts (launchd.plist(5)). The
//! entries therefore signal nobody (`N`) and do not compress (`Z` would
//! unlink the file the job still writes); older archives are kept as they
//! are. Headscale's log (a LaunchDaemon, root) is recreated as root:wheel;
//! the logs of the operator's LaunchAgents carry no owner field, because the
//! rendered file cannot name the operator: `apply` must fill it in, or the
//! agent cannot reopen a root-owned log after its next restart.
//!
//! On Linux every privai service logs to the journal, which journald rotates
//! itself (`SystemMaxUse=` and friends in journald.conf), so nothing is
//! rendered there: a logrotate file appears only if some service writes a
//! log file of its own.
//!
//! The log monitor (`privai monitor --once`, see [`crate::monitor`]) runs
//! every few minutes on each host with a service, as root without
//! capabilities, reaching loopback only (the homeserver's client API, for
//! the alerts' direct messages).
//!
//! Key rotation is a periodic job on the Headscale host running
//! `privai rotate-keys`; it runs daily at the configured hour and rotates
//! when `interval_days` have passed.

use super::paths::{Layout, PRIVAI_BIN};
use super::service::{self, Schedule, ServiceSpec};
use super::template;
use super::{Artifact, Owner, ServiceId};
use crate::model::{Host, Role, Spec};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where the newsyslog configuration goes on macOS.
pub const NEWSYSLOG_CONF: &str = "/etc/newsyslog.d/privai.conf";
/// Where a logrotate configuration would go on Linux.
pub const LOGROTATE_CONF: &str = "/etc/logrotate.d/privai";

/// Renders the phase6 artifacts of `host`.
pub fn render(spec: &Spec, host: &Host, out: &mut Vec<Artifact>) {
    let layout = Layout::of(host);
    let runs = |role| spec.service_host(role).is_some_and(|h| h.name == host.name);
    let rotation = runs(Role::Headscale) && spec.monitoring.key_rotation.enabled;
    let monitor = spec.monitoring.alerts.enabled
        && [Role::Headscale, Role::Ollama, Role::Openclaw]
            .into_iter()
            .any(runs);

    if spec.monitoring.log_rotation.enabled {
        // (log file, written by root): Headscale and the homeserver are
        // LaunchDaemons, the others are the operator's LaunchAgents.
        let mut logs = Vec::new();
        let mut add = |name: &str, root: bool| {
            logs.extend(service::log_file(&layout, name).map(|log| (log, root)));
        };
        if runs(Role::Headscale) {
            add("headscale", true);
        }
        if runs(Role::Homeserver) {
            add(super::homeserver::SERVICE, true);
        }
        if runs(Role::Ollama) {
            add("ollama", false);
        }
        if rotation {
            add("rotate-keys", false);
        }
        if monitor {
            add("monitor", true);
        }
        if !logs.is_empty() {
            // Only macOS has log files (Linux services log to the journal).
            out.push(newsyslog(spec, host, &logs));
        }
    }

    if rotation {
        out.extend(service::files(&rotate_keys_spec(spec, &layout), host));
    }
    if monitor {
        out.extend(service::files(&monitor_spec(spec, &layout), host));
    }
}

/// The log monitor: `privai monitor --once` every `interval_minutes`, for
/// the spec the current generation was applied from. It reads the journal
/// or the services' log files, keeps its cursors and writes its alerts in
/// privai's state directory (so it runs as root, without capabilities),
/// and reaches loopback only (`network: false`: `IPAddressDeny=any`,
/// `IPAddressAllow=localhost`): the homeserver's client API on this host,
/// where alerts go as direct messages; nothing else.
fn monitor_spec(spec: &Spec, layout: &Layout) -> ServiceSpec {
    let state = format!("{}/state", layout.var_lib());
    let mut readable = vec![layout.etc().to_owned()];
    readable.extend(layout.log_dir().map(str::to_owned));
    ServiceSpec {
        name: "monitor",
        description: "privai log monitor (alerts to the owner)".to_owned(),
        program: vec![
            PRIVAI_BIN.to_owned(),
            "monitor".to_owned(),
            "--once".to_owned(),
        ],
        environment: BTreeMap::new(),
        // A LaunchDaemon on macOS: it reads root's Headscale log and
        // writes privai's state.
        system: true,
        schedule: Schedule::Every {
            minutes: spec.monitoring.alerts.interval_minutes,
        },
        binds_privileged_port: false,
        network: false,
        gpu: false,
        writable_paths: vec![state],
        readable_paths: readable,
        log_file: service::log_file(layout, "monitor"),
        id: ServiceId::Monitor,
        reloads_on_sighup: false,
        credentials: Vec::new(),
        // `privai monitor` exits 2 when it raised alerts: a pass that did
        // its job, not a failed unit.
        success_exit_statuses: vec![2],
    }
}

/// newsyslog.conf(5) entries for `logs` (path, written by root?): rotate
/// at `max_size_mb` MiB, keep `keep` archives, create the log if missing
/// (`C`), signal nobody (`N`); mode 640.
fn newsyslog(spec: &Spec, host: &Host, logs: &[(String, bool)]) -> Artifact {
    #[derive(Serialize)]
    struct Log<'a> {
        path: &'a str,
        root: bool,
    }
    #[derive(Serialize)]
    struct Context<'a> {
        logs: Vec<Log<'a>>,
        keep: u32,
        size_kib: u64,
    }
    let rotation = &spec.monitoring.log_rotation;
    let context = Context {
        logs: logs
            .iter()
            .map(|(path, root)| Log { path, root: *root })
            .collect(),
        keep: rotation.keep,
        size_kib: u64::from(rotation.max_size_mb) * 1024,
    };
    // The log paths are privai's own (`service::log_file`): plain fields.
    let text = template::render("privai.newsyslog.j2", context);
    Artifact::text(host, NEWSYSLOG_CONF, text, Owner::Root)
}

/// The key-rotation job: `privai rotate-keys`, daily at the configured hour.
fn rotate_keys_spec(spec: &Spec, layout: &Layout) -> ServiceSpec {
    let rotation = &spec.monitoring.key_rotation;
    // It writes the keys it creates where privai keeps secrets, and talks
    // to Headscale's API over the network (its URL may be public).
    ServiceSpec {
        name: "rotate-keys",
        description: "privai key rotation (pre-auth and API keys)".to_owned(),
        program: vec![PRIVAI_BIN.to_owned(), "rotate-keys".to_owned()],
        environment: BTreeMap::new(),
        system: false,
        schedule: Schedule::Periodic {
            interval_days: rotation.interval_days,
            hour: rotation.hour,
        },
        binds_privileged_port: false,
        network: true,
        gpu: false,
        writable_paths: vec![layout.secrets_dir().to_owned()],
        readable_paths: vec![layout.etc().to_owned()],
        log_file: service::log_file(layout, "rotate-keys"),
        id: ServiceId::KeyRotation,
        reloads_on_sighup: false,
        credentials: Vec::new(),
        success_exit_statuses: Vec::new(),
    }
}
