//! Everything privai prints goes through this module.

pub mod apply_view;
pub mod diagnostics;
pub mod events;
pub mod models;
pub mod plan_json;
pub mod plan_view;
pub mod pull_view;
pub mod sink;
