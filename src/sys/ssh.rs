//! Reaching another host over OpenSSH: the system's `ssh`, run with an
//! argv (never through a local shell), so that the operator's
//! `~/.ssh/config`, agent, jump hosts and `known_hosts` apply as they
//! expect. Host keys are checked as `ssh` is configured to; privai only
//! adds `BatchMode=yes`, under which an unknown or changed host key is a
//! failure, never a question and never accepted silently.
//!
//! The command run on the host is one string that the remote shell
//! splits: every word of it is quoted here ([`shlex`]), whatever it holds.

use super::RunOutput;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where and how to log in (from `hosts[].deploy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// `[USER@]HOST` or an alias of `~/.ssh/config`; never starts with `-`.
    pub ssh: String,
    /// `-p PORT`.
    pub port: Option<u16>,
    /// `-i FILE`.
    pub identity: Option<PathBuf>,
    /// Run the command through `sudo -n`.
    pub sudo: bool,
}

/// `ssh`'s exit status when the connection itself failed (no route, refused,
/// authentication or the host key): the host did not run the command.
pub const CONNECTION_FAILED: i32 = 255;

/// Seconds `ssh` waits for the connection (`ConnectTimeout`).
pub const CONNECT_TIMEOUT_SECS: u32 = 15;

/// Environment variable, for tests only (the `test-hooks` feature): append
/// each `ssh` argv privai runs to this file, one JSON array per line.
pub const TEST_LOG_ENV: &str = "PRIVAI_TEST_SSH_LOG";

impl Destination {
    /// The argv of `ssh` running `remote` (program and arguments, each
    /// quoted for the remote shell) on this host, through `sudo -n` when
    /// `sudo` is set and `elevate` asks for it. `Err` when the destination
    /// could be read as an option or a word cannot be quoted (a NUL).
    pub fn argv(&self, remote: &[&str], elevate: bool) -> io::Result<Vec<String>> {
        if self.ssh.is_empty() || self.ssh.starts_with('-') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "`{}` is not an SSH destination (`privai check` explains, PRV106)",
                    self.ssh
                ),
            ));
        }
        let mut words: Vec<&str> = Vec::new();
        if self.sudo && elevate {
            words.extend(["sudo", "-n", "--"]);
        }
        words.extend(remote);
        let command = shlex::try_join(words.iter().copied())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let mut argv: Vec<String> = vec![
            "ssh".into(),
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            format!("ConnectTimeout={CONNECT_TIMEOUT_SECS}"),
        ];
        if let Some(port) = self.port {
            argv.extend(["-p".into(), port.to_string()]);
        }
        if let Some(identity) = &self.identity {
            argv.extend([
                "-o".into(),
                "IdentitiesOnly=yes".into(),
                "-i".into(),
                identity.display().to_string(),
            ]);
        }
        argv.extend(["--".into(), self.ssh.clone(), command]);
        Ok(argv)
    }

    /// A shell script run as is on the host (`sh -c SCRIPT ARGS…`), for
    /// the few steps that need a pipeline; `args` reach it as `$1…`, quoted.
    pub fn script_argv(
        &self,
        script: &str,
        args: &[&str],
        elevate: bool,
    ) -> io::Result<Vec<String>> {
        let mut remote = vec!["sh", "-c", script, "sh"];
        remote.extend(args);
        self.argv(&remote, elevate)
    }

    /// Runs `remote` on the host to its end, standard input from `input`
    /// (none: empty), output captured.
    pub fn run(&self, remote: &[&str], elevate: bool, input: Input<'_>) -> io::Result<RunOutput> {
        self.run_argv(&self.argv(remote, elevate)?, input)
    }

    /// Runs the ssh `argv` (from [`Destination::argv`]) to its end.
    pub fn run_argv(&self, argv: &[String], input: Input<'_>) -> io::Result<RunOutput> {
        record(argv)?;
        let mut child = command(argv)
            .stdin(match input {
                Input::None => Stdio::null(),
                Input::File(path) => Stdio::from(std::fs::File::open(path)?),
                Input::Bytes(_) => Stdio::piped(),
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let writer = match (input, child.stdin.take()) {
            (Input::Bytes(bytes), Some(mut stdin)) => {
                let bytes = bytes.to_vec();
                Some(std::thread::spawn(move || stdin.write_all(&bytes)))
            }
            _ => None,
        };
        let stderr = drain(child.stderr.take());
        let mut stdout = Vec::new();
        if let Some(mut out) = child.stdout.take() {
            out.read_to_end(&mut stdout)?;
        }
        let status = child.wait()?;
        // A host that closed its input early has said why on stderr.
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        Ok(RunOutput {
            status: super::exit_status(status),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: stderr.join().unwrap_or_default(),
        })
    }

    /// Runs `remote` on the host, handing each line of its standard output
    /// to `line` as it arrives; the output returned has stderr only.
    pub fn stream(
        &self,
        remote: &[&str],
        elevate: bool,
        line: impl FnMut(&str),
    ) -> io::Result<RunOutput> {
        stream_argv(&self.argv(remote, elevate)?, line)
    }
}

/// Runs `argv` (an `ssh` command line, or privai itself for a host applied
/// here), handing each line of its standard output to `line` as it
/// arrives; the output returned has stderr only.
pub fn stream_argv(argv: &[String], mut line: impl FnMut(&str)) -> io::Result<RunOutput> {
    record(argv)?;
    let mut child = command(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = drain(child.stderr.take());
    if let Some(out) = child.stdout.take() {
        for text in BufReader::new(out).lines() {
            line(&text?);
        }
    }
    let status = child.wait()?;
    Ok(RunOutput {
        status: super::exit_status(status),
        stdout: String::new(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// What a command run over SSH reads on its standard input.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// Nothing.
    None,
    /// A local file's bytes (privai's own binary).
    File(&'a Path),
    /// These bytes (the spec's compiled input).
    Bytes(&'a [u8]),
}

fn command(argv: &[String]) -> Command {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    cmd
}

/// Reads `stream` to its end on a thread of its own.
fn drain(stream: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut stream) = stream {
            let _ = stream.read_to_end(&mut text);
        }
        String::from_utf8_lossy(&text).into_owned()
    })
}

/// Appends `argv` to the test log ([`TEST_LOG_ENV`]) in test builds.
fn record(argv: &[String]) -> io::Result<()> {
    #[cfg(feature = "test-hooks")]
    if let Some(path) = std::env::var_os(TEST_LOG_ENV) {
        let mut line = serde_json::to_string(argv).map_err(io::Error::other)?;
        line.push('\n');
        crate::state::atomic::open_append(std::path::Path::new(&path), Some(0o644))?
            .write_all(line.as_bytes())?;
    }
    let _ = argv;
    Ok(())
}

/// Why `output` of a command run over SSH failed, for a message: the
/// connection (status 255) with the fix for the usual causes, else the
/// command's own last words.
pub fn failure(destination: &Destination, output: &RunOutput) -> String {
    let said = output
        .stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no message")
        .to_owned();
    if output.status != CONNECTION_FAILED {
        return format!("exit status {}: {said}", output.status);
    }
    let fix = if output.stderr.contains("Host key verification failed")
        || output
            .stderr
            .contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
    {
        format!(
            "its host key is not in your known_hosts (or changed); check the key's fingerprint with the host's owner and log in once with `ssh {}` to record it",
            destination.ssh
        )
    } else if output.stderr.contains("Permission denied") {
        "the login was refused; check `deploy.ssh`'s user and `deploy.identity`, or add the key to the agent".to_owned()
    } else {
        "check that the host is up and `deploy.ssh` (and `port`) reach it: `ssh` it yourself"
            .to_owned()
    };
    format!("ssh {} failed ({said}): {fix}", destination.ssh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination() -> Destination {
        Destination {
            ssh: "admin@gpu-box.home.arpa".into(),
            port: Some(2222),
            identity: Some(PathBuf::from("/home/op/.ssh/id_ed25519")),
            sudo: true,
        }
    }

    #[test]
    fn the_argv_checks_host_keys_in_batch_mode_and_quotes_every_word() {
        let argv = destination()
            .argv(&["/opt/privai", "apply", "it's; rm -rf /", "--json"], true)
            .unwrap();
        assert_eq!(
            argv,
            [
                "ssh",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=15",
                "-p",
                "2222",
                "-o",
                "IdentitiesOnly=yes",
                "-i",
                "/home/op/.ssh/id_ed25519",
                "--",
                "admin@gpu-box.home.arpa",
                "sudo -n -- /opt/privai apply \"it's; rm -rf /\" --json",
            ]
        );
        // A real shell reads back exactly the words given.
        assert_eq!(
            shell_words(argv.last().unwrap()),
            [
                "sudo",
                "-n",
                "--",
                "/opt/privai",
                "apply",
                "it's; rm -rf /",
                "--json"
            ]
        );
        let nasty = [
            "$(touch /tmp/x)",
            "`id`",
            "a\\b\"c",
            "!x",
            "$HOME",
            "*",
            "~",
        ];
        let argv = destination().argv(&nasty, false).unwrap();
        assert_eq!(shell_words(argv.last().unwrap()), nasty);
        assert!(!argv.iter().any(|a| a.contains("StrictHostKeyChecking")));
    }

    /// The words `sh` makes of `command`.
    fn shell_words(command: &str) -> Vec<String> {
        let out = std::process::Command::new("sh")
            .args(["-c", &format!("printf '%s\\0' {command}")])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .unwrap()
            .split_terminator('\0')
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn without_port_identity_or_elevation_nothing_is_added() {
        let plain = Destination {
            ssh: "gw".into(),
            port: None,
            identity: None,
            sudo: true,
        };
        assert_eq!(
            plain.argv(&["uname", "-s"], false).unwrap(),
            [
                "ssh",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=15",
                "--",
                "gw",
                "uname -s"
            ]
        );
    }

    #[test]
    fn a_destination_that_is_an_option_never_reaches_ssh() {
        let bad = Destination {
            ssh: "-oProxyCommand=touch /tmp/x".into(),
            ..destination()
        };
        assert!(bad.argv(&["true"], false).is_err());
    }

    #[test]
    fn a_script_gets_its_arguments_as_positional_words() {
        let argv = destination()
            .script_argv("mkdir -p \"$1\"", &["dir with space"], false)
            .unwrap();
        assert_eq!(
            shell_words(argv.last().unwrap()),
            ["sh", "-c", "mkdir -p \"$1\"", "sh", "dir with space"]
        );
    }

    #[test]
    fn failures_name_the_fix() {
        let d = destination();
        let key = failure(
            &d,
            &RunOutput::exited(255, "Host key verification failed.\n"),
        );
        assert!(
            key.contains("log in once with `ssh admin@gpu-box.home.arpa`"),
            "{key}"
        );
        let down = failure(
            &d,
            &RunOutput::exited(255, "ssh: connect to host x port 22: Connection refused\n"),
        );
        assert!(
            down.contains("Connection refused") && down.contains("is up"),
            "{down}"
        );
        let own = failure(&d, &RunOutput::exited(1, "error: the spec is bad\n"));
        assert_eq!(own, "exit status 1: error: the spec is bad");
    }
}
