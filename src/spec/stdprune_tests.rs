use super::*;

/// The outline a check reads (made from the stored one).
fn stored() -> &'static Outline {
    outline().expect("the stored outline is the linked std's")
}

#[test]
fn the_stored_outline_is_the_one_made_from_nickels_std() {
    let made = made::made();
    let source = made::rust_source(&made);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/spec/std_outline.rs");
    if std::env::var_os("PRIVAI_WRITE_STD_OUTLINE").is_some() {
        std::fs::write(path, &source).expect("writes std_outline.rs");
    }
    assert!(
        source == include_str!("std_outline.rs"),
        "src/spec/std_outline.rs is not the outline of the linked std: \
         write it again with `PRIVAI_WRITE_STD_OUTLINE=1 cargo test --lib spec::stdprune`"
    );
    let stored = stored();
    assert_eq!(stored.entries, made.entries);
    assert_eq!(stored.docs, made.docs);
    assert_eq!(stored.internals, made.internals);
    // Every entry of `std` is named statically by the rest of it.
    assert!(stored.entries.iter().all(|e| e.names.is_some()));
}

#[test]
fn an_outline_that_does_not_fit_the_text_is_not_used() {
    let made = made::made();
    assert!(made.fits(made.text));
    let mut moved = made.text.to_owned();
    moved.insert(0, ' ');
    assert!(!made.fits(&moved));
}

#[test]
fn the_documentation_is_found_and_only_it() {
    let text = StdlibModule::Std.content();
    let docs = made::doc_ranges(text);
    assert!(docs.len() > 150, "{} docs", docs.len());
    let blanked = made::blank(text, &docs);
    assert_eq!(blanked, std_without_docs());
    assert!(!blanked.contains("| doc m%"));
    let (mut changed, mut kept) = (0, 0);
    for (a, b) in text.bytes().zip(blanked.bytes()) {
        if a == b {
            kept += 1;
        } else {
            // Only documentation bytes change, each to a space; line breaks stay.
            assert_eq!(b, b' ');
            assert_ne!(a, b'\n');
            changed += 1;
        }
    }
    assert!(changed > 70_000, "{changed} bytes blanked");
    assert!(kept > 90_000, "{kept} bytes kept");
}

#[test]
fn blanking_keeps_code_between_and_after_docs() {
    let text = "{\n  f\n    | doc m%\"\n      Two é\n      lines\n    \"%\n    = 1,\n  g | doc m%\"x\"% = 2,\n}";
    let blanked = made::blank(text, &made::doc_ranges(text));
    assert_eq!(blanked.len(), text.len());
    assert_eq!(blanked.lines().count(), text.lines().count());
    assert!(blanked.contains("= 1,") && blanked.contains("  g ") && blanked.contains(" = 2,"));
    assert!(!blanked.contains("doc") && !blanked.contains("lines"));
}

#[test]
fn blanking_reads_longer_delimiters_and_interpolations() {
    // `m%%"…"%%` may hold `"%`; `"%{` opens an interpolation, not the end.
    let text = "{ f | doc m%%\"alpha \"% beta\"%% = 1, g | doc m%\"gamma \"%{xi}\" delta\"% = 2, h | doc m = 3 }";
    let blanked = made::blank(text, &made::doc_ranges(text));
    assert_eq!(blanked.len(), text.len());
    assert!(!blanked.contains("doc m%"));
    for word in ["alpha", "beta", "gamma", "xi", "delta"] {
        assert!(!blanked.contains(word), "{word} left in {blanked}");
    }
    assert!(blanked.contains("f ") && blanked.contains(" = 1, g "));
    assert!(blanked.contains(" = 2, h | doc m = 3 }"));
}

