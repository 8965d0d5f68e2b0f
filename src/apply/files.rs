//! Carrying out the files and secrets domains: each file written
//! atomically after its pre-image is saved and the step journaled; each
//! secret written 0600, its pre-image kept beside it (never in privai's
//! state directory).

use super::BEFORE_PRIVAI;
use crate::observe::FileState;
use crate::observe::files::read_file;
use crate::plan::{FileAction, SecretAction};
use crate::render::manifest::sha256_hex;
use crate::render::secrets::SecretSource;
use crate::render::{Artifact, Owner};
use crate::state::journal::{Backup, Journal, Record};
use crate::state::{Install, StateDir, atomic};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Runs one file action: saves the pre-image, journals the step, writes or
/// removes the file. Returns the journal record (for undoing).
pub(super) fn file_step(
    install: &Install,
    state: &StateDir,
    step: usize,
    action: &FileAction,
    artifact: Option<&Artifact>,
    journal: &mut Journal,
) -> anyhow::Result<Record> {
    let file = action.file();
    let path = install.path(&file.host, &file.path)?;
    let pre_image = read_pre_image(state, step, &path, file.secret)?;
    let backup = pre_image.as_ref().map(|(backup, _)| backup.clone());
    let saved_as = matches!(action, FileAction::Adopt { .. })
        .then(|| PathBuf::from(format!("{}{BEFORE_PRIVAI}", path.display())));
    let created_dirs = missing_parents(&path);
    let record = Record::File {
        step,
        action: format!("{} {}", action.change().name(), action.address()),
        path: path.clone(),
        backup: backup.clone(),
        saved_as: saved_as.clone(),
        created_dirs,
    };
    journal.append(&record)?;
    save(pre_image)?;
    match action {
        FileAction::Delete { .. } => {
            atomic::unlink(&path)?;
        }
        _ => {
            let artifact = artifact.with_context(|| {
                format!(
                    "the plan names `{}`, which the spec does not render",
                    file.path
                )
            })?;
            if let (Some(saved_as), Some(backup)) = (&saved_as, &backup) {
                let bytes = std::fs::read(&backup.copy)?;
                atomic::write(saved_as, &bytes, backup.mode)?;
            }
            atomic::replace(&path, &artifact.contents, artifact.mode)?;
            if let (Owner::User, Some(owner)) = (file.owner, install.operator()) {
                give_to_operator(&path, &record, owner)?;
            }
        }
    }
    Ok(record)
}

/// The pre-image of `path` (if it exists) that step `step` saves before
/// it changes the file, and where: under the state directory's
/// `run/backup`, or — for a secret — next to the file itself, so that a
/// secret never enters privai's state directory. The step journals where
/// first, then [`save`]s it: a copy, of a secret above all, exists only
/// once the journal names it, and recovery removes it.
pub(super) fn read_pre_image(
    state: &StateDir,
    step: usize,
    path: &Path,
    secret: bool,
) -> anyhow::Result<Option<(Backup, Vec<u8>)>> {
    let FileState::Present { contents, mode } = read_file(path)? else {
        return Ok(None);
    };
    let copy = if secret {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        path.with_file_name(format!(".{name}.privai-pre-{step}"))
    } else {
        state.backups().join(step.to_string())
    };
    Ok(Some((Backup { copy, mode }, contents)))
}

/// Writes the pre-image [`read_pre_image`] read (0600), once it is journaled.
pub(super) fn save(pre_image: Option<(Backup, Vec<u8>)>) -> anyhow::Result<()> {
    if let Some((backup, contents)) = pre_image {
        atomic::write(&backup.copy, &contents, 0o600)?;
    }
    Ok(())
}

