//! Rotating the Headscale API key privai uses, when the spec keeps it in a
//! file (`headscale.api_key = "file:…"`): a new key is created, tried,
//! written in the old one's place (0600), and only then is the old one
//! expired. While that runs, `STATE/api-key-rotation.json` names both keys'
//! prefixes (never a key), so that after a crash the next run expires the
//! one that is not in the file: a working key is on record at every step.

use crate::api::headscale::Client;
use crate::model::SecretRef;
use crate::observe::headscale::api_key_prefix;
use crate::render::control::Control;
use crate::secret::ApiKey;
use crate::state::{Install, atomic};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The prefixes of the key being replaced and of its replacement.
#[derive(Debug, Serialize, Deserialize)]
struct Rotating {
    old: String,
    new: String,
}

fn record(state: &Path) -> PathBuf {
    state.join("api-key-rotation.json")
}

/// The file `reference` (`file:PATH`, `file:~/PATH`) names, if it is one.
pub fn key_file(reference: &SecretRef) -> Option<PathBuf> {
    let path = reference.file()?;
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME").map(|home| Path::new(&home).join(rest)),
        None => Some(PathBuf::from(path)),
    }
}

/// Finishes a rotation a crash interrupted: expires whichever key of it is
/// not the one in the file (`on_record`). `None` when none was running.
pub fn recover(state: &Path, client: &Client, on_record: &str) -> Result<Option<String>, String> {
    let Ok(bytes) = std::fs::read(record(state)) else {
        return Ok(None);
    };
    let rotating: Rotating = serde_json::from_slice(&bytes)
        .map_err(|e| format!("`{}` is damaged: {e}", record(state).display()))?;
    let current = api_key_prefix(on_record).unwrap_or_default();
    let stray = if current == rotating.new {
        &rotating.old
    } else {
        &rotating.new
    };
    client
        .expire_api_key(stray)
        .map_err(|e| format!("expiring the API key left by an interrupted rotation: {e}"))?;
    atomic::remove(&record(state)).map_err(|e| e.to_string())?;
    Ok(Some(format!(
        "an interrupted rotation of the API key was finished: key hskey-api-{stray}-*** expired"
    )))
}

/// Replaces the API key `current`, read from `reference`, by a new one
/// valid until `expiration`.
pub fn rotate(
    control: &Control,
    install: &Install,
    client: &Client,
    current: &ApiKey,
    expiration: SystemTime,
) -> Result<(), String> {
    let reference = current.reference();
    let path = control
        .api_key
        .as_ref()
        .and_then(key_file)
        .ok_or_else(|| format!("`{reference}` is not a file privai can write"))?;
    let old = api_key_prefix(current.expose())
        .ok_or_else(|| "the API key in use is not in Headscale's `hskey-api-…` form".to_owned())?
        .to_owned();
    let state = install.state_dir();
    atomic::create_private_dir(&state).map_err(|e| e.to_string())?;
    let created = client
        .create_api_key(expiration)
        .map_err(|e| format!("creating a new API key: {e}"))?;
    let new = api_key_prefix(created.expose())
        .ok_or_else(|| "Headscale answered a key that is not in its `hskey-api-…` form".to_owned())?
        .to_owned();
    let rotating = serde_json::to_vec(&Rotating {
        old: old.clone(),
        new: new.clone(),
    })
    .map_err(|e| e.to_string())?;
    atomic::write(&record(&state), &rotating, 0o600).map_err(|e| e.to_string())?;
    let trial = crate::observe::live::headscale_client_with(
        control,
        install,
        ApiKey::new(created.expose(), reference),
    )?;
    if let Err(e) = trial.list_users() {
        let _ = client.expire_api_key(&new);
        let _ = atomic::remove(&record(&state));
        return Err(format!(
            "the new API key does not work ({e}); it was expired and the old one stays in `{}`",
            path.display()
        ));
    }
    let mut text = created.expose().to_owned();
    text.push('\n');
    atomic::replace(&path, text.as_bytes(), 0o600)
        .map_err(|e| format!("writing the new API key to `{}`: {e}", path.display()))?;
    trial
        .expire_api_key(&old)
        .map_err(|e| format!("expiring the old API key: {e}"))?;
    atomic::remove(&record(&state)).map_err(|e| e.to_string())?;
    Ok(())
}
