//! The channels file (`LEADHOOK_CHANNELS`): where events go beyond the terminal. One TOML file,
//! read once at start-up; a mistake stops the server with the file, line and column, what is
//! wrong and what to do. Secrets are never in the file itself: each names an environment
//! variable (`secret_env`) or a file only its owner may read (`secret_file`).
//!
//! ```toml
//! [webhooks.crm]                       # the destination's name: [a-z0-9_-], 1 to 64
//! url = "https://crm.example.com/hooks/leadhook"
//! secret_env = "CRM_WEBHOOK_SECRET"    # or secret_file = "/run/secrets/crm-webhook"
//! events = ["lead.created", "lead.status_changed"]
//! timeout = "10s"                      # each attempt (default 10s)
//! concurrency = 4                      # requests in flight at once (default 4)
//! expire_after = "24h"                 # then dead-lettered (default 24h)
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use leadhook_shared::secret_args::read_secret_file;
use secrecy::{ExposeSecret, SecretBox};
use serde::Deserialize;

use super::ConfigError;
use crate::limits::{
    DEFAULT_WEBHOOK_CONCURRENCY, DEFAULT_WEBHOOK_EXPIRY, DEFAULT_WEBHOOK_TIMEOUT,
    MAX_CHANNELS_FILE_BYTES, MAX_WEBHOOK_CHANNELS, WEBHOOK_CONCURRENCY, WEBHOOK_EXPIRY,
    WEBHOOK_TIMEOUT,
};
use crate::store::{CAPI, EventType, Route};

const VAR: &str = "LEADHOOK_CHANNELS";
/// Where the README explains the file.
const SEE: &str = "see the README, \"Notifications beyond the terminal\"";

/// Every channel of the file.
#[derive(Debug, Default)]
pub struct ChannelsConfig {
    pub webhooks: Vec<WebhookChannel>,
}

impl ChannelsConfig {
    /// Which events go where, as the store's route table holds it.
    pub fn routes(&self) -> Vec<Route> {
        self.webhooks
            .iter()
            .flat_map(|hook| {
                hook.events.iter().map(|event_type| Route {
                    destination: hook.name.clone(),
                    event_type: *event_type,
                })
            })
            .collect()
    }
}

/// An outgoing webhook signed per Standard Webhooks.
#[derive(Debug)]
pub struct WebhookChannel {
    pub name: String,
    pub url: reqwest::Url,
    /// The HMAC key: the base64 after `whsec_`, decoded.
    pub key: SecretBox<Vec<u8>>,
    pub events: BTreeSet<EventType>,
    pub timeout: Duration,
    pub concurrency: u32,
    pub expire_after: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    webhooks: BTreeMap<String, toml::Spanned<WebhookTable>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookTable {
    url: toml::Spanned<String>,
    secret_env: Option<toml::Spanned<String>>,
    secret_file: Option<toml::Spanned<PathBuf>>,
    events: toml::Spanned<Vec<toml::Spanned<String>>>,
    timeout: Option<toml::Spanned<String>>,
    concurrency: Option<toml::Spanned<u32>>,
    expire_after: Option<toml::Spanned<String>>,
}

/// The file at `path`, or `None` when `LEADHOOK_CHANNELS` is unset.
pub fn load(path: Option<&Path>) -> Result<Option<ChannelsConfig>, ConfigError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text = read(path)?;
    parse(path, &text, &|name| std::env::var(name).ok()).map(Some)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    let problem = |what: String| {
        ConfigError::invalid(
            VAR,
            format!("{}: {what}; fix the path or unset {VAR}", path.display()),
        )
    };
    let metadata = std::fs::metadata(path).map_err(|e| problem(format!("cannot read it ({e})")))?;
    if metadata.len() > MAX_CHANNELS_FILE_BYTES {
        return Err(problem(format!(
            "{} bytes, more than the {MAX_CHANNELS_FILE_BYTES} a channels file may have",
            metadata.len()
        )));
    }
    std::fs::read_to_string(path).map_err(|e| problem(format!("cannot read it ({e})")))
}

/// Line and column (1-based) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    (line, column)
}

