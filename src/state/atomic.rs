//! Crash-safe file writes: a file is either its old contents or its new ones,
//! never half of each, and never readable by others for a moment when the new
//! mode forbids it.
//!
//! [`write()`] writes a temp file in the target's own directory, sets its mode,
//! writes and fsyncs it, renames it over the target and fsyncs the directory,
//! so the rename itself survives a power cut. [`remove()`] and [`sync_dir`] are
//! the matching removal and directory flush.
//!
//! Every write replaces the file's inode, even when the bytes are the same:
//! callers compare contents and mode first and skip identical files, so that
//! an unchanged file keeps its inode and timestamps.
//!
//! Errors keep their [`io::ErrorKind`] and say what was done to which path,
//! and for the errors a user can fix (permissions, a read-only or full
//! disk), how.

// The one module that writes files with `std::fs` (clippy.toml refuses it
// everywhere else).
#![allow(clippy::disallowed_methods)]

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Mode of the parent directories [`write()`] creates (less the umask).
#[cfg(unix)]
const DIR_MODE: u32 = 0o755;

/// Writes `bytes` to `path` atomically, with permission bits `mode`
/// (e.g. `0o600` for a secret, `0o755` for a script).
///
/// Missing parent directories are created with mode `0755`, less the umask.
/// The bytes go to `.<file>.privai-tmp-<pid>` in the same directory, created
/// with `mode` and then set to exactly `mode` *before* any byte is written,
/// so a secret is never readable by others, not even briefly. The temp file
/// is fsynced, renamed over `path` and the directory fsynced.
///
/// A temp file left by an earlier crash of a process with the same pid is
/// deleted and created afresh, never reused. Two threads of one process must
/// not write the same `path` at once (the state lock, [`super::lock`],
/// serialises privai's writers). A symlink at `path` is replaced, not
/// written through. On non-Unix platforms `mode` is ignored.
///
/// Errors name the path (and, where there is one, the fix); on error the temp
/// file is removed and `path` is left as it was.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    replace(path, bytes, mode)?;
    sync_dir(parent_dir(path))
}

/// [`write`] without the final fsync of the directory: the file's bytes are
/// on disk, but the rename may not survive a power loss until the caller
/// runs [`sync_dir`] on `path`'s directory — which a caller writing many
/// files in a few directories does once per directory.
pub fn replace(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "writing `{}`: the path has no file name; give a file path",
                path.display()
            ),
        )
    })?;
    let dir = parent_dir(path);
    create_dir_all(dir)?;
    let tmp = dir.join(temp_name(name, std::process::id()));

    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(annotate(e, "removing the stale temp file", &tmp)),
    }
    let result = write_new(&tmp, bytes, mode).and_then(|()| {
        fs::rename(&tmp, path)
            .map_err(|e| annotate(e, &format!("renaming `{}` over", tmp.display()), path))
    });
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// The temp file through which process `pid` writes `path`:
/// `.<file>.privai-tmp-<pid>` beside it. A run journals its pid before it
/// writes anything, so that recovery can remove the temp files a kill left.
pub fn temp_path(path: &Path, pid: u32) -> std::path::PathBuf {
    parent_dir(path).join(temp_name(path.file_name().unwrap_or_default(), pid))
}

fn temp_name(name: &std::ffi::OsStr, pid: u32) -> OsString {
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".privai-tmp-{pid}"));
    tmp_name
}

/// Test only: the temp file at which to abort the process, counting from 1
/// (0: never), as abruptly as kill -9, after its bytes are written and
/// before it is renamed into place ([`crash_at_temp_file`]).
#[cfg(feature = "test-hooks")]
static CRASH_AT_TEMP: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
#[cfg(feature = "test-hooks")]
static TEMPS_WRITTEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Test only: abort the process once the `n`-th temp file from now (1 for
/// the next) is written, before it is renamed into place — the moment a
/// kill leaves a temp file behind. Only in builds with test hooks.
#[cfg(feature = "test-hooks")]
pub fn crash_at_temp_file(n: usize) {
    TEMPS_WRITTEN.store(0, std::sync::atomic::Ordering::SeqCst);
    CRASH_AT_TEMP.store(n, std::sync::atomic::Ordering::SeqCst);
}

/// Counts a temp file written; aborts if it is the one
/// `crash_at_temp_file` names (only in builds with test hooks).
pub(crate) fn temp_written() {
    #[cfg(feature = "test-hooks")]
    {
        use std::sync::atomic::Ordering;
        let n = TEMPS_WRITTEN.fetch_add(1, Ordering::SeqCst) + 1;
        if CRASH_AT_TEMP.load(Ordering::SeqCst) == n {
            std::process::abort();
        }
    }
}

/// Creates the directory `dir` of privai's state, mode exactly `0700`
/// whatever the umask; its missing parents get `0755` (less the umask).
/// An existing directory is left as it is ([`super::trust`] checks it).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    // A parent that cannot be made is named by the directory wanted.
    create_dir_all(parent_dir(dir)).map_err(|e| {
        annotate(
            io::Error::new(e.kind(), e.to_string()),
            "creating the directory",
            dir,
        )
    })?;
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(annotate(e, "creating the directory", dir)),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| annotate(e, "setting the mode of", dir))?;
    }
    Ok(())
}

