//! `[telegram.<name>]`: a Telegram bot writing to one chat through the Bot API's `sendMessage`.
//! The bot token is the secret; it sits in the request's path, so the address it makes is a
//! [`SecretUrl`].
//!
//! ```toml
//! [telegram.sales]
//! secret_env = "TELEGRAM_BOT_TOKEN"   # 123456789:AA… from @BotFather
//! chat_id = -1001234567890            # or "@channelusername"
//! api_url = "https://api.telegram.org" # the default; a local Bot API server or a stand-in
//! events = ["lead.created"]
//! ```

use std::ops::Range;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::{At, Env, SecretUrl, channel_table, secret, web_address};
use crate::config::ConfigError;

const DEFAULT_API: &str = "https://api.telegram.org";

channel_table!(TelegramTable {
    chat_id: toml::Spanned<ChatId>,
    api_url: Option<toml::Spanned<String>>,
});

/// The chat the bot writes to, as the Bot API takes it: a number (groups' are negative) or
/// `@username` of a public channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChatId {
    Id(i64),
    Username(String),
}

#[derive(Debug)]
pub struct TelegramChannel {
    /// `<api_url>/bot<token>/sendMessage`.
    pub send_message: SecretUrl,
    pub chat_id: ChatId,
}

pub(super) fn read(
    table: &TelegramTable,
    span: Range<usize>,
    at: &At<'_>,
    env: &Env<'_>,
) -> Result<TelegramChannel, ConfigError> {
    let api = match &table.api_url {
        None => web_address(DEFAULT_API),
        Some(api) => web_address(api.get_ref()),
    }
    .filter(|api| api.query().is_none())
    .ok_or_else(|| {
        let span = table
            .api_url
            .as_ref()
            .map_or(span.clone(), |api| api.span());
        at(
            span,
            "api_url must be an https:// address (http:// only to localhost)".into(),
        )
    })?;
    if let ChatId::Username(name) = table.chat_id.get_ref() {
        let valid = name.strip_prefix('@').is_some_and(|name| {
            (5..=32).contains(&name.len())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        if !valid {
            return Err(at(
                table.chat_id.span(),
                "chat_id must be the chat's number (like -1001234567890) or a public \
                 channel's @username"
                    .into(),
            ));
        }
    }
    let Some((token, where_, token_span)) = secret(table, span.clone(), at, env)? else {
        return Err(at(
            span,
            "give the bot token as exactly one of secret_env or secret_file".into(),
        ));
    };
    let token = token.expose_secret().trim();
    let valid = token.split_once(':').is_some_and(|(bot, key)| {
        !bot.is_empty()
            && bot.bytes().all(|b| b.is_ascii_digit())
            && !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    if !valid {
        return Err(at(
            token_span,
            format!(
                "the secret in {where_} must be a bot token as @BotFather gives it \
                 (digits, a colon, then letters, digits, _ and -)"
            ),
        ));
    }
    let base = api.as_str().trim_end_matches('/');
    let send_message = web_address(&format!("{base}/bot{token}/sendMessage"))
        .map(SecretUrl)
        .ok_or_else(|| at(span, "api_url and the bot token make no address".into()))?;
    Ok(TelegramChannel {
        send_message,
        chat_id: table.chat_id.get_ref().clone(),
    })
}
