//! The access policy's meaning: which device may reach which host and port.
//!
//! [`alias`] parses the policy's syntax; [`eval`] resolves aliases to the
//! spec's nodes and decides, like Headscale, whether a connection is
//! accepted and by which rule. Everything not accepted is denied.

pub mod alias;
pub mod eval;
pub mod matrix;
#[cfg(test)]
mod reference;
