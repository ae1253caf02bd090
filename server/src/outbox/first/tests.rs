//! The first message's rules (consent, the send window in the person's zone, what is never
//! messaged) and the reading of the providers' answers.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use leadhook_shared::{Answer, Lead, MetaFields};
use reqwest::StatusCode;

use super::*;
use crate::config::{Consent, Forms};
use crate::triage::junk::META_TEST_LEAD;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn rules(consent: Consent) -> FirstRules {
    FirstRules {
        forms: Forms::All,
        consent,
        // Quiet outside 08:00-21:00.
        quiet: "21:00-08:00".parse().unwrap(),
        zones: BTreeMap::new(),
        default_zone: None,
    }
}

fn checkbox() -> FirstRules {
    rules(Consent::Checkbox("marketing_optin".into()))
}

fn lead(phone: &str, consent: &str) -> Lead {
    let meta: MetaFields = serde_json::from_value(serde_json::json!({
        "name": "Jane\u{202E} Doe",
        "phone": phone,
        "phone_e164": phone,
        "created_at": "2026-12-07T10:00:00Z",
        "form_id": "111",
        "form_name": "Spring Promo",
        "is_organic": false,
        "fields": {"marketing_optin": consent},
    }))
    .unwrap();
    Lead::arrived(7, Some("l7".into()), meta, at("2026-12-07T10:00:00Z"))
}

/// 16:00 in Berlin, 09:00 in Chicago, 07:00 in Los Angeles, 02:00 (the next day) in Sydney.
const AFTERNOON_IN_EUROPE: &str = "2026-12-07T15:00:00Z";

#[test]
fn consent_is_the_checked_checkbox_or_the_named_answer() {
    let unchecked = lead("+4915112345678", "no");
    let now = at(AFTERNOON_IN_EUROPE);
    assert_eq!(
        decide(&lead("+4915112345678", "yes"), &checkbox(), now),
        Decision::Send("+4915112345678".into())
    );
    let Decision::Skip { reason, noted } = decide(&unchecked, &checkbox(), now) else {
        panic!("an unchecked box is no consent");
    };
    assert!(noted);
    assert!(reason.contains("marketing_optin"), "{reason}");
    let mut answered = unchecked.clone();
    answered
        .meta
        .fields
        .insert("contact_ok".into(), Answer::One(" Yes ".into()));
    let by_answer = rules(Consent::Answer {
        field: "contact_ok".into(),
        value: "yes".into(),
    });
    assert!(matches!(
        decide(&answered, &by_answer, now),
        Decision::Send(_)
    ));
    assert!(matches!(
        decide(&unchecked, &by_answer, now),
        Decision::Skip { .. }
    ));
    assert!(
        matches!(
            decide(&unchecked, &rules(Consent::Off), now),
            Decision::Send(_)
        ),
        "consent off: no check"
    );
    let mut no_box = unchecked;
    no_box.meta.fields.clear();
    assert!(matches!(
        decide(&no_box, &checkbox(), now),
        Decision::Skip { .. }
    ));
}

#[test]
fn the_send_window_is_read_in_the_persons_zone() {
    let now = at(AFTERNOON_IN_EUROPE);
    // Berlin 16:00: inside. Sydney 02:00 (next day): held until 08:00 there.
    assert!(matches!(
        decide(&lead("+4915112345678", "yes"), &checkbox(), now),
        Decision::Send(_)
    ));
    assert_eq!(
        decide(&lead("+61412345678", "yes"), &checkbox(), now),
        Decision::Hold(at("2026-12-07T21:00:00Z")),
        "08:00 in Sydney (UTC+11 in December)"
    );
    // The US spans zones: by default Chicago (09:00, inside)...
    let us = lead("+12025550123", "yes");
    assert!(matches!(decide(&us, &checkbox(), now), Decision::Send(_)));
    // ...and an operator who names Los Angeles holds it until 08:00 there.
    let mut west = checkbox();
    west.zones.insert("US".into(), Tz::America__Los_Angeles);
    assert_eq!(
        decide(&us, &west, now),
        Decision::Hold(at("2026-12-07T16:00:00Z"))
    );
}

#[test]
fn a_message_late_at_night_waits_for_the_next_morning() {
    // 22:30 in Berlin: held over the day boundary to 08:00 the next day.
    let late = at("2026-12-07T21:30:00Z");
    assert_eq!(
        decide(&lead("+4915112345678", "yes"), &checkbox(), late),
        Decision::Hold(at("2026-12-08T07:00:00Z"))
    );
    // 07:59 Berlin: held a minute; 08:00: sent; 21:00: held.
    assert_eq!(
        decide(
            &lead("+4915112345678", "yes"),
            &checkbox(),
            at("2026-12-08T06:59:00Z")
        ),
        Decision::Hold(at("2026-12-08T07:00:00Z"))
    );
    assert!(matches!(
        decide(
            &lead("+4915112345678", "yes"),
            &checkbox(),
            at("2026-12-08T07:00:00Z")
        ),
        Decision::Send(_)
    ));
    assert!(matches!(
        decide(
            &lead("+4915112345678", "yes"),
            &checkbox(),
            at("2026-12-08T20:00:00Z")
        ),
        Decision::Hold(_)
    ));
}

