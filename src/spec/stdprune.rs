//! Nickel's `std` cut down to the entries an evaluation can reach.
//!
//! Nickel parses and compiles the whole standard library for every
//! evaluation, and a check uses a few dozen of its 170 functions. Every entry
//! (`std.array.map`, `std.is_record`, …) no source names is blanked to spaces,
//! and so is the documentation of those kept, so the rest keeps its bytes,
//! lines and columns.
//!
//! What an evaluation can reach is found from the text of every Nickel
//! source it evaluates: each `std.X` or `std.X.Y`, and from each entry kept,
//! the entries its own text names (siblings by their bare name, other
//! modules as `X.Y`), until nothing new is named. Any other use of `std`
//! (`std` as a value, `std."x"`, an entry `std` does not have) keeps the
//! whole library: only a field access by a static name can reach into
//! `std`, so a value computed from the cut library is the one computed from
//! the whole. The scan reads comments and strings as code: it may keep more,
//! never less.
//!
//! Where `std`'s entries and documentation are, and what each entry names,
//! depend only on the pinned nickel-lang-core: they are read from
//! [`super::std_outline`], made from Nickel's file by this module's tests
//! (which fail when it no longer matches), so a check does not work them
//! out again each time.

use nickel_lang_core::stdlib::StdlibModule;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// One entry of `std`: a field of the top-level record, or of one of its
/// modules (`array`, `string`, …).
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    name: &'static str,
    /// The module it belongs to (an index into `Outline::entries`).
    module: Option<usize>,
    /// Whether it is a module: a record literal of entries.
    is_module: bool,
    /// Its bytes in `std`, up to the next entry.
    start: usize,
    end: usize,
    /// The entries its text names (`None`: it reaches into `std` in a way
    /// the scan cannot follow). A module's own entries are not listed.
    names: Option<Vec<usize>>,
}

/// The entries of `std` and where its documentation is.
#[derive(Debug)]
struct Outline {
    /// Nickel's `std`, as it ships.
    text: &'static str,
    /// The byte ranges of each `| doc m%"…"%` annotation.
    docs: Vec<(usize, usize)>,
    entries: Vec<Entry>,
    /// The entries the `internals` module names.
    internals: Vec<usize>,
    /// The entries of each name.
    by_name: HashMap<&'static str, Vec<usize>>,
}

/// The outline of the `std` linked in, from [`super::std_outline`]; `None`
/// if that was made from another text (a nickel-lang-core other than the
/// pinned one): then nothing is cut or blanked.
fn outline() -> Option<&'static Outline> {
    static OUTLINE: OnceLock<Option<Outline>> = OnceLock::new();
    OUTLINE
        .get_or_init(|| {
            use super::std_outline as stored;
            let text = StdlibModule::Std.content();
            if text.len() != stored::LEN {
                return None;
            }
            let index = |i: u16| usize::from(i);
            let entries = stored::ENTRIES
                .iter()
                .map(|&(name, module, is_module, start, end, names)| Entry {
                    name,
                    module: (module != stored::NO_MODULE).then(|| index(module)),
                    is_module,
                    start: start as usize,
                    end: end as usize,
                    names: names.map(|n| n.iter().copied().map(index).collect()),
                })
                .collect();
            let docs = stored::DOCS
                .iter()
                .map(|&(start, end)| (start as usize, end as usize))
                .collect();
            let internals = stored::INTERNALS.iter().copied().map(index).collect();
            let outline = Outline::new(text, docs, entries, internals);
            outline.fits(text).then_some(outline)
        })
        .as_ref()
}

impl Outline {
    /// Whether `text` has each entry's name and each documentation where
    /// this outline says.
    fn fits(&self, text: &str) -> bool {
        let entries = self.entries.iter().all(|e| {
            let indent = if e.module.is_some() { 4 } else { 2 };
            text.get(e.start + indent..e.end)
                .is_some_and(|t| ident_at(t) == e.name)
        });
        let docs = self.docs.iter().all(|&(start, end)| {
            text.get(start..end)
                .is_some_and(|t| t.starts_with("| doc m%") && t.ends_with('%'))
        });
        entries && docs
    }

    fn new(
        text: &'static str,
        docs: Vec<(usize, usize)>,
        entries: Vec<Entry>,
        internals: Vec<usize>,
    ) -> Self {
        let mut by_name: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            by_name.entry(e.name).or_default().push(i);
        }
        Outline {
            text,
            docs,
            entries,
            internals,
            by_name,
        }
    }
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'\''
}

fn starts_ident(text: &str) -> bool {
    text.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
}

/// The identifier at the start of `text` (Nickel's: letters, digits, `_`, `-`, `'`).
fn ident_at(text: &str) -> &str {
    let len = text.bytes().take_while(|b| is_ident_char(*b)).count();
    &text[..len]
}

