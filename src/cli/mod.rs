//! The command line: clap definitions and dispatch to one module per command.

mod acl;
mod apply;
mod build;
mod check;
mod completions;
mod diagram;
mod enroll;
mod examples;
mod explain;
mod generations;
mod init;
mod lock;
mod models;
mod monitor;
mod plan;
mod rotate;
mod status;
mod target;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

/// `privai --version`: the version and the commit it was built from
/// ("unknown" outside a git checkout; see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("PRIVAI_COMMIT"),
    ")"
);

/// Deploy a fully private AI system (Headscale, Tailscale, Ollama, OpenClaw)
/// from one declarative spec.
#[derive(Debug, Parser)]
#[command(name = "privai", version = VERSION, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
    /// Most memory evaluating a spec may take, e.g. `2GiB`, `512MiB`.
    #[arg(long, global = true, env = "PRIVAI_MAX_EVAL_MEMORY", default_value = "2GiB",
          value_parser = crate::spec::limits::parse_size, value_name = "SIZE")]
    pub max_eval_memory: u64,
    /// Longest time evaluating a spec may take, e.g. `60s`, `2m`.
    #[arg(long, global = true, env = "PRIVAI_MAX_EVAL_TIME", default_value = "60s",
          value_parser = crate::spec::limits::parse_duration, value_name = "DURATION")]
    pub max_eval_time: std::time::Duration,
    /// A directory outside the spec's own tree that its imports may read (repeatable).
    #[arg(long = "allow-import", global = true, value_name = "DIR")]
    pub allow_import: Vec<std::path::PathBuf>,
}

/// privai's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented `privai.ncl` for this machine: its memory and GPU,
    /// models that fit it, you as its user.
    Init(init::Args),
    /// Validate a spec: contracts, references, security lints. Exit 1 on any error.
    Check(check::Args),
    /// Memory fit of each Ollama model on its host, with models that would fit instead.
    Models(models::Args),
    /// Render every artifact into a directory tree and print the generation hash.
    Build(build::Args),
    /// What `privai apply` would change, Terraform-style.
    Plan(plan::Args),
    /// Carry out the plan: write files, restart what changed, health-check,
    /// commit a new generation — or roll everything back and exit 3.
    Apply(apply::Args),
    /// Compare `privai.lock` (the digest of each model tag) with what Ollama
    /// has; `--update` records what Ollama has.
    Lock(lock::Args),
    /// List the generations of the install; `*` marks the current one.
    Generations(generations::ListArgs),
    /// Install an earlier generation again (default: the one before the current).
    Rollback(generations::RollbackArgs),
    /// Remove old generations, keeping the newest N and the current one.
    Gc(generations::GcArgs),
    /// Is the system healthy, and if not, why: Headscale, devices, Ollama,
    /// the gateway, services, generation and drift. Exit 0 healthy,
    /// 1 degraded, 2 down, 3 unknown (no report).
    Status(status::Args),
    /// Who can reach what: devices × services, by the spec's ACL.
    Acl(acl::Args),
    /// The system drawn from the spec: people, devices, hosts, services and
    /// the connections the ACL opens (`--format svg|mermaid|dot`).
    Diagram(diagram::Args),
    /// Everything needed to join a device to the tailnet: the `tailscale up`
    /// command and its steps, or the app's steps and a QR code of the login server.
    Enroll(enroll::Args),
    /// Replace the keys that are due: pre-auth keys of devices not yet joined
    /// before they expire, reusable keys and the gateway token on the spec's
    /// interval (run daily by the job privai installs).
    RotateKeys(rotate::Args),
    /// Read the services' logs and alert the owner: unexpected nodes,
    /// repeated auth failures, refused senders, Ollama out of memory or
    /// crashing, a certificate near expiry. Exit 0 quiet, 2 alerts, 1 error.
    Monitor(monitor::Args),
    /// The long explanation of a diagnostic code, e.g. `privai explain PRV066`;
    /// without a code, every code and its summary.
    Explain(explain::Args),
    /// Print a bundled example spec, e.g. `privai examples seed-home.ncl > privai.ncl`;
    /// without a name, list them.
    Examples(examples::Args),
    /// Print the completion script for a shell: `privai completions bash|zsh|fish|elvish|powershell`.
    Completions(completions::Args),
    /// Print privai's man page (roff): `privai man > privai.1`.
    Man,
}

/// Process exit statuses of privai.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success; no errors (warnings allowed).
    Ok = 0,
    /// An error: invalid spec, failed command.
    Error = 1,
    /// `privai plan --detailed-exitcode`: success, and there are changes.
    Changes = 2,
    /// `privai apply`: a step or health check failed and everything was
    /// rolled back to the previous generation.
    RolledBack = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // `apply` and `rollback` change the system: their output closing is a
    // failure they report themselves (`apply::execute`), never a success.
    let changes_the_system = matches!(
        cli.command,
        Command::Apply(_) | Command::Rollback(_) | Command::RotateKeys(_)
    );
    crate::spec::limits::install(crate::spec::Limits {
        max_memory: cli.max_eval_memory,
        max_time: cli.max_eval_time,
        allow_import: cli.allow_import.clone(),
    });
    let result = match cli.command {
        Command::Init(args) => init::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Models(args) => models::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Generations(args) => generations::list(&args),
        Command::Lock(args) => lock::run(&args),
        Command::Rollback(args) => generations::rollback(&args),
        Command::Gc(args) => generations::gc(&args),
        Command::Status(args) => return status::main(&args),
        Command::Acl(args) => acl::run(&args),
        Command::Diagram(args) => diagram::run(&args),
        Command::Enroll(args) => enroll::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Examples(args) => examples::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man => completions::man(),
        Command::RotateKeys(args) => rotate::run(&args),
        Command::Monitor(args) => monitor::run(&args),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(error) => {
            // A read-only command whose reader went away (`| head`) is done.
            if !changes_the_system && crate::output::sink::is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            // stderr may be closed too: never panic over it.
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::from(Exit::Error as u8)
        }
    }
}

/// The spec to use: the one given, else `privai.ncl`/`.toml`/`.json` here.
fn spec_path(given: Option<&std::path::Path>) -> anyhow::Result<std::path::PathBuf> {
    let cwd = std::env::current_dir()?;
    crate::spec::find_spec(given, &cwd).map_err(|d| anyhow::anyhow!("{}", d.message))
}

/// Loads the spec for a command that reads it without checking it fully;
/// an evaluation error points at `privai check`.
fn load_spec(given: Option<&std::path::Path>) -> anyhow::Result<crate::spec::LoadedSpec> {
    let path = spec_path(given)?;
    crate::spec::load(&path).map_err(|_| {
        anyhow::anyhow!(
            "`{}` does not evaluate; `privai check {}` shows why",
            path.display(),
            path.display()
        )
    })
}

/// The fully checked spec for a command that changes something (`build`,
/// `plan`); `Err(exit)` after printing the errors and that `nothing` was done.
fn checked_spec(
    given: Option<&std::path::Path>,
    nothing: &str,
) -> anyhow::Result<Result<crate::model::Spec, Exit>> {
    let path = spec_path(given)?;
    let mut outcome = crate::check::check_file(&path);
    match outcome.model.take() {
        Some(spec) if !outcome.diagnostics.iter().any(|d| d.is_error()) => Ok(Ok(spec)),
        _ => build::refuse(&path, &outcome, nothing).map(Err),
    }
}
