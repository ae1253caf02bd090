//! `[ntfy.<name>]`: push to phones through an ntfy server (self-hosted or the public one). Each
//! page goes to the topic of the lead's owner (their own setting, `PUT /api/reps/me`), or to the
//! team's `topic` when the lead has no owner with a topic.
//!
//! ```toml
//! [ntfy.phones]
//! server = "https://ntfy.example.com"  # default https://ntfy.sh
//! secret_env = "NTFY_TOKEN"            # optional: an access token (tk_…), sent as a bearer token
//! topic = "acme-sales-team-3f9a1c7e20" # optional: the team's topic, for leads without one
//! events = ["lead.created", "lead.assigned", "lead.escalated"]
//! ```

use std::ops::Range;

use leadhook_shared::check_ntfy_topic;
use secrecy::{ExposeSecret, SecretString};

use super::{At, Env, channel_table, secret};
use crate::config::ConfigError;

/// The public ntfy server.
const DEFAULT_NTFY_SERVER: &str = "https://ntfy.sh";

channel_table!(NtfyTable {
    server: Option<toml::Spanned<String>>,
    topic: Option<toml::Spanned<String>>,
});

#[derive(Debug)]
pub struct NtfyChannel {
    /// The server's root: the JSON publish form posts here.
    pub server: reqwest::Url,
    /// Sent as `Authorization: Bearer`.
    pub token: Option<SecretString>,
    /// The team's topic, for leads whose owner has none (or that have no owner).
    pub topic: Option<String>,
}

pub(super) fn read(
    table: &NtfyTable,
    span: Range<usize>,
    at: &At<'_>,
    env: &Env<'_>,
) -> Result<NtfyChannel, ConfigError> {
    let server = match &table.server {
        None => reqwest::Url::parse(DEFAULT_NTFY_SERVER).ok(),
        Some(server) => reqwest::Url::parse(server.get_ref())
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host()),
    }
    .ok_or_else(|| {
        let span = table.server.as_ref().map_or(span.clone(), |s| s.span());
        at(
            span,
            "server must be an http:// or https:// address (like https://ntfy.sh)".into(),
        )
    })?;
    let topic = match &table.topic {
        None => None,
        Some(topic) => {
            check_ntfy_topic(topic.get_ref()).map_err(|e| at(topic.span(), e.to_string()))?;
            Some(topic.get_ref().clone())
        }
    };
    let token = secret(table, span, at, env)?.map(|(token, where_, span)| {
        let token = token.expose_secret().trim().to_string();
        (token, where_, span)
    });
    let token = match token {
        None => None,
        Some((token, where_, span)) => {
            // A header value: printable ASCII only, or the request could carry another header.
            if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(at(
                    span,
                    format!(
                        "the access token in {where_} must be one word of printable ASCII (ntfy's tk_…)"
                    ),
                ));
            }
            Some(SecretString::from(token))
        }
    };
    Ok(NtfyChannel {
        server,
        token,
        topic,
    })
}
