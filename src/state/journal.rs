//! The journal of a run of `apply`: one JSON object per line, appended and
//! fsynced before and after each step, so that a run killed at any point
//! (kill -9, power loss) can be completed or undone by the next one.
//!
//! The journal exists only while a run is in progress: it is removed once
//! the run has committed its generation or rolled back. Finding one means
//! the last run was interrupted ([`crate::apply::recover`]).
//!
//! It names files and services, never their contents: secrets stay out.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The pre-image of a file a step changes, saved before the step runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// Where the bytes are saved: the state directory's `run/backup`, or
    /// next to the file for a secret.
    pub copy: PathBuf,
    /// The file's permission bits.
    pub mode: u32,
}

/// What a service step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    /// Start it.
    Start,
    /// Restart it.
    Restart,
    /// Have it re-read its files (SIGHUP).
    Reload,
    /// Stop it.
    Stop,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Record {
    /// A run starts: from generation `from` (none on a first install) to `to`.
    Begin {
        /// The command line.
        command: String,
        /// The current generation when the run started.
        from: Option<u64>,
        /// The generation the run will commit.
        to: u64,
        /// When, RFC 3339.
        started: String,
        /// The process: its temp files are `.NAME.privai-tmp-PID`
        /// ([`super::atomic::temp_path`]), removed by recovery.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pid: Option<u32>,
    },
    /// Process `pid` is undoing or finishing this interrupted run: its temp
    /// files too are removed if it is killed in turn.
    Recovery {
        /// The recovering process.
        pid: u32,
    },
    /// A file step is about to run; its pre-image is saved.
    File {
        /// The step's index in the plan.
        step: usize,
        /// The action, as the plan names it (`update file mac:/etc/x`).
        action: String,
        /// The file on this machine.
        path: PathBuf,
        /// Its pre-image, `None` when it did not exist.
        backup: Option<Backup>,
        /// A `.before-privai` copy this step creates (adoption).
        saved_as: Option<PathBuf>,
        /// Directories the step creates above the file, innermost first.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        created_dirs: Vec<PathBuf>,
    },
    /// A service step is about to run.
    Service {
        /// The step's index in the plan.
        step: usize,
        /// What is done to it.
        verb: Verb,
        /// The service.
        unit: crate::render::units::ServiceUnit,
    },
    /// A model step is about to run (models are data: never undone).
    Model {
        /// The step's index in the plan.
        step: usize,
        /// The action, as the plan names it (`create model mac:llama3.2:3b`).
        action: String,
    },
    /// A Headscale step is about to run (users and keys: never undone).
    Control {
        /// The step's index in the plan.
        step: usize,
        /// The action, as the plan names it (`create pre-auth key mac:laptop`).
        action: String,
    },
    /// A Matrix account step is about to run (accounts: never undone).
    Matrix {
        /// The step's index in the plan.
        step: usize,
        /// The action, as the plan names it (`create matrix account chat:@ai:chat`).
        action: String,
    },
    /// Headscale's policy is about to be set through the API; undoing
    /// sets `previous` again.
    Policy {
        /// The step's index in the plan.
        step: usize,
        /// The policy Headscale held (`None`: none).
        previous: Option<String>,
    },
    /// A step finished.
    Done {
        /// The step's index.
        step: usize,
    },
    /// The generation was written and made current: the run is complete.
    Committed {
        /// Its number.
        generation: u64,
    },
    /// A step or health check failed; the run is being undone.
    RollbackStarted {
        /// What failed.
        reason: String,
    },
    /// The run was undone: the system is back on generation `from`.
    RolledBack,
}

/// An open journal, appended to with an fsync per record.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Starts a new journal at `path` (0600), replacing none: a journal
    /// already there belongs to an interrupted run, which must be recovered
    /// first.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = super::atomic::create_append(path, 0o600)
            .map_err(|e| io::Error::new(e.kind(), format!("creating `{}`: {e}", path.display())))?;
        if let Some(dir) = path.parent() {
            super::atomic::sync_dir(dir)?;
        }
        Ok(Self {
            file,
            path: path.to_owned(),
        })
    }

    /// Opens the journal of an interrupted run to append to it.
    pub fn reopen(path: &Path) -> io::Result<Self> {
        let file = super::atomic::open_append(path, None)
            .map_err(|e| io::Error::new(e.kind(), format!("opening `{}`: {e}", path.display())))?;
        Ok(Self {
            file,
            path: path.to_owned(),
        })
    }

    /// Appends `record` and waits until it is on disk.
    pub fn append(&mut self, record: &Record) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }

    /// Appends `record` without waiting for the disk: for records whose
    /// loss a crash recovery tolerates (a step's `Done`: undoing a step
    /// that did finish is the same as undoing one that did not).
    pub fn note(&mut self, record: &Record) -> io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)
    }

    /// Removes the journal: the run is over.
    pub fn finish(self) -> io::Result<()> {
        drop(self.file);
        super::atomic::remove(&self.path).map(|_| ())
    }
}

/// The processes that worked on the run `records` journal: the temp files
/// named for them are the run's.
pub fn pids(records: &[Record]) -> Vec<u32> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Begin { pid, .. } => *pid,
            Record::Recovery { pid } => Some(*pid),
            _ => None,
        })
        .collect()
}

/// The records of the journal at `path`; `None` when there is none. A torn
/// last line (the process died while writing it) is ignored: its step had
/// not started.
pub fn read(path: &Path) -> io::Result<Option<Vec<Record>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!("reading `{}`: {e}", path.display()),
            ));
        }
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut records = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str(line) {
            Ok(record) => records.push(record),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => break,
            Err(e) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "`{}` line {} is not a journal record ({e}); privai cannot tell what the interrupted run did",
                        path.display(),
                        i + 1
                    ),
                ));
            }
        }
    }
    Ok(Some(records))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn begin() -> Record {
        Record::Begin {
            command: "privai apply".into(),
            from: Some(1),
            to: 2,
            started: "2026-11-25T14:00:00Z".into(),
            pid: Some(41),
        }
    }

    #[test]
    fn records_round_trip_one_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.ndjson");
        let mut journal = Journal::create(&path).unwrap();
        journal.append(&begin()).unwrap();
        journal.append(&Record::Done { step: 0 }).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(
            read(&path).unwrap().unwrap(),
            vec![begin(), Record::Done { step: 0 }]
        );
    }

    #[test]
    fn a_second_journal_is_refused_while_one_exists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.ndjson");
        let _journal = Journal::create(&path).unwrap();
        assert!(Journal::create(&path).is_err());
    }

    #[test]
    fn a_torn_last_line_is_ignored_but_a_torn_middle_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.ndjson");
        let good = serde_json::to_string(&begin()).unwrap();
        std::fs::write(&path, format!("{good}\n{{\"event\":\"do")).unwrap();
        assert_eq!(read(&path).unwrap().unwrap(), vec![begin()]);
        std::fs::write(&path, format!("{{\"ev\n{good}\n")).unwrap();
        assert!(read(&path).is_err());
    }

    #[test]
    fn the_pids_whose_temp_files_belong_to_the_run_are_the_starter_and_each_recoverer() {
        let records = [
            begin(),
            Record::Done { step: 0 },
            Record::Recovery { pid: 77 },
        ];
        assert_eq!(pids(&records), [41, 77]);
    }

    #[test]
    fn no_journal_means_no_interrupted_run() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(&dir.path().join("journal.ndjson")).unwrap(), None);
    }

    #[test]
    fn finishing_removes_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.ndjson");
        Journal::create(&path).unwrap().finish().unwrap();
        assert!(!path.exists());
    }
}