#[test]
fn the_outline_finds_every_entry_of_std() {
    let outline = stored();
    let modules: Vec<&str> = outline
        .entries
        .iter()
        .filter(|e| e.is_module)
        .map(|e| e.name)
        .collect();
    assert_eq!(
        modules,
        [
            "array", "contract", "enum", "function", "number", "record", "string", "test"
        ]
    );
    let top = outline
        .entries
        .iter()
        .filter(|e| e.module.is_none())
        .count();
    let inner = outline.entries.len() - top;
    assert_eq!((top, inner), (27, 151));
    for name in ["package", "is_record", "typeof", "fail_with"] {
        assert!(outline.top(name).is_some(), "{name}");
    }
    let array = outline.top("array").unwrap();
    let map = outline.inner(array, "map").unwrap();
    let text = &outline.text[outline.entries[map].start..outline.entries[map].end];
    assert!(text.trim_start().starts_with("map"), "{text}");
    // What `map` names: nothing of `std` (it is a primitive operation).
    assert_eq!(outline.entries[map].names.as_deref(), Some(&[][..]));
    // Entries do not overlap and stay in order.
    for pair in outline.entries.windows(2) {
        assert!(pair[0].start < pair[1].start);
        if !pair[0].is_module {
            assert!(pair[0].end <= pair[1].start);
        }
    }
}

