//! Helpers for the unit tests of the check passes: load a spec from text.

use crate::diagnostic::{Diagnostic, Severity};
use crate::spec::LoadedSpec;
use std::io::Write;

/// Loads `text` as a spec file with `extension` (`ncl` or `toml`); panics on evaluation errors.
pub fn load(text: &str, extension: &str) -> LoadedSpec {
    let mut file = tempfile::Builder::new()
        .suffix(&format!(".{extension}"))
        .tempfile()
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
    match crate::spec::load(file.path()) {
        Ok(loaded) => loaded,
        Err(e) => panic!("spec does not evaluate: {:#?}", e.diagnostics),
    }
}

/// Runs every pass on the Nickel spec `text`; returns the diagnostics.
pub fn diagnostics(text: &str) -> Vec<Diagnostic> {
    super::run(&load(text, "ncl"))
}

/// `(code, path)` of each diagnostic of the Nickel spec `text`, for compact assertions.
pub fn findings(text: &str) -> Vec<(&'static str, String)> {
    diagnostics(text)
        .into_iter()
        .map(|d| (d.code, d.path.map(|p| p.to_string()).unwrap_or_default()))
        .collect()
}

/// A small valid spec: one Linux host running Ollama. Tests merge their case into it.
pub const BASE: &str = r#"{
  hosts = [ { name = "box", platform = 'linux, arch = 'x86_64, ram_gb = 32, roles = ['headscale, 'ollama], tailnet_ip = "100.64.0.1" } ],
}"#;

/// A valid gateway on the base host: pinned image, declared models.
pub const GATEWAY: &str = r#"{
  hosts | priority 10 = [ { name = "box", platform = 'linux, arch = 'x86_64, ram_gb = 32, roles = ['headscale, 'ollama, 'openclaw], tailnet_ip = "100.64.0.1" } ],
  ollama.models = [
    { name = "qwen2.5:14b", role = 'primary },
    { name = "llama3.2:3b", role = 'fallback },
  ],
  openclaw = {
    image = "ghcr.io/openclaw/openclaw:2026.9.6@sha256:3f4b2c1d8e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
    model = { primary = "qwen2.5:14b", fallbacks = ["llama3.2:3b"] },
  },
}"#;

/// [`BASE`] with [`GATEWAY`] and `case` merged in.
pub fn with_gateway(case: &str) -> String {
    format!("{BASE} & {GATEWAY} & {case}")
}

/// The diagnostics of `text` whose code `keep` accepts.
pub fn diagnostics_of(text: &str, keep: impl Fn(&str) -> bool) -> Vec<Diagnostic> {
    diagnostics(text)
        .into_iter()
        .filter(|d| keep(d.code))
        .collect()
}

/// `(code, path)` of the diagnostics of `text` whose code `keep` accepts.
pub fn findings_of(text: &str, keep: impl Fn(&str) -> bool) -> Vec<(&'static str, String)> {
    findings(text)
        .into_iter()
        .filter(|(code, _)| keep(code))
        .collect()
}

/// `(code, path)` pairs with owned paths, for comparing with findings.
pub fn pairs(list: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    list.iter().map(|(c, p)| (*c, p.to_string())).collect()
}

/// `(code, path, severity)` of each diagnostic, for compact assertions.
pub fn summary(diagnostics: &[Diagnostic]) -> Vec<(&'static str, String, Severity)> {
    diagnostics
        .iter()
        .map(|d| {
            let path = d.path.as_ref().map(|p| p.to_string()).unwrap_or_default();
            (d.code, path, d.severity)
        })
        .collect()
}

/// `(code, path)` of the findings on `examples/seed-home.ncl` whose code `keep` accepts.
pub fn seed_findings(keep: impl Fn(&str) -> bool) -> Vec<(&'static str, String)> {
    findings_of(include_str!("../../examples/seed-home.ncl"), keep)
}
