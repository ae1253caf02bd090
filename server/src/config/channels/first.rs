//! What the first-message kinds (`[whatsapp.<name>]`, `[sms.<name>]`) share: their `[….rules]`
//! table, which leads get the first message and when.
//!
//! ```toml
//! [whatsapp.first_contact.rules]
//! forms = ["1234567890"]          # form ids, or ["all"]
//! consent_checkbox = "marketing_optin"   # the form's consent checkbox key (the default rule)
//! # consent_answer = { field = "contact_ok", value = "yes" }   # or a form answer instead
//! # consent = "off"                # no consent check at all: explicit, warned at start
//! send_window = "08:00-21:00"     # in the person's local time (the default)
//! zones = { US = "America/New_York" }   # a country's zone (overrides the defaults)
//! default_zone = "Europe/Berlin"  # for a country leadhook has no zone for
//! ```

use std::collections::BTreeMap;
use std::ops::Range;

use chrono_tz::Tz;
use leadhook_shared::QuietHours;
use serde::Deserialize;

use super::At;
use crate::config::ConfigError;

/// The send window when the file names none: 08:00 to 21:00 in the person's local time.
pub const DEFAULT_SEND_WINDOW: &str = "08:00-21:00";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RulesTable {
    forms: toml::Spanned<Vec<String>>,
    consent_checkbox: Option<String>,
    consent_answer: Option<ConsentAnswerTable>,
    consent: Option<toml::Spanned<String>>,
    send_window: Option<toml::Spanned<String>>,
    #[serde(default)]
    zones: BTreeMap<String, toml::Spanned<String>>,
    default_zone: Option<toml::Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentAnswerTable {
    field: String,
    value: String,
}

/// Which leads' forms get the first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forms {
    All,
    Only(Vec<String>),
}

/// How a lead's consent is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consent {
    /// The form's consent checkbox of this key was checked (stored as the answer `yes`).
    Checkbox(String),
    /// The form's answer `field` is `value` (compared without case or outer spaces).
    Answer { field: String, value: String },
    /// No check: the operator said so (`consent = "off"`), and the server warns at start.
    Off,
}

/// Which leads get a first message, and when.
#[derive(Debug, Clone)]
pub struct FirstRules {
    pub forms: Forms,
    pub consent: Consent,
    /// The hours outside the send window: a message falling in them waits for the window.
    pub quiet: QuietHours,
    /// Per country (ISO 3166-1 alpha-2, upper case): the zone its numbers are read in.
    pub zones: BTreeMap<String, Tz>,
    pub default_zone: Option<Tz>,
}

pub(super) fn read(
    rules: Option<&toml::Spanned<RulesTable>>,
    span: Range<usize>,
    at: &At<'_>,
) -> Result<FirstRules, ConfigError> {
    let Some(rules) = rules else {
        return Err(at(
            span,
            "a first-message channel needs its [….rules] table: forms = [...] (form ids or \
             \"all\") and how consent is read"
                .into(),
        ));
    };
    let (span, rules) = (rules.span(), rules.get_ref());
    let forms = rules.forms.get_ref();
    let forms = match forms.as_slice() {
        [] => {
            return Err(at(
                rules.forms.span(),
                "forms is empty: name form ids or \"all\"".into(),
            ));
        }
        [all] if all == "all" => Forms::All,
        ids if ids
            .iter()
            .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())) =>
        {
            Forms::Only(ids.to_vec())
        }
        _ => {
            return Err(at(
                rules.forms.span(),
                "forms must be Meta form ids (digits) or [\"all\"]".into(),
            ));
        }
    };
    let consent = match (
        &rules.consent_checkbox,
        &rules.consent_answer,
        &rules.consent,
    ) {
        (Some(key), None, None) if !key.trim().is_empty() => Consent::Checkbox(key.trim().into()),
        (None, Some(answer), None) if !answer.field.trim().is_empty() => Consent::Answer {
            field: answer.field.trim().into(),
            value: answer.value.trim().into(),
        },
        (None, None, Some(off)) if off.get_ref() == "off" => Consent::Off,
        (None, None, Some(other)) => {
            return Err(at(
                other.span(),
                "consent may only be \"off\" (and then no consent is checked: say so on purpose)"
                    .into(),
            ));
        }
        _ => {
            return Err(at(
                span,
                "give exactly one of consent_checkbox = \"<checkbox key>\", consent_answer = \
                 { field = \"…\", value = \"…\" } or consent = \"off\""
                    .into(),
            ));
        }
    };
    let window = rules
        .send_window
        .as_ref()
        .map_or(DEFAULT_SEND_WINDOW, |window| window.get_ref().as_str());
    let quiet = window
        .parse::<QuietHours>()
        .map(|send| QuietHours {
            start: send.end,
            end: send.start,
        })
        .map_err(|_| {
            let span = rules
                .send_window
                .as_ref()
                .map_or(span.clone(), |w| w.span());
            at(
                span,
                format!(
                    "send_window \"{}\" must be like 08:00-21:00 (start and end differ)",
                    window.escape_debug()
                ),
            )
        })?;
    let zone = |name: &toml::Spanned<String>| {
        name.get_ref().parse::<Tz>().map_err(|_| {
            at(
                name.span(),
                format!(
                    "\"{}\" is not an IANA time zone (like America/New_York)",
                    name.get_ref().escape_debug()
                ),
            )
        })
    };
    let mut zones = BTreeMap::new();
    for (country, name) in &rules.zones {
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(at(
                name.span(),
                format!(
                    "zones: \"{}\" must be a two-letter country code in capitals, like US",
                    country.escape_debug()
                ),
            ));
        }
        zones.insert(country.clone(), zone(name)?);
    }
    let default_zone = rules.default_zone.as_ref().map(zone).transpose()?;
    Ok(FirstRules {
        forms,
        consent,
        quiet,
        zones,
        default_zone,
    })
}
