//! The state lock: one `privai apply` at a time per state directory.
//!
//! [`StateLock::acquire`] takes an exclusive, non-blocking OS lock
//! ([`File::try_lock`], `flock(2)` on Unix) on `<dir>/lock` and keeps the
//! file open for as long as the [`StateLock`] lives. Who holds it is written
//! next to it, in `<dir>/lock.json` ([`LockInfo`]), so that a refused
//! second run can say which process to wait for.
//!
//! The lock itself lives in the kernel, not in a file: it is released when
//! the [`StateLock`] is dropped, and also when the process dies in any way,
//! `kill -9` and power cuts included. There is therefore no stale lock to
//! clean up by hand. A crash does leave a stale `lock.json` behind; it never
//! blocks anyone, since only the OS lock is checked, and the next holder
//! simply overwrites it.
//!
//! Locks are per open file description: two `acquire`s conflict even within
//! one process, and across processes. The descriptor is close-on-exec, so
//! programs privai runs do not inherit the lock. The `lock` file is never
//! deleted: deleting it would let a later process lock a new file while an
//! earlier one still holds the old one.
//!
//! `lock.json` is written just after the lock is taken and removed just
//! before it is released, so a run refused in those instants may find it
//! missing or, after a crash, stale; [`LockError::Held`] then says so or
//! shows the older holder.

use super::atomic;
use serde::{Deserialize, Serialize};
use std::fs::{File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The lock file's name in the state directory.
pub const LOCK_FILE: &str = "lock";

/// The name, in the state directory, of the sidecar saying who holds the
/// lock ([`LockInfo`] as JSON).
pub const LOCK_INFO_FILE: &str = "lock.json";

/// Who holds the state lock: the contents of `lock.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Process id of the holder.
    pub pid: u32,
    /// User running it (`$USER`, else `$LOGNAME`, else `unknown`).
    pub user: String,
    /// Host it runs on.
    pub host: String,
    /// What it runs, e.g. `privai apply examples/seed-home.ncl --root demo`.
    pub command: String,
    /// When it took the lock: RFC 3339, UTC, whole seconds
    /// (`2026-11-25T14:00:00Z`).
    pub started: String,
}

impl LockInfo {
    /// This process, running `command`, starting now.
    pub fn of_this_process(command: &str) -> Self {
        let user = ["USER", "LOGNAME"]
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|user| !user.is_empty())
            .unwrap_or_else(|| "unknown".to_string());
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        Self {
            pid: std::process::id(),
            user,
            host: if host.is_empty() {
                "unknown".to_string()
            } else {
                host
            },
            command: command.to_string(),
            started: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        }
    }
}

/// Why [`StateLock::acquire`] failed.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another privai (another process, or another `acquire` in this one)
    /// holds the lock.
    #[error("{}", held_message(info.as_ref()))]
    Held {
        /// Who holds it, from `lock.json`; `None` if that is missing or
        /// unreadable.
        info: Option<LockInfo>,
    },
    /// The state directory, the lock file or `lock.json` could not be
    /// created, opened, locked or written. The source names the file and,
    /// where there is one, the fix.
    #[error("could not take the state lock in `{}`", path.display())]
    Io {
        /// The state directory.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
}

fn held_message(info: Option<&LockInfo>) -> String {
    let who = match info {
        Some(i) => format!(
            "pid {} ({}@{}) running `{}` since {}",
            i.pid, i.user, i.host, i.command, i.started
        ),
        None => {
            format!("which process is unknown, as its `{LOCK_INFO_FILE}` is missing or unreadable")
        }
    };
    format!(
        "another privai holds the state lock: {who}; wait for it to finish (the lock is released when that process exits)"
    )
}

/// The held state lock. Dropping it removes `lock.json` (best effort) and
/// releases the lock; so does the process ending, however it ends.
#[derive(Debug)]
pub struct StateLock {
    /// The open, locked `<dir>/lock`; closing it releases the lock.
    file: File,
    /// `<dir>/lock.json`.
    info_path: PathBuf,
    /// What `lock.json` says.
    info: LockInfo,
}

