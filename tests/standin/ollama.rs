//! A stand-in Ollama on 127.0.0.1, following the API as documented in
//! `shared/reference/ollama.md` §1, errors included:
//!
//! - `GET|HEAD /` (`Ollama is running`), `GET|HEAD /api/version`,
//!   `GET|HEAD /api/tags`, `GET /api/ps` (the models `/api/generate` loaded),
//!   `POST /api/show`, `POST /api/generate`,
//!   `DELETE /api/delete`: JSON, with 404 `{"error":"model 'x' not found"}`
//!   for a model it does not have;
//! - `POST /api/pull`: a chunked NDJSON stream, `pulling manifest`, then per
//!   blob `pulling <12 hex>` lines with `digest`, `total`, `completed`, then
//!   `verifying sha256 digest`, `writing manifest`, `removing unused layers`
//!   (when the pull replaced an older manifest), `success`. A name its
//!   registry lacks is HTTP 200 followed by
//!   `{"error":"pull model manifest: file does not exist"}`, as Ollama does.
//!
//! State lives in memory: the *registry* (which tags can be pulled, with
//! their manifest digests: [`Standin::set_digest`] moves a tag upstream),
//! the *local* models (what `/api/tags` lists), and the bytes of each blob
//! on disk, so that a pull broken part way ([`Standin::break_pull_after`])
//! continues where it stopped when it is asked for again, as Ollama resumes
//! from its partial files. Every request is logged ([`Standin::log`]).

use super::{Request, Responder, Server};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Bytes of the template, params and config blobs every model has besides
/// its weights (the sizes of a real Ollama manifest).
const SMALL_BLOBS: [(&str, u64); 3] = [("template", 136), ("params", 84), ("config", 483)];

/// A model the stand-in's registry offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Its name, e.g. `qwen2.5:32b`.
    pub name: String,
    /// Its download size: the sum of its blobs.
    pub size: u64,
    /// The sha256 of its manifest, 64 hex (what `/api/tags` reports).
    pub digest: String,
    /// `model_info` as `/api/show` reports it.
    pub info: Value,
    /// `details.family`.
    pub family: String,
    /// `details.parameter_size`.
    pub parameter_size: String,
    /// `details.quantization_level`.
    pub quantization: String,
}

impl Model {
    /// A llama-style model `name` of `size` bytes, whose manifest digest is
    /// the sha256 of its name.
    pub fn new(name: &str, size: u64) -> Self {
        Self {
            name: name.to_owned(),
            size,
            digest: sha256_hex(name.as_bytes()),
            info: json!({
                "general.architecture": "llama",
                "general.file_type": 15,
                "general.parameter_count": 8_030_261_248_u64,
                "general.quantization_version": 2,
                "llama.attention.head_count": 32,
                "llama.attention.head_count_kv": 8,
                "llama.block_count": 32,
                "llama.context_length": 131_072,
                "llama.embedding_length": 4096,
                "llama.feed_forward_length": 14336,
                "llama.rope.dimension_count": 128,
                "llama.rope.freq_base": 500_000,
                "llama.vocab_size": 128_256,
                "tokenizer.ggml.model": "gpt2"
            }),
            family: "llama".to_owned(),
            parameter_size: "8.0B".to_owned(),
            quantization: "Q4_K_M".to_owned(),
        }
    }

    /// Sets the manifest digest (64 hex).
    pub fn digest(mut self, digest: &str) -> Self {
        self.digest = digest.trim_start_matches("sha256:").to_owned();
        self
    }

    /// Sets `model_info`, and `details.family` from its architecture.
    pub fn info(mut self, info: Value) -> Self {
        if let Some(arch) = info.get("general.architecture").and_then(Value::as_str) {
            self.family = arch.to_owned();
        }
        self.info = info;
        self
    }

    /// The blobs of the model as pulled: (kind, digest hex, size). The
    /// weights blob changes with the manifest digest; the small blobs
    /// depend on the name only, so a moved tag re-downloads the weights.
    fn blobs(&self) -> Vec<(&'static str, String, u64)> {
        let small: u64 = SMALL_BLOBS.iter().map(|(_, s)| s).sum();
        if self.size <= small {
            let digest = sha256_hex(format!("{}/model", self.digest).as_bytes());
            return vec![("model", digest, self.size)];
        }
        let mut blobs = vec![(
            "model",
            sha256_hex(format!("{}/model", self.digest).as_bytes()),
            self.size - small,
        )];
        for (kind, size) in SMALL_BLOBS {
            let digest = sha256_hex(format!("{}/{kind}", key(&self.name)).as_bytes());
            blobs.push((kind, digest, size));
        }
        blobs
    }
}

