//! Starting, restarting and stopping one service: the ordered service-manager
//! commands for a [`ServiceUnit`] ([`start`], [`restart`], [`stop`]; pure),
//! and [`run_steps`], which runs them through a [`Runner`] and stops at the
//! first failure that is not tolerated.
//!
//! | manager | start | restart | reload | stop |
//! | --- | --- | --- | --- | --- |
//! | launchd | bootout¹, enable, bootstrap² | the same | `kill SIGHUP` | bootout¹ |
//! | systemd | daemon-reload, enable, start | daemon-reload, restart | `reload` | stop¹, disable¹ |
//! | compose | `up -d --force-recreate` | the same | the same as restart | `down` |
//!
//! ¹ tolerates "not loaded", so that starting something that was never
//! loaded, or stopping something already gone, is not an error.
//! ² retries error 5 for [`BOOTSTRAP_RETRY_WITHIN`]: `bootout` returns while
//! the old job may still be exiting, and a bootstrap in that window fails
//! with 5 (see [`launchctl`]).
//!
//! Why these sequences:
//!
//! * launchd reads a plist only when the job is bootstrapped, so a restart
//!   that must pick up a changed plist is a bootout and a fresh bootstrap,
//!   not a `kickstart -k`. `enable` first clears a `launchctl disable`, which
//!   would otherwise make the bootstrap fail (Homebrew and nix-installer do
//!   the same).
//! * systemd: `daemon-reload` first, so a changed unit file is what starts.
//!   `start` also enables the unit, so it comes back after a reboot as a
//!   launchd job with `RunAtLoad` does; `stop` disables it, because `apply`
//!   stops a service to remove it (it deletes the unit file afterwards; the
//!   next reload forgets it). A `.timer` unit is started, enabled and
//!   stopped like any unit, which arms and disarms its job.
//! * compose: `up --force-recreate` is both start and restart (see
//!   [`compose::up`]).

use super::launchctl::{self, BOOTSTRAP_IO_ERROR, Target};
use super::{RunOutput, Runner, command_line, compose, systemctl};
use crate::render::units::{Manager, ServiceUnit};
use std::fmt;
use std::io;
use std::time::{Duration, Instant};

/// How long a launchd bootstrap that fails with error 5 is retried: launchd
/// kills a job that ignores SIGTERM after its `ExitTimeOut` (20 s by
/// default), so by then the old job has gone.
pub const BOOTSTRAP_RETRY_WITHIN: Duration = Duration::from_secs(25);

/// The pause between two bootstrap attempts.
pub const BOOTSTRAP_RETRY_EVERY: Duration = Duration::from_millis(500);

/// What the steps need to know about the machine.
pub struct Context<'a> {
    /// The operator's uid, for launchd's `gui/<uid>` domain.
    pub uid: u32,
    /// Maps an install path (`~/Library/LaunchAgents/x.plist`, `/etc/…`) to
    /// the real path on this machine (home expanded, `--root` applied).
    pub resolve: &'a dyn Fn(&str) -> String,
}

/// What is done to a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    /// Bring it up.
    Start,
    /// Bring it up again with its changed files.
    Restart,
    /// Have it re-read its changed files without a restart (SIGHUP).
    Reload,
    /// Take it down.
    Stop,
}

/// What a failing [`Step`] means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Any non-zero exit fails the activation.
    Fail,
    /// An answer that only says the job or unit is not loaded counts as
    /// success ([`launchctl::not_loaded`], [`systemctl::not_loaded`]).
    TolerateNotLoaded,
    /// Exit `status` is retried every `every` until `within` has passed since
    /// the first attempt; other failures fail at once.
    Retry {
        /// The exit status worth retrying.
        status: i32,
        /// Pause between attempts.
        every: Duration,
        /// How long to keep trying.
        within: Duration,
    },
}

/// One service-manager command of an activation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The command; `argv[0]` is the program.
    pub argv: Vec<String>,
    /// What a failure means.
    pub on_failure: OnFailure,
}

impl Step {
    /// A step whose every failure is an error.
    pub fn new(argv: Vec<String>) -> Self {
        Self {
            argv,
            on_failure: OnFailure::Fail,
        }
    }

