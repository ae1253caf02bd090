//! leadhook's terminal dashboard: polls the leadhook server for Facebook Lead Ads leads,
//! shows them in a table and lets a sales rep work them from the keyboard.
//!
//! The state and its update step ([`app`]) know nothing about terminals or networks: keys,
//! ticks and poll results go in as [`app::Msg`], and the side effects the app wants come out as
//! [`app::Effect`]s that [`tui`] carries out. That keeps the whole behaviour unit-testable.

pub mod app;
pub mod audience;
pub mod client;
pub mod client_error;
pub mod clipboard;
pub mod config;
pub mod export;
pub mod figures;
pub mod hyperlink;
pub mod input;
pub mod keys;
pub mod leads;
pub mod logging;
pub mod notify;
pub mod poller;
pub mod reach;
pub mod report;
pub mod sanitize;
pub mod sse;
pub mod team_stats;
pub mod theme;
pub mod tui;
pub mod ui;
pub mod watch;
pub mod zone;

#[cfg(test)]
mod fixtures;

/// Everything that can end a `leadhook` run early.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Report(#[from] report::ReportError),
    #[error("terminal error: {0}; try another terminal emulator or check that stdout is a TTY")]
    Terminal(#[from] std::io::Error),
}
