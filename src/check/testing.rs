//! Helpers for the unit tests of the check passes: load a spec from text.

use crate::diagnostic::Diagnostic;
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
