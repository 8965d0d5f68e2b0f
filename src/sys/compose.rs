//! Compose command lines for the gateway project, for `podman compose` and
//! `docker compose` alike: the runtime, `compose`, then the project (`-p`)
//! and file (`-f`) as global options before the subcommand, so every call
//! addresses the same fixed project whatever directory privai runs in and
//! whatever `name:` the file holds.

use super::{RunOutput, argv};

/// `RUNTIME compose -p PROJECT -f FILE up -d --force-recreate --remove-orphans`:
///
/// * `-d`: start in the background and return; `apply` then probes health;
/// * `--force-recreate`: recreate the containers even when the compose file
///   is unchanged, because what changed may be a file they mount (the
///   gateway config, a secret), which compose does not notice; this is the
///   restart;
/// * `--remove-orphans`: remove containers of the project that the file no
///   longer declares.
///
/// No `--wait`: not every podman compose provider has it, and `apply`'s
/// health probe waits for the gateway instead.
pub fn up(runtime: &str, project: &str, file: &str) -> Vec<String> {
    argv([
        runtime,
        "compose",
        "-p",
        project,
        "-f",
        file,
        "up",
        "-d",
        "--force-recreate",
        "--remove-orphans",
    ])
}

/// `RUNTIME compose -p PROJECT -f FILE down --remove-orphans`: stops and
/// removes the project's containers and networks. Volumes are kept (no
/// `-v`). Succeeds when nothing is running.
pub fn down(runtime: &str, project: &str, file: &str) -> Vec<String> {
    argv([
        runtime,
        "compose",
        "-p",
        project,
        "-f",
        file,
        "down",
        "--remove-orphans",
    ])
}

/// How to fix a failed compose command `argv`.
pub fn hint(argv: &[String], output: &RunOutput) -> String {
    let runtime = argv.first().map(String::as_str).unwrap_or("podman");
    let stderr = &output.stderr;
    if stderr.contains("podman machine start") || stderr.contains("Cannot connect to Podman") {
        return "the Podman machine is not running: start it with `podman machine start`"
            .to_owned();
    }
    if stderr.contains("docker daemon") || stderr.contains("Docker daemon") {
        return "the Docker daemon is not reachable: start Docker, and make sure you may use \
                its socket (the `docker` group)"
            .to_owned();
    }
    let project = option(argv, "-p");
    let file = option(argv, "-f");
    format!("see `{runtime} compose -p {project} -f {file} logs` for what the containers reported")
}

/// The value after `flag` in `argv`.
fn option<'a>(argv: &'a [String], flag: &str) -> &'a str {
    argv.iter()
        .position(|arg| arg == flag)
        .and_then(|i| argv.get(i + 1))
        .map_or("", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "/etc/privai/openclaw/compose.yaml";

    #[test]
    fn up_recreates_the_fixed_project_in_the_background() {
        assert_eq!(
            up("podman", "privai-gateway", FILE),
            [
                "podman",
                "compose",
                "-p",
                "privai-gateway",
                "-f",
                FILE,
                "up",
                "-d",
                "--force-recreate",
                "--remove-orphans"
            ]
        );
    }

    #[test]
    fn down_removes_the_project_but_keeps_its_volumes() {
        assert_eq!(
            down("docker", "privai-gateway", FILE),
            [
                "docker",
                "compose",
                "-p",
                "privai-gateway",
                "-f",
                FILE,
                "down",
                "--remove-orphans"
            ]
        );
    }

    #[test]
    fn failures_hint_at_the_runtime_or_the_project_logs() {
        let argv = up("podman", "privai-gateway", FILE);
        let out = RunOutput::exited(
            125,
            "Cannot connect to Podman. Please verify your connection to the Linux system \
             using `podman system connection list`, or try `podman machine init` and \
             `podman machine start` to manage a new Linux VM",
        );
        assert_eq!(
            hint(&argv, &out),
            "the Podman machine is not running: start it with `podman machine start`"
        );
        assert_eq!(
            hint(&argv, &RunOutput::exited(1, "Error: image not known")),
            "see `podman compose -p privai-gateway -f /etc/privai/openclaw/compose.yaml logs` \
             for what the containers reported"
        );
    }
}
