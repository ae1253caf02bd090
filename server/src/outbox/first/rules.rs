//! Whether and when a lead's person gets the first message: the lead's own facts against the
//! channel's rules, with "now" passed in. What the store decides (the person or number messaged
//! already, an opt-out) is not here: see [`crate::store::Conversations::first_message_start`].

use chrono::{DateTime, Utc};
use leadhook_shared::Lead;
use leadhook_shared::phone::region_of;

use super::zones::zone_of;
use crate::config::{Consent, FirstRules, Forms};
use crate::triage::junk::META_TEST_LEAD;

/// What the rules make of a lead now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send to this E.164 number.
    Send(String),
    /// Not yet: the person's night; due again when the send window opens.
    Hold(DateTime<Utc>),
    /// Never, for this reason; `noted`: worth a line in the lead's history (a lead of a form
    /// the channel does not serve is not).
    Skip { reason: String, noted: bool },
}

fn skip(reason: impl Into<String>) -> Decision {
    Decision::Skip {
        reason: reason.into(),
        noted: true,
    }
}

/// Why the lead did not consent as `consent` reads it; `None` when it did.
pub fn no_consent(lead: &Lead, consent: &Consent) -> Option<String> {
    let answer = |field: &str| lead.meta.fields.get(field).map(|answer| answer.text());
    let same = |given: Option<String>, want: &str| {
        given.is_some_and(|given| given.trim().eq_ignore_ascii_case(want.trim()))
    };
    match consent {
        Consent::Off => None,
        // `graph_lead` stores a checked disclaimer checkbox as the answer "yes".
        Consent::Checkbox(key) => (!same(answer(key), "yes"))
            .then(|| format!("the consent checkbox {key} was not checked")),
        Consent::Answer { field, value } => (!same(answer(field), value))
            .then(|| format!("the answer {field} did not give consent")),
    }
}

pub fn decide(lead: &Lead, rules: &FirstRules, now: DateTime<Utc>) -> Decision {
    if let Forms::Only(forms) = &rules.forms
        && !lead
            .meta
            .form_id
            .as_ref()
            .is_some_and(|form| forms.contains(form))
    {
        return Decision::Skip {
            reason: "the lead's form is not one this channel serves".into(),
            noted: false,
        };
    }
    if lead.erased_at.is_some() {
        return skip("the lead was erased");
    }
    if lead.meta.junk_reason.as_deref() == Some(META_TEST_LEAD) {
        return skip("a Meta test lead");
    }
    if let Some(reason) = lead.junk() {
        return skip(format!("junk ({reason})"));
    }
    let Some(e164) = lead.meta.phone_e164.clone() else {
        return skip("no valid phone number");
    };
    if let Some(what) = no_consent(lead, &rules.consent) {
        return skip(format!("no consent: {what}"));
    }
    let Some(country) = region_of(&e164) else {
        return skip("the number's country is not known");
    };
    let Some(zone) = zone_of(&country, rules) else {
        return skip(format!(
            "no time zone for numbers of {country}: name one in the rules' zones or default_zone"
        ));
    };
    match rules.quiet.holds_until(now, zone) {
        Some(until) => Decision::Hold(until),
        None => Decision::Send(e164),
    }
}
