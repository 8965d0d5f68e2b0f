//! Placeholder: the tailscale renderer.

use super::Artifact;
use crate::model::{Host, Spec};

/// Renders the tailscale artifacts of `host`.
pub fn render(_spec: &Spec, _host: &Host, _out: &mut Vec<Artifact>) {}
