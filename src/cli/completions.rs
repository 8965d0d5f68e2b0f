//! `privai completions SHELL` and `privai man`: the shell completion script
//! and the man page, generated from the command line's own definition.

use super::{Cli, Exit};
use clap::CommandFactory;
use std::io::Write;

/// Arguments of `privai completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell, e.g. `bash`: `privai completions bash > /etc/bash_completion.d/privai`.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Runs `privai completions`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let mut command = Cli::command();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    clap_complete::generate(args.shell, &mut command, "privai", &mut out);
    out.flush()?;
    Ok(Exit::Ok)
}

/// Runs `privai man`: the man page of privai, in roff.
pub fn man() -> anyhow::Result<Exit> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    out.flush()?;
    Ok(Exit::Ok)
}
