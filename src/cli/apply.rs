//! `privai apply`: shows the plan, asks, carries it out, commits a new
//! generation — or undoes everything and exits 3.

use super::Exit;
use super::plan::{Prepared, observe_and_plan, prepare};
use super::target::{self, TargetArgs};
use crate::apply::{Event, Progress};
use crate::apply::{Options, Outcome};
use crate::lockfile::LockFile;
use crate::output::apply_view;
use crate::output::events::{Format, Printer};
use crate::output::sink::Sink;
use crate::render::manifest::Manifest;
use crate::state::generations::Origin;
use crate::state::lock::StateLock;
use crate::state::saved_plan::SavedPlan;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Why an apply whose standard input is not a terminal did not go ahead,
/// and the two ways to approve it there.
pub(super) const NOT_A_TERMINAL: &str = "privai asked for `yes` on standard input, which is not a terminal, and did not get it; nothing was changed. To apply without a terminal, pass --auto-approve, or save the plan with `privai plan -o plan.json`, review it, and apply exactly that plan with `privai apply plan.json`";

/// Arguments of `privai apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec, or a plan saved with `privai plan -o FILE`. Default:
    /// `privai.ncl` or `privai.toml` here.
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Replace files privai did not write, saving each as `<name>.before-privai`.
    #[arg(long)]
    pub adopt: bool,
    /// Also remove what privai created earlier and the spec dropped
    /// (models privai pulled; never one it did not pull).
    #[arg(long)]
    pub prune: bool,
    /// Seconds each service may take to pass its health check (default: the
    /// service's own, 60 s).
    #[arg(long, value_name = "SECS")]
    pub health_timeout: Option<u64>,
    /// Print the run as JSON lines, one event each (the plan, each step
    /// started and done, progress, failure, the outcome). Needs
    /// --auto-approve or a saved plan: there is no one to ask.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub fleet: super::fleet::FleetArgs,
    /// Across the fleet: how many independent hosts apply at once.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: u16,
}

/// Runs `privai apply`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let saved = match &args.spec {
        Some(path) if path.is_file() => SavedPlan::read(path)?,
        _ => None,
    };
    if saved.is_none()
        && let Some(spec) = args
            .fleet
            .spec_for_fleet(args.spec.as_deref(), &args.target)?
    {
        let options = super::fleet::Options {
            adopt: args.adopt,
            health_timeout: args.health_timeout,
            auto_approve: args.auto_approve,
            parallel: usize::from(args.parallel),
            ..args.fleet.options(args.json, args.prune, false)
        };
        return super::fleet::apply(&spec, &options);
    }
    let (spec, target) = match &saved {
        Some(saved) => {
            if args.target.root.is_some() || args.target.host.is_some() {
                anyhow::bail!("a saved plan already says where it applies; drop --root/--host");
            }
            (
                Some(saved.spec.clone()),
                TargetArgs {
                    root: saved.target.root.clone(),
                    host: saved.target.host.clone(),
                },
            )
        }
        None => (args.spec.clone(), args.target.clone()),
    };
    let prepared = match prepare(spec.as_deref(), &target, "nothing applied")? {
        Ok(prepared) => prepared,
        Err(exit) => return Ok(exit),
    };
    if let Some(saved) = &saved {
        refuse_if_spec_changed(saved, &prepared)?;
    }
    let origin = Origin::Apply {
        spec: prepared.spec.display().to_string(),
        spec_sha256: prepared.spec_sha256.clone(),
    };
    let approved = args.auto_approve || saved.is_some();
    if args.json && !approved {
        anyhow::bail!(
            "`privai apply --json` cannot ask for approval; nothing was changed. Pass --auto-approve, or apply a saved plan (`privai plan -o plan.json`, then `privai apply plan.json --json`)"
        );
    }
    execute(
        &prepared,
        origin,
        approved,
        saved.as_ref(),
        None,
        Choices {
            adopt: args.adopt,
            prune: args.prune,
            health_timeout: args.health_timeout,
            json: args.json,
        },
    )
}

fn refuse_if_spec_changed(saved: &SavedPlan, prepared: &Prepared) -> anyhow::Result<()> {
    if saved.spec_sha256 != prepared.spec_sha256
        || saved.manifest_sha256 != Manifest::of(&prepared.desired).hash()
    {
        anyhow::bail!(
            "the saved plan is stale: `{}` changed since the plan was made; nothing was changed. Run `privai plan -o` again and review the new plan",
            saved.spec.display()
        );
    }
    Ok(())
}

/// What the operator chose on the command line.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Choices {
    /// `--adopt`.
    pub adopt: bool,
    /// `--prune`.
    pub prune: bool,
    /// `--health-timeout`.
    pub health_timeout: Option<u64>,
    /// `--json`: events as JSON lines.
    pub json: bool,
}

