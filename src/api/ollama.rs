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
    #[error(
        "`{name}` is not an Ollama model name: {reason}; write it as `model:tag` or `namespace/model:tag`, e.g. `llama3.2:3b`"
    )]
    InvalidName {
        /// The name as given.
        name: String,
        /// The rule it breaks.
        reason: String,
    },
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

// ---------------------------------------------------------------------------
// Names

/// Ollama's default registry host.
pub const DEFAULT_HOST: &str = "registry.ollama.ai";
/// Ollama's default namespace.
pub const DEFAULT_NAMESPACE: &str = "library";
/// Ollama's default tag.
pub const DEFAULT_TAG: &str = "latest";

/// A model name split as Ollama splits it:
/// `[scheme://][host/][namespace/]model[:tag]`, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelName {
    /// Registry host, possibly with `:port` (the scheme is dropped).
    pub host: String,
    /// Namespace.
    pub namespace: String,
    /// Model.
    pub model: String,
    /// Tag.
    pub tag: String,
}

impl ModelName {
    /// Parses `name` as Ollama's `ParseName` does (`types/model/name.go`):
    /// the tag is split off at the last `:` if it comes after the last `/`;
    /// then model, namespace and host are cut from the right on `/`. Missing
    /// parts get the defaults ([`DEFAULT_HOST`], [`DEFAULT_NAMESPACE`],
    /// [`DEFAULT_TAG`]). Each part must follow Ollama's rules: host 1–350
    /// characters, namespace 1–80 of `[A-Za-z0-9_-]`, model and tag 1–80 of
    /// `[A-Za-z0-9_.-]`, none starting with `-` or `.`. A digest (`@sha256:…`)
    /// is refused: privai pins digests in `privai.lock`, not in names.
    pub fn parse(name: &str) -> Result<Self> {
        let invalid = |reason: &str| OllamaError::InvalidName {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        if name.trim().is_empty() {
            return Err(invalid("it is empty"));
        }
        if name.contains('@') {
            return Err(invalid(
                "it names a digest; privai pins digests in `privai.lock`, so name the tag only",
            ));
        }
        let mut rest = name;
        let mut tag = None;
        if let Some(colon) = rest.rfind(':')
            && rest.rfind('/').is_none_or(|slash| colon > slash)
        {
            tag = Some(&rest[colon + 1..]);
            rest = &rest[..colon];
        }
        let (rest, model) = match rest.rsplit_once('/') {
            Some((rest, model)) => (Some(rest), model),
            None => (None, rest),
        };
        let (host, namespace) = match rest {
            None => (None, None),
            Some(rest) => match rest.rsplit_once('/') {
                None => (None, Some(rest)),
                Some((host, namespace)) => {
                    let host = host.split_once("://").map_or(host, |(_, host)| host);
                    (Some(host), Some(namespace))
                }
            },
        };
        let check = |part: &str, what: &str, max: usize, extra: &[char]| -> Result<()> {
            let first_ok = part
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            let rest_ok = part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || extra.contains(&c));
            if part.is_empty() {
                Err(invalid(&format!("its {what} is empty")))
            } else if part.len() > max {
                Err(invalid(&format!(
                    "its {what} is longer than {max} characters"
                )))
            } else if !first_ok || !rest_ok {
                Err(invalid(&format!(
                    "its {what} `{part}` may only hold letters, digits, `_`, `-`{} and must start with a letter, digit or `_`",
                    if extra.is_empty() { "" } else { " and `.`" }
                )))
            } else {
                Ok(())
            }
        };
        check(model, "model", 80, &['.'])?;
        if let Some(tag) = tag {
            check(tag, "tag", 80, &['.'])?;
        }
        if let Some(namespace) = namespace {
            check(namespace, "namespace", 80, &[])?;
        }
        if let Some(host) = host {
            check(host, "host", 350, &['.', ':'])?;
        }
        Ok(Self {
            host: host.unwrap_or(DEFAULT_HOST).to_owned(),
            namespace: namespace.unwrap_or(DEFAULT_NAMESPACE).to_owned(),
            model: model.to_owned(),
            tag: tag.unwrap_or(DEFAULT_TAG).to_owned(),
        })
    }

    /// Whether the model comes from Ollama's own registry.
    pub fn is_default_host(&self) -> bool {
        self.host.eq_ignore_ascii_case(DEFAULT_HOST)
    }
}

/// Ollama's `DisplayShortest`: the default host and namespace are left out,
/// the tag never is (`llama3.2:latest`, `myns/m:1b`, `host:5000/ns/m:1b`).
impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_default_host() {
            write!(f, "{}/{}/", self.host, self.namespace)?;
        } else if !self.namespace.eq_ignore_ascii_case(DEFAULT_NAMESPACE) {
            write!(f, "{}/", self.namespace)?;
        }
        write!(f, "{}:{}", self.model, self.tag)
    }
}

