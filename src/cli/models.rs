//! `privai models`: the memory fit of each model on the host that runs Ollama.

use super::Exit;
use crate::output::models::{JSON_SCHEMA_VERSION, render};
use crate::sizing::catalog::Catalog;
use crate::sizing::fit::{HostFit, Verdict, assess};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `privai models`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec (`.ncl`, `.toml` or `.json`). Default: `privai.ncl` or `privai.toml` here.
    pub spec: Option<PathBuf>,
    /// Print a JSON report instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// The JSON report of `privai models --json`.
#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    version: u32,
    hosts: Vec<&'a HostFit>,
}

/// Runs `privai models`. Exits 1 when a model does not fit or cannot be sized.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let loaded = super::load_spec(args.spec.as_deref())?;
    let fits: Vec<HostFit> = assess(&loaded.spec, Catalog::bundled())
        .into_iter()
        .collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let report = JsonReport {
            version: JSON_SCHEMA_VERSION,
            hosts: fits.iter().collect(),
        };
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else if fits.is_empty() {
        writeln!(out, "no host runs Ollama (give a host the `'ollama` role)")?;
    } else {
        for fit in &fits {
            write!(out, "{}", render(fit))?;
        }
    }
    let bad = fits.iter().any(|f| {
        !f.crowding.is_empty()
            || f.models
                .iter()
                .any(|m| matches!(m.verdict, Verdict::TooBig | Verdict::Unknown))
    });
    Ok(if bad { Exit::Error } else { Exit::Ok })
}
