//! Checks on a source's text before Nickel sees it: nesting depth, and for
//! JSON duplicate keys, numbers out of range and syntax. Nickel's own parsers
//! recurse without bound (a few thousand levels crash the process) and read
//! JSON through a YAML parser (duplicate keys come out as odd errors).
//!
//! Each check runs in time linear in the text and without deep recursion.

use super::limits::MAX_DEPTH;
use crate::codes;
use nickel_lang_core::ast::{Ast, InputFormat, Node};
use nickel_lang_core::cache::InputFormat as Format;
use nickel_lang_core::position::TermPos;
use nickel_lang_core::traverse::{TraverseAlloc, TraverseControl};
use std::ffi::OsString;

/// Deepest nesting of Nickel expressions accepted (each record, array,
/// function application or operator is one level).
pub const MAX_NICKEL_DEPTH: usize = 512;

/// A problem in a source's text: its code, message, hint and byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub message: String,
    pub hint: String,
    pub start: usize,
    pub end: usize,
}

/// An import written in a Nickel source: the path as written, its format and
/// the byte range of the `import` expression.
#[derive(Debug, Clone)]
pub struct Import {
    pub path: OsString,
    pub format: InputFormat,
    pub start: usize,
    pub end: usize,
}

fn too_deep(limit: usize, start: usize, end: usize) -> Finding {
    Finding {
        code: codes::TOO_DEEP,
        message: format!("the spec nests more than {limit} levels deep here"),
        hint: "flatten the structure: no privai option nests more than a few levels".into(),
        start,
        end,
    }
}

/// Checks a Nickel source and lists its imports. A source that does not
/// parse gives no finding: Nickel reports its syntax error itself.
#[cfg(test)]
pub fn nickel(text: &str) -> Result<Vec<Import>, Finding> {
    use nickel_lang_core::files::Files;
    use nickel_lang_core::parser::lexer::Lexer;
    use nickel_lang_core::parser::{ErrorTolerantParser, grammar::TermParser};
    let alloc = nickel_lang_core::ast::AstAlloc::new();
    let mut files = Files::new(std::iter::empty::<(String, String)>());
    let id = files.add("scan", text);
    match TermParser::new().parse_strict(&alloc, id, Lexer::new(text)) {
        Ok(ast) => nickel_ast(&ast),
        Err(_) => Ok(Vec::new()),
    }
}

/// Checks the parsed Nickel source `ast` (the very AST Nickel evaluates:
/// see `imports::read_all`) and lists its imports.
pub fn nickel_ast(ast: &Ast) -> Result<Vec<Import>, Finding> {
    let mut imports = Vec::new();
    let deep = ast.traverse_ref(
        &mut |node: &Ast, &(depth, start, end): &(usize, usize, usize)| {
            let (start, end) = match node.pos {
                TermPos::Original(raw) | TermPos::Inherited(raw) => {
                    (raw.start.to_usize(), raw.end.to_usize())
                }
                TermPos::None => (start, end),
            };
            if depth > MAX_NICKEL_DEPTH {
                return TraverseControl::Return((start, end));
            }
            if let Node::Import(nickel_lang_core::ast::Import::Path { path, format }) = &node.node {
                imports.push(Import {
                    path: (*path).to_owned(),
                    format: *format,
                    start,
                    end,
                });
            }
            TraverseControl::ContinueWithScope((depth + 1, start, end))
        },
        &(0, 0, 0),
    );
    match deep {
        Some((start, end)) => Err(too_deep(MAX_NICKEL_DEPTH, start, end)),
        None => Ok(imports),
    }
}

/// Checks a source of a data format (JSON, TOML, YAML).
pub fn data(format: Format, text: &str) -> Result<(), Finding> {
    match format {
        Format::Json => json(text),
        Format::Toml => toml(text),
        Format::Yaml => yaml(text),
        _ => Ok(()),
    }
}

/// JSON: syntax, depth, duplicate keys and numbers out of range, with the
/// place of the first problem.
fn json(text: &str) -> Result<(), Finding> {
    let Err(error) = serde_json::from_str::<JsonCheck>(text) else {
        return Ok(());
    };
    let offset = offset_of(text, error.line(), error.column());
    let message = error.to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m);
    let (code, hint) = if message.starts_with("duplicate key") {
        (
            codes::DUPLICATE_KEY,
            "remove one of the two: JSON objects must name each key once",
        )
    } else if message.starts_with("recursion limit exceeded") {
        return Err(too_deep(MAX_DEPTH, offset, offset + 1));
    } else if message.starts_with("number out of range") {
        (
            codes::NUMBER_RANGE,
            "write a number that fits a 64-bit float; no option takes one this large",
        )
    } else {
        (
            codes::SYNTAX,
            "fix the JSON at the marked place (no trailing commas, no comments)",
        )
    };
    Err(Finding {
        code,
        message: format!("invalid JSON: {message}"),
        hint: hint.into(),
        start: offset,
        end: offset + 1,
    })
}

/// The byte offset of 1-based `line` and `column` (serde_json's columns
/// count bytes; column 0 is before the line).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// Any JSON value, refusing duplicate keys (serde_json bounds the depth).
struct JsonCheck;

