//! Nickel evaluation: the user's spec merged with the bundled modules, the
//! option modules applied as a contract, exported as JSON together with the
//! source position of every value.
//!
//! This is the only module that talks to `nickel-lang-core`, whose API changes
//! with every release (the crate is pinned exactly in `Cargo.toml`).

use super::bundle;
use super::docs::DocIndex;
use super::imports::ReadSource;
use super::spans::SpanMap;
use crate::codes;
use crate::diagnostic::{Diagnostic, Segment, SpecPath};
use crate::sources::{Source, Sources};
use nickel_lang_core::cache::{CacheHub, InputFormat, SourcePath};
use nickel_lang_core::error::{
    Error, EvalErrorKind, ImportErrorKind, IntoDiagnostics, NullReporter,
};
use nickel_lang_core::eval::cache::CacheImpl;
use nickel_lang_core::eval::value::{Container, NickelValue, ValueContentRef};
use nickel_lang_core::eval::{VirtualMachine, VmContext};
use nickel_lang_core::files::{FileId, Files};
use nickel_lang_core::position::{PosTable, RawSpan, TermPos};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The result of evaluating a spec: its JSON export and where each value came from.
#[derive(Debug)]
pub struct Evaluation {
    /// The spec, fully evaluated, with every default filled in.
    pub value: serde_json::Value,
    /// Where each value (and each key) of `value` was written.
    pub spans: SpanMap,
    /// The sources the spans point into.
    pub sources: Sources,
}

/// A failed evaluation: the diagnostics that explain it.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong (Nickel stops at the first error it meets).
    pub diagnostics: Vec<Diagnostic>,
    /// The sources the diagnostics point into.
    pub sources: Sources,
}

/// What an entry point evaluates.
#[derive(Clone, PartialEq, Eq)]
enum Target {
    /// The spec with host defaults merged and the option modules applied as a contract.
    Checked,
    /// Only host defaults merged: used to locate values when the checked run fails.
    Raw,
    /// One value of the checked spec: only the contracts on its way are checked.
    Part(SpecPath),
    /// `{ checked, raw }`: both of the above from one evaluation.
    Both,
}

/// The value of field `name` of record `value`, if it has one.
fn field<'a>(value: &'a NickelValue, name: &str) -> Option<&'a NickelValue> {
    match value.content_ref() {
        ValueContentRef::Record(Container::Alloc(record)) => record
            .fields
            .iter()
            .find(|(id, _)| id.label() == name)
            .and_then(|(_, f)| f.value.as_ref()),
        _ => None,
    }
}

/// Most parts evaluated separately after a failure, and most diagnostics kept.
const MAX_PARTS: usize = 500;
const MAX_DIAGNOSTICS: usize = 50;

/// Evaluates the spec at `path` (`.ncl`, `.toml` or `.json`, normalized)
/// against the bundled modules. `read` holds the spec and every file it
/// imports (see [`super::imports`]); Nickel reads nothing else. `cache`
/// holds the same sources, the Nickel ones already parsed.
pub fn evaluate(
    path: &Path,
    display_name: &str,
    read: &[ReadSource],
    cache: CacheHub,
) -> Result<Evaluation, Failure> {
    if let Some(evaluation) = evaluate_on_cut_std(path, display_name, read, cache) {
        return Ok(evaluation);
    }
    // Something failed: evaluate again step by step, with the whole
    // standard library, for the diagnostics.
    let mut session = Session::new(path, display_name, read);
    match session.run(&Target::Checked) {
        Ok(value) => {
            let mut evaluation = session.export(&value, None);
            // Contracts rebuild some values (enum tags from TOML strings,
            // merged defaults), losing where the user wrote them; the spec
            // before contracts still knows.
            if let Ok(raw) = session.run(&Target::Raw) {
                let written = session.export(&raw, None);
                evaluation.spans.prefer(written.spans);
                for source in written.sources.iter() {
                    evaluation.sources.add(source.clone());
                }
            }
            Ok(evaluation)
        }
        Err(error) => {
            // Evaluate once more without the contract to learn where each value
            // sits, so that the error can name its path in the spec.
            let mut raw = Session::new(path, display_name, read);
            let located = raw
                .run(&Target::Raw)
                .ok()
                .map(|value| raw.export(&value, None));
            Err(session.failure(error, located.as_ref()))
        }
    }
}

