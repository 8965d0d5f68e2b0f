//! I/O: reading the new lines of the services' logs since the last pass.
//!
//! Three kinds of source ([`Source`]), each resumed from a position kept in
//! privai's state ([`Positions`]):
//!
//! - the journal on Linux: `journalctl -u UNIT -o json --after-cursor C`
//!   (the first pass reads the last [`FIRST_LINES`] lines), through the
//!   [`Runner`], so tests feed it;
//! - the log files privai's launchd jobs write on macOS (and under
//!   `--root`), from the byte offset reached last time; when newsyslog has
//!   rotated the file (a new inode), the rest of the old one (`NAME.log.0`)
//!   is read first, then the new one from its start;
//! - the gateway container's log, `ENGINE logs --timestamps --since T ID`,
//!   through the [`Runner`].
//!
//! The argv builders and the parsing of `journalctl`'s and the engine's
//! output are pure and tested by equality.

use crate::sys::Runner;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Lines a source's first pass reads from the journal (and the most one
/// pass reads from a file: its last bytes, [`FIRST_BYTES`]).
pub const FIRST_LINES: usize = 1000;
/// The most bytes one pass reads from one log file.
pub const FIRST_BYTES: u64 = 4 << 20;

/// Where a service's log is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The journal of a systemd unit; `directory`: a journal directory
    /// other than the system's (`journalctl --directory`).
    Journal {
        /// The unit, e.g. `privai-headscale.service`.
        unit: String,
        /// `--directory`, when not the system journal.
        directory: Option<PathBuf>,
    },
    /// A log file.
    File {
        /// Its path on this machine.
        path: PathBuf,
    },
    /// A container's log, found by its compose labels.
    Container {
        /// `podman` or `docker`.
        engine: String,
        /// The compose project.
        project: String,
        /// The compose service.
        service: String,
    },
}

impl Source {
    /// The key of its position in [`Positions`].
    pub fn key(&self) -> String {
        match self {
            Self::Journal { unit, directory } => match directory {
                Some(dir) => format!("journal:{}:{unit}", dir.display()),
                None => format!("journal:{unit}"),
            },
            Self::File { path } => format!("file:{}", path.display()),
            Self::Container {
                engine,
                project,
                service,
            } => format!("container:{engine}:{project}/{service}"),
        }
    }
}

/// Where each source was left, kept between passes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Positions {
    /// By [`Source::key`].
    pub sources: BTreeMap<String, Position>,
}

/// Where one source was left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Position {
    /// The journal's cursor of the last entry read.
    Cursor {
        /// `__CURSOR`.
        cursor: String,
    },
    /// A file's identity and the offset read up to.
    Offset {
        /// The inode (0 where there is none).
        inode: u64,
        /// Bytes read.
        offset: u64,
    },
    /// The timestamp of the last container line read (RFC 3339, as the
    /// engine wrote it).
    Since {
        /// The timestamp.
        time: String,
    },
}

/// A line read, and when the source says it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The text, without its newline.
    pub text: String,
    /// The journal's or engine's timestamp, if any.
    pub at: Option<SystemTime>,
}

/// `journalctl` for `unit`: JSON, no pager, after `cursor` or else the last
/// [`FIRST_LINES`] lines.
pub fn journal_argv(unit: &str, directory: Option<&Path>, cursor: Option<&str>) -> Vec<String> {
    let mut argv: Vec<String> = ["journalctl", "--no-pager", "-o", "json", "-u", unit]
        .map(str::to_owned)
        .to_vec();
    if let Some(dir) = directory {
        argv.push("--directory".into());
        argv.push(dir.display().to_string());
    }
    match cursor {
        Some(cursor) => argv.push(format!("--after-cursor={cursor}")),
        None => argv.push(format!("--lines={FIRST_LINES}")),
    }
    argv
}

