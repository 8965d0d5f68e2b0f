//! Fixtures for the unit tests of this pass: run it on a small spec and
//! list what it finds as `(code, path)` pairs.

use super::check;
use crate::check::testing::{BASE, load};
use crate::diagnostic::Diagnostic;

/// `(code, path)` pairs with owned paths, to compare with [`found`].
pub(super) use crate::check::testing::pairs as expect;

/// What this pass finds in BASE merged with `case`, in order.
fn diagnostics(case: &str) -> Vec<Diagnostic> {
    let loaded = load(&format!("{BASE} & {case}"), "ncl");
    let mut out = Vec::new();
    check(&loaded.spec, &mut out);
    out
}

/// `(code, path)` of what this pass finds in BASE merged with `case`.
pub(super) fn found(case: &str) -> Vec<(&'static str, String)> {
    diagnostics(case)
        .into_iter()
        .map(|d| (d.code, d.path.map(|p| p.to_string()).unwrap_or_default()))
        .collect()
}

/// The first thing this pass finds in BASE merged with `case`.
pub(super) fn first_diagnostic(case: &str) -> Diagnostic {
    diagnostics(case).into_iter().next().expect("a diagnostic")
}

const PEOPLE: &str =
    r#"users = [{ name = "user1" }, { name = "user2" }], groups.trusted = ["user1", "user2"]"#;

/// BASE plus two users and `groups.trusted`, then `case`'s fields.
pub(super) fn with_people(case: &str) -> Vec<(&'static str, String)> {
    found(&format!("{{ {PEOPLE}, {case} }}"))
}

/// One ACL rule `src -> dst` on top of [`with_people`].
pub(super) fn rule(src: &str, dst: &str) -> Vec<(&'static str, String)> {
    with_people(&format!("acl.rules = [{{ src = [{src}], dst = [{dst}] }}]"))
}