/// The spec evaluated once, with only the part of the standard library its
/// sources can reach (see [`super::stdprune`]): the checked spec and the
/// places values were written, or `None` if anything failed.
fn evaluate_on_cut_std(
    path: &Path,
    display_name: &str,
    read: &[ReadSource],
    mut cache: CacheHub,
) -> Option<Evaluation> {
    let entry = entry_point(path, &Target::Both);
    let nickel_sources = read.iter().filter(|s| s.format == InputFormat::Nickel);
    super::stdlib::cut_std(
        &mut cache,
        nickel_sources
            .map(|s| s.text.as_str())
            .chain(bundle::FILES.iter().map(|(_, text)| *text))
            .chain(std::iter::once(entry.as_str())),
    );
    let mut session = Session::with_cache(path, display_name, cache);
    // One evaluation gives both the checked spec and the spec as written
    // (which shares every value already evaluated): contracts rebuild some
    // values (enum tags from TOML strings, merged defaults), losing where
    // the user wrote them; the spec before contracts still knows.
    let both = session.run(&Target::Both).ok()?;
    let (checked, raw) = (field(&both, "checked")?, field(&both, "raw")?);
    let (spans, sources) = session.spans(raw, None);
    let mut evaluation = session.export(checked, Some(&spans));
    evaluation.spans.prefer(spans);
    for source in sources.iter() {
        evaluation.sources.add(source.clone());
    }
    Some(evaluation)
}

/// Walks an evaluated value and records where each value and key was
/// written. The name of each file is worked out once, and the path grows
/// and shrinks in place: a spec with 10,000 devices has 100,000 values.
struct SpanCollector<'a> {
    session: &'a Session,
    spans: SpanMap,
    sources: Sources,
    /// Each file's name (`None`: not one to point at) and whether it is bundled.
    files: HashMap<FileId, Option<(Arc<str>, bool)>>,
    path: SpecPath,
    /// Places already known in the user's files: not recorded again.
    known: Option<&'a SpanMap>,
}

impl SpanCollector<'_> {
    fn walk(&mut self, value: &NickelValue) {
        let known = self.known.is_some_and(|k| k.written_value(&self.path));
        if !known && let Some(span) = self.span_of(value.pos(&self.session.ctx.pos_table)) {
            self.spans.insert_value(self.path.clone(), span);
        }
        match value.content_ref() {
            ValueContentRef::Record(Container::Alloc(record)) => {
                for (id, field) in &record.fields {
                    let Some(field_value) = &field.value else {
                        continue;
                    };
                    if field.metadata.not_exported() {
                        continue;
                    }
                    self.path.0.push(Segment::Key(id.label().to_owned()));
                    let known = self.known.is_some_and(|k| k.written_key(&self.path));
                    if !known && let Some(span) = self.span_of(id.pos) {
                        self.spans.insert_key(self.path.clone(), span);
                    }
                    self.walk(field_value);
                    self.path.0.pop();
                }
            }
            ValueContentRef::Array(Container::Alloc(array)) => {
                for (i, element) in array.array.iter().enumerate() {
                    self.path.0.push(Segment::Index(i));
                    self.walk(element);
                    self.path.0.pop();
                }
            }
            _ => {}
        }
    }

    /// The span of `pos`, registering its source.
    fn span_of(&mut self, pos: TermPos) -> Option<super::spans::Span> {
        let raw = match pos {
            TermPos::Original(raw) | TermPos::Inherited(raw) => raw,
            TermPos::None => return None,
        };
        let session = self.session;
        let sources = &mut self.sources;
        let (file, bundled) = self
            .files
            .entry(raw.src_id)
            .or_insert_with(|| {
                let bundled =
                    bundle::display_name(&session.files().name(raw.src_id).to_string_lossy())
                        .is_some();
                let name = session.register(raw.src_id, sources)?;
                Some((Arc::from(name), bundled))
            })
            .clone()?;
        Some(super::spans::Span {
            file,
            start: raw.start.to_usize(),
            end: raw.end.to_usize(),
            bundled,
        })
    }
}

