//! The gateway's compose project under podman, for real: `up` and `down`
//! through [`SystemRunner`] with the argv of `privai::sys::compose`, what
//! `privai::sys::container::observe` sees, and the health probe of
//! `privai::sys::health`, against the stand-in images of
//! `tests/tools/gateway-standin-image.sh` (`:ok` answers `/healthz`, `:failing`
//! answers 500).
//!
//! Needs podman (with runc), busybox-static and the tools of
//! `tests/tools/install-openclaw.sh` (podman-compose 1.6.0, Node for the
//! stand-in image); skipped with a message when podman is absent.
//!
//! Each test has its own compose project, published port and internal
//! subnet (the rendered `10.254.89.0/24` rewritten to `10.254.N.0/24`), so
//! the tests run in parallel with each other and with the podman tests of
//! `render_openclaw`. Everything listens on 127.0.0.1 or on the test's own
//! container network.

use crate::tools::{
    CONTAINERS_CONF, FAILING_IMAGE, OK_IMAGE, free_port, repo, standin_images, tool,
};
use privai::model::{Role, Spec};
use privai::observe::containers::ContainerState;
use privai::plan::containers::{self as drift_check, Drift};
use privai::render::compose::{self as rendered, GATEWAY_SERVICE, RELAY_SERVICE, SUBNET};
use privai::render::units::Health;
use privai::render::{Artifact, openclaw};
use privai::sys::container;
use privai::sys::health::probe;
use privai::sys::{Runner, SystemRunner, command_line, compose};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the stand-in may take to answer through the relay after `up`.
const HEALTHY_WITHIN: Duration = Duration::from_secs(30);

/// The status line 127.0.0.1:`port` answers `GET /healthz` with, waiting
/// up to `within` for an answer.
fn status_line_within(port: u16, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let answer = (|| {
            let mut stream =
                TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))
                    .ok()?;
            stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
            write!(stream, "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
            let mut response = String::new();
            stream.read_to_string(&mut response).ok()?;
            response.lines().next().map(str::to_owned)
        })();
        match answer {
            Some(line) => return line,
            None if Instant::now() > deadline => panic!("no answer on 127.0.0.1:{port}"),
            None => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// One test's compose project: a temporary directory with the compose
/// file, the host side of the gateway (folders, token), a `podman` wrapper
/// that privai's argv run as the runtime, and the spec. Brought `down` when
/// dropped, also when the test fails.
struct Project {
    dir: tempfile::TempDir,
    /// The wrapper: podman with the test's containers.conf; `compose` runs
    /// podman-compose (bounded: it waits forever on a dependency that failed
    /// to start) with the test's `$HOME`.
    runtime: String,
    project: String,
    /// The third octet of the test's internal subnet.
    subnet: u8,
    file: PathBuf,
    spec: Spec,
    port: u16,
}

impl Project {
    /// The Linux home lab for test `name`, its gateway published on
    /// 127.0.0.1 on a free port, with the `:ok` stand-in image, under the
    /// project `privai-ct-NAME` on subnet `10.254.SUBNET.0/24`. Whatever a
    /// previous, interrupted run of the test left is removed first.
    fn new(podman: &Path, name: &str, subnet: u8) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("containers.conf");
        std::fs::write(&conf, CONTAINERS_CONF).unwrap();
        standin_images(podman, &conf);
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();

        let wrapper = dir.path().join("podman");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nCONTAINERS_CONF='{conf}'\nexport CONTAINERS_CONF\n\
                 if [ \"$1\" = compose ]; then\n  shift\n  HOME='{home}' exec timeout 120 '{compose}' \"$@\"\nfi\n\
                 exec '{podman}' \"$@\"\n",
                conf = conf.display(),
                home = home.display(),
                compose = tool("podman-compose").display(),
                podman = podman.display(),
            ),
        )
        .unwrap();
        std::fs::set_permissions(
            &wrapper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();

        let mut spec = privai::spec::load(&repo("examples/linux-homelab.ncl"))
            .unwrap()
            .spec;
        let port = free_port();
        spec.openclaw.bind = "127.0.0.1".into();
        spec.openclaw.port = port;
        spec.openclaw.image = Some(OK_IMAGE.into());
        // Within the machine's CPUs (podman refuses more).
        spec.openclaw.container.cpus = 1.0;
        for folder in &mut spec.openclaw.folders {
            let host = home.join(&folder.name);
            std::fs::create_dir_all(&host).unwrap();
            std::os::unix::fs::chown(&host, Some(1000), Some(1000)).unwrap();
            folder.host_path = host.to_str().unwrap().to_owned();
        }
        let token = home.join("openclaw-gateway-token");
        std::fs::write(&token, "test-token\n").unwrap();
        std::fs::set_permissions(&token, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        std::os::unix::fs::chown(&token, Some(1000), Some(1000)).unwrap();
        spec.openclaw.gateway_token = format!("file:{}", token.display()).into();

        let project = Self {
            file: dir.path().join("compose.yaml"),
            runtime: wrapper.to_str().unwrap().to_owned(),
            project: format!("privai-ct-{name}"),
            subnet,
            dir,
            spec,
            port,
        };
        project.remove();
        project
    }

    /// Renders the spec into the compose file and the gateway config, with
    /// the test's subnet; returns the compose definition.
    fn render(&self) -> rendered::ComposeFile {
        let spec = &self.spec;
        let host = spec.service_host(Role::Openclaw).unwrap();
        let mut out: Vec<Artifact> = Vec::new();
        openclaw::render(spec, host, &mut out);
        let text = |suffix: &str| {
            let artifact = out.iter().find(|a| a.path.ends_with(suffix)).unwrap();
            String::from_utf8(artifact.contents.clone()).unwrap()
        };
        let prefix = SUBNET.trim_end_matches("0/24");
        assert_eq!(prefix, "10.254.89.");
        let compose = text("/compose.yaml").replace(prefix, &format!("10.254.{}.", self.subnet));
        std::fs::write(&self.file, compose).unwrap();
        let config = self.dir.path().join("home/config/openclaw.json");
        std::fs::write(config, text("/openclaw.json")).unwrap();
        rendered::compose_file(spec, host, spec.gateway().unwrap())
    }

    fn run(&self, argv: &[String]) -> privai::sys::RunOutput {
        SystemRunner
            .run(argv)
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", command_line(argv)))
    }

    /// `up -d --force-recreate --remove-orphans`, as `privai apply` runs it.
    fn up(&self) -> Duration {
        let started = Instant::now();
        let argv = compose::up(&self.runtime, &self.project, self.file.to_str().unwrap());
        let out = self.run(&argv);
        assert!(
            out.success(),
            "{} failed ({}):\n{}\n{}",
            command_line(&argv),
            out.status,
            out.stdout,
            out.stderr
        );
        started.elapsed()
    }

    fn observe(&self) -> Vec<ContainerState> {
        container::observe(&mut SystemRunner, &self.runtime, &self.project)
            .unwrap_or_else(|e| panic!("observe: {e}"))
    }

    /// The container of `service`.
    fn service<'a>(&self, observed: &'a [ContainerState], service: &str) -> &'a ContainerState {
        observed
            .iter()
            .find(|c| c.service.as_deref() == Some(service))
            .unwrap_or_else(|| panic!("no container for {service}: {observed:#?}"))
    }

    fn health(&self) -> Health {
        Health::Http {
            url: format!("http://127.0.0.1:{}/healthz", self.port),
        }
    }

    /// Probes `/healthz` as `apply` does, with the relay's log on failure.
    fn assert_healthy(&self) {
        if let Err(e) = probe(&self.health(), HEALTHY_WITHIN) {
            let logs = self.run(&[
                self.runtime.clone(),
                "logs".into(),
                format!("{}_{RELAY_SERVICE}_1", self.project),
            ]);
            panic!("{e}\nrelay: {}{}", logs.stdout, logs.stderr);
        }
    }

    /// `down`, then whatever is left of the project (containers, networks,
    /// pod), by label and name.
    fn remove(&self) {
        crate::tools::remove_compose_project(&self.runtime, &self.project, &self.file);
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let started = Instant::now();
        self.remove();
        eprintln!("{}: down in {:?}", self.project, started.elapsed());
    }
}

