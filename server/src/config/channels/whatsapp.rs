//! `[whatsapp.<name>]`: the person's first message as a WhatsApp template, through the Cloud
//! API's `POST /<version>/<phone_number_id>/messages`. The access token (a system user's, with
//! `whatsapp_business_messaging`) is the secret. Which leads, and when: [`super::first`].
//!
//! ```toml
//! [whatsapp.first_contact]
//! phone_number_id = "1234567890"      # WhatsApp Manager → API setup
//! waba_id = "9876543210"              # the WhatsApp Business Account (for `doctor`'s template check)
//! secret_env = "WHATSAPP_TOKEN"
//! template = "first_contact"          # an approved template
//! language = "en_US"
//! parameters = ["first_name", "form_name", "owner", "business"]   # the body's {{1}}, {{2}}, …
//! business_name = "Acme Windows"
//! api_url = "https://graph.facebook.com/v21.0"   # the default
//! events = ["lead.created"]
//! [whatsapp.first_contact.rules]
//! forms = ["all"]
//! consent_checkbox = "marketing_optin"
//! ```

use std::ops::Range;

use secrecy::{ExposeSecret, SecretString};

use super::first::{self, FirstRules, RulesTable};
use super::{At, Env, channel_table, secret, web_address};
use crate::config::ConfigError;

const DEFAULT_API: &str = "https://graph.facebook.com/v21.0";

channel_table!(WhatsAppTable {
    phone_number_id: toml::Spanned<String>,
    waba_id: Option<String>,
    template: toml::Spanned<String>,
    language: Option<String>,
    parameters: Option<toml::Spanned<Vec<String>>>,
    business_name: String,
    api_url: Option<toml::Spanned<String>>,
    rules: Option<toml::Spanned<RulesTable>>,
});

/// What a first message may say about the lead: the template's body parameters, the SMS's
/// `{placeholders}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadValue {
    /// The first word of the person's name ("there" when the form has no name).
    FirstName,
    FormName,
    /// The name of the rep who owns the lead ("our team" while it has none).
    Owner,
    Business,
}

impl LeadValue {
    pub const ALL: [LeadValue; 4] = [
        LeadValue::FirstName,
        LeadValue::FormName,
        LeadValue::Owner,
        LeadValue::Business,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadValue::FirstName => "first_name",
            LeadValue::FormName => "form_name",
            LeadValue::Owner => "owner",
            LeadValue::Business => "business",
        }
    }

    pub fn read(name: &str) -> Option<LeadValue> {
        LeadValue::ALL
            .into_iter()
            .find(|value| value.as_str() == name)
    }
}

#[derive(Clone)]
pub struct WhatsAppChannel {
    /// `<api_url>/<phone_number_id>/messages`.
    pub messages_url: reqwest::Url,
    /// `<api_url>/<waba_id>/message_templates`, when `waba_id` is given.
    pub templates_url: Option<reqwest::Url>,
    pub token: SecretString,
    pub template: String,
    pub language: String,
    pub parameters: Vec<LeadValue>,
    pub business_name: String,
    pub rules: FirstRules,
}

impl std::fmt::Debug for WhatsAppChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppChannel")
            .field("messages_url", &self.messages_url.as_str())
            .field("template", &self.template)
            .field("token", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// `ids` as the Graph API's numeric ids.
fn numeric(value: &str) -> bool {
    !value.is_empty() && value.len() <= 32 && value.bytes().all(|b| b.is_ascii_digit())
}

/// The values `names` list, each a [`LeadValue`].
pub(super) fn lead_values(
    names: &toml::Spanned<Vec<String>>,
    at: &At<'_>,
) -> Result<Vec<LeadValue>, ConfigError> {
    names
        .get_ref()
        .iter()
        .map(|name| {
            LeadValue::read(name).ok_or_else(|| {
                let known: Vec<&str> = LeadValue::ALL.iter().map(|v| v.as_str()).collect();
                at(
                    names.span(),
                    format!(
                        "unknown value \"{}\"; known: {}",
                        name.escape_debug(),
                        known.join(", ")
                    ),
                )
            })
        })
        .collect()
}

/// The API's base address (`api_url`, else `default`).
pub(super) fn api_base(
    api_url: &Option<toml::Spanned<String>>,
    default: &str,
    span: Range<usize>,
    at: &At<'_>,
) -> Result<String, ConfigError> {
    let text = api_url
        .as_ref()
        .map_or(default, |url| url.get_ref().as_str());
    web_address(text)
        .filter(|url| url.query().is_none())
        .map(|url| url.as_str().trim_end_matches('/').to_string())
        .ok_or_else(|| {
            let span = api_url.as_ref().map_or(span, |url| url.span());
            at(
                span,
                "api_url must be an https:// address (http:// only to localhost)".into(),
            )
        })
}

pub(super) fn read(
    table: &WhatsAppTable,
    span: Range<usize>,
    at: &At<'_>,
    env: &Env<'_>,
) -> Result<WhatsAppChannel, ConfigError> {
    let phone_number_id = table.phone_number_id.get_ref().trim();
    if !numeric(phone_number_id) {
        return Err(at(
            table.phone_number_id.span(),
            "phone_number_id must be the number's id in WhatsApp Manager (digits), not the phone \
             number"
                .into(),
        ));
    }
    let template = table.template.get_ref().trim();
    let valid_template = (1..=512).contains(&template.len())
        && template
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid_template {
        return Err(at(
            table.template.span(),
            "template must be the template's name as WhatsApp Manager shows it (a-z, 0-9, _)"
                .into(),
        ));
    }
    let Some((token, _, _)) = secret(table, span.clone(), at, env)? else {
        return Err(at(
            span,
            "give the access token as exactly one of secret_env or secret_file".into(),
        ));
    };
    if token.expose_secret().trim().is_empty() {
        return Err(at(span, "the access token is empty".into()));
    }
    let base = api_base(&table.api_url, DEFAULT_API, span.clone(), at)?;
    let address = |path: &str| {
        reqwest::Url::parse(&format!("{base}/{path}"))
            .map_err(|_| at(span.clone(), "api_url and the ids make no address".into()))
    };
    let templates_url = match table.waba_id.as_deref().map(str::trim) {
        None => None,
        Some(waba) if numeric(waba) => Some(address(&format!("{waba}/message_templates"))?),
        Some(_) => return Err(at(span, "waba_id must be digits".into())),
    };
    let parameters = match &table.parameters {
        None => LeadValue::ALL.to_vec(),
        Some(names) => lead_values(names, at)?,
    };
    Ok(WhatsAppChannel {
        messages_url: address(&format!("{phone_number_id}/messages"))?,
        templates_url,
        token: SecretString::from(token.expose_secret().trim().to_string()),
        template: template.to_string(),
        language: table.language.clone().unwrap_or_else(|| "en_US".into()),
        parameters,
        business_name: table.business_name.clone(),
        rules: first::read(table.rules.as_ref(), span, at)?,
    })
}