    /// A step for which "not loaded" is success.
    pub fn tolerating_not_loaded(argv: Vec<String>) -> Self {
        Self {
            argv,
            on_failure: OnFailure::TolerateNotLoaded,
        }
    }
}

impl fmt::Display for Step {
    /// The command as a shell-pasteable line ([`command_line`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&command_line(&self.argv))
    }
}

/// The steps that do `verb` to `unit`.
pub fn steps(verb: Verb, unit: &ServiceUnit, cx: &Context<'_>) -> Vec<Step> {
    match verb {
        Verb::Start => start(unit, cx),
        Verb::Restart => restart(unit, cx),
        Verb::Reload => reload(unit, cx),
        Verb::Stop => stop(unit, cx),
    }
}

/// The steps that bring `unit` up (see the module docs).
pub fn start(unit: &ServiceUnit, cx: &Context<'_>) -> Vec<Step> {
    match &unit.manager {
        Manager::Launchd {
            domain,
            label,
            plist,
        } => {
            let target = Target {
                domain: *domain,
                uid: cx.uid,
            };
            vec![
                Step::tolerating_not_loaded(launchctl::bootout(target, label)),
                Step::new(launchctl::enable(target, label)),
                Step {
                    argv: launchctl::bootstrap(target, &(cx.resolve)(plist)),
                    on_failure: OnFailure::Retry {
                        status: BOOTSTRAP_IO_ERROR,
                        every: BOOTSTRAP_RETRY_EVERY,
                        within: BOOTSTRAP_RETRY_WITHIN,
                    },
                },
            ]
        }
        Manager::Systemd { unit } => vec![
            Step::new(systemctl::daemon_reload()),
            Step::new(systemctl::enable(unit)),
            Step::new(systemctl::start(unit)),
        ],
        Manager::Compose {
            runtime,
            project,
            file,
        } => vec![Step::new(compose::up(
            runtime,
            project,
            &(cx.resolve)(file),
        ))],
    }
}

/// The steps that bring `unit` up again so that it runs its changed files
/// (see the module docs).
pub fn restart(unit: &ServiceUnit, cx: &Context<'_>) -> Vec<Step> {
    match &unit.manager {
        Manager::Systemd { unit } => vec![
            Step::new(systemctl::daemon_reload()),
            Step::new(systemctl::restart(unit)),
        ],
        Manager::Launchd { .. } | Manager::Compose { .. } => start(unit, cx),
    }
}

/// The steps that make a running `unit` re-read its files without a
/// restart: SIGHUP through its service manager. A compose project cannot
/// reload: it is restarted.
pub fn reload(unit: &ServiceUnit, cx: &Context<'_>) -> Vec<Step> {
    match &unit.manager {
        Manager::Launchd { domain, label, .. } => {
            let target = Target {
                domain: *domain,
                uid: cx.uid,
            };
            vec![Step::new(launchctl::kill_hup(target, label))]
        }
        Manager::Systemd { unit } => vec![Step::new(systemctl::reload(unit))],
        Manager::Compose { .. } => restart(unit, cx),
    }
}

/// The steps that take `unit` down (see the module docs).
pub fn stop(unit: &ServiceUnit, cx: &Context<'_>) -> Vec<Step> {
    match &unit.manager {
        Manager::Launchd { domain, label, .. } => {
            let target = Target {
                domain: *domain,
                uid: cx.uid,
            };
            vec![Step::tolerating_not_loaded(launchctl::bootout(
                target, label,
            ))]
        }
        Manager::Systemd { unit } => vec![
            Step::tolerating_not_loaded(systemctl::stop(unit)),
            Step::tolerating_not_loaded(systemctl::disable(unit)),
        ],
        Manager::Compose {
            runtime,
            project,
            file,
        } => vec![Step::new(compose::down(
            runtime,
            project,
            &(cx.resolve)(file),
        ))],
    }
}

/// A service-manager command that failed.
#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    /// The program could not be run at all.
    #[error("could not run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: io::Error,
        /// How to fix it.
        hint: String,
    },
    /// The program ran and failed.
    #[error("`{command}` failed with exit status {status}{}: {}", retried(*.attempts), output_text(.stderr))]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: i32,
        /// What it printed on stderr (stdout if stderr was empty), trimmed.
        stderr: String,
        /// How many times it was tried (more than 1 after retries).
        attempts: u32,
        /// How to fix it.
        hint: String,
    },
}

