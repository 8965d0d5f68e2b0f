//! Where alerts go: to the owner, privately, never to a network service.
//!
//! [`AlertSink`] is the seam: [`JsonLog`] appends each alert as one JSON
//! line to `alerts.ndjson` in privai's state directory (mode 0600), and
//! [`Desktop`] shows it with the platform's notification command through
//! the process [`Runner`] (`osascript` on macOS, `notify-send` on Linux when
//! installed). [`super::dm::MatrixDm`], a direct message from the AI's
//! account on the spec's own homeserver, is another sink of the same trait.

use super::rules::Alert;
use crate::model::Platform;
use crate::sys::Runner;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A place alerts are delivered to.
pub trait AlertSink {
    /// Delivers `alert`, raised at `at`. `Err` says why it could not.
    fn send(&mut self, alert: &Alert, at: SystemTime) -> Result<(), String>;
}

/// One line of `alerts.ndjson`.
#[derive(Serialize)]
struct Record<'a> {
    /// RFC 3339, seconds.
    at: String,
    host: &'a str,
    #[serde(flatten)]
    alert: &'a Alert,
}

/// The alert log: JSON lines appended to a private file.
#[derive(Debug, Clone)]
pub struct JsonLog {
    /// The file.
    pub path: PathBuf,
    /// The spec's name for this host.
    pub host: String,
}

/// The name of the alert log in privai's state directory.
pub const ALERT_LOG: &str = "alerts.ndjson";

impl JsonLog {
    /// The alert log of the state directory `state`.
    pub fn in_state(state: &Path, host: &str) -> Self {
        Self {
            path: state.join(ALERT_LOG),
            host: host.to_owned(),
        }
    }
}

impl AlertSink for JsonLog {
    fn send(&mut self, alert: &Alert, at: SystemTime) -> Result<(), String> {
        let record = Record {
            at: humantime::format_rfc3339_seconds(at).to_string(),
            host: &self.host,
            alert,
        };
        let mut line = serde_json::to_string(&record).map_err(|e| e.to_string())?;
        line.push('\n');
        let error = |e: std::io::Error| format!("cannot write `{}`: {e}", self.path.display());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        let mut file = crate::state::atomic::open_append(&self.path, Some(0o600)).map_err(error)?;
        // One write of the whole line: lines of concurrent runs never mix.
        file.write_all(line.as_bytes()).map_err(error)
    }
}

/// The desktop notification command of `platform` for `alert`, as argv;
/// `None` on Linux without `notify-send` on `path` (the `PATH` value).
/// The alert's text is passed as arguments, never as script or markup
/// source: a node's name cannot become AppleScript.
pub fn desktop_argv(platform: Platform, alert: &Alert, path: Option<&str>) -> Option<Vec<String>> {
    let title = format!("privai: {}", alert.service);
    match platform {
        Platform::Darwin => Some(
            [
                "osascript",
                "-e",
                "on run argv",
                "-e",
                "display notification (item 1 of argv) with title (item 2 of argv)",
                "-e",
                "end run",
                "--",
                &alert.summary,
                &title,
            ]
            .map(str::to_owned)
            .to_vec(),
        ),
        Platform::Linux => {
            let found = std::env::split_paths(path?)
                .map(|dir| dir.join("notify-send"))
                .find(|p| p.is_file())?;
            Some(vec![
                found.display().to_string(),
                "--app-name=privai".into(),
                "--urgency=critical".into(),
                "--".into(),
                title,
                alert.summary.clone(),
            ])
        }
    }
}

/// Desktop notifications through the process runner.
pub struct Desktop<'a> {
    /// This machine's platform.
    pub platform: Platform,
    /// `PATH`, where `notify-send` is looked for.
    pub path: Option<String>,
    /// Runs the command.
    pub runner: &'a mut dyn Runner,
}

impl AlertSink for Desktop<'_> {
    fn send(&mut self, alert: &Alert, _at: SystemTime) -> Result<(), String> {
        let Some(argv) = desktop_argv(self.platform, alert, self.path.as_deref()) else {
            // No notification command here: the alert log has it.
            return Ok(());
        };
        let out = self
            .runner
            .run(&argv)
            .map_err(|e| format!("cannot run `{}`: {e}", argv[0]))?;
        if out.success() {
            Ok(())
        } else {
            Err(format!(
                "`{}` failed (exit {}): {}",
                argv[0],
                out.status,
                out.stderr.trim()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::rules::Kind;

    fn alert(summary: &str) -> Alert {
        Alert {
            kind: Kind::UnexpectedNode,
            service: "headscale".into(),
            summary: summary.into(),
            fix: "remove it".into(),
        }
    }

    #[test]
    fn a_hostile_node_name_reaches_osascript_as_an_argument_not_as_script() {
        let hostile = alert("node `\" & (do shell script \"reboot\") & \"` connected");
        let argv = desktop_argv(Platform::Darwin, &hostile, None).unwrap();
        assert_eq!(
            argv[..8],
            [
                "osascript",
                "-e",
                "on run argv",
                "-e",
                "display notification (item 1 of argv) with title (item 2 of argv)",
                "-e",
                "end run",
                "--"
            ]
        );
        assert_eq!(argv[8], hostile.summary);
        assert_eq!(argv[9], "privai: headscale");
    }

    #[test]
    fn notify_send_is_used_only_when_installed_and_after_the_end_of_options() {
        let dir = tempfile::tempdir().unwrap();
        let a = alert("--help");
        assert_eq!(
            desktop_argv(Platform::Linux, &a, Some(&dir.path().display().to_string())),
            None
        );
        let bin = dir.path().join("notify-send");
        std::fs::write(&bin, "").unwrap();
        let argv =
            desktop_argv(Platform::Linux, &a, Some(&dir.path().display().to_string())).unwrap();
        assert_eq!(argv[0], bin.display().to_string());
        assert_eq!(argv[3..], ["--", "privai: headscale", "--help"]);
    }

    #[test]
    fn the_alert_log_appends_private_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = JsonLog::in_state(&dir.path().join("state"), "openclaw-server");
        let at = humantime::parse_rfc3339("2026-12-07T04:48:14Z").unwrap();
        log.send(&alert("one"), at).unwrap();
        log.send(&alert("two"), at).unwrap();
        let text = std::fs::read_to_string(&log.path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["at"], "2026-12-07T04:48:14Z");
        assert_eq!(lines[0]["host"], "openclaw-server");
        assert_eq!(lines[0]["kind"], "unexpected-node");
        assert_eq!(lines[1]["summary"], "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&log.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
