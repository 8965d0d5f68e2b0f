//! privai deploys a fully private AI system — Headscale, Tailscale clients,
//! Ollama and the OpenClaw gateway — from one declarative spec.
//!
//! The pipeline, one module per stage (docs/architecture.md):
//!
//! ```text
//! spec (.ncl | .toml | .json)
//!   └─ spec:    Nickel evaluation with the bundled modules/ and profiles/ → typed model
//!   └─ check:   semantic validation and security lints → every diagnostic at once
//!   └─ render:  pure, the files, secrets, services and resources the spec asks for
//!   └─ observe: what is there now
//!   └─ plan:    pure, the actions by domain (files, secrets, services, models, headscale)
//!   └─ apply:   the actions carried out, journaled, with events for the printer
//! ```

// Unit tests build their fixtures with std::fs; privai's own code writes
// only through `state::atomic` (clippy.toml), which the non-test build checks.
#![cfg_attr(test, allow(clippy::disallowed_methods))]

pub mod acl;
pub mod api;
pub mod apply;
pub mod check;
pub mod cli;
pub mod codes;
pub mod diagnostic;
pub mod diagram;
pub mod fleet;
pub mod init;
pub mod lockfile;
pub mod model;
pub mod monitor;
pub mod net;
pub mod observe;
pub mod output;
pub mod plan;
pub mod render;
pub mod secret;
pub mod sizing;
pub mod sources;
pub mod spec;
pub mod state;
pub mod status;
pub mod sys;

/// Counts the evaluation thread's allocations to bound its memory (see [`spec::budget`]).
#[global_allocator]
static ALLOCATOR: spec::budget::Counting = spec::budget::Counting;
