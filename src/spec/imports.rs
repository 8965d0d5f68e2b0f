//! Reading a spec and every file it imports, before Nickel evaluates them.
//!
//! Nickel imports are string literals, so every file a spec can reach is
//! known from its text. They are found here, resolved exactly as Nickel
//! resolves them (the importing file's directory, then the bundled modules),
//! and read only if they are regular files inside the spec's directory tree
//! or a directory given with `--allow-import`. What is read is handed to
//! Nickel as in-memory sources, so Nickel reads nothing from disk itself.

use super::bundle;
use super::limits::{Limits, MAX_IMPORTS, MAX_SOURCE_BYTES};
use super::shape;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::sources::{Source, Sources};
use nickel_lang_core::cache::{CacheHub, InputFormat, SourcePath, normalize_path};
use std::collections::{HashSet, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A source read for Nickel: its normalized path (the name Nickel looks it
/// up by), its format and its text.
#[derive(Debug, Clone)]
pub struct ReadSource {
    pub path: PathBuf,
    pub format: InputFormat,
    pub text: String,
}

/// The reason a spec is not evaluated, with the sources it points into.
#[derive(Debug)]
pub struct Refusal {
    pub diagnostic: Diagnostic,
    pub sources: Sources,
}

/// Who asked for a file: the importing source's name and text, and the
/// byte range of the import.
struct Importer<'a> {
    name: &'a str,
    text: &'a str,
    start: usize,
    end: usize,
}

/// The format Nickel gives a file imported without `as`.
pub fn format_of(path: &Path) -> InputFormat {
    InputFormat::from_path(path).unwrap_or_default()
}

/// Reads the spec at `spec` (normalized, absolute) and everything it
/// imports. `display` is the spec's name in diagnostics.
///
/// Each source read is also added to `cache`, and each Nickel source parsed
/// there: its imports and depth are read from the AST that Nickel then
/// evaluates, so a spec is parsed once.
pub fn read_all(
    spec: &Path,
    display: &str,
    limits: &Limits,
    cache: &mut CacheHub,
) -> Result<Vec<ReadSource>, Box<Refusal>> {
    let mut roots = Vec::new();
    if let Some(dir) = spec.parent() {
        roots.push(dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()));
    }
    for dir in &limits.allow_import {
        match dir.canonicalize() {
            Ok(dir) => roots.push(dir),
            Err(e) => {
                return Err(refuse(
                    Diagnostic::error(
                        codes::IMPORT_OUTSIDE,
                        format!("`--allow-import {}` cannot be used: {e}", dir.display()),
                    )
                    .hint("give an existing directory to `--allow-import`"),
                    Sources::default(),
                ));
            }
        }
    }
    let bundled: HashSet<PathBuf> = bundle::FILES
        .iter()
        .map(|(p, _)| Path::new(bundle::VIRTUAL_ROOT).join(p))
        .collect();
    let mut out: Vec<ReadSource> = Vec::new();
    let mut sources = Sources::default();
    let spec_format = format_of(spec);
    let text = read_file(spec, spec, display, None, &mut sources)?;
    check_text(display, &text, spec_format, &mut sources)?;
    let name_of = |path: &Path| {
        if path == spec {
            display.to_owned()
        } else {
            path.to_string_lossy().into_owned()
        }
    };
    let mut ids = vec![add(cache, spec, spec_format, &text)];
    out.push(ReadSource {
        path: spec.to_path_buf(),
        format: spec_format,
        text,
    });
    let mut queue = VecDeque::from([0usize]);
    while let Some(index) = queue.pop_front() {
        if out[index].format != InputFormat::Nickel {
            continue;
        }
        let name = name_of(&out[index].path);
        // A source that does not parse gives no finding: Nickel reports its
        // syntax error itself when it parses the source again.
        let scanned = match cache.parse_to_ast(ids[index]) {
            Ok(_) => cache
                .asts
                .get(ids[index])
                .map_or(Ok(Vec::new()), shape::nickel_ast),
            Err(_) => Ok(Vec::new()),
        };
        let imports = match scanned {
            Ok(imports) => imports,
            Err(finding) => {
                let text = out[index].text.clone();
                return Err(refuse_at(&name, &text, finding, &mut sources));
            }
        };
        let dir = out[index]
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for import in imports {
            let candidates = [
                dir.join(&import.path),
                Path::new(bundle::VIRTUAL_ROOT).join(&import.path),
            ];
            for candidate in candidates {
                let Ok(normalized) = normalize_path(&candidate) else {
                    continue;
                };
                if bundled.contains(&normalized) && import.format == InputFormat::Nickel {
                    break;
                }
                if out
                    .iter()
                    .any(|r| r.path == normalized && r.format == import.format)
                {
                    break;
                }
                // Nickel stats each candidate and reads the first that exists.
                if std::fs::metadata(&normalized).is_err() {
                    continue;
                }
                let importer_text = out[index].text.clone();
                let importer = Importer {
                    name: &name,
                    text: &importer_text,
                    start: import.start,
                    end: import.end,
                };
                let canonical = normalized
                    .canonicalize()
                    .unwrap_or_else(|_| normalized.clone());
                if !roots.iter().any(|root| canonical.starts_with(root)) {
                    let written = import.path.to_string_lossy();
                    let d = located(
                        Diagnostic::error(
                            codes::IMPORT_OUTSIDE,
                            format!(
                                "import `{written}` reaches `{}`, outside the spec's directory",
                                canonical.display()
                            ),
                        )
                        .hint(format!(
                            "imports may read files under `{}` and the bundled `privai/…` modules; \
                             move the file there, or allow its directory with `--allow-import DIR`",
                            roots[0].display()
                        )),
                        &importer,
                        &mut sources,
                    );
                    return Err(refuse(d, sources));
                }
                if out.len() >= MAX_IMPORTS {
                    let d = located(
                        Diagnostic::error(
                            codes::SOURCE_TOO_LARGE,
                            format!("the spec imports more than {MAX_IMPORTS} files"),
                        )
                        .hint("merge the imported files into fewer"),
                        &importer,
                        &mut sources,
                    );
                    return Err(refuse(d, sources));
                }
                let shown = normalized.to_string_lossy().into_owned();
                let text = read_file(
                    &canonical,
                    &normalized,
                    &shown,
                    Some(&importer),
                    &mut sources,
                )?;
                check_text(&shown, &text, import.format, &mut sources)?;
                ids.push(add(cache, &normalized, import.format, &text));
                out.push(ReadSource {
                    path: normalized,
                    format: import.format,
                    text,
                });
                queue.push_back(out.len() - 1);
                break;
            }
        }
    }
    Ok(out)
}

