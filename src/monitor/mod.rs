//! `privai monitor`: the services' logs → alerts for the owner (phase 6 of
//! the seed).
//!
//! One pass ([`pass`]) reads what each service logged since the last pass
//! ([`read`]: the journal on Linux, the log files of the launchd jobs on
//! macOS and under `--root`, the gateway container's log), turns the lines
//! into events and the events into alerts under the spec's rules
//! ([`rules`], pure), adds an alert when privai's TLS certificate is near
//! its end ([`cert`], pure), and delivers the alerts to every
//! [`alert::AlertSink`]: the alert log, the desktop, and a Matrix direct
//! message to the owners when the spec's homeserver runs here ([`dm`]).
//! There, it also asks the homeserver who wrote to the AI and alerts on
//! the senders the gateway's Matrix channel refuses ([`senders`]: the
//! gateway logs them only beside its users' messages). What it read up
//! to, the auth failures still inside
//! their window and when each certificate was last reported are kept in
//! `monitor.json` in privai's state directory, written atomically, so that
//! each line raises its alert once; so are each owner's direct room and
//! where the homeserver's stream of the AI's messages was left.
//!
//! The installed job (`privai monitor --once`, every
//! `monitoring.alerts.interval_minutes`) is rendered in
//! [`crate::render::phase6`].

pub mod alert;
pub mod cert;
pub mod dm;
pub mod read;
pub mod rules;
pub mod senders;

use crate::model::{Host, Platform, Role, Spec, TlsMode};
use crate::render::paths::Layout;
use crate::state::Install;
use crate::sys::Runner;
use read::{Positions, Source};
use rules::{Alert, Entry, Expected, Service, Windows};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The monitor's state file in privai's state directory.
pub const STATE_FILE: &str = "monitor.json";
/// Format of [`STATE_FILE`]; a state of another format is started over.
pub const STATE_FORMAT: u32 = 1;
/// How often the same certificate alert is repeated.
pub const CERTIFICATE_REPEAT: Duration = Duration::from_secs(86_400);

/// What the monitor keeps between passes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// [`STATE_FORMAT`].
    pub format: u32,
    /// Where each log was left.
    pub positions: Positions,
    /// Auth failures inside their window.
    pub windows: Windows,
    /// Certificate path → when it was last reported (seconds since the epoch).
    pub certificates: BTreeMap<String, u64>,
    /// Owner's Matrix ID → the direct room the AI's alerts go to ([`dm`]).
    #[serde(default)]
    pub rooms: BTreeMap<String, String>,
    /// Where the refused-sender rule on privai's homeserver left Synapse's
    /// stream of the AI's messages (its `next_batch`, [`senders`]); `None`
    /// when the rule has not run yet or was off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix_since: Option<String>,
}

impl State {
    /// The state in `dir`, or a new one when there is none (or it is of
    /// another format, or unreadable: the next pass then re-reads the
    /// logs' last lines).
    pub fn load(dir: &Path) -> Self {
        std::fs::read(dir.join(STATE_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Self>(&bytes).ok())
            .filter(|s| s.format == STATE_FORMAT)
            .unwrap_or_default()
    }

    /// Writes the state into `dir` atomically (mode 0600).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let mut state = self.clone();
        state.format = STATE_FORMAT;
        let bytes = serde_json::to_vec_pretty(&state).map_err(std::io::Error::other)?;
        crate::state::atomic::create_private_dir(dir)?;
        crate::state::atomic::replace(&dir.join(STATE_FILE), &bytes, 0o600)
    }
}

/// A log the monitor reads: which service, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// The host it is on.
    pub host: String,
    /// The service.
    pub service: Service,
    /// Where.
    pub source: Source,
}

/// The hosts whose logs this install reads: the one this machine is, or
/// every host under `--root`.
fn hosts<'a>(spec: &'a Spec, install: &Install) -> Vec<&'a Host> {
    spec.hosts
        .iter()
        .filter(|h| install.includes(&h.name))
        .collect()
}

