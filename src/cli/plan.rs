//! `privai plan`: what `privai apply` would change, Terraform-style; with
//! `--json` in a versioned schema, with `-o FILE` saved for `apply FILE`.

use super::Exit;
use super::target::{self, TargetArgs};
use crate::lockfile::LockFile;
use crate::observe::Observed;
use crate::plan::Plan;
use crate::render::Rendered;
use crate::render::manifest::{Manifest, sha256_hex};
use crate::state::Install;
use crate::state::saved_plan::{FORMAT, KIND, SavedPlan, SavedTarget};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `privai plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec (`.ncl`, `.toml` or `.json`). Default: `privai.ncl` or `privai.toml` here.
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Exit 0 when there are no changes, 1 on an error, 2 when there are changes.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also remove what privai created earlier and the spec dropped
    /// (models privai pulled; never one it did not pull).
    #[arg(long)]
    pub prune: bool,
    /// Print the plan as JSON (schema: docs/plan-json.md) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Save the plan to FILE; `privai apply FILE` then carries out exactly
    /// this plan, or refuses if the spec or the system changed since.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub fleet: super::fleet::FleetArgs,
}

/// A checked spec, rendered for where it is installed.
#[derive(Clone)]
pub(super) struct Prepared {
    /// The spec file, absolute.
    pub spec: PathBuf,
    /// sha256 of its bytes.
    pub spec_sha256: String,
    /// Where it is installed.
    pub install: Install,
    /// What it renders for there.
    pub desired: Rendered,
    /// The spec, when there is one (a rollback installs a generation).
    pub model: Option<crate::model::Spec>,
    /// What preparing chose that the spec left open, for the plan's notes.
    pub notes: Vec<String>,
}

/// Checks and renders the spec for `target`; `Err(exit)` after printing
/// why it cannot be used (`nothing`: what was therefore not done).
pub(super) fn prepare(
    spec: Option<&Path>,
    target: &TargetArgs,
    nothing: &str,
) -> anyhow::Result<Result<Prepared, Exit>> {
    let path = std::path::absolute(super::spec_path(spec)?)?;
    let mut model = match super::checked_spec(Some(&path), nothing)? {
        Ok(model) => model,
        Err(exit) => return Ok(Err(exit)),
    };
    let install = target::install_for_spec(target, &model)?;
    let notes = choose_engine(&mut model, &install)?.into_iter().collect();
    let bytes = std::fs::read(&path).with_context(|| format!("reading `{}`", path.display()))?;
    Ok(Ok(Prepared {
        spec: path,
        spec_sha256: sha256_hex(&bytes),
        desired: target::staged_part(
            target,
            &model,
            install.select(crate::render::render(&model)),
        )?,
        install,
        model: Some(model),
        notes,
    }))
}

/// Sets the gateway's container engine when the spec leaves it out and
/// the gateway runs on this machine: the one found here
/// ([`crate::sys::engine::detect`]), or an error naming how to get one.
/// A staged install keeps the default (Podman). Returns the plan's note.
fn choose_engine(
    model: &mut crate::model::Spec,
    install: &crate::state::Install,
) -> anyhow::Result<Option<String>> {
    use crate::model::Role;
    let here = model
        .hosts
        .iter()
        .any(|h| h.roles.contains(&Role::Openclaw) && install.includes(&h.name));
    if model.openclaw.container.runtime.is_some() || !here || !target::live(install) {
        return Ok(None);
    }
    let runtime = crate::sys::engine::detect(target::runner().as_mut())
        .map_err(|e| anyhow::anyhow!("{e}; nothing was changed"))?;
    model.openclaw.container.runtime = Some(runtime);
    Ok(Some(format!(
        "the spec names no container engine (`openclaw.container.runtime`): the gateway runs under {}, the first found here of {}; set it in the spec to choose",
        crate::sys::engine::program(runtime),
        crate::sys::engine::ORDER
            .map(crate::sys::engine::program)
            .join(" and ")
    )))
}

/// Observes the system and plans; returns also the system as Headscale
/// can take it now (policy tests it would refuse held back).
pub(super) fn observe_and_plan(
    prepared: &Prepared,
    prune: bool,
) -> anyhow::Result<(Observed, Plan, Prepared)> {
    let lock = match prepared.spec.as_os_str().is_empty() {
        true => LockFile::default(),
        false => LockFile::read(&LockFile::path_for(&prepared.spec))?.unwrap_or_default(),
    };
    let mut runner = target::container_runner(&prepared.install, &prepared.desired);
    let observed = crate::observe::observe_all(
        &prepared.install,
        &prepared.desired,
        target::live(&prepared.install),
        runner.as_mut().map(|r| r as &mut dyn crate::sys::Runner),
        lock,
    )
    .context("observing the installed system")?;
    // The policy as Headscale can take it with the nodes it has now.
    let mut prepared = prepared.clone();
    let held = crate::plan::policy_tests::hold_back(&mut prepared.desired, &observed.headscale);
    // … and naming each node by the address Headscale gave it.
    let addresses = crate::plan::addresses::follow(&mut prepared.desired, &observed.headscale);
    let mut plan =
        crate::plan::plan_with(&prepared.desired, &observed, crate::plan::Options { prune });
    plan.notes.extend(prepared.notes.iter().cloned());
    plan.notes.extend(addresses);
    // Said when the plan gives Headscale a policy, which is when it matters.
    let sets_policy = plan.actions.iter().any(|a| {
        matches!(
            a,
            crate::plan::Action::Headscale(crate::plan::HeadscaleAction::SetPolicy { .. })
        ) || a.file().is_some_and(|f| f.path.ends_with("/policy.hujson"))
    });
    plan.notes.extend(held.filter(|_| sets_policy));
    if let Some(spec) = &prepared.model {
        plan.notes
            .extend(exact_fit_notes(spec, &observed.shown_models));
    }
    Ok((observed, plan, prepared))
}

/// What the memory fit check says with Ollama's own facts (`/api/show`,
/// observed) about the models Ollama has: a note for each that does not
/// fit, which the catalog may have missed. Nothing when Ollama did not
/// answer. Pure.
fn exact_fit_notes(
    spec: &crate::model::Spec,
    shown: &[crate::observe::live::ShownModel],
) -> Vec<String> {
    use crate::sizing::fit::{FactsSource, Verdict};
    let (exact, mut notes) = crate::observe::live::exact_from(shown);
    if exact.is_empty() {
        return notes;
    }
    let Some(fit) =
        crate::sizing::fit::assess_with(spec, crate::sizing::catalog::Catalog::bundled(), &exact)
    else {
        return notes;
    };
    for model in &fit.models {
        if let (FactsSource::Ollama { .. }, Verdict::TooBig, Some(estimate)) =
            (&model.source, model.verdict, &model.estimate)
        {
            notes.push(format!(
                "by Ollama's own facts, model {} needs {} at a context of {} but {} is left for models on {}; `privai models` shows the fit and what would fit",
                model.name,
                crate::sizing::gib(estimate.total),
                model.requested_context,
                crate::sizing::gib(fit.budget.available),
                fit.budget.host
            ));
        }
    }
    notes
}

/// The JSON plan.
pub(super) fn json(plan: &Plan, observed: &Observed, install: &Install) -> serde_json::Value {
    crate::output::plan_json::to_json(
        plan,
        &crate::output::plan_json::JsonContext {
            generation: observed.generation,
            fingerprint: observed.fingerprint(),
            staged: !target::live(install),
        },
    )
}

/// Runs `privai plan`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    if let Some(spec) = args
        .fleet
        .spec_for_fleet(args.spec.as_deref(), &args.target)?
    {
        if args.out.is_some() {
            anyhow::bail!(
                "a saved plan is of one host; nothing planned. Save each host's with `privai plan --host NAME -o FILE` on it, or plan the fleet without -o"
            );
        }
        let options = args
            .fleet
            .options(args.json, args.prune, args.detailed_exitcode);
        return super::fleet::plan(&spec, &options);
    }
    let prepared = match prepare(args.spec.as_deref(), &args.target, "nothing planned")? {
        Ok(prepared) => prepared,
        Err(exit) => return Ok(exit),
    };
    let mut services = target::services(&prepared.install, None, &prepared.desired)?;
    let _lock = target::lock_and_recover(
        &prepared.install,
        &target::command_line(),
        services
            .as_deref_mut()
            .map(|s| s as &mut dyn crate::apply::Services),
    )?;
    let (observed, plan, prepared) = observe_and_plan(&prepared, args.prune)?;
    // A reader that stops early (`| head`) does not stop `-o FILE`.
    let mut out = crate::output::sink::Sink::new(std::io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &json(&plan, &observed, &prepared.install))?;
        writeln!(out)?;
    } else {
        let notes = crate::output::plan_view::ViewNotes {
            staged: !target::live(&prepared.install),
        };
        out.write_all(crate::output::plan_view::render(&plan, &notes).as_bytes())?;
    }
    if let Some(file) = &args.out {
        let saved = SavedPlan {
            kind: KIND.to_owned(),
            format: FORMAT,
            privai_version: env!("CARGO_PKG_VERSION").to_owned(),
            spec: prepared.spec.clone(),
            spec_sha256: prepared.spec_sha256.clone(),
            manifest_sha256: Manifest::of(&prepared.desired).hash(),
            target: SavedTarget {
                root: match &prepared.install {
                    Install::Staged { root } => Some(root.clone()),
                    Install::Live { .. } => None,
                },
                host: match &prepared.install {
                    Install::Live { host, .. } => Some(host.clone()),
                    Install::Staged { .. } => None,
                },
            },
            generation: observed.generation,
            fingerprint: observed.fingerprint(),
            plan: json(&plan, &observed, &prepared.install),
            actions: plan.actions.clone(),
        };
        saved.write(file)?;
        if !args.json {
            writeln!(
                out,
                "\nSaved the plan to `{}`. To perform exactly these actions, run:\n    privai apply {}",
                file.display(),
                file.display()
            )?;
        }
    }
    out.finish()?;
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        Exit::Changes
    } else {
        Exit::Ok
    })
}
