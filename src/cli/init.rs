//! `privai init`: writes a commented `privai.ncl` for this machine and
//! prints the three commands to run next.

use super::Exit;
use crate::init::{choose_models, detect, next_commands, render};
use crate::sizing::catalog::Catalog;
use anyhow::{Context, bail};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `privai init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A bundled profile to start from too (e.g. `linux-server`); what
    /// `init` finds on this machine wins over it.
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Where to write the spec.
    #[arg(long, value_name = "FILE", default_value = "privai.ncl")]
    pub out: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Runs `privai init`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    if let Some(profile) = &args.profile
        && !crate::spec::bundle::profile_names().any(|p| p == profile)
    {
        let known: Vec<&str> = crate::spec::bundle::profile_names().collect();
        bail!(
            "there is no bundled profile `{profile}`; choose one of: {}",
            known.join(", ")
        );
    }
    if args.out.extension().and_then(|e| e.to_str()) != Some("ncl") {
        bail!(
            "`{}` is not a `.ncl` file; `privai init` writes a Nickel spec, e.g. `--out privai.ncl`",
            args.out.display()
        );
    }
    if !args.force && std::fs::symlink_metadata(&args.out).is_ok() {
        bail!(
            "`{}` exists; `privai init` does not overwrite it: pass `--force` to replace it, or `--out` another file",
            args.out.display()
        );
    }
    // `--force` replaces a symbolic link itself, never the file it points to.
    if args.force && std::fs::symlink_metadata(&args.out).is_ok_and(|m| m.file_type().is_symlink())
    {
        std::fs::remove_file(&args.out)
            .with_context(|| format!("cannot replace `{}`", args.out.display()))?;
    }
    let facts = detect::this_machine()?;
    let choice = choose_models(&facts, Catalog::bundled())?;
    let text = render(&facts, &choice, args.profile.as_deref());
    crate::state::atomic::write(&args.out, text.as_bytes(), 0o644)
        .with_context(|| format!("cannot write `{}`", args.out.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "Wrote {} for `{}` ({}, {} GB{}): primary model {}{}.",
        args.out.display(),
        crate::init::name_from(&facts.hostname, "server"),
        match facts.platform {
            crate::model::Platform::Darwin => "macOS",
            crate::model::Platform::Linux => "Linux",
        },
        facts.ram_gb,
        facts
            .gpu
            .as_ref()
            .map(|g| format!(", {} with {} GB", g.name, g.memory_gb))
            .unwrap_or_default(),
        choice.primary,
        choice
            .fallback
            .as_ref()
            .map(|f| format!(", fallback {f}"))
            .unwrap_or_default(),
    )?;
    writeln!(out, "\nNext:")?;
    for command in next_commands(&args.out.display().to_string()) {
        writeln!(out, "  {command}")?;
    }
    Ok(Exit::Ok)
}
