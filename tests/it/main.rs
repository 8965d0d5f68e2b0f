//! privai's integration tests, in one binary (one link of the Nickel engine).

mod acl;
mod api_headscale;
mod api_ollama;
mod apply;
mod apply_headscale;
mod apply_podman;
mod cli;
mod container;
mod corpus;
mod enroll;
mod flake;
mod models_live;
mod openclaw_e2e;
mod plan;
mod render_build;
mod render_headscale;
mod render_openclaw;
mod render_services;
mod sizing;
mod spec;
mod tailnet;
mod tools;

#[path = "../standin/mod.rs"]
mod standin;

/// Held by every test that runs podman: podman 4.3 races when several
/// compose projects create networks and pods at once.
pub static PODMAN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes [`PODMAN`], even if a test that held it panicked.
pub fn podman_lock() -> std::sync::MutexGuard<'static, ()> {
    PODMAN.lock().unwrap_or_else(|e| e.into_inner())
}