/// Adds the source `text` read from `path` to `cache`, under the name
/// Nickel looks it up by.
fn add(
    cache: &mut CacheHub,
    path: &Path,
    format: InputFormat,
    text: &str,
) -> nickel_lang_core::files::FileId {
    cache.sources.add_string(
        SourcePath::Path(path.to_path_buf(), format),
        text.to_owned(),
    )
}

/// Reads `path` (shown as `shown`, written `written`) if it is a regular
/// file of bounded size holding UTF-8 text.
fn read_file(
    path: &Path,
    written: &Path,
    shown: &str,
    importer: Option<&Importer>,
    sources: &mut Sources,
) -> Result<String, Box<Refusal>> {
    let fail = |d: Diagnostic, sources: &mut Sources| {
        let d = match importer {
            Some(importer) => located(d, importer, sources),
            None => d,
        };
        refuse(d, std::mem::take(sources))
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(unreadable(shown, &e), sources))?;
    if !meta.is_file() {
        let what = file_kind(&meta);
        return Err(fail(
            Diagnostic::error(
                codes::NOT_REGULAR_FILE,
                format!("`{}` is {what}, not a regular file", written.display()),
            )
            .hint("a spec and its imports must be ordinary files; copy the content into one"),
            sources,
        ));
    }
    if meta.len() > MAX_SOURCE_BYTES {
        return Err(fail(too_large(shown), sources));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(unreadable(shown, &e), sources))?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(fail(too_large(shown), sources));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            let source = Source::new(shown, text);
            let mut d = Diagnostic::error(
                codes::NOT_UTF8,
                format!("`{shown}` is not UTF-8 text (byte {valid} is not)"),
            )
            .hint("a spec is text: save it as UTF-8, and import binary files nowhere");
            d.location = Some(source.location(valid, valid));
            sources.add(source);
            Err(refuse(d, std::mem::take(sources)))
        }
    }
}

