//! placeholder

use crate::diagnostic::Diagnostic;
use crate::model::Spec;

/// Runs this pass.
pub fn check(_spec: &Spec, _out: &mut Vec<Diagnostic>) {}