/// How a pull spreads its progress lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// About this many lines per blob being downloaded.
    Lines(u64),
    /// Each line advances `completed` by its own length, so the stream
    /// carries as many bytes as the model is large: a benchmark pushes
    /// hundreds of MB of progress lines through the client this way.
    FollowSize,
}

/// How the stand-in starts.
#[derive(Debug, Clone)]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// What `/api/version` says.
    pub version: String,
    /// The models that can be pulled.
    pub registry: Vec<Model>,
    /// Names of registry models already pulled when it starts.
    pub local: Vec<String>,
    /// How pull progress is spread.
    pub progress: Progress,
    /// A pause between progress lines (each line then goes out at once).
    pub line_delay: Duration,
    /// How long `/api/generate` takes (loading the model).
    pub generate_delay: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            version: "0.33.0".to_owned(),
            registry: Vec::new(),
            local: Vec::new(),
            progress: Progress::Lines(10),
            line_delay: Duration::ZERO,
            generate_delay: Duration::ZERO,
        }
    }
}

impl Config {
    /// The default config with `models` in the registry.
    pub fn with_registry(models: Vec<Model>) -> Self {
        Self {
            registry: models,
            ..Self::default()
        }
    }
}

/// A request as the stand-in logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path.
    pub path: String,
    /// The body, as text.
    pub body: String,
}

impl LoggedRequest {
    /// Whether it changes Ollama's models: pull, delete, create, copy, push.
    pub fn is_write(&self) -> bool {
        matches!(
            (self.method.as_str(), self.path.as_str()),
            (
                "POST",
                "/api/pull" | "/api/create" | "/api/copy" | "/api/push"
            ) | ("DELETE", "/api/delete")
        )
    }
}

/// A model the stand-in has locally.
#[derive(Debug, Clone)]
struct Local {
    model: Model,
}

/// A scripted error answer.
#[derive(Debug, Clone)]
struct Failure {
    method: String,
    path: String,
    status: u16,
    message: String,
}

#[derive(Debug)]
struct State {
    config: Config,
    registry: BTreeMap<String, Model>,
    local: BTreeMap<String, Local>,
    /// Models loaded by `/api/generate`, listed by `/api/ps`.
    loaded: Vec<String>,
    /// Bytes on disk of each blob, by digest hex.
    blobs: HashMap<String, u64>,
    /// Bytes after which pull streams break, and how many more will.
    break_after: Option<(u64, u32)>,
    failures: Vec<Failure>,
    log: Vec<LoggedRequest>,
}

/// A running stand-in Ollama. It stops listening when dropped.
pub struct Standin {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    state: Arc<Mutex<State>>,
    /// `None` once stopped.
    server: Option<Server>,
}

impl Standin {
    /// Starts a stand-in with `config`.
    ///
    /// # Panics
    /// If it cannot listen, or a local name is not in the registry.
    pub fn start(config: Config) -> Self {
        let mut state = State {
            registry: config
                .registry
                .iter()
                .map(|m| (key(&m.name), m.clone()))
                .collect(),
            local: BTreeMap::new(),
            loaded: Vec::new(),
            blobs: HashMap::new(),
            break_after: None,
            failures: Vec::new(),
            log: Vec::new(),
            config,
        };
        for name in state.config.local.clone() {
            let model = state
                .registry
                .get(&key(&name))
                .unwrap_or_else(|| panic!("local model {name} is not in the registry"))
                .clone();
            for (_, digest, size) in model.blobs() {
                state.blobs.insert(digest, size);
            }
            state.local.insert(key(&name), Local { model });
        }
        let port = state.config.port;
        let state = Arc::new(Mutex::new(state));
        let handler_state = Arc::clone(&state);
        let server = Server::start(
            port,
            Arc::new(move |request, responder| handle(&handler_state, request, responder)),
        )
        .expect("the stand-in Ollama listens on 127.0.0.1");
        Self {
            url: server.url(),
            state,
            server: Some(server),
        }
    }