impl StateLock {
    /// Takes the lock on the state directory `dir` for `command` (what this
    /// process runs, shown to a refused second run), without waiting.
    ///
    /// Creates `dir` (mode `0700`: it holds keys and generations) and `<dir>/lock` if needed, locks the
    /// latter exclusively and writes this process's [`LockInfo`] to
    /// `<dir>/lock.json` (atomically, mode `0644`), overwriting any stale one
    /// left by a crash. If the lock is held, returns [`LockError::Held`] with
    /// the holder read from `lock.json`.
    pub fn acquire(dir: &Path, command: &str) -> Result<StateLock, LockError> {
        let io_error = |source| LockError::Io {
            path: dir.to_path_buf(),
            source,
        };
        atomic::create_private_dir(dir).map_err(io_error)?;
        let lock_path = dir.join(LOCK_FILE);
        let info_path = dir.join(LOCK_INFO_FILE);

        let file = atomic::open_lock(&lock_path, 0o644)
            .map_err(|e| io_error(atomic::annotate(e, "opening", &lock_path)))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    info: read_info(&info_path),
                });
            }
            Err(TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {
                return Err(io_error(io::Error::new(
                    e.kind(),
                    format!(
                        "locking `{}`: {e}; its filesystem does not support file locks: keep the state directory on a local filesystem",
                        lock_path.display()
                    ),
                )));
            }
            Err(TryLockError::Error(e)) => {
                return Err(io_error(atomic::annotate(e, "locking", &lock_path)));
            }
        }

        // From here on, an error drops `file`, which releases the lock.
        // A holder killed while writing `lock.json` left its temp file.
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(&format!(".{LOCK_INFO_FILE}.privai-tmp-"))
            {
                atomic::unlink(&entry.path()).map_err(io_error)?;
            }
        }
        let info = LockInfo::of_this_process(command);
        let mut json = serde_json::to_vec_pretty(&info).map_err(|e| io_error(e.into()))?;
        json.push(b'\n');
        atomic::write(&info_path, &json, 0o644).map_err(io_error)?;
        Ok(StateLock {
            file,
            info_path,
            info,
        })
    }

    /// Who holds the lock: this process, as written to `lock.json`.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for StateLock {
    /// Removes `lock.json` while still holding the lock (so a next holder's
    /// sidecar is never the one removed), then releases the lock; closing
    /// the file would release it anyway.
    fn drop(&mut self) {
        let _ = atomic::remove(&self.info_path);
        let _ = self.file.unlock();
    }
}

