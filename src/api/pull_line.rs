//! One line of Ollama's pull stream (`POST /api/pull`), read without
//! allocating: a pull streams a line per progress update, millions for a
//! large model on a fast link, so reading a line must cost less than
//! Ollama writing it.
//!
//! [`PullLines`] splits the stream into lines as its chunks arrive and
//! reads each one. Ollama's Go encoder writes the fields of its `ProgressResponse` in one
//! order (`status`, then `digest`, `total`, `completed`, each left out when
//! empty or zero; `api/types.go`). [`PullLine::parse`] reads lines of that
//! exact shape directly and gives every other line (errors, escapes, other
//! orders, fields it does not know) to serde_json, so both paths agree on
//! every line.

use super::ollama::PullProgress;
use serde::Deserialize;
use std::borrow::Cow;

/// The longest line accepted from a pull (Ollama's are under 200 bytes).
pub const MAX_LINE: usize = 1024 * 1024;

/// Why a pull stream cannot be read on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Ollama reported an error (its `error` line).
    Fatal(String),
    /// A line is not what Ollama writes.
    Unreadable(String),
}

/// The lines of a pull stream, read as its chunks arrive; one
/// [`PullProgress`] is filled in again for every line.
#[derive(Debug)]
pub struct PullLines {
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
    progress: PullProgress,
    /// A digest buffer kept for the next line that has one.
    spare: String,
}

impl PullLines {
    /// The lines of request number `attempt` of a pull.
    pub fn new(attempt: u32) -> Self {
        Self {
            partial: Vec::new(),
            progress: PullProgress {
                status: String::new(),
                digest: None,
                total: None,
                completed: None,
                attempt,
                detail: None,
            },
            spare: String::new(),
        }
    }

    /// Bytes of a line begun but not ended.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }

    /// Reads every line `chunk` ends, calling `on_progress` for each;
    /// `Ok(true)` once Ollama said `success` (what follows is not read).
    pub fn feed(
        &mut self,
        chunk: &[u8],
        on_progress: &mut dyn FnMut(&PullProgress),
    ) -> Result<bool, LineError> {
        let mut rest = chunk;
        if !self.partial.is_empty() {
            let Some(end) = memchr::memchr(b'\n', rest) else {
                return self.keep(rest);
            };
            let mut line = std::mem::take(&mut self.partial);
            line.extend_from_slice(&rest[..=end]);
            rest = &rest[end + 1..];
            let done = self.line(&line, on_progress);
            line.clear();
            self.partial = line;
            if done? {
                return Ok(true);
            }
        }
        while let Some(end) = memchr::memchr(b'\n', rest) {
            if self.line(&rest[..=end], on_progress)? {
                return Ok(true);
            }
            rest = &rest[end + 1..];
        }
        self.keep(rest)
    }

    /// Keeps the start of a line until its end arrives.
    fn keep(&mut self, start: &[u8]) -> Result<bool, LineError> {
        self.partial.extend_from_slice(start);
        match self.partial.len() > MAX_LINE {
            true => Err(LineError::Unreadable(format!(
                "a progress line is longer than {MAX_LINE} bytes"
            ))),
            false => Ok(false),
        }
    }

    /// Reads one whole line; `Ok(true)` for `success`.
    fn line(
        &mut self,
        line: &[u8],
        on_progress: &mut dyn FnMut(&PullProgress),
    ) -> Result<bool, LineError> {
        if line.trim_ascii().is_empty() {
            return Ok(false);
        }
        let shown = || String::from_utf8_lossy(line.trim_ascii()).into_owned();
        let raw = PullLine::parse(line).map_err(|e| {
            LineError::Unreadable(format!("progress line `{}` is not JSON: {e}", shown()))
        })?;
        if let Some(message) = raw.error {
            return Err(LineError::Fatal(message));
        }
        let Some(status) = raw.status else {
            return Err(LineError::Unreadable(format!(
                "progress line `{}` has neither `status` nor `error`",
                shown()
            )));
        };
        let progress = &mut self.progress;
        progress.status.clear();
        progress.status.push_str(&status);
        match raw.digest {
            Some(digest) => {
                let buffer = progress
                    .digest
                    .get_or_insert_with(|| std::mem::take(&mut self.spare));
                buffer.clear();
                buffer.push_str(&digest);
            }
            None => {
                if let Some(buffer) = progress.digest.take() {
                    self.spare = buffer;
                }
            }
        }
        progress.total = raw.total;
        progress.completed = raw.completed;
        on_progress(progress);
        Ok(progress.is_success())
    }
}

