//! What `plan`, `apply`, `rollback`, `generations` and `gc` share: where the
//! system is installed (`--root`, `--host`), the state lock, recovery of an
//! interrupted run, and the service manager `apply` talks to.

use crate::apply::Services;
use crate::model::{Platform, Spec};
use crate::state::lock::StateLock;
use crate::state::{Install, default_state_dir};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `--root` and `--host`.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// Stage the whole system under DIR instead of installing it: each
    /// host's files at `DIR/HOST/PATH` (`~/` as `DIR/HOST/HOME/`), the state
    /// (generations, journal, lock) in `DIR/.privai`. Services are not started.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Without `--root`: which host of the spec this machine is. Default:
    /// the host named like this machine (its hostname). With `--root`:
    /// stage only this host's part (what a fleet apply runs on each host).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
}

/// The part of `rendered` that `--root DIR --host NAME` stages: host
/// NAME's files, secrets, models and services, the gateway's check only
/// on the gateway's host and Headscale's users and keys only on
/// Headscale's. Everything without both flags. `Err` for a host the spec
/// does not have.
pub fn staged_part(
    args: &TargetArgs,
    spec: &Spec,
    mut rendered: crate::render::Rendered,
) -> anyhow::Result<crate::render::Rendered> {
    let (Some(_), Some(host)) = (&args.root, &args.host) else {
        return Ok(rendered);
    };
    if !spec.hosts.iter().any(|h| &h.name == host) {
        let names: Vec<&str> = spec.hosts.iter().map(|h| h.name.as_str()).collect();
        anyhow::bail!(
            "the spec has no host `{host}` (its hosts: {}); pass one of them to --host",
            names.join(", ")
        );
    }
    let runs = |role| spec.service_host(role).is_some_and(|h| &h.name == host);
    rendered.artifacts.retain(|a| &a.host == host);
    rendered.models.retain(|m| &m.host == host);
    rendered.services.retain(|s| &s.host == host);
    rendered.secrets.retain(|s| &s.host == host);
    if !runs(crate::model::Role::Openclaw) {
        rendered.gateway_models.clear();
    }
    if !runs(crate::model::Role::Headscale) {
        rendered.control = None;
    }
    Ok(rendered)
}

/// Environment variable, for tests only: activate services even under
/// `--root`, recording each service-manager command line in this file
/// instead of running it; health checks run for real.
pub const TEST_SERVICES_ENV: &str = "PRIVAI_TEST_SERVICES";
/// Environment variable, for tests only, with [`TEST_SERVICES_ENV`]: a
/// comma-separated list of programs (e.g. a podman wrapper) whose command
/// lines run for real instead of only being recorded.
pub const TEST_PASS_THROUGH_ENV: &str = "PRIVAI_TEST_PASS_THROUGH";
/// Environment variable, for tests only: abort at this checkpoint of an
/// apply, as abruptly as kill -9 ([`crate::apply::Options::failpoint`]).
pub const TEST_FAILPOINT_ENV: &str = "PRIVAI_TEST_FAILPOINT";

/// The platform of this machine.
pub fn this_platform() -> Option<Platform> {
    if cfg!(target_os = "macos") {
        Some(Platform::Darwin)
    } else if cfg!(target_os = "linux") {
        Some(Platform::Linux)
    } else {
        None
    }
}

/// The operator's home and, under `sudo`, their uid and gid: privai then
/// installs `~/` files in the home of the user who ran sudo, owned by them.
fn operator() -> anyhow::Result<(PathBuf, Option<(u32, u32)>)> {
    let sudo = |name| std::env::var(name).ok().and_then(|v| v.parse::<u32>().ok());
    if let (Some(user), Some(uid), Some(gid)) = (
        std::env::var("SUDO_USER").ok(),
        sudo("SUDO_UID"),
        sudo("SUDO_GID"),
    ) && uid != 0
    {
        let home = home_of(&user)
            .with_context(|| format!("cannot find the home directory of {user}, who ran sudo"))?;
        return Ok((home, Some((uid, gid))));
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .context("$HOME is not set; privai installs the operator's files under it")?;
    Ok((home, None))
}

/// The home directory of `user`: from `/etc/passwd` on Linux, `/Users/USER`
/// on macOS (where local accounts live in Directory Services).
fn home_of(user: &str) -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        return Some(PathBuf::from("/Users").join(user));
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&user) && fields.len() > 5).then(|| PathBuf::from(fields[5]))
    })
}

