//! `[teams.<name>]`: a Microsoft Teams Workflows webhook ("When a Teams webhook request is
//! received"), which takes Adaptive Cards. Its URL carries its signature, so it is the secret.
//!
//! ```toml
//! [teams.managers]
//! secret_file = "/etc/leadhook/teams-managers-url"
//! events = ["lead.status_changed"]
//! ```

use std::ops::Range;

use super::{At, Env, SecretUrl, channel_table, secret_address};
use crate::config::ConfigError;

channel_table!(TeamsTable {});

#[derive(Debug)]
pub struct TeamsChannel {
    pub url: SecretUrl,
}

pub(super) fn read(
    table: &TeamsTable,
    span: Range<usize>,
    at: &At<'_>,
    env: &Env<'_>,
) -> Result<TeamsChannel, ConfigError> {
    Ok(TeamsChannel {
        url: secret_address(table, span, at, env, "the Teams Workflows webhook's URL")?,
    })
}
