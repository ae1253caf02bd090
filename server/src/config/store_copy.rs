//! Settings of `leadhook-server store copy`: the two stores, named by the same variables as for
//! `serve`, and the direction.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use secrecy::SecretString;

use super::{ConfigError, StoreConfig, SupabaseArgs, data_dir_or_default};

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
    #[command(flatten)]
    pub supabase: SupabaseArgs,
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
        match self.supabase.store()? {
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