/// Where `spec` is installed, per `args`.
pub fn install_for_spec(args: &TargetArgs, spec: &Spec) -> anyhow::Result<Install> {
    if let Some(root) = &args.root {
        return Ok(Install::Staged {
            root: absolute(root)?,
        });
    }
    let wanted = match &args.host {
        Some(name) => name.clone(),
        None => gethostname::gethostname().to_string_lossy().into_owned(),
    };
    let short = wanted.split('.').next().unwrap_or(&wanted).to_owned();
    let Some(host) = spec
        .hosts
        .iter()
        .find(|h| h.name == wanted || h.name == short)
    else {
        let names: Vec<&str> = spec.hosts.iter().map(|h| h.name.as_str()).collect();
        anyhow::bail!(
            "this machine ({wanted}) is none of the spec's hosts ({}); pass --host NAME, or --root DIR to stage the system in a directory",
            names.join(", ")
        );
    };
    if this_platform() != Some(host.platform) {
        anyhow::bail!(
            "host `{}` is a {:?} machine and this one is not; run privai on it, or stage it here with --root DIR",
            host.name,
            host.platform
        );
    }
    let (home, operator) = operator()?;
    Ok(Install::Live {
        host: host.name.clone(),
        home,
        state: default_state_dir(host.platform),
        operator,
    })
}

/// Where the system is installed, for commands without a spec
/// (`generations`, `rollback`, `gc`).
pub fn install_without_spec(args: &TargetArgs) -> anyhow::Result<Install> {
    if let Some(root) = &args.root {
        return Ok(Install::Staged {
            root: absolute(root)?,
        });
    }
    let platform = this_platform().context("privai installs on Linux and macOS only")?;
    let (home, operator) = operator()?;
    Ok(Install::Live {
        host: args
            .host
            .clone()
            .unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned()),
        home,
        state: default_state_dir(platform),
        operator,
    })
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    Ok(std::path::absolute(path)?)
}

/// Takes the state lock for `command`, then finishes an interrupted run
/// (printing what was done) before anything reads the state.
pub fn lock_and_recover(
    install: &Install,
    command: &str,
    services: Option<&mut dyn Services>,
) -> anyhow::Result<StateLock> {
    let lock = lock(install, command)?;
    recover(install, services)?;
    Ok(lock)
}

/// Takes the state lock for `command` (refused naming the holder), and
/// refuses state that others can write ([`crate::state::trust`]).
pub fn lock(install: &Install, command: &str) -> anyhow::Result<StateLock> {
    let state = install.state_dir();
    let lock = StateLock::acquire(&state, command)?;
    crate::state::trust::check(&state)?;
    Ok(lock)
}

/// Finishes an interrupted run, printing what was done; the caller holds
/// the lock ([`lock`]).
pub fn recover(install: &Install, services: Option<&mut dyn Services>) -> anyhow::Result<()> {
    if let Some(recovery) = crate::apply::recover(install, services)? {
        // Recovery is done whether or not stderr still listens.
        let mut err = std::io::stderr().lock();
        let _ = crate::output::apply_view::recovery(&mut err, &recovery);
    }
    Ok(())
}

/// The command line, as the journal and the lock record it.
pub fn command_line() -> String {
    let args: Vec<String> = std::env::args().collect();
    let mut line = String::from("privai");
    for arg in args.iter().skip(1) {
        line.push(' ');
        line.push_str(arg);
    }
    line
}

/// The service manager for `install`: none for a staged install (unless
/// the test recorder is asked for), the system's otherwise.
pub fn services(
    install: &Install,
    health_timeout: Option<u64>,
    desired: &crate::render::Rendered,
) -> anyhow::Result<Option<Box<dyn Services>>> {
    let ollama_url = crate::observe::live::ollama_url(desired);
    let control = desired.control.as_ref();
    use crate::apply::system::System;
    let timeout = health_timeout.map(std::time::Duration::from_secs);
    if let Some(runner) = test_runner() {
        return Ok(Some(Box::new(
            System::new(Box::new(runner), install.clone(), timeout, ollama_url)?
                .with_control(control)
                .with_container_checks(container_runner(install, desired).is_some()),
        )));
    }
    if !install.activates() {
        return Ok(None);
    }
    Ok(Some(Box::new(
        System::new(
            Box::new(crate::sys::SystemRunner),
            install.clone(),
            timeout,
            ollama_url,
        )?
        .with_control(control)
        .with_container_checks(true),
    )))
}

