//! Making the outline of `std` from Nickel's file, and writing it as
//! `std_outline.rs` (tests only: a check reads the stored one).

use super::{Entry, Outline, Whole, ident_at, is_ident_char, starts_ident};
use nickel_lang_core::stdlib::StdlibModule;
use std::fmt::Write;

/// The outline of `text` (Nickel's `std`), `internals` being the text of
/// its `internals` module.
pub fn outline_of(text: &'static str, internals: &str) -> Outline {
    let docs = doc_ranges(text);
    let blanked = blank(text, &docs);
    let mut outline = Outline::new(text, docs, entries_of(text, &blanked), Vec::new());
    for i in 0..outline.entries.len() {
        let e = &outline.entries[i];
        // A module's own entries are kept with it (see `Outline::reached`).
        let names = if e.is_module {
            Some(Vec::new())
        } else {
            let mut out = Vec::new();
            named_within(&outline, &blanked[e.start..e.end], e.module, &mut out)
                .ok()
                .map(|()| dedup(out.into_iter().filter(|n| *n != i).collect()))
        };
        outline.entries[i].names = names;
    }
    let mut internals_named = Vec::new();
    outline
        .named_outside(internals, &mut internals_named)
        .expect("the internals name std's entries statically");
    outline.internals = dedup(internals_named);
    outline
}

/// The outline of the `std` linked in, made from its text.
pub fn made() -> Outline {
    outline_of(
        StdlibModule::Std.content(),
        StdlibModule::Internals.content(),
    )
}

fn dedup(mut names: Vec<usize>) -> Vec<usize> {
    names.sort_unstable();
    names.dedup();
    names
}

/// The byte ranges of each `| doc m%"…"%` annotation of `text` (or
/// `m%%"…"%%`, and so on). A string ends at `"` and as many `%` as opened
/// it, not followed by `{` (that would be an interpolation).
pub fn doc_ranges(text: &str) -> Vec<(usize, usize)> {
    const OPEN: &str = "| doc m";
    let mut ranges = Vec::new();
    let mut offset = 0;
    while let Some(found) = text[offset..].find(OPEN) {
        let start = offset + found;
        let after = start + OPEN.len();
        let percents = text[after..].bytes().take_while(|b| *b == b'%').count();
        if percents == 0 || text.as_bytes().get(after + percents) != Some(&b'"') {
            offset = after;
            continue;
        }
        let close = format!("\"{}", "%".repeat(percents));
        let mut from = after + percents + 1;
        let end = loop {
            let Some(at) = text[from..].find(&close) else {
                break None;
            };
            let end = from + at + close.len();
            if text.as_bytes().get(end) != Some(&b'{') {
                break Some(end);
            }
            from = end;
        };
        let Some(end) = end else {
            break;
        };
        ranges.push((start, end));
        offset = end;
    }
    ranges
}

/// `text` with the bytes of `ranges` made spaces, line breaks kept.
pub fn blank(text: &str, ranges: &[(usize, usize)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(start, end) in ranges {
        for b in &mut bytes[start..end] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    String::from_utf8(bytes).expect("ranges of whole characters")
}

/// The entries of `std`, found from the layout of its documentation-blanked
/// text (a top-level entry starts a line indented by 2, a module's entry a
/// line indented by 4); names are taken from `text` (the same bytes there).
fn entries_of(text: &'static str, blanked: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut module: Option<usize> = None;
    let mut top: Option<usize> = None;
    let mut inner: Option<usize> = None;
    let mut offset = 0;
    let entry = |start: usize, indent: usize, module: Option<usize>, is_module: bool| Entry {
        name: ident_at(&text[start + indent..]),
        module,
        is_module,
        start,
        end: text.len(),
        names: None,
    };
    for line in blanked.split_inclusive('\n') {
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
            entries.push(entry(start, 2, None, is_module));
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
            entries.push(entry(start, 4, Some(m), false));
            inner = Some(entries.len() - 1);
        }
    }
    entries
}

/// The entries the text of an entry of `std` names: `std.X(.Y)`, a module
/// named with one of its entries (`array.map`), a sibling in `module` by
/// its bare name, an entry of the top-level record by its bare name.
pub fn named_within(
    outline: &Outline,
    text: &str,
    module: Option<usize>,
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
        // A comment line.
        if b == b'#'
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
        if name == "std" {
            out.push(outline.std_access(text, after)?);
            continue;
        }
        // A module named with one of its entries, e.g. `array.map`.
        if let Some(top) = outline.top(name)
            && outline.entries[top].is_module
            && let Some(y) = super::field_at(text, after)
            && let Some(entry) = outline.inner(top, y)
        {
            out.push(entry);
            continue;
        }
        // A bare name: a sibling, or an entry of the top-level record.
        if let Some(m) = module
            && let Some(entry) = outline.inner(m, name)
        {
            out.push(entry);
        }
        // A bare module name in `std` is a local variable (`fun array =>`):
        // `std` never hands one of its modules on as a value (a test
        // typechecks a cut `std`, which finds any such name unbound).
        if let Some(top) = outline.top(name)
            && !outline.entries[top].is_module
        {
            out.push(top);
        }
    }
    Ok(())
}

/// `outline` as the Rust source of `std_outline.rs`.
pub fn rust_source(outline: &Outline) -> String {
    let mut s = String::new();
    s.push_str(
        "//! The outline of Nickel's `std` (`stdlib/std.ncl` of the nickel-lang-core\n\
         //! Cargo.toml pins): where its entries and documentation are and what\n\
         //! each entry names. Made from Nickel's file by `spec::stdprune`'s tests,\n\
         //! which fail when it no longer matches; write it again with\n\
         //! `PRIVAI_WRITE_STD_OUTLINE=1 cargo test --lib spec::stdprune`. Do not edit.\n\n",
    );
    s.push_str("/// Length of the text this outline was made from.\n");
    writeln!(s, "pub const LEN: usize = {};\n", outline.text.len()).unwrap();
    s.push_str("/// `module` of a top-level entry.\npub const NO_MODULE: u16 = u16::MAX;\n\n");
    s.push_str("/// The byte ranges of each `| doc m%\"…\"%` annotation.\n");
    s.push_str("pub const DOCS: &[(u32, u32)] = &[\n");
    for chunk in outline.docs.chunks(6) {
        let pairs: Vec<String> = chunk.iter().map(|(a, b)| format!("({a}, {b})")).collect();
        writeln!(s, "    {},", pairs.join(", ")).unwrap();
    }
    s.push_str("];\n\n");
    s.push_str(
        "/// Each entry: name, module (an index here, or [`NO_MODULE`]), whether it\n\
         /// is a module, its byte range, the entries its text names (`None`: not\n\
         /// statically).\n",
    );
    s.push_str("#[allow(clippy::type_complexity)]\n");
    s.push_str("pub const ENTRIES: &[(&str, u16, bool, u32, u32, Option<&[u16]>)] = &[\n");
    for e in &outline.entries {
        let module = e.module.map_or("NO_MODULE".to_owned(), |m| m.to_string());
        let names = match &e.names {
            None => "None".to_owned(),
            Some(n) => format!(
                "Some(&[{}])",
                n.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        writeln!(
            s,
            "    ({:?}, {module}, {}, {}, {}, {names}),",
            e.name, e.is_module, e.start, e.end
        )
        .unwrap();
    }
    s.push_str("];\n\n");
    s.push_str("/// The entries the `internals` module names.\n");
    writeln!(
        s,
        "pub const INTERNALS: &[u16] = &[{}];",
        outline
            .internals
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
    .unwrap();
    s
}
