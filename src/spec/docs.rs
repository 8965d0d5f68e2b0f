//! The documentation of every option, read from the bundled modules' syntax
//! tree: each option's name, its `doc` string and where its contract is
//! written. Used to quote an option's documentation when its contract is
//! broken, and to suggest the intended option for a misspelt key.

use super::bundle;
use nickel_lang_core::ast::{AstAlloc, Node, record::FieldDef};
use nickel_lang_core::files::Files;
use nickel_lang_core::parser::{ErrorTolerantParser, grammar::TermParser, lexer::Lexer};
use nickel_lang_core::position::TermPos;
use nickel_lang_core::traverse::{TraverseAlloc, TraverseControl};
use std::sync::OnceLock;

/// One option declared in a module.
#[derive(Debug, Clone)]
pub struct OptionDoc {
    /// Bundled file that declares it, e.g. `privai/modules/hosts.ncl`.
    pub file: String,
    /// Option name (the last segment of its path).
    pub name: String,
    /// Its `doc` string.
    pub doc: String,
    /// Byte range of the whole declaration.
    pub span: (usize, usize),
}

/// The options of one record literal in a module: one group of options.
#[derive(Debug, Clone)]
pub struct RecordDecl {
    /// The options, in declaration order.
    pub options: Vec<OptionDoc>,
}

/// Every option of the bundled modules.
#[derive(Debug, Default)]
pub struct DocIndex {
    records: Vec<RecordDecl>,
}

impl DocIndex {
    /// The index of the bundled modules, built once.
    pub fn bundled() -> &'static DocIndex {
        static INDEX: OnceLock<DocIndex> = OnceLock::new();
        INDEX.get_or_init(|| {
            let mut index = DocIndex::default();
            for (path, text) in bundle::FILES {
                if path.starts_with("privai/modules/") {
                    index.add_module(path, text);
                }
            }
            index
        })
    }

    fn add_module(&mut self, name: &str, text: &str) {
        let mut files = Files::empty();
        let file_id = files.add(name, text.to_owned());
        let alloc = AstAlloc::new();
        let Ok(ast) = TermParser::new().parse_strict(&alloc, file_id, Lexer::new(text)) else {
            return;
        };
        let mut records = Vec::new();
        ast.traverse_ref(
            &mut |node: &nickel_lang_core::ast::Ast<'_>, _: &()| {
                if let Node::Record(record) = &node.node {
                    let options: Vec<OptionDoc> = record
                        .field_defs
                        .iter()
                        .filter_map(|def| option_doc(name, def))
                        .collect();
                    if !options.is_empty() {
                        records.push(RecordDecl { options });
                    }
                }
                TraverseControl::<(), ()>::Continue
            },
            &(),
        );
        self.records.extend(records);
    }

    /// The innermost option whose declaration contains `start..end` of `file`.
    pub fn find(&self, file: &str, start: usize, end: usize) -> Option<&OptionDoc> {
        self.records
            .iter()
            .flat_map(|r| &r.options)
            .filter(|o| o.file == file && o.span.0 <= start && end <= o.span.1)
            .min_by_key(|o| o.span.1 - o.span.0)
    }

    /// The option names of the group that best matches a record holding
    /// `present` keys: the group declaring most of them. With no known key,
    /// every option name.
    pub fn expected_fields(&self, present: &[String]) -> Vec<String> {
        let score = |r: &RecordDecl| {
            present
                .iter()
                .filter(|k| r.options.iter().any(|o| &o.name == *k))
                .count()
        };
        let best = self.records.iter().max_by_key(|r| score(r));
        match best {
            Some(record) if score(record) > 0 => {
                record.options.iter().map(|o| o.name.clone()).collect()
            }
            _ => {
                let mut all: Vec<String> = self
                    .records
                    .iter()
                    .flat_map(|r| r.options.iter().map(|o| o.name.clone()))
                    .collect();
                all.sort();
                all.dedup();
                all
            }
        }
    }

    /// Every documented option, for tests and `privai options`.
    pub fn options(&self) -> impl Iterator<Item = &OptionDoc> {
        self.records.iter().flat_map(|r| &r.options)
    }
}

fn option_doc(file: &str, def: &FieldDef<'_>) -> Option<OptionDoc> {
    let doc = def.metadata.doc?;
    let name = def.path.last()?.try_as_ident()?.label().to_owned();
    let TermPos::Original(span) = def.pos else {
        return None;
    };
    Some(OptionDoc {
        file: file.to_owned(),
        name,
        doc: doc.to_owned(),
        span: (span.start.to_usize(), span.end.to_usize()),
    })
}
