//! The source texts diagnostics point into: the user's spec, the files it
//! imports and the bundled modules. Kept so that excerpts can be printed and
//! byte offsets turned into lines and columns.

use crate::diagnostic::Location;

/// One source text and its display name.
#[derive(Debug, Clone)]
pub struct Source {
    /// Display name (the user's path, or `privai/modules/…` for bundled files).
    pub name: String,
    /// Full text.
    pub text: String,
    line_starts: Vec<usize>,
}

impl Source {
    /// A source from its name and text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The location of the byte range `start..end`, with a 1-based line and
    /// character column.
    pub fn location(&self, start: usize, end: usize) -> Location {
        let start = start.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= start).max(1);
        let line_start = self.line_starts[line - 1];
        let column = self.text[line_start..start].chars().count() + 1;
        Location {
            file: self.name.clone(),
            line,
            column,
            start,
            end: end.clamp(start, self.text.len()),
        }
    }
}

/// All sources of one evaluation.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<Source>,
}

impl Sources {
    /// Adds a source unless one of that name is already present.
    pub fn add(&mut self, source: Source) {
        if self.get(&source.name).is_none() {
            self.files.push(source);
        }
    }

    /// The source named `name`.
    pub fn get(&self, name: &str) -> Option<&Source> {
        self.files.iter().find(|s| s.name == name)
    }

    /// Every source, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &Source> {
        self.files.iter()
    }
}
