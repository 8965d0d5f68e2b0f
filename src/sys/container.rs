//! What runs in the gateway's compose project: its containers as the
//! container runtime reports them ([`observe`]). Whether they are the ones
//! the installed compose file declares is decided in
//! [`crate::plan::containers`].
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

use super::{Runner, command_line};
use crate::observe::containers::ContainerState;
use serde::Deserialize;
use std::collections::BTreeMap;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::compose::{GATEWAY_SERVICE, RELAY_SERVICE};
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
}
