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

/// What can go wrong talking to Ollama. Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OllamaError {
    /// The base URL cannot be used.
    #[error("`{url}` is not an Ollama URL ({reason}): give one like `{DEFAULT_URL}`")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A model name breaks Ollama's naming rules ([`ModelName::parse`]).
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// Nothing listens at the URL (connection refused).
    #[error("Ollama is not running at {url}: {START_HINT}")]
    NotRunning {
        /// The base URL.
        url: String,
    },
    /// The connection could not be opened in time.
    #[error(
        "Ollama at {url} did not accept a connection within {}: check that its host is up and reachable (for a tailnet address: `tailscale status`)",
        humantime::format_duration(*.timeout)
    )]
    Unreachable {
        /// The base URL.
        url: String,
        /// The connect timeout.
        timeout: Duration,
    },
    /// A request got no (complete) answer in time.
    #[error(
        "Ollama at {url} did not answer `{request}` within {}: it may be busy loading a model; retry, and if it keeps happening {LOG_HINT}",
        humantime::format_duration(*.timeout)
    )]
    Timeout {
        /// The base URL.
        url: String,
        /// `METHOD /path`.
        request: String,
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// The connection failed in another way.
    #[error(
        "talking to Ollama at {url} (`{request}`) failed: {message}; check that the URL points at Ollama and retry"
    )]
    Transport {
        /// The base URL.
        url: String,
        /// `METHOD /path`.
        request: String,
        /// What the HTTP library said.
        message: String,
    },
    /// The model is not among Ollama's local models.
    #[error(
        "model `{model}` is not in Ollama at {url}: pull it (`privai apply` pulls every model the spec names, or `ollama pull {model}`)"
    )]
    ModelNotFound {
        /// The base URL.
        url: String,
        /// The model, normalised.
        model: String,
    },
    /// The registry has no such model or tag.
    #[error(
        "`{model}` does not exist in the Ollama registry (Ollama said: {message}): check the model name and tag in the spec (https://ollama.com/library lists them)"
    )]
    NoSuchTag {
        /// The model, normalised.
        model: String,
        /// Ollama's error line.
        message: String,
    },
    /// The registry refuses the model to this Ollama version (HTTP 412).
    #[error(
        "`{model}` needs a newer Ollama (Ollama said: {message}): upgrade Ollama, then apply again"
    )]
    NeedsNewerOllama {
        /// The model, normalised.
        model: String,
        /// Ollama's error line.
        message: String,
    },
    /// A model's source file cannot be read.
    #[error(
        "cannot read the model file {path}: {message}; check `source` of the model in the spec"
    )]
    SourceFile {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Ollama refused to create a model from a file.
    #[error(
        "Ollama could not create `{model}` from its file: {message}; check that the file is a GGUF model ({LOG_HINT})"
    )]
    CreateFailed {
        /// The model, normalised.
        model: String,
        /// Ollama's error.
        message: String,
    },
    /// Ollama reported an error while pulling.
    #[error(
        "pulling `{model}` failed: {message}; run `privai apply` again (Ollama resumes from what it has downloaded), and if it keeps failing {LOG_HINT}"
    )]
    PullFailed {
        /// The model, normalised.
        model: String,
        /// Ollama's error line.
        message: String,
    },
    /// The pull stream broke more often than the client resumes it.
    #[error(
        "pulling `{model}` from Ollama at {url}: the stream broke {}, last: {last}; run `privai apply` again, Ollama keeps the partial download and resumes it",
        times(*.attempts)
    )]
    PullInterrupted {
        /// The base URL.
        url: String,
        /// The model, normalised.
        model: String,
        /// Requests made.
        attempts: u32,
        /// Why the last one broke.
        last: String,
    },
    /// The model did not answer a one-token prompt.
    #[error(
        "`{model}` failed to answer a one-token prompt: {message}; check that it fits its host (`privai check`), and {LOG_HINT}"
    )]
    Generate {
        /// The model, normalised.
        model: String,
        /// Ollama's error.
        message: String,
    },
    /// Ollama answered with an error status.
    #[error("Ollama at {url} answered `{request}` with HTTP {status}: {message}; {hint}")]
    Http {
        /// The base URL.
        url: String,
        /// `METHOD /path`.
        request: String,
        /// The HTTP status.
        status: u16,
        /// The `error` of its JSON body, or the start of the body.
        message: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// Ollama's answer is not what the API documents.
    #[error(
        "Ollama at {url} sent an answer to `{request}` that privai cannot read ({detail}): check that the URL points at Ollama (`curl {url}/api/version`)"
    )]
    BadResponse {
        /// The base URL.
        url: String,
        /// `METHOD /path`.
        request: String,
        /// What is wrong with it.
        detail: String,
    },
}