/// Every path of `value`, parents before children.
fn all_paths(value: &serde_json::Value, path: &SpecPath, out: &mut Vec<SpecPath>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                let child_path = path.key(key.as_str());
                out.push(child_path.clone());
                all_paths(child, &child_path, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let child_path = path.index(i);
                out.push(child_path.clone());
                all_paths(child, &child_path, out);
            }
        }
        _ => {}
    }
}

/// One Nickel virtual machine with the bundled files registered.
struct Session {
    ctx: VmContext<CacheHub, CacheImpl>,
    entries: usize,
    display_name: String,
    spec_path: PathBuf,
}

impl Session {
    fn new(path: &Path, display_name: &str, read: &[ReadSource]) -> Self {
        let mut cache = super::stdlib::new_cache();
        for source in read {
            cache.sources.add_string(
                SourcePath::Path(source.path.clone(), source.format),
                source.text.clone(),
            );
        }
        Self::with_cache(path, display_name, cache)
    }

    /// A session on `cache`, which holds the spec and the files it imports.
    fn with_cache(path: &Path, display_name: &str, mut cache: CacheHub) -> Self {
        for (import_path, text) in bundle::FILES {
            let virtual_path = Path::new(bundle::VIRTUAL_ROOT).join(import_path);
            cache.sources.add_string(
                SourcePath::Path(virtual_path, InputFormat::Nickel),
                (*text).to_owned(),
            );
        }
        cache
            .sources
            .add_import_paths(std::iter::once(PathBuf::from(bundle::VIRTUAL_ROOT)));
        let spec_path = path.to_path_buf();
        let ctx = VmContext::new(cache, std::io::sink(), NullReporter {});
        Self {
            ctx,
            entries: 0,
            display_name: display_name.to_owned(),
            spec_path,
        }
    }

    /// Evaluates `target` fully. One session can evaluate many targets; the
    /// standard library and the imported files are prepared once.
    fn run(&mut self, target: &Target) -> Result<NickelValue, Error> {
        self.entries += 1;
        let entry = entry_point(&self.spec_path, target);
        let main = self.ctx.import_resolver.sources.add_string(
            SourcePath::Generated(format!("privai entry point {}", self.entries)),
            entry,
        );
        let prepared = self.ctx.prepare_eval_only(main)?;
        let value = VirtualMachine::new(&mut self.ctx).eval_full_for_export(prepared)?;
        Ok(value)
    }

    /// The JSON export of `value` and where its values were written; with
    /// `known`, only the places `known` does not already have from the
    /// user's files.
    fn export(&self, value: &NickelValue, known: Option<&SpanMap>) -> Evaluation {
        let json = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        let (spans, sources) = self.spans(value, known);
        Evaluation {
            value: json,
            spans,
            sources,
        }
    }

    /// Where each value (and key) of `value` was written (see [`Self::export`]).
    fn spans(&self, value: &NickelValue, known: Option<&SpanMap>) -> (SpanMap, Sources) {
        let mut collector = SpanCollector {
            session: self,
            spans: SpanMap::default(),
            sources: Sources::default(),
            files: HashMap::new(),
            path: SpecPath::root(),
            known,
        };
        collector.walk(value);
        (collector.spans, collector.sources)
    }

    fn files(&self) -> &Files {
        self.ctx.import_resolver.sources.files()
    }

    /// Adds the file `id` to `sources` under the name users know it by.
    fn register(&self, id: FileId, sources: &mut Sources) -> Option<String> {
        self.register_in(self.files(), id, sources)
    }

