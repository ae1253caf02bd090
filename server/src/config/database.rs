//! `DATABASE_URL`: the PostgreSQL connection of the Supabase project, on which each server listens
//! for lead changes (see [`crate::feed`]). A secret (it holds the database password): it comes
//! from the environment or `--database-url-file`, and only [`DatabaseConfig::describe`] is ever
//! shown, which leaves the password out.

use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::config::Host;

use super::{ConfigError, StoreConfig};

pub(super) const VAR: &str = "DATABASE_URL";

/// Where to listen for changes: a direct connection or Supabase's session pooler.
#[derive(Clone)]
pub struct DatabaseConfig {
    /// Holds the password; its own `Debug` redacts it, and this type prints only `describe`.
    connection: tokio_postgres::Config,
}

impl DatabaseConfig {
    /// A PostgreSQL URL (or key=value string) that names a host; the problem otherwise, in words
    /// that never repeat the text given (it holds the password).
    pub fn from_url(url: &str) -> Result<DatabaseConfig, String> {
        // tokio-postgres's parse errors name the option that is wrong, never its value.
        let connection = tokio_postgres::Config::from_str(url.trim()).map_err(|error| {
            format!(
                "not a PostgreSQL connection string ({error}); copy it from Supabase: Connect > \
                 Direct connection or Session pooler"
            )
        })?;
        if connection.get_hosts().is_empty() {
            return Err(
                "it names no host; copy it from Supabase: Connect > Direct connection \
                        or Session pooler"
                    .to_string(),
            );
        }
        Ok(DatabaseConfig { connection })
    }

    /// The connection's settings (password included): for connecting only.
    pub fn connection(&self) -> &tokio_postgres::Config {
        &self.connection
    }

    /// `user@host:port/database`, without the password: for logs and `/api/health`.
    pub fn describe(&self) -> String {
        let host = match self.connection.get_hosts().first() {
            Some(Host::Tcp(name)) => name.clone(),
            Some(Host::Unix(path)) => path.display().to_string(),
            None => "localhost".to_string(),
        };
        let port = self.connection.get_ports().first().copied().unwrap_or(5432);
        format!(
            "{}@{host}:{port}/{}",
            self.connection.get_user().unwrap_or("?"),
            self.connection.get_dbname().unwrap_or("postgres")
        )
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseConfig({})", self.describe())
    }
}

/// `DATABASE_URL` checked: a PostgreSQL URL (or key=value string) naming a host, and only with the
/// Supabase store, whose changes it announces.
pub(super) fn parse(
    value: Option<SecretString>,
    store: &StoreConfig,
) -> Result<Option<DatabaseConfig>, ConfigError> {
    let Some(value) = value.filter(|v| !v.expose_secret().trim().is_empty()) else {
        return Ok(None);
    };
    if matches!(store, StoreConfig::Sqlite) {
        return Err(ConfigError::invalid(
            VAR,
            "it is for the Supabase store (SUPABASE_URL); the SQLite store announces its changes \
             itself: unset DATABASE_URL",
        ));
    }
    DatabaseConfig::from_url(value.expose_secret())
        .map(Some)
        .map_err(|problem| ConfigError::invalid(VAR, problem))
}
