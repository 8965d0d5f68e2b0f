//! Semantic checks: everything the option contracts cannot see on their own.
//!
//! Each pass is a pure function of the typed spec that pushes diagnostics;
//! every pass runs, so one `privai check` reports every problem at once.
//! Passes give each diagnostic the path of the offending value; [`run`] then
//! looks up where that value was written.

mod acl;
mod deploy;
mod gateway;
mod hardening;
mod headscale;
pub mod hint_syntax;
mod homeserver;
mod models;
mod network;
mod open_ports;
mod paths;
mod privacy;
mod references;
mod secrets;
mod services;
mod sizing;
#[cfg(test)]
pub(crate) mod testing;
mod wiring;

use crate::diagnostic::Diagnostic;
use crate::model::Spec;
use crate::sources::Sources;
use crate::spec::LoadedSpec;

/// A semantic check: reads the spec, reports what is wrong.
pub type Pass = fn(&Spec, &mut Vec<Diagnostic>);

/// Every pass, in the order their findings are listed.
///
pub const PASSES: &[(&str, Pass)] = &[
    ("references", references::check),
    ("services", services::check),
    ("network", network::check),
    ("headscale", headscale::check),
    ("gateway", gateway::check),
    ("hardening", hardening::check),
    ("privacy", privacy::check),
    ("homeserver", homeserver::check),
    ("secrets", secrets::check),
    ("paths", paths::check),
    ("models", models::check),
    ("sizing", sizing::check),
    ("acl", acl::check),
    ("deploy", deploy::check),
    ("wiring", wiring::check),
];

/// Runs every pass on a loaded spec and locates each finding in the sources.
pub fn run(loaded: &LoadedSpec) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (_, pass) in PASSES {
        pass(&loaded.spec, &mut found);
    }
    found.into_iter().map(|d| loaded.locate(d)).collect()
}

/// The outcome of checking one spec.
#[derive(Debug)]
pub struct Outcome {
    /// The spec as named in diagnostics.
    pub spec: String,
    /// Every finding, errors first, then in spec order.
    pub diagnostics: Vec<Diagnostic>,
    /// Sources for excerpts.
    pub sources: Sources,
    /// The typed spec, when it evaluated (even if a semantic check failed).
    pub model: Option<crate::model::Spec>,
}

/// Checks the spec at `path`: evaluation, then (if that succeeds) every semantic pass.
pub fn check_file(path: &std::path::Path) -> Outcome {
    let spec = path.display().to_string();
    let (mut diagnostics, sources, model) = match crate::spec::load(path) {
        Ok(loaded) => (
            crate::check::run(&loaded),
            loaded.sources,
            Some(loaded.spec),
        ),
        Err(e) => (e.diagnostics, e.sources, None),
    };
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            (
                d.severity,
                d.location
                    .as_ref()
                    .map(|l| (l.file.clone(), l.line, l.column)),
            )
        };
        key(a).cmp(&key(b))
    });
    let syntax = hint_syntax::Syntax::of(path);
    for d in &mut diagnostics {
        if let Some(hint) = &mut d.hint {
            *hint = hint_syntax::in_syntax(hint, syntax);
        }
    }
    Outcome {
        spec,
        diagnostics,
        sources,
        model,
    }
}
