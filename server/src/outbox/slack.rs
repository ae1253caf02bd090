//! Slack incoming webhooks (<https://api.slack.com/messaging/webhooks>): `POST` of
//! `{"text": …}` to the hook's URL, answered `200 ok`, or `429` with `Retry-After` (about one
//! message a second per hook).
//!
//! The message goes as plain text: `mrkdwn` is off, so `*bold*`, `_x_` or `~x~` in a lead's
//! name show as typed, and `&`, `<`, `>` are escaped as Slack asks of every text, so no
//! `<!channel>`, `<@U123>` or `<https://evil|label>` can be formed. No preview is fetched for a
//! link in lead text.

use std::time::Duration;

use serde_json::json;

use super::message::{Message, escape_markup};
use super::{Attempt, Medium, http};
use crate::config::{SecretUrl, SlackChannel};

pub struct Slack {
    client: reqwest::Client,
    url: SecretUrl,
}

impl Slack {
    pub fn new(channel: &SlackChannel, timeout: Duration) -> Result<Slack, reqwest::Error> {
        Ok(Slack {
            client: http::client(timeout)?,
            url: channel.url.clone(),
        })
    }
}

/// The request's body for `message`.
pub fn body(message: &Message) -> serde_json::Value {
    json!({
        "text": escape_markup(&message.plain()),
        "mrkdwn": false,
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

#[async_trait::async_trait]
impl Medium for Slack {
    async fn deliver(&self, message: &Message) -> Attempt {
        let request = self
            .client
            .post(self.url.expose().clone())
            .json(&body(message));
        http::attempt(request).await
    }
}
