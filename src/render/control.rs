//! What privai sets through Headscale's API rather than in files: the
//! spec's users, a pre-auth key for each device that has not joined, the
//! tags of joined devices. Pure: `observe` reads Headscale, `plan` decides.

use super::ServiceId;
use super::units::Health;
use crate::model::{Device, PolicyMode, Role, Spec, TlsMode, User};
use serde::Serialize;

/// The tailnet as Headscale's API should hold it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    /// The host running Headscale.
    pub host: String,
    /// Where privai reaches the API from that host: `http://LISTEN` behind a
    /// proxy, else the server URL (connected on loopback, TLS checked).
    pub api_url: String,
    /// The certificate to trust for `api_url` (self-signed mode), as an
    /// install path.
    pub certificate: Option<String>,
    /// The secret reference of the API key; `None`: privai cannot use the API.
    pub api_key: Option<crate::model::SecretRef>,
    /// The spec's users.
    pub users: Vec<User>,
    /// The spec's devices.
    pub devices: Vec<Device>,
    /// Days a new pre-auth key stays valid.
    pub key_expiry_days: u32,
    /// Where Headscale keeps its ACL policy: a file it reloads on SIGHUP,
    /// or its database, set through the API.
    pub policy_mode: PolicyMode,
    /// The ACL policy (HuJSON), as the policy file holds it.
    pub policy: String,
    /// The tailnet addresses the spec pins (`tailnet_ip`): (host or
    /// device name, address), which the policy names them by.
    pub addresses: Vec<(String, String)>,
}

/// The control-plane state `spec` asks for, if it runs Headscale.
pub fn control(spec: &Spec, health: Option<&Health>) -> Option<Control> {
    let host = spec.service_host(Role::Headscale)?;
    let hs = &spec.headscale;
    let (api_url, certificate) = match (hs.tls.mode, health) {
        (TlsMode::Proxy, Some(Health::Http { url })) => {
            (url.strip_suffix("/health").unwrap_or(url).to_owned(), None)
        }
        (TlsMode::SelfSigned, _) => {
            let (certificate, _) =
                super::headscale::tls_files(spec, &super::paths::Layout::of(host));
            (hs.server_url.clone(), Some(certificate))
        }
        _ => (hs.server_url.clone(), None),
    };
    Some(Control {
        host: host.name.clone(),
        api_url,
        certificate,
        api_key: hs.api_key.clone(),
        users: spec.users.clone(),
        devices: spec.devices.clone(),
        key_expiry_days: spec.monitoring.key_rotation.preauth_key_expiry_days.max(1),
        policy_mode: hs.policy_mode,
        policy: super::headscale::policy_hujson(spec),
        addresses: spec
            .hosts
            .iter()
            .map(|h| (&h.name, &h.tailnet_ip))
            .chain(spec.devices.iter().map(|d| (&d.name, &d.tailnet_ip)))
            .filter_map(|(name, ip)| Some((name.clone(), ip.clone()?)))
            .collect(),
    })
}

/// The Headscale unit's health check among `units`.
pub fn headscale_health(units: &[super::units::ServiceUnit]) -> Option<&Health> {
    units
        .iter()
        .find(|u| u.id == ServiceId::Headscale)
        .and_then(|u| u.health.as_ref())
}
