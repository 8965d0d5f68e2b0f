//! The probes of `privai status` beyond what [`crate::observe`] reads:
//! every service's health check, once and briefly, the models Ollama has
//! loaded (`/api/ps`) and Headscale's version (`/version`).

use super::Probes;
use crate::observe::live::{HeadscaleState, OllamaState, headscale_client, ollama_url};
use crate::render::Rendered;
use std::time::{Duration, SystemTime};

/// Longest one health check may take: `status` reports, it does not wait
/// for a service to come up.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Probes the services `desired` runs here, as `install` lays them out;
/// Headscale is asked its version when it answered the observation.
pub fn probes(
    desired: &Rendered,
    install: &crate::state::Install,
    ollama: &OllamaState,
    headscale: &HeadscaleState,
) -> Probes {
    let health = desired
        .services
        .iter()
        .filter_map(|unit| {
            let check = unit.health.as_ref()?;
            Some((unit.id, crate::sys::health::probe(check, PROBE_TIMEOUT)))
        })
        .collect();
    let loaded = match (ollama, ollama_url(desired)) {
        (OllamaState::Running { .. }, Some(url)) => crate::api::ollama::Client::new(&url)
            .ok()
            .and_then(|client| client.running().ok()),
        _ => None,
    };
    let headscale_version = match (headscale, &desired.control) {
        (HeadscaleState::Running { .. }, Some(control)) => headscale_client(control, install)
            .ok()
            .and_then(|client| client.version().ok()),
        _ => None,
    };
    Probes {
        health,
        loaded,
        headscale_version,
        now: Some(SystemTime::now()),
    }
}
