//! Loading a spec: file → Nickel evaluation with the bundled modules → typed
//! [`Spec`](crate::model::Spec), keeping the source position of every value.
//!
//! `.ncl`, `.toml` and `.json` specs all go through the same Nickel pipeline
//! (Nickel imports TOML and JSON natively), so defaults, contracts and error
//! positions work the same for all three.

pub mod bundle;
pub mod docs;
mod nickel;
pub mod spans;
mod suggest;

pub use suggest::closest;

use crate::codes::{SCHEMA_MISMATCH, UNREADABLE};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::Spec;
use crate::sources::Sources;
use spans::SpanMap;
use std::path::{Path, PathBuf};

/// File names `privai` looks for when no spec is given, in order.
pub const DEFAULT_SPEC_NAMES: &[&str] = &["privai.ncl", "privai.toml", "privai.json"];

/// A spec that evaluated and deserialized.
#[derive(Debug)]
pub struct LoadedSpec {
    /// The typed spec.
    pub spec: Spec,
    /// The spec as exported JSON (what the typed spec was read from).
    pub json: serde_json::Value,
    /// Where each value was written.
    pub spans: SpanMap,
    /// The sources `spans` point into.
    pub sources: Sources,
}

impl LoadedSpec {
    /// Sets the location of `diagnostic` from its path, if it has none yet.
    pub fn locate(&self, mut diagnostic: Diagnostic) -> Diagnostic {
        if diagnostic.location.is_none()
            && let Some(path) = &diagnostic.path
        {
            diagnostic.location = self.location_of(path);
        }
        diagnostic
    }

    /// Where the value at `path` (or its nearest written ancestor) was written.
    pub fn location_of(&self, path: &SpecPath) -> Option<crate::diagnostic::Location> {
        let span = self.spans.locate(path)?;
        Some(self.sources.get(&span.file)?.location(span.start, span.end))
    }
}

/// A spec that could not be loaded, with the reasons.
#[derive(Debug)]
pub struct LoadError {
    /// What went wrong.
    pub diagnostics: Vec<Diagnostic>,
    /// Sources the diagnostics point into.
    pub sources: Sources,
}

/// Finds the spec to use: `given`, or the first of [`DEFAULT_SPEC_NAMES`] in `dir`.
pub fn find_spec(given: Option<&Path>, dir: &Path) -> Result<PathBuf, Box<Diagnostic>> {
    if let Some(path) = given {
        return Ok(path.to_path_buf());
    }
    DEFAULT_SPEC_NAMES
        .iter()
        .find(|name| dir.join(name).is_file())
        .map(|name| {
            if dir == std::env::current_dir().unwrap_or_default() {
                PathBuf::from(name)
            } else {
                dir.join(name)
            }
        })
        .ok_or_else(|| {
            Box::new(Diagnostic::error(
                UNREADABLE,
                format!("no spec given and none of {} in `{}`", DEFAULT_SPEC_NAMES.join(", "), dir.display()),
            )
            .hint("pass the spec as an argument, e.g. `privai check examples/seed-home.ncl`, or create `privai.ncl` here")
            )
        })
}

/// Loads the spec at `path`. The path is shown in diagnostics as given.
pub fn load(path: &Path) -> Result<LoadedSpec, LoadError> {
    let display = path.display().to_string();
    let fail = |d: Diagnostic| LoadError {
        diagnostics: vec![d],
        sources: Sources::default(),
    };
    match path.extension().and_then(|e| e.to_str()) {
        Some("ncl" | "toml" | "json") => {}
        _ => {
            return Err(fail(
                Diagnostic::error(UNREADABLE, format!("`{display}` is not a spec file"))
                    .hint("a spec is a `.ncl` (Nickel), `.toml` or `.json` file"),
            ));
        }
    }
    if let Err(e) = std::fs::metadata(path) {
        return Err(fail(
            Diagnostic::error(UNREADABLE, format!("cannot read `{display}`: {e}"))
                .hint("check the path; with no argument privai looks for `privai.ncl` or `privai.toml` here"),
        ));
    }
    let evaluation = nickel::evaluate(path, &display).map_err(|f| LoadError {
        diagnostics: f.diagnostics,
        sources: f.sources,
    })?;
    match serde_json::from_value::<Spec>(evaluation.value.clone()) {
        Ok(spec) => Ok(LoadedSpec {
            spec,
            json: evaluation.value,
            spans: evaluation.spans,
            sources: evaluation.sources,
        }),
        Err(e) => Err(LoadError {
            diagnostics: vec![
                Diagnostic::error(
                    SCHEMA_MISMATCH,
                    format!("the evaluated spec does not fit privai's model: {e}"),
                )
                .hint("this is a bug in privai (its option modules and its model disagree); please report it"),
            ],
            sources: evaluation.sources,
        }),
    }
}
