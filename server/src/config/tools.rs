//! Settings of the commands beside `serve`: `backup`, and the log format every command shares.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object a line: `timestamp`, `level`, `target`, `message` and the other fields,
    /// and the spans the line was logged in (a request's `request_id`, method and path).
    Json,
}

/// Settings of `leadhook-server backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// Directory to create for the copy; it receives `leads.db` and `inbox.db`.
    pub target: PathBuf,
    /// Directory of the running server's inbox and embedded lead store.
    #[arg(
        long = "data-dir",
        env = "LEADHOOK_DATA_DIR",
        default_value = "./leadhook-data"
    )]
    pub data_dir: PathBuf,
    /// Set when the leads live in Supabase: then this command refuses, as Supabase backs them up.
    #[arg(long = "supabase-url", env = "SUPABASE_URL", hide = true)]
    pub supabase_url: Option<String>,
}

/// Logging settings every command shares.
#[derive(Debug, Clone, Copy, Args)]
pub struct LogArgs {
    /// Log line format on standard error: text, or json for log collectors.
    #[arg(
        long = "log-format",
        env = "LEADHOOK_LOG_FORMAT",
        value_enum,
        default_value_t,
        global = true
    )]
    pub log_format: LogFormat,
}