/// Result of a call to Ollama.
pub type Result<T, E = OllamaError> = std::result::Result<T, E>;

/// One line of a pull's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullProgress {
    /// Ollama's status (`pulling manifest`, `pulling 6a0746a1ec1a`,
    /// `verifying sha256 digest`, `writing manifest`, `removing unused
    /// layers`, `success`), or [`RESUMING`] when privai asks again after the
    /// stream broke.
    pub status: String,
    /// The blob being downloaded (`sha256:…`), on `pulling <digest>` lines.
    pub digest: Option<String>,
    /// Bytes of that blob.
    pub total: Option<u64>,
    /// Bytes of it on disk (absent when zero).
    pub completed: Option<u64>,
    /// Which request this line came from: 1 for the first, 2 after the
    /// first resumption, and so on.
    pub attempt: u32,
    /// For [`RESUMING`]: why the previous request broke.
    pub detail: Option<String>,
}

impl PullProgress {
    /// Whether this is privai resuming a broken stream.
    pub fn is_resuming(&self) -> bool {
        self.status == RESUMING
    }

    /// Whether the pull is done.
    pub fn is_success(&self) -> bool {
        self.status == "success"
    }
}

/// How a pull went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullOutcome {
    /// The model, normalised.
    pub model: String,
    /// Requests it took: 1 unless the stream broke.
    pub attempts: u32,
    /// Why each resumed request was needed, in order.
    pub resumed_after: Vec<String>,
}

