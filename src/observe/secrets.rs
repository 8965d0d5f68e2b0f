//! Observing secret files: whether each exists (its digest and mode) and
//! the digest of the value it should hold, read from the environment. The
//! values themselves are not kept.

use super::{FileKey, FileState, SecretState};
use crate::render::manifest::sha256_hex;
use crate::render::secrets::{SecretFile, SecretSource};
use crate::state::Install;
use std::collections::BTreeMap;

/// Observes every secret of `secrets` where `install` puts it. Fails when
/// a secret's environment variable is not set and its file was never
/// written: the spec cannot be applied without it. A secret already
/// written needs the variable no more.
pub fn observe(
    install: &Install,
    secrets: &[SecretFile],
) -> anyhow::Result<BTreeMap<FileKey, SecretState>> {
    let mut out = BTreeMap::new();
    for secret in secrets {
        let path = install.path(&secret.host, &secret.path)?;
        let file = match super::files::read_file(&path)? {
            FileState::Absent => None,
            FileState::Present { contents, mode } => Some((sha256_hex(&contents), mode)),
        };
        let mut note = None;
        let wanted_sha256 = match &secret.source {
            SecretSource::Generate => None,
            // Once written, the file is the secret: a later run without
            // the variable keeps it; a run with it makes the file match.
            SecretSource::Env { var } if file.is_some() && !env_is_set(var) => None,
            SecretSource::Env { var } => Some(sha256_hex(&env_value(secret, var)?)),
            SecretSource::SelfSigned { certificate, .. } => {
                let cert = install.path(&secret.host, certificate)?;
                let has_cert = matches!(super::files::read_file(&cert)?, FileState::Present { .. });
                if has_cert != file.is_some() {
                    let (have, lack) = match has_cert {
                        true => (certificate.as_str(), secret.path.as_str()),
                        false => (secret.path.as_str(), certificate.as_str()),
                    };
                    note = Some(format!(
                        "`{have}` exists but `{lack}` does not; privai makes the key and certificate of `{}` only as a pair, and never replaces one it may not have made: provide `{lack}`, or remove `{have}` to have privai make a new pair",
                        secret.name
                    ));
                }
                None
            }
        };
        out.insert(
            FileKey::new(&secret.host, &secret.path),
            SecretState {
                file,
                wanted_sha256,
                note,
            },
        );
    }
    Ok(out)
}

/// Whether `var` is set to a value.
fn env_is_set(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| !v.is_empty())
}

/// The value of `var` for `secret`, or an error naming the spec field.
pub fn env_value(secret: &SecretFile, var: &str) -> anyhow::Result<Vec<u8>> {
    match std::env::var_os(var) {
        Some(value) if !value.is_empty() => Ok(value.into_encoded_bytes()),
        _ => anyhow::bail!(
            "`{}` reads the environment variable {var}, which is not set; set it (export {var}=…) and run privai again — nothing was changed",
            secret.name
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::observe;
    use crate::observe::FileKey;
    use crate::render::secrets::{SecretFile, SecretSource};
    use crate::state::Install;

    /// A variable no test sets.
    const UNSET: &str = "PRIVAI_TEST_NEVER_SET_GATEWAY_TOKEN";

    fn token() -> SecretFile {
        SecretFile {
            host: "box".into(),
            path: "/etc/privai/secrets/openclaw-gateway-token".into(),
            name: "openclaw.gateway_token".into(),
            source: SecretSource::Env { var: UNSET.into() },
            restarts: Vec::new(),
            owner: None,
        }
    }

    #[test]
    fn a_secret_from_an_unset_variable_is_an_error_until_its_file_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let install = Install::Staged {
            root: dir.path().to_owned(),
        };
        let error = observe(&install, &[token()]).unwrap_err().to_string();
        assert!(error.contains(UNSET), "{error}");
        assert!(error.contains("openclaw.gateway_token"), "{error}");
    }

    #[test]
    fn a_secret_already_written_does_not_need_its_variable_again() {
        let dir = tempfile::tempdir().unwrap();
        let install = Install::Staged {
            root: dir.path().to_owned(),
        };
        let secret = token();
        let path = install.path(&secret.host, &secret.path).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "written-earlier").unwrap();
        let observed = observe(&install, &[secret]).unwrap();
        let state = &observed[&FileKey::new("box", "/etc/privai/secrets/openclaw-gateway-token")];
        assert!(state.file.is_some());
        assert_eq!(state.wanted_sha256, None, "any written file satisfies it");
    }
}