/// The lines of `journalctl -o json` output and the cursor of the last.
/// `MESSAGE` may be a string or, when not UTF-8, an array of bytes.
pub fn parse_journal(stdout: &str) -> (Vec<Line>, Option<String>) {
    let mut lines = Vec::new();
    let mut cursor = None;
    for record in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(record) else {
            continue;
        };
        if let Some(c) = value["__CURSOR"].as_str() {
            cursor = Some(c.to_owned());
        }
        let text = match &value["MESSAGE"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(bytes) => {
                let bytes: Vec<u8> = bytes
                    .iter()
                    .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => continue,
        };
        let at = value["__REALTIME_TIMESTAMP"]
            .as_str()
            .and_then(|us| us.parse::<u64>().ok())
            .map(|us| SystemTime::UNIX_EPOCH + Duration::from_micros(us));
        for text in text.lines() {
            lines.push(Line {
                text: text.to_owned(),
                at,
            });
        }
    }
    (lines, cursor)
}

/// `ENGINE ps -q --no-trunc` of the running container of compose
/// `service` in `project`.
pub fn container_ps_argv(engine: &str, project: &str, service: &str) -> Vec<String> {
    vec![
        engine.to_owned(),
        "ps".into(),
        "-q".into(),
        "--no-trunc".into(),
        "--filter".into(),
        format!("label={}={project}", crate::sys::container::PROJECT_LABEL),
        "--filter".into(),
        format!("label=com.docker.compose.service={service}"),
    ]
}

/// `ENGINE logs --timestamps [--since T] ID`; the first pass reads the
/// last [`FIRST_LINES`] lines.
pub fn container_logs_argv(engine: &str, id: &str, since: Option<&str>) -> Vec<String> {
    let mut argv = vec![engine.to_owned(), "logs".into(), "--timestamps".into()];
    match since {
        Some(since) => {
            argv.push("--since".into());
            argv.push(since.to_owned());
        }
        None => {
            argv.push("--tail".into());
            argv.push(FIRST_LINES.to_string());
        }
    }
    argv.push(id.to_owned());
    argv
}

/// The lines of `ENGINE logs --timestamps` (each `TIMESTAMP TEXT`) newer
/// than `since`, and the timestamp of the last.
pub fn parse_container_logs(output: &str, since: Option<&str>) -> (Vec<Line>, Option<String>) {
    let since_at = since.and_then(super::rules::timestamp);
    let mut lines = Vec::new();
    let mut last = since.map(str::to_owned);
    for raw in output.lines() {
        let (stamp, text) = raw.split_once(' ').unwrap_or((raw, ""));
        let at = super::rules::timestamp(stamp);
        // `--since` has whole seconds on some engines: skip what was read.
        if let (Some(at), Some(since)) = (at, since_at)
            && at <= since
        {
            continue;
        }
        last = Some(stamp.to_owned());
        lines.push(Line {
            text: text.to_owned(),
            at,
        });
    }
    (lines, last)
}

/// Runs `argv` (whose program is `program`); its output if it succeeded.
fn run_ok(
    runner: &mut dyn Runner,
    argv: &[String],
    program: &str,
) -> Result<crate::sys::RunOutput, String> {
    let out = runner
        .run(argv)
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    if !out.success() {
        return Err(format!(
            "`{}` failed (exit {}): {}",
            crate::sys::command_line(argv),
            out.status,
            out.stderr.trim()
        ));
    }
    Ok(out)
}