/// One line of a pull stream, borrowed from the line.
#[derive(Debug, PartialEq, Eq, Deserialize)]
pub struct PullLine<'a> {
    /// What Ollama is doing (`pulling manifest`, `pulling 6a0746a1ec1a`,
    /// `success`).
    #[serde(borrow)]
    pub status: Option<Cow<'a, str>>,
    /// The blob being downloaded.
    #[serde(borrow)]
    pub digest: Option<Cow<'a, str>>,
    /// The blob's size in bytes.
    pub total: Option<u64>,
    /// Bytes of it downloaded so far.
    pub completed: Option<u64>,
    /// Why the pull failed (Ollama reports a missing tag as HTTP 200 and
    /// then a line with `error`).
    pub error: Option<String>,
}

impl<'a> PullLine<'a> {
    /// Reads `line` (its newline may be included).
    pub fn parse(line: &'a [u8]) -> serde_json::Result<Self> {
        match Self::progress(line.trim_ascii_end()) {
            Some(parsed) => Ok(parsed),
            None => serde_json::from_slice(line),
        }
    }

    /// `{"status":S[,"digest":D][,"total":N][,"completed":N]}` with strings
    /// free of escapes and control characters and plain non-negative
    /// integers; `None` for anything else.
    fn progress(line: &'a [u8]) -> Option<Self> {
        let mut rest = line.strip_prefix(b"{\"status\":")?;
        let status = string(&mut rest)?;
        let digest = field(&mut rest, b",\"digest\":", string)?;
        let total = field(&mut rest, b",\"total\":", integer)?;
        let completed = field(&mut rest, b",\"completed\":", integer)?;
        (rest == b"}").then_some(Self {
            status: Some(Cow::Borrowed(status)),
            digest: digest.map(Cow::Borrowed),
            total,
            completed,
            error: None,
        })
    }
}

/// The value of an optional field that starts with `key`: `Some(None)` when
/// the field is not there, `None` when it is there but not readable here.
fn field<'a, T>(
    rest: &mut &'a [u8],
    key: &[u8],
    value: fn(&mut &'a [u8]) -> Option<T>,
) -> Option<Option<T>> {
    match rest.strip_prefix(key) {
        Some(after) => {
            *rest = after;
            value(rest).map(Some)
        }
        None => Some(None),
    }
}

/// A JSON string without escapes or control characters.
fn string<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    let body = rest.strip_prefix(b"\"")?;
    let end = memchr::memchr2(b'"', b'\\', body)?;
    if body[end] != b'"' {
        return None;
    }
    let text = &body[..end];
    // Without a branch per byte, so that it runs a vector at a time.
    if text.iter().fold(false, |control, &b| control | (b < 0x20)) {
        return None;
    }
    *rest = &body[end + 1..];
    std::str::from_utf8(text).ok()
}

