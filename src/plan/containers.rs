//! Whether the gateway's running containers are the ones the installed
//! compose file declares: [`drift`] compares what the runtime reports with
//! the [`ComposeFile`] privai renders (one running container per declared
//! service, none besides them, and for each its image, memory, CPU and
//! process limits, user, read-only root and host networking);
//! [`label_drift`] checks the label [`DEFINITION_LABEL`], the SHA-256 of the
//! compose definition carried on every service, which catches every change
//! of the file, not only those visible in the runtime's report.

use super::services::ServiceAction;
use crate::observe::Observed;
use crate::observe::containers::ContainerState;
use crate::observe::live::Containers;
use crate::render::Rendered;
use crate::render::compose::{ComposeFile, DEFINITION_LABEL};
use std::fmt;

/// A compose size (`mem_limit`): a number of bytes with an optional unit
/// `b`, `k`, `m`, `g` (or `kb`, `mb`, `gb`; any case), powers of 1024 as
/// compose reads them. `None` if it is not one.
pub fn parse_bytes(size: &str) -> Option<u64> {
    let size = size.trim().to_ascii_lowercase();
    let digits = size
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(size.len());
    let (number, unit) = size.split_at(digits);
    let number: u64 = number.parse().ok()?;
    let factor: u64 = match unit.trim() {
        "" | "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor)
}

/// How the running project differs from its compose file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// A declared service has no container.
    Missing {
        /// The service.
        service: String,
    },
    /// A declared service's container does not run.
    NotRunning {
        /// The service.
        service: String,
        /// The container.
        name: String,
        /// Its state (`exited`, `created`, …).
        status: String,
    },
    /// A declared service has more than one container.
    Duplicate {
        /// The service.
        service: String,
        /// Its containers.
        names: Vec<String>,
    },
    /// A container of the project belongs to no declared service.
    Orphan {
        /// The container.
        name: String,
        /// Its service label, if any.
        service: Option<String>,
    },
    /// A container differs from its service's definition.
    Differs {
        /// The service.
        service: String,
        /// What differs: `image`, `memory`, `cpus`, `pids_limit`, `user`,
        /// `read_only`, `network_mode` or [`DEFINITION_LABEL`].
        field: &'static str,
        /// What the compose file says.
        want: String,
        /// What runs.
        got: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { service } => write!(f, "{service}: no container"),
            Self::NotRunning {
                service,
                name,
                status,
            } => write!(f, "{service}: container {name} is {status}, not running"),
            Self::Duplicate { service, names } => {
                write!(
                    f,
                    "{service}: {} containers ({})",
                    names.len(),
                    names.join(", ")
                )
            }
            Self::Orphan { name, service } => match service {
                Some(service) => write!(f, "container {name} runs undeclared service {service}"),
                None => write!(f, "container {name} belongs to no service"),
            },
            Self::Differs {
                service,
                field,
                want,
                got,
            } => write!(
                f,
                "{service}: {field} is {got}, the compose file says {want}"
            ),
        }
    }
}

