//! Refusing state that others can write: a generation, a journal or a
//! stored copy planted or changed by another user would be installed by
//! `rollback` or replayed by recovery as if privai had written it. Every
//! entry of the state directory, the directory itself included, must be
//! writable by its owner only, and none may be a symlink (privai makes
//! none there).

use std::io;
use std::path::Path;

/// Checks the state directory `dir` (nothing to check if it does not exist
/// yet); the error names the entry and the command that fixes it.
pub fn check(dir: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(_) => walk(dir, dir),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(super::atomic::annotate(e, "reading", dir)),
    }
}

fn walk(state: &Path, path: &Path) -> io::Result<()> {
    let meta =
        std::fs::symlink_metadata(path).map_err(|e| super::atomic::annotate(e, "reading", path))?;
    if meta.file_type().is_symlink() {
        return Err(refusal(
            path,
            "is a symlink, which privai never makes in its state",
            &format!("remove it (`rm {}`)", path.display()),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(refusal(
                path,
                &format!("is writable by others (mode {mode:04o})"),
                &format!(
                    "check what it holds, then `chmod -R go-w {}`",
                    state.display()
                ),
            ));
        }
    }
    if meta.is_dir() {
        let entries =
            std::fs::read_dir(path).map_err(|e| super::atomic::annotate(e, "reading", path))?;
        for entry in entries {
            walk(state, &entry?.path())?;
        }
    }
    Ok(())
}

fn refusal(path: &Path, what: &str, fix: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "`{}` {what}, so privai does not trust the state it belongs to: someone else could have planted a generation, a journal or a key there; {fix}",
            path.display()
        ),
    )
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn state() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        chmod(dir.path(), 0o700);
        std::fs::create_dir_all(dir.path().join("generations/1")).unwrap();
        chmod(&dir.path().join("generations"), 0o700);
        chmod(&dir.path().join("generations/1"), 0o700);
        std::fs::write(dir.path().join("generations/1/manifest.json"), "{}").unwrap();
        chmod(&dir.path().join("generations/1/manifest.json"), 0o644);
        dir
    }

    #[test]
    fn state_only_its_owner_can_write_is_trusted() {
        let dir = state();
        check(dir.path()).unwrap();
        check(&dir.path().join("absent")).unwrap();
    }

    #[test]
    fn a_world_writable_manifest_is_refused_naming_it_and_the_chmod_that_fixes_it() {
        let dir = state();
        let manifest = dir.path().join("generations/1/manifest.json");
        chmod(&manifest, 0o666);

        let e = check(dir.path()).unwrap_err().to_string();

        assert!(e.contains(&format!("`{}`", manifest.display())), "{e}");
        assert!(e.contains("mode 0666"), "{e}");
        assert!(
            e.contains(&format!("chmod -R go-w {}", dir.path().display())),
            "{e}"
        );
    }

    #[test]
    fn a_group_writable_generation_directory_is_refused() {
        let dir = state();
        chmod(&dir.path().join("generations/1"), 0o770);
        let e = check(dir.path()).unwrap_err().to_string();
        assert!(e.contains("generations/1` is writable by others"), "{e}");
    }

    #[test]
    fn a_symlink_in_the_state_is_refused() {
        let dir = state();
        std::os::unix::fs::symlink("/etc", dir.path().join("store")).unwrap();
        let e = check(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is a symlink"), "{e}");
    }
}