/// The holder named in `lock.json`, if it is there and parses.
fn read_info(path: &Path) -> Option<LockInfo> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    const APPLY: &str = "privai apply examples/seed-home.ncl --root demo";

    fn sidecar(dir: &Path) -> LockInfo {
        read_info(&dir.join(LOCK_INFO_FILE)).expect("lock.json holds a LockInfo")
    }

    fn holder(result: Result<StateLock, LockError>) -> Option<LockInfo> {
        match result {
            Err(LockError::Held { info }) => info,
            Err(e) => panic!("expected Held, got {e:?}"),
            Ok(_) => panic!("expected Held, but the lock was taken"),
        }
    }

    #[test]
    fn acquire_creates_the_state_directory_and_names_this_process() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state/.privai");

        let lock = StateLock::acquire(&dir, APPLY).unwrap();

        let info = sidecar(&dir);
        assert_eq!(&info, lock.info());
        assert_eq!(info.pid, std::process::id());
        assert_eq!(info.command, APPLY);
        assert!(!info.user.is_empty() && !info.host.is_empty(), "{info:?}");
        humantime::parse_rfc3339(&info.started).unwrap();
        assert!(info.started.ends_with('Z'), "{}", info.started);
    }

    /// `File::try_lock` is `flock(2)`: locks belong to open file
    /// descriptions, so two opens of `lock` conflict within one process.
    #[test]
    fn a_second_acquire_while_the_first_is_held_is_refused_naming_the_first() {
        let root = tempfile::tempdir().unwrap();
        let _first = StateLock::acquire(root.path(), APPLY).unwrap();

        let info = holder(StateLock::acquire(root.path(), "privai apply other.ncl"));

        let info = info.expect("the holder is named");
        assert_eq!(info.pid, std::process::id());
        assert_eq!(info.command, APPLY);
        assert_eq!(
            sidecar(root.path()).command,
            APPLY,
            "lock.json is untouched"
        );
    }

    #[test]
    fn after_drop_acquire_succeeds_and_rewrites_the_sidecar() {
        let root = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(root.path(), "privai apply first.ncl").unwrap();
        drop(first);
        assert!(
            !root.path().join(LOCK_INFO_FILE).exists(),
            "drop removes lock.json"
        );
        assert!(root.path().join(LOCK_FILE).exists(), "the lock file stays");

        let _second = StateLock::acquire(root.path(), "privai apply second.ncl").unwrap();

        assert_eq!(sidecar(root.path()).command, "privai apply second.ncl");
    }

    #[test]
    fn a_stale_sidecar_from_a_crashed_holder_does_not_block() {
        let root = tempfile::tempdir().unwrap();
        let crashed = LockInfo {
            pid: 4242,
            user: "alice".to_string(),
            host: "mac".to_string(),
            command: "privai apply crashed.ncl".to_string(),
            started: "2026-11-25T14:00:00Z".to_string(),
        };
        fs::write(
            root.path().join(LOCK_INFO_FILE),
            serde_json::to_vec(&crashed).unwrap(),
        )
        .unwrap();

        let lock = StateLock::acquire(root.path(), APPLY).unwrap();

        assert_eq!(&sidecar(root.path()), lock.info());
        assert_eq!(sidecar(root.path()).pid, std::process::id());
    }

    #[test]
    fn a_held_lock_with_an_unreadable_sidecar_is_still_refused() {
        let root = tempfile::tempdir().unwrap();
        let _first = StateLock::acquire(root.path(), APPLY).unwrap();
        fs::write(root.path().join(LOCK_INFO_FILE), b"{ not json").unwrap();

        assert_eq!(holder(StateLock::acquire(root.path(), APPLY)), None);
    }

    #[test]
    fn held_names_the_holder_and_what_to_do() {
        let e = LockError::Held {
            info: Some(LockInfo {
                pid: 4242,
                user: "alice".to_string(),
                host: "mac".to_string(),
                command: APPLY.to_string(),
                started: "2026-11-25T14:00:00Z".to_string(),
            }),
        };

        assert_eq!(
            e.to_string(),
            "another privai holds the state lock: pid 4242 (alice@mac) running \
             `privai apply examples/seed-home.ncl --root demo` since 2026-11-25T14:00:00Z; \
             wait for it to finish (the lock is released when that process exits)"
        );
    }

    #[test]
    fn held_with_an_unreadable_sidecar_says_so() {
        let e = LockError::Held { info: None };

        assert_eq!(
            e.to_string(),
            "another privai holds the state lock: which process is unknown, as its \
             `lock.json` is missing or unreadable; wait for it to finish (the lock is \
             released when that process exits)"
        );
    }

    #[test]
    fn io_errors_name_the_state_directory_and_the_file() {
        let root = tempfile::tempdir().unwrap();
        let blocker = root.path().join("blocker");
        fs::write(&blocker, b"a file, not a directory").unwrap();
        let dir = blocker.join(".privai");

        let e = StateLock::acquire(&dir, APPLY).unwrap_err();

        let LockError::Io { path, source } = &e else {
            panic!("expected Io, got {e:?}")
        };
        assert_eq!(path, &dir);
        assert_eq!(
            e.to_string(),
            format!("could not take the state lock in `{}`", dir.display())
        );
        assert!(
            source.to_string().contains(&format!("`{}`", dir.display())),
            "{source}"
        );
    }

    /// Set in the child process of [`a_lock_held_by_a_killed_process_is_released_by_the_kernel`]:
    /// the state directory to lock.
    const CHILD_DIR_ENV: &str = "PRIVAI_TEST_LOCK_HOLDER_DIR";
    const CHILD_COMMAND: &str = "privai apply child.ncl";

    /// Not a test: the other process of
    /// [`a_lock_held_by_a_killed_process_is_released_by_the_kernel`]. Takes
    /// the lock and holds it until killed (or until its stdin closes).
    #[test]
    #[ignore = "helper process, run by a_lock_held_by_a_killed_process_is_released_by_the_kernel"]
    fn lock_holder_child_process() {
        let Some(dir) = std::env::var_os(CHILD_DIR_ENV) else {
            return;
        };
        let _lock = StateLock::acquire(Path::new(&dir), CHILD_COMMAND).unwrap();
        let _ = io::Read::read_to_end(&mut io::stdin(), &mut Vec::new());
    }

    fn spawn_holder(dir: &Path) -> Child {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "state::lock::tests::lock_holder_child_process",
                "--ignored",
                "--nocapture",
            ])
            .env(CHILD_DIR_ENV, dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while read_info(&dir.join(LOCK_INFO_FILE)).is_none_or(|i| i.pid != child.id()) {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the lock holder exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the lock holder never took the lock"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    #[test]
    fn a_lock_held_by_a_killed_process_is_released_by_the_kernel() {
        let root = tempfile::tempdir().unwrap();
        let mut child = spawn_holder(root.path());

        let info = holder(StateLock::acquire(root.path(), APPLY)).expect("the holder is named");
        assert_eq!(
            (info.pid, info.command.as_str()),
            (child.id(), CHILD_COMMAND)
        );

        // SIGKILL on Unix: no destructor runs, lock.json stays behind.
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(sidecar(root.path()).pid, child.id(), "a stale lock.json");

        let _lock = StateLock::acquire(root.path(), APPLY).unwrap();
        assert_eq!(sidecar(root.path()).pid, std::process::id());
    }
}