/// The gateway and the relay, both running from `image`, and nothing else.
fn assert_running(observed: &[ContainerState], image: &str) {
    let services: Vec<Option<&str>> = observed.iter().map(|c| c.service.as_deref()).collect();
    assert_eq!(
        services,
        [Some(GATEWAY_SERVICE), Some(RELAY_SERVICE)],
        "{observed:#?}"
    );
    for c in observed {
        assert!(c.running, "{} is {}: {c:#?}", c.name, c.status);
        assert_eq!(c.status, "running");
        assert_eq!(c.image, image, "{}", c.name);
    }
}

#[test]
fn observe_sees_the_project_running_and_healthz_answers_through_the_relay() {
    let _podman = crate::podman_lock();
    let podman = crate::tools::podman();
    let started = Instant::now();
    let project = Project::new(&podman, "observe", 101);

    // Nothing runs before `up`.
    assert_eq!(project.observe(), []);
    let definition = project.render();
    let up = project.up();

    let observed = project.observe();
    assert_running(&observed, OK_IMAGE);
    let gateway = project.service(&observed, GATEWAY_SERVICE);
    let relay = project.service(&observed, RELAY_SERVICE);
    assert_eq!(
        gateway.name,
        format!("{}_{GATEWAY_SERVICE}_1", project.project)
    );
    assert_eq!(gateway.id.len(), 64, "full ids: {}", gateway.id);
    assert_eq!(gateway.memory_limit_bytes, Some(3072 << 20));
    assert_eq!(relay.memory_limit_bytes, Some(128 << 20));
    assert_eq!(gateway.nano_cpus, Some(1_000_000_000));
    assert_eq!(relay.nano_cpus, Some(500_000_000));
    assert_eq!(gateway.user, "1000:1000");
    assert!(gateway.read_only_root && relay.read_only_root);
    assert_eq!(relay.network_mode, "host");
    assert_ne!(gateway.network_mode, "host");
    // Both compose health checks exist; podman without systemd runs them
    // only on demand, so they are still starting.
    assert!(gateway.health.is_some(), "{gateway:#?}");
    // The labels podman-compose 1.6 sets.
    for c in &observed {
        let label = |key: &str| c.labels.get(key).map(String::as_str);
        assert_eq!(
            label(container::PROJECT_LABEL),
            Some(project.project.as_str())
        );
        assert_eq!(
            label("io.podman.compose.project"),
            Some(project.project.as_str())
        );
        assert_eq!(label(container::SERVICE_LABEL), c.service.as_deref());
        assert_eq!(
            label(container::PODMAN_CONFIG_HASH_LABEL).map(str::len),
            Some(64),
            "{:#?}",
            c.labels
        );
    }

    // They are what the compose file declares.
    assert_eq!(drift_check::drift(&definition, &observed), []);

    // The published port answers /healthz through the relay.
    let probed = Instant::now();
    project.assert_healthy();
    eprintln!(
        "observe: up {up:?}, healthy after {:?}, total {:?}",
        probed.elapsed(),
        started.elapsed()
    );
}

