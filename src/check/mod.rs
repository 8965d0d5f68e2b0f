//! Semantic checks: everything the option contracts cannot see on their own.
//!
//! Each pass is a pure function of the typed spec that pushes diagnostics;
//! every pass runs, so one `privai check` reports every problem at once.
//! Passes give each diagnostic the path of the offending value; [`run`] then
//! looks up where that value was written.

mod gateway;
mod hardening;
mod headscale;
mod network;
mod references;
mod secrets;
mod services;

use crate::diagnostic::Diagnostic;
use crate::model::Spec;
use crate::spec::LoadedSpec;

/// A semantic check: reads the spec, reports what is wrong.
pub type Pass = fn(&Spec, &mut Vec<Diagnostic>);

/// Every pass, in the order their findings are listed.
///
/// Model memory fit (sizing) plugs in here as one more pass.
pub const PASSES: &[(&str, Pass)] = &[
    ("references", references::check),
    ("services", services::check),
    ("network", network::check),
    ("headscale", headscale::check),
    ("gateway", gateway::check),
    ("hardening", hardening::check),
    ("secrets", secrets::check),
];

/// Runs every pass on a loaded spec and locates each finding in the sources.
pub fn run(loaded: &LoadedSpec) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (_, pass) in PASSES {
        pass(&loaded.spec, &mut found);
    }
    found.into_iter().map(|d| loaded.locate(d)).collect()
}
