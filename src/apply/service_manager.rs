//! Carrying out the services domain through a [`ServiceManager`]
//! (launchd, systemd or compose): each start, restart or reload is
//! health-checked before the next action runs.

use super::Services;
use crate::plan::ServiceAction;
use crate::render::units::ServiceUnit;
use crate::render::{Rendered, ServiceId};
use crate::state::journal::{Journal, Record, Verb};

/// What the services domain needs from the service manager.
pub trait ServiceManager {
    /// Starts `unit`.
    fn start(&mut self, unit: &ServiceUnit) -> Result<(), String>;
    /// Restarts `unit`, so that it reads its changed files.
    fn restart(&mut self, unit: &ServiceUnit) -> Result<(), String>;
    /// Stops `unit`.
    fn stop(&mut self, unit: &ServiceUnit) -> Result<(), String>;
    /// Has the running `unit` re-read its changed files (SIGHUP).
    fn reload(&mut self, unit: &ServiceUnit) -> Result<(), String>;
    /// Waits until `unit` is healthy, up to its timeout.
    fn health(&mut self, unit: &ServiceUnit) -> Result<(), String>;
}

/// Runs one service action and, for a start, restart or reload, its health
/// check. Before Headscale reloads its policy file, Headscale checks the
/// new policy, so that a policy it would refuse (and, on SIGHUP, only log)
/// fails the run.
pub(super) fn service_step(
    step: usize,
    action: &ServiceAction,
    desired: &Rendered,
    services: &mut dyn Services,
    journal: &mut Journal,
    records: &mut Vec<Record>,
) -> Result<(), String> {
    let unit = action.unit();
    let verb = match action {
        ServiceAction::Start { .. } => Verb::Start,
        ServiceAction::Restart { .. } | ServiceAction::Repair { .. } => Verb::Restart,
        ServiceAction::Reload { .. } => Verb::Reload,
        ServiceAction::Stop { .. } => Verb::Stop,
    };
    if verb == Verb::Reload
        && unit.id == ServiceId::Headscale
        && let Some(control) = &desired.control
    {
        services
            .check_policy(&control.policy)
            .map_err(|e| format!("checking the new policy before Headscale reloads it: {e}"))?;
    }
    let record = Record::Service {
        step,
        verb,
        unit: unit.clone(),
    };
    journal.append(&record).map_err(|e| e.to_string())?;
    records.push(record);
    let name = format!("{}:{}", unit.host, unit.id.name());
    match verb {
        Verb::Start => services.start(unit),
        Verb::Restart => services.restart(unit),
        Verb::Reload => services.reload(unit),
        Verb::Stop => services.stop(unit),
    }
    .map_err(|e| format!("{} {name}: {e}", verb_name(verb)))?;
    if verb != Verb::Stop && unit.health.is_some() {
        services
            .health(unit)
            .map_err(|e| format!("health check of {name}: {e}"))?;
    }
    Ok(())
}

pub(super) fn verb_name(verb: Verb) -> &'static str {
    match verb {
        Verb::Start => "starting",
        Verb::Restart => "restarting",
        Verb::Reload => "reloading",
        Verb::Stop => "stopping",
    }
}