#[test]
fn changing_the_memory_limit_replaces_the_gateway_container() {
    let _podman = crate::podman_lock();
    let podman = crate::tools::podman();
    let started = Instant::now();
    let mut project = Project::new(&podman, "memory", 102);
    project.render();
    let first_up = project.up();
    let before = project.observe();
    assert_running(&before, OK_IMAGE);
    let old = project.service(&before, GATEWAY_SERVICE).clone();
    assert_eq!(old.memory_limit_bytes, Some(3072 << 20));

    // The new definition differs from what runs in the gateway's memory
    // only, and the observation says so before `up`.
    project.spec.openclaw.container.memory_mb = 2048;
    let definition = project.render();
    assert_eq!(
        drift_check::drift(&definition, &before),
        [Drift::Differs {
            service: GATEWAY_SERVICE.into(),
            field: "memory",
            want: format!("{} bytes", 2048u64 << 20),
            got: format!("{} bytes", 3072u64 << 20),
        }]
    );

    let second_up = project.up();
    let after = project.observe();
    assert_running(&after, OK_IMAGE);
    let new = project.service(&after, GATEWAY_SERVICE);
    assert_ne!(new.id, old.id, "the gateway container was not replaced");
    assert_eq!(new.memory_limit_bytes, Some(2048 << 20));
    assert_eq!(drift_check::drift(&definition, &after), []);
    project.assert_healthy();
    eprintln!(
        "memory: ups {first_up:?} and {second_up:?}, total {:?}",
        started.elapsed()
    );
}

#[test]
fn a_failing_gateway_fails_the_probe_and_the_previous_file_restores_it() {
    let _podman = crate::podman_lock();
    let podman = crate::tools::podman();
    let started = Instant::now();
    let mut project = Project::new(&podman, "failing", 103);
    let good = project.render();
    let good_file = std::fs::read_to_string(&project.file).unwrap();
    project.up();
    project.assert_healthy();

    // A gateway that answers 500: the containers run, the probe fails.
    project.spec.openclaw.image = Some(FAILING_IMAGE.into());
    let failing = project.render();
    project.up();
    let observed = project.observe();
    assert_running(&observed, FAILING_IMAGE);
    assert_eq!(drift_check::drift(&failing, &observed), []);
    let drifts = drift_check::drift(&good, &observed);
    assert_eq!(drifts.len(), 2, "{drifts:#?}");
    assert!(
        drifts
            .iter()
            .all(|d| matches!(d, Drift::Differs { field: "image", .. })),
        "{drifts:#?}"
    );
    let answer = status_line_within(project.port, HEALTHY_WITHIN);
    assert!(
        answer.starts_with("HTTP/1.0 500"),
        "the failing stand-in answered {answer:?}"
    );
    let probed = Instant::now();
    let error = probe(&project.health(), Duration::from_secs(3)).unwrap_err();
    assert!(probed.elapsed() < Duration::from_secs(5), "{error}");
    // The last attempt's failure: the 500, or no answer when too little of
    // the 3 s was left for it.
    assert!(
        error.starts_with(&format!("GET http://127.0.0.1:{}/healthz: ", project.port))
            && error.ends_with(" after 3 s"),
        "{error}"
    );

    // Bringing the previous file up again restores a healthy gateway.
    std::fs::write(&project.file, &good_file).unwrap();
    project.up();
    let restored = project.observe();
    assert_running(&restored, OK_IMAGE);
    assert_eq!(drift_check::drift(&good, &restored), []);
    project.assert_healthy();
    eprintln!("failing: total {:?}", started.elapsed());
}
