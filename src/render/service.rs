//! A platform-neutral description of a service, and its rendering as a
//! launchd plist (macOS) or a hardened systemd unit (Linux).
//!
//! Renderers of Headscale, Ollama and the phase-6 jobs describe what their
//! service runs; this module alone knows launchd and systemd.

use super::{Artifact, ServiceId};
use crate::model::Host;
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
}

/// The service definition files of `service` on `host`: a plist on macOS,
/// a unit (plus a timer for periodic jobs) on Linux.
pub fn files(service: &ServiceSpec, host: &Host) -> Vec<Artifact> {
    let _ = (service, host);
    Vec::new()
}
