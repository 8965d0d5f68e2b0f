//! Printing diagnostics: like a compiler for people (source excerpt, colour
//! only on a terminal), as a JSON list for machines, or as GitHub Actions
//! annotations for pull requests.

use crate::diagnostic::{Diagnostic, Severity};
use crate::sources::Sources;
use codespan_reporting::diagnostic::{Diagnostic as Report, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::WriteColor};
use serde::Serialize;
use std::io::{self, Write};

/// Output format of `privai check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Compiler-style text with source excerpts.
    Human,
    /// A JSON document (see `JsonReport`).
    Json,
    /// GitHub Actions workflow commands (`::error file=…`).
    Github,
}

/// Version of the JSON report's schema; bumped on any incompatible change.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// The JSON report of `privai check --format json`.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    /// Schema version, see [`JSON_SCHEMA_VERSION`].
    pub version: u32,
    /// The spec checked.
    pub spec: &'a str,
    /// Number of errors.
    pub errors: usize,
    /// Number of warnings.
    pub warnings: usize,
    /// Every diagnostic, errors first.
    pub diagnostics: &'a [Diagnostic],
}

/// Writes `diagnostics` in compiler style. `writer` decides about colour.
pub fn write_human(
    writer: &mut dyn WriteColor,
    sources: &Sources,
    diagnostics: &[Diagnostic],
) -> io::Result<()> {
    let mut files = SimpleFiles::new();
    let ids: Vec<(String, usize)> = sources
        .iter()
        .map(|s| (s.name.clone(), files.add(s.name.clone(), s.text.clone())))
        .collect();
    let file_id = |name: &str| ids.iter().find(|(n, _)| n == name).map(|(_, id)| *id);
    let config = term::Config::default();
    for d in diagnostics {
        let report = match d.severity {
            Severity::Error => Report::error(),
            Severity::Warning => Report::warning(),
        }
        .with_code(d.code)
        .with_message(&d.message);
        let mut labels = Vec::new();
        let mut notes = Vec::new();
        let long = |loc: &crate::diagnostic::Location| {
            sources
                .get(&loc.file)
                .and_then(|s| window(&s.text, loc.start))
        };
        match (&d.location, d.redact_source) {
            (Some(loc), false) if long(loc).is_some() => {
                let excerpt = long(loc).unwrap_or_default();
                notes.push(match &d.path {
                    Some(path) => format!("at {loc}, `{path}`:\n{excerpt}"),
                    None => format!("at {loc}:\n{excerpt}"),
                });
            }
            (Some(loc), false) => match file_id(&loc.file) {
                Some(id) => {
                    let label = Label::primary(id, loc.start..loc.end.max(loc.start));
                    labels.push(match &d.path {
                        Some(path) => label.with_message(path.to_string()),
                        None => label,
                    });
                }
                None => notes.push(format!("at {loc}")),
            },
            (Some(loc), true) => notes.push(format!(
                "at {loc}{} (excerpt hidden: the value may be a secret)",
                d.path
                    .as_ref()
                    .map(|p| format!(", `{p}`"))
                    .unwrap_or_default()
            )),
            (None, _) => {
                if let Some(path) = &d.path {
                    notes.push(format!("at `{path}`"));
                }
            }
        }
        for (loc, message) in &d.related {
            if let Some(excerpt) = long(loc) {
                notes.push(format!("{message}: {loc}:\n{excerpt}"));
            } else if let Some(id) = file_id(&loc.file) {
                labels.push(Label::secondary(id, loc.start..loc.end).with_message(message));
            }
        }
        notes.extend(d.notes.iter().cloned());
        if let Some(hint) = &d.hint {
            notes.push(format!("hint: {hint}"));
        }
        let report = report.with_labels(labels).with_notes(notes);
        term::emit_to_write_style(writer, &config, &files, &report)
            .map_err(|e| io::Error::other(e.to_string()))?;
    }
    Ok(())
}

/// Widest line shown whole in an excerpt, in bytes.
const MAX_LINE: usize = 240;
/// Bytes shown either side of the column on a longer line.
const WINDOW: usize = 60;

