//! Undoing a run: after a failed step or health check ([`roll_back`]), or
//! after a run was killed ([`recover`]). Both read only what the journal
//! recorded, so a run can be undone by another process.

use super::{Outcome, Services};
use crate::render::units::ServiceUnit;
use crate::state::generations::Store;
use crate::state::journal::{self, Journal, Record, Verb};
use crate::state::{Install, StateDir, atomic};

/// What [`recover`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The interrupted run's command line.
    pub command: String,
    /// When it started.
    pub started: String,
    /// How it was finished.
    pub outcome: Recovered,
}

/// How an interrupted run was finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// It had committed its generation; only its leftovers were removed.
    Completed {
        /// The generation it made current.
        generation: u64,
    },
    /// It was undone.
    RolledBack {
        /// The generation current again (`None`: nothing was installed before).
        current: Option<u64>,
        /// What undoing did, one line each.
        restored: Vec<String>,
        /// What the run did that a rollback does not undo ([`not_undone`]).
        kept: Vec<String>,
    },
}

/// Finishes a run that was interrupted (its journal is still there): when
/// it had made its generation current, removes its leftovers; otherwise
/// undoes it. Call it, holding the state lock, before anything reads the
/// state. `Ok(None)` when no run was interrupted.
pub fn recover(
    install: &Install,
    services: Option<&mut dyn Services>,
) -> anyhow::Result<Option<Recovery>> {
    let state = StateDir::new(install.state_dir());
    let Some(records) = journal::read(&state.journal())? else {
        // No run is in progress (the caller holds the lock): a `run/` is
        // left from one killed as it began.
        remove_run_dir(&state)?;
        return Ok(None);
    };
    let Some(Record::Begin {
        command,
        from,
        to,
        started,
        ..
    }) = records.first().cloned()
    else {
        // Killed before its first record reached the disk: it did nothing.
        remove_run_dir(&state)?;
        std::fs::remove_file(state.journal())?;
        return Ok(None);
    };
    let store = Store::new(state.clone());
    let mut journal = Journal::reopen(&state.journal())?;
    // Journaled before this process writes anything, so that its own temp
    // files are removed too should it be killed in turn.
    let pid = std::process::id();
    journal.append(&Record::Recovery { pid })?;
    let mut pids = journal::pids(&records);
    pids.push(pid);
    remove_temp_files(&state, &records, &pids)?;
    let rolled_back = records.contains(&Record::RolledBack);
    let outcome = if store.current()? == Some(to) {
        Recovered::Completed { generation: to }
    } else if rolled_back {
        Recovered::RolledBack {
            current: from,
            restored: Vec::new(),
            kept: not_undone(&records),
        }
    } else {
        let restored = undo_records(&records, services);
        store.remove(to)?;
        journal.append(&Record::RolledBack)?;
        Recovered::RolledBack {
            current: from,
            restored,
            kept: not_undone(&records),
        }
    };
    clean_up(&state, journal, &records)?;
    Ok(Some(Recovery {
        command,
        started,
        outcome,
    }))
}

/// Undoes the run in progress after `failure`, and reports it.
#[allow(clippy::too_many_arguments)]
pub(super) fn roll_back(
    state: &StateDir,
    from: Option<u64>,
    to: u64,
    mut journal: Journal,
    records: &[Record],
    services: Option<&mut dyn Services>,
    failure: &str,
) -> anyhow::Result<Outcome> {
    journal.append(&Record::RollbackStarted {
        reason: failure.to_owned(),
    })?;
    let restored = undo_records(records, services);
    Store::new(state.clone()).remove(to)?;
    journal.append(&Record::RolledBack)?;
    clean_up(state, journal, records)?;
    Ok(Outcome::RolledBack {
        failure: failure.to_owned(),
        restored,
        kept: not_undone(records),
        current: from,
    })
}

/// The model, Headscale and Matrix steps that `records` say were done: a
/// rollback does not undo them (models are data; a Headscale user is
/// harmless and a pre-auth key expires; a Matrix account holds its user's
/// messages), so it reports them instead, one line each, as
/// the plan names the action (`create model mac:llama3.2:3b`).
pub(super) fn not_undone(records: &[Record]) -> Vec<String> {
    let done: std::collections::BTreeSet<usize> = records
        .iter()
        .filter_map(|r| match r {
            Record::Done { step } => Some(*step),
            _ => None,
        })
        .collect();
    records
        .iter()
        .filter_map(|r| match r {
            Record::Model { step, action }
            | Record::Control { step, action }
            | Record::Matrix { step, action }
                if done.contains(step) =>
            {
                Some(action.clone())
            }
            _ => None,
        })
        .collect()
}

/// Removes the run's backups (those of secrets sit next to them), then its
/// journal: the run is over.
pub(super) fn clean_up(
    state: &StateDir,
    journal: Journal,
    records: &[Record],
) -> anyhow::Result<()> {
    for record in records {
        if let Record::File {
            backup: Some(backup),
            ..
        } = record
        {
            atomic::remove(&backup.copy)?;
        }
    }
    remove_run_dir(state)?;
    journal.finish()?;
    Ok(())
}

/// Removes the run's `run/` directory (its backups), if there is one.
fn remove_run_dir(state: &StateDir) -> anyhow::Result<()> {
    let run = state.run();
    match std::fs::remove_dir_all(&run) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::Error::from(e).context(format!("removing `{}`", run.display()))),
    }
}