/// Removes the file at `path` if there is one and fsyncs its directory.
///
/// Returns `true` if a file was removed, `false` if there was none (then
/// nothing is synced). Errors name the path.
pub fn remove(path: &Path) -> io::Result<bool> {
    let removed = unlink(path)?;
    if removed {
        sync_dir(parent_dir(path))?;
    }
    Ok(removed)
}

/// [`remove`] without the fsync of the directory (see [`replace`]).
pub fn unlink(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(annotate(e, "removing", path)),
    }
}

/// Flushes the directory `dir` to disk, so that file creations, renames and
/// removals in it survive a crash. A no-op on non-Unix platforms, where a
/// directory cannot be opened as a file.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| annotate(e, "syncing the directory", dir))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// `e`, with a message that says what was being done to which path and, for
/// the errors a user can fix, how: e.g. "writing `/x`: Permission denied
/// (os error 13); check the owner and mode of `/x` and its parent
/// directories". The error kind is kept.
pub(crate) fn annotate(e: io::Error, doing: &str, path: &Path) -> io::Error {
    let fix = match e.kind() {
        io::ErrorKind::PermissionDenied => format!(
            "; check the owner and mode of `{}` and its parent directories, or run privai as their owner",
            path.display()
        ),
        io::ErrorKind::ReadOnlyFilesystem => {
            "; the filesystem is read-only: remount it read-write or choose another `--root`"
                .to_string()
        }
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            "; free some disk space and retry".to_string()
        }
        _ => String::new(),
    };
    io::Error::new(e.kind(), format!("{doing} `{}`: {e}{fix}", path.display()))
}

/// The directory holding `path`; `.` for a bare file name.
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `fs::create_dir_all`, with new directories at mode `0755` (less the
/// umask); errors name the directory.
pub(crate) fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    builder
        .create(dir)
        .map_err(|e| annotate(e, "creating the directory", dir))
}

/// Renames `from` over `to` (atomic on one file system); errors name `to`.
/// The caller syncs the directory ([`sync_dir`]).
pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to).map_err(|e| annotate(e, "renaming into place", to))
}

/// Creates `path`, which must not exist, with `mode`, to append records to
/// it (a journal).
pub fn create_append(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Opens `path` to append records to it; when `create` gives a mode,
/// creates it with that mode if it is missing (less the umask).
pub fn open_append(path: &Path, create: Option<u32>) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create(create.is_some());
    #[cfg(unix)]
    if let Some(mode) = create {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    }
    options.open(path)
}

