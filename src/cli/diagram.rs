//! `privai diagram`: the system drawn from the spec (SVG, Mermaid or DOT).

use super::Exit;
use crate::diagram::{Diagram, dot, mermaid, svg};
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
}

/// Runs `privai diagram`: the diagram on stdout.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let loaded = super::load_spec(args.spec.as_deref())?;
    let spec = &loaded.spec;
    let diagram = Diagram::of(spec);
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
