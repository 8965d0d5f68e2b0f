//! `launchctl` command lines (macOS), with the modern verbs and explicit
//! domains: `bootout` / `enable` / `bootstrap` / `kickstart` / `print`,
//! never the legacy `load` / `unload`, which fail with an unhelpful
//! "Load failed: 5: Input/output error" on recent macOS
//! (<https://github.com/nix-darwin/nix-darwin/issues/1255>).
//!
//! Daemons live in the `system` domain (and need root); agents in
//! `gui/<uid>`, the operator's login session.
//!
//! `bootout` is built **without `--wait`**: the flag is missing from the man
//! page and macOS 14 and 15 reject the whole command ("Unrecognized target
//! specifier", exit 64) without booting anything out
//! (<https://github.com/nix-community/home-manager/issues/9585>). Bootout
//! can therefore return while the old job is still exiting, and a bootstrap
//! in that window fails with error 5; [`crate::sys::activate`] retries that
//! bootstrap for a while instead ([`BOOTSTRAP_IO_ERROR`]).

use super::{RunOutput, argv};
use crate::render::units::LaunchdDomain;

/// The program.
pub const LAUNCHCTL: &str = "launchctl";

/// `launchctl bootstrap`'s "5: Input/output error": the label is still
/// loaded (usually the old job is still exiting after a bootout), the
/// service is disabled, or the plist is invalid.
pub const BOOTSTRAP_IO_ERROR: i32 = 5;

/// A launchd domain of one machine: `system`, or the `gui/<uid>` session of
/// user `uid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Which domain.
    pub domain: LaunchdDomain,
    /// The operator's uid, for `gui/<uid>`; unused for `system`.
    pub uid: u32,
}

impl Target {
    /// The domain-target: `system` or `gui/501`.
    pub fn domain_target(&self) -> String {
        match self.domain {
            LaunchdDomain::System => "system".to_owned(),
            LaunchdDomain::Gui => format!("gui/{}", self.uid),
        }
    }

    /// The service-target of `label` in this domain:
    /// `gui/501/net.privai.ollama`.
    pub fn service_target(&self, label: &str) -> String {
        format!("{}/{label}", self.domain_target())
    }
}

/// `launchctl bootout gui/501/LABEL`: stops the job and removes it from the
/// domain. Exits 3 or 113 when the job is not loaded ([`not_loaded`]).
/// No `--wait` (see the module docs).
pub fn bootout(target: Target, label: &str) -> Vec<String> {
    argv([LAUNCHCTL, "bootout", &target.service_target(label)])
}

/// `launchctl enable gui/501/LABEL`: clears a `launchctl disable` of the
/// service, which would make the next bootstrap fail with error 5. Persists
/// across reboots; succeeds whether or not the job is loaded.
pub fn enable(target: Target, label: &str) -> Vec<String> {
    argv([LAUNCHCTL, "enable", &target.service_target(label)])
}

/// `launchctl bootstrap gui/501 PLIST`: loads the job from `plist` (a real
/// filesystem path, not `~/…`) into the domain; with `RunAtLoad` it starts.
pub fn bootstrap(target: Target, plist: &str) -> Vec<String> {
    argv([LAUNCHCTL, "bootstrap", &target.domain_target(), plist])
}

/// `launchctl kickstart -k gui/501/LABEL`: kills the running instance and
/// starts it again, without re-reading the plist.
pub fn kickstart_restart(target: Target, label: &str) -> Vec<String> {
    argv([LAUNCHCTL, "kickstart", "-k", &target.service_target(label)])
}

/// `launchctl kill SIGHUP gui/501/LABEL`: sends the running job SIGHUP
/// (Headscale re-reads its policy file).
pub fn kill_hup(target: Target, label: &str) -> Vec<String> {
    argv([LAUNCHCTL, "kill", "SIGHUP", &target.service_target(label)])
}

/// `launchctl print gui/501/LABEL`: the job's state; exits 113 when it is not
/// loaded.
pub fn print(target: Target, label: &str) -> Vec<String> {
    argv([LAUNCHCTL, "print", &target.service_target(label)])
}

/// Whether a failed `bootout` (or `print`) only means that the job was not
/// loaded, which stopping tolerates: exit 3 ("No such process") or 113
/// ("Could not find specified service"), or either message.
pub fn not_loaded(output: &RunOutput) -> bool {
    matches!(output.status, 3 | 113)
        || output.stderr.contains("No such process")
        || output.stderr.contains("Could not find specified service")
}