/// Reads the new lines of `source` after `position`; the lines and the new
/// position.
pub fn read(
    source: &Source,
    position: Option<&Position>,
    runner: &mut dyn Runner,
) -> Result<(Vec<Line>, Option<Position>), String> {
    match source {
        Source::Journal { unit, directory } => {
            let cursor = match position {
                Some(Position::Cursor { cursor }) => Some(cursor.as_str()),
                _ => None,
            };
            let argv = journal_argv(unit, directory.as_deref(), cursor);
            let out = run_ok(runner, &argv, "journalctl")?;
            let (lines, last) = parse_journal(&out.stdout);
            let position = last
                .map(|cursor| Position::Cursor { cursor })
                .or_else(|| position.cloned());
            Ok((lines, position))
        }
        Source::File { path } => read_file(path, position),
        Source::Container {
            engine,
            project,
            service,
        } => {
            let ps = container_ps_argv(engine, project, service);
            let out = runner
                .run(&ps)
                .map_err(|e| format!("cannot run `{engine}`: {e}"))?;
            let Some(id) = out.stdout.lines().next().filter(|_| out.success()) else {
                // Not running: nothing new to read.
                return Ok((Vec::new(), position.cloned()));
            };
            let since = match position {
                Some(Position::Since { time }) => Some(time.as_str()),
                _ => None,
            };
            let argv = container_logs_argv(engine, id.trim(), since);
            let out = run_ok(runner, &argv, engine)?;
            // The gateway logs to stdout and stderr alike.
            let both = format!("{}{}", out.stdout, out.stderr);
            let (lines, last) = parse_container_logs(&both, since);
            Ok((lines, last.map(|time| Position::Since { time })))
        }
    }
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

/// The new lines of the log file at `path` (see the module's doc). A
/// missing file has no lines (the service has not logged yet).
pub fn read_file(
    path: &Path,
    position: Option<&Position>,
) -> Result<(Vec<Line>, Option<Position>), String> {
    let (old_inode, old_offset) = match position {
        Some(Position::Offset { inode, offset }) => (Some(*inode), *offset),
        _ => (None, 0),
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Vec::new(), position.cloned()));
        }
        Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
    };
    let ino = inode(&meta);
    let mut text = String::new();
    let mut start = old_offset;
    if old_inode.is_some_and(|old| old != ino) {
        // Rotated: finish the old file (newsyslog's `NAME.log.0`) first.
        let mut rotated = path.as_os_str().to_owned();
        rotated.push(".0");
        let rotated = PathBuf::from(rotated);
        if let Ok(m) = std::fs::metadata(&rotated)
            && Some(inode(&m)) == old_inode
        {
            text.push_str(&read_from(&rotated, old_offset, m.len())?);
        }
        start = 0;
    } else if old_inode.is_none() {
        // First pass: only the last bytes.
        start = meta.len().saturating_sub(FIRST_BYTES);
    } else if meta.len() < old_offset {
        // Truncated in place.
        start = 0;
    }
    let new = read_from(path, start, meta.len())?;
    // Keep a partial last line for the next pass.
    let complete = new.rfind('\n').map_or(0, |i| i + 1);
    text.push_str(&new[..complete]);
    let mut lines: Vec<Line> = text
        .lines()
        .map(|l| Line {
            text: l.to_owned(),
            at: None,
        })
        .collect();
    if old_inode.is_none() && start > 0 && !lines.is_empty() {
        // The first line of a tail read starts mid-line.
        lines.remove(0);
    }
    Ok((
        lines,
        Some(Position::Offset {
            inode: ino,
            offset: start + complete as u64,
        }),
    ))
}

