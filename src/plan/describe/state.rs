//! The states a description puts before and after a change: typed, and
//! serialised exactly as `plan --json` prints them (`docs/plan-json.md`).
//! A secret's state never holds its value, only digests.

use crate::plan::headscale::NewUser;
use crate::plan::matrix::AccountKind;
use crate::render::secrets::SecretSource;
use crate::render::units::{Health, Manager, ServiceUnit};
use crate::render::{ModelSource, Owner};
use serde::{Serialize, Serializer};

/// What an object is (or was) like, on one side of a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum State {
    /// A file's digest, mode, owner and (for a text file that is not
    /// secret) text.
    File(FileState),
    /// A secret file: digests, mode and where its value comes from.
    Secret(SecretState),
    /// A service: its service manager entry and health check.
    Service(ServiceState),
    /// A model Ollama pulls.
    Model(ModelState),
    /// A Headscale user, key, node or policy.
    Headscale(HeadscaleState),
    /// A Matrix account or the AI's token; never a password or a token.
    Matrix(MatrixState),
    /// It exists; nothing more is known (`{}`).
    Present {},
}

/// A file's state; what is not known is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileState {
    /// sha256 of its bytes, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Its permission bits (`"0644"`).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "octal")]
    pub mode: Option<u32>,
    /// Its owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// Its text; never for a secret file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A secret file's state: never its value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SecretState {
    /// sha256 of the file; `None` when it is generated while applying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Its permission bits.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "octal")]
    pub mode: Option<u32>,
    /// Where its value comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SecretSource>,
}

/// A service's state: how its manager knows it and how it is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceState {
    /// Its service manager entry.
    pub manager: Manager,
    /// Its health check; `None` (`null`) for a scheduled job.
    pub health: Option<HealthState>,
}

/// A health check and how long it may take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthState {
    /// The check.
    #[serde(flatten)]
    pub check: Health,
    /// Seconds it may take.
    pub timeout_secs: u64,
}

impl ServiceState {
    /// The state of `unit`.
    pub fn of(unit: &ServiceUnit) -> Self {
        Self {
            manager: unit.manager.clone(),
            health: unit.health.clone().map(|check| HealthState {
                check,
                timeout_secs: unit.health_timeout_secs,
            }),
        }
    }
}

/// A model to pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelState {
    /// Download size from privai's catalog, when it knows the model.
    pub download_bytes: Option<u64>,
    /// The digest `privai.lock` pins it to.
    pub locked_digest: Option<String>,
    /// Where its weights come from.
    pub source: ModelSource,
}

/// Something set through Headscale's API; never a key, only its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum HeadscaleState {
    /// A user to create.
    User {
        /// The user.
        user: NewUser,
    },
    /// A pre-auth key to create.
    Key {
        /// Its user.
        user: String,
        /// Its tags.
        tags: Vec<String>,
        /// Whether its node is ephemeral.
        ephemeral: bool,
        /// Whether it joins any number of nodes.
        reusable: bool,
        /// Days it stays valid.
        expiry_days: u32,
    },
    /// A pre-auth key to expire.
    ExpiredKey {
        /// Its id.
        key_id: u64,
        /// Why, in words.
        reason: String,
    },
    /// A node's tags.
    NodeTags {
        /// The node's id.
        node_id: u64,
        /// The tags.
        tags: Vec<String>,
    },
    /// A user to delete.
    UserId {
        /// Its id.
        user_id: u64,
    },
    /// The ACL policy.
    Policy {
        /// Its sha256.
        sha256: String,
        /// Its text, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
}

/// A Matrix account on the homeserver, or where the AI's token goes;
/// never a password or a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum MatrixState {
    /// An account to register.
    Account {
        /// Whose.
        kind: AccountKind,
    },
    /// The secret file the AI's new token is written to.
    Token {
        /// Its install path.
        path: String,
    },
    /// An account to deactivate.
    Deactivated {
        /// Always `true`.
        deactivated: bool,
    },
}

/// `"0644"`.
#[allow(clippy::ref_option)] // serde's `serialize_with` passes the field by reference.
fn octal<S: Serializer>(mode: &Option<u32>, serializer: S) -> Result<S::Ok, S::Error> {
    match mode {
        Some(mode) => serializer.serialize_str(&format!("{mode:04o}")),
        None => serializer.serialize_none(),
    }
}
