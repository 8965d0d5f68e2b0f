//! What `privai apply` prints after the plan: the outcome of the run, and
//! what recovering an interrupted run did.

use crate::apply::{Outcome, Recovered, Recovery};
use crate::plan::{Change, Plan};
use std::io::{self, Write};

/// `Apply complete! Resources: A added, C changed, D destroyed.`, with
/// `, R restarted` and `, L reloaded` when services were: the numbers
/// count what the plan's last line counts ([`crate::output::plan_view::summary`]),
/// in the past tense.
pub fn summary(plan: &Plan) -> String {
    let mut line = format!(
        "Apply complete! Resources: {} added, {} changed, {} destroyed",
        plan.count(Change::Create),
        plan.count(Change::Update) + plan.count(Change::Adopt),
        plan.count(Change::Delete)
    );
    for (change, done) in [(Change::Restart, "restarted"), (Change::Reload, "reloaded")] {
        let n = plan.count(change);
        if n > 0 {
            line.push_str(&format!(", {n} {done}"));
        }
    }
    line.push('.');
    line
}

/// Prints the outcome of a run of `plan`; `manifest` is the new
/// generation's manifest hash.
pub fn outcome(
    out: &mut dyn Write,
    plan: &Plan,
    outcome: &Outcome,
    manifest: &str,
) -> io::Result<()> {
    match outcome {
        Outcome::Applied {
            generation,
            staged_services,
        } => {
            writeln!(out, "\n{}", summary(plan))?;
            writeln!(
                out,
                "Generation {generation} is current (manifest {}).",
                &manifest[..manifest.len().min(12)]
            )?;
            if *staged_services > 0 {
                writeln!(
                    out,
                    "{staged_services} service action{} not run: the system is staged under --root.",
                    if *staged_services == 1 {
                        " was"
                    } else {
                        "s were"
                    }
                )?;
            }
        }
        Outcome::RolledBack {
            failure,
            restored,
            kept,
            current,
        } => {
            writeln!(out, "\nApply failed: {failure}")?;
            match kept.is_empty() {
                true => writeln!(out, "Rolled back; nothing of this run remains:")?,
                false => writeln!(out, "Rolled back:")?,
            }
            for line in restored {
                writeln!(out, "  {line}")?;
            }
            not_undone(out, kept)?;
            match current {
                Some(n) => writeln!(out, "Generation {n} is still current.")?,
                None => writeln!(
                    out,
                    "Nothing was installed before this run, and nothing is now."
                )?,
            }
        }
    }
    Ok(())
}

/// Prints what recovering an interrupted run did.
pub fn recovery(out: &mut dyn Write, recovery: &Recovery) -> io::Result<()> {
    writeln!(
        out,
        "privai: the run `{}` started {} was interrupted.",
        recovery.command, recovery.started
    )?;
    match &recovery.outcome {
        Recovered::Completed { generation } => writeln!(
            out,
            "It had committed generation {generation}; its leftovers were removed."
        ),
        Recovered::RolledBack {
            current,
            restored,
            kept,
        } => {
            writeln!(out, "It was rolled back:")?;
            for line in restored {
                writeln!(out, "  {line}")?;
            }
            not_undone(out, kept)?;
            match current {
                Some(n) => writeln!(out, "Generation {n} is current."),
                None => writeln!(out, "Nothing is installed."),
            }
        }
    }
}

/// Lists what a rolled-back run did that the rollback left in place.
fn not_undone(out: &mut dyn Write, kept: &[String]) -> io::Result<()> {
    if kept.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "Not undone, as a rollback never undoes them (models are data; Headscale users are harmless and pre-auth keys expire):"
    )?;
    for line in kept {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::summary;
    use crate::output::plan_view::{self, tests::every_kind};
    use crate::plan::{Action, ServiceAction};

    #[test]
    fn apply_counts_what_the_plan_announced_in_the_same_words_in_the_past_tense() {
        let plan = every_kind();
        assert_eq!(
            plan_view::summary(&plan),
            "Plan: 4 to add, 6 to change, 2 to delete, 1 to restart."
        );
        assert_eq!(
            summary(&plan),
            "Apply complete! Resources: 4 added, 6 changed, 2 destroyed, 1 restarted."
        );
        let mut without_restart = every_kind();
        without_restart
            .actions
            .retain(|a| !matches!(a, Action::Service(ServiceAction::Restart { .. })));
        assert_eq!(
            summary(&without_restart),
            "Apply complete! Resources: 4 added, 6 changed, 2 destroyed."
        );
    }
}
