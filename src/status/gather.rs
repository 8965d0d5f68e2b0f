//! The probes of `privai status` beyond what [`crate::observe`] reads:
//! every service's health check, once and briefly, the models Ollama has
//! loaded (`/api/ps`) and Headscale's version (`/version`).

use super::Probes;
use crate::observe::live::{HeadscaleState, OllamaState, headscale_client, ollama_url};
use crate::render::{Rendered, ServiceId};
use std::time::{Duration, SystemTime};

/// Longest one health check may take: `status` reports, it does not wait
/// for a service to come up.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Probes the services `desired` runs here, as `install` lays them out;
/// Headscale is asked its version when it answered the observation.
pub fn probes(
    desired: &Rendered,
    install: &crate::state::Install,
    ollama: &OllamaState,
    headscale: &HeadscaleState,
) -> Probes {
    let health = desired
        .services
        .iter()
        .filter_map(|unit| {
            let check = unit.health.as_ref()?;
            // A service the observation found down is not waited for again.
            let known_down = match (unit.id, ollama, headscale) {
                (ServiceId::Ollama, OllamaState::Unreachable { error, .. }, _)
                | (ServiceId::Headscale, _, HeadscaleState::Unreachable { error, .. }) => {
                    Some(error.clone())
                }
                _ => None,
            };
            let result = match known_down {
                Some(error) => Err(error),
                None => crate::sys::health::probe(check, PROBE_TIMEOUT),
            };
            Some((unit.id, result))
        })
        .collect();
    let loaded = match (ollama, ollama_url(desired)) {
        (OllamaState::Running { .. }, Some(url)) => crate::api::ollama::Client::new(&url)
            .ok()
            .and_then(|client| client.running().ok()),
        _ => None,
    };
    let headscale_version = match (headscale, &desired.control) {
        (HeadscaleState::Running { .. }, Some(control)) => headscale_client(control, install)
            .ok()
            .and_then(|client| client.version().ok()),
        _ => None,
    };
    Probes {
        health,
        loaded,
        headscale_version,
        manager: Vec::new(),
        interrupted_apply: false,
        now: Some(SystemTime::now()),
    }
}

/// What each launchd job or systemd unit `desired` runs is doing, asked of
/// the service manager through `runner` (`launchctl print`, `systemctl
/// is-active`); compose projects are observed as containers instead.
pub fn manager_states(
    desired: &Rendered,
    install: &crate::state::Install,
    runner: &mut dyn crate::sys::Runner,
) -> Vec<(crate::render::ServiceId, String)> {
    use crate::render::units::Manager;
    use crate::sys::{launchctl, systemctl};
    let uid = install.operator().map(|(uid, _)| uid).or_else(home_owner);
    desired
        .services
        .iter()
        .filter_map(|unit| {
            let state = match &unit.manager {
                Manager::Systemd { unit } => {
                    let argv = vec![
                        systemctl::SYSTEMCTL.to_owned(),
                        "is-active".to_owned(),
                        unit.clone(),
                    ];
                    systemd_state(&runner.run(&argv).ok()?)
                }
                Manager::Launchd { domain, label, .. } => {
                    let target = launchctl::Target {
                        domain: *domain,
                        uid: uid?,
                    };
                    launchd_state(&runner.run(&launchctl::print(target, label)).ok()?)
                }
                Manager::Compose { .. } => None,
            }?;
            Some((unit.id, state))
        })
        .collect()
}

/// The uid owning `$HOME`: the operator, whose `gui/<uid>` domain holds
/// privai's launch agents.
fn home_owner() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let home = std::env::var_os("HOME")?;
    std::fs::metadata(home).ok().map(|m| m.uid())
}

/// `systemctl is-active`'s answer (`active`, `inactive`, `failed`,
/// `activating`…); `None` when it printed nothing.
pub fn systemd_state(output: &crate::sys::RunOutput) -> Option<String> {
    let state = output.stdout.lines().next()?.trim();
    (!state.is_empty() && state.len() < 32).then(|| state.to_owned())
}

