//! What runs in the gateway's compose project: its containers as the
//! container runtime reports them ([`observe`]), and whether they are the
//! ones the installed compose file declares ([`drift`], [`label_drift`]).
//!
//! # Finding the project's containers
//!
//! Both compose implementations label every container they create with the
//! project and the service (checked with podman-compose 1.6.0 and Docker
//! Compose v2):
//!
//! | label | podman-compose 1.6 | Docker Compose |
//! | --- | --- | --- |
//! | [`PROJECT_LABEL`] `com.docker.compose.project` | yes | yes |
//! | [`SERVICE_LABEL`] `com.docker.compose.service` | yes | yes |
//! | `io.podman.compose.project`, `io.podman.compose.service` | yes | no |
//! | [`PODMAN_CONFIG_HASH_LABEL`] `io.podman.compose.config-hash` | yes | no |
//! | [`DOCKER_CONFIG_HASH_LABEL`] `com.docker.compose.config-hash` | no | yes |
//!
//! (podman-compose also sets `io.podman.compose.version`,
//! `com.docker.compose.project.working_dir`,
//! `com.docker.compose.project.config_files`,
//! `com.docker.compose.container-number` and `PODMAN_SYSTEMD_UNIT`.)
//!
//! So the `com.docker.compose.*` labels address the project under either
//! runtime: [`list`] asks for the ids of the project's containers (all of
//! them, stopped ones too) and [`inspect`] for their details, which
//! [`parse_inspect`] reads into [`ContainerState`]s. `podman container
//! inspect` answers in Docker's schema for every field used here (podman
//! names containers without Docker's leading `/`, and has no health
//! state when there is no health check, as Docker).
//!
//! # Telling whether they match the compose file
//!
//! The two config-hash labels are each implementation's own hash of its own
//! normalised view of a service, not something privai can recompute. Two
//! checks exist instead:
//!
//! * [`drift`] compares what the runtime reports with the [`ComposeFile`]
//!   privai renders: one running container per declared service, none
//!   besides them, and for each its image, memory, CPU and process limits,
//!   user, read-only root and host networking;
//! * [`label_drift`] checks the label [`DEFINITION_LABEL`]: the SHA-256 of
//!   the compose definition ([`definition_sha256`]) carried on every service,
//!   which catches every change of the file, not only those visible in the
//!   runtime's report. It needs the renderer to add that label.

use super::{Runner, command_line};
use crate::render::compose::ComposeFile;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::io;

/// The compose project label, set by podman-compose and Docker Compose.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";
/// The compose service label, set by podman-compose and Docker Compose.
pub const SERVICE_LABEL: &str = "com.docker.compose.service";
/// podman-compose's hash of a service's configuration (its own
/// normalisation: not recomputable here).
pub const PODMAN_CONFIG_HASH_LABEL: &str = "io.podman.compose.config-hash";
/// Docker Compose's hash of a service's configuration.
pub const DOCKER_CONFIG_HASH_LABEL: &str = "com.docker.compose.config-hash";
pub use crate::render::compose::{DEFINITION_LABEL, definition_sha256};

/// `RUNTIME ps -a -q --no-trunc --filter label=com.docker.compose.project=PROJECT`:
/// the full ids of every container of the project, running or not, one a
/// line (podman and Docker alike).
pub fn list(runtime: &str, project: &str) -> Vec<String> {
    let filter = format!("label={PROJECT_LABEL}={project}");
    super::argv([runtime, "ps", "-a", "-q", "--no-trunc", "--filter", &filter])
}

/// `RUNTIME container inspect ID…`: a JSON array with one object per
/// container, in Docker's schema (podman follows it).
pub fn inspect(runtime: &str, ids: &[String]) -> Vec<String> {
    let mut argv = super::argv([runtime, "container", "inspect"]);
    argv.extend(ids.iter().cloned());
    argv
}

