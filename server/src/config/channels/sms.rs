//! `[sms.<name>]`: the person's first message as an SMS through a Twilio-style API
//! (`POST <api_url>/2010-04-01/Accounts/<account_sid>/Messages.json`, HTTP basic auth with the
//! account SID and the auth token, which is the secret). Which leads, and when: [`super::first`].
//!
//! ```toml
//! [sms.first_text]
//! account_sid = "AC0123456789abcdef0123456789abcdef"
//! secret_env = "TWILIO_AUTH_TOKEN"
//! from = "+15550001111"               # or messaging_service_sid = "MG…"
//! body = "Hi {first_name}, thanks for your request about {form_name}. {owner} from {business} will call you shortly. Reply STOP to opt out."
//! business_name = "Acme Windows"
//! status_callback = "https://leads.example.com/twilio/status"   # optional
//! api_url = "https://api.twilio.com"  # the default
//! events = ["lead.created"]
//! [sms.first_text.rules]
//! forms = ["all"]
//! consent_checkbox = "marketing_optin"
//! ```

use std::ops::Range;

use secrecy::{ExposeSecret, SecretString};

use super::first::{self, FirstRules, RulesTable};
use super::whatsapp::{LeadValue, api_base};
use super::{At, Env, channel_table, secret, web_address};
use crate::config::ConfigError;

const DEFAULT_API: &str = "https://api.twilio.com";
/// Longest body template (characters); an SMS of more is sent in parts by the provider.
const MAX_BODY: usize = 1600;

channel_table!(SmsTable {
    account_sid: toml::Spanned<String>,
    from: Option<String>,
    messaging_service_sid: Option<String>,
    body: toml::Spanned<String>,
    business_name: String,
    status_callback: Option<toml::Spanned<String>>,
    api_url: Option<toml::Spanned<String>>,
    rules: Option<toml::Spanned<RulesTable>>,
});

/// Who the SMS comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsSender {
    From(String),
    MessagingService(String),
}

/// One piece of the body: text as written, or a value of the lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyPart {
    Text(String),
    Value(LeadValue),
}

#[derive(Clone)]
pub struct SmsChannel {
    pub messages_url: reqwest::Url,
    pub account_sid: String,
    pub auth_token: SecretString,
    pub sender: SmsSender,
    pub body: Vec<BodyPart>,
    pub business_name: String,
    pub status_callback: Option<reqwest::Url>,
    pub rules: FirstRules,
}

impl std::fmt::Debug for SmsChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsChannel")
            .field("messages_url", &self.messages_url.as_str())
            .field("auth_token", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// `text` with its `{placeholders}` read; `None` names the first unknown one.
pub fn body_parts(text: &str) -> Result<Vec<BodyPart>, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return Err("a { without its }".into());
        };
        if open > 0 {
            parts.push(BodyPart::Text(rest[..open].to_string()));
        }
        let name = &rest[open + 1..open + close];
        parts.push(BodyPart::Value(
            LeadValue::read(name).ok_or_else(|| format!("unknown placeholder {{{name}}}"))?,
        ));
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        parts.push(BodyPart::Text(rest.to_string()));
    }
    Ok(parts)
}

pub(super) fn read(
    table: &SmsTable,
    span: Range<usize>,
    at: &At<'_>,
    env: &Env<'_>,
) -> Result<SmsChannel, ConfigError> {
    let sid = table.account_sid.get_ref().trim();
    let valid_sid =
        sid.len() == 34 && sid.starts_with("AC") && sid[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if !valid_sid {
        return Err(at(
            table.account_sid.span(),
            "account_sid must be the account's SID: AC and 32 hexadecimal digits".into(),
        ));
    }
    let sender = match (&table.from, &table.messaging_service_sid) {
        (Some(from), None) if from.starts_with('+') && from.len() > 4 => {
            SmsSender::From(from.trim().to_string())
        }
        (None, Some(service)) if service.starts_with("MG") => {
            SmsSender::MessagingService(service.trim().to_string())
        }
        _ => {
            return Err(at(
                span,
                "give exactly one of from = \"+<E.164 number>\" or messaging_service_sid = \"MG…\""
                    .into(),
            ));
        }
    };
    let body_text = table.body.get_ref();
    if body_text.trim().is_empty() || body_text.chars().count() > MAX_BODY {
        return Err(at(
            table.body.span(),
            format!("body must be 1 to {MAX_BODY} characters"),
        ));
    }
    let body = body_parts(body_text).map_err(|what| {
        let known: Vec<String> = LeadValue::ALL
            .iter()
            .map(|v| format!("{{{}}}", v.as_str()))
            .collect();
        at(
            table.body.span(),
            format!("body: {what}; known: {}", known.join(", ")),
        )
    })?;
    let Some((token, _, _)) = secret(table, span.clone(), at, env)? else {
        return Err(at(
            span,
            "give the auth token as exactly one of secret_env or secret_file".into(),
        ));
    };
    let status_callback = match &table.status_callback {
        None => None,
        Some(url) => Some(web_address(url.get_ref()).ok_or_else(|| {
            at(
                url.span(),
                "status_callback must be an https:// address".into(),
            )
        })?),
    };
    let base = api_base(&table.api_url, DEFAULT_API, span.clone(), at)?;
    let messages_url = reqwest::Url::parse(&format!(
        "{base}/2010-04-01/Accounts/{sid}/Messages.json"
    ))
    .map_err(|_| {
        at(
            span.clone(),
            "api_url and account_sid make no address".into(),
        )
    })?;
    Ok(SmsChannel {
        messages_url,
        account_sid: sid.to_string(),
        auth_token: SecretString::from(token.expose_secret().trim().to_string()),
        sender,
        body,
        business_name: table.business_name.clone(),
        status_callback,
        rules: first::read(table.rules.as_ref(), span, at)?,
    })
}
