//! `privai lock`: shows `privai.lock` against what Ollama has, and with
//! `--update` records what Ollama has (accepting tags that moved upstream).

use super::Exit;
use super::target::TargetArgs;
use crate::lockfile::{LockFile, drift};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `privai lock`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec. Default: `privai.ncl` or `privai.toml` here.
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Record the digest Ollama has for each of the spec's models.
    #[arg(long)]
    pub update: bool,
}

/// Runs `privai lock`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let prepared = match super::plan::prepare(args.spec.as_deref(), &args.target, "nothing locked")?
    {
        Ok(prepared) => prepared,
        Err(exit) => return Ok(exit),
    };
    if !super::target::live(&prepared.install) {
        anyhow::bail!(
            "under --root the system is only staged: no Ollama of it runs, so there is nothing to compare `privai.lock` with (the Ollama at the spec's address on this machine is not the staged system's). Run `privai lock` without --root on the host that runs Ollama (--host NAME if its hostname differs)"
        );
    }
    let Some(url) = crate::observe::live::ollama_url(&prepared.desired) else {
        anyhow::bail!("the spec runs no Ollama on this host, so there is nothing to lock");
    };
    let tags = crate::api::ollama::Client::new(&url)?.tags()?;
    let path = LockFile::path_for(&prepared.spec);
    let mut lock = LockFile::read(&path)?.unwrap_or_default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if !args.update {
        let moved = drift(&lock, &tags);
        for m in &moved {
            writeln!(
                out,
                "{}: privai.lock pins {}, Ollama has {}",
                m.name, m.locked, m.found
            )?;
        }
        if moved.is_empty() {
            writeln!(out, "`{}` matches what Ollama has.", path.display())?;
            return Ok(Exit::Ok);
        }
        writeln!(out, "`privai lock --update` records what Ollama has.")?;
        return Ok(Exit::Changes);
    }
    let names: Vec<&str> = prepared
        .desired
        .models
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    let mut missing = Vec::new();
    for name in &names {
        match tags
            .iter()
            .find(|t| crate::model::model_name::same_model(&t.name, name))
        {
            Some(model) => {
                lock.set(name, &model.digest);
            }
            None => missing.push(*name),
        }
    }
    lock.retain(&names);
    lock.write(&path)?;
    writeln!(out, "Wrote `{}`.", path.display())?;
    if !missing.is_empty() {
        writeln!(
            out,
            "Ollama does not have {} yet; `privai apply` pulls and records them.",
            missing.join(", ")
        )?;
    }
    Ok(Exit::Ok)
}