    /// Like [`Self::register`], with the file table `files` (which may hold
    /// snippets that Nickel added while rendering an error).
    fn register_in(&self, files: &Files, id: FileId, sources: &mut Sources) -> Option<String> {
        // `Files::name` panics on an unknown id; the trait method reports it.
        codespan_reporting::files::Files::name(files, id).ok()?;
        let raw_name = files.name(id).to_string_lossy().into_owned();
        let name = if let Some(bundled) = bundle::display_name(&raw_name) {
            bundled.to_owned()
        } else if Path::new(&raw_name) == self.spec_path {
            self.display_name.clone()
        } else if raw_name.starts_with('<') || raw_name.starts_with("privai entry point") {
            return None;
        } else {
            raw_name
        };
        if sources.get(&name).is_none() {
            sources.add(Source::new(name.clone(), files.source(id)));
        }
        Some(name)
    }

    fn location_of(
        &self,
        files: &Files,
        raw: RawSpan,
        sources: &mut Sources,
    ) -> Option<crate::diagnostic::Location> {
        let name = self.register_in(files, raw.src_id, sources)?;
        sources
            .get(&name)
            .map(|s| s.location(raw.start.to_usize(), raw.end.to_usize()))
    }

    fn pos_to_raw(&self, pos: TermPos) -> Option<RawSpan> {
        match pos {
            TermPos::Original(raw) | TermPos::Inherited(raw) => Some(raw),
            TermPos::None => None,
        }
    }

    /// Diagnoses `error`, then — Nickel stops at the first broken contract —
    /// evaluates each value of the spec on its own to find the others.
    fn failure(mut self, error: Error, located: Option<&Evaluation>) -> Failure {
        let mut sources = Sources::default();
        let per_value = matches!(error, Error::EvalError(_));
        let mut diagnostics = vec![self.diagnose(error, located, &mut sources)];
        if let (true, Some(located)) = (per_value, located) {
            let mut parts = Vec::new();
            all_paths(&located.value, &SpecPath::root(), &mut parts);
            for part in parts.into_iter().take(MAX_PARTS) {
                if diagnostics.len() >= MAX_DIAGNOSTICS {
                    break;
                }
                if let Err(error) = self.run(&Target::Part(part)) {
                    let d = self.diagnose(error, Some(located), &mut sources);
                    let same = |o: &Diagnostic| {
                        o.code == d.code
                            && o.location.as_ref().map(|l| (&l.file, l.start))
                                == d.location.as_ref().map(|l| (&l.file, l.start))
                    };
                    if !diagnostics.iter().any(same) {
                        diagnostics.push(d);
                    }
                }
            }
        }
        Failure {
            diagnostics,
            sources,
        }
    }

