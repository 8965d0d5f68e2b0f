//! The secret files `apply` writes: the gateway's token when its `file:`
//! does not exist yet (generated), every secret the spec reads from an
//! environment variable (copied into privai's secrets directory, where the
//! compose file mounts it from), and Headscale's TLS key with its
//! self-signed certificate in `'self_signed` mode when neither exists.
//! Pure: values are read by `observe` and `apply`, never here, and never
//! stored in a generation.
//!
//! Not written (yet): secrets in the macOS keychain (`keychain:`); a
//! channel token given as `file:`, which only its owner can provide.

use super::ServiceId;
use super::paths::Layout;
use crate::model::secret_ref::Form;
use crate::model::{Role, SecretRef, Spec};
use serde::{Deserialize, Serialize};

/// Where a secret file's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecretSource {
    /// Random bytes, written once when the file is missing and then kept.
    Generate,
    /// The value of an environment variable when privai runs.
    Env {
        /// The variable.
        var: String,
    },
    /// A new private key (the secret) and a self-signed certificate for
    /// `names`, written at `certificate` (mode 0644): made once when
    /// neither file exists, then kept.
    SelfSigned {
        /// Install path of the certificate.
        certificate: String,
        /// Its subject alternative names (host names or IP addresses).
        names: Vec<String>,
    },
}

/// A secret file privai writes (mode 0600).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFile {
    /// The host it is on.
    pub host: String,
    /// Its install path (`~/` is the operator's home).
    pub path: String,
    /// What the spec calls it, e.g. `openclaw.gateway_token`.
    pub name: String,
    /// Where its value comes from.
    pub source: SecretSource,
    /// Services to restart when it changes.
    pub restarts: Vec<ServiceId>,
    /// Who owns it (`uid:gid`) when that is not whoever runs privai: the
    /// gateway container's user (`openclaw.container.user`) for the
    /// gateway's secrets on Linux, where the container reads them through
    /// a bind mount that keeps the file's owner and its mode 0600. `None`
    /// on macOS, where Docker Desktop shares files whatever their owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// The secret files of `spec`, by host and path.
pub fn secrets(spec: &Spec) -> Vec<SecretFile> {
    let mut out = headscale_tls(spec).into_iter().collect::<Vec<_>>();
    gateway(spec, &mut out);
    out.extend(homeserver(spec));
    out.sort_by(|a, b| (&a.host, &a.path).cmp(&(&b.host, &b.path)));
    out
}

/// Headscale's key and self-signed certificate in `'self_signed` mode,
/// for the host of `headscale.server_url`.
fn headscale_tls(spec: &Spec) -> Option<SecretFile> {
    let host = spec.service_host(Role::Headscale)?;
    if spec.headscale.tls.mode != crate::model::TlsMode::SelfSigned {
        return None;
    }
    let (certificate, key) = super::headscale::tls_files(spec, &Layout::of(host));
    let name = url_host(&spec.headscale.server_url)?;
    Some(SecretFile {
        host: host.name.clone(),
        path: key,
        name: "headscale.tls.key_path".to_owned(),
        source: SecretSource::SelfSigned {
            certificate,
            names: vec![name],
        },
        restarts: vec![ServiceId::Headscale],
        owner: None,
    })
}

/// The host of `url` (`https://hs.example:8443/x` → `hs.example`, an IPv6
/// address without its brackets).
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_owned())
}

/// The homeserver's registration shared secret, generated once: Synapse
/// reads it, and accounts are registered with it.
fn homeserver(spec: &Spec) -> Option<SecretFile> {
    let (_, host) = spec.homeserver()?;
    Some(SecretFile {
        host: host.name.clone(),
        path: super::homeserver::registration_secret_path(&Layout::of(host)),
        name: "homeserver.registration_shared_secret".to_owned(),
        source: SecretSource::Generate,
        restarts: vec![ServiceId::Homeserver],
        owner: None,
    })
}

/// Who must own a secret file on `host` that the gateway's container reads
/// through its secret mount: its user on Linux; `None` on macOS (Docker
/// Desktop shares files whatever their owner) or without a gateway.
pub fn container_reader(spec: &Spec, host: &crate::model::Host) -> Option<String> {
    let gateway = spec.gateway()?;
    (host.platform != crate::model::Platform::Darwin).then(|| gateway.container.user.clone())
}

/// The gateway's token and channel tokens.
fn gateway(spec: &Spec, out: &mut Vec<SecretFile>) {
    let (Some(openclaw), Some(host)) = (spec.gateway(), spec.service_host(Role::Openclaw)) else {
        return;
    };
    let layout = Layout::of(host);
    let owner = container_reader(spec, host);
    let mut add = |name: String, reference: &SecretRef, file: String, generate: bool| {
        let (path, source) = match reference.form() {
            Form::File { path } if generate => (path.clone(), SecretSource::Generate),
            Form::Env { var } => (
                format!("{}/{file}", layout.secrets_dir()),
                SecretSource::Env { var: var.clone() },
            ),
            _ => return,
        };
        out.push(SecretFile {
            host: host.name.clone(),
            path,
            name,
            source,
            restarts: vec![ServiceId::Gateway],
            owner: owner.clone(),
        });
    };
    add(
        "openclaw.gateway_token".into(),
        &openclaw.gateway_token,
        "openclaw-gateway-token".into(),
        true,
    );
    for (id, channel) in openclaw.channels.iter() {
        if let Some(token) = &channel.token {
            add(
                format!("openclaw.channels.{id}.token"),
                token,
                format!("{id}-token"),
                false,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{secrets, url_host};

    fn example(name: &str) -> crate::model::Spec {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name);
        crate::spec::load(&path)
            .unwrap_or_else(|e| panic!("{name}: {:#?}", e.diagnostics))
            .spec
    }

    #[test]
    fn on_linux_the_gateways_secrets_belong_to_its_containers_user_and_nothing_else_does() {
        let spec = example("linux-homelab.ncl");
        let all = secrets(&spec);
        let token = all
            .iter()
            .find(|s| s.name == "openclaw.gateway_token")
            .expect("the gateway token is written by apply");
        assert_eq!(token.owner.as_deref(), Some("1000:1000"));
        for other in all.iter().filter(|s| !s.name.starts_with("openclaw.")) {
            assert_eq!(other.owner, None, "{}", other.name);
        }
    }

    #[test]
    fn on_macos_no_secret_changes_owner() {
        let spec = example("seed-home.ncl");
        let all = secrets(&spec);
        assert!(all.iter().any(|s| s.name == "openclaw.gateway_token"));
        assert!(all.iter().all(|s| s.owner.is_none()), "{all:#?}");
        let accounts =
            crate::render::homeserver::accounts(&spec).expect("the seed has a homeserver");
        assert_eq!(accounts.ai_token_owner, None);
    }

    #[test]
    fn the_certificate_names_the_host_of_the_server_url() {
        for (url, host) in [
            ("https://headscale.home.arpa", "headscale.home.arpa"),
            ("https://hs.example:8443/path", "hs.example"),
            ("https://100.64.0.1", "100.64.0.1"),
            ("https://[fd7a::1]:443", "fd7a::1"),
        ] {
            assert_eq!(url_host(url).as_deref(), Some(host), "{url}");
        }
        assert_eq!(url_host("https://"), None);
    }
}
