//! Nickel's standard library as privai hands it to Nickel: its
//! documentation blanked, every other byte where it was.

use nickel_lang_core::cache::CacheHub;
use nickel_lang_core::stdlib::StdlibModule;
use std::sync::Arc;

/// A Nickel cache whose standard library has its documentation blanked
/// (see [`stdlib_without_docs`]).
pub fn new_cache() -> CacheHub {
    let mut cache = CacheHub::new();
    set_std(&mut cache, stdlib_without_docs());
    cache
}

/// Replaces the text of `std` in `cache`, before Nickel parses it.
fn set_std(cache: &mut CacheHub, text: Arc<str>) {
    if let Some((_, id)) = cache
        .sources
        .stdlib_modules()
        .find(|(module, _)| *module == StdlibModule::Std)
    {
        cache.sources.files.update(id, text);
    }
}

/// Sets `std` in `cache` (made by [`new_cache`] or `CacheHub::new`, not yet
/// evaluated) to the entries `sources` (the text of every other Nickel
/// source the evaluation reads) can reach, its documentation blanked; see
/// [`super::stdprune`]. Returns whether it cut it (when the sources may
/// reach anything, `std` is whole).
pub fn cut_std<'a>(cache: &mut CacheHub, sources: impl IntoIterator<Item = &'a str>) -> bool {
    match super::stdprune::std_for(sources) {
        Some(text) => {
            set_std(cache, Arc::from(text));
            true
        }
        None => {
            set_std(cache, stdlib_without_docs());
            false
        }
    }
}

/// Nickel's `std` module with the text of each `| doc m%"…"%` annotation
/// replaced by spaces (its line breaks kept), so every other byte, line and
/// column stays where it was.
///
/// Nickel parses the whole standard library for every evaluation; 75 KB of
/// its 170 KB are documentation, which evaluation never reads (only
/// `nickel doc` and the language server do).
pub fn stdlib_without_docs() -> Arc<str> {
    static BLANKED: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    BLANKED
        .get_or_init(|| Arc::from(super::stdprune::std_without_docs()))
        .clone()
}

/// `program` evaluated with the standard library of `cache`, exported as
/// JSON (tests of the blanked and the cut `std`).
#[cfg(test)]
pub fn export(mut cache: CacheHub, program: &str) -> serde_json::Value {
    use nickel_lang_core::cache::SourcePath;
    use nickel_lang_core::error::NullReporter;
    use nickel_lang_core::eval::cache::CacheImpl;
    use nickel_lang_core::eval::{VirtualMachine, VmContext};
    let main = cache
        .sources
        .add_string(SourcePath::Generated("std test".into()), program.to_owned());
    let mut ctx: VmContext<CacheHub, CacheImpl> =
        VmContext::new(cache, std::io::sink(), NullReporter {});
    let prepared = ctx.prepare_eval_only(main).expect("prepared");
    let value = VirtualMachine::new(&mut ctx)
        .eval_full_for_export(prepared)
        .expect("evaluated");
    serde_json::to_value(&value).expect("exported")
}

#[cfg(test)]
mod tests {
    use super::*;
    use nickel_lang_core::cache::SourcePath;
    use nickel_lang_core::error::{Error, IntoDiagnostics, NullReporter};
    use nickel_lang_core::eval::cache::CacheImpl;
    use nickel_lang_core::eval::{VirtualMachine, VmContext};

    #[test]
    fn the_blanked_stdlib_evaluates_like_nickels_own() {
        // The whole of `std` (every field, forced) and a few functions.
        let program = r#"{
  fields = std.record.fields std,
  string = std.record.fields std.string,
  joined = std.string.join "," ["a", "b"],
  mapped = std.array.map (fun x => x + 1) [1, 2],
  merged = std.record.map (fun _k v => v * 2) { a = 1 },
  tag = "a" | std.enum.TagOrString | [| 'a, 'b |],
  positive = 3 | std.number.PosNat,
}"#;
        let run = |cache: CacheHub| export(cache, program);
        let ours = run(new_cache());
        assert_eq!(ours, run(CacheHub::new()));
        assert!(ours["fields"].as_array().is_some_and(|f| f.len() > 20));
    }

    #[test]
    fn errors_inside_the_blanked_stdlib_are_reported_at_the_same_places() {
        // A contract of `std` that fails, and a failure raised in `std`'s code.
        let programs = [
            "{ port | std.number.PosNat = -1 }",
            "{ tag = 1 | std.enum.TagOrString }",
            "{ item = std.array.at 5 [1, 2] }",
            "{ joined = std.string.join \",\" [1] }",
        ];
        let diagnose = |mut cache: CacheHub, program: &str| {
            let main = cache.sources.add_string(
                SourcePath::Generated("stdlib test".into()),
                program.to_owned(),
            );
            let std_id = cache
                .sources
                .stdlib_modules()
                .find(|(module, _)| *module == StdlibModule::Std)
                .map(|(_, id)| id);
            let mut ctx: VmContext<CacheHub, CacheImpl> =
                VmContext::new(cache, std::io::sink(), NullReporter {});
            let error: Error = match ctx.prepare_eval_only(main) {
                Err(error) => error,
                Ok(prepared) => VirtualMachine::new(&mut ctx)
                    .eval_full_for_export(prepared)
                    .expect_err("a failure")
                    .into(),
            };
            let mut files = ctx.import_resolver.sources.files().clone();
            let rendered = error.into_diagnostics(&mut files);
            let in_std = rendered
                .iter()
                .flat_map(|d| &d.labels)
                .any(|label| Some(label.file_id) == std_id);
            (format!("{rendered:?}"), in_std)
        };
        let mut in_std = Vec::new();
        for program in programs {
            let (ours, ours_in_std) = diagnose(new_cache(), program);
            let (theirs, _) = diagnose(CacheHub::new(), program);
            assert_eq!(ours, theirs, "{program}");
            assert!(ours.contains("Label"), "{program}: {ours}");
            in_std.push(ours_in_std);
        }
        // The failures raised in `std`'s code point into `std`.
        assert_eq!(in_std, [false, false, true, true]);
    }
}
