//! The channels file (`LEADHOOK_CHANNELS`): where events go beyond the terminal. One TOML file,
//! read once at start-up; a mistake stops the server with the file, line and column, what is
//! wrong and what to do. Secrets are never in the file itself: each names an environment
//! variable (`secret_env`) or a file only its owner may read (`secret_file`).
//!
//! Every channel is a table `[<kind>.<name>]`; the name is the channel's destination in the
//! outbox, unique across kinds. Besides its own fields, every channel has these:
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
//!
//! Each kind reads its own fields in its own module ([`webhook`], [`slack`], [`teams`],
//! [`telegram`], [`email`], [`ntfy`], and the person's first message: [`whatsapp`], [`sms`],
//! with their shared rules in [`first`]).

mod address;
mod email;
mod first;
mod ntfy;
mod slack;
mod sms;
mod teams;
mod telegram;
mod webhook;
mod whatsapp;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};
use std::time::Duration;

use leadhook_shared::secret_args::read_secret_file;
use secrecy::SecretString;
use serde::Deserialize;

use super::ConfigError;
use crate::limits::{
    CHANNEL_CONCURRENCY, CHANNEL_EXPIRY, CHANNEL_TIMEOUT, DEFAULT_CHANNEL_CONCURRENCY,
    DEFAULT_CHANNEL_EXPIRY, DEFAULT_CHANNEL_TIMEOUT, MAX_CHANNELS, MAX_CHANNELS_FILE_BYTES,
};
use crate::store::{CAPI, EventType, Route};
pub use address::SecretUrl;
use address::{secret_address, web_address};
pub use email::{EmailChannel, SmtpTls};
pub use first::{Consent, FirstRules, Forms};
pub use ntfy::NtfyChannel;
pub use slack::SlackChannel;
pub use sms::{BodyPart, SmsChannel, SmsSender};
pub use teams::TeamsChannel;
pub use telegram::{ChatId, TelegramChannel};
pub use webhook::WebhookChannel;
pub use whatsapp::{LeadValue, WhatsAppChannel};

const VAR: &str = "LEADHOOK_CHANNELS";
/// Where the README explains the file.
const SEE: &str = "see the README, \"Notifications beyond the terminal\"";

/// Every channel of the file.
#[derive(Debug, Default)]
pub struct ChannelsConfig {
    pub channels: Vec<Channel>,
}

impl ChannelsConfig {
    /// Which events go where, as the store's route table holds it.
    pub fn routes(&self) -> Vec<Route> {
        self.channels
            .iter()
            .flat_map(|channel| {
                channel.events.iter().map(|event_type| Route {
                    destination: channel.name.clone(),
                    event_type: *event_type,
                })
            })
            .collect()
    }
}

/// One destination of the outbox: what every channel has, and what its kind adds.
#[derive(Debug)]
pub struct Channel {
    pub name: String,
    pub events: BTreeSet<EventType>,
    /// Each attempt, connecting included.
    pub timeout: Duration,
    /// Attempts in flight at once.
    pub concurrency: u32,
    /// How long a delivery is retried before it is dead-lettered.
    pub expire_after: Duration,
    pub kind: ChannelKind,
}

#[derive(Debug)]
pub enum ChannelKind {
    /// An outgoing webhook signed per Standard Webhooks.
    Webhook(WebhookChannel),
    /// A Slack incoming webhook.
    Slack(SlackChannel),
    /// A Microsoft Teams Workflows webhook.
    Teams(TeamsChannel),
    /// A Telegram bot writing to one chat.
    Telegram(TelegramChannel),
    /// E-mail over SMTP.
    Email(EmailChannel),
    /// Push to the reps' phones through ntfy.
    Ntfy(NtfyChannel),
    /// The person's first message, a WhatsApp template (at most once).
    WhatsApp(WhatsAppChannel),
    /// The person's first message, an SMS (at most once).
    Sms(SmsChannel),
}

impl ChannelKind {
    /// The kind as the file's tables name it.
    pub fn table(&self) -> &'static str {
        match self {
            ChannelKind::Webhook(_) => "webhooks",
            ChannelKind::Slack(_) => "slack",
            ChannelKind::Teams(_) => "teams",
            ChannelKind::Telegram(_) => "telegram",
            ChannelKind::Email(_) => "email",
            ChannelKind::Ntfy(_) => "ntfy",
            ChannelKind::WhatsApp(_) => "whatsapp",
            ChannelKind::Sms(_) => "sms",
        }
    }

    /// The rules of a first-message kind (sent to the lead's person, at most once, only on
    /// `lead.created`); `None` for the kinds that tell the team.
    pub fn first_rules(&self) -> Option<&FirstRules> {
        match self {
            ChannelKind::WhatsApp(whatsapp) => Some(&whatsapp.rules),
            ChannelKind::Sms(sms) => Some(&sms.rules),
            _ => None,
        }
    }
}

