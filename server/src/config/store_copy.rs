//! Settings of `leadhook-server store copy`: the two stores, named by the same variables as for
//! `serve`, and the direction.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use secrecy::SecretString;

use super::{ConfigError, StoreConfig, data_dir_or_default, parse_store};

/// Which store receives the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CopyTarget {
    /// From the embedded SQLite store to the Supabase project.
    Supabase,
    /// From the Supabase project to the embedded SQLite store.
    Sqlite,
}

#[derive(Debug, Clone, Args)]
pub struct StoreCopyArgs {
    /// The store to copy into; the other one is read.
    #[arg(long, value_enum)]
    pub to: CopyTarget,
    /// Directory of the embedded lead store (leads.db).
    #[arg(long = "data-dir", env = "LEADHOOK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Supabase project REST URL, e.g. https://<project>.supabase.co/rest/v1.
    #[arg(long = "supabase-url", env = "SUPABASE_URL")]
    pub supabase_url: Option<String>,
    /// Supabase service_role key (legacy JWT).
    #[arg(
        long = "supabase-service-role-key",
        env = "SUPABASE_SERVICE_ROLE_KEY",
        hide_env_values = true
    )]
    pub supabase_service_role_key: Option<String>,
    /// Supabase secret key (sb_secret_...), accepted instead of the service_role key.
    #[arg(
        long = "supabase-secret-key",
        env = "SUPABASE_SECRET_KEY",
        hide_env_values = true
    )]
    pub supabase_secret_key: Option<String>,
}

/// Validated settings of a copy.
#[derive(Debug, Clone)]
pub struct StoreCopySettings {
    pub to: CopyTarget,
    pub data_dir: PathBuf,
    pub supabase_url: String,
    pub supabase_key: SecretString,
}

impl StoreCopyArgs {
    pub fn resolve(self) -> Result<StoreCopySettings, ConfigError> {
        let data_dir = data_dir_or_default(self.data_dir)?;
        let store = parse_store(
            self.supabase_url,
            self.supabase_secret_key.or(self.supabase_service_role_key),
        )?;
        match store {
            StoreConfig::Supabase { url, key } => Ok(StoreCopySettings {
                to: self.to,
                data_dir,
                supabase_url: url,
                supabase_key: key,
            }),
            StoreConfig::Sqlite => Err(ConfigError::Missing {
                var: "SUPABASE_URL",
                hint: "a copy needs the Supabase project: set SUPABASE_URL and SUPABASE_SECRET_KEY (or SUPABASE_SERVICE_ROLE_KEY)",
            }),
        }
    }
}
