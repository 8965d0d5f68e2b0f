//! Diagnostics: what `privai check` reports, from Nickel evaluation and from
//! the semantic checks alike.
//!
//! A diagnostic names its stable code, a severity, the path of the offending
//! value in the spec (`devices[2].user`), where that value was written
//! (file, line, column), a message and a hint that says how to fix it.

use serde::Serialize;
use std::fmt;

/// How bad a diagnostic is. Errors make `privai check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Must be fixed before anything is deployed.
    Error,
    /// Deployable, but probably not what the operator meant.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One step of a path into the spec.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// A record field.
    Key(String),
    /// An array element.
    Index(usize),
}

/// A path into the spec, such as `devices[2].user`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpecPath(pub Vec<Segment>);

impl SpecPath {
    /// The empty path: the spec itself.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path extended by a field name.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.into()));
        next
    }

    /// This path extended by an array index.
    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// The path without its last segment (the root stays the root).
    pub fn parent(&self) -> Self {
        let mut parent = self.clone();
        parent.0.pop();
        parent
    }

    /// Parses `a.b[2].c`; `"a b".c` style quoting is not supported.
    pub fn parse(text: &str) -> Self {
        let mut segments = Vec::new();
        for part in text.split('.').filter(|p| !p.is_empty()) {
            let (key, rest) = part.split_once('[').unwrap_or((part, ""));
            if !key.is_empty() {
                segments.push(Segment::Key(key.to_string()));
            }
            for index in rest.split('[') {
                if let Ok(i) = index.trim_end_matches(']').parse() {
                    segments.push(Segment::Index(i));
                }
            }
        }
        Self(segments)
    }
}

impl fmt::Display for SpecPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl Serialize for SpecPath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Where a value was written: a file, a 1-based line and column, and the
/// byte range of the value in that file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file as the user knows it (the path they gave, or `privai/…` for bundled modules).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offset where the value starts.
    #[serde(skip)]
    pub start: usize,
    /// Byte offset where the value ends.
    #[serde(skip)]
    pub end: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One finding of `privai check`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Stable code, e.g. `PRV012`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The offending value's path in the spec, when it has one.
    pub path: Option<SpecPath>,
    /// Where the offending value was written, when known.
    pub location: Option<Location>,
    /// How to fix it.
    pub hint: Option<String>,
    /// Further facts: the option's documentation, related places.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Other places that matter (e.g. the first of two duplicates), with a label.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<(Location, String)>,
    /// Whether the source excerpt must be hidden (the value may be a secret).
    #[serde(skip)]
    pub redact_source: bool,
}

impl Diagnostic {
    /// A new error with `code` and `message`.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }

    /// A new warning with `code` and `message`.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }

    fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            code,
            severity,
            message: message.into(),
            path: None,
            location: None,
            hint: None,
            notes: Vec::new(),
            related: Vec::new(),
            redact_source: false,
        }
    }

    /// Sets the spec path.
    pub fn at(mut self, path: SpecPath) -> Self {
        self.path = Some(path);
        self
    }

    /// Sets the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Hides the source excerpt (the value may be a secret).
    pub fn redacted(mut self) -> Self {
        self.redact_source = true;
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