/// The runner through which `plan` asks the container runtime about the
/// gateway's containers: the system's on the live system; under the test
/// recorder only when the runtime runs for real ([`TEST_PASS_THROUGH_ENV`]),
/// since a recorded `ps` answers nothing; none for a staged install.
pub fn container_runner(
    install: &Install,
    desired: &crate::render::Rendered,
) -> Option<crate::sys::SystemRunner> {
    use crate::render::units::Manager;
    if recording() {
        let real = std::env::var(TEST_PASS_THROUGH_ENV).unwrap_or_default();
        let real: Vec<&str> = real.split(',').collect();
        let runs_for_real = desired.services.iter().all(|unit| match &unit.manager {
            Manager::Compose { runtime, .. } => real.contains(&runtime.as_str()),
            _ => true,
        });
        return runs_for_real.then_some(crate::sys::SystemRunner);
    }
    install.activates().then_some(crate::sys::SystemRunner)
}

/// Whether services (and so live resources) are activated: on the live
/// system, or under the test recorder.
pub fn live(install: &Install) -> bool {
    install.activates() || recording()
}

/// The runner of this machine's commands: under the test recorder, the
/// recorder ([`TEST_PASS_THROUGH_ENV`] runs some for real); otherwise the
/// system's.
pub fn runner() -> Box<dyn crate::sys::Runner> {
    match test_runner() {
        Some(runner) => Box::new(runner),
        None => Box::new(crate::sys::SystemRunner),
    }
}

/// No test recorder: this build has no test hooks.
#[cfg(not(feature = "test-hooks"))]
fn test_runner() -> Option<crate::sys::SystemRunner> {
    None
}

/// The test recorder, when [`TEST_SERVICES_ENV`] asks for it.
#[cfg(feature = "test-hooks")]
fn test_runner() -> Option<PassThrough> {
    let log = std::env::var_os(TEST_SERVICES_ENV)?;
    Some(PassThrough {
        recorder: crate::sys::Recorder::to_file(PathBuf::from(log)),
        real: std::env::var(TEST_PASS_THROUGH_ENV)
            .unwrap_or_default()
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// The test runner: records every command line; runs those whose program
/// is in `real` for real, answers the others with success.
#[cfg(feature = "test-hooks")]
struct PassThrough {
    recorder: crate::sys::Recorder,
    real: Vec<String>,
}

#[cfg(feature = "test-hooks")]
impl crate::sys::Runner for PassThrough {
    fn run(&mut self, argv: &[String]) -> std::io::Result<crate::sys::RunOutput> {
        let recorded = self.recorder.run(argv)?;
        match argv.first() {
            Some(program) if self.real.contains(program) => crate::sys::SystemRunner.run(argv),
            _ => Ok(recorded),
        }
    }
}

/// Environment variable, for tests only: abort an apply, as abruptly as
/// kill -9, once it has written its N-th temp file (from 1) and before it
/// renames it into place ([`crate::state::atomic::crash_at_temp_file`]).
#[cfg(feature = "test-hooks")]
pub const TEST_CRASH_AT_TEMP_ENV: &str = "PRIVAI_TEST_CRASH_AT_TEMP";

/// The test failpoint, if set (never in a build without test hooks).
pub fn failpoint() -> anyhow::Result<Option<usize>> {
    test_number(TEST_FAILPOINT_ENV)
}

/// The test's temp file to abort at, if set.
#[cfg(feature = "test-hooks")]
pub fn crash_at_temp_file() -> anyhow::Result<Option<usize>> {
    test_number(TEST_CRASH_AT_TEMP_ENV)
}

/// Whether the test recorder is asked for (never in a build without test
/// hooks).
fn recording() -> bool {
    cfg!(feature = "test-hooks") && std::env::var_os(TEST_SERVICES_ENV).is_some()
}

#[cfg(not(feature = "test-hooks"))]
fn test_number(_: &str) -> anyhow::Result<Option<usize>> {
    Ok(None)
}

#[cfg(feature = "test-hooks")]
fn test_number(var: &str) -> anyhow::Result<Option<usize>> {
    match std::env::var(var) {
        Ok(value) => Ok(Some(value.parse().with_context(|| {
            format!("{var} must be a checkpoint number, not {value:?}")
        })?)),
        Err(_) => Ok(None),
    }
}

/// Asks Terraform's question on the terminal; true only for `yes`.
pub fn confirm(out: &mut dyn Write) -> anyhow::Result<bool> {
    write!(
        out,
        "\nDo you want to perform these actions?\n  privai will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    )?;
    out.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    writeln!(out)?;
    Ok(answer.trim() == "yes")
}