/// Runs the text checks of `format` on `text`, named `name`.
fn check_text(
    name: &str,
    text: &str,
    format: InputFormat,
    sources: &mut Sources,
) -> Result<(), Box<Refusal>> {
    shape::data(format, text).map_err(|finding| refuse_at(name, text, finding, sources))
}

fn refuse_at(
    name: &str,
    text: &str,
    finding: shape::Finding,
    sources: &mut Sources,
) -> Box<Refusal> {
    let source = Source::new(name, text);
    let mut d = Diagnostic::error(finding.code, finding.message).hint(finding.hint);
    d.location = Some(source.location(finding.start, finding.end));
    sources.add(source);
    refuse(d, std::mem::take(sources))
}

fn refuse(diagnostic: Diagnostic, sources: Sources) -> Box<Refusal> {
    Box::new(Refusal {
        diagnostic,
        sources,
    })
}

/// `d` located at the import that asked for the file.
fn located(mut d: Diagnostic, importer: &Importer, sources: &mut Sources) -> Diagnostic {
    let source = Source::new(importer.name, importer.text);
    d.location = Some(source.location(importer.start, importer.end));
    sources.add(source);
    d
}

fn unreadable(shown: &str, e: &std::io::Error) -> Diagnostic {
    Diagnostic::error(codes::UNREADABLE, format!("cannot read `{shown}`: {e}"))
        .hint("check that the file exists and can be read")
}

fn too_large(shown: &str) -> Diagnostic {
    Diagnostic::error(
        codes::SOURCE_TOO_LARGE,
        format!(
            "`{shown}` is larger than {} MiB, more than any spec needs",
            MAX_SOURCE_BYTES >> 20
        ),
    )
    .hint("a spec and its imports are small text files; split out or drop the large content")
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec and the Nickel files it imports are parsed into the cache
    /// Nickel evaluates from, so Nickel does not parse them again.
    #[test]
    fn nickel_sources_are_parsed_once_into_the_evaluation_cache() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("spec.ncl"),
            r#"{ users = import "users.ncl", extra = import "extra.json" }"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("users.ncl"), r#"[{ name = "alice" }]"#).unwrap();
        std::fs::write(dir.path().join("extra.json"), r#"{"a": 1}"#).unwrap();
        let spec = normalize_path(dir.path().join("spec.ncl")).unwrap();
        let mut cache = CacheHub::new();
        let read = read_all(&spec, "spec.ncl", &Limits::default(), &mut cache).unwrap();
        assert_eq!(read.len(), 3);
        for source in &read {
            let id = cache
                .sources
                .id_of(&SourcePath::Path(source.path.clone(), source.format))
                .expect("every source read is in the cache");
            assert_eq!(cache.sources.source(id), source.text);
            // Only Nickel sources have an AST; the JSON file is Nickel's to convert.
            assert_eq!(
                cache.asts.contains(id),
                source.format == InputFormat::Nickel,
                "{}",
                source.path.display()
            );
        }
    }

    #[test]
    fn a_nickel_source_that_does_not_parse_is_left_to_nickel() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("spec.ncl"), "{ a = ").unwrap();
        let spec = normalize_path(dir.path().join("spec.ncl")).unwrap();
        let mut cache = CacheHub::new();
        let read = read_all(&spec, "spec.ncl", &Limits::default(), &mut cache).unwrap();
        assert_eq!(read.len(), 1);
    }
}
