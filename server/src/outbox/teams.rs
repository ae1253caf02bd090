//! Microsoft Teams through a Workflows webhook ("When a Teams webhook request is received", the
//! successor of the retired Office 365 connectors): `POST` of a message with one Adaptive Card
//! attachment, answered `202 Accepted`.
//!
//! Teams reads a `TextBlock`'s text as Markdown (links, bold, lists) and a `FactSet`'s too, so
//! no lead text goes in either: every line is a `RichTextBlock` of `TextRun`s, which the Adaptive
//! Cards schema shows as plain text (<https://adaptivecards.io/explorer/TextRun.html>). A
//! `[x](http://evil)` or `**bold**` in a name shows as typed.

use std::time::Duration;

use serde_json::{Value, json};

use super::message::Message;
use super::{Attempt, Medium, http};
use crate::config::{SecretUrl, TeamsChannel};

pub const CARD_TYPE: &str = "application/vnd.microsoft.card.adaptive";

pub struct Teams {
    client: reqwest::Client,
    url: SecretUrl,
}

impl Teams {
    pub fn new(channel: &TeamsChannel, timeout: Duration) -> Result<Teams, reqwest::Error> {
        Ok(Teams {
            client: http::client(timeout)?,
            url: channel.url.clone(),
        })
    }
}

/// The request's body for `message`: the headline in bold, then a line per detail.
pub fn body(message: &Message) -> Value {
    let mut lines = vec![json!({
        "type": "RichTextBlock",
        "inlines": [{"type": "TextRun", "text": message.headline, "weight": "Bolder", "size": "Medium"}],
    })];
    lines.extend(message.details.iter().map(|(label, value)| {
        json!({
            "type": "RichTextBlock",
            "spacing": "Small",
            "inlines": [
                {"type": "TextRun", "text": format!("{label}: "), "weight": "Bolder"},
                {"type": "TextRun", "text": value},
            ],
        })
    }));
    json!({
        "type": "message",
        "attachments": [{
            "contentType": CARD_TYPE,
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": lines,
            },
        }],
    })
}

#[async_trait::async_trait]
impl Medium for Teams {
    async fn deliver(&self, message: &Message) -> Attempt {
        let request = self
            .client
            .post(self.url.expose().clone())
            .json(&body(message));
        http::attempt(request).await
    }
}