/// The logs of the services of `spec` installed by `install`. `engine`:
/// the gateway's container engine (`podman`/`docker`), when known.
pub fn logs(spec: &Spec, install: &Install, engine: Option<&str>) -> Vec<Log> {
    let mut out = Vec::new();
    for host in hosts(spec, install) {
        let layout = Layout::of(host);
        let runs = |role| spec.service_host(role).is_some_and(|h| h.name == host.name);
        for (role, service) in [
            (Role::Headscale, Service::Headscale),
            (Role::Ollama, Service::Ollama),
        ] {
            if !runs(role) {
                continue;
            }
            let name = service.name();
            let source = match crate::render::service::log_file(&layout, name) {
                Some(file) => match install.path(&host.name, &file) {
                    Ok(path) => Source::File { path },
                    Err(_) => continue,
                },
                None => Source::Journal {
                    unit: format!("{}.service", layout.unit(name)),
                    // Under `--root`, the host's journal directory there,
                    // when there is one (nothing ran there otherwise).
                    directory: match install {
                        Install::Staged { .. } => {
                            match install
                                .path(&host.name, "/var/log/journal")
                                .ok()
                                .filter(|dir| dir.is_dir())
                            {
                                Some(dir) => Some(dir),
                                None => continue,
                            }
                        }
                        Install::Live { .. } => None,
                    },
                },
            };
            out.push(Log {
                host: host.name.clone(),
                service,
                source,
            });
        }
        // The gateway runs only when services are started (not under --root).
        if runs(Role::Openclaw)
            && install.activates()
            && let Some(engine) = engine
        {
            out.push(Log {
                host: host.name.clone(),
                service: Service::Gateway,
                source: Source::Container {
                    engine: engine.to_owned(),
                    project: crate::render::units::GATEWAY_PROJECT.to_owned(),
                    service: crate::render::compose::GATEWAY_SERVICE.to_owned(),
                },
            });
        }
    }
    out
}

/// privai's own TLS certificates on the hosts this install covers: the
/// certificate Headscale serves in `'self_signed` mode.
pub fn certificates(spec: &Spec, install: &Install) -> Vec<(String, PathBuf)> {
    let Some(host) = spec.service_host(Role::Headscale) else {
        return Vec::new();
    };
    if spec.headscale.tls.mode != TlsMode::SelfSigned || !install.includes(&host.name) {
        return Vec::new();
    }
    let (cert, _) = crate::render::headscale::tls_files(spec, &Layout::of(host));
    install
        .path(&host.name, &cert)
        .map(|path| vec![(cert, path)])
        .unwrap_or_default()
}

/// How many lines a pass read from one log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Read {
    /// The host.
    pub host: String,
    /// The service.
    pub service: Service,
    /// The source, as [`Source::key`] spells it.
    pub source: String,
    /// Lines read.
    pub lines: usize,
}

/// What a pass found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// The logs read.
    pub read: Vec<Read>,
    /// The alerts raised, in order.
    pub alerts: Vec<Alert>,
    /// What could not be read or delivered (the pass went on).
    pub errors: Vec<String>,
    /// Deliveries of an alert to a sink that failed (each is in `errors`).
    pub undelivered: usize,
}