/// How to fix a failed `launchctl` command `argv`.
pub fn hint(argv: &[String], output: &RunOutput) -> String {
    let verb = argv.get(1).map(String::as_str).unwrap_or_default();
    let operand = argv.last().map(String::as_str).unwrap_or_default();
    let (domain, label) = match verb {
        "bootstrap" => {
            let domain = argv.get(2).map(String::as_str).unwrap_or_default();
            let file = operand.rsplit('/').next().unwrap_or_default();
            (domain, file.strip_suffix(".plist").unwrap_or(file))
        }
        _ => operand.rsplit_once('/').unwrap_or((operand, "")),
    };
    let service = format!("{domain}/{label}");
    if output.status == 1 || output.stderr.contains("Operation not permitted") {
        return format!(
            "loading jobs into `{domain}` needs more rights: run `sudo privai apply` \
             (LaunchDaemons are loaded as root)"
        );
    }
    match output.status {
        BOOTSTRAP_IO_ERROR => format!(
            "launchd refused the job: the old one may still be loaded (`launchctl print {service}`), \
             the service may be disabled (`launchctl enable {service}`), or the plist may be \
             invalid (`plutil -lint {operand}`)"
        ),
        125 => format!(
            "the `{domain}` domain exists only while that user is logged in to the Mac's desktop; \
             log in on the Mac (or enable automatic login) and run `privai apply` again"
        ),
        122 => format!(
            "launchd rejects plists with the wrong owner or mode: `{operand}` must be owned by \
             root (LaunchDaemons) or by you (LaunchAgents) and not group- or world-writable"
        ),
        _ => format!("see `launchctl print {service}` and the job's log files"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENT: Target = Target {
        domain: LaunchdDomain::Gui,
        uid: 501,
    };
    const DAEMON: Target = Target {
        domain: LaunchdDomain::System,
        uid: 501,
    };

    #[test]
    fn agents_live_in_the_gui_domain_of_the_operator_and_daemons_in_system() {
        assert_eq!(AGENT.domain_target(), "gui/501");
        assert_eq!(DAEMON.domain_target(), "system");
        assert_eq!(
            AGENT.service_target("net.privai.ollama"),
            "gui/501/net.privai.ollama"
        );
        assert_eq!(
            DAEMON.service_target("net.privai.headscale"),
            "system/net.privai.headscale"
        );
    }

    #[test]
    fn bootout_names_the_service_target_without_wait() {
        assert_eq!(
            bootout(AGENT, "net.privai.ollama"),
            ["launchctl", "bootout", "gui/501/net.privai.ollama"]
        );
        assert_eq!(
            bootout(DAEMON, "net.privai.headscale"),
            ["launchctl", "bootout", "system/net.privai.headscale"]
        );
    }

    #[test]
    fn bootstrap_names_the_domain_and_the_plist_file() {
        assert_eq!(
            bootstrap(
                AGENT,
                "/Users/x/Library/LaunchAgents/net.privai.ollama.plist"
            ),
            [
                "launchctl",
                "bootstrap",
                "gui/501",
                "/Users/x/Library/LaunchAgents/net.privai.ollama.plist"
            ]
        );
        assert_eq!(
            bootstrap(DAEMON, "/Library/LaunchDaemons/net.privai.headscale.plist"),
            [
                "launchctl",
                "bootstrap",
                "system",
                "/Library/LaunchDaemons/net.privai.headscale.plist"
            ]
        );
    }

    #[test]
    fn enable_kickstart_and_print_name_the_service_target() {
        assert_eq!(
            enable(AGENT, "label"),
            ["launchctl", "enable", "gui/501/label"]
        );
        assert_eq!(
            kickstart_restart(AGENT, "label"),
            ["launchctl", "kickstart", "-k", "gui/501/label"]
        );
        assert_eq!(
            print(DAEMON, "label"),
            ["launchctl", "print", "system/label"]
        );
    }

    #[test]
    fn a_bootout_of_a_job_that_is_not_loaded_is_recognised() {
        assert!(not_loaded(&RunOutput::exited(
            3,
            "Boot-out failed: 3: No such process\n"
        )));
        assert!(not_loaded(&RunOutput::exited(
            113,
            "Could not find specified service\n"
        )));
        assert!(!not_loaded(&RunOutput::exited(
            1,
            "Boot-out failed: 1: Operation not permitted\n"
        )));
        assert!(!not_loaded(&RunOutput::exited(
            64,
            "Unrecognized target specifier.\n"
        )));
    }

    #[test]
    fn a_bootstrap_io_error_hints_at_print_enable_and_plutil() {
        let argv = bootstrap(
            AGENT,
            "/Users/x/Library/LaunchAgents/net.privai.ollama.plist",
        );
        let hint = hint(
            &argv,
            &RunOutput::exited(5, "Bootstrap failed: 5: Input/output error"),
        );
        assert_eq!(
            hint,
            "launchd refused the job: the old one may still be loaded \
             (`launchctl print gui/501/net.privai.ollama`), the service may be disabled \
             (`launchctl enable gui/501/net.privai.ollama`), or the plist may be invalid \
             (`plutil -lint /Users/x/Library/LaunchAgents/net.privai.ollama.plist`)"
        );
    }

    #[test]
    fn a_missing_gui_domain_hints_at_logging_in_and_a_denied_daemon_at_sudo() {
        let argv = bootstrap(AGENT, "/p/net.privai.ollama.plist");
        let out = RunOutput::exited(
            125,
            "Bootstrap failed: 125: Domain does not support specified action",
        );
        assert!(hint(&argv, &out).starts_with("the `gui/501` domain exists only while"));

        let argv = bootout(DAEMON, "net.privai.headscale");
        let out = RunOutput::exited(1, "Boot-out failed: 1: Operation not permitted");
        assert!(hint(&argv, &out).contains("`sudo privai apply`"));
        assert!(hint(&argv, &out).contains("`system`"));
    }

    #[test]
    fn other_failures_point_at_launchctl_print() {
        let argv = bootout(AGENT, "net.privai.ollama");
        assert_eq!(
            hint(&argv, &RunOutput::exited(37, "")),
            "see `launchctl print gui/501/net.privai.ollama` and the job's log files"
        );
    }
}
