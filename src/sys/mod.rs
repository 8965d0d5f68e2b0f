//! The system boundary of `privai apply`: running the service managers and
//! probing the services they start.
//!
//! Everything that touches the machine goes through one narrow trait,
//! [`Runner`], which runs one argv and reports its exit status and output.
//! The rest of the module is pure and tested by exact equality:
//!
//! * [`launchctl`], [`systemctl`] and [`compose`] build the argv of each
//!   service-manager command (never a shell string);
//! * [`activate`] turns a [`ServiceUnit`](crate::render::units::ServiceUnit)
//!   into the ordered [`Step`](activate::Step)s that start, restart or stop
//!   it, and [`activate::run_steps`] runs them through a [`Runner`];
//! * [`engine`] finds the container engine when the spec names none;
//! * [`health`] tells whether a service came up (HTTP `GET` or a TCP
//!   connection, retried until a timeout).
//!
//! Two runners exist: [`SystemRunner`] spawns the real programs, and
//! [`Recorder`] only records what would have run (optionally into a log file,
//! one JSON array per line) and answers from a script, for tests and dry runs.

pub mod activate;
pub mod compose;
pub mod container;
pub mod engine;
pub mod health;
pub mod launchctl;
pub mod ssh;
pub mod systemctl;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// What a finished command reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOutput {
    /// Exit status; `128 + N` when killed by signal `N` (as shells report
    /// it), `-1` when the platform gives neither.
    pub status: i32,
    /// Standard output, decoded lossily as UTF-8.
    pub stdout: String,
    /// Standard error, decoded lossily as UTF-8.
    pub stderr: String,
}

impl RunOutput {
    /// An exit with `status` and `stderr`, and no standard output.
    pub fn exited(status: i32, stderr: impl Into<String>) -> Self {
        Self {
            status,
            stdout: String::new(),
            stderr: stderr.into(),
        }
    }

    /// Whether the command exited 0.
    pub fn success(&self) -> bool {
        self.status == 0
    }
}

/// Runs commands. `argv[0]` is the program (looked up on `PATH`), the rest
/// are its arguments, passed as they are: no shell ever sees them.
pub trait Runner {
    /// Runs `argv` to completion. `Err` means the command could not run at
    /// all (program not found, not executable, empty argv); a command that
    /// ran and failed is `Ok` with a non-zero [`RunOutput::status`].
    fn run(&mut self, argv: &[String]) -> io::Result<RunOutput>;
}

/// The real [`Runner`]: spawns `argv[0]` with [`std::process::Command`],
/// stdin closed, stdout and stderr captured.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRunner;

