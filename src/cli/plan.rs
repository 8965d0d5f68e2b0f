//! `privai plan`: what `privai apply` would change, Terraform-style. This
//! slice plans files only, and only under an explicit `--root`.

use super::Exit;
use crate::render::render;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `privai plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec (`.ncl`, `.toml` or `.json`). Default: `privai.ncl` or `privai.toml` here.
    pub spec: Option<PathBuf>,
    /// Stage the system under DIR: each install path is read from
    /// `DIR/HOST/PATH` (`~/` as `DIR/HOST/HOME/`), the previous install's
    /// manifest from `DIR/.privai/manifest.json`. Default `/`, which needs
    /// `privai apply` and is not available yet: pass `--root` for now.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Exit 0 when there are no changes, 1 on an error, 2 when there are changes.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// Runs `privai plan`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let Some(root) = &args.root else {
        anyhow::bail!("plan against the live system comes with `privai apply`; pass --root DIR");
    };
    let spec = match super::checked_spec(args.spec.as_deref(), "nothing planned")? {
        Ok(spec) => spec,
        Err(exit) => return Ok(exit),
    };
    let rendered = render(&spec);
    let observed = crate::observe::files::observe(root, &rendered)
        .with_context(|| format!("observing the files under `{}`", root.display()))?;
    let plan = crate::plan::plan(&rendered, &observed);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(crate::output::plan_view::render(&plan).as_bytes())?;
    out.flush()?;
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        Exit::Changes
    } else {
        Exit::Ok
    })
}