/// Runs one secret action: saves the pre-image (0600, removed when the run
/// ends), journals the step (path only), writes the value 0600 — and, for
/// a self-signed key, its certificate (0644) the same way. Returns the
/// journal records (for undoing).
pub(super) fn secret_step(
    install: &Install,
    state: &StateDir,
    step: usize,
    action: &SecretAction,
    journal: &mut Journal,
) -> anyhow::Result<Vec<Record>> {
    let SecretAction::Write {
        secret, new_sha256, ..
    } = action;
    let mut certificate = None;
    let value = match &secret.source {
        SecretSource::Generate => generate_token()?,
        SecretSource::Env { var } => {
            let value = crate::observe::secrets::env_value(secret, var)?;
            if Some(sha256_hex(&value)) != *new_sha256 {
                anyhow::bail!("the value of {var} changed since the plan was made");
            }
            value
        }
        SecretSource::SelfSigned {
            certificate: path,
            names,
        } => {
            let made = rcgen::generate_simple_self_signed(names.clone())
                .with_context(|| format!("making a certificate for {}", names.join(", ")))?;
            certificate = Some((path, made.cert.pem()));
            made.signing_key.serialize_pem().into_bytes()
        }
    };
    let path = install.path(&secret.host, &secret.path)?;
    let pre_image = read_pre_image(state, step, &path, true)?;
    let record = Record::File {
        step,
        action: format!("{} {}", action.change().name(), action.address()),
        path: path.clone(),
        backup: pre_image.as_ref().map(|(backup, _)| backup.clone()),
        saved_as: None,
        created_dirs: missing_parents(&path),
    };
    journal.append(&record)?;
    save(pre_image)?;
    atomic::replace(&path, &value, 0o600)?;
    if let Some(owner) = &secret.owner {
        give_to_container_user(&path, owner)?;
    }
    if let Some(owner) = install.operator()
        && secret.path.starts_with("~/")
    {
        give_to_operator(&path, &record, owner)?;
    }
    let mut records = vec![record];
    if let Some((certificate, pem)) = certificate {
        let path = install.path(&secret.host, certificate)?;
        let pre_image = read_pre_image(state, step, &path, false)?;
        let record = Record::File {
            step,
            action: format!("create file {}:{certificate}", secret.host),
            path: path.clone(),
            backup: pre_image.as_ref().map(|(backup, _)| backup.clone()),
            saved_as: None,
            created_dirs: missing_parents(&path),
        };
        journal.append(&record)?;
        save(pre_image)?;
        atomic::replace(&path, pem.as_bytes(), 0o644)?;
        records.push(record);
    }
    Ok(records)
}

/// Gives the secret file `path` to the container's user `owner`
/// (`uid:gid`, numbers), who reads it through its secret mount.
pub(super) fn give_to_container_user(path: &Path, owner: &str) -> anyhow::Result<()> {
    let (uid, gid) = owner
        .split_once(':')
        .and_then(|(uid, gid)| Some((uid.parse().ok()?, gid.parse().ok()?)))
        .with_context(|| {
            format!(
                "openclaw.container.user `{owner}` is not `uid:gid` (numbers, e.g. `1000:1000`)"
            )
        })?;
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).with_context(|| {
        format!(
            "giving `{}` to the gateway container's user {uid}:{gid} (apply runs as root on Linux)",
            path.display()
        )
    })
}

/// A new random token: 32 bytes from the OS, as 64 hex digits.
pub(super) fn generate_token() -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom to generate a token")?;
    Ok(bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into_bytes())
}

/// Makes `path`, and the directories the step created for it, the
/// operator's (privai runs as root under sudo).
fn give_to_operator(path: &Path, record: &Record, (uid, gid): (u32, u32)) -> anyhow::Result<()> {
    let dirs = match record {
        Record::File { created_dirs, .. } => created_dirs.as_slice(),
        _ => &[],
    };
    for target in std::iter::once(path).chain(dirs.iter().map(PathBuf::as_path)) {
        std::os::unix::fs::chown(target, Some(uid), Some(gid))
            .with_context(|| format!("giving `{}` to uid {uid}", target.display()))?;
    }
    Ok(())
}

/// Directories above `path` that do not exist yet, innermost first.
fn missing_parents(path: &Path) -> Vec<PathBuf> {
    path.ancestors()
        .skip(1)
        .take_while(|dir| !dir.as_os_str().is_empty() && !dir.exists())
        .map(Path::to_path_buf)
        .collect()
}

/// Writes `bytes` (mode 0644) to `path`, a file of the operator's beside
/// the spec (`privai.lock`), as step `step` of the run: its pre-image saved
/// and the step journaled first, like any file privai installs, so undoing
/// the run puts the old file back.
pub(super) fn write_outside_root(
    state: &StateDir,
    step: usize,
    path: &Path,
    bytes: &[u8],
    journal: &mut Journal,
) -> anyhow::Result<Record> {
    let pre_image = read_pre_image(state, step, path, false)?;
    let record = Record::File {
        step,
        action: format!("update file {}", path.display()),
        path: path.to_owned(),
        backup: pre_image.as_ref().map(|(backup, _)| backup.clone()),
        saved_as: None,
        created_dirs: missing_parents(path),
    };
    journal.append(&record)?;
    save(pre_image)?;
    atomic::write(path, bytes, 0o644)?;
    Ok(record)
}