/// Opens (creating, never truncating) the lock file `path` with `mode`.
pub fn open_lock(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Creates `tmp` (which must not exist) with `mode`, sets exactly `mode`
/// (the umask may have cleared bits), then writes `bytes` and fsyncs.
pub(crate) fn write_new(tmp: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut file: File = options
        .open(tmp)
        .map_err(|e| annotate(e, "creating the temp file", tmp))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| annotate(e, "setting the mode of", tmp))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| annotate(e, "writing", tmp))?;
    temp_written();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The temp files [`write()`] left in `dir`.
    fn temp_files(dir: &Path) -> Vec<PathBuf> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.contains(".privai-tmp-"))
            })
            .collect()
    }

    #[test]
    fn write_creates_missing_parent_directories() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("a/b/c/file.txt");

        write(&path, b"hello\n", 0o644).unwrap();

        assert_eq!(fs::read(&path).unwrap(), b"hello\n");
    }

    #[cfg(unix)]
    #[test]
    fn new_parent_directories_get_mode_0755() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();

        write(&root.path().join("new/file"), b"x", 0o600).unwrap();

        let mode = fs::metadata(root.path().join("new"))
            .unwrap()
            .permissions()
            .mode();
        // 0755 less the umask: never more than 0755.
        assert_eq!(mode & 0o777 & !0o755, 0, "mode {mode:o}");
    }

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_is_written_with_mode_0600() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("preauth.key");

        write(&path, b"secret", 0o600).unwrap();

        assert_eq!(mode_of(&path), 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn a_script_is_written_with_mode_0755() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("bin/start.sh");

        write(&path, b"#!/bin/sh\n", 0o755).unwrap();

        assert_eq!(mode_of(&path), 0o755);
    }

    #[cfg(unix)]
    #[test]
    fn rewriting_changes_the_mode_to_the_new_one() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("config");
        write(&path, b"open", 0o644).unwrap();

        write(&path, b"closed", 0o600).unwrap();

        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(fs::read(&path).unwrap(), b"closed");
    }

    #[test]
    fn overwriting_keeps_a_single_file_and_leaves_no_temp_files() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("config.json");

        write(&path, b"one", 0o644).unwrap();
        write(&path, b"two", 0o644).unwrap();
        write(&path, b"three", 0o644).unwrap();

        let names: Vec<_> = fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["config.json"]);
        assert_eq!(fs::read(&path).unwrap(), b"three");
    }

    #[cfg(unix)]
    #[test]
    fn a_stale_temp_file_from_a_crash_is_replaced_not_reused() {
        use std::io::Read;
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("preauth.key");
        let stale = root
            .path()
            .join(format!(".preauth.key.privai-tmp-{}", std::process::id()));
        fs::write(&stale, b"stale").unwrap();
        fs::set_permissions(&stale, fs::Permissions::from_mode(0o666)).unwrap();
        // Someone who opened the world-readable stale file keeps their handle.
        let mut reader = File::open(&stale).unwrap();

        write(&path, b"secret", 0o600).unwrap();

        assert_eq!(fs::read(&path).unwrap(), b"secret");
        assert_eq!(mode_of(&path), 0o600);
        let mut seen = Vec::new();
        reader.read_to_end(&mut seen).unwrap();
        assert_eq!(seen, b"stale", "the old handle never sees the secret");
        assert_eq!(temp_files(root.path()), Vec::<PathBuf>::new());
    }

    #[cfg(unix)]
    #[test]
    fn every_write_replaces_the_inode_so_callers_skip_identical_files() {
        use std::os::unix::fs::MetadataExt;
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("unit.service");
        write(&path, b"same", 0o644).unwrap();
        let before = fs::metadata(&path).unwrap().ino();

        write(&path, b"same", 0o644).unwrap();

        assert_ne!(fs::metadata(&path).unwrap().ino(), before);
    }

    #[test]
    fn temp_path_names_the_temp_file_write_uses() {
        assert_eq!(
            temp_path(Path::new("/etc/sudoers.d/x"), 42),
            Path::new("/etc/sudoers.d/.x.privai-tmp-42")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_private_directory_is_0700_and_its_new_parents_0755_at_most() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("var/state");

        create_private_dir(&dir).unwrap();
        create_private_dir(&dir).unwrap();

        assert_eq!(mode_of(&dir), 0o700);
        assert_eq!(mode_of(&root.path().join("var")) & !0o755, 0);
    }

    #[test]
    fn a_bare_file_name_is_written_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("file")), Path::new("."));
        assert_eq!(parent_dir(Path::new("dir/file")), Path::new("dir"));
    }

    #[test]
    fn a_path_without_a_file_name_is_refused() {
        let e = write(Path::new("/"), b"x", 0o644).unwrap_err();

        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("`/`"), "{e}");
    }

    #[test]
    fn errors_name_the_path() {
        let root = tempfile::tempdir().unwrap();
        let blocker = root.path().join("blocker");
        fs::write(&blocker, b"a file, not a directory").unwrap();
        let path = blocker.join("file");

        let e = write(&path, b"x", 0o644).unwrap_err();

        assert!(
            e.to_string().contains(&format!("`{}`", blocker.display())),
            "{e}"
        );
        assert_eq!(temp_files(root.path()), Vec::<PathBuf>::new());
    }

    #[test]
    fn a_failed_rename_leaves_the_target_and_no_temp_file() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("taken");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), b"keep").unwrap();

        let e = write(&path, b"x", 0o644).unwrap_err();

        assert!(
            e.to_string()
                .contains(&format!("over `{}`", path.display())),
            "{e}"
        );
        assert_eq!(fs::read(path.join("inside")).unwrap(), b"keep");
        assert_eq!(temp_files(root.path()), Vec::<PathBuf>::new());
    }

    #[cfg(unix)]
    #[test]
    fn permission_errors_name_the_fix() {
        let e = annotate(
            io::Error::from(io::ErrorKind::PermissionDenied),
            "writing",
            Path::new("/etc/privai/x"),
        );

        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(
            e.to_string(),
            "writing `/etc/privai/x`: permission denied; check the owner and mode of \
             `/etc/privai/x` and its parent directories, or run privai as their owner"
        );
    }

    #[test]
    fn remove_deletes_a_present_file_and_returns_true() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("old.plist");
        write(&path, b"x", 0o644).unwrap();

        assert!(remove(&path).unwrap());

        assert!(!path.exists());
    }

    #[test]
    fn remove_of_an_absent_file_returns_false() {
        let root = tempfile::tempdir().unwrap();

        assert!(!remove(&root.path().join("never-written")).unwrap());
    }

    #[test]
    fn remove_of_a_directory_fails_naming_it() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a-dir");
        fs::create_dir(&dir).unwrap();

        let e = remove(&dir).unwrap_err();

        assert!(
            e.to_string().contains(&format!("`{}`", dir.display())),
            "{e}"
        );
        assert!(dir.is_dir());
    }

    #[test]
    fn sync_dir_flushes_an_existing_directory() {
        let root = tempfile::tempdir().unwrap();

        sync_dir(root.path()).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn sync_dir_of_a_missing_directory_fails_naming_it() {
        let root = tempfile::tempdir().unwrap();
        let missing = root.path().join("missing");

        let e = sync_dir(&missing).unwrap_err();

        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(
            e.to_string().contains(&format!("`{}`", missing.display())),
            "{e}"
        );
    }
}
