//! Reading the Headscale API key a spec's secret reference names
//! (`file:PATH`, `env:VAR`, `keychain:ITEM`), through [`Secrets`]: the
//! environment, the home directory and the macOS keychain.

use crate::model::SecretRef;
use crate::model::secret_ref::Form;
use crate::secret::ApiKey;
use crate::sys::{Runner, SystemRunner};
use std::ffi::OsString;
use std::path::PathBuf;

/// Why the API key could not be read. Messages name the reference, never
/// the value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The setting is not `file:`, `env:` or `keychain:` (it is not
    /// repeated: it may be the key itself).
    #[error(
        "`headscale.api_key` is not a secret reference: write `file:PATH`, `env:NAME` or `keychain:ITEM`"
    )]
    NotAReference,
    /// `env:VAR` with VAR unset or empty.
    #[error(
        "the Headscale API key reference `{reference}` names the environment variable {var}, which is not set: export {var}=… (a key from `headscale apikeys create`) and run privai again"
    )]
    EnvNotSet {
        /// The reference.
        reference: String,
        /// The variable.
        var: String,
    },
    /// `file:~/…` without a home directory.
    #[error("the Headscale API key reference `{reference}` starts with `~/`, but HOME is not set")]
    NoHome {
        /// The reference.
        reference: String,
    },
    /// The file cannot be read.
    #[error(
        "cannot read the Headscale API key from `{path}` (`{reference}`): {reason}; store a key from `headscale apikeys create` there (mode 600)"
    )]
    File {
        /// The reference.
        reference: String,
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file, variable or item holds nothing.
    #[error(
        "`{reference}` holds no Headscale API key (it is empty): store a key from `headscale apikeys create` there"
    )]
    Empty {
        /// The reference.
        reference: String,
    },
    /// `keychain:` off macOS.
    #[error(
        "`{reference}`: keychain is read only on macOS; on this system store the key in a file (`file:~/.config/privai/secrets/headscale-api-key`, mode 600) or an environment variable (`env:HEADSCALE_API_KEY`)"
    )]
    KeychainNotHere {
        /// The reference.
        reference: String,
    },
    /// `security find-generic-password` failed.
    #[error(
        "cannot read the Headscale API key from the keychain (`{reference}`): {reason}; add it with `security add-generic-password -a privai -s {item} -w`"
    )]
    Keychain {
        /// The reference.
        reference: String,
        /// The item.
        item: String,
        /// Why.
        reason: String,
    },
}

/// Where secret references are read: the environment, the home directory,
/// the macOS keychain. [`SystemSecrets`] reads the real ones; tests fake them.
pub trait Secrets {
    /// The value of the environment variable `name`.
    fn var(&self, name: &str) -> Option<OsString>;
    /// The home directory, for `~/`.
    fn home(&self) -> Option<PathBuf>;
    /// The password of the keychain item `item`, or why not.
    fn keychain(&mut self, item: &str) -> Result<String, KeychainError>;
}

/// Why a keychain item could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeychainError {
    /// Not on macOS.
    NotHere,
    /// `security` failed; why.
    Failed(String),
}

/// The real [`Secrets`]: the process environment, `HOME`, and on macOS the
/// keychain through `security`, run by `runner`.
#[derive(Debug, Clone)]
pub struct SystemSecrets<R: Runner = SystemRunner> {
    /// Runs `security`.
    pub runner: R,
    /// Whether this is macOS (the only system with a keychain).
    pub macos: bool,
}

impl Default for SystemSecrets {
    fn default() -> Self {
        Self {
            runner: SystemRunner,
            macos: cfg!(target_os = "macos"),
        }
    }
}

impl<R: Runner> Secrets for SystemSecrets<R> {
    fn var(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }

    fn home(&self) -> Option<PathBuf> {
        std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(PathBuf::from)
    }

    fn keychain(&mut self, item: &str) -> Result<String, KeychainError> {
        read_keychain(&mut self.runner, self.macos, item)
    }
}

