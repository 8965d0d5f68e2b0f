//! Pre-auth keys privai created: `keys.json` (device → key id, which ties
//! a key to its device) and each key itself in `keys/DEVICE` (0600), read
//! only by `privai enroll DEVICE --show-key`; and `keys-retired.json`, the
//! keys a newer key replaced on record that are not known to be expired
//! yet (a rotation killed between making the new key and expiring the old
//! one leaves the old one there, and the next plan expires it).

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

fn retired_path(state: &Path) -> PathBuf {
    state.join("keys-retired.json")
}

/// Keys replaced on record and not known to be expired: (device, key id).
pub fn read_retired(state: &Path) -> io::Result<Vec<(String, u64)>> {
    match std::fs::read(retired_path(state)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("`{}` is damaged: {e}", retired_path(state).display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

fn write_retired(state: &Path, retired: &[(String, u64)]) -> io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(retired).map_err(io::Error::other)?;
    bytes.push(b'\n');
    atomic::write(&retired_path(state), &bytes, 0o600)
}

/// Records `id` as the key of `device` and keeps `key` (0600). A key it
/// replaces on record is kept as retired first, so that it is expired even
/// if the run that replaced it stops before it expires it.
pub fn store(state: &Path, device: &str, id: u64, key: &str) -> io::Result<()> {
    atomic::create_private_dir(&state.join("keys"))?;
    let mut records = read_records(state)?;
    if let Some(&old) = records.get(device)
        && old != id
    {
        let mut retired = read_retired(state)?;
        retired.push((device.to_owned(), old));
        write_retired(state, &retired)?;
    }
    atomic::write(&key_path(state, device), key.as_bytes(), 0o600)?;
    records.insert(device.to_owned(), id);
    write_records(state, &records)
}

/// Forgets the key of `device` if it is key `id`: a key that replaced it
/// since (a rotation creates the new key before it expires the old one)
/// stays on record.
pub fn forget(state: &Path, device: &str, id: u64) -> io::Result<()> {
    let mut retired = read_retired(state)?;
    let before = retired.len();
    retired.retain(|(_, key)| *key != id);
    if retired.len() != before {
        write_retired(state, &retired)?;
    }
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
    fn a_replaced_key_is_retired_until_it_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        store(dir.path(), "laptop", 7, "hskey-old").unwrap();
        assert_eq!(read_retired(dir.path()).unwrap(), []);
        store(dir.path(), "laptop", 9, "hskey-new").unwrap();
        assert_eq!(read_records(dir.path()).unwrap().get("laptop"), Some(&9));
        assert_eq!(
            read_retired(dir.path()).unwrap(),
            [("laptop".to_owned(), 7)]
        );
        forget(dir.path(), "laptop", 7).unwrap();
        assert_eq!(read_retired(dir.path()).unwrap(), []);
        assert_eq!(read_records(dir.path()).unwrap().get("laptop"), Some(&9));
    }

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
