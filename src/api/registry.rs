//! The private model mirror (`ollama.registry`): a Docker registry (v2)
//! holding models pushed with `ollama push`. privai only reads a model's
//! manifest from it, for the size the plan shows; Ollama itself pulls.

use serde::Deserialize;
use std::time::Duration;

/// The media type of the manifests `ollama push` writes (Docker schema 2).
const MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Why the mirror could not tell a model's size.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No answer, or no usable one.
    #[error("the model mirror at {url} did not answer: {detail}")]
    Unreachable {
        /// The manifest's URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// It answered, but not with the manifest.
    #[error(
        "the model mirror answered {status} for {url}: is the model pushed there (`ollama push {name} --insecure`)?"
    )]
    Status {
        /// The manifest's URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The model as Ollama names it on the mirror.
        name: String,
    },
}

#[derive(Deserialize)]
struct Manifest {
    config: Blob,
    layers: Vec<Blob>,
}

#[derive(Deserialize)]
struct Blob {
    size: u64,
}

/// The URL of the manifest of `name` (`HOST/NAMESPACE/REPO:TAG`, as Ollama
/// pulls it from the mirror).
pub fn manifest_url(name: &str, insecure: bool) -> Option<String> {
    let (host, rest) = name.split_once('/')?;
    let (repo, tag) = rest.rsplit_once(':')?;
    let scheme = if insecure { "http" } else { "https" };
    Some(format!("{scheme}://{host}/v2/{repo}/manifests/{tag}"))
}

/// The bytes Ollama downloads to pull `name` from the mirror: its config
/// and layers, as its manifest lists them.
pub fn download_size(name: &str, insecure: bool) -> Result<u64, RegistryError> {
    let url = manifest_url(name, insecure).ok_or_else(|| RegistryError::Unreachable {
        url: name.to_owned(),
        detail: "not a mirror model name (HOST/NAMESPACE/MODEL:TAG)".to_owned(),
    })?;
    let unreachable = |detail: String| RegistryError::Unreachable {
        url: url.clone(),
        detail,
    };
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("privai/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| unreachable(e.to_string()))?;
    let response = http
        .get(&url)
        .header(reqwest::header::ACCEPT, MANIFEST_V2)
        .send()
        .map_err(|e| unreachable(e.to_string()))?;
    if !response.status().is_success() {
        return Err(RegistryError::Status {
            url,
            status: response.status().as_u16(),
            name: name.to_owned(),
        });
    }
    let manifest: Manifest = response
        .json()
        .map_err(|e| unreachable(format!("not a manifest: {e}")))?;
    Ok(manifest.config.size + manifest.layers.iter().map(|l| l.size).sum::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_url_splits_host_repository_and_tag() {
        assert_eq!(
            manifest_url("models.home.arpa:5000/library/tiny:latest", false).as_deref(),
            Some("https://models.home.arpa:5000/v2/library/tiny/manifests/latest")
        );
        assert_eq!(
            manifest_url("localhost:5000/library/qwen2.5:14b", true).as_deref(),
            Some("http://localhost:5000/v2/library/qwen2.5/manifests/14b")
        );
        assert_eq!(manifest_url("tiny", true), None);
    }
}