#[test]
fn sources_name_entries_only_through_static_field_access() {
    let outline = stored();
    let named = |text: &str| {
        let mut out = Vec::new();
        outline.named_outside(text, &mut out).map(|()| {
            out.iter()
                .map(|i| {
                    let e = &outline.entries[*i];
                    match e.module {
                        Some(m) => format!("{}.{}", outline.entries[m].name, e.name),
                        None => e.name.to_owned(),
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(
        named("std.array.map f (std.string.join \",\" xs) | std.number.PosNat").unwrap(),
        ["array.map", "string.join", "number.PosNat"]
    );
    assert_eq!(
        named("std.is_record x && std.record").unwrap(),
        ["is_record", "record"]
    );
    // A bare name is not `std`'s outside it; `mystd.x` is not `std`.
    assert!(named("map join mystd.array.foo").unwrap().is_empty());
    // `std` as a value, a quoted field or an entry `std` lacks: everything.
    for whole in [
        "std.record.fields std",
        "let s = std in s.array.map",
        "std.\"array\"",
        "std.array.no_such_function",
        "std.no_such_module",
        "std . array",
    ] {
        assert!(named(whole).is_err(), "{whole}");
    }
}

#[test]
fn an_entry_keeps_the_entries_it_names() {
    let outline = stored();
    let internals = StdlibModule::Internals.content();
    let kept = outline
        .reached([internals, "std.string.join"])
        .expect("static");
    let has = |module: &str, name: &str| {
        let m = outline.top(module).unwrap();
        kept.contains(&outline.inner(m, name).unwrap())
    };
    assert!(has("string", "join"));
    // What `join` and the internals' contracts use, by their names.
    assert!(has("contract", "Equal"), "named by the internals");
    assert!(has("array", "filter"), "named by the internals");
    assert!(!has("array", "sort"));
    assert!(!has("string", "uppercase"));
    assert!(outline.top("package").is_some_and(|p| !kept.contains(&p)));
}

#[test]
fn the_cut_std_keeps_every_byte_it_keeps_where_it_was() {
    let outline = stored();
    let cut = std_for(["std.array.map f xs"]).expect("static");
    let whole = std_without_docs();
    assert_eq!(cut.len(), outline.text.len());
    assert_eq!(whole.len(), outline.text.len());
    assert_eq!(cut.lines().count(), outline.text.lines().count());
    for (a, b) in whole.bytes().zip(cut.bytes()) {
        assert!(a == b || b == b' ', "only blanks");
    }
    let code = |text: &str| text.bytes().filter(|b| !b.is_ascii_whitespace()).count();
    assert!(
        code(&cut) * 2 < code(&whole),
        "{} of {}",
        code(&cut),
        code(&whole)
    );
    assert!(std_for(["std.record.fields std"]).is_none());
}

#[test]
fn the_cut_std_evaluates_like_the_whole_one() {
    use crate::spec::stdlib::{cut_std, export, new_cache};
    use nickel_lang_core::cache::CacheHub;
    let programs = [
        "{ a = std.string.join \",\" [\"x\", \"y\"], b = std.array.map (fun x => x + 1) [1, 2] }",
        "{ c = std.array.sort (fun a b => if a < b then 'Lesser else if a == b then 'Equal else 'Greater) [3, 1, 2] }",
        "{ d = std.record.map (fun k v => \"%{k}=%{std.to_string v}\") { x = 1 }, e = std.string.split \",\" \"a,b\" }",
        "{ f = 5 | std.number.PosNat, g = \"a\" | std.enum.TagOrString | [| 'a |], h = std.typeof std.array }",
        "{ i = { x = 1 } | { x | Number }, j = [1] | Array Number, k = { y = 1 } & { y | default = 2 } }",
        "{ l = 3 | std.contract.from_validator (fun v => if v > 0 then 'Ok else 'Error {}) }",
    ];
    for program in programs {
        let mut cache = new_cache();
        assert!(cut_std(&mut cache, [program]), "{program}");
        assert_eq!(
            export(cache, program),
            export(CacheHub::new(), program),
            "{program}"
        );
    }
}

#[test]
fn a_cut_std_names_nothing_it_blanked() {
    // Nickel's typechecker reports every name not bound: a cut `std` that
    // blanked an entry still named by a kept one fails it.
    use crate::spec::stdlib::{cut_std, new_cache};
    let typechecks = |sources: &[&str]| {
        let mut cache = new_cache();
        assert!(cut_std(&mut cache, sources.iter().copied()));
        cache.load_stdlib().expect("parses");
        cache.typecheck_stdlib().is_ok()
    };
    let bundled: Vec<&str> = crate::spec::bundle::FILES.iter().map(|(_, t)| *t).collect();
    assert!(typechecks(&bundled));
    // The seed, as `check` reads it: its spec, the modules and the entry point.
    let mut seed = bundled.clone();
    seed.push(include_str!("../../examples/seed-home.ncl"));
    seed.push("std.record.filter std.record.has_field std.is_record std.is_array std.record.update std.array.map std.array.at");
    assert!(typechecks(&seed));
    assert!(typechecks(&["std.string.join", "std.array.sort"]));
    assert!(typechecks(&[
        "std.contract.any_of",
        "std.package.Semver",
        "std.record.update"
    ]));
    // And it has teeth: `fold_left` blanked while `sort`... is kept.
    let outline = stored();
    let array = outline.top("array").unwrap();
    let mut kept = outline
        .reached([StdlibModule::Internals.content(), "std.array.sort_dedup"])
        .expect("static");
    assert!(kept.remove(&outline.inner(array, "sort").unwrap()));
    let mut cache = nickel_lang_core::cache::CacheHub::new();
    let id = cache
        .sources
        .stdlib_modules()
        .find(|(m, _)| *m == StdlibModule::Std)
        .map(|(_, id)| id)
        .unwrap();
    cache
        .sources
        .files
        .update(id, std::sync::Arc::from(outline.cut(&kept)));
    cache.load_stdlib().expect("parses");
    assert!(cache.typecheck_stdlib().is_err());
}

#[test]
fn every_entry_of_std_cut_alone_names_nothing_blanked() {
    // Each entry named on its own: what it keeps typechecks (see above).
    use crate::spec::stdlib::{cut_std, new_cache};
    let outline = stored();
    let mut failed = Vec::new();
    for e in &outline.entries {
        let name = match e.module {
            Some(m) => format!("std.{}.{}", outline.entries[m].name, e.name),
            None => format!("std.{}", e.name),
        };
        let mut cache = new_cache();
        assert!(cut_std(&mut cache, [name.as_str()]), "{name}");
        cache.load_stdlib().expect("parses");
        if cache.typecheck_stdlib().is_err() {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "{failed:?}");
}