/// The bytes of `path` from `from` to `to` (at most [`FIRST_BYTES`]), as
/// text.
fn read_from(path: &Path, from: u64, to: u64) -> Result<String, String> {
    let error = |e: std::io::Error| format!("cannot read `{}`: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(error)?;
    let from = from.max(to.saturating_sub(FIRST_BYTES));
    file.seek(SeekFrom::Start(from)).map_err(error)?;
    let mut bytes = Vec::new();
    file.take(to.saturating_sub(from))
        .read_to_end(&mut bytes)
        .map_err(error)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{Recorder, RunOutput};

    #[test]
    fn journalctl_resumes_after_its_cursor_and_starts_with_the_last_lines() {
        assert_eq!(
            journal_argv("privai-headscale.service", None, Some("s=ab;i=2")),
            [
                "journalctl",
                "--no-pager",
                "-o",
                "json",
                "-u",
                "privai-headscale.service",
                "--after-cursor=s=ab;i=2"
            ]
        );
        assert_eq!(
            journal_argv("u", Some(Path::new("/r/var/log/journal")), None),
            [
                "journalctl",
                "--no-pager",
                "-o",
                "json",
                "-u",
                "u",
                "--directory",
                "/r/var/log/journal",
                "--lines=1000"
            ]
        );
    }

    #[test]
    fn journal_records_give_their_messages_timestamps_and_the_last_cursor() {
        let out = concat!(
            r#"{"__CURSOR":"s=1;i=1","__REALTIME_TIMESTAMP":"1796618894000000","MESSAGE":"first"}"#,
            "\n",
            r#"{"__CURSOR":"s=1;i=2","MESSAGE":[104,105,255]}"#,
            "\n",
            r#"{"__CURSOR":"s=1;i=3","MESSAGE":null}"#,
            "\nnot json\n"
        );
        let (lines, cursor) = parse_journal(out);
        assert_eq!(cursor.as_deref(), Some("s=1;i=3"));
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "first");
        assert_eq!(
            lines[0].at,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_618_894))
        );
        assert_eq!(lines[1].text, "hi\u{fffd}");
    }

    #[test]
    fn a_journal_pass_keeps_the_old_cursor_when_nothing_is_new_and_reports_a_failing_journalctl() {
        let source = Source::Journal {
            unit: "privai-ollama.service".into(),
            directory: None,
        };
        let old = Position::Cursor {
            cursor: "s=1;i=9".into(),
        };
        let mut runner = Recorder::new();
        let (lines, position) = read(&source, Some(&old), &mut runner).unwrap();
        assert!(lines.is_empty());
        assert_eq!(position, Some(old.clone()));
        assert_eq!(runner.calls()[0].last().unwrap(), "--after-cursor=s=1;i=9");
        let mut failing =
            Recorder::new().fail_when(vec!["journalctl".into()], 1, "No journal files were found.");
        let e = read(&source, Some(&old), &mut failing).unwrap_err();
        assert!(e.contains("No journal files were found."), "{e}");
    }

    #[test]
    fn a_container_pass_finds_the_gateway_by_its_labels_and_skips_lines_already_read() {
        let source = Source::Container {
            engine: "podman".into(),
            project: "privai-gateway".into(),
            service: "openclaw-gateway".into(),
        };
        let ps = container_ps_argv("podman", "privai-gateway", "openclaw-gateway");
        let logs = container_logs_argv("podman", "abc", Some("2026-12-07T04:49:22.000000000Z"));
        let mut runner = Recorder::new()
            .respond_when(
                ps.clone(),
                RunOutput {
                    status: 0,
                    stdout: "abc\n".into(),
                    stderr: String::new(),
                },
            )
            .respond_when(
                logs.clone(),
                RunOutput {
                    status: 0,
                    stdout: "2026-12-07T04:49:22.000000000Z old\n2026-12-07T04:49:23.500000000Z new line\n".into(),
                    stderr: String::new(),
                },
            );
        let since = Position::Since {
            time: "2026-12-07T04:49:22.000000000Z".into(),
        };
        let (lines, position) = read(&source, Some(&since), &mut runner).unwrap();
        assert_eq!(runner.calls(), [ps, logs]);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, "new line");
        assert_eq!(
            position,
            Some(Position::Since {
                time: "2026-12-07T04:49:23.500000000Z".into()
            })
        );
    }

    #[test]
    fn a_file_is_read_once_kept_partial_lines_wait_and_a_rotation_finishes_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("headscale.log");
        std::fs::write(&log, "one\ntwo\nthr").unwrap();
        let (lines, pos) = read_file(&log, None).unwrap();
        assert_eq!(
            lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            ["one", "two"]
        );
        let (lines, pos) = read_file(&log, pos.as_ref()).unwrap();
        assert!(lines.is_empty());
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            f.write_all(b"ee\nfour\n").unwrap();
        }
        // newsyslog: rename to `.0`, create a new file, the job writes on
        // into the new one after its restart.
        std::fs::rename(&log, dir.path().join("headscale.log.0")).unwrap();
        std::fs::write(&log, "five\n").unwrap();
        let (lines, pos) = read_file(&log, pos.as_ref()).unwrap();
        assert_eq!(
            lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            ["three", "four", "five"]
        );
        let (lines, _) = read_file(&log, pos.as_ref()).unwrap();
        assert!(lines.is_empty());
        assert_eq!(
            read_file(&dir.path().join("missing.log"), None).unwrap(),
            (Vec::new(), None)
        );
    }
}
