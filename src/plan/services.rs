//! The services domain: the services the spec runs against those the last
//! generation ran, and the files whose change makes them restart or reload.
//! Pure.

use super::{Action, Change};
use crate::render::units::ServiceUnit;
use serde::{Deserialize, Serialize};

/// A step on one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ServiceAction {
    /// Stop a service the spec no longer runs, or runs under another name.
    Stop {
        /// The service, as the previous generation ran it.
        unit: ServiceUnit,
    },
    /// Start a service privai has not started before.
    Start {
        /// The service.
        unit: ServiceUnit,
    },
    /// Restart a running service because files it reads changed.
    Restart {
        /// The service.
        unit: ServiceUnit,
        /// Install paths of the changed files that cause the restart.
        because: Vec<String>,
    },
    /// Re-create a service whose files are unchanged but whose containers
    /// are not what its definition declares (stopped, missing, removed, or
    /// created from another definition).
    Repair {
        /// The service.
        unit: ServiceUnit,
        /// What is wrong, one item each.
        drift: Vec<String>,
    },
    /// Have a running service re-read changed files without a restart
    /// (Headscale reloads its policy file on SIGHUP), because only files it
    /// reloads changed.
    Reload {
        /// The service.
        unit: ServiceUnit,
        /// Install paths of the changed files it re-reads.
        because: Vec<String>,
    },
}

impl ServiceAction {
    /// The service acted on.
    pub fn unit(&self) -> &ServiceUnit {
        match self {
            Self::Stop { unit }
            | Self::Start { unit }
            | Self::Restart { unit, .. }
            | Self::Repair { unit, .. }
            | Self::Reload { unit, .. } => unit,
        }
    }

    /// The kind of change.
    pub fn change(&self) -> Change {
        match self {
            Self::Stop { .. } => Change::Delete,
            Self::Start { .. } => Change::Create,
            Self::Restart { .. } => Change::Restart,
            Self::Repair { .. } => Change::Update,
            Self::Reload { .. } => Change::Reload,
        }
    }

    /// `service HOST:NAME`.
    pub fn address(&self) -> String {
        let unit = self.unit();
        format!("service {}:{}", unit.host, unit.id.name())
    }
}

/// The service actions, as (stops, starts and restarts), given the services
/// the spec runs (`desired`), those the last generation ran (`previous`)
/// and the file and secret actions. Pure.
///
/// - A service of `previous` that `desired` lacks, or whose manager entry
///   (label, unit, plist, compose file) changed, stops.
/// - A service of `desired` that `previous` lacks (or that stopped above)
///   starts: the first apply starts everything.
/// - Any other service restarts when a file action changes the contents of
///   a file that names it among its restarts; when only files it reloads
///   changed, it reloads instead (a compose service cannot reload: it
///   restarts).
pub fn service_actions(
    desired: &[ServiceUnit],
    previous: &[ServiceUnit],
    files: &[Action],
) -> (Vec<ServiceAction>, Vec<ServiceAction>) {
    let same = |a: &ServiceUnit, b: &ServiceUnit| a.host == b.host && a.id == b.id;
    let mut stops: Vec<ServiceAction> = previous
        .iter()
        .filter(|old| {
            !desired
                .iter()
                .any(|new| same(old, new) && new.manager == old.manager)
        })
        .map(|unit| ServiceAction::Stop { unit: unit.clone() })
        .collect();
    stops.reverse();
    let mut starts = Vec::new();
    for unit in desired {
        let kept = previous
            .iter()
            .any(|old| same(old, unit) && old.manager == unit.manager);
        if !kept {
            starts.push(ServiceAction::Start { unit: unit.clone() });
            continue;
        }
        let because_of = |services: fn(&Action) -> &[crate::render::ServiceId]| -> Vec<String> {
            files
                .iter()
                .filter(|a| services(a).contains(&unit.id))
                .filter_map(|a| a.target_path())
                .filter(|(host, _)| *host == unit.host)
                .map(|(_, path)| path.to_owned())
                .collect()
        };
        let because = because_of(Action::restarts);
        if !because.is_empty() {
            starts.push(ServiceAction::Restart {
                unit: unit.clone(),
                because,
            });
            continue;
        }
        let because = because_of(Action::reloads);
        if because.is_empty() {
            continue;
        }
        starts.push(if unit.can_reload() {
            ServiceAction::Reload {
                unit: unit.clone(),
                because,
            }
        } else {
            ServiceAction::Restart {
                unit: unit.clone(),
                because,
            }
        });
    }
    (stops, starts)
}