/// `launchctl print`'s answer: `not loaded`, else its `state = …` line
/// (`running`, `not running`, `waiting`…), else `loaded`.
pub fn launchd_state(output: &crate::sys::RunOutput) -> Option<String> {
    if crate::sys::launchctl::not_loaded(output) {
        return Some("not loaded".to_owned());
    }
    if output.status != 0 {
        return None;
    }
    let state = output.stdout.lines().find_map(|line| {
        line.trim()
            .strip_prefix("state = ")
            .map(|s| s.trim().to_owned())
    });
    Some(state.unwrap_or_else(|| "loaded".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::RunOutput;

    fn output(status: i32, stdout: &str, stderr: &str) -> RunOutput {
        RunOutput {
            status,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn launchctl_print_tells_running_not_running_and_not_loaded() {
        let running = "gui/501/net.privai.ollama = {\n\tactive count = 1\n\tstate = running\n}\n";
        assert_eq!(
            launchd_state(&output(0, running, "")).as_deref(),
            Some("running")
        );
        assert_eq!(
            launchd_state(&output(0, "\tstate = not running\n", "")).as_deref(),
            Some("not running")
        );
        assert_eq!(
            launchd_state(&output(113, "", "Could not find service")).as_deref(),
            Some("not loaded")
        );
        assert_eq!(launchd_state(&output(0, "", "")).as_deref(), Some("loaded"));
        assert_eq!(launchd_state(&output(1, "", "boom")), None);
    }

    /// Answers `systemctl is-active UNIT` from a table; records the calls.
    struct Systemctl {
        states: Vec<(&'static str, &'static str)>,
        calls: Vec<Vec<String>>,
    }

    impl crate::sys::Runner for Systemctl {
        fn run(&mut self, argv: &[String]) -> std::io::Result<RunOutput> {
            self.calls.push(argv.to_vec());
            let unit = argv.last().cloned().unwrap_or_default();
            let state = self
                .states
                .iter()
                .find(|(u, _)| *u == unit)
                .map_or("unknown", |(_, s)| *s);
            Ok(output(
                if state == "active" { 0 } else { 3 },
                &format!("{state}\n"),
                "",
            ))
        }
    }

    #[test]
    fn each_systemd_unit_of_a_linux_host_is_asked_its_state_and_compose_is_not() {
        let spec =
            crate::check::testing::load(include_str!("../../examples/linux-homelab.ncl"), "ncl")
                .spec;
        let desired = crate::render::render(&spec);
        let mut systemctl = Systemctl {
            states: vec![
                ("privai-headscale.service", "active"),
                ("privai-ollama.service", "active"),
                ("privai-rotate-keys.timer", "failed"),
                ("privai-monitor.timer", "active"),
            ],
            calls: Vec::new(),
        };
        let install = crate::state::Install::Staged {
            root: std::path::PathBuf::from("/nonexistent"),
        };
        let states = manager_states(&desired, &install, &mut systemctl);
        let named: Vec<(&str, &str)> = states
            .iter()
            .map(|(id, state)| (id.name(), state.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("headscale", "active"),
                ("ollama", "active"),
                ("key-rotation", "failed"),
                ("monitor", "active")
            ],
            "{:?}",
            systemctl.calls
        );
        assert!(
            systemctl
                .calls
                .iter()
                .all(|argv| argv[0] == "systemctl" && argv[1] == "is-active")
        );
    }

    #[test]
    fn systemctl_is_active_is_read_as_printed() {
        assert_eq!(
            systemd_state(&output(3, "failed\n", "")).as_deref(),
            Some("failed")
        );
        assert_eq!(
            systemd_state(&output(0, "active\n", "")).as_deref(),
            Some("active")
        );
        assert_eq!(systemd_state(&output(0, "", "")), None);
    }
}
