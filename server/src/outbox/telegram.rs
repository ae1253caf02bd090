//! Telegram bots (<https://core.telegram.org/bots/api#sendmessage>): `POST
//! <api>/bot<token>/sendMessage` with `chat_id`, `text` and `parse_mode`, answered
//! `{"ok": true, "result": {…}}`, or `{"ok": false, "error_code": 429, "parameters":
//! {"retry_after": N}}` when the bot sends too fast. The token is in the path: the URL is never
//! in a reason or a log.
//!
//! The text is in the HTML parse mode: the headline in `<b>`, and `&`, `<`, `>` escaped as the
//! Bot API asks, so lead text is never a tag or a link. Telegram also turns `@name` into a
//! mention on its own: an `@` that starts a word gets a word joiner (U+2060) after it, which
//! shows nothing and stops the mention. No link preview is fetched.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::message::{Message, escape_markup};
use super::{Attempt, Medium, http};
use crate::config::{ChatId, SecretUrl, TelegramChannel};
use crate::limits::CHANNEL_RETRY_AFTER_CAP;

pub struct Telegram {
    client: reqwest::Client,
    send_message: SecretUrl,
    chat_id: ChatId,
}

impl Telegram {
    pub fn new(channel: &TelegramChannel, timeout: Duration) -> Result<Telegram, reqwest::Error> {
        Ok(Telegram {
            client: http::client(timeout)?,
            send_message: channel.send_message.clone(),
            chat_id: channel.chat_id.clone(),
        })
    }
}

/// The request's body for `message` to `chat_id`.
pub fn body(message: &Message, chat_id: &ChatId) -> serde_json::Value {
    let mut text = format!("<b>{}</b>", inert(&message.headline));
    for (label, value) in &message.details {
        text.push_str(&format!("\n{label}: {}", inert(value)));
    }
    json!({
        "chat_id": chat_id,
        "text": text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": true},
    })
}

/// Text escaped for the HTML parse mode, with no `@mention`.
fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word_start = true;
    for c in escape_markup(text).chars() {
        out.push(c);
        if c == '@' && word_start {
            out.push('\u{2060}');
        }
        word_start = !(c.is_alphanumeric() || c == '_');
    }
    out
}

/// The Bot API's answer, as far as it matters.
#[derive(Deserialize)]
struct Reply {
    ok: bool,
    description: Option<String>,
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
}

#[async_trait::async_trait]
impl Medium for Telegram {
    async fn deliver(&self, message: &Message) -> Attempt {
        let request = self
            .client
            .post(self.send_message.expose().clone())
            .json(&body(message, &self.chat_id));
        let answer = match http::send(request).await {
            Ok(answer) => answer,
            Err(attempt) => return attempt,
        };
        let reply: Option<Reply> = serde_json::from_str(&answer.text).ok();
        match reply {
            Some(reply) if reply.ok && answer.status.is_success() => Attempt::Delivered,
            Some(Reply {
                description,
                parameters:
                    Some(Parameters {
                        retry_after: Some(seconds),
                    }),
                ..
            }) => Attempt::Throttled {
                reason: format!(
                    "Telegram answered {}: {}",
                    answer.status,
                    description.unwrap_or_default()
                ),
                after: Duration::from_secs(seconds).min(CHANNEL_RETRY_AFTER_CAP),
            },
            Some(Reply {
                description: Some(description),
                ..
            }) => Attempt::Failed(format!(
                "Telegram answered {}: {description}",
                answer.status
            )),
            _ if answer.status.is_success() => Attempt::Failed(format!(
                "{} (not the Bot API's {{\"ok\": true}})",
                answer.reason()
            )),
            _ => answer.attempt(),
        }
    }
}
