//! Observing files: reads every desired file and every file of the current
//! generation where the [`Install`] puts them, and the current generation
//! and the models privai pulled from the state directory. The only code of `plan` that reads the disk.

use super::{FileKey, FileState, Observed};
use crate::render::Rendered;
use crate::state::generations::Store;
use crate::state::{Install, StateDir};
use std::io;
use std::path::Path;

/// Observes the files `desired` renders and the files and services of the
/// current generation (if any), as installed by `install`.
pub fn observe(install: &Install, desired: &Rendered) -> io::Result<Observed> {
    let store = Store::new(StateDir::new(install.state_dir()));
    let generation = store.current()?;
    let (previous, previous_services) = match generation {
        Some(number) => {
            let g = store.load(number)?;
            (g.manifest.files, g.info.services)
        }
        None => Default::default(),
    };
    let pulled = crate::state::pulled::read(&install.state_dir())?;
    let keys = desired
        .artifacts
        .iter()
        .map(|a| FileKey::new(&a.host, &a.path))
        .chain(
            previous
                .iter()
                .filter(|e| install.includes(&e.host))
                .map(|e| FileKey::new(&e.host, &e.path)),
        );
    let mut files = std::collections::BTreeMap::new();
    for key in keys {
        if files.contains_key(&key) {
            continue;
        }
        let state = read_file(&install.path(&key.host, &key.path)?)?;
        files.insert(key, state);
    }
    Ok(Observed {
        files,
        previous,
        previous_services,
        generation,
        pulled,
        ..Observed::default()
    })
}

/// What is at `path`: a regular file's bytes and mode, or nothing.
pub fn read_file(path: &Path) -> io::Result<FileState> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FileState::Absent),
        Err(e) => return Err(with_path(e, path)),
    };
    if !metadata.is_file() {
        return Err(io::Error::other(format!(
            "`{}` exists and is not a regular file; move it away and run privai again",
            path.display()
        )));
    }
    let contents = std::fs::read(path).map_err(|e| with_path(e, path))?;
    Ok(FileState::Present {
        contents,
        mode: mode_of(&metadata),
    })
}

#[cfg(unix)]
fn mode_of(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(metadata: &std::fs::Metadata) -> u32 {
    if metadata.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("reading `{}`: {e}", path.display()))
}
