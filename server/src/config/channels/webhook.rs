//! `[webhooks.<name>]`: an outgoing webhook signed per Standard Webhooks.
//!
//! ```toml
//! [webhooks.crm]
//! url = "https://crm.example.com/hooks/leadhook"
//! secret_env = "CRM_WEBHOOK_SECRET"    # whsec_ and the base64 of 24 to 64 random bytes
//! events = ["lead.created", "lead.status_changed"]
//! ```

use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretBox};

use super::{At, Env, channel_table, secret};
use crate::config::ConfigError;

channel_table!(WebhookTable {
    url: toml::Spanned<String>,
});

#[derive(Debug)]
pub struct WebhookChannel {
    pub url: reqwest::Url,
    /// The HMAC key: the base64 after `whsec_`, decoded.
    pub key: SecretBox<Vec<u8>>,
}

pub(super) fn read(
    table: &WebhookTable,
    span: Range<usize>,
    at: &At<'_>,
    env: &Env<'_>,
) -> Result<WebhookChannel, ConfigError> {
    let url = reqwest::Url::parse(table.url.get_ref())
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
        .ok_or_else(|| {
            at(
                table.url.span(),
                "url must be an http:// or https:// address".to_string(),
            )
        })?;
    let Some((secret, where_, span)) = secret(table, span.clone(), at, env)? else {
        return Err(at(
            span,
            "give the webhook's secret as exactly one of secret_env or secret_file".into(),
        ));
    };
    let key = secret
        .expose_secret()
        .trim()
        .strip_prefix("whsec_")
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .filter(|key| (24..=64).contains(&key.len()));
    match key {
        Some(key) => Ok(WebhookChannel {
            url,
            key: SecretBox::new(Box::new(key)),
        }),
        None => Err(at(
            span,
            format!(
                "the secret in {where_} must be whsec_ and the base64 of 24 to 64 random bytes \
                 (make one with: echo whsec_$(openssl rand -base64 32))"
            ),
        )),
    }
}