/// A non-negative JSON integer that fits a `u64`.
fn integer(rest: &mut &[u8]) -> Option<u64> {
    let end = rest
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    let digits = &rest[..end];
    if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    let mut value: u64 = 0;
    for &d in digits {
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    *rest = &rest[end..];
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde(line: &str) -> serde_json::Result<PullLine<'_>> {
        serde_json::from_str(line)
    }

    #[test]
    fn the_lines_ollama_writes_are_read_directly() {
        let digest = "sha256:6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa";
        let line = format!(
            "{{\"status\":\"pulling 6a0746a1ec1a\",\"digest\":\"{digest}\",\"total\":4661211424,\"completed\":1048576}}\n"
        );
        let parsed = PullLine::progress(line.trim_end().as_bytes()).expect("the direct path");
        assert_eq!(parsed.status.as_deref(), Some("pulling 6a0746a1ec1a"));
        assert_eq!(parsed.digest.as_deref(), Some(digest));
        assert_eq!(parsed.total, Some(4_661_211_424));
        assert_eq!(parsed.completed, Some(1_048_576));
        assert_eq!(parsed.error, None);
        for line in [
            "{\"status\":\"pulling manifest\"}",
            "{\"status\":\"pulling 6a0746a1ec1a\",\"digest\":\"sha256:6a07\",\"total\":4661211424}",
            "{\"status\":\"success\"}",
        ] {
            assert!(PullLine::progress(line.as_bytes()).is_some(), "{line}");
        }
    }

    /// Feeds `stream` in chunks of `size` bytes: the events, and how it ended.
    fn feed(stream: &[u8], size: usize) -> (Vec<PullProgress>, Result<bool, LineError>) {
        let mut lines = PullLines::new(1);
        let mut events = Vec::new();
        for chunk in stream.chunks(size) {
            match lines.feed(chunk, &mut |p| events.push(p.clone())) {
                Ok(false) => {}
                end => return (events, end),
            }
        }
        (events, Ok(false))
    }

    const STREAM: &str = concat!(
        "{\"status\":\"pulling manifest\"}\n",
        "{\"status\":\"pulling 6a07\",\"digest\":\"sha256:6a07\",\"total\":300}\n",
        "\n",
        "{\"status\":\"pulling 6a07\",\"digest\":\"sha256:6a07\",\"total\":300,\"completed\":300}\n",
        "{\"status\":\"verifying sha256 digest\"}\n",
        "{\"status\":\"success\"}\n",
        "{\"status\":\"never read\"}\n",
    );

    #[test]
    fn lines_split_anywhere_between_chunks_read_the_same() {
        let (whole, end) = feed(STREAM.as_bytes(), STREAM.len());
        assert_eq!(end, Ok(true));
        let statuses: Vec<&str> = whole.iter().map(|p| p.status.as_str()).collect();
        assert_eq!(
            statuses,
            [
                "pulling manifest",
                "pulling 6a07",
                "pulling 6a07",
                "verifying sha256 digest",
                "success"
            ]
        );
        assert_eq!(whole[1].digest.as_deref(), Some("sha256:6a07"));
        assert_eq!((whole[2].total, whole[2].completed), (Some(300), Some(300)));
        assert_eq!(whole[3].digest, None);
        for size in 1..40 {
            assert_eq!(
                feed(STREAM.as_bytes(), size),
                (whole.clone(), Ok(true)),
                "{size}"
            );
        }
    }

    #[test]
    fn an_error_line_ends_the_stream_with_ollamas_message() {
        let stream = "{\"status\":\"pulling manifest\"}\n{\"error\":\"pull model manifest: file does not exist\"}\n";
        let (events, end) = feed(stream.as_bytes(), 7);
        assert_eq!(events.len(), 1);
        assert_eq!(
            end,
            Err(LineError::Fatal(
                "pull model manifest: file does not exist".to_owned()
            ))
        );
    }

    #[test]
    fn a_line_that_is_not_ollamas_or_never_ends_cannot_be_read() {
        let (_, end) = feed(b"<html>\n", 3);
        assert!(
            matches!(&end, Err(LineError::Unreadable(d)) if d.starts_with("progress line `<html>` is not JSON")),
            "{end:?}"
        );
        let (_, end) = feed(b"{\"total\":1}\n", 64);
        assert!(
            matches!(&end, Err(LineError::Unreadable(d)) if d.contains("neither `status` nor `error`")),
            "{end:?}"
        );
        let endless = vec![b'x'; MAX_LINE + 1];
        let (_, end) = feed(&endless, 4096);
        assert_eq!(
            end,
            Err(LineError::Unreadable(format!(
                "a progress line is longer than {MAX_LINE} bytes"
            )))
        );
    }

    #[test]
    fn every_line_reads_as_serde_json_reads_it() {
        let readable = [
            // The shapes Ollama writes.
            "{\"status\":\"pulling manifest\"}\n",
            "{\"status\":\"pulling 6a0746a1ec1a\",\"digest\":\"sha256:6a07\",\"total\":4661211424}\n",
            "{\"status\":\"pulling 6a0746a1ec1a\",\"digest\":\"sha256:6a07\",\"total\":4661211424,\"completed\":0}\r\n",
            "{\"status\":\"success\"}",
            "{\"status\":\"caf\u{e9}\",\"total\":18446744073709551615}\n",
            // Errors, in every position.
            "{\"error\":\"pull model manifest: file does not exist\"}\n",
            "{\"status\":\"pulling manifest\",\"error\":\"max retries exceeded\"}\n",
            "{\"error\":\"x\",\"status\":\"success\"}\n",
            // What only serde_json reads.
            "{\"status\":\"pulling \\u0036a07\",\"total\":1}\n",
            "{\"total\":5,\"status\":\"pulling 6a07\"}\n",
            "{ \"status\" : \"success\" }\n",
            "{\"status\":\"pulling\",\"total\":1,\"extra\":true}\n",
        ];
        for line in readable {
            match (PullLine::parse(line.as_bytes()), serde(line)) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{line}"),
                (a, b) => panic!("{line:?}: parse {a:?}, serde_json {b:?}"),
            }
        }
        let unreadable = [
            "{\"status\":\"pulling\",\"total\":1.5e3}\n",
            "{\"status\":\"pulling\",\"total\":-1}\n",
            "{\"status\":\"pulling\",\"total\":18446744073709551616}\n",
            "{\"status\":\"pulling\",\"total\":01}\n",
            "{\"status\":\"pulling\",\"total\":1,\"total\":2}\n",
            "{\"status\":\"pulling\"}}\n",
            "{\"status\":\"pull\u{1}ing\"}\n",
            "{\"status\":\"pulling\"\n",
            "[\"status\"]\n",
        ];
        for line in unreadable {
            assert!(
                PullLine::parse(line.as_bytes()).is_err() && serde(line).is_err(),
                "{line:?}"
            );
        }
    }
}
