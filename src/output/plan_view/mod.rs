//! The human view of a plan, in Terraform's grammar. Pure.
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

use crate::plan::{
    Action, Change, Drift, FileAction, HeadscaleAction, ManagedFile, ModelAction, Plan,
    SecretAction, ServiceAction, TextChange,
};
use crate::render::Owner;
use crate::render::secrets::{SecretFile, SecretSource};
use crate::render::units::{Health, LaunchdDomain, Manager, ServiceUnit};
use std::fmt::Write;

/// Lines of context around each change in a diff.
pub const CONTEXT: usize = 3;

/// Hex digits of a sha256 shown for a file whose contents are not.
pub const SHORT_HASH: usize = 8;

/// The summary line for an empty plan.
pub const NO_CHANGES: &str = "No changes. Your system matches the spec.";

/// The mode `apply` gives a secret file it writes.
pub const SECRET_MODE: u32 = 0o600;

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
    let mut out = String::new();
    drift_note(&mut out, plan);
    adoption_warning(&mut out, plan);
    out.push_str("Actions are indicated with the following symbols:\n");
    for change in plan.changes() {
        let _ = writeln!(out, "  {} {}", change.symbol(), change.meaning());
    }
    out.push_str("\nprivai will perform the following actions:\n");
    for action in &plan.actions {
        out.push('\n');
        block(&mut out, plan, action, notes);
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
fn drift_note(out: &mut String, plan: &Plan) {
    let drifted: Vec<&Action> = plan.drifted().collect();
    if drifted.is_empty() {
        return;
    }
    out.push_str("Note: files changed outside privai\n\n");
    out.push_str(
        "privai detected the following changes made outside privai since it last\n\
         wrote these files:\n\n",
    );
    for action in drifted {
        let (Some(file), Some(drift)) = (action.file(), action.drift()) else {
            continue;
        };
        let now = now(action);
        let what = match drift {
            Drift::Edited { recorded_sha256 } => format!(
                "edited, sha256 {} (written by privai) -> {} (now)",
                short(recorded_sha256),
                now.map_or("?", |(sha256, _)| short(sha256))
            ),
            Drift::ModeChanged { recorded_mode } => format!(
                "mode {recorded_mode:04o} (set by privai) -> {} (now)",
                now.map_or_else(|| "?".to_owned(), |(_, mode)| format!("{mode:04o}"))
            ),
            Drift::Removed => "removed".to_owned(),
        };
        let _ = writeln!(out, "  {}: {what}", location(file));
    }
    out.push_str(
        "\nUnless you have made the same changes in the spec, the plan below puts\n\
         these files back as the spec says; apply shows each diff before overwriting.\n\n",
    );
}

/// The warning about files privai would take over, if any.
fn adoption_warning(out: &mut String, plan: &Plan) {
    let files: Vec<&ManagedFile> = plan.adoptions().filter_map(Action::file).collect();
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
            location(file),
            file.path
        );
    }
    out.push('\n');
}

/// The sha256 and mode of a drifted file now, unless it is gone.
fn now(action: &Action) -> Option<(&str, u32)> {
    match action {
        Action::File(FileAction::Update {
            old_sha256,
            old_mode,
            ..
        }) => Some((old_sha256, *old_mode)),
        Action::File(FileAction::Delete { file, sha256, .. }) => Some((sha256, file.mode)),
        _ => None,
    }
}