/// One container as the runtime reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerState {
    /// Full id.
    pub id: String,
    /// Name, without Docker's leading `/`.
    pub name: String,
    /// The compose service ([`SERVICE_LABEL`]), if labelled.
    pub service: Option<String>,
    /// The image reference the container was created from, as given.
    pub image: String,
    /// The image's id.
    pub image_id: String,
    /// The image's manifest digest (podman only).
    pub image_digest: Option<String>,
    /// `created`, `running`, `paused`, `restarting`, `exited`, …
    pub status: String,
    /// Whether it runs.
    pub running: bool,
    /// Health-check state (`starting`, `healthy`, `unhealthy`), when the
    /// container has a health check.
    pub health: Option<String>,
    /// How many times the runtime restarted it.
    pub restart_count: u64,
    /// Every label, the image's included.
    pub labels: BTreeMap<String, String>,
    /// Memory limit in bytes; `None` when unlimited.
    pub memory_limit_bytes: Option<u64>,
    /// CPU limit in billionths of a CPU; `None` when unlimited.
    pub nano_cpus: Option<u64>,
    /// Process limit; `None` when unlimited.
    pub pids_limit: Option<u64>,
    /// `uid:gid` (or a name) it runs as; empty for the image's default.
    pub user: String,
    /// Whether its root filesystem is read-only.
    pub read_only_root: bool,
    /// `host`, `bridge`, a network name, …
    pub network_mode: String,
}

/// Why the containers could not be observed.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    /// The runtime could not be run at all.
    #[error("could not run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The runtime ran and failed.
    #[error("`{command}` failed with exit status {status}: {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: i32,
        /// Its standard error, trimmed.
        stderr: String,
    },
    /// The runtime answered something that is not its inspect JSON.
    #[error("`{command}` answered unexpected JSON: {message}")]
    Parse {
        /// The command line.
        command: String,
        /// What was wrong.
        message: String,
    },
}

/// The containers of compose project `project` under `runtime` (`podman`
/// or `docker`), stopped ones included, sorted by service then name; empty
/// when the project has none.
///
/// A container removed between the listing and the inspection (a
/// concurrent `up` or `down`) is left out rather than failing the
/// observation.
pub fn observe(
    runner: &mut dyn Runner,
    runtime: &str,
    project: &str,
) -> Result<Vec<ContainerState>, ObserveError> {
    let argv = list(runtime, project);
    let listed = run(runner, &argv)?;
    if !listed.success() {
        return Err(failed(&argv, &listed));
    }
    let ids = parse_ids(&listed.stdout);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let argv = inspect(runtime, &ids);
    let inspected = run(runner, &argv)?;
    // Both runtimes print the containers they found and fail for those they
    // did not: keep what was found.
    let parsed = parse_inspect(&inspected.stdout);
    match parsed {
        Ok(containers) if inspected.success() || !containers.is_empty() => Ok(containers),
        Ok(_) => Err(failed(&argv, &inspected)),
        Err(_) if !inspected.success() => Err(failed(&argv, &inspected)),
        Err(message) => Err(ObserveError::Parse {
            command: command_line(&argv),
            message,
        }),
    }
}

fn run(runner: &mut dyn Runner, argv: &[String]) -> Result<super::RunOutput, ObserveError> {
    runner.run(argv).map_err(|source| ObserveError::Spawn {
        command: command_line(argv),
        source,
    })
}

fn failed(argv: &[String], output: &super::RunOutput) -> ObserveError {
    let text = if output.stderr.trim().is_empty() {
        output.stdout.trim()
    } else {
        output.stderr.trim()
    };
    ObserveError::Failed {
        command: command_line(argv),
        status: output.status,
        stderr: if text.is_empty() {
            "(no output)".to_owned()
        } else {
            text.to_owned()
        },
    }
}