/// The identifier after a `.` at `at` in `text`, if any.
fn field_at(text: &str, at: usize) -> Option<&str> {
    (text.as_bytes().get(at) == Some(&b'.'))
        .then(|| ident_at(&text[at + 1..]))
        .filter(|f| starts_ident(f))
}

/// `std` reaches outside what a static scan can follow.
#[derive(Debug)]
struct Whole;

impl Outline {
    fn top(&self, name: &str) -> Option<usize> {
        self.find(name, None)
    }

    fn inner(&self, module: usize, name: &str) -> Option<usize> {
        self.find(name, Some(module))
    }

    fn find(&self, name: &str, module: Option<usize>) -> Option<usize> {
        let candidates = self.by_name.get(name)?;
        candidates
            .iter()
            .copied()
            .find(|i| self.entries[*i].module == module)
    }

    /// The entry named by the `std` that ends at `after` in `text`:
    /// `std.X` or `std.X.Y`.
    fn std_access(&self, text: &str, after: usize) -> Result<usize, Whole> {
        let x = field_at(text, after).ok_or(Whole)?;
        let top = self.top(x).ok_or(Whole)?;
        match field_at(text, after + 1 + x.len()) {
            Some(y) if self.entries[top].is_module => self.inner(top, y).ok_or(Whole),
            _ => Ok(top),
        }
    }

    /// The entries a source outside `std` names: each identifier `std`,
    /// which must be followed by a field of it.
    fn named_outside(&self, text: &str, out: &mut Vec<usize>) -> Result<(), Whole> {
        let bytes = text.as_bytes();
        for at in memchr::memmem::find_iter(bytes, b"std") {
            let boundary = at == 0 || !is_ident_char(bytes[at - 1]);
            if boundary && ident_at(&text[at..]) == "std" {
                out.push(self.std_access(text, at + 3)?);
            }
        }
        Ok(())
    }

    /// Which entries to keep, from the sources outside `std`.
    fn reached<'a>(
        &self,
        sources: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashSet<usize>, Whole> {
        let mut work = self.internals.clone();
        for text in sources {
            self.named_outside(text, &mut work)?;
        }
        let mut kept = HashSet::new();
        while let Some(entry) = work.pop() {
            if !kept.insert(entry) {
                continue;
            }
            let e = &self.entries[entry];
            if e.is_module {
                // A whole module: every entry of it.
                work.extend(
                    (0..self.entries.len()).filter(|i| self.entries[*i].module == Some(entry)),
                );
                continue;
            }
            work.extend(e.names.as_ref().ok_or(Whole)?);
        }
        Ok(kept)
    }

    /// `std` with its documentation and every entry not `kept` blanked.
    fn cut(&self, kept: &HashSet<usize>) -> String {
        let mut bytes = self.text.as_bytes().to_vec();
        let mut blank = |start: usize, end: usize| {
            let range = &mut bytes[start..end];
            let mut from = 0;
            while let Some(at) = memchr::memchr(b'\n', &range[from..]) {
                range[from..from + at].fill(b' ');
                from += at + 1;
            }
            range[from..].fill(b' ');
        };
        for &(start, end) in &self.docs {
            blank(start, end);
        }
        for (i, e) in self.entries.iter().enumerate() {
            let used = kept.contains(&i)
                || (e.is_module
                    && self
                        .entries
                        .iter()
                        .enumerate()
                        .any(|(j, inner)| inner.module == Some(i) && kept.contains(&j)));
            if !used {
                blank(e.start, e.end);
            }
        }
        // Only ASCII bytes became spaces, each a whole character or a
        // whole run of them; the UTF-8 text stays valid.
        String::from_utf8(bytes).unwrap_or_else(|_| self.text.to_owned())
    }

    /// `std` with its documentation blanked and every entry kept.
    fn whole(&self) -> String {
        self.cut(&(0..self.entries.len()).collect())
    }
}

/// `std` cut to what `sources` (the text of every Nickel source evaluated
/// besides the standard library) can reach, or `None` when they may reach
/// anything (see the module's documentation) or the outline is not this
/// `std`'s.
pub fn std_for<'a>(sources: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let outline = outline()?;
    let kept = outline.reached(sources).ok()?;
    Some(outline.cut(&kept))
}

/// The whole `std` with its documentation blanked (as it ships if the
/// outline is not this `std`'s).
pub fn std_without_docs() -> String {
    match outline() {
        Some(outline) => outline.whole(),
        None => StdlibModule::Std.content().to_owned(),
    }
}

#[cfg(test)]
#[path = "stdprune_outline.rs"]
mod made;

#[cfg(test)]
#[path = "stdprune_tests.rs"]
mod tests;
