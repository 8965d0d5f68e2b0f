//! The gateway's containers as the container runtime reports them
//! ([`crate::sys::container::observe`] reads them).

use std::collections::BTreeMap;

/// One container as the runtime reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerState {
    /// Full id.
    pub id: String,
    /// Name, without Docker's leading `/`.
    pub name: String,
    /// The compose service ([`SERVICE_LABEL`]), if labelled.
    pub service: Option<String>,
    /// The image reference the container was created from, as given.
    pub image: String,
    /// The image's id.
    pub image_id: String,
    /// The image's manifest digest (podman only).
    pub image_digest: Option<String>,
    /// `created`, `running`, `paused`, `restarting`, `exited`, …
    pub status: String,
    /// Whether it runs.
    pub running: bool,
    /// Health-check state (`starting`, `healthy`, `unhealthy`), when the
    /// container has a health check.
    pub health: Option<String>,
    /// How many times the runtime restarted it.
    pub restart_count: u64,
    /// Every label, the image's included.
    pub labels: BTreeMap<String, String>,
    /// Memory limit in bytes; `None` when unlimited.
    pub memory_limit_bytes: Option<u64>,
    /// CPU limit in billionths of a CPU; `None` when unlimited.
    pub nano_cpus: Option<u64>,
    /// Process limit; `None` when unlimited.
    pub pids_limit: Option<u64>,
    /// `uid:gid` (or a name) it runs as; empty for the image's default.
    pub user: String,
    /// Whether its root filesystem is read-only.
    pub read_only_root: bool,
    /// `host`, `bridge`, a network name, …
    pub network_mode: String,
}