#[test]
fn a_country_without_a_zone_needs_the_operators_default() {
    let now = at(AFTERNOON_IN_EUROPE);
    // Iceland is not in the defaults.
    let iceland = lead("+3546111234", "yes");
    let Decision::Skip { reason, .. } = decide(&iceland, &checkbox(), now) else {
        panic!("no zone: not sent blind");
    };
    assert!(reason.contains("IS"), "{reason}");
    let mut with_default = checkbox();
    with_default.default_zone = Some(Tz::Atlantic__Reykjavik);
    assert!(matches!(
        decide(&iceland, &with_default, now),
        Decision::Send(_)
    ));
}

#[test]
fn junk_test_leads_other_forms_and_unreachable_people_get_nothing() {
    let now = at(AFTERNOON_IN_EUROPE);
    let mut test_lead = lead("+4915112345678", "yes");
    test_lead.meta.junk_reason = Some(META_TEST_LEAD.into());
    test_lead.junk_cleared_at = Some(now);
    let skipped = |lead: &Lead, rules: &FirstRules| match decide(lead, rules, now) {
        Decision::Skip { reason, noted } => (reason, noted),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        skipped(&test_lead, &checkbox()).0,
        "a Meta test lead",
        "even with its junk flag cleared"
    );
    let mut junk = lead("+4915112345678", "yes");
    junk.meta.junk_reason = Some("rule: competitor".into());
    assert!(skipped(&junk, &checkbox()).0.starts_with("junk"));
    junk.junk_cleared_at = Some(now);
    assert!(
        matches!(decide(&junk, &checkbox(), now), Decision::Send(_)),
        "cleared by a rep"
    );
    let mut no_phone = lead("+4915112345678", "yes");
    no_phone.meta.phone_e164 = None;
    assert_eq!(skipped(&no_phone, &checkbox()).0, "no valid phone number");
    let mut erased = lead("+4915112345678", "yes");
    erased.erased_at = Some(now);
    assert_eq!(skipped(&erased, &checkbox()).0, "the lead was erased");
    let mut other_form = checkbox();
    other_form.forms = Forms::Only(vec!["222".into()]);
    assert!(
        !skipped(&lead("+4915112345678", "yes"), &other_form).1,
        "not worth a history row"
    );
}

#[test]
fn lead_values_are_one_line_and_short() {
    let mut jane = lead("+4915112345678", "yes");
    assert_eq!(lead_value(LeadValue::FirstName, &jane, "Acme"), "Jane");
    assert_eq!(lead_value(LeadValue::Owner, &jane, "Acme"), "our team");
    jane.owner = Some("alice".into());
    assert_eq!(lead_value(LeadValue::Owner, &jane, "Acme"), "alice");
    jane.meta.form_name = Some("Spring\n\tPromo    2026".into());
    assert_eq!(
        lead_value(LeadValue::FormName, &jane, "Acme"),
        "Spring Promo 2026"
    );
    jane.meta.name = Some(format!("{}\u{202E}", "x".repeat(200)));
    let long = lead_value(LeadValue::FirstName, &jane, "Acme");
    assert_eq!(long.chars().count(), 60);
    assert!(!long.contains('\u{202E}'));
}

fn answer(status: StatusCode, retry_after: Option<u64>, text: &str) -> http::Answer {
    http::Answer {
        status,
        retry_after: retry_after.map(Duration::from_secs),
        text: text.into(),
    }
}

#[test]
fn whatsapp_answers_say_whether_the_message_was_taken() {
    let read = whatsapp::read;
    assert_eq!(
        read(&answer(
            StatusCode::OK,
            None,
            r#"{"messages":[{"id":"wamid.X1"}]}"#
        )),
        Sent::Accepted {
            id: "wamid.X1".into()
        }
    );
    assert!(matches!(
        read(&answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            r#"{"error":{"code":1}}"#
        )),
        Sent::NotTaken { after: None, .. }
    ));
    assert!(matches!(
        read(&answer(StatusCode::TOO_MANY_REQUESTS, Some(7), "{}")),
        Sent::NotTaken { after: Some(after), .. } if after == Duration::from_secs(7)
    ));
    let refused = read(&answer(
        StatusCode::BAD_REQUEST,
        None,
        r#"{"error":{"code":131050,"message":"User has stopped marketing messages"}}"#,
    ));
    assert_eq!(
        refused,
        Sent::Refused {
            reason: "WhatsApp answered 400 Bad Request (error 131050): User has stopped marketing \
                     messages"
                .into(),
            opt_out: Some(OptOutSource::WhatsApp131050),
        }
    );
    assert!(matches!(
        read(&answer(
            StatusCode::BAD_REQUEST,
            None,
            r#"{"error":{"code":132001}}"#
        )),
        Sent::Refused { opt_out: None, .. }
    ));
    assert!(matches!(
        read(&answer(StatusCode::OK, None, "{}")),
        Sent::Unknown(_)
    ));
}

#[test]
fn sms_answers_say_whether_the_message_was_taken() {
    let read = sms::read;
    assert_eq!(
        read(&answer(
            StatusCode::CREATED,
            None,
            r#"{"sid":"SM1","status":"queued"}"#
        )),
        Sent::Accepted { id: "SM1".into() }
    );
    assert!(matches!(
        read(&answer(
            StatusCode::BAD_REQUEST,
            None,
            r#"{"code":21610,"message":"Attempt to send to unsubscribed recipient"}"#
        )),
        Sent::Refused {
            opt_out: Some(OptOutSource::Twilio21610),
            ..
        }
    ));
    assert!(matches!(
        read(&answer(StatusCode::SERVICE_UNAVAILABLE, None, "")),
        Sent::NotTaken { .. }
    ));
}
