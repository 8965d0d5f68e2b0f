//! Pulling a model through Ollama: its progress lines, a broken stream
//! resumed with a backoff, and the errors Ollama reports while pulling.

use super::*;

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

impl Client {
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
}

/// The error for an `error` Ollama reported while pulling `model`.
pub(super) fn pull_error(model: &str, message: String) -> OllamaError {
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
