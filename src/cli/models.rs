//! `privai models`: the memory fit of each model on the host that runs Ollama.
//!
//! When that host is this machine and its Ollama answers at the spec's
//! address, the models Ollama has are sized from Ollama's own facts
//! (`/api/tags`, `/api/show`); the others, and every model with
//! `--offline` or when Ollama does not answer, from the catalog or the
//! spec's `size_gb` ([`crate::sizing::fit::assess_with`]).

use super::Exit;
use crate::api::ollama::Client;
use crate::model::{Role, Spec};
use crate::output::models::{JSON_SCHEMA_VERSION, render};
use crate::render::ServiceId;
use crate::render::units::{Health, units};
use crate::sizing::catalog::Catalog;
use crate::sizing::fit::{Exact, HostFit, Verdict, assess_with};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// How long Ollama may take to answer its version (connecting included):
/// a local Ollama answers at once, and one that does not should not hold
/// up a command that works without it.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Arguments of `privai models`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec (`.ncl`, `.toml` or `.json`). Default: `privai.ncl` or `privai.toml` here.
    pub spec: Option<PathBuf>,
    /// Print a JSON report instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Never ask Ollama: size every model from the catalog (or `size_gb`),
    /// e.g. in CI.
    #[arg(long)]
    pub offline: bool,
    /// Which host of the spec this machine is; Ollama is asked only when it
    /// runs here. Default: the host named like this machine (its hostname).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
}

/// Whether, where and how Ollama was asked for the facts of its models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum Lookup {
    /// `--offline`: not asked.
    Offline,
    /// No host runs Ollama, or another host than this machine does: not asked.
    Elsewhere {
        /// The host that runs Ollama, if one does.
        ollama_host: Option<String>,
        /// This machine, as the spec would name it.
        this_host: String,
    },
    /// Asked, and no answer: every model is sized from the catalog.
    Unreachable {
        /// Ollama's URL, as the spec gives it.
        url: String,
        /// Why.
        error: String,
    },
    /// Asked: the models Ollama has are sized from its facts.
    Answered {
        /// Ollama's URL.
        url: String,
        /// Its version.
        version: String,
    },
}

/// The JSON report of `privai models --json`.
#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    version: u32,
    ollama: &'a Lookup,
    hosts: Vec<&'a HostFit>,
}

/// Runs `privai models`. Exits 1 when a model does not fit or cannot be sized.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let loaded = super::load_spec(args.spec.as_deref())?;
    let spec = &loaded.spec;
    if let Some(name) = &args.host
        && !spec.hosts.iter().any(|h| &h.name == name)
    {
        let names: Vec<&str> = spec.hosts.iter().map(|h| h.name.as_str()).collect();
        anyhow::bail!(
            "--host {name}: the spec has no host `{name}`; pass one of its hosts ({})",
            names.join(", ")
        );
    }
    let (lookup, exact, notes) = if args.offline {
        (Lookup::Offline, Exact::none(), Vec::new())
    } else {
        ask_ollama(spec, &this_host(args.host.as_deref()))
    };
    for note in &notes {
        eprintln!("{note}");
    }
    let fits: Vec<HostFit> = assess_with(spec, Catalog::bundled(), &exact)
        .into_iter()
        .collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let report = JsonReport {
            version: JSON_SCHEMA_VERSION,
            ollama: &lookup,
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

/// The name of this machine: `--host`, else its hostname.
fn this_host(given: Option<&str>) -> String {
    match given {
        Some(name) => name.to_owned(),
        None => gethostname::gethostname().to_string_lossy().into_owned(),
    }
}

/// The URL of the Ollama the spec runs on `this_host` (as `privai plan`
/// finds it: the address of its health check), or the host that runs it
/// instead. A hostname matches a host of the spec by its full or short
/// name, as for `privai plan`.
fn ollama_here(spec: &Spec, this_host: &str) -> Result<String, Option<String>> {
    let Some(host) = spec.service_host(Role::Ollama) else {
        return Err(None);
    };
    let short = this_host.split('.').next().unwrap_or(this_host);
    if host.name != this_host && host.name != short {
        return Err(Some(host.name.clone()));
    }
    units(spec)
        .into_iter()
        .find(|u| u.id == ServiceId::Ollama && u.host == host.name)
        .and_then(|u| match u.health {
            Some(Health::Http { url }) => url.strip_suffix("/api/version").map(str::to_owned),
            _ => None,
        })
        .ok_or_else(|| Some(host.name.clone()))
}

/// Asks the Ollama the spec runs on this machine for the facts of the
/// spec's models it has. Never fails: what Ollama cannot tell is sized from
/// the catalog, with a note (for stderr) saying so.
fn ask_ollama(spec: &Spec, this_host: &str) -> (Lookup, Exact, Vec<String>) {
    let url = match ollama_here(spec, this_host) {
        Ok(url) => url,
        Err(ollama_host) => {
            let lookup = Lookup::Elsewhere {
                ollama_host,
                this_host: this_host.to_owned(),
            };
            return (lookup, Exact::none(), Vec::new());
        }
    };
    let unreachable = |error: String| {
        let note = format!("Ollama not reachable at {url}: catalog facts");
        let lookup = Lookup::Unreachable {
            url: url.clone(),
            error,
        };
        (lookup, Exact::none(), vec![note])
    };
    let client = match Client::new(&url) {
        Ok(client) => client,
        Err(e) => return unreachable(e.to_string()),
    };
    let version = match client.clone().with_timeout(PROBE_TIMEOUT).version() {
        Ok(version) => version,
        Err(e) => return unreachable(e.to_string()),
    };
    let local = match client.tags() {
        Ok(local) => local,
        Err(e) => return unreachable(e.to_string()),
    };
    let wanted: Vec<&str> = spec.ollama.models.iter().map(|m| m.name.as_str()).collect();
    let (exact, notes) = crate::observe::live::exact_facts(&client, &local, &wanted);
    (Lookup::Answered { url, version }, exact, notes)
}