fn block(out: &mut String, plan: &Plan, action: &Action, notes: &ViewNotes) {
    let symbol = action.change().symbol();
    if let Some(file) = action.file() {
        let _ = writeln!(
            out,
            "  {symbol} {} (mode {:04o}, owner {})",
            action.address(),
            file.mode,
            owner(file.owner)
        );
        file_details(out, action, file);
        let restarts = action.restarts();
        if !restarts.is_empty() {
            let names: Vec<&str> = restarts.iter().map(|s| s.name()).collect();
            let _ = writeln!(out, "{INDENT}restarts: {}", names.join(", "));
        }
        let reloads = action.reloads();
        if !reloads.is_empty() {
            let names: Vec<&str> = reloads.iter().map(|s| s.name()).collect();
            let _ = writeln!(out, "{INDENT}reloads: {}", names.join(", "));
        }
    } else if let Action::Secret(SecretAction::Write {
        secret,
        old_sha256,
        new_sha256,
    }) = action
    {
        let _ = writeln!(
            out,
            "  {symbol} {} (mode {SECRET_MODE:04o})",
            action.address()
        );
        secret_details(out, secret, old_sha256.as_deref(), new_sha256.as_deref());
        let restarts = action.restarts();
        if !restarts.is_empty() {
            let names: Vec<&str> = restarts.iter().map(|s| s.name()).collect();
            let _ = writeln!(out, "{INDENT}restarts: {}", names.join(", "));
        }
    } else if let Some(unit) = action.unit() {
        let _ = writeln!(
            out,
            "  {symbol} {} ({})",
            action.address(),
            manager(&unit.manager)
        );
        service_details(out, action, unit, notes);
    } else if let Action::Model(ModelAction::Pull {
        download_bytes,
        locked_digest,
        source,
        ..
    }) = action
    {
        let mut size = download_bytes.map_or_else(
            || "download size unknown".to_owned(),
            |bytes| format!("{} download", crate::sizing::gib(bytes)),
        );
        if let Some(from) = source.describe() {
            size = format!("{size}, {from}");
        }
        let _ = writeln!(out, "  {symbol} {} ({size})", action.address());
        if let Some(digest) = locked_digest {
            let _ = writeln!(out, "{INDENT}pinned by privai.lock: {digest}");
        }
    } else if let Action::Headscale(HeadscaleAction::CreateKey {
        user,
        tags,
        ephemeral,
        reusable,
        expiry_days,
        ..
    }) = action
    {
        let tags = if tags.is_empty() {
            String::new()
        } else {
            format!(", tags {}", tags.join(" "))
        };
        let kind = if *ephemeral { "ephemeral, " } else { "" };
        let uses = if *reusable { "reusable" } else { "single use" };
        let _ = writeln!(
            out,
            "  {symbol} {} (user {user}{tags}; {kind}{uses}, expires in {expiry_days} days)",
            action.address()
        );
    } else if let Action::Headscale(HeadscaleAction::ExpireKey { key, reason, .. }) = action {
        let _ = writeln!(out, "  {symbol} {} (key {key}: {reason})", action.address());
    } else if let Action::Headscale(HeadscaleAction::SetNodeTags { tags, .. }) = action {
        let _ = writeln!(out, "  {symbol} {} ({})", action.address(), tags.join(" "));
    } else if let Action::Headscale(HeadscaleAction::CreateUser { .. }) = action {
        let _ = writeln!(out, "  {symbol} {}", action.address());
    } else if let Action::Headscale(HeadscaleAction::DeleteUser { id, .. }) = action {
        let _ = writeln!(
            out,
            "  {symbol} {} (user {id}: not in the spec, owns no nodes)",
            action.address()
        );
    } else if let Action::Headscale(HeadscaleAction::SetPolicy {
        host,
        old_sha256,
        new_sha256,
        text,
    }) = action
    {
        let _ = writeln!(out, "  {symbol} {} (through the API)", action.address());
        let same_as_file = plan.actions.iter().find_map(|a| match a {
            Action::File(FileAction::Update {
                file,
                text: Some(change),
                ..
            }) if Some(change) == text.as_ref() => Some(file),
            _ => None,
        });
        match (text, old_sha256) {
            (Some(_), _) if let Some(file) = same_as_file => {
                let _ = writeln!(
                    out,
                    "{INDENT}policy: the change shown for {} above",
                    location(file)
                );
            }
            (Some(TextChange { old, new }), _) => {
                text_diff(out, &format!("{host} acl policy"), old, new);
            }
            (None, Some(old)) => {
                let _ = writeln!(
                    out,
                    "{INDENT}policy: sha256 {} -> {}",
                    short(old),
                    short(new_sha256)
                );
            }
            (None, None) => {
                let _ = writeln!(out, "{INDENT}policy: sha256 {}", short(new_sha256));
            }
        }
    } else if let Action::Model(ModelAction::Remove { .. }) = action {
        let _ = writeln!(
            out,
            "  {symbol} {} (pulled by privai, no longer in the spec)",
            action.address()
        );
    } else if let Action::Matrix(matrix) = action {
        // The Matrix domain: one line, what it is and what it does.
        let _ = writeln!(out, "  {symbol} {} ({})", action.address(), matrix.detail());
    }
}

