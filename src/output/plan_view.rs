//! The human view of a plan, in Terraform's grammar: a legend of only the
//! symbols used, one block per file, unified diffs of changed text files,
//! `(sensitive)` with short hashes for secret files, the services that will
//! restart, and one summary line. Pure.

use crate::plan::{Action, Change, ManagedFile, Plan};
use crate::render::Owner;
use std::fmt::Write;

/// Lines of context around each change in a diff.
pub const CONTEXT: usize = 3;

/// Hex digits of a sha256 shown for a file whose contents are not.
pub const SHORT_HASH: usize = 8;

/// The summary line for an empty plan.
pub const NO_CHANGES: &str = "No changes. Your system matches the spec.";

/// Renders `plan` as text, ending with a newline.
pub fn render(plan: &Plan) -> String {
    if plan.is_empty() {
        return format!("{NO_CHANGES}\n");
    }
    let mut out = String::new();
    out.push_str("Actions are indicated with the following symbols:\n");
    for change in plan.changes() {
        let _ = writeln!(out, "  {} {}", change.symbol(), change.meaning());
    }
    out.push_str("\nprivai will perform the following actions:\n");
    for action in &plan.actions {
        out.push('\n');
        block(&mut out, action);
    }
    let restarts = plan.restarts();
    if !restarts.is_empty() {
        let names: Vec<&str> = restarts.iter().map(|s| s.name()).collect();
        let _ = writeln!(out, "\nServices that will restart: {}", names.join(", "));
    }
    let _ = writeln!(out, "\n{}", summary(plan));
    out
}

/// The last line: `Plan: N to add, N to change, N to delete.` or
/// [`NO_CHANGES`].
pub fn summary(plan: &Plan) -> String {
    if plan.is_empty() {
        return NO_CHANGES.to_owned();
    }
    format!(
        "Plan: {} to add, {} to change, {} to delete.",
        plan.count(Change::Create),
        plan.count(Change::Update),
        plan.count(Change::Delete)
    )
}

const INDENT: &str = "      ";

fn block(out: &mut String, action: &Action) {
    let file = action.file();
    let _ = writeln!(
        out,
        "  {} file {} (mode {:04o}, owner {})",
        action.change().symbol(),
        address(file),
        file.mode,
        owner(file.owner)
    );
    match action {
        Action::CreateFile { file, sha256 } | Action::DeleteFile { file, sha256 } => {
            if file.secret {
                let _ = writeln!(
                    out,
                    "{INDENT}contents: (sensitive) sha256 {}",
                    short(sha256)
                );
            }
        }
        Action::UpdateFile {
            file,
            old_mode,
            old_sha256,
            new_sha256,
            text,
        } => {
            if *old_mode != file.mode {
                let _ = writeln!(out, "{INDENT}mode: {old_mode:04o} -> {:04o}", file.mode);
            }
            if old_sha256 != new_sha256 {
                match text {
                    Some(text) => diff(out, file, &text.old, &text.new),
                    None => {
                        let what = if file.secret { "sensitive" } else { "binary" };
                        let _ = writeln!(
                            out,
                            "{INDENT}contents: ({what}) sha256 {} -> {}",
                            short(old_sha256),
                            short(new_sha256)
                        );
                    }
                }
            }
        }
    }
    let restarts = action.restarts();
    if !restarts.is_empty() {
        let names: Vec<&str> = restarts.iter().map(|s| s.name()).collect();
        let _ = writeln!(out, "{INDENT}restarts: {}", names.join(", "));
    }
}

fn diff(out: &mut String, file: &ManagedFile, old: &str, new: &str) {
    let address = address(file);
    let text = similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(CONTEXT)
        .header(
            &format!("{address} (installed)"),
            &format!("{address} (planned)"),
        )
        .to_string();
    for line in text.lines() {
        let _ = writeln!(out, "{INDENT}{line}");
    }
}

fn address(file: &ManagedFile) -> String {
    format!("{}:{}", file.host, file.path)
}

fn owner(owner: Owner) -> &'static str {
    match owner {
        Owner::Root => "root",
        Owner::User => "user",
    }
}

fn short(sha256: &str) -> &str {
    sha256.get(..SHORT_HASH).unwrap_or(sha256)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Observed;
    use crate::plan::tests::present;
    use crate::render::manifest::{Manifest, sha256_hex};
    use crate::render::{Artifact, Rendered, ServiceId};

    fn artifact(path: &str, text: &str) -> Artifact {
        Artifact {
            host: "mac".into(),
            path: path.into(),
            contents: text.as_bytes().to_vec(),
            mode: 0o644,
            owner: Owner::Root,
            secret: false,
            restarts: Vec::new(),
        }
    }

    #[test]
    fn an_empty_plan_says_no_changes_and_nothing_else() {
        assert_eq!(
            render(&Plan::default()),
            "No changes. Your system matches the spec.\n"
        );
    }

    #[test]
    fn a_tiny_plan_renders_exactly() {
        let desired = Rendered {
            artifacts: vec![
                artifact("/etc/new", "x\n").restarts(ServiceId::Headscale),
                artifact("/etc/conf", "a\nb\nc\nd\ne\nf\ng\nh\n").restarts(ServiceId::Ollama),
                artifact("~/key", "new-secret-value\n").secret(),
            ],
            models: Vec::new(),
        };
        let mut observed = Observed::default();
        present(
            &mut observed,
            "/etc/conf",
            "a\nb\nc\nd\nE\nf\ng\nh\n",
            0o644,
        );
        present(&mut observed, "~/key", "old-secret-value\n", 0o644);
        let plan = crate::plan::plan(&desired, &observed);
        let old = short(&sha256_hex(b"old-secret-value\n")).to_owned();
        let new = short(&sha256_hex(b"new-secret-value\n")).to_owned();
        let expected = format!(
            "\
Actions are indicated with the following symbols:
  + create
  ~ update in place

privai will perform the following actions:

  + file mac:/etc/new (mode 0644, owner root)
      restarts: headscale

  ~ file mac:/etc/conf (mode 0644, owner root)
      --- mac:/etc/conf (installed)
      +++ mac:/etc/conf (planned)
      @@ -2,7 +2,7 @@
       b
       c
       d
      -E
      +e
       f
       g
       h
      restarts: ollama

  ~ file mac:~/key (mode 0600, owner root)
      mode: 0644 -> 0600
      contents: (sensitive) sha256 {old} -> {new}

Services that will restart: headscale, ollama

Plan: 1 to add, 2 to change, 0 to delete.
"
        );
        let text = render(&plan);
        assert_eq!(text, expected, "\n{text}");
        assert!(!text.contains("secret-value"));
    }

    #[test]
    fn a_deletion_shows_the_delete_symbol_only() {
        let old = Rendered {
            artifacts: vec![artifact("/etc/gone", "bye\n")],
            models: Vec::new(),
        };
        let mut observed = Observed {
            previous: Manifest::of(&old).files,
            ..Observed::default()
        };
        present(&mut observed, "/etc/gone", "bye\n", 0o644);
        let plan = crate::plan::plan(&Rendered::default(), &observed);
        assert_eq!(
            render(&plan),
            "\
Actions are indicated with the following symbols:
  - delete

privai will perform the following actions:

  - file mac:/etc/gone (mode 0644, owner root)

Plan: 0 to add, 0 to change, 1 to delete.
"
        );
    }
}
