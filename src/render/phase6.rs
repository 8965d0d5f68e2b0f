//! Placeholder: the phase6 renderer.

use super::Artifact;
use crate::model::{Host, Spec};

/// Renders the phase6 artifacts of `host`.
pub fn render(_spec: &Spec, _host: &Host, _out: &mut Vec<Artifact>) {}