/// A channel's table in the file: its kind's own fields, then those every channel has. Each
/// kind declares its table with this, so the common fields are spelled once and an unknown field
/// is still refused.
macro_rules! channel_table {
    ($table:ident { $($field:ident: $type:ty,)* }) => {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(super) struct $table {
            $(pub(super) $field: $type,)*
            pub(super) secret_env: Option<toml::Spanned<String>>,
            pub(super) secret_file: Option<toml::Spanned<std::path::PathBuf>>,
            pub(super) events: toml::Spanned<Vec<toml::Spanned<String>>>,
            pub(super) timeout: Option<toml::Spanned<String>>,
            pub(super) concurrency: Option<toml::Spanned<u32>>,
            pub(super) expire_after: Option<toml::Spanned<String>>,
        }

        impl super::Common for $table {
            fn common(&self) -> super::CommonFields<'_> {
                super::CommonFields {
                    secret_env: &self.secret_env,
                    secret_file: &self.secret_file,
                    events: &self.events,
                    timeout: &self.timeout,
                    concurrency: &self.concurrency,
                    expire_after: &self.expire_after,
                }
            }
        }
    };
}
use channel_table;

/// The fields every channel's table has.
struct CommonFields<'a> {
    secret_env: &'a Option<toml::Spanned<String>>,
    secret_file: &'a Option<toml::Spanned<PathBuf>>,
    events: &'a toml::Spanned<Vec<toml::Spanned<String>>>,
    timeout: &'a Option<toml::Spanned<String>>,
    concurrency: &'a Option<toml::Spanned<u32>>,
    expire_after: &'a Option<toml::Spanned<String>>,
}

trait Common {
    fn common(&self) -> CommonFields<'_>;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    webhooks: Tables<webhook::WebhookTable>,
    #[serde(default)]
    slack: Tables<slack::SlackTable>,
    #[serde(default)]
    teams: Tables<teams::TeamsTable>,
    #[serde(default)]
    telegram: Tables<telegram::TelegramTable>,
    #[serde(default)]
    email: Tables<email::EmailTable>,
    #[serde(default)]
    ntfy: Tables<ntfy::NtfyTable>,
    #[serde(default)]
    whatsapp: Tables<whatsapp::WhatsAppTable>,
    #[serde(default)]
    sms: Tables<sms::SmsTable>,
}

/// The tables of one kind, by channel name.
type Tables<T> = BTreeMap<String, toml::Spanned<T>>;

