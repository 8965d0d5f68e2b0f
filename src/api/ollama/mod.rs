//! A blocking client for Ollama's HTTP API: the calls `observe` and `apply`
//! make to learn which models a host has, what they are, and to pull them.
//!
//! The API is documented in `shared/reference/ollama.md` §1; what this client
//! relies on:
//!
//! - errors before any output are a 4xx/5xx status with `{"error": "..."}`;
//!   errors *during* a stream keep status 200 and arrive as a last
//!   `{"error": "..."}` line. `/api/pull` always sends `pulling manifest`
//!   before it asks the registry, so a missing tag is HTTP 200 followed by
//!   `{"error":"pull model manifest: file does not exist"}`. Every line of a
//!   pull is therefore checked for `error`, and only a `success` line ends a
//!   pull well;
//! - calling `/api/pull` again resumes a blob download from the partial files
//!   Ollama keeps. When the stream breaks before `success` (connection closed
//!   or stalled), [`Client::pull`] asks again, up to [`DEFAULT_PULL_RETRIES`]
//!   times, and reports `resuming`;
//! - `/api/tags` reports, for each local model, the sha256 of its manifest:
//!   [`Client::manifest_digest`] is what `privai.lock` records
//!   ([`crate::lockfile`]).
//!
//! Names are normalised as Ollama does ([`normalize`]): `llama3.2` is
//! `llama3.2:latest`, the default registry and namespace are dropped.
//!
//! Every error names the fix ([`OllamaError`]). Nothing here retries except
//! a broken pull stream; no request goes through a proxy (Ollama is on
//! loopback or the tailnet).

mod error;
mod pull;
#[cfg(test)]
mod tests;

pub use error::OllamaError;
use pull::pull_error;
pub use pull::{PullOutcome, PullProgress};

