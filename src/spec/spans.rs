//! Where each value of an evaluated spec was written.

use crate::diagnostic::{Segment, SpecPath};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A byte range in a named source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Source name (see [`crate::sources::Sources`]), shared by the spans
    /// of one file.
    pub file: Arc<str>,
    /// Start byte.
    pub start: usize,
    /// End byte.
    pub end: usize,
    /// Whether the source is a bundled module or profile (not the user's).
    pub bundled: bool,
}

/// Spans of the values and keys of a spec, by path.
#[derive(Debug, Clone, Default)]
pub struct SpanMap {
    values: BTreeMap<SpecPath, Span>,
    keys: BTreeMap<SpecPath, Span>,
}

impl SpanMap {
    /// Records where the value at `path` was written.
    pub fn insert_value(&mut self, path: SpecPath, span: Span) {
        self.values.insert(path, span);
    }

    /// Records where the key of the field at `path` was written.
    pub fn insert_key(&mut self, path: SpecPath, span: Span) {
        self.keys.insert(path, span);
    }

    /// Takes every span of `other` that points into the user's files,
    /// replacing this map's span for the same path.
    pub fn prefer(&mut self, mut other: SpanMap) {
        other.values.retain(|_, s| !s.bundled);
        other.keys.retain(|_, s| !s.bundled);
        // `append` keeps `other`'s span where both have one.
        self.values.append(&mut other.values);
        self.keys.append(&mut other.keys);
    }

    /// Whether the value at `path` has a place in the user's files.
    pub fn written_value(&self, path: &SpecPath) -> bool {
        self.values.get(path).is_some_and(|s| !s.bundled)
    }

    /// Whether the key of the field at `path` has a place in the user's files.
    pub fn written_key(&self, path: &SpecPath) -> bool {
        self.keys.get(path).is_some_and(|s| !s.bundled)
    }

    /// The best place to point at for `path`: its value, else its key, else
    /// the nearest ancestor that has a place.
    pub fn locate(&self, path: &SpecPath) -> Option<&Span> {
        let mut current = path.clone();
        loop {
            if let Some(span) = self
                .values
                .get(&current)
                .or_else(|| self.keys.get(&current))
            {
                return Some(span);
            }
            if current.0.is_empty() {
                return None;
            }
            current = current.parent();
        }
    }

    /// The key span of the field at `path`, if it was written in a source.
    pub fn key(&self, path: &SpecPath) -> Option<&Span> {
        self.keys.get(path)
    }

    /// The first field named `name` (in path order) and where it was
    /// written: its key, or its value when the key has no position (TOML).
    pub fn find_key(&self, name: &str) -> Option<(SpecPath, &Span)> {
        let named = |path: &&SpecPath| matches!(path.0.last(), Some(Segment::Key(k)) if k == name);
        self.keys
            .iter()
            .find(|(path, _)| named(path))
            .or_else(|| self.values.iter().find(|(path, _)| named(path)))
            .map(|(path, span)| (path.clone(), span))
    }

    /// The keys present directly under `parent`.
    pub fn children(&self, parent: &SpecPath) -> Vec<String> {
        let mut names: Vec<String> = self
            .keys
            .keys()
            .chain(self.values.keys())
            .filter(|p| p.0.len() == parent.0.len() + 1 && p.0.starts_with(&parent.0))
            .filter_map(|p| match p.0.last() {
                Some(Segment::Key(k)) => Some(k.clone()),
                _ => None,
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The deepest path whose value was written at `offset` in `file`.
    pub fn path_at(&self, file: &str, offset: usize) -> Option<SpecPath> {
        self.values
            .iter()
            .filter(|(_, s)| {
                &*s.file == file && s.start <= offset && offset < s.end.max(s.start + 1)
            })
            .min_by_key(|(p, s)| (s.end - s.start, std::cmp::Reverse(p.0.len())))
            .map(|(p, _)| p.clone())
    }
}
