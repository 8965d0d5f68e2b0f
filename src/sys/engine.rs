//! Which container engine runs the gateway when the spec does not say
//! (`openclaw.container.runtime` left out): the first of Podman and Docker
//! whose `compose` answers `compose version` on this machine, since
//! `compose` is what `apply` runs. The probe's argv is pure
//! ([`probe`]); [`detect`] runs it through a [`Runner`].

use super::{Runner, command_line};
use crate::model::ContainerRuntime;

/// The engines tried, in order.
pub const ORDER: [ContainerRuntime; 2] = [ContainerRuntime::Podman, ContainerRuntime::Docker];

/// The program of `runtime`.
pub fn program(runtime: ContainerRuntime) -> &'static str {
    match runtime {
        ContainerRuntime::Podman => "podman",
        ContainerRuntime::Docker => "docker",
    }
}

/// `podman compose version` / `docker compose version`: succeeds when the
/// engine and a compose implementation for it are installed.
pub fn probe(runtime: ContainerRuntime) -> Vec<String> {
    [program(runtime), "compose", "version"]
        .map(str::to_owned)
        .to_vec()
}

/// The first engine of [`ORDER`] whose [`probe`] succeeds; `Err` says what
/// each probe answered and how to install one or choose one in the spec.
pub fn detect(runner: &mut dyn Runner) -> Result<ContainerRuntime, String> {
    let mut answers = Vec::new();
    for runtime in ORDER {
        let argv = probe(runtime);
        match runner.run(&argv) {
            Ok(out) if out.success() => return Ok(runtime),
            Ok(out) => {
                let said = out
                    .stderr
                    .lines()
                    .chain(out.stdout.lines())
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or("no output")
                    .to_owned();
                answers.push(format!(
                    "`{}` exited {}: {said}",
                    command_line(&argv),
                    out.status
                ));
            }
            Err(e) => answers.push(format!("`{}` cannot run: {e}", program(runtime))),
        }
    }
    Err(format!(
        "no container engine can run the gateway here ({}): install Podman with a compose provider (macOS: `brew install podman podman-compose`, then `podman machine init` and `podman machine start`; Debian: `apt-get install podman podman-compose`) or Docker with its compose plugin, or set `openclaw.container.runtime` in the spec",
        answers.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::Recorder;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn the_probe_asks_the_engines_compose_for_its_version() {
        assert_eq!(
            probe(ContainerRuntime::Podman),
            argv(&["podman", "compose", "version"])
        );
        assert_eq!(
            probe(ContainerRuntime::Docker),
            argv(&["docker", "compose", "version"])
        );
    }

    #[test]
    fn podman_is_chosen_first_when_its_compose_answers() {
        let mut runner = Recorder::new();
        assert_eq!(detect(&mut runner), Ok(ContainerRuntime::Podman));
        assert_eq!(runner.command_lines(), ["podman compose version"]);
    }

    #[test]
    fn docker_is_chosen_when_podman_has_no_compose() {
        let mut runner = Recorder::new().fail_when(
            argv(&["podman"]),
            125,
            "Error: looking up compose provider failed\n",
        );
        assert_eq!(detect(&mut runner), Ok(ContainerRuntime::Docker));
        assert_eq!(
            runner.command_lines(),
            ["podman compose version", "docker compose version"]
        );
    }

    #[test]
    fn with_neither_the_error_says_what_each_answered_and_how_to_fix_it() {
        let mut runner = Recorder::new()
            .fail_when(argv(&["podman"]), 127, "")
            .fail_when(
                argv(&["docker"]),
                1,
                "docker: 'compose' is not a docker command.\n",
            );
        let err = detect(&mut runner).unwrap_err();
        assert!(
            err.starts_with(
                "no container engine can run the gateway here (`podman compose version` exited 127: no output; `docker compose version` exited 1: docker: 'compose' is not a docker command.): install Podman"
            ),
            "{err}"
        );
        assert!(err.ends_with("or set `openclaw.container.runtime` in the spec"));
    }
}
