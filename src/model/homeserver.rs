//! The private Matrix homeserver (`modules/homeserver.ncl`): Synapse on
//! the tailnet, for people's Matrix apps and OpenClaw's Matrix channel.

use serde::{Deserialize, Serialize};

/// Homeserver settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Homeserver {
    /// Host running the homeserver, when named explicitly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The Matrix server name; absent: the host's MagicDNS name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Client-server API port.
    pub port: u16,
    /// Also listen on the host's tailnet address.
    pub tailnet: bool,
    /// Federate with other servers.
    pub federation: bool,
    /// Local part of the AI's account.
    pub ai_user: String,
    /// Python environment Synapse is installed in.
    pub venv: String,
    /// Log level.
    pub log_level: HomeserverLogLevel,
    /// The database.
    pub database: Database,
}

/// Log levels Synapse's `homeserver.log_level` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HomeserverLogLevel {
    /// Debug.
    Debug,
    /// Info.
    Info,
    /// Warnings.
    Warn,
    /// Errors.
    Error,
}

/// Synapse's database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// sqlite or PostgreSQL.
    pub kind: DatabaseKind,
    /// PostgreSQL host, address or socket directory.
    pub host: String,
    /// PostgreSQL port.
    pub port: u16,
    /// PostgreSQL database.
    pub name: String,
    /// PostgreSQL role.
    pub user: String,
    /// libpq password file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
}

/// Which database Synapse uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseKind {
    /// One sqlite file under privai's state directory.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Default for Homeserver {
    /// The module's defaults (for specs saved before the option existed).
    fn default() -> Self {
        Self {
            host: None,
            server_name: None,
            port: 8008,
            tailnet: true,
            federation: false,
            ai_user: "ai".to_owned(),
            venv: "/opt/venvs/matrix-synapse".to_owned(),
            log_level: HomeserverLogLevel::Info,
            database: Database {
                kind: DatabaseKind::Sqlite,
                host: "/run/postgresql".to_owned(),
                port: 5432,
                name: "synapse".to_owned(),
                user: "synapse".to_owned(),
                password_file: None,
            },
        }
    }
}