    /// Stops listening: from now on its port refuses connections, as when
    /// Ollama is not running.
    pub fn stop(&mut self) {
        self.server = None;
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every request so far, in order.
    pub fn log(&self) -> Vec<LoggedRequest> {
        self.state().log.clone()
    }

    /// The requests so far that change Ollama's models.
    pub fn writes(&self) -> Vec<LoggedRequest> {
        self.log()
            .into_iter()
            .filter(LoggedRequest::is_write)
            .collect()
    }

    /// Forgets the requests so far.
    pub fn clear_log(&self) {
        self.state().log.clear();
    }

    /// Moves tag `name` upstream: its registry manifest gets `digest` (64
    /// hex, with or without `sha256:`) and new weights. What is pulled
    /// already keeps its old digest until pulled again.
    pub fn set_digest(&self, name: &str, digest: &str) {
        let mut state = self.state();
        let model = state
            .registry
            .get_mut(&key(name))
            .unwrap_or_else(|| panic!("{name} is not in the stand-in's registry"));
        model.digest = digest.trim_start_matches("sha256:").to_owned();
    }

    /// Adds (or replaces) a model of the registry.
    pub fn publish(&self, model: Model) {
        self.state().registry.insert(key(&model.name), model);
    }

    /// The registry's manifest digest of `name` (64 hex).
    pub fn registry_digest(&self, name: &str) -> Option<String> {
        self.state()
            .registry
            .get(&key(name))
            .map(|m| m.digest.clone())
    }

    /// The manifest digest of local model `name` (64 hex), as `/api/tags`
    /// reports it.
    pub fn local_digest(&self, name: &str) -> Option<String> {
        self.state()
            .local
            .get(&key(name))
            .map(|l| l.model.digest.clone())
    }

    /// The names of the local models, sorted.
    pub fn local_models(&self) -> Vec<String> {
        self.state()
            .local
            .values()
            .map(|l| l.model.name.clone())
            .collect()
    }

    /// Bytes on disk of the weights blob `name` would pull now.
    pub fn weights_on_disk(&self, name: &str) -> u64 {
        let state = self.state();
        let Some(model) = state.registry.get(&key(name)) else {
            return 0;
        };
        let (_, digest, _) = &model.blobs()[0];
        state.blobs.get(digest).copied().unwrap_or(0)
    }

    /// Makes the next pull stream close after `bytes` bytes of its body,
    /// mid-line if it falls there, once. What it downloaded so far stays on
    /// disk, so the next pull resumes.
    pub fn break_pull_after(&self, bytes: u64) {
        self.break_pulls_after(bytes, 1);
    }

    /// Like [`Standin::break_pull_after`], for the next `times` pulls.
    pub fn break_pulls_after(&self, bytes: u64, times: u32) {
        self.state().break_after = (times > 0).then_some((bytes, times));
    }

    /// Makes the next `method path` request fail with `status` and
    /// `{"error": message}`, once.
    pub fn fail_next(&self, method: &str, path: &str, status: u16, message: &str) {
        self.state().failures.push(Failure {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            message: message.to_owned(),
        });
    }
}

/// `name` as the stand-in files it: lowercase, default registry and
/// namespace dropped, `:latest` added when there is no tag.
fn key(name: &str) -> String {
    let mut name = name.to_ascii_lowercase();
    for prefix in ["registry.ollama.ai/", "library/"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            name = rest.to_owned();
        }
    }
    let tagged = match (name.rfind(':'), name.rfind('/')) {
        (Some(colon), Some(slash)) => colon > slash,
        (Some(_), None) => true,
        _ => false,
    };
    if !tagged {
        name.push_str(":latest");
    }
    name
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The model a request body names (`model`, or the deprecated `name`).
fn requested(request: &Request) -> Option<String> {
    let body = request.json();
    body.get("model")
        .or_else(|| body.get("name"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn not_found(responder: Responder, name: &str) {
    let _ = responder.json(
        404,
        &json!({ "error": format!("model '{name}' not found") }),
    );
}

fn details(model: &Model) -> Value {
    json!({
        "parent_model": "",
        "format": "gguf",
        "family": model.family,
        "families": [model.family],
        "parameter_size": model.parameter_size,
        "quantization_level": model.quantization,
    })
}

const MODIFIED_AT: &str = "2026-08-01T12:00:00.000000000Z";

fn handle(state: &Mutex<State>, request: Request, responder: Responder) {
    let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
    {
        let mut s = lock();
        s.log.push(LoggedRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            body: String::from_utf8_lossy(&request.body).into_owned(),
        });
        let scripted = s
            .failures
            .iter()
            .position(|f| f.method == request.method && f.path == request.path);
        if let Some(index) = scripted {
            let failure = s.failures.remove(index);
            drop(s);
            let _ = responder.json(failure.status, &json!({ "error": failure.message }));
            return;
        }
    }
    let method = if request.method == "HEAD" {
        "GET"
    } else {
        request.method.as_str()
    };
    match (method, request.path.as_str()) {
        ("GET", "/") => {
            let _ = responder.send(200, "text/plain; charset=utf-8", b"Ollama is running");
        }
        ("GET", "/api/version") => {
            let version = lock().config.version.clone();
            let _ = responder.json(200, &json!({ "version": version }));
        }
        ("GET", "/api/tags") => {
            let models: Vec<Value> = lock()
                .local
                .values()
                .map(|l| {
                    let m = &l.model;
                    json!({
                        "name": m.name,
                        "model": m.name,
                        "modified_at": MODIFIED_AT,
                        "size": m.size,
                        "digest": m.digest,
                        "details": details(m),
                    })
                })
                .collect();
            let _ = responder.json(200, &json!({ "models": models }));
        }
        ("POST", "/api/show") => {
            let Some(name) = requested(&request) else {
                let _ = responder.json(400, &json!({"error": "model is required"}));
                return;
            };
            let Some(local) = lock().local.get(&key(&name)).cloned() else {
                return not_found(responder, &name);
            };
            let m = &local.model;
            let _ = responder.json(
                200,
                &json!({
                    "license": "",
                    "modelfile": format!("# Modelfile generated by \"ollama show\"\nFROM {}\n", m.name),
                    "parameters": "",
                    "template": "{{ .Prompt }}",
                    "details": details(m),
                    "model_info": m.info,
                    "capabilities": ["completion"],
                    "modified_at": MODIFIED_AT,
                }),
            );
        }
        ("POST", "/api/generate") => {
            let Some(name) = requested(&request) else {
                let _ = responder.json(400, &json!({"error": "model is required"}));
                return;
            };
            let (found, delay) = {
                let s = lock();
                (s.local.contains_key(&key(&name)), s.config.generate_delay)
            };
            if !found {
                return not_found(responder, &name);
            }
            std::thread::sleep(delay);
            {
                let mut s = lock();
                if !s.loaded.contains(&key(&name)) {
                    s.loaded.push(key(&name));
                }
            }
            let answer = json!({
                "model": name,
                "created_at": MODIFIED_AT,
                "response": "OK",
                "done": true,
                "done_reason": "length",
                "eval_count": 1,
            });
            if request.json().get("stream") == Some(&Value::Bool(false)) {
                let _ = responder.json(200, &answer);
            } else if let Ok(mut stream) = responder.chunked(200, "application/x-ndjson") {
                let _ = stream.write(format!("{answer}\n").as_bytes());
                let _ = stream.finish();
            }
        }
        ("GET", "/api/ps") => {
            let s = lock();
            let models: Vec<Value> = s
                .loaded
                .iter()
                .filter_map(|name| s.local.get(name))
                .map(|l| {
                    json!({
                        "name": l.model.name,
                        "model": l.model.name,
                        "size": l.model.size * 2,
                        "size_vram": l.model.size * 2,
                        "digest": l.model.digest,
                        "details": details(&l.model),
                        "expires_at": "2026-08-01T12:05:00.000000000Z",
                    })
                })
                .collect();
            let _ = responder.json(200, &json!({ "models": models }));
        }
        ("DELETE", "/api/delete") => {
            let Some(name) = requested(&request) else {
                let _ = responder.json(400, &json!({"error": "model is required"}));
                return;
            };
            if lock().local.remove(&key(&name)).is_none() {
                return not_found(responder, &name);
            }
            let _ = responder.send(200, "application/json; charset=utf-8", b"");
        }
        ("POST", "/api/pull") => pull(state, &request, responder),
        _ => {
            let _ = responder.send(404, "text/plain", b"404 page not found");
        }
    }
}

/// Writes NDJSON lines, and breaks the connection after a byte budget.
struct Lines {
    stream: super::Chunked,
    /// Body bytes left before the scripted break, if one is due.
    budget: Option<u64>,
    delay: Duration,
}

impl Lines {
    /// Sends `line` (with its newline); `false` once the connection is
    /// broken (by script or by the client going away).
    fn send(&mut self, line: &str) -> bool {
        let bytes = line.as_bytes();
        if let Some(budget) = &mut self.budget {
            if (bytes.len() as u64) > *budget {
                let cut = *budget as usize;
                let _ = self.stream.write(&bytes[..cut]);
                *budget = 0;
                return false;
            }
            *budget -= bytes.len() as u64;
        }
        if self.stream.write(bytes).is_err() {
            return false;
        }
        if !self.delay.is_zero() {
            if self.stream.flush().is_err() {
                return false;
            }
            std::thread::sleep(self.delay);
        }
        true
    }
}

fn status_line(status: &str) -> String {
    format!("{}\n", json!({ "status": status }))
}

fn pull(state: &Mutex<State>, request: &Request, responder: Responder) {
    let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
    let Some(name) = requested(request) else {
        let _ = responder.json(400, &json!({"error": "model is required"}));
        return;
    };
    let (model, budget, progress, delay) = {
        let mut s = lock();
        let model = s.registry.get(&key(&name)).cloned();
        let budget = s.break_after.map(|(bytes, _)| bytes);
        s.break_after = match s.break_after {
            Some((bytes, times)) if times > 1 => Some((bytes, times - 1)),
            _ => None,
        };
        (model, budget, s.config.progress, s.config.line_delay)
    };
    let Ok(stream) = responder.chunked(200, "application/x-ndjson") else {
        return;
    };
    let mut out = Lines {
        stream,
        budget,
        delay,
    };
    let broken = |out: Lines| {
        let _ = out.stream.abort();
    };
    if !out.send(&status_line("pulling manifest")) {
        return broken(out);
    }
    let Some(model) = model else {
        let line = format!(
            "{}\n",
            json!({"error": "pull model manifest: file does not exist"})
        );
        if out.send(&line) {
            let _ = out.stream.finish();
        } else {
            broken(out);
        }
        return;
    };
    for (_, digest, size) in model.blobs() {
        let status = format!("pulling {}", &digest[..12]);
        let mut done = lock().blobs.get(&digest).copied().unwrap_or(0).min(size);
        let step = match progress {
            Progress::Lines(lines) => size.div_ceil(lines.max(1)).max(1),
            Progress::FollowSize => 0,
        };
        loop {
            // Ollama omits a zero `completed`.
            let line = if done == 0 {
                format!(
                    "{{\"status\":\"{status}\",\"digest\":\"sha256:{digest}\",\"total\":{size}}}\n"
                )
            } else {
                format!(
                    "{{\"status\":\"{status}\",\"digest\":\"sha256:{digest}\",\"total\":{size},\"completed\":{done}}}\n"
                )
            };
            if !out.send(&line) {
                return broken(out);
            }
            if done >= size {
                break;
            }
            let advance = if step == 0 { line.len() as u64 } else { step };
            done = (done + advance).min(size);
            lock().blobs.insert(digest.clone(), done);
        }
    }
    for status in ["verifying sha256 digest", "writing manifest"] {
        if !out.send(&status_line(status)) {
            return broken(out);
        }
    }
    let removed = {
        let mut s = lock();
        let old = s
            .local
            .insert(
                key(&name),
                Local {
                    model: model.clone(),
                },
            )
            .filter(|old| old.model.digest != model.digest);
        match old {
            Some(old) => {
                let (_, weights, _) = old.model.blobs().remove(0);
                let still_used = s
                    .local
                    .values()
                    .any(|l| l.model.blobs().iter().any(|(_, d, _)| *d == weights));
                if !still_used {
                    s.blobs.remove(&weights);
                }
                !still_used
            }
            None => false,
        }
    };
    if removed && !out.send(&status_line("removing unused layers")) {
        return broken(out);
    }
    if out.send(&status_line("success")) {
        let _ = out.stream.finish();
    } else {
        broken(out);
    }
}

#[cfg(test)]
mod tests {
    use super::key;

    #[test]
    fn names_are_filed_as_ollama_lists_them() {
        assert_eq!(key("llama3.2"), "llama3.2:latest");
        assert_eq!(key("registry.ollama.ai/library/Qwen2.5:32b"), "qwen2.5:32b");
        assert_eq!(key("localhost:5000/ns/m"), "localhost:5000/ns/m:latest");
    }
}