/// Reads the file's `text`; `env` looks up `secret_env` variables.
pub(super) fn parse(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ChannelsConfig, ConfigError> {
    let at = |span: std::ops::Range<usize>, what: String| {
        let (line, column) = line_column(text, span.start);
        ConfigError::invalid(
            VAR,
            format!(
                "{}, line {line}, column {column}: {what}; fix the file ({SEE})",
                path.display()
            ),
        )
    };
    let file: File = toml::from_str(text).map_err(|error| {
        let message = error.message().trim().to_string();
        match error.span() {
            Some(span) => at(span, message),
            None => ConfigError::invalid(
                VAR,
                format!("{}: {message}; fix the file ({SEE})", path.display()),
            ),
        }
    })?;
    if file.webhooks.len() > MAX_WEBHOOK_CHANNELS {
        return Err(ConfigError::invalid(
            VAR,
            format!(
                "{}: {} webhooks, more than the {MAX_WEBHOOK_CHANNELS} allowed; {SEE}",
                path.display(),
                file.webhooks.len()
            ),
        ));
    }
    let mut webhooks = Vec::new();
    for (name, table) in file.webhooks {
        let span = table.span();
        let table = table.into_inner();
        let valid_name = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
            && name != CAPI;
        if !valid_name {
            return Err(at(
                span,
                format!(
                    "the webhook name \"{}\" must be 1 to 64 of a-z, 0-9, - and _, and not \"{CAPI}\"",
                    name.escape_debug()
                ),
            ));
        }
        let url = reqwest::Url::parse(table.url.get_ref())
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| {
                at(
                    table.url.span(),
                    "url must be an http:// or https:// address".to_string(),
                )
            })?;
        let key = secret(&table, span.clone(), &at, env)?;
        let mut events = BTreeSet::new();
        for event in table.events.get_ref() {
            let kind = EventType::read(event.get_ref()).ok_or_else(|| {
                let known: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
                let hint = if event.get_ref() == "lead.escalated" {
                    " (escalations are not delivered by this version yet)".to_string()
                } else {
                    String::new()
                };
                at(
                    event.span(),
                    format!(
                        "unknown event \"{}\"{hint}; known: {}",
                        event.get_ref().escape_debug(),
                        known.join(", ")
                    ),
                )
            })?;
            events.insert(kind);
        }
        if events.is_empty() {
            return Err(at(
                table.events.span(),
                "events is empty: name at least one event, or remove the webhook".to_string(),
            ));
        }
        let concurrency = match &table.concurrency {
            None => DEFAULT_WEBHOOK_CONCURRENCY,
            Some(value) if WEBHOOK_CONCURRENCY.contains(value.get_ref()) => *value.get_ref(),
            Some(value) => {
                return Err(at(
                    value.span(),
                    format!(
                        "concurrency must be from {} to {}",
                        WEBHOOK_CONCURRENCY.start(),
                        WEBHOOK_CONCURRENCY.end()
                    ),
                ));
            }
        };
        webhooks.push(WebhookChannel {
            timeout: duration(
                &table.timeout,
                DEFAULT_WEBHOOK_TIMEOUT,
                WEBHOOK_TIMEOUT,
                &at,
            )?,
            expire_after: duration(
                &table.expire_after,
                DEFAULT_WEBHOOK_EXPIRY,
                WEBHOOK_EXPIRY,
                &at,
            )?,
            name,
            url,
            key,
            events,
            concurrency,
        });
    }
    Ok(ChannelsConfig { webhooks })
}

type At<'a> = dyn Fn(std::ops::Range<usize>, String) -> ConfigError + 'a;

fn duration(
    value: &Option<toml::Spanned<String>>,
    default: Duration,
    range: RangeInclusive<Duration>,
    at: &At<'_>,
) -> Result<Duration, ConfigError> {
    let Some(value) = value else {
        return Ok(default);
    };
    humantime::parse_duration(value.get_ref().trim())
        .ok()
        .filter(|parsed| range.contains(parsed))
        .ok_or_else(|| {
            at(
                value.span(),
                format!(
                    "\"{}\" must be a duration like 10s or 24h, from {} to {}",
                    value.get_ref().escape_debug(),
                    humantime::format_duration(*range.start()),
                    humantime::format_duration(*range.end())
                ),
            )
        })
}

/// The webhook's key, from `secret_env` or `secret_file` (exactly one), written `whsec_<base64>`.
fn secret(
    table: &WebhookTable,
    span: std::ops::Range<usize>,
    at: &At<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SecretBox<Vec<u8>>, ConfigError> {
    let (text, where_, span) = match (&table.secret_env, &table.secret_file) {
        (Some(var), None) => {
            let text = env(var.get_ref()).ok_or_else(|| {
                at(
                    var.span(),
                    format!(
                        "the environment variable {} named by secret_env is not set",
                        var.get_ref().escape_debug()
                    ),
                )
            })?;
            (text, format!("${}", var.get_ref()), var.span())
        }
        (None, Some(file)) => {
            let text = read_secret_file(file.get_ref())
                .map_err(|error| at(file.span(), format!("secret_file: {error}")))?;
            (text, file.get_ref().display().to_string(), file.span())
        }
        _ => {
            return Err(at(
                span,
                "give the webhook's secret as exactly one of secret_env or secret_file".into(),
            ));
        }
    };
    let secret = secrecy::SecretString::from(text);
    let key = secret
        .expose_secret()
        .trim()
        .strip_prefix("whsec_")
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .filter(|key| (24..=64).contains(&key.len()));
    match key {
        Some(key) => Ok(SecretBox::new(Box::new(key))),
        None => Err(at(
            span,
            format!(
                "the secret in {where_} must be whsec_ and the base64 of 24 to 64 random bytes \
                 (make one with: echo whsec_$(openssl rand -base64 32))"
            ),
        )),
    }
}

#[cfg(test)]
#[path = "channels_tests.rs"]
mod tests;
