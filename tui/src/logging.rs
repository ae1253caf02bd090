//! Logs go to a file, never to the terminal the dashboard draws on.

use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::LogFormat;

/// `<cache dir>/leadhook/leadhook.log`, e.g. `~/.cache/leadhook/leadhook.log` on Linux.
pub fn log_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "leadhook").map(|dirs| dirs.cache_dir().to_path_buf())
}

/// Starts logging to the log file in `format`; `LEADHOOK_LOG` sets the filter (default `info`).
/// Returns the guard that flushes the file when dropped, or `None` when there is no place to
/// write logs, in which case the app runs without them.
pub fn init(format: LogFormat) -> Option<WorkerGuard> {
    let dir = log_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    let (writer, guard) =
        tracing_appender::non_blocking(tracing_appender::rolling::never(dir, "leadhook.log"));
    let filter = EnvFilter::try_from_env("LEADHOOK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false);
    let lines = match format {
        LogFormat::Text => lines.boxed(),
        LogFormat::Json => lines.json().flatten_event(true).boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .try_init()
        .ok()?;
    Some(guard)
}