/// The ids [`list`] printed, one a line.
pub fn parse_ids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The containers of [`inspect`]'s JSON array, sorted by service then name.
/// Fields a runtime leaves out or sets to `null` read as their default.
pub fn parse_inspect(json: &str) -> Result<Vec<ContainerState>, String> {
    let raw: Vec<RawContainer> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let mut containers: Vec<ContainerState> = raw.into_iter().map(ContainerState::from).collect();
    containers.sort_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
    Ok(containers)
}

/// `container inspect`'s object, the fields read here.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RawContainer {
    id: String,
    name: String,
    image: String,
    image_name: Option<String>,
    image_digest: Option<String>,
    restart_count: Option<u64>,
    state: Option<RawState>,
    config: Option<RawConfig>,
    host_config: Option<RawHostConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RawState {
    status: String,
    running: bool,
    health: Option<RawHealth>,
    /// podman before 4.3.
    healthcheck: Option<RawHealth>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RawHealth {
    status: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RawConfig {
    image: Option<String>,
    user: Option<String>,
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct RawHostConfig {
    memory: Option<i64>,
    nano_cpus: Option<i64>,
    cpu_quota: Option<i64>,
    cpu_period: Option<i64>,
    pids_limit: Option<i64>,
    readonly_rootfs: bool,
    network_mode: Option<String>,
}

/// A positive limit; `None` for 0 or -1 (unlimited).
fn limit(value: Option<i64>) -> Option<u64> {
    value.filter(|v| *v > 0).map(|v| v as u64)
}

impl From<RawContainer> for ContainerState {
    fn from(raw: RawContainer) -> Self {
        let state = raw.state.unwrap_or_default();
        let config = raw.config.unwrap_or_default();
        let host = raw.host_config.unwrap_or_default();
        let labels = config.labels.unwrap_or_default();
        let health = state
            .health
            .or(state.healthcheck)
            .map(|h| h.status)
            .filter(|s| !s.is_empty());
        // CPU: NanoCpus, or the quota over the period it was set as.
        let nano_cpus = limit(host.nano_cpus).or_else(|| {
            let quota = limit(host.cpu_quota)?;
            let period = limit(host.cpu_period)?;
            Some(quota * 1_000_000_000 / period)
        });
        let image = config
            .image
            .filter(|i| !i.is_empty())
            .or(raw.image_name)
            .unwrap_or_default();
        Self {
            name: raw.name.trim_start_matches('/').to_owned(),
            service: labels.get(SERVICE_LABEL).cloned(),
            id: raw.id,
            image,
            image_id: raw.image,
            image_digest: raw.image_digest.filter(|d| !d.is_empty()),
            running: state.running,
            status: state.status,
            health,
            restart_count: raw.restart_count.unwrap_or(0),
            labels,
            memory_limit_bytes: limit(host.memory),
            nano_cpus,
            pids_limit: limit(host.pids_limit),
            user: config.user.unwrap_or_default(),
            read_only_root: host.readonly_rootfs,
            network_mode: host.network_mode.unwrap_or_default(),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::compose::{GATEWAY_SERVICE, RELAY_SERVICE, compose_file};
    use crate::sys::{Recorder, RunOutput, SystemRunner};

    const ID: &str = "4be4c432734d17ff97699c419caa1da7cddc0e687f6db57967e41363b24d54cc";
    const RELAY_ID: &str = "592846b13dac3582809c98b8567feddda6b89c2709e4b3285ad8ffcf1dd160f7";

    /// `podman container inspect` of a podman-compose 1.6.0 project (podman
    /// 4.3.1), trimmed to the fields read here and a few others.
    const PODMAN_INSPECT: &str = r#"[
 {
  "Id": "592846b13dac3582809c98b8567feddda6b89c2709e4b3285ad8ffcf1dd160f7",
  "Created": "2026-11-25T15:09:35.1Z",
  "State": {"OciVersion": "1.0.2-dev", "Status": "exited", "Running": false, "ExitCode": 1,
            "Health": {"Status": "", "FailingStreak": 0, "Log": null}},
  "Image": "da9b2d6873650851f74a7d8696ca49e2c4a5971067427343bb5897a1c7154676",
  "ImageDigest": "sha256:92c7c0e9fd5dcf992a370c37f0228190c31b980a927066c1b622701c81e39472",
  "ImageName": "localhost/privai-gateway-standin:ok",
  "Name": "probe-x_openclaw-relay_1",
  "RestartCount": 5,
  "Config": {"User": "", "Image": "localhost/privai-gateway-standin:ok",
             "Labels": {"com.docker.compose.project": "probe-x",
                        "com.docker.compose.service": "openclaw-relay",
                        "io.podman.compose.project": "probe-x"}},
  "HostConfig": {"Memory": 0, "NanoCpus": 0, "CpuQuota": 0, "CpuPeriod": 0,
                 "PidsLimit": 2048, "NetworkMode": "host", "ReadonlyRootfs": true}
 },
 {
  "Id": "4be4c432734d17ff97699c419caa1da7cddc0e687f6db57967e41363b24d54cc",
  "Created": "2026-11-25T15:09:34.472919926Z",
  "State": {"OciVersion": "1.0.2-dev", "Status": "running", "Running": true, "Paused": false,
            "Pid": 29237, "ExitCode": 0,
            "Health": {"Status": "starting", "FailingStreak": 0, "Log": null}},
  "Image": "da9b2d6873650851f74a7d8696ca49e2c4a5971067427343bb5897a1c7154676",
  "ImageDigest": "sha256:92c7c0e9fd5dcf992a370c37f0228190c31b980a927066c1b622701c81e39472",
  "ImageName": "localhost/privai-gateway-standin:ok",
  "Name": "probe-x_openclaw-gateway_1",
  "RestartCount": 0,
  "Config": {"Hostname": "4be4c432734d", "User": "1000:1000",
             "Image": "localhost/privai-gateway-standin:ok",
             "Labels": {"PODMAN_SYSTEMD_UNIT": "podman-compose@probe-x.service",
                        "com.docker.compose.container-number": "1",
                        "com.docker.compose.project": "probe-x",
                        "com.docker.compose.service": "openclaw-gateway",
                        "io.podman.compose.config-hash": "70e55ab70318d83a59be3d445058ac22191959516171d48e4ba32f2f00193f8d",
                        "io.podman.compose.project": "probe-x",
                        "io.podman.compose.service": "openclaw-gateway",
                        "io.podman.compose.version": "1.6.0"}},
  "HostConfig": {"Memory": 268435456, "NanoCpus": 500000000, "CpuQuota": 50000,
                 "CpuPeriod": 100000, "PidsLimit": 64, "NetworkMode": "bridge",
                 "ReadonlyRootfs": true}
 }
]"#;

    /// `docker container inspect` (Docker 27, Compose v2), trimmed: a
    /// leading `/` in the name, no health without a health check, CPUs as a
    /// quota, `null` limits.
    const DOCKER_INSPECT: &str = r#"[{
  "Id": "9f1c",
  "Name": "/privai-gateway-openclaw-gateway-1",
  "Image": "sha256:5d1e",
  "RestartCount": 0,
  "State": {"Status": "running", "Running": true},
  "Config": {"User": "1000:1000", "Image": "ghcr.io/openclaw/openclaw:2026.9.6",
             "Labels": {"com.docker.compose.project": "privai-gateway",
                        "com.docker.compose.service": "openclaw-gateway",
                        "com.docker.compose.config-hash": "ab12"}},
  "HostConfig": {"Memory": 1073741824, "NanoCpus": 0, "CpuQuota": 150000,
                 "CpuPeriod": 100000, "PidsLimit": null, "NetworkMode": "privai-gateway_internal",
                 "ReadonlyRootfs": false}
}]"#;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    fn stdout(text: &str) -> RunOutput {
        RunOutput {
            status: 0,
            stdout: text.to_owned(),
            stderr: String::new(),
        }
    }

    #[test]
    fn list_asks_for_every_container_of_the_project_by_its_compose_label() {
        assert_eq!(
            list("podman", "privai-gateway"),
            words(
                "podman ps -a -q --no-trunc --filter label=com.docker.compose.project=privai-gateway"
            )
        );
        assert_eq!(
            list("docker", "privai-gateway"),
            words(
                "docker ps -a -q --no-trunc --filter label=com.docker.compose.project=privai-gateway"
            )
        );
    }

    #[test]
    fn inspect_names_each_container() {
        assert_eq!(
            inspect("podman", &[ID.to_owned(), RELAY_ID.to_owned()]),
            ["podman", "container", "inspect", ID, RELAY_ID]
        );
        assert_eq!(
            inspect("docker", &["9f1c".to_owned()]),
            words("docker container inspect 9f1c")
        );
    }

    #[test]
    fn podman_inspect_reads_into_states_sorted_by_service() {
        let states = parse_inspect(PODMAN_INSPECT).unwrap();
        let gateway = &states[0];
        assert_eq!(gateway.id, ID);
        assert_eq!(gateway.name, "probe-x_openclaw-gateway_1");
        assert_eq!(gateway.service.as_deref(), Some(GATEWAY_SERVICE));
        assert_eq!(gateway.image, "localhost/privai-gateway-standin:ok");
        assert_eq!(
            gateway.image_id,
            "da9b2d6873650851f74a7d8696ca49e2c4a5971067427343bb5897a1c7154676"
        );
        assert_eq!(
            gateway.image_digest.as_deref(),
            Some("sha256:92c7c0e9fd5dcf992a370c37f0228190c31b980a927066c1b622701c81e39472")
        );
        assert!(gateway.running);
        assert_eq!(gateway.status, "running");
        assert_eq!(gateway.health.as_deref(), Some("starting"));
        assert_eq!(gateway.memory_limit_bytes, Some(256 << 20));
        assert_eq!(gateway.nano_cpus, Some(500_000_000));
        assert_eq!(gateway.pids_limit, Some(64));
        assert_eq!(gateway.user, "1000:1000");
        assert!(gateway.read_only_root);
        assert_eq!(gateway.network_mode, "bridge");
        assert_eq!(gateway.labels.len(), 8);
        assert_eq!(
            gateway.labels[PODMAN_CONFIG_HASH_LABEL],
            "70e55ab70318d83a59be3d445058ac22191959516171d48e4ba32f2f00193f8d"
        );

        let relay = &states[1];
        assert_eq!(relay.service.as_deref(), Some(RELAY_SERVICE));
        assert!(!relay.running);
        assert_eq!(relay.status, "exited");
        // podman reports an empty health status without a health check.
        assert_eq!(relay.health, None);
        assert_eq!(relay.restart_count, 5);
        assert_eq!(relay.memory_limit_bytes, None);
        assert_eq!(relay.nano_cpus, None);
        assert_eq!(relay.user, "");
        assert_eq!(relay.network_mode, "host");
    }

    #[test]
    fn docker_inspect_reads_into_the_same_states() {
        let states = parse_inspect(DOCKER_INSPECT).unwrap();
        assert_eq!(
            states,
            [ContainerState {
                id: "9f1c".into(),
                name: "privai-gateway-openclaw-gateway-1".into(),
                service: Some(GATEWAY_SERVICE.into()),
                image: "ghcr.io/openclaw/openclaw:2026.9.6".into(),
                image_id: "sha256:5d1e".into(),
                image_digest: None,
                status: "running".into(),
                running: true,
                health: None,
                restart_count: 0,
                labels: BTreeMap::from([
                    (PROJECT_LABEL.to_owned(), "privai-gateway".to_owned()),
                    (SERVICE_LABEL.to_owned(), GATEWAY_SERVICE.to_owned()),
                    (DOCKER_CONFIG_HASH_LABEL.to_owned(), "ab12".to_owned()),
                ]),
                memory_limit_bytes: Some(1 << 30),
                nano_cpus: Some(1_500_000_000),
                pids_limit: None,
                user: "1000:1000".into(),
                read_only_root: false,
                network_mode: "privai-gateway_internal".into(),
            }]
        );
    }

    #[test]
    fn what_is_not_inspect_json_is_an_error() {
        assert!(parse_inspect("").is_err());
        assert!(parse_inspect("{}").is_err());
        assert_eq!(parse_inspect("[]").unwrap(), []);
        // Older podman: the health state under `Healthcheck`.
        let old = r#"[{"Id": "a", "State": {"Status": "running", "Running": true,
                        "Healthcheck": {"Status": "unhealthy"}}}]"#;
        assert_eq!(
            parse_inspect(old).unwrap()[0].health.as_deref(),
            Some("unhealthy")
        );
    }

    #[test]
    fn observe_lists_then_inspects_through_the_runner() {
        let mut runner = Recorder::new()
            .respond_when(words("podman ps"), stdout(&format!("{ID}\n{RELAY_ID}\n")))
            .respond_when(words("podman container inspect"), stdout(PODMAN_INSPECT));
        let states = observe(&mut runner, "podman", "probe-x").unwrap();
        assert_eq!(states.len(), 2);
        assert_eq!(
            runner.command_lines(),
            [
                "podman ps -a -q --no-trunc --filter label=com.docker.compose.project=probe-x"
                    .to_owned(),
                format!("podman container inspect {ID} {RELAY_ID}"),
            ]
        );
    }

    #[test]
    fn a_project_without_containers_is_observed_without_inspecting() {
        let mut runner = Recorder::new();
        assert_eq!(observe(&mut runner, "docker", "p").unwrap(), []);
        assert_eq!(runner.calls().len(), 1);
    }

    #[test]
    fn a_container_gone_before_the_inspection_is_left_out() {
        let mut runner = Recorder::new()
            .respond_when(words("podman ps"), stdout(&format!("{ID}\n{RELAY_ID}\n")))
            .respond_when(
                words("podman container inspect"),
                RunOutput {
                    status: 125,
                    stdout: PODMAN_INSPECT.to_owned(),
                    stderr: format!("Error: inspecting object: no such container {RELAY_ID}"),
                },
            );
        assert_eq!(observe(&mut runner, "podman", "probe-x").unwrap().len(), 2);

        let mut runner = Recorder::new()
            .respond_when(words("podman ps"), stdout(&format!("{ID}\n")))
            .respond_when(
                words("podman container inspect"),
                RunOutput {
                    status: 125,
                    stdout: "[]\n".to_owned(),
                    stderr: format!("Error: inspecting object: no such container {ID}"),
                },
            );
        let err = observe(&mut runner, "podman", "probe-x").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`podman container inspect {ID}` failed with exit status 125: \
                 Error: inspecting object: no such container {ID}"
            )
        );
    }

    #[test]
    fn a_failing_or_missing_runtime_is_an_error() {
        let mut runner = Recorder::new().fail_when(
            words("podman ps"),
            125,
            "Cannot connect to Podman. Please verify your connection",
        );
        let err = observe(&mut runner, "podman", "p").unwrap_err();
        assert!(
            matches!(err, ObserveError::Failed { status: 125, .. }),
            "{err}"
        );

        let err = observe(&mut SystemRunner, "privai-no-such-runtime", "p").unwrap_err();
        assert!(matches!(err, ObserveError::Spawn { .. }), "{err}");

        let mut runner = Recorder::new()
            .respond_when(words("podman ps"), stdout("abc\n"))
            .respond_when(words("podman container inspect"), stdout("not json"));
        let err = observe(&mut runner, "podman", "p").unwrap_err();
        assert!(matches!(err, ObserveError::Parse { .. }), "{err}");
    }

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