/// Plans `prepared` and applies it (shared by `apply` and `rollback`),
/// holding the state lock: `held` if the caller took it, else taken here.
pub(super) fn execute(
    prepared: &Prepared,
    origin: Origin,
    approved: bool,
    saved: Option<&SavedPlan>,
    held: Option<StateLock>,
    choices: Choices,
) -> anyhow::Result<Exit> {
    let Choices {
        adopt,
        prune,
        health_timeout,
        json,
    } = choices;
    // `--health-timeout` is what the plan shows and apply waits.
    let overridden;
    let prepared = match health_timeout {
        Some(secs) => {
            let mut copy = prepared.clone();
            for unit in &mut copy.desired.services {
                unit.health_timeout_secs = secs;
            }
            overridden = copy;
            &overridden
        }
        None => prepared,
    };
    let install = &prepared.install;
    let command = target::command_line();
    let mut services = target::services(install, health_timeout, &prepared.desired)?;
    let _lock = match held {
        Some(lock) => lock,
        None => target::lock(install, &command)?,
    };
    target::recover(
        install,
        services
            .as_deref_mut()
            .map(|s| s as &mut dyn crate::apply::Services),
    )?;
    let (observed, mut plan, live) = observe_and_plan(prepared, prune)?;
    let prepared = &live;
    if let Some(saved) = saved {
        if saved.fingerprint != observed.fingerprint() {
            anyhow::bail!(
                "the saved plan is stale: the installed system changed since the plan was made (current generation {} then, {} now, or files differ); nothing was changed. Run `privai plan -o` again and review the new plan",
                show(saved.generation),
                show(observed.generation)
            );
        }
        // Exactly what was reviewed: the saved actions, read back.
        plan.actions = saved.actions.clone();
    }
    // A closed stdout (`| head`) must neither stop a run half-way nor pass
    // for success: the run goes on to its end and the loss is reported.
    let mut out = Sink::new(std::io::stdout().lock());
    let notes = crate::output::plan_view::ViewNotes {
        staged: !target::live(install),
    };
    let format = if json { Format::Json } else { Format::Human };
    if json {
        let document = crate::output::plan_json::to_json(
            &plan,
            &crate::output::plan_json::JsonContext {
                generation: observed.generation,
                fingerprint: observed.fingerprint(),
                staged: notes.staged,
            },
        );
        Printer::new(&mut out, format).event(&Event::Planned { plan: &document })?;
    } else {
        out.write_all(crate::output::plan_view::render(&plan, &notes).as_bytes())?;
    }
    if plan.is_empty() && observed.generation.is_some() {
        return Ok(Exit::Ok);
    }
    if plan.adoptions().next().is_some() && !adopt {
        let file = plan
            .adoptions()
            .next()
            .and_then(|a| a.file())
            .expect("an adoption");
        anyhow::bail!(
            "`{}` on {} exists and privai did not write it; nothing was changed. Pass --adopt to save it as `{}.before-privai` and replace it, or move it away",
            file.path,
            file.host,
            file.path
        );
    }
    if !approved && !target::confirm(&mut out)? {
        writeln!(out, "Apply cancelled.")?;
        if !std::io::stdin().is_terminal() {
            eprintln!("{NOT_A_TERMINAL}");
        }
        return Ok(Exit::Error);
    }
    if !json {
        writeln!(out, "\nApplying:")?;
    }
    out.flush()?;
    if let Some(e) = out.error() {
        anyhow::bail!(
            "could not print the plan ({e}); nothing was applied. Run privai with its output to a terminal or a file that stays open (`> apply.log`)"
        );
    }
    let options = Options {
        adopt,
        command,
        failpoint: target::failpoint()?,
        // Kept when Ollama is asked (a live install, or the test recorder).
        lock: (observed.ollama.observed() && !prepared.spec.as_os_str().is_empty())
            .then(|| LockFile::path_for(&prepared.spec)),
    };
    #[cfg(feature = "test-hooks")]
    if let Some(n) = target::crash_at_temp_file()? {
        crate::state::atomic::crash_at_temp_file(n);
    }
    let outcome = crate::apply::apply(
        install,
        &prepared.desired,
        &plan,
        origin,
        services
            .as_deref_mut()
            .map(|s| s as &mut dyn crate::apply::Services),
        &options,
        &mut Printer::new(&mut out, format),
    )?;
    if !json {
        apply_view::outcome(
            &mut out,
            &plan,
            &outcome,
            &Manifest::of(&prepared.desired).hash(),
        )?;
    }
    out.flush()?;
    if let Some(e) = out.error() {
        let what = match &outcome {
            Outcome::Applied { generation, .. } => {
                format!("the run went on to its end: generation {generation} is current")
            }
            Outcome::RolledBack { current, .. } => format!(
                "the run failed and was rolled back: generation {} is current",
                show(*current)
            ),
        };
        // stderr may be closed as well; the exit status still tells.
        let _ = writeln!(
            std::io::stderr(),
            "error: privai's output was lost while it applied ({e}); {what}. `privai generations` shows the generations"
        );
        return Ok(match outcome {
            Outcome::Applied { .. } => Exit::Error,
            Outcome::RolledBack { .. } => Exit::RolledBack,
        });
    }
    Ok(match outcome {
        Outcome::Applied { .. } => Exit::Ok,
        Outcome::RolledBack { .. } => Exit::RolledBack,
    })
}

fn show(generation: Option<u64>) -> String {
    generation.map_or_else(|| "none".to_owned(), |n| n.to_string())
}
