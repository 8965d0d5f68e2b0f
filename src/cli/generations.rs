//! `privai generations`, `privai rollback`, `privai gc`: the generations of
//! an install, like NixOS's system profiles.

use super::Exit;
use super::plan::Prepared;
use super::target::{self, TargetArgs};
use crate::state::generations::{Origin, Store};
use crate::state::{Install, StateDir};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `privai generations`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub remote: super::fleet_host::RemoteArgs,
}

/// Arguments of `privai rollback`.
#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The generation to install again. Default: the one before the current.
    #[arg(long, value_name = "N")]
    pub to: Option<u64>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Seconds each service may take to pass its health check.
    #[arg(long, value_name = "SECS")]
    pub health_timeout: Option<u64>,
    #[command(flatten)]
    pub remote: super::fleet_host::RemoteArgs,
}

/// Arguments of `privai gc`.
#[derive(Debug, clap::Args)]
pub struct GcArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How many of the newest generations to keep (the current one is always kept).
    #[arg(long, value_name = "N")]
    pub keep: usize,
}

fn store(install: &Install) -> Store {
    Store::new(StateDir::new(install.state_dir()))
}

/// Runs `privai generations`.
pub fn list(args: &ListArgs) -> anyhow::Result<Exit> {
    if let Some(exit) = super::fleet_host::generations(&args.remote, &args.target)? {
        return Ok(exit);
    }
    let install = target::install_without_spec(&args.target)?;
    let store = store(&install);
    let current = store.current()?;
    let numbers = store.committed()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if numbers.is_empty() {
        writeln!(
            out,
            "No generations in `{}`: nothing was applied here yet.",
            install.state_dir().display()
        )?;
        return Ok(Exit::Ok);
    }
    writeln!(
        out,
        "  GEN  CREATED               MANIFEST      FILES  ORIGIN"
    )?;
    for number in numbers.iter().rev() {
        let g = store.load(*number)?;
        let origin = match &g.info.origin {
            Origin::Apply { spec, .. } => format!("apply {spec}"),
            Origin::Rollback { to } => format!("rollback to {to}"),
            Origin::RotateKeys { spec, .. } => format!("rotate-keys {spec}"),
        };
        writeln!(
            out,
            "{} {:>4}  {:<20}  {:<12}  {:>5}  {origin}",
            if Some(*number) == current { "*" } else { " " },
            number,
            g.info.created,
            &g.info.manifest_sha256[..12],
            g.manifest.files.len(),
        )?;
    }
    Ok(Exit::Ok)
}

/// Runs `privai rollback`: installs an earlier generation again, as an
/// ordinary apply that commits a new generation.
pub fn rollback(args: &RollbackArgs) -> anyhow::Result<Exit> {
    if let Some(exit) = super::fleet_host::rollback(
        &args.remote,
        &args.target,
        args.to,
        args.auto_approve,
        args.health_timeout,
    )? {
        return Ok(exit);
    }
    let install = target::install_without_spec(&args.target)?;
    // The lock first: while another run holds it, the generations are
    // changing; the refusal names that run.
    let lock = target::lock(&install, &target::command_line())?;
    let store = store(&install);
    let current = store.current()?;
    let to = match args.to {
        Some(n) if store.uncommitted()? == Some(n) => anyhow::bail!(
            "generation {n} was never made current: the run that wrote it was interrupted, and the next command undoes it. `privai generations` lists the generations to roll back to"
        ),
        Some(n) => n,
        None => {
            let Some(current) = current else {
                anyhow::bail!("nothing was applied here yet, so there is nothing to roll back to");
            };
            store
                .committed()?
                .into_iter()
                .rev()
                .find(|n| *n < current)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "generation {current} is the first one; there is nothing before it to roll back to"
                    )
                })?
        }
    };
    let desired = store.rendered(to)?;
    let install = match install {
        Install::Live {
            home,
            state,
            operator,
            ..
        } => Install::Live {
            host: desired
                .artifacts
                .first()
                .map(|a| a.host.clone())
                .unwrap_or_default(),
            home,
            state,
            operator,
        },
        staged => staged,
    };
    let prepared = Prepared {
        spec: PathBuf::new(),
        spec_sha256: String::new(),
        desired: install.select(desired),
        install,
        model: None,
        notes: Vec::new(),
    };
    super::apply::execute(
        &prepared,
        Origin::Rollback { to },
        args.auto_approve,
        None,
        Some(lock),
        super::apply::Choices {
            health_timeout: args.health_timeout,
            ..Default::default()
        },
    )
}

/// Runs `privai gc`.
pub fn gc(args: &GcArgs) -> anyhow::Result<Exit> {
    let install = target::install_without_spec(&args.target)?;
    let _lock = target::lock_and_recover(&install, &target::command_line(), None)?;
    let store = store(&install);
    let current = store.current()?;
    let numbers = store.numbers()?;
    let keep: Vec<u64> = numbers.iter().rev().take(args.keep).copied().collect();
    let mut removed = Vec::new();
    for number in numbers {
        if keep.contains(&number) || Some(number) == current {
            continue;
        }
        store.remove(number)?;
        removed.push(number.to_string());
    }
    let copies = store.collect_garbage()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if removed.is_empty() {
        writeln!(out, "Nothing to remove.")?;
    } else {
        writeln!(
            out,
            "Removed generation{} {}.",
            if removed.len() == 1 { "" } else { "s" },
            removed.join(", ")
        )?;
    }
    if copies > 0 {
        writeln!(out, "Removed {copies} file copies no generation lists.")?;
    }
    Ok(Exit::Ok)
}
