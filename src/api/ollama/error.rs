//! What can go wrong talking to Ollama; each message says what to do.

use super::*;

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