/// For a line longer than [`MAX_LINE`]: the part around byte `at`, with a
/// caret under `at`. `None` for a line short enough to show whole.
fn window(text: &str, at: usize) -> Option<String> {
    let at = floor_boundary(text, at.min(text.len()));
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    if line_end - line_start <= MAX_LINE {
        return None;
    }
    let from = floor_boundary(text, at.saturating_sub(WINDOW).max(line_start));
    let to = floor_boundary(text, (at + WINDOW).min(line_end));
    let before = if from > line_start { "…" } else { "" };
    let after = if to < line_end { "…" } else { "" };
    let shown: String = text[from..to]
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let caret = " ".repeat(before.chars().count() + text[from..at].chars().count());
    Some(format!("  {before}{shown}{after}\n  {caret}^"))
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// One line summing up a check, e.g. `error: 2 errors, 1 warning in spec.ncl`.
pub fn summary(spec: &str, diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    if errors == 0 && warnings == 0 {
        format!("{spec}: no problems found")
    } else {
        format!(
            "{spec}: {} {}, {} {}",
            errors,
            plural(errors, "error", "errors"),
            warnings,
            plural(warnings, "warning", "warnings")
        )
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Writes the JSON report.
pub fn write_json(
    writer: &mut dyn Write,
    spec: &str,
    diagnostics: &[Diagnostic],
) -> io::Result<()> {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let report = JsonReport {
        version: JSON_SCHEMA_VERSION,
        spec,
        errors,
        warnings: diagnostics.len() - errors,
        diagnostics,
    };
    serde_json::to_writer_pretty(&mut *writer, &report)?;
    writeln!(writer)
}

/// Writes GitHub Actions annotations, one workflow command per diagnostic.
pub fn write_github(writer: &mut dyn Write, diagnostics: &[Diagnostic]) -> io::Result<()> {
    for d in diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut properties = vec![format!("title={}", escape_property(d.code))];
        if let Some(loc) = &d.location {
            properties.insert(0, format!("col={}", loc.column));
            properties.insert(0, format!("line={}", loc.line));
            properties.insert(0, format!("file={}", escape_property(&loc.file)));
        }
        let mut message = d.message.clone();
        if let Some(path) = &d.path {
            message.push_str(&format!(" (at `{path}`)"));
        }
        if let Some(hint) = &d.hint {
            message.push_str(&format!("\nhint: {hint}"));
        }
        writeln!(
            writer,
            "::{command} {}::{}",
            properties.join(","),
            escape_data(&message)
        )?;
    }
    Ok(())
}

/// Escapes the message part of a workflow command.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Location, SpecPath};

    fn sample() -> Diagnostic {
        let mut d = Diagnostic::error("PRV010", "device `phone` names unknown user `bob`")
            .at(SpecPath::parse("devices[2].user"))
            .hint("add `bob` to `users`, or fix the name");
        d.location = Some(Location {
            file: "spec.ncl".into(),
            line: 14,
            column: 12,
            start: 0,
            end: 5,
        });
        d
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_column() {
        let line = format!("[{}1,]", "1, ".repeat(20_000_000 / 3));
        let at = line.len() - 2;
        let sources = {
            let mut s = Sources::default();
            s.add(crate::sources::Source::new("big.json", line.clone()));
            s
        };
        let mut d = Diagnostic::error("PRV001", "trailing comma");
        d.location = Some(sources.get("big.json").unwrap().location(at, at + 1));
        let mut out = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
        write_human(&mut out, &sources, &[d]).unwrap();
        let text = String::from_utf8(out.into_inner()).unwrap();
        assert!(text.len() < 2_000, "printed {} bytes", text.len());
        assert!(text.contains("big.json:1:"), "{text}");
        assert!(text.contains("1,]"), "{text}");
        assert!(text.contains('^'), "{text}");
    }

    #[test]
    fn a_short_line_keeps_the_full_excerpt() {
        assert_eq!(window("short line\nnext", 3), None);
    }

    #[test]
    fn github_annotations_carry_file_line_column_and_code() {
        let mut out = Vec::new();
        write_github(&mut out, &[sample()]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "::error file=spec.ncl,line=14,col=12,title=PRV010::device `phone` names unknown user `bob` (at `devices[2].user`)%0Ahint: add `bob` to `users`, or fix the name\n"
        );
    }

    #[test]
    fn json_report_is_versioned_and_counts() {
        let mut out = Vec::new();
        write_json(&mut out, "spec.ncl", &[sample()]).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["errors"], 1);
        assert_eq!(v["diagnostics"][0]["code"], "PRV010");
        assert_eq!(v["diagnostics"][0]["path"], "devices[2].user");
        assert_eq!(v["diagnostics"][0]["location"]["line"], 14);
    }
}
