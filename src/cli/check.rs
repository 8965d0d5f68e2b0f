//! `privai check`: load, evaluate and validate a spec; print every finding.
//! Every format prints its report on stdout; stderr carries only errors of
//! privai itself (an unwritable output).

use super::Exit;
use crate::diagnostic::Diagnostic;
use crate::output::diagnostics::{self, Format};
use crate::sources::Sources;
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Arguments of `privai check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec (`.ncl`, `.toml` or `.json`). Default: `privai.ncl` or `privai.toml` here.
    pub spec: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs `privai check`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let cwd = std::env::current_dir()?;
    let outcome = match crate::spec::find_spec(args.spec.as_deref(), &cwd) {
        Ok(path) => crate::check::check_file(&path),
        Err(d) => crate::check::Outcome {
            spec: "(no spec)".into(),
            diagnostics: vec![*d],
            sources: Sources::default(),
            model: None,
        },
    };
    let failed = outcome.diagnostics.iter().any(Diagnostic::is_error);
    match args.format {
        Format::Human => {
            // The report is check's result: on stdout, like the JSON and
            // GitHub formats, so `privai check | less` shows it.
            let mut out = StandardStream::stdout(color_choice());
            diagnostics::write_human(&mut out, &outcome.sources, &outcome.diagnostics)?;
            writeln!(
                out,
                "{}",
                diagnostics::summary(&outcome.spec, &outcome.diagnostics)
            )?;
        }
        Format::Json => {
            let stdout = std::io::stdout();
            diagnostics::write_json(&mut stdout.lock(), &outcome.spec, &outcome.diagnostics)?;
        }
        Format::Github => {
            let stdout = std::io::stdout();
            diagnostics::write_github(&mut stdout.lock(), &outcome.diagnostics)?;
        }
    }
    Ok(if failed { Exit::Error } else { Exit::Ok })
}

/// Colour only on a terminal, and never when `NO_COLOR` is set.
fn color_choice() -> ColorChoice {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if no_color || !std::io::stdout().is_terminal() {
        ColorChoice::Never
    } else {
        ColorChoice::Auto
    }
}