fn file_details(out: &mut String, action: &Action, file: &ManagedFile) {
    match action {
        Action::File(FileAction::Create { sha256, .. })
        | Action::File(FileAction::Delete { sha256, .. })
            if file.secret =>
        {
            let _ = writeln!(
                out,
                "{INDENT}contents: (sensitive) sha256 {}",
                short(sha256)
            );
        }
        Action::File(FileAction::Update {
            old_mode,
            old_sha256,
            new_sha256,
            text,
            ..
        })
        | Action::File(FileAction::Adopt {
            old_mode,
            old_sha256,
            new_sha256,
            text,
            ..
        }) => {
            if *old_mode != file.mode {
                let _ = writeln!(out, "{INDENT}mode: {old_mode:04o} -> {:04o}", file.mode);
            }
            if old_sha256 != new_sha256 {
                match text {
                    // A secret's text is never shown, whatever the plan carries.
                    Some(TextChange { old, new }) if !file.secret => diff(out, file, old, new),
                    _ => {
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
        _ => {}
    }
}

/// `value: NAME, SOURCE (sensitive) …`: where a secret's value comes
/// from and its digests, never the value.
fn secret_details(out: &mut String, secret: &SecretFile, old: Option<&str>, new: Option<&str>) {
    let source = match &secret.source {
        SecretSource::Generate => "generated".to_owned(),
        SecretSource::Env { var } => format!("from ${var}"),
        SecretSource::SelfSigned { certificate, names } => format!(
            "a new key, with a self-signed certificate for {} at {certificate}",
            names.join(", ")
        ),
    };
    let digests = match (old, new) {
        (None, None) => String::new(),
        (None, Some(new)) => format!(" sha256 {}", short(new)),
        (Some(old), None) => format!(" sha256 {} -> (generated)", short(old)),
        (Some(old), Some(new)) if old == new => {
            format!(
                " sha256 {} (unchanged; mode set to {SECRET_MODE:04o})",
                short(old)
            )
        }
        (Some(old), Some(new)) => format!(" sha256 {} -> {}", short(old), short(new)),
    };
    let _ = writeln!(
        out,
        "{INDENT}value: {}, {source} (sensitive){digests}",
        secret.name
    );
}

fn service_details(out: &mut String, action: &Action, unit: &ServiceUnit, notes: &ViewNotes) {
    let staged = match action {
        Action::Service(ServiceAction::Stop { .. }) => "not stopped",
        Action::Service(ServiceAction::Start { .. }) => "not started",
        Action::Service(ServiceAction::Restart { because, .. }) => {
            let _ = writeln!(out, "{INDENT}because: {}", because.join(", "));
            "not restarted"
        }
        Action::Service(ServiceAction::Reload { because, .. }) => {
            let _ = writeln!(out, "{INDENT}because: {}", because.join(", "));
            "not reloaded"
        }
        Action::Service(ServiceAction::Repair { drift, .. }) => {
            for item in drift {
                let _ = writeln!(out, "{INDENT}container: {item}");
            }
            "not re-created"
        }
        _ => return,
    };
    if !matches!(action, Action::Service(ServiceAction::Stop { .. }))
        && let Some(health) = &unit.health
    {
        let check = match health {
            Health::Http { url } => format!("GET {url}"),
            Health::Tcp { addr } => format!("TCP connect {addr}"),
        };
        let _ = writeln!(
            out,
            "{INDENT}health: {check} within {} s",
            unit.health_timeout_secs
        );
    }
    if notes.staged {
        let _ = writeln!(out, "{INDENT}(staged under --root: {staged})");
    }
}

fn diff(out: &mut String, file: &ManagedFile, old: &str, new: &str) {
    text_diff(out, &location(file), old, new);
}

/// A unified diff of `old` (installed) and `new` (planned) text of the
/// thing `address` names.
fn text_diff(out: &mut String, address: &str, old: &str, new: &str) {
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

/// `HOST:PATH`.
fn location(file: &ManagedFile) -> String {
    format!("{}:{}", file.host, file.path)
}

/// The service manager's handle on a service, in a few words:
/// `launchd gui net.privai.ollama`, `systemd privai-ollama.service`,
/// `podman compose privai-gateway`.
fn manager(manager: &Manager) -> String {
    match manager {
        Manager::Launchd { domain, label, .. } => {
            let domain = match domain {
                LaunchdDomain::System => "system",
                LaunchdDomain::Gui => "gui",
            };
            format!("launchd {domain} {label}")
        }
        Manager::Systemd { unit } => format!("systemd {unit}"),
        Manager::Compose {
            runtime, project, ..
        } => format!("{runtime} compose {project}"),
    }
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
pub(crate) mod tests;
