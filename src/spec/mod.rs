//! Loading a spec: file → Nickel evaluation with the bundled modules → typed
//! [`Spec`](crate::model::Spec), keeping the source position of every value.
//!
//! `.ncl`, `.toml` and `.json` specs all go through the same Nickel pipeline
//! (Nickel imports TOML and JSON natively), so defaults, contracts and error
//! positions work the same for all three.

pub mod budget;
pub mod bundle;
pub mod docs;
mod imports;
pub mod limits;
mod nickel;
mod shape;
pub mod spans;
#[rustfmt::skip]
mod std_outline;
mod stdlib;
mod stdprune;
mod suggest;

pub use suggest::closest;

use crate::codes::{self, SCHEMA_MISMATCH, UNREADABLE};
use crate::diagnostic::{Diagnostic, SpecPath};
use crate::model::Spec;
use crate::sources::Sources;
use budget::Stopped;
pub use limits::Limits;
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

/// Loads the spec at `path` within the limits installed for this process
/// (see [`limits::install`]). The path is shown in diagnostics as given.
pub fn load(path: &Path) -> Result<LoadedSpec, LoadError> {
    load_with(path, &limits::current())
}

/// Loads the spec at `path` within `limits`: imports confined to the spec's
/// directory tree (and `limits.allow_import`), evaluation bounded in depth,
/// memory and time. The path is shown in diagnostics as given.
pub fn load_with(path: &Path, limits: &Limits) -> Result<LoadedSpec, LoadError> {
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
    let spec = match nickel_lang_core::cache::normalize_path(path) {
        Ok(spec) => spec,
        Err(e) => {
            return Err(fail(Diagnostic::error(
                UNREADABLE,
                format!("cannot read `{display}`: {e}"),
            )));
        }
    };
    let (work_spec, work_display, work_limits) = (spec.clone(), display.clone(), limits.clone());
    let evaluated = budget::run(limits, move || {
        // `std` is set by the evaluation: cut to what the sources reach.
        let mut cache = nickel_lang_core::cache::CacheHub::new();
        let read = imports::read_all(&work_spec, &work_display, &work_limits, &mut cache).map_err(
            |r| nickel::Failure {
                diagnostics: vec![r.diagnostic],
                sources: r.sources,
            },
        )?;
        nickel::evaluate(&work_spec, &work_display, &read, cache)
    });
    let evaluation = match evaluated {
        Ok(Ok(evaluation)) => evaluation,
        Ok(Err(f)) => {
            return Err(LoadError {
                diagnostics: f.diagnostics,
                sources: f.sources,
            });
        }
        Err(stopped) => return Err(fail(stopped_diagnostic(&stopped, &display, limits))),
    };
    // Read from the JSON in place: no copy of a spec with thousands of values.
    match <Spec as serde::Deserialize>::deserialize(&evaluation.value) {
        Ok(mut spec) => Ok(LoadedSpec {
            spec: {
                crate::fleet::wiring::wire(&mut spec);
                spec
            },
            json: evaluation.value,
            spans: evaluation.spans,
            sources: evaluation.sources,
        }),
        Err(e) => {
            let diagnostic = match out_of_range(&evaluation.value, &SpecPath::root()) {
                Some(path) => {
                    let mut d = Diagnostic::error(
                        codes::NUMBER_RANGE,
                        format!("`{path}` is a number out of the range any option accepts"),
                    )
                    .hint("give a realistic value; whole numbers must fit 64 bits");
                    d.location = evaluation.spans.locate(&path).and_then(|span| {
                        Some(evaluation.sources.get(&span.file)?.location(span.start, span.end))
                    });
                    d.at(path)
                }
                None => Diagnostic::error(
                    SCHEMA_MISMATCH,
                    format!("the evaluated spec does not fit privai's model: {e}"),
                )
                .hint("this is a bug in privai (its option modules and its model disagree); please report it"),
            };
            Err(LoadError {
                diagnostics: vec![diagnostic],
                sources: evaluation.sources,
            })
        }
    }
}

/// Largest magnitude accepted for a number: beyond it, integers are not exact.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// The path of the first number in `value` too large to be any option's value.
fn out_of_range(value: &serde_json::Value, path: &SpecPath) -> Option<SpecPath> {
    match value {
        serde_json::Value::Number(n) => n
            .as_f64()
            .is_some_and(|f| !f.is_finite() || f.abs() > MAX_EXACT)
            .then(|| path.clone()),
        serde_json::Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| out_of_range(v, &path.key(k.as_str()))),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| out_of_range(v, &path.index(i))),
        _ => None,
    }
}

/// The diagnostic of an evaluation stopped at a limit, located at the spec.
fn stopped_diagnostic(stopped: &Stopped, display: &str, limits: &Limits) -> Diagnostic {
    let mut d = match stopped {
        Stopped::Memory => Diagnostic::error(
            codes::EVAL_MEMORY,
            format!(
                "evaluating the spec used more than {} MiB of memory",
                limits.max_memory >> 20
            ),
        )
        .hint("look for a recursive function without a base case or a huge generated array; raise the limit with `--max-eval-memory` only if the spec really needs it"),
        Stopped::Time => Diagnostic::error(
            codes::EVAL_TIME,
            format!(
                "evaluating the spec took longer than {}",
                humantime::format_duration(limits.max_time)
            ),
        )
        .hint("look for a recursion that never ends; raise the limit with `--max-eval-time` only if the spec really needs it"),
        Stopped::Depth => Diagnostic::error(
            codes::TOO_DEEP,
            "evaluating the spec recursed too deeply",
        )
        .hint("look for a recursive function without a base case, or a value nested thousands of levels deep"),
        Stopped::Panic(message) => Diagnostic::error(
            codes::ENGINE_FAILURE,
            format!("the Nickel engine failed on this spec: {message}"),
        )
        .hint("simplify the expression the spec evaluates (e.g. a huge `std.array.generate`), and please report the spec to privai"),
    };
    d.location = Some(crate::diagnostic::Location {
        file: display.to_owned(),
        line: 1,
        column: 1,
        start: 0,
        end: 0,
    });
    d
}
