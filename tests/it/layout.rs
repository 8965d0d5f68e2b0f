//! The source's layout rules (docs/architecture.md): the pure core (`plan`
//! and `render`) imports nothing from the edges (`api`, `sys`, `state`,
//! `output`), and no source file grows past 800 lines.

use crate::tools::repo;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The modules of the crate `line` names, as `crate::NAME` or
/// `privai::NAME`, outside comments.
fn crate_modules(line: &str) -> Vec<&str> {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices("crate::")
        .map(|(at, m)| &code[at + m.len()..])
        .map(|rest| {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn plan_and_render_import_nothing_from_api_sys_state_or_output() {
    let mut found = Vec::new();
    for dir in ["src/plan", "src/render"] {
        for path in sources(&repo(dir)) {
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                for module in crate_modules(line) {
                    if ["api", "sys", "state", "output"].contains(&module) {
                        found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn the_rule_sees_an_import_of_an_edge_and_not_a_comment() {
    assert_eq!(crate_modules("use crate::api::ollama::Client;"), ["api"]);
    assert_eq!(
        crate_modules("    crate::state::atomic::write(p)"),
        ["state"]
    );
    assert_eq!(
        crate_modules("// see crate::sys::Runner"),
        Vec::<&str>::new()
    );
}

#[test]
fn no_source_file_is_over_800_lines() {
    let long: Vec<String> = sources(&repo("src"))
        .into_iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(&path).unwrap().lines().count();
            (lines > 800).then(|| format!("{} ({lines} lines)", path.display()))
        })
        .collect();
    assert_eq!(long, Vec::<String>::new());
}