use super::pull_line::{LineError, PullLines};
use crate::model::model_name::{NameError, normalize, same_model};
use crate::observe::ollama::{LocalModel, ModelFacts, RunningModel};
use reqwest::Method;
use reqwest::blocking::{Client as HttpClient, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::fmt;
use std::time::Duration;

/// Where Ollama listens unless `OLLAMA_HOST` says otherwise.
pub const DEFAULT_URL: &str = "http://127.0.0.1:11434";
/// How long a connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a short request (version, tags, show, delete) may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a pull stream may stay silent before it counts as broken. Ollama
/// sends progress every 60 ms while it downloads, but says nothing while it
/// verifies the sha256 of the blobs it fetched, which for a 40 GB model on a
/// slow disk takes minutes. Stalled downloads are Ollama's own business (it
/// restarts a part after 30 s without bytes); this only catches a dead
/// connection.
pub const PULL_READ_TIMEOUT: Duration = Duration::from_secs(600);
/// How long uploading a model file to Ollama, or creating a model from it,
/// may take.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(3600);
/// How many times a broken pull stream is resumed before the pull fails.
pub const DEFAULT_PULL_RETRIES: u32 = 3;
/// The wait before the first resumption; it doubles before each further one.
pub const DEFAULT_PULL_BACKOFF: Duration = Duration::from_secs(1);
/// The [`PullProgress::status`] privai reports when it resumes a broken pull.
pub const RESUMING: &str = "resuming";

/// The hint for an Ollama that does not answer at all.
const START_HINT: &str = "start it (`ollama serve`, or the service privai installs: \
    `launchctl kickstart gui/$(id -u)/net.privai.ollama` on macOS, \
    `sudo systemctl start privai-ollama` on Linux)";
/// Where to look when Ollama fails on its side.
const LOG_HINT: &str = "see Ollama's log (`/usr/local/var/log/privai/ollama.log` on macOS, \
    `journalctl -u privai-ollama` on Linux)";

/// Result of a call to Ollama.
pub type Result<T, E = OllamaError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------
// Client

/// A blocking client for one Ollama server.
#[derive(Debug, Clone)]
pub struct Client {
    url: String,
    http: HttpClient,
    timeout: Duration,
    pull_read_timeout: Duration,
    pull_retries: u32,
    pull_backoff: Duration,
}

impl Client {
    /// A client for the Ollama at `base_url` (e.g. [`DEFAULT_URL`]), with the
    /// default timeouts and retries. No proxy is used.
    pub fn new(base_url: &str) -> Result<Self> {
        let url = base_url.trim_end_matches('/').to_owned();
        let invalid = |reason: String| OllamaError::InvalidUrl {
            url: base_url.to_owned(),
            reason,
        };
        let parsed = reqwest::Url::parse(&url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "the scheme is `{}`, not http",
                parsed.scheme()
            )));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it names no host".to_owned()));
        }
        let http = HttpClient::builder()
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(None)
            .user_agent(concat!("privai/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| invalid(format!("no HTTP client: {e}")))?;
        Ok(Self {
            url,
            http,
            timeout: REQUEST_TIMEOUT,
            pull_read_timeout: PULL_READ_TIMEOUT,
            pull_retries: DEFAULT_PULL_RETRIES,
            pull_backoff: DEFAULT_PULL_BACKOFF,
        })
    }

    /// Sets the timeout of short requests (default [`REQUEST_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how long a pull stream may stay silent (default
    /// [`PULL_READ_TIMEOUT`]).
    pub fn with_pull_read_timeout(mut self, timeout: Duration) -> Self {
        self.pull_read_timeout = timeout;
        self
    }

    /// Sets how often a broken pull is resumed and the wait before the first
    /// resumption, which doubles each time (defaults
    /// [`DEFAULT_PULL_RETRIES`], [`DEFAULT_PULL_BACKOFF`]).
    pub fn with_pull_retries(mut self, retries: u32, backoff: Duration) -> Self {
        self.pull_retries = retries;
        self.pull_backoff = backoff;
        self
    }

    /// The base URL, without a trailing `/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Ollama's version (`GET /api/version`), e.g. `0.33.0`.
    pub fn version(&self) -> Result<String> {
        #[derive(Deserialize)]
        struct Version {
            version: String,
        }
        let request = Request::new(Method::GET, "/api/version");
        let answer: Version = self.json(&request, None, None)?;
        Ok(answer.version)
    }

    /// The models Ollama has locally (`GET /api/tags`), in its order.
    pub fn tags(&self) -> Result<Vec<LocalModel>> {
        #[derive(Deserialize)]
        struct Tags {
            #[serde(default)]
            models: Vec<LocalModel>,
        }
        let request = Request::new(Method::GET, "/api/tags");
        let answer: Tags = self.json(&request, None, None)?;
        Ok(answer.models)
    }

    /// The models loaded in memory now (`GET /api/ps`).
    pub fn running(&self) -> Result<Vec<RunningModel>> {
        #[derive(Deserialize)]
        struct Ps {
            #[serde(default)]
            models: Vec<RunningModel>,
        }
        let request = Request::new(Method::GET, "/api/ps");
        let answer: Ps = self.json(&request, None, None)?;
        Ok(answer.models)
    }

    /// The local model `name` names (normalised, ignoring case), if any.
    pub fn local_model(&self, name: &str) -> Result<Option<LocalModel>> {
        let name = normalize(name)?;
        Ok(self
            .tags()?
            .into_iter()
            .find(|m| same_model(&m.name, &name)))
    }

    /// The digest of `name`'s manifest as `/api/tags` reports it, in the form
    /// `sha256:<hex>` (what `privai.lock` records); `None` if Ollama does not
    /// have the model.
    pub fn manifest_digest(&self, name: &str) -> Result<Option<String>> {
        Ok(self.local_model(name)?.map(|m| m.manifest_digest()))
    }

    /// The sizing facts of local model `name` (`POST /api/show`).
    pub fn show(&self, name: &str) -> Result<ModelFacts> {
        let model = normalize(name)?;
        let request = Request::new(Method::POST, "/api/show").model(&model);
        let answer: Value = self.json(&request, Some(json!({ "model": model })), None)?;
        if !answer.is_object() {
            return Err(self.bad_response(&request, "the answer is not a JSON object"));
        }
        Ok(ModelFacts::from_show(&answer))
    }

    /// Loads `model` and has it generate one token (`POST /api/generate`,
    /// not streamed, `num_predict: 1`), waiting at most `timeout`: loading a
    /// large model takes a while.
    pub fn generate_one_token(&self, model: &str, timeout: Duration) -> Result<()> {
        let model = normalize(model)?;
        let request = Request::new(Method::POST, "/api/generate").model(&model);
        let body = json!({
            "model": model,
            "prompt": "Reply with OK.",
            "stream": false,
            "options": { "num_predict": 1 },
        });
        let answer: Value = self.json(&request, Some(body), Some(timeout))?;
        if let Some(error) = answer.get("error").and_then(Value::as_str) {
            return Err(OllamaError::Generate {
                model,
                message: error.to_owned(),
            });
        }
        if answer.get("done").and_then(Value::as_bool) != Some(true) {
            return Err(OllamaError::Generate {
                model,
                message: "Ollama's answer is not `done`".to_owned(),
            });
        }
        Ok(())
    }

    /// Names model `source` also `destination` (`POST /api/copy`): the
    /// weights are shared, not copied.
    pub fn copy(&self, source: &str, destination: &str) -> Result<()> {
        let (source, destination) = (normalize(source)?, normalize(destination)?);
        let request = Request::new(Method::POST, "/api/copy").model(&source);
        self.send(
            &request,
            Some(json!({ "source": source, "destination": destination })),
            None,
        )?;
        Ok(())
    }

    /// Creates model `name` from the GGUF file at `path`: uploads it as a
    /// blob (`HEAD`, then `POST /api/blobs/sha256:…` unless Ollama has it;
    /// Ollama checks the digest) and creates the model from it
    /// (`POST /api/create`). Returns the file's sha256 (`sha256:…`).
    pub fn create_from_file(&self, name: &str, path: &std::path::Path) -> Result<String> {
        let model = normalize(name)?;
        let unreadable = |e: std::io::Error| OllamaError::SourceFile {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let digest = format!("sha256:{}", file_sha256(path).map_err(unreadable)?);
        let blob = Request::new(Method::HEAD, format!("/api/blobs/{digest}")).model(&model);
        let exists = self
            .http
            .head(format!("{}{}", self.url, blob.path))
            .timeout(self.timeout)
            .send()
            .map_err(|e| self.transport_error(&blob, &e, self.timeout))?
            .status()
            .is_success();
        if !exists {
            let upload = Request::new(Method::POST, format!("/api/blobs/{digest}")).model(&model);
            let file = std::fs::File::open(path).map_err(unreadable)?;
            let response = self
                .http
                .post(format!("{}{}", self.url, upload.path))
                .body(reqwest::blocking::Body::from(file))
                .timeout(UPLOAD_TIMEOUT)
                .send()
                .map_err(|e| self.transport_error(&upload, &e, UPLOAD_TIMEOUT))?;
            let status = response.status();
            if !status.is_success() {
                let text = response.text().unwrap_or_default();
                return Err(self.http_error(&upload, status.as_u16(), &text));
            }
        }
        let file_name = path.file_name().map_or_else(
            || "model.gguf".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let request = Request::new(Method::POST, "/api/create").model(&model);
        let answer: Value = self.json(
            &request,
            Some(json!({ "model": model, "files": { file_name: digest }, "stream": false })),
            Some(UPLOAD_TIMEOUT),
        )?;
        if let Some(error) = answer.get("error").and_then(Value::as_str) {
            return Err(OllamaError::CreateFailed {
                model,
                message: error.to_owned(),
            });
        }
        Ok(digest)
    }

    /// Removes local model `name` (`DELETE /api/delete`).
    pub fn delete(&self, name: &str) -> Result<()> {
        let model = normalize(name)?;
        let request = Request::new(Method::DELETE, "/api/delete").model(&model);
        self.send(&request, Some(json!({ "model": model })), None)?;
        Ok(())
    }

    /// The error for an HTTP client that could not be made.
    fn bad_client(&self, request: &Request, message: &str) -> OllamaError {
        OllamaError::Transport {
            url: self.url.clone(),
            request: request.to_string(),
            message: format!("no HTTP client: {message}"),
        }
    }

    /// Sends `request` with an optional JSON `body`; a 2xx answer is
    /// returned, anything else becomes an [`OllamaError`].
    fn send(
        &self,
        request: &Request,
        body: Option<Value>,
        timeout: Option<Duration>,
    ) -> Result<Response> {
        let timeout = timeout.unwrap_or(self.timeout);
        let mut builder = self
            .http
            .request(
                request.method.clone(),
                format!("{}{}", self.url, request.path),
            )
            .timeout(timeout);
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let response = builder
            .send()
            .map_err(|e| self.transport_error(request, &e, timeout))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response.text().unwrap_or_default();
        Err(self.http_error(request, status.as_u16(), &text))
    }

    /// Sends `request` and reads its JSON answer.
    fn json<T: serde::de::DeserializeOwned>(
        &self,
        request: &Request,
        body: Option<Value>,
        timeout: Option<Duration>,
    ) -> Result<T> {
        let response = self.send(request, body, timeout)?;
        let bytes = response
            .bytes()
            .map_err(|e| self.transport_error(request, &e, timeout.unwrap_or(self.timeout)))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            self.bad_response(
                request,
                &format!(
                    "{e}; it starts `{}`",
                    preview(&String::from_utf8_lossy(&bytes))
                ),
            )
        })
    }

    /// The error for a request that got no HTTP answer.
    fn transport_error(
        &self,
        request: &Request,
        error: &reqwest::Error,
        timeout: Duration,
    ) -> OllamaError {
        if error.is_connect() {
            if error.is_timeout() || source_says(error, "timed out") {
                return OllamaError::Unreachable {
                    url: self.url.clone(),
                    timeout: CONNECT_TIMEOUT,
                };
            }
            return OllamaError::NotRunning {
                url: self.url.clone(),
            };
        }
        if error.is_timeout() {
            return match &request.model {
                Some(model) if request.path == "/api/generate" => OllamaError::Generate {
                    model: model.clone(),
                    message: format!(
                        "no answer within {} (loading the model may need more memory than its host has)",
                        humantime::format_duration(timeout)
                    ),
                },
                _ => OllamaError::Timeout {
                    url: self.url.clone(),
                    request: request.to_string(),
                    timeout,
                },
            };
        }
        OllamaError::Transport {
            url: self.url.clone(),
            request: request.to_string(),
            message: error_chain(error),
        }
    }

    /// The error for a non-2xx answer with body `text`.
    fn http_error(&self, request: &Request, status: u16, text: &str) -> OllamaError {
        let message = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| preview(text));
        if let Some(model) = &request.model {
            if status == 404 && request.path == "/api/pull" {
                return pull_error(model, message);
            }
            if status == 404 {
                return OllamaError::ModelNotFound {
                    url: self.url.clone(),
                    model: model.clone(),
                };
            }
            if request.path == "/api/pull" && status == 500 {
                return pull_error(model, message);
            }
        }
        let hint = match status {
            400 => {
                "privai sent a request this Ollama does not accept: check the model name, and upgrade Ollama if it is old"
            }
            404 => {
                "this URL does not look like Ollama: check it (`curl URL/api/version` answers with Ollama's version)"
            }
            429 | 503 => {
                "Ollama is busy (its request queue, OLLAMA_MAX_QUEUE, is full): wait for running requests to finish and retry"
            }
            _ => LOG_HINT,
        };
        OllamaError::Http {
            url: self.url.clone(),
            request: request.to_string(),
            status,
            message: if message.is_empty() {
                "(no body)".to_owned()
            } else {
                message
            },
            hint,
        }
    }

    fn bad_response(&self, request: &Request, detail: &str) -> OllamaError {
        OllamaError::BadResponse {
            url: self.url.clone(),
            request: request.to_string(),
            detail: detail.to_owned(),
        }
    }
}

/// The sha256 of the file at `path`, hex, read in chunks.
fn file_sha256(path: &std::path::Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        match file.read(&mut buffer)? {
            0 => break,
            n => hasher.update(&buffer[..n]),
        }
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// A request, as errors name it.
struct Request {
    method: Method,
    path: std::borrow::Cow<'static, str>,
    /// The model it is about, for errors that name it.
    model: Option<String>,
}

impl Request {
    fn new(method: Method, path: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Self {
            method,
            path: path.into(),
            model: None,
        }
    }

    fn model(mut self, model: &str) -> Self {
        self.model = Some(model.to_owned());
        self
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// `once`, `twice`, `3 times`.
fn times(n: u32) -> String {
    match n {
        1 => "once".to_owned(),
        2 => "twice".to_owned(),
        n => format!("{n} times"),
    }
}

/// The first 200 characters of `text`, on one line.
fn preview(text: &str) -> String {
    let line: String = text.trim().chars().take(200).collect();
    line.replace(['\n', '\r'], " ")
}

/// `error` and its sources, joined with `: `.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// Whether some error in `error`'s chain says `needle`.
fn source_says(error: &reqwest::Error, needle: &str) -> bool {
    error_chain(error).contains(needle)
}