impl Runner for SystemRunner {
    fn run(&mut self, argv: &[String]) -> io::Result<RunOutput> {
        let Some((program, args)) = argv.split_first() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "empty command line",
            ));
        };
        let output = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .output()?;
        Ok(RunOutput {
            status: exit_status(output.status),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// The shell's number for an exit status: the code, or `128 + signal`.
fn exit_status(status: std::process::ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    -1
}

/// A [`Runner`] that runs nothing: it records every argv, optionally appends
/// each one to a log file as a JSON array on its own line, and answers
/// success with empty output, unless a scripted answer matches.
///
/// ```
/// use privai::sys::{Recorder, Runner};
///
/// let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
/// let mut recorder =
///     Recorder::new().fail_when(argv("launchctl bootstrap"), 5, "Bootstrap failed: 5");
/// assert!(recorder.run(&argv("launchctl bootout gui/501/x")).unwrap().success());
/// assert_eq!(recorder.run(&argv("launchctl bootstrap gui/501 /p")).unwrap().status, 5);
/// assert_eq!(recorder.calls().len(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    calls: Vec<Vec<String>>,
    log: Option<PathBuf>,
    script: Vec<Scripted>,
}

/// One scripted answer of a [`Recorder`].
#[derive(Debug, Clone)]
struct Scripted {
    prefix: Vec<String>,
    output: RunOutput,
    /// How many more times it answers; `None` is always.
    remaining: Option<usize>,
}

impl Recorder {
    /// A recorder that keeps its calls in memory only.
    pub fn new() -> Self {
        Self::default()
    }

    /// A recorder that also appends every argv to `path`, one JSON array per
    /// line (`["launchctl","bootout","gui/501/net.privai.ollama"]`). The file
    /// is created if needed and opened for each call, so the log is complete
    /// up to the last command even if privai dies; a write error is returned
    /// from [`Runner::run`].
    pub fn to_file(path: impl Into<PathBuf>) -> Self {
        Self {
            log: Some(path.into()),
            ..Self::default()
        }
    }

    /// Scripts a failure: every argv that starts with `prefix` returns
    /// `status` with `stderr`. Scripted answers are tried in the order they
    /// were added; the first that matches wins.
    pub fn fail_when(self, prefix: Vec<String>, status: i32, stderr: impl Into<String>) -> Self {
        self.respond_when(prefix, RunOutput::exited(status, stderr))
    }

    /// Scripts a transient failure: the first `times` argvs that start with
    /// `prefix` return `status` with `stderr`; later ones fall through to the
    /// next matching answer (or success).
    pub fn fail_times(
        mut self,
        prefix: Vec<String>,
        times: usize,
        status: i32,
        stderr: impl Into<String>,
    ) -> Self {
        self.script.push(Scripted {
            prefix,
            output: RunOutput::exited(status, stderr),
            remaining: Some(times),
        });
        self
    }

    /// Scripts any answer, e.g. the stdout of `systemctl is-active`: every
    /// argv that starts with `prefix` returns `output`.
    pub fn respond_when(mut self, prefix: Vec<String>, output: RunOutput) -> Self {
        self.script.push(Scripted {
            prefix,
            output,
            remaining: None,
        });
        self
    }

    /// Every argv run so far, in order.
    pub fn calls(&self) -> &[Vec<String>] {
        &self.calls
    }

    /// Every argv run so far as a [`command_line`], for readable assertions.
    pub fn command_lines(&self) -> Vec<String> {
        self.calls.iter().map(|argv| command_line(argv)).collect()
    }

    /// The scripted answer for `argv`, using up one of a limited answer.
    fn answer(&mut self, argv: &[String]) -> RunOutput {
        for scripted in &mut self.script {
            if !argv.starts_with(&scripted.prefix) || scripted.remaining == Some(0) {
                continue;
            }
            if let Some(remaining) = &mut scripted.remaining {
                *remaining -= 1;
            }
            return scripted.output.clone();
        }
        RunOutput::default()
    }
}

impl Runner for Recorder {
    fn run(&mut self, argv: &[String]) -> io::Result<RunOutput> {
        if argv.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "empty command line",
            ));
        }
        self.calls.push(argv.to_vec());
        if let Some(path) = &self.log {
            let mut line = serde_json::to_string(argv).map_err(io::Error::other)?;
            line.push('\n');
            crate::state::atomic::open_append(path, Some(0o644))?.write_all(line.as_bytes())?;
        }
        Ok(self.answer(argv))
    }
}