/// Removes every temp file processes `pids` may have left while working on
/// the run `records` journal: beside each file a step names (the file, its
/// saved copy, its `.before-privai` copy), and anywhere in the state
/// directory. Runs before anything is restored, so that the directories the
/// run created are empty again once their files are gone.
fn remove_temp_files(state: &StateDir, records: &[Record], pids: &[u32]) -> anyhow::Result<()> {
    for record in records {
        let Record::File {
            path,
            backup,
            saved_as,
            ..
        } = record
        else {
            continue;
        };
        let beside = std::iter::once(path)
            .chain(backup.as_ref().map(|b| &b.copy))
            .chain(saved_as.as_ref());
        for file in beside {
            for pid in pids {
                atomic::unlink(&atomic::temp_path(file, *pid))?;
            }
        }
    }
    let suffixes: Vec<String> = pids.iter().map(|p| format!(".privai-tmp-{p}")).collect();
    remove_matching(state.dir(), &suffixes)
}

/// Removes, under `dir`, every file whose name ends with one of `suffixes`.
fn remove_matching(dir: &std::path::Path, suffixes: &[String]) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(anyhow::Error::from(e).context(format!("reading `{}`", dir.display())));
        }
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            remove_matching(&path, suffixes)?;
        } else if suffixes
            .iter()
            .any(|s| entry.file_name().to_string_lossy().ends_with(s.as_str()))
        {
            atomic::unlink(&path)?;
        }
    }
    Ok(())
}

/// Undoes what `records` say was started: stops services the run started,
/// puts every file back (pre-image or absent, newest first), then restarts
/// (or reloads) the services the run restarted, reloaded or stopped, on
/// their old files, and sets Headscale's previous policy again. Keeps
/// going after an error, which it reports among the lines it returns.
fn undo_records(records: &[Record], mut services: Option<&mut dyn Services>) -> Vec<String> {
    let mut lines = Vec::new();
    let touched: Vec<(Verb, &ServiceUnit)> = records
        .iter()
        .filter_map(|r| match r {
            Record::Service { verb, unit, .. } => Some((*verb, unit)),
            _ => None,
        })
        .collect();
    if let Some(services) = services.as_deref_mut() {
        for (_, unit) in touched.iter().rev().filter(|(v, _)| *v == Verb::Start) {
            lines.push(match services.stop(unit) {
                Ok(()) => format!("stopped {} (started by the failed run)", name(unit)),
                Err(e) => format!("could not stop {}: {e}", name(unit)),
            });
        }
    }
    for record in records.iter().rev() {
        let Record::File {
            path,
            backup,
            saved_as,
            created_dirs,
            ..
        } = record
        else {
            continue;
        };
        let result = match backup {
            // Saved before the file is replaced: without its copy, the run
            // was killed before it changed the file.
            Some(backup) if !backup.copy.exists() => continue,
            Some(backup) => std::fs::read(&backup.copy)
                .and_then(|bytes| atomic::write(path, &bytes, backup.mode))
                .map(|()| format!("restored {}", path.display())),
            None => atomic::remove(path).map(|_| format!("removed {}", path.display())),
        };
        lines.push(result.unwrap_or_else(|e| format!("could not restore {}: {e}", path.display())));
        if let Some(saved_as) = saved_as {
            let _ = atomic::remove(saved_as);
        }
        for dir in created_dirs {
            // Only if empty: another step may have put files there.
            let _ = std::fs::remove_dir(dir);
        }
    }
    if let Some(services) = services {
        // In dependency order: Headscale, Ollama, the gateway, key rotation.
        let mut again: Vec<&(Verb, &ServiceUnit)> =
            touched.iter().filter(|(v, _)| *v != Verb::Start).collect();
        again.sort_by_key(|(_, unit)| (unit.host.clone(), unit.id));
        for (verb, unit) in again {
            let (done, result) = match verb {
                Verb::Restart => ("restarted", services.restart(unit)),
                Verb::Reload => ("reloaded", services.reload(unit)),
                _ => ("started", services.start(unit)),
            };
            // The journal records the unit as the failed run had it: its
            // containers' definition is the new one, not the restored one,
            // so only the health answer is checked.
            let restored = ServiceUnit {
                definition: None,
                ..(*unit).clone()
            };
            let result = result.and_then(|()| match unit.health {
                Some(_) => services.health(&restored),
                None => Ok(()),
            });
            lines.push(match result {
                Ok(()) => format!("{done} {} on its previous files: healthy", name(unit)),
                Err(e) => format!("{} did not come back: {e}", name(unit)),
            });
        }
        // Headscale is up again: put its previous policy back.
        for record in records.iter().rev() {
            let Record::Policy { previous, .. } = record else {
                continue;
            };
            if services.get_policy().ok().as_ref() == Some(previous) {
                lines.push("Headscale still holds its previous ACL policy".to_owned());
                continue;
            }
            lines.push(match previous {
                Some(previous) => match services.set_policy(previous) {
                    Ok(()) => "set Headscale's previous ACL policy again".to_owned(),
                    Err(e) => format!("could not set Headscale's previous ACL policy: {e}"),
                },
                None => "kept the new ACL policy in Headscale: it held none before, and no policy would allow everything".to_owned(),
            });
        }
    }
    lines
}

fn name(unit: &ServiceUnit) -> String {
    format!("{}:{}", unit.host, unit.id.name())
}