/// The containers of `observed` per declared service, and the drifts of
/// missing, stopped, duplicate and orphan containers.
fn by_service<'a>(
    services: &[&str],
    observed: &'a [ContainerState],
) -> (Vec<(String, &'a ContainerState)>, Vec<Drift>) {
    let mut drifts = Vec::new();
    let mut found = Vec::new();
    for service in services {
        let mine: Vec<&ContainerState> = observed
            .iter()
            .filter(|c| c.service.as_deref() == Some(*service))
            .collect();
        match mine.as_slice() {
            [] => drifts.push(Drift::Missing {
                service: (*service).to_owned(),
            }),
            [one] => {
                if !one.running {
                    drifts.push(Drift::NotRunning {
                        service: (*service).to_owned(),
                        name: one.name.clone(),
                        status: one.status.clone(),
                    });
                }
                found.push(((*service).to_owned(), *one));
            }
            many => drifts.push(Drift::Duplicate {
                service: (*service).to_owned(),
                names: many.iter().map(|c| c.name.clone()).collect(),
            }),
        }
    }
    for container in observed {
        let declared = container
            .service
            .as_deref()
            .is_some_and(|s| services.contains(&s));
        if !declared {
            drifts.push(Drift::Orphan {
                name: container.name.clone(),
                service: container.service.clone(),
            });
        }
    }
    (found, drifts)
}

/// How `observed` (the project's containers, [`observe`]) differs from
/// `compose`, the file privai installed; empty when exactly one running
/// container serves each declared service, nothing else runs in the
/// project, and each container has its service's image, memory, CPU and
/// process limits, user, read-only root and network mode.
///
/// What the runtime does not report (environment, mounts, the files they
/// mount, health checks) is not compared: [`label_drift`] covers the whole
/// definition.
pub fn drift(compose: &ComposeFile, observed: &[ContainerState]) -> Vec<Drift> {
    let services: Vec<&str> = compose.services.keys().map(String::as_str).collect();
    let (found, mut drifts) = by_service(&services, observed);
    for (service, container) in found {
        let spec = &compose.services[&service];
        let mut differs = |field: &'static str, want: String, got: String| {
            drifts.push(Drift::Differs {
                service: service.clone(),
                field,
                want,
                got,
            });
        };
        if !same_image(&spec.image, container) {
            differs("image", spec.image.clone(), container.image.clone());
        }
        let memory = parse_bytes(&spec.mem_limit);
        if memory != container.memory_limit_bytes {
            differs("memory", bytes(memory), bytes(container.memory_limit_bytes));
        }
        let cpus = (spec.cpus > 0.0).then(|| (spec.cpus * 1e9).round() as u64);
        if cpus != container.nano_cpus {
            differs("cpus", show_cpus(cpus), show_cpus(container.nano_cpus));
        }
        let pids = Some(u64::from(spec.pids_limit)).filter(|p| *p > 0);
        if pids != container.pids_limit {
            differs("pids_limit", count(pids), count(container.pids_limit));
        }
        if spec.user != container.user {
            differs("user", spec.user.clone(), container.user.clone());
        }
        if spec.read_only != container.read_only_root {
            differs(
                "read_only",
                spec.read_only.to_string(),
                container.read_only_root.to_string(),
            );
        }
        let host_network = spec.network_mode.as_deref() == Some("host");
        if host_network != (container.network_mode == "host") {
            differs(
                "network_mode",
                spec.network_mode
                    .clone()
                    .unwrap_or_else(|| "(networks)".into()),
                container.network_mode.clone(),
            );
        }
    }
    drifts
}

/// Whether `container` runs `image`: the same reference, the same without
/// Docker Hub's implicit prefixes, or (for a digest-pinned reference) the
/// same manifest digest.
fn same_image(image: &str, container: &ContainerState) -> bool {
    let short = |r: &str| {
        r.trim_start_matches("docker.io/")
            .trim_start_matches("library/")
            .to_owned()
    };
    if short(image) == short(&container.image) {
        return true;
    }
    match image.split_once('@') {
        Some((_, digest)) => container.image_digest.as_deref() == Some(digest),
        None => false,
    }
}

/// A byte count, or `unlimited`.
fn bytes(value: Option<u64>) -> String {
    match value {
        Some(v) => format!("{v} bytes"),
        None => "unlimited".to_owned(),
    }
}

/// A count, or `unlimited`.
fn count(value: Option<u64>) -> String {
    match value {
        Some(v) => v.to_string(),
        None => "unlimited".to_owned(),
    }
}

/// CPUs from billionths of a CPU, or `unlimited`.
fn show_cpus(nano: Option<u64>) -> String {
    match nano {
        Some(n) => format!("{}", n as f64 / 1e9),
        None => "unlimited".to_owned(),
    }
}

/// How `observed` differs from a compose file whose definition hashes to
/// `sha256` ([`definition_sha256`]) and declares `services`: the missing,
/// stopped, duplicate and orphan containers as in [`drift`], and each
/// container whose [`DEFINITION_LABEL`] is not `sha256` (created from
/// another version of the file, or not by privai).
pub fn label_drift(services: &[&str], sha256: &str, observed: &[ContainerState]) -> Vec<Drift> {
    let (found, mut drifts) = by_service(services, observed);
    for (service, container) in found {
        let got = container.labels.get(DEFINITION_LABEL);
        if got.map(String::as_str) != Some(sha256) {
            drifts.push(Drift::Differs {
                service,
                field: DEFINITION_LABEL,
                want: sha256.to_owned(),
                got: got.cloned().unwrap_or_else(|| "(none)".to_owned()),
            });
        }
    }
    drifts
}

