//! Ollama's service: `ollama serve` with the spec's settings as environment
//! variables (Ollama's `envconfig`).
//!
//! macOS: a LaunchAgent of the operator (Metal needs the login session's
//! GPU), logging to `/usr/local/var/log/privai/ollama.log`. Without
//! `models_dir` the spec leaves `OLLAMA_MODELS` unset, so Ollama's default
//! `~/.ollama/models` applies: launchd does not expand `~` and the plist
//! cannot name the operator's home.
//!
//! Linux: a hardened system unit with a dynamic user whose state directory
//! `/var/lib/privai/ollama` is also its `HOME` (Ollama keeps its key pair in
//! `~/.ollama`) and, without `models_dir`, holds the models.
//!
//! The models to pull are listed by [`super::render`], not here.

use super::paths::Layout;
use super::service::{self, Schedule, ServiceSpec};
use super::{Artifact, ServiceId};
use crate::model::{Host, KvCacheType, Platform, Spec};
use std::collections::BTreeMap;

/// Renders the ollama artifacts of `host`.
pub fn render(spec: &Spec, host: &Host, out: &mut Vec<Artifact>) {
    out.extend(service::files(&service_spec(spec, host), host));
}

/// Ollama's state directory on Linux (its `HOME`).
fn state_dir(layout: &Layout) -> String {
    format!("{}/ollama", layout.var_lib())
}

/// Ollama's service on `host`.
pub fn service_spec(spec: &Spec, host: &Host) -> ServiceSpec {
    let layout = Layout::of(host);
    let o = &spec.ollama;
    let darwin = layout.platform() == Platform::Darwin;
    let listen = o.listen.bracketed_host();
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_owned(), v);
    };
    set("OLLAMA_HOST", format!("{listen}:{}", o.port));
    set("OLLAMA_KEEP_ALIVE", o.keep_alive.clone());
    set("OLLAMA_MAX_LOADED_MODELS", o.max_loaded_models.to_string());
    set("OLLAMA_NUM_PARALLEL", o.num_parallel.to_string());
    set(
        "OLLAMA_FLASH_ATTENTION",
        if o.flash_attention { "1" } else { "0" }.to_owned(),
    );
    let kv = match o.kv_cache_type {
        KvCacheType::F16 => "f16",
        KvCacheType::Q8_0 => "q8_0",
        KvCacheType::Q4_0 => "q4_0",
    };
    set("OLLAMA_KV_CACHE_TYPE", kv.to_owned());
    set("OLLAMA_CONTEXT_LENGTH", o.context_length.to_string());
    if !o.origins.is_empty() {
        set("OLLAMA_ORIGINS", o.origins.join(","));
    }
    let mut writable_paths = Vec::new();
    if darwin {
        if let Some(dir) = &o.models_dir {
            set("OLLAMA_MODELS", dir.clone());
        }
    } else {
        let state = state_dir(&layout);
        set("HOME", state.clone());
        set(
            "OLLAMA_MODELS",
            o.models_dir
                .clone()
                .unwrap_or_else(|| format!("{state}/models")),
        );
        writable_paths.push(state);
        if let Some(dir) = &o.models_dir {
            writable_paths.push(dir.clone());
        }
    }
    ServiceSpec {
        name: "ollama",
        description: "Ollama LLM server of privai".to_owned(),
        program: vec![layout.ollama_bin(), "serve".to_owned()],
        environment: env,
        system: !darwin,
        schedule: Schedule::Daemon,
        binds_privileged_port: o.port < 1024,
        network: !o.listen.is_loopback(),
        gpu: darwin || host.gpu_memory_gb.is_some(),
        writable_paths,
        readable_paths: Vec::new(),
        log_file: service::log_file(&layout, "ollama"),
        id: ServiceId::Ollama,
        reloads_on_sighup: false,
        credentials: Vec::new(),
        success_exit_statuses: Vec::new(),
    }
}