impl<'de> serde::Deserialize<'de> for JsonCheck {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = JsonCheck;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<JsonCheck, E> {
        Ok(JsonCheck)
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<JsonCheck, E> {
        Ok(JsonCheck)
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<JsonCheck, E> {
        Ok(JsonCheck)
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<JsonCheck, E> {
        Ok(JsonCheck)
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<JsonCheck, E> {
        Ok(JsonCheck)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<JsonCheck, E> {
        Ok(JsonCheck)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<JsonCheck, A::Error> {
        while seq.next_element::<JsonCheck>()?.is_some() {}
        Ok(JsonCheck)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<JsonCheck, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                let shown: String = key.chars().take(80).collect();
                return Err(serde::de::Error::custom(format!("duplicate key `{shown}`")));
            }
            map.next_value::<JsonCheck>()?;
        }
        Ok(JsonCheck)
    }
}

/// TOML: the depth of tables and arrays (the toml crate parses without
/// recursion; Nickel's conversion recurses).
fn toml(text: &str) -> Result<(), Finding> {
    use toml::de::{DeTable, DeValue};
    let table = match DeTable::parse(text) {
        Ok(table) => table,
        Err(e) if e.message().contains("recurs") => {
            let span = e.span().unwrap_or(0..0);
            return Err(too_deep(MAX_DEPTH, span.start, span.end));
        }
        // Other syntax errors are Nickel's to report.
        Err(_) => return Ok(()),
    };
    let mut stack: Vec<(&DeValue, std::ops::Range<usize>, usize)> = Vec::new();
    for (_, value) in table.get_ref().iter() {
        stack.push((value.get_ref(), value.span(), 2));
    }
    while let Some((value, span, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(too_deep(MAX_DEPTH, span.start, span.end));
        }
        match value {
            DeValue::Table(table) => {
                for (_, child) in table.iter() {
                    stack.push((child.get_ref(), child.span(), depth + 1));
                }
            }
            DeValue::Array(items) => {
                for child in items.iter() {
                    stack.push((child.get_ref(), child.span(), depth + 1));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// YAML: the depth (serde_yaml_ng stops at its recursion limit).
fn yaml(text: &str) -> Result<(), Finding> {
    match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text) {
        Err(error) if error.to_string().contains("recursion limit exceeded") => {
            let offset = error.location().map_or(0, |l| l.index());
            Err(too_deep(MAX_DEPTH, offset, offset + 1))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_duplicate_keys_are_found_at_the_second_key() {
        let text = r#"{"a": 1, "b": {"x": 1, "x": 2}}"#;
        let finding = json(text).unwrap_err();
        assert_eq!(finding.code, codes::DUPLICATE_KEY);
        assert!(finding.message.contains("duplicate key `x`"), "{finding:?}");
        assert!(finding.start > text.find("\"x\"").unwrap());
    }

    #[test]
    fn json_nested_past_the_limit_is_too_deep_not_a_crash() {
        let text = format!("{}{}", "[".repeat(1600), "]".repeat(1600));
        assert_eq!(json(&text).unwrap_err().code, codes::TOO_DEEP);
    }

    #[test]
    fn json_numbers_beyond_a_float_are_out_of_range() {
        assert_eq!(
            json(r#"{"ram": 1e400}"#).unwrap_err().code,
            codes::NUMBER_RANGE
        );
    }

    #[test]
    fn json_trailing_comma_is_a_syntax_error_at_its_line() {
        let text = "{\n  \"a\": [1, 2,]\n}";
        let finding = json(text).unwrap_err();
        assert_eq!(finding.code, codes::SYNTAX);
        assert_eq!(&text[..finding.start].matches('\n').count(), &1);
    }

    #[test]
    fn nickel_nested_past_the_limit_is_too_deep() {
        let text = format!("{}1{}", "{a = ".repeat(2000), "}".repeat(2000));
        let finding = nickel(&text).unwrap_err();
        assert_eq!(finding.code, codes::TOO_DEEP);
    }

    #[test]
    fn nickel_imports_of_every_form_are_listed() {
        let imports = nickel(
            r#"let a = import "a.ncl" in { b = import "/etc/b" as 'Text, c = (import "c.json").x }"#,
        )
        .unwrap();
        let paths: Vec<_> = imports
            .iter()
            .map(|i| i.path.to_string_lossy().into_owned())
            .collect();
        assert_eq!(paths, ["a.ncl", "/etc/b", "c.json"]);
        assert_eq!(imports[1].format, InputFormat::Text);
        assert_eq!(imports[2].format, InputFormat::Json);
    }

    #[test]
    fn toml_nested_past_the_limit_is_too_deep() {
        let inline = format!("a = {}1{}", "[".repeat(300), "]".repeat(300));
        assert_eq!(toml(&inline).unwrap_err().code, codes::TOO_DEEP);
        let header = format!("[{}]\nx = 1", vec!["t"; 300].join("."));
        assert_eq!(toml(&header).unwrap_err().code, codes::TOO_DEEP);
        let dotted = format!("{} = 1", vec!["k"; 300].join("."));
        assert_eq!(toml(&dotted).unwrap_err().code, codes::TOO_DEEP);
    }
}