/// `argv` as one line for messages: arguments joined by spaces, each one
/// that is empty or holds a space, quote or shell metacharacter wrapped in
/// single quotes (`'` itself written `'\''`), so the line can be pasted into
/// a shell.
pub fn command_line(argv: &[String]) -> String {
    argv.iter()
        .map(|arg| quote(arg))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `arg` single-quoted if a shell would split or interpret it.
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,~".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// `words` as an owned argv.
pub(crate) fn argv<const N: usize>(words: [&str; N]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn the_system_runner_runs_the_program_without_a_shell() {
        let out = SystemRunner
            .run(&argv(["sh", "-c", "echo out; echo err >&2; exit 3"]))
            .unwrap();
        assert_eq!(out.status, 3);
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert!(!out.success());

        // A `;` in an argument is just a byte: nothing interprets it.
        let out = SystemRunner.run(&argv(["echo", "a; exit 7"])).unwrap();
        assert!(out.success());
        assert_eq!(out.stdout, "a; exit 7\n");
    }

    #[test]
    fn the_system_runner_reports_a_missing_program_as_an_io_error() {
        let err = SystemRunner
            .run(&argv(["privai-no-such-program-anywhere"]))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let err = SystemRunner.run(&[]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn the_recorder_records_every_call_and_succeeds_by_default() {
        let mut recorder = Recorder::new();
        let out = recorder.run(&words("systemctl daemon-reload")).unwrap();
        assert_eq!(out, RunOutput::default());
        assert!(out.success());
        recorder
            .run(&words("systemctl start privai-ollama.service"))
            .unwrap();
        assert_eq!(
            recorder.calls(),
            [
                words("systemctl daemon-reload"),
                words("systemctl start privai-ollama.service")
            ]
        );
    }

    #[test]
    fn the_recorder_fails_every_command_that_starts_with_a_scripted_prefix() {
        let mut recorder = Recorder::new().fail_when(
            words("launchctl bootout"),
            3,
            "Boot-out failed: 3: No such process",
        );
        let out = recorder.run(&words("launchctl bootout gui/501/x")).unwrap();
        assert_eq!(
            out,
            RunOutput::exited(3, "Boot-out failed: 3: No such process")
        );
        assert_eq!(
            recorder
                .run(&words("launchctl bootout system/y"))
                .unwrap()
                .status,
            3
        );
        // A longer prefix than the argv, or a different word, does not match.
        assert!(recorder.run(&words("launchctl")).unwrap().success());
        assert!(
            recorder
                .run(&words("launchctl bootstrap gui/501 /p"))
                .unwrap()
                .success()
        );
    }

    #[test]
    fn the_first_matching_scripted_answer_wins_and_limited_ones_run_out() {
        let mut recorder = Recorder::new()
            .fail_times(words("launchctl bootstrap"), 2, 5, "Bootstrap failed: 5")
            .respond_when(
                words("launchctl"),
                RunOutput {
                    status: 0,
                    stdout: "state = running\n".into(),
                    stderr: String::new(),
                },
            );
        let bootstrap = words("launchctl bootstrap gui/501 /p");
        assert_eq!(recorder.run(&bootstrap).unwrap().status, 5);
        assert_eq!(recorder.run(&bootstrap).unwrap().status, 5);
        assert_eq!(
            recorder.run(&bootstrap).unwrap().stdout,
            "state = running\n"
        );
        assert_eq!(recorder.calls().len(), 3);
    }

    #[test]
    fn the_recorder_appends_one_json_array_per_command_to_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("commands.jsonl");
        let mut recorder = Recorder::to_file(&log);
        recorder
            .run(&words("launchctl bootout gui/501/net.privai.ollama"))
            .unwrap();
        recorder
            .run(&argv([
                "podman",
                "compose",
                "-f",
                "/a b/compose.yaml",
                "up",
            ]))
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "[\"launchctl\",\"bootout\",\"gui/501/net.privai.ollama\"]\n\
             [\"podman\",\"compose\",\"-f\",\"/a b/compose.yaml\",\"up\"]\n"
        );
        assert_eq!(recorder.calls().len(), 2);
    }

    #[test]
    fn command_lines_quote_only_what_a_shell_would_split() {
        assert_eq!(
            command_line(&argv(["launchctl", "bootout", "gui/501/net.privai.ollama"])),
            "launchctl bootout gui/501/net.privai.ollama"
        );
        assert_eq!(
            command_line(&argv(["podman", "-f", "/Users/a b/c.yaml", "", "it's"])),
            r"podman -f '/Users/a b/c.yaml' '' 'it'\''s'"
        );
    }
}