impl ActivationError {
    /// How to fix it; print it as a `hint:` line under the error.
    pub fn hint(&self) -> &str {
        match self {
            Self::Spawn { hint, .. } | Self::Failed { hint, .. } => hint,
        }
    }

    /// The command line that failed.
    pub fn command(&self) -> &str {
        match self {
            Self::Spawn { command, .. } | Self::Failed { command, .. } => command,
        }
    }
}

/// ` after N attempts` when there were retries.
fn retried(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

/// The output shown in an error; never empty.
fn output_text(text: &str) -> &str {
    if text.is_empty() { "(no output)" } else { text }
}

/// Runs `steps` in order through `runner`. Stops at the first step whose
/// failure is not tolerated (see [`OnFailure`]) and returns it; the steps
/// after it are not run.
pub fn run_steps(runner: &mut dyn Runner, steps: &[Step]) -> Result<(), ActivationError> {
    for step in steps {
        run_step(runner, step)?;
    }
    Ok(())
}

/// Runs one step, retrying it as its [`OnFailure`] says.
fn run_step(runner: &mut dyn Runner, step: &Step) -> Result<(), ActivationError> {
    let started = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let output = runner
            .run(&step.argv)
            .map_err(|source| ActivationError::Spawn {
                command: command_line(&step.argv),
                hint: spawn_hint(&step.argv, &source),
                source,
            })?;
        if output.success() {
            return Ok(());
        }
        match step.on_failure {
            OnFailure::TolerateNotLoaded if not_loaded(&step.argv, &output) => return Ok(()),
            OnFailure::Retry {
                status,
                every,
                within,
            } if output.status == status && started.elapsed() < within => {
                std::thread::sleep(every);
            }
            _ => {
                return Err(ActivationError::Failed {
                    command: command_line(&step.argv),
                    status: output.status,
                    stderr: shown_output(&output),
                    attempts,
                    hint: hint(&step.argv, &output),
                });
            }
        }
    }
}

/// Whether `output` of `argv` says that the job or unit is not loaded.
fn not_loaded(argv: &[String], output: &RunOutput) -> bool {
    match argv.first().map(String::as_str) {
        Some(launchctl::LAUNCHCTL) => launchctl::not_loaded(output),
        Some(systemctl::SYSTEMCTL) => systemctl::not_loaded(output),
        _ => false,
    }
}

/// stderr, or stdout when stderr is empty, trimmed.
fn shown_output(output: &RunOutput) -> String {
    let stderr = output.stderr.trim();
    if stderr.is_empty() {
        output.stdout.trim().to_owned()
    } else {
        stderr.to_owned()
    }
}

/// How to fix a failed `argv`.
fn hint(argv: &[String], output: &RunOutput) -> String {
    match argv.first().map(String::as_str) {
        Some(launchctl::LAUNCHCTL) => launchctl::hint(argv, output),
        Some(systemctl::SYSTEMCTL) => systemctl::hint(argv, output),
        _ if argv.get(1).is_some_and(|arg| arg == "compose") => compose::hint(argv, output),
        _ => format!(
            "run `{}` by hand to see what went wrong",
            command_line(argv)
        ),
    }
}

/// How to fix a command that could not run.
fn spawn_hint(argv: &[String], error: &io::Error) -> String {
    let program = argv.first().map(String::as_str).unwrap_or_default();
    match error.kind() {
        io::ErrorKind::NotFound => match program {
            "podman" | "docker" => format!(
                "`{program}` is not installed (or not on PATH): install it, or choose the other \
                 container runtime in the spec"
            ),
            launchctl::LAUNCHCTL | systemctl::SYSTEMCTL => format!(
                "`{program}` is not on PATH: run `privai apply` on the host itself \
                 (launchctl on macOS, systemd on Linux)"
            ),
            _ => format!("`{program}` is not installed (or not on PATH)"),
        },
        io::ErrorKind::PermissionDenied => {
            format!("`{program}` is not executable by you: check its mode and owner")
        }
        _ => format!(
            "run `{}` by hand to see what went wrong",
            command_line(argv)
        ),
    }
}

#[cfg(test)]
mod tests;
