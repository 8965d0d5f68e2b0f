//! `systemctl` command lines (Linux) for privai's system units
//! (`/etc/systemd/system`, so never `--user`). Each verb takes one unit name
//! (`privai-ollama.service`, `privai-rotate-keys.timer`).

use super::{RunOutput, argv};

/// The program.
pub const SYSTEMCTL: &str = "systemctl";

/// `systemctl daemon-reload`: re-reads changed unit files.
pub fn daemon_reload() -> Vec<String> {
    argv([SYSTEMCTL, "daemon-reload"])
}

/// `systemctl start UNIT`.
pub fn start(unit: &str) -> Vec<String> {
    argv([SYSTEMCTL, "start", unit])
}

/// `systemctl restart UNIT`: stops it if running, then starts it.
pub fn restart(unit: &str) -> Vec<String> {
    argv([SYSTEMCTL, "restart", unit])
}

/// `systemctl reload UNIT`: runs the unit's `ExecReload=` (SIGHUP to
/// Headscale, which re-reads its policy file).
pub fn reload(unit: &str) -> Vec<String> {
    argv([SYSTEMCTL, "reload", unit])
}

/// `systemctl stop UNIT`. Exits 5 when the unit is not loaded ([`not_loaded`]).
pub fn stop(unit: &str) -> Vec<String> {
    argv([SYSTEMCTL, "stop", unit])
}

/// `systemctl enable UNIT`: links it into the target named by its
/// `[Install] WantedBy=`, so it starts at boot.
pub fn enable(unit: &str) -> Vec<String> {
    argv([SYSTEMCTL, "enable", unit])
}

/// `systemctl disable UNIT`: removes those links.
pub fn disable(unit: &str) -> Vec<String> {
    argv([SYSTEMCTL, "disable", unit])
}

/// `systemctl is-active UNIT`: prints the state (`active`, `inactive`,
/// `failed`, `activating` …) and exits 0 if and only if it is `active`.
pub fn is_active(unit: &str) -> Vec<String> {
    argv([SYSTEMCTL, "is-active", unit])
}

/// Whether a failed `stop` or `disable` only means that the unit is not
/// there, which stopping tolerates: exit 5 ("Unit … not loaded."), or a unit
/// file that does not exist.
pub fn not_loaded(output: &RunOutput) -> bool {
    output.status == 5
        || output.stderr.contains("not loaded")
        || output.stderr.contains("does not exist")
}

/// How to fix a failed `systemctl` command `argv`.
pub fn hint(argv: &[String], output: &RunOutput) -> String {
    let denied = ["Interactive authentication required", "Access denied"];
    if denied.iter().any(|text| output.stderr.contains(text)) {
        return "managing system units needs root: run `sudo privai apply`".to_owned();
    }
    match argv.get(2) {
        Some(unit) => {
            format!("see `systemctl status {unit}` and `journalctl -u {unit} -n 50`")
        }
        None => "see `journalctl -n 50` for what systemd reported".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: &str = "privai-ollama.service";

    #[test]
    fn every_verb_is_one_systemctl_call_on_one_system_unit() {
        assert_eq!(daemon_reload(), ["systemctl", "daemon-reload"]);
        assert_eq!(start(UNIT), ["systemctl", "start", UNIT]);
        assert_eq!(restart(UNIT), ["systemctl", "restart", UNIT]);
        assert_eq!(stop(UNIT), ["systemctl", "stop", UNIT]);
        assert_eq!(enable(UNIT), ["systemctl", "enable", UNIT]);
        assert_eq!(disable(UNIT), ["systemctl", "disable", UNIT]);
        assert_eq!(is_active(UNIT), ["systemctl", "is-active", UNIT]);
    }

    #[test]
    fn stopping_a_unit_that_is_not_there_is_recognised() {
        assert!(not_loaded(&RunOutput::exited(
            5,
            "Failed to stop privai-x.service: Unit privai-x.service not loaded.\n"
        )));
        assert!(not_loaded(&RunOutput::exited(
            1,
            "Failed to disable unit: Unit file privai-x.service does not exist.\n"
        )));
        assert!(!not_loaded(&RunOutput::exited(
            1,
            "Failed to stop privai-x.service: Access denied\n"
        )));
    }

    #[test]
    fn a_denied_call_hints_at_sudo_and_others_at_the_journal() {
        let out = RunOutput::exited(1, "Failed to start x: Interactive authentication required.");
        assert_eq!(
            hint(&start(UNIT), &out),
            "managing system units needs root: run `sudo privai apply`"
        );
        let out = RunOutput::exited(1, "Job for privai-ollama.service failed.");
        assert_eq!(
            hint(&start(UNIT), &out),
            "see `systemctl status privai-ollama.service` and \
             `journalctl -u privai-ollama.service -n 50`"
        );
    }
}
