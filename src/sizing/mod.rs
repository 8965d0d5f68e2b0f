//! Model memory fit: will the spec's Ollama models run on their host?
//!
//! Pure functions of (model facts, settings, host):
//! - [`catalog`]: facts of common Ollama tags, shipped in the binary;
//! - [`estimate`]: memory one model needs (weights, KV cache, compute);
//! - [`budget`]: memory a host can give to models;
//! - [`fit`]: both together, per host, with the fit rules and alternatives.
//!
//! The estimator takes [`estimate::ModelFacts`], not catalog entries, so that
//! exact facts read from a running Ollama (`/api/show` and `/api/tags`) can
//! replace the catalog's: [`fit::assess_with`] takes them as [`fit::Exact`].
//! Asking Ollama is the caller's business (`privai models` does).

pub mod budget;
pub mod catalog;
pub mod estimate;
pub mod fit;

/// Bytes in a GiB.
pub const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
/// Bytes in a MiB.
pub const MIB: f64 = 1024.0 * 1024.0;

/// `bytes` in GiB with one decimal, e.g. `41.9 GiB`; below 1 GiB in MiB.
pub fn gib(bytes: u64) -> String {
    if (bytes as f64) < GIB {
        format!("{:.0} MiB", bytes as f64 / MIB)
    } else {
        format!("{:.1} GiB", bytes as f64 / GIB)
    }
}
