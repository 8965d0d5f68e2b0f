//! privai's integration tests, in one binary (one link of the Nickel engine).

// Tests build their fixtures with std::fs; the rule of clippy.toml (writes
// only through privai's state::atomic) is for privai itself.
#![allow(clippy::disallowed_methods)]

mod acl;
mod ai_path;
mod api_headscale;
mod api_ollama;
mod apply;
mod apply_headscale;
mod apply_json;
mod cli;
mod corpus;
mod diagram;
mod enroll;
mod flake;
mod fleet;
mod fuzz_loaders;
mod gateway_apply;
mod gateway_container;
mod homeserver;
mod init;
mod layout;
mod models_live;
mod monitor;
mod ollama_real;
mod openclaw_e2e;
mod plan;
mod plan_golden;
mod real;
mod render_build;
mod render_headscale;
mod render_openclaw;
mod render_services;
mod rotate;
mod sizing;
mod spec;
mod state_safety;
mod status;
mod tailnet;
mod tools;
mod untrusted;
mod untrusted_paths;

#[path = "../standin/mod.rs"]
mod standin;

/// Held by every test that runs podman: podman 4.3 races when several
/// compose projects create networks and pods at once.
///
/// A test waiting for it holds one of the test threads, and the test
/// harness starts tests in the order of their names; so `ai_path`, the
/// longest (over 2 minutes), comes first, and the other podman tests sit in
/// modules (`gateway_*`, `render_openclaw`, `tailnet`) that the harness
/// reaches only minutes of other tests later, when it is done.
pub static PODMAN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// [`PODMAN`] and the machine-wide lock beside it.
pub struct PodmanLock {
    _thread: std::sync::MutexGuard<'static, ()>,
    _machine: std::fs::File,
}

/// Takes [`PODMAN`] (even if a test that held it panicked), then an
/// exclusive lock on `$TMPDIR/privai-podman-tests.lock`: the compose
/// project `privai-gateway` and its subnet are fixed, so test runs of
/// other checkouts on the same machine must not run podman at once either.
pub fn podman_lock() -> PodmanLock {
    let thread = PODMAN.lock().unwrap_or_else(|e| e.into_inner());
    let path = std::env::temp_dir().join("privai-podman-tests.lock");
    let machine = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    machine
        .lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", path.display()));
    PodmanLock {
        _thread: thread,
        _machine: machine,
    }
}