/// Reads each table of one kind into `channels`, refusing a name another table took.
fn read_kind<T: Common>(
    tables: Tables<T>,
    read: impl Fn(&T, Range<usize>, &At<'_>, &Env<'_>) -> Result<ChannelKind, ConfigError>,
    at: &At<'_>,
    env: &Env<'_>,
    channels: &mut Vec<Channel>,
) -> Result<(), ConfigError> {
    for (name, table) in tables {
        let (span, table) = (table.span(), table.into_inner());
        let kind = read(&table, span.clone(), at, env)?;
        if let Some(taken) = channels.iter().find(|channel| channel.name == name) {
            return Err(at(
                span,
                format!(
                    "the channel name \"{}\" is taken by [{}.{}] already: names are unique \
                     across kinds (each is a destination in the outbox); rename one",
                    name.escape_debug(),
                    taken.kind.table(),
                    name.escape_debug()
                ),
            ));
        }
        channels.push(channel(name, span, &table, kind, at)?);
    }
    Ok(())
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

/// Turns a problem at a span of the file into the error that names its line and column.
type At<'a> = dyn Fn(Range<usize>, String) -> ConfigError + 'a;
/// Looks up the environment variables `secret_env` names.
type Env<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// Reads the file's `text`; `env` looks up `secret_env` variables.
pub(super) fn parse(path: &Path, text: &str, env: &Env<'_>) -> Result<ChannelsConfig, ConfigError> {
    let at = |span: Range<usize>, what: String| {
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
    let mut channels = Vec::new();
    let found = &mut channels;
    macro_rules! read_kinds {
        ($($field:ident => $module:ident::$variant:ident),* $(,)?) => {$(
            read_kind(
                file.$field,
                |t, s, at, env| $module::read(t, s, at, env).map(ChannelKind::$variant),
                &at,
                env,
                found,
            )?;
        )*};
    }
    read_kinds!(
        webhooks => webhook::Webhook,
        slack => slack::Slack,
        teams => teams::Teams,
        telegram => telegram::Telegram,
        email => email::Email,
        ntfy => ntfy::Ntfy,
        whatsapp => whatsapp::WhatsApp,
        sms => sms::Sms,
    );
    if channels.len() > MAX_CHANNELS {
        return Err(ConfigError::invalid(
            VAR,
            format!(
                "{}: {} channels, more than the {MAX_CHANNELS} allowed; {SEE}",
                path.display(),
                channels.len()
            ),
        ));
    }
    Ok(ChannelsConfig { channels })
}

/// The channel `name` of `kind`, with the fields every channel has read from its `table`.
fn channel(
    name: String,
    span: Range<usize>,
    table: &dyn Common,
    kind: ChannelKind,
    at: &At<'_>,
) -> Result<Channel, ConfigError> {
    let common = table.common();
    let valid_name = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name != CAPI;
    if !valid_name {
        return Err(at(
            span,
            format!(
                "the channel name \"{}\" must be 1 to 64 of a-z, 0-9, - and _, and not \"{CAPI}\"",
                name.escape_debug()
            ),
        ));
    }
    let mut events = BTreeSet::new();
    for event in common.events.get_ref() {
        let kind = EventType::read(event.get_ref()).ok_or_else(|| {
            let known: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
            at(
                event.span(),
                format!(
                    "unknown event \"{}\"; known: {}",
                    event.get_ref().escape_debug(),
                    known.join(", ")
                ),
            )
        })?;
        events.insert(kind);
    }
    if events.is_empty() {
        return Err(at(
            common.events.span(),
            "events is empty: name at least one event, or remove the channel".to_string(),
        ));
    }
    if kind.first_rules().is_some() && events != BTreeSet::from([EventType::Created]) {
        return Err(at(
            common.events.span(),
            "a first message goes to the person once, when the lead arrives: events must be \
             [\"lead.created\"]"
                .to_string(),
        ));
    }
    let concurrency = match common.concurrency {
        None => DEFAULT_CHANNEL_CONCURRENCY,
        Some(value) if CHANNEL_CONCURRENCY.contains(value.get_ref()) => *value.get_ref(),
        Some(value) => {
            return Err(at(
                value.span(),
                format!(
                    "concurrency must be from {} to {}",
                    CHANNEL_CONCURRENCY.start(),
                    CHANNEL_CONCURRENCY.end()
                ),
            ));
        }
    };
    Ok(Channel {
        timeout: duration(common.timeout, DEFAULT_CHANNEL_TIMEOUT, CHANNEL_TIMEOUT, at)?,
        expire_after: duration(
            common.expire_after,
            DEFAULT_CHANNEL_EXPIRY,
            CHANNEL_EXPIRY,
            at,
        )?,
        name,
        events,
        concurrency,
        kind,
    })
}

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

/// The channel's secret, from its `secret_env` or `secret_file` (exactly one), with where it
/// came from (for an error that must name the place, never the value). `None` when the table
/// gives neither.
fn secret(
    table: &dyn Common,
    span: Range<usize>,
    at: &At<'_>,
    env: &Env<'_>,
) -> Result<Option<(SecretString, String, Range<usize>)>, ConfigError> {
    let common = table.common();
    match (common.secret_env, common.secret_file) {
        (None, None) => Ok(None),
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
            Ok(Some((
                SecretString::from(text),
                format!("${}", var.get_ref()),
                var.span(),
            )))
        }
        (None, Some(file)) => {
            let text = read_secret_file(file.get_ref())
                .map_err(|error| at(file.span(), format!("secret_file: {error}")))?;
            Ok(Some((
                SecretString::from(text),
                file.get_ref().display().to_string(),
                file.span(),
            )))
        }
        (Some(_), Some(_)) => Err(at(
            span,
            "give the secret as exactly one of secret_env or secret_file, not both".into(),
        )),
    }
}

#[cfg(test)]
mod tests;
