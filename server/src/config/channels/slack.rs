//! `[slack.<name>]`: a Slack incoming webhook. Its URL is its key, so it is the channel's secret.
//!
//! ```toml
//! [slack.sales]
//! secret_env = "SLACK_SALES_WEBHOOK"   # https://hooks.slack.com/services/T…/B…/…
//! events = ["lead.created", "lead.assigned"]
//! ```

use std::ops::Range;

use super::{At, Env, SecretUrl, channel_table, secret_address};
use crate::config::ConfigError;

channel_table!(SlackTable {});

#[derive(Debug)]
pub struct SlackChannel {
    pub url: SecretUrl,
}

pub(super) fn read(
    table: &SlackTable,
    span: Range<usize>,
    at: &At<'_>,
    env: &Env<'_>,
) -> Result<SlackChannel, ConfigError> {
    Ok(SlackChannel {
        url: secret_address(table, span, at, env, "the Slack incoming webhook's URL")?,
    })
}
