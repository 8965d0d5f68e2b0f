//! How much memory a host can give to models.
//!
//! - Apple Silicon: models live in the GPU-visible share of unified memory
//!   (Metal's `recommendedMaxWorkingSetSize`): 28,991 MiB of a 36 GB Mac
//!   (78.6 %), about 75 % on larger ones, unless `iogpu.wired_limit_mb` was
//!   raised (`gpu_wired_limit_mb` in the spec). The gateway container and
//!   Headscale share the same memory, so their needs are taken off.
//! - Linux with a GPU: the GPU's memory, which the other services do not use.
//! - Linux without a GPU: system memory, less the operating system's share
//!   and the other services.

use super::{GIB, MIB};
use crate::model::{Host, Platform, Role, Spec};
use serde::Serialize;

/// GPU share of unified memory on Macs up to 36 GB (28,991 MiB of 36 GiB).
pub const APPLE_SHARE_SMALL: f64 = 28_991.0 / 36_864.0;
/// GPU share of unified memory on Macs above 36 GB.
pub const APPLE_SHARE_LARGE: f64 = 0.75;
/// Memory kept for the operating system on a Linux host without a GPU.
pub const LINUX_OS_RESERVE: u64 = 2 * GIB as u64;
/// Memory Headscale needs (its resident size stays well below this).
pub const HEADSCALE_RESERVE: u64 = 256 * MIB as u64;
/// Memory the homeserver needs: Synapse 1.163 is about 120 MiB resident
/// once started with an empty database; its caches grow with use.
pub const HOMESERVER_RESERVE: u64 = 512 * MIB as u64;

/// Where the models' memory comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pool {
    /// The GPU-visible share of a Mac's unified memory.
    AppleGpuShare {
        /// Installed memory, GB.
        ram_gb: u32,
        /// The `iogpu.wired_limit_mb` override, if the spec states one.
        wired_limit_mb: Option<u32>,
    },
    /// A Linux host's GPU memory.
    Gpu {
        /// GPU memory, GB.
        gpu_memory_gb: u32,
    },
    /// A Linux host's system memory (CPU inference).
    SystemMemory {
        /// Installed memory, GB.
        ram_gb: u32,
    },
}

/// Memory set aside for something other than models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reservation {
    /// What uses it, e.g. `the gateway container (memory_mb)`.
    pub what: String,
    /// Bytes.
    pub bytes: u64,
}

/// The memory a host can give to models.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Budget {
    /// The host.
    pub host: String,
    /// Where the memory comes from.
    pub pool: Pool,
    /// Size of the pool, bytes.
    pub pool_bytes: u64,
    /// What else takes from the pool.
    pub reserved: Vec<Reservation>,
    /// What is left for models, bytes.
    pub available: u64,
}

impl Budget {
    /// The budget in words, e.g. `28.3 GiB GPU share of 36 GB − 2.0 GiB for the gateway container = 26.3 GiB`.
    pub fn explain(&self) -> String {
        let pool = match &self.pool {
            Pool::AppleGpuShare {
                ram_gb,
                wired_limit_mb: None,
            } => format!(
                "{} GPU share of {ram_gb} GB unified memory",
                super::gib(self.pool_bytes)
            ),
            Pool::AppleGpuShare {
                wired_limit_mb: Some(mb),
                ..
            } => format!(
                "{} GPU share (iogpu.wired_limit_mb = {mb})",
                super::gib(self.pool_bytes)
            ),
            Pool::Gpu { gpu_memory_gb } => format!("{gpu_memory_gb} GB GPU memory"),
            Pool::SystemMemory { ram_gb } => format!(
                "{ram_gb} GB system memory − {} for the system",
                super::gib(LINUX_OS_RESERVE)
            ),
        };
        let mut text = pool;
        for r in &self.reserved {
            text.push_str(&format!(" − {} for {}", super::gib(r.bytes), r.what));
        }
        if !self.reserved.is_empty() || matches!(self.pool, Pool::SystemMemory { .. }) {
            text.push_str(&format!(" = {}", super::gib(self.available)));
        }
        text
    }
}

/// Where `host`'s model memory comes from, its size in bytes, and whether
/// the other services take their share of it too.
pub fn pool(host: &Host) -> (Pool, u64, bool) {
    let gb = |n: u32| f64::from(n) * GIB;
    match (host.platform, host.gpu_memory_gb) {
        (Platform::Darwin, _) => {
            let bytes = match host.gpu_wired_limit_mb {
                Some(mb) => f64::from(mb) * MIB,
                None if host.ram_gb <= 36 => gb(host.ram_gb) * APPLE_SHARE_SMALL,
                None => gb(host.ram_gb) * APPLE_SHARE_LARGE,
            };
            let pool = Pool::AppleGpuShare {
                ram_gb: host.ram_gb,
                wired_limit_mb: host.gpu_wired_limit_mb,
            };
            (pool, bytes as u64, true)
        }
        (Platform::Linux, Some(gpu)) => (Pool::Gpu { gpu_memory_gb: gpu }, gb(gpu) as u64, false),
        (Platform::Linux, None) => {
            let bytes = (gb(host.ram_gb) as u64).saturating_sub(LINUX_OS_RESERVE);
            (
                Pool::SystemMemory {
                    ram_gb: host.ram_gb,
                },
                bytes,
                true,
            )
        }
    }
}

/// The memory `host` can give to models, given what else of `spec` it runs.
pub fn host_budget(spec: &Spec, host: &Host) -> Budget {
    let (pool, pool_bytes, shares_with_services) = pool(host);
    let mut reserved = Vec::new();
    if shares_with_services {
        let runs = |role| spec.service_host(role).is_some_and(|h| h.name == host.name);
        if runs(Role::Openclaw) && spec.gateway().is_some() {
            reserved.push(Reservation {
                what: "the gateway container (`openclaw.container.memory_mb`)".into(),
                bytes: u64::from(spec.openclaw.container.memory_mb) * MIB as u64,
            });
        }
        if runs(Role::Headscale) {
            reserved.push(Reservation {
                what: "Headscale".into(),
                bytes: HEADSCALE_RESERVE,
            });
        }
        if runs(Role::Homeserver) {
            reserved.push(Reservation {
                what: "the Matrix homeserver (Synapse)".into(),
                bytes: HOMESERVER_RESERVE,
            });
        }
    }
    let taken: u64 = reserved.iter().map(|r| r.bytes).sum();
    Budget {
        host: host.name.clone(),
        pool,
        pool_bytes,
        reserved,
        available: pool_bytes.saturating_sub(taken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_homeserver_takes_its_share_of_a_host_that_shares_memory_with_models() {
        let text = |roles: &str| {
            format!(
                r#"{{ hosts = [{{ name = "box", platform = 'linux, arch = 'x86_64, ram_gb = 16, roles = [{roles}], tailnet_ip = "100.64.0.1" }}],
                     headscale.server_url = "https://hs.example.org" }}"#
            )
        };
        let budget = |roles: &str| {
            let spec = crate::check::testing::load(&text(roles), "ncl").spec;
            host_budget(&spec, &spec.hosts[0])
        };
        let without = budget("'headscale, 'ollama");
        let with = budget("'headscale, 'ollama, 'homeserver");
        assert_eq!(without.available - with.available, HOMESERVER_RESERVE);
        assert!(
            with.reserved
                .iter()
                .any(|r| r.what.contains("Synapse") && r.bytes == HOMESERVER_RESERVE)
        );
    }
}