/// `name` as Ollama lists it: parsed by [`ModelName::parse`] and displayed
/// shortest, e.g. `llama3.2` → `llama3.2:latest`,
/// `registry.ollama.ai/library/qwen2.5:32b` → `qwen2.5:32b`. Case is kept.
pub fn normalize(name: &str) -> Result<String> {
    ModelName::parse(name).map(|n| n.to_string())
}

/// Whether `a` and `b` name the same model: equal once normalised, ignoring
/// case (Ollama matches local names case-insensitively). Names that do not
/// parse are compared as written.
pub fn same_model(a: &str, b: &str) -> bool {
    let key = |name: &str| normalize(name).unwrap_or_else(|_| name.to_owned());
    key(a).eq_ignore_ascii_case(&key(b))
}

/// `digest` in the form `sha256:<64 lowercase hex>`, whether it came with
/// the prefix (registry, lock file) or without (`/api/tags`).
pub fn canonical_digest(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}", hex.to_ascii_lowercase())
}

// ---------------------------------------------------------------------------
// Answers

/// A model Ollama has locally, from `GET /api/tags`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LocalModel {
    /// Its name, shortest form (`llama3.2:latest`).
    pub name: String,
    /// The same name, as the `model` field reports it.
    #[serde(default)]
    pub model: String,
    /// sha256 of its manifest, as `/api/tags` reports it (64 hex, no prefix).
    pub digest: String,
    /// Bytes of all its blobs: the download size.
    pub size: u64,
}

impl LocalModel {
    /// [`canonical_digest`] of its manifest digest: what `privai.lock` records.
    pub fn manifest_digest(&self) -> String {
        canonical_digest(&self.digest)
    }
}

/// A model loaded in memory, from `GET /api/ps`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct RunningModel {
    /// Its name (`llama3.2:3b`).
    pub name: String,
    /// Bytes it takes in memory.
    #[serde(default)]
    pub size: u64,
    /// Of which in GPU memory.
    #[serde(default)]
    pub size_vram: u64,
    /// When Ollama unloads it (RFC 3339).
    #[serde(default)]
    pub expires_at: String,
}

/// What `POST /api/show` tells about a model that sizing needs, read from
/// its GGUF metadata (`model_info`, keys prefixed by the architecture) and
/// `details`. A fact the model does not state is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelFacts {
    /// `general.architecture`, e.g. `llama`, `qwen2`, `gemma3`.
    pub architecture: String,
    /// `general.parameter_count`.
    pub parameter_count: Option<u64>,
    /// `details.parameter_size`, e.g. `32.8B`.
    pub parameter_size: Option<String>,
    /// `details.quantization_level`, e.g. `Q4_K_M`.
    pub quantization: Option<String>,
    /// `<arch>.block_count`: transformer layers.
    pub block_count: Option<u32>,
    /// `<arch>.attention.head_count` (the largest, if given per layer).
    pub head_count: Option<u32>,
    /// `<arch>.attention.head_count_kv`; when given per layer, the largest,
    /// which never underestimates the KV cache.
    pub head_count_kv: Option<u32>,
    /// `<arch>.attention.key_length`: the true head dimension, when set.
    pub key_length: Option<u32>,
    /// `<arch>.attention.value_length`.
    pub value_length: Option<u32>,
    /// `<arch>.embedding_length`.
    pub embedding_length: Option<u32>,
    /// `<arch>.context_length`: the trained context.
    pub context_length: Option<u32>,
    /// `<arch>.attention.sliding_window`, for models with windowed layers.
    pub sliding_window: Option<u32>,
    /// `<arch>.expert_count`, for mixture-of-experts models.
    pub expert_count: Option<u32>,
    /// Whether `<arch>.pooling_type` is set: an embedding model.
    pub embedding: bool,
}

