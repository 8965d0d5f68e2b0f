//! Observing files: reads every desired file and every file of the previous
//! manifest under a root directory. The only code of `plan` that reads the
//! disk.

use super::{FileKey, FileState, Observed, PREVIOUS_MANIFEST, STATE_DIR};
use crate::render::manifest::{FORMAT, Manifest};
use crate::render::{Rendered, tree_path};
use std::io;
use std::path::Path;

/// Observes, under `root`, the files `desired` renders and the files the
/// previous manifest (`<root>/.privai/manifest.json`, if present) lists.
/// Install paths map under `root` as `privai build` lays out its tree
/// ([`tree_path`]: `ROOT/HOST/PATH`, `~/` as `HOST/HOME/`).
pub fn observe(root: &Path, desired: &Rendered) -> io::Result<Observed> {
    let previous = read_previous_manifest(root)?
        .map(|m| m.files)
        .unwrap_or_default();
    let keys = desired
        .artifacts
        .iter()
        .map(|a| FileKey::new(&a.host, &a.path))
        .chain(previous.iter().map(|e| FileKey::new(&e.host, &e.path)));
    let mut files = std::collections::BTreeMap::new();
    for key in keys {
        if files.contains_key(&key) {
            continue;
        }
        let state = read_file(&root.join(tree_path(&key.host, &key.path)))?;
        files.insert(key, state);
    }
    Ok(Observed { files, previous })
}

/// The manifest of the last install under `root`, if there is one.
pub fn read_previous_manifest(root: &Path) -> io::Result<Option<Manifest>> {
    let path = root.join(STATE_DIR).join(PREVIOUS_MANIFEST);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(with_path(e, &path)),
    };
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("`{}` is not a privai manifest: {e}", path.display()),
        )
    })?;
    if manifest.format != FORMAT {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "`{}` has manifest format {}; this privai reads format {FORMAT}",
                path.display(),
                manifest.format
            ),
        ));
    }
    Ok(Some(manifest))
}

fn read_file(path: &Path) -> io::Result<FileState> {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FileState::Absent),
        Err(e) => return Err(with_path(e, path)),
    };
    if !metadata.is_file() {
        return Err(io::Error::other(format!(
            "`{}` exists and is not a regular file",
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
