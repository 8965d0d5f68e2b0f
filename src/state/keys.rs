//! Pre-auth keys privai created: `keys.json` (device → key id, which ties
//! a key to its device) and each key itself in `keys/DEVICE` (0600), read
//! only by `privai enroll DEVICE --show-key`.

use super::atomic;
use crate::plan::headscale::KeyRecords;
use std::io;
use std::path::{Path, PathBuf};

fn records_path(state: &Path) -> PathBuf {
    state.join("keys.json")
}

/// Where the key of `device` is kept.
pub fn key_path(state: &Path, device: &str) -> PathBuf {
    state.join("keys").join(device)
}

/// The key records; empty when privai created none.
pub fn read_records(state: &Path) -> io::Result<KeyRecords> {
    match std::fs::read(records_path(state)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("`{}` is damaged: {e}", records_path(state).display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(KeyRecords::new()),
        Err(e) => Err(e),
    }
}

/// Records `id` as the key of `device` and keeps `key` (0600).
pub fn store(state: &Path, device: &str, id: u64, key: &str) -> io::Result<()> {
    atomic::create_private_dir(&state.join("keys"))?;
    atomic::write(&key_path(state, device), key.as_bytes(), 0o600)?;
    let mut records = read_records(state)?;
    records.insert(device.to_owned(), id);
    write_records(state, &records)
}

/// Forgets the key of `device` if it is key `id`: a key that replaced it
/// since (a rotation creates the new key before it expires the old one)
/// stays on record.
pub fn forget(state: &Path, device: &str, id: u64) -> io::Result<()> {
    let mut records = read_records(state)?;
    if records.get(device) != Some(&id) {
        return Ok(());
    }
    atomic::remove(&key_path(state, device))?;
    records.remove(device);
    write_records(state, &records)
}

fn write_records(state: &Path, records: &KeyRecords) -> io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(records).map_err(io::Error::other)?;
    bytes.push(b'\n');
    atomic::write(&records_path(state), &bytes, 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_key_is_recorded_kept_0600_and_forgotten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        store(dir.path(), "laptop", 7, "hskey-secret").unwrap();
        assert_eq!(read_records(dir.path()).unwrap().get("laptop"), Some(&7));
        let key = key_path(dir.path(), "laptop");
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "hskey-secret");
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        forget(dir.path(), "laptop", 7).unwrap();
        assert!(read_records(dir.path()).unwrap().is_empty() && !key.exists());
    }

    #[test]
    fn a_key_replaced_since_stays_on_record_when_the_old_one_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        store(dir.path(), "laptop", 7, "hskey-old").unwrap();
        store(dir.path(), "laptop", 8, "hskey-new").unwrap();
        forget(dir.path(), "laptop", 7).unwrap();
        assert_eq!(read_records(dir.path()).unwrap().get("laptop"), Some(&8));
        assert_eq!(
            std::fs::read_to_string(key_path(dir.path(), "laptop")).unwrap(),
            "hskey-new"
        );
    }
}
