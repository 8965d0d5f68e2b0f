//! Placeholder: the ollama renderer.

use super::Artifact;
use crate::model::{Host, Spec};

/// Renders the ollama artifacts of `host`.
pub fn render(_spec: &Spec, _host: &Host, _out: &mut Vec<Artifact>) {}
