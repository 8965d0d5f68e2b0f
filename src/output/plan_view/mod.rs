//! The human view of a plan, in Terraform's grammar. Pure: it lays out the
//! plan's descriptions ([`crate::plan::describe`]), the same `plan --json`
//! prints.
//!
//! In order:
//!
//! 1. `Note: files changed outside privai`, when files privai installed were
//!    edited, had their mode changed, or were removed by something else
//!    since (Terraform's "Objects have changed outside of …" section);
//! 2. `Warning: files privai did not write`, when the plan takes over
//!    files (`!`, needs `privai apply --adopt`);
//! 3. a legend of only the symbols used;
//! 4. one block per action, in plan order: files with unified diffs of
//!    changed text, `(sensitive)` with short hashes for secret files (whose
//!    contents are never printed); secrets privai writes, with where their
//!    value comes from and short hashes; then services with their service
//!    manager entry, why they restart and their health check;
//! 5. one summary line (see [`summary`]).
//!
//! # The summary line
//!
//! `Plan: A to add, C to change, D to delete.` where A counts files and
//! secrets created and services started (`+`), C files and secrets updated
//! in place and files taken over (`~` and `!`), and D files deleted and
//! services stopped (`-`). When
//! services restart (`↻`) it reads
//! `Plan: A to add, C to change, D to delete, R to restart.` An empty plan
//! prints [`NO_CHANGES`] and nothing else.

use crate::plan::describe::{self, Context, Description, Detail};
pub use crate::plan::describe::{CONTEXT, SECRET_MODE, SHORT_HASH};
use crate::plan::{Change, Plan};
use std::fmt::Write;

/// The summary line for an empty plan.
pub const NO_CHANGES: &str = "No changes. Your system matches the spec.";

/// What `apply` saves a file it takes over as: `<path>` plus this.
pub const BACKUP_SUFFIX: &str = ".before-privai";

/// Facts about the run that change how a plan reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewNotes {
    /// The plan is against a staging tree (`--root`): services are not
    /// started, restarted or stopped.
    pub staged: bool,
}

/// Renders `plan` as text, ending with a newline.
pub fn render(plan: &Plan, notes: &ViewNotes) -> String {
    if plan.is_empty() {
        let mut out = String::new();
        for note in &plan.notes {
            let _ = writeln!(out, "Note: {note}\n");
        }
        return format!("{out}{NO_CHANGES}\n");
    }
    let described = describe::describe(
        plan,
        &Context {
            staged: notes.staged,
        },
    );
    let mut out = String::new();
    drift_note(&mut out, &described.drift);
    adoption_warning(&mut out, &described.changes);
    out.push_str("Actions are indicated with the following symbols:\n");
    for change in plan.changes() {
        let _ = writeln!(out, "  {} {}", change.symbol(), change.meaning());
    }
    out.push_str("\nprivai will perform the following actions:\n");
    for description in &described.changes {
        out.push('\n');
        block(&mut out, description);
    }
    for note in &plan.notes {
        let _ = writeln!(out, "\nNote: {note}");
    }
    let _ = writeln!(out, "\n{}", summary(plan));
    out
}

/// The last line: `Plan: N to add, N to change, N to delete.`, with
/// `, N to restart` before the full stop when services restart, or
/// [`NO_CHANGES`]. See the module docs for what each number counts.
pub fn summary(plan: &Plan) -> String {
    if plan.is_empty() {
        return NO_CHANGES.to_owned();
    }
    let mut line = format!(
        "Plan: {} to add, {} to change, {} to delete",
        plan.count(Change::Create),
        plan.count(Change::Update) + plan.count(Change::Adopt),
        plan.count(Change::Delete)
    );
    let restarts = plan.count(Change::Restart);
    if restarts > 0 {
        let _ = write!(line, ", {restarts} to restart");
    }
    let reloads = plan.count(Change::Reload);
    if reloads > 0 {
        let _ = write!(line, ", {reloads} to reload");
    }
    line.push('.');
    line
}

const INDENT: &str = "      ";

/// The "changed outside privai" section, if any file drifted.
fn drift_note(out: &mut String, drift: &[Description]) {
    if drift.is_empty() {
        return;
    }
    out.push_str("Note: files changed outside privai\n\n");
    out.push_str(
        "privai detected the following changes made outside privai since it last\n\
         wrote these files:\n\n",
    );
    for file in drift {
        let what = file.summary.as_deref().unwrap_or_default();
        let _ = writeln!(out, "  {}: {what}", file.location());
    }
    out.push_str(
        "\nUnless you have made the same changes in the spec, the plan below puts\n\
         these files back as the spec says; apply shows each diff before overwriting.\n\n",
    );
}

/// The warning about files privai would take over, if any.
fn adoption_warning(out: &mut String, changes: &[Description]) {
    let files: Vec<&Description> = changes
        .iter()
        .filter(|d| d.change == Change::Adopt)
        .collect();
    if files.is_empty() {
        return;
    }
    out.push_str("Warning: files privai did not write\n\n");
    out.push_str(
        "These files exist, privai did not write them, and they differ from the spec.\n\
         `privai apply --adopt` saves each one, then replaces it:\n\n",
    );
    for file in files {
        let _ = writeln!(
            out,
            "  {} (saved as {}{BACKUP_SUFFIX})",
            file.location(),
            file.name
        );
    }
    out.push('\n');
}

/// One change: its symbol, address and summary, then why and the lines
/// under it.
fn block(out: &mut String, description: &Description) {
    let _ = write!(
        out,
        "  {} {}",
        description.change.symbol(),
        description.address
    );
    if let Some(summary) = &description.summary {
        let _ = write!(out, " ({summary})");
    }
    out.push('\n');
    if let Some(because) = &description.because {
        let _ = writeln!(out, "{INDENT}because: {}", because.join(", "));
    }
    for item in description.container_drift.iter().flatten() {
        let _ = writeln!(out, "{INDENT}container: {item}");
    }
    for detail in &description.details {
        match detail {
            Detail::Field { label, value } => {
                let _ = writeln!(out, "{INDENT}{label}: {value}");
            }
            Detail::Diff(text) => {
                for line in text.lines() {
                    let _ = writeln!(out, "{INDENT}{line}");
                }
            }
            Detail::Remark(text) => {
                let _ = writeln!(out, "{INDENT}{text}");
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
