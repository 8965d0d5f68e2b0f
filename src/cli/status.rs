//! `privai status`: one screen on the whole system; exit 0 healthy,
//! 1 degraded, 2 down (for monitors).

use super::target::{self, TargetArgs};
use crate::status::{Level, assess, gather, view};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `privai status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec (`.ncl`, `.toml` or `.json`). Default: `privai.ncl` or `privai.toml` here.
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Report again every SECONDS (default 10) until interrupted.
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "10",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub watch: Option<u64>,
    #[command(flatten)]
    pub fleet: super::fleet::FleetArgs,
}

/// The exit status of a report.
pub fn exit_code(level: Level) -> ExitCode {
    ExitCode::from(level as u8)
}

/// Exit status when `status` itself cannot report (the spec does not
/// check, the state cannot be read): unknown, as monitors spell it.
pub const UNKNOWN: u8 = 3;

/// Runs `privai status`: the report's [`Level`] as exit status, or
/// [`UNKNOWN`] after printing why there is no report.
pub fn main(args: &Args) -> ExitCode {
    match run(args) {
        Ok(code) => code,
        Err(error) => {
            if crate::output::sink::is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::from(UNKNOWN)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(spec) = args
        .fleet
        .spec_for_fleet(args.spec.as_deref(), &args.target)?
    {
        let root = args.fleet.host_root.as_deref();
        let Some(seconds) = args.watch else {
            return Ok(ExitCode::from(super::fleet_status::status(
                &spec, args.json, root,
            )?));
        };
        loop {
            if let Err(error) = super::fleet_status::status(&spec, args.json, root) {
                let _ = writeln!(std::io::stderr(), "error: {error:#}");
            }
            std::thread::sleep(std::time::Duration::from_secs(seconds));
        }
    }
    let Some(seconds) = args.watch else {
        return Ok(match report(args)? {
            Some(level) => exit_code(level),
            None => ExitCode::from(UNKNOWN),
        });
    };
    // Each round reads the spec again: an edit shows at the next one, and a
    // round that cannot report says why and the watch goes on.
    loop {
        if let Err(error) = report(args) {
            if crate::output::sink::is_broken_pipe(&error) {
                return Ok(ExitCode::SUCCESS);
            }
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
        }
        std::thread::sleep(std::time::Duration::from_secs(seconds));
    }
}

/// One report on stdout; its level, or `None` when the spec gives none
/// (its errors printed).
fn report(args: &Args) -> anyhow::Result<Option<Level>> {
    let prepared = match super::plan::prepare(args.spec.as_deref(), &args.target, "no status")? {
        Ok(prepared) => prepared,
        Err(_) => return Ok(None),
    };
    let (observed, plan, _) = super::plan::observe_and_plan(&prepared, false)?;
    let mut probes = if target::live(&prepared.install) {
        let mut probes = gather::probes(
            &prepared.desired,
            &prepared.install,
            &observed.ollama,
            &observed.headscale,
        );
        probes.manager = gather::manager_states(
            &prepared.desired,
            &prepared.install,
            target::runner().as_mut(),
        );
        probes
    } else {
        crate::status::Probes::default()
    };
    // Read only: recovering an interrupted apply is plan's and apply's.
    probes.interrupted_apply = crate::state::journal::read(
        &crate::state::StateDir::new(prepared.install.state_dir()).journal(),
    )
    .ok()
    .flatten()
    .is_some();
    let spec = prepared
        .model
        .as_ref()
        .expect("status prepares a spec, never a generation");
    let report = assess(spec, &prepared.desired, &observed, &plan, &probes);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        if args.watch.is_some() {
            write!(out, "\x1b[2J\x1b[H")?;
        }
        out.write_all(view::render(&report).as_bytes())?;
    }
    out.flush()?;
    Ok(Some(report.level))
}