/// One pass: reads the new lines of `logs`, asks the homeserver who wrote
/// to the AI when `senders` watches it ([`senders::watch`]), checks
/// `certificates`, raises the alerts of `spec`'s rules, delivers them to
/// `sinks`, and updates `state`. Reading goes through `runner`; `now` is
/// the time of the pass.
#[allow(clippy::too_many_arguments)]
pub fn pass(
    spec: &Spec,
    logs: &[Log],
    senders: Option<&senders::Watch>,
    certificates: &[(String, PathBuf)],
    state: &mut State,
    runner: &mut dyn Runner,
    sinks: &mut [&mut dyn alert::AlertSink],
    now: SystemTime,
) -> Report {
    let rules = &spec.monitoring.alerts;
    let mut report = Report::default();
    let mut entries = Vec::new();
    for log in logs {
        let key = log.source.key();
        match read::read(&log.source, state.positions.sources.get(&key), runner) {
            Ok((lines, position)) => {
                report.read.push(Read {
                    host: log.host.clone(),
                    service: log.service,
                    source: key.clone(),
                    lines: lines.len(),
                });
                for line in &lines {
                    if let Some(event) = rules::parse(log.service, &line.text) {
                        entries.push(Entry {
                            service: log.service,
                            at: rules::timestamp(&line.text).or(line.at).unwrap_or(now),
                            event,
                        });
                    }
                }
                if let Some(position) = position {
                    state.positions.sources.insert(key, position);
                }
            }
            Err(e) => report
                .errors
                .push(format!("{} on {}: {e}", log.service.name(), log.host)),
        }
    }
    let expected = Expected::of(spec);
    report.alerts = rules::alerts(rules, &expected, &entries, &mut state.windows);
    match senders {
        Some(watch) => {
            // The alert rooms: only the AI and their owner are in them.
            let skip = state.rooms.values().cloned().collect();
            match watch.pass(state.matrix_since.as_deref(), &skip) {
                Ok((alerts, next)) => {
                    report.alerts.extend(alerts);
                    state.matrix_since = Some(next);
                }
                Err(e) => report.errors.push(e),
            }
        }
        // Turned on again later, the rule starts from then.
        None => state.matrix_since = None,
    }
    for (name, path) in certificates {
        let pem = match std::fs::read_to_string(path) {
            Ok(pem) => pem,
            // Not created yet: `apply` makes it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                report
                    .errors
                    .push(format!("cannot read `{}`: {e}", path.display()));
                continue;
            }
        };
        let not_after = match cert::not_after(&pem) {
            Ok(t) => t,
            Err(e) => {
                report.errors.push(format!("`{name}`: {e}"));
                continue;
            }
        };
        let Some(alert) = rules::certificate(name, not_after, rules.certificate_expiry_days, now)
        else {
            state.certificates.remove(name);
            continue;
        };
        let now_secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let repeat = state
            .certificates
            .get(name)
            .is_none_or(|last| last + CERTIFICATE_REPEAT.as_secs() <= now_secs);
        if repeat {
            state.certificates.insert(name.clone(), now_secs);
            report.alerts.push(alert);
        }
    }
    for alert in &report.alerts {
        for sink in sinks.iter_mut() {
            if let Err(e) = sink.send(alert, now) {
                report.undelivered += 1;
                report
                    .errors
                    .push(format!("an alert was not delivered: {e}"));
            }
        }
    }
    report
}

/// The Matrix direct-message sink of `spec` for this install, when the
/// spec runs a homeserver on a host this install covers (the monitor
/// speaks to it on loopback) and the alerts have owners; `rooms`: the
/// direct rooms the monitor's state remembers.
pub fn matrix_sink(
    spec: &Spec,
    install: &Install,
    rooms: BTreeMap<String, String>,
) -> Option<dm::MatrixDm> {
    let accounts = crate::render::homeserver::accounts(spec)?;
    if !install.includes(&accounts.host) {
        return None;
    }
    let owners = spec
        .monitoring
        .alerts
        .matrix_owners(&spec.users, &spec.groups);
    if owners.is_empty() {
        return None;
    }
    Some(dm::MatrixDm::new(
        accounts,
        owners,
        install.state_dir(),
        match install {
            Install::Live { host, .. } => Some(host.as_str()),
            Install::Staged { .. } => None,
        },
        rooms,
    ))
}

/// The platform privai runs on for the desktop sink: the host's under a
/// live install, this machine's under `--root`.
pub fn platform(spec: &Spec, install: &Install) -> Option<Platform> {
    match install {
        Install::Live { host, .. } => spec
            .hosts
            .iter()
            .find(|h| &h.name == host)
            .map(|h| h.platform),
        Install::Staged { .. } => None,
    }
}
