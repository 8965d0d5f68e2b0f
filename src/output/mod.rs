//! Everything privai prints goes through this module.

pub mod diagnostics;
pub mod models;
pub mod plan_view;
