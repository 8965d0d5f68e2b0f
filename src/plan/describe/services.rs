//! Descriptions of the services domain.

use super::{Context, Description, Detail, Object, Reason, ServiceState, State};
use crate::plan::{Action, Plan, ServiceAction};
use crate::render::units::{Health, LaunchdDomain, Manager, ServiceUnit};

/// A service action: its manager entry, why it changes, its health check
/// and, under `--root`, that nothing is started.
pub(super) fn service(plan: &Plan, action: &ServiceAction, context: &Context) -> Description {
    let unit = action.unit();
    let state = || Some(State::Service(ServiceState::of(unit)));
    let (reason, before, after, staged) = match action {
        ServiceAction::Stop { .. } => (
            if replaced(plan, unit) {
                Reason::ManagerChanged
            } else {
                Reason::ServiceRemoved
            },
            state(),
            None,
            "not stopped",
        ),
        ServiceAction::Start { .. } => (
            if replaced(plan, unit) {
                Reason::ManagerChanged
            } else {
                Reason::NewService
            },
            None,
            state(),
            "not started",
        ),
        ServiceAction::Repair { .. } => {
            (Reason::ContainerDrift, state(), state(), "not re-created")
        }
        ServiceAction::Restart { .. } => (Reason::FilesChanged, state(), state(), "not restarted"),
        ServiceAction::Reload { .. } => (Reason::FilesChanged, state(), state(), "not reloaded"),
    };
    let mut description = Description::new(
        action.address(),
        action.change(),
        Object::Service,
        &unit.host,
        unit.id.name(),
        reason,
    );
    description.before = before;
    description.after = after;
    description.summary = Some(manager(&unit.manager));
    match action {
        ServiceAction::Restart { because, .. } | ServiceAction::Reload { because, .. } => {
            description.because = Some(because.clone());
        }
        ServiceAction::Repair { drift, .. } => description.container_drift = Some(drift.clone()),
        ServiceAction::Stop { .. } | ServiceAction::Start { .. } => {}
    }
    if !matches!(action, ServiceAction::Stop { .. })
        && let Some(health) = &unit.health
    {
        let check = match health {
            Health::Http { url } => format!("GET {url}"),
            Health::Tcp { addr } => format!("TCP connect {addr}"),
        };
        description.field(
            "health",
            format!("{check} within {} s", unit.health_timeout_secs),
        );
    }
    if context.staged {
        description
            .details
            .push(Detail::Remark(format!("(staged under --root: {staged})")));
    }
    description
}

/// Whether the plan both stops and starts `unit`'s service on its host:
/// its service manager entry changed.
fn replaced(plan: &Plan, unit: &ServiceUnit) -> bool {
    let acts = |stop: bool| {
        plan.actions.iter().any(|a| match a {
            Action::Service(ServiceAction::Stop { unit: other }) if stop => same(unit, other),
            Action::Service(ServiceAction::Start { unit: other }) if !stop => same(unit, other),
            _ => false,
        })
    };
    acts(true) && acts(false)
}

fn same(a: &ServiceUnit, b: &ServiceUnit) -> bool {
    a.host == b.host && a.id == b.id
}

/// The service manager's handle on a service, in a few words:
/// `launchd gui net.privai.ollama`, `systemd privai-ollama.service`,
/// `podman compose privai-gateway`.
fn manager(manager: &Manager) -> String {
    match manager {
        Manager::Launchd { domain, label, .. } => {
            let domain = match domain {
                LaunchdDomain::System => "system",
                LaunchdDomain::Gui => "gui",
            };
            format!("launchd {domain} {label}")
        }
        Manager::Systemd { unit } => format!("systemd {unit}"),
        Manager::Compose {
            runtime, project, ..
        } => format!("{runtime} compose {project}"),
    }
}