impl ModelFacts {
    /// Reads the facts from a `/api/show` answer.
    pub fn from_show(show: &Value) -> Self {
        let info = show.get("model_info").unwrap_or(&Value::Null);
        let details = show.get("details").unwrap_or(&Value::Null);
        let architecture = info
            .get("general.architecture")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let key = |suffix: &str| info.get(format!("{architecture}.{suffix}"));
        let number = |suffix: &str| key(suffix).and_then(max_u32);
        let text = |field: &str| {
            details
                .get(field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Self {
            parameter_count: info.get("general.parameter_count").and_then(Value::as_u64),
            parameter_size: text("parameter_size"),
            quantization: text("quantization_level"),
            block_count: number("block_count"),
            head_count: number("attention.head_count"),
            head_count_kv: number("attention.head_count_kv"),
            key_length: number("attention.key_length"),
            value_length: number("attention.value_length"),
            embedding_length: number("embedding_length"),
            context_length: number("context_length"),
            sliding_window: number("attention.sliding_window"),
            expert_count: number("expert_count"),
            embedding: key("pooling_type").is_some(),
            architecture,
        }
    }

    /// The head dimension the KV cache uses: `key_length`, else
    /// `embedding_length / head_count`.
    pub fn head_dim(&self) -> Option<u32> {
        self.key_length.or_else(|| {
            let heads = self.head_count.filter(|&h| h > 0)?;
            Some(self.embedding_length? / heads)
        })
    }

    /// One layer in how many is global (full context) for a model with a
    /// sliding window, by architecture: Gemma 3 has one global layer in six,
    /// Gemma 2 and gpt-oss alternate. `None` for other architectures, which
    /// are then sized as if every layer were global (never an underestimate).
    pub fn global_every(&self) -> Option<u32> {
        match self.architecture.as_str() {
            "gemma3" => Some(6),
            "gemma2" | "gptoss" | "gpt-oss" => Some(2),
            _ => None,
        }
    }

    /// The facts the memory estimate takes, given the model's download size
    /// (`/api/tags` `size`), or `None` if a fact it needs is missing.
    pub fn estimate_facts(
        &self,
        weights_bytes: u64,
    ) -> Option<crate::sizing::estimate::ModelFacts> {
        let sliding_window = match (self.sliding_window, self.global_every()) {
            (Some(window), Some(global_every)) => Some(crate::sizing::catalog::SlidingWindow {
                window,
                global_every,
            }),
            _ => None,
        };
        Some(crate::sizing::estimate::ModelFacts {
            weights_bytes,
            layers: self.block_count?,
            kv_heads: self.head_count_kv?,
            head_dim: self.head_dim()?,
            native_context: self.context_length?,
            sliding_window,
        })
    }
}

/// A number, or the largest of an array of numbers (per-layer values).
fn max_u32(value: &Value) -> Option<u32> {
    match value {
        Value::Array(items) => items.iter().filter_map(max_u32).max(),
        other => other.as_u64().and_then(|n| u32::try_from(n).ok()),
    }
}

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

    fn n(name: &str) -> String {
        normalize(name).unwrap()
    }

    #[test]
    fn a_bare_model_gets_the_latest_tag() {
        assert_eq!(n("llama3.2"), "llama3.2:latest");
        assert_eq!(n("nomic-embed-text"), "nomic-embed-text:latest");
    }

    #[test]
    fn an_explicit_tag_is_kept() {
        assert_eq!(n("qwen2.5:32b"), "qwen2.5:32b");
        assert_eq!(
            n("llama3.2:3b-instruct-q4_K_M"),
            "llama3.2:3b-instruct-q4_K_M"
        );
    }

    #[test]
    fn the_default_registry_and_namespace_are_dropped() {
        assert_eq!(n("library/llama3.2"), "llama3.2:latest");
        assert_eq!(n("registry.ollama.ai/library/qwen2.5:32b"), "qwen2.5:32b");
        assert_eq!(
            n("https://registry.ollama.ai/library/qwen2.5:32b"),
            "qwen2.5:32b"
        );
        assert_eq!(n("REGISTRY.OLLAMA.AI/library/phi4"), "phi4:latest");
    }

    #[test]
    fn another_namespace_or_registry_is_kept() {
        assert_eq!(
            n("huihui_ai/qwen3-abliterated"),
            "huihui_ai/qwen3-abliterated:latest"
        );
        assert_eq!(n("registry.ollama.ai/myns/m:1b"), "myns/m:1b");
        assert_eq!(
            n("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"),
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"
        );
        assert_eq!(n("localhost:5000/ns/m"), "localhost:5000/ns/m:latest");
        assert_eq!(
            n("http://localhost:5000/library/m:t"),
            "localhost:5000/library/m:t"
        );
    }

    #[test]
    fn a_colon_before_the_last_slash_is_a_port_not_a_tag() {
        let name = ModelName::parse("localhost:5000/ns/m").unwrap();
        assert_eq!(name.host, "localhost:5000");
        assert_eq!(name.tag, "latest");
    }

    #[test]
    fn case_is_kept_but_not_compared() {
        assert_eq!(n("Llama3.2:3B"), "Llama3.2:3B");
        assert!(same_model("Llama3.2:3B", "llama3.2:3b"));
        assert!(same_model(
            "llama3.2",
            "registry.ollama.ai/library/llama3.2:latest"
        ));
        assert!(!same_model("llama3.2", "llama3.2:3b"));
    }

    #[test]
    fn invalid_names_are_refused_with_the_rule_they_break() {
        let error = |name: &str| normalize(name).unwrap_err().to_string();
        assert_eq!(
            error(""),
            "`` is not an Ollama model name: it is empty; write it as `model:tag` or `namespace/model:tag`, e.g. `llama3.2:3b`"
        );
        assert!(
            error("llama3.2:").contains("its tag is empty"),
            "{}",
            error("llama3.2:")
        );
        assert!(error("-llama").contains("its model `-llama` may only hold"));
        assert!(error("ns.x/llama").contains("its namespace `ns.x`"));
        assert!(error("llama 3").contains("its model `llama 3`"));
        assert!(error("llama3.2@sha256:abcd").contains("privai.lock"));
        assert!(error(&"m".repeat(81)).contains("longer than 80"));
    }

    #[test]
    fn digests_are_compared_in_one_form() {
        let hex = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72";
        assert_eq!(canonical_digest(hex), format!("sha256:{hex}"));
        assert_eq!(
            canonical_digest(&format!("sha256:{hex}")),
            format!("sha256:{hex}")
        );
        assert_eq!(
            canonical_digest(&hex.to_ascii_uppercase()),
            format!("sha256:{hex}")
        );
    }

    #[test]
    fn show_facts_come_from_the_architecture_keys() {
        let show = json!({
            "details": {"parameter_size": "32.8B", "quantization_level": "Q4_K_M"},
            "model_info": {
                "general.architecture": "qwen3",
                "general.parameter_count": 32_762_123_264_u64,
                "qwen3.block_count": 64,
                "qwen3.attention.head_count": 64,
                "qwen3.attention.head_count_kv": 8,
                "qwen3.attention.key_length": 128,
                "qwen3.attention.value_length": 128,
                "qwen3.embedding_length": 5120,
                "qwen3.context_length": 40960,
                "llama.block_count": 1
            }
        });
        let facts = ModelFacts::from_show(&show);
        assert_eq!(
            facts,
            ModelFacts {
                architecture: "qwen3".into(),
                parameter_count: Some(32_762_123_264),
                parameter_size: Some("32.8B".into()),
                quantization: Some("Q4_K_M".into()),
                block_count: Some(64),
                head_count: Some(64),
                head_count_kv: Some(8),
                key_length: Some(128),
                value_length: Some(128),
                embedding_length: Some(5120),
                context_length: Some(40960),
                sliding_window: None,
                expert_count: None,
                embedding: false,
            }
        );
        // key_length, not 5120 / 64 = 80 (Ollama's own underestimate).
        assert_eq!(facts.head_dim(), Some(128));
        let estimate = facts.estimate_facts(20_000_000_000).unwrap();
        assert_eq!(
            (estimate.layers, estimate.kv_heads, estimate.head_dim),
            (64, 8, 128)
        );
        assert_eq!(estimate.native_context, 40960);
        assert_eq!(estimate.sliding_window, None);
    }

    #[test]
    fn head_dim_falls_back_to_embedding_over_heads() {
        let facts = ModelFacts::from_show(&json!({"model_info": {
            "general.architecture": "llama",
            "llama.attention.head_count": 32,
            "llama.embedding_length": 4096
        }}));
        assert_eq!(facts.head_dim(), Some(128));
        assert_eq!(facts.estimate_facts(1), None, "block_count is missing");
    }

    #[test]
    fn per_layer_kv_heads_count_their_largest_and_windows_their_pattern() {
        let facts = ModelFacts::from_show(&json!({"model_info": {
            "general.architecture": "gemma3",
            "gemma3.block_count": 62,
            "gemma3.attention.head_count": [32, 32],
            "gemma3.attention.head_count_kv": [16, 8, 16],
            "gemma3.attention.key_length": 128,
            "gemma3.context_length": 131072,
            "gemma3.attention.sliding_window": 1024
        }}));
        assert_eq!(facts.head_count_kv, Some(16));
        let sw = facts.estimate_facts(1).unwrap().sliding_window.unwrap();
        assert_eq!((sw.window, sw.global_every), (1024, 6));
    }

    #[test]
    fn an_embedding_model_is_told_by_its_pooling_type() {
        let facts = ModelFacts::from_show(&json!({"model_info": {
            "general.architecture": "nomic-bert",
            "nomic-bert.pooling_type": 1
        }}));
        assert!(facts.embedding);
    }

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