/// The compose services whose files are unchanged (the plan does not start,
/// restart or stop them) but whose containers are not what their
/// definition declares: each is re-created. A runtime that could not be
/// asked is a note. Nothing when the containers were not observed. Pure.
pub fn container_actions(
    desired: &Rendered,
    observed: &Observed,
    stops: &[ServiceAction],
    starts: &[ServiceAction],
) -> (Vec<ServiceAction>, Vec<String>) {
    let mut actions = Vec::new();
    let mut notes = Vec::new();
    for unit in &desired.services {
        let (Some(definition), Some(containers)) =
            (&unit.definition, observed.containers.get(&unit.host))
        else {
            continue;
        };
        let acted = stops.iter().chain(starts).any(|a| {
            let acted_on = a.unit();
            acted_on.host == unit.host && acted_on.id == unit.id
        });
        if acted {
            continue;
        }
        match containers {
            Containers::Unreadable(error) => notes.push(format!(
                "the containers of service {}:{} could not be read ({error}); the plan cannot tell whether they run",
                unit.host,
                unit.id.name()
            )),
            Containers::Listed(list) => {
                let services: Vec<&str> = definition.services.iter().map(String::as_str).collect();
                let drift = label_drift(&services, &definition.sha256, list);
                if !drift.is_empty() {
                    actions.push(ServiceAction::Repair {
                        unit: unit.clone(),
                        drift: drift.iter().map(ToString::to_string).collect(),
                    });
                }
            }
        }
    }
    (actions, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::compose::{GATEWAY_SERVICE, RELAY_SERVICE, compose_file, definition_sha256};
    use std::collections::BTreeMap;

    #[test]
    fn compose_sizes_read_in_powers_of_1024() {
        assert_eq!(parse_bytes("3072m"), Some(3072 << 20));
        assert_eq!(parse_bytes("128M"), Some(128 << 20));
        assert_eq!(parse_bytes("1g"), Some(1 << 30));
        assert_eq!(parse_bytes("2gb"), Some(2 << 30));
        assert_eq!(parse_bytes("512k"), Some(512 << 10));
        assert_eq!(parse_bytes("4096"), Some(4096));
        assert_eq!(parse_bytes("10b"), Some(10));
        assert_eq!(parse_bytes(""), None);
        assert_eq!(parse_bytes("m"), None);
        assert_eq!(parse_bytes("1.5g"), None);
        assert_eq!(parse_bytes("3t"), None);
        assert_eq!(parse_bytes("99999999999999999999g"), None);
    }

    /// The Linux home lab's compose definition.
    fn homelab() -> ComposeFile {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/linux-homelab.ncl");
        let spec = crate::spec::load(std::path::Path::new(path)).unwrap().spec;
        let host = spec.service_host(crate::model::Role::Openclaw).unwrap();
        compose_file(&spec, host, spec.gateway().unwrap())
    }

    /// Running containers exactly as `compose` declares them.
    fn matching(compose: &ComposeFile) -> Vec<ContainerState> {
        compose
            .services
            .iter()
            .map(|(name, s)| ContainerState {
                id: format!("id-{name}"),
                name: format!("privai-gateway_{name}_1"),
                service: Some(name.clone()),
                image: s.image.clone(),
                status: "running".into(),
                running: true,
                memory_limit_bytes: parse_bytes(&s.mem_limit),
                nano_cpus: Some((s.cpus * 1e9) as u64),
                pids_limit: Some(u64::from(s.pids_limit)),
                user: s.user.clone(),
                read_only_root: s.read_only,
                network_mode: s
                    .network_mode
                    .clone()
                    .unwrap_or_else(|| "bridge".to_owned()),
                ..ContainerState::default()
            })
            .collect()
    }

    #[test]
    fn containers_as_declared_do_not_drift_and_each_difference_is_named() {
        let compose = homelab();
        let running = matching(&compose);
        assert_eq!(running.len(), 2);
        assert_eq!(drift(&compose, &running), []);

        let mut changed = running.clone();
        let gateway = &mut changed[0];
        assert_eq!(gateway.service.as_deref(), Some(GATEWAY_SERVICE));
        gateway.image = "localhost/other:1".into();
        gateway.memory_limit_bytes = Some(2048 << 20);
        gateway.nano_cpus = None;
        gateway.pids_limit = Some(2048);
        gateway.user = String::new();
        gateway.read_only_root = false;
        gateway.network_mode = "host".into();
        let fields: Vec<(&str, String, String)> = drift(&compose, &changed)
            .into_iter()
            .map(|d| match d {
                Drift::Differs {
                    service,
                    field,
                    want,
                    got,
                } => {
                    assert_eq!(service, GATEWAY_SERVICE);
                    (field, want, got)
                }
                other => panic!("{other:?}"),
            })
            .collect();
        let image = compose.services[GATEWAY_SERVICE].image.clone();
        let pids = compose.services[GATEWAY_SERVICE].pids_limit.to_string();
        assert_eq!(
            fields,
            [
                ("image", image, "localhost/other:1".to_owned()),
                (
                    "memory",
                    format!("{} bytes", 3072u64 << 20),
                    format!("{} bytes", 2048u64 << 20)
                ),
                ("cpus", "4".to_owned(), "unlimited".to_owned()),
                ("pids_limit", pids, "2048".to_owned()),
                ("user", "1000:1000".to_owned(), String::new()),
                ("read_only", "true".to_owned(), "false".to_owned()),
                ("network_mode", "(networks)".to_owned(), "host".to_owned()),
            ]
        );
    }

    #[test]
    fn missing_stopped_duplicate_and_orphan_containers_drift() {
        let compose = homelab();
        let running = matching(&compose);

        let relay_only = vec![running[1].clone()];
        assert_eq!(
            drift(&compose, &relay_only),
            [Drift::Missing {
                service: GATEWAY_SERVICE.into()
            }]
        );

        let mut stopped = running.clone();
        stopped[1].running = false;
        stopped[1].status = "exited".into();
        assert_eq!(
            drift(&compose, &stopped),
            [Drift::NotRunning {
                service: RELAY_SERVICE.into(),
                name: "privai-gateway_openclaw-relay_1".into(),
                status: "exited".into(),
            }]
        );
        assert_eq!(
            drift(&compose, &stopped)[0].to_string(),
            "openclaw-relay: container privai-gateway_openclaw-relay_1 is exited, not running"
        );

        let mut twice = running.clone();
        let mut second = running[0].clone();
        second.name = "privai-gateway_openclaw-gateway_2".into();
        twice.push(second);
        assert_eq!(
            drift(&compose, &twice),
            [Drift::Duplicate {
                service: GATEWAY_SERVICE.into(),
                names: vec![
                    "privai-gateway_openclaw-gateway_1".into(),
                    "privai-gateway_openclaw-gateway_2".into()
                ],
            }]
        );

        let mut orphan = running.clone();
        orphan.push(ContainerState {
            name: "privai-gateway_old_1".into(),
            service: Some("old".into()),
            ..ContainerState::default()
        });
        assert_eq!(
            drift(&compose, &orphan),
            [Drift::Orphan {
                name: "privai-gateway_old_1".into(),
                service: Some("old".into()),
            }]
        );
        assert_eq!(
            drift(&compose, &orphan)[0].to_string(),
            "container privai-gateway_old_1 runs undeclared service old"
        );
    }

    #[test]
    fn a_digest_pinned_image_matches_by_reference_or_by_digest() {
        let compose = homelab();
        let image = compose.services[GATEWAY_SERVICE].image.clone();
        let (_, digest) = image.split_once('@').expect("the home lab pins a digest");
        let mut running = matching(&compose);
        for c in &mut running {
            c.image = "ghcr.io/openclaw/openclaw:2026.9.6".into();
            c.image_digest = Some(digest.to_owned());
        }
        assert_eq!(drift(&compose, &running), []);
        running[0].image_digest = Some("sha256:00".into());
        assert_eq!(drift(&compose, &running).len(), 1);

        let hub = ContainerState {
            image: "docker.io/library/busybox:1".into(),
            ..ContainerState::default()
        };
        assert!(same_image("busybox:1", &hub));
        assert!(!same_image("busybox:2", &hub));
    }

    #[test]
    fn the_definition_label_must_carry_the_hash_of_the_installed_file() {
        assert_eq!(
            definition_sha256(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let yaml = "services: {}\n";
        let sha = definition_sha256(yaml);
        let services = [GATEWAY_SERVICE, RELAY_SERVICE];
        let labelled = |value: &str| -> Vec<ContainerState> {
            services
                .iter()
                .map(|s| ContainerState {
                    name: format!("p_{s}_1"),
                    service: Some((*s).to_owned()),
                    running: true,
                    status: "running".into(),
                    labels: BTreeMap::from([(DEFINITION_LABEL.to_owned(), value.to_owned())]),
                    ..ContainerState::default()
                })
                .collect()
        };
        assert_eq!(label_drift(&services, &sha, &labelled(&sha)), []);
        let old = definition_sha256("services: {old: {}}\n");
        assert_eq!(
            label_drift(&services, &sha, &labelled(&old)),
            services
                .iter()
                .map(|s| Drift::Differs {
                    service: (*s).to_owned(),
                    field: DEFINITION_LABEL,
                    want: sha.clone(),
                    got: old.clone(),
                })
                .collect::<Vec<_>>()
        );
        let mut unlabelled = labelled(&sha);
        unlabelled[0].labels.clear();
        assert_eq!(
            label_drift(&services, &sha, &unlabelled),
            [Drift::Differs {
                service: GATEWAY_SERVICE.into(),
                field: DEFINITION_LABEL,
                want: sha.clone(),
                got: "(none)".into(),
            }]
        );
        assert_eq!(
            label_drift(&services, &sha, &labelled(&sha)[1..]),
            [Drift::Missing {
                service: GATEWAY_SERVICE.into()
            }]
        );
    }
}