    /// Turns a Nickel error into one privai diagnostic.
    fn diagnose(
        &mut self,
        error: Error,
        located: Option<&Evaluation>,
        sources: &mut Sources,
    ) -> Diagnostic {
        let empty = SpanMap::default();
        let raw_spans = located.map_or(&empty, |e| &e.spans);
        let table: PosTable = self.ctx.pos_table.clone();
        let kind = classify(&error);
        let mut files = self.files().clone();
        let rendered = error.clone().into_diagnostics(&mut files);
        let first = rendered.first();
        let message = first
            .map(|d| d.message.clone())
            .unwrap_or_else(|| "the spec could not be evaluated".into());
        let mut diagnostic = match kind {
            ErrorKind::Syntax => Diagnostic::error(codes::SYNTAX, message)
                .hint("fix the syntax at the marked place; `nickel format` can help with Nickel files"),
            ErrorKind::Import => Diagnostic::error(codes::IMPORT, message).hint(
                "check the path; bundled files are imported as `privai/profiles/NAME.ncl`",
            ),
            ErrorKind::UnknownField(ref field) => {
                Diagnostic::error(codes::UNKNOWN_OPTION, format!("unknown option `{field}`"))
            }
            ErrorKind::Contract => Diagnostic::error(codes::CONTRACT, message),
            ErrorKind::Missing(ref field) => Diagnostic::error(
                codes::MISSING,
                format!("required option `{field}` has no value"),
            ),
            ErrorKind::Conflict => Diagnostic::error(codes::CONFLICT, message).hint(
                "two definitions of the same option at the same priority: remove one, or mark the winner `| force`",
            ),
            ErrorKind::Other => Diagnostic::error(codes::EVALUATION, message),
        };

        // Where: the primary label of Nickel's own diagnostic.
        let primary = first.and_then(|d| {
            d.labels
                .iter()
                .find(|l| l.style == codespan_reporting::diagnostic::LabelStyle::Primary)
                .or(d.labels.first())
                .map(|l| (l.file_id, l.range.clone()))
        });
        if let Some((file_id, range)) = primary {
            let raw = RawSpan {
                src_id: file_id,
                start: (range.start as u32).into(),
                end: (range.end as u32).into(),
            };
            diagnostic.location = self.location_of(&files, raw, sources);
        }
        // Other places Nickel points at (the second of two conflicting
        // definitions, the declaration of a broken contract).
        for d in &rendered {
            for label in &d.labels {
                let raw = RawSpan {
                    src_id: label.file_id,
                    start: (label.range.start as u32).into(),
                    end: (label.range.end as u32).into(),
                };
                if let Some(location) = self.location_of(&files, raw, sources)
                    && diagnostic.location.as_ref().is_none_or(|primary| {
                        primary.file != location.file || primary.start != location.start
                    })
                    && !diagnostic.related.iter().any(|(l, _)| *l == location)
                {
                    let message = if label.message.is_empty() {
                        "see also".to_owned()
                    } else {
                        label.message.clone()
                    };
                    diagnostic.related.push((location, message));
                }
            }
        }
        // The notes of Nickel's diagnostics (e.g. the contract's own message).
        for d in &rendered {
            for note in &d.notes {
                if !diagnostic.notes.contains(note) {
                    diagnostic.notes.push(note.clone());
                }
            }
        }

        match (&kind, &error) {
            (ErrorKind::UnknownField(field), _) => {
                // Nickel blames the record; point at the misspelt key instead.
                if let Some((path, span)) = raw_spans.find_key(field) {
                    diagnostic.path = Some(path.clone());
                    if let Some(source) = located.and_then(|e| e.sources.get(&span.file)) {
                        diagnostic.location = Some(source.location(span.start, span.end));
                        sources.add(source.clone());
                    }
                    let siblings =
                        DocIndex::bundled().expected_fields(&raw_spans.children(&path.parent()));
                    // Nickel's notes address contract authors, not spec authors.
                    diagnostic.notes.clear();
                    let everywhere = DocIndex::bundled().expected_fields(&[]);
                    let best = super::suggest::closest(field, &siblings)
                        .or_else(|| super::suggest::closest(field, &everywhere));
                    if let Some(best) = best {
                        diagnostic.hint = Some(format!("did you mean `{best}`?"));
                    } else if !siblings.is_empty() {
                        diagnostic.hint = Some(format!(
                            "the options here are: {}",
                            siblings
                                .iter()
                                .map(|s| format!("`{s}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                }
            }
            (ErrorKind::Missing(field), Error::EvalError(data)) => {
                if let EvalErrorKind::MissingFieldDef {
                    metadata,
                    pos_record,
                    ..
                } = &data.error
                {
                    // Point at the record that lacks the option, not at its declaration.
                    if let Some(record) = self
                        .pos_to_raw(table.get(*pos_record))
                        .and_then(|raw| self.location_of(&files, raw, sources))
                        .filter(|l| {
                            bundle::display_name(&l.file).is_none()
                                && !l.file.starts_with("privai/")
                        })
                    {
                        diagnostic.path = raw_spans
                            .path_at(&record.file, record.start)
                            .map(|p| p.key(field.as_str()));
                        if let Some(declared) = diagnostic.location.replace(record) {
                            diagnostic.related.retain(|(l, _)| *l != declared);
                            diagnostic.related.push((declared, "declared here".into()));
                        }
                    }
                    if let Some(doc) = &metadata.doc {
                        diagnostic.notes.insert(0, format!("`{field}`: {doc}"));
                    }
                }
                diagnostic.hint = Some(format!("set `{field}` in the spec"));
            }
            (ErrorKind::Contract, Error::EvalError(data)) => {
                if let EvalErrorKind::BlameError {
                    label,
                    evaluated_arg,
                } = &data.error
                {
                    diagnostic.message = contract_message(&diagnostic.message);
                    let contract = self.pos_to_raw(table.get(label.span));
                    let declared = contract.and_then(|raw| {
                        let name = self.register(raw.src_id, sources)?;
                        let text = sources
                            .get(&name)?
                            .text
                            .get(raw.start.to_usize()..raw.end.to_usize())?;
                        let entry = DocIndex::bundled().find(
                            &name,
                            raw.start.to_usize(),
                            raw.end.to_usize(),
                        )?;
                        Some((entry, text.to_owned()))
                    });
                    if let Some((entry, contract_text)) = declared {
                        diagnostic
                            .notes
                            .insert(0, format!("`{}`: {}", entry.name, entry.doc));
                        let given = evaluated_arg
                            .as_ref()
                            .and_then(|v| v.as_string().map(|s| s.to_string()))
                            .or_else(|| {
                                evaluated_arg
                                    .as_ref()
                                    .and_then(|v| v.as_enum_tag())
                                    .map(|t| t.label().to_owned())
                            });
                        diagnostic.hint = Some(match enum_tags(&contract_text) {
                            Some(tags) => enum_hint(&tags, given.as_deref()),
                            None => format!("give `{}` a value of the documented form", entry.name),
                        });
                    }
                }
            }
            _ => {}
        }
        if diagnostic.path.is_none()
            && let Some(location) = &diagnostic.location
        {
            diagnostic.path = raw_spans.path_at(&location.file, location.start);
        }
        diagnostic
    }
}

/// What kind of problem a Nickel error is, for its privai code.
#[derive(Debug, Clone, PartialEq)]
enum ErrorKind {
    Syntax,
    Import,
    UnknownField(String),
    Contract,
    Missing(String),
    Conflict,
    Other,
}

fn classify(error: &Error) -> ErrorKind {
    match error {
        Error::ParseErrors(_) => ErrorKind::Syntax,
        Error::ImportError(kind) => match **kind {
            ImportErrorKind::ParseErrors(..) => ErrorKind::Syntax,
            _ => ErrorKind::Import,
        },
        Error::EvalError(data) => match &data.error {
            EvalErrorKind::BlameError { label, .. } => {
                let extra = label.diagnostics.iter().find_map(|d| {
                    d.message
                        .as_deref()
                        .and_then(|m| {
                            m.strip_prefix("extra field `")
                                .or_else(|| m.strip_prefix("extra fields `"))
                        })
                        .and_then(|m| m.split('`').next())
                        .map(str::to_owned)
                });
                match extra {
                    Some(field) => ErrorKind::UnknownField(field),
                    None => ErrorKind::Contract,
                }
            }
            EvalErrorKind::MissingFieldDef { id, .. } => ErrorKind::Missing(id.label().to_owned()),
            EvalErrorKind::MergeIncompatibleArgs { .. } => ErrorKind::Conflict,
            EvalErrorKind::ParseError(_) => ErrorKind::Syntax,
            _ => ErrorKind::Other,
        },
        Error::TypecheckError(_) => ErrorKind::Contract,
        _ => ErrorKind::Other,
    }
}

/// `contract broken by the value of `x`` plus the contract's own message on
/// further lines, as one line: `invalid value for `x`: <message>`.
fn contract_message(message: &str) -> String {
    let mut lines = message.lines().map(str::trim);
    let first = lines.next().unwrap_or_default();
    let rest: Vec<&str> = lines
        .filter(|l| !l.is_empty())
        .map(|l| match l {
            "tag not in the enum type" => "not one of the allowed values",
            other => other,
        })
        .collect();
    match first.strip_prefix("contract broken by the value of ") {
        Some(field) if !rest.is_empty() => format!("invalid value for {field}: {}", rest.join(" ")),
        Some(field) => format!("invalid value for {field}"),
        None => message.to_owned(),
    }
}

/// The tags of an enum contract written `[| 'a, 'b |]`, if `contract` is one.
fn enum_tags(contract: &str) -> Option<Vec<String>> {
    let inner = contract.split("[|").nth(1)?.split("|]").next()?;
    let tags: Vec<String> = inner
        .split(',')
        .map(|t| t.trim().trim_start_matches('\'').to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    (!tags.is_empty()).then_some(tags)
}

/// The hint for a value outside an enum: the allowed values, and the closest one.
fn enum_hint(tags: &[String], given: Option<&str>) -> String {
    let list = tags
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let closest = given.and_then(|g| super::suggest::closest(g, tags));
    match closest {
        Some(best) => format!(
            "did you mean `{best}`? The values are {list} (`'{best}` in Nickel, `\"{best}\"` in TOML)"
        ),
        None => format!(
            "use one of {list} (a tag such as `'{first}` in Nickel, a string in TOML)",
            first = tags[0]
        ),
    }
}

/// The generated Nickel program that evaluates a spec.
///
/// Hosts inherit each field of `host_defaults` they do not state themselves,
/// then (in [`Mode::Checked`]) the option modules are applied as a contract.
fn entry_point(spec: &Path, target: &Target) -> String {
    let spec = nickel_string(&spec.to_string_lossy());
    let checked = "(resolved | (import \"privai/modules/spec.ncl\"))".to_owned();
    let result = match target {
        Target::Checked => checked,
        Target::Raw => "resolved".to_owned(),
        Target::Both => format!("{{ checked = {checked}, raw = resolved }}"),
        Target::Part(path) => path.0.iter().fold(checked, |expr, segment| match segment {
            Segment::Key(key) => format!("({expr}).{}", nickel_string(key)),
            Segment::Index(i) => format!("(std.array.at {i} ({expr}))"),
        }),
    };
    format!(
        r#"let spec = import {spec} in
let with_defaults = fun defaults host =>
  host & (std.record.filter (fun name _ => !(std.record.has_field name host)) defaults) in
let resolved =
  if std.is_record spec
    && std.record.has_field "hosts" spec
    && std.is_array spec.hosts
    && std.record.has_field "host_defaults" spec
    && std.is_record spec.host_defaults
  then
    std.record.update "hosts"
      (std.array.map
        (fun host => if std.is_record host then with_defaults spec.host_defaults host else host)
        spec.hosts)
      spec
  else spec
in
{result}
"#
    )
}

/// `text` as a Nickel string literal.
fn nickel_string(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "\\%");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_evaluates_on_the_cut_std_the_first_time() {
        // A cut that left out something a spec needs would still give the
        // right answer (evaluation runs again with the whole `std`), only
        // slower: every example takes the fast path.
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut evaluated = 0;
        for entry in std::fs::read_dir(&examples).unwrap() {
            let path = nickel_lang_core::cache::normalize_path(entry.unwrap().path()).unwrap();
            let name = path.display().to_string();
            let mut cache = CacheHub::new();
            let read = super::super::imports::read_all(
                &path,
                &name,
                &super::super::Limits::default(),
                &mut cache,
            )
            .unwrap_or_else(|r| panic!("{name}: {:?}", r.diagnostic));
            let evaluation = evaluate_on_cut_std(&path, &name, &read, cache);
            let spec = evaluation.unwrap_or_else(|| panic!("{name} needed the whole std"));
            assert!(spec.value["hosts"].is_array(), "{name}");
            evaluated += 1;
        }
        assert!(evaluated >= 6, "{evaluated} examples");
    }
}
