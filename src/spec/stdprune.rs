//! Nickel's `std` cut down to the entries an evaluation can reach.
//!
//! Nickel parses and compiles the whole standard library for every
//! evaluation, and a check uses a few dozen of its 170 functions. Every entry
//! (`std.array.map`, `std.is_record`, …) no source names is blanked to spaces,
//! so the rest keeps its bytes, lines and columns.
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

use nickel_lang_core::stdlib::StdlibModule;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// One entry of `std`: a field of the top-level record, or of one of its
/// modules (`array`, `string`, …).
#[derive(Debug)]
struct Entry {
    name: String,
    /// The module it belongs to (an index into `Outline::entries`).
    module: Option<usize>,
    /// Whether it is a module: a record literal of entries.
    is_module: bool,
    /// Its bytes in the documentation-blanked `std`, up to the next entry.
    start: usize,
    end: usize,
}

/// The entries of the documentation-blanked `std`, found from its layout
/// (a top-level entry starts a line indented by 2, a module's entry a line
/// indented by 4; a test checks this outline against the file Nickel ships).
#[derive(Debug)]
struct Outline {
    text: &'static str,
    entries: Vec<Entry>,
    /// The entries of each name.
    by_name: HashMap<String, Vec<usize>>,
}

fn outline() -> &'static Outline {
    static OUTLINE: OnceLock<Outline> = OnceLock::new();
    OUTLINE.get_or_init(|| {
        let text: &'static str = super::stdlib::blanked_std();
        build_outline(text)
    })
}

fn build_outline(text: &'static str) -> Outline {
    let mut entries: Vec<Entry> = Vec::new();
    let mut module: Option<usize> = None;
    let mut top: Option<usize> = None;
    let mut inner: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_end();
        let close = |entries: &mut Vec<Entry>, at: &mut Option<usize>| {
            if let Some(i) = at.take() {
                entries[i].end = start;
            }
        };
        if let Some(rest) = trimmed.strip_prefix("  ")
            && starts_ident(rest)
        {
            close(&mut entries, &mut inner);
            close(&mut entries, &mut top);
            let name = ident_at(rest);
            let is_module = rest[name.len()..].trim() == "= {";
            entries.push(Entry {
                name: name.to_owned(),
                module: None,
                is_module,
                start,
                end: text.len(),
            });
            top = Some(entries.len() - 1);
            module = is_module.then_some(entries.len() - 1);
        } else if trimmed == "  }," || trimmed == "}" {
            close(&mut entries, &mut inner);
            if trimmed == "}" {
                close(&mut entries, &mut top);
            }
            module = None;
        } else if let Some(m) = module
            && let Some(rest) = trimmed.strip_prefix("    ")
            && starts_ident(rest)
        {
            close(&mut entries, &mut inner);
            entries.push(Entry {
                name: ident_at(rest).to_owned(),
                module: Some(m),
                is_module: false,
                start,
                end: text.len(),
            });
            inner = Some(entries.len() - 1);
        }
    }
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        by_name.entry(e.name.clone()).or_default().push(i);
    }
    Outline {
        text,
        entries,
        by_name,
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

    /// The entries `text` names. `within`: the module whose entry `text`
    /// is (or `Some(None)` for a top-level entry), whose siblings it names
    /// by their bare names; `None` for a source outside `std`.
    fn named(
        &self,
        text: &str,
        within: Option<Option<usize>>,
        out: &mut Vec<usize>,
    ) -> Result<(), Whole> {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            // A primitive operation, `%array/length%`: no name of `std`.
            if b == b'%' {
                let len = bytes[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'/')
                    .count();
                if len > 0 && bytes.get(i + 1 + len) == Some(&b'%') {
                    i += len + 2;
                    continue;
                }
            }
            // A comment line of `std` itself (the sources outside are read whole).
            if b == b'#'
                && within.is_some()
                && text[..i]
                    .rsplit('\n')
                    .next()
                    .is_some_and(|l| l.trim().is_empty())
            {
                i += text[i..].find('\n').unwrap_or(text.len() - i);
                continue;
            }
            let boundary = i == 0 || !is_ident_char(bytes[i - 1]);
            if !(boundary && (b.is_ascii_alphabetic() || b == b'_')) {
                i += 1;
                continue;
            }
            let name = ident_at(&text[i..]);
            let after = i + name.len();
            i = after;
            // The identifier after a `.` right after `at`, if any.
            let field = |at: usize| -> Option<&str> {
                (bytes.get(at) == Some(&b'.'))
                    .then(|| ident_at(&text[at + 1..]))
                    .filter(|f| starts_ident(f))
            };
            if name == "std" {
                let Some(x) = field(after) else {
                    return Err(Whole);
                };
                let top = self.top(x).ok_or(Whole)?;
                let y = field(after + 1 + x.len());
                match y {
                    Some(y) if self.entries[top].is_module => {
                        out.push(self.inner(top, y).ok_or(Whole)?)
                    }
                    _ => out.push(top),
                }
                continue;
            }
            let Some(module) = within else { continue };
            // A module named with one of its entries, e.g. `array.map`.
            if let Some(top) = self.top(name)
                && self.entries[top].is_module
                && let Some(y) = field(after)
                && let Some(entry) = self.inner(top, y)
            {
                out.push(entry);
                continue;
            }
            // A bare name: a sibling, or an entry of the top-level record.
            if let Some(m) = module
                && let Some(entry) = self.inner(m, name)
            {
                out.push(entry);
            }
            // A bare module name in `std` is a local variable (`fun array =>`):
            // `std` never hands one of its modules on as a value (a test
            // typechecks a cut `std`, which finds any such name unbound).
            if let Some(top) = self.top(name)
                && !self.entries[top].is_module
            {
                out.push(top);
            }
        }
        Ok(())
    }

    /// Which entries to keep, from the sources outside `std`.
    fn reached<'a>(
        &self,
        sources: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashSet<usize>, Whole> {
        let mut work = Vec::new();
        for text in sources {
            self.named(text, None, &mut work)?;
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
            let text = &self.text[e.start..e.end];
            self.named(text, Some(e.module), &mut work)?;
        }
        Ok(kept)
    }

    /// The documentation-blanked `std` with every entry not `kept` blanked.
    fn cut(&self, kept: &HashSet<usize>) -> String {
        let mut bytes = self.text.as_bytes().to_vec();
        let mut blank = |start: usize, end: usize| {
            for b in &mut bytes[start..end] {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
        };
        for (i, e) in self.entries.iter().enumerate() {
            let module_used = e.is_module
                && (kept.contains(&i)
                    || self
                        .entries
                        .iter()
                        .enumerate()
                        .any(|(j, inner)| inner.module == Some(i) && kept.contains(&j)));
            if e.is_module {
                if !module_used {
                    blank(e.start, e.end);
                }
            } else if !kept.contains(&i) {
                blank(e.start, e.end);
            }
        }
        // Only ASCII bytes became spaces, each a whole character or a
        // whole run of them; the UTF-8 text stays valid.
        String::from_utf8(bytes).unwrap_or_else(|_| self.text.to_owned())
    }
}

/// `std` cut to what `sources` (the text of every Nickel source evaluated
/// besides the standard library) can reach, or `None` when they may reach
/// anything (see the module's documentation).
pub fn std_for<'a>(sources: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let outline = outline();
    let internals = StdlibModule::Internals.content();
    let kept = outline
        .reached(std::iter::once(internals).chain(sources))
        .ok()?;
    Some(outline.cut(&kept))
}

#[cfg(test)]
#[path = "stdprune_tests.rs"]
mod tests;
