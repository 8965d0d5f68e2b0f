//! `privai diagram`: the system drawn from the spec (SVG, Mermaid or DOT).

use super::Exit;
use crate::diagram::{Diagram, dot, mermaid, svg};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

/// Output formats of `privai diagram`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A standalone SVG picture.
    Svg,
    /// A Mermaid flowchart (renders in GitHub and GitLab Markdown).
    Mermaid,
    /// A Graphviz digraph (`dot -Tpng`).
    Dot,
}

/// Arguments of `privai diagram`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec (`.ncl`, `.toml` or `.json`). Default: `privai.ncl` or `privai.toml` here.
    pub spec: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Svg)]
    pub format: Format,
    /// Mark each device online or offline, as the running Headscale reports.
    #[arg(long)]
    pub live: bool,
    #[command(flatten)]
    pub target: super::target::TargetArgs,
}

/// Whether each device of the spec is online, as Headscale reports now.
fn online_devices(args: &Args) -> anyhow::Result<Result<BTreeMap<String, bool>, Exit>> {
    use crate::observe::live::{HeadscaleState, observe_headscale};
    let prepared = match super::plan::prepare(args.spec.as_deref(), &args.target, "no diagram")? {
        Ok(prepared) => prepared,
        Err(exit) => return Ok(Err(exit)),
    };
    let Some(control) = &prepared.desired.control else {
        anyhow::bail!(
            "`--live` asks Headscale which devices are online, but this host runs no Headscale; pass `--host` the host that runs it"
        );
    };
    if !super::target::live(&prepared.install) {
        anyhow::bail!("`--live` asks the running Headscale; a staged install (`--root`) runs none");
    }
    match observe_headscale(&prepared.desired, &prepared.install)? {
        HeadscaleState::Running { nodes, .. } => Ok(Ok(control
            .devices
            .iter()
            .map(|d| {
                let node = crate::plan::headscale::device_node(d, &nodes, None);
                (d.name.clone(), node.is_some_and(|n| n.online))
            })
            .collect())),
        HeadscaleState::Unreachable { error, .. } => anyhow::bail!(
            "`--live` needs Headscale, which does not answer ({error}); `privai status` says more, or draw without `--live`"
        ),
        HeadscaleState::NotObserved => {
            anyhow::bail!("`--live` needs the Headscale API: set `headscale.api_key` in the spec")
        }
    }
}

/// Runs `privai diagram`: the diagram on stdout.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let loaded = super::load_spec(args.spec.as_deref())?;
    let spec = &loaded.spec;
    let mut diagram = Diagram::of(spec);
    if args.live {
        match online_devices(args)? {
            Ok(online) => diagram = diagram.with_online(&online),
            Err(exit) => return Ok(exit),
        }
    }
    let text = match args.format {
        Format::Svg => {
            let name = args
                .spec
                .as_deref()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "privai.ncl".into());
            svg(&diagram, &format!("privai · {name}"), &diagram.legend(spec))
        }
        Format::Mermaid => mermaid(&diagram),
        Format::Dot => dot(&diagram),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(Exit::Ok)
}
