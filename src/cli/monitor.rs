//! `privai monitor`: reads the services' logs and raises alerts (see
//! [`crate::monitor`]). `--once` makes one pass (what the installed job
//! runs); without it privai passes every `monitoring.alerts.interval_minutes`
//! until stopped.
//!
//! Exit status of a pass: 0 nothing to report, 2 alerts raised and
//! delivered (each in `alerts.ndjson` in privai's state directory), 1 an
//! alert not delivered to one of its sinks (the desktop, the Matrix direct
//! message; the alert log has it), or a log could not be read and no alert
//! was raised.

use super::Exit;
use super::target::{self, TargetArgs};
use crate::monitor::alert::{AlertSink, Desktop, JsonLog};
use crate::monitor::{self, Report, State};
use crate::sys::{Runner, SystemRunner};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `privai monitor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec. Default: the spec the current generation was applied from.
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// One pass, then exit (the installed job runs this).
    #[arg(long)]
    pub once: bool,
    /// The pass's report as JSON (the logs read, the alerts, the errors).
    #[arg(long)]
    pub json: bool,
    /// No desktop notification, whatever the spec says (the alert log
    /// still gets every alert).
    #[arg(long)]
    pub no_desktop: bool,
}

/// Runs `privai monitor`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let path = match &args.spec {
        Some(spec) => spec.clone(),
        None => super::rotate::applied_spec(&target::install_without_spec(&args.target)?)?
            .unwrap_or_default(),
    };
    let spec = match super::checked_spec(Some(&path), "nothing was monitored")? {
        Ok(spec) => spec,
        Err(exit) => return Ok(exit),
    };
    let install = target::install_for_spec(&args.target, &spec)?;
    let host = match &install {
        crate::state::Install::Live { host, .. } => host.clone(),
        crate::state::Install::Staged { .. } => "(staged)".to_owned(),
    };
    let mut runner = SystemRunner;
    let engine = gateway_engine(&spec, &install, &mut runner);
    let logs = monitor::logs(&spec, &install, engine.as_deref());
    let certificates = monitor::certificates(&spec, &install);
    let senders = monitor::senders::watch(&spec, &install);
    let state_dir = install.state_dir();
    let interval = std::time::Duration::from_secs(
        u64::from(spec.monitoring.alerts.interval_minutes.max(1)) * 60,
    );
    loop {
        let mut state = State::load(&state_dir);
        let mut log = JsonLog::in_state(&state_dir, &host);
        let mut desktop_runner = SystemRunner;
        let mut desktop = monitor::platform(&spec, &install)
            .filter(|_| spec.monitoring.alerts.desktop && !args.no_desktop)
            .map(|platform| Desktop {
                platform,
                path: std::env::var("PATH").ok(),
                runner: &mut desktop_runner,
            });
        let mut matrix = monitor::matrix_sink(&spec, &install, state.rooms.clone());
        let mut sinks: Vec<&mut dyn AlertSink> = vec![&mut log];
        if let Some(desktop) = desktop.as_mut() {
            sinks.push(desktop);
        }
        if let Some(matrix) = matrix.as_mut() {
            sinks.push(matrix);
        }
        let now = std::time::SystemTime::now();
        let mut report = monitor::pass(
            &spec,
            &logs,
            senders.as_ref(),
            &certificates,
            &mut state,
            &mut runner,
            &mut sinks,
            now,
        );
        drop(sinks);
        if let Some(matrix) = matrix {
            state.rooms = matrix.rooms;
        }
        if let Err(e) = state.save(&state_dir) {
            report.errors.push(format!(
                "cannot save the monitor's state in `{}`: {e}; the next pass reads these lines again",
                state_dir.display()
            ));
        }
        let exit = exit_of(&report);
        print(&report, &log.path, args.json)?;
        if args.once {
            return Ok(exit);
        }
        std::thread::sleep(interval);
    }
}

/// 1 when an alert was not delivered; else 2 when alerts were raised,
/// else 1 on an error, else 0.
fn exit_of(report: &Report) -> Exit {
    if report.undelivered > 0 {
        Exit::Error
    } else if !report.alerts.is_empty() {
        Exit::Changes
    } else if !report.errors.is_empty() {
        Exit::Error
    } else {
        Exit::Ok
    }
}

/// The gateway's container engine when this install runs the gateway: the
/// spec's, else the one found here.
fn gateway_engine(
    spec: &crate::model::Spec,
    install: &crate::state::Install,
    runner: &mut dyn Runner,
) -> Option<String> {
    let host = spec.service_host(crate::model::Role::Openclaw)?;
    if !install.activates() || !install.includes(&host.name) {
        return None;
    }
    let runtime = match spec.openclaw.container.runtime {
        Some(runtime) => runtime,
        None => crate::sys::engine::detect(runner).ok()?,
    };
    Some(crate::sys::engine::program(runtime).to_owned())
}

fn print(report: &Report, alert_log: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
        return Ok(out.flush()?);
    }
    writeln!(out, "Read:")?;
    for read in &report.read {
        writeln!(
            out,
            "  {} on {}: {} new line{} ({})",
            read.service.name(),
            read.host,
            read.lines,
            if read.lines == 1 { "" } else { "s" },
            read.source
        )?;
    }
    if report.read.is_empty() {
        writeln!(out, "  (no service of the spec runs here)")?;
    }
    for error in &report.errors {
        writeln!(out, "error: {error}")?;
    }
    if report.alerts.is_empty() {
        writeln!(out, "\nNo alert.")?;
    } else {
        writeln!(out, "\nAlerts ({}):", report.alerts.len())?;
        for alert in &report.alerts {
            writeln!(out, "  ! {}: {}", alert.service, alert.summary)?;
            writeln!(out, "    fix: {}", alert.fix)?;
        }
        writeln!(out, "\nWritten to `{}`.", alert_log.display())?;
    }
    Ok(out.flush()?)
}