/// How one pull request ended.
enum Attempt {
    /// `success`.
    Done,
    /// The stream broke before `success`: worth asking again.
    Broken(String),
    /// An error that asking again would not fix.
    Fatal(OllamaError),
}

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

    /// Pulls `name` (`POST /api/pull`, streamed), calling `on_progress` for
    /// every progress line. Every line is checked for an `error` (a missing
    /// tag is HTTP 200 and then an error line); the pull has succeeded only
    /// once Ollama says `success`.
    ///
    /// If the stream breaks before that — the connection closes or stays
    /// silent past the read timeout — the pull is asked for again after a
    /// short wait, up to the configured number of retries, with a
    /// [`RESUMING`] progress event first; Ollama continues the download from
    /// its partial files.
    pub fn pull(
        &self,
        name: &str,
        on_progress: &mut dyn FnMut(&PullProgress),
    ) -> Result<PullOutcome> {
        self.pull_from(name, false, on_progress)
    }

    /// [`Self::pull`], over plain HTTP when `insecure` (Ollama's
    /// `insecure` pull, for a private mirror without TLS).
    pub fn pull_from(
        &self,
        name: &str,
        insecure: bool,
        on_progress: &mut dyn FnMut(&PullProgress),
    ) -> Result<PullOutcome> {
        let model = normalize(name)?;
        let mut resumed_after = Vec::new();
        let mut attempt = 1;
        loop {
            let cause = match self.pull_once(&model, insecure, attempt, on_progress) {
                Attempt::Done => {
                    return Ok(PullOutcome {
                        model,
                        attempts: attempt,
                        resumed_after,
                    });
                }
                Attempt::Fatal(error) => return Err(error),
                Attempt::Broken(cause) => cause,
            };
            if attempt > self.pull_retries {
                return Err(OllamaError::PullInterrupted {
                    url: self.url.clone(),
                    model,
                    attempts: attempt,
                    last: cause,
                });
            }
            std::thread::sleep(self.pull_backoff.saturating_mul(1 << (attempt - 1).min(16)));
            attempt += 1;
            on_progress(&PullProgress {
                status: RESUMING.to_owned(),
                digest: None,
                total: None,
                completed: None,
                attempt,
                detail: Some(cause.clone()),
            });
            resumed_after.push(cause);
        }
    }

    /// One pull request, read to its end.
    ///
    /// The stream is read in this thread, on a runtime of its own: no
    /// thread hands the body over chunk by chunk (a pull streams a line per
    /// progress update, millions of them on a fast link), and the only
    /// deadline is [`Self::with_pull_read_timeout`]'s limit on silence, so
    /// a pull may take hours while lines arrive.
    fn pull_once(
        &self,
        model: &str,
        insecure: bool,
        attempt: u32,
        on_progress: &mut dyn FnMut(&PullProgress),
    ) -> Attempt {
        let request = Request::new(Method::POST, "/api/pull").model(model);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        // Its own connection, which ends with the runtime.
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_max_idle_per_host(0)
            .user_agent(concat!("privai/", env!("CARGO_PKG_VERSION")))
            .build();
        match (runtime, http) {
            (Ok(runtime), Ok(http)) => {
                runtime.block_on(self.read_pull(&http, &request, insecure, attempt, on_progress))
            }
            (Err(e), _) => Attempt::Fatal(self.bad_client(&request, &e.to_string())),
            (_, Err(e)) => Attempt::Fatal(self.bad_client(&request, &error_chain(&e))),
        }
    }

    /// Sends the pull `request` and reads its stream line by line.
    async fn read_pull(
        &self,
        http: &reqwest::Client,
        request: &Request,
        insecure: bool,
        attempt: u32,
        on_progress: &mut dyn FnMut(&PullProgress),
    ) -> Attempt {
        let model = request.model.as_deref().expect("a pull names its model");
        let silence = self.pull_read_timeout;
        let mut body = json!({ "model": model, "stream": true });
        if insecure {
            body["insecure"] = Value::Bool(true);
        }
        let send = http
            .post(format!("{}{}", self.url, request.path))
            .json(&body)
            .send();
        let mut response = match tokio::time::timeout(silence, send).await {
            Ok(Ok(response)) if response.status().is_success() => response,
            Ok(Ok(response)) => {
                let status = response.status().as_u16();
                let text = match tokio::time::timeout(silence, response.text()).await {
                    Ok(Ok(text)) => text,
                    _ => String::new(),
                };
                return Attempt::Fatal(self.http_error(request, status, &text));
            }
            Ok(Err(error)) => match self.transport_error(request, &error, silence) {
                // Ollama going away mid-pull may be a restart: ask again.
                error @ OllamaError::NotRunning { .. } if attempt > 1 => {
                    return Attempt::Broken(error.to_string());
                }
                error => return Attempt::Fatal(error),
            },
            Err(_) => {
                return Attempt::Fatal(OllamaError::Timeout {
                    url: self.url.clone(),
                    request: request.to_string(),
                    timeout: silence,
                });
            }
        };
        let mut lines = PullLines::new(attempt);
        loop {
            let chunk = match tokio::time::timeout(silence, response.chunk()).await {
                Ok(Ok(Some(chunk))) => chunk,
                Ok(Ok(None)) => {
                    return Attempt::Broken(match lines.pending() {
                        0 => "the connection closed before Ollama said `success`".to_owned(),
                        _ => "the connection closed in the middle of a progress line".to_owned(),
                    });
                }
                Ok(Err(error)) => {
                    return Attempt::Broken(format!(
                        "the connection broke: {}",
                        error_chain(&error)
                    ));
                }
                Err(_) => {
                    return Attempt::Broken(format!(
                        "Ollama sent nothing for {}",
                        humantime::format_duration(silence)
                    ));
                }
            };
            match lines.feed(&chunk, on_progress) {
                Ok(false) => {}
                Ok(true) => return Attempt::Done,
                Err(LineError::Fatal(message)) => {
                    return Attempt::Fatal(pull_error(model, message));
                }
                Err(LineError::Unreadable(detail)) => {
                    return Attempt::Fatal(self.bad_response(request, &detail));
                }
            }
        }
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

/// The error for an `error` Ollama reported while pulling `model`.
fn pull_error(model: &str, message: String) -> OllamaError {
    let lower = message.to_ascii_lowercase();
    if lower.contains("file does not exist") || lower.contains("not found") {
        OllamaError::NoSuchTag {
            model: model.to_owned(),
            message,
        }
    } else if lower.contains("newer version") {
        OllamaError::NeedsNewerOllama {
            model: model.to_owned(),
            message,
        }
    } else {
        OllamaError::PullFailed {
            model: model.to_owned(),
            message,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_errors_are_told_apart_by_message() {
        assert!(matches!(
            pull_error(
                "x:latest",
                "pull model manifest: file does not exist".into()
            ),
            OllamaError::NoSuchTag { .. }
        ));
        assert!(matches!(
            pull_error("x:latest", "pull model manifest: 412: The model you are attempting to pull requires a newer version of Ollama.".into()),
            OllamaError::NeedsNewerOllama { .. }
        ));
        assert!(matches!(
            pull_error("x:latest", "max retries exceeded: EOF".into()),
            OllamaError::PullFailed { .. }
        ));
    }

    #[test]
    fn a_url_must_be_http() {
        assert!(Client::new("http://127.0.0.1:11434/").is_ok());
        assert_eq!(
            Client::new("http://127.0.0.1:11434/").unwrap().url(),
            DEFAULT_URL
        );
        let error = Client::new("127.0.0.1:11434").unwrap_err().to_string();
        assert!(
            error.contains("give one like `http://127.0.0.1:11434`"),
            "{error}"
        );
        assert!(Client::new("ftp://host").is_err());
    }
}
