//! Placeholder: the openclaw renderer.

use super::Artifact;
use crate::model::{Host, Spec};

/// Renders the openclaw artifacts of `host`.
pub fn render(_spec: &Spec, _host: &Host, _out: &mut Vec<Artifact>) {}