/// The argv that prints the password of the keychain item `item`.
pub fn keychain_argv(item: &str) -> Vec<String> {
    ["security", "find-generic-password", "-w", "-s", item]
        .map(String::from)
        .to_vec()
}

/// The password of the keychain item `item`, read with `runner` — only on
/// macOS (`macos`); the trailing newline `security` prints is removed.
pub fn read_keychain(
    runner: &mut dyn Runner,
    macos: bool,
    item: &str,
) -> Result<String, KeychainError> {
    if !macos {
        return Err(KeychainError::NotHere);
    }
    let output = runner
        .run(&keychain_argv(item))
        .map_err(|e| KeychainError::Failed(format!("cannot run `security`: {e}")))?;
    match output.status {
        0 => Ok(output.stdout.trim_end_matches(['\r', '\n']).to_owned()),
        // errSecItemNotFound, as `security` reports it.
        44 => Err(KeychainError::Failed(format!("no keychain item `{item}`"))),
        status => Err(KeychainError::Failed(format!(
            "`security find-generic-password` exited {status}: {}",
            output.stderr.trim()
        ))),
    }
}

/// Reads the API key `reference` names: `file:PATH` (`~/` is the home
/// directory; surrounding whitespace is dropped), `env:VAR`, or
/// `keychain:ITEM` (macOS only).
pub fn resolve_api_key(
    reference: &SecretRef,
    secrets: &mut dyn Secrets,
) -> Result<ApiKey, KeyError> {
    let reference_text = reference.as_str();
    let value = match reference.form() {
        Form::Env { var } => match secrets.var(var).filter(|value| !value.is_empty()) {
            Some(value) => value.to_string_lossy().into_owned(),
            None => {
                return Err(KeyError::EnvNotSet {
                    reference: reference_text.to_owned(),
                    var: var.clone(),
                });
            }
        },
        Form::File { path } => {
            let path = match path.strip_prefix("~/") {
                Some(rest) => secrets
                    .home()
                    .ok_or_else(|| KeyError::NoHome {
                        reference: reference_text.to_owned(),
                    })?
                    .join(rest),
                None => PathBuf::from(path),
            };
            let bytes = std::fs::read(&path).map_err(|e| KeyError::File {
                reference: reference_text.to_owned(),
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            String::from_utf8(bytes).map_err(|_| KeyError::File {
                reference: reference_text.to_owned(),
                path: path.display().to_string(),
                reason: "it is not UTF-8 text".to_owned(),
            })?
        }
        Form::Keychain { item } => match secrets.keychain(item) {
            Ok(value) => value,
            Err(KeychainError::NotHere) => {
                return Err(KeyError::KeychainNotHere {
                    reference: reference_text.to_owned(),
                });
            }
            Err(KeychainError::Failed(reason)) => {
                return Err(KeyError::Keychain {
                    reference: reference_text.to_owned(),
                    item: item.clone(),
                    reason,
                });
            }
        },
        Form::Malformed(_) | Form::Literal => return Err(KeyError::NotAReference),
    };
    let value = value.trim();
    if value.is_empty() {
        return Err(KeyError::Empty {
            reference: reference_text.to_owned(),
        });
    }
    Ok(ApiKey::new(value, reference_text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{Recorder, RunOutput};
    use std::collections::BTreeMap;

    /// Secrets from a table, with a scripted keychain.
    struct Fake {
        vars: BTreeMap<String, String>,
        home: Option<PathBuf>,
        keychain: Result<String, KeychainError>,
    }

    impl Secrets for Fake {
        fn var(&self, name: &str) -> Option<OsString> {
            self.vars.get(name).map(OsString::from)
        }
        fn home(&self) -> Option<PathBuf> {
            self.home.clone()
        }
        fn keychain(&mut self, _: &str) -> Result<String, KeychainError> {
            self.keychain.clone()
        }
    }

    fn fake() -> Fake {
        Fake {
            vars: BTreeMap::new(),
            home: None,
            keychain: Err(KeychainError::NotHere),
        }
    }

    #[test]
    fn the_key_is_read_from_env_and_file_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".config")).unwrap();
        std::fs::write(dir.path().join(".config/hs.key"), "hskey-api-x-y\n").unwrap();
        let mut secrets = fake();
        secrets.home = Some(dir.path().to_owned());
        secrets
            .vars
            .insert("HS_KEY".to_owned(), " hskey-api-a-b ".to_owned());
        let key = resolve_api_key(&"file:~/.config/hs.key".into(), &mut secrets).unwrap();
        assert_eq!(
            (key.expose(), key.reference()),
            ("hskey-api-x-y", "file:~/.config/hs.key")
        );
        let absolute = format!("file:{}/.config/hs.key", dir.path().display());
        assert_eq!(
            resolve_api_key(&absolute.into(), &mut secrets)
                .unwrap()
                .expose(),
            "hskey-api-x-y"
        );
        assert_eq!(
            resolve_api_key(&"env:HS_KEY".into(), &mut secrets)
                .unwrap()
                .expose(),
            "hskey-api-a-b"
        );
    }

    #[test]
    fn an_unreadable_reference_names_the_fix_and_never_the_value() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("empty"), "\n").unwrap();
        let mut secrets = fake();
        let message =
            |r: &str, s: &mut Fake| resolve_api_key(&r.into(), s).unwrap_err().to_string();
        assert_eq!(
            message("env:HS_KEY", &mut secrets),
            "the Headscale API key reference `env:HS_KEY` names the environment variable HS_KEY, which is not set: export HS_KEY=… (a key from `headscale apikeys create`) and run privai again"
        );
        assert_eq!(
            message("file:~/k", &mut secrets),
            "the Headscale API key reference `file:~/k` starts with `~/`, but HOME is not set"
        );
        let empty = format!("file:{}/empty", dir.path().display());
        assert_eq!(
            message(&empty, &mut secrets),
            format!(
                "`{empty}` holds no Headscale API key (it is empty): store a key from `headscale apikeys create` there"
            )
        );
        assert!(
            message(
                &format!("file:{}/missing", dir.path().display()),
                &mut secrets
            )
            .starts_with("cannot read the Headscale API key from `")
        );
        let literal = message("hskey-api-abc-SECRET", &mut secrets);
        assert!(!literal.contains("SECRET"), "{literal}");
        assert!(literal.contains("is not a secret reference"));
        assert!(
            message("keychain:privai-headscale", &mut secrets)
                .contains("keychain is read only on macOS")
        );
    }

    #[test]
    fn the_keychain_is_read_with_security_on_macos_only() {
        let mut runner = Recorder::new().respond_when(
            keychain_argv("hs"),
            RunOutput {
                status: 0,
                stdout: "hskey-api-k-v\n".to_owned(),
                stderr: String::new(),
            },
        );
        assert_eq!(
            read_keychain(&mut runner, true, "hs"),
            Ok("hskey-api-k-v".to_owned())
        );
        assert_eq!(
            runner.command_lines(),
            ["security find-generic-password -w -s hs"]
        );
        assert_eq!(
            read_keychain(&mut runner, false, "hs"),
            Err(KeychainError::NotHere)
        );
        assert_eq!(runner.calls().len(), 1, "nothing runs off macOS");
        let mut missing = Recorder::new().fail_when(keychain_argv("nope"), 44, "not found");
        assert_eq!(
            read_keychain(&mut missing, true, "nope"),
            Err(KeychainError::Failed("no keychain item `nope`".to_owned()))
        );
        let mut secrets = SystemSecrets {
            runner,
            macos: true,
        };
        let key = resolve_api_key(&"keychain:hs".into(), &mut secrets).unwrap();
        assert_eq!(key.expose(), "hskey-api-k-v");
        let mut off_macos = SystemSecrets {
            runner: Recorder::new(),
            macos: false,
        };
        assert!(matches!(
            resolve_api_key(&"keychain:hs".into(), &mut off_macos),
            Err(KeyError::KeychainNotHere { .. })
        ));
    }
}
